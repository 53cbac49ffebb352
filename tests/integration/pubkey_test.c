/* Public-key and post-quantum mechanisms through grep11d and libgrep11:
 * key pairs, signatures checked by OpenSSL against the returned SPKI,
 * multi-part ML-DSA across two replicas, IBM Kyber exactly as the published
 * GREP11 sample uses DeriveKey, and ML-KEM encapsulation. */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "testspki.h"

typedef struct {
    test_server a, b; /* same master key */
    g11c_conn *ca, *cb;
} fixture;

static const CK_BBOOL yes = CK_TRUE;

static int start(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char yaml[600];
    if (!f || test_server_start(&f->a, NULL, NULL) != 0)
        return -1;
    snprintf(yaml, sizeof(yaml), "master_key_file: %s/dev-master-key\n", f->a.dir);
    if (test_server_start(&f->b, yaml, NULL) != 0)
        return -1;
    f->ca = test_connect(&f->a, 0);
    f->cb = test_connect(&f->b, 0);
    *state = f;
    return f->ca && f->cb ? 0 : -1;
}

static int stop(void **state)
{
    fixture *f = *state;
    g11c_close(f->ca);
    g11c_close(f->cb);
    int rc = test_server_stop(&f->a) | test_server_stop(&f->b);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void pair(g11c_conn *c, CK_MECHANISM_TYPE mech, CK_ATTRIBUTE *pub_extra, CK_ULONG npe,
                 CK_ATTRIBUTE_TYPE pub_use, CK_ATTRIBUTE_TYPE priv_use, g11c_buf *priv,
                 g11c_buf *pub)
{
    CK_ATTRIBUTE pt[4] = {{pub_use, (void *)&yes, 1}}, st[1] = {{priv_use, (void *)&yes, 1}};
    for (CK_ULONG i = 0; i < npe; i++)
        pt[1 + i] = pub_extra[i];
    g11c_mech m = {.type = mech};
    assert_int_equal(g11c_generate_key_pair(c, &m, pt, 1 + npe, st, 1, priv, pub), CKR_OK);
}

/* The public key is a DER SPKI followed by grep11's MAC trailer: any DER
 * parser reads the SPKI (Edwards keys in IBM's form: testspki.h). */
static EVP_PKEY *spki_of(const g11c_buf *pub)
{
    EVP_PKEY *k = testspki_key(pub->ptr, pub->len);
    assert_non_null(k);
    return k;
}

static void ecdsa_p256_verifies_with_openssl(void **state)
{
    fixture *f = *state;
    static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    CK_ATTRIBUTE params = {CKA_EC_PARAMS, (void *)p256, sizeof(p256)};
    g11c_buf sk = {0}, pk = {0}, sig = {0};
    pair(f->ca, CKM_EC_KEY_PAIR_GEN, &params, 1, CKA_VERIFY, CKA_SIGN, &sk, &pk);
    uint8_t msg[100], digest[32];
    unsigned int dl = 0;
    RAND_bytes(msg, sizeof(msg));
    EVP_Digest(msg, sizeof(msg), digest, &dl, EVP_sha256(), NULL);
    g11c_mech m = {.type = CKM_ECDSA_SHA256};
    assert_int_equal(g11c_sign_single(f->cb, g11c_bytes_of(&sk), &m, (g11c_bytes){msg, 100}, &sig),
                     CKR_OK);
    assert_int_equal(sig.len, 64); /* r || s */
    /* OpenSSL wants DER: rebuild it from r || s. */
    ECDSA_SIG *es = ECDSA_SIG_new();
    ECDSA_SIG_set0(es, BN_bin2bn(sig.ptr, 32, NULL), BN_bin2bn(sig.ptr + 32, 32, NULL));
    unsigned char *der = NULL;
    int derlen = i2d_ECDSA_SIG(es, &der);
    EVP_PKEY *key = spki_of(&pk);
    EVP_PKEY_CTX *vc = EVP_PKEY_CTX_new(key, NULL);
    assert_int_equal(EVP_PKEY_verify_init(vc), 1);
    assert_int_equal(EVP_PKEY_verify(vc, der, (size_t)derlen, digest, 32), 1);
    EVP_PKEY_CTX_free(vc);
    EVP_PKEY_free(key);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    assert_int_equal(g11c_verify_single(f->ca, g11c_bytes_of(&pk), &m, (g11c_bytes){msg, 100},
                                        g11c_bytes_of(&sig)),
                     CKR_OK);
    sig.ptr[10] ^= 1;
    assert_int_equal(g11c_verify_single(f->ca, g11c_bytes_of(&pk), &m, (g11c_bytes){msg, 100},
                                        g11c_bytes_of(&sig)),
                     CKR_SIGNATURE_INVALID);
    /* The curve given by name, as IBM's sample programs send it. */
    g11c_buf sk2 = {0}, pk2 = {0};
    CK_ATTRIBUTE named = {CKA_EC_PARAMS, "P-256", 5};
    pair(f->ca, CKM_EC_KEY_PAIR_GEN, &named, 1, CKA_VERIFY, CKA_SIGN, &sk2, &pk2);
    g11c_buf bufs[] = {sk, pk, sig, sk2, pk2};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        g11c_buf_free(&bufs[i]);
}

static void ed25519_and_rsa_pss_verify_with_openssl(void **state)
{
    fixture *f = *state;
    static const uint8_t ed[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
    CK_ATTRIBUTE params = {CKA_EC_PARAMS, (void *)ed, sizeof(ed)};
    g11c_buf sk = {0}, pk = {0}, sig = {0};
    uint8_t msg[64];
    RAND_bytes(msg, sizeof(msg));
    pair(f->ca, CKM_EC_EDWARDS_KEY_PAIR_GEN, &params, 1, CKA_VERIFY, CKA_SIGN, &sk, &pk);
    g11c_mech m = {.type = CKM_EDDSA};
    assert_int_equal(g11c_sign_single(f->ca, g11c_bytes_of(&sk), &m, (g11c_bytes){msg, 64}, &sig),
                     CKR_OK);
    /* IBM's form, which IBM's util.GetPubKey reads as an Ed25519 key:
     * SEQUENCE { SEQUENCE { id-ecPublicKey, Ed25519 }, BIT STRING }. */
    assert_true(testspki_ibm_form(pk.ptr, pk.len));
    EVP_PKEY *key = spki_of(&pk);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, NULL, NULL, key), 1);
    assert_int_equal(EVP_DigestVerify(md, sig.ptr, sig.len, msg, sizeof(msg)), 1);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    g11c_buf_free(&sk);
    g11c_buf_free(&pk);
    g11c_buf_free(&sig);

    CK_ULONG bits = 2048;
    static const uint8_t e[] = {1, 0, 1};
    CK_ATTRIBUTE rsa[] = {{CKA_MODULUS_BITS, &bits, sizeof(bits)},
                          {CKA_PUBLIC_EXPONENT, (void *)e, 3}};
    pair(f->ca, CKM_RSA_PKCS_KEY_PAIR_GEN, rsa, 2, CKA_VERIFY, CKA_SIGN, &sk, &pk);
    g11c_mech pss = {.type = CKM_SHA256_RSA_PKCS_PSS,
                     .kind = G11C_PARAM_RSA_PSS,
                     .pss = {CKM_SHA256, 2 /* CkgMgf1Sha256 */, 32}};
    assert_int_equal(g11c_sign_single(f->cb, g11c_bytes_of(&sk), &pss, (g11c_bytes){msg, 64}, &sig),
                     CKR_OK);
    key = spki_of(&pk);
    md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    assert_int_equal(EVP_DigestVerifyInit(md, &pc, EVP_sha256(), NULL, key), 1);
    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32);
    assert_int_equal(EVP_DigestVerify(md, sig.ptr, sig.len, msg, sizeof(msg)), 1);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(key);
    g11c_buf_free(&sk);
    g11c_buf_free(&pk);
    g11c_buf_free(&sig);
}

