/* grep11 post-quantum library: ML-DSA (FIPS 204), ML-KEM (FIPS 203), the
 * pre-standard CRYSTALS Dilithium/Kyber sets IBM EP11 exposes, and the
 * SHA-3/SHAKE sponge they are built on.
 *
 * Invariants every caller may rely on:
 *  - The library never draws randomness. Every random input (key seeds,
 *    hedged-signing rnd, encapsulation m) is a caller buffer, so the engine
 *    alone decides where entropy comes from and self-tests can replay it.
 *  - No global mutable state and no heap allocation: functions are
 *    re-entrant and thread-safe on distinct outputs; work space lives on the
 *    stack (below 200 KiB for the largest set).
 *  - Secret-dependent work runs in constant time (no secret branches or
 *    table indices); the only data-dependent loops are the rejection
 *    sampling loops the standards prescribe, which leak nothing about the
 *    key. Secret intermediates are wiped before return.
 *  - Fixed-size inputs must have exactly the size of their parameter set
 *    (PQC_ERR_BAD_LENGTH otherwise). Output buffers must hold at least the
 *    set's size; exactly that many bytes are written. An error found once
 *    the output buffers are known to be large enough leaves signature,
 *    ciphertext and shared-secret outputs zeroed, never stale or partial.
 *  - Streaming states (keccak_state, mldsa_mu_ctx) are plain structs with no
 *    pointers, so the engine can seal them into a blob and resume in another
 *    process of the same build (lanes are host-endian 64-bit words).
 */
#ifndef GREP11_PQC_H
#define GREP11_PQC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    PQC_OK = 0,
    PQC_ERR_BAD_PARAM,        /* NULL pointer, unknown set, bad hash id */
    PQC_ERR_BAD_LENGTH,       /* input length wrong or output too small */
    PQC_ERR_BAD_KEY,          /* key fails its decoding/range/hash checks */
    PQC_ERR_BAD_SIGNATURE,    /* signature encoding malformed (hints) */
    PQC_ERR_VERIFY_FAILED,    /* well-formed signature that does not verify */
    PQC_ERR_CONTEXT_TOO_LONG, /* ML-DSA context string over 255 bytes */
    PQC_ERR_UNSUPPORTED,      /* set known by name but not implementable */
    PQC_ERR_STATE,            /* streaming context used out of order */
    PQC_ERR_INTERNAL          /* a libcrypto digest call failed */
} pqc_rv;

/* Short English name of an rv, for logs (never contains data). */
const char *pqc_rv_str(pqc_rv rv);

/* ------------------------------------------------------------------------
 * SHA-3 / SHAKE (FIPS 202). Own Keccak-f[1600]; the state is serializable.
 * ---------------------------------------------------------------------- */

typedef struct {
    uint64_t s[25];    /* Keccak lanes, host order */
    uint32_t pos;      /* byte offset inside the current rate block */
    uint16_t rate;     /* rate in bytes: 168 SHAKE128, 136 SHAKE256, ... */
    uint8_t dsbyte;    /* domain bits + first pad bit: 0x06 SHA-3, 0x1F SHAKE */
    uint8_t squeezing; /* 0 while absorbing, 1 once finalized */
} keccak_state;

/* rate_bytes must be < 200 and a multiple of 8; returns PQC_ERR_BAD_PARAM else. */
pqc_rv keccak_init(keccak_state *st, unsigned rate_bytes, uint8_t dsbyte);
/* Absorbing after the first squeeze is a usage error (PQC_ERR_STATE). */
pqc_rv keccak_absorb(keccak_state *st, const uint8_t *in, size_t len);
/* Squeezing pads and finalizes on first use; it may then be called again. */
pqc_rv keccak_squeeze(keccak_state *st, uint8_t *out, size_t len);
void keccak_wipe(keccak_state *st);

void shake128_init(keccak_state *st);
void shake256_init(keccak_state *st);
/* bits in {224, 256, 384, 512}; PQC_ERR_BAD_PARAM otherwise. */
pqc_rv sha3_init(keccak_state *st, unsigned bits);

void shake128(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen);
void shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen);
void sha3_224(uint8_t out[28], const uint8_t *in, size_t inlen);
void sha3_256(uint8_t out[32], const uint8_t *in, size_t inlen);
void sha3_384(uint8_t out[48], const uint8_t *in, size_t inlen);
void sha3_512(uint8_t out[64], const uint8_t *in, size_t inlen);

/* ------------------------------------------------------------------------
 * Pre-hash functions for HashML-DSA (FIPS 204 section 5.4).
 * ---------------------------------------------------------------------- */

