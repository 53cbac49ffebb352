/* What handlers share besides the engine: the keystore database, the
 * identity directory, the token key and the authentication policy. Built
 * once at start-up; its mutable parts (revocation cache, rate limiter) lock
 * themselves. */
#ifndef GREP11_SERVER_SERVICES_H
#define GREP11_SERVER_SERVICES_H

#include <pthread.h>
#include <stdint.h>

#include "auth.h"
#include "config.h"
#include "directory.h"
#include "engine.h"
#include "ratelimit.h"
#include "rpc.h"
#include "store.h"

#define REVOCATION_REFRESH_S 5
/* How old the revoked list may grow while the directory cannot be read
 * before authenticated calls are refused (CKR_DEVICE_ERROR, retry): a
 * revocation made on another replica meanwhile would otherwise go unseen. */
#define REVOCATION_STALE_S 300

struct custody;

typedef struct services {
    engine *eng; /* development mode; NULL under custody (see custody->cur_eng) */
    store *st;
    directory *dir;
    auth_token_key *token_key; /* NULL while custody is locked */
    uint32_t token_ttl_s;
    int auth_enabled;
    char instance_id[128]; /* "": calls may name any bluemix-instance */
    ratelimit *rl;         /* failed token requests, per client address */
    ratelimit *prepare_rl; /* grep11.Custody/Prepare, which needs no token */
    /* Revoked key ids, reloaded from the directory every few seconds by a
     * thread of their own (never inside a call: a database that hangs must
     * not stop calls that need no database), so a revocation on another
     * replica takes effect within that time, and at once on the replica
     * that revoked. A list older than REVOCATION_STALE_S is not trusted. */
    pthread_mutex_t rev_lock;
    uint8_t (*revoked)[AUTH_KEY_ID_LEN];
    size_t nrevoked;
    uint64_t rev_loaded_s;    /* CLOCK_MONOTONIC seconds of the last good reload; 0: none */
    pthread_mutex_t dir_lock; /* the reloader's use of dir against its replacement */
    pthread_cond_t rev_wake;
    pthread_t rev_thread;
    int rev_thread_started;
    int rev_stop;
    int rev_kick;
    /* Whether the keystore database answered the reloader's last look
     * (revocations.c), for health and readiness without a query of their
     * own: a probe that hangs would make them hang too. */
    int store_ok;
    uint64_t store_checked_s; /* CLOCK_MONOTONIC seconds */
    struct custody *cust;     /* master-key custody and audit (custody/custody.h) */
} services;

CK_RV services_open(const server_config *cfg, engine *eng, services **out, char *err,
                    size_t errlen);
void services_close(services *svc);

/* Custody mode: services open without an engine (locked); the token and
 * directory keys arrive at unlock and leave at zeroize. */
CK_RV services_set_identity(services *svc, const uint8_t token_key[32], const uint8_t dir_key[32]);
void services_clear_identity(services *svc);

/* Checks the caller of ctx->method: token, revocation, certificate binding
 * and role. Sets ctx->who on success. */
CK_RV services_authorize(services *svc, rpc_ctx *ctx);

/* Adds a key id to the local revocation list at once. */
void services_note_revoked(services *svc, const uint8_t key_id[AUTH_KEY_ID_LEN]);
/* revocations.c: the reloader thread (started by services_open, stopped by
 * services_close) and one reload now (a failed one keeps the last list). */
CK_RV services_revocations_start(services *svc);
void services_revocations_stop(services *svc);
void services_revocations_reload(services *svc);
/* 1 when the keystore database answered within the last few reloads. */
int services_store_ok(services *svc);
/* 1: revoked; 0: not; -1: unknown (the list is older than
 * REVOCATION_STALE_S). Reads memory only: the list is reloaded by a thread. */
int services_is_revoked(services *svc, const uint8_t key_id[AUTH_KEY_ID_LEN]);

#endif
