/* CKM_IBM_BTC_DERIVE: hierarchical deterministic keys after BIP-0032
 * (secp256k1) and SLIP-0010 (secp256k1, NIST P-256, Ed25519), with IBM's
 * parameter (BTCDeriveParm: type, child index, the parent's chain code,
 * version 1). The derived key is an ordinary sealed EC/Ed25519 private key
 * or MACed SPKI; its chain code is the DeriveKey checksum (32 bytes), which
 * the caller passes back with the next derivation (README "BIP-0032 and
 * SLIP-0010").
 *
 * Scalars are added modulo n byte by byte without secret-dependent
 * branches; point(k) is OpenSSL's EC_POINT_mul with a BN_FLG_CONSTTIME
 * scalar (its Montgomery ladder). Every intermediate secret is wiped. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "kex.h"

#define BTC_LEN 32u
#define BTC_SEED_MIN 16u /* BIP-0032: a seed of 128 to 512 bits */
#define BTC_SEED_MAX 64u
#define BTC_RETRIES 8 /* SLIP-0010 retries; each is needed with p < 2^-127 */

enum { OP_PRV2PRV = 1, OP_PRV2PUB, OP_PUB2PUB, OP_MASTER };

typedef struct {
    int op;
    bool slip; /* SLIP-0010: retry instead of failing on an invalid key */
    uint32_t index;
    bool hardened;
    const uint8_t *chain; /* parent chain code (BTC_LEN), NULL for MASTERK */
} btc_req;

/* The curves and the HMAC key of their master keys (SLIP-0010 "Curve"). */
typedef struct {
    const char *curve; /* curve_def name */
    const char *seed_key;
    bool bip32; /* BIP-0032 proper: secp256k1 only */
} btc_curve;

static const btc_curve CURVES[] = {
    {"secp256k1", "Bitcoin seed", true},
    {"P-256", "Nist256p1 seed", false},
    {"Ed25519", "ed25519 seed", false},
};

static const btc_curve *btc_curve_of(const curve_def *c, bool slip)
{
    for (size_t i = 0; i < sizeof(CURVES) / sizeof(CURVES[0]); i++)
        if (strcmp(CURVES[i].curve, c->name) == 0 && (slip || CURVES[i].bip32))
            return &CURVES[i];
    return NULL;
}

/* ---- constant-time 256-bit arithmetic (big-endian) ---- */

static unsigned ct_sub(uint8_t out[BTC_LEN], const uint8_t a[BTC_LEN], const uint8_t b[BTC_LEN])
{
    unsigned borrow = 0;
    for (int i = BTC_LEN - 1; i >= 0; i--) {
        unsigned d = (unsigned)a[i] - b[i] - borrow;
        out[i] = (uint8_t)d;
        borrow = (d >> 8) & 1;
    }
    return borrow;
}

static unsigned ct_add(uint8_t out[BTC_LEN], const uint8_t a[BTC_LEN], const uint8_t b[BTC_LEN])
{
    unsigned carry = 0;
    for (int i = BTC_LEN - 1; i >= 0; i--) {
        unsigned s = (unsigned)a[i] + b[i] + carry;
        out[i] = (uint8_t)s;
        carry = s >> 8;
    }
    return carry;
}

static unsigned ct_is_zero(const uint8_t a[BTC_LEN])
{
    unsigned acc = 0;
    for (size_t i = 0; i < BTC_LEN; i++)
        acc |= a[i];
    return ((acc - 1) >> 8) & 1;
}

/* 1 when a < n. */
static unsigned ct_lt(const uint8_t a[BTC_LEN], const uint8_t n[BTC_LEN])
{
    uint8_t t[BTC_LEN];
    unsigned lt = ct_sub(t, a, n);
    OPENSSL_cleanse(t, sizeof(t));
    return lt;
}

/* 1 when 0 < a < n. */
static unsigned ct_scalar_ok(const uint8_t a[BTC_LEN], const uint8_t n[BTC_LEN])
{
    return ct_lt(a, n) & (ct_is_zero(a) ^ 1);
}

