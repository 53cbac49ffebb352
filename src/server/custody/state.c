#include "state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"

static void chain_step(custody_state *s, const uint8_t *canon, size_t len)
{
    cw_buf w;
    cw_init(&w, CUSTODY_MAX_CMD + 64);
    cw_put(&w, s->chain, 32);
    cw_put(&w, canon, len);
    if (!w.err)
        custody_sha256(w.p, w.len, s->chain);
    cw_free(&w);
}

static int vp_ok(const char *v)
{
    uint8_t b[8];
    return v && strlen(v) == 16 && hex_decode(v, b, 8) == 8;
}

static int parse_uint(const char *v, unsigned long long max, unsigned long long *out)
{
    char *end = NULL;
    if (!v || !v[0] || v[0] == '-' || v[0] == '+')
        return -1;
    unsigned long long x = strtoull(v, &end, 10);
    if (!end || *end || x > max)
        return -1;
    *out = x;
    return 0;
}

static CK_RV admin_arg(const custody_cmd *c, custody_admin *a, char *why, size_t cap)
{
    const char *hex = custody_cmd_arg(c, "pubkey"), *name = custody_cmd_arg(c, "name");
    uint8_t spki[CUSTODY_MAX_SPKI];
    long n = hex ? hex_decode(hex, spki, sizeof(spki)) : -1;
    if (n <= 0 || custody_admin_from_spki(spki, (size_t)n, name, a) != CKR_OK) {
        snprintf(why, cap, "pubkey must be a P-256 or Ed25519 public key (SPKI DER, hex)");
        return CKR_ARGUMENTS_BAD;
    }
    return CKR_OK;
}

CK_RV custody_state_genesis(custody_state *s, const custody_cmd *c, const uint8_t *canon,
                            size_t len, char *why, size_t cap)
{
    memset(s, 0, sizeof(*s));
    if (strcmp(c->name, "imprint") != 0 || c->epoch != 0) {
        snprintf(why, cap, "the first log entry is not an imprint");
        return CKR_GREP11_CUSTODY_STATE;
    }
    CK_RV rv = admin_arg(c, &s->admins[0], why, cap);
    if (rv != CKR_OK)
        return rv;
    memcpy(s->instance, c->instance, 16);
    s->nadmins = 1;
    s->threshold = 1;
    s->imprinted = 1;
    chain_step(s, canon, len);
    s->epoch = 1;
    return CKR_OK;
}

const custody_admin *custody_state_admin(const custody_state *s, const char *keyid)
{
    for (size_t i = 0; i < s->nadmins; i++)
        if (strcmp(s->admins[i].keyid, keyid) == 0)
            return &s->admins[i];
    return NULL;
}

CK_RV custody_state_check(const custody_state *s, const custody_cmd *c, const uint8_t *canon,
                          size_t len, const custody_sig *sigs, size_t nsigs, char *why, size_t cap)
{
    char want[33], got[33];
    if (!s->imprinted) {
        snprintf(why, cap, "the instance is not imprinted yet (grep11ctl custody imprint)");
        return CKR_GREP11_CUSTODY_STATE;
    }
    if (memcmp(c->instance, s->instance, 16) != 0) {
        hex_encode(s->instance, 16, want);
        hex_encode(c->instance, 16, got);
        snprintf(why, cap, "command made for instance %s, this is instance %s", got, want);
        return CKR_GREP11_FOREIGN_INSTANCE;
    }
    if (c->epoch != s->epoch) {
        snprintf(why, cap,
                 "stale command: prepared for epoch %llu, the instance is at epoch %llu "
                 "(prepare and sign it again)",
                 (unsigned long long)c->epoch, (unsigned long long)s->epoch);
        return CKR_GREP11_STALE_COMMAND;
    }
    if (nsigs == 0) {
        snprintf(why, cap, "the command carries no signature (%u required)", s->threshold);
        return CKR_GREP11_SIGNATURES;
    }
    return custody_check_sigs(s->admins, s->nadmins, s->threshold, canon, len, sigs, nsigs, why,
                              cap);
}

