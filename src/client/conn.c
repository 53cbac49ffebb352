/* Connections and the unary call. The calls of a connection complete on one
 * queue that the waiting threads poll in turn (callq.h). */
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "callq.h"
#include "grep11/grpc_runtime.h"
#include "internal.h"
#include "unary.h"

#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_SPIN_US 200
#define DEFAULT_BATCH_INFLIGHT 2
#define GRACE_MS 2000
/* gRPC waits 1 s before reconnecting a failed channel, growing to 120 s:
 * after a server restart, calls would fail for minutes. Reconnecting soon,
 * and at least every second, bounds that. A call that found its channel
 * down waits at most RECONNECT_WAIT_MS for it to come back: several
 * attempts, each of which may queue for a TLS handshake behind hundreds of
 * others at a busy server. The channel is looked at again every
 * RECONNECT_LOOK_MS, which also wakes one gRPC left idle. */
#define RECONNECT_FIRST_MS 100
#define RECONNECT_MAX_MS 1000
#define RECONNECT_WAIT_MS 10000
#define RESEND_MAX 3 /* sends after the first, each allowed by the resend rule */
#define RECONNECT_LOOK_MS 250
#define DEFAULT_MAX_MESSAGE (64u * 1024u * 1024u)
#define MAX_CHANNELS 16

/* Calls are spread round-robin over channels, each its own TCP connection:
 * gRPC serializes the transport work of one connection (framing, TLS) on
 * one thread at a time, so one connection caps a multi-threaded client and
 * the server side of it at about one core. */
struct g11c_conn {
    grpc_channel *channel[MAX_CHANNELS];
    int nchannels;
    unsigned next_channel; /* atomic */
    int timeout_ms;
    g11c_error_hook on_error;
    void *on_error_arg;
    g11c_token_hook token;
    void *token_arg;
    void (*on_close)(void *);
    void *on_close_arg;
    callq q;
    batch_lane lane[MAX_CHANNELS]; /* one per channel; nlanes 0: no batching */
    int nlanes;
    int batch_unsupported; /* atomic: the server has no grep11.Batch */
};

void g11c_buf_free(g11c_buf *b)
{
    if (b->ptr) {
        explicit_bzero(b->ptr, b->len);
        free(b->ptr);
    }
    b->ptr = NULL;
    b->len = 0;
}

