/* grep11d configuration: compiled-in defaults, then the YAML file, then the
 * command line, each overriding the one before. */
#ifndef GREP11_SERVER_CONFIG_H
#define GREP11_SERVER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "log.h"
#include "store.h"

#define CONFIG_DEFAULT_LISTEN "127.0.0.1:9876"
#define CONFIG_DEFAULT_DATA_DIR "grep11-data"
#define CONFIG_DEFAULT_MAX_MESSAGE (64u * 1024u * 1024u)
#define CONFIG_DEFAULT_TOKEN_TTL 1200u
#define CONFIG_DEFAULT_KEY_CACHE 1024L
#define CONFIG_DEFAULT_SPIN_US 100

typedef struct {
    char *listen; /* host:port; port 0 picks a free port */
    char *data_dir;
    char *tls_cert;        /* PEM server certificate chain */
    char *tls_key;         /* PEM private key */
    char *tls_client_ca;   /* set: mutual TLS required */
    char *master_key_file; /* 32-byte WK in a plain file: --dev only */
    int custody_enabled;   /* custody.enabled: with --dev, custody instead of the dev key */
    char *custody_admin;   /* custody.admin: imprint this administrator at first start */
    log_level log_level;
    int workers;                /* calls computing at once (4 threads each); 0: one per core */
    int spin_us;                /* poll without sleeping this long after a call; 0: never */
    long key_cache;             /* engine key cache entries; 0: off (default 1024) */
    size_t max_message;         /* bytes, both directions */
    unsigned max_connections;   /* gRPC client connections at once; 0: from the
                                   descriptor limit (fdbudget.h) */
    char *store_url;            /* "sqlite:FILE" or a PostgreSQL URI; NULL: DIR/keystore.db */
    uint64_t store_max_objects; /* objects per keystore (STORE_DEFAULT_MAX_OBJECTS) */
    uint64_t store_max_bytes;   /* bytes per keystore as the store counts them (4 GiB) */
    int auth_enabled;           /* bearer tokens required (default on) */
    unsigned token_ttl_s;       /* bearer token lifetime (default 1200) */
    int dev;                    /* --dev: create WK, CA and certs on first start */
    int insecure;               /* --insecure: plaintext; explicit only */
    int batch;                  /* serve grep11.Batch (default on; --no-batch) */
    char *http_listen;          /* HTTPS front host:port (IAM token, health); NULL: none */
    char *instance_id;          /* calls naming another bluemix-instance are refused; NULL: any */
    int legacy_policy; /* policy_profile: legacy (RSA from 1024 bits, secrets from 1 byte) */
} server_config;

/* The engine policy every engine of this server is created with. */
#define CONFIG_LEGACY_MIN_RSA_BITS 1024
void config_engine_policy(const server_config *cfg, engine_policy *pol);

/* The options every keystore database of this server is opened with
 * (log function left NULL): the tenant limits, from which the server's own
 * keystores are exempt. */
void config_store_options(const server_config *cfg, store_options *so);

/* The server certificate and key files: tls.cert and tls.key, or under
 * --dev the ones it made in DIR/tls. Shared by both listeners. */
void config_tls_paths(const server_config *cfg, char *cert, size_t cert_cap, char *key,
                      size_t key_cap);

/* Fills compiled-in defaults. */
void config_defaults(server_config *cfg);

/* Merges a YAML file into cfg. On failure writes a one-line reason to err
 * and returns -1; cfg may be partly updated but stays freeable. */
int config_load_yaml(server_config *cfg, const char *path, char *err, size_t errlen);

/* Parses the command line. Returns 0 to run, 1 when --help/--version was
 * printed (exit 0), -1 on a usage error (reason printed). */
int config_parse_args(server_config *cfg, int argc, char **argv);

/* Validates the final configuration; -1 with a reason in err. */
int config_validate(const server_config *cfg, char *err, size_t errlen);

void config_free(server_config *cfg);

#endif
