/* NTT and rounding for the Dilithium family (FIPS 204 sections 7.4, 7.5).
 *
 * The NTT follows FIPS 204 Algorithms 41/42 with Montgomery multiplication:
 * the table holds zeta^BitRev8(k) * 2^32 mod q, centred, for zeta = 1753,
 * so each butterfly needs one mont_reduce and no division. */
#include "mldsa_poly.h"

static const int32_t zetas[MLDSA_N] = {
    -4186625, 25847,    -2608894, -518909,  237124,   -777960,  -876248,  466468,   1826347,
    2353451,  -359251,  -2091905, 3119733,  -2884855, 3111497,  2680103,  2725464,  1024112,
    -1079900, 3585928,  -549488,  -1119584, 2619752,  -2108549, -2118186, -3859737, -1399561,
    -3277672, 1757237,  -19422,   4010497,  280005,   2706023,  95776,    3077325,  3530437,
    -1661693, -3592148, -2537516, 3915439,  -3861115, -3043716, 3574422,  -2867647, 3539968,
    -300467,  2348700,  -539299,  -1699267, -1643818, 3505694,  -3821735, 3507263,  -2140649,
    -1600420, 3699596,  811944,   531354,   954230,   3881043,  3900724,  -2556880, 2071892,
    -2797779, -3930395, -1528703, -3677745, -3041255, -1452451, 3475950,  2176455,  -1585221,
    -1257611, 1939314,  -4083598, -1000202, -3190144, -3157330, -3632928, 126922,   3412210,
    -983419,  2147896,  2715295,  -2967645, -3693493, -411027,  -2477047, -671102,  -1228525,
    -22981,   -1308169, -381987,  1349076,  1852771,  -1430430, -3343383, 264944,   508951,
    3097992,  44288,    -1100098, 904516,   3958618,  -3724342, -8578,    1653064,  -3249728,
    2389356,  -210977,  759969,   -1316856, 189548,   -3553272, 3159746,  -1851402, -2409325,
    -177440,  1315589,  1341330,  1285669,  -1584928, -812732,  -1439742, -3019102, -3881060,
    -3628969, 3839961,  2091667,  3407706,  2316500,  3817976,  -3342478, 2244091,  -2446433,
    -3562462, 266997,   2434439,  -1235728, 3513181,  -3520352, -3759364, -1197226, -3193378,
    900702,   1859098,  909542,   819034,   495491,   -1613174, -43260,   -522500,  -655327,
    -3122442, 2031748,  3207046,  -3556995, -525098,  -768622,  -3595838, 342297,   286988,
    -2437823, 4108315,  3437287,  -3342277, 1735879,  203044,   2842341,  2691481,  -2590150,
    1265009,  4055324,  1247620,  2486353,  1595974,  -3767016, 1250494,  2635921,  -3548272,
    -2994039, 1869119,  1903435,  -1050970, -1333058, 1237275,  -3318210, -1430225, -451100,
    1312455,  3306115,  -1962642, -1279661, 1917081,  -2546312, -1374803, 1500165,  777191,
    2235880,  3406031,  -542412,  -2831860, -1671176, -1846953, -2584293, -3724270, 594136,
    -3776993, -2013608, 2432395,  2454455,  -164721,  1957272,  3369112,  185531,   -1207385,
    -3183426, 162844,   1616392,  3014001,  810149,   1652634,  -3694233, -1799107, -3038916,
    3523897,  3866901,  269760,   2213111,  -975884,  1717735,  472078,   -426683,  1723600,
    -1803090, 1910376,  -1667432, -1104333, -260646,  -3833893, -2939036, -2235985, -420899,
    -2286327, 183443,   -976891,  1612842,  -3545687, -554416,  3919660,  -48306,   -1362209,
    3937738,  1400424,  -846154,  1976782,
};

