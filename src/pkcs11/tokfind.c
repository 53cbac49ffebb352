/* The keystore half of C_FindObjects: the template goes to grep11.Store,
 * which matches it against the stored attributes, and the results come
 * back a page at a time. C_FindObjectsInit fetches the first page of each
 * keystore to search (so a keystore error is its error); C_FindObjects
 * fetches the next page only when the handles in hand are used up, so a
 * search through 100,000 objects costs what the application reads. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PAGE 256

void p11_tokfind_clear(p11_session *s)
{
    for (CK_ULONG i = 0; i < s->nftmpl; i++)
        free(s->ftmpl[i].pValue);
    free(s->ftmpl);
    s->ftmpl = NULL;
    s->nftmpl = 0;
    memset(s->fks_more, 0, sizeof(s->fks_more));
    memset(s->fks_cursor, 0, sizeof(s->fks_cursor));
}

/* Is keystore ks worth asking? Only what the template could match. */
static int wanted(p11_state *st, p11_session *s, int ks, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    p11_slot *slot = &st->slots[s->slot_idx];
    if (!slot->ks_on[ks] || !p11_tmpl_bool(t, n, CKA_TOKEN, 1))
        return 0;
    if (ks == P11_KS_PRIVATE)
        return p11_slot_user_logged_in(slot) && p11_tmpl_bool(t, n, CKA_PRIVATE, 1);
    return 1;
}

static CK_RV copy_template(p11_session *s, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    if (!n)
        return CKR_OK;
    if (!(s->ftmpl = calloc(n, sizeof(*s->ftmpl))))
        return CKR_HOST_MEMORY;
    for (CK_ULONG i = 0; i < n; i++) {
        s->ftmpl[i].type = t[i].type;
        s->ftmpl[i].ulValueLen = t[i].ulValueLen;
        if (!(s->ftmpl[i].pValue = malloc(t[i].ulValueLen ? t[i].ulValueLen : 1)))
            return CKR_HOST_MEMORY;
        if (t[i].ulValueLen)
            memcpy(s->ftmpl[i].pValue, t[i].pValue, t[i].ulValueLen);
        s->nftmpl = i + 1;
    }
    return CKR_OK;
}

static CK_RV push(p11_session *s, CK_OBJECT_HANDLE h)
{
    if (s->nfound == s->capfound) {
        size_t cap = s->capfound ? s->capfound * 2 : PAGE;
        CK_OBJECT_HANDLE *p = realloc(s->found, cap * sizeof(*p));
        if (!p)
            return CKR_HOST_MEMORY;
        s->found = p;
        s->capfound = cap;
    }
    s->found[s->nfound++] = h;
    return CKR_OK;
}

/* Whether a stored object may be shown to the current login. */
static int may_see(p11_slot *slot, int ks, const g11c_stored_object *so)
{
    if (p11_slot_user_logged_in(slot))
        return 1;
    if (ks == P11_KS_PRIVATE)
        return 0;
    const CK_ATTRIBUTE *p = p11_tmpl_find(so->attrs, so->nattrs, CKA_PRIVATE);
    return !(p && p->ulValueLen == 1 && *(const CK_BBOOL *)p->pValue);
}

/* One page of keystore ks. */
static CK_RV fetch(p11_state *st, p11_session *s, int ks)
{
    p11_slot *slot = &st->slots[s->slot_idx];
    g11c_stored_object *objs = NULL;
    size_t n = 0;
    char next[64] = "";
    CK_RV rv =
        g11c_store_find_objects(slot->conn, slot->ks_id[ks], p11_tokstore_password(slot, ks),
                                s->ftmpl, s->nftmpl, s->fks_cursor[ks], PAGE, &objs, &n, next);
    s->fks_more[ks] = 0;
    switch (rv) {
    case CKR_OK:
        break;
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_GREP11_PERMISSION_DENIED:
    case CKR_USER_NOT_LOGGED_IN:
        /* Not there, or not ours to read: it holds nothing we can find. */
        P11_INFO("slot %lu: keystore %d not searched: %s", (unsigned long)slot->cfg->slot, ks,
                 p11_rv_name(rv));
        return CKR_OK;
    case CKR_ATTRIBUTE_VALUE_INVALID:
    case CKR_ATTRIBUTE_TYPE_INVALID:
    case CKR_TEMPLATE_INCONSISTENT:
        return CKR_OK; /* a template no stored object can match */
    default:
        return p11_tokstore_rv(rv, "searching a keystore");
    }
    for (size_t i = 0; i < n && rv == CKR_OK; i++) {
        CK_OBJECT_HANDLE h;
        if (!may_see(slot, ks, &objs[i]))
            continue;
        if ((rv = p11_tokstore_adopt(st, s->slot_idx, ks, &objs[i], &h)) == CKR_OK)
            rv = push(s, h);
    }
    g11c_stored_objects_free(objs, n);
    if (rv == CKR_OK && next[0]) {
        memcpy(s->fks_cursor[ks], next, sizeof(s->fks_cursor[ks]));
        s->fks_cursor[ks][sizeof(s->fks_cursor[ks]) - 1] = '\0';
        s->fks_more[ks] = 1;
    }
    return rv;
}

