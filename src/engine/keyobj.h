/* Key objects inside the engine, their bound attributes, and templates. */
#ifndef GREP11_ENGINE_KEYOBJ_H
#define GREP11_ENGINE_KEYOBJ_H

#include "buf.h"
#include "internal.h"

/* Boolean attributes bound in a key blob, as bits. */
enum {
    KF_ENCRYPT = 1u << 0,
    KF_DECRYPT = 1u << 1,
    KF_SIGN = 1u << 2,
    KF_VERIFY = 1u << 3,
    KF_WRAP = 1u << 4,
    KF_UNWRAP = 1u << 5,
    KF_DERIVE = 1u << 6,
    KF_SENSITIVE = 1u << 7,
    KF_EXTRACTABLE = 1u << 8,
    KF_ALWAYS_SENSITIVE = 1u << 9,
    KF_NEVER_EXTRACTABLE = 1u << 10,
    KF_LOCAL = 1u << 11,
    KF_TRUSTED = 1u << 12,
    KF_WRAP_WITH_TRUSTED = 1u << 13,
    KF_MODIFIABLE = 1u << 14,
    KF_ATTRBOUND = 1u << 15,
};
#define KF_USAGE (KF_ENCRYPT | KF_DECRYPT | KF_SIGN | KF_VERIFY | KF_WRAP | KF_UNWRAP | KF_DERIVE)

/* Longest CKA_ALLOWED_MECHANISMS a key may carry. */
#define KEY_MAX_ALLOWED_MECHS 32

/* A GetAttributeValue buffer for one secret-key attribute. */
#define KEY_ATTR_BUF 1024

typedef struct {
    CK_OBJECT_CLASS cls;
    CK_KEY_TYPE ktype;
    CK_ULONG val_len;           /* bytes */
    CK_MECHANISM_TYPE gen_mech; /* CK_UNAVAILABLE_INFORMATION when not generated here */
    uint32_t flags;             /* KF_* */
    uint8_t *secret;            /* secret; engine_freezero. Private keys: the payload */
    size_t vlen;
    /* Public/private keys only (bound, encoded only when set): */
    CK_ULONG mod_bits;             /* CKA_MODULUS_BITS (RSA) */
    CK_ULONG param_set;            /* CKA_PARAMETER_SET (ML-DSA, ML-KEM) */
    CK_ATTRIBUTE_TYPE params_type; /* CKA_EC_PARAMS or CKA_IBM_PQC_PARAMS, 0 = none */
    uint8_t params[32];            /* its value: a DER OID */
    size_t params_len;
    /* CKA_ALLOWED_MECHANISMS (bound, encoded only when set): no entries
     * means every mechanism the key's type and usage flags allow. */
    CK_MECHANISM_TYPE allowed[KEY_MAX_ALLOWED_MECHS];
    size_t n_allowed;
} key_obj;

#define KEY_MAX_PAYLOAD (64u * 1024u) /* private-key payload cap */

void key_obj_clear(key_obj *k);
/* The KF_* bit of a boolean bound attribute; 0 for any other attribute. */
uint32_t key_bool_flag(CK_ATTRIBUTE_TYPE type);

/* ---- Attribute catalogue and templates (template.c) ---- */
typedef enum {
    AK_BOOL,
    AK_ULONG,
    AK_BYTES,
    AK_MECHS /* CK_MECHANISM_TYPE array, at most KEY_MAX_ALLOWED_MECHS */
} attr_kind;
typedef enum {
    AR_BOUND,     /* policy attribute, lives in the blob */
    AR_ENGINE,    /* set by the engine only: read-only in every template */
    AR_VALUE,     /* CKA_VALUE: import only */
    AR_CHECK,     /* CKA_CHECK_VALUE: computed; may be given on import to be checked */
    AR_NONBOUND,  /* accepted and left to the caller (label, id, token, …) */
    AR_FALSEONLY, /* accepted only as FALSE (sign/verify recover, always authenticate) */
    AR_KEYPARAM,  /* key-pair parameter: modulus bits, exponent, curve, parameter set */
    AR_PUBINFO,   /* public value the engine computes (modulus, EC point, SPKI); import input */
    AR_PRIVVAL    /* RSA private components: private-key import only */
} attr_role;

typedef struct {
    CK_ATTRIBUTE_TYPE type;
    attr_kind kind;
    attr_role role;
    uint32_t flag; /* KF_ bit for bound booleans */
} attr_def;

#define TMPL_MAX_DEFS 64
typedef struct {
    const CK_ATTRIBUTE *slot[TMPL_MAX_DEFS]; /* by catalogue index; NULL = absent */
} tmpl;

