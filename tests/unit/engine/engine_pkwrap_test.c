/* Private keys leave and return as PKCS #8 under AES-KWP / AES-CBC-PAD for
 * every key type; secret keys travel under RSA-OAEP and RSA PKCS #1 v1.5;
 * the extractability and trust rules hold; OpenSSL reads what the engine
 * wraps and the reverse. */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "epk.h"

static const uint8_t MSG[] = "wrapped and back";
static const uint8_t KEKV[32] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a,
                                 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
                                 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f};
#define IBM_OID(x, y, z)                                                                           \
    {                                                                                              \
        0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x02, 0x82, 0x0b, x, y, z                        \
    }

typedef struct {
    const char *name;
    CK_MECHANISM_TYPE gen, use;
    CK_ATTRIBUTE_TYPE pt;
    const void *pv;
    size_t pl;
    CK_KEY_TYPE kt;
    bool kem;
} kcase;

static CK_ULONG BITS = 2048, MLDSA = CKP_ML_DSA_65, MLKEM = CKP_ML_KEM_768;
static const uint8_t DIL[13] = IBM_OID(7, 6, 5), KYB[13] = IBM_OID(5, 4, 4);

static const kcase CASES[] = {
    {"RSA-2048", CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_SHA256_RSA_PKCS, CKA_MODULUS_BITS, &BITS,
     sizeof(CK_ULONG), CKK_RSA, 0},
    {"P-256", CKM_EC_KEY_PAIR_GEN, CKM_ECDSA_SHA256, CKA_EC_PARAMS, "P-256", 5, CKK_EC, 0},
    {"secp256k1", CKM_EC_KEY_PAIR_GEN, CKM_ECDSA_SHA256, CKA_EC_PARAMS, "secp256k1", 9, CKK_EC, 0},
    {"brainpoolP384r1", CKM_EC_KEY_PAIR_GEN, CKM_ECDSA_SHA384, CKA_EC_PARAMS, "brainpoolP384r1", 15,
     CKK_EC, 0},
    {"Ed25519", CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EDDSA, CKA_EC_PARAMS, "Ed25519", 7, CKK_EC_EDWARDS,
     0},
    {"Ed448", CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EDDSA, CKA_EC_PARAMS, "Ed448", 5, CKK_EC_EDWARDS, 0},
    {"X25519", CKM_EC_MONTGOMERY_KEY_PAIR_GEN, CKM_ECDH1_DERIVE, CKA_EC_PARAMS, "X25519", 6,
     CKK_EC_MONTGOMERY, 0},
    {"ML-DSA-65", CKM_ML_DSA_KEY_PAIR_GEN, CKM_ML_DSA, CKA_PARAMETER_SET, &MLDSA, sizeof(CK_ULONG),
     CKK_ML_DSA, 0},
    {"ML-KEM-768", CKM_ML_KEM_KEY_PAIR_GEN, CKM_ML_KEM, CKA_PARAMETER_SET, &MLKEM, sizeof(CK_ULONG),
     CKK_ML_KEM, 1},
    {"Dilithium-r3-6x5", CKM_IBM_DILITHIUM, CKM_IBM_DILITHIUM, CKA_IBM_PQC_PARAMS, DIL, 13,
     CKK_IBM_PQC_DILITHIUM, 0},
    {"Kyber-r2-1024", CKM_IBM_KYBER, CKM_ML_KEM, CKA_IBM_PQC_PARAMS, KYB, 13, CKK_IBM_PQC_KYBER, 1},
};

static void kek_of(engine *e, engine_buf *kek)
{
    assert_int_equal(et_import(e, CKK_AES, KEKV, 32, kek), CKR_OK);
}

