/* What commits with a write (store_with): at-most-once request records and
 * the rows of another keystore, on every backend. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "suite.h"

#define FX ((suite_fx *)*state)
#define RACERS 8

static size_t count_all(store *st, const store_uuid *ks, const store_password *pw)
{
    store_object *o = NULL;
    size_t n = 0;
    char next[STORE_CURSOR_SIZE];
    assert_int_equal(store_find_objects(st, ks, pw, NULL, 0, NULL, STORE_MAX_PAGE, &o, &n, next),
                     CKR_OK);
    store_objects_free(o, n);
    return n;
}

static store_with with_request(const unsigned char id[16], unsigned char digest_byte)
{
    store_with w;
    memset(&w, 0, sizeof(w));
    w.request_id = id;
    memset(w.request_digest, digest_byte, sizeof(w.request_digest));
    return w;
}

static CK_RV create(store *st, const store_uuid *ks, const store_password *pw, store_with *w,
                    unsigned seed, store_uuid *out)
{
    unsigned char blob[64];
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE a[1] = {{CKA_CLASS, &cls, sizeof(cls)}};
    uint64_t v = 0;
    suite_make_blob(seed, blob, sizeof(blob));
    CK_RV rv = store_object_create_with(st, ks, pw, blob, sizeof(blob), a, 1, w, out, &v);
    if (rv == CKR_OK)
        assert_int_equal(v, 1);
    return rv;
}

/* A resend with the same id and content gets the first answer and
 * applies nothing; other content under the id is refused. */
static void test_request_replay(void **state)
{
    store *st = FX->st;
    for (int prot = 0; prot < 2; prot++) {
        store_password pw = suite_pw("replay password");
        const store_password *p = prot ? &pw : NULL;
        store_uuid ks, first, again, other;
        unsigned char rid[16], rid2[16], rid3[16], nb[40];
        uint64_t v = 0;
        suite_new_ks(st, &ks, STORE_KS_PRIVATE, prot ? "replay password" : NULL);
        assert_int_equal(RAND_bytes(rid, 16), 1);
        assert_int_equal(RAND_bytes(rid2, 16), 1);
        assert_int_equal(RAND_bytes(rid3, 16), 1);

        store_with w = with_request(rid, 1);
        assert_int_equal(create(st, &ks, p, &w, 1, &first), CKR_OK);
        assert_false(w.replayed);
        w = with_request(rid, 1);
        assert_int_equal(create(st, &ks, p, &w, 1, &again), CKR_OK);
        assert_true(w.replayed);
        assert_memory_equal(first.b, again.b, 16);
        assert_int_equal(count_all(st, &ks, p), 1);
        w = with_request(rid, 2);
        assert_int_equal(create(st, &ks, p, &w, 2, &other), CKR_GREP11_REQUEST_REUSED);
        assert_int_equal(count_all(st, &ks, p), 1);
        /* without an id every create is a new object */
        assert_int_equal(create(st, &ks, p, NULL, 1, &other), CKR_OK);
        assert_int_equal(count_all(st, &ks, p), 2);

        /* an update applied once: the resend answers version 2, not 3 */
        suite_make_blob(9, nb, sizeof(nb));
        w = with_request(rid2, 3);
        assert_int_equal(
            store_object_update_with(st, &ks, p, &first, 1, nb, sizeof(nb), NULL, 0, &w, &v),
            CKR_OK);
        assert_int_equal(v, 2);
        w = with_request(rid2, 3);
        assert_int_equal(
            store_object_update_with(st, &ks, p, &first, 1, nb, sizeof(nb), NULL, 0, &w, &v),
            CKR_OK);
        assert_true(w.replayed);
        assert_int_equal(v, 2);
        store_object *o = NULL;
        assert_int_equal(store_object_get(st, &ks, p, &first, &o), CKR_OK);
        assert_int_equal(o->version, 2);
        store_object_free(o);
        /* the same update without the id is a stale version */
        assert_int_equal(store_object_update(st, &ks, p, &first, 1, nb, sizeof(nb), NULL, 0, &v),
                         CKR_IBM_GREP11_CONFLICT);

        /* a destroy resent is done, not missing */
        w = with_request(rid3, 4);
        assert_int_equal(store_object_destroy_with(st, &ks, p, &first, &w), CKR_OK);
        assert_false(w.replayed);
        w = with_request(rid3, 4);
        assert_int_equal(store_object_destroy_with(st, &ks, p, &first, &w), CKR_OK);
        assert_true(w.replayed);
        assert_int_equal(store_object_destroy(st, &ks, p, &first), CKR_IBM_GREP11_MISSING);

        /* ids are per keystore, and a wipe forgets them */
        store_uuid ks2;
        suite_new_ks(st, &ks2, STORE_KS_PUBLIC, NULL);
        w = with_request(rid, 1);
        assert_int_equal(create(st, &ks2, NULL, &w, 1, &other), CKR_OK);
        assert_false(w.replayed);
        assert_int_equal(store_keystore_wipe(st, &ks2, NULL), CKR_OK);
        w = with_request(rid, 1);
        assert_int_equal(create(st, &ks2, NULL, &w, 1, &again), CKR_OK);
        assert_false(w.replayed);
        assert_int_equal(count_all(st, &ks2, NULL), 1);
    }
}

