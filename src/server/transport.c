/* The gRPC C-core server loop.
 *
 * One completion queue shared by all worker threads. (With a queue per
 * worker, gRPC binds an arriving call to one worker's queue; a worker busy
 * with a long operation, an RSA-4096 key generation say, then holds quick
 * calls queued behind it while other workers idle, until their deadline.)
 * A few requests stay posted per registered method and worker (payload read
 * with the call, so a call costs one batch) plus a few generic requests so
 * that an unknown method is answered UNIMPLEMENTED at once instead of
 * hanging until the client's deadline. A call's batches are started by the
 * worker that received it, because grpc_call_start_batch is not thread-safe
 * per call; the completion of its reply may reach any worker, which only
 * logs and frees it. While the server spins (`spin`, poll_state below) one
 * worker at a time polls the queue. */
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devsetup.h"
#include "handover.h"
#include "listener.h"
#include "log.h"
#include "rpc.h"
#include "server.h"
#include "status.h"

#define REQUESTS_PER_METHOD 2
#define THREADS_PER_SLOT 4
#define GENERIC_REQUESTS 2
/* Once its connections are closed, the gRPC server has only to notice
 * (each transport reads its end): far less than this. */
#define CLOSE_WAIT_MS 1000

typedef struct worker worker;

enum call_stage { CALL_REQUESTED, CALL_SENDING };

typedef struct call {
    worker *w;
    const rpc_method *method; /* NULL: generic (unknown method) */
    void *method_handle;      /* registered-method handle */
    enum call_stage stage;
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_call_details details; /* generic calls only */
    grpc_byte_buffer *payload;
    grpc_byte_buffer *reply;
    grpc_slice status_text;
    grpc_metadata trailer;
    uint8_t *status_bin;
    size_t status_bin_len;
    int cancelled;
    int running;     /* counted in server.running until its reply is out */
    int bare_status; /* no Grep11Error: the call was not handled at all */
    grpc_status_code code;
    CK_RV rv;
    uint64_t id;
    struct timespec started;
} call;

struct worker {
    server *srv;
    int index;
    pthread_t thread;
};

typedef struct {
    const rpc_method *method;
    void *handle;
} method_slot;

/* A counting gate: take waits for a free place, give frees one and wakes
 * a waiter, close wakes everyone and makes take fail. `free` goes below 0
 * when places are taken back without waiting (gate_take_now). Used for the
 * poll token (one place) and the compute slots. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int free;
    int closed; /* the queue has shut down */
} gate;

/* Which worker polls the queue while the server spins (spin_us > 0).
 *
 * Why: on these machines a thread the kernel wakes from epoll_wait runs some
 * 50 us after the packet arrived, half of a lone call's round trip. A worker
 * that keeps polling without sleeping for a moment after each call, while
 * the next call is likely, sees it at once. gRPC lets only one thread poll
 * the sockets at a time (the others wait for it to hand them events), so the
 * spinning worker must be the only one in the queue: the token, a gate of
 * one place. It is handed on when its holder takes a call to run, so another
 * worker polls while the first computes; completions of replies are cheap
 * and are handled by the holder without handing it on. */
typedef struct {
    gate token;
    int spin_us;
    _Atomic int64_t spin_until_ns; /* CLOCK_MONOTONIC: keep polling until then */
} poll_state;

struct server {
    grpc_server *grpc;
    services *svc;
    worker *workers;
    int nworkers;
    method_slot *methods;
    size_t nmethods;
    size_t max_message;
    grpc_completion_queue *cq; /* shared by the workers */
    atomic_int cq_shut;
    atomic_int handling; /* workers between taking a call and starting its reply */
    grpc_completion_queue *shutdown_cq;
    /* Shutdown, in order (server_stop): `draining`, calls that arrive are
     * answered UNAVAILABLE and those `running` finish; `closing`, requests
     * are no longer re-posted, as the server shuts down; `stopped`, it has,
     * and the workers close the queue. */
    atomic_int draining;
    atomic_int running; /* calls admitted before draining, until their reply is out */
    atomic_int closing;
    atomic_int stopped;
    listener *lst;       /* the listening socket (listener.h) */
    void *handover_slot; /* gRPC's handler for the connections it accepts */
    atomic_uint_fast64_t next_call_id;
    poll_state poll;
    /* Calls computing at once (`workers`); there are THREADS_PER_SLOT times
     * as many threads, so that a call waiting for the disk (an audit
     * commit) leaves its slot to another call (worker_main). */
    gate slots;
    rpc_io_hooks io;
};

