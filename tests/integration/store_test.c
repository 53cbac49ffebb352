/* grep11.Store end to end: the DESIGN §5 access matrix by role, versions
 * and conflicts, paging, password-protected keystores, KeyBlobID
 * references from Crypto calls, acknowledged writes surviving kill -9, and
 * per-keystore quotas. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "store.pb-c.h"

static const uint8_t PRIV[16] = {0x11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t PUB[16] = {0x22, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t ELSEWHERE[16] = {0x33, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
/* The identity directory's reserved keystore. */
static const uint8_t DIRECTORY[16] = {0x67, 0x72, 0x65, 0x70, 0x31, 0x31, 0x49, 0x64,
                                      0x65, 0x6e, 0x74, 0x69, 0x74, 0x69, 0x65, 0x73};
static const CK_BBOOL yes = CK_TRUE;

typedef struct {
    test_server srv;
    g11c_conn *so, *user, *anon, *stranger;
} fixture;

static g11c_conn *with_key(fixture *f, g11c_conn *admin, const char *name, const char *const *roles,
                           size_t nroles, const uint8_t (*grants)[16], size_t ngrants)
{
    char key[160];
    if (g11c_admin_create_api_key(admin, name, roles, nroles, grants, ngrants, NULL, key,
                                  sizeof(key), NULL) != CKR_OK)
        return NULL;
    return test_connect_as(&f->srv, 0, key);
}

static int start(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f || test_server_start(&f->srv, NULL, NULL) != 0)
        return -1;
    g11c_conn *admin = test_connect(&f->srv, 0);
    const uint8_t both[2][16] = {{0x11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
                                 {0x22, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}};
    static const char *const so[] = {"keystore-so"};
    static const char *const user[] = {"keystore-user", "crypto"};
    static const char *const anon[] = {"keystore-anonymous", "crypto"};
    f->so = with_key(f, admin, "so", so, 1, both, 2);
    f->user = with_key(f, admin, "user", user, 2, both, 2);
    /* Granted both: the role, not the grant, keeps it out of the private one. */
    f->anon = with_key(f, admin, "anon", anon, 2, both, 2);
    f->stranger = with_key(f, admin, "stranger", user, 2, &ELSEWHERE, 1);
    g11c_close(admin);
    *state = f;
    if (!f->so || !f->user || !f->anon || !f->stranger)
        return -1;
    return g11c_store_init_keystores(f->so, PRIV, PUB, "token one", NULL) == CKR_OK ? 0 : -1;
}

static int stop(void **state)
{
    fixture *f = *state;
    g11c_close(f->so);
    g11c_close(f->user);
    g11c_close(f->anon);
    g11c_close(f->stranger);
    int rc = test_server_stop(&f->srv);
    free(f);
    return rc == 0 ? 0 : -1;
}

static CK_RV put(g11c_conn *c, const uint8_t ks[16], const char *label, CK_BBOOL priv,
                 uint8_t id[16])
{
    CK_ATTRIBUTE a[] = {{CKA_LABEL, (void *)label, strlen(label)}, {CKA_PRIVATE, &priv, 1}};
    uint8_t blob[8] = "opaque";
    return g11c_store_create_object(c, ks, NULL, (g11c_bytes){blob, sizeof(blob)}, a, 2, id, NULL);
}

