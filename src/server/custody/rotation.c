/* Online re-wrap: after a commit, every object of every registered keystore
 * is re-sealed under the committed new key (engine_rewrap_key_blob with the
 * current engine, whose new register holds it), written back with the
 * version read (a concurrent update wins; we re-read and retry). Progress is
 * recorded after every page, so a crash resumes where it stopped; a page
 * done twice costs time, not correctness (objects already under the new key
 * are recognised and left alone). */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "log.h"
#include "runtime.h"

#define PAGE 100

struct rotation {
    custody *c;
    pthread_mutex_t mu;
    pthread_t th;
    int joinable;
    atomic_int stop;
    char target[17];
    const char *phase;
    uint64_t done, skipped, failed;
    char error[160];
};

typedef struct {
    char target[17];
    uint32_t ks_index;
    char cursor[STORE_CURSOR_SIZE];
    uint64_t done, skipped, failed;
    int finished;
} progress;

CK_RV rotation_new(custody *c, rotation **out)
{
    rotation *r = calloc(1, sizeof(*r));
    if (!r)
        return CKR_HOST_MEMORY;
    r->c = c;
    r->phase = "idle";
    pthread_mutex_init(&r->mu, NULL);
    *out = r;
    return CKR_OK;
}

void rotation_stop(rotation *r)
{
    if (!r)
        return;
    atomic_store(&r->stop, 1);
    if (r->joinable) {
        pthread_join(r->th, NULL);
        r->joinable = 0;
    }
    atomic_store(&r->stop, 0);
}

void rotation_free(rotation *r)
{
    if (!r)
        return;
    rotation_stop(r);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

void rotation_status_get(rotation *r, rotation_status *out)
{
    pthread_mutex_lock(&r->mu);
    out->phase = r->phase;
    out->done = r->done;
    out->skipped = r->skipped;
    out->failed = r->failed;
    snprintf(out->error, sizeof(out->error), "%s", r->error);
    pthread_mutex_unlock(&r->mu);
}

CK_RV rotation_register_keystore(custody *c, const uint8_t uuid[16])
{
    uint8_t *b = NULL;
    size_t l = 0;
    CK_RV rv = journal_get(c->st, "ks", uuid, 16, &b, &l);
    free(b);
    if (rv == CKR_GREP11_MISSING)
        rv = journal_put(c->st, "ks", uuid, 16, (const uint8_t *)"k", 1);
    return rv;
}

/* ---- progress record ------------------------------------------------------ */

static void progress_save(custody *c, const progress *p)
{
    cw_buf w;
    cw_init(&w, 256);
    cw_put(&w, p->target, 16);
    cw_u32(&w, p->ks_index);
    cw_str(&w, p->cursor);
    cw_u64(&w, p->done);
    cw_u64(&w, p->skipped);
    cw_u64(&w, p->failed);
    cw_u8(&w, (uint8_t)p->finished);
    if (!w.err)
        journal_put(c->st, "progress", "rewrap", 6, w.p, w.len);
    cw_free(&w);
}

static int progress_load(custody *c, const char *target, progress *p)
{
    uint8_t *b = NULL;
    size_t l = 0;
    cr_buf r;
    memset(p, 0, sizeof(*p));
    snprintf(p->target, sizeof(p->target), "%s", target);
    if (journal_get(c->st, "progress", "rewrap", 6, &b, &l) != CKR_OK)
        return 0;
    cr_init(&r, b, l);
    const uint8_t *t = cr_ptr(&r, 16);
    uint32_t idx = cr_u32(&r);
    char cur[STORE_CURSOR_SIZE];
    int ok = t && memcmp(t, target, 16) == 0 && cr_str(&r, cur, sizeof(cur)) == 0;
    if (ok) {
        p->ks_index = idx;
        snprintf(p->cursor, sizeof(p->cursor), "%s", cur);
        p->done = cr_u64(&r);
        p->skipped = cr_u64(&r);
        p->failed = cr_u64(&r);
        p->finished = cr_u8(&r);
        ok = cr_done(&r);
    }
    free(b);
    if (!ok) {
        memset(p, 0, sizeof(*p));
        snprintf(p->target, sizeof(p->target), "%s", target);
    }
    return ok;
}

/* ---- the registry of keystores ----------------------------------------- */

typedef struct {
    store_uuid *u;
    size_t n, cap;
} ks_list;

static CK_RV add_ks(void *arg, const uint8_t *id, size_t idlen, const uint8_t *blob, size_t len)
{
    (void)blob;
    (void)len;
    ks_list *l = arg;
    if (idlen != 16)
        return CKR_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        store_uuid *b = realloc(l->u, cap * sizeof(*b));
        if (!b)
            return CKR_HOST_MEMORY;
        l->u = b;
        l->cap = cap;
    }
    memcpy(l->u[l->n++].b, id, 16);
    return CKR_OK;
}

