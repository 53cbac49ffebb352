/* Request decoding and handler invocation, shared by the transport and the
 * fuzz targets, plus the reply/error helpers handlers use. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody/custody.h"
#include "grep11/pb_guard.h"
#include "rpc.h"
#include "services.h"

CK_RV rpc_reply(rpc_ctx *ctx, const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return CKR_HOST_MEMORY;
    protobuf_c_message_pack(msg, buf);
    rpc_ctx_release(ctx);
    ctx->resp = buf;
    ctx->resp_len = len;
    return CKR_OK;
}

engine *rpc_engine(const rpc_ctx *ctx)
{
    return (ctx->who.roles & AUTH_ROLE_KEYSTORE_SO) ? ctx->eng : engine_untrusted_view(ctx->eng);
}

void rpc_io_begin(const rpc_ctx *ctx)
{
    if (ctx->io && ctx->io->begin)
        ctx->io->begin(ctx->io->arg);
}

void rpc_io_end(const rpc_ctx *ctx)
{
    if (ctx->io && ctx->io->end)
        ctx->io->end(ctx->io->arg);
}

CK_RV rpc_fail(rpc_ctx *ctx, CK_RV rv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->detail, sizeof(ctx->detail), fmt, ap);
    va_end(ap);
    return rv;
}

void rpc_ctx_release(rpc_ctx *ctx)
{
    if (ctx->resp) {
        /* Replies carry sealed blobs and random bytes: wipe them anyway. */
        explicit_bzero(ctx->resp, ctx->resp_len);
        free(ctx->resp);
    }
    ctx->resp = NULL;
    ctx->resp_len = 0;
}

CK_RV rpc_keep(rpc_ctx *ctx, void *p, size_t len)
{
    if (ctx->nkept == (int)(sizeof(ctx->kept) / sizeof(ctx->kept[0])))
        return CKR_HOST_MEMORY;
    ctx->kept[ctx->nkept] = p;
    ctx->kept_len[ctx->nkept++] = len;
    return CKR_OK;
}

static void release_kept(rpc_ctx *ctx)
{
    for (int i = 0; i < ctx->nkept; i++) {
        explicit_bzero(ctx->kept[i], ctx->kept_len[i]);
        free(ctx->kept[i]);
    }
    ctx->nkept = 0;
}

/* protobuf-c allocator that wipes what it frees: requests can carry key
 * values and templates. The size lives in a small header. */
static void *wipe_alloc(void *unused, size_t size)
{
    (void)unused;
    size_t *p = malloc(sizeof(size_t) * 2 + size);
    if (!p)
        return NULL;
    p[0] = size;
    return p + 2;
}

static void wipe_free(void *unused, void *ptr)
{
    (void)unused;
    if (!ptr)
        return;
    size_t *p = (size_t *)ptr - 2;
    explicit_bzero(ptr, p[0]);
    free(p);
}

const ProtobufCAllocator rpc_wiping_allocator = {wipe_alloc, wipe_free, NULL};

CK_RV rpc_guard(rpc_ctx *ctx, const rpc_method *m, const uint8_t *req, size_t len)
{
    if (m->max_request && len > m->max_request) {
        ctx->code_override = GRPC_STATUS_RESOURCE_EXHAUSTED;
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "%s takes at most %zu bytes", m->path,
                        m->max_request);
    }
    /* Decoding may cost twice the request plus what templates of the
     * largest size need (a few hundred bytes per attribute). */
    const pb_guard_limits lim = {.max_occurrences = RPC_MAX_OCCURRENCES,
                                 .max_unknown = 64,
                                 .max_depth = RPC_MAX_DEPTH,
                                 .max_alloc = 2 * len + 256 * 1024};
    switch (pb_guard_check(m->request, req, len, &lim)) {
    case PB_GUARD_OK:
        return CKR_OK;
    case PB_GUARD_MALFORMED:
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "malformed %s message", m->request->short_name);
    case PB_GUARD_TOO_DEEP:
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "%s message nested too deeply",
                        m->request->short_name);
    case PB_GUARD_TOO_MANY:
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "%s message: a field occurs more than %d times",
                        m->request->short_name, RPC_MAX_OCCURRENCES);
    default:
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "%s message too costly to decode",
                        m->request->short_name);
    }
}

CK_RV rpc_invoke(rpc_ctx *ctx, const rpc_method *m, const uint8_t *req, size_t len)
{
    ProtobufCAllocator wiping = rpc_wiping_allocator;
    custody *cust = ctx->svc ? ctx->svc->cust : NULL;
    custody_pass pass;
    ctx->method = m;
    /* Custody first: a locked instance answers here, and the register lock
     * it takes keeps the engine of this call alive until the call ends. */
    CK_RV rv = custody_enter(cust, ctx, &pass);
    if (rv == CKR_OK && ctx->svc)
        rv = services_authorize(ctx->svc, ctx);
    if (rv == CKR_OK)
        rv = rpc_guard(ctx, m, req, len);
    if (rv != CKR_OK) {
        custody_leave(cust, &pass);
        return rv;
    }
    ProtobufCMessage *msg = protobuf_c_message_unpack(m->request, &wiping, len, req);
    if (!msg) {
        custody_leave(cust, &pass);
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "malformed %s message", m->request->short_name);
    }
    ctx->req = msg;
    rv = custody_check_request(cust, ctx, msg);
    /* Keystore and identity calls wait on the database: they lend their
     * compute slot meanwhile, so a database that hangs takes no slot from
     * the calls that need none. */
    int waits =
        strncmp(m->path, "/grep11.Store/", 14) == 0 || strncmp(m->path, "/grep11.Admin/", 14) == 0;
    if (rv == CKR_OK) {
        if (waits)
            rpc_io_begin(ctx);
        rv = m->handler(ctx);
        if (waits)
            rpc_io_end(ctx);
    }
    if (custody_retry(cust, ctx, rv)) { /* blob under the committed new key */
        release_kept(ctx);
        rv = m->handler(ctx);
        custody_retry(cust, ctx, rv);
    }
    rv = custody_after(cust, ctx, msg, rv);
    custody_leave(cust, &pass);
    release_kept(ctx);
    ctx->req = NULL;
    protobuf_c_message_free_unpacked(msg, &wiping);
    return rv;
}
