/* libgrep11: grep11.Custody calls. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody.pb-c.h"
#include "internal.h"

#define CUSTODY(name) "/grep11.Custody/" name

static void text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

CK_RV g11c_custody_status(g11c_conn *c, g11c_custody_info *out)
{
    Grep11__CustodyStatusRequest req = GREP11__CUSTODY_STATUS_REQUEST__INIT;
    Grep11__CustodyStatusResponse *r = NULL;
    memset(out, 0, sizeof(*out));
    CK_RV rv = g11c_call(c, CUSTODY("Status"), &req.base,
                         &grep11__custody_status_response__descriptor, (ProtobufCMessage **)&r);
    if (rv != CKR_OK)
        return rv;
    if (r->instanceid.len == 16)
        memcpy(out->instance, r->instanceid.data, 16);
    out->imprinted = r->imprinted;
    out->locked = r->locked;
    out->epoch = r->epoch;
    out->threshold = r->threshold;
    for (size_t i = 0; i < r->n_admins && i < G11C_CUSTODY_MAX_ADMINS; i++) {
        g11c_custody_admin *a = &out->admins[out->nadmins++];
        text(a->keyid, sizeof(a->keyid), r->admins[i]->keyid);
        text(a->name, sizeof(a->name), r->admins[i]->name);
        text(a->alg, sizeof(a->alg), r->admins[i]->algorithm);
        if (r->admins[i]->publickey.len <= sizeof(a->spki)) {
            memcpy(a->spki, r->admins[i]->publickey.data, r->admins[i]->publickey.len);
            a->spki_len = r->admins[i]->publickey.len;
        }
    }
    text(out->mode, sizeof(out->mode), r->mode);
    text(out->current_vp, sizeof(out->current_vp), r->currentvp);
    text(out->new_state, sizeof(out->new_state), r->newstate);
    text(out->new_scheme, sizeof(out->new_scheme), r->newscheme);
    for (size_t i = 0; i < r->n_partvps && i < G11C_CUSTODY_MAX_PARTS; i++)
        text(out->part_vps[out->nparts++], 17, r->partvps[i]);
    out->parts_held = r->partsheld;
    out->shares_needed = r->sharesneeded;
    text(out->new_vp, sizeof(out->new_vp), r->newvp);
    text(out->previous_vp, sizeof(out->previous_vp), r->previousvp);
    out->grace_until = r->graceuntil;
    text(out->rewrap_phase, sizeof(out->rewrap_phase), r->rewrapphase);
    out->rewrap_done = r->rewrapdone;
    out->rewrap_skipped = r->rewrapskipped;
    out->rewrap_failed = r->rewrapfailed;
    text(out->rewrap_error, sizeof(out->rewrap_error), r->rewraperror);
    out->unlock_parts_held = r->unlockpartsheld;
    g11c_reply_free((ProtobufCMessage *)r);
    return CKR_OK;
}

CK_RV g11c_custody_prepare(g11c_conn *c, uint8_t instance[16], uint64_t *epoch, uint8_t nonce[16],
                           unsigned *parts_held)
{
    Grep11__CustodyPrepareRequest req = GREP11__CUSTODY_PREPARE_REQUEST__INIT;
    Grep11__CustodyPrepareResponse *r = NULL;
    CK_RV rv = g11c_call(c, CUSTODY("Prepare"), &req.base,
                         &grep11__custody_prepare_response__descriptor, (ProtobufCMessage **)&r);
    if (rv != CKR_OK)
        return rv;
    if (r->instanceid.len != 16 || r->nonce.len != 16) {
        rv = CKR_DEVICE_ERROR;
    } else {
        memcpy(instance, r->instanceid.data, 16);
        memcpy(nonce, r->nonce.data, 16);
        *epoch = r->epoch;
        if (parts_held)
            *parts_held = r->partsheld;
    }
    g11c_reply_free((ProtobufCMessage *)r);
    return rv;
}

CK_RV g11c_custody_submit(g11c_conn *c, const uint8_t *cmd, size_t len,
                          const g11c_custody_sig *sigs, size_t nsigs, g11c_bytes secret,
                          g11c_custody_result *out)
{
    Grep11__CustodySubmitRequest req = GREP11__CUSTODY_SUBMIT_REQUEST__INIT;
    Grep11__CustodySubmitResponse *r = NULL;
    Grep11__CustodySignature *s = calloc(nsigs ? nsigs : 1, sizeof(*s));
    Grep11__CustodySignature **sp = calloc(nsigs ? nsigs : 1, sizeof(*sp));
    CK_RV rv = CKR_HOST_MEMORY;
    memset(out, 0, sizeof(*out));
    if (!s || !sp)
        goto out;
    for (size_t i = 0; i < nsigs; i++) {
        grep11__custody_signature__init(&s[i]);
        s[i].keyid = (char *)sigs[i].keyid;
        s[i].signature.data = (uint8_t *)sigs[i].sig;
        s[i].signature.len = sigs[i].len;
        sp[i] = &s[i];
    }
    req.command.data = (uint8_t *)cmd;
    req.command.len = len;
    req.n_signatures = nsigs;
    req.signatures = sp;
    req.secret = BIN(secret);
    rv = g11c_call(c, CUSTODY("Submit"), &req.base, &grep11__custody_submit_response__descriptor,
                   (ProtobufCMessage **)&r);
    if (rv != CKR_OK)
        goto out;
    out->epoch = r->epoch;
    text(out->message, sizeof(out->message), r->message);
    text(out->part_vp, sizeof(out->part_vp), r->partvp);
    text(out->assembled_vp, sizeof(out->assembled_vp), r->assembledvp);
    text(out->api_key, sizeof(out->api_key), r->apikey);
    g11c_reply_free((ProtobufCMessage *)r);
out:
    free(s);
    free(sp);
    return rv;
}

CK_RV g11c_custody_unlock(g11c_conn *c, const uint8_t (*parts)[32], size_t nparts,
                          const g11c_bytes *shares, size_t nshares, int reset, int *unlocked,
                          unsigned *held, char *msg, size_t cap)
{
    Grep11__CustodyUnlockRequest req = GREP11__CUSTODY_UNLOCK_REQUEST__INIT;
    Grep11__CustodyUnlockResponse *r = NULL;
    ProtobufCBinaryData *p = calloc(nparts ? nparts : 1, sizeof(*p));
    ProtobufCBinaryData *sh = calloc(nshares ? nshares : 1, sizeof(*sh));
    CK_RV rv = CKR_HOST_MEMORY;
    if (!p || !sh)
        goto out;
    for (size_t i = 0; i < nparts; i++)
        p[i] = (ProtobufCBinaryData){32, (uint8_t *)parts[i]};
    for (size_t i = 0; i < nshares; i++)
        sh[i] = BIN(shares[i]);
    req.n_parts = nparts;
    req.parts = p;
    req.n_shares = nshares;
    req.shares = sh;
    req.reset = reset;
    rv = g11c_call(c, CUSTODY("Unlock"), &req.base, &grep11__custody_unlock_response__descriptor,
                   (ProtobufCMessage **)&r);
    if (rv != CKR_OK)
        goto out;
    if (unlocked)
        *unlocked = r->unlocked;
    if (held)
        *held = r->partsheld;
    if (msg)
        text(msg, cap, r->message);
    g11c_reply_free((ProtobufCMessage *)r);
out:
    free(p);
    free(sh);
    return rv;
}

CK_RV g11c_audit_verify(g11c_conn *c, g11c_audit_report *out)
{
    Grep11__AuditVerifyRequest req = GREP11__AUDIT_VERIFY_REQUEST__INIT;
    Grep11__AuditVerifyResponse *r = NULL;
    memset(out, 0, sizeof(*out));
    CK_RV rv = g11c_call(c, CUSTODY("AuditVerify"), &req.base,
                         &grep11__audit_verify_response__descriptor, (ProtobufCMessage **)&r);
    if (rv != CKR_OK)
        return rv;
    out->intact = r->intact;
    text(out->problem, sizeof(out->problem), r->problem);
    out->entries = r->entries;
    out->maced = r->maced;
    out->unmaced = r->unmaced;
    out->orphans = r->orphans;
    out->head_seq = r->headseq;
    if (r->headhash.len == 32)
        memcpy(out->head_hash, r->headhash.data, 32);
    g11c_reply_free((ProtobufCMessage *)r);
    return CKR_OK;
}
