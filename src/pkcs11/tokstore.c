/* Token objects (CKA_TOKEN=TRUE) in the token's keystores on the server
 * (grep11.Store, DESIGN §5): the normal user's private keystore
 * (users.1.tokenspaceID) for CKA_PRIVATE=TRUE and the public keystore
 * (users.2.tokenspaceID) for the rest. A stored object is its blob plus
 * every attribute the module knows of it (the bound ones as a copy), so
 * that C_FindObjects runs in the keystore with any template.
 *
 * The module caches what it reads, under a handle that stays the object's
 * (tokmap.c). Writes quote the version read: a change made elsewhere in the
 * meantime is a conflict, never a lost update. Each PKCS #11 call's writes
 * share one RequestID, its retry after a conflict included, so that a write
 * whose answer was lost and that libgrep11 sent again is applied once. */
#include <stdlib.h>
#include <string.h>

#include "grep11/wire.h"
#include "internal.h"

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

void p11_uuid_text(const uint8_t id[16], char out[P11_UUID_TEXT_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = hex[id[i] >> 4];
        out[k++] = hex[id[i] & 15];
    }
    out[k] = '\0';
}

int p11_uuid_from_text(const void *p, size_t len, uint8_t out[16])
{
    const char *s = p;
    if (len != P11_UUID_TEXT_LEN)
        return 0;
    for (size_t i = 0, k = 0; i < len; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
            continue;
        }
        int v = hexval(s[i]);
        if (v < 0)
            return 0;
        if (k % 2 == 0)
            out[k / 2] = (uint8_t)(v << 4);
        else
            out[k / 2] |= (uint8_t)v;
        k++;
    }
    return 1;
}

CK_RV p11_unique_id_set(p11_object *o)
{
    char text[P11_UUID_TEXT_LEN + 1];
    p11_uuid_text(o->uuid, text);
    return p11_attrs_set(&o->attrs, CKA_UNIQUE_ID, text, P11_UUID_TEXT_LEN);
}

static int ks_user(int ks)
{
    return ks == P11_KS_PRIVATE ? P11_USER_NORMAL : P11_USER_ANON;
}

static const char *ks_name(int ks)
{
    return ks == P11_KS_PRIVATE ? "private" : "public";
}

void p11_tokstore_slot_setup(p11_slot *slot)
{
    for (int ks = 0; ks < 2; ks++) {
        const p11_user_cfg *u = &slot->cfg->users[ks_user(ks)];
        slot->ks_on[ks] =
            slot->cfg->remotestore && u->present && u->tokenspace_id &&
            /* the configuration checked the 8-4-4-4-12 shape */
            p11_uuid_from_text(u->tokenspace_id, strlen(u->tokenspace_id), slot->ks_id[ks]);
    }
}

const char *p11_tokstore_password(const p11_slot *slot, int ks)
{
    const p11_user_cfg *u = &slot->cfg->users[ks_user(ks)];
    if (!u->sessionauth_enabled || !u->tokenspace_password || !u->tokenspace_password[0])
        return NULL;
    return u->tokenspace_password;
}

CK_RV p11_tokstore_usable(p11_state *st, size_t slot_idx, int ks)
{
    p11_slot *slot = &st->slots[slot_idx];
    if (slot->ks_on[ks])
        return CKR_OK;
    if (!slot->cfg->remotestore)
        P11_WARN("tokens.%lu: token objects need storage.remotestore.enabled",
                 (unsigned long)slot->cfg->slot);
    else
        P11_WARN("tokens.%lu.users.%d.tokenspaceID: missing, so there is no %s keystore",
                 (unsigned long)slot->cfg->slot, ks_user(ks), ks_name(ks));
    return CKR_TOKEN_WRITE_PROTECTED;
}

