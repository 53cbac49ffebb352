#include "shamir.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "bytes.h"

uint8_t gf256_mul(uint8_t a, uint8_t b)
{
    uint8_t r = 0;
    for (int i = 0; i < 8; i++) {
        r ^= (uint8_t)(-(b & 1) & a);
        uint8_t hi = (uint8_t) - (a >> 7);
        a = (uint8_t)((a << 1) ^ (hi & 0x1b));
        b >>= 1;
    }
    return r;
}

/* a^254 = a^-1 (0 maps to 0), by square-and-multiply with a fixed pattern. */
static uint8_t gf256_inv(uint8_t a)
{
    uint8_t r = 1, p = a;
    for (int i = 1; i < 8; i++) { /* 254 = 0b11111110 */
        p = gf256_mul(p, p);
        r = gf256_mul(r, p);
    }
    return r;
}

int shamir_split(const uint8_t secret[SHAMIR_SECRET_LEN], unsigned m, unsigned n, shamir_share *out)
{
    uint8_t coef[SHAMIR_MAX_SHARES];
    uint8_t h[32];
    if (m < 2 || m > n || n > SHAMIR_MAX_SHARES)
        return -1;
    custody_sha256(secret, SHAMIR_SECRET_LEN, h);
    for (unsigned s = 0; s < n; s++) {
        memset(&out[s], 0, sizeof(out[s]));
        out[s].x = (uint8_t)(s + 1);
        out[s].m = (uint8_t)m;
        out[s].n = (uint8_t)n;
        memcpy(out[s].set, h, 8);
    }
    for (size_t b = 0; b < SHAMIR_SECRET_LEN; b++) {
        coef[0] = secret[b];
        if (RAND_priv_bytes(coef + 1, (int)(m - 1)) != 1) {
            OPENSSL_cleanse(coef, sizeof(coef));
            OPENSSL_cleanse(out, n * sizeof(*out));
            return -1;
        }
        for (unsigned s = 0; s < n; s++) {
            uint8_t y = 0; /* Horner */
            for (int c = (int)m - 1; c >= 0; c--)
                y = (uint8_t)(gf256_mul(y, out[s].x) ^ coef[c]);
            out[s].y[b] = y;
        }
    }
    OPENSSL_cleanse(coef, sizeof(coef));
    return 0;
}

int shamir_combine(const shamir_share *shares, size_t k, uint8_t out[SHAMIR_SECRET_LEN])
{
    uint8_t h[32], lagrange[SHAMIR_MAX_SHARES];
    memset(out, 0, SHAMIR_SECRET_LEN);
    if (k == 0 || k > SHAMIR_MAX_SHARES || k < shares[0].m)
        return -1;
    for (size_t i = 0; i < k; i++) {
        if (shares[i].x == 0 || shares[i].m != shares[0].m ||
            memcmp(shares[i].set, shares[0].set, 8) != 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (shares[j].x == shares[i].x)
                return -1;
    }
    k = shares[0].m; /* exactly m shares define the polynomial */
    for (size_t i = 0; i < k; i++) {
        uint8_t num = 1, den = 1;
        for (size_t j = 0; j < k; j++) {
            if (j == i)
                continue;
            num = gf256_mul(num, shares[j].x);
            den = gf256_mul(den, (uint8_t)(shares[j].x ^ shares[i].x));
        }
        lagrange[i] = gf256_mul(num, gf256_inv(den));
    }
    for (size_t b = 0; b < SHAMIR_SECRET_LEN; b++) {
        uint8_t v = 0;
        for (size_t i = 0; i < k; i++)
            v ^= gf256_mul(shares[i].y[b], lagrange[i]);
        out[b] = v;
    }
    custody_sha256(out, SHAMIR_SECRET_LEN, h);
    if (CRYPTO_memcmp(h, shares[0].set, 8) != 0) {
        OPENSSL_cleanse(out, SHAMIR_SECRET_LEN);
        return -1;
    }
    return 0;
}

void shamir_encode(const shamir_share *s, uint8_t out[SHAMIR_SHARE_ENCODED])
{
    out[0] = s->x;
    out[1] = s->m;
    out[2] = s->n;
    memcpy(out + 3, s->set, 8);
    memcpy(out + 11, s->y, SHAMIR_SECRET_LEN);
}

int shamir_decode(const uint8_t *in, size_t len, shamir_share *s)
{
    memset(s, 0, sizeof(*s));
    if (len != SHAMIR_SHARE_ENCODED || in[0] == 0 || in[1] < 2 || in[1] > in[2] ||
        in[2] > SHAMIR_MAX_SHARES || in[0] > in[2])
        return -1;
    s->x = in[0];
    s->m = in[1];
    s->n = in[2];
    memcpy(s->set, in + 3, 8);
    memcpy(s->y, in + 11, SHAMIR_SECRET_LEN);
    return 0;
}
