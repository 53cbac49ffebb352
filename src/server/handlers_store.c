/* grep11.Store: keystores and token objects, with the access rules of
 * DESIGN §5 enforced here (the module is not trusted):
 *   - a keystore is reachable only with a grant for its UUID;
 *   - a private keystore needs the keystore-user role;
 *   - a public keystore needs any keystore role;
 *   - only a caller with keystore-user may store or see CKA_PRIVATE=TRUE
 *     objects, and only in a private keystore;
 *   - only the security officer may store CKA_TRUSTED=TRUE;
 *   - only the security officer (keystore-so) initialises keystores. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "custody.h"
#include "handlers.h"
#include "journal.h"
#include "services.h"
#include "store.pb-c.h"

#define TEMPLATE(ctx, req, field, out)                                                             \
    conv_template_in((ctx), (req)->n_##field, (void *const *)(req)->field, (out))

static CK_RV uuid_in(rpc_ctx *ctx, ProtobufCBinaryData b, const char *what, store_uuid *out)
{
    if (b.len != sizeof(out->b))
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "%s must be a 16-byte UUID", what);
    memcpy(out->b, b.data, sizeof(out->b));
    return CKR_OK;
}

static int granted(const rpc_ctx *ctx, const store_uuid *ks)
{
    for (size_t i = 0; i < ctx->who.ngrants; i++)
        if (memcmp(ctx->who.grants[i], ks->b, 16) == 0)
            return 1;
    return 0;
}

/* The server's own keystores: the identity directory, the custody log and
 * the audit trail. No tenant quota applies to them (config_store_options),
 * so no caller may reach them here, with or without custody, grant or
 * authentication: as far as callers can tell they do not exist. */
static int reserved(const store_uuid *ks)
{
    return !memcmp(ks->b, directory_keystore.b, 16) || !memcmp(ks->b, custody_keystore.b, 16) ||
           !memcmp(ks->b, audit_keystore.b, 16);
}

/* May the caller use keystore ks at all? Fills *info. */
static CK_RV keystore_access(rpc_ctx *ctx, const store_uuid *ks, store_ks_info *info)
{
    services *svc = ctx->svc;
    if (reserved(ks))
        return rpc_fail(ctx, CKR_TOKEN_NOT_PRESENT, "no such keystore");
    if (svc->auth_enabled && !granted(ctx, ks))
        return rpc_fail(ctx, CKR_GREP11_PERMISSION_DENIED, "no grant for this keystore");
    CK_RV rv = store_keystore_lookup(svc->st, ks, info);
    if (rv == CKR_TOKEN_NOT_PRESENT)
        return rpc_fail(ctx, rv, "no such keystore");
    if (rv != CKR_OK)
        return rv;
    if (info->kind == STORE_KS_PRIVATE && !(ctx->who.roles & AUTH_ROLE_KEYSTORE_USER))
        return rpc_fail(ctx, CKR_USER_NOT_LOGGED_IN,
                        "a private keystore needs the normal user (keystore-user)");
    return CKR_OK;
}

static int attr_true(const CK_ATTRIBUTE *attrs, CK_ULONG n, CK_ATTRIBUTE_TYPE type)
{
    for (CK_ULONG i = 0; i < n; i++)
        if (attrs[i].type == type && attrs[i].ulValueLen == 1 && *(CK_BBOOL *)attrs[i].pValue)
            return 1;
    return 0;
}

/* What a caller may write into a keystore: CKA_PRIVATE=TRUE objects belong
 * to the logged-in normal user and only in a private keystore (DESIGN §5);
 * CKA_TRUSTED=TRUE is the security officer's to set (PKCS #11). Booleans
 * arrive normalised (conv_attr_in), so one encoding is all there is. */
