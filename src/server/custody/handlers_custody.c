/* grep11.Custody handlers: decode, hand to the custody runtime, encode. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytes.h"
#include "custody.pb-c.h"
#include "handlers.h"
#include "runtime.h"
#include "services.h"

static custody *get(rpc_ctx *ctx)
{
    return ctx->svc ? ctx->svc->cust : NULL;
}

#define NEED_CUSTODY(ctx, c)                                                                       \
    custody *c = get(ctx);                                                                         \
    if (!c)                                                                                        \
        return rpc_fail(ctx, CKR_FUNCTION_NOT_SUPPORTED, "custody is not available here");

static const char *phase_name(int p)
{
    return p == REG_COMMITTED ? "committed" : p == REG_LOADING ? "loading" : "empty";
}

CK_RV h_custody_status(rpc_ctx *ctx)
{
    NEED_CUSTODY(ctx, c);
    Grep11__CustodyStatusResponse r = GREP11__CUSTODY_STATUS_RESPONSE__INIT;
    Grep11__CustodyAdmin admins[CUSTODY_MAX_ADMINS], *ap[CUSTODY_MAX_ADMINS];
    char *vps[CUSTODY_MAX_PARTS], newvp[17] = "";
    rotation_status rs;
    pthread_mutex_lock(&c->cmd_mu);
    custody_refresh(c); /* commands submitted through other replicas */
    custody_state s = c->state;
    unsigned held = c->newreg.n, uheld = c->unlockacc.n;
    keyacc_vp(&c->newreg, newvp);
    pthread_mutex_unlock(&c->cmd_mu);
    rotation_status_get(c->rot, &rs);
    r.instanceid.data = s.instance;
    r.instanceid.len = s.imprinted ? 16 : 0;
    r.imprinted = s.imprinted;
    r.epoch = s.epoch;
    r.threshold = s.threshold;
    for (size_t i = 0; i < s.nadmins; i++) {
        grep11__custody_admin__init(&admins[i]);
        admins[i].keyid = s.admins[i].keyid;
        admins[i].name = s.admins[i].name;
        admins[i].algorithm = (char *)custody_alg_name(s.admins[i].alg);
        admins[i].publickey.data = s.admins[i].spki;
        admins[i].publickey.len = s.admins[i].spki_len;
        ap[i] = &admins[i];
    }
    r.n_admins = s.nadmins;
    r.admins = ap;
    r.locked = !atomic_load(&c->unlocked);
    r.mode = c->dev ? "development" : "custody";
    r.currentvp = s.cur_vp;
    r.newstate = (char *)phase_name(s.new_phase);
    r.newscheme = s.new_shamir ? "shamir" : "xor";
    for (unsigned i = 0; i < s.new_parts && i < CUSTODY_MAX_PARTS; i++)
        vps[i] = s.part_vps[i];
    r.n_partvps = s.new_phase == REG_EMPTY ? 0 : s.new_parts;
    r.partvps = vps;
    r.partsheld = held;
    r.newvp = s.new_phase == REG_COMMITTED ? s.new_vp : newvp;
    r.previousvp = s.have_prev ? s.prev_vp : "";
    r.graceuntil = s.have_prev ? s.grace_until : 0;
    r.rewrapphase = (char *)rs.phase;
    r.rewrapdone = rs.done;
    r.rewrapskipped = rs.skipped;
    r.rewrapfailed = rs.failed;
    r.rewraperror = rs.error;
    r.unlockpartsheld = uheld;
    r.sharesneeded = s.new_shamir ? s.new_m : 0;
    return rpc_reply(ctx, &r.base);
}

CK_RV h_custody_prepare(rpc_ctx *ctx)
{
    NEED_CUSTODY(ctx, c);
    Grep11__CustodyPrepareResponse r = GREP11__CUSTODY_PREPARE_RESPONSE__INIT;
    uint8_t nonce[16], inst[16];
    if (c->dev)
        return rpc_fail(ctx, CKR_FUNCTION_NOT_SUPPORTED, "development mode: custody is off");
    /* Anyone may ask for a nonce, and each one is a database row. */
    services *svc = ctx->svc;
    const char *peer = ctx->peer ? ctx->peer : "unknown";
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t now_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
    if (svc && svc->prepare_rl) {
        if (!ratelimit_allow(svc->prepare_rl, peer, now_ms)) {
            ctx->code_override = GRPC_STATUS_RESOURCE_EXHAUSTED;
            return rpc_fail(ctx, CKR_GREP11_RATE_LIMITED, "too many Prepare calls; retry later");
        }
        ratelimit_fail(svc->prepare_rl, peer, now_ms); /* every Prepare counts */
    }
    pthread_mutex_lock(&c->cmd_mu);
    custody_refresh(c); /* the epoch to sign is the shared log's next one */
    int imprinted = c->state.imprinted;
    r.epoch = c->state.epoch;
    memcpy(inst, c->state.instance, 16);
    r.partsheld = c->newreg.n;
    pthread_mutex_unlock(&c->cmd_mu);
    if (!imprinted)
        return rpc_fail(ctx, CKR_GREP11_CUSTODY_STATE,
                        "the instance is not imprinted yet (grep11ctl custody imprint)");
    CK_RV rv = journal_nonce_new(c->st, nonce);
    if (rv != CKR_OK)
        return rpc_fail(ctx, rv, "cannot record a nonce");
    r.instanceid.data = inst;
    r.instanceid.len = 16;
    r.nonce.data = nonce;
    r.nonce.len = 16;
    return rpc_reply(ctx, &r.base);
}

