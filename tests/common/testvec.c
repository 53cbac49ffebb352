#include "testvec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CMake always passes the configured folder; this only serves a build that
 * runs from the repository root without it. */
#ifndef TESTVEC_DEFAULT_DIR
#define TESTVEC_DEFAULT_DIR "tests/vectors"
#endif

const char *testvec_dir(void)
{
    const char *env = getenv("GREP11_VECTORS_DIR");
    return (env && *env) ? env : TESTVEC_DEFAULT_DIR;
}

char *testvec_read_file(const char *relpath, size_t *len_out)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", testvec_dir(), relpath);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "testvec: cannot open %s\n", path);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 + 1 > cap) {
            cap = (cap ? cap * 2 : 131072);
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, 65536, f);
        len += n;
        if (n < 65536)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    if (len_out)
        *len_out = len;
    return buf;
}

cJSON *testvec_load_json(const char *relpath)
{
    size_t len = 0;
    char *text = testvec_read_file(relpath, &len);
    if (!text)
        return NULL;
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root)
        fprintf(stderr, "testvec: %s is not valid JSON\n", relpath);
    free(text);
    return root;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

uint8_t *testvec_hex_decode(const char *hex, size_t *len_out)
{
    if (!hex)
        return NULL;
    size_t n = strlen(hex);
    if (n % 2)
        return NULL;
    uint8_t *out = malloc(n / 2 + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(out);
            return NULL;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    if (len_out)
        *len_out = n / 2;
    return out;
}

uint8_t *testvec_hex_field(const cJSON *obj, const char *name, size_t *len_out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsString(item))
        return NULL;
    return testvec_hex_decode(item->valuestring, len_out);
}

long testvec_int_field(const cJSON *obj, const char *name, long dflt)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(item) ? (long)item->valuedouble : dflt;
}

const char *testvec_str_field(const cJSON *obj, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

char *testvec_hex_encode(const uint8_t *buf, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(2 * len + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        s[2 * i] = digits[buf[i] >> 4];
        s[2 * i + 1] = digits[buf[i] & 15];
    }
    s[2 * len] = '\0';
    return s;
}