static CK_RV template_check(rpc_ctx *ctx, const conv_template *t, const store_ks_info *info)
{
    if (attr_true(t->attrs, t->n, CKA_TRUSTED) && !(ctx->who.roles & AUTH_ROLE_KEYSTORE_SO))
        return rpc_fail(ctx, CKR_ATTRIBUTE_READ_ONLY,
                        "CKA_TRUSTED=TRUE needs the security officer (keystore-so)");
    if (!attr_true(t->attrs, t->n, CKA_PRIVATE))
        return CKR_OK;
    if (!(ctx->who.roles & AUTH_ROLE_KEYSTORE_USER))
        return rpc_fail(ctx, CKR_USER_NOT_LOGGED_IN,
                        "CKA_PRIVATE=TRUE needs the normal user (keystore-user)");
    if (info->kind != STORE_KS_PRIVATE)
        return rpc_fail(ctx, CKR_TEMPLATE_INCONSISTENT,
                        "CKA_PRIVATE=TRUE objects belong in a private keystore");
    return CKR_OK;
}

/* Private objects are the normal user's: a caller without keystore-user
 * never sees one, wherever it was stored (a public keystore may hold some
 * written before private objects were kept out of it). */
static int hidden_from(const rpc_ctx *ctx, const store_object *o)
{
    return !(ctx->who.roles & AUTH_ROLE_KEYSTORE_USER) &&
           attr_true(o->attrs, o->nattrs, CKA_PRIVATE);
}

/* The password as the store wants it; NULL when none was sent. */
static const store_password *password_in(const char *pw, store_password *slot)
{
    if (!pw || !pw[0])
        return NULL;
    slot->data = (const unsigned char *)pw;
    slot->len = strlen(pw);
    return slot;
}

/* The store says only that a write would pass a limit (CKR_DEVICE_MEMORY);
 * the caller is told which, with the numbers, read back from the keystore.
 * adds_object: the refused call would have added an object. */
static CK_RV keystore_full(rpc_ctx *ctx, const store_uuid *ks, int adds_object)
{
    store_ks_info i;
    if (store_keystore_info(ctx->svc->st, ks, &i) != CKR_OK)
        return rpc_fail(ctx, CKR_DEVICE_MEMORY, "keystore full: a quota limit was reached");
    if (adds_object && i.max_objects && i.object_count >= i.max_objects)
        return rpc_fail(ctx, CKR_DEVICE_MEMORY,
                        "keystore full: it holds %llu objects, the limit (store_max_objects "
                        "%llu); destroy objects to make room",
                        (unsigned long long)i.object_count, (unsigned long long)i.max_objects);
    return rpc_fail(ctx, CKR_DEVICE_MEMORY,
                    "keystore full: %llu of its %llu bytes (store_max_bytes) are in use, and "
                    "this object needs more than is left; destroy objects to make room",
                    (unsigned long long)i.bytes, (unsigned long long)i.max_bytes);
}

static CK_RV object_out(const store_object *o, Grep11__StoredObject *out, conv_map_out *m)
{
    grep11__stored_object__init(out);
    CK_RV rv = conv_attrs_out(o->attrs, o->nattrs,
                              &grep11__stored_object__attributes_entry__descriptor, m);
    if (rv != CKR_OK)
        return rv;
    out->objectid.data = (uint8_t *)o->uuid.b;
    out->objectid.len = 16;
    out->version = (int64_t)o->version;
    out->blob.data = o->blob;
    out->blob.len = o->blob_len;
    out->n_attributes = m->n;
    out->attributes = (Grep11__StoredObject__AttributesEntry **)m->entries;
    out->createdat = o->created_us;
    out->updatedat = o->updated_us;
    return CKR_OK;
}

typedef struct {
    const store_uuid *ks;
    const store_ks_params *p;
} init_args;

static CK_RV init_write(rpc_ctx *ctx, store_with *w, void *arg)
{
    init_args *a = arg;
    return store_keystore_init_with(ctx->svc->st, a->ks, a->p, w);
}