/* A template naming CKA_UNIQUE_ID: that is the keystore object's UUID
 * (never stored in its row), so the one object is read by id and the rest
 * of the template matched here. No paging follows. */
static CK_RV fetch_by_id(p11_state *st, p11_session *s, int ks, const uint8_t id[16],
                         const CK_ATTRIBUTE *t, CK_ULONG n)
{
    p11_slot *slot = &st->slots[s->slot_idx];
    g11c_stored_object so;
    CK_OBJECT_HANDLE h;
    p11_object *o = NULL;
    CK_RV rv = g11c_store_get_object(slot->conn, slot->ks_id[ks], p11_tokstore_password(slot, ks),
                                     id, &so);
    switch (rv) {
    case CKR_OK:
        break;
    case CKR_GREP11_MISSING:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_GREP11_PERMISSION_DENIED:
    case CKR_USER_NOT_LOGGED_IN:
        return CKR_OK; /* not in this keystore, or not ours to read */
    default:
        return p11_tokstore_rv(rv, "reading a token object by CKA_UNIQUE_ID");
    }
    if (may_see(slot, ks, &so) &&
        (rv = p11_tokstore_adopt(st, s->slot_idx, ks, &so, &h)) == CKR_OK &&
        p11_object_get(st, s, h, &o) == CKR_OK) {
        if (p11_object_matches(o, t, n))
            rv = push(s, h);
        p11_object_put(st, o);
    }
    g11c_stored_object_free(&so);
    return rv;
}

CK_RV p11_tokfind_init(p11_state *st, p11_session *s, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    int any = 0, want[2];
    p11_tokfind_clear(s);
    for (int ks = 0; ks < 2; ks++)
        any |= want[ks] = wanted(st, s, ks, t, n);
    if (!any)
        return CKR_OK;
    const CK_ATTRIBUTE *uid = p11_tmpl_find(t, n, CKA_UNIQUE_ID);
    if (uid) {
        uint8_t id[16];
        CK_RV rv = CKR_OK;
        if (!p11_uuid_from_text(uid->pValue, uid->ulValueLen, id))
            return CKR_OK; /* no token object has such an id */
        for (int ks = 0; ks < 2 && rv == CKR_OK; ks++)
            if (want[ks])
                rv = fetch_by_id(st, s, ks, id, t, n);
        return rv;
    }
    for (int ks = 0; ks < 2; ks++)
        s->fks_more[ks] = want[ks];
    CK_RV rv = copy_template(s, t, n);
    for (int ks = 0; ks < 2 && rv == CKR_OK; ks++)
        if (s->fks_more[ks])
            rv = fetch(st, s, ks);
    if (rv != CKR_OK)
        p11_tokfind_clear(s);
    return rv;
}

CK_RV p11_tokfind_more(p11_state *st, p11_session *s)
{
    CK_RV rv = CKR_OK;
    if (s->pos < s->nfound)
        return CKR_OK;
    s->pos = s->nfound = 0; /* handed out: reuse the space */
    for (int ks = 0; ks < 2 && rv == CKR_OK && s->nfound == 0; ks++)
        while (rv == CKR_OK && s->nfound == 0 && s->fks_more[ks])
            rv = fetch(st, s, ks);
    return rv;
}