/* The unwrapped key works with the original public key. */
static void use_pair(engine *e, const kcase *c, const engine_buf *priv, const engine_buf *pub)
{
    engine_buf s = {0};
    if (c->kem) {
        if (c->kt == CKK_IBM_PQC_KYBER)
            return; /* IBM Kyber is used through DeriveKey; covered in engine_pqc_test */
        engine_mech m = et_mech(CKM_ML_KEM);
        etmpl t;
        engine_buf ct = {0}, k1 = {0}, k2 = {0};
        CK_ATTRIBUTE *a = NULL, *b = NULL;
        et_reset(&t);
        et_ulong(&t, CKA_KEY_TYPE, CKK_GENERIC_SECRET);
        et_bool(&t, CKA_SENSITIVE, 0);
        assert_int_equal(engine_encapsulate(e, &m, et_b(pub), t.a, t.n, &ct, &k1), CKR_OK);
        assert_int_equal(engine_decapsulate(e, &m, et_b(priv), et_b(&ct), t.a, t.n, &k2), CKR_OK);
        assert_int_equal(epk_attr(e, &k1, CKA_VALUE, &a), CKR_OK);
        assert_int_equal(epk_attr(e, &k2, CKA_VALUE, &b), CKR_OK);
        assert_memory_equal(a[0].pValue, b[0].pValue, 32);
        engine_attrs_free(a, 1);
        engine_attrs_free(b, 1);
        engine_buf_free(&ct);
        engine_buf_free(&k1);
        engine_buf_free(&k2);
        return;
    }
    if (c->use == CKM_ECDH1_DERIVE) {
        CK_ATTRIBUTE *pt = NULL;
        etmpl t;
        engine_buf k = {0}, cs = {0};
        assert_int_equal(epk_attr(e, pub, CKA_EC_POINT, &pt), CKR_OK);
        engine_mech m = et_mech_b(CKM_ECDH1_DERIVE, pt[0].pValue, pt[0].ulValueLen);
        et_reset(&t);
        et_ulong(&t, CKA_VALUE_LEN, 16);
        assert_int_equal(engine_derive_key(e, &m, t.a, t.n, et_b(priv), et_raw(NULL, 0), &k, &cs),
                         CKR_OK);
        engine_attrs_free(pt, 1);
        engine_buf_free(&k);
        engine_buf_free(&cs);
        return;
    }
    engine_mech m = et_mech(c->use);
    assert_int_equal(engine_sign_single(e, et_b(priv), &m, et_raw(MSG, sizeof(MSG)), &s), CKR_OK);
    assert_int_equal(engine_verify_single(e, et_b(pub), &m, et_raw(MSG, sizeof(MSG)), et_b(&s)),
                     CKR_OK);
    engine_buf_free(&s);
}

static void test_private_key_round_trips(void **st)
{
    engine *e = et_engine();
    engine_buf kek = {0};
    uint8_t iv[16] = {9};
    engine_mech kwp = et_mech(CKM_AES_KEY_WRAP_PAD), cbc = et_mech_b(CKM_AES_CBC_PAD, iv, 16);
    (void)st;
    kek_of(e, &kek);
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        const kcase *c = &CASES[i];
        engine_buf priv = {0}, pub = {0}, w = {0}, u = {0}, cs = {0};
        etmpl tp, tv, ut;
        et_reset(&tp);
        et_reset(&tv);
        et_bytes(&tp, c->pt, c->pv, c->pl);
        et_bool(&tv, CKA_EXTRACTABLE, 1);
        assert_int_equal(epk_pair(e, c->gen, &tp, &tv, &priv, &pub), CKR_OK);
        for (int j = 0; j < 2; j++) {
            engine_mech *m = j ? &cbc : &kwp;
            assert_int_equal(engine_wrap_key(e, et_b(&priv), et_b(&kek), et_raw(NULL, 0), m, &w),
                             CKR_OK);
            et_reset(&ut);
            et_ulong(&ut, CKA_CLASS, CKO_PRIVATE_KEY);
            if (j)
                et_ulong(&ut, CKA_KEY_TYPE, c->kt); /* optional: the PKCS #8 names it */
            assert_int_equal(
                engine_unwrap_key(e, et_b(&w), et_b(&kek), et_raw(NULL, 0), m, ut.a, ut.n, &u, &cs),
                CKR_OK);
            /* The checksum is the public key (a MACed SPKI with the same SPKI). */
            size_t sl = epk_spki_len(&pub);
            assert_true(cs.len > sl);
            assert_memory_equal(cs.ptr, pub.ptr, sl);
            CK_ATTRIBUTE *a = NULL;
            assert_int_equal(epk_attr(e, &u, CKA_LOCAL, &a), CKR_OK);
            assert_int_equal(*(CK_BBOOL *)a[0].pValue, CK_FALSE);
            engine_attrs_free(a, 1);
            use_pair(e, c, &u, &pub);
            engine_buf_free(&w);
            engine_buf_free(&u);
            engine_buf_free(&cs);
        }
        /* Tampered wrapping: an integrity error, not a key. */
        assert_int_equal(engine_wrap_key(e, et_b(&priv), et_b(&kek), et_raw(NULL, 0), &kwp, &w),
                         CKR_OK);
        w.ptr[3] ^= 1;
        et_reset(&ut);
        et_ulong(&ut, CKA_CLASS, CKO_PRIVATE_KEY);
        assert_int_equal(
            engine_unwrap_key(e, et_b(&w), et_b(&kek), et_raw(NULL, 0), &kwp, ut.a, ut.n, &u, &cs),
            CKR_WRAPPED_KEY_INVALID);
        engine_buf_free(&w);
        engine_buf_free(&priv);
        engine_buf_free(&pub);
    }
    engine_buf_free(&kek);
    engine_destroy(e);
}

