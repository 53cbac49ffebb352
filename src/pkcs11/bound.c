/* A key's bound attributes (DESIGN §3): what the server is asked for to
 * cache them, by class and key type, and the asking. The engine answers a
 * GetAttributeValue naming one attribute the key does not have with an
 * error for the whole call, so each kind of key gets its own list. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_BOUND 40

static const CK_ATTRIBUTE_TYPE secret[] = {
    CKA_CLASS,
    CKA_KEY_TYPE,
    CKA_VALUE_LEN,
    CKA_KEY_GEN_MECHANISM,
    CKA_ENCRYPT,
    CKA_DECRYPT,
    CKA_SIGN,
    CKA_VERIFY,
    CKA_WRAP,
    CKA_UNWRAP,
    CKA_DERIVE,
    CKA_SENSITIVE,
    CKA_EXTRACTABLE,
    CKA_ALWAYS_SENSITIVE,
    CKA_NEVER_EXTRACTABLE,
    CKA_LOCAL,
    CKA_TRUSTED,
    CKA_WRAP_WITH_TRUSTED,
    CKA_MODIFIABLE,
};

static const CK_ATTRIBUTE_TYPE asym[] = {
    CKA_CLASS, CKA_KEY_TYPE, CKA_KEY_GEN_MECHANISM, CKA_LOCAL, CKA_MODIFIABLE, CKA_PUBLIC_KEY_INFO,
};

static const CK_ATTRIBUTE_TYPE private_flags[] = {
    CKA_DECRYPT,           CKA_SIGN,        CKA_UNWRAP,           CKA_DERIVE,
    CKA_SENSITIVE,         CKA_EXTRACTABLE, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE,
    CKA_WRAP_WITH_TRUSTED,
};

static const CK_ATTRIBUTE_TYPE public_flags[] = {
    CKA_ENCRYPT, CKA_VERIFY, CKA_WRAP, CKA_DERIVE, CKA_TRUSTED,
};

static const CK_ATTRIBUTE_TYPE rsa[] = {CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_MODULUS_BITS};
static const CK_ATTRIBUTE_TYPE ec[] = {CKA_EC_PARAMS};
static const CK_ATTRIBUTE_TYPE ec_public[] = {CKA_EC_PARAMS, CKA_EC_POINT};
static const CK_ATTRIBUTE_TYPE pqc[] = {CKA_PARAMETER_SET};
static const CK_ATTRIBUTE_TYPE ibm_pqc[] = {CKA_IBM_PQC_PARAMS};

static size_t add(CK_ATTRIBUTE_TYPE *l, size_t n, const CK_ATTRIBUTE_TYPE *a, size_t na)
{
    for (size_t i = 0; i < na && n < MAX_BOUND; i++)
        l[n++] = a[i];
    return n;
}

/* The list for a class and key type (kt unknown: the class's common part). */
static size_t bound_list(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt, int kt_known, CK_ATTRIBUTE_TYPE *l)
{
    size_t n = 0;
    if (cls != CKO_PRIVATE_KEY && cls != CKO_PUBLIC_KEY)
        return add(l, 0, secret, N(secret));
    n = add(l, n, asym, N(asym));
    if (!kt_known)
        return n;
    int pub = cls == CKO_PUBLIC_KEY;
    n = pub ? add(l, n, public_flags, N(public_flags)) : add(l, n, private_flags, N(private_flags));
    switch (kt) {
    case CKK_RSA:
        return add(l, n, rsa, N(rsa));
    case CKK_EC:
    case CKK_EC_EDWARDS:
    case CKK_EC_MONTGOMERY:
        return pub ? add(l, n, ec_public, N(ec_public)) : add(l, n, ec, N(ec));
    case CKK_ML_DSA:
    case CKK_ML_KEM:
        return add(l, n, pqc, N(pqc));
    case CKK_IBM_PQC_DILITHIUM:
    case CKK_IBM_PQC_KYBER:
        return add(l, n, ibm_pqc, N(ibm_pqc));
    default:
        return n;
    }
}

