/* libgrep11: a C client for grep11d (and any GREP11 server).
 *
 * One function per GREP11 RPC, in plain C types: no protobuf or gRPC type
 * appears here. Every function returns a CK_RV: the server's Grep11Error code
 * when it sent one, CKR_DEVICE_ERROR when the server could not be reached
 * or its answer was lost. A call that failed in the transport is sent again
 * (once, within its deadline) when it never left this process, when it is
 * harmless to run twice (grep11.Crypto, reads, tokens), or when it is a
 * Store object write, which carries a RequestID (docs/internals/client.md,
 * "Resending"); any other call that may have run is reported, not resent.
 * A connection is thread-safe; open one and share it.
 *
 * Outputs are g11c_buf values owned by the caller (g11c_buf_free zeroizes
 * and frees them). Keys are the opaque blobs the server returned. */
#ifndef GREP11_CLIENT_H
#define GREP11_CLIENT_H

#include <p11-kit/pkcs11.h>
#include <stddef.h>
#include <stdint.h>

#include "grep11/ck_ext.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct g11c_conn g11c_conn;

typedef struct {
    const char *address;   /* "host:port" */
    int insecure;          /* plaintext gRPC (server started with --insecure) */
    const char *ca_file;   /* PEM roots to trust; NULL: the system's */
    const char *cert_file; /* client certificate for mutual TLS, or NULL */
    const char *key_file;  /* its private key */
    int timeout_ms;        /* per call; 0: 30 s */
    size_t max_message;    /* 0: 64 MiB */
    int channels;          /* TCP connections calls are spread over; 0: 1 (max 16) */
    int spin_us;           /* while a connection has one call in flight, its caller
                              polls this long for the reply before sleeping;
                              0: 200, negative: never */
    int batch_inflight;    /* RPCs a channel keeps in flight before it coalesces
                              further calls into grep11.Batch RPCs; 0: 2,
                              negative: never batch */
} g11c_options;

typedef struct {
    uint8_t *ptr;
    size_t len;
} g11c_buf;

typedef struct {
    const uint8_t *ptr;
    size_t len;
} g11c_bytes;

static inline g11c_bytes g11c_bytes_of(const g11c_buf *b)
{
    g11c_bytes r = {b->ptr, b->len};
    return r;
}

void g11c_buf_free(g11c_buf *b);

/* A mechanism and its GREP11 parameter (at most one kind is used). */
typedef enum {
    G11C_PARAM_NONE,
    G11C_PARAM_BYTES, /* Mechanism.ParameterB */
    G11C_PARAM_RSA_OAEP,
    G11C_PARAM_RSA_PSS,
    G11C_PARAM_ECDH1, /* ECDH1DeriveParm */
    G11C_PARAM_KYBER, /* KyberKEMParm */
    G11C_PARAM_BTC,   /* BTCDeriveParm (CKM_IBM_BTC_DERIVE) */
    G11C_PARAM_ECSG,  /* ECSGParm (CKM_IBM_ECDSA_OTHER) */
} g11c_param_kind;

typedef struct {
    CK_MECHANISM_TYPE type;
    g11c_param_kind kind;
    g11c_bytes bytes;
    struct {
        CK_MECHANISM_TYPE hash;
        CK_ULONG mgf;
        g11c_bytes label;
    } oaep;
    struct {
        CK_MECHANISM_TYPE hash;
        CK_ULONG mgf;
        CK_ULONG salt_len;
    } pss;
    struct {
        CK_ULONG kdf;
        g11c_bytes shared_data, public_data;
    } ecdh;
    struct {
        CK_ULONG version, mode, kdf; /* mode 1 encapsulate, 2 decapsulate */
        CK_BBOOL prepend;
        g11c_bytes cipher_text, shared_data, blob;
    } kyber;
    struct {
        CK_ULONG type;         /* CK_IBM_BIP0032_* / CK_IBM_SLIP0010_* */
        uint64_t index;        /* child index (CK_IBM_BIP0032_HARDENED bit) */
        g11c_bytes chain_code; /* parent's; empty for MASTERK */
        CK_ULONG version;      /* 1 */
    } btc;
    struct {
        CK_ULONG type; /* ECSG_IBM_ECSDSA_S256 / ECSG_IBM_ECSDSA_COMPR_MULTI */
    } ecsg;
} g11c_mech;

