/* Objects in module memory: the handle table (session objects, and cached
 * copies of token objects), visibility, search, C_CreateObject /
 * C_DestroyObject / C_GetObjectSize.
 * Objects are reference counted so that a call using one (an RPC with its
 * blob, say) never sees it freed by a concurrent C_DestroyObject. */
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The object table and the session-object list change together, under
 * st->lock. */
static CK_RV table_put(p11_state *st, p11_object *o)
{
    CK_RV rv = p11_htab_put(&st->objects, o->handle, o);
    if (rv == CKR_OK && !o->is_token) {
        o->sprev = NULL;
        o->snext = st->session_objects;
        if (o->snext)
            o->snext->sprev = o;
        st->session_objects = o;
        o->on_session_list = 1;
    }
    return rv;
}

static p11_object *table_del(p11_state *st, p11_object *o)
{
    if (p11_htab_get(&st->objects, o->handle) != o)
        return NULL;
    p11_htab_del(&st->objects, o->handle);
    if (o->on_session_list) {
        if (o->sprev)
            o->sprev->snext = o->snext;
        else
            st->session_objects = o->snext;
        if (o->snext)
            o->snext->sprev = o->sprev;
        o->sprev = o->snext = NULL;
        o->on_session_list = 0;
    }
    return o;
}

p11_object *p11_object_new(CK_OBJECT_CLASS cls)
{
    p11_object *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    if (p11_mutex_new(&o->lock) != CKR_OK) {
        free(o);
        return NULL;
    }
    o->cls = cls;
    return o;
}

void p11_object_free(p11_object *o)
{
    if (!o)
        return;
    p11_attrs_free(&o->attrs);
    g11c_buf_free(&o->blob);
    p11_mutex_free(o->lock);
    free(o);
}

/* With st->lock held. */
static int visible(p11_state *st, const p11_object *o, size_t slot_idx)
{
    return o->slot_idx == slot_idx &&
           (!o->is_private || p11_slot_user_logged_in(&st->slots[slot_idx]));
}

CK_RV p11_object_get(p11_state *st, p11_session *s, CK_OBJECT_HANDLE h, p11_object **out)
{
    p11_mutex_lock(st->lock);
    p11_object *o = p11_htab_get(&st->objects, h);
    if (o && !visible(st, o, s->slot_idx))
        o = NULL;
    if (o)
        o->refs++;
    p11_mutex_unlock(st->lock);
    *out = o;
    return o ? CKR_OK : CKR_OBJECT_HANDLE_INVALID;
}

void p11_object_put(p11_state *st, p11_object *o)
{
    if (!o)
        return;
    p11_mutex_lock(st->lock);
    int last = --o->refs == 0;
    p11_mutex_unlock(st->lock);
    if (last)
        p11_object_free(o);
}

/* A session object's CKA_UNIQUE_ID: a random (version 4) UUID, so that it
 * never equals a token object's or another session object's. */
static CK_RV session_unique_id(p11_object *o)
{
    if (RAND_bytes(o->uuid, sizeof(o->uuid)) != 1)
        return CKR_FUNCTION_FAILED;
    o->uuid[6] = (uint8_t)((o->uuid[6] & 0x0f) | 0x40);
    o->uuid[8] = (uint8_t)((o->uuid[8] & 0x3f) | 0x80);
    return p11_unique_id_set(o);
}

CK_RV p11_object_add(p11_state *st, p11_session *s, p11_object *o, CK_OBJECT_HANDLE *h)
{
    o->slot_idx = s->slot_idx;
    if (o->is_token)
        return p11_tokstore_create(st, o, h); /* lives on beyond the session */
    CK_RV rv = session_unique_id(o);          /* a copy's is replaced too */
    if (rv != CKR_OK)
        return rv;
    o->owner = s->handle;
    o->refs = 1;
    p11_mutex_lock(st->lock);
    o->handle = p11_new_handle(st);
    rv = table_put(st, o);
    p11_mutex_unlock(st->lock);
    if (rv == CKR_OK)
        *h = o->handle;
    return rv;
}

CK_RV p11_object_blob(p11_object *o, g11c_buf *out)
{
    CK_RV rv = CKR_OK;
    p11_mutex_lock(o->lock);
    if (!o->blob.ptr)
        rv = CKR_KEY_HANDLE_INVALID;
    else if (!(out->ptr = malloc(o->blob.len)))
        rv = CKR_HOST_MEMORY;
    else {
        memcpy(out->ptr, o->blob.ptr, o->blob.len);
        out->len = o->blob.len;
    }
    p11_mutex_unlock(o->lock);
    return rv;
}

