/* DSA and PKCS #3 DH through the engine, in the shape the GREP11 samples
 * use them: parameter generation through GenerateKey, parameters passed
 * back as CKA_IBM_STRUCT_PARAMS, DSA signatures in every flow (checked by
 * OpenSSL), DH derivation both ways, PKCS #8 wrap round trip. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "epk.h"

static const uint8_t MSG[] = "finite fields, finally";

static void paramgen(engine *e, CK_MECHANISM_TYPE mech, CK_ULONG bits, engine_buf *params)
{
    etmpl t;
    engine_buf cs = {0};
    engine_mech m = et_mech(mech);
    et_reset(&t);
    et_ulong(&t, CKA_PRIME_BITS, bits);
    assert_int_equal(engine_generate_key(e, &m, t.a, t.n, params, &cs), CKR_OK);
    assert_int_equal(cs.len, 0);
    engine_buf_free(&cs);
}

static void ffc_pair(engine *e, CK_MECHANISM_TYPE mech, const engine_buf *params, bool extractable,
                     engine_buf *priv, engine_buf *pub)
{
    etmpl tp, tv;
    et_reset(&tp);
    et_reset(&tv);
    et_bytes(&tp, CKA_IBM_STRUCT_PARAMS, params->ptr, params->len);
    et_bool(&tv, CKA_EXTRACTABLE, extractable);
    assert_int_equal(epk_pair(e, mech, &tp, &tv, priv, pub), CKR_OK);
}

static void test_dsa(void **st)
{
    engine *e = et_engine();
    engine_buf params = {0}, priv = {0}, pub = {0}, sig = {0}, kek = {0}, w = {0}, u = {0},
               cs = {0};
    engine_mech s256 = et_mech(CKM_DSA_SHA256), s1 = et_mech(CKM_DSA_SHA1), raw = et_mech(CKM_DSA),
                s3 = et_mech(CKM_DSA_SHA3_256), kwp = et_mech(CKM_AES_KEY_WRAP_PAD);
    uint8_t dg[32];
    CK_ATTRIBUTE *a = NULL;
    etmpl ut;
    (void)st;
    paramgen(e, CKM_DSA_PARAMETER_GEN, 2048, &params);
    ffc_pair(e, CKM_DSA_KEY_PAIR_GEN, &params, true, &priv, &pub);
    epk_all_flows(e, &s256, &priv, &pub, MSG, sizeof(MSG));
    epk_all_flows(e, &s1, &priv, &pub, MSG, sizeof(MSG));
    epk_all_flows(e, &s3, &priv, &pub, MSG, sizeof(MSG));
    memset(dg, 0x42, sizeof(dg));
    epk_all_flows(e, &raw, &priv, &pub, dg, sizeof(dg));
    assert_int_equal(epk_attr(e, &pub, CKA_SUBPRIME, &a), CKR_OK);
    assert_int_equal(a[0].ulValueLen, 32);
    engine_attrs_free(a, 1);
    assert_int_equal(epk_attr(e, &priv, CKA_VALUE, &a), CKR_ATTRIBUTE_SENSITIVE);
    engine_attrs_free(a, 1);
    /* OpenSSL verifies an engine signature (r || s turned into DER). */
    assert_int_equal(engine_sign_single(e, et_b(&priv), &s256, et_raw(MSG, sizeof(MSG)), &sig),
                     CKR_OK);
    assert_int_equal(sig.len, 64);
    assert_int_equal(epk_attr(e, &pub, CKA_PUBLIC_KEY_INFO, &a), CKR_OK);
    const unsigned char *p = a[0].pValue;
    EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)a[0].ulValueLen);
    assert_non_null(k);
    DSA_SIG *ds = DSA_SIG_new();
    DSA_SIG_set0(ds, BN_bin2bn(sig.ptr, 32, NULL), BN_bin2bn(sig.ptr + 32, 32, NULL));
    unsigned char *der = NULL;
    int dl = i2d_DSA_SIG(ds, &der);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, k), 1);
    assert_int_equal(EVP_DigestVerify(c, der, (size_t)dl, MSG, sizeof(MSG)), 1);
    EVP_MD_CTX_free(c);
    OPENSSL_free(der);
    DSA_SIG_free(ds);
    EVP_PKEY_free(k);
    engine_attrs_free(a, 1);
    /* PKCS #8 round trip. */
    uint8_t kv[32] = {7};
    assert_int_equal(et_import(e, CKK_AES, kv, 32, &kek), CKR_OK);
    assert_int_equal(engine_wrap_key(e, et_b(&priv), et_b(&kek), et_raw(NULL, 0), &kwp, &w),
                     CKR_OK);
    et_reset(&ut);
    et_ulong(&ut, CKA_CLASS, CKO_PRIVATE_KEY);
    assert_int_equal(
        engine_unwrap_key(e, et_b(&w), et_b(&kek), et_raw(NULL, 0), &kwp, ut.a, ut.n, &u, &cs),
        CKR_OK);
    epk_all_flows(e, &s256, &u, &pub, MSG, sizeof(MSG));
    engine_buf_free(&params);
    engine_buf_free(&priv);
    engine_buf_free(&pub);
    engine_buf_free(&sig);
    engine_buf_free(&kek);
    engine_buf_free(&w);
    engine_buf_free(&u);
    engine_buf_free(&cs);
    engine_destroy(e);
}