static char *read_pem(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc((1 << 20) + 1);
    size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    if (!buf || n == 0 || n == (1 << 20)) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static void free_secret_pem(char *pem)
{
    if (pem) {
        OPENSSL_cleanse(pem, strlen(pem));
        free(pem);
    }
}

CK_RV g11c_connect(const g11c_options *opt, g11c_conn **out)
{
    if (!opt || !opt->address || !out)
        return CKR_ARGUMENTS_BAD;
    if ((opt->cert_file == NULL) != (opt->key_file == NULL))
        return CKR_ARGUMENTS_BAD;
    g11c_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return CKR_HOST_MEMORY;
    c->timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : DEFAULT_TIMEOUT_MS;

    char *ca = NULL, *cert = NULL, *key = NULL;
    CK_RV rv = CKR_OK;
    grpc_channel_credentials *creds = NULL;
    if (!opt->insecure) {
        if (opt->ca_file && !(ca = read_pem(opt->ca_file)))
            rv = CKR_ARGUMENTS_BAD;
        if (rv == CKR_OK && opt->cert_file &&
            (!(cert = read_pem(opt->cert_file)) || !(key = read_pem(opt->key_file))))
            rv = CKR_ARGUMENTS_BAD;
    }
    if (rv != CKR_OK)
        goto out;

    grep11_grpc_init();
    int spin = opt->spin_us == 0 ? DEFAULT_SPIN_US : (opt->spin_us < 0 ? 0 : opt->spin_us);
    if (callq_init(&c->q, spin) != 0) {
        grpc_shutdown();
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if (opt->insecure) {
        creds = grpc_insecure_credentials_create();
    } else {
        grpc_ssl_pem_key_cert_pair pair = {key, cert};
        creds = grpc_ssl_credentials_create(ca, cert ? &pair : NULL, NULL, NULL);
    }
    int max = (int)(opt->max_message ? opt->max_message : DEFAULT_MAX_MESSAGE);
    int want =
        opt->channels > 0 ? (opt->channels < MAX_CHANNELS ? opt->channels : MAX_CHANNELS) : 1;
    grpc_arg args[6];
    args[0].type = GRPC_ARG_INTEGER;
    args[0].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[0].value.integer = max;
    args[1].type = GRPC_ARG_INTEGER;
    args[1].key = (char *)GRPC_ARG_MAX_SEND_MESSAGE_LENGTH;
    args[1].value.integer = max;
    args[2].type = GRPC_ARG_INTEGER;
    args[2].key = (char *)GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS;
    args[2].value.integer = RECONNECT_FIRST_MS;
    args[3].type = GRPC_ARG_INTEGER;
    args[3].key = (char *)GRPC_ARG_MAX_RECONNECT_BACKOFF_MS;
    args[3].value.integer = RECONNECT_MAX_MS;
    /* Without a pool of its own each channel would share the one
     * connection that channels with equal arguments share. */
    args[4].type = GRPC_ARG_INTEGER;
    args[4].key = (char *)GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL;
    args[4].value.integer = 1;
    args[5].type = GRPC_ARG_INTEGER;
    args[5].key = (char *)"grep11.channel_index";
    grpc_channel_args chargs = {want > 1 ? 6 : 4, args};
    for (int i = 0; creds && i < want; i++) {
        args[5].value.integer = i;
        if (!(c->channel[i] = grpc_channel_create(opt->address, creds, &chargs)))
            break;
        c->nchannels++;
    }
    if (creds)
        grpc_channel_credentials_release(creds); /* the channels hold their own */
    int inflight = opt->batch_inflight == 0 ? DEFAULT_BATCH_INFLIGHT : opt->batch_inflight;
    for (int i = 0; inflight > 0 && c->nchannels == want && i < want; i++, c->nlanes++)
        if (batch_lane_init(&c->lane[i], c->channel[i], &c->q, inflight, &c->batch_unsupported) !=
            0)
            break;
    if (c->nchannels != want || (inflight > 0 && c->nlanes != want)) {
        for (int i = 0; i < c->nchannels; i++)
            grpc_channel_destroy(c->channel[i]);
        callq_destroy(&c->q);
        for (int i = 0; i < c->nlanes; i++)
            batch_lane_destroy(&c->lane[i]);
        grpc_shutdown();
        rv = CKR_DEVICE_ERROR;
    }
out:
    free(ca);
    free(cert);
    free_secret_pem(key);
    if (rv != CKR_OK) {
        free(c);
        return rv;
    }
    *out = c;
    return CKR_OK;
}

void g11c_close(g11c_conn *c)
{
    if (!c)
        return;
    if (c->on_close)
        c->on_close(c->on_close_arg);
    for (int i = 0; i < c->nlanes; i++)
        batch_lane_close(&c->lane[i]);
    for (int i = 0; i < c->nchannels; i++)
        grpc_channel_destroy(c->channel[i]);
    callq_destroy(&c->q); /* completes what is still in flight */
    for (int i = 0; i < c->nlanes; i++)
        batch_lane_destroy(&c->lane[i]);
    grpc_shutdown();
    free(c);
}

void g11c_set_error_hook(g11c_conn *c, g11c_error_hook fn, void *arg)
{
    c->on_error = fn;
    c->on_error_arg = arg;
}

void g11c_set_close_hook(g11c_conn *c, void (*fn)(void *), void *arg)
{
    c->on_close = fn;
    c->on_close_arg = arg;
}

void g11c_set_token_hook(g11c_conn *c, g11c_token_hook fn, void *arg)
{
    c->token = fn;
    c->token_arg = arg;
}

static void report(g11c_conn *c, const char *method, CK_RV rv, const char *detail)
{
    if (c->on_error)
        c->on_error(c->on_error_arg, method, rv, detail);
}

/* A single call in flight: on the heap, because a call that never
 * completes (gRPC's timers stopped in a forked child) is abandoned to the
 * queue, which frees it if its event ever arrives. */
typedef struct {
    callq_waiter w; /* first: the batch's tag */
    g11c_unary u;
} pending;

static void pending_free(callq_waiter *w)
{
    pending *p = (pending *)w;
    g11c_unary_release(&p->u);
    free(p);
}

static void waiter_free(callq_waiter *w)
{
    free(w);
}

/* Waits until channel ch is connected (1), or fails (0) once `limit` has
 * passed. A channel that failed reconnects on its own, after a pause. */
static int channel_ready_by(g11c_conn *c, grpc_channel *ch, gpr_timespec limit)
{
    for (;;) {
        grpc_connectivity_state s = grpc_channel_check_connectivity_state(ch, 1);
        if (s == GRPC_CHANNEL_READY)
            return 1;
        if (s == GRPC_CHANNEL_SHUTDOWN || gpr_time_cmp(gpr_now(GPR_CLOCK_REALTIME), limit) >= 0)
            return 0;
        callq_waiter *w = malloc(sizeof(*w));
        if (!w)
            return 0;
        callq_waiter_init(w, waiter_free);
        gpr_timespec look = gpr_time_min(
            limit, gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                gpr_time_from_millis(RECONNECT_LOOK_MS, GPR_TIMESPAN)));
        grpc_channel_watch_connectivity_state(ch, s, look, c->q.cq, w);
        gpr_timespec hard = gpr_time_add(look, gpr_time_from_millis(GRACE_MS, GPR_TIMESPAN));
        if (!callq_wait(&c->q, w, hard)) {
            if (callq_abandon(&c->q, w))
                free(w);
            return 0;
        }
        free(w);
    }
}

/* One attempt of a unary call on channel ch. *delivery says, for a call
 * that failed in the transport (UNAVAILABLE without a server answer),
 * whether it may have reached the server (resend.h). */
static CK_RV exchange(g11c_conn *c, grpc_channel *ch, const char *method, grpc_metadata *md,
                      size_t nmd, const uint8_t *req, size_t len, gpr_timespec deadline,
                      grpc_slice *reply, char *detail, size_t dcap, g11c_delivery *delivery)
{
    CK_RV rv;
    *delivery = G11C_FINAL;
    detail[0] = '\0';
    pending *p = calloc(1, sizeof(*p));
    if (!p)
        return CKR_HOST_MEMORY;
    callq_waiter_init(&p->w, pending_free);
    grpc_slice req_slice = grpc_slice_from_copied_buffer((const char *)req, len);
    grpc_byte_buffer *send = grpc_raw_byte_buffer_create(&req_slice, 1);
    grpc_slice_unref(req_slice);
    grpc_call_error e =
        g11c_unary_start(&p->u, ch, c->q.cq, method, deadline, md, nmd, send, &p->w);
    if (e != GRPC_CALL_OK) {
        snprintf(detail, dcap, "cannot start call (%d)", (int)e);
        pending_free(&p->w);
        return CKR_DEVICE_ERROR;
    }
    /* gRPC enforces the deadline itself; the wait is bounded too, a little
     * later, so that a call never hangs its caller even if gRPC's timers
     * cannot run (a forked child without fork support). */
    gpr_timespec limit = gpr_time_add(deadline, gpr_time_from_millis(GRACE_MS, GPR_TIMESPAN));
    if (!callq_wait(&c->q, &p->w, limit)) {
        /* Cancel, then collect the batch; if even that does not come back,
         * the call is left to the queue (a leak beats a hang). */
        grpc_call_cancel(p->u.call, NULL);
        limit =
            gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_millis(GRACE_MS, GPR_TIMESPAN));
        if (!callq_wait(&c->q, &p->w, limit) && !callq_abandon(&c->q, &p->w))
            p = NULL;
        snprintf(detail, dcap, "no answer within the deadline");
        if (p)
            pending_free(&p->w);
        return CKR_DEVICE_ERROR;
    }
    rv = g11c_unary_outcome(&p->u, reply, detail, dcap, delivery);
    pending_free(&p->w);
    return rv;
}

