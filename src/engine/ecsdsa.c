/* EC-Schnorr signatures: CKM_IBM_ECDSA_OTHER with IBM's ECSGParm, on the
 * 256-bit Weierstrass curves (P-256, secp256k1, brainpoolP256r1; IBM offers
 * no other size). Two variants, both SHA-256 over the whole message (no
 * pre-hash), signature r || s with 32 bytes each (README "EC-Schnorr"):
 *
 *   ECSG_IBM_ECSDSA_S256 — BSI TR-03111 / ISO/IEC 14888-3 EC-SDSA:
 *     Q = kG, r = SHA-256(x_Q || y_Q || M), e = OS2I(r) mod n,
 *     s = (k + e·d) mod n; verify Q' = sG − eP, r == SHA-256(x_Q' || y_Q' || M).
 *   ECSG_IBM_ECSDSA_COMPR_MULTI — the scheme IBM's examples check with the
 *     Zilliqa SDK: Q = kG, r = SHA-256(comp(Q) || comp(P) || M) mod n,
 *     s = (k − r·d) mod n; verify Q' = sG + rP, r == SHA-256(comp(Q') ||
 *     comp(P) || M) mod n.
 *
 * Both are s = k + c·d with a public c (e, or n − r), so the secret
 * arithmetic is one shape: kG is EC_POINT_mul with a BN_FLG_CONSTTIME
 * scalar (OpenSSL's constant-time ladder), c·d a Montgomery product and
 * k + c·d OpenSSL's fixed-top modular addition, every secret BIGNUM flagged
 * BN_FLG_CONSTTIME. k and d in a BIGNUM outlive nothing: k with d gives
 * the key (d = (s − k)/c), so they are cleared (BN_clear_free) on every
 * path. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/objects.h>

#include "sig.h"

#define ES_LEN 32u  /* scalar, coordinate and SHA-256 length */
#define ES_TRIES 16 /* a zero e or s needs a new k; each happens with p ~ 2^-224 or less */

typedef struct {
    EC_GROUP *g;
    BN_CTX *bn;
    BN_MONT_CTX *mont; /* modulo the order, for c·d */
    EC_POINT *p;       /* the signer's public point */
} es_group;

bool ecsdsa_curve_ok(const pkey *k)
{
    return k->alg == PK_EC && k->curve != NULL && k->curve->bits == 256 &&
           k->curve->priv_len == ES_LEN;
}

static void es_close(es_group *eg)
{
    EC_POINT_free(eg->p);
    BN_MONT_CTX_free(eg->mont);
    BN_CTX_free(eg->bn);
    EC_GROUP_free(eg->g);
}

static CK_RV es_open(const pkey *k, es_group *eg)
{
    memset(eg, 0, sizeof(*eg));
    if (!ecsdsa_curve_ok(k))
        return CKR_KEY_TYPE_INCONSISTENT;
    eg->g = EC_GROUP_new_by_curve_name(OBJ_sn2nid(k->curve->ossl));
    eg->bn = BN_CTX_secure_new();
    eg->mont = BN_MONT_CTX_new();
    if (eg->g == NULL || eg->bn == NULL || eg->mont == NULL ||
        BN_MONT_CTX_set(eg->mont, EC_GROUP_get0_order(eg->g), eg->bn) != 1 ||
        (eg->p = EC_POINT_new(eg->g)) == NULL)
        return CKR_HOST_MEMORY;
    /* The SPKI's point was checked on the curve when the key was loaded. */
    if (EC_POINT_oct2point(eg->g, eg->p, k->pub.p, k->pub.len, eg->bn) != 1)
        return CKR_KEY_HANDLE_INVALID;
    return CKR_OK;
}

static bool put_point(const es_group *eg, const EC_POINT *q, point_conversion_form_t f,
                      hash_ctx *hc)
{
    uint8_t o[1 + 2 * ES_LEN];
    size_t want = f == POINT_CONVERSION_COMPRESSED ? 1 + ES_LEN : 1 + 2 * ES_LEN;
    if (EC_POINT_point2oct(eg->g, q, f, o, sizeof(o), eg->bn) != want)
        return false;
    /* EC-SDSA hashes FE2OS(x) || FE2OS(y): the uncompressed form without 0x04. */
    if (f == POINT_CONVERSION_UNCOMPRESSED)
        hash_update(hc, o + 1, 2 * ES_LEN);
    else
        hash_update(hc, o, want);
    return true;
}

/* The challenge of commitment q: its 32 signature bytes r and the integer
 * e = r mod n (S256: r is the hash itself; COMPR_MULTI: r is the reduced
 * hash). *zero: e = 0, which no signature may use. */
