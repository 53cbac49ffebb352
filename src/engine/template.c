/* The attribute catalogue and template parsing. Every attribute a template
 * may carry is listed here with its kind and role; anything else is
 * CKR_ATTRIBUTE_TYPE_INVALID. Which roles a given template may use is the
 * policy's business (policy.c, policy_pair.c). */
#include <string.h>

#include "keyobj.h"

static const attr_def DEFS[] = {
    {CKA_CLASS, AK_ULONG, AR_BOUND, 0},
    {CKA_KEY_TYPE, AK_ULONG, AR_BOUND, 0},
    {CKA_VALUE_LEN, AK_ULONG, AR_BOUND, 0},
    {CKA_ENCRYPT, AK_BOOL, AR_BOUND, KF_ENCRYPT},
    {CKA_DECRYPT, AK_BOOL, AR_BOUND, KF_DECRYPT},
    {CKA_SIGN, AK_BOOL, AR_BOUND, KF_SIGN},
    {CKA_VERIFY, AK_BOOL, AR_BOUND, KF_VERIFY},
    {CKA_WRAP, AK_BOOL, AR_BOUND, KF_WRAP},
    {CKA_UNWRAP, AK_BOOL, AR_BOUND, KF_UNWRAP},
    {CKA_DERIVE, AK_BOOL, AR_BOUND, KF_DERIVE},
    {CKA_SENSITIVE, AK_BOOL, AR_BOUND, KF_SENSITIVE},
    {CKA_EXTRACTABLE, AK_BOOL, AR_BOUND, KF_EXTRACTABLE},
    {CKA_TRUSTED, AK_BOOL, AR_BOUND, KF_TRUSTED},
    {CKA_WRAP_WITH_TRUSTED, AK_BOOL, AR_BOUND, KF_WRAP_WITH_TRUSTED},
    {CKA_MODIFIABLE, AK_BOOL, AR_BOUND, KF_MODIFIABLE},
    {CKA_IBM_ATTRBOUND, AK_BOOL, AR_BOUND, KF_ATTRBOUND},
    {CKA_ALLOWED_MECHANISMS, AK_MECHS, AR_BOUND, 0},
    {CKA_ALWAYS_SENSITIVE, AK_BOOL, AR_ENGINE, KF_ALWAYS_SENSITIVE},
    {CKA_NEVER_EXTRACTABLE, AK_BOOL, AR_ENGINE, KF_NEVER_EXTRACTABLE},
    {CKA_LOCAL, AK_BOOL, AR_ENGINE, KF_LOCAL},
    {CKA_KEY_GEN_MECHANISM, AK_ULONG, AR_ENGINE, 0},
    {CKA_VALUE, AK_BYTES, AR_VALUE, 0},
    {CKA_CHECK_VALUE, AK_BYTES, AR_CHECK, 0},
    {CKA_SIGN_RECOVER, AK_BOOL, AR_FALSEONLY, 0},
    {CKA_VERIFY_RECOVER, AK_BOOL, AR_FALSEONLY, 0},
    {CKA_TOKEN, AK_BOOL, AR_NONBOUND, 0},
    {CKA_PRIVATE, AK_BOOL, AR_NONBOUND, 0},
    {CKA_COPYABLE, AK_BOOL, AR_NONBOUND, 0},
    {CKA_DESTROYABLE, AK_BOOL, AR_NONBOUND, 0},
    {CKA_LABEL, AK_BYTES, AR_NONBOUND, 0},
    {CKA_ID, AK_BYTES, AR_NONBOUND, 0},
    {CKA_START_DATE, AK_BYTES, AR_NONBOUND, 0},
    {CKA_END_DATE, AK_BYTES, AR_NONBOUND, 0},
    {CKA_SUBJECT, AK_BYTES, AR_NONBOUND, 0},
    /* Accepted and not enforced: it grants nothing the engine checks. */
    {CKA_IBM_USE_AS_DATA, AK_BOOL, AR_NONBOUND, 0},
    {CKA_ALWAYS_AUTHENTICATE, AK_BOOL, AR_FALSEONLY, 0},
    /* Public-key objects. */
    {CKA_MODULUS_BITS, AK_ULONG, AR_KEYPARAM, 0},
    {CKA_PUBLIC_EXPONENT, AK_BYTES, AR_KEYPARAM, 0},
    {CKA_EC_PARAMS, AK_BYTES, AR_KEYPARAM, 0},
    {CKA_PARAMETER_SET, AK_ULONG, AR_KEYPARAM, 0},
    {CKA_IBM_PQC_PARAMS, AK_BYTES, AR_KEYPARAM, 0},
    {CKA_MODULUS, AK_BYTES, AR_PUBINFO, 0},
    {CKA_EC_POINT, AK_BYTES, AR_PUBINFO, 0},
    {CKA_PUBLIC_KEY_INFO, AK_BYTES, AR_PUBINFO, 0},
    {CKA_PRIME, AK_BYTES, AR_KEYPARAM, 0},
    {CKA_SUBPRIME, AK_BYTES, AR_KEYPARAM, 0},
    {CKA_BASE, AK_BYTES, AR_KEYPARAM, 0},
    {CKA_IBM_STRUCT_PARAMS, AK_BYTES, AR_KEYPARAM, 0},
    {CKA_PRIME_BITS, AK_ULONG, AR_KEYPARAM, 0},
    {CKA_SUB_PRIME_BITS, AK_ULONG, AR_KEYPARAM, 0},
    {CKA_PRIVATE_EXPONENT, AK_BYTES, AR_PRIVVAL, 0},
    {CKA_PRIME_1, AK_BYTES, AR_PRIVVAL, 0},
    {CKA_PRIME_2, AK_BYTES, AR_PRIVVAL, 0},
    {CKA_EXPONENT_1, AK_BYTES, AR_PRIVVAL, 0},
    {CKA_EXPONENT_2, AK_BYTES, AR_PRIVVAL, 0},
    {CKA_COEFFICIENT, AK_BYTES, AR_PRIVVAL, 0},
};
#define NDEFS (sizeof(DEFS) / sizeof(DEFS[0]))
_Static_assert(NDEFS <= TMPL_MAX_DEFS, "grow TMPL_MAX_DEFS");

