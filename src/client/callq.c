/* Leader/followers over one completion queue (see callq.h).
 *
 * A follower sleeps on its waiter's state word. The leader that receives a
 * follower's event unlinks it under the lock, then sets DONE and wakes it
 * outside the lock; a leader whose own call completed hands the role to the
 * first waiter by setting LEAD. */
#include <grpc/support/time.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "callq.h"

enum {
    CALLQ_DONE = 1,     /* the call completed; the waiter is off the list */
    CALLQ_LEAD = 2,     /* asked to take over polling */
    CALLQ_SLEEPING = 4, /* its thread is (about to be) in futex_wait */
};

int callq_init(callq *q, int spin_us)
{
    q->spin_us = spin_us;
    q->polling = 0;
    q->waiting = NULL;
    q->nwaiting = 0;
    q->nlinked = 0;
    q->spin_misses = 0;
    q->spin_skips = 0;
    if (pthread_mutex_init(&q->lock, NULL) != 0)
        return -1;
    q->cq = grpc_completion_queue_create_for_next(NULL);
    if (!q->cq) {
        pthread_mutex_destroy(&q->lock);
        return -1;
    }
    return 0;
}

void callq_destroy(callq *q)
{
    grpc_completion_queue_shutdown(q->cq);
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(q->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        /* Only abandoned calls can still be queued here. */
        if (ev.type == GRPC_OP_COMPLETE) {
            callq_waiter *w = ev.tag;
            if (w->on_event)
                w->on_event(w);
            else if (w->abandoned)
                w->release(w);
        }
    }
    grpc_completion_queue_destroy(q->cq);
    pthread_mutex_destroy(&q->lock);
}

void callq_waiter_init(callq_waiter *w, void (*release)(callq_waiter *w))
{
    w->state = 0;
    w->abandoned = 0;
    w->listed = 0;
    w->release = release;
    w->on_event = NULL;
    w->prev = w->next = NULL;
}

/* ---- the list (lock held) ---- */

static void link_waiter(callq *q, callq_waiter *w)
{
    w->listed = 1;
    w->prev = NULL;
    w->next = q->waiting;
    if (q->waiting)
        q->waiting->prev = w;
    q->waiting = w;
    __atomic_store_n(&q->nwaiting, q->nwaiting + 1, __ATOMIC_RELAXED);
    w->seq = q->nlinked + 1;
    __atomic_store_n(&q->nlinked, w->seq, __ATOMIC_RELAXED);
}

static void unlink_waiter(callq *q, callq_waiter *w)
{
    if (!w->listed)
        return;
    w->listed = 0;
    if (w->prev)
        w->prev->next = w->next;
    else
        q->waiting = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
    __atomic_store_n(&q->nwaiting, q->nwaiting - 1, __ATOMIC_RELAXED);
}

/* ---- the state word ---- */

