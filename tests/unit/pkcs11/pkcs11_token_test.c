/* Token objects through pkcs11-grep11.so and grep11.Store: the DESIGN §5
 * placement table row by row (SO, user, anonymous × CKA_TOKEN ×
 * CKA_PRIVATE, checked in the keystores themselves), visibility across
 * sessions, stable handles, persistence across C_Finalize/C_Initialize,
 * search across session and token objects with paging, attribute changes
 * written back (and a conflict between two module instances that loses
 * nothing), copy and destroy, crypto with token keys, C_InitToken (SO PIN,
 * wipe, label), and a password-protected private keystore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grep11/ck_ext.h"
#include "p11test.h"

#define PRIV0 "7e1c0000-0000-4000-8000-000000000001"
#define PUB0 "7e1c0000-0000-4000-8000-000000000002"
#define PRIV1 "7e1c0000-0000-4000-8000-000000000003"
#define PUB1 "7e1c0000-0000-4000-8000-000000000004"
static const uint8_t KS[4][16] = {
    {0x7e, 0x1c, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 1},
    {0x7e, 0x1c, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 2},
    {0x7e, 0x1c, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 3},
    {0x7e, 0x1c, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 4},
};
#define PASSWORD "s3cret-pw"

typedef struct {
    p11t t;
    char so[160], user[160], anon[160];
    g11c_conn *direct; /* the normal user's key, straight to grep11.Store */
} fixture;

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static int write_config(fixture *x)
{
    char yaml[4096];
    snprintf(yaml, sizeof(yaml),
             "conn: &conn {address: \"@HOST@\", port: @PORT@, tls: {enabled: true, cacert: "
             "\"@CA@\"}}\n"
             "iam: &iam {enabled: true}\n"
             "anon: &anon {enabled: true, apikey: \"%s\"}\n"
             "store: &store {remotestore: {enabled: true}}\n"
             "locked: &locked {enabled: true, tokenspaceIDPassword: \"" PASSWORD "\"}\n"
             "tokens:\n"
             "  0:\n"
             "    label: configured\n"
             "    grep11connection: *conn\n"
             "    storage: *store\n"
             "    users:\n"
             "      0: {name: so, iamauth: *iam}\n"
             "      1: {name: user, tokenspaceID: \"" PRIV0 "\", iamauth: *iam}\n"
             "      2: {name: anonymous, tokenspaceID: \"" PUB0 "\", iamauth: *anon}\n"
             "  1:\n"
             "    label: locked\n"
             "    grep11connection: *conn\n"
             "    storage: *store\n"
             "    users:\n"
             "      0: {name: so, iamauth: *iam}\n"
             "      1: {name: user, tokenspaceID: \"" PRIV1 "\", iamauth: *iam, sessionauth: "
             "*locked}\n"
             "      2: {name: anonymous, tokenspaceID: \"" PUB1 "\", iamauth: *anon}\n"
             "  2:\n"
             "    label: wrong password\n"
             "    grep11connection: *conn\n"
             "    storage: *store\n"
             "    users:\n"
             "      1: {name: user, tokenspaceID: \"" PRIV1 "\", iamauth: *iam, sessionauth: "
             "{<<: *locked, tokenspaceIDPassword: \"not-the-password\"}}\n"
             "      2: {name: anonymous, tokenspaceID: \"" PUB1 "\", iamauth: *anon}\n"
             "  3:\n"
             "    label: no store\n"
             "    grep11connection: *conn\n"
             "    users:\n"
             "      1: {name: user, tokenspaceID: \"" PRIV0 "\", iamauth: *iam}\n"
             "      2: {name: anonymous, tokenspaceID: \"" PUB0 "\", iamauth: *anon}\n"
             "logging: {loglevel: debug, logpath: \"@DIR@/module.log\"}\n",
             x->anon);
    return p11t_write_config(&x->t, yaml);
}

static void pad32(CK_UTF8CHAR out[32], const char *s)
{
    memset(out, ' ', 32);
    memcpy(out, s, strlen(s));
}

static CK_RV init_token(p11t *t, CK_SLOT_ID slot, const char *pin, const char *label)
{
    CK_UTF8CHAR l[32];
    pad32(l, label);
    return t->f->C_InitToken(slot, (CK_UTF8CHAR *)pin, strlen(pin), l);
}

