/* When libgrep11 sends a call again: the one rule (docs/internals/client.md,
 * "Resending").
 *
 * A call that failed in the transport (UNAVAILABLE without the server's
 * Grep11Error) either never left this process, or may have run on the
 * server with its answer lost (the server died or the connection broke
 * after the request went out). Only the first is safe to send again in
 * general; the second only when running it twice is harmless (the call is
 * idempotent) or the server recognises the resend (a Store write with a
 * RequestID, which it answers from its record).
 *
 * gRPC C core 1.51 tells the two apart by the call's peer: its HTTP/2
 * transport writes the connection's peer into the call when it takes the
 * call's initial metadata (chttp2 perform_stream_op), before it can write
 * a byte of it. A call that no transport took (no connection was ready:
 * refused, a TLS or HTTP/2 handshake that failed, a channel in backoff)
 * reports the channel's target as its peer instead. */
#ifndef GREP11_CLIENT_RESEND_H
#define GREP11_CLIENT_RESEND_H

#include <grpc/grpc.h>

typedef enum {
    G11C_FINAL = 0, /* not a transport failure (or no failure): the outcome stands */
    G11C_UNSENT,    /* failed before any transport took it: it cannot have run */
    G11C_UNCERTAIN, /* failed after a transport took it: it may have run */
} g11c_delivery;

/* How a finished call on channel ch ended. */
g11c_delivery g11c_delivery_of(grpc_call *call, grpc_channel *ch, grpc_status_code status,
                               const grpc_metadata_array *trailers);

/* Whether calls to method (a full path) may run twice without harm. */
int g11c_method_idempotent(const char *method);

/* Whether a call that ended so is sent again; keyed: it is a Store write
 * that carries a RequestID. */
int g11c_may_resend(g11c_delivery d, const char *method, int keyed);

#endif
