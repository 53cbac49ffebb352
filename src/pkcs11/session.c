/* Sessions: a handle table shared by all slots, a lock per session, login
 * state per slot (PKCS #11 §5.6: a login holds for every session of the
 * slot, and closing the last session logs out). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void p11_op_clear(p11_op *op)
{
    p11_mech_free(&op->mech);
    g11c_buf_free(&op->key);
    g11c_buf_free(&op->state);
    g11c_buf_free(&op->pend_out);
    g11c_buf_free(&op->pend_state);
    memset(op, 0, sizeof(*op));
}

static void session_free(p11_session *s)
{
    for (int i = 0; i < P11_OP_COUNT; i++)
        p11_op_clear(&s->ops[i]);
    free(s->found);
    p11_tokfind_clear(s);
    p11_mutex_free(s->lock);
    free(s);
}

/* Drops one reference (st->lock not held). */
static void session_unref(p11_state *st, p11_session *s)
{
    p11_mutex_lock(st->lock);
    int last = --s->refs == 0;
    p11_mutex_unlock(st->lock);
    if (last)
        session_free(s);
}

CK_RV p11_session_get(p11_state *st, CK_SESSION_HANDLE h, p11_session **out)
{
    p11_mutex_lock(st->lock);
    p11_session *s = p11_htab_get(&st->sessions, h);
    if (s)
        s->refs++;
    p11_mutex_unlock(st->lock);
    if (!s)
        return CKR_SESSION_HANDLE_INVALID;
    p11_mutex_lock(s->lock);
    if (s->closed) {
        p11_mutex_unlock(s->lock);
        session_unref(st, s);
        return CKR_SESSION_HANDLE_INVALID;
    }
    *out = s;
    return CKR_OK;
}

void p11_session_put(p11_state *st, p11_session *s)
{
    p11_mutex_unlock(s->lock);
    session_unref(st, s);
}

CK_RV C_OpenSession(CK_SLOT_ID id, CK_FLAGS flags, void *app, CK_NOTIFY notify,
                    CK_SESSION_HANDLE *out)
{
    P11_STATE_OR_RETURN(st);
    (void)app, (void)notify; /* no surrender callbacks: calls are not cancellable */
    p11_slot *slot;
    size_t idx;
    p11_session *s = NULL;
    CK_RV rv = p11_slot_get(st, id, &slot, &idx);
    if (rv != CKR_OK)
        return rv;
    if (!out)
        return CKR_ARGUMENTS_BAD;
    if (!(flags & CKF_SERIAL_SESSION))
        return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
    if (!(flags & CKF_RW_SESSION) && p11_slot_login_state(slot) == CKU_SO)
        return CKR_SESSION_READ_WRITE_SO_EXISTS;
    s = calloc(1, sizeof(*s));
    if (!s)
        return CKR_HOST_MEMORY;
    s->slot_idx = idx;
    s->flags = flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION);
    s->refs = 1;
    if ((rv = p11_mutex_new(&s->lock)) != CKR_OK)
        goto out;
    p11_mutex_lock(st->lock);
    s->handle = p11_new_handle(st);
    rv = p11_htab_put(&st->sessions, s->handle, s);
    if (rv == CKR_OK) {
        slot->nsessions++;
        if (flags & CKF_RW_SESSION)
            slot->nrw_sessions++;
    }
    p11_mutex_unlock(st->lock);
    if (rv == CKR_OK) {
        *out = s->handle;
        s = NULL;
    }
out:
    if (s)
        session_free(s);
    return rv;
}

static CK_RV close_session(p11_state *st, CK_SESSION_HANDLE h)
{
    p11_mutex_lock(st->lock);
    p11_session *s = p11_htab_del(&st->sessions, h);
    p11_slot *slot = s ? &st->slots[s->slot_idx] : NULL;
    int last = 0;
    if (s) {
        slot->nsessions--;
        if (s->flags & CKF_RW_SESSION)
            slot->nrw_sessions--;
        last = slot->nsessions == 0;
        s->closed = 1;
    }
    p11_mutex_unlock(st->lock);
    if (!s)
        return CKR_SESSION_HANDLE_INVALID;
    p11_objects_drop_session(st, h);
    if (last)
        p11_auth_logout(slot);
    session_unref(st, s);
    return CKR_OK;
}

CK_RV C_CloseSession(CK_SESSION_HANDLE h)
{
    P11_STATE_OR_RETURN(st);
    return close_session(st, h);
}

typedef struct {
    size_t slot_idx;
    CK_SESSION_HANDLE *h;
    size_t n;
} collect;

static void collect_one(CK_ULONG key, void *val, void *arg)
{
    collect *c = arg;
    if (((p11_session *)val)->slot_idx == c->slot_idx)
        c->h[c->n++] = key;
}

void p11_sessions_close_slot(p11_state *st, size_t slot_idx)
{
    collect c = {slot_idx, NULL, 0};
    p11_mutex_lock(st->lock);
    c.h = malloc((st->sessions.count + 1) * sizeof(*c.h));
    if (c.h)
        p11_htab_each(&st->sessions, collect_one, &c);
    p11_mutex_unlock(st->lock);
    for (size_t i = 0; i < c.n; i++)
        close_session(st, c.h[i]);
    free(c.h);
    p11_auth_logout(&st->slots[slot_idx]);
}

