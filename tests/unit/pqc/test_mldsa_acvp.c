/* ML-DSA against the NIST ACVP sets: keyGen, all 24 sigGen groups
 * (internal/external, pure/preHash, externalMu; deterministic/hedged) and
 * sigVer. prompt.json and expectedResults.json are joined on tgId/tcId. */
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

static int dsa_set_from_name(const char *name, mldsa_set *out)
{
    if (!name)
        return 0;
    if (!strcmp(name, "ML-DSA-44"))
        *out = MLDSA_44;
    else if (!strcmp(name, "ML-DSA-65"))
        *out = MLDSA_65;
    else if (!strcmp(name, "ML-DSA-87"))
        *out = MLDSA_87;
    else
        return 0;
    return 1;
}

static int hash_from_name(const char *name, pqc_hash *out)
{
    static const struct {
        const char *n;
        pqc_hash h;
    } map[] = {
        {"SHA2-224", PQC_HASH_SHA224},         {"SHA2-256", PQC_HASH_SHA256},
        {"SHA2-384", PQC_HASH_SHA384},         {"SHA2-512", PQC_HASH_SHA512},
        {"SHA2-512/224", PQC_HASH_SHA512_224}, {"SHA2-512/256", PQC_HASH_SHA512_256},
        {"SHA3-224", PQC_HASH_SHA3_224},       {"SHA3-256", PQC_HASH_SHA3_256},
        {"SHA3-384", PQC_HASH_SHA3_384},       {"SHA3-512", PQC_HASH_SHA3_512},
        {"SHAKE-128", PQC_HASH_SHAKE128},      {"SHAKE-256", PQC_HASH_SHAKE256},
    };
    for (size_t i = 0; name && i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(map[i].n, name)) {
            *out = map[i].h;
            return 1;
        }
    return 0;
}

typedef struct {
    cJSON *prompt, *expected;
} acvp_set;

static int load(acvp_set *a, const char *dir)
{
    char p1[256], p2[256];
    snprintf(p1, sizeof(p1), "acvp/%s/prompt.json", dir);
    snprintf(p2, sizeof(p2), "acvp/%s/expectedResults.json", dir);
    a->prompt = testvec_load_json(p1);
    a->expected = testvec_load_json(p2);
    return a->prompt && a->expected;
}

static void unload(acvp_set *a)
{
    cJSON_Delete(a->prompt);
    cJSON_Delete(a->expected);
}

#define FOR_EACH_CASE(a, g, t)                                                                     \
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive((a).prompt, "testGroups"))              \
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(g, "tests"))

static void test_keygen(void **state)
{
    (void)state;
    tcount tc;
    acvp_set a;
    const cJSON *g, *t;
    tc_init(&tc, "acvp/ML-DSA-keyGen-FIPS204");
    assert_true(load(&a, "ML-DSA-keyGen-FIPS204"));
    FOR_EACH_CASE(a, g, t)
    {
        long tg = testvec_int_field(g, "tgId", -1), id = testvec_int_field(t, "tcId", -1);
        mldsa_set set;
        const cJSON *e = tu_acvp_expected(a.expected, tg, id);
        size_t sl, pl, kl;
        uint8_t *seed = tu_hex(t, "seed", &sl);
        uint8_t *pk = e ? tu_hex(e, "pk", &pl) : NULL;
        uint8_t *sk = e ? tu_hex(e, "sk", &kl) : NULL;
        if (!dsa_set_from_name(testvec_str_field(g, "parameterSet"), &set) || !seed || !pk || !sk) {
            tc_fail(&tc, id, "malformed vector");
        } else {
            uint8_t opk[2592], osk[4896], rpk[2592];
            pqc_rv rv = mldsa_keygen_internal(set, seed, sl, opk, sizeof(opk), osk, sizeof(osk));
            if (rv || pl != mldsa_pk_bytes(set) || kl != mldsa_sk_bytes(set) ||
                memcmp(opk, pk, pl) || memcmp(osk, sk, kl))
                tc_fail(&tc, id, "keygen mismatch (rv %d)", rv);
            else if (mldsa_pk_from_sk(set, sk, kl, rpk, sizeof(rpk)) || memcmp(rpk, pk, pl))
                tc_fail(&tc, id, "pk_from_sk mismatch");
            else
                tc_pass(&tc);
        }
        free(seed);
        free(pk);
        free(sk);
    }
    unload(&a);
    assert_true(tc_report(&tc));
}

