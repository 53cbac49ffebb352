/* application/x-www-form-urlencoded decoding, for request bodies: pairs
 * split at '&', names and values %-decoded with '+' as a space. */
#include <string.h>

#include "grep11/hex.h"
#include "http.h"

/* Decodes in[0..n) into out (cap bytes, NUL-terminated); -1 when it does
 * not fit or holds a broken %-escape or a NUL. */
static int decode(const char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)in[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (n - i < 3)
                return -1;
            int hi = grep11_hex_digit(in[i + 1]), lo = grep11_hex_digit(in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi << 4 | lo;
            i += 2;
        }
        if (c == 0 || o + 1 >= cap)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

int http_form_value(const char *form, size_t len, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name), i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && form[end] != '&')
            end++;
        const char *eq = memchr(form + i, '=', end - i);
        size_t klen = eq ? (size_t)(eq - (form + i)) : end - i;
        if (klen == nl && memcmp(form + i, name, nl) == 0) {
            const char *v = eq ? eq + 1 : form + end;
            return decode(v, (size_t)(form + end - v), out, cap);
        }
        i = end + 1;
    }
    return -1;
}
