/* Sign/verify helpers running all three GREP11 flows. */
#ifndef GREP11_EMAC_H
#define GREP11_EMAC_H

#include "etest.h"

/* MAC of msg in flow f (0 single, 1 one-shot over a state, 2 multi-part
 * split at cut with the second part on e2). */
static inline CK_RV et_sign(engine *e, engine *e2, int f, const engine_buf *key,
                            const engine_mech *m, const uint8_t *msg, size_t n, size_t cut,
                            engine_buf *sig)
{
    CK_RV rv;
    engine_buf s0 = {0}, s1 = {0}, s2 = {0};
    *sig = (engine_buf){0};
    if (f == 0)
        return engine_sign_single(e, et_b(key), m, et_raw(msg, n), sig);
    if ((rv = engine_sign_init(e, m, et_b(key), &s0)) != CKR_OK)
        return rv;
    if (f == 1) {
        rv = engine_sign(e2, et_b(&s0), et_raw(msg, n), sig);
    } else {
        if (cut > n)
            cut = n;
        rv = engine_sign_update(e, et_b(&s0), et_raw(msg, cut), &s1);
        if (rv == CKR_OK)
            rv = engine_sign_update(e2, et_b(&s1), et_raw(msg + cut, n - cut), &s2);
        if (rv == CKR_OK)
            rv = engine_sign_final(e, et_b(&s2), sig);
    }
    engine_buf_free(&s0);
    engine_buf_free(&s1);
    engine_buf_free(&s2);
    return rv;
}

static inline CK_RV et_verify(engine *e, engine *e2, int f, const engine_buf *key,
                              const engine_mech *m, const uint8_t *msg, size_t n, size_t cut,
                              const uint8_t *sig, size_t sl)
{
    CK_RV rv;
    engine_buf s0 = {0}, s1 = {0}, s2 = {0};
    if (f == 0)
        return engine_verify_single(e, et_b(key), m, et_raw(msg, n), et_raw(sig, sl));
    if ((rv = engine_verify_init(e, m, et_b(key), &s0)) != CKR_OK)
        return rv;
    if (f == 1) {
        rv = engine_verify(e2, et_b(&s0), et_raw(msg, n), et_raw(sig, sl));
    } else {
        if (cut > n)
            cut = n;
        rv = engine_verify_update(e, et_b(&s0), et_raw(msg, cut), &s1);
        if (rv == CKR_OK)
            rv = engine_verify_update(e2, et_b(&s1), et_raw(msg + cut, n - cut), &s2);
        if (rv == CKR_OK)
            rv = engine_verify_final(e, et_b(&s2), et_raw(sig, sl));
    }
    engine_buf_free(&s0);
    engine_buf_free(&s1);
    engine_buf_free(&s2);
    return rv;
}

#endif
