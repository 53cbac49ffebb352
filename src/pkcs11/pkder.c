/* Clear public and private key values from a template as DER, for
 * C_CreateObject: a public key becomes its SubjectPublicKeyInfo (the
 * engine takes a plain SPKI as an untrusted public key: verify, encrypt),
 * a private key a PKCS #8 PrivateKeyInfo, which import.c wraps under a
 * transport key for the server to unwrap. RSA, EC, Edwards and Montgomery
 * keys go through OpenSSL; ML-DSA and ML-KEM (which OpenSSL 3.0 lacks) are
 * written here in the IETF LAMPS layout the engine reads. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

static const CK_ATTRIBUTE *want(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type)
{
    const CK_ATTRIBUTE *a = p11_tmpl_find(t, n, type);
    return a && a->ulValueLen ? a : NULL;
}

/* ---- a little DER ---------------------------------------------------------- */

typedef struct {
    uint8_t *p;
    size_t len, cap;
    int err;
} dbuf;

static void put(dbuf *b, const void *p, size_t n)
{
    if (b->err)
        return;
    if (b->len + n > b->cap) {
        size_t cap = (b->len + n) * 2 + 64;
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->err = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void put_hdr(dbuf *b, uint8_t tag, size_t len)
{
    uint8_t h[6] = {tag};
    size_t n = 1;
    if (len < 0x80) {
        h[n++] = (uint8_t)len;
    } else {
        int bytes = len > 0xffffff ? 4 : len > 0xffff ? 3 : len > 0xff ? 2 : 1;
        h[n++] = (uint8_t)(0x80 | bytes);
        for (int i = bytes - 1; i >= 0; i--)
            h[n++] = (uint8_t)(len >> (8 * i));
    }
    put(b, h, n);
}

static size_t hdr_len(size_t len)
{
    return 1 + (len < 0x80 ? 1 : len <= 0xff ? 2 : len <= 0xffff ? 3 : len <= 0xffffff ? 4 : 5);
}

/* ---- ML-DSA / ML-KEM --------------------------------------------------------- */

static const uint8_t OID_PREFIX[] = {0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04};

/* The algorithm's OID (11 bytes) for a parameter set. */
static int pqc_oid(CK_KEY_TYPE kt, CK_ULONG set, uint8_t oid[11])
{
    memcpy(oid, OID_PREFIX, sizeof(OID_PREFIX));
    if (kt == CKK_ML_DSA && set >= CKP_ML_DSA_44 && set <= CKP_ML_DSA_87) {
        oid[9] = 0x03, oid[10] = (uint8_t)(0x10 + set);
        return 1;
    }
    if (kt == CKK_ML_KEM && set >= CKP_ML_KEM_512 && set <= CKP_ML_KEM_1024) {
        oid[9] = 0x04, oid[10] = (uint8_t)set;
        return 1;
    }
    return 0;
}

static CK_RV pqc_der(const CK_ATTRIBUTE *t, CK_ULONG n, CK_KEY_TYPE kt, int priv, g11c_buf *out)
{
    uint8_t oid[11];
    const CK_ATTRIBUTE *v = want(t, n, CKA_VALUE);
    const CK_ATTRIBUTE *ps = p11_tmpl_find(t, n, CKA_PARAMETER_SET);
    CK_ULONG set = 0;
    if (ps && ps->ulValueLen == sizeof(set))
        memcpy(&set, ps->pValue, sizeof(set));
    if (!v || !set)
        return CKR_TEMPLATE_INCOMPLETE;
    if (!pqc_oid(kt, set, oid))
        return CKR_ATTRIBUTE_VALUE_INVALID;
    size_t alg = 2 + sizeof(oid), vl = v->ulValueLen;
    dbuf b = {0};
    if (priv) { /* SEQ { INT 0, SEQ { OID }, OCTET STRING { OCTET STRING key } } */
        size_t inner = hdr_len(vl) + vl, body = 3 + alg + hdr_len(inner) + inner;
        put_hdr(&b, 0x30, body);
        put(&b, "\x02\x01\x00", 3);
        put_hdr(&b, 0x30, sizeof(oid));
        put(&b, oid, sizeof(oid));
        put_hdr(&b, 0x04, inner);
        put_hdr(&b, 0x04, vl);
    } else { /* SEQ { SEQ { OID }, BIT STRING { 0, key } } */
        size_t body = alg + hdr_len(vl + 1) + vl + 1;
        put_hdr(&b, 0x30, body);
        put_hdr(&b, 0x30, sizeof(oid));
        put(&b, oid, sizeof(oid));
        put_hdr(&b, 0x03, vl + 1);
        put(&b, "", 1);
    }
    put(&b, v->pValue, vl);
    if (b.err) {
        free(b.p);
        return CKR_HOST_MEMORY;
    }
    out->ptr = b.p;
    out->len = b.len;
    return CKR_OK;
}

/* ---- curves ------------------------------------------------------------------ */

static const struct {
    const char *alias, *name;
} curve_alias[] = {
    {"secp256r1", "prime256v1"}, {"NIST P-256", "P-256"},     {"NIST P-384", "P-384"},
    {"NIST P-521", "P-521"},     {"secp192r1", "prime192v1"}, {"edwards25519", "ED25519"},
    {"Ed25519", "ED25519"},      {"edwards448", "ED448"},     {"Ed448", "ED448"},
    {"curve25519", "X25519"},    {"curve448", "X448"},
};

/* CKA_EC_PARAMS (DER OID, DER PrintableString, or a plain name) as an
 * OpenSSL NID. */
static int curve_nid(const CK_ATTRIBUTE *a)
{
    char name[64];
    const unsigned char *p = a->pValue;
    size_t len = a->ulValueLen;
    if (len > 2 && p[0] == 0x06) {
        ASN1_OBJECT *o = d2i_ASN1_OBJECT(NULL, &p, (long)len);
        int nid = o ? OBJ_obj2nid(o) : NID_undef;
        ASN1_OBJECT_free(o);
        return nid;
    }
    if (len > 2 && p[0] == 0x13 && p[1] == len - 2)
        p += 2, len -= 2;
    if (len >= sizeof(name))
        return NID_undef;
    memcpy(name, p, len);
    name[len] = '\0';
    for (size_t i = 0; i < sizeof(curve_alias) / sizeof(curve_alias[0]); i++)
        if (strcasecmp(name, curve_alias[i].alias) == 0)
            snprintf(name, sizeof(name), "%s", curve_alias[i].name);
    int nid = EC_curve_nist2nid(name);
    if (nid == NID_undef)
        nid = OBJ_sn2nid(name);
    if (nid == NID_undef)
        nid = OBJ_ln2nid(name);
    return nid;
}

static int raw_nid(int nid)
{
    return nid == NID_ED25519 || nid == NID_ED448 || nid == NID_X25519 || nid == NID_X448;
}

int p11_ec_params_edwards(const CK_ATTRIBUTE *params)
{
    int nid = params && params->pValue ? curve_nid(params) : NID_undef;
    return nid == NID_ED25519 || nid == NID_ED448;
}

/* The point of CKA_EC_POINT: a DER OCTET STRING around it, or raw. ok_len
 * says which lengths are points of the curve. */
static int point_of(const CK_ATTRIBUTE *a, int (*ok_len)(size_t, int), int arg, const uint8_t **pt,
                    size_t *len)
{
    const uint8_t *p = a->pValue;
    size_t n = a->ulValueLen;
    if (n > 2 && p[0] == 0x04) {
        size_t l = 0, h = 2;
        if (p[1] < 0x80)
            l = p[1];
        else if (p[1] == 0x81 && n > 3)
            l = p[2], h = 3;
        else if (p[1] == 0x82 && n > 4)
            l = (size_t)p[2] << 8 | p[3], h = 4;
        if (h + l == n && ok_len(l, arg)) {
            *pt = p + h;
            *len = l;
            return 1;
        }
    }
    if (!ok_len(n, arg))
        return 0;
    *pt = p;
    *len = n;
    return 1;
}

static int ec_len_ok(size_t n, int bytes)
{
    return n == (size_t)(2 * bytes + 1) || n == (size_t)(bytes + 1);
}

static int raw_len_ok(size_t n, int want_len)
{
    return n == (size_t)want_len;
}

static int raw_pub_len(int nid)
{
    return nid == NID_ED25519 || nid == NID_X25519 ? 32 : nid == NID_ED448 ? 57 : 56;
}

/* ---- OpenSSL keys ---------------------------------------------------------------- */

static BIGNUM *bn_of(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type)
{
    const CK_ATTRIBUTE *a = want(t, n, type);
    return a ? BN_bin2bn(a->pValue, (int)a->ulValueLen, NULL) : NULL;
}

static CK_RV from_params(const char *alg, int selection, OSSL_PARAM_BLD *bld, EVP_PKEY **out)
{
    CK_RV rv = CKR_ATTRIBUTE_VALUE_INVALID;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
    if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, out, selection, params) == 1)
        rv = CKR_OK;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return rv;
}

