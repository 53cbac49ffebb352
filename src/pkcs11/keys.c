/* Key management through the server: C_GenerateKey, C_WrapKey,
 * C_UnwrapKey, C_DeriveKey; and C_GenerateRandom / C_SeedRandom. New keys
 * become session objects, or token objects in a keystore (CKA_TOKEN). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define RANDOM_CHUNK (1u << 20)

/* A key handle as a usable key for mech: visible, a blob, bound attributes
 * cached, the usage flag set, mech allowed. bad: the CK_RV for an unusable
 * handle. */
static CK_RV use_key(p11_state *st, p11_session *s, CK_OBJECT_HANDLE h, CK_MECHANISM_TYPE mech,
                     CK_ATTRIBUTE_TYPE usage, CK_RV bad, g11c_buf *blob)
{
    p11_object *o;
    CK_RV rv = p11_object_get(st, s, h, &o);
    if (rv != CKR_OK)
        return bad;
    if (!o->bound_cached && (rv = p11_object_load_bound(st, o)) != CKR_OK) {
        rv = rv == CKR_OBJECT_HANDLE_INVALID || rv == CKR_KEY_HANDLE_INVALID ? bad : rv;
        goto out;
    }
    p11_mutex_lock(o->lock);
    int ok = p11_attrs_bool(&o->attrs, usage, 0);
    p11_mutex_unlock(o->lock);
    if (!ok) {
        rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
        goto out;
    }
    if ((rv = p11_object_mech_allowed(o, mech)) != CKR_OK)
        goto out;
    if (p11_object_key_arg(st, o, blob) != CKR_OK)
        rv = bad;
out:
    p11_object_put(st, o);
    return rv;
}

/* Shared start of the calls that make a key from a template; the server's
 * template gets the module's defaults (defaults.c). */
static CK_RV new_key_prep(p11_state *st, p11_session *s, const CK_MECHANISM *m, CK_FLAGS need,
                          CK_OBJECT_CLASS cls, const CK_ATTRIBUTE *t, CK_ULONG n, p11_mech *pm,
                          CK_ATTRIBUTE **srv, CK_ULONG *nsrv)
{
    int priv, token;
    CK_RV rv = p11_tmpl_check(t, n);
    if (rv == CKR_OK)
        rv = p11_object_placement(st, s, t, n, 0, -1, &priv, &token);
    if (rv == CKR_OK)
        rv = p11_slot_mech_check(&st->slots[s->slot_idx], m->mechanism, need);
    if (rv == CKR_OK)
        rv = p11_mech_from_ck(m, pm);
    if (rv == CKR_OK)
        rv = p11_new_key_template(cls, t, n, srv, nsrv);
    return rv;
}

CK_RV C_GenerateKey(CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_ATTRIBUTE *t, CK_ULONG n,
                    CK_OBJECT_HANDLE *out)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    p11_mech pm = {0};
    CK_ATTRIBUTE *srv = NULL;
    CK_ULONG nsrv = 0;
    g11c_buf blob = {0}, sum = {0};
    if (!m || !out)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    if ((rv = new_key_prep(st, s, m, CKF_GENERATE, p11_tmpl_class(t, n, CKO_SECRET_KEY), t, n, &pm,
                           &srv, &nsrv)) != CKR_OK)
        goto out;
    rv = g11c_generate_key(st->slots[s->slot_idx].conn, &pm.m, srv, nsrv, &blob, &sum);
    if (rv == CKR_OK)
        rv = p11_key_from_blob(st, s, &blob, &sum, t, n, out);
out:
    free(srv);
    p11_mech_free(&pm);
    g11c_buf_free(&blob);
    g11c_buf_free(&sum);
    p11_session_put(st, s);
    return rv;
}

/* CKM_IBM_ATTRIBUTEBOUND_WRAP names its MAC key in its parameter; on the
 * wire the key goes as MacKey and the mechanism carries no parameter.
 * *bare is m as sent; mac stays empty for every other mechanism. */
