#include "ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096

typedef struct {
    uint64_t peer_hash;
    uint64_t updated_ms;
    double tokens; /* attempts left */
} slot;

struct ratelimit {
    pthread_mutex_t lock;
    unsigned burst;
    unsigned refill_ms;
    slot slots[SLOTS];
};

ratelimit *ratelimit_new(unsigned burst, unsigned refill_ms)
{
    ratelimit *rl = calloc(1, sizeof(*rl));
    if (!rl)
        return NULL;
    pthread_mutex_init(&rl->lock, NULL);
    rl->burst = burst ? burst : 1;
    rl->refill_ms = refill_ms ? refill_ms : 1;
    return rl;
}

void ratelimit_free(ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

/* FNV-1a of the peer's address without its port: a client reconnecting from
 * a new port is the same client. */
static uint64_t peer_hash(const char *peer)
{
    const char *end = strrchr(peer, ':');
    size_t len = end ? (size_t)(end - peer) : strlen(peer);
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)peer[i];
        h *= 1099511628211ull;
    }
    return h ? h : 1;
}

/* Returns the peer's slot with its tokens refilled up to now. */
static slot *lookup(ratelimit *rl, const char *peer, uint64_t now_ms)
{
    uint64_t h = peer_hash(peer);
    slot *s = &rl->slots[h % SLOTS];
    if (s->peer_hash != h) {
        /* An old entry that has fully refilled carries no information. */
        double refilled = s->tokens + (double)(now_ms - s->updated_ms) / rl->refill_ms;
        if (s->peer_hash == 0 || refilled >= rl->burst) {
            s->peer_hash = h;
            s->tokens = rl->burst;
            s->updated_ms = now_ms;
        }
    }
    if (now_ms > s->updated_ms) {
        s->tokens += (double)(now_ms - s->updated_ms) / rl->refill_ms;
        if (s->tokens > rl->burst)
            s->tokens = rl->burst;
        s->updated_ms = now_ms;
    }
    return s;
}

int ratelimit_allow(ratelimit *rl, const char *peer, uint64_t now_ms)
{
    pthread_mutex_lock(&rl->lock);
    int ok = lookup(rl, peer, now_ms)->tokens >= 1.0;
    pthread_mutex_unlock(&rl->lock);
    return ok;
}

void ratelimit_fail(ratelimit *rl, const char *peer, uint64_t now_ms)
{
    pthread_mutex_lock(&rl->lock);
    slot *s = lookup(rl, peer, now_ms);
    s->tokens = s->tokens >= 1.0 ? s->tokens - 1.0 : 0.0;
    pthread_mutex_unlock(&rl->lock);
}