static void test_dh(void **st)
{
    engine *e = et_engine();
    engine_buf params = {0}, pa = {0}, ka = {0}, pb = {0}, kb = {0}, s1 = {0}, s2 = {0}, c1 = {0},
               c2 = {0}, junk = {0};
    CK_ATTRIBUTE *ya = NULL, *yb = NULL, *v1 = NULL, *v2 = NULL;
    etmpl t;
    (void)st;
    paramgen(e, CKM_DH_PKCS_PARAMETER_GEN, 2048, &params);
    ffc_pair(e, CKM_DH_PKCS_KEY_PAIR_GEN, &params, false, &pa, &ka);
    ffc_pair(e, CKM_DH_PKCS_KEY_PAIR_GEN, &params, false, &pb, &kb);
    assert_int_equal(epk_attr(e, &ka, CKA_VALUE, &ya), CKR_OK);
    assert_int_equal(epk_attr(e, &kb, CKA_VALUE, &yb), CKR_OK);
    et_reset(&t);
    et_ulong(&t, CKA_CLASS, CKO_SECRET_KEY);
    et_ulong(&t, CKA_KEY_TYPE, CKK_AES);
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_bool(&t, CKA_SENSITIVE, 0);
    engine_mech m1 = et_mech_b(CKM_DH_PKCS_DERIVE, yb[0].pValue, yb[0].ulValueLen);
    engine_mech m2 = et_mech_b(CKM_DH_PKCS_DERIVE, ya[0].pValue, ya[0].ulValueLen);
    assert_int_equal(engine_derive_key(e, &m1, t.a, t.n, et_b(&pa), et_raw(NULL, 0), &s1, &c1),
                     CKR_OK);
    assert_int_equal(engine_derive_key(e, &m2, t.a, t.n, et_b(&pb), et_raw(NULL, 0), &s2, &c2),
                     CKR_OK);
    assert_int_equal(epk_attr(e, &s1, CKA_VALUE, &v1), CKR_OK);
    assert_int_equal(epk_attr(e, &s2, CKA_VALUE, &v2), CKR_OK);
    assert_memory_equal(v1[0].pValue, v2[0].pValue, 16);
    /* y = 1 is no public value. */
    engine_mech bad = et_mech_b(CKM_DH_PKCS_DERIVE, "\x01", 1);
    engine_buf_free(&c1);
    assert_int_equal(engine_derive_key(e, &bad, t.a, t.n, et_b(&pa), et_raw(NULL, 0), &junk, &c1),
                     CKR_MECHANISM_PARAM_INVALID);
    /* A non-extractable DH key does not leave. */
    engine_buf kek = {0}, w = {0};
    uint8_t kv[16] = {1};
    engine_mech kwp = et_mech(CKM_AES_KEY_WRAP_PAD);
    assert_int_equal(et_import(e, CKK_AES, kv, 16, &kek), CKR_OK);
    assert_int_equal(engine_wrap_key(e, et_b(&pa), et_b(&kek), et_raw(NULL, 0), &kwp, &w),
                     CKR_KEY_UNEXTRACTABLE);
    engine_attrs_free(ya, 1);
    engine_attrs_free(yb, 1);
    engine_attrs_free(v1, 1);
    engine_attrs_free(v2, 1);
    engine_buf_free(&params);
    engine_buf_free(&pa);
    engine_buf_free(&ka);
    engine_buf_free(&pb);
    engine_buf_free(&kb);
    engine_buf_free(&s1);
    engine_buf_free(&s2);
    engine_buf_free(&c1);
    engine_buf_free(&c2);
    engine_buf_free(&kek);
    engine_destroy(e);
}

static void test_ffc_templates(void **st)
{
    engine *e = et_engine();
    engine_buf x = {0}, y = {0};
    engine_mech m = et_mech(CKM_DSA_PARAMETER_GEN), dh = et_mech(CKM_DH_PKCS_PARAMETER_GEN);
    etmpl t, tv;
    (void)st;
    et_reset(&t);
    assert_int_equal(engine_generate_key(e, &m, t.a, t.n, &x, &y), CKR_TEMPLATE_INCOMPLETE);
    et_ulong(&t, CKA_PRIME_BITS, 1024);
    assert_int_equal(engine_generate_key(e, &m, t.a, t.n, &x, &y), CKR_ATTRIBUTE_VALUE_INVALID);
    et_reset(&t);
    et_ulong(&t, CKA_PRIME_BITS, 2048);
    et_bool(&t, CKA_SIGN, 1);
    assert_int_equal(engine_generate_key(e, &dh, t.a, t.n, &x, &y), CKR_TEMPLATE_INCONSISTENT);
    /* DH parameters by CKA_PRIME / CKA_BASE: a prime that is not one is refused. */
    uint8_t p[256];
    memset(p, 0xff, sizeof(p));
    p[255] = 0xfd;
    et_reset(&t);
    et_reset(&tv);
    et_bytes(&t, CKA_PRIME, p, sizeof(p));
    et_bytes(&t, CKA_BASE, "\x02", 1);
    engine_mech kp = et_mech(CKM_DH_PKCS_KEY_PAIR_GEN);
    CK_RV rv = engine_generate_key_pair(e, &kp, t.a, t.n, tv.a, tv.n, &x, &y);
    assert_true(rv == CKR_DOMAIN_PARAMS_INVALID || rv == CKR_OK);
    engine_buf_free(&x);
    engine_buf_free(&y);
    et_reset(&t);
    et_bytes(&t, CKA_IBM_STRUCT_PARAMS, "\x30\x03\x02\x01\x05", 5);
    assert_int_equal(engine_generate_key_pair(e, &kp, t.a, t.n, tv.a, tv.n, &x, &y),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    engine_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dsa),
        cmocka_unit_test(test_dh),
        cmocka_unit_test(test_ffc_templates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
