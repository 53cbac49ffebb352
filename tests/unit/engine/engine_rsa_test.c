/* RSA through the engine: key generation and policy, every signature
 * mechanism in every flow, PKCS #1 v1.5 / OAEP / X.509 encryption with
 * implicit rejection, OpenSSL cross-checks, and the Wycheproof RSA files.
 * One 2048-bit pair is generated and shared (RSA keygen is slow). */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "epk.h"
#include "vtest.h"

static const uint8_t MSG[] = "RSA through a stateless HSM engine";
static engine *E;
static engine_buf PRIV, PUB;

static int setup(void **st)
{
    etmpl tp, tv;
    CK_ULONG e65537 = 65537; /* a native CK_ULONG, as a GREP11 AttributeI becomes */
    (void)st;
    E = et_engine();
    et_reset(&tp);
    et_reset(&tv);
    et_ulong(&tp, CKA_MODULUS_BITS, 2048);
    et_bytes(&tp, CKA_PUBLIC_EXPONENT, &e65537, sizeof(e65537));
    return epk_pair(E, CKM_RSA_PKCS_KEY_PAIR_GEN, &tp, &tv, &PRIV, &PUB) == CKR_OK ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    engine_buf_free(&PRIV);
    engine_buf_free(&PUB);
    engine_destroy(E);
    return 0;
}

static size_t pss_param(uint8_t *p, CK_MECHANISM_TYPE h, CK_ULONG mgf, uint64_t salt)
{
    uint64_t v[3] = {h, mgf, salt};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 8; j++)
            p[8 * i + j] = (uint8_t)(v[i] >> (56 - 8 * j));
    return 24;
}

