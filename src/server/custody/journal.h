/* Custody records in the keystore database, in a reserved keystore the
 * Store service never exposes (like the identity directory), so replicas
 * share them: the signed command log, nonces, sealed keys (vault), the
 * keystore registry and re-wrap progress. Plus the anchor file that pins the
 * genesis entry on each host. */
#ifndef GREP11_CUSTODY_JOURNAL_H
#define GREP11_CUSTODY_JOURNAL_H

#include "state.h"
#include "store.h"

/* "grep11CustodyLog" and "grep11AuditTrail". */
extern const store_uuid custody_keystore;
extern const store_uuid audit_keystore;

#define CUSTODY_ANCHOR_FILE "custody-anchor"
#define CUSTODY_NONCE_TTL_S (24 * 3600)
/* Outstanding nonces kept at most: Prepare needs no credentials, so what
 * it writes is bounded (the oldest is evicted; expired ones are purged). */
#define CUSTODY_MAX_NONCES 64

CK_RV journal_init(store *st);

/* ---- generic named records: kind (CKA_LABEL) + id (CKA_ID) ---------- */
CK_RV journal_put(store *st, const char *kind, const void *id, size_t idlen, const uint8_t *blob,
                  size_t len);
/* *blob malloc'd (free); CKR_GREP11_MISSING when absent. */
CK_RV journal_get(store *st, const char *kind, const void *id, size_t idlen, uint8_t **blob,
                  size_t *len);
CK_RV journal_del(store *st, const char *kind, const void *id, size_t idlen);
/* Calls fn for every record of a kind (any order); stops on non-OK. */
typedef CK_RV (*journal_fn)(void *arg, const uint8_t *id, size_t idlen, const uint8_t *blob,
                            size_t len);
CK_RV journal_each(store *st, const char *kind, journal_fn fn, void *arg);

/* ---- the command log ---------------------------------------------- */
/* Writes the entry for epoch if and only if there is none (atomic across
 * replicas); CKR_IBM_GREP11_CONFLICT when another writer was first. */
CK_RV journal_append(store *st, uint64_t epoch, int64_t when, const uint8_t *canon, size_t len,
                     const custody_sig *sigs, size_t nsigs);
/* Replays the whole log into *out. anchor (32 bytes) pins the genesis
 * entry. CKR_GREP11_MISSING: no log (not imprinted). */
CK_RV journal_replay(store *st, const uint8_t anchor[32], custody_state *out, char *why,
                     size_t cap);
/* The same, calling fn with each entry's command and the state after it
 * (the epoch it named is after->epoch - 1); a non-OK return stops it. */
typedef CK_RV (*journal_step_fn)(void *arg, const custody_cmd *cmd, const custody_state *after);
CK_RV journal_replay_steps(store *st, const uint8_t anchor[32], custody_state *out, char *why,
                           size_t cap, journal_step_fn fn, void *arg);
/* CKR_OK when the log holds an entry for epoch, CKR_GREP11_MISSING if not:
 * one indexed lookup, cheap enough to poll. */
CK_RV journal_has(store *st, uint64_t epoch);
/* Writes the genesis entry for a new instance; fills instance and the
 * anchor hash. CKR_IBM_GREP11_CONFLICT when the log exists already. */
CK_RV journal_imprint(store *st, const uint8_t *spki, size_t spki_len, const char *name,
                      uint8_t instance[16], uint8_t anchor[32]);

/* ---- nonces ---------------------------------------------------------- */
CK_RV journal_nonce_new(store *st, uint8_t nonce[16]);
/* Consumes a nonce; CKR_GREP11_STALE_COMMAND if unknown, used or expired. */
CK_RV journal_nonce_take(store *st, const uint8_t nonce[16]);

/* ---- anchor file: "<instance hex> <genesis hash hex>\n", 0644 ---------- */
int anchor_write(const char *data_dir, const uint8_t instance[16], const uint8_t hash[32]);
/* 0 found, 1 absent, -1 damaged. */
int anchor_read(const char *data_dir, uint8_t instance[16], uint8_t hash[32]);

#endif
