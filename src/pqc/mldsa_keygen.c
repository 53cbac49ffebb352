/* Key generation (FIPS 204 Algorithm 6 and its round-2/3 ancestors) and
 * the key-import checks. */
#include "keccak_internal.h"
#include "mldsa_internal.h"
#include "mldsa_pack.h"
#include "mldsa_sample.h"
#include "pqc_common.h"

pqc_rv mldsa_lookup(mldsa_set set, const mldsa_params **out)
{
    *out = mldsa_params_get(set);
    if (*out)
        return PQC_OK;
    return set == DILITHIUM_R2_87 ? PQC_ERR_UNSUPPORTED : PQC_ERR_BAD_PARAM;
}

void mldsa_compute_t(const mldsa_params *p, const uint8_t rho[MLDSA_SEEDBYTES],
                     const mldsa_poly *s1, const mldsa_poly *s2, mldsa_poly *t1, mldsa_poly *t0)
{
    mldsa_poly s1hat[MLDSA_MAX_L], arow[MLDSA_MAX_L], t;

    for (unsigned j = 0; j < p->l; j++) {
        s1hat[j] = s1[j];
        mldsa_poly_ntt(&s1hat[j]);
    }
    for (unsigned i = 0; i < p->k; i++) {
        for (unsigned j = 0; j < p->l; j++)
            mldsa_sample_uniform(&arow[j], rho, i, j);
        mldsa_poly_matvec_row(&t, arow, s1hat, p->l);
        mldsa_poly_invntt_tomont(&t);
        mldsa_poly_add(&t, &t, &s2[i]);
        /* Power2Round wants the canonical representative in [0, q). */
        mldsa_poly_reduce(&t);
        mldsa_poly_caddq(&t);
        mldsa_poly_power2round(&t1[i], &t0[i], &t, p->d);
    }
    PQC_WIPE(s1hat, sizeof(s1hat));
    PQC_WIPE(&t, sizeof(t));
}

void mldsa_tr_from_pk(const mldsa_params *p, const uint8_t *pk, uint8_t *tr)
{
    shake256(tr, p->tr_bytes, pk, p->pk_bytes);
}

/* rho || rho' || K from the keygen input, per round. */
static void expand_seed(const mldsa_params *p, const uint8_t *seed, uint8_t out[128])
{
    if (p->version == MLDSA_V_R2) {
        /* Round 2 used its 96 random bytes directly as rho || rho' || K. */
        memcpy(out, seed, 96);
    } else if (p->version == MLDSA_V_R3) {
        shake256(out, 128, seed, MLDSA_SEEDBYTES);
    } else {
        /* FIPS 204 binds the seed to the dimensions (xi || k || l) so one
         * seed can never yield related keys for two parameter sets. */
        uint8_t in[MLDSA_SEEDBYTES + 2];
        memcpy(in, seed, MLDSA_SEEDBYTES);
        in[MLDSA_SEEDBYTES] = p->k;
        in[MLDSA_SEEDBYTES + 1] = p->l;
        shake256(out, 128, in, sizeof(in));
        PQC_WIPE(in, sizeof(in));
    }
}

pqc_rv mldsa_keygen_internal(mldsa_set set, const uint8_t *seed, size_t seedlen, uint8_t *pk,
                             size_t pkcap, uint8_t *sk, size_t skcap)
{
    const mldsa_params *p;
    pqc_rv rv = mldsa_lookup(set, &p);
    if (rv)
        return rv;
    if (!seed || !pk || !sk)
        return PQC_ERR_BAD_PARAM;
    if (seedlen != p->seed_bytes || pkcap < p->pk_bytes || skcap < p->sk_bytes)
        return PQC_ERR_BAD_LENGTH;

    uint8_t buf[128];
    uint8_t tr[MLDSA_CRH_MAX];
    mldsa_poly s1[MLDSA_MAX_L], s2[MLDSA_MAX_K], t1[MLDSA_MAX_K], t0[MLDSA_MAX_K];
    const uint8_t *rho = buf;
    const uint8_t *rhoprime = buf + MLDSA_SEEDBYTES;
    const uint8_t *key = rhoprime + p->rhoprime_bytes;

    expand_seed(p, seed, buf);
    for (unsigned i = 0; i < p->l; i++)
        mldsa_sample_eta(&s1[i], p, rhoprime, (uint16_t)i);
    for (unsigned i = 0; i < p->k; i++)
        mldsa_sample_eta(&s2[i], p, rhoprime, (uint16_t)(p->l + i));
    mldsa_compute_t(p, rho, s1, s2, t1, t0);
    mldsa_pack_pk(pk, p, rho, t1);
    mldsa_tr_from_pk(p, pk, tr);
    mldsa_pack_sk(sk, p, rho, key, tr, s1, s2, t0);

    PQC_WIPE(buf, sizeof(buf));
    PQC_WIPE(s1, sizeof(s1));
    PQC_WIPE(s2, sizeof(s2));
    PQC_WIPE(t0, sizeof(t0));
    return PQC_OK;
}

