/* Internal: byte encodings of keys, signatures and w1 (FIPS 204 section
 * 7.2 and the round-2 signature layout). Decoders are where untrusted bytes
 * enter, so they carry all the structural checks. */
#ifndef GREP11_PQC_MLDSA_PACK_H
#define GREP11_PQC_MLDSA_PACK_H

#include "mldsa_poly.h"

/* Signature field offsets: FIPS/round 3 are c~ || z || h, round 2 is
 * z || h || c (32-byte bitmap and 8 sign bytes). */
static inline unsigned mldsa_sig_off_z(const mldsa_params *p)
{
    return p->version == MLDSA_V_R2 ? 0 : p->ctilde_bytes;
}
static inline unsigned mldsa_sig_off_h(const mldsa_params *p)
{
    return mldsa_sig_off_z(p) + p->l * MLDSA_POLY_BYTES(p->z_bits);
}
static inline unsigned mldsa_sig_off_c(const mldsa_params *p)
{
    return p->version == MLDSA_V_R2 ? mldsa_sig_off_h(p) + p->omega + p->k : 0;
}
#define MLDSA_R2_C_BYTES 40

void mldsa_pack_pk(uint8_t *pk, const mldsa_params *p, const uint8_t rho[MLDSA_SEEDBYTES],
                   const mldsa_poly *t1);
/* Row i of t1 from an encoded public key. */
void mldsa_unpack_t1(mldsa_poly *t1, const mldsa_params *p, const uint8_t *pk, unsigned i);

/* rho, key and tr are copied as bytes; s1, s2 (|s| <= eta) and t0 packed. */
void mldsa_pack_sk(uint8_t *sk, const mldsa_params *p, const uint8_t *rho, const uint8_t *key,
                   const uint8_t *tr, const mldsa_poly *s1, const mldsa_poly *s2,
                   const mldsa_poly *t0);
/* Decodes s1, s2, t0 (any may be NULL to skip). PQC_ERR_BAD_KEY if an s
 * coefficient lies outside [-eta, eta]; the check is branch-free because
 * the coefficients are secret. */
pqc_rv mldsa_unpack_sk(const mldsa_params *p, const uint8_t *sk, mldsa_poly *s1, mldsa_poly *s2,
                       mldsa_poly *t0);

void mldsa_pack_w1(uint8_t *out, const mldsa_params *p, const mldsa_poly *w1);

/* z and h go to their offsets; the caller places c~ (or the round-2 c). */
void mldsa_pack_sig_zh(uint8_t *sig, const mldsa_params *p, const mldsa_poly *z,
                       const mldsa_poly *h);
/* Decodes z and h; PQC_ERR_BAD_SIGNATURE for a non-canonical hint field.
 * Either output may be NULL to only validate. */
pqc_rv mldsa_unpack_sig_zh(const mldsa_params *p, const uint8_t *sig, mldsa_poly *z, mldsa_poly *h);

/* Round 2 challenge encoding: position bitmap and 64 sign bits (signs
 * assigned to the nonzero positions in increasing order). */
void mldsa_r2_pack_c(uint8_t out[MLDSA_R2_C_BYTES], const mldsa_poly *c);
/* Inverse; the result is only meaningful for a canonical encoding, which
 * the verifier enforces by re-encoding the recomputed c and comparing. */
void mldsa_r2_unpack_c(mldsa_poly *c, const uint8_t in[MLDSA_R2_C_BYTES]);

#endif
