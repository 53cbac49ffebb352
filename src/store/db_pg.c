/* PostgreSQL backend over libpq. Parameters and results travel in binary
 * format, so bytea needs no escaping and integers no parsing. Statements
 * written with `?` are rewritten to `$n` here, prepared once per connection
 * for cached slots.
 *
 * Failing fast matters more than waiting: connect_timeout bounds a connect,
 * TCP keepalives and tcp_user_timeout bound a dead peer, and a lost
 * connection is reported as CKR_DEVICE_ERROR and replaced by the pool. A
 * peer that is alive but does not answer (a frozen server: its kernel still
 * acknowledges every packet, so no TCP timer fires) is bounded here: every
 * statement is sent asynchronously and waited for at most
 * PG_ANSWER_TIMEOUT_MS, after which the connection counts as broken. The
 * server bounds its own side (statement_timeout, lock_timeout). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "db.h"

/* Type OIDs from PostgreSQL's pg_type.dat; stable across versions. */
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25

/* Client-side bound on one statement's answer; the server's own limits
 * are below it, so a live server answers with an error first. */
#define PG_ANSWER_TIMEOUT_MS 10000
#define PG_SERVER_LIMITS "-c statement_timeout=8000 -c lock_timeout=5000"

struct db_conn {
    PGconn *pg;
    const db_config *cfg;
    bool prepared[DB_SLOTS];
    bool timed_out; /* no answer in time: the connection is not reused */
};

struct db_rows {
    PGresult *res;
    int row, nrows;
};

static void pg_log(const db_config *cfg, const char *what, const char *detail)
{
    char msg[512];
    size_t n;

    if (cfg->log == NULL)
        return;
    snprintf(msg, sizeof(msg), "postgresql: %s: %s", what, detail ? detail : "");
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    cfg->log(cfg->log_ctx, msg);
}

/* libpq prints NOTICEs to stderr by default ("relation exists, skipping"). */
static void quiet_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static CK_RV pg_shared_new(const db_config *cfg, db_shared **out)
{
    (void)cfg;
    *out = NULL;
    return CKR_OK;
}

static void pg_shared_free(db_shared *sh)
{
    (void)sh;
}

static void pg_close(db_conn *c)
{
    if (c == NULL)
        return;
    PQfinish(c->pg);
    free(c);
}

static CK_RV pg_connect(const db_config *cfg, db_shared *sh, db_conn **out)
{
    char timeout[16];
    db_conn *c;
    /* Our defaults come before dbname so that a conninfo naming the same
     * keyword overrides them (libpq: later entries win). */
    const char *keys[] = {"connect_timeout",  "keepalives",
                          "keepalives_idle",  "keepalives_interval",
                          "keepalives_count", "tcp_user_timeout",
                          "application_name", "options",
                          "dbname",           NULL};
    const char *vals[] = {timeout,          "1",         "5", "2", "2", "5000", "grep11-store",
                          PG_SERVER_LIMITS, cfg->target, NULL};

    (void)sh;
    snprintf(timeout, sizeof(timeout), "%u", cfg->connect_timeout_s);
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return CKR_HOST_MEMORY;
    c->cfg = cfg;
    c->pg = PQconnectdbParams(keys, vals, 1);
    if (c->pg == NULL) {
        free(c);
        return CKR_HOST_MEMORY;
    }
    if (PQstatus(c->pg) != CONNECTION_OK) {
        pg_log(cfg, "connect", PQerrorMessage(c->pg));
        pg_close(c);
        return CKR_DEVICE_ERROR;
    }
    PQsetNoticeProcessor(c->pg, quiet_notices, NULL);
    *out = c;
    return CKR_OK;
}

static bool pg_broken(db_conn *c)
{
    return c->timed_out || PQstatus(c->pg) != CONNECTION_OK;
}

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The answer to what was just sent (sent: the PQsend* call's result): its
 * last result, or NULL when sending failed, the connection broke, or no
 * answer came within PG_ANSWER_TIMEOUT_MS (then c->timed_out). */
static PGresult *await(db_conn *c, int sent)
{
    PGresult *last = NULL, *r;
    int64_t deadline = mono_ms() + PG_ANSWER_TIMEOUT_MS;
    int flushing = 1;
    if (!sent)
        return NULL;
    for (;;) {
        if (flushing) {
            int f = PQflush(c->pg);
            if (f < 0)
                break;
            flushing = f == 1;
        }
        if (!flushing && !PQisBusy(c->pg)) {
            r = PQgetResult(c->pg);
            if (r == NULL)
                return last;
            PQclear(last);
            last = r;
            continue;
        }
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            c->timed_out = true;
            pg_log(c->cfg, "statement", "no answer from the database in time");
            break;
        }
        struct pollfd pfd = {PQsocket(c->pg), (short)(POLLIN | (flushing ? POLLOUT : 0)), 0};
        int n = poll(&pfd, 1, (int)left);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (pfd.revents & POLLIN) && !PQconsumeInput(c->pg))
            break;
    }
    PQclear(last);
    return NULL;
}

