#include "audit.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytes.h"
#include "directory.h"
#include "journal.h"

#define ENTRY_MAX 4096
#define TEXT_MAX 1024
#define BATCH_MAX 256       /* entries in one group commit */
#define CONFLICT_RETRIES 32 /* another replica moved the head first */

/* One caller of audit_append, queued until its entry is written (or the
 * write failed). Lives on the caller's stack. */
typedef struct waiter {
    struct waiter *next;
    const char *event, *actor, *detail;
    CK_RV rv;
    int done;
} waiter;

struct audit {
    store *st;
    pthread_mutex_t mu; /* the queue, writing, the key */
    pthread_cond_t cv;  /* a batch finished */
    waiter *first, **last;
    int writing; /* a leader is writing a batch */
    int have_key;
    uint8_t key[32];
    /* The chain as stored: touched only by the leader of the moment (or
     * by audit_verify on its own copy). */
    int loaded, have_head;
    uint64_t seq; /* of the head entry */
    uint8_t hash[32];
    store_uuid head_uuid;
    uint64_t head_version;
};

/* The head record's UUID when this code creates it: two replicas starting
 * a chain meet on the primary key. (A head written by earlier versions has
 * a random UUID; it is found by its label like any other.) */
static const store_uuid head_id = {
    {'g', 'r', 'e', 'p', '1', '1', 'A', 'u', 'd', 'i', 't', 'H', 'e', 'a', 'd', '1'}};

CK_RV audit_open(store *st, audit **out)
{
    audit *a = calloc(1, sizeof(*a));
    if (!a)
        return CKR_HOST_MEMORY;
    a->st = st;
    a->last = &a->first;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    *out = a;
    return CKR_OK;
}

void audit_close(audit *a)
{
    if (!a)
        return;
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    OPENSSL_cleanse(a->key, sizeof(a->key));
    free(a);
}

void audit_set_key(audit *a, const uint8_t key[32])
{
    pthread_mutex_lock(&a->mu);
    a->have_key = key != NULL;
    if (key)
        memcpy(a->key, key, 32);
    else
        OPENSSL_cleanse(a->key, sizeof(a->key));
    pthread_mutex_unlock(&a->mu);
}

static void hmac(const uint8_t key[32], const uint8_t *d, size_t n, uint8_t out[32])
{
    unsigned int l = 0;
    HMAC(EVP_sha256(), key, 32, d, n, out, &l);
}

static void seq_id(uint64_t seq, uint8_t id[8])
{
    for (int i = 0; i < 8; i++)
        id[i] = (uint8_t)(seq >> (56 - 8 * i));
}

static CK_RV find_label(store *st, const char *label, const char *cursor, size_t limit,
                        store_object **o, size_t *n, char next[STORE_CURSOR_SIZE])
{
    CK_ATTRIBUTE t = {CKA_LABEL, (void *)label, strlen(label)};
    return store_find_objects(st, &audit_keystore, NULL, &t, 1, cursor, limit, o, n, next);
}

/* head blob: u64 seq | hash[32] */
static CK_RV load_head(audit *a)
{
    store_object *o = NULL;
    size_t n = 0;
    char next[STORE_CURSOR_SIZE];
    CK_RV rv = find_label(a->st, "head", NULL, 2, &o, &n, next);
    if (rv != CKR_OK)
        return rv;
    a->have_head = n > 0;
    a->seq = 0;
    memset(a->hash, 0, 32);
    if (n > 0) {
        if (o[0].blob_len != 40) {
            store_objects_free(o, n);
            return CKR_IBM_GREP11_DBINTERNAL;
        }
        cr_buf r;
        cr_init(&r, o[0].blob, 40);
        a->seq = cr_u64(&r);
        memcpy(a->hash, cr_ptr(&r, 32), 32);
        a->head_uuid = o[0].uuid;
        a->head_version = o[0].version;
    }
    store_objects_free(o, n);
    a->loaded = 1;
    return CKR_OK;
}

