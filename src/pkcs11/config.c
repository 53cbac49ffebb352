/* grep11client.yaml: search order, schema, validation. The YAML itself
 * (anchors, aliases, merge keys) is resolved by yaml_tree.c first; this file
 * only reads the resolved tree. Every error names the offending key. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "grep11/url.h"
#include "yaml_tree.h"

#define MAX_CONFIG_SIZE (1u << 20)
#define MAX_TOKENS 64

typedef struct {
    char *err;
    size_t cap;
} cctx;

__attribute__((format(printf, 4, 5))) static CK_RV bad(cctx *c, CK_RV rv, const char *path,
                                                       const char *fmt, ...)
{
    va_list ap;
    int used = snprintf(c->err, c->cap, "%s: ", path);
    if (used < 0 || (size_t)used >= c->cap)
        used = 0;
    va_start(ap, fmt);
    vsnprintf(c->err + used, c->cap - (size_t)used, fmt, ap);
    va_end(ap);
    return rv;
}

/* path.key; a path too long for the buffer is cut (it only names a key). */
static void join(char *out, size_t cap, const char *path, const char *key)
{
    int n = snprintf(out, cap, "%s%s%s", path, path[0] ? "." : "", key);
    if (n < 0)
        out[0] = '\0';
}

static void free_secret(char **s)
{
    if (*s) {
        explicit_bzero(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

/* A scalar (absent, null or empty: *out stays NULL). */
static CK_RV get_str(cctx *c, const p11_ynode *map, const char *path, const char *key, char **out)
{
    char p[256];
    const p11_ynode *n = p11_yaml_get(map, key);
    join(p, sizeof(p), path, key);
    if (!n || p11_yaml_is_null(n))
        return CKR_OK;
    if (n->kind != P11_YAML_SCALAR)
        return bad(c, CKR_ARGUMENTS_BAD, p, "must be a text value");
    if (strlen(n->value) != n->len)
        return bad(c, CKR_ARGUMENTS_BAD, p, "contains a NUL character");
    if (n->len == 0)
        return CKR_OK;
    *out = strdup(n->value);
    return *out ? CKR_OK : bad(c, CKR_HOST_MEMORY, p, "out of memory");
}

static CK_RV get_bool(cctx *c, const p11_ynode *map, const char *path, const char *key, int dflt,
                      int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "y"};
    static const char *const no[] = {"false", "no", "off", "n"};
    char p[256];
    const p11_ynode *n = p11_yaml_get(map, key);
    join(p, sizeof(p), path, key);
    *out = dflt;
    if (!n || p11_yaml_is_null(n))
        return CKR_OK;
    if (n->kind == P11_YAML_SCALAR) {
        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
            if (strcasecmp(n->value, yes[i]) == 0)
                return (*out = 1), CKR_OK;
            if (strcasecmp(n->value, no[i]) == 0)
                return (*out = 0), CKR_OK;
        }
    }
    return bad(c, CKR_ARGUMENTS_BAD, p, "must be true or false");
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    if (!s[0] || s[0] == '-' || s[0] == '+' || s[0] == ' ')
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static CK_RV get_int(cctx *c, const p11_ynode *map, const char *path, const char *key,
                     unsigned long lo, unsigned long hi, int *present, unsigned long *out)
{
    char p[256];
    const p11_ynode *n = p11_yaml_get(map, key);
    join(p, sizeof(p), path, key);
    *present = 0;
    if (!n || p11_yaml_is_null(n))
        return CKR_OK;
    if (n->kind != P11_YAML_SCALAR || parse_ulong(n->value, hi, out) != 0 || *out < lo)
        return bad(c, CKR_ARGUMENTS_BAD, p, "must be a whole number from %lu to %lu", lo, hi);
    *present = 1;
    return CKR_OK;
}

static CK_RV get_map(cctx *c, const p11_ynode *map, const char *path, const char *key,
                     const p11_ynode **out)
{
    char p[256];
    const p11_ynode *n = p11_yaml_get(map, key);
    join(p, sizeof(p), path, key);
    *out = NULL;
    if (!n || p11_yaml_is_null(n))
        return CKR_OK;
    if (n->kind != P11_YAML_MAP)
        return bad(c, CKR_ARGUMENTS_BAD, p, "must be a mapping");
    *out = n;
    return CKR_OK;
}

static int is_uuid(const char *s)
{
    if (strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-'
                 : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                     (s[i] >= 'A' && s[i] <= 'F')))
            return 0;
    }
    return 1;
}

