/* Starts a real grep11d on a free loopback port for integration tests and
 * stops it again, reporting how it exited. */
#ifndef GREP11_TEST_HARNESS_H
#define GREP11_TEST_HARNESS_H

#include <sys/types.h>
#include <time.h>

#include "grep11_client.h"

typedef struct {
    pid_t pid;
    char dir[256];    /* the server's data directory (a fresh temp dir) */
    char addr[128];   /* "127.0.0.1:PORT" */
    char ca[320];     /* DIR/tls/ca.pem */
    char log[320];    /* server's stdout+stderr */
    char apikey[160]; /* DIR/dev-apikey: every role */
    char yaml[1024];  /* the configuration it was started with ("" none) */
    const char *const *args;
    unsigned nofile; /* RLIMIT_NOFILE (soft and hard) it runs under; 0: inherited */
} test_server;

/* Starts grep11d --dev in a new temp dir. extra_yaml, if not NULL, is written
 * to DIR/grep11d.yaml (with @DIR@ replaced by DIR) and passed with --config. extra_args is a NULL-
 * terminated list appended to the command line (may be NULL). Returns 0 when
 * the server is listening. */
int test_server_start(test_server *ts, const char *extra_yaml, const char *const *extra_args);

/* test_server_start under a descriptor limit: soft = hard = nofile, set in
 * the child before exec, as a service manager would. */
int test_server_start_nofile(test_server *ts, const char *extra_yaml, const char *const *extra_args,
                             unsigned nofile);

/* The fixture most integration tests share: a default server and one
 * connection holding every role, as a cmocka group setup and teardown.
 * The teardown is itself a check: SIGTERM must drain and exit 0 (and under
 * AddressSanitizer a leak turns the exit status non-zero). */
typedef struct {
    test_server srv;
    g11c_conn *conn;
} test_fixture;
int test_fixture_setup(void **state);
int test_fixture_teardown(void **state);

/* SIGTERM, wait; returns the exit status (0 = clean) or -1 if it had to be
 * killed. Removes the data directory unless the server failed. */
int test_server_stop(test_server *ts);

/* SIGTERM, then waits (up to 30 s) watching closely: *seconds gets how
 * long the server took to exit. Returns the exit status like
 * test_server_stop but keeps the data directory (its log) for the caller,
 * who removes it with test_server_remove. */
int test_server_term_timed(test_server *ts, double *seconds);
void test_server_remove(test_server *ts);

/* cmocka setup/teardown of a test_server slot (*state) a test starts
 * itself: the teardown kills one a failed assertion left running. */
int test_server_slot_setup(void **state);
int test_server_slot_teardown(void **state);
/* kill -9: no drain, no cleanup. */
void test_server_crash(test_server *ts);

/* Starts the server again on the same data directory and settings (a new
 * port). */
int test_server_restart(test_server *ts);

/* Connects with the dev CA (TLS) or plaintext, authenticated with the
 * development API key (every role). */
g11c_conn *test_connect(const test_server *ts, int insecure);

/* Connects without credentials. */
g11c_conn *test_connect_anonymous(const test_server *ts, int insecure);

/* Connects without credentials, with a call deadline of timeout_ms: for
 * calls that must fail in the transport (a refused handshake waits for a
 * reconnect until the deadline), or must run into their deadline. */
g11c_conn *test_connect_within(const test_server *ts, int insecure, int timeout_ms);

/* Gets a bearer token for api_key and makes c send it on every call. */
CK_RV test_authenticate(g11c_conn *c, const char *api_key);

/* Connects and authenticates with api_key; NULL if the key is refused. */
g11c_conn *test_connect_as(const test_server *ts, int insecure, const char *api_key);

/* A loopback TCP port that was free a moment ago: for a server that must
 * come back on the same address, or an address where nothing listens. */
unsigned test_free_port(void);

/* Seconds on the monotonic clock since *t0. */
double test_seconds_since(const struct timespec *t0);

/* How often GetMechanismList names m (-1: the call failed), and its
 * GetMechanismInfo in *mi (zeroed when that fails). */
int test_mechanism_listed(g11c_conn *c, CK_MECHANISM_TYPE m, CK_MECHANISM_INFO *mi);

#endif
