/* C_CreateObject for public and private keys (README "Import"): the key
 * from its PKCS #11 attributes, checked (points on the curve, PQC key
 * checks, a pairwise test for private keys), then sealed or MACed. An
 * imported key is never LOCAL, ALWAYS_SENSITIVE or NEVER_EXTRACTABLE. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "pkey.h"
#include "pqc.h"

static const CK_ATTRIBUTE_TYPE RSA_PRIV[8] = {
    CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
    CKA_PRIME_2, CKA_EXPONENT_1,      CKA_EXPONENT_2,       CKA_COEFFICIENT};

static const CK_ATTRIBUTE *need(const tmpl *t, CK_ATTRIBUTE_TYPE type)
{
    const CK_ATTRIBUTE *a = tmpl_get(t, type);
    return (a != NULL && a->ulValueLen > 0) ? a : NULL;
}

/* Big-endian magnitude without leading zeros. */
static void mag(const CK_ATTRIBUTE *a, const uint8_t **p, size_t *len)
{
    *p = a->pValue;
    *len = a->ulValueLen;
    while (*len > 1 && (*p)[0] == 0)
        (*p)++, (*len)--;
}

static CK_RV rsa_public(const engine *e, const tmpl *t, wbuf *spki)
{
    CK_RV rv;
    const CK_ATTRIBUTE *n = need(t, CKA_MODULUS), *ea = need(t, CKA_PUBLIC_EXPONENT);
    const uint8_t *np;
    size_t nl, bits;
    uint8_t ev[8];
    size_t el = 0;

    if (n == NULL || ea == NULL)
        return CKR_TEMPLATE_INCOMPLETE;
    if ((rv = policy_rsa_exponent(ea, ev, &el)) != CKR_OK)
        return rv;
    mag(n, &np, &nl);
    bits = nl * 8;
    for (uint8_t top = np[0]; !(top & 0x80) && bits > 0; top <<= 1)
        bits--;
    /* Verification keys may be smaller than what the policy lets us make. */
    if (bits < 1024 || bits > 8192 || !(np[nl - 1] & 1))
        return CKR_ATTRIBUTE_VALUE_INVALID;
    (void)e;
    return spki_build(PK_RSA, NULL, NULL, np, nl, ev, el, spki);
}

/* EC point from the private scalar (EC_POINT functions are not deprecated). */
static CK_RV ec_point_of(const curve_def *c, const uint8_t *d, size_t dl, uint8_t *pub, size_t cap)
{
    CK_RV rv = CKR_ATTRIBUTE_VALUE_INVALID;
    EC_GROUP *g = EC_GROUP_new_by_curve_name(OBJ_sn2nid(c->ossl));
    EC_POINT *p = g ? EC_POINT_new(g) : NULL;
    BIGNUM *bn = BN_secure_new();
    BN_CTX *bc = BN_CTX_new();

    if (g == NULL || p == NULL || bn == NULL || bc == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    BN_set_flags(bn, BN_FLG_CONSTTIME);
    if (BN_bin2bn(d, (int)dl, bn) == NULL || BN_is_zero(bn) ||
        BN_cmp(bn, EC_GROUP_get0_order(g)) >= 0)
        goto out;
    if (EC_POINT_mul(g, p, bn, NULL, NULL, bc) != 1 ||
        EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, pub, cap, bc) != c->pub_len)
        goto out;
    rv = CKR_OK;
out:
    BN_CTX_free(bc);
    BN_clear_free(bn);
    EC_POINT_free(p);
    EC_GROUP_free(g);
    return rv;
}

