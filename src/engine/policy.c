/* Template defaults and policy rules for secret keys (README.md "Templates
 * and policy"). The module is not trusted: every rule is enforced here. */
#include <string.h>

#include "keyobj.h"

/* Usage flags that make sense per class and key type; the others may not
 * be set. Public EC keys may carry CKA_DERIVE because the published GREP11
 * samples set it (it grants nothing: ECDH uses the private key). */
uint32_t policy_usage(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt)
{
    bool pub = cls == CKO_PUBLIC_KEY;
    if (cls != CKO_SECRET_KEY) {
        switch (kt) {
        case CKK_RSA:
            return pub ? KF_ENCRYPT | KF_VERIFY | KF_WRAP : KF_DECRYPT | KF_SIGN | KF_UNWRAP;
        case CKK_EC:
            return pub ? KF_VERIFY | KF_DERIVE : KF_SIGN | KF_DERIVE;
        case CKK_EC_EDWARDS:
        case CKK_ML_DSA:
        case CKK_IBM_PQC_DILITHIUM:
            return pub ? KF_VERIFY : KF_SIGN;
        case CKK_EC_MONTGOMERY:
        case CKK_DH:
            return KF_DERIVE;
        case CKK_DSA:
            return pub ? KF_VERIFY : KF_SIGN;
        case CKK_ML_KEM:
        case CKK_IBM_PQC_KYBER:
            /* ENCRYPT/DECRYPT: C_EncapsulateKey/C_DecapsulateKey; DERIVE: IBM's
             * DeriveKey form of the same. */
            return pub ? KF_ENCRYPT | KF_DERIVE : KF_DECRYPT | KF_DERIVE;
        default:
            return 0;
        }
    }
    switch (kt) {
    case CKK_AES:
    case CKK_DES2:
    case CKK_DES3:
        return KF_USAGE;
    case CKK_GENERIC_SECRET:
        return KF_SIGN | KF_VERIFY | KF_DERIVE;
    default:
        return 0;
    }
}

uint32_t policy_usage_accepted(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt)
{
    uint32_t u = policy_usage(cls, kt);
    /* Applications state usages no mechanism of the key type exercises:
     * pkcs11-tool and libp11 ask for ENCRYPT/DECRYPT (and WRAP/UNWRAP) on
     * the generic secret an ECDH derivation makes, pkcs11-tool for DERIVE on
     * every EC-family key pair, Edwards included. Such a flag is stored
     * and reported; every mechanism also checks the key type, so only one
     * that takes the type can use it: CKM_IBM_BTC_DERIVE derives SLIP-0010
     * children of an Ed25519 key with CKA_DERIVE. */
    if (cls == CKO_SECRET_KEY && kt == CKK_GENERIC_SECRET)
        u |= KF_ENCRYPT | KF_DECRYPT | KF_WRAP | KF_UNWRAP;
    if (cls != CKO_SECRET_KEY && kt == CKK_EC_EDWARDS)
        u |= KF_DERIVE;
    return u;
}

static bool policy_key_type_ok(CK_KEY_TYPE kt)
{
    return kt == CKK_AES || kt == CKK_DES2 || kt == CKK_DES3 || kt == CKK_GENERIC_SECRET;
}

CK_RV policy_check_len(const engine *e, CK_KEY_TYPE kt, size_t len)
{
    switch (kt) {
    case CKK_AES:
        return (len == 16 || len == 24 || len == 32) ? CKR_OK : CKR_ATTRIBUTE_VALUE_INVALID;
    case CKK_DES2:
        return len == 16 ? CKR_OK : CKR_ATTRIBUTE_VALUE_INVALID;
    case CKK_DES3:
        return len == 24 ? CKR_OK : CKR_ATTRIBUTE_VALUE_INVALID;
    case CKK_GENERIC_SECRET:
        return (len >= e->pol.min_generic_secret_bytes && len <= e->pol.max_generic_secret_bytes)
                   ? CKR_OK
                   : CKR_ATTRIBUTE_VALUE_INVALID;
    default:
        return CKR_TEMPLATE_INCONSISTENT;
    }
}

