/* M-of-N Shamir secret sharing over GF(2^8) (the AES field, x^8+x^4+x^3+x+1),
 * byte by byte, in constant time (no secret-indexed tables). Share x
 * coordinates are 1..N. */
#ifndef GREP11_CUSTODY_SHAMIR_H
#define GREP11_CUSTODY_SHAMIR_H

#include <stddef.h>
#include <stdint.h>

#define SHAMIR_SECRET_LEN 32
#define SHAMIR_MAX_SHARES 16

typedef struct {
    uint8_t x;      /* 1..255 */
    uint8_t m, n;   /* threshold and count of the set */
    uint8_t set[8]; /* first 8 bytes of SHA-256 of the secret: names the set */
    uint8_t y[SHAMIR_SECRET_LEN];
} shamir_share;

#define SHAMIR_SHARE_ENCODED (3 + 8 + SHAMIR_SECRET_LEN)

/* 2 <= m <= n <= SHAMIR_MAX_SHARES. 0 on success. */
int shamir_split(const uint8_t secret[SHAMIR_SECRET_LEN], unsigned m, unsigned n,
                 shamir_share *out);
/* Needs at least m shares of one set with distinct x; checks the result
 * against the set id. 0 on success; out is wiped on failure. */
int shamir_combine(const shamir_share *shares, size_t k, uint8_t out[SHAMIR_SECRET_LEN]);

void shamir_encode(const shamir_share *s, uint8_t out[SHAMIR_SHARE_ENCODED]);
int shamir_decode(const uint8_t *in, size_t len, shamir_share *s);

uint8_t gf256_mul(uint8_t a, uint8_t b);

#endif