static void free_cleansed(void *p, size_t len)
{
    explicit_bzero(p, len);
    free(p);
}

/* ---- call lifecycle -------------------------------------------------- */

static call *call_new(worker *w, const method_slot *slot)
{
    call *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->w = w;
    c->stage = CALL_REQUESTED;
    grpc_metadata_array_init(&c->md);
    if (slot) {
        c->method = slot->method;
        c->method_handle = slot->handle;
    } else {
        grpc_call_details_init(&c->details);
    }
    c->status_text = grpc_empty_slice();
    return c;
}

static void call_free(call *c)
{
    if (c->running)
        atomic_fetch_sub(&c->w->srv->running, 1);
    if (c->call)
        grpc_call_unref(c->call);
    grpc_metadata_array_destroy(&c->md);
    if (!c->method_handle)
        grpc_call_details_destroy(&c->details);
    if (c->payload)
        grpc_byte_buffer_destroy(c->payload);
    if (c->reply)
        grpc_byte_buffer_destroy(c->reply);
    grpc_slice_unref(c->status_text);
    free(c->status_bin);
    free(c);
}

/* Posts one request for a method slot (NULL: generic) on w's queue. */
static void post_request(worker *w, const method_slot *slot)
{
    server *srv = w->srv;
    /* Posted while draining too: a call that found no request posted would
     * wait for one, and be cancelled at shutdown (CANCELLED, which clients
     * do not retry elsewhere). */
    if (atomic_load(&srv->closing))
        return;
    call *c = call_new(w, slot);
    if (!c) {
        log_error("component=transport msg=\"out of memory posting a request\"");
        return;
    }
    grpc_call_error e;
    if (slot)
        e = grpc_server_request_registered_call(srv->grpc, slot->handle, &c->call, &c->deadline,
                                                &c->md, &c->payload, srv->cq, srv->cq, c);
    else
        e = grpc_server_request_call(srv->grpc, &c->call, &c->details, &c->md, srv->cq, srv->cq, c);
    if (e != GRPC_CALL_OK) {
        call_free(c);
        if (!atomic_load(&srv->closing))
            log_error("component=transport msg=\"request_call failed\" err=%d", (int)e);
    }
}

static const char *metadata_value(const grpc_metadata_array *md, const char *key, char *buf,
                                  size_t cap)
{
    for (size_t i = 0; i < md->count; i++) {
        if (grpc_slice_str_cmp(md->metadata[i].key, key) == 0) {
            size_t n = GRPC_SLICE_LENGTH(md->metadata[i].value);
            if (n >= cap)
                return NULL;
            memcpy(buf, GRPC_SLICE_START_PTR(md->metadata[i].value), n);
            buf[n] = '\0';
            return buf;
        }
    }
    return NULL;
}

/* The identity of a mutual-TLS peer (its certificate's SAN or CN), if any. */
static void peer_identity(grpc_call *gc, char *buf, size_t cap)
{
    buf[0] = '\0';
    grpc_auth_context *ac = grpc_call_auth_context(gc);
    if (!ac)
        return;
    grpc_auth_property_iterator it = grpc_auth_context_peer_identity(ac);
    const grpc_auth_property *p = grpc_auth_property_iterator_next(&it);
    if (p && p->value_length < cap) {
        memcpy(buf, p->value, p->value_length);
        buf[p->value_length] = '\0';
    }
    grpc_auth_context_release(ac);
}