/* Class and key type, from the template and what the mechanism implies. */
static CK_RV policy_class_type(const tmpl *t, const key_ctx *ctx, key_obj *k)
{
    CK_ULONG v;

    k->cls = CKO_SECRET_KEY;
    if (tmpl_ulong(t, CKA_CLASS, &v)) {
        if (v != CKO_SECRET_KEY)
            return CKR_TEMPLATE_INCONSISTENT;
    } else if (ctx->origin == ORIGIN_IMPORT) {
        return CKR_TEMPLATE_INCOMPLETE;
    }
    if (tmpl_ulong(t, CKA_KEY_TYPE, &v)) {
        if (ctx->mech_ktype != CK_UNAVAILABLE_INFORMATION && v != ctx->mech_ktype)
            return CKR_TEMPLATE_INCONSISTENT;
        k->ktype = v;
    } else if (ctx->mech_ktype != CK_UNAVAILABLE_INFORMATION) {
        k->ktype = ctx->mech_ktype;
    } else if (ctx->origin == ORIGIN_DERIVE) {
        k->ktype = CKK_GENERIC_SECRET;
    } else {
        return CKR_TEMPLATE_INCOMPLETE;
    }
    if (!policy_key_type_ok(k->ktype))
        return CKR_TEMPLATE_INCONSISTENT;
    return CKR_OK;
}

/* The value length from the template and the origin. */
static CK_RV policy_value_len(const engine *e, const tmpl *t, const key_ctx *ctx, key_obj *k)
{
    CK_ULONG vl = 0;
    bool have = tmpl_ulong(t, CKA_VALUE_LEN, &vl);
    bool des = k->ktype == CKK_DES2 || k->ktype == CKK_DES3;

    if (des && (e->pol.flags & ENGINE_POLICY_NO_DES3))
        return CKR_TEMPLATE_INCONSISTENT;
    if (des) {
        /* DES key lengths are fixed by the type. The published GREP11 examples
         * send CKA_VALUE_LEN with DES3 key generation, so a given value is
         * accepted and ignored rather than refused. */
        k->val_len = k->ktype == CKK_DES2 ? 16 : 24;
        if (ctx->val_len != 0 && ctx->val_len != k->val_len)
            return ctx->origin == ORIGIN_UNWRAP ? CKR_WRAPPED_KEY_INVALID
                                                : CKR_ATTRIBUTE_VALUE_INVALID;
        return CKR_OK;
    }
    if (ctx->val_len != 0) {
        if (have && vl != ctx->val_len)
            return ctx->origin == ORIGIN_UNWRAP ? CKR_WRAPPED_KEY_INVALID
                                                : CKR_TEMPLATE_INCONSISTENT;
        vl = ctx->val_len;
    } else if (!have) {
        return CKR_TEMPLATE_INCOMPLETE;
    }
    k->val_len = vl;
    return policy_check_len(e, k->ktype, vl);
}

