/* Sign/Verify with HMAC (SHA-1, SHA-2, SHA-3; fixed and _GENERAL lengths)
 * and AES-CMAC (fixed and general), in every GREP11 flow. The running state
 * is serializable: HMAC keeps its inner and outer hash contexts, CMAC its
 * chaining block and the held-back last block. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "hash.h"
#include "mech.h"
#include "sig.h"
#include "state.h"
#include "sym.h"

typedef enum { MK_HMAC = 1, MK_CMAC = 2 } mac_kind;

typedef struct {
    mac_kind kind;
    size_t mac_len;
    hash_ctx inner, outer; /* HMAC */
    CK_KEY_TYPE ktype;     /* CMAC */
    uint8_t key[32], x[16], buf[16];
    size_t klen, blen;
} mac_ctx;

static void mac_wipe(mac_ctx *c)
{
    OPENSSL_cleanse(c, sizeof(*c));
}

/* _GENERAL parameter: the MAC length as a 4- or 8-byte big-endian integer
 * (CK_MAC_GENERAL_PARAMS). */
static CK_RV mac_general_len(const engine_mech *m, size_t max, size_t *len)
{
    rbuf r;
    uint64_t v;
    if (m->kind != ENGINE_PARAM_BYTES || (m->bytes.len != 4 && m->bytes.len != 8))
        return CKR_MECHANISM_PARAM_INVALID;
    rbuf_init(&r, m->bytes.ptr, m->bytes.len);
    v = m->bytes.len == 4 ? rbuf_u32(&r) : rbuf_u64(&r);
    if (v == 0 || v > max)
        return CKR_MECHANISM_PARAM_INVALID;
    *len = (size_t)v;
    return CKR_OK;
}

static CK_RV hmac_start(mac_ctx *c, hashid h, const key_obj *k)
{
    uint8_t kb[HASH_MAX_BLOCK], pad[HASH_MAX_BLOCK];
    size_t bs = hash_block(h);

    memset(kb, 0, sizeof(kb));
    if (k->vlen > bs) {
        if (!hash_oneshot(h, k->secret, k->vlen, kb))
            return CKR_FUNCTION_FAILED;
    } else {
        memcpy(kb, k->secret, k->vlen);
    }
    if (!hash_init(&c->inner, h) || !hash_init(&c->outer, h))
        return CKR_FUNCTION_FAILED;
    for (size_t i = 0; i < bs; i++)
        pad[i] = kb[i] ^ 0x36;
    hash_update(&c->inner, pad, bs);
    for (size_t i = 0; i < bs; i++)
        pad[i] = kb[i] ^ 0x5c;
    hash_update(&c->outer, pad, bs);
    OPENSSL_cleanse(kb, sizeof(kb));
    OPENSSL_cleanse(pad, sizeof(pad));
    return CKR_OK;
}

static CK_RV mac_setup(const engine *e, const engine_mech *m, engine_bytes key_blob, bool sign,
                       mac_ctx *c)
{
    CK_RV rv;
    const mech_row *row;
    key_obj k;
    bool general;

    memset(c, 0, sizeof(*c));
    if (m == NULL)
        return CKR_ARGUMENTS_BAD;
    row = mech_find(m->type);
    if (row == NULL || (row->family != MF_HMAC && row->family != MF_CMAC))
        return CKR_MECHANISM_INVALID;
    general = (row->alg & MECH_GENERAL) != 0;
    if ((rv = key_unseal(e, key_blob, &k)) != CKR_OK)
        return rv;
    if ((rv = policy_check_usage(&k, sign ? KF_SIGN : KF_VERIFY, m->type)) != CKR_OK)
        goto out;
    if (row->family == MF_HMAC) {
        hashid h = (hashid)(row->alg & ~MECH_GENERAL);
        c->kind = MK_HMAC;
        c->mac_len = hash_len(h);
        /* EP11 keys HMAC with AES keys as well as generic secrets (IBM's
         * samples sign with CKM_SHA256_HMAC under a CKK_AES key). */
        if (k.ktype != CKK_GENERIC_SECRET && k.ktype != CKK_AES) {
            rv = CKR_KEY_TYPE_INCONSISTENT;
            goto out;
        }
        rv = general ? mac_general_len(m, hash_len(h), &c->mac_len) : mech_no_param(m);
        if (rv == CKR_OK)
            rv = hmac_start(c, h, &k);
    } else {
        c->kind = MK_CMAC;
        c->mac_len = 16;
        if (k.ktype != CKK_AES || k.vlen > sizeof(c->key)) {
            rv = CKR_KEY_TYPE_INCONSISTENT;
            goto out;
        }
        rv = general ? mac_general_len(m, 16, &c->mac_len) : mech_no_param(m);
        c->ktype = k.ktype;
        c->klen = k.vlen;
        memcpy(c->key, k.secret, k.vlen);
    }
out:
    key_obj_clear(&k);
    if (rv != CKR_OK)
        mac_wipe(c);
    return rv;
}