static void test_rsa_attributes_and_policy(void **st)
{
    CK_ATTRIBUTE *a = NULL;
    etmpl tp, tv;
    engine_buf x = {0}, y = {0};
    (void)st;
    assert_int_equal(epk_attr(E, &PUB, CKA_PUBLIC_EXPONENT, &a), CKR_OK);
    assert_int_equal(a[0].ulValueLen, 3);
    assert_memory_equal(a[0].pValue, "\x01\x00\x01", 3);
    engine_attrs_free(a, 1);
    assert_int_equal(epk_attr(E, &PUB, CKA_MODULUS_BITS, &a), CKR_OK);
    assert_int_equal(*(CK_ULONG *)a[0].pValue, 2048);
    engine_attrs_free(a, 1);
    assert_int_equal(epk_attr(E, &PRIV, CKA_MODULUS, &a), CKR_OK);
    assert_int_equal(a[0].ulValueLen, 256);
    engine_attrs_free(a, 1);
    assert_int_equal(epk_attr(E, &PRIV, CKA_PRIVATE_EXPONENT, &a), CKR_ATTRIBUTE_SENSITIVE);
    engine_attrs_free(a, 1);
    et_reset(&tp);
    et_reset(&tv);
    et_ulong(&tp, CKA_MODULUS_BITS, 1024);
    assert_int_equal(epk_pair(E, CKM_RSA_PKCS_KEY_PAIR_GEN, &tp, &tv, &x, &y), CKR_KEY_SIZE_RANGE);
    et_reset(&tp);
    et_ulong(&tp, CKA_MODULUS_BITS, 2048);
    et_bytes(&tp, CKA_PUBLIC_EXPONENT, "\x01\x00\x00", 3);
    assert_int_equal(epk_pair(E, CKM_RSA_PKCS_KEY_PAIR_GEN, &tp, &tv, &x, &y),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    et_reset(&tp);
    assert_int_equal(epk_pair(E, CKM_RSA_PKCS_KEY_PAIR_GEN, &tp, &tv, &x, &y),
                     CKR_TEMPLATE_INCOMPLETE);
    /* A lowered policy minimum allows 1024 with exponent 3. */
    engine *e2 = NULL;
    engine_policy pol;
    memset(&pol, 0, sizeof(pol));
    pol.min_rsa_bits = 1024;
    assert_int_equal(engine_create(ETEST_WK, &pol, &e2), CKR_OK);
    et_reset(&tp);
    et_ulong(&tp, CKA_MODULUS_BITS, 1024);
    et_bytes(&tp, CKA_PUBLIC_EXPONENT, "\x03", 1);
    assert_int_equal(epk_pair(e2, CKM_RSA_PKCS_KEY_PAIR_GEN, &tp, &tv, &x, &y), CKR_OK);
    engine_mech m = et_mech(CKM_SHA256_RSA_PKCS);
    epk_all_flows(e2, &m, &x, &y, MSG, sizeof(MSG));
    CK_MECHANISM_INFO mi;
    assert_int_equal(engine_mechanism_info(e2, CKM_RSA_PKCS_KEY_PAIR_GEN, &mi), CKR_OK);
    assert_int_equal(mi.ulMinKeySize, 1024);
    engine_buf_free(&x);
    engine_buf_free(&y);
    engine_destroy(e2);
}

static void test_rsa_signatures(void **st)
{
    static const CK_MECHANISM_TYPE HASHED[] = {CKM_SHA1_RSA_PKCS, CKM_SHA256_RSA_PKCS,
                                               CKM_SHA512_RSA_PKCS, CKM_SHA3_256_RSA_PKCS,
                                               CKM_SHA3_512_RSA_PKCS};
    uint8_t p[24], di[51] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                             0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
    (void)st;
    for (size_t i = 0; i < sizeof(HASHED) / sizeof(HASHED[0]); i++) {
        engine_mech m = et_mech(HASHED[i]);
        epk_all_flows(E, &m, &PRIV, &PUB, MSG, sizeof(MSG));
    }
    engine_mech pss =
        et_mech_b(CKM_SHA256_RSA_PKCS_PSS, p, pss_param(p, CKM_SHA256, CKG_MGF1_SHA256, 32));
    epk_all_flows(E, &pss, &PRIV, &PUB, MSG, sizeof(MSG));
    engine_mech pss3 = et_mech(CKM_SHA3_384_RSA_PKCS_PSS);
    pss3.kind = ENGINE_PARAM_RSA_PSS;
    pss3.pss.hash = CKM_SHA3_384;
    pss3.pss.mgf = CKG_IBM_MGF1_SHA3_384;
    pss3.pss.salt_len = 48;
    epk_all_flows(E, &pss3, &PRIV, &PUB, MSG, sizeof(MSG));
    /* Caller-supplied DigestInfo (CKM_RSA_PKCS) equals CKM_SHA256_RSA_PKCS. */
    engine_mech raw = et_mech(CKM_RSA_PKCS), s256 = et_mech(CKM_SHA256_RSA_PKCS),
                d = et_mech(CKM_SHA256);
    engine_buf dg = {0}, s1 = {0}, s2 = {0};
    assert_int_equal(engine_digest_single(E, &d, et_raw(MSG, sizeof(MSG)), &dg), CKR_OK);
    memcpy(di + 19, dg.ptr, 32);
    epk_all_flows(E, &raw, &PRIV, &PUB, di, sizeof(di));
    assert_int_equal(engine_sign_single(E, et_b(&PRIV), &raw, et_raw(di, sizeof(di)), &s1), CKR_OK);
    assert_int_equal(engine_sign_single(E, et_b(&PRIV), &s256, et_raw(MSG, sizeof(MSG)), &s2),
                     CKR_OK);
    assert_memory_equal(s1.ptr, s2.ptr, 256);
    /* CKM_RSA_PKCS_PSS takes the digest; the parameter hash must match its size. */
    engine_mech pssraw =
        et_mech_b(CKM_RSA_PKCS_PSS, p, pss_param(p, CKM_SHA256, CKG_MGF1_SHA256, 32));
    epk_all_flows(E, &pssraw, &PRIV, &PUB, dg.ptr, 32);
    engine_buf junk = {0};
    assert_int_equal(engine_sign_single(E, et_b(&PRIV), &pssraw, et_raw(dg.ptr, 31), &junk),
                     CKR_DATA_LEN_RANGE);
    /* Mismatched PSS hash, missing parameter. */
    engine_mech bad =
        et_mech_b(CKM_SHA384_RSA_PKCS_PSS, p, pss_param(p, CKM_SHA256, CKG_MGF1_SHA256, 32));
    assert_int_equal(engine_sign_single(E, et_b(&PRIV), &bad, et_raw(MSG, 3), &junk),
                     CKR_MECHANISM_PARAM_INVALID);
    bad = et_mech(CKM_SHA256_RSA_PKCS_PSS);
    assert_int_equal(engine_sign_single(E, et_b(&PRIV), &bad, et_raw(MSG, 3), &junk),
                     CKR_MECHANISM_PARAM_INVALID);
    /* X.509 raw. */
    engine_mech x509 = et_mech(CKM_RSA_X_509);
    epk_all_flows(E, &x509, &PRIV, &PUB, MSG, sizeof(MSG));
    engine_buf_free(&dg);
    engine_buf_free(&s1);
    engine_buf_free(&s2);
}

static CK_RV crypt_multi(engine *e, bool enc, const engine_mech *m, const engine_buf *key,
                         const uint8_t *in, size_t n, engine_buf *out)
{
    engine_buf s = {0}, s2 = {0}, part = {0};
    CK_RV rv =
        enc ? engine_encrypt_init(e, m, et_b(key), &s) : engine_decrypt_init(e, m, et_b(key), &s);
    if (rv == CKR_OK)
        rv = enc ? engine_encrypt_update(e, et_b(&s), et_raw(in, n / 2), &s2, &part)
                 : engine_decrypt_update(e, et_b(&s), et_raw(in, n / 2), &s2, &part);
    if (rv == CKR_OK)
        assert_int_equal(part.len, 0);
    engine_buf_free(&part);
    if (rv == CKR_OK)
        rv = enc ? engine_encrypt(e, et_b(&s2), et_raw(in + n / 2, n - n / 2), out)
                 : engine_decrypt(e, et_b(&s2), et_raw(in + n / 2, n - n / 2), out);
    engine_buf_free(&s);
    engine_buf_free(&s2);
    return rv;
}

static void test_rsa_encryption(void **st)
{
    uint8_t p[64];
    engine_buf ct = {0}, pt = {0}, pt2 = {0};
    (void)st;
    engine_mech oaep = et_mech(CKM_RSA_PKCS_OAEP);
    oaep.kind = ENGINE_PARAM_RSA_OAEP;
    oaep.oaep.hash = CKM_SHA256;
    oaep.oaep.mgf = CKG_MGF1_SHA256;
    oaep.oaep.label = et_raw("label", 5);
    engine_mech pk1 = et_mech(CKM_RSA_PKCS), x509 = et_mech(CKM_RSA_X_509);
    engine_mech *ms[3] = {&oaep, &pk1, &x509};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(engine_encrypt_single(E, et_b(&PUB), ms[i], et_raw(MSG, sizeof(MSG)), &ct),
                         CKR_OK);
        assert_int_equal(ct.len, 256);
        assert_int_equal(engine_decrypt_single(E, et_b(&PRIV), ms[i], et_b(&ct), &pt), CKR_OK);
        size_t off = i == 2 ? 256 - sizeof(MSG) : 0; /* raw: left-padded */
        assert_int_equal(pt.len, sizeof(MSG) + off);
        assert_memory_equal(pt.ptr + off, MSG, sizeof(MSG));
        assert_int_equal(crypt_multi(E, false, ms[i], &PRIV, ct.ptr, ct.len, &pt2), CKR_OK);
        assert_memory_equal(pt2.ptr, pt.ptr, pt.len);
        engine_buf_free(&pt);
        engine_buf_free(&pt2);
        engine_buf_free(&ct);
        assert_int_equal(crypt_multi(E, true, ms[i], &PUB, MSG, sizeof(MSG), &ct), CKR_OK);
        assert_int_equal(engine_decrypt_single(E, et_b(&PRIV), ms[i], et_b(&ct), &pt), CKR_OK);
        assert_memory_equal(pt.ptr + off, MSG, sizeof(MSG));
        engine_buf_free(&pt);
        engine_buf_free(&ct);
    }
    /* OAEP tampering: one code; PKCS #1 v1.5 tampering: implicit rejection,
     * a deterministic pseudo-random message and no error. */
    assert_int_equal(engine_encrypt_single(E, et_b(&PUB), &oaep, et_raw(MSG, 10), &ct), CKR_OK);
    ct.ptr[100] ^= 1;
    assert_int_equal(engine_decrypt_single(E, et_b(&PRIV), &oaep, et_b(&ct), &pt),
                     CKR_ENCRYPTED_DATA_INVALID);
    engine_buf_free(&ct);
    assert_int_equal(engine_encrypt_single(E, et_b(&PUB), &pk1, et_raw(MSG, 10), &ct), CKR_OK);
    ct.ptr[100] ^= 1;
    assert_int_equal(engine_decrypt_single(E, et_b(&PRIV), &pk1, et_b(&ct), &pt), CKR_OK);
    assert_int_equal(engine_decrypt_single(E, et_b(&PRIV), &pk1, et_b(&ct), &pt2), CKR_OK);
    assert_int_equal(pt.len, pt2.len);
    assert_memory_equal(pt.ptr, pt2.ptr, pt.len);
    assert_true(pt.len != 10 || memcmp(pt.ptr, MSG, 10) != 0);
    engine_buf_free(&pt);
    engine_buf_free(&pt2);
    assert_int_equal(engine_decrypt_single(E, et_b(&PRIV), &pk1, et_raw(ct.ptr, 255), &pt),
                     CKR_ENCRYPTED_DATA_LEN_RANGE);
    engine_buf_free(&ct);
    uint8_t big[250] = {1};
    assert_int_equal(engine_encrypt_single(E, et_b(&PUB), &pk1, et_raw(big, 246), &ct),
                     CKR_DATA_LEN_RANGE);
    /* ParameterB form of OAEP: hash u64 | mgf u64 | labelLen u32 | label. */
    memset(p, 0, sizeof(p));
    p[6] = (uint8_t)(CKM_SHA_1 >> 8);
    p[7] = (uint8_t)CKM_SHA_1;
    p[15] = (uint8_t)CKG_MGF1_SHA1;
    engine_mech ob = et_mech_b(CKM_RSA_PKCS_OAEP, p, 20);
    assert_int_equal(engine_encrypt_single(E, et_b(&PUB), &ob, et_raw(MSG, 10), &ct), CKR_OK);
    assert_int_equal(engine_decrypt_single(E, et_b(&PRIV), &ob, et_b(&ct), &pt), CKR_OK);
    assert_memory_equal(pt.ptr, MSG, 10);
    engine_buf_free(&ct);
    engine_buf_free(&pt);
}