static int by_uuid(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

/* ---- one object ---------------------------------------------------------- */

enum { OBJ_DONE, OBJ_SKIPPED, OBJ_FAILED, OBJ_STOP };

static int one_object(custody *c, const store_uuid *ks, store_object *o)
{
    for (int attempt = 0; attempt < 4; attempt++) {
        engine_buf nb = {0};
        CK_RV rv;
        int already = 0;
        pthread_rwlock_rdlock(&c->lock);
        if (!c->next_eng || !c->cur_eng) {
            pthread_rwlock_unlock(&c->lock);
            return OBJ_STOP;
        }
        CK_ATTRIBUTE_TYPE t = CKA_CLASS;
        CK_ATTRIBUTE *attrs = NULL;
        CK_ULONG na = 0;
        rv = engine_get_attribute_value(c->next_eng, (engine_bytes){o->blob, o->blob_len}, &t, 1,
                                        &attrs, &na);
        engine_attrs_free(attrs, na);
        already = rv == CKR_OK;
        if (!already)
            rv = engine_rewrap_key_blob(c->cur_eng, (engine_bytes){o->blob, o->blob_len}, &nb);
        pthread_rwlock_unlock(&c->lock);
        if (already)
            return OBJ_DONE;
        if (rv != CKR_OK)
            return OBJ_SKIPPED; /* not a key blob of ours */
        uint64_t v;
        rv =
            store_object_update(c->st, ks, NULL, &o->uuid, o->version, nb.ptr, nb.len, NULL, 0, &v);
        engine_buf_free(&nb);
        if (rv == CKR_OK)
            return OBJ_DONE;
        if (rv != CKR_IBM_GREP11_CONFLICT)
            return rv == CKR_GREP11_MISSING ? OBJ_SKIPPED : OBJ_FAILED;
        /* Updated meanwhile: read it again and retry. */
        store_object *fresh = NULL;
        if (store_object_get(c->st, ks, NULL, &o->uuid, &fresh) != CKR_OK)
            return OBJ_SKIPPED;
        free(o->blob);
        o->blob = fresh->blob;
        o->blob_len = fresh->blob_len;
        o->version = fresh->version;
        fresh->blob = NULL;
        store_object_free(fresh);
    }
    return OBJ_FAILED;
}

/* One pass from p's position. 0 finished, 1 stopped, -1 database error. */
static int pass(rotation *r, progress *p, int record)
{
    custody *c = r->c;
    ks_list l = {0};
    int res = 0;
    if (journal_each(c->st, "ks", add_ks, &l) != CKR_OK) {
        free(l.u);
        return -1;
    }
    if (l.n > 1) /* qsort must not see the NULL of an empty list */
        qsort(l.u, l.n, sizeof(*l.u), by_uuid);
    for (; p->ks_index < l.n && res == 0; p->ks_index++, p->cursor[0] = '\0') {
        do {
            store_object *o = NULL;
            size_t n = 0;
            char next[STORE_CURSOR_SIZE] = "";
            CK_RV rv = store_find_objects(c->st, &l.u[p->ks_index], NULL, NULL, 0, p->cursor, PAGE,
                                          &o, &n, next);
            if (rv == CKR_PIN_INCORRECT) { /* password-protected: its owners re-wrap */
                p->skipped++;
                break;
            }
            if (rv == CKR_TOKEN_NOT_PRESENT)
                break;
            if (rv != CKR_OK) {
                res = -1;
                break;
            }
            for (size_t i = 0; i < n && res == 0; i++) {
                int k = one_object(c, &l.u[p->ks_index], &o[i]);
                if (k == OBJ_STOP)
                    res = 1;
                else
                    *(k == OBJ_DONE ? &p->done : k == OBJ_SKIPPED ? &p->skipped : &p->failed) += 1;
            }
            store_objects_free(o, n);
            if (res)
                break;
            snprintf(p->cursor, sizeof(p->cursor), "%s", next);
            if (record) {
                progress_save(c, p);
                pthread_mutex_lock(&r->mu);
                r->done = p->done;
                r->skipped = p->skipped;
                r->failed = p->failed;
                pthread_mutex_unlock(&r->mu);
            }
            if (atomic_load(&r->stop))
                res = 1;
        } while (p->cursor[0] && res == 0);
        if (res)
            break;
    }
    free(l.u);
    return res;
}

static void *worker(void *arg)
{
    rotation *r = arg;
    progress p;
    progress_load(r->c, r->target, &p);
    int res = p.finished ? 0 : pass(r, &p, 1);
    pthread_mutex_lock(&r->mu);
    r->done = p.done;
    r->skipped = p.skipped;
    r->failed = p.failed;
    if (res == 0) {
        r->phase = p.failed ? "failed" : "done";
        if (p.failed)
            snprintf(r->error, sizeof(r->error), "%llu objects could not be written",
                     (unsigned long long)p.failed);
    } else if (res < 0) {
        r->phase = "failed";
        snprintf(r->error, sizeof(r->error),
                 "database unavailable; resumes at the next commit "
                 "or restart");
    } else {
        r->phase = "idle";
    }
    pthread_mutex_unlock(&r->mu);
    if (res == 0) {
        p.finished = 1;
        progress_save(r->c, &p);
        log_info("msg=\"custody: re-wrap finished\" done=%llu skipped=%llu failed=%llu",
                 (unsigned long long)p.done, (unsigned long long)p.skipped,
                 (unsigned long long)p.failed);
    }
    return NULL;
}

void rotation_start(rotation *r, const char *target_vp)
{
    rotation_stop(r);
    pthread_mutex_lock(&r->mu);
    snprintf(r->target, sizeof(r->target), "%s", target_vp);
    r->phase = "running";
    r->error[0] = '\0';
    pthread_mutex_unlock(&r->mu);
    if (pthread_create(&r->th, NULL, worker, r) == 0) {
        r->joinable = 1;
    } else {
        pthread_mutex_lock(&r->mu);
        r->phase = "failed";
        snprintf(r->error, sizeof(r->error), "cannot start the re-wrap thread");
        pthread_mutex_unlock(&r->mu);
    }
}

int rotation_sweep(rotation *r, const char *target_vp)
{
    progress p;
    rotation_stop(r);
    memset(&p, 0, sizeof(p));
    snprintf(p.target, sizeof(p.target), "%s", target_vp);
    int res = pass(r, &p, 0);
    return res == 0 && p.failed == 0 ? 0 : -1;
}
