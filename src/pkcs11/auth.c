/* Login state and bearer tokens. A PIN is an API key (DESIGN §4): C_Login
 * exchanges it at grep11.Auth, or at an IAM token endpoint over HTTPS
 * (iamauth.endpoint: https://...), for a bearer token that every later call of the
 * slot carries; without login the configured anonymous key is used. Tokens
 * are refreshed a minute before they expire, inside libgrep11's token hook,
 * so expiry is invisible to the application. Neither keys nor tokens are
 * ever logged. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* A token is renewed when less than a quarter of its life, and at most a
 * minute, is left. */
#define REFRESH_MARGIN_S 60
#ifndef CKR_GREP11_PERMISSION_DENIED
#define CKR_GREP11_PERMISSION_DENIED (CKR_VENDOR_DEFINED_GREP11 + 0x101UL)
#endif

int p11_slot_needs_token(const p11_token_cfg *cfg)
{
    for (int u = 0; u < 3; u++)
        if (cfg->users[u].present && cfg->users[u].iam_enabled)
            return 1;
    return 0;
}

/* Whose identity the slot acts as now (slot->lock held). */
static int current_user(const p11_slot *slot)
{
    return slot->login == CKU_SO     ? P11_USER_SO
           : slot->login == CKU_USER ? P11_USER_NORMAL
                                     : P11_USER_ANON;
}

static void free_key(char **k)
{
    if (*k) {
        explicit_bzero(*k, strlen(*k));
        free(*k);
        *k = NULL;
    }
}

static CK_RV copy_token(const p11_slot *slot, char *buf, size_t cap)
{
    size_t n = strlen(slot->token);
    if (n >= cap)
        return CKR_GENERAL_ERROR;
    memcpy(buf, slot->token, n + 1);
    return CKR_OK;
}

static int token_fresh(const p11_slot *slot, int user)
{
    int64_t margin =
        slot->token_life / 4 < REFRESH_MARGIN_S ? slot->token_life / 4 : REFRESH_MARGIN_S;
    return slot->token_user == user && slot->token[0] &&
           slot->token_exp - margin > (int64_t)time(NULL);
}

static g11c_conn *auth_conn(p11_slot *slot)
{
    return slot->auth_conn ? slot->auth_conn : slot->conn;
}

/* One token fetch for a user: IAM's POST /identity/token when the user's
 * iamauth.endpoint is a URL, else grep11.Auth/Token over gRPC. Either way
 * the token then goes on the slot's gRPC calls, and the codes are the same
 * (g11c_iam_token maps HTTP statuses to grep11.Auth's). */
static CK_RV fetch_token(p11_slot *slot, int user, const char *key, char *tok, size_t cap,
                         int64_t *exp)
{
    const p11_token_cfg *t = slot->cfg;
    const p11_user_cfg *uc = &t->users[user];
    if (uc->iam_kind == P11_IAM_GRPC)
        return g11c_auth_token(auth_conn(slot), key, tok, cap, exp);
    g11c_iam_options o = {
        .url = uc->iam_endpoint,
        .allow_http = uc->iam_kind == P11_IAM_HTTP, /* config.c: only without TLS */
        .ca_file = t->cacert,
        .cert_file = t->certfile, /* set only for mutual TLS */
        .key_file = t->keyfile,
        .timeout_ms = t->timeout_ms,
        .on_error = p11_log_client_error,
    };
    return g11c_iam_token(&o, key, tok, cap, exp);
}

/* An Auth refusal is a wrong PIN to PKCS #11; the server's limit on
 * failed attempts is a locked PIN until it lets the client try again. */
static CK_RV map_auth_rv(CK_RV rv)
{
    if (rv == CKR_IBM_GREP11_NOT_AUTHENTICATED || rv == CKR_GREP11_PERMISSION_DENIED ||
        rv == CKR_USER_NOT_LOGGED_IN || rv == CKR_PIN_INCORRECT)
        return CKR_PIN_INCORRECT;
    if (rv == CKR_GREP11_RATE_LIMITED)
        return CKR_PIN_LOCKED;
    return rv;
}

/* What C_GetTokenInfo's PIN flags show (slot->lock held): a failed login
 * since the last good one, and the server refusing more attempts. */
