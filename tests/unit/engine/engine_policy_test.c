/* Templates and policy: one test per rule (README.md "Templates and policy"). */
#include "epk.h"

#include <openssl/evp.h>

static CK_RV gen(engine *e, CK_MECHANISM_TYPE mt, etmpl *t, engine_buf *blob, engine_buf *cs)
{
    engine_mech m = et_mech(mt);
    return engine_generate_key(e, &m, t->a, t->n, blob, cs);
}

static CK_RV gen_aes(engine *e, etmpl *t, engine_buf *blob)
{
    engine_buf cs = {0};
    CK_RV rv = gen(e, CKM_AES_KEY_GEN, t, blob, &cs);
    engine_buf_free(&cs);
    return rv;
}

/* Reads one attribute; returns its rv and copies up to 64 bytes. */
static CK_RV get1(engine *e, const engine_buf *blob, CK_ATTRIBUTE_TYPE ty, void *val, CK_ULONG *len)
{
    CK_ATTRIBUTE *out = NULL;
    CK_ULONG n = 0;
    CK_RV rv = engine_get_attribute_value(e, et_b(blob), &ty, 1, &out, &n);
    if (out != NULL) {
        *len = out[0].ulValueLen;
        if (out[0].pValue != NULL && val != NULL)
            memcpy(val, out[0].pValue, out[0].ulValueLen);
    }
    engine_attrs_free(out, n);
    return rv;
}

static int get_bool(engine *e, const engine_buf *blob, CK_ATTRIBUTE_TYPE ty)
{
    CK_BBOOL b = 2;
    CK_ULONG l = 0;
    assert_int_equal(get1(e, blob, ty, &b, &l), CKR_OK);
    assert_int_equal(l, 1);
    return b;
}

static CK_ULONG get_ulong(engine *e, const engine_buf *blob, CK_ATTRIBUTE_TYPE ty)
{
    CK_ULONG v = 0, l = 0;
    assert_int_equal(get1(e, blob, ty, &v, &l), CKR_OK);
    assert_int_equal(l, sizeof(CK_ULONG));
    return v;
}

static void test_aes_sizes(void **state)
{
    (void)state;
    engine *e = et_engine();
    etmpl t;
    engine_buf b = {0};
    for (CK_ULONG len = 0; len <= 40; len++) {
        et_reset(&t);
        et_ulong(&t, CKA_VALUE_LEN, len);
        CK_RV rv = gen_aes(e, &t, &b);
        if (len == 16 || len == 24 || len == 32) {
            assert_int_equal(rv, CKR_OK);
            assert_int_equal(get_ulong(e, &b, CKA_VALUE_LEN), len);
        } else {
            assert_int_equal(rv, CKR_ATTRIBUTE_VALUE_INVALID);
            assert_null(b.ptr);
        }
        engine_buf_free(&b);
    }
    et_reset(&t);
    assert_int_equal(gen_aes(e, &t, &b), CKR_TEMPLATE_INCOMPLETE);
    engine_destroy(e);
}

