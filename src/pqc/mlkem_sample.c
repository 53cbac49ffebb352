/* SampleNTT (FIPS 203 Algorithm 7), the round-2 Parse rule, and the PRF
 * noise. Matrix entries are public, so the rejection loops may branch; the
 * noise path is straight-line. */
#include "mlkem_sample.h"
#include "keccak_internal.h"
#include "pqc_common.h"

/* Three SHAKE128 blocks hold 336 FIPS candidates (about 273 accepted on
 * average) and cover most entries; more blocks are squeezed on demand. */
#define GEN_BLOCKS 3

/* FIPS 203 / round 3: 12-bit candidates, two per three bytes. */
static unsigned parse_fips(int16_t *a, unsigned ctr, const uint8_t *buf, unsigned len,
                           unsigned *pos)
{
    unsigned i = *pos;
    while (ctr < MLKEM_N && i + 3 <= len) {
        uint16_t d1 = (uint16_t)(buf[i] | ((uint16_t)(buf[i + 1] & 0x0F) << 8));
        uint16_t d2 = (uint16_t)((buf[i + 1] >> 4) | ((uint16_t)buf[i + 2] << 4));
        i += 3;
        if (d1 < MLKEM_Q)
            a[ctr++] = (int16_t)d1;
        if (d2 < MLKEM_Q && ctr < MLKEM_N)
            a[ctr++] = (int16_t)d2;
    }
    *pos = i;
    return ctr;
}

/* Round 2: 16-bit little-endian candidates accepted below 19q, reduced
 * mod q (the only round-2 change that alters Kyber768/1024 outputs). */
static unsigned parse_r2(int16_t *a, unsigned ctr, const uint8_t *buf, unsigned len, unsigned *pos)
{
    unsigned i = *pos;
    while (ctr < MLKEM_N && i + 2 <= len) {
        uint16_t v = (uint16_t)(buf[i] | ((uint16_t)buf[i + 1] << 8));
        i += 2;
        if (v < 19 * MLKEM_Q)
            a[ctr++] = (int16_t)(v % MLKEM_Q);
    }
    *pos = i;
    return ctr;
}

static void sample_ntt(mlkem_poly *a, const mlkem_params *p, const uint8_t rho[MLKEM_SYMBYTES],
                       uint8_t x, uint8_t y)
{
    uint8_t buf[GEN_BLOCKS * SHAKE128_RATE + 2];
    uint8_t seed[MLKEM_SYMBYTES + 2];
    keccak_state st;
    unsigned ctr = 0, pos = 0, len = GEN_BLOCKS * SHAKE128_RATE;

    memcpy(seed, rho, MLKEM_SYMBYTES);
    seed[MLKEM_SYMBYTES] = x;
    seed[MLKEM_SYMBYTES + 1] = y;
    shake128_init(&st);
    keccak_absorb_ok(&st, seed, sizeof(seed));
    keccak_squeezeblocks(&st, buf, GEN_BLOCKS);
    for (;;) {
        ctr = p->version == MLKEM_V_R2 ? parse_r2(a->c, ctr, buf, len, &pos)
                                       : parse_fips(a->c, ctr, buf, len, &pos);
        if (ctr == MLKEM_N)
            break;
        unsigned rest = len - pos;
        memmove(buf, buf + pos, rest);
        keccak_squeezeblocks(&st, buf + rest, 1);
        len = rest + SHAKE128_RATE;
        pos = 0;
    }
}

void mlkem_gen_matrix(mlkem_poly *out, const mlkem_params *p, const uint8_t rho[MLKEM_SYMBYTES],
                      int transposed)
{
    for (unsigned i = 0; i < p->k; i++)
        for (unsigned j = 0; j < p->k; j++) {
            /* A-hat[i][j] absorbs rho || j || i. */
            if (transposed)
                sample_ntt(&out[i * p->k + j], p, rho, (uint8_t)i, (uint8_t)j);
            else
                sample_ntt(&out[i * p->k + j], p, rho, (uint8_t)j, (uint8_t)i);
        }
}

void mlkem_sample_noise(mlkem_poly *a, const uint8_t sigma[MLKEM_SYMBYTES], uint8_t nonce,
                        unsigned eta)
{
    uint8_t buf[64 * 3];
    uint8_t in[MLKEM_SYMBYTES + 1];
    memcpy(in, sigma, MLKEM_SYMBYTES);
    in[MLKEM_SYMBYTES] = nonce;
    shake256(buf, 64 * eta, in, sizeof(in));
    mlkem_poly_cbd(a, buf, eta);
    PQC_WIPE(buf, sizeof(buf));
    PQC_WIPE(in, sizeof(in));
}
