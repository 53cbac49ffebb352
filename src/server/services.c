#include "services.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static void store_log(void *ctx, const char *msg)
{
    (void)ctx;
    log_warn("component=store msg=\"%s\"", msg);
}

CK_RV services_open(const server_config *cfg, engine *eng, services **out, char *err, size_t errlen)
{
    services *svc = calloc(1, sizeof(*svc));
    char url[4200];
    uint8_t dir_key[32], tok_key[32];
    CK_RV rv;
    if (!svc)
        return CKR_HOST_MEMORY;
    pthread_mutex_init(&svc->rev_lock, NULL);
    svc->eng = eng;
    svc->auth_enabled = cfg->auth_enabled;
    svc->token_ttl_s = cfg->token_ttl_s;
    if (cfg->instance_id)
        snprintf(svc->instance_id, sizeof(svc->instance_id), "%s", cfg->instance_id);
    svc->rl = ratelimit_new(10, 6000); /* 10 failures, then one per 6 s */
    /* A ceremony prepares a few dozen commands; a flood gets one a second. */
    svc->prepare_rl = ratelimit_new(32, 1000);
    if (cfg->store_url)
        snprintf(url, sizeof(url), "%s", cfg->store_url);
    else
        snprintf(url, sizeof(url), "sqlite:%s/keystore.db", cfg->data_dir);
    store_options so;
    config_store_options(cfg, &so);
    so.log = store_log;
    rv = store_open(url, &so, &svc->st);
    if (rv != CKR_OK) {
        snprintf(err, errlen, "cannot open the keystore database (%s)",
                 strncmp(url, "sqlite:", 7) == 0 ? url : "postgresql");
        goto fail;
    }
    if (!eng) { /* custody: the identity keys come at unlock */
        if (!svc->rl || !svc->prepare_rl) {
            rv = CKR_HOST_MEMORY;
            goto fail;
        }
        *out = svc;
        return CKR_OK;
    }
    if ((rv = engine_derive_purpose_key(eng, "auth-token", tok_key)) != CKR_OK ||
        (rv = engine_derive_purpose_key(eng, "identity-records", dir_key)) != CKR_OK) {
        OPENSSL_cleanse(tok_key, sizeof(tok_key));
        OPENSSL_cleanse(dir_key, sizeof(dir_key));
        snprintf(err, errlen, "cannot derive authentication keys");
        goto fail;
    }
    svc->token_key = auth_token_key_new(tok_key);
    OPENSSL_cleanse(tok_key, sizeof(tok_key));
    if (svc->token_key == NULL) {
        OPENSSL_cleanse(dir_key, sizeof(dir_key));
        rv = CKR_HOST_MEMORY;
        snprintf(err, errlen, "cannot set up the token key");
        goto fail;
    }
    rv = directory_open(svc->st, dir_key, &svc->dir);
    OPENSSL_cleanse(dir_key, sizeof(dir_key));
    if (rv != CKR_OK) {
        snprintf(err, errlen, "cannot open the identity directory");
        goto fail;
    }
    if (!svc->rl || !svc->prepare_rl) {
        rv = CKR_HOST_MEMORY;
        goto fail;
    }
    *out = svc;
    return CKR_OK;
fail:
    services_close(svc);
    return rv;
}

CK_RV services_set_identity(services *svc, const uint8_t token_key[32], const uint8_t dir_key[32])
{
    directory *d = NULL;
    auth_token_key *k = auth_token_key_new(token_key);
    CK_RV rv = k ? directory_open(svc->st, dir_key, &d) : CKR_HOST_MEMORY;
    if (rv != CKR_OK) {
        auth_token_key_free(k);
        return rv;
    }
    directory_close(svc->dir);
    svc->dir = d;
    auth_token_key_free(svc->token_key);
    svc->token_key = k;
    return CKR_OK;
}

void services_clear_identity(services *svc)
{
    directory_close(svc->dir);
    svc->dir = NULL;
    auth_token_key_free(svc->token_key);
    svc->token_key = NULL;
}

void services_close(services *svc)
{
    if (!svc)
        return;
    directory_close(svc->dir);
    if (svc->st)
        store_close(svc->st);
    ratelimit_free(svc->rl);
    ratelimit_free(svc->prepare_rl);
    auth_token_key_free(svc->token_key);
    free(svc->revoked);
    pthread_mutex_destroy(&svc->rev_lock);
    free(svc);
}

static uint64_t now_s(void)
{
    return (uint64_t)time(NULL);
}

static int id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, AUTH_KEY_ID_LEN);
}

/* Reloads the revoked ids from the directory; one thread at a time, and a
 * failed reload keeps the old list (a database outage must not un-revoke).
 * The list is complete: a revoked key's tokens must stay refused for as
 * long as any of them can be valid, and revoked records are never deleted,
 * so every one of them is kept (16 bytes each), sorted for lookups. */