static void ml_dsa_multipart_across_replicas(void **state)
{
    fixture *f = *state;
    CK_ULONG set = CKP_ML_DSA_65;
    CK_ATTRIBUTE params = {CKA_PARAMETER_SET, &set, sizeof(set)};
    g11c_buf sk = {0}, pk = {0}, st = {0}, st2 = {0}, sig = {0}, one = {0};
    pair(f->ca, CKM_ML_DSA_KEY_PAIR_GEN, &params, 1, CKA_VERIFY, CKA_SIGN, &sk, &pk);
    uint8_t msg[5000];
    RAND_bytes(msg, sizeof(msg));
    g11c_mech m = {.type = CKM_ML_DSA};
    assert_int_equal(g11c_sign_init(f->ca, &m, g11c_bytes_of(&sk), &st), CKR_OK);
    assert_int_equal(g11c_sign_update(f->cb, g11c_bytes_of(&st), (g11c_bytes){msg, 1234}, &st2),
                     CKR_OK);
    g11c_buf_free(&st);
    assert_int_equal(
        g11c_sign_update(f->ca, g11c_bytes_of(&st2), (g11c_bytes){msg + 1234, 5000 - 1234}, &st),
        CKR_OK);
    g11c_buf_free(&st2);
    assert_int_equal(g11c_sign_final(f->cb, g11c_bytes_of(&st), &sig), CKR_OK);
    assert_int_equal(sig.len, 3309);
    /* The streamed signature verifies one-shot, and the reverse. */
    assert_int_equal(g11c_verify_single(f->ca, g11c_bytes_of(&pk), &m, (g11c_bytes){msg, 5000},
                                        g11c_bytes_of(&sig)),
                     CKR_OK);
    assert_int_equal(g11c_sign_single(f->cb, g11c_bytes_of(&sk), &m, (g11c_bytes){msg, 5000}, &one),
                     CKR_OK);
    assert_int_equal(g11c_verify_init(f->cb, &m, g11c_bytes_of(&pk), &st2), CKR_OK);
    g11c_buf st3 = {0};
    assert_int_equal(g11c_verify_update(f->ca, g11c_bytes_of(&st2), (g11c_bytes){msg, 5000}, &st3),
                     CKR_OK);
    assert_int_equal(g11c_verify_final(f->cb, g11c_bytes_of(&st3), g11c_bytes_of(&one)), CKR_OK);
    msg[0] ^= 1;
    assert_int_equal(g11c_verify_single(f->ca, g11c_bytes_of(&pk), &m, (g11c_bytes){msg, 5000},
                                        g11c_bytes_of(&sig)),
                     CKR_SIGNATURE_INVALID);
    g11c_buf bufs[] = {sk, pk, st, st2, st3, sig, one};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        g11c_buf_free(&bufs[i]);
}

