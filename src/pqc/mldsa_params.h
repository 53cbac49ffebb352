/* Internal: the parameter/variant record that lets one ML-DSA code path
 * serve FIPS 204 and the round-2/round-3 Dilithium sets. Every rule that
 * differs between rounds is a field here, so the algorithm files branch on
 * data (public) and never keep per-round copies of the code. */
#ifndef GREP11_PQC_MLDSA_PARAMS_H
#define GREP11_PQC_MLDSA_PARAMS_H

#include <stdint.h>

#include "pqc.h"

#define MLDSA_N 256
#define MLDSA_Q 8380417
#define MLDSA_SEEDBYTES 32
#define MLDSA_MAX_K 8
#define MLDSA_MAX_L 7
#define MLDSA_CRH_MAX 64 /* largest tr / mu / rho' size */

typedef enum {
    MLDSA_V_R2 = 2,  /* round 2 (2019) */
    MLDSA_V_R3 = 3,  /* round 3 spec v3.1 */
    MLDSA_V_FIPS = 4 /* FIPS 204 */
} mldsa_version;

typedef struct {
    mldsa_set set;
    mldsa_version version;
    const char *name;
    uint8_t k, l;
    uint8_t eta, tau, omega, d;
    uint16_t beta;
    int32_t gamma1, gamma2;
    uint8_t ctilde_bytes;   /* c~ length (0 for round 2: c is sent as a bitmap) */
    uint8_t tr_bytes;       /* tr = H(pk) length */
    uint8_t mu_bytes;       /* mu length */
    uint8_t rhoprime_bytes; /* seed of ExpandS */
    uint8_t rhopp_bytes;    /* seed of ExpandMask (rho'' / rho') */
    uint8_t eta_bits, t1_bits, z_bits, w1_bits;
    uint8_t seed_bytes; /* keygen input length */
    uint8_t rnd_bytes;  /* signing randomness length */
    uint16_t pk_bytes, sk_bytes, sig_bytes;
} mldsa_params;

/* NULL for unknown sets and for DILITHIUM_R2_87 (no public definition). */
const mldsa_params *mldsa_params_get(mldsa_set set);

/* Byte lengths of one packed polynomial of each kind. */
#define MLDSA_POLY_BYTES(bits) ((MLDSA_N * (bits)) / 8)

/* Offsets inside an expanded secret key rho || K || tr || s1 || s2 || t0. */
static inline unsigned mldsa_sk_off_tr(const mldsa_params *p)
{
    (void)p;
    return 2 * MLDSA_SEEDBYTES;
}
static inline unsigned mldsa_sk_off_s1(const mldsa_params *p)
{
    return 2 * MLDSA_SEEDBYTES + p->tr_bytes;
}
static inline unsigned mldsa_sk_off_s2(const mldsa_params *p)
{
    return mldsa_sk_off_s1(p) + p->l * MLDSA_POLY_BYTES(p->eta_bits);
}
static inline unsigned mldsa_sk_off_t0(const mldsa_params *p)
{
    return mldsa_sk_off_s2(p) + p->k * MLDSA_POLY_BYTES(p->eta_bits);
}

#endif