/* iamauth.endpoint: a bare host:port is grep11.Auth over gRPC there; an
 * https:// URL is an IAM token endpoint as IBM's YAML names one (the module
 * POSTs to its path + /identity/token). http:// would carry API keys in
 * clear, so it is taken only for a token whose grep11 connection is
 * plaintext as well (a test server). Kept in canonical form. */
static CK_RV read_endpoint(cctx *c, const char *path, int tls_enabled, p11_user_cfg *u)
{
    grep11_url url;
    const char *why = "";
    char canon[sizeof(url.host) + sizeof(url.path) + 32];
    if (!u->iam_endpoint)
        return CKR_OK;
    if (grep11_url_parse(u->iam_endpoint, &url, &why) != 0)
        return bad(c, CKR_ARGUMENTS_BAD, path, "%s", why);
    if (url.scheme == GREP11_URL_HTTP && tls_enabled)
        return bad(c, CKR_ARGUMENTS_BAD, path,
                   "http:// would send API keys in clear: use https:// (http:// is taken only "
                   "when grep11connection.tls is disabled)");
    if (grep11_url_format(&url, canon, sizeof(canon)) != 0)
        return bad(c, CKR_ARGUMENTS_BAD, path, "too long");
    char *copy = strdup(canon);
    if (!copy)
        return bad(c, CKR_HOST_MEMORY, path, "out of memory");
    free(u->iam_endpoint);
    u->iam_endpoint = copy;
    u->iam_kind = url.scheme == GREP11_URL_HTTPS  ? P11_IAM_HTTPS
                  : url.scheme == GREP11_URL_HTTP ? P11_IAM_HTTP
                                                  : P11_IAM_GRPC;
    return CKR_OK;
}

static CK_RV read_user(cctx *c, const p11_ynode *users, const char *path, int idx, int tls_enabled,
                       p11_user_cfg *u)
{
    char key[4], p[256], ip[256], sp[256];
    const p11_ynode *n, *iam = NULL, *sa = NULL;
    CK_RV rv;
    snprintf(key, sizeof(key), "%d", idx);
    join(p, sizeof(p), path, key);
    if ((rv = get_map(c, users, path, key, &n)) != CKR_OK || !n)
        return rv;
    u->present = 1;
    if ((rv = get_str(c, n, p, "name", &u->name)) != CKR_OK ||
        (rv = get_str(c, n, p, "tokenspaceID", &u->tokenspace_id)) != CKR_OK ||
        (rv = get_map(c, n, p, "iamauth", &iam)) != CKR_OK ||
        (rv = get_map(c, n, p, "sessionauth", &sa)) != CKR_OK)
        return rv;
    if (u->tokenspace_id && !is_uuid(u->tokenspace_id)) {
        join(ip, sizeof(ip), p, "tokenspaceID");
        return bad(c, CKR_ARGUMENTS_BAD, ip, "must be a UUID (8-4-4-4-12 hex digits)");
    }
    join(ip, sizeof(ip), p, "iamauth");
    if (iam && ((rv = get_bool(c, iam, ip, "enabled", 1, &u->iam_enabled)) != CKR_OK ||
                (rv = get_str(c, iam, ip, "endpoint", &u->iam_endpoint)) != CKR_OK ||
                (rv = get_str(c, iam, ip, "apikey", &u->apikey)) != CKR_OK))
        return rv;
    char ep[300];
    join(ep, sizeof(ep), ip, "endpoint");
    if ((rv = read_endpoint(c, ep, tls_enabled, u)) != CKR_OK)
        return rv;
    if (u->iam_enabled && idx == P11_USER_ANON && !u->apikey) {
        join(ep, sizeof(ep), ip, "apikey");
        return bad(c, CKR_ARGUMENTS_BAD, ep, "missing (the anonymous user has no PIN to give)");
    }
    join(sp, sizeof(sp), p, "sessionauth");
    if (sa &&
        ((rv = get_bool(c, sa, sp, "enabled", 1, &u->sessionauth_enabled)) != CKR_OK ||
         (rv = get_str(c, sa, sp, "tokenspaceIDPassword", &u->tokenspace_password)) != CKR_OK))
        return rv;
    return CKR_OK;
}