/* A client-chosen method name, made safe for a one-line log entry. */
static void method_for_log(const char *name, size_t n, char *out, size_t cap)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(out, name, n);
    out[n] = '\0';
    for (char *p = out; *p; p++)
        if (*p < 0x20 || *p == '"' || *p > 0x7e)
            *p = '?';
}

static void rv_for_log(CK_RV rv, char *out, size_t cap)
{
    const char *name = status_rv_name(rv);
    if (name)
        snprintf(out, cap, "%s", name);
    else
        snprintf(out, cap, "0x%lx", (unsigned long)rv);
}

/* Each call of a batch gets the log line it would have had alone, under the
 * batch's request id and its index. */
static void batch_call_log(void *arg, size_t index, const char *path, CK_RV rv,
                           grpc_status_code code)
{
    const call *c = arg;
    if (log_get_level() < LOG_LEVEL_INFO)
        return;
    char method[160], ckr[40];
    method_for_log(path ? path : "", path ? strlen(path) : 0, method, sizeof(method));
    rv_for_log(rv, ckr, sizeof(ckr));
    log_write(LOG_LEVEL_INFO, "req=%016llx.%zu method=\"%s\" status=%d ckr=%s",
              (unsigned long long)c->id, index, method, (int)code, ckr);
}

/* 1: c is to be handled; 0: the server drains, and c is answered
 * UNAVAILABLE without being handled, so that its client sends it to
 * another replica. Health checks are answered while draining (with
 * NOT_SERVING). A call admitted is counted as running before `draining`
 * is read, and server_stop sets `draining` before it reads `running` (both
 * sequentially consistent): it waits for every call admitted. */
static int admit_call(server *srv, call *c)
{
    atomic_fetch_add(&srv->running, 1);
    if (!atomic_load(&srv->draining)) {
        c->running = 1;
        return 1;
    }
    atomic_fetch_sub(&srv->running, 1);
    return strncmp(c->method->path, "/grpc.health.v1.Health/", 23) == 0;
}

/* Decodes, dispatches and fills c->rv / c->code / reply / status text. */
static void call_dispatch(call *c)
{
    server *srv = c->w->srv;
    rpc_ctx ctx;
    char auth[4096], peer[512], instance[160];
    grpc_slice raw = grpc_empty_slice();

    memset(&ctx, 0, sizeof(ctx));
    ctx.eng = srv->svc->eng;
    ctx.svc = srv->svc;
    ctx.draining = atomic_load(&srv->draining);
    ctx.method = c->method;
    ctx.io = &srv->io;
    if (c->method_handle &&
        gpr_time_cmp(c->deadline, gpr_inf_future(c->deadline.clock_type)) != 0) {
        gpr_timespec d = gpr_convert_clock_type(c->deadline, GPR_CLOCK_REALTIME);
        ctx.deadline_ns = (int64_t)d.tv_sec * 1000000000 + d.tv_nsec;
    }

    if (!c->method) {
        c->code = GRPC_STATUS_UNIMPLEMENTED;
        c->rv = CKR_FUNCTION_NOT_SUPPORTED;
        snprintf(ctx.detail, sizeof(ctx.detail), "unknown method");
        goto out;
    }
    if (!admit_call(srv, c)) {
        /* No Grep11Error: the call was not handled, as when the server
         * cannot be reached (libgrep11 then resends it once reconnected). */
        c->code = GRPC_STATUS_UNAVAILABLE;
        c->rv = CKR_DEVICE_ERROR;
        c->bare_status = 1;
        snprintf(ctx.detail, sizeof(ctx.detail), "server shutting down: retry on another replica");
        goto out;
    }
    if (!c->payload) {
        c->rv = rpc_fail(&ctx, CKR_ARGUMENTS_BAD, "request carries no message");
        goto status;
    }
    /* Too large for its method: refused before it is copied (rpc_guard
     * says the same for requests that come another way). */
    if (c->method->max_request && grpc_byte_buffer_length(c->payload) > c->method->max_request) {
        c->rv = rpc_guard(&ctx, c->method, NULL, grpc_byte_buffer_length(c->payload));
        goto status;
    }
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, c->payload)) {
        c->rv = rpc_fail(&ctx, CKR_ARGUMENTS_BAD, "unreadable request message");
        goto status;
    }
    raw = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    /* One copy of the request is enough while it is handled. */
    grpc_byte_buffer_destroy(c->payload);
    c->payload = NULL;
    ctx.authorization = metadata_value(&c->md, "authorization", auth, sizeof(auth));
    ctx.instance = metadata_value(&c->md, "bluemix-instance", instance, sizeof(instance));
    peer_identity(c->call, peer, sizeof(peer));
    ctx.peer_identity = peer[0] ? peer : NULL;
    char *addr = grpc_call_get_peer(c->call);
    ctx.peer = addr;
    if (c->method == &batch_method)
        c->rv = rpc_invoke_batch(&ctx, GRPC_SLICE_START_PTR(raw), GRPC_SLICE_LENGTH(raw),
                                 batch_call_log, c);
    else
        c->rv = rpc_invoke(&ctx, c->method, GRPC_SLICE_START_PTR(raw), GRPC_SLICE_LENGTH(raw));
    gpr_free(addr);