/* Through the channel's lane (batch.h). 1 with rv, *reply and detail set;
 * 0 when the call must go alone after all (the server has no batches). */
static int lane_exchange(g11c_conn *c, unsigned idx, const char *method, const char *auth,
                         const uint8_t *req, size_t len, gpr_timespec deadline, grpc_slice *reply,
                         CK_RV *rv, char *detail, size_t dcap, g11c_delivery *delivery)
{
    batch_result res;
    gpr_timespec limit = gpr_time_add(deadline, gpr_time_from_millis(GRACE_MS, GPR_TIMESPAN));
    if (!batch_lane_call(&c->lane[idx], method, auth, req, len, deadline, limit, &res)) {
        *rv = CKR_DEVICE_ERROR;
        snprintf(detail, dcap, "no answer within the deadline");
        return 1;
    }
    if (res.unsupported) {
        grpc_slice_unref(res.reply);
        return 0;
    }
    *rv = res.rv;
    *reply = res.reply;
    *delivery = res.delivery;
    snprintf(detail, dcap, "%s", res.detail);
    return 1;
}

/* Adds why a failed call was not sent again to its detail. */
static void note_not_resent(char *detail, size_t cap)
{
    size_t n = strlen(detail);
    snprintf(detail + n, cap - n, "%sit may have run on the server: not sent again", n ? "; " : "");
}

