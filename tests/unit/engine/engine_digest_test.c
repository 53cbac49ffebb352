/* Digests: ACVP SHA-2/SHA-3 subsets through the engine API, and property
 * tests (multi-part == single-part, states resumed in another engine). */
#include "vtest.h"

#include <openssl/evp.h>

typedef struct {
    const char *dir;
    CK_MECHANISM_TYPE mech;
    int sha3;
} sha_set;

static const sha_set SETS[] = {
    {"acvp/SHA2-256-1.0.subset", CKM_SHA256, 0},
    {"acvp/SHA2-384-1.0.subset", CKM_SHA384, 0},
    {"acvp/SHA2-512-1.0.subset", CKM_SHA512, 0},
    {"acvp/SHA3-224-2.0.subset", CKM_SHA3_224, 1},
    {"acvp/SHA3-256-2.0.subset", CKM_IBM_SHA3_256, 1},
    {"acvp/SHA3-384-2.0.subset", CKM_SHA3_384, 1},
    {"acvp/SHA3-512-2.0.subset", CKM_IBM_SHA3_512, 1},
};

static int digest1(engine *e, CK_MECHANISM_TYPE mt, const uint8_t *p, size_t n, uint8_t *out,
                   size_t *ol)
{
    engine_mech m = et_mech(mt);
    engine_buf d = {0};
    if (engine_digest_single(e, &m, et_raw(p, n), &d) != CKR_OK)
        return 0;
    memcpy(out, d.ptr, d.len);
    *ol = d.len;
    engine_buf_free(&d);
    return 1;
}

/* Init, two updates at a split point, final: must equal single. */
static int digest_split(engine *e, engine *e2, CK_MECHANISM_TYPE mt, const uint8_t *p, size_t n,
                        size_t cut, uint8_t *out, size_t *ol)
{
    engine_mech m = et_mech(mt);
    engine_buf s0 = {0}, s1 = {0}, s2 = {0}, d = {0};
    int ok = engine_digest_init(e, &m, &s0) == CKR_OK &&
             engine_digest_update(e, et_b(&s0), et_raw(p, cut), &s1) == CKR_OK &&
             /* the second half runs on another engine with the same WK */
             engine_digest_update(e2, et_b(&s1), et_raw(p + cut, n - cut), &s2) == CKR_OK &&
             engine_digest_final(e, et_b(&s2), &d) == CKR_OK;
    if (ok) {
        memcpy(out, d.ptr, d.len);
        *ol = d.len;
    }
    engine_buf_free(&s0);
    engine_buf_free(&s1);
    engine_buf_free(&s2);
    engine_buf_free(&d);
    return ok;
}

static void run_mct(engine *e, const sha_set *s, const cJSON *t, const cJSON *exp, long tg,
                    vt_counts *c, const char *version)
{
    size_t seedlen = 0, mdl = 0;
    uint8_t *seed = testvec_hex_field(t, "msg", &seedlen);
    const cJSON *want = vt_expected(exp, tg, vt_num(t, "tcId", -1));
    const cJSON *res = want ? vt_arr(want, "resultsArray") : NULL;
    uint8_t md[64], a[64], b[64], cc[64], msg[1024];
    static uint8_t a2[1024], b2[1024], c2[1024];
    size_t initlen = seedlen;
    long j = 0;
    const cJSON *r;

    assert_non_null(seed);
    cJSON_ArrayForEach(r, res)
    {
        int ok = 1;
        if (s->sha3) {
            /* SHA3VS: MD_i = H(MD_{i-1}) 1000 times; the seed starts the chain. */
            size_t cur = seedlen;
            memcpy(msg, seed, seedlen);
            for (int i = 0; i < 1000 && ok; i++) {
                ok = digest1(e, s->mech, msg, cur, md, &mdl);
                memcpy(msg, md, mdl);
                cur = mdl;
            }
        } else if (strcmp(version, "alternate") == 0) {
            /* ACVP alternate: A||B||C cut or zero-padded to the first seed's length L. */
            size_t L = initlen, al = seedlen, bl = seedlen, cl = seedlen;
            uint8_t *big = calloc(1, 3 * (seedlen > 64 ? seedlen : 64) + L);
            memcpy(a2, seed, seedlen);
            memcpy(b2, seed, seedlen);
            memcpy(c2, seed, seedlen);
            for (int i = 0; i < 1000 && ok; i++) {
                size_t ml = 0;
                memcpy(big, a2, al);
                memcpy(big + al, b2, bl);
                memcpy(big + al + bl, c2, cl);
                ml = al + bl + cl;
                if (ml < L)
                    memset(big + ml, 0, L - ml);
                ok = digest1(e, s->mech, big, L, md, &mdl);
                memcpy(a2, b2, bl);
                al = bl;
                memcpy(b2, c2, cl);
                bl = cl;
                memcpy(c2, md, mdl);
                cl = mdl;
            }
            free(big);
        } else {
            /* SHAVS: MD_i = H(MD_{i-3}||MD_{i-2}||MD_{i-1}) for 1000 rounds. */
            size_t hl = seedlen;
            memcpy(a, seed, hl);
            memcpy(b, seed, hl);
            memcpy(cc, seed, hl);
            for (int i = 0; i < 1000 && ok; i++) {
                memcpy(msg, a, hl);
                memcpy(msg + hl, b, hl);
                memcpy(msg + 2 * hl, cc, hl);
                ok = digest1(e, s->mech, msg, 3 * hl, md, &mdl);
                memcpy(a, b, hl);
                memcpy(b, cc, hl);
                memcpy(cc, md, mdl);
            }
        }
        ok = ok && vt_hex_eq(md, mdl, r, "md");
        vt_result(c, ok, "MCT", j);
        if (s->sha3) {
            free(seed);
            seed = malloc(mdl);
            memcpy(seed, md, mdl);
            seedlen = mdl;
        } else {
            free(seed);
            seed = malloc(mdl);
            memcpy(seed, md, mdl);
            seedlen = mdl;
        }
        j++;
    }
    free(seed);
}