/* After STORE_REQUEST_TTL_S an id is new again (its record is purged). */
static void test_request_expiry(void **state)
{
    store *st = FX->st;
    store_uuid ks, a, b;
    unsigned char rid[16];
    int64_t rows = -1;
    suite_new_ks(st, &ks, STORE_KS_PUBLIC, NULL);
    assert_int_equal(RAND_bytes(rid, 16), 1);
    store_with w = with_request(rid, 5);
    assert_int_equal(create(st, &ks, NULL, &w, 1, &a), CKR_OK);
    assert_int_equal(FX->b->raw_exec(FX->b, NULL, "UPDATE g11_requests SET created = 0"), 0);
    w = with_request(rid, 5);
    assert_int_equal(create(st, &ks, NULL, &w, 1, &b), CKR_OK);
    assert_false(w.replayed);
    assert_memory_not_equal(a.b, b.b, 16);
    assert_int_equal(FX->b->raw_int(FX->b, NULL,
                                    "SELECT COUNT(*) FROM g11_requests WHERE keystore = $1", &ks,
                                    &rows),
                     0);
    assert_int_equal(rows, 1);
}

/* The rows of the also keystore: asked for after the write, with what it
 * made; committed with it; their failure undoes it. */
typedef struct rows_fx {
    int calls;
    int stale;       /* replace the head at a version it is not at */
    CK_RV fail;      /* returned by the callback */
    store_uuid head; /* in the log keystore */
    uint64_t head_version;
    store_uuid seen;
    uint64_t seen_version;
    unsigned char entry[32], hb[16];
    CK_ATTRIBUTE at;
    store_new_object obj;
    store_uuid id;
    store_blob_update u;
} rows_fx;

static CK_RV log_rows(void *arg, const store_uuid *object, uint64_t version, store_rows *out)
{
    rows_fx *r = arg;
    r->calls++;
    r->seen = *object;
    r->seen_version = version;
    if (r->fail != CKR_OK)
        return r->fail;
    memcpy(r->entry, object->b, 16);
    memcpy(r->entry + 16, &version, sizeof(version));
    r->at = (CK_ATTRIBUTE){CKA_LABEL, (void *)"e", 1};
    r->obj = (store_new_object){r->entry, sizeof(r->entry), &r->at, 1};
    if (RAND_bytes(r->id.b, 16) != 1)
        return CKR_FUNCTION_FAILED;
    suite_make_blob((unsigned)r->calls, r->hb, sizeof(r->hb));
    r->u = (store_blob_update){
        r->head, r->head_version + (r->stale ? 5 : 0), r->hb, sizeof(r->hb), CKR_OK, 0};
    *out = (store_rows){&r->obj, 1, &r->id, &r->u, 1};
    return CKR_OK;
}

