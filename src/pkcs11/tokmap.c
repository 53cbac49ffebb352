/* Token objects keep one handle for the life of the process: a keystore
 * object (slot ID, object UUID) maps to the handle it was first given,
 * whether it is found again, dropped from the cache at logout and found
 * after the next login, reached from another session, or found after
 * C_Finalize and C_Initialize (handles come from one process-wide counter,
 * so they are never reused). A chained hash table keyed by the UUID
 * (random bits: its first eight bytes hash well) under a lock of its own,
 * taken after st->lock; it lives until the module is unloaded. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct tokent {
    CK_SLOT_ID slot;
    uint8_t id[16];
    CK_OBJECT_HANDLE h;
    struct tokent *next;
} tokent;

static struct {
    tokent **buckets;
    size_t nbuckets, count;
} map;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static size_t bucket(size_t nbuckets, CK_SLOT_ID slot, const uint8_t id[16])
{
    uint64_t k;
    memcpy(&k, id, sizeof(k));
    k ^= (uint64_t)slot;
    return (size_t)((k * 0x9e3779b97f4a7c15ULL) >> 32) & (nbuckets - 1);
}

static int grow(void)
{
    size_t n = map.nbuckets ? map.nbuckets * 2 : 64;
    tokent **b = calloc(n, sizeof(*b));
    if (!b)
        return 0;
    for (size_t i = 0; i < map.nbuckets; i++) {
        tokent *e = map.buckets[i];
        while (e) {
            tokent *next = e->next;
            size_t s = bucket(n, e->slot, e->id);
            e->next = b[s];
            b[s] = e;
            e = next;
        }
    }
    free(map.buckets);
    map.buckets = b;
    map.nbuckets = n;
    return 1;
}

static tokent **find(CK_SLOT_ID slot, const uint8_t id[16])
{
    if (!map.nbuckets)
        return NULL;
    for (tokent **pp = &map.buckets[bucket(map.nbuckets, slot, id)]; *pp; pp = &(*pp)->next)
        if ((*pp)->slot == slot && memcmp((*pp)->id, id, 16) == 0)
            return pp;
    return NULL;
}

CK_OBJECT_HANDLE p11_tokmap_get(CK_SLOT_ID slot, const uint8_t id[16])
{
    pthread_mutex_lock(&lock);
    tokent **pp = find(slot, id);
    CK_OBJECT_HANDLE h = pp ? (*pp)->h : CK_INVALID_HANDLE;
    pthread_mutex_unlock(&lock);
    return h;
}

CK_RV p11_tokmap_put(CK_SLOT_ID slot, const uint8_t id[16], CK_OBJECT_HANDLE h)
{
    CK_RV rv = CKR_HOST_MEMORY;
    pthread_mutex_lock(&lock);
    tokent **pp = find(slot, id), *e;
    if (pp) {
        (*pp)->h = h;
        rv = CKR_OK;
    } else if ((map.count < map.nbuckets || grow()) && (e = malloc(sizeof(*e)))) {
        size_t s = bucket(map.nbuckets, slot, id);
        e->slot = slot;
        memcpy(e->id, id, 16);
        e->h = h;
        e->next = map.buckets[s];
        map.buckets[s] = e;
        map.count++;
        rv = CKR_OK;
    }
    pthread_mutex_unlock(&lock);
    return rv;
}

void p11_tokmap_del(CK_SLOT_ID slot, const uint8_t id[16])
{
    pthread_mutex_lock(&lock);
    tokent **pp = find(slot, id);
    if (pp) {
        tokent *e = *pp;
        *pp = e->next;
        free(e);
        map.count--;
    }
    pthread_mutex_unlock(&lock);
}

void p11_tokmap_del_slot(CK_SLOT_ID slot)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < map.nbuckets; i++) {
        for (tokent **pp = &map.buckets[i]; *pp;) {
            tokent *e = *pp;
            if (e->slot == slot) {
                *pp = e->next;
                free(e);
                map.count--;
            } else {
                pp = &e->next;
            }
        }
    }
    pthread_mutex_unlock(&lock);
}

/* In a forked child (one thread): the lock may have been held by a thread
 * that is gone; the table itself is consistent, as every change to it
 * happens under the lock. */
void p11_tokmap_after_fork(void)
{
    pthread_mutex_init(&lock, NULL);
}

__attribute__((destructor)) static void p11_tokmap_unload(void)
{
    for (size_t i = 0; i < map.nbuckets; i++) {
        tokent *e = map.buckets[i];
        while (e) {
            tokent *next = e->next;
            free(e);
            e = next;
        }
    }
    free(map.buckets);
    memset(&map, 0, sizeof(map));
}
