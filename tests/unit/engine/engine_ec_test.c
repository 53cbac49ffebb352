/* Elliptic curves through the engine: ECDSA on eight curves in every flow,
 * CKA_EC_PARAMS forms, ECDH and X25519/X448, EdDSA, OpenSSL cross-checks,
 * and the Wycheproof / RFC 8032 / RFC 6979 vector files. */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "epk.h"
#include "testspki.h"
#include "vtest.h"

static const uint8_t MSG[] = "elliptic curves through a stateless HSM";

static const struct {
    const char *name;
    uint8_t oid[12];
    size_t len;
} CURVES[] = {
    {"P-224", {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x21}, 7},
    {"P-256", {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}, 10},
    {"P-384", {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22}, 7},
    {"P-521", {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23}, 7},
    {"secp256k1", {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a}, 7},
    {"brainpoolP256r1", {0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07}, 11},
    {"brainpoolP384r1", {0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0b}, 11},
    {"brainpoolP512r1", {0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0d}, 11},
};

static CK_RV ec_pair(engine *e, CK_MECHANISM_TYPE mech, const void *params, size_t plen,
                     engine_buf *priv, engine_buf *pub)
{
    etmpl tp, tv;
    et_reset(&tp);
    et_reset(&tv);
    et_bytes(&tp, CKA_EC_PARAMS, params, plen);
    return epk_pair(e, mech, &tp, &tv, priv, pub);
}

static void test_ecdsa_curves(void **st)
{
    engine *e = et_engine();
    uint8_t longmsg[200];
    (void)st;
    memset(longmsg, 0xa7, sizeof(longmsg));
    for (size_t i = 0; i < sizeof(CURVES) / sizeof(CURVES[0]); i++) {
        engine_buf priv = {0}, pub = {0};
        CK_ATTRIBUTE *a = NULL;
        engine_mech m = et_mech(CKM_ECDSA_SHA256), raw = et_mech(CKM_ECDSA),
                    ibm = et_mech(CKM_IBM_ECDSA_SHA384);
        assert_int_equal(ec_pair(e, CKM_EC_KEY_PAIR_GEN, CURVES[i].oid, CURVES[i].len, &priv, &pub),
                         CKR_OK);
        epk_all_flows(e, &m, &priv, &pub, MSG, sizeof(MSG));
        epk_all_flows(e, &ibm, &priv, &pub, MSG, sizeof(MSG));
        /* CKM_ECDSA: any input length, truncated to the order as FIPS 186 says. */
        epk_all_flows(e, &raw, &priv, &pub, longmsg, sizeof(longmsg));
        assert_int_equal(epk_attr(e, &pub, CKA_EC_PARAMS, &a), CKR_OK);
        assert_int_equal(a[0].ulValueLen, CURVES[i].len);
        assert_memory_equal(a[0].pValue, CURVES[i].oid, CURVES[i].len);
        engine_attrs_free(a, 1);
        assert_int_equal(epk_attr(e, &pub, CKA_EC_POINT, &a), CKR_OK);
        assert_int_equal(((uint8_t *)a[0].pValue)[0], 0x04); /* DER OCTET STRING */
        engine_attrs_free(a, 1);
        assert_int_equal(epk_attr(e, &priv, CKA_KEY_TYPE, &a), CKR_OK);
        assert_int_equal(*(CK_ULONG *)a[0].pValue, CKK_EC);
        engine_attrs_free(a, 1);
        engine_buf_free(&priv);
        engine_buf_free(&pub);
    }
    engine_destroy(e);
}

