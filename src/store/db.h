/* The narrow waist between the store's logic and a database: connections,
 * transactions, and parameterised statements written once with `?`
 * placeholders (sql.c). Each backend (db_sqlite.c, db_pg.c) fills in a
 * db_backend; nothing above this line knows which one it talks to. */
#ifndef GREP11_STORE_DB_H
#define GREP11_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

#include "store.h"

/* Private to the store: the transaction should be run again (PostgreSQL
 * serialization failure or deadlock). Never returned to callers. */
#define STORE_RV_RETRY (CKR_VENDOR_DEFINED + 0x4ff01UL)

typedef enum { DB_INT, DB_BLOB, DB_TEXT } db_type;

typedef struct db_arg {
    db_type type;
    int64_t i;
    const void *p;
    size_t n;
} db_arg;

#define DB_I(v) ((db_arg){DB_INT, (int64_t)(v), NULL, 0})
#define DB_B(ptr, len) ((db_arg){DB_BLOB, 0, (ptr), (len)})
#define DB_T(s) ((db_arg){DB_TEXT, 0, (s), strlen(s)})
#define DB_UUID(u) DB_B((u)->b, 16)

typedef struct db_conn db_conn;
typedef struct db_rows db_rows;
typedef struct db_shared db_shared; /* per-store backend state */

/* What a backend needs to open a connection. */
typedef struct db_config {
    const char *target; /* file path or libpq conninfo */
    unsigned connect_timeout_s;
    unsigned busy_timeout_ms;
    store_log_fn log;
    void *log_ctx;
} db_config;

typedef struct db_backend {
    const char *name;
    /* Per-store state shared by all connections (SQLite's writer lock). */
    CK_RV (*shared_new)(const db_config *cfg, db_shared **out);
    void (*shared_free)(db_shared *sh);
    CK_RV (*connect)(const db_config *cfg, db_shared *sh, db_conn **out);
    void (*close)(db_conn *c);
    /* True when the connection is unusable and must be replaced. */
    bool (*broken)(db_conn *c);
    CK_RV (*begin)(db_conn *c, bool write);
    CK_RV (*commit)(db_conn *c);
    void (*rollback)(db_conn *c);
    /* DDL or other parameterless statement(s). */
    CK_RV (*script)(db_conn *c, const char *sql);
    /* slot >= 0 lets the backend reuse a prepared statement (the same slot
     * always comes with the same SQL); -1 for one-off SQL. *changes (may be
     * NULL) receives the number of rows inserted, updated or deleted. */
    CK_RV(*exec)
    (db_conn *c, int slot, const char *sql, const db_arg *args, size_t nargs, uint64_t *changes);
    /* One open result per connection at a time; free it before the next. */
    CK_RV(*query)
    (db_conn *c, int slot, const char *sql, const db_arg *args, size_t nargs, db_rows **out);
    CK_RV (*next)(db_rows *r, bool *have_row);
    bool (*col_null)(db_rows *r, int col);
    int64_t (*col_int)(db_rows *r, int col);
    const unsigned char *(*col_blob)(db_rows *r, int col, size_t *len);
    void (*rows_free)(db_rows *r);
} db_backend;

extern const db_backend db_sqlite_backend;
extern const db_backend db_pg_backend;

/* A statement slot count large enough for every cached statement (sql.h). */
#define DB_SLOTS 48

#endif
