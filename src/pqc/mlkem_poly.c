/* NTT, encodings and noise for ML-KEM (FIPS 203 sections 4.2.1, 4.3).
 *
 * The NTT follows FIPS 203 Algorithms 9/10 with zeta^BitRev7(i) * 2^16
 * mod q (zeta = 17) in the table, so each butterfly is one fqmul. Base
 * multiplication (Algorithm 12) uses gamma_i = zeta^(2 BitRev7(i) + 1),
 * also pre-scaled by 2^16. */
#include "mlkem_poly.h"

#include "pqc_bits.h"
#include "pqc_common.h"

static const int16_t zetas[128] = {
    -1044, -758,  -359,  -1517, 1493,  1422,  287,   202,   -171,  622,   1577,  182,   962,
    -1202, -1474, 1468,  573,   -1325, 264,   383,   -829,  1458,  -1602, -130,  -681,  1017,
    732,   608,   -1542, 411,   -205,  -1571, 1223,  652,   -552,  1015,  -1293, 1491,  -282,
    -1544, 516,   -8,    -320,  -666,  -1618, -1162, 126,   1469,  -853,  -90,   -271,  830,
    107,   -1421, -247,  -951,  -398,  961,   -1508, -725,  448,   -1065, 677,   -1275, -1103,
    430,   555,   843,   -1251, 871,   1550,  105,   422,   587,   177,   -235,  -291,  -460,
    1574,  1653,  -246,  778,   1159,  -147,  -777,  1483,  -602,  1119,  -1590, 644,   -872,
    349,   418,   329,   -156,  -75,   817,   1097,  603,   610,   1322,  -1285, -1465, 384,
    -1215, -136,  1218,  -1335, -874,  220,   -1187, -1659, -1185, -1530, -1278, 794,   -1510,
    -854,  -870,  478,   -108,  -308,  996,   991,   958,   -1460, 1522,  1628,
};

static const int16_t gammas[128] = {
    -1103, 1103,  430,   -430,  555,   -555,  843,  -843,  -1251, 1251,  871,   -871,  1550,
    -1550, 105,   -105,  422,   -422,  587,   -587, 177,   -177,  -235,  235,   -291,  291,
    -460,  460,   1574,  -1574, 1653,  -1653, -246, 246,   778,   -778,  1159,  -1159, -147,
    147,   -777,  777,   1483,  -1483, -602,  602,  1119,  -1119, -1590, 1590,  644,   -644,
    -872,  872,   349,   -349,  418,   -418,  329,  -329,  -156,  156,   -75,   75,    817,
    -817,  1097,  -1097, 603,   -603,  610,   -610, 1322,  -1322, -1285, 1285,  -1465, 1465,
    384,   -384,  -1215, 1215,  -136,  136,   1218, -1218, -1335, 1335,  -874,  874,   220,
    -220,  -1187, 1187,  -1659, 1659,  -1185, 1185, -1530, 1530,  -1278, 1278,  794,   -794,
    -1510, 1510,  -854,  854,   -870,  870,   478,  -478,  -108,  108,   -308,  308,   996,
    -996,  991,   -991,  958,   -958,  -1460, 1460, 1522,  -1522, 1628,  -1628,
};

void mlkem_poly_ntt(mlkem_poly *a)
{
    unsigned i = 1;
    for (unsigned len = 128; len >= 2; len >>= 1) {
        for (unsigned start = 0; start < MLKEM_N; start += 2 * len) {
            int16_t zeta = zetas[i++];
            for (unsigned j = start; j < start + len; j++) {
                int16_t t = mlkem_fqmul(zeta, a->c[j + len]);
                a->c[j + len] = (int16_t)(a->c[j] - t);
                a->c[j] = (int16_t)(a->c[j] + t);
            }
        }
    }
    /* Seven layers grew |a| to < 8q; reduce so products stay in range. */
    mlkem_poly_reduce(a);
}