static CK_RV read_connection(cctx *c, const p11_ynode *tok, const char *path, p11_token_cfg *t)
{
    char p[256], tp[256];
    const p11_ynode *conn, *tls = NULL;
    char *host = NULL;
    unsigned long port = 0, timeout = 0, channels = 0, spin = 0, batch = 0;
    int has_port, has_timeout, has_channels, has_spin, has_batch;
    CK_RV rv;
    join(p, sizeof(p), path, "grep11connection");
    if ((rv = get_map(c, tok, path, "grep11connection", &conn)) != CKR_OK)
        return rv;
    if (!conn)
        return bad(c, CKR_ARGUMENTS_BAD, p, "missing");
    if ((rv = get_str(c, conn, p, "address", &host)) != CKR_OK)
        goto out;
    if (!host || !host[0]) {
        join(tp, sizeof(tp), p, "address");
        rv = bad(c, CKR_ARGUMENTS_BAD, tp, "missing");
        goto out;
    }
    if ((rv = get_int(c, conn, p, "port", 1, 65535, &has_port, &port)) != CKR_OK)
        goto out;
    if (!has_port) {
        join(tp, sizeof(tp), p, "port");
        rv = bad(c, CKR_ARGUMENTS_BAD, tp, "missing");
        goto out;
    }
    if ((rv = get_int(c, conn, p, "timeout", 1, 600000, &has_timeout, &timeout)) != CKR_OK)
        goto out;
    t->timeout_ms = has_timeout ? (int)timeout : 30000;
    if ((rv = get_int(c, conn, p, "channels", 1, 16, &has_channels, &channels)) != CKR_OK)
        goto out;
    t->channels = has_channels ? (int)channels : 1;
    if ((rv = get_int(c, conn, p, "spin", 0, 10000, &has_spin, &spin)) != CKR_OK)
        goto out;
    t->spin_us = !has_spin ? 0 : (spin == 0 ? -1 : (int)spin);
    if ((rv = get_int(c, conn, p, "batch", 0, 64, &has_batch, &batch)) != CKR_OK)
        goto out;
    t->batch_inflight = !has_batch ? 0 : (batch == 0 ? -1 : (int)batch);
    size_t alen = strlen(host) + 16;
    t->address = malloc(alen);
    if (!t->address) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    /* An IPv6 literal needs brackets in a gRPC target. */
    int v6 = strchr(host, ':') != NULL && host[0] != '[';
    snprintf(t->address, alen, "%s%s%s:%lu", v6 ? "[" : "", host, v6 ? "]" : "", port);
    join(tp, sizeof(tp), p, "tls");
    if ((rv = get_map(c, conn, p, "tls", &tls)) != CKR_OK)
        goto out;
    t->tls_enabled = 1;
    if (tls && ((rv = get_bool(c, tls, tp, "enabled", 1, &t->tls_enabled)) != CKR_OK ||
                (rv = get_bool(c, tls, tp, "mutual", 0, &t->tls_mutual)) != CKR_OK ||
                (rv = get_str(c, tls, tp, "cacert", &t->cacert)) != CKR_OK ||
                (rv = get_str(c, tls, tp, "certfile", &t->certfile)) != CKR_OK ||
                (rv = get_str(c, tls, tp, "keyfile", &t->keyfile)) != CKR_OK))
        goto out;
    if (t->tls_enabled && t->tls_mutual && (!t->certfile || !t->keyfile)) {
        char q[300];
        join(q, sizeof(q), tp, t->certfile ? "keyfile" : "certfile");
        rv =
            bad(c, CKR_ARGUMENTS_BAD, q, "missing (mutual TLS needs a client certificate and key)");
        goto out;
    }
    if (!t->tls_enabled || !t->tls_mutual) {
        free(t->certfile);
        free(t->keyfile);
        t->certfile = t->keyfile = NULL;
    }
out:
    free(host);
    return rv;
}

