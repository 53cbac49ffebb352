/* grep11ctl: master-key custody. Administrators' keys, key parts and
 * shares (offline), signed commands (prepare online, sign offline, submit
 * online), unlock, status and audit verification. Passphrases come from
 * $GREP11_PASSPHRASE or a prompt on the terminal. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "adminkey.h"
#include "bytes.h"
#include "config.h"
#include "ctl.h"
#include "custody.h"
#include "keyparts.h"
#include "secretfile.h"
#include "shamir.h"

#define PASS_MAX 256

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "grep11ctl: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return 1;
}

/* The passphrase for path: $GREP11_PASSPHRASE, else asked on /dev/tty. */
static int passphrase(const char *what, const char *path, int confirm, char out[PASS_MAX])
{
    const char *env = getenv("GREP11_PASSPHRASE");
    if (env) {
        snprintf(out, PASS_MAX, "%s", env);
        return out[0] ? 0 : -1;
    }
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty)
        return -1;
    struct termios old, quiet;
    int ok = tcgetattr(fileno(tty), &old) == 0;
    for (int round = 0; ok && round < (confirm ? 2 : 1); round++) {
        char buf[PASS_MAX];
        fprintf(tty, "%s for %s%s: ", round ? "Repeat the passphrase" : what, path, "");
        fflush(tty);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
        ok = fgets(round ? buf : out, PASS_MAX, tty) != NULL;
        tcsetattr(fileno(tty), TCSAFLUSH, &old);
        fprintf(tty, "\n");
        if (ok && round) {
            buf[strcspn(buf, "\r\n")] = '\0';
            ok = strcmp(buf, out) == 0;
            OPENSSL_cleanse(buf, sizeof(buf));
        }
        out[strcspn(out, "\r\n")] = '\0';
    }
    fclose(tty);
    return ok && out[0] ? 0 : -1;
}

static unsigned kdf_log2n(void)
{
    const char *e = getenv("GREP11_KDF_LOG2N"); /* tests: a cheaper scrypt */
    unsigned v = e ? (unsigned)atoi(e) : 0;
    return v >= 12 && v <= 20 ? v : 0;
}

/* ---- admin keygen ---------------------------------------------------------- */

int ctl_admin(int argc, char **argv)
{
    const char *out = NULL, *name = "admin";
    int alg = CUSTODY_ALG_ED25519;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--out"))
            out = argv[i + 1];
        else if (!strcmp(argv[i], "--name"))
            name = argv[i + 1];
        else if (!strcmp(argv[i], "--alg"))
            alg = !strcmp(argv[i + 1], "p256") ? CUSTODY_ALG_P256 : CUSTODY_ALG_ED25519;
    }
    if (argc < 1 || strcmp(argv[0], "keygen") != 0 || !out)
        return fail("usage: admin keygen --out FILE [--alg ed25519|p256] [--name NAME]%s", "");
    char pass[PASS_MAX], err[300] = "";
    custody_admin pub;
    if (passphrase("New passphrase", out, 1, pass) != 0)
        return fail("no passphrase (set GREP11_PASSPHRASE or use a terminal)%s", "");
    CK_RV rv = adminkey_generate(out, alg, name, pass, kdf_log2n(), &pub, err, sizeof(err));
    OPENSSL_cleanse(pass, sizeof(pass));
    if (rv != CKR_OK)
        return fail("%s", err);
    printf("administrator key %s (%s, %s) written to %s; public key in %s.pub\n", pub.keyid,
           custody_alg_name(pub.alg), pub.name, out, out);
    return 0;
}

/* ---- key parts and shares ---------------------------------------------------- */

