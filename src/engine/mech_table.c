/* The mechanism table: one row per mechanism that works, from which
 * GetMechanismList, GetMechanismInfo and the names come. A mechanism not in
 * this table is CKR_MECHANISM_INVALID everywhere. */
#include <string.h>

#include "hash.h"
#include "internal.h"
#include "mech.h"
#include "sig.h"

#define HW CKF_HW
#define ROW(m, lo, hi, fl, fam, a)                                                                 \
    {                                                                                              \
        .type = m, .name = #m, .min_key = lo, .max_key = hi, .flags = (fl) | HW, .family = fam,    \
        .alg = a                                                                                   \
    }
/* A row whose mechanism also wraps and unwraps keys. */
#define ROWW(m, lo, hi, fl, fam, a, w)                                                             \
    {                                                                                              \
        .type = m, .name = #m, .min_key = lo, .max_key = hi,                                       \
        .flags = (fl) | CKF_WRAP | CKF_UNWRAP | HW, .family = fam, .alg = a, .wrap = w             \
    }
/* Key-pair generation (sizes in bits; RSA's minimum follows policy). */
#define PAIR(m, lo, hi, fl, kt)                                                                    \
    {                                                                                              \
        .type = m, .name = #m, .min_key = lo, .max_key = hi,                                       \
        .flags = (fl) | CKF_GENERATE_KEY_PAIR | HW, .family = MF_KEYPAIR, .pair_kt = kt            \
    }
/* Signatures: scheme and the hash the token computes (H_NONE: input is
 * the digest, DigestInfo or message as the scheme defines). */
#define SIGN(m, lo, hi, fl, scheme, h, ...)                                                        \
    {                                                                                              \
        .type = m, .name = #m, .min_key = lo, .max_key = hi,                                       \
        .flags = (fl) | CKF_SIGN | CKF_VERIFY | HW, .family = MF_SIG, .alg = SIGALG(scheme, h),    \
        __VA_ARGS__                                                                                \
    }
#define ECF (CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS)
#define RSAPKCS (CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP)

