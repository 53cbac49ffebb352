/* Passphrase-protected files: key parts, shares and administrators' private
 * keys (the smart-card stand-in). A short text file:
 *
 *   GREP11-SECRET-FILE v1
 *   kind: keypart                       public metadata, one "key: value" a line
 *   vp: 0123456789abcdef
 *   kdf: scrypt 15 8 1 <salt hex>       log2 N, r, p, 16-byte salt
 *   nonce: <12 bytes hex>
 *   data: <AES-256-GCM ciphertext ‖ tag, hex>
 *
 * key = scrypt(passphrase, salt); the AAD is every byte before "nonce:", so
 * the metadata cannot be changed either. A wrong passphrase (or any edit)
 * fails the tag check and nothing is returned. Written 0600, atomically. */
#ifndef GREP11_CUSTODY_SECRETFILE_H
#define GREP11_CUSTODY_SECRETFILE_H

#include <p11-kit/pkcs11.h>
#include <stddef.h>
#include <stdint.h>

#define SECRETFILE_MAX_META 12
#define SECRETFILE_MAX_SECRET 512
#define SECRETFILE_DEFAULT_LOG2N 15

typedef struct {
    size_t n;
    char key[SECRETFILE_MAX_META][24];
    char val[SECRETFILE_MAX_META][400];
} secretfile_meta;

/* Adds "key: value" (no newline or colon in the key). */
int secretfile_meta_add(secretfile_meta *m, const char *key, const char *val);
const char *secretfile_meta_get(const secretfile_meta *m, const char *key);

/* log2n 0: SECRETFILE_DEFAULT_LOG2N (12..20 accepted). The file must not
 * exist yet. */
CK_RV secretfile_write(const char *path, const secretfile_meta *meta, const uint8_t *secret,
                       size_t len, const char *passphrase, unsigned log2n, char *err,
                       size_t errlen);

/* Reads the metadata only (no passphrase needed). */
CK_RV secretfile_peek(const char *path, secretfile_meta *meta, char *err, size_t errlen);

/* Decrypts; CKR_PIN_INCORRECT for a wrong passphrase or an altered file. */
CK_RV secretfile_read(const char *path, const char *passphrase, uint8_t *secret, size_t cap,
                      size_t *len, secretfile_meta *meta, char *err, size_t errlen);

#endif
