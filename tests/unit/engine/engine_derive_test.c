/* DeriveKey: HKDF (RFC 5869 known answers, extract/expand modes) and the
 * SHA*_KEY_DERIVATION family, with attribute propagation and policy. */
#include "ecrypt.h"
#include "testvec.h"

#include <openssl/evp.h>

/* HKDF ParameterB: extract u8 | expand u8 | prf u64 | salt type u64 | salt lv | info lv */
static size_t hkdf_param(uint8_t *o, int ex, int ep, CK_MECHANISM_TYPE prf, CK_ULONG st,
                         const uint8_t *salt, size_t sl, const uint8_t *info, size_t il)
{
    size_t n = 0;
    o[n++] = (uint8_t)ex;
    o[n++] = (uint8_t)ep;
    for (int i = 7; i >= 0; i--)
        o[n++] = (uint8_t)(prf >> (8 * i));
    for (int i = 7; i >= 0; i--)
        o[n++] = (uint8_t)(st >> (8 * i));
    et_be32(o + n, (uint32_t)sl);
    n += 4;
    if (sl)
        memcpy(o + n, salt, sl);
    n += sl;
    et_be32(o + n, (uint32_t)il);
    n += 4;
    if (il)
        memcpy(o + n, info, il);
    return n + il;
}

static CK_RV derive(engine *e, const engine_mech *m, const engine_buf *base, CK_ULONG len,
                    CK_KEY_TYPE kt, engine_buf *out)
{
    etmpl t;
    engine_buf cs = {0};
    CK_RV rv;
    et_reset(&t);
    if (kt != CK_UNAVAILABLE_INFORMATION)
        et_ulong(&t, CKA_KEY_TYPE, kt);
    if (len)
        et_ulong(&t, CKA_VALUE_LEN, len);
    et_bool(&t, CKA_SENSITIVE, 0);
    rv = engine_derive_key(e, m, t.a, t.n, et_b(base), et_raw(NULL, 0), out, &cs);
    engine_buf_free(&cs);
    return rv;
}

static void value_of(engine *e, const engine_buf *b, uint8_t *v, size_t *l)
{
    CK_ATTRIBUTE_TYPE ty = CKA_VALUE;
    CK_ATTRIBUTE *out = NULL;
    CK_ULONG n = 0;
    assert_int_equal(engine_get_attribute_value(e, et_b(b), &ty, 1, &out, &n), CKR_OK);
    memcpy(v, out[0].pValue, out[0].ulValueLen);
    *l = out[0].ulValueLen;
    engine_attrs_free(out, n);
}