CK_RV h_store_init_keystores(rpc_ctx *ctx)
{
    const Grep11__InitKeystoresRequest *req = (const void *)ctx->req;
    store_uuid priv, pub;
    CK_RV rv = uuid_in(ctx, req->privatekeystoreid, "PrivateKeystoreID", &priv);
    if (rv == CKR_OK)
        rv = uuid_in(ctx, req->publickeystoreid, "PublicKeystoreID", &pub);
    if (rv != CKR_OK)
        return rv;
    if (!memcmp(priv.b, pub.b, 16) || reserved(&priv) || reserved(&pub))
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "two distinct keystore UUIDs are needed");
    if (!(ctx->who.roles & AUTH_ROLE_KEYSTORE_SO))
        return rpc_fail(ctx, CKR_GREP11_PERMISSION_DENIED,
                        "only the security officer (keystore-so) initialises keystores");
    if (ctx->svc->auth_enabled && (!granted(ctx, &priv) || !granted(ctx, &pub)))
        return rpc_fail(ctx, CKR_GREP11_PERMISSION_DENIED, "no grant for these keystores");
    store_password pw;
    const char *label = req->label && req->label[0] ? req->label : "grep11 token";
    store_ks_params pp = {STORE_KS_PRIVATE, label, password_in(req->password, &pw)};
    store_ks_params pubp = {STORE_KS_PUBLIC, label, NULL};
    /* Wipe-and-recreate, or create when new: C_InitToken's meaning. */
    const struct {
        const store_uuid *ks;
        const store_ks_params *p;
    } pair[] = {{&priv, &pp}, {&pub, &pubp}};
    static const ProtobufCBinaryData no_request;
    for (size_t i = 0; i < 2 && rv == CKR_OK; i++) {
        init_args a = {pair[i].ks, pair[i].p};
        rv = rpc_write_tied(ctx, no_request, init_write, &a);
    }
    if (rv == CKR_ARGUMENTS_BAD)
        return rpc_fail(ctx, rv, "label too long or password not 6..64 bytes");
    if (rv != CKR_OK)
        return rv;
    Grep11__InitKeystoresResponse resp = GREP11__INIT_KEYSTORES_RESPONSE__INIT;
    return rpc_reply(ctx, &resp.base);
}

CK_RV h_store_keystore_info(rpc_ctx *ctx)
{
    const Grep11__KeystoreInfoRequest *req = (const void *)ctx->req;
    store_uuid ks;
    store_ks_info info;
    CK_RV rv = uuid_in(ctx, req->keystoreid, "KeystoreID", &ks);
    if (rv == CKR_OK)
        rv = keystore_access(ctx, &ks, &info);
    if (rv == CKR_OK) /* the count is what this call is for */
        rv = store_keystore_info(ctx->svc->st, &ks, &info);
    if (rv != CKR_OK)
        return rv;
    Grep11__KeystoreInfoResponse resp = GREP11__KEYSTORE_INFO_RESPONSE__INIT;
    resp.label = info.label;
    resp.private_ = info.kind == STORE_KS_PRIVATE;
    resp.objectcount = info.object_count;
    resp.passwordprotected = info.password_protected;
    resp.createdat = info.created_us;
    return rpc_reply(ctx, &resp.base);
}

typedef struct {
    const store_uuid *ks;
    const store_password *pw;
    const conv_template *t;
    store_uuid *id;
    uint64_t *version;
} create_args;

static CK_RV create_write(rpc_ctx *ctx, store_with *w, void *arg)
{
    const Grep11__CreateObjectRequest *req = (const void *)ctx->req;
    create_args *a = arg;
    return store_object_create_with(ctx->svc->st, a->ks, a->pw, req->blob.data, req->blob.len,
                                    a->t->attrs, a->t->n, w, a->id, a->version);
}

CK_RV h_store_create_object(rpc_ctx *ctx)
{
    const Grep11__CreateObjectRequest *req = (const void *)ctx->req;
    store_uuid ks, id;
    store_ks_info info;
    store_password pw;
    conv_template t = {0};
    uint64_t version = 0;
    CK_RV rv = uuid_in(ctx, req->keystoreid, "KeystoreID", &ks);
    if (rv == CKR_OK)
        rv = keystore_access(ctx, &ks, &info);
    if (rv == CKR_OK)
        rv = TEMPLATE(ctx, req, attributes, &t);
    if (rv == CKR_OK)
        rv = template_check(ctx, &t, &info);
    if (rv == CKR_OK) {
        create_args a = {&ks, password_in(req->password, &pw), &t, &id, &version};
        rv = rpc_write_tied(ctx, req->requestid, create_write, &a);
    }
    conv_template_free(&t);
    if (rv == CKR_DEVICE_MEMORY)
        return keystore_full(ctx, &ks, 1);
    if (rv != CKR_OK)
        return rv;
    Grep11__CreateObjectResponse resp = GREP11__CREATE_OBJECT_RESPONSE__INIT;
    resp.objectid.data = id.b;
    resp.objectid.len = 16;
    resp.version = (int64_t)version;
    return rpc_reply(ctx, &resp.base);
}

