/* The module's defaults for new keys, those of IBM's PKCS #11 library
 * (README "Attribute defaults"). grep11d keeps EP11's defaults for GREP11
 * callers: every usage the key type has, CKA_EXTRACTABLE on. Through this
 * module a key the template says nothing about may not be wrapped (so the
 * wrap-then-decrypt attack on a sensitive key has nothing to wrap) and
 * derives nothing. The defaults travel in the template the server sees, so
 * they are bound into the blob like the application's own attributes and
 * read back from it. CKA_TOKEN and CKA_PRIVATE are the module's
 * (p11_object_placement). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Not const: CK_ATTRIBUTE.pValue is not, and the server only reads them. */
static CK_BBOOL no = CK_FALSE, yes = CK_TRUE;

static const struct {
    CK_ATTRIBUTE_TYPE type;
    CK_BBOOL *val;
    int public_key; /* also for public keys */
} defaults[] = {
    /* Private and secret key attributes only: a public key's value is no
     * secret, and the engine refuses WRAP_WITH_TRUSTED on one. */
    {CKA_EXTRACTABLE, &no, 0},
    {CKA_WRAP_WITH_TRUSTED, &no, 0},
    /* Every key: PKCS #11's own default. An IBM Kyber public key must say
     * TRUE to encapsulate (DeriveKey), as IBM's samples do. */
    {CKA_DERIVE, &no, 1},
    {CKA_MODIFIABLE, &yes, 1},
};
#define NDEFAULTS (sizeof(defaults) / sizeof(defaults[0]))

CK_OBJECT_CLASS p11_tmpl_class(const CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_CLASS dflt)
{
    const CK_ATTRIBUTE *c = p11_tmpl_find(t, n, CKA_CLASS);
    return c && c->pValue && c->ulValueLen == sizeof(CK_ULONG) ? *(const CK_ULONG *)c->pValue
                                                               : dflt;
}

CK_RV p11_new_key_template(CK_OBJECT_CLASS cls, const CK_ATTRIBUTE *t, CK_ULONG n,
                           CK_ATTRIBUTE **out, CK_ULONG *nout)
{
    CK_RV rv = p11_key_template_for_server(t, n, out, nout);
    if (rv != CKR_OK)
        return rv;
    CK_ATTRIBUTE *grown = realloc(*out, (*nout + NDEFAULTS) * sizeof(**out));
    if (!grown) {
        free(*out);
        *out = NULL;
        *nout = 0;
        return CKR_HOST_MEMORY;
    }
    *out = grown;
    for (size_t i = 0; i < NDEFAULTS; i++) {
        if (cls == CKO_PUBLIC_KEY && !defaults[i].public_key)
            continue;
        if (p11_tmpl_find(t, n, defaults[i].type))
            continue; /* the application said */
        CK_ATTRIBUTE a = {defaults[i].type, defaults[i].val, sizeof(CK_BBOOL)};
        grown[(*nout)++] = a;
    }
    return CKR_OK;
}

CK_RV p11_public_key_defaults(p11_attrs *a, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    for (size_t i = 0; i < NDEFAULTS; i++) {
        if (!defaults[i].public_key || p11_tmpl_find(t, n, defaults[i].type))
            continue;
        CK_RV rv = p11_attrs_set_bool(a, defaults[i].type, *defaults[i].val);
        if (rv != CKR_OK)
            return rv;
    }
    return CKR_OK;
}