static CK_RV rsa_key(const CK_ATTRIBUTE *t, CK_ULONG n, int priv, EVP_PKEY **out)
{
    static const CK_ATTRIBUTE_TYPE types[8] = {
        CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
        CKA_PRIME_2, CKA_EXPONENT_1,      CKA_EXPONENT_2,       CKA_COEFFICIENT};
    static const char *names[8] = {OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
                                   OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
                                   OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
                                   OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
    BIGNUM *bn[8] = {0};
    int count = priv ? 8 : 2;
    CK_RV rv = CKR_OK;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (!bld)
        return CKR_HOST_MEMORY;
    for (int i = 0; i < count && rv == CKR_OK; i++)
        if (!(bn[i] = bn_of(t, n, types[i])))
            rv = CKR_TEMPLATE_INCOMPLETE; /* the CRT values too: PKCS #8 needs them */
        else if (OSSL_PARAM_BLD_push_BN(bld, names[i], bn[i]) != 1)
            rv = CKR_HOST_MEMORY;
    if (rv == CKR_OK)
        rv = from_params("RSA", priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, bld, out);
    for (int i = 0; i < 8; i++)
        BN_clear_free(bn[i]);
    OSSL_PARAM_BLD_free(bld);
    return rv;
}

/* d·G, uncompressed (PKCS #8 carries the public key too); 0 on failure. */
static size_t ec_public_of(int nid, const BIGNUM *d, uint8_t *out, size_t cap)
{
    size_t len = 0;
    EC_GROUP *g = EC_GROUP_new_by_curve_name(nid);
    EC_POINT *p = g ? EC_POINT_new(g) : NULL;
    BN_CTX *ctx = BN_CTX_new();
    if (p && ctx && !BN_is_zero(d) && BN_cmp(d, EC_GROUP_get0_order(g)) < 0 &&
        EC_POINT_mul(g, p, d, NULL, NULL, ctx) == 1)
        len = EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, out, cap, ctx);
    BN_CTX_free(ctx);
    EC_POINT_free(p);
    EC_GROUP_free(g);
    return len;
}