static int write_share(const char *prefix, const shamir_share *s, const char *pass)
{
    char path[4200], vp[17], set[17], pos[32], err[300];
    uint8_t enc[SHAMIR_SHARE_ENCODED];
    secretfile_meta m = {0};
    shamir_encode(s, enc);
    custody_vp(enc, sizeof(enc), vp);
    hex_encode(s->set, 8, set);
    snprintf(path, sizeof(path), "%s-%u.key", prefix, s->x);
    snprintf(pos, sizeof(pos), "%u of %u, any %u", s->x, s->n, s->m);
    secretfile_meta_add(&m, "kind", "share");
    secretfile_meta_add(&m, "vp", vp);
    secretfile_meta_add(&m, "set", set);
    secretfile_meta_add(&m, "share", pos);
    CK_RV rv = secretfile_write(path, &m, enc, sizeof(enc), pass, kdf_log2n(), err, sizeof(err));
    OPENSSL_cleanse(enc, sizeof(enc));
    if (rv != CKR_OK)
        return fail("%s", err);
    printf("share %u/%u written to %s (verification pattern %s)\n", s->x, s->n, path, vp);
    return 0;
}

static int read_secret(const char *path, const char *kind, uint8_t *out, size_t cap, size_t *len)
{
    char pass[PASS_MAX], err[300] = "";
    secretfile_meta m;
    if (passphrase("Passphrase", path, 0, pass) != 0)
        return fail("no passphrase (set GREP11_PASSPHRASE or use a terminal)%s", "");
    CK_RV rv = secretfile_read(path, pass, out, cap, len, &m, err, sizeof(err));
    OPENSSL_cleanse(pass, sizeof(pass));
    if (rv != CKR_OK)
        return fail("%s", err);
    const char *k = secretfile_meta_get(&m, "kind");
    if (!k || strcmp(k, kind) != 0) {
        OPENSSL_cleanse(out, cap);
        return fail("%s holds no key part of the expected kind", path);
    }
    return 0;
}

int ctl_keypart(int argc, char **argv)
{
    const char *out = NULL, *in = NULL;
    unsigned m = 0, n = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--out"))
            out = argv[i + 1];
        else if (!strcmp(argv[i], "--in"))
            in = argv[i + 1];
        else if (!strcmp(argv[i], "--threshold"))
            m = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--shares"))
            n = (unsigned)atoi(argv[i + 1]);
    }
    if (argc == 2 && !strcmp(argv[0], "show")) {
        secretfile_meta meta;
        char err[300];
        if (secretfile_peek(argv[1], &meta, err, sizeof(err)) != CKR_OK)
            return fail("%s", err);
        for (size_t i = 0; i < meta.n; i++)
            if (strcmp(meta.key[i], "pub") != 0)
                printf("%s: %s\n", meta.key[i], meta.val[i]);
        return 0;
    }
    uint8_t secret[32];
    char pass[PASS_MAX], vp[17], err[300];
    int rc = 1;
    if (argc < 1 || !out || (strcmp(argv[0], "generate") && strcmp(argv[0], "split")))
        return fail("usage: keypart generate --out FILE | keypart split --threshold M --shares N "
                    "--out PREFIX [--in PART.key] | keypart show FILE%s",
                    "");
    if (in) {
        size_t len = 0;
        if (read_secret(in, "keypart", secret, sizeof(secret), &len) != 0 || len != 32)
            return 1;
    } else if (RAND_priv_bytes(secret, 32) != 1) {
        return fail("random generator failed%s", "");
    }
    custody_vp(secret, 32, vp);
    if (passphrase("New passphrase", out, 1, pass) != 0) {
        OPENSSL_cleanse(secret, sizeof(secret));
        return fail("no passphrase (set GREP11_PASSPHRASE or use a terminal)%s", "");
    }
    if (!strcmp(argv[0], "generate")) {
        secretfile_meta meta = {0};
        secretfile_meta_add(&meta, "kind", "keypart");
        secretfile_meta_add(&meta, "vp", vp);
        if (secretfile_write(out, &meta, secret, 32, pass, kdf_log2n(), err, sizeof(err)) != CKR_OK)
            fail("%s", err);
        else {
            printf("key part written to %s\nverification pattern: %s\n", out, vp);
            rc = 0;
        }
    } else {
        shamir_share sh[SHAMIR_MAX_SHARES];
        if (shamir_split(secret, m, n, sh) != 0) {
            fail("--threshold M and --shares N with 2 <= M <= N <= 16%s", "");
        } else {
            printf("master key verification pattern: %s (any %u of %u shares)\n", vp, m, n);
            rc = 0;
            for (unsigned i = 0; i < n && rc == 0; i++)
                rc = write_share(out, &sh[i], pass);
            OPENSSL_cleanse(sh, sizeof(sh));
        }
    }
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(pass, sizeof(pass));
    return rc;
}