static void test_ec_params_forms(void **st)
{
    engine *e = et_engine();
    engine_buf priv = {0}, pub = {0};
    static const uint8_t PRINTABLE[] = {0x13, 0x0a, 'p', 'r', 'i', 'm',
                                        'e',  '2',  '5', '6', 'v', '1'};
    static const uint8_t UNKNOWN[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x01};
    const char *names[] = {"P-256", "secp256r1", "prime256v1",
                           "P-384", "secp256k1", "brainpoolP512r1"};
    (void)st;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_int_equal(ec_pair(e, CKM_EC_KEY_PAIR_GEN, names[i], strlen(names[i]), &priv, &pub),
                         CKR_OK);
        engine_buf_free(&priv);
        engine_buf_free(&pub);
    }
    assert_int_equal(ec_pair(e, CKM_EC_KEY_PAIR_GEN, PRINTABLE, sizeof(PRINTABLE), &priv, &pub),
                     CKR_OK);
    engine_buf_free(&priv);
    engine_buf_free(&pub);
    assert_int_equal(ec_pair(e, CKM_EC_KEY_PAIR_GEN, UNKNOWN, sizeof(UNKNOWN), &priv, &pub),
                     CKR_CURVE_NOT_SUPPORTED);
    assert_int_equal(ec_pair(e, CKM_EC_KEY_PAIR_GEN, "P-999", 5, &priv, &pub),
                     CKR_CURVE_NOT_SUPPORTED);
    assert_int_equal(ec_pair(e, CKM_EC_KEY_PAIR_GEN, "\x06\x09\x2a", 3, &priv, &pub),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    /* Curve/mechanism mismatch. */
    assert_int_equal(ec_pair(e, CKM_EC_EDWARDS_KEY_PAIR_GEN, "P-256", 5, &priv, &pub),
                     CKR_TEMPLATE_INCONSISTENT);
    assert_int_equal(ec_pair(e, CKM_EC_MONTGOMERY_KEY_PAIR_GEN, "Ed25519", 7, &priv, &pub),
                     CKR_TEMPLATE_INCONSISTENT);
    engine_destroy(e);
}

/* OpenSSL verifies what the engine signs and the reverse (library-level
 * cross-check: the SPKI the engine hands out is a standard one). */
static void test_openssl_interop(void **st)
{
    engine *e = et_engine();
    const char *curves[] = {"P-256", "secp256k1", "Ed25519", "Ed448"};
    (void)st;
    for (int i = 0; i < 4; i++) {
        engine_buf priv = {0}, pub = {0}, sig = {0};
        bool ed = i >= 2;
        engine_mech m = et_mech(ed ? CKM_EDDSA : CKM_ECDSA_SHA256);
        CK_ATTRIBUTE *a = NULL;
        assert_int_equal(ec_pair(e, ed ? CKM_EC_EDWARDS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN,
                                 curves[i], strlen(curves[i]), &priv, &pub),
                         CKR_OK);
        assert_int_equal(engine_sign_single(e, et_b(&priv), &m, et_raw(MSG, sizeof(MSG)), &sig),
                         CKR_OK);
        assert_int_equal(epk_attr(e, &pub, CKA_PUBLIC_KEY_INFO, &a), CKR_OK);
        /* Edwards keys in IBM's form, as IBM's GREP11 clients read them. */
        assert_int_equal(testspki_ibm_form(a[0].pValue, a[0].ulValueLen), ed);
        EVP_PKEY *k = testspki_key(a[0].pValue, a[0].ulValueLen);
        assert_non_null(k);
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestVerifyInit(c, NULL, ed ? NULL : EVP_sha256(), NULL, k), 1);
        unsigned char der[160], *dp = der;
        size_t dl = sig.len;
        const unsigned char *sp = sig.ptr;
        if (!ed) {
            ECDSA_SIG *es = ECDSA_SIG_new();
            ECDSA_SIG_set0(es, BN_bin2bn(sig.ptr, (int)sig.len / 2, NULL),
                           BN_bin2bn(sig.ptr + sig.len / 2, (int)sig.len / 2, NULL));
            dl = (size_t)i2d_ECDSA_SIG(es, &dp);
            ECDSA_SIG_free(es);
            sp = der;
        }
        assert_int_equal(EVP_DigestVerify(c, sp, dl, MSG, sizeof(MSG)), 1);
        EVP_MD_CTX_free(c);
        engine_attrs_free(a, 1);
        engine_buf_free(&sig);
        engine_buf_free(&priv);
        engine_buf_free(&pub);
        EVP_PKEY_free(k);
    }
    /* OpenSSL signs, the engine verifies with the plain SPKI. */
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    unsigned char *spki = NULL, der[200], rs[96];
    int sl = i2d_PUBKEY(k, &spki);
    size_t dl = sizeof(der);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(c, NULL, EVP_sha384(), NULL, k), 1);
    assert_int_equal(EVP_DigestSign(c, der, &dl, MSG, sizeof(MSG)), 1);
    const unsigned char *dp = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &dp, (long)dl);
    BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 48);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 48, 48);
    engine_mech m = et_mech(CKM_ECDSA_SHA384);
    assert_int_equal(engine_verify_single(e, et_raw(spki, (size_t)sl), &m, et_raw(MSG, sizeof(MSG)),
                                          et_raw(rs, 96)),
                     CKR_OK);
    rs[10] ^= 1;
    assert_int_equal(engine_verify_single(e, et_raw(spki, (size_t)sl), &m, et_raw(MSG, sizeof(MSG)),
                                          et_raw(rs, 96)),
                     CKR_SIGNATURE_INVALID);
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(c);
    OPENSSL_free(spki);
    EVP_PKEY_free(k);
    engine_destroy(e);
}

