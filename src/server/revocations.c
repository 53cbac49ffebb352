/* The revoked-key list of services.h: loaded from the identity directory
 * by a thread of its own, complete (every revoked key, however many),
 * sorted, and searched in memory by every authenticated call. */
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "directory.h"
#include "services.h"

static uint64_t mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec;
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
/* One cheap indexed read tells whether the database answers. */
static void probe_store(services *svc)
{
    store_ks_info info;
    CK_RV rv = store_keystore_lookup(svc->st, &directory_keystore, &info);
    pthread_mutex_lock(&svc->rev_lock);
    svc->store_ok = rv == CKR_OK || rv == CKR_TOKEN_NOT_PRESENT;
    svc->store_checked_s = mono_s();
    pthread_mutex_unlock(&svc->rev_lock);
}

int services_store_ok(services *svc)
{
    pthread_mutex_lock(&svc->rev_lock);
    int ok = svc->store_ok && mono_s() <= svc->store_checked_s + 3 * REVOCATION_REFRESH_S;
    pthread_mutex_unlock(&svc->rev_lock);
    return ok;
}

void services_revocations_reload(services *svc)
{
    directory_entry *all = NULL;
    size_t n = 0;
    probe_store(svc);
    pthread_mutex_lock(&svc->dir_lock);
    CK_RV rv = svc->dir ? directory_list(svc->dir, &all, &n) : CKR_GREP11_LOCKED;
    pthread_mutex_unlock(&svc->dir_lock);
    if (rv != CKR_OK)
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
            svc->rev_loaded_s = mono_s();
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
    pthread_mutex_lock(&svc->rev_lock);
    int found = bsearch(key_id, svc->revoked, svc->nrevoked, AUTH_KEY_ID_LEN, id_cmp) != NULL;
    if (!found && mono_s() > svc->rev_loaded_s + REVOCATION_STALE_S)
        found = -1;
    pthread_mutex_unlock(&svc->rev_lock);
    return found;
}

/* The reloader: every REVOCATION_REFRESH_S, and at once when woken (an
 * identity key just arrived). A reload that fails keeps the last list. */
static void *revocation_loop(void *arg)
{
    services *svc = arg;
    pthread_mutex_lock(&svc->rev_lock);
    while (!svc->rev_stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += REVOCATION_REFRESH_S;
        int rc = 0;
        while (!svc->rev_stop && !svc->rev_kick && rc == 0)
            rc = pthread_cond_timedwait(&svc->rev_wake, &svc->rev_lock, &until);
        svc->rev_kick = 0;
        if (svc->rev_stop)
            break;
        pthread_mutex_unlock(&svc->rev_lock);
        services_revocations_reload(svc);
        pthread_mutex_lock(&svc->rev_lock);
    }
    pthread_mutex_unlock(&svc->rev_lock);
    return NULL;
}

CK_RV services_revocations_start(services *svc)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&svc->rev_wake, &ca);
    pthread_condattr_destroy(&ca);
    /* The first load is made before any call is served (a revoked key
     * must not slip through while the thread starts); under custody the
     * directory comes at unlock (services_set_identity). */
    svc->rev_loaded_s = mono_s();
    services_revocations_reload(svc);
    if (pthread_create(&svc->rev_thread, NULL, revocation_loop, svc) != 0)
        return CKR_HOST_MEMORY;
    svc->rev_thread_started = 1;
    return CKR_OK;
}

void services_revocations_stop(services *svc)
{
    if (!svc->rev_thread_started)
        return;
    pthread_mutex_lock(&svc->rev_lock);
    svc->rev_stop = 1;
    pthread_cond_broadcast(&svc->rev_wake);
    pthread_mutex_unlock(&svc->rev_lock);
    pthread_join(svc->rev_thread, NULL);
    svc->rev_thread_started = 0;
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
