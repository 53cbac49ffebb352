/* Object calls: create (one or a batch), get, update, destroy. Each one
 * first resolves the keystore and checks the password, then runs one
 * transaction that re-checks the keystore and touches the object. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sql.h"

/* ---- create ------------------------------------------------------------- */

typedef struct create_arg {
    const ks_ctx *k;
    const store_new_object *objs;
    size_t n;
    const store_uuid *ids;
    tied *t;              /* NULL, or with one object (store_object_create_with) */
    store_uuid replay_id; /* when t->w->replayed */
} create_arg;

static CK_RV insert_one(db_ctx *db, const ks_ctx *k, const store_new_object *o,
                        const store_uuid *id, int64_t now, int64_t *used)
{
    obj_cols cols;
    db_arg a[8];
    CK_RV rv;

    rv = objrow_encode(k, id, 1, o->blob, o->blob_len, o->attrs, o->nattrs, &cols);
    if (rv != CKR_OK)
        return rv;
    a[0] = DB_UUID(&k->id);
    a[1] = DB_UUID(id);
    a[2] = DB_I(1);
    a[3] = DB_I(now);
    a[4] = DB_I(now);
    a[5] = DB_B(cols.sealed, cols.sealed_len);
    a[6] = DB_B(cols.attrs, cols.attrs_len);
    a[7] = DB_I(cols.used);
    *used = cols.used;
    rv = db_exec(db, SQL_OBJ_INSERT, sql_text[SQL_OBJ_INSERT], a, 8, NULL);
    objrow_cols_free(&cols);
    if (rv == CKR_OK)
        rv = objrow_index(db, k, id, o->attrs, o->nattrs, false);
    return rv;
}

/* The rows of c's objects; *bytes receives what they count for. */
static CK_RV insert_all(db_ctx *db, const create_arg *c, int64_t *bytes)
{
    int64_t now = store_now_us(), used = 0;
    CK_RV rv;

    *bytes = 0;
    rv = ks_recheck(db, c->k);
    for (size_t i = 0; i < c->n && rv == CKR_OK; i++) {
        rv = insert_one(db, c->k, &c->objs[i], &c->ids[i], now, &used);
        *bytes += used;
    }
    return rv;
}

/* Inserts first and charges last: the keystore row, which every writer
 * of the keystore must lock to charge, stays locked only until commit. */
static CK_RV create_txn(db_ctx *db, void *arg)
{
    create_arg *c = arg;
    int64_t bytes = 0;
    uint64_t version = 0;
    CK_RV rv = CKR_OK;

    if (c->t != NULL) {
        rv = tied_lookup(db, c->k, c->t, &c->replay_id, &version);
        if (rv != CKR_OK || c->t->w->replayed)
            return rv;
    }
    rv = insert_all(db, c, &bytes);
    if (rv == CKR_OK)
        rv = quota_charge(db, c->k, (int64_t)c->n, bytes);
    if (rv == CKR_OK && c->t != NULL)
        rv = tied_commit(db, c->k, c->t, &c->ids[0], 1);
    return rv;
}

static CK_RV check_new(const store_new_object *o)
{
    CK_RV rv = objrow_check_blob(o->blob, o->blob_len);

    if (rv == CKR_OK)
        rv = store_check_attrs(o->attrs, o->nattrs, true);
    return rv;
}

/* Creates and, in the same transaction, replaces blobs (create_update). */
typedef struct create_update_arg {
    create_arg c;
    store_blob_update *u;
    size_t m;
} create_update_arg;

/* A conditional replacement (update_txn, below). */
typedef struct update_arg {
    const ks_ctx *k;
    const store_uuid *id;
    uint64_t expected;
    const unsigned char *blob;
    size_t blob_len;
    const CK_ATTRIBUTE *attrs;
    CK_ULONG nattrs;
    tied *t;          /* NULL: nothing commits with it */
    uint64_t version; /* out: the new version (or the recorded one) */
} update_arg;

static CK_RV update_row(db_ctx *db, const update_arg *u, int64_t *delta);

/* A retried transaction starts over: no outcome is known yet. */
static void outcomes_reset(store_blob_update *u, size_t m)
{
    for (size_t i = 0; i < m; i++)
        u[i].rv = CKR_FUNCTION_NOT_PARALLEL;
}