/* Byte-string attributes are capped: nothing legitimate is larger. */
#define ATTR_MAX_BYTES 4096u

const attr_def *attr_find(CK_ATTRIBUTE_TYPE type, int *index)
{
    for (size_t i = 0; i < NDEFS; i++)
        if (DEFS[i].type == type) {
            if (index != NULL)
                *index = (int)i;
            return &DEFS[i];
        }
    return NULL;
}

CK_RV tmpl_parse(const CK_ATTRIBUTE *a, CK_ULONG n, tmpl *t)
{
    memset(t, 0, sizeof(*t));
    if (n > 0 && a == NULL)
        return CKR_ARGUMENTS_BAD;
    for (CK_ULONG i = 0; i < n; i++) {
        int idx = 0;
        const attr_def *d = attr_find(a[i].type, &idx);
        if (d == NULL)
            return CKR_ATTRIBUTE_TYPE_INVALID;
        if (a[i].ulValueLen == CK_UNAVAILABLE_INFORMATION ||
            (a[i].ulValueLen > 0 && a[i].pValue == NULL))
            return CKR_ATTRIBUTE_VALUE_INVALID;
        switch (d->kind) {
        case AK_BOOL:
            if (a[i].ulValueLen != sizeof(CK_BBOOL))
                return CKR_ATTRIBUTE_VALUE_INVALID;
            if (*(const CK_BBOOL *)a[i].pValue > 1)
                return CKR_ATTRIBUTE_VALUE_INVALID;
            break;
        case AK_ULONG:
            if (a[i].ulValueLen != sizeof(CK_ULONG))
                return CKR_ATTRIBUTE_VALUE_INVALID;
            break;
        case AK_BYTES:
            if (a[i].ulValueLen > ATTR_MAX_BYTES)
                return CKR_ATTRIBUTE_VALUE_INVALID;
            break;
        case AK_MECHS:
            if (a[i].ulValueLen % sizeof(CK_MECHANISM_TYPE) != 0 ||
                a[i].ulValueLen / sizeof(CK_MECHANISM_TYPE) > KEY_MAX_ALLOWED_MECHS)
                return CKR_ATTRIBUTE_VALUE_INVALID;
            break;
        }
        if (t->slot[idx] != NULL)
            return CKR_TEMPLATE_INCONSISTENT;
        t->slot[idx] = &a[i];
    }
    return CKR_OK;
}

const CK_ATTRIBUTE *tmpl_get(const tmpl *t, CK_ATTRIBUTE_TYPE type)
{
    int idx;
    if (attr_find(type, &idx) == NULL)
        return NULL;
    return t->slot[idx];
}

bool tmpl_bool(const tmpl *t, CK_ATTRIBUTE_TYPE type, bool *val)
{
    const CK_ATTRIBUTE *a = tmpl_get(t, type);
    if (a == NULL)
        return false;
    *val = *(const CK_BBOOL *)a->pValue != 0;
    return true;
}

bool tmpl_ulong(const tmpl *t, CK_ATTRIBUTE_TYPE type, CK_ULONG *val)
{
    const CK_ATTRIBUTE *a = tmpl_get(t, type);
    if (a == NULL)
        return false;
    memcpy(val, a->pValue, sizeof(CK_ULONG));
    return true;
}

engine_attr_kind engine_attribute_kind(CK_ATTRIBUTE_TYPE type)
{
    const attr_def *d = attr_find(type, NULL);
    if (d == NULL)
        return ENGINE_ATTR_UNKNOWN;
    return d->kind == AK_BOOL    ? ENGINE_ATTR_BOOL
           : d->kind == AK_ULONG ? ENGINE_ATTR_ULONG
                                 : ENGINE_ATTR_BYTES;
}
