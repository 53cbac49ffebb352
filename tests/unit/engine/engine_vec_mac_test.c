/* MAC vectors through the engine API: Wycheproof hmac_* and aes_cmac, ACVP
 * CMAC-AES; every case in the three flows. */
#include "ecrypt.h"
#include "emac.h"
#include "vtest.h"

static uint64_t g_rng = 77;

/* Signs in all flows (expects tag) and verifies in all flows. */
static int mac_ok(engine *e, engine *e2, const engine_buf *key, const engine_mech *m,
                  const uint8_t *msg, size_t n, const uint8_t *tag, size_t tl)
{
    for (int f = 0; f < 3; f++) {
        engine_buf sig = {0};
        size_t cut = n ? et_rand(&g_rng) % (n + 1) : 0;
        CK_RV rv = et_sign(e, e2, f, key, m, msg, n, cut, &sig);
        int ok = rv == CKR_OK && sig.len == tl && memcmp(sig.ptr, tag, tl) == 0 &&
                 et_verify(e, e2, f, key, m, msg, n, cut, tag, tl) == CKR_OK;
        engine_buf_free(&sig);
        if (!ok)
            return 0;
    }
    return 1;
}

static int mac_rejects(engine *e, engine *e2, const engine_buf *key, const engine_mech *m,
                       const uint8_t *msg, size_t n, const uint8_t *tag, size_t tl)
{
    for (int f = 0; f < 3; f++) {
        size_t cut = n ? et_rand(&g_rng) % (n + 1) : 0;
        CK_RV rv = et_verify(e, e2, f, key, m, msg, n, cut, tag, tl);
        if (rv != CKR_SIGNATURE_INVALID && rv != CKR_SIGNATURE_LEN_RANGE)
            return 0;
    }
    return 1;
}

typedef struct {
    const char *file;
    CK_MECHANISM_TYPE full, general;
    size_t full_len;
    CK_KEY_TYPE kt;
} mac_file;

static void run_wycheproof(engine *e, engine *e2, const mac_file *mf)
{
    char path[128];
    cJSON *j;
    const cJSON *g, *t;
    vt_counts c;
    snprintf(path, sizeof(path), "wycheproof/%s", mf->file);
    j = testvec_load_json(path);
    assert_non_null(j);
    vt_begin(&c, path);
    cJSON_ArrayForEach(g, vt_arr(j, "testGroups"))
    {
        size_t tagbytes = (size_t)vt_num(g, "tagSize", 0) / 8;
        uint8_t lenparam[4];
        engine_mech m;
        et_be32(lenparam, (uint32_t)tagbytes);
        m = tagbytes == mf->full_len ? et_mech(mf->full) : et_mech_b(mf->general, lenparam, 4);
        cJSON_ArrayForEach(t, vt_arr(g, "tests"))
        {
            size_t kl, ml, tl;
            uint8_t *k = testvec_hex_field(t, "key", &kl), *msg = testvec_hex_field(t, "msg", &ml),
                    *tag = testvec_hex_field(t, "tag", &tl);
            const char *res = testvec_str_field(t, "result");
            engine_buf key = {0};
            int ok;
            /* HMAC under AES keys (as EP11 allows): the keys an AES key can be */
            if (mf->kt == CKK_AES && mf->full != CKM_AES_CMAC && kl != 16 && kl != 24 && kl != 32) {
                free(k), free(msg), free(tag);
                continue;
            }
            CK_RV irv = et_import(e, mf->kt, k, kl, &key);
            if (strcmp(res, "valid") == 0)
                ok = irv == CKR_OK && mac_ok(e, e2, &key, &m, msg, ml, tag, tl);
            else /* an invalid key size may already fail at import */
                ok = irv != CKR_OK || mac_rejects(e, e2, &key, &m, msg, ml, tag, tl);
            vt_result(&c, ok, res, vt_num(t, "tcId", 0));
            engine_buf_free(&key);
            free(k), free(msg), free(tag);
        }
    }
    vt_report(&c);
    cJSON_Delete(j);
}

