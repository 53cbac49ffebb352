/* GHASH (GCM's universal hash) without tables: carry-less products come from
 * integer multiplications on bit-spread operands, so no memory access or
 * branch depends on the key H or the data. */
#ifndef GREP11_ENGINE_GHASH_H
#define GREP11_ENGINE_GHASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t hh, hl; /* H as a big-endian 128-bit number */
} ghash_key;

void ghash_init(ghash_key *k, const uint8_t h[16]);
/* Y <- (Y xor X_i) * H for each 16-byte block of data (n a multiple of 16). */
void ghash_blocks(const ghash_key *k, uint8_t y[16], const uint8_t *data, size_t n);

#endif