static int setup(void **state)
{
    fixture *x = calloc(1, sizeof(*x));
    *state = x;
    if (!x || p11t_server(&x->t, NULL) != 0 ||
        p11t_keystore_users(&x->t, KS, 4, x->so, x->user, x->anon, sizeof(x->so)) != 0 ||
        write_config(x) != 0 || p11t_load(&x->t, 1) != 0)
        return -1;
    if (init_token(&x->t, 0, x->so, "first") != CKR_OK ||
        init_token(&x->t, 1, x->so, "locked token") != CKR_OK)
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

static CK_RV data_object(p11t *t, CK_SESSION_HANDLE s, const char *label, int token, int priv,
                         CK_OBJECT_HANDLE *h)
{
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE a[5] = {{CKA_CLASS, &cls, sizeof(cls)},
                         {CKA_LABEL, (void *)label, strlen(label)},
                         {CKA_VALUE, "v", 1}};
    CK_ULONG n = 3;
    if (token >= 0)
        a[n++] = (CK_ATTRIBUTE){CKA_TOKEN, (void *)(token ? &yes : &no), 1};
    if (priv >= 0)
        a[n++] = (CK_ATTRIBUTE){CKA_PRIVATE, (void *)(priv ? &yes : &no), 1};
    return t->f->C_CreateObject(s, a, n, h);
}

static CK_BBOOL get_bool(p11t *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE ty)
{
    CK_BBOOL v = 0xff;
    CK_ATTRIBUTE a = {ty, &v, 1};
    assert_int_equal(t->f->C_GetAttributeValue(s, h, &a, 1), CKR_OK);
    return v;
}

static void get_label(p11t *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, char *out, size_t cap)
{
    CK_ATTRIBUTE a = {CKA_LABEL, out, cap - 1};
    assert_int_equal(t->f->C_GetAttributeValue(s, h, &a, 1), CKR_OK);
    out[a.ulValueLen] = '\0';
}

/* Which keystore of token 0 holds the object with this label: 'P'
 * private, 'U' public, 0 none (and never both). */
static char stored_in(fixture *x, const char *label)
{
    char where = 0;
    CK_ATTRIBUTE by = {CKA_LABEL, (void *)label, strlen(label)};
    for (int ks = 0; ks < 2; ks++) {
        g11c_stored_object *objs = NULL;
        size_t n = 0;
        char next[64];
        assert_int_equal(
            g11c_store_find_objects(x->direct, KS[ks], NULL, &by, 1, NULL, 0, &objs, &n, next),
            CKR_OK);
        if (n) {
            assert_int_equal(n, 1);
            assert_int_equal(where, 0);
            where = ks == 0 ? 'P' : 'U';
        }
        g11c_stored_objects_free(objs, n);
    }
    return where;
}

static CK_ULONG find(p11t *t, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                     CK_OBJECT_HANDLE *out, CK_ULONG max)
{
    CK_ULONG got = 0, total = 0;
    assert_int_equal(t->f->C_FindObjectsInit(s, tmpl, n), CKR_OK);
    do {
        CK_ULONG ask = max - total > 7 ? 7 : max - total;
        assert_int_equal(t->f->C_FindObjects(s, out + total, ask, &got), CKR_OK);
        total += got;
    } while (got && total < max);
    assert_int_equal(t->f->C_FindObjectsFinal(s), CKR_OK);
    return total;
}

static CK_ULONG find_label(p11t *t, CK_SESSION_HANDLE s, const char *label, CK_OBJECT_HANDLE *out,
                           CK_ULONG max)
{
    CK_ATTRIBUTE by = {CKA_LABEL, (void *)label, strlen(label)};
    return find(t, s, &by, 1, out, max);
}

/* ---- C_InitToken ------------------------------------------------------- */

static void init_token_rules(void **state)
{
    fixture *x = *state;
    p11t *t = &x->t;
    CK_TOKEN_INFO ti;
    /* The label is the keystores' (C_InitToken's), not the configured one. */
    assert_int_equal(t->f->C_GetTokenInfo(0, &ti), CKR_OK);
    assert_memory_equal(ti.label, "first                           ", 32);
    assert_true(ti.flags & CKF_TOKEN_INITIALIZED);
    /* Not the SO's key: a made-up one, and the normal user's. */
    assert_int_equal(init_token(t, 0, "g11k_AAAAAAAAAAAAAAAA.wrong", "x"), CKR_PIN_INCORRECT);
    assert_int_equal(init_token(t, 0, x->user, "x"), CKR_PIN_INCORRECT);
    /* Not while a session is open. */
    CK_SESSION_HANDLE s = p11t_session(t, 0, 1);
    assert_int_equal(init_token(t, 0, x->so, "x"), CKR_SESSION_EXISTS);
    /* PINs are API keys: nothing to initialise or change. */
    assert_int_equal(t->f->C_Login(s, CKU_SO, (CK_UTF8CHAR *)x->so, strlen(x->so)), CKR_OK);
    assert_int_equal(t->f->C_InitPIN(s, (CK_UTF8CHAR *)"123456", 6), CKR_FUNCTION_NOT_SUPPORTED);
    assert_int_equal(t->f->C_SetPIN(s, (CK_UTF8CHAR *)"a", 1, (CK_UTF8CHAR *)"b", 1),
                     CKR_FUNCTION_NOT_SUPPORTED);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
    /* A token without keystores cannot be initialised. */
    assert_int_equal(init_token(t, 3, x->so, "x"), CKR_TOKEN_WRITE_PROTECTED);
    assert_int_equal(t->f->C_GetTokenInfo(3, &ti), CKR_OK);
    assert_memory_equal(ti.label, "no store                        ", 32);
    assert_true(ti.flags & CKF_TOKEN_INITIALIZED);
}

/* ---- DESIGN §5, row by row ------------------------------------------------ */

/* SO or anonymous: CKA_PRIVATE defaults to FALSE and TRUE is an error;
 * session objects in memory, token objects in the public keystore. */
static void placement_public_only(fixture *x, CK_SESSION_HANDLE s, const char *who)
{
    p11t *t = &x->t;
    CK_OBJECT_HANDLE h;
    char label[64];
    snprintf(label, sizeof(label), "%s-session", who);
    assert_int_equal(data_object(t, s, label, 0, -1, &h), CKR_OK);
    assert_int_equal(get_bool(t, s, h, CKA_PRIVATE), CK_FALSE);
    assert_int_equal(get_bool(t, s, h, CKA_TOKEN), CK_FALSE);
    assert_int_equal(stored_in(x, label), 0);
    assert_int_equal(data_object(t, s, "x", 0, 1, &h), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(data_object(t, s, "x", -1, 1, &h), CKR_USER_NOT_LOGGED_IN);
    snprintf(label, sizeof(label), "%s-token", who);
    assert_int_equal(data_object(t, s, label, 1, -1, &h), CKR_OK);
    assert_int_equal(get_bool(t, s, h, CKA_PRIVATE), CK_FALSE);
    assert_int_equal(get_bool(t, s, h, CKA_TOKEN), CK_TRUE);
    assert_int_equal(stored_in(x, label), 'U');
    snprintf(label, sizeof(label), "%s-token-public", who);
    assert_int_equal(data_object(t, s, label, 1, 0, &h), CKR_OK);
    assert_int_equal(stored_in(x, label), 'U');
    assert_int_equal(data_object(t, s, "x", 1, 1, &h), CKR_USER_NOT_LOGGED_IN);
}

static void placement_so(void **state)
{
    fixture *x = *state;
    p11t *t = &x->t;
    CK_SESSION_HANDLE s = p11t_session(t, 0, 1);
    assert_int_equal(t->f->C_Login(s, CKU_SO, (CK_UTF8CHAR *)x->so, strlen(x->so)), CKR_OK);
    placement_public_only(x, s, "so");
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

static void placement_anonymous(void **state)
{
    fixture *x = *state;
    p11t *t = &x->t;
    CK_SESSION_HANDLE s = p11t_session(t, 0, 1);
    placement_public_only(x, s, "anon");
    /* A read-only session makes no token objects. */
    CK_SESSION_HANDLE ro = p11t_session(t, 0, 0);
    CK_OBJECT_HANDLE h;
    assert_int_equal(data_object(t, ro, "ro", 1, -1, &h), CKR_SESSION_READ_ONLY);
    assert_int_equal(data_object(t, ro, "ro", 0, -1, &h), CKR_OK);
    assert_int_equal(t->f->C_CloseSession(ro), CKR_OK);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

/* Normal user: CKA_PRIVATE defaults to TRUE; token objects go to the
 * private or the public keystore by CKA_PRIVATE. */
static void placement_user(void **state)
{
    fixture *x = *state;
    p11t *t = &x->t;
    CK_SESSION_HANDLE s = p11t_session(t, 0, 1);
    CK_OBJECT_HANDLE h, found[4];
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)x->user, strlen(x->user)), CKR_OK);
    assert_int_equal(data_object(t, s, "user-session", 0, -1, &h), CKR_OK);
    assert_int_equal(get_bool(t, s, h, CKA_PRIVATE), CK_TRUE);
    assert_int_equal(data_object(t, s, "user-session-public", 0, 0, &h), CKR_OK);
    assert_int_equal(get_bool(t, s, h, CKA_PRIVATE), CK_FALSE);
    assert_int_equal(stored_in(x, "user-session"), 0);
    assert_int_equal(stored_in(x, "user-session-public"), 0);
    assert_int_equal(data_object(t, s, "user-token", 1, -1, &h), CKR_OK);
    assert_int_equal(get_bool(t, s, h, CKA_PRIVATE), CK_TRUE);
    assert_int_equal(stored_in(x, "user-token"), 'P');
    assert_int_equal(data_object(t, s, "user-token-private", 1, 1, &h), CKR_OK);
    assert_int_equal(stored_in(x, "user-token-private"), 'P');
    assert_int_equal(data_object(t, s, "user-token-public", 1, 0, &h), CKR_OK);
    assert_int_equal(get_bool(t, s, h, CKA_PRIVATE), CK_FALSE);
    assert_int_equal(stored_in(x, "user-token-public"), 'U');
    /* After logout the private token objects are out of sight, public ones not. */
    assert_int_equal(t->f->C_Logout(s), CKR_OK);
    assert_int_equal(find_label(t, s, "user-token", found, 4), 0);
    assert_int_equal(find_label(t, s, "user-token-public", found, 4), 1);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

/* ---- visibility, handles, search ----------------------------------------- */

static void visible_across_sessions(void **state)
{
    fixture *x = *state;
    p11t *t = &x->t;
    CK_SESSION_HANDLE s1 = p11t_session(t, 0, 1), s2 = p11t_session(t, 0, 0);
    CK_OBJECT_HANDLE h, found[4], again[4];
    assert_int_equal(data_object(t, s1, "shared", 1, -1, &h), CKR_OK);
    assert_int_equal(find_label(t, s2, "shared", found, 4), 1);
    assert_int_equal(found[0], h); /* one handle per object */
    assert_int_equal(t->f->C_CloseSession(s1), CKR_OK);
    /* A token object outlives the session that made it. */
    assert_int_equal(find_label(t, s2, "shared", again, 4), 1);
    assert_int_equal(again[0], h);
    char label[32];
    get_label(t, s2, h, label, sizeof(label));
    assert_string_equal(label, "shared");
    /* Other tokens do not see it. */
    CK_SESSION_HANDLE other = p11t_session(t, 1, 0);
    assert_int_equal(find_label(t, other, "shared", found, 4), 0);
    assert_int_equal(t->f->C_CloseSession(other), CKR_OK);
    assert_int_equal(t->f->C_CloseSession(s2), CKR_OK);
}

static void search_session_and_token(void **state)
{
    fixture *x = *state;
    p11t *t = &x->t;
    CK_SESSION_HANDLE s = p11t_session(t, 0, 1);
    CK_OBJECT_HANDLE hs, ht, hp, found[8];
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)x->user, strlen(x->user)), CKR_OK);
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE a[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_LABEL, "mixed", 5},
                        {CKA_ID, "\x01\x02", 2},
                        {CKA_TOKEN, (void *)&no, 1},
                        {CKA_PRIVATE, (void *)&no, 1}};
    assert_int_equal(t->f->C_CreateObject(s, a, 5, &hs), CKR_OK);
    a[3].pValue = (void *)&yes;
    assert_int_equal(t->f->C_CreateObject(s, a, 5, &ht), CKR_OK);
    a[4].pValue = (void *)&yes;
    a[2].pValue = "\x03";
    a[2].ulValueLen = 1;
    assert_int_equal(t->f->C_CreateObject(s, a, 5, &hp), CKR_OK);
    /* By label: all three, session objects first. */
    assert_int_equal(find_label(t, s, "mixed", found, 8), 3);
    assert_int_equal(found[0], hs);
    CK_ATTRIBUTE by_id[] = {{CKA_LABEL, "mixed", 5}, {CKA_ID, "\x01\x02", 2}};
    assert_int_equal(find(t, s, by_id, 2, found, 8), 2);
    assert_int_equal(found[0], hs);
    assert_int_equal(found[1], ht);
    CK_ATTRIBUTE by_class_token[] = {
        {CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, "mixed", 5}, {CKA_TOKEN, (void *)&yes, 1}};
    assert_int_equal(find(t, s, by_class_token, 3, found, 8), 2);
    CK_ATTRIBUTE private_only[] = {{CKA_LABEL, "mixed", 5}, {CKA_PRIVATE, (void *)&yes, 1}};
    assert_int_equal(find(t, s, private_only, 2, found, 8), 1);
    assert_int_equal(found[0], hp);
    CK_ATTRIBUTE session_only[] = {{CKA_LABEL, "mixed", 5}, {CKA_TOKEN, (void *)&no, 1}};
    assert_int_equal(find(t, s, session_only, 2, found, 8), 1);
    assert_int_equal(found[0], hs);
    /* An empty template sees every object of the token, found page by page. */
    CK_OBJECT_HANDLE all[64];
    CK_ULONG n = find(t, s, NULL, 0, all, 64);
    assert_true(n >= 10);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

