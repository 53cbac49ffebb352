/* White-box checks of the arithmetic the vectors exercise only indirectly:
 * NTT products against schoolbook negacyclic multiplication, exhaustive
 * Decompose/Power2Round against their FIPS 204 definitions, and exhaustive
 * Barrett reduction and Compress_d against exact rational rounding (the
 * constant-time forms replace divisions, so every input is checked). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mldsa_poly.h"
#include "mlkem_poly.h"
#include "pqc_testutil.h"

static tcount tc;
static long check_id;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        check_id++;                                                                                \
        if (cond)                                                                                  \
            tc_pass(&tc);                                                                          \
        else                                                                                       \
            tc_fail(&tc, check_id, __VA_ARGS__);                                                   \
    } while (0)

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd32(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static int64_t modq(int64_t a, int64_t q)
{
    a %= q;
    return a < 0 ? a + q : a;
}

static void dsa_ntt_mul(void **state)
{
    (void)state;
    const int64_t q = MLDSA_Q;
    for (int trial = 0; trial < 20; trial++) {
        mldsa_poly a, b, r;
        int64_t ref[MLDSA_N] = {0};
        for (int i = 0; i < MLDSA_N; i++) {
            a.c[i] = (int32_t)(rnd32() % MLDSA_Q) - MLDSA_Q / 2;
            b.c[i] = (int32_t)(rnd32() % MLDSA_Q);
        }
        for (int i = 0; i < MLDSA_N; i++)
            for (int j = 0; j < MLDSA_N; j++) {
                int64_t p = modq((int64_t)a.c[i] * b.c[j], q);
                int k = i + j;
                if (k >= MLDSA_N)
                    ref[k - MLDSA_N] = modq(ref[k - MLDSA_N] - p, q);
                else
                    ref[k] = modq(ref[k] + p, q);
            }
        mldsa_poly_ntt(&a);
        mldsa_poly_ntt(&b);
        mldsa_poly_pointwise(&r, &a, &b);
        mldsa_poly_invntt_tomont(&r);
        int ok = 1;
        for (int i = 0; i < MLDSA_N; i++)
            ok &= modq(r.c[i], q) == ref[i] && r.c[i] > -MLDSA_Q && r.c[i] < MLDSA_Q;
        CHECK(ok, "ML-DSA NTT product trial %d", trial);
    }
}

static void dsa_rounding(void **state)
{
    (void)state;
    const int32_t g2s[2] = {(MLDSA_Q - 1) / 88, (MLDSA_Q - 1) / 32};
    static mldsa_poly a, a1, a0;
    for (int gi = 0; gi < 2; gi++) {
        const int32_t alpha = 2 * g2s[gi];
        unsigned bad = 0;
        for (int32_t base = 0; base < MLDSA_Q; base += MLDSA_N) {
            for (int i = 0; i < MLDSA_N; i++)
                a.c[i] = base + i < MLDSA_Q ? base + i : 0;
            mldsa_poly_decompose(&a1, &a0, &a, g2s[gi]);
            for (int i = 0; i < MLDSA_N; i++) {
                int32_t r = a.c[i];
                int32_t r0 = r % alpha; /* FIPS 204 Algorithm 36, literally */
                if (r0 > alpha / 2)
                    r0 -= alpha;
                int32_t r1;
                if (r - r0 == MLDSA_Q - 1) {
                    r1 = 0;
                    r0 -= 1;
                } else {
                    r1 = (r - r0) / alpha;
                }
                bad += a1.c[i] != r1 || a0.c[i] != r0;
            }
        }
        CHECK(bad == 0, "decompose gamma2=%d: %u mismatches", g2s[gi], bad);
    }
    for (unsigned d = 13; d <= 14; d++) {
        unsigned bad = 0;
        for (int32_t base = 0; base < MLDSA_Q; base += MLDSA_N) {
            for (int i = 0; i < MLDSA_N; i++)
                a.c[i] = base + i < MLDSA_Q ? base + i : 0;
            mldsa_poly_power2round(&a1, &a0, &a, d);
            for (int i = 0; i < MLDSA_N; i++) {
                int32_t r0 = a.c[i] % (1 << d);
                if (r0 > (1 << (d - 1)))
                    r0 -= 1 << d;
                bad += a0.c[i] != r0 || a1.c[i] != (a.c[i] - r0) >> d;
            }
        }
        CHECK(bad == 0, "power2round d=%u: %u mismatches", d, bad);
    }
}

