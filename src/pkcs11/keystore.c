/* A token as a pair of keystores: C_InitToken wipes and re-creates both
 * (grep11.Store InitKeystores, security officer only), and the token label
 * is the one they were created with (KeystoreInfo), cached for a while. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define LABEL_TTL_S 30

enum { LABEL_UNKNOWN, LABEL_KNOWN, LABEL_ABSENT, LABEL_UNREADABLE };

/* At most 32 bytes of src, never cutting a UTF-8 character in two. */
static void label_copy(char dst[33], const char *src)
{
    size_t n = strlen(src);
    if (n > 32) {
        n = 32;
        while (n && ((unsigned char)src[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void p11_keystore_label_forget(p11_slot *slot)
{
    p11_mutex_lock(slot->lock);
    slot->ks_label_state = LABEL_UNKNOWN;
    p11_mutex_unlock(slot->lock);
}

static void label_set(p11_slot *slot, int state, const char *label)
{
    p11_mutex_lock(slot->lock);
    slot->ks_label_state = state;
    slot->ks_label_at = (int64_t)time(NULL);
    label_copy(slot->ks_label, label ? label : "");
    p11_mutex_unlock(slot->lock);
}

void p11_keystore_label(p11_state *st, p11_slot *slot, char label[33], int *initialized)
{
    (void)st;
    label_copy(label, slot->cfg->label);
    *initialized = 1;
    /* The public keystore is the one every login may read. */
    int ks = slot->ks_on[P11_KS_PUBLIC] ? P11_KS_PUBLIC : P11_KS_PRIVATE;
    if (!slot->ks_on[ks])
        return; /* no keystores: the configured label */
    p11_mutex_lock(slot->lock);
    int state = slot->ks_label_state;
    int fresh = state != LABEL_UNKNOWN && slot->ks_label_at + LABEL_TTL_S > (int64_t)time(NULL);
    if (fresh && state == LABEL_KNOWN && slot->ks_label[0])
        label_copy(label, slot->ks_label);
    p11_mutex_unlock(slot->lock);
    if (fresh) {
        *initialized = state != LABEL_ABSENT;
        return;
    }
    g11c_keystore_info info;
    CK_RV rv = g11c_store_keystore_info(slot->conn, slot->ks_id[ks], &info);
    if (rv == CKR_OK) {
        label_set(slot, LABEL_KNOWN, info.label);
        if (info.label[0])
            label_copy(label, info.label);
    } else if (rv == CKR_TOKEN_NOT_PRESENT) {
        label_set(slot, LABEL_ABSENT, NULL);
        *initialized = 0;
    } else {
        P11_DEBUG("slot %lu: keystore label unreadable (%s): the configured one",
                  (unsigned long)slot->cfg->slot, p11_rv_name(rv));
        label_set(slot, LABEL_UNREADABLE, NULL);
    }
}

/* The 32 blank-padded bytes of C_InitToken as text. */
static void label_of(const CK_UTF8CHAR *in, char out[33])
{
    size_t n = 32;
    memcpy(out, in, 32);
    while (n && (out[n - 1] == ' ' || out[n - 1] == '\0'))
        n--;
    out[n] = '\0';
}

CK_RV C_InitToken(CK_SLOT_ID id, CK_UTF8CHAR *pin, CK_ULONG pin_len, CK_UTF8CHAR *label)
{
    P11_STATE_OR_RETURN(st);
    p11_slot *slot;
    size_t idx;
    char tok[P11_TOKEN_MAX], text[33];
    g11c_conn *c = NULL;
    CK_RV rv = p11_slot_get(st, id, &slot, &idx);
    if (rv != CKR_OK)
        return rv;
    if (!pin || !label)
        return CKR_ARGUMENTS_BAD;
    p11_mutex_lock(st->lock);
    int busy = slot->nsessions > 0;
    p11_mutex_unlock(st->lock);
    if (busy)
        return CKR_SESSION_EXISTS;
    if (!slot->ks_on[P11_KS_PRIVATE] || !slot->ks_on[P11_KS_PUBLIC]) {
        P11_WARN("C_InitToken: slot %lu needs storage.remotestore.enabled and a tokenspaceID for "
                 "users 1 and 2",
                 (unsigned long)id);
        return CKR_TOKEN_WRITE_PROTECTED;
    }
    /* The SO PIN is the SO's API key: a token for it, used by a connection
     * of its own (there is no session, hence no login to act as). */
    if ((rv = p11_auth_key_token(slot, P11_USER_SO, pin, pin_len, tok, sizeof(tok))) != CKR_OK) {
        P11_WARN("C_InitToken: slot %lu: SO PIN refused: %s", (unsigned long)id, p11_rv_name(rv));
        goto out;
    }
    if ((rv = p11_slot_connect_with(slot, tok, &c)) != CKR_OK)
        goto out;
    label_of(label, text);
    rv = g11c_store_init_keystores(c, slot->ks_id[P11_KS_PRIVATE], slot->ks_id[P11_KS_PUBLIC], text,
                                   p11_tokstore_password(slot, P11_KS_PRIVATE));
    if (rv == CKR_GREP11_PERMISSION_DENIED || rv == CKR_USER_NOT_LOGGED_IN) {
        P11_WARN("C_InitToken: slot %lu: the key is not the SO's (it needs the keystore-so role "
                 "and grants for both keystores)",
                 (unsigned long)id);
        rv = CKR_PIN_INCORRECT;
    } else if (rv == CKR_ARGUMENTS_BAD) {
        P11_WARN("C_InitToken: slot %lu: keystore refused: users.1.sessionauth."
                 "tokenspaceIDPassword must be 6..64 bytes",
                 (unsigned long)id);
    } else if (rv != CKR_OK) {
        rv = p11_tokstore_rv(rv, "C_InitToken");
    }
    if (rv != CKR_OK)
        goto out;
    /* Both keystores are empty now: so is every cached view of them. */
    p11_objects_drop_token(st, idx);
    label_set(slot, LABEL_KNOWN, text);
    P11_INFO("slot %lu: token initialized (both keystores wiped)", (unsigned long)id);
out:
    if (c)
        g11c_close(c);
    explicit_bzero(tok, sizeof(tok));
    return rv;
}
