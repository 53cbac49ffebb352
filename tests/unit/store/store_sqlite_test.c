/* The store suite on SQLite: a fresh database file in a temporary
 * directory, plus SQLite-only checks (file mode, WAL, schema version). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "suite.h"

typedef struct sq_ctx {
    char dir[64];
    char path[128];
} sq_ctx;

static int raw_get(const suite_backend *b, const store_uuid *ks, const store_uuid *obj,
                   const char *col, unsigned char **out, size_t *n)
{
    sq_ctx *c = b->ctx;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char sql[128];
    int ret = -1;

    snprintf(sql, sizeof(sql), "SELECT %s FROM g11_objects WHERE keystore = ? AND id = ?", col);
    if (sqlite3_open(c->path, &db) != SQLITE_OK ||
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_blob(st, 1, ks->b, 16, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, obj->b, 16, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto out;
    *n = (size_t)sqlite3_column_bytes(st, 0);
    *out = malloc(*n + 1);
    memcpy(*out, sqlite3_column_blob(st, 0), *n);
    ret = 0;
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ret;
}

static int raw_set(const suite_backend *b, const store_uuid *ks, const store_uuid *obj,
                   const char *col, const unsigned char *v, size_t n)
{
    sq_ctx *c = b->ctx;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char sql[128];
    int ret = -1;

    snprintf(sql, sizeof(sql), "UPDATE g11_objects SET %s = ? WHERE keystore = ? AND id = ?", col);
    if (sqlite3_open(c->path, &db) != SQLITE_OK)
        goto out;
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_blob(st, 1, v, (int)n, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, ks->b, 16, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, obj->b, 16, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1)
        ret = 0;
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ret;
}

/* The file of a "sqlite:FILE" URL, or the suite's own. */
static const char *file_of(const suite_backend *b, const char *url)
{
    return url != NULL ? url + 7 : ((const sq_ctx *)b->ctx)->path;
}

static int raw_exec(const suite_backend *b, const char *url, const char *sql)
{
    sqlite3 *db = NULL;
    int ret = -1;

    if (sqlite3_open(file_of(b, url), &db) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        ret = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
    }
    if (ret != 0)
        fprintf(stderr, "raw_exec: %s: %s\n", sql, db ? sqlite3_errmsg(db) : "no memory");
    sqlite3_close(db);
    return ret;
}

static int raw_int(const suite_backend *b, const char *url, const char *sql, const store_uuid *ks,
                   int64_t *out)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int ret = -1;

    if (sqlite3_open(file_of(b, url), &db) != SQLITE_OK ||
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        goto out;
    if (ks != NULL)
        sqlite3_bind_blob(st, 1, ks->b, 16, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto out;
    *out = sqlite3_column_int64(st, 0);
    ret = 0;
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ret;
}

static int fresh_db(const suite_backend *b, const char *name, char *url, size_t n)
{
    const sq_ctx *c = b->ctx;

    snprintf(url, n, "sqlite:%s/%s.db", c->dir, name);
    return 0;
}

static sq_ctx ctx;

static void test_sqlite_file(void **state)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    struct stat sb;
    store *s2 = NULL;

    (void)state;
    /* private file, WAL, schema version 3; reopening does not migrate again */
    assert_int_equal(stat(ctx.path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sqlite3_open(ctx.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*), MAX(version) FROM g11_schema_version",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 4);
    assert_int_equal(sqlite3_column_int(st, 1), 4);
    sqlite3_finalize(st);

    /* a schema from the future is refused, not used */
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO g11_schema_version (version, applied) "
                                  "VALUES (99, 0)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    {
        char url[160];
        snprintf(url, sizeof(url), "sqlite:%s", ctx.path);
        assert_int_equal(store_open(url, NULL, &s2), CKR_IBM_GREP11_DBINTERNAL);
        assert_null(s2);
    }
    assert_int_equal(
        sqlite3_exec(db, "DELETE FROM g11_schema_version WHERE version = 99", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open("sqlite:", NULL, &s2), CKR_ARGUMENTS_BAD);
    assert_int_equal(store_open("sqlite:/nonexistent-dir/x.db", NULL, &s2), CKR_DEVICE_ERROR);
}

int main(void)
{
    suite_backend b = {.name = "sqlite",
                       .raw_get = raw_get,
                       .raw_set = raw_set,
                       .raw_exec = raw_exec,
                       .raw_int = raw_int,
                       .fresh_db = fresh_db,
                       .ctx = &ctx};
    const struct CMUnitTest extra[] = {cmocka_unit_test(test_sqlite_file)};
    char cmd[128];
    int failed;

    snprintf(ctx.dir, sizeof(ctx.dir), "/tmp/g11store-XXXXXX");
    if (mkdtemp(ctx.dir) == NULL)
        return 1;
    snprintf(ctx.path, sizeof(ctx.path), "%s/store.db", ctx.dir);
    snprintf(b.url, sizeof(b.url), "sqlite:%s", ctx.path);
    failed = suite_run(&b);
    failed += cmocka_run_group_tests_name("store_sqlite", extra, NULL, NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", ctx.dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", ctx.dir);
    return failed;
}
