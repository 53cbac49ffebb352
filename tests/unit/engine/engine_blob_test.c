/* Blob format v1: every unseal failure class, through the internal API (to
 * see the class) and through engine.h (to see the documented CK_RV). */
#include "etest.h"

#include "blob.h"
#include "internal.h"

static engine_buf make_key(engine *e)
{
    static const uint8_t k[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                  0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
    engine_buf b = {0};
    assert_int_equal(et_import(e, CKK_AES, k, sizeof(k), &b), CKR_OK);
    return b;
}

static blob_err unseal(engine *e, blob_type t, const uint8_t *p, size_t len)
{
    const uint8_t *a;
    size_t al, pl;
    uint8_t *pt;
    blob_err r = blob_unseal(&e->d->cur, t, p, len, &a, &al, &pt, &pl);
    engine_freezero(pt, pl);
    return r;
}

static CK_RV get_class(engine *e, const uint8_t *p, size_t len)
{
    CK_ATTRIBUTE_TYPE ty = CKA_CLASS;
    CK_ATTRIBUTE *out = NULL;
    CK_ULONG n = 0;
    CK_RV rv = engine_get_attribute_value(e, et_raw(p, len), &ty, 1, &out, &n);
    engine_attrs_free(out, n);
    return rv;
}

static void test_roundtrip(void **state)
{
    (void)state;
    engine *e = et_engine();
    engine_buf b = make_key(e);
    engine_buf s = {0};
    assert_int_equal(unseal(e, BLOB_KEY, b.ptr, b.len), BLOB_OK);
    assert_int_equal(get_class(e, b.ptr, b.len), CKR_OK);
    /* State blobs round-trip too, and an empty payload is fine. */
    assert_int_equal(blob_seal(&e->d->cur, BLOB_STATE, NULL, 0, NULL, 0, &s), CKR_OK);
    assert_int_equal(unseal(e, BLOB_STATE, s.ptr, s.len), BLOB_OK);
    engine_buf_free(&s);
    engine_buf_free(&b);
    engine_destroy(e);
}

static void test_every_bit_flip(void **state)
{
    (void)state;
    engine *e = et_engine();
    engine_buf b = make_key(e);
    for (size_t i = 0; i < b.len * 8; i++) {
        b.ptr[i / 8] ^= (uint8_t)(1u << (i % 8));
        assert_int_not_equal(unseal(e, BLOB_KEY, b.ptr, b.len), BLOB_OK);
        b.ptr[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
    /* Through the API: a flip in the ciphertext area is an AEAD failure. */
    b.ptr[b.len - 20] ^= 1;
    assert_int_equal(unseal(e, BLOB_KEY, b.ptr, b.len), BLOB_E_AUTH);
    assert_int_equal(get_class(e, b.ptr, b.len), CKR_OBJECT_HANDLE_INVALID);
    {
        engine_buf out = {0};
        engine_mech m = et_mech(CKM_AES_ECB);
        uint8_t in[16] = {0};
        CK_RV rv = engine_encrypt_single(e, et_b(&b), &m, et_raw(in, 16), &out);
        assert_true(rv == CKR_KEY_HANDLE_INVALID || rv == CKR_FUNCTION_NOT_SUPPORTED);
    }
    b.ptr[b.len - 20] ^= 1;
    /* A flipped attribute bit also breaks it (attributes are AAD). */
    b.ptr[40] ^= 0x80;
    assert_int_equal(unseal(e, BLOB_KEY, b.ptr, b.len), BLOB_E_AUTH);
    b.ptr[40] ^= 0x80;
    assert_int_equal(unseal(e, BLOB_KEY, b.ptr, b.len), BLOB_OK);
    engine_buf_free(&b);
    engine_destroy(e);
}

static void test_truncation(void **state)
{
    (void)state;
    engine *e = et_engine();
    engine_buf b = make_key(e);
    uint8_t *longer = malloc(b.len + 1);
    for (size_t l = 0; l < b.len; l++) {
        blob_err r = unseal(e, BLOB_KEY, b.ptr, l);
        assert_int_equal(r, BLOB_E_MALFORMED);
        assert_int_equal(get_class(e, b.ptr, l), CKR_OBJECT_HANDLE_INVALID);
    }
    memcpy(longer, b.ptr, b.len);
    longer[b.len] = 0;
    assert_int_equal(unseal(e, BLOB_KEY, longer, b.len + 1), BLOB_E_MALFORMED);
    assert_int_equal(unseal(e, BLOB_KEY, NULL, 0), BLOB_E_MALFORMED);
    free(longer);
    engine_buf_free(&b);
    engine_destroy(e);
}

static void test_other_wkid(void **state)
{
    (void)state;
    engine *e = et_engine(), *e2 = NULL;
    engine_buf b = make_key(e);
    assert_int_equal(engine_create(ETEST_WK2, NULL, &e2), CKR_OK);
    assert_int_equal(unseal(e2, BLOB_KEY, b.ptr, b.len), BLOB_E_WKID);
    assert_int_equal(get_class(e2, b.ptr, b.len), CKR_IBM_WKID_MISMATCH);
    /* Forging the WKID field does not help: it is authenticated, and the
     * subkey differs anyway. */
    memcpy(b.ptr + 8, e2->d->cur.wkid, 16);
    assert_int_equal(unseal(e2, BLOB_KEY, b.ptr, b.len), BLOB_E_AUTH);
    engine_buf_free(&b);
    engine_destroy(e);
    engine_destroy(e2);
}

static void test_type_and_version(void **state)
{
    (void)state;
    engine *e = et_engine();
    engine_buf b = make_key(e), s = {0};
    assert_int_equal(unseal(e, BLOB_STATE, b.ptr, b.len), BLOB_E_TYPE);
    assert_int_equal(blob_seal(&e->d->cur, BLOB_STATE, NULL, 0, (const uint8_t *)"x", 1, &s),
                     CKR_OK);
    assert_int_equal(unseal(e, BLOB_KEY, s.ptr, s.len), BLOB_E_TYPE);
    assert_int_equal(get_class(e, s.ptr, s.len), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(blob_state_rv(BLOB_E_TYPE), CKR_SAVED_STATE_INVALID);
    assert_int_equal(blob_key_rv(BLOB_E_TYPE), CKR_KEY_HANDLE_INVALID);
    b.ptr[4] = 2; /* version */
    assert_int_equal(unseal(e, BLOB_KEY, b.ptr, b.len), BLOB_E_VERSION);
    assert_int_equal(get_class(e, b.ptr, b.len), CKR_OBJECT_HANDLE_INVALID);
    b.ptr[4] = 1;
    b.ptr[0] = 'X'; /* magic */
    assert_int_equal(unseal(e, BLOB_KEY, b.ptr, b.len), BLOB_E_MALFORMED);
    engine_buf_free(&s);
    engine_buf_free(&b);
    engine_destroy(e);
}

static void test_rotation(void **state)
{
    (void)state;
    engine *e = et_engine();
    engine_buf b = make_key(e), nb = {0}, nb2 = {0};
    assert_int_equal(engine_rewrap_key_blob(e, et_b(&b), &nb), CKR_IBM_WK_NOT_INITIALIZED);
    assert_int_equal(engine_load_new_wk(e, ETEST_WK2), CKR_OK);
    assert_int_equal(engine_rewrap_key_blob(e, et_b(&b), &nb), CKR_OK);
    /* Resumable: re-wrapping an already re-wrapped blob works. */
    assert_int_equal(engine_rewrap_key_blob(e, et_b(&nb), &nb2), CKR_OK);
    /* Before activation the old blob works and the new one does not. */
    assert_int_equal(get_class(e, b.ptr, b.len), CKR_OK);
    assert_int_equal(get_class(e, nb.ptr, nb.len), CKR_IBM_WKID_MISMATCH);
    assert_int_equal(engine_activate_new_wk(e), CKR_OK);
    assert_int_equal(get_class(e, b.ptr, b.len), CKR_IBM_WKID_MISMATCH);
    assert_int_equal(get_class(e, nb.ptr, nb.len), CKR_OK);
    assert_int_equal(get_class(e, nb2.ptr, nb2.len), CKR_OK);
    engine_buf_free(&b);
    engine_buf_free(&nb);
    engine_buf_free(&nb2);
    engine_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),        cmocka_unit_test(test_every_bit_flip),
        cmocka_unit_test(test_truncation),       cmocka_unit_test(test_other_wkid),
        cmocka_unit_test(test_type_and_version), cmocka_unit_test(test_rotation),
    };
    return cmocka_run_group_tests_name("engine_blob", tests, NULL, NULL);
}
