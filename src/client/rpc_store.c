/* libgrep11: grep11.Store calls (keystores and token objects). Object
 * writes carry a RequestID (grep11_client.h) and may therefore be resent
 * after an uncertain failure (resend.h). */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grep11/wire.h"
#include "internal.h"
#include "store.pb-c.h"

#define STORE_CALL(c, name, req, rtype, rdesc, resp)                                               \
    rtype *resp = NULL;                                                                            \
    CK_RV rv =                                                                                     \
        g11c_call((c), "/grep11.Store/" name, &(req).base, &(rdesc), (ProtobufCMessage **)&resp);  \
    if (rv != CKR_OK)                                                                              \
        goto out;

/* A write sent with a RequestID: resent after an uncertain failure. */
#define STORE_WRITE(c, name, req, rtype, rdesc, resp)                                              \
    rtype *resp = NULL;                                                                            \
    CK_RV rv = g11c_call_keyed((c), "/grep11.Store/" name, &(req).base, 1, &(rdesc),               \
                               (ProtobufCMessage **)&resp);                                        \
    if (rv != CKR_OK)                                                                              \
        goto out;

static ProtobufCBinaryData uuid_bin(const uint8_t id[16])
{
    ProtobufCBinaryData b = {16, (uint8_t *)id};
    return b;
}

CK_RV g11c_request_id_new(uint8_t id[G11C_REQUEST_ID_LEN])
{
    return RAND_bytes(id, G11C_REQUEST_ID_LEN) == 1 ? CKR_OK : CKR_FUNCTION_FAILED;
}

/* The caller's RequestID, or a fresh one in own. */
static CK_RV request_id(const uint8_t *given, uint8_t own[G11C_REQUEST_ID_LEN],
                        ProtobufCBinaryData *out)
{
    CK_RV rv = CKR_OK;
    if (!given) {
        /* Never sent without one: an unkeyed write could not be resent. */
        if ((rv = g11c_request_id_new(own)) != CKR_OK)
            return rv;
        given = own;
    }
    *out = (ProtobufCBinaryData){G11C_REQUEST_ID_LEN, (uint8_t *)given};
    return rv;
}

void g11c_stored_object_free(g11c_stored_object *o)
{
    if (!o)
        return;
    g11c_buf_free(&o->blob);
    g11c_attrs_free(o->attrs, o->nattrs);
    memset(o, 0, sizeof(*o));
}

void g11c_stored_objects_free(g11c_stored_object *objs, size_t n)
{
    for (size_t i = 0; objs && i < n; i++)
        g11c_stored_object_free(&objs[i]);
    free(objs);
}

static CK_RV object_in(const Grep11__StoredObject *in, g11c_stored_object *out)
{
    memset(out, 0, sizeof(*out));
    if (!in || in->objectid.len != 16)
        return CKR_DEVICE_ERROR;
    memcpy(out->id, in->objectid.data, 16);
    out->version = in->version;
    out->created_us = in->createdat;
    out->updated_us = in->updatedat;
    CK_RV rv = g11c_copy_out(&out->blob, in->blob);
    if (rv == CKR_OK)
        rv = g11c_attrs_decode(in->n_attributes, (void *const *)in->attributes, &out->attrs,
                               &out->nattrs);
    if (rv != CKR_OK)
        g11c_stored_object_free(out);
    return rv;
}

CK_RV g11c_store_init_keystores(g11c_conn *c, const uint8_t private_ks[16],
                                const uint8_t public_ks[16], const char *label,
                                const char *password)
{
    Grep11__InitKeystoresRequest req = GREP11__INIT_KEYSTORES_REQUEST__INIT;
    req.privatekeystoreid = uuid_bin(private_ks);
    req.publickeystoreid = uuid_bin(public_ks);
    req.label = (char *)(label ? label : "");
    req.password = (char *)(password ? password : "");
    STORE_CALL(c, "InitKeystores", req, Grep11__InitKeystoresResponse,
               grep11__init_keystores_response__descriptor, resp);
out:
    g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}