typedef enum {
    PQC_HASH_SHA224 = 1,
    PQC_HASH_SHA256,
    PQC_HASH_SHA384,
    PQC_HASH_SHA512,
    PQC_HASH_SHA512_224,
    PQC_HASH_SHA512_256,
    PQC_HASH_SHA3_224,
    PQC_HASH_SHA3_256,
    PQC_HASH_SHA3_384,
    PQC_HASH_SHA3_512,
    PQC_HASH_SHAKE128, /* 256-bit output, as FIPS 204 fixes it */
    PQC_HASH_SHAKE256  /* 512-bit output */
} pqc_hash;

/* Digest length of ph in bytes, 0 if ph is unknown. */
size_t pqc_hash_bytes(pqc_hash ph);
/* One-shot PH(msg). SHA-2 goes through libcrypto (nothing of it is kept
 * between calls); SHA-3/SHAKE use the Keccak above. */
pqc_rv pqc_prehash(pqc_hash ph, const uint8_t *msg, size_t msglen, uint8_t *digest,
                   size_t digest_cap);

/* ------------------------------------------------------------------------
 * ML-DSA and CRYSTALS-Dilithium.
 *
 * One code base serves all sets; the set decides the parameters and the
 * round-specific rules (seed expansion, tr/mu sizes, challenge encoding).
 *
 * Randomness per set (mldsa_rnd_bytes):
 *  - ML-DSA: rnd is 32 bytes; all-zero rnd (or rnd == NULL) gives the
 *    deterministic variant, exactly as FIPS 204 defines it.
 *  - Dilithium round 3: rnd is 64 bytes and is used directly as rho'
 *    (the reference's randomized build); all-zero/NULL selects the
 *    deterministic rho' = H(K || mu) of the default build.
 *  - Dilithium round 2: same rule with 48 bytes.
 * Legacy sets take no context string and have no pre-hash mode.
 * ---------------------------------------------------------------------- */

typedef enum {
    MLDSA_44 = 1,
    MLDSA_65,
    MLDSA_87,
    DILITHIUM_R3_2,  /* round 3 v3.1 (4,4), OID 1.3.6.1.4.1.2.267.7.4.4 */
    DILITHIUM_R3_3,  /* round 3 v3.1 (6,5), OID 1.3.6.1.4.1.2.267.7.6.5 */
    DILITHIUM_R3_5,  /* round 3 v3.1 (8,7), OID 1.3.6.1.4.1.2.267.7.8.7 */
    DILITHIUM_R2_65, /* round 2 (6,5), OID 1.3.6.1.4.1.2.267.1.6.5 */
    DILITHIUM_R2_87  /* IBM round 2 (8,7): no public definition exists, so
                        every operation returns PQC_ERR_UNSUPPORTED */
} mldsa_set;

/* Sizes in bytes; all return 0 for an unknown or unsupported set. */
size_t mldsa_pk_bytes(mldsa_set set);
size_t mldsa_sk_bytes(mldsa_set set);
size_t mldsa_sig_bytes(mldsa_set set);
size_t mldsa_seed_bytes(mldsa_set set); /* keygen input: 32 (r2: 96) */
size_t mldsa_rnd_bytes(mldsa_set set);  /* signing randomness, see above */
size_t mldsa_tr_bytes(mldsa_set set);
size_t mldsa_mu_bytes(mldsa_set set);
const char *mldsa_set_name(mldsa_set set);

/* KeyGen_internal: the whole key pair is a function of seed (xi for ML-DSA,
 * zeta for round 3, rho||rho'||K for round 2). */
pqc_rv mldsa_keygen_internal(mldsa_set set, const uint8_t *seed, size_t seedlen, uint8_t *pk,
                             size_t pkcap, uint8_t *sk, size_t skcap);
/* KeyGen: same computation, named for the normal path where the engine
 * passes mldsa_seed_bytes() fresh bytes from its DRBG. Keep the bytes
 * secret (they are the private key) and wipe them after the call. */
pqc_rv mldsa_keygen(mldsa_set set, const uint8_t *random, size_t randomlen, uint8_t *pk,
                    size_t pkcap, uint8_t *sk, size_t skcap);

/* Key and signature decoders used as validity checks on import.
 * pk: any bit pattern of the right length decodes (length only).
 * sk: length, and s1/s2 coefficients within [-eta, eta] (PQC_ERR_BAD_KEY).
 * sig: length, and hint encoding canonical (PQC_ERR_BAD_SIGNATURE). */
