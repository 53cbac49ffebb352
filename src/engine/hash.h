/* Serializable hash states: SHA-1, SHA-2 (OpenSSL's low-level contexts,
 * whose fields we copy out one by one) and SHA-3 (src/pqc's Keccak sponge,
 * whose lanes we write out little-endian). */
#ifndef GREP11_ENGINE_HASH_H
#define GREP11_ENGINE_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/sha.h>

#include "buf.h"
#include "pqc.h"

typedef enum {
    H_NONE = 0,
    H_SHA1,
    H_SHA224,
    H_SHA256,
    H_SHA384,
    H_SHA512,
    H_SHA512_224,
    H_SHA512_256,
    H_SHA3_224,
    H_SHA3_256,
    H_SHA3_384,
    H_SHA3_512,
    H_SHAKE128, /* 32-byte output (FIPS 204 HashML-DSA) */
    H_SHAKE256, /* 64-byte output */
    H_COUNT
} hashid;

#define HASH_MAX_LEN 64
#define HASH_MAX_BLOCK 144

typedef struct {
    hashid alg;
    union {
        SHA_CTX s1;
        SHA256_CTX s256;
        SHA512_CTX s512;
        keccak_state s3; /* src/pqc sponge: plain struct, no pointers */
    } u;
} hash_ctx;

size_t hash_len(hashid a);
/* OpenSSL digest name ("SHA256", "SHA3-256"), NULL for SHAKE/none. */
const char *hash_ossl_name(hashid a);
size_t hash_block(hashid a);
bool hash_init(hash_ctx *c, hashid a);
void hash_update(hash_ctx *c, const uint8_t *p, size_t n);
/* Writes hash_len() bytes and wipes the context. */
void hash_final(hash_ctx *c, uint8_t *out);
void hash_wipe(hash_ctx *c);
bool hash_oneshot(hashid a, const uint8_t *p, size_t n, uint8_t *out);
/* Running state to bytes and back; load validates every field. */
void hash_save(const hash_ctx *c, wbuf *w);
bool hash_load(hash_ctx *c, rbuf *r);

#endif
