/* CKM_IBM_BTC_DERIVE through pkcs11-grep11.so against a real grep11d, with
 * IBM's CK_IBM_BTC_DERIVE_PARAMS as its pkcs11-btc.c sample passes them:
 * the chain code of each derived key is read back as its CKA_CHECK_VALUE
 * (32 bytes) and passed on. A known answer (BIP-0032 test vector 1, m and
 * m/0H), the sample's flow (master, private and public children, C_Sign /
 * C_Verify with CKM_ECDSA), public -> public derivation, and the module's
 * parameter checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grep11/ck_ext.h"
#include "p11test.h"

static CK_BBOOL yes = CK_TRUE;
static CK_BYTE secp256k1[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a};
#define H 0x80000000UL

/* BIP-0032 test vector 1 (tests/vectors/bip32: the same values, decoded). */
static const CK_BYTE SEED1[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const CK_BYTE M_CHAIN[32] = {
    0x87, 0x3d, 0xff, 0x81, 0xc0, 0x2f, 0x52, 0x56, 0x23, 0xfd, 0x1f, 0xe5, 0x16, 0x7e, 0xac, 0x3a,
    0x55, 0xa0, 0x49, 0xde, 0x3d, 0x31, 0x4b, 0xb4, 0x2e, 0xe2, 0x27, 0xff, 0xed, 0x37, 0xd5, 0x08};
static const CK_BYTE M0H_CHAIN[32] = {
    0x47, 0xfd, 0xac, 0xbd, 0x0f, 0x10, 0x97, 0x04, 0x3b, 0x78, 0xc6, 0x3c, 0x20, 0xc3, 0x4e, 0xf4,
    0xed, 0x9a, 0x11, 0x1d, 0x98, 0x00, 0x47, 0xad, 0x16, 0x28, 0x2c, 0x7a, 0xe6, 0x23, 0x61, 0x41};
static const CK_BYTE M0H_PUB[33] = {0x03, 0x5a, 0x78, 0x46, 0x62, 0xa4, 0xa2, 0x0a, 0x65,
                                    0xbf, 0x6a, 0xab, 0x9a, 0xe9, 0x8a, 0x6c, 0x06, 0x8a,
                                    0x81, 0xc5, 0x2e, 0x4b, 0x03, 0x2c, 0x0f, 0xb5, 0x40,
                                    0x0c, 0x70, 0x6c, 0xfc, 0xcc, 0x56};

/* C_DeriveKey as pkcs11-btc.c calls it (CKA_CLASS given, CKA_VALUE_LEN 0). */
static CK_RV btc(p11t_fx *f, CK_ULONG type, CK_ULONG index, CK_OBJECT_HANDLE base, CK_BYTE *cc,
                 CK_ULONG cclen, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *out)
{
    CK_KEY_TYPE kt = CKK_EC;
    CK_ULONG zero = 0;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_DERIVE, &yes, sizeof(yes)},
                        {CKA_EC_PARAMS, secp256k1, sizeof(secp256k1)},
                        {CKA_IBM_USE_AS_DATA, &yes, sizeof(yes)},
                        {CKA_VALUE_LEN, &zero, sizeof(zero)},
                        {cls == CKO_PUBLIC_KEY ? CKA_VERIFY : CKA_SIGN, &yes, sizeof(yes)}};
    CK_IBM_BTC_DERIVE_PARAMS p = {type, index, cc, cclen, CK_IBM_BTC_DERIVE_PARAMS_VERSION_1};
    CK_MECHANISM m = {CKM_IBM_BTC_DERIVE, &p, sizeof(p)};
    return f->t.f->C_DeriveKey(f->s, &m, base, t, sizeof(t) / sizeof(t[0]), out);
}

/* The chain code, where IBM's sample reads it. */
static void chain_of(p11t_fx *f, CK_OBJECT_HANDLE h, CK_BYTE out[32])
{
    CK_ATTRIBUTE a = {CKA_CHECK_VALUE, out, 32};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, h, &a, 1), CKR_OK);
    assert_int_equal(a.ulValueLen, 32);
}

static CK_OBJECT_HANDLE seed_object(p11t_fx *f, const CK_BYTE *v, CK_ULONG len)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_VALUE, (void *)v, len},
                        {CKA_DERIVE, &yes, sizeof(yes)},
                        {CKA_IBM_USE_AS_DATA, &yes, sizeof(yes)}};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    assert_int_equal(f->t.f->C_CreateObject(f->s, t, sizeof(t) / sizeof(t[0]), &h), CKR_OK);
    return h;
}

/* CKA_EC_POINT (DER OCTET STRING of the uncompressed point) as serP. */
static void serp_of(p11t_fx *f, CK_OBJECT_HANDLE h, CK_BYTE out[33])
{
    CK_BYTE pt[80];
    CK_ATTRIBUTE a = {CKA_EC_POINT, pt, sizeof(pt)};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, h, &a, 1), CKR_OK);
    assert_int_equal(a.ulValueLen, 67);
    assert_int_equal(pt[0], 0x04);
    assert_int_equal(pt[1], 65);
    assert_int_equal(pt[2], 0x04);
    out[0] = (CK_BYTE)(2 | (pt[66] & 1));
    memcpy(out + 1, pt + 3, 32);
}

