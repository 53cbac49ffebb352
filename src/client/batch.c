/* A channel's lane: calls go out alone while the lane has room, and in
 * grep11.Batch RPCs beyond that (batch.h says why). The thread that receives
 * an RPC's completion (the queue's leader, callq.h) starts the next RPC from
 * the queue before waking the callers it answered. */
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/support/alloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "batch.pb-c.h"
#include "grep11/wire.h"
#include "internal.h"
#include "unary.h"

/* A batch's requests together stay well under any server's message limit;
 * a larger call goes alone. */
#define BATCH_MAX_BYTES (1u << 20)

struct batch_item {
    callq_waiter w; /* first: the queue hands back &w */
    batch_item *next;
    int queued; /* on the lane's queue (lane lock) */
    char *method;
    uint8_t *req;
    size_t len;
    char *auth;
    gpr_timespec deadline;
    batch_result res;
};

typedef struct {
    callq_waiter tag; /* first; its on_event is rpc_done */
    batch_lane *l;
    int batched; /* sent as grep11.Batch (else the one call's own method) */
    g11c_unary u;
    grpc_metadata md;
    size_t n;
    batch_item *items[GREP11_BATCH_MAX_CALLS];
} batch_rpc;

static void wipe_free(void *p, size_t len)
{
    if (p) {
        explicit_bzero(p, len);
        free(p);
    }
}

static void slice_wipe_unref(grpc_slice s)
{
    if (!GRPC_SLICE_IS_EMPTY(s))
        explicit_bzero(GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s));
    grpc_slice_unref(s);
}

static void item_free(callq_waiter *w)
{
    batch_item *it = (batch_item *)w;
    wipe_free(it->req, it->len);
    if (it->auth)
        wipe_free(it->auth, strlen(it->auth));
    free(it->method);
    slice_wipe_unref(it->res.reply);
    free(it);
}

int batch_method_ok(const char *method)
{
    size_t plen = sizeof(GREP11_BATCH_CALL_PREFIX) - 1;
    if (strncmp(method, GREP11_BATCH_CALL_PREFIX, plen) != 0)
        return 0;
    return strncmp(method + plen, "GenerateKey", 11) != 0; /* and GenerateKeyPair */
}

int batch_lane_init(batch_lane *l, grpc_channel *ch, callq *q, int max_inflight, int *unsupported)
{
    memset(l, 0, sizeof(*l));
    l->ch = ch;
    l->q = q;
    l->max_inflight = max_inflight > 0 ? max_inflight : 1;
    l->unsupported = unsupported;
    return pthread_mutex_init(&l->lock, NULL) == 0 ? 0 : -1;
}

void batch_lane_close(batch_lane *l)
{
    pthread_mutex_lock(&l->lock);
    l->closing = 1;
    pthread_mutex_unlock(&l->lock);
}

void batch_lane_destroy(batch_lane *l)
{
    pthread_mutex_destroy(&l->lock);
}

static int same_auth(const batch_item *a, const batch_item *b)
{
    if (!a->auth || !b->auth)
        return a->auth == b->auth;
    return strcmp(a->auth, b->auth) == 0;
}

/* Takes the next RPC's calls off the queue (lock held): the oldest call,
 * and those behind it that share its credentials, up to the batch limits. */
static size_t take_locked(batch_lane *l, batch_item **out)
{
    size_t n = 0, bytes = 0;
    while (l->head && n < GREP11_BATCH_MAX_CALLS) {
        batch_item *it = l->head;
        if (n > 0 && (bytes + it->len > BATCH_MAX_BYTES || !same_auth(out[0], it)))
            break;
        l->head = it->next;
        if (!l->head)
            l->tail = NULL;
        it->next = NULL;
        it->queued = 0;
        out[n++] = it;
        bytes += it->len;
    }
    return n;
}

/* ---- results ---- */

static void fail_all(batch_item **items, size_t n, CK_RV rv, const char *detail,
                     g11c_delivery delivery)
{
    for (size_t i = 0; i < n; i++) {
        items[i]->res.rv = rv;
        items[i]->res.delivery = delivery;
        snprintf(items[i]->res.detail, sizeof(items[i]->res.detail), "%s", detail);
    }
}

