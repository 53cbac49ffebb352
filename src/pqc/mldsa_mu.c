/* The message representative mu = H(tr || M') and its streaming form
 * (FIPS 204 Algorithms 2, 4, 7 line 6 and the external-mu interface).
 *
 * M' is never built in memory: the prefix, context, OID and message are
 * absorbed in turn, so arbitrarily long messages need no buffer and the
 * whole streaming state is the Keccak sponge. */
#include "keccak_internal.h"
#include "mldsa_internal.h"
#include "pqc_common.h"
#include "pqc_hash.h"

/* Checks shared by every context-taking entry point. Legacy sets predate
 * contexts, so a non-empty one is a caller error rather than ignored. */
static pqc_rv check_ctx(const mldsa_params *p, const uint8_t *ctx, size_t ctxlen)
{
    if (!ctx && ctxlen)
        return PQC_ERR_BAD_PARAM;
    if (ctxlen > PQC_MAX_CTX)
        return PQC_ERR_CONTEXT_TOO_LONG;
    if (p->version != MLDSA_V_FIPS && ctxlen)
        return PQC_ERR_BAD_PARAM;
    return PQC_OK;
}

static void absorb_prefix(keccak_state *st, const mldsa_params *p, uint8_t domain,
                          const uint8_t *ctx, size_t ctxlen)
{
    if (p->version != MLDSA_V_FIPS)
        return;
    uint8_t hdr[2] = {domain, (uint8_t)ctxlen};
    keccak_absorb_ok(st, hdr, 2);
    if (ctxlen)
        keccak_absorb_ok(st, ctx, ctxlen);
}

pqc_rv mldsa_mu_pure(const mldsa_params *p, const uint8_t *tr, const uint8_t *msg, size_t msglen,
                     const uint8_t *ctx, size_t ctxlen, uint8_t *mu)
{
    pqc_rv rv = check_ctx(p, ctx, ctxlen);
    if (rv)
        return rv;
    if (!msg && msglen)
        return PQC_ERR_BAD_PARAM;
    keccak_state st;
    shake256_init(&st);
    keccak_absorb_ok(&st, tr, p->tr_bytes);
    absorb_prefix(&st, p, 0x00, ctx, ctxlen);
    if (msglen)
        keccak_absorb_ok(&st, msg, msglen);
    (void)keccak_squeeze(&st, mu, p->mu_bytes);
    keccak_wipe(&st);
    return PQC_OK;
}

void mldsa_mu_raw(const mldsa_params *p, const uint8_t *tr, const uint8_t *mprime, size_t mlen,
                  uint8_t *mu)
{
    keccak_state st;
    shake256_init(&st);
    keccak_absorb_ok(&st, tr, p->tr_bytes);
    if (mlen)
        keccak_absorb_ok(&st, mprime, mlen);
    (void)keccak_squeeze(&st, mu, p->mu_bytes);
    keccak_wipe(&st);
}

pqc_rv mldsa_prehash_mu(mldsa_set set, const uint8_t *tr, size_t trlen, const uint8_t *ctx,
                        size_t ctxlen, pqc_hash ph, const uint8_t *digest, size_t digestlen,
                        uint8_t *mu, size_t mucap)
{
    const mldsa_params *p;
    pqc_rv rv = mldsa_lookup(set, &p);
    if (rv)
        return rv;
    const uint8_t *oid = pqc_hash_oid(ph);
    if (p->version != MLDSA_V_FIPS || !oid || !tr || !digest || !mu)
        return PQC_ERR_BAD_PARAM;
    if ((rv = check_ctx(p, ctx, ctxlen)) != PQC_OK)
        return rv;
    if (trlen != p->tr_bytes || digestlen != pqc_hash_bytes(ph) || mucap < p->mu_bytes)
        return PQC_ERR_BAD_LENGTH;

    keccak_state st;
    shake256_init(&st);
    keccak_absorb_ok(&st, tr, p->tr_bytes);
    absorb_prefix(&st, p, 0x01, ctx, ctxlen);
    keccak_absorb_ok(&st, oid, PQC_HASH_OID_BYTES);
    keccak_absorb_ok(&st, digest, digestlen);
    (void)keccak_squeeze(&st, mu, p->mu_bytes);
    keccak_wipe(&st);
    return PQC_OK;
}

/* ---- streaming ---- */