/* The raw exchange: bytes in, bytes out, status mapped to CK_RV. keyed:
 * the request is a Store write with a RequestID, which makes a resend
 * safe. */
static CK_RV unary_bytes(g11c_conn *c, const char *method, const uint8_t *req, size_t len,
                         int keyed, grpc_slice *reply)
{
    char token[4096], auth[4200], detail[512] = "";
    grpc_metadata md[1];
    size_t nmd = 0;
    g11c_delivery delivery = G11C_FINAL;
    CK_RV rv;

    *reply = grpc_empty_slice();
    if (c->token && strcmp(method, G11C_AUTH_TOKEN) != 0) {
        rv = c->token(c->token_arg, token, sizeof(token));
        if (rv != CKR_OK) {
            report(c, method, rv, "no bearer token");
            return rv;
        }
        /* An empty token means "no credentials for this call". */
        if (token[0]) {
            snprintf(auth, sizeof(auth), "Bearer %s", token);
            md[0].key = grpc_slice_from_static_string("authorization");
            md[0].value = grpc_slice_from_copied_string(auth);
            nmd = 1;
        }
        OPENSSL_cleanse(token, sizeof(token));
    }

    /* A channel that is down fails its calls at once. The call waits a
     * short while for it to come back and is sent once more, all within its
     * deadline, if the rule of resend.h allows: it never left, or running it
     * twice is harmless or recognised. A server that stays away is reported
     * after that wait. Down means a server restart, a reset connection, a
     * fork, or a connect that gRPC 1.51 failed by itself: it reads
     * connect()'s errno after other calls, and under load sees theirs
     * (ENOENT) instead of EINPROGRESS. */
    gpr_timespec now = gpr_now(GPR_CLOCK_REALTIME);
    gpr_timespec deadline = gpr_time_add(now, gpr_time_from_millis(c->timeout_ms, GPR_TIMESPAN));
    unsigned idx =
        __atomic_fetch_add(&c->next_channel, 1, __ATOMIC_RELAXED) % (unsigned)c->nchannels;
    grpc_channel *ch = c->channel[idx];
    if (!c->nlanes || !batch_method_ok(method) ||
        __atomic_load_n(&c->batch_unsupported, __ATOMIC_RELAXED) ||
        !lane_exchange(c, idx, method, nmd ? auth : NULL, req, len, deadline, reply, &rv, detail,
                       sizeof(detail), &delivery))
        rv = exchange(c, ch, method, md, nmd, req, len, deadline, reply, detail, sizeof(detail),
                      &delivery);
    if (nmd)
        OPENSSL_cleanse(auth, sizeof(auth));
    if (delivery == G11C_UNCERTAIN && !g11c_may_resend(delivery, method, keyed))
        note_not_resent(detail, sizeof(detail));
    /* A channel may still read READY for a moment after its connection was
     * cut, so a resend can meet the dying transport too: each failed send
     * is judged by the rule again, a few times, within the deadline. */
    for (int tries = 0; tries < RESEND_MAX && g11c_may_resend(delivery, method, keyed); tries++) {
        gpr_timespec limit = gpr_time_min(
            deadline, gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                   gpr_time_from_millis(RECONNECT_WAIT_MS, GPR_TIMESPAN)));
        if (!channel_ready_by(c, ch, limit))
            break;
        rv = exchange(c, ch, method, md, nmd, req, len, deadline, reply, detail, sizeof(detail),
                      &delivery);
    }
    if (rv != CKR_OK)
        report(c, method, rv, detail);
    if (nmd)
        grpc_slice_unref(md[0].value);
    return rv;
}