CK_RV p11_object_key_arg(p11_state *st, p11_object *o, g11c_buf *out)
{
    p11_mutex_lock(o->lock);
    int ref = o->is_token && o->blob.len > P11_KEYREF_MIN &&
              !p11_tokstore_password(&st->slots[o->slot_idx], o->ks);
    uint8_t id[16];
    memcpy(id, o->uuid, 16);
    p11_mutex_unlock(o->lock);
    if (!ref)
        return p11_object_blob(o, out);
    /* The server reads the key from the keystore: the blob does not travel. */
    P11_DEBUG("a token key named by KeyBlobID (its blob stays in the keystore)");
    uint8_t buf[G11C_KEY_REF_LEN];
    g11c_bytes b = g11c_key_ref(id, buf);
    if (!(out->ptr = malloc(b.len)))
        return CKR_HOST_MEMORY;
    memcpy(out->ptr, b.ptr, b.len);
    out->len = b.len;
    return CKR_OK;
}

/* ---- dropping objects ----------------------------------------------------- */

typedef struct {
    int (*pick)(const p11_object *o, const void *arg);
    const void *arg;
    p11_object **list;
    size_t n;
} dropper;

static void drop_pick(CK_ULONG key, void *val, void *arg)
{
    (void)key;
    dropper *d = arg;
    if (d->pick(val, d->arg))
        d->list[d->n++] = val;
}

/* sessions_only: pick among session objects (their list), not the table
 * with every cached token object. */
static void drop_where(p11_state *st, int (*pick)(const p11_object *, const void *),
                       const void *arg, int sessions_only)
{
    dropper d = {pick, arg, NULL, 0};
    size_t cap = 0;
    p11_mutex_lock(st->lock);
    if (sessions_only)
        for (const p11_object *o = st->session_objects; o; o = o->snext)
            cap++;
    else
        cap = st->objects.count;
    d.list = malloc((cap + 1) * sizeof(*d.list));
    if (d.list && sessions_only) {
        for (p11_object *o = st->session_objects; o; o = o->snext)
            drop_pick(o->handle, o, &d);
    } else if (d.list) {
        p11_htab_each(&st->objects, drop_pick, &d);
    }
    if (d.list) {
        for (size_t i = 0; i < d.n; i++)
            table_del(st, d.list[i]);
    }
    p11_mutex_unlock(st->lock);
    for (size_t i = 0; i < d.n; i++)
        p11_object_put(st, d.list[i]);
    free(d.list);
}

static int owned_by(const p11_object *o, const void *arg)
{
    return o->owner == *(const CK_SESSION_HANDLE *)arg;
}

static int private_in(const p11_object *o, const void *arg)
{
    return o->is_private && o->slot_idx == *(const size_t *)arg;
}

static int token_in(const p11_object *o, const void *arg)
{
    return o->is_token && o->slot_idx == *(const size_t *)arg;
}

void p11_objects_drop_session(p11_state *st, CK_SESSION_HANDLE owner)
{
    drop_where(st, owned_by, &owner, 1);
}

void p11_objects_drop_private(p11_state *st, size_t slot_idx)
{
    drop_where(st, private_in, &slot_idx, 0);
}

void p11_objects_drop_token(p11_state *st, size_t slot_idx)
{
    drop_where(st, token_in, &slot_idx, 0);
    p11_tokmap_del_slot(st->slots[slot_idx].cfg->slot);
}

void p11_object_forget(p11_state *st, p11_object *o)
{
    p11_mutex_lock(st->lock);
    p11_object *gone = table_del(st, o);
    if (o->is_token)
        p11_tokmap_del(st->slots[o->slot_idx].cfg->slot, o->uuid);
    p11_mutex_unlock(st->lock);
    if (gone)
        p11_object_put(st, gone); /* the table's reference */
}

static void free_one(CK_ULONG key, void *val, void *arg)
{
    (void)key, (void)arg;
    p11_object_free(val);
}

void p11_state_free_objects(p11_state *st)
{
    p11_htab_each(&st->objects, free_one, NULL);
    p11_htab_free(&st->objects);
}

/* ---- search ------------------------------------------------------------------ */

