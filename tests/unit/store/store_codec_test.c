/* Unit tests of the store's internal formats and crypto: attribute list
 * and cursor codecs, sealed rows, KDF parameters, the key cache, UTF-8 and
 * UUID helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "codec.h"
#include "crypt.h"
#include "internal.h"

static void test_attrs_roundtrip(void **state)
{
    CK_ULONG v = 0x1234;
    CK_ATTRIBUTE in[] = {
        {CKA_LABEL, "label", 5},
        {CKA_VALUE_LEN, &v, sizeof(v)},
        {CKA_ID, NULL, 0},
        {CKA_VENDOR_DEFINED | 0x7fffffffUL, "v", 1},
    };
    CK_ATTRIBUTE *out = NULL;
    unsigned char *buf = NULL;
    size_t len = 0;
    CK_ULONG n = 0;

    (void)state;
    assert_int_equal(codec_attrs_encode(in, 4, &buf, &len), CKR_OK);
    assert_int_equal(codec_attrs_decode(buf, len, &out, &n), CKR_OK);
    assert_int_equal(n, 4);
    for (CK_ULONG i = 0; i < n; i++) {
        assert_int_equal(out[i].type, in[i].type);
        assert_int_equal(out[i].ulValueLen, in[i].ulValueLen);
        if (in[i].ulValueLen)
            assert_memory_equal(out[i].pValue, in[i].pValue, in[i].ulValueLen);
        else
            assert_null(out[i].pValue);
    }
    codec_attrs_free(out, n);

    /* every truncation and any trailing byte is refused */
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(codec_attrs_decode(buf, cut, &out, &n), CKR_IBM_GREP11_DBINTERNAL);
    unsigned char *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    assert_int_equal(codec_attrs_decode(longer, len + 1, &out, &n), CKR_IBM_GREP11_DBINTERNAL);
    free(longer);
    buf[0] = 'X';
    assert_int_equal(codec_attrs_decode(buf, len, &out, &n), CKR_IBM_GREP11_DBINTERNAL);
    free(buf);

    /* empty list */
    assert_int_equal(codec_attrs_encode(NULL, 0, &buf, &len), CKR_OK);
    assert_int_equal(len, 7);
    assert_int_equal(codec_attrs_decode(buf, len, &out, &n), CKR_OK);
    assert_int_equal(n, 0);
    codec_attrs_free(out, n);
    free(buf);
    assert_int_equal(codec_attrs_decode(NULL, 0, &out, &n), CKR_IBM_GREP11_DBINTERNAL);
}

static void test_attrs_hostile(void **state)
{
    /* count far beyond the input; duplicate types; value over the limit */
    unsigned char huge_count[] = {'G', 'A', 1, 0xff, 0xff, 0xff, 0xff};
    unsigned char dup[] = {'G', 'A', 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0,
                           0,   0,   0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0};
    unsigned char big[] = {'G', 'A', 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 1, 0, 1};
    CK_ATTRIBUTE *out = NULL;
    CK_ULONG n = 0;

    (void)state;
    assert_int_equal(codec_attrs_decode(huge_count, sizeof(huge_count), &out, &n),
                     CKR_IBM_GREP11_DBINTERNAL);
    assert_int_equal(codec_attrs_decode(dup, sizeof(dup), &out, &n), CKR_IBM_GREP11_DBINTERNAL);
    assert_int_equal(codec_attrs_decode(big, sizeof(big), &out, &n), CKR_IBM_GREP11_DBINTERNAL);
    assert_null(out);
}

static void test_cursor(void **state)
{
    store_uuid u, back;
    char s[STORE_CURSOR_SIZE];
    bool first = true;

    (void)state;
    for (int i = 0; i < 16; i++)
        u.b[i] = (unsigned char)(i * 17);
    codec_cursor_encode(&u, s);
    assert_int_equal(strlen(s), 34);
    assert_int_equal(codec_cursor_decode(s, &back, &first), CKR_OK);
    assert_false(first);
    assert_memory_equal(u.b, back.b, 16);
    assert_int_equal(codec_cursor_decode(NULL, &back, &first), CKR_OK);
    assert_true(first);
    assert_int_equal(codec_cursor_decode("", &back, &first), CKR_OK);
    assert_true(first);
    s[5] = 'Z';
    assert_int_equal(codec_cursor_decode(s, &back, &first), CKR_ARGUMENTS_BAD);
}