static CK_RV read_token(cctx *c, const p11_ynode *key, const p11_ynode *tok, p11_token_cfg *t)
{
    char p[64], q[256];
    unsigned long slot;
    const p11_ynode *storage = NULL, *rs = NULL, *users = NULL;
    CK_RV rv;
    snprintf(p, sizeof(p), "tokens.%.20s", key->value);
    if (parse_ulong(key->value, 0x7fffffffUL, &slot) != 0)
        return bad(c, CKR_ARGUMENTS_BAD, p, "slot number must be a whole number");
    if (tok->kind != P11_YAML_MAP)
        return bad(c, CKR_ARGUMENTS_BAD, p, "must be a mapping");
    t->slot = slot;
    if ((rv = get_str(c, tok, p, "label", &t->label)) != CKR_OK)
        return rv;
    if (t->label && strlen(t->label) > 32)
        return join(q, sizeof(q), p, "label"), bad(c, CKR_ARGUMENTS_BAD, q, "longer than 32 bytes");
    if ((rv = read_connection(c, tok, p, t)) != CKR_OK)
        return rv;
    join(q, sizeof(q), p, "storage");
    if ((rv = get_map(c, tok, p, "storage", &storage)) != CKR_OK ||
        (storage && (rv = get_map(c, storage, q, "remotestore", &rs)) != CKR_OK))
        return rv;
    join(q, sizeof(q), p, "storage.remotestore");
    if (rs && (rv = get_bool(c, rs, q, "enabled", 1, &t->remotestore)) != CKR_OK)
        return rv;
    join(q, sizeof(q), p, "users");
    if ((rv = get_map(c, tok, p, "users", &users)) != CKR_OK)
        return rv;
    for (size_t i = 0; users && i + 1 < users->n; i += 2) {
        unsigned long u;
        if (parse_ulong(users->items[i]->value, 2, &u) != 0)
            return bad(c, CKR_ARGUMENTS_BAD, q, "unknown user '%.20s' (0 SO, 1 user, 2 anonymous)",
                       users->items[i]->value);
    }
    for (int i = 0; users && i < 3; i++)
        if ((rv = read_user(c, users, q, i, t->tls_enabled, &t->users[i])) != CKR_OK)
            return rv;
    if (!t->label) {
        char l[40];
        snprintf(l, sizeof(l), "grep11 token %lu", (unsigned long)t->slot);
        if (!(t->label = strdup(l)))
            return CKR_HOST_MEMORY;
    }
    return CKR_OK;
}

static CK_RV read_logging(cctx *c, const p11_ynode *root, p11_config *cfg)
{
    static const struct {
        const char *name;
        p11_loglevel level;
    } levels[] = {{"panic", P11_LOG_PANIC},  {"fatal", P11_LOG_FATAL}, {"error", P11_LOG_ERROR},
                  {"warning", P11_LOG_WARN}, {"warn", P11_LOG_WARN},   {"info", P11_LOG_INFO},
                  {"debug", P11_LOG_DEBUG},  {"trace", P11_LOG_TRACE}};
    const p11_ynode *log;
    char *lv = NULL;
    CK_RV rv;
    cfg->loglevel = P11_LOG_WARN;
    cfg->grpc_log = 1;
    if ((rv = get_map(c, root, "", "logging", &log)) != CKR_OK || !log)
        return rv;
    if ((rv = get_str(c, log, "logging", "loglevel", &lv)) != CKR_OK ||
        (rv = get_str(c, log, "logging", "logpath", &cfg->logpath)) != CKR_OK ||
        (rv = get_bool(c, log, "logging", "grpc", 1, &cfg->grpc_log)) != CKR_OK)
        goto out;
    if (lv) {
        size_t i;
        for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
            if (strcasecmp(lv, levels[i].name) == 0)
                break;
        if (i == sizeof(levels) / sizeof(levels[0])) {
            rv = bad(c, CKR_ARGUMENTS_BAD, "logging.loglevel",
                     "'%.20s' is not one of panic, fatal, error, warning, warn, info, debug, trace",
                     lv);
            goto out;
        }
        cfg->loglevel = levels[i].level;
    }
out:
    free(lv);
    return rv;
}

