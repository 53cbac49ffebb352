/* Signed custody commands: the canonical encoding administrators sign, its
 * strict decoder (fuzzed), administrators' public keys and the signature and
 * threshold checks.
 *
 * Canonical encoding (every field length-prefixed, u32 big-endian):
 *   lv("grep11-custody-command-v1") lv(instance id, 16) u64 epoch
 *   lv(nonce, 16) lv(command name) u32 nargs { lv(key) lv(value) }*
 * Names and keys are [a-z0-9-]{1,31}; values printable ASCII (<= 1024
 * bytes); keys strictly ascending, so one command has one encoding. A
 * signature covers exactly these bytes. */
#ifndef GREP11_CUSTODY_COMMAND_H
#define GREP11_CUSTODY_COMMAND_H

#include <p11-kit/pkcs11.h>
#include <stddef.h>
#include <stdint.h>

#include "custody_codes.h"

#define CUSTODY_MAGIC "grep11-custody-command-v1"
#define CUSTODY_MAX_ARGS 16
#define CUSTODY_MAX_NAME 31
#define CUSTODY_MAX_VALUE 1024
#define CUSTODY_MAX_CMD 24576
#define CUSTODY_MAX_SIGS 16
#define CUSTODY_MAX_SIG 160
#define CUSTODY_MAX_SPKI 160
#define CUSTODY_MAX_ADMINS 16

typedef struct {
    char key[CUSTODY_MAX_NAME + 1];
    char val[CUSTODY_MAX_VALUE + 1];
} custody_arg;

typedef struct {
    uint8_t instance[16];
    uint64_t epoch;
    uint8_t nonce[16];
    char name[CUSTODY_MAX_NAME + 1];
    custody_arg args[CUSTODY_MAX_ARGS];
    size_t nargs;
} custody_cmd;

/* Encodes c (its args in any order; duplicates refused). *out: free(). */
CK_RV custody_cmd_encode(const custody_cmd *c, uint8_t **out, size_t *len);
/* Strict decode: CKR_ARGUMENTS_BAD for anything but a canonical encoding. */
CK_RV custody_cmd_decode(const uint8_t *p, size_t len, custody_cmd *out);
const char *custody_cmd_arg(const custody_cmd *c, const char *key);
CK_RV custody_cmd_set(custody_cmd *c, const char *key, const char *val);

/* ---- administrators' keys ------------------------------------------- */
#define CUSTODY_ALG_P256 1
#define CUSTODY_ALG_ED25519 2

typedef struct {
    char keyid[17]; /* hex of SHA-256(SPKI)[0..8] */
    char name[65];
    int alg;
    uint8_t spki[CUSTODY_MAX_SPKI];
    size_t spki_len;
} custody_admin;

/* Parses a P-256 or Ed25519 SubjectPublicKeyInfo; fills keyid and alg. */
CK_RV custody_admin_from_spki(const uint8_t *spki, size_t len, const char *name,
                              custody_admin *out);
const char *custody_alg_name(int alg);

typedef struct {
    char keyid[17];
    uint8_t sig[CUSTODY_MAX_SIG];
    size_t len;
} custody_sig;

/* 1 when sig is a valid signature by a over msg (ECDSA-SHA256 / Ed25519). */
int custody_sig_verify(const custody_admin *a, const uint8_t *msg, size_t len, const uint8_t *sig,
                       size_t siglen);

/* Checks the signatures on msg against the installed administrators: every
 * signature must come from a distinct installed administrator and verify,
 * and at least threshold must be present. On failure returns
 * CKR_GREP11_SIGNATURES with a one-line reason in why. */
CK_RV custody_check_sigs(const custody_admin *admins, size_t nadmins, unsigned threshold,
                         const uint8_t *msg, size_t len, const custody_sig *sigs, size_t nsigs,
                         char *why, size_t cap);

#endif
