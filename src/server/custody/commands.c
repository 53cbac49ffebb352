/* Signed commands, live: check binding and signatures, run what needs a
 * secret (load, commit, activate, zeroize, API keys), write the log entry,
 * then switch the in-memory state. Serialised by cmd_mu. */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytes.h"
#include "log.h"
#include "runtime.h"
#include "services.h"

typedef struct {
    custody *c;
    const custody_cmd *cmd;
    const uint8_t *secret;
    size_t slen;
    char *msg, *part_vp, *asm_vp, *apikey;
    size_t msgcap, keycap;
    keyacc newreg; /* the new register after this command */
    int newreg_changed;
    char sealed_next[40];                 /* vault record a commit wrote ("" none) */
    uint8_t created_kid[AUTH_KEY_ID_LEN]; /* API key a create-apikey made */
    int created_key;
} exec_ctx;

static CK_RV load(exec_ctx *x)
{
    custody *c = x->c;
    int shamir = strcmp(x->cmd->name, "load-share") == 0;
    const char *want = custody_cmd_arg(x->cmd, shamir ? "share-vp" : "part-vp");
    const char *idx = custody_cmd_arg(x->cmd, "index");
    unsigned long index = idx ? strtoul(idx, NULL, 10) : 0;
    char vp[17];
    if (!want)
        return CKR_ARGUMENTS_BAD;
    custody_vp(x->secret, x->slen, vp);
    if (x->slen == 0 || CRYPTO_memcmp(vp, want, 16) != 0) {
        snprintf(x->msg, x->msgcap, "the %s sent does not have the signed verification pattern %s",
                 shamir ? "share" : "part", want);
        return CKR_GREP11_SIGNATURES;
    }
    x->newreg = c->newreg;
    if (index == 1)
        keyacc_clear(&x->newreg);
    if (index != x->newreg.n + 1) {
        snprintf(x->msg, x->msgcap,
                 "this is %s %lu, but the new register holds %u (prepare with index %u)",
                 shamir ? "share" : "part", index, x->newreg.n, x->newreg.n + 1);
        return CKR_GREP11_CUSTODY_STATE;
    }
    CK_RV rv;
    if (shamir) {
        shamir_share s;
        char set[17];
        if (shamir_decode(x->secret, x->slen, &s) != 0)
            return CKR_ARGUMENTS_BAD;
        hex_encode(s.set, 8, set);
        if (strcmp(set, custody_cmd_arg(x->cmd, "set")) != 0)
            return CKR_GREP11_SIGNATURES;
        rv = keyacc_add_share(&x->newreg, &s);
        OPENSSL_cleanse(&s, sizeof(s));
    } else {
        rv = x->slen == KEYPART_LEN ? keyacc_add_part(&x->newreg, x->secret) : CKR_ARGUMENTS_BAD;
    }
    if (rv != CKR_OK) {
        snprintf(x->msg, x->msgcap, "this %s does not fit the ones loaded before",
                 shamir ? "share" : "part");
        return rv;
    }
    x->newreg_changed = 1;
    snprintf(x->part_vp, 17, "%s", vp);
    keyacc_vp(&x->newreg, x->asm_vp);
    snprintf(x->msg, x->msgcap, "%s %lu loaded (pattern %s); new register so far: %s",
             shamir ? "share" : "part", index, vp, x->asm_vp[0] ? x->asm_vp : "incomplete");
    return CKR_OK;
}

