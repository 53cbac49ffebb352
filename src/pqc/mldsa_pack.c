/* Encodings for the Dilithium family. Every field is a little-endian bit
 * string of 256 fixed-width values (FIPS 204 SimpleBitPack/BitPack), so a
 * single generic packer serves all widths; each caller first maps its
 * coefficients to the unsigned value that is stored (b - x for a centred
 * x in [-a, b]). */
#include "mldsa_pack.h"

#include "pqc_bits.h"
#include "pqc_common.h"

static void pack_bits(uint8_t *out, const uint32_t v[MLDSA_N], unsigned bits)
{
    pqc_pack_bits(out, v, MLDSA_N, bits);
}

static void unpack_bits(uint32_t v[MLDSA_N], const uint8_t *in, unsigned bits)
{
    pqc_unpack_bits(v, in, MLDSA_N, bits);
}

/* Stores off - a[i] (the "b - x" mapping with b = off). */
static void pack_offset(uint8_t *out, const mldsa_poly *a, int32_t off, unsigned bits)
{
    uint32_t v[MLDSA_N];
    for (unsigned i = 0; i < MLDSA_N; i++)
        v[i] = (uint32_t)(off - a->c[i]);
    pack_bits(out, v, bits);
    PQC_WIPE(v, sizeof(v));
}

static void unpack_offset(mldsa_poly *a, const uint8_t *in, int32_t off, unsigned bits)
{
    uint32_t v[MLDSA_N];
    unpack_bits(v, in, bits);
    for (unsigned i = 0; i < MLDSA_N; i++)
        a->c[i] = off - (int32_t)v[i];
    PQC_WIPE(v, sizeof(v));
}

void mldsa_pack_pk(uint8_t *pk, const mldsa_params *p, const uint8_t rho[MLDSA_SEEDBYTES],
                   const mldsa_poly *t1)
{
    const unsigned pb = MLDSA_POLY_BYTES(p->t1_bits);
    memcpy(pk, rho, MLDSA_SEEDBYTES);
    for (unsigned i = 0; i < p->k; i++)
        pack_bits(pk + MLDSA_SEEDBYTES + i * pb, (const uint32_t *)t1[i].c, p->t1_bits);
}

void mldsa_unpack_t1(mldsa_poly *t1, const mldsa_params *p, const uint8_t *pk, unsigned i)
{
    const unsigned pb = MLDSA_POLY_BYTES(p->t1_bits);
    unpack_bits((uint32_t *)t1->c, pk + MLDSA_SEEDBYTES + i * pb, p->t1_bits);
}

void mldsa_pack_sk(uint8_t *sk, const mldsa_params *p, const uint8_t *rho, const uint8_t *key,
                   const uint8_t *tr, const mldsa_poly *s1, const mldsa_poly *s2,
                   const mldsa_poly *t0)
{
    const unsigned eb = MLDSA_POLY_BYTES(p->eta_bits);
    const unsigned tb = MLDSA_POLY_BYTES(p->d);
    memcpy(sk, rho, MLDSA_SEEDBYTES);
    memcpy(sk + MLDSA_SEEDBYTES, key, MLDSA_SEEDBYTES);
    memcpy(sk + mldsa_sk_off_tr(p), tr, p->tr_bytes);
    for (unsigned i = 0; i < p->l; i++)
        pack_offset(sk + mldsa_sk_off_s1(p) + i * eb, &s1[i], p->eta, p->eta_bits);
    for (unsigned i = 0; i < p->k; i++)
        pack_offset(sk + mldsa_sk_off_s2(p) + i * eb, &s2[i], p->eta, p->eta_bits);
    for (unsigned i = 0; i < p->k; i++)
        pack_offset(sk + mldsa_sk_off_t0(p) + i * tb, &t0[i], 1 << (p->d - 1), p->d);
}

/* Returns an all-ones word if some decoded value exceeds 2 eta. */
static uint32_t unpack_eta(mldsa_poly *a, const uint8_t *in, const mldsa_params *p)
{
    uint32_t v[MLDSA_N];
    uint32_t bad = 0;
    unpack_bits(v, in, p->eta_bits);
    for (unsigned i = 0; i < MLDSA_N; i++) {
        bad |= (uint32_t)(2 * p->eta - (int32_t)v[i]) >> 31;
        a->c[i] = (int32_t)p->eta - (int32_t)v[i];
    }
    PQC_WIPE(v, sizeof(v));
    return bad;
}