void mlkem_poly_invntt_tomont(mlkem_poly *a)
{
    /* 1441 = 2^32 / 128 mod q: the 1/128 of the inverse transform and the
     * 2^16 that cancels the basemul's Montgomery factor. */
    const int16_t f = 1441;
    unsigned i = 127;
    for (unsigned len = 2; len <= 128; len <<= 1) {
        for (unsigned start = 0; start < MLKEM_N; start += 2 * len) {
            int16_t zeta = zetas[i--];
            for (unsigned j = start; j < start + len; j++) {
                int16_t t = a->c[j];
                /* Reducing each sum keeps all seven layers inside int16. */
                a->c[j] = mlkem_barrett_reduce((int16_t)(t + a->c[j + len]));
                a->c[j + len] = mlkem_fqmul(zeta, (int16_t)(a->c[j + len] - t));
            }
        }
    }
    for (unsigned j = 0; j < MLKEM_N; j++)
        a->c[j] = mlkem_fqmul(a->c[j], f);
}

void mlkem_poly_basemul_acc(mlkem_poly *r, const mlkem_poly *a, const mlkem_poly *b, unsigned k)
{
    for (unsigned i = 0; i < MLKEM_N / 2; i++) {
        /* Products and sums stay below 2^15 q for k <= 4 given the operand
         * bounds in the header, so one Montgomery reduction per output. */
        int32_t c0 = 0, c1 = 0;
        for (unsigned j = 0; j < k; j++) {
            int16_t a0 = a[j].c[2 * i], a1 = a[j].c[2 * i + 1];
            int16_t b0 = b[j].c[2 * i], b1 = b[j].c[2 * i + 1];
            c0 += (int32_t)a0 * b0 + (int32_t)mlkem_fqmul(a1, b1) * gammas[i];
            c1 += (int32_t)a0 * b1 + (int32_t)a1 * b0;
        }
        r->c[2 * i] = mlkem_mont_reduce(c0);
        r->c[2 * i + 1] = mlkem_mont_reduce(c1);
    }
}

void mlkem_poly_tomont(mlkem_poly *a)
{
    const int16_t r2 = 1353; /* 2^32 mod q */
    for (unsigned i = 0; i < MLKEM_N; i++)
        a->c[i] = mlkem_fqmul(a->c[i], r2);
}

void mlkem_poly_reduce(mlkem_poly *a)
{
    for (unsigned i = 0; i < MLKEM_N; i++)
        a->c[i] = mlkem_barrett_reduce(a->c[i]);
}

void mlkem_poly_add(mlkem_poly *r, const mlkem_poly *a, const mlkem_poly *b)
{
    for (unsigned i = 0; i < MLKEM_N; i++)
        r->c[i] = (int16_t)(a->c[i] + b->c[i]);
}

void mlkem_poly_sub(mlkem_poly *r, const mlkem_poly *a, const mlkem_poly *b)
{
    for (unsigned i = 0; i < MLKEM_N; i++)
        r->c[i] = (int16_t)(a->c[i] - b->c[i]);
}

/* Canonical representative in [0, q) of any int16, branch-free. */
static inline uint32_t canon(int16_t x)
{
    int16_t r = mlkem_barrett_reduce(x);
    r = (int16_t)(r + ((r >> 15) & MLKEM_Q));
    return (uint32_t)r;
}

void mlkem_poly_tobytes(uint8_t out[MLKEM_POLYBYTES], const mlkem_poly *a)
{
    uint32_t v[MLKEM_N];
    for (unsigned i = 0; i < MLKEM_N; i++)
        v[i] = canon(a->c[i]);
    pqc_pack_bits(out, v, MLKEM_N, 12);
    PQC_WIPE(v, sizeof(v));
}

void mlkem_poly_frombytes(mlkem_poly *a, const uint8_t in[MLKEM_POLYBYTES])
{
    uint32_t v[MLKEM_N];
    pqc_unpack_bits(v, in, MLKEM_N, 12);
    for (unsigned i = 0; i < MLKEM_N; i++)
        a->c[i] = mlkem_barrett_reduce((int16_t)v[i]);
    PQC_WIPE(v, sizeof(v));
}

int mlkem_polys_reduced(const uint8_t *in, unsigned n)
{
    uint32_t v[MLKEM_N];
    uint32_t bad = 0;
    for (unsigned p = 0; p < n; p++) {
        pqc_unpack_bits(v, in + p * MLKEM_POLYBYTES, MLKEM_N, 12);
        for (unsigned i = 0; i < MLKEM_N; i++)
            bad |= (uint32_t)(MLKEM_Q - 1 - (int32_t)v[i]) >> 31;
    }
    return bad == 0;
}

