/* Block-cipher modes with serializable state (sym.h). OpenSSL does the
 * block encryptions; the chaining values, counters and partial blocks live
 * in sym_ctx so a state blob can carry them to any replica. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mech.h"
#include "sym.h"

const EVP_CIPHER *sym_ecb_cipher(CK_KEY_TYPE kt, size_t klen)
{
    if (kt == CKK_AES)
        return klen == 16   ? EVP_aes_128_ecb()
               : klen == 24 ? EVP_aes_192_ecb()
               : klen == 32 ? EVP_aes_256_ecb()
                            : NULL;
    if ((kt == CKK_DES2 && klen == 16) || (kt == CKK_DES3 && klen == 24))
        return EVP_des_ede3_ecb();
    return NULL;
}

const EVP_CIPHER *sym_cbc_cipher(CK_KEY_TYPE kt, size_t klen)
{
    if (kt == CKK_AES)
        return klen == 16   ? EVP_aes_128_cbc()
               : klen == 24 ? EVP_aes_192_cbc()
               : klen == 32 ? EVP_aes_256_cbc()
                            : NULL;
    if ((kt == CKK_DES2 && klen == 16) || (kt == CKK_DES3 && klen == 24))
        return EVP_des_ede3_cbc();
    return NULL;
}

size_t sym_des_key(const uint8_t *k, size_t klen, uint8_t out[24])
{
    memcpy(out, k, 16);
    memcpy(out + 16, klen == 24 ? k + 16 : k, 8);
    return 24;
}

static cipher_mode sym_mode_of(CK_MECHANISM_TYPE m, CK_KEY_TYPE *need)
{
    *need = CKK_AES;
    switch (m) {
    case CKM_AES_ECB:
        return CM_ECB;
    case CKM_AES_CBC:
        return CM_CBC;
    case CKM_AES_CBC_PAD:
        return CM_CBC_PAD;
    case CKM_AES_CTR:
        return CM_CTR;
    case CKM_AES_GCM:
        return CM_GCM;
    }
    *need = CKK_DES3;
    switch (m) {
    case CKM_DES3_ECB:
        return CM_ECB;
    case CKM_DES3_CBC:
        return CM_CBC;
    case CKM_DES3_CBC_PAD:
        return CM_CBC_PAD;
    }
    return (cipher_mode)0;
}

static CK_RV sym_ecb_ready(sym_ctx *c)
{
    uint8_t k24[24];
    const uint8_t *k = c->key;
    CK_RV rv = CKR_OK;
    if (c->ecb != NULL)
        return CKR_OK;
    c->ecb = EVP_CIPHER_CTX_new();
    if (c->ecb == NULL)
        return CKR_HOST_MEMORY;
    if (c->ktype != CKK_AES) {
        sym_des_key(c->key, c->klen, k24);
        k = k24;
    }
    if (EVP_EncryptInit_ex(c->ecb, sym_ecb_cipher(c->ktype, c->klen), NULL, k, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(c->ecb, 0) != 1)
        rv = CKR_FUNCTION_FAILED;
    OPENSSL_cleanse(k24, sizeof(k24));
    return rv;
}

CK_RV sym_ecb_blocks(sym_ctx *c, const uint8_t *in, uint8_t *out, size_t n)
{
    int l = 0;
    CK_RV rv = sym_ecb_ready(c);
    if (rv != CKR_OK)
        return rv;
    if (n > 0 && (EVP_EncryptUpdate(c->ecb, out, &l, in, (int)n) != 1 || (size_t)l != n))
        return CKR_FUNCTION_FAILED;
    return CKR_OK;
}

/* ECB or CBC over whole blocks, in either direction, updating the chain. */
static CK_RV sym_blocks(sym_ctx *c, const uint8_t *in, uint8_t *out, size_t n)
{
    CK_RV rv = CKR_FUNCTION_FAILED;
    EVP_CIPHER_CTX *x;
    uint8_t k24[24], last[16];
    const uint8_t *k = c->key;
    int l = 0;

    if (n == 0)
        return CKR_OK;
    if (c->ktype != CKK_AES)
        k = k24, sym_des_key(c->key, c->klen, k24);
    x = EVP_CIPHER_CTX_new();
    if (x == NULL)
        return CKR_HOST_MEMORY;
    if (EVP_CipherInit_ex(x,
                          c->mode == CM_ECB ? sym_ecb_cipher(c->ktype, c->klen)
                                            : sym_cbc_cipher(c->ktype, c->klen),
                          NULL, k, c->mode == CM_ECB ? NULL : c->iv, c->enc ? 1 : 0) != 1 ||
        EVP_CIPHER_CTX_set_padding(x, 0) != 1)
        goto out;
    /* Decryption chains on the last ciphertext block of the input, which may
     * be overwritten when in == out. */
    memcpy(last, in + n - c->bs, c->bs);
    if (EVP_CipherUpdate(x, out, &l, in, (int)n) != 1 || (size_t)l != n)
        goto out;
    if (c->mode != CM_ECB)
        memcpy(c->iv, c->enc ? out + n - c->bs : last, c->bs);
    rv = CKR_OK;
out:
    EVP_CIPHER_CTX_free(x);
    OPENSSL_cleanse(k24, sizeof(k24));
    return rv;
}