/* The entry bytes (without the MAC trailer) for seq after prev. */
static int entry_encode(cw_buf *w, uint64_t seq, const uint8_t prev[32], const char *event,
                        const char *actor, const char *detail)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    cw_init(w, ENTRY_MAX);
    cw_u64(w, seq);
    cw_u64(w, (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
    cw_put(w, prev, 32);
    cw_lv(w, event, strnlen(event, TEXT_MAX));
    cw_lv(w, actor, strnlen(actor, TEXT_MAX));
    cw_lv(w, detail, strnlen(detail, TEXT_MAX));
    return w->err ? -1 : 0;
}

/* One entry of a batch being written. */
typedef struct slot {
    cw_buf w;
    uint8_t id[8];
    CK_ATTRIBUTE at[2];
} slot;

/* Encodes entry seq after prev (with its MAC when key is set) into x and
 * its hash into h. */
static CK_RV entry_make(slot *x, uint64_t seq, const uint8_t prev[32], const waiter *e,
                        const uint8_t *key, uint8_t h[32])
{
    if (entry_encode(&x->w, seq, prev, e->event, e->actor, e->detail) != 0)
        return CKR_HOST_MEMORY;
    custody_sha256(x->w.p, x->w.len, h);
    if (key) {
        uint8_t mac[32];
        hmac(key, h, 32, mac);
        cw_u8(&x->w, 32);
        cw_put(&x->w, mac, 32);
    } else {
        cw_u8(&x->w, 0);
    }
    if (x->w.err)
        return CKR_HOST_MEMORY;
    seq_id(seq, x->id);
    x->at[0] = (CK_ATTRIBUTE){CKA_LABEL, (void *)"e", 1};
    x->at[1] = (CK_ATTRIBUTE){CKA_ID, x->id, 8};
    return CKR_OK;
}

static CK_RV random_uuid(store_uuid *u)
{
    if (RAND_bytes(u->b, 16) != 1)
        return CKR_FUNCTION_FAILED;
    u->b[6] = (uint8_t)((u->b[6] & 0x0f) | 0x40);
    u->b[8] = (uint8_t)((u->b[8] & 0x3f) | 0x80);
    return CKR_OK;
}

/* Writes the n entries of batch after the head, and the new head, in one
 * store transaction. CKR_IBM_GREP11_CONFLICT: another replica moved the
 * head first (nothing was written). */
static CK_RV write_once(audit *a, const waiter *batch, size_t n, const uint8_t *key)
{
    slot *x = calloc(n, sizeof(*x));
    store_new_object *objs = calloc(n + 1, sizeof(*objs));
    store_uuid *ids = calloc(n + 1, sizeof(*ids));
    uint64_t seq = a->have_head ? a->seq + 1 : 0;
    uint8_t h[32], head[40];
    CK_ATTRIBUTE head_at = {CKA_LABEL, (void *)"head", 4};
    store_blob_update u;
    size_t i = 0, nobj = n, m = 0;
    CK_RV rv = x && objs && ids ? CKR_OK : CKR_HOST_MEMORY;

    memcpy(h, a->hash, 32);
    for (const waiter *e = batch; e && i < n && rv == CKR_OK; e = e->next, i++) {
        uint8_t prev[32];
        memcpy(prev, h, 32);
        rv = entry_make(&x[i], seq + i, prev, e, key, h);
        if (rv == CKR_OK)
            rv = random_uuid(&ids[i]);
        objs[i] = (store_new_object){x[i].w.p, x[i].w.len, x[i].at, 2};
    }
    if (rv == CKR_OK && i != n)
        rv = CKR_GENERAL_ERROR;
    if (rv != CKR_OK)
        goto out;
    seq_id(seq + n - 1, head);
    memcpy(head + 8, h, 32);
    if (a->have_head) {
        u = (store_blob_update){a->head_uuid, a->head_version, head, 40, CKR_OK, 0};
        m = 1;
    } else {
        objs[n] = (store_new_object){head, 40, &head_at, 1};
        ids[n] = head_id;
        nobj = n + 1;
    }
    rv = store_object_create_update(a->st, &audit_keystore, NULL, objs, nobj, ids, NULL, &u, m);
    if (rv != CKR_OK)
        goto out;
    if (!a->have_head) {
        a->head_uuid = head_id;
        a->head_version = 1;
    } else {
        a->head_version = u.new_version;
    }
    a->have_head = 1;
    a->seq = seq + n - 1;
    memcpy(a->hash, h, 32);
out:
    for (size_t j = 0; x && j < n; j++)
        cw_free(&x[j].w);
    free(x);
    free(objs);
    free(ids);
    return rv;
}

/* The leader's job: the batch in one transaction, after the head as
 * stored. On any failure nothing of the batch is on the chain (one
 * transaction) and the head is read again before the next batch: what is
 * in memory never runs ahead of what is stored. */
static CK_RV write_batch(audit *a, const waiter *batch, size_t n, const uint8_t *key)
{
    CK_RV rv = CKR_OK;
    for (int attempt = 0; attempt < CONFLICT_RETRIES; attempt++) {
        if (!a->loaded && (rv = load_head(a)) != CKR_OK)
            break;
        rv = write_once(a, batch, n, key);
        if (rv != CKR_IBM_GREP11_CONFLICT)
            break;
        a->loaded = 0; /* another replica appended first: after its head */
    }
    if (rv != CKR_OK)
        a->loaded = 0;
    return rv;
}

/* Group commit: callers queue their entries; whoever finds no batch being
 * written takes everything queued (up to BATCH_MAX) and writes it in one
 * transaction while the others wait. Each caller returns once the batch
 * holding its entry committed (CKR_OK) or failed (that batch's error). */
CK_RV audit_append(audit *a, const char *event, const char *actor, const char *detail)
{
    if (!a)
        return CKR_OK;
    waiter me = {NULL, event, actor ? actor : "", detail ? detail : "", CKR_OK, 0};
    pthread_mutex_lock(&a->mu);
    *a->last = &me;
    a->last = &me.next;
    while (!me.done) {
        if (a->writing) {
            pthread_cond_wait(&a->cv, &a->mu);
            continue;
        }
        waiter *batch = a->first, **cut = &a->first;
        size_t n = 0;
        while (*cut && n < BATCH_MAX) {
            cut = &(*cut)->next;
            n++;
        }
        a->first = *cut;
        *cut = NULL;
        if (!a->first)
            a->last = &a->first;
        uint8_t key[32];
        int have_key = a->have_key;
        if (have_key)
            memcpy(key, a->key, 32);
        a->writing = 1;
        pthread_mutex_unlock(&a->mu);

        CK_RV rv = write_batch(a, batch, n, have_key ? key : NULL);
        OPENSSL_cleanse(key, sizeof(key));

        pthread_mutex_lock(&a->mu);
        for (waiter *w = batch; w; w = w->next) {
            w->rv = rv;
            w->done = 1;
        }
        a->writing = 0;
        pthread_cond_broadcast(&a->cv);
    }
    CK_RV rv = me.rv;
    pthread_mutex_unlock(&a->mu);
    return rv;
}

/* ---- entries tied to a store write ----------------------------------- */

struct audit_tie {
    audit *a;
    const char *event, *actor, *detail;
    store_also also;
    int have_key;
    uint8_t key[32];
    int rows_asked; /* the write was done and asked for its entry */
    uint64_t seq;   /* of that entry */
    /* The rows of the latest attempt. */
    slot x;
    char full[TEXT_MAX];
    uint8_t h[32], head[40];
    CK_ATTRIBUTE head_at;
    store_new_object objs[2];
    store_uuid ids[2];
    store_blob_update u;
};

/* The entry names what the write did: the object and its new version. */
static CK_RV tie_rows(void *arg, const store_uuid *object, uint64_t version, store_rows *out)
{
    audit_tie *t = arg;
    audit *a = t->a;
    char obj[37];
    uint64_t seq = a->have_head ? a->seq + 1 : 0;

    t->rows_asked = 1;
    t->seq = seq;
    cw_free(&t->x.w);
    store_uuid_format(object, obj);
    snprintf(t->full, sizeof(t->full), "%s%sobject=%s version=%llu", t->detail,
             t->detail[0] ? " " : "", obj, (unsigned long long)version);
    waiter e = {NULL, t->event, t->actor, t->full, CKR_OK, 0};
    CK_RV rv = entry_make(&t->x, seq, a->hash, &e, t->have_key ? t->key : NULL, t->h);
    if (rv == CKR_OK)
        rv = random_uuid(&t->ids[0]);
    if (rv != CKR_OK)
        return rv;
    t->objs[0] = (store_new_object){t->x.w.p, t->x.w.len, t->x.at, 2};
    seq_id(seq, t->head);
    memcpy(t->head + 8, t->h, 32);
    *out = (store_rows){t->objs, 1, t->ids, NULL, 0};
    if (a->have_head) {
        t->u = (store_blob_update){a->head_uuid, a->head_version, t->head, 40, CKR_OK, 0};
        out->u = &t->u;
        out->m = 1;
    } else {
        t->head_at = (CK_ATTRIBUTE){CKA_LABEL, (void *)"head", 4};
        t->objs[1] = (store_new_object){t->head, 40, &t->head_at, 1};
        t->ids[1] = head_id;
        out->n = 2;
    }
    return CKR_OK;
}

/* Waits to be the only writer of the chain (as a group commit's leader
 * is), then reads the head if it is not known. */
CK_RV audit_tie_begin(audit *a, const char *event, const char *actor, const char *detail,
                      audit_tie **out, const store_also **also)
{
    *out = NULL;
    *also = NULL;
    if (!a)
        return CKR_OK;
    audit_tie *t = calloc(1, sizeof(*t));
    if (!t)
        return CKR_HOST_MEMORY;
    t->a = a;
    t->event = event;
    t->actor = actor ? actor : "";
    t->detail = detail ? detail : "";
    t->also = (store_also){&audit_keystore, tie_rows, t};
    pthread_mutex_lock(&a->mu);
    while (a->writing)
        pthread_cond_wait(&a->cv, &a->mu);
    a->writing = 1;
    t->have_key = a->have_key;
    if (t->have_key)
        memcpy(t->key, a->key, 32);
    pthread_mutex_unlock(&a->mu);
    CK_RV rv = a->loaded ? CKR_OK : load_head(a);
    if (rv != CKR_OK) {
        audit_tie_end(t, rv, 0);
        return rv;
    }
    *out = t;
    *also = &t->also;
    return CKR_OK;
}

int audit_tie_end(audit_tie *t, CK_RV rv, int applied)
{
    if (!t)
        return 0;
    audit *a = t->a;
    /* The write asked for its entry and then failed with a conflict: the
     * head row (or the first entry) was written by another replica
     * meanwhile. The write itself was rolled back; run it again after
     * the new head. */
    int again = rv == CKR_IBM_GREP11_CONFLICT && t->rows_asked;
    if (rv == CKR_OK && applied) {
        if (!a->have_head) {
            a->head_uuid = head_id;
            a->head_version = 1;
        } else {
            a->head_version = t->u.new_version;
        }
        a->have_head = 1;
        a->seq = t->seq;
        memcpy(a->hash, t->h, 32);
    } else if (rv != CKR_OK) {
        a->loaded = 0; /* what is in memory never runs ahead of what is stored */
    }
    pthread_mutex_lock(&a->mu);
    a->writing = 0;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    cw_free(&t->x.w);
    OPENSSL_cleanse(t->key, sizeof(t->key));
    free(t);
    return again;
}

/* ---- verification ----------------------------------------------------- */

typedef struct {
    uint64_t seq, time_us;
    uint8_t prev[32], hash[32], mac[32];
    int has_mac;
    int tied;       /* written with its store write: names object and version */
    store_uuid obj; /* when tied */
} vent;

/* "... object=<uuid> version=<n>": the tail a tied entry's detail ends with
 * (tie_rows). */
static void tied_object(const uint8_t *d, size_t n, vent *e)
{
    static const char key[] = "object=";
    char text[TEXT_MAX + 1], uuid[37];
    memcpy(text, d, n);
    text[n] = '\0';
    const char *at = NULL;
    for (const char *p = strstr(text, key); p; p = strstr(p + 1, key))
        at = p;
    if (!at || strlen(at) < sizeof(key) - 1 + 36 + 9 ||
        strncmp(at + sizeof(key) - 1 + 36, " version=", 9) != 0)
        return;
    memcpy(uuid, at + sizeof(key) - 1, 36);
    uuid[36] = '\0';
    e->tied = store_uuid_parse(uuid, &e->obj);
}

static int by_seq(const void *x, const void *y)
{
    const vent *a = x, *b = y;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int decode_entry(const store_object *o, vent *e)
{
    cr_buf r;
    size_t n;
    memset(e, 0, sizeof(*e));
    cr_init(&r, o->blob, o->blob_len);
    e->seq = cr_u64(&r);
    e->time_us = cr_u64(&r);
    const uint8_t *prev = cr_ptr(&r, 32);
    cr_lv(&r, TEXT_MAX, &n);
    cr_lv(&r, TEXT_MAX, &n);
    const uint8_t *detail = cr_lv(&r, TEXT_MAX, &n);
    if (r.err || !prev)
        return -1;
    if (detail)
        tied_object(detail, n, e);
    memcpy(e->prev, prev, 32);
    custody_sha256(o->blob, r.off, e->hash);
    uint8_t ml = cr_u8(&r);
    if (ml == 32) {
        memcpy(e->mac, cr_ptr(&r, 32), 32);
        e->has_mac = 1;
    } else if (ml != 0) {
        return -1;
    }
    return cr_done(&r) ? 0 : -1;
}

static CK_RV load_all(store *st, vent **out, size_t *n, uint64_t *damaged)
{
    char cursor[STORE_CURSOR_SIZE] = "", next[STORE_CURSOR_SIZE];
    size_t cap = 0;
    CK_RV rv;
    *out = NULL;
    *n = 0;
    do {
        store_object *o = NULL;
        size_t got = 0;
        if ((rv = find_label(st, "e", cursor, 1000, &o, &got, next)) != CKR_OK)
            return rv;
        for (size_t i = 0; i < got; i++) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 256;
                vent *b = realloc(*out, cap * sizeof(*b));
                if (!b) {
                    store_objects_free(o, got);
                    return CKR_HOST_MEMORY;
                }
                *out = b;
            }
            if (decode_entry(&o[i], &(*out)[*n]) == 0)
                (*n)++;
            else
                (*damaged)++;
        }
        store_objects_free(o, got);
        memcpy(cursor, next, sizeof(cursor));
    } while (cursor[0]);
    if (*n > 1)
        qsort(*out, *n, sizeof(**out), by_seq);
    return CKR_OK;
}