bool btc_child_scalar(const uint8_t n[32], const uint8_t kpar[32], const uint8_t il[32],
                      uint8_t out[32])
{
    uint8_t s[BTC_LEN], t[BTC_LEN];
    unsigned il_ok, carry, borrow, mask, ok;

    il_ok = ct_lt(il, n);
    carry = ct_add(s, il, kpar);
    borrow = ct_sub(t, s, n);
    /* s >= n (carry out, or no borrow): the key is s - n. Both < n, so one
     * subtraction reduces. */
    mask = 0u - (carry | (borrow ^ 1));
    for (size_t i = 0; i < BTC_LEN; i++)
        out[i] = (uint8_t)((t[i] & mask) | (s[i] & ~mask));
    ok = il_ok & (ct_is_zero(out) ^ 1);
    OPENSSL_cleanse(s, sizeof(s));
    OPENSSL_cleanse(t, sizeof(t));
    if (!ok)
        OPENSSL_cleanse(out, BTC_LEN);
    return ok != 0;
}

/* ---- primitives ---- */

static CK_RV hmac512(const void *key, size_t klen, const uint8_t *data, size_t dlen,
                     uint8_t out[64])
{
    size_t ol = 0;
    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA512", NULL, key, klen, data, dlen, out, 64, &ol) ==
            NULL ||
        ol != 64)
        return CKR_FUNCTION_FAILED;
    return CKR_OK;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* An OpenSSL group and its order as BTC_LEN bytes. */
typedef struct {
    EC_GROUP *g;
    BN_CTX *bn;
    uint8_t n[BTC_LEN];
} btc_group;

static CK_RV group_open(const curve_def *c, btc_group *grp)
{
    memset(grp, 0, sizeof(*grp));
    grp->g = EC_GROUP_new_by_curve_name(OBJ_sn2nid(c->ossl));
    grp->bn = BN_CTX_secure_new();
    if (grp->g == NULL || grp->bn == NULL ||
        BN_bn2binpad(EC_GROUP_get0_order(grp->g), grp->n, BTC_LEN) != BTC_LEN)
        return CKR_FUNCTION_FAILED;
    return CKR_OK;
}

static void group_close(btc_group *grp)
{
    EC_GROUP_free(grp->g);
    BN_CTX_free(grp->bn);
}

/* serP(point(k)) in the given form; *len = its length. */
static CK_RV ec_point_of(const btc_group *grp, const uint8_t k[BTC_LEN], point_conversion_form_t f,
                         uint8_t *out, size_t cap, size_t *len)
{
    CK_RV rv = CKR_FUNCTION_FAILED;
    BIGNUM *s = BN_secure_new();
    EC_POINT *p = EC_POINT_new(grp->g);

    if (s == NULL || p == NULL)
        goto out;
    BN_set_flags(s, BN_FLG_CONSTTIME);
    if (BN_bin2bn(k, BTC_LEN, s) == NULL || EC_POINT_mul(grp->g, p, s, NULL, NULL, grp->bn) != 1)
        goto out;
    *len = EC_POINT_point2oct(grp->g, p, f, out, cap, grp->bn);
    if (*len != 0)
        rv = CKR_OK;
out:
    EC_POINT_free(p);
    BN_clear_free(s);
    return rv;
}

/* point(il) + K (uncompressed into out); false: il >= n or infinity. */
static CK_RV ec_tweak_add(const btc_group *grp, const uint8_t il[BTC_LEN], const uint8_t *kp,
                          size_t kplen, uint8_t out[65], bool *valid)
{
    CK_RV rv = CKR_FUNCTION_FAILED;
    BIGNUM *s = BN_bin2bn(il, BTC_LEN, NULL);
    EC_POINT *t = EC_POINT_new(grp->g), *par = EC_POINT_new(grp->g);

    *valid = false;
    if (s == NULL || t == NULL || par == NULL)
        goto out;
    if (EC_POINT_oct2point(grp->g, par, kp, kplen, grp->bn) != 1) {
        rv = CKR_KEY_HANDLE_INVALID;
        goto out;
    }
    rv = CKR_OK;
    if (!ct_lt(il, grp->n))
        goto out; /* invalid: il >= n (IL is public here: K and c are) */
    if (EC_POINT_mul(grp->g, t, s, par, BN_value_one(), grp->bn) != 1) {
        rv = CKR_FUNCTION_FAILED;
        goto out;
    }
    if (EC_POINT_is_at_infinity(grp->g, t))
        goto out;
    if (EC_POINT_point2oct(grp->g, t, POINT_CONVERSION_UNCOMPRESSED, out, 65, grp->bn) != 65)
        rv = CKR_FUNCTION_FAILED;
    else
        *valid = true;
out:
    EC_POINT_free(t);
    EC_POINT_free(par);
    BN_free(s);
    return rv;
}

