/* Key pairs through pkcs11-grep11.so (engine II): C_GenerateKeyPair for
 * EC (CKA_EC_PARAMS as OID and as curve name), Ed25519, RSA and ML-DSA;
 * public attributes from the server; C_Sign/C_Verify (one-shot and
 * multi-part) checked against OpenSSL where it can, RSA encrypt/decrypt
 * both ways, ECDH (CK_ECDH1_DERIVE_PARAMS) against OpenSSL's. Skipped when the server does not
 * offer the mechanisms. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grep11/ck_ext.h"
#include "p11test.h"

typedef p11t_fx fx;

/* PKCS #11 3.2 CK_SIGN_ADDITIONAL_CONTEXT */
typedef struct {
    CK_ULONG hedgeVariant;
    CK_BYTE_PTR pContext;
    CK_ULONG ulContextLen;
} sign_context;

static const CK_BBOOL yes = CK_TRUE;
static const CK_BYTE P256_OID[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const CK_BYTE ED25519_OID[] = {0x06, 0x03, 0x2b, 0x65, 0x70};

#define NEED(f, m)                                                                                 \
    do {                                                                                           \
        if (!p11t_offered(&(f)->t, (m)))                                                           \
            skip();                                                                                \
    } while (0)

static void pair(fx *f, CK_MECHANISM_TYPE gen, CK_ATTRIBUTE *pub, CK_ULONG npub, CK_ATTRIBUTE *priv,
                 CK_ULONG npriv, CK_OBJECT_HANDLE *hpub, CK_OBJECT_HANDLE *hpriv)
{
    CK_MECHANISM m = {gen, NULL, 0};
    assert_int_equal(f->t.f->C_GenerateKeyPair(f->s, &m, pub, npub, priv, npriv, hpub, hpriv),
                     CKR_OK);
}

/* An attribute, malloc'd (*len its length). */
static CK_BYTE *attr(fx *f, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, CK_ULONG *len)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, h, &a, 1), CKR_OK);
    a.pValue = malloc(a.ulValueLen + 1);
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, h, &a, 1), CKR_OK);
    *len = a.ulValueLen;
    return a.pValue;
}

/* The public key as OpenSSL sees it (CKA_PUBLIC_KEY_INFO). */
static EVP_PKEY *ossl_pub(fx *f, CK_OBJECT_HANDLE h)
{
    CK_ULONG len;
    CK_BYTE *spki = attr(f, h, CKA_PUBLIC_KEY_INFO, &len);
    const unsigned char *p = spki;
    EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)len);
    free(spki);
    assert_non_null(k);
    return k;
}

static CK_ULONG sign(fx *f, CK_MECHANISM *m, CK_OBJECT_HANDLE k, const CK_BYTE *msg, CK_ULONG n,
                     CK_BYTE *sig)
{
    CK_ULONG len = 0;
    assert_int_equal(f->t.f->C_SignInit(f->s, m, k), CKR_OK);
    assert_int_equal(f->t.f->C_Sign(f->s, (CK_BYTE *)msg, n, NULL, &len), CKR_OK);
    assert_int_equal(f->t.f->C_Sign(f->s, (CK_BYTE *)msg, n, sig, &len), CKR_OK);
    return len;
}

static CK_RV verify(fx *f, CK_MECHANISM *m, CK_OBJECT_HANDLE k, const CK_BYTE *msg, CK_ULONG n,
                    CK_BYTE *sig, CK_ULONG slen)
{
    assert_int_equal(f->t.f->C_VerifyInit(f->s, m, k), CKR_OK);
    return f->t.f->C_Verify(f->s, (CK_BYTE *)msg, n, sig, slen);
}

static const CK_BYTE MSG[] = "grep11 key pairs through PKCS #11";

/* An Edwards signature of MSG, checked by OpenSSL with k. */
static void ossl_ed_verifies(EVP_PKEY *k, const CK_BYTE *sig, CK_ULONG slen)
{
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(mc, NULL, NULL, NULL, k), 1);
    assert_int_equal(EVP_DigestVerify(mc, sig, slen, MSG, sizeof(MSG)), 1);
    EVP_MD_CTX_free(mc);
}

/* priv signs MSG with CKM_EDDSA; pub verifies it, and so does OpenSSL
 * with the public key's CKA_PUBLIC_KEY_INFO. */
static void ed_sign_checked(fx *f, CK_OBJECT_HANDLE pub, CK_OBJECT_HANDLE priv)
{
    CK_MECHANISM ed = {CKM_EDDSA, NULL, 0};
    CK_BYTE sig[128];
    CK_ULONG slen = sign(f, &ed, priv, MSG, sizeof(MSG), sig);
    assert_int_equal(slen, 64);
    assert_int_equal(verify(f, &ed, pub, MSG, sizeof(MSG), sig, slen), CKR_OK);
    EVP_PKEY *k = ossl_pub(f, pub);
    ossl_ed_verifies(k, sig, slen);
    EVP_PKEY_free(k);
}

