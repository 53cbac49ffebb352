/* Clear secret keys into sealed blobs (C_CreateObject with CKA_VALUE). A
 * clear key never travels in a template: the module asks the server for a
 * one-time AES-256 transport key (generated extractable, read once), wraps
 * the value locally with AES key wrap with padding (RFC 5649), and has the
 * server unwrap it with the caller's template. The transport key's blob and
 * value are dropped at once. Three RPCs; imports are rare. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_IMPORT 1024

static CK_RV transport_key(g11c_conn *c, g11c_buf *blob, uint8_t value[32])
{
    CK_MECHANISM_TYPE m = CKM_AES_KEY_GEN;
    g11c_mech gm = {.type = m};
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_ULONG len = 32;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},     {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_SENSITIVE, &no, 1},
        {CKA_EXTRACTABLE, &yes, 1},         {CKA_UNWRAP, &yes, 1},
    };
    CK_ATTRIBUTE_TYPE want = CKA_VALUE;
    CK_ATTRIBUTE *got = NULL;
    CK_ULONG ngot = 0;
    CK_RV rv = g11c_generate_key(c, &gm, t, 6, blob, NULL);
    if (rv != CKR_OK)
        return rv;
    rv = g11c_get_attribute_value(c, g11c_bytes_of(blob), &want, 1, &got, &ngot);
    if (rv == CKR_OK && (ngot != 1 || got[0].ulValueLen != 32))
        rv = CKR_DEVICE_ERROR;
    if (rv == CKR_OK)
        memcpy(value, got[0].pValue, 32);
    if (got && ngot == 1 && got[0].pValue)
        explicit_bzero(got[0].pValue, got[0].ulValueLen);
    g11c_attrs_free(got, ngot);
    return rv;
}

static CK_RV wrap_locally(const uint8_t kek[32], const CK_ATTRIBUTE *val, uint8_t *out, int *outlen)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    CK_RV rv = CKR_GENERAL_ERROR;
    if (!ctx)
        return CKR_HOST_MEMORY;
    EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_wrap_pad(), NULL, kek, NULL) == 1 &&
        EVP_EncryptUpdate(ctx, out, &n, val->pValue, (int)val->ulValueLen) == 1 &&
        EVP_EncryptFinal_ex(ctx, out + n, &m) == 1) {
        *outlen = n + m;
        rv = CKR_OK;
    }
    EVP_CIPHER_CTX_free(ctx);
    return rv;
}

CK_RV p11_import_secret(p11_state *st, p11_session *s, const CK_ATTRIBUTE *t, CK_ULONG n,
                        CK_OBJECT_HANDLE *h)
{
    g11c_conn *c = st->slots[s->slot_idx].conn;
    g11c_buf tblob = {0}, blob = {0}, sum = {0};
    uint8_t kek[32], wrapped[MAX_IMPORT + 16];
    int wlen = 0;
    CK_ATTRIBUTE *srv = NULL, *keep = NULL;
    CK_ULONG nsrv = 0, nkeep = 0;
    const CK_ATTRIBUTE *val = p11_tmpl_find(t, n, CKA_VALUE);
    if (!val || !p11_tmpl_find(t, n, CKA_KEY_TYPE))
        return CKR_TEMPLATE_INCOMPLETE;
    if (val->ulValueLen == 0 || val->ulValueLen > MAX_IMPORT)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    /* The server sees the template without the value (and without what
     * lives beside the blob). */
    CK_RV rv = p11_key_template_for_server(t, n, &srv, &nsrv);
    if (rv != CKR_OK)
        return rv;
    for (CK_ULONG i = 0; i < nsrv; i++)
        if (srv[i].type != CKA_VALUE)
            srv[nkeep++] = srv[i];
    keep = srv;
    if ((rv = transport_key(c, &tblob, kek)) != CKR_OK)
        goto out;
    if ((rv = wrap_locally(kek, val, wrapped, &wlen)) != CKR_OK)
        goto out;
    g11c_mech kwp = {.type = CKM_AES_KEY_WRAP_KWP};
    g11c_bytes none = {NULL, 0};
    rv = g11c_unwrap_key(c, p11_bytes(wrapped, (CK_ULONG)wlen), g11c_bytes_of(&tblob), none, &kwp,
                         keep, nkeep, &blob, &sum);
    if (rv == CKR_UNWRAPPING_KEY_HANDLE_INVALID || rv == CKR_WRAPPED_KEY_INVALID)
        rv = CKR_DEVICE_ERROR; /* our own transport step failed */
    if (rv == CKR_OK)
        rv = p11_key_from_blob(st, s, &blob, &sum, t, n, h);
out:
    explicit_bzero(kek, sizeof(kek));
    explicit_bzero(wrapped, sizeof(wrapped));
    free(srv);
    g11c_buf_free(&tblob);
    g11c_buf_free(&blob);
    g11c_buf_free(&sum);
    return rv;
}
