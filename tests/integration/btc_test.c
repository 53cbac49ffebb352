/* CKM_IBM_BTC_DERIVE through a real grep11d, the way IBM's Go examples
 * (hpcs-grep11-go examples/bip32_test.go, slip10_test.go) drive it: a
 * generated seed key, MASTERK, children with the chain code passed on from
 * each DeriveKey CheckSum, a signature by a derived private key verified by
 * OpenSSL against the public key derived public -> public. */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "testspki.h"

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static const uint8_t MSG[] = "This data needs to be signed";
static const uint8_t OID_K1[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a};
static const uint8_t OID_ED[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
#define H 0x80000000u

/* The seed: a 256-bit generic secret, IBM's template. */
static void seed_key(g11c_conn *c, g11c_buf *seed)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
    CK_ULONG len = 32;
    g11c_buf sum = {0};
    g11c_mech m = {.type = CKM_GENERIC_SECRET_KEY_GEN};
    CK_ATTRIBUTE t[] = {{CKA_KEY_TYPE, &kt, sizeof(kt)},    {CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_WRAP, (void *)&no, 1},
                        {CKA_UNWRAP, (void *)&no, 1},       {CKA_SIGN, (void *)&yes, 1},
                        {CKA_VERIFY, (void *)&yes, 1},      {CKA_EXTRACTABLE, (void *)&no, 1},
                        {CKA_DERIVE, (void *)&yes, 1},      {CKA_IBM_USE_AS_DATA, (void *)&yes, 1}};
    assert_int_equal(g11c_generate_key(c, &m, t, sizeof(t) / sizeof(t[0]), seed, &sum), CKR_OK);
    g11c_buf_free(&sum);
}

/* One DeriveKey with IBM's template (the same for every step). */
static CK_RV btc(g11c_conn *c, CK_ULONG type, uint64_t index, const g11c_buf *base,
                 const g11c_buf *chain, const uint8_t *oid, size_t ol, g11c_buf *key, g11c_buf *cc)
{
    CK_KEY_TYPE kt = CKK_EC;
    CK_ULONG zero = 0;
    CK_ATTRIBUTE t[] = {
        {CKA_VERIFY, (void *)&yes, 1},        {CKA_EXTRACTABLE, (void *)&no, 1},
        {CKA_DERIVE, (void *)&yes, 1},        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_VALUE_LEN, &zero, sizeof(zero)}, {CKA_IBM_USE_AS_DATA, (void *)&yes, 1},
        {CKA_EC_PARAMS, (void *)oid, ol}};
    g11c_mech m = {.type = CKM_IBM_BTC_DERIVE, .kind = G11C_PARAM_BTC};
    m.btc.type = type;
    m.btc.index = index;
    m.btc.chain_code = chain ? g11c_bytes_of(chain) : (g11c_bytes){NULL, 0};
    m.btc.version = 1;
    return g11c_derive_key(c, &m, t, sizeof(t) / sizeof(t[0]), g11c_bytes_of(base),
                           (g11c_bytes){NULL, 0}, key, cc);
}

/* The SPKI at the front of a MACed SPKI, as OpenSSL reads it. */
static EVP_PKEY *spki_key(const g11c_buf *pub)
{
    return testspki_key(pub->ptr, pub->len);
}

/* r || s (32 + 32) as OpenSSL's DER ECDSA-Sig-Value. */
static int ecdsa_verify(EVP_PKEY *k, const uint8_t *dgst, size_t dl, const g11c_buf *sig)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    unsigned char *der = NULL;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(k, NULL);
    int ok, dlen;
    assert_int_equal(sig->len, 64);
    assert_int_equal(
        ECDSA_SIG_set0(es, BN_bin2bn(sig->ptr, 32, NULL), BN_bin2bn(sig->ptr + 32, 32, NULL)), 1);
    dlen = i2d_ECDSA_SIG(es, &der);
    ok = EVP_PKEY_verify_init(c) == 1 && EVP_PKEY_verify(c, der, (size_t)dlen, dgst, dl) == 1;
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    EVP_PKEY_CTX_free(c);
    return ok;
}