pqc_rv mldsa_pk_check(mldsa_set set, const uint8_t *pk, size_t pklen);
pqc_rv mldsa_sk_check(mldsa_set set, const uint8_t *sk, size_t sklen);
pqc_rv mldsa_sig_check(mldsa_set set, const uint8_t *sig, size_t siglen);
/* Recomputes the public key from an expanded secret key; PQC_ERR_BAD_KEY if
 * the sk's own t0 or tr disagree with it (catches tampered/mismatched keys). */
pqc_rv mldsa_pk_from_sk(mldsa_set set, const uint8_t *sk, size_t sklen, uint8_t *pk, size_t pkcap);

/* Pure ML-DSA with a context (ctxlen <= 255). Legacy sets: ctxlen must be 0
 * and msg is the whole signed message. */
pqc_rv mldsa_sign(mldsa_set set, const uint8_t *sk, size_t sklen, const uint8_t *msg, size_t msglen,
                  const uint8_t *ctx, size_t ctxlen, const uint8_t *rnd, size_t rndlen,
                  uint8_t *sig, size_t sigcap);
pqc_rv mldsa_verify(mldsa_set set, const uint8_t *pk, size_t pklen, const uint8_t *msg,
                    size_t msglen, const uint8_t *ctx, size_t ctxlen, const uint8_t *sig,
                    size_t siglen);

/* HashML-DSA: M' = 0x01 || len(ctx) || ctx || OID(ph) || PH(msg).
 * ML-DSA sets only (PQC_ERR_BAD_PARAM for legacy sets). */
pqc_rv mldsa_hash_sign(mldsa_set set, const uint8_t *sk, size_t sklen, pqc_hash ph,
                       const uint8_t *msg, size_t msglen, const uint8_t *ctx, size_t ctxlen,
                       const uint8_t *rnd, size_t rndlen, uint8_t *sig, size_t sigcap);
pqc_rv mldsa_hash_verify(mldsa_set set, const uint8_t *pk, size_t pklen, pqc_hash ph,
                         const uint8_t *msg, size_t msglen, const uint8_t *ctx, size_t ctxlen,
                         const uint8_t *sig, size_t siglen);

/* Sign_internal / Verify_internal: mprime is M' exactly as given (no
 * domain prefix is added; for legacy sets this is the plain message). */
pqc_rv mldsa_sign_internal(mldsa_set set, const uint8_t *sk, size_t sklen, const uint8_t *mprime,
                           size_t mlen, const uint8_t *rnd, size_t rndlen, uint8_t *sig,
                           size_t sigcap);
pqc_rv mldsa_verify_internal(mldsa_set set, const uint8_t *pk, size_t pklen, const uint8_t *mprime,
                             size_t mlen, const uint8_t *sig, size_t siglen);

/* External-mu: mu = H(tr || M', mldsa_mu_bytes). Signing and verifying
 * given mu lets the message be hashed elsewhere or in pieces. */
pqc_rv mldsa_sign_mu(mldsa_set set, const uint8_t *sk, size_t sklen, const uint8_t *mu,
                     size_t mulen, const uint8_t *rnd, size_t rndlen, uint8_t *sig, size_t sigcap);
pqc_rv mldsa_verify_mu(mldsa_set set, const uint8_t *pk, size_t pklen, const uint8_t *mu,
                       size_t mulen, const uint8_t *sig, size_t siglen);

/* Incremental mu. The whole state is this struct (no pointers, no libcrypto
 * objects): seal it between update calls and resume anywhere. */
typedef struct {
    keccak_state ks; /* SHAKE256 that has absorbed tr || prefix || data */
    uint32_t magic;  /* MLDSA_MU_MAGIC while usable; 0 after final */
    uint32_t set;    /* mldsa_set the mu is for */
} mldsa_mu_ctx;
#define MLDSA_MU_MAGIC 0x6d754d31u

/* Pure form: absorbs tr and the 0x00 || len(ctx) || ctx prefix (nothing for
 * legacy sets, which require ctxlen == 0). tr is mldsa_tr_bytes long. */
pqc_rv mldsa_mu_init(mldsa_mu_ctx *mc, mldsa_set set, const uint8_t *tr, size_t trlen,
                     const uint8_t *ctx, size_t ctxlen);
/* Same, deriving tr from the public key (tr = H(pk)) or reading it from the
 * expanded secret key. */
pqc_rv mldsa_mu_init_pk(mldsa_mu_ctx *mc, mldsa_set set, const uint8_t *pk, size_t pklen,
                        const uint8_t *ctx, size_t ctxlen);