static void ec_p256(void **state)
{
    fx *f = *state;
    NEED(f, CKM_EC_KEY_PAIR_GEN);
    CK_OBJECT_HANDLE pub, priv;
    CK_ATTRIBUTE tp[] = {{CKA_EC_PARAMS, (void *)P256_OID, sizeof(P256_OID)},
                         {CKA_LABEL, "ec", 2},
                         {CKA_VERIFY, (void *)&yes, 1}};
    CK_ATTRIBUTE tk[] = {{CKA_LABEL, "ec", 2}, {CKA_SIGN, (void *)&yes, 1}, {CKA_ID, "\x01", 1}};
    pair(f, CKM_EC_KEY_PAIR_GEN, tp, 3, tk, 3, &pub, &priv);
    /* Public attributes from the server. */
    CK_ULONG len;
    CK_BYTE *v = attr(f, pub, CKA_EC_POINT, &len);
    assert_int_equal(len, 67); /* OCTET STRING of an uncompressed P-256 point */
    assert_int_equal(v[0], 0x04);
    assert_int_equal(v[2], 0x04);
    free(v);
    v = attr(f, priv, CKA_EC_PARAMS, &len);
    assert_int_equal(len, sizeof(P256_OID));
    assert_memory_equal(v, P256_OID, len);
    free(v);
    CK_OBJECT_CLASS cls;
    CK_KEY_TYPE kt;
    CK_BBOOL sens, local;
    CK_ATTRIBUTE q[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_SENSITIVE, &sens, 1},
                        {CKA_LOCAL, &local, 1}};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, priv, q, 4), CKR_OK);
    assert_int_equal(cls, CKO_PRIVATE_KEY);
    assert_int_equal(kt, CKK_EC);
    assert_true(sens);
    assert_true(local);
    CK_BYTE buf[16];
    CK_ATTRIBUTE value = {CKA_VALUE, buf, sizeof(buf)};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, priv, &value, 1), CKR_ATTRIBUTE_SENSITIVE);

    /* ECDSA over a SHA-256 digest, checked by OpenSSL. */
    CK_BYTE digest[32], sig[128];
    EVP_Digest(MSG, sizeof(MSG), digest, NULL, EVP_sha256(), NULL);
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    CK_ULONG slen = sign(f, &ecdsa, priv, digest, 32, sig);
    assert_int_equal(slen, 64);
    assert_int_equal(verify(f, &ecdsa, pub, digest, 32, sig, slen), CKR_OK);
    ECDSA_SIG *es = ECDSA_SIG_new();
    ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
    unsigned char der[80], *dp = der;
    int dlen = i2d_ECDSA_SIG(es, &dp);
    ECDSA_SIG_free(es);
    EVP_PKEY *k = ossl_pub(f, pub);
    EVP_PKEY_CTX *vc = EVP_PKEY_CTX_new(k, NULL);
    assert_int_equal(EVP_PKEY_verify_init(vc), 1);
    assert_int_equal(EVP_PKEY_verify(vc, der, (size_t)dlen, digest, 32), 1);
    EVP_PKEY_CTX_free(vc);
    EVP_PKEY_free(k);
    sig[5] ^= 1;
    assert_int_equal(verify(f, &ecdsa, pub, digest, 32, sig, slen), CKR_SIGNATURE_INVALID);

    /* CKM_ECDSA_SHA256 in parts equals the one-shot verification. */
    CK_MECHANISM ecdsa256 = {CKM_ECDSA_SHA256, NULL, 0};
    assert_int_equal(f->t.f->C_SignInit(f->s, &ecdsa256, priv), CKR_OK);
    assert_int_equal(f->t.f->C_SignUpdate(f->s, (CK_BYTE *)MSG, 10), CKR_OK);
    assert_int_equal(f->t.f->C_SignUpdate(f->s, (CK_BYTE *)MSG + 10, sizeof(MSG) - 10), CKR_OK);
    slen = sizeof(sig);
    assert_int_equal(f->t.f->C_SignFinal(f->s, sig, &slen), CKR_OK);
    assert_int_equal(verify(f, &ecdsa256, pub, MSG, sizeof(MSG), sig, slen), CKR_OK);
    /* A public key does not sign, a private one does not verify. */
    assert_int_equal(f->t.f->C_SignInit(f->s, &ecdsa, pub), CKR_KEY_FUNCTION_NOT_PERMITTED);
    CK_MECHANISM ed = {CKM_EDDSA, NULL, 0};
    assert_int_equal(f->t.f->C_SignInit(f->s, &ed, priv), CKR_KEY_TYPE_INCONSISTENT);
}