static void bip32_sign_verify_with_public_derivation(void **state)
{
    test_fixture *f = *state;
    g11c_conn *c = f->conn;
    g11c_buf seed = {0}, m = {0}, mc = {0}, a = {0}, ac = {0}, apub = {0}, apc = {0}, b = {0},
             bc = {0}, bpub = {0}, bpc = {0}, sig = {0};
    uint8_t dgst[32];
    unsigned dlen = 0;
    g11c_mech ecdsa = {.type = CKM_ECDSA};

    seed_key(c, &seed);
    /* m, m/0', and m/0'/1 privately; M/0' by PRV2PUB; M/0'/1 by PUB2PUB. */
    assert_int_equal(
        btc(c, CK_IBM_BIP0032_MASTERK, 0, &seed, NULL, OID_K1, sizeof(OID_K1), &m, &mc), CKR_OK);
    assert_int_equal(mc.len, 32);
    assert_int_equal(
        btc(c, CK_IBM_BIP0032_PRV2PRV, H | 0, &m, &mc, OID_K1, sizeof(OID_K1), &a, &ac), CKR_OK);
    assert_int_equal(
        btc(c, CK_IBM_BIP0032_PRV2PUB, H | 0, &m, &mc, OID_K1, sizeof(OID_K1), &apub, &apc),
        CKR_OK);
    assert_memory_equal(ac.ptr, apc.ptr, 32);
    assert_int_equal(btc(c, CK_IBM_BIP0032_PRV2PRV, 1, &a, &ac, OID_K1, sizeof(OID_K1), &b, &bc),
                     CKR_OK);
    assert_int_equal(
        btc(c, CK_IBM_BIP0032_PUB2PUB, 1, &apub, &apc, OID_K1, sizeof(OID_K1), &bpub, &bpc),
        CKR_OK);
    assert_int_equal(bpc.len, 32);
    assert_memory_equal(bc.ptr, bpc.ptr, 32);

    /* m/0'/1 signs; OpenSSL verifies with M/0'/1 from public derivation. */
    assert_int_equal(EVP_Digest(MSG, sizeof(MSG) - 1, dgst, &dlen, EVP_sha256(), NULL), 1);
    assert_int_equal(g11c_sign_single(c, g11c_bytes_of(&b), &ecdsa, (g11c_bytes){dgst, 32}, &sig),
                     CKR_OK);
    EVP_PKEY *pk = spki_key(&bpub);
    assert_non_null(pk);
    assert_true(EVP_PKEY_is_a(pk, "EC"));
    assert_true(ecdsa_verify(pk, dgst, 32, &sig));
    /* And the server agrees; m/0' is not the signer. */
    assert_int_equal(g11c_verify_single(c, g11c_bytes_of(&bpub), &ecdsa, (g11c_bytes){dgst, 32},
                                        g11c_bytes_of(&sig)),
                     CKR_OK);
    assert_int_equal(g11c_verify_single(c, g11c_bytes_of(&apub), &ecdsa, (g11c_bytes){dgst, 32},
                                        g11c_bytes_of(&sig)),
                     CKR_SIGNATURE_INVALID);
    EVP_PKEY_free(pk);

    /* Bad values: CKR_MECHANISM_PARAM_INVALID. */
    g11c_buf k = {0}, kc = {0};
    assert_int_equal(
        btc(c, CK_IBM_BIP0032_PUB2PUB, H | 1, &apub, &apc, OID_K1, sizeof(OID_K1), &k, &kc),
        CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(btc(c, 0, 0, &m, &mc, OID_K1, sizeof(OID_K1), &k, &kc),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(btc(c, CK_IBM_BIP0032_PRV2PRV, 0, &m, &seed, OID_K1, sizeof(OID_K1), &k, &kc),
                     CKR_MECHANISM_PARAM_INVALID); /* a 'chain code' of the wrong length */

    g11c_buf bufs[] = {seed, m, mc, a, ac, apub, apc, b, bc, bpub, bpc, sig};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        g11c_buf_free(&bufs[i]);
}

static void slip10_ed25519_sign_verify(void **state)
{
    test_fixture *f = *state;
    g11c_conn *c = f->conn;
    g11c_buf seed = {0}, m = {0}, mc = {0}, a = {0}, ac = {0}, apub = {0}, apc = {0}, sig = {0},
             k = {0}, kc = {0};
    g11c_mech eddsa = {.type = CKM_EDDSA};
    EVP_MD_CTX *v = EVP_MD_CTX_new();

    seed_key(c, &seed);
    assert_int_equal(
        btc(c, CK_IBM_SLIP0010_MASTERK, 0, &seed, NULL, OID_ED, sizeof(OID_ED), &m, &mc), CKR_OK);
    assert_int_equal(
        btc(c, CK_IBM_SLIP0010_PRV2PRV, H | 44, &m, &mc, OID_ED, sizeof(OID_ED), &a, &ac), CKR_OK);
    assert_int_equal(
        btc(c, CK_IBM_SLIP0010_PRV2PUB, H | 44, &m, &mc, OID_ED, sizeof(OID_ED), &apub, &apc),
        CKR_OK);
    assert_memory_equal(ac.ptr, apc.ptr, 32);
    assert_int_equal(
        g11c_sign_single(c, g11c_bytes_of(&a), &eddsa, (g11c_bytes){MSG, sizeof(MSG) - 1}, &sig),
        CKR_OK);
    EVP_PKEY *pk = spki_key(&apub);
    assert_non_null(pk);
    assert_true(EVP_PKEY_is_a(pk, "ED25519"));
    assert_int_equal(EVP_DigestVerifyInit(v, NULL, NULL, NULL, pk), 1);
    assert_int_equal(EVP_DigestVerify(v, sig.ptr, sig.len, MSG, sizeof(MSG) - 1), 1);
    /* Ed25519: hardened derivation only. */
    assert_int_equal(btc(c, CK_IBM_SLIP0010_PRV2PRV, 1, &m, &mc, OID_ED, sizeof(OID_ED), &k, &kc),
                     CKR_MECHANISM_PARAM_INVALID);
    EVP_PKEY_free(pk);
    EVP_MD_CTX_free(v);
    g11c_buf bufs[] = {seed, m, mc, a, ac, apub, apc, sig};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        g11c_buf_free(&bufs[i]);
}

static void mechanism_listed_with_true_flags(void **state)
{
    test_fixture *f = *state;
    CK_MECHANISM_INFO mi;
    assert_int_equal(test_mechanism_listed(f->conn, CKM_IBM_BTC_DERIVE, &mi), 1);
    assert_true(mi.flags & CKF_DERIVE);
    assert_false(mi.flags & (CKF_SIGN | CKF_VERIFY | CKF_ENCRYPT | CKF_GENERATE_KEY_PAIR));
    assert_int_equal(mi.ulMinKeySize, 255);
    assert_int_equal(mi.ulMaxKeySize, 256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bip32_sign_verify_with_public_derivation),
        cmocka_unit_test(slip10_ed25519_sign_verify),
        cmocka_unit_test(mechanism_listed_with_true_flags),
    };
    return cmocka_run_group_tests(tests, test_fixture_setup, test_fixture_teardown);
}