static CK_RV apply_admins(custody_state *s, const custody_cmd *c, char *why, size_t cap)
{
    unsigned long long v;
    if (strcmp(c->name, "add-admin") == 0) {
        custody_admin a;
        CK_RV rv = admin_arg(c, &a, why, cap);
        if (rv != CKR_OK)
            return rv;
        if (custody_state_admin(s, a.keyid)) {
            snprintf(why, cap, "administrator key %s is installed already", a.keyid);
            return CKR_GREP11_CUSTODY_STATE;
        }
        if (s->nadmins == CUSTODY_MAX_ADMINS) {
            snprintf(why, cap, "at most %d administrators", CUSTODY_MAX_ADMINS);
            return CKR_GREP11_CUSTODY_STATE;
        }
        s->admins[s->nadmins++] = a;
        return CKR_OK;
    }
    if (strcmp(c->name, "remove-admin") == 0) {
        const char *id = custody_cmd_arg(c, "keyid");
        const custody_admin *a = id ? custody_state_admin(s, id) : NULL;
        if (!a) {
            snprintf(why, cap, "no installed administrator has key id %.16s", id ? id : "");
            return CKR_ARGUMENTS_BAD;
        }
        if (s->nadmins - 1 < s->threshold) {
            snprintf(why, cap, "removing it would leave %zu administrators for a threshold of %u",
                     s->nadmins - 1, s->threshold);
            return CKR_GREP11_CUSTODY_STATE;
        }
        size_t i = (size_t)(a - s->admins);
        memmove(&s->admins[i], &s->admins[i + 1], (s->nadmins - i - 1) * sizeof(s->admins[0]));
        s->nadmins--;
        return CKR_OK;
    }
    /* set-threshold */
    if (parse_uint(custody_cmd_arg(c, "threshold"), CUSTODY_MAX_ADMINS, &v) != 0 || v == 0 ||
        v > s->nadmins) {
        snprintf(why, cap, "threshold must be 1..%zu (the installed administrators)", s->nadmins);
        return CKR_ARGUMENTS_BAD;
    }
    s->threshold = (unsigned)v;
    return CKR_OK;
}

static CK_RV apply_load(custody_state *s, const custody_cmd *c, char *why, size_t cap)
{
    int shamir = strcmp(c->name, "load-share") == 0;
    const char *vp = custody_cmd_arg(c, shamir ? "share-vp" : "part-vp");
    unsigned long long m = 0;
    if (s->new_phase == REG_COMMITTED) {
        snprintf(why, cap, "a new master key is committed: activate it (or zeroize) first");
        return CKR_GREP11_CUSTODY_STATE;
    }
    if (!vp_ok(vp)) {
        snprintf(why, cap, "%s must be a 16-hex-digit verification pattern",
                 shamir ? "share-vp" : "part-vp");
        return CKR_ARGUMENTS_BAD;
    }
    if (shamir && (parse_uint(custody_cmd_arg(c, "m"), 16, &m) != 0 || m < 2 ||
                   !vp_ok(custody_cmd_arg(c, "set")))) {
        snprintf(why, cap, "load-share needs m (2..16) and set (the share set's id)");
        return CKR_ARGUMENTS_BAD;
    }
    /* A new scheme or set starts the register afresh. */
    const char *idx = custody_cmd_arg(c, "index");
    if (!idx || (strcmp(idx, "1") != 0 && s->new_phase == REG_EMPTY)) {
        snprintf(why, cap, "index (1 for the first part) is required");
        return CKR_ARGUMENTS_BAD;
    }
    if (strcmp(idx, "1") == 0 || s->new_phase == REG_EMPTY || s->new_shamir != shamir ||
        (shamir && strcmp(s->new_set, custody_cmd_arg(c, "set")) != 0)) {
        s->new_phase = REG_LOADING;
        s->new_shamir = shamir;
        s->new_parts = 0;
        s->new_m = (unsigned)m;
        snprintf(s->new_set, sizeof(s->new_set), "%s", shamir ? custody_cmd_arg(c, "set") : "");
    }
    for (unsigned i = 0; i < s->new_parts; i++)
        if (strcmp(s->part_vps[i], vp) == 0) {
            snprintf(why, cap, "this %s (%s) is loaded already", shamir ? "share" : "part", vp);
            return CKR_GREP11_CUSTODY_STATE;
        }
    if (s->new_parts == CUSTODY_MAX_PARTS) {
        snprintf(why, cap, "at most %d parts", CUSTODY_MAX_PARTS);
        return CKR_GREP11_CUSTODY_STATE;
    }
    snprintf(s->part_vps[s->new_parts++], 17, "%s", vp);
    return CKR_OK;
}

