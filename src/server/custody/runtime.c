/* The custody runtime: start-up (replay, locked or development mode), the
 * dispatch hooks, unlock, the vault and the identity keys. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "log.h"
#include "runtime.h"
#include "services.h"

static void store_log(void *ctx, const char *msg)
{
    (void)ctx;
    log_warn("component=store msg=\"%s\"", msg);
}

/* ---- identity root -> token, directory and audit keys ------------------ */

static void prf(const uint8_t root[32], const char *label, uint8_t out[32])
{
    unsigned int l = 0;
    HMAC(EVP_sha256(), root, 32, (const uint8_t *)label, strlen(label), out, &l);
}

CK_RV custody_identity_on(custody *c)
{
    uint8_t tok[32], dir[32], aud[32];
    prf(c->root, "grep11 identity v1 auth-token", tok);
    prf(c->root, "grep11 identity v1 identity-records", dir);
    prf(c->root, "grep11 identity v1 audit-log", aud);
    CK_RV rv = services_set_identity(c->svc, tok, dir);
    audit_set_key(c->au, aud);
    OPENSSL_cleanse(tok, sizeof(tok));
    OPENSSL_cleanse(dir, sizeof(dir));
    OPENSSL_cleanse(aud, sizeof(aud));
    return rv;
}

void custody_identity_off(custody *c)
{
    services_clear_identity(c->svc);
    audit_set_key(c->au, NULL);
}

/* ---- vault: AES-256-GCM under a purpose key of the sealing WK ----------- */

void vault_name(char out[40], const char *what, const char *vp)
{
    snprintf(out, 40, "%s@%s", what, vp);
}

void vault_next_name(char out[40], const char *cur_vp, const char *new_vp)
{
    snprintf(out, 40, "next@%s.%s", cur_vp, new_vp);
}

/* A committed key read from the vault must be the one the log names. */
static CK_RV next_key_open(custody *c, engine *eng, const char *cur_vp, const char *new_vp,
                           uint8_t nwk[32])
{
    char name[40], vp[17];
    vault_next_name(name, cur_vp, new_vp);
    CK_RV rv = vault_open(c, eng, name, nwk, 32);
    if (rv != CKR_OK)
        return rv;
    custody_vp(nwk, 32, vp);
    if (CRYPTO_memcmp(vp, new_vp, 16) != 0) {
        OPENSSL_cleanse(nwk, 32);
        return CKR_IBM_GREP11_DBINTERNAL;
    }
    return CKR_OK;
}

static CK_RV vault_gcm(int enc, const uint8_t key[32], const uint8_t nonce[12], const char *name,
                       const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16])
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    int l = 0, ok = 0;
    if (!x)
        return CKR_HOST_MEMORY;
    ok = EVP_CipherInit_ex(x, EVP_aes_256_gcm(), NULL, key, nonce, enc) == 1 &&
         EVP_CipherUpdate(x, NULL, &l, (const uint8_t *)name, (int)strlen(name)) == 1 &&
         EVP_CipherUpdate(x, out, &l, in, (int)len) == 1 &&
         (enc || EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1) &&
         EVP_CipherFinal_ex(x, out + len, &l) == 1 &&
         (!enc || EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1);
    EVP_CIPHER_CTX_free(x);
    return ok ? CKR_OK : CKR_IBM_GREP11_DBINTERNAL;
}

CK_RV vault_seal(custody *c, engine *eng, const char *name, const uint8_t *data, size_t len)
{
    uint8_t key[32], blob[12 + 64 + 16];
    if (len > 64)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = engine_derive_purpose_key(eng, "custody-vault", key);
    if (rv == CKR_OK && RAND_bytes(blob, 12) != 1)
        rv = CKR_DEVICE_ERROR;
    if (rv == CKR_OK)
        rv = vault_gcm(1, key, blob, name, data, len, blob + 12, blob + 12 + len);
    if (rv == CKR_OK)
        rv = journal_put(c->st, "vault", name, strlen(name), blob, 12 + len + 16);
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(blob, sizeof(blob));
    return rv;
}

