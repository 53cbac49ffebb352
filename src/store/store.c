/* The store's front: open (backend choice, defaults, pool, migrations) and
 * close. Everything a store owns hangs off struct store; there is no
 * global state, so a process may open several stores. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "internal.h"
#include "sql.h"

#define DEFAULT_POOL STORE_DEFAULT_POOL
#define MAX_POOL 64
#define DEFAULT_CONNECT_TIMEOUT 2
#define DEFAULT_BUSY_TIMEOUT_MS 5000
#define DEFAULT_KDF_LOG2N 15 /* ~75 ms and 32 MiB per derivation here */
#define DEFAULT_CACHE_TTL 120
#define DEFAULT_CACHE_SIZE 256

static unsigned or_default(unsigned v, unsigned dflt)
{
    return v ? v : dflt;
}

CK_RV store_open(const char *url, const store_options *opt, store **out)
{
    static const store_options none;
    const db_backend *be;
    db_config cfg;
    store *st = NULL;
    CK_RV rv;

    if (url == NULL || out == NULL)
        return CKR_ARGUMENTS_BAD;
    *out = NULL;
    if (opt == NULL)
        opt = &none;
    memset(&cfg, 0, sizeof(cfg));
    if (strncmp(url, "sqlite:", 7) == 0) {
        be = &db_sqlite_backend;
        cfg.target = url + 7;
        if (cfg.target[0] == '\0')
            return CKR_ARGUMENTS_BAD;
    } else {
        be = &db_pg_backend;
        cfg.target = url;
    }
    st = calloc(1, sizeof(*st));
    if (st == NULL)
        return CKR_HOST_MEMORY;
    st->log = opt->log;
    st->log_ctx = opt->log_ctx;
    st->kdf_log2n = or_default(opt->kdf_log2n, DEFAULT_KDF_LOG2N);
    quota_init(&st->q, opt);
    cfg.target = strdup(cfg.target);
    if (cfg.target == NULL) {
        free(st);
        return CKR_HOST_MEMORY;
    }
    /* libpq refuses to wait less than 2 s */
    cfg.connect_timeout_s = or_default(opt->connect_timeout_s, DEFAULT_CONNECT_TIMEOUT);
    if (cfg.connect_timeout_s < 2)
        cfg.connect_timeout_s = 2;
    cfg.busy_timeout_ms = or_default(opt->busy_timeout_ms, DEFAULT_BUSY_TIMEOUT_MS);
    cfg.log = opt->log;
    cfg.log_ctx = opt->log_ctx;
    rv = keycache_init(&st->kc, or_default(opt->key_cache_size, DEFAULT_CACHE_SIZE),
                       or_default(opt->key_cache_ttl_s, DEFAULT_CACHE_TTL));
    if (rv != CKR_OK) {
        free((char *)cfg.target);
        free(st);
        return rv;
    }
    rv = pool_init(&st->pl, be, &cfg,
                   or_default(opt->pool_size, DEFAULT_POOL) > MAX_POOL
                       ? MAX_POOL
                       : or_default(opt->pool_size, DEFAULT_POOL));
    if (rv != CKR_OK) {
        free((char *)cfg.target);
        keycache_fini(&st->kc);
        free(st);
        return rv;
    }
    rv = sql_migrate(&st->pl);
    if (rv != CKR_OK) {
        store_close(st);
        return rv;
    }
    *out = st;
    return CKR_OK;
}

void store_close(store *st)
{
    if (st == NULL)
        return;
    /* the pool's copy of cfg owns the target string (it may be a conninfo
     * with a database password) */
    char *target = (char *)st->pl.cfg.target;
    pool_fini(&st->pl);
    if (target != NULL) {
        OPENSSL_cleanse(target, strlen(target));
        free(target);
    }
    keycache_fini(&st->kc);
    OPENSSL_cleanse(st, sizeof(*st));
    free(st);
}