static void known_answer(void **state)
{
    p11t_fx *f = *state;
    CK_OBJECT_HANDLE seed = seed_object(f, SEED1, sizeof(SEED1)), m, pub, pub2;
    CK_BYTE cc[32], cc2[32], serp[33];
    CK_BYTE none[32] = {0};
    CK_OBJECT_CLASS kcls = 0;
    CK_ATTRIBUTE ca = {CKA_CLASS, &kcls, sizeof(kcls)};

    /* MASTERK as the sample sends it: a chain-code buffer of length 0. */
    assert_int_equal(btc(f, CK_IBM_BIP0032_MASTERK, 0, seed, none, 0, CKO_PRIVATE_KEY, &m), CKR_OK);
    chain_of(f, m, cc);
    assert_memory_equal(cc, M_CHAIN, 32);
    /* M/0H without a class in the template: the mechanism says public. */
    {
        CK_KEY_TYPE kt = CKK_EC;
        CK_ATTRIBUTE t[] = {{CKA_KEY_TYPE, &kt, sizeof(kt)},
                            {CKA_EC_PARAMS, secp256k1, sizeof(secp256k1)},
                            {CKA_VERIFY, &yes, sizeof(yes)},
                            {CKA_DERIVE, &yes, sizeof(yes)}};
        CK_IBM_BTC_DERIVE_PARAMS p = {CK_IBM_BIP0032_PRV2PUB, H | 0, cc, 32, 1};
        CK_MECHANISM mech = {CKM_IBM_BTC_DERIVE, &p, sizeof(p)};
        assert_int_equal(f->t.f->C_DeriveKey(f->s, &mech, m, t, 4, &pub), CKR_OK);
    }
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, pub, &ca, 1), CKR_OK);
    assert_int_equal(kcls, CKO_PUBLIC_KEY);
    chain_of(f, pub, cc2);
    assert_memory_equal(cc2, M0H_CHAIN, 32);
    serp_of(f, pub, serp);
    assert_memory_equal(serp, M0H_PUB, 33);
    /* The same from the class-giving template. */
    assert_int_equal(btc(f, CK_IBM_BIP0032_PRV2PUB, H | 0, m, cc, 32, CKO_PUBLIC_KEY, &pub2),
                     CKR_OK);
    serp_of(f, pub2, serp);
    assert_memory_equal(serp, M0H_PUB, 33);
    assert_int_equal(f->t.f->C_DestroyObject(f->s, pub2), CKR_OK);
    assert_int_equal(f->t.f->C_DestroyObject(f->s, pub), CKR_OK);
    assert_int_equal(f->t.f->C_DestroyObject(f->s, m), CKR_OK);
    assert_int_equal(f->t.f->C_DestroyObject(f->s, seed), CKR_OK);
}