/* Compress_d(x) = round(2^d x / q) mod 2^d for x in [0, q). The division
 * is a multiply by ceil(2^32 / q) and a shift (exact for every x and d <=
 * 11, checked exhaustively in the unit tests), so no div instruction with
 * data-dependent timing is involved. */
static inline uint32_t compress_one(uint32_t x, unsigned d)
{
    uint64_t num = ((uint64_t)x << d) + MLKEM_Q / 2;
    return (uint32_t)((num * 1290168u) >> 32) & ((1u << d) - 1);
}

uint32_t mlkem_compress_value(uint32_t x, unsigned d)
{
    return compress_one(x, d);
}

void mlkem_poly_compress(uint8_t *out, const mlkem_poly *a, unsigned d)
{
    uint32_t v[MLKEM_N];
    for (unsigned i = 0; i < MLKEM_N; i++)
        v[i] = compress_one(canon(a->c[i]), d);
    pqc_pack_bits(out, v, MLKEM_N, d);
    PQC_WIPE(v, sizeof(v));
}

void mlkem_poly_decompress(mlkem_poly *a, const uint8_t *in, unsigned d)
{
    uint32_t v[MLKEM_N];
    pqc_unpack_bits(v, in, MLKEM_N, d);
    for (unsigned i = 0; i < MLKEM_N; i++)
        a->c[i] = (int16_t)((v[i] * MLKEM_Q + (1u << (d - 1))) >> d);
    PQC_WIPE(v, sizeof(v));
}

void mlkem_poly_frommsg(mlkem_poly *a, const uint8_t m[MLKEM_SYMBYTES])
{
    for (unsigned i = 0; i < MLKEM_N; i++) {
        /* Decompress_1: bit * ceil(q/2), selected with a mask. */
        int16_t mask = (int16_t) - (int16_t)((m[i / 8] >> (i % 8)) & 1);
        a->c[i] = (int16_t)(mask & ((MLKEM_Q + 1) / 2));
    }
}

void mlkem_poly_tomsg(uint8_t m[MLKEM_SYMBYTES], const mlkem_poly *a)
{
    memset(m, 0, MLKEM_SYMBYTES);
    for (unsigned i = 0; i < MLKEM_N; i++)
        m[i / 8] |= (uint8_t)(compress_one(canon(a->c[i]), 1) << (i % 8));
}

/* Counts the set bits of each eta-bit group in parallel with masks, so the
 * noise value never selects a branch or a table entry. */
void mlkem_poly_cbd(mlkem_poly *a, const uint8_t *buf, unsigned eta)
{
    if (eta == 2) {
        for (unsigned i = 0; i < MLKEM_N / 8; i++) {
            uint32_t t = (uint32_t)buf[4 * i] | (uint32_t)buf[4 * i + 1] << 8 |
                         (uint32_t)buf[4 * i + 2] << 16 | (uint32_t)buf[4 * i + 3] << 24;
            uint32_t s = (t & 0x55555555u) + ((t >> 1) & 0x55555555u);
            for (unsigned j = 0; j < 8; j++) {
                int16_t x = (int16_t)((s >> (4 * j)) & 3);
                int16_t y = (int16_t)((s >> (4 * j + 2)) & 3);
                a->c[8 * i + j] = (int16_t)(x - y);
            }
        }
    } else {
        for (unsigned i = 0; i < MLKEM_N / 4; i++) {
            uint32_t t = (uint32_t)buf[3 * i] | (uint32_t)buf[3 * i + 1] << 8 |
                         (uint32_t)buf[3 * i + 2] << 16;
            uint32_t s = (t & 0x249249u) + ((t >> 1) & 0x249249u) + ((t >> 2) & 0x249249u);
            for (unsigned j = 0; j < 4; j++) {
                int16_t x = (int16_t)((s >> (6 * j)) & 7);
                int16_t y = (int16_t)((s >> (6 * j + 3)) & 7);
                a->c[4 * i + j] = (int16_t)(x - y);
            }
        }
    }
}
