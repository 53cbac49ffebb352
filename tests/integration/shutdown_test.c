/* SIGTERM with clients connected (reliability issue, item 7). A replica
 * being stopped must tell its callers to go elsewhere: calls that arrive
 * while it drains are answered UNAVAILABLE, which gRPC clients retry on
 * another replica (CANCELLED they do not retry), calls already running
 * finish, and an idle connection does not hold the exit up. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "rawgrpc.h"
#include "server.pb-c.h"

#define NO_AUTH "auth:\n  enabled: false\n"
#define RANDOM "/grep11.Crypto/GenerateRandom"

/* An idle client is another process, as in life: one that made a call and
 * now does nothing, so no thread of it polls its connection (a C-core
 * application between calls, the PKCS #11 module's). It is this program
 * again, run with --idle-client ADDR CA; it writes one byte to stdout once
 * its call succeeded, then sleeps until killed. */
static int idle_client_main(const char *addr, const char *ca)
{
    grpc_init();
    raw_channel *ch = raw_channel_open(addr, ca);
    Grep11__GenerateRandomRequest req = GREP11__GENERATE_RANDOM_REQUEST__INIT;
    req.len = 8;
    uint8_t buf[16];
    size_t n = grep11__generate_random_request__pack(&req, buf);
    if (!ch || raw_unary(ch, RANDOM, buf, n, 10000, NULL, 0) != GRPC_STATUS_OK)
        return 1;
    if (write(1, "!", 1) != 1)
        return 1;
    for (;;)
        pause();
}

typedef struct {
    pid_t pid;
} idle_client;

static int idle_client_start(idle_client *ic, const test_server *srv)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    ic->pid = fork();
    if (ic->pid == 0) {
        /* A failed assertion skips idle_client_stop: the client must not
         * outlive the test (and hold ctest's output pipe open). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl("/proc/self/exe", "shutdown_test", "--idle-client", srv->addr, srv->ca, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char c = 0;
    ssize_t got = ic->pid > 0 ? read(p[0], &c, 1) : -1;
    close(p[0]);
    return got == 1 && c == '!' ? 0 : -1;
}

static void idle_client_stop(idle_client *ic)
{
    if (ic->pid > 0) {
        kill(ic->pid, SIGKILL);
        waitpid(ic->pid, NULL, 0);
    }
    ic->pid = 0;
}

/* A client calling GenerateRandom back to back on a connection of its own,
 * counting how each call ended. */
typedef struct {
    raw_channel *ch;
    atomic_int stop;
    atomic_long ok;
    long by_code[RAW_STATUS_CODES];
    long after_exit;  /* calls started once the server had exited */
    long turned_away; /* answered UNAVAILABLE by the draining server itself */
    atomic_int server_gone;
} looper;

static void *loop_calls(void *arg)
{
    looper *l = arg;
    Grep11__GenerateRandomRequest req = GREP11__GENERATE_RANDOM_REQUEST__INIT;
    req.len = 16;
    uint8_t buf[16];
    size_t n = grep11__generate_random_request__pack(&req, buf);
    while (!atomic_load(&l->stop)) {
        int gone = atomic_load(&l->server_gone);
        char detail[200];
        grpc_status_code st = raw_unary(l->ch, RANDOM, buf, n, 3000, detail, sizeof(detail));
        if (st >= 0 && st < RAW_STATUS_CODES)
            l->by_code[st]++;
        if (st == GRPC_STATUS_UNAVAILABLE && strstr(detail, "shutting down"))
            l->turned_away++;
        if (st == GRPC_STATUS_OK)
            atomic_fetch_add(&l->ok, 1);
        else if (gone)
            l->after_exit++;
        if (st != GRPC_STATUS_OK)
            usleep(1000); /* a server that is gone fails calls at once */
    }
    return NULL;
}

/* Lines of the server's log that record a GenerateRandom answered OK. */
static long logged_ok_calls(const test_server *srv)
{
    FILE *f = fopen(srv->log, "r");
    if (!f)
        return -1;
    char line[1024];
    long n = 0;
    while (fgets(line, sizeof(line), f))
        if (strstr(line, "method=\"" RANDOM "\" status=0 "))
            n++;
    fclose(f);
    return n;
}

/* One idle connection (a client process that made one call and then
 * does nothing) and one client calling in a loop; SIGTERM. The
 * process must be gone within a second, every call that failed must have
 * failed UNAVAILABLE, and every call the server answered OK must have
 * reached its client. */
static void sigterm_with_busy_and_idle_clients(void **state)
{
    test_server *sp = *state;
    assert_int_equal(test_server_start(sp, NO_AUTH, NULL), 0);
    test_server srv = *sp;
    idle_client idle = {0};
    assert_int_equal(idle_client_start(&idle, &srv), 0);

    looper l = {.ch = raw_channel_open(srv.addr, srv.ca)};
    assert_non_null(l.ch);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, loop_calls, &l), 0);
    for (int i = 0; i < 1000 && atomic_load(&l.ok) < 300; i++)
        usleep(10 * 1000);
    long ok_before = atomic_load(&l.ok);
    assert_true(ok_before >= 300);

    double took = -1;
    int rc = test_server_term_timed(sp, &took);
    atomic_store(&l.server_gone, 1);
    usleep(200 * 1000); /* the client sees the server gone */
    atomic_store(&l.stop, 1);
    assert_int_equal(pthread_join(th, NULL), 0);
    long logged = logged_ok_calls(&srv);

    long failed = 0;
    for (int c = 1; c < RAW_STATUS_CODES; c++) {
        failed += l.by_code[c];
        if (l.by_code[c])
            print_message("calls ended %s: %ld\n", raw_status_name((grpc_status_code)c),
                          l.by_code[c]);
    }
    print_message("SIGTERM: exit %d after %.3f s; client OK %ld (%ld before SIGTERM), failed "
                  "%ld (%ld answered by the draining server, %ld after exit); server logged %ld "
                  "OK (one of them the idle client's)\n",
                  rc, took, l.by_code[GRPC_STATUS_OK], ok_before, failed, l.turned_away,
                  l.after_exit, logged);
    assert_int_equal(rc, 0);
    assert_true(took < 1.0);
    assert_int_equal(l.by_code[GRPC_STATUS_CANCELLED], 0);
    assert_int_equal(failed, l.by_code[GRPC_STATUS_UNAVAILABLE]);
    /* Answered OK on the server, and received OK by the client: none lost. */
    assert_int_equal(logged, l.by_code[GRPC_STATUS_OK] + 1);

    raw_channel_close(l.ch);
    idle_client_stop(&idle);
    test_server_remove(&srv);
}

