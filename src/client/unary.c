/* The six-op unary call of unary.h. */
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/support/alloc.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "unary.h"

grpc_call_error g11c_unary_start(g11c_unary *u, grpc_channel *ch, grpc_completion_queue *cq,
                                 const char *method, gpr_timespec deadline, const grpc_metadata *md,
                                 size_t nmd, grpc_byte_buffer *send, void *tag)
{
    memset(u, 0, sizeof(*u));
    grpc_metadata_array_init(&u->initial);
    grpc_metadata_array_init(&u->trailing);
    u->status = GRPC_STATUS_UNKNOWN;
    u->status_text = grpc_empty_slice();
    u->send = send;
    u->ch = ch;
    /* A copy: a batched call's method name lives only as long as the call's
     * caller, and gRPC may drop its last reference to the path later. */
    grpc_slice path = grpc_slice_from_copied_string(method);
    u->call =
        grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, path, NULL, deadline, NULL);
    grpc_slice_unref(path);
    if (!u->call || !send)
        return GRPC_CALL_ERROR;

    grpc_op ops[6];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = nmd;
    ops[0].data.send_initial_metadata.metadata = nmd ? (grpc_metadata *)md : NULL;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = u->send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &u->initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &u->recv;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &u->trailing;
    ops[5].data.recv_status_on_client.status = &u->status;
    ops[5].data.recv_status_on_client.status_details = &u->status_text;
    ops[5].data.recv_status_on_client.error_string = &u->error_string;
    return grpc_call_start_batch(u->call, ops, 6, tag, NULL);
}

CK_RV g11c_unary_outcome(const g11c_unary *u, grpc_slice *reply, char *detail, size_t cap,
                         g11c_delivery *delivery)
{
    *reply = grpc_empty_slice();
    CK_RV rv = g11c_status_to_rv(u->status, &u->trailing, detail, cap);
    *delivery = g11c_delivery_of(u->call, u->ch, u->status, &u->trailing);
    if (rv == CKR_OK) {
        grpc_byte_buffer_reader reader;
        if (u->recv && grpc_byte_buffer_reader_init(&reader, u->recv)) {
            *reply = grpc_byte_buffer_reader_readall(&reader);
            grpc_byte_buffer_reader_destroy(&reader);
        } else {
            rv = CKR_DEVICE_ERROR;
            snprintf(detail, cap, "server sent no reply message");
        }
    } else if (!detail[0] && !GRPC_SLICE_IS_EMPTY(u->status_text)) {
        snprintf(detail, cap, "%.*s", (int)GRPC_SLICE_LENGTH(u->status_text),
                 (const char *)GRPC_SLICE_START_PTR(u->status_text));
    }
    return rv;
}

void g11c_unary_release(g11c_unary *u)
{
    if (u->send)
        grpc_byte_buffer_destroy(u->send);
    if (u->recv)
        grpc_byte_buffer_destroy(u->recv);
    grpc_metadata_array_destroy(&u->initial);
    grpc_metadata_array_destroy(&u->trailing);
    grpc_slice_unref(u->status_text);
    if (u->error_string)
        gpr_free((void *)u->error_string);
    if (u->call)
        grpc_call_unref(u->call);
    memset(u, 0, sizeof(*u));
}
