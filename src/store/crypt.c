/* Key derivation and row encryption for authenticated keystores.
 *
 *   master   = scrypt(password, salt, N, r, p)              32 bytes
 *   verifier = HKDF-SHA256(master, salt=ks, "…verifier")     stored
 *   aead     = HKDF-SHA256(master, salt=ks, "…aead")         AES-256-GCM
 *   index    = HKDF-SHA256(master, salt=ks, "…index")        HMAC-SHA256
 *
 * The verifier is a one-way function of the master key, so storing it
 * reveals no more than a password hash does, and the keys are independent
 * of it. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "crypt.h"

#define SEAL_VERSION 1
#define AAD_LEN (4 + 1 + 16 + 16 + 8)

void crypt_freezero(void *p, size_t n)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, n);
    OPENSSL_free(p);
}

bool crypt_kdf_params_ok(const kdf_params *kp)
{
    /* 2^10..2^20 with r <= 16 keeps one derivation under 2 GiB of memory
     * and a few seconds even when the row was tampered with. */
    return kp->log2n >= 10 && kp->log2n <= 20 && kp->r >= 1 && kp->r <= 16 && kp->p >= 1 &&
           kp->p <= 4 && ((uint64_t)kp->r << kp->log2n) <= (1u << 24);
}

CK_RV crypt_new_kdf_params(unsigned log2n, kdf_params *out)
{
    memset(out, 0, sizeof(*out));
    out->log2n = log2n;
    out->r = 8;
    out->p = 1;
    if (!crypt_kdf_params_ok(out))
        return CKR_ARGUMENTS_BAD;
    if (RAND_bytes(out->salt, sizeof(out->salt)) != 1)
        return CKR_FUNCTION_FAILED;
    return CKR_OK;
}

static CK_RV scrypt(const kdf_params *kp, const unsigned char *pw, size_t pwlen,
                    unsigned char out[CRYPT_KEY_LEN])
{
    uint64_t n = (uint64_t)1 << kp->log2n, r = kp->r, p = kp->p;
    uint64_t maxmem = 128 * r * n + 128 * r * p + (1u << 20);
    CK_RV rv = CKR_FUNCTION_FAILED;
    EVP_KDF_CTX *ctx = NULL;
    EVP_KDF *kdf = NULL;
    OSSL_PARAM params[7];

    kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
    if (kdf == NULL || (ctx = EVP_KDF_CTX_new(kdf)) == NULL)
        goto out;
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pw, pwlen);
    params[1] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)kp->salt, sizeof(kp->salt));
    params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
    params[3] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_R, &r);
    params[4] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_P, &p);
    params[5] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
    params[6] = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(ctx, out, CRYPT_KEY_LEN, params) != 1)
        goto out;
    rv = CKR_OK;
out:
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rv;
}

static CK_RV hkdf(const unsigned char master[CRYPT_KEY_LEN], const store_uuid *ks, const char *info,
                  unsigned char out[CRYPT_KEY_LEN])
{
    CK_RV rv = CKR_FUNCTION_FAILED;
    EVP_KDF_CTX *ctx = NULL;
    EVP_KDF *kdf = NULL;
    OSSL_PARAM params[5];

    kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (kdf == NULL || (ctx = EVP_KDF_CTX_new(kdf)) == NULL)
        goto out;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)master, CRYPT_KEY_LEN);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)ks->b, 16);
    params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
    params[4] = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(ctx, out, CRYPT_KEY_LEN, params) != 1)
        goto out;
    rv = CKR_OK;
out:
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rv;
}

CK_RV crypt_derive(const store_uuid *ks, const kdf_params *kp, const unsigned char *pw,
                   size_t pwlen, unsigned char verifier[CRYPT_KEY_LEN], ks_keys *keys)
{
    unsigned char master[CRYPT_KEY_LEN];
    CK_RV rv;

    if (!crypt_kdf_params_ok(kp))
        return CKR_IBM_GREP11_DBINTERNAL;
    rv = scrypt(kp, pw, pwlen, master);
    if (rv == CKR_OK)
        rv = hkdf(master, ks, "grep11 store v1 verifier", verifier);
    if (rv == CKR_OK)
        rv = hkdf(master, ks, "grep11 store v1 aead", keys->aead);
    if (rv == CKR_OK)
        rv = hkdf(master, ks, "grep11 store v1 index", keys->index);
    OPENSSL_cleanse(master, sizeof(master));
    if (rv != CKR_OK)
        OPENSSL_cleanse(keys, sizeof(*keys));
    return rv;
}

void crypt_public_index_key(const store_uuid *ks, unsigned char key[CRYPT_KEY_LEN])
{
    static const char label[] = "grep11 store v1 public index";
    unsigned char buf[sizeof(label) + 16];

    memcpy(buf, label, sizeof(label));
    memcpy(buf + sizeof(label), ks->b, 16);
    SHA256(buf, sizeof(buf), key);
}

