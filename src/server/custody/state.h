/* The custody state machine. The state is never stored as such: it is the
 * result of replaying the command log from the imprint (genesis) entry, each
 * entry checked against the administrators and threshold in force before
 * it. custody_state_apply is that one step, shared by replay at start and
 * live submission, and touches no secret and no I/O. */
#ifndef GREP11_CUSTODY_STATE_H
#define GREP11_CUSTODY_STATE_H

#include <stdint.h>

#include "command.h"

#define CUSTODY_MAX_PARTS 8

enum { REG_EMPTY = 0, REG_LOADING, REG_COMMITTED };

typedef struct {
    uint8_t instance[16];
    int imprinted;
    uint64_t epoch; /* the epoch the next command must name */
    unsigned threshold;
    custody_admin admins[CUSTODY_MAX_ADMINS];
    size_t nadmins;
    uint8_t chain[32]; /* SHA-256 chain over the canonical commands applied */
    /* current master key */
    int have_current;
    char cur_vp[17];
    /* new register */
    int new_phase;
    int new_shamir;     /* 0: XOR parts, 1: Shamir shares */
    unsigned new_parts; /* parts or shares loaded */
    unsigned new_m;     /* shares needed (Shamir) */
    char new_set[17];   /* Shamir set id */
    char part_vps[CUSTODY_MAX_PARTS][17];
    char new_vp[17]; /* at commit */
    /* previous key, kept for RewrapKeyBlob until grace_until (unix s) */
    int have_prev;
    char prev_vp[17];
    int64_t grace_until;
} custody_state;

/* The genesis command: name "imprint", epoch 0, args {name, pubkey}. */
CK_RV custody_state_genesis(custody_state *s, const custody_cmd *c, const uint8_t *canon,
                            size_t len, char *why, size_t cap);

/* Checks c against s and, if it fits, applies it (epoch + 1, chain). now:
 * unix seconds when it took effect (grace windows). Does not check
 * signatures or instance/epoch binding: see custody_state_check. */
CK_RV custody_state_apply(custody_state *s, const custody_cmd *c, const uint8_t *canon, size_t len,
                          int64_t now, char *why, size_t cap);

/* Instance, epoch and signatures of a command against s. */
CK_RV custody_state_check(const custody_state *s, const custody_cmd *c, const uint8_t *canon,
                          size_t len, const custody_sig *sigs, size_t nsigs, char *why, size_t cap);

/* The admin with this key id, or NULL. */
const custody_admin *custody_state_admin(const custody_state *s, const char *keyid);

#endif
