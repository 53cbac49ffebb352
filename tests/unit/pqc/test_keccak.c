/* Our Keccak/SHA-3/SHAKE against the ACVP subsets (SHA3-224/256/384/512
 * AFT and Monte Carlo, SHAKE-128/256 AFT). Every AFT message is hashed
 * twice: one-shot, and streamed in uneven pieces with the sponge state
 * copied through a byte buffer halfway (the serialization the mu API
 * relies on). LDT groups (8-64 GiB messages) are skipped as too slow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pqc.h"
#include "pqc_testutil.h"
#include "testvec.h"

static void streamed(keccak_state *init, const uint8_t *msg, size_t len, uint8_t *out,
                     size_t outlen)
{
    keccak_state a = *init, b;
    unsigned char blob[sizeof(keccak_state)];
    size_t off = 0, step = 1;
    while (off < len / 2) {
        size_t n = step < len / 2 - off ? step : len / 2 - off;
        assert_int_equal(keccak_absorb(&a, msg + off, n), PQC_OK);
        off += n;
        step = step * 3 + 1;
    }
    memcpy(blob, &a, sizeof(blob));
    memcpy(&b, blob, sizeof(b));
    assert_int_equal(keccak_absorb(&b, msg + off, len - off), PQC_OK);
    /* Squeeze in two uneven parts to cover partial-block output. */
    size_t first = outlen / 3;
    assert_int_equal(keccak_squeeze(&b, out, first), PQC_OK);
    assert_int_equal(keccak_squeeze(&b, out + first, outlen - first), PQC_OK);
    /* Absorbing after squeezing is a usage error. */
    assert_int_equal(keccak_absorb(&b, msg, 0), PQC_ERR_STATE);
}

static void sha3_oneshot(unsigned bits, const uint8_t *in, size_t len, uint8_t *out)
{
    switch (bits) {
    case 224:
        sha3_224(out, in, len);
        break;
    case 256:
        sha3_256(out, in, len);
        break;
    case 384:
        sha3_384(out, in, len);
        break;
    default:
        sha3_512(out, in, len);
        break;
    }
}

static void run_sha3(unsigned bits)
{
    char dir[64], p1[128], p2[128];
    tcount tc;
    snprintf(dir, sizeof(dir), "SHA3-%u-2.0.subset", bits);
    snprintf(p1, sizeof(p1), "acvp/%s/prompt.json", dir);
    snprintf(p2, sizeof(p2), "acvp/%s/expectedResults.json", dir);
    cJSON *prompt = testvec_load_json(p1), *exp = testvec_load_json(p2);
    const cJSON *g, *t;
    const size_t dl = bits / 8;
    assert_non_null(prompt);
    assert_non_null(exp);
    snprintf(p2, sizeof(p2), "acvp/%s", dir);
    tc_init(&tc, strdup(p2));
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(prompt, "testGroups"))
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(g, "tests"))
    {
        long tg = testvec_int_field(g, "tgId", -1), id = testvec_int_field(t, "tcId", -1);
        const char *type = testvec_str_field(g, "testType");
        const cJSON *e = tu_acvp_expected(exp, tg, id);
        size_t ml = 0, xl = 0;
        uint8_t *msg = tu_hex(t, "msg", &ml);
        uint8_t out[64], out2[64];
        if (type && !strcmp(type, "LDT")) {
            tc_skip(&tc, "LDT: 8-64 GiB expanded message, too slow for a unit test");
        } else if (!e || !msg) {
            tc_fail(&tc, id, "malformed vector");
        } else if (!strcmp(type, "AFT")) {
            uint8_t *md = tu_hex(e, "md", &xl);
            keccak_state st;
            assert_int_equal(sha3_init(&st, bits), PQC_OK);
            sha3_oneshot(bits, msg, ml, out);
            streamed(&st, msg, ml, out2, dl);
            if (!md || xl != dl || memcmp(out, md, dl) || memcmp(out2, md, dl))
                tc_fail(&tc, id, "digest mismatch");
            else
                tc_pass(&tc);
            free(md);
        } else {
            /* SHA3VS Monte Carlo: 100 checkpoints of 1000 chained hashes. */
            const cJSON *ra = cJSON_GetObjectItemCaseSensitive(e, "resultsArray"), *r;
            uint8_t md[64];
            int ok = ml == dl && cJSON_GetArraySize(ra) == 100;
            memcpy(md, msg, ml < dl ? ml : dl);
            cJSON_ArrayForEach(r, ra)
            {
                for (int i = 0; i < 1000; i++)
                    sha3_oneshot(bits, md, dl, md);
                size_t rl;
                uint8_t *want = tu_hex(r, "md", &rl);
                if (!want || rl != dl || memcmp(want, md, dl))
                    ok = 0;
                free(want);
            }
            if (ok)
                tc_pass(&tc);
            else
                tc_fail(&tc, id, "Monte Carlo mismatch");
        }
        free(msg);
    }
    cJSON_Delete(prompt);
    cJSON_Delete(exp);
    int good = tc_report(&tc);
    free((void *)tc.name);
    assert_true(good);
}