static void test_wrap_rules(void **st)
{
    engine *e = et_engine();
    engine_buf kek = {0}, priv = {0}, pub = {0}, w = {0};
    engine_mech kwp = et_mech(CKM_AES_KEY_WRAP_PAD);
    etmpl tp, tv;
    (void)st;
    kek_of(e, &kek);
    et_reset(&tp);
    et_reset(&tv);
    et_bytes(&tp, CKA_EC_PARAMS, "P-384", 5);
    et_bool(&tv, CKA_EXTRACTABLE, 0);
    assert_int_equal(epk_pair(e, CKM_EC_KEY_PAIR_GEN, &tp, &tv, &priv, &pub), CKR_OK);
    assert_int_equal(engine_wrap_key(e, et_b(&priv), et_b(&kek), et_raw(NULL, 0), &kwp, &w),
                     CKR_KEY_UNEXTRACTABLE);
    engine_buf_free(&priv);
    engine_buf_free(&pub);
    et_reset(&tv);
    et_bool(&tv, CKA_WRAP_WITH_TRUSTED, 1);
    assert_int_equal(epk_pair(e, CKM_EC_KEY_PAIR_GEN, &tp, &tv, &priv, &pub), CKR_OK);
    assert_int_equal(engine_wrap_key(e, et_b(&priv), et_b(&kek), et_raw(NULL, 0), &kwp, &w),
                     CKR_KEY_NOT_WRAPPABLE);
    /* A public key is not a key to wrap, nor a private key a KEK. */
    assert_int_equal(engine_wrap_key(e, et_b(&pub), et_b(&kek), et_raw(NULL, 0), &kwp, &w),
                     CKR_KEY_HANDLE_INVALID);
    assert_int_equal(engine_wrap_key(e, et_b(&kek), et_b(&priv), et_raw(NULL, 0), &kwp, &w),
                     CKR_WRAPPING_KEY_TYPE_INCONSISTENT);
    engine_buf_free(&priv);
    engine_buf_free(&pub);
    engine_buf_free(&kek);
    engine_destroy(e);
}

/* OpenSSL's PKCS #8 unwraps into the engine; the engine's PKCS #8 is what
 * OpenSSL reads (AES-KWP done on both sides with the same KEK value). */
