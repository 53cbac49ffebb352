/* Cipher and MAC properties: multi-part == single-part for thousands of
 * random messages and split points (states continued on a second engine),
 * agreement with OpenSSL, and the error rules. */
#include "ecrypt.h"
#include "emac.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

static engine_buf gen_key(engine *e, CK_MECHANISM_TYPE gm, CK_ULONG len, etmpl *extra)
{
    etmpl t;
    engine_buf b = {0}, cs = {0};
    engine_mech m = et_mech(gm);
    if (extra)
        t = *extra;
    else
        et_reset(&t);
    if (gm != CKM_DES3_KEY_GEN && gm != CKM_DES2_KEY_GEN)
        et_ulong(&t, CKA_VALUE_LEN, len);
    assert_int_equal(engine_generate_key(e, &m, t.a, t.n, &b, &cs), CKR_OK);
    engine_buf_free(&cs);
    return b;
}

typedef struct {
    CK_MECHANISM_TYPE mech, keygen;
    CK_ULONG klen;
    size_t bs;
    int padded; /* any length */
    int gcm, ctr;
} mode_case;

static const mode_case MODES[] = {
    {CKM_AES_ECB, CKM_AES_KEY_GEN, 16, 16, 0, 0, 0},
    {CKM_AES_CBC, CKM_AES_KEY_GEN, 24, 16, 0, 0, 0},
    {CKM_AES_CBC_PAD, CKM_AES_KEY_GEN, 32, 16, 1, 0, 0},
    {CKM_AES_CTR, CKM_AES_KEY_GEN, 16, 16, 1, 0, 1},
    {CKM_AES_GCM, CKM_AES_KEY_GEN, 32, 16, 1, 1, 0},
    {CKM_DES3_ECB, CKM_DES3_KEY_GEN, 24, 8, 0, 0, 0},
    {CKM_DES3_CBC, CKM_DES2_KEY_GEN, 16, 8, 0, 0, 0},
    {CKM_DES3_CBC_PAD, CKM_DES3_KEY_GEN, 24, 8, 1, 0, 0},
};

static void test_multipart_equals_single(void **state)
{
    (void)state;
    engine *e = et_engine(), *e2 = et_engine();
    uint64_t rng = 99;
    static uint8_t msg[2100];
    uint8_t param[128], iv[16], aad[40];
    long runs = 0;
    for (size_t mi = 0; mi < sizeof(MODES) / sizeof(MODES[0]); mi++) {
        const mode_case *mc = &MODES[mi];
        engine_buf key = gen_key(e, mc->keygen, mc->klen, NULL);
        for (int it = 0; it < 300; it++) {
            size_t n = et_rand(&rng) % 2000, pl = 0, c1, c2;
            engine_buf ref = {0}, got = {0}, back = {0};
            engine_mech m;
            if (!mc->padded)
                n -= n % mc->bs;
            et_fill(&rng, msg, n);
            et_fill(&rng, iv, sizeof(iv));
            if (mc->gcm) {
                size_t al = et_rand(&rng) % sizeof(aad);
                et_fill(&rng, aad, al);
                pl = et_gcm_param(param, iv, 1 + et_rand(&rng) % 16, aad, al,
                                  32 + 8 * (unsigned)(et_rand(&rng) % 13));
                m = et_mech_b(mc->mech, param, pl);
            } else if (mc->ctr) {
                /* 20-byte form with a counter width that never wraps here */
                et_be32(param, 16 + (uint32_t)(et_rand(&rng) % 113));
                memcpy(param + 4, iv, 16);
                m = et_mech_b(mc->mech, param, 20);
            } else if (mc->mech == CKM_AES_ECB || mc->mech == CKM_DES3_ECB) {
                m = et_mech(mc->mech);
            } else {
                m = et_mech_b(mc->mech, iv, mc->bs);
            }
            c1 = n ? et_rand(&rng) % (n + 1) : 0;
            c2 = n ? et_rand(&rng) % (n + 1) : 0;
            if (c2 < c1) {
                size_t x = c1;
                c1 = c2;
                c2 = x;
            }
            assert_int_equal(et_crypt(e, e2, 1, FLOW_SINGLE, &key, &m, msg, n, 0, 0, &ref), CKR_OK);
            for (int f = FLOW_ONESHOT; f <= FLOW_MULTI; f++) {
                assert_int_equal(et_crypt(e, e2, 1, (et_flow)f, &key, &m, msg, n, c1, c2, &got),
                                 CKR_OK);
                assert_int_equal(got.len, ref.len);
                assert_memory_equal(got.ptr, ref.ptr, ref.len);
                engine_buf_free(&got);
            }
            for (int f = FLOW_SINGLE; f <= FLOW_MULTI; f++) {
                size_t d1 = ref.len ? et_rand(&rng) % (ref.len + 1) : 0;
                assert_int_equal(
                    et_crypt(e, e2, 0, (et_flow)f, &key, &m, ref.ptr, ref.len, d1 / 2, d1, &back),
                    CKR_OK);
                assert_int_equal(back.len, n);
                if (n)
                    assert_memory_equal(back.ptr, msg, n);
                engine_buf_free(&back);
            }
            engine_buf_free(&ref);
            runs++;
        }
        engine_buf_free(&key);
    }
    printf("cipher property: %ld random messages x 8 modes x 3 flows agree, decrypt inverts\n",
           runs);
    engine_destroy(e);
    engine_destroy(e2);
}