const attr_def *attr_find(CK_ATTRIBUTE_TYPE type, int *index);
/* Checks types, lengths and duplicates; fills t. */
CK_RV tmpl_parse(const CK_ATTRIBUTE *a, CK_ULONG n, tmpl *t);
const CK_ATTRIBUTE *tmpl_get(const tmpl *t, CK_ATTRIBUTE_TYPE type);
bool tmpl_bool(const tmpl *t, CK_ATTRIBUTE_TYPE type, bool *val); /* false if absent */
bool tmpl_ulong(const tmpl *t, CK_ATTRIBUTE_TYPE type, CK_ULONG *val);

/* ---- Blob (de)serialization of key objects (keyobj.c) ---- */
CK_RV key_seal(const mk_register *r, const key_obj *k, engine_buf *blob);
/* Unseals under the current register. Failure classes map per blob_key_rv. */
CK_RV key_unseal(const engine *e, engine_bytes blob, key_obj *k);
CK_RV key_unseal_reg(const mk_register *r, engine_bytes blob, key_obj *k);
/* Bound-attribute encoding (also the MACed SPKI trailer; for the fuzzer and tests). */
CK_RV key_attrs_decode(const uint8_t *p, size_t len, key_obj *k);
void key_attrs_encode(const key_obj *k, wbuf *w);
/* CKA_CHECK_VALUE (3 bytes) and the GenerateKey CheckSum (CV || bits u32 BE). */
CK_RV key_check_value(const key_obj *k, uint8_t cv[3]);
/* CKA_ALLOWED_MECHANISMS for GetAttributeValue (empty when unrestricted). */
CK_RV key_allowed_value(const key_obj *k, uint8_t *buf, size_t cap, size_t *len);
CK_RV key_checksum(const key_obj *k, engine_buf *checksum);

/* ---- Policy (policy.c) ---- */
typedef enum { ORIGIN_GENERATE, ORIGIN_IMPORT, ORIGIN_UNWRAP, ORIGIN_DERIVE } key_origin;
typedef struct {
    key_origin origin;
    CK_MECHANISM_TYPE mech; /* generating / deriving mechanism */
    CK_KEY_TYPE mech_ktype; /* key type the mechanism implies, or CK_UNAVAILABLE_INFORMATION */
    CK_ULONG val_len;       /* known length (unwrap/import), 0 = from template */
    const key_obj *base;    /* derive: the base key */
} key_ctx;

/* Builds a secret key object from a template. Value is not touched: the
 * caller fills k->secret afterwards (generate/derive) or it came from the
 * template (import). */
CK_RV policy_new_secret(const engine *e, const tmpl *t, const key_ctx *ctx, key_obj *k);
/* Applies SetAttributeValue rules to a copy of k. */
CK_RV policy_set_attrs(const engine *e, const tmpl *t, key_obj *k);
/* Usage flags a key of this class and type may have. */
uint32_t policy_usage(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt);
/* Usage flags a template may turn on: policy_usage plus flags applications
 * commonly state that no mechanism of the type can use (stored, inert). */
uint32_t policy_usage_accepted(CK_OBJECT_CLASS cls, CK_KEY_TYPE kt);
/* Usage check for one operation: the usage flag (KF_ENCRYPT etc.) and the
 * key's CKA_ALLOWED_MECHANISMS (CKR_MECHANISM_INVALID outside it). */
CK_RV policy_check_usage(const key_obj *k, uint32_t kf, CK_MECHANISM_TYPE mech);
/* Whether k's CKA_ALLOWED_MECHANISMS (empty: any) admits mech. */
bool policy_allows(const key_obj *k, CK_MECHANISM_TYPE mech);
/* CKA_ALLOWED_MECHANISMS of a parsed template into k, and whether a
 * template's list equals k's. */
void policy_allowed_from(const CK_ATTRIBUTE *a, key_obj *k);
bool policy_allowed_equal(const CK_ATTRIBUTE *a, const key_obj *k);
/* Template + policy + seal for a secret whose bytes are in hand (import,
 * unwrap, derive); keys.c. */
CK_RV keys_make_secret(const engine *e, const CK_ATTRIBUTE *tmpl_in, CK_ULONG n, const key_ctx *ctx,
                       const uint8_t *val, size_t vlen, engine_buf *key_blob, engine_buf *checksum);
/* Length rules per key type, shared by every origin. */
CK_RV policy_check_len(const engine *e, CK_KEY_TYPE kt, size_t len);

#endif