/* Called with the server's error text whenever a call fails (for logging). */
typedef void (*g11c_error_hook)(void *arg, const char *method, CK_RV rv, const char *detail);
/* Supplies a bearer token for each call; return CKR_OK with a NUL-terminated
 * token in buf, or an error to fail the call without sending it. */
typedef CK_RV (*g11c_token_hook)(void *arg, char *buf, size_t cap);

CK_RV g11c_connect(const g11c_options *opt, g11c_conn **out);
void g11c_close(g11c_conn *c);
void g11c_set_error_hook(g11c_conn *c, g11c_error_hook fn, void *arg);
void g11c_set_token_hook(g11c_conn *c, g11c_token_hook fn, void *arg);
/* Called once by g11c_close, e.g. to free what the hooks' arg points to. */
void g11c_set_close_hook(g11c_conn *c, void (*fn)(void *), void *arg);

/* Name of a CK_RV ("CKR_ARGUMENTS_BAD"), or NULL. */
const char *g11c_rv_name(CK_RV rv);

/* ---- the Crypto service ---------------------------------------------- */

CK_RV g11c_generate_random(g11c_conn *c, uint8_t *out, size_t len);
/* *mechs is malloc'd; free() it. */
CK_RV g11c_get_mechanism_list(g11c_conn *c, CK_MECHANISM_TYPE **mechs, size_t *count);
CK_RV g11c_get_mechanism_info(g11c_conn *c, CK_MECHANISM_TYPE mech, CK_MECHANISM_INFO *info);

CK_RV g11c_digest_init(g11c_conn *c, const g11c_mech *m, g11c_buf *state);
CK_RV g11c_digest(g11c_conn *c, g11c_bytes state, g11c_bytes data, g11c_buf *digest);
CK_RV g11c_digest_update(g11c_conn *c, g11c_bytes state, g11c_bytes data, g11c_buf *new_state);
CK_RV g11c_digest_key(g11c_conn *c, g11c_bytes state, g11c_bytes key, g11c_buf *new_state);
CK_RV g11c_digest_final(g11c_conn *c, g11c_bytes state, g11c_buf *digest);
CK_RV g11c_digest_single(g11c_conn *c, const g11c_mech *m, g11c_bytes data, g11c_buf *digest);

CK_RV g11c_encrypt_init(g11c_conn *c, const g11c_mech *m, g11c_bytes key, g11c_buf *state);
CK_RV g11c_encrypt_update(g11c_conn *c, g11c_bytes state, g11c_bytes in, g11c_buf *new_state,
                          g11c_buf *out);
CK_RV g11c_encrypt_final(g11c_conn *c, g11c_bytes state, g11c_buf *out);
CK_RV g11c_encrypt(g11c_conn *c, g11c_bytes state, g11c_bytes in, g11c_buf *out);
CK_RV g11c_encrypt_single(g11c_conn *c, g11c_bytes key, const g11c_mech *m, g11c_bytes in,
                          g11c_buf *out);
CK_RV g11c_decrypt_init(g11c_conn *c, const g11c_mech *m, g11c_bytes key, g11c_buf *state);
CK_RV g11c_decrypt_update(g11c_conn *c, g11c_bytes state, g11c_bytes in, g11c_buf *new_state,
                          g11c_buf *out);
CK_RV g11c_decrypt_final(g11c_conn *c, g11c_bytes state, g11c_buf *out);
CK_RV g11c_decrypt(g11c_conn *c, g11c_bytes state, g11c_bytes in, g11c_buf *out);
CK_RV g11c_decrypt_single(g11c_conn *c, g11c_bytes key, const g11c_mech *m, g11c_bytes in,
                          g11c_buf *out);
