/* RSA signatures: PKCS #1 v1.5 (caller's DigestInfo, or the token's hash),
 * PSS (the parameter's hash, MGF1 hash and salt length) and raw X.509. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rsa.h>

#include "sig.h"

static size_t rsa_k(const pkey *k)
{
    return (pkey_bits(k) + 7) / 8;
}

/* A context with padding and digests set for this scheme. */
static CK_RV rsa_ctx(const pkey *k, int scheme, hashid h, const sig_param *p, bool sign,
                     EVP_PKEY_CTX **out, EVP_PKEY **pk)
{
    EVP_PKEY_CTX *c = NULL;
    hashid md = scheme == SIG_RSA_PSS ? p->pss_hash : h;
    CK_RV rv = pkey_evp(k, pk);

    if (rv != CKR_OK)
        return rv == CKR_PUBLIC_KEY_INVALID ? CKR_KEY_HANDLE_INVALID : rv;
    rv = CKR_FUNCTION_FAILED;
    if ((c = EVP_PKEY_CTX_new_from_pkey(NULL, *pk, NULL)) == NULL)
        goto out;
    if ((sign ? EVP_PKEY_sign_init(c) : EVP_PKEY_verify_init(c)) != 1)
        goto out;
    if (EVP_PKEY_CTX_set_rsa_padding(c, scheme == SIG_RSA_PKCS  ? RSA_PKCS1_PADDING
                                        : scheme == SIG_RSA_PSS ? RSA_PKCS1_PSS_PADDING
                                                                : RSA_NO_PADDING) != 1)
        goto out;
    if (md != H_NONE &&
        EVP_PKEY_CTX_set_signature_md(c, EVP_get_digestbyname(hash_ossl_name(md))) != 1)
        goto out;
    if (scheme == SIG_RSA_PSS &&
        (EVP_PKEY_CTX_set_rsa_mgf1_md_name(c, hash_ossl_name(p->pss_mgf), NULL) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(c, (int)p->salt_len) != 1))
        goto out;
    *out = c;
    c = NULL;
    rv = CKR_OK;
out:
    EVP_PKEY_CTX_free(c);
    return rv;
}

/* Input checks PKCS #11 states per scheme; X.509 input is left-padded to
 * the modulus length. */
static CK_RV rsa_input(const pkey *k, int scheme, hashid h, const sig_param *p, const uint8_t *in,
                       size_t n, uint8_t *blk, const uint8_t **use, size_t *ulen)
{
    size_t kb = rsa_k(k);
    *use = in, *ulen = n;
    if (scheme == SIG_RSA_X509) {
        if (n > kb)
            return CKR_DATA_LEN_RANGE;
        memset(blk, 0, kb - n);
        memcpy(blk + kb - n, in, n);
        *use = blk, *ulen = kb;
        return CKR_OK;
    }
    if (scheme == SIG_RSA_PSS && h == H_NONE && n != hash_len(p->pss_hash))
        return CKR_DATA_LEN_RANGE;
    if (scheme == SIG_RSA_PKCS && h == H_NONE && n + 11 > kb)
        return CKR_DATA_LEN_RANGE;
    return CKR_OK;
}

CK_RV rsa_sign(const pkey *k, int scheme, hashid h, const sig_param *p, const uint8_t *in, size_t n,
               engine_buf *sig)
{
    CK_RV rv;
    EVP_PKEY_CTX *c = NULL;
    EVP_PKEY *pk = NULL;
    uint8_t blk[1024];
    const uint8_t *use;
    size_t ul, sl = rsa_k(k);

    if ((rv = rsa_input(k, scheme, h, p, in, n, blk, &use, &ul)) != CKR_OK)
        return rv;
    if ((rv = rsa_ctx(k, scheme, h, p, true, &c, &pk)) != CKR_OK)
        goto out;
    if ((rv = ebuf_alloc(sig, sl)) != CKR_OK)
        goto out;
    if (EVP_PKEY_sign(c, sig->ptr, &sl, use, ul) != 1 || sl != sig->len) {
        /* X.509: an input not below the modulus. */
        rv = scheme == SIG_RSA_X509 ? CKR_DATA_INVALID : CKR_FUNCTION_FAILED;
        engine_buf_free(sig);
    }
out:
    OPENSSL_cleanse(blk, sizeof(blk));
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(pk);
    return rv;
}

CK_RV rsa_verify(const pkey *k, int scheme, hashid h, const sig_param *p, const uint8_t *in,
                 size_t n, const uint8_t *sig, size_t slen)
{
    CK_RV rv;
    EVP_PKEY_CTX *c = NULL;
    EVP_PKEY *pk = NULL;
    uint8_t blk[1024], rec[1024];
    const uint8_t *use;
    size_t ul, rl = sizeof(rec);

    if (slen != rsa_k(k))
        return CKR_SIGNATURE_LEN_RANGE;
    if ((rv = rsa_input(k, scheme, h, p, in, n, blk, &use, &ul)) != CKR_OK)
        return rv == CKR_DATA_LEN_RANGE ? CKR_SIGNATURE_INVALID : rv;
    if ((rv = rsa_ctx(k, scheme, h, p, false, &c, &pk)) != CKR_OK)
        goto out;
    rv = CKR_SIGNATURE_INVALID;
    if (scheme == SIG_RSA_X509) {
        /* Raw: recover s^e mod n and compare with the (padded) data. */
        if (EVP_PKEY_verify_recover_init(c) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(c, RSA_NO_PADDING) == 1 &&
            EVP_PKEY_verify_recover(c, rec, &rl, sig, slen) == 1 && rl == ul &&
            CRYPTO_memcmp(rec, use, ul) == 0)
            rv = CKR_OK;
    } else if (EVP_PKEY_verify(c, sig, slen, use, ul) == 1) {
        rv = CKR_OK;
    }
out:
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(pk);
    return rv;
}