CK_RV h_store_get_object(rpc_ctx *ctx)
{
    const Grep11__GetObjectRequest *req = (const void *)ctx->req;
    store_uuid ks, id;
    store_ks_info info;
    store_password pw;
    store_object *o = NULL;
    CK_RV rv = uuid_in(ctx, req->keystoreid, "KeystoreID", &ks);
    if (rv == CKR_OK)
        rv = uuid_in(ctx, req->objectid, "ObjectID", &id);
    if (rv == CKR_OK)
        rv = keystore_access(ctx, &ks, &info);
    if (rv == CKR_OK)
        rv = store_object_get(ctx->svc->st, &ks, password_in(req->password, &pw), &id, &o);
    if (rv == CKR_OK && hidden_from(ctx, o)) {
        store_object_free(o);
        rv = CKR_OBJECT_HANDLE_INVALID;
    }
    if (rv != CKR_OK)
        return rv;
    if (info.password_protected) /* during a master-key rotation */
        custody_rewrap_on_read(ctx->svc->cust, ctx->svc->st, &ks, &pw, o);
    Grep11__GetObjectResponse resp = GREP11__GET_OBJECT_RESPONSE__INIT;
    Grep11__StoredObject so;
    conv_map_out m;
    rv = object_out(o, &so, &m);
    if (rv == CKR_OK) {
        resp.object = &so;
        rv = rpc_reply(ctx, &resp.base);
        conv_map_out_free(&m);
    }
    store_object_free(o);
    return rv;
}

typedef struct {
    const store_uuid *ks;
    const store_password *pw;
    const store_uuid *id;
    const conv_template *t;
    uint64_t *version;
} update_args;

static CK_RV update_write(rpc_ctx *ctx, store_with *w, void *arg)
{
    static const CK_ATTRIBUTE none;
    const Grep11__UpdateObjectRequest *req = (const void *)ctx->req;
    update_args *a = arg;
    return store_object_update_with(ctx->svc->st, a->ks, a->pw, a->id, (uint64_t)req->version,
                                    req->blob.len ? req->blob.data : NULL, req->blob.len,
                                    a->t->attrs ? a->t->attrs : &none, a->t->n, w, a->version);
}

CK_RV h_store_update_object(rpc_ctx *ctx)
{
    const Grep11__UpdateObjectRequest *req = (const void *)ctx->req;
    store_uuid ks, id;
    store_ks_info info;
    store_password pw;
    conv_template t = {0};
    uint64_t version = 0;
    CK_RV rv = uuid_in(ctx, req->keystoreid, "KeystoreID", &ks);
    if (rv == CKR_OK)
        rv = uuid_in(ctx, req->objectid, "ObjectID", &id);
    if (rv == CKR_OK && req->version <= 0)
        rv = rpc_fail(ctx, CKR_ARGUMENTS_BAD, "Version must be the version read");
    if (rv == CKR_OK)
        rv = keystore_access(ctx, &ks, &info);
    if (rv == CKR_OK)
        rv = TEMPLATE(ctx, req, attributes, &t);
    if (rv == CKR_OK)
        rv = template_check(ctx, &t, &info);
    if (rv == CKR_OK) {
        update_args a = {&ks, password_in(req->password, &pw), &id, &t, &version};
        rv = rpc_write_tied(ctx, req->requestid, update_write, &a);
    }
    conv_template_free(&t);
    if (rv == CKR_IBM_GREP11_CONFLICT)
        return rpc_fail(ctx, rv, "the object changed since it was read (version conflict)");
    if (rv == CKR_DEVICE_MEMORY)
        return keystore_full(ctx, &ks, 0);
    if (rv != CKR_OK)
        return rv;
    Grep11__UpdateObjectResponse resp = GREP11__UPDATE_OBJECT_RESPONSE__INIT;
    resp.version = (int64_t)version;
    return rpc_reply(ctx, &resp.base);
}

