/* Small helpers: time, UUIDs, input checks. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "grep11/hex.h"
#include "internal.h"

int64_t store_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

CK_RV store_new_uuid(store_uuid *u)
{
    if (RAND_bytes(u->b, sizeof(u->b)) != 1)
        return CKR_FUNCTION_FAILED;
    u->b[6] = (unsigned char)((u->b[6] & 0x0f) | 0x40); /* version 4 */
    u->b[8] = (unsigned char)((u->b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    return CKR_OK;
}

/* Well-formed UTF-8 (no overlongs, surrogates or code points past
 * U+10FFFF): PostgreSQL rejects anything else in a TEXT column. */
bool store_utf8_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        unsigned c = p[i], need, min, cp;
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1, min = 0x80, cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2, min = 0x800, cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i <= need)
            return false;
        for (unsigned k = 1; k <= need; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += need + 1;
    }
    return true;
}

CK_RV store_check_attrs(const CK_ATTRIBUTE *a, CK_ULONG n, bool unique)
{
    if (n > STORE_MAX_ATTRS || (n > 0 && a == NULL))
        return CKR_ARGUMENTS_BAD;
    for (CK_ULONG i = 0; i < n; i++) {
        if (a[i].ulValueLen > STORE_MAX_ATTR_VALUE)
            return CKR_DATA_LEN_RANGE;
        if (a[i].ulValueLen > 0 && a[i].pValue == NULL)
            return CKR_ARGUMENTS_BAD;
        for (CK_ULONG j = 0; unique && j < i; j++)
            if (a[j].type == a[i].type)
                return CKR_TEMPLATE_INCONSISTENT;
    }
    return CKR_OK;
}

void store_log(store *st, const char *msg)
{
    if (st->log != NULL)
        st->log(st->log_ctx, msg);
}

void store_uuid_format(const store_uuid *u, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[u->b[i] >> 4];
        out[o++] = hex[u->b[i] & 15];
    }
    out[o] = '\0';
}

bool store_uuid_parse(const char *s, store_uuid *out)
{
    store_uuid u;
    size_t o = 0;

    if (s == NULL || strnlen(s, 37) != 36)
        return false;
    for (int i = 0; i < 16; i++) {
        int hi, lo;
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            if (s[o++] != '-')
                return false;
        }
        hi = grep11_hex_digit(s[o]);
        lo = grep11_hex_digit(s[o + 1]);
        if (hi < 0 || lo < 0)
            return false;
        u.b[i] = (unsigned char)(hi << 4 | lo);
        o += 2;
    }
    *out = u;
    return true;
}