/* A generic secret derived on the token (session object, readable value). */
static CK_RV ecdh(fx *f, CK_MECHANISM *m, CK_OBJECT_HANDLE priv, CK_BYTE *out, CK_ULONG len)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
    CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_VALUE_LEN, &len, sizeof(len)},
                        {CKA_SENSITIVE, &no, 1},
                        {CKA_EXTRACTABLE, (void *)&yes, 1}};
    CK_OBJECT_HANDLE h;
    CK_RV rv = f->t.f->C_DeriveKey(f->s, m, priv, t, 5, &h);
    if (rv != CKR_OK)
        return rv;
    CK_ATTRIBUTE v = {CKA_VALUE, out, len};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, h, &v, 1), CKR_OK);
    assert_int_equal(v.ulValueLen, len);
    return CKR_OK;
}

/* CKM_ECDH1_DERIVE with CK_ECDH1_DERIVE_PARAMS as applications send it (the
 * libp11 engine, NSS): Z with CKD_NULL and the X9.63 KDF with CKD_SHA256_KDF,
 * each equal to OpenSSL's on the other side. */
static void ecdh_p256(void **state)
{
    fx *f = *state;
    NEED(f, CKM_ECDH1_DERIVE);
    CK_OBJECT_HANDLE pub, priv;
    CK_ATTRIBUTE tp[] = {{CKA_EC_PARAMS, (void *)P256_OID, sizeof(P256_OID)}};
    CK_ATTRIBUTE tk[] = {{CKA_DERIVE, (void *)&yes, 1}};
    pair(f, CKM_EC_KEY_PAIR_GEN, tp, 1, tk, 1, &pub, &priv);

    /* The peer, and Z as OpenSSL computes it with the token's public key. */
    EVP_PKEY *peer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(peer);
    CK_BYTE point[65], z[32], want[32];
    size_t plen = 0, zlen = sizeof(z);
    assert_int_equal(EVP_PKEY_get_octet_string_param(peer, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                                     point, sizeof(point), &plen),
                     1);
    assert_int_equal(plen, 65);
    EVP_PKEY *tok = ossl_pub(f, pub);
    EVP_PKEY_CTX *dc = EVP_PKEY_CTX_new(peer, NULL);
    assert_int_equal(EVP_PKEY_derive_init(dc), 1);
    assert_int_equal(EVP_PKEY_derive_set_peer(dc, tok), 1);
    assert_int_equal(EVP_PKEY_derive(dc, z, &zlen), 1);
    assert_int_equal(zlen, 32);
    EVP_PKEY_CTX_free(dc);
    EVP_PKEY_free(tok);
    EVP_PKEY_free(peer);

    CK_ECDH1_DERIVE_PARAMS p = {CKD_NULL, 0, NULL, sizeof(point), point};
    CK_MECHANISM m = {CKM_ECDH1_DERIVE, &p, sizeof(p)};
    CK_BYTE got[32];
    assert_int_equal(ecdh(f, &m, priv, got, 32), CKR_OK);
    assert_memory_equal(got, z, 32);

    /* CKD_SHA256_KDF with shared data: SHA-256(Z || counter || shared). */
    static const CK_BYTE shared[] = "grep11 ecdh";
    p.kdf = CKD_SHA256_KDF, p.pSharedData = (CK_BYTE *)shared, p.ulSharedDataLen = 11;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "X963KDF", NULL);
    EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);
    OSSL_PARAM kp[] = {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
                       OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, z, 32),
                       OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)shared, 11),
                       OSSL_PARAM_construct_end()};
    assert_int_equal(EVP_KDF_derive(kc, want, 32, kp), 1);
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(kdf);
    assert_int_equal(ecdh(f, &m, priv, got, 32), CKR_OK);
    assert_memory_equal(got, want, 32);

    /* A parameter that is not a CK_ECDH1_DERIVE_PARAMS, or has no peer. */
    m.ulParameterLen = sizeof(p) - 1;
    assert_int_equal(ecdh(f, &m, priv, got, 32), CKR_MECHANISM_PARAM_INVALID);
    m.ulParameterLen = sizeof(p);
    p.pPublicData = NULL;
    assert_int_equal(ecdh(f, &m, priv, got, 32), CKR_MECHANISM_PARAM_INVALID);
}

static void ec_params_by_name(void **state)
{
    fx *f = *state;
    NEED(f, CKM_EC_KEY_PAIR_GEN);
    CK_OBJECT_HANDLE pub, priv;
    CK_ATTRIBUTE tp[] = {{CKA_EC_PARAMS, "P-256", 5}};
    pair(f, CKM_EC_KEY_PAIR_GEN, tp, 1, NULL, 0, &pub, &priv);
    CK_ULONG len;
    CK_BYTE *v = attr(f, pub, CKA_EC_PARAMS, &len);
    assert_int_equal(len, sizeof(P256_OID));
    assert_memory_equal(v, P256_OID, len);
    free(v);
    CK_ATTRIBUTE bad[] = {{CKA_EC_PARAMS, "P-255", 5}};
    CK_MECHANISM m = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    assert_int_equal(f->t.f->C_GenerateKeyPair(f->s, &m, bad, 1, NULL, 0, &pub, &priv),
                     CKR_CURVE_NOT_SUPPORTED);
}

