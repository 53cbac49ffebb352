/* AES-GCM with a serializable state. Encryption streams: CTR keystream from
 * OpenSSL AES at the counter the state records, GHASH of the ciphertext in
 * ghash.c. Decryption keeps the ciphertext until Final and releases
 * plaintext only after the tag verifies. Single-part calls use OpenSSL's
 * GCM directly (same results, faster). */
#include <string.h>

#include <openssl/crypto.h>

#include "sym.h"

#define GCM_MAX_IV 256u
#define GCM_MAX_AAD (1024u * 1024u)

/* ParameterB: ulIvLen u32 | IV | ulAADLen u32 | AAD | ulTagBits u32, all
 * big-endian (CK_GCM_PARAMS with the pointers replaced by the bytes). */
CK_RV gcm_parse(const engine_mech *m, const uint8_t **iv, size_t *ivlen, const uint8_t **aad,
                size_t *aadlen, unsigned *tag_bytes)
{
    rbuf r;
    uint32_t bits;
    if (m->kind != ENGINE_PARAM_BYTES)
        return CKR_MECHANISM_PARAM_INVALID;
    rbuf_init(&r, m->bytes.ptr, m->bytes.len);
    *iv = rbuf_lv(&r, GCM_MAX_IV, ivlen);
    *aad = rbuf_lv(&r, GCM_MAX_AAD, aadlen);
    bits = rbuf_u32(&r);
    if (!rbuf_done(&r) || *ivlen == 0 || bits % 8 != 0 || bits < 32 || bits > 128)
        return CKR_MECHANISM_PARAM_INVALID;
    *tag_bytes = bits / 8;
    return CKR_OK;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* GHASH over data, zero-padding a final partial block. */
static void gcm_hash_padded(const sym_ctx *c, uint8_t y[16], const uint8_t *p, size_t n)
{
    size_t whole = n - n % 16;
    ghash_blocks(&c->gk, y, p, whole);
    if (n % 16) {
        uint8_t last[16] = {0};
        memcpy(last, p + whole, n % 16);
        ghash_blocks(&c->gk, y, last, 16);
    }
}

CK_RV gcm_start(sym_ctx *c, const uint8_t *iv, size_t ivlen, const uint8_t *aad, size_t aadlen)
{
    uint8_t zero[16] = {0}, h[16];
    CK_RV rv = sym_ecb_blocks(c, zero, h, 16);
    if (rv != CKR_OK)
        return rv;
    ghash_init(&c->gk, h);
    c->gk_ready = true;
    OPENSSL_cleanse(h, sizeof(h));
    if (ivlen == 12) {
        memcpy(c->iv, iv, 12);
        memset(c->iv + 12, 0, 3);
        c->iv[15] = 1;
    } else {
        uint8_t lens[16] = {0};
        memset(c->iv, 0, 16);
        gcm_hash_padded(c, c->iv, iv, ivlen);
        put_be64(lens + 8, (uint64_t)ivlen * 8);
        ghash_blocks(&c->gk, c->iv, lens, 16);
    }
    memset(c->y, 0, 16);
    gcm_hash_padded(c, c->y, aad, aadlen);
    c->aad_bytes = aadlen;
    c->total = 0;
    c->blen = 0;
    wbuf_init(&c->held, c->held_max + 16);
    return CKR_OK;
}

/* SP 800-38D caps the plaintext at 2^39 - 256 bits. */
static CK_RV gcm_room(const sym_ctx *c, size_t n)
{
    if (c->total + n < c->total || c->total + n > ((uint64_t)1 << 36) - 32)
        return CKR_DATA_LEN_RANGE;
    return CKR_OK;
}

CK_RV gcm_update(sym_ctx *c, const uint8_t *in, size_t n, wbuf *out)
{
    CK_RV rv;
    uint8_t *q;
    size_t off = 0;

    if (!c->enc) {
        if (n > c->held_max + 16 - c->held.len)
            return CKR_DATA_LEN_RANGE;
        wbuf_put(&c->held, in, n);
        return c->held.err ? CKR_HOST_MEMORY : CKR_OK;
    }
    if ((rv = gcm_room(c, n)) != CKR_OK)
        return rv;
    q = wbuf_reserve(out, n);
    if (q == NULL)
        return CKR_HOST_MEMORY;
    /* Counter block 1 (J0 + 1) covers the first 16 bytes of text. */
    if ((rv = sym_keystream_xor(c, c->iv, 32, c->total + 16, in, q, n)) != CKR_OK)
        return rv;
    c->total += n;
    if (c->blen > 0) {
        size_t take = 16 - c->blen < n ? 16 - c->blen : n;
        memcpy(c->buf + c->blen, q, take);
        c->blen += take;
        off = take;
        if (c->blen == 16) {
            ghash_blocks(&c->gk, c->y, c->buf, 16);
            c->blen = 0;
        }
    }
    {
        size_t whole = (n - off) - (n - off) % 16;
        ghash_blocks(&c->gk, c->y, q + off, whole);
        off += whole;
    }
    memcpy(c->buf + c->blen, q + off, n - off);
    c->blen += n - off;
    return CKR_OK;
}

static void gcm_tag(sym_ctx *c, uint8_t y[16], uint64_t ct_bytes, uint8_t tag[16], CK_RV *rv)
{
    uint8_t lens[16], ek[16];
    put_be64(lens, c->aad_bytes * 8);
    put_be64(lens + 8, ct_bytes * 8);
    ghash_blocks(&c->gk, y, lens, 16);
    *rv = sym_ecb_blocks(c, c->iv, ek, 16);
    for (int i = 0; i < 16; i++)
        tag[i] = y[i] ^ ek[i];
    OPENSSL_cleanse(ek, sizeof(ek));
}

CK_RV gcm_final(sym_ctx *c, wbuf *out)
{
    CK_RV rv = CKR_OK;
    uint8_t tag[16], *q;

    if (c->enc) {
        if (c->blen > 0) {
            gcm_hash_padded(c, c->y, c->buf, c->blen);
            c->blen = 0;
        }
        gcm_tag(c, c->y, c->total, tag, &rv);
        q = wbuf_reserve(out, c->tag_bytes);
        if (rv == CKR_OK && q == NULL)
            rv = CKR_HOST_MEMORY;
        if (rv == CKR_OK)
            memcpy(q, tag, c->tag_bytes);
        return rv;
    }
    {
        const uint8_t *ct = c->held.p;
        size_t n = c->held.len;
        if (n < c->tag_bytes)
            return CKR_ENCRYPTED_DATA_LEN_RANGE;
        n -= c->tag_bytes;
        if ((rv = gcm_room(c, n)) != CKR_OK)
            return rv;
        gcm_hash_padded(c, c->y, ct, n);
        gcm_tag(c, c->y, n, tag, &rv);
        if (rv != CKR_OK)
            return rv;
        if (CRYPTO_memcmp(tag, ct + n, c->tag_bytes) != 0)
            return CKR_ENCRYPTED_DATA_INVALID;
        q = wbuf_reserve(out, n);
        if (q == NULL)
            return CKR_HOST_MEMORY;
        return sym_keystream_xor(c, c->iv, 32, 16, ct, q, n);
    }
}

CK_RV gcm_single(const sym_ctx *c, const uint8_t *iv, size_t ivlen, const uint8_t *aad,
                 size_t aadlen, const uint8_t *in, size_t n, wbuf *out)
{
    CK_RV rv = CKR_FUNCTION_FAILED;
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    const EVP_CIPHER *ci = c->klen == 16   ? EVP_aes_128_gcm()
                           : c->klen == 24 ? EVP_aes_192_gcm()
                                           : EVP_aes_256_gcm();
    size_t len = n;
    uint8_t *q;
    int l = 0;

    if (x == NULL)
        return CKR_HOST_MEMORY;
    if (!c->enc) {
        if (n < c->tag_bytes) {
            rv = CKR_ENCRYPTED_DATA_LEN_RANGE;
            goto out;
        }
        len = n - c->tag_bytes;
    }
    if (len > ((uint64_t)1 << 36) - 32 || len > INT32_MAX) {
        rv = CKR_DATA_LEN_RANGE;
        goto out;
    }
    q = wbuf_reserve(out, c->enc ? len + c->tag_bytes : len);
    if (q == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if (EVP_CipherInit_ex(x, ci, NULL, NULL, NULL, c->enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_IVLEN, (int)ivlen, NULL) != 1 ||
        EVP_CipherInit_ex(x, NULL, NULL, c->key, iv, c->enc) != 1)
        goto out;
    if (aadlen > 0 && EVP_CipherUpdate(x, NULL, &l, aad, (int)aadlen) != 1)
        goto out;
    if (len > 0 && EVP_CipherUpdate(x, q, &l, in, (int)len) != 1)
        goto out;
    if (!c->enc &&
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, (int)c->tag_bytes, (void *)(in + len)) != 1)
        goto out;
    if (EVP_CipherFinal_ex(x, q + len, &l) != 1) {
        /* Never release plaintext whose tag failed. */
        OPENSSL_cleanse(q, len);
        rv = c->enc ? CKR_FUNCTION_FAILED : CKR_ENCRYPTED_DATA_INVALID;
        goto out;
    }
    if (c->enc && EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, (int)c->tag_bytes, q + len) != 1)
        goto out;
    rv = CKR_OK;
out:
    EVP_CIPHER_CTX_free(x);
    return rv;
}
