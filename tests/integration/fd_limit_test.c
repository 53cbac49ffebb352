/* grep11d at its file-descriptor limit (reliability issue, item 6): more
 * client connections than descriptors. The keystore must still open its
 * database, connections beyond max_connections must be refused at once
 * (not left hanging), and the server must serve again when they go. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "rawgrpc.h"

#define LIMIT 256  /* the server's RLIMIT_NOFILE, soft and hard */
#define EXCESS 400 /* client connections opened at once: more than fit */
#define HEALTH "/grpc.health.v1.Health/Check"
/* Each flood call's deadline: a bound on a hang, far above what 400 TLS
 * handshakes take even under AddressSanitizer (some 6 s here). */
#define CALL_MS 30000

static const uint8_t PRIV[16] = {0xfd, 1};
static const uint8_t PUB[16] = {0xfd, 2};

/* The value after "key=" on the server's log line that has it, or -1. */
static long logged_value(const test_server *srv, const char *key)
{
    FILE *f = fopen(srv->log, "r");
    if (!f)
        return -1;
    char line[1024], pat[64];
    snprintf(pat, sizeof(pat), " %s=", key);
    long v = -1;
    while (v < 0 && fgets(line, sizeof(line), f)) {
        const char *p = strstr(line, pat);
        if (p)
            v = strtol(p + strlen(pat), NULL, 10);
    }
    fclose(f);
    return v;
}

typedef struct {
    g11c_conn *c;
    int failures;
    CK_RV last;
} store_job;

/* Keystore calls from several threads at once, so that the store needs
 * more database connections than it had open. */
static void *store_calls(void *arg)
{
    store_job *j = arg;
    for (int i = 0; i < 5; i++) {
        CK_BBOOL no = CK_FALSE;
        CK_ATTRIBUTE a[] = {{CKA_LABEL, "fd", 2}, {CKA_PRIVATE, &no, 1}};
        uint8_t blob[4] = {1, 2, 3, 4}, id[16];
        CK_RV rv = g11c_store_create_object(j->c, PUB, NULL, (g11c_bytes){blob, 4}, a, 2, id, NULL);
        g11c_stored_object o;
        if (rv == CKR_OK) {
            rv = g11c_store_get_object(j->c, PUB, NULL, id, &o);
            if (rv == CKR_OK)
                g11c_stored_object_free(&o);
        }
        if (rv != CKR_OK) {
            j->failures++;
            j->last = rv;
        }
    }
    return NULL;
}

/* The keystore works, from four threads at once: 0 or the number of
 * calls that failed. */
