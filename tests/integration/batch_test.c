/* grep11.Batch against a real grep11d: the server runs each call of a batch
 * as if it had come alone (its own result, error and credentials check),
 * refuses malformed or oversized batches as a whole, and libgrep11's threads
 * share batches only when they call at the same time, falling back to single
 * calls against a server without the method. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <grpc/status.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.pb-c.h"
#include "grep11/wire.h"
#include "harness.h"
#include "server.pb-c.h"

typedef test_fixture fixture;

/* ---- batches sent by hand -------------------------------------------- */

typedef struct {
    Grep11__BatchCall calls[GREP11_BATCH_MAX_CALLS + 1];
    Grep11__BatchCall *ptrs[GREP11_BATCH_MAX_CALLS + 1];
    uint8_t *bufs[GREP11_BATCH_MAX_CALLS + 1];
    size_t n;
} batch_builder;

static void add_call(batch_builder *b, const char *method, const ProtobufCMessage *req)
{
    Grep11__BatchCall *call = &b->calls[b->n];
    grep11__batch_call__init(call);
    call->method = (char *)method;
    if (req) {
        size_t len = protobuf_c_message_get_packed_size(req);
        b->bufs[b->n] = malloc(len ? len : 1);
        assert_non_null(b->bufs[b->n]);
        protobuf_c_message_pack(req, b->bufs[b->n]);
        call->request.data = b->bufs[b->n];
        call->request.len = len;
    }
    b->ptrs[b->n] = call;
    b->n++;
}

static void add_raw(batch_builder *b, const char *method, const char *bytes)
{
    add_call(b, method, NULL);
    b->calls[b->n - 1].request.data = (uint8_t *)bytes;
    b->calls[b->n - 1].request.len = strlen(bytes);
}

/* Sends the batch; returns the call's CK_RV and, on success, the response. */
static CK_RV send_batch(g11c_conn *c, batch_builder *b, Grep11__BatchResponse **resp)
{
    Grep11__BatchRequest req = GREP11__BATCH_REQUEST__INIT;
    req.n_calls = b->n;
    req.calls = b->ptrs;
    size_t len = grep11__batch_request__get_packed_size(&req);
    uint8_t *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    grep11__batch_request__pack(&req, buf);
    g11c_buf reply = {0};
    CK_RV rv = g11c_raw_call(c, GREP11_BATCH_METHOD, buf, len, &reply);
    free(buf);
    for (size_t i = 0; i < b->n; i++)
        free(b->bufs[i]);
    *resp = NULL;
    if (rv == CKR_OK) {
        *resp = grep11__batch_response__unpack(NULL, reply.len, reply.ptr);
        assert_non_null(*resp);
    }
    g11c_buf_free(&reply);
    return rv;
}

static void random_call(batch_builder *b, Grep11__GenerateRandomRequest *r, uint64_t len)
{
    grep11__generate_random_request__init(r);
    r->len = len;
    add_call(b, "/grep11.Crypto/GenerateRandom", &r->base);
}

