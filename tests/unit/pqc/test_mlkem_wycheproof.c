/* ML-KEM against Wycheproof: mlkem_{512,768,1024}_test (seed -> keys ->
 * decaps, incl. implicit rejection), _encaps (with the modulus check) and
 * _semi_expanded_decaps (dk hash check, lengths). valid: exact outputs;
 * invalid: the operation must fail. */
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

typedef enum { KIND_TEST, KIND_ENCAPS, KIND_DECAPS } file_kind;

static pqc_rv run_case(mlkem_set set, file_kind kind, const cJSON *t, int *match)
{
    size_t sl = 0, el = 0, cl = 0, kl = 0, ml = 0, dl = 0;
    uint8_t *seed = tu_hex(t, "seed", &sl), *ek = tu_hex(t, "ek", &el);
    uint8_t *c = tu_hex(t, "c", &cl), *K = tu_hex(t, "K", &kl);
    uint8_t *m = tu_hex(t, "m", &ml), *dk = tu_hex(t, "dk", &dl);
    uint8_t oek[1568], odk[3168], oc[1568], ok[32];
    pqc_rv rv = PQC_ERR_BAD_PARAM;

    *match = 0;
    switch (kind) {
    case KIND_TEST:
        /* Key generation takes d || z; a wrong-length seed must fail. */
        rv = mlkem_keygen(set, seed, sl, oek, sizeof(oek), odk, sizeof(odk));
        if (rv)
            break;
        rv = mlkem_decaps(set, odk, mlkem_dk_bytes(set), c, cl, ok, sizeof(ok));
        if (rv)
            break;
        *match = (!ek || (el == mlkem_ek_bytes(set) && !memcmp(oek, ek, el))) && K && kl == 32 &&
                 !memcmp(ok, K, 32);
        break;
    case KIND_ENCAPS:
        rv = mlkem_encaps_internal(set, ek, el, m, ml, oc, sizeof(oc), ok, sizeof(ok));
        if (rv)
            break;
        *match = c && cl == mlkem_ct_bytes(set) && !memcmp(oc, c, cl) && K && kl == 32 &&
                 !memcmp(ok, K, 32);
        break;
    case KIND_DECAPS:
        rv = mlkem_decaps(set, dk, dl, c, cl, ok, sizeof(ok));
        if (rv)
            break;
        *match = K && kl == 32 && !memcmp(ok, K, 32);
        break;
    }
    free(seed);
    free(ek);
    free(c);
    free(K);
    free(m);
    free(dk);
    return rv;
}

static void run_file(const char *file, mlkem_set set, file_kind kind)
{
    tcount tc;
    cJSON *root = testvec_load_json(file);
    const cJSON *g, *t;
    assert_non_null(root);
    tc_init(&tc, file);
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(root, "testGroups"))
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(g, "tests"))
    {
        long id = testvec_int_field(t, "tcId", -1);
        const char *res = testvec_str_field(t, "result");
        int match;
        pqc_rv rv = run_case(set, kind, t, &match);
        if (res && !strcmp(res, "acceptable")) {
            tc_pass(&tc);
        } else if (res && !strcmp(res, "valid")) {
            if (rv != PQC_OK || !match)
                tc_fail(&tc, id, "valid case: rv %d, output %s", rv, match ? "ok" : "differs");
            else
                tc_pass(&tc);
        } else {
            if (rv == PQC_OK)
                tc_fail(&tc, id, "invalid input accepted");
            else if (tu_has_flag(t, "ModulusOverflow") && rv != PQC_ERR_BAD_KEY)
                tc_fail(&tc, id, "unreduced ek: rv %d, want BAD_KEY", rv);
            else
                tc_pass(&tc);
        }
    }
    cJSON_Delete(root);
    assert_true(tc_report(&tc));
}

#define WF(name, set, kind, file)                                                                  \
    static void name(void **s)                                                                     \
    {                                                                                              \
        (void)s;                                                                                   \
        run_file("wycheproof/" file, set, kind);                                                   \
    }
WF(test_512, MLKEM_512, KIND_TEST, "mlkem_512_test.json")
WF(test_768, MLKEM_768, KIND_TEST, "mlkem_768_test.json")
WF(test_1024, MLKEM_1024, KIND_TEST, "mlkem_1024_test.json")
WF(encaps_512, MLKEM_512, KIND_ENCAPS, "mlkem_512_encaps_test.json")
WF(encaps_768, MLKEM_768, KIND_ENCAPS, "mlkem_768_encaps_test.json")
WF(encaps_1024, MLKEM_1024, KIND_ENCAPS, "mlkem_1024_encaps_test.json")
WF(decaps_512, MLKEM_512, KIND_DECAPS, "mlkem_512_semi_expanded_decaps_test.json")
WF(decaps_768, MLKEM_768, KIND_DECAPS, "mlkem_768_semi_expanded_decaps_test.json")
WF(decaps_1024, MLKEM_1024, KIND_DECAPS, "mlkem_1024_semi_expanded_decaps_test.json")

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_512),   cmocka_unit_test(test_768),   cmocka_unit_test(test_1024),
        cmocka_unit_test(encaps_512), cmocka_unit_test(encaps_768), cmocka_unit_test(encaps_1024),
        cmocka_unit_test(decaps_512), cmocka_unit_test(decaps_768), cmocka_unit_test(decaps_1024),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
