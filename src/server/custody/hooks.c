/* The dispatch hooks: the one place that answers "instance locked", picks
 * the engine for a call, keeps reserved keystores out of reach and writes
 * the audit entry of a key-lifecycle call before its reply leaves. */
#include <stdio.h>
#include <string.h>

#include "admin.pb-c.h"
#include "bytes.h"
#include "directory.h"
#include "runtime.h"
#include "services.h"

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int is_custody(const rpc_ctx *ctx)
{
    return starts(ctx->method->path, "/grep11.Custody/") &&
           strcmp(ctx->method->path, "/grep11.Custody/AuditVerify") != 0;
}

static int is_health(const rpc_ctx *ctx)
{
    return starts(ctx->method->path, "/grpc.health.");
}

int custody_unlocked(custody *c)
{
    return !c || atomic_load(&c->unlocked);
}

CK_RV custody_enter(custody *c, rpc_ctx *ctx, custody_pass *p)
{
    p->held = 0;
    if (!c || is_custody(ctx))
        return CKR_OK;
    if (is_health(ctx)) {
        /* Health reports NOT_SERVING while locked, as while draining. */
        if (!atomic_load(&c->unlocked))
            ctx->draining = 1;
        return CKR_OK;
    }
    pthread_rwlock_rdlock(&c->lock);
    p->held = 1;
    if (!atomic_load(&c->unlocked) || !c->cur_eng) {
        ctx->code_override = GRPC_STATUS_UNAVAILABLE;
        return rpc_fail(ctx, CKR_GREP11_LOCKED,
                        "instance locked: no master key is loaded until key owners unlock it "
                        "(grep11ctl unlock)");
    }
    ctx->eng = c->cur_eng;
    if (strcmp(ctx->method->path, "/grep11.Crypto/RewrapKeyBlob") == 0 && c->grace_eng)
        ctx->eng = c->grace_eng;
    return CKR_OK;
}

void custody_leave(custody *c, custody_pass *p)
{
    if (c && p->held)
        pthread_rwlock_unlock(&c->lock);
    p->held = 0;
}

int custody_retry(custody *c, rpc_ctx *ctx, CK_RV rv)
{
    if (!c || rv != CKR_IBM_WKID_MISMATCH || !starts(ctx->method->path, "/grep11.Crypto/"))
        return 0;
    if (c->next_eng && ctx->eng != c->next_eng) {
        ctx->eng = c->next_eng; /* re-wrapped under the committed new key */
        ctx->detail[0] = '\0';
        return 1;
    }
    if (c->grace_eng)
        rpc_fail(ctx, rv,
                 "the key blob is under the retired master key %s: re-wrap it with "
                 "RewrapKeyBlob during the grace window",
                 c->state.prev_vp);
    else
        rpc_fail(ctx, rv, "the key blob was made under another master key (WKID mismatch)");
    return 0;
}

/* ---- reserved keystores -------------------------------------------------- */

static int reserved(const ProtobufCBinaryData *b)
{
    return b->len == 16 &&
           (!memcmp(b->data, custody_keystore.b, 16) || !memcmp(b->data, audit_keystore.b, 16) ||
            !memcmp(b->data, directory_keystore.b, 16));
}

/* Under custody, keys with the admin role come and go by signed command
 * only: the Admin service may not mint or revoke them. */
