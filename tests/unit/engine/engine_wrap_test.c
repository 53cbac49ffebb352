/* WrapKey/UnwrapKey: Wycheproof aes_wrap and aes_kwp, ACVP AES-KW/KWP
 * subsets, and the wrap policy rules. */
#include "ecrypt.h"
#include "vtest.h"

static CK_RV unwrap_generic(engine *e, const engine_buf *kek, const engine_mech *m,
                            const uint8_t *ct, size_t cl, engine_buf *blob)
{
    etmpl t;
    engine_buf cs = {0};
    CK_RV rv;
    et_reset(&t);
    et_ulong(&t, CKA_CLASS, CKO_SECRET_KEY);
    et_ulong(&t, CKA_KEY_TYPE, CKK_GENERIC_SECRET);
    et_bool(&t, CKA_SENSITIVE, 0);
    rv = engine_unwrap_key(e, et_raw(ct, cl), et_b(kek), et_raw(NULL, 0), m, t.a, t.n, blob, &cs);
    engine_buf_free(&cs);
    return rv;
}

static int value_is(engine *e, const engine_buf *blob, const uint8_t *v, size_t l)
{
    CK_ATTRIBUTE_TYPE ty = CKA_VALUE;
    CK_ATTRIBUTE *out = NULL;
    CK_ULONG n = 0;
    int ok = engine_get_attribute_value(e, et_b(blob), &ty, 1, &out, &n) == CKR_OK &&
             out[0].ulValueLen == l && memcmp(out[0].pValue, v, l) == 0;
    engine_attrs_free(out, n);
    return ok;
}

/* wrap(msg) == ct and unwrap(ct) == msg */
static int wrap_roundtrip(engine *e, const engine_buf *kek, const engine_mech *m,
                          const uint8_t *msg, size_t ml, const uint8_t *ct, size_t cl)
{
    engine_buf k = {0}, w = {0}, u = {0};
    int ok = et_import(e, CKK_GENERIC_SECRET, msg, ml, &k) == CKR_OK &&
             engine_wrap_key(e, et_b(&k), et_b(kek), et_raw(NULL, 0), m, &w) == CKR_OK &&
             w.len == cl && memcmp(w.ptr, ct, cl) == 0 &&
             unwrap_generic(e, kek, m, ct, cl, &u) == CKR_OK && value_is(e, &u, msg, ml);
    engine_buf_free(&k);
    engine_buf_free(&w);
    engine_buf_free(&u);
    return ok;
}

static void run_wycheproof(engine *e, const char *file, CK_MECHANISM_TYPE mt)
{
    char path[128];
    cJSON *j;
    const cJSON *g, *t;
    vt_counts c;
    engine_mech m = et_mech(mt);
    snprintf(path, sizeof(path), "wycheproof/%s", file);
    j = testvec_load_json(path);
    assert_non_null(j);
    vt_begin(&c, path);
    cJSON_ArrayForEach(g, vt_arr(j, "testGroups"))
    {
        cJSON_ArrayForEach(t, vt_arr(g, "tests"))
        {
            size_t kl, ml, cl;
            uint8_t *k = testvec_hex_field(t, "key", &kl), *msg = testvec_hex_field(t, "msg", &ml),
                    *ct = testvec_hex_field(t, "ct", &cl);
            const char *res = testvec_str_field(t, "result");
            engine_buf kek = {0}, u = {0};
            int ok;
            assert_int_equal(et_import(e, CKK_AES, k, kl, &kek), CKR_OK);
            if (strcmp(res, "acceptable") == 0) {
                /* 8-byte KW keys (RFC 3394 only): SP 800-38F leaves them out and so do we. */
                engine_buf kk = {0}, ww = {0};
                ok =
                    et_import(e, CKK_GENERIC_SECRET, msg, ml, &kk) != CKR_OK ||
                    engine_wrap_key(e, et_b(&kk), et_b(&kek), et_raw(NULL, 0), &m, &ww) != CKR_OK ||
                    wrap_roundtrip(e, &kek, &m, msg, ml, ct, cl);
                engine_buf_free(&kk);
                engine_buf_free(&ww);
            } else if (strcmp(res, "invalid") != 0) {
                if (ml == 0) {
                    vt_skip(&c, "empty key: a key object has at least one byte");
                    goto next;
                }
                ok = wrap_roundtrip(e, &kek, &m, msg, ml, ct, cl);
            } else {
                ok = unwrap_generic(e, &kek, &m, ct, cl, &u) != CKR_OK;
            }
            vt_result(&c, ok, res, vt_num(t, "tcId", 0));
        next:
            engine_buf_free(&kek);
            engine_buf_free(&u);
            free(k), free(msg), free(ct);
        }
    }
    vt_report(&c);
    cJSON_Delete(j);
}

