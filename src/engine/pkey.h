/* Public-key objects inside the engine: private keys (sealed blobs whose
 * payload is the SPKI plus the private material), public keys (MACed or
 * plain SPKIs), curves and post-quantum parameter sets. See README.md
 * "Public-key objects". */
#ifndef GREP11_ENGINE_PKEY_H
#define GREP11_ENGINE_PKEY_H

#include <openssl/evp.h>

#include "der.h"
#include "keyobj.h"
#include "pkcache.h"

typedef enum { PK_NONE = 0, PK_RSA, PK_EC, PK_ED, PK_X, PK_MLDSA, PK_MLKEM, PK_DSA, PK_DH } pk_alg;

/* A named curve (curve.c). alg is PK_EC (short Weierstrass), PK_ED or PK_X. */
typedef struct {
    const char *name;     /* canonical name, e.g. "P-256" */
    const char *alias[3]; /* other accepted names (case-insensitive) */
    const uint8_t *oid;   /* DER OID, tag and length included */
    size_t oid_len;
    pk_alg alg;
    const char *ossl; /* OpenSSL group (EC) or key type name (Ed/X) */
    unsigned bits;    /* size reported by GetMechanismInfo */
    size_t priv_len;  /* EC: order bytes; Ed/X: raw private key bytes */
    size_t pub_len;   /* EC: uncompressed point; Ed/X: raw public key */
} curve_def;

/* A post-quantum parameter set (pqc_sets.c). */
typedef struct {
    pk_alg alg;         /* PK_MLDSA or PK_MLKEM */
    CK_KEY_TYPE ktype;  /* CKK_ML_DSA, CKK_ML_KEM, CKK_IBM_PQC_DILITHIUM, CKK_IBM_PQC_KYBER */
    CK_ULONG ckp;       /* CKP_* of a standard set, 0 for IBM sets */
    const uint8_t *oid; /* DER OID: SPKI algorithm, and CKA_IBM_PQC_PARAMS for IBM sets */
    size_t oid_len;
    int set; /* mldsa_set / mlkem_set */
    const char *name;
} pqc_def;

const curve_def *curve_by_params(const uint8_t *p, size_t len, CK_RV *why);
const curve_def *curve_by_oid(const uint8_t *oid, size_t len);
const curve_def *curve_by_name(const char *name); /* canonical name or alias */
const curve_def *curve_by_ossl(const char *name); /* OpenSSL group / key type name */
const pqc_def *pqc_by_ckp(CK_KEY_TYPE kt, CK_ULONG ckp);
/* CKA_IBM_PQC_PARAMS: a DER OID. Unknown or unimplemented sets give NULL
 * with *why = CKR_IBM_PQC_PARAMS_NOT_SUPPORTED (malformed:
 * CKR_ATTRIBUTE_VALUE_INVALID). */
const pqc_def *pqc_by_ibm_oid(CK_KEY_TYPE kt, const uint8_t *oid, size_t len, CK_RV *why);
const pqc_def *pqc_by_spki_oid(const uint8_t *oid, size_t len);
size_t pqc_pub_len(const pqc_def *q);

/* An asymmetric key as an operation sees it. */
typedef struct {
    key_obj obj; /* bound attributes; private: obj.secret = payload */
    pk_alg alg;
    const curve_def *curve; /* PK_EC / PK_ED / PK_X */
    const pqc_def *pqc;     /* PK_MLDSA / PK_MLKEM */
    uint8_t *spki;          /* owned copy of the SPKI DER */
    size_t spki_len;
    der_span pub;        /* raw public key (RSA: RSAPublicKey DER); inside spki or pub_own */
    uint8_t *pub_own;    /* IBM Dilithium: rho || t1 reassembled */
    der_span n, e;       /* RSA modulus and exponent magnitudes inside spki */
    der_span fp, fq, fg; /* DSA/DH domain parameters (magnitudes; fq empty for DH); pub = y */
    const uint8_t *priv; /* private part, inside obj.secret */
    size_t priv_len;
    bool is_private;
    bool trusted;   /* public key: the engine's MAC verified */
    pkcache *cache; /* set by the engine's loaders: pkey_evp memoizes there */
} pkey;

void pkey_clear(pkey *k);

/* ---- spki.c ---- */
/* Parses an SPKI (exactly len bytes) into k's public fields (alg, curve,
 * pqc, pub, n, e) and keeps a copy. CKR_PUBLIC_KEY_INVALID when malformed
 * or of an unsupported algorithm. */
CK_RV spki_parse(const uint8_t *der, size_t len, pkey *k);
/* Builds the SPKI for raw public material: EC point, Ed/X key, PQC key;
 * RSA takes n and e magnitudes. */
CK_RV spki_build(pk_alg alg, const curve_def *c, const pqc_def *q, const uint8_t *pub,
                 size_t publen, const uint8_t *e, size_t elen, wbuf *w);
