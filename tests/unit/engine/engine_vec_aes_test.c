/* AES vectors through the engine API: Wycheproof aes_gcm and aes_cbc_pkcs5,
 * ACVP AES-ECB/CBC (AFT and MCT), AES-CTR and AES-GCM. Every AFT case runs
 * single-part, one-shot over a state, and multi-part split at random points
 * with the parts on two engines. */
#include "ecrypt.h"
#include "vtest.h"

static uint64_t g_rng = 0xfeedbeef;

/* All three flows must agree with want (NULL: must fail). */
static int three_ways(engine *e, engine *e2, int enc, const engine_buf *key, const engine_mech *m,
                      const uint8_t *in, size_t n, const uint8_t *want, size_t wlen)
{
    for (int f = FLOW_SINGLE; f <= FLOW_MULTI; f++) {
        engine_buf out = {0};
        size_t c1 = n ? et_rand(&g_rng) % (n + 1) : 0, c2 = n ? et_rand(&g_rng) % (n + 1) : 0;
        CK_RV rv = et_crypt(e, e2, enc, (et_flow)f, key, m, in, n, c1 < c2 ? c1 : c2,
                            c1 < c2 ? c2 : c1, &out);
        int ok = want ? (rv == CKR_OK && out.len == wlen &&
                         (wlen == 0 || memcmp(out.ptr, want, wlen) == 0))
                      : rv != CKR_OK;
        engine_buf_free(&out);
        if (!ok)
            return 0;
    }
    return 1;
}

static void wycheproof_gcm(engine *e, engine *e2)
{
    cJSON *j = testvec_load_json("wycheproof/aes_gcm_test.json");
    const cJSON *g, *t;
    vt_counts c;
    assert_non_null(j);
    vt_begin(&c, "wycheproof/aes_gcm_test.json");
    cJSON_ArrayForEach(g, vt_arr(j, "testGroups"))
    {
        unsigned tagbits = (unsigned)vt_num(g, "tagSize", 128);
        cJSON_ArrayForEach(t, vt_arr(g, "tests"))
        {
            size_t kl, ivl, al, ml, cl, tl, pl;
            uint8_t *k = testvec_hex_field(t, "key", &kl), *iv = testvec_hex_field(t, "iv", &ivl),
                    *aad = testvec_hex_field(t, "aad", &al),
                    *msg = testvec_hex_field(t, "msg", &ml), *ct = testvec_hex_field(t, "ct", &cl),
                    *tag = testvec_hex_field(t, "tag", &tl);
            const char *res = testvec_str_field(t, "result");
            long tc = vt_num(t, "tcId", 0);
            uint8_t *param = malloc(ivl + al + 12), *ctt = malloc(cl + tl + 1);
            engine_buf key = {0};
            engine_mech m;
            int ok;
            pl = et_gcm_param(param, iv, ivl, aad, al, tagbits);
            m = et_mech_b(CKM_AES_GCM, param, pl);
            memcpy(ctt, ct, cl);
            memcpy(ctt + cl, tag, tl);
            if (ivl > 256) {
                vt_skip(&c, "IV over 256 bytes (PKCS #11 CK_GCM_PARAMS limit)");
                goto next;
            }
            assert_int_equal(et_import(e, CKK_AES, k, kl, &key), CKR_OK);
            if (strcmp(res, "valid") == 0) {
                ok = three_ways(e, e2, 1, &key, &m, msg, ml, ctt, cl + tl) &&
                     three_ways(e, e2, 0, &key, &m, ctt, cl + tl, msg, ml);
            } else {
                /* Invalid: decryption must fail in every flow (a zero-length IV
                 * already fails at init). */
                ok = three_ways(e, e2, 0, &key, &m, ctt, cl + tl, NULL, 0);
            }
            vt_result(&c, ok, res, tc);
        next:
            engine_buf_free(&key);
            free(k), free(iv), free(aad), free(msg), free(ct), free(tag), free(param), free(ctt);
        }
    }
    vt_report(&c);
    cJSON_Delete(j);
}