int p11_object_matches(p11_object *o, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    int ok = 1;
    p11_mutex_lock(o->lock);
    for (CK_ULONG i = 0; ok && i < n; i++) {
        const CK_ATTRIBUTE *a = p11_attrs_find(&o->attrs, t[i].type);
        ok = a && a->ulValueLen == t[i].ulValueLen &&
             (a->ulValueLen == 0 || memcmp(a->pValue, t[i].pValue, a->ulValueLen) == 0);
    }
    p11_mutex_unlock(o->lock);
    return ok;
}

typedef struct {
    p11_state *st;
    size_t slot_idx;
    const CK_ATTRIBUTE *t;
    CK_ULONG n;
    CK_OBJECT_HANDLE *found;
    size_t nfound;
} finder;

/* Session objects only: token objects are searched in their keystores
 * (the copies cached here may be stale or incomplete). */

static int by_handle(const void *a, const void *b)
{
    CK_OBJECT_HANDLE x = *(const CK_OBJECT_HANDLE *)a, y = *(const CK_OBJECT_HANDLE *)b;
    return x < y ? -1 : x > y;
}

CK_RV C_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE *t, CK_ULONG n)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    if (n && !t)
        return CKR_ARGUMENTS_BAD;
    for (CK_ULONG i = 0; i < n; i++)
        if (t[i].ulValueLen && !t[i].pValue)
            return CKR_ATTRIBUTE_VALUE_INVALID;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    if (s->finding) {
        rv = CKR_OPERATION_ACTIVE;
        goto out;
    }
    finder f = {st, s->slot_idx, t, n, NULL, 0};
    /* Session objects only (token objects are the keystores' to match, and
     * the cached ones can be many): the list, not the whole table. */
    p11_mutex_lock(st->lock);
    size_t nsess = 0;
    for (const p11_object *o = st->session_objects; o; o = o->snext)
        nsess++;
    f.found = malloc((nsess + 1) * sizeof(*f.found));
    for (p11_object *o = st->session_objects; f.found && o; o = o->snext)
        if (visible(st, o, f.slot_idx) && p11_object_matches(o, f.t, f.n))
            f.found[f.nfound++] = o->handle;
    p11_mutex_unlock(st->lock);
    if (!f.found) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if (f.nfound > 1)
        qsort(f.found, f.nfound, sizeof(*f.found), by_handle);
    s->found = f.found;
    s->nfound = f.nfound;
    s->capfound = f.nfound + 1;
    s->pos = 0;
    /* Then the keystores: the first page now, so that a keystore error is
     * this call's; later pages as C_FindObjects reaches them. */
    if ((rv = p11_tokfind_init(st, s, t, n)) != CKR_OK) {
        free(s->found);
        s->found = NULL;
        s->nfound = s->capfound = 0;
        goto out;
    }
    s->finding = 1;
out:
    p11_session_put(st, s);
    return rv;
}

CK_RV C_FindObjects(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *count)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    if (!out || !count)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    if (!s->finding) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else {
        CK_ULONG k = 0;
        while (k < max && rv == CKR_OK) {
            if (s->pos == s->nfound && (rv = p11_tokfind_more(st, s)) != CKR_OK)
                break;
            if (s->pos == s->nfound)
                break;
            out[k++] = s->found[s->pos++];
        }
        *count = k;
    }
    p11_session_put(st, s);
    return rv;
}

CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE h)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    if (!s->finding) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else {
        free(s->found);
        s->found = NULL;
        s->nfound = s->capfound = s->pos = 0;
        p11_tokfind_clear(s);
        s->finding = 0;
    }
    p11_session_put(st, s);
    return rv;
}

/* ---- create, copy, destroy ------------------------------------------------------ */

static CK_RV set_default(p11_attrs *a, CK_ATTRIBUTE_TYPE type, const void *v, CK_ULONG len)
{
    return p11_attrs_find(a, type) ? CKR_OK : p11_attrs_set(a, type, v, len);
}

static CK_RV set_default_bool(p11_attrs *a, CK_ATTRIBUTE_TYPE type, CK_BBOOL v)
{
    return set_default(a, type, &v, sizeof(v));
}

