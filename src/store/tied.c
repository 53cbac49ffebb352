/* What commits with an object write (store.h, store_with): the record of
 * a client's request, so that a resent write applies once, and the rows
 * of another keystore (the audit trail's entry) that must not exist
 * without the write, nor the write without them. Both are written inside
 * the write's transaction by object.c. */
#include <openssl/crypto.h>
#include <string.h>

#include "internal.h"
#include "sql.h"

#define US_PER_S 1000000LL

CK_RV tied_open(store *st, store_with *w, tied *t)
{
    memset(t, 0, sizeof(*t));
    t->w = w;
    if (w == NULL)
        return CKR_OK;
    w->replayed = false;
    if (w->also == NULL)
        return CKR_OK;
    if (w->also->ks == NULL || w->also->rows == NULL)
        return CKR_ARGUMENTS_BAD;
    /* Resolved here, before the transaction: no second connection is ever
     * taken while one is held. */
    CK_RV rv = ks_resolve(st, w->also->ks, NULL, &t->also_k);
    if (rv != CKR_OK)
        return rv;
    t->have_also = true;
    return CKR_OK;
}

void tied_close(tied *t)
{
    if (t->have_also)
        ks_ctx_clear(&t->also_k);
    t->have_also = false;
}

/* A record older than the TTL is as good as absent: the purge in
 * tied_commit removes it before the new one is inserted. */
CK_RV tied_lookup(db_ctx *db, const ks_ctx *k, tied *t, store_uuid *obj, uint64_t *version)
{
    db_rows *r = NULL;
    db_arg a[2];
    bool have = false;
    CK_RV rv;

    if (t->w == NULL)
        return CKR_OK;
    t->w->replayed = false;
    if (t->w->request_id == NULL)
        return CKR_OK;
    a[0] = DB_UUID(&k->id);
    a[1] = DB_B(t->w->request_id, STORE_REQUEST_ID_LEN);
    rv = db_query(db, SQL_REQ_GET, sql_text[SQL_REQ_GET], a, 2, &r);
    if (rv == CKR_OK)
        rv = db->be->next(r, &have);
    if (rv == CKR_OK && have &&
        db->be->col_int(r, REQ_CREATED) >= store_now_us() - STORE_REQUEST_TTL_S * US_PER_S) {
        size_t dl = 0, ol = 0;
        const unsigned char *d = db->be->col_blob(r, REQ_DIGEST, &dl);
        const unsigned char *o = db->be->col_blob(r, REQ_OBJECT, &ol);
        if (dl != sizeof(t->w->request_digest) || ol != sizeof(obj->b))
            rv = CKR_IBM_GREP11_DBINTERNAL;
        else if (CRYPTO_memcmp(d, t->w->request_digest, dl) != 0)
            rv = CKR_GREP11_REQUEST_REUSED;
        else {
            memcpy(obj->b, o, ol);
            *version = (uint64_t)db->be->col_int(r, REQ_VERSION);
            t->w->replayed = true;
        }
    }
    db->be->rows_free(r);
    return rv;
}

static CK_RV record(db_ctx *db, const ks_ctx *k, const tied *t, const store_uuid *obj,
                    uint64_t version)
{
    int64_t now = store_now_us();
    db_arg a[6];
    CK_RV rv;

    a[0] = DB_UUID(&k->id);
    a[1] = DB_I(now - STORE_REQUEST_TTL_S * US_PER_S);
    rv = db_exec(db, SQL_REQ_PURGE, sql_text[SQL_REQ_PURGE], a, 2, NULL);
    if (rv != CKR_OK)
        return rv;
    a[1] = DB_B(t->w->request_id, STORE_REQUEST_ID_LEN);
    a[2] = DB_B(t->w->request_digest, sizeof(t->w->request_digest));
    a[3] = DB_UUID(obj);
    a[4] = DB_I(version);
    a[5] = DB_I(now);
    rv = db_exec(db, SQL_REQ_INSERT, sql_text[SQL_REQ_INSERT], a, 6, NULL);
    /* Another replica recorded this id first, after our lookup: run the
     * transaction again, and the lookup answers with its record. */
    return rv == CKR_IBM_GREP11_CONFLICT ? STORE_RV_RETRY : rv;
}

CK_RV tied_commit(db_ctx *db, const ks_ctx *k, tied *t, const store_uuid *obj, uint64_t version)
{
    CK_RV rv = CKR_OK;
    store_rows rows;

    if (t->w == NULL)
        return CKR_OK;
    if (t->w->request_id != NULL)
        rv = record(db, k, t, obj, version);
    if (rv == CKR_OK && t->have_also) {
        memset(&rows, 0, sizeof(rows));
        rv = t->w->also->rows(t->w->also->arg, obj, version, &rows);
        if (rv == CKR_OK)
            rv = objects_write_rows(db, &t->also_k, &rows);
    }
    return rv;
}
