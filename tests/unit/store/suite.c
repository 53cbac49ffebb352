/* Suite driver and helpers shared by suite_basic.c and suite_auth.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "suite.h"

static suite_backend *current; /* cmocka group setup takes no argument */

static void log_to_stderr(void *ctx, const char *msg)
{
    (void)ctx;
    if (getenv("GREP11_STORE_TEST_LOG") != NULL)
        fprintf(stderr, "  [store] %s\n", msg);
}

static int group_setup(void **state)
{
    suite_fx *fx = calloc(1, sizeof(*fx));
    store_options opt = {0};

    if (fx == NULL)
        return -1;
    fx->b = current;
    opt.log = log_to_stderr;
    opt.pool_size = 8;
    if (store_open(current->url, &opt, &fx->st) != CKR_OK) {
        fprintf(stderr, "cannot open store for %s\n", current->name);
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int group_teardown(void **state)
{
    suite_fx *fx = *state;

    if (fx != NULL) {
        store_close(fx->st);
        free(fx);
    }
    return 0;
}

int suite_run(suite_backend *b)
{
    size_t n = suite_basic_count + suite_auth_count + suite_list_count + suite_quota_count +
               suite_tied_count;
    struct CMUnitTest *all = calloc(n, sizeof(*all));
    char name[64];
    int failed;

    if (all == NULL)
        return 1;
    memcpy(all, suite_basic_tests, suite_basic_count * sizeof(*all));
    memcpy(all + suite_basic_count, suite_auth_tests, suite_auth_count * sizeof(*all));
    memcpy(all + suite_basic_count + suite_auth_count, suite_list_tests,
           suite_list_count * sizeof(*all));
    memcpy(all + suite_basic_count + suite_auth_count + suite_list_count, suite_quota_tests,
           suite_quota_count * sizeof(*all));
    memcpy(all + n - suite_tied_count, suite_tied_tests, suite_tied_count * sizeof(*all));
    current = b;
    snprintf(name, sizeof(name), "store_suite/%s", b->name);
    failed = _cmocka_run_group_tests(name, all, n, group_setup, group_teardown);
    free(all);
    return failed;
}

void suite_new_ks(store *st, store_uuid *ks, store_ks_kind kind, const char *pw)
{
    store_password p = suite_pw(pw ? pw : "");
    store_ks_params kp = {kind, "test keystore", pw ? &p : NULL};

    assert_int_equal(RAND_bytes(ks->b, sizeof(ks->b)), 1);
    assert_int_equal(store_keystore_create(st, ks, &kp), CKR_OK);
}

store_password suite_pw(const char *s)
{
    store_password p = {(const unsigned char *)s, strlen(s)};
    return p;
}

void suite_make_blob(unsigned i, unsigned char *out, size_t n)
{
    uint32_t x = 0x9e3779b9u * (i + 1);

    for (size_t k = 0; k < n; k++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out[k] = (unsigned char)x;
    }
}

CK_RV suite_put(store *st, const store_uuid *ks, const store_password *pw, const char *label,
                const char *id, CK_OBJECT_CLASS cls, store_uuid *out)
{
    unsigned char blob[100];
    CK_ATTRIBUTE a[3] = {
        {CKA_LABEL, (void *)label, strlen(label)},
        {CKA_ID, (void *)id, strlen(id)},
        {CKA_CLASS, &cls, sizeof(cls)},
    };
    uint64_t v = 0;

    suite_make_blob((unsigned)strlen(label) * 31 + (unsigned char)label[0], blob, sizeof(blob));
    return store_object_create(st, ks, pw, blob, sizeof(blob), a, 3, out, &v);
}

const CK_ATTRIBUTE *suite_find_attr(const store_object *o, CK_ATTRIBUTE_TYPE t)
{
    for (CK_ULONG i = 0; i < o->nattrs; i++)
        if (o->attrs[i].type == t)
            return &o->attrs[i];
    return NULL;
}
