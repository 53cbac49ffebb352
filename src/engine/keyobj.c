/* Key objects <-> sealed key blobs. The bound attributes are encoded as
 * type u32 | len u16 | value records (integers u64 big-endian, booleans one
 * byte) in a fixed order, and decoded strictly: every record known, each
 * exactly once, nothing left over. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "blob.h"
#include "buf.h"
#include "keyobj.h"

static const struct {
    CK_ATTRIBUTE_TYPE type;
    uint32_t flag;
} BOOLS[] = {
    {CKA_ENCRYPT, KF_ENCRYPT},
    {CKA_DECRYPT, KF_DECRYPT},
    {CKA_SIGN, KF_SIGN},
    {CKA_VERIFY, KF_VERIFY},
    {CKA_WRAP, KF_WRAP},
    {CKA_UNWRAP, KF_UNWRAP},
    {CKA_DERIVE, KF_DERIVE},
    {CKA_SENSITIVE, KF_SENSITIVE},
    {CKA_EXTRACTABLE, KF_EXTRACTABLE},
    {CKA_ALWAYS_SENSITIVE, KF_ALWAYS_SENSITIVE},
    {CKA_NEVER_EXTRACTABLE, KF_NEVER_EXTRACTABLE},
    {CKA_LOCAL, KF_LOCAL},
    {CKA_TRUSTED, KF_TRUSTED},
    {CKA_WRAP_WITH_TRUSTED, KF_WRAP_WITH_TRUSTED},
    {CKA_MODIFIABLE, KF_MODIFIABLE},
    {CKA_IBM_ATTRBOUND, KF_ATTRBOUND},
};
#define NBOOLS (sizeof(BOOLS) / sizeof(BOOLS[0]))
static const CK_ATTRIBUTE_TYPE ULONGS[] = {CKA_CLASS, CKA_KEY_TYPE, CKA_VALUE_LEN,
                                           CKA_KEY_GEN_MECHANISM};
#define NULONGS (sizeof(ULONGS) / sizeof(ULONGS[0]))
#define MAX_SECRET_LEN 1024u

uint32_t key_bool_flag(CK_ATTRIBUTE_TYPE type)
{
    for (size_t i = 0; i < NBOOLS; i++)
        if (BOOLS[i].type == type)
            return BOOLS[i].flag;
    return 0;
}

void key_obj_clear(key_obj *k)
{
    if (k == NULL)
        return;
    engine_freezero(k->secret, k->vlen);
    memset(k, 0, sizeof(*k));
}

static CK_ULONG *key_ulong_field(key_obj *k, CK_ATTRIBUTE_TYPE t)
{
    switch (t) {
    case CKA_CLASS:
        return &k->cls;
    case CKA_KEY_TYPE:
        return &k->ktype;
    case CKA_VALUE_LEN:
        return &k->val_len;
    default:
        return &k->gen_mech;
    }
}

/* Optional records of public/private keys: the parameters policy and the
 * algorithms depend on (DESIGN §3: EC params / modulus bits / parameter set). */
static const CK_ATTRIBUTE_TYPE XULONGS[] = {CKA_MODULUS_BITS, CKA_PARAMETER_SET};

static CK_ULONG *key_xulong(key_obj *k, CK_ATTRIBUTE_TYPE t)
{
    return t == CKA_MODULUS_BITS ? &k->mod_bits : &k->param_set;
}

void key_attrs_encode(const key_obj *k, wbuf *w)
{
    for (size_t i = 0; i < 2; i++) {
        CK_ULONG v = *key_xulong((key_obj *)k, XULONGS[i]);
        if (v == 0)
            continue;
        wbuf_u32(w, (uint32_t)XULONGS[i]);
        wbuf_u16(w, 8);
        wbuf_u64(w, v);
    }
    if (k->params_type != 0) {
        wbuf_u32(w, (uint32_t)k->params_type);
        wbuf_u16(w, (uint16_t)k->params_len);
        wbuf_put(w, k->params, k->params_len);
    }
    /* Blobs sealed before the list existed simply lack the record. */
    if (k->n_allowed > 0) {
        wbuf_u32(w, (uint32_t)CKA_ALLOWED_MECHANISMS);
        wbuf_u16(w, (uint16_t)(8 * k->n_allowed));
        for (size_t i = 0; i < k->n_allowed; i++)
            wbuf_u64(w, k->allowed[i]);
    }
    for (size_t i = 0; i < NULONGS; i++) {
        wbuf_u32(w, (uint32_t)ULONGS[i]);
        wbuf_u16(w, 8);
        wbuf_u64(w, *key_ulong_field((key_obj *)k, ULONGS[i]));
    }
    for (size_t i = 0; i < NBOOLS; i++) {
        wbuf_u32(w, (uint32_t)BOOLS[i].type);
        wbuf_u16(w, 1);
        wbuf_u8(w, (k->flags & BOOLS[i].flag) ? 1 : 0);
    }
}

