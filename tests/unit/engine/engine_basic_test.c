/* Engine lifecycle, WKIDs, registers, random numbers, mechanism table. */
#include "ecrypt.h"

#include <pthread.h>

#include <openssl/sha.h>

static void test_create_wkid(void **state)
{
    (void)state;
    engine *e = NULL;
    uint8_t wkid[16], h[32];
    assert_int_equal(engine_create(NULL, NULL, &e), CKR_ARGUMENTS_BAD);
    assert_int_equal(engine_create(ETEST_WK, NULL, &e), CKR_OK);
    assert_int_equal(engine_wkid(e, wkid), CKR_OK);
    SHA256(ETEST_WK, 32, h);
    assert_memory_equal(wkid, h, 16);
    assert_int_equal(engine_new_wkid(e, wkid), CKR_IBM_WK_NOT_INITIALIZED);
    assert_int_equal(engine_activate_new_wk(e), CKR_IBM_WK_NOT_INITIALIZED);
    assert_int_equal(engine_load_new_wk(e, ETEST_WK2), CKR_OK);
    assert_int_equal(engine_new_wkid(e, wkid), CKR_OK);
    SHA256(ETEST_WK2, 32, h);
    assert_memory_equal(wkid, h, 16);
    engine_clear_new_wk(e);
    assert_int_equal(engine_new_wkid(e, wkid), CKR_IBM_WK_NOT_INITIALIZED);
    engine_destroy(e);
    engine_destroy(NULL);
}

static void test_purpose_keys(void **state)
{
    (void)state;
    engine *e = et_engine(), *e2 = et_engine();
    uint8_t a[32], b[32], c[32];
    assert_int_equal(engine_derive_purpose_key(e, "auth-token", a), CKR_OK);
    assert_int_equal(engine_derive_purpose_key(e2, "auth-token", b), CKR_OK);
    assert_memory_equal(a, b, 32); /* stateless: every replica agrees */
    assert_int_equal(engine_derive_purpose_key(e, "other", c), CKR_OK);
    assert_memory_not_equal(a, c, 32);
    assert_int_equal(engine_derive_purpose_key(e, "", c), CKR_ARGUMENTS_BAD);
    engine_destroy(e);
    engine_destroy(e2);
}

static void test_random(void **state)
{
    (void)state;
    engine *e = et_engine();
    uint8_t a[64], b[64];
    static uint8_t big[1024 * 1024 + 1];
    assert_int_equal(engine_generate_random(e, a, 0), CKR_ARGUMENTS_BAD);
    assert_int_equal(engine_generate_random(e, big, sizeof(big)), CKR_ARGUMENTS_BAD);
    assert_int_equal(engine_generate_random(e, big, sizeof(big) - 1), CKR_OK);
    assert_int_equal(engine_generate_random(e, a, sizeof(a)), CKR_OK);
    assert_int_equal(engine_generate_random(e, b, sizeof(b)), CKR_OK);
    assert_memory_not_equal(a, b, sizeof(a));
    engine_destroy(e);
}

static void test_mech_table(void **state)
{
    (void)state;
    engine *e = et_engine();
    CK_ULONG n = 0, n2;
    CK_MECHANISM_TYPE *list, small[1];
    CK_MECHANISM_INFO info;
    assert_int_equal(engine_mechanism_list(e, NULL, &n), CKR_OK);
    assert_true(n > 1);
    n2 = 1;
    assert_int_equal(engine_mechanism_list(e, small, &n2), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n2, n);
    list = calloc(n, sizeof(*list));
    assert_int_equal(engine_mechanism_list(e, list, &n2), CKR_OK);
    for (CK_ULONG i = 0; i < n; i++) {
        assert_int_equal(engine_mechanism_info(e, list[i], &info), CKR_OK);
        assert_true(info.flags & CKF_HW);
        assert_non_null(engine_mechanism_name(list[i]));
        assert_true(info.ulMinKeySize <= info.ulMaxKeySize);
    }
    free(list);
    assert_int_equal(engine_mechanism_info(e, CKM_DES_KEY_GEN, &info), CKR_MECHANISM_INVALID);
    assert_null(engine_mechanism_name(CKM_DES_KEY_GEN));
    assert_int_equal(engine_mechanism_info(e, CKM_AES_KEY_GEN, &info), CKR_OK);
    assert_int_equal(info.ulMinKeySize, 16);
    assert_int_equal(info.ulMaxKeySize, 32);
    assert_true(info.flags & CKF_GENERATE);
    assert_string_equal(engine_mechanism_name(CKM_AES_KEY_GEN), "CKM_AES_KEY_GEN");
    engine_destroy(e);
}

