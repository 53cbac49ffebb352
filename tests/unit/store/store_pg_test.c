/* The store suite on a real PostgreSQL server started for this test, then
 * the outage test: stop the server under an open store (calls must fail
 * fast with CKR_DEVICE_ERROR), start it again (calls must work again on
 * the same store). Exits 77 (skipped) only when PostgreSQL is missing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "pgharness.h"
#include "suite.h"

static pg_server srv;

static PGconn *raw_conn_to(const char *url)
{
    PGconn *c = PQconnectdb(url);

    if (PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

static PGconn *raw_conn(const suite_backend *b)
{
    return raw_conn_to(b->url);
}

static int raw_exec(const suite_backend *b, const char *url, const char *sql)
{
    PGconn *c = raw_conn_to(url != NULL ? url : b->url);
    PGresult *res;
    int ret = -1;

    if (c == NULL)
        return -1;
    res = PQexec(c, sql);
    if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK)
        ret = 0;
    else
        fprintf(stderr, "raw_exec: %s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(c);
    return ret;
}

static int raw_int(const suite_backend *b, const char *url, const char *sql, const store_uuid *ks,
                   int64_t *out)
{
    const char *vals[1] = {ks != NULL ? (const char *)ks->b : NULL};
    int lens[1] = {16}, fmts[1] = {1};
    PGconn *c = raw_conn_to(url != NULL ? url : b->url);
    PGresult *res;
    int ret = -1;

    if (c == NULL)
        return -1;
    /* text results: any integer type reads the same */
    res = PQexecParams(c, sql, ks != NULL ? 1 : 0, NULL, vals, lens, fmts, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        *out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        ret = 0;
    } else {
        fprintf(stderr, "raw_int: %s: %s", sql, PQresultErrorMessage(res));
    }
    PQclear(res);
    PQfinish(c);
    return ret;
}

/* A database next to the suite's, on the same server. */
static int fresh_db(const suite_backend *b, const char *name, char *url, size_t n)
{
    char sql[128];

    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    snprintf(url, n, "host=127.0.0.1 port=%d user=postgres dbname=%s", srv.port, name);
    return raw_exec(b, srv.url, sql);
}

static int raw_get(const suite_backend *b, const store_uuid *ks, const store_uuid *obj,
                   const char *col, unsigned char **out, size_t *n)
{
    const char *vals[2] = {(const char *)ks->b, (const char *)obj->b};
    int lens[2] = {16, 16}, fmts[2] = {1, 1};
    PGconn *c = raw_conn(b);
    PGresult *res;
    char sql[128];
    int ret = -1;

    if (c == NULL)
        return -1;
    snprintf(sql, sizeof(sql), "SELECT %s FROM g11_objects WHERE keystore = $1 AND id = $2", col);
    res = PQexecParams(c, sql, 2, NULL, vals, lens, fmts, 1);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        *n = (size_t)PQgetlength(res, 0, 0);
        *out = malloc(*n + 1);
        memcpy(*out, PQgetvalue(res, 0, 0), *n);
        ret = 0;
    }
    PQclear(res);
    PQfinish(c);
    return ret;
}

