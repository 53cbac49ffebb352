/* Internal: K-PKE, the CPA-secure encryption under ML-KEM (FIPS 203
 * section 5). Lengths are the caller's responsibility. */
#ifndef GREP11_PQC_MLKEM_KPKE_H
#define GREP11_PQC_MLKEM_KPKE_H

#include "mlkem_params.h"

void mlkem_kpke_keygen(const mlkem_params *p, const uint8_t d[MLKEM_SYMBYTES], uint8_t *ek,
                       uint8_t *dkpke);
/* ek must already have passed the modulus check. */
void mlkem_kpke_encrypt(const mlkem_params *p, const uint8_t *ek, const uint8_t m[MLKEM_SYMBYTES],
                        const uint8_t r[MLKEM_SYMBYTES], uint8_t *ct);
void mlkem_kpke_decrypt(const mlkem_params *p, const uint8_t *dkpke, const uint8_t *ct,
                        uint8_t m[MLKEM_SYMBYTES]);

#endif