static CK_RV commit(exec_ctx *x)
{
    custody *c = x->c;
    uint8_t key[32];
    char vp[17];
    const char *want = custody_cmd_arg(x->cmd, "vp");
    keyacc_vp(&c->newreg, vp);
    if (!vp[0] || !want || CRYPTO_memcmp(vp, want, 16) != 0) {
        snprintf(x->msg, x->msgcap,
                 "the new register %s%s, not the signed pattern %s (parts loaded before a "
                 "restart are lost: load them again)",
                 vp[0] ? "holds key " : "is incomplete", vp, want ? want : "");
        return CKR_GREP11_CUSTODY_STATE;
    }
    if (c->state.have_current && !atomic_load(&c->unlocked)) {
        snprintf(x->msg, x->msgcap, "unlock the instance before committing a new master key");
        return CKR_GREP11_LOCKED;
    }
    keyacc_key(&c->newreg, key);
    CK_RV rv = CKR_OK;
    if (c->state.have_current) {
        vault_next_name(x->sealed_next, c->state.cur_vp, vp);
        rv = vault_seal(c, c->cur_eng, x->sealed_next, key, 32);
    }
    if (rv == CKR_OK) {
        memcpy(c->next_wk, key, 32);
        c->have_next_wk = 1;
        snprintf(x->msg, x->msgcap, "new master key %s committed%s", vp,
                 c->state.have_current ? "; re-wrapping keystore objects" : "");
    }
    OPENSSL_cleanse(key, sizeof(key));
    return rv;
}

/* After the log entry: the new key goes into the engines and re-wrap starts. */
static CK_RV commit_engines(custody *c)
{
    if (!c->state.have_current || !c->cur_eng)
        return CKR_OK;
    engine *next = NULL;
    CK_RV rv = engine_create(c->next_wk, &c->eng_pol, &next);
    if (rv != CKR_OK)
        return rv;
    pthread_rwlock_wrlock(&c->lock);
    rv = engine_load_new_wk(c->cur_eng, c->next_wk);
    if (rv == CKR_OK) {
        c->next_eng = next;
        next = NULL;
    }
    pthread_rwlock_unlock(&c->lock);
    if (next)
        engine_destroy(next);
    if (rv == CKR_OK)
        rotation_start(c->rot, c->state.new_vp);
    return rv;
}

static CK_RV activate_prepare(exec_ctx *x, engine **next_out)
{
    custody *c = x->c;
    char name[40], vp[17];
    const char *grace = custody_cmd_arg(x->cmd, "grace");
    engine *next = c->next_eng;
    CK_RV rv;
    *next_out = NULL;
    if (!c->have_next_wk) {
        snprintf(x->msg, x->msgcap,
                 "this server does not hold the committed key: unlock it "
                 "(grep11ctl unlock with the new parts)");
        return CKR_GREP11_LOCKED;
    }
    custody_vp(c->next_wk, 32, vp);
    if (c->state.have_current) {
        rotation_status st;
        rotation_status_get(c->rot, &st);
        if (strcmp(st.phase, "done") != 0 || rotation_sweep(c->rot, vp) != 0) {
            snprintf(x->msg, x->msgcap, "re-wrap is not finished (%s, %llu objects done)", st.phase,
                     (unsigned long long)st.done);
            return CKR_GREP11_CUSTODY_STATE;
        }
        /* Objects of password-protected keystores move to the new key only
         * when read with their password during the grace window; without
         * one they would be lost at once. Signed "force yes" accepts that. */
        const char *force = custody_cmd_arg(x->cmd, "force");
        if (st.pending > 0 && (!grace || strcmp(grace, "0") == 0) &&
            !(force && strcmp(force, "yes") == 0)) {
            snprintf(x->msg, x->msgcap,
                     "%llu objects in password-protected keystores are re-wrapped only when "
                     "read with their password: activate with a grace window (--grace), or "
                     "sign --force yes to give them up",
                     (unsigned long long)st.pending);
            return CKR_GREP11_CUSTODY_STATE;
        }
    }
    if (!next && (rv = engine_create(c->next_wk, &c->eng_pol, &next)) != CKR_OK)
        return rv;
    if (!c->next_eng)
        *next_out = next;
    /* The identity root and the previous key, sealed under the new key. */
    if (!c->have_root && RAND_priv_bytes(c->root, 32) != 1)
        return CKR_DEVICE_ERROR;
    c->have_root = 1;
    vault_name(name, "root", vp);
    rv = vault_seal(c, next, name, c->root, 32);
    if (rv == CKR_OK && c->state.have_current && grace && strcmp(grace, "0") != 0) {
        vault_name(name, "prev", vp);
        rv = vault_seal(c, next, name, c->cur_wk, 32);
    }
    snprintf(x->msg, x->msgcap, "master key %s is now current%s", vp,
             c->state.have_current && grace && strcmp(grace, "0") ? "; the previous key serves "
                                                                    "RewrapKeyBlob during the "
                                                                    "grace window"
                                                                  : "");
    return rv;
}

