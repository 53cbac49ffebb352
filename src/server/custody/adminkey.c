#include "adminkey.h"

#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "secretfile.h"

static CK_RV spki_of(EVP_PKEY *k, const char *name, custody_admin *pub)
{
    uint8_t *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    if (n <= 0)
        return CKR_FUNCTION_FAILED;
    CK_RV rv = custody_admin_from_spki(der, (size_t)n, name, pub);
    OPENSSL_free(der);
    return rv;
}

CK_RV adminkey_generate(const char *path, int alg, const char *name, const char *passphrase,
                        unsigned log2n, custody_admin *pub, char *err, size_t errlen)
{
    EVP_PKEY *k = alg == CUSTODY_ALG_P256 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
                                          : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    uint8_t *der = NULL;
    char pubpath[4200], hex[2 * CUSTODY_MAX_SPKI + 1];
    secretfile_meta m = {0};
    CK_RV rv = CKR_FUNCTION_FAILED;
    int n = 0;
    if (!k || (rv = spki_of(k, name, pub)) != CKR_OK)
        goto out;
    rv = CKR_FUNCTION_FAILED;
    if ((n = i2d_PrivateKey(k, &der)) <= 0)
        goto out;
    hex_encode(pub->spki, pub->spki_len, hex);
    secretfile_meta_add(&m, "kind", "admin-key");
    secretfile_meta_add(&m, "name", pub->name);
    secretfile_meta_add(&m, "alg", custody_alg_name(pub->alg));
    secretfile_meta_add(&m, "keyid", pub->keyid);
    secretfile_meta_add(&m, "pub", hex);
    rv = secretfile_write(path, &m, der, (size_t)n, passphrase, log2n, err, errlen);
    if (rv != CKR_OK)
        goto out;
    snprintf(pubpath, sizeof(pubpath), "%s.pub", path);
    FILE *f = fopen(pubpath, "w");
    if (!f || fprintf(f, "grep11-admin-pub-v1 %s %s %s\n", custody_alg_name(pub->alg), hex,
                      pub->name[0] ? pub->name : "admin") < 0) {
        snprintf(err, errlen, "cannot write %s", pubpath);
        rv = CKR_FUNCTION_FAILED;
    }
    if (f && fclose(f) != 0)
        rv = CKR_FUNCTION_FAILED;
out:
    if (der) {
        OPENSSL_cleanse(der, (size_t)n);
        OPENSSL_free(der);
    }
    EVP_PKEY_free(k);
    return rv;
}

CK_RV adminkey_load(const char *path, const char *passphrase, EVP_PKEY **key, custody_admin *pub,
                    char *err, size_t errlen)
{
    uint8_t der[SECRETFILE_MAX_SECRET];
    size_t len = 0;
    secretfile_meta m;
    *key = NULL;
    CK_RV rv = secretfile_read(path, passphrase, der, sizeof(der), &len, &m, err, errlen);
    if (rv != CKR_OK)
        return rv;
    const char *kind = secretfile_meta_get(&m, "kind");
    if (!kind || strcmp(kind, "admin-key") != 0) {
        snprintf(err, errlen, "%s is not an administrator key file", path);
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    const unsigned char *p = der;
    *key = d2i_AutoPrivateKey(NULL, &p, (long)len);
    if (!*key || spki_of(*key, secretfile_meta_get(&m, "name"), pub) != CKR_OK) {
        snprintf(err, errlen, "%s holds no usable key", path);
        EVP_PKEY_free(*key);
        *key = NULL;
        rv = CKR_ARGUMENTS_BAD;
    }
out:
    OPENSSL_cleanse(der, sizeof(der));
    return rv;
}

CK_RV adminkey_sign(EVP_PKEY *key, int alg, const uint8_t *msg, size_t len, uint8_t *sig,
                    size_t *siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t n = CUSTODY_MAX_SIG;
    int ok = md &&
             EVP_DigestSignInit(md, NULL, alg == CUSTODY_ALG_P256 ? EVP_sha256() : NULL, NULL,
                                key) == 1 &&
             EVP_DigestSign(md, sig, &n, msg, len) == 1;
    EVP_MD_CTX_free(md);
    *siglen = ok ? n : 0;
    return ok ? CKR_OK : CKR_FUNCTION_FAILED;
}

CK_RV adminkey_read_pub(const char *path, custody_admin *out)
{
    char alg[16], hex[2 * CUSTODY_MAX_SPKI + 2], name[65] = "";
    uint8_t spki[CUSTODY_MAX_SPKI];
    FILE *f = fopen(path, "r");
    if (!f)
        return CKR_ARGUMENTS_BAD;
    int n = fscanf(f, "grep11-admin-pub-v1 %15s %321s %64s", alg, hex, name);
    fclose(f);
    long l = n >= 2 ? hex_decode(hex, spki, sizeof(spki)) : -1;
    if (l <= 0)
        return CKR_ARGUMENTS_BAD;
    return custody_admin_from_spki(spki, (size_t)l, name, out);
}