/* Recover usages grep11 does not support: FALSE is accepted, TRUE is a
 * value it cannot honour (CKR_ATTRIBUTE_VALUE_INVALID, as pkcs11test
 * expects), on both halves of a pair. */
static void recover_usages(void **state)
{
    fx *f = *state;
    NEED(f, CKM_EC_KEY_PAIR_GEN);
    CK_OBJECT_HANDLE pub, priv;
    CK_BBOOL no = CK_FALSE, on = CK_TRUE;
    CK_ATTRIBUTE tp[] = {{CKA_EC_PARAMS, (void *)P256_OID, sizeof(P256_OID)},
                         {CKA_VERIFY_RECOVER, &no, sizeof(no)}};
    CK_ATTRIBUTE tk[] = {{CKA_SIGN_RECOVER, &no, sizeof(no)}};
    pair(f, CKM_EC_KEY_PAIR_GEN, tp, 2, tk, 1, &pub, &priv);
    CK_MECHANISM m = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    tp[1].pValue = &on;
    assert_int_equal(f->t.f->C_GenerateKeyPair(f->s, &m, tp, 2, tk, 1, &pub, &priv),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    tp[1].pValue = &no;
    tk[0].pValue = &on;
    assert_int_equal(f->t.f->C_GenerateKeyPair(f->s, &m, tp, 2, tk, 1, &pub, &priv),
                     CKR_ATTRIBUTE_VALUE_INVALID);
}

static void ed25519(void **state)
{
    fx *f = *state;
    NEED(f, CKM_EC_EDWARDS_KEY_PAIR_GEN);
    CK_OBJECT_HANDLE pub, priv;
    CK_ATTRIBUTE tp[] = {{CKA_EC_PARAMS, (void *)ED25519_OID, sizeof(ED25519_OID)}};
    pair(f, CKM_EC_EDWARDS_KEY_PAIR_GEN, tp, 1, NULL, 0, &pub, &priv);
    ed_sign_checked(f, pub, priv);
}

static void rsa_2048(void **state)
{
    fx *f = *state;
    NEED(f, CKM_RSA_PKCS_KEY_PAIR_GEN);
    CK_OBJECT_HANDLE pub, priv;
    CK_ULONG bits = 2048;
    CK_BYTE e[] = {1, 0, 1};
    CK_ATTRIBUTE tp[] = {{CKA_MODULUS_BITS, &bits, sizeof(bits)},
                         {CKA_PUBLIC_EXPONENT, e, sizeof(e)}};
    pair(f, CKM_RSA_PKCS_KEY_PAIR_GEN, tp, 2, NULL, 0, &pub, &priv);
    CK_ULONG len;
    CK_BYTE *n = attr(f, pub, CKA_MODULUS, &len);
    assert_int_equal(len, 256);
    free(n);
    n = attr(f, priv, CKA_MODULUS, &len);
    assert_int_equal(len, 256);
    free(n);

    /* SHA256-RSA-PKCS, checked by OpenSSL. */
    CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
    CK_BYTE sig[512];
    CK_ULONG slen = sign(f, &m, priv, MSG, sizeof(MSG), sig);
    assert_int_equal(slen, 256);
    assert_int_equal(verify(f, &m, pub, MSG, sizeof(MSG), sig, slen), CKR_OK);
    EVP_PKEY *k = ossl_pub(f, pub);
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(mc, NULL, EVP_sha256(), NULL, k), 1);
    assert_int_equal(EVP_DigestVerify(mc, sig, slen, MSG, sizeof(MSG)), 1);
    EVP_MD_CTX_free(mc);

    /* PSS */
    CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_MECHANISM mp = {CKM_SHA256_RSA_PKCS_PSS, &pss, sizeof(pss)};
    slen = sign(f, &mp, priv, MSG, sizeof(MSG), sig);
    assert_int_equal(verify(f, &mp, pub, MSG, sizeof(MSG), sig, slen), CKR_OK);

    /* OAEP: the module's public key, and OpenSSL's encryption, decrypted by the module. */
    CK_RSA_PKCS_OAEP_PARAMS oaep = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
    CK_MECHANISM mo = {CKM_RSA_PKCS_OAEP, &oaep, sizeof(oaep)};
    CK_BYTE ct[256], pt[256];
    CK_ULONG clen = sizeof(ct), plen = sizeof(pt);
    assert_int_equal(f->t.f->C_EncryptInit(f->s, &mo, pub), CKR_OK);
    assert_int_equal(f->t.f->C_Encrypt(f->s, (CK_BYTE *)MSG, sizeof(MSG), ct, &clen), CKR_OK);
    assert_int_equal(clen, 256);
    assert_int_equal(f->t.f->C_DecryptInit(f->s, &mo, priv), CKR_OK);
    assert_int_equal(f->t.f->C_Decrypt(f->s, ct, clen, pt, &plen), CKR_OK);
    assert_int_equal(plen, sizeof(MSG));
    assert_memory_equal(pt, MSG, plen);
    EVP_PKEY_CTX *ec = EVP_PKEY_CTX_new(k, NULL);
    size_t olen = sizeof(ct);
    assert_int_equal(EVP_PKEY_encrypt_init(ec), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ec, RSA_PKCS1_PADDING), 1);
    assert_int_equal(EVP_PKEY_encrypt(ec, ct, &olen, MSG, sizeof(MSG)), 1);
    EVP_PKEY_CTX_free(ec);
    EVP_PKEY_free(k);
    CK_MECHANISM mpk = {CKM_RSA_PKCS, NULL, 0};
    plen = sizeof(pt);
    assert_int_equal(f->t.f->C_DecryptInit(f->s, &mpk, priv), CKR_OK);
    assert_int_equal(f->t.f->C_Decrypt(f->s, ct, (CK_ULONG)olen, pt, &plen), CKR_OK);
    assert_int_equal(plen, sizeof(MSG));
    assert_memory_equal(pt, MSG, plen);
}