static void check_value(g11c_conn *c, const g11c_buf *key, uint8_t out[3])
{
    CK_ATTRIBUTE_TYPE t = CKA_CHECK_VALUE;
    CK_ATTRIBUTE *got = NULL;
    CK_ULONG n = 0;
    assert_int_equal(g11c_get_attribute_value(c, g11c_bytes_of(key), &t, 1, &got, &n), CKR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(got[0].ulValueLen, 3);
    memcpy(out, got[0].pValue, 3);
    g11c_attrs_free(got, n);
}

/* As the published GREP11 kyber sample: encapsulate with DeriveKey on the
 * public key (the ciphertext follows the 7 leading bytes of CheckSum), then
 * decapsulate with DeriveKey on the private key. */
static void ibm_kyber_through_derive_key(void **state)
{
    fixture *f = *state;
    static const uint8_t kyber768[] = {0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01,
                                       0x02, 0x82, 0x0b, 0x05, 0x03, 0x03};
    CK_ATTRIBUTE params = {CKA_IBM_PQC_PARAMS, (void *)kyber768, sizeof(kyber768)};
    g11c_buf sk = {0}, pk = {0}, k1 = {0}, sum = {0}, k2 = {0}, sum2 = {0};
    pair(f->ca, CKM_IBM_KYBER, &params, 1, CKA_DERIVE, CKA_DERIVE, &sk, &pk);
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_ULONG len = 32;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_VALUE_LEN, &len, sizeof(len)},
                        {CKA_ENCRYPT, (void *)&yes, 1}};
    g11c_mech enc = {.type = CKM_IBM_KYBER,
                     .kind = G11C_PARAM_KYBER,
                     .kyber = {.mode = 1, .kdf = 1 /* CkdNull */}};
    assert_int_equal(
        g11c_derive_key(f->ca, &enc, t, 4, g11c_bytes_of(&pk), (g11c_bytes){NULL, 0}, &k1, &sum),
        CKR_OK);
    assert_true(sum.len > 7);
    g11c_mech dec = {.type = CKM_IBM_KYBER,
                     .kind = G11C_PARAM_KYBER,
                     .kyber = {.mode = 2, .kdf = 1, .cipher_text = {sum.ptr + 7, sum.len - 7}}};
    assert_int_equal(
        g11c_derive_key(f->cb, &dec, t, 4, g11c_bytes_of(&sk), (g11c_bytes){NULL, 0}, &k2, &sum2),
        CKR_OK);
    uint8_t cv1[3], cv2[3];
    check_value(f->ca, &k1, cv1);
    check_value(f->cb, &k2, cv2);
    assert_memory_equal(cv1, cv2, 3);
    g11c_buf bufs[] = {sk, pk, k1, sum, k2, sum2};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        g11c_buf_free(&bufs[i]);
}

