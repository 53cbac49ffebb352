/* Administrators' signature keys: P-256 or Ed25519, the private key in a
 * passphrase-protected file (secretfile.h, kind "admin-key"), the public key
 * in FILE.pub: "grep11-admin-pub-v1 ALG SPKI-HEX NAME". */
#ifndef GREP11_CUSTODY_ADMINKEY_H
#define GREP11_CUSTODY_ADMINKEY_H

#include <openssl/evp.h>

#include "command.h"

CK_RV adminkey_generate(const char *path, int alg, const char *name, const char *passphrase,
                        unsigned log2n, custody_admin *pub, char *err, size_t errlen);
CK_RV adminkey_load(const char *path, const char *passphrase, EVP_PKEY **key, custody_admin *pub,
                    char *err, size_t errlen);
/* Signs msg; sig has room for CUSTODY_MAX_SIG bytes. */
CK_RV adminkey_sign(EVP_PKEY *key, int alg, const uint8_t *msg, size_t len, uint8_t *sig,
                    size_t *siglen);
/* Reads a .pub file. */
CK_RV adminkey_read_pub(const char *path, custody_admin *out);

#endif
