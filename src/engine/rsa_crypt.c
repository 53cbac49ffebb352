/* RSA encryption and decryption: PKCS #1 v1.5, OAEP (hash, MGF1, label),
 * and X.509 raw. Decryption never tells padding apart from other failures:
 * OAEP errors are one code (OpenSSL's decoding is constant time), and
 * PKCS #1 v1.5 uses implicit rejection — a bad padding yields a
 * pseudo-random message derived from the key and the ciphertext, selected
 * in constant time, instead of an error (README "RSA decryption"). */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "acrypt.h"
#include "hash.h"
#include "mech.h"
#include "pkey.h"

#define ACRYPT_VERSION 1
#define RSA_MAX_BYTES 1024u

typedef struct {
    const mech_row *row;
    pkey k;
    bool enc;
    hashid oaep_hash, oaep_mgf;
    uint8_t label[1024];
    size_t label_len;
    size_t kb; /* modulus bytes */
} ac_ctx;

hashid sig_mech_hash(CK_MECHANISM_TYPE m);
hashid sig_mgf_hash(CK_ULONG mgf);

static void ac_wipe(ac_ctx *c)
{
    pkey_clear(&c->k);
}

/* OAEP: GREP11 RSAOAEPParm, or ParameterB hashAlg u64 | mgf u64 |
 * labelLen u32 | label. */
