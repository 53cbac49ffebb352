/* Mutexes: the application's callbacks when it gave them, else pthreads
 * (PKCS #11 §5.4: CKF_OS_LOCKING_OK with callbacks -> either; callbacks
 * alone -> them; neither -> the application is single-threaded, but gRPC is
 * not, so OS locks are used anyway). */
#include <pthread.h>
#include <stdlib.h>

#include "internal.h"

static CK_RV os_create(void **m)
{
    pthread_mutex_t *p = malloc(sizeof(*p));
    if (!p)
        return CKR_HOST_MEMORY;
    if (pthread_mutex_init(p, NULL) != 0) {
        free(p);
        return CKR_GENERAL_ERROR;
    }
    *m = p;
    return CKR_OK;
}

static CK_RV os_destroy(void *m)
{
    pthread_mutex_destroy(m);
    free(m);
    return CKR_OK;
}

static CK_RV os_lock(void *m)
{
    return pthread_mutex_lock(m) == 0 ? CKR_OK : CKR_GENERAL_ERROR;
}

static CK_RV os_unlock(void *m)
{
    return pthread_mutex_unlock(m) == 0 ? CKR_OK : CKR_GENERAL_ERROR;
}

CK_RV p11_locking_choose(const CK_C_INITIALIZE_ARGS *args, p11_lockops *out)
{
    static const p11_lockops os = {os_create, os_destroy, os_lock, os_unlock};
    *out = os;
    if (!args)
        return CKR_OK;
    if (args->pReserved)
        return CKR_ARGUMENTS_BAD;
    int given = (args->CreateMutex != NULL) + (args->DestroyMutex != NULL) +
                (args->LockMutex != NULL) + (args->UnlockMutex != NULL);
    if (given != 0 && given != 4)
        return CKR_ARGUMENTS_BAD;
    /* Prefer OS locks when allowed: they cannot fail in odd ways. */
    if (given == 4 && !(args->flags & CKF_OS_LOCKING_OK)) {
        out->create = args->CreateMutex;
        out->destroy = args->DestroyMutex;
        out->lock = args->LockMutex;
        out->unlock = args->UnlockMutex;
    }
    return CKR_OK;
}

CK_RV p11_mutex_new(void **m)
{
    *m = NULL;
    return P11.lockops.create(m);
}

void p11_mutex_free(void *m)
{
    if (m)
        P11.lockops.destroy(m);
}

void p11_mutex_lock(void *m)
{
    (void)P11.lockops.lock(m);
}

void p11_mutex_unlock(void *m)
{
    (void)P11.lockops.unlock(m);
}
