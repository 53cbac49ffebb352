/* SQLite backend: one file in WAL mode, synchronous=FULL so that a commit
 * that returned has reached the disk. Each pooled connection is used by one
 * thread at a time (the pool guarantees it), so connections are opened
 * without SQLite's own mutexes. Writers of one store take an in-process
 * mutex before BEGIN IMMEDIATE: they would queue on the database lock
 * anyway, and a mutex wakes them at once where SQLite's busy handler sleeps
 * and polls. busy_timeout still covers other processes (grep11ctl offline). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"

struct db_shared {
    pthread_mutex_t writer;
};

struct db_conn {
    sqlite3 *db;
    db_shared *sh;
    const db_config *cfg;
    bool holds_writer;
    sqlite3_stmt *cache[DB_SLOTS];
};

struct db_rows {
    db_conn *c;
    sqlite3_stmt *stmt;
    bool owned; /* one-off statement: finalize, not reset */
    bool done;
};

static void sq_log(const db_config *cfg, const char *what, sqlite3 *db)
{
    char msg[256];

    if (cfg->log == NULL)
        return;
    snprintf(msg, sizeof(msg), "sqlite: %s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
    cfg->log(cfg->log_ctx, msg);
}

/* Lost locks, I/O and a full disk are the device's trouble and worth a
 * retry; a broken invariant is ours. */
static CK_RV sq_rv(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return CKR_OK;
    case SQLITE_NOMEM:
        return CKR_HOST_MEMORY;
    case SQLITE_CONSTRAINT:
        return CKR_IBM_GREP11_CONFLICT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
        return CKR_DEVICE_ERROR;
    default:
        return CKR_IBM_GREP11_DBINTERNAL;
    }
}

static CK_RV sq_shared_new(const db_config *cfg, db_shared **out)
{
    db_shared *sh;
    int fd;

    if (sqlite3_threadsafe() == 0)
        return CKR_GENERAL_ERROR;
    /* Created here rather than by SQLite so that the file (and the -wal and
     * -shm files SQLite derives from it) is private to our user. */
    fd = open(cfg->target, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (cfg->log) {
            char msg[256];
            snprintf(msg, sizeof(msg), "sqlite: cannot open database file: %s", strerror(errno));
            cfg->log(cfg->log_ctx, msg);
        }
        return CKR_DEVICE_ERROR;
    }
    close(fd);
    sh = calloc(1, sizeof(*sh));
    if (sh == NULL)
        return CKR_HOST_MEMORY;
    pthread_mutex_init(&sh->writer, NULL);
    *out = sh;
    return CKR_OK;
}

static void sq_shared_free(db_shared *sh)
{
    if (sh == NULL)
        return;
    pthread_mutex_destroy(&sh->writer);
    free(sh);
}

static void sq_close(db_conn *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < DB_SLOTS; i++)
        sqlite3_finalize(c->cache[i]);
    sqlite3_close_v2(c->db);
    if (c->holds_writer)
        pthread_mutex_unlock(&c->sh->writer);
    free(c);
}

static CK_RV sq_connect(const db_config *cfg, db_shared *sh, db_conn **out)
{
    CK_RV rv = CKR_DEVICE_ERROR;
    db_conn *c;
    int rc;

    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return CKR_HOST_MEMORY;
    c->sh = sh;
    c->cfg = cfg;
    rc = sqlite3_open_v2(cfg->target, &c->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        sq_log(cfg, "open", c->db);
        goto out;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, (int)cfg->busy_timeout_ms);
    /* WAL lets readers run beside the writer; FULL makes every commit
     * durable across power loss, not only across a crash of this process. */
    rc = sqlite3_exec(c->db,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                      "PRAGMA foreign_keys=OFF;",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sq_log(cfg, "configure", c->db);
        rv = sq_rv(rc);
        goto out;
    }
    *out = c;
    c = NULL;
    rv = CKR_OK;
out:
    sq_close(c);
    return rv;
}

static bool sq_broken(db_conn *c)
{
    (void)c;
    return false;
}

static CK_RV sq_begin(db_conn *c, bool write)
{
    int rc;

    if (write) {
        pthread_mutex_lock(&c->sh->writer);
        c->holds_writer = true;
    }
    rc = sqlite3_exec(c->db, write ? "BEGIN IMMEDIATE" : "BEGIN", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sq_log(c->cfg, "begin", c->db);
        if (c->holds_writer) {
            c->holds_writer = false;
            pthread_mutex_unlock(&c->sh->writer);
        }
        return sq_rv(rc);
    }
    return CKR_OK;
}

static void release_writer(db_conn *c)
{
    if (c->holds_writer) {
        c->holds_writer = false;
        pthread_mutex_unlock(&c->sh->writer);
    }
}

static CK_RV sq_commit(db_conn *c)
{
    CK_RV rv = CKR_OK;
    int rc;

    rc = sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sq_log(c->cfg, "commit", c->db);
        rv = sq_rv(rc);
        if (!sqlite3_get_autocommit(c->db))
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    }
    release_writer(c);
    return rv;
}

static void sq_rollback(db_conn *c)
{
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    release_writer(c);
}

static CK_RV sq_script(db_conn *c, const char *sql)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        sq_log(c->cfg, "script", c->db);
    return sq_rv(rc);
}

