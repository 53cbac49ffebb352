/* PKCS #11 3.0 storage-object attributes the module assigns or keeps
 * beside the blob: CKA_UNIQUE_ID (token objects: the keystore object's
 * UUID, the same after C_Finalize/C_Initialize; session objects: a value of
 * their own; read-only; a search term; copies get a new one) and
 * CKA_ALLOWED_MECHANISMS (bound in the blob, enforced by the server and
 * checked early by the module). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grep11/ck_ext.h"
#include "p11test.h"

#define PRIV "3a7d0000-0000-4000-8000-000000000001"
#define PUB "3a7d0000-0000-4000-8000-000000000002"
static const uint8_t KS[2][16] = {
    {0x3a, 0x7d, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 1},
    {0x3a, 0x7d, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 2},
};
#define UID_LEN 36

typedef struct {
    p11t t;
    char so[160], user[160], anon[160];
    g11c_conn *direct; /* the normal user's key, straight to grep11.Store */
} fixture;

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static int setup(void **state)
{
    fixture *x = calloc(1, sizeof(*x));
    *state = x;
    char yaml[2048];
    if (!x || p11t_server(&x->t, NULL) != 0 ||
        p11t_keystore_users(&x->t, KS, 2, x->so, x->user, x->anon, sizeof(x->so)) != 0)
        return -1;
    snprintf(yaml, sizeof(yaml),
             "iam: &iam {enabled: true}\n"
             "tokens:\n"
             "  0:\n"
             "    grep11connection: {address: \"@HOST@\", port: @PORT@, tls: {enabled: true, "
             "cacert: \"@CA@\"}}\n"
             "    storage: {remotestore: {enabled: true}}\n"
             "    users:\n"
             "      0: {name: so, iamauth: *iam}\n"
             "      1: {name: user, tokenspaceID: \"" PRIV "\", iamauth: *iam}\n"
             "      2: {name: anonymous, tokenspaceID: \"" PUB "\", iamauth: {enabled: true, "
             "apikey: \"%s\"}}\n"
             "logging: {loglevel: debug, logpath: \"@DIR@/module.log\"}\n",
             x->anon);
    if (p11t_write_config(&x->t, yaml) != 0 || p11t_load(&x->t, 1) != 0)
        return -1;
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof(label));
    memcpy(label, "attrs", 5);
    if (x->t.f->C_InitToken(0, (CK_UTF8CHAR *)x->so, strlen(x->so), label) != CKR_OK)
        return -1;
    x->direct = test_connect_as(&x->t.srv, 0, x->user);
    return x->direct ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *x = *state;
    if (x->direct)
        g11c_close(x->direct);
    int rc = p11t_stop(&x->t);
    free(x);
    return rc;
}

/* ---- helpers ------------------------------------------------------------- */

static CK_OBJECT_HANDLE data_object(p11t *t, CK_SESSION_HANDLE s, const char *label, int token)
{
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE a[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_LABEL, (void *)label, strlen(label)},
                        {CKA_VALUE, "v", 1},
                        {CKA_TOKEN, (void *)(token ? &yes : &no), 1}};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    assert_int_equal(t->f->C_CreateObject(s, a, 4, &h), CKR_OK);
    return h;
}

