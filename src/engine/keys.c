/* GenerateKey, secret-key import (C_CreateObject), Get/SetAttributeValue
 * and RewrapKeyBlob: the key-object functions of engine.h. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "keyobj.h"
#include "mech.h"
#include "pkey.h"

/* Mechanisms without parameters accept none or an empty ParameterB. */
CK_RV mech_no_param(const engine_mech *m)
{
    if (m->kind == ENGINE_PARAM_NONE || (m->kind == ENGINE_PARAM_BYTES && m->bytes.len == 0))
        return CKR_OK;
    return CKR_MECHANISM_PARAM_INVALID;
}

static CK_RV keys_finish(const engine *e, const key_obj *k, engine_buf *key_blob,
                         engine_buf *checksum)
{
    CK_RV rv;
    if ((rv = key_seal(&e->d->cur, k, key_blob)) != CKR_OK)
        return rv;
    if (checksum != NULL && (rv = key_checksum(k, checksum)) != CKR_OK)
        engine_buf_free(key_blob);
    return rv;
}

/* Shared tail of every function that makes a secret key from bytes it has
 * in hand (generate, import, unwrap, derive). */
CK_RV keys_make_secret(const engine *e, const CK_ATTRIBUTE *tmpl_in, CK_ULONG n, const key_ctx *ctx,
                       const uint8_t *val, size_t vlen, engine_buf *key_blob, engine_buf *checksum)
{
    CK_RV rv;
    tmpl t;
    key_obj k;

    memset(&k, 0, sizeof(k));
    if ((rv = tmpl_parse(tmpl_in, n, &t)) != CKR_OK)
        goto out;
    if ((rv = policy_new_secret(e, &t, ctx, &k)) != CKR_OK)
        goto out;
    if (val == NULL || vlen != k.val_len) {
        rv = ctx->origin == ORIGIN_UNWRAP ? CKR_WRAPPED_KEY_INVALID : CKR_FUNCTION_FAILED;
        goto out;
    }
    k.secret = malloc(vlen);
    if (k.secret == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    memcpy(k.secret, val, vlen);
    k.vlen = vlen;
    rv = keys_finish(e, &k, key_blob, checksum);
out:
    key_obj_clear(&k);
    return rv;
}

CK_RV engine_generate_key(engine *e, const engine_mech *m, const CK_ATTRIBUTE *tmpl_in, CK_ULONG n,
                          engine_buf *key_blob, engine_buf *checksum)
{
    CK_RV rv;
    const mech_row *row;
    tmpl t;
    key_obj k;
    key_ctx ctx = {ORIGIN_GENERATE, 0, CK_UNAVAILABLE_INFORMATION, 0, NULL};

    memset(&k, 0, sizeof(k));
    if (e == NULL || m == NULL || key_blob == NULL || checksum == NULL)
        return CKR_ARGUMENTS_BAD;
    *key_blob = (engine_buf){NULL, 0};
    *checksum = (engine_buf){NULL, 0};
    row = mech_find(m->type);
    if (row != NULL && row->family == MF_PARAMGEN) {
        /* Domain parameters are public data: the DER comes back as the "key",
         * with an empty checksum (README "DSA and DH"). */
        if ((rv = mech_no_param(m)) != CKR_OK)
            return rv;
        return ffc_paramgen(e, (CK_KEY_TYPE)row->alg, tmpl_in, n, key_blob);
    }
    if (row == NULL || row->family != MF_KEYGEN)
        return CKR_MECHANISM_INVALID;
    if ((rv = mech_no_param(m)) != CKR_OK)
        return rv;
    ctx.mech = m->type;
    ctx.mech_ktype = (CK_KEY_TYPE)row->alg;
    if ((rv = tmpl_parse(tmpl_in, n, &t)) != CKR_OK)
        goto out;
    if ((rv = policy_new_secret(e, &t, &ctx, &k)) != CKR_OK)
        goto out;
    k.vlen = k.val_len;
    k.secret = malloc(k.vlen);
    if (k.secret == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    /* Keys come from the private DRBG, kept apart from the public one that
     * serves GenerateRandom. */
    if (RAND_priv_bytes(k.secret, (int)k.vlen) != 1) {
        rv = CKR_DEVICE_ERROR;
        goto out;
    }
    rv = keys_finish(e, &k, key_blob, checksum);
out:
    key_obj_clear(&k);
    return rv;
}

CK_RV engine_import_secret_key(engine *e, const CK_ATTRIBUTE *tmpl_in, CK_ULONG n,
                               engine_buf *key_blob, engine_buf *checksum)
{
    CK_RV rv;
    tmpl t;
    const CK_ATTRIBUTE *val, *cva;
    key_ctx ctx = {ORIGIN_IMPORT, 0, CK_UNAVAILABLE_INFORMATION, 0, NULL};
    key_obj probe;
    uint8_t cv[3];

    if (e == NULL || key_blob == NULL || checksum == NULL)
        return CKR_ARGUMENTS_BAD;
    *key_blob = (engine_buf){NULL, 0};
    *checksum = (engine_buf){NULL, 0};
    if ((rv = tmpl_parse(tmpl_in, n, &t)) != CKR_OK)
        return rv;
    val = tmpl_get(&t, CKA_VALUE);
    if (val == NULL)
        return CKR_TEMPLATE_INCOMPLETE;
    ctx.val_len = val->ulValueLen;
    if (ctx.val_len == 0)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    cva = tmpl_get(&t, CKA_CHECK_VALUE);
    if (cva != NULL) {
        /* PKCS #11: a check value given on creation must match the key. */
        if ((rv = policy_new_secret(e, &t, &ctx, &probe)) != CKR_OK)
            return rv;
        probe.secret = (uint8_t *)val->pValue;
        probe.vlen = val->ulValueLen;
        rv = key_check_value(&probe, cv);
        if (rv != CKR_OK)
            return rv;
        if (cva->ulValueLen > 3 || CRYPTO_memcmp(cv, cva->pValue, cva->ulValueLen) != 0)
            return CKR_ATTRIBUTE_VALUE_INVALID;
    }
    return keys_make_secret(e, tmpl_in, n, &ctx, val->pValue, val->ulValueLen, key_blob, checksum);
}

/* One attribute of a key object for GetAttributeValue. Returns CKR_OK,
 * CKR_ATTRIBUTE_SENSITIVE or CKR_ATTRIBUTE_TYPE_INVALID. */
static CK_RV keys_attr_value(const key_obj *k, CK_ATTRIBUTE_TYPE type, uint8_t *buf, size_t *len)
{
    const attr_def *d = attr_find(type, NULL);
    CK_ULONG v;

    if (type == CKA_VALUE) {
        if ((k->flags & KF_SENSITIVE) || !(k->flags & KF_EXTRACTABLE))
            return CKR_ATTRIBUTE_SENSITIVE;
        memcpy(buf, k->secret, k->vlen);
        *len = k->vlen;
        return CKR_OK;
    }
    if (type == CKA_CHECK_VALUE) {
        *len = 3;
        return key_check_value(k, buf) == CKR_OK ? CKR_OK : CKR_ATTRIBUTE_TYPE_INVALID;
    }
    if (d == NULL || (d->role != AR_BOUND && d->role != AR_ENGINE))
        return CKR_ATTRIBUTE_TYPE_INVALID;
    if (d->kind == AK_MECHS)
        return key_allowed_value(k, buf, KEY_ATTR_BUF, len);
    if (d->kind == AK_BOOL) {
        buf[0] = (k->flags & d->flag) ? CK_TRUE : CK_FALSE;
        *len = 1;
        return CKR_OK;
    }
    switch (type) {
    case CKA_CLASS:
        v = k->cls;
        break;
    case CKA_KEY_TYPE:
        v = k->ktype;
        break;
    case CKA_VALUE_LEN:
        v = k->val_len;
        break;
    default:
        v = k->gen_mech;
        break;
    }
    memcpy(buf, &v, sizeof(v));
    *len = sizeof(v);
    return CKR_OK;
}

void engine_attrs_free(CK_ATTRIBUTE *attrs, CK_ULONG n)
{
    if (attrs == NULL)
        return;
    for (CK_ULONG i = 0; i < n; i++)
        if (attrs[i].pValue != NULL)
            engine_freezero(attrs[i].pValue, attrs[i].ulValueLen == CK_UNAVAILABLE_INFORMATION
                                                 ? 0
                                                 : attrs[i].ulValueLen);
    free(attrs);
}

CK_RV engine_get_attribute_value(engine *e, engine_bytes object, const CK_ATTRIBUTE_TYPE *types,
                                 CK_ULONG n, CK_ATTRIBUTE **out, CK_ULONG *nout)
{
    CK_RV rv, overall = CKR_OK;
    key_obj k;
    CK_ATTRIBUTE *res = NULL;
    uint8_t tmp[KEY_ATTR_BUF];

    if (e == NULL || out == NULL || nout == NULL || (n > 0 && types == NULL) || n > 1024)
        return CKR_ARGUMENTS_BAD;
    *out = NULL;
    *nout = 0;
    memset(&k, 0, sizeof(k));
    if (pkey_is_blob(object) && (rv = key_unseal(e, object, &k)) != CKR_OK)
        return rv == CKR_KEY_HANDLE_INVALID ? CKR_OBJECT_HANDLE_INVALID : rv;
    if (!pkey_is_blob(object) || k.cls != CKO_SECRET_KEY) {
        /* Public key bytes, or a private key: only public values come out. */
        pkey pk;
        key_obj_clear(&k);
        if ((rv = pkey_load_any(e, object, &pk)) != CKR_OK)
            return rv == CKR_KEY_HANDLE_INVALID ? CKR_OBJECT_HANDLE_INVALID : rv;
        rv = pkey_get_attrs(&pk, types, n, out, nout);
        pkey_clear(&pk);
        return rv;
    }
    res = calloc(n ? n : 1, sizeof(*res));
    if (res == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    for (CK_ULONG i = 0; i < n; i++) {
        size_t len = 0;
        CK_RV one = keys_attr_value(&k, types[i], tmp, &len);
        res[i].type = types[i];
        if (one != CKR_OK) {
            res[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
            /* PKCS #11 lets either code win when both occur; sensitivity is the
             * more useful thing to report. */
            if (overall != CKR_ATTRIBUTE_SENSITIVE)
                overall = one;
            continue;
        }
        res[i].pValue = malloc(len ? len : 1);
        if (res[i].pValue == NULL) {
            rv = CKR_HOST_MEMORY;
            goto out;
        }
        memcpy(res[i].pValue, tmp, len);
        res[i].ulValueLen = len;
    }
    *out = res;
    *nout = n;
    res = NULL;
    rv = overall;
out:
    OPENSSL_cleanse(tmp, sizeof(tmp));
    engine_attrs_free(res, n);
    key_obj_clear(&k);
    return rv;
}

CK_RV engine_set_attribute_value(engine *e, engine_bytes object, const CK_ATTRIBUTE *tmpl_in,
                                 CK_ULONG n, engine_buf *new_object)
{
    CK_RV rv;
    tmpl t;
    key_obj k;

    if (e == NULL || new_object == NULL)
        return CKR_ARGUMENTS_BAD;
    *new_object = (engine_buf){NULL, 0};
    if (!pkey_is_blob(object))
        return pkey_set_attrs(e, object, tmpl_in, n, new_object);
    if ((rv = key_unseal(e, object, &k)) != CKR_OK)
        return rv == CKR_KEY_HANDLE_INVALID ? CKR_OBJECT_HANDLE_INVALID : rv;
    if ((rv = tmpl_parse(tmpl_in, n, &t)) != CKR_OK)
        goto out;
    if ((rv = policy_set_attrs(e, &t, &k)) != CKR_OK)
        goto out;
    rv = key_seal(&e->d->cur, &k, new_object);
out:
    key_obj_clear(&k);
    return rv;
}

CK_RV engine_rewrap_key_blob(engine *e, engine_bytes blob, engine_buf *new_blob)
{
    CK_RV rv;
    key_obj k;

    if (e == NULL || new_blob == NULL)
        return CKR_ARGUMENTS_BAD;
    *new_blob = (engine_buf){NULL, 0};
    if (!e->d->nxt.loaded)
        return CKR_IBM_WK_NOT_INITIALIZED;
    if (!pkey_is_blob(blob))
        return pkey_rewrap_public(e, blob, new_blob);
    rv = key_unseal(e, blob, &k);
    /* Rotation is resumable: a blob already under the new key is re-sealed
     * again rather than refused. */
    if (rv == CKR_IBM_WKID_MISMATCH)
        rv = key_unseal_reg(&e->d->nxt, blob, &k);
    if (rv != CKR_OK)
        return rv;
    rv = key_seal(&e->d->nxt, &k, new_blob);
    key_obj_clear(&k);
    return rv;
}
