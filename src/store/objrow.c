/* Object rows: what goes into the sealed/attrs columns and the index rows,
 * and how a row comes back as a store_object. In an authenticated keystore
 * both columns are AES-256-GCM under the keystore's AEAD key with the
 * keystore, object and version as associated data, so a row moved to
 * another object, another keystore or another version fails to open. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "codec.h"
#include "internal.h"
#include "sql.h"

CK_RV objrow_check_blob(const unsigned char *blob, size_t len)
{
    if (len > STORE_MAX_BLOB)
        return CKR_DATA_LEN_RANGE;
    /* Data objects and certificates have attributes but no sealed blob:
     * an empty blob is a valid object. */
    if (blob == NULL && len > 0)
        return CKR_ARGUMENTS_BAD;
    return CKR_OK;
}

void objrow_cols_free(obj_cols *c)
{
    crypt_freezero(c->sealed, c->sealed_len);
    crypt_freezero(c->attrs, c->attrs_len);
    memset(c, 0, sizeof(*c));
}

static CK_RV dup_bytes(const unsigned char *p, size_t n, unsigned char **out)
{
    *out = OPENSSL_malloc(n ? n : 1);
    if (*out == NULL)
        return CKR_HOST_MEMORY;
    if (n > 0)
        memcpy(*out, p, n);
    return CKR_OK;
}

CK_RV objrow_encode(const ks_ctx *k, const store_uuid *id, uint64_t version,
                    const unsigned char *blob, size_t blob_len, const CK_ATTRIBUTE *attrs,
                    CK_ULONG nattrs, obj_cols *out)
{
    unsigned char *ser = NULL;
    size_t ser_len = 0;
    CK_RV rv;

    memset(out, 0, sizeof(*out));
    rv = codec_attrs_encode(attrs, nattrs, &ser, &ser_len);
    if (rv != CKR_OK)
        return rv;
    if (k->prot) {
        rv = crypt_seal(k->keys.aead, CRYPT_FIELD_BLOB, &k->id, id, version, blob, blob_len,
                        &out->sealed, &out->sealed_len);
        if (rv == CKR_OK)
            rv = crypt_seal(k->keys.aead, CRYPT_FIELD_ATTRS, &k->id, id, version, ser, ser_len,
                            &out->attrs, &out->attrs_len);
    } else {
        rv = dup_bytes(blob, blob_len, &out->sealed);
        out->sealed_len = blob_len;
        if (rv == CKR_OK) {
            rv = dup_bytes(ser, ser_len, &out->attrs);
            out->attrs_len = ser_len;
        }
    }
    OPENSSL_cleanse(ser, ser_len);
    free(ser);
    if (rv == CKR_OK)
        out->used = quota_object_bytes(out->sealed_len, out->attrs_len, nattrs);
    else
        objrow_cols_free(out);
    return rv;
}

void objrow_clear(store_object *o)
{
    if (o->blob != NULL) {
        OPENSSL_cleanse(o->blob, o->blob_len);
        free(o->blob);
    }
    codec_attrs_free(o->attrs, o->nattrs);
    memset(o, 0, sizeof(*o));
}

/* Column bytes as stored, or opened when the keystore is authenticated.
 * Returns a malloc'd copy either way. */
static CK_RV open_col(const ks_ctx *k, int field, const store_uuid *id, uint64_t version,
                      const unsigned char *p, size_t n, unsigned char **out, size_t *outlen)
{
    unsigned char *pt = NULL;
    size_t ptlen = 0;
    CK_RV rv;

    if (!k->prot) {
        pt = (unsigned char *)p;
        ptlen = n;
    } else {
        rv = crypt_open(k->keys.aead, field, &k->id, id, version, p, n, &pt, &ptlen);
        if (rv != CKR_OK)
            return rv;
    }
    *out = malloc(ptlen ? ptlen : 1);
    rv = *out == NULL ? CKR_HOST_MEMORY : CKR_OK;
    if (rv == CKR_OK && ptlen > 0)
        memcpy(*out, pt, ptlen);
    *outlen = ptlen;
    if (k->prot)
        crypt_freezero(pt, ptlen);
    return rv;
}

CK_RV objrow_decode(const ks_ctx *k, db_ctx *db, db_rows *r, store_object *out)
{
    CK_RV rv = CKR_IBM_GREP11_DBINTERNAL;
    const unsigned char *p;
    unsigned char *ser = NULL;
    size_t n, ser_len = 0;
    int64_t version;

    memset(out, 0, sizeof(*out));
    p = db->be->col_blob(r, OBJ_ID, &n);
    version = db->be->col_int(r, OBJ_VERSION);
    if (n != sizeof(out->uuid.b) || version < 1)
        goto out;
    memcpy(out->uuid.b, p, n);
    out->version = (uint64_t)version;
    out->created_us = db->be->col_int(r, OBJ_CREATED);
    out->updated_us = db->be->col_int(r, OBJ_UPDATED);
    p = db->be->col_blob(r, OBJ_BLOB, &n);
    rv = open_col(k, CRYPT_FIELD_BLOB, &out->uuid, out->version, p, n, &out->blob, &out->blob_len);
    if (rv != CKR_OK)
        goto out;
    if (objrow_check_blob(out->blob, out->blob_len) != CKR_OK) {
        rv = CKR_IBM_GREP11_DBINTERNAL;
        goto out;
    }
    p = db->be->col_blob(r, OBJ_ATTRS, &n);
    rv = open_col(k, CRYPT_FIELD_ATTRS, &out->uuid, out->version, p, n, &ser, &ser_len);
    if (rv != CKR_OK)
        goto out;
    rv = codec_attrs_decode(ser, ser_len, &out->attrs, &out->nattrs);
out:
    if (ser != NULL) {
        OPENSSL_cleanse(ser, ser_len);
        free(ser);
    }
    if (rv != CKR_OK)
        objrow_clear(out);
    return rv;
}

CK_RV objrow_index(db_ctx *db, const ks_ctx *k, const store_uuid *id, const CK_ATTRIBUTE *attrs,
                   CK_ULONG nattrs, bool replace)
{
    unsigned char mac[CRYPT_KEY_LEN];
    db_arg a[4];
    CK_RV rv = CKR_OK;

    a[0] = DB_UUID(&k->id);
    a[1] = DB_UUID(id);
    if (replace)
        rv = db_exec(db, SQL_ATTR_DELETE, sql_text[SQL_ATTR_DELETE], a, 2, NULL);
    for (CK_ULONG i = 0; i < nattrs && rv == CKR_OK; i++) {
        rv = crypt_index(k->keys.index, attrs[i].type, attrs[i].pValue, attrs[i].ulValueLen, mac);
        if (rv != CKR_OK)
            break;
        a[2] = DB_I((int64_t)(uint64_t)attrs[i].type);
        a[3] = DB_B(mac, sizeof(mac));
        rv = db_exec(db, SQL_ATTR_INSERT, sql_text[SQL_ATTR_INSERT], a, 4, NULL);
    }
    OPENSSL_cleanse(mac, sizeof(mac));
    return rv;
}

void store_object_free(store_object *obj)
{
    if (obj == NULL)
        return;
    objrow_clear(obj);
    free(obj);
}

void store_objects_free(store_object *objs, size_t n)
{
    if (objs == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        objrow_clear(&objs[i]);
    free(objs);
}