static void ml_dsa(void **state)
{
    fx *f = *state;
    NEED(f, CKM_ML_DSA_KEY_PAIR_GEN);
    CK_OBJECT_HANDLE pub, priv;
    CK_ULONG set = CKP_ML_DSA_65;
    CK_ATTRIBUTE tp[] = {{CKA_PARAMETER_SET, &set, sizeof(set)}};
    pair(f, CKM_ML_DSA_KEY_PAIR_GEN, tp, 1, NULL, 0, &pub, &priv);
    CK_ULONG len;
    CK_BYTE *v = attr(f, pub, CKA_VALUE, &len);
    assert_int_equal(len, 1952); /* the raw ML-DSA-65 public key */
    free(v);
    CK_MECHANISM m = {CKM_ML_DSA, NULL, 0};
    CK_BYTE *sig = malloc(8192);
    CK_ULONG slen = sign(f, &m, priv, MSG, sizeof(MSG), sig);
    assert_int_equal(slen, 3309);
    assert_int_equal(verify(f, &m, pub, MSG, sizeof(MSG), sig, slen), CKR_OK);
    /* With a context, which must then match. */
    sign_context ctx = {CKH_HEDGE_PREFERRED, (CK_BYTE *)"ctx", 3};
    CK_MECHANISM mc = {CKM_ML_DSA, &ctx, sizeof(ctx)};
    slen = sign(f, &mc, priv, MSG, sizeof(MSG), sig);
    assert_int_equal(verify(f, &mc, pub, MSG, sizeof(MSG), sig, slen), CKR_OK);
    assert_int_equal(verify(f, &m, pub, MSG, sizeof(MSG), sig, slen), CKR_SIGNATURE_INVALID);
    free(sig);
}

/* ---- clear keys from OpenSSL through C_CreateObject ---------------------------- */

static CK_BYTE *bn_bytes(const EVP_PKEY *k, const char *name, CK_ULONG *len)
{
    BIGNUM *bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(k, name, &bn), 1);
    CK_BYTE *p = malloc((size_t)BN_num_bytes(bn) + 1);
    *len = (CK_ULONG)BN_bn2bin(bn, p);
    BN_clear_free(bn);
    return p;
}

/* r || s (32 bytes each) of a DER ECDSA signature. */
static void ecdsa_raw(const unsigned char *der, size_t len, CK_BYTE out[64])
{
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
    assert_non_null(es);
    BN_bn2binpad(ECDSA_SIG_get0_r(es), out, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), out + 32, 32);
    ECDSA_SIG_free(es);
}

