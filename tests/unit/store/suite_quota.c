/* Suite, part 4: per-keystore quotas. Every write path refuses growth past
 * the object or byte limit with CKR_DEVICE_MEMORY and changes nothing;
 * destroy, wipe and delete give the room back; concurrent writers (two
 * stores, as two replicas would be) never overshoot; the counters always
 * equal what the rows hold (checked against the rows with raw SQL); and a
 * database made before quotas gets its counters back-filled. Each test
 * opens its own store with the limits it needs: limits are an opener's
 * setting, not stored in the database. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "suite.h"

#define FX ((suite_fx *)*state)

/* What a test object (a blob, CKA_LABEL of label bytes, CKA_CLASS) counts
 * for in a keystore without password: the row's fixed columns, the blob,
 * the serialized attributes ("GA" 01, u32 count, then per attribute u64
 * type, u32 length, value) and one index row per attribute. */
static uint64_t cost(size_t blob, size_t label)
{
    return STORE_OBJECT_ROW_BYTES + blob + 7 + (12 + label) + (12 + sizeof(CK_OBJECT_CLASS)) +
           2 * STORE_INDEX_ROW_BYTES;
}

/* In an authenticated keystore both columns are sealed: version byte,
 * nonce and tag. */
#define SEAL_OVERHEAD (2 * (1 + 12 + 16))

static store *open_with(const suite_fx *fx, const char *url, uint64_t max_objects,
                        uint64_t max_bytes)
{
    store_options o = {.pool_size = 8, .max_objects = max_objects, .max_bytes = max_bytes};
    store *st = NULL;

    assert_int_equal(store_open(url != NULL ? url : fx->b->url, &o, &st), CKR_OK);
    return st;
}

static CK_RV put(store *st, const store_uuid *ks, const store_password *pw, size_t blob_len,
                 size_t label_len, store_uuid *out)
{
    unsigned char blob[2048], label[256];
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE a[2] = {{CKA_LABEL, label, label_len}, {CKA_CLASS, &cls, sizeof(cls)}};

    assert_true(blob_len <= sizeof(blob) && label_len <= sizeof(label));
    suite_make_blob((unsigned)blob_len, blob, blob_len);
    memset(label, 'q', label_len);
    return store_object_create(st, ks, pw, blob, blob_len, a, 2, out, NULL);
}

static int64_t raw(const suite_fx *fx, const char *url, const char *sql, const store_uuid *ks)
{
    int64_t v = -1;

    assert_int_equal(fx->b->raw_int(fx->b, url, sql, ks, &v), 0);
    return v;
}

/* The counters against the rows behind them, computed apart from the
 * store: objects, and bytes from the column lengths and index rows. */
static void assert_counts_exact(const suite_fx *fx, const char *url, store *st,
                                const store_uuid *ks)
{
    store_ks_info info;
    int64_t objects, cols, index, stored;

    assert_int_equal(store_keystore_info(st, ks, &info), CKR_OK);
    objects = raw(fx, url, "SELECT COUNT(*) FROM g11_objects WHERE keystore = $1", ks);
    cols = raw(fx, url,
               "SELECT COALESCE(SUM(LENGTH(sealed) + LENGTH(attrs)), 0) FROM g11_objects "
               "WHERE keystore = $1",
               ks);
    index = raw(fx, url, "SELECT COUNT(*) FROM g11_object_attrs WHERE keystore = $1", ks);
    stored = raw(fx, url,
                 "SELECT COALESCE(SUM(used_bytes), 0) FROM g11_objects WHERE keystore = $1", ks);
    assert_int_equal(info.object_count, objects);
    assert_int_equal(info.bytes,
                     objects * STORE_OBJECT_ROW_BYTES + cols + index * STORE_INDEX_ROW_BYTES);
    assert_int_equal(info.bytes, stored);
}

static uint64_t bytes_of(store *st, const store_uuid *ks)
{
    store_ks_info info;

    assert_int_equal(store_keystore_info(st, ks, &info), CKR_OK);
    return info.bytes;
}

static uint64_t count_of(store *st, const store_uuid *ks)
{
    store_ks_info info;

    assert_int_equal(store_keystore_info(st, ks, &info), CKR_OK);
    return info.object_count;
}

