/* Attribute lists owned by the module, and template helpers. */
#include <stdlib.h>
#include <string.h>

#include "grep11/wire.h"
#include "internal.h"

static void value_free(CK_ATTRIBUTE *a)
{
    if (a->pValue) {
        explicit_bzero(a->pValue, a->ulValueLen);
        free(a->pValue);
    }
    a->pValue = NULL;
    a->ulValueLen = 0;
}

CK_RV p11_attrs_set(p11_attrs *l, CK_ATTRIBUTE_TYPE type, const void *val, CK_ULONG len)
{
    if (len > P11_MAX_ATTR_LEN)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    void *copy = malloc(len ? len : 1);
    if (!copy)
        return CKR_HOST_MEMORY;
    if (len)
        memcpy(copy, val, len);
    for (CK_ULONG i = 0; i < l->n; i++) {
        if (l->a[i].type == type) {
            value_free(&l->a[i]);
            l->a[i].pValue = copy;
            l->a[i].ulValueLen = len;
            return CKR_OK;
        }
    }
    if (l->n == l->cap) {
        CK_ULONG cap = l->cap ? l->cap * 2 : 16;
        CK_ATTRIBUTE *a = realloc(l->a, cap * sizeof(*a));
        if (!a) {
            free(copy);
            return CKR_HOST_MEMORY;
        }
        l->a = a;
        l->cap = cap;
    }
    l->a[l->n].type = type;
    l->a[l->n].pValue = copy;
    l->a[l->n].ulValueLen = len;
    l->n++;
    return CKR_OK;
}

CK_RV p11_attrs_set_bool(p11_attrs *l, CK_ATTRIBUTE_TYPE type, CK_BBOOL v)
{
    return p11_attrs_set(l, type, &v, sizeof(v));
}

CK_RV p11_attrs_set_ulong(p11_attrs *l, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
    return p11_attrs_set(l, type, &v, sizeof(v));
}

const CK_ATTRIBUTE *p11_attrs_find(const p11_attrs *l, CK_ATTRIBUTE_TYPE type)
{
    return p11_tmpl_find(l->a, l->n, type);
}

int p11_attrs_bool(const p11_attrs *l, CK_ATTRIBUTE_TYPE type, int dflt)
{
    return p11_tmpl_bool(l->a, l->n, type, dflt);
}

CK_ULONG p11_attrs_ulong(const p11_attrs *l, CK_ATTRIBUTE_TYPE type, CK_ULONG dflt)
{
    const CK_ATTRIBUTE *a = p11_attrs_find(l, type);
    CK_ULONG v;
    if (!a || a->ulValueLen != sizeof(CK_ULONG))
        return dflt;
    memcpy(&v, a->pValue, sizeof(v));
    return v;
}

void p11_attrs_free(p11_attrs *l)
{
    for (CK_ULONG i = 0; i < l->n; i++)
        value_free(&l->a[i]);
    free(l->a);
    memset(l, 0, sizeof(*l));
}

const CK_ATTRIBUTE *p11_tmpl_find(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type)
{
    for (CK_ULONG i = 0; t && i < n; i++)
        if (t[i].type == type)
            return &t[i];
    return NULL;
}

int p11_tmpl_bool(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type, int dflt)
{
    const CK_ATTRIBUTE *a = p11_tmpl_find(t, n, type);
    if (!a || a->ulValueLen != sizeof(CK_BBOOL) || !a->pValue)
        return dflt;
    return *(const CK_BBOOL *)a->pValue != CK_FALSE;
}

CK_RV p11_tmpl_check(const CK_ATTRIBUTE *t, CK_ULONG n)
{
    if (n && !t)
        return CKR_ARGUMENTS_BAD;
    for (CK_ULONG i = 0; i < n; i++) {
        if (!t[i].pValue && t[i].ulValueLen)
            return CKR_ATTRIBUTE_VALUE_INVALID;
        if (t[i].ulValueLen > P11_MAX_ATTR_LEN)
            return CKR_ATTRIBUTE_VALUE_INVALID;
        switch (grep11_attr_kind_of(t[i].type)) {
        case GREP11_ATTR_BOOL:
            if (t[i].ulValueLen != sizeof(CK_BBOOL))
                return CKR_ATTRIBUTE_VALUE_INVALID;
            break;
        case GREP11_ATTR_ULONG:
            if (t[i].ulValueLen != sizeof(CK_ULONG))
                return CKR_ATTRIBUTE_VALUE_INVALID;
            break;
        default:
            if (t[i].type == CKA_ALLOWED_MECHANISMS && t[i].ulValueLen % sizeof(CK_MECHANISM_TYPE))
                return CKR_ATTRIBUTE_VALUE_INVALID;
            break;
        }
        for (CK_ULONG k = 0; k < i; k++)
            if (t[k].type == t[i].type)
                return CKR_TEMPLATE_INCONSISTENT;
    }
    return CKR_OK;
}
