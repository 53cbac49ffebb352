/* Independent EC-Schnorr for the tests of CKM_IBM_ECDSA_OTHER: the scheme
 * computed by code that is not grep11's, to check the engine's signatures
 * against and to make signatures the engine must accept.
 *
 * - libsecp256k1 (Debian's libsecp256k1-dev; secp256k1 only), through its
 *   public point API: pubkey_create (xG), pubkey_tweak_mul (xP),
 *   pubkey_combine, seckey tweaks for s.
 * - tests/common/ecsdsa_ref.py, plain Python integers (every 256-bit curve
 *   the engine offers), run as a child process.
 *
 * variant: 3 = ECSG_IBM_ECSDSA_S256, 5 = ECSG_IBM_ECSDSA_COMPR_MULTI.
 * pub: the uncompressed point (65 bytes). sig: r || s (64 bytes).
 * Verify: 1 valid, 0 invalid, -1 could not run. Sign: 0 ok, -1 failed. */
#ifndef GREP11_SCHNORR_REF_H
#define GREP11_SCHNORR_REF_H

#include <stddef.h>
#include <stdint.h>

int sref_k1_verify(unsigned long variant, const uint8_t pub[65], const uint8_t *msg, size_t mlen,
                   const uint8_t sig[64]);
/* d·G uncompressed (libsecp256k1). */
int sref_k1_point(const uint8_t d[32], uint8_t pub[65]);
int sref_k1_sign(unsigned long variant, const uint8_t d[32], const uint8_t k[32],
                 const uint8_t *msg, size_t mlen, uint8_t sig[64]);

/* curve: "P-256", "secp256k1" or "brainpoolP256r1". */
int sref_py_verify(const char *curve, unsigned long variant, const uint8_t pub[65],
                   const uint8_t *msg, size_t mlen, const uint8_t sig[64]);
int sref_py_sign(const char *curve, unsigned long variant, const uint8_t d[32], const uint8_t k[32],
                 const uint8_t *msg, size_t mlen, uint8_t sig[64]);

#endif