static int by_uuid(const void *x, const void *y)
{
    return memcmp(x, y, 16);
}

static int reserved_keystore(const store_uuid *ks)
{
    return !memcmp(ks->b, audit_keystore.b, 16) || !memcmp(ks->b, custody_keystore.b, 16) ||
           !memcmp(ks->b, directory_keystore.b, 16);
}

/* Counts the objects of ks made since the first tied entry that no entry
 * names: written without their entry. */
static CK_RV check_keystore(store *st, const store_uuid *ks, const store_uuid *named, size_t nn,
                            uint64_t since_us, audit_report *rep)
{
    char cursor[STORE_CURSOR_SIZE] = "", next[STORE_CURSOR_SIZE];
    CK_RV rv;
    do {
        store_object *o = NULL;
        size_t got = 0;
        rv = store_find_objects(st, ks, NULL, NULL, 0, cursor, STORE_MAX_PAGE, &o, &got, next);
        if (rv == CKR_PIN_INCORRECT) { /* its rows are sealed under a password we lack */
            rep->keystores_unchecked++;
            return CKR_OK;
        }
        if (rv != CKR_OK)
            return rv;
        for (size_t i = 0; i < got; i++) {
            if (o[i].created_us < 0 || (uint64_t)o[i].created_us < since_us)
                continue; /* from before entries named objects */
            rep->objects_checked++;
            if (!bsearch(o[i].uuid.b, named, nn, sizeof(*named), by_uuid))
                rep->objects_unaudited++;
        }
        store_objects_free(o, got);
        memcpy(cursor, next, sizeof(cursor));
    } while (cursor[0]);
    return CKR_OK;
}

