/* Test support for the PKCS #11 module: a real grep11d from the harness, a
 * generated grep11client.yaml, and the module loaded with dlopen as an
 * application would load it. */
#ifndef P11TEST_H
#define P11TEST_H

#include <p11-kit/pkcs11.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"

typedef struct {
    test_server srv;
    int have_srv;
    char cfg[400];    /* the generated grep11client.yaml */
    char apikey[256]; /* the dev server's all-roles API key */
    char http_addr[128];      /* the HTTPS front's "127.0.0.1:PORT" (p11t_server_http) */
    const char *iam_endpoint; /* p11t_config: iamauth.endpoint of every user; NULL none */
    void *dl;
    CK_FUNCTION_LIST *f;
} p11t;

/* Starts grep11d --dev (server_yaml: its configuration, or NULL). */
int p11t_server(p11t *t, const char *server_yaml);
/* The same with the HTTPS front too (--http-listen 127.0.0.1:0): its
 * address goes to t->http_addr. */
int p11t_server_http(p11t *t, const char *server_yaml);
/* Writes the configuration: two tokens (slots 0 and 5) on the server, the
 * dev key as the anonymous user's key; extra is appended under slot 0's
 * grep11connection (e.g. "      timeout: 2000\n") and may be NULL; every
 * user's iamauth.endpoint is t->iam_endpoint when set. Sets
 * GREP11_CLIENT_CONFIG. */
int p11t_config(p11t *t, const char *address, const char *extra);
/* Writes yaml as the configuration (DIR/grep11client.yaml; @DIR@, @HOST@,
 * @PORT@, @CA@ and @HTTP@ (t->http_addr) are replaced) and sets
 * GREP11_CLIENT_CONFIG. */
int p11t_write_config(p11t *t, const char *yaml);
/* An API key with roles and keystore grants, made with the dev key. */
int p11t_api_key(p11t *t, const char *name, const char *const *roles, size_t nroles,
                 const uint8_t (*grants)[16], size_t ngrants, char *key, size_t cap);
/* API keys for a token's users: the security officer and the normal user
 * with keystore roles and grants on ks[0..nks), the anonymous user (anon
 * not NULL) on ks[1] only, the public keystore. Buffers hold cap bytes. */
int p11t_keystore_users(p11t *t, const uint8_t (*ks)[16], size_t nks, char *so, char *user,
                        char *anon, size_t cap);
/* dlopen + C_GetFunctionList (+ C_Initialize when init). */
int p11t_load(p11t *t, int init);
/* The same from a copy of the module file: a second, independent instance
 * in this process (a second application, as far as the module can tell). */
int p11t_load_copy(p11t *t, const char *dir, int init);
void p11t_unload(p11t *t);
/* All of it, for group setups; and the reverse. */
int p11t_start(p11t *t);
int p11t_stop(p11t *t);

CK_SESSION_HANDLE p11t_session(p11t *t, CK_SLOT_ID slot, int rw);

/* The fixture of most suites: everything p11t_start does plus a read-write
 * session on slot 0. p11t_fx_setup allocates it into *state. */
typedef struct {
    p11t t;
    CK_SESSION_HANDLE s;
} p11t_fx;
int p11t_fx_setup(void **state);
/* p11t_stop and free for any fixture whose first member is its p11t. */
int p11t_teardown(void **state);

/* Whether the module offers mechanism m (slot 0). */
int p11t_offered(p11t *t, CK_MECHANISM_TYPE m);

/* An AES or generic secret session key; extractable and readable when
 * clear is set (for known-answer checks). */
CK_OBJECT_HANDLE p11t_secret_key(p11t *t, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE gen,
                                 CK_KEY_TYPE kt, CK_ULONG len, int clear);
/* CKA_VALUE of a clear key. */
void p11t_key_value(p11t *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k, unsigned char *out,
                    CK_ULONG *len);

#endif