CK_RV sym_keystream_xor(sym_ctx *c, const uint8_t cb[16], unsigned bits, uint64_t pos,
                        const uint8_t *in, uint8_t *out, size_t n)
{
    uint8_t ctrs[1024], ks[1024];
    uint64_t blk = pos / 16;
    size_t skip = (size_t)(pos % 16), done = 0;
    CK_RV rv = CKR_OK;

    while (done < n) {
        size_t nb = ((skip + (n - done)) + 15) / 16, bytes;
        if (nb > sizeof(ctrs) / 16)
            nb = sizeof(ctrs) / 16;
        for (size_t i = 0; i < nb; i++) {
            /* counter block = cb with its low `bits` bits advanced by blk+i (mod 2^bits) */
            uint8_t *q = ctrs + 16 * i;
            uint64_t add = blk + i;
            unsigned carry = 0;
            memcpy(q, cb, 16);
            for (int byte = 15, bit = 0; byte >= 0 && (unsigned)bit < bits; byte--, bit += 8) {
                unsigned width = bits - (unsigned)bit >= 8 ? 8 : bits - (unsigned)bit;
                unsigned mask = (1u << width) - 1;
                unsigned v = (q[byte] & mask) + (unsigned)(add & 0xff) + carry;
                carry = v >> width; /* past the counter's top bit the carry is dropped */
                q[byte] = (uint8_t)((q[byte] & ~mask) | (v & mask));
                add >>= 8;
            }
        }
        if ((rv = sym_ecb_blocks(c, ctrs, ks, nb * 16)) != CKR_OK)
            break;
        bytes = nb * 16 - skip;
        if (bytes > n - done)
            bytes = n - done;
        for (size_t i = 0; i < bytes; i++)
            out[done + i] = in[done + i] ^ ks[skip + i];
        done += bytes;
        blk += nb;
        skip = 0;
    }
    OPENSSL_cleanse(ks, sizeof(ks));
    return rv;
}

/* CTR parameter: 16-byte counter block (128 counter bits), or
 * ulCounterBits u32 big-endian followed by the 16-byte block. */
