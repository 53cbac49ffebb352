/* CKM_IBM_ECDSA_OTHER (EC-Schnorr) through pkcs11-grep11.so against a real
 * grep11d, with openCryptoki's CK_IBM_ECDSA_OTHER_PARAMS: C_Sign/C_Verify
 * and Update/Final for both submechanisms on secp256k1 and P-256, every
 * signature checked outside the module (libsecp256k1, the Python
 * reference) from the key's CKA_EC_POINT; then the parameter rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grep11/ck_ext.h"
#include "p11test.h"
#include "schnorr_ref.h"

static CK_BBOOL yes = CK_TRUE;
static CK_BYTE OID_K1[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a};
static CK_BYTE OID_P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const CK_MECHANISM_TYPE SUBS[] = {CKM_IBM_ECSDSA_RAND, CKM_IBM_ECSDSA_COMPR_MULTI};
#define MSG_LEN 5000

static void pair(p11t_fx *f, CK_BYTE *oid, CK_ULONG ol, CK_OBJECT_HANDLE *pub,
                 CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM m = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pt[] = {{CKA_EC_PARAMS, oid, ol}, {CKA_VERIFY, &yes, sizeof(yes)}};
    CK_ATTRIBUTE st[] = {{CKA_SIGN, &yes, sizeof(yes)}};
    assert_int_equal(f->t.f->C_GenerateKeyPair(f->s, &m, pt, 2, st, 1, pub, priv), CKR_OK);
}

/* CKA_EC_POINT (DER OCTET STRING) -> the uncompressed point. */
static void point_of(p11t_fx *f, CK_OBJECT_HANDLE h, CK_BYTE out[65])
{
    CK_BYTE pt[80];
    CK_ATTRIBUTE a = {CKA_EC_POINT, pt, sizeof(pt)};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, h, &a, 1), CKR_OK);
    assert_int_equal(a.ulValueLen, 67);
    assert_int_equal(pt[2], 0x04);
    memcpy(out, pt + 2, 65);
}

static void sign_parts(p11t_fx *f, CK_MECHANISM *m, CK_OBJECT_HANDLE priv, CK_BYTE *msg,
                       CK_BYTE sig[64])
{
    CK_ULONG sl = 64;
    assert_int_equal(f->t.f->C_SignInit(f->s, m, priv), CKR_OK);
    assert_int_equal(f->t.f->C_SignUpdate(f->s, msg, 1000), CKR_OK);
    assert_int_equal(f->t.f->C_SignUpdate(f->s, msg + 1000, MSG_LEN - 1000), CKR_OK);
    assert_int_equal(f->t.f->C_SignFinal(f->s, sig, &sl), CKR_OK);
    assert_int_equal(sl, 64);
}

static CK_RV verify_parts(p11t_fx *f, CK_MECHANISM *m, CK_OBJECT_HANDLE pub, CK_BYTE *msg,
                          CK_BYTE sig[64])
{
    CK_RV rv = f->t.f->C_VerifyInit(f->s, m, pub);
    if (rv == CKR_OK)
        rv = f->t.f->C_VerifyUpdate(f->s, msg, 2500);
    if (rv == CKR_OK)
        rv = f->t.f->C_VerifyUpdate(f->s, msg + 2500, MSG_LEN - 2500);
    if (rv == CKR_OK)
        rv = f->t.f->C_VerifyFinal(f->s, sig, 64);
    return rv;
}

