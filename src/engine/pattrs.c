/* Attributes of public and private keys: GetAttributeValue (public values
 * only; private values never leave), SetAttributeValue (private blobs
 * re-sealed, MACed SPKIs re-MACed) and RewrapKeyBlob of MACed SPKIs. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "der.h"
#include "pkey.h"

static CK_RV put(uint8_t *buf, size_t cap, size_t *len, const void *p, size_t n)
{
    if (n > cap)
        return CKR_ATTRIBUTE_TYPE_INVALID;
    memcpy(buf, p, n);
    *len = n;
    return CKR_OK;
}

static CK_RV put_ulong(uint8_t *buf, size_t cap, size_t *len, CK_ULONG v)
{
    return put(buf, cap, len, &v, sizeof(v));
}

/* DER OCTET STRING around the public point (CKA_EC_POINT). */
static CK_RV put_point(const pkey *k, uint8_t *buf, size_t cap, size_t *len)
{
    wbuf w;
    CK_RV rv;
    wbuf_init(&w, cap);
    der_put(&w, DER_OCTET_STRING, k->pub.p, k->pub.len);
    rv = w.err ? CKR_ATTRIBUTE_TYPE_INVALID : put(buf, cap, len, w.p, w.len);
    wbuf_free(&w);
    return rv;
}

CK_RV pkey_attr_value(const pkey *k, CK_ATTRIBUTE_TYPE type, uint8_t *buf, size_t cap, size_t *len)
{
    const key_obj *o = &k->obj;
    const attr_def *d = attr_find(type, NULL);
    bool pub = !k->is_private;

    switch (type) {
    case CKA_CLASS:
        return put_ulong(buf, cap, len, o->cls);
    case CKA_KEY_TYPE:
        return put_ulong(buf, cap, len, o->ktype);
    case CKA_KEY_GEN_MECHANISM:
        return put_ulong(buf, cap, len, o->gen_mech);
    case CKA_PUBLIC_KEY_INFO:
        return put(buf, cap, len, k->spki, k->spki_len);
    case CKA_MODULUS_BITS:
        return k->alg == PK_RSA ? put_ulong(buf, cap, len, pkey_bits(k))
                                : CKR_ATTRIBUTE_TYPE_INVALID;
    case CKA_MODULUS:
        return k->alg == PK_RSA ? put(buf, cap, len, k->n.p, k->n.len) : CKR_ATTRIBUTE_TYPE_INVALID;
    case CKA_PUBLIC_EXPONENT:
        return k->alg == PK_RSA ? put(buf, cap, len, k->e.p, k->e.len) : CKR_ATTRIBUTE_TYPE_INVALID;
    case CKA_EC_PARAMS:
        return k->curve ? put(buf, cap, len, k->curve->oid, k->curve->oid_len)
                        : CKR_ATTRIBUTE_TYPE_INVALID;
    case CKA_EC_POINT:
        return (k->curve && pub) ? put_point(k, buf, cap, len) : CKR_ATTRIBUTE_TYPE_INVALID;
    case CKA_PRIME:
        return k->fp.len ? put(buf, cap, len, k->fp.p, k->fp.len) : CKR_ATTRIBUTE_TYPE_INVALID;
    case CKA_SUBPRIME:
        return k->fq.len ? put(buf, cap, len, k->fq.p, k->fq.len) : CKR_ATTRIBUTE_TYPE_INVALID;
    case CKA_BASE:
        return k->fg.len ? put(buf, cap, len, k->fg.p, k->fg.len) : CKR_ATTRIBUTE_TYPE_INVALID;
    case CKA_PRIME_BITS:
        return k->fp.len ? put_ulong(buf, cap, len, pkey_bits(k)) : CKR_ATTRIBUTE_TYPE_INVALID;
    case CKA_PARAMETER_SET:
        return (k->pqc && k->pqc->ckp) ? put_ulong(buf, cap, len, k->pqc->ckp)
                                       : CKR_ATTRIBUTE_TYPE_INVALID;
    case CKA_IBM_PQC_PARAMS:
        return (k->pqc && !k->pqc->ckp) ? put(buf, cap, len, k->pqc->oid, k->pqc->oid_len)
                                        : CKR_ATTRIBUTE_TYPE_INVALID;
    case CKA_VALUE:
        /* PKCS #11 3.2: CKA_VALUE of an ML-DSA/ML-KEM public key is its encoding. */
        if (!pub)
            return CKR_ATTRIBUTE_SENSITIVE;
        /* ... and of a DSA/DH public key, y. */
        return (k->pqc || k->fp.len) ? put(buf, cap, len, k->pub.p, k->pub.len)
                                     : CKR_ATTRIBUTE_TYPE_INVALID;
    case CKA_PRIVATE_EXPONENT:
    case CKA_PRIME_1:
    case CKA_PRIME_2:
    case CKA_EXPONENT_1:
    case CKA_EXPONENT_2:
    case CKA_COEFFICIENT:
        return (!pub && k->alg == PK_RSA) ? CKR_ATTRIBUTE_SENSITIVE : CKR_ATTRIBUTE_TYPE_INVALID;
    default:
        break;
    }
    if (d != NULL && d->kind == AK_MECHS)
        return key_allowed_value(o, buf, cap, len);
    if (d != NULL && d->kind == AK_BOOL && (d->role == AR_BOUND || d->role == AR_ENGINE)) {
        if (cap < 1)
            return CKR_ATTRIBUTE_TYPE_INVALID;
        buf[0] = (o->flags & d->flag) ? CK_TRUE : CK_FALSE;
        *len = 1;
        return CKR_OK;
    }
    return CKR_ATTRIBUTE_TYPE_INVALID;
}