static void ml_kem_through_derive_key(void **state)
{
    fixture *f = *state;
    CK_ULONG set = CKP_ML_KEM_768;
    CK_ATTRIBUTE params = {CKA_PARAMETER_SET, &set, sizeof(set)};
    g11c_buf sk = {0}, pk = {0}, k1 = {0}, ct = {0}, k2 = {0}, none = {0};
    pair(f->ca, CKM_ML_KEM_KEY_PAIR_GEN, &params, 1, CKA_ENCRYPT, CKA_DECRYPT, &sk, &pk);
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_ENCRYPT, (void *)&yes, 1}};
    g11c_mech m = {.type = CKM_ML_KEM};
    assert_int_equal(
        g11c_derive_key(f->ca, &m, t, 3, g11c_bytes_of(&pk), (g11c_bytes){NULL, 0}, &k1, &ct),
        CKR_OK);
    assert_int_equal(ct.len, 1088);
    assert_int_equal(
        g11c_derive_key(f->cb, &m, t, 3, g11c_bytes_of(&sk), g11c_bytes_of(&ct), &k2, &none),
        CKR_OK);
    uint8_t cv1[3], cv2[3];
    check_value(f->ca, &k1, cv1);
    check_value(f->cb, &k2, cv2);
    assert_memory_equal(cv1, cv2, 3);
    /* A tampered ciphertext is no error: implicit rejection gives another key. */
    g11c_buf k3 = {0};
    g11c_buf_free(&none);
    ct.ptr[5] ^= 1;
    assert_int_equal(
        g11c_derive_key(f->ca, &m, t, 3, g11c_bytes_of(&sk), g11c_bytes_of(&ct), &k3, &none),
        CKR_OK);
    uint8_t cv3[3];
    check_value(f->ca, &k3, cv3);
    assert_memory_not_equal(cv1, cv3, 3);
    g11c_buf bufs[] = {sk, pk, k1, ct, k2, k3, none};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        g11c_buf_free(&bufs[i]);
}