status:
    c->code = ctx.code_override != GRPC_STATUS_OK ? ctx.code_override : status_code_for_rv(c->rv);
    if (c->code == GRPC_STATUS_OK && !ctx.resp) {
        /* A handler that succeeds must have encoded a reply. */
        c->rv = rpc_fail(&ctx, CKR_GENERAL_ERROR, "internal error: no reply");
        c->code = status_code_for_rv(c->rv);
    }
out:
    if (c->code == GRPC_STATUS_OK) {
        grpc_slice s = grpc_slice_new_with_len(ctx.resp, ctx.resp_len, free_cleansed);
        ctx.resp = NULL;
        c->reply = grpc_raw_byte_buffer_create(&s, 1);
        grpc_slice_unref(s);
    } else {
        if (!ctx.detail[0]) {
            const char *name = status_rv_name(c->rv);
            snprintf(ctx.detail, sizeof(ctx.detail), "%s", name ? name : "error");
        }
        c->status_text = grpc_slice_from_copied_string(ctx.detail);
        if (!c->bare_status && status_encode_details(c->code, c->rv, ctx.detail, &c->status_bin,
                                                     &c->status_bin_len) == 0) {
            c->trailer.key = grpc_slice_from_static_string(GREP11_STATUS_DETAILS_KEY);
            c->trailer.value = grpc_slice_from_static_buffer(c->status_bin, c->status_bin_len);
        }
    }
    rpc_ctx_release(&ctx);
    if (!GRPC_SLICE_IS_EMPTY(raw))
        explicit_bzero(GRPC_SLICE_START_PTR(raw), GRPC_SLICE_LENGTH(raw));
    grpc_slice_unref(raw);
}

static void call_start_reply(call *c)
{
    grpc_op ops[4];
    memset(ops, 0, sizeof(ops));
    size_t n = 0;
    ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
    n++;
    if (c->reply) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n].data.send_message.send_message = c->reply;
        n++;
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = c->code;
    ops[n].data.send_status_from_server.status_details =
        GRPC_SLICE_IS_EMPTY(c->status_text) ? NULL : &c->status_text;
    if (c->status_bin) {
        ops[n].data.send_status_from_server.trailing_metadata_count = 1;
        ops[n].data.send_status_from_server.trailing_metadata = &c->trailer;
    }
    n++;
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n].data.recv_close_on_server.cancelled = &c->cancelled;
    n++;
    c->stage = CALL_SENDING;
    grpc_call_error e = grpc_call_start_batch(c->call, ops, n, c, NULL);
    if (e != GRPC_CALL_OK) {
        log_error("component=transport msg=\"start_batch failed\" err=%d", (int)e);
        call_free(c);
    }
}

