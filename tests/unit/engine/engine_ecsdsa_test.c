/* CKM_IBM_ECDSA_OTHER (EC-Schnorr, ECSGParm types 3 and 5) through the
 * engine: the known answers of tests/vectors/ecsdsa (fixed nonce, through
 * the internal ecsdsa_sign_k; then verified through the API), signatures of
 * generated keys on every 256-bit curve in every flow checked by the
 * independent implementations (libsecp256k1 for secp256k1, the Python
 * reference for all three curves), their signatures accepted by the
 * engine, and the parameter, key and signature rules. */
#include "epk.h"
#include "etest.h"
#include "pkey.h"
#include "schnorr_ref.h"
#include "sig.h"
#include "testvec.h"

static const char *const CURVES[] = {"P-256", "secp256k1", "brainpoolP256r1"};
static const CK_ULONG VARIANTS[] = {ECSG_IBM_ECSDSA_S256, ECSG_IBM_ECSDSA_COMPR_MULTI};

static engine_mech ecsg(CK_ULONG type)
{
    engine_mech m = et_mech(CKM_IBM_ECDSA_OTHER);
    m.kind = ENGINE_PARAM_ECSG;
    m.ecsg.type = type;
    return m;
}

static CK_RV import_priv(engine *e, const char *curve, const uint8_t d[32], engine_buf *priv,
                         engine_buf *pub)
{
    etmpl t;
    CK_RV rv;
    et_reset(&t);
    et_ulong(&t, CKA_CLASS, CKO_PRIVATE_KEY);
    et_ulong(&t, CKA_KEY_TYPE, CKK_EC);
    et_bytes(&t, CKA_EC_PARAMS, curve, strlen(curve));
    et_bytes(&t, CKA_VALUE, d, 32);
    et_bool(&t, CKA_SIGN, 1);
    if ((rv = engine_import_private_key(e, t.a, t.n, priv)) != CKR_OK)
        return rv;
    return pkey_public_of(e, et_b(priv), pub);
}

static void gen_pair(engine *e, const char *curve, engine_buf *priv, engine_buf *pub)
{
    etmpl pt, st;
    et_reset(&pt);
    et_bytes(&pt, CKA_EC_PARAMS, curve, strlen(curve));
    et_bool(&pt, CKA_VERIFY, 1);
    et_reset(&st);
    et_bool(&st, CKA_SIGN, 1);
    assert_int_equal(epk_pair(e, CKM_EC_KEY_PAIR_GEN, &pt, &st, priv, pub), CKR_OK);
}

/* The uncompressed point at the end of a 256-bit EC SPKI. */
static const uint8_t *point_of(const engine_buf *pub)
{
    size_t l = epk_spki_len(pub);
    assert_true(l >= 65 && pub->ptr[l - 65] == 0x04);
    return pub->ptr + l - 65;
}