static void run_acvp(engine *e, const char *dir, CK_MECHANISM_TYPE mt)
{
    char p[256];
    cJSON *pr, *exp;
    const cJSON *g, *t;
    vt_counts c;
    engine_mech m = et_mech(mt);
    snprintf(p, sizeof(p), "acvp/%s/prompt.json", dir);
    pr = testvec_load_json(p);
    snprintf(p, sizeof(p), "acvp/%s/expectedResults.json", dir);
    exp = testvec_load_json(p);
    assert_non_null(pr);
    assert_non_null(exp);
    vt_begin(&c, dir);
    cJSON_ArrayForEach(g, vt_arr(pr, "testGroups"))
    {
        int enc = strcmp(testvec_str_field(g, "direction"), "encrypt") == 0;
        long tg = vt_num(g, "tgId", 0);
        cJSON_ArrayForEach(t, vt_arr(g, "tests"))
        {
            long tc = vt_num(t, "tcId", 0);
            const cJSON *want = vt_expected(exp, tg, tc);
            size_t kl, pl = 0, cl = 0;
            uint8_t *k = testvec_hex_field(t, "key", &kl), *pt, *ct;
            engine_buf kek = {0}, u = {0};
            int ok;
            assert_int_equal(et_import(e, CKK_AES, k, kl, &kek), CKR_OK);
            pt = testvec_hex_field(enc ? t : want, "pt", &pl);
            ct = testvec_hex_field(enc ? want : t, "ct", &cl);
            if (pt != NULL && ct != NULL)
                ok = wrap_roundtrip(e, &kek, &m, pt, pl, ct, cl);
            else /* testPassed: false */
                ok = ct != NULL && unwrap_generic(e, &kek, &m, ct, cl, &u) != CKR_OK;
            vt_result(&c, ok, enc ? "wrap" : "unwrap", tc);
            engine_buf_free(&kek);
            engine_buf_free(&u);
            free(k), free(pt), free(ct);
        }
    }
    vt_report(&c);
    cJSON_Delete(pr);
    cJSON_Delete(exp);
}

static void test_vectors(void **state)
{
    (void)state;
    engine *e = et_engine();
    run_wycheproof(e, "aes_wrap_test.json", CKM_AES_KEY_WRAP);
    run_wycheproof(e, "aes_kwp_test.json", CKM_AES_KEY_WRAP_KWP);
    run_acvp(e, "ACVP-AES-KW-1.0.subset", CKM_AES_KEY_WRAP);
    run_acvp(e, "ACVP-AES-KWP-1.0.subset", CKM_AES_KEY_WRAP_PAD);
    engine_destroy(e);
}

static engine_buf gen(engine *e, CK_MECHANISM_TYPE gm, CK_ULONG len, etmpl *t)
{
    engine_buf b = {0}, cs = {0};
    engine_mech m = et_mech(gm);
    etmpl empty;
    if (t == NULL) {
        et_reset(&empty);
        t = &empty;
    }
    if (gm == CKM_AES_KEY_GEN || gm == CKM_GENERIC_SECRET_KEY_GEN)
        et_ulong(t, CKA_VALUE_LEN, len);
    assert_int_equal(engine_generate_key(e, &m, t->a, t->n, &b, &cs), CKR_OK);
    engine_buf_free(&cs);
    return b;
}

