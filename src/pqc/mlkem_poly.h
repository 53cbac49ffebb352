/* Internal: arithmetic in Z_q[X]/(X^256 + 1), q = 3329, for ML-KEM.
 *
 * int16 coefficients with Montgomery (R = 2^16) and Barrett reduction.
 * Bounds the callers rely on:
 *  - mlkem_poly_ntt: input |a| < q; output Barrett-reduced (|a| <= q/2).
 *  - mlkem_poly_basemul_acc: one operand reduced (|x| <= q/2), the other
 *    below 2^12; output |r| < q, scaled by 2^-16.
 *  - mlkem_poly_invntt_tomont: input |a| < q; output |a| < q, scaled by
 *    2^16 to cancel the basemul factor.
 * No function branches on or indexes by coefficient values. */
#ifndef GREP11_PQC_MLKEM_POLY_H
#define GREP11_PQC_MLKEM_POLY_H

#include <stdint.h>

#include "mlkem_params.h"

typedef struct {
    int16_t c[MLKEM_N];
} mlkem_poly;

#define MLKEM_QINV (-3327) /* q^-1 mod 2^16, signed */

/* a * 2^-16 mod q for |a| < 2^15 q; result in (-q, q). */
static inline int16_t mlkem_mont_reduce(int32_t a)
{
    int16_t t = (int16_t)(uint16_t)((uint32_t)a * (uint16_t)MLKEM_QINV);
    return (int16_t)((a - (int32_t)t * MLKEM_Q) >> 16);
}

/* Centred representative in [-(q-1)/2, (q-1)/2] for any int16 a. */
static inline int16_t mlkem_barrett_reduce(int16_t a)
{
    /* v = round(2^26 / q): a * v / 2^26 approximates a / q closely enough
     * for a quotient exact to within one, fixed by the rounding offset. */
    const int32_t v = ((1 << 26) + MLKEM_Q / 2) / MLKEM_Q;
    int16_t t = (int16_t)((v * a + (1 << 25)) >> 26);
    return (int16_t)(a - t * MLKEM_Q);
}

static inline int16_t mlkem_fqmul(int16_t a, int16_t b)
{
    return mlkem_mont_reduce((int32_t)a * b);
}

void mlkem_poly_ntt(mlkem_poly *a);
void mlkem_poly_invntt_tomont(mlkem_poly *a);
/* r = sum_j a[j] o b[j] (MultiplyNTTs) times 2^-16. */
void mlkem_poly_basemul_acc(mlkem_poly *r, const mlkem_poly *a, const mlkem_poly *b, unsigned k);
void mlkem_poly_tomont(mlkem_poly *a);
void mlkem_poly_reduce(mlkem_poly *a);
void mlkem_poly_add(mlkem_poly *r, const mlkem_poly *a, const mlkem_poly *b);
void mlkem_poly_sub(mlkem_poly *r, const mlkem_poly *a, const mlkem_poly *b);

/* ByteEncode_12 of the canonical representatives (input any |a| < q). */
void mlkem_poly_tobytes(uint8_t out[MLKEM_POLYBYTES], const mlkem_poly *a);
/* ByteDecode_12, reduced (values >= q are brought below q/2 in size). */
void mlkem_poly_frombytes(mlkem_poly *a, const uint8_t in[MLKEM_POLYBYTES]);
/* 1 when every 12-bit field of n encoded polynomials is below q (the
 * FIPS 203 section 7.2 modulus check), else 0. */
int mlkem_polys_reduced(const uint8_t *in, unsigned n);

/* Compress_d then ByteEncode_d, and the inverse, for d in {1,4,5,10,11}. */
void mlkem_poly_compress(uint8_t *out, const mlkem_poly *a, unsigned d);
void mlkem_poly_decompress(mlkem_poly *a, const uint8_t *in, unsigned d);
/* Compress_d of one canonical value; exposed for the exhaustive test. */
uint32_t mlkem_compress_value(uint32_t x, unsigned d);
void mlkem_poly_frommsg(mlkem_poly *a, const uint8_t m[MLKEM_SYMBYTES]);
void mlkem_poly_tomsg(uint8_t m[MLKEM_SYMBYTES], const mlkem_poly *a);

/* SamplePolyCBD_eta over 64 * eta bytes, eta in {2, 3}. */
void mlkem_poly_cbd(mlkem_poly *a, const uint8_t *buf, unsigned eta);

#endif