void custody_activate_engines(custody *c, engine *created, const char *old_vp, int keep_prev)
{
    engine *drop = NULL;
    pthread_rwlock_wrlock(&c->lock);
    engine *next = c->next_eng ? c->next_eng : created;
    if (c->grace_eng)
        engine_destroy(c->grace_eng);
    c->grace_eng = NULL;
    if (c->cur_eng && keep_prev)
        c->grace_eng = c->cur_eng; /* current = old, new register = new */
    else
        drop = c->cur_eng;
    c->cur_eng = next;
    c->next_eng = NULL;
    memcpy(c->cur_wk, c->next_wk, 32);
    OPENSSL_cleanse(c->next_wk, 32);
    c->have_next_wk = 0;
    custody_identity_on(c);
    atomic_store(&c->unlocked, 1);
    pthread_rwlock_unlock(&c->lock);
    if (drop)
        engine_destroy(drop);
    keyacc_clear(&c->newreg);
    if (old_vp[0]) {
        char name[40];
        const char *what[] = {"root", "prev"};
        for (int i = 0; i < 2; i++) {
            vault_name(name, what[i], old_vp);
            journal_del(c->st, "vault", name, strlen(name));
        }
        vault_next_name(name, old_vp, c->state.cur_vp);
        journal_del(c->st, "vault", name, strlen(name));
    }
}

static CK_RV erase_vault(void *arg, const uint8_t *id, size_t idlen, const uint8_t *blob,
                         size_t len)
{
    (void)blob;
    (void)len;
    char name[64];
    if (idlen >= sizeof(name))
        return CKR_OK;
    memcpy(name, id, idlen);
    name[idlen] = '\0';
    return journal_put(((custody *)arg)->st, "vault", name, idlen, (const uint8_t *)"", 0);
}

void custody_forget(custody *c)
{
    rotation_stop(c->rot);
    pthread_rwlock_wrlock(&c->lock);
    atomic_store(&c->unlocked, 0);
    engine *e[3] = {c->cur_eng, c->next_eng, c->grace_eng};
    c->cur_eng = c->next_eng = c->grace_eng = NULL;
    custody_identity_off(c);
    OPENSSL_cleanse(c->cur_wk, 32);
    OPENSSL_cleanse(c->next_wk, 32);
    OPENSSL_cleanse(c->root, 32);
    c->have_next_wk = c->have_root = 0;
    keyacc_clear(&c->newreg);
    keyacc_clear(&c->unlockacc);
    pthread_rwlock_unlock(&c->lock);
    for (int i = 0; i < 3; i++)
        if (e[i])
            engine_destroy(e[i]);
}

static void zeroize(custody *c)
{
    custody_forget(c);
    /* Overwrite, then the records themselves are useless without the keys. */
    journal_each(c->st, "vault", erase_vault, c);
}