static void each_call_gets_its_own_answer(void **state)
{
    fixture *f = *state;
    static const char msg[] = "abc";
    static const uint8_t abc_sha256[] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                         0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                         0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                         0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    batch_builder b = {0};
    Grep11__GenerateRandomRequest r16, r0;
    random_call(&b, &r16, 16);
    Grep11__Mechanism sha = GREP11__MECHANISM__INIT, bogus = GREP11__MECHANISM__INIT;
    sha.mechanism = CKM_SHA256;
    bogus.mechanism = 0x7ffffffeUL;
    Grep11__DigestSingleRequest d = GREP11__DIGEST_SINGLE_REQUEST__INIT;
    d.mech = &sha;
    d.data.data = (uint8_t *)msg;
    d.data.len = 3;
    add_call(&b, "/grep11.Crypto/DigestSingle", &d.base);
    Grep11__DigestSingleRequest bad = GREP11__DIGEST_SINGLE_REQUEST__INIT;
    bad.mech = &bogus;
    bad.data = d.data;
    add_call(&b, "/grep11.Crypto/DigestSingle", &bad.base);
    add_call(&b, "/grep11.Crypto/NoSuchMethod", NULL);
    add_call(&b, "/grep11.Store/KeystoreInfo", NULL); /* only grep11.Crypto batches */
    add_call(&b, GREP11_BATCH_METHOD, NULL);          /* no batch inside a batch */
    add_raw(&b, "/grep11.Crypto/DigestSingle", "\xff\xff\xff");
    random_call(&b, &r0, 0); /* the server refuses 0 bytes */

    Grep11__BatchResponse *resp;
    assert_int_equal(send_batch(f->conn, &b, &resp), CKR_OK);
    assert_int_equal(resp->n_replies, 8);
    Grep11__BatchReply **rp = resp->replies;

    assert_int_equal(rp[0]->status, 0);
    Grep11__GenerateRandomResponse *rr =
        grep11__generate_random_response__unpack(NULL, rp[0]->reply.len, rp[0]->reply.data);
    assert_non_null(rr);
    assert_int_equal(rr->rnd.len, 16);
    grep11__generate_random_response__free_unpacked(rr, NULL);

    assert_int_equal(rp[1]->status, 0);
    Grep11__DigestSingleResponse *dr =
        grep11__digest_single_response__unpack(NULL, rp[1]->reply.len, rp[1]->reply.data);
    assert_non_null(dr);
    assert_int_equal(dr->digest.len, sizeof(abc_sha256));
    assert_memory_equal(dr->digest.data, abc_sha256, sizeof(abc_sha256));
    grep11__digest_single_response__free_unpacked(dr, NULL);

    /* The same codes a single call gets. */
    g11c_mech m = {.type = 0x7ffffffeUL};
    g11c_buf out = {0};
    CK_RV alone = g11c_digest_single(f->conn, &m, (g11c_bytes){(const uint8_t *)msg, 3}, &out);
    assert_int_equal(alone, CKR_MECHANISM_INVALID);
    assert_int_not_equal(rp[2]->status, 0);
    assert_int_equal(rp[2]->code, alone);
    assert_non_null(rp[2]->detail);
    for (int i = 3; i <= 5; i++) {
        assert_int_equal(rp[i]->status, GRPC_STATUS_UNIMPLEMENTED);
        assert_int_equal(rp[i]->code, CKR_FUNCTION_NOT_SUPPORTED);
        assert_int_equal(rp[i]->reply.len, 0);
    }
    assert_int_equal(rp[6]->code, CKR_ARGUMENTS_BAD);
    uint8_t none[1];
    assert_int_equal(rp[7]->code, g11c_generate_random(f->conn, none, 0));
    assert_int_not_equal(rp[7]->code, CKR_OK);
    grep11__batch_response__free_unpacked(resp, NULL);
}

static void malformed_or_oversized_batch_is_refused(void **state)
{
    fixture *f = *state;
    batch_builder b = {0};
    Grep11__BatchResponse *resp;
    assert_int_equal(send_batch(f->conn, &b, &resp), CKR_ARGUMENTS_BAD); /* no calls */

    Grep11__GenerateRandomRequest r[GREP11_BATCH_MAX_CALLS + 1];
    for (int i = 0; i <= GREP11_BATCH_MAX_CALLS; i++)
        random_call(&b, &r[i], 8);
    assert_int_equal(send_batch(f->conn, &b, &resp), CKR_ARGUMENTS_BAD);

    b.n = 0;
    for (int i = 0; i < GREP11_BATCH_MAX_CALLS; i++)
        random_call(&b, &r[i], 8);
    assert_int_equal(send_batch(f->conn, &b, &resp), CKR_OK);
    assert_int_equal(resp->n_replies, GREP11_BATCH_MAX_CALLS);
    for (size_t i = 0; i < resp->n_replies; i++)
        assert_int_equal(resp->replies[i]->status, 0);
    grep11__batch_response__free_unpacked(resp, NULL);

    static const uint8_t garbage[] = {0x0a, 0xff, 0xff, 0xff, 0x0f};
    g11c_buf reply = {0};
    assert_int_equal(g11c_raw_call(f->conn, GREP11_BATCH_METHOD, garbage, sizeof(garbage), &reply),
                     CKR_ARGUMENTS_BAD);
    uint8_t x[4];
    assert_int_equal(g11c_generate_random(f->conn, x, sizeof(x)), CKR_OK);
}