static void refresh_revocations(services *svc)
{
    directory_entry *all = NULL;
    size_t n = 0;
    if (directory_list(svc->dir, &all, &n) != CKR_OK)
        return;
    size_t k = 0;
    uint8_t(*ids)[AUTH_KEY_ID_LEN] = calloc(n ? n : 1, AUTH_KEY_ID_LEN);
    if (ids) {
        for (size_t i = 0; i < n; i++)
            if (all[i].revoked)
                memcpy(ids[k++], all[i].rec.key_id, AUTH_KEY_ID_LEN);
        qsort(ids, k, AUTH_KEY_ID_LEN, id_cmp);
        pthread_mutex_lock(&svc->rev_lock);
        /* A revocation noted here after the list was read stays noted. */
        size_t extra = 0;
        for (size_t i = 0; i < svc->nrevoked; i++)
            if (!bsearch(svc->revoked[i], ids, k, AUTH_KEY_ID_LEN, id_cmp))
                extra++;
        uint8_t(*merged)[AUTH_KEY_ID_LEN] =
            extra ? realloc(ids, (k + extra) * AUTH_KEY_ID_LEN) : ids;
        if (merged) {
            ids = merged;
            for (size_t i = 0, e = k; i < svc->nrevoked && extra; i++)
                if (!bsearch(svc->revoked[i], ids, k, AUTH_KEY_ID_LEN, id_cmp))
                    memcpy(ids[e++], svc->revoked[i], AUTH_KEY_ID_LEN);
            k += extra;
            qsort(ids, k, AUTH_KEY_ID_LEN, id_cmp);
            free(svc->revoked);
            svc->revoked = ids;
            svc->nrevoked = k;
        } else {
            free(ids); /* out of memory: keep the old list */
        }
        pthread_mutex_unlock(&svc->rev_lock);
    }
    OPENSSL_cleanse(all, n * sizeof(*all));
    free(all);
}

int services_is_revoked(services *svc, const uint8_t key_id[AUTH_KEY_ID_LEN])
{
    uint64_t now = now_s();
    int due = 0;
    pthread_mutex_lock(&svc->rev_lock);
    if (now >= svc->rev_refreshed_s + REVOCATION_REFRESH_S) {
        svc->rev_refreshed_s = now; /* claim the refresh for this thread */
        due = 1;
    }
    pthread_mutex_unlock(&svc->rev_lock);
    if (due)
        refresh_revocations(svc);
    pthread_mutex_lock(&svc->rev_lock);
    int found = bsearch(key_id, svc->revoked, svc->nrevoked, AUTH_KEY_ID_LEN, id_cmp) != NULL;
    pthread_mutex_unlock(&svc->rev_lock);
    return found;
}

void services_note_revoked(services *svc, const uint8_t key_id[AUTH_KEY_ID_LEN])
{
    pthread_mutex_lock(&svc->rev_lock);
    uint8_t(*bigger)[AUTH_KEY_ID_LEN] =
        realloc(svc->revoked, (svc->nrevoked + 1) * AUTH_KEY_ID_LEN);
    if (bigger) {
        svc->revoked = bigger;
        memcpy(svc->revoked[svc->nrevoked++], key_id, AUTH_KEY_ID_LEN);
        qsort(svc->revoked, svc->nrevoked, AUTH_KEY_ID_LEN, id_cmp);
    }
    pthread_mutex_unlock(&svc->rev_lock);
}

CK_RV services_authorize(services *svc, rpc_ctx *ctx)
{
    /* IBM's clients name their instance (bluemix-instance); one that names
     * another instance was configured for another service. */
    if (svc->instance_id[0] && ctx->instance && strcmp(ctx->instance, svc->instance_id) != 0) {
        ctx->code_override = GRPC_STATUS_PERMISSION_DENIED;
        return rpc_fail(ctx, CKR_GREP11_PERMISSION_DENIED,
                        "bluemix-instance names another instance than this one");
    }
    if (ctx->method->roles == 0)
        return CKR_OK;
    if (!svc->auth_enabled) {
        /* Development setting: everyone may do everything. */
        ctx->who.roles = AUTH_ROLE_ALL;
        return CKR_OK;
    }
    const char *h = ctx->authorization;
    if (!h || strncmp(h, "Bearer ", 7) != 0)
        return rpc_fail(ctx, CKR_IBM_GREP11_NOT_AUTHENTICATED,
                        "a bearer token is required (grep11.Auth/Token)");
    CK_RV rv = auth_token_verify(svc->token_key, h + 7, now_s(), &ctx->who);
    if (rv != CKR_OK)
        return rpc_fail(ctx, CKR_IBM_GREP11_NOT_AUTHENTICATED, "invalid or expired token");
    if (services_is_revoked(svc, ctx->who.key_id))
        return rpc_fail(ctx, CKR_IBM_GREP11_NOT_AUTHENTICATED, "the API key was revoked");
    if (ctx->who.cert_identity[0] &&
        (!ctx->peer_identity || strcmp(ctx->who.cert_identity, ctx->peer_identity) != 0))
        return rpc_fail(ctx, CKR_IBM_GREP11_NOT_AUTHENTICATED,
                        "the token is bound to another client certificate");
    if (!(ctx->who.roles & ctx->method->roles))
        return rpc_fail(ctx, CKR_GREP11_PERMISSION_DENIED, "the caller's roles do not allow %s",
                        ctx->method->path);
    ctx->authenticated = 1;
    return CKR_OK;
}
