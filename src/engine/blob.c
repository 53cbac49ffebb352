/* Blob sealing and unsealing, format v1.
 *
 *   magic "GR11" | version u8 | type u8 | flags u16 | WKID[16]
 *   | attr_len u32 | attrs | nonce[28] | ct_len u32 | ct | tag[16]
 *
 * AEAD is AES-256-GCM; everything before the ciphertext is associated data.
 * The nonce is 16 bytes of per-blob key salt plus a 12-byte GCM IV: each blob
 * is sealed under HMAC-SHA256(subkey, salt), so the random-IV birthday bound
 * of GCM never applies to the billions of state blobs a busy domain seals. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "blob.h"
#include "buf.h"

static const uint8_t MAGIC[4] = {'G', 'R', '1', '1'};
#define BLOB_VERSION 1
#define SALT_LEN 16
#define IV_LEN 12
#define NONCE_LEN (SALT_LEN + IV_LEN)
#define TAG_LEN 16
#define HDR_LEN (4 + 1 + 1 + 2 + ENGINE_WKID_LEN + 4)
#define MIN_LEN (HDR_LEN + NONCE_LEN + 4 + TAG_LEN)

/* HMAC-SHA256(subkey of the blob type, salt): the blob's AEAD key. */
static CK_RV blob_aead_key(const mk_register *r, blob_type t, const uint8_t salt[SALT_LEN],
                           uint8_t key[32])
{
    const EVP_MAC_CTX *keyed = t == BLOB_KEY ? r->kdf_key_blob : r->kdf_state_blob;
    EVP_MAC_CTX *c;
    size_t l = 0;
    CK_RV rv = CKR_FUNCTION_FAILED;
    if (keyed == NULL) /* register not loaded */
        return CKR_FUNCTION_FAILED;
    if ((c = EVP_MAC_CTX_dup(keyed)) == NULL)
        return CKR_HOST_MEMORY;
    if (EVP_MAC_update(c, salt, SALT_LEN) == 1 && EVP_MAC_final(c, key, &l, 32) == 1 && l == 32)
        rv = CKR_OK;
    EVP_MAC_CTX_free(c);
    return rv;
}

/* One AES-256-GCM pass; enc selects direction. For decryption tag is input
 * and a mismatch returns CKR_ENCRYPTED_DATA_INVALID. */
static CK_RV blob_gcm(int enc, const uint8_t key[32], const uint8_t iv[IV_LEN], const uint8_t *aad,
                      size_t aadlen, const uint8_t *in, size_t inlen, uint8_t *out,
                      uint8_t tag[TAG_LEN])
{
    CK_RV rv = CKR_FUNCTION_FAILED;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l = 0;

    if (c == NULL)
        return CKR_HOST_MEMORY;
    if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv, enc) != 1)
        goto out;
    if (EVP_CipherUpdate(c, NULL, &l, aad, (int)aadlen) != 1)
        goto out;
    if (inlen > 0 && EVP_CipherUpdate(c, out, &l, in, (int)inlen) != 1)
        goto out;
    if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1)
        goto out;
    if (EVP_CipherFinal_ex(c, out + inlen, &l) != 1) {
        rv = enc ? CKR_FUNCTION_FAILED : CKR_ENCRYPTED_DATA_INVALID;
        goto out;
    }
    if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1)
        goto out;
    rv = CKR_OK;
out:
    EVP_CIPHER_CTX_free(c);
    return rv;
}

CK_RV blob_seal(const mk_register *r, blob_type type, const uint8_t *attrs, size_t alen,
                const uint8_t *payload, size_t plen, engine_buf *out)
{
    CK_RV rv = CKR_HOST_MEMORY;
    wbuf w;
    uint8_t nonce[NONCE_LEN], key[32], *ct, *tag;
    size_t aadlen, total;

    out->ptr = NULL;
    out->len = 0;
    if (!r->loaded)
        return CKR_IBM_WK_NOT_INITIALIZED;
    if (alen > BLOB_MAX_ATTRS || plen > BLOB_MAX_PAYLOAD)
        return CKR_DATA_LEN_RANGE;
    if (RAND_bytes(nonce, sizeof(nonce)) != 1)
        return CKR_DEVICE_ERROR;
    wbuf_init(&w, MIN_LEN + alen + plen);
    wbuf_put(&w, MAGIC, sizeof(MAGIC));
    wbuf_u8(&w, BLOB_VERSION);
    wbuf_u8(&w, (uint8_t)type);
    wbuf_u16(&w, 0);
    wbuf_put(&w, r->wkid, ENGINE_WKID_LEN);
    wbuf_u32(&w, (uint32_t)alen);
    wbuf_put(&w, attrs, alen);
    wbuf_put(&w, nonce, NONCE_LEN);
    wbuf_u32(&w, (uint32_t)plen);
    aadlen = w.len;
    /* One reservation for both, so neither pointer moves with a regrowth. */
    ct = wbuf_reserve(&w, plen + TAG_LEN);
    if (w.err)
        goto out;
    tag = ct + plen;
    if ((rv = blob_aead_key(r, type, nonce, key)) != CKR_OK)
        goto out;
    if ((rv = blob_gcm(1, key, nonce + SALT_LEN, w.p, aadlen, payload, plen, ct, tag)) != CKR_OK)
        goto out;
    out->ptr = wbuf_take(&w, &total);
    out->len = total;
    rv = out->ptr ? CKR_OK : CKR_HOST_MEMORY;
out:
    OPENSSL_cleanse(key, sizeof(key));
    wbuf_free(&w);
    return rv;
}