static CK_RV admin_keys_by_command(custody *c, rpc_ctx *ctx, const ProtobufCMessage *msg)
{
    const char *path = ctx->method->path;
    const CK_RV denied = CKR_GREP11_PERMISSION_DENIED;
    if (c->dev)
        return CKR_OK;
    if (strcmp(path, "/grep11.Admin/CreateApiKey") == 0) {
        const Grep11__CreateApiKeyRequest *r = (const void *)msg;
        for (size_t i = 0; i < r->n_roles; i++)
            if (r->roles[i] && strcmp(r->roles[i], "admin") == 0)
                return rpc_fail(ctx, denied,
                                "API keys with the admin role are created by a "
                                "signed custody command (create-apikey)");
    } else if (strcmp(path, "/grep11.Admin/RevokeApiKey") == 0) {
        const Grep11__RevokeApiKeyRequest *r = (const void *)msg;
        uint8_t id[AUTH_KEY_ID_LEN];
        directory_entry e;
        services *svc = ctx->svc;
        if (r->keyid && svc->dir &&
            auth_b64url_decode(r->keyid, strlen(r->keyid), id, sizeof(id)) == sizeof(id) &&
            directory_lookup(svc->dir, id, &e) == CKR_OK && (e.roles & AUTH_ROLE_ADMIN))
            return rpc_fail(ctx, denied,
                            "API keys with the admin role are revoked by a signed "
                            "custody command (revoke-apikey)");
    }
    return CKR_OK;
}

CK_RV custody_check_request(custody *c, rpc_ctx *ctx, const ProtobufCMessage *msg)
{
    if (!c || !(starts(ctx->method->path, "/grep11.Store/") ||
                starts(ctx->method->path, "/grep11.Admin/")))
        return CKR_OK;
    CK_RV rv = admin_keys_by_command(c, ctx, msg);
    if (rv != CKR_OK)
        return rv;
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_BYTES)
            continue;
        const char *base = (const char *)msg;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            const ProtobufCBinaryData *arr = *(ProtobufCBinaryData *const *)(base + f->offset);
            for (size_t k = 0; k < n; k++)
                if (reserved(&arr[k]))
                    return rpc_fail(ctx, CKR_TOKEN_NOT_PRESENT, "no such keystore");
        } else if (reserved((const ProtobufCBinaryData *)(base + f->offset))) {
            return rpc_fail(ctx, CKR_TOKEN_NOT_PRESENT, "no such keystore");
        }
    }
    return CKR_OK;
}

/* ---- audit of key-lifecycle calls ----------------------------------------- */

static const struct {
    const char *path, *event;
} audited[] = {
    {"/grep11.Crypto/GenerateKey", "generate-key"},
    {"/grep11.Crypto/GenerateKeyPair", "generate-key-pair"},
    {"/grep11.Crypto/UnwrapKey", "unwrap-key"},
    {"/grep11.Crypto/WrapKey", "wrap-key"},
    {"/grep11.Crypto/DeriveKey", "derive-key"},
    {"/grep11.Crypto/SetAttributeValue", "set-attribute"},
    {"/grep11.Crypto/RewrapKeyBlob", "rewrap-key-blob"},
    {"/grep11.Store/InitKeystores", "init-keystores"},
    {"/grep11.Store/CreateObject", "store-object"},
    {"/grep11.Store/UpdateObject", "update-object"},
    {"/grep11.Store/DestroyObject", "destroy-object"},
    {"/grep11.Admin/CreateApiKey", "create-apikey"},
    {"/grep11.Admin/RevokeApiKey", "revoke-apikey"},
};

static const ProtobufCBinaryData *bytes_field(const ProtobufCMessage *m, const char *name)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
    if (!f || f->type != PROTOBUF_C_TYPE_BYTES || f->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    return (const ProtobufCBinaryData *)((const char *)m + f->offset);
}

static void uuid_text(const ProtobufCBinaryData *b, char out[37])
{
    store_uuid u;
    out[0] = '\0';
    if (b && b->len == 16) {
        memcpy(u.b, b->data, 16);
        store_uuid_format(&u, out);
    }
}