CK_RV key_attrs_decode(const uint8_t *p, size_t len, key_obj *k)
{
    rbuf r;
    uint32_t seen_u = 0, seen_b = 0;

    rbuf_init(&r, p, len);
    while (rbuf_left(&r) > 0) {
        uint32_t type = rbuf_u32(&r);
        uint16_t l = rbuf_u16(&r);
        size_t i;
        bool found = false;
        if (type == CKA_MODULUS_BITS || type == CKA_PARAMETER_SET) {
            CK_ULONG *f = key_xulong(k, type);
            if (l != 8 || *f != 0)
                return CKR_KEY_HANDLE_INVALID;
            *f = (CK_ULONG)rbuf_u64(&r);
            if (*f == 0 || r.err)
                return CKR_KEY_HANDLE_INVALID;
            continue;
        }
        if (type == CKA_EC_PARAMS || type == CKA_IBM_PQC_PARAMS) {
            if (k->params_type != 0 || l == 0 || l > sizeof(k->params) ||
                !rbuf_copy(&r, k->params, l))
                return CKR_KEY_HANDLE_INVALID;
            k->params_type = type;
            k->params_len = l;
            continue;
        }
        if (type == CKA_ALLOWED_MECHANISMS) {
            if (k->n_allowed != 0 || l == 0 || l % 8 != 0 || l / 8 > KEY_MAX_ALLOWED_MECHS)
                return CKR_KEY_HANDLE_INVALID;
            for (k->n_allowed = 0; k->n_allowed < l / 8u; k->n_allowed++)
                k->allowed[k->n_allowed] = (CK_MECHANISM_TYPE)rbuf_u64(&r);
            if (r.err)
                return CKR_KEY_HANDLE_INVALID;
            continue;
        }
        for (i = 0; i < NULONGS && !found; i++) {
            if (ULONGS[i] != type)
                continue;
            found = true;
            if (l != 8 || (seen_u & (1u << i)))
                return CKR_KEY_HANDLE_INVALID;
            seen_u |= 1u << i;
            *key_ulong_field(k, type) = (CK_ULONG)rbuf_u64(&r);
        }
        for (i = 0; i < NBOOLS && !found; i++) {
            uint8_t v;
            if (BOOLS[i].type != type)
                continue;
            found = true;
            if (l != 1 || (seen_b & (1u << i)))
                return CKR_KEY_HANDLE_INVALID;
            seen_b |= 1u << i;
            v = rbuf_u8(&r);
            if (v > 1)
                return CKR_KEY_HANDLE_INVALID;
            if (v)
                k->flags |= BOOLS[i].flag;
        }
        if (!found || r.err)
            return CKR_KEY_HANDLE_INVALID;
    }
    if (seen_u != (1u << NULONGS) - 1 || seen_b != (1u << NBOOLS) - 1)
        return CKR_KEY_HANDLE_INVALID;
    return CKR_OK;
}

CK_RV key_allowed_value(const key_obj *k, uint8_t *buf, size_t cap, size_t *len)
{
    size_t n = k->n_allowed * sizeof(CK_MECHANISM_TYPE);
    if (n > cap)
        return CKR_ATTRIBUTE_TYPE_INVALID;
    if (n)
        memcpy(buf, k->allowed, n);
    *len = n;
    return CKR_OK;
}

CK_RV key_seal(const mk_register *r, const key_obj *k, engine_buf *blob)
{
    CK_RV rv;
    wbuf w;
    wbuf_init(&w, BLOB_MAX_ATTRS);
    key_attrs_encode(k, &w);
    if (w.err) {
        wbuf_free(&w);
        return CKR_HOST_MEMORY;
    }
    rv = blob_seal(r, BLOB_KEY, w.p, w.len, k->secret, k->vlen, blob);
    wbuf_free(&w);
    return rv;
}

