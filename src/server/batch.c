/* grep11.Batch/Run (proto/batch.proto): the calls of a batch, one after the
 * other, each through rpc_invoke as if it had come alone. A batch only saves
 * the transport's per-call work (HTTP/2 stream, TLS record, completion);
 * authorization, custody, limits and the log stay per call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.pb-c.h"
#include "custody/custody.h"
#include "grep11/wire.h"
#include "rpc.h"
#include "services.h"
#include "status.h"

static const rpc_method *batchable_method(const char *path)
{
    size_t plen = sizeof(GREP11_BATCH_CALL_PREFIX) - 1;
    if (!path || strncmp(path, GREP11_BATCH_CALL_PREFIX, plen) != 0)
        return NULL;
    for (size_t i = 0; i < crypto_method_count; i++)
        if (strcmp(crypto_methods[i].path + plen, path + plen) == 0)
            return &crypto_methods[i];
    return NULL;
}

/* One call of the batch; fills *r (its Reply points into *resp, which the
 * caller frees) and detail. */
static void run_call(const rpc_ctx *outer, const Grep11__BatchCall *bc, Grep11__BatchReply *r,
                     char *detail, size_t dcap, uint8_t **resp, size_t *resp_len)
{
    rpc_ctx sub;
    memset(&sub, 0, sizeof(sub));
    sub.eng = outer->eng;
    sub.svc = outer->svc;
    sub.draining = outer->draining;
    sub.peer = outer->peer;
    sub.peer_identity = outer->peer_identity;
    sub.authorization = outer->authorization;
    sub.instance = outer->instance;
    sub.io = outer->io;
    sub.deadline_ns = outer->deadline_ns;

    CK_RV rv;
    grpc_status_code code;
    const rpc_method *m = batchable_method(bc->method);
    if (!m) {
        rv = CKR_FUNCTION_NOT_SUPPORTED;
        code = GRPC_STATUS_UNIMPLEMENTED;
        snprintf(sub.detail, sizeof(sub.detail), "not a grep11.Crypto method");
    } else {
        rv = rpc_invoke(&sub, m, bc->request.data, bc->request.len);
        code = sub.code_override != GRPC_STATUS_OK ? sub.code_override : status_code_for_rv(rv);
        if (code == GRPC_STATUS_OK && !sub.resp) {
            rv = rpc_fail(&sub, CKR_GENERAL_ERROR, "internal error: no reply");
            code = status_code_for_rv(rv);
        }
    }
    r->status = (uint32_t)code;
    r->code = code == GRPC_STATUS_OK ? CKR_OK : rv;
    if (code == GRPC_STATUS_OK) {
        *resp = sub.resp;
        *resp_len = sub.resp_len;
        sub.resp = NULL;
        r->reply.data = *resp;
        r->reply.len = *resp_len;
        detail[0] = '\0';
    } else {
        const char *name = status_rv_name(rv);
        snprintf(detail, dcap, "%s", sub.detail[0] ? sub.detail : (name ? name : "error"));
    }
    r->detail = detail;
    rpc_ctx_release(&sub);
}

static int deadline_passed(const rpc_ctx *ctx)
{
    struct timespec now;
    if (ctx->deadline_ns == 0 || clock_gettime(CLOCK_REALTIME, &now) != 0)
        return 0;
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec >= ctx->deadline_ns;
}

/* A call the batch did not start: its caller's deadline had passed. */
static void not_started(Grep11__BatchReply *r, char *detail, size_t dcap)
{
    r->status = GRPC_STATUS_DEADLINE_EXCEEDED;
    r->code = CKR_FUNCTION_CANCELED;
    snprintf(detail, dcap, "not started: the batch's deadline had passed");
    r->detail = detail;
}

CK_RV rpc_invoke_batch(rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_batch_observer each,
                       void *arg)
{
    enum { DETAIL_CAP = sizeof(ctx->detail) };
    ProtobufCAllocator wiping = rpc_wiping_allocator;
    custody *cust = ctx->svc ? ctx->svc->cust : NULL;
    custody_pass pass;
    /* Nothing is decoded for a caller without a valid token: a batch costs
     * an unauthenticated caller no more than its bytes. Each call is still
     * authorised on its own below. */
    ctx->method = &batch_method;
    CK_RV grv = custody_enter(cust, ctx, &pass);
    if (grv == CKR_OK && ctx->svc)
        grv = services_authorize(ctx->svc, ctx);
    custody_leave(cust, &pass);
    if (grv == CKR_OK)
        grv = rpc_guard(ctx, &batch_method, req, len);
    if (grv != CKR_OK)
        return grv;
    Grep11__BatchRequest *b = grep11__batch_request__unpack(&wiping, len, req);
    if (!b)
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "malformed BatchRequest message");
    if (b->n_calls == 0 || b->n_calls > GREP11_BATCH_MAX_CALLS) {
        grep11__batch_request__free_unpacked(b, &wiping);
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "a batch holds 1 to %d calls",
                        GREP11_BATCH_MAX_CALLS);
    }
    size_t n = b->n_calls;
    Grep11__BatchReply *replies = calloc(n, sizeof(*replies));
    Grep11__BatchReply **ptrs = calloc(n, sizeof(*ptrs));
    char *details = calloc(n, DETAIL_CAP);
    uint8_t **resps = calloc(n, sizeof(*resps));
    size_t *resp_lens = calloc(n, sizeof(*resp_lens));
    CK_RV rv = CKR_HOST_MEMORY;
    if (replies && ptrs && details && resps && resp_lens) {
        for (size_t i = 0; i < n; i++) {
            grep11__batch_reply__init(&replies[i]);
            ptrs[i] = &replies[i];
            if (deadline_passed(ctx))
                not_started(&replies[i], details + i * DETAIL_CAP, DETAIL_CAP);
            else
                run_call(ctx, b->calls[i], &replies[i], details + i * DETAIL_CAP, DETAIL_CAP,
                         &resps[i], &resp_lens[i]);
            if (each)
                each(arg, i, b->calls[i]->method, replies[i].status ? replies[i].code : CKR_OK,
                     (grpc_status_code)replies[i].status);
        }
        Grep11__BatchResponse out = GREP11__BATCH_RESPONSE__INIT;
        out.n_replies = n;
        out.replies = ptrs;
        rv = rpc_reply(ctx, &out.base);
    }
    for (size_t i = 0; resps && i < n; i++)
        if (resps[i]) {
            explicit_bzero(resps[i], resp_lens[i]);
            free(resps[i]);
        }
    free(resps);
    free(resp_lens);
    free(details);
    free(ptrs);
    free(replies);
    grep11__batch_request__free_unpacked(b, &wiping);
    return rv;
}