/* The SPKI and private part of a private key given by attributes. */
static CK_RV import_private(const engine *e, const tmpl *t, const pair_params *pp, wbuf *spki,
                            wbuf *priv)
{
    CK_RV rv;
    const CK_ATTRIBUTE *v = need(t, CKA_VALUE);
    uint8_t pub[160], d[80];

    if (pp->alg == PK_RSA) {
        /* n, e, d and either all five CRT values or none of them. */
        int have = 0;
        for (int i = 3; i < 8; i++)
            have += need(t, RSA_PRIV[i]) != NULL;
        if (have != 0 && have != 5)
            return CKR_TEMPLATE_INCOMPLETE;
        for (int i = 0; i < (have ? 8 : 3); i++) {
            const CK_ATTRIBUTE *a = need(t, RSA_PRIV[i]);
            const uint8_t *p;
            size_t l;
            if (a == NULL)
                return CKR_TEMPLATE_INCOMPLETE;
            mag(a, &p, &l);
            wbuf_lv(priv, p, l);
        }
        return rsa_public(e, t, spki);
    }
    if (v == NULL)
        return CKR_TEMPLATE_INCOMPLETE;
    if (pp->alg == PK_DSA || pp->alg == PK_DH) {
        const uint8_t *x;
        size_t xl, yl = 0;
        uint8_t y[1024];
        mag(v, &x, &xl);
        if (xl > pp->fp.len ||
            (rv = ffc_public_of(pp->fp, pp->fg, x, xl, y, sizeof(y), &yl)) != CKR_OK)
            return CKR_ATTRIBUTE_VALUE_INVALID;
        wbuf_put(priv, x, xl);
        return spki_build_ffc(pp->alg, pp->fp, pp->fq, pp->fg, y, yl, spki);
    }
    if (pp->curve != NULL) {
        const curve_def *c = pp->curve;
        size_t pl = c->pub_len;
        if (v->ulValueLen > c->priv_len || (pp->alg != PK_EC && v->ulValueLen != c->priv_len))
            return CKR_ATTRIBUTE_VALUE_INVALID;
        memset(d, 0, sizeof(d));
        memcpy(d + c->priv_len - v->ulValueLen, v->pValue, v->ulValueLen);
        if (pp->alg == PK_EC) {
            rv = ec_point_of(c, d, c->priv_len, pub, sizeof(pub));
        } else {
            EVP_PKEY *k = EVP_PKEY_new_raw_private_key_ex(NULL, c->ossl, NULL, d, c->priv_len);
            rv = (k != NULL && EVP_PKEY_get_raw_public_key(k, pub, &pl) == 1 && pl == c->pub_len)
                     ? CKR_OK
                     : CKR_ATTRIBUTE_VALUE_INVALID;
            EVP_PKEY_free(k);
        }
        if (rv == CKR_OK) {
            wbuf_put(priv, d, c->priv_len);
            rv = spki_build(pp->alg, c, NULL, pub, c->pub_len, NULL, 0, spki);
        }
        OPENSSL_cleanse(d, sizeof(d));
        return rv;
    }
    /* ML-DSA: expanded secret key (pk recomputed); ML-KEM: dk (ek inside). */
    const pqc_def *q = pp->pqc;
    size_t pkl = pqc_pub_len(q);
    uint8_t *pk = malloc(pkl);
    if (pk == NULL)
        return CKR_HOST_MEMORY;
    if (q->alg == PK_MLDSA) {
        rv = (mldsa_sk_check((mldsa_set)q->set, v->pValue, v->ulValueLen) == PQC_OK &&
              mldsa_pk_from_sk((mldsa_set)q->set, v->pValue, v->ulValueLen, pk, pkl) == PQC_OK)
                 ? CKR_OK
                 : CKR_ATTRIBUTE_VALUE_INVALID;
    } else {
        rv = mlkem_dk_check((mlkem_set)q->set, v->pValue, v->ulValueLen) == PQC_OK
                 ? CKR_OK
                 : CKR_ATTRIBUTE_VALUE_INVALID;
        if (rv == CKR_OK) /* dk = dk_pke || ek || H(ek) || z */
            memcpy(pk, (const uint8_t *)v->pValue + v->ulValueLen - 64 - pkl, pkl);
    }
    if (rv == CKR_OK) {
        wbuf_put(priv, v->pValue, v->ulValueLen);
        rv = spki_build(q->alg, NULL, q, pk, pkl, NULL, 0, spki);
    }
    free(pk);
    return rv;
}

static CK_RV import_public(const engine *e, const tmpl *t, const pair_params *pp, wbuf *spki)
{
    const CK_ATTRIBUTE *v;
    der_span in, pt;

    if (pp->alg == PK_RSA)
        return rsa_public(e, t, spki);
    if (pp->alg == PK_DSA || pp->alg == PK_DH) {
        const uint8_t *y;
        size_t yl;
        if ((v = need(t, CKA_VALUE)) == NULL)
            return CKR_TEMPLATE_INCOMPLETE;
        mag(v, &y, &yl);
        return spki_build_ffc(pp->alg, pp->fp, pp->fq, pp->fg, y, yl, spki);
    }
    if (pp->curve != NULL) {
        if ((v = need(t, CKA_EC_POINT)) == NULL)
            return CKR_TEMPLATE_INCOMPLETE;
        /* DER OCTET STRING (PKCS #11) or the raw point. */
        in = (der_span){v->pValue, v->ulValueLen};
        if (v->ulValueLen == pp->curve->pub_len && (pp->alg != PK_EC || in.p[0] == 4))
            pt = in;
        else if (!der_get(&in, DER_OCTET_STRING, &pt, NULL) || in.len != 0)
            return CKR_ATTRIBUTE_VALUE_INVALID;
        return spki_build(pp->alg, pp->curve, NULL, pt.p, pt.len, NULL, 0, spki);
    }
    if ((v = need(t, CKA_VALUE)) == NULL)
        return CKR_TEMPLATE_INCOMPLETE;
    if (v->ulValueLen != pqc_pub_len(pp->pqc))
        return CKR_ATTRIBUTE_VALUE_INVALID;
    return spki_build(pp->alg, NULL, pp->pqc, v->pValue, v->ulValueLen, NULL, 0, spki);
}

