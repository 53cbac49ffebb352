/* Slots are the configured tokens (slot ID = the key under tokens:). Each
 * has its own connection; the mechanism list and infos are fetched from the
 * server once and cached. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static CK_RV slot_connect(p11_slot *slot, const char *address, g11c_conn **out)
{
    const p11_token_cfg *t = slot->cfg;
    g11c_options o = {
        .address = address,
        .insecure = !t->tls_enabled,
        .ca_file = t->cacert,
        .cert_file = t->certfile,
        .key_file = t->keyfile,
        .timeout_ms = t->timeout_ms,
        .channels = t->channels,
        .spin_us = t->spin_us,
        .batch_inflight = t->batch_inflight,
    };
    CK_RV rv = g11c_connect(&o, out);
    if (rv != CKR_OK) {
        P11_ERR("tokens.%lu: cannot set up a connection to %s: %s", (unsigned long)t->slot, address,
                p11_rv_name(rv));
        return rv == CKR_ARGUMENTS_BAD ? CKR_ARGUMENTS_BAD : CKR_GENERAL_ERROR;
    }
    g11c_set_error_hook(*out, p11_log_client_error, NULL);
    return CKR_OK;
}

/* The grep11.Auth endpoint when a user names one other than the token's
 * address (users with an IAM URL fetch tokens over HTTPS instead: auth.c). */
static const char *auth_endpoint(const p11_token_cfg *t)
{
    for (int u = 0; u < 3; u++)
        if (t->users[u].iam_enabled && t->users[u].iam_endpoint &&
            t->users[u].iam_kind == P11_IAM_GRPC &&
            strcmp(t->users[u].iam_endpoint, t->address) != 0)
            return t->users[u].iam_endpoint;
    return NULL;
}

CK_RV p11_slots_open(p11_state *st)
{
    CK_RV rv = CKR_OK;
    st->slots = calloc(st->cfg.ntokens, sizeof(*st->slots));
    if (!st->slots)
        return CKR_HOST_MEMORY;
    for (size_t i = 0; i < st->cfg.ntokens; i++) {
        p11_slot *slot = &st->slots[i];
        st->nslots = i + 1;
        slot->cfg = &st->cfg.tokens[i];
        slot->login = P11_NOT_LOGGED_IN;
        slot->token_user = -1;
        if ((rv = p11_mutex_new(&slot->lock)) != CKR_OK ||
            (rv = p11_mutex_new(&slot->refresh)) != CKR_OK ||
            (rv = slot_connect(slot, slot->cfg->address, &slot->conn)) != CKR_OK)
            return rv;
        const char *ep = auth_endpoint(slot->cfg);
        if (ep && (rv = slot_connect(slot, ep, &slot->auth_conn)) != CKR_OK)
            return rv;
        if (p11_slot_needs_token(slot->cfg))
            g11c_set_token_hook(slot->conn, p11_auth_token_hook, slot);
        p11_tokstore_slot_setup(slot);
    }
    return CKR_OK;
}

void p11_slots_close(p11_state *st)
{
    for (size_t i = 0; st->slots && i < st->nslots; i++) {
        p11_slot *slot = &st->slots[i];
        p11_auth_logout(slot);
        explicit_bzero(slot->token, sizeof(slot->token));
        if (slot->auth_conn)
            g11c_close(slot->auth_conn);
        if (slot->conn)
            g11c_close(slot->conn);
        free(slot->mechs);
        free(slot->infos);
        p11_mutex_free(slot->lock);
        p11_mutex_free(slot->refresh);
    }
    free(st->slots);
    st->slots = NULL;
    st->nslots = 0;
}

static CK_RV fixed_token(void *arg, char *buf, size_t cap)
{
    const char *tok = arg;
    size_t n = strlen(tok);
    if (n >= cap)
        return CKR_GENERAL_ERROR;
    memcpy(buf, tok, n + 1);
    return CKR_OK;
}

static void free_token(void *arg)
{
    char *tok = arg;
    explicit_bzero(tok, strlen(tok));
    free(tok);
}

CK_RV p11_slot_connect_with(p11_slot *slot, const char *token, g11c_conn **out)
{
    char *copy = strdup(token);
    if (!copy)
        return CKR_HOST_MEMORY;
    CK_RV rv = slot_connect(slot, slot->cfg->address, out);
    if (rv != CKR_OK) {
        free_token(copy);
        return rv;
    }
    g11c_set_token_hook(*out, fixed_token, copy);
    g11c_set_close_hook(*out, free_token, copy);
    return CKR_OK;
}