CK_RV vault_open(custody *c, engine *eng, const char *name, uint8_t *out, size_t len)
{
    uint8_t key[32], *blob = NULL;
    size_t bl = 0;
    CK_RV rv = journal_get(c->st, "vault", name, strlen(name), &blob, &bl);
    if (rv != CKR_OK)
        return rv;
    if (bl != 12 + len + 16)
        rv = CKR_IBM_GREP11_DBINTERNAL;
    if (rv == CKR_OK)
        rv = engine_derive_purpose_key(eng, "custody-vault", key);
    if (rv == CKR_OK)
        rv = vault_gcm(0, key, blob, name, blob + 12, len, out, blob + 12 + len);
    if (rv != CKR_OK)
        OPENSSL_cleanse(out, len);
    OPENSSL_cleanse(key, sizeof(key));
    if (blob)
        OPENSSL_cleanse(blob, bl);
    free(blob);
    return rv;
}

/* ---- unlock -------------------------------------------------------------- */

CK_RV custody_become_unlocked(custody *c, const uint8_t wk[32], char *why, size_t cap)
{
    engine *cur = NULL, *next = NULL, *grace = NULL;
    uint8_t root[32], nwk[32], pwk[32];
    char name[40];
    int have_root = 0, have_next = 0;
    const custody_state *s = &c->state;
    CK_RV rv = engine_create(wk, &c->eng_pol, &cur);
    if (rv != CKR_OK) {
        snprintf(why, cap, "engine start failed");
        return rv;
    }
    vault_name(name, "root", s->cur_vp);
    rv = vault_open(c, cur, name, root, 32);
    if (rv == CKR_OK)
        have_root = 1;
    else if (rv != CKR_GREP11_MISSING)
        goto fail;
    if (s->new_phase == REG_COMMITTED) {
        if (next_key_open(c, cur, s->cur_vp, s->new_vp, nwk) == CKR_OK &&
            (rv = engine_load_new_wk(cur, nwk)) == CKR_OK &&
            (rv = engine_create(nwk, &c->eng_pol, &next)) == CKR_OK)
            have_next = 1;
        else if (rv != CKR_OK)
            goto fail;
    }
    if (s->have_prev && s->grace_until > (int64_t)time(NULL)) {
        vault_name(name, "prev", s->cur_vp);
        if (vault_open(c, cur, name, pwk, 32) == CKR_OK &&
            engine_create(pwk, &c->eng_pol, &grace) == CKR_OK)
            engine_load_new_wk(grace, wk);
    }
    if (!have_root) {
        /* First activation (or after zeroize): a fresh identity root. */
        if (RAND_priv_bytes(root, 32) != 1 || (rv = (vault_name(name, "root", s->cur_vp),
                                                     vault_seal(c, cur, name, root, 32))) != CKR_OK)
            goto fail;
    }
    pthread_rwlock_wrlock(&c->lock);
    c->cur_eng = cur;
    c->next_eng = next;
    c->grace_eng = grace;
    memcpy(c->cur_wk, wk, 32);
    memcpy(c->root, root, 32);
    c->have_root = 1;
    if (have_next) {
        memcpy(c->next_wk, nwk, 32);
        c->have_next_wk = 1;
    }
    rv = custody_identity_on(c);
    atomic_store(&c->unlocked, rv == CKR_OK);
    pthread_rwlock_unlock(&c->lock);
    OPENSSL_cleanse(root, 32);
    OPENSSL_cleanse(nwk, 32);
    OPENSSL_cleanse(pwk, 32);
    if (have_next)
        rotation_start(c->rot, s->new_vp);
    return rv;
fail:
    snprintf(why, cap, "sealed custody records do not open under this key");
    OPENSSL_cleanse(root, 32);
    OPENSSL_cleanse(nwk, 32);
    OPENSSL_cleanse(pwk, 32);
    engine_destroy(cur);
    if (next)
        engine_destroy(next);
    if (grace)
        engine_destroy(grace);
    return rv;
}