static void test_acvp(void **state)
{
    (void)state;
    engine *e = et_engine(), *e2 = et_engine();
    uint64_t rng = 0x1234567;
    for (size_t si = 0; si < sizeof(SETS) / sizeof(SETS[0]); si++) {
        char path[256];
        const sha_set *s = &SETS[si];
        cJSON *prompt, *exp;
        const cJSON *g, *t;
        vt_counts c;

        snprintf(path, sizeof(path), "%s/prompt.json", s->dir);
        prompt = testvec_load_json(path);
        snprintf(path, sizeof(path), "%s/expectedResults.json", s->dir);
        exp = testvec_load_json(path);
        assert_non_null(prompt);
        assert_non_null(exp);
        vt_begin(&c, s->dir);
        cJSON_ArrayForEach(g, vt_arr(prompt, "testGroups"))
        {
            const char *type = testvec_str_field(g, "testType");
            long tg = vt_num(g, "tgId", -1);
            cJSON_ArrayForEach(t, vt_arr(g, "tests"))
            {
                long tc = vt_num(t, "tcId", -1);
                if (strcmp(type, "LDT") == 0) {
                    vt_skip(&c, "LDT: 8-64 GiB messages, optional");
                    continue;
                }
                if (strcmp(type, "MCT") == 0) {
                    const char *ver = testvec_str_field(g, "mctVersion");
                    run_mct(e, s, t, exp, tg, &c, ver ? ver : "standard");
                    continue;
                }
                {
                    size_t n = 0, ol = 0, ol2 = 0;
                    uint8_t *msg = testvec_hex_field(t, "msg", &n);
                    uint8_t out[64], out2[64];
                    const cJSON *want = vt_expected(exp, tg, tc);
                    size_t cut = n ? et_rand(&rng) % (n + 1) : 0;
                    if (vt_num(t, "len", 0) % 8 != 0) {
                        vt_skip(&c, "bit-oriented message");
                        free(msg);
                        continue;
                    }
                    int ok = msg && want && digest1(e, s->mech, msg, n, out, &ol) &&
                             vt_hex_eq(out, ol, want, "md") &&
                             digest_split(e, e2, s->mech, msg, n, cut, out2, &ol2) && ol2 == ol &&
                             memcmp(out, out2, ol) == 0;
                    vt_result(&c, ok, "AFT", tc);
                    free(msg);
                }
            }
        }
        vt_report(&c);
        cJSON_Delete(prompt);
        cJSON_Delete(exp);
    }
    engine_destroy(e);
    engine_destroy(e2);
}

/* Every digest mechanism against OpenSSL's EVP over random messages and
 * random split points (three parts, each on a different engine). */
