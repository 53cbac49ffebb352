/* Vector-test bookkeeping: per-file counts, skip reasons, ACVP joins. */
#ifndef GREP11_VTEST_H
#define GREP11_VTEST_H

#include "etest.h"
#include "testvec.h"

typedef struct {
    const char *file;
    long passed, failed, skipped;
    char reasons[512];
} vt_counts;

static inline void vt_begin(vt_counts *c, const char *file)
{
    memset(c, 0, sizeof(*c));
    c->file = file;
}

static inline void vt_skip(vt_counts *c, const char *reason)
{
    c->skipped++;
    if (strstr(c->reasons, reason) == NULL &&
        strlen(c->reasons) + strlen(reason) + 3 < sizeof(c->reasons)) {
        if (c->reasons[0])
            strcat(c->reasons, "; ");
        strcat(c->reasons, reason);
    }
}

static inline void vt_result(vt_counts *c, int ok, const char *what, long tcid)
{
    if (ok) {
        c->passed++;
    } else {
        c->failed++;
        if (c->failed <= 10)
            fprintf(stderr, "  FAIL %s tc %ld: %s\n", c->file, tcid, what);
    }
}

/* Prints "<file>: N passed, M failed, K skipped (reasons)" and fails the
 * test on any failure or when nothing ran. */
static inline void vt_report(const vt_counts *c)
{
    printf("%s: %ld passed, %ld failed, %ld skipped%s%s%s\n", c->file, c->passed, c->failed,
           c->skipped, c->skipped ? " (" : "", c->skipped ? c->reasons : "", c->skipped ? ")" : "");
    fflush(stdout);
    assert_int_equal(c->failed, 0);
    assert_true(c->passed > 0);
}

/* A JSON number or a numeric string (ACVP writes ids and lengths as strings). */
static inline long vt_num(const cJSON *o, const char *name, long dflt)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_IsNumber(it))
        return (long)it->valuedouble;
    if (cJSON_IsString(it))
        return strtol(it->valuestring, NULL, 10);
    return dflt;
}

static inline const cJSON *vt_arr(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(o, name);
}

/* The expected-results test matching (tgId, tcId). */
static inline const cJSON *vt_expected(const cJSON *exp, long tg, long tc)
{
    const cJSON *g, *t;
    cJSON_ArrayForEach(g, vt_arr(exp, "testGroups"))
    {
        if (vt_num(g, "tgId", -1) != tg)
            continue;
        cJSON_ArrayForEach(t, vt_arr(g, "tests"))
        {
            if (vt_num(t, "tcId", -1) == tc)
                return t;
        }
    }
    return NULL;
}

static inline int vt_hex_eq(const uint8_t *p, size_t len, const cJSON *o, const char *field)
{
    size_t l = 0;
    uint8_t *x = testvec_hex_field(o, field, &l);
    int ok = x != NULL && l == len && (len == 0 || memcmp(x, p, len) == 0);
    free(x);
    return ok;
}

#endif
