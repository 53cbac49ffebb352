/* grep11 engine: the HSM "card" as a library. Master-key domain, sealed key
 * and state blobs, templates and policy, mechanisms, self-tests.
 *
 * No sockets, files or threads. One engine context may be used concurrently
 * by many threads; it is immutable after engine_create() except for the
 * register functions (engine_*_new_wk), which the caller must serialize
 * against every other call on the same context.
 *
 * Byte conventions: engine_bytes are borrowed inputs; engine_buf outputs are
 * allocated by the engine and owned by the caller (engine_buf_free). On
 * failure every output is left empty ({NULL, 0}). */
#ifndef GREP11_ENGINE_H
#define GREP11_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

#include "grep11/ck_ext.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct engine engine;
typedef struct {
    const uint8_t *ptr;
    size_t len;
} engine_bytes; /* borrowed input */
typedef struct {
    uint8_t *ptr;
    size_t len;
} engine_buf;                        /* output owned by caller */
void engine_buf_free(engine_buf *b); /* zeroizes then frees; ok on empty */

typedef enum {
    ENGINE_PARAM_NONE,
    ENGINE_PARAM_BYTES,
    ENGINE_PARAM_RSA_OAEP,
    ENGINE_PARAM_RSA_PSS,
    ENGINE_PARAM_ECDH1,
    ENGINE_PARAM_KYBER,
    ENGINE_PARAM_BTC,
    ENGINE_PARAM_ECSG
    /* …add as needed */
} engine_param_kind;

/* A mechanism as the wire carries it. For ENGINE_PARAM_BYTES the engine
 * parses Mechanism.ParameterB itself; the encodings per mechanism are listed
 * in src/engine/README.md ("Mechanism parameters"). */
typedef struct {
    CK_MECHANISM_TYPE type;
    engine_param_kind kind;
    engine_bytes bytes; /* ENGINE_PARAM_BYTES: Mechanism.ParameterB as sent */
    struct {
        CK_MECHANISM_TYPE hash;
        CK_ULONG mgf;
        engine_bytes label;
    } oaep;
    struct {
        CK_MECHANISM_TYPE hash;
        CK_ULONG mgf;
        CK_ULONG salt_len;
    } pss;
    struct {          /* ENGINE_PARAM_ECDH1: GREP11 ECDH1DeriveParm */
        CK_ULONG kdf; /* CKD_* (IBM hybrid values included) */
        engine_bytes shared_data;
        engine_bytes public_data; /* the peer's public point or key */
    } ecdh;
    struct { /* ENGINE_PARAM_KYBER: GREP11 KyberKEMParm */
        CK_ULONG version;
        CK_ULONG mode; /* 1 encapsulate, 2 decapsulate */
        CK_ULONG kdf;  /* CKD_* (IBM hybrid values included) */
        CK_BBOOL prepend;
        engine_bytes cipher_text; /* decapsulation input */
        engine_bytes shared_data;
        engine_bytes blob; /* hybrid: a secret key blob to combine with */
    } kyber;
    struct {                     /* ENGINE_PARAM_BTC: GREP11 BTCDeriveParm */
        CK_ULONG type;           /* CK_IBM_BIP0032_* / CK_IBM_SLIP0010_* */
        uint64_t index;          /* child index; CK_IBM_BIP0032_HARDENED set: hardened */
        engine_bytes chain_code; /* the parent's (32 bytes); empty for MASTERK */
        CK_ULONG version;        /* CK_IBM_BTC_DERIVE_PARAMS_VERSION_1 */
    } btc;
    struct {           /* ENGINE_PARAM_ECSG: GREP11 ECSGParm (CKM_IBM_ECDSA_OTHER) */
        CK_ULONG type; /* ECSG_IBM_ECSDSA_S256, ECSG_IBM_ECSDSA_COMPR_MULTI, ... */
    } ecsg;
    /* further parameter structs for later mechanisms */
} engine_mech;

/* Policy knobs. A zero field means "use the default" (given in brackets), so
 * a zero-initialised struct is the default policy. */