static CK_RV apikey(exec_ctx *x)
{
    custody *c = x->c;
    services *svc = c->svc;
    if (!atomic_load(&c->unlocked) || !svc->dir) {
        snprintf(x->msg, x->msgcap, "API keys need an unlocked instance");
        return CKR_GREP11_LOCKED;
    }
    if (strcmp(x->cmd->name, "revoke-apikey") == 0) {
        uint8_t id[AUTH_KEY_ID_LEN];
        const char *kid = custody_cmd_arg(x->cmd, "keyid");
        if (!kid || auth_b64url_decode(kid, strlen(kid), id, sizeof(id)) != sizeof(id))
            return CKR_ARGUMENTS_BAD;
        CK_RV rv = directory_revoke(svc->dir, id, NULL);
        if (rv == CKR_OK) {
            services_note_revoked(svc, id);
            snprintf(x->msg, x->msgcap, "API key %s revoked", kid);
        }
        return rv;
    }
    uint32_t roles = 0;
    char list[CUSTODY_MAX_VALUE + 1], *save = NULL;
    const char *r = custody_cmd_arg(x->cmd, "roles");
    snprintf(list, sizeof(list), "%s", r ? r : "admin");
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        uint32_t bit;
        if (auth_role_parse(t, &bit) != 0)
            return CKR_ARGUMENTS_BAD;
        roles |= bit;
    }
    directory_entry e;
    char key[AUTH_API_KEY_MAX], kid[32];
    CK_RV rv = directory_create_key(svc->dir, custody_cmd_arg(x->cmd, "principal"), roles, NULL, 0,
                                    NULL, NULL, key, &e);
    if (rv == CKR_OK) {
        memcpy(x->created_kid, e.rec.key_id, AUTH_KEY_ID_LEN);
        x->created_key = 1;
        auth_b64url_encode(e.rec.key_id, AUTH_KEY_ID_LEN, kid, sizeof(kid));
        snprintf(x->apikey, x->keycap, "%s", key);
        snprintf(x->msg, x->msgcap, "API key %s created for %s", kid, e.principal);
    }
    OPENSSL_cleanse(key, sizeof(key));
    return rv;
}

/* The command was not logged: undo what it did outside memory. */
static void withdraw(exec_ctx *x)
{
    custody *c = x->c;
    if (!strcmp(x->cmd->name, "commit")) {
        OPENSSL_cleanse(c->next_wk, 32);
        c->have_next_wk = 0;
    }
    if (x->created_key && c->svc->dir &&
        directory_revoke(c->svc->dir, x->created_kid, NULL) == CKR_OK)
        services_note_revoked(c->svc, x->created_kid);
    if (x->apikey && x->keycap)
        OPENSSL_cleanse(x->apikey, x->keycap);
}

/* After losing the race: the committed key we sealed goes, unless the
 * winner committed the same key (then the record is the winner's too). */
static void drop_sealed_next(custody *c, const exec_ctx *x)
{
    char winner[40] = "";
    if (!x->sealed_next[0])
        return;
    if (c->state.new_phase == REG_COMMITTED)
        vault_next_name(winner, c->state.cur_vp, c->state.new_vp);
    if (strcmp(winner, x->sealed_next) != 0)
        journal_del(c->st, "vault", x->sealed_next, strlen(x->sealed_next));
}

/* Another replica logged a command at this epoch first (the store's
 * insert-if-absent decided): follow the log, which now holds its command,
 * and tell the submitter to prepare again. Caller holds cmd_mu. */
static CK_RV lost_race(custody *c, uint64_t epoch, char *msg, size_t msgcap)
{
    custody_refresh(c);
    snprintf(msg, msgcap,
             "another command was logged at epoch %llu first (through another replica); "
             "this replica follows it now (epoch %llu): prepare the command again",
             (unsigned long long)epoch, (unsigned long long)c->state.epoch);
    log_warn("msg=\"custody: lost the race for epoch %llu; following the log\"",
             (unsigned long long)epoch);
    return CKR_GREP11_STALE_COMMAND;
}

