/* Per-peer limiter for failed authentication attempts: after `burst`
 * failures a peer must wait, and regains one attempt every `refill_ms`.
 * Fixed memory (a small hash table; a collision merges two peers, which can
 * only make the limit stricter). */
#ifndef GREP11_SERVER_RATELIMIT_H
#define GREP11_SERVER_RATELIMIT_H

#include <stdint.h>

typedef struct ratelimit ratelimit;

ratelimit *ratelimit_new(unsigned burst, unsigned refill_ms);
void ratelimit_free(ratelimit *rl);

/* 1 if `peer` may try now. */
int ratelimit_allow(ratelimit *rl, const char *peer, uint64_t now_ms);
/* Records a failed attempt by `peer`. */
void ratelimit_fail(ratelimit *rl, const char *peer, uint64_t now_ms);

#endif
