/* grep11d: configuration, master key, engine, transport, signals. */
#include <fcntl.h>
#include <grpc/grpc.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "custody/custody.h"
#include "devsetup.h"
#include "engine.h"
#include "fdbudget.h"
#include "grep11/grpc_runtime.h"
#include "http/http.h"
#include "log.h"
#include "server.h"
#include "services.h"

#define DRAIN_GRACE_MS 5000

static void warn_dev_key(const char *data_dir, int created)
{
    log_warn("msg=\"DEVELOPMENT MODE: the master key in %s/%s is kept in a plain file. "
             "Anyone who can read it can unwrap every key this server made. Never use --dev "
             "for real keys.\"%s",
             data_dir, DEV_WK_FILE, created ? " created=1" : "");
    fprintf(stderr,
            "\n"
            "  ***************************************************************\n"
            "  *  DEVELOPMENT MASTER KEY %-7s                             *\n"
            "  *  It is stored unprotected in the data directory. Never keep *\n"
            "  *  production keys under it.                                  *\n"
            "  ***************************************************************\n\n",
            created ? "CREATED" : "IN USE");
}

/* Loads the wrapping key (development file or configured file) into an
 * engine; the clear key is wiped before returning. */
static int open_engine(const server_config *cfg, engine **eng, char *err, size_t errlen)
{
    uint8_t wk[32];
    char path[4200];
    if (cfg->master_key_file)
        snprintf(path, sizeof(path), "%s", cfg->master_key_file);
    else
        snprintf(path, sizeof(path), "%s/%s", cfg->data_dir, DEV_WK_FILE);
    if (masterkey_read_file(path, wk, err, errlen) != 0)
        return -1;
    engine_policy pol;
    config_engine_policy(cfg, &pol);
    CK_RV rv = engine_create(wk, &pol, eng);
    OPENSSL_cleanse(wk, sizeof(wk));
    if (rv != CKR_OK) {
        snprintf(err, errlen, "engine start failed (CK_RV 0x%lx)", (unsigned long)rv);
        return -1;
    }
    return 0;
}

/* --dev: the first start makes an API key with every role, writes it to
 * DIR/dev-apikey (0600) and prints it once. */