/* Our modes against OpenSSL's EVP on the same key (read back: not sensitive). */
static void test_against_openssl(void **state)
{
    (void)state;
    engine *e = et_engine();
    uint64_t rng = 5;
    uint8_t kv[32], msg[512], iv[16], ref[600], param[64];
    static const struct {
        CK_MECHANISM_TYPE m;
        CK_KEY_TYPE kt;
        size_t kl;
        const char *evp;
        size_t ivl;
    } C[] = {{CKM_AES_CBC, CKK_AES, 16, "AES-128-CBC", 16},
             {CKM_AES_CTR, CKK_AES, 32, "AES-256-CTR", 16},
             {CKM_DES3_CBC, CKK_DES3, 24, "DES-EDE3-CBC", 8},
             {CKM_DES3_ECB, CKK_DES3, 24, "DES-EDE3-ECB", 0}};
    for (size_t ci = 0; ci < sizeof(C) / sizeof(C[0]); ci++) {
        EVP_CIPHER *ev = EVP_CIPHER_fetch(NULL, C[ci].evp, NULL);
        assert_non_null(ev);
        for (int it = 0; it < 50; it++) {
            size_t n = 16 * (et_rand(&rng) % 32);
            engine_buf key = {0}, out = {0};
            engine_mech m;
            EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
            int l1 = 0, l2 = 0;
            et_fill(&rng, kv, C[ci].kl);
            et_fill(&rng, msg, n);
            et_fill(&rng, iv, 16);
            if (C[ci].m == CKM_AES_CTR) {
                memcpy(param, iv, 16);
                m = et_mech_b(C[ci].m, param, 16);
            } else {
                m = C[ci].ivl ? et_mech_b(C[ci].m, iv, C[ci].ivl) : et_mech(C[ci].m);
            }
            assert_int_equal(et_import(e, C[ci].kt, kv, C[ci].kl, &key), CKR_OK);
            assert_int_equal(engine_encrypt_single(e, et_b(&key), &m, et_raw(msg, n), &out),
                             CKR_OK);
            EVP_EncryptInit_ex(x, ev, NULL, kv, C[ci].ivl ? iv : NULL);
            EVP_CIPHER_CTX_set_padding(x, 0);
            EVP_EncryptUpdate(x, ref, &l1, msg, (int)n);
            EVP_EncryptFinal_ex(x, ref + l1, &l2);
            EVP_CIPHER_CTX_free(x);
            assert_int_equal(out.len, (size_t)(l1 + l2));
            if (n)
                assert_memory_equal(out.ptr, ref, n);
            engine_buf_free(&out);
            engine_buf_free(&key);
        }
        EVP_CIPHER_free(ev);
    }
    engine_destroy(e);
}

