/* Post-quantum keys through the engine: ML-DSA / HashML-DSA / IBM Dilithium
 * signatures in every flow, ML-KEM encapsulation (PKCS #11 3.2 form and
 * IBM's DeriveKey form), attributes, MACed-SPKI trust, and the Wycheproof
 * ML-DSA verify files through engine_verify_single. */
#include "epk.h"
#include "vtest.h"

static const uint8_t MSG[] = "The quick brown fox jumps over the lazy dog, then signs the result.";
#define IBM_OID(x, y, z)                                                                           \
    {                                                                                              \
        0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x02, 0x82, 0x0b, x, y, z                        \
    }

static void mldsa_pair(engine *e, CK_ULONG set, engine_buf *priv, engine_buf *pub)
{
    etmpl tp, tv;
    et_reset(&tp);
    et_reset(&tv);
    et_ulong(&tp, CKA_PARAMETER_SET, set);
    et_bool(&tv, CKA_SIGN, 1);
    assert_int_equal(epk_pair(e, CKM_ML_DSA_KEY_PAIR_GEN, &tp, &tv, priv, pub), CKR_OK);
}

static void test_mldsa_flows(void **st)
{
    engine *e = et_engine();
    (void)st;
    for (CK_ULONG set = CKP_ML_DSA_44; set <= CKP_ML_DSA_87; set++) {
        engine_buf priv = {0}, pub = {0};
        engine_mech m = et_mech(CKM_ML_DSA);
        mldsa_pair(e, set, &priv, &pub);
        epk_all_flows(e, &m, &priv, &pub, MSG, sizeof(MSG));
        /* HashML-DSA with the token's own pre-hash, three of them. */
        CK_MECHANISM_TYPE hm[3] = {CKM_HASH_ML_DSA_SHA256, CKM_HASH_ML_DSA_SHA3_384,
                                   CKM_HASH_ML_DSA_SHAKE256};
        for (int i = 0; i < 3; i++) {
            engine_mech h = et_mech(hm[i]);
            epk_all_flows(e, &h, &priv, &pub, MSG, sizeof(MSG));
        }
        engine_buf_free(&priv);
        engine_buf_free(&pub);
    }
    engine_destroy(e);
}

