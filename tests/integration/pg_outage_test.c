/* grep11d on PostgreSQL, and PostgreSQL going away: keystore calls fail fast
 * with CKR_DEVICE_ERROR, Crypto calls that need no keystore keep working,
 * and everything recovers when the database is back. */
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

#include "harness.h"
#include "health.pb-c.h"
#include "pgharness.h"

static const uint8_t PRIV[16] = {0xa1, 2};
static const uint8_t PUB[16] = {0xa2, 2};

static CK_RV put(g11c_conn *c, uint8_t id[16])
{
    CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE a[] = {{CKA_LABEL, "pg", 2}, {CKA_PRIVATE, &no, 1}};
    uint8_t blob[3] = {1, 2, 3};
    return g11c_store_create_object(c, PUB, NULL, (g11c_bytes){blob, 3}, a, 2, id, NULL);
}

/* The health status of one service: 1 SERVING, 0 NOT_SERVING, -1 error. */
static int service_health(g11c_conn *c, const char *service)
{
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = (char *)service;
    uint8_t buf[128];
    size_t n = grpc__health__v1__health_check_request__pack(&req, buf);
    g11c_buf reply = {0};
    if (g11c_raw_call(c, "/grpc.health.v1.Health/Check", buf, n, &reply) != CKR_OK)
        return -1;
    Grpc__Health__V1__HealthCheckResponse *r =
        grpc__health__v1__health_check_response__unpack(NULL, reply.len, reply.ptr);
    int st = !r                                                                              ? -1
             : r->status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING ? 1
                                                                                             : 0;
    grpc__health__v1__health_check_response__free_unpacked(r, NULL);
    g11c_buf_free(&reply);
    return st;
}

/* Waits up to 15 s for service to report want. */
static int health_becomes(g11c_conn *c, const char *service, int want)
{
    for (int i = 0; i < 150; i++) {
        if (service_health(c, service) == want)
            return 1;
        usleep(100 * 1000);
    }
    return 0;
}

static void keystores_fail_fast_and_recover(void **state)
{
    pg_server *pg = *state;
    test_server srv;
    char yaml[400];
    snprintf(yaml, sizeof(yaml), "store: \"%s\"\nauth:\n  enabled: false\n", pg->url);
    assert_int_equal(test_server_start(&srv, yaml, NULL), 0);
    g11c_conn *c = test_connect_anonymous(&srv, 0);
    assert_int_equal(g11c_store_init_keystores(c, PRIV, PUB, "on postgres", NULL), CKR_OK);
    uint8_t id[16];
    assert_int_equal(put(c, id), CKR_OK);

    assert_int_equal(pg_stop(pg), 0);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    g11c_stored_object o;
    assert_int_equal(g11c_store_get_object(c, PUB, NULL, id, &o), CKR_DEVICE_ERROR);
    assert_int_equal(put(c, id), CKR_DEVICE_ERROR);
    double took = test_seconds_since(&t0);
    print_message("keystore calls with the database down failed in %.3f s\n", took);
    assert_true(took < 10.0); /* a bound on a hang, not a performance check */
    uint8_t r[16];
    assert_int_equal(g11c_generate_random(c, r, sizeof(r)), CKR_OK);
    /* Health says so per service: the keystore is down, Crypto is not. */
    assert_true(health_becomes(c, "grep11.Store", 0));
    assert_int_equal(service_health(c, "grep11.Auth"), 0);
    assert_int_equal(service_health(c, "grep11.Crypto"), 1);
    assert_int_equal(service_health(c, ""), 1);

    assert_int_equal(pg_resume(pg), 0);
    assert_true(health_becomes(c, "grep11.Store", 1));
    assert_int_equal(g11c_store_get_object(c, PUB, NULL, id, &o), CKR_OK);
    g11c_stored_object_free(&o);
    assert_int_equal(put(c, id), CKR_OK);
    g11c_close(c);
    assert_int_equal(test_server_stop(&srv), 0);
}

/* A Crypto call naming a stored key (KeyBlobID) while the database is
 * down answers CKR_DEVICE_ERROR (retry), not CKR_KEY_HANDLE_INVALID: the
 * key still exists, and a client must not conclude otherwise. */