static void test_mac_properties(void **state)
{
    (void)state;
    static const struct {
        CK_MECHANISM_TYPE m;
        const char *mac, *digest;
        CK_KEY_TYPE kt;
        size_t kl;
    } M[] = {{CKM_SHA_1_HMAC, "HMAC", "SHA1", CKK_GENERIC_SECRET, 20},
             {CKM_SHA224_HMAC, "HMAC", "SHA224", CKK_GENERIC_SECRET, 100},
             {CKM_SHA512_224_HMAC, "HMAC", "SHA512-224", CKK_GENERIC_SECRET, 200},
             {CKM_IBM_SHA512_256_HMAC, "HMAC", "SHA512-256", CKK_GENERIC_SECRET, 33},
             {CKM_SHA3_224_HMAC, "HMAC", "SHA3-224", CKK_GENERIC_SECRET, 145},
             {CKM_IBM_SHA3_384_HMAC, "HMAC", "SHA3-384", CKK_GENERIC_SECRET, 48},
             {CKM_AES_CMAC, "CMAC", NULL, CKK_AES, 24}};
    engine *e = et_engine(), *e2 = et_engine();
    uint64_t rng = 11;
    uint8_t kv[256], msg[700], ref[64];
    long runs = 0;
    for (size_t mi = 0; mi < sizeof(M) / sizeof(M[0]); mi++) {
        EVP_MAC *mac = EVP_MAC_fetch(NULL, M[mi].mac, NULL);
        assert_non_null(mac);
        for (int it = 0; it < 200; it++) {
            size_t n = et_rand(&rng) % sizeof(msg), rl = 0;
            engine_buf key = {0}, sig = {0};
            engine_mech m = et_mech(M[mi].m);
            EVP_MAC_CTX *x = EVP_MAC_CTX_new(mac);
            OSSL_PARAM p[2];
            et_fill(&rng, kv, M[mi].kl);
            et_fill(&rng, msg, n);
            p[0] = M[mi].digest ? OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                                   (char *)M[mi].digest, 0)
                                : OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER,
                                                                   (char *)"AES-192-CBC", 0);
            p[1] = OSSL_PARAM_construct_end();
            assert_int_equal(EVP_MAC_init(x, kv, M[mi].kl, p), 1);
            EVP_MAC_update(x, msg, n);
            EVP_MAC_final(x, ref, &rl, sizeof(ref));
            EVP_MAC_CTX_free(x);
            assert_int_equal(et_import(e, M[mi].kt, kv, M[mi].kl, &key), CKR_OK);
            for (int f = 0; f < 3; f++) {
                size_t cut = n ? et_rand(&rng) % (n + 1) : 0;
                assert_int_equal(et_sign(e, e2, f, &key, &m, msg, n, cut, &sig), CKR_OK);
                assert_int_equal(sig.len, rl);
                assert_memory_equal(sig.ptr, ref, rl);
                assert_int_equal(et_verify(e, e2, f, &key, &m, msg, n, cut, ref, rl), CKR_OK);
                ref[0] ^= 1;
                assert_int_equal(et_verify(e, e2, f, &key, &m, msg, n, cut, ref, rl),
                                 CKR_SIGNATURE_INVALID);
                ref[0] ^= 1;
                assert_int_equal(et_verify(e, e2, f, &key, &m, msg, n, cut, ref, rl - 1),
                                 CKR_SIGNATURE_LEN_RANGE);
                engine_buf_free(&sig);
            }
            engine_buf_free(&key);
            runs++;
        }
        EVP_MAC_free(mac);
    }
    printf("mac property: %ld random keys/messages x 3 flows agree with OpenSSL\n", runs);
    engine_destroy(e);
    engine_destroy(e2);
}

static void test_usage_and_types(void **state)
{
    (void)state;
    engine *e = et_engine();
    etmpl t;
    engine_buf k, g, out = {0}, st = {0};
    uint8_t iv[16] = {0}, data[16] = {0};
    engine_mech cbc = et_mech_b(CKM_AES_CBC, iv, 16), hmac = et_mech(CKM_SHA256_HMAC),
                cmac = et_mech(CKM_AES_CMAC);

    et_reset(&t);
    et_bool(&t, CKA_ENCRYPT, 0);
    et_bool(&t, CKA_SIGN, 0);
    k = gen_key(e, CKM_AES_KEY_GEN, 16, &t);
    assert_int_equal(engine_encrypt_single(e, et_b(&k), &cbc, et_raw(data, 16), &out),
                     CKR_KEY_FUNCTION_NOT_PERMITTED);
    assert_int_equal(engine_encrypt_init(e, &cbc, et_b(&k), &st), CKR_KEY_FUNCTION_NOT_PERMITTED);
    assert_int_equal(engine_decrypt_single(e, et_b(&k), &cbc, et_raw(data, 16), &out), CKR_OK);
    engine_buf_free(&out);
    assert_int_equal(engine_sign_single(e, et_b(&k), &cmac, et_raw(data, 16), &out),
                     CKR_KEY_FUNCTION_NOT_PERMITTED);
    assert_int_equal(engine_verify_single(e, et_b(&k), &cmac, et_raw(data, 16), et_raw(data, 16)),
                     CKR_SIGNATURE_INVALID);
    /* key type against mechanism */
    assert_int_equal(engine_sign_single(e, et_b(&k), &hmac, et_raw(data, 16), &out),
                     CKR_KEY_FUNCTION_NOT_PERMITTED);
    g = gen_key(e, CKM_GENERIC_SECRET_KEY_GEN, 32, NULL);
    assert_int_equal(engine_encrypt_single(e, et_b(&g), &cbc, et_raw(data, 16), &out),
                     CKR_KEY_FUNCTION_NOT_PERMITTED);
    assert_int_equal(engine_sign_single(e, et_b(&g), &cmac, et_raw(data, 16), &out),
                     CKR_KEY_TYPE_INCONSISTENT);
    {
        engine_buf d3 = gen_key(e, CKM_DES3_KEY_GEN, 24, NULL);
        assert_int_equal(engine_encrypt_single(e, et_b(&d3), &cbc, et_raw(data, 16), &out),
                         CKR_KEY_TYPE_INCONSISTENT);
        engine_buf_free(&d3);
    }
    engine_buf_free(&k);
    engine_buf_free(&g);
    engine_destroy(e);
}

