/* One completion queue shared by every thread that waits for a call of a
 * connection, polled by one of them at a time (leader/followers).
 *
 * Why: with a queue per call each waiting thread is a gRPC poller, and gRPC
 * hands its poller role from thread to thread on every wake-up; on a small
 * machine those wake-ups cost more than the rest of the client side of a
 * call. Here the leader polls and completes other threads' calls as their
 * events arrive (one wake-up each, made outside any lock so the woken thread
 * does not sleep again on it); the role passes on only when the leader's own
 * call completes. No thread is inside gRPC while no call is in flight, so
 * fork() keeps working as before. */
#ifndef GREP11_CLIENT_CALLQ_H
#define GREP11_CLIENT_CALLQ_H

#include <grpc/grpc.h>
#include <pthread.h>

typedef struct callq_waiter callq_waiter;

typedef struct {
    grpc_completion_queue *cq;
    pthread_mutex_t lock;   /* guards polling, waiting, nwaiting, abandoned */
    int polling;            /* a leader is polling the queue */
    callq_waiter *waiting;  /* threads whose call has not completed */
    int nwaiting;           /* length of `waiting` (read without the lock) */
    unsigned long nlinked;  /* waiters ever linked (read without the lock) */
    int spin_us;            /* a lone waiter polls this long before blocking */
    unsigned spin_misses;   /* spins in a row that ended without a reply */
    unsigned spin_skips;    /* calls that did not spin since then */
} callq;

/* What a call's batch is tagged with. A waiter that gave up is `abandoned`:
 * whoever receives its event later runs `release` instead of waking it.
 * A tag with `on_event` is not waited on: whoever receives its event runs
 * on_event, which completes the waiters it stands for (callq_complete). */
struct callq_waiter {
    unsigned state; /* CALLQ_* bits, atomic; the futex word its thread sleeps on */
    int abandoned;
    int listed; /* on q->waiting (lock held to read or change) */
    unsigned long seq; /* q->nlinked when it was linked */
    void (*release)(callq_waiter *w);
    void (*on_event)(callq_waiter *w);
    callq_waiter *prev, *next;
};

int callq_init(callq *q, int spin_us);
/* Shuts the queue down and drains it; no call may be in flight. */
void callq_destroy(callq *q);

void callq_waiter_init(callq_waiter *w, void (*release)(callq_waiter *w));
/* Waits until w's batch completed (returns 1) or `limit` passed (0). */
int callq_wait(callq *q, callq_waiter *w, gpr_timespec limit);
/* After a timed-out callq_wait: w's event may still come. Returns 1 if it
 * already came (w is the caller's again); else w is handed to the queue,
 * which runs w->release when the event arrives (0). */
int callq_abandon(callq *q, callq_waiter *w);
/* Completes w as if its own event had arrived: wakes its thread, or runs
 * release if it was abandoned. */
void callq_complete(callq *q, callq_waiter *w);

#endif