static void import_ec(void **state)
{
    fx *f = *state;
    NEED(f, CKM_ECDSA);
    EVP_PKEY *k = EVP_EC_gen("P-256");
    assert_non_null(k);
    unsigned char point[65], der[80];
    size_t plen = 0, dlen = sizeof(der);
    assert_int_equal(
        EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &plen),
        1);
    CK_BYTE digest[32], sig[64], osig[64];
    EVP_Digest(MSG, sizeof(MSG), digest, NULL, EVP_sha256(), NULL);
    EVP_PKEY_CTX *sc = EVP_PKEY_CTX_new(k, NULL);
    assert_int_equal(EVP_PKEY_sign_init(sc), 1);
    assert_int_equal(EVP_PKEY_sign(sc, der, &dlen, digest, 32), 1);
    EVP_PKEY_CTX_free(sc);
    ecdsa_raw(der, dlen, osig);

    /* The public key, point given raw: verifies OpenSSL's signature. */
    CK_OBJECT_CLASS pc = CKO_PUBLIC_KEY, kc = CKO_PRIVATE_KEY;
    CK_KEY_TYPE kt = CKK_EC;
    CK_ATTRIBUTE pub[] = {{CKA_CLASS, &pc, sizeof(pc)},
                          {CKA_KEY_TYPE, &kt, sizeof(kt)},
                          {CKA_EC_PARAMS, (void *)P256_OID, sizeof(P256_OID)},
                          {CKA_EC_POINT, point, (CK_ULONG)plen},
                          {CKA_LABEL, "imported", 8}};
    CK_OBJECT_HANDLE hp, hk;
    assert_int_equal(f->t.f->C_CreateObject(f->s, pub, 5, &hp), CKR_OK);
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    assert_int_equal(verify(f, &ecdsa, hp, digest, 32, osig, 64), CKR_OK);
    CK_ULONG len;
    CK_BYTE *v = attr(f, hp, CKA_EC_POINT, &len);
    assert_int_equal(len, plen); /* as given */
    free(v);

    /* The private key: signs what OpenSSL verifies; its value stays inside. */
    CK_ULONG dl;
    CK_BYTE *d = bn_bytes(k, OSSL_PKEY_PARAM_PRIV_KEY, &dl);
    CK_ATTRIBUTE priv[] = {{CKA_CLASS, &kc, sizeof(kc)},
                           {CKA_KEY_TYPE, &kt, sizeof(kt)},
                           {CKA_EC_PARAMS, "P-256", 5},
                           {CKA_VALUE, d, dl},
                           {CKA_SIGN, (void *)&yes, 1}};
    assert_int_equal(f->t.f->C_CreateObject(f->s, priv, 5, &hk), CKR_OK);
    free(d);
    assert_int_equal(sign(f, &ecdsa, hk, digest, 32, sig), 64);
    assert_int_equal(verify(f, &ecdsa, hp, digest, 32, sig, 64), CKR_OK);
    CK_BYTE buf[64];
    CK_ATTRIBUTE value = {CKA_VALUE, buf, sizeof(buf)};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, hk, &value, 1), CKR_ATTRIBUTE_SENSITIVE);
    EVP_PKEY_free(k);
}

/* CKM_IBM_TRANSPORTKEY through C_UnwrapKey: the "wrapped" bytes are a
 * PKIX SPKI and no unwrapping key is used; the object is a public key the
 * server vouches for, with the SPKI's attributes, and it verifies. */
static void import_spki_with_transport_key(void **state)
{
    fx *f = *state;
    NEED(f, CKM_IBM_TRANSPORTKEY);
    EVP_PKEY *k = EVP_EC_gen("P-256");
    unsigned char *spki = NULL, der[80];
    int sl = i2d_PUBKEY(k, &spki);
    size_t dlen = sizeof(der);
    CK_BYTE digest[32], osig[64];
    EVP_Digest(MSG, sizeof(MSG), digest, NULL, EVP_sha256(), NULL);
    EVP_PKEY_CTX *sc = EVP_PKEY_CTX_new(k, NULL);
    assert_int_equal(EVP_PKEY_sign_init(sc), 1);
    assert_int_equal(EVP_PKEY_sign(sc, der, &dlen, digest, 32), 1);
    EVP_PKEY_CTX_free(sc);
    ecdsa_raw(der, dlen, osig);

    CK_MECHANISM tk = {CKM_IBM_TRANSPORTKEY, NULL, 0};
    CK_ATTRIBUTE t[] = {{CKA_VERIFY, (void *)&yes, 1}, {CKA_LABEL, "transported", 11}};
    CK_OBJECT_HANDLE hp;
    assert_int_equal(
        f->t.f->C_UnwrapKey(f->s, &tk, CK_INVALID_HANDLE, spki, (CK_ULONG)sl, t, 2, &hp), CKR_OK);
    CK_OBJECT_CLASS cls = 0;
    CK_KEY_TYPE kt = 0;
    CK_ATTRIBUTE got[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)}};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, hp, got, 2), CKR_OK);
    assert_int_equal(cls, CKO_PUBLIC_KEY);
    assert_int_equal(kt, CKK_EC);
    CK_ULONG len;
    CK_BYTE *params = attr(f, hp, CKA_EC_PARAMS, &len);
    assert_int_equal(len, sizeof(P256_OID));
    assert_memory_equal(params, P256_OID, len);
    free(params);
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    assert_int_equal(verify(f, &ecdsa, hp, digest, 32, osig, 64), CKR_OK);
    osig[3] ^= 1;
    assert_int_equal(verify(f, &ecdsa, hp, digest, 32, osig, 64), CKR_SIGNATURE_INVALID);
    /* Only a public key comes out of it. */
    CK_OBJECT_CLASS sec = CKO_SECRET_KEY;
    CK_ATTRIBUTE st[] = {{CKA_CLASS, &sec, sizeof(sec)}};
    assert_int_equal(
        f->t.f->C_UnwrapKey(f->s, &tk, CK_INVALID_HANDLE, spki, (CK_ULONG)sl, st, 1, &hp),
        CKR_TEMPLATE_INCONSISTENT);
    OPENSSL_free(spki);
    EVP_PKEY_free(k);
}