static void test_policy(void **state)
{
    (void)state;
    engine *e = et_engine(), *e2 = NULL;
    etmpl t;
    engine_buf kek, trusted_kek, key, w = {0}, u = {0}, cs = {0};
    engine_mech kw = et_mech(CKM_AES_KEY_WRAP), none = et_mech(CKM_AES_ECB);
    engine_bytes nomac = {NULL, 0};

    kek = gen(e, CKM_AES_KEY_GEN, 32, NULL);
    et_reset(&t);
    et_bool(&t, CKA_TRUSTED, 1);
    trusted_kek = gen(e, CKM_AES_KEY_GEN, 32, &t);
    /* not extractable: never leaves */
    et_reset(&t);
    et_bool(&t, CKA_EXTRACTABLE, 0);
    key = gen(e, CKM_AES_KEY_GEN, 16, &t);
    assert_int_equal(engine_wrap_key(e, et_b(&key), et_b(&kek), nomac, &kw, &w),
                     CKR_KEY_UNEXTRACTABLE);
    engine_buf_free(&key);
    /* wrap-with-trusted: only under a trusted key */
    et_reset(&t);
    et_bool(&t, CKA_WRAP_WITH_TRUSTED, 1);
    key = gen(e, CKM_AES_KEY_GEN, 16, &t);
    assert_int_equal(engine_wrap_key(e, et_b(&key), et_b(&kek), nomac, &kw, &w),
                     CKR_KEY_NOT_WRAPPABLE);
    assert_int_equal(engine_wrap_key(e, et_b(&key), et_b(&trusted_kek), nomac, &kw, &w), CKR_OK);
    /* unwrap keeps policy from the template; CKA_LOCAL and friends are false */
    et_reset(&t);
    et_ulong(&t, CKA_CLASS, CKO_SECRET_KEY);
    et_ulong(&t, CKA_KEY_TYPE, CKK_AES);
    assert_int_equal(
        engine_unwrap_key(e, et_b(&w), et_b(&trusted_kek), nomac, &kw, t.a, t.n, &u, &cs), CKR_OK);
    {
        CK_ATTRIBUTE_TYPE tys[3] = {CKA_LOCAL, CKA_ALWAYS_SENSITIVE, CKA_VALUE_LEN};
        CK_ATTRIBUTE *out = NULL;
        CK_ULONG n = 0;
        assert_int_equal(engine_get_attribute_value(e, et_b(&u), tys, 3, &out, &n), CKR_OK);
        assert_int_equal(*(CK_BBOOL *)out[0].pValue, CK_FALSE);
        assert_int_equal(*(CK_BBOOL *)out[1].pValue, CK_FALSE);
        assert_int_equal(*(CK_ULONG *)out[2].pValue, 16);
        engine_attrs_free(out, n);
    }
    engine_buf_free(&u);
    engine_buf_free(&cs);
    /* unwrap template: wrong length, missing key type */
    et_reset(&t);
    et_ulong(&t, CKA_KEY_TYPE, CKK_AES);
    et_ulong(&t, CKA_VALUE_LEN, 32);
    assert_int_equal(
        engine_unwrap_key(e, et_b(&w), et_b(&trusted_kek), nomac, &kw, t.a, t.n, &u, &cs),
        CKR_WRAPPED_KEY_INVALID);
    et_reset(&t);
    assert_int_equal(
        engine_unwrap_key(e, et_b(&w), et_b(&trusted_kek), nomac, &kw, t.a, t.n, &u, &cs),
        CKR_TEMPLATE_INCOMPLETE);
    /* a different KEK: integrity check fails */
    et_reset(&t);
    et_ulong(&t, CKA_KEY_TYPE, CKK_AES);
    assert_int_equal(engine_unwrap_key(e, et_b(&w), et_b(&kek), nomac, &kw, t.a, t.n, &u, &cs),
                     CKR_WRAPPED_KEY_INVALID);
    engine_buf_free(&w);
    engine_buf_free(&key);
    /* wrap/unwrap usage of the KEK, and mechanism checks */
    et_reset(&t);
    et_bool(&t, CKA_WRAP, 0);
    et_bool(&t, CKA_UNWRAP, 0);
    engine_buf nowrap = gen(e, CKM_AES_KEY_GEN, 16, &t);
    key = gen(e, CKM_AES_KEY_GEN, 16, NULL);
    assert_int_equal(engine_wrap_key(e, et_b(&key), et_b(&nowrap), nomac, &kw, &w),
                     CKR_KEY_FUNCTION_NOT_PERMITTED);
    assert_int_equal(engine_wrap_key(e, et_b(&key), et_b(&kek), nomac, &none, &w),
                     CKR_MECHANISM_INVALID);
    assert_int_equal(engine_wrap_key(e, et_b(&key), et_b(&kek), et_b(&kek), &kw, &w),
                     CKR_ARGUMENTS_BAD);
    assert_int_equal(engine_wrap_key(e, et_b(&key), et_raw("junk", 4), nomac, &kw, &w),
                     CKR_WRAPPING_KEY_HANDLE_INVALID);
    assert_int_equal(engine_wrap_key(e, et_b(&key), et_b(&kek), nomac, &kw, &w), CKR_OK);
    et_reset(&t);
    et_ulong(&t, CKA_KEY_TYPE, CKK_AES);
    assert_int_equal(engine_unwrap_key(e, et_b(&w), et_b(&nowrap), nomac, &kw, t.a, t.n, &u, &cs),
                     CKR_KEY_FUNCTION_NOT_PERMITTED);
    assert_int_equal(
        engine_unwrap_key(e, et_b(&w), et_raw("junk", 4), nomac, &kw, t.a, t.n, &u, &cs),
        CKR_UNWRAPPING_KEY_HANDLE_INVALID);
    {
        engine_buf g = gen(e, CKM_GENERIC_SECRET_KEY_GEN, 32, NULL), w2 = {0};
        assert_int_equal(engine_wrap_key(e, et_b(&key), et_b(&g), nomac, &kw, &w2),
                         CKR_WRAPPING_KEY_TYPE_INCONSISTENT);
        engine_buf_free(&g);
    }
    /* a blob from another WK */
    assert_int_equal(engine_create(ETEST_WK2, NULL, &e2), CKR_OK);
    assert_int_equal(engine_unwrap_key(e2, et_b(&w), et_b(&kek), nomac, &kw, t.a, t.n, &u, &cs),
                     CKR_IBM_WKID_MISMATCH);
    engine_destroy(e2);
    engine_buf_free(&w);
    engine_buf_free(&key);
    engine_buf_free(&nowrap);
    engine_buf_free(&kek);
    engine_buf_free(&trusted_kek);
    engine_destroy(e);
}

