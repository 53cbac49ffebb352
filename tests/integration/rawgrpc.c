#include "rawgrpc.h"

#include <grpc/byte_buffer.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct raw_channel {
    grpc_channel *ch;
};

struct raw_call {
    grpc_call *call;
    grpc_byte_buffer *send;
    grpc_byte_buffer *recv;
    grpc_metadata_array initial;
    grpc_metadata_array trailing;
    grpc_status_code status;
    grpc_slice details;
};

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 16);
    size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
    fclose(f);
    if (buf && n == 0) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

raw_channel *raw_channel_open(const char *addr, const char *ca_file)
{
    char *ca = read_file(ca_file);
    raw_channel *rc = calloc(1, sizeof(*rc));
    if (!ca || !rc) {
        free(ca);
        free(rc);
        return NULL;
    }
    grpc_channel_credentials *creds = grpc_ssl_credentials_create(ca, NULL, NULL, NULL);
    free(ca);
    /* A connection of its own: channels with equal arguments would share
     * one otherwise. */
    grpc_arg args[1];
    args[0].type = GRPC_ARG_INTEGER;
    args[0].key = (char *)GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL;
    args[0].value.integer = 1;
    grpc_channel_args chargs = {1, args};
    rc->ch = grpc_channel_create(addr, creds, &chargs);
    grpc_channel_credentials_release(creds);
    if (!rc->ch) {
        free(rc);
        return NULL;
    }
    return rc;
}

void raw_channel_close(raw_channel *ch)
{
    if (!ch)
        return;
    grpc_channel_destroy(ch->ch);
    free(ch);
}

raw_call *raw_call_start(raw_channel *ch, grpc_completion_queue *cq, const char *method,
                         const uint8_t *req, size_t len, int timeout_ms)
{
    raw_call *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    grpc_metadata_array_init(&c->initial);
    grpc_metadata_array_init(&c->trailing);
    c->status = GRPC_STATUS_UNKNOWN;
    c->details = grpc_empty_slice();
    grpc_slice body = grpc_slice_from_copied_buffer((const char *)req, len);
    c->send = grpc_raw_byte_buffer_create(&body, 1);
    grpc_slice_unref(body);
    grpc_slice path = grpc_slice_from_copied_string(method);
    gpr_timespec deadline =
        gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_millis(timeout_ms, GPR_TIMESPAN));
    c->call = grpc_channel_create_call(ch->ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, path, NULL,
                                       deadline, NULL);
    grpc_slice_unref(path);
    grpc_op ops[6];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = c->send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &c->initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &c->recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &c->trailing;
    ops[5].data.recv_status_on_client.status = &c->status;
    ops[5].data.recv_status_on_client.status_details = &c->details;
    if (!c->call || grpc_call_start_batch(c->call, ops, 6, c, NULL) != GRPC_CALL_OK) {
        c->status = GRPC_STATUS_INTERNAL;
        raw_call_finish(c, NULL, 0);
        return NULL;
    }
    return c;
}

grpc_status_code raw_call_finish(raw_call *c, char *detail, size_t cap)
{
    grpc_status_code st = c->status;
    if (detail && cap)
        snprintf(detail, cap, "%.*s", (int)GRPC_SLICE_LENGTH(c->details),
                 (const char *)GRPC_SLICE_START_PTR(c->details));
    if (c->call)
        grpc_call_unref(c->call);
    grpc_byte_buffer_destroy(c->send);
    if (c->recv)
        grpc_byte_buffer_destroy(c->recv);
    grpc_metadata_array_destroy(&c->initial);
    grpc_metadata_array_destroy(&c->trailing);
    grpc_slice_unref(c->details);
    free(c);
    return st;
}

grpc_status_code raw_unary(raw_channel *ch, const char *method, const uint8_t *req, size_t len,
                           int timeout_ms, char *detail, size_t cap)
{
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    raw_call *c = raw_call_start(ch, cq, method, req, len, timeout_ms);
    grpc_status_code st = GRPC_STATUS_INTERNAL;
    if (c) {
        grpc_completion_queue_pluck(cq, c, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        st = raw_call_finish(c, detail, cap);
    }
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(cq);
    return st;
}

const char *raw_status_name(grpc_status_code code)
{
    static const char *const names[] = {"OK",
                                        "CANCELLED",
                                        "UNKNOWN",
                                        "INVALID_ARGUMENT",
                                        "DEADLINE",
                                        "NOT_FOUND",
                                        "ALREADY_EXISTS",
                                        "PERMISSION_DENIED",
                                        "EXHAUSTED",
                                        "FAILED_PRECONDITION",
                                        "ABORTED",
                                        "OUT_OF_RANGE",
                                        "UNIMPLEMENTED",
                                        "INTERNAL",
                                        "UNAVAILABLE",
                                        "DATA_LOSS",
                                        "UNAUTHENTICATED"};
    return code >= 0 && (size_t)code < sizeof(names) / sizeof(names[0]) ? names[code] : "?";
}