static CK_RV ed_public_of(const uint8_t k[BTC_LEN], uint8_t out[32])
{
    size_t l = 32;
    EVP_PKEY *pk = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, k, BTC_LEN);
    CK_RV rv = pk != NULL && EVP_PKEY_get_raw_public_key(pk, out, &l) == 1 && l == 32
                   ? CKR_OK
                   : CKR_FUNCTION_FAILED;
    EVP_PKEY_free(pk);
    return rv;
}

/* ---- the derivations: (k, c) or (K, c) from the parent ---- */

/* Master key: I = HMAC-SHA512(Curve, S); SLIP-0010 rehashes I while IL is
 * no valid scalar, BIP-0032 fails. */
static CK_RV btc_master(const btc_curve *bc, const btc_group *grp, const uint8_t *seed, size_t slen,
                        bool slip, uint8_t k[BTC_LEN], uint8_t cc[BTC_LEN])
{
    CK_RV rv;
    uint8_t i[64], prev[64];
    int tries = 0;

    rv = hmac512(bc->seed_key, strlen(bc->seed_key), seed, slen, i);
    while (rv == CKR_OK) {
        if (grp == NULL || ct_scalar_ok(i, grp->n)) {
            memcpy(k, i, BTC_LEN);
            memcpy(cc, i + BTC_LEN, BTC_LEN);
            break;
        }
        if (!slip || ++tries == BTC_RETRIES) {
            rv = CKR_FUNCTION_FAILED; /* BIP-0032: this seed makes no master key */
            break;
        }
        memcpy(prev, i, sizeof(prev));
        rv = hmac512(bc->seed_key, strlen(bc->seed_key), prev, sizeof(prev), i);
    }
    OPENSSL_cleanse(i, sizeof(i));
    OPENSSL_cleanse(prev, sizeof(prev));
    return rv;
}

/* CKDpriv. grp NULL: Ed25519 (hardened only; the child key is IL). */
static CK_RV btc_ckd_priv(const btc_group *grp, const btc_req *r, const uint8_t kpar[BTC_LEN],
                          uint8_t k[BTC_LEN], uint8_t cc[BTC_LEN])
{
    CK_RV rv = CKR_OK;
    uint8_t data[1 + BTC_LEN + 4], i[64];
    size_t dl = 0;
    int tries = 0;

    if (r->hardened) {
        data[0] = 0;
        memcpy(data + 1, kpar, BTC_LEN);
        dl = 1 + BTC_LEN;
    } else if (grp == NULL) {
        return CKR_MECHANISM_PARAM_INVALID; /* Ed25519: hardened only (btc_parent) */
    } else {
        rv = ec_point_of(grp, kpar, POINT_CONVERSION_COMPRESSED, data, sizeof(data) - 4, &dl);
    }
    if (rv == CKR_OK) {
        put32(data + dl, r->index);
        rv = hmac512(r->chain, BTC_LEN, data, dl + 4, i);
    }
    while (rv == CKR_OK) {
        memcpy(cc, i + BTC_LEN, BTC_LEN);
        if (grp == NULL) {
            memcpy(k, i, BTC_LEN);
            break;
        }
        if (btc_child_scalar(grp->n, kpar, i, k))
            break;
        if (!r->slip || ++tries == BTC_RETRIES) {
            rv = CKR_MECHANISM_PARAM_INVALID; /* BIP-0032: go on with the next index */
            break;
        }
        /* SLIP-0010: I = HMAC-SHA512(c, 0x01 || IR || ser32(i)). */
        data[0] = 1;
        memcpy(data + 1, i + BTC_LEN, BTC_LEN);
        put32(data + 1 + BTC_LEN, r->index);
        rv = hmac512(r->chain, BTC_LEN, data, sizeof(data), i);
    }
    OPENSSL_cleanse(data, sizeof(data));
    OPENSSL_cleanse(i, sizeof(i));
    if (rv != CKR_OK) {
        OPENSSL_cleanse(k, BTC_LEN);
        OPENSSL_cleanse(cc, BTC_LEN);
    }
    return rv;
}

