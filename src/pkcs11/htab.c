/* A chained hash table from handles to pointers, grown by doubling. */
#include <stdlib.h>

#include "internal.h"

struct p11_hent {
    CK_ULONG key;
    void *val;
    p11_hent *next;
};

static size_t slot_of(const p11_htab *t, CK_ULONG key)
{
    uint64_t h = (uint64_t)key * 0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 32) & (t->nbuckets - 1);
}

static CK_RV grow(p11_htab *t)
{
    size_t n = t->nbuckets ? t->nbuckets * 2 : 64;
    p11_hent **b = calloc(n, sizeof(*b));
    if (!b)
        return CKR_HOST_MEMORY;
    p11_htab nt = {b, n, t->count};
    for (size_t i = 0; i < t->nbuckets; i++) {
        p11_hent *e = t->buckets[i];
        while (e) {
            p11_hent *next = e->next;
            size_t s = slot_of(&nt, e->key);
            e->next = b[s];
            b[s] = e;
            e = next;
        }
    }
    free(t->buckets);
    *t = nt;
    return CKR_OK;
}

CK_RV p11_htab_put(p11_htab *t, CK_ULONG key, void *val)
{
    if (t->count >= t->nbuckets && grow(t) != CKR_OK)
        return CKR_HOST_MEMORY;
    p11_hent *e = malloc(sizeof(*e));
    if (!e)
        return CKR_HOST_MEMORY;
    size_t s = slot_of(t, key);
    e->key = key;
    e->val = val;
    e->next = t->buckets[s];
    t->buckets[s] = e;
    t->count++;
    return CKR_OK;
}

void *p11_htab_get(const p11_htab *t, CK_ULONG key)
{
    if (!t->nbuckets)
        return NULL;
    for (p11_hent *e = t->buckets[slot_of(t, key)]; e; e = e->next)
        if (e->key == key)
            return e->val;
    return NULL;
}

void *p11_htab_del(p11_htab *t, CK_ULONG key)
{
    if (!t->nbuckets)
        return NULL;
    for (p11_hent **pp = &t->buckets[slot_of(t, key)]; *pp; pp = &(*pp)->next) {
        if ((*pp)->key == key) {
            p11_hent *e = *pp;
            void *v = e->val;
            *pp = e->next;
            free(e);
            t->count--;
            return v;
        }
    }
    return NULL;
}

void p11_htab_each(const p11_htab *t, void (*fn)(CK_ULONG key, void *val, void *arg), void *arg)
{
    for (size_t i = 0; i < t->nbuckets; i++)
        for (p11_hent *e = t->buckets[i]; e; e = e->next)
            fn(e->key, e->val, arg);
}

void p11_htab_free(p11_htab *t)
{
    for (size_t i = 0; i < t->nbuckets; i++) {
        p11_hent *e = t->buckets[i];
        while (e) {
            p11_hent *next = e->next;
            free(e);
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = NULL;
    t->nbuckets = t->count = 0;
}