/* Without a token the batch is refused as a whole, with the code each call
 * would have had alone, before anything of it is decoded (an
 * unauthenticated caller must not make the server allocate). */
static void each_call_checks_credentials(void **state)
{
    fixture *f = *state;
    g11c_conn *anon = test_connect_anonymous(&f->srv, 0);
    assert_non_null(anon);
    uint8_t x[4];
    CK_RV alone = g11c_generate_random(anon, x, sizeof(x));
    assert_int_not_equal(alone, CKR_OK);
    batch_builder b = {0};
    Grep11__GenerateRandomRequest r[3];
    for (int i = 0; i < 3; i++)
        random_call(&b, &r[i], 8);
    Grep11__BatchResponse *resp;
    assert_int_equal(send_batch(anon, &b, &resp), alone);
    g11c_close(anon);
}

/* ---- batches libgrep11 makes ----------------------------------------- */

static g11c_conn *connect_with(const test_server *ts, int batch_inflight)
{
    g11c_options o = {.address = ts->addr,
                      .ca_file = ts->ca,
                      .timeout_ms = 20000,
                      .channels = 1,
                      .batch_inflight = batch_inflight};
    g11c_conn *c = NULL;
    if (g11c_connect(&o, &c) != CKR_OK)
        return NULL;
    if (test_authenticate(c, ts->apikey) != CKR_OK) {
        g11c_close(c);
        return NULL;
    }
    return c;
}

typedef struct {
    g11c_conn *c;
    g11c_bytes priv, pub;
    int id;
    int wrong;
} worker_job;

/* Digests to check against OpenSSL, a signature that must verify, one that
 * must not, and an invalid mechanism: each answer must reach its caller. */
static void *worker(void *arg)
{
    worker_job *job = arg;
    g11c_mech sha = {.type = CKM_SHA256}, ecdsa = {.type = CKM_ECDSA_SHA256};
    g11c_mech bogus = {.type = 0x7ffffffeUL};
    for (int i = 0; i < 60; i++) {
        char data[64];
        int n = snprintf(data, sizeof(data), "thread %d call %d", job->id, i);
        g11c_bytes in = {(const uint8_t *)data, (size_t)n};
        g11c_buf out = {0};
        switch ((i + job->id) % 4) {
        case 0: {
            uint8_t want[SHA256_DIGEST_LENGTH];
            SHA256(in.ptr, in.len, want);
            if (g11c_digest_single(job->c, &sha, in, &out) != CKR_OK || out.len != sizeof(want) ||
                memcmp(out.ptr, want, sizeof(want)) != 0)
                job->wrong++;
            break;
        }
        case 1:
            if (g11c_sign_single(job->c, job->priv, &ecdsa, in, &out) != CKR_OK ||
                g11c_verify_single(job->c, job->pub, &ecdsa, in, (g11c_bytes){out.ptr, out.len}) !=
                    CKR_OK)
                job->wrong++;
            break;
        case 2:
            if (g11c_sign_single(job->c, job->priv, &ecdsa, in, &out) != CKR_OK || out.len == 0) {
                job->wrong++;
                break;
            }
            out.ptr[out.len - 1] ^= 1;
            if (g11c_verify_single(job->c, job->pub, &ecdsa, in, (g11c_bytes){out.ptr, out.len}) !=
                CKR_SIGNATURE_INVALID)
                job->wrong++;
            break;
        default:
            if (g11c_digest_single(job->c, &bogus, in, &out) != CKR_MECHANISM_INVALID)
                job->wrong++;
        }
        g11c_buf_free(&out);
    }
    return NULL;
}