/* policy_profile: legacy lowers the key-size floors (RSA 1024 bits,
 * generic secrets 1 byte) for conformance suites and old applications,
 * and the mechanism info says so; the default (strict) refuses them. */
static CK_RV rsa_1024_and_secret_1(g11c_conn *c, CK_MECHANISM_INFO *rsa, CK_RV *secret)
{
    CK_ULONG bits = 1024, len = 1;
    static const uint8_t e[] = {1, 0, 1};
    CK_ATTRIBUTE pt[] = {{CKA_MODULUS_BITS, &bits, sizeof(bits)},
                         {CKA_PUBLIC_EXPONENT, (void *)e, 3},
                         {CKA_VERIFY, (void *)&yes, 1}};
    CK_ATTRIBUTE st[] = {{CKA_SIGN, (void *)&yes, 1}};
    CK_ATTRIBUTE gt[] = {{CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_SIGN, (void *)&yes, 1}};
    g11c_mech m = {.type = CKM_RSA_PKCS_KEY_PAIR_GEN}, g = {.type = CKM_GENERIC_SECRET_KEY_GEN};
    g11c_buf sk = {0}, pk = {0}, k = {0}, cs = {0};
    assert_int_equal(g11c_get_mechanism_info(c, CKM_RSA_PKCS_KEY_PAIR_GEN, rsa), CKR_OK);
    CK_RV rv = g11c_generate_key_pair(c, &m, pt, 3, st, 1, &sk, &pk);
    if (rv == CKR_OK) {
        g11c_mech sign = {.type = CKM_SHA256_RSA_PKCS};
        g11c_buf sig = {0};
        uint8_t msg[20] = {1};
        assert_int_equal(
            g11c_sign_single(c, g11c_bytes_of(&sk), &sign, (g11c_bytes){msg, 20}, &sig), CKR_OK);
        assert_int_equal(sig.len, 128);
        g11c_buf_free(&sig);
    }
    *secret = g11c_generate_key(c, &g, gt, 2, &k, &cs);
    g11c_buf bufs[] = {sk, pk, k, cs};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        g11c_buf_free(&bufs[i]);
    return rv;
}

static void legacy_policy_profile(void **state)
{
    fixture *f = *state;
    CK_MECHANISM_INFO info;
    CK_RV secret;
    assert_int_equal(rsa_1024_and_secret_1(f->ca, &info, &secret), CKR_KEY_SIZE_RANGE);
    assert_int_equal(info.ulMinKeySize, 2048);
    assert_int_not_equal(secret, CKR_OK);

    test_server legacy;
    assert_int_equal(test_server_start(&legacy, "policy_profile: legacy\n", NULL), 0);
    g11c_conn *c = test_connect(&legacy, 0);
    assert_non_null(c);
    assert_int_equal(rsa_1024_and_secret_1(c, &info, &secret), CKR_OK);
    assert_int_equal(info.ulMinKeySize, 1024);
    assert_int_equal(secret, CKR_OK);
    assert_int_equal(g11c_get_mechanism_info(c, CKM_GENERIC_SECRET_KEY_GEN, &info), CKR_OK);
    assert_int_equal(info.ulMinKeySize, 1);
    g11c_close(c);
    assert_int_equal(test_server_stop(&legacy), 0);
}

/* IBM's Example_import_EC_Keypair and Example_import_RSA_Keypair: a key
 * pair made outside the HSM comes in as PKCS #8 encrypted under an AES key
 * (UnwrapKey with CKM_AES_CBC_PAD) and as a plain PKIX SPKI (UnwrapKey
 * with CKM_IBM_TRANSPORTKEY, whose KeK is ignored); the imported pair
 * signs and verifies, and OpenSSL verifies with the original key. */
