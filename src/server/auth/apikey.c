/* API keys: generation, parsing and verification against a scrypt hash. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"

#define APIKEY_PREFIX "g11k_"
/* scrypt cost: about 50 ms and 16 MiB per verification on a current core.
 * An API key has 256 bits of entropy, so this is defence in depth for a
 * leaked database, not the only barrier; token requests are rate-limited. */
#define SCRYPT_N 16384u
#define SCRYPT_R 8u
#define SCRYPT_P 1u

static CK_RV scrypt_hash(const uint8_t *secret, size_t len, const uint8_t salt[16], uint8_t out[32])
{
    CK_RV rv = CKR_GENERAL_ERROR;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (ctx) {
        uint64_t n = SCRYPT_N;
        uint32_t r = SCRYPT_R, p = SCRYPT_P;
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_octet_string("pass", (void *)secret, len),
            OSSL_PARAM_construct_octet_string("salt", (void *)salt, 16),
            OSSL_PARAM_construct_uint64("n", &n),
            OSSL_PARAM_construct_uint32("r", &r),
            OSSL_PARAM_construct_uint32("p", &p),
            OSSL_PARAM_construct_end(),
        };
        if (EVP_KDF_derive(ctx, out, 32, params) == 1)
            rv = CKR_OK;
    }
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rv;
}

CK_RV auth_apikey_generate(char text[AUTH_API_KEY_MAX], auth_key_record *rec)
{
    uint8_t secret[AUTH_SECRET_LEN];
    char id_txt[32], secret_txt[64];
    CK_RV rv = CKR_GENERAL_ERROR;
    if (RAND_bytes(rec->key_id, sizeof(rec->key_id)) != 1 ||
        RAND_bytes(rec->salt, sizeof(rec->salt)) != 1 ||
        RAND_priv_bytes(secret, sizeof(secret)) != 1)
        goto out;
    if ((rv = scrypt_hash(secret, sizeof(secret), rec->salt, rec->hash)) != CKR_OK)
        goto out;
    auth_b64url_encode(rec->key_id, sizeof(rec->key_id), id_txt, sizeof(id_txt));
    auth_b64url_encode(secret, sizeof(secret), secret_txt, sizeof(secret_txt));
    /* The id's alphabet includes '_', so the separator is a '.'. */
    int n = snprintf(text, AUTH_API_KEY_MAX, APIKEY_PREFIX "%s.%s", id_txt, secret_txt);
    rv = (n > 0 && n < AUTH_API_KEY_MAX) ? CKR_OK : CKR_GENERAL_ERROR;
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(secret_txt, sizeof(secret_txt));
    return rv;
}

CK_RV auth_apikey_parse(const char *text, uint8_t key_id[AUTH_KEY_ID_LEN],
                        uint8_t secret[AUTH_SECRET_LEN])
{
    size_t plen = strlen(APIKEY_PREFIX);
    if (!text || strncmp(text, APIKEY_PREFIX, plen) != 0)
        return CKR_IBM_GREP11_NOT_AUTHENTICATED;
    const char *id = text + plen;
    const char *dot = strchr(id, '.');
    if (!dot || strlen(text) >= AUTH_API_KEY_MAX)
        return CKR_IBM_GREP11_NOT_AUTHENTICATED;
    if (auth_b64url_decode(id, (size_t)(dot - id), key_id, AUTH_KEY_ID_LEN) != AUTH_KEY_ID_LEN ||
        auth_b64url_decode(dot + 1, strlen(dot + 1), secret, AUTH_SECRET_LEN) != AUTH_SECRET_LEN) {
        OPENSSL_cleanse(secret, AUTH_SECRET_LEN);
        return CKR_IBM_GREP11_NOT_AUTHENTICATED;
    }
    return CKR_OK;
}

CK_RV auth_apikey_verify(const auth_key_record *rec, const uint8_t secret[AUTH_SECRET_LEN])
{
    uint8_t h[32];
    CK_RV rv = scrypt_hash(secret, AUTH_SECRET_LEN, rec->salt, h);
    if (rv == CKR_OK && CRYPTO_memcmp(h, rec->hash, sizeof(h)) != 0)
        rv = CKR_IBM_GREP11_NOT_AUTHENTICATED;
    OPENSSL_cleanse(h, sizeof(h));
    return rv;
}
