/* Test helpers for cipher flows: parameter encodings and "do it all three
 * ways" (single-part, one-shot over a state, multi-part split across two
 * engines). */
#ifndef GREP11_ECRYPT_H
#define GREP11_ECRYPT_H

#include "etest.h"

static inline void et_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* GCM ParameterB: ivlen u32 | iv | aadlen u32 | aad | tagbits u32. */
static inline size_t et_gcm_param(uint8_t *out, const uint8_t *iv, size_t ivlen, const uint8_t *aad,
                                  size_t aadlen, unsigned tagbits)
{
    size_t o = 0;
    et_be32(out + o, (uint32_t)ivlen);
    o += 4;
    if (ivlen)
        memcpy(out + o, iv, ivlen);
    o += ivlen;
    et_be32(out + o, (uint32_t)aadlen);
    o += 4;
    if (aadlen)
        memcpy(out + o, aad, aadlen);
    o += aadlen;
    et_be32(out + o, tagbits);
    return o + 4;
}

typedef enum { FLOW_SINGLE, FLOW_ONESHOT, FLOW_MULTI } et_flow;

/* Runs one encrypt or decrypt in the given flow; multi-part splits `in` at
 * cut1 and cut2 and continues on e2. Returns the CK_RV of the first failing
 * call; output in *out (caller frees). */
static inline CK_RV et_crypt(engine *e, engine *e2, int enc, et_flow flow, const engine_buf *key,
                             const engine_mech *m, const uint8_t *in, size_t n, size_t cut1,
                             size_t cut2, engine_buf *out)
{
    CK_RV rv;
    engine_buf s0 = {0}, s1 = {0}, s2 = {0}, o1 = {0}, o2 = {0}, o3 = {0};
    *out = (engine_buf){0};
    if (flow == FLOW_SINGLE)
        return enc ? engine_encrypt_single(e, et_b(key), m, et_raw(in, n), out)
                   : engine_decrypt_single(e, et_b(key), m, et_raw(in, n), out);
    rv =
        enc ? engine_encrypt_init(e, m, et_b(key), &s0) : engine_decrypt_init(e, m, et_b(key), &s0);
    if (rv != CKR_OK)
        return rv;
    if (flow == FLOW_ONESHOT) {
        rv = enc ? engine_encrypt(e2, et_b(&s0), et_raw(in, n), out)
                 : engine_decrypt(e2, et_b(&s0), et_raw(in, n), out);
        engine_buf_free(&s0);
        return rv;
    }
    if (cut1 > n)
        cut1 = n;
    if (cut2 < cut1)
        cut2 = cut1;
    if (cut2 > n)
        cut2 = n;
    rv = enc ? engine_encrypt_update(e, et_b(&s0), et_raw(in, cut1), &s1, &o1)
             : engine_decrypt_update(e, et_b(&s0), et_raw(in, cut1), &s1, &o1);
    if (rv == CKR_OK)
        rv = enc ? engine_encrypt_update(e2, et_b(&s1), et_raw(in + cut1, cut2 - cut1), &s2, &o2)
                 : engine_decrypt_update(e2, et_b(&s1), et_raw(in + cut1, cut2 - cut1), &s2, &o2);
    if (rv == CKR_OK) {
        engine_buf last = {0}, tail = {0};
        rv = enc ? engine_encrypt_update(e, et_b(&s2), et_raw(in + cut2, n - cut2), &last, &o3)
                 : engine_decrypt_update(e, et_b(&s2), et_raw(in + cut2, n - cut2), &last, &o3);
        if (rv == CKR_OK)
            rv = enc ? engine_encrypt_final(e2, et_b(&last), &tail)
                     : engine_decrypt_final(e2, et_b(&last), &tail);
        if (rv == CKR_OK) {
            size_t tot = o1.len + o2.len + o3.len + tail.len;
            out->ptr = malloc(tot ? tot : 1);
            out->len = tot;
            memcpy(out->ptr, o1.ptr ? o1.ptr : (uint8_t *)"", o1.len);
            memcpy(out->ptr + o1.len, o2.ptr ? o2.ptr : (uint8_t *)"", o2.len);
            memcpy(out->ptr + o1.len + o2.len, o3.ptr ? o3.ptr : (uint8_t *)"", o3.len);
            memcpy(out->ptr + o1.len + o2.len + o3.len, tail.ptr ? tail.ptr : (uint8_t *)"",
                   tail.len);
        }
        engine_buf_free(&last);
        engine_buf_free(&tail);
    }
    engine_buf_free(&s0);
    engine_buf_free(&s1);
    engine_buf_free(&s2);
    engine_buf_free(&o1);
    engine_buf_free(&o2);
    engine_buf_free(&o3);
    return rv;
}

#endif