static void import_pair(g11c_conn *c, EVP_PKEY *k, CK_KEY_TYPE kt, const CK_ATTRIBUTE *pub_t,
                        CK_ULONG npub, g11c_buf *priv, g11c_buf *pub)
{
    static const CK_ULONG secret = 32;
    static const CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    g11c_buf aes = {0}, sum = {0}, ct = {0}, cs = {0};
    g11c_mech gen = {.type = CKM_AES_KEY_GEN};
    CK_ATTRIBUTE at[] = {{CKA_VALUE_LEN, (void *)&secret, sizeof(secret)},
                         {CKA_ENCRYPT, (void *)&yes, 1},
                         {CKA_UNWRAP, (void *)&yes, 1}};
    CK_ATTRIBUTE st[] = {{CKA_SIGN, (void *)&yes, 1},
                         {CKA_SENSITIVE, (void *)&yes, 1},
                         {CKA_KEY_TYPE, &kt, sizeof(kt)},
                         {CKA_CLASS, (void *)&cls, sizeof(cls)}};
    uint8_t iv[16];
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(k);
    unsigned char *der = NULL, *spki = NULL;
    int dl = i2d_PKCS8_PRIV_KEY_INFO(p8, &der), sl = i2d_PUBKEY(k, &spki);
    assert_true(dl > 0 && sl > 0);
    assert_int_equal(g11c_generate_key(c, &gen, at, 3, &aes, &sum), CKR_OK);
    assert_int_equal(g11c_generate_random(c, iv, sizeof(iv)), CKR_OK);
    g11c_mech cbc = {.type = CKM_AES_CBC_PAD, .kind = G11C_PARAM_BYTES, .bytes = {iv, 16}};
    assert_int_equal(
        g11c_encrypt_single(c, g11c_bytes_of(&aes), &cbc, (g11c_bytes){der, (size_t)dl}, &ct),
        CKR_OK);
    assert_int_equal(g11c_unwrap_key(c, g11c_bytes_of(&ct), g11c_bytes_of(&aes),
                                     (g11c_bytes){NULL, 0}, &cbc, st, 4, priv, &cs),
                     CKR_OK);
    g11c_buf_free(&cs);
    g11c_mech tk = {.type = CKM_IBM_TRANSPORTKEY};
    assert_int_equal(g11c_unwrap_key(c, (g11c_bytes){spki, (size_t)sl}, g11c_bytes_of(&aes),
                                     (g11c_bytes){NULL, 0}, &tk, pub_t, npub, pub, &cs),
                     CKR_OK);
    /* The SPKI comes back as given, MACed; the checksum is it and its size. */
    assert_true(pub->len > (size_t)sl);
    assert_memory_equal(pub->ptr, spki, (size_t)sl);
    assert_int_equal(cs.len, (size_t)sl + 4);
    assert_memory_equal(cs.ptr, spki, (size_t)sl);
    uint32_t bits = (uint32_t)cs.ptr[sl] << 24 | (uint32_t)cs.ptr[sl + 1] << 16 |
                    (uint32_t)cs.ptr[sl + 2] << 8 | cs.ptr[sl + 3];
    assert_int_equal(bits, (uint32_t)EVP_PKEY_get_bits(k));
    g11c_buf_free(&cs);
    g11c_buf_free(&ct);
    g11c_buf_free(&aes);
    g11c_buf_free(&sum);
    OPENSSL_free(der);
    OPENSSL_free(spki);
    PKCS8_PRIV_KEY_INFO_free(p8);
}

