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
    pthread_mutex_init(&svc->dir_lock, NULL);
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
        if (!svc->rl || !svc->prepare_rl || (rv = services_revocations_start(svc)) != CKR_OK) {
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
    if (!svc->rl || !svc->prepare_rl || services_revocations_start(svc) != CKR_OK) {
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
    pthread_mutex_lock(&svc->dir_lock);
    directory_close(svc->dir);
    svc->dir = d;
    pthread_mutex_unlock(&svc->dir_lock);
    auth_token_key_free(svc->token_key);
    svc->token_key = k;
    services_revocations_reload(svc); /* before the first call of the unlocked instance */
    return CKR_OK;
}

void services_clear_identity(services *svc)
{
    pthread_mutex_lock(&svc->dir_lock);
    directory_close(svc->dir);
    svc->dir = NULL;
    pthread_mutex_unlock(&svc->dir_lock);
    auth_token_key_free(svc->token_key);
    svc->token_key = NULL;
}

void services_close(services *svc)
{
    if (!svc)
        return;
    services_revocations_stop(svc);
    directory_close(svc->dir);
    if (svc->st)
        store_close(svc->st);
    ratelimit_free(svc->rl);
    ratelimit_free(svc->prepare_rl);
    auth_token_key_free(svc->token_key);
    free(svc->revoked);
    pthread_mutex_destroy(&svc->rev_lock);
    pthread_mutex_destroy(&svc->dir_lock);
    free(svc);
}

static uint64_t now_s(void)
{
    return (uint64_t)time(NULL);
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
    int revoked = services_is_revoked(svc, ctx->who.key_id);
    if (revoked < 0)
        return rpc_fail(ctx, CKR_DEVICE_ERROR,
                        "the list of revoked keys could not be reloaded for %d s",
                        REVOCATION_STALE_S);
    if (revoked)
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