static void paging_through_many(void **state)
{
    fixture *x = *state;
    p11t *t = &x->t;
    enum { N = 300 }; /* more than a page */
    CK_SESSION_HANDLE s = p11t_session(t, 0, 1);
    CK_OBJECT_HANDLE h, *found = calloc(N + 8, sizeof(*found));
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE a[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_LABEL, "many", 4},
                        {CKA_APPLICATION, "paging", 6},
                        {CKA_TOKEN, (void *)&yes, 1}};
    for (int i = 0; i < N; i++)
        assert_int_equal(t->f->C_CreateObject(s, a, 4, &h), CKR_OK);
    CK_ATTRIBUTE by_app = {CKA_APPLICATION, "paging", 6};
    assert_int_equal(find(t, s, &by_app, 1, found, N + 8), N);
    for (int i = 1; i < N; i++)
        for (int k = 0; k < i; k++)
            assert_int_not_equal(found[i], found[k]);
    /* Stop early: C_FindObjectsFinal with pages still unread. */
    CK_ULONG got;
    assert_int_equal(t->f->C_FindObjectsInit(s, &by_app, 1), CKR_OK);
    assert_int_equal(t->f->C_FindObjects(s, found, 1, &got), CKR_OK);
    assert_int_equal(got, 1);
    assert_int_equal(t->f->C_FindObjectsFinal(s), CKR_OK);
    free(found);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

