/* Suite, part 2: concurrent updates, authenticated keystores (right and
 * wrong passwords, tampered rows), wipe, and many keystores. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define FX ((suite_fx *)*state)
#define NTHREADS 8

/* ---- 8 writers, one version --------------------------------------------- */

typedef struct racer {
    store *st;
    const store_uuid *ks, *id;
    const store_password *pw;
    uint64_t version;
    pthread_barrier_t *go;
    unsigned idx;
    CK_RV rv;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    unsigned char blob[64];
    uint64_t v = 0;

    suite_make_blob(1000 + r->idx, blob, sizeof(blob));
    pthread_barrier_wait(r->go);
    r->rv = store_object_update(r->st, r->ks, r->pw, r->id, r->version, blob, sizeof(blob), NULL, 0,
                                &v);
    return NULL;
}

static void run_race(store *st, const store_uuid *ks, const store_password *pw)
{
    pthread_t th[NTHREADS];
    racer r[NTHREADS];
    pthread_barrier_t go;
    store_uuid id;
    store_object *o = NULL;
    unsigned char want[64];

    assert_int_equal(suite_put(st, ks, pw, "contended", "c", CKO_SECRET_KEY, &id), CKR_OK);
    for (uint64_t round = 1; round <= 5; round++) {
        int ok = 0, conflict = 0, winner = -1;
        pthread_barrier_init(&go, NULL, NTHREADS);
        for (unsigned i = 0; i < NTHREADS; i++) {
            r[i] = (racer){st, ks, &id, pw, round, &go, i, CKR_GENERAL_ERROR};
            assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
        }
        for (unsigned i = 0; i < NTHREADS; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&go);
        for (int i = 0; i < NTHREADS; i++) {
            if (r[i].rv == CKR_OK) {
                ok++;
                winner = i;
            } else if (r[i].rv == CKR_IBM_GREP11_CONFLICT) {
                conflict++;
            } else {
                fail_msg("racer %d: rv 0x%lx", i, (unsigned long)r[i].rv);
            }
        }
        assert_int_equal(ok, 1);
        assert_int_equal(conflict, NTHREADS - 1);
        /* the stored blob is the winner's: no lost or mixed update */
        assert_int_equal(store_object_get(st, ks, pw, &id, &o), CKR_OK);
        assert_int_equal(o->version, round + 1);
        suite_make_blob(1000 + (unsigned)winner, want, sizeof(want));
        assert_memory_equal(o->blob, want, sizeof(want));
        store_object_free(o);
    }
    /* a stale version changes nothing */
    assert_int_equal(store_object_update(st, ks, pw, &id, 3, want, 10, NULL, 0, NULL),
                     CKR_IBM_GREP11_CONFLICT);
    assert_int_equal(store_object_get(st, ks, pw, &id, &o), CKR_OK);
    assert_int_equal(o->version, 6);
    assert_int_equal(o->blob_len, sizeof(want));
    store_object_free(o);
}

static void test_conflict(void **state)
{
    store_password pw = suite_pw("race-password");
    store_uuid ks, pks;

    suite_new_ks(FX->st, &ks, STORE_KS_PRIVATE, NULL);
    run_race(FX->st, &ks, NULL);
    suite_new_ks(FX->st, &pks, STORE_KS_PRIVATE, "race-password");
    run_race(FX->st, &pks, &pw);
    assert_int_equal(store_keystore_delete(FX->st, &ks), CKR_OK);
    assert_int_equal(store_keystore_delete(FX->st, &pks), CKR_OK);
}

/* Writers on different objects at once: all succeed (the pool and, on
 * SQLite, the writer lock queue them instead of failing them). */
typedef struct writer {
    store *st;
    const store_uuid *ks;
    unsigned idx;
    int ok;
} writer;

#define PER_WRITER 40

static void *write_many(void *arg)
{
    writer *w = arg;
    char label[32];

    for (unsigned i = 0; i < PER_WRITER; i++) {
        store_uuid id;
        snprintf(label, sizeof(label), "par-%u-%u", w->idx, i);
        if (suite_put(w->st, w->ks, NULL, label, "par", CKO_DATA, &id) == CKR_OK &&
            store_object_update(w->st, w->ks, NULL, &id, 1, NULL, 0, NULL, 0, NULL) == CKR_OK)
            w->ok++;
    }
    return NULL;
}

static void test_parallel_writers(void **state)
{
    pthread_t th[NTHREADS];
    writer w[NTHREADS];
    store_ks_info info;
    store_uuid ks;

    suite_new_ks(FX->st, &ks, STORE_KS_PUBLIC, NULL);
    for (unsigned i = 0; i < NTHREADS; i++) {
        w[i] = (writer){FX->st, &ks, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, write_many, &w[i]), 0);
    }
    for (unsigned i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].ok, PER_WRITER);
    }
    assert_int_equal(store_keystore_info(FX->st, &ks, &info), CKR_OK);
    assert_int_equal(info.object_count, NTHREADS * PER_WRITER);
    assert_int_equal(store_keystore_delete(FX->st, &ks), CKR_OK);
}

