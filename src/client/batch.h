/* Coalescing the calls that a connection's threads make at the same time
 * into grep11.Batch RPCs (proto/batch.proto).
 *
 * Why: at a busy client most of a small call's cost, on both sides, is the
 * RPC itself (an HTTP/2 stream, TLS records, a sendmsg that on loopback
 * also runs the receiver's TCP path, completions and wake-ups), not the
 * cryptography. A channel's lane sends a call at once and alone while fewer
 * than `max_inflight` of its RPCs are in flight, so a lone or lightly loaded
 * caller sees no difference; beyond that calls queue, and each RPC that
 * completes sends everything queued behind it as one batch. */
#ifndef GREP11_CLIENT_BATCH_H
#define GREP11_CLIENT_BATCH_H

#include <grpc/grpc.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "callq.h"
#include "resend.h"

typedef struct batch_item batch_item;

typedef struct {
    pthread_mutex_t lock;    /* guards head, tail, inflight, closing */
    batch_item *head, *tail; /* queued calls, oldest first */
    int inflight;            /* this lane's RPCs in flight */
    int max_inflight;
    int closing;      /* the connection is closing: start nothing more */
    int *unsupported; /* shared by a connection's lanes (atomic): the
                         server answered grep11.Batch with UNIMPLEMENTED */
    grpc_channel *ch;
    callq *q;
} batch_lane;

typedef struct {
    CK_RV rv;
    grpc_slice reply; /* rv == CKR_OK: the reply message */
    char detail[256];
    g11c_delivery delivery; /* for a failure in the transport: sent or not */
    int unsupported;        /* the server has no grep11.Batch: send it alone */
} batch_result;

int batch_lane_init(batch_lane *l, grpc_channel *ch, callq *q, int max_inflight, int *unsupported);
/* After batch_lane_close and callq_destroy (which completes what was in
 * flight). */
void batch_lane_destroy(batch_lane *l);
/* Before the channel and the queue go: no RPC is started after this. */
void batch_lane_close(batch_lane *l);

/* Whether a call to method may be batched: grep11.Crypto calls except key
 * generation, whose seconds-long RSA runs would hold up the calls batched
 * behind them (a batch's calls run one after the other). */
int batch_method_ok(const char *method);

/* One call through lane l; auth is its "authorization" value or NULL.
 * Returns 1 with *res filled (release res->reply), or 0 when `limit`
 * passed first. */
int batch_lane_call(batch_lane *l, const char *method, const char *auth, const uint8_t *req,
                    size_t len, gpr_timespec deadline, gpr_timespec limit, batch_result *res);

/* Decodes a BatchResponse that answers n calls into res[0..n-1] (replies
 * copied into fresh slices). CKR_DEVICE_ERROR, with nothing to release, if
 * it is malformed or answers another number of calls. */
CK_RV batch_reply_decode(const uint8_t *p, size_t len, size_t n, batch_result *res);

#endif