/* ---- attributes, copy, destroy ------------------------------------------- */

static void set_copy_destroy(void **state)
{
    fixture *x = *state;
    p11t *t = &x->t;
    CK_SESSION_HANDLE s = p11t_session(t, 0, 1), ro = p11t_session(t, 0, 0);
    CK_OBJECT_HANDLE h, c, found[4];
    char label[32];
    assert_int_equal(data_object(t, s, "before", 1, -1, &h), CKR_OK);
    CK_ATTRIBUTE relabel = {CKA_LABEL, "after", 5};
    assert_int_equal(t->f->C_SetAttributeValue(ro, h, &relabel, 1), CKR_SESSION_READ_ONLY);
    assert_int_equal(t->f->C_SetAttributeValue(s, h, &relabel, 1), CKR_OK);
    get_label(t, s, h, label, sizeof(label));
    assert_string_equal(label, "after");
    assert_int_equal(stored_in(x, "after"), 'U');
    assert_int_equal(stored_in(x, "before"), 0);
    CK_ATTRIBUTE tok = {CKA_TOKEN, (void *)&no, 1};
    assert_int_equal(t->f->C_SetAttributeValue(s, h, &tok, 1), CKR_ATTRIBUTE_READ_ONLY);
    /* Copy a session object into the token, and a token object out of it. */
    CK_OBJECT_HANDLE sess;
    assert_int_equal(data_object(t, s, "copy-source", 0, -1, &sess), CKR_OK);
    CK_ATTRIBUTE to_token[] = {{CKA_TOKEN, (void *)&yes, 1}, {CKA_LABEL, "copied", 6}};
    assert_int_equal(t->f->C_CopyObject(ro, sess, to_token, 2, &c), CKR_SESSION_READ_ONLY);
    assert_int_equal(t->f->C_CopyObject(s, sess, to_token, 2, &c), CKR_OK);
    assert_int_equal(stored_in(x, "copied"), 'U');
    assert_int_equal(get_bool(t, s, c, CKA_TOKEN), CK_TRUE);
    CK_ATTRIBUTE out_of_token[] = {{CKA_LABEL, "copied-out", 10}};
    CK_OBJECT_HANDLE c2;
    assert_int_equal(t->f->C_CopyObject(s, c, out_of_token, 1, &c2), CKR_OK);
    assert_int_equal(get_bool(t, s, c2, CKA_TOKEN), CK_TRUE); /* CKA_TOKEN is kept */
    assert_int_equal(stored_in(x, "copied-out"), 'U');
    CK_ATTRIBUTE to_session[] = {{CKA_TOKEN, (void *)&no, 1}, {CKA_LABEL, "copy-sess", 9}};
    assert_int_equal(t->f->C_CopyObject(s, c, to_session, 2, &c2), CKR_OK);
    assert_int_equal(get_bool(t, s, c2, CKA_TOKEN), CK_FALSE);
    assert_int_equal(stored_in(x, "copy-sess"), 0);
    /* Destroy: gone from the keystore and from searches. */
    assert_int_equal(t->f->C_DestroyObject(ro, h), CKR_SESSION_READ_ONLY);
    assert_int_equal(t->f->C_DestroyObject(s, h), CKR_OK);
    assert_int_equal(stored_in(x, "after"), 0);
    assert_int_equal(find_label(t, s, "after", found, 4), 0);
    char buf[8];
    CK_ATTRIBUTE l = {CKA_LABEL, buf, sizeof(buf)};
    assert_int_equal(t->f->C_GetAttributeValue(s, h, &l, 1), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(t->f->C_CloseSession(ro), CKR_OK);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

/* ---- token keys, persistence ---------------------------------------------- */

static void token_keys_persist(void **state)
{
    fixture *x = *state;
    p11t *t = &x->t;
    CK_SESSION_HANDLE s = p11t_session(t, 0, 1);
    CK_OBJECT_HANDLE k, found[4];
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)x->user, strlen(x->user)), CKR_OK);
    CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
    CK_ULONG len = 32;
    CK_ATTRIBUTE tk[] = {{CKA_VALUE_LEN, &len, sizeof(len)},
                         {CKA_TOKEN, (void *)&yes, 1},
                         {CKA_LABEL, "aes-token", 9},
                         {CKA_ID, "\xaa", 1},
                         {CKA_ENCRYPT, (void *)&yes, 1}};
    assert_int_equal(t->f->C_GenerateKey(s, &gen, tk, 5, &k), CKR_OK);
    assert_int_equal(stored_in(x, "aes-token"), 'P');
    CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
    CK_BYTE block[16] = "sixteen byte msg", c1[16], c2[16];
    CK_ULONG l = sizeof(c1);
    assert_int_equal(t->f->C_EncryptInit(s, &ecb, k), CKR_OK);
    assert_int_equal(t->f->C_Encrypt(s, block, 16, c1, &l), CKR_OK);
    /* Bound attributes read from the blob; searchable by key type. */
    CK_KEY_TYPE kt = CKK_AES;
    CK_ATTRIBUTE by_type[] = {{CKA_KEY_TYPE, &kt, sizeof(kt)}, {CKA_ID, "\xaa", 1}};
    assert_int_equal(find(t, s, by_type, 2, found, 4), 1);
    assert_int_equal(found[0], k);
    CK_BBOOL sens;
    CK_ATTRIBUTE sa = {CKA_SENSITIVE, &sens, 1};
    assert_int_equal(t->f->C_GetAttributeValue(s, k, &sa, 1), CKR_OK);
    assert_int_equal(sens, CK_TRUE);
    /* A bound attribute changed: a new blob written back to the keystore. */
    CK_ATTRIBUTE noenc = {CKA_ENCRYPT, (void *)&no, 1};
    assert_int_equal(t->f->C_SetAttributeValue(s, k, &noenc, 1), CKR_OK);
    assert_int_equal(t->f->C_EncryptInit(s, &ecb, k), CKR_KEY_FUNCTION_NOT_PERMITTED);
    CK_ATTRIBUTE enc = {CKA_ENCRYPT, (void *)&yes, 1};
    assert_int_equal(t->f->C_SetAttributeValue(s, k, &enc, 1), CKR_OK);

    /* A clear key imported into the token (its CKA_KEY_GEN_MECHANISM is
     * CK_UNAVAILABLE_INFORMATION) works like the generated one. */
    CK_OBJECT_CLASS sk = CKO_SECRET_KEY;
    CK_KEY_TYPE aes = CKK_AES;
    CK_BYTE value[32] = "an AES-256 key given in clear!!";
    CK_ATTRIBUTE imp[] = {{CKA_CLASS, &sk, sizeof(sk)},   {CKA_KEY_TYPE, &aes, sizeof(aes)},
                          {CKA_VALUE, value, 32},         {CKA_TOKEN, (void *)&yes, 1},
                          {CKA_ENCRYPT, (void *)&yes, 1}, {CKA_LABEL, "aes-imported", 12}};
    CK_OBJECT_HANDLE ki, ks;
    assert_int_equal(t->f->C_CreateObject(s, imp, 6, &ki), CKR_OK);
    imp[3].pValue = (void *)&no;
    assert_int_equal(t->f->C_CreateObject(s, imp, 6, &ks), CKR_OK);
    assert_int_equal(stored_in(x, "aes-imported"), 'P');
    CK_BYTE i1[16], i2[16];
    l = 16;
    assert_int_equal(t->f->C_EncryptInit(s, &ecb, ki), CKR_OK);
    assert_int_equal(t->f->C_Encrypt(s, block, 16, i1, &l), CKR_OK);
    l = 16;
    assert_int_equal(t->f->C_EncryptInit(s, &ecb, ks), CKR_OK);
    assert_int_equal(t->f->C_Encrypt(s, block, 16, i2, &l), CKR_OK);
    assert_memory_equal(i1, i2, 16);

    /* The module goes away and comes back: the key is still there. */
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_OK);
    s = p11t_session(t, 0, 0);
    assert_int_equal(find_label(t, s, "aes-token", found, 4), 0); /* private: log in first */
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)x->user, strlen(x->user)), CKR_OK);
    assert_int_equal(find_label(t, s, "aes-token", found, 4), 1);
    assert_int_equal(found[0], k); /* the handle is the object's for the process */
    l = sizeof(c2);
    assert_int_equal(t->f->C_EncryptInit(s, &ecb, found[0]), CKR_OK);
    assert_int_equal(t->f->C_Encrypt(s, block, 16, c2, &l), CKR_OK);
    assert_memory_equal(c1, c2, 16);
    assert_int_equal(find_label(t, s, "shared", found, 4), 1);
    /* Logout and login again: the same handle for the same object. */
    assert_int_equal(find_label(t, s, "aes-token", found, 4), 1);
    k = found[0];
    assert_int_equal(t->f->C_Logout(s), CKR_OK);
    assert_int_equal(t->f->C_EncryptInit(s, &ecb, k), CKR_KEY_HANDLE_INVALID);
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)x->user, strlen(x->user)), CKR_OK);
    assert_int_equal(find_label(t, s, "aes-token", found, 4), 1);
    assert_int_equal(found[0], k);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

