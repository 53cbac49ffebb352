/* CKM_IBM_TRANSPORTKEY: UnwrapKey of a plain SubjectPublicKeyInfo into a
 * MACed SPKI, as IBM's EP11 imports public keys (its examples unwrap a
 * Go-marshalled PKIX key with it). Nothing is decrypted: the "wrapped"
 * bytes are the SPKI itself and the unwrapping key is ignored, as EP11
 * ignores it. The key then goes through C_CreateObject's public-key path,
 * so the template, CKA_TRUSTED and usage rules are exactly those of an
 * imported public key. */
#include <stdlib.h>
#include <string.h>

#include "pkey.h"

/* Attributes the SPKI defines; the template may not name them. */
static const CK_ATTRIBUTE_TYPE KEY_MATERIAL[] = {
    CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_EC_PARAMS,      CKA_EC_POINT, CKA_PRIME, CKA_SUBPRIME,
    CKA_BASE,    CKA_PARAMETER_SET,   CKA_IBM_PQC_PARAMS, CKA_VALUE};
enum { N_MATERIAL = sizeof(KEY_MATERIAL) / sizeof(KEY_MATERIAL[0]), TEMPLATE_MAX = 64 };

static bool is_material(CK_ATTRIBUTE_TYPE t)
{
    for (size_t i = 0; i < N_MATERIAL; i++)
        if (KEY_MATERIAL[i] == t)
            return true;
    return false;
}

/* EP11's checksum of an imported public key: the SPKI, then its size in
 * bits (4 bytes, big-endian). */
static CK_RV checksum_of(const pkey *k, engine_buf *out)
{
    CK_ULONG bits = pkey_bits(k);
    size_t len;
    wbuf w;

    wbuf_init(&w, k->spki_len + 4);
    wbuf_put(&w, k->spki, k->spki_len);
    wbuf_u32(&w, (uint32_t)bits);
    if (w.err) {
        wbuf_free(&w);
        return CKR_HOST_MEMORY;
    }
    out->ptr = wbuf_take(&w, &len);
    out->len = len;
    return CKR_OK;
}

CK_RV transport_unwrap(engine *e, engine_bytes spki, const CK_ATTRIBUTE *tin, CK_ULONG n,
                       engine_buf *pub_key, engine_buf *checksum)
{
    static const CK_OBJECT_CLASS pub_class = CKO_PUBLIC_KEY;
    CK_RV rv;
    pkey k;
    CK_ATTRIBUTE *all = NULL;
    CK_ULONG cnt = 0;
    uint8_t *vals = NULL;
    size_t used = 0, cap;
    CK_KEY_TYPE kt;
    bool has_class = false, has_type = false;

    memset(&k, 0, sizeof(k));
    if (n > TEMPLATE_MAX) {
        rv = CKR_TEMPLATE_INCONSISTENT;
        goto out;
    }
    for (CK_ULONG i = 0; i < n; i++) {
        if (is_material(tin[i].type)) {
            rv = CKR_TEMPLATE_INCONSISTENT;
            goto out;
        }
        has_class |= tin[i].type == CKA_CLASS;
        has_type |= tin[i].type == CKA_KEY_TYPE;
    }
    /* Exactly one SPKI: a MACed SPKI (trailer after it) is refused too. */
    if (spki.len == 0 || spki_parse(spki.ptr, spki.len, &k) != CKR_OK) {
        rv = CKR_WRAPPED_KEY_INVALID;
        goto out;
    }
    kt = pkey_ktype(&k);
    cap = k.spki_len * 2 + 512; /* every value is a piece of the SPKI, plus OIDs */
    all = calloc(n + N_MATERIAL + 2, sizeof(*all));
    vals = malloc(cap);
    if (all == NULL || vals == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if (n > 0)
        memcpy(all, tin, n * sizeof(*all));
    cnt = n;
    if (!has_class)
        all[cnt++] = (CK_ATTRIBUTE){CKA_CLASS, (void *)&pub_class, sizeof(pub_class)};
    if (!has_type)
        all[cnt++] = (CK_ATTRIBUTE){CKA_KEY_TYPE, &kt, sizeof(kt)};
    for (size_t i = 0; i < N_MATERIAL; i++) {
        size_t len = 0;
        rv = pkey_attr_value(&k, KEY_MATERIAL[i], vals + used, cap - used, &len);
        if (rv == CKR_ATTRIBUTE_TYPE_INVALID)
            continue; /* not a part of this kind of key */
        if (rv != CKR_OK)
            goto out;
        all[cnt++] = (CK_ATTRIBUTE){KEY_MATERIAL[i], vals + used, len};
        used += len;
    }
    rv = engine_import_public_key(e, all, cnt, pub_key);
    if (rv == CKR_ATTRIBUTE_VALUE_INVALID)
        rv = CKR_WRAPPED_KEY_INVALID; /* the SPKI's material, not the caller's template */
    if (rv == CKR_OK && (rv = checksum_of(&k, checksum)) != CKR_OK)
        engine_buf_free(pub_key);
out:
    free(vals);
    free(all);
    pkey_clear(&k);
    return rv;
}