/* Replaces each blob at its expected version, in order, recording each
 * outcome in u[i].rv and adding the change in bytes to *delta. Strict
 * (create_update): the first failure ends the transaction. Tolerant
 * (update_blobs): a row changed or gone meanwhile is recorded and the
 * others go on; any other failure ends it. */
static CK_RV update_each(db_ctx *db, const ks_ctx *k, store_blob_update *u, size_t m, bool tolerant,
                         int64_t *delta)
{
    CK_RV rv = CKR_OK;

    outcomes_reset(u, m);
    *delta = 0;
    for (size_t i = 0; i < m && rv == CKR_OK; i++) {
        update_arg ua = {k,    &u[i].uuid, u[i].expected_version, u[i].blob, u[i].blob_len, NULL, 0,
                         NULL, 0};
        int64_t d = 0;
        CK_RV r = update_row(db, &ua, &d);
        bool stale = r == CKR_IBM_GREP11_CONFLICT || r == CKR_IBM_GREP11_MISSING;

        if (r == CKR_OK) {
            u[i].new_version = u[i].expected_version + 1;
            *delta += d;
        }
        if (!tolerant || r == CKR_OK || stale)
            u[i].rv = r;
        if (r != CKR_OK && !(tolerant && stale))
            rv = r;
    }
    return rv;
}

static CK_RV create_update_txn(db_ctx *db, void *arg)
{
    create_update_arg *x = arg;
    int64_t bytes = 0, delta = 0;
    CK_RV rv;

    outcomes_reset(x->u, x->m); /* also when the creates fail */
    rv = insert_all(db, &x->c, &bytes);
    if (rv == CKR_OK)
        rv = update_each(db, x->c.k, x->u, x->m, false, &delta);
    if (rv == CKR_OK)
        rv = quota_charge(db, x->c.k, (int64_t)x->c.n, bytes + delta);
    return rv;
}

static CK_RV check_updates(const store_blob_update *u, size_t m)
{
    CK_RV rv = CKR_OK;

    for (size_t i = 0; i < m && rv == CKR_OK; i++) {
        if (u[i].blob == NULL || u[i].expected_version > INT64_MAX - 1)
            return CKR_ARGUMENTS_BAD;
        rv = objrow_check_blob(u[i].blob, u[i].blob_len);
    }
    return rv;
}

CK_RV objects_write_rows(db_ctx *db, const ks_ctx *k, const store_rows *r)
{
    create_update_arg x = {{k, r->objs, r->n, r->ids, NULL, {{0}}}, r->u, r->m};
    CK_RV rv = CKR_OK;

    if (r->n + r->m == 0)
        return CKR_OK;
    if ((r->n > 0 && (r->objs == NULL || r->ids == NULL)) || (r->m > 0 && r->u == NULL) ||
        r->n > STORE_MAX_BATCH || r->m > STORE_MAX_BATCH - r->n)
        return CKR_ARGUMENTS_BAD;
    for (size_t i = 0; i < r->n && rv == CKR_OK; i++)
        rv = check_new(&r->objs[i]);
    if (rv == CKR_OK)
        rv = check_updates(r->u, r->m);
    if (rv == CKR_OK)
        rv = create_update_txn(db, &x);
    return rv;
}

/* n objects to create (ids NULL: fresh random UUIDs; otherwise the
 * caller's, and the primary key then refuses a duplicate:
 * CKR_IBM_GREP11_CONFLICT) and m blobs to replace, in one transaction. */
