/* Bounded byte buffers for the custody encodings: a growable writer with a
 * hard cap and a reader that never reads past its end. Every length-prefixed
 * field is a u32 big-endian length followed by that many bytes. */
#ifndef GREP11_CUSTODY_BYTES_H
#define GREP11_CUSTODY_BYTES_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *p;
    size_t len, cap, max;
    int err;
} cw_buf;

typedef struct {
    const uint8_t *p;
    size_t len, off;
    int err;
} cr_buf;

void cw_init(cw_buf *w, size_t max);
void cw_free(cw_buf *w); /* wipes */
void cw_put(cw_buf *w, const void *d, size_t n);
void cw_u8(cw_buf *w, uint8_t v);
void cw_u32(cw_buf *w, uint32_t v);
void cw_u64(cw_buf *w, uint64_t v);
void cw_lv(cw_buf *w, const void *d, size_t n); /* u32 length + bytes */
void cw_str(cw_buf *w, const char *s);          /* cw_lv of a C string */

void cr_init(cr_buf *r, const uint8_t *p, size_t len);
uint8_t cr_u8(cr_buf *r);
uint32_t cr_u32(cr_buf *r);
uint64_t cr_u64(cr_buf *r);
const uint8_t *cr_ptr(cr_buf *r, size_t n);
/* A length-prefixed field of at most max bytes; sets *n. */
const uint8_t *cr_lv(cr_buf *r, size_t max, size_t *n);
/* Copies a length-prefixed text field (no NUL inside) into out[cap]. */
int cr_str(cr_buf *r, char *out, size_t cap);
int cr_done(const cr_buf *r); /* no error and nothing left */

/* Lower-case hex; hex_decode returns the byte count or -1. */
void hex_encode(const uint8_t *in, size_t n, char *out /* 2n+1 */);
long hex_decode(const char *in, uint8_t *out, size_t cap);

/* First 8 bytes of SHA-256(d), as 16 hex characters: the verification
 * pattern shown for key parts, shares, keys and administrators' keys. */
void custody_vp(const uint8_t *d, size_t n, char out[17]);
void custody_sha256(const uint8_t *d, size_t n, uint8_t out[32]);

#endif