void mldsa_poly_ntt(mldsa_poly *a)
{
    unsigned k = 0;
    for (unsigned len = 128; len > 0; len >>= 1) {
        for (unsigned start = 0; start < MLDSA_N; start += 2 * len) {
            int64_t zeta = zetas[++k];
            for (unsigned j = start; j < start + len; j++) {
                int32_t t = mldsa_mont_reduce(zeta * a->c[j + len]);
                a->c[j + len] = a->c[j] - t;
                a->c[j] = a->c[j] + t;
            }
        }
    }
}

void mldsa_poly_invntt_tomont(mldsa_poly *a)
{
    /* 41978 = 2^64 / 256 mod q: undoes the 256 from the butterflies and
     * multiplies by 2^32 to cancel the preceding Montgomery product. */
    const int64_t f = 41978;
    unsigned k = MLDSA_N;
    for (unsigned len = 1; len < MLDSA_N; len <<= 1) {
        for (unsigned start = 0; start < MLDSA_N; start += 2 * len) {
            int64_t zeta = -zetas[--k];
            for (unsigned j = start; j < start + len; j++) {
                int32_t t = a->c[j];
                a->c[j] = t + a->c[j + len];
                a->c[j + len] = mldsa_mont_reduce(zeta * (t - a->c[j + len]));
            }
        }
    }
    /* Sums grew to < 256q < 2^31, so the final scaling still fits. */
    for (unsigned j = 0; j < MLDSA_N; j++)
        a->c[j] = mldsa_mont_reduce(f * a->c[j]);
}

void mldsa_poly_pointwise(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *b)
{
    for (unsigned i = 0; i < MLDSA_N; i++)
        r->c[i] = mldsa_mont_reduce((int64_t)a->c[i] * b->c[i]);
}

void mldsa_poly_matvec_row(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *v, unsigned l)
{
    /* Products are < 9q^2 < 2^50; seven of them stay far below the 2^31 q
     * that mont_reduce accepts, so one reduction per coefficient suffices. */
    for (unsigned i = 0; i < MLDSA_N; i++) {
        int64_t acc = 0;
        for (unsigned j = 0; j < l; j++)
            acc += (int64_t)a[j].c[i] * v[j].c[i];
        r->c[i] = mldsa_mont_reduce(acc);
    }
}

void mldsa_poly_reduce(mldsa_poly *a)
{
    for (unsigned i = 0; i < MLDSA_N; i++)
        a->c[i] = mldsa_reduce32(a->c[i]);
}

void mldsa_poly_caddq(mldsa_poly *a)
{
    for (unsigned i = 0; i < MLDSA_N; i++)
        a->c[i] = mldsa_caddq(a->c[i]);
}

void mldsa_poly_add(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *b)
{
    for (unsigned i = 0; i < MLDSA_N; i++)
        r->c[i] = a->c[i] + b->c[i];
}

void mldsa_poly_sub(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *b)
{
    for (unsigned i = 0; i < MLDSA_N; i++)
        r->c[i] = a->c[i] - b->c[i];
}

void mldsa_poly_shiftl(mldsa_poly *a, unsigned d)
{
    for (unsigned i = 0; i < MLDSA_N; i++)
        a->c[i] = (int32_t)((uint32_t)a->c[i] << d);
}

void mldsa_poly_power2round(mldsa_poly *a1, mldsa_poly *a0, const mldsa_poly *a, unsigned d)
{
    for (unsigned i = 0; i < MLDSA_N; i++) {
        int32_t x = a->c[i];
        /* Rounding with the tie going down keeps a0 in (-2^(d-1), 2^(d-1)]. */
        int32_t hi = (x + (1 << (d - 1)) - 1) >> d;
        a1->c[i] = hi;
        a0->c[i] = x - (hi << d);
    }
}

/* alpha is a compile-time constant at each call site below, so "/ alpha"
 * becomes a multiply-shift and runs in constant time. */
