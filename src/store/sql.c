/* The store's SQL: one text per statement for SQLite and PostgreSQL alike,
 * and for PostgreSQL-compatible distributed databases (no extensions, no
 * backend-specific syntax). Types are BYTEA, BIGINT and TEXT: PostgreSQL's
 * names, which SQLite accepts (BYTEA gets NUMERIC affinity, which leaves
 * blobs untouched). Timestamps are microseconds since the epoch, made by
 * us, so no SQL date function is needed. Placeholders are `?`; the
 * PostgreSQL backend numbers them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql.h"

#define OBJ_COLS "id, version, created, updated, sealed, attrs"

const char *const sql_text[SQL_FIND_N] = {
    [SQL_KS_GET] = "SELECT kind, label, created, kdf_salt, kdf_log2n, kdf_r, kdf_p, verifier, "
                   "used_objects, used_bytes FROM g11_keystores WHERE id = ?",
    /* used_objects and used_bytes start at their DEFAULT 0 */
    [SQL_KS_INSERT] = "INSERT INTO g11_keystores "
                      "(id, kind, label, created, kdf_salt, kdf_log2n, kdf_r, kdf_p, verifier) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [SQL_KS_RESET] = "UPDATE g11_keystores SET kind = ?, label = ?, created = ?, kdf_salt = ?, "
                     "kdf_log2n = ?, kdf_r = ?, kdf_p = ?, verifier = ? WHERE id = ?",
    [SQL_KS_DELETE] = "DELETE FROM g11_keystores WHERE id = ?",
    [SQL_KS_USAGE] = "SELECT used_objects, used_bytes FROM g11_keystores WHERE id = ?",
    /* The quota check and the counting are one statement: of concurrent
     * writers, each sees the row as the one before left it (SQLite has one
     * writer; PostgreSQL re-evaluates the WHERE on the row it waited for),
     * so together they cannot pass a limit. Parameters: objects delta,
     * bytes delta, keystore, objects delta, objects limit, bytes delta,
     * bytes limit. */
    [SQL_KS_CHARGE] = "UPDATE g11_keystores SET used_objects = used_objects + ?, "
                      "used_bytes = used_bytes + ? WHERE id = ? "
                      "AND used_objects + ? <= ? AND used_bytes + ? <= ?",
    [SQL_KS_ZERO] = "UPDATE g11_keystores SET used_objects = 0, used_bytes = 0 WHERE id = ?",
    [SQL_KS_LIST] = "SELECT id, kind, kdf_log2n FROM g11_keystores WHERE id > ? "
                    "ORDER BY id LIMIT ?",
    [SQL_OBJ_INSERT] = "INSERT INTO g11_objects "
                       "(keystore, id, version, created, updated, sealed, attrs, used_bytes) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [SQL_OBJ_GET] = "SELECT " OBJ_COLS ", used_bytes FROM g11_objects "
                    "WHERE keystore = ? AND id = ?",
    [SQL_OBJ_VERSION] = "SELECT version, used_bytes FROM g11_objects WHERE keystore = ? AND id = ?",
    /* The version condition is what makes an update safe without locks:
     * of concurrent writers holding the same version, exactly one matches.
     * The used_bytes condition makes the count exact even if the object
     * was destroyed and made again under its UUID since it was read. */
    [SQL_OBJ_UPDATE] = "UPDATE g11_objects SET version = ?, updated = ?, sealed = ?, attrs = ?, "
                       "used_bytes = ? WHERE keystore = ? AND id = ? AND version = ? "
                       "AND used_bytes = ?",
    [SQL_OBJ_DELETE] = "DELETE FROM g11_objects WHERE keystore = ? AND id = ? AND used_bytes = ?",
    [SQL_OBJ_DELETE_ALL] = "DELETE FROM g11_objects WHERE keystore = ?",
    [SQL_ATTR_INSERT] = "INSERT INTO g11_object_attrs (keystore, object, type, value_mac) "
                        "VALUES (?, ?, ?, ?)",
    [SQL_ATTR_DELETE] = "DELETE FROM g11_object_attrs WHERE keystore = ? AND object = ?",
    [SQL_ATTR_DELETE_ALL] = "DELETE FROM g11_object_attrs WHERE keystore = ?",
    [SQL_FIND_ALL] = "SELECT " OBJ_COLS " FROM g11_objects WHERE keystore = ? AND id > ? "
                     "ORDER BY id LIMIT ?",
    [SQL_REQ_GET] = "SELECT digest, object, version, created FROM g11_requests "
                    "WHERE keystore = ? AND id = ?",
    [SQL_REQ_INSERT] = "INSERT INTO g11_requests (keystore, id, digest, object, version, created) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
    [SQL_REQ_PURGE] = "DELETE FROM g11_requests WHERE keystore = ? AND created < ?",
    [SQL_REQ_DELETE_ALL] = "DELETE FROM g11_requests WHERE keystore = ?",
};