static void wycheproof_cbc(engine *e, engine *e2)
{
    cJSON *j = testvec_load_json("wycheproof/aes_cbc_pkcs5_test.json");
    const cJSON *g, *t;
    vt_counts c;
    assert_non_null(j);
    vt_begin(&c, "wycheproof/aes_cbc_pkcs5_test.json");
    cJSON_ArrayForEach(g, vt_arr(j, "testGroups"))
    {
        cJSON_ArrayForEach(t, vt_arr(g, "tests"))
        {
            size_t kl, ivl, ml, cl;
            uint8_t *k = testvec_hex_field(t, "key", &kl), *iv = testvec_hex_field(t, "iv", &ivl),
                    *msg = testvec_hex_field(t, "msg", &ml), *ct = testvec_hex_field(t, "ct", &cl);
            const char *res = testvec_str_field(t, "result");
            engine_buf key = {0};
            engine_mech m = et_mech_b(CKM_AES_CBC_PAD, iv, ivl);
            int ok;
            assert_int_equal(et_import(e, CKK_AES, k, kl, &key), CKR_OK);
            if (strcmp(res, "valid") == 0)
                ok = three_ways(e, e2, 1, &key, &m, msg, ml, ct, cl) &&
                     three_ways(e, e2, 0, &key, &m, ct, cl, msg, ml);
            else
                ok = three_ways(e, e2, 0, &key, &m, ct, cl, NULL, 0);
            vt_result(&c, ok, res, vt_num(t, "tcId", 0));
            engine_buf_free(&key);
            free(k), free(iv), free(msg), free(ct);
        }
    }
    vt_report(&c);
    cJSON_Delete(j);
}

static cJSON *acvp(const char *dir, cJSON **exp)
{
    char p[256];
    cJSON *pr;
    snprintf(p, sizeof(p), "acvp/%s/prompt.json", dir);
    pr = testvec_load_json(p);
    snprintf(p, sizeof(p), "acvp/%s/expectedResults.json", dir);
    *exp = testvec_load_json(p);
    assert_non_null(pr);
    assert_non_null(*exp);
    return pr;
}

/* One AES block operation through the engine (ECB, or CBC with an IV). */
static void aes_one(engine *e, const uint8_t *k, size_t kl, CK_MECHANISM_TYPE mt, const uint8_t *iv,
                    int enc, const uint8_t *in, uint8_t *out)
{
    engine_buf key = {0}, o = {0};
    engine_mech m = mt == CKM_AES_ECB ? et_mech(mt) : et_mech_b(mt, iv, 16);
    assert_int_equal(et_import(e, CKK_AES, k, kl, &key), CKR_OK);
    assert_int_equal(enc ? engine_encrypt_single(e, et_b(&key), &m, et_raw(in, 16), &o)
                         : engine_decrypt_single(e, et_b(&key), &m, et_raw(in, 16), &o),
                     CKR_OK);
    memcpy(out, o.ptr, 16);
    engine_buf_free(&o);
    engine_buf_free(&key);
}

/* AESAVS Monte Carlo, ECB and CBC. The inner 1000 blocks run as one
 * multi-block engine call per outer round: for ECB each block feeds the next,
 * so they run one by one; CBC's chain is exactly CBC mode. */
static void run_mct(engine *e, const cJSON *t, const cJSON *want, CK_MECHANISM_TYPE mt, int enc,
                    size_t kl, vt_counts *c)
{
    size_t l;
    /* cur starts zeroed: the first inner round copies it to prev before any
     * block has been computed (that prev is never compared). */
    uint8_t key[32], iv[16] = {0}, in[16], prev[16], cur[16] = {0}, last2[32];
    uint8_t *x;
    const cJSON *r;
    long i = 0;
    x = testvec_hex_field(t, "key", &l);
    memcpy(key, x, kl);
    free(x);
    if (mt == CKM_AES_CBC) {
        x = testvec_hex_field(t, "iv", &l);
        memcpy(iv, x, 16);
        free(x);
    }
    x = testvec_hex_field(t, enc ? "pt" : "ct", &l);
    memcpy(in, x, 16);
    free(x);
    cJSON_ArrayForEach(r, vt_arr(want, "resultsArray"))
    {
        int ok;
        if (mt == CKM_AES_ECB) {
            for (int j = 0; j < 1000; j++) {
                memcpy(prev, cur, 16);
                aes_one(e, key, kl, mt, NULL, enc, in, cur);
                memcpy(in, cur, 16);
            }
        } else {
            uint8_t civ[16];
            memcpy(civ, iv, 16);
            for (int j = 0; j < 1000; j++) {
                uint8_t nextin[16];
                memcpy(prev, cur, 16);
                aes_one(e, key, kl, mt, civ, enc, in, cur);
                /* encrypt: next PT = previous CT (IV for j=0); decrypt: next CT = previous PT (IV)
                 */
                memcpy(nextin, j == 0 ? iv : prev, 16);
                if (enc)
                    memcpy(civ, cur, 16);
                else
                    memcpy(civ, in, 16);
                memcpy(in, nextin, 16);
            }
        }
        ok = vt_hex_eq(cur, 16, r, enc ? "ct" : "pt");
        vt_result(c, ok, "MCT", i);
        /* Key[i+1] = Key[i] xor the last kl bytes of out[998] || out[999]. */
        memcpy(last2, prev, 16);
        memcpy(last2 + 16, cur, 16);
        for (size_t b = 0; b < kl; b++)
            key[b] ^= last2[32 - kl + b];
        if (mt == CKM_AES_ECB) {
            memcpy(in, cur, 16);
        } else {
            memcpy(iv, cur, 16);
            memcpy(in, prev, 16);
        }
        i++;
    }
}