typedef struct {
    const store_uuid *ks;
    const store_password *pw;
    const store_uuid *id;
} destroy_args;

static CK_RV destroy_write(rpc_ctx *ctx, store_with *w, void *arg)
{
    destroy_args *a = arg;
    return store_object_destroy_with(ctx->svc->st, a->ks, a->pw, a->id, w);
}

CK_RV h_store_destroy_object(rpc_ctx *ctx)
{
    const Grep11__DestroyObjectRequest *req = (const void *)ctx->req;
    store_uuid ks, id;
    store_ks_info info;
    store_password pw;
    CK_RV rv = uuid_in(ctx, req->keystoreid, "KeystoreID", &ks);
    if (rv == CKR_OK)
        rv = uuid_in(ctx, req->objectid, "ObjectID", &id);
    if (rv == CKR_OK)
        rv = keystore_access(ctx, &ks, &info);
    if (rv == CKR_OK && !(ctx->who.roles & AUTH_ROLE_KEYSTORE_USER)) {
        store_object *o = NULL;
        rv = store_object_get(ctx->svc->st, &ks, password_in(req->password, &pw), &id, &o);
        if (rv == CKR_OK && hidden_from(ctx, o))
            rv = CKR_OBJECT_HANDLE_INVALID;
        store_object_free(o);
        if (rv == CKR_GREP11_MISSING && req->requestid.len)
            rv = CKR_OK; /* perhaps destroyed by this request's first send: the record says */
    }
    if (rv == CKR_OK) {
        destroy_args a = {&ks, password_in(req->password, &pw), &id};
        rv = rpc_write_tied(ctx, req->requestid, destroy_write, &a);
    }
    if (rv != CKR_OK)
        return rv;
    Grep11__DestroyObjectResponse resp = GREP11__DESTROY_OBJECT_RESPONSE__INIT;
    return rpc_reply(ctx, &resp.base);
}

CK_RV h_store_find_objects(rpc_ctx *ctx)
{
    const Grep11__FindObjectsRequest *req = (const void *)ctx->req;
    store_uuid ks;
    store_ks_info info;
    store_password pw;
    conv_template t = {0};
    store_object *objs = NULL;
    size_t n = 0;
    char next[STORE_CURSOR_SIZE] = "";
    CK_RV rv = uuid_in(ctx, req->keystoreid, "KeystoreID", &ks);
    if (rv == CKR_OK)
        rv = keystore_access(ctx, &ks, &info);
    if (rv == CKR_OK)
        rv = TEMPLATE(ctx, req, template_, &t);
    if (rv == CKR_OK)
        rv = store_find_objects(ctx->svc->st, &ks, password_in(req->password, &pw), t.attrs, t.n,
                                req->cursor, req->limit, &objs, &n, next);
    conv_template_free(&t);
    if (rv != CKR_OK)
        return rv;
    size_t total = n, kept = 0;
    for (size_t i = 0; i < total; i++) { /* private objects out of sight, at the end */
        if (hidden_from(ctx, &objs[i]))
            continue;
        store_object tmp = objs[kept];
        objs[kept++] = objs[i];
        objs[i] = tmp;
    }
    n = kept;
    for (size_t i = 0; info.password_protected && i < n; i++)
        custody_rewrap_on_read(ctx->svc->cust, ctx->svc->st, &ks, &pw, &objs[i]);
    Grep11__StoredObject *out = calloc(n ? n : 1, sizeof(*out));
    Grep11__StoredObject **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
    conv_map_out *maps = calloc(n ? n : 1, sizeof(*maps));
    size_t done = 0;
    rv = out && ptrs && maps ? CKR_OK : CKR_HOST_MEMORY;
    for (; rv == CKR_OK && done < n; done++) {
        rv = object_out(&objs[done], &out[done], &maps[done]);
        ptrs[done] = &out[done];
    }
    if (rv == CKR_OK) {
        Grep11__FindObjectsResponse resp = GREP11__FIND_OBJECTS_RESPONSE__INIT;
        resp.n_objects = n;
        resp.objects = ptrs;
        resp.nextcursor = next;
        rv = rpc_reply(ctx, &resp.base);
    }
    for (size_t i = 0; maps && i < done; i++)
        conv_map_out_free(&maps[i]);
    free(out);
    free(ptrs);
    free(maps);
    store_objects_free(objs, total);
    return rv;
}

