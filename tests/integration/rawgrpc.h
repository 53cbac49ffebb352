/* Unary calls straight on gRPC C core, for tests that must see the gRPC
 * status code itself (UNAVAILABLE or CANCELLED, which libgrep11 folds into
 * one CK_RV), and many connections at once. Each raw_channel is a TCP
 * connection of its own (a local subchannel pool). */
#ifndef GREP11_TEST_RAWGRPC_H
#define GREP11_TEST_RAWGRPC_H

#include <grpc/grpc.h>
#include <stddef.h>
#include <stdint.h>

typedef struct raw_channel raw_channel;

/* TLS to addr trusting ca_file (PEM); NULL on failure. Between
 * grpc_init() and grpc_shutdown(). */
raw_channel *raw_channel_open(const char *addr, const char *ca_file);
void raw_channel_close(raw_channel *ch);

/* One call in flight; its tag on the queue is the raw_call itself. */
typedef struct raw_call raw_call;

/* Starts method(req) on ch with a deadline timeout_ms from now, its
 * completion going to cq. NULL if it could not be started. */
raw_call *raw_call_start(raw_channel *ch, grpc_completion_queue *cq, const char *method,
                         const uint8_t *req, size_t len, int timeout_ms);

/* After the call's tag came out of cq: its status, with its text in
 * detail (may be NULL); frees it. */
grpc_status_code raw_call_finish(raw_call *c, char *detail, size_t cap);

/* A whole call on its own queue: the status it ended with, its text in
 * detail (may be NULL). */
grpc_status_code raw_unary(raw_channel *ch, const char *method, const uint8_t *req, size_t len,
                           int timeout_ms, char *detail, size_t cap);

/* gRPC status codes run 0..16. */
#define RAW_STATUS_CODES 17

/* "OK", "CANCELLED", "UNAVAILABLE", ... for messages. */
const char *raw_status_name(grpc_status_code code);

#endif