/* CKA_UNIQUE_ID as a C string; its length is checked to be a UUID's. */
static void unique_id(p11t *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, char out[UID_LEN + 1])
{
    CK_ATTRIBUTE a = {CKA_UNIQUE_ID, NULL, 0};
    assert_int_equal(t->f->C_GetAttributeValue(s, h, &a, 1), CKR_OK);
    assert_int_equal(a.ulValueLen, UID_LEN); /* size query */
    a.pValue = out;
    assert_int_equal(t->f->C_GetAttributeValue(s, h, &a, 1), CKR_OK);
    assert_int_equal(a.ulValueLen, UID_LEN);
    out[UID_LEN] = '\0';
    for (int i = 0; i < UID_LEN; i++)
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(out[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", out[i]));
}

static CK_ULONG find(p11t *t, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                     CK_OBJECT_HANDLE *out, CK_ULONG max)
{
    CK_ULONG got = 0, total = 0;
    assert_int_equal(t->f->C_FindObjectsInit(s, tmpl, n), CKR_OK);
    do {
        assert_int_equal(t->f->C_FindObjects(s, out + total, max - total, &got), CKR_OK);
        total += got;
    } while (got && total < max);
    assert_int_equal(t->f->C_FindObjectsFinal(s), CKR_OK);
    return total;
}

static CK_ULONG find_uid(p11t *t, CK_SESSION_HANDLE s, const char *uid, CK_OBJECT_HANDLE *out,
                         CK_ULONG max)
{
    CK_ATTRIBUTE by = {CKA_UNIQUE_ID, (void *)uid, strlen(uid)};
    return find(t, s, &by, 1, out, max);
}

static CK_ULONG find_label(p11t *t, CK_SESSION_HANDLE s, const char *label, CK_OBJECT_HANDLE *out,
                           CK_ULONG max)
{
    CK_ATTRIBUTE by = {CKA_LABEL, (void *)label, strlen(label)};
    return find(t, s, &by, 1, out, max);
}

/* The UUID (as text) of the one object with this label in keystore ks,
 * read from grep11.Store directly. */
static void stored_uuid(fixture *x, int ks, const char *label, char out[UID_LEN + 1])
{
    CK_ATTRIBUTE by = {CKA_LABEL, (void *)label, strlen(label)};
    g11c_stored_object *objs = NULL;
    size_t n = 0;
    char next[64];
    assert_int_equal(
        g11c_store_find_objects(x->direct, KS[ks], NULL, &by, 1, NULL, 0, &objs, &n, next), CKR_OK);
    assert_int_equal(n, 1);
    const uint8_t *u = objs[0].id;
    snprintf(out, UID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
             u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
             u[15]);
    g11c_stored_objects_free(objs, n);
}

/* ---- CKA_UNIQUE_ID ----------------------------------------------------------- */

static void unique_id_of_token_objects(void **state)
{
    fixture *x = *state;
    p11t *t = &x->t;
    CK_SESSION_HANDLE s = p11t_session(t, 0, 1);
    CK_OBJECT_HANDLE found[4];
    char u1[UID_LEN + 1], u2[UID_LEN + 1], want[UID_LEN + 1], again[UID_LEN + 1];
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)x->user, strlen(x->user)), CKR_OK);

    /* A private token key and a public token data object. */
    CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
    CK_ULONG len = 32;
    CK_ATTRIBUTE tk[] = {{CKA_VALUE_LEN, &len, sizeof(len)},
                         {CKA_TOKEN, (void *)&yes, 1},
                         {CKA_LABEL, "uid-key", 7},
                         {CKA_ENCRYPT, (void *)&yes, 1}};
    CK_OBJECT_HANDLE k, d;
    assert_int_equal(t->f->C_GenerateKey(s, &gen, tk, 4, &k), CKR_OK);
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE pd[] = {{CKA_CLASS, &cls, sizeof(cls)},
                         {CKA_LABEL, "uid-data", 8},
                         {CKA_TOKEN, (void *)&yes, 1},
                         {CKA_PRIVATE, (void *)&no, 1}};
    assert_int_equal(t->f->C_CreateObject(s, pd, 4, &d), CKR_OK);
    unique_id(t, s, k, u1);
    unique_id(t, s, d, u2);
    assert_string_not_equal(u1, u2);
    /* The keystore object's UUID, in whichever keystore holds it. */
    stored_uuid(x, 0, "uid-key", want);
    assert_string_equal(u1, want);
    stored_uuid(x, 1, "uid-data", want);
    assert_string_equal(u2, want);

    /* Read-only: not set, not given at creation. */
    CK_ATTRIBUTE set = {CKA_UNIQUE_ID, u2, UID_LEN};
    assert_int_equal(t->f->C_SetAttributeValue(s, k, &set, 1), CKR_ATTRIBUTE_READ_ONLY);
    CK_ATTRIBUTE withid[] = {
        {CKA_CLASS, &cls, sizeof(cls)}, {CKA_TOKEN, (void *)&yes, 1}, {CKA_UNIQUE_ID, "mine", 4}};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    assert_int_equal(t->f->C_CreateObject(s, withid, 3, &h), CKR_ATTRIBUTE_READ_ONLY);
    tk[2] = (CK_ATTRIBUTE){CKA_UNIQUE_ID, "mine", 4};
    assert_int_equal(t->f->C_GenerateKey(s, &gen, tk, 4, &h), CKR_ATTRIBUTE_READ_ONLY);
    unique_id(t, s, k, again);
    assert_string_equal(again, u1);

    /* A search term: exactly that object; with a contradicting term none;
     * an id no object has, or no UUID at all, none. */
    assert_int_equal(find_uid(t, s, u1, found, 4), 1);
    assert_int_equal(found[0], k);
    assert_int_equal(find_uid(t, s, u2, found, 4), 1);
    assert_int_equal(found[0], d);
    CK_ATTRIBUTE both[] = {{CKA_UNIQUE_ID, u1, UID_LEN}, {CKA_LABEL, "uid-data", 8}};
    assert_int_equal(find(t, s, both, 2, found, 4), 0);
    both[1] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
    assert_int_equal(find(t, s, both, 2, found, 4), 0);
    assert_int_equal(find_uid(t, s, "3a7d0000-0000-4000-8000-0000000000ff", found, 4), 0);
    assert_int_equal(find_uid(t, s, "not a UUID", found, 4), 0);

    /* C_Finalize / C_Initialize: the same value, found by it again. */
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_OK);
    s = p11t_session(t, 0, 1);
    assert_int_equal(find_label(t, s, "uid-data", found, 4), 1);
    unique_id(t, s, found[0], again);
    assert_string_equal(again, u2);
    assert_int_equal(find_uid(t, s, u1, found, 4), 0); /* private: log in first */
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)x->user, strlen(x->user)), CKR_OK);
    assert_int_equal(find_uid(t, s, u1, found, 4), 1);
    unique_id(t, s, found[0], again);
    assert_string_equal(again, u1);
    k = found[0];

    /* A copy into the token is a new keystore object with its own id; one
     * naming CKA_UNIQUE_ID in its template is refused. */
    CK_ATTRIBUTE lbl = {CKA_LABEL, "uid-key-copy", 12};
    assert_int_equal(t->f->C_CopyObject(s, k, &lbl, 1, &h), CKR_OK);
    unique_id(t, s, h, again);
    assert_string_not_equal(again, u1);
    stored_uuid(x, 0, "uid-key-copy", want);
    assert_string_equal(again, want);
    assert_int_equal(t->f->C_CopyObject(s, k, &set, 1, &h), CKR_ATTRIBUTE_READ_ONLY);
    /* A changed object keeps its id. */
    CK_ATTRIBUTE relabel = {CKA_LABEL, "uid-key-2", 9};
    assert_int_equal(t->f->C_SetAttributeValue(s, k, &relabel, 1), CKR_OK);
    unique_id(t, s, k, again);
    assert_string_equal(again, u1);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