static void import_rsa(void **state)
{
    fx *f = *state;
    NEED(f, CKM_RSA_PKCS);
    EVP_PKEY *k = EVP_RSA_gen(2048);
    assert_non_null(k);
    static const char *names[8] = {OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
                                   OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
                                   OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
                                   OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
    static const CK_ATTRIBUTE_TYPE types[8] = {
        CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
        CKA_PRIME_2, CKA_EXPONENT_1,      CKA_EXPONENT_2,       CKA_COEFFICIENT};
    CK_OBJECT_CLASS kc = CKO_PRIVATE_KEY, pc = CKO_PUBLIC_KEY;
    CK_KEY_TYPE kt = CKK_RSA;
    CK_ATTRIBUTE t[10] = {{CKA_CLASS, &kc, sizeof(kc)}, {CKA_KEY_TYPE, &kt, sizeof(kt)}};
    for (int i = 0; i < 8; i++) {
        t[2 + i].type = types[i];
        t[2 + i].pValue = bn_bytes(k, names[i], &t[2 + i].ulValueLen);
    }
    CK_OBJECT_HANDLE hk, hp;
    /* Without the CRT values there is no PKCS #8 to send. */
    assert_int_equal(f->t.f->C_CreateObject(f->s, t, 5, &hk), CKR_TEMPLATE_INCOMPLETE);
    assert_int_equal(f->t.f->C_CreateObject(f->s, t, 10, &hk), CKR_OK);
    CK_ATTRIBUTE pt[] = {t[0], t[1], t[2], t[3]};
    pt[0].pValue = &pc;
    assert_int_equal(f->t.f->C_CreateObject(f->s, pt, 4, &hp), CKR_OK);
    CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
    CK_BYTE sig[256];
    CK_ULONG slen = sign(f, &m, hk, MSG, sizeof(MSG), sig);
    assert_int_equal(verify(f, &m, hp, MSG, sizeof(MSG), sig, slen), CKR_OK);
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(mc, NULL, EVP_sha256(), NULL, k), 1);
    assert_int_equal(EVP_DigestVerify(mc, sig, slen, MSG, sizeof(MSG)), 1);
    EVP_MD_CTX_free(mc);
    /* The imported public key encrypts for OpenSSL's private key. */
    CK_MECHANISM pk = {CKM_RSA_PKCS, NULL, 0};
    CK_BYTE ct[256], pt2[256];
    CK_ULONG clen = sizeof(ct);
    assert_int_equal(f->t.f->C_EncryptInit(f->s, &pk, hp), CKR_OK);
    assert_int_equal(f->t.f->C_Encrypt(f->s, (CK_BYTE *)MSG, sizeof(MSG), ct, &clen), CKR_OK);
    EVP_PKEY_CTX *dc = EVP_PKEY_CTX_new(k, NULL);
    size_t plen = sizeof(pt2);
    assert_int_equal(EVP_PKEY_decrypt_init(dc), 1);
    assert_int_equal(EVP_PKEY_decrypt(dc, pt2, &plen, ct, clen), 1);
    assert_int_equal(plen, sizeof(MSG));
    EVP_PKEY_CTX_free(dc);
    for (int i = 0; i < 8; i++)
        free(t[2 + i].pValue);
    EVP_PKEY_free(k);
}

/* Ed25519 written the IBM way (IBM's 2.40 headers have no CKK_EC_EDWARDS):
 * CKK_EC with the Ed25519 OID, made by CKM_EC_KEY_PAIR_GEN or imported
 * with C_CreateObject; such keys are Edwards keys and sign with CKM_EDDSA
 * (and IBM's CKM_IBM_ED25519_SHA512). */