static void call_log(const call *c)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long us =
        (now.tv_sec - c->started.tv_sec) * 1000000LL + (now.tv_nsec - c->started.tv_nsec) / 1000;
    char method[160], ckr[40];
    if (c->method)
        snprintf(method, sizeof(method), "%s", c->method->path);
    else
        method_for_log((const char *)GRPC_SLICE_START_PTR(c->details.method),
                       GRPC_SLICE_LENGTH(c->details.method), method, sizeof(method));
    rv_for_log(c->rv, ckr, sizeof(ckr));
    log_write(LOG_LEVEL_INFO, "req=%016llx method=\"%s\" status=%d ckr=%s us=%lld%s",
              (unsigned long long)c->id, method, (int)c->code, ckr, us,
              c->cancelled ? " cancelled=1" : "");
}

static void call_arrived(call *c)
{
    worker *w = c->w;
    server *srv = w->srv;
    clock_gettime(CLOCK_MONOTONIC, &c->started);
    c->id = atomic_fetch_add(&srv->next_call_id, 1);
    /* Re-post first so the method never runs out of posted requests. */
    if (c->method_handle) {
        for (size_t i = 0; i < srv->nmethods; i++)
            if (srv->methods[i].handle == c->method_handle) {
                post_request(w, &srv->methods[i]);
                break;
            }
    } else {
        post_request(w, NULL);
    }
    call_dispatch(c);
    call_start_reply(c);
}

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* A reply is going out: the client's next call is likely soon. */
static void poll_extend(server *srv)
{
    if (srv->poll.spin_us > 0)
        atomic_store(&srv->poll.spin_until_ns, mono_ns() + (int64_t)srv->poll.spin_us * 1000);
}

static void gate_init(gate *g, int places)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->free = places;
    g->closed = 0;
}

static void gate_destroy(gate *g)
{
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
}

/* 1: the caller has a place; 0: the gate is closed. */
static int gate_take(gate *g)
{
    pthread_mutex_lock(&g->mu);
    while (g->free <= 0 && !g->closed)
        pthread_cond_wait(&g->cv, &g->mu);
    int ok = !g->closed;
    if (ok)
        g->free--;
    pthread_mutex_unlock(&g->mu);
    return ok;
}