CK_RV custody_unlock(custody *c, const uint8_t (*parts)[32], size_t nparts,
                     const shamir_share *shares, size_t nshares, int reset, char *msg, size_t cap,
                     unsigned *held)
{
    CK_RV rv = CKR_OK;
    uint8_t key[32];
    char vp[17] = "";
    pthread_mutex_lock(&c->cmd_mu);
    const custody_state *s = &c->state;
    if (c->dev) {
        snprintf(msg, cap, "development mode: the instance is never locked");
        rv = CKR_FUNCTION_NOT_SUPPORTED;
        goto out;
    }
    /* The key to expect is the one the shared log names now. */
    custody_refresh(c);
    if (c->rolled_back) {
        snprintf(msg, cap, "%s", c->rollback_msg);
        rv = CKR_GREP11_CUSTODY_STATE;
        goto out;
    }
    if (atomic_load(&c->unlocked)) {
        snprintf(msg, cap, "the instance is unlocked already");
        goto out;
    }
    const char *want = s->have_current                 ? s->cur_vp
                       : s->new_phase == REG_COMMITTED ? s->new_vp
                                                       : NULL;
    if (!want) {
        snprintf(msg, cap,
                 "no master key has been committed yet: load key parts with signed "
                 "commands (grep11ctl custody prepare load-part)");
        rv = CKR_GREP11_CUSTODY_STATE;
        goto out;
    }
    if (reset)
        keyacc_clear(&c->unlockacc);
    for (size_t i = 0; i < nparts && rv == CKR_OK; i++)
        rv = keyacc_add_part(&c->unlockacc, parts[i]);
    for (size_t i = 0; i < nshares && rv == CKR_OK; i++)
        rv = keyacc_add_share(&c->unlockacc, &shares[i]);
    if (rv != CKR_OK) {
        keyacc_clear(&c->unlockacc);
        snprintf(msg, cap,
                 "parts and shares cannot be mixed, shares must come from one set "
                 "with distinct numbers; start again");
        goto out;
    }
    keyacc_vp(&c->unlockacc, vp);
    if (!vp[0] || CRYPTO_memcmp(vp, want, 16) != 0) {
        snprintf(msg, cap,
                 "%u %s received; the master key (verification pattern %s) is not "
                 "complete yet",
                 c->unlockacc.n, c->unlockacc.shamir ? "shares" : "parts", want);
        goto out;
    }
    keyacc_key(&c->unlockacc, key);
    keyacc_clear(&c->unlockacc);
    if (s->have_current) {
        rv = custody_become_unlocked(c, key, msg, cap);
        if (rv == CKR_OK) {
            snprintf(msg, cap, "unlocked: master key %s loaded", want);
            audit_append(c->au, "custody-unlock", "key-owners", want);
        }
    } else {
        /* Committed but never activated: the key goes back to the new
         * register, ready for activate. */
        memcpy(c->next_wk, key, 32);
        c->have_next_wk = 1;
        snprintf(msg, cap, "committed master key %s loaded into the new register; activate it",
                 want);
    }
out:
    OPENSSL_cleanse(key, sizeof(key));
    *held = c->unlockacc.n;
    pthread_mutex_unlock(&c->cmd_mu);
    return rv;
}

/* ---- open / close ---------------------------------------------------- */

static CK_RV open_sealed(custody *c, char *err, size_t errlen)
{
    uint8_t inst[16];
    char why[256] = "";
    int a = anchor_read(c->data_dir, inst, c->anchor);
    if (a < 0) {
        snprintf(err, errlen, "%s/%s is damaged", c->data_dir, CUSTODY_ANCHOR_FILE);
        return CKR_GENERAL_ERROR;
    }
    c->have_anchor = a == 0;
    CK_RV rv = journal_replay(c->st, c->anchor, &c->state, why, sizeof(why));
    if (rv == CKR_GREP11_MISSING) {
        memset(&c->state, 0, sizeof(c->state));
        if (c->have_anchor) {
            snprintf(err, errlen,
                     "this host's custody anchor names an instance whose log is "
                     "missing from the database");
            return CKR_IBM_GREP11_DBINTERNAL;
        }
        log_warn("msg=\"custody: instance not imprinted (grep11ctl custody imprint, or "
                 "custody.admin in the configuration)\"");
        return CKR_OK;
    }
    if (rv == CKR_OK && !c->have_anchor) {
        snprintf(err, errlen,
                 "the database holds a custody log but %s/%s is missing: copy it "
                 "from the host that imprinted the instance",
                 c->data_dir, CUSTODY_ANCHOR_FILE);
        return CKR_IBM_GREP11_DBINTERNAL;
    }
    if (rv == CKR_OK && memcmp(inst, c->state.instance, 16) != 0)
        rv = CKR_IBM_GREP11_DBINTERNAL;
    if (rv != CKR_OK)
        snprintf(err, errlen, "custody log refused: %s", why[0] ? why : "instance mismatch");
    return rv;
}