/* with_object 0: the entry names the object itself (a tied write). */
static void describe(const rpc_ctx *ctx, const ProtobufCMessage *msg, int with_object, char *out,
                     size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, "Mech");
    if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
        const ProtobufCMessage *mech = *(ProtobufCMessage *const *)((const char *)msg + f->offset);
        const ProtobufCFieldDescriptor *mf =
            mech ? protobuf_c_message_descriptor_get_field_by_name(mech->descriptor, "Mechanism")
                 : NULL;
        if (mf && mf->type == PROTOBUF_C_TYPE_UINT64)
            n += (size_t)snprintf(
                out + n, cap - n, "mech=0x%llx ",
                (unsigned long long)*(const uint64_t *)((const char *)mech + mf->offset));
    }
    char ks[37], obj[37];
    uuid_text(bytes_field(msg, "KeystoreID"), ks);
    uuid_text(bytes_field(msg, "ObjectID"), obj);
    if (!ks[0])
        uuid_text(bytes_field(msg, "PrivateKeystoreID"), ks);
    if (ks[0] && n < cap)
        n += (size_t)snprintf(out + n, cap - n, "keystore=%s ", ks);
    if (obj[0] && with_object && n < cap)
        n += (size_t)snprintf(out + n, cap - n, "object=%s ", obj);
    if (ctx->resp && ctx->resp_len && n + 24 < cap) {
        char fp[17];
        custody_vp(ctx->resp, ctx->resp_len, fp);
        snprintf(out + n, cap - n, "reply=%s", fp); /* a fingerprint of sealed output */
    }
}

static const char *event_of(const rpc_ctx *ctx)
{
    for (size_t i = 0; i < sizeof(audited) / sizeof(audited[0]); i++)
        if (strcmp(ctx->method->path, audited[i].path) == 0)
            return audited[i].event;
    return NULL;
}

static void actor_of(const rpc_ctx *ctx, char *out, size_t cap)
{
    char kid[32] = "";
    if (ctx->authenticated)
        auth_b64url_encode(ctx->who.key_id, AUTH_KEY_ID_LEN, kid, sizeof(kid));
    snprintf(out, cap, "%s%s%s", ctx->authenticated ? ctx->who.principal : "anonymous",
             kid[0] ? "/" : "", kid);
}

CK_RV custody_after(custody *c, rpc_ctx *ctx, const ProtobufCMessage *msg, CK_RV rv)
{
    if (!c || rv != CKR_OK || ctx->audited)
        return rv;
    const char *event = event_of(ctx);
    if (!event)
        return rv;
    char actor[CUSTODY_ACTOR_MAX], detail[CUSTODY_DETAIL_MAX];
    actor_of(ctx, actor, sizeof(actor));
    describe(ctx, msg, 1, detail, sizeof(detail));
    /* The commit is a disk wait: another call may compute meanwhile, and
     * more entries then share the commit. */
    rpc_io_begin(ctx);
    CK_RV arv = audit_append(c->au, event, actor, detail);
    rpc_io_end(ctx);
    if (arv != CKR_OK) {
        rpc_ctx_release(ctx); /* no reply leaves unaudited */
        return rpc_fail(ctx, CKR_DEVICE_ERROR, "the audit trail cannot be written; retry");
    }
    return rv;
}

CK_RV custody_tie_begin(custody *c, rpc_ctx *ctx, custody_tie *t, const store_also **also)
{
    memset(t, 0, sizeof(*t));
    *also = NULL;
    const char *event = c ? event_of(ctx) : NULL;
    if (!event)
        return CKR_OK;
    actor_of(ctx, t->actor, sizeof(t->actor));
    describe(ctx, ctx->req, 0, t->detail, sizeof(t->detail));
    return audit_tie_begin(c->au, event, t->actor, t->detail, &t->tie, also);
}

int custody_tie_end(custody *c, rpc_ctx *ctx, custody_tie *t, CK_RV rv, int applied)
{
    (void)c;
    if (!t->tie)
        return 0;
    /* A replay was audited when it was first applied. */
    if (rv == CKR_OK)
        ctx->audited = 1;
    int again = audit_tie_end(t->tie, rv, applied);
    t->tie = NULL;
    return again;
}