static void note_login(p11_slot *slot, int uidx, CK_RV rv)
{
    if (uidx < 0 || uidx >= P11_USERS)
        return;
    if (rv == CKR_OK) {
        slot->pin_failures[uidx] = 0;
        slot->pin_locked_until[uidx] = 0;
    } else if (rv == CKR_PIN_INCORRECT) {
        slot->pin_failures[uidx]++;
    } else if (rv == CKR_PIN_LOCKED) {
        slot->pin_failures[uidx]++;
        slot->pin_locked_until[uidx] = (int64_t)time(NULL) + P11_PIN_LOCK_S;
    }
}

CK_FLAGS p11_auth_pin_flags(p11_slot *slot)
{
    CK_FLAGS f = 0;
    int64_t now = (int64_t)time(NULL);
    p11_mutex_lock(slot->lock);
    if (slot->pin_failures[P11_USER_NORMAL])
        f |= CKF_USER_PIN_COUNT_LOW;
    if (slot->pin_locked_until[P11_USER_NORMAL] > now)
        f |= CKF_USER_PIN_LOCKED;
    if (slot->pin_failures[P11_USER_SO])
        f |= CKF_SO_PIN_COUNT_LOW;
    if (slot->pin_locked_until[P11_USER_SO] > now)
        f |= CKF_SO_PIN_LOCKED;
    p11_mutex_unlock(slot->lock);
    return f;
}

CK_RV p11_auth_token_hook(void *arg, char *buf, size_t cap)
{
    p11_slot *slot = arg;
    char *key = NULL;
    char tok[P11_TOKEN_MAX];
    int64_t exp = 0;
    CK_RV rv = CKR_OK;

    p11_mutex_lock(slot->lock);
    int user = current_user(slot);
    const p11_user_cfg *uc = &slot->cfg->users[user];
    if (!uc->present) {
        /* Nobody to act as (no anonymous user configured, no login): fail
         * here with a standard code rather than send a call the server
         * refuses with its vendor code. */
        p11_mutex_unlock(slot->lock);
        return CKR_USER_NOT_LOGGED_IN;
    }
    if (!uc->iam_enabled) {
        buf[0] = '\0'; /* this identity has no key: the call goes without one */
        p11_mutex_unlock(slot->lock);
        return CKR_OK;
    }
    if (token_fresh(slot, user)) {
        rv = copy_token(slot, buf, cap);
        p11_mutex_unlock(slot->lock);
        return rv;
    }
    p11_mutex_unlock(slot->lock);

    p11_mutex_lock(slot->refresh);
    p11_mutex_lock(slot->lock);
    user = current_user(slot);
    if (token_fresh(slot, user)) {
        rv = copy_token(slot, buf, cap);
        p11_mutex_unlock(slot->lock);
        goto out;
    }
    const char *src = user == P11_USER_ANON ? slot->cfg->users[user].apikey : slot->login_key;
    key = src ? strdup(src) : NULL;
    p11_mutex_unlock(slot->lock);
    if (!key) {
        rv = src ? CKR_HOST_MEMORY : CKR_USER_NOT_LOGGED_IN;
        goto out;
    }
    rv = fetch_token(slot, user, key, tok, sizeof(tok), &exp);
    if (rv != CKR_OK) {
        P11_ERR("slot %lu: cannot get a bearer token for user %d: %s",
                (unsigned long)slot->cfg->slot, user, p11_rv_name(rv));
        goto out;
    }
    p11_mutex_lock(slot->lock);
    if (current_user(slot) == user) {
        memcpy(slot->token, tok, sizeof(slot->token));
        slot->token_exp = exp;
        slot->token_life = exp - (int64_t)time(NULL);
        slot->token_user = user;
    }
    p11_mutex_unlock(slot->lock);
    rv = strlen(tok) < cap ? CKR_OK : CKR_GENERAL_ERROR;
    if (rv == CKR_OK)
        memcpy(buf, tok, strlen(tok) + 1);
    P11_DEBUG("slot %lu: bearer token refreshed for user %d", (unsigned long)slot->cfg->slot, user);
out:
    p11_mutex_unlock(slot->refresh);
    free_key(&key);
    explicit_bzero(tok, sizeof(tok));
    return rv;
}

