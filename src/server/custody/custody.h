/* Master-key custody inside grep11d (DESIGN §7): the instance's signed
 * administration, key-part loading, locked start and unlock, online rotation
 * with re-wrap, and the audit trail. See docs/internals/custody.md.
 *
 * dispatch.c (rpc_invoke) is the one place that consults it on every call:
 * custody_enter picks the engine for the call (or answers "instance locked")
 * and holds the register lock while the handler runs; custody_after writes
 * the audit entry before the reply leaves. */
#ifndef GREP11_CUSTODY_H
#define GREP11_CUSTODY_H

#include <protobuf-c/protobuf-c.h>

#include "config.h"
#include "custody_codes.h"
#include "engine.h"
#include "rpc.h"
#include "store.h"

struct services;
typedef struct custody custody;

typedef struct {
    int held; /* the read side of the register lock */
} custody_pass;

/* dev_engine non-NULL: development mode (the WK comes from a plain file, the
 * instance is always unlocked, signed commands are refused; the audit trail
 * still runs). Otherwise the instance starts locked. svc must outlive c. */
CK_RV custody_open(const server_config *cfg, struct services *svc, engine *dev_engine,
                   custody **out, char *err, size_t errlen);
void custody_close(custody *c);

/* 1 when the instance serves calls (unlocked; NULL custody: always). */
int custody_unlocked(custody *c);

/* ---- dispatch hooks (NULL custody: no-ops) ----------------------------- */
CK_RV custody_enter(custody *c, rpc_ctx *ctx, custody_pass *p);
/* Refuses requests naming a reserved keystore. */
CK_RV custody_check_request(custody *c, rpc_ctx *ctx, const ProtobufCMessage *msg);
/* After a handler failed with rv: 1 when the call should run again on the
 * engine now in ctx->eng (a blob under the committed new key). */
int custody_retry(custody *c, rpc_ctx *ctx, CK_RV rv);
/* Audits a successful key-lifecycle call (a failure to audit fails it). */
CK_RV custody_after(custody *c, rpc_ctx *ctx, const ProtobufCMessage *msg, CK_RV rv);
void custody_leave(custody *c, custody_pass *p);

/* A grep11.Store write and its audit entry commit in one transaction:
 * custody_tie_begin (before the write) hands out the store_also to give
 * it (NULL: no audit trail, or a call that is not audited);
 * custody_tie_end (always, after) takes the write's outcome (applied: done,
 * not a replay) and returns 1 when the write must be run again with a new
 * tie (the chain's head moved; the write was rolled back). custody_after
 * then writes no second entry. */
#define CUSTODY_ACTOR_MAX (AUTH_MAX_PRINCIPAL + 40)
#define CUSTODY_DETAIL_MAX 300
typedef struct {
    struct audit_tie *tie;
    char actor[CUSTODY_ACTOR_MAX], detail[CUSTODY_DETAIL_MAX];
} custody_tie;
CK_RV custody_tie_begin(custody *c, rpc_ctx *ctx, custody_tie *t, const store_also **also);
int custody_tie_end(custody *c, rpc_ctx *ctx, custody_tie *t, CK_RV rv, int applied);

/* An object just read from a password-protected keystore with its
 * password: during a rotation or a grace window, a blob under the outgoing
 * master key is re-wrapped, written back (version + 1) and audited, and o
 * then holds the stored result. The re-wrap worker cannot do this: those
 * rows are sealed under a key derived from the password, which the server
 * does not keep. Called by a handler, which holds the register lock
 * (custody_enter). A lost update race is not an error (the next read
 * tries again). */
CK_RV custody_rewrap_on_read(custody *c, store *st, const store_uuid *ks, const store_password *pw,
                             store_object *o);

/* Offline imprint (grep11ctl custody imprint): writes the genesis entry to
 * the database and the anchor file to data_dir. */
CK_RV custody_imprint_offline(const server_config *cfg, const uint8_t *spki, size_t spki_len,
                              const char *name, uint8_t instance[16], char *err, size_t errlen);

#endif
