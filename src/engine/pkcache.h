/* A bounded memo of OpenSSL keys built from key material the engine has
 * already unsealed and verified (README "Key cache").
 *
 * Building an EVP_PKEY is most of the cost of a signature (RSA: Montgomery
 * contexts and blinding; EC: the group; Ed25519: the public key). The memo
 * is keyed by a SHA-256 of the decoded key material, looked up only after
 * the blob holding that material has been unsealed and its tag verified on
 * this call, so it never stands in for a blob check and keeps the engine
 * stateless: a replica without the entry computes the same result. */
#ifndef GREP11_ENGINE_PKCACHE_H
#define GREP11_ENGINE_PKCACHE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define PKCACHE_ID_LEN 32

typedef struct pkcache pkcache;

/* entries is rounded up to a multiple of the set size; 0 gives NULL (off). */
pkcache *pkcache_new(size_t entries);
/* Frees every entry (OpenSSL clears private key numbers when it frees them). */
void pkcache_free(pkcache *c);
/* An up-referenced key the caller frees with EVP_PKEY_free, or NULL. */
EVP_PKEY *pkcache_get(pkcache *c, const uint8_t id[PKCACHE_ID_LEN]);
/* Remembers pk under id (takes a reference of its own; replaces the least
 * recently used entry of its set when the set is full). */
void pkcache_put(pkcache *c, const uint8_t id[PKCACHE_ID_LEN], EVP_PKEY *pk);

/* A context ready to sign with one key: EC keys after EVP_PKEY_sign_init
 * (pctx), EdDSA keys after EVP_DigestSignInit (mctx). Setting one up from
 * the key fetches the algorithm under OpenSSL's process-wide locks on every
 * call; duplicating a ready one does not. Each context holds its own
 * reference to the key. */
typedef struct {
    EVP_PKEY_CTX *pctx;
    EVP_MD_CTX *mctx;
} pkc_signer;

void pkc_signer_free(pkc_signer *s);
/* *dst = a copy of src (both NULL on failure); 1 on success. */
int pkc_signer_dup(pkc_signer *dst, const pkc_signer *src);
/* Like pkcache_get; *sign is a copy of the entry's signing template, or
 * empty when it has none yet (or on a miss). */
EVP_PKEY *pkcache_get_signer(pkcache *c, const uint8_t id[PKCACHE_ID_LEN], pkc_signer *sign);
/* Leaves tmpl (taken over, emptied) as the template of id's entry; freed
 * instead when the entry is gone or already has one. */
void pkcache_put_signer(pkcache *c, const uint8_t id[PKCACHE_ID_LEN], pkc_signer *tmpl);

#endif