/* Components of an OpenSSL RSA key as an engine import template. */
static void import_ossl(engine *e, EVP_PKEY *k, engine_buf *priv)
{
    static const char *N[8] = {OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
                               OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
                               OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
                               OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
    static const CK_ATTRIBUTE_TYPE T[8] = {
        CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
        CKA_PRIME_2, CKA_EXPONENT_1,      CKA_EXPONENT_2,       CKA_COEFFICIENT};
    static uint8_t v[8][512];
    etmpl it;
    et_reset(&it);
    et_ulong(&it, CKA_CLASS, CKO_PRIVATE_KEY);
    et_ulong(&it, CKA_KEY_TYPE, CKK_RSA);
    for (int i = 0; i < 8; i++) {
        BIGNUM *bn = NULL;
        assert_int_equal(EVP_PKEY_get_bn_param(k, N[i], &bn), 1);
        int l = BN_bn2bin(bn, v[i]);
        et_bytes(&it, T[i], v[i], (size_t)l);
        BN_free(bn);
    }
    et_bool(&it, CKA_SIGN, 1);
    et_bool(&it, CKA_DECRYPT, 1);
    assert_int_equal(engine_import_private_key(e, it.a, it.n, priv), CKR_OK);
}

static void test_openssl_interop(void **st)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    engine_buf priv = {0}, sig = {0}, ct = {0}, pt = {0};
    unsigned char *spki = NULL, buf[512];
    int sl = i2d_PUBKEY(k, &spki);
    size_t bl = sizeof(buf);
    uint8_t p[24];
    (void)st;
    import_ossl(E, k, &priv);
    /* Engine signs PSS, OpenSSL verifies. */
    engine_mech pss =
        et_mech_b(CKM_SHA256_RSA_PKCS_PSS, p, pss_param(p, CKM_SHA256, CKG_MGF1_SHA256, 32));
    assert_int_equal(engine_sign_single(E, et_b(&priv), &pss, et_raw(MSG, sizeof(MSG)), &sig),
                     CKR_OK);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    assert_int_equal(EVP_DigestVerifyInit(c, &pc, EVP_sha256(), NULL, k), 1);
    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32);
    assert_int_equal(EVP_DigestVerify(c, sig.ptr, sig.len, MSG, sizeof(MSG)), 1);
    EVP_MD_CTX_free(c);
    /* OpenSSL signs PKCS #1 v1.5, the engine verifies with the plain SPKI. */
    c = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(c, NULL, EVP_sha512(), NULL, k), 1);
    assert_int_equal(EVP_DigestSign(c, buf, &bl, MSG, sizeof(MSG)), 1);
    engine_mech s512 = et_mech(CKM_SHA512_RSA_PKCS);
    assert_int_equal(engine_verify_single(E, et_raw(spki, (size_t)sl), &s512,
                                          et_raw(MSG, sizeof(MSG)), et_raw(buf, bl)),
                     CKR_OK);
    EVP_MD_CTX_free(c);
    /* OAEP both ways. */
    engine_mech oaep = et_mech(CKM_RSA_PKCS_OAEP);
    oaep.kind = ENGINE_PARAM_RSA_OAEP;
    oaep.oaep.hash = CKM_SHA256;
    oaep.oaep.mgf = CKG_MGF1_SHA256;
    assert_int_equal(
        engine_encrypt_single(E, et_raw(spki, (size_t)sl), &oaep, et_raw(MSG, 20), &ct), CKR_OK);
    pc = EVP_PKEY_CTX_new(k, NULL);
    EVP_PKEY_decrypt_init(pc);
    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING);
    EVP_PKEY_CTX_set_rsa_oaep_md(pc, EVP_sha256());
    EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256());
    bl = sizeof(buf);
    assert_int_equal(EVP_PKEY_decrypt(pc, buf, &bl, ct.ptr, ct.len), 1);
    assert_int_equal(bl, 20);
    assert_memory_equal(buf, MSG, 20);
    EVP_PKEY_CTX_free(pc);
    pc = EVP_PKEY_CTX_new(k, NULL);
    EVP_PKEY_encrypt_init(pc);
    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING);
    EVP_PKEY_CTX_set_rsa_oaep_md(pc, EVP_sha256());
    EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256());
    bl = sizeof(buf);
    assert_int_equal(EVP_PKEY_encrypt(pc, buf, &bl, MSG, 20), 1);
    assert_int_equal(engine_decrypt_single(E, et_b(&priv), &oaep, et_raw(buf, bl), &pt), CKR_OK);
    assert_memory_equal(pt.ptr, MSG, 20);
    EVP_PKEY_CTX_free(pc);
    engine_buf_free(&priv);
    engine_buf_free(&sig);
    engine_buf_free(&ct);
    engine_buf_free(&pt);
    OPENSSL_free(spki);
    EVP_PKEY_free(k);
}