static CK_RV imprint_from_config(custody *c, const server_config *cfg, char *err, size_t errlen);

CK_RV custody_open(const server_config *cfg, struct services *svc, engine *dev_engine,
                   custody **out, char *err, size_t errlen)
{
    custody *c = calloc(1, sizeof(*c));
    CK_RV rv;
    pthread_rwlockattr_t ra;
    if (!c)
        return CKR_HOST_MEMORY;
    pthread_mutex_init(&c->cmd_mu, NULL);
    pthread_mutex_init(&c->follow_mu, NULL);
    pthread_cond_init(&c->follow_cv, NULL);
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&c->lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    snprintf(c->data_dir, sizeof(c->data_dir), "%s", cfg->data_dir);
    c->svc = svc;
    c->st = svc->st;
    c->dev = dev_engine != NULL;
    config_engine_policy(cfg, &c->eng_pol);
    if ((rv = journal_init(c->st)) != CKR_OK || (rv = audit_open(c->st, &c->au)) != CKR_OK ||
        (rv = rotation_new(c, &c->rot)) != CKR_OK) {
        snprintf(err, errlen, "cannot open the custody records");
        goto fail;
    }
    if (c->dev) {
        uint8_t k[32];
        c->cur_eng = dev_engine; /* owned by main */
        if ((rv = engine_derive_purpose_key(dev_engine, "audit-log", k)) != CKR_OK)
            goto fail;
        audit_set_key(c->au, k);
        OPENSSL_cleanse(k, sizeof(k));
        atomic_store(&c->unlocked, 1);
        *out = c;
        return CKR_OK;
    }
    if ((rv = open_sealed(c, err, errlen)) != CKR_OK)
        goto fail;
    if (!c->state.imprinted && cfg->custody_admin &&
        (rv = imprint_from_config(c, cfg, err, errlen)) != CKR_OK)
        goto fail;
    custody_epoch_check(c);
    custody_follow_start(c);
    log_warn("msg=\"custody: LOCKED until key owners unlock it (grep11ctl unlock)\" epoch=%llu "
             "admins=%zu threshold=%u",
             (unsigned long long)c->state.epoch, c->state.nadmins, c->state.threshold);
    *out = c;
    return CKR_OK;
fail:
    if (c->dev)
        c->cur_eng = NULL;
    custody_close(c);
    return rv;
}

void custody_close(custody *c)
{
    if (!c)
        return;
    custody_follow_stop(c);
    rotation_free(c->rot);
    if (!c->dev && c->cur_eng)
        engine_destroy(c->cur_eng);
    if (c->next_eng)
        engine_destroy(c->next_eng);
    if (c->grace_eng)
        engine_destroy(c->grace_eng);
    audit_close(c->au);
    OPENSSL_cleanse(c->cur_wk, 32);
    OPENSSL_cleanse(c->next_wk, 32);
    OPENSSL_cleanse(c->root, 32);
    keyacc_clear(&c->newreg);
    keyacc_clear(&c->unlockacc);
    pthread_rwlock_destroy(&c->lock);
    pthread_mutex_destroy(&c->cmd_mu);
    pthread_cond_destroy(&c->follow_cv);
    pthread_mutex_destroy(&c->follow_mu);
    free(c);
}

/* ---- imprint ------------------------------------------------------------ */

