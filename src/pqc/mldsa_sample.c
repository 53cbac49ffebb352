/* Samplers for the Dilithium family.
 *
 * All of them consume the XOF as a stream: bytes are taken in order and a
 * rejected candidate simply advances the stream, which is what FIPS 204
 * specifies and what the reference code does with its refill buffers. We
 * squeeze whole blocks (no per-byte copies) and only keep a small carry
 * when a candidate straddles a block edge. */
#include "mldsa_sample.h"

#include "pqc_bits.h"
#include "pqc_common.h"

/* Five SHAKE128 blocks (840 bytes) give 280 candidates; each is rejected
 * with probability below 2^-10, so a sixth block is rarely needed, and
 * the loop below squeezes one when it is. */
#define UNIFORM_BLOCKS 5

void mldsa_sample_uniform(mldsa_poly *a, const uint8_t rho[MLDSA_SEEDBYTES], unsigned row,
                          unsigned col)
{
    uint8_t buf[UNIFORM_BLOCKS * SHAKE128_RATE + 2];
    uint8_t seed[MLDSA_SEEDBYTES + 2];
    keccak_state st;
    unsigned ctr = 0, pos = 0, len;

    memcpy(seed, rho, MLDSA_SEEDBYTES);
    seed[MLDSA_SEEDBYTES] = (uint8_t)col;
    seed[MLDSA_SEEDBYTES + 1] = (uint8_t)row;
    shake128_init(&st);
    keccak_absorb_ok(&st, seed, sizeof(seed));
    keccak_squeezeblocks(&st, buf, UNIFORM_BLOCKS);
    len = UNIFORM_BLOCKS * SHAKE128_RATE;

    for (;;) {
        while (ctr < MLDSA_N && pos + 3 <= len) {
            uint32_t t = (uint32_t)buf[pos] | (uint32_t)buf[pos + 1] << 8 |
                         (uint32_t)(buf[pos + 2] & 0x7F) << 16;
            pos += 3;
            if (t < MLDSA_Q)
                a->c[ctr++] = (int32_t)t;
        }
        if (ctr == MLDSA_N)
            break;
        /* Keep the 0..2 unread bytes in front of the next block. */
        unsigned rest = len - pos;
        memmove(buf, buf + pos, rest);
        keccak_squeezeblocks(&st, buf + rest, 1);
        len = rest + SHAKE128_RATE;
        pos = 0;
    }
}

void mldsa_expand_a(mldsa_poly *a, const mldsa_params *p, const uint8_t rho[MLDSA_SEEDBYTES])
{
    for (unsigned i = 0; i < p->k; i++)
        for (unsigned j = 0; j < p->l; j++)
            mldsa_sample_uniform(&a[i * p->l + j], rho, i, j);
}

/* Maps one candidate t to eta - f(t) if accepted. Accept/reject depends on
 * secret XOF output; FIPS 204 rejection sampling inherently leaks only the
 * number of draws, which is independent of the accepted values. The value
 * itself is computed without branches or tables. */
static inline int eta_candidate(unsigned eta, unsigned t, int32_t *out)
{
    switch (eta) {
    case 2:
        /* t mod 5 for t < 15 via multiply-shift: 205/1024 ~ 1/5. */
        *out = 2 - (int32_t)(t - 5 * ((t * 205) >> 10));
        return t < 15;
    case 4:
        *out = 4 - (int32_t)t;
        return t < 9;
    default: /* round 2, eta = 3: 3-bit candidates */
        *out = 3 - (int32_t)t;
        return t <= 6;
    }
}

void mldsa_sample_eta(mldsa_poly *a, const mldsa_params *p, const uint8_t *rhoprime, uint16_t nonce)
{
    uint8_t buf[SHAKE128_RATE]; /* the larger of the two rates */
    uint8_t nb[2] = {(uint8_t)nonce, (uint8_t)(nonce >> 8)};
    keccak_state st;
    unsigned ctr = 0;
    const unsigned eta = p->eta;
    unsigned blocklen;

    /* Round 2 drew s1/s2 from SHAKE128 and 3-bit chunks; later rounds from
     * SHAKE256 and nibbles. */
    if (p->version == MLDSA_V_R2) {
        shake128_init(&st);
        blocklen = SHAKE128_RATE;
    } else {
        shake256_init(&st);
        blocklen = SHAKE256_RATE;
    }
    keccak_absorb_ok(&st, rhoprime, p->rhoprime_bytes);
    keccak_absorb_ok(&st, nb, 2);

    uint8_t *out = buf;
    while (ctr < MLDSA_N) {
        keccak_squeezeblocks(&st, out, 1);
        for (unsigned pos = 0; pos < blocklen && ctr < MLDSA_N; pos++) {
            unsigned lo, hi;
            int32_t v;
            if (eta == 3) {
                lo = out[pos] & 0x07;
                hi = out[pos] >> 5;
            } else {
                lo = out[pos] & 0x0F;
                hi = out[pos] >> 4;
            }
            if (eta_candidate(eta, lo, &v))
                a->c[ctr++] = v;
            if (ctr < MLDSA_N && eta_candidate(eta, hi, &v))
                a->c[ctr++] = v;
        }
    }
    PQC_WIPE(buf, sizeof(buf));
    keccak_wipe(&st);
}

