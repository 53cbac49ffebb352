/* Internal: matrix and noise sampling for ML-KEM / Kyber round 2. */
#ifndef GREP11_PQC_MLKEM_SAMPLE_H
#define GREP11_PQC_MLKEM_SAMPLE_H

#include "mlkem_poly.h"

/* A-hat[i][j] from rho (SampleNTT on rho || j || i). With transposed set,
 * out[i][j] = A-hat[j][i], which is what encryption multiplies by. The
 * round-2 set uses its older rejection rule. Coefficients in [0, q). */
void mlkem_gen_matrix(mlkem_poly *out, const mlkem_params *p, const uint8_t rho[MLKEM_SYMBYTES],
                      int transposed);
/* CBD_eta(PRF_eta(sigma, nonce)) (PRF = SHAKE256). */
void mlkem_sample_noise(mlkem_poly *a, const uint8_t sigma[MLKEM_SYMBYTES], uint8_t nonce,
                        unsigned eta);

#endif