static void test_property_vs_openssl(void **state)
{
    (void)state;
    static const struct {
        CK_MECHANISM_TYPE m;
        const char *evp;
    } MD[] = {
        {CKM_SHA_1, "SHA1"},
        {CKM_SHA224, "SHA224"},
        {CKM_SHA256, "SHA256"},
        {CKM_SHA384, "SHA384"},
        {CKM_SHA512, "SHA512"},
        {CKM_SHA512_224, "SHA512-224"},
        {CKM_SHA512_256, "SHA512-256"},
        {CKM_IBM_SHA512_224, "SHA512-224"},
        {CKM_IBM_SHA512_256, "SHA512-256"},
        {CKM_SHA3_224, "SHA3-224"},
        {CKM_SHA3_256, "SHA3-256"},
        {CKM_SHA3_384, "SHA3-384"},
        {CKM_SHA3_512, "SHA3-512"},
        {CKM_IBM_SHA3_224, "SHA3-224"},
        {CKM_IBM_SHA3_384, "SHA3-384"},
    };
    engine *e = et_engine(), *e2 = et_engine(), *e3 = et_engine();
    uint64_t rng = 42;
    uint8_t msg[700];
    long runs = 0;
    for (size_t mi = 0; mi < sizeof(MD) / sizeof(MD[0]); mi++) {
        EVP_MD *md = EVP_MD_fetch(NULL, MD[mi].evp, NULL);
        assert_non_null(md);
        for (int it = 0; it < 150; it++) {
            size_t n = et_rand(&rng) % sizeof(msg), c1 = n ? et_rand(&rng) % (n + 1) : 0,
                   c2 = c1 + ((n - c1) ? et_rand(&rng) % (n - c1 + 1) : 0);
            uint8_t ref[64], single[64];
            unsigned int rl = 0;
            size_t sl = 0;
            engine_mech m = et_mech(MD[mi].m);
            engine_buf s0 = {0}, s1 = {0}, s2 = {0}, d = {0};
            et_fill(&rng, msg, n);
            assert_int_equal(EVP_Digest(msg, n, ref, &rl, md, NULL), 1);
            assert_true(digest1(e, MD[mi].m, msg, n, single, &sl));
            assert_int_equal(sl, rl);
            assert_memory_equal(single, ref, rl);
            assert_int_equal(engine_digest_init(e, &m, &s0), CKR_OK);
            assert_int_equal(engine_digest_update(e2, et_b(&s0), et_raw(msg, c1), &s1), CKR_OK);
            assert_int_equal(engine_digest_update(e3, et_b(&s1), et_raw(msg + c1, c2 - c1), &s2),
                             CKR_OK);
            assert_int_equal(engine_digest(e, et_b(&s2), et_raw(msg + c2, n - c2), &d), CKR_OK);
            assert_int_equal(d.len, rl);
            assert_memory_equal(d.ptr, ref, rl);
            engine_buf_free(&s0);
            engine_buf_free(&s1);
            engine_buf_free(&s2);
            engine_buf_free(&d);
            runs++;
        }
        EVP_MD_free(md);
    }
    printf(
        "digest property: %ld random messages x 3-way splits across engines agree with OpenSSL\n",
        runs);
    engine_destroy(e);
    engine_destroy(e2);
    engine_destroy(e3);
}

static void test_state_errors(void **state)
{
    (void)state;
    engine *e = et_engine(), *other = NULL;
    engine_mech m = et_mech(CKM_SHA256);
    engine_buf s = {0}, d = {0}, k = {0}, s2 = {0};
    static const uint8_t key[16] = {1};
    assert_int_equal(engine_create(ETEST_WK2, NULL, &other), CKR_OK);
    assert_int_equal(engine_digest_init(e, &m, &s), CKR_OK);
    /* foreign WK */
    assert_int_equal(engine_digest_final(other, et_b(&s), &d), CKR_IBM_WKID_MISMATCH);
    /* damaged */
    s.ptr[s.len - 1] ^= 1;
    assert_int_equal(engine_digest_final(e, et_b(&s), &d), CKR_SAVED_STATE_INVALID);
    s.ptr[s.len - 1] ^= 1;
    /* a key blob is no state */
    assert_int_equal(et_import(e, CKK_AES, key, 16, &k), CKR_OK);
    assert_int_equal(engine_digest_final(e, et_b(&k), &d), CKR_SAVED_STATE_INVALID);
    /* DigestKey adds the key's value */
    assert_int_equal(engine_digest_key(e, et_b(&s), et_b(&k), &s2), CKR_OK);
    assert_int_equal(engine_digest_final(e, et_b(&s2), &d), CKR_OK);
    {
        uint8_t ref[32];
        unsigned int rl = 0;
        EVP_Digest(key, 16, ref, &rl, EVP_sha256(), NULL);
        assert_memory_equal(d.ptr, ref, 32);
    }
    engine_buf_free(&d);
    /* a state blob is no key */
    assert_int_equal(engine_digest_key(e, et_b(&s), et_b(&s2), &d), CKR_KEY_HANDLE_INVALID);
    /* unknown mechanism, stray parameter */
    m = et_mech(CKM_MD5);
    assert_int_equal(engine_digest_init(e, &m, &d), CKR_MECHANISM_INVALID);
    m = et_mech_b(CKM_SHA256, "x", 1);
    assert_int_equal(engine_digest_single(e, &m, et_raw("a", 1), &d), CKR_MECHANISM_PARAM_INVALID);
    engine_buf_free(&s);
    engine_buf_free(&s2);
    engine_buf_free(&k);
    engine_destroy(e);
    engine_destroy(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acvp),
        cmocka_unit_test(test_property_vs_openssl),
        cmocka_unit_test(test_state_errors),
    };
    return cmocka_run_group_tests_name("engine_digest", tests, NULL, NULL);
}