static CK_RV bind_args(db_conn *c, sqlite3_stmt *st, const db_arg *args, size_t nargs)
{
    int rc = SQLITE_OK;

    for (size_t i = 0; i < nargs && rc == SQLITE_OK; i++) {
        int pos = (int)i + 1;
        switch (args[i].type) {
        case DB_INT:
            rc = sqlite3_bind_int64(st, pos, args[i].i);
            break;
        case DB_BLOB:
            /* A NULL pointer would bind SQL NULL; an empty value must stay
             * an empty blob (it is the "before everything" cursor). */
            if (args[i].n == 0)
                rc = sqlite3_bind_zeroblob(st, pos, 0);
            else
                rc = sqlite3_bind_blob64(st, pos, args[i].p, args[i].n, SQLITE_STATIC);
            break;
        case DB_TEXT:
            rc = sqlite3_bind_text64(st, pos, args[i].p, args[i].n, SQLITE_STATIC, SQLITE_UTF8);
            break;
        }
    }
    if (rc != SQLITE_OK)
        sq_log(c->cfg, "bind", c->db);
    return sq_rv(rc);
}

/* A prepared statement, bound; from the slot cache when slot >= 0. */
static CK_RV prepare(db_conn *c, int slot, const char *sql, const db_arg *args, size_t nargs,
                     sqlite3_stmt **out)
{
    sqlite3_stmt *st = NULL;
    CK_RV rv;
    int rc;

    if (slot >= DB_SLOTS)
        return CKR_GENERAL_ERROR;
    if (slot >= 0 && c->cache[slot] != NULL) {
        st = c->cache[slot];
    } else {
        rc = sqlite3_prepare_v3(c->db, sql, -1, slot >= 0 ? SQLITE_PREPARE_PERSISTENT : 0, &st,
                                NULL);
        if (rc != SQLITE_OK) {
            sq_log(c->cfg, "prepare", c->db);
            return sq_rv(rc);
        }
        if (slot >= 0)
            c->cache[slot] = st;
    }
    rv = bind_args(c, st, args, nargs);
    if (rv != CKR_OK) {
        if (slot >= 0) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
        } else {
            sqlite3_finalize(st);
        }
        return rv;
    }
    *out = st;
    return CKR_OK;
}

static void done_with(int slot, sqlite3_stmt *st)
{
    if (slot >= 0) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    } else {
        sqlite3_finalize(st);
    }
}

static CK_RV sq_exec(db_conn *c, int slot, const char *sql, const db_arg *args, size_t nargs,
                     uint64_t *changes)
{
    sqlite3_stmt *st = NULL;
    CK_RV rv;
    int rc;

    rv = prepare(c, slot, sql, args, nargs, &st);
    if (rv != CKR_OK)
        return rv;
    do {
        rc = sqlite3_step(st);
    } while (rc == SQLITE_ROW);
    if (rc != SQLITE_DONE)
        sq_log(c->cfg, "exec", c->db);
    rv = sq_rv(rc);
    if (rv == CKR_OK && changes != NULL)
        *changes = (uint64_t)sqlite3_changes64(c->db);
    done_with(slot, st);
    return rv;
}

static CK_RV sq_query(db_conn *c, int slot, const char *sql, const db_arg *args, size_t nargs,
                      db_rows **out)
{
    sqlite3_stmt *st = NULL;
    db_rows *r;
    CK_RV rv;

    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return CKR_HOST_MEMORY;
    rv = prepare(c, slot, sql, args, nargs, &st);
    if (rv != CKR_OK) {
        free(r);
        return rv;
    }
    r->c = c;
    r->stmt = st;
    r->owned = slot < 0;
    *out = r;
    return CKR_OK;
}

static CK_RV sq_next(db_rows *r, bool *have)
{
    int rc;

    *have = false;
    if (r->done)
        return CKR_OK;
    rc = sqlite3_step(r->stmt);
    if (rc == SQLITE_ROW) {
        *have = true;
        return CKR_OK;
    }
    r->done = true;
    if (rc != SQLITE_DONE)
        sq_log(r->c->cfg, "step", r->c->db);
    return sq_rv(rc);
}

static bool sq_col_null(db_rows *r, int col)
{
    return sqlite3_column_type(r->stmt, col) == SQLITE_NULL;
}

static int64_t sq_col_int(db_rows *r, int col)
{
    return sqlite3_column_int64(r->stmt, col);
}

static const unsigned char *sq_col_blob(db_rows *r, int col, size_t *len)
{
    const unsigned char *p = sqlite3_column_blob(r->stmt, col);

    *len = (size_t)sqlite3_column_bytes(r->stmt, col);
    return p;
}

static void sq_rows_free(db_rows *r)
{
    if (r == NULL)
        return;
    done_with(r->owned ? -1 : 0, r->stmt);
    free(r);
}

const db_backend db_sqlite_backend = {
    .name = "sqlite",
    .shared_new = sq_shared_new,
    .shared_free = sq_shared_free,
    .connect = sq_connect,
    .close = sq_close,
    .broken = sq_broken,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .script = sq_script,
    .exec = sq_exec,
    .query = sq_query,
    .next = sq_next,
    .col_null = sq_col_null,
    .col_int = sq_col_int,
    .col_blob = sq_col_blob,
    .rows_free = sq_rows_free,
};
