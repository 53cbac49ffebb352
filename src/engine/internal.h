/* Engine internals shared between the engine's files. Not installed; the
 * public interface is engine.h. */
#ifndef GREP11_ENGINE_INTERNAL_H
#define GREP11_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "pkcache.h"

#define ENGINE_WK_LEN 32
#define ENGINE_WKID_LEN 16
#define ENGINE_SUBKEY_LEN 32
#define ENGINE_MAX_RANDOM (1024u * 1024u)

/* One master-key register with the subkeys derived from it. The WK itself
 * is kept only to answer WKID questions and to derive purpose keys. */
typedef struct {
    bool loaded;
    uint8_t wk[ENGINE_WK_LEN];
    uint8_t wkid[ENGINE_WKID_LEN];
    uint8_t k_key_blob[ENGINE_SUBKEY_LEN];   /* AEAD key for key blobs */
    uint8_t k_state_blob[ENGINE_SUBKEY_LEN]; /* AEAD key for state blobs */
    uint8_t k_pub_mac[ENGINE_SUBKEY_LEN];    /* MAC key for MACed SPKIs */
    /* HMAC-SHA256 contexts keyed once with k_key_blob / k_state_blob. Each
     * blob's AEAD key is derived from a duplicate: no algorithm fetch (a
     * lock shared by every thread) and no key schedule per call. Only ever
     * read after loading, which is what concurrent EVP_MAC_CTX_dup needs. */
    EVP_MAC_CTX *kdf_key_blob;
    EVP_MAC_CTX *kdf_state_blob;
} mk_register;

/* What an engine and its view share: the registers and the key cache. */
typedef struct {
    mk_register cur;
    mk_register nxt;
    pkcache *kcache; /* NULL when the policy turns it off */
} engine_domain;

/* An engine is its domain under one policy. engine_create makes two that
 * share one domain: the engine itself, and the view callers get when they
 * may not set CKA_TRUSTED (engine_untrusted_view). Only the first owns. */
struct engine {
    engine_domain *d;
    engine_policy pol; /* defaults already filled in */
    engine *view;      /* the owner: its untrusted view; a view: itself */
    bool owner;
};

/* ---- mkdomain.c ---- */
CK_RV mk_register_load(mk_register *r, const uint8_t wk[ENGINE_WK_LEN]);
/* Frees the register's contexts and wipes it. */
void mk_register_clear(mk_register *r);
/* dst takes src's keys and contexts (dst cleared first, src left empty). */
void mk_register_move(mk_register *dst, mk_register *src);

/* ---- util.c ---- */
/* Moves a malloc'd buffer into an engine_buf (takes ownership). */
void ebuf_set(engine_buf *b, uint8_t *p, size_t len);
/* Allocates len bytes (at least 1) into b; CKR_HOST_MEMORY on failure. */
CK_RV ebuf_alloc(engine_buf *b, size_t len);
/* Copies src into a fresh engine_buf. */
CK_RV ebuf_copy(engine_buf *b, const uint8_t *src, size_t len);
/* Zeroizing free of a plain malloc'd buffer; ok on NULL. */
void engine_freezero(void *p, size_t len);

#endif