static void secret_tmpl(etmpl *t, size_t len)
{
    et_reset(t);
    et_ulong(t, CKA_CLASS, CKO_SECRET_KEY);
    et_ulong(t, CKA_KEY_TYPE, CKK_GENERIC_SECRET);
    et_ulong(t, CKA_VALUE_LEN, len);
    et_bool(t, CKA_SENSITIVE, 0);
}

static void value_of(engine *e, const engine_buf *k, uint8_t *out, size_t *len)
{
    CK_ATTRIBUTE *a = NULL;
    assert_int_equal(epk_attr(e, k, CKA_VALUE, &a), CKR_OK);
    memcpy(out, a[0].pValue, a[0].ulValueLen);
    *len = a[0].ulValueLen;
    engine_attrs_free(a, 1);
}

/* Two pairs on one curve derive the same secret, through ParameterB (raw
 * point) one way and ECDH1DeriveParm (DER OCTET STRING, SHA-256 KDF) too. */
static void test_ecdh(void **st)
{
    engine *e = et_engine();
    struct {
        CK_MECHANISM_TYPE gen, derive;
        const char *curve;
    } cases[] = {{CKM_EC_KEY_PAIR_GEN, CKM_ECDH1_DERIVE, "P-256"},
                 {CKM_EC_KEY_PAIR_GEN, CKM_ECDH1_COFACTOR_DERIVE, "secp256k1"},
                 {CKM_EC_KEY_PAIR_GEN, CKM_ECDH1_DERIVE, "brainpoolP384r1"},
                 {CKM_EC_MONTGOMERY_KEY_PAIR_GEN, CKM_ECDH1_DERIVE, "X25519"},
                 {CKM_EC_KEY_PAIR_GEN, CKM_IBM_EC_X25519, "X25519"},
                 {CKM_EC_MONTGOMERY_KEY_PAIR_GEN, CKM_IBM_EC_X448, "X448"}};
    (void)st;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        engine_buf pa = {0}, ka = {0}, pb = {0}, kb = {0}, s1 = {0}, s2 = {0}, c1 = {0}, c2 = {0};
        CK_ATTRIBUTE *pa_pt = NULL, *pb_pt = NULL;
        uint8_t v1[128], v2[128];
        size_t l1, l2;
        etmpl t;
        assert_int_equal(ec_pair(e, cases[i].gen, cases[i].curve, strlen(cases[i].curve), &pa, &ka),
                         CKR_OK);
        assert_int_equal(ec_pair(e, cases[i].gen, cases[i].curve, strlen(cases[i].curve), &pb, &kb),
                         CKR_OK);
        assert_int_equal(epk_attr(e, &ka, CKA_EC_POINT, &pa_pt), CKR_OK);
        assert_int_equal(epk_attr(e, &kb, CKA_EC_POINT, &pb_pt), CKR_OK);
        /* The raw value is the OCTET STRING's content (short-form length here). */
        engine_mech m1 =
            et_mech_b(cases[i].derive, (uint8_t *)pb_pt[0].pValue + 2, pb_pt[0].ulValueLen - 2);
        secret_tmpl(&t, 16);
        assert_int_equal(engine_derive_key(e, &m1, t.a, t.n, et_b(&pa), et_raw(NULL, 0), &s1, &c1),
                         CKR_OK);
        engine_mech m2 = et_mech_b(cases[i].derive, pa_pt[0].pValue, pa_pt[0].ulValueLen);
        assert_int_equal(engine_derive_key(e, &m2, t.a, t.n, et_b(&pb), et_raw(NULL, 0), &s2, &c2),
                         CKR_OK);
        value_of(e, &s1, v1, &l1);
        value_of(e, &s2, v2, &l2);
        assert_int_equal(l1, 16);
        assert_memory_equal(v1, v2, 16);
        engine_buf_free(&s1);
        engine_buf_free(&s2);
        engine_buf_free(&c1);
        engine_buf_free(&c2);
        /* X9.63 SHA-256 KDF with shared data, both sides. */
        engine_mech k1 = et_mech(cases[i].derive), k2 = et_mech(cases[i].derive);
        k1.kind = k2.kind = ENGINE_PARAM_ECDH1;
        k1.ecdh.kdf = k2.ecdh.kdf = CKD_SHA256_KDF;
        k1.ecdh.shared_data = k2.ecdh.shared_data = et_raw("shared", 6);
        k1.ecdh.public_data = et_raw(pb_pt[0].pValue, pb_pt[0].ulValueLen);
        k2.ecdh.public_data = et_raw(pa_pt[0].pValue, pa_pt[0].ulValueLen);
        secret_tmpl(&t, 48);
        assert_int_equal(engine_derive_key(e, &k1, t.a, t.n, et_b(&pa), et_raw(NULL, 0), &s1, &c1),
                         CKR_OK);
        assert_int_equal(engine_derive_key(e, &k2, t.a, t.n, et_b(&pb), et_raw(NULL, 0), &s2, &c2),
                         CKR_OK);
        value_of(e, &s1, v1, &l1);
        value_of(e, &s2, v2, &l2);
        assert_int_equal(l1, 48);
        assert_memory_equal(v1, v2, 48);
        /* CKD_NULL with shared data is refused; the peer must be on the curve. */
        k1.ecdh.kdf = CKD_NULL;
        engine_buf x = {0}, y = {0};
        assert_int_equal(engine_derive_key(e, &k1, t.a, t.n, et_b(&pa), et_raw(NULL, 0), &x, &y),
                         CKR_MECHANISM_PARAM_INVALID);
        engine_attrs_free(pa_pt, 1);
        engine_attrs_free(pb_pt, 1);
        engine_buf_free(&s1);
        engine_buf_free(&s2);
        engine_buf_free(&c1);
        engine_buf_free(&c2);
        engine_buf_free(&pa);
        engine_buf_free(&ka);
        engine_buf_free(&pb);
        engine_buf_free(&kb);
    }
    engine_destroy(e);
}

