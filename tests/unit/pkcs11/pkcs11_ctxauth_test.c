/* Context-specific login through pkcs11-grep11.so against a real grep11d:
 * a private key with CKA_ALWAYS_AUTHENTICATE=TRUE signs only after
 * C_Login(CKU_CONTEXT_SPECIFIC) with the logged-in user's API key, once per
 * operation; C_Sign without it is CKR_USER_NOT_LOGGED_IN and ends the
 * operation. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../src/pkcs11/p11_ck3.h"
#include "p11test.h"

typedef p11t_fx fx;

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static const CK_BYTE P256_OID[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static CK_BYTE msg[] = "sign this only after the PIN was given again";

static CK_RV ctx_login(fx *f, CK_SESSION_HANDLE s, const char *pin)
{
    return f->t.f->C_Login(s, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR *)pin, strlen(pin));
}

static void ec_pair(fx *f, int always, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pt[] = {{CKA_EC_PARAMS, (void *)P256_OID, sizeof(P256_OID)},
                         {CKA_VERIFY, (void *)&yes, sizeof(yes)}};
    CK_ATTRIBUTE vt[] = {{CKA_SIGN, (void *)&yes, sizeof(yes)},
                         {CKA_ALWAYS_AUTHENTICATE, (void *)(always ? &yes : &no), sizeof(yes)}};
    assert_int_equal(f->t.f->C_GenerateKeyPair(f->s, &gen, pt, 2, vt, 2, pub, priv), CKR_OK);
}

static CK_RV sign(fx *f, CK_SESSION_HANDLE s, CK_BYTE *sig, CK_ULONG *len)
{
    *len = 128;
    return f->t.f->C_Sign(s, msg, sizeof(msg) - 1, sig, len);
}

static void verify(fx *f, CK_OBJECT_HANDLE pub, CK_BYTE *sig, CK_ULONG len)
{
    CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
    assert_int_equal(f->t.f->C_VerifyInit(f->s, &m, pub), CKR_OK);
    assert_int_equal(f->t.f->C_Verify(f->s, msg, sizeof(msg) - 1, sig, len), CKR_OK);
}

static void always_authenticate(void **state)
{
    fx *f = *state;
    CK_MECHANISM m = {CKM_ECDSA_SHA256, NULL, 0};
    CK_OBJECT_HANDLE pub, priv, pub2, priv2;
    CK_BYTE sig[128];
    CK_ULONG len;
    const char *pin = f->t.apikey;

    /* The public half cannot have it. */
    CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE badpt[] = {{CKA_EC_PARAMS, (void *)P256_OID, sizeof(P256_OID)},
                            {CKA_ALWAYS_AUTHENTICATE, (void *)&yes, sizeof(yes)}};
    CK_ATTRIBUTE vt[] = {{CKA_SIGN, (void *)&yes, sizeof(yes)}};
    assert_int_equal(f->t.f->C_GenerateKeyPair(f->s, &gen, badpt, 2, vt, 1, &pub, &priv),
                     CKR_ATTRIBUTE_VALUE_INVALID);

    /* Without the normal user logged in there is nobody to re-authenticate. */
    ec_pair(f, 1, &pub, &priv);
    CK_BBOOL aa = CK_FALSE;
    CK_ATTRIBUTE a = {CKA_ALWAYS_AUTHENTICATE, &aa, sizeof(aa)};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, priv, &a, 1), CKR_OK);
    assert_int_equal(aa, CK_TRUE);
    assert_int_equal(f->t.f->C_SignInit(f->s, &m, priv), CKR_OK);
    assert_int_equal(ctx_login(f, f->s, pin), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(sign(f, f->s, sig, &len), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(sign(f, f->s, sig, &len), CKR_OPERATION_NOT_INITIALIZED); /* it ended */

    assert_int_equal(f->t.f->C_Login(f->s, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin)), CKR_OK);
    assert_int_equal(ctx_login(f, f->s, pin), CKR_OPERATION_NOT_INITIALIZED); /* no operation */
    ec_pair(f, 1, &pub2, &priv2); /* a private key of the user's */

    /* Wrong PINs: not a key, another principal's valid key. */
    char other[256];
    const char *roles[] = {"crypto"};
    assert_int_equal(p11t_api_key(&f->t, "other-user", roles, 1, NULL, 0, other, sizeof(other)), 0);
    assert_int_equal(f->t.f->C_SignInit(f->s, &m, priv2), CKR_OK);
    assert_int_equal(ctx_login(f, f->s, "g11k_AAAAAAAAAAAAAAAA.nope"), CKR_PIN_INCORRECT);
    assert_int_equal(ctx_login(f, f->s, other), CKR_PIN_INCORRECT);
    assert_int_equal(f->t.f->C_Login(f->s, CKU_CONTEXT_SPECIFIC, NULL, 3), CKR_ARGUMENTS_BAD);
    /* The operation is still there; the right PIN lets it sign once. */
    assert_int_equal(ctx_login(f, f->s, pin), CKR_OK);
    assert_int_equal(sign(f, f->s, sig, &len), CKR_OK);
    verify(f, pub2, sig, len);
    assert_int_equal(f->t.f->C_SignInit(f->s, &m, priv2), CKR_OK);
    assert_int_equal(sign(f, f->s, sig, &len), CKR_USER_NOT_LOGGED_IN);

    /* A length query keeps the operation and its login. */
    assert_int_equal(f->t.f->C_SignInit(f->s, &m, priv), CKR_OK);
    assert_int_equal(ctx_login(f, f->s, pin), CKR_OK);
    len = 0;
    assert_int_equal(f->t.f->C_Sign(f->s, msg, sizeof(msg) - 1, NULL, &len), CKR_OK);
    assert_int_equal(sign(f, f->s, sig, &len), CKR_OK);
    verify(f, pub, sig, len);

    /* Multi-part: one login for Init..Final. */
    assert_int_equal(f->t.f->C_SignInit(f->s, &m, priv2), CKR_OK);
    assert_int_equal(ctx_login(f, f->s, pin), CKR_OK);
    assert_int_equal(f->t.f->C_SignUpdate(f->s, msg, 10), CKR_OK);
    assert_int_equal(f->t.f->C_SignUpdate(f->s, msg + 10, sizeof(msg) - 11), CKR_OK);
    len = sizeof(sig);
    assert_int_equal(f->t.f->C_SignFinal(f->s, sig, &len), CKR_OK);
    verify(f, pub2, sig, len);

    /* A restored operation asks again. */
    CK_BYTE st[8192];
    CK_ULONG stlen = sizeof(st);
    assert_int_equal(f->t.f->C_SignInit(f->s, &m, priv2), CKR_OK);
    assert_int_equal(ctx_login(f, f->s, pin), CKR_OK);
    assert_int_equal(f->t.f->C_SignUpdate(f->s, msg, 10), CKR_OK);
    assert_int_equal(f->t.f->C_GetOperationState(f->s, st, &stlen), CKR_OK);
    CK_SESSION_HANDLE s2 = p11t_session(&f->t, 0, 0);
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, stlen, 0, 0), CKR_OK);
    assert_int_equal(f->t.f->C_SignUpdate(s2, msg + 10, 5), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, stlen, 0, 0), CKR_OK);
    assert_int_equal(ctx_login(f, s2, pin), CKR_OK);
    assert_int_equal(f->t.f->C_SignUpdate(s2, msg + 10, sizeof(msg) - 11), CKR_OK);
    len = sizeof(sig);
    assert_int_equal(f->t.f->C_SignFinal(s2, sig, &len), CKR_OK);
    verify(f, pub2, sig, len);
    assert_int_equal(f->t.f->C_CloseSession(s2), CKR_OK);
    len = sizeof(sig);
    assert_int_equal(f->t.f->C_SignFinal(f->s, sig, &len), CKR_OK);

    /* Keys without the attribute need no context login and refuse one. */
    ec_pair(f, 0, &pub, &priv);
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, priv, &a, 1), CKR_OK);
    assert_int_equal(aa, CK_FALSE);
    assert_int_equal(f->t.f->C_SignInit(f->s, &m, priv), CKR_OK);
    assert_int_equal(ctx_login(f, f->s, pin), CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(sign(f, f->s, sig, &len), CKR_OK);
    verify(f, pub, sig, len);
    assert_int_equal(f->t.f->C_Logout(f->s), CKR_OK);
}

