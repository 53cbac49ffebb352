/* Template rules and defaults for key pairs (README "Key pairs"). The
 * public template describes the public key, the private template the
 * private key; key-pair parameters (modulus bits, exponent, curve,
 * parameter set) may stand in either, and must agree when in both. */
#include <string.h>

#include "pkey.h"

CK_RV policy_rsa_exponent(const CK_ATTRIBUTE *a, uint8_t e[8], size_t *elen)
{
    const uint8_t *p = a->pValue;
    size_t len = a->ulValueLen;
    uint64_t v = 0;

    if (len == 0 || len > 8)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    for (size_t i = 0; i < len; i++)
        v = (v << 8) | p[i];
    if (len == sizeof(CK_ULONG) && !(v & 1) && (p[0] & 1)) {
        /* Even as big-endian but odd in its first byte: a native CK_ULONG
         * (GREP11 clients send the exponent as AttributeI). */
        CK_ULONG u;
        memcpy(&u, p, sizeof(u));
        v = u;
    }
    if (v < 3 || !(v & 1))
        return CKR_ATTRIBUTE_VALUE_INVALID;
    *elen = 0;
    for (int sh = 56; sh >= 0; sh -= 8)
        if (*elen > 0 || (v >> sh) != 0)
            e[(*elen)++] = (uint8_t)(v >> sh);
    return CKR_OK;
}

/* Boolean attributes and roles of one template. Values (CKA_VALUE, public
 * values, RSA private components) belong to import only. */
static CK_RV pair_flags(const tmpl *t, key_obj *k, bool import, uint32_t *given, uint32_t *vals)
{
    CK_ULONG v;

    *given = *vals = 0;
    if (tmpl_ulong(t, CKA_CLASS, &v) && v != k->cls)
        return CKR_TEMPLATE_INCONSISTENT;
    for (int i = 0; i < TMPL_MAX_DEFS; i++) {
        const CK_ATTRIBUTE *a = t->slot[i];
        const attr_def *d;
        if (a == NULL)
            continue;
        d = attr_find(a->type, NULL);
        switch (d->role) {
        case AR_ENGINE:
            return CKR_ATTRIBUTE_READ_ONLY;
        case AR_CHECK:
            return CKR_TEMPLATE_INCONSISTENT;
        case AR_VALUE:
        case AR_PUBINFO:
            if (!import)
                return CKR_TEMPLATE_INCONSISTENT;
            break;
        case AR_PRIVVAL:
            if (!import || k->cls != CKO_PRIVATE_KEY)
                return CKR_TEMPLATE_INCONSISTENT;
            break;
        case AR_FALSEONLY: /* TRUE is a value we do not support, FALSE is fine */
            if (*(const CK_BBOOL *)a->pValue)
                return CKR_ATTRIBUTE_VALUE_INVALID;
            break;
        case AR_BOUND:
            if (a->type == CKA_VALUE_LEN)
                return CKR_TEMPLATE_INCONSISTENT;
            if (d->kind == AK_MECHS)
                policy_allowed_from(a, k);
            if (d->kind == AK_BOOL) {
                *given |= d->flag;
                if (*(const CK_BBOOL *)a->pValue)
                    *vals |= d->flag;
            }
            break;
        case AR_KEYPARAM:
        case AR_NONBOUND:
            break;
        }
    }
    return CKR_OK;
}

/* mech: the generating mechanism, or CK_UNAVAILABLE_INFORMATION on import
 * (then LOCAL, ALWAYS_SENSITIVE and NEVER_EXTRACTABLE stay FALSE). */
static CK_RV pair_defaults(const engine *e, key_obj *k, uint32_t given, uint32_t vals,
                           CK_MECHANISM_TYPE mech)
{
    uint32_t usage = policy_usage(k->cls, k->ktype);
    bool pub = k->cls == CKO_PUBLIC_KEY;

    if ((given & vals & KF_USAGE) & ~policy_usage_accepted(k->cls, k->ktype))
        return CKR_TEMPLATE_INCONSISTENT;
    /* Public keys never hold secrets; trusted marks a public wrapping key and
     * wrap-with-trusted a private key, not the other way round. */
    if (pub && (given & vals & (KF_SENSITIVE | KF_WRAP_WITH_TRUSTED)))
        return CKR_TEMPLATE_INCONSISTENT;
    if (!pub && (given & vals & KF_TRUSTED))
        return CKR_TEMPLATE_INCONSISTENT;
    k->flags = (e->pol.flags & ENGINE_POLICY_USAGE_DEFAULT_FALSE) ? 0 : usage;
    k->flags |= (pub ? 0 : KF_SENSITIVE) | KF_EXTRACTABLE | KF_MODIFIABLE;
    k->flags = (k->flags & ~given) | (vals & given);
    if ((k->flags & KF_TRUSTED) && (e->pol.flags & ENGINE_POLICY_NO_TRUSTED))
        return CKR_ATTRIBUTE_READ_ONLY;
    k->gen_mech = mech;
    if (mech == CK_UNAVAILABLE_INFORMATION)
        return CKR_OK;
    k->flags |= KF_LOCAL;
    if (!pub && (k->flags & KF_SENSITIVE))
        k->flags |= KF_ALWAYS_SENSITIVE;
    if (!pub && !(k->flags & KF_EXTRACTABLE))
        k->flags |= KF_NEVER_EXTRACTABLE;
    return CKR_OK;
}