/* Class-specific required attributes and defaults (PKCS #11 §4). */
static CK_RV complete_plain_object(p11_object *o)
{
    p11_attrs *a = &o->attrs;
    CK_RV rv = CKR_OK;
    static const CK_BYTE empty[1] = {0};
    switch (o->cls) {
    case CKO_DATA:
        if ((rv = set_default(a, CKA_APPLICATION, empty, 0)) != CKR_OK ||
            (rv = set_default(a, CKA_OBJECT_ID, empty, 0)) != CKR_OK ||
            (rv = set_default(a, CKA_VALUE, empty, 0)) != CKR_OK)
            return rv;
        break;
    case CKO_CERTIFICATE: {
        CK_ULONG ct = p11_attrs_ulong(a, CKA_CERTIFICATE_TYPE, CK_UNAVAILABLE_INFORMATION);
        if (ct == CK_UNAVAILABLE_INFORMATION || !p11_attrs_find(a, CKA_VALUE))
            return CKR_TEMPLATE_INCOMPLETE;
        if (ct != CKC_X_509)
            return CKR_ATTRIBUTE_VALUE_INVALID;
        if (!p11_attrs_find(a, CKA_SUBJECT))
            return CKR_TEMPLATE_INCOMPLETE;
        if (p11_attrs_bool(a, CKA_TRUSTED, 0))
            return CKR_ATTRIBUTE_READ_ONLY; /* only the SO may say so; not yet */
        CK_ULONG zero = 0;
        if ((rv = set_default(a, CKA_ID, empty, 0)) != CKR_OK ||
            (rv = set_default(a, CKA_ISSUER, empty, 0)) != CKR_OK ||
            (rv = set_default(a, CKA_SERIAL_NUMBER, empty, 0)) != CKR_OK ||
            (rv = set_default_bool(a, CKA_TRUSTED, CK_FALSE)) != CKR_OK ||
            (rv = set_default(a, CKA_CERTIFICATE_CATEGORY, &zero, sizeof(zero))) != CKR_OK ||
            (rv = set_default(a, CKA_START_DATE, empty, 0)) != CKR_OK ||
            (rv = set_default(a, CKA_END_DATE, empty, 0)) != CKR_OK)
            return rv;
        break;
    }
    case CKO_PUBLIC_KEY:
        if (!p11_attrs_find(a, CKA_KEY_TYPE))
            return CKR_TEMPLATE_INCOMPLETE;
        if ((rv = set_default(a, CKA_ID, empty, 0)) != CKR_OK ||
            (rv = set_default(a, CKA_SUBJECT, empty, 0)) != CKR_OK ||
            (rv = set_default(a, CKA_START_DATE, empty, 0)) != CKR_OK ||
            (rv = set_default(a, CKA_END_DATE, empty, 0)) != CKR_OK ||
            (rv = set_default_bool(a, CKA_LOCAL, CK_FALSE)) != CKR_OK)
            return rv;
        break;
    default:
        return CKR_ATTRIBUTE_VALUE_INVALID;
    }
    return CKR_OK;
}

/* A public key whose values make an SPKI gets it as its blob: the engine
 * takes a plain SPKI as an untrusted public key (verify, encrypt). Its
 * attributes then come from the server, the template's winning. */
static CK_RV public_key_blob(p11_state *st, p11_object *o, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    CK_RV rv = p11_pkder(t, n, 0, &o->blob);
    if (rv == CKR_TEMPLATE_INCOMPLETE)
        return CKR_OK; /* attributes only, as given */
    if (rv != CKR_OK)
        return rv;
    if ((rv = p11_object_load_bound(st, o)) != CKR_OK) {
        P11_INFO("C_CreateObject: the server refused the public key: %s", p11_rv_name(rv));
        return rv == CKR_HOST_MEMORY || rv == CKR_DEVICE_ERROR ? rv : CKR_ATTRIBUTE_VALUE_INVALID;
    }
    for (CK_ULONG i = 0; i < n && rv == CKR_OK; i++)
        rv = p11_attrs_set(&o->attrs, t[i].type, t[i].pValue, t[i].ulValueLen);
    return rv;
}