/* ---- Wycheproof ---- */

static CK_MECHANISM_TYPE digest_of(const char *sha)
{
    return strcmp(sha, "SHA-1") == 0     ? CKM_SHA_1
           : strcmp(sha, "SHA-224") == 0 ? CKM_SHA224
           : strcmp(sha, "SHA-256") == 0 ? CKM_SHA256
           : strcmp(sha, "SHA-384") == 0 ? CKM_SHA384
                                         : CKM_SHA512;
}
static CK_MECHANISM_TYPE pkcs_of(const char *sha)
{
    return strcmp(sha, "SHA-1") == 0     ? CKM_SHA1_RSA_PKCS
           : strcmp(sha, "SHA-224") == 0 ? CKM_SHA224_RSA_PKCS
           : strcmp(sha, "SHA-256") == 0 ? CKM_SHA256_RSA_PKCS
           : strcmp(sha, "SHA-384") == 0 ? CKM_SHA384_RSA_PKCS
                                         : CKM_SHA512_RSA_PKCS;
}
static CK_ULONG mgf_of(const char *sha)
{
    return strcmp(sha, "SHA-1") == 0     ? CKG_MGF1_SHA1
           : strcmp(sha, "SHA-224") == 0 ? CKG_MGF1_SHA224
           : strcmp(sha, "SHA-256") == 0 ? CKG_MGF1_SHA256
           : strcmp(sha, "SHA-384") == 0 ? CKG_MGF1_SHA384
                                         : CKG_MGF1_SHA512;
}

