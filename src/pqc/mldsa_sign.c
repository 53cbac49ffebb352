/* Signing (FIPS 204 Algorithm 7 and the round-2/3 variants) and the public
 * signing entry points.
 *
 * The matrix and the NTT forms of s1, s2, t0 are computed once per call;
 * each rejection-loop iteration then costs one mask expansion, one
 * matrix-vector product and a handful of small NTTs. All work space is one
 * stack struct (about 124 KiB for ML-DSA-87). */
#include "keccak_internal.h"
#include "mldsa_internal.h"
#include "mldsa_pack.h"
#include "mldsa_sample.h"
#include "pqc_common.h"

typedef struct {
    mldsa_poly a[MLDSA_MAX_K * MLDSA_MAX_L];
    mldsa_poly s1[MLDSA_MAX_L], s2[MLDSA_MAX_K], t0[MLDSA_MAX_K]; /* NTT domain */
    mldsa_poly y[MLDSA_MAX_L], z[MLDSA_MAX_L];
    mldsa_poly w1[MLDSA_MAX_K], w0[MLDSA_MAX_K], h[MLDSA_MAX_K];
    mldsa_poly c, tmp;
    uint8_t w1buf[MLDSA_MAX_K * MLDSA_POLY_BYTES(6)];
    uint8_t rhopp[MLDSA_CRH_MAX];
} sign_ws;

/* rho'' (FIPS) or rho' (rounds 2/3): the seed of the masking vectors. */
static void derive_mask_seed(const mldsa_params *p, const uint8_t *key, const uint8_t *mu,
                             const uint8_t *rnd, uint8_t *out)
{
    static const uint8_t zeros[64] = {0};
    uint8_t acc = 0;
    keccak_state st;

    if (rnd)
        for (unsigned i = 0; i < p->rnd_bytes; i++)
            acc |= rnd[i];
    /* Whether rnd is all zero selects the API mode, not key material. */
    PQC_DECLASSIFY(&acc, sizeof(acc));
    if (p->version == MLDSA_V_FIPS) {
        shake256_init(&st);
        keccak_absorb_ok(&st, key, MLDSA_SEEDBYTES);
        keccak_absorb_ok(&st, rnd ? rnd : zeros, p->rnd_bytes);
        keccak_absorb_ok(&st, mu, p->mu_bytes);
        (void)keccak_squeeze(&st, out, p->rhopp_bytes);
        keccak_wipe(&st);
    } else if (acc) {
        /* Randomized builds of the reference used their RNG output as rho'. */
        memcpy(out, rnd, p->rhopp_bytes);
    } else {
        shake256_init(&st);
        keccak_absorb_ok(&st, key, MLDSA_SEEDBYTES);
        keccak_absorb_ok(&st, mu, p->mu_bytes);
        (void)keccak_squeeze(&st, out, p->rhopp_bytes);
        keccak_wipe(&st);
    }
}

/* Hashes mu || w1 and leaves c in ws->c; writes c~ (or the round-2 c) into
 * the signature at its offset. */
static void challenge(const mldsa_params *p, sign_ws *ws, const uint8_t *mu, uint8_t *sig)
{
    keccak_state st;
    const size_t w1len = p->k * MLDSA_POLY_BYTES(p->w1_bits);

    shake256_init(&st);
    keccak_absorb_ok(&st, mu, p->mu_bytes);
    keccak_absorb_ok(&st, ws->w1buf, w1len);
    if (p->version == MLDSA_V_R2) {
        /* Round 2 drew c straight from this XOF and transmits c itself. */
        mldsa_sample_in_ball(&ws->c, &st, p->tau);
        mldsa_r2_pack_c(sig + mldsa_sig_off_c(p), &ws->c);
    } else {
        (void)keccak_squeeze(&st, sig, p->ctilde_bytes);
        shake256_init(&st);
        keccak_absorb_ok(&st, sig, p->ctilde_bytes);
        mldsa_sample_in_ball(&ws->c, &st, p->tau);
    }
}