static void test_known_answers(void **state)
{
    (void)state;
    engine *e = et_engine();
    cJSON *doc = testvec_load_json("ecsdsa/ecsdsa.json");
    const cJSON *v;
    int n = 0, variants[6] = {0};
    assert_non_null(doc);
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(doc, "vectors"))
    {
        size_t dl, kl, ml, rl, sl;
        uint8_t *d = testvec_hex_field(v, "d", &dl), *k = testvec_hex_field(v, "k", &kl);
        uint8_t *msg = testvec_hex_field(v, "msg", &ml), *r = testvec_hex_field(v, "r", &rl);
        uint8_t *s = testvec_hex_field(v, "s", &sl), want[64];
        const char *curve = testvec_str_field(v, "curve");
        CK_ULONG variant = (CK_ULONG)testvec_int_field(v, "variant", 0);
        engine_buf priv = {0}, pub = {0}, sig = {0};
        engine_mech m = ecsg(variant);
        pkey pk;
        assert_true(d && k && msg && r && s && curve && dl == 32 && kl == 32 && rl == 32 &&
                    sl == 32);
        memcpy(want, r, 32);
        memcpy(want + 32, s, 32);
        assert_int_equal(import_priv(e, curve, d, &priv, &pub), CKR_OK);
        memset(&pk, 0, sizeof(pk));
        assert_int_equal(pkey_load_private(e, et_b(&priv), &pk), CKR_OK);
        assert_int_equal(ecsdsa_sign_k(&pk, variant, k, msg, ml, &sig), CKR_OK);
        assert_int_equal(sig.len, 64);
        assert_memory_equal(sig.ptr, want, 64);
        pkey_clear(&pk);
        /* The published signature verifies in every flow; one flipped bit
         * does not. */
        assert_int_equal(engine_verify_single(e, et_b(&pub), &m, et_raw(msg, ml), et_raw(want, 64)),
                         CKR_OK);
        assert_int_equal(epk_verify_multi(e, &m, et_b(&pub), msg, ml, et_raw(want, 64)), CKR_OK);
        want[63] ^= 1;
        assert_int_equal(engine_verify_single(e, et_b(&pub), &m, et_raw(msg, ml), et_raw(want, 64)),
                         CKR_SIGNATURE_INVALID);
        variants[variant]++;
        n++;
        free(d), free(k), free(msg), free(r), free(s);
        engine_buf_free(&priv), engine_buf_free(&pub), engine_buf_free(&sig);
    }
    assert_int_equal(n, 5);
    assert_int_equal(variants[3], 2);
    assert_int_equal(variants[5], 3);
    cJSON_Delete(doc);
    engine_destroy(e);
}

/* Generated keys, every flow, IBM's message size; each engine signature
 * checked by the independent implementations. */
static void test_engine_signs_reference_verifies(void **state)
{
    (void)state;
    engine *e = et_engine();
    uint64_t seed = 0x5c4e11;
    uint8_t msg[6 * 1024];
    et_fill(&seed, msg, sizeof(msg));
    for (size_t c = 0; c < 3; c++) {
        engine_buf priv = {0}, pub = {0};
        gen_pair(e, CURVES[c], &priv, &pub);
        for (size_t v = 0; v < 2; v++) {
            engine_mech m = ecsg(VARIANTS[v]);
            engine_buf s1 = {0}, s2 = {0};
            epk_all_flows(e, &m, &priv, &pub, msg, sizeof(msg));
            assert_int_equal(engine_sign_single(e, et_b(&priv), &m, et_raw(msg, sizeof(msg)), &s1),
                             CKR_OK);
            assert_int_equal(epk_sign_multi(e, &m, et_b(&priv), msg, sizeof(msg), &s2), CKR_OK);
            assert_int_equal(s1.len, 64);
            assert_memory_not_equal(s1.ptr, s2.ptr, 64); /* a fresh nonce each time */
            assert_int_equal(
                sref_py_verify(CURVES[c], VARIANTS[v], point_of(&pub), msg, sizeof(msg), s1.ptr),
                1);
            assert_int_equal(
                sref_py_verify(CURVES[c], VARIANTS[v], point_of(&pub), msg, sizeof(msg), s2.ptr),
                1);
            if (c == 1) {
                assert_int_equal(
                    sref_k1_verify(VARIANTS[v], point_of(&pub), msg, sizeof(msg), s1.ptr), 1);
                assert_int_equal(
                    sref_k1_verify(VARIANTS[v], point_of(&pub), msg, sizeof(msg), s2.ptr), 1);
            }
            /* The verifiers can say no: the other variant's answer, a flipped bit. */
            assert_int_equal(sref_py_verify(CURVES[c], VARIANTS[1 - v], point_of(&pub), msg,
                                            sizeof(msg), s1.ptr),
                             0);
            s1.ptr[5] ^= 0x80;
            assert_int_equal(
                sref_py_verify(CURVES[c], VARIANTS[v], point_of(&pub), msg, sizeof(msg), s1.ptr),
                0);
            if (c == 1)
                assert_int_equal(
                    sref_k1_verify(VARIANTS[v], point_of(&pub), msg, sizeof(msg), s1.ptr), 0);
            engine_buf_free(&s1), engine_buf_free(&s2);
        }
        engine_buf_free(&priv), engine_buf_free(&pub);
    }
    engine_destroy(e);
}