static CK_RV mac_key_of(p11_state *st, p11_session *s, const CK_MECHANISM *m, CK_MECHANISM *bare,
                        g11c_buf *mac)
{
    *bare = *m;
    if (m->mechanism != CKM_IBM_ATTRIBUTEBOUND_WRAP)
        return CKR_OK;
    if (!m->pParameter || m->ulParameterLen != sizeof(CK_IBM_ATTRIBUTEBOUND_WRAP_PARAMS))
        return CKR_MECHANISM_PARAM_INVALID;
    const CK_IBM_ATTRIBUTEBOUND_WRAP_PARAMS *p = m->pParameter;
    bare->pParameter = NULL;
    bare->ulParameterLen = 0;
    p11_object *o;
    if (p11_object_get(st, s, p->hSignVerifyKey, &o) != CKR_OK)
        return CKR_KEY_HANDLE_INVALID;
    CK_RV rv = p11_object_key_arg(st, o, mac);
    p11_object_put(st, o);
    return rv == CKR_OK ? CKR_OK : CKR_KEY_HANDLE_INVALID;
}

CK_RV C_WrapKey(CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_OBJECT_HANDLE hwrap, CK_OBJECT_HANDLE hkey,
                CK_BYTE *out, CK_ULONG *out_len)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    p11_mech pm = {0};
    g11c_buf kek = {0}, key = {0}, wrapped = {0}, mac = {0};
    CK_MECHANISM bare;
    if (!m || !out_len)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    if ((rv = mac_key_of(st, s, m, &bare, &mac)) != CKR_OK ||
        (rv = p11_slot_mech_check(&st->slots[s->slot_idx], m->mechanism, CKF_WRAP)) != CKR_OK ||
        (rv = use_key(st, s, hwrap, m->mechanism, CKA_WRAP, CKR_WRAPPING_KEY_HANDLE_INVALID,
                      &kek)) != CKR_OK)
        goto out;
    p11_object *o;
    if ((rv = p11_object_get(st, s, hkey, &o)) != CKR_OK) {
        rv = CKR_KEY_HANDLE_INVALID;
        goto out;
    }
    rv = p11_object_key_arg(st, o, &key);
    p11_object_put(st, o);
    if (rv != CKR_OK) {
        rv = CKR_KEY_HANDLE_INVALID;
        goto out;
    }
    if ((rv = p11_mech_from_ck(&bare, &pm)) != CKR_OK)
        goto out;
    /* Wrapping is deterministic for the mechanisms grep11d offers, so a
     * length query simply wraps twice. */
    rv = g11c_wrap_key(st->slots[s->slot_idx].conn, g11c_bytes_of(&key), g11c_bytes_of(&kek),
                       g11c_bytes_of(&mac), &pm.m, &wrapped);
    if (rv == CKR_OK) {
        if (!out)
            *out_len = wrapped.len;
        else if (*out_len < wrapped.len) {
            *out_len = wrapped.len;
            rv = CKR_BUFFER_TOO_SMALL;
        } else {
            memcpy(out, wrapped.ptr, wrapped.len);
            *out_len = wrapped.len;
        }
    }
out:
    p11_mech_free(&pm);
    g11c_buf_free(&kek);
    g11c_buf_free(&key);
    g11c_buf_free(&wrapped);
    g11c_buf_free(&mac);
    p11_session_put(st, s);
    return rv;
}

CK_RV C_UnwrapKey(CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_OBJECT_HANDLE hunwrap, CK_BYTE *in,
                  CK_ULONG in_len, CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    p11_mech pm = {0};
    CK_ATTRIBUTE *srv = NULL;
    CK_ULONG nsrv = 0;
    g11c_buf kek = {0}, blob = {0}, sum = {0}, mac = {0};
    CK_MECHANISM bare;
    if (!m || !in || !out)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    /* CKM_IBM_TRANSPORTKEY imports the SPKI in `in` as a public key (a
     * MACed SPKI): there is no unwrapping key to use, as in EP11. */
    int transport = m->mechanism == CKM_IBM_TRANSPORTKEY;
    CK_OBJECT_CLASS cls = p11_tmpl_class(t, n, transport ? CKO_PUBLIC_KEY : CKO_SECRET_KEY);
    if (transport && cls != CKO_PUBLIC_KEY) {
        rv = CKR_TEMPLATE_INCONSISTENT;
        goto out;
    }
    if ((rv = mac_key_of(st, s, m, &bare, &mac)) != CKR_OK ||
        (rv = new_key_prep(st, s, &bare, CKF_UNWRAP, cls, t, n, &pm, &srv, &nsrv)) != CKR_OK ||
        (!transport && (rv = use_key(st, s, hunwrap, m->mechanism, CKA_UNWRAP,
                                     CKR_UNWRAPPING_KEY_HANDLE_INVALID, &kek)) != CKR_OK))
        goto out;
    rv = g11c_unwrap_key(st->slots[s->slot_idx].conn, p11_bytes(in, in_len), g11c_bytes_of(&kek),
                         g11c_bytes_of(&mac), &pm.m, srv, nsrv, &blob, &sum);
    if (rv == CKR_OK && transport) {
        p11_object *o = NULL;
        /* The checksum is the SPKI and its size, not a check value. */
        if ((rv = p11_key_object(st, s, &blob, NULL, cls, t, n, &o)) == CKR_OK &&
            (rv = p11_object_add(st, s, o, out)) != CKR_OK)
            p11_object_free(o);
    } else if (rv == CKR_OK)
        rv = p11_key_from_blob(st, s, &blob, &sum, t, n, out);
out:
    free(srv);
    p11_mech_free(&pm);
    g11c_buf_free(&mac);
    g11c_buf_free(&kek);
    g11c_buf_free(&blob);
    g11c_buf_free(&sum);
    p11_session_put(st, s);
    return rv;
}