CK_RV p11_auth_key_token(p11_slot *slot, int user, const CK_UTF8CHAR *pin, CK_ULONG pin_len,
                         char *tok, size_t cap)
{
    int64_t exp = 0;
    const p11_user_cfg *uc = &slot->cfg->users[user];
    if (!pin)
        return CKR_ARGUMENTS_BAD;
    if (pin_len == 0 || pin_len > 256)
        return CKR_PIN_LEN_RANGE;
    if (!uc->present || memchr(pin, 0, pin_len))
        return CKR_PIN_INCORRECT;
    if (!uc->iam_enabled) {
        tok[0] = '\0';
        return CKR_OK;
    }
    char *key = strndup((const char *)pin, pin_len);
    if (!key)
        return CKR_HOST_MEMORY;
    CK_RV rv = map_auth_rv(fetch_token(slot, user, key, tok, cap, &exp));
    free_key(&key);
    return rv;
}

CK_RV p11_auth_login(p11_state *st, p11_slot *slot, CK_USER_TYPE user, const CK_UTF8CHAR *pin,
                     CK_ULONG pin_len)
{
    (void)st;
    char tok[P11_TOKEN_MAX];
    int64_t exp = 0;
    char *key = NULL;
    CK_RV rv = CKR_OK;

    if (user != CKU_SO && user != CKU_USER)
        return user == CKU_CONTEXT_SPECIFIC ? CKR_OPERATION_NOT_INITIALIZED : CKR_USER_TYPE_INVALID;
    if (!pin)
        return CKR_ARGUMENTS_BAD;
    if (pin_len == 0 || pin_len > 256)
        return CKR_PIN_LEN_RANGE;
    int uidx = user == CKU_SO ? P11_USER_SO : P11_USER_NORMAL;
    const p11_user_cfg *uc = &slot->cfg->users[uidx];
    if (!uc->present)
        return CKR_USER_PIN_NOT_INITIALIZED;
    if (memchr(pin, 0, pin_len))
        return CKR_PIN_INCORRECT;
    key = strndup((const char *)pin, pin_len);
    if (!key)
        return CKR_HOST_MEMORY;

    p11_mutex_lock(slot->refresh); /* one login at a time per slot */
    p11_mutex_lock(slot->lock);
    if (slot->login != P11_NOT_LOGGED_IN)
        rv = slot->login == user ? CKR_USER_ALREADY_LOGGED_IN : CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
    p11_mutex_unlock(slot->lock);
    if (rv != CKR_OK)
        goto out;
    if (uc->iam_enabled) {
        rv = map_auth_rv(fetch_token(slot, uidx, key, tok, sizeof(tok), &exp));
        p11_mutex_lock(slot->lock);
        note_login(slot, uidx, rv);
        p11_mutex_unlock(slot->lock);
        if (rv != CKR_OK) {
            P11_WARN("slot %lu: login of user %lu refused: %s", (unsigned long)slot->cfg->slot,
                     (unsigned long)user, p11_rv_name(rv));
            goto out;
        }
    } else {
        P11_INFO("slot %lu: iamauth disabled for user %lu: logged in without a server check",
                 (unsigned long)slot->cfg->slot, (unsigned long)user);
        tok[0] = '\0';
    }
    p11_mutex_lock(slot->lock);
    slot->login = user;
    free_key(&slot->login_key);
    slot->login_key = key;
    key = NULL;
    memcpy(slot->token, tok, sizeof(slot->token));
    slot->token_exp = exp;
    slot->token_life = exp - (int64_t)time(NULL);
    slot->token_user = tok[0] ? current_user(slot) : -1;
    slot->ks_label_state = 0; /* what this login may read differs */
    p11_mutex_unlock(slot->lock);
    P11_INFO("slot %lu: user %lu logged in", (unsigned long)slot->cfg->slot, (unsigned long)user);
out:
    p11_mutex_unlock(slot->refresh);
    free_key(&key);
    explicit_bzero(tok, sizeof(tok));
    return rv;
}

void p11_auth_logout(p11_slot *slot)
{
    if (!slot->lock)
        return;
    p11_mutex_lock(slot->lock);
    slot->login = P11_NOT_LOGGED_IN;
    slot->ks_label_state = 0;
    free_key(&slot->login_key);
    if (slot->token_user != P11_USER_ANON) {
        explicit_bzero(slot->token, sizeof(slot->token));
        slot->token_user = -1;
    }
    p11_mutex_unlock(slot->lock);
}

CK_ULONG p11_slot_login_state(p11_slot *slot)
{
    p11_mutex_lock(slot->lock);
    CK_ULONG l = slot->login;
    p11_mutex_unlock(slot->lock);
    return l;
}

int p11_slot_user_logged_in(p11_slot *slot)
{
    return p11_slot_login_state(slot) == CKU_USER;
}