/* MACed SPKI: SPKI || trailer (README "MACed SPKI"). */
CK_RV spki_mac_seal(const mk_register *r, const uint8_t *spki, size_t slen, const key_obj *attrs,
                    engine_buf *out);
/* Public key from client bytes: a MACed SPKI whose MAC verifies under the
 * register gets its bound attributes and trusted = true; anything else that
 * is a well-formed SPKI (trailer missing, foreign or damaged) is an
 * untrusted key usable for verify/encrypt/derive only. */
CK_RV pkey_load_public_reg(const mk_register *r, engine_bytes in, pkey *k);
CK_RV pkey_load_public(const engine *e, engine_bytes in, pkey *k);
/* CKA_KEY_TYPE of a parsed SPKI's algorithm (Edwards and Montgomery
 * curves as CKK_EC_EDWARDS / CKK_EC_MONTGOMERY). */
CK_KEY_TYPE pkey_ktype(const pkey *k);
/* Where the SPKI ends in a MACed SPKI (0 if the bytes are no SPKI). */
size_t spki_len_of(const uint8_t *p, size_t len);

/* ---- pkey_blob.c ---- */
/* Private key payload: u8 format (1) | lv(SPKI) | lv(private part). */
CK_RV pkey_payload(const uint8_t *spki, size_t slen, const uint8_t *priv, size_t plen, key_obj *k);
CK_RV pkey_load_private(const engine *e, engine_bytes blob, pkey *k);
/* Either a key blob (private key) or public-key bytes. */
CK_RV pkey_load_any(const engine *e, engine_bytes in, pkey *k);
/* True when the bytes are a sealed blob (by magic), not an SPKI. */
bool pkey_is_blob(engine_bytes in);
/* OpenSSL key for RSA/EC/Ed/X, rebuilt from the fields (private when k is). */
CK_RV pkey_evp(const pkey *k, EVP_PKEY **out);
/* A context ready to sign with a private EC (EVP_PKEY_sign) or EdDSA
 * (EVP_DigestSign) key: a copy of the key cache's template when it has one.
 * The caller frees it with pkc_signer_free. */
CK_RV pkey_signer(const pkey *k, pkc_signer *out);
/* RSA private part: lv(n) lv(e) lv(d) lv(p) lv(q) lv(dp) lv(dq) lv(qinv). */
CK_RV pkey_rsa_priv_encode(const EVP_PKEY *pk, wbuf *w);
/* Attribute checks shared by loaders: the bound parameters agree with the SPKI. */
CK_RV pkey_check_binding(const pkey *k);
/* Key size in bits for CKA_MODULUS_BITS and the checksum. */
CK_ULONG pkey_bits(const pkey *k);

/* ---- policy_pair.c ---- */
typedef struct {
    pk_alg alg;
    CK_KEY_TYPE ktype;
    const curve_def *curve;
    const pqc_def *pqc;
    CK_ULONG bits; /* RSA modulus bits */
    uint8_t e[8];  /* RSA public exponent, big-endian magnitude */
    size_t elen;
    der_span fp, fq, fg; /* DSA/DH domain parameters, borrowed from the template */
} pair_params;

/* Template rules and defaults for GenerateKeyPair (README "Key pairs"):
 * mech_kt is the key type the mechanism makes (CKK_EC for
 * CKM_EC_KEY_PAIR_GEN, which also makes Edwards/Montgomery keys when the
 * curve says so). Fills both objects' bound attributes and pp. */
CK_RV policy_new_pair(const engine *e, CK_MECHANISM_TYPE mech, CK_KEY_TYPE mech_kt,
                      const CK_ATTRIBUTE *pub, CK_ULONG npub, const CK_ATTRIBUTE *priv,
                      CK_ULONG npriv, pair_params *pp, key_obj *pubk, key_obj *privk);
/* Template rules for C_CreateObject of a public or private key: class and
 * key type given, LOCAL / ALWAYS_SENSITIVE / NEVER_EXTRACTABLE FALSE. RSA
 * sizes are checked by the caller against the modulus. */
CK_RV policy_import_asym(const engine *e, const tmpl *t, CK_OBJECT_CLASS cls, pair_params *pp,
                         key_obj *k);
/* CKA_PUBLIC_EXPONENT as given: big-endian bytes, or an 8-byte native
 * CK_ULONG (what a GREP11 AttributeI becomes); odd and >= 3. */
CK_RV policy_rsa_exponent(const CK_ATTRIBUTE *a, uint8_t e[8], size_t *elen);
/* Template rules for a key DeriveKey makes on curve c (CKM_IBM_BTC_DERIVE):
 * those of one half of a pair (class cls; CKA_EC_PARAMS, if given, must
 * name c; CKK_EC also names Edwards keys, as IBM's clients send it); never
 * LOCAL; ALWAYS_SENSITIVE / NEVER_EXTRACTABLE follow the base as for
 * derived secret keys; CKA_KEY_GEN_MECHANISM = mech. */