CK_RV g11c_store_keystore_info(g11c_conn *c, const uint8_t ks[16], g11c_keystore_info *info)
{
    Grep11__KeystoreInfoRequest req = GREP11__KEYSTORE_INFO_REQUEST__INIT;
    req.keystoreid = uuid_bin(ks);
    STORE_CALL(c, "KeystoreInfo", req, Grep11__KeystoreInfoResponse,
               grep11__keystore_info_response__descriptor, resp);
    memset(info, 0, sizeof(*info));
    snprintf(info->label, sizeof(info->label), "%s", resp->label ? resp->label : "");
    info->is_private = resp->private_;
    info->object_count = resp->objectcount;
    info->password_protected = resp->passwordprotected;
    info->created_us = resp->createdat;
out:
    g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}

CK_RV g11c_store_create_object(g11c_conn *c, const uint8_t ks[16], const char *password,
                               g11c_bytes blob, const CK_ATTRIBUTE *attrs, CK_ULONG n,
                               uint8_t id_out[16], int64_t *version_out)
{
    return g11c_store_create_object_once(c, NULL, ks, password, blob, attrs, n, id_out,
                                         version_out);
}

CK_RV g11c_store_create_object_once(g11c_conn *c, const uint8_t request[G11C_REQUEST_ID_LEN],
                                    const uint8_t ks[16], const char *password, g11c_bytes blob,
                                    const CK_ATTRIBUTE *attrs, CK_ULONG n, uint8_t id_out[16],
                                    int64_t *version_out)
{
    Grep11__CreateObjectRequest req = GREP11__CREATE_OBJECT_REQUEST__INIT;
    uint8_t own[G11C_REQUEST_ID_LEN];
    g11c_template t;
    CK_RV trv = request_id(request, own, &req.requestid);
    if (trv != CKR_OK || (trv = g11c_template_encode(attrs, n, &t)) != CKR_OK)
        return trv;
    req.keystoreid = uuid_bin(ks);
    req.password = (char *)(password ? password : "");
    req.blob = BIN(blob);
    req.n_attributes = t.n;
    req.attributes = (Grep11__CreateObjectRequest__AttributesEntry **)t.entries;
    STORE_WRITE(c, "CreateObject", req, Grep11__CreateObjectResponse,
                grep11__create_object_response__descriptor, resp);
    if (resp->objectid.len != 16) {
        rv = CKR_DEVICE_ERROR;
        goto out;
    }
    memcpy(id_out, resp->objectid.data, 16);
    if (version_out)
        *version_out = resp->version;
out:
    g11c_reply_free((ProtobufCMessage *)resp);
    g11c_template_free(&t);
    return rv;
}

CK_RV g11c_store_get_object(g11c_conn *c, const uint8_t ks[16], const char *password,
                            const uint8_t id[16], g11c_stored_object *out)
{
    Grep11__GetObjectRequest req = GREP11__GET_OBJECT_REQUEST__INIT;
    req.keystoreid = uuid_bin(ks);
    req.password = (char *)(password ? password : "");
    req.objectid = uuid_bin(id);
    STORE_CALL(c, "GetObject", req, Grep11__GetObjectResponse,
               grep11__get_object_response__descriptor, resp);
    rv = object_in(resp->object, out);
out:
    g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}

CK_RV g11c_store_update_object(g11c_conn *c, const uint8_t ks[16], const char *password,
                               const uint8_t id[16], int64_t version, g11c_bytes blob,
                               const CK_ATTRIBUTE *attrs, CK_ULONG n, int64_t *new_version)
{
    return g11c_store_update_object_once(c, NULL, ks, password, id, version, blob, attrs, n,
                                         new_version);
}

