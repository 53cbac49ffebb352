/* Internal sponge entry points for the lattice code: block-granular
 * squeezing avoids a copy per byte when sampling matrices, which is most of
 * the work in both schemes. */
#ifndef GREP11_PQC_KECCAK_INTERNAL_H
#define GREP11_PQC_KECCAK_INTERNAL_H

#include "pqc.h"

#define SHAKE128_RATE 168
#define SHAKE256_RATE 136
#define SHA3_256_RATE 136
#define SHA3_512_RATE 72

void keccak_f1600(uint64_t s[25]);

/* Pads and finalizes an absorbing state, then writes nblocks full rate
 * blocks. Only valid right after absorbing or after earlier whole-block
 * squeezes (pos == rate), which is how the samplers use it. */
void keccak_squeezeblocks(keccak_state *st, uint8_t *out, size_t nblocks);

/* Absorb helpers that cannot fail because the state is known good. */
void keccak_absorb_ok(keccak_state *st, const uint8_t *in, size_t len);

#endif
