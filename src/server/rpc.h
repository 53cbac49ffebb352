/* What a gRPC handler sees: the decoded request, a place for the encoded
 * reply, and the error text for the client. Handlers are thin: decode (done
 * for them), check, call the engine, encode with rpc_reply(). They never
 * touch gRPC types; the transport owns those. */
#ifndef GREP11_SERVER_RPC_H
#define GREP11_SERVER_RPC_H

#include <grpc/status.h>
#include <p11-kit/pkcs11.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "engine.h"

struct services;

/* Brackets a wait that uses no CPU, such as a disk commit: the transport
 * lets another call compute meanwhile (docs/internals/server.md). */
typedef struct rpc_io_hooks {
    void (*begin)(void *arg);
    void (*end)(void *arg);
    void *arg;
} rpc_io_hooks;

typedef struct rpc_ctx {
    engine *eng;
    struct services *svc; /* store, identities, tokens (NULL in fuzzers) */
    int draining;         /* server is shutting down */
    const char *peer;     /* "ipv4:127.0.0.1:5555" for rate limiting, or NULL */
    const struct rpc_method *method;
    const ProtobufCMessage *req; /* decoded request, owned by the transport */
    uint8_t *resp;               /* encoded reply, set by rpc_reply */
    size_t resp_len;
    char detail[256];               /* client-facing error text: no secrets */
    grpc_status_code code_override; /* non-OK: use this gRPC code as is */
    const char *peer_identity;      /* mutual-TLS certificate identity, or NULL */
    const char *authorization;      /* "authorization" metadata value, or NULL */
    const char *instance;           /* "bluemix-instance" metadata value, or NULL */
    auth_identity who;              /* the verified caller, when authenticated */
    int authenticated;
    int audited;            /* the handler wrote the call's audit entry with its store write */
    const rpc_io_hooks *io; /* NULL: waits are not announced (fuzzers, tests) */
    int64_t deadline_ns;    /* the caller's deadline, CLOCK_REALTIME ns; 0: none */
    void *kept[4];          /* buffers that live until the call ends */
    size_t kept_len[4];
    int nkept;
} rpc_ctx;

typedef CK_RV (*rpc_handler_fn)(rpc_ctx *ctx);

typedef struct rpc_method {
    const char *path; /* "/grep11.Crypto/GenerateRandom" */
    const ProtobufCMessageDescriptor *request;
    rpc_handler_fn handler;
    uint32_t roles;     /* AUTH_ROLE_* of which the caller needs one; 0: public */
    size_t max_request; /* bytes; 0: the server's max_message_size. Methods
                           anyone may call get what they can legitimately
                           need, so that no unauthenticated request holds
                           more memory than that. */
} rpc_method;

/* Before a request is decoded: refuses one over m's max_request, and one
 * whose decoding would cost more than about twice its size (pb_guard.h:
 * a field repeated more than RPC_MAX_OCCURRENCES times, nesting deeper than
 * RPC_MAX_DEPTH). CKR_ARGUMENTS_BAD with a reason in ctx->detail. */
#define RPC_MAX_OCCURRENCES 256
#define RPC_MAX_DEPTH 16
CK_RV rpc_guard(rpc_ctx *ctx, const rpc_method *m, const uint8_t *req, size_t len);

/* Encodes msg as the call's reply. Returns CKR_OK or CKR_HOST_MEMORY. */
CK_RV rpc_reply(rpc_ctx *ctx, const ProtobufCMessage *msg);

/* Records a client-facing error text and returns rv, so handlers can write
 * `return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "Len must be 1..%d", max);`. */
CK_RV rpc_fail(rpc_ctx *ctx, CK_RV rv, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The engine for this call's handler: a caller without the security
 * officer's role (keystore-so) gets the view that refuses CKA_TRUSTED=TRUE
 * on every path (engine_untrusted_view). */
engine *rpc_engine(const rpc_ctx *ctx);

/* Announce the start and end of a wait that uses no CPU (ctx->io). */
void rpc_io_begin(const rpc_ctx *ctx);
void rpc_io_end(const rpc_ctx *ctx);

/* Decodes req as m's request type and runs m's handler. The transport and
 * the fuzz targets share this one path. */
CK_RV rpc_invoke(rpc_ctx *ctx, const rpc_method *m, const uint8_t *req, size_t len);

/* grep11.Batch/Run: decodes a BatchRequest and runs each of its calls
 * through rpc_invoke with a context of its own (ctx's engine, services, peer
 * and authorization), exactly as if it had come alone; ctx->resp gets the
 * BatchResponse. `each` (may be NULL) hears of every call, for the log.
 * Only grep11.Crypto methods may be batched. Fails as a whole only when the
 * batch itself is malformed or too large. Once ctx->deadline_ns has passed
 * no further call is started: the rest answer DEADLINE_EXCEEDED, since
 * their caller has given up on them. */
typedef void (*rpc_batch_observer)(void *arg, size_t index, const char *path, CK_RV rv,
                                   grpc_status_code code);
CK_RV rpc_invoke_batch(rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_batch_observer each,
                       void *arg);

/* The allocator rpc_invoke decodes requests with: it wipes what it frees,
 * because requests can carry key values and templates. */
extern const ProtobufCAllocator rpc_wiping_allocator;

/* Frees what a handler left in ctx (the encoded reply). */
void rpc_ctx_release(rpc_ctx *ctx);

/* Keeps p (malloc'd, len bytes) until the call ends; it is then wiped and
 * freed. CKR_HOST_MEMORY when the call keeps too much already. */
CK_RV rpc_keep(rpc_ctx *ctx, void *p, size_t len);

/* Method tables, one per service (handlers_*.c). */
extern const rpc_method crypto_methods[];
extern const size_t crypto_method_count;
extern const rpc_method health_methods[];
extern const size_t health_method_count;
extern const rpc_method auth_methods[];
extern const size_t auth_method_count;
extern const rpc_method admin_methods[];
extern const size_t admin_method_count;
extern const rpc_method store_methods[];
extern const size_t store_method_count;
/* grep11.Batch/Run: run by the transport with rpc_invoke_batch (its handler
 * is NULL), never with rpc_invoke. */
extern const rpc_method batch_method;

#endif
