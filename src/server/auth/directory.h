/* The identity directory: API-key records kept in the keystore database
 * (so every replica shares them), in a reserved keystore that the Store
 * service never exposes. Each record is MACed under a key derived from the
 * master key: whoever can write the database still cannot mint an identity. */
#ifndef GREP11_SERVER_DIRECTORY_H
#define GREP11_SERVER_DIRECTORY_H

#include "auth.h"
#include "store.h"

/* 67726570-3131-4964-656e-746974696573: "grep11Identities". */
extern const store_uuid directory_keystore;

typedef struct {
    auth_key_record rec;
    char principal[AUTH_MAX_PRINCIPAL + 1];
    uint32_t roles;
    uint8_t grants[AUTH_MAX_GRANTS][16];
    size_t ngrants;
    char cert_identity[AUTH_MAX_CERT_ID + 1];
    int64_t created_at; /* unix seconds */
    int revoked;
} directory_entry;

typedef struct directory directory;

/* Creates the reserved keystore when missing. mac_key is copied. */
CK_RV directory_open(store *st, const uint8_t mac_key[32], directory **out);
void directory_close(directory *d);

CK_RV directory_add(directory *d, const directory_entry *e);
/* CKR_IBM_GREP11_NOT_AUTHENTICATED when no such key (or a damaged record). */
CK_RV directory_lookup(directory *d, const uint8_t key_id[AUTH_KEY_ID_LEN], directory_entry *out);
/* *out is malloc'd (free()); damaged records are skipped and counted. */
CK_RV directory_list(directory *d, directory_entry **out, size_t *n);
/* w (may be NULL): what commits with the write (store_with: the audit
 * entry of the call that revokes or creates). */
CK_RV directory_revoke(directory *d, const uint8_t key_id[AUTH_KEY_ID_LEN], store_with *w);

/* Creates a key with the given identity; text receives the key (once). */
CK_RV directory_create_key(directory *d, const char *principal, uint32_t roles,
                           const uint8_t (*grants)[16], size_t ngrants, const char *cert_identity,
                           store_with *w, char text[AUTH_API_KEY_MAX], directory_entry *out);

#endif