/* CKA_ALWAYS_AUTHENTICATE only turns on: neither C_SetAttributeValue nor a
 * copy takes the protection away. */
static void always_authenticate_sticks(void **state)
{
    fx *f = *state;
    CK_OBJECT_HANDLE pub, priv, copy = CK_INVALID_HANDLE;
    CK_ATTRIBUTE off = {CKA_ALWAYS_AUTHENTICATE, (void *)&no, sizeof(no)};
    CK_ATTRIBUTE on = {CKA_ALWAYS_AUTHENTICATE, (void *)&yes, sizeof(yes)};
    assert_int_equal(
        f->t.f->C_Login(f->s, CKU_USER, (CK_UTF8CHAR *)f->t.apikey, strlen(f->t.apikey)), CKR_OK);
    ec_pair(f, 1, &pub, &priv);
    assert_int_equal(f->t.f->C_SetAttributeValue(f->s, priv, &off, 1), CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(f->t.f->C_CopyObject(f->s, priv, &off, 1, &copy), CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(copy, CK_INVALID_HANDLE);
    assert_int_equal(f->t.f->C_SetAttributeValue(f->s, priv, &on, 1), CKR_OK);
    ec_pair(f, 0, &pub, &priv);
    assert_int_equal(f->t.f->C_SetAttributeValue(f->s, priv, &on, 1), CKR_OK);
    assert_int_equal(f->t.f->C_Logout(f->s), CKR_OK);
}

/* 3.0 C_LoginUser: the configured user name ("user" in p11test's
 * configuration) or none; C_SessionCancel ends a search too. */
static void login_user_and_cancel(void **state)
{
    fx *f = *state;
    P11_C_LoginUser login_user;
    P11_C_SessionCancel cancel;
    *(void **)&login_user = dlsym(f->t.dl, "C_LoginUser");
    *(void **)&cancel = dlsym(f->t.dl, "C_SessionCancel");
    CK_UTF8CHAR *pin = (CK_UTF8CHAR *)f->t.apikey;
    CK_ULONG plen = strlen(f->t.apikey);
    CK_SESSION_INFO si;

    assert_int_equal(login_user(f->s, CKU_USER, pin, plen, (CK_UTF8CHAR *)"someone", 7),
                     CKR_PIN_INCORRECT);
    assert_int_equal(login_user(f->s, CKU_USER, pin, plen, NULL, 4), CKR_ARGUMENTS_BAD);
    assert_int_equal(f->t.f->C_GetSessionInfo(f->s, &si), CKR_OK);
    assert_int_equal(si.state, CKS_RW_PUBLIC_SESSION);
    assert_int_equal(login_user(f->s, CKU_USER, pin, plen, (CK_UTF8CHAR *)"user", 4), CKR_OK);
    assert_int_equal(f->t.f->C_GetSessionInfo(f->s, &si), CKR_OK);
    assert_int_equal(si.state, CKS_RW_USER_FUNCTIONS);
    assert_int_equal(f->t.f->C_Logout(f->s), CKR_OK);
    assert_int_equal(login_user(f->s, CKU_USER, pin, plen, NULL, 0), CKR_OK);
    assert_int_equal(f->t.f->C_Logout(f->s), CKR_OK);

    CK_OBJECT_HANDLE h[4];
    CK_ULONG n = 0;
    assert_int_equal(f->t.f->C_FindObjectsInit(f->s, NULL, 0), CKR_OK);
    assert_int_equal(f->t.f->C_FindObjectsInit(f->s, NULL, 0), CKR_OPERATION_ACTIVE);
    assert_int_equal(cancel(f->s, CKF_FIND_OBJECTS), CKR_OK);
    assert_int_equal(f->t.f->C_FindObjects(f->s, h, 4, &n), CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(f->t.f->C_FindObjectsInit(f->s, NULL, 0), CKR_OK);
    assert_int_equal(f->t.f->C_FindObjectsFinal(f->s), CKR_OK);
    /* Nothing under way: cancelling is a no-op. */
    assert_int_equal(cancel(f->s, CKF_SIGN | CKF_GENERATE | CKF_FIND_OBJECTS), CKR_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(always_authenticate),
        cmocka_unit_test(always_authenticate_sticks),
        cmocka_unit_test(login_user_and_cancel),
    };
    return cmocka_run_group_tests(tests, p11t_fx_setup, p11t_teardown);
}