/* ---- authenticated keystores -------------------------------------------- */

static void assert_unchanged(store *st, const store_uuid *ks, const store_password *pw,
                             const store_uuid *id, uint64_t version, size_t count)
{
    store_object *o = NULL;
    store_ks_info info;

    assert_int_equal(store_object_get(st, ks, pw, id, &o), CKR_OK);
    assert_int_equal(o->version, version);
    store_object_free(o);
    assert_int_equal(store_keystore_info(st, ks, &info), CKR_OK);
    assert_int_equal(info.object_count, count);
}

static void test_auth_passwords(void **state)
{
    store *st = FX->st;
    store_password pw = suite_pw("correct horse"), bad = suite_pw("correct hors3"),
                   shortpw = suite_pw("abc");
    store_uuid ks, pub, id, id2;
    store_object *o = NULL, *objs = NULL;
    char next[STORE_CURSOR_SIZE];
    unsigned char blob[32];
    CK_ATTRIBUTE lbl[] = {{CKA_LABEL, "secret-label", 12}};
    size_t n;

    memset(blob, 7, sizeof(blob));
    suite_new_ks(st, &ks, STORE_KS_PRIVATE, "correct horse");
    suite_new_ks(st, &pub, STORE_KS_PUBLIC, NULL);
    assert_int_equal(suite_put(st, &ks, &pw, "secret-label", "k1", CKO_SECRET_KEY, &id), CKR_OK);
    assert_int_equal(store_object_get(st, &ks, &pw, &id, &o), CKR_OK);
    store_object_free(o);
    o = NULL;

    /* wrong, missing or malformed password: refused, nothing read */
    const store_password *wrong[] = {&bad, NULL, &shortpw};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(store_object_get(st, &ks, wrong[i], &id, &o), CKR_PIN_INCORRECT);
        assert_null(o);
        assert_int_equal(store_find_objects(st, &ks, wrong[i], lbl, 1, NULL, 10, &objs, &n, next),
                         CKR_PIN_INCORRECT);
        assert_null(objs);
        assert_int_equal(n, 0);
        /* ... and nothing changed */
        assert_int_equal(suite_put(st, &ks, wrong[i], "other", "k2", CKO_SECRET_KEY, &id2),
                         CKR_PIN_INCORRECT);
        assert_int_equal(store_object_update(st, &ks, wrong[i], &id, 1, blob, 5, NULL, 0, NULL),
                         CKR_PIN_INCORRECT);
        assert_int_equal(store_object_destroy(st, &ks, wrong[i], &id), CKR_PIN_INCORRECT);
        assert_unchanged(st, &ks, &pw, &id, 1, 1);
    }
    /* a password on a keystore that has none is refused too */
    assert_int_equal(suite_put(st, &pub, &pw, "x", "y", CKO_DATA, &id2), CKR_PIN_INCORRECT);

    /* the right password: find, update (blob kept, re-sealed), destroy */
    assert_int_equal(store_find_objects(st, &ks, &pw, lbl, 1, NULL, 10, &objs, &n, next), CKR_OK);
    assert_int_equal(n, 1);
    assert_memory_equal(objs[0].uuid.b, id.b, 16);
    store_objects_free(objs, n);
    CK_ATTRIBUTE relabel[] = {{CKA_LABEL, "renamed", 7}};
    assert_int_equal(store_object_update(st, &ks, &pw, &id, 1, NULL, 0, relabel, 1, NULL), CKR_OK);
    assert_int_equal(store_find_objects(st, &ks, &pw, relabel, 1, NULL, 10, &objs, &n, next),
                     CKR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(objs[0].version, 2);
    assert_int_equal(objs[0].blob_len, 100);
    store_objects_free(objs, n);
    assert_int_equal(store_object_destroy(st, &ks, &pw, &id), CKR_OK);
    assert_int_equal(store_keystore_delete(st, &ks), CKR_OK);
    assert_int_equal(store_keystore_delete(st, &pub), CKR_OK);
}

/* Plaintext of an authenticated keystore never reaches the database. */
static bool contains(const unsigned char *h, size_t hn, const void *needle, size_t nn)
{
    for (size_t i = 0; i + nn <= hn; i++)
        if (memcmp(h + i, needle, nn) == 0)
            return true;
    return false;
}

