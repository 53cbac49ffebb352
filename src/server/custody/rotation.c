/* Online re-wrap: after a commit, every object of every keystore (as the
 * store lists them; the reserved ones excepted) is re-sealed under the committed new key
 * (engine_rewrap_key_blob with the current engine, whose new register holds it), written back with
 * the version read (a concurrent update wins; we re-read and retry). Progress is recorded after
 * every page, so a crash resumes where it stopped; a page done twice costs time, not correctness
 * (objects already under the new key are recognised and left alone). */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "directory.h"
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
    uint64_t done, skipped, failed, pending;
    char error[160];
};

typedef struct {
    char target[17];
    store_uuid ks; /* the keystore being re-wrapped (valid when have_ks) */
    int have_ks;
    char cursor[STORE_CURSOR_SIZE]; /* within ks */
    uint64_t done, skipped, failed;
    uint64_t pending; /* objects of password-protected keystores (also in skipped) */
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
    out->pending = r->pending;
    snprintf(out->error, sizeof(out->error), "%s", r->error);
    pthread_mutex_unlock(&r->mu);
}

/* ---- progress record ------------------------------------------------------
 * "p2" | target[16] | u8 have_ks | ks[16] | str cursor | u64 done, skipped,
 * failed, pending | u8 finished. Another format (an older one) is ignored:
 * the pass starts over, which costs time, not correctness. */