/* One attempt; returns 1 when the candidate is rejected. */
static int sign_attempt(const mldsa_params *p, sign_ws *ws, const uint8_t *mu, uint16_t kappa,
                        uint8_t *sig)
{
    const unsigned k = p->k, l = p->l;
    const size_t w1pb = MLDSA_POLY_BYTES(p->w1_bits);
    unsigned reject = 0, hints = 0;

    for (unsigned i = 0; i < l; i++) {
        mldsa_sample_mask(&ws->y[i], p, ws->rhopp, (uint16_t)(kappa + i));
        ws->z[i] = ws->y[i];
        mldsa_poly_ntt(&ws->z[i]);
    }
    for (unsigned i = 0; i < k; i++) {
        mldsa_poly_matvec_row(&ws->tmp, &ws->a[i * l], ws->z, l);
        mldsa_poly_invntt_tomont(&ws->tmp);
        mldsa_poly_caddq(&ws->tmp);
        mldsa_poly_decompose(&ws->w1[i], &ws->w0[i], &ws->tmp, p->gamma2);
        mldsa_pack_w1(ws->w1buf + i * w1pb, p, &ws->w1[i]);
    }
    /* w1 is recomputed by every verifier from the signature. */
    PQC_DECLASSIFY(ws->w1buf, k * w1pb);
    challenge(p, ws, mu, sig);
    mldsa_poly_ntt(&ws->c);

    /* The outcome of each check is public once the signature is released
     * (FIPS 204 accepts leaking it), so the loops may stop at the first
     * failure; each check itself runs in constant time. */
    for (unsigned i = 0; i < l && !reject; i++) {
        mldsa_poly_pointwise(&ws->tmp, &ws->c, &ws->s1[i]);
        mldsa_poly_invntt_tomont(&ws->tmp);
        mldsa_poly_add(&ws->z[i], &ws->y[i], &ws->tmp);
        mldsa_poly_reduce(&ws->z[i]);
        reject |= mldsa_poly_chknorm(&ws->z[i], p->gamma1 - p->beta);
        PQC_DECLASSIFY(&reject, sizeof(reject));
    }
    /* r0 = LowBits(w - cs2) computed as w0 - cs2: equal whenever it passes
     * the bound, and out of bound whenever LowBits(w - cs2) is. */
    for (unsigned i = 0; i < k && !reject; i++) {
        mldsa_poly_pointwise(&ws->tmp, &ws->c, &ws->s2[i]);
        mldsa_poly_invntt_tomont(&ws->tmp);
        mldsa_poly_sub(&ws->w0[i], &ws->w0[i], &ws->tmp);
        mldsa_poly_reduce(&ws->w0[i]);
        reject |= mldsa_poly_chknorm(&ws->w0[i], p->gamma2 - p->beta);
        PQC_DECLASSIFY(&reject, sizeof(reject));
    }
    for (unsigned i = 0; i < k && !reject; i++) {
        mldsa_poly_pointwise(&ws->tmp, &ws->c, &ws->t0[i]);
        mldsa_poly_invntt_tomont(&ws->tmp);
        mldsa_poly_reduce(&ws->tmp);
        reject |= mldsa_poly_chknorm(&ws->tmp, p->gamma2);
        mldsa_poly_add(&ws->w0[i], &ws->w0[i], &ws->tmp);
        hints += mldsa_poly_make_hint(&ws->h[i], &ws->w0[i], &ws->w1[i], p->gamma2);
        /* Hints are part of the signature; rejection outcomes are public. */
        PQC_DECLASSIFY(&ws->h[i], sizeof(ws->h[i]));
        PQC_DECLASSIFY(&reject, sizeof(reject));
        PQC_DECLASSIFY(&hints, sizeof(hints));
    }
    if (reject || hints > p->omega)
        return 1;
    mldsa_pack_sig_zh(sig, p, ws->z, ws->h);
    return 0;
}

pqc_rv mldsa_sign_mu_core(const mldsa_params *p, const uint8_t *sk, const uint8_t *mu,
                          const uint8_t *rnd, uint8_t *sig)
{
    sign_ws ws;
    pqc_rv rv = mldsa_unpack_sk(p, sk, ws.s1, ws.s2, ws.t0);
    if (rv)
        goto out;

    mldsa_expand_a(ws.a, p, sk);
    for (unsigned i = 0; i < p->l; i++)
        mldsa_poly_ntt(&ws.s1[i]);
    for (unsigned i = 0; i < p->k; i++) {
        mldsa_poly_ntt(&ws.s2[i]);
        mldsa_poly_ntt(&ws.t0[i]);
    }
    derive_mask_seed(p, sk + MLDSA_SEEDBYTES, mu, rnd, ws.rhopp);

    /* kappa advances by l per attempt; as in FIPS 204 it is reduced to 16
     * bits when encoded. The loop ends with overwhelming probability after
     * a few attempts (expected 4-5). */
    for (uint16_t kappa = 0;; kappa = (uint16_t)(kappa + p->l))
        if (!sign_attempt(p, &ws, mu, kappa, sig))
            break;
out:
    PQC_WIPE(&ws, sizeof(ws));
    return rv;
}

/* Argument checks common to all signing entry points; on failure the
 * signature buffer is cleared when it is large enough to hold one. */