pqc_rv mldsa_keygen(mldsa_set set, const uint8_t *random, size_t randomlen, uint8_t *pk,
                    size_t pkcap, uint8_t *sk, size_t skcap)
{
    return mldsa_keygen_internal(set, random, randomlen, pk, pkcap, sk, skcap);
}

pqc_rv mldsa_pk_check(mldsa_set set, const uint8_t *pk, size_t pklen)
{
    const mldsa_params *p;
    pqc_rv rv = mldsa_lookup(set, &p);
    if (rv)
        return rv;
    if (!pk)
        return PQC_ERR_BAD_PARAM;
    /* t1 is a plain bit string: every value of the right length decodes. */
    return pklen == p->pk_bytes ? PQC_OK : PQC_ERR_BAD_LENGTH;
}

pqc_rv mldsa_sk_check(mldsa_set set, const uint8_t *sk, size_t sklen)
{
    const mldsa_params *p;
    pqc_rv rv = mldsa_lookup(set, &p);
    if (rv)
        return rv;
    if (!sk)
        return PQC_ERR_BAD_PARAM;
    if (sklen != p->sk_bytes)
        return PQC_ERR_BAD_LENGTH;
    return mldsa_unpack_sk(p, sk, NULL, NULL, NULL);
}

pqc_rv mldsa_sig_check(mldsa_set set, const uint8_t *sig, size_t siglen)
{
    const mldsa_params *p;
    pqc_rv rv = mldsa_lookup(set, &p);
    if (rv)
        return rv;
    if (!sig)
        return PQC_ERR_BAD_PARAM;
    if (siglen != p->sig_bytes)
        return PQC_ERR_BAD_LENGTH;
    return mldsa_unpack_sig_zh(p, sig, NULL, NULL);
}

pqc_rv mldsa_pk_from_sk(mldsa_set set, const uint8_t *sk, size_t sklen, uint8_t *pk, size_t pkcap)
{
    const mldsa_params *p;
    pqc_rv rv = mldsa_lookup(set, &p);
    if (rv)
        return rv;
    if (!sk || !pk)
        return PQC_ERR_BAD_PARAM;
    if (sklen != p->sk_bytes || pkcap < p->pk_bytes)
        return PQC_ERR_BAD_LENGTH;

    mldsa_poly s1[MLDSA_MAX_L], s2[MLDSA_MAX_K], t1[MLDSA_MAX_K], t0[MLDSA_MAX_K];
    mldsa_poly t0_sk[MLDSA_MAX_K];
    uint8_t tr[MLDSA_CRH_MAX];

    rv = mldsa_unpack_sk(p, sk, s1, s2, t0_sk);
    if (rv == PQC_OK) {
        mldsa_compute_t(p, sk, s1, s2, t1, t0);
        mldsa_pack_pk(pk, p, sk, t1);
        mldsa_tr_from_pk(p, pk, tr);
        /* A stored t0 or tr that disagrees with s1/s2 means the key was
         * altered or assembled from two keys; signing with it would leak. */
        unsigned bad =
            pqc_ct_neq((const uint8_t *)t0, (const uint8_t *)t0_sk, p->k * sizeof(mldsa_poly));
        bad |= pqc_ct_neq(tr, sk + mldsa_sk_off_tr(p), p->tr_bytes);
        if (bad) {
            memset(pk, 0, p->pk_bytes);
            rv = PQC_ERR_BAD_KEY;
        }
    }
    PQC_WIPE(s1, sizeof(s1));
    PQC_WIPE(s2, sizeof(s2));
    PQC_WIPE(t0, sizeof(t0));
    PQC_WIPE(t0_sk, sizeof(t0_sk));
    return rv;
}