static void kem_ntt_mul(void **state)
{
    (void)state;
    const int64_t q = MLKEM_Q;
    for (int trial = 0; trial < 20; trial++) {
        mlkem_poly a, b, r;
        int64_t ref[MLKEM_N] = {0};
        for (int i = 0; i < MLKEM_N; i++) {
            a.c[i] = (int16_t)((int)(rnd32() % MLKEM_Q) - MLKEM_Q / 2);
            b.c[i] = (int16_t)(rnd32() % MLKEM_Q);
        }
        for (int i = 0; i < MLKEM_N; i++)
            for (int j = 0; j < MLKEM_N; j++) {
                int64_t p = modq((int64_t)a.c[i] * b.c[j], q);
                int k = i + j;
                if (k >= MLKEM_N)
                    ref[k - MLKEM_N] = modq(ref[k - MLKEM_N] - p, q);
                else
                    ref[k] = modq(ref[k] + p, q);
            }
        mlkem_poly_ntt(&a);
        mlkem_poly_ntt(&b);
        mlkem_poly_basemul_acc(&r, &a, &b, 1);
        mlkem_poly_invntt_tomont(&r);
        int ok = 1;
        for (int i = 0; i < MLKEM_N; i++)
            ok &= modq(r.c[i], q) == ref[i];
        CHECK(ok, "ML-KEM NTT product trial %d", trial);
    }
}

static void kem_reduce_compress(void **state)
{
    (void)state;
    unsigned bad = 0;
    for (int32_t a = -32768; a < 32768; a++) {
        int16_t r = mlkem_barrett_reduce((int16_t)a);
        bad += modq(r - a, MLKEM_Q) != 0 || r < -(MLKEM_Q - 1) / 2 || r > (MLKEM_Q - 1) / 2;
    }
    CHECK(bad == 0, "barrett: %u mismatches", bad);
    bad = 0;
    for (int32_t a = -32768 * MLKEM_Q + 1; a < 32768 * MLKEM_Q; a += 4099) {
        int16_t r = mlkem_mont_reduce(a);
        bad += modq((int64_t)r * 65536 - a, MLKEM_Q) != 0 || r <= -MLKEM_Q || r >= MLKEM_Q;
    }
    CHECK(bad == 0, "montgomery: %u mismatches", bad);
    const unsigned ds[] = {1, 4, 5, 10, 11};
    for (size_t di = 0; di < sizeof(ds) / sizeof(ds[0]); di++) {
        unsigned d = ds[di];
        bad = 0;
        for (uint32_t x = 0; x < MLKEM_Q; x++) {
            /* round(2^d x / q) with ties up = floor((2^(d+1) x + q) / 2q). */
            uint32_t want =
                (uint32_t)((((uint64_t)x << (d + 1)) + MLKEM_Q) / (2 * MLKEM_Q)) & ((1u << d) - 1);
            bad += mlkem_compress_value(x, d) != want;
        }
        CHECK(bad == 0, "compress d=%u: %u mismatches", d, bad);
    }
}

static int setup(void **state)
{
    (void)state;
    tc_init(&tc, "pqc_internal");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return tc_report(&tc) ? 0 : -1;
}

static void all_checks_passed(void **state)
{
    (void)state;
    assert_int_equal(tc.fail, 0);
    assert_true(tc.pass > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dsa_ntt_mul),       cmocka_unit_test(dsa_rounding),
        cmocka_unit_test(kem_ntt_mul),       cmocka_unit_test(kem_reduce_compress),
        cmocka_unit_test(all_checks_passed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
