/* Constant-time GHASH.
 *
 * Field elements use GCM's reflected bit order: loaded as big-endian 128-bit
 * numbers, bit 127 is the coefficient of x^0. For such reflected operands
 * a, b the plain carry-less product, shifted left by one, is the reflected
 * 256-bit product; its low half (the x^128..x^255 terms) is folded back with
 * x^128 = x^7 + x^2 + x + 1, which in reflected order is a right shift by
 * 0, 1, 2 and 7 bits.
 *
 * The 64x64 carry-less multiply spreads each operand over four interleaved
 * bit lanes with holes of three zero bits, so ordinary multiplication cannot
 * carry between lanes; only the low 64 bits are computed, and the high half
 * comes from the same routine on bit-reversed inputs. */
#include <string.h>

#include "ghash.h"

static uint64_t load_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static void store_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* Low 64 bits of the carry-less product. */
static uint64_t clmul_lo(uint64_t x, uint64_t y)
{
    const uint64_t m0 = 0x1111111111111111ULL, m1 = m0 << 1, m2 = m0 << 2, m3 = m0 << 3;
    uint64_t x0 = x & m0, x1 = x & m1, x2 = x & m2, x3 = x & m3;
    uint64_t y0 = y & m0, y1 = y & m1, y2 = y & m2, y3 = y & m3;
    uint64_t z0 = (x0 * y0) ^ (x1 * y3) ^ (x2 * y2) ^ (x3 * y1);
    uint64_t z1 = (x0 * y1) ^ (x1 * y0) ^ (x2 * y3) ^ (x3 * y2);
    uint64_t z2 = (x0 * y2) ^ (x1 * y1) ^ (x2 * y0) ^ (x3 * y3);
    uint64_t z3 = (x0 * y3) ^ (x1 * y2) ^ (x2 * y1) ^ (x3 * y0);
    return (z0 & m0) | (z1 & m1) | (z2 & m2) | (z3 & m3);
}

static uint64_t rev64(uint64_t x)
{
    x = ((x & 0x5555555555555555ULL) << 1) | ((x >> 1) & 0x5555555555555555ULL);
    x = ((x & 0x3333333333333333ULL) << 2) | ((x >> 2) & 0x3333333333333333ULL);
    x = ((x & 0x0F0F0F0F0F0F0F0FULL) << 4) | ((x >> 4) & 0x0F0F0F0F0F0F0F0FULL);
    x = ((x & 0x00FF00FF00FF00FFULL) << 8) | ((x >> 8) & 0x00FF00FF00FF00FFULL);
    x = ((x & 0x0000FFFF0000FFFFULL) << 16) | ((x >> 16) & 0x0000FFFF0000FFFFULL);
    return (x << 32) | (x >> 32);
}

/* Full 128-bit carry-less product of two 64-bit values: hi:lo. The high
 * half of x*y is the reversed low half of rev(x)*rev(y), shifted by one
 * because the product has only 127 bits. */
static void clmul64(uint64_t x, uint64_t y, uint64_t *hi, uint64_t *lo)
{
    *lo = clmul_lo(x, y);
    *hi = rev64(clmul_lo(rev64(x), rev64(y))) >> 1;
}

void ghash_init(ghash_key *k, const uint8_t h[16])
{
    k->hh = load_be64(h);
    k->hl = load_be64(h + 8);
}

/* (ah:al) * (bh:bl) in GF(2^128), reflected representation. */
static void gf_mul(uint64_t *ah, uint64_t *al, uint64_t bh, uint64_t bl)
{
    uint64_t p3, p2, p1, p0, mh, ml, lh, ll, hh, hl;

    /* Karatsuba: three 64x64 products give the 256-bit product p3:p2:p1:p0. */
    clmul64(*ah, bh, &hh, &hl);
    clmul64(*al, bl, &lh, &ll);
    clmul64(*ah ^ *al, bh ^ bl, &mh, &ml);
    mh ^= hh ^ lh;
    ml ^= hl ^ ll;
    p3 = hh;
    p2 = hl ^ mh;
    p1 = lh ^ ml;
    p0 = ll;
    /* Align to the reflected 256-bit product. */
    p3 = (p3 << 1) | (p2 >> 63);
    p2 = (p2 << 1) | (p1 >> 63);
    p1 = (p1 << 1) | (p0 >> 63);
    p0 <<= 1;
    /* Fold the x^128.. terms (p1:p0) into p3:p2, lowest word first so its
     * spill into p1 is folded by the second step. */
    p2 ^= p0 ^ (p0 >> 1) ^ (p0 >> 2) ^ (p0 >> 7);
    p1 ^= (p0 << 63) ^ (p0 << 62) ^ (p0 << 57);
    p3 ^= p1 ^ (p1 >> 1) ^ (p1 >> 2) ^ (p1 >> 7);
    p2 ^= (p1 << 63) ^ (p1 << 62) ^ (p1 << 57);
    *ah = p3;
    *al = p2;
}

void ghash_blocks(const ghash_key *k, uint8_t y[16], const uint8_t *data, size_t n)
{
    uint64_t yh = load_be64(y), yl = load_be64(y + 8);
    for (size_t i = 0; i + 16 <= n; i += 16) {
        yh ^= load_be64(data + i);
        yl ^= load_be64(data + i + 8);
        gf_mul(&yh, &yl, k->hh, k->hl);
    }
    store_be64(y, yh);
    store_be64(y + 8, yl);
}
