/* A store write and its audit entry are one: grep11d killed with SIGKILL
 * again and again under a write load (SQLite, then a real PostgreSQL)
 * leaves no object without its entry and no entry without its object, and
 * loses no acknowledged write. Also: audit verify finds an object that was
 * written behind the server's back, without an entry. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"
#include "pgharness.h"

#define WRITERS 4
#define KILLS 8
#define MAX_ACKED 20000
#define NO_AUTH "auth:\n  enabled: false\n"

static const uint8_t PRIV[16] = {0xc1, 7};
static const uint8_t PUB[16] = {0xc2, 7};

typedef struct {
    pthread_mutex_t mu;
    test_server ts; /* the address changes with every restart */
    int stop;
    size_t acked;
    uint8_t ids[MAX_ACKED][16];
} load;

static CK_RV put(g11c_conn *c, unsigned n, uint8_t id[16])
{
    CK_BBOOL no = CK_FALSE;
    char label[32];
    int len = snprintf(label, sizeof(label), "crash-%u", n);
    CK_ATTRIBUTE a[] = {{CKA_LABEL, label, (CK_ULONG)len}, {CKA_PRIVATE, &no, 1}};
    uint8_t blob[48];
    memset(blob, (int)n, sizeof(blob));
    return g11c_store_create_object(c, PUB, NULL, (g11c_bytes){blob, sizeof(blob)}, a, 2, id, NULL);
}

static void *writer(void *arg)
{
    load *l = arg;
    g11c_conn *c = NULL;
    unsigned n = 0;
    for (;;) {
        pthread_mutex_lock(&l->mu);
        int stop = l->stop;
        test_server at = l->ts;
        pthread_mutex_unlock(&l->mu);
        if (stop)
            break;
        if (!c && !(c = test_connect_within(&at, 0, 2000))) {
            usleep(20 * 1000);
            continue;
        }
        for (int i = 0; i < 50; i++) {
            uint8_t id[16];
            if (put(c, n++, id) != CKR_OK) {
                g11c_close(c); /* the server is gone: reconnect to the new one */
                c = NULL;
                break;
            }
            pthread_mutex_lock(&l->mu);
            if (l->acked < MAX_ACKED)
                memcpy(l->ids[l->acked++], id, 16);
            pthread_mutex_unlock(&l->mu);
        }
    }
    if (c)
        g11c_close(c);
    return NULL;
}

static uint64_t entries_now(const test_server *ts)
{
    g11c_conn *c = test_connect_anonymous(ts, 0);
    g11c_audit_report rep;
    assert_non_null(c);
    assert_int_equal(g11c_audit_verify(c, &rep), CKR_OK);
    if (!rep.intact)
        fprintf(stderr, "audit: %s\n", rep.problem);
    assert_true(rep.intact);
    g11c_close(c);
    return rep.entries;
}

static void kill_under_load(const char *yaml)
{
    load *l = calloc(1, sizeof(*l));
    assert_non_null(l);
    pthread_mutex_init(&l->mu, NULL);
    assert_int_equal(test_server_start(&l->ts, yaml, NULL), 0);
    g11c_conn *c = test_connect_anonymous(&l->ts, 0);
    assert_non_null(c);
    assert_int_equal(g11c_store_init_keystores(c, PRIV, PUB, "crash", NULL), CKR_OK);
    g11c_close(c);
    uint64_t before = entries_now(&l->ts);

    pthread_t th[WRITERS];
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, writer, l), 0);
    srand((unsigned)time(NULL));
    for (int k = 0; k < KILLS; k++) {
        usleep((useconds_t)(300 + rand() % 400) * 1000);
        pthread_mutex_lock(&l->mu);
        test_server_crash(&l->ts);
        assert_int_equal(test_server_restart(&l->ts), 0);
        pthread_mutex_unlock(&l->mu);
    }
    usleep(300 * 1000);
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_mutex_unlock(&l->mu);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(th[i], NULL);

    /* Startup writes no entry: every entry since `before` is one create. */
    uint64_t after = entries_now(&l->ts);
    c = test_connect_anonymous(&l->ts, 0);
    g11c_keystore_info info;
    assert_int_equal(g11c_store_keystore_info(c, PUB, &info), CKR_OK);
    fprintf(stderr, "%zu creates acknowledged, %llu objects, %llu entries for them\n", l->acked,
            (unsigned long long)info.object_count, (unsigned long long)(after - before));
    assert_true(l->acked > 0);
    assert_int_equal(info.object_count, after - before);
    assert_true(info.object_count >= l->acked);
    for (size_t i = 0; i < l->acked; i++) { /* no acknowledged write lost */
        g11c_stored_object o;
        assert_int_equal(g11c_store_get_object(c, PUB, NULL, l->ids[i], &o), CKR_OK);
        g11c_stored_object_free(&o);
    }
    g11c_close(c);
    assert_int_equal(test_server_stop(&l->ts), 0);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static void sqlite_kill9_loses_no_entry(void **state)
{
    (void)state;
    kill_under_load(NO_AUTH);
}

static void postgres_kill9_loses_no_entry(void **state)
{
    (void)state;
    pg_server pg;
    int rc = pg_start(&pg);
    if (rc == 77)
        skip();
    assert_int_equal(rc, 0);
    char yaml[400];
    snprintf(yaml, sizeof(yaml), "store: \"%s\"\n" NO_AUTH, pg.url);
    kill_under_load(yaml);
    pg_destroy(&pg);
}

/* An object inserted into the database directly (a write that bypassed
 * its entry) is reported by audit verify. */
static void verify_finds_an_object_without_entry(void **state)
{
    (void)state;
    test_server ts;
    assert_int_equal(test_server_start(&ts, NO_AUTH, NULL), 0);
    g11c_conn *c = test_connect_anonymous(&ts, 0);
    assert_non_null(c);
    assert_int_equal(g11c_store_init_keystores(c, PRIV, PUB, "verify", NULL), CKR_OK);
    uint8_t id[16];
    assert_int_equal(put(c, 1, id), CKR_OK);
    g11c_audit_report rep;
    assert_int_equal(g11c_audit_verify(c, &rep), CKR_OK);
    assert_true(rep.intact);

    /* A copy of the object's row under another UUID, made a second later,
     * as a write that committed without its entry would leave it. */
    char db_path[400];
    snprintf(db_path, sizeof(db_path), "%s/keystore.db", ts.dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *err = NULL;
    int rc = sqlite3_exec(db,
                          "INSERT INTO g11_objects (keystore, id, version, created, updated, "
                          "sealed, attrs, used_bytes) SELECT keystore, randomblob(16), version, "
                          "created + 1000000, updated, sealed, attrs, used_bytes FROM g11_objects "
                          "WHERE keystore = x'c2070000000000000000000000000000'",
                          NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fprintf(stderr, "sqlite: %s\n", err ? err : "?");
    assert_int_equal(rc, SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(g11c_audit_verify(c, &rep), CKR_OK);
    fprintf(stderr, "verify: %s\n", rep.problem);
    assert_false(rep.intact);
    assert_non_null(strstr(rep.problem, "no audit entry"));
    g11c_close(c);
    assert_int_equal(test_server_stop(&ts), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verify_finds_an_object_without_entry),
        cmocka_unit_test(sqlite_kill9_loses_no_entry),
        cmocka_unit_test(postgres_kill9_loses_no_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
