/* grep11client.yaml (DESIGN §6): the schema as C values, the search order
 * and the loader. */
#ifndef P11_CONFIG_H
#define P11_CONFIG_H

#include <p11-kit/pkcs11.h>
#include <stddef.h>
#include <stdint.h>

/* Log levels, most severe first (logging.loglevel). */
typedef enum {
    P11_LOG_PANIC,
    P11_LOG_FATAL,
    P11_LOG_ERROR,
    P11_LOG_WARN,
    P11_LOG_INFO,
    P11_LOG_DEBUG,
    P11_LOG_TRACE,
} p11_loglevel;

/* Users by index under `users:` (the PKCS #11 user types CKU_SO, CKU_USER,
 * and the anonymous user the module acts as without login). */
#define P11_USER_SO 0
#define P11_USER_NORMAL 1
#define P11_USER_ANON 2
#define P11_USERS 3

/* How a user's API key becomes a bearer token (iamauth.endpoint). */
typedef enum {
    P11_IAM_GRPC,  /* grep11.Auth/Token at a host:port (or the token's address) */
    P11_IAM_HTTPS, /* IAM's POST /identity/token at an https:// URL */
    P11_IAM_HTTP,  /* the same in clear: only when grep11connection.tls is off */
} p11_iam_kind;

typedef struct {
    int present;
    char *name;
    char *tokenspace_id; /* keystore UUID (users 1 and 2) */
    int iam_enabled;     /* iamauth.enabled: API keys and bearer tokens in use */
    char *iam_endpoint;  /* iamauth.endpoint, canonical: "host:port" (P11_IAM_GRPC) or
                            "https://host:port/prefix" (P11_IAM_HTTP[S]); NULL: the
                            token's address over gRPC */
    p11_iam_kind iam_kind;
    char *apikey; /* iamauth.apikey (the anonymous user's key); secret */
    int sessionauth_enabled;
    char *tokenspace_password; /* sessionauth.tokenspaceIDPassword; secret */
} p11_user_cfg;

typedef struct {
    CK_SLOT_ID slot; /* the key under tokens: */
    char *label;     /* tokens.N.label, default "grep11 token N" */
    char *address;   /* host:port */
    int tls_enabled; /* default true */
    int tls_mutual;
    char *cacert, *certfile, *keyfile;
    int timeout_ms;     /* grep11connection.timeout (ms), default 30000 */
    int channels;       /* grep11connection.channels (TCP connections), default 1 */
    int spin_us;        /* grep11connection.spin as g11c_options.spin_us (0: default) */
    int batch_inflight; /* grep11connection.batch as g11c_options.batch_inflight */
    int remotestore;    /* storage.remotestore.enabled */
    p11_user_cfg users[P11_USERS];
} p11_token_cfg;

typedef struct {
    p11_token_cfg *tokens; /* sorted by slot */
    size_t ntokens;
    p11_loglevel loglevel; /* default warning */
    char *logpath;         /* NULL: no log; "stderr": the host's stderr */
    int grpc_log;          /* logging.grpc: route gRPC's log into ours (default true) */
    char *source;          /* the file it came from */
} p11_config;

/* Parses a document held in memory. On failure returns CKR_ARGUMENTS_BAD
 * (invalid setting) or CKR_GENERAL_ERROR (unreadable YAML) with one message
 * naming the key (or the line) in err. */
CK_RV p11_config_parse(const uint8_t *buf, size_t len, p11_config *cfg, char *err, size_t cap);

/* Finds and loads grep11client.yaml: $GREP11_CLIENT_CONFIG, ./, the running
 * program's directory, /etc/ep11client/. On failure cfg may still hold the
 * file's logging settings (nothing else), so that the error can be logged
 * where the file asks: p11_config_free it either way. */
CK_RV p11_config_load(p11_config *cfg, char *err, size_t cap);

/* The files the configuration names (TLS material) are readable. */
CK_RV p11_config_check_files(const p11_config *cfg, char *err, size_t cap);

/* Frees everything, zeroizing secrets. */
void p11_config_free(p11_config *cfg);

const p11_token_cfg *p11_config_token(const p11_config *cfg, CK_SLOT_ID slot);

#endif