static void run_workers(g11c_conn *c)
{
    enum { THREADS = 16 };
    static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    static const CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE pub_t[] = {{CKA_EC_PARAMS, (void *)p256, sizeof(p256)},
                            {CKA_VERIFY, (void *)&yes, 1}};
    CK_ATTRIBUTE priv_t[] = {{CKA_SIGN, (void *)&yes, 1}};
    g11c_mech gen = {.type = CKM_EC_KEY_PAIR_GEN};
    g11c_buf sk = {0}, pk = {0};
    assert_int_equal(g11c_generate_key_pair(c, &gen, pub_t, 2, priv_t, 1, &sk, &pk), CKR_OK);
    worker_job jobs[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (worker_job){c, {sk.ptr, sk.len}, {pk.ptr, pk.len}, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
    }
    int wrong = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        wrong += jobs[i].wrong;
    }
    assert_int_equal(wrong, 0);
    g11c_buf_free(&sk);
    g11c_buf_free(&pk);
}

/* Log lines of calls that came in a batch: "req=<id>.<index> method=...". */
static int batched_calls_logged(const test_server *ts)
{
    FILE *f = fopen(ts->log, "r");
    assert_non_null(f);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        const char *p = strstr(line, "req=");
        if (p && p[4 + 16] == '.')
            n++;
    }
    fclose(f);
    return n;
}

static int log_mentions(const test_server *ts, const char *what)
{
    FILE *f = fopen(ts->log, "r");
    assert_non_null(f);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, what) != NULL;
    fclose(f);
    return n;
}

static void threads_share_batches(void **state)
{
    fixture *f = *state;
    int before = batched_calls_logged(&f->srv);
    g11c_conn *c = connect_with(&f->srv, 1);
    assert_non_null(c);
    run_workers(c);
    g11c_close(c);
    /* 16 threads on one RPC at a time: most calls had to share one. */
    int batched = batched_calls_logged(&f->srv) - before;
    if (batched < 100)
        print_error("%d calls came in batches\n", batched);
    assert_true(batched >= 100);
}

static void batching_off_sends_every_call_alone(void **state)
{
    fixture *f = *state;
    int before = batched_calls_logged(&f->srv);
    g11c_conn *c = connect_with(&f->srv, -1);
    assert_non_null(c);
    run_workers(c);
    g11c_close(c);
    assert_int_equal(batched_calls_logged(&f->srv), before);
}

static void server_without_batches_gets_single_calls(void **state)
{
    (void)state;
    static const char *const args[] = {"--no-batch", NULL};
    test_server srv;
    assert_int_equal(test_server_start(&srv, NULL, args), 0);
    g11c_conn *c = connect_with(&srv, 1);
    assert_non_null(c);
    run_workers(c);
    g11c_close(c);
    assert_int_equal(batched_calls_logged(&srv), 0);
    /* The client asked once, heard UNIMPLEMENTED, and asked no more. */
    int asked = log_mentions(&srv, "method=\"" GREP11_BATCH_METHOD "\"");
    assert_true(asked >= 1);
    assert_true(asked <= 2);
    assert_int_equal(test_server_stop(&srv), 0);
}

/* A batch whose caller gave up stops starting calls: 16 RSA-4096 key
 * generations under a 2 s deadline must not all run (they used to, for
 * 20 s and more after the caller had gone). */