static void run_curve(p11t_fx *f, const char *curve, CK_BYTE *oid, CK_ULONG ol)
{
    CK_OBJECT_HANDLE pub, priv;
    CK_BYTE msg[MSG_LEN], point[65], sig[64], sig2[64];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (CK_BYTE)(i * 31 + 7);
    pair(f, oid, ol, &pub, &priv);
    point_of(f, pub, point);
    for (size_t v = 0; v < 2; v++) {
        CK_IBM_ECDSA_OTHER_PARAMS p = {SUBS[v]};
        CK_MECHANISM m = {CKM_IBM_ECDSA_OTHER, &p, sizeof(p)};
        CK_ULONG sl = 0;
        /* C_Sign with the length query first, as applications do. */
        assert_int_equal(f->t.f->C_SignInit(f->s, &m, priv), CKR_OK);
        assert_int_equal(f->t.f->C_Sign(f->s, msg, MSG_LEN, NULL, &sl), CKR_OK);
        assert_int_equal(sl, 64);
        assert_int_equal(f->t.f->C_Sign(f->s, msg, MSG_LEN, sig, &sl), CKR_OK);
        sign_parts(f, &m, priv, msg, sig2);
        for (int k = 0; k < 2; k++) {
            CK_BYTE *s = k ? sig2 : sig;
            assert_int_equal(sref_py_verify(curve, SUBS[v], point, msg, MSG_LEN, s), 1);
            if (strcmp(curve, "secp256k1") == 0)
                assert_int_equal(sref_k1_verify(SUBS[v], point, msg, MSG_LEN, s), 1);
            assert_int_equal(f->t.f->C_VerifyInit(f->s, &m, pub), CKR_OK);
            assert_int_equal(f->t.f->C_Verify(f->s, msg, MSG_LEN, s, 64), CKR_OK);
            assert_int_equal(verify_parts(f, &m, pub, msg, s), CKR_OK);
        }
        sig[10] ^= 0x08;
        assert_int_equal(f->t.f->C_VerifyInit(f->s, &m, pub), CKR_OK);
        assert_int_equal(f->t.f->C_Verify(f->s, msg, MSG_LEN, sig, 64), CKR_SIGNATURE_INVALID);
        assert_int_equal(verify_parts(f, &m, pub, msg, sig), CKR_SIGNATURE_INVALID);
    }
}

static void sign_verify_secp256k1(void **state)
{
    run_curve(*state, "secp256k1", OID_K1, sizeof(OID_K1));
}

static void sign_verify_p256(void **state)
{
    run_curve(*state, "P-256", OID_P256, sizeof(OID_P256));
}

static void parameter_rules(void **state)
{
    p11t_fx *f = *state;
    CK_OBJECT_HANDLE pub, priv;
    CK_IBM_ECDSA_OTHER_PARAMS p = {ECSG_IBM_BLS};
    CK_MECHANISM m = {CKM_IBM_ECDSA_OTHER, &p, sizeof(p)};
    CK_BYTE msg[3] = {'a', 'b', 'c'}, sig[64];
    CK_ULONG sl = sizeof(sig), small = CKM_IBM_ECSDSA_RAND;
    pair(f, OID_K1, sizeof(OID_K1), &pub, &priv);
    /* BLS: the server's answer, at C_SignInit (the module keeps no state
     * of its own for it) or at the latest at C_Sign. */
    CK_RV rv = f->t.f->C_SignInit(f->s, &m, priv);
    if (rv == CKR_OK)
        rv = f->t.f->C_Sign(f->s, msg, 3, sig, &sl);
    assert_int_equal(rv, CKR_MECHANISM_INVALID);
    /* No parameter, or one of another size. */
    m.pParameter = NULL;
    m.ulParameterLen = 0;
    assert_int_equal(f->t.f->C_SignInit(f->s, &m, priv), CKR_MECHANISM_PARAM_INVALID);
    m.pParameter = &small;
    m.ulParameterLen = sizeof(small) - 4;
    assert_int_equal(f->t.f->C_VerifyInit(f->s, &m, pub), CKR_MECHANISM_PARAM_INVALID);
    /* A key of another type. */
    {
        CK_OBJECT_HANDLE rpub, rpriv;
        CK_MECHANISM g = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
        CK_ULONG bits = 2048;
        CK_ATTRIBUTE pt[] = {{CKA_MODULUS_BITS, &bits, sizeof(bits)}};
        CK_ATTRIBUTE st[] = {{CKA_SIGN, &yes, sizeof(yes)}};
        p.submechanism = CKM_IBM_ECSDSA_COMPR_MULTI;
        m.pParameter = &p;
        m.ulParameterLen = sizeof(p);
        assert_int_equal(f->t.f->C_GenerateKeyPair(f->s, &g, pt, 1, st, 1, &rpub, &rpriv), CKR_OK);
        assert_int_equal(f->t.f->C_SignInit(f->s, &m, rpriv), CKR_KEY_TYPE_INCONSISTENT);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sign_verify_secp256k1),
        cmocka_unit_test(sign_verify_p256),
        cmocka_unit_test(parameter_rules),
    };
    return cmocka_run_group_tests(tests, p11t_fx_setup, p11t_teardown);
}