/* CKDpub (non-hardened, Weierstrass curves): K = point(IL) + Kpar. */
static CK_RV btc_ckd_pub(const btc_group *grp, const btc_req *r, const uint8_t *kpar, size_t kplen,
                         uint8_t out[65], uint8_t cc[BTC_LEN])
{
    CK_RV rv;
    uint8_t data[1 + BTC_LEN + 4], i[64];
    size_t dl = 0;
    bool valid = false;
    int tries = 0;
    EC_POINT *p = EC_POINT_new(grp->g);

    /* serP(Kpar): the compressed form of the point as given. */
    rv = p != NULL && EC_POINT_oct2point(grp->g, p, kpar, kplen, grp->bn) == 1 &&
                 (dl = EC_POINT_point2oct(grp->g, p, POINT_CONVERSION_COMPRESSED, data,
                                          sizeof(data) - 4, grp->bn)) == 1 + BTC_LEN
             ? CKR_OK
             : CKR_KEY_HANDLE_INVALID;
    EC_POINT_free(p);
    if (rv == CKR_OK) {
        put32(data + dl, r->index);
        rv = hmac512(r->chain, BTC_LEN, data, dl + 4, i);
    }
    while (rv == CKR_OK) {
        memcpy(cc, i + BTC_LEN, BTC_LEN);
        if ((rv = ec_tweak_add(grp, i, kpar, kplen, out, &valid)) != CKR_OK || valid)
            break;
        if (!r->slip || ++tries == BTC_RETRIES) {
            rv = CKR_MECHANISM_PARAM_INVALID;
            break;
        }
        data[0] = 1;
        memcpy(data + 1, i + BTC_LEN, BTC_LEN);
        put32(data + 1 + BTC_LEN, r->index);
        rv = hmac512(r->chain, BTC_LEN, data, sizeof(data), i);
    }
    OPENSSL_cleanse(i, sizeof(i));
    return rv;
}

/* ---- parameter, template, base key ---- */

static CK_RV btc_param(const engine_mech *m, btc_req *r)
{
    CK_ULONG t = m->btc.type;

    memset(r, 0, sizeof(*r));
    if (m->kind != ENGINE_PARAM_BTC || m->btc.version != CK_IBM_BTC_DERIVE_PARAMS_VERSION_1 ||
        t < CK_IBM_BIP0032_PRV2PRV || t > CK_IBM_SLIP0010_MASTERK || m->btc.index > 0xffffffffu)
        return CKR_MECHANISM_PARAM_INVALID;
    r->slip = t >= CK_IBM_SLIP0010_PRV2PRV;
    r->op = (int)((t - 1) % 4) + 1;
    r->index = (uint32_t)m->btc.index;
    r->hardened = (r->index & CK_IBM_BIP0032_HARDENED) != 0;
    if (r->op == OP_MASTER)
        return r->index == 0 && m->btc.chain_code.len == 0 ? CKR_OK : CKR_MECHANISM_PARAM_INVALID;
    if (m->btc.chain_code.len != BTC_LEN || m->btc.chain_code.ptr == NULL)
        return CKR_MECHANISM_PARAM_INVALID;
    if (r->op == OP_PUB2PUB && r->hardened)
        return CKR_MECHANISM_PARAM_INVALID; /* CKDpub is defined for normal children only */
    r->chain = m->btc.chain_code.ptr;
    return CKR_OK;
}

/* IBM's clients send one template for both halves: CKA_VALUE_LEN 0 and the
 * other half's usage (CKA_VERIFY on a private child, CKA_SIGN on a public
 * one) are dropped; they could grant nothing. The rest is policy's. */
static CK_RV btc_template(const CK_ATTRIBUTE *tin, CK_ULONG n, CK_OBJECT_CLASS cls,
                          CK_ATTRIBUTE keep[TMPL_MAX_DEFS], tmpl *t)
{
    CK_ULONG nk = 0, zero = 0;
    CK_ATTRIBUTE_TYPE other = cls == CKO_PRIVATE_KEY ? CKA_VERIFY : CKA_SIGN;

    if (n > TMPL_MAX_DEFS || (n > 0 && tin == NULL))
        return CKR_TEMPLATE_INCONSISTENT;
    for (CK_ULONG i = 0; i < n; i++) {
        const CK_ATTRIBUTE *a = &tin[i];
        if (a->type == other && a->ulValueLen == sizeof(CK_BBOOL))
            continue;
        if (a->type == CKA_VALUE_LEN && a->ulValueLen == sizeof(CK_ULONG) && a->pValue != NULL &&
            memcmp(a->pValue, &zero, sizeof(zero)) == 0)
            continue;
        keep[nk++] = *a;
    }
    return tmpl_parse(keep, nk, t);
}

