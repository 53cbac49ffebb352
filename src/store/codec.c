/* Attribute list and cursor formats. The decoders read through a bounded
 * reader; no length from the input is trusted before it is checked against
 * what is left and against the store's limits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "codec.h"

typedef struct rd {
    const unsigned char *p;
    size_t len, off;
    bool err;
} rd;

static const unsigned char *rd_take(rd *r, size_t n)
{
    const unsigned char *p;

    if (r->err || n > r->len - r->off) {
        r->err = true;
        return NULL;
    }
    p = r->p + r->off;
    r->off += n;
    return p;
}

static uint64_t rd_be(rd *r, size_t n)
{
    const unsigned char *p = rd_take(r, n);
    uint64_t v = 0;

    for (size_t i = 0; p != NULL && i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

static unsigned char *put_be(unsigned char *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
    return p + n;
}

void codec_attrs_free(CK_ATTRIBUTE *a, CK_ULONG n)
{
    if (a == NULL)
        return;
    for (CK_ULONG i = 0; i < n; i++)
        if (a[i].pValue != NULL) {
            OPENSSL_cleanse(a[i].pValue, a[i].ulValueLen);
            free(a[i].pValue);
        }
    free(a);
}

CK_RV codec_attrs_encode(const CK_ATTRIBUTE *a, CK_ULONG n, unsigned char **out, size_t *outlen)
{
    unsigned char *buf, *p;
    size_t len = 3 + 4;

    if (n > STORE_MAX_ATTRS)
        return CKR_ARGUMENTS_BAD;
    for (CK_ULONG i = 0; i < n; i++) {
        if (a[i].ulValueLen > STORE_MAX_ATTR_VALUE)
            return CKR_DATA_LEN_RANGE;
        len += 8 + 4 + a[i].ulValueLen;
    }
    buf = malloc(len);
    if (buf == NULL)
        return CKR_HOST_MEMORY;
    p = buf;
    *p++ = 'G';
    *p++ = 'A';
    *p++ = 1;
    p = put_be(p, n, 4);
    for (CK_ULONG i = 0; i < n; i++) {
        p = put_be(p, (uint64_t)a[i].type, 8);
        p = put_be(p, a[i].ulValueLen, 4);
        if (a[i].ulValueLen > 0)
            memcpy(p, a[i].pValue, a[i].ulValueLen);
        p += a[i].ulValueLen;
    }
    *out = buf;
    *outlen = len;
    return CKR_OK;
}

CK_RV codec_attrs_decode(const unsigned char *in, size_t len, CK_ATTRIBUTE **out, CK_ULONG *n)
{
    CK_RV rv = CKR_IBM_GREP11_DBINTERNAL;
    rd r = {in, in ? len : 0, 0, false};
    const unsigned char *magic, *v;
    CK_ATTRIBUTE *a = NULL;
    uint64_t count, vlen;
    CK_ULONG got = 0;

    magic = rd_take(&r, 3);
    count = rd_be(&r, 4);
    if (r.err || magic[0] != 'G' || magic[1] != 'A' || magic[2] != 1 || count > STORE_MAX_ATTRS)
        goto out;
    /* each attribute takes at least 12 bytes: no allocation beyond input */
    if (count > (r.len - r.off) / 12)
        goto out;
    a = calloc(count ? count : 1, sizeof(*a));
    if (a == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    for (; got < count; got++) {
        a[got].type = (CK_ATTRIBUTE_TYPE)rd_be(&r, 8);
        vlen = rd_be(&r, 4);
        if (r.err || vlen > STORE_MAX_ATTR_VALUE)
            goto out;
        v = rd_take(&r, vlen);
        if (r.err)
            goto out;
        for (CK_ULONG j = 0; j < got; j++)
            if (a[j].type == a[got].type)
                goto out;
        a[got].ulValueLen = (CK_ULONG)vlen;
        if (vlen > 0) {
            a[got].pValue = malloc(vlen);
            if (a[got].pValue == NULL) {
                rv = CKR_HOST_MEMORY;
                goto out;
            }
            memcpy(a[got].pValue, v, vlen);
        }
    }
    if (r.off != r.len)
        goto out;
    *out = a;
    *n = got;
    a = NULL;
    rv = CKR_OK;
out:
    /* calloc'd: entries not reached yet hold NULL values */
    codec_attrs_free(a, a != NULL ? (CK_ULONG)count : 0);
    return rv;
}

void codec_cursor_encode(const store_uuid *last, char out[STORE_CURSOR_SIZE])
{
    static const char hex[] = "0123456789abcdef";

    out[0] = 'c';
    out[1] = '1';
    for (int i = 0; i < 16; i++) {
        out[2 + 2 * i] = hex[last->b[i] >> 4];
        out[3 + 2 * i] = hex[last->b[i] & 15];
    }
    out[34] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

CK_RV codec_cursor_decode(const char *s, store_uuid *last, bool *first)
{
    *first = false;
    if (s == NULL || s[0] == '\0') {
        *first = true;
        memset(last, 0, sizeof(*last));
        return CKR_OK;
    }
    if (strnlen(s, 35) != 34 || s[0] != 'c' || s[1] != '1')
        return CKR_ARGUMENTS_BAD;
    for (int i = 0; i < 16; i++) {
        int hi = hexval(s[2 + 2 * i]), lo = hexval(s[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return CKR_ARGUMENTS_BAD;
        last->b[i] = (unsigned char)(hi << 4 | lo);
    }
    return CKR_OK;
}