CK_RV h_custody_submit(rpc_ctx *ctx)
{
    NEED_CUSTODY(ctx, c);
    const Grep11__CustodySubmitRequest *req = (const void *)ctx->req;
    custody_sig sigs[CUSTODY_MAX_SIGS];
    char msg[400] = "", part_vp[17] = "", asm_vp[17] = "", key[AUTH_API_KEY_MAX] = "";
    uint64_t epoch = 0;
    if (req->n_signatures > CUSTODY_MAX_SIGS)
        return rpc_fail(ctx, CKR_GREP11_SIGNATURES, "at most %d signatures", CUSTODY_MAX_SIGS);
    for (size_t i = 0; i < req->n_signatures; i++) {
        const Grep11__CustodySignature *s = req->signatures[i];
        if (!s || !s->keyid || strlen(s->keyid) != 16 || s->signature.len == 0 ||
            s->signature.len > CUSTODY_MAX_SIG)
            return rpc_fail(ctx, CKR_GREP11_SIGNATURES, "signature %zu is malformed", i + 1);
        snprintf(sigs[i].keyid, sizeof(sigs[i].keyid), "%s", s->keyid);
        memcpy(sigs[i].sig, s->signature.data, s->signature.len);
        sigs[i].len = s->signature.len;
    }
    CK_RV rv = custody_submit(c, req->command.data, req->command.len, sigs, req->n_signatures,
                              req->secret.data, req->secret.len, msg, sizeof(msg), part_vp, asm_vp,
                              key, sizeof(key), &epoch);
    if (rv != CKR_OK) {
        ctx->code_override = rv == CKR_GREP11_LOCKED ? GRPC_STATUS_UNAVAILABLE
                             : rv == CKR_GREP11_SIGNATURES || rv == CKR_GREP11_FOREIGN_INSTANCE
                                 ? GRPC_STATUS_PERMISSION_DENIED
                             : rv == CKR_GREP11_STALE_COMMAND || rv == CKR_GREP11_CUSTODY_STATE
                                 ? GRPC_STATUS_FAILED_PRECONDITION
                                 : GRPC_STATUS_OK;
        return rpc_fail(ctx, rv, "%s", msg[0] ? msg : "command refused");
    }
    Grep11__CustodySubmitResponse r = GREP11__CUSTODY_SUBMIT_RESPONSE__INIT;
    r.epoch = epoch;
    r.message = msg;
    r.partvp = part_vp;
    r.assembledvp = asm_vp;
    r.apikey = key;
    rv = rpc_reply(ctx, &r.base);
    OPENSSL_cleanse(key, sizeof(key));
    return rv;
}

CK_RV h_custody_unlock(rpc_ctx *ctx)
{
    NEED_CUSTODY(ctx, c);
    const Grep11__CustodyUnlockRequest *req = (const void *)ctx->req;
    uint8_t parts[SHAMIR_MAX_SHARES][32];
    shamir_share shares[SHAMIR_MAX_SHARES];
    char msg[300] = "";
    unsigned held = 0;
    CK_RV rv = CKR_OK;
    if (req->n_parts > SHAMIR_MAX_SHARES || req->n_shares > SHAMIR_MAX_SHARES)
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "too many parts");
    for (size_t i = 0; i < req->n_parts && rv == CKR_OK; i++) {
        if (req->parts[i].len != 32)
            rv = rpc_fail(ctx, CKR_ARGUMENTS_BAD, "a key part is 32 bytes");
        else
            memcpy(parts[i], req->parts[i].data, 32);
    }
    for (size_t i = 0; i < req->n_shares && rv == CKR_OK; i++)
        if (shamir_decode(req->shares[i].data, req->shares[i].len, &shares[i]) != 0)
            rv = rpc_fail(ctx, CKR_ARGUMENTS_BAD, "share %zu is malformed", i + 1);
    if (rv == CKR_OK)
        rv = custody_unlock(c, (const uint8_t(*)[32])parts, req->n_parts, shares, req->n_shares,
                            req->reset, msg, sizeof(msg), &held);
    OPENSSL_cleanse(parts, sizeof(parts));
    OPENSSL_cleanse(shares, sizeof(shares));
    if (rv != CKR_OK)
        return msg[0] ? rpc_fail(ctx, rv, "%s", msg) : rv;
    Grep11__CustodyUnlockResponse r = GREP11__CUSTODY_UNLOCK_RESPONSE__INIT;
    r.unlocked = atomic_load(&c->unlocked);
    r.partsheld = held;
    r.message = msg;
    return rpc_reply(ctx, &r.base);
}

CK_RV h_custody_audit_verify(rpc_ctx *ctx)
{
    NEED_CUSTODY(ctx, c);
    audit_report rep;
    uint8_t key[32];
    int have = 0;
    /* The audit key comes from the identity root (dev: from the WK). */
    if (c->dev) {
        have = engine_derive_purpose_key(c->cur_eng, "audit-log", key) == CKR_OK;
    } else if (c->have_root) {
        unsigned int l = 0;
        const char *label = "grep11 identity v1 audit-log";
        have =
            HMAC(EVP_sha256(), c->root, 32, (const uint8_t *)label, strlen(label), key, &l) != NULL;
    }
    CK_RV rv = audit_verify(c->st, have ? key : NULL, &rep);
    OPENSSL_cleanse(key, sizeof(key));
    if (rv != CKR_OK)
        return rpc_fail(ctx, rv, "cannot read the audit trail");
    Grep11__AuditVerifyResponse r = GREP11__AUDIT_VERIFY_RESPONSE__INIT;
    r.intact = rep.problem[0] == '\0';
    r.problem = rep.problem;
    r.entries = rep.entries;
    r.maced = rep.maced;
    r.unmaced = rep.unmaced;
    r.orphans = rep.orphans;
    r.headseq = rep.head_seq;
    r.headhash.data = rep.head_hash;
    r.headhash.len = 32;
    return rpc_reply(ctx, &r.base);
}
