/* Internal: the core operations shared by the ML-DSA entry points. */
#ifndef GREP11_PQC_MLDSA_INTERNAL_H
#define GREP11_PQC_MLDSA_INTERNAL_H

#include "mldsa_params.h"
#include "mldsa_poly.h"

/* Resolves a set or says why not (unknown vs. known-but-unsupported). */
pqc_rv mldsa_lookup(mldsa_set set, const mldsa_params **out);

/* t = A s1 + s2 split into (t1, t0); rows are expanded on the fly so keygen
 * never holds the whole matrix. s1 is taken in the normal domain. */
void mldsa_compute_t(const mldsa_params *p, const uint8_t rho[MLDSA_SEEDBYTES],
                     const mldsa_poly *s1, const mldsa_poly *s2, mldsa_poly *t1, mldsa_poly *t0);

/* Signs a message representative mu (mu_bytes) with an expanded sk whose
 * length the caller checked. rnd: rnd_bytes or NULL (deterministic). */
pqc_rv mldsa_sign_mu_core(const mldsa_params *p, const uint8_t *sk, const uint8_t *mu,
                          const uint8_t *rnd, uint8_t *sig);
/* PQC_OK, PQC_ERR_BAD_SIGNATURE (malformed) or PQC_ERR_VERIFY_FAILED. */
pqc_rv mldsa_verify_mu_core(const mldsa_params *p, const uint8_t *pk, const uint8_t *mu,
                            const uint8_t *sig);

/* mu for the pure interface (prefix 0 || len(ctx) || ctx on FIPS sets). */
pqc_rv mldsa_mu_pure(const mldsa_params *p, const uint8_t *tr, const uint8_t *msg, size_t msglen,
                     const uint8_t *ctx, size_t ctxlen, uint8_t *mu);
/* mu = H(tr || M') for the internal interface. */
void mldsa_mu_raw(const mldsa_params *p, const uint8_t *tr, const uint8_t *mprime, size_t mlen,
                  uint8_t *mu);
/* tr = H(pk). */
void mldsa_tr_from_pk(const mldsa_params *p, const uint8_t *pk, uint8_t *tr);

#endif