CK_RV pkey_get_attrs(const pkey *k, const CK_ATTRIBUTE_TYPE *types, CK_ULONG n, CK_ATTRIBUTE **out,
                     CK_ULONG *nout)
{
    CK_RV rv = CKR_OK, overall = CKR_OK;
    CK_ATTRIBUTE *res = calloc(n ? n : 1, sizeof(*res));
    uint8_t *tmp = malloc(8192);

    if (res == NULL || tmp == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    for (CK_ULONG i = 0; i < n; i++) {
        size_t len = 0;
        CK_RV one = pkey_attr_value(k, types[i], tmp, 8192, &len);
        res[i].type = types[i];
        if (one != CKR_OK) {
            res[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
            if (overall != CKR_ATTRIBUTE_SENSITIVE)
                overall = one;
            continue;
        }
        if ((res[i].pValue = malloc(len ? len : 1)) == NULL) {
            rv = CKR_HOST_MEMORY;
            goto out;
        }
        memcpy(res[i].pValue, tmp, len);
        res[i].ulValueLen = len;
    }
    *out = res;
    *nout = n;
    res = NULL;
    rv = overall;
out:
    free(tmp);
    engine_attrs_free(res, n);
    return rv;
}

CK_RV pkey_set_attrs(const engine *e, engine_bytes object, const CK_ATTRIBUTE *tmpl_in, CK_ULONG n,
                     engine_buf *new_object)
{
    CK_RV rv;
    tmpl t;
    pkey k;

    if ((rv = pkey_load_public(e, object, &k)) != CKR_OK)
        return rv == CKR_KEY_HANDLE_INVALID ? CKR_OBJECT_HANDLE_INVALID : rv;
    /* A plain SPKI has no bound attributes to change; MACing new ones would
     * launder a foreign key into a trusted one. */
    if (!k.trusted) {
        rv = CKR_ATTRIBUTE_READ_ONLY;
        goto out;
    }
    if ((rv = tmpl_parse(tmpl_in, n, &t)) != CKR_OK ||
        (rv = policy_set_attrs(e, &t, &k.obj)) != CKR_OK)
        goto out;
    rv = spki_mac_seal(&e->d->cur, k.spki, k.spki_len, &k.obj, new_object);
out:
    pkey_clear(&k);
    return rv;
}

CK_RV pkey_rewrap_public(const engine *e, engine_bytes object, engine_buf *new_object)
{
    CK_RV rv;
    pkey k;
    /* Resumable like key blobs: already under the new key → MACed again. */
    rv = pkey_load_public_reg(&e->d->cur, object, &k);
    if (rv == CKR_OK && !k.trusted) {
        pkey_clear(&k);
        rv = pkey_load_public_reg(&e->d->nxt, object, &k);
    }
    if (rv != CKR_OK)
        return rv;
    rv = k.trusted ? spki_mac_seal(&e->d->nxt, k.spki, k.spki_len, &k.obj, new_object)
                   : CKR_KEY_HANDLE_INVALID;
    pkey_clear(&k);
    return rv;
}