static CK_RV imprint_store(store *st, const char *data_dir, const uint8_t *spki, size_t len,
                           const char *name, uint8_t instance[16], uint8_t anchor[32], char *err,
                           size_t errlen)
{
    CK_RV rv = journal_init(st);
    if (rv == CKR_OK)
        rv = journal_imprint(st, spki, len, name, instance, anchor);
    if (rv == CKR_IBM_GREP11_CONFLICT)
        snprintf(err, errlen, "the instance is imprinted already");
    else if (rv == CKR_ARGUMENTS_BAD)
        snprintf(err, errlen, "not a P-256 or Ed25519 public key");
    else if (rv != CKR_OK)
        snprintf(err, errlen, "cannot write the imprint");
    else if (anchor_write(data_dir, instance, anchor) != 0) {
        snprintf(err, errlen, "cannot write %s/%s", data_dir, CUSTODY_ANCHOR_FILE);
        rv = CKR_FUNCTION_FAILED;
    }
    return rv;
}

/* The public-key file of an administrator: "grep11-admin-pub-v1 ALG HEX NAME". */
static int read_pub(const char *path, uint8_t *spki, size_t *len, char name[65])
{
    char alg[16], hex[2 * CUSTODY_MAX_SPKI + 2];
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    name[0] = '\0';
    int n = fscanf(f, "grep11-admin-pub-v1 %15s %321s %64s", alg, hex, name);
    fclose(f);
    long l = n >= 2 ? hex_decode(hex, spki, CUSTODY_MAX_SPKI) : -1;
    if (l <= 0)
        return -1;
    *len = (size_t)l;
    return 0;
}

static CK_RV imprint_from_config(custody *c, const server_config *cfg, char *err, size_t errlen)
{
    uint8_t spki[CUSTODY_MAX_SPKI], inst[16];
    size_t len = 0;
    char name[65], why[256];
    if (read_pub(cfg->custody_admin, spki, &len, name) != 0) {
        snprintf(err, errlen, "custody.admin: %s is not an administrator public-key file",
                 cfg->custody_admin);
        return CKR_ARGUMENTS_BAD;
    }
    CK_RV rv = imprint_store(c->st, c->data_dir, spki, len, name, inst, c->anchor, err, errlen);
    if (rv == CKR_OK)
        rv = journal_replay(c->st, c->anchor, &c->state, why, sizeof(why));
    if (rv == CKR_OK) {
        c->have_anchor = 1;
        log_info("msg=\"custody: instance imprinted with administrator %s\"",
                 c->state.admins[0].keyid);
        audit_append(c->au, "custody-imprint", "configuration", c->state.admins[0].keyid);
    }
    return rv;
}

CK_RV custody_imprint_offline(const server_config *cfg, const uint8_t *spki, size_t spki_len,
                              const char *name, uint8_t instance[16], char *err, size_t errlen)
{
    char url[4200];
    store *st = NULL;
    uint8_t anchor[32];
    store_options so;
    config_store_options(cfg, &so);
    so.log = store_log;
    if (cfg->store_url)
        snprintf(url, sizeof(url), "%s", cfg->store_url);
    else
        snprintf(url, sizeof(url), "sqlite:%s/keystore.db", cfg->data_dir);
    CK_RV rv = store_open(url, &so, &st);
    if (rv != CKR_OK) {
        snprintf(err, errlen, "cannot open the keystore database");
        return rv;
    }
    rv = imprint_store(st, cfg->data_dir, spki, spki_len, name, instance, anchor, err, errlen);
    if (rv == CKR_OK) {
        audit *au = NULL;
        if (audit_open(st, &au) == CKR_OK) {
            char id[17];
            custody_vp(spki, spki_len, id);
            audit_append(au, "custody-imprint", "offline", id);
            audit_close(au);
        }
    }
    store_close(st);
    return rv;
}

/* ---- replicas: following the shared log, rollback detection --------------
 *
 * Replicas share the database, so a command submitted through one of them
 * is in the log the others read. Each replica polls for the entry at its
 * next epoch (one indexed lookup a second) and, when there is one, replays
 * the log and applies the new entries' effects on its own engines; the key
 * material it needs is in the vault, sealed under the current key it holds.
 * The highest epoch applied is kept per host in DIR/custody-epoch, so a log
 * whose tail was deleted (a rollback) is noticed. */