static CK_RV ec_key(const CK_ATTRIBUTE *t, CK_ULONG n, int nid, int priv, EVP_PKEY **out)
{
    const uint8_t *pt;
    size_t plen;
    CK_RV rv = CKR_OK;
    BIGNUM *d = NULL;
    const char *group = OBJ_nid2sn(nid);
    EC_GROUP *g = EC_GROUP_new_by_curve_name(nid);
    int bytes = g ? (EC_GROUP_get_degree(g) + 7) / 8 : 0;
    EC_GROUP_free(g);
    if (!bytes)
        return CKR_CURVE_NOT_SUPPORTED;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (!bld)
        return CKR_HOST_MEMORY;
    if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1)
        rv = CKR_HOST_MEMORY;
    /* The builder keeps pointers: pub lives until from_params is done. */
    uint8_t pub[133];
    size_t publen = 0;
    if (rv == CKR_OK && priv) {
        if (!(d = bn_of(t, n, CKA_VALUE)))
            rv = CKR_TEMPLATE_INCOMPLETE;
        else if (!(publen = ec_public_of(nid, d, pub, sizeof(pub))))
            rv = CKR_ATTRIBUTE_VALUE_INVALID;
        else if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1 ||
                 OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, publen) != 1)
            rv = CKR_HOST_MEMORY;
    } else if (rv == CKR_OK) {
        const CK_ATTRIBUTE *a = want(t, n, CKA_EC_POINT);
        if (!a)
            rv = CKR_TEMPLATE_INCOMPLETE;
        else if (!point_of(a, ec_len_ok, bytes, &pt, &plen))
            rv = CKR_ATTRIBUTE_VALUE_INVALID;
        else if (OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, plen) != 1)
            rv = CKR_HOST_MEMORY;
    }
    if (rv == CKR_OK)
        rv = from_params("EC", priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, bld, out);
    BN_clear_free(d);
    OSSL_PARAM_BLD_free(bld);
    return rv;
}