CK_RV policy_derive_asym(const engine *e, const tmpl *t, CK_OBJECT_CLASS cls, const curve_def *c,
                         CK_MECHANISM_TYPE mech, const key_obj *base, key_obj *k);

/* ---- keypair.c ---- */
/* Pairwise consistency of an SPKI and a private part (sign/verify,
 * encaps/decaps or public-key re-derivation); CKR_GENERAL_ERROR if not. */
CK_RV pkey_pair_check(const uint8_t *spki, size_t slen, const uint8_t *priv, size_t plen);

/* ---- ffc.c (DSA and PKCS #3 DH) ---- */
/* Domain parameters from CKA_IBM_STRUCT_PARAMS (DER Dss-Parms / DHParameter)
 * or CKA_PRIME / CKA_SUBPRIME / CKA_BASE; checked (sizes, policy, quick
 * FFC validation). */
CK_RV ffc_params(const engine *e, CK_KEY_TYPE kt, const CK_ATTRIBUTE *sp, const CK_ATTRIBUTE *p,
                 const CK_ATTRIBUTE *q, const CK_ATTRIBUTE *g, pair_params *pp);
size_t mag_bits(der_span m);
CK_RV ffc_spki_fields(pk_alg alg, der_span params, der_span key, pkey *k);
CK_RV spki_build_ffc(pk_alg alg, der_span p, der_span q, der_span g, const uint8_t *y, size_t ylen,
                     wbuf *w);
CK_RV ffc_generate(const pair_params *pp, wbuf *spki, wbuf *priv);
CK_RV ffc_evp(const pkey *k, EVP_PKEY **out);
/* y == g^x mod p (DH pairwise test and private-key import). */
CK_RV ffc_public_of(der_span p, der_span g, const uint8_t *x, size_t xlen, uint8_t *y, size_t cap,
                    size_t *ylen);
CK_RV dsa_sign(const pkey *k, const uint8_t *dgst, size_t n, engine_buf *sig);
CK_RV dsa_verify(const pkey *k, const uint8_t *dgst, size_t n, const uint8_t *sig, size_t slen);
/* GenerateKey with CKM_DSA_PARAMETER_GEN / CKM_DH_PKCS_PARAMETER_GEN: the
 * "key" is the DER of the parameters (public data; no blob). */
CK_RV ffc_paramgen(const engine *e, CK_KEY_TYPE kt, const CK_ATTRIBUTE *tmpl, CK_ULONG n,
                   engine_buf *out);

/* ---- pkcs8.c ---- */
/* PrivateKeyInfo DER of a private key (RSA/EC/Ed/X through OpenSSL;
 * ML-DSA/ML-KEM/IBM sets as { version 0, { OID }, OCTET STRING {
 * OCTET STRING expandedKey } }). */
CK_RV pkcs8_encode(const pkey *k, wbuf *w);
/* Attributes (CKA_KEY_TYPE if absent from have, key parameters and
 * values) that describe the key in a PrivateKeyInfo, appended to out from
 * index *n; values point into scratch (caller wipes and frees it). */
CK_RV pkcs8_decode(const uint8_t *der, size_t len, CK_ATTRIBUTE *out, CK_ULONG *n, CK_ULONG cap,
                   wbuf *scratch, bool need_type);
/* MACed SPKI of a private key's public half, with the usage a public key
 * of that type may have except WRAP (never trusted): UnwrapKey's checksum. */
CK_RV pkey_public_of(const engine *e, engine_bytes priv_blob, engine_buf *pub);

/* ---- wrap_transport.c ---- */
/* CKM_IBM_TRANSPORTKEY: a plain SPKI and a public-key template become a
 * MACed SPKI; the checksum is the SPKI and its bit size (u32). */
CK_RV transport_unwrap(engine *e, engine_bytes spki, const CK_ATTRIBUTE *tmpl, CK_ULONG n,
                       engine_buf *pub_key, engine_buf *checksum);

/* ---- pattrs.c ---- */
CK_RV pkey_attr_value(const pkey *k, CK_ATTRIBUTE_TYPE type, uint8_t *buf, size_t cap, size_t *len);
CK_RV pkey_get_attrs(const pkey *k, const CK_ATTRIBUTE_TYPE *types, CK_ULONG n, CK_ATTRIBUTE **out,
                     CK_ULONG *nout);
/* SetAttributeValue of a MACed SPKI (plain SPKIs: CKR_ATTRIBUTE_READ_ONLY). */
CK_RV pkey_set_attrs(const engine *e, engine_bytes object, const CK_ATTRIBUTE *tmpl_in, CK_ULONG n,
                     engine_buf *new_object);
/* RewrapKeyBlob of a MACed SPKI: re-MACed under the new register. */
CK_RV pkey_rewrap_public(const engine *e, engine_bytes object, engine_buf *new_object);

#endif