CK_RV g11c_reencrypt_single(g11c_conn *c, g11c_bytes dec_key, g11c_bytes enc_key,
                            const g11c_mech *dec_m, const g11c_mech *enc_m, g11c_bytes in,
                            g11c_buf *out);

CK_RV g11c_sign_init(g11c_conn *c, const g11c_mech *m, g11c_bytes key, g11c_buf *state);
CK_RV g11c_sign_update(g11c_conn *c, g11c_bytes state, g11c_bytes data, g11c_buf *new_state);
CK_RV g11c_sign_final(g11c_conn *c, g11c_bytes state, g11c_buf *sig);
CK_RV g11c_sign(g11c_conn *c, g11c_bytes state, g11c_bytes data, g11c_buf *sig);
CK_RV g11c_sign_single(g11c_conn *c, g11c_bytes key, const g11c_mech *m, g11c_bytes data,
                       g11c_buf *sig);
CK_RV g11c_verify_init(g11c_conn *c, const g11c_mech *m, g11c_bytes key, g11c_buf *state);
CK_RV g11c_verify_update(g11c_conn *c, g11c_bytes state, g11c_bytes data, g11c_buf *new_state);
CK_RV g11c_verify_final(g11c_conn *c, g11c_bytes state, g11c_bytes sig);
CK_RV g11c_verify(g11c_conn *c, g11c_bytes state, g11c_bytes data, g11c_bytes sig);
CK_RV g11c_verify_single(g11c_conn *c, g11c_bytes key, const g11c_mech *m, g11c_bytes data,
                         g11c_bytes sig);

/* Templates are CK_ATTRIBUTE arrays (CK_BBOOL booleans, CK_ULONG integers). */
CK_RV g11c_generate_key(g11c_conn *c, const g11c_mech *m, const CK_ATTRIBUTE *tmpl, CK_ULONG n,
                        g11c_buf *key, g11c_buf *checksum);
CK_RV g11c_generate_key_pair(g11c_conn *c, const g11c_mech *m, const CK_ATTRIBUTE *pub_tmpl,
                             CK_ULONG npub, const CK_ATTRIBUTE *priv_tmpl, CK_ULONG npriv,
                             g11c_buf *priv_key, g11c_buf *pub_key);
CK_RV g11c_wrap_key(g11c_conn *c, g11c_bytes key, g11c_bytes kek, g11c_bytes mac_key,
                    const g11c_mech *m, g11c_buf *wrapped);
CK_RV g11c_unwrap_key(g11c_conn *c, g11c_bytes wrapped, g11c_bytes kek, g11c_bytes mac_key,
                      const g11c_mech *m, const CK_ATTRIBUTE *tmpl, CK_ULONG n, g11c_buf *key,
                      g11c_buf *checksum);
CK_RV g11c_derive_key(g11c_conn *c, const g11c_mech *m, const CK_ATTRIBUTE *tmpl, CK_ULONG n,
                      g11c_bytes base_key, g11c_bytes data, g11c_buf *key, g11c_buf *checksum);
/* Returns the attributes the server reported, in a fresh array whose values
 * are malloc'd too; free with g11c_attrs_free. */
CK_RV g11c_get_attribute_value(g11c_conn *c, g11c_bytes object, const CK_ATTRIBUTE_TYPE *types,
                               CK_ULONG n, CK_ATTRIBUTE **out, CK_ULONG *nout);
void g11c_attrs_free(CK_ATTRIBUTE *attrs, CK_ULONG n);
CK_RV g11c_set_attribute_value(g11c_conn *c, g11c_bytes object, const CK_ATTRIBUTE *tmpl,
                               CK_ULONG n, g11c_buf *new_object);
