/* A fixed set of connections shared by the server's worker threads. A
 * thread borrows one for a whole transaction; connections are opened on
 * first use and replaced when found broken, so a database that went away
 * and came back needs no reopen of the store. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define TXN_RETRIES 5

CK_RV pool_init(pool *pl, const db_backend *be, const db_config *cfg, unsigned n)
{
    CK_RV rv;

    memset(pl, 0, sizeof(*pl));
    pl->be = be;
    pl->cfg = *cfg;
    pl->slots = calloc(n, sizeof(*pl->slots));
    if (pl->slots == NULL)
        return CKR_HOST_MEMORY;
    pl->nslots = n;
    rv = be->shared_new(&pl->cfg, &pl->shared);
    if (rv != CKR_OK) {
        free(pl->slots);
        pl->slots = NULL;
        return rv;
    }
    pthread_mutex_init(&pl->mu, NULL);
    pthread_cond_init(&pl->cv, NULL);
    return CKR_OK;
}

void pool_fini(pool *pl)
{
    if (pl->slots == NULL)
        return;
    for (unsigned i = 0; i < pl->nslots; i++)
        pl->be->close(pl->slots[i].conn);
    free(pl->slots);
    pl->be->shared_free(pl->shared);
    pthread_cond_destroy(&pl->cv);
    pthread_mutex_destroy(&pl->mu);
    pl->slots = NULL;
}

CK_RV pool_get(pool *pl, db_ctx *out)
{
    unsigned i = 0;
    CK_RV rv;

    pthread_mutex_lock(&pl->mu);
    for (;;) {
        /* prefer a connected slot; take an unconnected one otherwise */
        unsigned pick = pl->nslots;
        for (i = 0; i < pl->nslots; i++) {
            if (pl->slots[i].busy)
                continue;
            if (pl->slots[i].conn != NULL) {
                pick = i;
                break;
            }
            if (pick == pl->nslots)
                pick = i;
        }
        if (pick < pl->nslots) {
            i = pick;
            break;
        }
        pthread_cond_wait(&pl->cv, &pl->mu);
    }
    pl->slots[i].busy = true;
    pthread_mutex_unlock(&pl->mu);

    out->pl = pl;
    out->slot = i;
    out->be = pl->be;
    out->c = pl->slots[i].conn;
    if (out->c == NULL) {
        /* outside the lock: a connect may take up to connect_timeout */
        rv = pl->be->connect(&pl->cfg, pl->shared, &out->c);
        if (rv != CKR_OK) {
            out->c = NULL;
            pool_put(out);
            return rv;
        }
    }
    return CKR_OK;
}

void pool_put(db_ctx *ctx)
{
    pool *pl = ctx->pl;

    if (pl == NULL)
        return;
    if (ctx->c != NULL && pl->be->broken(ctx->c)) {
        pl->be->close(ctx->c);
        ctx->c = NULL;
    }
    pthread_mutex_lock(&pl->mu);
    pl->slots[ctx->slot].conn = ctx->c;
    pl->slots[ctx->slot].busy = false;
    pthread_cond_signal(&pl->cv);
    pthread_mutex_unlock(&pl->mu);
    ctx->pl = NULL;
    ctx->c = NULL;
}

/* BEGIN on a connection that died while idle fails at once; the database
 * may be back, so one fresh connection is worth a try before giving up. */
static CK_RV begin(db_ctx *db, bool write)
{
    CK_RV rv = db->be->begin(db->c, write);

    if (rv == CKR_DEVICE_ERROR && db->be->broken(db->c)) {
        db->be->close(db->c);
        db->c = NULL;
        rv = db->be->connect(&db->pl->cfg, db->pl->shared, &db->c);
        if (rv == CKR_OK)
            rv = db->be->begin(db->c, write);
    }
    return rv;
}

CK_RV pool_txn(pool *pl, bool write, txn_fn fn, void *arg)
{
    CK_RV rv = CKR_DEVICE_ERROR;

    for (int attempt = 0; attempt < TXN_RETRIES; attempt++) {
        db_ctx db;

        rv = pool_get(pl, &db);
        if (rv != CKR_OK)
            return rv;
        rv = begin(&db, write);
        if (rv == CKR_OK) {
            rv = fn(&db, arg);
            if (rv == CKR_OK)
                rv = db.be->commit(db.c);
            else
                db.be->rollback(db.c);
        }
        pool_put(&db);
        if (rv != STORE_RV_RETRY)
            return rv;
    }
    /* still conflicting with other transactions after several tries */
    return CKR_DEVICE_ERROR;
}

CK_RV db_exec(db_ctx *db, int slot, const char *sql, const db_arg *args, size_t n,
              uint64_t *changes)
{
    return db->be->exec(db->c, slot, sql, args, n, changes);
}

CK_RV db_query(db_ctx *db, int slot, const char *sql, const db_arg *args, size_t n, db_rows **out)
{
    *out = NULL;
    return db->be->query(db->c, slot, sql, args, n, out);
}