static void stored_key_references_fail_retryably(void **state)
{
    pg_server *pg = *state;
    test_server srv;
    char yaml[400], key[160];
    snprintf(yaml, sizeof(yaml), "store: \"%s\"\n", pg->url);
    assert_int_equal(test_server_start(&srv, yaml, NULL), 0);
    g11c_conn *admin = test_connect(&srv, 0);
    static const char *const roles[] = {"crypto", "keystore-so", "keystore-user"};
    const uint8_t both[2][16] = {{0xa1, 2}, {0xa2, 2}};
    assert_int_equal(
        g11c_admin_create_api_key(admin, "app", roles, 3, both, 2, NULL, key, sizeof(key), NULL),
        CKR_OK);
    g11c_conn *c = test_connect_as(&srv, 0, key);
    assert_non_null(c);
    assert_int_equal(g11c_store_init_keystores(c, PRIV, PUB, "refs", NULL), CKR_OK);
    static const CK_ULONG len = 32;
    static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, (void *)&len, sizeof(len)}, {CKA_ENCRYPT, (void *)&yes, 1}};
    g11c_mech gen = {.type = CKM_AES_KEY_GEN}, ecb = {.type = CKM_AES_ECB};
    g11c_buf blob = {0}, sum = {0}, out = {0};
    assert_int_equal(g11c_generate_key(c, &gen, t, 2, &blob, &sum), CKR_OK);
    CK_ATTRIBUTE a[] = {{CKA_LABEL, "ref", 3}, {CKA_PRIVATE, (void *)&no, 1}};
    uint8_t id[16], ref[G11C_KEY_REF_LEN], block[16] = {0};
    assert_int_equal(g11c_store_create_object(c, PUB, NULL, g11c_bytes_of(&blob), a, 2, id, NULL),
                     CKR_OK);
    g11c_bytes r = g11c_key_ref(id, ref);
    assert_int_equal(g11c_encrypt_single(c, r, &ecb, (g11c_bytes){block, 16}, &out), CKR_OK);
    g11c_buf_free(&out);
    assert_int_equal(pg_stop(pg), 0);
    assert_int_equal(g11c_encrypt_single(c, r, &ecb, (g11c_bytes){block, 16}, &out),
                     CKR_DEVICE_ERROR);
    /* A key carried by value needs no database. */
    assert_int_equal(
        g11c_encrypt_single(c, g11c_bytes_of(&blob), &ecb, (g11c_bytes){block, 16}, &out), CKR_OK);
    g11c_buf_free(&out);
    assert_int_equal(pg_resume(pg), 0);
    assert_int_equal(g11c_encrypt_single(c, r, &ecb, (g11c_bytes){block, 16}, &out), CKR_OK);
    g11c_buf_free(&out);
    g11c_buf_free(&blob);
    g11c_buf_free(&sum);
    g11c_close(c);
    g11c_close(admin);
    assert_int_equal(test_server_stop(&srv), 0);
}

typedef struct {
    g11c_conn *c;
    CK_RV rv;
    double seconds;
} stuck_call;

static void *list_keys(void *arg)
{
    stuck_call *s = arg;
    g11c_api_key_info *keys = NULL;
    size_t n = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    s->rv = g11c_admin_list_api_keys(s->c, &keys, &n);
    s->seconds = test_seconds_since(&t0);
    free(keys);
    return NULL;
}

/* How long a call took, with its result. */
static double timed(CK_RV *rv, CK_RV got, const struct timespec *t0)
{
    *rv = got;
    return test_seconds_since(t0);
}

/* A frozen PostgreSQL (SIGSTOP: its kernel still acknowledges every
 * packet, so no TCP timer fires) must not stop the HSM: Crypto calls that
 * need no keystore, health and new tokens' use go on, past the reload of
 * the revoked list that used to run inside calls; a keystore call stuck on
 * the database lends its compute slot (one slot here) and ends in bounded
 * time with CKR_DEVICE_ERROR. */