/* The GREP11 example flow: import a clear AES key by CBC-PAD unwrap, export
 * it again by CBC-PAD wrap + decrypt, and compare checksums. */
static void test_cbc_pad_import_export(void **state)
{
    (void)state;
    engine *e = et_engine();
    etmpl t;
    engine_buf base = gen(e, CKM_AES_KEY_GEN, 32, NULL), enc = {0}, imp = {0}, cs = {0}, w = {0},
               dec = {0};
    static const uint8_t raw[32] = {0x84, 0xeb, 0x31, 0xc1, 0x84, 0xae, 0xe8, 0x67,
                                    0x91, 0xbf, 0x09, 0x50, 0x45, 0x91, 0x4a, 0xdb,
                                    0xcb, 0xe0, 0x88, 0x23, 0xb4, 0x00, 0x24, 0xf0,
                                    0x29, 0x77, 0xb4, 0x6c, 0x15, 0xe8, 0x4d, 0x64};
    uint8_t iv[16] = {9};
    engine_mech m = et_mech_b(CKM_AES_CBC_PAD, iv, 16), d3 = et_mech_b(CKM_DES3_CBC_PAD, iv, 8);
    assert_int_equal(engine_encrypt_single(e, et_b(&base), &m, et_raw(raw, 32), &enc), CKR_OK);
    et_reset(&t);
    et_ulong(&t, CKA_CLASS, CKO_SECRET_KEY);
    et_ulong(&t, CKA_KEY_TYPE, CKK_AES);
    et_ulong(&t, CKA_VALUE_LEN, 32);
    et_bool(&t, CKA_EXTRACTABLE, 1);
    assert_int_equal(
        engine_unwrap_key(e, et_b(&enc), et_b(&base), et_raw(NULL, 0), &m, t.a, t.n, &imp, &cs),
        CKR_OK);
    assert_int_equal(cs.len, 7);
    assert_int_equal(engine_wrap_key(e, et_b(&imp), et_b(&base), et_raw(NULL, 0), &m, &w), CKR_OK);
    assert_int_equal(engine_decrypt_single(e, et_b(&base), &m, et_b(&w), &dec), CKR_OK);
    assert_int_equal(dec.len, 32);
    assert_memory_equal(dec.ptr, raw, 32);
    /* bad pad on unwrap */
    w.ptr[w.len - 1] ^= 0x55;
    engine_buf_free(&imp);
    engine_buf_free(&cs);
    assert_int_equal(
        engine_unwrap_key(e, et_b(&w), et_b(&base), et_raw(NULL, 0), &m, t.a, t.n, &imp, &cs),
        CKR_WRAPPED_KEY_INVALID);
    /* DES3 CBC-PAD wrapping needs a DES key */
    assert_int_equal(
        engine_unwrap_key(e, et_b(&w), et_b(&base), et_raw(NULL, 0), &d3, t.a, t.n, &imp, &cs),
        CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT);
    engine_buf_free(&w);
    engine_buf_free(&dec);
    engine_buf_free(&enc);
    engine_buf_free(&base);
    engine_destroy(e);
}