static bool ok_for(const char *res, CK_RV rv)
{
    if (strcmp(res, "acceptable") == 0)
        return true;
    return strcmp(res, "valid") == 0 ? rv == CKR_OK : rv != CKR_OK;
}

/* The private key of a Wycheproof group, imported. */
static CK_RV import_wp(engine *e, const cJSON *g, engine_buf *priv)
{
    static const char *F[8] = {"modulus", "publicExponent", "privateExponent", "prime1",
                               "prime2",  "exponent1",      "exponent2",       "coefficient"};
    static const CK_ATTRIBUTE_TYPE T[8] = {
        CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
        CKA_PRIME_2, CKA_EXPONENT_1,      CKA_EXPONENT_2,       CKA_COEFFICIENT};
    const cJSON *pk = cJSON_GetObjectItemCaseSensitive(g, "privateKey");
    uint8_t *v[8] = {0};
    etmpl it;
    CK_RV rv;
    et_reset(&it);
    et_ulong(&it, CKA_CLASS, CKO_PRIVATE_KEY);
    et_ulong(&it, CKA_KEY_TYPE, CKK_RSA);
    for (int i = 0; i < 8; i++) {
        size_t l = 0;
        v[i] = testvec_hex_field(pk, F[i], &l);
        if (v[i] != NULL) /* sig_gen files give n, e, d only */
            et_bytes(&it, T[i], v[i], l);
    }
    rv = engine_import_private_key(e, it.a, it.n, priv);
    for (int i = 0; i < 8; i++)
        free(v[i]);
    return rv;
}

