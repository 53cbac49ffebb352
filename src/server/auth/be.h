/* Big-endian integer fields of the token and directory-record encodings. */
#ifndef GREP11_SERVER_AUTH_BE_H
#define GREP11_SERVER_AUTH_BE_H

#include <stdint.h>

static inline void be_put(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline uint64_t be_get(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

#endif
