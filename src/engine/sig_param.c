/* Mechanism parameters of public-key signatures (README "Mechanism
 * parameters"): RSA-PSS (GREP11 RSAPSSParm or ParameterB), the PKCS #11 3.2
 * signature context of ML-DSA (hedging + context [+ pre-hash]),
 * CK_EDDSA_PARAMS and IBM's ECSGParm. */
#include <string.h>

#include "sig.h"

hashid sig_mech_hash(CK_MECHANISM_TYPE m)
{
    const mech_row *r = mech_find(m);
    return (r != NULL && r->family == MF_DIGEST) ? (hashid)r->alg : H_NONE;
}

hashid sig_mgf_hash(CK_ULONG mgf)
{
    switch (mgf) {
    case CKG_MGF1_SHA1:
        return H_SHA1;
    case CKG_MGF1_SHA224:
        return H_SHA224;
    case CKG_MGF1_SHA256:
        return H_SHA256;
    case CKG_MGF1_SHA384:
        return H_SHA384;
    case CKG_MGF1_SHA512:
        return H_SHA512;
    case CKG_MGF1_SHA3_224:
    case CKG_IBM_MGF1_SHA3_224:
        return H_SHA3_224;
    case CKG_MGF1_SHA3_256:
    case CKG_IBM_MGF1_SHA3_256:
        return H_SHA3_256;
    case CKG_MGF1_SHA3_384:
    case CKG_IBM_MGF1_SHA3_384:
        return H_SHA3_384;
    case CKG_MGF1_SHA3_512:
    case CKG_IBM_MGF1_SHA3_512:
        return H_SHA3_512;
    default:
        return H_NONE;
    }
}

static bool no_param(const engine_mech *m)
{
    return m->kind == ENGINE_PARAM_NONE || (m->kind == ENGINE_PARAM_BYTES && m->bytes.len == 0);
}