static void ed25519_the_ibm_way(void **state)
{
    fx *f = *state;
    NEED(f, CKM_EDDSA);
    CK_KEY_TYPE ec = CKK_EC;
    CK_OBJECT_CLASS kc = CKO_PRIVATE_KEY, pc = CKO_PUBLIC_KEY;
    CK_OBJECT_HANDLE pub, priv;
    CK_ATTRIBUTE tp[] = {{CKA_EC_PARAMS, (void *)ED25519_OID, sizeof(ED25519_OID)},
                         {CKA_KEY_TYPE, &ec, sizeof(ec)}};
    CK_ATTRIBUTE tk[] = {{CKA_KEY_TYPE, &ec, sizeof(ec)}};
    pair(f, CKM_EC_KEY_PAIR_GEN, tp, 2, tk, 1, &pub, &priv);
    ed_sign_checked(f, pub, priv);
    CK_MECHANISM ed = {CKM_EDDSA, NULL, 0}, ibm = {CKM_IBM_ED25519_SHA512, NULL, 0};
    CK_BYTE sig[128];
    CK_ULONG slen = sign(f, &ibm, priv, MSG, sizeof(MSG), sig);
    assert_int_equal(slen, 64);
    assert_int_equal(verify(f, &ed, pub, MSG, sizeof(MSG), sig, slen), CKR_OK);

    /* imported as CKK_EC */
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(k);
    unsigned char raw[32], rawpub[32];
    size_t l = 32;
    assert_int_equal(EVP_PKEY_get_raw_private_key(k, raw, &l), 1);
    l = 32;
    assert_int_equal(EVP_PKEY_get_raw_public_key(k, rawpub, &l), 1);
    CK_ATTRIBUTE ik[] = {{CKA_CLASS, &kc, sizeof(kc)},
                         {CKA_KEY_TYPE, &ec, sizeof(ec)},
                         {CKA_EC_PARAMS, (void *)ED25519_OID, sizeof(ED25519_OID)},
                         {CKA_VALUE, raw, 32}};
    CK_ATTRIBUTE ip[] = {{CKA_CLASS, &pc, sizeof(pc)},
                         {CKA_KEY_TYPE, &ec, sizeof(ec)},
                         {CKA_EC_PARAMS, (void *)ED25519_OID, sizeof(ED25519_OID)},
                         {CKA_EC_POINT, rawpub, 32}};
    CK_OBJECT_HANDLE hk, hp;
    assert_int_equal(f->t.f->C_CreateObject(f->s, ik, 4, &hk), CKR_OK);
    assert_int_equal(f->t.f->C_CreateObject(f->s, ip, 4, &hp), CKR_OK);
    CK_KEY_TYPE got_kt = 0;
    CK_ATTRIBUTE kta = {CKA_KEY_TYPE, &got_kt, sizeof(got_kt)};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, hp, &kta, 1), CKR_OK);
    assert_int_equal(got_kt, CKK_EC_EDWARDS);
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, hk, &kta, 1), CKR_OK);
    assert_int_equal(got_kt, CKK_EC_EDWARDS);
    ed_sign_checked(f, hp, hk);
    assert_int_equal(sign(f, &ed, hk, MSG, sizeof(MSG), sig), 64);
    ossl_ed_verifies(k, sig, 64);
    EVP_PKEY_free(k);
}

static void import_ed25519(void **state)
{
    fx *f = *state;
    NEED(f, CKM_EDDSA);
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(k);
    unsigned char priv[32], pub[32];
    size_t l = 32;
    assert_int_equal(EVP_PKEY_get_raw_private_key(k, priv, &l), 1);
    l = 32;
    assert_int_equal(EVP_PKEY_get_raw_public_key(k, pub, &l), 1);
    CK_OBJECT_CLASS kc = CKO_PRIVATE_KEY, pc = CKO_PUBLIC_KEY;
    CK_KEY_TYPE kt = CKK_EC_EDWARDS;
    CK_ATTRIBUTE tk[] = {{CKA_CLASS, &kc, sizeof(kc)},
                         {CKA_KEY_TYPE, &kt, sizeof(kt)},
                         {CKA_EC_PARAMS, (void *)ED25519_OID, sizeof(ED25519_OID)},
                         {CKA_VALUE, priv, 32}};
    CK_ATTRIBUTE tp[] = {{CKA_CLASS, &pc, sizeof(pc)},
                         {CKA_KEY_TYPE, &kt, sizeof(kt)},
                         {CKA_EC_PARAMS, "edwards25519", 12},
                         {CKA_EC_POINT, pub, 32}};
    CK_OBJECT_HANDLE hk, hp;
    assert_int_equal(f->t.f->C_CreateObject(f->s, tk, 4, &hk), CKR_OK);
    assert_int_equal(f->t.f->C_CreateObject(f->s, tp, 4, &hp), CKR_OK);
    CK_MECHANISM ed = {CKM_EDDSA, NULL, 0};
    CK_BYTE sig[64];
    assert_int_equal(sign(f, &ed, hk, MSG, sizeof(MSG), sig), 64);
    assert_int_equal(verify(f, &ed, hp, MSG, sizeof(MSG), sig, 64), CKR_OK);
    ossl_ed_verifies(k, sig, 64);
    EVP_PKEY_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ec_p256),        cmocka_unit_test(ecdh_p256),
        cmocka_unit_test(recover_usages), cmocka_unit_test(ec_params_by_name),
        cmocka_unit_test(ed25519),        cmocka_unit_test(rsa_2048),
        cmocka_unit_test(ml_dsa),         cmocka_unit_test(import_ec),
        cmocka_unit_test(import_rsa),     cmocka_unit_test(import_spki_with_transport_key),
        cmocka_unit_test(import_ed25519), cmocka_unit_test(ed25519_the_ibm_way),
    };
    return cmocka_run_group_tests_name("pkcs11 key pairs", tests, p11t_fx_setup, p11t_teardown);
}
