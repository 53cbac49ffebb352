/* Object attributes: C_GetAttributeValue / C_SetAttributeValue /
 * C_CopyObject, and key objects made from fresh blobs (session or token
 * objects; tokstore.c writes token objects back to their keystore). A key's bound
 * attributes (DESIGN §3) are cached from the server's GetAttributeValue;
 * label, ID and dates live only here. CKA_VALUE of a key is never cached. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Attributes of a key that live beside its blob. Only CKA_ALLOWED_MECHANISMS
 * also goes to the server, which binds a non-empty list into the blob and
 * enforces it there (the copy here answers queries and fails early). */
static const CK_ATTRIBUTE_TYPE local_key_attrs[] = {
    CKA_TOKEN,
    CKA_PRIVATE,
    CKA_LABEL,
    CKA_ID,
    CKA_START_DATE,
    CKA_END_DATE,
    CKA_COPYABLE,
    CKA_DESTROYABLE,
    CKA_SUBJECT,
    CKA_UNIQUE_ID,
    CKA_APPLICATION,
    CKA_ALWAYS_AUTHENTICATE,
    CKA_ALLOWED_MECHANISMS,
};

/* Never changed after creation. */
static const CK_ATTRIBUTE_TYPE read_only[] = {
    CKA_CLASS,
    CKA_TOKEN,
    CKA_PRIVATE,
    CKA_KEY_TYPE,
    CKA_CERTIFICATE_TYPE,
    CKA_LOCAL,
    CKA_ALWAYS_SENSITIVE,
    CKA_NEVER_EXTRACTABLE,
    CKA_KEY_GEN_MECHANISM,
    CKA_VALUE_LEN,
    CKA_UNIQUE_ID,
    CKA_CHECK_VALUE,
    CKA_ALLOWED_MECHANISMS, /* bound in the blob: a change could widen it */
    CKA_GREP11_WKID,        /* the blob's: wkid.c */
};

static int in_list(const CK_ATTRIBUTE_TYPE *l, size_t n, CK_ATTRIBUTE_TYPE t)
{
    for (size_t i = 0; i < n; i++)
        if (l[i] == t)
            return 1;
    return 0;
}

#define IN(list, t) in_list((list), sizeof(list) / sizeof((list)[0]), (t))

static int is_key(const p11_object *o)
{
    return o->blob.ptr != NULL;
}

CK_RV p11_key_template_for_server(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE **out,
                                  CK_ULONG *nout)
{
    *out = calloc(n ? n : 1, sizeof(**out));
    *nout = 0;
    if (!*out)
        return CKR_HOST_MEMORY;
    for (CK_ULONG i = 0; i < n; i++)
        if (!IN(local_key_attrs, t[i].type) ||
            (t[i].type == CKA_ALLOWED_MECHANISMS && t[i].ulValueLen > 0))
            (*out)[(*nout)++] = t[i];
    return CKR_OK;
}

CK_RV p11_object_placement(p11_state *st, p11_session *s, const CK_ATTRIBUTE *t, CK_ULONG n,
                           int dflt_token, int dflt_private, int *is_private, int *is_token)
{
    int user = p11_slot_user_logged_in(&st->slots[s->slot_idx]);
    /* Every new object passes here; its CKA_UNIQUE_ID is the module's to
     * assign, its CKA_GREP11_WKID the blob's (C_CopyObject's template is
     * checked as a change). */
    if (p11_tmpl_find(t, n, CKA_UNIQUE_ID) || p11_tmpl_find(t, n, CKA_GREP11_WKID))
        return CKR_ATTRIBUTE_READ_ONLY;
    *is_private = p11_tmpl_bool(t, n, CKA_PRIVATE, dflt_private < 0 ? user : dflt_private);
    *is_token = p11_tmpl_bool(t, n, CKA_TOKEN, dflt_token);
    if (*is_private && !user)
        return CKR_USER_NOT_LOGGED_IN; /* DESIGN §5: only the normal user owns private objects */
    if (!*is_token)
        return CKR_OK; /* module memory */
    if (!(s->flags & CKF_RW_SESSION))
        return CKR_SESSION_READ_ONLY;
    return p11_tokstore_usable(st, s->slot_idx, *is_private ? P11_KS_PRIVATE : P11_KS_PUBLIC);
}

