#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "devsetup.h"
#include "directory.h"
#include "journal.h"
#include "version.h"

void config_tls_paths(const server_config *cfg, char *cert, size_t cert_cap, char *key,
                      size_t key_cap)
{
    if (cfg->tls_cert) {
        snprintf(cert, cert_cap, "%s", cfg->tls_cert);
        snprintf(key, key_cap, "%s", cfg->tls_key);
    } else {
        snprintf(cert, cert_cap, "%s/%s/server.pem", cfg->data_dir, DEV_TLS_DIR);
        snprintf(key, key_cap, "%s/%s/server-key.pem", cfg->data_dir, DEV_TLS_DIR);
    }
}

void config_defaults(server_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen = strdup(CONFIG_DEFAULT_LISTEN);
    cfg->data_dir = strdup(CONFIG_DEFAULT_DATA_DIR);
    cfg->log_level = LOG_LEVEL_INFO;
    cfg->max_message = CONFIG_DEFAULT_MAX_MESSAGE;
    cfg->auth_enabled = 1;
    cfg->token_ttl_s = CONFIG_DEFAULT_TOKEN_TTL;
    cfg->key_cache = CONFIG_DEFAULT_KEY_CACHE;
    cfg->batch = 1;
    cfg->spin_us = CONFIG_DEFAULT_SPIN_US;
    cfg->store_max_objects = STORE_DEFAULT_MAX_OBJECTS;
    cfg->store_max_bytes = STORE_DEFAULT_MAX_BYTES;
}

void config_engine_policy(const server_config *cfg, engine_policy *pol)
{
    memset(pol, 0, sizeof(*pol));
    /* For conformance suites and old applications only: keys strict
     * policy calls too weak (README, policy_profile). */
    if (cfg->legacy_policy) {
        pol->min_rsa_bits = CONFIG_LEGACY_MIN_RSA_BITS;
        pol->min_generic_secret_bytes = 1;
    }
    if (cfg->key_cache > 0)
        pol->key_cache_entries = (CK_ULONG)cfg->key_cache;
    else
        pol->flags |= ENGINE_POLICY_NO_KEY_CACHE;
}

void config_store_options(const server_config *cfg, store_options *so)
{
    memset(so, 0, sizeof(*so));
    so->max_objects = cfg->store_max_objects;
    so->max_bytes = cfg->store_max_bytes;
    /* Written by the server itself, never by a tenant: the identity
     * directory grows with the API keys administrators make, the custody
     * log with their commands, the audit trail with every audited call of
     * every tenant. A tenant's limit on them would let a tenant, or sheer
     * use, stop audit (and with it the calls that must be audited). */
    so->unlimited[0] = directory_keystore;
    so->unlimited[1] = custody_keystore;
    so->unlimited[2] = audit_keystore;
    so->n_unlimited = 3;
}

void config_free(server_config *cfg)
{
    free(cfg->listen);
    free(cfg->http_listen);
    free(cfg->instance_id);
    free(cfg->data_dir);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->tls_client_ca);
    free(cfg->master_key_file);
    free(cfg->custody_admin);
    free(cfg->store_url);
    memset(cfg, 0, sizeof(*cfg));
}

static void set_string(char **slot, const char *value)
{
    free(*slot);
    *slot = strdup(value);
}

static int parse_bool(const char *value, int *out)
{
    if (strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0 || strcasecmp(value, "yes") == 0)
        *out = 1;
    else if (strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0 ||
             strcasecmp(value, "no") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

/* A whole number in [min, max]; on anything else a reason naming the key
 * and the range (unit: " seconds" etc., or ""). */
static int parse_range(const char *key, const char *value, long min, long max, const char *unit,
                       long *out, char *err, size_t errlen)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < min || v > max) {
        snprintf(err, errlen, "%s: expected %ld..%ld%s, got '%s'", key, min, max, unit, value);
        return -1;
    }
    *out = v;
    return 0;
}

/* A byte count in 1..max: digits, then optionally K, M or G (binary, any
 * case) and i and/or B ("64MiB", "4G", "512KB", "1000"). */
