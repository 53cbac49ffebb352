/* Verification (FIPS 204 Algorithm 8 and the round-2/3 variants) and the
 * public verification entry points. Everything here is public data, so the
 * code may branch freely; the matrix is expanded one row at a time, which
 * keeps the stack small (verify runs on untrusted input and is the
 * operation most likely to be called at high rates). */
#include "keccak_internal.h"
#include "mldsa_internal.h"
#include "mldsa_pack.h"
#include "mldsa_sample.h"
#include "pqc_common.h"

pqc_rv mldsa_verify_mu_core(const mldsa_params *p, const uint8_t *pk, const uint8_t *mu,
                            const uint8_t *sig)
{
    mldsa_poly z[MLDSA_MAX_L], h[MLDSA_MAX_K], arow[MLDSA_MAX_L];
    mldsa_poly c, w, t1;
    uint8_t w1buf[MLDSA_MAX_K * MLDSA_POLY_BYTES(6)];
    uint8_t check[MLDSA_CRH_MAX];
    keccak_state st;
    const size_t w1pb = MLDSA_POLY_BYTES(p->w1_bits);

    pqc_rv rv = mldsa_unpack_sig_zh(p, sig, z, h);
    if (rv)
        return rv;
    for (unsigned i = 0; i < p->l; i++)
        if (mldsa_poly_chknorm(&z[i], p->gamma1 - p->beta))
            return PQC_ERR_VERIFY_FAILED;

    if (p->version == MLDSA_V_R2) {
        mldsa_r2_unpack_c(&c, sig + mldsa_sig_off_c(p));
    } else {
        shake256_init(&st);
        keccak_absorb_ok(&st, sig, p->ctilde_bytes);
        mldsa_sample_in_ball(&c, &st, p->tau);
    }
    mldsa_poly_ntt(&c);
    for (unsigned j = 0; j < p->l; j++)
        mldsa_poly_ntt(&z[j]);

    /* w'_approx = A z - c t1 2^d, row by row, then UseHint. */
    for (unsigned i = 0; i < p->k; i++) {
        for (unsigned j = 0; j < p->l; j++)
            mldsa_sample_uniform(&arow[j], pk, i, j);
        mldsa_poly_matvec_row(&w, arow, z, p->l);
        mldsa_unpack_t1(&t1, p, pk, i);
        mldsa_poly_shiftl(&t1, p->d);
        mldsa_poly_ntt(&t1);
        mldsa_poly_pointwise(&t1, &c, &t1);
        mldsa_poly_sub(&w, &w, &t1);
        mldsa_poly_reduce(&w);
        mldsa_poly_invntt_tomont(&w);
        mldsa_poly_caddq(&w);
        mldsa_poly_use_hint(&w, &w, &h[i], p->gamma2);
        mldsa_pack_w1(w1buf + i * w1pb, p, &w);
    }

    shake256_init(&st);
    keccak_absorb_ok(&st, mu, p->mu_bytes);
    keccak_absorb_ok(&st, w1buf, p->k * w1pb);
    if (p->version == MLDSA_V_R2) {
        /* Comparing canonical encodings also rejects a transmitted c with
         * stray bitmap or sign bits. */
        mldsa_sample_in_ball(&c, &st, p->tau);
        mldsa_r2_pack_c(check, &c);
        return memcmp(check, sig + mldsa_sig_off_c(p), MLDSA_R2_C_BYTES) ? PQC_ERR_VERIFY_FAILED
                                                                         : PQC_OK;
    }
    (void)keccak_squeeze(&st, check, p->ctilde_bytes);
    return memcmp(check, sig, p->ctilde_bytes) ? PQC_ERR_VERIFY_FAILED : PQC_OK;
}

static pqc_rv verify_prologue(mldsa_set set, const uint8_t *pk, size_t pklen, const uint8_t *sig,
                              size_t siglen, const mldsa_params **pp)
{
    pqc_rv rv = mldsa_lookup(set, pp);
    if (rv)
        return rv;
    if (!pk || !sig)
        return PQC_ERR_BAD_PARAM;
    if (pklen != (*pp)->pk_bytes || siglen != (*pp)->sig_bytes)
        return PQC_ERR_BAD_LENGTH;
    return PQC_OK;
}

pqc_rv mldsa_verify(mldsa_set set, const uint8_t *pk, size_t pklen, const uint8_t *msg,
                    size_t msglen, const uint8_t *ctx, size_t ctxlen, const uint8_t *sig,
                    size_t siglen)
{
    const mldsa_params *p;
    uint8_t tr[MLDSA_CRH_MAX], mu[MLDSA_CRH_MAX];
    pqc_rv rv = verify_prologue(set, pk, pklen, sig, siglen, &p);
    if (rv)
        return rv;
    mldsa_tr_from_pk(p, pk, tr);
    rv = mldsa_mu_pure(p, tr, msg, msglen, ctx, ctxlen, mu);
    if (rv)
        return rv;
    return mldsa_verify_mu_core(p, pk, mu, sig);
}

pqc_rv mldsa_hash_verify(mldsa_set set, const uint8_t *pk, size_t pklen, pqc_hash ph,
                         const uint8_t *msg, size_t msglen, const uint8_t *ctx, size_t ctxlen,
                         const uint8_t *sig, size_t siglen)
{
    const mldsa_params *p;
    uint8_t tr[MLDSA_CRH_MAX], mu[MLDSA_CRH_MAX], digest[64];
    pqc_rv rv = verify_prologue(set, pk, pklen, sig, siglen, &p);
    if (rv)
        return rv;
    if (p->version != MLDSA_V_FIPS)
        return PQC_ERR_BAD_PARAM;
    if (ctxlen > PQC_MAX_CTX)
        return PQC_ERR_CONTEXT_TOO_LONG;
    rv = pqc_prehash(ph, msg, msglen, digest, sizeof(digest));
    if (rv)
        return rv;
    mldsa_tr_from_pk(p, pk, tr);
    rv = mldsa_prehash_mu(set, tr, p->tr_bytes, ctx, ctxlen, ph, digest, pqc_hash_bytes(ph), mu,
                          sizeof(mu));
    if (rv)
        return rv;
    return mldsa_verify_mu_core(p, pk, mu, sig);
}

pqc_rv mldsa_verify_internal(mldsa_set set, const uint8_t *pk, size_t pklen, const uint8_t *mprime,
                             size_t mlen, const uint8_t *sig, size_t siglen)
{
    const mldsa_params *p;
    uint8_t tr[MLDSA_CRH_MAX], mu[MLDSA_CRH_MAX];
    pqc_rv rv = verify_prologue(set, pk, pklen, sig, siglen, &p);
    if (rv)
        return rv;
    if (!mprime && mlen)
        return PQC_ERR_BAD_PARAM;
    mldsa_tr_from_pk(p, pk, tr);
    mldsa_mu_raw(p, tr, mprime, mlen, mu);
    return mldsa_verify_mu_core(p, pk, mu, sig);
}

pqc_rv mldsa_verify_mu(mldsa_set set, const uint8_t *pk, size_t pklen, const uint8_t *mu,
                       size_t mulen, const uint8_t *sig, size_t siglen)
{
    const mldsa_params *p;
    pqc_rv rv = verify_prologue(set, pk, pklen, sig, siglen, &p);
    if (rv)
        return rv;
    if (!mu)
        return PQC_ERR_BAD_PARAM;
    if (mulen != p->mu_bytes)
        return PQC_ERR_BAD_LENGTH;
    return mldsa_verify_mu_core(p, pk, mu, sig);
}