CK_RV p11_slot_get(p11_state *st, CK_SLOT_ID id, p11_slot **slot, size_t *idx)
{
    for (size_t i = 0; i < st->nslots; i++) {
        if (st->slots[i].cfg->slot == id) {
            *slot = &st->slots[i];
            if (idx)
                *idx = i;
            return CKR_OK;
        }
    }
    return CKR_SLOT_ID_INVALID;
}

CK_RV C_GetSlotList(CK_BBOOL token_present, CK_SLOT_ID *list, CK_ULONG *count)
{
    P11_STATE_OR_RETURN(st);
    (void)token_present; /* every configured token is present */
    if (!count)
        return CKR_ARGUMENTS_BAD;
    if (!list) {
        *count = st->nslots;
        return CKR_OK;
    }
    if (*count < st->nslots) {
        *count = st->nslots;
        return CKR_BUFFER_TOO_SMALL;
    }
    for (size_t i = 0; i < st->nslots; i++)
        list[i] = st->slots[i].cfg->slot;
    *count = st->nslots;
    return CKR_OK;
}

CK_RV C_GetSlotInfo(CK_SLOT_ID id, CK_SLOT_INFO *info)
{
    P11_STATE_OR_RETURN(st);
    p11_slot *slot;
    char desc[80];
    CK_RV rv = p11_slot_get(st, id, &slot, NULL);
    if (rv != CKR_OK)
        return rv;
    if (!info)
        return CKR_ARGUMENTS_BAD;
    memset(info, 0, sizeof(*info));
    snprintf(desc, sizeof(desc), "grep11 %s", slot->cfg->address);
    p11_pad(info->slotDescription, sizeof(info->slotDescription), desc);
    p11_pad(info->manufacturerID, sizeof(info->manufacturerID), "grep11");
    info->flags = CKF_TOKEN_PRESENT;
    info->hardwareVersion.major = 1;
    info->firmwareVersion.major = P11_LIBRARY_VERSION_MAJOR;
    info->firmwareVersion.minor = P11_LIBRARY_VERSION_MINOR;
    return CKR_OK;
}

CK_RV C_GetTokenInfo(CK_SLOT_ID id, CK_TOKEN_INFO *info)
{
    P11_STATE_OR_RETURN(st);
    p11_slot *slot;
    char serial[20];
    CK_RV rv = p11_slot_get(st, id, &slot, NULL);
    if (rv != CKR_OK)
        return rv;
    if (!info)
        return CKR_ARGUMENTS_BAD;
    const p11_token_cfg *t = slot->cfg;
    char label[33];
    int initialized;
    /* The label the keystores were initialized with (C_InitToken). */
    p11_keystore_label(st, slot, label, &initialized);
    memset(info, 0, sizeof(*info));
    p11_pad(info->label, sizeof(info->label), label);
    p11_pad(info->manufacturerID, sizeof(info->manufacturerID), "grep11");
    p11_pad(info->model, sizeof(info->model), "grep11d");
    snprintf(serial, sizeof(serial), "%lu", (unsigned long)t->slot);
    p11_pad(info->serialNumber, sizeof(info->serialNumber), serial);
    info->flags = CKF_RNG | CKF_USER_PIN_INITIALIZED | p11_auth_pin_flags(slot);
    if (initialized)
        info->flags |= CKF_TOKEN_INITIALIZED;
    /* Nothing works without a login when only the normal user has a key;
     * and the private keystore's objects need one (GnuTLS logs in to read
     * private keys only when the token says so). */
    if ((t->users[P11_USER_NORMAL].iam_enabled && !t->users[P11_USER_ANON].iam_enabled) ||
        slot->ks_on[P11_KS_PRIVATE])
        info->flags |= CKF_LOGIN_REQUIRED;
    p11_mutex_lock(st->lock);
    info->ulSessionCount = slot->nsessions;
    info->ulRwSessionCount = slot->nrw_sessions;
    p11_mutex_unlock(st->lock);
    info->ulMaxSessionCount = CK_EFFECTIVELY_INFINITE;
    info->ulMaxRwSessionCount = CK_EFFECTIVELY_INFINITE;
    info->ulMaxPinLen = 256;
    info->ulMinPinLen = 1;
    info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
    info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
    info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
    info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
    info->hardwareVersion.major = 1;
    info->firmwareVersion.major = P11_LIBRARY_VERSION_MAJOR;
    info->firmwareVersion.minor = P11_LIBRARY_VERSION_MINOR;
    return CKR_OK;
}