static int parse_size(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end = NULL;
    errno = 0;
    if (*s == '-') /* strtoull would wrap it round */
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    unsigned long long mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        mul = 1024 * 1024, end++;
    else if (*end == 'g' || *end == 'G')
        mul = 1024 * 1024 * 1024, end++;
    if (*end == 'i' || *end == 'B')
        end++;
    if (*end == 'B')
        end++;
    if (*end != '\0' || v == 0 || v > max / mul)
        return -1;
    *out = v * mul;
    return 0;
}

/* Applies one "section.key = value" setting; -1 with a reason if unknown or
 * invalid. The YAML reader flattens nesting into dotted keys. */
static int config_apply(server_config *cfg, const char *key, const char *value, char *err,
                        size_t errlen)
{
    long v = 0;
    if (strcmp(key, "listen") == 0) {
        set_string(&cfg->listen, value);
    } else if (strcmp(key, "http_listen") == 0) {
        set_string(&cfg->http_listen, value);
    } else if (strcmp(key, "instance_id") == 0) {
        set_string(&cfg->instance_id, value);
    } else if (strcmp(key, "data_dir") == 0) {
        set_string(&cfg->data_dir, value);
    } else if (strcmp(key, "tls.cert") == 0) {
        set_string(&cfg->tls_cert, value);
    } else if (strcmp(key, "tls.key") == 0) {
        set_string(&cfg->tls_key, value);
    } else if (strcmp(key, "tls.client_ca") == 0) {
        set_string(&cfg->tls_client_ca, value);
    } else if (strcmp(key, "master_key_file") == 0) {
        set_string(&cfg->master_key_file, value);
    } else if (strcmp(key, "custody.admin") == 0) {
        set_string(&cfg->custody_admin, value);
    } else if (strcmp(key, "custody.enabled") == 0) {
        if (parse_bool(value, &cfg->custody_enabled) != 0) {
            snprintf(err, errlen, "%s: expected true or false", key);
            return -1;
        }
    } else if (strcmp(key, "batch") == 0) {
        if (parse_bool(value, &cfg->batch) != 0) {
            snprintf(err, errlen, "%s: expected true or false", key);
            return -1;
        }
    } else if (strcmp(key, "log_level") == 0) {
        if (log_level_parse(value, &cfg->log_level) != 0) {
            snprintf(err, errlen, "log_level: unknown level '%s'", value);
            return -1;
        }
    } else if (strcmp(key, "workers") == 0) {
        if (parse_range(key, value, 0, 256, "", &v, err, errlen) != 0)
            return -1;
        cfg->workers = (int)v;
    } else if (strcmp(key, "spin") == 0) {
        if (parse_range(key, value, 0, 10000, " microseconds", &v, err, errlen) != 0)
            return -1;
        cfg->spin_us = (int)v;
    } else if (strcmp(key, "key_cache") == 0) {
        if (parse_range(key, value, 0, 1000000, " entries", &v, err, errlen) != 0)
            return -1;
        cfg->key_cache = v;
    } else if (strcmp(key, "max_connections") == 0) {
        if (parse_range(key, value, 0, 1048576, " connections (0: from the descriptor limit)", &v,
                        err, errlen) != 0)
            return -1;
        cfg->max_connections = (unsigned)v;
    } else if (strcmp(key, "max_message_size") == 0) {
        unsigned long long n = 0;
        if (parse_size(value, 1ull << 31, &n) != 0) {
            snprintf(err, errlen, "max_message_size: invalid size '%s'", value);
            return -1;
        }
        cfg->max_message = (size_t)n;
    } else if (strcmp(key, "policy_profile") == 0) {
        if (strcmp(value, "strict") != 0 && strcmp(value, "legacy") != 0) {
            snprintf(err, errlen, "policy_profile: expected strict or legacy, got '%s'", value);
            return -1;
        }
        cfg->legacy_policy = strcmp(value, "legacy") == 0;
    } else if (strcmp(key, "store") == 0) {
        set_string(&cfg->store_url, value);
    } else if (strcmp(key, "store_max_objects") == 0) {
        if (parse_range(key, value, 1, 1000000000L, " objects", &v, err, errlen) != 0)
            return -1;
        cfg->store_max_objects = (uint64_t)v;
    } else if (strcmp(key, "store_max_bytes") == 0) {
        unsigned long long n = 0;
        if (parse_size(value, 1ull << 50, &n) != 0) {
            snprintf(err, errlen,
                     "store_max_bytes: expected a size such as 4GiB (at most 2^50 bytes), got '%s'",
                     value);
            return -1;
        }
        cfg->store_max_bytes = n;
    } else if (strcmp(key, "auth.token_ttl") == 0) {
        if (parse_range(key, value, 1, 86400, " seconds", &v, err, errlen) != 0)
            return -1;
        cfg->token_ttl_s = (unsigned)v;
    } else if (strcmp(key, "insecure") == 0 || strcmp(key, "dev") == 0 ||
               strcmp(key, "auth.enabled") == 0) {
        int *slot = key[0] == 'i' ? &cfg->insecure : key[0] == 'd' ? &cfg->dev : &cfg->auth_enabled;
        if (parse_bool(value, slot) != 0) {
            snprintf(err, errlen, "%s: expected true or false", key);
            return -1;
        }
    } else {
        snprintf(err, errlen, "unknown setting '%s'", key);
        return -1;
    }
    return 0;
}