/* ---- two applications change one object --------------------------------------- */

/* Lines of the module log (both instances write to it) that contain what. */
static int log_lines(fixture *x, const char *what)
{
    char path[400], line[1024];
    int n = 0;
    snprintf(path, sizeof(path), "%s/module.log", x->t.srv.dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, what) != NULL;
    fclose(f);
    return n;
}

static void conflicting_updates_lose_nothing(void **state)
{
    fixture *x = *state;
    p11t *a = &x->t, b = {0};
    b.srv = a->srv;
    assert_int_equal(p11t_load_copy(&b, a->srv.dir, 1), 0);
    CK_SESSION_HANDLE sa = p11t_session(a, 0, 1), sb = p11t_session(&b, 0, 1);
    CK_OBJECT_HANDLE ha, hb, found[2];
    int conflicts = log_lines(x, "changed elsewhere");
    assert_int_equal(data_object(a, sa, "contested", 1, -1, &ha), CKR_OK);
    assert_int_equal(find_label(&b, sb, "contested", found, 2), 1);
    hb = found[0];
    /* Both hold version 1; A writes first, B's write then conflicts, is
     * re-read and applied on top of A's. */
    CK_ATTRIBUTE by_a = {CKA_ID, "from-a", 6};
    CK_ATTRIBUTE by_b = {CKA_APPLICATION, "from-b", 6};
    assert_int_equal(a->f->C_SetAttributeValue(sa, ha, &by_a, 1), CKR_OK);
    assert_int_equal(b.f->C_SetAttributeValue(sb, hb, &by_b, 1), CKR_OK);
    /* Both changes are in the keystore and in B's view. */
    CK_ATTRIBUTE both[] = {{CKA_LABEL, "contested", 9}, by_a, by_b};
    assert_int_equal(find(&b, sb, both, 3, found, 2), 1);
    char id[16];
    CK_ATTRIBUTE ga = {CKA_ID, id, sizeof(id)};
    assert_int_equal(b.f->C_GetAttributeValue(sb, hb, &ga, 1), CKR_OK);
    assert_int_equal(ga.ulValueLen, 6);
    assert_memory_equal(id, "from-a", 6);
    /* And A, whose cached copy is now stale, conflicts too and keeps B's. */
    CK_ATTRIBUTE relabel = {CKA_LABEL, "contested-2", 11};
    assert_int_equal(a->f->C_SetAttributeValue(sa, ha, &relabel, 1), CKR_OK);
    CK_ATTRIBUTE all3[] = {{CKA_LABEL, "contested-2", 11}, by_a, by_b};
    assert_int_equal(find(&b, sb, all3, 3, found, 2), 1);
    assert_int_equal(find(a, sa, all3, 3, found, 2), 1);
    assert_int_equal(found[0], ha);
    assert_int_equal(log_lines(x, "changed elsewhere"), conflicts + 2); /* both writes conflicted */
    /* Destroyed by B: A's handle fails cleanly, and destroying it again is fine. */
    assert_int_equal(b.f->C_DestroyObject(sb, hb), CKR_OK);
    assert_int_equal(a->f->C_SetAttributeValue(sa, ha, &by_a, 1), CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(b.f->C_CloseSession(sb), CKR_OK);
    assert_int_equal(b.f->C_Finalize(NULL), CKR_OK);
    p11t_unload(&b);
    assert_int_equal(a->f->C_CloseSession(sa), CKR_OK);
}

/* ---- token key pairs --------------------------------------------------------------- */

static CK_OBJECT_HANDLE find_key(p11t *t, CK_SESSION_HANDLE s, const char *label,
                                 CK_OBJECT_CLASS cls)
{
    CK_OBJECT_HANDLE found[2];
    CK_ATTRIBUTE by[] = {{CKA_LABEL, (void *)label, strlen(label)}, {CKA_CLASS, &cls, sizeof(cls)}};
    assert_int_equal(find(t, s, by, 2, found, 2), 1);
    return found[0];
}

static void sign_verify(p11t *t, CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE priv,
                        CK_OBJECT_HANDLE pub)
{
    CK_BYTE msg[32] = "token key pair", *sig = malloc(8192);
    CK_ULONG len = 8192;
    assert_int_equal(t->f->C_SignInit(s, m, priv), CKR_OK);
    assert_int_equal(t->f->C_Sign(s, msg, sizeof(msg), sig, &len), CKR_OK);
    assert_int_equal(t->f->C_VerifyInit(s, m, pub), CKR_OK);
    assert_int_equal(t->f->C_Verify(s, msg, sizeof(msg), sig, len), CKR_OK);
    free(sig);
}

static void token_key_pairs(void **state)
{
    fixture *x = *state;
    p11t *t = &x->t;
    CK_MECHANISM_INFO mi;
    if (t->f->C_GetMechanismInfo(0, CKM_EC_KEY_PAIR_GEN, &mi) != CKR_OK ||
        t->f->C_GetMechanismInfo(0, CKM_ML_DSA_KEY_PAIR_GEN, &mi) != CKR_OK)
        skip();
    CK_SESSION_HANDLE s = p11t_session(t, 0, 1);
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)x->user, strlen(x->user)), CKR_OK);
    CK_OBJECT_HANDLE pub, priv;
    CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE tp[] = {{CKA_EC_PARAMS, "prime256v1", 10},
                         {CKA_TOKEN, (void *)&yes, 1},
                         {CKA_PRIVATE, (void *)&no, 1},
                         {CKA_LABEL, "ec-pair", 7}};
    CK_ATTRIBUTE tk[] = {{CKA_TOKEN, (void *)&yes, 1}, {CKA_LABEL, "ec-pair", 7}};
    assert_int_equal(t->f->C_GenerateKeyPair(s, &gen, tp, 4, tk, 2, &pub, &priv), CKR_OK);
    /* Public half in the public keystore, private half in the private one. */
    CK_ATTRIBUTE by = {CKA_LABEL, "ec-pair", 7};
    g11c_stored_object *objs = NULL;
    size_t n = 0;
    char next[64];
    for (int ks = 0; ks < 2; ks++) {
        assert_int_equal(
            g11c_store_find_objects(x->direct, KS[ks], NULL, &by, 1, NULL, 0, &objs, &n, next),
            CKR_OK);
        assert_int_equal(n, 1);
        const CK_ATTRIBUTE *c = NULL;
        for (CK_ULONG i = 0; i < objs[0].nattrs; i++)
            if (objs[0].attrs[i].type == CKA_CLASS)
                c = &objs[0].attrs[i];
        assert_non_null(c);
        assert_int_equal(*(CK_ULONG *)c->pValue, ks == 0 ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY);
        g11c_stored_objects_free(objs, n);
    }
    CK_MECHANISM ecdsa = {CKM_ECDSA_SHA256, NULL, 0};
    sign_verify(t, s, &ecdsa, priv, pub);
    /* ML-DSA-87: a private blob of several KiB, named by KeyBlobID in the
     * signing call instead of sent. */
    CK_ULONG set = CKP_ML_DSA_87;
    CK_MECHANISM mgen = {CKM_ML_DSA_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE mp[] = {{CKA_PARAMETER_SET, &set, sizeof(set)},
                         {CKA_TOKEN, (void *)&yes, 1},
                         {CKA_LABEL, "ml-dsa", 6}};
    CK_ATTRIBUTE mk[] = {{CKA_TOKEN, (void *)&yes, 1}, {CKA_LABEL, "ml-dsa", 6}};
    assert_int_equal(t->f->C_GenerateKeyPair(s, &mgen, mp, 3, mk, 2, &pub, &priv), CKR_OK);
    int refs = log_lines(x, "named by KeyBlobID");
    CK_MECHANISM mldsa = {CKM_ML_DSA, NULL, 0};
    sign_verify(t, s, &mldsa, priv, pub);
    assert_true(log_lines(x, "named by KeyBlobID") > refs);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);

    /* Both pairs after C_Finalize / C_Initialize. */
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_OK);
    s = p11t_session(t, 0, 0);
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)x->user, strlen(x->user)), CKR_OK);
    sign_verify(t, s, &ecdsa, find_key(t, s, "ec-pair", CKO_PRIVATE_KEY),
                find_key(t, s, "ec-pair", CKO_PUBLIC_KEY));
    sign_verify(t, s, &mldsa, find_key(t, s, "ml-dsa", CKO_PRIVATE_KEY),
                find_key(t, s, "ml-dsa", CKO_PUBLIC_KEY));
    /* Public attributes of a stored public key come from its blob. */
    CK_BYTE point[80];
    CK_ATTRIBUTE pa = {CKA_EC_POINT, point, sizeof(point)};
    assert_int_equal(
        t->f->C_GetAttributeValue(s, find_key(t, s, "ec-pair", CKO_PUBLIC_KEY), &pa, 1), CKR_OK);
    assert_int_equal(pa.ulValueLen, 67);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

