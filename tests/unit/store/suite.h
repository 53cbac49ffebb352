/* The store behaviour suite, run unchanged against every backend: each
 * backend's test program provides a suite_backend (URL plus raw access to
 * stored rows for the tampering tests) and runs suite_tests(). */
#ifndef GREP11_STORE_TEST_SUITE_H
#define GREP11_STORE_TEST_SUITE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store.h"

typedef struct suite_backend {
    const char *name;
    char url[512];
    /* Reads or overwrites column col ("sealed" or "attrs") of one object
     * row behind the store's back. 0 on success. */
    int (*raw_get)(const struct suite_backend *b, const store_uuid *ks, const store_uuid *obj,
                   const char *col, unsigned char **out, size_t *n);
    int (*raw_set)(const struct suite_backend *b, const store_uuid *ks, const store_uuid *obj,
                   const char *col, const unsigned char *v, size_t n);
    /* Runs one parameterless SQL statement on the database at url (the
     * suite's own when NULL). 0 on success. */
    int (*raw_exec)(const struct suite_backend *b, const char *url, const char *sql);
    /* The integer a query returns; its one parameter ($1) is ks, or it
     * has none when ks is NULL. */
    int (*raw_int)(const struct suite_backend *b, const char *url, const char *sql,
                   const store_uuid *ks, int64_t *out);
    /* The URL of a new, empty database called name. 0 on success. */
    int (*fresh_db)(const struct suite_backend *b, const char *name, char *url, size_t n);
    void *ctx;
} suite_backend;

/* cmocka state of every suite test. */
typedef struct suite_fx {
    suite_backend *b;
    store *st;
} suite_fx;

/* Runs the whole suite as one cmocka group named after the backend. */
int suite_run(suite_backend *b);

/* ---- helpers shared by the suite files ---------------------------------- */
void suite_new_ks(store *st, store_uuid *ks, store_ks_kind kind, const char *pw);
store_password suite_pw(const char *s);
void suite_make_blob(unsigned i, unsigned char *out, size_t n);
CK_RV suite_put(store *st, const store_uuid *ks, const store_password *pw, const char *label,
                const char *id, CK_OBJECT_CLASS cls, store_uuid *out);
const CK_ATTRIBUTE *suite_find_attr(const store_object *o, CK_ATTRIBUTE_TYPE t);

/* test lists of the suite files */
extern const struct CMUnitTest suite_basic_tests[];
extern const size_t suite_basic_count;
extern const struct CMUnitTest suite_auth_tests[];
extern const size_t suite_auth_count;
extern const struct CMUnitTest suite_list_tests[];
extern const size_t suite_list_count;
extern const struct CMUnitTest suite_quota_tests[];
extern const size_t suite_quota_count;
extern const struct CMUnitTest suite_tied_tests[];
extern const size_t suite_tied_count;

#endif