static int by_slot(const void *a, const void *b)
{
    CK_SLOT_ID x = ((const p11_token_cfg *)a)->slot, y = ((const p11_token_cfg *)b)->slot;
    return x < y ? -1 : x > y;
}

static CK_RV read_config(cctx *c, const p11_ynode *root, p11_config *cfg)
{
    const p11_ynode *tokens;
    CK_RV rv;
    if (root->kind != P11_YAML_MAP)
        return bad(c, CKR_ARGUMENTS_BAD, "(document)", "must be a mapping");
    if ((rv = read_logging(c, root, cfg)) != CKR_OK)
        return rv;
    if ((rv = get_map(c, root, "", "tokens", &tokens)) != CKR_OK)
        return rv;
    if (!tokens || tokens->n == 0)
        return bad(c, CKR_ARGUMENTS_BAD, "tokens", "missing (configure at least one token)");
    if (tokens->n / 2 > MAX_TOKENS)
        return bad(c, CKR_ARGUMENTS_BAD, "tokens", "more than %d tokens", MAX_TOKENS);
    cfg->tokens = calloc(tokens->n / 2, sizeof(*cfg->tokens));
    if (!cfg->tokens)
        return CKR_HOST_MEMORY;
    for (size_t i = 0; i + 1 < tokens->n; i += 2) {
        rv = read_token(c, tokens->items[i], tokens->items[i + 1], &cfg->tokens[cfg->ntokens++]);
        if (rv != CKR_OK)
            return rv;
    }
    if (cfg->ntokens > 1)
        qsort(cfg->tokens, cfg->ntokens, sizeof(*cfg->tokens), by_slot);
    for (size_t i = 1; i < cfg->ntokens; i++)
        if (cfg->tokens[i].slot == cfg->tokens[i - 1].slot)
            return bad(c, CKR_ARGUMENTS_BAD, "tokens", "slot %lu given twice",
                       (unsigned long)cfg->tokens[i].slot);
    return CKR_OK;
}

/* Frees everything but the logging settings (read first), so that an error
 * further on can be logged where the file asks. */
static void keep_logging(p11_config *cfg)
{
    p11_config keep = {0};
    keep.loglevel = cfg->loglevel;
    keep.logpath = cfg->logpath;
    keep.grpc_log = cfg->grpc_log;
    cfg->logpath = NULL;
    p11_config_free(cfg);
    *cfg = keep;
}

static CK_RV parse(const uint8_t *buf, size_t len, p11_config *cfg, char *err, size_t cap,
                   int logging_on_error)
{
    p11_ydoc doc;
    char yerr[200];
    cctx c = {err, cap};
    memset(cfg, 0, sizeof(*cfg));
    if (cap)
        err[0] = '\0';
    if (p11_yaml_parse(buf, len, &doc, yerr, sizeof(yerr)) != 0) {
        snprintf(err, cap, "not valid YAML: %s", yerr);
        return CKR_GENERAL_ERROR;
    }
    CK_RV rv = read_config(&c, doc.root, cfg);
    p11_yaml_free(&doc);
    if (rv != CKR_OK && logging_on_error)
        keep_logging(cfg);
    else if (rv != CKR_OK)
        p11_config_free(cfg);
    return rv;
}

CK_RV p11_config_parse(const uint8_t *buf, size_t len, p11_config *cfg, char *err, size_t cap)
{
    return parse(buf, len, cfg, err, cap, 0);
}