static void test_siggen(void **state)
{
    (void)state;
    tcount tc;
    acvp_set a;
    const cJSON *g, *t;
    tc_init(&tc, "acvp/ML-DSA-sigGen-FIPS204");
    assert_true(load(&a, "ML-DSA-sigGen-FIPS204"));
    FOR_EACH_CASE(a, g, t)
    {
        long tg = testvec_int_field(g, "tgId", -1), id = testvec_int_field(t, "tcId", -1);
        mldsa_set set;
        const cJSON *e = tu_acvp_expected(a.expected, tg, id);
        const char *iface = testvec_str_field(g, "signatureInterface");
        const char *pre = testvec_str_field(g, "preHash");
        int ext_mu = tu_bool(g, "externalMu", 0);
        int det = tu_bool(g, "deterministic", 1);
        size_t skl, ml = 0, cl = 0, rl = 0, mul = 0, sigl;
        uint8_t *sk = tu_hex(t, "sk", &skl);
        uint8_t *msg = tu_hex(t, "message", &ml);
        uint8_t *ctx = tu_hex(t, "context", &cl);
        uint8_t *rnd = tu_hex(t, "rnd", &rl);
        uint8_t *mu = tu_hex(t, "mu", &mul);
        uint8_t *sig = e ? tu_hex(e, "signature", &sigl) : NULL;
        uint8_t out[4627], pk[2592];
        pqc_rv rv = PQC_ERR_BAD_PARAM, vrv = PQC_ERR_BAD_PARAM;

        if (!dsa_set_from_name(testvec_str_field(g, "parameterSet"), &set) || !sk || !sig ||
            !iface || (!det && !rnd)) {
            tc_fail(&tc, id, "malformed vector");
            goto next;
        }
        if (det && rnd) {
            tc_fail(&tc, id, "deterministic group with rnd");
            goto next;
        }
        if (mldsa_pk_from_sk(set, sk, skl, pk, sizeof(pk)) != PQC_OK) {
            tc_fail(&tc, id, "pk_from_sk failed");
            goto next;
        }
        if (!strcmp(iface, "internal") && ext_mu) {
            rv = mldsa_sign_mu(set, sk, skl, mu, mul, rnd, rl, out, sizeof(out));
            vrv = mldsa_verify_mu(set, pk, mldsa_pk_bytes(set), mu, mul, out, sigl);
        } else if (!strcmp(iface, "internal")) {
            rv = mldsa_sign_internal(set, sk, skl, msg, ml, rnd, rl, out, sizeof(out));
            vrv = mldsa_verify_internal(set, pk, mldsa_pk_bytes(set), msg, ml, out, sigl);
        } else if (pre && !strcmp(pre, "preHash")) {
            pqc_hash ph;
            if (!hash_from_name(testvec_str_field(t, "hashAlg"), &ph)) {
                tc_fail(&tc, id, "unknown hashAlg");
                goto next;
            }
            rv = mldsa_hash_sign(set, sk, skl, ph, msg, ml, ctx, cl, rnd, rl, out, sizeof(out));
            vrv = mldsa_hash_verify(set, pk, mldsa_pk_bytes(set), ph, msg, ml, ctx, cl, out, sigl);
        } else {
            rv = mldsa_sign(set, sk, skl, msg, ml, ctx, cl, rnd, rl, out, sizeof(out));
            vrv = mldsa_verify(set, pk, mldsa_pk_bytes(set), msg, ml, ctx, cl, out, sigl);
        }
        if (rv != PQC_OK || sigl != mldsa_sig_bytes(set) || memcmp(out, sig, sigl))
            tc_fail(&tc, id, "signature mismatch (tg %ld, rv %d)", tg, rv);
        else if (vrv != PQC_OK)
            tc_fail(&tc, id, "own signature does not verify (rv %d)", vrv);
        else
            tc_pass(&tc);
    next:
        free(sk);
        free(msg);
        free(ctx);
        free(rnd);
        free(mu);
        free(sig);
    }
    unload(&a);
    assert_true(tc_report(&tc));
}

static void test_sigver(void **state)
{
    (void)state;
    tcount tc;
    acvp_set a;
    const cJSON *g, *t;
    tc_init(&tc, "acvp/ML-DSA-sigVer-FIPS204");
    assert_true(load(&a, "ML-DSA-sigVer-FIPS204"));
    FOR_EACH_CASE(a, g, t)
    {
        long tg = testvec_int_field(g, "tgId", -1), id = testvec_int_field(t, "tcId", -1);
        mldsa_set set;
        const cJSON *e = tu_acvp_expected(a.expected, tg, id);
        const cJSON *tp = e ? cJSON_GetObjectItemCaseSensitive(e, "testPassed") : NULL;
        const char *iface = testvec_str_field(g, "signatureInterface");
        const char *pre = testvec_str_field(g, "preHash");
        int ext_mu = tu_bool(g, "externalMu", 0);
        size_t pkl, ml = 0, cl = 0, mul = 0, sigl;
        uint8_t *pk = tu_hex(t, "pk", &pkl);
        uint8_t *msg = tu_hex(t, "message", &ml);
        uint8_t *ctx = tu_hex(t, "context", &cl);
        uint8_t *mu = tu_hex(t, "mu", &mul);
        uint8_t *sig = tu_hex(t, "signature", &sigl);
        pqc_rv rv;

        if (!dsa_set_from_name(testvec_str_field(g, "parameterSet"), &set) || !pk || !sig ||
            !iface || !cJSON_IsBool(tp)) {
            tc_fail(&tc, id, "malformed vector");
            goto next;
        }
        if (!strcmp(iface, "internal") && ext_mu) {
            rv = mldsa_verify_mu(set, pk, pkl, mu, mul, sig, sigl);
        } else if (!strcmp(iface, "internal")) {
            rv = mldsa_verify_internal(set, pk, pkl, msg, ml, sig, sigl);
        } else if (pre && !strcmp(pre, "preHash")) {
            pqc_hash ph;
            if (!hash_from_name(testvec_str_field(t, "hashAlg"), &ph)) {
                tc_fail(&tc, id, "unknown hashAlg");
                goto next;
            }
            rv = mldsa_hash_verify(set, pk, pkl, ph, msg, ml, ctx, cl, sig, sigl);
        } else {
            rv = mldsa_verify(set, pk, pkl, msg, ml, ctx, cl, sig, sigl);
        }
        if ((rv == PQC_OK) != cJSON_IsTrue(tp))
            tc_fail(&tc, id, "expected %s, got rv %d (tg %ld)", cJSON_IsTrue(tp) ? "pass" : "fail",
                    rv, tg);
        else
            tc_pass(&tc);
    next:
        free(pk);
        free(msg);
        free(ctx);
        free(mu);
        free(sig);
    }
    unload(&a);
    assert_true(tc_report(&tc));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen),
        cmocka_unit_test(test_siggen),
        cmocka_unit_test(test_sigver),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