/* ---- command files (cmd.json) ----------------------------------------------- */

static cJSON *json_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65537);
    size_t n = buf ? fread(buf, 1, 65536, f) : 0;
    fclose(f);
    cJSON *j = n ? cJSON_ParseWithLength(buf, n) : NULL;
    free(buf);
    return j;
}

static int json_save(const char *path, cJSON *j)
{
    char tmp[4300];
    char *text = cJSON_Print(j);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = text ? fopen(tmp, "w") : NULL;
    int ok = f && fprintf(f, "%s\n", text) > 0;
    ok = f && fclose(f) == 0 && ok && rename(tmp, path) == 0;
    free(text);
    return ok ? 0 : -1;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The command a cmd.json describes, and its canonical bytes. */
static int json_command(const cJSON *j, custody_cmd *c, uint8_t **canon, size_t *len)
{
    memset(c, 0, sizeof(*c));
    const char *inst = jstr(j, "instance"), *epoch = jstr(j, "epoch"), *nonce = jstr(j, "nonce"),
               *name = jstr(j, "command");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(j, "args"), *a;
    if (!inst || !epoch || !nonce || !name || hex_decode(inst, c->instance, 16) != 16 ||
        hex_decode(nonce, c->nonce, 16) != 16 || !cJSON_IsObject(args))
        return -1;
    c->epoch = strtoull(epoch, NULL, 10);
    snprintf(c->name, sizeof(c->name), "%s", name);
    cJSON_ArrayForEach(a, args)
    {
        if (!cJSON_IsString(a) || custody_cmd_set(c, a->string, a->valuestring) != CKR_OK)
            return -1;
    }
    return custody_cmd_encode(c, canon, len) == CKR_OK ? 0 : -1;
}

static void print_command(const custody_cmd *c)
{
    char inst[33];
    hex_encode(c->instance, 16, inst);
    printf("  instance %s, epoch %llu\n  command  %s\n", inst, (unsigned long long)c->epoch,
           c->name);
    for (size_t i = 0; i < c->nargs; i++)
        printf("    %-10s %.80s%s\n", c->args[i].key, c->args[i].val,
               strlen(c->args[i].val) > 80 ? "…" : "");
}

static int set_pub_args(custody_cmd *c, const char *pubfile)
{
    custody_admin a;
    char hex[2 * CUSTODY_MAX_SPKI + 1];
    if (adminkey_read_pub(pubfile, &a) != CKR_OK)
        return fail("%s is not an administrator public-key file", pubfile);
    hex_encode(a.spki, a.spki_len, hex);
    custody_cmd_set(c, "pubkey", hex);
    custody_cmd_set(c, "name", a.name[0] ? a.name : "admin");
    return 0;
}

/* Fills the arguments of `prepare NAME --opt value ...`. */
static int prepare_args(g11c_conn *conn, custody_cmd *c, unsigned held, int argc, char **argv,
                        const char **out)
{
    char idx[16], roles[256] = "";
    snprintf(idx, sizeof(idx), "%u", held + 1);
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        secretfile_meta m;
        char err[300];
        if (!strcmp(k, "--out")) {
            *out = v;
        } else if (!strcmp(k, "--admin-pub")) {
            if (set_pub_args(c, v) != 0)
                return -1;
        } else if (!strcmp(k, "--part") || !strcmp(k, "--share")) {
            if (secretfile_peek(v, &m, err, sizeof(err)) != CKR_OK)
                return fail("%s", err);
            const char *vp = secretfile_meta_get(&m, "vp"), *set = secretfile_meta_get(&m, "set");
            custody_cmd_set(c, k[2] == 'p' ? "part-vp" : "share-vp", vp ? vp : "");
            if (k[2] == 's') {
                const char *pos = secretfile_meta_get(&m, "share");
                unsigned x = 0, n = 0, mm = 0;
                char ms[8];
                if (!pos || sscanf(pos, "%u of %u, any %u", &x, &n, &mm) != 3 || !set)
                    return fail("%s is not a share file", v);
                snprintf(ms, sizeof(ms), "%u", mm);
                custody_cmd_set(c, "set", set);
                custody_cmd_set(c, "m", ms);
            }
            custody_cmd_set(c, "index", idx);
        } else if (!strcmp(k, "--index")) {
            custody_cmd_set(c, "index", v);
        } else if (!strcmp(k, "--role")) {
            snprintf(roles + strlen(roles), sizeof(roles) - strlen(roles), "%s%s",
                     roles[0] ? "," : "", v);
        } else if (!strncmp(k, "--", 2)) {
            if (custody_cmd_set(c, k + 2, v) != CKR_OK)
                return fail("bad argument %s", k);
        } else {
            return fail("unexpected argument %s", k);
        }
    }
    if (roles[0])
        custody_cmd_set(c, "roles", roles);
    /* commit/activate default to the pattern the server reports. */
    if ((!strcmp(c->name, "commit") || !strcmp(c->name, "activate")) && !custody_cmd_arg(c, "vp")) {
        g11c_custody_info st;
        if (g11c_custody_status(conn, &st) != CKR_OK || !st.new_vp[0])
            return fail("--vp is needed (the server reports no new key)%s", "");
        custody_cmd_set(c, "vp", st.new_vp);
    }
    return 0;
}