int config_load_yaml(server_config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open config %s: %s", path, strerror(errno));
        return -1;
    }
    yaml_parser_t parser;
    yaml_event_t ev;
    int rc = -1, done = 0, depth = 0;
    char section[128] = "", key[128] = "";
    int have_key = 0;
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        snprintf(err, errlen, "yaml: out of memory");
        return -1;
    }
    yaml_parser_set_input_file(&parser, f);
    while (!done) {
        if (!yaml_parser_parse(&parser, &ev)) {
            snprintf(err, errlen, "%s:%zu: %s", path, parser.problem_mark.line + 1,
                     parser.problem ? parser.problem : "syntax error");
            goto out;
        }
        switch (ev.type) {
        case YAML_MAPPING_START_EVENT:
            depth++;
            if (depth == 2) {
                if (!have_key || depth > 2) {
                    snprintf(err, errlen, "%s: unexpected nested mapping", path);
                    yaml_event_delete(&ev);
                    goto out;
                }
                snprintf(section, sizeof(section), "%s", key);
                have_key = 0;
            } else if (depth > 2) {
                snprintf(err, errlen, "%s: nesting deeper than two levels", path);
                yaml_event_delete(&ev);
                goto out;
            }
            break;
        case YAML_MAPPING_END_EVENT:
            if (depth == 2)
                section[0] = '\0';
            depth--;
            break;
        case YAML_SEQUENCE_START_EVENT:
            snprintf(err, errlen, "%s: lists are not valid here", path);
            yaml_event_delete(&ev);
            goto out;
        case YAML_SCALAR_EVENT: {
            const char *v = (const char *)ev.data.scalar.value;
            if (!have_key) {
                snprintf(key, sizeof(key), "%s", v);
                have_key = 1;
            } else {
                char full[300];
                if (section[0])
                    snprintf(full, sizeof(full), "%s.%s", section, key);
                else
                    snprintf(full, sizeof(full), "%s", key);
                have_key = 0;
                if (config_apply(cfg, full, v, err, errlen) != 0) {
                    yaml_event_delete(&ev);
                    goto out;
                }
            }
            break;
        }
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    rc = 0;
out:
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

static void usage(FILE *to)
{
    fprintf(to,
            "Usage: grep11d [options]\n"
            "  -c, --config FILE      YAML configuration file\n"
            "  -l, --listen HOST:PORT address to listen on (default %s)\n"
            "      --http-listen HOST:PORT  also serve the HTTPS front there (IAM-style\n"
            "                         POST /identity/token, /healthz, /readyz); off by default\n"
            "  -d, --data-dir DIR     data directory (default %s)\n"
            "      --dev              development mode: create a development master\n"
            "                         key, CA and server certificate in DIR on first start\n"
            "      --insecure         serve plaintext gRPC (no TLS); never in production\n"
            "      --workers N        calls computing at once, four threads each\n"
            "                         (default: one per core)\n"
            "      --spin US          after a call, poll for the next one this many\n"
            "                         microseconds before sleeping (default %d; 0: never)\n"
            "      --key-cache N      OpenSSL keys the engine keeps built (default 1024;\n"
            "                         0: none, every call rebuilds its key)\n"
            "      --max-connections N  client connections at once; more are refused\n"
            "                         (UNAVAILABLE). Default: what the descriptor limit\n"
            "                         leaves after a reserve for the keystore database,\n"
            "                         the HTTP front and a margin (logged at start)\n"
            "      --no-batch         do not serve grep11.Batch (clients then send\n"
            "                         every call alone)\n"
            "      --log-level LEVEL  error|warn|info|debug\n"
            "  -h, --help             this text\n"
            "  -V, --version          print the version\n",
            CONFIG_DEFAULT_LISTEN, CONFIG_DEFAULT_DATA_DIR, CONFIG_DEFAULT_SPIN_US);
}

int config_parse_args(server_config *cfg, int argc, char **argv)
{
    enum {
        OPT_DEV = 256,
        OPT_INSECURE,
        OPT_WORKERS,
        OPT_LOG_LEVEL,
        OPT_KEY_CACHE,
        OPT_NO_BATCH,
        OPT_SPIN,
        OPT_HTTP_LISTEN,
        OPT_MAX_CONNECTIONS
    };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"http-listen", required_argument, NULL, OPT_HTTP_LISTEN},
        {"data-dir", required_argument, NULL, 'd'},
        {"dev", no_argument, NULL, OPT_DEV},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"workers", required_argument, NULL, OPT_WORKERS},
        {"spin", required_argument, NULL, OPT_SPIN},
        {"key-cache", required_argument, NULL, OPT_KEY_CACHE},
        {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
        {"no-batch", no_argument, NULL, OPT_NO_BATCH},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    char err[512];
    /* The config file is read first so that every other flag overrides it,
     * wherever it stands on the command line. */
    for (int i = 1; i < argc; i++) {
        const char *path = NULL;
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
            path = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        if (path && config_load_yaml(cfg, path, err, sizeof(err)) != 0) {
            fprintf(stderr, "grep11d: %s\n", err);
            return -1;
        }
    }
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:l:d:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            break;
        case 'l':
            set_string(&cfg->listen, optarg);
            break;
        case 'd':
            set_string(&cfg->data_dir, optarg);
            break;
        case OPT_HTTP_LISTEN:
            set_string(&cfg->http_listen, optarg);
            break;
        case OPT_DEV:
            cfg->dev = 1;
            break;
        case OPT_INSECURE:
            cfg->insecure = 1;
            break;
        case OPT_NO_BATCH:
            cfg->batch = 0;
            break;
        case OPT_WORKERS:
        case OPT_SPIN:
        case OPT_LOG_LEVEL:
        case OPT_KEY_CACHE:
        case OPT_MAX_CONNECTIONS:
            if (config_apply(cfg,
                             c == OPT_WORKERS           ? "workers"
                             : c == OPT_SPIN            ? "spin"
                             : c == OPT_KEY_CACHE       ? "key_cache"
                             : c == OPT_MAX_CONNECTIONS ? "max_connections"
                                                        : "log_level",
                             optarg, err, sizeof(err)) != 0) {
                fprintf(stderr, "grep11d: %s\n", err);
                return -1;
            }
            break;
        case 'h':
            usage(stdout);
            return 1;
        case 'V':
            printf("grep11d %s\n", GREP11_VERSION);
            return 1;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "grep11d: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return -1;
    }
    return 0;
}