static void flip_and_expect(suite_fx *fx, const store_uuid *ks, const store_password *pw,
                            const store_uuid *id, const char *col, CK_RV want)
{
    const suite_backend *b = fx->b;
    unsigned char *v = NULL;
    size_t n = 0;
    store_object *o = NULL, *objs = NULL;
    char next[STORE_CURSOR_SIZE];
    size_t got;

    assert_int_equal(b->raw_get(b, ks, id, col, &v, &n), 0);
    assert_true(n > 20);
    v[n / 2] ^= 0x01;
    assert_int_equal(b->raw_set(b, ks, id, col, v, n), 0);
    assert_int_equal(store_object_get(fx->st, ks, pw, id, &o), want);
    assert_null(o);
    assert_int_equal(store_find_objects(fx->st, ks, pw, NULL, 0, NULL, 10, &objs, &got, next),
                     want);
    assert_null(objs);
    v[n / 2] ^= 0x01; /* restore */
    assert_int_equal(b->raw_set(b, ks, id, col, v, n), 0);
    assert_int_equal(store_object_get(fx->st, ks, pw, id, &o), CKR_OK);
    store_object_free(o);
    free(v);
}

static void test_auth_tamper(void **state)
{
    const suite_backend *b = FX->b;
    store *st = FX->st;
    store_password pw = suite_pw("tamper-proof");
    unsigned char blob[100], *a = NULL, *c = NULL;
    size_t an = 0, cn = 0;
    store_uuid ks, pub, id, id2, pid;

    suite_new_ks(st, &ks, STORE_KS_PRIVATE, "tamper-proof");
    assert_int_equal(suite_put(st, &ks, &pw, "findme-label", "k1", CKO_SECRET_KEY, &id), CKR_OK);
    assert_int_equal(suite_put(st, &ks, &pw, "second-label", "k2", CKO_SECRET_KEY, &id2), CKR_OK);

    /* at rest: neither the blob nor an attribute value in the clear */
    suite_make_blob((unsigned)strlen("findme-label") * 31 + 'f', blob, sizeof(blob));
    assert_int_equal(b->raw_get(b, &ks, &id, "sealed", &c, &cn), 0);
    assert_false(contains(c, cn, blob, 16));
    assert_int_equal(b->raw_get(b, &ks, &id, "attrs", &a, &an), 0);
    assert_false(contains(a, an, "findme", 6));

    /* one flipped bit in either column: an error, never garbage */
    flip_and_expect(FX, &ks, &pw, &id, "sealed", CKR_IBM_GREP11_DBINTERNAL);
    flip_and_expect(FX, &ks, &pw, &id, "attrs", CKR_IBM_GREP11_DBINTERNAL);

    /* a valid ciphertext moved to another object does not open there */
    assert_int_equal(b->raw_set(b, &ks, &id2, "sealed", c, cn), 0);
    {
        store_object *o = NULL;
        assert_int_equal(store_object_get(st, &ks, &pw, &id2, &o), CKR_IBM_GREP11_DBINTERNAL);
        assert_null(o);
        assert_int_equal(store_object_get(st, &ks, &pw, &id, &o), CKR_OK);
        store_object_free(o);
    }
    assert_int_equal(store_object_destroy(st, &ks, &pw, &id2), CKR_OK);

    /* a plain keystore has no AEAD, but a mangled attribute list is still
     * refused, not decoded into nonsense */
    suite_new_ks(st, &pub, STORE_KS_PUBLIC, NULL);
    assert_int_equal(suite_put(st, &pub, NULL, "plain", "p", CKO_DATA, &pid), CKR_OK);
    {
        unsigned char junk[] = {'G', 'A', 1, 0, 0, 0, 9, 0, 0};
        store_object *o = NULL;
        assert_int_equal(b->raw_set(b, &pub, &pid, "attrs", junk, sizeof(junk)), 0);
        assert_int_equal(store_object_get(st, &pub, NULL, &pid, &o), CKR_IBM_GREP11_DBINTERNAL);
        assert_null(o);
    }
    free(a);
    free(c);
    assert_int_equal(store_keystore_delete(st, &ks), CKR_OK);
    assert_int_equal(store_keystore_delete(st, &pub), CKR_OK);
}

/* ---- wipe and many keystores -------------------------------------------- */

