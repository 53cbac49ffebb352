/* Engine context lifecycle, policy defaults and random numbers. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "internal.h"

static void policy_fill_defaults(engine_policy *p)
{
    if (p->min_rsa_bits == 0)
        p->min_rsa_bits = 2048;
    if (p->min_generic_secret_bytes == 0)
        p->min_generic_secret_bytes = 14;
    if (p->max_generic_secret_bytes == 0)
        p->max_generic_secret_bytes = 512;
    if (p->max_gcm_buffer == 0)
        p->max_gcm_buffer = 64UL * 1024 * 1024;
    if (p->key_cache_entries == 0)
        p->key_cache_entries = 1024;
}

CK_RV engine_create(const uint8_t wk[32], const engine_policy *policy, engine **out)
{
    CK_RV rv = CKR_HOST_MEMORY;
    engine *e = NULL;

    if (wk == NULL || out == NULL)
        return CKR_ARGUMENTS_BAD;
    *out = NULL;
    e = calloc(1, sizeof(*e));
    if (e == NULL)
        goto out;
    e->owner = true;
    if (policy != NULL)
        e->pol = *policy;
    policy_fill_defaults(&e->pol);
    if (e->pol.min_generic_secret_bytes > e->pol.max_generic_secret_bytes) {
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    if ((e->d = calloc(1, sizeof(*e->d))) == NULL || (e->view = calloc(1, sizeof(*e))) == NULL)
        goto out;
    e->view->d = e->d;
    e->view->pol = e->pol;
    e->view->pol.flags |= ENGINE_POLICY_NO_TRUSTED;
    e->view->view = e->view;
    if ((rv = mk_register_load(&e->d->cur, wk)) != CKR_OK)
        goto out;
    if (!(e->pol.flags & ENGINE_POLICY_NO_KEY_CACHE) &&
        (e->d->kcache = pkcache_new(e->pol.key_cache_entries)) == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    *out = e;
    e = NULL;
out:
    engine_destroy(e);
    return rv;
}

engine *engine_untrusted_view(engine *e)
{
    return e ? e->view : NULL;
}

void engine_destroy(engine *e)
{
    if (e == NULL || !e->owner)
        return;
    if (e->d) {
        mk_register_clear(&e->d->cur);
        mk_register_clear(&e->d->nxt);
        pkcache_free(e->d->kcache);
        OPENSSL_cleanse(e->d, sizeof(*e->d));
        free(e->d);
    }
    free(e->view);
    OPENSSL_cleanse(e, sizeof(*e));
    free(e);
}

CK_RV engine_generate_random(engine *e, uint8_t *out, size_t len)
{
    if (e == NULL || out == NULL || len == 0 || len > ENGINE_MAX_RANDOM)
        return CKR_ARGUMENTS_BAD;
    /* OpenSSL's public DRBG is per-thread, so concurrent callers do not contend. */
    if (RAND_bytes(out, (int)len) != 1)
        return CKR_DEVICE_ERROR;
    return CKR_OK;
}