static CK_RV raw_key(const CK_ATTRIBUTE *t, CK_ULONG n, int nid, int priv, EVP_PKEY **out)
{
    const uint8_t *pt;
    size_t plen;
    int len = raw_pub_len(nid);
    if (priv) {
        const CK_ATTRIBUTE *v = want(t, n, CKA_VALUE);
        if (!v)
            return CKR_TEMPLATE_INCOMPLETE;
        /* Ed25519 private keys also come as seed || public key (64 bytes). */
        size_t vl = v->ulValueLen == (CK_ULONG)(2 * len) && nid == NID_ED25519 ? (size_t)len
                                                                               : v->ulValueLen;
        *out = EVP_PKEY_new_raw_private_key(nid, NULL, v->pValue, vl);
    } else {
        const CK_ATTRIBUTE *a = want(t, n, CKA_EC_POINT);
        if (!a)
            return CKR_TEMPLATE_INCOMPLETE;
        if (!point_of(a, raw_len_ok, len, &pt, &plen))
            return CKR_ATTRIBUTE_VALUE_INVALID;
        *out = EVP_PKEY_new_raw_public_key(nid, NULL, pt, plen);
    }
    return *out ? CKR_OK : CKR_ATTRIBUTE_VALUE_INVALID;
}

static CK_RV ossl_der(EVP_PKEY *k, int priv, g11c_buf *out)
{
    unsigned char *der = NULL;
    int len = -1;
    if (priv) {
        PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(k);
        if (p8)
            len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
        PKCS8_PRIV_KEY_INFO_free(p8);
    } else {
        len = i2d_PUBKEY(k, &der);
    }
    if (len <= 0)
        return CKR_ATTRIBUTE_VALUE_INVALID;
    CK_RV rv = CKR_OK;
    if ((out->ptr = malloc((size_t)len)))
        memcpy(out->ptr, der, (size_t)len), out->len = (size_t)len;
    else
        rv = CKR_HOST_MEMORY;
    OPENSSL_clear_free(der, (size_t)len);
    return rv;
}

/* SPKI (priv 0) or PKCS #8 (priv 1) of the key in the template;
 * CKR_TEMPLATE_INCOMPLETE when it does not hold one. */
