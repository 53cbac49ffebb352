/* ML-KEM against the NIST ACVP sets: keyGen, and encapDecap with its four
 * functions (encapsulation, decapsulation, and the FIPS 203 section 7.2 /
 * 7.3 key checks). prompt.json and expectedResults.json joined on ids. */
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

static int kem_set_from_name(const char *name, mlkem_set *out)
{
    if (!name)
        return 0;
    if (!strcmp(name, "ML-KEM-512"))
        *out = MLKEM_512;
    else if (!strcmp(name, "ML-KEM-768"))
        *out = MLKEM_768;
    else if (!strcmp(name, "ML-KEM-1024"))
        *out = MLKEM_1024;
    else
        return 0;
    return 1;
}

static cJSON *load2(const char *dir, cJSON **expected)
{
    char p1[256], p2[256];
    snprintf(p1, sizeof(p1), "acvp/%s/prompt.json", dir);
    snprintf(p2, sizeof(p2), "acvp/%s/expectedResults.json", dir);
    *expected = testvec_load_json(p2);
    return testvec_load_json(p1);
}

static void test_keygen(void **state)
{
    (void)state;
    tcount tc;
    cJSON *exp, *prompt = load2("ML-KEM-keyGen-FIPS203", &exp);
    const cJSON *g, *t;
    assert_non_null(prompt);
    assert_non_null(exp);
    tc_init(&tc, "acvp/ML-KEM-keyGen-FIPS203");
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(prompt, "testGroups"))
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(g, "tests"))
    {
        long id = testvec_int_field(t, "tcId", -1);
        const cJSON *e = tu_acvp_expected(exp, testvec_int_field(g, "tgId", -1), id);
        mlkem_set set;
        size_t dl, zl, el = 0, kl = 0;
        uint8_t *d = tu_hex(t, "d", &dl), *z = tu_hex(t, "z", &zl);
        uint8_t *ek = e ? tu_hex(e, "ek", &el) : NULL, *dk = e ? tu_hex(e, "dk", &kl) : NULL;
        uint8_t oek[1568], odk[3168];
        if (!kem_set_from_name(testvec_str_field(g, "parameterSet"), &set) || !d || !z || !ek ||
            !dk) {
            tc_fail(&tc, id, "malformed vector");
        } else {
            pqc_rv rv =
                mlkem_keygen_internal(set, d, dl, z, zl, oek, sizeof(oek), odk, sizeof(odk));
            if (rv || el != mlkem_ek_bytes(set) || kl != mlkem_dk_bytes(set) ||
                memcmp(oek, ek, el) || memcmp(odk, dk, kl))
                tc_fail(&tc, id, "keygen mismatch (rv %d)", rv);
            else if (mlkem_ek_check(set, ek, el) || mlkem_dk_check(set, dk, kl))
                tc_fail(&tc, id, "generated key fails its own check");
            else
                tc_pass(&tc);
        }
        free(d);
        free(z);
        free(ek);
        free(dk);
    }
    cJSON_Delete(prompt);
    cJSON_Delete(exp);
    assert_true(tc_report(&tc));
}

static void test_encapdecap(void **state)
{
    (void)state;
    tcount tc;
    cJSON *exp, *prompt = load2("ML-KEM-encapDecap-FIPS203", &exp);
    const cJSON *g, *t;
    assert_non_null(prompt);
    assert_non_null(exp);
    tc_init(&tc, "acvp/ML-KEM-encapDecap-FIPS203");
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(prompt, "testGroups"))
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(g, "tests"))
    {
        long id = testvec_int_field(t, "tcId", -1);
        const cJSON *e = tu_acvp_expected(exp, testvec_int_field(g, "tgId", -1), id);
        const char *fn = testvec_str_field(g, "function");
        mlkem_set set;
        size_t el = 0, ml = 0, dl = 0, cl = 0, xcl = 0, xkl = 0;
        uint8_t *ek = tu_hex(t, "ek", &el), *m = tu_hex(t, "m", &ml);
        uint8_t *dk = tu_hex(t, "dk", &dl), *c = tu_hex(t, "c", &cl);
        uint8_t *xc = e ? tu_hex(e, "c", &xcl) : NULL, *xk = e ? tu_hex(e, "k", &xkl) : NULL;
        const cJSON *tp = e ? cJSON_GetObjectItemCaseSensitive(e, "testPassed") : NULL;
        uint8_t oc[1568], ok[32];

        if (!kem_set_from_name(testvec_str_field(g, "parameterSet"), &set) || !fn || !e) {
            tc_fail(&tc, id, "malformed vector");
        } else if (!strcmp(fn, "encapsulation")) {
            pqc_rv rv = mlkem_encaps_internal(set, ek, el, m, ml, oc, sizeof(oc), ok, sizeof(ok));
            if (rv || !xc || !xk || xcl != mlkem_ct_bytes(set) || memcmp(oc, xc, xcl) ||
                xkl != 32 || memcmp(ok, xk, 32))
                tc_fail(&tc, id, "encaps mismatch (rv %d)", rv);
            else
                tc_pass(&tc);
        } else if (!strcmp(fn, "decapsulation")) {
            pqc_rv rv = mlkem_decaps(set, dk, dl, c, cl, ok, sizeof(ok));
            if (rv || !xk || xkl != 32 || memcmp(ok, xk, 32))
                tc_fail(&tc, id, "decaps mismatch (rv %d)", rv);
            else
                tc_pass(&tc);
        } else if (!strcmp(fn, "encapsulationKeyCheck") || !strcmp(fn, "decapsulationKeyCheck")) {
            pqc_rv rv = fn[0] == 'e' ? mlkem_ek_check(set, ek, el) : mlkem_dk_check(set, dk, dl);
            if (!cJSON_IsBool(tp) || (rv == PQC_OK) != cJSON_IsTrue(tp))
                tc_fail(&tc, id, "%s: rv %d", fn, rv);
            else
                tc_pass(&tc);
        } else {
            tc_fail(&tc, id, "unknown function %s", fn);
        }
        free(ek);
        free(m);
        free(dk);
        free(c);
        free(xc);
        free(xk);
    }
    cJSON_Delete(prompt);
    cJSON_Delete(exp);
    assert_true(tc_report(&tc));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen),
        cmocka_unit_test(test_encapdecap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