CK_RV p11_tokstore_rv(CK_RV rv, const char *what)
{
    switch (rv) {
    case CKR_OK:
        return rv;
    case CKR_GREP11_PERMISSION_DENIED:
        P11_WARN("%s: refused: the API key lacks a keystore role or a grant for the keystore",
                 what);
        return CKR_ACTION_PROHIBITED;
    case CKR_USER_NOT_LOGGED_IN:
        P11_WARN("%s: refused: the private keystore needs the normal user", what);
        return rv;
    case CKR_TOKEN_NOT_PRESENT:
        P11_WARN("%s: the keystore does not exist: initialize the token (C_InitToken)", what);
        return rv;
    case CKR_PIN_INCORRECT:
        P11_WARN("%s: the keystore refused its password (sessionauth.tokenspaceIDPassword)", what);
        return rv;
    case CKR_GREP11_MISSING:
        return CKR_OBJECT_HANDLE_INVALID;
    case CKR_ARGUMENTS_BAD:
        P11_WARN("%s: the keystore refused the object (a value over 64 KiB or a blob over 1 MiB?)",
                 what);
        return CKR_ATTRIBUTE_VALUE_INVALID;
    case CKR_IBM_GREP11_CONFLICT:
        P11_ERR("%s: the object kept changing elsewhere (version conflict)", what);
        return CKR_DEVICE_ERROR;
    case CKR_GREP11_REQUEST_REUSED:
        P11_ERR("%s: the server refused a RequestID already used for another write", what);
        return CKR_DEVICE_ERROR;
    default:
        if (rv >= CKR_VENDOR_DEFINED) {
            P11_ERR("%s: %s", what, p11_rv_name(rv));
            return CKR_DEVICE_ERROR;
        }
        return rv;
    }
}

/* The attributes to store: all of them, but for integers that say
 * CK_UNAVAILABLE_INFORMATION (CKA_KEY_GEN_MECHANISM of an imported key),
 * which the server's wire refuses as negative (the blob still has them),
 * and CKA_UNIQUE_ID, which is the row's own UUID (set when read).
 * *out borrows the values. */
static CK_RV storable(const p11_attrs *a, CK_ATTRIBUTE **out, CK_ULONG *n)
{
    *n = 0;
    if (!(*out = calloc(a->n ? a->n : 1, sizeof(**out))))
        return CKR_HOST_MEMORY;
    for (CK_ULONG i = 0; i < a->n; i++) {
        CK_ULONG v = 0;
        if (a->a[i].ulValueLen == sizeof(v) &&
            grep11_attr_kind_of(a->a[i].type) == GREP11_ATTR_ULONG)
            memcpy(&v, a->a[i].pValue, sizeof(v));
        if (v != CK_UNAVAILABLE_INFORMATION && a->a[i].type != CKA_UNIQUE_ID)
            (*out)[(*n)++] = a->a[i];
    }
    return CKR_OK;
}

/* Fills a fresh object from a stored one (takes the blob). */
static CK_RV from_stored(p11_object *o, int ks, g11c_stored_object *so)
{
    CK_RV rv = CKR_OK;
    for (CK_ULONG i = 0; i < so->nattrs && rv == CKR_OK; i++)
        rv = p11_attrs_set(&o->attrs, so->attrs[i].type, so->attrs[i].pValue,
                           so->attrs[i].ulValueLen);
    if (rv == CKR_OK)
        rv = p11_attrs_set_bool(&o->attrs, CKA_TOKEN, CK_TRUE);
    if (rv != CKR_OK)
        return rv;
    o->cls = p11_attrs_ulong(&o->attrs, CKA_CLASS, CKO_DATA);
    o->is_private = ks == P11_KS_PRIVATE || p11_attrs_bool(&o->attrs, CKA_PRIVATE, 0);
    o->is_token = 1;
    o->ks = ks;
    memcpy(o->uuid, so->id, 16);
    o->version = so->version;
    if ((rv = p11_unique_id_set(o)) != CKR_OK)
        return rv;
    if (so->blob.len) {
        o->blob = so->blob;
        so->blob.ptr = NULL;
        so->blob.len = 0;
    }
    /* The stored copies of bound attributes serve searches; what a caller
     * reads comes from the blob itself (one RPC at first use). */
    o->bound_cached = o->blob.ptr == NULL;
    return CKR_OK;
}

/* Moves the contents of src (a fresher copy) into o (o->lock held). */
static void take_contents(p11_object *o, p11_object *src)
{
    p11_attrs a = o->attrs;
    g11c_buf b = o->blob;
    o->attrs = src->attrs;
    o->blob = src->blob;
    src->attrs = a;
    src->blob = b;
    o->cls = src->cls;
    o->is_private = src->is_private;
    o->bound_cached = src->bound_cached;
    o->version = src->version;
}