CK_RV g11c_raw_call(g11c_conn *c, const char *method, const uint8_t *req, size_t len,
                    g11c_buf *reply)
{
    grpc_slice s;
    /* Raw requests are not read: a raw Store write is sent once even if it
     * carries a RequestID. */
    CK_RV rv = unary_bytes(c, method, req, len, 0, &s);
    if (rv == CKR_OK) {
        reply->len = GRPC_SLICE_LENGTH(s);
        reply->ptr = malloc(reply->len ? reply->len : 1);
        if (reply->ptr)
            memcpy(reply->ptr, GRPC_SLICE_START_PTR(s), reply->len);
        else
            rv = CKR_HOST_MEMORY;
    }
    grpc_slice_unref(s);
    return rv;
}

CK_RV g11c_call(g11c_conn *c, const char *method, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp)
{
    return g11c_call_keyed(c, method, req, 0, resp_desc, resp);
}

CK_RV g11c_call_keyed(g11c_conn *c, const char *method, const ProtobufCMessage *req, int keyed,
                      const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp)
{
    size_t len = protobuf_c_message_get_packed_size(req);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return CKR_HOST_MEMORY;
    protobuf_c_message_pack(req, buf);
    grpc_slice s;
    CK_RV rv = unary_bytes(c, method, buf, len, keyed, &s);
    explicit_bzero(buf, len);
    free(buf);
    if (rv != CKR_OK)
        return rv;
    *resp =
        protobuf_c_message_unpack(resp_desc, NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
    if (!GRPC_SLICE_IS_EMPTY(s))
        explicit_bzero(GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s));
    grpc_slice_unref(s);
    if (!*resp) {
        report(c, method, CKR_DEVICE_ERROR, "malformed reply from server");
        return CKR_DEVICE_ERROR;
    }
    return CKR_OK;
}

void g11c_reply_free(ProtobufCMessage *resp)
{
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
}

CK_RV g11c_copy_out(g11c_buf *out, ProtobufCBinaryData d)
{
    out->ptr = malloc(d.len ? d.len : 1);
    if (!out->ptr) {
        out->len = 0;
        return CKR_HOST_MEMORY;
    }
    if (d.len)
        memcpy(out->ptr, d.data, d.len);
    out->len = d.len;
    return CKR_OK;
}
