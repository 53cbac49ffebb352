/* Suite, part 3: listing keystores (no password needed; paging in UUID
 * order), creating an object under a UUID the caller chose, which is an
 * atomic insert-if-absent even when two store handles (two replicas) race
 * on it, and replacing many blobs in one transaction. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "suite.h"

#define FX ((suite_fx *)*state)
#define RACERS 8

/* Pages through every keystore with page size `page`; returns how many of
 * want[0..n) were seen and checks kind, password flag and strict order. */
static size_t list_all(store *st, size_t page, const store_uuid *want, const store_ks_entry *exp,
                       size_t n, size_t *total)
{
    char cursor[STORE_CURSOR_SIZE] = "", next[STORE_CURSOR_SIZE];
    store_uuid prev;
    bool have_prev = false;
    size_t seen = 0, pages = 0, cap = page ? page : 100;

    *total = 0;
    do {
        store_ks_entry *e = NULL;
        size_t got = 0;
        assert_int_equal(store_keystore_list(st, cursor, page, &e, &got, next), CKR_OK);
        assert_true(got <= cap);
        if (next[0])
            assert_int_equal(got, cap);
        for (size_t i = 0; i < got; i++) {
            if (have_prev)
                assert_true(memcmp(prev.b, e[i].id.b, 16) < 0);
            prev = e[i].id;
            have_prev = true;
            for (size_t j = 0; j < n; j++) {
                if (memcmp(e[i].id.b, want[j].b, 16) != 0)
                    continue;
                assert_int_equal(e[i].kind, exp[j].kind);
                assert_int_equal(e[i].password_protected, exp[j].password_protected);
                seen++;
            }
        }
        *total += got;
        free(e);
        memcpy(cursor, next, sizeof(cursor));
        assert_true(++pages < 100000);
    } while (cursor[0]);
    return seen;
}

/* store_keystore_lookup: what store_keystore_info says, counts included
 * (they are kept in the keystore's row). */
static void test_keystore_lookup(void **state)
{
    store *st = FX->st;
    store_uuid ks, none, obj;
    store_ks_info a, b;
    store_password pw = suite_pw("lookup password");
    suite_new_ks(st, &ks, STORE_KS_PRIVATE, "lookup password");
    for (int i = 0; i < 3; i++) {
        char label[16];
        snprintf(label, sizeof(label), "l%d", i);
        assert_int_equal(suite_put(st, &ks, &pw, label, label, CKO_DATA, &obj), CKR_OK);
    }
    assert_int_equal(store_keystore_info(st, &ks, &a), CKR_OK);
    assert_int_equal(store_keystore_lookup(st, &ks, &b), CKR_OK);
    assert_int_equal(a.object_count, 3);
    assert_int_equal(b.object_count, 3);
    assert_int_equal(a.bytes, b.bytes);
    assert_true(b.bytes > 0);
    assert_int_equal(a.kind, b.kind);
    assert_int_equal(a.password_protected, b.password_protected);
    assert_true(b.password_protected);
    assert_int_equal(a.created_us, b.created_us);
    assert_string_equal(a.label, b.label);
    assert_int_equal(RAND_bytes(none.b, 16), 1);
    assert_int_equal(store_keystore_lookup(st, &none, &b), CKR_TOKEN_NOT_PRESENT);
    assert_int_equal(store_keystore_lookup(st, NULL, &b), CKR_ARGUMENTS_BAD);
}

static void test_keystore_list(void **state)
{
    store *st = FX->st;
    store_uuid ks[3];
    store_ks_entry exp[3] = {
        {.kind = STORE_KS_PRIVATE, .password_protected = false},
        {.kind = STORE_KS_PUBLIC, .password_protected = false},
        {.kind = STORE_KS_PRIVATE, .password_protected = true},
    };
    store_ks_entry *e = NULL;
    size_t n = 99, total1 = 0, total2 = 0;
    char next[STORE_CURSOR_SIZE];

    suite_new_ks(st, &ks[0], STORE_KS_PRIVATE, NULL);
    suite_new_ks(st, &ks[1], STORE_KS_PUBLIC, NULL);
    suite_new_ks(st, &ks[2], STORE_KS_PRIVATE, "list password");
    assert_int_equal(list_all(st, 2, ks, exp, 3, &total1), 3);
    assert_int_equal(list_all(st, 0, ks, exp, 3, &total2), 3);
    assert_int_equal(total1, total2);
    assert_true(total1 >= 3);

    /* a deleted keystore is no longer listed */
    assert_int_equal(store_keystore_delete(st, &ks[1]), CKR_OK);
    assert_int_equal(list_all(st, 1, ks, exp, 3, &total2), 2);
    assert_int_equal(total2, total1 - 1);

    /* a forged cursor is refused, not guessed at */
    assert_int_equal(store_keystore_list(st, "c1zz", 10, &e, &n, next), CKR_ARGUMENTS_BAD);
    assert_null(e);
    assert_int_equal(n, 0);
    assert_int_equal(store_keystore_list(st, NULL, 10, NULL, &n, next), CKR_ARGUMENTS_BAD);
}