static void test_template_errors(void **state)
{
    (void)state;
    engine *e = et_engine();
    etmpl t;
    engine_buf b = {0};
    uint8_t two = 2;
    uint32_t small = 16;

    et_reset(&t); /* unknown attribute */
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_ulong(&t, CKA_HW_FEATURE_TYPE, 2048);
    assert_int_equal(gen_aes(e, &t, &b), CKR_ATTRIBUTE_TYPE_INVALID);
    et_reset(&t); /* a public-key attribute on a secret key */
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_ulong(&t, CKA_MODULUS_BITS, 2048);
    assert_int_equal(gen_aes(e, &t, &b), CKR_TEMPLATE_INCONSISTENT);
    et_reset(&t); /* wrong class */
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_ulong(&t, CKA_CLASS, CKO_PRIVATE_KEY);
    assert_int_equal(gen_aes(e, &t, &b), CKR_TEMPLATE_INCONSISTENT);
    et_reset(&t); /* key type against the mechanism */
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_ulong(&t, CKA_KEY_TYPE, CKK_DES3);
    assert_int_equal(gen_aes(e, &t, &b), CKR_TEMPLATE_INCONSISTENT);
    et_reset(&t); /* boolean not 0/1 */
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_bytes(&t, CKA_ENCRYPT, &two, 1);
    assert_int_equal(gen_aes(e, &t, &b), CKR_ATTRIBUTE_VALUE_INVALID);
    et_reset(&t); /* integer of the wrong width */
    et_bytes(&t, CKA_VALUE_LEN, &small, sizeof(small));
    assert_int_equal(gen_aes(e, &t, &b), CKR_ATTRIBUTE_VALUE_INVALID);
    et_reset(&t); /* duplicate */
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_bool(&t, CKA_ENCRYPT, 1);
    et_bool(&t, CKA_ENCRYPT, 1);
    assert_int_equal(gen_aes(e, &t, &b), CKR_TEMPLATE_INCONSISTENT);
    et_reset(&t); /* engine-set attributes are read-only */
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_bool(&t, CKA_LOCAL, 1);
    assert_int_equal(gen_aes(e, &t, &b), CKR_ATTRIBUTE_READ_ONLY);
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_ulong(&t, CKA_KEY_GEN_MECHANISM, CKM_AES_KEY_GEN);
    assert_int_equal(gen_aes(e, &t, &b), CKR_ATTRIBUTE_READ_ONLY);
    et_reset(&t); /* no value in a generate template */
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_bytes(&t, CKA_VALUE, "0123456789abcdef", 16);
    assert_int_equal(gen_aes(e, &t, &b), CKR_TEMPLATE_INCONSISTENT);
    et_reset(&t); /* recover usages are not supported: TRUE is an invalid value, FALSE fine */
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_bool(&t, CKA_SIGN_RECOVER, 1);
    assert_int_equal(gen_aes(e, &t, &b), CKR_ATTRIBUTE_VALUE_INVALID);
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_bool(&t, CKA_SIGN_RECOVER, 0);
    et_bool(&t, CKA_VERIFY_RECOVER, 0);
    assert_int_equal(gen_aes(e, &t, &b), CKR_OK);
    engine_buf_free(&b);
    et_reset(&t); /* NULL value pointer */
    et_ulong(&t, CKA_VALUE_LEN, 16);
    t.a[0].pValue = NULL;
    assert_int_equal(gen_aes(e, &t, &b), CKR_ATTRIBUTE_VALUE_INVALID);
    et_reset(&t); /* label and token are accepted and not bound */
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_bytes(&t, CKA_LABEL, "lbl", 3);
    et_bool(&t, CKA_TOKEN, 1);
    assert_int_equal(gen_aes(e, &t, &b), CKR_OK);
    {
        CK_ULONG l = 0;
        assert_int_equal(get1(e, &b, CKA_LABEL, NULL, &l), CKR_ATTRIBUTE_TYPE_INVALID);
        assert_int_equal(l, CK_UNAVAILABLE_INFORMATION);
    }
    engine_buf_free(&b);
    engine_destroy(e);
}

static void test_generated_attributes(void **state)
{
    (void)state;
    engine *e = et_engine();
    etmpl t;
    engine_buf b = {0}, cs = {0};
    uint8_t cv[8];
    CK_ULONG l = 0;

    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 32);
    et_bool(&t, CKA_SENSITIVE, 0);
    assert_int_equal(gen(e, CKM_AES_KEY_GEN, &t, &b, &cs), CKR_OK);
    assert_int_equal(cs.len, 7);
    assert_int_equal(cs.ptr[6] | (cs.ptr[5] << 8), 256);
    assert_int_equal(get_bool(e, &b, CKA_LOCAL), 1);
    assert_int_equal(get_ulong(e, &b, CKA_KEY_GEN_MECHANISM), CKM_AES_KEY_GEN);
    assert_int_equal(get_ulong(e, &b, CKA_CLASS), CKO_SECRET_KEY);
    assert_int_equal(get_ulong(e, &b, CKA_KEY_TYPE), CKK_AES);
    assert_int_equal(get_bool(e, &b, CKA_ALWAYS_SENSITIVE), 0);
    assert_int_equal(get_bool(e, &b, CKA_NEVER_EXTRACTABLE), 0);
    assert_int_equal(get_bool(e, &b, CKA_EXTRACTABLE), 1);
    assert_int_equal(get_bool(e, &b, CKA_MODIFIABLE), 1);
    assert_int_equal(get_bool(e, &b, CKA_TRUSTED), 0);
    /* EP11 defaults: every usage the key type supports. */
    assert_int_equal(get_bool(e, &b, CKA_ENCRYPT), 1);
    assert_int_equal(get_bool(e, &b, CKA_UNWRAP), 1);
    /* Check value = AES-ECB(key, 0^16)[0..3], also the checksum's head. */
    {
        uint8_t key[32], zero[16] = {0}, ct[32];
        int ol = 0;
        EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
        assert_int_equal(get1(e, &b, CKA_VALUE, key, &l), CKR_OK);
        assert_int_equal(l, 32);
        EVP_EncryptInit_ex(c, EVP_aes_256_ecb(), NULL, key, NULL);
        EVP_CIPHER_CTX_set_padding(c, 0);
        EVP_EncryptUpdate(c, ct, &ol, zero, 16);
        EVP_CIPHER_CTX_free(c);
        assert_int_equal(get1(e, &b, CKA_CHECK_VALUE, cv, &l), CKR_OK);
        assert_int_equal(l, 3);
        assert_memory_equal(cv, ct, 3);
        assert_memory_equal(cs.ptr, ct, 3);
    }
    engine_buf_free(&b);
    engine_buf_free(&cs);

    /* Defaults: sensitive, extractable; always-sensitive follows. */
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_bool(&t, CKA_EXTRACTABLE, 0);
    assert_int_equal(gen(e, CKM_AES_KEY_GEN, &t, &b, &cs), CKR_OK);
    assert_int_equal(get_bool(e, &b, CKA_SENSITIVE), 1);
    assert_int_equal(get_bool(e, &b, CKA_ALWAYS_SENSITIVE), 1);
    assert_int_equal(get_bool(e, &b, CKA_NEVER_EXTRACTABLE), 1);
    engine_buf_free(&b);
    engine_buf_free(&cs);
    engine_destroy(e);
}