static int cmd_prepare(g11c_conn *conn, int argc, char **argv)
{
    custody_cmd c;
    const char *out = NULL;
    uint8_t *canon = NULL;
    size_t len = 0;
    unsigned held = 0;
    char hex[33], ep[24];
    memset(&c, 0, sizeof(c));
    if (argc < 1)
        return fail("usage: custody prepare COMMAND [--arg value...] --out cmd.json%s", "");
    snprintf(c.name, sizeof(c.name), "%s", argv[0]);
    if (g11c_custody_prepare(conn, c.instance, &c.epoch, c.nonce, &held) != CKR_OK)
        return 1;
    if (prepare_args(conn, &c, held, argc, argv, &out) != 0)
        return 1;
    if (!out)
        return fail("--out cmd.json is required%s", "");
    if (custody_cmd_encode(&c, &canon, &len) != CKR_OK)
        return fail("the command's arguments are not valid%s", "");
    cJSON *j = cJSON_CreateObject(), *args = cJSON_CreateObject();
    char *chex = malloc(2 * len + 1);
    cJSON_AddStringToObject(j, "format", CUSTODY_MAGIC);
    hex_encode(c.instance, 16, hex);
    cJSON_AddStringToObject(j, "instance", hex);
    snprintf(ep, sizeof(ep), "%llu", (unsigned long long)c.epoch);
    cJSON_AddStringToObject(j, "epoch", ep);
    hex_encode(c.nonce, 16, hex);
    cJSON_AddStringToObject(j, "nonce", hex);
    cJSON_AddStringToObject(j, "command", c.name);
    for (size_t i = 0; i < c.nargs; i++)
        cJSON_AddStringToObject(args, c.args[i].key, c.args[i].val);
    cJSON_AddItemToObject(j, "args", args);
    if (chex) {
        hex_encode(canon, len, chex);
        cJSON_AddStringToObject(j, "canonical", chex);
    }
    cJSON_AddItemToObject(j, "signatures", cJSON_CreateArray());
    int rc = json_save(out, j);
    cJSON_Delete(j);
    free(chex);
    free(canon);
    if (rc != 0)
        return fail("cannot write %s", out);
    printf("prepared %s:\n", out);
    print_command(&c);
    return 0;
}