CK_RV batch_reply_decode(const uint8_t *p, size_t len, size_t n, batch_result *res)
{
    Grep11__BatchResponse *r = grep11__batch_response__unpack(NULL, len, p);
    if (!r)
        return CKR_DEVICE_ERROR;
    CK_RV rv = r->n_replies == n ? CKR_OK : CKR_DEVICE_ERROR;
    for (size_t i = 0; i < n; i++) {
        memset(&res[i], 0, sizeof(res[i]));
        res[i].reply = grpc_empty_slice();
    }
    for (size_t i = 0; rv == CKR_OK && i < n; i++) {
        const Grep11__BatchReply *br = r->replies[i];
        batch_result *out = &res[i];
        if (br->status == GRPC_STATUS_OK) {
            out->rv = CKR_OK;
            out->reply = grpc_slice_from_copied_buffer((const char *)br->reply.data, br->reply.len);
            continue;
        }
        if (br->status > GRPC_STATUS_UNAUTHENTICATED) {
            rv = CKR_DEVICE_ERROR;
            break;
        }
        if (br->code != CKR_OK) {
            out->rv = (CK_RV)br->code;
            snprintf(out->detail, sizeof(out->detail), "%s", br->detail ? br->detail : "");
        } else {
            out->rv =
                g11c_code_to_rv((grpc_status_code)br->status, out->detail, sizeof(out->detail));
        }
    }
    if (rv != CKR_OK)
        for (size_t i = 0; i < n; i++) {
            slice_wipe_unref(res[i].reply);
            res[i].reply = grpc_empty_slice();
        }
    for (size_t i = 0; i < r->n_replies; i++)
        if (r->replies[i]->reply.data)
            explicit_bzero(r->replies[i]->reply.data, r->replies[i]->reply.len);
    grep11__batch_response__free_unpacked(r, NULL);
    return rv;
}

static void single_results(batch_rpc *b)
{
    batch_result *res = &b->items[0]->res;
    res->rv =
        g11c_unary_outcome(&b->u, &res->reply, res->detail, sizeof(res->detail), &res->delivery);
}

static void batch_results(batch_rpc *b)
{
    char detail[256];
    grpc_slice s;
    g11c_delivery delivery;
    CK_RV rv = g11c_unary_outcome(&b->u, &s, detail, sizeof(detail), &delivery);
    if (rv == CKR_OK) {
        batch_result res[GREP11_BATCH_MAX_CALLS];
        if (batch_reply_decode(GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s), b->n, res) ==
            CKR_OK) {
            for (size_t i = 0; i < b->n; i++)
                b->items[i]->res = res[i];
        } else {
            fail_all(b->items, b->n, CKR_DEVICE_ERROR, "malformed batch reply from server",
                     G11C_FINAL);
        }
        slice_wipe_unref(s);
        return;
    }
    if (b->u.status == GRPC_STATUS_UNIMPLEMENTED) {
        /* A server without grep11.Batch (GREP11 itself has none): a batch
         * that reached grep11.Batch is never refused as a whole this way. */
        __atomic_store_n(b->l->unsupported, 1, __ATOMIC_RELAXED);
        for (size_t i = 0; i < b->n; i++)
            b->items[i]->res.unsupported = 1;
        return;
    }
    /* A batch holds only grep11.Crypto calls, each resent alone as the
     * rule says (batch_method_ok). */
    fail_all(b->items, b->n, rv, detail, delivery);
}

/* ---- RPCs ---- */

static void rpc_free(batch_rpc *b)
{
    g11c_unary_release(&b->u);
    grpc_slice_unref(b->md.value);
    free(b);
}

static void complete_all(callq *q, batch_item **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        callq_complete(q, &items[i]->w);
}

static void rpc_start(batch_lane *l, batch_item **items, size_t n);

/* An RPC of the lane completed (or never started): the lane's next RPC
 * goes out first, then the answered callers are woken. */
static void lane_next(batch_lane *l, batch_item **done, size_t ndone)
{
    batch_item *go[GREP11_BATCH_MAX_CALLS];
    size_t n = 0;
    pthread_mutex_lock(&l->lock);
    l->inflight--;
    if (!l->closing && l->head) {
        n = take_locked(l, go);
        l->inflight++;
    }
    pthread_mutex_unlock(&l->lock);
    if (n)
        rpc_start(l, go, n);
    complete_all(l->q, done, ndone);
}

static void rpc_done(callq_waiter *w)
{
    batch_rpc *b = (batch_rpc *)w;
    if (b->batched)
        batch_results(b);
    else
        single_results(b);
    batch_lane *l = b->l;
    batch_item *done[GREP11_BATCH_MAX_CALLS];
    size_t n = b->n;
    memcpy(done, b->items, n * sizeof(done[0]));
    rpc_free(b);
    lane_next(l, done, n);
}

static grpc_byte_buffer *batch_payload(batch_item **items, size_t n)
{
    Grep11__BatchCall calls[GREP11_BATCH_MAX_CALLS];
    Grep11__BatchCall *ptrs[GREP11_BATCH_MAX_CALLS];
    for (size_t i = 0; i < n; i++) {
        grep11__batch_call__init(&calls[i]);
        calls[i].method = items[i]->method;
        calls[i].request.data = items[i]->req;
        calls[i].request.len = items[i]->len;
        ptrs[i] = &calls[i];
    }
    Grep11__BatchRequest req = GREP11__BATCH_REQUEST__INIT;
    req.n_calls = n;
    req.calls = ptrs;
    size_t len = grep11__batch_request__get_packed_size(&req);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return NULL;
    grep11__batch_request__pack(&req, buf);
    /* Requests can carry key values: the slice is wiped when gRPC drops it. */
    grpc_slice s = grpc_slice_new_with_len(buf, len, wipe_free);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    return bb;
}