static void test_self_test(void **state)
{
    (void)state;
    assert_int_equal(engine_self_test(), CKR_OK);
}

/* A state taken from an engine that is then destroyed continues on a new
 * engine built from the same WK (another grep11d process). */
static void test_resume_after_destroy(void **state)
{
    (void)state;
    engine *a = et_engine(), *b;
    engine_buf k = {0}, s0 = {0}, s1 = {0}, out = {0}, tail = {0}, ref = {0};
    uint8_t kv[16] = {7}, iv[12] = {1}, param[64], msg[100];
    size_t pl = et_gcm_param(param, iv, 12, (const uint8_t *)"aad", 3, 96);
    engine_mech m = et_mech_b(CKM_AES_GCM, param, pl);
    memset(msg, 0x42, sizeof(msg));
    assert_int_equal(et_import(a, CKK_AES, kv, 16, &k), CKR_OK);
    assert_int_equal(engine_encrypt_single(a, et_b(&k), &m, et_raw(msg, 100), &ref), CKR_OK);
    assert_int_equal(engine_encrypt_init(a, &m, et_b(&k), &s0), CKR_OK);
    assert_int_equal(engine_encrypt_update(a, et_b(&s0), et_raw(msg, 37), &s1, &out), CKR_OK);
    engine_destroy(a);
    b = et_engine();
    assert_int_equal(engine_encrypt(b, et_b(&s1), et_raw(msg + 37, 63), &tail), CKR_OK);
    assert_int_equal(out.len + tail.len, ref.len);
    assert_memory_equal(ref.ptr, out.ptr, out.len);
    assert_memory_equal(ref.ptr + out.len, tail.ptr, tail.len);
    engine_buf_free(&k), engine_buf_free(&s0), engine_buf_free(&s1);
    engine_buf_free(&out), engine_buf_free(&tail), engine_buf_free(&ref);
    engine_destroy(b);
}

/* Many threads on one engine context: results must stay exact. */
typedef struct {
    engine *e;
    const engine_buf *key;
    int ok;
} th_arg;

static void *th_run(void *p)
{
    th_arg *a = p;
    uint8_t iv[16] = {0}, msg[64];
    engine_mech m = et_mech_b(CKM_AES_CBC_PAD, iv, 16), h = et_mech(CKM_SHA256);
    a->ok = 1;
    for (int i = 0; i < 300 && a->ok; i++) {
        engine_buf c = {0}, p2 = {0}, d = {0}, s = {0};
        memset(msg, i, sizeof(msg));
        a->ok =
            engine_encrypt_single(a->e, et_b(a->key), &m, et_raw(msg, 1 + i % 64), &c) == CKR_OK &&
            engine_decrypt_single(a->e, et_b(a->key), &m, et_b(&c), &p2) == CKR_OK &&
            p2.len == (size_t)(1 + i % 64) && memcmp(p2.ptr, msg, p2.len) == 0 &&
            engine_digest_init(a->e, &h, &s) == CKR_OK &&
            engine_digest(a->e, et_b(&s), et_raw(msg, 64), &d) == CKR_OK && d.len == 32;
        engine_buf_free(&c), engine_buf_free(&p2), engine_buf_free(&d), engine_buf_free(&s);
    }
    return NULL;
}

static void test_concurrent_use(void **state)
{
    (void)state;
    engine *e = et_engine();
    engine_buf k = {0};
    uint8_t kv[32] = {3};
    pthread_t th[8];
    th_arg args[8];
    assert_int_equal(et_import(e, CKK_AES, kv, 32, &k), CKR_OK);
    for (int i = 0; i < 8; i++) {
        args[i] = (th_arg){e, &k, 0};
        assert_int_equal(pthread_create(&th[i], NULL, th_run, &args[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_true(args[i].ok);
    }
    engine_buf_free(&k);
    engine_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_wkid),    cmocka_unit_test(test_purpose_keys),
        cmocka_unit_test(test_random),         cmocka_unit_test(test_mech_table),
        cmocka_unit_test(test_self_test),      cmocka_unit_test(test_resume_after_destroy),
        cmocka_unit_test(test_concurrent_use),
    };
    return cmocka_run_group_tests_name("engine_basic", tests, NULL, NULL);
}