CK_RV policy_new_secret(const engine *e, const tmpl *t, const key_ctx *ctx, key_obj *k)
{
    CK_RV rv;
    uint32_t usage, given = 0, vals = 0;

    memset(k, 0, sizeof(*k));
    if ((rv = policy_class_type(t, ctx, k)) != CKR_OK)
        return rv;
    if ((rv = policy_value_len(e, t, ctx, k)) != CKR_OK)
        return rv;

    for (int i = 0; i < TMPL_MAX_DEFS; i++) {
        const CK_ATTRIBUTE *a = t->slot[i];
        const attr_def *d;
        if (a == NULL)
            continue;
        d = attr_find(a->type, NULL);
        switch (d->role) {
        case AR_ENGINE:
            return CKR_ATTRIBUTE_READ_ONLY;
        case AR_VALUE:
            if (ctx->origin != ORIGIN_IMPORT)
                return CKR_TEMPLATE_INCONSISTENT;
            break;
        case AR_CHECK:
            if (ctx->origin != ORIGIN_IMPORT)
                return CKR_TEMPLATE_INCONSISTENT;
            break;
        case AR_FALSEONLY: /* TRUE is a value we do not support, FALSE is fine */
            if (*(const CK_BBOOL *)a->pValue)
                return CKR_ATTRIBUTE_VALUE_INVALID;
            break;
        case AR_BOUND:
            if (d->kind == AK_BOOL) {
                given |= d->flag;
                if (*(const CK_BBOOL *)a->pValue)
                    vals |= d->flag;
            }
            break;
        case AR_NONBOUND:
            break;
        case AR_KEYPARAM: /* public-key attributes have no place on a secret key */
        case AR_PUBINFO:
        case AR_PRIVVAL:
            return CKR_TEMPLATE_INCONSISTENT;
        }
    }
    if (ctx->origin == ORIGIN_IMPORT && tmpl_get(t, CKA_VALUE) == NULL)
        return CKR_TEMPLATE_INCOMPLETE;

    usage = policy_usage(k->cls, k->ktype);
    if ((given & vals & KF_USAGE) & ~policy_usage_accepted(k->cls, k->ktype))
        return CKR_TEMPLATE_INCONSISTENT;
    /* Defaults: EP11 turns on every usage the key type supports; sensitive,
     * extractable and modifiable default on; trusted and wrap-with-trusted off. */
    k->flags = (e->pol.flags & ENGINE_POLICY_USAGE_DEFAULT_FALSE) ? 0 : usage;
    k->flags |= KF_SENSITIVE | KF_EXTRACTABLE | KF_MODIFIABLE;
    k->flags = (k->flags & ~given) | (vals & given);
    if ((k->flags & KF_TRUSTED) && (e->pol.flags & ENGINE_POLICY_NO_TRUSTED))
        return CKR_ATTRIBUTE_READ_ONLY;
    const CK_ATTRIBUTE *allowed = tmpl_get(t, CKA_ALLOWED_MECHANISMS);
    if (allowed)
        policy_allowed_from(allowed, k);

    switch (ctx->origin) {
    case ORIGIN_GENERATE:
        k->flags |= KF_LOCAL;
        if (k->flags & KF_SENSITIVE)
            k->flags |= KF_ALWAYS_SENSITIVE;
        if (!(k->flags & KF_EXTRACTABLE))
            k->flags |= KF_NEVER_EXTRACTABLE;
        k->gen_mech = ctx->mech;
        break;
    case ORIGIN_DERIVE:
        /* A derived key is only as protected as its base has always been. */
        if ((k->flags & KF_SENSITIVE) && ctx->base && (ctx->base->flags & KF_ALWAYS_SENSITIVE))
            k->flags |= KF_ALWAYS_SENSITIVE;
        if (!(k->flags & KF_EXTRACTABLE) && ctx->base && (ctx->base->flags & KF_NEVER_EXTRACTABLE))
            k->flags |= KF_NEVER_EXTRACTABLE;
        k->gen_mech = ctx->mech;
        break;
    default:
        k->gen_mech = CK_UNAVAILABLE_INFORMATION;
        break;
    }
    return CKR_OK;
}

