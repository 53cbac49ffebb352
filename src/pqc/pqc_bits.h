/* Internal: little-endian fixed-width bit packing, the one encoding both
 * FIPS 203 (ByteEncode_d) and FIPS 204 (SimpleBitPack) use. The loop shape
 * depends only on n and bits, never on the values, so it is safe for
 * secret coefficients. */
#ifndef GREP11_PQC_BITS_H
#define GREP11_PQC_BITS_H

#include <stddef.h>
#include <stdint.h>

/* n * bits must be a multiple of 8; values must fit in bits (1..24). */
static inline void pqc_pack_bits(uint8_t *out, const uint32_t *v, size_t n, unsigned bits)
{
    uint64_t acc = 0;
    unsigned have = 0;
    for (size_t i = 0; i < n; i++) {
        acc |= (uint64_t)v[i] << have;
        have += bits;
        while (have >= 8) {
            *out++ = (uint8_t)acc;
            acc >>= 8;
            have -= 8;
        }
    }
}

static inline void pqc_unpack_bits(uint32_t *v, const uint8_t *in, size_t n, unsigned bits)
{
    const uint32_t mask = (1u << bits) - 1;
    uint64_t acc = 0;
    unsigned have = 0;
    for (size_t i = 0; i < n; i++) {
        while (have < bits) {
            acc |= (uint64_t)*in++ << have;
            have += 8;
        }
        v[i] = (uint32_t)acc & mask;
        acc >>= bits;
        have -= bits;
    }
}

#endif