/* The curve of the new master key: the template's, or secp256k1 for
 * BIP-0032 when the template names none. */
static CK_RV btc_master_curve(const tmpl *t, bool slip, const btc_curve **bc, const curve_def **c)
{
    CK_RV rv;
    const CK_ATTRIBUTE *a = tmpl_get(t, CKA_EC_PARAMS);

    if (a == NULL && slip)
        return CKR_TEMPLATE_INCOMPLETE;
    *c = a ? curve_by_params(a->pValue, a->ulValueLen, &rv) : curve_by_name("secp256k1");
    if (*c == NULL)
        return rv;
    *bc = btc_curve_of(*c, slip);
    if (*bc == NULL)
        return slip ? CKR_CURVE_NOT_SUPPORTED : CKR_TEMPLATE_INCONSISTENT;
    return CKR_OK;
}

/* ---- the new key ---- */

typedef struct {
    const curve_def *c;
    uint8_t k[BTC_LEN]; /* private scalar / Ed25519 private key */
    uint8_t pub[65];    /* uncompressed point / Ed25519 public key */
    size_t pub_len;
    uint8_t cc[BTC_LEN]; /* chain code */
    bool is_private;
} btc_out;

static CK_RV btc_public(const btc_group *grp, btc_out *o)
{
    if (o->c->alg == PK_ED) {
        o->pub_len = 32;
        return ed_public_of(o->k, o->pub);
    }
    if (grp == NULL)
        return CKR_GENERAL_ERROR;
    return ec_point_of(grp, o->k, POINT_CONVERSION_UNCOMPRESSED, o->pub, sizeof(o->pub),
                       &o->pub_len);
}

static CK_RV btc_emit(engine *e, const tmpl *t, const key_obj *base, btc_out *o,
                      engine_buf *key_blob, engine_buf *checksum)
{
    CK_RV rv;
    key_obj k;
    wbuf spki;
    CK_OBJECT_CLASS cls = o->is_private ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;

    memset(&k, 0, sizeof(k));
    wbuf_init(&spki, 512);
    if ((rv = policy_derive_asym(e, t, cls, o->c, CKM_IBM_BTC_DERIVE, base, &k)) != CKR_OK ||
        (rv = spki_build(o->c->alg, o->c, NULL, o->pub, o->pub_len, NULL, 0, &spki)) != CKR_OK)
        goto out;
    if (o->is_private) {
        if ((rv = pkey_pair_check(spki.p, spki.len, o->k, BTC_LEN)) != CKR_OK ||
            (rv = pkey_payload(spki.p, spki.len, o->k, BTC_LEN, &k)) != CKR_OK ||
            (rv = key_seal(&e->d->cur, &k, key_blob)) != CKR_OK)
            goto out;
    } else if ((rv = spki_mac_seal(&e->d->cur, spki.p, spki.len, &k, key_blob)) != CKR_OK) {
        goto out;
    }
    if ((rv = ebuf_copy(checksum, o->cc, BTC_LEN)) != CKR_OK)
        engine_buf_free(key_blob);
out:
    key_obj_clear(&k);
    wbuf_free(&spki);
    return rv;
}

/* MASTERK: the base is the seed, a generic secret with CKA_DERIVE. */
static CK_RV btc_from_seed(const engine *e, const btc_req *r, const tmpl *t, engine_bytes base,
                           key_obj *seed, btc_out *o)
{
    CK_RV rv;
    const btc_curve *bc = NULL;
    btc_group grp;

    if ((rv = key_unseal(e, base, seed)) != CKR_OK)
        return rv;
    if (seed->cls != CKO_SECRET_KEY || seed->ktype != CKK_GENERIC_SECRET)
        return CKR_KEY_TYPE_INCONSISTENT;
    if ((rv = policy_check_usage(seed, KF_DERIVE, CKM_IBM_BTC_DERIVE)) != CKR_OK)
        return rv;
    if (seed->vlen < BTC_SEED_MIN || seed->vlen > BTC_SEED_MAX)
        return CKR_KEY_SIZE_RANGE;
    if ((rv = btc_master_curve(t, r->slip, &bc, &o->c)) != CKR_OK)
        return rv;
    if (o->c->alg == PK_ED) {
        if ((rv = btc_master(bc, NULL, seed->secret, seed->vlen, r->slip, o->k, o->cc)) == CKR_OK)
            rv = btc_public(NULL, o);
        return rv;
    }
    if ((rv = group_open(o->c, &grp)) == CKR_OK &&
        (rv = btc_master(bc, &grp, seed->secret, seed->vlen, r->slip, o->k, o->cc)) == CKR_OK)
        rv = btc_public(&grp, o);
    group_close(&grp);
    return rv;
}

