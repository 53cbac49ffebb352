/* Internal: polynomial arithmetic in Z_q[X]/(X^256 + 1), q = 8380417.
 *
 * Coefficients are int32 in a "loosely reduced" signed form; each function
 * states the bound it expects and returns so the NTT never overflows:
 *  - mldsa_poly_ntt: input |a| < q, output |a| < 9q.
 *  - pointwise/matvec: output |a| < q (one Montgomery reduction).
 *  - mldsa_poly_invntt_tomont: input |a| < q, output |a| < q, scaled by
 *    2^32 so that it cancels the 2^-32 of a preceding pointwise product.
 * Everything on secret data is branch-free; rounding helpers take gamma2
 * as a parameter but dispatch once per polynomial to constant divisors so
 * the compiler emits multiplications, never a data-dependent div. */
#ifndef GREP11_PQC_MLDSA_POLY_H
#define GREP11_PQC_MLDSA_POLY_H

#include <stdint.h>

#include "mldsa_params.h"

typedef struct {
    int32_t c[MLDSA_N];
} mldsa_poly;

#define MLDSA_QINV 58728449 /* q^-1 mod 2^32 */

/* a * 2^-32 mod q for |a| < 2^31 q; result in (-q, q). */
static inline int32_t mldsa_mont_reduce(int64_t a)
{
    int32_t t = (int32_t)((uint64_t)a * MLDSA_QINV);
    return (int32_t)((a - (int64_t)t * MLDSA_Q) >> 32);
}

/* For |a| <= 2^31 - 2^22: representative in [-6283008, 6283008]. */
static inline int32_t mldsa_reduce32(int32_t a)
{
    int32_t t = (a + (1 << 22)) >> 23;
    return a - t * MLDSA_Q;
}

/* Adds q to negative a: (-q, q) -> [0, q). */
static inline int32_t mldsa_caddq(int32_t a)
{
    return a + ((a >> 31) & MLDSA_Q);
}

void mldsa_poly_ntt(mldsa_poly *a);
void mldsa_poly_invntt_tomont(mldsa_poly *a);
/* r = a o b * 2^-32 (NTT domain); inputs |a|,|b| < 9q. */
void mldsa_poly_pointwise(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *b);
/* r = sum_j a[j] o v[j] * 2^-32 with one reduction: a[j] in [0, q), |v| < 9q. */
void mldsa_poly_matvec_row(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *v, unsigned l);

void mldsa_poly_reduce(mldsa_poly *a);
void mldsa_poly_caddq(mldsa_poly *a);
void mldsa_poly_add(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *b);
void mldsa_poly_sub(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *b);
void mldsa_poly_shiftl(mldsa_poly *a, unsigned d);

/* Power2Round on a in [0, q): a = a1 * 2^d + a0, a0 in (-2^(d-1), 2^(d-1)]. */
void mldsa_poly_power2round(mldsa_poly *a1, mldsa_poly *a0, const mldsa_poly *a, unsigned d);
/* Decompose on a in [0, q) with alpha = 2 gamma2 (FIPS 204 Algorithm 36). */
void mldsa_poly_decompose(mldsa_poly *a1, mldsa_poly *a0, const mldsa_poly *a, int32_t gamma2);
/* Hint bits from the low part of w - cs2 + ct0 and the high part w1;
 * returns the number of ones. Equivalent to FIPS 204 MakeHint given the
 * signer's prior norm checks (see mldsa_poly.c). */
unsigned mldsa_poly_make_hint(mldsa_poly *h, const mldsa_poly *a0, const mldsa_poly *a1,
                              int32_t gamma2);
/* UseHint on a in [0, q) (verification only: public data). */
void mldsa_poly_use_hint(mldsa_poly *r, const mldsa_poly *a, const mldsa_poly *h, int32_t gamma2);

/* 1 if some |coefficient| >= bound, else 0; coefficients must be reduced
 * (|a| <= (q-1)/8 suffices for the bounds used). Scans the whole polynomial
 * so its time does not reveal where a large coefficient sits. */
unsigned mldsa_poly_chknorm(const mldsa_poly *a, int32_t bound);

#endif