typedef struct {
    CK_ULONG min_rsa_bits;             /* [2048] */
    CK_ULONG min_generic_secret_bytes; /* [14] HMAC/generic secrets: 112 bits */
    CK_ULONG max_generic_secret_bytes; /* [512] */
    CK_ULONG max_gcm_buffer;           /* [64 MiB] GCM decrypt buffers until Final */
    CK_ULONG key_cache_entries;        /* [1024] OpenSSL keys kept (README "Key cache") */
    CK_ULONG flags;                    /* ENGINE_POLICY_* below */
} engine_policy;
/* Refuse CKA_TRUSTED = TRUE in templates and SetAttributeValue (set it when
 * the caller cannot prove it is a security officer). */
#define ENGINE_POLICY_NO_TRUSTED 0x1UL
/* Refuse DES2/DES3 key generation and import (legacy interoperability). */
#define ENGINE_POLICY_NO_DES3 0x2UL
/* Usage attributes (CKA_ENCRYPT, …) default to FALSE instead of the EP11
 * behaviour (TRUE for every usage the key type supports). */
#define ENGINE_POLICY_USAGE_DEFAULT_FALSE 0x4UL
/* No key cache: every operation rebuilds its OpenSSL key from the blob. */
#define ENGINE_POLICY_NO_KEY_CACHE 0x8UL

CK_RV engine_create(const uint8_t wk[32], const engine_policy *policy /* NULL = defaults */,
                    engine **out);
void engine_destroy(engine *e); /* no-op on a view */
/* The same engine (master-key registers, key cache) under
 * ENGINE_POLICY_NO_TRUSTED: give it to every caller who is not a security
 * officer, so that no such caller can make or mark a key CKA_TRUSTED
 * (PKCS #11: only the SO may). It lives as long as e; register changes
 * through either are seen by both. Of a view, the view itself. */
engine *engine_untrusted_view(engine *e);
CK_RV engine_wkid(const engine *e, uint8_t out[16]);
CK_RV engine_self_test(void); /* known answers, fail closed */

/* ---- Master-key registers (DESIGN §7). The caller serializes these. ---- */
/* Loads wk into the "new" register (replacing a pending one). */
CK_RV engine_load_new_wk(engine *e, const uint8_t wk[32]);
/* WKID of the new register; CKR_IBM_WK_NOT_INITIALIZED when it is empty. */
CK_RV engine_new_wkid(const engine *e, uint8_t out[16]);
/* new -> current; old blobs stop working. CKR_IBM_WK_NOT_INITIALIZED if empty. */
CK_RV engine_activate_new_wk(engine *e);
/* Empties the new register (abandons a rotation). */
void engine_clear_new_wk(engine *e);
/* A 32-byte key for a non-blob purpose, derived from the current WK with
 * HKDF-SHA256 (e.g. "auth-token" for the server's bearer tokens). purpose is
 * a short ASCII label (1..64 bytes); the blob purposes are reserved. */
CK_RV engine_derive_purpose_key(const engine *e, const char *purpose, uint8_t out[32]);

CK_RV engine_generate_random(engine *e, uint8_t *out,
                             size_t len); /* len 0 or > 1 MiB -> CKR_ARGUMENTS_BAD */

/* Mechanisms are data (mech_table.c): list and info come from one table. */
CK_RV engine_mechanism_list(const engine *e, CK_MECHANISM_TYPE *out, CK_ULONG *nmech);
CK_RV engine_mechanism_info(const engine *e, CK_MECHANISM_TYPE m, CK_MECHANISM_INFO *out);
const char *engine_mechanism_name(CK_MECHANISM_TYPE m); /* "CKM_AES_GCM" or NULL */

/* Templates are CK_ATTRIBUTE arrays: booleans 1 byte CK_BBOOL, integers
 * CK_ULONG (8 bytes, native order), byte strings as is. */
CK_RV engine_generate_key(engine *e, const engine_mech *m, const CK_ATTRIBUTE *tmpl, CK_ULONG n,
                          engine_buf *key_blob, engine_buf *checksum);
/* C_CreateObject for a secret key: the template carries CKA_CLASS =
 * CKO_SECRET_KEY, CKA_KEY_TYPE and CKA_VALUE; policy applies as for unwrap
 * (CKA_LOCAL, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE are FALSE). */
CK_RV engine_import_secret_key(engine *e, const CK_ATTRIBUTE *tmpl, CK_ULONG n,
                               engine_buf *key_blob, engine_buf *checksum);