static void test_value_never_leaks(void **state)
{
    (void)state;
    engine *e = et_engine();
    etmpl t;
    engine_buf b = {0};
    uint8_t v[64];
    CK_ULONG l = 0;
    CK_ATTRIBUTE_TYPE tys[3] = {CKA_VALUE, CKA_CLASS, CKA_MODULUS};
    CK_ATTRIBUTE *out = NULL;
    CK_ULONG n = 0;

    et_reset(&t); /* sensitive (default) */
    et_ulong(&t, CKA_VALUE_LEN, 16);
    assert_int_equal(gen_aes(e, &t, &b), CKR_OK);
    assert_int_equal(get1(e, &b, CKA_VALUE, v, &l), CKR_ATTRIBUTE_SENSITIVE);
    assert_int_equal(l, CK_UNAVAILABLE_INFORMATION);
    /* Mixed request: sensitive wins, the others are still filled. */
    assert_int_equal(engine_get_attribute_value(e, et_b(&b), tys, 3, &out, &n),
                     CKR_ATTRIBUTE_SENSITIVE);
    assert_int_equal(n, 3);
    assert_int_equal(out[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    assert_int_equal(out[1].ulValueLen, sizeof(CK_ULONG));
    assert_int_equal(out[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    engine_attrs_free(out, n);
    engine_buf_free(&b);

    et_reset(&t); /* not sensitive but not extractable */
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_bool(&t, CKA_SENSITIVE, 0);
    et_bool(&t, CKA_EXTRACTABLE, 0);
    assert_int_equal(gen_aes(e, &t, &b), CKR_OK);
    assert_int_equal(get1(e, &b, CKA_VALUE, v, &l), CKR_ATTRIBUTE_SENSITIVE);
    engine_buf_free(&b);
    engine_destroy(e);
}

static CK_RV set1(engine *e, engine_buf *b, CK_ATTRIBUTE_TYPE ty, int on)
{
    etmpl t;
    engine_buf nb = {0};
    CK_RV rv;
    et_reset(&t);
    et_bool(&t, ty, on);
    rv = engine_set_attribute_value(e, et_b(b), t.a, t.n, &nb);
    if (rv == CKR_OK) {
        engine_buf_free(b);
        *b = nb;
    }
    return rv;
}

static void test_set_attribute_rules(void **state)
{
    (void)state;
    engine *e = et_engine();
    etmpl t;
    engine_buf b = {0};
    uint8_t v[64];
    CK_ULONG l = 0;

    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_bool(&t, CKA_SENSITIVE, 0);
    assert_int_equal(gen_aes(e, &t, &b), CKR_OK);
    assert_int_equal(get1(e, &b, CKA_VALUE, v, &l), CKR_OK);
    /* sensitive turns on, never off */
    assert_int_equal(set1(e, &b, CKA_SENSITIVE, 1), CKR_OK);
    assert_int_equal(get1(e, &b, CKA_VALUE, v, &l), CKR_ATTRIBUTE_SENSITIVE);
    assert_int_equal(set1(e, &b, CKA_SENSITIVE, 0), CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(get_bool(e, &b, CKA_ALWAYS_SENSITIVE), 0);
    /* extractable turns off, never on */
    assert_int_equal(set1(e, &b, CKA_EXTRACTABLE, 0), CKR_OK);
    assert_int_equal(set1(e, &b, CKA_EXTRACTABLE, 1), CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(get_bool(e, &b, CKA_NEVER_EXTRACTABLE), 0);
    /* wrap-with-trusted turns on, never off */
    assert_int_equal(set1(e, &b, CKA_WRAP_WITH_TRUSTED, 1), CKR_OK);
    assert_int_equal(set1(e, &b, CKA_WRAP_WITH_TRUSTED, 0), CKR_ATTRIBUTE_READ_ONLY);
    /* usage flags toggle */
    assert_int_equal(set1(e, &b, CKA_ENCRYPT, 0), CKR_OK);
    assert_int_equal(get_bool(e, &b, CKA_ENCRYPT), 0);
    assert_int_equal(set1(e, &b, CKA_ENCRYPT, 1), CKR_OK);
    /* engine-set attributes are read-only */
    assert_int_equal(set1(e, &b, CKA_LOCAL, 0), CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(set1(e, &b, CKA_LOCAL, 1), CKR_OK); /* re-stating is harmless */
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 32);
    {
        engine_buf nb = {0};
        assert_int_equal(engine_set_attribute_value(e, et_b(&b), t.a, t.n, &nb),
                         CKR_ATTRIBUTE_READ_ONLY);
        et_reset(&t);
        et_bytes(&t, CKA_VALUE, "0123456789abcdef", 16);
        assert_int_equal(engine_set_attribute_value(e, et_b(&b), t.a, t.n, &nb),
                         CKR_ATTRIBUTE_READ_ONLY);
    }
    /* modifiable is fixed at creation; a non-modifiable key never changes */
    assert_int_equal(set1(e, &b, CKA_MODIFIABLE, 0), CKR_ATTRIBUTE_READ_ONLY);
    engine_buf_free(&b);
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_bool(&t, CKA_MODIFIABLE, 0);
    assert_int_equal(gen_aes(e, &t, &b), CKR_OK);
    assert_int_equal(set1(e, &b, CKA_ENCRYPT, 0), CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(set1(e, &b, CKA_SENSITIVE, 1), CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(set1(e, &b, CKA_MODIFIABLE, 1), CKR_ATTRIBUTE_READ_ONLY);
    engine_buf_free(&b);
    engine_destroy(e);
}

static void test_key_types(void **state)
{
    (void)state;
    engine *e = et_engine();
    etmpl t;
    engine_buf b = {0}, cs = {0};

    et_reset(&t); /* single DES is refused */
    assert_int_equal(gen(e, CKM_DES_KEY_GEN, &t, &b, &cs), CKR_MECHANISM_INVALID);
    /* DES3 as the GREP11 examples ask for it (CKA_VALUE_LEN 32 is ignored). */
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 32);
    assert_int_equal(gen(e, CKM_DES3_KEY_GEN, &t, &b, &cs), CKR_OK);
    assert_int_equal(get_ulong(e, &b, CKA_VALUE_LEN), 24);
    assert_int_equal(get_ulong(e, &b, CKA_KEY_TYPE), CKK_DES3);
    engine_buf_free(&b);
    engine_buf_free(&cs);
    et_reset(&t);
    assert_int_equal(gen(e, CKM_DES2_KEY_GEN, &t, &b, &cs), CKR_OK);
    assert_int_equal(get_ulong(e, &b, CKA_VALUE_LEN), 16);
    engine_buf_free(&b);
    engine_buf_free(&cs);
    /* Generic secrets: any length within policy; no cipher usages. */
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 77);
    assert_int_equal(gen(e, CKM_GENERIC_SECRET_KEY_GEN, &t, &b, &cs), CKR_OK);
    assert_int_equal(get_bool(e, &b, CKA_SIGN), 1);
    assert_int_equal(get_bool(e, &b, CKA_ENCRYPT), 0);
    engine_buf_free(&b);
    engine_buf_free(&cs);
    /* ... unless asked for (pkcs11-tool/libp11 ECDH outputs): stored, and
     * still no cipher takes the key. */
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 32);
    et_bool(&t, CKA_ENCRYPT, 1);
    assert_int_equal(gen(e, CKM_GENERIC_SECRET_KEY_GEN, &t, &b, &cs), CKR_OK);
    assert_int_equal(get_bool(e, &b, CKA_ENCRYPT), 1);
    {
        engine_mech ecb = et_mech(CKM_AES_ECB);
        engine_buf st = {0};
        assert_int_equal(engine_encrypt_init(e, &ecb, et_b(&b), &st), CKR_KEY_TYPE_INCONSISTENT);
        assert_null(st.ptr);
    }
    engine_buf_free(&b);
    engine_buf_free(&cs);
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 513);
    assert_int_equal(gen(e, CKM_GENERIC_SECRET_KEY_GEN, &t, &b, &cs), CKR_ATTRIBUTE_VALUE_INVALID);
    /* Mechanism parameters are refused where none belong. */
    {
        engine_mech m = et_mech_b(CKM_AES_KEY_GEN, "x", 1);
        et_reset(&t);
        et_ulong(&t, CKA_VALUE_LEN, 16);
        assert_int_equal(engine_generate_key(e, &m, t.a, t.n, &b, &cs),
                         CKR_MECHANISM_PARAM_INVALID);
    }
    engine_destroy(e);
}

static void test_policy_knobs(void **state)
{
    (void)state;
    engine *e = NULL;
    engine_policy pol;
    etmpl t;
    engine_buf b = {0}, cs = {0};

    memset(&pol, 0, sizeof(pol));
    pol.flags =
        ENGINE_POLICY_NO_TRUSTED | ENGINE_POLICY_NO_DES3 | ENGINE_POLICY_USAGE_DEFAULT_FALSE;
    assert_int_equal(engine_create(ETEST_WK, &pol, &e), CKR_OK);
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_bool(&t, CKA_TRUSTED, 1);
    assert_int_equal(gen(e, CKM_AES_KEY_GEN, &t, &b, &cs), CKR_ATTRIBUTE_READ_ONLY);
    et_reset(&t);
    assert_int_equal(gen(e, CKM_DES3_KEY_GEN, &t, &b, &cs), CKR_TEMPLATE_INCONSISTENT);
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 16);
    assert_int_equal(gen(e, CKM_AES_KEY_GEN, &t, &b, &cs), CKR_OK);
    assert_int_equal(get_bool(e, &b, CKA_ENCRYPT), 0);
    assert_int_equal(set1(e, &b, CKA_TRUSTED, 1), CKR_ATTRIBUTE_READ_ONLY);
    engine_buf_free(&b);
    engine_buf_free(&cs);
    /* Default policy: generic secrets need 112 bits. */
    engine_destroy(e);
    assert_int_equal(engine_create(ETEST_WK, NULL, &e), CKR_OK);
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 13);
    assert_int_equal(gen(e, CKM_GENERIC_SECRET_KEY_GEN, &t, &b, &cs), CKR_ATTRIBUTE_VALUE_INVALID);
    engine_destroy(e);
}

/* The untrusted view shares the engine's keys but refuses CKA_TRUSTED;
 * blobs pass between the two, and the view outlives nothing. */
static void test_untrusted_view(void **state)
{
    (void)state;
    engine *e = NULL;
    etmpl t;
    engine_buf b = {0}, tb = {0}, cs = {0}, nb = {0};
    assert_int_equal(engine_create(ETEST_WK, NULL, &e), CKR_OK);
    engine *v = engine_untrusted_view(e);
    assert_non_null(v);
    assert_ptr_not_equal(v, e);
    assert_ptr_equal(engine_untrusted_view(v), v);
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_bool(&t, CKA_TRUSTED, 1);
    assert_int_equal(gen(v, CKM_AES_KEY_GEN, &t, &b, &cs), CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(gen(e, CKM_AES_KEY_GEN, &t, &tb, &cs), CKR_OK);
    engine_buf_free(&cs);
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 16);
    assert_int_equal(gen(v, CKM_AES_KEY_GEN, &t, &b, &cs), CKR_OK);
    assert_int_equal(set1(v, &b, CKA_TRUSTED, 1), CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(set1(e, &b, CKA_TRUSTED, 1), CKR_OK);
    /* A key the SO made trusted stays usable (and trusted) through the view. */
    assert_int_equal(get_bool(v, &tb, CKA_TRUSTED), 1);
    /* One domain: a rotation through the engine is seen through the view. */
    static const uint8_t wk2[32] = {9};
    assert_int_equal(engine_load_new_wk(e, wk2), CKR_OK);
    assert_int_equal(engine_rewrap_key_blob(v, (engine_bytes){b.ptr, b.len}, &nb), CKR_OK);
    engine_destroy(v); /* a no-op: the view belongs to e */
    engine_buf_free(&b);
    engine_buf_free(&tb);
    engine_buf_free(&cs);
    engine_buf_free(&nb);
    engine_destroy(e);
}

static void test_import(void **state)
{
    (void)state;
    engine *e = et_engine();
    etmpl t;
    engine_buf b = {0}, cs = {0};
    static const uint8_t k[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                  0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
    uint8_t bad_cv[3] = {0, 0, 0};

    et_reset(&t); /* class is required for C_CreateObject */
    et_ulong(&t, CKA_KEY_TYPE, CKK_AES);
    et_bytes(&t, CKA_VALUE, k, 16);
    assert_int_equal(engine_import_secret_key(e, t.a, t.n, &b, &cs), CKR_TEMPLATE_INCOMPLETE);
    et_reset(&t); /* key type too */
    et_ulong(&t, CKA_CLASS, CKO_SECRET_KEY);
    et_bytes(&t, CKA_VALUE, k, 16);
    assert_int_equal(engine_import_secret_key(e, t.a, t.n, &b, &cs), CKR_TEMPLATE_INCOMPLETE);
    et_reset(&t); /* bad AES length */
    et_ulong(&t, CKA_CLASS, CKO_SECRET_KEY);
    et_ulong(&t, CKA_KEY_TYPE, CKK_AES);
    et_bytes(&t, CKA_VALUE, k, 15);
    assert_int_equal(engine_import_secret_key(e, t.a, t.n, &b, &cs), CKR_ATTRIBUTE_VALUE_INVALID);
    et_reset(&t); /* wrong check value */
    et_ulong(&t, CKA_CLASS, CKO_SECRET_KEY);
    et_ulong(&t, CKA_KEY_TYPE, CKK_AES);
    et_bytes(&t, CKA_VALUE, k, 16);
    et_bytes(&t, CKA_CHECK_VALUE, bad_cv, 3);
    assert_int_equal(engine_import_secret_key(e, t.a, t.n, &b, &cs), CKR_ATTRIBUTE_VALUE_INVALID);
    et_reset(&t); /* single DES */
    et_ulong(&t, CKA_CLASS, CKO_SECRET_KEY);
    et_ulong(&t, CKA_KEY_TYPE, CKK_DES);
    et_bytes(&t, CKA_VALUE, k, 8);
    assert_int_equal(engine_import_secret_key(e, t.a, t.n, &b, &cs), CKR_TEMPLATE_INCONSISTENT);
    et_reset(&t);
    et_ulong(&t, CKA_CLASS, CKO_SECRET_KEY);
    et_ulong(&t, CKA_KEY_TYPE, CKK_AES);
    et_bytes(&t, CKA_VALUE, k, 16);
    assert_int_equal(engine_import_secret_key(e, t.a, t.n, &b, &cs), CKR_OK);
    assert_int_equal(get_bool(e, &b, CKA_LOCAL), 0);
    assert_int_equal(get_bool(e, &b, CKA_ALWAYS_SENSITIVE), 0);
    assert_int_equal(get_bool(e, &b, CKA_NEVER_EXTRACTABLE), 0);
    assert_int_equal(get_ulong(e, &b, CKA_KEY_GEN_MECHANISM), CK_UNAVAILABLE_INFORMATION);
    engine_buf_free(&b);
    engine_buf_free(&cs);
    engine_destroy(e);
}

/* CKA_ALLOWED_MECHANISMS: bound in the blob, reported, enforced at every
 * use, and fixed once the key exists. */
static CK_RV encrypt_with(engine *e, const engine_buf *key, CK_MECHANISM_TYPE mt)
{
    static const uint8_t iv[16], msg[16] = "sixteen byte msg";
    engine_mech m = mt == CKM_AES_ECB ? et_mech(mt) : et_mech_b(mt, iv, sizeof(iv));
    engine_buf out = {0};
    CK_RV rv = engine_encrypt_single(e, et_b(key), &m, et_raw(msg, sizeof(msg)), &out);
    engine_buf_free(&out);
    return rv;
}

static void test_allowed_mechanisms(void **state)
{
    (void)state;
    engine *e = et_engine();
    etmpl t;
    engine_buf k = {0}, any = {0}, nb = {0};
    CK_MECHANISM_TYPE only[] = {CKM_AES_CBC_PAD, CKM_AES_CBC}, got[8], many[33];
    CK_ULONG len = 0;

    /* Malformed lists: no whole number of entries, or longer than 32. */
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 32);
    et_bytes(&t, CKA_ALLOWED_MECHANISMS, only, sizeof(only) - 1);
    assert_int_equal(gen_aes(e, &t, &k), CKR_ATTRIBUTE_VALUE_INVALID);
    for (size_t i = 0; i < 33; i++)
        many[i] = CKM_AES_ECB;
    t.a[1].pValue = many;
    t.a[1].ulValueLen = sizeof(many);
    assert_int_equal(gen_aes(e, &t, &k), CKR_ATTRIBUTE_VALUE_INVALID);
    t.a[1].ulValueLen = 32 * sizeof(many[0]);
    assert_int_equal(gen_aes(e, &t, &k), CKR_OK);
    engine_buf_free(&k);

    t.a[1].pValue = only;
    t.a[1].ulValueLen = sizeof(only);
    assert_int_equal(gen_aes(e, &t, &k), CKR_OK);
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 32);
    assert_int_equal(gen_aes(e, &t, &any), CKR_OK);

    /* Reported as given; a key without a list reports an empty one. */
    assert_int_equal(get1(e, &k, CKA_ALLOWED_MECHANISMS, got, &len), CKR_OK);
    assert_int_equal(len, sizeof(only));
    assert_memory_equal(got, only, sizeof(only));
    assert_int_equal(get1(e, &any, CKA_ALLOWED_MECHANISMS, got, &len), CKR_OK);
    assert_int_equal(len, 0);

    /* Enforced: the usage flag allows ECB, the list does not. */
    assert_int_equal(encrypt_with(e, &k, CKM_AES_ECB), CKR_MECHANISM_INVALID);
    assert_int_equal(encrypt_with(e, &k, CKM_AES_CBC_PAD), CKR_OK);
    assert_int_equal(encrypt_with(e, &k, CKM_AES_CBC), CKR_OK);
    assert_int_equal(encrypt_with(e, &any, CKM_AES_ECB), CKR_OK);
    /* ... and the usage flag still comes first. */
    CK_BBOOL off = CK_FALSE;
    CK_ATTRIBUTE no_enc = {CKA_ENCRYPT, &off, 1};
    assert_int_equal(engine_set_attribute_value(e, et_b(&k), &no_enc, 1, &nb), CKR_OK);
    assert_int_equal(encrypt_with(e, &nb, CKM_AES_ECB), CKR_KEY_FUNCTION_NOT_PERMITTED);
    /* The list survives a re-seal (SetAttributeValue; rotation below). */
    assert_int_equal(get1(e, &nb, CKA_ALLOWED_MECHANISMS, got, &len), CKR_OK);
    assert_int_equal(len, sizeof(only));
    engine_buf_free(&nb);

    /* Fixed when the key is made: neither swapped, nor added to a key that
     * had none; re-stating the same list is harmless. */
    CK_MECHANISM_TYPE ecb = CKM_AES_ECB;
    CK_ATTRIBUTE to_ecb = {CKA_ALLOWED_MECHANISMS, &ecb, sizeof(ecb)};
    CK_ATTRIBUTE same = {CKA_ALLOWED_MECHANISMS, only, sizeof(only)};
    assert_int_equal(engine_set_attribute_value(e, et_b(&k), &to_ecb, 1, &nb),
                     CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(engine_set_attribute_value(e, et_b(&any), &to_ecb, 1, &nb),
                     CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(engine_set_attribute_value(e, et_b(&k), &same, 1, &nb), CKR_OK);
    engine_buf_free(&nb);

    /* Key management uses it too: a derivation and a wrap outside the list. */
    engine_mech derive = et_mech(CKM_SHA256_KEY_DERIVATION);
    engine_buf dk = {0}, dcs = {0}, wrapped = {0};
    et_reset(&t);
    et_ulong(&t, CKA_CLASS, CKO_SECRET_KEY);
    et_ulong(&t, CKA_KEY_TYPE, CKK_GENERIC_SECRET);
    et_ulong(&t, CKA_VALUE_LEN, 16);
    assert_int_equal(
        engine_derive_key(e, &derive, t.a, t.n, et_b(&any), et_raw(NULL, 0), &dk, &dcs), CKR_OK);
    engine_buf_free(&dk);
    engine_buf_free(&dcs);
    assert_int_equal(engine_derive_key(e, &derive, t.a, t.n, et_b(&k), et_raw(NULL, 0), &dk, &dcs),
                     CKR_MECHANISM_INVALID);
    engine_mech kw = et_mech(CKM_AES_KEY_WRAP);
    assert_int_equal(engine_wrap_key(e, et_b(&any), et_b(&k), et_raw(NULL, 0), &kw, &wrapped),
                     CKR_MECHANISM_INVALID);
    assert_int_equal(engine_wrap_key(e, et_b(&k), et_b(&any), et_raw(NULL, 0), &kw, &wrapped),
                     CKR_OK);
    engine_buf_free(&wrapped);

    /* DigestKey: the digest mechanism must be on the list as well. */
    engine_mech sha = et_mech(CKM_SHA256);
    engine_buf ds = {0}, ds2 = {0};
    assert_int_equal(engine_digest_init(e, &sha, &ds), CKR_OK);
    assert_int_equal(engine_digest_key(e, et_b(&ds), et_b(&k), &ds2), CKR_KEY_INDIGESTIBLE);
    assert_null(ds2.ptr);
    assert_int_equal(engine_digest_key(e, et_b(&ds), et_b(&any), &ds2), CKR_OK);
    engine_buf_free(&ds2);
    engine_buf_free(&ds);

    /* Last, since it retires the blobs above: a new master key re-seals it. */
    assert_int_equal(engine_load_new_wk(e, ETEST_WK2), CKR_OK);
    assert_int_equal(engine_rewrap_key_blob(e, et_b(&k), &nb), CKR_OK);
    assert_int_equal(engine_activate_new_wk(e), CKR_OK);
    assert_int_equal(encrypt_with(e, &nb, CKM_AES_ECB), CKR_MECHANISM_INVALID);
    assert_int_equal(encrypt_with(e, &nb, CKM_AES_CBC_PAD), CKR_OK);
    engine_buf_free(&nb);
    engine_buf_free(&k);
    engine_buf_free(&any);
    engine_destroy(e);
}

/* The same for a private key, whose signing goes through the key cache:
 * the list holds on the first use and on cached ones. */
static void test_allowed_mechanisms_pair(void **state)
{
    (void)state;
    static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    static const uint8_t digest[32] = {1, 2, 3};
    engine *e = et_engine();
    etmpl pub, priv;
    engine_buf sk = {0}, pk = {0}, sig = {0};
    CK_MECHANISM_TYPE only = CKM_ECDSA, pub_only = CKM_ECDSA_SHA256;
    et_reset(&pub);
    et_bytes(&pub, CKA_EC_PARAMS, p256, sizeof(p256));
    et_bytes(&pub, CKA_ALLOWED_MECHANISMS, &pub_only, sizeof(pub_only));
    et_reset(&priv);
    et_bytes(&priv, CKA_ALLOWED_MECHANISMS, &only, sizeof(only));
    assert_int_equal(epk_pair(e, CKM_EC_KEY_PAIR_GEN, &pub, &priv, &sk, &pk), CKR_OK);
    engine_mech ecdsa = et_mech(CKM_ECDSA), hashed = et_mech(CKM_ECDSA_SHA256);
    for (int round = 0; round < 2; round++) {
        engine_buf_free(&sig);
        assert_int_equal(engine_sign_single(e, et_b(&sk), &hashed, et_raw(digest, 32), &sig),
                         CKR_MECHANISM_INVALID);
        assert_int_equal(engine_sign_single(e, et_b(&sk), &ecdsa, et_raw(digest, 32), &sig),
                         CKR_OK);
    }
    /* The MACed public key carries its own list. */
    assert_int_equal(engine_verify_single(e, et_b(&pk), &ecdsa, et_raw(digest, 32), et_b(&sig)),
                     CKR_MECHANISM_INVALID);
    assert_int_equal(engine_verify_single(e, et_b(&pk), &hashed, et_raw(digest, 32), et_b(&sig)),
                     CKR_SIGNATURE_INVALID);
    engine_buf_free(&sig);
    engine_buf_free(&sk);
    engine_buf_free(&pk);
    engine_destroy(e);
}

static void test_attribute_kinds(void **state)
{
    (void)state;
    assert_int_equal(engine_attribute_kind(CKA_SENSITIVE), ENGINE_ATTR_BOOL);
    assert_int_equal(engine_attribute_kind(CKA_VALUE_LEN), ENGINE_ATTR_ULONG);
    assert_int_equal(engine_attribute_kind(CKA_CHECK_VALUE), ENGINE_ATTR_BYTES);
    assert_int_equal(engine_attribute_kind(CKA_MODULUS), ENGINE_ATTR_BYTES);
    assert_int_equal(engine_attribute_kind(CKA_MODULUS_BITS), ENGINE_ATTR_ULONG);
    assert_int_equal(engine_attribute_kind(CKA_PARAMETER_SET), ENGINE_ATTR_ULONG);
    assert_int_equal(engine_attribute_kind(CKA_PRIVATE_EXPONENT), ENGINE_ATTR_BYTES);
    assert_int_equal(engine_attribute_kind(CKA_HW_FEATURE_TYPE), ENGINE_ATTR_UNKNOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aes_sizes),
        cmocka_unit_test(test_template_errors),
        cmocka_unit_test(test_generated_attributes),
        cmocka_unit_test(test_value_never_leaks),
        cmocka_unit_test(test_set_attribute_rules),
        cmocka_unit_test(test_key_types),
        cmocka_unit_test(test_attribute_kinds),
        cmocka_unit_test(test_allowed_mechanisms),
        cmocka_unit_test(test_allowed_mechanisms_pair),
        cmocka_unit_test(test_policy_knobs),
        cmocka_unit_test(test_untrusted_view),
        cmocka_unit_test(test_import),
    };
    return cmocka_run_group_tests_name("engine_policy", tests, NULL, NULL);
}