CK_RV p11_pkder(const CK_ATTRIBUTE *t, CK_ULONG n, int priv, g11c_buf *out)
{
    EVP_PKEY *k = NULL;
    CK_RV rv;
    const CK_ATTRIBUTE *kta = p11_tmpl_find(t, n, CKA_KEY_TYPE);
    CK_KEY_TYPE kt;
    if (!kta || kta->ulValueLen != sizeof(kt))
        return CKR_TEMPLATE_INCOMPLETE;
    memcpy(&kt, kta->pValue, sizeof(kt));
    const CK_ATTRIBUTE *info = want(t, n, CKA_PUBLIC_KEY_INFO);
    if (!priv && info) { /* given as it is */
        if (!(out->ptr = malloc(info->ulValueLen)))
            return CKR_HOST_MEMORY;
        memcpy(out->ptr, info->pValue, info->ulValueLen);
        out->len = info->ulValueLen;
        return CKR_OK;
    }
    switch (kt) {
    case CKK_RSA:
        rv = rsa_key(t, n, priv, &k);
        break;
    case CKK_EC:
    case CKK_EC_EDWARDS:
    case CKK_EC_MONTGOMERY: {
        const CK_ATTRIBUTE *params = want(t, n, CKA_EC_PARAMS);
        if (!params)
            return CKR_TEMPLATE_INCOMPLETE;
        int nid = curve_nid(params);
        if (nid == NID_undef)
            return CKR_CURVE_NOT_SUPPORTED;
        /* IBM's 2.40 headers have no CKK_EC_EDWARDS: IBM's applications
         * import Ed25519 and Ed448 keys as CKK_EC with the curve's OID. */
        int ibm_edwards = kt == CKK_EC && (nid == NID_ED25519 || nid == NID_ED448);
        if (!ibm_edwards && (kt == CKK_EC) == raw_nid(nid))
            return CKR_TEMPLATE_INCONSISTENT;
        rv = raw_nid(nid) ? raw_key(t, n, nid, priv, &k) : ec_key(t, n, nid, priv, &k);
        break;
    }
    case CKK_ML_DSA:
    case CKK_ML_KEM:
        return pqc_der(t, n, kt, priv, out);
    default:
        return CKR_TEMPLATE_INCOMPLETE;
    }
    if (rv == CKR_OK)
        rv = ossl_der(k, priv, out);
    EVP_PKEY_free(k);
    return rv;
}

/* IBM's EP11 (and grep11d) write Edwards and Montgomery public keys as
 * SEQUENCE { SEQUENCE { id-ecPublicKey, curve OID }, BIT STRING }; PKCS #11
 * applications (OpenSSL, NSS, Java) expect RFC 8410's SEQUENCE { SEQUENCE {
 * curve OID }, BIT STRING }. The keys are at most 57 bytes, so every length
 * is one byte and the shape is fixed. */
int p11_spki_rfc8410(const CK_BYTE *in, CK_ULONG len, CK_BYTE *out, CK_ULONG cap, CK_ULONG *olen)
{
    static const CK_BYTE head[] = {0x30, 0x0e, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
                                   0x3d, 0x02, 0x01, 0x06, 0x03, 0x2b, 0x65};
    const CK_ULONG hl = sizeof(head), rest = len >= 2 + hl + 1 ? len - (2 + hl + 1) : 0;
    if (len < 2 + hl + 3 || len > 127 || in[0] != 0x30 || in[1] != len - 2 ||
        memcmp(in + 2, head, hl) != 0 || in[2 + hl] < 0x6e || in[2 + hl] > 0x71 ||
        in[3 + hl] != 0x03 || len - 9 > cap)
        return 0;
    out[0] = 0x30;
    out[1] = (CK_BYTE)(len - 11);
    const CK_BYTE algid[] = {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, in[2 + hl]};
    memcpy(out + 2, algid, sizeof(algid));
    memcpy(out + 2 + sizeof(algid), in + 3 + hl, rest);
    *olen = 2 + sizeof(algid) + rest;
    return 1;
}