static void test_mldsa_deterministic_context(void **st)
{
    engine *e = et_engine();
    engine_buf priv = {0}, pub = {0}, s1 = {0}, s2 = {0}, dg = {0};
    uint8_t p1[64], p2[64], p3[80];
    size_t l1 = epk_ctx_param(p1, CKH_DETERMINISTIC_REQUIRED, (const uint8_t *)"ctx-A", 5);
    size_t l2 = epk_ctx_param(p2, CKH_DETERMINISTIC_REQUIRED, (const uint8_t *)"ctx-B", 5);
    engine_mech a = et_mech_b(CKM_ML_DSA, p1, l1), b = et_mech_b(CKM_ML_DSA, p2, l2);
    (void)st;
    mldsa_pair(e, CKP_ML_DSA_65, &priv, &pub);
    /* Deterministic: multi-part equals one-shot byte for byte. */
    assert_int_equal(engine_sign_single(e, et_b(&priv), &a, et_raw(MSG, sizeof(MSG)), &s1), CKR_OK);
    assert_int_equal(epk_sign_multi(e, &a, et_b(&priv), MSG, sizeof(MSG), &s2), CKR_OK);
    assert_int_equal(s1.len, 3309);
    assert_memory_equal(s1.ptr, s2.ptr, s1.len);
    /* Another context does not verify. */
    assert_int_equal(engine_verify_single(e, et_b(&pub), &a, et_raw(MSG, sizeof(MSG)), et_b(&s1)),
                     CKR_OK);
    assert_int_equal(engine_verify_single(e, et_b(&pub), &b, et_raw(MSG, sizeof(MSG)), et_b(&s1)),
                     CKR_SIGNATURE_INVALID);
    engine_buf_free(&s1);
    engine_buf_free(&s2);
    /* CKM_HASH_ML_DSA with a digest given == CKM_HASH_ML_DSA_SHA256 over the message. */
    engine_mech d = et_mech(CKM_SHA256);
    assert_int_equal(engine_digest_single(e, &d, et_raw(MSG, sizeof(MSG)), &dg), CKR_OK);
    size_t l3 = epk_ctx_param(p3, CKH_DETERMINISTIC_REQUIRED, NULL, 0);
    uint64_t hm = CKM_SHA256;
    for (int i = 0; i < 8; i++)
        p3[l3 + i] = (uint8_t)(hm >> (56 - 8 * i));
    engine_mech gen = et_mech_b(CKM_HASH_ML_DSA, p3, l3 + 8),
                h256 = et_mech_b(CKM_HASH_ML_DSA_SHA256, p3, l3);
    assert_int_equal(engine_sign_single(e, et_b(&priv), &gen, et_b(&dg), &s1), CKR_OK);
    assert_int_equal(engine_sign_single(e, et_b(&priv), &h256, et_raw(MSG, sizeof(MSG)), &s2),
                     CKR_OK);
    assert_memory_equal(s1.ptr, s2.ptr, s1.len);
    assert_int_equal(engine_verify_single(e, et_b(&pub), &gen, et_b(&dg), et_b(&s2)), CKR_OK);
    /* Wrong digest length, missing generic parameter, context too long. */
    assert_int_equal(engine_verify_single(e, et_b(&pub), &gen, et_raw(dg.ptr, 31), et_b(&s2)),
                     CKR_DATA_LEN_RANGE);
    engine_mech bad = et_mech(CKM_HASH_ML_DSA);
    engine_buf junk = {0};
    assert_int_equal(engine_sign_single(e, et_b(&priv), &bad, et_b(&dg), &junk),
                     CKR_MECHANISM_PARAM_INVALID);
    uint8_t big[300] = {0};
    big[6] = 1; /* context length 256 */
    engine_mech toolong = et_mech_b(CKM_ML_DSA, big, 8 + 256);
    assert_int_equal(engine_sign_single(e, et_b(&priv), &toolong, et_raw(MSG, 3), &junk),
                     CKR_MECHANISM_PARAM_INVALID);
    engine_buf_free(&s1);
    engine_buf_free(&s2);
    engine_buf_free(&dg);
    engine_buf_free(&priv);
    engine_buf_free(&pub);
    engine_destroy(e);
}