int config_validate(const server_config *cfg, char *err, size_t errlen)
{
    if (cfg->instance_id && strlen(cfg->instance_id) >= 128) {
        snprintf(err, errlen, "instance_id: at most 127 characters");
        return -1;
    }
    if (cfg->http_listen && !strchr(cfg->http_listen, ':')) {
        snprintf(err, errlen, "http_listen: expected HOST:PORT");
        return -1;
    }
    if (!cfg->listen || !strchr(cfg->listen, ':')) {
        snprintf(err, errlen, "listen: expected HOST:PORT");
        return -1;
    }
    if (!cfg->data_dir || !cfg->data_dir[0]) {
        snprintf(err, errlen, "data_dir: must be set");
        return -1;
    }
    if (!cfg->insecure && !cfg->dev && (!cfg->tls_cert || !cfg->tls_key)) {
        snprintf(err, errlen,
                 "TLS needs tls.cert and tls.key (or --dev to generate them, "
                 "or --insecure for plaintext)");
        return -1;
    }
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
        snprintf(err, errlen, "tls.cert and tls.key must be given together");
        return -1;
    }
    if (cfg->insecure && cfg->tls_client_ca) {
        snprintf(err, errlen, "tls.client_ca (mutual TLS) cannot be used with --insecure");
        return -1;
    }
    return 0;
}