static CK_RV pss_parse(const mech_row *row, const engine_mech *m, const pkey *k, sig_param *p)
{
    CK_MECHANISM_TYPE hm;
    CK_ULONG mgf;
    uint64_t salt;
    size_t kbytes;

    if (m->kind == ENGINE_PARAM_RSA_PSS) {
        hm = m->pss.hash, mgf = m->pss.mgf, salt = m->pss.salt_len;
    } else if (m->kind == ENGINE_PARAM_BYTES && m->bytes.len == 24) {
        rbuf r;
        rbuf_init(&r, m->bytes.ptr, m->bytes.len);
        hm = (CK_MECHANISM_TYPE)rbuf_u64(&r), mgf = (CK_ULONG)rbuf_u64(&r), salt = rbuf_u64(&r);
    } else {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    p->pss_hash = sig_mech_hash(hm);
    p->pss_mgf = sig_mgf_hash(mgf);
    if (p->pss_hash == H_NONE || p->pss_hash >= H_SHAKE128 || p->pss_mgf == H_NONE)
        return CKR_MECHANISM_PARAM_INVALID;
    /* CKM_SHAx_RSA_PKCS_PSS: the parameter must name the mechanism's hash. */
    if (SIG_HASH(row->alg) != H_NONE && SIG_HASH(row->alg) != p->pss_hash)
        return CKR_MECHANISM_PARAM_INVALID;
    kbytes = (pkey_bits(k) + 7) / 8;
    if (salt > kbytes || hash_len(p->pss_hash) + salt + 2 > kbytes)
        return CKR_MECHANISM_PARAM_INVALID;
    p->salt_len = (size_t)salt;
    return CKR_OK;
}

/* CK_SIGN_ADDITIONAL_CONTEXT as ParameterB: hedgeVariant u32 | ulContextLen
 * u32 | context [| hash u64 for CKM_HASH_ML_DSA]. */
static CK_RV ctx_parse(const mech_row *row, const engine_mech *m, sig_param *p)
{
    bool generic = SIG_SCHEME(row->alg) == SIG_HASH_MLDSA && SIG_HASH(row->alg) == H_NONE;
    rbuf r;
    const uint8_t *c;
    uint32_t clen;

    p->hedge = CKH_HEDGE_PREFERRED;
    if (no_param(m))
        return generic ? CKR_MECHANISM_PARAM_INVALID : CKR_OK;
    if (m->kind != ENGINE_PARAM_BYTES)
        return CKR_MECHANISM_PARAM_INVALID;
    rbuf_init(&r, m->bytes.ptr, m->bytes.len);
    p->hedge = rbuf_u32(&r);
    clen = rbuf_u32(&r);
    if (clen > sizeof(p->ctx) || (c = rbuf_ptr(&r, clen)) == NULL)
        return CKR_MECHANISM_PARAM_INVALID;
    memcpy(p->ctx, c, clen);
    p->ctx_len = clen;
    if (generic) {
        p->ph = sig_mech_hash((CK_MECHANISM_TYPE)rbuf_u64(&r));
        if (p->ph == H_NONE || p->ph == H_SHA1)
            return CKR_MECHANISM_PARAM_INVALID;
    }
    if (!rbuf_done(&r) || p->hedge > CKH_DETERMINISTIC_REQUIRED)
        return CKR_MECHANISM_PARAM_INVALID;
    return CKR_OK;
}

/* CK_EDDSA_PARAMS as ParameterB: phFlag u8 | ulContextDataLen u32 | context.
 * OpenSSL 3.0 offers neither Ed25519ctx/ph nor Ed448 contexts/ph, so only
 * the plain forms are accepted (README: "EdDSA"). */
static CK_RV eddsa_parse(const engine_mech *m, const pkey *k, sig_param *p)
{
    rbuf r;
    uint8_t ph;
    uint32_t clen;
    if (no_param(m))
        return CKR_OK;
    if (m->kind != ENGINE_PARAM_BYTES)
        return CKR_MECHANISM_PARAM_INVALID;
    rbuf_init(&r, m->bytes.ptr, m->bytes.len);
    ph = rbuf_u8(&r);
    clen = rbuf_u32(&r);
    if (clen > 255 || rbuf_ptr(&r, clen) == NULL || !rbuf_done(&r) || ph > 1)
        return CKR_MECHANISM_PARAM_INVALID;
    p->ed_params = true;
    p->ed_ph = ph != 0;
    /* Ed448 with no pre-hash and an empty context is plain Ed448. */
    if (k->curve != NULL && k->curve->priv_len == 57 && !p->ed_ph && clen == 0)
        return CKR_OK;
    return CKR_MECHANISM_PARAM_INVALID;
}

/* ECSGParm: required. BLS is a variant IBM offers that grep11 does not
 * (another curve, another key type), so it is an unsupported mechanism
 * rather than a bad parameter. */
static CK_RV ecsg_parse(const engine_mech *m, sig_param *p)
{
    if (m->kind != ENGINE_PARAM_ECSG)
        return CKR_MECHANISM_PARAM_INVALID;
    switch (m->ecsg.type) {
    case ECSG_IBM_ECSDSA_S256:
    case ECSG_IBM_ECSDSA_COMPR_MULTI:
        p->ecsg = m->ecsg.type;
        return CKR_OK;
    case ECSG_IBM_BLS:
        return CKR_MECHANISM_INVALID;
    default:
        return CKR_MECHANISM_PARAM_INVALID;
    }
}

CK_RV sig_param_parse(const mech_row *row, const engine_mech *m, const pkey *k, sig_param *p)
{
    memset(p, 0, sizeof(*p));
    switch (SIG_SCHEME(row->alg)) {
    case SIG_RSA_PSS:
        return pss_parse(row, m, k, p);
    case SIG_EDDSA:
        return eddsa_parse(m, k, p);
    case SIG_MLDSA:
    case SIG_HASH_MLDSA:
        return ctx_parse(row, m, p);
    case SIG_ECSDSA:
        return ecsg_parse(m, p);
    default:
        return no_param(m) ? CKR_OK : CKR_MECHANISM_PARAM_INVALID;
    }
}