/* CBC-MAC over whole blocks from the chaining value x. */
static CK_RV cmac_blocks(mac_ctx *c, const uint8_t *p, size_t n)
{
    CK_RV rv = CKR_FUNCTION_FAILED;
    EVP_CIPHER_CTX *x;
    uint8_t *tmp;
    int l = 0;

    if (n == 0)
        return CKR_OK;
    tmp = malloc(n);
    x = EVP_CIPHER_CTX_new();
    if (tmp == NULL || x == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if (EVP_EncryptInit_ex(x, sym_cbc_cipher(c->ktype, c->klen), NULL, c->key, c->x) != 1 ||
        EVP_CIPHER_CTX_set_padding(x, 0) != 1 || EVP_EncryptUpdate(x, tmp, &l, p, (int)n) != 1 ||
        (size_t)l != n)
        goto out;
    memcpy(c->x, tmp + n - 16, 16);
    rv = CKR_OK;
out:
    EVP_CIPHER_CTX_free(x);
    engine_freezero(tmp, n);
    return rv;
}

static CK_RV mac_update(mac_ctx *c, const uint8_t *p, size_t n)
{
    CK_RV rv;
    size_t total, keep, proc;
    uint8_t *tmp;

    if (c->kind == MK_HMAC) {
        hash_update(&c->inner, p, n);
        return CKR_OK;
    }
    /* CMAC tweaks the last block, so it is held back until Final. */
    total = c->blen + n;
    if (total <= 16) {
        memcpy(c->buf + c->blen, p, n);
        c->blen = total;
        return CKR_OK;
    }
    keep = total % 16 ? total % 16 : 16;
    proc = total - keep;
    tmp = malloc(total);
    if (tmp == NULL)
        return CKR_HOST_MEMORY;
    memcpy(tmp, c->buf, c->blen);
    memcpy(tmp + c->blen, p, n);
    rv = cmac_blocks(c, tmp, proc);
    memcpy(c->buf, tmp + proc, keep);
    c->blen = keep;
    engine_freezero(tmp, total);
    return rv;
}

static void cmac_double(uint8_t b[16])
{
    uint8_t carry = b[0] >> 7;
    for (int i = 0; i < 15; i++)
        b[i] = (uint8_t)((b[i] << 1) | (b[i + 1] >> 7));
    /* Constant time: the reduction is applied through a mask, not a branch. */
    b[15] = (uint8_t)((b[15] << 1) ^ (0x87 & (0u - carry)));
}

static CK_RV mac_final(mac_ctx *c, uint8_t out[HASH_MAX_LEN])
{
    CK_RV rv;
    uint8_t l[16], zero[16] = {0}, last[16];
    sym_ctx s;

    if (c->kind == MK_HMAC) {
        uint8_t ih[HASH_MAX_LEN];
        size_t hl = hash_len(c->inner.alg);
        hash_final(&c->inner, ih);
        hash_update(&c->outer, ih, hl);
        hash_final(&c->outer, out);
        OPENSSL_cleanse(ih, sizeof(ih));
        return CKR_OK;
    }
    memset(&s, 0, sizeof(s));
    s.ktype = c->ktype;
    s.klen = c->klen;
    memcpy(s.key, c->key, c->klen);
    rv = sym_ecb_blocks(&s, zero, l, 16);
    if (rv == CKR_OK) {
        cmac_double(l); /* K1 */
        memset(last, 0, 16);
        memcpy(last, c->buf, c->blen);
        if (c->blen < 16) {
            last[c->blen] = 0x80;
            cmac_double(l); /* K2 */
        }
        for (int i = 0; i < 16; i++)
            last[i] ^= l[i] ^ c->x[i];
        rv = sym_ecb_blocks(&s, last, out, 16);
    }
    sym_wipe(&s);
    OPENSSL_cleanse(l, sizeof(l));
    OPENSSL_cleanse(last, sizeof(last));
    return rv;
}

static void mac_save(const mac_ctx *c, wbuf *w)
{
    wbuf_u8(w, (uint8_t)c->kind);
    wbuf_u8(w, (uint8_t)c->mac_len);
    if (c->kind == MK_HMAC) {
        hash_save(&c->inner, w);
        hash_save(&c->outer, w);
    } else {
        wbuf_u64(w, c->ktype);
        wbuf_lv(w, c->key, c->klen);
        wbuf_put(w, c->x, 16);
        wbuf_lv(w, c->buf, c->blen);
    }
}

static bool mac_load(mac_ctx *c, rbuf *r)
{
    memset(c, 0, sizeof(*c));
    c->kind = (mac_kind)rbuf_u8(r);
    c->mac_len = rbuf_u8(r);
    if (c->kind == MK_HMAC) {
        if (!hash_load(&c->inner, r) || !hash_load(&c->outer, r) || c->inner.alg != c->outer.alg)
            return false;
        return rbuf_done(r) && c->mac_len >= 1 && c->mac_len <= hash_len(c->inner.alg);
    }
    if (c->kind == MK_CMAC) {
        const uint8_t *k, *b;
        size_t kl, bl;
        c->ktype = (CK_KEY_TYPE)rbuf_u64(r);
        k = rbuf_lv(r, 32, &kl);
        rbuf_copy(r, c->x, 16);
        b = rbuf_lv(r, 16, &bl);
        if (!rbuf_done(r) || c->ktype != CKK_AES || sym_cbc_cipher(CKK_AES, kl) == NULL ||
            c->mac_len < 1 || c->mac_len > 16)
            return false;
        memcpy(c->key, k, kl);
        c->klen = kl;
        memcpy(c->buf, b, bl);
        c->blen = bl;
        return true;
    }
    return false;
}

/* ---- flows; sign.c dispatches the engine.h functions here ---- */

CK_RV mac_init(engine *e, op_kind op, const engine_mech *m, engine_bytes key_blob,
               engine_buf *state)
{
    CK_RV rv;
    mac_ctx c;
    wbuf w;
    if ((rv = mac_setup(e, m, key_blob, op == OP_SIGN, &c)) != CKR_OK)
        return rv;
    state_begin(&w, op, m->type, state_new_id());
    mac_save(&c, &w);
    rv = state_seal(e, &w, state);
    mac_wipe(&c);
    return rv;
}

static CK_RV mac_resume(state_in *st, mac_ctx *c)
{
    if (!mac_load(c, &st->body)) {
        mac_wipe(c);
        return CKR_SAVED_STATE_INVALID;
    }
    return CKR_OK;
}

CK_RV mac_state_update(engine *e, state_in *st, engine_bytes data, engine_buf *new_state)
{
    CK_RV rv;
    mac_ctx c;
    wbuf w;
    if ((rv = mac_resume(st, &c)) != CKR_OK)
        return rv;
    if ((rv = mac_update(&c, data.ptr, data.len)) == CKR_OK) {
        state_begin(&w, st->op, st->mech, st->op_id);
        mac_save(&c, &w);
        rv = state_seal(e, &w, new_state);
    }
    mac_wipe(&c);
    return rv;
}

/* Computes the MAC of what c has seen plus data. */
static CK_RV mac_compute(mac_ctx *c, const engine_bytes *data, uint8_t out[HASH_MAX_LEN])
{
    CK_RV rv = CKR_OK;
    if (data != NULL)
        rv = mac_update(c, data->ptr, data->len);
    if (rv == CKR_OK)
        rv = mac_final(c, out);
    return rv;
}

static CK_RV mac_emit(mac_ctx *c, const engine_bytes *data, engine_buf *sig)
{
    uint8_t mac[HASH_MAX_LEN];
    CK_RV rv = mac_compute(c, data, mac);
    if (rv == CKR_OK)
        rv = ebuf_copy(sig, mac, c->mac_len);
    OPENSSL_cleanse(mac, sizeof(mac));
    return rv;
}

static CK_RV mac_check(mac_ctx *c, const engine_bytes *data, engine_bytes sig)
{
    uint8_t mac[HASH_MAX_LEN];
    CK_RV rv;
    if (sig.len != c->mac_len)
        return CKR_SIGNATURE_LEN_RANGE;
    rv = mac_compute(c, data, mac);
    if (rv == CKR_OK && CRYPTO_memcmp(mac, sig.ptr, c->mac_len) != 0)
        rv = CKR_SIGNATURE_INVALID;
    OPENSSL_cleanse(mac, sizeof(mac));
    return rv;
}

CK_RV mac_sign_finish(engine *e, state_in *st, const engine_bytes *data, engine_buf *sig)
{
    CK_RV rv;
    mac_ctx c;
    (void)e;
    if ((rv = mac_resume(st, &c)) != CKR_OK)
        return rv;
    rv = mac_emit(&c, data, sig);
    mac_wipe(&c);
    return rv;
}

CK_RV mac_verify_finish(engine *e, state_in *st, const engine_bytes *data, engine_bytes sig)
{
    CK_RV rv;
    mac_ctx c;
    (void)e;
    if ((rv = mac_resume(st, &c)) != CKR_OK)
        return rv;
    rv = mac_check(&c, data, sig);
    mac_wipe(&c);
    return rv;
}

CK_RV mac_sign_single(engine *e, engine_bytes key_blob, const engine_mech *m, engine_bytes data,
                      engine_buf *sig)
{
    CK_RV rv;
    mac_ctx c;
    if ((rv = mac_setup(e, m, key_blob, true, &c)) != CKR_OK)
        return rv;
    rv = mac_emit(&c, &data, sig);
    mac_wipe(&c);
    return rv;
}

CK_RV mac_verify_single(engine *e, engine_bytes key_blob, const engine_mech *m, engine_bytes data,
                        engine_bytes sig)
{
    CK_RV rv;
    mac_ctx c;
    if ((rv = mac_setup(e, m, key_blob, false, &c)) != CKR_OK)
        return rv;
    rv = mac_check(&c, &data, sig);
    mac_wipe(&c);
    return rv;
}
