/* What libgrep11 sends again after a transport failure, against a real
 * grep11d: answers lost on purpose by a proxy after the server ran the
 * call (dropproxy.h), and a connection refused before anything was sent.
 * A call that may have run is resent only if running it twice is harmless
 * (grep11.Crypto) or the server can tell (a Store write's RequestID). */
#include <openssl/sha.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dropproxy.h"
#include "harness.h"
#include "store.pb-c.h"

static const uint8_t PRIV[16] = {0x44, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t PUB[16] = {0x55, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const char *const INSECURE[] = {"--insecure", NULL};

typedef struct {
    test_server srv;
    drop_proxy *proxy;
    char user_key[160];
    g11c_conn *direct; /* the user, straight to the server */
    g11c_conn *lossy;  /* the user, through the proxy */
} fixture;

static int make_key(g11c_conn *admin, const char *name, const char *const *roles, size_t nroles,
                    char *key, size_t cap)
{
    const uint8_t both[2][16] = {
        {0x44, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
        {0x55, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    };
    return g11c_admin_create_api_key(admin, name, roles, nroles, both, 2, NULL, key, cap, NULL) ==
                   CKR_OK
               ? 0
               : -1;
}

/* The user's connection through the proxy: the server's settings, the
 * proxy's address. */
static g11c_conn *connect_lossy(fixture *f)
{
    test_server via = f->srv;
    snprintf(via.addr, sizeof(via.addr), "%s", drop_proxy_addr(f->proxy));
    return test_connect_as(&via, 1, f->user_key);
}

static int setup(void **state)
{
    static const char *const so[] = {"keystore-so"};
    static const char *const user[] = {"keystore-user", "crypto"};
    char so_key[160];
    fixture *f = calloc(1, sizeof(*f));
    *state = f;
    if (!f || test_server_start(&f->srv, NULL, INSECURE) != 0)
        return -1;
    g11c_conn *admin = test_connect(&f->srv, 1);
    int ok = admin && make_key(admin, "so", so, 1, so_key, sizeof(so_key)) == 0 &&
             make_key(admin, "user", user, 2, f->user_key, sizeof(f->user_key)) == 0;
    if (admin)
        g11c_close(admin);
    g11c_conn *soc = ok ? test_connect_as(&f->srv, 1, so_key) : NULL;
    ok = soc && g11c_store_init_keystores(soc, PRIV, PUB, "resend", NULL) == CKR_OK;
    if (soc)
        g11c_close(soc);
    if (!ok || !(f->proxy = drop_proxy_start(f->srv.addr)))
        return -1;
    f->direct = test_connect_as(&f->srv, 1, f->user_key);
    f->lossy = connect_lossy(f);
    return f->direct && f->lossy ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->lossy)
        g11c_close(f->lossy);
    if (f->direct)
        g11c_close(f->direct);
    drop_proxy_stop(f->proxy);
    int rc = test_server_stop(&f->srv);
    free(f);
    return rc == 0 ? 0 : -1;
}

static uint64_t object_count(fixture *f)
{
    g11c_keystore_info info;
    assert_int_equal(g11c_store_keystore_info(f->direct, PUB, &info), CKR_OK);
    return info.object_count;
}

/* The public keystore's objects with this label. */
static size_t labelled(fixture *f, const char *label, g11c_stored_object **objs)
{
    CK_ATTRIBUTE by = {CKA_LABEL, (void *)label, strlen(label)};
    size_t n = 0;
    char next[64];
    assert_int_equal(g11c_store_find_objects(f->direct, PUB, NULL, &by, 1, NULL, 0, objs, &n, next),
                     CKR_OK);
    return n;
}

/* A CreateObject without a RequestID, as an older client sends it. */
static CK_RV create_unkeyed(g11c_conn *c, const char *label)
{
    Grep11__CreateObjectRequest req = GREP11__CREATE_OBJECT_REQUEST__INIT;
    Grep11__AttributeValue v = GREP11__ATTRIBUTE_VALUE__INIT;
    Grep11__CreateObjectRequest__AttributesEntry e =
        GREP11__CREATE_OBJECT_REQUEST__ATTRIBUTES_ENTRY__INIT;
    Grep11__CreateObjectRequest__AttributesEntry *ep = &e;
    uint8_t buf[512];
    v.one_attr_case = GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_B;
    v.attributeb = (ProtobufCBinaryData){strlen(label), (uint8_t *)label};
    e.key = CKA_LABEL;
    e.value = &v;
    req.keystoreid = (ProtobufCBinaryData){16, (uint8_t *)PUB};
    req.n_attributes = 1;
    req.attributes = &ep;
    assert_true(grep11__create_object_request__get_packed_size(&req) <= sizeof(buf));
    size_t n = grep11__create_object_request__pack(&req, buf);
    g11c_buf reply = {0};
    CK_RV rv = g11c_raw_call(c, "/grep11.Store/CreateObject", buf, n, &reply);
    g11c_buf_free(&reply);
    return rv;
}

/* (a) A write the server cannot recognise again is not sent again: the
 * caller learns that it failed, and the server applied it once. */
static void unkeyed_write_is_not_resent(void **state)
{
    fixture *f = *state;
    static const char label[] = "lose-the-answer-unkeyed";
    uint64_t before = object_count(f);
    drop_proxy_arm(f->proxy, label, strlen(label), 1);
    assert_int_equal(create_unkeyed(f->lossy, label), CKR_DEVICE_ERROR);
    assert_int_equal(drop_proxy_cut(f->proxy), 1);
    assert_int_equal(drop_proxy_seen(f->proxy), 1);
    assert_int_equal(object_count(f), before + 1);
}

/* (a) The same for a typed call without a RequestID: an API key. */
static void api_key_creation_is_not_resent(void **state)
{
    fixture *f = *state;
    static const char name[] = "lose-the-answer-apikey";
    static const char *const roles[] = {"crypto"};
    g11c_conn *admin = test_connect(&f->srv, 1);
    test_server via = f->srv;
    snprintf(via.addr, sizeof(via.addr), "%s", drop_proxy_addr(f->proxy));
    g11c_conn *lossy_admin = test_connect(&via, 1);
    assert_non_null(admin);
    assert_non_null(lossy_admin);
    g11c_api_key_info *keys = NULL;
    size_t before = 0, after = 0;
    assert_int_equal(g11c_admin_list_api_keys(admin, &keys, &before), CKR_OK);
    free(keys);
    char key[160];
    drop_proxy_arm(f->proxy, name, strlen(name), 1);
    assert_int_equal(g11c_admin_create_api_key(lossy_admin, name, roles, 1, NULL, 0, NULL, key,
                                               sizeof(key), NULL),
                     CKR_DEVICE_ERROR);
    assert_int_equal(drop_proxy_seen(f->proxy), 1);
    assert_int_equal(g11c_admin_list_api_keys(admin, &keys, &after), CKR_OK);
    size_t named = 0;
    for (size_t i = 0; i < after; i++)
        named += strcmp(keys[i].principal, name) == 0;
    free(keys);
    assert_int_equal(after, before + 1);
    assert_int_equal(named, 1);
    g11c_close(lossy_admin);
    g11c_close(admin);
}

/* (b) grep11.Crypto keeps no state: a call that may have run is resent. */
static void crypto_call_is_resent(void **state)
{
    fixture *f = *state;
    static const char data[] = "lose-the-answer-digest";
    g11c_mech m = {.type = CKM_SHA256};
    g11c_buf d = {0};
    uint8_t want[32];
    SHA256((const uint8_t *)data, strlen(data), want);
    drop_proxy_arm(f->proxy, data, strlen(data), 1);
    assert_int_equal(
        g11c_digest_single(f->lossy, &m, (g11c_bytes){(const uint8_t *)data, strlen(data)}, &d),
        CKR_OK);
    assert_int_equal(drop_proxy_cut(f->proxy), 1);
    assert_int_equal(drop_proxy_seen(f->proxy), 2);
    assert_int_equal(d.len, 32);
    assert_memory_equal(d.ptr, want, 32);
    g11c_buf_free(&d);
}

/* (c) A create whose answer was lost is resent with its RequestID: one
 * object, and the caller gets the id the server recorded. */
static void keyed_create_is_resent_and_applied_once(void **state)
{
    fixture *f = *state;
    static const char label[] = "lose-the-answer-create";
    CK_ATTRIBUTE a[] = {{CKA_LABEL, (void *)label, strlen(label)}};
    uint8_t blob[8] = "opaque", id[16];
    int64_t version = 0;
    uint64_t before = object_count(f);
    drop_proxy_arm(f->proxy, label, strlen(label), 1);
    assert_int_equal(g11c_store_create_object(f->lossy, PUB, NULL, (g11c_bytes){blob, sizeof(blob)},
                                              a, 1, id, &version),
                     CKR_OK);
    assert_int_equal(drop_proxy_cut(f->proxy), 1);
    assert_int_equal(drop_proxy_seen(f->proxy), 2);
    assert_int_equal(object_count(f), before + 1);
    g11c_stored_object *objs = NULL;
    size_t n = labelled(f, label, &objs);
    assert_int_equal(n, 1);
    assert_memory_equal(objs[0].id, id, 16);
    assert_int_equal(objs[0].version, version);
    g11c_stored_objects_free(objs, n);
}

/* (c) An update and a destroy whose answers were lost: resent, and
 * answered as the first send was (no version conflict, no "missing"). */
static void keyed_update_and_destroy_are_resent(void **state)
{
    fixture *f = *state;
    static const char label[] = "lose-the-answer-update";
    CK_ATTRIBUTE first[] = {{CKA_LABEL, "before the update", 17}};
    CK_ATTRIBUTE then[] = {{CKA_LABEL, (void *)label, strlen(label)}};
    uint8_t blob[8] = "opaque", id[16];
    int64_t v1 = 0, v2 = 0;
    assert_int_equal(g11c_store_create_object(f->direct, PUB, NULL,
                                              (g11c_bytes){blob, sizeof(blob)}, first, 1, id, &v1),
                     CKR_OK);
    drop_proxy_arm(f->proxy, label, strlen(label), 1);
    assert_int_equal(
        g11c_store_update_object(f->lossy, PUB, NULL, id, v1, (g11c_bytes){NULL, 0}, then, 1, &v2),
        CKR_OK);
    assert_int_equal(drop_proxy_seen(f->proxy), 2);
    assert_int_equal(v2, v1 + 1);
    g11c_stored_object o;
    assert_int_equal(g11c_store_get_object(f->direct, PUB, NULL, id, &o), CKR_OK);
    assert_int_equal(o.version, v2);
    g11c_stored_object_free(&o);

    uint64_t before = object_count(f);
    drop_proxy_arm(f->proxy, id, sizeof(id), 1); /* the object's id is in the request */
    assert_int_equal(g11c_store_destroy_object(f->lossy, PUB, NULL, id), CKR_OK);
    assert_int_equal(drop_proxy_cut(f->proxy), 1);
    assert_int_equal(drop_proxy_seen(f->proxy), 2);
    assert_int_equal(object_count(f), before - 1);
}

/* The same RequestID for another request: the server's refusal comes
 * through as it is. */
static void caller_request_id_is_sent_as_given(void **state)
{
    fixture *f = *state;
    const uint8_t rid[G11C_REQUEST_ID_LEN] = {0xca, 0x11, 0xe4};
    CK_ATTRIBUTE a[] = {{CKA_LABEL, "given id", 8}};
    uint8_t blob[8] = "opaque", id[16], again[16];
    g11c_bytes b = {blob, sizeof(blob)};
    assert_int_equal(g11c_store_create_object_once(f->direct, rid, PUB, NULL, b, a, 1, id, NULL),
                     CKR_OK);
    assert_int_equal(g11c_store_create_object_once(f->direct, rid, PUB, NULL, b, a, 1, again, NULL),
                     CKR_OK);
    assert_memory_equal(id, again, 16);
    blob[0] = 'X';
    assert_int_equal(g11c_store_create_object_once(f->direct, rid, PUB, NULL, b, a, 1, again, NULL),
                     CKR_GREP11_REQUEST_REUSED);
}

/* ---- a server that is not there yet --------------------------------- */

typedef struct {
    char token[2048];
} held_token;

static CK_RV give_token(void *arg, char *buf, size_t cap)
{
    const held_token *t = arg;
    if (strlen(t->token) >= cap)
        return CKR_GENERAL_ERROR;
    snprintf(buf, cap, "%s", t->token);
    return CKR_OK;
}

/* A call that never left the client (its connection was refused: the
 * server started late, or is restarting) is sent once the server is there,
 * even a write without a RequestID: it cannot have run. */
static void refused_connection_is_resent(void **state)
{
    fixture *f = *state;
    held_token tok;
    assert_int_equal(g11c_auth_token(f->direct, f->user_key, tok.token, sizeof(tok.token), NULL),
                     CKR_OK);
    /* A connection that has never been up, to an address that refuses it
     * for a second. A proxy of its own: channels to one address with equal
     * settings share a connection, and f->lossy's would be one that the
     * refusal broke after the fact (a call on it may have run). */
    drop_proxy *late = drop_proxy_start(f->srv.addr);
    assert_non_null(late);
    test_server via = f->srv;
    snprintf(via.addr, sizeof(via.addr), "%s", drop_proxy_addr(late));
    g11c_conn *c = test_connect_within(&via, 1, 20000);
    assert_non_null(c);
    g11c_set_token_hook(c, give_token, &tok);
    uint64_t before = object_count(f);
    assert_int_equal(drop_proxy_refuse_for(late, 1000), 0);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(create_unkeyed(c, "sent-when-the-server-came"), CKR_OK);
    assert_true(test_seconds_since(&t0) >= 0.9); /* it did wait for the server */
    assert_int_equal(object_count(f), before + 1);
    g11c_close(c);
    drop_proxy_stop(late);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unkeyed_write_is_not_resent),
        cmocka_unit_test(api_key_creation_is_not_resent),
        cmocka_unit_test(crypto_call_is_resent),
        cmocka_unit_test(keyed_create_is_resent_and_applied_once),
        cmocka_unit_test(keyed_update_and_destroy_are_resent),
        cmocka_unit_test(caller_request_id_is_sent_as_given),
        cmocka_unit_test(refused_connection_is_resent),
    };
    return cmocka_run_group_tests_name("resend", tests, setup, teardown);
}