static void test_pkcs8_interop(void **st)
{
    engine *e = et_engine();
    engine_buf kek = {0}, priv = {0}, cs = {0}, sig = {0}, w = {0}, pub = {0}, p2 = {0};
    engine_mech kwp = et_mech(CKM_AES_KEY_WRAP_PAD), ec = et_mech(CKM_ECDSA_SHA256);
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(k);
    unsigned char *der = NULL, *spki = NULL, out[512];
    int dl = i2d_PKCS8_PRIV_KEY_INFO(p8, &der), sl = i2d_PUBKEY(k, &spki), l1 = 0, l2 = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    etmpl ut, tp, tv;
    (void)st;
    kek_of(e, &kek);
    EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_256_wrap_pad(), NULL, KEKV, NULL), 1);
    assert_int_equal(EVP_EncryptUpdate(c, out, &l1, der, dl), 1);
    assert_int_equal(EVP_EncryptFinal_ex(c, out + l1, &l2), 1);
    et_reset(&ut);
    et_ulong(&ut, CKA_CLASS, CKO_PRIVATE_KEY);
    assert_int_equal(engine_unwrap_key(e, et_raw(out, (size_t)(l1 + l2)), et_b(&kek),
                                       et_raw(NULL, 0), &kwp, ut.a, ut.n, &priv, &cs),
                     CKR_OK);
    assert_int_equal(engine_sign_single(e, et_b(&priv), &ec, et_raw(MSG, sizeof(MSG)), &sig),
                     CKR_OK);
    assert_int_equal(engine_verify_single(e, et_raw(spki, (size_t)sl), &ec,
                                          et_raw(MSG, sizeof(MSG)), et_b(&sig)),
                     CKR_OK);
    /* The other way: an engine Ed25519 key read by OpenSSL. */
    et_reset(&tp);
    et_reset(&tv);
    et_bytes(&tp, CKA_EC_PARAMS, "Ed25519", 7);
    assert_int_equal(epk_pair(e, CKM_EC_EDWARDS_KEY_PAIR_GEN, &tp, &tv, &p2, &pub), CKR_OK);
    assert_int_equal(engine_wrap_key(e, et_b(&p2), et_b(&kek), et_raw(NULL, 0), &kwp, &w), CKR_OK);
    EVP_CIPHER_CTX_reset(c);
    EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    assert_int_equal(EVP_DecryptInit_ex(c, EVP_aes_256_wrap_pad(), NULL, KEKV, NULL), 1);
    assert_int_equal(EVP_DecryptUpdate(c, out, &l1, w.ptr, (int)w.len), 1);
    assert_int_equal(EVP_DecryptFinal_ex(c, out + l1, &l2), 1);
    const unsigned char *p = out;
    PKCS8_PRIV_KEY_INFO *q = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, l1 + l2);
    EVP_PKEY *ed = q ? EVP_PKCS82PKEY(q) : NULL;
    assert_non_null(ed);
    unsigned char raw[32];
    size_t rl = 32;
    assert_int_equal(EVP_PKEY_get_raw_public_key(ed, raw, &rl), 1);
    assert_memory_equal(raw, pub.ptr + epk_spki_len(&pub) - 32, 32);
    PKCS8_PRIV_KEY_INFO_free(q);
    EVP_PKEY_free(ed);
    EVP_CIPHER_CTX_free(c);
    OPENSSL_free(der);
    OPENSSL_free(spki);
    PKCS8_PRIV_KEY_INFO_free(p8);
    EVP_PKEY_free(k);
    engine_buf_free(&kek);
    engine_buf_free(&priv);
    engine_buf_free(&cs);
    engine_buf_free(&sig);
    engine_buf_free(&w);
    engine_buf_free(&pub);
    engine_buf_free(&p2);
    engine_destroy(e);
}

static void test_rsa_wraps_secret(void **st)
{
    engine *e = et_engine();
    engine_buf priv = {0}, pub = {0}, aes = {0}, w = {0}, u = {0}, cs = {0};
    etmpl tp, tv, ut;
    uint8_t v[32];
    CK_ATTRIBUTE *a = NULL;
    (void)st;
    memset(v, 0x3c, sizeof(v));
    assert_int_equal(et_import(e, CKK_AES, v, 32, &aes), CKR_OK);
    et_reset(&tp);
    et_reset(&tv);
    et_ulong(&tp, CKA_MODULUS_BITS, 2048);
    assert_int_equal(epk_pair(e, CKM_RSA_PKCS_KEY_PAIR_GEN, &tp, &tv, &priv, &pub), CKR_OK);
    engine_mech oaep = et_mech(CKM_RSA_PKCS_OAEP), pk1 = et_mech(CKM_RSA_PKCS);
    oaep.kind = ENGINE_PARAM_RSA_OAEP;
    oaep.oaep.hash = CKM_SHA256;
    oaep.oaep.mgf = CKG_MGF1_SHA256;
    engine_mech *ms[2] = {&oaep, &pk1};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(engine_wrap_key(e, et_b(&aes), et_b(&pub), et_raw(NULL, 0), ms[i], &w),
                         CKR_OK);
        et_reset(&ut);
        et_ulong(&ut, CKA_CLASS, CKO_SECRET_KEY);
        et_ulong(&ut, CKA_KEY_TYPE, CKK_AES);
        et_bool(&ut, CKA_SENSITIVE, 0);
        assert_int_equal(engine_unwrap_key(e, et_b(&w), et_b(&priv), et_raw(NULL, 0), ms[i], ut.a,
                                           ut.n, &u, &cs),
                         CKR_OK);
        assert_int_equal(epk_attr(e, &u, CKA_VALUE, &a), CKR_OK);
        assert_int_equal(a[0].ulValueLen, 32);
        assert_memory_equal(a[0].pValue, v, 32);
        engine_attrs_free(a, 1);
        engine_buf_free(&w);
        engine_buf_free(&u);
        engine_buf_free(&cs);
    }
    /* A plain SPKI is never trusted to wrap with. */
    assert_int_equal(engine_wrap_key(e, et_b(&aes), et_raw(pub.ptr, epk_spki_len(&pub)),
                                     et_raw(NULL, 0), &oaep, &w),
                     CKR_KEY_FUNCTION_NOT_PERMITTED);
    engine_buf_free(&priv);
    engine_buf_free(&pub);
    engine_buf_free(&aes);
    engine_destroy(e);
}