static void run_shake(unsigned bits)
{
    char p1[128], p2[128];
    tcount tc;
    snprintf(p1, sizeof(p1), "acvp/SHAKE-%u-FIPS202.subset/prompt.json", bits);
    snprintf(p2, sizeof(p2), "acvp/SHAKE-%u-FIPS202.subset/expectedResults.json", bits);
    cJSON *prompt = testvec_load_json(p1), *exp = testvec_load_json(p2);
    const cJSON *g, *t;
    assert_non_null(prompt);
    assert_non_null(exp);
    snprintf(p2, sizeof(p2), "acvp/SHAKE-%u-FIPS202.subset", bits);
    tc_init(&tc, strdup(p2));
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(prompt, "testGroups"))
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(g, "tests"))
    {
        long id = testvec_int_field(t, "tcId", -1);
        const cJSON *e = tu_acvp_expected(exp, testvec_int_field(g, "tgId", -1), id);
        long outbits = testvec_int_field(t, "outLen", -1);
        size_t ml = 0, xl = 0;
        uint8_t *msg = tu_hex(t, "msg", &ml);
        uint8_t *md = e ? tu_hex(e, "md", &xl) : NULL;
        size_t ol = (size_t)(outbits + 7) / 8;
        if (!msg || !md || outbits <= 0 || xl != ol) {
            tc_fail(&tc, id, "malformed vector");
        } else {
            uint8_t *out = malloc(ol), *out2 = malloc(ol);
            keccak_state st;
            if (bits == 128) {
                shake128(out, ol, msg, ml);
                shake128_init(&st);
            } else {
                shake256(out, ol, msg, ml);
                shake256_init(&st);
            }
            streamed(&st, msg, ml, out2, ol);
            /* Non-byte-aligned outLen: ACVP keeps the low r bits of the last
             * byte, shifted to the top (vectors/README.md). */
            unsigned r = (unsigned)(outbits % 8);
            for (uint8_t *o = out;; o = out2) {
                if (r)
                    o[ol - 1] = (uint8_t)((o[ol - 1] & ((1u << r) - 1)) << (8 - r));
                if (o == out2)
                    break;
            }
            if (memcmp(out, md, ol) || memcmp(out2, md, ol))
                tc_fail(&tc, id, "output mismatch");
            else
                tc_pass(&tc);
            free(out);
            free(out2);
        }
        free(msg);
        free(md);
    }
    cJSON_Delete(prompt);
    cJSON_Delete(exp);
    int good = tc_report(&tc);
    free((void *)tc.name);
    assert_true(good);
}

static void api_misuse(void **s)
{
    (void)s;
    keccak_state st;
    uint8_t out[8];
    assert_int_equal(keccak_init(&st, 0, 0x1F), PQC_ERR_BAD_PARAM);
    assert_int_equal(keccak_init(&st, 200, 0x1F), PQC_ERR_BAD_PARAM);
    assert_int_equal(keccak_init(&st, 135, 0x1F), PQC_ERR_BAD_PARAM);
    assert_int_equal(sha3_init(&st, 257), PQC_ERR_BAD_PARAM);
    assert_int_equal(keccak_init(&st, 136, 0x1F), PQC_OK);
    uint8_t o2[200];
    assert_int_equal(keccak_squeeze(&st, o2, 136), PQC_OK); /* ends on a block edge */
    assert_int_equal(keccak_absorb(&st, out, 1), PQC_ERR_STATE);
    assert_int_equal(keccak_init(&st, 136, 0x1F), PQC_OK);
    st.pos = 500; /* a corrupted restored state must not index out of range */
    assert_int_equal(keccak_absorb(&st, out, 1), PQC_ERR_BAD_PARAM);
    assert_int_equal(keccak_squeeze(&st, out, 1), PQC_ERR_BAD_PARAM);
}

static void sha3_224_t(void **s)
{
    (void)s;
    run_sha3(224);
}
static void sha3_256_t(void **s)
{
    (void)s;
    run_sha3(256);
}
static void sha3_384_t(void **s)
{
    (void)s;
    run_sha3(384);
}
static void sha3_512_t(void **s)
{
    (void)s;
    run_sha3(512);
}
static void shake128_t(void **s)
{
    (void)s;
    run_shake(128);
}
static void shake256_t(void **s)
{
    (void)s;
    run_shake(256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha3_224_t), cmocka_unit_test(sha3_256_t), cmocka_unit_test(sha3_384_t),
        cmocka_unit_test(sha3_512_t), cmocka_unit_test(shake128_t), cmocka_unit_test(shake256_t),
        cmocka_unit_test(api_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