static CK_RV apply_keys(custody_state *s, const custody_cmd *c, int64_t now, char *why, size_t cap)
{
    const char *vp = custody_cmd_arg(c, "vp");
    if (strcmp(c->name, "commit") == 0) {
        unsigned need = s->new_shamir ? s->new_m : 2;
        if (s->new_phase != REG_LOADING || s->new_parts < need) {
            snprintf(why, cap, "the new register holds %u %s; %u needed to commit", s->new_parts,
                     s->new_shamir ? "shares" : "parts", need);
            return CKR_GREP11_CUSTODY_STATE;
        }
        if (!vp_ok(vp)) {
            snprintf(why, cap, "vp (the assembled key's verification pattern) is required");
            return CKR_ARGUMENTS_BAD;
        }
        s->new_phase = REG_COMMITTED;
        snprintf(s->new_vp, sizeof(s->new_vp), "%s", vp);
        return CKR_OK;
    }
    if (strcmp(c->name, "activate") == 0) {
        unsigned long long grace = 0;
        if (s->new_phase != REG_COMMITTED || !vp || strcmp(vp, s->new_vp) != 0) {
            snprintf(why, cap, "no committed new master key with verification pattern %.16s",
                     vp ? vp : "");
            return CKR_GREP11_CUSTODY_STATE;
        }
        if (custody_cmd_arg(c, "grace") &&
            parse_uint(custody_cmd_arg(c, "grace"), 366ull * 86400, &grace) != 0) {
            snprintf(why, cap, "grace is a number of seconds (at most a year)");
            return CKR_ARGUMENTS_BAD;
        }
        s->have_prev = s->have_current && grace > 0;
        snprintf(s->prev_vp, sizeof(s->prev_vp), "%s", s->have_prev ? s->cur_vp : "");
        s->grace_until = s->have_prev ? now + (int64_t)grace : 0;
        s->have_current = 1;
        snprintf(s->cur_vp, sizeof(s->cur_vp), "%s", s->new_vp);
        s->new_phase = REG_EMPTY;
        s->new_parts = 0;
        s->new_vp[0] = '\0';
        return CKR_OK;
    }
    /* zeroize */
    s->have_current = s->have_prev = 0;
    s->cur_vp[0] = s->prev_vp[0] = s->new_vp[0] = '\0';
    s->new_phase = REG_EMPTY;
    s->new_parts = 0;
    s->grace_until = 0;
    return CKR_OK;
}

CK_RV custody_state_apply(custody_state *s, const custody_cmd *c, const uint8_t *canon, size_t len,
                          int64_t now, char *why, size_t cap)
{
    custody_state next = *s;
    CK_RV rv;
    const char *n = c->name;
    if (!strcmp(n, "add-admin") || !strcmp(n, "remove-admin") || !strcmp(n, "set-threshold"))
        rv = apply_admins(&next, c, why, cap);
    else if (!strcmp(n, "load-part") || !strcmp(n, "load-share"))
        rv = apply_load(&next, c, why, cap);
    else if (!strcmp(n, "commit") || !strcmp(n, "activate") || !strcmp(n, "zeroize"))
        rv = apply_keys(&next, c, now, why, cap);
    else if (!strcmp(n, "create-apikey") || !strcmp(n, "revoke-apikey")) {
        rv = CKR_OK; /* identities live in the directory; the log records the approval */
        if (!strcmp(n, "create-apikey") && !custody_cmd_arg(c, "principal")) {
            snprintf(why, cap, "create-apikey needs principal and roles");
            rv = CKR_ARGUMENTS_BAD;
        }
    } else {
        snprintf(why, cap, "unknown command '%s'", n);
        rv = CKR_ARGUMENTS_BAD;
    }
    if (rv != CKR_OK)
        return rv;
    chain_step(&next, canon, len);
    next.epoch++;
    *s = next;
    return CKR_OK;
}
