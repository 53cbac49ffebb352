/* One unary gRPC call in flight: what its batch of six ops writes into,
 * and how its outcome becomes a CK_RV. Shared by the single call (conn.c)
 * and the lane's RPCs (batch.c). */
#ifndef GREP11_CLIENT_UNARY_H
#define GREP11_CLIENT_UNARY_H

#include <grpc/grpc.h>
#include <p11-kit/pkcs11.h>
#include <stddef.h>

#include "resend.h"

typedef struct {
    grpc_call *call;
    grpc_channel *ch; /* borrowed: the channel the call was made on */
    grpc_byte_buffer *send, *recv;
    grpc_metadata_array initial, trailing;
    grpc_status_code status;
    grpc_slice status_text;
    const char *error_string;
} g11c_unary;

/* Creates the call on ch (completing on cq) and starts its one batch:
 * metadata md, the message `send` (the unary takes it over), half-close,
 * and everything the answer brings. GRPC_CALL_OK or why it did not start;
 * either way the unary is to be released with g11c_unary_release. */
grpc_call_error g11c_unary_start(g11c_unary *u, grpc_channel *ch, grpc_completion_queue *cq,
                                 const char *method, gpr_timespec deadline, const grpc_metadata *md,
                                 size_t nmd, grpc_byte_buffer *send, void *tag);

/* After completion: the CK_RV, the reply (CKR_OK only), a readable detail,
 * and, for a failure in the transport, whether the request may have reached
 * the server (resend.h). */
CK_RV g11c_unary_outcome(const g11c_unary *u, grpc_slice *reply, char *detail, size_t cap,
                         g11c_delivery *delivery);

void g11c_unary_release(g11c_unary *u);

#endif