static CK_RV sym_ctr_param(sym_ctx *c, const engine_mech *m)
{
    rbuf r;
    if (m->kind != ENGINE_PARAM_BYTES)
        return CKR_MECHANISM_PARAM_INVALID;
    rbuf_init(&r, m->bytes.ptr, m->bytes.len);
    if (m->bytes.len == 16) {
        c->ctr_bits = 128;
    } else if (m->bytes.len == 20) {
        uint32_t b = rbuf_u32(&r);
        if (b == 0 || b > 128)
            return CKR_MECHANISM_PARAM_INVALID;
        c->ctr_bits = b;
    } else {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    rbuf_copy(&r, c->iv, 16);
    return CKR_OK;
}

CK_RV sym_init(sym_ctx *c, const engine *e, CK_MECHANISM_TYPE mech, const engine_mech *m,
               const key_obj *k, bool enc)
{
    CK_KEY_TYPE need;
    CK_RV rv;

    memset(c, 0, sizeof(*c));
    c->mode = sym_mode_of(mech, &need);
    if (c->mode == 0)
        return CKR_MECHANISM_INVALID;
    if (need == CKK_AES ? k->ktype != CKK_AES : (k->ktype != CKK_DES2 && k->ktype != CKK_DES3))
        return CKR_KEY_TYPE_INCONSISTENT;
    if (k->vlen > sizeof(c->key) || sym_ecb_cipher(k->ktype, k->vlen) == NULL)
        return CKR_KEY_SIZE_RANGE;
    c->enc = enc;
    c->ktype = k->ktype;
    c->klen = k->vlen;
    memcpy(c->key, k->secret, k->vlen);
    c->bs = need == CKK_AES ? 16 : 8;
    c->held_max = e->pol.max_gcm_buffer;
    switch (c->mode) {
    case CM_ECB:
        return mech_no_param(m);
    case CM_CBC:
    case CM_CBC_PAD:
        if (m->kind != ENGINE_PARAM_BYTES || m->bytes.len != c->bs)
            return CKR_MECHANISM_PARAM_INVALID;
        memcpy(c->iv, m->bytes.ptr, c->bs);
        return CKR_OK;
    case CM_CTR:
        return sym_ctr_param(c, m);
    case CM_GCM:
        if ((rv = gcm_parse(m, &c->p_iv, &c->p_ivlen, &c->p_aad, &c->p_aadlen, &c->tag_bytes)) !=
            CKR_OK)
            return rv;
        return gcm_start(c, c->p_iv, c->p_ivlen, c->p_aad, c->p_aadlen);
    }
    return CKR_MECHANISM_INVALID;
}

/* CTR refuses to run the counter round: PKCS #11 says the block must not repeat. */
static CK_RV sym_ctr_room(const sym_ctx *c, size_t n)
{
    uint64_t end = c->total + n;
    if (end < c->total)
        return CKR_DATA_LEN_RANGE;
    if (c->ctr_bits < 64 && (end + 15) / 16 > ((uint64_t)1 << c->ctr_bits))
        return CKR_DATA_LEN_RANGE;
    return CKR_OK;
}

CK_RV sym_update(sym_ctx *c, const uint8_t *in, size_t n, wbuf *out)
{
    CK_RV rv = CKR_OK;
    uint8_t *tmp = NULL, *q;
    size_t total, proc, keep;

    if (c->mode == CM_GCM)
        return gcm_update(c, in, n, out);
    if (c->mode == CM_CTR) {
        if ((rv = sym_ctr_room(c, n)) != CKR_OK)
            return rv;
        q = wbuf_reserve(out, n);
        if (q == NULL)
            return CKR_HOST_MEMORY;
        rv = sym_keystream_xor(c, c->iv, c->ctr_bits, c->total, in, q, n);
        c->total += n;
        return rv;
    }
    total = c->blen + n;
    keep = total % c->bs;
    /* CBC-PAD decryption holds back the last whole block: it carries the pad. */
    if (c->mode == CM_CBC_PAD && !c->enc && keep == 0 && total > 0)
        keep = c->bs;
    proc = total - keep;
    tmp = malloc(total ? total : 1);
    if (tmp == NULL)
        return CKR_HOST_MEMORY;
    memcpy(tmp, c->buf, c->blen);
    if (n > 0)
        memcpy(tmp + c->blen, in, n);
    q = wbuf_reserve(out, proc);
    if (q == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if ((rv = sym_blocks(c, tmp, q, proc)) != CKR_OK)
        goto out;
    memcpy(c->buf, tmp + proc, keep);
    c->blen = keep;
out:
    engine_freezero(tmp, total);
    return rv;
}

/* CBC-PAD tail: pad and encrypt the last block. */
static CK_RV sym_pad_encrypt(sym_ctx *c, wbuf *out)
{
    CK_RV rv;
    uint8_t blk[16], *q;
    uint8_t pad = (uint8_t)(c->bs - c->blen);

    memcpy(blk, c->buf, c->blen);
    memset(blk + c->blen, pad, pad);
    q = wbuf_reserve(out, c->bs);
    rv = q ? sym_blocks(c, blk, q, c->bs) : CKR_HOST_MEMORY;
    OPENSSL_cleanse(blk, sizeof(blk));
    return rv;
}

/* CBC-PAD tail: decrypt the held block and strip the pad, checking it
 * without branching on its bytes. */
static CK_RV sym_pad_decrypt(sym_ctx *c, wbuf *out)
{
    CK_RV rv;
    uint8_t blk[16], *q;
    unsigned pad, bad = 0;

    if (c->blen != c->bs)
        return CKR_ENCRYPTED_DATA_LEN_RANGE;
    if ((rv = sym_blocks(c, c->buf, blk, c->bs)) != CKR_OK)
        return rv;
    pad = blk[c->bs - 1];
    bad |= ((pad - 1) >> 8) & 1;               /* pad == 0 */
    bad |= (((unsigned)c->bs - pad) >> 8) & 1; /* pad > bs */
    for (size_t i = 0; i < c->bs; i++) {
        unsigned in_pad =
            (unsigned)((((unsigned)(c->bs - 1 - i)) - pad) >> 8) & 1; /* i >= bs - pad */
        bad |= in_pad & (((unsigned)(blk[i] ^ pad) + 0xffu) >> 8);
    }
    if (bad) {
        rv = CKR_ENCRYPTED_DATA_INVALID;
    } else {
        q = wbuf_reserve(out, c->bs - pad);
        if (q != NULL)
            memcpy(q, blk, c->bs - pad);
        rv = q ? CKR_OK : CKR_HOST_MEMORY;
    }
    OPENSSL_cleanse(blk, sizeof(blk));
    return rv;
}

CK_RV sym_final(sym_ctx *c, wbuf *out)
{
    switch (c->mode) {
    case CM_GCM:
        return gcm_final(c, out);
    case CM_CTR:
        return CKR_OK;
    case CM_ECB:
    case CM_CBC:
        if (c->blen != 0)
            return c->enc ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
        return CKR_OK;
    case CM_CBC_PAD:
        return c->enc ? sym_pad_encrypt(c, out) : sym_pad_decrypt(c, out);
    }
    return CKR_FUNCTION_FAILED;
}

CK_RV sym_single(sym_ctx *c, const uint8_t *in, size_t n, wbuf *out)
{
    CK_RV rv;
    if (c->mode == CM_GCM)
        return gcm_single(c, c->p_iv, c->p_ivlen, c->p_aad, c->p_aadlen, in, n, out);
    /* PKCS #11 single-part: unpadded modes need whole blocks up front. */
    if ((c->mode == CM_ECB || c->mode == CM_CBC || (c->mode == CM_CBC_PAD && !c->enc)) &&
        n % c->bs != 0)
        return c->enc ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
    if ((rv = sym_update(c, in, n, out)) != CKR_OK)
        return rv;
    return sym_final(c, out);
}

void sym_save(const sym_ctx *c, wbuf *w)
{
    wbuf_u8(w, (uint8_t)c->mode);
    wbuf_u8(w, c->enc ? 1 : 0);
    wbuf_u64(w, c->ktype);
    wbuf_lv(w, c->key, c->klen);
    wbuf_put(w, c->iv, 16);
    wbuf_lv(w, c->buf, c->blen);
    wbuf_u64(w, c->total);
    wbuf_u8(w, (uint8_t)c->ctr_bits);
    wbuf_put(w, c->y, 16);
    wbuf_u64(w, c->aad_bytes);
    wbuf_u8(w, (uint8_t)c->tag_bytes);
    wbuf_lv(w, c->held.p, c->held.len);
}

CK_RV sym_load(sym_ctx *c, const engine *e, rbuf *r)
{
    const uint8_t *k, *b, *h;
    size_t kl, bl, hl;

    memset(c, 0, sizeof(*c));
    c->mode = (cipher_mode)rbuf_u8(r);
    c->enc = rbuf_u8(r) != 0;
    c->ktype = (CK_KEY_TYPE)rbuf_u64(r);
    k = rbuf_lv(r, 32, &kl);
    rbuf_copy(r, c->iv, 16);
    b = rbuf_lv(r, 16, &bl);
    c->total = rbuf_u64(r);
    c->ctr_bits = rbuf_u8(r);
    rbuf_copy(r, c->y, 16);
    c->aad_bytes = rbuf_u64(r);
    c->tag_bytes = rbuf_u8(r);
    c->held_max = e->pol.max_gcm_buffer;
    h = rbuf_lv(r, c->held_max + 16, &hl);
    if (!rbuf_done(r) || c->mode < CM_ECB || c->mode > CM_GCM ||
        sym_ecb_cipher(c->ktype, kl) == NULL)
        return CKR_SAVED_STATE_INVALID;
    c->klen = kl;
    memcpy(c->key, k, kl);
    c->bs = c->ktype == CKK_AES ? 16 : 8;
    if (bl > c->bs || (c->mode == CM_CTR && (c->ctr_bits == 0 || c->ctr_bits > 128)) ||
        (c->mode == CM_GCM && (c->tag_bytes < 4 || c->tag_bytes > 16)))
        return CKR_SAVED_STATE_INVALID;
    memcpy(c->buf, b, bl);
    c->blen = bl;
    wbuf_init(&c->held, c->held_max + 16);
    if (hl > 0)
        wbuf_put(&c->held, h, hl);
    if (c->held.err)
        return CKR_HOST_MEMORY;
    if (c->mode == CM_GCM) {
        uint8_t zero[16] = {0}, hkey[16];
        CK_RV rv = sym_ecb_blocks(c, zero, hkey, 16);
        if (rv != CKR_OK)
            return rv;
        ghash_init(&c->gk, hkey);
        c->gk_ready = true;
        OPENSSL_cleanse(hkey, sizeof(hkey));
    }
    return CKR_OK;
}

void sym_wipe(sym_ctx *c)
{
    EVP_CIPHER_CTX_free(c->ecb);
    wbuf_free(&c->held);
    OPENSSL_cleanse(c, sizeof(*c));
}