static void frozen_database_stops_nothing_else(void **state)
{
    pg_server *pg = *state;
    test_server srv;
    char yaml[400];
    static const char *const args[] = {"--workers", "1", NULL};
    snprintf(yaml, sizeof(yaml), "store: \"%s\"\n", pg->url);
    assert_int_equal(test_server_start(&srv, yaml, args), 0);
    g11c_conn *c = test_connect(&srv, 0);
    assert_non_null(c);
    g11c_options o = {.address = srv.addr, .ca_file = srv.ca, .timeout_ms = 30000, .channels = 1};
    g11c_conn *slow = NULL;
    assert_int_equal(g11c_connect(&o, &slow), CKR_OK);
    assert_int_equal(test_authenticate(slow, srv.apikey), CKR_OK);
    static const CK_ULONG len = 32;
    static const CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, (void *)&len, sizeof(len)}, {CKA_SIGN, (void *)&yes, 1}};
    g11c_mech gen = {.type = CKM_GENERIC_SECRET_KEY_GEN}, mac = {.type = CKM_SHA256_HMAC};
    g11c_buf key = {0}, sum = {0}, sig = {0};
    assert_int_equal(g11c_generate_key(c, &gen, t, 2, &key, &sum), CKR_OK);

    assert_int_equal(pg_freeze(pg), 0);
    /* A keystore call now hangs on the database: in the background. */
    stuck_call stuck = {slow, CKR_OK, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, list_keys, &stuck), 0);
    usleep(300 * 1000);
    uint8_t r[16];
    struct timespec t0;
    double worst = 0;
    for (int round = 0; round < 2; round++) {
        CK_RV rv;
        int serving = 0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        double took = timed(&rv, g11c_generate_random(c, r, sizeof(r)), &t0);
        assert_int_equal(rv, CKR_OK);
        worst = took > worst ? took : worst;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        took = timed(&rv, g11c_sign_single(c, g11c_bytes_of(&key), &mac, (g11c_bytes){r, 16}, &sig),
                     &t0);
        assert_int_equal(rv, CKR_OK);
        g11c_buf_free(&sig);
        worst = took > worst ? took : worst;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        took = timed(&rv, g11c_health(c, &serving), &t0);
        assert_int_equal(rv, CKR_OK);
        worst = took > worst ? took : worst;
        if (round == 0)
            sleep(6); /* past the revoked list's reload period */
    }
    print_message("frozen database: the slowest Crypto/health call took %.3f s\n", worst);
    assert_true(worst < 2.0); /* a bound on a stall, not a performance check */
    assert_int_equal(pthread_join(th, NULL), 0);
    print_message("frozen database: the keystore call answered 0x%lx after %.1f s\n",
                  (unsigned long)stuck.rv, stuck.seconds);
    assert_int_equal(stuck.rv, CKR_DEVICE_ERROR);
    assert_true(stuck.seconds < 25);
    assert_int_equal(pg_thaw(pg), 0);
    g11c_api_key_info *keys = NULL;
    size_t n = 0;
    /* The database is back: keystore calls work again. */
    CK_RV rv = CKR_DEVICE_ERROR;
    for (int i = 0; i < 20 && rv != CKR_OK; i++) {
        rv = g11c_admin_list_api_keys(c, &keys, &n);
        if (rv != CKR_OK)
            usleep(200 * 1000);
    }
    assert_int_equal(rv, CKR_OK);
    free(keys);
    g11c_buf_free(&key);
    g11c_buf_free(&sum);
    g11c_close(slow);
    g11c_close(c);
    assert_int_equal(test_server_stop(&srv), 0);
}

int main(void)
{
    static pg_server pg;
    int rc = pg_start(&pg);
    if (rc == 77) {
        fprintf(stderr, "\n*** PostgreSQL binaries not found: SKIPPING the outage test ***\n\n");
        return 77;
    }
    if (rc != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(keystores_fail_fast_and_recover, &pg),
        cmocka_unit_test_prestate(stored_key_references_fail_retryably, &pg),
        cmocka_unit_test_prestate(frozen_database_stops_nothing_else, &pg),
    };
    int failed = cmocka_run_group_tests_name("grep11d on PostgreSQL", tests, NULL, NULL);
    pg_destroy(&pg);
    return failed;
}