static int cmd_sign(int argc, char **argv)
{
    const char *file = argc >= 1 ? argv[0] : NULL, *keyfile = NULL;
    for (int i = 1; i + 1 < argc; i += 2)
        if (!strcmp(argv[i], "--key"))
            keyfile = argv[i + 1];
    if (!file || !keyfile)
        return fail("usage: custody sign cmd.json --key ADMIN.key%s", "");
    cJSON *j = json_load(file);
    custody_cmd c;
    uint8_t *canon = NULL, sig[CUSTODY_MAX_SIG];
    size_t len = 0, slen = 0;
    int rc = 1;
    if (!j || json_command(j, &c, &canon, &len) != 0) {
        fail("%s is not a custody command file", file);
        goto out;
    }
    const char *claimed = jstr(j, "canonical");
    char *chex = malloc(2 * len + 1);
    if (chex)
        hex_encode(canon, len, chex);
    int same = chex && claimed && strcmp(chex, claimed) == 0;
    free(chex);
    if (claimed && !same) {
        fail("%s: its canonical bytes do not match its fields (edited?)", file);
        goto out;
    }
    printf("signing:\n");
    print_command(&c);
    char pass[PASS_MAX], err[300] = "";
    EVP_PKEY *k = NULL;
    custody_admin pub;
    if (passphrase("Passphrase", keyfile, 0, pass) != 0) {
        fail("no passphrase%s", "");
        goto out;
    }
    CK_RV rv = adminkey_load(keyfile, pass, &k, &pub, err, sizeof(err));
    OPENSSL_cleanse(pass, sizeof(pass));
    if (rv != CKR_OK) {
        fail("%s", err);
        goto out;
    }
    cJSON *sigs = cJSON_GetObjectItemCaseSensitive(j, "signatures"), *s;
    if (!cJSON_IsArray(sigs)) {
        sigs = cJSON_CreateArray();
        cJSON_AddItemToObject(j, "signatures", sigs);
    }
    cJSON_ArrayForEach(s, sigs)
    {
        const char *id = jstr(s, "keyid");
        if (id && !strcmp(id, pub.keyid)) {
            fail("%s is signed by this key already", file);
            EVP_PKEY_free(k);
            goto out;
        }
    }
    rv = adminkey_sign(k, pub.alg, canon, len, sig, &slen);
    EVP_PKEY_free(k);
    if (rv != CKR_OK) {
        fail("signing failed%s", "");
        goto out;
    }
    char shex[2 * CUSTODY_MAX_SIG + 1];
    hex_encode(sig, slen, shex);
    s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "keyid", pub.keyid);
    cJSON_AddStringToObject(s, "name", pub.name);
    cJSON_AddStringToObject(s, "sig", shex);
    cJSON_AddItemToArray(sigs, s);
    if (json_save(file, j) != 0) {
        fail("cannot write %s", file);
        goto out;
    }
    printf("signed by %s (%s); %d signature(s) now\n", pub.keyid, pub.name,
           cJSON_GetArraySize(sigs));
    rc = 0;
out:
    free(canon);
    cJSON_Delete(j);
    return rc;
}