static void test_hkdf_rfc5869(void **state)
{
    (void)state;
    engine *e = et_engine();
    uint8_t ikm[22], salt[13], info[10], p[128], v[64];
    size_t pl, vl, len;
    engine_buf base = {0}, d = {0};
    uint8_t *okm1 = testvec_hex_decode(
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        &len);
    uint8_t *prk1 = testvec_hex_decode(
        "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5", &len);
    uint8_t *okm3 = testvec_hex_decode(
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
        &len);
    engine_mech m;
    memset(ikm, 0x0b, sizeof(ikm));
    for (int i = 0; i < 13; i++)
        salt[i] = (uint8_t)i;
    for (int i = 0; i < 10; i++)
        info[i] = (uint8_t)(0xf0 + i);
    assert_int_equal(et_import(e, CKK_GENERIC_SECRET, ikm, 22, &base), CKR_OK);
    /* A.1: extract and expand */
    pl = hkdf_param(p, 1, 1, CKM_SHA256, CKF_HKDF_SALT_DATA, salt, 13, info, 10);
    m = et_mech_b(CKM_HKDF_DERIVE, p, pl);
    assert_int_equal(derive(e, &m, &base, 42, CK_UNAVAILABLE_INFORMATION, &d), CKR_OK);
    value_of(e, &d, v, &vl);
    assert_int_equal(vl, 42);
    assert_memory_equal(v, okm1, 42);
    engine_buf_free(&d);
    /* extract only gives the PRK; then expand only from it gives the OKM */
    pl = hkdf_param(p, 1, 0, CKM_SHA256, CKF_HKDF_SALT_DATA, salt, 13, NULL, 0);
    m = et_mech_b(CKM_HKDF_DERIVE, p, pl);
    assert_int_equal(derive(e, &m, &base, 32, CK_UNAVAILABLE_INFORMATION, &d), CKR_OK);
    value_of(e, &d, v, &vl);
    assert_memory_equal(v, prk1, 32);
    {
        engine_buf x = {0};
        assert_int_equal(derive(e, &m, &base, 33, CK_UNAVAILABLE_INFORMATION, &x),
                         CKR_TEMPLATE_INCONSISTENT);
    }
    {
        engine_buf d2 = {0};
        pl = hkdf_param(p, 0, 1, CKM_SHA256, CKF_HKDF_SALT_NULL, NULL, 0, info, 10);
        m = et_mech_b(CKM_HKDF_DERIVE, p, pl);
        assert_int_equal(derive(e, &m, &d, 42, CK_UNAVAILABLE_INFORMATION, &d2), CKR_OK);
        value_of(e, &d2, v, &vl);
        assert_memory_equal(v, okm1, 42);
        engine_buf_free(&d2);
    }
    engine_buf_free(&d);
    /* A.3: no salt, no info */
    pl = hkdf_param(p, 1, 1, CKM_SHA256, CKF_HKDF_SALT_NULL, NULL, 0, NULL, 0);
    m = et_mech_b(CKM_HKDF_DERIVE, p, pl);
    assert_int_equal(derive(e, &m, &base, 42, CK_UNAVAILABLE_INFORMATION, &d), CKR_OK);
    value_of(e, &d, v, &vl);
    assert_memory_equal(v, okm3, 42);
    engine_buf_free(&d);
    /* into an AES key */
    assert_int_equal(derive(e, &m, &base, 32, CKK_AES, &d), CKR_OK);
    engine_buf_free(&d);
    assert_int_equal(derive(e, &m, &base, 0, CKK_AES, &d), CKR_TEMPLATE_INCOMPLETE);
    assert_int_equal(derive(e, &m, &base, 0, CK_UNAVAILABLE_INFORMATION, &d),
                     CKR_TEMPLATE_INCOMPLETE);
    /* parameter errors */
    pl = hkdf_param(p, 0, 0, CKM_SHA256, CKF_HKDF_SALT_NULL, NULL, 0, NULL, 0);
    m = et_mech_b(CKM_HKDF_DERIVE, p, pl);
    assert_int_equal(derive(e, &m, &base, 16, CK_UNAVAILABLE_INFORMATION, &d),
                     CKR_MECHANISM_PARAM_INVALID);
    pl = hkdf_param(p, 1, 1, CKM_MD5, CKF_HKDF_SALT_NULL, NULL, 0, NULL, 0);
    m = et_mech_b(CKM_HKDF_DERIVE, p, pl);
    assert_int_equal(derive(e, &m, &base, 16, CK_UNAVAILABLE_INFORMATION, &d),
                     CKR_MECHANISM_PARAM_INVALID);
    pl = hkdf_param(p, 1, 1, CKM_SHA256, CKF_HKDF_SALT_KEY, NULL, 0, NULL, 0);
    m = et_mech_b(CKM_HKDF_DERIVE, p, pl);
    assert_int_equal(derive(e, &m, &base, 16, CK_UNAVAILABLE_INFORMATION, &d),
                     CKR_MECHANISM_PARAM_INVALID);
    m = et_mech_b(CKM_HKDF_DERIVE, p, 3);
    assert_int_equal(derive(e, &m, &base, 16, CK_UNAVAILABLE_INFORMATION, &d),
                     CKR_MECHANISM_PARAM_INVALID);
    /* SHA-3 PRF through the IBM number */
    pl = hkdf_param(p, 1, 1, CKM_IBM_SHA3_256, CKF_HKDF_SALT_DATA, salt, 13, info, 10);
    m = et_mech_b(CKM_HKDF_DERIVE, p, pl);
    assert_int_equal(derive(e, &m, &base, 40, CK_UNAVAILABLE_INFORMATION, &d), CKR_OK);
    engine_buf_free(&d);
    engine_buf_free(&base);
    free(okm1), free(prk1), free(okm3);
    engine_destroy(e);
}

static void test_sha_key_derivation(void **state)
{
    (void)state;
    engine *e = et_engine();
    static const struct {
        CK_MECHANISM_TYPE m;
        const char *md;
    } D[] = {
        {CKM_SHA1_KEY_DERIVATION, "SHA1"},         {CKM_SHA224_KEY_DERIVATION, "SHA224"},
        {CKM_SHA256_KEY_DERIVATION, "SHA256"},     {CKM_SHA384_KEY_DERIVATION, "SHA384"},
        {CKM_SHA512_KEY_DERIVATION, "SHA512"},     {CKM_SHA512_256_KEY_DERIVATION, "SHA512-256"},
        {CKM_SHA3_256_KEY_DERIVATION, "SHA3-256"}, {CKM_SHA3_512_KEY_DERIVATION, "SHA3-512"}};
    uint8_t kv[32], ref[64], v[64];
    unsigned int rl = 0;
    size_t vl;
    engine_buf base = {0}, d = {0};
    for (int i = 0; i < 32; i++)
        kv[i] = (uint8_t)(i * 7);
    assert_int_equal(et_import(e, CKK_AES, kv, 32, &base), CKR_OK);
    for (size_t i = 0; i < sizeof(D) / sizeof(D[0]); i++) {
        engine_mech m = et_mech(D[i].m);
        EVP_MD *md = EVP_MD_fetch(NULL, D[i].md, NULL);
        EVP_Digest(kv, 32, ref, &rl, md, NULL);
        EVP_MD_free(md);
        /* no length, no type: a generic secret of the digest's length */
        assert_int_equal(derive(e, &m, &base, 0, CK_UNAVAILABLE_INFORMATION, &d), CKR_OK);
        value_of(e, &d, v, &vl);
        assert_int_equal(vl, rl);
        assert_memory_equal(v, ref, rl);
        engine_buf_free(&d);
        /* truncated into an AES-128 key */
        assert_int_equal(derive(e, &m, &base, 16, CKK_AES, &d), CKR_OK);
        value_of(e, &d, v, &vl);
        assert_int_equal(vl, 16);
        assert_memory_equal(v, ref, 16);
        engine_buf_free(&d);
        /* never longer than the digest */
        assert_int_equal(derive(e, &m, &base, rl + 1, CK_UNAVAILABLE_INFORMATION, &d),
                         CKR_TEMPLATE_INCONSISTENT);
    }
    engine_buf_free(&base);
    engine_destroy(e);
}