/* A Crypto call's KeyBlob may name a stored key by KeyBlobID instead of
 * carrying its bytes: look for it in the keystores the caller is granted
 * and may read (password-protected keystores are skipped: no password
 * travels with a Crypto call). The blob lives until the call ends. */
static CK_RV resolve_keyblob(rpc_ctx *ctx, ProtobufCBinaryData id_bytes, engine_bytes *out)
{
    services *svc = ctx->svc;
    store_uuid id;
    if (!svc)
        return rpc_fail(ctx, CKR_FUNCTION_NOT_SUPPORTED, "stored keys need the keystore service");
    if (id_bytes.len != 16)
        return rpc_fail(ctx, CKR_KEY_HANDLE_INVALID, "KeyBlobID must be a 16-byte UUID");
    memcpy(id.b, id_bytes.data, 16);
    /* Stored keys are keystore objects: reading one takes a keystore role,
     * as grep11.Store/GetObject would (README, roles). */
    if (svc->auth_enabled && !(ctx->who.roles & (AUTH_ROLE_KEYSTORE_SO | AUTH_ROLE_KEYSTORE_USER |
                                                 AUTH_ROLE_KEYSTORE_ANONYMOUS)))
        return rpc_fail(ctx, CKR_GREP11_PERMISSION_DENIED,
                        "stored keys (KeyBlobID) need a keystore role");
    for (size_t i = 0; i < ctx->who.ngrants; i++) {
        store_uuid ks;
        store_ks_info info;
        store_object *o = NULL;
        memcpy(ks.b, ctx->who.grants[i], 16);
        if (reserved(&ks))
            continue;
        CK_RV lrv = store_keystore_lookup(svc->st, &ks, &info);
        /* The database not answering is not "no such key": the caller
         * may retry (CKR_DEVICE_ERROR carries Retry), and must not drop a
         * key it still holds by reference. */
        if (lrv == CKR_DEVICE_ERROR)
            return rpc_fail(ctx, lrv, "the keystore database does not answer");
        if (lrv != CKR_OK || info.password_protected ||
            (info.kind == STORE_KS_PRIVATE && !(ctx->who.roles & AUTH_ROLE_KEYSTORE_USER)))
            continue;
        CK_RV rv = store_object_get(svc->st, &ks, NULL, &id, &o);
        if (rv == CKR_DEVICE_ERROR)
            return rv;
        if (rv != CKR_OK)
            continue;
        if (hidden_from(ctx, o)) {
            store_object_free(o);
            continue;
        }
        if (rpc_keep(ctx, o->blob, o->blob_len) != CKR_OK) {
            store_object_free(o);
            return CKR_HOST_MEMORY;
        }
        out->ptr = o->blob;
        out->len = o->blob_len;
        o->blob = NULL; /* now owned by ctx */
        o->blob_len = 0;
        store_object_free(o);
        return CKR_OK;
    }
    return rpc_fail(ctx, CKR_KEY_HANDLE_INVALID, "no stored key with this KeyBlobID is readable");
}

CK_RV store_resolve_keyblob(rpc_ctx *ctx, ProtobufCBinaryData id_bytes, engine_bytes *out)
{
    /* A database wait inside a Crypto call: its compute slot is lent. */
    rpc_io_begin(ctx);
    CK_RV rv = resolve_keyblob(ctx, id_bytes, out);
    rpc_io_end(ctx);
    return rv;
}
