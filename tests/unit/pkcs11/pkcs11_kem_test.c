/* PKCS #11 3.2 through pkcs11-grep11.so against a real grep11d: the three
 * "PKCS 11" interfaces (3.2, 3.0, 2.40) and C_EncapsulateKey /
 * C_DecapsulateKey with ML-KEM-768 (and IBM Kyber-768 in its DeriveKey
 * form): both sides get the same key, a tampered ciphertext gives another
 * one (implicit rejection), the buffer protocol creates no key, and
 * wrong sizes, key classes and placements give their CKR_. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../../src/pkcs11/p11_ck3.h"
#include "grep11/ck_ext.h"
#include "p11test.h"

typedef struct {
    p11t t;
    P11_FUNCTION_LIST_3_2 *f32;
    CK_SESSION_HANDLE s;
} fx;

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    CK_RV (*get)(CK_UTF8CHAR *, CK_VERSION *, P11_CK_INTERFACE **, CK_FLAGS);
    P11_CK_INTERFACE *iface = NULL;
    CK_VERSION v32 = {3, 2};
    *state = f;
    if (!f || p11t_start(&f->t) != 0)
        return -1;
    *(void **)&get = dlsym(f->t.dl, "C_GetInterface");
    if (!get || get((CK_UTF8CHAR *)"PKCS 11", &v32, &iface, 0) != CKR_OK)
        return -1;
    f->f32 = iface->pFunctionList;
    f->s = p11t_session(&f->t, 0, 1);
    return 0;
}

/* Secret-key objects visible to the session. */
static CK_ULONG count_secret_keys(fx *f)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE t = {CKA_CLASS, &cls, sizeof(cls)};
    CK_OBJECT_HANDLE h[64];
    CK_ULONG n = 0, total = 0;
    assert_int_equal(f->t.f->C_FindObjectsInit(f->s, &t, 1), CKR_OK);
    do {
        assert_int_equal(f->t.f->C_FindObjects(f->s, h, 64, &n), CKR_OK);
        total += n;
    } while (n == 64);
    assert_int_equal(f->t.f->C_FindObjectsFinal(f->s), CKR_OK);
    return total;
}

static void interfaces(void **state)
{
    fx *f = *state;
    CK_RV (*list)(P11_CK_INTERFACE *, CK_ULONG *);
    CK_RV (*get)(CK_UTF8CHAR *, CK_VERSION *, P11_CK_INTERFACE **, CK_FLAGS);
    *(void **)&list = dlsym(f->t.dl, "C_GetInterfaceList");
    *(void **)&get = dlsym(f->t.dl, "C_GetInterface");
    P11_CK_INTERFACE ifs[3], *iface = NULL;
    CK_ULONG n = 0;
    assert_int_equal(list(NULL, &n), CKR_OK);
    assert_int_equal(n, 3);
    assert_int_equal(list(ifs, &n), CKR_OK);
    for (int i = 0; i < 3; i++)
        assert_string_equal((char *)ifs[i].pInterfaceName, "PKCS 11");
    assert_int_equal(((CK_VERSION *)ifs[0].pFunctionList)->minor, 2);
    assert_int_equal(((CK_VERSION *)ifs[1].pFunctionList)->minor, 0);
    assert_int_equal(((CK_VERSION *)ifs[2].pFunctionList)->major, 2);

    /* The default is the newest; 3.2 extends 3.0 with the same entries. */
    assert_int_equal(get(NULL, NULL, &iface, 0), CKR_OK);
    assert_ptr_equal(iface->pFunctionList, f->f32);
    assert_int_equal(f->f32->base.version.major, 3);
    assert_int_equal(f->f32->base.version.minor, 2);
    assert_ptr_equal(f->f32->base.C_Sign, f->t.f->C_Sign);
    assert_ptr_equal(f->f32->base.C_MessageVerifyFinal, dlsym(f->t.dl, "C_MessageVerifyFinal"));
    assert_ptr_equal(f->f32->C_EncapsulateKey, dlsym(f->t.dl, "C_EncapsulateKey"));
    assert_ptr_equal(f->f32->C_DecapsulateKey, dlsym(f->t.dl, "C_DecapsulateKey"));
    assert_ptr_equal(f->f32->C_UnwrapKeyAuthenticated, dlsym(f->t.dl, "C_UnwrapKeyAuthenticated"));
    assert_int_equal(f->f32->C_VerifySignatureInit(f->s, NULL, 0, NULL, 0),
                     CKR_FUNCTION_NOT_SUPPORTED);

    /* 3.0 is still there, as a 3.0 list (its structure ends before 3.2's). */
    CK_VERSION v30 = {3, 0};
    assert_int_equal(get((CK_UTF8CHAR *)"PKCS 11", &v30, &iface, 0), CKR_OK);
    P11_FUNCTION_LIST_3_0 *f30 = iface->pFunctionList;
    assert_int_equal(f30->version.major, 3);
    assert_int_equal(f30->version.minor, 0);
    assert_ptr_equal(f30->C_MessageVerifyFinal, f->f32->base.C_MessageVerifyFinal);
    assert_ptr_not_equal(f30, &f->f32->base);
    CK_VERSION v31 = {3, 1};
    assert_int_equal(get((CK_UTF8CHAR *)"PKCS 11", &v31, &iface, 0), CKR_ARGUMENTS_BAD);
}