static void test_also_rows(void **state)
{
    store *st = FX->st;
    store_uuid ks, log, obj, id2;
    unsigned char hb[16], rid[16];
    CK_ATTRIBUTE hl = {CKA_LABEL, (void *)"head", 4};
    uint64_t v = 0;
    rows_fx r;
    memset(&r, 0, sizeof(r));
    suite_new_ks(st, &ks, STORE_KS_PRIVATE, "user password");
    suite_new_ks(st, &log, STORE_KS_PUBLIC, NULL);
    store_password pw = suite_pw("user password");
    suite_make_blob(0, hb, sizeof(hb));
    assert_int_equal(store_object_create(st, &log, NULL, hb, sizeof(hb), &hl, 1, &r.head, &v),
                     CKR_OK);
    r.head_version = 1;
    store_also also = {&log, log_rows, &r};
    store_with w;
    memset(&w, 0, sizeof(w));
    w.also = &also;

    assert_int_equal(create(st, &ks, &pw, &w, 1, &obj), CKR_OK);
    assert_memory_equal(r.seen.b, obj.b, 16);
    assert_int_equal(r.seen_version, 1);
    assert_int_equal(count_all(st, &log, NULL), 2);
    r.head_version = r.u.new_version;
    assert_int_equal(r.head_version, 2);

    /* the log's head moved meanwhile: the create is undone */
    r.stale = 1;
    assert_int_equal(create(st, &ks, &pw, &w, 2, &id2), CKR_IBM_GREP11_CONFLICT);
    assert_int_equal(r.u.rv, CKR_IBM_GREP11_CONFLICT);
    assert_int_equal(count_all(st, &ks, &pw), 1);
    assert_int_equal(count_all(st, &log, NULL), 2);
    r.stale = 0;
    /* the callback fails: nothing of the update stays */
    r.fail = CKR_FUNCTION_FAILED;
    assert_int_equal(
        store_object_update_with(st, &ks, &pw, &obj, 1, hb, sizeof(hb), NULL, 0, &w, &v),
        CKR_FUNCTION_FAILED);
    assert_int_equal(r.seen_version, 2);
    store_object *o = NULL;
    assert_int_equal(store_object_get(st, &ks, &pw, &obj, &o), CKR_OK);
    assert_int_equal(o->version, 1);
    store_object_free(o);
    r.fail = CKR_OK;
    /* a destroy names the object, at version 0 */
    assert_int_equal(store_object_destroy_with(st, &ks, &pw, &obj, &w), CKR_OK);
    assert_int_equal(r.seen_version, 0);
    assert_int_equal(count_all(st, &ks, &pw), 0);
    assert_int_equal(count_all(st, &log, NULL), 3);
    r.head_version = r.u.new_version;

    /* with a request: a replay asks for no rows */
    assert_int_equal(RAND_bytes(rid, 16), 1);
    w = with_request(rid, 7);
    w.also = &also;
    assert_int_equal(create(st, &ks, &pw, &w, 3, &obj), CKR_OK);
    r.head_version = r.u.new_version;
    int calls = r.calls;
    w = with_request(rid, 7);
    w.also = &also;
    assert_int_equal(create(st, &ks, &pw, &w, 3, &id2), CKR_OK);
    assert_true(w.replayed);
    assert_int_equal(r.calls, calls);
    assert_int_equal(count_all(st, &log, NULL), 4);

    /* C_InitToken: a failed entry leaves the token as it was; then the
     * wipe and its entry commit together */
    store_ks_params kp = {STORE_KS_PRIVATE, "re-made", &pw};
    memset(&w, 0, sizeof(w));
    w.also = &also;
    r.fail = CKR_FUNCTION_FAILED;
    assert_int_equal(store_keystore_init_with(st, &ks, &kp, &w), CKR_FUNCTION_FAILED);
    assert_int_equal(count_all(st, &ks, &pw), 1);
    r.fail = CKR_OK;
    assert_int_equal(store_keystore_init_with(st, &ks, &kp, &w), CKR_OK);
    assert_memory_equal(r.seen.b, ks.b, 16);
    assert_int_equal(r.seen_version, 0);
    assert_int_equal(count_all(st, &ks, &pw), 0);
    assert_int_equal(count_all(st, &log, NULL), 5);
    r.head_version = r.u.new_version;
    store_uuid fresh;
    assert_int_equal(RAND_bytes(fresh.b, 16), 1);
    assert_int_equal(store_keystore_init_with(st, &fresh, &kp, NULL), CKR_OK); /* new: made */
    store_ks_info info;
    assert_int_equal(store_keystore_info(st, &fresh, &info), CKR_OK);
    assert_string_equal(info.label, "re-made");
    w = with_request(rid, 7);
    assert_int_equal(store_keystore_init_with(st, &fresh, &kp, &w), CKR_ARGUMENTS_BAD);

    /* the also keystore must have no password */
    also.ks = &ks;
    memset(&w, 0, sizeof(w));
    w.also = &also;
    assert_int_equal(create(st, &ks, &pw, &w, 4, &id2), CKR_PIN_INCORRECT);
}

/* Many senders of one request at once (as two replicas might be): one
 * object, and every sender told its UUID. */
typedef struct racer {
    store *st;
    const store_uuid *ks;
    const unsigned char *rid;
    pthread_barrier_t *go;
    store_uuid got;
    CK_RV rv;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    store_with w = with_request(r->rid, 9);
    pthread_barrier_wait(r->go);
    r->rv = create(r->st, r->ks, NULL, &w, 11, &r->got);
    return NULL;
}

static void test_request_race(void **state)
{
    store *st = FX->st, *other = NULL;
    store_options opt = {.pool_size = RACERS};
    store_uuid ks;
    assert_int_equal(store_open(FX->b->url, &opt, &other), CKR_OK);
    suite_new_ks(st, &ks, STORE_KS_PUBLIC, NULL);
    for (int round = 0; round < 10; round++) {
        unsigned char rid[16];
        pthread_t th[RACERS];
        racer r[RACERS];
        pthread_barrier_t go;
        assert_int_equal(RAND_bytes(rid, 16), 1);
        pthread_barrier_init(&go, NULL, RACERS);
        for (int i = 0; i < RACERS; i++) {
            r[i] = (racer){i % 2 ? other : st, &ks, rid, &go, {{0}}, CKR_GENERAL_ERROR};
            assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
        }
        for (int i = 0; i < RACERS; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&go);
        for (int i = 0; i < RACERS; i++) {
            assert_int_equal(r[i].rv, CKR_OK);
            assert_memory_equal(r[i].got.b, r[0].got.b, 16);
        }
        assert_int_equal(count_all(st, &ks, NULL), (size_t)round + 1);
    }
    store_close(other);
}

const struct CMUnitTest suite_tied_tests[] = {
    cmocka_unit_test(test_request_replay),
    cmocka_unit_test(test_request_expiry),
    cmocka_unit_test(test_also_rows),
    cmocka_unit_test(test_request_race),
};
const size_t suite_tied_count = sizeof(suite_tied_tests) / sizeof(suite_tied_tests[0]);