CK_RV p11_key_object(p11_state *st, p11_session *s, g11c_buf *blob, const g11c_buf *checksum,
                     CK_OBJECT_CLASS cls, const CK_ATTRIBUTE *t, CK_ULONG n, p11_object **out)
{
    static const CK_BYTE empty[1] = {0};
    int priv, token;
    CK_RV rv = p11_object_placement(st, s, t, n, 0, -1, &priv, &token);
    if (rv != CKR_OK)
        return rv;
    p11_object *o = p11_object_new(cls);
    if (!o)
        return CKR_HOST_MEMORY;
    o->is_private = priv;
    o->is_token = token;
    o->slot_idx = s->slot_idx;
    o->blob = *blob;
    blob->ptr = NULL;
    blob->len = 0;
    p11_attrs *a = &o->attrs;
    for (CK_ULONG i = 0; i < n && rv == CKR_OK; i++)
        if (IN(local_key_attrs, t[i].type))
            rv = p11_attrs_set(a, t[i].type, t[i].pValue, t[i].ulValueLen);
    if (rv == CKR_OK)
        rv = p11_attrs_set_bool(a, CKA_PRIVATE, priv ? CK_TRUE : CK_FALSE);
    static const CK_ATTRIBUTE_TYPE empties[] = {CKA_LABEL, CKA_ID, CKA_START_DATE, CKA_END_DATE,
                                                CKA_SUBJECT};
    size_t nempty = cls == CKO_SECRET_KEY ? 4 : 5;
    for (size_t i = 0; i < nempty && rv == CKR_OK; i++)
        if (!p11_attrs_find(a, empties[i]))
            rv = p11_attrs_set(a, empties[i], empty, 0);
    if (rv == CKR_OK)
        rv = p11_attrs_set_bool(a, CKA_TOKEN, token ? CK_TRUE : CK_FALSE);
    if (rv == CKR_OK && !p11_attrs_find(a, CKA_COPYABLE))
        rv = p11_attrs_set_bool(a, CKA_COPYABLE, CK_TRUE);
    if (rv == CKR_OK && !p11_attrs_find(a, CKA_DESTROYABLE))
        rv = p11_attrs_set_bool(a, CKA_DESTROYABLE, CK_TRUE);
    /* Kept here, enforced by the module (ctxauth.c); default FALSE. */
    if (rv == CKR_OK && cls == CKO_PRIVATE_KEY && !p11_attrs_find(a, CKA_ALWAYS_AUTHENTICATE))
        rv = p11_attrs_set_bool(a, CKA_ALWAYS_AUTHENTICATE, CK_FALSE);
    /* Empty: any mechanism. A list is in the blob too (the server enforces
     * it); the module checks it at *Init as well, to fail before a call. */
    if (rv == CKR_OK && !p11_attrs_find(a, CKA_ALLOWED_MECHANISMS))
        rv = p11_attrs_set(a, CKA_ALLOWED_MECHANISMS, empty, 0);
    if (rv == CKR_OK && checksum && checksum->len >= 3)
        rv = p11_attrs_set(a, CKA_CHECK_VALUE, checksum->ptr, 3);
    if (rv == CKR_OK)
        rv = p11_object_load_bound(st, o);
    if (rv != CKR_OK) {
        p11_object_free(o);
        return rv;
    }
    *out = o;
    return CKR_OK;
}

CK_RV p11_key_from_blob(p11_state *st, p11_session *s, g11c_buf *blob, const g11c_buf *checksum,
                        const CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *h)
{
    p11_object *o = NULL;
    CK_OBJECT_CLASS cls = p11_tmpl_class(t, n, CKO_SECRET_KEY);
    CK_RV rv = p11_key_object(st, s, blob, checksum, cls, t, n, &o);
    if (rv == CKR_OK && (rv = p11_object_add(st, s, o, h)) != CKR_OK)
        p11_object_free(o);
    return rv;
}