/* 0 read, 1 absent, -1 damaged. */
static int epoch_read(const char *dir, uint64_t *e)
{
    char path[4200], buf[32];
    snprintf(path, sizeof(path), "%s/%s", dir, CUSTODY_EPOCH_FILE);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 1 : -1;
    char *end = NULL;
    int ok = fgets(buf, sizeof(buf), f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    unsigned long long v = strtoull(buf, &end, 10);
    if (end == buf || (*end && *end != '\n'))
        return -1;
    *e = v;
    return 0;
}

/* Written to a temporary file, synced and renamed: a crash leaves the old
 * value or the new one, never a torn file that would read as damaged. */
static int epoch_write(const char *dir, uint64_t e)
{
    char path[4200], tmp[4220], buf[32];
    int n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)e);
    snprintf(path, sizeof(path), "%s/%s", dir, CUSTODY_EPOCH_FILE);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    int ok = write(fd, buf, (size_t)n) == n && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    if (d >= 0) {
        fsync(d);
        close(d);
    }
    return 0;
}

/* The epoch of the newest entry applied (the state names the next one). */
static uint64_t latest(const custody_state *s)
{
    return s->epoch ? s->epoch - 1 : 0;
}

static void refuse_rollback(custody *c, uint64_t log_epoch)
{
    snprintf(c->rollback_msg, sizeof(c->rollback_msg),
             "the custody log ends at epoch %llu but this host has applied epoch %llu: the "
             "log was rolled back (entries deleted); refusing to serve",
             (unsigned long long)log_epoch, (unsigned long long)c->epoch_seen);
    if (!c->rolled_back)
        log_error("msg=\"custody: %s\" log_epoch=%llu host_epoch=%llu", c->rollback_msg,
                  (unsigned long long)log_epoch, (unsigned long long)c->epoch_seen);
    c->rolled_back = 1;
    if (atomic_load(&c->unlocked) || c->cur_eng)
        custody_forget(c);
}

void custody_epoch_check(custody *c)
{
    uint64_t seen = 0;
    if (c->dev || !c->state.imprinted)
        return;
    int r = epoch_read(c->data_dir, &seen);
    if (r < 0) {
        /* Not trusting a damaged file could hide a rollback; refusing is
         * the safe side, and the message says what to check. */
        c->epoch_seen = UINT64_MAX;
        snprintf(c->rollback_msg, sizeof(c->rollback_msg),
                 "the data directory's %s is damaged: check the log and restore the file",
                 CUSTODY_EPOCH_FILE);
        log_error("msg=\"custody: %s\" dir=\"%s\"", c->rollback_msg, c->data_dir);
        c->rolled_back = 1;
        return;
    }
    c->epoch_seen = r == 0 ? seen : 0;
    if (latest(&c->state) < c->epoch_seen) {
        refuse_rollback(c, latest(&c->state));
        return;
    }
    custody_note_epoch(c);
}

void custody_note_epoch(custody *c)
{
    uint64_t e = latest(&c->state);
    if (c->dev || !c->state.imprinted || c->rolled_back)
        return;
    if (e < c->epoch_seen || (e == c->epoch_seen && e != 0))
        return;
    if (epoch_write(c->data_dir, e) != 0)
        log_warn("msg=\"custody: cannot write %s/%s (rollback detection)\"", c->data_dir,
                 CUSTODY_EPOCH_FILE);
    else
        c->epoch_seen = e;
}

/* Replay collects the entries this replica has not applied yet; they take
 * effect only once the whole log has replayed cleanly. */
typedef struct {
    char name[CUSTODY_MAX_NAME + 1];
    custody_state after;
    uint8_t keyid[AUTH_KEY_ID_LEN];
    int have_keyid;
} follow_step;

typedef struct {
    uint64_t from;     /* first epoch not applied here */
    uint8_t chain[32]; /* the chain after entry from - 1, as replayed */
    int have_chain;
    follow_step *steps;
    size_t n, cap;
} follow_list;