pqc_rv mldsa_unpack_sk(const mldsa_params *p, const uint8_t *sk, mldsa_poly *s1, mldsa_poly *s2,
                       mldsa_poly *t0)
{
    const unsigned eb = MLDSA_POLY_BYTES(p->eta_bits);
    const unsigned tb = MLDSA_POLY_BYTES(p->d);
    mldsa_poly scratch;
    uint32_t bad = 0;

    for (unsigned i = 0; i < p->l; i++)
        bad |= unpack_eta(s1 ? &s1[i] : &scratch, sk + mldsa_sk_off_s1(p) + i * eb, p);
    for (unsigned i = 0; i < p->k; i++)
        bad |= unpack_eta(s2 ? &s2[i] : &scratch, sk + mldsa_sk_off_s2(p) + i * eb, p);
    if (t0)
        for (unsigned i = 0; i < p->k; i++)
            unpack_offset(&t0[i], sk + mldsa_sk_off_t0(p) + i * tb, 1 << (p->d - 1), p->d);
    PQC_WIPE(&scratch, sizeof(scratch));
    /* Key validity is the public outcome of an import check. */
    PQC_DECLASSIFY(&bad, sizeof(bad));
    /* Every t0 bit pattern is in range (2^(d-1) - t spans exactly the
     * allowed interval), so only s1/s2 can make a key malformed. */
    return bad ? PQC_ERR_BAD_KEY : PQC_OK;
}

void mldsa_pack_w1(uint8_t *out, const mldsa_params *p, const mldsa_poly *w1)
{
    pack_bits(out, (const uint32_t *)w1->c, p->w1_bits);
}

void mldsa_pack_sig_zh(uint8_t *sig, const mldsa_params *p, const mldsa_poly *z,
                       const mldsa_poly *h)
{
    const unsigned zb = MLDSA_POLY_BYTES(p->z_bits);
    /* Round 2 stored gamma1 - 1 - z, later rounds gamma1 - z. */
    const int32_t off = p->version == MLDSA_V_R2 ? p->gamma1 - 1 : p->gamma1;
    uint8_t *hp = sig + mldsa_sig_off_h(p);
    unsigned idx = 0;

    for (unsigned i = 0; i < p->l; i++)
        pack_offset(sig + mldsa_sig_off_z(p) + i * zb, &z[i], off, p->z_bits);
    memset(hp, 0, p->omega + p->k);
    for (unsigned i = 0; i < p->k; i++) {
        for (unsigned j = 0; j < MLDSA_N; j++)
            if (h[i].c[j])
                hp[idx++] = (uint8_t)j;
        hp[p->omega + i] = (uint8_t)idx;
    }
}

pqc_rv mldsa_unpack_sig_zh(const mldsa_params *p, const uint8_t *sig, mldsa_poly *z, mldsa_poly *h)
{
    const unsigned zb = MLDSA_POLY_BYTES(p->z_bits);
    const int32_t off = p->version == MLDSA_V_R2 ? p->gamma1 - 1 : p->gamma1;
    const uint8_t *hp = sig + mldsa_sig_off_h(p);
    unsigned idx = 0;

    if (z)
        for (unsigned i = 0; i < p->l; i++)
            unpack_offset(&z[i], sig + mldsa_sig_off_z(p) + i * zb, off, p->z_bits);

    /* FIPS 204 HintBitUnpack: cumulative counts may not decrease or exceed
     * omega, indices rise strictly within a row, and unused index bytes are
     * zero. These make the encoding unique (strong unforgeability) and keep
     * every index read inside the omega-byte area. */
    for (unsigned i = 0; i < p->k; i++) {
        unsigned end = hp[p->omega + i];
        if (end < idx || end > p->omega)
            return PQC_ERR_BAD_SIGNATURE;
        if (h)
            memset(h[i].c, 0, sizeof(h[i].c));
        for (unsigned j = idx; j < end; j++) {
            if (j > idx && hp[j] <= hp[j - 1])
                return PQC_ERR_BAD_SIGNATURE;
            if (h)
                h[i].c[hp[j]] = 1;
        }
        idx = end;
    }
    for (unsigned j = idx; j < p->omega; j++)
        if (hp[j])
            return PQC_ERR_BAD_SIGNATURE;
    return PQC_OK;
}

void mldsa_r2_pack_c(uint8_t out[MLDSA_R2_C_BYTES], const mldsa_poly *c)
{
    uint64_t signs = 0, bit = 1;
    memset(out, 0, MLDSA_R2_C_BYTES);
    for (unsigned i = 0; i < MLDSA_N; i++) {
        if (c->c[i]) {
            out[i / 8] |= (uint8_t)(1u << (i % 8));
            if (c->c[i] < 0)
                signs |= bit;
            bit <<= 1;
        }
    }
    pqc_store64_le(out + MLDSA_N / 8, signs);
}

void mldsa_r2_unpack_c(mldsa_poly *c, const uint8_t in[MLDSA_R2_C_BYTES])
{
    uint64_t signs = pqc_load64_le(in + MLDSA_N / 8);
    unsigned used = 0;
    for (unsigned i = 0; i < MLDSA_N; i++) {
        c->c[i] = 0;
        if ((in[i / 8] >> (i % 8)) & 1) {
            /* Past 64 set bits there are no sign bits left; such an encoding
             * can never match the recomputed challenge. */
            unsigned s = used < 64 ? (unsigned)((signs >> used) & 1) : 0;
            c->c[i] = s ? -1 : 1;
            used++;
        }
    }
}