CK_RV p11_object_mech_allowed(p11_object *o, CK_MECHANISM_TYPE mech)
{
    CK_RV rv = CKR_OK;
    p11_mutex_lock(o->lock);
    const CK_ATTRIBUTE *a = p11_attrs_find(&o->attrs, CKA_ALLOWED_MECHANISMS);
    CK_ULONG n = a ? a->ulValueLen / sizeof(CK_MECHANISM_TYPE) : 0;
    if (n) {
        rv = CKR_MECHANISM_INVALID;
        for (CK_ULONG i = 0; i < n && rv != CKR_OK; i++) {
            CK_MECHANISM_TYPE m;
            memcpy(&m, (const CK_BYTE *)a->pValue + i * sizeof(m), sizeof(m));
            if (m == mech)
                rv = CKR_OK;
        }
    }
    p11_mutex_unlock(o->lock);
    if (rv != CKR_OK)
        P11_INFO("mechanism 0x%lx is not in the key's CKA_ALLOWED_MECHANISMS", (unsigned long)mech);
    return rv;
}

/* ---- C_GetAttributeValue ----------------------------------------------------- */

/* One attribute of a key the cache lacks, from the server. */
static CK_RV server_attr(p11_state *st, p11_object *o, CK_ATTRIBUTE *want)
{
    g11c_buf blob = {0};
    CK_ATTRIBUTE *got = NULL;
    CK_ULONG ngot = 0;
    CK_RV rv = p11_object_blob(o, &blob);
    if (rv != CKR_OK)
        return rv;
    rv = g11c_get_attribute_value(st->slots[o->slot_idx].conn, g11c_bytes_of(&blob), &want->type, 1,
                                  &got, &ngot);
    if (rv == CKR_OK) {
        if (ngot != 1 || got[0].type != want->type)
            rv = CKR_ATTRIBUTE_TYPE_INVALID;
        else if (!want->pValue)
            want->ulValueLen = got[0].ulValueLen;
        else if (want->ulValueLen < got[0].ulValueLen)
            rv = CKR_BUFFER_TOO_SMALL;
        else {
            memcpy(want->pValue, got[0].pValue, got[0].ulValueLen);
            want->ulValueLen = got[0].ulValueLen;
        }
    }
    g11c_attrs_free(got, ngot);
    g11c_buf_free(&blob);
    return rv;
}

/* One attribute from the cache: CKR_OK, CKR_BUFFER_TOO_SMALL,
 * CKR_ATTRIBUTE_SENSITIVE, or CKR_ATTRIBUTE_TYPE_INVALID when the cache does
 * not have it. */
static CK_RV cached_attr(p11_object *o, CK_ATTRIBUTE *want)
{
    CK_RV rv = CKR_OK;
    p11_mutex_lock(o->lock);
    const CK_ATTRIBUTE *a = p11_attrs_find(&o->attrs, want->type);
    if (is_key(o) && want->type == CKA_VALUE)
        rv = p11_attrs_bool(&o->attrs, CKA_SENSITIVE, 0) ||
                     !p11_attrs_bool(&o->attrs, CKA_EXTRACTABLE, 1)
                 ? CKR_ATTRIBUTE_SENSITIVE
                 : CKR_ATTRIBUTE_TYPE_INVALID; /* ask the server */
    else if (!a)
        rv = CKR_ATTRIBUTE_TYPE_INVALID;
    else if (!want->pValue)
        want->ulValueLen = a->ulValueLen;
    else if (want->ulValueLen < a->ulValueLen)
        rv = CKR_BUFFER_TOO_SMALL;
    else {
        if (a->ulValueLen)
            memcpy(want->pValue, a->pValue, a->ulValueLen);
        want->ulValueLen = a->ulValueLen;
    }
    p11_mutex_unlock(o->lock);
    return rv;
}

CK_RV C_GetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE oh, CK_ATTRIBUTE *t, CK_ULONG n)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    p11_object *o = NULL;
    CK_RV rv, result = CKR_OK;
    if (n && !t)
        return CKR_ARGUMENTS_BAD;
    if ((rv = p11_session_get(st, h, &s)) != CKR_OK)
        return rv;
    if ((rv = p11_object_get(st, s, oh, &o)) != CKR_OK)
        goto out;
    if (is_key(o) && !o->bound_cached && (rv = p11_object_load_bound(st, o)) != CKR_OK)
        goto out;
    for (CK_ULONG i = 0; i < n; i++) {
        CK_RV one = t[i].type == CKA_GREP11_WKID ? p11_wkid_attr(o, &t[i]) : cached_attr(o, &t[i]);
        if (one == CKR_ATTRIBUTE_TYPE_INVALID && is_key(o) && t[i].type != CKA_GREP11_WKID) {
            one = server_attr(st, o, &t[i]);
            if (one != CKR_OK && one != CKR_ATTRIBUTE_SENSITIVE &&
                one != CKR_ATTRIBUTE_TYPE_INVALID && one != CKR_BUFFER_TOO_SMALL) {
                rv = one; /* the server is gone: the whole call fails */
                goto out;
            }
        }
        if (one != CKR_OK) {
            t[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
            /* §5.7: any of the three may be returned; sensitivity first. */
            if (result == CKR_OK || one == CKR_ATTRIBUTE_SENSITIVE)
                result = one;
        }
    }
    rv = result;
out:
    p11_object_put(st, o);
    p11_session_put(st, s);
    return rv;
}

