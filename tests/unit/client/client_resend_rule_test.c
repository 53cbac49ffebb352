/* The resend rule (src/client/resend.h) on its own: which methods may run
 * twice, what each delivery allows, and the peer test against gRPC 1.51
 * itself (a call to a port where nothing listens never left). */
#include <arpa/inet.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "resend.h"

static const struct {
    const char *method;
    int idempotent;
} methods[] = {
    {"/grep11.Crypto/GenerateRandom", 1},
    {"/grep11.Crypto/SignSingle", 1},
    {"/grep11.Crypto/GenerateKeyPair", 1},
    {"/grep11.Store/KeystoreInfo", 1},
    {"/grep11.Store/GetObject", 1},
    {"/grep11.Store/FindObjects", 1},
    {"/grep11.Auth/Token", 1},
    {"/grep11.Admin/ListApiKeys", 1},
    {"/grep11.Custody/Status", 1},
    {"/grep11.Custody/AuditVerify", 1},
    {"/grpc.health.v1.Health/Check", 1},
    {"/grep11.Store/CreateObject", 0},
    {"/grep11.Store/UpdateObject", 0},
    {"/grep11.Store/DestroyObject", 0},
    {"/grep11.Store/InitKeystores", 0},
    {"/grep11.Admin/CreateApiKey", 0},
    {"/grep11.Admin/RevokeApiKey", 0},
    {"/grep11.Custody/Prepare", 0},
    {"/grep11.Custody/Submit", 0},
    {"/grep11.Custody/Unlock", 0},
    {"/grep11.Store/GetObjectX", 0}, /* exact names, not prefixes */
    {"/grep11.Cryptography/Sign", 0},
    {"", 0},
};

static void methods_that_may_run_twice(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (g11c_method_idempotent(methods[i].method) != methods[i].idempotent)
            fail_msg("%s: idempotent should be %d", methods[i].method, methods[i].idempotent);
    }
}

static void what_each_delivery_allows(void **state)
{
    (void)state;
    const char *write = "/grep11.Store/CreateObject", *read = "/grep11.Store/GetObject";
    /* Never sent: always again. */
    assert_true(g11c_may_resend(G11C_UNSENT, write, 0));
    assert_true(g11c_may_resend(G11C_UNSENT, "/grep11.Admin/CreateApiKey", 0));
    /* May have run: only if harmless twice, or recognised by its RequestID. */
    assert_false(g11c_may_resend(G11C_UNCERTAIN, write, 0));
    assert_true(g11c_may_resend(G11C_UNCERTAIN, write, 1));
    assert_true(g11c_may_resend(G11C_UNCERTAIN, read, 0));
    assert_false(g11c_may_resend(G11C_UNCERTAIN, "/grep11.Admin/CreateApiKey", 0));
    /* An answer (or a success) is final. */
    assert_false(g11c_may_resend(G11C_FINAL, read, 1));
}

/* A loopback port where nothing listens. */
static unsigned dead_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    unsigned port = 0;
    if (s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(s, (struct sockaddr *)&sa, &sl) == 0)
        port = ntohs(sa.sin_port);
    if (s >= 0)
        close(s);
    return port;
}

/* One call on a fresh channel to target; its delivery. */
static g11c_delivery call_once(const char *target)
{
    grpc_channel_credentials *cr = grpc_insecure_credentials_create();
    grpc_channel *ch = grpc_channel_create(target, cr, NULL);
    grpc_channel_credentials_release(cr);
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    gpr_timespec dl =
        gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_millis(5000, GPR_TIMESPAN));
    grpc_call *call =
        grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                 grpc_slice_from_static_string("/grep11.Store/X"), NULL, dl, NULL);
    grpc_metadata_array trailing;
    grpc_metadata_array_init(&trailing);
    grpc_status_code status = GRPC_STATUS_OK;
    grpc_slice details = grpc_empty_slice();
    grpc_op ops[2];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[1].data.recv_status_on_client.trailing_metadata = &trailing;
    ops[1].data.recv_status_on_client.status = &status;
    ops[1].data.recv_status_on_client.status_details = &details;
    assert_int_equal(grpc_call_start_batch(call, ops, 2, (void *)1, NULL), GRPC_CALL_OK);
    grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    assert_int_equal(ev.type, GRPC_OP_COMPLETE);
    assert_int_equal(status, GRPC_STATUS_UNAVAILABLE);
    g11c_delivery d = g11c_delivery_of(call, ch, status, &trailing);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&trailing);
    grpc_call_unref(call);
    grpc_channel_destroy(ch);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
    return d;
}

static void refused_connection_never_left(void **state)
{
    (void)state;
    char target[64];
    unsigned port = dead_port();
    assert_true(port != 0);
    snprintf(target, sizeof(target), "127.0.0.1:%u", port);
    assert_int_equal(call_once(target), G11C_UNSENT);
    /* A target spelt like a transport's peer proves nothing. */
    snprintf(target, sizeof(target), "ipv4:127.0.0.1:%u", port);
    assert_int_equal(call_once(target), G11C_UNCERTAIN);
}

static void other_outcomes_are_final(void **state)
{
    (void)state;
    grpc_metadata_array none;
    grpc_metadata_array_init(&none);
    assert_int_equal(g11c_delivery_of(NULL, NULL, GRPC_STATUS_OK, &none), G11C_FINAL);
    assert_int_equal(g11c_delivery_of(NULL, NULL, GRPC_STATUS_DEADLINE_EXCEEDED, &none),
                     G11C_FINAL);
    /* Without the call to look at, a transport failure may have run. */
    assert_int_equal(g11c_delivery_of(NULL, NULL, GRPC_STATUS_UNAVAILABLE, &none), G11C_UNCERTAIN);
    grpc_metadata_array_destroy(&none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(methods_that_may_run_twice),
        cmocka_unit_test(what_each_delivery_allows),
        cmocka_unit_test(refused_connection_never_left),
        cmocka_unit_test(other_outcomes_are_final),
    };
    grpc_init();
    int failed = cmocka_run_group_tests_name("resend rule", tests, NULL, NULL);
    grpc_shutdown();
    return failed;
}