static void test_mldsa_wrong_set_and_template(void **st)
{
    engine *e = et_engine();
    engine_buf p44 = {0}, k44 = {0}, p65 = {0}, k65 = {0}, sig = {0}, junk = {0}, junk2 = {0};
    engine_mech m = et_mech(CKM_ML_DSA);
    etmpl tp, tv;
    (void)st;
    mldsa_pair(e, CKP_ML_DSA_44, &p44, &k44);
    mldsa_pair(e, CKP_ML_DSA_65, &p65, &k65);
    assert_int_equal(engine_sign_single(e, et_b(&p44), &m, et_raw(MSG, 10), &sig), CKR_OK);
    assert_int_equal(engine_verify_single(e, et_b(&k65), &m, et_raw(MSG, 10), et_b(&sig)),
                     CKR_SIGNATURE_LEN_RANGE);
    /* A private key cannot verify, a public key cannot sign, a secret key is neither. */
    assert_int_equal(engine_verify_single(e, et_b(&p44), &m, et_raw(MSG, 10), et_b(&sig)),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(engine_sign_single(e, et_b(&k44), &m, et_raw(MSG, 10), &junk),
                     CKR_KEY_HANDLE_INVALID);
    /* ECDSA mechanism on an ML-DSA key. */
    engine_mech ec = et_mech(CKM_ECDSA);
    assert_int_equal(engine_sign_single(e, et_b(&p44), &ec, et_raw(MSG, 10), &junk),
                     CKR_KEY_TYPE_INCONSISTENT);
    /* Templates. */
    et_reset(&tp);
    et_reset(&tv);
    assert_int_equal(epk_pair(e, CKM_ML_DSA_KEY_PAIR_GEN, &tp, &tv, &junk, &junk2),
                     CKR_TEMPLATE_INCOMPLETE);
    et_ulong(&tp, CKA_PARAMETER_SET, 7);
    assert_int_equal(epk_pair(e, CKM_ML_DSA_KEY_PAIR_GEN, &tp, &tv, &junk, &junk2),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    et_reset(&tp);
    et_ulong(&tp, CKA_PARAMETER_SET, CKP_ML_DSA_44);
    et_bool(&tp, CKA_ENCRYPT, 1);
    assert_int_equal(epk_pair(e, CKM_ML_DSA_KEY_PAIR_GEN, &tp, &tv, &junk, &junk2),
                     CKR_TEMPLATE_INCONSISTENT);
    et_reset(&tp);
    et_ulong(&tp, CKA_PARAMETER_SET, CKP_ML_DSA_44);
    et_ulong(&tv, CKA_PARAMETER_SET, CKP_ML_DSA_65);
    assert_int_equal(epk_pair(e, CKM_ML_DSA_KEY_PAIR_GEN, &tp, &tv, &junk, &junk2),
                     CKR_TEMPLATE_INCONSISTENT);
    et_reset(&tv);
    et_bool(&tv, CKA_SIGN, 0);
    assert_int_equal(epk_pair(e, CKM_ML_DSA_KEY_PAIR_GEN, &tp, &tv, &junk, &junk2), CKR_OK);
    engine_buf_free(&sig);
    assert_int_equal(engine_sign_single(e, et_b(&junk), &m, et_raw(MSG, 10), &sig),
                     CKR_KEY_FUNCTION_NOT_PERMITTED);
    engine_buf_free(&junk);
    engine_buf_free(&junk2);
    engine_buf_free(&sig);
    engine_buf_free(&p44);
    engine_buf_free(&k44);
    engine_buf_free(&p65);
    engine_buf_free(&k65);
    engine_destroy(e);
}

static void test_ibm_dilithium(void **st)
{
    static const uint8_t OIDS[4][13] = {IBM_OID(1, 6, 5), IBM_OID(7, 4, 4), IBM_OID(7, 6, 5),
                                        IBM_OID(7, 8, 7)};
    static const uint8_t R2_87[13] = IBM_OID(1, 8, 7), KYB[13] = IBM_OID(5, 3, 3);
    engine *e = et_engine();
    engine_mech m = et_mech(CKM_IBM_DILITHIUM);
    etmpl tp, tv;
    (void)st;
    for (int i = 0; i < 4; i++) {
        engine_buf priv = {0}, pub = {0};
        CK_ATTRIBUTE *a = NULL;
        et_reset(&tp);
        et_reset(&tv);
        et_bytes(&tp, CKA_IBM_PQC_PARAMS, OIDS[i], 13);
        et_bool(&tp, CKA_VERIFY, 1);
        et_bool(&tv, CKA_SIGN, 1);
        et_bool(&tv, CKA_PRIVATE, 1);
        et_bool(&tv, CKA_SENSITIVE, 1);
        assert_int_equal(epk_pair(e, CKM_IBM_DILITHIUM, &tp, &tv, &priv, &pub), CKR_OK);
        epk_all_flows(e, &m, &priv, &pub, MSG, sizeof(MSG));
        assert_int_equal(epk_attr(e, &pub, CKA_IBM_PQC_PARAMS, &a), CKR_OK);
        assert_int_equal(a[0].ulValueLen, 13);
        assert_memory_equal(a[0].pValue, OIDS[i], 13);
        engine_attrs_free(a, 1);
        /* The IBM mechanism does not take standard ML-DSA keys and vice versa. */
        engine_mech std = et_mech(CKM_ML_DSA);
        engine_buf sig = {0};
        assert_int_equal(engine_sign_single(e, et_b(&priv), &std, et_raw(MSG, 4), &sig),
                         CKR_KEY_TYPE_INCONSISTENT);
        engine_buf_free(&priv);
        engine_buf_free(&pub);
    }
    engine_buf x = {0}, y = {0};
    et_reset(&tp);
    et_reset(&tv);
    et_bytes(&tp, CKA_IBM_PQC_PARAMS, R2_87, 13);
    assert_int_equal(epk_pair(e, CKM_IBM_DILITHIUM, &tp, &tv, &x, &y),
                     CKR_IBM_PQC_PARAMS_NOT_SUPPORTED);
    et_reset(&tp);
    et_bytes(&tp, CKA_IBM_PQC_PARAMS, KYB, 13);
    assert_int_equal(epk_pair(e, CKM_IBM_DILITHIUM, &tp, &tv, &x, &y),
                     CKR_IBM_PQC_PARAMS_NOT_SUPPORTED);
    et_reset(&tp);
    et_bytes(&tp, CKA_IBM_PQC_PARAMS, "\x06\x01", 2);
    assert_int_equal(epk_pair(e, CKM_IBM_DILITHIUM, &tp, &tv, &x, &y), CKR_ATTRIBUTE_VALUE_INVALID);
    engine_destroy(e);
}

/* Secret-key template: AES-256, extractable and readable for comparison. */
static void aes_tmpl(etmpl *t)
{
    et_reset(t);
    et_ulong(t, CKA_CLASS, CKO_SECRET_KEY);
    et_ulong(t, CKA_KEY_TYPE, CKK_AES);
    et_ulong(t, CKA_VALUE_LEN, 32);
    et_bool(t, CKA_SENSITIVE, 0);
}

static void same_value(engine *e, const engine_buf *a, const engine_buf *b, int want_equal)
{
    CK_ATTRIBUTE *x = NULL, *y = NULL;
    assert_int_equal(epk_attr(e, a, CKA_VALUE, &x), CKR_OK);
    assert_int_equal(epk_attr(e, b, CKA_VALUE, &y), CKR_OK);
    assert_int_equal(x[0].ulValueLen, y[0].ulValueLen);
    assert_int_equal(memcmp(x[0].pValue, y[0].pValue, x[0].ulValueLen) == 0, want_equal);
    engine_attrs_free(x, 1);
    engine_attrs_free(y, 1);
}

static void test_mlkem(void **st)
{
    engine *e = et_engine();
    engine_mech kem = et_mech(CKM_ML_KEM);
    etmpl tp, tv, ta;
    (void)st;
    aes_tmpl(&ta);
    for (CK_ULONG set = CKP_ML_KEM_512; set <= CKP_ML_KEM_1024; set++) {
        engine_buf priv = {0}, pub = {0}, ct = {0}, k1 = {0}, k2 = {0}, k3 = {0};
        et_reset(&tp);
        et_reset(&tv);
        et_ulong(&tp, CKA_PARAMETER_SET, set);
        assert_int_equal(epk_pair(e, CKM_ML_KEM_KEY_PAIR_GEN, &tp, &tv, &priv, &pub), CKR_OK);
        assert_int_equal(engine_encapsulate(e, &kem, et_b(&pub), ta.a, ta.n, &ct, &k1), CKR_OK);
        assert_int_equal(ct.len, set == 1 ? 768 : set == 2 ? 1088 : 1568);
        assert_int_equal(engine_decapsulate(e, &kem, et_b(&priv), et_b(&ct), ta.a, ta.n, &k2),
                         CKR_OK);
        same_value(e, &k1, &k2, 1);
        /* Tampered ciphertext: implicit rejection, a different key, no error. */
        ct.ptr[5] ^= 1;
        assert_int_equal(engine_decapsulate(e, &kem, et_b(&priv), et_b(&ct), ta.a, ta.n, &k3),
                         CKR_OK);
        same_value(e, &k1, &k3, 0);
        engine_buf_free(&k3);
        assert_int_equal(
            engine_decapsulate(e, &kem, et_b(&priv), et_raw(ct.ptr, ct.len - 1), ta.a, ta.n, &k3),
            CKR_ENCRYPTED_DATA_LEN_RANGE);
        /* Roles: the public key does not decapsulate, the private one does not encapsulate. */
        assert_int_equal(engine_decapsulate(e, &kem, et_b(&pub), et_b(&ct), ta.a, ta.n, &k3),
                         CKR_KEY_HANDLE_INVALID);
        engine_buf_free(&ct);
        assert_int_equal(engine_encapsulate(e, &kem, et_b(&priv), ta.a, ta.n, &ct, &k3),
                         CKR_KEY_TYPE_INCONSISTENT);
        engine_buf_free(&k1);
        engine_buf_free(&k2);
        engine_buf_free(&priv);
        engine_buf_free(&pub);
    }
    engine_destroy(e);
}

static void test_ibm_kyber_derive(void **st)
{
    static const uint8_t OIDS[2][13] = {IBM_OID(5, 3, 3), IBM_OID(5, 4, 4)};
    engine *e = et_engine();
    etmpl tp, tv, ta;
    (void)st;
    aes_tmpl(&ta);
    for (int i = 0; i < 2; i++) {
        engine_buf priv = {0}, pub = {0}, k1 = {0}, c1 = {0}, k2 = {0}, c2 = {0}, hs = {0};
        engine_mech m = et_mech(CKM_IBM_KYBER);
        et_reset(&tp);
        et_reset(&tv);
        et_ulong(&tp, CKA_CLASS, CKO_PUBLIC_KEY);
        et_bytes(&tp, CKA_IBM_PQC_PARAMS, OIDS[i], 13);
        et_bool(&tp, CKA_ENCRYPT, 1);
        et_bool(&tp, CKA_DERIVE, 1);
        et_ulong(&tv, CKA_CLASS, CKO_PRIVATE_KEY);
        et_bool(&tv, CKA_DECRYPT, 1);
        et_bool(&tv, CKA_DERIVE, 1);
        assert_int_equal(epk_pair(e, CKM_IBM_KYBER, &tp, &tv, &priv, &pub), CKR_OK);
        m.kind = ENGINE_PARAM_KYBER;
        m.kyber.mode = CK_IBM_KEM_ENCAPSULATE;
        m.kyber.kdf = CKD_NULL;
        assert_int_equal(
            engine_derive_key(e, &m, ta.a, ta.n, et_b(&pub), et_raw(NULL, 0), &k1, &c1), CKR_OK);
        assert_int_equal(c1.len, 7 + (i == 0 ? 1088 : 1568));
        m.kyber.mode = CK_IBM_KEM_DECAPSULATE;
        m.kyber.cipher_text = et_raw(c1.ptr + 7, c1.len - 7); /* as the GREP11 sample slices it */
        assert_int_equal(
            engine_derive_key(e, &m, ta.a, ta.n, et_b(&priv), et_raw(NULL, 0), &k2, &c2), CKR_OK);
        assert_int_equal(c2.len, 7);
        assert_memory_equal(c1.ptr, c2.ptr, 7); /* same check value and length */
        same_value(e, &k1, &k2, 1);
        engine_buf_free(&k1);
        engine_buf_free(&c1);
        engine_buf_free(&k2);
        engine_buf_free(&c2);
        /* Hybrid: a generic secret joins the KEM secret through SHA-256 X9.63. */
        uint8_t hv[32];
        memset(hv, 0x5a, sizeof(hv));
        assert_int_equal(et_import(e, CKK_GENERIC_SECRET, hv, 32, &hs), CKR_OK);
        m.kyber.mode = CK_IBM_KEM_ENCAPSULATE;
        m.kyber.cipher_text = et_raw(NULL, 0);
        m.kyber.kdf = CKD_IBM_HYBRID_SHA256_KDF;
        m.kyber.blob = et_b(&hs);
        assert_int_equal(
            engine_derive_key(e, &m, ta.a, ta.n, et_b(&pub), et_raw(NULL, 0), &k1, &c1), CKR_OK);
        m.kyber.mode = CK_IBM_KEM_DECAPSULATE;
        m.kyber.cipher_text = et_raw(c1.ptr + 7, c1.len - 7);
        assert_int_equal(
            engine_derive_key(e, &m, ta.a, ta.n, et_b(&priv), et_raw(NULL, 0), &k2, &c2), CKR_OK);
        same_value(e, &k1, &k2, 1);
        /* Missing hybrid secret. */
        engine_buf x = {0}, y = {0};
        m.kyber.blob = et_raw(NULL, 0);
        assert_int_equal(engine_derive_key(e, &m, ta.a, ta.n, et_b(&priv), et_raw(NULL, 0), &x, &y),
                         CKR_MECHANISM_PARAM_INVALID);
        engine_buf_free(&k1);
        engine_buf_free(&c1);
        engine_buf_free(&k2);
        engine_buf_free(&c2);
        engine_buf_free(&hs);
        engine_buf_free(&priv);
        engine_buf_free(&pub);
    }
    engine_destroy(e);
}

static void test_attributes_and_trust(void **st)
{
    engine *e = et_engine();
    engine_buf priv = {0}, pub = {0}, sig = {0}, mod = {0};
    engine_mech m = et_mech(CKM_ML_DSA);
    CK_ATTRIBUTE *a = NULL;
    CK_ULONG n = 0;
    CK_ATTRIBUTE_TYPE want[4] = {CKA_KEY_TYPE, CKA_PARAMETER_SET, CKA_VALUE, CKA_TRUSTED};
    (void)st;
    mldsa_pair(e, CKP_ML_DSA_44, &priv, &pub);
    size_t sl = epk_spki_len(&pub);
    assert_true(sl < pub.len); /* a trailer follows */
    assert_int_equal(engine_get_attribute_value(e, et_b(&pub), want, 4, &a, &n), CKR_OK);
    assert_int_equal(*(CK_ULONG *)a[0].pValue, CKK_ML_DSA);
    assert_int_equal(*(CK_ULONG *)a[1].pValue, CKP_ML_DSA_44);
    assert_int_equal(a[2].ulValueLen, 1312);
    assert_memory_equal(a[2].pValue, pub.ptr + sl - 1312, 1312);
    engine_attrs_free(a, n);
    assert_int_equal(epk_attr(e, &pub, CKA_PUBLIC_KEY_INFO, &a), CKR_OK);
    assert_int_equal(a[0].ulValueLen, sl);
    assert_memory_equal(a[0].pValue, pub.ptr, sl);
    engine_attrs_free(a, 1);
    /* Private values never come out, whatever the flags. */
    assert_int_equal(epk_attr(e, &priv, CKA_VALUE, &a), CKR_ATTRIBUTE_SENSITIVE);
    engine_attrs_free(a, 1);
    assert_int_equal(epk_attr(e, &priv, CKA_PUBLIC_KEY_INFO, &a), CKR_OK);
    assert_int_equal(a[0].ulValueLen, sl);
    engine_attrs_free(a, 1);
    /* SetAttributeValue on the MACed SPKI re-MACs it; on a plain SPKI it is refused. */
    etmpl t;
    et_reset(&t);
    et_bool(&t, CKA_VERIFY, 0);
    assert_int_equal(engine_set_attribute_value(e, et_b(&pub), t.a, t.n, &mod), CKR_OK);
    assert_int_equal(engine_sign_single(e, et_b(&priv), &m, et_raw(MSG, 8), &sig), CKR_OK);
    assert_int_equal(engine_verify_single(e, et_b(&mod), &m, et_raw(MSG, 8), et_b(&sig)),
                     CKR_KEY_FUNCTION_NOT_PERMITTED);
    engine_buf junk = {0};
    assert_int_equal(engine_set_attribute_value(e, et_raw(pub.ptr, sl), t.a, t.n, &junk),
                     CKR_ATTRIBUTE_READ_ONLY);
    /* A plain SPKI verifies (untrusted); a damaged MAC makes the key untrusted, not unusable. */
    assert_int_equal(engine_verify_single(e, et_raw(pub.ptr, sl), &m, et_raw(MSG, 8), et_b(&sig)),
                     CKR_OK);
    mod.ptr[mod.len - 1] ^= 1; /* the trailer said VERIFY = FALSE; now nobody vouches for it */
    assert_int_equal(engine_verify_single(e, et_b(&mod), &m, et_raw(MSG, 8), et_b(&sig)), CKR_OK);
    /* Rewrap re-MACs under the new register. */
    engine_buf rw = {0};
    assert_int_equal(engine_load_new_wk(e, ETEST_WK2), CKR_OK);
    assert_int_equal(engine_rewrap_key_blob(e, et_b(&pub), &rw), CKR_OK);
    assert_int_equal(engine_activate_new_wk(e), CKR_OK);
    assert_int_equal(epk_attr(e, &rw, CKA_LOCAL, &a), CKR_OK);
    assert_int_equal(*(CK_BBOOL *)a[0].pValue, CK_TRUE); /* trusted attributes survived */
    engine_attrs_free(a, 1);
    assert_int_equal(epk_attr(e, &pub, CKA_LOCAL, &a), CKR_OK); /* old MAC: untrusted now */
    assert_int_equal(*(CK_BBOOL *)a[0].pValue, CK_FALSE);
    engine_attrs_free(a, 1);
    engine_buf_free(&rw);
    engine_buf_free(&sig);
    engine_buf_free(&mod);
    engine_buf_free(&priv);
    engine_buf_free(&pub);
    engine_destroy(e);
}

static void wycheproof_mldsa(const char *file)
{
    cJSON *j = testvec_load_json(file);
    const cJSON *g, *t;
    vt_counts c;
    engine *e = et_engine();
    assert_non_null(j);
    vt_begin(&c, file);
    cJSON_ArrayForEach(g, vt_arr(j, "testGroups"))
    {
        size_t kl = 0;
        uint8_t *spki = testvec_hex_field(g, "publicKeyDer", &kl);
        cJSON_ArrayForEach(t, vt_arr(g, "tests"))
        {
            size_t ml = 0, sl = 0, cl = 0;
            uint8_t *msg = testvec_hex_field(t, "msg", &ml),
                    *sig = testvec_hex_field(t, "sig", &sl);
            uint8_t *ctx = testvec_hex_field(t, "ctx", &cl), prm[300];
            const char *res = testvec_str_field(t, "result");
            engine_mech m;
            CK_RV rv;
            if (cl > 255) {
                /* Not expressible in CK_SIGN_ADDITIONAL_CONTEXT; must be rejected anyway. */
                rv = CKR_MECHANISM_PARAM_INVALID;
            } else {
                m = et_mech_b(CKM_ML_DSA, prm, epk_ctx_param(prm, 0, ctx, cl));
                rv =
                    engine_verify_single(e, et_raw(spki, kl), &m, et_raw(msg, ml), et_raw(sig, sl));
            }
            bool ok = strcmp(res, "valid") == 0 ? rv == CKR_OK : rv != CKR_OK;
            vt_result(&c, ok, testvec_str_field(t, "comment"), vt_num(t, "tcId", 0));
            free(msg);
            free(sig);
            free(ctx);
        }
        free(spki);
    }
    vt_report(&c);
    cJSON_Delete(j);
    engine_destroy(e);
}

static void test_wycheproof_mldsa(void **st)
{
    (void)st;
    wycheproof_mldsa("wycheproof/mldsa_44_verify_test.json");
    wycheproof_mldsa("wycheproof/mldsa_65_verify_test.json");
    wycheproof_mldsa("wycheproof/mldsa_87_verify_test.json");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mldsa_flows),
        cmocka_unit_test(test_mldsa_deterministic_context),
        cmocka_unit_test(test_mldsa_wrong_set_and_template),
        cmocka_unit_test(test_ibm_dilithium),
        cmocka_unit_test(test_mlkem),
        cmocka_unit_test(test_ibm_kyber_derive),
        cmocka_unit_test(test_attributes_and_trust),
        cmocka_unit_test(test_wycheproof_mldsa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