/* The object C_DeriveKey made. CKM_IBM_BTC_DERIVE: the checksum is the
 * new key's chain code, kept whole as its CKA_CHECK_VALUE (where IBM's
 * pkcs11-btc.c reads it for the next derivation). */
static CK_RV derived_object(p11_state *st, p11_session *s, CK_MECHANISM_TYPE mech,
                            CK_OBJECT_CLASS cls, g11c_buf *blob, const g11c_buf *sum,
                            const CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
    p11_object *o = NULL;
    CK_RV rv = p11_key_object(st, s, blob, sum, cls, t, n, &o);
    if (rv == CKR_OK && mech == CKM_IBM_BTC_DERIVE)
        rv = p11_attrs_set(&o->attrs, CKA_CHECK_VALUE, sum->ptr, sum->len);
    if (rv == CKR_OK)
        rv = p11_object_add(st, s, o, out);
    if (rv != CKR_OK && o)
        p11_object_free(o);
    return rv;
}

CK_RV C_DeriveKey(CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_OBJECT_HANDLE hbase, CK_ATTRIBUTE *t,
                  CK_ULONG n, CK_OBJECT_HANDLE *out)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    p11_mech pm = {0};
    CK_ATTRIBUTE *srv = NULL;
    CK_ULONG nsrv = 0;
    g11c_buf base = {0}, blob = {0}, sum = {0};
    if (!m || !out)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    CK_OBJECT_CLASS cls = p11_mech_derived_class(m, t, n);
    if ((rv = new_key_prep(st, s, m, CKF_DERIVE, cls, t, n, &pm, &srv, &nsrv)) != CKR_OK ||
        (rv = use_key(st, s, hbase, m->mechanism, CKA_DERIVE, CKR_KEY_HANDLE_INVALID, &base)) !=
            CKR_OK)
        goto out;
    g11c_bytes none = {NULL, 0};
    rv = g11c_derive_key(st->slots[s->slot_idx].conn, &pm.m, srv, nsrv, g11c_bytes_of(&base), none,
                         &blob, &sum);
    if (rv == CKR_OK)
        rv = derived_object(st, s, m->mechanism, cls, &blob, &sum, t, n, out);
out:
    free(srv);
    p11_mech_free(&pm);
    g11c_buf_free(&base);
    g11c_buf_free(&blob);
    g11c_buf_free(&sum);
    p11_session_put(st, s);
    return rv;
}

CK_RV C_GenerateRandom(CK_SESSION_HANDLE h, CK_BYTE *out, CK_ULONG len)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    if (!out && len)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    g11c_conn *c = st->slots[s->slot_idx].conn;
    for (CK_ULONG done = 0; rv == CKR_OK && done < len;) {
        size_t n = len - done > RANDOM_CHUNK ? RANDOM_CHUNK : (size_t)(len - done);
        rv = g11c_generate_random(c, out + done, n);
        done += n;
    }
    p11_session_put(st, s);
    return rv;
}

CK_RV C_SeedRandom(CK_SESSION_HANDLE h, CK_BYTE *seed, CK_ULONG len)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    if (!seed && len)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    p11_session_put(st, s);
    return CKR_RANDOM_SEED_NOT_SUPPORTED; /* the server's DRBG takes no seed from clients */
}
