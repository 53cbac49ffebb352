#include "bytes.h"

#include "grep11/hex.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

void cw_init(cw_buf *w, size_t max)
{
    memset(w, 0, sizeof(*w));
    w->max = max;
}

void cw_free(cw_buf *w)
{
    if (w->p) {
        OPENSSL_cleanse(w->p, w->cap);
        free(w->p);
    }
    memset(w, 0, sizeof(*w));
}

void cw_put(cw_buf *w, const void *d, size_t n)
{
    if (w->err)
        return;
    if (n > w->max || w->len > w->max - n) {
        w->err = 1;
        return;
    }
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 64;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *q = malloc(cap);
        if (!q) {
            w->err = 1;
            return;
        }
        if (w->p) {
            memcpy(q, w->p, w->len);
            OPENSSL_cleanse(w->p, w->cap);
            free(w->p);
        }
        w->p = q;
        w->cap = cap;
    }
    if (n)
        memcpy(w->p + w->len, d, n);
    w->len += n;
}

void cw_u8(cw_buf *w, uint8_t v)
{
    cw_put(w, &v, 1);
}

void cw_u32(cw_buf *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    cw_put(w, b, 4);
}

void cw_u64(cw_buf *w, uint64_t v)
{
    cw_u32(w, (uint32_t)(v >> 32));
    cw_u32(w, (uint32_t)v);
}

void cw_lv(cw_buf *w, const void *d, size_t n)
{
    if (n > UINT32_MAX) {
        w->err = 1;
        return;
    }
    cw_u32(w, (uint32_t)n);
    cw_put(w, d, n);
}

void cw_str(cw_buf *w, const char *s)
{
    cw_lv(w, s, strlen(s));
}

void cr_init(cr_buf *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = p ? len : 0;
    r->off = 0;
    r->err = 0;
}

const uint8_t *cr_ptr(cr_buf *r, size_t n)
{
    if (r->err || n > r->len - r->off) {
        r->err = 1;
        return NULL;
    }
    const uint8_t *q = r->p + r->off;
    r->off += n;
    return q;
}

uint8_t cr_u8(cr_buf *r)
{
    const uint8_t *q = cr_ptr(r, 1);
    return q ? q[0] : 0;
}

uint32_t cr_u32(cr_buf *r)
{
    const uint8_t *q = cr_ptr(r, 4);
    return q ? (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3] : 0;
}

uint64_t cr_u64(cr_buf *r)
{
    uint64_t hi = cr_u32(r);
    return hi << 32 | cr_u32(r);
}

const uint8_t *cr_lv(cr_buf *r, size_t max, size_t *n)
{
    uint32_t l = cr_u32(r);
    *n = 0;
    if (r->err || l > max) {
        r->err = 1;
        return NULL;
    }
    const uint8_t *q = cr_ptr(r, l);
    if (q)
        *n = l;
    return q;
}

int cr_str(cr_buf *r, char *out, size_t cap)
{
    size_t n = 0;
    const uint8_t *q = cr_lv(r, cap ? cap - 1 : 0, &n);
    if (!q && n == 0 && r->err)
        return -1;
    if (n && memchr(q, 0, n)) {
        r->err = 1;
        return -1;
    }
    if (n)
        memcpy(out, q, n);
    out[n] = '\0';
    return 0;
}

int cr_done(const cr_buf *r)
{
    return !r->err && r->off == r->len;
}

void hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

long hex_decode(const char *in, uint8_t *out, size_t cap)
{
    size_t n = strlen(in);
    if (n % 2 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = grep11_hex_digit(in[2 * i]), lo = grep11_hex_digit(in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return (long)(n / 2);
}

void custody_sha256(const uint8_t *d, size_t n, uint8_t out[32])
{
    unsigned int l = 0;
    EVP_Digest(d, n, out, &l, EVP_sha256(), NULL);
}

void custody_vp(const uint8_t *d, size_t n, char out[17])
{
    uint8_t h[32];
    custody_sha256(d, n, h);
    hex_encode(h, 8, out);
}
