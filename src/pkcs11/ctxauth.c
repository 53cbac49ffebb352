/* Context-specific login (PKCS #11 §4.9 CKA_ALWAYS_AUTHENTICATE, §5.6
 * C_Login with CKU_CONTEXT_SPECIFIC).
 *
 * CKA_ALWAYS_AUTHENTICATE lives beside the blob (module object, keystore
 * row): the engine binds no such attribute and refuses TRUE in a template,
 * so the module keeps it to itself and enforces it here. A private key
 * with it TRUE makes C_SignInit / C_DecryptInit remember that the
 * operation needs a context-specific login; until
 * C_Login(CKU_CONTEXT_SPECIFIC) succeeds on that session, the operation's
 * next call fails with CKR_USER_NOT_LOGGED_IN and ends it (crypto_ops.c).
 * The login holds until the operation ends.
 *
 * The PIN is the normal user's API key: the normal user must be logged in
 * (else CKR_USER_NOT_LOGGED_IN), the PIN must equal the key of that login
 * (compared in constant time) and grep11.Auth must still accept it (a key
 * revoked since the login is refused); otherwise CKR_PIN_INCORRECT. */
#include <openssl/crypto.h>
#include <string.h>

#include "internal.h"

int p11_ctxauth_needed(p11_object *o, p11_opkind kind)
{
    if (kind != P11_OP_SIGN && kind != P11_OP_DECRYPT)
        return 0;
    p11_mutex_lock(o->lock);
    CK_ULONG cls = p11_attrs_ulong(&o->attrs, CKA_CLASS, o->cls);
    int on = cls == CKO_PRIVATE_KEY && p11_attrs_bool(&o->attrs, CKA_ALWAYS_AUTHENTICATE, 0);
    p11_mutex_unlock(o->lock);
    return on;
}

/* The PIN equals the key the normal user logged in with. */
static CK_RV same_as_login(p11_slot *slot, const CK_UTF8CHAR *pin, CK_ULONG pin_len)
{
    CK_RV rv = CKR_PIN_INCORRECT;
    p11_mutex_lock(slot->lock);
    if (slot->login != CKU_USER)
        rv = CKR_USER_NOT_LOGGED_IN;
    else if (slot->login_key && strlen(slot->login_key) == pin_len &&
             CRYPTO_memcmp(slot->login_key, pin, pin_len) == 0)
        rv = CKR_OK;
    p11_mutex_unlock(slot->lock);
    return rv;
}

CK_RV p11_ctxauth_login(p11_state *st, CK_SESSION_HANDLE h, const CK_UTF8CHAR *pin,
                        CK_ULONG pin_len)
{
    static const p11_opkind kinds[] = {P11_OP_SIGN, P11_OP_DECRYPT};
    p11_session *s;
    char tok[P11_TOKEN_MAX];
    int waiting = 0;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (s->ops[kinds[i]].active && s->ops[kinds[i]].ctx_need)
            waiting = 1;
    p11_slot *slot = &st->slots[s->slot_idx];
    if (!waiting)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    else if (!pin)
        rv = CKR_ARGUMENTS_BAD;
    else if (pin_len == 0 || pin_len > 256)
        rv = CKR_PIN_LEN_RANGE;
    else if ((rv = same_as_login(slot, pin, pin_len)) == CKR_OK)
        rv = p11_auth_key_token(slot, P11_USER_NORMAL, pin, pin_len, tok, sizeof(tok));
    OPENSSL_cleanse(tok, sizeof(tok));
    if (rv == CKR_OK) {
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
            if (s->ops[kinds[i]].active && s->ops[kinds[i]].ctx_need)
                s->ops[kinds[i]].ctx_done = 1;
    } else if (rv == CKR_PIN_INCORRECT) {
        P11_WARN("slot %lu: context-specific login refused", (unsigned long)slot->cfg->slot);
    }
    p11_session_put(st, s);
    return rv;
}