CK_RV g11c_rewrap_key_blob(g11c_conn *c, g11c_bytes blob, g11c_buf *new_blob);
CK_RV g11c_login(g11c_conn *c, g11c_bytes store_id, g11c_bytes pin, g11c_buf *pin_blob);
CK_RV g11c_logout(g11c_conn *c);

/* ---- grep11.Auth and grep11.Admin -------------------------------------- */

/* Reads an API key kept in a file (first line; e.g. a --dev server's
 * DIR/dev-apikey). CKR_ARGUMENTS_BAD when the file is missing or empty. */
CK_RV g11c_read_api_key_file(const char *path, char *out, size_t cap);

/* Exchanges an API key for a bearer token (sent without one). */
CK_RV g11c_auth_token(g11c_conn *c, const char *api_key, char *token, size_t cap,
                      int64_t *expires_at);

/* ---- IBM Cloud IAM's API-key grant (HTTPS) ------------------------------ */

typedef struct {
    const char *url;          /* the endpoint as IBM's YAML writes it:
                                 "https://host[:port][/prefix]"; the grant is
                                 POSTed to prefix + "/identity/token" */
    int allow_http;           /* accept an http:// url, which sends the API key
                                 in clear: for plaintext test servers only */
    const char *ca_file;      /* PEM roots to trust; NULL: the system's */
    const char *cert_file;    /* client certificate for mutual TLS, or NULL */
    const char *key_file;     /* its private key */
    int timeout_ms;           /* connect, handshake and answer together; 0: 30 s */
    g11c_error_hook on_error; /* told why a fetch failed (never the key or token) */
    void *on_error_arg;
} g11c_iam_options;

/* Exchanges an API key for a bearer token at an IAM token endpoint (grant
 * urn:ibm:params:oauth:grant-type:apikey), e.g. grep11d's HTTPS front or IBM
 * Cloud IAM, over TLS 1.2+ that verifies the server's chain and name. The
 * codes are g11c_auth_token's for the same outcome: a refused key (HTTP 400
 * or 401) CKR_IBM_GREP11_NOT_AUTHENTICATED, 403 CKR_GREP11_PERMISSION_DENIED,
 * 429 CKR_GREP11_RATE_LIMITED; the network, TLS, a 5xx or a malformed answer
 * CKR_DEVICE_ERROR; an unusable url or TLS file CKR_ARGUMENTS_BAD.
 * *expires_at: the answer's "expiration", else now + "expires_in". */
CK_RV g11c_iam_token(const g11c_iam_options *o, const char *api_key, char *token, size_t cap,
                     int64_t *expires_at);

#define G11C_MAX_GRANTS 32
typedef struct {
    char key_id[32];
    char principal[65];
    char roles[128]; /* comma-separated */
    uint8_t grants[G11C_MAX_GRANTS][16];
    size_t ngrants;
    char cert_identity[129];
    int64_t created_at;
    int revoked;
} g11c_api_key_info;

/* Creates an API key; the key text (shown once) goes to api_key. */
CK_RV g11c_admin_create_api_key(g11c_conn *c, const char *principal, const char *const *roles,
                                size_t nroles, const uint8_t (*grants)[16], size_t ngrants,
                                const char *cert_identity, char *api_key, size_t cap,
                                g11c_api_key_info *info);
/* *out is malloc'd; free() it. */
CK_RV g11c_admin_list_api_keys(g11c_conn *c, g11c_api_key_info **out, size_t *n);
CK_RV g11c_admin_revoke_api_key(g11c_conn *c, const char *key_id);

/* ---- grep11.Store: keystores and token objects ------------------------- */

typedef struct {
    char label[256];
    int is_private;
    uint64_t object_count;
    int password_protected;
    int64_t created_us;
} g11c_keystore_info;

typedef struct {
    uint8_t id[16];
    int64_t version;
    g11c_buf blob;
    CK_ATTRIBUTE *attrs; /* values malloc'd */
    CK_ULONG nattrs;
    int64_t created_us, updated_us;
} g11c_stored_object;

