/* Internals shared by the store's files; not part of the API. */
#ifndef GREP11_STORE_INTERNAL_H
#define GREP11_STORE_INTERNAL_H

#include <pthread.h>

#include "crypt.h"
#include "db.h"
#include "store.h"

/* ---- connection pool (pool.c) ------------------------------------------ */

typedef struct pool_slot {
    db_conn *conn; /* NULL: not connected */
    bool busy;
} pool_slot;

typedef struct pool {
    const db_backend *be;
    db_shared *shared;
    db_config cfg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pool_slot *slots;
    unsigned nslots;
} pool;

/* A borrowed connection; hand it back with pool_put. */
typedef struct db_ctx {
    pool *pl;
    unsigned slot;
    db_conn *c;
    const db_backend *be;
} db_ctx;

CK_RV pool_init(pool *pl, const db_backend *be, const db_config *cfg, unsigned n);
void pool_fini(pool *pl);
CK_RV pool_get(pool *pl, db_ctx *out);
void pool_put(db_ctx *ctx);

/* Runs fn inside one transaction on a pooled connection: commit on CKR_OK,
 * roll back otherwise. Serialization failures are retried a few times; a
 * connection found dead at BEGIN is replaced once (the database may have
 * come back since it was last used). */
typedef CK_RV (*txn_fn)(db_ctx *db, void *arg);
CK_RV pool_txn(pool *pl, bool write, txn_fn fn, void *arg);

/* Thin wrappers so callers read like SQL. */
CK_RV db_exec(db_ctx *db, int slot, const char *sql, const db_arg *args, size_t n,
              uint64_t *changes);
CK_RV db_query(db_ctx *db, int slot, const char *sql, const db_arg *args, size_t n, db_rows **out);

/* ---- the store ---------------------------------------------------------- */

/* The limits of store_options, as the charge statement takes them;
 * QUOTA_NONE where none applies. */
#define QUOTA_NONE INT64_MAX
typedef struct quota {
    int64_t max_objects, max_bytes;
    store_uuid unlimited[STORE_MAX_UNLIMITED];
    size_t n_unlimited;
} quota;

struct store {
    pool pl;
    keycache kc;
    quota q;
    unsigned kdf_log2n;
    store_log_fn log;
    void *log_ctx;
};

/* What an object call knows about its keystore once the password (if any)
 * has been checked. keys are valid only when prot is true. */
typedef struct ks_ctx {
    store_uuid id;
    int64_t max_objects, max_bytes; /* QUOTA_NONE: no limit */
    bool prot;
    kdf_params kdf;
    unsigned char verifier[CRYPT_KEY_LEN];
    ks_keys keys;
} ks_ctx;

/* Reads the keystore and checks pw against it (outside any transaction:
 * a KDF run must not hold a database lock). */
CK_RV ks_resolve(store *st, const store_uuid *ks, const store_password *pw, ks_ctx *out);
/* Inside the transaction: the keystore is still the one resolved (not
 * deleted or re-created with another password meanwhile). */
CK_RV ks_recheck(db_ctx *db, const ks_ctx *k);
void ks_ctx_clear(ks_ctx *k);

/* ---- object rows (objrow.c) --------------------------------------------- */

/* The two stored columns of an object, sealed when the keystore has a
 * password, and what the object counts for in its keystore's bytes. */
typedef struct obj_cols {
    unsigned char *sealed, *attrs;
    size_t sealed_len, attrs_len;
    int64_t used;
} obj_cols;

CK_RV objrow_check_blob(const unsigned char *blob, size_t len);
CK_RV objrow_encode(const ks_ctx *k, const store_uuid *id, uint64_t version,
                    const unsigned char *blob, size_t blob_len, const CK_ATTRIBUTE *attrs,
                    CK_ULONG nattrs, obj_cols *out);
void objrow_cols_free(obj_cols *c);
/* The current row of r (columns as in sql.h OBJ_*) into *out. */
CK_RV objrow_decode(const ks_ctx *k, db_ctx *db, db_rows *r, store_object *out);
/* Replaces the object's index rows with those of attrs. */
CK_RV objrow_index(db_ctx *db, const ks_ctx *k, const store_uuid *id, const CK_ATTRIBUTE *attrs,
                   CK_ULONG nattrs, bool replace);
void objrow_clear(store_object *o);

/* Creates and replaces r's rows in keystore k within the caller's
 * transaction, strictly (the first failure ends it, u[i].rv records it),
 * and charges k for them (object.c). */
CK_RV objects_write_rows(db_ctx *db, const ks_ctx *k, const store_rows *r);

/* ---- what commits with a write (tied.c) --------------------------------- */

typedef struct tied {
    store_with *w; /* NULL: nothing */
    ks_ctx also_k; /* the also keystore, resolved before the transaction */
    bool have_also;
} tied;

/* Before the transaction. w may be NULL. */
CK_RV tied_open(store *st, store_with *w, tied *t);
void tied_close(tied *t);
/* In the transaction, before the write: the recorded answer to w's
 * request, if any (w->replayed; *obj and *version set), or
 * CKR_GREP11_REQUEST_REUSED. */
CK_RV tied_lookup(db_ctx *db, const ks_ctx *k, tied *t, store_uuid *obj, uint64_t *version);
/* In the transaction, after the write of obj at version (0: destroyed):
 * the request record and the also rows. */
CK_RV tied_commit(db_ctx *db, const ks_ctx *k, tied *t, const store_uuid *obj, uint64_t version);

/* ---- quotas (quota.c) --------------------------------------------------- */

void quota_init(quota *q, const store_options *opt);
/* The limits that apply to keystore ks (QUOTA_NONE: none). */
void quota_limits(const quota *q, const store_uuid *ks, int64_t *max_objects, int64_t *max_bytes);
/* What an object with these columns and nattrs attributes counts for. */
int64_t quota_object_bytes(size_t sealed_len, size_t attrs_len, CK_ULONG nattrs);
/* The last statement of a write transaction: adds its net change to the
 * keystore's counts, if what grows stays within k's limits. Otherwise
 * CKR_DEVICE_MEMORY (or CKR_TOKEN_NOT_PRESENT: the keystore was deleted
 * meanwhile), and the caller rolls back. */
CK_RV quota_charge(db_ctx *db, const ks_ctx *k, int64_t d_objects, int64_t d_bytes);
/* Zero counts for a keystore about to be emptied. The first write of its
 * transaction: the row lock it takes makes concurrent writers wait, so
 * that the objects deleted next are all that were counted. */
CK_RV quota_zero(db_ctx *db, const store_uuid *ks);

/* ---- helpers (util.c) --------------------------------------------------- */

int64_t store_now_us(void);
CK_RV store_new_uuid(store_uuid *u);
bool store_utf8_ok(const char *s, size_t n);
CK_RV store_check_attrs(const CK_ATTRIBUTE *a, CK_ULONG n, bool unique);
void store_log(store *st, const char *msg);

#endif