CK_RV policy_set_attrs(const engine *e, const tmpl *t, key_obj *k)
{
    uint32_t nf = k->flags;
    uint32_t usage = policy_usage_accepted(k->cls, k->ktype);

    for (int i = 0; i < TMPL_MAX_DEFS; i++) {
        const CK_ATTRIBUTE *a = t->slot[i];
        const attr_def *d;
        CK_ULONG v;
        bool on;
        if (a == NULL)
            continue;
        d = attr_find(a->type, NULL);
        if (d->role == AR_NONBOUND || (d->role == AR_FALSEONLY && !*(const CK_BBOOL *)a->pValue))
            continue;
        if (!(k->flags & KF_MODIFIABLE))
            return CKR_ATTRIBUTE_READ_ONLY;
        if (d->kind != AK_BOOL || d->role != AR_BOUND) {
            /* Read-only after creation; re-stating the current value is harmless. */
            if (d->kind == AK_ULONG) {
                memcpy(&v, a->pValue, sizeof(v));
                if ((a->type == CKA_CLASS && v == k->cls) ||
                    (a->type == CKA_KEY_TYPE && v == k->ktype) ||
                    (a->type == CKA_VALUE_LEN && v == k->val_len) ||
                    (a->type == CKA_KEY_GEN_MECHANISM && v == k->gen_mech))
                    continue;
            } else if (d->kind == AK_BOOL && d->role == AR_ENGINE) {
                if ((*(const CK_BBOOL *)a->pValue != 0) == ((k->flags & d->flag) != 0))
                    continue;
            } else if (d->kind == AK_MECHS) {
                /* Changing the list could widen it: fixed when the key is made. */
                if (policy_allowed_equal(a, k))
                    continue;
            }
            return CKR_ATTRIBUTE_READ_ONLY;
        }
        on = *(const CK_BBOOL *)a->pValue != 0;
        switch (d->flag) {
        case KF_SENSITIVE: /* may only turn on */
        case KF_WRAP_WITH_TRUSTED:
            if (!on && (k->flags & d->flag))
                return CKR_ATTRIBUTE_READ_ONLY;
            break;
        case KF_EXTRACTABLE: /* may only turn off */
            if (on && !(k->flags & d->flag))
                return CKR_ATTRIBUTE_READ_ONLY;
            break;
        case KF_MODIFIABLE:
        case KF_ATTRBOUND:
            if (on != ((k->flags & d->flag) != 0))
                return CKR_ATTRIBUTE_READ_ONLY;
            break;
        case KF_TRUSTED:
            if (on && !(k->flags & KF_TRUSTED) && (e->pol.flags & ENGINE_POLICY_NO_TRUSTED))
                return CKR_ATTRIBUTE_READ_ONLY;
            break;
        default: /* usage flags */
            if (on && !(usage & d->flag))
                return CKR_ATTRIBUTE_VALUE_INVALID;
            break;
        }
        nf = on ? (nf | d->flag) : (nf & ~d->flag);
    }
    k->flags = nf;
    return CKR_OK;
}

bool policy_allows(const key_obj *k, CK_MECHANISM_TYPE mech)
{
    if (k->n_allowed == 0)
        return true;
    for (size_t i = 0; i < k->n_allowed; i++)
        if (k->allowed[i] == mech)
            return true;
    return false;
}

CK_RV policy_check_usage(const key_obj *k, uint32_t kf, CK_MECHANISM_TYPE mech)
{
    if (!(k->flags & kf))
        return CKR_KEY_FUNCTION_NOT_PERMITTED;
    /* PKCS #11 3.0 §4.7: a mechanism outside the key's list is invalid for it. */
    return policy_allows(k, mech) ? CKR_OK : CKR_MECHANISM_INVALID;
}

void policy_allowed_from(const CK_ATTRIBUTE *a, key_obj *k)
{
    k->n_allowed = a->ulValueLen / sizeof(CK_MECHANISM_TYPE); /* tmpl_parse capped it */
    if (k->n_allowed)
        memcpy(k->allowed, a->pValue, k->n_allowed * sizeof(CK_MECHANISM_TYPE));
}

bool policy_allowed_equal(const CK_ATTRIBUTE *a, const key_obj *k)
{
    return a->ulValueLen == k->n_allowed * sizeof(CK_MECHANISM_TYPE) &&
           (k->n_allowed == 0 || memcmp(a->pValue, k->allowed, a->ulValueLen) == 0);
}