static void rpc_start(batch_lane *l, batch_item **items, size_t n)
{
    const char *failure = NULL;
    if (n > 1 && __atomic_load_n(l->unsupported, __ATOMIC_RELAXED)) {
        /* The server turned out to have no batches while these queued. */
        for (size_t i = 0; i < n; i++)
            items[i]->res.unsupported = 1;
        lane_next(l, items, n);
        return;
    }
    batch_rpc *b = calloc(1, sizeof(*b));
    if (!b) {
        fail_all(items, n, CKR_HOST_MEMORY, "out of memory", G11C_FINAL);
        lane_next(l, items, n);
        return;
    }
    callq_waiter_init(&b->tag, NULL);
    b->tag.on_event = rpc_done;
    b->l = l;
    b->n = n;
    b->batched = n > 1;
    memcpy(b->items, items, n * sizeof(items[0]));
    b->md.value = grpc_empty_slice();
    grpc_byte_buffer *send;
    if (b->batched) {
        send = batch_payload(items, n);
    } else {
        grpc_slice s = grpc_slice_from_copied_buffer((const char *)items[0]->req, items[0]->len);
        send = grpc_raw_byte_buffer_create(&s, 1);
        grpc_slice_unref(s);
    }
    size_t nmd = 0;
    if (items[0]->auth) {
        b->md.key = grpc_slice_from_static_string("authorization");
        b->md.value = grpc_slice_from_copied_string(items[0]->auth);
        nmd = 1;
    }
    /* Calls queue in the order they were made, all with the connection's
     * timeout: the first has the earliest deadline. */
    if (g11c_unary_start(&b->u, l->ch, l->q->cq,
                         b->batched ? GREP11_BATCH_METHOD : items[0]->method, items[0]->deadline,
                         &b->md, nmd, send, &b->tag) != GRPC_CALL_OK)
        failure = "cannot start call";
    if (failure) {
        fail_all(items, n, CKR_DEVICE_ERROR, failure, G11C_FINAL);
        rpc_free(b);
        lane_next(l, items, n);
    }
}

/* ---- the caller's side ---- */

static batch_item *item_new(const char *method, const char *auth, const uint8_t *req, size_t len,
                            gpr_timespec deadline)
{
    batch_item *it = calloc(1, sizeof(*it));
    if (!it)
        return NULL;
    callq_waiter_init(&it->w, item_free);
    it->res.reply = grpc_empty_slice();
    it->deadline = deadline;
    it->len = len;
    it->method = strdup(method);
    it->req = malloc(len ? len : 1);
    it->auth = auth ? strdup(auth) : NULL;
    if (!it->method || !it->req || (auth && !it->auth)) {
        item_free(&it->w);
        return NULL;
    }
    if (len)
        memcpy(it->req, req, len);
    return it;
}

static void take_result(batch_item *it, batch_result *res)
{
    *res = it->res;
    it->res.reply = grpc_empty_slice();
    item_free(&it->w);
}

int batch_lane_call(batch_lane *l, const char *method, const char *auth, const uint8_t *req,
                    size_t len, gpr_timespec deadline, gpr_timespec limit, batch_result *res)
{
    batch_item *it = item_new(method, auth, req, len, deadline);
    if (!it) {
        memset(res, 0, sizeof(*res));
        res->rv = CKR_HOST_MEMORY;
        res->reply = grpc_empty_slice();
        return 1;
    }
    batch_item *go[GREP11_BATCH_MAX_CALLS];
    size_t n = 0;
    pthread_mutex_lock(&l->lock);
    if (l->closing) {
        pthread_mutex_unlock(&l->lock);
        it->res.rv = CKR_DEVICE_ERROR;
        snprintf(it->res.detail, sizeof(it->res.detail), "connection closing");
        take_result(it, res);
        return 1;
    }
    if (l->tail)
        l->tail->next = it;
    else
        l->head = it;
    l->tail = it;
    it->queued = 1;
    if (l->inflight < l->max_inflight) {
        n = take_locked(l, go);
        l->inflight++;
    }
    pthread_mutex_unlock(&l->lock);
    if (n)
        rpc_start(l, go, n);

    if (callq_wait(l->q, &it->w, limit)) {
        take_result(it, res);
        return 1;
    }
    /* Past the limit. A call still queued is simply taken back; one in
     * flight is left to its RPC, which has a deadline of its own. */
    pthread_mutex_lock(&l->lock);
    int queued = it->queued;
    if (queued) {
        batch_item **pp = &l->head, *prev = NULL;
        while (*pp != it) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        *pp = it->next;
        if (l->tail == it)
            l->tail = prev;
    }
    pthread_mutex_unlock(&l->lock);
    if (queued) {
        item_free(&it->w);
        return 0;
    }
    if (callq_abandon(l->q, &it->w)) {
        take_result(it, res);
        return 1;
    }
    return 0;
}
