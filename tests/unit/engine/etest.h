/* Helpers shared by the engine unit tests. */
#ifndef GREP11_ETEST_H
#define GREP11_ETEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"

/* A fixed test WK (never a real one). */
static const uint8_t ETEST_WK[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                     12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                     23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t ETEST_WK2[32] = {0xa5, 2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                      12,   13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                      23,   24, 25, 26, 27, 28, 29, 30, 31, 32};

/* A template under construction: values live in the builder. */
typedef struct {
    CK_ATTRIBUTE a[32];
    CK_ULONG n;
    union {
        CK_BBOOL b;
        CK_ULONG u;
    } v[32];
} etmpl;

static inline void et_reset(etmpl *t)
{
    memset(t, 0, sizeof(*t));
}
static inline void et_bool(etmpl *t, CK_ATTRIBUTE_TYPE type, int on)
{
    t->v[t->n].b = on ? CK_TRUE : CK_FALSE;
    t->a[t->n] = (CK_ATTRIBUTE){type, &t->v[t->n].b, sizeof(CK_BBOOL)};
    t->n++;
}
static inline void et_ulong(etmpl *t, CK_ATTRIBUTE_TYPE type, CK_ULONG val)
{
    t->v[t->n].u = val;
    t->a[t->n] = (CK_ATTRIBUTE){type, &t->v[t->n].u, sizeof(CK_ULONG)};
    t->n++;
}
static inline void et_bytes(etmpl *t, CK_ATTRIBUTE_TYPE type, const void *p, size_t len)
{
    t->a[t->n] = (CK_ATTRIBUTE){type, (void *)p, len};
    t->n++;
}

static inline engine *et_engine(void)
{
    engine *e = NULL;
    engine_policy pol;
    memset(&pol, 0, sizeof(pol));
    pol.min_generic_secret_bytes = 1; /* vectors use short HMAC keys */
    assert_int_equal(engine_create(ETEST_WK, &pol, &e), CKR_OK);
    return e;
}

static inline engine_bytes et_b(const engine_buf *b)
{
    return (engine_bytes){b->ptr, b->len};
}
static inline engine_bytes et_raw(const void *p, size_t len)
{
    return (engine_bytes){(const uint8_t *)p, len};
}
static inline engine_mech et_mech(CK_MECHANISM_TYPE type)
{
    engine_mech m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    return m;
}
static inline engine_mech et_mech_b(CK_MECHANISM_TYPE type, const void *p, size_t len)
{
    engine_mech m = et_mech(type);
    m.kind = ENGINE_PARAM_BYTES;
    m.bytes = et_raw(p, len);
    return m;
}

/* Imports a clear secret with the given usage flags set TRUE
 * (and extractable, not sensitive, so tests may read it back). */
static inline CK_RV et_import(engine *e, CK_KEY_TYPE kt, const uint8_t *val, size_t len,
                              engine_buf *blob)
{
    etmpl t;
    engine_buf cs = {0};
    CK_RV rv;
    et_reset(&t);
    et_ulong(&t, CKA_CLASS, CKO_SECRET_KEY);
    et_ulong(&t, CKA_KEY_TYPE, kt);
    et_bytes(&t, CKA_VALUE, val, len);
    et_bool(&t, CKA_SENSITIVE, 0);
    rv = engine_import_secret_key(e, t.a, t.n, blob, &cs);
    engine_buf_free(&cs);
    return rv;
}

/* Deterministic test PRNG (xorshift), so failures reproduce. */
static inline uint64_t et_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}
static inline void et_fill(uint64_t *s, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)et_rand(s);
}

#endif