static pqc_rv mu_start(mldsa_mu_ctx *mc, const mldsa_params *p, const uint8_t *tr,
                       const uint8_t *ctx, size_t ctxlen, int internal)
{
    memset(mc, 0, sizeof(*mc));
    shake256_init(&mc->ks);
    keccak_absorb_ok(&mc->ks, tr, p->tr_bytes);
    if (!internal)
        absorb_prefix(&mc->ks, p, 0x00, ctx, ctxlen);
    mc->magic = MLDSA_MU_MAGIC;
    mc->set = (uint32_t)p->set;
    return PQC_OK;
}

pqc_rv mldsa_mu_init(mldsa_mu_ctx *mc, mldsa_set set, const uint8_t *tr, size_t trlen,
                     const uint8_t *ctx, size_t ctxlen)
{
    const mldsa_params *p;
    pqc_rv rv = mldsa_lookup(set, &p);
    if (rv)
        return rv;
    if (!mc || !tr)
        return PQC_ERR_BAD_PARAM;
    if ((rv = check_ctx(p, ctx, ctxlen)) != PQC_OK)
        return rv;
    if (trlen != p->tr_bytes)
        return PQC_ERR_BAD_LENGTH;
    return mu_start(mc, p, tr, ctx, ctxlen, 0);
}

pqc_rv mldsa_mu_init_internal(mldsa_mu_ctx *mc, mldsa_set set, const uint8_t *tr, size_t trlen)
{
    const mldsa_params *p;
    pqc_rv rv = mldsa_lookup(set, &p);
    if (rv)
        return rv;
    if (!mc || !tr)
        return PQC_ERR_BAD_PARAM;
    if (trlen != p->tr_bytes)
        return PQC_ERR_BAD_LENGTH;
    return mu_start(mc, p, tr, NULL, 0, 1);
}

pqc_rv mldsa_mu_init_pk(mldsa_mu_ctx *mc, mldsa_set set, const uint8_t *pk, size_t pklen,
                        const uint8_t *ctx, size_t ctxlen)
{
    const mldsa_params *p;
    pqc_rv rv = mldsa_lookup(set, &p);
    if (rv)
        return rv;
    if (!mc || !pk)
        return PQC_ERR_BAD_PARAM;
    if ((rv = check_ctx(p, ctx, ctxlen)) != PQC_OK)
        return rv;
    if (pklen != p->pk_bytes)
        return PQC_ERR_BAD_LENGTH;
    uint8_t tr[MLDSA_CRH_MAX];
    mldsa_tr_from_pk(p, pk, tr);
    return mu_start(mc, p, tr, ctx, ctxlen, 0);
}

pqc_rv mldsa_mu_init_sk(mldsa_mu_ctx *mc, mldsa_set set, const uint8_t *sk, size_t sklen,
                        const uint8_t *ctx, size_t ctxlen)
{
    const mldsa_params *p;
    pqc_rv rv = mldsa_lookup(set, &p);
    if (rv)
        return rv;
    if (!mc || !sk)
        return PQC_ERR_BAD_PARAM;
    if ((rv = check_ctx(p, ctx, ctxlen)) != PQC_OK)
        return rv;
    if (sklen != p->sk_bytes)
        return PQC_ERR_BAD_LENGTH;
    return mu_start(mc, p, sk + mldsa_sk_off_tr(p), ctx, ctxlen, 0);
}

/* A context restored from a blob is untrusted bytes: validate what the
 * sponge code would otherwise index with. */
static const mldsa_params *mu_ctx_params(const mldsa_mu_ctx *mc)
{
    if (!mc || mc->magic != MLDSA_MU_MAGIC || mc->ks.squeezing || mc->ks.rate != SHAKE256_RATE ||
        mc->ks.dsbyte != 0x1F || mc->ks.pos >= mc->ks.rate)
        return NULL;
    return mldsa_params_get((mldsa_set)mc->set);
}

pqc_rv mldsa_mu_update(mldsa_mu_ctx *mc, const uint8_t *data, size_t len)
{
    if (!mc || (!data && len))
        return PQC_ERR_BAD_PARAM;
    if (!mu_ctx_params(mc))
        return PQC_ERR_STATE;
    keccak_absorb_ok(&mc->ks, data, len);
    return PQC_OK;
}

pqc_rv mldsa_mu_final(mldsa_mu_ctx *mc, uint8_t *mu, size_t mucap)
{
    if (!mc || !mu)
        return PQC_ERR_BAD_PARAM;
    const mldsa_params *p = mu_ctx_params(mc);
    if (!p)
        return PQC_ERR_STATE;
    if (mucap < p->mu_bytes)
        return PQC_ERR_BAD_LENGTH;
    (void)keccak_squeeze(&mc->ks, mu, p->mu_bytes);
    PQC_WIPE(mc, sizeof(*mc));
    return PQC_OK;
}