static int keystore_works(g11c_conn *c)
{
    enum { THREADS = 4 };
    store_job jobs[THREADS];
    pthread_t th[THREADS];
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (store_job){.c = c};
        assert_int_equal(pthread_create(&th[i], NULL, store_calls, &jobs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        if (jobs[i].failures)
            print_message("keystore calls failed: %d, the last with 0x%lx\n", jobs[i].failures,
                          (unsigned long)jobs[i].last);
        failures += jobs[i].failures;
    }
    return failures;
}

typedef struct {
    long by_code[RAW_STATUS_CODES];
    double slowest;         /* seconds until the last call ended */
    double slowest_refusal; /* ... the last UNAVAILABLE */
} flood_result;

/* Opens n connections at once, one health call on each, and waits for
 * every call to end; the connections stay open. */
static void flood(const test_server *srv, raw_channel **chs, int n, flood_result *out)
{
    memset(out, 0, sizeof(*out));
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int started = 0;
    for (int i = 0; i < n; i++) {
        chs[i] = raw_channel_open(srv->addr, srv->ca);
        assert_non_null(chs[i]);
        if (raw_call_start(chs[i], cq, HEALTH, NULL, 0, CALL_MS))
            started++;
    }
    assert_int_equal(started, n);
    for (int done = 0; done < started;) {
        grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
        assert_int_equal(ev.type, GRPC_OP_COMPLETE);
        grpc_status_code st = raw_call_finish(ev.tag, NULL, 0);
        if (st >= 0 && st < RAW_STATUS_CODES)
            out->by_code[st]++;
        if (st == GRPC_STATUS_UNAVAILABLE)
            out->slowest_refusal = test_seconds_since(&t0);
        done++;
    }
    out->slowest = test_seconds_since(&t0);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(cq);
}

/* A new connection is served within about ten seconds. */
static int serves_new_connections(const test_server *srv)
{
    for (int i = 0; i < 10; i++) {
        raw_channel *ch = raw_channel_open(srv->addr, srv->ca);
        grpc_status_code st =
            ch ? raw_unary(ch, HEALTH, NULL, 0, 1000, NULL, 0) : GRPC_STATUS_INTERNAL;
        raw_channel_close(ch);
        if (st == GRPC_STATUS_OK)
            return 1;
        sleep(1);
    }
    return 0;
}

static void more_connections_than_descriptors(void **state)
{
    test_server *sp = *state, srv;
    static const char *const args[] = {"--http-listen", "127.0.0.1:0", NULL};
    /* Authentication is not what this is about. */
    assert_int_equal(test_server_start_nofile(sp, "auth:\n  enabled: false\n", args, LIMIT), 0);
    srv = *sp;
    g11c_conn *c = test_connect_anonymous(&srv, 0);
    assert_non_null(c);
    assert_int_equal(g11c_store_init_keystores(c, PRIV, PUB, "fd limit", NULL), CKR_OK);
    long max = logged_value(&srv, "max_connections");
    print_message("server under nofile=%d logs max_connections=%ld\n", LIMIT, max);

    raw_channel **chs = calloc(EXCESS, sizeof(*chs));
    assert_non_null(chs);
    flood_result fr;
    flood(&srv, chs, EXCESS, &fr);
    long other = EXCESS - fr.by_code[GRPC_STATUS_OK] - fr.by_code[GRPC_STATUS_UNAVAILABLE];
    print_message("%d connections at once: %ld served, %ld refused (UNAVAILABLE, the last after "
                  "%.2f s), %ld other (%ld past their %d ms deadline); the last call ended after "
                  "%.2f s\n",
                  EXCESS, fr.by_code[GRPC_STATUS_OK], fr.by_code[GRPC_STATUS_UNAVAILABLE],
                  fr.slowest_refusal, other, fr.by_code[GRPC_STATUS_DEADLINE_EXCEEDED], CALL_MS,
                  fr.slowest);

    /* (a) With every descriptor the flood could take taken, the keystore
     * still opens its database: calls on the existing connection work. */
    assert_int_equal(keystore_works(c), 0);
    /* (b) The excess is refused, each at once: no call waited for its
     * deadline, and no more connections were served than allowed. */
    assert_true(fr.by_code[GRPC_STATUS_UNAVAILABLE] > 0);
    assert_int_equal(other, 0);
    assert_true(max > 0);
    assert_true(fr.by_code[GRPC_STATUS_OK] <= max);
    assert_true(fr.slowest_refusal < CALL_MS / 1000.0 / 3);

    /* (c) The flood goes away: new connections are served again. */
    for (int i = 0; i < EXCESS; i++)
        raw_channel_close(chs[i]);
    free(chs);
    assert_true(serves_new_connections(&srv));
    assert_int_equal(keystore_works(c), 0);
    assert_int_equal(waitpid(sp->pid, NULL, WNOHANG), 0); /* still running */
    g11c_close(c);
    assert_int_equal(test_server_stop(sp), 0);
}

int main(void)
{
    /* This side needs a descriptor per connection too. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < EXCESS + 200) {
        fprintf(stderr, "RLIMIT_NOFILE %lu is too low for this test\n", (unsigned long)rl.rlim_cur);
        return 1;
    }
    grpc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(more_connections_than_descriptors, test_server_slot_setup,
                                        test_server_slot_teardown),
    };
    int failed = cmocka_run_group_tests_name("grep11d at its descriptor limit", tests, NULL, NULL);
    grpc_shutdown();
    return failed;
}