/* Signatures made by the independent implementations verify in the
 * engine, single- and multi-part; a flipped bit is refused. */
static void test_reference_signs_engine_verifies(void **state)
{
    (void)state;
    engine *e = et_engine();
    uint64_t seed = 0x77e1;
    uint8_t msg[1500], d[32], k[32], sig[64];
    et_fill(&seed, msg, sizeof(msg));
    for (size_t c = 0; c < 3; c++) {
        engine_buf priv = {0}, pub = {0};
        et_fill(&seed, d, sizeof(d));
        d[0] &= 0x7f; /* below every order here */
        assert_int_equal(import_priv(e, CURVES[c], d, &priv, &pub), CKR_OK);
        for (size_t v = 0; v < 2; v++) {
            engine_mech m = ecsg(VARIANTS[v]);
            for (int who = 0; who < (c == 1 ? 2 : 1); who++) {
                et_fill(&seed, k, sizeof(k));
                k[0] &= 0x7f;
                if (who == 0)
                    assert_int_equal(
                        sref_py_sign(CURVES[c], VARIANTS[v], d, k, msg, sizeof(msg), sig), 0);
                else
                    assert_int_equal(sref_k1_sign(VARIANTS[v], d, k, msg, sizeof(msg), sig), 0);
                assert_int_equal(engine_verify_single(e, et_b(&pub), &m, et_raw(msg, sizeof(msg)),
                                                      et_raw(sig, 64)),
                                 CKR_OK);
                assert_int_equal(
                    epk_verify_multi(e, &m, et_b(&pub), msg, sizeof(msg), et_raw(sig, 64)), CKR_OK);
                sig[40] ^= 4;
                assert_int_equal(engine_verify_single(e, et_b(&pub), &m, et_raw(msg, sizeof(msg)),
                                                      et_raw(sig, 64)),
                                 CKR_SIGNATURE_INVALID);
            }
        }
        engine_buf_free(&priv), engine_buf_free(&pub);
    }
    engine_destroy(e);
}