static void acvp_block(engine *e, engine *e2, const char *dir, CK_MECHANISM_TYPE mt)
{
    cJSON *exp, *pr = acvp(dir, &exp);
    const cJSON *g, *t;
    vt_counts c;
    vt_begin(&c, dir);
    cJSON_ArrayForEach(g, vt_arr(pr, "testGroups"))
    {
        int enc = strcmp(testvec_str_field(g, "direction"), "encrypt") == 0;
        const char *type = testvec_str_field(g, "testType");
        long tg = vt_num(g, "tgId", 0);
        cJSON_ArrayForEach(t, vt_arr(g, "tests"))
        {
            long tc = vt_num(t, "tcId", 0);
            const cJSON *want = vt_expected(exp, tg, tc);
            size_t kl, ivl = 0, il;
            uint8_t *k = testvec_hex_field(t, "key", &kl),
                    *iv = mt == CKM_AES_CBC ? testvec_hex_field(t, "iv", &ivl) : NULL,
                    *in = testvec_hex_field(t, enc ? "pt" : "ct", &il), *wv;
            size_t wl;
            engine_buf key = {0};
            engine_mech m = mt == CKM_AES_ECB ? et_mech(mt) : et_mech_b(mt, iv, ivl);
            if (strcmp(type, "MCT") == 0) {
                run_mct(e, t, want, mt, enc, kl, &c);
            } else {
                wv = testvec_hex_field(want, enc ? "ct" : "pt", &wl);
                assert_int_equal(et_import(e, CKK_AES, k, kl, &key), CKR_OK);
                vt_result(&c, wv && three_ways(e, e2, enc, &key, &m, in, il, wv, wl), "AFT", tc);
                free(wv);
                engine_buf_free(&key);
            }
            free(k), free(iv), free(in);
        }
    }
    vt_report(&c);
    cJSON_Delete(pr);
    cJSON_Delete(exp);
}

static void acvp_ctr(engine *e, engine *e2)
{
    cJSON *exp, *pr = acvp("ACVP-AES-CTR-1.0", &exp);
    const cJSON *g, *t;
    vt_counts c;
    vt_begin(&c, "ACVP-AES-CTR-1.0");
    cJSON_ArrayForEach(g, vt_arr(pr, "testGroups"))
    {
        int enc = strcmp(testvec_str_field(g, "direction"), "encrypt") == 0;
        long tg = vt_num(g, "tgId", 0);
        cJSON_ArrayForEach(t, vt_arr(g, "tests"))
        {
            long tc = vt_num(t, "tcId", 0);
            const cJSON *want = vt_expected(exp, tg, tc);
            size_t kl, ivl, il, wl;
            uint8_t *k, *iv, *in, *wv;
            engine_buf key = {0};
            engine_mech m;
            if (vt_num(t, "payloadLen", 0) % 8 != 0) {
                vt_skip(&c, "payload not a whole number of bytes");
                continue;
            }
            k = testvec_hex_field(t, "key", &kl);
            iv = testvec_hex_field(enc ? want : t, "iv", &ivl);
            in = testvec_hex_field(t, enc ? "pt" : "ct", &il);
            wv = testvec_hex_field(want, enc ? "ct" : "pt", &wl);
            m = et_mech_b(CKM_AES_CTR, iv, ivl);
            assert_int_equal(et_import(e, CKK_AES, k, kl, &key), CKR_OK);
            vt_result(&c, wv && three_ways(e, e2, enc, &key, &m, in, il, wv, wl), "CTR", tc);
            engine_buf_free(&key);
            free(k), free(iv), free(in), free(wv);
        }
    }
    vt_report(&c);
    cJSON_Delete(pr);
    cJSON_Delete(exp);
}