static void mlkem_pair(fx *f, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM gen = {CKM_ML_KEM_KEY_PAIR_GEN, NULL, 0};
    CK_ULONG set = CKP_ML_KEM_768;
    CK_ATTRIBUTE pt[] = {{CKA_PARAMETER_SET, &set, sizeof(set)},
                         {CKA_ENCRYPT, (void *)&yes, sizeof(yes)}};
    CK_ATTRIBUTE vt[] = {{CKA_DECRYPT, (void *)&yes, sizeof(yes)}};
    assert_int_equal(f->t.f->C_GenerateKeyPair(f->s, &gen, pt, 2, vt, 1, pub, priv), CKR_OK);
}

/* An AES-256 key template; readable when clear. */
#define AES_TMPL(name, clear)                                                                      \
    CK_OBJECT_CLASS name##_cls = CKO_SECRET_KEY;                                                   \
    CK_KEY_TYPE name##_kt = CKK_AES;                                                               \
    CK_ULONG name##_len = 32;                                                                      \
    CK_ATTRIBUTE name[] = {                                                                        \
        {CKA_CLASS, &name##_cls, sizeof(CK_OBJECT_CLASS)},                                         \
        {CKA_KEY_TYPE, &name##_kt, sizeof(CK_KEY_TYPE)},                                           \
        {CKA_VALUE_LEN, &name##_len, sizeof(CK_ULONG)},                                            \
        {CKA_ENCRYPT, (void *)&yes, sizeof(CK_BBOOL)},                                             \
        {CKA_DECRYPT, (void *)&yes, sizeof(CK_BBOOL)},                                             \
        {CKA_SENSITIVE, (void *)((clear) ? &no : &yes), sizeof(CK_BBOOL)},                         \
        {CKA_EXTRACTABLE, (void *)&yes, sizeof(CK_BBOOL)},                                         \
    }

static void value_of(fx *f, CK_OBJECT_HANDLE k, CK_BYTE out[32])
{
    CK_ULONG len = 32;
    p11t_key_value(&f->t, f->s, k, out, &len);
    assert_int_equal(len, 32);
}

/* Encrypts with a and decrypts with b (AES-ECB): equal keys round-trip. */
static int same_aes_key(fx *f, CK_OBJECT_HANDLE a, CK_OBJECT_HANDLE b)
{
    CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
    CK_BYTE pt[32] = "grep11 ML-KEM shared key check", ct[32], back[32];
    CK_ULONG len = sizeof(ct), blen = sizeof(back);
    assert_int_equal(f->t.f->C_EncryptInit(f->s, &ecb, a), CKR_OK);
    assert_int_equal(f->t.f->C_Encrypt(f->s, pt, sizeof(pt), ct, &len), CKR_OK);
    assert_int_equal(f->t.f->C_DecryptInit(f->s, &ecb, b), CKR_OK);
    assert_int_equal(f->t.f->C_Decrypt(f->s, ct, len, back, &blen), CKR_OK);
    return blen == sizeof(pt) && memcmp(back, pt, sizeof(pt)) == 0;
}

static void mlkem_round_trip(void **state)
{
    fx *f = *state;
    if (!p11t_offered(&f->t, CKM_ML_KEM) || !p11t_offered(&f->t, CKM_ML_KEM_KEY_PAIR_GEN))
        skip();
    CK_OBJECT_HANDLE pub, priv, k1 = 0, k2 = 0, k3 = 0, k4 = 0;
    CK_MECHANISM kem = {CKM_ML_KEM, NULL, 0};
    CK_BYTE ct[2000], v1[32], v2[32], v3[32];
    CK_ULONG len = 0;
    AES_TMPL(clear, 1);
    AES_TMPL(sensitive, 0);
    mlkem_pair(f, &pub, &priv);
    CK_ULONG before = count_secret_keys(f);

    /* Length query and a short buffer: the length, and no key. */
    assert_int_equal(f->f32->C_EncapsulateKey(f->s, &kem, pub, clear, 7, NULL, &len, &k1), CKR_OK);
    assert_int_equal(len, 1088);
    assert_int_equal(k1, CK_INVALID_HANDLE);
    len = 1087;
    assert_int_equal(f->f32->C_EncapsulateKey(f->s, &kem, pub, clear, 7, ct, &len, &k1),
                     CKR_BUFFER_TOO_SMALL);
    assert_int_equal(len, 1088);
    assert_int_equal(k1, CK_INVALID_HANDLE);
    assert_int_equal(count_secret_keys(f), before);

    len = sizeof(ct);
    assert_int_equal(f->f32->C_EncapsulateKey(f->s, &kem, pub, clear, 7, ct, &len, &k1), CKR_OK);
    assert_int_equal(len, 1088);
    assert_int_not_equal(k1, CK_INVALID_HANDLE);
    assert_int_equal(count_secret_keys(f), before + 1);
    assert_int_equal(f->f32->C_DecapsulateKey(f->s, &kem, priv, clear, 7, ct, len, &k2), CKR_OK);
    value_of(f, k1, v1);
    value_of(f, k2, v2);
    assert_memory_equal(v1, v2, 32);
    assert_true(same_aes_key(f, k1, k2));
    assert_true(same_aes_key(f, k2, k1));

    /* A sensitive key from the same ciphertext: usable, the same key. */
    assert_int_equal(f->f32->C_DecapsulateKey(f->s, &kem, priv, sensitive, 7, ct, len, &k4),
                     CKR_OK);
    assert_true(same_aes_key(f, k1, k4));
    CK_ATTRIBUTE val = {CKA_VALUE, v3, sizeof(v3)};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, k4, &val, 1), CKR_ATTRIBUTE_SENSITIVE);
    CK_KEY_TYPE kt = 0;
    CK_BBOOL local = CK_TRUE;
    CK_ATTRIBUTE info[] = {{CKA_KEY_TYPE, &kt, sizeof(kt)}, {CKA_LOCAL, &local, sizeof(local)}};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, k2, info, 2), CKR_OK);
    assert_int_equal(kt, CKK_AES);

    /* Implicit rejection: a tampered ciphertext gives another key, no error. */
    ct[100] ^= 0x01;
    assert_int_equal(f->f32->C_DecapsulateKey(f->s, &kem, priv, clear, 7, ct, len, &k3), CKR_OK);
    value_of(f, k3, v3);
    assert_memory_not_equal(v1, v3, 32);
    assert_false(same_aes_key(f, k1, k3));
    ct[100] ^= 0x01;

    /* Wrong sizes, wrong key classes, wrong mechanism parameter. */
    CK_OBJECT_HANDLE none = CK_INVALID_HANDLE;
    assert_int_equal(f->f32->C_DecapsulateKey(f->s, &kem, priv, clear, 7, ct, len - 1, &none),
                     CKR_ENCRYPTED_DATA_LEN_RANGE);
    assert_int_equal(f->f32->C_DecapsulateKey(f->s, &kem, priv, clear, 7, ct, len + 1, &none),
                     CKR_ENCRYPTED_DATA_LEN_RANGE);
    assert_int_equal(f->f32->C_DecapsulateKey(f->s, &kem, pub, clear, 7, ct, len, &none),
                     CKR_KEY_TYPE_INCONSISTENT);
    len = sizeof(ct);
    assert_int_equal(f->f32->C_EncapsulateKey(f->s, &kem, priv, clear, 7, ct, &len, &none),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(f->f32->C_EncapsulateKey(f->s, &kem, k1, clear, 7, ct, &len, &none),
                     CKR_KEY_TYPE_INCONSISTENT);
    assert_int_equal(f->f32->C_EncapsulateKey(f->s, &kem, 0xdead, clear, 7, ct, &len, &none),
                     CKR_KEY_HANDLE_INVALID);
    CK_BYTE junk = 1;
    CK_MECHANISM bad = {CKM_ML_KEM, &junk, 1};
    assert_int_equal(f->f32->C_EncapsulateKey(f->s, &bad, pub, clear, 7, ct, &len, &none),
                     CKR_MECHANISM_PARAM_INVALID);
    CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
    assert_int_equal(f->f32->C_EncapsulateKey(f->s, &ecb, pub, clear, 7, ct, &len, &none),
                     CKR_MECHANISM_INVALID);
    CK_OBJECT_CLASS pcls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE badcls[] = {{CKA_CLASS, &pcls, sizeof(pcls)}};
    assert_int_equal(f->f32->C_EncapsulateKey(f->s, &kem, pub, badcls, 1, ct, &len, &none),
                     CKR_TEMPLATE_INCONSISTENT);
    /* Token keys need a keystore (none configured here); private ones a login. */
    CK_ATTRIBUTE tok[] = {clear[0], clear[1], clear[2], {CKA_TOKEN, (void *)&yes, sizeof(yes)}};
    assert_int_equal(f->f32->C_EncapsulateKey(f->s, &kem, pub, tok, 4, ct, &len, &none),
                     CKR_TOKEN_WRITE_PROTECTED);
    CK_ATTRIBUTE prv[] = {clear[0], clear[1], clear[2], {CKA_PRIVATE, (void *)&yes, sizeof(yes)}};
    assert_int_equal(f->f32->C_DecapsulateKey(f->s, &kem, priv, prv, 4, ct, 1088, &none),
                     CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(none, CK_INVALID_HANDLE);
    assert_int_equal(count_secret_keys(f), before + 4);

    /* A read-only session makes session keys too. */
    CK_SESSION_HANDLE ro = p11t_session(&f->t, 0, 0);
    len = sizeof(ct);
    assert_int_equal(f->f32->C_EncapsulateKey(ro, &kem, pub, clear, 7, ct, &len, &none), CKR_OK);
    assert_int_equal(f->t.f->C_CloseSession(ro), CKR_OK);
}

/* IBM Kyber-768 (round 2) in grep11's DeriveKey form, through the same
 * two functions. */
static void ibm_kyber_round_trip(void **state)
{
    fx *f = *state;
    if (!p11t_offered(&f->t, CKM_IBM_KYBER))
        skip();
    static const CK_BYTE oid[] = {0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01,
                                  0x02, 0x82, 0x0b, 0x05, 0x03, 0x03};
    CK_MECHANISM kyber = {CKM_IBM_KYBER, NULL, 0};
    CK_ATTRIBUTE pt[] = {{CKA_IBM_PQC_PARAMS, (void *)oid, sizeof(oid)},
                         {CKA_DERIVE, (void *)&yes, sizeof(yes)}};
    CK_ATTRIBUTE vt[] = {{CKA_DERIVE, (void *)&yes, sizeof(yes)}};
    CK_OBJECT_HANDLE pub, priv, k1, k2;
    CK_BYTE ct[2000], v1[32], v2[32];
    CK_ULONG len = 0;
    AES_TMPL(clear, 1);
    assert_int_equal(f->t.f->C_GenerateKeyPair(f->s, &kyber, pt, 2, vt, 1, &pub, &priv), CKR_OK);
    assert_int_equal(f->f32->C_EncapsulateKey(f->s, &kyber, pub, clear, 7, NULL, &len, &k1),
                     CKR_OK);
    assert_int_equal(len, 1088);
    assert_int_equal(f->f32->C_EncapsulateKey(f->s, &kyber, pub, clear, 7, ct, &len, &k1), CKR_OK);
    assert_int_equal(len, 1088);
    assert_int_equal(f->f32->C_DecapsulateKey(f->s, &kyber, priv, clear, 7, ct, len, &k2), CKR_OK);
    value_of(f, k1, v1);
    value_of(f, k2, v2);
    assert_memory_equal(v1, v2, 32);
    assert_int_equal(f->f32->C_DecapsulateKey(f->s, &kyber, priv, clear, 7, ct, 1000, &k2),
                     CKR_ENCRYPTED_DATA_LEN_RANGE);
    /* An ML-KEM mechanism with a Kyber key, and the other way round. */
    CK_MECHANISM kem = {CKM_ML_KEM, NULL, 0};
    len = sizeof(ct);
    assert_int_equal(f->f32->C_EncapsulateKey(f->s, &kem, pub, clear, 7, ct, &len, &k2),
                     CKR_KEY_TYPE_INCONSISTENT);
}

/* ---- token keys: the new key lands in the user's keystore ----------------- */

#define KS_PRIV "6b3e0000-0000-4000-8000-000000000001"
#define KS_PUB "6b3e0000-0000-4000-8000-000000000002"
static const uint8_t KS[2][16] = {{0x6b, 0x3e, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 1},
                                  {0x6b, 0x3e, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 2}};

typedef struct {
    fx f;
    char so[160], user[160];
} tfx;

static int token_setup(void **state)
{
    tfx *x = calloc(1, sizeof(*x));
    char yaml[2048];
    CK_UTF8CHAR label[32];
    *state = x;
    if (!x || p11t_server(&x->f.t, NULL) != 0 ||
        p11t_keystore_users(&x->f.t, KS, 2, x->so, x->user, NULL, sizeof(x->so)) != 0)
        return -1;
    snprintf(yaml, sizeof(yaml),
             "tokens:\n"
             "  0:\n"
             "    grep11connection: {address: \"@HOST@\", port: @PORT@, tls: {enabled: true, "
             "cacert: \"@CA@\"}}\n"
             "    storage: {remotestore: {enabled: true}}\n"
             "    users:\n"
             "      0: {name: so, iamauth: {enabled: true}}\n"
             "      1: {name: user, tokenspaceID: \"" KS_PRIV "\", iamauth: {enabled: true}}\n"
             "      2: {name: anonymous, tokenspaceID: \"" KS_PUB "\", iamauth: {enabled: true, "
             "apikey: \"%s\"}}\n"
             "logging: {loglevel: debug, logpath: \"@DIR@/module.log\"}\n",
             x->f.t.apikey);
    memset(label, ' ', sizeof(label));
    memcpy(label, "kem", 3);
    if (p11t_write_config(&x->f.t, yaml) != 0 || p11t_load(&x->f.t, 1) != 0 ||
        x->f.t.f->C_InitToken(0, (CK_UTF8CHAR *)x->so, strlen(x->so), label) != CKR_OK)
        return -1;
    x->f.s = p11t_session(&x->f.t, 0, 1);
    return 0;
}

static void token_key_persists(void **state)
{
    tfx *x = *state;
    fx *f = &x->f;
    if (!p11t_offered(&f->t, CKM_ML_KEM))
        skip();
    CK_RV (*get)(CK_UTF8CHAR *, CK_VERSION *, P11_CK_INTERFACE **, CK_FLAGS);
    P11_CK_INTERFACE *iface;
    *(void **)&get = dlsym(f->t.dl, "C_GetInterface");
    assert_int_equal(get(NULL, NULL, &iface, 0), CKR_OK);
    f->f32 = iface->pFunctionList;
    assert_int_equal(f->t.f->C_Login(f->s, CKU_USER, (CK_UTF8CHAR *)x->user, strlen(x->user)),
                     CKR_OK);
    CK_OBJECT_HANDLE pub, priv, k1, found = 0;
    CK_MECHANISM kem = {CKM_ML_KEM, NULL, 0};
    CK_BYTE ct[1088], v1[32], v2[32];
    CK_ULONG len = sizeof(ct), n = 0;
    AES_TMPL(clear, 1);
    mlkem_pair(f, &pub, &priv);
    CK_ATTRIBUTE tmpl[10];
    memcpy(tmpl, clear, sizeof(clear));
    tmpl[7] = (CK_ATTRIBUTE){CKA_TOKEN, (void *)&yes, sizeof(yes)};
    tmpl[8] = (CK_ATTRIBUTE){CKA_PRIVATE, (void *)&yes, sizeof(yes)};
    tmpl[9] = (CK_ATTRIBUTE){CKA_LABEL, "kem-token-key", 13};
    assert_int_equal(f->f32->C_EncapsulateKey(f->s, &kem, pub, tmpl, 10, ct, &len, &k1), CKR_OK);
    value_of(f, k1, v1);
    /* A private session key from the same ciphertext. */
    CK_OBJECT_HANDLE k2;
    assert_int_equal(f->f32->C_DecapsulateKey(f->s, &kem, priv, clear, 7, ct, len, &k2), CKR_OK);
    value_of(f, k2, v2);
    assert_memory_equal(v1, v2, 32);

    /* A fresh module instance finds it in the private keystore. */
    assert_int_equal(f->t.f->C_Finalize(NULL), CKR_OK);
    assert_int_equal(f->t.f->C_Initialize(NULL), CKR_OK);
    f->s = p11t_session(&f->t, 0, 1);
    CK_ATTRIBUTE find = {CKA_LABEL, "kem-token-key", 13};
    assert_int_equal(f->t.f->C_FindObjectsInit(f->s, &find, 1), CKR_OK);
    assert_int_equal(f->t.f->C_FindObjects(f->s, &found, 1, &n), CKR_OK);
    assert_int_equal(n, 0); /* private: not without the user */
    assert_int_equal(f->t.f->C_FindObjectsFinal(f->s), CKR_OK);
    assert_int_equal(f->t.f->C_Login(f->s, CKU_USER, (CK_UTF8CHAR *)x->user, strlen(x->user)),
                     CKR_OK);
    assert_int_equal(f->t.f->C_FindObjectsInit(f->s, &find, 1), CKR_OK);
    assert_int_equal(f->t.f->C_FindObjects(f->s, &found, 1, &n), CKR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(f->t.f->C_FindObjectsFinal(f->s), CKR_OK);
    CK_BBOOL token = CK_FALSE;
    CK_ATTRIBUTE ta = {CKA_TOKEN, &token, sizeof(token)};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, found, &ta, 1), CKR_OK);
    assert_int_equal(token, CK_TRUE);
    value_of(f, found, v2);
    assert_memory_equal(v1, v2, 32);
    assert_int_equal(f->t.f->C_DestroyObject(f->s, found), CKR_OK);
    assert_int_equal(f->t.f->C_Logout(f->s), CKR_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(interfaces),
        cmocka_unit_test(mlkem_round_trip),
        cmocka_unit_test(ibm_kyber_round_trip),
    };
    const struct CMUnitTest token_tests[] = {
        cmocka_unit_test(token_key_persists),
    };
    int rc = cmocka_run_group_tests(tests, setup, p11t_teardown);
    return rc + cmocka_run_group_tests(token_tests, token_setup, p11t_teardown);
}
