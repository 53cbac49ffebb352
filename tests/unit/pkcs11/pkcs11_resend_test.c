/* Token-object writes through pkcs11-grep11.so when the server's answer is
 * lost after it ran the write (tests/integration/dropproxy.h between the
 * module and a plaintext grep11d): C_CreateObject, C_SetAttributeValue and
 * C_DestroyObject of a token object succeed once, and the keystore holds
 * what one call makes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dropproxy.h"
#include "p11test.h"

#define PRIV0 "7e1d0000-0000-4000-8000-000000000001"
#define PUB0 "7e1d0000-0000-4000-8000-000000000002"
static const uint8_t KS[2][16] = {
    {0x7e, 0x1d, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 1},
    {0x7e, 0x1d, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 2},
};
static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

typedef struct {
    p11t t;
    drop_proxy *proxy;
    char anon[160];
    g11c_conn *direct; /* the anonymous user's key, straight to grep11.Store */
    CK_SESSION_HANDLE s;
} fixture;

static int key(g11c_conn *admin, const char *name, const char *role, const uint8_t (*ks)[16],
               size_t nks, char *out, size_t cap)
{
    const char *roles[] = {role, "crypto"};
    return g11c_admin_create_api_key(admin, name, roles, 2, ks, nks, NULL, out, cap, NULL) == CKR_OK
               ? 0
               : -1;
}

/* The module speaks plaintext to the proxy, which relays to the server. */
static int write_config(fixture *x)
{
    char yaml[2048];
    const char *addr = drop_proxy_addr(x->proxy), *colon = strrchr(addr, ':');
    snprintf(yaml, sizeof(yaml),
             "tokens:\n"
             "  0:\n"
             "    grep11connection: {address: \"%.*s\", port: %s, tls: {enabled: false}}\n"
             "    storage: {remotestore: {enabled: true}}\n"
             "    users:\n"
             "      1: {name: user, tokenspaceID: \"" PRIV0 "\", iamauth: {enabled: true}}\n"
             "      2: {name: anonymous, tokenspaceID: \"" PUB0 "\", iamauth: {enabled: true, "
             "apikey: \"%s\"}}\n"
             "logging: {loglevel: debug, logpath: \"@DIR@/module.log\"}\n",
             (int)(colon - addr), addr, colon + 1, x->anon);
    return p11t_write_config(&x->t, yaml);
}

static int setup(void **state)
{
    static const char *const insecure[] = {"--insecure", NULL};
    char so[160];
    fixture *x = calloc(1, sizeof(*x));
    *state = x;
    if (!x || test_server_start(&x->t.srv, NULL, insecure) != 0)
        return -1;
    x->t.have_srv = 1;
    g11c_conn *admin = test_connect(&x->t.srv, 1);
    int ok = admin && key(admin, "so", "keystore-so", KS, 2, so, sizeof(so)) == 0 &&
             key(admin, "anon", "keystore-anonymous", &KS[1], 1, x->anon, sizeof(x->anon)) == 0;
    if (admin)
        g11c_close(admin);
    g11c_conn *soc = ok ? test_connect_as(&x->t.srv, 1, so) : NULL;
    ok = soc && g11c_store_init_keystores(soc, KS[0], KS[1], "resend", NULL) == CKR_OK;
    if (soc)
        g11c_close(soc);
    if (!ok || !(x->proxy = drop_proxy_start(x->t.srv.addr)) || write_config(x) != 0 ||
        p11t_load(&x->t, 1) != 0)
        return -1;
    x->direct = test_connect_as(&x->t.srv, 1, x->anon);
    x->s = p11t_session(&x->t, 0, 1);
    return x->direct && x->s ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *x = *state;
    if (x->direct)
        g11c_close(x->direct);
    int rc = p11t_stop(&x->t); /* the module's connection goes before the proxy */
    drop_proxy_stop(x->proxy);
    free(x);
    return rc;
}

/* The public keystore's objects with this label (*objs: free them). */
static size_t stored(fixture *x, const char *label, g11c_stored_object **objs)
{
    CK_ATTRIBUTE by = {CKA_LABEL, (void *)label, strlen(label)};
    size_t n = 0;
    char next[64];
    assert_int_equal(
        g11c_store_find_objects(x->direct, KS[1], NULL, &by, 1, NULL, 0, objs, &n, next), CKR_OK);
    return n;
}

static CK_RV token_object(fixture *x, const char *label, CK_OBJECT_HANDLE *h)
{
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE a[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_LABEL, (void *)label, strlen(label)},
                        {CKA_VALUE, "v", 1},
                        {CKA_TOKEN, (void *)&yes, 1},
                        {CKA_PRIVATE, (void *)&no, 1}};
    return x->t.f->C_CreateObject(x->s, a, 5, h);
}

/* The answer to the CreateObject is lost: the module's call still succeeds,
 * once, with the object the server made. */
static void create_whose_answer_was_lost(void **state)
{
    fixture *x = *state;
    static const char label[] = "p11-lose-the-answer-create";
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    drop_proxy_arm(x->proxy, label, strlen(label), 1);
    assert_int_equal(token_object(x, label, &h), CKR_OK);
    assert_int_equal(drop_proxy_cut(x->proxy), 1);
    assert_int_equal(drop_proxy_seen(x->proxy), 2);
    g11c_stored_object *objs = NULL;
    size_t n = stored(x, label, &objs);
    assert_int_equal(n, 1);
    /* The handle is the stored object: CKA_UNIQUE_ID is its UUID. */
    char uid[64] = "", want[64];
    CK_ATTRIBUTE a = {CKA_UNIQUE_ID, uid, sizeof(uid) - 1};
    assert_int_equal(x->t.f->C_GetAttributeValue(x->s, h, &a, 1), CKR_OK);
    uid[a.ulValueLen] = '\0';
    const uint8_t *u = objs[0].id;
    snprintf(want, sizeof(want),
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
             u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
             u[15]);
    assert_string_equal(uid, want);
    g11c_stored_objects_free(objs, n);
}

/* The same for a change and a destroy of a token object. */
static void change_and_destroy_whose_answers_were_lost(void **state)
{
    fixture *x = *state;
    static const char label[] = "p11-lose-the-answer-set";
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    assert_int_equal(token_object(x, "p11-before-the-change", &h), CKR_OK);
    drop_proxy_arm(x->proxy, label, strlen(label), 1);
    CK_ATTRIBUTE a = {CKA_LABEL, (void *)label, strlen(label)};
    assert_int_equal(x->t.f->C_SetAttributeValue(x->s, h, &a, 1), CKR_OK);
    assert_int_equal(drop_proxy_cut(x->proxy), 1);
    assert_int_equal(drop_proxy_seen(x->proxy), 2);
    g11c_stored_object *objs = NULL;
    size_t n = stored(x, label, &objs);
    assert_int_equal(n, 1);
    assert_int_equal(objs[0].version, 2); /* one update, not two */
    uint8_t id[16];
    memcpy(id, objs[0].id, 16);
    g11c_stored_objects_free(objs, n);

    drop_proxy_arm(x->proxy, id, sizeof(id), 1);
    assert_int_equal(x->t.f->C_DestroyObject(x->s, h), CKR_OK);
    assert_int_equal(drop_proxy_cut(x->proxy), 1);
    assert_int_equal(drop_proxy_seen(x->proxy), 2);
    assert_int_equal(stored(x, label, &objs), 0);
    g11c_stored_objects_free(objs, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_whose_answer_was_lost),
        cmocka_unit_test(change_and_destroy_whose_answers_were_lost),
    };
    return cmocka_run_group_tests_name("pkcs11 resend", tests, setup, teardown);
}