static CK_RV load_file(const char *path, p11_config *cfg, char *err, size_t cap)
{
    char msg[400];
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, cap, "%s: cannot open (%s)", path, strerror(errno));
        return CKR_GENERAL_ERROR;
    }
    uint8_t *buf = malloc(MAX_CONFIG_SIZE + 1);
    size_t n = buf ? fread(buf, 1, MAX_CONFIG_SIZE + 1, f) : 0;
    int ioerr = ferror(f);
    fclose(f);
    CK_RV rv;
    if (!buf)
        rv = CKR_HOST_MEMORY;
    else if (ioerr || n > MAX_CONFIG_SIZE) {
        snprintf(err, cap, "%s: %s", path, ioerr ? "read error" : "larger than 1 MiB");
        rv = CKR_GENERAL_ERROR;
    } else if ((rv = parse(buf, n, cfg, msg, sizeof(msg), 1)) != CKR_OK) {
        snprintf(err, cap, "%s: %s", path, msg);
    } else if (!(cfg->source = strdup(path))) {
        p11_config_free(cfg);
        rv = CKR_HOST_MEMORY;
    }
    if (buf) {
        explicit_bzero(buf, n < MAX_CONFIG_SIZE ? n : MAX_CONFIG_SIZE);
        free(buf);
    }
    return rv;
}

CK_RV p11_config_load(p11_config *cfg, char *err, size_t cap)
{
    const char *env = getenv("GREP11_CLIENT_CONFIG");
    char exe[PATH_MAX], cand[3][PATH_MAX + 32];
    size_t ncand = 0;
    memset(cfg, 0, sizeof(*cfg));
    if (env && env[0])
        return load_file(env, cfg, err, cap);
    snprintf(cand[ncand++], sizeof(cand[0]), "grep11client.yaml");
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(cand[ncand++], sizeof(cand[0]), "%s/grep11client.yaml", exe);
        }
    }
    snprintf(cand[ncand++], sizeof(cand[0]), "/etc/ep11client/grep11client.yaml");
    for (size_t i = 0; i < ncand; i++)
        if (access(cand[i], F_OK) == 0)
            return load_file(cand[i], cfg, err, cap);
    snprintf(err, cap,
             "no grep11client.yaml found ($GREP11_CLIENT_CONFIG unset; looked in the current "
             "directory, the program's directory and /etc/ep11client/)");
    return CKR_GENERAL_ERROR;
}

static void user_free(p11_user_cfg *u)
{
    free(u->name);
    free(u->tokenspace_id);
    free(u->iam_endpoint);
    free_secret(&u->apikey);
    free_secret(&u->tokenspace_password);
    memset(u, 0, sizeof(*u));
}

void p11_config_free(p11_config *cfg)
{
    for (size_t i = 0; cfg->tokens && i < cfg->ntokens; i++) {
        p11_token_cfg *t = &cfg->tokens[i];
        free(t->label);
        free(t->address);
        free(t->cacert);
        free(t->certfile);
        free(t->keyfile);
        for (int u = 0; u < 3; u++)
            user_free(&t->users[u]);
    }
    free(cfg->tokens);
    free(cfg->logpath);
    free(cfg->source);
    memset(cfg, 0, sizeof(*cfg));
}

CK_RV p11_config_check_files(const p11_config *cfg, char *err, size_t cap)
{
    for (size_t i = 0; i < cfg->ntokens; i++) {
        const p11_token_cfg *t = &cfg->tokens[i];
        const char *files[3] = {t->cacert, t->certfile, t->keyfile};
        static const char *const keys[3] = {"cacert", "certfile", "keyfile"};
        /* An https:// IAM endpoint is verified against cacert even when the
         * grep11 connection itself is plaintext. */
        int tls = t->tls_enabled;
        for (int u = 0; u < 3; u++)
            tls |= t->users[u].iam_kind == P11_IAM_HTTPS;
        for (int k = 0; tls && k < 3; k++) {
            if (files[k] && access(files[k], R_OK) != 0) {
                snprintf(err, cap, "%s: tokens.%lu.grep11connection.tls.%s: cannot read %s",
                         cfg->source ? cfg->source : "configuration", (unsigned long)t->slot,
                         keys[k], files[k]);
                return CKR_ARGUMENTS_BAD;
            }
        }
    }
    return CKR_OK;
}

const p11_token_cfg *p11_config_token(const p11_config *cfg, CK_SLOT_ID slot)
{
    for (size_t i = 0; i < cfg->ntokens; i++)
        if (cfg->tokens[i].slot == slot)
            return &cfg->tokens[i];
    return NULL;
}