static CK_RV collect_step(void *arg, const custody_cmd *cmd, const custody_state *after)
{
    follow_list *l = arg;
    uint64_t e = after->epoch - 1;
    if (e + 1 == l->from) {
        memcpy(l->chain, after->chain, 32);
        l->have_chain = 1;
    }
    if (e < l->from)
        return CKR_OK;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        follow_step *b = realloc(l->steps, cap * sizeof(*b));
        if (!b)
            return CKR_HOST_MEMORY;
        l->steps = b;
        l->cap = cap;
    }
    follow_step *s = &l->steps[l->n++];
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", cmd->name);
    s->after = *after;
    const char *kid = custody_cmd_arg(cmd, "keyid");
    if (!strcmp(cmd->name, "revoke-apikey") && kid &&
        auth_b64url_decode(kid, strlen(kid), s->keyid, sizeof(s->keyid)) == sizeof(s->keyid))
        s->have_keyid = 1;
    return CKR_OK;
}

/* commit elsewhere: the new key is in the vault as next@<current VP>,
 * sealed under the key this replica holds; loading it into the current
 * engine's new register (and a second engine) makes blobs under either key
 * work here too. The re-wrap worker runs where the commit was submitted. */
static void follow_commit(custody *c, const custody_state *before)
{
    uint8_t nwk[32];
    engine *next = NULL;
    if (!atomic_load(&c->unlocked) || !c->cur_eng || !before->have_current)
        return; /* unlock loads it (custody_become_unlocked) */
    CK_RV rv = next_key_open(c, c->cur_eng, before->cur_vp, c->state.new_vp, nwk);
    if (rv == CKR_OK)
        rv = engine_create(nwk, &c->eng_pol, &next);
    if (rv == CKR_OK) {
        pthread_rwlock_wrlock(&c->lock);
        rv = engine_load_new_wk(c->cur_eng, nwk);
        if (rv == CKR_OK) {
            if (c->next_eng)
                engine_destroy(c->next_eng);
            c->next_eng = next;
            next = NULL;
            memcpy(c->next_wk, nwk, 32);
            c->have_next_wk = 1;
        }
        pthread_rwlock_unlock(&c->lock);
    }
    if (next)
        engine_destroy(next);
    OPENSSL_cleanse(nwk, sizeof(nwk));
    if (rv != CKR_OK)
        log_warn("msg=\"custody: the committed key %s cannot be loaded on this replica yet\" "
                 "rv=0x%lx",
                 c->state.new_vp, (unsigned long)rv);
}

/* activate elsewhere: switch like the submitting replica did, if this one
 * holds the committed key; otherwise it cannot serve the new key and locks
 * until key owners unlock it with the new key's parts. */
static void follow_activate(custody *c)
{
    char vp[17] = "";
    if (c->have_next_wk)
        custody_vp(c->next_wk, 32, vp);
    int have = c->have_next_wk && strcmp(vp, c->state.cur_vp) == 0;
    if (have && atomic_load(&c->unlocked) && c->cur_eng && c->next_eng) {
        custody_activate_engines(c, NULL, "", c->state.have_prev);
        return;
    }
    if (have) {
        /* Locked here with the committed key loaded by an unlock (or no
         * engine for it): start over from that key and open the identity
         * root the activating replica sealed under it. */
        uint8_t key[32];
        char why[160] = "";
        memcpy(key, c->next_wk, 32);
        if (atomic_load(&c->unlocked) || c->cur_eng)
            custody_forget(c);
        OPENSSL_cleanse(c->next_wk, 32);
        c->have_next_wk = 0;
        if (custody_become_unlocked(c, key, why, sizeof(why)) != CKR_OK)
            log_warn("msg=\"custody: activated key %s: %s\"", c->state.cur_vp, why);
        OPENSSL_cleanse(key, sizeof(key));
        return;
    }
    if (atomic_load(&c->unlocked) || c->cur_eng) {
        custody_forget(c);
        log_warn("msg=\"custody: master key %s was activated on another replica but this one "
                 "never loaded it: LOCKED until key owners unlock it (grep11ctl unlock)\"",
                 c->state.cur_vp);
    }
}