CK_RV crypt_index(const unsigned char key[CRYPT_KEY_LEN], CK_ATTRIBUTE_TYPE type, const void *value,
                  size_t n, unsigned char out[CRYPT_KEY_LEN])
{
    unsigned char small[8 + 256], *buf = small;
    uint64_t t = (uint64_t)type;
    unsigned int outlen = 0;
    CK_RV rv = CKR_FUNCTION_FAILED;

    if (n > sizeof(small) - 8) {
        buf = OPENSSL_malloc(8 + n);
        if (buf == NULL)
            return CKR_HOST_MEMORY;
    }
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(t >> (56 - 8 * i));
    if (n > 0)
        memcpy(buf + 8, value, n);
    if (HMAC(EVP_sha256(), key, CRYPT_KEY_LEN, buf, 8 + n, out, &outlen) != NULL &&
        outlen == CRYPT_KEY_LEN)
        rv = CKR_OK;
    /* attribute values of an authenticated keystore are secret */
    OPENSSL_cleanse(buf, 8 + n);
    if (buf != small)
        OPENSSL_free(buf);
    return rv;
}

static void make_aad(unsigned char aad[AAD_LEN], int field, const store_uuid *ks,
                     const store_uuid *obj, uint64_t version)
{
    memcpy(aad, "g11s", 4);
    aad[4] = (unsigned char)field;
    memcpy(aad + 5, ks->b, 16);
    memcpy(aad + 21, obj->b, 16);
    for (int i = 0; i < 8; i++)
        aad[37 + i] = (unsigned char)(version >> (56 - 8 * i));
}

CK_RV crypt_seal(const unsigned char key[CRYPT_KEY_LEN], int field, const store_uuid *ks,
                 const store_uuid *obj, uint64_t version, const unsigned char *pt, size_t n,
                 unsigned char **out, size_t *outlen)
{
    unsigned char aad[AAD_LEN], *buf = NULL, *nonce, *ct;
    CK_RV rv = CKR_FUNCTION_FAILED;
    EVP_CIPHER_CTX *ctx = NULL;
    int len;

    if (n > INT32_MAX - CRYPT_SEAL_OVERHEAD)
        return CKR_DATA_LEN_RANGE;
    buf = OPENSSL_malloc(n + CRYPT_SEAL_OVERHEAD);
    if (buf == NULL)
        return CKR_HOST_MEMORY;
    buf[0] = SEAL_VERSION;
    nonce = buf + 1;
    ct = nonce + CRYPT_NONCE_LEN;
    /* Random 96-bit nonces: fine far beyond any keystore's write count
     * (the 2^-32 collision bound needs ~2^32 seals under one key). */
    if (RAND_bytes(nonce, CRYPT_NONCE_LEN) != 1)
        goto out;
    make_aad(aad, field, ks, obj, version);
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &len, aad, AAD_LEN) != 1)
        goto out;
    if (n > 0 && EVP_EncryptUpdate(ctx, ct, &len, pt, (int)n) != 1)
        goto out;
    if (EVP_EncryptFinal_ex(ctx, ct + n, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPT_TAG_LEN, ct + n) != 1)
        goto out;
    *out = buf;
    *outlen = n + CRYPT_SEAL_OVERHEAD;
    buf = NULL;
    rv = CKR_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    crypt_freezero(buf, n + CRYPT_SEAL_OVERHEAD);
    return rv;
}

CK_RV crypt_open(const unsigned char key[CRYPT_KEY_LEN], int field, const store_uuid *ks,
                 const store_uuid *obj, uint64_t version, const unsigned char *in, size_t n,
                 unsigned char **out, size_t *outlen)
{
    unsigned char aad[AAD_LEN], tag[CRYPT_TAG_LEN], *pt = NULL;
    CK_RV rv = CKR_IBM_GREP11_DBINTERNAL;
    EVP_CIPHER_CTX *ctx = NULL;
    const unsigned char *nonce, *ct;
    size_t ctlen;
    int len;

    if (in == NULL || n < CRYPT_SEAL_OVERHEAD || n > INT32_MAX || in[0] != SEAL_VERSION)
        return CKR_IBM_GREP11_DBINTERNAL;
    nonce = in + 1;
    ct = nonce + CRYPT_NONCE_LEN;
    ctlen = n - CRYPT_SEAL_OVERHEAD;
    memcpy(tag, ct + ctlen, CRYPT_TAG_LEN);
    /* +1: OPENSSL_malloc(0) may return NULL */
    pt = OPENSSL_malloc(ctlen + 1);
    if (pt == NULL)
        return CKR_HOST_MEMORY;
    make_aad(aad, field, ks, obj, version);
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
        EVP_DecryptUpdate(ctx, NULL, &len, aad, AAD_LEN) != 1)
        goto out;
    if (ctlen > 0 && EVP_DecryptUpdate(ctx, pt, &len, ct, (int)ctlen) != 1)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPT_TAG_LEN, tag) != 1 ||
        EVP_DecryptFinal_ex(ctx, pt + ctlen, &len) != 1)
        goto out;
    *out = pt;
    *outlen = ctlen;
    pt = NULL;
    rv = CKR_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    crypt_freezero(pt, ctlen + 1);
    return rv;
}