CK_RV g11c_store_update_object_once(g11c_conn *c, const uint8_t request[G11C_REQUEST_ID_LEN],
                                    const uint8_t ks[16], const char *password,
                                    const uint8_t id[16], int64_t version, g11c_bytes blob,
                                    const CK_ATTRIBUTE *attrs, CK_ULONG n, int64_t *new_version)
{
    Grep11__UpdateObjectRequest req = GREP11__UPDATE_OBJECT_REQUEST__INIT;
    uint8_t own[G11C_REQUEST_ID_LEN];
    g11c_template t;
    CK_RV trv = request_id(request, own, &req.requestid);
    if (trv != CKR_OK || (trv = g11c_template_encode(attrs, n, &t)) != CKR_OK)
        return trv;
    req.keystoreid = uuid_bin(ks);
    req.password = (char *)(password ? password : "");
    req.objectid = uuid_bin(id);
    req.version = version;
    req.blob = BIN(blob);
    req.n_attributes = t.n;
    req.attributes = (Grep11__UpdateObjectRequest__AttributesEntry **)t.entries;
    STORE_WRITE(c, "UpdateObject", req, Grep11__UpdateObjectResponse,
                grep11__update_object_response__descriptor, resp);
    if (new_version)
        *new_version = resp->version;
out:
    g11c_reply_free((ProtobufCMessage *)resp);
    g11c_template_free(&t);
    return rv;
}

CK_RV g11c_store_destroy_object(g11c_conn *c, const uint8_t ks[16], const char *password,
                                const uint8_t id[16])
{
    return g11c_store_destroy_object_once(c, NULL, ks, password, id);
}

CK_RV g11c_store_destroy_object_once(g11c_conn *c, const uint8_t request[G11C_REQUEST_ID_LEN],
                                     const uint8_t ks[16], const char *password,
                                     const uint8_t id[16])
{
    Grep11__DestroyObjectRequest req = GREP11__DESTROY_OBJECT_REQUEST__INIT;
    uint8_t own[G11C_REQUEST_ID_LEN];
    CK_RV irv = request_id(request, own, &req.requestid);
    if (irv != CKR_OK)
        return irv;
    req.keystoreid = uuid_bin(ks);
    req.password = (char *)(password ? password : "");
    req.objectid = uuid_bin(id);
    STORE_WRITE(c, "DestroyObject", req, Grep11__DestroyObjectResponse,
                grep11__destroy_object_response__descriptor, resp);
out:
    g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}

CK_RV g11c_store_find_objects(g11c_conn *c, const uint8_t ks[16], const char *password,
                              const CK_ATTRIBUTE *tmpl, CK_ULONG n, const char *cursor,
                              unsigned limit, g11c_stored_object **out, size_t *nout,
                              char next_cursor[64])
{
    Grep11__FindObjectsRequest req = GREP11__FIND_OBJECTS_REQUEST__INIT;
    g11c_template t;
    *out = NULL;
    *nout = 0;
    CK_RV trv = g11c_template_encode(tmpl, n, &t);
    if (trv != CKR_OK)
        return trv;
    req.keystoreid = uuid_bin(ks);
    req.password = (char *)(password ? password : "");
    req.n_template_ = t.n;
    req.template_ = (Grep11__FindObjectsRequest__TemplateEntry **)t.entries;
    req.cursor = (char *)(cursor ? cursor : "");
    req.limit = limit;
    STORE_CALL(c, "FindObjects", req, Grep11__FindObjectsResponse,
               grep11__find_objects_response__descriptor, resp);
    *out = calloc(resp->n_objects ? resp->n_objects : 1, sizeof(**out));
    if (!*out) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    for (size_t i = 0; i < resp->n_objects && rv == CKR_OK; i++)
        if ((rv = object_in(resp->objects[i], &(*out)[i])) == CKR_OK)
            *nout = i + 1;
    if (rv == CKR_OK && next_cursor)
        snprintf(next_cursor, 64, "%s", resp->nextcursor ? resp->nextcursor : "");
    if (rv != CKR_OK) {
        g11c_stored_objects_free(*out, *nout);
        *out = NULL;
        *nout = 0;
    }
out:
    g11c_reply_free((ProtobufCMessage *)resp);
    g11c_template_free(&t);
    return rv;
}