/* The parent (private blob or MACed SPKI) on a curve of the variant. */
static CK_RV btc_parent(const engine *e, const btc_req *r, engine_bytes base, pkey *k)
{
    CK_RV rv;
    bool pub = r->op == OP_PUB2PUB;

    if (pub && pkey_is_blob(base))
        return CKR_KEY_TYPE_INCONSISTENT;
    if ((rv = pub ? pkey_load_public(e, base, k) : pkey_load_private(e, base, k)) != CKR_OK)
        return rv;
    /* A public key this domain did not MAC may not be a base: its children
     * would be MACed as ours. */
    if (pub && !k->trusted)
        return CKR_KEY_FUNCTION_NOT_PERMITTED;
    if ((rv = policy_check_usage(&k->obj, KF_DERIVE, CKM_IBM_BTC_DERIVE)) != CKR_OK)
        return rv;
    if (k->curve == NULL || (k->alg != PK_EC && k->alg != PK_ED) ||
        btc_curve_of(k->curve, r->slip) == NULL || k->curve->priv_len != BTC_LEN)
        return CKR_KEY_TYPE_INCONSISTENT;
    /* SLIP-0010: Ed25519 has hardened private derivation only. */
    if (k->alg == PK_ED && (pub || !r->hardened))
        return CKR_MECHANISM_PARAM_INVALID;
    return CKR_OK;
}

static CK_RV btc_from_parent(const engine *e, const btc_req *r, engine_bytes base, pkey *k,
                             btc_out *o)
{
    CK_RV rv;
    btc_group grp;
    bool ed;

    if ((rv = btc_parent(e, r, base, k)) != CKR_OK)
        return rv;
    o->c = k->curve;
    ed = o->c->alg == PK_ED;
    memset(&grp, 0, sizeof(grp));
    if (!ed && (rv = group_open(o->c, &grp)) != CKR_OK)
        goto out;
    if (r->op == OP_PUB2PUB) {
        o->pub_len = 65;
        rv = btc_ckd_pub(&grp, r, k->pub.p, k->pub.len, o->pub, o->cc);
    } else if ((rv = btc_ckd_priv(ed ? NULL : &grp, r, k->priv, o->k, o->cc)) == CKR_OK) {
        rv = btc_public(ed ? NULL : &grp, o);
    }
out:
    group_close(&grp);
    return rv;
}

CK_RV btc_derive(engine *e, const engine_mech *m, const CK_ATTRIBUTE *tin, CK_ULONG n,
                 engine_bytes base, engine_buf *key_blob, engine_buf *checksum)
{
    CK_RV rv;
    btc_req r;
    tmpl t;
    CK_ATTRIBUTE keep[TMPL_MAX_DEFS];
    key_obj seed;
    pkey parent;
    btc_out o;

    memset(&seed, 0, sizeof(seed));
    memset(&parent, 0, sizeof(parent));
    memset(&o, 0, sizeof(o));
    if ((rv = btc_param(m, &r)) != CKR_OK)
        return rv;
    o.is_private = r.op == OP_MASTER || r.op == OP_PRV2PRV;
    rv = btc_template(tin, n, o.is_private ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY, keep, &t);
    if (rv != CKR_OK)
        return rv;
    rv = r.op == OP_MASTER ? btc_from_seed(e, &r, &t, base, &seed, &o)
                           : btc_from_parent(e, &r, base, &parent, &o);
    if (rv == CKR_OK)
        rv = btc_emit(e, &t, r.op == OP_MASTER ? &seed : &parent.obj, &o, key_blob, checksum);
    OPENSSL_cleanse(&o, sizeof(o));
    key_obj_clear(&seed);
    pkey_clear(&parent);
    return rv;
}
