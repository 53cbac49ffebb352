/* Internal helpers shared by the pqc sources: little-endian loads, the
 * constant-time primitives the KEM/signature code relies on, and wiping. */
#ifndef GREP11_PQC_COMMON_H
#define GREP11_PQC_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>

#include "pqc.h"

/* Wiping goes through OPENSSL_cleanse so the compiler cannot drop it as a
 * dead store the way it may drop a memset before return. */
#define PQC_WIPE(p, n) OPENSSL_cleanse((p), (n))

static inline uint64_t pqc_load64_le(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

static inline void pqc_store64_le(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* 0 when equal, 1 otherwise, with time independent of the contents. */
static inline unsigned pqc_ct_neq(const uint8_t *a, const uint8_t *b, size_t len)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= a[i] ^ b[i];
    /* Folding to one bit with arithmetic keeps the compiler from turning the
     * result into an early-exit comparison. */
    return (unsigned)((-(uint32_t)acc) >> 31);
}

/* dst = cond ? src : dst, for cond in {0,1}, without a branch on cond. */
static inline void pqc_ct_cmov(uint8_t *dst, const uint8_t *src, size_t len, unsigned cond)
{
    uint8_t mask = (uint8_t)(-(int)cond);
    /* The volatile read stops the optimiser from proving mask is 0/0xFF and
     * re-introducing a branch. */
    volatile uint8_t vmask = mask;
    mask = vmask;
    for (size_t i = 0; i < len; i++)
        dst[i] ^= mask & (dst[i] ^ src[i]);
}

#define PQC_MAX_CTX 255

/* Declassification points: values derived from secrets that the standard
 * makes public anyway (w1 and c, the rejection decision, hint bits, rho of
 * a new ML-KEM key). The valgrind constant-time test builds the library
 * with PQC_CT_VALGRIND and secrets marked undefined; memcheck then reports
 * any branch or address that depends on a secret not released here. */
#ifdef PQC_CT_VALGRIND
#include <valgrind/memcheck.h>
#define PQC_DECLASSIFY(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define PQC_DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

#endif