/* ---- wipe, passwords -------------------------------------------------------------- */

static void init_token_wipes(void **state)
{
    fixture *x = *state;
    p11t *t = &x->t;
    CK_SESSION_HANDLE s = p11t_session(t, 0, 0);
    CK_OBJECT_HANDLE found[4];
    assert_true(find_label(t, s, "shared", found, 4) == 1);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
    assert_int_equal(init_token(t, 0, x->so, "second"), CKR_OK);
    CK_TOKEN_INFO ti;
    assert_int_equal(t->f->C_GetTokenInfo(0, &ti), CKR_OK);
    assert_memory_equal(ti.label, "second                          ", 32);
    s = p11t_session(t, 0, 0);
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)x->user, strlen(x->user)), CKR_OK);
    assert_int_equal(find(t, s, NULL, 0, found, 4), 0);
    assert_int_equal(stored_in(x, "aes-token"), 0);
    assert_int_equal(stored_in(x, "shared"), 0);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

static void password_protected_keystore(void **state)
{
    fixture *x = *state;
    p11t *t = &x->t;
    g11c_keystore_info info;
    assert_int_equal(g11c_store_keystore_info(x->direct, KS[2], &info), CKR_OK);
    assert_true(info.password_protected);
    assert_string_equal(info.label, "locked token");
    /* Slot 1 knows the password. */
    CK_SESSION_HANDLE s = p11t_session(t, 1, 1);
    CK_OBJECT_HANDLE h, found[4];
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)x->user, strlen(x->user)), CKR_OK);
    assert_int_equal(data_object(t, s, "sealed", 1, 1, &h), CKR_OK);
    assert_int_equal(find_label(t, s, "sealed", found, 4), 1);
    /* The public keystore has no password and works as ever. */
    assert_int_equal(data_object(t, s, "open", 1, 0, &h), CKR_OK);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
    /* Without the password the keystore yields nothing. */
    g11c_stored_object *objs = NULL;
    size_t n = 0;
    char next[64];
    CK_ATTRIBUTE by = {CKA_LABEL, "sealed", 6};
    assert_int_equal(g11c_store_find_objects(x->direct, KS[2], "wrong-password", &by, 1, NULL, 0,
                                             &objs, &n, next),
                     CKR_PIN_INCORRECT);
    assert_int_equal(
        g11c_store_find_objects(x->direct, KS[2], PASSWORD, &by, 1, NULL, 0, &objs, &n, next),
        CKR_OK);
    assert_int_equal(n, 1);
    g11c_stored_objects_free(objs, n);
    /* Slot 2 names the same keystores with a wrong password. */
    s = p11t_session(t, 2, 1);
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)x->user, strlen(x->user)), CKR_OK);
    assert_int_equal(data_object(t, s, "nope", 1, 1, &h), CKR_PIN_INCORRECT);
    assert_int_equal(t->f->C_FindObjectsInit(s, &by, 1), CKR_PIN_INCORRECT);
    /* A search that includes the private keystore fails the same way; one
     * of the public keystore does not need the password. */
    CK_ATTRIBUTE open_only[] = {{CKA_LABEL, "open", 4}, {CKA_PRIVATE, (void *)&no, 1}};
    assert_int_equal(find(t, s, open_only, 2, found, 4), 1);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_token_rules),
        cmocka_unit_test(placement_so),
        cmocka_unit_test(placement_anonymous),
        cmocka_unit_test(placement_user),
        cmocka_unit_test(visible_across_sessions),
        cmocka_unit_test(search_session_and_token),
        cmocka_unit_test(paging_through_many),
        cmocka_unit_test(set_copy_destroy),
        cmocka_unit_test(token_keys_persist),
        cmocka_unit_test(conflicting_updates_lose_nothing),
        cmocka_unit_test(token_key_pairs),
        cmocka_unit_test(init_token_wipes),
        cmocka_unit_test(password_protected_keystore),
    };
    return cmocka_run_group_tests_name("pkcs11 token objects", tests, setup, teardown);
}
