/* State blobs of multi-part operations. Payload layout (inside the AEAD):
 *   format u8 (1) | op u8 | mechanism u64 | operation id u64 | body
 * The body is the operation's own serialization (digest.c, cipher.c, mac.c). */
#ifndef GREP11_ENGINE_STATE_H
#define GREP11_ENGINE_STATE_H

#include "blob.h"
#include "buf.h"
#include "internal.h"

typedef enum { OP_DIGEST = 1, OP_ENCRYPT, OP_DECRYPT, OP_SIGN, OP_VERIFY } op_kind;

/* Writer for a new state: fills the header; the caller appends the body. */
void state_begin(wbuf *w, op_kind op, CK_MECHANISM_TYPE mech, uint64_t op_id);
/* Seals what was written (and frees w). */
CK_RV state_seal(const engine *e, wbuf *w, engine_buf *out);
/* A fresh random operation id. */
uint64_t state_new_id(void);

typedef struct {
    op_kind op;
    CK_MECHANISM_TYPE mech;
    uint64_t op_id;
    uint8_t *payload; /* owned; state_close wipes it */
    size_t plen;
    rbuf body;
} state_in;

/* Unseals and checks the operation kind: a damaged or foreign state is
 * CKR_SAVED_STATE_INVALID (another WKID: CKR_IBM_WKID_MISMATCH), a state of
 * another kind of operation is CKR_OPERATION_NOT_INITIALIZED. */
CK_RV state_open(const engine *e, engine_bytes blob, op_kind expect, state_in *st);
void state_close(state_in *st);

/* Largest state we write (GCM decrypt buffers ciphertext). */
#define STATE_MAX (BLOB_MAX_PAYLOAD)

#endif