void g11c_stored_object_free(g11c_stored_object *o);
void g11c_stored_objects_free(g11c_stored_object *objs, size_t n);

/* password: NULL or "" for none. Keystore and object ids are 16-byte UUIDs. */
CK_RV g11c_store_init_keystores(g11c_conn *c, const uint8_t private_ks[16],
                                const uint8_t public_ks[16], const char *label,
                                const char *password);
CK_RV g11c_store_keystore_info(g11c_conn *c, const uint8_t ks[16], g11c_keystore_info *info);

/* Object writes are at most once. Each carries a RequestID (16 bytes): the
 * server applies the first request under an id and records its answer; the
 * same request again (within 24 h) gets that answer and applies nothing,
 * another request under the id CKR_GREP11_REQUEST_REUSED. libgrep11 resends
 * a write whose answer was lost (the connection broke, the server died)
 * with the same id, so it is applied once and answered as the first send
 * was. The plain functions take a fresh id per call; the _once forms the
 * caller's (NULL: a fresh one), for a caller that retries a logical write
 * itself: one id for all its attempts. */
#define G11C_REQUEST_ID_LEN 16
/* A fresh random id (OpenSSL RAND_bytes); CKR_FUNCTION_FAILED if the
 * random generator fails. */
CK_RV g11c_request_id_new(uint8_t id[G11C_REQUEST_ID_LEN]);

CK_RV g11c_store_create_object(g11c_conn *c, const uint8_t ks[16], const char *password,
                               g11c_bytes blob, const CK_ATTRIBUTE *attrs, CK_ULONG n,
                               uint8_t id_out[16], int64_t *version_out);
CK_RV g11c_store_create_object_once(g11c_conn *c, const uint8_t request[G11C_REQUEST_ID_LEN],
                                    const uint8_t ks[16], const char *password, g11c_bytes blob,
                                    const CK_ATTRIBUTE *attrs, CK_ULONG n, uint8_t id_out[16],
                                    int64_t *version_out);
CK_RV g11c_store_get_object(g11c_conn *c, const uint8_t ks[16], const char *password,
                            const uint8_t id[16], g11c_stored_object *out);
/* Stale version -> CKR_IBM_GREP11_CONFLICT; blob with len 0 keeps the blob;
 * attrs replaces the whole attribute list. */
CK_RV g11c_store_update_object(g11c_conn *c, const uint8_t ks[16], const char *password,
                               const uint8_t id[16], int64_t version, g11c_bytes blob,
                               const CK_ATTRIBUTE *attrs, CK_ULONG n, int64_t *new_version);
CK_RV g11c_store_update_object_once(g11c_conn *c, const uint8_t request[G11C_REQUEST_ID_LEN],
                                    const uint8_t ks[16], const char *password,
                                    const uint8_t id[16], int64_t version, g11c_bytes blob,
                                    const CK_ATTRIBUTE *attrs, CK_ULONG n, int64_t *new_version);
/* A resend of a destroy that the server already did answers CKR_OK. */
CK_RV g11c_store_destroy_object(g11c_conn *c, const uint8_t ks[16], const char *password,
                                const uint8_t id[16]);
CK_RV g11c_store_destroy_object_once(g11c_conn *c, const uint8_t request[G11C_REQUEST_ID_LEN],
                                     const uint8_t ks[16], const char *password,
                                     const uint8_t id[16]);
/* One page; cursor NULL/"" first; next_cursor "" at the end. *out: free
 * with g11c_stored_objects_free. */
CK_RV g11c_store_find_objects(g11c_conn *c, const uint8_t ks[16], const char *password,
                              const CK_ATTRIBUTE *tmpl, CK_ULONG n, const char *cursor,
                              unsigned limit, g11c_stored_object **out, size_t *nout,
                              char next_cursor[64]);