/* Shared front: class, policy, key material. */
static CK_RV import_key(const engine *e, const CK_ATTRIBUTE *tin, CK_ULONG n, CK_OBJECT_CLASS cls,
                        key_obj *k, wbuf *spki, wbuf *priv)
{
    CK_RV rv;
    tmpl t;
    CK_ULONG c;
    pair_params pp;
    pkey chk;

    if ((rv = tmpl_parse(tin, n, &t)) != CKR_OK)
        return rv;
    if (!tmpl_ulong(&t, CKA_CLASS, &c))
        return CKR_TEMPLATE_INCOMPLETE;
    if (c != cls)
        return CKR_TEMPLATE_INCONSISTENT;
    if ((rv = policy_import_asym(e, &t, cls, &pp, k)) != CKR_OK)
        return rv;
    rv = cls == CKO_PRIVATE_KEY ? import_private(e, &t, &pp, spki, priv)
                                : import_public(e, &t, &pp, spki);
    if (rv == CKR_OK && (spki->err || priv->err))
        rv = CKR_HOST_MEMORY;
    if (rv != CKR_OK)
        return rv;
    /* The SPKI we built must parse back (point on the curve, ek modulus
     * check, sizes), and the RSA size must satisfy what we verify with. */
    memset(&chk, 0, sizeof(chk));
    rv = spki_parse(spki->p, spki->len, &chk);
    if (rv == CKR_OK && pp.alg == PK_RSA)
        k->mod_bits = pkey_bits(&chk);
    if (rv == CKR_OK && pp.alg == PK_EC) {
        EVP_PKEY *x = NULL;
        rv = pkey_evp(&chk, &x); /* fromdata rejects points off the curve */
        EVP_PKEY_free(x);
    }
    pkey_clear(&chk);
    if (rv != CKR_OK)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    if (cls == CKO_PRIVATE_KEY && pkey_pair_check(spki->p, spki->len, priv->p, priv->len) != CKR_OK)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    return CKR_OK;
}

CK_RV engine_import_private_key(engine *e, const CK_ATTRIBUTE *tin, CK_ULONG n,
                                engine_buf *key_blob)
{
    CK_RV rv;
    key_obj k;
    wbuf spki, priv;

    if (e == NULL || key_blob == NULL)
        return CKR_ARGUMENTS_BAD;
    *key_blob = (engine_buf){NULL, 0};
    memset(&k, 0, sizeof(k));
    wbuf_init(&spki, 16384);
    wbuf_init(&priv, 16384);
    if ((rv = import_key(e, tin, n, CKO_PRIVATE_KEY, &k, &spki, &priv)) == CKR_OK &&
        (rv = pkey_payload(spki.p, spki.len, priv.p, priv.len, &k)) == CKR_OK)
        rv = key_seal(&e->d->cur, &k, key_blob);
    key_obj_clear(&k);
    wbuf_free(&spki);
    wbuf_free(&priv);
    return rv;
}

CK_RV engine_import_public_key(engine *e, const CK_ATTRIBUTE *tin, CK_ULONG n, engine_buf *pub_key)
{
    CK_RV rv;
    key_obj k;
    wbuf spki, priv;

    if (e == NULL || pub_key == NULL)
        return CKR_ARGUMENTS_BAD;
    *pub_key = (engine_buf){NULL, 0};
    memset(&k, 0, sizeof(k));
    wbuf_init(&spki, 16384);
    wbuf_init(&priv, 16);
    if ((rv = import_key(e, tin, n, CKO_PUBLIC_KEY, &k, &spki, &priv)) == CKR_OK)
        rv = spki_mac_seal(&e->d->cur, spki.p, spki.len, &k, pub_key);
    key_obj_clear(&k);
    wbuf_free(&spki);
    wbuf_free(&priv);
    return rv;
}