/* Objects that really are there, by paging through them. */
static size_t listed(store *st, const store_uuid *ks, const store_password *pw)
{
    char cursor[STORE_CURSOR_SIZE] = "", next[STORE_CURSOR_SIZE];
    store_object *o = NULL;
    size_t n = 0, total = 0;

    do {
        assert_int_equal(store_find_objects(st, ks, pw, NULL, 0, cursor, 100, &o, &n, next),
                         CKR_OK);
        store_objects_free(o, n);
        total += n;
        memcpy(cursor, next, sizeof(cursor));
    } while (cursor[0]);
    return total;
}

static void test_quota_objects(void **state)
{
    store *st = open_with(FX, NULL, 5, 0);
    store_uuid ks, ids[5], id, given;
    unsigned char blob[16] = {1};
    store_new_object one = {blob, sizeof(blob), NULL, 0};
    store_object *o = NULL;
    store_ks_info info;

    suite_new_ks(st, &ks, STORE_KS_PUBLIC, NULL);
    for (int i = 0; i < 5; i++)
        assert_int_equal(put(st, &ks, NULL, 32, 4, &ids[i]), CKR_OK);
    /* every way of creating is refused at the limit */
    assert_int_equal(put(st, &ks, NULL, 32, 4, &id), CKR_DEVICE_MEMORY);
    assert_int_equal(RAND_bytes(given.b, 16), 1);
    assert_int_equal(
        store_object_create_with_id(st, &ks, NULL, &given, blob, sizeof(blob), NULL, 0),
        CKR_DEVICE_MEMORY);
    assert_int_equal(store_object_create_batch(st, &ks, NULL, &one, 1, &id), CKR_DEVICE_MEMORY);
    assert_int_equal(store_object_get(st, &ks, NULL, &given, &o), CKR_IBM_GREP11_MISSING);
    assert_int_equal(store_keystore_info(st, &ks, &info), CKR_OK);
    assert_int_equal(info.object_count, 5);
    assert_int_equal(info.max_objects, 5);
    assert_int_equal(info.max_bytes, STORE_DEFAULT_MAX_BYTES);
    assert_int_equal(listed(st, &ks, NULL), 5);
    assert_counts_exact(FX, NULL, st, &ks);
    /* a destroy makes room for exactly one */
    assert_int_equal(store_object_destroy(st, &ks, NULL, &ids[2]), CKR_OK);
    assert_int_equal(count_of(st, &ks), 4);
    assert_int_equal(
        store_object_create_with_id(st, &ks, NULL, &given, blob, sizeof(blob), NULL, 0), CKR_OK);
    assert_int_equal(put(st, &ks, NULL, 32, 4, &id), CKR_DEVICE_MEMORY);
    assert_counts_exact(FX, NULL, st, &ks);
    assert_int_equal(store_keystore_delete(st, &ks), CKR_OK);
    store_close(st);
}

/* The byte limit counts exactly what store.h says, in both kinds of
 * keystore, and a keystore may be filled to the byte. */
static void test_quota_bytes(void **state)
{
    for (int prot = 0; prot < 2; prot++) {
        const uint64_t each = cost(1000, 10) + (prot ? SEAL_OVERHEAD : 0);
        store *st = open_with(FX, NULL, 0, 3 * each);
        store_password pw = suite_pw("quota password");
        const store_password *p = prot ? &pw : NULL;
        store_uuid ks, ids[3], id;

        suite_new_ks(st, &ks, STORE_KS_PRIVATE, prot ? "quota password" : NULL);
        assert_int_equal(put(st, &ks, p, 1000, 10, &ids[0]), CKR_OK);
        assert_int_equal(bytes_of(st, &ks), each);
        assert_int_equal(put(st, &ks, p, 1000, 10, &ids[1]), CKR_OK);
        assert_int_equal(put(st, &ks, p, 1000, 10, &ids[2]), CKR_OK);
        assert_int_equal(bytes_of(st, &ks), 3 * each);
        /* full to the byte: even the smallest object is refused */
        assert_int_equal(put(st, &ks, p, 0, 0, &id), CKR_DEVICE_MEMORY);
        assert_int_equal(store_object_destroy(st, &ks, p, &ids[1]), CKR_OK);
        assert_int_equal(bytes_of(st, &ks), 2 * each);
        assert_int_equal(put(st, &ks, p, 1001, 10, &id), CKR_DEVICE_MEMORY); /* one byte over */
        assert_int_equal(put(st, &ks, p, 1000, 10, &id), CKR_OK);
        assert_int_equal(count_of(st, &ks), 3);
        assert_int_equal(listed(st, &ks, p), 3);
        assert_counts_exact(FX, NULL, st, &ks);
        assert_int_equal(store_keystore_delete(st, &ks), CKR_OK);
        store_close(st);
    }
}