static void test_seal(void **state)
{
    unsigned char key[32], key2[32], pt[100], *ct = NULL, *out = NULL;
    store_uuid ks = {{1}}, obj = {{2}}, other = {{3}};
    size_t ctlen = 0, outlen = 0;

    (void)state;
    memset(key, 0x11, sizeof(key));
    memset(key2, 0x12, sizeof(key2));
    memset(pt, 0xab, sizeof(pt));
    assert_int_equal(crypt_seal(key, CRYPT_FIELD_BLOB, &ks, &obj, 7, pt, sizeof(pt), &ct, &ctlen),
                     CKR_OK);
    assert_int_equal(ctlen, sizeof(pt) + CRYPT_SEAL_OVERHEAD);
    assert_int_equal(crypt_open(key, CRYPT_FIELD_BLOB, &ks, &obj, 7, ct, ctlen, &out, &outlen),
                     CKR_OK);
    assert_int_equal(outlen, sizeof(pt));
    assert_memory_equal(out, pt, sizeof(pt));
    crypt_freezero(out, outlen);

    /* each piece of the associated data matters, and so does the key */
    const CK_RV bad = CKR_IBM_GREP11_DBINTERNAL;
    assert_int_equal(crypt_open(key, CRYPT_FIELD_ATTRS, &ks, &obj, 7, ct, ctlen, &out, &outlen),
                     bad);
    assert_int_equal(crypt_open(key, CRYPT_FIELD_BLOB, &other, &obj, 7, ct, ctlen, &out, &outlen),
                     bad);
    assert_int_equal(crypt_open(key, CRYPT_FIELD_BLOB, &ks, &other, 7, ct, ctlen, &out, &outlen),
                     bad);
    assert_int_equal(crypt_open(key, CRYPT_FIELD_BLOB, &ks, &obj, 8, ct, ctlen, &out, &outlen),
                     bad);
    assert_int_equal(crypt_open(key2, CRYPT_FIELD_BLOB, &ks, &obj, 7, ct, ctlen, &out, &outlen),
                     bad);
    for (size_t cut = 0; cut < ctlen; cut += 7)
        assert_int_equal(crypt_open(key, CRYPT_FIELD_BLOB, &ks, &obj, 7, ct, cut, &out, &outlen),
                         bad);
    for (size_t i = 0; i < ctlen; i += 13) {
        ct[i] ^= 0x80;
        assert_int_equal(crypt_open(key, CRYPT_FIELD_BLOB, &ks, &obj, 7, ct, ctlen, &out, &outlen),
                         bad);
        ct[i] ^= 0x80;
    }
    crypt_freezero(ct, ctlen);

    /* empty plaintext is fine */
    assert_int_equal(crypt_seal(key, CRYPT_FIELD_ATTRS, &ks, &obj, 1, NULL, 0, &ct, &ctlen),
                     CKR_OK);
    assert_int_equal(crypt_open(key, CRYPT_FIELD_ATTRS, &ks, &obj, 1, ct, ctlen, &out, &outlen),
                     CKR_OK);
    assert_int_equal(outlen, 0);
    crypt_freezero(out, 1);
    crypt_freezero(ct, ctlen);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_kdf(void **state)
{
    store_uuid ks = {{9}};
    kdf_params kp;
    unsigned char v1[32], v2[32], idx[32], idx2[32];
    ks_keys k1, k2;
    double t0;

    (void)state;
    assert_int_equal(crypt_new_kdf_params(15, &kp), CKR_OK);
    t0 = now_s();
    assert_int_equal(crypt_derive(&ks, &kp, (const unsigned char *)"password", 8, v1, &k1), CKR_OK);
    printf("[ MEASURE  ] scrypt N=2^15 r=8 p=1 + HKDF: %.1f ms\n", (now_s() - t0) * 1e3);
    assert_int_equal(crypt_derive(&ks, &kp, (const unsigned char *)"passwore", 8, v2, &k2), CKR_OK);
    assert_memory_not_equal(v1, v2, 32);
    assert_memory_not_equal(k1.aead, k1.index, 32);
    assert_memory_not_equal(k1.aead, v1, 32);

    /* hostile stored parameters are refused before any work */
    kp.log2n = 40;
    assert_false(crypt_kdf_params_ok(&kp));
    assert_int_equal(crypt_derive(&ks, &kp, (const unsigned char *)"password", 8, v1, &k1),
                     CKR_IBM_GREP11_DBINTERNAL);
    kp.log2n = 15;
    kp.r = 0;
    assert_false(crypt_kdf_params_ok(&kp));

    /* index values: type and value both count */
    assert_int_equal(crypt_index(k1.index, CKA_LABEL, "a", 1, idx), CKR_OK);
    assert_int_equal(crypt_index(k1.index, CKA_ID, "a", 1, idx2), CKR_OK);
    assert_memory_not_equal(idx, idx2, 32);
    assert_int_equal(crypt_index(k2.index, CKA_LABEL, "a", 1, idx2), CKR_OK);
    assert_memory_not_equal(idx, idx2, 32);
}

static void test_keycache(void **state)
{
    keycache kc;
    store_uuid ks = {{4}};
    kdf_params kp = {{0}, 15, 8, 1};
    unsigned char ver[32] = {0}, id[32], id2[32];
    ks_keys k, got;

    (void)state;
    memset(&k, 0x42, sizeof(k));
    assert_int_equal(keycache_init(&kc, 2, 1), CKR_OK);
    assert_int_equal(keycache_id(&kc, &ks, &kp, ver, (const unsigned char *)"pw1234", 6, id),
                     CKR_OK);
    assert_int_equal(keycache_id(&kc, &ks, &kp, ver, (const unsigned char *)"pw1235", 6, id2),
                     CKR_OK);
    assert_memory_not_equal(id, id2, 32);
    assert_false(keycache_get(&kc, id, &got));
    keycache_put(&kc, id, &k);
    assert_true(keycache_get(&kc, id, &got));
    assert_memory_equal(&got, &k, sizeof(k));
    assert_false(keycache_get(&kc, id2, &got));
    /* size 2: a third key evicts the least recently used */
    unsigned char id3[32];
    memset(id3, 3, sizeof(id3));
    keycache_put(&kc, id2, &k);
    assert_true(keycache_get(&kc, id, &got)); /* id now most recent */
    keycache_put(&kc, id3, &k);
    assert_true(keycache_get(&kc, id, &got));
    assert_false(keycache_get(&kc, id2, &got));
    /* ttl 1 s */
    sleep(2);
    assert_false(keycache_get(&kc, id, &got));
    keycache_fini(&kc);
}

static void test_helpers(void **state)
{
    store_uuid u, back;
    char s[37];

    (void)state;
    assert_true(store_utf8_ok("plain", 5));
    assert_true(store_utf8_ok("\xc3\xa9\xe2\x9c\x93\xf0\x9f\x94\x91", 9));
    assert_false(store_utf8_ok("\xc0\xaf", 2));         /* overlong */
    assert_false(store_utf8_ok("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(store_utf8_ok("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(store_utf8_ok("\xe2\x9c", 2));         /* truncated */
    assert_int_equal(store_new_uuid(&u), CKR_OK);
    assert_int_equal(u.b[6] >> 4, 4);
    store_uuid_format(&u, s);
    assert_int_equal(strlen(s), 36);
    assert_true(store_uuid_parse(s, &back));
    assert_memory_equal(u.b, back.b, 16);
    assert_false(store_uuid_parse("not-a-uuid", &back));
    assert_false(store_uuid_parse("0123456789abcdef0123456789abcdef0123", &back));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attrs_roundtrip),
        cmocka_unit_test(test_attrs_hostile),
        cmocka_unit_test(test_cursor),
        cmocka_unit_test(test_seal),
        cmocka_unit_test(test_kdf),
        cmocka_unit_test(test_keycache),
        cmocka_unit_test(test_helpers),
    };

    return cmocka_run_group_tests_name("store_codec", tests, NULL, NULL);
}
