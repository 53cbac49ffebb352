/* Clear keys into sealed blobs (C_CreateObject with the key's values): a
 * secret key's CKA_VALUE, or a private key as PKCS #8 (pkder.c). A clear
 * key never travels in a template: the module asks the server for a
 * one-time AES-256 transport key (generated extractable, read once), wraps
 * the value locally with AES key wrap with padding (RFC 5649), and has the
 * server unwrap it with the caller's template. The transport key's blob and
 * value are dropped at once. Three RPCs; imports are rare. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_IMPORT (64u * 1024u)

/* Key material: never in the template the server sees (the wrapped bytes
 * carry it). */
static const CK_ATTRIBUTE_TYPE values[] = {
    CKA_VALUE,    CKA_MODULUS,       CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
    CKA_PRIME_2,  CKA_EXPONENT_1,    CKA_EXPONENT_2,      CKA_COEFFICIENT,      CKA_EC_PARAMS,
    CKA_EC_POINT, CKA_PARAMETER_SET, CKA_PUBLIC_KEY_INFO,
};

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

static CK_RV wrap_locally(const uint8_t kek[32], const uint8_t *in, size_t len, uint8_t *out,
                          int *outlen)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    CK_RV rv = CKR_GENERAL_ERROR;
    if (!ctx)
        return CKR_HOST_MEMORY;
    EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_wrap_pad(), NULL, kek, NULL) == 1 &&
        EVP_EncryptUpdate(ctx, out, &n, in, (int)len) == 1 &&
        EVP_EncryptFinal_ex(ctx, out + n, &m) == 1) {
        *outlen = n + m;
        rv = CKR_OK;
    }
    EVP_CIPHER_CTX_free(ctx);
    return rv;
}

/* Clear bytes in, a sealed blob out (the template already without values
 * and local attributes); sum: UnwrapKey's checksum (a secret key's check
 * value, a private key's public key). */
static CK_RV import_bytes(g11c_conn *c, const uint8_t *clear, size_t len, const CK_ATTRIBUTE *t,
                          CK_ULONG n, g11c_buf *blob, g11c_buf *sum)
{
    g11c_buf tblob = {0};
    uint8_t kek[32];
    int wlen = 0;
    uint8_t *wrapped = malloc(len + 16);
    if (!wrapped)
        return CKR_HOST_MEMORY;
    CK_RV rv = transport_key(c, &tblob, kek);
    if (rv == CKR_OK)
        rv = wrap_locally(kek, clear, len, wrapped, &wlen);
    if (rv == CKR_OK) {
        g11c_mech kwp = {.type = CKM_AES_KEY_WRAP_KWP};
        g11c_bytes none = {NULL, 0};
        rv = g11c_unwrap_key(c, p11_bytes(wrapped, (CK_ULONG)wlen), g11c_bytes_of(&tblob), none,
                             &kwp, t, n, blob, sum);
        if (rv == CKR_UNWRAPPING_KEY_HANDLE_INVALID)
            rv = CKR_DEVICE_ERROR; /* our own transport step failed */
        else if (rv == CKR_WRAPPED_KEY_INVALID || rv == CKR_WRAPPED_KEY_LEN_RANGE)
            rv = CKR_ATTRIBUTE_VALUE_INVALID; /* the values do not make a key */
    }
    explicit_bzero(kek, sizeof(kek));
    explicit_bzero(wrapped, len + 16);
    free(wrapped);
    g11c_buf_free(&tblob);
    return rv;
}

/* The template the server sees: no values, nothing kept beside the blob,
 * the module's defaults for a key of class cls (defaults.c). */
static CK_RV server_template(CK_OBJECT_CLASS cls, const CK_ATTRIBUTE *t, CK_ULONG n,
                             CK_ATTRIBUTE **out, CK_ULONG *nout)
{
    CK_ULONG k = 0;
    CK_RV rv = p11_new_key_template(cls, t, n, out, nout);
    if (rv != CKR_OK)
        return rv;
    for (CK_ULONG i = 0; i < *nout; i++) {
        int value = 0;
        for (size_t j = 0; j < sizeof(values) / sizeof(values[0]); j++)
            value |= (*out)[i].type == values[j];
        if (!value)
            (*out)[k++] = (*out)[i];
    }
    *nout = k;
    return CKR_OK;
}

CK_RV p11_import_secret(p11_state *st, p11_session *s, const CK_ATTRIBUTE *t, CK_ULONG n,
                        CK_OBJECT_HANDLE *h)
{
    g11c_buf blob = {0}, sum = {0};
    CK_ATTRIBUTE *srv = NULL;
    CK_ULONG nsrv = 0;
    const CK_ATTRIBUTE *val = p11_tmpl_find(t, n, CKA_VALUE);
    if (!val || !p11_tmpl_find(t, n, CKA_KEY_TYPE))
        return CKR_TEMPLATE_INCOMPLETE;
    if (val->ulValueLen == 0 || val->ulValueLen > 1024)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    CK_RV rv = server_template(CKO_SECRET_KEY, t, n, &srv, &nsrv);
    if (rv == CKR_OK)
        rv = import_bytes(st->slots[s->slot_idx].conn, val->pValue, val->ulValueLen, srv, nsrv,
                          &blob, &sum);
    if (rv == CKR_OK)
        rv = p11_key_from_blob(st, s, &blob, &sum, t, n, h);
    free(srv);
    g11c_buf_free(&blob);
    g11c_buf_free(&sum);
    return rv;
}

CK_RV p11_import_private(p11_state *st, p11_session *s, const CK_ATTRIBUTE *t, CK_ULONG n,
                         CK_OBJECT_HANDLE *h)
{
    g11c_buf der = {0}, blob = {0}, pub = {0};
    CK_ATTRIBUTE *srv = NULL;
    CK_ULONG nsrv = 0;
    CK_RV rv = p11_pkder(t, n, 1, &der);
    if (rv == CKR_OK && der.len > MAX_IMPORT)
        rv = CKR_ATTRIBUTE_VALUE_INVALID;
    if (rv == CKR_OK)
        rv = server_template(CKO_PRIVATE_KEY, t, n, &srv, &nsrv);
    if (rv == CKR_OK)
        rv = import_bytes(st->slots[s->slot_idx].conn, der.ptr, der.len, srv, nsrv, &blob, &pub);
    if (rv == CKR_OK)
        rv = p11_key_from_blob(st, s, &blob, NULL, t, n, h);
    free(srv);
    g11c_buf_free(&der); /* zeroized */
    g11c_buf_free(&blob);
    g11c_buf_free(&pub);
    return rv;
}