static void test_create_with_id(void **state)
{
    store *st = FX->st;
    store_uuid ks, pks, id;
    store_password pw = suite_pw("with-id password");
    unsigned char b1[64], b2[64];
    CK_ATTRIBUTE a = {CKA_LABEL, "fixed", 5};
    store_object *o = NULL;

    suite_new_ks(st, &ks, STORE_KS_PRIVATE, NULL);
    suite_new_ks(st, &pks, STORE_KS_PRIVATE, "with-id password");
    assert_int_equal(RAND_bytes(id.b, 16), 1);
    suite_make_blob(11, b1, sizeof(b1));
    suite_make_blob(12, b2, sizeof(b2));
    for (int k = 0; k < 2; k++) {
        const store_uuid *where = k ? &pks : &ks;
        const store_password *p = k ? &pw : NULL;
        assert_int_equal(store_object_create_with_id(st, where, p, &id, b1, sizeof(b1), &a, 1),
                         CKR_OK);
        /* the second create of the same UUID loses and changes nothing */
        assert_int_equal(store_object_create_with_id(st, where, p, &id, b2, sizeof(b2), NULL, 0),
                         CKR_IBM_GREP11_CONFLICT);
        assert_int_equal(store_object_get(st, where, p, &id, &o), CKR_OK);
        assert_int_equal(o->version, 1);
        assert_memory_equal(o->blob, b1, sizeof(b1));
        assert_int_equal(o->nattrs, 1);
        store_object_free(o);
    }
    /* the same UUID in another keystore is another object; a wrong
     * password writes nothing */
    assert_int_equal(store_object_create_with_id(st, &pks, NULL, &id, b2, sizeof(b2), NULL, 0),
                     CKR_PIN_INCORRECT);
    assert_int_equal(store_object_create_with_id(st, &ks, NULL, NULL, b2, 1, NULL, 0),
                     CKR_ARGUMENTS_BAD);
}

typedef struct racer {
    store *st;
    const store_uuid *ks, *id;
    pthread_barrier_t *go;
    unsigned char blob[32];
    CK_RV rv;
} racer;

static void *race(void *p)
{
    racer *r = p;
    CK_ATTRIBUTE a = {CKA_ID, r->blob, 4};

    pthread_barrier_wait(r->go);
    r->rv = store_object_create_with_id(r->st, r->ks, NULL, r->id, r->blob, sizeof(r->blob), &a, 1);
    return NULL;
}

/* Two handles on one database (two replicas), four writers each, one UUID:
 * exactly one create wins, the others see a conflict, and the object is
 * the winner's. Repeated so the race is actually run often. */
static void test_create_with_id_race(void **state)
{
    store *st = FX->st, *other = NULL;
    store_options opt = {.pool_size = RACERS};
    store_uuid ks;

    assert_int_equal(store_open(FX->b->url, &opt, &other), CKR_OK);
    suite_new_ks(st, &ks, STORE_KS_PRIVATE, NULL);
    for (int round = 0; round < 20; round++) {
        store_uuid id;
        pthread_t th[RACERS];
        racer r[RACERS];
        pthread_barrier_t go;
        int wins = 0, winner = -1;
        store_object *o = NULL;

        assert_int_equal(RAND_bytes(id.b, 16), 1);
        pthread_barrier_init(&go, NULL, RACERS);
        for (int i = 0; i < RACERS; i++) {
            r[i] = (racer){i % 2 ? other : st, &ks, &id, &go, {0}, CKR_GENERAL_ERROR};
            suite_make_blob((unsigned)(round * RACERS + i), r[i].blob, sizeof(r[i].blob));
            assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
        }
        for (int i = 0; i < RACERS; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&go);
        for (int i = 0; i < RACERS; i++) {
            if (r[i].rv == CKR_OK) {
                wins++;
                winner = i;
            } else {
                assert_int_equal(r[i].rv, CKR_IBM_GREP11_CONFLICT);
            }
        }
        assert_int_equal(wins, 1);
        assert_int_equal(store_object_get(other, &ks, NULL, &id, &o), CKR_OK);
        assert_memory_equal(o->blob, r[winner].blob, sizeof(r[winner].blob));
        store_object_free(o);
    }
    store_close(other);
}

/* Blobs of several objects replaced in one transaction, each at its own
 * version: a stale version and a missing object are reported per object
 * and do not stop the others; attributes are kept; in an authenticated
 * keystore too. */