void custody_refresh(custody *c)
{
    follow_list l;
    custody_state next;
    char why[256] = "";
    if (c->dev || !c->state.imprinted || c->rolled_back || !c->have_anchor)
        return;
    uint64_t have = c->state.epoch;
    /* Nothing new and our newest entry still there: the common case. */
    CK_RV a = journal_has(c->st, have);
    CK_RV b = journal_has(c->st, latest(&c->state));
    if (a == CKR_GREP11_MISSING && b == CKR_OK)
        return;
    if ((a != CKR_OK && a != CKR_GREP11_MISSING) || (b != CKR_OK && b != CKR_GREP11_MISSING))
        return; /* the database is unreachable: the store layer logs it */
    memset(&l, 0, sizeof(l));
    l.from = have;
    CK_RV rv = journal_replay_steps(c->st, c->anchor, &next, why, sizeof(why), collect_step, &l);
    if (rv == CKR_GREP11_MISSING || (rv == CKR_IBM_GREP11_DBINTERNAL && next.epoch < have)) {
        /* Entries gone from the tail (or the whole log): a rollback. */
        refuse_rollback(c, rv == CKR_GREP11_MISSING ? 0 : latest(&next));
        goto out;
    }
    if (rv != CKR_OK) {
        if (!c->follow_logged)
            log_error("msg=\"custody: the shared log no longer replays; not following it\" "
                      "why=\"%s\"",
                      why);
        c->follow_logged = 1;
        goto out;
    }
    c->follow_logged = 0;
    if (latest(&next) < c->epoch_seen || next.epoch < have) {
        refuse_rollback(c, latest(&next));
        goto out;
    }
    if (!l.have_chain || memcmp(l.chain, c->state.chain, 32) != 0) {
        /* Same epochs, other commands: the log was rewritten under us. */
        if (!c->follow_logged)
            log_error("msg=\"custody: the shared log differs from the commands this replica "
                      "applied before epoch %llu; not following it\"",
                      (unsigned long long)have);
        c->follow_logged = 1;
        goto out;
    }
    for (size_t i = 0; i < l.n; i++) {
        follow_step *s = &l.steps[i];
        custody_state before = c->state;
        pthread_rwlock_wrlock(&c->lock);
        c->state = s->after;
        pthread_rwlock_unlock(&c->lock);
        if (!strcmp(s->name, "commit"))
            follow_commit(c, &before);
        else if (!strcmp(s->name, "activate"))
            follow_activate(c);
        else if (!strcmp(s->name, "zeroize"))
            custody_forget(c);
        else if (!strcmp(s->name, "revoke-apikey") && s->have_keyid)
            services_note_revoked(c->svc, s->keyid);
        else if (!strcmp(s->name, "load-part") || !strcmp(s->name, "load-share"))
            keyacc_clear(&c->newreg); /* parts loaded here are superseded */
        log_info("msg=\"custody: applied %s submitted through another replica\" epoch=%llu",
                 s->name, (unsigned long long)(s->after.epoch - 1));
    }
    custody_note_epoch(c);
out:
    free(l.steps);
}

static void *follow_main(void *arg)
{
    custody *c = arg;
    pthread_mutex_lock(&c->follow_mu);
    while (!c->follow_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&c->follow_cv, &c->follow_mu, &ts);
        if (c->follow_stop)
            break;
        pthread_mutex_unlock(&c->follow_mu);
        pthread_mutex_lock(&c->cmd_mu);
        custody_refresh(c);
        pthread_mutex_unlock(&c->cmd_mu);
        pthread_mutex_lock(&c->follow_mu);
    }
    pthread_mutex_unlock(&c->follow_mu);
    return NULL;
}

void custody_follow_start(custody *c)
{
    if (c->dev || c->follow_running)
        return;
    c->follow_stop = 0;
    if (pthread_create(&c->follow_th, NULL, follow_main, c) == 0)
        c->follow_running = 1;
    else
        log_warn("msg=\"custody: cannot start the log watcher; commands submitted through other "
                 "replicas apply after a restart\"");
}

void custody_follow_stop(custody *c)
{
    if (!c->follow_running)
        return;
    pthread_mutex_lock(&c->follow_mu);
    c->follow_stop = 1;
    pthread_cond_signal(&c->follow_cv);
    pthread_mutex_unlock(&c->follow_mu);
    pthread_join(c->follow_th, NULL);
    c->follow_running = 0;
}
