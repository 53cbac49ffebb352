/* Minimal DER reader and writer (see der.h). */
#include <string.h>

#include "der.h"

/* Parses tag and length at p; returns header size or 0. Long forms must be
 * minimal (DER), and nothing over 2^24 bytes is needed here. */
static size_t der_hdr(const uint8_t *p, size_t len, uint8_t *tag, size_t *clen)
{
    size_t n, l = 0;
    if (len < 2)
        return 0;
    *tag = p[0];
    if (p[1] < 0x80) {
        *clen = p[1];
        return 2;
    }
    n = p[1] & 0x7f;
    if (n == 0 || n > 3 || len < 2 + n || p[2] == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        l = (l << 8) | p[2 + i];
    if (l < 0x80)
        return 0;
    *clen = l;
    return 2 + n;
}

size_t der_tlv_len(const uint8_t *p, size_t len)
{
    uint8_t tag;
    size_t cl, h = der_hdr(p, len, &tag, &cl);
    if (h == 0 || cl > len - h)
        return 0;
    return h + cl;
}

bool der_get(der_span *in, uint8_t tag, der_span *out, der_span *whole)
{
    uint8_t t;
    size_t cl, h = der_hdr(in->p, in->len, &t, &cl);
    if (h == 0 || t != tag || cl > in->len - h)
        return false;
    if (out != NULL)
        *out = (der_span){in->p + h, cl};
    if (whole != NULL)
        *whole = (der_span){in->p, h + cl};
    in->p += h + cl;
    in->len -= h + cl;
    return true;
}

bool der_uint(const der_span *c, der_span *mag)
{
    if (c->len == 0 || (c->p[0] & 0x80))
        return false;
    if (c->len > 1 && c->p[0] == 0 && !(c->p[1] & 0x80))
        return false; /* not minimal */
    *mag = *c;
    while (mag->len > 1 && mag->p[0] == 0) {
        mag->p++;
        mag->len--;
    }
    return true;
}

size_t der_size(size_t len)
{
    return 1 + (len < 0x80 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 4) + len;
}

void der_put_hdr(wbuf *w, uint8_t tag, size_t len)
{
    wbuf_u8(w, tag);
    if (len < 0x80) {
        wbuf_u8(w, (uint8_t)len);
    } else if (len < 0x100) {
        wbuf_u8(w, 0x81);
        wbuf_u8(w, (uint8_t)len);
    } else if (len < 0x10000) {
        wbuf_u8(w, 0x82);
        wbuf_u16(w, (uint16_t)len);
    } else if (len < 0x1000000) {
        wbuf_u8(w, 0x83);
        wbuf_u8(w, (uint8_t)(len >> 16));
        wbuf_u16(w, (uint16_t)len);
    } else {
        w->err = true;
    }
}

void der_put(wbuf *w, uint8_t tag, const uint8_t *p, size_t len)
{
    der_put_hdr(w, tag, len);
    wbuf_put(w, p, len);
}

static void der_strip(const uint8_t **mag, size_t *len)
{
    while (*len > 1 && (*mag)[0] == 0) {
        (*mag)++;
        (*len)--;
    }
}

size_t der_uint_size(const uint8_t *mag, size_t len)
{
    der_strip(&mag, &len);
    return der_size(len + (len == 0 || (mag[0] & 0x80) ? 1 : 0));
}

void der_put_uint(wbuf *w, const uint8_t *mag, size_t len)
{
    bool pad;
    der_strip(&mag, &len);
    pad = len == 0 || (mag[0] & 0x80);
    der_put_hdr(w, DER_INTEGER, len + (pad ? 1 : 0));
    if (pad)
        wbuf_u8(w, 0);
    wbuf_put(w, mag, len);
}