/* FIPS 204 ExpandMask and round 3: BitUnpack of 18- or 20-bit fields, no
 * rejection, coefficient gamma1 - t. */
static void mask_unpack(mldsa_poly *y, const uint8_t *buf, unsigned bits, int32_t gamma1)
{
    uint32_t v[MLDSA_N];
    pqc_unpack_bits(v, buf, MLDSA_N, bits);
    for (unsigned i = 0; i < MLDSA_N; i++)
        y->c[i] = gamma1 - (int32_t)v[i];
    PQC_WIPE(v, sizeof(v));
}

/* Round 2: two 20-bit candidates per 5 bytes, accepted if <= 2 gamma1 - 2,
 * coefficient gamma1 - 1 - t. Rejection on secret data is part of that
 * design (superseded by the branch-free unpacking above in round 3). */
static void mask_reject_r2(mldsa_poly *y, keccak_state *st, int32_t gamma1)
{
    uint8_t buf[SHAKE256_RATE * 5 + 4];
    unsigned len = SHAKE256_RATE * 5, pos = 0, ctr = 0;
    const uint32_t bound = (uint32_t)(2 * gamma1 - 2);

    keccak_squeezeblocks(st, buf, 5);
    for (;;) {
        while (ctr < MLDSA_N && pos + 5 <= len) {
            uint32_t t0 =
                ((uint32_t)buf[pos] | (uint32_t)buf[pos + 1] << 8 | (uint32_t)buf[pos + 2] << 16) &
                0xFFFFF;
            uint32_t t1 = (uint32_t)buf[pos + 2] >> 4 | (uint32_t)buf[pos + 3] << 4 |
                          (uint32_t)buf[pos + 4] << 12;
            pos += 5;
            /* Only the accept bits are released: they are a function of the
             * PRF stream, and the rejected values are discarded. */
            unsigned ok0 = t0 <= bound, ok1 = t1 <= bound;
            PQC_DECLASSIFY(&ok0, sizeof(ok0));
            PQC_DECLASSIFY(&ok1, sizeof(ok1));
            if (ok0)
                y->c[ctr++] = gamma1 - 1 - (int32_t)t0;
            if (ok1 && ctr < MLDSA_N)
                y->c[ctr++] = gamma1 - 1 - (int32_t)t1;
        }
        if (ctr == MLDSA_N)
            break;
        unsigned rest = len - pos;
        memmove(buf, buf + pos, rest);
        keccak_squeezeblocks(st, buf + rest, 1);
        len = rest + SHAKE256_RATE;
        pos = 0;
    }
    PQC_WIPE(buf, sizeof(buf));
}

void mldsa_sample_mask(mldsa_poly *y, const mldsa_params *p, const uint8_t *rhopp, uint16_t nonce)
{
    uint8_t nb[2] = {(uint8_t)nonce, (uint8_t)(nonce >> 8)};
    keccak_state st;

    shake256_init(&st);
    keccak_absorb_ok(&st, rhopp, p->rhopp_bytes);
    keccak_absorb_ok(&st, nb, 2);
    if (p->version == MLDSA_V_R2) {
        mask_reject_r2(y, &st, p->gamma1);
    } else {
        /* 32 * 20 = 640 bytes at most: five SHAKE256 blocks. */
        uint8_t buf[5 * SHAKE256_RATE];
        keccak_squeezeblocks(&st, buf, 5);
        mask_unpack(y, buf, p->z_bits, p->gamma1);
        PQC_WIPE(buf, sizeof(buf));
    }
    keccak_wipe(&st);
}

void mldsa_sample_in_ball(mldsa_poly *c, keccak_state *xof, unsigned tau)
{
    uint8_t buf[SHAKE256_RATE];
    uint64_t signs;
    unsigned pos;

    keccak_squeezeblocks(xof, buf, 1);
    signs = pqc_load64_le(buf);
    pos = 8;
    memset(c->c, 0, sizeof(c->c));
    /* c is public (it is recoverable from the signature), so branching on
     * the XOF bytes here reveals nothing. */
    for (unsigned i = MLDSA_N - tau; i < MLDSA_N; i++) {
        unsigned j;
        do {
            if (pos == SHAKE256_RATE) {
                keccak_squeezeblocks(xof, buf, 1);
                pos = 0;
            }
            j = buf[pos++];
        } while (j > i);
        c->c[i] = c->c[j];
        c->c[j] = 1 - 2 * (int32_t)(signs & 1);
        signs >>= 1;
    }
}