/* Every object a tied write made has its entry: the entries name them.
 * Objects from before the first tied entry are not checked (their entries
 * did not name them). */
static CK_RV check_objects(store *st, const vent *e, size_t n, audit_report *rep)
{
    uint64_t since = UINT64_MAX;
    size_t nn = 0;
    for (size_t i = 0; i < n; i++)
        if (e[i].tied) {
            nn++;
            if (e[i].time_us < since)
                since = e[i].time_us;
        }
    if (nn == 0)
        return CKR_OK;
    store_uuid *named = calloc(nn, sizeof(*named));
    if (!named)
        return CKR_HOST_MEMORY;
    nn = 0;
    for (size_t i = 0; i < n; i++)
        if (e[i].tied)
            named[nn++] = e[i].obj;
    qsort(named, nn, sizeof(*named), by_uuid);
    char cursor[STORE_CURSOR_SIZE] = "", next[STORE_CURSOR_SIZE];
    CK_RV rv;
    do {
        store_ks_entry *ks = NULL;
        size_t got = 0;
        rv = store_keystore_list(st, cursor, STORE_MAX_PAGE, &ks, &got, next);
        for (size_t i = 0; rv == CKR_OK && i < got; i++)
            if (!reserved_keystore(&ks[i].id))
                rv = check_keystore(st, &ks[i].id, named, nn, since, rep);
        free(ks);
        memcpy(cursor, next, sizeof(cursor));
    } while (rv == CKR_OK && cursor[0]);
    free(named);
    if (rv == CKR_OK && rep->objects_unaudited)
        snprintf(rep->problem, sizeof(rep->problem),
                 "%llu stored objects have no audit entry (written without one)",
                 (unsigned long long)rep->objects_unaudited);
    return rv;
}