CK_RV key_unseal_reg(const mk_register *r, engine_bytes blob, key_obj *k)
{
    CK_RV rv;
    blob_err be;
    const uint8_t *attrs;
    size_t alen;

    memset(k, 0, sizeof(*k));
    be = blob_unseal(r, BLOB_KEY, blob.ptr, blob.len, &attrs, &alen, &k->secret, &k->vlen);
    if (be != BLOB_OK)
        return blob_key_rv(be);
    /* The blob authenticated, so a decode failure means a foreign writer with
     * our key: treat it like any damaged blob. */
    rv = key_attrs_decode(attrs, alen, k);
    if (rv == CKR_OK && k->cls == CKO_SECRET_KEY) {
        if (k->vlen != k->val_len || k->vlen == 0 || k->vlen > MAX_SECRET_LEN ||
            k->params_type != 0 || k->mod_bits != 0 || k->param_set != 0)
            rv = CKR_KEY_HANDLE_INVALID;
    } else if (rv == CKR_OK && k->cls == CKO_PRIVATE_KEY) {
        /* The payload is checked against these attributes by pkey_load_private. */
        if (k->vlen == 0 || k->vlen > KEY_MAX_PAYLOAD || k->val_len != 0)
            rv = CKR_KEY_HANDLE_INVALID;
    } else if (rv == CKR_OK) {
        rv = CKR_KEY_HANDLE_INVALID;
    }
    if (rv != CKR_OK)
        key_obj_clear(k);
    return rv;
}

CK_RV key_unseal(const engine *e, engine_bytes blob, key_obj *k)
{
    return key_unseal_reg(&e->d->cur, blob, k);
}

/* ECB of a zero block under the key; AES and DES3 define their check value so. */
static CK_RV key_cv_cipher(const EVP_CIPHER *c, const uint8_t *key, size_t bs, uint8_t cv[3])
{
    CK_RV rv = CKR_FUNCTION_FAILED;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t zero[16] = {0}, out[32];
    int l = 0;

    if (ctx == NULL)
        return CKR_HOST_MEMORY;
    if (EVP_EncryptInit_ex(ctx, c, NULL, key, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
        EVP_EncryptUpdate(ctx, out, &l, zero, (int)bs) != 1 || l != (int)bs)
        goto out;
    memcpy(cv, out, 3);
    rv = CKR_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(out, sizeof(out));
    return rv;
}

CK_RV key_check_value(const key_obj *k, uint8_t cv[3])
{
    uint8_t des[24], md[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    CK_RV rv;

    switch (k->ktype) {
    case CKK_AES:
        switch (k->vlen) {
        case 16:
            return key_cv_cipher(EVP_aes_128_ecb(), k->secret, 16, cv);
        case 24:
            return key_cv_cipher(EVP_aes_192_ecb(), k->secret, 16, cv);
        case 32:
            return key_cv_cipher(EVP_aes_256_ecb(), k->secret, 16, cv);
        }
        return CKR_KEY_SIZE_RANGE;
    case CKK_DES2:
    case CKK_DES3:
        if (k->vlen != 16 && k->vlen != 24)
            return CKR_KEY_SIZE_RANGE;
        memcpy(des, k->secret, 16);
        memcpy(des + 16, k->vlen == 24 ? k->secret + 16 : k->secret, 8);
        rv = key_cv_cipher(EVP_des_ede3_ecb(), des, 8, cv);
        OPENSSL_cleanse(des, sizeof(des));
        return rv;
    case CKK_GENERIC_SECRET:
        /* PKCS #11 3.0: first three bytes of the SHA-1 of the value. */
        if (EVP_Digest(k->secret, k->vlen, md, &ml, EVP_sha1(), NULL) != 1)
            return CKR_FUNCTION_FAILED;
        memcpy(cv, md, 3);
        return CKR_OK;
    default:
        return CKR_KEY_TYPE_INCONSISTENT;
    }
}

CK_RV key_checksum(const key_obj *k, engine_buf *checksum)
{
    CK_RV rv;
    uint8_t cv[3];
    uint32_t bits = (uint32_t)(k->vlen * 8);

    if ((rv = key_check_value(k, cv)) != CKR_OK)
        return rv;
    if ((rv = ebuf_alloc(checksum, 7)) != CKR_OK)
        return rv;
    memcpy(checksum->ptr, cv, 3);
    checksum->ptr[3] = (uint8_t)(bits >> 24);
    checksum->ptr[4] = (uint8_t)(bits >> 16);
    checksum->ptr[5] = (uint8_t)(bits >> 8);
    checksum->ptr[6] = (uint8_t)bits;
    return CKR_OK;
}