static void test_wycheproof(void **state)
{
    (void)state;
    static const mac_file F[] = {
        {"hmac_sha256_test.json", CKM_SHA256_HMAC, CKM_SHA256_HMAC_GENERAL, 32, CKK_GENERIC_SECRET},
        {"hmac_sha384_test.json", CKM_SHA384_HMAC, CKM_SHA384_HMAC_GENERAL, 48, CKK_GENERIC_SECRET},
        {"hmac_sha512_test.json", CKM_SHA512_HMAC, CKM_SHA512_HMAC_GENERAL, 64, CKK_GENERIC_SECRET},
        {"hmac_sha3_256_test.json", CKM_SHA3_256_HMAC, CKM_SHA3_256_HMAC_GENERAL, 32,
         CKK_GENERIC_SECRET},
        {"hmac_sha3_512_test.json", CKM_IBM_SHA3_512_HMAC, CKM_SHA3_512_HMAC_GENERAL, 64,
         CKK_GENERIC_SECRET},
        {"aes_cmac_test.json", CKM_AES_CMAC, CKM_AES_CMAC_GENERAL, 16, CKK_AES},
        {"hmac_sha256_test.json", CKM_SHA256_HMAC, CKM_SHA256_HMAC_GENERAL, 32, CKK_AES},
        {"hmac_sha512_test.json", CKM_SHA512_HMAC, CKM_SHA512_HMAC_GENERAL, 64, CKK_AES},
    };
    engine *e = et_engine(), *e2 = et_engine();
    for (size_t i = 0; i < sizeof(F) / sizeof(F[0]); i++)
        run_wycheproof(e, e2, &F[i]);
    engine_destroy(e);
    engine_destroy(e2);
}

static void test_acvp_cmac(void **state)
{
    (void)state;
    engine *e = et_engine(), *e2 = et_engine();
    cJSON *pr = testvec_load_json("acvp/CMAC-AES-1.0.subset/prompt.json"),
          *exp = testvec_load_json("acvp/CMAC-AES-1.0.subset/expectedResults.json");
    const cJSON *g, *t;
    vt_counts c;
    assert_non_null(pr);
    assert_non_null(exp);
    vt_begin(&c, "acvp/CMAC-AES-1.0.subset");
    cJSON_ArrayForEach(g, vt_arr(pr, "testGroups"))
    {
        int gen = strcmp(testvec_str_field(g, "direction"), "gen") == 0;
        size_t maclen = (size_t)vt_num(g, "macLen", 128) / 8;
        long tg = vt_num(g, "tgId", 0);
        uint8_t lenparam[8] = {0};
        engine_mech m;
        lenparam[7] = (uint8_t)maclen; /* the 8-byte form of the length parameter */
        m = et_mech_b(CKM_AES_CMAC_GENERAL, lenparam, 8);
        cJSON_ArrayForEach(t, vt_arr(g, "tests"))
        {
            long tc = vt_num(t, "tcId", 0);
            const cJSON *want = vt_expected(exp, tg, tc);
            size_t kl, ml, tl;
            uint8_t *k = testvec_hex_field(t, "key", &kl),
                    *msg = testvec_hex_field(t, "message", &ml), *tag;
            engine_buf key = {0};
            int ok;
            assert_int_equal(et_import(e, CKK_AES, k, kl, &key), CKR_OK);
            if (gen) {
                tag = testvec_hex_field(want, "mac", &tl);
                ok = tag && mac_ok(e, e2, &key, &m, msg, ml, tag, tl);
            } else {
                const cJSON *tp = cJSON_GetObjectItemCaseSensitive(want, "testPassed");
                tag = testvec_hex_field(t, "mac", &tl);
                ok = tag && (cJSON_IsTrue(tp) ? mac_ok(e, e2, &key, &m, msg, ml, tag, tl)
                                              : mac_rejects(e, e2, &key, &m, msg, ml, tag, tl));
            }
            vt_result(&c, ok, gen ? "gen" : "ver", tc);
            engine_buf_free(&key);
            free(k), free(msg), free(tag);
        }
    }
    vt_report(&c);
    cJSON_Delete(pr);
    cJSON_Delete(exp);
    engine_destroy(e);
    engine_destroy(e2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wycheproof),
        cmocka_unit_test(test_acvp_cmac),
    };
    return cmocka_run_group_tests_name("engine_vec_mac", tests, NULL, NULL);
}