static int cmd_submit(g11c_conn *conn, int argc, char **argv)
{
    const char *file = argc >= 1 ? argv[0] : NULL, *part = NULL, *share = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--part"))
            part = argv[i + 1];
        else if (!strcmp(argv[i], "--share"))
            share = argv[i + 1];
    }
    cJSON *j = file ? json_load(file) : NULL, *s;
    custody_cmd c;
    uint8_t *canon = NULL, secret[64];
    size_t len = 0, slen = 0, n = 0;
    g11c_custody_sig sigs[CUSTODY_MAX_SIGS];
    g11c_custody_result res;
    int rc = 1;
    if (!j || json_command(j, &c, &canon, &len) != 0) {
        fail("usage: custody submit cmd.json [--part FILE | --share FILE]%s", "");
        goto out;
    }
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(j, "signatures"))
    {
        const char *id = jstr(s, "keyid"), *sh = jstr(s, "sig");
        long l;
        if (n == CUSTODY_MAX_SIGS || !id || !sh ||
            (l = hex_decode(sh, sigs[n].sig, sizeof(sigs[n].sig))) <= 0) {
            fail("%s: a signature entry is malformed", file);
            goto out;
        }
        snprintf(sigs[n].keyid, sizeof(sigs[n].keyid), "%s", id);
        sigs[n++].len = (size_t)l;
    }
    if ((part && read_secret(part, "keypart", secret, sizeof(secret), &slen) != 0) ||
        (share && read_secret(share, "share", secret, sizeof(secret), &slen) != 0))
        goto out;
    CK_RV rv = g11c_custody_submit(conn, canon, len, sigs, n, (g11c_bytes){secret, slen}, &res);
    OPENSSL_cleanse(secret, sizeof(secret));
    if (rv != CKR_OK)
        goto out;
    printf("%s\nepoch now %llu\n", res.message, (unsigned long long)res.epoch);
    if (res.part_vp[0])
        printf("part verification pattern:      %s\nnew register verification pattern: %s\n",
               res.part_vp, res.assembled_vp[0] ? res.assembled_vp : "(incomplete)");
    if (res.api_key[0]) {
        printf("API key (shown once; store it now):\n%s\n", res.api_key);
        OPENSSL_cleanse(res.api_key, sizeof(res.api_key));
    }
    rc = 0;
out:
    free(canon);
    cJSON_Delete(j);
    return rc;
}

static int cmd_status(g11c_conn *conn)
{
    g11c_custody_info s;
    char inst[33];
    if (g11c_custody_status(conn, &s) != CKR_OK)
        return 1;
    hex_encode(s.instance, 16, inst);
    printf("instance      %s (%s)\n", s.imprinted ? inst : "not imprinted", s.mode);
    printf("state         %s, epoch %llu\n", s.locked ? "LOCKED" : "unlocked",
           (unsigned long long)s.epoch);
    printf("threshold     %u of %zu administrators\n", s.threshold, s.nadmins);
    for (size_t i = 0; i < s.nadmins; i++)
        printf("  admin       %s %-8s %s\n", s.admins[i].keyid, s.admins[i].alg, s.admins[i].name);
    printf("current key   %s\n", s.current_vp[0] ? s.current_vp : "(none)");
    printf("new register  %s (%s), %zu recorded, %u held here%s%s\n", s.new_state, s.new_scheme,
           s.nparts, s.parts_held, s.new_vp[0] ? ", pattern " : "", s.new_vp);
    for (size_t i = 0; i < s.nparts; i++)
        printf("  part %zu      %s\n", i + 1, s.part_vps[i]);
    if (s.previous_vp[0])
        printf("previous key  %s (RewrapKeyBlob until %lld)\n", s.previous_vp,
               (long long)s.grace_until);
    printf("re-wrap       %s: %llu done, %llu skipped, %llu failed %s\n", s.rewrap_phase,
           (unsigned long long)s.rewrap_done, (unsigned long long)s.rewrap_skipped,
           (unsigned long long)s.rewrap_failed, s.rewrap_error);
    return 0;
}