static void unique_id_of_session_objects(void **state)
{
    fixture *x = *state;
    p11t *t = &x->t;
    CK_SESSION_HANDLE s = p11t_session(t, 0, 1);
    CK_OBJECT_HANDLE found[4], c, tc;
    char a[UID_LEN + 1], b[UID_LEN + 1], cu[UID_LEN + 1], tu[UID_LEN + 1];
    CK_OBJECT_HANDLE ha = data_object(t, s, "uid-s1", 0);
    CK_OBJECT_HANDLE hb = data_object(t, s, "uid-s1", 0);
    CK_OBJECT_HANDLE hk = p11t_secret_key(t, s, CKM_AES_KEY_GEN, CKK_AES, 16, 0);
    unique_id(t, s, ha, a);
    unique_id(t, s, hb, b);
    assert_string_not_equal(a, b);
    unique_id(t, s, hk, cu);
    assert_string_not_equal(cu, a);
    assert_string_not_equal(cu, b);
    /* Found by it (only that one of the two alike objects). */
    assert_int_equal(find_uid(t, s, a, found, 4), 1);
    assert_int_equal(found[0], ha);
    assert_int_equal(find_uid(t, s, cu, found, 4), 1);
    assert_int_equal(found[0], hk);
    CK_ATTRIBUTE set = {CKA_UNIQUE_ID, b, UID_LEN};
    assert_int_equal(t->f->C_SetAttributeValue(s, ha, &set, 1), CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(t->f->C_SetAttributeValue(s, hk, &set, 1), CKR_ATTRIBUTE_READ_ONLY);
    /* Copies, in memory and into the token, get ids of their own. */
    assert_int_equal(t->f->C_CopyObject(s, ha, NULL, 0, &c), CKR_OK);
    unique_id(t, s, c, cu);
    assert_string_not_equal(cu, a);
    assert_string_not_equal(cu, b);
    CK_ATTRIBUTE to_token[] = {{CKA_TOKEN, (void *)&yes, 1}, {CKA_LABEL, "uid-s1-token", 12}};
    assert_int_equal(t->f->C_CopyObject(s, ha, to_token, 2, &tc), CKR_OK);
    unique_id(t, s, tc, tu);
    assert_string_not_equal(tu, a);
    char want[UID_LEN + 1];
    stored_uuid(x, 1, "uid-s1-token", want);
    assert_string_equal(tu, want);
    /* Still the originals' own after the copies. */
    unique_id(t, s, ha, cu);
    assert_string_equal(cu, a);
    assert_int_equal(find_uid(t, s, a, found, 4), 1);
    assert_int_equal(found[0], ha);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

/* ---- CKA_ALLOWED_MECHANISMS ----------------------------------------------------- */

static CK_RV encrypt_init(p11t *t, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE k)
{
    CK_BYTE iv[16] = {0};
    CK_MECHANISM m = {mech, mech == CKM_AES_ECB ? NULL : iv, mech == CKM_AES_ECB ? 0 : 16};
    CK_RV rv = t->f->C_EncryptInit(s, &m, k);
    if (rv == CKR_OK) {
        CK_BYTE in[16] = "sixteen byte msg", out[32];
        CK_ULONG len = sizeof(out);
        assert_int_equal(t->f->C_Encrypt(s, in, 16, out, &len), CKR_OK);
    }
    return rv;
}

/* Encrypts with the blob of the private token key labelled `label`, read
 * from grep11.Store and sent straight to grep11.Crypto (no module). */
static CK_RV server_encrypt(fixture *x, const char *label, CK_MECHANISM_TYPE mech)
{
    CK_ATTRIBUTE by = {CKA_LABEL, (void *)label, strlen(label)};
    g11c_stored_object *objs = NULL;
    size_t n = 0;
    char next[64];
    assert_int_equal(
        g11c_store_find_objects(x->direct, KS[0], NULL, &by, 1, NULL, 0, &objs, &n, next), CKR_OK);
    assert_int_equal(n, 1);
    uint8_t iv[16] = {0}, in[16] = "sixteen byte msg";
    g11c_mech m = {.type = mech};
    if (mech != CKM_AES_ECB) {
        m.kind = G11C_PARAM_BYTES;
        m.bytes = (g11c_bytes){iv, sizeof(iv)};
    }
    g11c_buf out = {0};
    CK_RV rv = g11c_encrypt_single(x->direct, g11c_bytes_of(&objs[0].blob), &m,
                                   (g11c_bytes){in, sizeof(in)}, &out);
    g11c_buf_free(&out);
    g11c_stored_objects_free(objs, n);
    return rv;
}

static void allowed_mechanisms(void **state)
{
    fixture *x = *state;
    p11t *t = &x->t;
    CK_SESSION_HANDLE s = p11t_session(t, 0, 1);
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)x->user, strlen(x->user)), CKR_OK);
    CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
    CK_ULONG len = 16;
    CK_MECHANISM_TYPE only[] = {CKM_AES_CBC_PAD, CKM_AES_CBC}, got[4];
    CK_ATTRIBUTE tk[] = {
        {CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_ENCRYPT, (void *)&yes, 1},
        {CKA_DERIVE, (void *)&yes, 1},      {CKA_LABEL, "restricted", 10},
        {CKA_TOKEN, (void *)&yes, 1},       {CKA_ALLOWED_MECHANISMS, only, sizeof(only)}};
    CK_OBJECT_HANDLE k, free_k, found[4];
    /* A length that is no whole number of mechanisms. */
    tk[5].ulValueLen = sizeof(only) - 1;
    assert_int_equal(t->f->C_GenerateKey(s, &gen, tk, 6, &k), CKR_ATTRIBUTE_VALUE_INVALID);
    tk[5].ulValueLen = sizeof(only);
    assert_int_equal(t->f->C_GenerateKey(s, &gen, tk, 6, &k), CKR_OK);
    assert_int_equal(t->f->C_GenerateKey(s, &gen, tk, 3, &free_k), CKR_OK);

    /* Reported as given; a key without the list reports an empty one. */
    CK_ATTRIBUTE a = {CKA_ALLOWED_MECHANISMS, got, sizeof(got)};
    assert_int_equal(t->f->C_GetAttributeValue(s, k, &a, 1), CKR_OK);
    assert_int_equal(a.ulValueLen, sizeof(only));
    assert_memory_equal(got, only, sizeof(only));
    a.ulValueLen = sizeof(got);
    assert_int_equal(t->f->C_GetAttributeValue(s, free_k, &a, 1), CKR_OK);
    assert_int_equal(a.ulValueLen, 0);

    /* Enforced at Init: a mechanism not listed is CKR_MECHANISM_INVALID. */
    assert_int_equal(encrypt_init(t, s, CKM_AES_ECB, k), CKR_MECHANISM_INVALID);
    assert_int_equal(encrypt_init(t, s, CKM_AES_CBC_PAD, k), CKR_OK);
    assert_int_equal(encrypt_init(t, s, CKM_AES_CBC, k), CKR_OK);
    assert_int_equal(encrypt_init(t, s, CKM_AES_ECB, free_k), CKR_OK);
    /* ... and for keys used by key management: a derivation the key is
     * otherwise fit for (its twin without the list derives). */
    CK_MECHANISM derive = {CKM_SHA256_KEY_DERIVATION, NULL, 0};
    CK_OBJECT_HANDLE dk;
    CK_OBJECT_CLASS sk = CKO_SECRET_KEY;
    CK_KEY_TYPE gk = CKK_GENERIC_SECRET;
    CK_ATTRIBUTE dt[] = {{CKA_CLASS, &sk, sizeof(sk)},
                         {CKA_KEY_TYPE, &gk, sizeof(gk)},
                         {CKA_VALUE_LEN, &len, sizeof(len)}};
    assert_int_equal(t->f->C_DeriveKey(s, &derive, free_k, dt, 3, &dk), CKR_OK);
    assert_int_equal(t->f->C_DeriveKey(s, &derive, k, dt, 3, &dk), CKR_MECHANISM_INVALID);

    /* Searchable; kept in the keystore: the same after C_Finalize. */
    CK_ATTRIBUTE by[] = {{CKA_ALLOWED_MECHANISMS, only, sizeof(only)},
                         {CKA_LABEL, "restricted", 10}};
    CK_ULONG nfound = find(t, s, by, 2, found, 4);
    assert_int_equal(nfound, 1);
    assert_int_equal(found[0], k);
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_OK);
    s = p11t_session(t, 0, 1);
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)x->user, strlen(x->user)), CKR_OK);
    assert_int_equal(find_label(t, s, "restricted", found, 4), 1);
    k = found[0];
    a.ulValueLen = sizeof(got);
    assert_int_equal(t->f->C_GetAttributeValue(s, k, &a, 1), CKR_OK);
    assert_int_equal(a.ulValueLen, sizeof(only));
    assert_int_equal(encrypt_init(t, s, CKM_AES_ECB, k), CKR_MECHANISM_INVALID);
    assert_int_equal(encrypt_init(t, s, CKM_AES_CBC_PAD, k), CKR_OK);
    /* Bound in the blob when the key was made: never changed, neither
     * widened nor swapped, and not on a copy either. */
    CK_MECHANISM_TYPE ecb = CKM_AES_ECB;
    CK_ATTRIBUTE to_ecb = {CKA_ALLOWED_MECHANISMS, &ecb, sizeof(ecb)};
    assert_int_equal(t->f->C_SetAttributeValue(s, k, &to_ecb, 1), CKR_ATTRIBUTE_READ_ONLY);
    CK_OBJECT_HANDLE copy;
    assert_int_equal(t->f->C_CopyObject(s, k, &to_ecb, 1, &copy), CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(encrypt_init(t, s, CKM_AES_CBC_PAD, k), CKR_OK);
    assert_int_equal(encrypt_init(t, s, CKM_AES_ECB, k), CKR_MECHANISM_INVALID);

    /* The server enforces the list itself: the key's blob, sent past the
     * module straight through libgrep11, still cannot encrypt with ECB. */
    assert_int_equal(server_encrypt(x, "restricted", CKM_AES_ECB), CKR_MECHANISM_INVALID);
    assert_int_equal(server_encrypt(x, "restricted", CKM_AES_CBC_PAD), CKR_OK);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unique_id_of_token_objects),
        cmocka_unit_test(unique_id_of_session_objects),
        cmocka_unit_test(allowed_mechanisms),
    };
    return cmocka_run_group_tests_name("pkcs11 object attributes", tests, setup, teardown);
}