/* C_CreateObject for a private key (CKA_CLASS = CKO_PRIVATE_KEY,
 * CKA_KEY_TYPE, and the key: RSA CKA_MODULUS, CKA_PUBLIC_EXPONENT and the
 * six private components; EC/Edwards/Montgomery CKA_EC_PARAMS + CKA_VALUE;
 * ML-DSA/ML-KEM CKA_PARAMETER_SET + CKA_VALUE (expanded key); IBM sets
 * CKA_IBM_PQC_PARAMS + CKA_VALUE). The key passes a pairwise test; it is
 * never LOCAL, ALWAYS_SENSITIVE or NEVER_EXTRACTABLE. Returns a key blob. */
CK_RV engine_import_private_key(engine *e, const CK_ATTRIBUTE *tmpl, CK_ULONG n,
                                engine_buf *key_blob);
/* C_CreateObject for a public key (RSA CKA_MODULUS + CKA_PUBLIC_EXPONENT;
 * EC CKA_EC_PARAMS + CKA_EC_POINT; PQC parameter + CKA_VALUE). Returns a
 * MACed SPKI carrying the template's attributes (CKA_TRUSTED subject to
 * ENGINE_POLICY_NO_TRUSTED). */
CK_RV engine_import_public_key(engine *e, const CK_ATTRIBUTE *tmpl, CK_ULONG n,
                               engine_buf *pub_key);
CK_RV engine_generate_key_pair(engine *e, const engine_mech *m, const CK_ATTRIBUTE *pub_tmpl,
                               CK_ULONG npub, const CK_ATTRIBUTE *priv_tmpl, CK_ULONG npriv,
                               engine_buf *priv_blob, engine_buf *pub_key);

CK_RV engine_digest_init(engine *e, const engine_mech *m, engine_buf *state);
CK_RV engine_digest_update(engine *e, engine_bytes state, engine_bytes data, engine_buf *new_state);
CK_RV engine_digest_key(engine *e, engine_bytes state, engine_bytes key_blob,
                        engine_buf *new_state);
CK_RV engine_digest_final(engine *e, engine_bytes state, engine_buf *digest);
CK_RV engine_digest(engine *e, engine_bytes state, engine_bytes data, engine_buf *digest);
CK_RV engine_digest_single(engine *e, const engine_mech *m, engine_bytes data, engine_buf *digest);

CK_RV engine_encrypt_init(engine *e, const engine_mech *m, engine_bytes key_blob,
                          engine_buf *state);
CK_RV engine_encrypt_update(engine *e, engine_bytes state, engine_bytes in, engine_buf *new_state,
                            engine_buf *out);
CK_RV engine_encrypt_final(engine *e, engine_bytes state, engine_buf *out);
CK_RV engine_encrypt(engine *e, engine_bytes state, engine_bytes in, engine_buf *out);
CK_RV engine_encrypt_single(engine *e, engine_bytes key_blob, const engine_mech *m, engine_bytes in,
                            engine_buf *out);
CK_RV engine_decrypt_init(engine *e, const engine_mech *m, engine_bytes key_blob,
                          engine_buf *state);
CK_RV engine_decrypt_update(engine *e, engine_bytes state, engine_bytes in, engine_buf *new_state,
                            engine_buf *out);
CK_RV engine_decrypt_final(engine *e, engine_bytes state, engine_buf *out);
CK_RV engine_decrypt(engine *e, engine_bytes state, engine_bytes in, engine_buf *out);
CK_RV engine_decrypt_single(engine *e, engine_bytes key_blob, const engine_mech *m, engine_bytes in,
                            engine_buf *out);
CK_RV engine_reencrypt_single(engine *e, engine_bytes dec_key, engine_bytes enc_key,
                              const engine_mech *dec_m, const engine_mech *enc_m, engine_bytes in,
                              engine_buf *out);

CK_RV engine_sign_init(engine *e, const engine_mech *m, engine_bytes key_blob, engine_buf *state);
CK_RV engine_sign_update(engine *e, engine_bytes state, engine_bytes data, engine_buf *new_state);
CK_RV engine_sign_final(engine *e, engine_bytes state, engine_buf *sig);
CK_RV engine_sign(engine *e, engine_bytes state, engine_bytes data, engine_buf *sig);
CK_RV engine_sign_single(engine *e, engine_bytes key_blob, const engine_mech *m, engine_bytes data,
                         engine_buf *sig);