static int dev_bootstrap_key(const server_config *cfg, services *svc, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/dev-apikey", cfg->data_dir);
    if (access(path, F_OK) == 0)
        return 0;
    char key[AUTH_API_KEY_MAX];
    CK_RV rv =
        directory_create_key(svc->dir, "dev-admin", AUTH_ROLE_ALL, NULL, 0, NULL, NULL, key, NULL);
    if (rv != CKR_OK) {
        snprintf(err, errlen, "cannot create the development API key (0x%lx)", (unsigned long)rv);
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    int ok =
        fd >= 0 && write(fd, key, strlen(key)) == (ssize_t)strlen(key) && write(fd, "\n", 1) == 1;
    if (fd >= 0)
        close(fd);
    if (ok)
        printf("Development API key (all roles), shown once and kept in %s:\n  %s\n", path, key);
    OPENSSL_cleanse(key, sizeof(key));
    if (!ok) {
        snprintf(err, errlen, "cannot write %s/dev-apikey", cfg->data_dir);
        return -1;
    }
    return 0;
}

static void write_addr_file(const server_config *cfg, const char *name, const char *addr)
{
    char path[4200], tmp[4300];
    snprintf(path, sizeof(path), "%s/%s", cfg->data_dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fprintf(f, "%s\n", addr);
    if (fclose(f) == 0)
        rename(tmp, path);
}

static void print_connect_help(const server_config *cfg, const char *addr)
{
    printf("grep11d listening on %s (%s)\n", addr,
           cfg->insecure        ? "plaintext, --insecure"
           : cfg->tls_client_ca ? "mutual TLS"
                                : "TLS");
    if (!cfg->insecure && !cfg->tls_cert)
        printf("  clients trust the CA in %s/%s/ca.pem\n", cfg->data_dir, DEV_TLS_DIR);
    printf("  try: grep11ctl --address %s%s%s%s random 32\n", addr,
           cfg->insecure ? " --insecure" : "", cfg->insecure || cfg->tls_cert ? "" : " --data-dir ",
           cfg->insecure || cfg->tls_cert ? "" : cfg->data_dir);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    server_config cfg;
    engine *eng = NULL;
    server *srv = NULL;
    http_front *http = NULL;
    services *svc = NULL;
    char err[512] = "";
    int rc = 1, port = 0;

    /* Block the stop signals before any thread exists (gRPC's included), so
     * that only sigwait below ever sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    config_defaults(&cfg);
    int a = config_parse_args(&cfg, argc, argv);
    if (a != 0) {
        config_free(&cfg);
        return a > 0 ? 0 : 2;
    }
    if (config_validate(&cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "grep11d: %s\n", err);
        config_free(&cfg);
        return 2;
    }
    log_init(cfg.log_level);
    /* Before anything opens a descriptor: the limit sizes the HTTP front. */
    fdbudget fdb;
    fdbudget_raise(&fdb);

    if (cfg.dev) {
        int created = 0;
        if (dev_prepare(cfg.data_dir, &created, err, sizeof(err)) != 0) {
            log_error("msg=\"development setup failed: %s\"", err);
            goto out;
        }
        if (!cfg.master_key_file && !cfg.custody_enabled)
            warn_dev_key(cfg.data_dir, created);
    } else if (dev_mkdirs(cfg.data_dir, err, sizeof(err)) != 0) {
        log_error("msg=\"%s\"", err);
        goto out;
    }
    if (engine_self_test() != CKR_OK) {
        log_error("msg=\"engine self-test failed: refusing to start\"");
        goto out;
    }
    /* Outside --dev (or with custody.enabled) the WK is held under custody:
     * no engine until key owners unlock the instance. */
    int custody_mode = !cfg.dev || cfg.custody_enabled;
    if (!cfg.dev && cfg.master_key_file) {
        log_error("msg=\"master_key_file (a plain-file master key) is for --dev only: outside it "
                  "the master key is held under custody (README, Master-key custody)\"");
        goto out;
    }
    if (!custody_mode && open_engine(&cfg, &eng, err, sizeof(err)) != 0) {
        log_error("msg=\"%s\"", err);
        goto out;
    }

    if (services_open(&cfg, eng, &svc, err, sizeof(err)) != CKR_OK ||
        custody_open(&cfg, svc, eng, &svc->cust, err, sizeof(err)) != CKR_OK) {
        log_error("msg=\"%s\"", err);
        goto out;
    }
    if (!cfg.auth_enabled)
        log_warn("msg=\"authentication is OFF (auth.enabled: false): every caller may do "
                 "everything\"");
    if (cfg.dev && !custody_mode && dev_bootstrap_key(&cfg, svc, err, sizeof(err)) != 0) {
        log_error("msg=\"%s\"", err);
        goto out;
    }

    grep11_grpc_init();
    if (server_start(&cfg, svc, &srv, &port, err, sizeof(err)) != 0) {
        log_error("msg=\"%s\"", err);
        grpc_shutdown();
        goto out;
    }
    if (cfg.http_listen) {
        unsigned hport = 0;
        if (http_front_start(&cfg, svc, fdb.http_connections, &http, &hport, err, sizeof(err)) !=
            0) {
            log_error("msg=\"%s\"", err);
            server_stop(srv, 0);
            grpc_shutdown();
            goto out;
        }
        char haddr[300];
        snprintf(haddr, sizeof(haddr), "%.*s:%u",
                 (int)(strrchr(cfg.http_listen, ':') - cfg.http_listen), cfg.http_listen, hport);
        log_info("msg=\"serving HTTP\" addr=%s tls=%s", haddr, cfg.insecure ? "off" : "on");
        write_addr_file(&cfg, "grep11d.http-addr", haddr);
    }
    /* Everything else has started: what is open now is known, and client
     * connections get what the limit leaves after the reserve. */
    if (fdbudget_plan(&fdb, cfg.max_connections, STORE_DEFAULT_POOL, cfg.http_listen != NULL, err,
                      sizeof(err)) != 0 ||
        server_accept(srv, fdb.max_connections, err, sizeof(err)) != 0) {
        log_error("msg=\"%s\"", err);
        http_front_stop(http);
        server_stop(srv, 0);
        grpc_shutdown();
        goto out;
    }
    char addr[300];
    snprintf(addr, sizeof(addr), "%.*s:%d", (int)(strrchr(cfg.listen, ':') - cfg.listen),
             cfg.listen, port);
    log_info("msg=\"serving\" addr=%s tls=%s", addr,
             cfg.insecure        ? "off"
             : cfg.tls_client_ca ? "mutual"
                                 : "on");
    write_addr_file(&cfg, "grep11d.addr", addr);
    print_connect_help(&cfg, addr);

    int sig = 0;
    sigwait(&stop, &sig);
    log_info("msg=\"signal %d: draining\"", sig);
    http_front_stop(http);
    server_stop(srv, DRAIN_GRACE_MS);
    grpc_shutdown();
    log_info("msg=\"stopped\"");
    rc = 0;
out:
    if (svc)
        custody_close(svc->cust);
    services_close(svc);
    if (eng)
        engine_destroy(eng);
    config_free(&cfg);
    return rc;
}