static void test_param_and_length_errors(void **state)
{
    (void)state;
    engine *e = et_engine();
    engine_buf k = gen_key(e, CKM_AES_KEY_GEN, 16, NULL), out = {0}, st = {0}, st2 = {0};
    uint8_t iv[16] = {0}, data[40] = {0}, param[64];
    engine_mech m;
    size_t pl;

    m = et_mech_b(CKM_AES_CBC, iv, 15);
    assert_int_equal(engine_encrypt_single(e, et_b(&k), &m, et_raw(data, 16), &out),
                     CKR_MECHANISM_PARAM_INVALID);
    m = et_mech(CKM_AES_CBC);
    assert_int_equal(engine_encrypt_single(e, et_b(&k), &m, et_raw(data, 16), &out),
                     CKR_MECHANISM_PARAM_INVALID);
    m = et_mech_b(CKM_AES_ECB, iv, 16);
    assert_int_equal(engine_encrypt_single(e, et_b(&k), &m, et_raw(data, 16), &out),
                     CKR_MECHANISM_PARAM_INVALID);
    m = et_mech_b(CKM_AES_CBC, iv, 16); /* not a block multiple */
    assert_int_equal(engine_encrypt_single(e, et_b(&k), &m, et_raw(data, 17), &out),
                     CKR_DATA_LEN_RANGE);
    assert_int_equal(engine_decrypt_single(e, et_b(&k), &m, et_raw(data, 17), &out),
                     CKR_ENCRYPTED_DATA_LEN_RANGE);
    assert_int_equal(engine_encrypt_init(e, &m, et_b(&k), &st), CKR_OK);
    assert_int_equal(engine_encrypt(e, et_b(&st), et_raw(data, 17), &out), CKR_DATA_LEN_RANGE);
    assert_int_equal(engine_encrypt_update(e, et_b(&st), et_raw(data, 17), &st2, &out), CKR_OK);
    assert_int_equal(out.len, 16);
    engine_buf_free(&out);
    assert_int_equal(engine_encrypt_final(e, et_b(&st2), &out), CKR_DATA_LEN_RANGE);
    engine_buf_free(&st2);
    /* wrong function for a state: operation-not-initialized */
    assert_int_equal(engine_decrypt_update(e, et_b(&st), et_raw(data, 16), &st2, &out),
                     CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(engine_sign_update(e, et_b(&st), et_raw(data, 16), &st2),
                     CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(engine_digest_final(e, et_b(&st), &out), CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(engine_verify_final(e, et_b(&st), et_raw(data, 16)),
                     CKR_OPERATION_NOT_INITIALIZED);
    engine_buf_free(&st);
    engine_buf_free(&st2);
    /* GCM parameters */
    pl = et_gcm_param(param, iv, 0, NULL, 0, 128);
    m = et_mech_b(CKM_AES_GCM, param, pl);
    assert_int_equal(engine_encrypt_single(e, et_b(&k), &m, et_raw(data, 16), &out),
                     CKR_MECHANISM_PARAM_INVALID);
    pl = et_gcm_param(param, iv, 12, NULL, 0, 24);
    m = et_mech_b(CKM_AES_GCM, param, pl);
    assert_int_equal(engine_encrypt_single(e, et_b(&k), &m, et_raw(data, 16), &out),
                     CKR_MECHANISM_PARAM_INVALID);
    pl = et_gcm_param(param, iv, 12, NULL, 0, 128);
    m = et_mech_b(CKM_AES_GCM, param, pl - 1);
    assert_int_equal(engine_encrypt_single(e, et_b(&k), &m, et_raw(data, 16), &out),
                     CKR_MECHANISM_PARAM_INVALID);
    /* CTR: a 4-bit counter has 16 blocks, then it would repeat */
    et_be32(param, 4);
    memset(param + 4, 0, 16);
    m = et_mech_b(CKM_AES_CTR, param, 20);
    {
        static uint8_t big[16 * 17];
        assert_int_equal(engine_encrypt_single(e, et_b(&k), &m, et_raw(big, 256), &out), CKR_OK);
        engine_buf_free(&out);
        assert_int_equal(engine_encrypt_single(e, et_b(&k), &m, et_raw(big, 257), &out),
                         CKR_DATA_LEN_RANGE);
    }
    engine_buf_free(&k);
    engine_destroy(e);
}

static void test_gcm_release_and_cap(void **state)
{
    (void)state;
    engine *e = NULL;
    engine_policy pol;
    engine_buf k, ct = {0}, s0 = {0}, s1 = {0}, out = {0};
    uint8_t iv[12] = {1}, param[64], data[300] = {0};
    size_t pl;
    engine_mech m;

    memset(&pol, 0, sizeof(pol));
    pol.max_gcm_buffer = 256;
    assert_int_equal(engine_create(ETEST_WK, &pol, &e), CKR_OK);
    k = gen_key(e, CKM_AES_KEY_GEN, 32, NULL);
    pl = et_gcm_param(param, iv, 12, (const uint8_t *)"hdr", 3, 128);
    m = et_mech_b(CKM_AES_GCM, param, pl);
    assert_int_equal(engine_encrypt_single(e, et_b(&k), &m, et_raw(data, 100), &ct), CKR_OK);
    assert_int_equal(ct.len, 116);
    /* Decrypt update releases nothing; a flipped bit fails at Final. */
    ct.ptr[5] ^= 1;
    assert_int_equal(engine_decrypt_init(e, &m, et_b(&k), &s0), CKR_OK);
    assert_int_equal(engine_decrypt_update(e, et_b(&s0), et_b(&ct), &s1, &out), CKR_OK);
    assert_int_equal(out.len, 0);
    engine_buf_free(&out);
    assert_int_equal(engine_decrypt_final(e, et_b(&s1), &out), CKR_ENCRYPTED_DATA_INVALID);
    assert_null(out.ptr);
    engine_buf_free(&s1);
    /* The buffer is capped by policy. */
    assert_int_equal(engine_decrypt_update(e, et_b(&s0), et_raw(data, 273), &s1, &out),
                     CKR_DATA_LEN_RANGE);
    engine_buf_free(&s0);
    engine_buf_free(&ct);
    engine_buf_free(&k);
    engine_destroy(e);
}

static void test_reencrypt(void **state)
{
    (void)state;
    engine *e = et_engine();
    engine_buf k1 = gen_key(e, CKM_AES_KEY_GEN, 16, NULL),
               k2 = gen_key(e, CKM_DES3_KEY_GEN, 24, NULL);
    engine_buf c1 = {0}, c2 = {0}, p = {0};
    uint8_t iv[16] = {3}, msg[33] = "re-encrypt me, across key types";
    engine_mech m1 = et_mech_b(CKM_AES_CBC_PAD, iv, 16), m2 = et_mech_b(CKM_DES3_CBC_PAD, iv, 8);
    assert_int_equal(engine_encrypt_single(e, et_b(&k1), &m1, et_raw(msg, 33), &c1), CKR_OK);
    assert_int_equal(engine_reencrypt_single(e, et_b(&k1), et_b(&k2), &m1, &m2, et_b(&c1), &c2),
                     CKR_OK);
    assert_int_equal(engine_decrypt_single(e, et_b(&k2), &m2, et_b(&c2), &p), CKR_OK);
    assert_int_equal(p.len, 33);
    assert_memory_equal(p.ptr, msg, 33);
    engine_buf_free(&p);
    engine_buf_free(&c2);
    assert_int_equal(engine_reencrypt_single(e, et_b(&k2), et_b(&k2), &m2, &m2, et_b(&c1), &c2),
                     CKR_ENCRYPTED_DATA_INVALID);
    engine_buf_free(&c1);
    engine_buf_free(&k1);
    engine_buf_free(&k2);
    engine_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multipart_equals_single),
        cmocka_unit_test(test_against_openssl),
        cmocka_unit_test(test_mac_properties),
        cmocka_unit_test(test_usage_and_types),
        cmocka_unit_test(test_param_and_length_errors),
        cmocka_unit_test(test_gcm_release_and_cap),
        cmocka_unit_test(test_reencrypt),
    };
    return cmocka_run_group_tests_name("engine_cipher", tests, NULL, NULL);
}
