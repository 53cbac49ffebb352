/* EdDSA: Ed25519 and Ed448 (RFC 8032) through OpenSSL's one-shot
 * DigestSign. Multi-part flows buffer the message in the state blob
 * (sig.c), since EdDSA hashes the whole message twice. */
#include <openssl/crypto.h>

#include "sig.h"

static size_t ed_sig_len(const pkey *k)
{
    return k->curve->priv_len == 32 ? 64 : 114;
}

CK_RV eddsa_sign(const pkey *k, const sig_param *p, const uint8_t *msg, size_t n, engine_buf *sig)
{
    CK_RV rv;
    pkc_signer c;
    size_t sl = ed_sig_len(k);
    (void)p; /* only the plain forms reach here (sig_param.c) */

    if ((rv = pkey_signer(k, &c)) != CKR_OK)
        return rv;
    if ((rv = ebuf_alloc(sig, sl)) == CKR_OK &&
        (EVP_DigestSign(c.mctx, sig->ptr, &sl, msg, n) != 1 || sl != sig->len)) {
        engine_buf_free(sig);
        rv = CKR_FUNCTION_FAILED;
    }
    pkc_signer_free(&c);
    return rv;
}

CK_RV eddsa_verify(const pkey *k, const sig_param *p, const uint8_t *msg, size_t n,
                   const uint8_t *sig, size_t slen)
{
    CK_RV rv = CKR_SIGNATURE_INVALID;
    EVP_PKEY *pk = NULL;
    EVP_MD_CTX *c;
    (void)p;

    if (slen != ed_sig_len(k))
        return CKR_SIGNATURE_LEN_RANGE;
    if (pkey_evp(k, &pk) != CKR_OK)
        return CKR_KEY_HANDLE_INVALID;
    if ((c = EVP_MD_CTX_new()) == NULL) {
        EVP_PKEY_free(pk);
        return CKR_HOST_MEMORY;
    }
    if (EVP_DigestVerifyInit_ex(c, NULL, NULL, NULL, NULL, pk, NULL) == 1 &&
        EVP_DigestVerify(c, sig, slen, msg, n) == 1)
        rv = CKR_OK;
    EVP_MD_CTX_free(c);
    EVP_PKEY_free(pk);
    return rv;
}
