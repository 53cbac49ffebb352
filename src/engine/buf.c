/* Bounded reader and capped writer (see buf.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "buf.h"

void rbuf_init(rbuf *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = p ? len : 0;
    r->off = 0;
    r->err = false;
}

size_t rbuf_left(const rbuf *r)
{
    return r->err ? 0 : r->len - r->off;
}

const uint8_t *rbuf_ptr(rbuf *r, size_t n)
{
    const uint8_t *q;
    if (r->err || n > r->len - r->off) {
        r->err = true;
        return NULL;
    }
    q = r->p + r->off;
    r->off += n;
    return q;
}

bool rbuf_copy(rbuf *r, void *dst, size_t n)
{
    const uint8_t *q = rbuf_ptr(r, n);
    if (q == NULL) {
        memset(dst, 0, n);
        return false;
    }
    if (n > 0)
        memcpy(dst, q, n);
    return true;
}

static uint64_t rbuf_be(rbuf *r, size_t n)
{
    const uint8_t *q = rbuf_ptr(r, n);
    uint64_t v = 0;
    if (q == NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | q[i];
    return v;
}

uint8_t rbuf_u8(rbuf *r)
{
    return (uint8_t)rbuf_be(r, 1);
}
uint16_t rbuf_u16(rbuf *r)
{
    return (uint16_t)rbuf_be(r, 2);
}
uint32_t rbuf_u32(rbuf *r)
{
    return (uint32_t)rbuf_be(r, 4);
}
uint64_t rbuf_u64(rbuf *r)
{
    return rbuf_be(r, 8);
}

const uint8_t *rbuf_lv(rbuf *r, size_t max, size_t *n)
{
    uint32_t l = rbuf_u32(r);
    *n = 0;
    if (r->err || l > max) {
        r->err = true;
        return NULL;
    }
    *n = l;
    if (l == 0)
        return r->p ? r->p + r->off : (const uint8_t *)"";
    return rbuf_ptr(r, l);
}

bool rbuf_done(const rbuf *r)
{
    return !r->err && r->off == r->len;
}

void wbuf_init(wbuf *w, size_t max)
{
    memset(w, 0, sizeof(*w));
    w->max = max;
}

void wbuf_free(wbuf *w)
{
    if (w->p != NULL) {
        OPENSSL_cleanse(w->p, w->cap);
        free(w->p);
    }
    memset(w, 0, sizeof(*w));
}

uint8_t *wbuf_reserve(wbuf *w, size_t n)
{
    uint8_t *q;
    if (w->err || n > w->max - w->len) {
        w->err = true;
        return NULL;
    }
    if (w->p == NULL || w->len + n > w->cap) {
        /* Grow by copying into a fresh buffer so old copies of secrets are
         * wiped rather than left behind by realloc. */
        size_t ncap = w->cap ? w->cap : 256;
        uint8_t *np;
        while (ncap < w->len + n)
            ncap = ncap > w->max / 2 ? w->max : ncap * 2;
        if (ncap > w->max && w->max >= w->len + n)
            ncap = w->max > 0 ? w->max : 1;
        np = malloc(ncap);
        if (np == NULL) {
            w->err = true;
            return NULL;
        }
        if (w->p != NULL) {
            memcpy(np, w->p, w->len);
            OPENSSL_cleanse(w->p, w->cap);
            free(w->p);
        }
        w->p = np;
        w->cap = ncap;
    }
    q = w->p + w->len;
    w->len += n;
    return q;
}

void wbuf_put(wbuf *w, const void *src, size_t n)
{
    uint8_t *q = wbuf_reserve(w, n);
    if (q != NULL && n > 0)
        memcpy(q, src, n);
}

static void wbuf_be(wbuf *w, uint64_t v, size_t n)
{
    uint8_t *q = wbuf_reserve(w, n);
    if (q == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        q[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

void wbuf_u8(wbuf *w, uint8_t v)
{
    wbuf_be(w, v, 1);
}
void wbuf_u16(wbuf *w, uint16_t v)
{
    wbuf_be(w, v, 2);
}
void wbuf_u32(wbuf *w, uint32_t v)
{
    wbuf_be(w, v, 4);
}
void wbuf_u64(wbuf *w, uint64_t v)
{
    wbuf_be(w, v, 8);
}

void wbuf_lv(wbuf *w, const void *src, size_t n)
{
    if (n > UINT32_MAX) {
        w->err = true;
        return;
    }
    wbuf_u32(w, (uint32_t)n);
    wbuf_put(w, src, n);
}

uint8_t *wbuf_take(wbuf *w, size_t *len)
{
    uint8_t *p;
    if (w->err) {
        wbuf_free(w);
        *len = 0;
        return NULL;
    }
    if (w->p == NULL && wbuf_reserve(w, 0) == NULL) {
        *len = 0;
        return NULL;
    }
    p = w->p;
    *len = w->len;
    /* Trailing capacity may hold nothing secret but wipe it anyway. */
    if (w->cap > w->len)
        OPENSSL_cleanse(p + w->len, w->cap - w->len);
    memset(w, 0, sizeof(*w));
    return p;
}