static int cmd_imprint(const ctl_context *cx, int argc, char **argv)
{
    const char *pubfile = NULL;
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--admin-pub"))
            pubfile = argv[i + 1];
    custody_admin a;
    if (!pubfile || adminkey_read_pub(pubfile, &a) != CKR_OK)
        return fail("usage: custody imprint --admin-pub ADMIN.key.pub (against --data-dir)%s", "");
    server_config cfg;
    char err[300] = "";
    uint8_t inst[16];
    config_defaults(&cfg);
    if (cx->config && config_load_yaml(&cfg, cx->config, err, sizeof(err)) != 0) {
        config_free(&cfg);
        return fail("%s", err);
    }
    free(cfg.data_dir);
    cfg.data_dir = strdup(cx->data_dir);
    CK_RV rv = custody_imprint_offline(&cfg, a.spki, a.spki_len, a.name, inst, err, sizeof(err));
    config_free(&cfg);
    if (rv != CKR_OK)
        return fail("%s", err);
    char hex[33];
    hex_encode(inst, 16, hex);
    printf("instance %s imprinted; first administrator %s (%s)\n", hex, a.keyid, a.name);
    return 0;
}

int ctl_custody_offline(const ctl_context *cx, int argc, char **argv)
{
    if (argc >= 1 && !strcmp(argv[0], "sign"))
        return cmd_sign(argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "imprint"))
        return cmd_imprint(cx, argc - 1, argv + 1);
    return -1;
}

int ctl_custody(g11c_conn *c, int argc, char **argv)
{
    if (argc >= 1 && !strcmp(argv[0], "status"))
        return cmd_status(c);
    if (argc >= 2 && !strcmp(argv[0], "prepare"))
        return cmd_prepare(c, argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[0], "submit"))
        return cmd_submit(c, argc - 1, argv + 1);
    return fail("usage: custody imprint|status|prepare|sign|submit ...%s", "");
}

int ctl_unlock(g11c_conn *c, int argc, char **argv)
{
    uint8_t parts[SHAMIR_MAX_SHARES][32], shares[SHAMIR_MAX_SHARES][64];
    g11c_bytes sb[SHAMIR_MAX_SHARES];
    size_t np = 0, ns = 0, len = 0;
    int reset = 0, unlocked = 0, rc = 1;
    unsigned held = 0;
    char msg[300] = "";
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--reset")) {
            reset = 1;
        } else if (i + 1 < argc && !strcmp(argv[i], "--part") && np < SHAMIR_MAX_SHARES) {
            if (read_secret(argv[++i], "keypart", parts[np], 32, &len) != 0 || len != 32)
                goto out;
            np++;
        } else if (i + 1 < argc && !strcmp(argv[i], "--share") && ns < SHAMIR_MAX_SHARES) {
            if (read_secret(argv[++i], "share", shares[ns], 64, &len) != 0)
                goto out;
            sb[ns] = (g11c_bytes){shares[ns], len};
            ns++;
        } else {
            fail("usage: unlock [--reset] --part FILE... | --share FILE...%s", "");
            goto out;
        }
    }
    if (g11c_custody_unlock(c, (const uint8_t(*)[32])parts, np, sb, ns, reset, &unlocked, &held,
                            msg, sizeof(msg)) != CKR_OK)
        goto out;
    printf("%s\n", msg);
    rc = unlocked ? 0 : 3; /* 3: accepted, more parts needed */
out:
    OPENSSL_cleanse(parts, sizeof(parts));
    OPENSSL_cleanse(shares, sizeof(shares));
    return rc;
}

int ctl_audit(g11c_conn *c, int argc, char **argv)
{
    g11c_audit_report r;
    char head[65];
    if (argc < 1 || strcmp(argv[0], "verify") != 0)
        return fail("usage: audit verify%s", "");
    if (g11c_audit_verify(c, &r) != CKR_OK)
        return 1;
    hex_encode(r.head_hash, 32, head);
    printf("%llu entries (%llu MACed, %llu written while locked), %llu orphaned writes\n"
           "head %llu %s\n",
           (unsigned long long)r.entries, (unsigned long long)r.maced,
           (unsigned long long)r.unmaced, (unsigned long long)r.orphans,
           (unsigned long long)r.head_seq, head);
    if (!r.intact) {
        printf("TAMPERED: %s\n", r.problem);
        return 1;
    }
    printf("audit trail intact\n");
    return 0;
}