static const mech_row ROWS[] = {
    /* Key generation (sizes in bytes). */
    ROW(CKM_AES_KEY_GEN, 16, 32, CKF_GENERATE, MF_KEYGEN, CKK_AES),
    ROW(CKM_DES2_KEY_GEN, 16, 16, CKF_GENERATE, MF_KEYGEN, CKK_DES2),
    ROW(CKM_DES3_KEY_GEN, 24, 24, CKF_GENERATE, MF_KEYGEN, CKK_DES3),
    ROW(CKM_GENERIC_SECRET_KEY_GEN, 0, 0, CKF_GENERATE, MF_KEYGEN, CKK_GENERIC_SECRET),
    /* Ciphers (key sizes in bytes). */
    ROW(CKM_AES_ECB, 16, 32, CKF_ENCRYPT | CKF_DECRYPT, MF_CIPHER, 0),
    ROW(CKM_AES_CBC, 16, 32, CKF_ENCRYPT | CKF_DECRYPT, MF_CIPHER, 0),
    ROWW(CKM_AES_CBC_PAD, 16, 32, CKF_ENCRYPT | CKF_DECRYPT, MF_CIPHER, 0, WRAP_CBC_PAD),
    ROW(CKM_AES_CTR, 16, 32, CKF_ENCRYPT | CKF_DECRYPT, MF_CIPHER, 0),
    ROW(CKM_AES_GCM, 16, 32, CKF_ENCRYPT | CKF_DECRYPT, MF_CIPHER, 0),
    ROW(CKM_DES3_ECB, 16, 24, CKF_ENCRYPT | CKF_DECRYPT, MF_CIPHER, 0),
    ROW(CKM_DES3_CBC, 16, 24, CKF_ENCRYPT | CKF_DECRYPT, MF_CIPHER, 0),
    ROWW(CKM_DES3_CBC_PAD, 16, 24, CKF_ENCRYPT | CKF_DECRYPT, MF_CIPHER, 0, WRAP_CBC_PAD),
    /* MACs: HMAC keys are generic secrets (sizes follow policy); CMAC keys AES. */
    ROW(CKM_SHA_1_HMAC, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA1),
    ROW(CKM_SHA_1_HMAC_GENERAL, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA1 | MECH_GENERAL),
    ROW(CKM_SHA224_HMAC, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA224),
    ROW(CKM_SHA224_HMAC_GENERAL, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA224 | MECH_GENERAL),
    ROW(CKM_SHA256_HMAC, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA256),
    ROW(CKM_SHA256_HMAC_GENERAL, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA256 | MECH_GENERAL),
    ROW(CKM_SHA384_HMAC, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA384),
    ROW(CKM_SHA384_HMAC_GENERAL, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA384 | MECH_GENERAL),
    ROW(CKM_SHA512_HMAC, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA512),
    ROW(CKM_SHA512_HMAC_GENERAL, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA512 | MECH_GENERAL),
    ROW(CKM_SHA512_224_HMAC, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA512_224),
    ROW(CKM_SHA512_224_HMAC_GENERAL, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC,
        H_SHA512_224 | MECH_GENERAL),
    ROW(CKM_SHA512_256_HMAC, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA512_256),
    ROW(CKM_SHA512_256_HMAC_GENERAL, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC,
        H_SHA512_256 | MECH_GENERAL),
    ROW(CKM_SHA3_224_HMAC, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA3_224),
    ROW(CKM_SHA3_224_HMAC_GENERAL, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA3_224 | MECH_GENERAL),
    ROW(CKM_SHA3_256_HMAC, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA3_256),
    ROW(CKM_SHA3_256_HMAC_GENERAL, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA3_256 | MECH_GENERAL),
    ROW(CKM_SHA3_384_HMAC, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA3_384),
    ROW(CKM_SHA3_384_HMAC_GENERAL, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA3_384 | MECH_GENERAL),
    ROW(CKM_SHA3_512_HMAC, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA3_512),
    ROW(CKM_SHA3_512_HMAC_GENERAL, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA3_512 | MECH_GENERAL),
    ROW(CKM_IBM_SHA512_224_HMAC, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA512_224),
    ROW(CKM_IBM_SHA512_256_HMAC, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA512_256),
    ROW(CKM_IBM_SHA3_224_HMAC, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA3_224),
    ROW(CKM_IBM_SHA3_256_HMAC, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA3_256),
    ROW(CKM_IBM_SHA3_384_HMAC, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA3_384),
    ROW(CKM_IBM_SHA3_512_HMAC, 0, 0, CKF_SIGN | CKF_VERIFY, MF_HMAC, H_SHA3_512),
    ROW(CKM_AES_CMAC, 16, 32, CKF_SIGN | CKF_VERIFY, MF_CMAC, 0),
    ROW(CKM_AES_CMAC_GENERAL, 16, 32, CKF_SIGN | CKF_VERIFY, MF_CMAC, MECH_GENERAL),
    /* Key wrapping (wrapping-key sizes in bytes). */
    ROWW(CKM_AES_KEY_WRAP, 16, 32, 0, MF_WRAP, 0, WRAP_KW),
    ROWW(CKM_AES_KEY_WRAP_PAD, 16, 32, 0, MF_WRAP, 0, WRAP_KWP),
    ROWW(CKM_AES_KEY_WRAP_KWP, 16, 32, 0, MF_WRAP, 0, WRAP_KWP),
    /* Under an AES key or an RSA public key, with a MAC key (wrap_attrbound.c). */
    ROW(CKM_IBM_ATTRIBUTEBOUND_WRAP, 16, 4096, CKF_WRAP | CKF_UNWRAP, MF_WRAP, 0),
    /* UnwrapKey of a plain SPKI into a MACed one (wrap_transport.c). */
    ROW(CKM_IBM_TRANSPORTKEY, 0, 0, CKF_UNWRAP, MF_WRAP, 0),
    /* Key derivation (base key sizes follow policy). */
    ROW(CKM_HKDF_DERIVE, 0, 0, CKF_DERIVE, MF_DERIVE, H_NONE),
    ROW(CKM_SHA1_KEY_DERIVATION, 0, 0, CKF_DERIVE, MF_DERIVE, H_SHA1),
    ROW(CKM_SHA224_KEY_DERIVATION, 0, 0, CKF_DERIVE, MF_DERIVE, H_SHA224),
    ROW(CKM_SHA256_KEY_DERIVATION, 0, 0, CKF_DERIVE, MF_DERIVE, H_SHA256),
    ROW(CKM_SHA384_KEY_DERIVATION, 0, 0, CKF_DERIVE, MF_DERIVE, H_SHA384),
    ROW(CKM_SHA512_KEY_DERIVATION, 0, 0, CKF_DERIVE, MF_DERIVE, H_SHA512),
    ROW(CKM_SHA512_224_KEY_DERIVATION, 0, 0, CKF_DERIVE, MF_DERIVE, H_SHA512_224),
    ROW(CKM_SHA512_256_KEY_DERIVATION, 0, 0, CKF_DERIVE, MF_DERIVE, H_SHA512_256),
    ROW(CKM_SHA3_224_KEY_DERIVATION, 0, 0, CKF_DERIVE, MF_DERIVE, H_SHA3_224),
    ROW(CKM_SHA3_256_KEY_DERIVATION, 0, 0, CKF_DERIVE, MF_DERIVE, H_SHA3_256),
    ROW(CKM_SHA3_384_KEY_DERIVATION, 0, 0, CKF_DERIVE, MF_DERIVE, H_SHA3_384),
    ROW(CKM_SHA3_512_KEY_DERIVATION, 0, 0, CKF_DERIVE, MF_DERIVE, H_SHA3_512),
    /* Key pairs (sizes in bits). */
    PAIR(CKM_RSA_PKCS_KEY_PAIR_GEN, 2048, 4096, 0, CKK_RSA),
    PAIR(CKM_EC_KEY_PAIR_GEN, 224, 521, ECF, CKK_EC),
    PAIR(CKM_EC_EDWARDS_KEY_PAIR_GEN, 255, 448, CKF_EC_NAMEDCURVE, CKK_EC_EDWARDS),
    PAIR(CKM_EC_MONTGOMERY_KEY_PAIR_GEN, 255, 448, CKF_EC_NAMEDCURVE, CKK_EC_MONTGOMERY),
    PAIR(CKM_ML_DSA_KEY_PAIR_GEN, CKP_ML_DSA_44, CKP_ML_DSA_87, 0, CKK_ML_DSA),
    PAIR(CKM_ML_KEM_KEY_PAIR_GEN, CKP_ML_KEM_512, CKP_ML_KEM_1024, 0, CKK_ML_KEM),
    /* RSA signatures (and CKM_RSA_PKCS / CKM_RSA_X_509 encryption). */
    SIGN(CKM_RSA_PKCS, 2048, 4096, RSAPKCS, SIG_RSA_PKCS, H_NONE, .crypt = RC_PKCS1),
    SIGN(CKM_RSA_X_509, 2048, 4096, CKF_ENCRYPT | CKF_DECRYPT, SIG_RSA_X509, H_NONE,
         .crypt = RC_X509),
    SIGN(CKM_SHA1_RSA_PKCS, 2048, 4096, 0, SIG_RSA_PKCS, H_SHA1),
    SIGN(CKM_SHA224_RSA_PKCS, 2048, 4096, 0, SIG_RSA_PKCS, H_SHA224),
    SIGN(CKM_SHA256_RSA_PKCS, 2048, 4096, 0, SIG_RSA_PKCS, H_SHA256),
    SIGN(CKM_SHA384_RSA_PKCS, 2048, 4096, 0, SIG_RSA_PKCS, H_SHA384),
    SIGN(CKM_SHA512_RSA_PKCS, 2048, 4096, 0, SIG_RSA_PKCS, H_SHA512),
    SIGN(CKM_SHA3_224_RSA_PKCS, 2048, 4096, 0, SIG_RSA_PKCS, H_SHA3_224),
    SIGN(CKM_SHA3_256_RSA_PKCS, 2048, 4096, 0, SIG_RSA_PKCS, H_SHA3_256),
    SIGN(CKM_SHA3_384_RSA_PKCS, 2048, 4096, 0, SIG_RSA_PKCS, H_SHA3_384),
    SIGN(CKM_SHA3_512_RSA_PKCS, 2048, 4096, 0, SIG_RSA_PKCS, H_SHA3_512),
    SIGN(CKM_RSA_PKCS_PSS, 2048, 4096, 0, SIG_RSA_PSS, H_NONE),
    SIGN(CKM_SHA1_RSA_PKCS_PSS, 2048, 4096, 0, SIG_RSA_PSS, H_SHA1),
    SIGN(CKM_SHA224_RSA_PKCS_PSS, 2048, 4096, 0, SIG_RSA_PSS, H_SHA224),
    SIGN(CKM_SHA256_RSA_PKCS_PSS, 2048, 4096, 0, SIG_RSA_PSS, H_SHA256),
    SIGN(CKM_SHA384_RSA_PKCS_PSS, 2048, 4096, 0, SIG_RSA_PSS, H_SHA384),
    SIGN(CKM_SHA512_RSA_PKCS_PSS, 2048, 4096, 0, SIG_RSA_PSS, H_SHA512),
    SIGN(CKM_SHA3_224_RSA_PKCS_PSS, 2048, 4096, 0, SIG_RSA_PSS, H_SHA3_224),
    SIGN(CKM_SHA3_256_RSA_PKCS_PSS, 2048, 4096, 0, SIG_RSA_PSS, H_SHA3_256),
    SIGN(CKM_SHA3_384_RSA_PKCS_PSS, 2048, 4096, 0, SIG_RSA_PSS, H_SHA3_384),
    SIGN(CKM_SHA3_512_RSA_PKCS_PSS, 2048, 4096, 0, SIG_RSA_PSS, H_SHA3_512),
    {.type = CKM_RSA_PKCS_OAEP,
     .name = "CKM_RSA_PKCS_OAEP",
     .min_key = 2048,
     .max_key = 4096,
     .flags = RSAPKCS | HW,
     .family = MF_ACRYPT,
     .crypt = RC_OAEP},
    /* ECDSA (sizes in bits), signatures as r || s. */
    SIGN(CKM_ECDSA, 224, 521, ECF, SIG_ECDSA, H_NONE),
    SIGN(CKM_ECDSA_SHA1, 224, 521, ECF, SIG_ECDSA, H_SHA1),
    SIGN(CKM_ECDSA_SHA224, 224, 521, ECF, SIG_ECDSA, H_SHA224),
    SIGN(CKM_ECDSA_SHA256, 224, 521, ECF, SIG_ECDSA, H_SHA256),
    SIGN(CKM_ECDSA_SHA384, 224, 521, ECF, SIG_ECDSA, H_SHA384),
    SIGN(CKM_ECDSA_SHA512, 224, 521, ECF, SIG_ECDSA, H_SHA512),
    SIGN(CKM_ECDSA_SHA3_224, 224, 521, ECF, SIG_ECDSA, H_SHA3_224),
    SIGN(CKM_ECDSA_SHA3_256, 224, 521, ECF, SIG_ECDSA, H_SHA3_256),
    SIGN(CKM_ECDSA_SHA3_384, 224, 521, ECF, SIG_ECDSA, H_SHA3_384),
    SIGN(CKM_ECDSA_SHA3_512, 224, 521, ECF, SIG_ECDSA, H_SHA3_512),
    SIGN(CKM_IBM_ECDSA_SHA224, 224, 521, ECF, SIG_ECDSA, H_SHA224),
    SIGN(CKM_IBM_ECDSA_SHA256, 224, 521, ECF, SIG_ECDSA, H_SHA256),
    SIGN(CKM_IBM_ECDSA_SHA384, 224, 521, ECF, SIG_ECDSA, H_SHA384),
    SIGN(CKM_IBM_ECDSA_SHA512, 224, 521, ECF, SIG_ECDSA, H_SHA512),
    /* EC-Schnorr (ECSGParm): 256-bit curves only, as IBM's. */
    SIGN(CKM_IBM_ECDSA_OTHER, 256, 256, ECF, SIG_ECSDSA, H_NONE),
    /* ECDH (sizes in bits). */
    ROW(CKM_ECDH1_DERIVE, 224, 521, CKF_DERIVE | ECF, MF_ECDH, 0),
    ROW(CKM_ECDH1_COFACTOR_DERIVE, 224, 521, CKF_DERIVE | ECF, MF_ECDH, 1),
    ROW(CKM_IBM_EC_X25519, 255, 255, CKF_DERIVE, MF_ECDH, 0),
    ROW(CKM_IBM_EC_X448, 448, 448, CKF_DERIVE, MF_ECDH, 0),
    /* BIP-0032 / SLIP-0010 (sizes in bits: Ed25519 255, secp256k1 and P-256 256). */
    ROW(CKM_IBM_BTC_DERIVE, 255, 256, CKF_DERIVE | ECF, MF_BTC, 0),
    /* EdDSA. */
    SIGN(CKM_EDDSA, 255, 448, CKF_EC_NAMEDCURVE, SIG_EDDSA, H_NONE),
    SIGN(CKM_IBM_ED25519_SHA512, 255, 255, CKF_EC_NAMEDCURVE, SIG_EDDSA, H_NONE),
    SIGN(CKM_IBM_ED448_SHA3, 448, 448, CKF_EC_NAMEDCURVE, SIG_EDDSA, H_NONE),
    /* ML-DSA (sizes: parameter sets), HashML-DSA, IBM Dilithium. */
    SIGN(CKM_ML_DSA, CKP_ML_DSA_44, CKP_ML_DSA_87, 0, SIG_MLDSA, H_NONE),
    SIGN(CKM_HASH_ML_DSA, CKP_ML_DSA_44, CKP_ML_DSA_87, 0, SIG_HASH_MLDSA, H_NONE),
    SIGN(CKM_HASH_ML_DSA_SHA224, CKP_ML_DSA_44, CKP_ML_DSA_87, 0, SIG_HASH_MLDSA, H_SHA224),
    SIGN(CKM_HASH_ML_DSA_SHA256, CKP_ML_DSA_44, CKP_ML_DSA_87, 0, SIG_HASH_MLDSA, H_SHA256),
    SIGN(CKM_HASH_ML_DSA_SHA384, CKP_ML_DSA_44, CKP_ML_DSA_87, 0, SIG_HASH_MLDSA, H_SHA384),
    SIGN(CKM_HASH_ML_DSA_SHA512, CKP_ML_DSA_44, CKP_ML_DSA_87, 0, SIG_HASH_MLDSA, H_SHA512),
    SIGN(CKM_HASH_ML_DSA_SHA3_224, CKP_ML_DSA_44, CKP_ML_DSA_87, 0, SIG_HASH_MLDSA, H_SHA3_224),
    SIGN(CKM_HASH_ML_DSA_SHA3_256, CKP_ML_DSA_44, CKP_ML_DSA_87, 0, SIG_HASH_MLDSA, H_SHA3_256),
    SIGN(CKM_HASH_ML_DSA_SHA3_384, CKP_ML_DSA_44, CKP_ML_DSA_87, 0, SIG_HASH_MLDSA, H_SHA3_384),
    SIGN(CKM_HASH_ML_DSA_SHA3_512, CKP_ML_DSA_44, CKP_ML_DSA_87, 0, SIG_HASH_MLDSA, H_SHA3_512),
    SIGN(CKM_HASH_ML_DSA_SHAKE128, CKP_ML_DSA_44, CKP_ML_DSA_87, 0, SIG_HASH_MLDSA, H_SHAKE128),
    SIGN(CKM_HASH_ML_DSA_SHAKE256, CKP_ML_DSA_44, CKP_ML_DSA_87, 0, SIG_HASH_MLDSA, H_SHAKE256),
    SIGN(CKM_IBM_DILITHIUM, 0, 0, CKF_GENERATE_KEY_PAIR, SIG_DILITHIUM, H_NONE,
         .pair_kt = CKK_IBM_PQC_DILITHIUM),
    /* ML-KEM (sizes: parameter sets) and IBM Kyber (DeriveKey form). */
    ROW(CKM_ML_KEM, CKP_ML_KEM_512, CKP_ML_KEM_1024, CKF_ENCAPSULATE | CKF_DECAPSULATE, MF_KEM, 0),
    {.type = CKM_IBM_KYBER,
     .name = "CKM_IBM_KYBER",
     .flags = CKF_GENERATE_KEY_PAIR | CKF_DERIVE | HW,
     .family = MF_KEM,
     .alg = 1,
     .pair_kt = CKK_IBM_PQC_KYBER},
    /* DSA and PKCS #3 DH (sizes in bits of p). */
    ROW(CKM_DSA_PARAMETER_GEN, 2048, 3072, CKF_GENERATE, MF_PARAMGEN, CKK_DSA),
    ROW(CKM_DH_PKCS_PARAMETER_GEN, 2048, 8192, CKF_GENERATE, MF_PARAMGEN, CKK_DH),
    PAIR(CKM_DSA_KEY_PAIR_GEN, 2048, 3072, 0, CKK_DSA),
    PAIR(CKM_DH_PKCS_KEY_PAIR_GEN, 2048, 8192, 0, CKK_DH),
    SIGN(CKM_DSA, 2048, 3072, 0, SIG_DSA, H_NONE),
    SIGN(CKM_DSA_SHA1, 2048, 3072, 0, SIG_DSA, H_SHA1),
    SIGN(CKM_DSA_SHA224, 2048, 3072, 0, SIG_DSA, H_SHA224),
    SIGN(CKM_DSA_SHA256, 2048, 3072, 0, SIG_DSA, H_SHA256),
    SIGN(CKM_DSA_SHA384, 2048, 3072, 0, SIG_DSA, H_SHA384),
    SIGN(CKM_DSA_SHA512, 2048, 3072, 0, SIG_DSA, H_SHA512),
    SIGN(CKM_DSA_SHA3_224, 2048, 3072, 0, SIG_DSA, H_SHA3_224),
    SIGN(CKM_DSA_SHA3_256, 2048, 3072, 0, SIG_DSA, H_SHA3_256),
    SIGN(CKM_DSA_SHA3_384, 2048, 3072, 0, SIG_DSA, H_SHA3_384),
    SIGN(CKM_DSA_SHA3_512, 2048, 3072, 0, SIG_DSA, H_SHA3_512),
    ROW(CKM_DH_PKCS_DERIVE, 2048, 8192, CKF_DERIVE, MF_DH, 0),
    /* Digests. */
    ROW(CKM_SHA_1, 0, 0, CKF_DIGEST, MF_DIGEST, H_SHA1),
    ROW(CKM_SHA224, 0, 0, CKF_DIGEST, MF_DIGEST, H_SHA224),
    ROW(CKM_SHA256, 0, 0, CKF_DIGEST, MF_DIGEST, H_SHA256),
    ROW(CKM_SHA384, 0, 0, CKF_DIGEST, MF_DIGEST, H_SHA384),
    ROW(CKM_SHA512, 0, 0, CKF_DIGEST, MF_DIGEST, H_SHA512),
    ROW(CKM_SHA512_224, 0, 0, CKF_DIGEST, MF_DIGEST, H_SHA512_224),
    ROW(CKM_SHA512_256, 0, 0, CKF_DIGEST, MF_DIGEST, H_SHA512_256),
    ROW(CKM_IBM_SHA512_224, 0, 0, CKF_DIGEST, MF_DIGEST, H_SHA512_224),
    ROW(CKM_IBM_SHA512_256, 0, 0, CKF_DIGEST, MF_DIGEST, H_SHA512_256),
    ROW(CKM_SHA3_224, 0, 0, CKF_DIGEST, MF_DIGEST, H_SHA3_224),
    ROW(CKM_SHA3_256, 0, 0, CKF_DIGEST, MF_DIGEST, H_SHA3_256),
    ROW(CKM_SHA3_384, 0, 0, CKF_DIGEST, MF_DIGEST, H_SHA3_384),
    ROW(CKM_SHA3_512, 0, 0, CKF_DIGEST, MF_DIGEST, H_SHA3_512),
    ROW(CKM_IBM_SHA3_224, 0, 0, CKF_DIGEST, MF_DIGEST, H_SHA3_224),
    ROW(CKM_IBM_SHA3_256, 0, 0, CKF_DIGEST, MF_DIGEST, H_SHA3_256),
    ROW(CKM_IBM_SHA3_384, 0, 0, CKF_DIGEST, MF_DIGEST, H_SHA3_384),
    ROW(CKM_IBM_SHA3_512, 0, 0, CKF_DIGEST, MF_DIGEST, H_SHA3_512),
    {.name = NULL} /* sentinel: name NULL ends the table */
};