/* Migrations, in order; never edit one that has shipped, add the next. */
static const char *const migration_1[] = {
    "CREATE TABLE g11_keystores ("
    " id BYTEA NOT NULL PRIMARY KEY,"
    " kind BIGINT NOT NULL,"
    " label TEXT NOT NULL,"
    " created BIGINT NOT NULL,"
    " kdf_salt BYTEA NOT NULL,"
    " kdf_log2n BIGINT NOT NULL,"
    " kdf_r BIGINT NOT NULL,"
    " kdf_p BIGINT NOT NULL,"
    " verifier BYTEA NOT NULL)",
    "CREATE TABLE g11_objects ("
    " keystore BYTEA NOT NULL,"
    " id BYTEA NOT NULL,"
    " version BIGINT NOT NULL,"
    " created BIGINT NOT NULL,"
    " updated BIGINT NOT NULL,"
    " sealed BYTEA NOT NULL,"
    " attrs BYTEA NOT NULL,"
    " PRIMARY KEY (keystore, id))",
    /* One row per attribute: value_mac is HMAC(index key, type || value),
     * fixed-size whatever the value's length (PostgreSQL B-tree entries
     * must stay under ~2.7 kB) and opaque in authenticated keystores. */
    "CREATE TABLE g11_object_attrs ("
    " keystore BYTEA NOT NULL,"
    " object BYTEA NOT NULL,"
    " type BIGINT NOT NULL,"
    " value_mac BYTEA NOT NULL,"
    " PRIMARY KEY (keystore, object, type))",
    /* object last: equal (keystore, type, value) rows come in object
     * order, so a page is an index range scan that stops at LIMIT. */
    "CREATE INDEX g11_object_attrs_find ON g11_object_attrs (keystore, type, value_mac, object)",
    NULL,
};

/* Quotas: each keystore's use, kept by every write in its transaction,
 * and what each object counts for (store.h, STORE_OBJECT_ROW_BYTES). Kept
 * apart from the back-fill (3): some PostgreSQL-compatible databases do
 * not let a transaction write a column it added. */
static const char *const migration_2[] = {
    "ALTER TABLE g11_keystores ADD COLUMN used_objects BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE g11_keystores ADD COLUMN used_bytes BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE g11_objects ADD COLUMN used_bytes BIGINT NOT NULL DEFAULT 0",
    NULL,
};

/* The counts of the objects already there: once, over every row. 64 and
 * 72 are STORE_OBJECT_ROW_BYTES and STORE_INDEX_ROW_BYTES (checked below);
 * LENGTH of a BYTEA is its bytes on both backends. */
static const char *const migration_3[] = {
    "UPDATE g11_objects SET used_bytes = 64 + LENGTH(sealed) + LENGTH(attrs) + 72 * "
    "(SELECT COUNT(*) FROM g11_object_attrs a "
    "WHERE a.keystore = g11_objects.keystore AND a.object = g11_objects.id)",
    "UPDATE g11_keystores SET "
    "used_objects = (SELECT COUNT(*) FROM g11_objects o WHERE o.keystore = g11_keystores.id), "
    "used_bytes = (SELECT COALESCE(SUM(o.used_bytes), 0) FROM g11_objects o "
    "WHERE o.keystore = g11_keystores.id)",
    NULL,
};
_Static_assert(STORE_OBJECT_ROW_BYTES == 64 && STORE_INDEX_ROW_BYTES == 72,
               "migration 3 counts existing objects with these sizes");

/* At-most-once writes (store.h, store_with): the answer of each write made
 * under a client's request id, kept STORE_REQUEST_TTL_S. */
static const char *const migration_4[] = {
    "CREATE TABLE g11_requests ("
    " keystore BYTEA NOT NULL,"
    " id BYTEA NOT NULL,"
    " digest BYTEA NOT NULL,"
    " object BYTEA NOT NULL,"
    " version BIGINT NOT NULL,"
    " created BIGINT NOT NULL,"
    " PRIMARY KEY (keystore, id))",
    "CREATE INDEX g11_requests_age ON g11_requests (keystore, created)",
    NULL,
};

static const char *const *const migrations[] = {migration_1, migration_2, migration_3, migration_4};
#define NMIGRATIONS ((int64_t)(sizeof(migrations) / sizeof(migrations[0])))