static void wp_rsa(const char *file)
{
    cJSON *j = testvec_load_json(file);
    const cJSON *g, *t;
    vt_counts c;
    assert_non_null(j);
    vt_begin(&c, file);
    cJSON_ArrayForEach(g, vt_arr(j, "testGroups"))
    {
        const char *type = testvec_str_field(g, "type"), *sha = testvec_str_field(g, "sha");
        size_t kl = 0;
        uint8_t *spki = testvec_hex_field(g, "publicKeyDer", &kl), p[24];
        engine_buf priv = {0};
        engine_mech m;
        bool oaep = strcmp(type, "RsaesOaepDecrypt") == 0,
             gen = strcmp(type, "RsassaPkcs1Generate") == 0;
        if (strcmp(type, "RsassaPssVerify") == 0) {
            const char *mgf = testvec_str_field(g, "mgfSha");
            m = et_mech_b(
                CKM_RSA_PKCS_PSS, p,
                pss_param(p, digest_of(sha), mgf_of(mgf), (uint64_t)vt_num(g, "sLen", 0)));
        } else if (oaep) {
            m = et_mech(CKM_RSA_PKCS_OAEP);
            m.kind = ENGINE_PARAM_RSA_OAEP;
            m.oaep.hash = digest_of(sha);
            m.oaep.mgf = mgf_of(testvec_str_field(g, "mgfSha"));
        } else {
            m = et_mech(pkcs_of(sha));
        }
        if (oaep || gen)
            assert_int_equal(import_wp(E, g, &priv), CKR_OK);
        cJSON_ArrayForEach(t, vt_arr(g, "tests"))
        {
            size_t ml = 0, sl = 0, ll = 0;
            uint8_t *msg = testvec_hex_field(t, "msg", &ml),
                    *sig = testvec_hex_field(t, oaep ? "ct" : "sig", &sl);
            uint8_t *lab = testvec_hex_field(t, "label", &ll);
            engine_buf out = {0}, dg = {0};
            CK_RV rv;
            if (oaep) {
                m.oaep.label = et_raw(lab, ll);
                rv = engine_decrypt_single(E, et_b(&priv), &m, et_raw(sig, sl), &out);
                if (rv == CKR_OK && (out.len != ml || memcmp(out.ptr, msg, ml) != 0))
                    rv = CKR_GENERAL_ERROR;
            } else if (gen) {
                rv = engine_sign_single(E, et_b(&priv), &m, et_raw(msg, ml), &out);
                if (rv == CKR_OK && (out.len != sl || memcmp(out.ptr, sig, sl) != 0))
                    rv = CKR_GENERAL_ERROR;
            } else if (m.type == CKM_RSA_PKCS_PSS) {
                engine_mech d = et_mech(digest_of(sha));
                assert_int_equal(engine_digest_single(E, &d, et_raw(msg, ml), &dg), CKR_OK);
                rv = engine_verify_single(E, et_raw(spki, kl), &m, et_b(&dg), et_raw(sig, sl));
            } else {
                rv =
                    engine_verify_single(E, et_raw(spki, kl), &m, et_raw(msg, ml), et_raw(sig, sl));
            }
            vt_result(&c, ok_for(testvec_str_field(t, "result"), rv),
                      testvec_str_field(t, "comment"), vt_num(t, "tcId", 0));
            engine_buf_free(&out);
            engine_buf_free(&dg);
            free(msg);
            free(sig);
            free(lab);
        }
        engine_buf_free(&priv);
        free(spki);
    }
    vt_report(&c);
    cJSON_Delete(j);
}

static void test_wycheproof_rsa(void **st)
{
    (void)st;
    const char *files[] = {
        "rsa_signature_2048_sha256_test.json",       "rsa_signature_3072_sha256_test.json",
        "rsa_signature_4096_sha512_test.json",       "rsa_pss_2048_sha256_mgf1_32_test.json",
        "rsa_pss_3072_sha256_mgf1_32_test.json",     "rsa_pss_4096_sha512_mgf1_64_test.json",
        "rsa_oaep_2048_sha1_mgf1sha1_test.json",     "rsa_oaep_2048_sha256_mgf1sha256_test.json",
        "rsa_oaep_3072_sha256_mgf1sha256_test.json", "rsa_oaep_4096_sha256_mgf1sha256_test.json",
        "rsa_pkcs1_2048_sig_gen_test.json",          "rsa_pkcs1_3072_sig_gen_test.json",
        "rsa_pkcs1_4096_sig_gen_test.json"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "wycheproof/%s", files[i]);
        wp_rsa(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsa_attributes_and_policy),
        cmocka_unit_test(test_rsa_signatures),
        cmocka_unit_test(test_rsa_encryption),
        cmocka_unit_test(test_openssl_interop),
        cmocka_unit_test(test_wycheproof_rsa),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