/* The attribute from either template; both must agree byte for byte. */
static CK_RV pair_param(const tmpl *a, const tmpl *b, CK_ATTRIBUTE_TYPE type,
                        const CK_ATTRIBUTE **out)
{
    const CK_ATTRIBUTE *x = tmpl_get(a, type), *y = tmpl_get(b, type);
    if (x != NULL && y != NULL &&
        (x->ulValueLen != y->ulValueLen || memcmp(x->pValue, y->pValue, x->ulValueLen) != 0))
        return CKR_TEMPLATE_INCONSISTENT;
    *out = x != NULL ? x : y;
    return CKR_OK;
}

/* Parameters of the key pair from the templates and the mechanism. */
static CK_RV pair_params_of(const engine *e, CK_KEY_TYPE mech_kt, const tmpl *tp, const tmpl *tv,
                            pair_params *pp)
{
    CK_RV rv;
    const CK_ATTRIBUTE *a = NULL;
    CK_ULONG v;

    memset(pp, 0, sizeof(*pp));
    pp->ktype = mech_kt;
    switch (mech_kt) {
    case CKK_RSA:
        pp->alg = PK_RSA;
        if (tmpl_get(tp, CKA_MODULUS) != NULL)
            return CKR_OK; /* import: sizes come from the modulus (pimport.c) */
        if ((rv = pair_param(tp, tv, CKA_MODULUS_BITS, &a)) != CKR_OK)
            return rv;
        if (a == NULL)
            return CKR_TEMPLATE_INCOMPLETE;
        memcpy(&v, a->pValue, sizeof(v));
        if (v < e->pol.min_rsa_bits || v > 4096 || v % 8 != 0)
            return CKR_KEY_SIZE_RANGE;
        pp->bits = v;
        if ((rv = pair_param(tp, tv, CKA_PUBLIC_EXPONENT, &a)) != CKR_OK)
            return rv;
        if (a == NULL) {
            static const uint8_t F4[3] = {1, 0, 1};
            memcpy(pp->e, F4, 3);
            pp->elen = 3;
            return CKR_OK;
        }
        return policy_rsa_exponent(a, pp->e, &pp->elen);
    case CKK_EC:
    case CKK_EC_EDWARDS:
    case CKK_EC_MONTGOMERY:
        if ((rv = pair_param(tp, tv, CKA_EC_PARAMS, &a)) != CKR_OK)
            return rv;
        if (a == NULL)
            return CKR_TEMPLATE_INCOMPLETE;
        pp->curve = curve_by_params(a->pValue, a->ulValueLen, &rv);
        if (pp->curve == NULL)
            return rv;
        pp->alg = pp->curve->alg;
        pp->ktype = pp->alg == PK_EC   ? CKK_EC
                    : pp->alg == PK_ED ? CKK_EC_EDWARDS
                                       : CKK_EC_MONTGOMERY;
        /* CKM_EC_KEY_PAIR_GEN makes any of them (IBM: Ed25519 by OID); the
         * Edwards and Montgomery mechanisms only their own curves. */
        if (mech_kt != CKK_EC && pp->ktype != mech_kt)
            return CKR_TEMPLATE_INCONSISTENT;
        return CKR_OK;
    case CKK_DSA:
    case CKK_DH: {
        const CK_ATTRIBUTE *sp, *p, *q, *g;
        if ((rv = pair_param(tp, tv, CKA_IBM_STRUCT_PARAMS, &sp)) != CKR_OK ||
            (rv = pair_param(tp, tv, CKA_PRIME, &p)) != CKR_OK ||
            (rv = pair_param(tp, tv, CKA_SUBPRIME, &q)) != CKR_OK ||
            (rv = pair_param(tp, tv, CKA_BASE, &g)) != CKR_OK)
            return rv;
        return ffc_params(e, mech_kt, sp, p, q, g, pp);
    }
    case CKK_ML_DSA:
    case CKK_ML_KEM:
        pp->alg = mech_kt == CKK_ML_DSA ? PK_MLDSA : PK_MLKEM;
        if ((rv = pair_param(tp, tv, CKA_PARAMETER_SET, &a)) != CKR_OK)
            return rv;
        if (a == NULL)
            return CKR_TEMPLATE_INCOMPLETE;
        memcpy(&v, a->pValue, sizeof(v));
        pp->pqc = pqc_by_ckp(mech_kt, v);
        return pp->pqc ? CKR_OK : CKR_ATTRIBUTE_VALUE_INVALID;
    case CKK_IBM_PQC_DILITHIUM:
    case CKK_IBM_PQC_KYBER:
        pp->alg = mech_kt == CKK_IBM_PQC_DILITHIUM ? PK_MLDSA : PK_MLKEM;
        if ((rv = pair_param(tp, tv, CKA_IBM_PQC_PARAMS, &a)) != CKR_OK)
            return rv;
        if (a == NULL)
            return CKR_TEMPLATE_INCOMPLETE;
        pp->pqc = pqc_by_ibm_oid(mech_kt, a->pValue, a->ulValueLen, &rv);
        return pp->pqc ? CKR_OK : rv;
    default:
        return CKR_MECHANISM_INVALID;
    }
}

