/* Public keys as grep11 hands them out, read with OpenSSL: an SPKI in
 * RFC 8410's form or in IBM EP11's (id-ecPublicKey plus an Edwards or
 * Montgomery curve OID, which OpenSSL does not read). Tests only. */
#ifndef GREP11_TESTSPKI_H
#define GREP11_TESTSPKI_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* The key of the SPKI at der (trailing bytes, e.g. a MAC trailer, are
 * ignored); NULL when it is none. Free with EVP_PKEY_free. */
EVP_PKEY *testspki_key(const uint8_t *der, size_t len);

/* 1 when der starts with an Edwards/Montgomery SPKI in IBM's form. */
int testspki_ibm_form(const uint8_t *der, size_t len);

#endif