static void futex_wake_one(unsigned *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Sets bits in w's state (lock held); returns whether its thread must be
 * woken (post_wake, after unlocking). Once DONE is set the owner may free w:
 * a late FUTEX_WAKE on a private futex only hashes the address. */
static int post(callq_waiter *w, unsigned bits)
{
    return (__atomic_fetch_or(&w->state, bits, __ATOMIC_ACQ_REL) & CALLQ_SLEEPING) != 0;
}

static void post_wake(callq_waiter *w)
{
    futex_wake_one(&w->state);
}

/* Sleeps until w's state has DONE or LEAD, or `limit` passes. */
static void sleep_until_posted(callq_waiter *w, gpr_timespec limit)
{
    unsigned s = __atomic_load_n(&w->state, __ATOMIC_ACQUIRE);
    while (!(s & (CALLQ_DONE | CALLQ_LEAD))) {
        gpr_timespec left = gpr_time_sub(limit, gpr_now(limit.clock_type));
        if (left.tv_sec < 0)
            return;
        if (!(s & CALLQ_SLEEPING) &&
            !__atomic_compare_exchange_n(&w->state, &s, s | CALLQ_SLEEPING, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue; /* s was reloaded */
        struct timespec rel = {.tv_sec = (time_t)left.tv_sec, .tv_nsec = left.tv_nsec};
        syscall(SYS_futex, &w->state, FUTEX_WAIT_PRIVATE, s | CALLQ_SLEEPING, &rel, NULL, 0);
        s = __atomic_fetch_and(&w->state, ~(unsigned)CALLQ_SLEEPING, __ATOMIC_ACQ_REL) &
            ~(unsigned)CALLQ_SLEEPING;
    }
}

/* ---- polling ---- */

/* Whether w's thread is the connection's only caller just now: it waits
 * alone and nobody has started a call since it did. */
static int lone(const callq *q, const callq_waiter *w)
{
    return __atomic_load_n(&q->nwaiting, __ATOMIC_RELAXED) == 1 &&
           __atomic_load_n(&q->nlinked, __ATOMIC_RELAXED) == w->seq;
}

/* Polls without blocking for up to spin_us while w's thread is the lone
 * caller. A thread that blocks gives its core back, and waking it again when
 * the reply lands costs (on a virtual machine) about as much as the whole
 * round trip: 145-197 -> 72-85 us p50 for one P-256 signature at a time. With
 * other callers the core has better things to do: spinning whenever a
 * waiter happened to be alone cost a third of the throughput at 8 threads. */
static grpc_event spin(callq *q, const callq_waiter *w)
{
    gpr_timespec end =
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_micros(q->spin_us, GPR_TIMESPAN));
    grpc_event ev;
    for (;;) {
        ev = grpc_completion_queue_next(q->cq, gpr_inf_past(GPR_CLOCK_MONOTONIC), NULL);
        if (ev.type != GRPC_QUEUE_TIMEOUT || gpr_time_cmp(gpr_now(GPR_CLOCK_MONOTONIC), end) >= 0 ||
            !lone(q, w))
            return ev;
        /* A thread woken on this core (the server's worker, when both share
         * the machine) runs now instead of at the next scheduler tick:
         * without this, 1 % of calls at two threads took 4 ms. */
        sched_yield();
    }
}

/* Spinning for replies that take longer than spin_us (an RSA signature)
 * only burns the core: after three spins in a row that ended empty, only
 * every 16th call tries again, to notice when replies are quick again. Only the
 * lone caller reads and writes these counters, so relaxed atomics do. */
static int spin_worthwhile(callq *q)
{
    if (__atomic_load_n(&q->spin_misses, __ATOMIC_RELAXED) < 3)
        return 1;
    return __atomic_add_fetch(&q->spin_skips, 1, __ATOMIC_RELAXED) % 16 == 0;
}

static grpc_event spin_counted(callq *q, const callq_waiter *w)
{
    grpc_event ev = spin(q, w);
    if (ev.type == GRPC_OP_COMPLETE)
        __atomic_store_n(&q->spin_misses, 0, __ATOMIC_RELAXED);
    else if (lone(q, w)) /* ended by the clock, not by another caller */
        __atomic_add_fetch(&q->spin_misses, 1, __ATOMIC_RELAXED);
    return ev;
}

void callq_complete(callq *q, callq_waiter *x)
{
    int wake = 0;
    pthread_mutex_lock(&q->lock);
    int gone = x->abandoned;
    if (!gone) {
        unlink_waiter(q, x);
        wake = post(x, CALLQ_DONE);
    }
    pthread_mutex_unlock(&q->lock);
    if (gone)
        x->release(x);
    else if (wake)
        post_wake(x);
}

/* One event: the call's waiter is completed (or released if abandoned). */
static void deliver(callq *q, callq_waiter *x)
{
    if (x->on_event)
        x->on_event(x);
    else
        callq_complete(q, x);
}

/* Leads (q->polling already set by the caller) until w completes or limit
 * passes, then hands the role on. */
static void lead(callq *q, callq_waiter *w, gpr_timespec limit)
{
    while (!(__atomic_load_n(&w->state, __ATOMIC_ACQUIRE) & CALLQ_DONE)) {
        grpc_event ev = {.type = GRPC_QUEUE_TIMEOUT};
        if (q->spin_us > 0 && lone(q, w) && spin_worthwhile(q))
            ev = spin_counted(q, w);
        if (ev.type == GRPC_QUEUE_TIMEOUT)
            ev = grpc_completion_queue_next(q->cq, limit, NULL);
        if (ev.type == GRPC_OP_COMPLETE)
            deliver(q, ev.tag);
        else if (gpr_time_cmp(gpr_now(limit.clock_type), limit) >= 0)
            break;
    }
}

static int is_done(callq_waiter *w)
{
    return (__atomic_load_n(&w->state, __ATOMIC_ACQUIRE) & CALLQ_DONE) != 0;
}

int callq_wait(callq *q, callq_waiter *w, gpr_timespec limit)
{
    pthread_mutex_lock(&q->lock);
    if (!is_done(w)) /* a second wait (after a cancel) may find it done */
        link_waiter(q, w);
    for (;;) {
        if (is_done(w) || gpr_time_cmp(gpr_now(limit.clock_type), limit) >= 0)
            break;
        /* LEAD is only set under the lock: clearing it here loses nothing. */
        __atomic_fetch_and(&w->state, ~(unsigned)CALLQ_LEAD, __ATOMIC_ACQ_REL);
        if (!q->polling) {
            q->polling = 1;
            pthread_mutex_unlock(&q->lock);
            lead(q, w, limit);
            pthread_mutex_lock(&q->lock);
            q->polling = 0;
            continue;
        }
        pthread_mutex_unlock(&q->lock);
        sleep_until_posted(w, limit);
        if (is_done(w))
            return 1; /* unlinked by the leader; not a leader, nothing to hand on */
        pthread_mutex_lock(&q->lock);
    }
    int done = is_done(w);
    unlink_waiter(q, w); /* timed out: still listed */
    /* Leaving without a leader while others wait: make one of them lead. */
    callq_waiter *next = q->polling ? NULL : q->waiting;
    int wake = next && post(next, CALLQ_LEAD);
    pthread_mutex_unlock(&q->lock);
    /* next may be gone by now (a new leader completed it, or it timed out):
     * see post. */
    if (wake)
        post_wake(next);
    return done;
}

int callq_abandon(callq *q, callq_waiter *w)
{
    pthread_mutex_lock(&q->lock);
    int done = is_done(w);
    if (!done)
        w->abandoned = 1;
    pthread_mutex_unlock(&q->lock);
    return done;
}
