/* Bounded byte readers and capped writers for everything the engine
 * serializes (blobs, attributes, states, mechanism parameters). No parse in
 * the engine does raw pointer arithmetic on untrusted bytes. */
#ifndef GREP11_ENGINE_BUF_H
#define GREP11_ENGINE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reader: a window over borrowed bytes. Any read past the end sets err and
 * returns zeros, so a parse can read everything and check err once. */
typedef struct {
    const uint8_t *p;
    size_t len, off;
    bool err;
} rbuf;

void rbuf_init(rbuf *r, const uint8_t *p, size_t len);
size_t rbuf_left(const rbuf *r);
uint8_t rbuf_u8(rbuf *r);
uint16_t rbuf_u16(rbuf *r);
uint32_t rbuf_u32(rbuf *r);
uint64_t rbuf_u64(rbuf *r);
/* Returns a pointer to the next n bytes (borrowed) or NULL (and err). */
const uint8_t *rbuf_ptr(rbuf *r, size_t n);
bool rbuf_copy(rbuf *r, void *dst, size_t n);
/* A u32 length prefix then that many bytes, at most max. */
const uint8_t *rbuf_lv(rbuf *r, size_t max, size_t *n);
bool rbuf_done(const rbuf *r); /* no error and nothing left */

/* Writer: a growing heap buffer with a hard cap; overflow or allocation
 * failure sets err. Freed with zeroization (it may hold secrets). */
typedef struct {
    uint8_t *p;
    size_t len, cap, max;
    bool err;
} wbuf;

void wbuf_init(wbuf *w, size_t max);
void wbuf_free(wbuf *w);
void wbuf_u8(wbuf *w, uint8_t v);
void wbuf_u16(wbuf *w, uint16_t v);
void wbuf_u32(wbuf *w, uint32_t v);
void wbuf_u64(wbuf *w, uint64_t v);
void wbuf_put(wbuf *w, const void *src, size_t n);
void wbuf_lv(wbuf *w, const void *src, size_t n); /* u32 length prefix */
/* Reserves n bytes and returns where to write them (NULL on error). */
uint8_t *wbuf_reserve(wbuf *w, size_t n);
/* Hands the bytes to the caller (who frees with engine_freezero). */
uint8_t *wbuf_take(wbuf *w, size_t *len);

#endif
