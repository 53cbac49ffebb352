/* Key agreement and key encapsulation: ECDH (ecdh.c), ML-KEM and IBM Kyber
 * (kem.c), which make secret-key blobs through keys_make_secret; and the
 * other DeriveKey families that derive.c dispatches to (BIP-0032/SLIP-0010
 * in btc_derive.c). */
#ifndef GREP11_ENGINE_KEX_H
#define GREP11_ENGINE_KEX_H

#include "hash.h"
#include "mech.h"
#include "pkey.h"

/* Length of a derived key: CKA_VALUE_LEN, else what the key type fixes,
 * else dflt (0: must be given). derive.c. */
CK_RV derive_len(const CK_ATTRIBUTE *tmpl_in, CK_ULONG n, size_t dflt, size_t *len);

/* ANSI X9.63 KDF (the PKCS #11 CKD_SHA*_KDF functions). */
CK_RV kdf_x963(hashid h, const uint8_t *z, size_t zlen, const uint8_t *shared, size_t slen,
               uint8_t *out, size_t outlen);
/* CKD_* of the KDFs offered: H_NONE for CKD_NULL (and IBM hybrid null);
 * false for anything else. */
bool kdf_hash(CK_ULONG kdf, hashid *h);

CK_RV ecdh_derive(engine *e, const mech_row *row, const engine_mech *m, const CK_ATTRIBUTE *tin,
                  CK_ULONG n, engine_bytes base, engine_buf *key_blob, engine_buf *checksum);
CK_RV dh_derive(engine *e, const engine_mech *m, const CK_ATTRIBUTE *tin, CK_ULONG n,
                engine_bytes base, engine_buf *key_blob, engine_buf *checksum);
CK_RV kyber_derive(engine *e, const engine_mech *m, const CK_ATTRIBUTE *tin, CK_ULONG n,
                   engine_bytes base, engine_buf *key_blob, engine_buf *checksum);
/* CKM_IBM_BTC_DERIVE (btc_derive.c): the new key (private blob or MACed
 * SPKI) and, as checksum, its 32-byte chain code. */
CK_RV btc_derive(engine *e, const engine_mech *m, const CK_ATTRIBUTE *tin, CK_ULONG n,
                 engine_bytes base, engine_buf *key_blob, engine_buf *checksum);
/* BIP-0032 child scalar: out = IL + kpar mod n (all 32 bytes, big-endian,
 * constant time); false (out wiped) when IL >= n or the sum is 0, i.e. the
 * index gives no key. */
bool btc_child_scalar(const uint8_t n[32], const uint8_t kpar[32], const uint8_t il[32],
                      uint8_t out[32]);

#endif