pqc_rv mldsa_mu_init_sk(mldsa_mu_ctx *mc, mldsa_set set, const uint8_t *sk, size_t sklen,
                        const uint8_t *ctx, size_t ctxlen);
/* Internal form: absorbs only tr; the caller streams M' itself. */
pqc_rv mldsa_mu_init_internal(mldsa_mu_ctx *mc, mldsa_set set, const uint8_t *tr, size_t trlen);
pqc_rv mldsa_mu_update(mldsa_mu_ctx *mc, const uint8_t *data, size_t len);
/* Writes mu and wipes the context; a second final is PQC_ERR_STATE. */
pqc_rv mldsa_mu_final(mldsa_mu_ctx *mc, uint8_t *mu, size_t mucap);
/* HashML-DSA mu from an already computed PH(M) (digestlen must match ph),
 * for callers that stream the pre-hash themselves. */
pqc_rv mldsa_prehash_mu(mldsa_set set, const uint8_t *tr, size_t trlen, const uint8_t *ctx,
                        size_t ctxlen, pqc_hash ph, const uint8_t *digest, size_t digestlen,
                        uint8_t *mu, size_t mucap);

/* ------------------------------------------------------------------------
 * ML-KEM and CRYSTALS-Kyber round 2.
 *
 * Key checks (FIPS 203 sections 7.2 and 7.3) apply to every set: an ek with
 * a coefficient >= q is rejected, and a dk whose stored H(ek) does not match
 * its embedded ek is rejected. The round-2 reference does not check, but no
 * honestly generated key fails, so being strict costs nothing.
 * Round 2 differs in hashing: keygen (rho, sigma) = G(d); encapsulation
 * hashes its 32 random bytes first (m = H(random)) and outputs
 * K = SHAKE256(Kbar || H(c)); rejection gives SHAKE256(z || H(c)).
 * ---------------------------------------------------------------------- */

typedef enum {
    MLKEM_512 = 1,
    MLKEM_768,
    MLKEM_1024,
    KYBER_R2_768, /* OID 1.3.6.1.4.1.2.267.5.3.3 */
    KYBER_R2_1024 /* OID 1.3.6.1.4.1.2.267.5.4.4 */
} mlkem_set;

#define MLKEM_SS_BYTES 32
#define MLKEM_SEED_BYTES 32 /* d, z and m are each 32 bytes */

size_t mlkem_ek_bytes(mlkem_set set);
size_t mlkem_dk_bytes(mlkem_set set);
size_t mlkem_ct_bytes(mlkem_set set);
const char *mlkem_set_name(mlkem_set set);

/* KeyGen_internal(d, z): deterministic in (d, z), each 32 bytes. */
pqc_rv mlkem_keygen_internal(mlkem_set set, const uint8_t *d, size_t dlen, const uint8_t *z,
                             size_t zlen, uint8_t *ek, size_t ekcap, uint8_t *dk, size_t dkcap);
/* KeyGen from 64 caller-supplied random bytes, used as d || z. */
pqc_rv mlkem_keygen(mlkem_set set, const uint8_t *random, size_t randomlen, uint8_t *ek,
                    size_t ekcap, uint8_t *dk, size_t dkcap);
/* Encaps_internal(ek, m). Runs the ek check first (PQC_ERR_BAD_KEY). */
pqc_rv mlkem_encaps_internal(mlkem_set set, const uint8_t *ek, size_t eklen, const uint8_t *m,
                             size_t mlen, uint8_t *ct, size_t ctcap, uint8_t *ss, size_t sscap);
/* Encaps with 32 caller-supplied random bytes as m. */
pqc_rv mlkem_encaps(mlkem_set set, const uint8_t *ek, size_t eklen, const uint8_t *random,
                    size_t randomlen, uint8_t *ct, size_t ctcap, uint8_t *ss, size_t sscap);
/* Decaps with implicit rejection: a well-sized but wrong ciphertext gives
 * PQC_OK and the pseudo-random rejection key, never an error, so callers
 * cannot become a decryption-failure oracle. Errors only for lengths and a
 * dk that fails its check. */
pqc_rv mlkem_decaps(mlkem_set set, const uint8_t *dk, size_t dklen, const uint8_t *ct, size_t ctlen,
                    uint8_t *ss, size_t sscap);

pqc_rv mlkem_ek_check(mlkem_set set, const uint8_t *ek, size_t eklen);
pqc_rv mlkem_dk_check(mlkem_set set, const uint8_t *dk, size_t dklen);

#ifdef __cplusplus
}
#endif

#endif /* GREP11_PQC_H */