static void progress_save(custody *c, const progress *p)
{
    cw_buf w;
    cw_init(&w, 256);
    cw_put(&w, "p2", 2);
    cw_put(&w, p->target, 16);
    cw_u8(&w, (uint8_t)p->have_ks);
    cw_put(&w, p->ks.b, 16);
    cw_str(&w, p->cursor);
    cw_u64(&w, p->done);
    cw_u64(&w, p->skipped);
    cw_u64(&w, p->failed);
    cw_u64(&w, p->pending);
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
    const uint8_t *tag = cr_ptr(&r, 2);
    const uint8_t *t = cr_ptr(&r, 16);
    uint8_t have_ks = cr_u8(&r);
    const uint8_t *ks = cr_ptr(&r, 16);
    char cur[STORE_CURSOR_SIZE];
    int ok = tag && memcmp(tag, "p2", 2) == 0 && t && memcmp(t, target, 16) == 0 && ks &&
             have_ks <= 1 && cr_str(&r, cur, sizeof(cur)) == 0;
    if (ok) {
        p->have_ks = have_ks;
        memcpy(p->ks.b, ks, 16);
        snprintf(p->cursor, sizeof(p->cursor), "%s", cur);
        p->done = cr_u64(&r);
        p->skipped = cr_u64(&r);
        p->failed = cr_u64(&r);
        p->pending = cr_u64(&r);
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

/* ---- the keystores --------------------------------------------------- */

typedef struct {
    store_ks_entry *e;
    size_t n;
} ks_list;

static int reserved_ks(const store_uuid *u)
{
    return !memcmp(u->b, custody_keystore.b, 16) || !memcmp(u->b, audit_keystore.b, 16) ||
           !memcmp(u->b, directory_keystore.b, 16);
}

/* Every keystore the store holds, in UUID order, the reserved ones left
 * out (their records are not key blobs). */
static CK_RV list_keystores(store *st, ks_list *out)
{
    char cursor[STORE_CURSOR_SIZE] = "", next[STORE_CURSOR_SIZE];
    size_t cap = 0;
    CK_RV rv;
    out->e = NULL;
    out->n = 0;
    do {
        store_ks_entry *e = NULL;
        size_t n = 0;
        rv = store_keystore_list(st, cursor, STORE_MAX_PAGE, &e, &n, next);
        for (size_t i = 0; rv == CKR_OK && i < n; i++) {
            if (reserved_ks(&e[i].id))
                continue;
            if (out->n == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                store_ks_entry *b = realloc(out->e, ncap * sizeof(*b));
                if (!b) {
                    rv = CKR_HOST_MEMORY;
                    break;
                }
                out->e = b;
                cap = ncap;
            }
            out->e[out->n++] = e[i];
        }
        free(e);
        memcpy(cursor, next, sizeof(cursor));
    } while (rv == CKR_OK && cursor[0]);
    if (rv != CKR_OK) {
        free(out->e);
        out->e = NULL;
        out->n = 0;
    }
    return rv;
}

/* ---- one object ---------------------------------------------------------- */

enum { OBJ_DONE, OBJ_SKIPPED, OBJ_FAILED, OBJ_STOP, OBJ_WRITE };

/* The re-sealed blob of o into *nb (OBJ_WRITE), or why there is none. */
static int rewrap_one(custody *c, const store_object *o, engine_buf *nb)
{
    CK_ATTRIBUTE_TYPE t = CKA_CLASS;
    CK_ATTRIBUTE *attrs = NULL;
    CK_ULONG na = 0;
    CK_RV rv;
    pthread_rwlock_rdlock(&c->lock);
    if (!c->next_eng || !c->cur_eng) {
        pthread_rwlock_unlock(&c->lock);
        return OBJ_STOP;
    }
    rv = engine_get_attribute_value(c->next_eng, (engine_bytes){o->blob, o->blob_len}, &t, 1,
                                    &attrs, &na);
    engine_attrs_free(attrs, na);
    int already = rv == CKR_OK;
    if (!already)
        rv = engine_rewrap_key_blob(c->cur_eng, (engine_bytes){o->blob, o->blob_len}, nb);
    pthread_rwlock_unlock(&c->lock);
    if (already)
        return OBJ_DONE;
    return rv == CKR_OK ? OBJ_WRITE : OBJ_SKIPPED; /* not a key blob of ours */
}

/* One object on its own, re-reading it after a conflict. */
static int one_object(custody *c, const store_uuid *ks, store_object *o)
{
    for (int attempt = 0; attempt < 4; attempt++) {
        engine_buf nb = {0};
        int k = rewrap_one(c, o, &nb);
        if (k != OBJ_WRITE)
            return k;
        uint64_t v;
        CK_RV rv =
            store_object_update(c->st, ks, NULL, &o->uuid, o->version, nb.ptr, nb.len, NULL, 0, &v);
        engine_buf_free(&nb);
        if (rv == CKR_OK)
            return OBJ_DONE;
        if (rv != CKR_IBM_GREP11_CONFLICT)
            return rv == CKR_IBM_GREP11_MISSING ? OBJ_SKIPPED : OBJ_FAILED;
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

/* A page: blobs re-sealed, then written back in one transaction (one
 * commit per page, not per object); an object updated meanwhile goes
 * through one_object. res[i] receives each object's outcome. */
static void one_page(custody *c, const store_uuid *ks, store_object *o, size_t n, int *res)
{
    engine_buf *nb = calloc(n ? n : 1, sizeof(*nb));
    store_blob_update *u = calloc(n ? n : 1, sizeof(*u));
    size_t *at = calloc(n ? n : 1, sizeof(*at)), m = 0;
    CK_RV rv = CKR_OK;
    if (!nb || !u || !at) {
        for (size_t i = 0; i < n; i++)
            res[i] = one_object(c, ks, &o[i]);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        res[i] = rewrap_one(c, &o[i], &nb[i]);
        if (res[i] != OBJ_WRITE)
            continue;
        u[m] = (store_blob_update){o[i].uuid, o[i].version, nb[i].ptr, nb[i].len, CKR_OK, 0};
        at[m++] = i;
    }
    if (m)
        rv = store_object_update_blobs(c->st, ks, NULL, u, m);
    for (size_t j = 0; j < m; j++) {
        size_t i = at[j];
        if (rv == CKR_OK && u[j].rv == CKR_OK)
            res[i] = OBJ_DONE;
        else if (rv == CKR_OK && u[j].rv == CKR_IBM_GREP11_MISSING)
            res[i] = OBJ_SKIPPED;
        else /* a conflict, or the batch failed: one by one */
            res[i] = one_object(c, ks, &o[i]);
    }
out:
    for (size_t i = 0; nb && i < n; i++)
        engine_buf_free(&nb[i]);
    free(nb);
    free(u);
    free(at);
}

static void publish(rotation *r, const progress *p, int record)
{
    if (!record)
        return;
    progress_save(r->c, p);
    pthread_mutex_lock(&r->mu);
    r->done = p->done;
    r->skipped = p->skipped;
    r->failed = p->failed;
    r->pending = p->pending;
    pthread_mutex_unlock(&r->mu);
}

/* A password-protected keystore: its rows are sealed under a key derived
 * from a password the server does not keep, so its objects are re-wrapped
 * on their next authenticated read (custody_rewrap_on_read); here they are
 * only counted. */
static int count_pending(rotation *r, progress *p, const store_uuid *ks, int record)
{
    store_ks_info info;
    CK_RV rv = store_keystore_info(r->c->st, ks, &info);
    if (rv == CKR_TOKEN_NOT_PRESENT)
        return 0;
    if (rv != CKR_OK)
        return -1;
    p->pending += info.object_count;
    p->skipped += info.object_count;
    publish(r, p, record);
    return 0;
}

/* One keystore from p->cursor. 0 finished, 1 stopped, -1 database error. */
static int pass_keystore(rotation *r, progress *p, const store_uuid *ks, int record)
{
    custody *c = r->c;
    int res = 0;
    do {
        store_object *o = NULL;
        size_t n = 0;
        char next[STORE_CURSOR_SIZE] = "";
        CK_RV rv = store_find_objects(c->st, ks, NULL, NULL, 0, p->cursor, PAGE, &o, &n, next);
        if (rv == CKR_TOKEN_NOT_PRESENT) /* deleted meanwhile */
            return 0;
        if (rv == CKR_PIN_INCORRECT) /* given a password meanwhile */
            return count_pending(r, p, ks, record);
        if (rv != CKR_OK)
            return -1;
        int *k = calloc(n ? n : 1, sizeof(*k));
        if (!k) {
            store_objects_free(o, n);
            return -1;
        }
        one_page(c, ks, o, n, k);
        for (size_t i = 0; i < n; i++) {
            if (k[i] == OBJ_STOP)
                res = 1;
            else
                *(k[i] == OBJ_DONE      ? &p->done
                  : k[i] == OBJ_SKIPPED ? &p->skipped
                                        : &p->failed) += 1;
        }
        free(k);
        store_objects_free(o, n);
        if (res)
            return res;
        snprintf(p->cursor, sizeof(p->cursor), "%s", next);
        publish(r, p, record);
        if (atomic_load(&r->stop))
            return 1;
    } while (p->cursor[0]);
    return 0;
}

/* One pass from p's position: every keystore from p->ks on, in UUID
 * order. Objects stored behind the pass (made during the window, under
 * either key) are caught by the final sweep at activation. 0 finished,
 * 1 stopped, -1 database error. */
static int pass(rotation *r, progress *p, int record)
{
    ks_list l;
    int res = 0;
    if (list_keystores(r->c->st, &l) != CKR_OK)
        return -1;
    for (size_t i = 0; i < l.n && res == 0; i++) {
        const store_ks_entry *e = &l.e[i];
        int cmp = p->have_ks ? memcmp(e->id.b, p->ks.b, 16) : 1;
        if (cmp < 0)
            continue; /* done before a restart */
        if (cmp > 0) {
            p->ks = e->id;
            p->have_ks = 1;
            p->cursor[0] = '\0';
        } else if (!p->cursor[0]) {
            continue; /* finished before a restart (saved with no cursor left) */
        }
        if (e->password_protected)
            res = count_pending(r, p, &e->id, record);
        else
            res = pass_keystore(r, p, &e->id, record);
    }
    free(l.e);
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
    r->pending = p.pending;
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
        log_info("msg=\"custody: re-wrap finished\" done=%llu skipped=%llu failed=%llu "
                 "password_protected=%llu",
                 (unsigned long long)p.done, (unsigned long long)p.skipped,
                 (unsigned long long)p.failed, (unsigned long long)p.pending);
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

/* ---- password-protected keystores: re-wrap on authenticated read ------- */

/* Under the register lock the handler holds (custody_enter): during a
 * rotation the blob goes from the current key to the committed one; in a
 * grace window from the previous key to the current one. Anything else
 * (already re-wrapped, not a key blob, no window) is left alone. */
CK_RV custody_rewrap_on_read(custody *c, store *st, const store_uuid *ks, const store_password *pw,
                             store_object *o)
{
    if (!c || !o || o->blob_len == 0)
        return CKR_OK;
    engine *to = c->next_eng ? c->next_eng : c->cur_eng;
    engine *from = c->next_eng ? c->cur_eng : c->grace_eng;
    if (!to || !from)
        return CKR_OK;
    CK_ATTRIBUTE_TYPE t = CKA_CLASS;
    CK_ATTRIBUTE *attrs = NULL;
    CK_ULONG na = 0;
    CK_RV rv =
        engine_get_attribute_value(to, (engine_bytes){o->blob, o->blob_len}, &t, 1, &attrs, &na);
    engine_attrs_free(attrs, na);
    if (rv == CKR_OK)
        return CKR_OK; /* under the target key already */
    engine_buf nb = {0};
    if (engine_rewrap_key_blob(from, (engine_bytes){o->blob, o->blob_len}, &nb) != CKR_OK)
        return CKR_OK; /* not a key blob under the outgoing key */
    uint64_t v = 0;
    uint8_t *copy = malloc(nb.len ? nb.len : 1); /* o->blob is the store's: free() */
    rv = copy ? store_object_update(st, ks, pw, &o->uuid, o->version, nb.ptr, nb.len, NULL, 0, &v)
              : CKR_HOST_MEMORY;
    if (rv == CKR_OK) {
        char kid[37], oid[37], detail[120];
        store_uuid_format(ks, kid);
        store_uuid_format(&o->uuid, oid);
        snprintf(detail, sizeof(detail), "keystore=%s object=%s version=%llu", kid, oid,
                 (unsigned long long)v);
        rv = audit_append(c->au, "rewrap-on-read", "custody", detail);
        /* the reader gets what is stored now */
        OPENSSL_cleanse(o->blob, o->blob_len);
        free(o->blob);
        memcpy(copy, nb.ptr, nb.len);
        o->blob = copy;
        o->blob_len = nb.len;
        o->version = v;
        copy = NULL;
    }
    free(copy);
    engine_buf_free(&nb);
    /* a concurrent update won: the next read tries again */
    return rv == CKR_IBM_GREP11_CONFLICT ? CKR_OK : rv;
}
