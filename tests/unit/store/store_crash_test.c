/* kill -9 during a stream of acknowledged creates (SQLite): a child process
 * creates objects in a loop and, after each create returns CKR_OK, writes
 * the object's UUID and sequence number to a pipe. The parent kills it
 * with SIGKILL after ~200 acknowledgements, reopens the store and checks
 * that every acknowledged object is there and intact, and that SQLite's
 * integrity check passes. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"

#define ACKS_BEFORE_KILL 200

typedef struct ack {
    store_uuid id;
    uint32_t seq;
} ack;

static void blob_for(uint32_t seq, unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(seq * 131 + i * 7 + (seq >> 8));
}

static const store_uuid KS = {{0xc7, 0xa5, 0x40, 0x01}};

static void child(const char *url, int fd)
{
    store *st = NULL;
    unsigned char blob[512];
    char label[32];

    if (store_open(url, NULL, &st) != CKR_OK)
        _exit(2);
    for (uint32_t seq = 0;; seq++) {
        ack a = {.seq = seq};
        CK_ATTRIBUTE attrs[] = {{CKA_LABEL, label, 0}};
        blob_for(seq, blob, sizeof(blob));
        attrs[0].ulValueLen = (CK_ULONG)snprintf(label, sizeof(label), "crash-%u", seq);
        if (store_object_create(st, &KS, NULL, blob, sizeof(blob), attrs, 1, &a.id, NULL) != CKR_OK)
            _exit(3);
        if (write(fd, &a, sizeof(a)) != (ssize_t)sizeof(a))
            _exit(4);
    }
}

static void test_kill9(void **state)
{
    char dir[] = "/tmp/g11crash-XXXXXX", path[64], url[80], cmd[96];
    ack *acks = calloc(100000, sizeof(*acks));
    size_t nacks = 0;
    store_ks_params kp = {STORE_KS_PRIVATE, "crash", NULL};
    store *st = NULL;
    int fds[2], status;
    pid_t pid;

    (void)state;
    assert_non_null(acks);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/crash.db", dir);
    snprintf(url, sizeof(url), "sqlite:%s", path);
    assert_int_equal(store_open(url, NULL, &st), CKR_OK);
    assert_int_equal(store_keystore_create(st, &KS, &kp), CKR_OK);
    store_close(st);
    st = NULL;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child(url, fds[1]);
    }
    close(fds[1]);
    /* read acks; kill after ACKS_BEFORE_KILL, then drain what was already
     * acknowledged (written before the kill) until EOF */
    for (;;) {
        ssize_t r = read(fds[0], &acks[nacks], sizeof(ack));
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            break;
        assert_int_equal(r, sizeof(ack));
        if (++nacks == ACKS_BEFORE_KILL)
            kill(pid, SIGKILL);
        assert_true(nacks < 100000);
    }
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    printf("[ MEASURE  ] %zu acknowledged creates before kill -9 took effect\n", nacks);
    assert_true(nacks >= ACKS_BEFORE_KILL);

    /* every acknowledged object is present and intact */
    assert_int_equal(store_open(url, NULL, &st), CKR_OK);
    for (size_t i = 0; i < nacks; i++) {
        unsigned char want[512];
        char label[32];
        store_object *o = NULL;
        int ln = snprintf(label, sizeof(label), "crash-%u", acks[i].seq);
        assert_int_equal(acks[i].seq, i);
        assert_int_equal(store_object_get(st, &KS, NULL, &acks[i].id, &o), CKR_OK);
        blob_for(acks[i].seq, want, sizeof(want));
        assert_int_equal(o->blob_len, sizeof(want));
        assert_memory_equal(o->blob, want, sizeof(want));
        assert_int_equal(o->nattrs, 1);
        assert_int_equal(o->attrs[0].ulValueLen, ln);
        assert_memory_equal(o->attrs[0].pValue, label, (size_t)ln);
        store_object_free(o);
    }
    {
        store_ks_info info;
        memset(&info, 0, sizeof(info));
        assert_int_equal(store_keystore_info(st, &KS, &info), CKR_OK);
        /* at most one create was committed but not yet acknowledged */
        assert_true(info.object_count == nacks || info.object_count == nacks + 1);
    }
    store_close(st);

    {
        sqlite3 *db = NULL;
        sqlite3_stmt *s = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
        sqlite3_finalize(s);
        sqlite3_close(db);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(acks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill9)};

    return cmocka_run_group_tests_name("store_crash", tests, NULL, NULL);
}