static void test_wipe(void **state)
{
    store *st = FX->st;
    store_password pw = suite_pw("new-password");
    store_uuid ks, keep, ids[10], id;
    store_ks_info info;
    store_object *o = NULL;
    char label[16];

    suite_new_ks(st, &ks, STORE_KS_PRIVATE, NULL);
    suite_new_ks(st, &keep, STORE_KS_PRIVATE, NULL);
    for (unsigned i = 0; i < 10; i++) {
        snprintf(label, sizeof(label), "w%u", i);
        assert_int_equal(suite_put(st, &ks, NULL, label, "w", CKO_DATA, &ids[i]), CKR_OK);
    }
    assert_int_equal(suite_put(st, &keep, NULL, "w0", "w", CKO_DATA, &id), CKR_OK);

    /* keep settings */
    assert_int_equal(store_keystore_wipe(st, &ks, NULL), CKR_OK);
    assert_int_equal(store_keystore_info(st, &ks, &info), CKR_OK);
    assert_int_equal(info.object_count, 0);
    assert_string_equal(info.label, "test keystore");
    assert_false(info.password_protected);
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(store_object_get(st, &ks, NULL, &ids[i], &o), CKR_IBM_GREP11_MISSING);
    /* other keystores untouched */
    assert_int_equal(store_object_get(st, &keep, NULL, &id, &o), CKR_OK);
    store_object_free(o);

    /* re-create: new label, now with a password */
    assert_int_equal(suite_put(st, &ks, NULL, "before", "w", CKO_DATA, &ids[0]), CKR_OK);
    store_ks_params p = {STORE_KS_PUBLIC, "re-initialised", &pw};
    assert_int_equal(store_keystore_wipe(st, &ks, &p), CKR_OK);
    assert_int_equal(store_keystore_info(st, &ks, &info), CKR_OK);
    assert_int_equal(info.object_count, 0);
    assert_int_equal(info.kind, STORE_KS_PUBLIC);
    assert_string_equal(info.label, "re-initialised");
    assert_true(info.password_protected);
    assert_int_equal(suite_put(st, &ks, NULL, "x", "w", CKO_DATA, &id), CKR_PIN_INCORRECT);
    assert_int_equal(suite_put(st, &ks, &pw, "x", "w", CKO_DATA, &id), CKR_OK);
    assert_int_equal(store_keystore_delete(st, &ks), CKR_OK);
    assert_int_equal(store_keystore_delete(st, &keep), CKR_OK);
}

#define MANY 150
#define MANY_PROTECTED 4

static void test_many_keystores(void **state)
{
    store *st = FX->st;
    store_uuid *ks = calloc(MANY, sizeof(*ks)), *ids = calloc(MANY, sizeof(*ids));
    char pwtext[MANY_PROTECTED][24], label[24];
    store_password pws[MANY_PROTECTED];

    assert_non_null(ks);
    assert_non_null(ids);
    for (unsigned i = 0; i < MANY; i++) {
        const store_password *pw = NULL;
        if (i < MANY_PROTECTED) {
            snprintf(pwtext[i], sizeof(pwtext[i]), "password-%u", i);
            pws[i] = suite_pw(pwtext[i]);
            pw = &pws[i];
        }
        suite_new_ks(st, &ks[i], i % 2 ? STORE_KS_PUBLIC : STORE_KS_PRIVATE, pw ? pwtext[i] : NULL);
        snprintf(label, sizeof(label), "shared-label");
        assert_int_equal(suite_put(st, &ks[i], pw, label, "same-id", CKO_SECRET_KEY, &ids[i]),
                         CKR_OK);
    }
    /* each keystore sees exactly its own object */
    for (unsigned i = 0; i < MANY; i++) {
        const store_password *pw = i < MANY_PROTECTED ? &pws[i] : NULL;
        CK_ATTRIBUTE t[] = {{CKA_LABEL, "shared-label", 12}};
        store_object *objs = NULL;
        char next[STORE_CURSOR_SIZE];
        size_t n = 0;
        assert_int_equal(store_find_objects(st, &ks[i], pw, t, 1, NULL, 10, &objs, &n, next),
                         CKR_OK);
        assert_int_equal(n, 1);
        assert_memory_equal(objs[0].uuid.b, ids[i].b, 16);
        store_objects_free(objs, n);
        /* an object id is not reachable through another keystore */
        store_object *o = NULL;
        unsigned j = (i + 1) % MANY;
        if (j >= MANY_PROTECTED)
            assert_int_equal(store_object_get(st, &ks[j], NULL, &ids[i], &o),
                             CKR_IBM_GREP11_MISSING);
    }
    /* one keystore's password does not open another */
    assert_int_equal(suite_put(st, &ks[1], &pws[0], "x", "y", CKO_DATA, &ids[0]),
                     CKR_PIN_INCORRECT);
    for (unsigned i = 0; i < MANY; i++)
        assert_int_equal(store_keystore_delete(st, &ks[i]), CKR_OK);
    free(ks);
    free(ids);
}

const struct CMUnitTest suite_auth_tests[] = {
    cmocka_unit_test(test_conflict),       cmocka_unit_test(test_parallel_writers),
    cmocka_unit_test(test_auth_passwords), cmocka_unit_test(test_auth_tamper),
    cmocka_unit_test(test_wipe),           cmocka_unit_test(test_many_keystores),
};
const size_t suite_auth_count = sizeof(suite_auth_tests) / sizeof(suite_auth_tests[0]);