/* Maps a failed result (or none) to a CK_RV by SQLSTATE class. */
static CK_RV pg_rv(db_conn *c, PGresult *res, const char *what)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    const char *state;

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return CKR_OK;
    state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!c->timed_out)
        pg_log(c->cfg, what, res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg));
    if (state == NULL || pg_broken(c))
        return CKR_DEVICE_ERROR;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return STORE_RV_RETRY;
    if (strcmp(state, "23505") == 0)
        return CKR_IBM_GREP11_CONFLICT;
    /* connection exception, insufficient resources, operator intervention
     * (shutdown, cancel, timeout), system error */
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
        strncmp(state, "57", 2) == 0 || strncmp(state, "58", 2) == 0)
        return CKR_DEVICE_ERROR;
    return CKR_IBM_GREP11_DBINTERNAL;
}

static CK_RV simple(db_conn *c, const char *sql)
{
    PGresult *res = await(c, PQsendQuery(c->pg, sql));
    CK_RV rv = pg_rv(c, res, sql);

    PQclear(res);
    return rv;
}

static CK_RV pg_begin(db_conn *c, bool write)
{
    /* Reads see one snapshot (the keystore check and the objects agree);
     * writes stay READ COMMITTED, where a conditional UPDATE re-checks its
     * WHERE against the latest committed row. */
    return simple(c, write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

static CK_RV pg_commit(db_conn *c)
{
    return simple(c, "COMMIT");
}

static void pg_rollback(db_conn *c)
{
    PGresult *res;

    if (pg_broken(c))
        return;
    res = await(c, PQsendQuery(c->pg, "ROLLBACK"));
    PQclear(res);
}

static CK_RV pg_script(db_conn *c, const char *sql)
{
    return simple(c, sql);
}

/* `?` -> `$1`, `$2`, ... (our SQL has no `?` inside literals). */
static char *rewrite(const char *sql)
{
    size_t n = 0, len = strlen(sql), cap;
    unsigned k = 0;
    char *out, *p;

    for (const char *s = sql; *s; s++)
        n += *s == '?';
    cap = len + n * 6 + 1;
    out = malloc(cap);
    if (out == NULL)
        return NULL;
    p = out;
    for (const char *s = sql; *s; s++) {
        if (*s == '?')
            p += snprintf(p, cap - (size_t)(p - out), "$%u", ++k);
        else
            *p++ = *s;
    }
    *p = '\0';
    return out;
}

typedef struct pg_params {
    const char **values;
    int *lengths, *formats;
    Oid *types;
    unsigned char (*ints)[8];
} pg_params;

static void params_free(pg_params *pp)
{
    free(pp->values);
    free(pp->lengths);
    free(pp->formats);
    free(pp->types);
    free(pp->ints);
}

static CK_RV params_make(const db_arg *args, size_t nargs, pg_params *pp)
{
    size_t n = nargs ? nargs : 1;

    memset(pp, 0, sizeof(*pp));
    pp->values = calloc(n, sizeof(*pp->values));
    pp->lengths = calloc(n, sizeof(*pp->lengths));
    pp->formats = calloc(n, sizeof(*pp->formats));
    pp->types = calloc(n, sizeof(*pp->types));
    pp->ints = calloc(n, sizeof(*pp->ints));
    if (!pp->values || !pp->lengths || !pp->formats || !pp->types || !pp->ints) {
        params_free(pp);
        return CKR_HOST_MEMORY;
    }
    for (size_t i = 0; i < nargs; i++) {
        pp->formats[i] = 1;
        switch (args[i].type) {
        case DB_INT: {
            uint64_t v = (uint64_t)args[i].i;
            for (int b = 0; b < 8; b++)
                pp->ints[i][b] = (unsigned char)(v >> (56 - 8 * b));
            pp->values[i] = (const char *)pp->ints[i];
            pp->lengths[i] = 8;
            pp->types[i] = OID_INT8;
            break;
        }
        case DB_BLOB:
        case DB_TEXT:
            /* libpq wants a non-NULL pointer for a non-NULL empty value */
            pp->values[i] = args[i].n ? (const char *)args[i].p : "";
            pp->lengths[i] = (int)args[i].n;
            pp->types[i] = args[i].type == DB_BLOB ? OID_BYTEA : OID_TEXT;
            break;
        }
    }
    return CKR_OK;
}

static CK_RV run(db_conn *c, int slot, const char *sql, const db_arg *args, size_t nargs,
                 PGresult **out)
{
    char name[16], *text = NULL;
    PGresult *res = NULL;
    pg_params pp;
    CK_RV rv;

    if (slot >= DB_SLOTS || nargs > 65535)
        return CKR_GENERAL_ERROR;
    rv = params_make(args, nargs, &pp);
    if (rv != CKR_OK)
        return rv;
    text = rewrite(sql);
    if (text == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if (slot < 0) {
        res = await(c, PQsendQueryParams(c->pg, text, (int)nargs, pp.types, pp.values, pp.lengths,
                                         pp.formats, 1));
    } else {
        snprintf(name, sizeof(name), "g11s%d", slot);
        if (!c->prepared[slot]) {
            res = await(c, PQsendPrepare(c->pg, name, text, (int)nargs, pp.types));
            rv = pg_rv(c, res, "prepare");
            PQclear(res);
            res = NULL;
            if (rv != CKR_OK)
                goto out;
            c->prepared[slot] = true;
        }
        res = await(
            c, PQsendQueryPrepared(c->pg, name, (int)nargs, pp.values, pp.lengths, pp.formats, 1));
    }
    rv = pg_rv(c, res, "statement");
    if (rv != CKR_OK)
        goto out;
    *out = res;
    res = NULL;
out:
    PQclear(res);
    free(text);
    params_free(&pp);
    return rv;
}

static CK_RV pg_exec(db_conn *c, int slot, const char *sql, const db_arg *args, size_t nargs,
                     uint64_t *changes)
{
    PGresult *res = NULL;
    CK_RV rv = run(c, slot, sql, args, nargs, &res);

    if (rv == CKR_OK && changes != NULL)
        *changes = strtoull(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return rv;
}

static CK_RV pg_query(db_conn *c, int slot, const char *sql, const db_arg *args, size_t nargs,
                      db_rows **out)
{
    PGresult *res = NULL;
    db_rows *r;
    CK_RV rv;

    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return CKR_HOST_MEMORY;
    rv = run(c, slot, sql, args, nargs, &res);
    if (rv != CKR_OK) {
        free(r);
        return rv;
    }
    r->res = res;
    r->row = -1;
    r->nrows = PQntuples(res);
    *out = r;
    return CKR_OK;
}

static CK_RV pg_next(db_rows *r, bool *have)
{
    if (r->row + 1 < r->nrows) {
        r->row++;
        *have = true;
    } else {
        r->row = r->nrows;
        *have = false;
    }
    return CKR_OK;
}

static bool pg_col_null(db_rows *r, int col)
{
    return col >= PQnfields(r->res) || PQgetisnull(r->res, r->row, col);
}

/* Binary int8 (our columns, COUNT) or int4; anything else reads as 0. */
static int64_t pg_col_int(db_rows *r, int col)
{
    const unsigned char *p;
    uint64_t v = 0;
    int len;

    if (pg_col_null(r, col))
        return 0;
    p = (const unsigned char *)PQgetvalue(r->res, r->row, col);
    len = PQgetlength(r->res, r->row, col);
    if (len != 8 && len != 4)
        return 0;
    for (int i = 0; i < len; i++)
        v = (v << 8) | p[i];
    if (len == 4)
        return (int32_t)(uint32_t)v;
    return (int64_t)v;
}

static const unsigned char *pg_col_blob(db_rows *r, int col, size_t *len)
{
    if (pg_col_null(r, col)) {
        *len = 0;
        return NULL;
    }
    *len = (size_t)PQgetlength(r->res, r->row, col);
    return (const unsigned char *)PQgetvalue(r->res, r->row, col);
}

static void pg_rows_free(db_rows *r)
{
    if (r == NULL)
        return;
    PQclear(r->res);
    free(r);
}

const db_backend db_pg_backend = {
    .name = "postgresql",
    .shared_new = pg_shared_new,
    .shared_free = pg_shared_free,
    .connect = pg_connect,
    .close = pg_close,
    .broken = pg_broken,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .script = pg_script,
    .exec = pg_exec,
    .query = pg_query,
    .next = pg_next,
    .col_null = pg_col_null,
    .col_int = pg_col_int,
    .col_blob = pg_col_blob,
    .rows_free = pg_rows_free,
};
