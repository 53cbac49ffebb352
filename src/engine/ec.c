/* ECDSA on the named Weierstrass curves. The input is used as the digest
 * whatever its length: OpenSSL keeps its leftmost bits up to the order's
 * size, as FIPS 186 says. Signatures travel as fixed-length r || s (each
 * the order's byte length), the PKCS #11 form. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>

#include "sig.h"

CK_RV ecdsa_sign(const pkey *k, const uint8_t *dgst, size_t n, engine_buf *sig)
{
    CK_RV rv;
    pkc_signer c;
    ECDSA_SIG *es = NULL;
    uint8_t der[160];
    const uint8_t *p = der;
    size_t dl = sizeof(der), ol = k->curve->priv_len;
    const BIGNUM *r, *s;

    if ((rv = pkey_signer(k, &c)) != CKR_OK)
        return rv == CKR_PUBLIC_KEY_INVALID ? CKR_KEY_HANDLE_INVALID : rv;
    rv = CKR_FUNCTION_FAILED;
    if (EVP_PKEY_sign(c.pctx, der, &dl, dgst, n) != 1 ||
        (es = d2i_ECDSA_SIG(NULL, &p, (long)dl)) == NULL)
        goto out;
    ECDSA_SIG_get0(es, &r, &s);
    if ((rv = ebuf_alloc(sig, 2 * ol)) != CKR_OK)
        goto out;
    if (BN_bn2binpad(r, sig->ptr, (int)ol) != (int)ol ||
        BN_bn2binpad(s, sig->ptr + ol, (int)ol) != (int)ol) {
        engine_buf_free(sig);
        rv = CKR_FUNCTION_FAILED;
    }
out:
    ECDSA_SIG_free(es);
    pkc_signer_free(&c);
    return rv;
}

CK_RV ecdsa_verify(const pkey *k, const uint8_t *dgst, size_t n, const uint8_t *sig, size_t slen)
{
    CK_RV rv = CKR_SIGNATURE_INVALID;
    EVP_PKEY *pk = NULL;
    EVP_PKEY_CTX *c = NULL;
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    uint8_t *der = NULL;
    int dl;
    size_t ol = k->curve->priv_len;

    if (slen != 2 * ol)
        return CKR_SIGNATURE_LEN_RANGE;
    if (pkey_evp(k, &pk) != CKR_OK)
        return CKR_KEY_HANDLE_INVALID;
    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, (int)ol, NULL);
    s = BN_bin2bn(sig + ol, (int)ol, NULL);
    if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    r = s = NULL; /* owned by es */
    if ((dl = i2d_ECDSA_SIG(es, &der)) <= 0)
        goto out;
    if ((c = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL || EVP_PKEY_verify_init(c) != 1) {
        rv = CKR_FUNCTION_FAILED;
        goto out;
    }
    /* 0 (mismatch) and errors (r or s out of range) are both a bad signature. */
    if (EVP_PKEY_verify(c, der, (size_t)dl, dgst, n) == 1)
        rv = CKR_OK;
out:
    OPENSSL_free(der);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(pk);
    return rv;
}
