/* Suite, part 1: objects in plain keystores: create/get/update/destroy,
 * find by one and several attributes, paging, batches, keystore info and
 * input checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

#define FX ((suite_fx *)*state)

static void assert_attr(const store_object *o, CK_ATTRIBUTE_TYPE t, const void *v, size_t n)
{
    const CK_ATTRIBUTE *a = suite_find_attr(o, t);

    assert_non_null(a);
    assert_int_equal(a->ulValueLen, n);
    if (n > 0)
        assert_memory_equal(a->pValue, v, n);
}

static void test_crud(void **state)
{
    store *st = FX->st;
    store_uuid ks, id;
    unsigned char blob[300], blob2[77];
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE attrs[] = {
        {CKA_LABEL, "crud key", 8}, {CKA_ID, "\x01\x02\x03", 3}, {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_TOKEN, &yes, 1},       {CKA_APPLICATION, NULL, 0},
    };
    CK_ATTRIBUTE attrs2[] = {{CKA_LABEL, "renamed", 7}};
    store_object *o = NULL;
    uint64_t v = 0;

    suite_new_ks(st, &ks, STORE_KS_PRIVATE, NULL);
    suite_make_blob(1, blob, sizeof(blob));
    suite_make_blob(2, blob2, sizeof(blob2));
    assert_int_equal(store_object_create(st, &ks, NULL, blob, sizeof(blob), attrs, 5, &id, &v),
                     CKR_OK);
    assert_int_equal(v, 1);

    assert_int_equal(store_object_get(st, &ks, NULL, &id, &o), CKR_OK);
    assert_memory_equal(o->uuid.b, id.b, 16);
    assert_int_equal(o->version, 1);
    assert_int_equal(o->blob_len, sizeof(blob));
    assert_memory_equal(o->blob, blob, sizeof(blob));
    assert_int_equal(o->nattrs, 5);
    for (int i = 0; i < 5; i++) /* same order as given */
        assert_int_equal(o->attrs[i].type, attrs[i].type);
    assert_attr(o, CKA_LABEL, "crud key", 8);
    assert_attr(o, CKA_CLASS, &cls, sizeof(cls));
    assert_attr(o, CKA_APPLICATION, NULL, 0);
    assert_true(o->created_us > 0 && o->updated_us == o->created_us);
    store_object_free(o);

    /* blob only: attributes kept */
    assert_int_equal(store_object_update(st, &ks, NULL, &id, 1, blob2, sizeof(blob2), NULL, 0, &v),
                     CKR_OK);
    assert_int_equal(v, 2);
    /* attributes only: blob kept */
    assert_int_equal(store_object_update(st, &ks, NULL, &id, 2, NULL, 0, attrs2, 1, &v), CKR_OK);
    assert_int_equal(v, 3);
    assert_int_equal(store_object_get(st, &ks, NULL, &id, &o), CKR_OK);
    assert_int_equal(o->version, 3);
    assert_int_equal(o->blob_len, sizeof(blob2));
    assert_memory_equal(o->blob, blob2, sizeof(blob2));
    assert_int_equal(o->nattrs, 1);
    assert_attr(o, CKA_LABEL, "renamed", 7);
    assert_true(o->updated_us >= o->created_us);
    store_object_free(o);
    /* a non-NULL empty list clears the attributes */
    assert_int_equal(store_object_update(st, &ks, NULL, &id, 3, NULL, 0, attrs2, 0, &v), CKR_OK);
    assert_int_equal(store_object_get(st, &ks, NULL, &id, &o), CKR_OK);
    assert_int_equal(o->nattrs, 0);
    store_object_free(o);

    assert_int_equal(store_object_destroy(st, &ks, NULL, &id), CKR_OK);
    assert_int_equal(store_object_get(st, &ks, NULL, &id, &o), CKR_IBM_GREP11_MISSING);
    assert_null(o);
    assert_int_equal(store_object_destroy(st, &ks, NULL, &id), CKR_IBM_GREP11_MISSING);
    assert_int_equal(store_object_update(st, &ks, NULL, &id, 4, blob, 10, NULL, 0, &v),
                     CKR_IBM_GREP11_MISSING);
}