static void test_update_blobs(void **state)
{
    store *st = FX->st;
    for (int prot = 0; prot < 2; prot++) {
        store_uuid ks, id[3], missing;
        store_password pw = suite_pw("blobs password");
        const store_password *p = prot ? &pw : NULL;
        unsigned char nb[3][40];
        store_blob_update u[4];
        store_object *o = NULL;
        uint64_t v;

        suite_new_ks(st, &ks, STORE_KS_PRIVATE, prot ? "blobs password" : NULL);
        for (int i = 0; i < 3; i++) {
            char label[8];
            snprintf(label, sizeof(label), "b%d", i);
            assert_int_equal(suite_put(st, &ks, p, label, "id", CKO_SECRET_KEY, &id[i]), CKR_OK);
            suite_make_blob(100u + (unsigned)i, nb[i], sizeof(nb[i]));
        }
        /* id[1] moves on to version 2 behind the batch's back */
        assert_int_equal(store_object_update(st, &ks, p, &id[1], 1, nb[2], 5, NULL, 0, &v), CKR_OK);
        assert_int_equal(RAND_bytes(missing.b, 16), 1);
        for (int i = 0; i < 3; i++)
            u[i] = (store_blob_update){id[i], 1, nb[i], sizeof(nb[i]), CKR_OK, 0};
        u[3] = (store_blob_update){missing, 1, nb[0], sizeof(nb[0]), CKR_OK, 0};
        assert_int_equal(store_object_update_blobs(st, &ks, p, u, 4), CKR_OK);
        assert_int_equal(u[0].rv, CKR_OK);
        assert_int_equal(u[0].new_version, 2);
        assert_int_equal(u[1].rv, CKR_IBM_GREP11_CONFLICT);
        assert_int_equal(u[2].rv, CKR_OK);
        assert_int_equal(u[3].rv, CKR_IBM_GREP11_MISSING);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(store_object_get(st, &ks, p, &id[i], &o), CKR_OK);
            assert_int_equal(o->version, 2);
            if (i == 1) {
                assert_int_equal(o->blob_len, 5);
            } else {
                assert_int_equal(o->blob_len, sizeof(nb[i]));
                assert_memory_equal(o->blob, nb[i], sizeof(nb[i]));
            }
            assert_int_equal(o->nattrs, 3); /* attributes kept */
            store_object_free(o);
        }
        /* a wrong password changes nothing */
        u[0].expected_version = 2;
        assert_int_equal(store_object_update_blobs(st, &ks, prot ? NULL : &pw, u, 1),
                         CKR_PIN_INCORRECT);
        assert_int_equal(store_object_get(st, &ks, p, &id[0], &o), CKR_OK);
        assert_int_equal(o->version, 2);
        store_object_free(o);
    }
}

/* How many objects of ks carry CKA_LABEL label. */
static size_t count_label(store *st, const store_uuid *ks, const store_password *pw,
                          const char *label)
{
    CK_ATTRIBUTE t = {CKA_LABEL, (void *)label, strlen(label)};
    char next[STORE_CURSOR_SIZE];
    store_object *o = NULL;
    size_t n = 0;

    assert_int_equal(store_find_objects(st, ks, pw, &t, 1, NULL, 100, &o, &n, next), CKR_OK);
    store_objects_free(o, n);
    return n;
}

/* A log append: new objects plus a conditional blob replacement of a head
 * object in one transaction. A stale head version or a taken UUID fails
 * the whole call and nothing is written; in an authenticated keystore too. */
