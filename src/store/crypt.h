/* Authenticated keystores: password -> scrypt -> HKDF subkeys (verifier,
 * AEAD key, index key); AES-256-GCM rows; HMAC index values; and a small
 * time-bounded cache of derived keys so that each call does not pay the
 * KDF. */
#ifndef GREP11_STORE_CRYPT_H
#define GREP11_STORE_CRYPT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define CRYPT_KEY_LEN 32
#define CRYPT_SALT_LEN 16
#define CRYPT_NONCE_LEN 12
#define CRYPT_TAG_LEN 16
#define CRYPT_SEAL_OVERHEAD (1 + CRYPT_NONCE_LEN + CRYPT_TAG_LEN)

/* Stored with the keystore, so the cost can rise for new keystores without
 * breaking old ones. */
typedef struct kdf_params {
    unsigned char salt[CRYPT_SALT_LEN];
    unsigned log2n, r, p;
} kdf_params;

typedef struct ks_keys {
    unsigned char aead[CRYPT_KEY_LEN];
    unsigned char index[CRYPT_KEY_LEN];
} ks_keys;

/* Which column a sealed value belongs to; part of the AAD so that a blob
 * and an attribute list cannot be swapped. */
enum { CRYPT_FIELD_BLOB = 1, CRYPT_FIELD_ATTRS = 2 };

/* Bounds a (possibly tampered) stored parameter set must satisfy before we
 * spend memory and time on it. */
bool crypt_kdf_params_ok(const kdf_params *kp);

CK_RV crypt_new_kdf_params(unsigned log2n, kdf_params *out);

/* scrypt(pw, salt) -> HKDF(salt = keystore UUID) -> verifier and keys. */
CK_RV crypt_derive(const store_uuid *ks, const kdf_params *kp, const unsigned char *pw,
                   size_t pwlen, unsigned char verifier[CRYPT_KEY_LEN], ks_keys *keys);

/* Index key of a keystore without password: public, so index rows of
 * equal values in different keystores still differ. */
void crypt_public_index_key(const store_uuid *ks, unsigned char key[CRYPT_KEY_LEN]);

/* HMAC-SHA256(key, type as u64 big-endian || value). */
CK_RV crypt_index(const unsigned char key[CRYPT_KEY_LEN], CK_ATTRIBUTE_TYPE type, const void *value,
                  size_t n, unsigned char out[CRYPT_KEY_LEN]);

/* version(1) || nonce || AES-256-GCM(pt) || tag, AAD binding the keystore,
 * object, object version and field. */
CK_RV crypt_seal(const unsigned char key[CRYPT_KEY_LEN], int field, const store_uuid *ks,
                 const store_uuid *obj, uint64_t version, const unsigned char *pt, size_t n,
                 unsigned char **out, size_t *outlen);
/* The reverse; CKR_IBM_GREP11_DBINTERNAL for anything that fails to
 * authenticate. *out is freed with crypt_freezero. */
CK_RV crypt_open(const unsigned char key[CRYPT_KEY_LEN], int field, const store_uuid *ks,
                 const store_uuid *obj, uint64_t version, const unsigned char *in, size_t n,
                 unsigned char **out, size_t *outlen);

void crypt_freezero(void *p, size_t n);

/* ---- key cache (keycache.c) --------------------------------------------- */

typedef struct kc_entry {
    unsigned char id[CRYPT_KEY_LEN];
    ks_keys keys;
    int64_t expires_us; /* 0: empty */
    uint64_t used;      /* keycache.tick at last use: LRU order */
} kc_entry;

typedef struct keycache {
    pthread_mutex_t mu;
    kc_entry *e;
    unsigned n;
    int64_t ttl_us;
    uint64_t tick;
    /* Random per store: cache ids are HMACs of the password under it, so
     * a memory dump does not give a fast hash to brute-force. */
    unsigned char secret[CRYPT_KEY_LEN];
} keycache;

CK_RV keycache_init(keycache *kc, unsigned n, unsigned ttl_s);
void keycache_fini(keycache *kc);
/* The id binds keystore, KDF parameters, verifier and password: a
 * re-created keystore or another password never hits. */
CK_RV keycache_id(const keycache *kc, const store_uuid *ks, const kdf_params *kp,
                  const unsigned char verifier[CRYPT_KEY_LEN], const unsigned char *pw,
                  size_t pwlen, unsigned char id[CRYPT_KEY_LEN]);
bool keycache_get(keycache *kc, const unsigned char id[CRYPT_KEY_LEN], ks_keys *out);
void keycache_put(keycache *kc, const unsigned char id[CRYPT_KEY_LEN], const ks_keys *keys);

#endif