blob_err blob_unseal(const mk_register *r, blob_type expect, const uint8_t *blob, size_t len,
                     const uint8_t **attrs, size_t *alen, uint8_t **payload, size_t *plen)
{
    blob_err err = BLOB_E_MALFORMED;
    rbuf rd;
    const uint8_t *magic, *wkid, *a, *nonce, *ct, *tag;
    uint8_t version, type, key[32];
    uint16_t flags;
    size_t al, cl, aadlen;
    uint8_t *pt = NULL;

    *attrs = NULL;
    *alen = 0;
    *payload = NULL;
    *plen = 0;
    if (blob == NULL || len < MIN_LEN)
        return BLOB_E_MALFORMED;
    rbuf_init(&rd, blob, len);
    magic = rbuf_ptr(&rd, sizeof(MAGIC));
    version = rbuf_u8(&rd);
    type = rbuf_u8(&rd);
    flags = rbuf_u16(&rd);
    wkid = rbuf_ptr(&rd, ENGINE_WKID_LEN);
    if (rd.err || memcmp(magic, MAGIC, sizeof(MAGIC)) != 0)
        return BLOB_E_MALFORMED;
    if (version != BLOB_VERSION)
        return BLOB_E_VERSION;
    if (type != BLOB_KEY && type != BLOB_STATE)
        return BLOB_E_MALFORMED;
    if (type != (uint8_t)expect)
        return BLOB_E_TYPE;
    if (flags != 0)
        return BLOB_E_MALFORMED;
    if (!r->loaded || memcmp(wkid, r->wkid, ENGINE_WKID_LEN) != 0)
        return BLOB_E_WKID;
    a = rbuf_lv(&rd, BLOB_MAX_ATTRS, &al);
    nonce = rbuf_ptr(&rd, NONCE_LEN);
    ct = rbuf_lv(&rd, BLOB_MAX_PAYLOAD, &cl);
    aadlen = rd.off - cl;
    tag = rbuf_ptr(&rd, TAG_LEN);
    if (!rbuf_done(&rd))
        return BLOB_E_MALFORMED;
    pt = malloc(cl ? cl : 1);
    if (pt == NULL)
        return BLOB_E_NOMEM;
    if (blob_aead_key(r, (blob_type)type, nonce, key) != CKR_OK) {
        err = BLOB_E_NOMEM;
        goto out;
    }
    {
        uint8_t tagcopy[TAG_LEN];
        memcpy(tagcopy, tag, TAG_LEN);
        if (blob_gcm(0, key, nonce + SALT_LEN, blob, aadlen, ct, cl, pt, tagcopy) != CKR_OK) {
            err = BLOB_E_AUTH;
            goto out;
        }
    }
    *attrs = a;
    *alen = al;
    *payload = pt;
    *plen = cl;
    pt = NULL;
    err = BLOB_OK;
out:
    OPENSSL_cleanse(key, sizeof(key));
    engine_freezero(pt, cl);
    return err;
}

CK_RV blob_key_rv(blob_err err)
{
    switch (err) {
    case BLOB_OK:
        return CKR_OK;
    case BLOB_E_WKID:
        return CKR_IBM_WKID_MISMATCH;
    case BLOB_E_NOMEM:
        return CKR_HOST_MEMORY;
    default:
        return CKR_KEY_HANDLE_INVALID;
    }
}

CK_RV blob_state_rv(blob_err err)
{
    switch (err) {
    case BLOB_OK:
        return CKR_OK;
    case BLOB_E_WKID:
        return CKR_IBM_WKID_MISMATCH;
    case BLOB_E_NOMEM:
        return CKR_HOST_MEMORY;
    default:
        return CKR_SAVED_STATE_INVALID;
    }
}