CK_RV engine_verify_init(engine *e, const engine_mech *m, engine_bytes key_blob, engine_buf *state);
CK_RV engine_verify_update(engine *e, engine_bytes state, engine_bytes data, engine_buf *new_state);
CK_RV engine_verify_final(engine *e, engine_bytes state, engine_bytes sig);
CK_RV engine_verify(engine *e, engine_bytes state, engine_bytes data, engine_bytes sig);
CK_RV engine_verify_single(engine *e, engine_bytes key_blob, const engine_mech *m,
                           engine_bytes data, engine_bytes sig);

CK_RV engine_wrap_key(engine *e, engine_bytes key_blob, engine_bytes kek_blob,
                      engine_bytes mac_key_blob, const engine_mech *m, engine_buf *wrapped);
CK_RV engine_unwrap_key(engine *e, engine_bytes wrapped, engine_bytes kek_blob,
                        engine_bytes mac_key_blob, const engine_mech *m, const CK_ATTRIBUTE *tmpl,
                        CK_ULONG n, engine_buf *key_blob, engine_buf *checksum);
CK_RV engine_derive_key(engine *e, const engine_mech *m, const CK_ATTRIBUTE *tmpl, CK_ULONG n,
                        engine_bytes base_key_blob, engine_bytes data, engine_buf *key_blob,
                        engine_buf *checksum);

/* KEM (PKCS #11 3.2 C_EncapsulateKey / C_DecapsulateKey with CKM_ML_KEM).
 * Encapsulation takes the public key (MACed or plain SPKI) and the new
 * secret key's template; it returns the ciphertext and the sealed key.
 * Decapsulation takes the private key blob and the ciphertext; a wrong
 * ciphertext of the right length is not an error (implicit rejection gives
 * an unrelated key). The key is the leading CKA_VALUE_LEN bytes (default
 * all 32) of the shared secret. */
CK_RV engine_encapsulate(engine *e, const engine_mech *m, engine_bytes pub_key,
                         const CK_ATTRIBUTE *tmpl, CK_ULONG n, engine_buf *ciphertext,
                         engine_buf *key_blob);
CK_RV engine_decapsulate(engine *e, const engine_mech *m, engine_bytes priv_key,
                         engine_bytes ciphertext, const CK_ATTRIBUTE *tmpl, CK_ULONG n,
                         engine_buf *key_blob);

/* GetAttributeValue: the caller passes the attribute types wanted; the engine
 * fills a freshly allocated array (free with engine_attrs_free). Types the
 * object does not have, or that are sensitive, get ulValueLen =
 * CK_UNAVAILABLE_INFORMATION and the overall rv is CKR_ATTRIBUTE_SENSITIVE or
 * CKR_ATTRIBUTE_TYPE_INVALID; the array is returned in those cases too. */
CK_RV engine_get_attribute_value(engine *e, engine_bytes object, const CK_ATTRIBUTE_TYPE *types,
                                 CK_ULONG n, CK_ATTRIBUTE **out, CK_ULONG *nout);
void engine_attrs_free(CK_ATTRIBUTE *attrs, CK_ULONG n);
/* How the engine encodes an attribute's value, for converting to and from
 * GREP11's AttributeValue (TF / I / B). ENGINE_ATTR_UNKNOWN: not an attribute
 * the engine accepts. */
typedef enum {
    ENGINE_ATTR_UNKNOWN,
    ENGINE_ATTR_BOOL,
    ENGINE_ATTR_ULONG,
    ENGINE_ATTR_BYTES
} engine_attr_kind;
engine_attr_kind engine_attribute_kind(CK_ATTRIBUTE_TYPE type);
CK_RV engine_set_attribute_value(engine *e, engine_bytes object, const CK_ATTRIBUTE *tmpl,
                                 CK_ULONG n, engine_buf *new_object);
/* Re-seals a key blob under the new register; CKR_IBM_WK_NOT_INITIALIZED
 * when none is loaded. */
CK_RV engine_rewrap_key_blob(engine *e, engine_bytes blob, engine_buf *new_blob);

#ifdef __cplusplus
}
#endif

#endif /* GREP11_ENGINE_H */