CK_RV C_CreateObject(CK_SESSION_HANDLE h, CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_HANDLE *out)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    p11_object *o = NULL;
    int priv, token;
    if (!out)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = p11_tmpl_check(t, n);
    if (rv != CKR_OK)
        return rv;
    const CK_ATTRIBUTE *cls = p11_tmpl_find(t, n, CKA_CLASS);
    if (!cls)
        return CKR_TEMPLATE_INCOMPLETE;
    if ((rv = p11_session_get(st, h, &s)) != CKR_OK)
        return rv;
    if ((rv = p11_object_placement(st, s, t, n, 0, -1, &priv, &token)) != CKR_OK)
        goto out;
    CK_OBJECT_CLASS c = *(const CK_ULONG *)cls->pValue;
    if (c == CKO_SECRET_KEY) {
        rv = p11_import_secret(st, s, t, n, out);
        goto out;
    }
    if (c == CKO_PRIVATE_KEY) {
        rv = p11_import_private(st, s, t, n, out);
        goto out;
    }
    if (!(o = p11_object_new(c))) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    o->is_private = priv;
    o->is_token = token;
    for (CK_ULONG i = 0; i < n && rv == CKR_OK; i++)
        rv = p11_attrs_set(&o->attrs, t[i].type, t[i].pValue, t[i].ulValueLen);
    static const CK_BYTE empty[1] = {0};
    if (rv == CKR_OK)
        rv = complete_plain_object(o);
    if (rv == CKR_OK &&
        (rv = p11_attrs_set_bool(&o->attrs, CKA_TOKEN, token ? CK_TRUE : CK_FALSE)) == CKR_OK &&
        (rv = p11_attrs_set_bool(&o->attrs, CKA_PRIVATE, priv ? CK_TRUE : CK_FALSE)) == CKR_OK &&
        (rv = set_default_bool(&o->attrs, CKA_MODIFIABLE, CK_TRUE)) == CKR_OK &&
        (rv = set_default_bool(&o->attrs, CKA_COPYABLE, CK_TRUE)) == CKR_OK &&
        (rv = set_default_bool(&o->attrs, CKA_DESTROYABLE, CK_TRUE)) == CKR_OK)
        rv = set_default(&o->attrs, CKA_LABEL, empty, 0);
    if (rv == CKR_OK && c == CKO_PUBLIC_KEY)
        rv = public_key_blob(st, o, t, n);
    if (rv == CKR_OK && c == CKO_PUBLIC_KEY)
        rv = p11_public_key_defaults(&o->attrs, t, n); /* over the server's untrusted-key ones */
    /* An Edwards public key given the IBM way (CKK_EC, Ed25519 OID) is kept
     * as what it is, as the engine reports the private keys. */
    const CK_ATTRIBUTE *kt = p11_tmpl_find(t, n, CKA_KEY_TYPE);
    if (rv == CKR_OK && c == CKO_PUBLIC_KEY && kt && kt->ulValueLen == sizeof(CK_KEY_TYPE) &&
        *(const CK_KEY_TYPE *)kt->pValue == CKK_EC &&
        p11_ec_params_edwards(p11_tmpl_find(t, n, CKA_EC_PARAMS))) {
        CK_KEY_TYPE ed = CKK_EC_EDWARDS;
        rv = p11_attrs_set(&o->attrs, CKA_KEY_TYPE, &ed, sizeof(ed));
    }
    if (rv == CKR_OK && (rv = p11_object_add(st, s, o, out)) == CKR_OK)
        o = NULL;
out:
    p11_object_free(o);
    p11_session_put(st, s);
    return rv;
}

CK_RV p11_object_destroy(p11_state *st, p11_object *o)
{
    if (o->is_token)
        return p11_tokstore_destroy(st, o);
    p11_mutex_lock(st->lock);
    p11_object *gone = table_del(st, o);
    p11_mutex_unlock(st->lock);
    if (!gone)
        return CKR_OBJECT_HANDLE_INVALID;
    p11_object_put(st, gone); /* the table's reference */
    return CKR_OK;
}

CK_RV C_DestroyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE oh)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    p11_object *o;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    if ((rv = p11_object_get(st, s, oh, &o)) != CKR_OK)
        goto out;
    p11_mutex_lock(o->lock);
    int destroyable = p11_attrs_bool(&o->attrs, CKA_DESTROYABLE, 1);
    p11_mutex_unlock(o->lock);
    if (!destroyable)
        rv = CKR_ACTION_PROHIBITED;
    else if (o->is_token && !(s->flags & CKF_RW_SESSION))
        rv = CKR_SESSION_READ_ONLY;
    else
        rv = p11_object_destroy(st, o);
    p11_object_put(st, o);
out:
    p11_session_put(st, s);
    return rv;
}

CK_RV C_GetObjectSize(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE oh, CK_ULONG *size)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    p11_object *o;
    if (!size)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    if ((rv = p11_object_get(st, s, oh, &o)) == CKR_OK) {
        p11_mutex_lock(o->lock);
        CK_ULONG total = o->blob.len;
        for (CK_ULONG i = 0; i < o->attrs.n; i++)
            total += sizeof(CK_ATTRIBUTE) + o->attrs.a[i].ulValueLen;
        p11_mutex_unlock(o->lock);
        *size = total;
        p11_object_put(st, o);
    }
    p11_session_put(st, s);
    return rv;
}
