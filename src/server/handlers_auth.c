/* grep11.Auth (API key -> bearer token) and grep11.Admin (API keys). */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.pb-c.h"
#include "auth.pb-c.h"
#include "handlers.h"
#include "services.h"

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static CK_RV roles_out(uint32_t roles, char *names[8], size_t *n)
{
    *n = 0;
    for (uint32_t bit = 1; bit <= AUTH_ROLE_ALL; bit <<= 1)
        if (roles & bit)
            names[(*n)++] = (char *)auth_role_name(bit);
    return CKR_OK;
}

/* Every failure of a token request reads the same to the client, so the
 * answer says nothing about which part was wrong. */
static CK_RV token_refused(rpc_ctx *ctx, services *svc, const char *peer)
{
    ratelimit_fail(svc->rl, peer, now_ms());
    return rpc_fail(ctx, CKR_IBM_GREP11_NOT_AUTHENTICATED, "API key not accepted");
}

CK_RV h_auth_token(rpc_ctx *ctx)
{
    const Grep11__TokenRequest *req = (const void *)ctx->req;
    services *svc = ctx->svc;
    const char *peer = ctx->peer ? ctx->peer : "unknown";
    uint8_t key_id[AUTH_KEY_ID_LEN], secret[AUTH_SECRET_LEN];
    directory_entry e;
    CK_RV rv;

    if (!svc)
        return rpc_fail(ctx, CKR_FUNCTION_NOT_SUPPORTED, "authentication is not configured");
    if (!ratelimit_allow(svc->rl, peer, now_ms())) {
        ctx->code_override = GRPC_STATUS_RESOURCE_EXHAUSTED;
        return rpc_fail(ctx, CKR_GREP11_RATE_LIMITED, "too many failed attempts; retry later");
    }
    if (auth_apikey_parse(req->apikey, key_id, secret) != CKR_OK)
        return token_refused(ctx, svc, peer);
    rv = directory_lookup(svc->dir, key_id, &e);
    if (rv == CKR_OK)
        rv = auth_apikey_verify(&e.rec, secret);
    OPENSSL_cleanse(secret, sizeof(secret));
    if (rv == CKR_DEVICE_ERROR)
        return rpc_fail(ctx, rv, "identity directory unavailable");
    if (rv != CKR_OK || e.revoked || services_is_revoked(svc, key_id) != 0)
        return token_refused(ctx, svc, peer);
    if (e.cert_identity[0] &&
        (!ctx->peer_identity || strcmp(e.cert_identity, ctx->peer_identity) != 0))
        return token_refused(ctx, svc, peer);

    auth_identity id;
    memset(&id, 0, sizeof(id));
    memcpy(id.key_id, key_id, sizeof(key_id));
    memcpy(id.principal, e.principal, sizeof(id.principal));
    id.roles = e.roles;
    memcpy(id.grants, e.grants, sizeof(id.grants));
    id.ngrants = e.ngrants;
    memcpy(id.cert_identity, e.cert_identity, sizeof(id.cert_identity));
    /* expires_at is the first whole second at which the token is refused:
     * rounded up, so it lives at least token_ttl (a 1 s token issued at
     * x.999 would otherwise be refused 1 ms later). */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    id.expires_at = (uint64_t)now.tv_sec + svc->token_ttl_s + (now.tv_nsec > 0);
    char token[AUTH_TOKEN_MAX];
    if ((rv = auth_token_issue(svc->token_key, &id, token)) != CKR_OK)
        return rv;

    Grep11__TokenResponse resp = GREP11__TOKEN_RESPONSE__INIT;
    char *roles[8];
    resp.token = token;
    resp.expiresat = (int64_t)id.expires_at;
    resp.principal = id.principal;
    roles_out(id.roles, roles, &resp.n_roles);
    resp.roles = roles;
    rv = rpc_reply(ctx, &resp.base);
    OPENSSL_cleanse(token, sizeof(token));
    return rv;
}

/* ---- Admin ------------------------------------------------------------ */

static void info_fill(const directory_entry *e, Grep11__ApiKeyInfo *info, char keyid[32],
                      char *roles[8], ProtobufCBinaryData grants[AUTH_MAX_GRANTS])
{
    grep11__api_key_info__init(info);
    auth_b64url_encode(e->rec.key_id, AUTH_KEY_ID_LEN, keyid, 32);
    info->keyid = keyid;
    info->principal = (char *)e->principal;
    roles_out(e->roles, roles, &info->n_roles);
    info->roles = roles;
    for (size_t i = 0; i < e->ngrants; i++) {
        grants[i].data = (uint8_t *)e->grants[i];
        grants[i].len = 16;
    }
    info->n_grants = e->ngrants;
    info->grants = grants;
    info->certidentity = (char *)e->cert_identity;
    info->createdat = e->created_at;
    info->revoked = e->revoked;
}

typedef struct {
    uint32_t roles;
    const uint8_t (*grants)[16];
    char *key;
    directory_entry *e;
} create_key_args;