/* An update may not grow an object past the limit (blob or attributes),
 * and nothing of a refused update is kept; shrinking always works, even
 * over a limit lowered below what the keystore holds. */
static void test_quota_update_grows(void **state)
{
    const uint64_t base = cost(100, 10);
    store *st = open_with(FX, NULL, 0, base + 50), *lower = NULL;
    unsigned char big[200];
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE longer[2] = {{CKA_LABEL, "qqqqqqqqqqqq", 12}, {CKA_CLASS, &cls, sizeof(cls)}};
    CK_ATTRIBUTE more[3] = {{CKA_LABEL, "q", 1}, {CKA_CLASS, &cls, sizeof(cls)}, {CKA_ID, "i", 1}};
    store_object *o = NULL;
    store_uuid ks, id;
    uint64_t v = 0;

    suite_make_blob(7, big, sizeof(big));
    suite_new_ks(st, &ks, STORE_KS_PUBLIC, NULL);
    assert_int_equal(put(st, &ks, NULL, 100, 10, &id), CKR_OK);
    /* + 50 bytes of blob: exactly at the limit */
    assert_int_equal(store_object_update(st, &ks, NULL, &id, 1, big, 150, NULL, 0, &v), CKR_OK);
    assert_int_equal(bytes_of(st, &ks), base + 50);
    assert_int_equal(store_object_update(st, &ks, NULL, &id, 2, big, 151, NULL, 0, &v),
                     CKR_DEVICE_MEMORY);
    /* label 10 -> 12 bytes; or one more attribute (value and index row) */
    assert_int_equal(store_object_update(st, &ks, NULL, &id, 2, NULL, 0, longer, 2, &v),
                     CKR_DEVICE_MEMORY);
    assert_int_equal(store_object_update(st, &ks, NULL, &id, 2, big, 140, more, 3, &v),
                     CKR_DEVICE_MEMORY);
    assert_int_equal(store_object_get(st, &ks, NULL, &id, &o), CKR_OK);
    assert_int_equal(o->version, 2);
    assert_int_equal(o->blob_len, 150);
    assert_int_equal(o->nattrs, 2);
    store_object_free(o);
    assert_int_equal(bytes_of(st, &ks), base + 50);
    /* shrinking */
    assert_int_equal(store_object_update(st, &ks, NULL, &id, 2, big, 20, NULL, 0, &v), CKR_OK);
    assert_int_equal(bytes_of(st, &ks), base - 80);
    assert_int_equal(store_object_update(st, &ks, NULL, &id, 3, big, 100, NULL, 0, &v), CKR_OK);
    assert_int_equal(bytes_of(st, &ks), base);
    assert_counts_exact(FX, NULL, st, &ks);

    /* a limit below what is there: growth refused, the rest goes through */
    lower = open_with(FX, NULL, 1, 100);
    assert_int_equal(store_object_update(lower, &ks, NULL, &id, 4, big, 101, NULL, 0, &v),
                     CKR_DEVICE_MEMORY);
    assert_int_equal(store_object_update(lower, &ks, NULL, &id, 4, big + 1, 100, NULL, 0, &v),
                     CKR_OK);
    /* smaller blob, one attribute more: smaller in all */
    assert_int_equal(store_object_update(lower, &ks, NULL, &id, 5, big, 10, more, 3, &v), CKR_OK);
    assert_true(bytes_of(lower, &ks) < base);
    assert_int_equal(put(lower, &ks, NULL, 0, 0, &id), CKR_DEVICE_MEMORY);
    assert_counts_exact(FX, NULL, lower, &ks);
    assert_int_equal(store_object_destroy(lower, &ks, NULL, &id), CKR_OK);
    assert_int_equal(count_of(lower, &ks), 0);
    assert_int_equal(bytes_of(lower, &ks), 0);
    store_close(lower);
    assert_int_equal(store_keystore_delete(st, &ks), CKR_OK);
    store_close(st);
}