static void batch_stops_at_its_deadline(void **state)
{
    test_fixture *fx = *state;
    const test_server *ts = &fx->srv;
    g11c_options o = {.address = ts->addr, .ca_file = ts->ca, .timeout_ms = 2000, .channels = 1};
    g11c_conn *c = NULL;
    assert_int_equal(g11c_connect(&o, &c), CKR_OK);
    assert_int_equal(test_authenticate(c, ts->apikey), CKR_OK);
    enum { N = 16 };
    static const CK_BBOOL yes = CK_TRUE;
    static const uint8_t e65537[] = {1, 0, 1};
    Grep11__AttributeValue vbits = GREP11__ATTRIBUTE_VALUE__INIT,
                           vexp = GREP11__ATTRIBUTE_VALUE__INIT,
                           vsign = GREP11__ATTRIBUTE_VALUE__INIT;
    vbits.one_attr_case = GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_I;
    vbits.attributei = 4096;
    vexp.one_attr_case = GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_B;
    vexp.attributeb = (ProtobufCBinaryData){3, (uint8_t *)e65537};
    vsign.one_attr_case = GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_TF;
    vsign.attributetf = yes;
    Grep11__GenerateKeyPairRequest__PubKeyTemplateEntry pe[2] = {
        GREP11__GENERATE_KEY_PAIR_REQUEST__PUB_KEY_TEMPLATE_ENTRY__INIT,
        GREP11__GENERATE_KEY_PAIR_REQUEST__PUB_KEY_TEMPLATE_ENTRY__INIT};
    pe[0].key = CKA_MODULUS_BITS;
    pe[0].value = &vbits;
    pe[1].key = CKA_PUBLIC_EXPONENT;
    pe[1].value = &vexp;
    Grep11__GenerateKeyPairRequest__PrivKeyTemplateEntry se =
        GREP11__GENERATE_KEY_PAIR_REQUEST__PRIV_KEY_TEMPLATE_ENTRY__INIT;
    se.key = CKA_SIGN;
    se.value = &vsign;
    Grep11__GenerateKeyPairRequest__PubKeyTemplateEntry *pp[2] = {&pe[0], &pe[1]};
    Grep11__GenerateKeyPairRequest__PrivKeyTemplateEntry *sp[1] = {&se};
    Grep11__Mechanism mech = GREP11__MECHANISM__INIT;
    mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
    Grep11__GenerateKeyPairRequest kp = GREP11__GENERATE_KEY_PAIR_REQUEST__INIT;
    kp.mech = &mech;
    kp.n_pubkeytemplate = 2;
    kp.pubkeytemplate = pp;
    kp.n_privkeytemplate = 1;
    kp.privkeytemplate = sp;
    batch_builder b = {0};
    for (int i = 0; i < N; i++)
        add_call(&b, "/grep11.Crypto/GenerateKeyPair", &kp.base);
    int before_ok = log_mentions(ts, "GenerateKeyPair\" status=0");
    int before_batches = log_mentions(ts, "method=\"/grep11.Batch/Run\"");
    Grep11__BatchResponse *resp = NULL;
    assert_int_not_equal(send_batch(c, &b, &resp), CKR_OK); /* the deadline passed */
    /* The batch ends with the key generation under way at the deadline. */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (log_mentions(ts, "method=\"/grep11.Batch/Run\"") == before_batches &&
           test_seconds_since(&t0) < 120)
        usleep(100 * 1000);
    int ran = log_mentions(ts, "GenerateKeyPair\" status=0") - before_ok;
    int stopped = log_mentions(ts, "GenerateKeyPair\" status=4");
    print_message("batch: %d of %d key generations ran, %d not started\n", ran, N, stopped);
    assert_true(ran < N);
    assert_int_equal(ran + stopped, N);
    g11c_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_call_gets_its_own_answer),
        cmocka_unit_test(malformed_or_oversized_batch_is_refused),
        cmocka_unit_test(each_call_checks_credentials),
        cmocka_unit_test(batch_stops_at_its_deadline),
        cmocka_unit_test(threads_share_batches),
        cmocka_unit_test(batching_off_sends_every_call_alone),
        cmocka_unit_test(server_without_batches_gets_single_calls),
    };
    return cmocka_run_group_tests(tests, test_fixture_setup, test_fixture_teardown);
}
