/* Indexed search at size (SQLite): load N objects in batched transactions,
 * then find single objects by CKA_LABEL and by CKA_ID. Correctness is
 * asserted; the lookup time is only printed (p50/p95 of 200 lookups) for
 * the record, because timing belongs to benchmarks, not to pass/fail.
 * N = 100,000 by default (about 5 s here); GREP11_STORE_OBJECTS=n picks
 * another size (rounded down to a multiple of 5,000), GREP11_STORE_URL
 * another database (the keystore is left there). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/rand.h>

#include "store.h"

#define BATCH 5000
#define LOOKUPS 200

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct item {
    char label[24];
    unsigned char id[8];
    unsigned char blob[64];
    CK_ATTRIBUTE attrs[3];
} item;

static CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;

static void fill(item *it, unsigned i)
{
    snprintf(it->label, sizeof(it->label), "big-key-%07u", i);
    for (int k = 0; k < 8; k++)
        it->id[k] = (unsigned char)((i * 2654435761u) >> (k * 4));
    memcpy(it->id, &i, sizeof(i));
    memset(it->blob, (int)(i & 0xff), sizeof(it->blob));
    it->attrs[0] = (CK_ATTRIBUTE){CKA_LABEL, it->label, strlen(it->label)};
    it->attrs[1] = (CK_ATTRIBUTE){CKA_ID, it->id, sizeof(it->id)};
    it->attrs[2] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
}

static void lookups(store *st, const store_uuid *ks, unsigned total, CK_ATTRIBUTE_TYPE by,
                    const char *what)
{
    double t[LOOKUPS];

    for (int r = 0; r < LOOKUPS; r++) {
        unsigned i = (unsigned)(((uint64_t)r * 7919u + 13u) % total);
        store_object *objs = NULL;
        char next[STORE_CURSOR_SIZE];
        size_t n = 0;
        item it;
        memset(&it, 0, sizeof(it));
        fill(&it, i);
        CK_ATTRIBUTE q = by == CKA_LABEL ? it.attrs[0] : it.attrs[1];
        double t0 = now_s();
        assert_int_equal(store_find_objects(st, ks, NULL, &q, 1, NULL, 10, &objs, &n, next),
                         CKR_OK);
        t[r] = now_s() - t0;
        assert_int_equal(n, 1);
        assert_int_equal(objs[0].attrs[0].ulValueLen, strlen(it.label));
        assert_memory_equal(objs[0].attrs[0].pValue, it.label, strlen(it.label));
        assert_memory_equal(objs[0].blob, it.blob, sizeof(it.blob));
        store_objects_free(objs, n);
    }
    qsort(t, LOOKUPS, sizeof(t[0]), cmp_double);
    printf("[ MEASURE  ] find by %s among %u objects: p50 %.3f ms, p95 %.3f ms, "
           "max %.3f ms (%d lookups)\n",
           what, total, t[LOOKUPS / 2] * 1e3, t[LOOKUPS * 95 / 100] * 1e3, t[LOOKUPS - 1] * 1e3,
           LOOKUPS);
}

static void test_big(void **state)
{
    const char *env = getenv("GREP11_STORE_OBJECTS");
    unsigned total = env != NULL ? (unsigned)strtoul(env, NULL, 10) / BATCH * BATCH : 100000;
    char dir[] = "/tmp/g11big-XXXXXX", url[512], cmd[64];
    store_ks_params kp = {STORE_KS_PRIVATE, "big", NULL};
    item *items = calloc(BATCH, sizeof(*items));
    store_new_object *objs = calloc(BATCH, sizeof(*objs));
    store_uuid *ids = calloc(BATCH, sizeof(*ids)), ks;
    store *st = NULL;
    double t0;

    (void)state;
    if (total < BATCH)
        total = BATCH;
    assert_non_null(items);
    assert_non_null(objs);
    assert_non_null(ids);
    assert_non_null(mkdtemp(dir));
    snprintf(url, sizeof(url), "sqlite:%s/big.db", dir);
    /* another backend for a manual run, e.g. a PostgreSQL conninfo */
    if (getenv("GREP11_STORE_URL") != NULL)
        snprintf(url, sizeof(url), "%s", getenv("GREP11_STORE_URL"));
    assert_int_equal(store_open(url, NULL, &st), CKR_OK);
    assert_int_equal(RAND_bytes(ks.b, 16), 1);
    assert_int_equal(store_keystore_create(st, &ks, &kp), CKR_OK);

    t0 = now_s();
    for (unsigned base = 0; base < total; base += BATCH) {
        for (unsigned k = 0; k < BATCH; k++) {
            fill(&items[k], base + k);
            objs[k] = (store_new_object){items[k].blob, sizeof(items[k].blob), items[k].attrs, 3};
        }
        assert_int_equal(store_object_create_batch(st, &ks, NULL, objs, BATCH, ids), CKR_OK);
    }
    printf("[ MEASURE  ] loaded %u objects (3 attributes each) in %.1f s, batches of %d\n", total,
           now_s() - t0, BATCH);

    {
        /* the quota counters: exact, and read without counting rows */
        store_ks_info info;
        t0 = now_s();
        assert_int_equal(store_keystore_info(st, &ks, &info), CKR_OK);
        printf("[ MEASURE  ] keystore info (object count) among %u objects: %.3f ms\n", total,
               (now_s() - t0) * 1e3);
        assert_int_equal(info.object_count, total);
        /* row, blob, attribute list (header, 3 x (type, length, value)), index */
        assert_int_equal(info.bytes,
                         (uint64_t)total *
                             (STORE_OBJECT_ROW_BYTES + sizeof(items[0].blob) + 7 + 3 * 12 + 15 + 8 +
                              sizeof(cls) + 3 * STORE_INDEX_ROW_BYTES));
    }
    lookups(st, &ks, total, CKA_LABEL, "CKA_LABEL");
    lookups(st, &ks, total, CKA_ID, "CKA_ID");
    {
        CK_ATTRIBUTE q = {CKA_LABEL, "no-such-label", 13};
        store_object *res = NULL;
        char next[STORE_CURSOR_SIZE];
        size_t n = 1;
        assert_int_equal(store_find_objects(st, &ks, NULL, &q, 1, NULL, 10, &res, &n, next),
                         CKR_OK);
        assert_int_equal(n, 0);
        assert_null(res);
        /* a broad template pages through the index, it does not sort all */
        q = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
        t0 = now_s();
        assert_int_equal(store_find_objects(st, &ks, NULL, &q, 1, NULL, 100, &res, &n, next),
                         CKR_OK);
        printf("[ MEASURE  ] first page of 100 by CKA_CLASS (matches all): %.3f ms\n",
               (now_s() - t0) * 1e3);
        assert_int_equal(n, 100);
        assert_string_not_equal(next, "");
        store_objects_free(res, n);
    }
    store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(items);
    free(objs);
    free(ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_big)};

    return cmocka_run_group_tests_name("store_big", tests, NULL, NULL);
}