static void access_follows_roles_and_grants(void **state)
{
    fixture *f = *state;
    uint8_t id[16];
    g11c_keystore_info info;
    /* Only the SO initialises; only with grants for both keystores. */
    assert_int_equal(g11c_store_init_keystores(f->user, PRIV, PUB, "x", NULL),
                     CKR_GREP11_PERMISSION_DENIED);
    /* Normal user: private and public. */
    assert_int_equal(put(f->user, PRIV, "u-private", CK_TRUE, id), CKR_OK);
    assert_int_equal(put(f->user, PUB, "u-public", CK_FALSE, id), CKR_OK);
    /* Anonymous and SO never touch the private keystore... */
    assert_int_equal(put(f->anon, PRIV, "a", CK_FALSE, id), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(g11c_store_keystore_info(f->anon, PRIV, &info), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(put(f->so, PRIV, "s", CK_FALSE, id), CKR_USER_NOT_LOGGED_IN);
    /* ...and may not make private objects in the public one. */
    assert_int_equal(put(f->anon, PUB, "a", CK_TRUE, id), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(put(f->so, PUB, "s", CK_TRUE, id), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(put(f->anon, PUB, "a-public", CK_FALSE, id), CKR_OK);
    assert_int_equal(put(f->so, PUB, "s-public", CK_FALSE, id), CKR_OK);
    /* No grant, no access. */
    assert_int_equal(g11c_store_keystore_info(f->stranger, PUB, &info),
                     CKR_GREP11_PERMISSION_DENIED);
    /* The identity directory is invisible. */
    assert_int_equal(g11c_store_keystore_info(f->user, DIRECTORY, &info), CKR_TOKEN_NOT_PRESENT);
    assert_int_equal(g11c_store_keystore_info(f->user, PUB, &info), CKR_OK);
    assert_string_equal(info.label, "token one");
    assert_false(info.is_private);
}

static void find_get_update_destroy(void **state)
{
    fixture *f = *state;
    uint8_t id[16];
    for (int i = 0; i < 25; i++) {
        char label[32];
        snprintf(label, sizeof(label), "page-%02d", i);
        assert_int_equal(put(f->user, PRIV, label, CK_TRUE, id), CKR_OK);
    }
    CK_ATTRIBUTE by_label = {CKA_LABEL, "page-07", 7};
    g11c_stored_object *objs = NULL;
    size_t n = 0;
    char next[64];
    assert_int_equal(
        g11c_store_find_objects(f->user, PRIV, NULL, &by_label, 1, NULL, 0, &objs, &n, next),
        CKR_OK);
    assert_int_equal(n, 1);
    uint8_t found[16];
    memcpy(found, objs[0].id, 16);
    int64_t version = objs[0].version;
    g11c_stored_objects_free(objs, n);

    /* Paging visits every object once. */
    size_t total = 0;
    char cursor[64] = "";
    do {
        assert_int_equal(
            g11c_store_find_objects(f->user, PRIV, NULL, NULL, 0, cursor, 10, &objs, &n, next),
            CKR_OK);
        assert_true(n <= 10);
        total += n;
        g11c_stored_objects_free(objs, n);
        memcpy(cursor, next, sizeof(cursor));
    } while (cursor[0]);
    assert_true(total >= 25);

    CK_ATTRIBUTE relabel = {CKA_LABEL, "renamed", 7};
    int64_t v2 = 0;
    assert_int_equal(g11c_store_update_object(f->user, PRIV, NULL, found, version,
                                              (g11c_bytes){NULL, 0}, &relabel, 1, &v2),
                     CKR_OK);
    assert_int_equal(v2, version + 1);
    assert_int_equal(g11c_store_update_object(f->user, PRIV, NULL, found, version,
                                              (g11c_bytes){NULL, 0}, &relabel, 1, &v2),
                     CKR_IBM_GREP11_CONFLICT);
    g11c_stored_object o;
    assert_int_equal(g11c_store_get_object(f->user, PRIV, NULL, found, &o), CKR_OK);
    assert_int_equal(o.nattrs, 1);
    assert_memory_equal(o.attrs[0].pValue, "renamed", 7);
    g11c_stored_object_free(&o);
    assert_int_equal(g11c_store_destroy_object(f->user, PRIV, NULL, found), CKR_OK);
    assert_int_equal(g11c_store_get_object(f->user, PRIV, NULL, found, &o), CKR_GREP11_MISSING);
}

typedef struct {
    const test_server *srv;
    const char *key;
    const uint8_t *id;
    int64_t version;
    CK_RV rv;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    g11c_conn *c = test_connect_as(r->srv, 0, r->key);
    CK_ATTRIBUTE a = {CKA_LABEL, "winner", 6};
    r->rv = c ? g11c_store_update_object(c, PUB, NULL, r->id, r->version, (g11c_bytes){NULL, 0}, &a,
                                         1, NULL)
              : CKR_GENERAL_ERROR;
    g11c_close(c);
    return NULL;
}

static void concurrent_updates_have_one_winner(void **state)
{
    fixture *f = *state;
    uint8_t id[16];
    int64_t version = 0;
    CK_ATTRIBUTE a = {CKA_LABEL, "contested", 9};
    uint8_t blob[4] = {1, 2, 3, 4};
    assert_int_equal(
        g11c_store_create_object(f->anon, PUB, NULL, (g11c_bytes){blob, 4}, &a, 1, id, &version),
        CKR_OK);
    g11c_conn *admin = test_connect(&f->srv, 0);
    char key[160];
    static const char *const roles[] = {"keystore-anonymous"};
    const uint8_t pub[1][16] = {{0x22, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}};
    assert_int_equal(
        g11c_admin_create_api_key(admin, "racer", roles, 1, pub, 1, NULL, key, sizeof(key), NULL),
        CKR_OK);
    g11c_close(admin);
    racer r[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        r[i] = (racer){&f->srv, key, id, version, CKR_GENERAL_ERROR};
        pthread_create(&th[i], NULL, race, &r[i]);
    }
    int wins = 0, conflicts = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        wins += r[i].rv == CKR_OK;
        conflicts += r[i].rv == CKR_IBM_GREP11_CONFLICT;
    }
    assert_int_equal(wins, 1);
    assert_int_equal(conflicts, 7);
}

static void crypto_calls_may_name_stored_keys(void **state)
{
    fixture *f = *state;
    g11c_mech gen = {.type = CKM_AES_KEY_GEN};
    CK_ULONG len = 32;
    CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_ENCRYPT, (void *)&yes, 1}};
    g11c_buf key = {0}, sum = {0}, c1 = {0}, c2 = {0};
    assert_int_equal(g11c_generate_key(f->user, &gen, t, 2, &key, &sum), CKR_OK);
    uint8_t id[16];
    CK_BBOOL priv = CK_TRUE;
    CK_ATTRIBUTE a[] = {{CKA_LABEL, "stored-aes", 10}, {CKA_PRIVATE, &priv, 1}};
    assert_int_equal(
        g11c_store_create_object(f->user, PRIV, NULL, g11c_bytes_of(&key), a, 2, id, NULL), CKR_OK);
    uint8_t ref[G11C_KEY_REF_LEN];
    g11c_mech ecb = {.type = CKM_AES_ECB};
    uint8_t block[16] = "sixteen byte msg";
    assert_int_equal(
        g11c_encrypt_single(f->user, g11c_bytes_of(&key), &ecb, (g11c_bytes){block, 16}, &c1),
        CKR_OK);
    assert_int_equal(
        g11c_encrypt_single(f->user, g11c_key_ref(id, ref), &ecb, (g11c_bytes){block, 16}, &c2),
        CKR_OK);
    assert_memory_equal(c1.ptr, c2.ptr, 16);
    g11c_buf_free(&c2);
    /* The anonymous user cannot reach a private keystore's key by name. */
    assert_int_equal(
        g11c_encrypt_single(f->anon, g11c_key_ref(id, ref), &ecb, (g11c_bytes){block, 16}, &c2),
        CKR_KEY_HANDLE_INVALID);
    g11c_buf_free(&key);
    g11c_buf_free(&sum);
    g11c_buf_free(&c1);
}

static void password_protected_keystores(void **state)
{
    fixture *f = *state;
    /* Re-initialise the token with a password on its private keystore. */
    assert_int_equal(g11c_store_init_keystores(f->so, PRIV, PUB, "locked", "s3cret-pw"), CKR_OK);
    uint8_t id[16];
    CK_ATTRIBUTE a = {CKA_LABEL, "locked-obj", 10};
    uint8_t blob[4] = {9, 9, 9, 9};
    assert_int_equal(
        g11c_store_create_object(f->user, PRIV, "wrong-pw", (g11c_bytes){blob, 4}, &a, 1, id, NULL),
        CKR_PIN_INCORRECT);
    assert_int_equal(g11c_store_create_object(f->user, PRIV, "s3cret-pw", (g11c_bytes){blob, 4}, &a,
                                              1, id, NULL),
                     CKR_OK);
    g11c_stored_object o;
    assert_int_equal(g11c_store_get_object(f->user, PRIV, "wrong-pw", id, &o), CKR_PIN_INCORRECT);
    assert_int_equal(g11c_store_get_object(f->user, PRIV, "s3cret-pw", id, &o), CKR_OK);
    assert_memory_equal(o.blob.ptr, blob, 4);
    g11c_stored_object_free(&o);
    g11c_keystore_info info;
    assert_int_equal(g11c_store_keystore_info(f->user, PRIV, &info), CKR_OK);
    assert_true(info.password_protected);
    assert_int_equal(info.object_count, 1); /* the re-initialisation wiped the rest */
}

/* kill -9 in the middle of a stream of creates: every acknowledged object
 * is there after a restart. */
static void acknowledged_writes_survive_kill9(void **state)
{
    (void)state;
    test_server srv;
    assert_int_equal(test_server_start(&srv, "auth:\n  enabled: false\n", NULL), 0);
    g11c_conn *c = test_connect_anonymous(&srv, 0);
    assert_int_equal(g11c_store_init_keystores(c, PRIV, PUB, "crash", NULL), CKR_OK);
    enum { N = 150 };
    uint8_t ids[N][16];
    for (int i = 0; i < N; i++)
        assert_int_equal(put(c, PUB, "acked", CK_FALSE, ids[i]), CKR_OK);
    g11c_close(c);
    test_server_crash(&srv);
    assert_int_equal(test_server_restart(&srv), 0);
    c = test_connect_anonymous(&srv, 0);
    for (int i = 0; i < N; i++) {
        g11c_stored_object o;
        assert_int_equal(g11c_store_get_object(c, PUB, NULL, ids[i], &o), CKR_OK);
        g11c_stored_object_free(&o);
    }
    g11c_close(c);
    assert_int_equal(test_server_stop(&srv), 0);
}

/* CreateObject, UpdateObject and DestroyObject with a RequestID, sent as
 * a client resending after a lost reply would: the keystore holds one
 * object, the resend answers what the first send did, and another request
 * under the id is refused. */
/* Sends req to method; on CKR_OK *reply (may be NULL) is the decoded
 * answer, to free with protobuf_c_message_free_unpacked. */
static CK_RV raw_store(g11c_conn *c, const char *method, const ProtobufCMessage *req,
                       const ProtobufCMessageDescriptor *reply_type, ProtobufCMessage **reply)
{
    uint8_t buf[512];
    assert_true(protobuf_c_message_get_packed_size(req) <= sizeof(buf));
    size_t n = protobuf_c_message_pack(req, buf);
    g11c_buf got = {0};
    CK_RV rv = g11c_raw_call(c, method, buf, n, &got);
    if (rv == CKR_OK && reply) {
        *reply = protobuf_c_message_unpack(reply_type, NULL, got.len, got.ptr);
        assert_non_null(*reply);
    }
    g11c_buf_free(&got);
    return rv;
}

static CK_RV raw_create(g11c_conn *c, const uint8_t rid[16], uint8_t blob_byte, uint8_t id[16])
{
    Grep11__CreateObjectRequest req = GREP11__CREATE_OBJECT_REQUEST__INIT;
    uint8_t blob[8];
    memset(blob, blob_byte, sizeof(blob));
    req.keystoreid = (ProtobufCBinaryData){16, (uint8_t *)PUB};
    req.blob = (ProtobufCBinaryData){sizeof(blob), blob};
    req.requestid = (ProtobufCBinaryData){16, (uint8_t *)rid};
    Grep11__CreateObjectResponse *r = NULL;
    CK_RV rv = raw_store(c, "/grep11.Store/CreateObject", &req.base,
                         &grep11__create_object_response__descriptor, (ProtobufCMessage **)&r);
    if (rv == CKR_OK) {
        assert_int_equal(r->objectid.len, 16);
        memcpy(id, r->objectid.data, 16);
        assert_int_equal(r->version, 1);
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    return rv;
}

static CK_RV raw_update(g11c_conn *c, const uint8_t rid[16], const uint8_t id[16], int64_t *v)
{
    Grep11__UpdateObjectRequest req = GREP11__UPDATE_OBJECT_REQUEST__INIT;
    uint8_t blob[8] = "updated";
    req.keystoreid = (ProtobufCBinaryData){16, (uint8_t *)PUB};
    req.objectid = (ProtobufCBinaryData){16, (uint8_t *)id};
    req.version = 1;
    req.blob = (ProtobufCBinaryData){sizeof(blob), blob};
    req.requestid = (ProtobufCBinaryData){16, (uint8_t *)rid};
    Grep11__UpdateObjectResponse *r = NULL;
    CK_RV rv = raw_store(c, "/grep11.Store/UpdateObject", &req.base,
                         &grep11__update_object_response__descriptor, (ProtobufCMessage **)&r);
    if (rv == CKR_OK) {
        *v = r->version;
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    return rv;
}

static CK_RV raw_destroy(g11c_conn *c, const uint8_t rid[16], size_t rid_len, const uint8_t id[16])
{
    Grep11__DestroyObjectRequest req = GREP11__DESTROY_OBJECT_REQUEST__INIT;
    req.keystoreid = (ProtobufCBinaryData){16, (uint8_t *)PUB};
    req.objectid = (ProtobufCBinaryData){16, (uint8_t *)id};
    req.requestid = (ProtobufCBinaryData){rid_len, (uint8_t *)rid};
    return raw_store(c, "/grep11.Store/DestroyObject", &req.base, NULL, NULL);
}

static void request_ids_make_writes_at_most_once(void **state)
{
    fixture *f = *state;
    const uint8_t rid[16] = {0x5e, 1, 1}, rid2[16] = {0x5e, 2, 2}, rid3[16] = {0x5e, 3, 3};
    uint8_t id[16], again[16], other[16];
    g11c_keystore_info before, after;
    int64_t v = 0;
    assert_int_equal(g11c_store_keystore_info(f->user, PUB, &before), CKR_OK);
    assert_int_equal(raw_create(f->user, rid, 7, id), CKR_OK);
    assert_int_equal(raw_create(f->user, rid, 7, again), CKR_OK);
    assert_memory_equal(id, again, 16);
    assert_int_equal(g11c_store_keystore_info(f->user, PUB, &after), CKR_OK);
    assert_int_equal(after.object_count, before.object_count + 1);
    /* another request under the id: refused, nothing made */
    assert_int_equal(raw_create(f->user, rid, 8, other), CKR_GREP11_REQUEST_REUSED);
    /* the same request from another caller is the same request */
    assert_int_equal(raw_create(f->so, rid, 7, again), CKR_OK);
    assert_memory_equal(id, again, 16);
    assert_int_equal(g11c_store_keystore_info(f->user, PUB, &after), CKR_OK);
    assert_int_equal(after.object_count, before.object_count + 1);

    assert_int_equal(raw_update(f->user, rid2, id, &v), CKR_OK);
    assert_int_equal(v, 2);
    assert_int_equal(raw_update(f->user, rid2, id, &v), CKR_OK); /* not a version conflict */
    assert_int_equal(v, 2);
    assert_int_equal(raw_destroy(f->user, rid3, 16, id), CKR_OK);
    assert_int_equal(raw_destroy(f->user, rid3, 16, id), CKR_OK); /* not missing */
    assert_int_equal(raw_destroy(f->anon, rid3, 16, id), CKR_OK);
    assert_int_equal(g11c_store_destroy_object(f->user, PUB, NULL, id), CKR_IBM_GREP11_MISSING);
    /* an id is 16 bytes */
    assert_int_equal(raw_destroy(f->user, rid3, 15, id), CKR_ARGUMENTS_BAD);

    g11c_audit_report rep;
    g11c_conn *admin = test_connect(&f->srv, 0);
    assert_int_equal(g11c_audit_verify(admin, &rep), CKR_OK);
    assert_true(rep.intact);
    g11c_close(admin);
}

typedef struct {
    CK_RV rv;
    char detail[256];
} last_error;

static void capture_error(void *arg, const char *method, CK_RV rv, const char *detail)
{
    last_error *e = arg;
    (void)method;
    e->rv = rv;
    snprintf(e->detail, sizeof(e->detail), "%s", detail ? detail : "");
}

static CK_RV put_blob(g11c_conn *c, const uint8_t ks[16], size_t len, uint8_t id[16])
{
    static uint8_t blob[32 * 1024];
    CK_ATTRIBUTE a = {CKA_LABEL, "flood", 5};
    return g11c_store_create_object(c, ks, NULL, (g11c_bytes){blob, len}, &a, 1, id, NULL);
}

static uint64_t count_in(g11c_conn *c, const uint8_t ks[16])
{
    g11c_keystore_info info;
    assert_int_equal(g11c_store_keystore_info(c, ks, &info), CKR_OK);
    return info.object_count;
}

/* Issue 18: an anonymous caller with nothing but a grant for a public
 * keystore wrote 115 MB in 2 s. With store_max_objects 20 and
 * store_max_bytes 64 KiB it fills the keystore and no further: the next
 * write is CKR_DEVICE_MEMORY naming the limit, nothing extra is stored,
 * and a destroy makes room again. The server's own keystores (here the
 * identity directory, past 20 API keys) are not held to tenant limits. */
static void quota_stops_an_anonymous_flood(void **state)
{
    (void)state;
    test_server srv;
    assert_int_equal(
        test_server_start(&srv, "store_max_objects: 20\nstore_max_bytes: 64KiB\n", NULL), 0);
    g11c_conn *admin = test_connect(&srv, 0);
    fixture f = {.srv = srv};
    static const char *const so_roles[] = {"keystore-so"};
    static const char *const anon_roles[] = {"keystore-anonymous"};
    const uint8_t both[2][16] = {{0x11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
                                 {0x22, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}};
    g11c_conn *so = with_key(&f, admin, "so", so_roles, 1, both, 2);
    g11c_conn *anon = with_key(&f, admin, "anon", anon_roles, 1, both + 1, 1);
    assert_non_null(so);
    assert_non_null(anon);
    assert_int_equal(g11c_store_init_keystores(so, PRIV, PUB, "quota", NULL), CKR_OK);
    last_error e = {0};
    g11c_set_error_hook(anon, capture_error, &e);

    /* the object limit */
    uint8_t ids[20][16], id[16];
    for (int i = 0; i < 20; i++)
        assert_int_equal(put_blob(anon, PUB, 16, ids[i]), CKR_OK);
    assert_int_equal(put_blob(anon, PUB, 16, id), CKR_DEVICE_MEMORY);
    assert_int_equal(e.rv, CKR_DEVICE_MEMORY);
    assert_non_null(strstr(e.detail, "store_max_objects"));
    printf("[ DETAIL   ] %s\n", e.detail);
    assert_int_equal(count_in(anon, PUB), 20);
    assert_int_equal(g11c_store_destroy_object(anon, PUB, NULL, ids[7]), CKR_OK);
    assert_int_equal(put_blob(anon, PUB, 16, ids[7]), CKR_OK);
    assert_int_equal(put_blob(anon, PUB, 16, id), CKR_DEVICE_MEMORY);
    assert_int_equal(count_in(anon, PUB), 20);

    /* the byte limit: 16 KiB objects, three fit in 64 KiB */
    assert_int_equal(g11c_store_init_keystores(so, PRIV, PUB, "quota", NULL), CKR_OK);
    assert_int_equal(count_in(anon, PUB), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(put_blob(anon, PUB, 16 * 1024, ids[i]), CKR_OK);
    e.detail[0] = '\0';
    assert_int_equal(put_blob(anon, PUB, 16 * 1024, id), CKR_DEVICE_MEMORY);
    assert_non_null(strstr(e.detail, "store_max_bytes"));
    printf("[ DETAIL   ] %s\n", e.detail);
    assert_int_equal(count_in(anon, PUB), 3);
    /* an update may not grow past it either */
    static uint8_t bigger[32 * 1024];
    CK_ATTRIBUTE a = {CKA_LABEL, "flood", 5};
    e.detail[0] = '\0';
    assert_int_equal(g11c_store_update_object(anon, PUB, NULL, ids[0], 1,
                                              (g11c_bytes){bigger, sizeof(bigger)}, &a, 1, NULL),
                     CKR_DEVICE_MEMORY);
    assert_non_null(strstr(e.detail, "store_max_bytes"));
    assert_int_equal(g11c_store_destroy_object(anon, PUB, NULL, ids[1]), CKR_OK);
    assert_int_equal(g11c_store_update_object(anon, PUB, NULL, ids[0], 1,
                                              (g11c_bytes){bigger, sizeof(bigger)}, &a, 1, NULL),
                     CKR_OK);
    assert_int_equal(count_in(anon, PUB), 2);

    /* The server's own keystores have no limit, so no caller reaches
     * them: here the audit trail's. */
    static const uint8_t audit[16] = {'g', 'r', 'e', 'p', '1', '1', 'A', 'u',
                                      'd', 'i', 't', 'T', 'r', 'a', 'i', 'l'};
    g11c_keystore_info info;
    assert_int_equal(g11c_store_init_keystores(so, audit, PUB, "mine now", NULL),
                     CKR_TOKEN_NOT_PRESENT);
    assert_int_equal(put_blob(so, audit, 16, id), CKR_TOKEN_NOT_PRESENT);
    assert_int_equal(g11c_store_keystore_info(so, audit, &info), CKR_TOKEN_NOT_PRESENT);

    /* the identity directory holds more than 20 records and still grows */
    for (int i = 0; i < 22; i++) {
        char name[32], key[160];
        snprintf(name, sizeof(name), "tenant-%d", i);
        assert_int_equal(g11c_admin_create_api_key(admin, name, anon_roles, 1, both + 1, 1, NULL,
                                                   key, sizeof(key), NULL),
                         CKR_OK);
    }
    g11c_close(anon);
    g11c_close(so);
    g11c_close(admin);
    assert_int_equal(test_server_stop(&srv), 0);
}

int main(void)
{
    const struct CMUnitTest shared[] = {
        cmocka_unit_test(access_follows_roles_and_grants),
        cmocka_unit_test(find_get_update_destroy),
        cmocka_unit_test(concurrent_updates_have_one_winner),
        cmocka_unit_test(crypto_calls_may_name_stored_keys),
        cmocka_unit_test(password_protected_keystores),
        cmocka_unit_test(request_ids_make_writes_at_most_once),
    };
    const struct CMUnitTest own[] = {
        cmocka_unit_test(acknowledged_writes_survive_kill9),
        cmocka_unit_test(quota_stops_an_anonymous_flood),
    };
    int failed = cmocka_run_group_tests_name("keystores", shared, start, stop);
    failed += cmocka_run_group_tests_name("keystore durability", own, NULL, NULL);
    return failed;
}