CK_RV C_CloseAllSessions(CK_SLOT_ID id)
{
    P11_STATE_OR_RETURN(st);
    p11_slot *slot;
    size_t idx;
    CK_RV rv = p11_slot_get(st, id, &slot, &idx);
    if (rv == CKR_OK)
        p11_sessions_close_slot(st, idx);
    return rv;
}

CK_RV C_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO *info)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    if (!info)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    p11_slot *slot = &st->slots[s->slot_idx];
    CK_ULONG login = p11_slot_login_state(slot);
    int rw = (s->flags & CKF_RW_SESSION) != 0;
    memset(info, 0, sizeof(*info));
    info->slotID = slot->cfg->slot;
    info->flags = s->flags;
    if (login == CKU_SO)
        info->state = CKS_RW_SO_FUNCTIONS;
    else if (login == CKU_USER)
        info->state = rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
    else
        info->state = rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
    p11_session_put(st, s);
    return CKR_OK;
}

CK_RV C_Login(CK_SESSION_HANDLE h, CK_USER_TYPE user, CK_UTF8CHAR *pin, CK_ULONG pin_len)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    if (user == CKU_CONTEXT_SPECIFIC)
        return p11_ctxauth_login(st, h, pin, pin_len); /* ctxauth.c */
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    size_t idx = s->slot_idx;
    p11_session_put(st, s);
    p11_slot *slot = &st->slots[idx];
    if (user == CKU_SO) {
        p11_mutex_lock(st->lock);
        int ro = slot->nsessions > slot->nrw_sessions;
        p11_mutex_unlock(st->lock);
        if (ro)
            return CKR_SESSION_READ_ONLY_EXISTS;
    }
    return p11_auth_login(st, slot, user, pin, pin_len);
}

/* PKCS #11 3.0 C_LoginUser. The API key names its principal; a user name,
 * when given for the normal user, must be the one configured
 * (tokens.N.users.1.name, if set), else CKR_PIN_INCORRECT (a failed
 * login, not telling which half was wrong). The SO and context-specific
 * logins ignore it, as the specification has it. */
CK_RV C_LoginUser(CK_SESSION_HANDLE h, CK_USER_TYPE user, CK_UTF8CHAR *pin, CK_ULONG pin_len,
                  CK_UTF8CHAR *username, CK_ULONG username_len)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    if (!username && username_len)
        return CKR_ARGUMENTS_BAD;
    if (user == CKU_USER && username_len) {
        CK_RV rv = p11_session_get(st, h, &s);
        if (rv != CKR_OK)
            return rv;
        const p11_user_cfg *uc = &st->slots[s->slot_idx].cfg->users[P11_USER_NORMAL];
        p11_session_put(st, s);
        if (uc->present && uc->name && uc->name[0] &&
            (strlen(uc->name) != username_len || memcmp(uc->name, username, username_len) != 0)) {
            P11_INFO("C_LoginUser: not the configured user name");
            return CKR_PIN_INCORRECT;
        }
    }
    return C_Login(h, user, pin, pin_len);
}

CK_RV C_Logout(CK_SESSION_HANDLE h)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    size_t idx = s->slot_idx;
    p11_session_put(st, s);
    p11_slot *slot = &st->slots[idx];
    if (p11_slot_login_state(slot) == P11_NOT_LOGGED_IN)
        return CKR_USER_NOT_LOGGED_IN;
    p11_auth_logout(slot);
    p11_objects_drop_private(st, idx);
    P11_INFO("slot %lu: logged out", (unsigned long)slot->cfg->slot);
    return CKR_OK;
}

CK_RV C_SessionCancel(CK_SESSION_HANDLE h, CK_FLAGS flags)
{
    static const struct {
        CK_FLAGS flag;
        p11_opkind op;
    } map[] = {{CKF_ENCRYPT, P11_OP_ENCRYPT},
               {CKF_DECRYPT, P11_OP_DECRYPT},
               {CKF_DIGEST, P11_OP_DIGEST},
               {CKF_SIGN, P11_OP_SIGN},
               {CKF_VERIFY, P11_OP_VERIFY}};
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    /* Every call is complete when it returns, so cancelling means ending
     * what the flags name; other flags (key management, message-based
     * functions) have nothing under way to end. */
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (flags & map[i].flag)
            p11_op_clear(&s->ops[map[i].op]);
    if ((flags & CKF_FIND_OBJECTS) && s->finding) {
        free(s->found);
        s->found = NULL;
        s->nfound = s->capfound = s->pos = 0;
        p11_tokfind_clear(s);
        s->finding = 0;
    }
    p11_session_put(st, s);
    return CKR_OK;
}

static void free_one(CK_ULONG key, void *val, void *arg)
{
    (void)key, (void)arg;
    session_free(val);
}

void p11_state_free_sessions(p11_state *st)
{
    p11_htab_each(&st->sessions, free_one, NULL);
    p11_htab_free(&st->sessions);
}
