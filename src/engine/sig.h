/* Public-key signatures: schemes, the per-algorithm primitives, and the
 * flows (sig.c) that sign.c dispatches to. */
#ifndef GREP11_ENGINE_SIG_H
#define GREP11_ENGINE_SIG_H

#include "hash.h"
#include "mech.h"
#include "pkey.h"
#include "state.h"

enum {
    SIG_RSA_PKCS = 1, /* H_NONE: the caller supplies the DigestInfo */
    SIG_RSA_PSS,      /* H_NONE: the caller supplies the digest */
    SIG_RSA_X509,     /* raw RSA */
    SIG_ECDSA,        /* H_NONE: input used as the digest, any length */
    SIG_EDDSA,        /* message, buffered for multi-part */
    SIG_MLDSA,        /* pure ML-DSA through the external mu */
    SIG_HASH_MLDSA,   /* HashML-DSA; H_NONE: input is PH(M), hash in the parameter */
    SIG_DILITHIUM,    /* IBM Dilithium sets, through mu, no context */
    SIG_DSA,          /* H_NONE: input used as the digest */
    SIG_ECSDSA,       /* CKM_IBM_ECDSA_OTHER: EC-Schnorr, message buffered */
};
#define SIGALG(scheme, h) ((scheme)*256 + (h))
#define SIG_SCHEME(alg) ((alg) / 256)
#define SIG_HASH(alg) ((hashid)((alg) % 256))

/* Parsed mechanism parameter of a signature. */
typedef struct {
    /* PSS */
    hashid pss_hash, pss_mgf;
    size_t salt_len;
    /* ML-DSA: hedging and context (CK_SIGN_ADDITIONAL_CONTEXT) */
    CK_ULONG hedge;
    uint8_t ctx[255];
    size_t ctx_len;
    hashid ph; /* CKM_HASH_ML_DSA: the pre-hash named in the parameter */
    /* EdDSA (CK_EDDSA_PARAMS) */
    bool ed_ph;
    bool ed_params; /* a parameter was given (Ed25519ctx/ph semantics) */
    /* EC-Schnorr: ECSG_IBM_ECSDSA_S256 or ECSG_IBM_ECSDSA_COMPR_MULTI */
    CK_ULONG ecsg;
} sig_param;

CK_RV sig_param_parse(const mech_row *row, const engine_mech *m, const pkey *k, sig_param *p);
hashid sig_mgf_hash(CK_ULONG mgf);
hashid sig_mech_hash(CK_MECHANISM_TYPE m);

/* Primitives. digest is what the scheme signs (digest, DigestInfo, raw
 * block or whole message). Verify: CKR_SIGNATURE_INVALID or
 * CKR_SIGNATURE_LEN_RANGE on a bad signature. */
CK_RV rsa_sign(const pkey *k, int scheme, hashid h, const sig_param *p, const uint8_t *in, size_t n,
               engine_buf *sig);
CK_RV rsa_verify(const pkey *k, int scheme, hashid h, const sig_param *p, const uint8_t *in,
                 size_t n, const uint8_t *sig, size_t slen);
CK_RV ecdsa_sign(const pkey *k, const uint8_t *dgst, size_t n, engine_buf *sig);
CK_RV ecdsa_verify(const pkey *k, const uint8_t *dgst, size_t n, const uint8_t *sig, size_t slen);
CK_RV eddsa_sign(const pkey *k, const sig_param *p, const uint8_t *msg, size_t n, engine_buf *sig);
CK_RV eddsa_verify(const pkey *k, const sig_param *p, const uint8_t *msg, size_t n,
                   const uint8_t *sig, size_t slen);
/* EC-Schnorr (ecsdsa.c) on the 256-bit Weierstrass curves; variant is
 * ECSG_IBM_ECSDSA_S256 or ECSG_IBM_ECSDSA_COMPR_MULTI, the signature r || s
 * (32 + 32 bytes). ecsdsa_sign_k signs with a given nonce: for known-answer
 * tests only, no flow reaches it. */
bool ecsdsa_curve_ok(const pkey *k);
CK_RV ecsdsa_sign(const pkey *k, CK_ULONG variant, const uint8_t *msg, size_t n, engine_buf *sig);
CK_RV ecsdsa_sign_k(const pkey *k, CK_ULONG variant, const uint8_t nonce[32], const uint8_t *msg,
                    size_t n, engine_buf *sig);
CK_RV ecsdsa_verify(const pkey *k, CK_ULONG variant, const uint8_t *msg, size_t n,
                    const uint8_t *sig, size_t slen);

/* ML-DSA / Dilithium (pqc_sign.c): mu context setup and finishing. */
CK_RV mldsa_op_start(const pkey *k, int scheme, const sig_param *p, bool sign, mldsa_mu_ctx *mc);
CK_RV mldsa_op_sign(const pkey *k, const sig_param *p, const uint8_t *mu, size_t mulen,
                    engine_buf *sig);
CK_RV mldsa_op_verify(const pkey *k, const uint8_t *mu, size_t mulen, const uint8_t *sig,
                      size_t slen);
/* HashML-DSA: mu from the finished pre-hash. */
CK_RV mldsa_op_prehash_mu(const pkey *k, const sig_param *p, hashid h, const uint8_t *dg,
                          size_t dlen, uint8_t *mu, size_t mucap);
void mldsa_mu_save(const mldsa_mu_ctx *mc, wbuf *w);
bool mldsa_mu_load(mldsa_mu_ctx *mc, rbuf *r);

/* Flows (sig.c), called by sign.c with the state already opened. */
CK_RV sig_init(engine *e, op_kind op, const engine_mech *m, engine_bytes key, engine_buf *state);
CK_RV sig_update(engine *e, state_in *st, engine_bytes data, engine_buf *new_state);
CK_RV sig_sign_finish(engine *e, state_in *st, const engine_bytes *data, engine_buf *sig);
CK_RV sig_verify_finish(engine *e, state_in *st, const engine_bytes *data, engine_bytes sig);
CK_RV sig_sign_single(engine *e, engine_bytes key, const engine_mech *m, engine_bytes data,
                      engine_buf *sig);
CK_RV sig_verify_single(engine *e, engine_bytes key, const engine_mech *m, engine_bytes data,
                        engine_bytes sig);

/* MAC flows (mac.c) with the same shapes. */
CK_RV mac_init(engine *e, op_kind op, const engine_mech *m, engine_bytes key, engine_buf *state);
CK_RV mac_state_update(engine *e, state_in *st, engine_bytes data, engine_buf *new_state);
CK_RV mac_sign_finish(engine *e, state_in *st, const engine_bytes *data, engine_buf *sig);
CK_RV mac_verify_finish(engine *e, state_in *st, const engine_bytes *data, engine_bytes sig);
CK_RV mac_sign_single(engine *e, engine_bytes key, const engine_mech *m, engine_bytes data,
                      engine_buf *sig);
CK_RV mac_verify_single(engine *e, engine_bytes key, const engine_mech *m, engine_bytes data,
                        engine_bytes sig);

#endif