/* ---- C_SetAttributeValue and C_CopyObject -------------------------------------- */

/* Checks a change against the object (o->lock held); copy: C_CopyObject,
 * where CKA_TOKEN and CKA_PRIVATE may be given. */
CK_RV p11_object_check_change(p11_object *o, const CK_ATTRIBUTE *t, CK_ULONG n, int copy)
{
    if (!p11_attrs_bool(&o->attrs, CKA_MODIFIABLE, 1) && !copy)
        return CKR_ACTION_PROHIBITED;
    for (CK_ULONG i = 0; i < n; i++) {
        CK_ATTRIBUTE_TYPE ty = t[i].type;
        if (copy && (ty == CKA_TOKEN || ty == CKA_PRIVATE))
            continue;
        if (IN(read_only, ty))
            return CKR_ATTRIBUTE_READ_ONLY;
        if (ty == CKA_COPYABLE && p11_tmpl_bool(t, n, CKA_COPYABLE, 0))
            return CKR_ATTRIBUTE_READ_ONLY; /* may only turn off */
        /* May only turn on, also in a copy: a context-login key must not
         * lose its protection through a changed attribute. */
        if (ty == CKA_ALWAYS_AUTHENTICATE && !p11_tmpl_bool(t, n, ty, 0) &&
            p11_attrs_bool(&o->attrs, ty, 0))
            return CKR_ATTRIBUTE_READ_ONLY;
        if (is_key(o) && ty == CKA_VALUE)
            return CKR_ATTRIBUTE_READ_ONLY;
    }
    return CKR_OK;
}

/* Applies a checked change: bound attributes through the server (a new
 * blob), the rest locally. */
CK_RV p11_object_apply_change(p11_state *st, p11_object *o, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    CK_ATTRIBUTE *srv = NULL;
    CK_ULONG nsrv = 0;
    g11c_buf blob = {0}, fresh = {0};
    CK_RV rv = CKR_OK;
    if (is_key(o)) {
        if ((rv = p11_key_template_for_server(t, n, &srv, &nsrv)) != CKR_OK)
            goto out;
        for (CK_ULONG i = 0; i < nsrv; i++)
            if (srv[i].type == CKA_TOKEN || srv[i].type == CKA_PRIVATE)
                srv[i] = srv[--nsrv], i--;
    }
    if (nsrv) {
        if ((rv = p11_object_blob(o, &blob)) != CKR_OK)
            goto out;
        rv = g11c_set_attribute_value(st->slots[o->slot_idx].conn, g11c_bytes_of(&blob), srv, nsrv,
                                      &fresh);
        if (rv == CKR_OBJECT_HANDLE_INVALID || rv == CKR_KEY_HANDLE_INVALID)
            rv = CKR_OBJECT_HANDLE_INVALID;
        if (rv != CKR_OK)
            goto out;
        p11_mutex_lock(o->lock);
        g11c_buf_free(&o->blob);
        o->blob = fresh;
        fresh.ptr = NULL;
        p11_mutex_unlock(o->lock);
        if ((rv = p11_object_load_bound(st, o)) != CKR_OK)
            goto out;
    }
    p11_mutex_lock(o->lock);
    for (CK_ULONG i = 0; i < n && rv == CKR_OK; i++)
        if (!is_key(o) ||
            in_list(local_key_attrs, sizeof(local_key_attrs) / sizeof(CK_ULONG), t[i].type))
            rv = p11_attrs_set(&o->attrs, t[i].type, t[i].pValue, t[i].ulValueLen);
    p11_mutex_unlock(o->lock);
out:
    free(srv);
    g11c_buf_free(&blob);
    g11c_buf_free(&fresh);
    return rv;
}