CK_RV p11_tokstore_adopt(p11_state *st, size_t slot_idx, int ks, g11c_stored_object *so,
                         CK_OBJECT_HANDLE *h)
{
    p11_slot *slot = &st->slots[slot_idx];
    p11_object *fresh = p11_object_new(CKO_DATA);
    if (!fresh)
        return CKR_HOST_MEMORY;
    fresh->slot_idx = slot_idx;
    CK_RV rv = from_stored(fresh, ks, so);
    if (rv != CKR_OK)
        goto out;
    p11_mutex_lock(st->lock);
    CK_OBJECT_HANDLE hd = p11_tokmap_get(slot->cfg->slot, fresh->uuid);
    p11_object *cur = hd ? p11_htab_get(&st->objects, hd) : NULL;
    if (cur) {
        /* Known: refresh the cached copy when the keystore has a newer one. */
        p11_mutex_lock(cur->lock);
        if (fresh->version > cur->version)
            take_contents(cur, fresh);
        p11_mutex_unlock(cur->lock);
    } else {
        if (!hd) {
            hd = p11_new_handle(st);
            rv = p11_tokmap_put(slot->cfg->slot, fresh->uuid, hd);
        }
        fresh->handle = hd;
        fresh->refs = 1;
        if (rv == CKR_OK && (rv = p11_htab_put(&st->objects, hd, fresh)) == CKR_OK)
            fresh = NULL;
    }
    p11_mutex_unlock(st->lock);
    if (rv == CKR_OK)
        *h = hd;
out:
    p11_object_free(fresh);
    return rv;
}

CK_RV p11_tokstore_create(p11_state *st, p11_object *o, CK_OBJECT_HANDLE *h)
{
    p11_slot *slot = &st->slots[o->slot_idx];
    int ks = o->is_private ? P11_KS_PRIVATE : P11_KS_PUBLIC;
    CK_RV rv = p11_tokstore_usable(st, o->slot_idx, ks);
    if (rv != CKR_OK)
        return rv;
    if ((rv = p11_attrs_set_bool(&o->attrs, CKA_TOKEN, CK_TRUE)) != CKR_OK)
        return rv;
    /* o is not shared yet: no lock needed to read it. */
    g11c_bytes blob = g11c_bytes_of(&o->blob); /* empty for data objects, certificates */
    CK_ATTRIBUTE *attrs;
    CK_ULONG nattrs;
    uint8_t request[G11C_REQUEST_ID_LEN];
    if ((rv = g11c_request_id_new(request)) != CKR_OK ||
        (rv = storable(&o->attrs, &attrs, &nattrs)) != CKR_OK)
        return rv;
    rv = g11c_store_create_object_once(slot->conn, request, slot->ks_id[ks],
                                       p11_tokstore_password(slot, ks), blob, attrs, nattrs,
                                       o->uuid, &o->version);
    free(attrs);
    if (rv != CKR_OK)
        return p11_tokstore_rv(rv, "storing a token object");
    if ((rv = p11_unique_id_set(o)) != CKR_OK) {
        g11c_store_destroy_object(slot->conn, slot->ks_id[ks], p11_tokstore_password(slot, ks),
                                  o->uuid);
        return rv;
    }
    o->is_token = 1;
    o->ks = ks;
    o->owner = CK_INVALID_HANDLE; /* belongs to no session */
    o->refs = 1;
    p11_mutex_lock(st->lock);
    o->handle = p11_new_handle(st);
    rv = p11_tokmap_put(slot->cfg->slot, o->uuid, o->handle);
    if (rv == CKR_OK && (rv = p11_htab_put(&st->objects, o->handle, o)) != CKR_OK)
        p11_tokmap_del(slot->cfg->slot, o->uuid);
    p11_mutex_unlock(st->lock);
    if (rv != CKR_OK) {
        /* Stored but not ours to hand out: take it back. */
        g11c_store_destroy_object(slot->conn, slot->ks_id[ks], p11_tokstore_password(slot, ks),
                                  o->uuid);
        o->is_token = 0;
        return rv;
    }
    *h = o->handle;
    P11_DEBUG("slot %lu: token object stored in the %s keystore", (unsigned long)slot->cfg->slot,
              ks_name(ks));
    return CKR_OK;
}

