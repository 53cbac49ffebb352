/* Per-keystore quotas: at most so many objects and so many bytes in one
 * keystore, so that one tenant cannot fill the database for all.
 *
 * The counts live in the keystore's row (used_objects, used_bytes) and
 * every write changes them in its own transaction, with one conditional
 * UPDATE as its last statement (sql.c SQL_KS_CHARGE): checking costs one
 * indexed row write whatever the keystore holds, and concurrent writers
 * cannot together pass a limit. Each object row carries what it counts for
 * (used_bytes), so an update or a destroy subtracts exactly what it
 * replaces. Only growth is checked: a write that frees room, or changes
 * nothing, always goes through. */
#include <string.h>

#include "internal.h"
#include "sql.h"

/* A limit as the charge statement compares it. */
static int64_t limit_of(uint64_t v, uint64_t dflt)
{
    if (v == 0)
        v = dflt;
    return v > (uint64_t)QUOTA_NONE ? QUOTA_NONE : (int64_t)v;
}

void quota_init(quota *q, const store_options *opt)
{
    memset(q, 0, sizeof(*q));
    q->max_objects = limit_of(opt->max_objects, STORE_DEFAULT_MAX_OBJECTS);
    q->max_bytes = limit_of(opt->max_bytes, STORE_DEFAULT_MAX_BYTES);
    q->n_unlimited =
        opt->n_unlimited < STORE_MAX_UNLIMITED ? opt->n_unlimited : STORE_MAX_UNLIMITED;
    memcpy(q->unlimited, opt->unlimited, q->n_unlimited * sizeof(q->unlimited[0]));
}

void quota_limits(const quota *q, const store_uuid *ks, int64_t *max_objects, int64_t *max_bytes)
{
    *max_objects = q->max_objects;
    *max_bytes = q->max_bytes;
    for (size_t i = 0; i < q->n_unlimited; i++) {
        if (memcmp(q->unlimited[i].b, ks->b, sizeof(ks->b)) == 0) {
            *max_objects = QUOTA_NONE;
            *max_bytes = QUOTA_NONE;
        }
    }
}

int64_t quota_object_bytes(size_t sealed_len, size_t attrs_len, CK_ULONG nattrs)
{
    /* each term is bounded by the input limits of store.h: no overflow */
    return (int64_t)(STORE_OBJECT_ROW_BYTES + sealed_len + attrs_len +
                     (size_t)nattrs * STORE_INDEX_ROW_BYTES);
}

/* Why the charge matched no row: the keystore is full, or gone. */
static CK_RV why_refused(db_ctx *db, const ks_ctx *k)
{
    db_arg a = DB_UUID(&k->id);
    db_rows *r = NULL;
    bool have = false;
    CK_RV rv;

    rv = db_query(db, SQL_KS_USAGE, sql_text[SQL_KS_USAGE], &a, 1, &r);
    if (rv == CKR_OK)
        rv = db->be->next(r, &have);
    db->be->rows_free(r);
    if (rv != CKR_OK)
        return rv;
    return have ? CKR_DEVICE_MEMORY : CKR_TOKEN_NOT_PRESENT;
}

CK_RV quota_charge(db_ctx *db, const ks_ctx *k, int64_t d_objects, int64_t d_bytes)
{
    uint64_t changes = 0;
    db_arg a[7];
    CK_RV rv;

    if (d_objects == 0 && d_bytes == 0)
        return CKR_OK;
    a[0] = DB_I(d_objects);
    a[1] = DB_I(d_bytes);
    a[2] = DB_UUID(&k->id);
    a[3] = DB_I(d_objects);
    a[4] = DB_I(d_objects > 0 ? k->max_objects : QUOTA_NONE);
    a[5] = DB_I(d_bytes);
    a[6] = DB_I(d_bytes > 0 ? k->max_bytes : QUOTA_NONE);
    rv = db_exec(db, SQL_KS_CHARGE, sql_text[SQL_KS_CHARGE], a, 7, &changes);
    if (rv == CKR_OK && changes != 1)
        rv = why_refused(db, k);
    return rv;
}

CK_RV quota_zero(db_ctx *db, const store_uuid *ks)
{
    db_arg a = DB_UUID(ks);

    return db_exec(db, SQL_KS_ZERO, sql_text[SQL_KS_ZERO], &a, 1, NULL);
}