const mech_row *mech_find(CK_MECHANISM_TYPE type)
{
    for (const mech_row *r = ROWS; r->name != NULL; r++)
        if (r->type == type)
            return r;
    return NULL;
}

const mech_row *mech_rows(void)
{
    return ROWS;
}

const char *engine_mechanism_name(CK_MECHANISM_TYPE m)
{
    const mech_row *r = mech_find(m);
    return r ? r->name : NULL;
}

CK_RV engine_mechanism_list(const engine *e, CK_MECHANISM_TYPE *out, CK_ULONG *nmech)
{
    CK_ULONG n = 0;

    if (e == NULL || nmech == NULL)
        return CKR_ARGUMENTS_BAD;
    for (const mech_row *r = ROWS; r->name != NULL; r++)
        n++;
    if (out == NULL) {
        *nmech = n;
        return CKR_OK;
    }
    if (*nmech < n) {
        *nmech = n;
        return CKR_BUFFER_TOO_SMALL;
    }
    n = 0;
    for (const mech_row *r = ROWS; r->name != NULL; r++)
        out[n++] = r->type;
    *nmech = n;
    return CKR_OK;
}

CK_RV engine_mechanism_info(const engine *e, CK_MECHANISM_TYPE m, CK_MECHANISM_INFO *out)
{
    const mech_row *r;

    if (e == NULL || out == NULL)
        return CKR_ARGUMENTS_BAD;
    r = mech_find(m);
    if (r == NULL)
        return CKR_MECHANISM_INVALID;
    out->ulMinKeySize = r->min_key;
    out->ulMaxKeySize = r->max_key;
    /* Generic-secret and HMAC sizes follow the engine's policy. */
    if (r->max_key == 0 &&
        (r->family == MF_KEYGEN || r->family == MF_HMAC || r->family == MF_DERIVE)) {
        out->ulMinKeySize = e->pol.min_generic_secret_bytes;
        out->ulMaxKeySize = e->pol.max_generic_secret_bytes;
    }
    /* RSA, DSA and DH sizes start at the policy minimum. */
    if (r->min_key == 2048 && r->max_key >= 3072)
        out->ulMinKeySize = e->pol.min_rsa_bits;
    out->flags = r->flags;
    return CKR_OK;
}