static void gate_give(gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->free++;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* Takes a place back without waiting, even beyond the gate's size. */
static void gate_take_now(gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->free--;
    pthread_mutex_unlock(&g->mu);
}

/* 1 if the gate is over-subscribed, in which case the caller's place is
 * given back (nobody is woken: there is still no free place). */
static int gate_give_excess(gate *g)
{
    pthread_mutex_lock(&g->mu);
    int over = g->free < 0;
    if (over)
        g->free++;
    pthread_mutex_unlock(&g->mu);
    return over;
}

static void gate_close(gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->closed = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* The next event, polling without sleeping while a call finished less than
 * spin_us ago, or while another worker runs one (its reply, then the
 * client's next call, are coming), for at most POLL_BUSY_MAX_NS: a key
 * generation of seconds must not keep a core busy. Otherwise it sleeps in
 * the queue. A worker polling while another runs a call yields after each
 * look: on two cores it would otherwise take half of one from that call. */
#define POLL_BUSY_MAX_NS 2000000
static grpc_event poll_next(server *srv)
{
    grpc_event ev;
    int64_t start = mono_ns(), now = start;
    while (srv->poll.spin_us > 0) {
        int busy = atomic_load(&srv->handling) > 0;
        if (now >= atomic_load(&srv->poll.spin_until_ns) &&
            (!busy || now - start >= POLL_BUSY_MAX_NS))
            break;
        ev = grpc_completion_queue_next(srv->cq, gpr_inf_past(GPR_CLOCK_MONOTONIC), NULL);
        if (ev.type != GRPC_QUEUE_TIMEOUT)
            return ev;
        if (busy)
            sched_yield();
        now = mono_ns();
    }
    return grpc_completion_queue_next(
        srv->cq,
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(100, GPR_TIMESPAN)), NULL);
}

/* The next call to run, handling the cheap events on the way (completions
 * of replies, the periodic timeout). Returns NULL once the queue is shut. */
static call *next_call(server *srv)
{
    for (;;) {
        grpc_event ev = poll_next(srv);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            return NULL;
        if (ev.type == GRPC_QUEUE_TIMEOUT) {
            /* The queue is shut once the server has finished shutting down
             * and no worker is still inside a call: a call cancelled by the
             * shutdown can still be in its handler, and starting its reply
             * batch on a shut queue aborts. */
            if (atomic_load(&srv->stopped) && atomic_load(&srv->handling) == 0 &&
                !atomic_exchange(&srv->cq_shut, 1))
                grpc_completion_queue_shutdown(srv->cq);
            continue;
        }
        call *c = ev.tag;
        if (c->stage != CALL_REQUESTED) {
            call_log(c);
            call_free(c);
            continue;
        }
        /* Counted before `stopped` is read (both sequentially consistent):
         * a worker that sees stopped and handling == 0 knows nobody will
         * start a batch. */
        atomic_fetch_add(&srv->handling, 1);
        if (!ev.success || atomic_load(&srv->stopped)) {
            call_free(c); /* request cancelled by shutdown */
            atomic_fetch_sub(&srv->handling, 1);
            continue;
        }
        return c;
    }
}

/* Compute slots. A worker per core leaves cores idle while calls wait for
 * the disk (an audit commit), and more workers than cores computing at
 * once cost RSA-2048 signing a fifth of its rate (docs/performance.md).
 * So there are THREADS_PER_SLOT workers per slot, and only a worker with
 * a slot takes calls; it keeps the slot from call to call. A call waiting
 * for the disk lends its slot (rpc_io_hooks), which wakes a spare worker.
 * Coming back it takes the slot back without waiting, even if that briefly
 * lets more calls than slots compute: waiting could deadlock, since the
 * calls holding the slots may wait for a lock this call holds (custody's,
 * with a writer queued behind it). The worker gives its slot up after the
 * call while the slots are over-subscribed. */
static void slot_lend(void *slots)
{
    gate_give(slots);
}

static void slot_reclaim(void *slots)
{
    gate_take_now(slots);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    server *srv = w->srv;
    int token = srv->poll.spin_us > 0, slot = 0;
    for (;;) {
        if (!slot && !gate_take(&srv->slots))
            break;
        slot = 1;
        if (token && !gate_take(&srv->poll.token))
            break;
        call *c = next_call(srv);
        if (c == NULL) {
            /* The queue is shut: waiting workers end too. */
            gate_close(&srv->poll.token);
            gate_close(&srv->slots);
            break;
        }
        if (token)
            gate_give(&srv->poll.token);
        call_arrived(c);
        poll_extend(srv);
        atomic_fetch_sub(&srv->handling, 1);
        if (gate_give_excess(&srv->slots))
            slot = 0;
    }
    return NULL;
}

/* ---- start and stop -------------------------------------------------- */

static grpc_server_credentials *make_credentials(const server_config *cfg, char *err, size_t errlen)
{
    if (cfg->insecure)
        return grpc_insecure_server_credentials_create();
    char cert_path[4200], key_path[4200];
    config_tls_paths(cfg, cert_path, sizeof(cert_path), key_path, sizeof(key_path));
    size_t key_len = 0;
    char *cert = file_read_all(cert_path, 1 << 20, NULL);
    char *key = file_read_all(key_path, 1 << 20, &key_len);
    char *ca = cfg->tls_client_ca ? file_read_all(cfg->tls_client_ca, 1 << 20, NULL) : NULL;
    grpc_server_credentials *creds = NULL;
    if (!cert || !key) {
        snprintf(err, errlen, "cannot read TLS %s", !cert ? cert_path : key_path);
    } else if (cfg->tls_client_ca && !ca) {
        snprintf(err, errlen, "cannot read client CA %s", cfg->tls_client_ca);
    } else {
        grpc_ssl_pem_key_cert_pair pair = {key, cert};
        creds = grpc_ssl_server_credentials_create_ex(
            ca, &pair, 1,
            ca ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
               : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
            NULL);
        if (!creds)
            snprintf(err, errlen, "invalid TLS certificate or key");
    }
    free(cert);
    if (key) {
        OPENSSL_cleanse(key, key_len);
        free(key);
    }
    free(ca);
    return creds;
}

static int default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > 64 ? 64 : (int)n);
}