typedef struct {
    g11c_conn *c;
    CK_RV rv;
    struct timespec started, ended;
} slow_call;

static void *generate_rsa4096(void *arg)
{
    slow_call *s = arg;
    CK_ULONG bits = 4096;
    static const uint8_t e[] = {1, 0, 1};
    static const CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE pub[] = {{CKA_MODULUS_BITS, &bits, sizeof(bits)},
                          {CKA_PUBLIC_EXPONENT, (void *)e, sizeof(e)},
                          {CKA_VERIFY, (void *)&yes, 1}};
    CK_ATTRIBUTE priv[] = {{CKA_SIGN, (void *)&yes, 1}};
    g11c_mech m = {.type = CKM_RSA_PKCS_KEY_PAIR_GEN};
    g11c_buf sk = {0}, pk = {0};
    clock_gettime(CLOCK_MONOTONIC, &s->started);
    s->rv = g11c_generate_key_pair(s->c, &m, pub, 3, priv, 1, &sk, &pk);
    clock_gettime(CLOCK_MONOTONIC, &s->ended);
    g11c_buf_free(&sk);
    g11c_buf_free(&pk);
    return NULL;
}

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* A call that is running when SIGTERM comes (an RSA-4096 key generation,
 * half a second to seconds) is not cut off: its caller gets the key. The
 * server drains meanwhile, and the calls that reach it then are answered
 * UNAVAILABLE by the server itself, none CANCELLED; once the key is out it
 * exits without waiting for anything else. */
static void running_call_finishes_new_ones_are_turned_away(void **state)
{
    test_server *sp = *state;
    assert_int_equal(test_server_start(sp, NO_AUTH, NULL), 0);
    test_server srv = *sp;
    slow_call s = {.c = test_connect_anonymous(&srv, 0), .rv = CKR_GENERAL_ERROR};
    assert_non_null(s.c);
    uint8_t r[8];
    assert_int_equal(g11c_generate_random(s.c, r, sizeof(r)), CKR_OK);
    looper l = {.ch = raw_channel_open(srv.addr, srv.ca)};
    assert_non_null(l.ch);
    pthread_t lt, kt;
    assert_int_equal(pthread_create(&lt, NULL, loop_calls, &l), 0);
    for (int i = 0; i < 1000 && atomic_load(&l.ok) < 50; i++)
        usleep(10 * 1000);
    assert_true(atomic_load(&l.ok) >= 50);

    assert_int_equal(pthread_create(&kt, NULL, generate_rsa4096, &s), 0);
    usleep(30 * 1000);
    struct timespec term;
    clock_gettime(CLOCK_MONOTONIC, &term);
    double took = -1;
    int rc = test_server_term_timed(sp, &took);
    atomic_store(&l.server_gone, 1);
    assert_int_equal(pthread_join(kt, NULL), 0);
    usleep(200 * 1000);
    atomic_store(&l.stop, 1);
    assert_int_equal(pthread_join(lt, NULL), 0);
    long logged = logged_ok_calls(&srv);

    double ran_on = seconds_between(&term, &s.ended);
    long failed = 0;
    for (int c = 1; c < RAW_STATUS_CODES; c++)
        failed += l.by_code[c];
    print_message("key generation: 0x%lx, running %.3f s after SIGTERM; server exit %d after "
                  "%.3f s; loop: %ld OK, %ld failed (%ld UNAVAILABLE, %ld of them answered by the "
                  "draining server, %ld CANCELLED)\n",
                  (unsigned long)s.rv, ran_on, rc, took, l.by_code[GRPC_STATUS_OK], failed,
                  l.by_code[GRPC_STATUS_UNAVAILABLE], l.turned_away,
                  l.by_code[GRPC_STATUS_CANCELLED]);
    assert_true(ran_on > 0); /* it was running when SIGTERM came */
    assert_int_equal(rc, 0);
    assert_int_equal(s.rv, CKR_OK);
    assert_true(took < ran_on + 1.0);
    assert_int_equal(l.by_code[GRPC_STATUS_CANCELLED], 0);
    assert_int_equal(failed, l.by_code[GRPC_STATUS_UNAVAILABLE]);
    assert_true(l.turned_away > 0);
    assert_int_equal(logged, l.by_code[GRPC_STATUS_OK] + 1);
    raw_channel_close(l.ch);
    g11c_close(s.c);
    test_server_remove(&srv);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--idle-client") == 0)
        return idle_client_main(argv[2], argv[3]);
    grpc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sigterm_with_busy_and_idle_clients, test_server_slot_setup,
                                        test_server_slot_teardown),
        cmocka_unit_test_setup_teardown(running_call_finishes_new_ones_are_turned_away,
                                        test_server_slot_setup, test_server_slot_teardown),
    };
    int failed = cmocka_run_group_tests_name("grep11d shutdown", tests, NULL, NULL);
    grpc_shutdown();
    return failed;
}
