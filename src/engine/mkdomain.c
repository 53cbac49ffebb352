/* Master-key domain: the current and new registers, WKIDs and the HKDF
 * subkeys. The WK never keys anything directly; every use goes through a
 * subkey bound to one purpose, so a key-blob key can never open a state blob
 * or sign a token. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "internal.h"

/* Fixed salt: domain separation from any other HKDF use of the same WK. */
static const char MK_SALT[] = "grep11 master-key domain v1";

/* HKDF-SHA256(WK, salt, info) -> out (len bytes). */
static CK_RV mk_hkdf(const uint8_t wk[ENGINE_WK_LEN], const uint8_t *info, size_t info_len,
                     uint8_t *out, size_t len)
{
    CK_RV rv = CKR_FUNCTION_FAILED;
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *kctx = NULL;
    OSSL_PARAM prm[5];
    size_t i = 0;

    kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (kdf == NULL)
        goto out;
    kctx = EVP_KDF_CTX_new(kdf);
    if (kctx == NULL)
        goto out;
    prm[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    prm[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)wk, ENGINE_WK_LEN);
    prm[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)MK_SALT,
                                                 sizeof(MK_SALT) - 1);
    prm[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    prm[i] = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(kctx, out, len, prm) != 1)
        goto out;
    rv = CKR_OK;
out:
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return rv;
}

static CK_RV mk_subkey(const uint8_t wk[ENGINE_WK_LEN], const char *label, uint8_t out[32])
{
    return mk_hkdf(wk, (const uint8_t *)label, strlen(label), out, ENGINE_SUBKEY_LEN);
}

/* An HMAC-SHA256 context keyed with key, ready to be duplicated. */
static EVP_MAC_CTX *mk_hmac_keyed(const uint8_t key[ENGINE_SUBKEY_LEN])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM prm[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end()};
    EVP_MAC_free(mac); /* the context holds its own reference */
    if (c != NULL && EVP_MAC_init(c, key, ENGINE_SUBKEY_LEN, prm) != 1) {
        EVP_MAC_CTX_free(c);
        c = NULL;
    }
    return c;
}

void mk_register_clear(mk_register *r)
{
    /* Freeing an HMAC context wipes the key it holds. */
    EVP_MAC_CTX_free(r->kdf_key_blob);
    EVP_MAC_CTX_free(r->kdf_state_blob);
    OPENSSL_cleanse(r, sizeof(*r));
    r->kdf_key_blob = r->kdf_state_blob = NULL;
    r->loaded = false;
}

void mk_register_move(mk_register *dst, mk_register *src)
{
    mk_register_clear(dst);
    *dst = *src;
    OPENSSL_cleanse(src, sizeof(*src));
    src->kdf_key_blob = src->kdf_state_blob = NULL;
    src->loaded = false;
}

CK_RV mk_register_load(mk_register *r, const uint8_t wk[ENGINE_WK_LEN])
{
    CK_RV rv;
    mk_register tmp;
    uint8_t h[32];
    unsigned int hl = 0;

    memset(&tmp, 0, sizeof(tmp));
    memcpy(tmp.wk, wk, ENGINE_WK_LEN);
    if (EVP_Digest(wk, ENGINE_WK_LEN, h, &hl, EVP_sha256(), NULL) != 1 || hl != 32) {
        rv = CKR_FUNCTION_FAILED;
        goto out;
    }
    memcpy(tmp.wkid, h, ENGINE_WKID_LEN);
    if ((rv = mk_subkey(wk, "grep11/v1/key-blob", tmp.k_key_blob)) != CKR_OK)
        goto out;
    if ((rv = mk_subkey(wk, "grep11/v1/state-blob", tmp.k_state_blob)) != CKR_OK)
        goto out;
    if ((rv = mk_subkey(wk, "grep11/v1/public-key-mac", tmp.k_pub_mac)) != CKR_OK)
        goto out;
    if ((tmp.kdf_key_blob = mk_hmac_keyed(tmp.k_key_blob)) == NULL ||
        (tmp.kdf_state_blob = mk_hmac_keyed(tmp.k_state_blob)) == NULL) {
        rv = CKR_FUNCTION_FAILED;
        goto out;
    }
    tmp.loaded = true;
    mk_register_move(r, &tmp);
out:
    mk_register_clear(&tmp);
    OPENSSL_cleanse(h, sizeof(h));
    return rv;
}

CK_RV engine_wkid(const engine *e, uint8_t out[16])
{
    if (e == NULL || out == NULL)
        return CKR_ARGUMENTS_BAD;
    if (!e->d->cur.loaded)
        return CKR_IBM_WK_NOT_INITIALIZED;
    memcpy(out, e->d->cur.wkid, ENGINE_WKID_LEN);
    return CKR_OK;
}

CK_RV engine_load_new_wk(engine *e, const uint8_t wk[32])
{
    if (e == NULL || wk == NULL)
        return CKR_ARGUMENTS_BAD;
    return mk_register_load(&e->d->nxt, wk);
}

CK_RV engine_new_wkid(const engine *e, uint8_t out[16])
{
    if (e == NULL || out == NULL)
        return CKR_ARGUMENTS_BAD;
    if (!e->d->nxt.loaded)
        return CKR_IBM_WK_NOT_INITIALIZED;
    memcpy(out, e->d->nxt.wkid, ENGINE_WKID_LEN);
    return CKR_OK;
}

CK_RV engine_activate_new_wk(engine *e)
{
    if (e == NULL)
        return CKR_ARGUMENTS_BAD;
    if (!e->d->nxt.loaded)
        return CKR_IBM_WK_NOT_INITIALIZED;
    mk_register_move(&e->d->cur, &e->d->nxt);
    return CKR_OK;
}

void engine_clear_new_wk(engine *e)
{
    if (e != NULL)
        mk_register_clear(&e->d->nxt);
}

CK_RV engine_derive_purpose_key(const engine *e, const char *purpose, uint8_t out[32])
{
    /* Purpose keys live under their own info prefix, so no label a caller
     * chooses can reproduce a blob subkey. */
    static const char prefix[] = "grep11/v1/purpose/";
    uint8_t info[sizeof(prefix) - 1 + 64];
    size_t plen;

    if (e == NULL || purpose == NULL || out == NULL)
        return CKR_ARGUMENTS_BAD;
    plen = strlen(purpose);
    if (plen == 0 || plen > 64)
        return CKR_ARGUMENTS_BAD;
    if (!e->d->cur.loaded)
        return CKR_IBM_WK_NOT_INITIALIZED;
    memcpy(info, prefix, sizeof(prefix) - 1);
    memcpy(info + sizeof(prefix) - 1, purpose, plen);
    return mk_hkdf(e->d->cur.wk, info, sizeof(prefix) - 1 + plen, out, 32);
}