static void ibm_key_pairs_import_with_transport_key(void **state)
{
    fixture *f = *state;
    static const uint8_t msg[] = "This data needs to be signed";
    g11c_buf priv = {0}, pub = {0}, sig = {0}, junk = {0}, cs = {0};

    /* EC P-256, IBM's template for the public key: {VERIFY}. */
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    CK_ATTRIBUTE vt[] = {{CKA_VERIFY, (void *)&yes, 1}};
    import_pair(f->ca, ec, CKK_EC, vt, 1, &priv, &pub);
    g11c_mech m = {.type = CKM_ECDSA_SHA256};
    assert_int_equal(
        g11c_sign_single(f->cb, g11c_bytes_of(&priv), &m, (g11c_bytes){msg, sizeof(msg)}, &sig),
        CKR_OK);
    assert_int_equal(g11c_verify_single(f->cb, g11c_bytes_of(&pub), &m,
                                        (g11c_bytes){msg, sizeof(msg)}, g11c_bytes_of(&sig)),
                     CKR_OK);
    ECDSA_SIG *es = ECDSA_SIG_new();
    ECDSA_SIG_set0(es, BN_bin2bn(sig.ptr, 32, NULL), BN_bin2bn(sig.ptr + 32, 32, NULL));
    unsigned char *der = NULL;
    int derlen = i2d_ECDSA_SIG(es, &der);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, ec), 1);
    assert_int_equal(EVP_DigestVerify(md, der, (size_t)derlen, msg, sizeof(msg)), 1);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    /* The SPKI decides the key: a template naming a curve is refused, and
     * no key blob stands in for the SPKI. */
    static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    CK_ATTRIBUTE named[] = {{CKA_EC_PARAMS, (void *)p256, sizeof(p256)}};
    g11c_mech tk = {.type = CKM_IBM_TRANSPORTKEY};
    unsigned char *spki = NULL;
    int sl = i2d_PUBKEY(ec, &spki);
    assert_int_equal(g11c_unwrap_key(f->ca, (g11c_bytes){spki, (size_t)sl}, (g11c_bytes){NULL, 0},
                                     (g11c_bytes){NULL, 0}, &tk, named, 1, &junk, &cs),
                     CKR_TEMPLATE_INCONSISTENT);
    assert_int_equal(g11c_unwrap_key(f->ca, g11c_bytes_of(&priv), (g11c_bytes){NULL, 0},
                                     (g11c_bytes){NULL, 0}, &tk, vt, 1, &junk, &cs),
                     CKR_WRAPPED_KEY_INVALID);
    OPENSSL_free(spki);
    g11c_buf_free(&priv);
    g11c_buf_free(&pub);
    g11c_buf_free(&sig);

    /* RSA, IBM's template for the public key ({WRAP, ENCRYPT}), then one
     * that verifies. */
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    CK_ATTRIBUTE wt[] = {{CKA_WRAP, (void *)&yes, 1}, {CKA_ENCRYPT, (void *)&yes, 1}};
    import_pair(f->ca, rsa, CKK_RSA, wt, 2, &priv, &pub);
    g11c_buf_free(&priv);
    g11c_buf_free(&pub);
    import_pair(f->ca, rsa, CKK_RSA, vt, 1, &priv, &pub);
    g11c_mech rm = {.type = CKM_SHA256_RSA_PKCS};
    assert_int_equal(
        g11c_sign_single(f->cb, g11c_bytes_of(&priv), &rm, (g11c_bytes){msg, sizeof(msg)}, &sig),
        CKR_OK);
    assert_int_equal(g11c_verify_single(f->ca, g11c_bytes_of(&pub), &rm,
                                        (g11c_bytes){msg, sizeof(msg)}, g11c_bytes_of(&sig)),
                     CKR_OK);
    EVP_MD_CTX_reset(md);
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, rsa), 1);
    assert_int_equal(EVP_DigestVerify(md, sig.ptr, sig.len, msg, sizeof(msg)), 1);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
    g11c_buf_free(&priv);
    g11c_buf_free(&pub);
    g11c_buf_free(&sig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ecdsa_p256_verifies_with_openssl),
        cmocka_unit_test(ed25519_and_rsa_pss_verify_with_openssl),
        cmocka_unit_test(ml_dsa_multipart_across_replicas),
        cmocka_unit_test(ibm_kyber_through_derive_key),
        cmocka_unit_test(ml_kem_through_derive_key),
        cmocka_unit_test(legacy_policy_profile),
        cmocka_unit_test(ibm_key_pairs_import_with_transport_key),
    };
    return cmocka_run_group_tests_name("public-key and PQC through grep11d", tests, start, stop);
}