static void test_eddsa(void **st)
{
    engine *e = et_engine();
    static const uint8_t ED25519_OID[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
    engine_buf priv = {0}, pub = {0}, sig = {0};
    engine_mech ed = et_mech(CKM_EDDSA), ibm = et_mech(CKM_IBM_ED25519_SHA512),
                ibm448 = et_mech(CKM_IBM_ED448_SHA3);
    (void)st;
    assert_int_equal(ec_pair(e, CKM_EC_EDWARDS_KEY_PAIR_GEN, "Ed25519", 7, &priv, &pub), CKR_OK);
    epk_all_flows(e, &ed, &priv, &pub, MSG, sizeof(MSG));
    epk_all_flows(e, &ibm, &priv, &pub, MSG, sizeof(MSG));
    assert_int_equal(engine_sign_single(e, et_b(&priv), &ibm448, et_raw(MSG, 4), &sig),
                     CKR_KEY_TYPE_INCONSISTENT);
    /* Ed25519ctx/ph are not offered (OpenSSL 3.0): an honest refusal. */
    uint8_t prm[8] = {1, 0, 0, 0, 0};
    engine_mech ph = et_mech_b(CKM_EDDSA, prm, 5);
    assert_int_equal(engine_sign_single(e, et_b(&priv), &ph, et_raw(MSG, 4), &sig),
                     CKR_MECHANISM_PARAM_INVALID);
    engine_buf_free(&priv);
    engine_buf_free(&pub);
    /* IBM: CKM_EC_KEY_PAIR_GEN with the Ed25519 OID (the GREP11 sample). */
    assert_int_equal(ec_pair(e, CKM_EC_KEY_PAIR_GEN, ED25519_OID, sizeof(ED25519_OID), &priv, &pub),
                     CKR_OK);
    epk_all_flows(e, &ibm, &priv, &pub, MSG, sizeof(MSG));
    engine_buf_free(&priv);
    engine_buf_free(&pub);
    assert_int_equal(ec_pair(e, CKM_EC_EDWARDS_KEY_PAIR_GEN, "Ed448", 5, &priv, &pub), CKR_OK);
    epk_all_flows(e, &ed, &priv, &pub, MSG, sizeof(MSG));
    epk_all_flows(e, &ibm448, &priv, &pub, MSG, sizeof(MSG));
    /* Ed448 with phFlag FALSE and an empty context is plain Ed448. */
    uint8_t p0[5] = {0};
    engine_mech plain = et_mech_b(CKM_EDDSA, p0, 5);
    epk_all_flows(e, &plain, &priv, &pub, MSG, sizeof(MSG));
    engine_buf_free(&priv);
    engine_buf_free(&pub);
    engine_destroy(e);
}

/* ---- vector files ---- */

static CK_MECHANISM_TYPE ecdsa_mech(const char *sha)
{
    return strcmp(sha, "SHA-256") == 0   ? CKM_ECDSA_SHA256
           : strcmp(sha, "SHA-384") == 0 ? CKM_ECDSA_SHA384
           : strcmp(sha, "SHA-512") == 0 ? CKM_ECDSA_SHA512
           : strcmp(sha, "SHA-224") == 0 ? CKM_ECDSA_SHA224
                                         : CKM_ECDSA_SHA1;
}

static bool vt_ok(const char *res, CK_RV rv)
{
    if (strcmp(res, "acceptable") == 0)
        return true;
    return strcmp(res, "valid") == 0 ? rv == CKR_OK : rv != CKR_OK;
}

/* Verify files whose groups carry publicKeyDer (ECDSA P1363, EdDSA). */
static void wp_verify(const char *file, CK_MECHANISM_TYPE fixed)
{
    cJSON *j = testvec_load_json(file);
    const cJSON *g, *t;
    vt_counts c;
    engine *e = et_engine();
    assert_non_null(j);
    vt_begin(&c, file);
    cJSON_ArrayForEach(g, vt_arr(j, "testGroups"))
    {
        size_t kl = 0;
        uint8_t *spki = testvec_hex_field(g, "publicKeyDer", &kl);
        const char *sha = testvec_str_field(g, "sha");
        engine_mech m = et_mech(fixed ? fixed : ecdsa_mech(sha ? sha : ""));
        cJSON_ArrayForEach(t, vt_arr(g, "tests"))
        {
            size_t ml = 0, sl = 0;
            uint8_t *msg = testvec_hex_field(t, "msg", &ml),
                    *sig = testvec_hex_field(t, "sig", &sl);
            CK_RV rv =
                engine_verify_single(e, et_raw(spki, kl), &m, et_raw(msg, ml), et_raw(sig, sl));
            vt_result(&c, vt_ok(testvec_str_field(t, "result"), rv),
                      testvec_str_field(t, "comment"), vt_num(t, "tcId", 0));
            free(msg);
            free(sig);
        }
        free(spki);
    }
    vt_report(&c);
    cJSON_Delete(j);
    engine_destroy(e);
}

static void test_wycheproof_ecdsa_eddsa(void **st)
{
    (void)st;
    wp_verify("wycheproof/ecdsa_secp256r1_sha256_p1363_test.json", 0);
    wp_verify("wycheproof/ecdsa_secp384r1_sha384_p1363_test.json", 0);
    wp_verify("wycheproof/ecdsa_secp521r1_sha512_p1363_test.json", 0);
    wp_verify("wycheproof/ecdsa_secp256k1_sha256_p1363_test.json", 0);
    wp_verify("wycheproof/ed25519_test.json", CKM_EDDSA);
    wp_verify("wycheproof/ed448_test.json", CKM_EDDSA);
}

/* ECDH / XDH files: import the private value, derive with the peer's raw
 * value, compare the shared secret. */
static void wp_dh(const char *file, CK_KEY_TYPE kt, const char *params, CK_MECHANISM_TYPE mech)
{
    cJSON *j = testvec_load_json(file);
    const cJSON *g, *t;
    vt_counts c;
    engine *e = et_engine();
    assert_non_null(j);
    vt_begin(&c, file);
    cJSON_ArrayForEach(g, vt_arr(j, "testGroups"))
    {
        cJSON_ArrayForEach(t, vt_arr(g, "tests"))
        {
            size_t dl = 0, pl = 0, sl = 0, vl = 0;
            uint8_t *d = testvec_hex_field(t, "private", &dl),
                    *p = testvec_hex_field(t, "public", &pl);
            uint8_t *sh = testvec_hex_field(t, "shared", &sl), val[128];
            engine_buf priv = {0}, k = {0}, cs = {0};
            etmpl it, st2;
            CK_RV rv;
            /* Wycheproof pads some scalars with a leading zero byte. */
            uint8_t *dp = d;
            while (dl > 1 && dp[0] == 0 && kt == CKK_EC)
                dp++, dl--;
            et_reset(&it);
            et_ulong(&it, CKA_CLASS, CKO_PRIVATE_KEY);
            et_ulong(&it, CKA_KEY_TYPE, kt);
            et_bytes(&it, CKA_EC_PARAMS, params, strlen(params));
            et_bytes(&it, CKA_VALUE, dp, dl);
            rv = engine_import_private_key(e, it.a, it.n, &priv);
            if (rv == CKR_OK) {
                engine_mech m = et_mech_b(mech, p, pl);
                secret_tmpl(&st2, sl ? sl : 32);
                rv = engine_derive_key(e, &m, st2.a, st2.n, et_b(&priv), et_raw(NULL, 0), &k, &cs);
                if (rv == CKR_OK) {
                    value_of(e, &k, val, &vl);
                    if (vl != sl || memcmp(val, sh, sl) != 0)
                        rv = CKR_GENERAL_ERROR;
                }
            }
            vt_result(&c, vt_ok(testvec_str_field(t, "result"), rv),
                      testvec_str_field(t, "comment"), vt_num(t, "tcId", 0));
            engine_buf_free(&priv);
            engine_buf_free(&k);
            engine_buf_free(&cs);
            free(d);
            free(p);
            free(sh);
        }
    }
    vt_report(&c);
    cJSON_Delete(j);
    engine_destroy(e);
}

static void test_wycheproof_dh(void **st)
{
    (void)st;
    wp_dh("wycheproof/ecdh_secp256r1_ecpoint_test.json", CKK_EC, "P-256", CKM_ECDH1_DERIVE);
    wp_dh("wycheproof/ecdh_secp384r1_ecpoint_test.json", CKK_EC, "P-384", CKM_ECDH1_DERIVE);
    wp_dh("wycheproof/ecdh_secp521r1_ecpoint_test.json", CKK_EC, "P-521", CKM_ECDH1_DERIVE);
    wp_dh("wycheproof/x25519_test.json", CKK_EC_MONTGOMERY, "X25519", CKM_ECDH1_DERIVE);
    wp_dh("wycheproof/x448_test.json", CKK_EC_MONTGOMERY, "X448", CKM_IBM_EC_X448);
}

/* RFC 8032: imported private keys sign to the exact published signatures. */
static void rfc8032(const char *file, const char *curve, bool must_work)
{
    cJSON *j = testvec_load_json(file);
    const cJSON *t;
    vt_counts c;
    engine *e = et_engine();
    assert_non_null(j);
    vt_begin(&c, file);
    cJSON_ArrayForEach(t, j)
    {
        size_t kl = 0, ml = 0, sl = 0, cl = 0;
        uint8_t *sk = testvec_hex_field(t, "secretKey", &kl),
                *msg = testvec_hex_field(t, "message", &ml);
        uint8_t *sig = testvec_hex_field(t, "signature", &sl),
                *ctx = testvec_hex_field(t, "context", &cl);
        engine_buf priv = {0}, out = {0};
        etmpl it;
        engine_mech m = et_mech(CKM_EDDSA);
        if (!must_work || cl > 0) {
            vt_skip(&c,
                    "Ed25519ctx/ph and Ed448ph/ctx: OpenSSL 3.0 has no context or pre-hash API");
        } else {
            et_reset(&it);
            et_ulong(&it, CKA_CLASS, CKO_PRIVATE_KEY);
            et_ulong(&it, CKA_KEY_TYPE, CKK_EC_EDWARDS);
            et_bytes(&it, CKA_EC_PARAMS, curve, strlen(curve));
            et_bytes(&it, CKA_VALUE, sk, kl);
            CK_RV rv = engine_import_private_key(e, it.a, it.n, &priv);
            if (rv == CKR_OK)
                rv = engine_sign_single(e, et_b(&priv), &m, et_raw(msg, ml), &out);
            vt_result(&c, rv == CKR_OK && out.len == sl && memcmp(out.ptr, sig, sl) == 0, "sign",
                      c.passed + c.failed);
        }
        engine_buf_free(&priv);
        engine_buf_free(&out);
        free(sk);
        free(msg);
        free(sig);
        free(ctx);
    }
    printf("%s: %ld passed, %ld failed, %ld skipped%s%s%s\n", c.file, c.passed, c.failed, c.skipped,
           c.skipped ? " (" : "", c.reasons, c.skipped ? ")" : "");
    assert_int_equal(c.failed, 0);
    /* A file the engine must handle proves nothing if no case in it ran. */
    if (must_work)
        assert_true(c.passed > 0);
    cJSON_Delete(j);
    engine_destroy(e);
}

static void test_rfc8032(void **st)
{
    (void)st;
    rfc8032("rfc/rfc8032_ed25519.json", "Ed25519", true);
    rfc8032("rfc/rfc8032_ed448.json", "Ed448", true);
    rfc8032("rfc/rfc8032_ed25519ctx.json", "Ed25519", false);
    rfc8032("rfc/rfc8032_ed25519ph.json", "Ed25519", false);
    rfc8032("rfc/rfc8032_ed448ph.json", "Ed448", false);
}

/* A hex number (maybe odd length) left-padded to len bytes. */
static void hex_num(const char *h, uint8_t *out, size_t len)
{
    char buf[300];
    size_t hl = strlen(h), bl = 0;
    uint8_t *b;
    snprintf(buf, sizeof(buf), "%s%s", hl % 2 ? "0" : "", h);
    b = testvec_hex_decode(buf, &bl);
    assert_non_null(b);
    assert_true(bl <= len);
    memset(out, 0, len);
    memcpy(out + len - bl, b, bl);
    free(b);
}

/* RFC 6979 A.2: the deterministic (r, s) verify under imported public keys. */
static void test_rfc6979(void **st)
{
    cJSON *j = testvec_load_json("rfc/rfc6979_ecdsa.json");
    const cJSON *cv, *t;
    vt_counts c;
    engine *e = et_engine();
    (void)st;
    assert_non_null(j);
    vt_begin(&c, "rfc/rfc6979_ecdsa.json");
    cJSON_ArrayForEach(cv, j)
    {
        const char *curve = testvec_str_field(cv, "curve");
        size_t fl = strstr(curve, "224")   ? 28
                    : strstr(curve, "256") ? 32
                    : strstr(curve, "384") ? 48
                                           : 66;
        uint8_t pt[140];
        engine_buf pub = {0};
        etmpl it;
        CK_RV rv = CKR_CURVE_NOT_SUPPORTED;
        if (strstr(curve, "P-") != NULL && strcmp(curve, "NIST P-192") != 0) {
            pt[0] = 4;
            hex_num(testvec_str_field(cv, "Ux"), pt + 1, fl);
            hex_num(testvec_str_field(cv, "Uy"), pt + 1 + fl, fl);
            et_reset(&it);
            et_ulong(&it, CKA_CLASS, CKO_PUBLIC_KEY);
            et_ulong(&it, CKA_KEY_TYPE, CKK_EC);
            et_bytes(&it, CKA_EC_PARAMS, curve, strlen(curve));
            et_bytes(&it, CKA_EC_POINT, pt, 1 + 2 * fl);
            rv = engine_import_public_key(e, it.a, it.n, &pub);
            assert_int_equal(rv, CKR_OK);
        }
        cJSON_ArrayForEach(t, vt_arr(cv, "cases"))
        {
            const char *h = testvec_str_field(t, "hash"), *msg = testvec_str_field(t, "message");
            uint8_t rs[140];
            if (rv != CKR_OK) {
                vt_skip(&c, "curve not offered (P-192, K-*, B-*)");
            } else {
                engine_mech m = et_mech(ecdsa_mech(h));
                hex_num(testvec_str_field(t, "r"), rs, fl);
                hex_num(testvec_str_field(t, "s"), rs + fl, fl);
                CK_RV v = engine_verify_single(e, et_b(&pub), &m, et_raw(msg, strlen(msg)),
                                               et_raw(rs, 2 * fl));
                vt_result(&c, v == CKR_OK, h, c.passed + c.failed);
            }
        }
        engine_buf_free(&pub);
    }
    vt_report(&c);
    cJSON_Delete(j);
    engine_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ecdsa_curves),    cmocka_unit_test(test_ec_params_forms),
        cmocka_unit_test(test_openssl_interop), cmocka_unit_test(test_ecdh),
        cmocka_unit_test(test_eddsa),           cmocka_unit_test(test_wycheproof_ecdsa_eddsa),
        cmocka_unit_test(test_wycheproof_dh),   cmocka_unit_test(test_rfc8032),
        cmocka_unit_test(test_rfc6979),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