static CK_RV create_key_write(rpc_ctx *ctx, store_with *w, void *arg)
{
    const Grep11__CreateApiKeyRequest *req = (const void *)ctx->req;
    create_key_args *a = arg;
    return directory_create_key(ctx->svc->dir, req->principal, a->roles, a->grants, req->n_grants,
                                req->certidentity, w, a->key, a->e);
}

CK_RV h_admin_create_api_key(rpc_ctx *ctx)
{
    const Grep11__CreateApiKeyRequest *req = (const void *)ctx->req;
    uint32_t roles = 0;
    uint8_t grants[AUTH_MAX_GRANTS][16];
    if (!req->principal || !req->principal[0] || strlen(req->principal) > AUTH_MAX_PRINCIPAL)
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "Principal must be 1..%d bytes",
                        AUTH_MAX_PRINCIPAL);
    for (size_t i = 0; i < req->n_roles; i++) {
        uint32_t bit;
        if (auth_role_parse(req->roles[i], &bit) != 0)
            return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "unknown role");
        roles |= bit;
    }
    if (!roles)
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "at least one role is needed");
    if (req->n_grants > AUTH_MAX_GRANTS)
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "at most %d grants", AUTH_MAX_GRANTS);
    for (size_t i = 0; i < req->n_grants; i++) {
        if (req->grants[i].len != 16)
            return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "a grant is a 16-byte keystore UUID");
        memcpy(grants[i], req->grants[i].data, 16);
    }
    if (req->certidentity && strlen(req->certidentity) > AUTH_MAX_CERT_ID)
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "CertIdentity too long");

    char key[AUTH_API_KEY_MAX], keyid[32];
    directory_entry e;
    create_key_args a = {roles, (const uint8_t(*)[16])grants, key, &e};
    static const ProtobufCBinaryData no_request;
    CK_RV rv = rpc_write_tied(ctx, no_request, create_key_write, &a);
    if (rv != CKR_OK)
        return rv;
    Grep11__CreateApiKeyResponse resp = GREP11__CREATE_API_KEY_RESPONSE__INIT;
    Grep11__ApiKeyInfo info;
    char *rnames[8];
    ProtobufCBinaryData g[AUTH_MAX_GRANTS];
    info_fill(&e, &info, keyid, rnames, g);
    resp.apikey = key;
    resp.info = &info;
    rv = rpc_reply(ctx, &resp.base);
    OPENSSL_cleanse(key, sizeof(key));
    return rv;
}

CK_RV h_admin_list_api_keys(rpc_ctx *ctx)
{
    directory_entry *all = NULL;
    size_t n = 0;
    CK_RV rv = directory_list(ctx->svc->dir, &all, &n);
    if (rv != CKR_OK)
        return rv;
    Grep11__ApiKeyInfo *infos = calloc(n ? n : 1, sizeof(*infos));
    Grep11__ApiKeyInfo **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
    char(*ids)[32] = calloc(n ? n : 1, 32);
    char *(*rnames)[8] = calloc(n ? n : 1, sizeof(*rnames));
    ProtobufCBinaryData(*g)[AUTH_MAX_GRANTS] = calloc(n ? n : 1, sizeof(*g));
    if (!infos || !ptrs || !ids || !rnames || !g) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        info_fill(&all[i], &infos[i], ids[i], rnames[i], g[i]);
        ptrs[i] = &infos[i];
    }
    Grep11__ListApiKeysResponse resp = GREP11__LIST_API_KEYS_RESPONSE__INIT;
    resp.n_keys = n;
    resp.keys = ptrs;
    rv = rpc_reply(ctx, &resp.base);
out:
    free(infos);
    free(ptrs);
    free(ids);
    free(rnames);
    free(g);
    free(all);
    return rv;
}

static CK_RV revoke_write(rpc_ctx *ctx, store_with *w, void *arg)
{
    return directory_revoke(ctx->svc->dir, arg, w);
}

CK_RV h_admin_revoke_api_key(rpc_ctx *ctx)
{
    const Grep11__RevokeApiKeyRequest *req = (const void *)ctx->req;
    uint8_t key_id[AUTH_KEY_ID_LEN];
    if (!req->keyid || auth_b64url_decode(req->keyid, strlen(req->keyid), key_id, sizeof(key_id)) !=
                           sizeof(key_id))
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "KeyID is the 16-character id of an API key");
    static const ProtobufCBinaryData no_request;
    CK_RV rv = rpc_write_tied(ctx, no_request, revoke_write, key_id);
    if (rv == CKR_GREP11_MISSING)
        return rpc_fail(ctx, rv, "no such API key");
    if (rv != CKR_OK)
        return rv;
    services_note_revoked(ctx->svc, key_id);
    Grep11__RevokeApiKeyResponse resp = GREP11__REVOKE_API_KEY_RESPONSE__INIT;
    return rpc_reply(ctx, &resp.base);
}
