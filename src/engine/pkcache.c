/* Set-associative memo of EVP_PKEYs: sets of KC_WAYS entries, the least
 * recently used way of a set replaced on insert. One mutex per stripe of
 * sets, held only for a lookup or an insert, never across cryptography. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "pkcache.h"

#define KC_WAYS 4
#define KC_STRIPES 16

typedef struct {
    uint8_t id[PKCACHE_ID_LEN];
    EVP_PKEY *pk;    /* NULL: empty way */
    pkc_signer sign; /* template for signing with pk; only ever copied */
    uint64_t used;   /* stamp of the last hit or insert */
} kc_entry;

struct pkcache {
    size_t nsets;
    kc_entry *e; /* nsets * KC_WAYS */
    uint64_t stamp[KC_STRIPES];
    pthread_mutex_t lock[KC_STRIPES];
};

pkcache *pkcache_new(size_t entries)
{
    pkcache *c;
    if (entries == 0)
        return NULL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return NULL;
    c->nsets = (entries + KC_WAYS - 1) / KC_WAYS;
    if ((c->e = calloc(c->nsets * KC_WAYS, sizeof(*c->e))) == NULL) {
        free(c);
        return NULL;
    }
    for (int i = 0; i < KC_STRIPES; i++)
        pthread_mutex_init(&c->lock[i], NULL);
    return c;
}

void pkcache_free(pkcache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nsets * KC_WAYS; i++) {
        pkc_signer_free(&c->e[i].sign);
        EVP_PKEY_free(c->e[i].pk);
    }
    OPENSSL_cleanse(c->e, c->nsets * KC_WAYS * sizeof(*c->e));
    for (int i = 0; i < KC_STRIPES; i++)
        pthread_mutex_destroy(&c->lock[i]);
    free(c->e);
    free(c);
}

/* The id is a SHA-256 output, so any 8 of its bytes index uniformly. */
static size_t set_of(const pkcache *c, const uint8_t id[PKCACHE_ID_LEN])
{
    uint64_t h;
    memcpy(&h, id, sizeof(h));
    return (size_t)(h % c->nsets);
}

void pkc_signer_free(pkc_signer *s)
{
    EVP_PKEY_CTX_free(s->pctx);
    EVP_MD_CTX_free(s->mctx);
    s->pctx = NULL;
    s->mctx = NULL;
}

int pkc_signer_dup(pkc_signer *dst, const pkc_signer *src)
{
    dst->pctx = NULL;
    dst->mctx = NULL;
    if (src->pctx != NULL && (dst->pctx = EVP_PKEY_CTX_dup(src->pctx)) == NULL)
        return 0;
    if (src->mctx != NULL &&
        ((dst->mctx = EVP_MD_CTX_new()) == NULL || EVP_MD_CTX_copy_ex(dst->mctx, src->mctx) != 1)) {
        pkc_signer_free(dst);
        return 0;
    }
    return 1;
}

/* The way holding id in its set, or NULL; called with the set's lock held. */
static kc_entry *find_locked(kc_entry *set, const uint8_t id[PKCACHE_ID_LEN])
{
    for (int w = 0; w < KC_WAYS; w++)
        if (set[w].pk != NULL && CRYPTO_memcmp(set[w].id, id, PKCACHE_ID_LEN) == 0)
            return &set[w];
    return NULL;
}

EVP_PKEY *pkcache_get_signer(pkcache *c, const uint8_t id[PKCACHE_ID_LEN], pkc_signer *sign)
{
    EVP_PKEY *pk = NULL;
    kc_entry *hit;
    if (sign != NULL) {
        sign->pctx = NULL;
        sign->mctx = NULL;
    }
    if (c == NULL)
        return NULL;
    size_t s = set_of(c, id);
    pthread_mutex_t *m = &c->lock[s % KC_STRIPES];

    pthread_mutex_lock(m);
    if ((hit = find_locked(&c->e[s * KC_WAYS], id)) != NULL && EVP_PKEY_up_ref(hit->pk) == 1) {
        pk = hit->pk;
        hit->used = ++c->stamp[s % KC_STRIPES];
        /* Copied under the lock: an eviction may free the template. A
         * failed copy only costs this call the setup. */
        if (sign != NULL)
            (void)pkc_signer_dup(sign, &hit->sign);
    }
    pthread_mutex_unlock(m);
    return pk;
}

EVP_PKEY *pkcache_get(pkcache *c, const uint8_t id[PKCACHE_ID_LEN])
{
    return pkcache_get_signer(c, id, NULL);
}

void pkcache_put_signer(pkcache *c, const uint8_t id[PKCACHE_ID_LEN], pkc_signer *tmpl)
{
    kc_entry *hit;
    if (c != NULL) {
        size_t s = set_of(c, id);
        pthread_mutex_t *m = &c->lock[s % KC_STRIPES];
        pthread_mutex_lock(m);
        if ((hit = find_locked(&c->e[s * KC_WAYS], id)) != NULL && hit->sign.pctx == NULL &&
            hit->sign.mctx == NULL) {
            hit->sign = *tmpl;
            tmpl->pctx = NULL;
            tmpl->mctx = NULL;
        }
        pthread_mutex_unlock(m);
    }
    pkc_signer_free(tmpl); /* outside the lock; no-op when taken over */
}

void pkcache_put(pkcache *c, const uint8_t id[PKCACHE_ID_LEN], EVP_PKEY *pk)
{
    EVP_PKEY *old = NULL;
    pkc_signer old_sign = {NULL, NULL};
    if (c == NULL || pk == NULL || EVP_PKEY_up_ref(pk) != 1)
        return;
    size_t s = set_of(c, id);
    pthread_mutex_t *m = &c->lock[s % KC_STRIPES];
    kc_entry *set = &c->e[s * KC_WAYS];
    int victim = 0;

    pthread_mutex_lock(m);
    if (find_locked(set, id) != NULL) {
        old = pk; /* another thread built the same key meanwhile */
    } else {
        for (int w = 1; w < KC_WAYS; w++)
            if (set[victim].pk != NULL && (set[w].pk == NULL || set[w].used < set[victim].used))
                victim = w;
        old = set[victim].pk;
        old_sign = set[victim].sign;
        memcpy(set[victim].id, id, PKCACHE_ID_LEN);
        set[victim].pk = pk;
        set[victim].sign.pctx = NULL;
        set[victim].sign.mctx = NULL;
        set[victim].used = ++c->stamp[s % KC_STRIPES];
    }
    pthread_mutex_unlock(m);
    /* Outside the lock: freeing an RSA key is not free. */
    pkc_signer_free(&old_sign);
    EVP_PKEY_free(old);
}