static void test_create_update(void **state)
{
    store *st = FX->st;
    for (int prot = 0; prot < 2; prot++) {
        store_uuid ks, head, ids[3], got[3];
        store_password pw = suite_pw("append password");
        const store_password *p = prot ? &pw : NULL;
        unsigned char blobs[3][32], hb[40];
        CK_ATTRIBUTE at[3][1];
        store_new_object objs[3];
        store_blob_update u;
        store_object *o = NULL;

        suite_new_ks(st, &ks, STORE_KS_PRIVATE, prot ? "append password" : NULL);
        assert_int_equal(suite_put(st, &ks, p, "head", "h", CKO_DATA, &head), CKR_OK);
        for (int i = 0; i < 3; i++) {
            suite_make_blob(200u + (unsigned)i, blobs[i], sizeof(blobs[i]));
            at[i][0] = (CK_ATTRIBUTE){CKA_LABEL, (void *)"entry", 5};
            objs[i] = (store_new_object){blobs[i], sizeof(blobs[i]), at[i], 1};
        }
        suite_make_blob(300u, hb, sizeof(hb));

        /* two entries and the head: one commit */
        u = (store_blob_update){head, 1, hb, sizeof(hb), CKR_GENERAL_ERROR, 0};
        assert_int_equal(store_object_create_update(st, &ks, p, objs, 2, NULL, got, &u, 1), CKR_OK);
        assert_int_equal(u.rv, CKR_OK);
        assert_int_equal(u.new_version, 2);
        assert_int_equal(count_label(st, &ks, p, "entry"), 2);
        assert_int_equal(store_object_get(st, &ks, p, &got[1], &o), CKR_OK);
        assert_int_equal(o->blob_len, sizeof(blobs[1]));
        assert_memory_equal(o->blob, blobs[1], sizeof(blobs[1]));
        store_object_free(o);
        assert_int_equal(store_object_get(st, &ks, p, &head, &o), CKR_OK);
        assert_int_equal(o->version, 2);
        assert_memory_equal(o->blob, hb, sizeof(hb));
        assert_int_equal(o->nattrs, 3); /* attributes kept */
        store_object_free(o);

        /* a stale head: nothing of the batch is written */
        u = (store_blob_update){head, 1, hb, 5, CKR_OK, 0};
        assert_int_equal(store_object_create_update(st, &ks, p, objs, 3, NULL, got, &u, 1),
                         CKR_IBM_GREP11_CONFLICT);
        assert_int_equal(u.rv, CKR_IBM_GREP11_CONFLICT);
        assert_int_equal(count_label(st, &ks, p, "entry"), 2);

        /* a missing head: the same */
        u = (store_blob_update){head, 1, hb, 5, CKR_OK, 0};
        assert_int_equal(RAND_bytes(u.uuid.b, 16), 1);
        assert_int_equal(store_object_create_update(st, &ks, p, objs, 3, NULL, got, &u, 1),
                         CKR_IBM_GREP11_MISSING);
        assert_int_equal(count_label(st, &ks, p, "entry"), 2);

        /* caller's UUIDs; one already taken fails the lot */
        for (int i = 0; i < 3; i++)
            assert_int_equal(RAND_bytes(ids[i].b, 16), 1);
        ids[2] = got[0];
        u = (store_blob_update){head, 2, hb, 7, CKR_OK, 0};
        assert_int_equal(store_object_create_update(st, &ks, p, objs, 3, ids, NULL, &u, 1),
                         CKR_IBM_GREP11_CONFLICT);
        assert_int_equal(count_label(st, &ks, p, "entry"), 2);
        assert_int_equal(store_object_get(st, &ks, p, &head, &o), CKR_OK);
        assert_int_equal(o->version, 2);
        store_object_free(o);
        assert_int_equal(RAND_bytes(ids[2].b, 16), 1);
        assert_int_equal(store_object_create_update(st, &ks, p, objs, 3, ids, NULL, &u, 1), CKR_OK);
        assert_int_equal(u.new_version, 3);
        assert_int_equal(count_label(st, &ks, p, "entry"), 5);
        assert_int_equal(store_object_get(st, &ks, p, &ids[2], &o), CKR_OK);
        assert_memory_equal(o->blob, blobs[2], sizeof(blobs[2]));
        store_object_free(o);

        /* only creates, only an update; nothing at all is refused */
        assert_int_equal(store_object_create_update(st, &ks, p, objs, 1, NULL, got, NULL, 0),
                         CKR_OK);
        u = (store_blob_update){head, 3, hb, 9, CKR_OK, 0};
        assert_int_equal(store_object_create_update(st, &ks, p, NULL, 0, NULL, NULL, &u, 1),
                         CKR_OK);
        assert_int_equal(u.new_version, 4);
        assert_int_equal(store_object_create_update(st, &ks, p, NULL, 0, NULL, NULL, NULL, 0),
                         CKR_ARGUMENTS_BAD);
        assert_int_equal(store_object_create_update(st, &ks, p, objs, 1, NULL, NULL, NULL, 0),
                         CKR_ARGUMENTS_BAD);
        /* a wrong password changes nothing */
        u = (store_blob_update){head, 4, hb, 9, CKR_OK, 0};
        assert_int_equal(
            store_object_create_update(st, &ks, prot ? NULL : &pw, objs, 1, NULL, got, &u, 1),
            CKR_PIN_INCORRECT);
        assert_int_equal(count_label(st, &ks, p, "entry"), 6);
    }
}

const struct CMUnitTest suite_list_tests[] = {
    cmocka_unit_test(test_create_update),   cmocka_unit_test(test_update_blobs),
    cmocka_unit_test(test_keystore_list),   cmocka_unit_test(test_create_with_id),
    cmocka_unit_test(test_keystore_lookup), cmocka_unit_test(test_create_with_id_race),
};
const size_t suite_list_count = sizeof(suite_list_tests) / sizeof(suite_list_tests[0]);