/* A parameter attribute that does not belong to this kind of key. */
static bool pair_foreign_param(const tmpl *t, const pair_params *pp)
{
    bool rsa = pp->alg == PK_RSA, ec = pp->curve != NULL, std = pp->pqc && pp->pqc->ckp != 0,
         ibm = pp->pqc && pp->pqc->ckp == 0, ffc = pp->alg == PK_DSA || pp->alg == PK_DH;
    if (!ffc && (tmpl_get(t, CKA_PRIME) || tmpl_get(t, CKA_SUBPRIME) || tmpl_get(t, CKA_BASE) ||
                 tmpl_get(t, CKA_IBM_STRUCT_PARAMS)))
        return true;
    if (tmpl_get(t, CKA_PRIME_BITS) || tmpl_get(t, CKA_SUB_PRIME_BITS))
        return true; /* parameter generation only */
    return (!rsa && (tmpl_get(t, CKA_MODULUS_BITS) || tmpl_get(t, CKA_PUBLIC_EXPONENT))) ||
           (!ec && tmpl_get(t, CKA_EC_PARAMS)) || (!std && tmpl_get(t, CKA_PARAMETER_SET)) ||
           (!ibm && tmpl_get(t, CKA_IBM_PQC_PARAMS));
}

static void pair_bind(const pair_params *pp, key_obj *k)
{
    k->ktype = pp->ktype;
    if (pp->alg == PK_RSA || pp->alg == PK_DSA || pp->alg == PK_DH)
        k->mod_bits = pp->bits;
    if (pp->curve != NULL) {
        k->params_type = CKA_EC_PARAMS;
        k->params_len = pp->curve->oid_len;
        memcpy(k->params, pp->curve->oid, pp->curve->oid_len);
    }
    if (pp->pqc != NULL && pp->pqc->ckp != 0)
        k->param_set = pp->pqc->ckp;
    if (pp->pqc != NULL && pp->pqc->ckp == 0) {
        k->params_type = CKA_IBM_PQC_PARAMS;
        k->params_len = pp->pqc->oid_len;
        memcpy(k->params, pp->pqc->oid, pp->pqc->oid_len);
    }
}

static CK_RV pair_key_type(const tmpl *t, const pair_params *pp, CK_KEY_TYPE mech_kt)
{
    CK_ULONG v;
    if (!tmpl_ulong(t, CKA_KEY_TYPE, &v))
        return CKR_OK;
    /* IBM clients name Ed25519 keys made by CKM_EC_KEY_PAIR_GEN CKK_EC. */
    return (v == pp->ktype || (mech_kt == CKK_EC && v == CKK_EC)) ? CKR_OK
                                                                  : CKR_TEMPLATE_INCONSISTENT;
}

