/* Internal: the XOF-driven samplers of the Dilithium family (FIPS 204
 * section 7.3 and the round-2 variants). */
#ifndef GREP11_PQC_MLDSA_SAMPLE_H
#define GREP11_PQC_MLDSA_SAMPLE_H

#include "keccak_internal.h"
#include "mldsa_poly.h"

/* A[row][col] = RejNTTPoly(rho || col || row); coefficients in [0, q). */
void mldsa_sample_uniform(mldsa_poly *a, const uint8_t rho[MLDSA_SEEDBYTES], unsigned row,
                          unsigned col);
/* The whole k x l matrix, row-major (A[row * l + col]). */
void mldsa_expand_a(mldsa_poly *a, const mldsa_params *p, const uint8_t rho[MLDSA_SEEDBYTES]);
/* s with coefficients in [-eta, eta] from rho' and a 16-bit nonce. */
void mldsa_sample_eta(mldsa_poly *a, const mldsa_params *p, const uint8_t *rhoprime,
                      uint16_t nonce);
/* Mask y with coefficients in (-gamma1, gamma1] (round 2: [-(gamma1-1), gamma1-1]). */
void mldsa_sample_mask(mldsa_poly *y, const mldsa_params *p, const uint8_t *rhopp, uint16_t nonce);
/* Challenge with tau coefficients of +-1 drawn from an XOF state that has
 * absorbed its seed (c~ for FIPS/round 3, mu || w1 for round 2). */
void mldsa_sample_in_ball(mldsa_poly *c, keccak_state *xof, unsigned tau);

#endif