CK_RV C_SetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE oh, CK_ATTRIBUTE *t, CK_ULONG n)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    p11_object *o = NULL;
    CK_RV rv = p11_tmpl_check(t, n);
    if (rv != CKR_OK)
        return rv;
    if ((rv = p11_session_get(st, h, &s)) != CKR_OK)
        return rv;
    if ((rv = p11_object_get(st, s, oh, &o)) != CKR_OK)
        goto out;
    p11_mutex_lock(o->lock);
    rv = p11_object_check_change(o, t, n, 0);
    p11_mutex_unlock(o->lock);
    if (rv == CKR_OK && o->is_token)
        rv = (s->flags & CKF_RW_SESSION) ? p11_tokstore_set(st, o, t, n) : CKR_SESSION_READ_ONLY;
    else if (rv == CKR_OK)
        rv = p11_object_apply_change(st, o, t, n);
out:
    p11_object_put(st, o);
    p11_session_put(st, s);
    return rv;
}

CK_RV p11_object_duplicate(p11_object *src, p11_object **out)
{
    CK_RV rv = CKR_OK;
    p11_object *o = p11_object_new(src->cls);
    if (!o)
        return CKR_HOST_MEMORY;
    p11_mutex_lock(src->lock);
    o->is_private = src->is_private;
    o->slot_idx = src->slot_idx;
    o->bound_cached = src->bound_cached;
    for (CK_ULONG i = 0; i < src->attrs.n && rv == CKR_OK; i++)
        rv = p11_attrs_set(&o->attrs, src->attrs.a[i].type, src->attrs.a[i].pValue,
                           src->attrs.a[i].ulValueLen);
    if (rv == CKR_OK && src->blob.ptr) {
        o->blob.ptr = malloc(src->blob.len);
        if (o->blob.ptr) {
            memcpy(o->blob.ptr, src->blob.ptr, src->blob.len);
            o->blob.len = src->blob.len;
        } else {
            rv = CKR_HOST_MEMORY;
        }
    }
    p11_mutex_unlock(src->lock);
    if (rv != CKR_OK)
        p11_object_free(o);
    else
        *out = o;
    return rv;
}

CK_RV C_CopyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE oh, CK_ATTRIBUTE *t, CK_ULONG n,
                   CK_OBJECT_HANDLE *out)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    p11_object *o = NULL, *copy = NULL;
    int priv, token;
    if (!out)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = p11_tmpl_check(t, n);
    if (rv != CKR_OK)
        return rv;
    if ((rv = p11_session_get(st, h, &s)) != CKR_OK)
        return rv;
    if ((rv = p11_object_get(st, s, oh, &o)) != CKR_OK)
        goto out;
    p11_mutex_lock(o->lock);
    int copyable = p11_attrs_bool(&o->attrs, CKA_COPYABLE, 1);
    int was_private = o->is_private, was_token = o->is_token;
    if (copyable)
        rv = p11_object_check_change(o, t, n, 1);
    p11_mutex_unlock(o->lock);
    if (!copyable) {
        rv = CKR_ACTION_PROHIBITED;
        goto out;
    }
    if (rv != CKR_OK)
        goto out;
    /* The copy keeps the original's CKA_TOKEN and CKA_PRIVATE unless the
     * template says otherwise (§4.4: C_CopyObject). */
    if ((rv = p11_object_placement(st, s, t, n, was_token, was_private, &priv, &token)) != CKR_OK)
        goto out;
    if ((rv = p11_object_duplicate(o, &copy)) != CKR_OK)
        goto out;
    copy->is_private = priv;
    copy->is_token = token;
    if ((rv = p11_object_apply_change(st, copy, t, n)) != CKR_OK ||
        (rv = p11_attrs_set_bool(&copy->attrs, CKA_PRIVATE, priv ? CK_TRUE : CK_FALSE)) != CKR_OK ||
        (rv = p11_attrs_set_bool(&copy->attrs, CKA_TOKEN, token ? CK_TRUE : CK_FALSE)) != CKR_OK)
        goto out;
    if ((rv = p11_object_add(st, s, copy, out)) == CKR_OK)
        copy = NULL;
out:
    p11_object_free(copy);
    p11_object_put(st, o);
    p11_session_put(st, s);
    return rv;
}