static int raw_set(const suite_backend *b, const store_uuid *ks, const store_uuid *obj,
                   const char *col, const unsigned char *v, size_t n)
{
    const char *vals[3] = {(const char *)v, (const char *)ks->b, (const char *)obj->b};
    int lens[3] = {(int)n, 16, 16}, fmts[3] = {1, 1, 1};
    PGconn *c = raw_conn(b);
    PGresult *res;
    char sql[128];
    int ret = -1;

    if (c == NULL)
        return -1;
    snprintf(sql, sizeof(sql), "UPDATE g11_objects SET %s = $1 WHERE keystore = $2 AND id = $3",
             col);
    res = PQexecParams(c, sql, 3, NULL, vals, lens, fmts, 1);
    if (PQresultStatus(res) == PGRES_COMMAND_OK && strcmp(PQcmdTuples(res), "1") == 0)
        ret = 0;
    PQclear(res);
    PQfinish(c);
    return ret;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_pg_outage(void **state)
{
    store *st = NULL;
    store_uuid ks, id, id2;
    store_ks_params p = {STORE_KS_PRIVATE, "outage", NULL};
    store_options opt = {.pool_size = 3};
    store_object *o = NULL, *objs = NULL;
    char next[STORE_CURSOR_SIZE];
    unsigned char blob[16] = {1, 2, 3};
    size_t n;
    double t0, worst = 0, back;
    CK_RV rv;

    (void)state;
    memset(&ks, 0x77, sizeof(ks));
    assert_int_equal(store_open(srv.url, &opt, &st), CKR_OK);
    assert_int_equal(store_keystore_create(st, &ks, &p), CKR_OK);
    assert_int_equal(store_object_create(st, &ks, NULL, blob, sizeof(blob), NULL, 0, &id, NULL),
                     CKR_OK);
    /* warm every pooled connection, so the outage hits idle ones */
    for (int i = 0; i < 6; i++) {
        assert_int_equal(store_object_get(st, &ks, NULL, &id, &o), CKR_OK);
        store_object_free(o);
    }

    assert_int_equal(pg_stop(&srv), 0);
    for (int i = 0; i < 6; i++) {
        t0 = now_s();
        switch (i % 3) {
        case 0:
            rv = store_object_get(st, &ks, NULL, &id, &o);
            break;
        case 1:
            rv = store_object_create(st, &ks, NULL, blob, sizeof(blob), NULL, 0, &id2, NULL);
            break;
        default:
            rv = store_find_objects(st, &ks, NULL, NULL, 0, NULL, 10, &objs, &n, next);
            break;
        }
        t0 = now_s() - t0;
        worst = t0 > worst ? t0 : worst;
        assert_int_equal(rv, CKR_DEVICE_ERROR);
    }
    printf("[ MEASURE  ] PostgreSQL down: CKR_DEVICE_ERROR after at most %.3f s (6 calls)\n",
           worst);
    assert_true(worst < 2.5);

    assert_int_equal(pg_resume(&srv), 0);
    t0 = now_s();
    do {
        rv = store_object_get(st, &ks, NULL, &id, &o);
    } while (rv == CKR_DEVICE_ERROR && now_s() - t0 < 15);
    back = now_s() - t0;
    assert_int_equal(rv, CKR_OK);
    assert_memory_equal(o->blob, blob, sizeof(blob));
    store_object_free(o);
    printf("[ MEASURE  ] PostgreSQL back: first successful call after %.3f s\n", back);
    /* every pooled connection recovers, reads and writes alike */
    for (int i = 0; i < 6; i++) {
        assert_int_equal(
            store_object_create(st, &ks, NULL, blob, sizeof(blob), NULL, 0, &id2, NULL), CKR_OK);
        assert_int_equal(store_object_get(st, &ks, NULL, &id2, &o), CKR_OK);
        store_object_free(o);
    }
    assert_int_equal(store_keystore_delete(st, &ks), CKR_OK);
    store_close(st);
}

/* A database that does not answer at all: open gives up within the
 * connect timeout instead of hanging. */
static void test_pg_unreachable(void **state)
{
    store *st = NULL;
    double t0 = now_s();

    (void)state;
    /* TEST-NET-1 (RFC 5737): never routed */
    assert_int_equal(store_open("host=192.0.2.1 port=5432 dbname=x connect_timeout=2", NULL, &st),
                     CKR_DEVICE_ERROR);
    assert_null(st);
    t0 = now_s() - t0;
    printf("[ MEASURE  ] unreachable PostgreSQL host: CKR_DEVICE_ERROR after %.3f s\n", t0);
    assert_true(t0 < 3.5);
}

int main(void)
{
    suite_backend b = {.name = "postgresql",
                       .raw_get = raw_get,
                       .raw_set = raw_set,
                       .raw_exec = raw_exec,
                       .raw_int = raw_int,
                       .fresh_db = fresh_db};
    const struct CMUnitTest extra[] = {
        cmocka_unit_test(test_pg_outage),
        cmocka_unit_test(test_pg_unreachable),
    };
    int rc, failed;

    rc = pg_start(&srv);
    if (rc == 77) {
        fprintf(stderr, "\n"
                        "**************************************************************\n"
                        "** SKIPPED: PostgreSQL server binaries not found            **\n"
                        "** (install Debian's `postgresql` or set GREP11_PG_BINDIR). **\n"
                        "** The store suite did NOT run against PostgreSQL.          **\n"
                        "**************************************************************\n\n");
        return 77;
    }
    if (rc != 0) {
        fprintf(stderr, "could not start a PostgreSQL server for the tests\n");
        pg_destroy(&srv);
        return 1;
    }
    printf("PostgreSQL test server: %s (binaries %s)\n", srv.url, srv.bindir);
    snprintf(b.url, sizeof(b.url), "%s", srv.url);
    failed = suite_run(&b);
    failed += cmocka_run_group_tests_name("store_pg", extra, NULL, NULL);
    pg_destroy(&srv);
    return failed;
}