/* Reads the object again (after a conflict). */
static CK_RV reread(p11_state *st, p11_object *o)
{
    p11_slot *slot = &st->slots[o->slot_idx];
    g11c_stored_object so;
    p11_object *fresh = p11_object_new(CKO_DATA);
    if (!fresh)
        return CKR_HOST_MEMORY;
    CK_RV rv = g11c_store_get_object(slot->conn, slot->ks_id[o->ks],
                                     p11_tokstore_password(slot, o->ks), o->uuid, &so);
    if (rv == CKR_GREP11_MISSING) {
        p11_object_forget(st, o);
        rv = CKR_OBJECT_HANDLE_INVALID;
    } else if (rv != CKR_OK) {
        rv = p11_tokstore_rv(rv, "reading a token object");
    } else {
        if ((rv = from_stored(fresh, o->ks, &so)) == CKR_OK) {
            p11_mutex_lock(o->lock);
            take_contents(o, fresh);
            p11_mutex_unlock(o->lock);
        }
        g11c_stored_object_free(&so);
    }
    p11_object_free(fresh);
    return rv;
}

static int same_blob(const g11c_buf *a, const g11c_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0);
}

/* One attempt: the change on a copy, written with the version the copy
 * was made from, under the call's RequestID. */
static CK_RV set_once(p11_state *st, p11_object *o, const CK_ATTRIBUTE *t, CK_ULONG n,
                      const uint8_t request[G11C_REQUEST_ID_LEN])
{
    p11_slot *slot = &st->slots[o->slot_idx];
    p11_object *copy = NULL;
    int64_t version, nv = 0;
    CK_RV rv = p11_object_duplicate(o, &copy);
    if (rv != CKR_OK)
        return rv;
    p11_mutex_lock(o->lock);
    version = o->version;
    rv = p11_object_check_change(o, t, n, 0); /* again: it may have been re-read */
    p11_mutex_unlock(o->lock);
    if (rv == CKR_OK)
        rv = p11_object_apply_change(st, copy, t, n);
    if (rv != CKR_OK)
        goto out;
    /* An unchanged blob is not sent again (length 0 keeps it). */
    p11_mutex_lock(o->lock);
    int keep = same_blob(&o->blob, &copy->blob);
    p11_mutex_unlock(o->lock);
    g11c_bytes blob = keep ? (g11c_bytes){NULL, 0} : g11c_bytes_of(&copy->blob);
    CK_ATTRIBUTE *attrs;
    CK_ULONG nattrs;
    if ((rv = storable(&copy->attrs, &attrs, &nattrs)) != CKR_OK)
        goto out;
    rv = g11c_store_update_object_once(slot->conn, request, slot->ks_id[o->ks],
                                       p11_tokstore_password(slot, o->ks), o->uuid, version, blob,
                                       attrs, nattrs, &nv);
    free(attrs);
    if (rv != CKR_OK)
        goto out;
    copy->version = nv;
    p11_mutex_lock(o->lock);
    if (o->version == version)
        take_contents(o, copy);
    p11_mutex_unlock(o->lock);
out:
    p11_object_free(copy);
    return rv;
}

CK_RV p11_tokstore_set(p11_state *st, p11_object *o, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    uint8_t request[G11C_REQUEST_ID_LEN];
    CK_RV rv = g11c_request_id_new(request);
    if (rv != CKR_OK)
        return rv;
    rv = set_once(st, o, t, n, request);
    if (rv == CKR_IBM_GREP11_CONFLICT) {
        /* Changed elsewhere since read: apply the change to what is there
         * now. The same id serves: a conflict applied and recorded nothing,
         * and should this attempt's answer be lost, its resend must find
         * its record. */
        P11_INFO("token object changed elsewhere: re-reading and trying once more");
        if ((rv = reread(st, o)) != CKR_OK)
            return rv;
        rv = set_once(st, o, t, n, request);
    }
    if (rv == CKR_GREP11_MISSING) {
        p11_object_forget(st, o);
        return CKR_OBJECT_HANDLE_INVALID;
    }
    return p11_tokstore_rv(rv, "updating a token object");
}

CK_RV p11_tokstore_destroy(p11_state *st, p11_object *o)
{
    p11_slot *slot = &st->slots[o->slot_idx];
    uint8_t request[G11C_REQUEST_ID_LEN];
    CK_RV rv = g11c_request_id_new(request);
    if (rv == CKR_OK)
        rv = g11c_store_destroy_object_once(slot->conn, request, slot->ks_id[o->ks],
                                            p11_tokstore_password(slot, o->ks), o->uuid);
    if (rv == CKR_OK || rv == CKR_GREP11_MISSING) {
        p11_object_forget(st, o); /* gone either way */
        return CKR_OK;
    }
    return p11_tokstore_rv(rv, "destroying a token object");
}
