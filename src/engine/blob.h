/* Sealed blobs, format v1 (see README.md "Blob format v1"). */
#ifndef GREP11_ENGINE_BLOB_H
#define GREP11_ENGINE_BLOB_H

#include "internal.h"

typedef enum { BLOB_KEY = 1, BLOB_STATE = 2 } blob_type;

/* Why an unseal failed. Callers map the class to a CK_RV with
 * blob_key_rv() / blob_state_rv(). */
typedef enum {
    BLOB_OK = 0,
    BLOB_E_MALFORMED, /* too short, bad magic, bad lengths, trailing bytes */
    BLOB_E_VERSION,   /* a version this engine does not know */
    BLOB_E_TYPE,      /* a key blob where a state is expected, or the reverse */
    BLOB_E_WKID,      /* sealed under another master key */
    BLOB_E_AUTH,      /* AEAD tag does not verify: some bit was changed */
    BLOB_E_NOMEM,
} blob_err;

#define BLOB_MAX_ATTRS 4096u
#define BLOB_MAX_PAYLOAD (160u * 1024 * 1024)

/* Seals payload with the register's subkey for type; attrs travel in clear
 * but authenticated. */
CK_RV blob_seal(const mk_register *r, blob_type type, const uint8_t *attrs, size_t alen,
                const uint8_t *payload, size_t plen, engine_buf *out);

/* Verifies and opens a blob. On success *attrs points into blob and
 * *payload is a fresh buffer the caller frees with engine_freezero. */
blob_err blob_unseal(const mk_register *r, blob_type expect, const uint8_t *blob, size_t len,
                     const uint8_t **attrs, size_t *alen, uint8_t **payload, size_t *plen);

CK_RV blob_key_rv(blob_err err);
CK_RV blob_state_rv(blob_err err);

#endif