static CK_RV es_challenge(const es_group *eg, CK_ULONG variant, const EC_POINT *q,
                          const uint8_t *msg, size_t n, uint8_t r[ES_LEN], BIGNUM *e, bool *zero)
{
    hash_ctx hc;
    bool ok;
    uint8_t h[ES_LEN];

    if (!hash_init(&hc, H_SHA256))
        return CKR_FUNCTION_FAILED;
    if (variant == ECSG_IBM_ECSDSA_S256)
        ok = put_point(eg, q, POINT_CONVERSION_UNCOMPRESSED, &hc);
    else
        ok = put_point(eg, q, POINT_CONVERSION_COMPRESSED, &hc) &&
             put_point(eg, eg->p, POINT_CONVERSION_COMPRESSED, &hc);
    hash_update(&hc, msg, n);
    hash_final(&hc, h);
    if (!ok || BN_bin2bn(h, ES_LEN, e) == NULL ||
        BN_nnmod(e, e, EC_GROUP_get0_order(eg->g), eg->bn) != 1)
        return CKR_FUNCTION_FAILED;
    *zero = BN_is_zero(e);
    if (variant == ECSG_IBM_ECSDSA_S256)
        memcpy(r, h, ES_LEN);
    else if (BN_bn2binpad(e, r, ES_LEN) != ES_LEN)
        return CKR_FUNCTION_FAILED;
    return CKR_OK;
}

/* One attempt with nonce kn (0 < kn < n, BN_FLG_CONSTTIME): r || s into
 * out, or *again when e or s came out zero. */
static CK_RV es_sign_with(const es_group *eg, const pkey *k, CK_ULONG variant, const BIGNUM *kn,
                          const uint8_t *msg, size_t n, uint8_t out[2 * ES_LEN], bool *again)
{
    CK_RV rv = CKR_HOST_MEMORY;
    const BIGNUM *ord = EC_GROUP_get0_order(eg->g);
    EC_POINT *q = EC_POINT_new(eg->g);
    BIGNUM *e = BN_new(), *c = BN_new();
    BIGNUM *d = BN_secure_new(), *dm = BN_secure_new(), *cd = BN_secure_new(), *s = BN_secure_new();
    bool zero = false;

    *again = false;
    if (q == NULL || e == NULL || c == NULL || d == NULL || dm == NULL || cd == NULL || s == NULL)
        goto out;
    BN_set_flags(d, BN_FLG_CONSTTIME);
    BN_set_flags(dm, BN_FLG_CONSTTIME);
    BN_set_flags(cd, BN_FLG_CONSTTIME);
    BN_set_flags(s, BN_FLG_CONSTTIME);
    rv = CKR_FUNCTION_FAILED;
    if (BN_bin2bn(k->priv, ES_LEN, d) == NULL ||
        EC_POINT_mul(eg->g, q, kn, NULL, NULL, eg->bn) != 1)
        goto out;
    if ((rv = es_challenge(eg, variant, q, msg, n, out, e, &zero)) != CKR_OK)
        goto out;
    rv = CKR_FUNCTION_FAILED;
    if (zero) {
        *again = true;
        rv = CKR_OK;
        goto out;
    }
    /* c is public (it is in the signature): e, or n − e for s = k − e·d. */
    if (!(variant == ECSG_IBM_ECSDSA_S256 ? BN_copy(c, e) != NULL : BN_sub(c, ord, e) == 1))
        goto out;
    if (BN_to_montgomery(dm, d, eg->mont, eg->bn) != 1 ||
        BN_mod_mul_montgomery(cd, dm, c, eg->mont, eg->bn) != 1 ||
        BN_mod_add_quick(s, kn, cd, ord) != 1)
        goto out;
    if (BN_is_zero(s)) {
        *again = true;
        rv = CKR_OK;
        goto out;
    }
    rv = BN_bn2binpad(s, out + ES_LEN, ES_LEN) == ES_LEN ? CKR_OK : CKR_FUNCTION_FAILED;
out:
    EC_POINT_free(q);
    BN_free(e);
    BN_free(c);
    BN_clear_free(d);
    BN_clear_free(dm);
    BN_clear_free(cd);
    BN_clear_free(s);
    return rv;
}

static CK_RV es_emit(const uint8_t rs[2 * ES_LEN], engine_buf *sig)
{
    CK_RV rv = ebuf_alloc(sig, 2 * ES_LEN);
    if (rv == CKR_OK)
        memcpy(sig->ptr, rs, 2 * ES_LEN);
    return rv;
}

/* Signs with the given nonce, or (nonce NULL) with fresh ones until e and
 * s are non-zero. */