static CK_RV ac_oaep(const engine_mech *m, ac_ctx *c)
{
    CK_MECHANISM_TYPE h;
    CK_ULONG mgf;
    const uint8_t *lab;
    size_t ll;
    if (m->kind == ENGINE_PARAM_RSA_OAEP) {
        h = m->oaep.hash, mgf = m->oaep.mgf, lab = m->oaep.label.ptr, ll = m->oaep.label.len;
    } else if (m->kind == ENGINE_PARAM_BYTES) {
        rbuf r;
        rbuf_init(&r, m->bytes.ptr, m->bytes.len);
        h = (CK_MECHANISM_TYPE)rbuf_u64(&r), mgf = (CK_ULONG)rbuf_u64(&r);
        lab = rbuf_lv(&r, sizeof(c->label), &ll);
        if (!rbuf_done(&r))
            return CKR_MECHANISM_PARAM_INVALID;
    } else {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    c->oaep_hash = sig_mech_hash(h);
    c->oaep_mgf = sig_mgf_hash(mgf);
    if (c->oaep_hash == H_NONE || hash_ossl_name(c->oaep_hash) == NULL || c->oaep_mgf == H_NONE ||
        ll > sizeof(c->label) || (ll > 0 && lab == NULL) || 2 * hash_len(c->oaep_hash) + 2 > c->kb)
        return CKR_MECHANISM_PARAM_INVALID;
    if (ll > 0)
        memcpy(c->label, lab, ll);
    c->label_len = ll;
    return CKR_OK;
}

static CK_RV ac_setup_u(const engine *e, const engine_mech *m, engine_bytes key, bool enc,
                        uint32_t usage, ac_ctx *c)
{
    CK_RV rv;
    memset(c, 0, sizeof(*c));
    c->enc = enc;
    c->row = mech_find(m->type);
    if (c->row == NULL || c->row->crypt == 0)
        return CKR_MECHANISM_INVALID;
    if (enc)
        rv = pkey_is_blob(key) ? CKR_KEY_TYPE_INCONSISTENT : pkey_load_public(e, key, &c->k);
    else
        rv = pkey_load_private(e, key, &c->k);
    if (rv != CKR_OK)
        return rv;
    if ((rv = policy_check_usage(&c->k.obj, usage, m->type)) != CKR_OK)
        return rv;
    if (c->k.alg != PK_RSA)
        return CKR_KEY_TYPE_INCONSISTENT;
    c->kb = (pkey_bits(&c->k) + 7) / 8;
    if (c->row->crypt == RC_OAEP)
        return ac_oaep(m, c);
    return mech_no_param(m);
}

static CK_RV ac_setup(const engine *e, const engine_mech *m, engine_bytes key, bool enc, ac_ctx *c)
{
    return ac_setup_u(e, m, key, enc, enc ? KF_ENCRYPT : KF_DECRYPT, c);
}

static CK_RV ac_pctx(const ac_ctx *c, int pad, EVP_PKEY_CTX **out, EVP_PKEY **pk)
{
    EVP_PKEY_CTX *x;
    CK_RV rv = pkey_evp(&c->k, pk);
    if (rv != CKR_OK)
        return rv == CKR_PUBLIC_KEY_INVALID ? CKR_KEY_HANDLE_INVALID : rv;
    if ((x = EVP_PKEY_CTX_new_from_pkey(NULL, *pk, NULL)) == NULL ||
        (c->enc ? EVP_PKEY_encrypt_init(x) : EVP_PKEY_decrypt_init(x)) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(x, pad) != 1)
        goto fail;
    if (pad == RSA_PKCS1_OAEP_PADDING) {
        void *lab = c->label_len ? OPENSSL_memdup(c->label, c->label_len) : NULL;
        if (EVP_PKEY_CTX_set_rsa_oaep_md_name(x, hash_ossl_name(c->oaep_hash), NULL) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md_name(x, hash_ossl_name(c->oaep_mgf), NULL) != 1 ||
            (c->label_len && EVP_PKEY_CTX_set0_rsa_oaep_label(x, lab, (int)c->label_len) != 1)) {
            OPENSSL_free(lab);
            goto fail;
        }
    }
    *out = x;
    return CKR_OK;
fail:
    EVP_PKEY_CTX_free(x);
    return CKR_FUNCTION_FAILED;
}

/* ---- PKCS #1 v1.5 decryption with implicit rejection ---- */

static inline unsigned ct_is_zero(unsigned x)
{
    return 0u - (((x | (0u - x)) >> 31) ^ 1u);
}
static inline unsigned ct_eq(unsigned a, unsigned b)
{
    return ct_is_zero(a ^ b);
}
static inline unsigned ct_lt(unsigned a, unsigned b)
{
    return 0u - ((a - b) >> 31);
} /* a, b < 2^31 */
static inline unsigned ct_sel(unsigned m, unsigned a, unsigned b)
{
    return (m & a) | (~m & b);
}

/* The rejection message: length and bytes from HMAC-SHA256 keyed with a
 * key-derivation key KDK = HMAC(SHA256(d), ciphertext), so the same
 * ciphertext always gives the same answer and no one without d can tell it
 * from a real decryption. */
static CK_RV ir_synthetic(const pkey *k, const uint8_t *ct, size_t kb, uint8_t *syn, size_t *slen)
{
    CK_RV rv = CKR_FUNCTION_FAILED;
    uint8_t dk[32], kdk[32], blk[32];
    unsigned int l = 0;
    rbuf r;
    size_t dl, max = kb - 11;
    const uint8_t *d;

    rbuf_init(&r, k->priv, k->priv_len);
    (void)rbuf_lv(&r, RSA_MAX_BYTES, &dl); /* n */
    (void)rbuf_lv(&r, RSA_MAX_BYTES, &dl); /* e */
    d = rbuf_lv(&r, RSA_MAX_BYTES, &dl);
    if (d == NULL || SHA256(d, dl, dk) == NULL ||
        HMAC(EVP_sha256(), dk, 32, ct, kb, kdk, &l) == NULL)
        goto out;
    for (size_t off = 0, ctr = 0; off < kb + 2; off += 32, ctr++) {
        uint8_t in[12] = {
            'g', 'r', 'e', 'p', '1', '1', '-', 'i', 'r', 0, (uint8_t)(ctr >> 8), (uint8_t)ctr};
        if (HMAC(EVP_sha256(), kdk, 32, in, sizeof(in), blk, &l) == NULL)
            goto out;
        memcpy(syn + off, blk, (kb + 2 - off) < 32 ? (kb + 2 - off) : 32);
    }
    /* Two trailing bytes pick the length in [0, kb - 11]. */
    *slen = (((size_t)syn[kb] << 8) | syn[kb + 1]) % (max + 1);
    rv = CKR_OK;
out:
    OPENSSL_cleanse(dk, sizeof(dk));
    OPENSSL_cleanse(kdk, sizeof(kdk));
    OPENSSL_cleanse(blk, sizeof(blk));
    return rv;
}

static CK_RV ir_decrypt(const ac_ctx *c, EVP_PKEY_CTX *x, const uint8_t *ct, wbuf *out)
{
    CK_RV rv;
    uint8_t em[RSA_MAX_BYTES], syn[RSA_MAX_BYTES + 2], tmp[RSA_MAX_BYTES];
    size_t kb = c->kb, el = sizeof(em), slen = 0;
    unsigned good, found = 0, idx = 0, mlen, shift;
    uint8_t *q;

    if (EVP_PKEY_CTX_set_rsa_padding(x, RSA_NO_PADDING) != 1)
        return CKR_FUNCTION_FAILED;
    /* Raw RSA (blinded, constant time); only c >= n fails here: public. */
    if (EVP_PKEY_decrypt(x, em, &el, ct, kb) != 1 || el != kb)
        return CKR_ENCRYPTED_DATA_INVALID;
    if ((rv = ir_synthetic(&c->k, ct, kb, syn, &slen)) != CKR_OK)
        goto out;
    good = ct_is_zero(em[0]) & ct_eq(em[1], 2);
    for (unsigned i = 2; i < kb; i++) {
        unsigned z = ct_is_zero(em[i]);
        idx = ct_sel(~found & z, i, idx);
        found |= z;
    }
    good &= found & ~ct_lt(idx, 10); /* at least 8 padding bytes */
    mlen = ct_sel(good, (unsigned)kb - idx - 1, (unsigned)slen);
    /* Move the message to the front without a secret-dependent index:
     * shift by idx + 1 one bit of the amount at a time. */
    memcpy(tmp, em, kb);
    shift = idx + 1;
    for (unsigned b = 1; b < kb; b <<= 1) {
        unsigned m = ct_is_zero(shift & b) ^ ~0u;
        for (unsigned i = 0; i < kb; i++)
            tmp[i] = (uint8_t)ct_sel(m, i + b < kb ? tmp[i + b] : 0, tmp[i]);
    }
    for (unsigned i = 0; i < kb; i++)
        tmp[i] = (uint8_t)ct_sel(good, tmp[i], syn[i]);
    q = wbuf_reserve(out, mlen);
    if (q == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    memcpy(q, tmp, mlen);
    rv = CKR_OK;
out:
    OPENSSL_cleanse(em, sizeof(em));
    OPENSSL_cleanse(syn, sizeof(syn));
    OPENSSL_cleanse(tmp, sizeof(tmp));
    return rv;
}

/* One whole encryption or decryption. */
static CK_RV ac_run(const ac_ctx *c, const uint8_t *in, size_t n, wbuf *out)
{
    CK_RV rv;
    EVP_PKEY_CTX *x = NULL;
    EVP_PKEY *pk = NULL;
    int pad = c->row->crypt == RC_OAEP    ? RSA_PKCS1_OAEP_PADDING
              : c->row->crypt == RC_PKCS1 ? RSA_PKCS1_PADDING
                                          : RSA_NO_PADDING;
    uint8_t blk[RSA_MAX_BYTES];
    size_t ol = c->kb;
    uint8_t *q;

    if (c->enc) {
        size_t max = c->row->crypt == RC_OAEP    ? c->kb - 2 * hash_len(c->oaep_hash) - 2
                     : c->row->crypt == RC_PKCS1 ? c->kb - 11
                                                 : c->kb;
        if (n > max)
            return CKR_DATA_LEN_RANGE;
    } else if (n != c->kb) {
        return CKR_ENCRYPTED_DATA_LEN_RANGE;
    }
    if (c->row->crypt == RC_X509) { /* raw: left-pad to the modulus length */
        memset(blk, 0, c->kb - n);
        memcpy(blk + c->kb - n, in, n);
        in = blk, n = c->kb;
    }
    if ((rv = ac_pctx(c, pad, &x, &pk)) != CKR_OK)
        goto out;
    if (!c->enc && c->row->crypt == RC_PKCS1) {
        rv = ir_decrypt(c, x, in, out);
        goto out;
    }
    if ((q = wbuf_reserve(out, c->kb)) == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if ((c->enc ? EVP_PKEY_encrypt(x, q, &ol, in, n) : EVP_PKEY_decrypt(x, q, &ol, in, n)) != 1) {
        /* One code for every decryption failure; raw input >= n on encrypt. */
        rv = c->enc ? CKR_DATA_INVALID : CKR_ENCRYPTED_DATA_INVALID;
        goto out;
    }
    out->len -= c->kb - ol;
    rv = CKR_OK;
out:
    OPENSSL_cleanse(blk, sizeof(blk));
    EVP_PKEY_CTX_free(x);
    EVP_PKEY_free(pk);
    return rv;
}

/* ---- flows ---- */

static void ac_save(wbuf *w, engine_bytes key, const engine_mech *m, const uint8_t *buf,
                    size_t blen)
{
    wbuf_u8(w, ACRYPT_VERSION);
    wbuf_lv(w, key.ptr, key.len);
    wbuf_u32(w, (uint32_t)m->kind);
    wbuf_lv(w, m->kind == ENGINE_PARAM_BYTES ? m->bytes.ptr : NULL,
            m->kind == ENGINE_PARAM_BYTES ? m->bytes.len : 0);
    wbuf_u64(w, m->kind == ENGINE_PARAM_RSA_OAEP ? m->oaep.hash : 0);
    wbuf_u64(w, m->kind == ENGINE_PARAM_RSA_OAEP ? m->oaep.mgf : 0);
    wbuf_lv(w, m->kind == ENGINE_PARAM_RSA_OAEP ? m->oaep.label.ptr : NULL,
            m->kind == ENGINE_PARAM_RSA_OAEP ? m->oaep.label.len : 0);
    wbuf_lv(w, buf, blen);
}

static CK_RV ac_load(const engine *e, state_in *st, ac_ctx *c, engine_bytes *key, engine_mech *m,
                     engine_bytes *buf)
{
    rbuf *r = &st->body;
    memset(c, 0, sizeof(*c));
    memset(m, 0, sizeof(*m));
    if (rbuf_u8(r) != ACRYPT_VERSION)
        return CKR_SAVED_STATE_INVALID;
    key->ptr = rbuf_lv(r, KEY_MAX_PAYLOAD + 8192, &key->len);
    m->type = st->mech;
    m->kind = (engine_param_kind)rbuf_u32(r);
    m->bytes.ptr = rbuf_lv(r, 4096, &m->bytes.len);
    m->oaep.hash = (CK_MECHANISM_TYPE)rbuf_u64(r);
    m->oaep.mgf = (CK_ULONG)rbuf_u64(r);
    m->oaep.label.ptr = rbuf_lv(r, 1024, &m->oaep.label.len);
    buf->ptr = rbuf_lv(r, RSA_MAX_BYTES, &buf->len);
    if (!rbuf_done(r) || (m->kind != ENGINE_PARAM_NONE && m->kind != ENGINE_PARAM_BYTES &&
                          m->kind != ENGINE_PARAM_RSA_OAEP))
        return CKR_SAVED_STATE_INVALID;
    return ac_setup(e, m, *key, st->op == OP_ENCRYPT, c);
}

static CK_RV ac_take(wbuf *w, engine_buf *out)
{
    size_t len = 0;
    uint8_t *p = wbuf_take(w, &len);
    if (p == NULL)
        return CKR_HOST_MEMORY;
    out->ptr = p;
    out->len = len;
    return CKR_OK;
}

CK_RV acrypt_init(engine *e, op_kind op, const engine_mech *m, engine_bytes key, engine_buf *state)
{
    CK_RV rv;
    ac_ctx c;
    wbuf w;
    if ((rv = ac_setup(e, m, key, op == OP_ENCRYPT, &c)) == CKR_OK) {
        state_begin(&w, op, m->type, state_new_id());
        ac_save(&w, key, m, NULL, 0);
        rv = state_seal(e, &w, state);
    }
    ac_wipe(&c);
    return rv;
}

CK_RV acrypt_update(engine *e, state_in *st, engine_bytes in, engine_buf *new_state,
                    engine_buf *out)
{
    CK_RV rv;
    ac_ctx c;
    engine_bytes key, buf;
    engine_mech m;
    wbuf w, nb;
    wbuf_init(&nb, RSA_MAX_BYTES);
    if ((rv = ac_load(e, st, &c, &key, &m, &buf)) == CKR_OK) {
        /* Nothing comes out before Final; the input must fit one block. */
        wbuf_put(&nb, buf.ptr, buf.len);
        wbuf_put(&nb, in.ptr, in.len);
        if (nb.err || nb.len > c.kb) {
            rv = c.enc ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
        } else {
            state_begin(&w, st->op, st->mech, st->op_id);
            ac_save(&w, key, &m, nb.p, nb.len);
            if ((rv = state_seal(e, &w, new_state)) == CKR_OK &&
                (rv = ebuf_alloc(out, 0)) == CKR_OK)
                out->len = 0;
        }
    }
    wbuf_free(&nb);
    ac_wipe(&c);
    return rv;
}

CK_RV acrypt_finish(engine *e, state_in *st, const engine_bytes *data, engine_buf *out)
{
    CK_RV rv;
    ac_ctx c;
    engine_bytes key, buf;
    engine_mech m;
    wbuf all, o;
    wbuf_init(&all, RSA_MAX_BYTES);
    wbuf_init(&o, RSA_MAX_BYTES);
    if ((rv = ac_load(e, st, &c, &key, &m, &buf)) == CKR_OK) {
        wbuf_put(&all, buf.ptr, buf.len);
        if (data != NULL)
            wbuf_put(&all, data->ptr, data->len);
        rv = all.err ? (c.enc ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE)
                     : ac_run(&c, all.p, all.len, &o);
        if (rv == CKR_OK)
            rv = ac_take(&o, out);
    }
    wbuf_free(&all);
    wbuf_free(&o);
    ac_wipe(&c);
    return rv;
}

CK_RV acrypt_single(engine *e, bool enc, engine_bytes key, const engine_mech *m, engine_bytes in,
                    engine_buf *out)
{
    CK_RV rv;
    ac_ctx c;
    wbuf o;
    wbuf_init(&o, RSA_MAX_BYTES);
    if ((rv = ac_setup(e, m, key, enc, &c)) == CKR_OK &&
        (rv = ac_run(&c, in.ptr, in.len, &o)) == CKR_OK)
        rv = ac_take(&o, out);
    wbuf_free(&o);
    ac_wipe(&c);
    return rv;
}

/* Secret keys wrapped with RSA (PKCS #1 v1.5 or OAEP): the wrapping key is
 * a public key with CKA_WRAP (only a MACed SPKI can have it), the
 * unwrapping key a private blob with CKA_UNWRAP. *trusted reports
 * CKA_TRUSTED of the wrapping key for the wrap-with-trusted rule. */
CK_RV rsa_wrap_secret(const engine *e, bool wrap, engine_bytes key, const engine_mech *m,
                      const uint8_t *in, size_t n, wbuf *out, bool *trusted)
{
    CK_RV rv;
    ac_ctx c;
    if (m->type == CKM_RSA_X_509)
        return CKR_MECHANISM_INVALID;
    rv = ac_setup_u(e, m, key, wrap, wrap ? KF_WRAP : KF_UNWRAP, &c);
    if (rv == CKR_KEY_HANDLE_INVALID)
        rv = wrap ? CKR_WRAPPING_KEY_HANDLE_INVALID : CKR_UNWRAPPING_KEY_HANDLE_INVALID;
    else if (rv == CKR_KEY_TYPE_INCONSISTENT)
        rv = wrap ? CKR_WRAPPING_KEY_TYPE_INCONSISTENT : CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT;
    if (rv == CKR_OK) {
        *trusted = c.k.trusted && (c.k.obj.flags & KF_TRUSTED);
        rv = ac_run(&c, in, n, out);
        if (!wrap && (rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_ENCRYPTED_DATA_LEN_RANGE))
            rv = rv == CKR_ENCRYPTED_DATA_INVALID ? CKR_WRAPPED_KEY_INVALID
                                                  : CKR_WRAPPED_KEY_LEN_RANGE;
        if (wrap && rv == CKR_DATA_LEN_RANGE)
            rv = CKR_KEY_SIZE_RANGE;
    }
    ac_wipe(&c);
    return rv;
}