static void test_derive_policy(void **state)
{
    (void)state;
    engine *e = et_engine();
    etmpl t;
    engine_buf base = {0}, d = {0}, cs = {0};
    engine_mech m = et_mech(CKM_SHA256_KEY_DERIVATION), gm = et_mech(CKM_AES_KEY_GEN);
    CK_ATTRIBUTE_TYPE tys[5] = {CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE, CKA_LOCAL,
                                CKA_KEY_GEN_MECHANISM, CKA_VALUE};
    CK_ATTRIBUTE *out = NULL;
    CK_ULONG n = 0;

    et_reset(&t); /* a base that has always been sensitive and never extractable */
    et_ulong(&t, CKA_VALUE_LEN, 32);
    et_bool(&t, CKA_EXTRACTABLE, 0);
    assert_int_equal(engine_generate_key(e, &gm, t.a, t.n, &base, &cs), CKR_OK);
    engine_buf_free(&cs);
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_ulong(&t, CKA_KEY_TYPE, CKK_AES);
    et_bool(&t, CKA_EXTRACTABLE, 0);
    assert_int_equal(engine_derive_key(e, &m, t.a, t.n, et_b(&base), et_raw(NULL, 0), &d, &cs),
                     CKR_OK);
    assert_int_equal(engine_get_attribute_value(e, et_b(&d), tys, 5, &out, &n),
                     CKR_ATTRIBUTE_SENSITIVE);
    assert_int_equal(*(CK_BBOOL *)out[0].pValue, CK_TRUE);
    assert_int_equal(*(CK_BBOOL *)out[1].pValue, CK_TRUE);
    assert_int_equal(*(CK_BBOOL *)out[2].pValue, CK_FALSE);
    assert_int_equal(*(CK_ULONG *)out[3].pValue, CKM_SHA256_KEY_DERIVATION);
    assert_int_equal(out[4].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    engine_attrs_free(out, n);
    engine_buf_free(&d);
    engine_buf_free(&cs);
    /* an extractable child of that base is no longer never-extractable */
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 16);
    assert_int_equal(engine_derive_key(e, &m, t.a, t.n, et_b(&base), et_raw(NULL, 0), &d, &cs),
                     CKR_OK);
    assert_int_equal(engine_get_attribute_value(e, et_b(&d), tys, 2, &out, &n), CKR_OK);
    assert_int_equal(*(CK_BBOOL *)out[1].pValue, CK_FALSE);
    engine_attrs_free(out, n);
    engine_buf_free(&d);
    engine_buf_free(&cs);
    engine_buf_free(&base);
    /* CKA_DERIVE is required */
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 32);
    et_bool(&t, CKA_DERIVE, 0);
    assert_int_equal(engine_generate_key(e, &gm, t.a, t.n, &base, &cs), CKR_OK);
    engine_buf_free(&cs);
    et_reset(&t);
    assert_int_equal(engine_derive_key(e, &m, t.a, t.n, et_b(&base), et_raw(NULL, 0), &d, &cs),
                     CKR_KEY_FUNCTION_NOT_PERMITTED);
    m = et_mech(CKM_SHA256);
    assert_int_equal(engine_derive_key(e, &m, t.a, t.n, et_b(&base), et_raw(NULL, 0), &d, &cs),
                     CKR_MECHANISM_INVALID);
    engine_buf_free(&base);
    engine_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hkdf_rfc5869),
        cmocka_unit_test(test_sha_key_derivation),
        cmocka_unit_test(test_derive_policy),
    };
    return cmocka_run_group_tests_name("engine_derive", tests, NULL, NULL);
}