/* Fetches the list once (the RPC runs without the slot lock; two threads
 * racing both fetch and the first to finish wins). */
static CK_RV load_mechs(p11_slot *slot)
{
    CK_MECHANISM_TYPE *mechs = NULL;
    size_t n = 0;
    p11_mutex_lock(slot->lock);
    int loaded = slot->mechs_loaded;
    p11_mutex_unlock(slot->lock);
    if (loaded)
        return CKR_OK;
    CK_RV rv = g11c_get_mechanism_list(slot->conn, &mechs, &n);
    if (rv != CKR_OK)
        return rv;
    p11_mutex_lock(slot->lock);
    if (!slot->mechs_loaded) {
        slot->mechs = mechs;
        slot->nmechs = n;
        slot->mechs_loaded = 1;
        mechs = NULL;
    }
    p11_mutex_unlock(slot->lock);
    free(mechs);
    return CKR_OK;
}

static int has_mech(p11_slot *slot, CK_MECHANISM_TYPE type)
{
    for (size_t i = 0; i < slot->nmechs; i++)
        if (slot->mechs[i] == type)
            return 1;
    return 0;
}

CK_RV C_GetMechanismList(CK_SLOT_ID id, CK_MECHANISM_TYPE *list, CK_ULONG *count)
{
    P11_STATE_OR_RETURN(st);
    p11_slot *slot;
    CK_RV rv = p11_slot_get(st, id, &slot, NULL);
    if (rv != CKR_OK)
        return rv;
    if (!count)
        return CKR_ARGUMENTS_BAD;
    if ((rv = load_mechs(slot)) != CKR_OK)
        return rv;
    /* The list never changes once loaded. */
    if (!list) {
        *count = slot->nmechs;
    } else if (*count < slot->nmechs) {
        *count = slot->nmechs;
        rv = CKR_BUFFER_TOO_SMALL;
    } else {
        for (size_t i = 0; i < slot->nmechs; i++)
            list[i] = slot->mechs[i];
        *count = slot->nmechs;
    }
    return rv;
}

static int cached_info(p11_slot *slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info)
{
    int found = 0;
    p11_mutex_lock(slot->lock);
    for (size_t i = 0; i < slot->ninfos && !found; i++)
        if (slot->infos[i].type == type) {
            *info = slot->infos[i].info;
            found = 1;
        }
    p11_mutex_unlock(slot->lock);
    return found;
}

static void cache_info(p11_slot *slot, CK_MECHANISM_TYPE type, const CK_MECHANISM_INFO *info)
{
    p11_mutex_lock(slot->lock);
    if (slot->ninfos == slot->capinfos) {
        size_t cap = slot->capinfos ? slot->capinfos * 2 : 32;
        p11_mechinfo *p = realloc(slot->infos, cap * sizeof(*p));
        if (!p)
            goto out;
        slot->infos = p;
        slot->capinfos = cap;
    }
    slot->infos[slot->ninfos].type = type;
    slot->infos[slot->ninfos++].info = *info;
out:
    p11_mutex_unlock(slot->lock);
}

CK_RV C_GetMechanismInfo(CK_SLOT_ID id, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info)
{
    P11_STATE_OR_RETURN(st);
    p11_slot *slot;
    CK_RV rv = p11_slot_get(st, id, &slot, NULL);
    if (rv != CKR_OK)
        return rv;
    if (!info)
        return CKR_ARGUMENTS_BAD;
    if (cached_info(slot, type, info))
        return CKR_OK;
    if ((rv = load_mechs(slot)) != CKR_OK)
        return rv;
    if (!has_mech(slot, type))
        return CKR_MECHANISM_INVALID;
    if ((rv = g11c_get_mechanism_info(slot->conn, type, info)) == CKR_OK)
        cache_info(slot, type, info);
    return rv;
}

CK_RV p11_slot_mech_check(p11_slot *slot, CK_MECHANISM_TYPE type, CK_FLAGS need)
{
    CK_MECHANISM_INFO info;
    CK_RV rv = load_mechs(slot);
    if (rv != CKR_OK)
        return rv;
    if (!has_mech(slot, type))
        return CKR_MECHANISM_INVALID;
    if (need && cached_info(slot, type, &info) && !(info.flags & need))
        return CKR_MECHANISM_INVALID;
    return CKR_OK;
}