static pqc_rv sign_prologue(mldsa_set set, const uint8_t *sk, size_t sklen, const uint8_t *rnd,
                            size_t rndlen, uint8_t *sig, size_t sigcap, const mldsa_params **pp)
{
    pqc_rv rv = mldsa_lookup(set, pp);
    if (rv)
        return rv;
    const mldsa_params *p = *pp;
    if (!sk || !sig || (!rnd && rndlen))
        return PQC_ERR_BAD_PARAM;
    if (sklen != p->sk_bytes || sigcap < p->sig_bytes || (rnd && rndlen != p->rnd_bytes))
        return PQC_ERR_BAD_LENGTH;
    return PQC_OK;
}

/* Errors found after the buffers were validated still leave a defined,
 * all-zero signature rather than stale bytes. */
static pqc_rv fail_clear(const mldsa_params *p, uint8_t *sig, pqc_rv rv)
{
    memset(sig, 0, p->sig_bytes);
    return rv;
}

static pqc_rv sign_finish(const mldsa_params *p, const uint8_t *sk, const uint8_t *mu,
                          const uint8_t *rnd, uint8_t *sig)
{
    pqc_rv rv = mldsa_sign_mu_core(p, sk, mu, rnd, sig);
    return rv ? fail_clear(p, sig, rv) : rv;
}

pqc_rv mldsa_sign(mldsa_set set, const uint8_t *sk, size_t sklen, const uint8_t *msg, size_t msglen,
                  const uint8_t *ctx, size_t ctxlen, const uint8_t *rnd, size_t rndlen,
                  uint8_t *sig, size_t sigcap)
{
    const mldsa_params *p;
    uint8_t mu[MLDSA_CRH_MAX];
    pqc_rv rv = sign_prologue(set, sk, sklen, rnd, rndlen, sig, sigcap, &p);
    if (rv)
        return rv;
    rv = mldsa_mu_pure(p, sk + mldsa_sk_off_tr(p), msg, msglen, ctx, ctxlen, mu);
    if (rv)
        return fail_clear(p, sig, rv);
    return sign_finish(p, sk, mu, rnd, sig);
}

pqc_rv mldsa_hash_sign(mldsa_set set, const uint8_t *sk, size_t sklen, pqc_hash ph,
                       const uint8_t *msg, size_t msglen, const uint8_t *ctx, size_t ctxlen,
                       const uint8_t *rnd, size_t rndlen, uint8_t *sig, size_t sigcap)
{
    const mldsa_params *p;
    uint8_t mu[MLDSA_CRH_MAX], digest[64];
    pqc_rv rv = sign_prologue(set, sk, sklen, rnd, rndlen, sig, sigcap, &p);
    if (rv)
        return rv;
    if (p->version != MLDSA_V_FIPS)
        return fail_clear(p, sig, PQC_ERR_BAD_PARAM);
    if (ctxlen > PQC_MAX_CTX)
        return fail_clear(p, sig, PQC_ERR_CONTEXT_TOO_LONG);
    rv = pqc_prehash(ph, msg, msglen, digest, sizeof(digest));
    if (rv)
        return fail_clear(p, sig, rv);
    rv = mldsa_prehash_mu(set, sk + mldsa_sk_off_tr(p), p->tr_bytes, ctx, ctxlen, ph, digest,
                          pqc_hash_bytes(ph), mu, sizeof(mu));
    if (rv)
        return fail_clear(p, sig, rv);
    return sign_finish(p, sk, mu, rnd, sig);
}

pqc_rv mldsa_sign_internal(mldsa_set set, const uint8_t *sk, size_t sklen, const uint8_t *mprime,
                           size_t mlen, const uint8_t *rnd, size_t rndlen, uint8_t *sig,
                           size_t sigcap)
{
    const mldsa_params *p;
    uint8_t mu[MLDSA_CRH_MAX];
    pqc_rv rv = sign_prologue(set, sk, sklen, rnd, rndlen, sig, sigcap, &p);
    if (rv)
        return rv;
    if (!mprime && mlen)
        return fail_clear(p, sig, PQC_ERR_BAD_PARAM);
    mldsa_mu_raw(p, sk + mldsa_sk_off_tr(p), mprime, mlen, mu);
    return sign_finish(p, sk, mu, rnd, sig);
}

pqc_rv mldsa_sign_mu(mldsa_set set, const uint8_t *sk, size_t sklen, const uint8_t *mu,
                     size_t mulen, const uint8_t *rnd, size_t rndlen, uint8_t *sig, size_t sigcap)
{
    const mldsa_params *p;
    pqc_rv rv = sign_prologue(set, sk, sklen, rnd, rndlen, sig, sigcap, &p);
    if (rv)
        return rv;
    if (!mu)
        return fail_clear(p, sig, PQC_ERR_BAD_PARAM);
    if (mulen != p->mu_bytes)
        return fail_clear(p, sig, PQC_ERR_BAD_LENGTH);
    return sign_finish(p, sk, mu, rnd, sig);
}