/* CKM_IBM_TRANSPORTKEY (IBM's public-key import): a plain SPKI of every
 * key type becomes a MACed SPKI holding the same SPKI, which works with the
 * private key; the checksum is the SPKI and its bit size; the unwrapping
 * key is ignored; the SPKI decides the key material, not the template. */
static void test_transport_key_import(void **st)
{
    engine *e = et_engine();
    engine_mech tk = et_mech(CKM_IBM_TRANSPORTKEY);
    etmpl none;
    (void)st;
    et_reset(&none);
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        const kcase *c = &CASES[i];
        etmpl tp, tv;
        engine_buf priv = {0}, pub = {0}, imp = {0}, cs = {0};
        et_reset(&tp);
        et_reset(&tv);
        et_bytes(&tp, c->pt, c->pv, c->pl);
        assert_int_equal(epk_pair(e, c->gen, &tp, &tv, &priv, &pub), CKR_OK);
        size_t sl = epk_spki_len(&pub);
        print_message("%s\n", c->name);
        assert_int_equal(engine_unwrap_key(e, et_raw(pub.ptr, sl), et_raw("a", 1), et_raw(NULL, 0),
                                           &tk, none.a, none.n, &imp, &cs),
                         CKR_OK);
        assert_int_equal(epk_spki_len(&imp), sl);
        assert_true(imp.len > sl); /* MACed */
        assert_memory_equal(imp.ptr, pub.ptr, sl);
        CK_ATTRIBUTE *bits = NULL;
        CK_ULONG want;
        if (c->kt == CKK_RSA)
            assert_int_equal(epk_attr(e, &imp, CKA_MODULUS_BITS, &bits), CKR_OK);
        assert_int_equal(cs.len, sl + 4);
        assert_memory_equal(cs.ptr, pub.ptr, sl);
        want = ((CK_ULONG)cs.ptr[sl] << 24) | ((CK_ULONG)cs.ptr[sl + 1] << 16) |
               ((CK_ULONG)cs.ptr[sl + 2] << 8) | cs.ptr[sl + 3];
        if (bits != NULL) {
            assert_int_equal(want, *(CK_ULONG *)bits[0].pValue);
            engine_attrs_free(bits, 1);
        }
        if (strcmp(c->name, "P-256") == 0 || strcmp(c->name, "Ed25519") == 0)
            assert_true(want == 256 || want == 255);
        if (c->pt != CKA_PARAMETER_SET && c->pt != CKA_IBM_PQC_PARAMS)
            assert_true(want > 0); /* post-quantum keys have no bit size (0) */
        use_pair(e, c, &priv, &imp);
        engine_buf_free(&priv);
        engine_buf_free(&pub);
        engine_buf_free(&imp);
        engine_buf_free(&cs);
    }

    /* An OpenSSL key, as IBM's Go example marshals one (PKIX). */
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    unsigned char *spki = NULL, sig[128];
    int sl = i2d_PUBKEY(k, &spki);
    size_t sigl = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    engine_mech ec = et_mech(CKM_ECDSA_SHA256);
    engine_buf imp = {0}, cs = {0}, mac = {0};
    etmpl t;
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k), 1);
    assert_int_equal(EVP_DigestSign(md, sig, &sigl, MSG, sizeof(MSG)), 1);
    et_reset(&t);
    et_bool(&t, CKA_VERIFY, 1);
    assert_int_equal(engine_unwrap_key(e, et_raw(spki, (size_t)sl), et_raw(NULL, 0),
                                       et_raw(NULL, 0), &tk, t.a, t.n, &imp, &cs),
                     CKR_OK);
    /* The engine's own verify reads the signature as r || s. */
    const unsigned char *sp = sig;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &sp, (long)sigl);
    uint8_t rs[64];
    assert_non_null(es);
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 32), 32);
    assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 32, 32), 32);
    assert_int_equal(
        engine_verify_single(e, et_b(&imp), &ec, et_raw(MSG, sizeof(MSG)), et_raw(rs, 64)), CKR_OK);
    rs[5] ^= 1;
    assert_int_equal(
        engine_verify_single(e, et_b(&imp), &ec, et_raw(MSG, sizeof(MSG)), et_raw(rs, 64)),
        CKR_SIGNATURE_INVALID);
    engine_buf_free(&imp);
    engine_buf_free(&cs);

    /* The SPKI says what the key is: the template may not. */
    et_reset(&t);
    et_bytes(&t, CKA_EC_PARAMS, "P-256", 5);
    assert_int_equal(engine_unwrap_key(e, et_raw(spki, (size_t)sl), et_raw(NULL, 0),
                                       et_raw(NULL, 0), &tk, t.a, t.n, &imp, &cs),
                     CKR_TEMPLATE_INCONSISTENT);
    et_reset(&t);
    et_ulong(&t, CKA_CLASS, CKO_PRIVATE_KEY);
    assert_int_equal(engine_unwrap_key(e, et_raw(spki, (size_t)sl), et_raw(NULL, 0),
                                       et_raw(NULL, 0), &tk, t.a, t.n, &imp, &cs),
                     CKR_TEMPLATE_INCONSISTENT);
    et_reset(&t);
    et_ulong(&t, CKA_KEY_TYPE, CKK_RSA);
    assert_int_not_equal(engine_unwrap_key(e, et_raw(spki, (size_t)sl), et_raw(NULL, 0),
                                           et_raw(NULL, 0), &tk, t.a, t.n, &imp, &cs),
                         CKR_OK);
    /* Only a plain, whole SPKI: not a MACed one, not a damaged one. */
    assert_int_equal(engine_unwrap_key(e, et_raw(spki, (size_t)sl), et_raw(NULL, 0),
                                       et_raw(NULL, 0), &tk, none.a, none.n, &mac, &cs),
                     CKR_OK);
    engine_buf_free(&cs);
    assert_int_equal(engine_unwrap_key(e, et_b(&mac), et_raw(NULL, 0), et_raw(NULL, 0), &tk, none.a,
                                       none.n, &imp, &cs),
                     CKR_WRAPPED_KEY_INVALID);
    assert_int_equal(engine_unwrap_key(e, et_raw(spki, (size_t)sl - 1), et_raw(NULL, 0),
                                       et_raw(NULL, 0), &tk, none.a, none.n, &imp, &cs),
                     CKR_WRAPPED_KEY_INVALID);
    spki[sl - 3] ^= 0x40; /* the point leaves the curve */
    assert_int_equal(engine_unwrap_key(e, et_raw(spki, (size_t)sl), et_raw(NULL, 0),
                                       et_raw(NULL, 0), &tk, none.a, none.n, &imp, &cs),
                     CKR_WRAPPED_KEY_INVALID);
    /* Import only: nothing wraps with it. */
    engine_buf w = {0};
    assert_int_equal(engine_wrap_key(e, et_b(&mac), et_raw(NULL, 0), et_raw(NULL, 0), &tk, &w),
                     CKR_MECHANISM_INVALID);
    engine_mech bad = et_mech_b(CKM_IBM_TRANSPORTKEY, "x", 1);
    assert_int_equal(engine_unwrap_key(e, et_raw(spki, (size_t)sl), et_raw(NULL, 0),
                                       et_raw(NULL, 0), &bad, none.a, none.n, &imp, &cs),
                     CKR_MECHANISM_PARAM_INVALID);
    CK_MECHANISM_INFO info;
    assert_int_equal(engine_mechanism_info(e, CKM_IBM_TRANSPORTKEY, &info), CKR_OK);
    assert_int_equal(info.flags & (CKF_WRAP | CKF_UNWRAP), CKF_UNWRAP);
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(md);
    OPENSSL_free(spki);
    EVP_PKEY_free(k);
    engine_buf_free(&mac);
    engine_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_private_key_round_trips), cmocka_unit_test(test_wrap_rules),
        cmocka_unit_test(test_pkcs8_interop),           cmocka_unit_test(test_rsa_wraps_secret),
        cmocka_unit_test(test_transport_key_import),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