/* A batch that does not fit is refused whole; so is a create-and-update
 * (the custody log's append), its update included. */
static void test_quota_batch_all_or_nothing(void **state)
{
    store *st = open_with(FX, NULL, 10, 0);
    unsigned char blob[4][24], head[24];
    store_new_object objs[4];
    store_uuid ks, ids[4], first, out;
    store_blob_update u;
    store_object *o = NULL;

    suite_new_ks(st, &ks, STORE_KS_PUBLIC, NULL);
    for (int i = 0; i < 4; i++) {
        suite_make_blob(40u + (unsigned)i, blob[i], sizeof(blob[i]));
        objs[i] = (store_new_object){blob[i], sizeof(blob[i]), NULL, 0};
    }
    assert_int_equal(put(st, &ks, NULL, 24, 3, &first), CKR_OK);
    for (int i = 0; i < 6; i++)
        assert_int_equal(put(st, &ks, NULL, 24, 3, &out), CKR_OK);
    assert_int_equal(store_object_create_batch(st, &ks, NULL, objs, 4, ids), CKR_DEVICE_MEMORY);
    assert_int_equal(count_of(st, &ks), 7);
    assert_int_equal(listed(st, &ks, NULL), 7);
    assert_int_equal(store_object_create_batch(st, &ks, NULL, objs, 3, ids), CKR_OK);
    assert_int_equal(count_of(st, &ks), 10);

    suite_make_blob(99, head, sizeof(head));
    u = (store_blob_update){first, 1, head, sizeof(head), CKR_OK, 0};
    assert_int_equal(store_object_create_update(st, &ks, NULL, objs, 1, NULL, &out, &u, 1),
                     CKR_DEVICE_MEMORY);
    assert_int_equal(store_object_get(st, &ks, NULL, &first, &o), CKR_OK);
    assert_int_equal(o->version, 1); /* the update went with the refused create */
    store_object_free(o);
    assert_int_equal(listed(st, &ks, NULL), 10);
    /* with room for it, the same call goes through */
    assert_int_equal(store_object_destroy(st, &ks, NULL, &ids[0]), CKR_OK);
    assert_int_equal(store_object_create_update(st, &ks, NULL, objs, 1, NULL, &out, &u, 1), CKR_OK);
    assert_int_equal(count_of(st, &ks), 10);
    assert_counts_exact(FX, NULL, st, &ks);
    assert_int_equal(store_keystore_delete(st, &ks), CKR_OK);
    store_close(st);
}