/* A key argument that names a stored key (KeyBlob.KeyBlobID) instead of
 * carrying its blob: pass the returned bytes as the key to any call and the
 * server fetches the key after checking the caller may read it. buf must
 * outlive the call. */
#define G11C_KEYBLOB_ID_PREFIX "G11ID:"
#define G11C_KEY_REF_LEN 22
g11c_bytes g11c_key_ref(const uint8_t id[16], uint8_t buf[G11C_KEY_REF_LEN]);

/* ---- grep11.Custody: master-key custody (docs/internals/custody.md) ---- */

#define G11C_CUSTODY_MAX_ADMINS 16
#define G11C_CUSTODY_MAX_PARTS 8
typedef struct {
    char keyid[17];
    char name[65];
    char alg[16];
    uint8_t spki[160];
    size_t spki_len;
} g11c_custody_admin;

typedef struct {
    uint8_t instance[16];
    int imprinted, locked;
    uint64_t epoch;
    unsigned threshold;
    g11c_custody_admin admins[G11C_CUSTODY_MAX_ADMINS];
    size_t nadmins;
    char mode[16];       /* "custody" | "development" */
    char current_vp[17]; /* verification patterns: 16 hex digits, "" none */
    char new_state[16];  /* "empty" | "loading" | "committed" */
    char new_scheme[8];  /* "xor" | "shamir" */
    char part_vps[G11C_CUSTODY_MAX_PARTS][17];
    size_t nparts;       /* recorded in the log */
    unsigned parts_held; /* held in this server's memory */
    unsigned shares_needed;
    char new_vp[17];
    char previous_vp[17];
    int64_t grace_until;
    char rewrap_phase[16]; /* "idle" | "running" | "done" | "failed" */
    uint64_t rewrap_done, rewrap_skipped, rewrap_failed;
    char rewrap_error[160];
    unsigned unlock_parts_held;
} g11c_custody_info;

typedef struct {
    char keyid[17];
    uint8_t sig[160];
    size_t len;
} g11c_custody_sig;

typedef struct {
    uint64_t epoch;
    char message[400];
    char part_vp[17];
    char assembled_vp[17];
    char api_key[160]; /* create-apikey: shown once */
} g11c_custody_result;

typedef struct {
    int intact;
    char problem[256];
    uint64_t entries, maced, unmaced, orphans, head_seq;
    uint8_t head_hash[32];
} g11c_audit_report;

CK_RV g11c_custody_status(g11c_conn *c, g11c_custody_info *out);
/* A fresh single-use nonce and the instance's id and epoch, to build a
 * command from. */
CK_RV g11c_custody_prepare(g11c_conn *c, uint8_t instance[16], uint64_t *epoch, uint8_t nonce[16],
                           unsigned *parts_held);
/* cmd: the canonical encoding; secret: the part or share of a load. */
CK_RV g11c_custody_submit(g11c_conn *c, const uint8_t *cmd, size_t len,
                          const g11c_custody_sig *sigs, size_t nsigs, g11c_bytes secret,
                          g11c_custody_result *out);
CK_RV g11c_custody_unlock(g11c_conn *c, const uint8_t (*parts)[32], size_t nparts,
                          const g11c_bytes *shares, size_t nshares, int reset, int *unlocked,
                          unsigned *held, char *msg, size_t cap);
CK_RV g11c_audit_verify(g11c_conn *c, g11c_audit_report *out);

/* ---- other services --------------------------------------------------- */

/* grpc.health.v1: *serving is 1 when the server reports SERVING. */
CK_RV g11c_health(g11c_conn *c, int *serving);

/* Low level: sends already-encoded request bytes to a full method path
 * ("/grep11.Crypto/GenerateRandom") and returns the encoded reply. For tools
 * and tests that need to send what the typed functions never would. */
CK_RV g11c_raw_call(g11c_conn *c, const char *method, const uint8_t *req, size_t len,
                    g11c_buf *reply);

#ifdef __cplusplus
}
#endif

#endif