static void test_parameter_rules(void **state)
{
    (void)state;
    engine *e = et_engine();
    engine_buf priv = {0}, pub = {0}, sig = {0}, st = {0};
    engine_mech m;
    const uint8_t msg[] = "abc";
    gen_pair(e, "secp256k1", &priv, &pub);
    m = ecsg(ECSG_IBM_BLS);
    assert_int_equal(engine_sign_single(e, et_b(&priv), &m, et_raw(msg, 3), &sig),
                     CKR_MECHANISM_INVALID);
    assert_int_equal(engine_verify_init(e, &m, et_b(&pub), &st), CKR_MECHANISM_INVALID);
    for (CK_ULONG t = 0; t < 9; t++) {
        if (t == 3 || t == 5 || t == 6)
            continue;
        m = ecsg(t);
        assert_int_equal(engine_sign_single(e, et_b(&priv), &m, et_raw(msg, 3), &sig),
                         CKR_MECHANISM_PARAM_INVALID);
    }
    m = et_mech(CKM_IBM_ECDSA_OTHER); /* no parameter */
    assert_int_equal(engine_sign_single(e, et_b(&priv), &m, et_raw(msg, 3), &sig),
                     CKR_MECHANISM_PARAM_INVALID);
    m = et_mech_b(CKM_IBM_ECDSA_OTHER, "\0\0\0\3", 4); /* ParameterB is not ECSGParm */
    assert_int_equal(engine_sign_init(e, &m, et_b(&priv), &st), CKR_MECHANISM_PARAM_INVALID);
    m = ecsg(ECSG_IBM_ECSDSA_S256); /* an ECSGParm on another mechanism */
    m.type = CKM_ECDSA;
    assert_int_equal(engine_sign_single(e, et_b(&priv), &m, et_raw(msg, 3), &sig),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_null(sig.ptr);
    engine_buf_free(&priv), engine_buf_free(&pub);
    engine_destroy(e);
}

static void test_key_rules(void **state)
{
    (void)state;
    engine *e = et_engine();
    engine_mech m = ecsg(ECSG_IBM_ECSDSA_COMPR_MULTI);
    engine_buf priv = {0}, pub = {0}, sig = {0};
    const uint8_t msg[] = "abc";
    const char *other[] = {"P-384", "P-224", "Ed25519"};
    for (int i = 0; i < 3; i++) {
        gen_pair(e, other[i], &priv, &pub);
        assert_int_equal(engine_sign_single(e, et_b(&priv), &m, et_raw(msg, 3), &sig),
                         CKR_KEY_TYPE_INCONSISTENT);
        assert_int_equal(engine_verify_single(e, et_b(&pub), &m, et_raw(msg, 3), et_raw(msg, 3)),
                         CKR_KEY_TYPE_INCONSISTENT);
        engine_buf_free(&priv), engine_buf_free(&pub);
    }
    /* Usage flags and CKA_ALLOWED_MECHANISMS, as for every mechanism. */
    {
        etmpl pt, st;
        CK_MECHANISM_TYPE only_ecdsa[1] = {CKM_ECDSA};
        et_reset(&pt);
        et_bytes(&pt, CKA_EC_PARAMS, "P-256", 5);
        et_bool(&pt, CKA_VERIFY, 0);
        et_bool(&pt, CKA_DERIVE, 1);
        et_reset(&st);
        et_bool(&st, CKA_SIGN, 0);
        et_bool(&st, CKA_DERIVE, 1);
        assert_int_equal(epk_pair(e, CKM_EC_KEY_PAIR_GEN, &pt, &st, &priv, &pub), CKR_OK);
        assert_int_equal(engine_sign_single(e, et_b(&priv), &m, et_raw(msg, 3), &sig),
                         CKR_KEY_FUNCTION_NOT_PERMITTED);
        assert_int_equal(engine_verify_single(e, et_b(&pub), &m, et_raw(msg, 3), et_raw(msg, 3)),
                         CKR_KEY_FUNCTION_NOT_PERMITTED);
        engine_buf_free(&priv), engine_buf_free(&pub);
        et_reset(&pt);
        et_bytes(&pt, CKA_EC_PARAMS, "P-256", 5);
        et_bytes(&pt, CKA_ALLOWED_MECHANISMS, only_ecdsa, sizeof(only_ecdsa));
        et_reset(&st);
        et_bytes(&st, CKA_ALLOWED_MECHANISMS, only_ecdsa, sizeof(only_ecdsa));
        assert_int_equal(epk_pair(e, CKM_EC_KEY_PAIR_GEN, &pt, &st, &priv, &pub), CKR_OK);
        assert_int_equal(engine_sign_single(e, et_b(&priv), &m, et_raw(msg, 3), &sig),
                         CKR_MECHANISM_INVALID);
        engine_buf_free(&priv), engine_buf_free(&pub);
    }
    engine_destroy(e);
}

/* Malformed signatures: length, s = 0, s = n, r = 0, r >= n (COMPR_MULTI),
 * and a state made for one variant does not verify the other's. */
static void test_signature_rules(void **state)
{
    (void)state;
    static const uint8_t N_K1[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
                                     0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b,
                                     0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    engine *e = et_engine();
    engine_buf priv = {0}, pub = {0}, sig = {0}, st = {0};
    const uint8_t msg[] = "EC-Schnorr";
    uint8_t bad[65];
    gen_pair(e, "secp256k1", &priv, &pub);
    for (size_t v = 0; v < 2; v++) {
        engine_mech m = ecsg(VARIANTS[v]), o = ecsg(VARIANTS[1 - v]);
        assert_int_equal(engine_sign_single(e, et_b(&priv), &m, et_raw(msg, 10), &sig), CKR_OK);
        memcpy(bad, sig.ptr, 64);
        bad[64] = 0;
        assert_int_equal(engine_verify_single(e, et_b(&pub), &m, et_raw(msg, 10), et_raw(bad, 65)),
                         CKR_SIGNATURE_LEN_RANGE);
        assert_int_equal(engine_verify_single(e, et_b(&pub), &m, et_raw(msg, 10), et_raw(bad, 63)),
                         CKR_SIGNATURE_LEN_RANGE);
        memset(bad + 32, 0, 32); /* s = 0 */
        assert_int_equal(engine_verify_single(e, et_b(&pub), &m, et_raw(msg, 10), et_raw(bad, 64)),
                         CKR_SIGNATURE_INVALID);
        memcpy(bad + 32, N_K1, 32); /* s = n */
        assert_int_equal(engine_verify_single(e, et_b(&pub), &m, et_raw(msg, 10), et_raw(bad, 64)),
                         CKR_SIGNATURE_INVALID);
        memcpy(bad, sig.ptr, 64);
        memset(bad, 0, 32); /* r = 0 */
        assert_int_equal(engine_verify_single(e, et_b(&pub), &m, et_raw(msg, 10), et_raw(bad, 64)),
                         CKR_SIGNATURE_INVALID);
        memcpy(bad, N_K1, 32); /* r = n: 0 mod n */
        assert_int_equal(engine_verify_single(e, et_b(&pub), &m, et_raw(msg, 10), et_raw(bad, 64)),
                         CKR_SIGNATURE_INVALID);
        /* The variant travels in the state blob: the other one refuses. */
        assert_int_equal(engine_verify_init(e, &o, et_b(&pub), &st), CKR_OK);
        assert_int_equal(engine_verify(e, et_b(&st), et_raw(msg, 10), et_b(&sig)),
                         CKR_SIGNATURE_INVALID);
        engine_buf_free(&st);
        assert_int_equal(engine_verify_init(e, &m, et_b(&pub), &st), CKR_OK);
        assert_int_equal(engine_verify(e, et_b(&st), et_raw(msg, 10), et_b(&sig)), CKR_OK);
        engine_buf_free(&st);
        engine_buf_free(&sig);
    }
    engine_buf_free(&priv), engine_buf_free(&pub);
    engine_destroy(e);
}

static void test_mechanism_info(void **state)
{
    (void)state;
    engine *e = et_engine();
    CK_MECHANISM_INFO info;
    CK_MECHANISM_TYPE list[512];
    CK_ULONG n = 512;
    bool listed = false;
    assert_int_equal(engine_mechanism_info(e, CKM_IBM_ECDSA_OTHER, &info), CKR_OK);
    assert_int_equal(info.ulMinKeySize, 256);
    assert_int_equal(info.ulMaxKeySize, 256);
    assert_true(info.flags & CKF_SIGN);
    assert_true(info.flags & CKF_VERIFY);
    assert_true(info.flags & CKF_EC_NAMEDCURVE);
    assert_false(info.flags & (CKF_ENCRYPT | CKF_DERIVE | CKF_SIGN_RECOVER));
    assert_int_equal(engine_mechanism_list(e, list, &n), CKR_OK);
    for (CK_ULONG i = 0; i < n; i++)
        listed |= list[i] == CKM_IBM_ECDSA_OTHER;
    assert_true(listed);
    engine_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_engine_signs_reference_verifies),
        cmocka_unit_test(test_reference_signs_engine_verifies),
        cmocka_unit_test(test_parameter_rules),
        cmocka_unit_test(test_key_rules),
        cmocka_unit_test(test_signature_rules),
        cmocka_unit_test(test_mechanism_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
