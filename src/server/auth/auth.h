/* Identities: API keys, bearer tokens, roles and grants (DESIGN §4).
 *
 * An API key is "g11k_<id>.<secret>": the id (public, 12 random bytes) finds
 * the record, the secret (32 random bytes) is checked against a slow scrypt
 * hash. Only the hash is ever stored; the key is shown once.
 *
 * A bearer token is "g11t1.<payload>.<mac>" (base64url), HMAC-SHA256 under a
 * key derived from the master key, so every replica holding the same master
 * key verifies it without a lookup. It carries the key id, principal, roles,
 * grants, an optional certificate binding and the expiry. */
#ifndef GREP11_SERVER_AUTH_H
#define GREP11_SERVER_AUTH_H

#include <p11-kit/pkcs11.h>
#include <stddef.h>
#include <stdint.h>

#include "grep11/ck_ext.h"

/* Roles (bit flags). */
#define AUTH_ROLE_CRYPTO 0x01u
#define AUTH_ROLE_KEYSTORE_SO 0x02u
#define AUTH_ROLE_KEYSTORE_USER 0x04u
#define AUTH_ROLE_KEYSTORE_ANONYMOUS 0x08u
#define AUTH_ROLE_ADMIN 0x10u
#define AUTH_ROLE_ALL 0x1fu

#define AUTH_KEY_ID_LEN 12
#define AUTH_SECRET_LEN 32
#define AUTH_MAX_GRANTS 32
#define AUTH_MAX_PRINCIPAL 64
#define AUTH_MAX_CERT_ID 128
#define AUTH_API_KEY_MAX 128 /* text form, with NUL */
#define AUTH_TOKEN_MAX 2048  /* text form, with NUL */

/* Who a verified token speaks for. */
typedef struct {
    uint8_t key_id[AUTH_KEY_ID_LEN];
    char principal[AUTH_MAX_PRINCIPAL + 1];
    uint32_t roles;
    uint8_t grants[AUTH_MAX_GRANTS][16]; /* keystore UUIDs */
    size_t ngrants;
    char cert_identity[AUTH_MAX_CERT_ID + 1]; /* "" = not bound */
    uint64_t expires_at;                      /* unix seconds */
} auth_identity;

/* Role names <-> bits ("crypto", "keystore-so", ...). */
int auth_role_parse(const char *name, uint32_t *bit);
const char *auth_role_name(uint32_t bit);

/* ---- API keys ------------------------------------------------------- */

/* Makes a new API key: text form for the user (shown once), its id, and the
 * record to store (salt + scrypt hash). */
typedef struct {
    uint8_t key_id[AUTH_KEY_ID_LEN];
    uint8_t salt[16];
    uint8_t hash[32];
} auth_key_record;

CK_RV auth_apikey_generate(char text[AUTH_API_KEY_MAX], auth_key_record *rec);

/* Splits a presented key into id and secret; CKR_IBM_GREP11_NOT_AUTHENTICATED
 * if it is not in the right form. The secret is wiped by the caller. */
CK_RV auth_apikey_parse(const char *text, uint8_t key_id[AUTH_KEY_ID_LEN],
                        uint8_t secret[AUTH_SECRET_LEN]);

/* Checks a secret against a stored record in constant time (after the slow
 * hash). CKR_OK or CKR_IBM_GREP11_NOT_AUTHENTICATED. */
CK_RV auth_apikey_verify(const auth_key_record *rec, const uint8_t secret[AUTH_SECRET_LEN]);

/* ---- tokens --------------------------------------------------------- */

/* The token key, HMAC-SHA256 keyed once: every call verifies a token, and
 * keying a fresh HMAC each time costs an algorithm fetch under OpenSSL's
 * process-wide locks. Read-only once made, so threads share it. */
typedef struct auth_token_key auth_token_key;

/* NULL when out of memory. Freeing wipes the key. */
auth_token_key *auth_token_key_new(const uint8_t key[32]);
void auth_token_key_free(auth_token_key *k);

CK_RV auth_token_issue(const auth_token_key *k, const auth_identity *id, char out[AUTH_TOKEN_MAX]);

/* Verifies MAC (constant time), format and expiry against `now`. A NULL
 * key (custody instance locked) verifies nothing. */
CK_RV auth_token_verify(const auth_token_key *k, const char *token, uint64_t now,
                        auth_identity *out);

/* ---- base64url (no padding) ----------------------------------------- */
size_t auth_b64url_encode(const uint8_t *in, size_t len, char *out, size_t cap);
/* Returns the decoded length, or (size_t)-1 on bad input or overflow. */
size_t auth_b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap);

#endif