static inline void decompose_one(int32_t x, int32_t alpha, int32_t *hi, int32_t *lo)
{
    const int32_t m = (MLDSA_Q - 1) / alpha;
    /* r1 = round(x / alpha) with ties down, so r0 = x - r1 alpha is in
     * (-alpha/2, alpha/2]. */
    int32_t r1 = (x + alpha / 2 - 1) / alpha;
    int32_t r0 = x - r1 * alpha;
    /* FIPS 204: if x - r0 = q - 1 then r1 = 0 and r0 = r0 - 1; r1 == m is
     * exactly that case. mask = -1 when r1 > m - 1. */
    int32_t mask = (m - 1 - r1) >> 31;
    r1 &= ~mask;
    r0 += mask;
    *hi = r1;
    *lo = r0;
}

void mldsa_poly_decompose(mldsa_poly *a1, mldsa_poly *a0, const mldsa_poly *a, int32_t gamma2)
{
    if (gamma2 == (MLDSA_Q - 1) / 88) {
        for (unsigned i = 0; i < MLDSA_N; i++)
            decompose_one(a->c[i], 2 * ((MLDSA_Q - 1) / 88), &a1->c[i], &a0->c[i]);
    } else {
        for (unsigned i = 0; i < MLDSA_N; i++)
            decompose_one(a->c[i], 2 * ((MLDSA_Q - 1) / 32), &a1->c[i], &a0->c[i]);
    }
}

/* With r = w - cs2 and its low part a0' = w0 - cs2 (|a0'| < gamma2 - beta
 * after the signer's check) and z = ct0 (|z| < gamma2), adding ct0 changes
 * the high bits exactly when the new low part leaves [-gamma2, gamma2], or
 * sits on -gamma2 with a nonzero high part (that value rounds up to the
 * next interval). This is the standard shortcut for
 * MakeHint(-ct0, w - cs2 + ct0) and avoids a second decomposition. */
unsigned mldsa_poly_make_hint(mldsa_poly *h, const mldsa_poly *a0, const mldsa_poly *a1,
                              int32_t gamma2)
{
    unsigned n = 0;
    for (unsigned i = 0; i < MLDSA_N; i++) {
        int32_t x = a0->c[i];
        /* Branch-free: each term is 1 or 0 through sign-bit extraction. */
        uint32_t above = (uint32_t)(gamma2 - x) >> 31;                           /* x > gamma2 */
        uint32_t below = (uint32_t)(x + gamma2) >> 31;                           /* x < -gamma2 */
        uint32_t edge_x = ((uint32_t)((x + gamma2) | -(x + gamma2)) >> 31) ^ 1u; /* x == -gamma2 */
        uint32_t hi_nz = (uint32_t)(a1->c[i] | -a1->c[i]) >> 31;                 /* a1 != 0 */
        uint32_t bit = above | below | (edge_x & hi_nz);
        h->c[i] = (int32_t)bit;
        n += bit;
    }
    return n;
}

void mldsa_poly_use_hint(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *h, int32_t gamma2)
{
    mldsa_poly hi, lo;
    int32_t m = (MLDSA_Q - 1) / (2 * gamma2);
    mldsa_poly_decompose(&hi, &lo, a, gamma2);
    for (unsigned i = 0; i < MLDSA_N; i++) {
        int32_t v = hi.c[i];
        if (h->c[i]) {
            v += lo.c[i] > 0 ? 1 : -1;
            v = (v + m) % m;
        }
        r->c[i] = v;
    }
}

unsigned mldsa_poly_chknorm(const mldsa_poly *a, int32_t bound)
{
    uint32_t bad = 0;
    for (unsigned i = 0; i < MLDSA_N; i++) {
        int32_t x = a->c[i];
        int32_t abs = x - ((x >> 31) & (2 * x));  /* |x| without a branch */
        bad |= (uint32_t)(bound - 1 - abs) >> 31; /* abs >= bound */
    }
    return bad;
}