static CK_RV cache_attrs(p11_object *o, const CK_ATTRIBUTE *a, CK_ULONG n)
{
    CK_RV rv = CKR_OK;
    p11_mutex_lock(o->lock);
    for (CK_ULONG i = 0; i < n && rv == CKR_OK; i++) {
        CK_BYTE spki[128];
        CK_ULONG sl;
        if (a[i].ulValueLen == CK_UNAVAILABLE_INFORMATION || a[i].type == CKA_VALUE)
            continue;
        if (a[i].type == CKA_PUBLIC_KEY_INFO &&
            p11_spki_rfc8410(a[i].pValue, a[i].ulValueLen, spki, sizeof(spki), &sl))
            rv = p11_attrs_set(&o->attrs, a[i].type, spki, sl);
        else
            rv = p11_attrs_set(&o->attrs, a[i].type, a[i].pValue, a[i].ulValueLen);
    }
    if (rv == CKR_OK)
        o->cls = p11_attrs_ulong(&o->attrs, CKA_CLASS, o->cls);
    p11_mutex_unlock(o->lock);
    return rv;
}

/* Asks for a list; a server that lacks some of them is asked one by one. */
static CK_RV fetch(g11c_conn *conn, const g11c_buf *blob, p11_object *o,
                   const CK_ATTRIBUTE_TYPE *types, size_t n)
{
    CK_ATTRIBUTE *got = NULL;
    CK_ULONG ngot = 0;
    CK_RV rv = g11c_get_attribute_value(conn, g11c_bytes_of(blob), types, n, &got, &ngot);
    if (rv == CKR_OK)
        rv = cache_attrs(o, got, ngot);
    g11c_attrs_free(got, ngot);
    if (rv != CKR_ATTRIBUTE_TYPE_INVALID)
        return rv;
    rv = CKR_OK;
    for (size_t i = 0; i < n && rv == CKR_OK; i++) {
        got = NULL;
        ngot = 0;
        CK_RV one = g11c_get_attribute_value(conn, g11c_bytes_of(blob), &types[i], 1, &got, &ngot);
        if (one == CKR_OK)
            rv = cache_attrs(o, got, ngot);
        else if (one != CKR_ATTRIBUTE_TYPE_INVALID)
            rv = one;
        g11c_attrs_free(got, ngot);
    }
    return rv;
}

CK_RV p11_object_load_bound(p11_state *st, p11_object *o)
{
    g11c_buf blob = {0};
    CK_ATTRIBUTE_TYPE list[MAX_BOUND];
    CK_RV rv = p11_object_blob(o, &blob);
    if (rv != CKR_OK)
        return rv;
    g11c_conn *conn = st->slots[o->slot_idx].conn;
    p11_mutex_lock(o->lock);
    CK_OBJECT_CLASS cls = o->cls;
    const CK_ATTRIBUTE *kta = p11_attrs_find(&o->attrs, CKA_KEY_TYPE);
    int known = kta && kta->ulValueLen == sizeof(CK_ULONG);
    CK_KEY_TYPE kt = p11_attrs_ulong(&o->attrs, CKA_KEY_TYPE, 0);
    p11_mutex_unlock(o->lock);
    if (cls != CKO_SECRET_KEY && !known) {
        /* Class and key type first: they pick the rest. */
        size_t n = bound_list(cls, 0, 0, list);
        if ((rv = fetch(conn, &blob, o, list, n)) != CKR_OK)
            goto out;
        p11_mutex_lock(o->lock);
        cls = o->cls;
        kt = p11_attrs_ulong(&o->attrs, CKA_KEY_TYPE, 0);
        p11_mutex_unlock(o->lock);
    }
    rv = fetch(conn, &blob, o, list, bound_list(cls, kt, 1, list));
    if (rv == CKR_OK) {
        p11_mutex_lock(o->lock);
        o->bound_cached = 1;
        p11_mutex_unlock(o->lock);
    }
out:
    g11c_buf_free(&blob);
    return rv;
}
