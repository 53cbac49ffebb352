/* Session objects through pkcs11-grep11.so: data objects, certificates,
 * keys; search with templates; C_GetAttributeValue rules and the size-query
 * protocol; C_SetAttributeValue (local and through the server); copy,
 * destroy, lifetime with the session, private objects and login. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "p11test.h"

static int setup(void **state)
{
    p11t *t = calloc(1, sizeof(*t));
    *state = t;
    return t ? p11t_start(t) : -1;
}

static CK_OBJECT_HANDLE data_object(p11t *t, CK_SESSION_HANDLE s, const char *label,
                                    const char *value)
{
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)},
                           {CKA_LABEL, (void *)label, strlen(label)},
                           {CKA_VALUE, (void *)value, strlen(value)},
                           {CKA_APPLICATION, "tests", 5}};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    assert_int_equal(t->f->C_CreateObject(s, tmpl, 4, &h), CKR_OK);
    return h;
}

static CK_ULONG find(p11t *t, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                     CK_OBJECT_HANDLE *out, CK_ULONG max)
{
    CK_ULONG got = 0, total = 0;
    assert_int_equal(t->f->C_FindObjectsInit(s, tmpl, n), CKR_OK);
    do {
        assert_int_equal(
            t->f->C_FindObjects(s, out + total, max - total > 2 ? 2 : max - total, &got), CKR_OK);
        total += got;
    } while (got && total < max);
    assert_int_equal(t->f->C_FindObjectsFinal(s), CKR_OK);
    return total;
}

static void data_objects_and_search(void **state)
{
    p11t *t = *state;
    CK_SESSION_HANDLE s = p11t_session(t, 0, 0), s2 = p11t_session(t, 0, 0);
    CK_OBJECT_HANDLE a = data_object(t, s, "alpha", "1");
    CK_OBJECT_HANDLE b = data_object(t, s, "beta", "22");
    CK_OBJECT_HANDLE c = data_object(t, s2, "alpha", "333");
    CK_OBJECT_HANDLE found[16];
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE by_class = {CKA_CLASS, &cls, sizeof(cls)};
    CK_ATTRIBUTE by_label = {CKA_LABEL, "alpha", 5};
    /* Session objects are visible to every session of the application. */
    assert_int_equal(find(t, s2, &by_class, 1, found, 16), 3);
    assert_int_equal(find(t, s, NULL, 0, found, 16), 3);
    assert_int_equal(find(t, s, &by_label, 1, found, 16), 2);
    assert_int_equal(found[0], a);
    assert_int_equal(found[1], c);
    CK_ATTRIBUTE both[] = {by_label, {CKA_VALUE, "333", 3}};
    assert_int_equal(find(t, s, both, 2, found, 16), 1);
    assert_int_equal(found[0], c);
    /* Another slot sees none of them. */
    CK_SESSION_HANDLE other = p11t_session(t, 5, 0);
    assert_int_equal(find(t, other, NULL, 0, found, 16), 0);
    assert_int_equal(t->f->C_GetAttributeValue(other, a, &by_class, 1), CKR_OBJECT_HANDLE_INVALID);

    assert_int_equal(t->f->C_FindObjectsInit(s, NULL, 0), CKR_OK);
    assert_int_equal(t->f->C_FindObjectsInit(s, NULL, 0), CKR_OPERATION_ACTIVE);
    assert_int_equal(t->f->C_FindObjectsFinal(s), CKR_OK);
    CK_ULONG n;
    assert_int_equal(t->f->C_FindObjects(s, found, 1, &n), CKR_OPERATION_NOT_INITIALIZED);

    /* Attribute reads: size query, short buffer, unknown type. */
    char buf[8];
    CK_ATTRIBUTE q[] = {{CKA_VALUE, NULL, 0}, {CKA_LABEL, buf, 2}, {CKA_MODULUS, buf, 8}};
    assert_int_equal(t->f->C_GetAttributeValue(s, b, q, 1), CKR_OK);
    assert_int_equal(q[0].ulValueLen, 2);
    CK_RV rv = t->f->C_GetAttributeValue(s, b, q, 3);
    assert_true(rv == CKR_BUFFER_TOO_SMALL || rv == CKR_ATTRIBUTE_TYPE_INVALID);
    assert_int_equal(q[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    assert_int_equal(q[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);

    /* Set, copy, destroy. */
    CK_ATTRIBUTE nl = {CKA_LABEL, "gamma", 5};
    assert_int_equal(t->f->C_SetAttributeValue(s, b, &nl, 1), CKR_OK);
    CK_ATTRIBUTE by_gamma = {CKA_LABEL, "gamma", 5};
    assert_int_equal(find(t, s, &by_gamma, 1, found, 16), 1);
    assert_int_equal(t->f->C_SetAttributeValue(s, b, &by_class, 1), CKR_ATTRIBUTE_READ_ONLY);
    CK_OBJECT_HANDLE d = CK_INVALID_HANDLE;
    CK_ATTRIBUTE dl = {CKA_LABEL, "delta", 5};
    assert_int_equal(t->f->C_CopyObject(s, b, &dl, 1, &d), CKR_OK);
    CK_ATTRIBUTE v = {CKA_VALUE, buf, sizeof(buf)};
    assert_int_equal(t->f->C_GetAttributeValue(s, d, &v, 1), CKR_OK);
    assert_memory_equal(buf, "22", 2);
    CK_ULONG size = 0;
    assert_int_equal(t->f->C_GetObjectSize(s, d, &size), CKR_OK);
    assert_true(size > 0);
    assert_int_equal(t->f->C_DestroyObject(s, d), CKR_OK);
    assert_int_equal(t->f->C_DestroyObject(s, d), CKR_OBJECT_HANDLE_INVALID);

    /* Objects die with their session. */
    assert_int_equal(t->f->C_CloseSession(s2), CKR_OK);
    assert_int_equal(t->f->C_GetAttributeValue(s, c, &by_class, 1), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(find(t, s, &by_class, 1, found, 16), 2);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
    assert_int_equal(t->f->C_CloseSession(other), CKR_OK);
}

static void certificates_and_rules(void **state)
{
    p11t *t = *state;
    CK_SESSION_HANDLE s = p11t_session(t, 0, 1);
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE ct = CKC_X_509;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE cert[] = {{CKA_CLASS, &cls, sizeof(cls)},
                           {CKA_CERTIFICATE_TYPE, &ct, sizeof(ct)},
                           {CKA_SUBJECT, "\x30\x00", 2},
                           {CKA_VALUE, "\x30\x03\x02\x01\x01", 5},
                           {CKA_TOKEN, &yes, sizeof(yes)}};
    CK_OBJECT_HANDLE h;
    /* This configuration has no keystores (storage.remotestore is off). */
    assert_int_equal(t->f->C_CreateObject(s, cert, 5, &h), CKR_TOKEN_WRITE_PROTECTED);
    assert_int_equal(t->f->C_CreateObject(s, cert, 3, &h), CKR_TEMPLATE_INCOMPLETE);
    assert_int_equal(t->f->C_CreateObject(s, cert, 4, &h), CKR_OK);
    CK_BBOOL tok = CK_TRUE;
    CK_ATTRIBUTE ta = {CKA_TOKEN, &tok, sizeof(tok)};
    assert_int_equal(t->f->C_GetAttributeValue(s, h, &ta, 1), CKR_OK);
    assert_int_equal(tok, CK_FALSE);
    /* Private objects need the normal user. */
    CK_OBJECT_CLASS dc = CKO_DATA;
    CK_ATTRIBUTE priv[] = {{CKA_CLASS, &dc, sizeof(dc)}, {CKA_PRIVATE, &yes, sizeof(yes)}};
    assert_int_equal(t->f->C_CreateObject(s, priv, 2, &h), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)t->apikey, strlen(t->apikey)),
                     CKR_OK);
    CK_OBJECT_HANDLE p;
    assert_int_equal(t->f->C_CreateObject(s, priv, 2, &p), CKR_OK);
    CK_OBJECT_HANDLE pub;
    CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE pubt[] = {{CKA_CLASS, &dc, sizeof(dc)}, {CKA_PRIVATE, &no, sizeof(no)}};
    assert_int_equal(t->f->C_CreateObject(s, pubt, 2, &pub), CKR_OK);
    /* Logout destroys private session objects. */
    assert_int_equal(t->f->C_Logout(s), CKR_OK);
    assert_int_equal(t->f->C_GetAttributeValue(s, p, &ta, 1), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(t->f->C_GetAttributeValue(s, pub, &ta, 1), CKR_OK);
    /* Bad templates. */
    CK_ULONG shortbool = 1;
    CK_ATTRIBUTE bad[] = {{CKA_CLASS, &dc, sizeof(dc)}, {CKA_TOKEN, &shortbool, sizeof(shortbool)}};
    assert_int_equal(t->f->C_CreateObject(s, bad, 2, &h), CKR_ATTRIBUTE_VALUE_INVALID);
    CK_ATTRIBUTE nocls = {CKA_LABEL, "x", 1};
    assert_int_equal(t->f->C_CreateObject(s, &nocls, 1, &h), CKR_TEMPLATE_INCOMPLETE);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

static void key_attributes(void **state)
{
    p11t *t = *state;
    CK_SESSION_HANDLE s = p11t_session(t, 0, 1);
    CK_OBJECT_HANDLE k = p11t_secret_key(t, s, CKM_AES_KEY_GEN, CKK_AES, 24, 0);
    CK_OBJECT_CLASS cls = 0;
    CK_KEY_TYPE kt = 0;
    CK_ULONG vl = 0, mech = 0;
    CK_BBOOL enc = 0, sens = 0, local = 0;
    unsigned char cv[3], value[32];
    CK_ATTRIBUTE a[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_VALUE_LEN, &vl, sizeof(vl)},
        {CKA_ENCRYPT, &enc, 1},
        {CKA_SENSITIVE, &sens, 1},
        {CKA_LOCAL, &local, 1},
        {CKA_KEY_GEN_MECHANISM, &mech, sizeof(mech)},
        {CKA_CHECK_VALUE, cv, 3},
    };
    assert_int_equal(t->f->C_GetAttributeValue(s, k, a, 8), CKR_OK);
    assert_int_equal(cls, CKO_SECRET_KEY);
    assert_int_equal(kt, CKK_AES);
    assert_int_equal(vl, 24);
    assert_int_equal(enc, CK_TRUE);
    assert_int_equal(sens, CK_TRUE);
    assert_int_equal(local, CK_TRUE);
    assert_int_equal(mech, CKM_AES_KEY_GEN);
    /* A sensitive value is not readable, and says so per attribute. */
    CK_ATTRIBUTE v[] = {{CKA_VALUE, value, sizeof(value)}, {CKA_LABEL, NULL, 0}};
    assert_int_equal(t->f->C_GetAttributeValue(s, k, v, 2), CKR_ATTRIBUTE_SENSITIVE);
    assert_int_equal(v[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    assert_int_equal(v[1].ulValueLen, 0);
    CK_ATTRIBUTE mod = {CKA_MODULUS, NULL, 0};
    assert_int_equal(t->f->C_GetAttributeValue(s, k, &mod, 1), CKR_ATTRIBUTE_TYPE_INVALID);
    assert_int_equal(mod.ulValueLen, CK_UNAVAILABLE_INFORMATION);

    /* Label locally; usage through the server (a new blob). */
    CK_ATTRIBUTE lab = {CKA_LABEL, "renamed", 7};
    assert_int_equal(t->f->C_SetAttributeValue(s, k, &lab, 1), CKR_OK);
    CK_BBOOL no = CK_FALSE, yes = CK_TRUE;
    CK_ATTRIBUTE noenc = {CKA_ENCRYPT, &no, 1};
    assert_int_equal(t->f->C_SetAttributeValue(s, k, &noenc, 1), CKR_OK);
    CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
    assert_int_equal(t->f->C_EncryptInit(s, &ecb, k), CKR_KEY_FUNCTION_NOT_PERMITTED);
    assert_int_equal(t->f->C_DecryptInit(s, &ecb, k), CKR_OK);
    CK_ULONG l = sizeof(value);
    unsigned char ct[16] = {0};
    assert_int_equal(t->f->C_Decrypt(s, ct, 16, value, &l), CKR_OK);
    /* One-way rules come from the engine. */
    CK_ATTRIBUTE unsens = {CKA_SENSITIVE, &no, 1};
    assert_int_equal(t->f->C_SetAttributeValue(s, k, &unsens, 1), CKR_ATTRIBUTE_READ_ONLY);
    CK_ATTRIBUTE ro = {CKA_KEY_TYPE, &kt, sizeof(kt)};
    assert_int_equal(t->f->C_SetAttributeValue(s, k, &ro, 1), CKR_ATTRIBUTE_READ_ONLY);

    /* Find keys by bound attributes, copy with a change, destroy. */
    CK_OBJECT_CLASS sk = CKO_SECRET_KEY;
    CK_ATTRIBUTE ft[] = {{CKA_CLASS, &sk, sizeof(sk)}, {CKA_LABEL, "renamed", 7}};
    CK_OBJECT_HANDLE found[4];
    CK_ULONG n = 0;
    assert_int_equal(t->f->C_FindObjectsInit(s, ft, 2), CKR_OK);
    assert_int_equal(t->f->C_FindObjects(s, found, 4, &n), CKR_OK);
    assert_int_equal(t->f->C_FindObjectsFinal(s), CKR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(found[0], k);
    CK_OBJECT_HANDLE k2;
    CK_ATTRIBUTE ct2[] = {{CKA_LABEL, "copy", 4}, {CKA_ENCRYPT, &yes, 1}};
    CK_RV rv = t->f->C_CopyObject(s, k, ct2, 2, &k2);
    assert_int_equal(rv, CKR_OK);
    assert_int_equal(t->f->C_EncryptInit(s, &ecb, k2), CKR_OK);
    l = sizeof(value);
    assert_int_equal(t->f->C_Encrypt(s, ct, 16, value, &l), CKR_OK);
    assert_int_equal(t->f->C_DestroyObject(s, k), CKR_OK);
    assert_int_equal(t->f->C_EncryptInit(s, &ecb, k), CKR_KEY_HANDLE_INVALID);
    /* No keystores configured: no token keys (pkcs11_token_test has them). */
    CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
    CK_ATTRIBUTE tk[] = {{CKA_VALUE_LEN, &vl, sizeof(vl)}, {CKA_TOKEN, &yes, 1}};
    assert_int_equal(t->f->C_GenerateKey(s, &gen, tk, 2, &k2), CKR_TOKEN_WRITE_PROTECTED);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(data_objects_and_search),
        cmocka_unit_test(certificates_and_rules),
        cmocka_unit_test(key_attributes),
    };
    return cmocka_run_group_tests_name("pkcs11_objects", tests, setup, p11t_teardown);
}