/* Wipe, re-initialisation and delete-and-create start from zero. */
static void test_quota_wipe_resets(void **state)
{
    store *st = open_with(FX, NULL, 3, 0);
    store_password pw = suite_pw("wiped password");
    store_ks_params again = {STORE_KS_PRIVATE, "again", &pw};
    store_ks_params plain = {STORE_KS_PUBLIC, "plain", NULL};
    store_uuid ks, id;

    suite_new_ks(st, &ks, STORE_KS_PUBLIC, NULL);
    for (int i = 0; i < 3; i++)
        assert_int_equal(put(st, &ks, NULL, 50, 5, &id), CKR_OK);
    assert_int_equal(put(st, &ks, NULL, 50, 5, &id), CKR_DEVICE_MEMORY);
    assert_int_equal(store_keystore_wipe(st, &ks, NULL), CKR_OK);
    assert_int_equal(count_of(st, &ks), 0);
    assert_int_equal(bytes_of(st, &ks), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(put(st, &ks, NULL, 50, 5, &id), CKR_OK);
    assert_int_equal(put(st, &ks, NULL, 50, 5, &id), CKR_DEVICE_MEMORY);
    /* C_InitToken: wiped and re-created with a password */
    assert_int_equal(store_keystore_wipe(st, &ks, &again), CKR_OK);
    assert_int_equal(count_of(st, &ks), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(put(st, &ks, &pw, 50, 5, &id), CKR_OK);
    assert_int_equal(put(st, &ks, &pw, 50, 5, &id), CKR_DEVICE_MEMORY);
    assert_counts_exact(FX, NULL, st, &ks);
    assert_int_equal(store_keystore_delete(st, &ks), CKR_OK);
    assert_int_equal(store_keystore_create(st, &ks, &plain), CKR_OK);
    assert_int_equal(count_of(st, &ks), 0);
    assert_int_equal(bytes_of(st, &ks), 0);
    assert_int_equal(put(st, &ks, NULL, 50, 5, &id), CKR_OK);
    assert_counts_exact(FX, NULL, st, &ks);
    assert_int_equal(store_keystore_delete(st, &ks), CKR_OK);
    store_close(st);
}

/* Master-key rotation re-wraps blobs with store_object_update_blobs (and
 * store_object_update without attributes): a full keystore does not stop
 * a re-wrap of the same length, the counts follow any change of length,
 * and a batch that would grow past the limit changes nothing. */
static void test_quota_rewrap(void **state)
{
    const uint64_t each = cost(200, 10);
    store *st = open_with(FX, NULL, 0, 4 * each);
    unsigned char nb[4][260];
    store_blob_update u[4];
    store_object *o = NULL;
    store_uuid ks, ids[4];
    uint64_t v = 0;

    suite_new_ks(st, &ks, STORE_KS_PUBLIC, NULL);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(put(st, &ks, NULL, 200, 10, &ids[i]), CKR_OK);
        suite_make_blob(500u + (unsigned)i, nb[i], sizeof(nb[i]));
    }
    assert_int_equal(bytes_of(st, &ks), 4 * each); /* full */
    for (int i = 0; i < 4; i++)
        u[i] = (store_blob_update){ids[i], 1, nb[i], 200, CKR_OK, 0};
    assert_int_equal(store_object_update_blobs(st, &ks, NULL, u, 4), CKR_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(u[i].rv, CKR_OK);
    assert_int_equal(store_object_update(st, &ks, NULL, &ids[0], 2, nb[3], 200, NULL, 0, &v),
                     CKR_OK);
    assert_int_equal(bytes_of(st, &ks), 4 * each);
    /* one blob longer by a byte: the whole batch is refused */
    u[0] = (store_blob_update){ids[0], 3, nb[0], 201, CKR_OK, 0};
    u[1] = (store_blob_update){ids[1], 2, nb[1], 200, CKR_OK, 0};
    assert_int_equal(store_object_update_blobs(st, &ks, NULL, u, 2), CKR_DEVICE_MEMORY);
    assert_int_equal(store_object_get(st, &ks, NULL, &ids[1], &o), CKR_OK);
    assert_int_equal(o->version, 2);
    store_object_free(o);
    /* -100 and +50: the net change is what counts */
    u[0] = (store_blob_update){ids[0], 3, nb[0], 100, CKR_OK, 0};
    u[1] = (store_blob_update){ids[1], 2, nb[1], 250, CKR_OK, 0};
    assert_int_equal(store_object_update_blobs(st, &ks, NULL, u, 2), CKR_OK);
    assert_int_equal(bytes_of(st, &ks), 4 * each - 50);
    /* a stale entry is skipped and not counted */
    u[0] = (store_blob_update){ids[2], 1, nb[2], 10, CKR_OK, 0};
    u[1] = (store_blob_update){ids[3], 2, nb[3], 10, CKR_OK, 0};
    assert_int_equal(store_object_update_blobs(st, &ks, NULL, u, 2), CKR_OK);
    assert_int_equal(u[0].rv, CKR_IBM_GREP11_CONFLICT);
    assert_int_equal(u[1].rv, CKR_OK);
    assert_int_equal(bytes_of(st, &ks), 4 * each - 50 - 190);
    assert_counts_exact(FX, NULL, st, &ks);
    assert_int_equal(store_keystore_delete(st, &ks), CKR_OK);
    store_close(st);
}

typedef struct racer {
    store *st;
    const store_uuid *ks;
    size_t blob_len;
    bool churn; /* destroy every other object it made */
    int ok, full, other;
    uint64_t bytes; /* of the objects it made and kept */
} racer;

static void *race(void *arg)
{
    racer *r = arg;

    for (int i = 0; i < 12; i++) {
        store_uuid id;
        CK_RV rv = put(r->st, r->ks, NULL, r->blob_len, 8, &id);

        if (rv == CKR_OK && r->churn && i % 2 == 0)
            rv = store_object_destroy(r->st, r->ks, NULL, &id);
        else if (rv == CKR_OK)
            r->bytes += cost(r->blob_len, 8);
        r->ok += rv == CKR_OK;
        r->full += rv == CKR_DEVICE_MEMORY;
        r->other += rv != CKR_OK && rv != CKR_DEVICE_MEMORY;
    }
    return NULL;
}

/* Eight threads on two stores (two pools, as two servers on one database
 * would be) race for the last room: exactly the limit gets in. */
static void run_race(suite_fx *fx, uint64_t max_objects, uint64_t max_bytes, bool vary, bool churn)
{
    store *st[2] = {open_with(fx, NULL, max_objects, max_bytes),
                    open_with(fx, NULL, max_objects, max_bytes)};
    pthread_t th[8];
    racer r[8];
    store_uuid ks;
    int ok = 0, other = 0;
    uint64_t bytes = 0;

    suite_new_ks(st[0], &ks, STORE_KS_PUBLIC, NULL);
    for (int i = 0; i < 8; i++) {
        r[i] = (racer){st[i % 2], &ks, vary ? 40u + 90u * (unsigned)i : 64u, churn, 0, 0, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        ok += r[i].ok;
        other += r[i].other;
        bytes += r[i].bytes;
    }
    assert_int_equal(other, 0);
    if (max_objects != 0 && !churn)
        assert_int_equal(ok, max_objects);
    assert_true(max_objects == 0 || count_of(st[1], &ks) <= max_objects);
    assert_true(max_bytes == 0 || bytes_of(st[1], &ks) <= max_bytes);
    assert_int_equal(bytes_of(st[1], &ks), bytes);
    assert_counts_exact(fx, NULL, st[1], &ks);
    assert_int_equal(store_keystore_delete(st[0], &ks), CKR_OK);
    store_close(st[0]);
    store_close(st[1]);
}

static void test_quota_concurrent(void **state)
{
    run_race(FX, 30, 0, false, false);               /* 96 tries, 30 fit */
    run_race(FX, 0, 20 * cost(300, 8), true, false); /* bytes, sizes mixed */
    run_race(FX, 25, 0, false, true);                /* creates and destroys */
}

/* The server's own keystores get no limit; their use is still counted. */
static void test_quota_unlimited(void **state)
{
    store_options o = {.pool_size = 2, .max_objects = 2};
    store *st = NULL;
    store_uuid mine, tenant, id;
    store_ks_info info;

    assert_int_equal(RAND_bytes(mine.b, 16), 1);
    o.unlimited[0] = mine;
    o.n_unlimited = 1;
    assert_int_equal(store_open(FX->b->url, &o, &st), CKR_OK);
    store_ks_params p = {STORE_KS_PRIVATE, "the server's", NULL};
    assert_int_equal(store_keystore_create(st, &mine, &p), CKR_OK);
    suite_new_ks(st, &tenant, STORE_KS_PUBLIC, NULL);
    for (int i = 0; i < 5; i++)
        assert_int_equal(put(st, &mine, NULL, 10, 1, &id), CKR_OK);
    assert_int_equal(put(st, &tenant, NULL, 10, 1, &id), CKR_OK);
    assert_int_equal(put(st, &tenant, NULL, 10, 1, &id), CKR_OK);
    assert_int_equal(put(st, &tenant, NULL, 10, 1, &id), CKR_DEVICE_MEMORY);
    assert_int_equal(store_keystore_info(st, &mine, &info), CKR_OK);
    assert_int_equal(info.object_count, 5);
    assert_int_equal(info.bytes, 5 * cost(10, 1));
    assert_int_equal(info.max_objects, 0);
    assert_int_equal(info.max_bytes, 0);
    assert_int_equal(store_keystore_info(st, &tenant, &info), CKR_OK);
    assert_int_equal(info.max_objects, 2);
    assert_int_equal(store_keystore_delete(st, &mine), CKR_OK);
    assert_int_equal(store_keystore_delete(st, &tenant), CKR_OK);
    store_close(st);
}

/* A database from before quotas: made here, then its quota columns and
 * schema versions 2 to 4 taken out again, which leaves what migration 1
 * made, with rows as they were written. Opening it back-fills the counts. */
static void test_quota_migration(void **state)
{
    static const char *const downgrade[] = {
        "DROP TABLE g11_requests", /* migration 4, which comes after */
        "ALTER TABLE g11_keystores DROP COLUMN used_objects",
        "ALTER TABLE g11_keystores DROP COLUMN used_bytes",
        "ALTER TABLE g11_objects DROP COLUMN used_bytes",
        "DELETE FROM g11_schema_version WHERE version > 1",
    };
    store_password pw = suite_pw("old password");
    store_uuid ks[3], id, first;
    store_ks_info before[3], after;
    unsigned char nb[80];
    char url[256];
    store *st = NULL;
    uint64_t v = 0;

    assert_int_equal(FX->b->fresh_db(FX->b, "g11_before_quotas", url, sizeof(url)), 0);
    st = open_with(FX, url, 0, 0);
    suite_new_ks(st, &ks[0], STORE_KS_PUBLIC, NULL);
    suite_new_ks(st, &ks[1], STORE_KS_PRIVATE, "old password");
    suite_new_ks(st, &ks[2], STORE_KS_PUBLIC, NULL); /* stays empty */
    assert_int_equal(put(st, &ks[0], NULL, 100, 3, &first), CKR_OK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(put(st, &ks[0], NULL, 120, 7, &id), CKR_OK);
        assert_int_equal(put(st, &ks[1], &pw, 90, 2, &id), CKR_OK);
    }
    suite_make_blob(3, nb, sizeof(nb));
    assert_int_equal(store_object_update(st, &ks[0], NULL, &first, 1, nb, 80, NULL, 0, &v), CKR_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_keystore_info(st, &ks[i], &before[i]), CKR_OK);
    assert_int_equal(before[0].object_count, 3);
    assert_int_equal(before[2].bytes, 0);
    store_close(st);

    for (size_t i = 0; i < sizeof(downgrade) / sizeof(downgrade[0]); i++)
        assert_int_equal(FX->b->raw_exec(FX->b, url, downgrade[i]), 0);
    assert_int_equal(raw(FX, url, "SELECT MAX(version) FROM g11_schema_version", NULL), 1);

    st = open_with(FX, url, 3, 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(store_keystore_info(st, &ks[i], &after), CKR_OK);
        assert_int_equal(after.object_count, before[i].object_count);
        assert_int_equal(after.bytes, before[i].bytes);
        assert_counts_exact(FX, url, st, &ks[i]);
    }
    /* the back-filled counts are enforced and kept from here on */
    assert_int_equal(put(st, &ks[0], NULL, 1, 1, &id), CKR_DEVICE_MEMORY);
    assert_int_equal(store_object_destroy(st, &ks[0], NULL, &first), CKR_OK);
    assert_int_equal(put(st, &ks[0], NULL, 1, 1, &id), CKR_OK);
    assert_int_equal(put(st, &ks[1], &pw, 90, 2, &id), CKR_OK);
    for (int i = 0; i < 3; i++)
        assert_counts_exact(FX, url, st, &ks[i]);
    store_close(st);
}

const struct CMUnitTest suite_quota_tests[] = {
    cmocka_unit_test(test_quota_objects),      cmocka_unit_test(test_quota_bytes),
    cmocka_unit_test(test_quota_update_grows), cmocka_unit_test(test_quota_batch_all_or_nothing),
    cmocka_unit_test(test_quota_wipe_resets),  cmocka_unit_test(test_quota_rewrap),
    cmocka_unit_test(test_quota_concurrent),   cmocka_unit_test(test_quota_unlimited),
    cmocka_unit_test(test_quota_migration),
};
const size_t suite_quota_count = sizeof(suite_quota_tests) / sizeof(suite_quota_tests[0]);