static size_t count_find(store *st, const store_uuid *ks, const store_password *pw,
                         const CK_ATTRIBUTE *t, CK_ULONG n)
{
    store_object *objs = NULL;
    char next[STORE_CURSOR_SIZE];
    size_t got = 0;

    assert_int_equal(store_find_objects(st, ks, pw, t, n, NULL, 1000, &objs, &got, next), CKR_OK);
    assert_string_equal(next, "");
    for (size_t i = 0; i < got; i++) /* every result really matches */
        for (CK_ULONG j = 0; j < n; j++)
            assert_attr(&objs[i], t[j].type, t[j].pValue, t[j].ulValueLen);
    store_objects_free(objs, got);
    return got;
}

static void test_find(void **state)
{
    store *st = FX->st;
    CK_OBJECT_CLASS sec = CKO_SECRET_KEY, pub = CKO_PUBLIC_KEY;
    store_uuid ks, other, ids[30], id;
    char label[16], idv[16];
    uint64_t v;

    suite_new_ks(st, &ks, STORE_KS_PUBLIC, NULL);
    suite_new_ks(st, &other, STORE_KS_PUBLIC, NULL);
    for (unsigned i = 0; i < 30; i++) {
        snprintf(label, sizeof(label), "key-%02u", i);
        snprintf(idv, sizeof(idv), "id%u", i % 10);
        assert_int_equal(suite_put(st, &ks, NULL, label, idv, i % 2 ? pub : sec, &ids[i]), CKR_OK);
    }
    /* same label in another keystore must not show up */
    assert_int_equal(suite_put(st, &other, NULL, "key-07", "id7", pub, &id), CKR_OK);

    CK_ATTRIBUTE by_label[] = {{CKA_LABEL, "key-07", 6}};
    CK_ATTRIBUTE by_class[] = {{CKA_CLASS, &sec, sizeof(sec)}};
    CK_ATTRIBUTE by_id[] = {{CKA_ID, "id3", 3}};
    CK_ATTRIBUTE class_id[] = {{CKA_CLASS, &pub, sizeof(pub)}, {CKA_ID, "id3", 3}};
    CK_ATTRIBUTE three[] = {
        {CKA_CLASS, &pub, sizeof(pub)}, {CKA_ID, "id3", 3}, {CKA_LABEL, "key-13", 6}};
    CK_ATTRIBUTE none_match[] = {{CKA_CLASS, &sec, sizeof(sec)}, {CKA_LABEL, "key-07", 6}};
    CK_ATTRIBUTE prefix[] = {{CKA_LABEL, "key-0", 5}};
    CK_ATTRIBUTE absent_type[] = {{CKA_SUBJECT, "x", 1}};
    CK_ATTRIBUTE twice[] = {{CKA_ID, "id3", 3}, {CKA_ID, "id4", 3}};

    assert_int_equal(count_find(st, &ks, NULL, by_label, 1), 1);
    assert_int_equal(count_find(st, &ks, NULL, by_class, 1), 15);
    assert_int_equal(count_find(st, &ks, NULL, by_id, 1), 3);
    assert_int_equal(count_find(st, &ks, NULL, class_id, 2), 3); /* 3, 13, 23 */
    assert_int_equal(count_find(st, &ks, NULL, three, 3), 1);
    assert_int_equal(count_find(st, &ks, NULL, none_match, 2), 0);
    assert_int_equal(count_find(st, &ks, NULL, prefix, 1), 0); /* equality, not prefix */
    assert_int_equal(count_find(st, &ks, NULL, absent_type, 1), 0);
    assert_int_equal(count_find(st, &ks, NULL, twice, 2), 0);
    assert_int_equal(count_find(st, &ks, NULL, NULL, 0), 30);
    assert_int_equal(count_find(st, &other, NULL, NULL, 0), 1);

    /* the index follows updates and destroys */
    CK_ATTRIBUTE relabel[] = {{CKA_LABEL, "moved", 5}};
    assert_int_equal(store_object_update(st, &ks, NULL, &ids[7], 1, NULL, 0, relabel, 1, &v),
                     CKR_OK);
    assert_int_equal(count_find(st, &ks, NULL, by_label, 1), 0);
    assert_int_equal(count_find(st, &ks, NULL, relabel, 1), 1);
    assert_int_equal(store_object_destroy(st, &ks, NULL, &ids[7]), CKR_OK);
    assert_int_equal(count_find(st, &ks, NULL, relabel, 1), 0);
    assert_int_equal(count_find(st, &ks, NULL, NULL, 0), 29);
    assert_int_equal(store_keystore_delete(st, &other), CKR_OK);
    assert_int_equal(store_keystore_delete(st, &ks), CKR_OK);
}