CK_RV policy_new_pair(const engine *e, CK_MECHANISM_TYPE mech, CK_KEY_TYPE mech_kt,
                      const CK_ATTRIBUTE *pub, CK_ULONG npub, const CK_ATTRIBUTE *priv,
                      CK_ULONG npriv, pair_params *pp, key_obj *pubk, key_obj *privk)
{
    CK_RV rv;
    tmpl tp, tv;
    uint32_t g, v;

    memset(pubk, 0, sizeof(*pubk));
    memset(privk, 0, sizeof(*privk));
    if ((rv = tmpl_parse(pub, npub, &tp)) != CKR_OK ||
        (rv = tmpl_parse(priv, npriv, &tv)) != CKR_OK)
        return rv;
    if ((rv = pair_params_of(e, mech_kt, &tp, &tv, pp)) != CKR_OK)
        return rv;
    if (pair_foreign_param(&tp, pp) || pair_foreign_param(&tv, pp))
        return CKR_TEMPLATE_INCONSISTENT;
    if ((rv = pair_key_type(&tp, pp, mech_kt)) != CKR_OK ||
        (rv = pair_key_type(&tv, pp, mech_kt)) != CKR_OK)
        return rv;
    pubk->cls = CKO_PUBLIC_KEY;
    privk->cls = CKO_PRIVATE_KEY;
    pair_bind(pp, pubk);
    pair_bind(pp, privk);
    if ((rv = pair_flags(&tp, pubk, false, &g, &v)) != CKR_OK ||
        (rv = pair_defaults(e, pubk, g, v, mech)) != CKR_OK)
        return rv;
    if ((rv = pair_flags(&tv, privk, false, &g, &v)) != CKR_OK ||
        (rv = pair_defaults(e, privk, g, v, mech)) != CKR_OK)
        return rv;
    return CKR_OK;
}

CK_RV policy_import_asym(const engine *e, const tmpl *t, CK_OBJECT_CLASS cls, pair_params *pp,
                         key_obj *k)
{
    CK_RV rv;
    CK_ULONG kt;
    uint32_t g, v;
    tmpl none;

    memset(k, 0, sizeof(*k));
    memset(&none, 0, sizeof(none));
    k->cls = cls;
    if (!tmpl_ulong(t, CKA_KEY_TYPE, &kt))
        return CKR_TEMPLATE_INCOMPLETE;
    /* Edwards/Montgomery keys come as CKK_EC_EDWARDS/MONTGOMERY; the curve decides. */
    if ((rv = pair_params_of(e, kt, t, &none, pp)) != CKR_OK)
        return rv == CKR_MECHANISM_INVALID ? CKR_TEMPLATE_INCONSISTENT : rv;
    if (pp->alg == PK_RSA && tmpl_get(t, CKA_MODULUS_BITS) != NULL)
        return CKR_TEMPLATE_INCONSISTENT; /* the modulus says it */
    /* IBM's applications (2.40 headers, no CKK_EC_EDWARDS) import Edwards
     * keys as CKK_EC with the curve's OID, as they generate them. */
    if (kt == CKK_EC && pp->ktype != CKK_EC && pp->ktype != CKK_EC_EDWARDS)
        return CKR_TEMPLATE_INCONSISTENT;
    if (pair_foreign_param(t, pp))
        return CKR_TEMPLATE_INCONSISTENT;
    pair_bind(pp, k);
    if ((rv = pair_flags(t, k, true, &g, &v)) != CKR_OK)
        return rv;
    return pair_defaults(e, k, g, v, CK_UNAVAILABLE_INFORMATION);
}

CK_RV policy_derive_asym(const engine *e, const tmpl *t, CK_OBJECT_CLASS cls, const curve_def *c,
                         CK_MECHANISM_TYPE mech, const key_obj *base, key_obj *k)
{
    CK_RV rv;
    uint32_t g, v;
    pair_params pp;
    const CK_ATTRIBUTE *a = tmpl_get(t, CKA_EC_PARAMS);

    memset(k, 0, sizeof(*k));
    memset(&pp, 0, sizeof(pp));
    k->cls = cls;
    pp.alg = c->alg;
    pp.curve = c;
    pp.ktype = c->alg == PK_EC ? CKK_EC : CKK_EC_EDWARDS;
    if (a != NULL) {
        const curve_def *tc = curve_by_params(a->pValue, a->ulValueLen, &rv);
        if (tc == NULL)
            return rv;
        if (tc != c)
            return CKR_TEMPLATE_INCONSISTENT;
    }
    if (pair_foreign_param(t, &pp) || (rv = pair_key_type(t, &pp, CKK_EC)) != CKR_OK)
        return CKR_TEMPLATE_INCONSISTENT;
    pair_bind(&pp, k);
    if ((rv = pair_flags(t, k, false, &g, &v)) != CKR_OK ||
        (rv = pair_defaults(e, k, g, v, CK_UNAVAILABLE_INFORMATION)) != CKR_OK)
        return rv;
    /* As for derived secret keys (policy.c): never LOCAL, and only as
     * protected as the base has always been. */
    k->gen_mech = mech;
    if (cls == CKO_PRIVATE_KEY && (k->flags & KF_SENSITIVE) && base != NULL &&
        (base->flags & KF_ALWAYS_SENSITIVE))
        k->flags |= KF_ALWAYS_SENSITIVE;
    if (cls == CKO_PRIVATE_KEY && !(k->flags & KF_EXTRACTABLE) && base != NULL &&
        (base->flags & KF_NEVER_EXTRACTABLE))
        k->flags |= KF_NEVER_EXTRACTABLE;
    return CKR_OK;
}