static void server_free(server *srv)
{
    listener_free(srv->lst);
    if (srv->grpc)
        grpc_server_destroy(srv->grpc);
    if (srv->cq)
        grpc_completion_queue_destroy(srv->cq);
    if (srv->shutdown_cq)
        grpc_completion_queue_destroy(srv->shutdown_cq);
    gate_destroy(&srv->poll.token);
    gate_destroy(&srv->slots);
    free(srv->workers);
    free(srv->methods);
    free(srv);
}

int server_start(const server_config *cfg, services *svc, server **out, int *bound_port, char *err,
                 size_t errlen)
{
    server *srv = calloc(1, sizeof(*srv));
    grpc_server_credentials *creds = NULL;
    if (!srv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int slots = cfg->workers > 0 ? cfg->workers : default_workers();
    gate_init(&srv->poll.token, 1);
    gate_init(&srv->slots, slots);
    srv->svc = svc;
    srv->max_message = cfg->max_message;
    srv->nworkers = slots * THREADS_PER_SLOT;
    srv->io = (rpc_io_hooks){slot_lend, slot_reclaim, &srv->slots};
    srv->poll.spin_us = cfg->spin_us;

    grpc_arg args[3];
    args[0].type = GRPC_ARG_INTEGER;
    args[0].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[0].value.integer = (int)cfg->max_message;
    args[1].type = GRPC_ARG_INTEGER;
    args[1].key = (char *)GRPC_ARG_MAX_SEND_MESSAGE_LENGTH;
    args[1].value.integer = (int)cfg->max_message;
    handover_arg(&args[2], &srv->handover_slot);
    grpc_channel_args chargs = {3, args};
    srv->grpc = grpc_server_create(&chargs, NULL);

    const struct {
        const rpc_method *table;
        size_t n;
    } tables[] = {{crypto_methods, crypto_method_count}, {health_methods, health_method_count},
                  {auth_methods, auth_method_count},     {admin_methods, admin_method_count},
                  {store_methods, store_method_count},   {&batch_method, cfg->batch ? 1u : 0u}};
    for (size_t s = 0; s < sizeof(tables) / sizeof(tables[0]); s++)
        srv->nmethods += tables[s].n;
    srv->methods = calloc(srv->nmethods, sizeof(method_slot));
    srv->workers = calloc((size_t)srv->nworkers, sizeof(worker));
    srv->shutdown_cq = grpc_completion_queue_create_for_pluck(NULL);
    if (!srv->methods || !srv->workers) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    size_t k = 0;
    for (size_t s = 0; s < sizeof(tables) / sizeof(tables[0]); s++)
        for (size_t i = 0; i < tables[s].n; i++, k++) {
            srv->methods[k].method = &tables[s].table[i];
            srv->methods[k].handle =
                grpc_server_register_method(srv->grpc, tables[s].table[i].path, NULL,
                                            GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
        }
    for (int i = 0; i < srv->nworkers; i++) {
        srv->workers[i].srv = srv;
        srv->workers[i].index = i;
    }
    srv->cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(srv->grpc, srv->cq, NULL);

    creds = make_credentials(cfg, err, errlen);
    if (!creds)
        goto fail;
    /* grep11d accepts, and gives gRPC the connections it admits. */
    int port = 0;
    if (listener_open(cfg->listen, &srv->lst, &port, err, errlen) != 0) {
        grpc_server_credentials_release(creds);
        goto fail;
    }
    grpc_server_add_http2_port(srv->grpc, HANDOVER_PORT, creds);
    grpc_server_credentials_release(creds);
    if (!srv->handover_slot) {
        snprintf(err, errlen, "this gRPC cannot take connections accepted by grep11d");
        goto fail;
    }
    grpc_server_start(srv->grpc);

    for (int i = 0; i < srv->nworkers; i++) {
        worker *w = &srv->workers[i];
        for (size_t m = 0; m < srv->nmethods; m++)
            for (int r = 0; r < REQUESTS_PER_METHOD; r++)
                post_request(w, &srv->methods[m]);
        for (int r = 0; r < GENERIC_REQUESTS; r++)
            post_request(w, NULL);
    }
    for (int i = 0; i < srv->nworkers; i++) {
        if (pthread_create(&srv->workers[i].thread, NULL, worker_main, &srv->workers[i]) != 0) {
            snprintf(err, errlen, "cannot start worker threads");
            /* Workers already running are stopped by the normal path. */
            srv->nworkers = i;
            server_stop(srv, 0);
            return -1;
        }
    }
    *bound_port = port;
    *out = srv;
    return 0;
fail:
    server_free(srv);
    return -1;
}

int server_accept(server *srv, unsigned max_connections, char *err, size_t errlen)
{
    return listener_start(srv->lst, srv->handover_slot, max_connections, err, errlen);
}

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Waits until the calls admitted before draining have sent their replies,
 * for at most grace_ms; 1 when they have. */
static int wait_for_running(server *srv, int grace_ms)
{
    int64_t until = mono_ns() + (int64_t)grace_ms * 1000000;
    while (atomic_load(&srv->running) > 0) {
        if (mono_ns() >= until)
            return 0;
        sleep_ms(1);
    }
    return 1;
}

/* Calls that arrive after grpc_server_shutdown_and_notify are cancelled
 * by gRPC 1.51 (CANCELLED, which clients do not retry on another
 * replica), and the GOAWAY it sends is only acted on by a client that
 * polls, so an idle one holds the shutdown up until the grace runs out.
 * Hence the order: no new connections; calls that arrive are answered
 * UNAVAILABLE while those running finish; then the connections are
 * closed under gRPC (each client sees UNAVAILABLE for whatever it sent
 * meanwhile, which was not handled), and only then the server shuts down,
 * with nothing left to wait for. */
void server_stop(server *srv, int grace_ms)
{
    listener_stop(srv->lst);
    atomic_store(&srv->draining, 1);
    if (!wait_for_running(srv, grace_ms))
        log_warn("component=transport msg=\"closing connections with calls still running after "
                 "%d ms\"",
                 grace_ms);
    unsigned closed = listener_disconnect_all(srv->lst);
    log_info("component=transport msg=\"connections closed\" connections=%u", closed);
    atomic_store(&srv->closing, 1);
    grpc_server_shutdown_and_notify(srv->grpc, srv->shutdown_cq, srv);
    grpc_event ev =
        grpc_completion_queue_pluck(srv->shutdown_cq, srv,
                                    gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                                 gpr_time_from_millis(CLOSE_WAIT_MS, GPR_TIMESPAN)),
                                    NULL);
    if (ev.type == GRPC_QUEUE_TIMEOUT) {
        log_warn("component=transport msg=\"cancelling what is left after closing connections\"");
        grpc_server_cancel_all_calls(srv->grpc);
        grpc_completion_queue_pluck(srv->shutdown_cq, srv, gpr_inf_future(GPR_CLOCK_MONOTONIC),
                                    NULL);
    }
    atomic_store(&srv->stopped, 1);
    for (int i = 0; i < srv->nworkers; i++)
        pthread_join(srv->workers[i].thread, NULL);
    grpc_completion_queue_shutdown(srv->shutdown_cq);
    while (grpc_completion_queue_pluck(srv->shutdown_cq, NULL, gpr_inf_future(GPR_CLOCK_MONOTONIC),
                                       NULL)
               .type != GRPC_QUEUE_SHUTDOWN) {
    }
    server_free(srv);
}