static CK_RV es_sign(const pkey *k, CK_ULONG variant, const uint8_t *nonce, const uint8_t *msg,
                     size_t n, engine_buf *sig)
{
    CK_RV rv;
    es_group eg;
    BIGNUM *kn = BN_secure_new();
    uint8_t rs[2 * ES_LEN];
    bool again = true;

    if ((rv = es_open(k, &eg)) != CKR_OK)
        goto out;
    if (kn == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    BN_set_flags(kn, BN_FLG_CONSTTIME);
    for (int i = 0; i < (nonce ? 1 : ES_TRIES) && again && rv == CKR_OK; i++) {
        if (nonce != NULL) {
            if (BN_bin2bn(nonce, ES_LEN, kn) == NULL || BN_cmp(kn, EC_GROUP_get0_order(eg.g)) >= 0)
                rv = CKR_ARGUMENTS_BAD;
        } else if (BN_priv_rand_range_ex(kn, EC_GROUP_get0_order(eg.g), 0, eg.bn) != 1) {
            /* k uniform in [0, n) from the private DRBG (as ECDSA's nonces) */
            rv = CKR_FUNCTION_FAILED;
        }
        if (rv == CKR_OK && BN_is_zero(kn))
            rv = nonce ? CKR_ARGUMENTS_BAD : CKR_OK; /* a drawn zero is drawn again */
        else if (rv == CKR_OK)
            rv = es_sign_with(&eg, k, variant, kn, msg, n, rs, &again);
    }
    if (rv == CKR_OK)
        rv = again ? CKR_FUNCTION_FAILED : es_emit(rs, sig);
out:
    OPENSSL_cleanse(rs, sizeof(rs));
    BN_clear_free(kn);
    es_close(&eg);
    return rv;
}

CK_RV ecsdsa_sign(const pkey *k, CK_ULONG variant, const uint8_t *msg, size_t n, engine_buf *sig)
{
    return es_sign(k, variant, NULL, msg, n, sig);
}

CK_RV ecsdsa_sign_k(const pkey *k, CK_ULONG variant, const uint8_t nonce[32], const uint8_t *msg,
                    size_t n, engine_buf *sig)
{
    return es_sign(k, variant, nonce, msg, n, sig);
}

CK_RV ecsdsa_verify(const pkey *k, CK_ULONG variant, const uint8_t *msg, size_t n,
                    const uint8_t *sig, size_t slen)
{
    CK_RV rv;
    es_group eg;
    EC_POINT *q = NULL;
    BIGNUM *r = BN_new(), *s = BN_new(), *c = BN_new(), *e = BN_new();
    const BIGNUM *ord;
    uint8_t r2[ES_LEN];
    bool zero = false;

    if (slen != 2 * ES_LEN) {
        memset(&eg, 0, sizeof(eg));
        rv = CKR_SIGNATURE_LEN_RANGE;
        goto out;
    }
    if ((rv = es_open(k, &eg)) != CKR_OK)
        goto out;
    rv = CKR_HOST_MEMORY;
    if (r == NULL || s == NULL || c == NULL || e == NULL || (q = EC_POINT_new(eg.g)) == NULL ||
        BN_bin2bn(sig, ES_LEN, r) == NULL || BN_bin2bn(sig + ES_LEN, ES_LEN, s) == NULL)
        goto out;
    ord = EC_GROUP_get0_order(eg.g);
    /* 0 < s < n; the challenge must not be 0 mod n (S256 reduces r, as
     * ISO 14888-3 does; COMPR_MULTI's r is already reduced, so r >= n is
     * no signature of it). */
    rv = CKR_SIGNATURE_INVALID;
    if (BN_is_zero(s) || BN_cmp(s, ord) >= 0 ||
        (variant != ECSG_IBM_ECSDSA_S256 && BN_cmp(r, ord) >= 0))
        goto out;
    if (BN_nnmod(c, r, ord, eg.bn) != 1) {
        rv = CKR_FUNCTION_FAILED;
        goto out;
    }
    if (BN_is_zero(c))
        goto out;
    /* Q' = sG − eP for S256 (c = n − e), sG + rP for COMPR_MULTI. */
    if ((variant == ECSG_IBM_ECSDSA_S256 && BN_sub(c, ord, c) != 1) ||
        EC_POINT_mul(eg.g, q, s, eg.p, c, eg.bn) != 1) {
        rv = CKR_FUNCTION_FAILED;
        goto out;
    }
    if (EC_POINT_is_at_infinity(eg.g, q))
        goto out;
    if ((rv = es_challenge(&eg, variant, q, msg, n, r2, e, &zero)) != CKR_OK)
        goto out;
    rv = CRYPTO_memcmp(r2, sig, ES_LEN) == 0 ? CKR_OK : CKR_SIGNATURE_INVALID;
out:
    EC_POINT_free(q);
    BN_free(r);
    BN_free(s);
    BN_free(c);
    BN_free(e);
    es_close(&eg);
    return rv;
}