char *sql_find(CK_ULONG n, int *slot)
{
    static const char head[] = "SELECT o.id, o.version, o.created, o.updated, o.sealed, o.attrs "
                               "FROM g11_object_attrs a0 JOIN g11_objects o "
                               "ON o.keystore = a0.keystore AND o.id = a0.object "
                               "WHERE a0.keystore = ? AND a0.type = ? AND a0.value_mac = ?";
    static const char more[] = " AND EXISTS (SELECT 1 FROM g11_object_attrs a%lu "
                               "WHERE a%lu.keystore = a0.keystore AND a%lu.object = a0.object "
                               "AND a%lu.type = ? AND a%lu.value_mac = ?)";
    static const char tail[] = " AND a0.object > ? ORDER BY a0.object LIMIT ?";
    size_t cap, off;
    char *s;

    if (n == 0 || n > STORE_MAX_ATTRS)
        return NULL;
    cap = sizeof(head) + (n - 1) * (sizeof(more) + 20) + sizeof(tail);
    s = malloc(cap);
    if (s == NULL)
        return NULL;
    off = (size_t)snprintf(s, cap, "%s", head);
    for (unsigned long i = 1; i < n; i++)
        off += (size_t)snprintf(s + off, cap - off, more, i, i, i, i, i);
    snprintf(s + off, cap - off, "%s", tail);
    *slot = n <= SQL_FIND_CACHED ? SQL_FIND_N + (int)n - 1 : -1;
    return s;
}

static CK_RV current_version(db_ctx *db, int64_t *out)
{
    db_rows *r = NULL;
    bool have = false;
    CK_RV rv;

    rv = db_query(db, -1, "SELECT MAX(version) FROM g11_schema_version", NULL, 0, &r);
    if (rv == CKR_OK)
        rv = db->be->next(r, &have);
    *out = (rv == CKR_OK && have && !db->be->col_null(r, 0)) ? db->be->col_int(r, 0) : 0;
    db->be->rows_free(r);
    return rv;
}

typedef struct mig_arg {
    int64_t version; /* to apply */
    bool applied;
} mig_arg;

static CK_RV apply_one(db_ctx *db, void *arg)
{
    mig_arg *m = arg;
    int64_t cur;
    db_arg args[2];
    CK_RV rv;

    rv = current_version(db, &cur);
    if (rv != CKR_OK || cur >= m->version)
        return rv; /* another process got here first */
    for (const char *const *s = migrations[m->version - 1]; *s != NULL; s++) {
        rv = db->be->script(db->c, *s);
        if (rv != CKR_OK)
            return rv;
    }
    args[0] = DB_I(m->version);
    args[1] = DB_I(store_now_us());
    rv = db_exec(db, -1, "INSERT INTO g11_schema_version (version, applied) VALUES (?, ?)", args, 2,
                 NULL);
    if (rv == CKR_OK)
        m->applied = true;
    return rv;
}

static CK_RV read_version(db_ctx *db, void *arg)
{
    return current_version(db, arg);
}

static CK_RV create_version_table(db_ctx *db, void *arg)
{
    (void)arg;
    return db->be->script(db->c, "CREATE TABLE IF NOT EXISTS g11_schema_version ("
                                 " version BIGINT NOT NULL PRIMARY KEY,"
                                 " applied BIGINT NOT NULL)");
}

CK_RV sql_migrate(pool *pl)
{
    int64_t cur = 0;
    CK_RV rv;

    /* Two replicas starting together may race on CREATE: the loser's
     * error is harmless if the table is there on the second try. */
    rv = pool_txn(pl, true, create_version_table, NULL);
    if (rv != CKR_OK)
        rv = pool_txn(pl, true, create_version_table, NULL);
    if (rv != CKR_OK)
        return rv;
    rv = pool_txn(pl, false, read_version, &cur);
    if (rv != CKR_OK)
        return rv;
    if (cur > NMIGRATIONS) {
        if (pl->cfg.log)
            pl->cfg.log(pl->cfg.log_ctx, "store: database schema is newer than this program");
        return CKR_IBM_GREP11_DBINTERNAL;
    }
    for (int64_t v = cur + 1; v <= NMIGRATIONS; v++) {
        mig_arg m = {v, false};
        rv = pool_txn(pl, true, apply_one, &m);
        if (rv != CKR_OK) {
            /* a concurrent migrator may have applied it and made ours fail */
            int64_t now = 0;
            if (pool_txn(pl, false, read_version, &now) != CKR_OK || now < v)
                return rv;
        }
    }
    return CKR_OK;
}