CK_RV custody_submit(custody *c, const uint8_t *canon, size_t len, const custody_sig *sigs,
                     size_t nsigs, const uint8_t *secret, size_t slen, char *msg, size_t msgcap,
                     char *part_vp, char *asm_vp, char *apikey_out, size_t keycap, uint64_t *epoch)
{
    custody_cmd cmd;
    custody_state next;
    engine *created = NULL;
    exec_ctx x;
    memset(&x, 0, sizeof(x));
    x.c = c;
    x.cmd = &cmd;
    x.secret = secret;
    x.slen = slen;
    x.msg = msg;
    x.part_vp = part_vp;
    x.asm_vp = asm_vp;
    x.apikey = apikey_out;
    x.msgcap = msgcap;
    x.keycap = keycap;
    char old_vp[17];
    CK_RV rv = custody_cmd_decode(canon, len, &cmd);
    if (rv != CKR_OK) {
        snprintf(msg, msgcap, "the command is not a canonical custody command");
        return rv;
    }
    pthread_mutex_lock(&c->cmd_mu);
    /* Commands submitted through another replica first, so this one checks
     * against the log's newest state. */
    custody_refresh(c);
    *epoch = c->state.epoch;
    if (c->dev) {
        snprintf(msg, msgcap, "development mode: the master key is a plain file, custody is off");
        rv = CKR_FUNCTION_NOT_SUPPORTED;
        goto out;
    }
    if (c->rolled_back) {
        snprintf(msg, msgcap, "%s", c->rollback_msg);
        rv = CKR_GREP11_CUSTODY_STATE;
        goto out;
    }
    if ((rv = custody_state_check(&c->state, &cmd, canon, len, sigs, nsigs, msg, msgcap)) != CKR_OK)
        goto out;
    next = c->state;
    if ((rv = custody_state_apply(&next, &cmd, canon, len, (int64_t)time(NULL), msg, msgcap)) !=
        CKR_OK)
        goto out;
    /* Single use: a replayed command finds its nonce gone. */
    if ((rv = journal_nonce_take(c->st, cmd.nonce)) != CKR_OK) {
        snprintf(msg, msgcap,
                 "the command's nonce is unknown, used or expired (replay?): "
                 "prepare it again");
        goto out;
    }
    const char *n = cmd.name;
    if (!strcmp(n, "load-part") || !strcmp(n, "load-share"))
        rv = load(&x);
    else if (!strcmp(n, "commit"))
        rv = commit(&x);
    else if (!strcmp(n, "activate"))
        rv = activate_prepare(&x, &created);
    else if (!strcmp(n, "create-apikey") || !strcmp(n, "revoke-apikey"))
        rv = apikey(&x);
    else
        snprintf(msg, msgcap, "%s applied", n);
    if (rv == CKR_OK)
        rv = journal_append(c->st, cmd.epoch, (int64_t)time(NULL), canon, len, sigs, nsigs);
    if (rv != CKR_OK) {
        withdraw(&x);
        if (created)
            engine_destroy(created);
        if (rv == CKR_IBM_GREP11_CONFLICT) {
            rv = lost_race(c, cmd.epoch, msg, msgcap);
            drop_sealed_next(c, &x);
        }
        goto out;
    }
    /* Logged: now the in-memory switch. */
    snprintf(old_vp, sizeof(old_vp), "%s", c->state.cur_vp);
    int keep_prev = next.have_prev;
    pthread_rwlock_wrlock(&c->lock);
    c->state = next;
    pthread_rwlock_unlock(&c->lock);
    if (x.newreg_changed)
        c->newreg = x.newreg;
    if (!strcmp(n, "commit"))
        rv = commit_engines(c);
    else if (!strcmp(n, "activate"))
        custody_activate_engines(c, created, old_vp, keep_prev);
    else if (!strcmp(n, "zeroize")) {
        zeroize(c);
        snprintf(msg, msgcap, "zeroized: every master-key register is erased");
    }
    *epoch = c->state.epoch;
    custody_note_epoch(c);
    char actor[CUSTODY_MAX_SIGS * 18 + 8] = "admins:";
    for (size_t i = 0; i < nsigs; i++)
        snprintf(actor + strlen(actor), sizeof(actor) - strlen(actor), "%s%s", i ? "," : "",
                 sigs[i].keyid);
    char detail[300];
    snprintf(detail, sizeof(detail), "epoch=%llu %s", (unsigned long long)cmd.epoch, msg);
    char event[48];
    snprintf(event, sizeof(event), "custody-%s", n);
    audit_append(c->au, event, actor, detail);
    log_info("msg=\"custody: %s\" epoch=%llu", n, (unsigned long long)cmd.epoch);
out:
    keyacc_clear(&x.newreg);
    pthread_mutex_unlock(&c->cmd_mu);
    return rv;
}
