/* Helpers for the public-key engine tests: key pairs, every sign/verify
 * flow, and parameter encodings. */
#ifndef GREP11_EPK_H
#define GREP11_EPK_H

#include "etest.h"

/* GenerateKeyPair with the two templates. */
static inline CK_RV epk_pair(engine *e, CK_MECHANISM_TYPE mech, const etmpl *pub, const etmpl *priv,
                             engine_buf *priv_blob, engine_buf *pub_key)
{
    engine_mech m = et_mech(mech);
    return engine_generate_key_pair(e, &m, pub->a, pub->n, priv->a, priv->n, priv_blob, pub_key);
}

/* Signs msg by Init+Update(in 3 pieces)+Final. */
static inline CK_RV epk_sign_multi(engine *e, const engine_mech *m, engine_bytes key,
                                   const uint8_t *msg, size_t len, engine_buf *sig)
{
    engine_buf st = {0}, st2 = {0};
    CK_RV rv = engine_sign_init(e, m, key, &st);
    size_t cut[4] = {0, len / 3, 2 * len / 3, len};
    for (int i = 0; i < 3 && rv == CKR_OK; i++) {
        rv = engine_sign_update(e, et_b(&st), et_raw(msg + cut[i], cut[i + 1] - cut[i]), &st2);
        engine_buf_free(&st);
        st = st2;
        st2 = (engine_buf){0};
    }
    if (rv == CKR_OK)
        rv = engine_sign_final(e, et_b(&st), sig);
    engine_buf_free(&st);
    return rv;
}

static inline CK_RV epk_verify_multi(engine *e, const engine_mech *m, engine_bytes key,
                                     const uint8_t *msg, size_t len, engine_bytes sig)
{
    engine_buf st = {0}, st2 = {0};
    CK_RV rv = engine_verify_init(e, m, key, &st);
    size_t cut[3] = {0, len / 2, len};
    for (int i = 0; i < 2 && rv == CKR_OK; i++) {
        rv = engine_verify_update(e, et_b(&st), et_raw(msg + cut[i], cut[i + 1] - cut[i]), &st2);
        engine_buf_free(&st);
        st = st2;
        st2 = (engine_buf){0};
    }
    if (rv == CKR_OK)
        rv = engine_verify_final(e, et_b(&st), sig);
    engine_buf_free(&st);
    return rv;
}

/* Init + one-shot Sign / Verify. */
static inline CK_RV epk_sign_init1(engine *e, const engine_mech *m, engine_bytes key,
                                   engine_bytes msg, engine_buf *sig)
{
    engine_buf st = {0};
    CK_RV rv = engine_sign_init(e, m, key, &st);
    if (rv == CKR_OK)
        rv = engine_sign(e, et_b(&st), msg, sig);
    engine_buf_free(&st);
    return rv;
}
static inline CK_RV epk_verify_init1(engine *e, const engine_mech *m, engine_bytes key,
                                     engine_bytes msg, engine_bytes sig)
{
    engine_buf st = {0};
    CK_RV rv = engine_verify_init(e, m, key, &st);
    if (rv == CKR_OK)
        rv = engine_verify(e, et_b(&st), msg, sig);
    engine_buf_free(&st);
    return rv;
}

/* Every flow signs, every flow verifies every signature; a flipped bit is
 * CKR_SIGNATURE_INVALID. */
static inline void epk_all_flows(engine *e, const engine_mech *m, const engine_buf *priv,
                                 const engine_buf *pub, const uint8_t *msg, size_t len)
{
    engine_buf s[3] = {{0}, {0}, {0}};
    assert_int_equal(engine_sign_single(e, et_b(priv), m, et_raw(msg, len), &s[0]), CKR_OK);
    assert_int_equal(epk_sign_multi(e, m, et_b(priv), msg, len, &s[1]), CKR_OK);
    assert_int_equal(epk_sign_init1(e, m, et_b(priv), et_raw(msg, len), &s[2]), CKR_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(engine_verify_single(e, et_b(pub), m, et_raw(msg, len), et_b(&s[i])),
                         CKR_OK);
        assert_int_equal(epk_verify_multi(e, m, et_b(pub), msg, len, et_b(&s[i])), CKR_OK);
        assert_int_equal(epk_verify_init1(e, m, et_b(pub), et_raw(msg, len), et_b(&s[i])), CKR_OK);
    }
    s[0].ptr[s[0].len / 2] ^= 0x10;
    assert_int_equal(engine_verify_single(e, et_b(pub), m, et_raw(msg, len), et_b(&s[0])),
                     CKR_SIGNATURE_INVALID);
    assert_int_equal(epk_verify_multi(e, m, et_b(pub), msg, len, et_b(&s[0])),
                     CKR_SIGNATURE_INVALID);
    assert_int_equal(
        engine_verify_single(e, et_b(pub), m, et_raw(msg, len), et_raw(s[1].ptr, s[1].len - 1)),
        CKR_SIGNATURE_LEN_RANGE);
    for (int i = 0; i < 3; i++)
        engine_buf_free(&s[i]);
}

/* Length of the SPKI at the front of a MACed SPKI (DER SEQUENCE). */
static inline size_t epk_spki_len(const engine_buf *pub)
{
    const uint8_t *p = pub->ptr;
    if (p[1] < 0x80)
        return 2 + p[1];
    size_t n = p[1] & 0x7f, l = 0;
    for (size_t i = 0; i < n; i++)
        l = (l << 8) | p[2 + i];
    return 2 + n + l;
}

/* One attribute read back (caller frees the array). */
static inline CK_RV epk_attr(engine *e, const engine_buf *obj, CK_ATTRIBUTE_TYPE t,
                             CK_ATTRIBUTE **a)
{
    CK_ULONG n = 0;
    return engine_get_attribute_value(e, et_b(obj), &t, 1, a, &n);
}

/* CK_SIGN_ADDITIONAL_CONTEXT as ParameterB. */
static inline size_t epk_ctx_param(uint8_t *out, uint32_t hedge, const uint8_t *ctx, size_t clen)
{
    for (int i = 0; i < 4; i++)
        out[i] = (uint8_t)(hedge >> (24 - 8 * i));
    for (int i = 0; i < 4; i++)
        out[4 + i] = (uint8_t)(clen >> (24 - 8 * i));
    if (clen)
        memcpy(out + 8, ctx, clen);
    return 8 + clen;
}

#endif
