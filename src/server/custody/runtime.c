/* The custody runtime: start-up (replay, locked or development mode), the
 * dispatch hooks, unlock, the vault and the identity keys. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    CK_RV rv = engine_create(wk, NULL, &cur);
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
        vault_name(name, "next", s->cur_vp);
        if (vault_open(c, cur, name, nwk, 32) == CKR_OK &&
            (rv = engine_load_new_wk(cur, nwk)) == CKR_OK &&
            (rv = engine_create(nwk, NULL, &next)) == CKR_OK)
            have_next = 1;
        else if (rv != CKR_OK)
            goto fail;
    }
    if (s->have_prev && s->grace_until > (int64_t)time(NULL)) {
        vault_name(name, "prev", s->cur_vp);
        if (vault_open(c, cur, name, pwk, 32) == CKR_OK &&
            engine_create(pwk, NULL, &grace) == CKR_OK)
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
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&c->lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    snprintf(c->data_dir, sizeof(c->data_dir), "%s", cfg->data_dir);
    c->svc = svc;
    c->st = svc->st;
    c->dev = dev_engine != NULL;
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
    store_options so = {.log = store_log};
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
