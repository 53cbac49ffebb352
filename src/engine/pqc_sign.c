/* ML-DSA, HashML-DSA and IBM Dilithium through the engine: every flow
 * (single-part included) goes through the external mu, so multi-part and
 * one-shot signing are the same computation. The mu sponge is written into
 * state blobs lane by lane, little-endian. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "sig.h"

static pqc_hash ph_of(hashid h)
{
    switch (h) {
    case H_SHA224:
        return PQC_HASH_SHA224;
    case H_SHA256:
        return PQC_HASH_SHA256;
    case H_SHA384:
        return PQC_HASH_SHA384;
    case H_SHA512:
        return PQC_HASH_SHA512;
    case H_SHA512_224:
        return PQC_HASH_SHA512_224;
    case H_SHA512_256:
        return PQC_HASH_SHA512_256;
    case H_SHA3_224:
        return PQC_HASH_SHA3_224;
    case H_SHA3_256:
        return PQC_HASH_SHA3_256;
    case H_SHA3_384:
        return PQC_HASH_SHA3_384;
    case H_SHA3_512:
        return PQC_HASH_SHA3_512;
    case H_SHAKE128:
        return PQC_HASH_SHAKE128;
    case H_SHAKE256:
        return PQC_HASH_SHAKE256;
    default:
        return (pqc_hash)0;
    }
}

static CK_RV pqc_ck(pqc_rv r)
{
    switch (r) {
    case PQC_OK:
        return CKR_OK;
    case PQC_ERR_CONTEXT_TOO_LONG:
        return CKR_MECHANISM_PARAM_INVALID;
    case PQC_ERR_BAD_KEY:
        return CKR_KEY_HANDLE_INVALID;
    case PQC_ERR_UNSUPPORTED:
        return CKR_IBM_PQC_PARAMS_NOT_SUPPORTED;
    default:
        return CKR_FUNCTION_FAILED;
    }
}

CK_RV mldsa_op_start(const pkey *k, int scheme, const sig_param *p, bool sign, mldsa_mu_ctx *mc)
{
    mldsa_set set = (mldsa_set)k->pqc->set;
    const uint8_t *ctx = scheme == SIG_MLDSA ? p->ctx : NULL;
    size_t cl = scheme == SIG_MLDSA ? p->ctx_len : 0;
    return pqc_ck(sign ? mldsa_mu_init_sk(mc, set, k->priv, k->priv_len, ctx, cl)
                       : mldsa_mu_init_pk(mc, set, k->pub.p, k->pub.len, ctx, cl));
}

CK_RV mldsa_op_prehash_mu(const pkey *k, const sig_param *p, hashid h, const uint8_t *dg,
                          size_t dlen, uint8_t *mu, size_t mucap)
{
    mldsa_set set = (mldsa_set)k->pqc->set;
    uint8_t tr[64];
    pqc_rv r;
    /* tr = H(pk); the public key sits in every key object, private ones too. */
    if (mldsa_tr_bytes(set) != sizeof(tr) || ph_of(h) == 0)
        return CKR_MECHANISM_PARAM_INVALID;
    shake256(tr, sizeof(tr), k->pub.p, k->pub.len);
    r = mldsa_prehash_mu(set, tr, sizeof(tr), p->ctx, p->ctx_len, ph_of(h), dg, dlen, mu, mucap);
    return pqc_ck(r);
}

CK_RV mldsa_op_sign(const pkey *k, const sig_param *p, const uint8_t *mu, size_t mulen,
                    engine_buf *sig)
{
    CK_RV rv;
    mldsa_set set = (mldsa_set)k->pqc->set;
    uint8_t rnd[64];
    size_t rl = mldsa_rnd_bytes(set), sl = mldsa_sig_bytes(set);
    bool det = p->hedge == CKH_DETERMINISTIC_REQUIRED;

    if (rl == 0 || rl > sizeof(rnd) || sl == 0)
        return CKR_IBM_PQC_PARAMS_NOT_SUPPORTED;
    /* Hedged unless the caller requires the deterministic variant. */
    if (!det && RAND_priv_bytes(rnd, (int)rl) != 1)
        return CKR_DEVICE_ERROR;
    if ((rv = ebuf_alloc(sig, sl)) != CKR_OK)
        goto out;
    rv = pqc_ck(mldsa_sign_mu(set, k->priv, k->priv_len, mu, mulen, det ? NULL : rnd, det ? 0 : rl,
                              sig->ptr, sl));
    if (rv != CKR_OK)
        engine_buf_free(sig);
out:
    OPENSSL_cleanse(rnd, sizeof(rnd));
    return rv;
}

CK_RV mldsa_op_verify(const pkey *k, const uint8_t *mu, size_t mulen, const uint8_t *sig,
                      size_t slen)
{
    mldsa_set set = (mldsa_set)k->pqc->set;
    pqc_rv r;
    if (slen != mldsa_sig_bytes(set))
        return CKR_SIGNATURE_LEN_RANGE;
    r = mldsa_verify_mu(set, k->pub.p, k->pub.len, mu, mulen, sig, slen);
    if (r == PQC_OK)
        return CKR_OK;
    return (r == PQC_ERR_VERIFY_FAILED || r == PQC_ERR_BAD_SIGNATURE) ? CKR_SIGNATURE_INVALID
                                                                      : pqc_ck(r);
}

void mldsa_mu_save(const mldsa_mu_ctx *mc, wbuf *w)
{
    uint8_t *q = wbuf_reserve(w, 200);
    if (q != NULL)
        for (int i = 0; i < 25; i++)
            for (int j = 0; j < 8; j++)
                q[8 * i + j] = (uint8_t)(mc->ks.s[i] >> (8 * j));
    wbuf_u32(w, mc->ks.pos);
    wbuf_u16(w, mc->ks.rate);
    wbuf_u8(w, mc->ks.dsbyte);
    wbuf_u8(w, mc->ks.squeezing);
    wbuf_u32(w, mc->magic);
    wbuf_u32(w, mc->set);
}

bool mldsa_mu_load(mldsa_mu_ctx *mc, rbuf *r)
{
    const uint8_t *q = rbuf_ptr(r, 200);
    memset(mc, 0, sizeof(*mc));
    if (q == NULL)
        return false;
    for (int i = 0; i < 25; i++) {
        uint64_t v = 0;
        for (int j = 7; j >= 0; j--)
            v = (v << 8) | q[8 * i + j];
        mc->ks.s[i] = v;
    }
    mc->ks.pos = rbuf_u32(r);
    mc->ks.rate = rbuf_u16(r);
    mc->ks.dsbyte = rbuf_u8(r);
    mc->ks.squeezing = rbuf_u8(r);
    mc->magic = rbuf_u32(r);
    mc->set = rbuf_u32(r);
    /* The library validates rate/position/magic again before use; an
     * absorbing mu sponge is SHAKE256 and never rests at pos == rate. */
    return !r->err && mc->magic == MLDSA_MU_MAGIC && mc->ks.rate == 136 && mc->ks.dsbyte == 0x1f &&
           mc->ks.squeezing == 0 && mc->ks.pos < 136;
}
