/* The audit trail: a hash-chained log in the keystore database (reserved
 * keystore "grep11AuditTrail"). Entry k holds seq, time, the hash of entry
 * k-1, event, actor and detail (never a secret); its hash is SHA-256 over
 * those bytes. While a master key is loaded each entry also carries an
 * HMAC of its hash under a key derived from the instance's identity root,
 * so a database writer cannot re-compute a consistent chain. A head record
 * names the last entry. Appends are written (synchronously) before the call
 * they record is answered; concurrent appends share one transaction (group
 * commit, see audit_append). */
#ifndef GREP11_CUSTODY_AUDIT_H
#define GREP11_CUSTODY_AUDIT_H

#include <stdint.h>

#include "store.h"

typedef struct audit audit;

CK_RV audit_open(store *st, audit **out);
void audit_close(audit *a);
/* The MAC key (NULL: entries are written without MAC, e.g. while locked). */
void audit_set_key(audit *a, const uint8_t key[32]);
/* Returns once the entry is stored (CKR_OK), or with the error of the
 * batch it was written in (nothing of that batch is then on the chain,
 * unless a COMMIT's outcome was lost). Safe from any number of threads. */
CK_RV audit_append(audit *a, const char *event, const char *actor, const char *detail);

/* An entry that commits in the transaction of the store write it records
 * (store_with.also), so that no write stands without its entry and no
 * entry without its write. audit_tie_begin waits to be the chain's only
 * writer and hands out the store_also to give the write (NULL, with
 * *out NULL, when a is NULL); the entry is event, actor, detail, then the
 * object and version the write made. audit_tie_end, always called once
 * after the write with its outcome (applied: the write was done, not a
 * replay), releases the chain; it returns 1 when the write must be run
 * again with a new tie (another replica moved the head meanwhile; the
 * write was rolled back). */
typedef struct audit_tie audit_tie;
CK_RV audit_tie_begin(audit *a, const char *event, const char *actor, const char *detail,
                      audit_tie **out, const store_also **also);
int audit_tie_end(audit_tie *t, CK_RV rv, int applied);

typedef struct {
    uint64_t entries; /* on the chain */
    uint64_t maced;   /* with a MAC that verified */
    uint64_t unmaced; /* written while no key was loaded */
    uint64_t orphans; /* written but never acknowledged (crash, lost race) */
    /* Objects made since entries name them (tied writes), checked for an
     * entry; those without one; keystores not checked (password). */
    uint64_t objects_checked, objects_unaudited, keystores_unchecked;
    uint64_t head_seq;
    uint8_t head_hash[32];
    char problem[256]; /* "" when the chain is intact */
} audit_report;

/* Walks the whole chain, then every keystore's objects. key NULL: MACs
 * are not checked. CKR_OK with problem[0] set when the log was tampered
 * with, or an object exists that no entry records. */
CK_RV audit_verify(store *st, const uint8_t *key, audit_report *rep);

#endif