static void acvp_gcm(engine *e, engine *e2)
{
    cJSON *exp, *pr = acvp("ACVP-AES-GCM-1.0", &exp);
    const cJSON *g, *t;
    vt_counts c;
    vt_begin(&c, "ACVP-AES-GCM-1.0");
    cJSON_ArrayForEach(g, vt_arr(pr, "testGroups"))
    {
        int enc = strcmp(testvec_str_field(g, "direction"), "encrypt") == 0;
        unsigned tagbits = (unsigned)vt_num(g, "tagLen", 128);
        long tg = vt_num(g, "tgId", 0);
        cJSON_ArrayForEach(t, vt_arr(g, "tests"))
        {
            long tc = vt_num(t, "tcId", 0);
            const cJSON *want = vt_expected(exp, tg, tc);
            size_t kl, ivl, al, il, wl = 0, tl = 0, pl;
            uint8_t *k = testvec_hex_field(t, "key", &kl), *iv = testvec_hex_field(t, "iv", &ivl),
                    *aad = testvec_hex_field(t, "aad", &al), *in, *wv, *tag, *param, *buf;
            engine_buf key = {0};
            engine_mech m;
            int ok;
            param = malloc(ivl + al + 12);
            pl = et_gcm_param(param, iv, ivl, aad, al, tagbits);
            m = et_mech_b(CKM_AES_GCM, param, pl);
            assert_int_equal(et_import(e, CKK_AES, k, kl, &key), CKR_OK);
            if (enc) {
                in = testvec_hex_field(t, "pt", &il);
                wv = testvec_hex_field(want, "ct", &wl);
                tag = testvec_hex_field(want, "tag", &tl);
                buf = malloc(wl + tl + 1);
                memcpy(buf, wv, wl);
                memcpy(buf + wl, tag, tl);
                ok = three_ways(e, e2, 1, &key, &m, in, il, buf, wl + tl);
            } else {
                uint8_t *ct = testvec_hex_field(t, "ct", &il);
                tag = testvec_hex_field(t, "tag", &tl);
                in = malloc(il + tl + 1);
                memcpy(in, ct, il);
                memcpy(in + il, tag, tl);
                free(ct);
                wv = testvec_hex_field(want, "pt", &wl);
                buf = NULL;
                ok = three_ways(e, e2, 0, &key, &m, in, il + tl, wv, wl); /* wv NULL: must fail */
            }
            vt_result(&c, ok, enc ? "encrypt" : "decrypt", tc);
            engine_buf_free(&key);
            free(k), free(iv), free(aad), free(in), free(wv), free(tag), free(param), free(buf);
        }
    }
    vt_report(&c);
    cJSON_Delete(pr);
    cJSON_Delete(exp);
}

static void test_wycheproof(void **state)
{
    (void)state;
    engine *e = et_engine(), *e2 = et_engine();
    wycheproof_gcm(e, e2);
    wycheproof_cbc(e, e2);
    engine_destroy(e);
    engine_destroy(e2);
}

static void test_acvp(void **state)
{
    (void)state;
    engine *e = et_engine(), *e2 = et_engine();
    acvp_block(e, e2, "ACVP-AES-ECB-1.0", CKM_AES_ECB);
    acvp_block(e, e2, "ACVP-AES-CBC-1.0", CKM_AES_CBC);
    acvp_ctr(e, e2);
    acvp_gcm(e, e2);
    engine_destroy(e);
    engine_destroy(e2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wycheproof),
        cmocka_unit_test(test_acvp),
    };
    return cmocka_run_group_tests_name("engine_vec_aes", tests, NULL, NULL);
}