static CK_RV create_objects(store *st, const store_uuid *ks, const store_password *pw,
                            const store_new_object *objs, size_t n, const store_uuid *given,
                            store_uuid *out_uuids, store_blob_update *u, size_t m, tied *t)
{
    store_uuid *ids = NULL;
    create_update_arg x;
    ks_ctx k;
    CK_RV rv;

    if (st == NULL || ks == NULL || n + m == 0 || (n > 0 && objs == NULL) || (m > 0 && u == NULL))
        return CKR_ARGUMENTS_BAD;
    if (n > STORE_MAX_BATCH || m > STORE_MAX_BATCH - n)
        return CKR_DATA_LEN_RANGE;
    for (size_t i = 0; i < n; i++)
        if ((rv = check_new(&objs[i])) != CKR_OK)
            return rv;
    if ((rv = check_updates(u, m)) != CKR_OK)
        return rv;
    rv = ks_resolve(st, ks, pw, &k);
    if (rv != CKR_OK)
        return rv;
    ids = calloc(n ? n : 1, sizeof(*ids));
    if (ids == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    /* made before the transaction: a retried transaction reuses them */
    if (given != NULL && n > 0)
        memcpy(ids, given, n * sizeof(*ids));
    for (size_t i = 0; i < n && rv == CKR_OK && given == NULL; i++)
        rv = store_new_uuid(&ids[i]);
    if (rv != CKR_OK)
        goto out;
    x = (create_update_arg){{&k, objs, n, ids, t, {{0}}}, u, m};
    rv = pool_txn(&st->pl, true, m ? create_update_txn : create_txn, m ? (void *)&x : &x.c);
    if (rv == CKR_OK && t != NULL && t->w->replayed)
        ids[0] = x.c.replay_id;
    if (rv == CKR_OK && out_uuids != NULL && n > 0)
        memcpy(out_uuids, ids, n * sizeof(*ids));
out:
    free(ids);
    ks_ctx_clear(&k);
    return rv;
}

CK_RV store_object_create_batch(store *st, const store_uuid *ks, const store_password *pw,
                                const store_new_object *objs, size_t n, store_uuid *out_uuids)
{
    if (n == 0 || out_uuids == NULL)
        return CKR_ARGUMENTS_BAD;
    return create_objects(st, ks, pw, objs, n, NULL, out_uuids, NULL, 0, NULL);
}

CK_RV store_object_create_update(store *st, const store_uuid *ks, const store_password *pw,
                                 const store_new_object *objs, size_t n, const store_uuid *ids,
                                 store_uuid *out_uuids, store_blob_update *u, size_t m)
{
    if (n > 0 && ids == NULL && out_uuids == NULL)
        return CKR_ARGUMENTS_BAD;
    return create_objects(st, ks, pw, objs, n, ids, out_uuids, u, m, NULL);
}

CK_RV store_object_create_with_id(store *st, const store_uuid *ks, const store_password *pw,
                                  const store_uuid *uuid, const unsigned char *blob,
                                  size_t blob_len, const CK_ATTRIBUTE *attrs, CK_ULONG nattrs)
{
    store_new_object o = {blob, blob_len, attrs, nattrs};
    store_uuid out;

    if (uuid == NULL)
        return CKR_ARGUMENTS_BAD;
    return create_objects(st, ks, pw, &o, 1, uuid, &out, NULL, 0, NULL);
}

CK_RV store_object_create_with(store *st, const store_uuid *ks, const store_password *pw,
                               const unsigned char *blob, size_t blob_len,
                               const CK_ATTRIBUTE *attrs, CK_ULONG nattrs, store_with *w,
                               store_uuid *out_uuid, uint64_t *out_version)
{
    store_new_object o = {blob, blob_len, attrs, nattrs};
    tied t;
    CK_RV rv;

    if (out_uuid == NULL)
        return CKR_ARGUMENTS_BAD;
    rv = tied_open(st, w, &t);
    if (rv == CKR_OK)
        rv = create_objects(st, ks, pw, &o, 1, NULL, out_uuid, NULL, 0, w ? &t : NULL);
    tied_close(&t);
    if (rv == CKR_OK && out_version != NULL)
        *out_version = 1; /* a replayed create answers with the version it made */
    return rv;
}

CK_RV store_object_create(store *st, const store_uuid *ks, const store_password *pw,
                          const unsigned char *blob, size_t blob_len, const CK_ATTRIBUTE *attrs,
                          CK_ULONG nattrs, store_uuid *out_uuid, uint64_t *out_version)
{
    return store_object_create_with(st, ks, pw, blob, blob_len, attrs, nattrs, NULL, out_uuid,
                                    out_version);
}

/* ---- get ---------------------------------------------------------------- */

typedef struct get_arg {
    const ks_ctx *k;
    const store_uuid *id;
    store_object *out;
    bool found;
    int64_t used; /* what the row counts for (update) */
} get_arg;

/* The object's current row, decoded; found false when there is none. */
static CK_RV read_obj(db_ctx *db, get_arg *g)
{
    db_rows *r = NULL;
    db_arg a[2];
    CK_RV rv;

    g->found = false;
    a[0] = DB_UUID(&g->k->id);
    a[1] = DB_UUID(g->id);
    rv = db_query(db, SQL_OBJ_GET, sql_text[SQL_OBJ_GET], a, 2, &r);
    if (rv == CKR_OK)
        rv = db->be->next(r, &g->found);
    if (rv == CKR_OK && g->found) {
        g->used = db->be->col_int(r, OBJ_USED);
        rv = objrow_decode(g->k, db, r, g->out);
    }
    db->be->rows_free(r);
    return rv;
}

static CK_RV get_txn(db_ctx *db, void *arg)
{
    get_arg *g = arg;
    CK_RV rv;

    rv = ks_recheck(db, g->k);
    if (rv == CKR_OK)
        rv = read_obj(db, g);
    if (rv == CKR_OK && !g->found)
        rv = CKR_IBM_GREP11_MISSING;
    return rv;
}

CK_RV store_object_get(store *st, const store_uuid *ks, const store_password *pw,
                       const store_uuid *uuid, store_object **out)
{
    store_object *obj = NULL;
    get_arg g;
    ks_ctx k;
    CK_RV rv;

    if (st == NULL || ks == NULL || uuid == NULL || out == NULL)
        return CKR_ARGUMENTS_BAD;
    *out = NULL;
    rv = ks_resolve(st, ks, pw, &k);
    if (rv != CKR_OK)
        return rv;
    obj = calloc(1, sizeof(*obj));
    if (obj == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    g = (get_arg){&k, uuid, obj, false, 0};
    rv = pool_txn(&st->pl, false, get_txn, &g);
    if (rv == CKR_OK) {
        *out = obj;
        obj = NULL;
    }
out:
    store_object_free(obj);
    ks_ctx_clear(&k);
    return rv;
}

/* ---- update ------------------------------------------------------------- */

/* An object's version and what it counts for, without reading its
 * columns; found false when there is none. */
typedef struct row_head {
    bool found;
    int64_t version, used;
} row_head;

static CK_RV read_head(db_ctx *db, const ks_ctx *k, const store_uuid *id, row_head *out)
{
    db_rows *r = NULL;
    db_arg a[2];
    CK_RV rv;

    memset(out, 0, sizeof(*out));
    a[0] = DB_UUID(&k->id);
    a[1] = DB_UUID(id);
    rv = db_query(db, SQL_OBJ_VERSION, sql_text[SQL_OBJ_VERSION], a, 2, &r);
    if (rv == CKR_OK)
        rv = db->be->next(r, &out->found);
    if (rv == CKR_OK && out->found) {
        out->version = db->be->col_int(r, OBJV_VERSION);
        out->used = db->be->col_int(r, OBJV_USED);
    }
    db->be->rows_free(r);
    return rv;
}

/* Why a conditional UPDATE matched nothing: gone, or someone was first. */
static CK_RV why_not(db_ctx *db, const update_arg *u)
{
    row_head h = {0};
    CK_RV rv = read_head(db, u->k, u->id, &h);

    if (rv != CKR_OK)
        return rv;
    return h.found ? CKR_IBM_GREP11_CONFLICT : CKR_IBM_GREP11_MISSING;
}

/* The current row: whole when fields are kept or must be sealed again
 * (their AAD names the version), else only its head. */
static CK_RV read_current(db_ctx *db, const update_arg *u, store_object *old, row_head *h)
{
    get_arg g = {u->k, u->id, old, false, 0};
    CK_RV rv;

    if (u->blob != NULL && u->attrs != NULL && !u->k->prot)
        return read_head(db, u->k, u->id, h);
    rv = read_obj(db, &g);
    h->found = g.found;
    h->version = g.found ? (int64_t)old->version : 0;
    h->used = g.used;
    return rv;
}

/* Replaces the row at u->expected; *delta receives the change in what it
 * counts for. The caller charges it. */
static CK_RV update_row(db_ctx *db, const update_arg *u, int64_t *delta)
{
    const unsigned char *blob = u->blob;
    size_t blob_len = u->blob_len;
    const CK_ATTRIBUTE *attrs = u->attrs;
    CK_ULONG nattrs = u->nattrs;
    store_object old;
    row_head h = {0};
    uint64_t changes = 0;
    obj_cols cols = {0};
    db_arg a[9];
    CK_RV rv;

    memset(&old, 0, sizeof(old));
    *delta = 0;
    rv = ks_recheck(db, u->k);
    if (rv == CKR_OK)
        rv = read_current(db, u, &old, &h);
    if (rv == CKR_OK && !h.found)
        rv = CKR_IBM_GREP11_MISSING;
    if (rv == CKR_OK && (uint64_t)h.version != u->expected)
        rv = CKR_IBM_GREP11_CONFLICT;
    if (rv != CKR_OK)
        goto out;
    if (blob == NULL) {
        blob = old.blob;
        blob_len = old.blob_len;
    }
    if (attrs == NULL) {
        attrs = old.attrs;
        nattrs = old.nattrs;
    }
    rv = objrow_encode(u->k, u->id, u->expected + 1, blob, blob_len, attrs, nattrs, &cols);
    if (rv != CKR_OK)
        goto out;
    a[0] = DB_I(u->expected + 1);
    a[1] = DB_I(store_now_us());
    a[2] = DB_B(cols.sealed, cols.sealed_len);
    a[3] = DB_B(cols.attrs, cols.attrs_len);
    a[4] = DB_I(cols.used);
    a[5] = DB_UUID(&u->k->id);
    a[6] = DB_UUID(u->id);
    a[7] = DB_I(u->expected);
    a[8] = DB_I(h.used);
    rv = db_exec(db, SQL_OBJ_UPDATE, sql_text[SQL_OBJ_UPDATE], a, 9, &changes);
    if (rv == CKR_OK && changes != 1)
        rv = why_not(db, u);
    if (rv == CKR_OK && u->attrs != NULL)
        rv = objrow_index(db, u->k, u->id, u->attrs, u->nattrs, true);
    if (rv == CKR_OK)
        *delta = cols.used - h.used;
out:
    objrow_cols_free(&cols);
    objrow_clear(&old);
    return rv;
}

static CK_RV update_txn(db_ctx *db, void *arg)
{
    update_arg *u = arg;
    int64_t delta = 0;
    store_uuid recorded;
    CK_RV rv;

    u->version = u->expected + 1;
    if (u->t != NULL) {
        rv = tied_lookup(db, u->k, u->t, &recorded, &u->version);
        if (rv != CKR_OK || u->t->w->replayed)
            return rv;
    }
    rv = update_row(db, u, &delta);
    if (rv == CKR_OK)
        rv = quota_charge(db, u->k, 0, delta);
    if (rv == CKR_OK && u->t != NULL)
        rv = tied_commit(db, u->k, u->t, u->id, u->version);
    return rv;
}

CK_RV store_object_update(store *st, const store_uuid *ks, const store_password *pw,
                          const store_uuid *uuid, uint64_t expected_version,
                          const unsigned char *blob, size_t blob_len, const CK_ATTRIBUTE *attrs,
                          CK_ULONG nattrs, uint64_t *out_new_version)
{
    return store_object_update_with(st, ks, pw, uuid, expected_version, blob, blob_len, attrs,
                                    nattrs, NULL, out_new_version);
}

CK_RV store_object_update_with(store *st, const store_uuid *ks, const store_password *pw,
                               const store_uuid *uuid, uint64_t expected_version,
                               const unsigned char *blob, size_t blob_len,
                               const CK_ATTRIBUTE *attrs, CK_ULONG nattrs, store_with *w,
                               uint64_t *out_new_version)
{
    update_arg u;
    ks_ctx k;
    tied t;
    CK_RV rv;

    if (st == NULL || ks == NULL || uuid == NULL || expected_version > INT64_MAX - 1)
        return CKR_ARGUMENTS_BAD;
    if (blob != NULL && (rv = objrow_check_blob(blob, blob_len)) != CKR_OK)
        return rv;
    if (attrs == NULL && nattrs != 0)
        return CKR_ARGUMENTS_BAD;
    if (attrs != NULL && (rv = store_check_attrs(attrs, nattrs, true)) != CKR_OK)
        return rv;
    rv = tied_open(st, w, &t);
    if (rv != CKR_OK)
        return rv;
    rv = ks_resolve(st, ks, pw, &k);
    if (rv != CKR_OK) {
        tied_close(&t);
        return rv;
    }
    u = (update_arg){&k, uuid, expected_version, blob, blob_len, attrs, nattrs, w ? &t : NULL, 0};
    rv = pool_txn(&st->pl, true, update_txn, &u);
    if (rv == CKR_OK && out_new_version != NULL)
        *out_new_version = u.version;
    ks_ctx_clear(&k);
    tied_close(&t);
    return rv;
}

/* ---- update of many blobs ---------------------------------------------- */

typedef struct blobs_arg {
    const ks_ctx *k;
    store_blob_update *u;
    size_t n;
} blobs_arg;

static CK_RV update_blobs_txn(db_ctx *db, void *arg)
{
    blobs_arg *b = arg;
    int64_t delta = 0;
    CK_RV rv;

    rv = update_each(db, b->k, b->u, b->n, true, &delta);
    if (rv == CKR_OK)
        rv = quota_charge(db, b->k, 0, delta);
    return rv;
}

CK_RV store_object_update_blobs(store *st, const store_uuid *ks, const store_password *pw,
                                store_blob_update *u, size_t n)
{
    blobs_arg b;
    ks_ctx k;
    CK_RV rv;

    if (st == NULL || ks == NULL || u == NULL || n == 0)
        return CKR_ARGUMENTS_BAD;
    if (n > STORE_MAX_BATCH)
        return CKR_DATA_LEN_RANGE;
    if ((rv = check_updates(u, n)) != CKR_OK)
        return rv;
    rv = ks_resolve(st, ks, pw, &k);
    if (rv != CKR_OK)
        return rv;
    b = (blobs_arg){&k, u, n};
    rv = pool_txn(&st->pl, true, update_blobs_txn, &b);
    ks_ctx_clear(&k);
    return rv;
}

/* ---- destroy ------------------------------------------------------------ */

typedef struct destroy_arg {
    const ks_ctx *k;
    const store_uuid *id;
    tied *t; /* NULL: nothing commits with it */
} destroy_arg;

/* The DELETE names what the row counted for when read: if the object was
 * replaced since (PostgreSQL runs writers side by side), nothing is
 * deleted and the transaction runs again, so the count stays exact. */
static CK_RV destroy_txn(db_ctx *db, void *arg)
{
    destroy_arg *d = arg;
    uint64_t changes = 0, version = 0;
    row_head h = {0};
    store_uuid recorded;
    db_arg a[3];
    CK_RV rv;

    if (d->t != NULL) {
        rv = tied_lookup(db, d->k, d->t, &recorded, &version);
        if (rv != CKR_OK || d->t->w->replayed)
            return rv;
    }
    rv = ks_recheck(db, d->k);
    if (rv == CKR_OK)
        rv = read_head(db, d->k, d->id, &h);
    if (rv == CKR_OK && !h.found)
        rv = CKR_IBM_GREP11_MISSING;
    if (rv != CKR_OK)
        return rv;
    a[0] = DB_UUID(&d->k->id);
    a[1] = DB_UUID(d->id);
    a[2] = DB_I(h.used);
    rv = db_exec(db, SQL_OBJ_DELETE, sql_text[SQL_OBJ_DELETE], a, 3, &changes);
    if (rv == CKR_OK && changes != 1)
        rv = STORE_RV_RETRY;
    if (rv == CKR_OK)
        rv = db_exec(db, SQL_ATTR_DELETE, sql_text[SQL_ATTR_DELETE], a, 2, NULL);
    if (rv == CKR_OK)
        rv = quota_charge(db, d->k, -1, -h.used);
    if (rv == CKR_OK && d->t != NULL)
        rv = tied_commit(db, d->k, d->t, d->id, 0);
    return rv;
}

CK_RV store_object_destroy(store *st, const store_uuid *ks, const store_password *pw,
                           const store_uuid *uuid)
{
    return store_object_destroy_with(st, ks, pw, uuid, NULL);
}

CK_RV store_object_destroy_with(store *st, const store_uuid *ks, const store_password *pw,
                                const store_uuid *uuid, store_with *w)
{
    destroy_arg d;
    ks_ctx k;
    tied t;
    CK_RV rv;

    if (st == NULL || ks == NULL || uuid == NULL)
        return CKR_ARGUMENTS_BAD;
    rv = tied_open(st, w, &t);
    if (rv != CKR_OK)
        return rv;
    rv = ks_resolve(st, ks, pw, &k);
    if (rv == CKR_OK) {
        d = (destroy_arg){&k, uuid, w ? &t : NULL};
        rv = pool_txn(&st->pl, true, destroy_txn, &d);
        ks_ctx_clear(&k);
    }
    tied_close(&t);
    return rv;
}