CK_RV audit_verify(store *st, const uint8_t *key, audit_report *rep)
{
    audit head = {.st = st};
    vent *e = NULL;
    size_t n = 0;
    uint64_t damaged = 0;
    memset(rep, 0, sizeof(*rep));
    CK_RV rv = load_head(&head);
    if (rv == CKR_OK)
        rv = load_all(st, &e, &n, &damaged);
    if (rv != CKR_OK)
        goto out;
    if (damaged)
        snprintf(rep->problem, sizeof(rep->problem), "%llu entries are malformed (edited)",
                 (unsigned long long)damaged);
    uint8_t prev[32] = {0};
    size_t i = 0;
    for (uint64_t seq = 0; head.have_head && seq <= head.seq && !rep->problem[0]; seq++) {
        int found = 0;
        for (; i < n && e[i].seq == seq; i++) {
            if (found || CRYPTO_memcmp(e[i].prev, prev, 32) != 0) {
                rep->orphans++;
                continue;
            }
            found = 1;
            memcpy(prev, e[i].hash, 32);
            rep->entries++;
            if (e[i].has_mac && key) {
                uint8_t mac[32];
                hmac(key, e[i].hash, 32, mac);
                if (CRYPTO_memcmp(mac, e[i].mac, 32) != 0)
                    snprintf(rep->problem, sizeof(rep->problem),
                             "entry %llu: MAC does not verify (edited)", (unsigned long long)seq);
                else
                    rep->maced++;
            } else if (!e[i].has_mac) {
                rep->unmaced++;
            }
        }
        if (!found && !rep->problem[0])
            snprintf(rep->problem, sizeof(rep->problem),
                     "entry %llu is missing or does not follow entry %llu (dropped, edited or "
                     "reordered)",
                     (unsigned long long)seq, (unsigned long long)(seq ? seq - 1 : 0));
    }
    if (!rep->problem[0] && head.have_head && CRYPTO_memcmp(prev, head.hash, 32) != 0)
        snprintf(rep->problem, sizeof(rep->problem), "the head does not match the last entry");
    for (; i < n; i++)
        rep->orphans++;
    if (!head.have_head && n > 0 && !rep->problem[0])
        snprintf(rep->problem, sizeof(rep->problem), "entries exist but the head is missing");
    rep->head_seq = head.seq;
    memcpy(rep->head_hash, head.hash, 32);
    if (!rep->problem[0])
        rv = check_objects(st, e, n, rep);
out:
    free(e);
    return rv;
}