/* CKM_IBM_ATTRIBUTEBOUND_WRAP: an attribute-bound key travels with its
 * attributes, under an AES or an RSA key, authenticated by a MAC key; it
 * travels no other way, and a tampered or re-keyed blob does not unwrap. */
static CK_BBOOL bool_attr(engine *e, const engine_buf *k, CK_ATTRIBUTE_TYPE t)
{
    CK_ATTRIBUTE *a = NULL;
    CK_ULONG n = 0;
    assert_int_equal(engine_get_attribute_value(e, et_b(k), &t, 1, &a, &n), CKR_OK);
    CK_BBOOL v = *(CK_BBOOL *)a[0].pValue;
    engine_attrs_free(a, n);
    return v;
}

static void test_attribute_bound(void **state)
{
    (void)state;
    engine *e = et_engine();
    etmpl t;
    engine_mech abw = et_mech(CKM_IBM_ATTRIBUTEBOUND_WRAP), kw = et_mech(CKM_AES_KEY_WRAP);
    engine_buf w = {0}, u = {0}, cs = {0}, cs2 = {0};
    et_reset(&t);
    et_bool(&t, CKA_IBM_ATTRBOUND, 1);
    engine_buf mac = gen(e, CKM_GENERIC_SECRET_KEY_GEN, 16, &t);
    engine_buf plain_mac = gen(e, CKM_GENERIC_SECRET_KEY_GEN, 16, NULL);
    et_reset(&t);
    et_bool(&t, CKA_IBM_ATTRBOUND, 1);
    engine_buf kek = gen(e, CKM_AES_KEY_GEN, 32, &t);
    et_reset(&t);
    et_bool(&t, CKA_IBM_ATTRBOUND, 1);
    et_bool(&t, CKA_EXTRACTABLE, 1);
    et_bool(&t, CKA_ENCRYPT, 1);
    et_bool(&t, CKA_DECRYPT, 0);
    et_ulong(&t, CKA_VALUE_LEN, 16);
    engine_mech gm = et_mech(CKM_AES_KEY_GEN);
    engine_buf key = {0};
    assert_int_equal(engine_generate_key(e, &gm, t.a, t.n, &key, &cs), CKR_OK);
    engine_buf plain_key = gen(e, CKM_AES_KEY_GEN, 16, NULL);

    /* only this way, and only attribute-bound keys */
    assert_int_equal(engine_wrap_key(e, et_b(&key), et_b(&kek), et_raw(NULL, 0), &kw, &w),
                     CKR_KEY_NOT_WRAPPABLE);
    assert_int_equal(engine_wrap_key(e, et_b(&plain_key), et_b(&kek), et_b(&mac), &abw, &w),
                     CKR_KEY_NOT_WRAPPABLE);
    assert_int_equal(engine_wrap_key(e, et_b(&key), et_b(&kek), et_b(&plain_mac), &abw, &w),
                     CKR_KEY_FUNCTION_NOT_PERMITTED);
    assert_int_equal(engine_wrap_key(e, et_b(&key), et_b(&kek), et_b(&mac), &abw, &w), CKR_OK);

    /* back with its attributes and value (the check value says so) */
    et_reset(&t);
    et_ulong(&t, CKA_CLASS, CKO_SECRET_KEY);
    et_ulong(&t, CKA_KEY_TYPE, CKK_AES);
    assert_int_equal(
        engine_unwrap_key(e, et_b(&w), et_b(&kek), et_b(&mac), &abw, t.a, t.n, &u, &cs2), CKR_OK);
    assert_int_equal(cs2.len >= 3 && cs.len >= 3, 1);
    assert_memory_equal(cs.ptr, cs2.ptr, 3);
    assert_int_equal(bool_attr(e, &u, CKA_IBM_ATTRBOUND), CK_TRUE);
    assert_int_equal(bool_attr(e, &u, CKA_ENCRYPT), CK_TRUE);
    assert_int_equal(bool_attr(e, &u, CKA_DECRYPT), CK_FALSE);
    engine_buf_free(&u);
    engine_buf_free(&cs2);
    /* a template may narrow what the key may do, not widen it */
    et_bool(&t, CKA_ENCRYPT, 0);
    assert_int_equal(
        engine_unwrap_key(e, et_b(&w), et_b(&kek), et_b(&mac), &abw, t.a, t.n, &u, &cs2), CKR_OK);
    assert_int_equal(bool_attr(e, &u, CKA_ENCRYPT), CK_FALSE);
    engine_buf_free(&u);
    engine_buf_free(&cs2);
    et_bool(&t, CKA_DECRYPT, 1);
    assert_int_equal(
        engine_unwrap_key(e, et_b(&w), et_b(&kek), et_b(&mac), &abw, t.a, t.n, &u, &cs2),
        CKR_TEMPLATE_INCONSISTENT);
    et_reset(&t);
    /* another MAC key, or one flipped byte anywhere: not unwrapped */
    engine_buf mac2 = {0};
    et_bool(&t, CKA_IBM_ATTRBOUND, 1);
    mac2 = gen(e, CKM_GENERIC_SECRET_KEY_GEN, 16, &t);
    et_reset(&t);
    assert_int_equal(
        engine_unwrap_key(e, et_b(&w), et_b(&kek), et_b(&mac2), &abw, t.a, t.n, &u, &cs2),
        CKR_WRAPPED_KEY_INVALID);
    for (size_t i = 0; i < w.len; i += 7) {
        w.ptr[i] ^= 0x01;
        assert_int_equal(
            engine_unwrap_key(e, et_b(&w), et_b(&kek), et_b(&mac), &abw, t.a, t.n, &u, &cs2),
            CKR_WRAPPED_KEY_INVALID);
        w.ptr[i] ^= 0x01;
    }
    engine_buf_free(&w);

    /* under an RSA public key, back under its private key */
    etmpl pt, st;
    CK_ULONG bits = 2048;
    static const uint8_t e17[] = {0x11};
    et_reset(&pt);
    et_ulong(&pt, CKA_MODULUS_BITS, bits);
    et_bytes(&pt, CKA_PUBLIC_EXPONENT, e17, sizeof(e17));
    et_bool(&pt, CKA_WRAP, 1);
    et_bool(&pt, CKA_IBM_ATTRBOUND, 1);
    et_reset(&st);
    et_bool(&st, CKA_UNWRAP, 1);
    et_bool(&st, CKA_IBM_ATTRBOUND, 1);
    engine_buf priv = {0}, pub = {0};
    engine_mech pg = et_mech(CKM_RSA_PKCS_KEY_PAIR_GEN);
    assert_int_equal(engine_generate_key_pair(e, &pg, pt.a, pt.n, st.a, st.n, &priv, &pub), CKR_OK);
    assert_int_equal(engine_wrap_key(e, et_b(&key), et_b(&pub), et_b(&mac), &abw, &w), CKR_OK);
    et_reset(&t);
    et_ulong(&t, CKA_CLASS, CKO_SECRET_KEY);
    et_ulong(&t, CKA_KEY_TYPE, CKK_AES);
    et_ulong(&t, CKA_VALUE_LEN, 16);
    et_bool(&t, CKA_ENCRYPT, 1);
    et_bool(&t, CKA_EXTRACTABLE, 1);
    assert_int_equal(
        engine_unwrap_key(e, et_b(&w), et_b(&priv), et_b(&mac), &abw, t.a, t.n, &u, &cs2), CKR_OK);
    assert_memory_equal(cs.ptr, cs2.ptr, 3);
    /* the AES key's blob is not the RSA key's */
    engine_buf u2 = {0}, cs3 = {0};
    assert_int_equal(
        engine_unwrap_key(e, et_b(&w), et_b(&kek), et_b(&mac), &abw, t.a, t.n, &u2, &cs3),
        CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT);
    engine_buf bufs[] = {w, u, cs, cs2, mac, plain_mac, kek, key, plain_key, mac2, priv, pub};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        engine_buf_free(&bufs[i]);
    engine_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_cbc_pad_import_export),
        cmocka_unit_test(test_attribute_bound),
    };
    return cmocka_run_group_tests_name("engine_wrap", tests, NULL, NULL);
}