/* pkcs11-btc.c's flow, with the chain codes read as CKA_CHECK_VALUE. */
static void sample_flow(void **state)
{
    p11t_fx *f = *state;
    CK_ULONG len = 32;
    CK_OBJECT_CLASS sc = CKO_SECRET_KEY;
    CK_KEY_TYPE gk = CKK_GENERIC_SECRET;
    CK_ATTRIBUTE gt[] = {{CKA_CLASS, &sc, sizeof(sc)},
                         {CKA_KEY_TYPE, &gk, sizeof(gk)},
                         {CKA_VALUE_LEN, &len, sizeof(len)},
                         {CKA_DERIVE, &yes, sizeof(yes)},
                         {CKA_IBM_USE_AS_DATA, &yes, sizeof(yes)}};
    CK_MECHANISM gen = {CKM_GENERIC_SECRET_KEY_GEN, NULL, 0}, ecdsa = {CKM_ECDSA, NULL, 0};
    CK_OBJECT_HANDLE seed, master, priv, pub, cpriv, cpub, ppub;
    CK_BYTE mcc[32], pcc[32], ccc[32], qcc[32], zero[32] = {0}, sig[64];
    CK_BYTE data[] = "This is data to be signed";
    CK_ULONG sl = sizeof(sig);

    assert_int_equal(f->t.f->C_GenerateKey(f->s, &gen, gt, 5, &seed), CKR_OK);
    assert_int_equal(btc(f, CK_IBM_BIP0032_MASTERK, 0, seed, zero, 0, CKO_PRIVATE_KEY, &master),
                     CKR_OK);
    chain_of(f, master, mcc);
    assert_int_equal(btc(f, CK_IBM_BIP0032_PRV2PRV, 0, master, mcc, 32, CKO_PRIVATE_KEY, &priv),
                     CKR_OK);
    assert_int_equal(btc(f, CK_IBM_BIP0032_PRV2PUB, 0, master, mcc, 32, CKO_PUBLIC_KEY, &pub),
                     CKR_OK);
    chain_of(f, priv, pcc);
    chain_of(f, pub, ccc);
    assert_memory_equal(pcc, ccc, 32);
    assert_int_equal(f->t.f->C_SignInit(f->s, &ecdsa, priv), CKR_OK);
    assert_int_equal(f->t.f->C_Sign(f->s, data, sizeof(data) - 1, sig, &sl), CKR_OK);
    assert_int_equal(f->t.f->C_VerifyInit(f->s, &ecdsa, pub), CKR_OK);
    assert_int_equal(f->t.f->C_Verify(f->s, data, sizeof(data) - 1, sig, sl), CKR_OK);
    /* Children of the child: privately, and public -> public from pub. */
    assert_int_equal(btc(f, CK_IBM_BIP0032_PRV2PRV, 7, priv, pcc, 32, CKO_PRIVATE_KEY, &cpriv),
                     CKR_OK);
    assert_int_equal(btc(f, CK_IBM_BIP0032_PRV2PUB, 7, priv, pcc, 32, CKO_PUBLIC_KEY, &cpub),
                     CKR_OK);
    assert_int_equal(btc(f, CK_IBM_BIP0032_PUB2PUB, 7, pub, ccc, 32, CKO_PUBLIC_KEY, &ppub),
                     CKR_OK);
    chain_of(f, ppub, qcc);
    chain_of(f, cpub, ccc);
    assert_memory_equal(qcc, ccc, 32);
    sl = sizeof(sig);
    assert_int_equal(f->t.f->C_SignInit(f->s, &ecdsa, cpriv), CKR_OK);
    assert_int_equal(f->t.f->C_Sign(f->s, data, sizeof(data) - 1, sig, &sl), CKR_OK);
    assert_int_equal(f->t.f->C_VerifyInit(f->s, &ecdsa, ppub), CKR_OK);
    assert_int_equal(f->t.f->C_Verify(f->s, data, sizeof(data) - 1, sig, sl), CKR_OK);
    /* The parent's public key does not verify the child's signature. */
    assert_int_equal(f->t.f->C_VerifyInit(f->s, &ecdsa, pub), CKR_OK);
    assert_int_equal(f->t.f->C_Verify(f->s, data, sizeof(data) - 1, sig, sl),
                     CKR_SIGNATURE_INVALID);
}

static void parameter_checks(void **state)
{
    p11t_fx *f = *state;
    CK_OBJECT_HANDLE seed = seed_object(f, SEED1, sizeof(SEED1)), m, k = CK_INVALID_HANDLE;
    CK_BYTE cc[32], none[32] = {0};
    CK_IBM_BTC_DERIVE_PARAMS p = {CK_IBM_BIP0032_PRV2PRV, 0, cc, 32, 1};
    CK_MECHANISM mech = {CKM_IBM_BTC_DERIVE, &p, sizeof(p) - 1};
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof(cls)};
    CK_MECHANISM_INFO mi;

    assert_int_equal(btc(f, CK_IBM_BIP0032_MASTERK, 0, seed, none, 0, CKO_PRIVATE_KEY, &m), CKR_OK);
    chain_of(f, m, cc);
    /* The struct's size, a chain code without a pointer, values. */
    assert_int_equal(f->t.f->C_DeriveKey(f->s, &mech, m, &t, 1, &k), CKR_MECHANISM_PARAM_INVALID);
    mech.ulParameterLen = sizeof(p);
    p.pChainCode = NULL;
    assert_int_equal(f->t.f->C_DeriveKey(f->s, &mech, m, &t, 1, &k), CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(btc(f, CK_IBM_BIP0032_PRV2PRV, 0, m, cc, 31, CKO_PRIVATE_KEY, &k),
                     CKR_MECHANISM_PARAM_INVALID);
    assert_int_equal(btc(f, 42, 0, m, cc, 32, CKO_PRIVATE_KEY, &k), CKR_MECHANISM_PARAM_INVALID);
    p.pChainCode = cc;
    p.version = 0;
    assert_int_equal(f->t.f->C_DeriveKey(f->s, &mech, m, &t, 1, &k), CKR_MECHANISM_PARAM_INVALID);
    /* A class the variant does not make. */
    assert_int_equal(btc(f, CK_IBM_BIP0032_PRV2PRV, 0, m, cc, 32, CKO_PUBLIC_KEY, &k),
                     CKR_TEMPLATE_INCONSISTENT);
    assert_int_equal(k, CK_INVALID_HANDLE);
    assert_int_equal(f->t.f->C_GetMechanismInfo(0, CKM_IBM_BTC_DERIVE, &mi), CKR_OK);
    assert_true(mi.flags & CKF_DERIVE);
    assert_int_equal(mi.ulMinKeySize, 255);
    assert_int_equal(mi.ulMaxKeySize, 256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_answer),
        cmocka_unit_test(sample_flow),
        cmocka_unit_test(parameter_checks),
    };
    return cmocka_run_group_tests(tests, p11t_fx_setup, p11t_teardown);
}