static int cmp_uuid(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

static void test_paging(void **state)
{
    store *st = FX->st;
    CK_OBJECT_CLASS sec = CKO_SECRET_KEY;
    store_uuid ks, ids[25], seen[25];
    char cursor[STORE_CURSOR_SIZE] = "", label[16];
    size_t nseen = 0, pages = 0;

    suite_new_ks(st, &ks, STORE_KS_PRIVATE, NULL);
    for (unsigned i = 0; i < 25; i++) {
        snprintf(label, sizeof(label), "page-%u", i);
        assert_int_equal(suite_put(st, &ks, NULL, label, "same", sec, &ids[i]), CKR_OK);
    }
    CK_ATTRIBUTE t[] = {{CKA_ID, "same", 4}};
    for (int with_tmpl = 0; with_tmpl < 2; with_tmpl++) {
        nseen = pages = 0;
        cursor[0] = '\0';
        do {
            store_object *objs = NULL;
            char next[STORE_CURSOR_SIZE];
            size_t n = 0;
            assert_int_equal(store_find_objects(st, &ks, NULL, with_tmpl ? t : NULL,
                                                with_tmpl ? 1 : 0, cursor, 10, &objs, &n, next),
                             CKR_OK);
            assert_int_equal(n, pages < 2 ? 10 : 5);
            for (size_t i = 0; i < n; i++) {
                assert_true(nseen < 25);
                if (nseen > 0) /* stable order: ascending UUID, across pages */
                    assert_true(memcmp(seen[nseen - 1].b, objs[i].uuid.b, 16) < 0);
                seen[nseen++] = objs[i].uuid;
            }
            store_objects_free(objs, n);
            memcpy(cursor, next, sizeof(next));
            pages++;
        } while (cursor[0] != '\0');
        assert_int_equal(pages, 3);
        assert_int_equal(nseen, 25);
        qsort(ids, 25, sizeof(ids[0]), cmp_uuid);
        assert_memory_equal(ids, seen, sizeof(seen));
    }

    /* exactly one full page: no empty extra page */
    {
        store_object *objs = NULL;
        char next[STORE_CURSOR_SIZE];
        size_t n = 0;
        assert_int_equal(store_find_objects(st, &ks, NULL, NULL, 0, NULL, 25, &objs, &n, next),
                         CKR_OK);
        assert_int_equal(n, 25);
        assert_string_equal(next, "");
        store_objects_free(objs, n);
        const char *bad[] = {"x",
                             "c1",
                             "c2000102030405060708090a0b0c0d0e0f",
                             "c1000102030405060708090a0b0c0d0e0g",
                             "c1000102030405060708090A0B0C0D0E0F",
                             "c1000102030405060708090a0b0c0d0e0f0"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            assert_int_equal(
                store_find_objects(st, &ks, NULL, NULL, 0, bad[i], 10, &objs, &n, next),
                CKR_ARGUMENTS_BAD);
    }
    assert_int_equal(store_keystore_delete(st, &ks), CKR_OK);
}

static void test_batch(void **state)
{
    store *st = FX->st;
    store_new_object objs[50];
    unsigned char blobs[50][40];
    char labels[50][16];
    CK_ATTRIBUTE attrs[50][1];
    store_uuid ids[50];
    store_ks_info info;
    store_uuid ks;

    suite_new_ks(st, &ks, STORE_KS_PUBLIC, NULL);
    for (int i = 0; i < 50; i++) {
        suite_make_blob((unsigned)i, blobs[i], sizeof(blobs[i]));
        snprintf(labels[i], sizeof(labels[i]), "batch-%d", i);
        attrs[i][0] = (CK_ATTRIBUTE){CKA_LABEL, labels[i], strlen(labels[i])};
        objs[i] = (store_new_object){blobs[i], sizeof(blobs[i]), attrs[i], 1};
    }
    /* one bad member: nothing is stored */
    objs[49].blob_len = STORE_MAX_BLOB + 1;
    assert_int_equal(store_object_create_batch(st, &ks, NULL, objs, 50, ids), CKR_DATA_LEN_RANGE);
    objs[49].blob_len = sizeof(blobs[49]);
    assert_int_equal(store_keystore_info(st, &ks, &info), CKR_OK);
    assert_int_equal(info.object_count, 0);

    assert_int_equal(store_object_create_batch(st, &ks, NULL, objs, 50, ids), CKR_OK);
    assert_int_equal(store_keystore_info(st, &ks, &info), CKR_OK);
    assert_int_equal(info.object_count, 50);
    for (int i = 0; i < 50; i += 7) {
        store_object *o = NULL;
        assert_int_equal(store_object_get(st, &ks, NULL, &ids[i], &o), CKR_OK);
        assert_memory_equal(o->blob, blobs[i], sizeof(blobs[i]));
        assert_attr(o, CKA_LABEL, labels[i], strlen(labels[i]));
        store_object_free(o);
    }
    assert_int_equal(store_keystore_delete(st, &ks), CKR_OK);
}

static void test_keystore_info(void **state)
{
    store *st = FX->st;
    store_ks_info info;
    store_uuid ks, missing = {{0}};
    store_password pw = suite_pw("secret-pw");
    store_ks_params p = {STORE_KS_PRIVATE, "Ünïcode label ✓", &pw};

    suite_new_ks(st, &ks, STORE_KS_PUBLIC, NULL);
    assert_int_equal(store_keystore_delete(st, &ks), CKR_OK);
    missing.b[0] = 0xee;
    assert_int_equal(store_keystore_create(st, &ks, &p), CKR_OK);
    assert_int_equal(store_keystore_create(st, &ks, &p), CKR_IBM_GREP11_CONFLICT);
    assert_int_equal(store_keystore_info(st, &ks, &info), CKR_OK);
    assert_int_equal(info.kind, STORE_KS_PRIVATE);
    assert_string_equal(info.label, "Ünïcode label ✓");
    assert_true(info.password_protected);
    assert_int_equal(info.object_count, 0);
    assert_true(info.created_us > 1600000000LL * 1000000);
    assert_int_equal(store_keystore_info(st, &missing, &info), CKR_TOKEN_NOT_PRESENT);
    assert_int_equal(store_keystore_delete(st, &missing), CKR_TOKEN_NOT_PRESENT);
    assert_int_equal(store_keystore_wipe(st, &missing, NULL), CKR_TOKEN_NOT_PRESENT);
    assert_int_equal(store_keystore_delete(st, &ks), CKR_OK);
    assert_int_equal(store_keystore_info(st, &ks, &info), CKR_TOKEN_NOT_PRESENT);
}

static void test_bad_input(void **state)
{
    store *st = FX->st;
    unsigned char *big = calloc(1, STORE_MAX_BLOB + 1);
    CK_ATTRIBUTE *many = calloc(STORE_MAX_ATTRS + 1, sizeof(*many));
    CK_ATTRIBUTE dup[] = {{CKA_LABEL, "a", 1}, {CKA_LABEL, "b", 1}};
    CK_ATTRIBUTE nullval[] = {{CKA_LABEL, NULL, 5}};
    CK_ATTRIBUTE huge[] = {{CKA_VALUE, big, STORE_MAX_ATTR_VALUE + 1}};
    CK_ATTRIBUTE maxv[] = {{CKA_VALUE, big, STORE_MAX_ATTR_VALUE}, {CKA_LABEL, "m", 1}};
    char longlabel[STORE_MAX_LABEL + 2];
    store_uuid ks, id, missing = {{1}};
    store_object *o = NULL, *objs = NULL;
    char next[STORE_CURSOR_SIZE];
    store_password shortpw = suite_pw("12345"), longpw;
    unsigned char pwbuf[STORE_MAX_PASSWORD + 1];
    size_t n;
    uint64_t v;

    assert_non_null(big);
    assert_non_null(many);
    for (unsigned i = 0; i <= STORE_MAX_ATTRS; i++)
        many[i] = (CK_ATTRIBUTE){CKA_VENDOR_DEFINED + i, "x", 1};
    suite_new_ks(st, &ks, STORE_KS_PUBLIC, NULL);

    assert_int_equal(store_open(NULL, NULL, NULL), CKR_ARGUMENTS_BAD);
    assert_int_equal(store_keystore_create(NULL, &ks, NULL), CKR_ARGUMENTS_BAD);
    assert_int_equal(store_keystore_create(st, &ks, NULL), CKR_ARGUMENTS_BAD);
    assert_int_equal(store_object_create(st, NULL, NULL, big, 1, NULL, 0, &id, &v),
                     CKR_ARGUMENTS_BAD);
    assert_int_equal(store_object_create(st, &ks, NULL, NULL, 1, NULL, 0, &id, &v),
                     CKR_ARGUMENTS_BAD);
    assert_int_equal(store_object_create(st, &ks, NULL, big, 1, NULL, 0, NULL, &v),
                     CKR_ARGUMENTS_BAD);
    assert_int_equal(store_object_create(st, &ks, NULL, big, 1, NULL, 3, &id, &v),
                     CKR_ARGUMENTS_BAD);
    assert_int_equal(store_object_create(st, &ks, NULL, big, STORE_MAX_BLOB + 1, NULL, 0, &id, &v),
                     CKR_DATA_LEN_RANGE);
    assert_int_equal(store_object_create(st, &ks, NULL, big, 1, many, STORE_MAX_ATTRS + 1, &id, &v),
                     CKR_ARGUMENTS_BAD);
    assert_int_equal(store_object_create(st, &ks, NULL, big, 1, huge, 1, &id, &v),
                     CKR_DATA_LEN_RANGE);
    assert_int_equal(store_object_create(st, &ks, NULL, big, 1, nullval, 1, &id, &v),
                     CKR_ARGUMENTS_BAD);
    assert_int_equal(store_object_create(st, &ks, NULL, big, 1, dup, 2, &id, &v),
                     CKR_TEMPLATE_INCONSISTENT);
    assert_int_equal(store_object_get(st, &ks, NULL, NULL, &o), CKR_ARGUMENTS_BAD);
    assert_int_equal(store_object_get(st, &ks, NULL, &missing, NULL), CKR_ARGUMENTS_BAD);
    assert_int_equal(store_find_objects(st, &ks, NULL, huge, 1, NULL, 1, &objs, &n, next),
                     CKR_DATA_LEN_RANGE);
    assert_int_equal(store_find_objects(st, &ks, NULL, NULL, 1, NULL, 1, &objs, &n, next),
                     CKR_ARGUMENTS_BAD);
    assert_int_equal(store_find_objects(st, &ks, NULL, NULL, 0, NULL, 1, NULL, &n, next),
                     CKR_ARGUMENTS_BAD);
    /* unknown keystore */
    assert_int_equal(store_object_create(st, &missing, NULL, big, 1, NULL, 0, &id, &v),
                     CKR_TOKEN_NOT_PRESENT);
    assert_int_equal(store_find_objects(st, &missing, NULL, NULL, 0, NULL, 1, &objs, &n, next),
                     CKR_TOKEN_NOT_PRESENT);
    /* keystore parameters */
    memset(longlabel, 'a', sizeof(longlabel) - 1);
    longlabel[sizeof(longlabel) - 1] = '\0';
    store_ks_params p = {STORE_KS_PUBLIC, longlabel, NULL};
    assert_int_equal(store_keystore_create(st, &missing, &p), CKR_DATA_LEN_RANGE);
    p.label = "bad \xc3\x28 utf8";
    assert_int_equal(store_keystore_create(st, &missing, &p), CKR_ARGUMENTS_BAD);
    p.label = "ok";
    p.kind = (store_ks_kind)7;
    assert_int_equal(store_keystore_create(st, &missing, &p), CKR_ARGUMENTS_BAD);
    p.kind = STORE_KS_PRIVATE;
    p.password = &shortpw;
    assert_int_equal(store_keystore_create(st, &missing, &p), CKR_PIN_LEN_RANGE);
    memset(pwbuf, 'p', sizeof(pwbuf));
    longpw = (store_password){pwbuf, sizeof(pwbuf)};
    p.password = &longpw;
    assert_int_equal(store_keystore_create(st, &missing, &p), CKR_PIN_LEN_RANGE);

    /* the largest allowed values round-trip */
    assert_int_equal(store_object_create(st, &ks, NULL, big, STORE_MAX_BLOB, maxv, 2, &id, &v),
                     CKR_OK);
    assert_int_equal(store_object_get(st, &ks, NULL, &id, &o), CKR_OK);
    assert_int_equal(o->blob_len, STORE_MAX_BLOB);
    assert_attr(o, CKA_VALUE, big, STORE_MAX_ATTR_VALUE);
    store_object_free(o);
    assert_int_equal(store_find_objects(st, &ks, NULL, maxv, 1, NULL, 1, &objs, &n, next), CKR_OK);
    assert_int_equal(n, 1);
    store_objects_free(objs, n);
    assert_int_equal(store_keystore_delete(st, &ks), CKR_OK);
    free(big);
    free(many);
}

/* Data objects and certificates carry attributes only: an empty blob, in
 * plain and password-protected keystores alike. */
static void test_empty_blob(void **state)
{
    store *st = FX->st;
    static const char *const pws[] = {NULL, "empty-pw"};
    for (size_t i = 0; i < 2; i++) {
        store_uuid ks, id;
        store_password pw = {(const unsigned char *)pws[i], pws[i] ? strlen(pws[i]) : 0};
        const store_password *p = pws[i] ? &pw : NULL;
        CK_ATTRIBUTE a = {CKA_LABEL, "no blob", 7};
        store_object *o = NULL;
        uint64_t v = 0;
        suite_new_ks(st, &ks, STORE_KS_PRIVATE, pws[i]);
        assert_int_equal(store_object_create(st, &ks, p, NULL, 0, &a, 1, &id, &v), CKR_OK);
        assert_int_equal(store_object_get(st, &ks, p, &id, &o), CKR_OK);
        assert_int_equal(o->blob_len, 0);
        assert_int_equal(o->nattrs, 1);
        store_object_free(o);
        assert_int_equal(store_keystore_delete(st, &ks), CKR_OK);
    }
}

const struct CMUnitTest suite_basic_tests[] = {
    cmocka_unit_test(test_crud),          cmocka_unit_test(test_find),
    cmocka_unit_test(test_paging),        cmocka_unit_test(test_batch),
    cmocka_unit_test(test_keystore_info), cmocka_unit_test(test_bad_input),
    cmocka_unit_test(test_empty_blob),
};
const size_t suite_basic_count = sizeof(suite_basic_tests) / sizeof(suite_basic_tests[0]);
