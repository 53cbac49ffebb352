/* Mechanism table rows (mech_table.c). */
#ifndef GREP11_ENGINE_MECH_H
#define GREP11_ENGINE_MECH_H

#include "internal.h"

typedef enum {
    MF_NONE,
    MF_DIGEST,   /* alg: hashid */
    MF_KEYGEN,   /* alg: CKK_ key type generated */
    MF_CIPHER,   /* alg: cipher mode */
    MF_HMAC,     /* alg: hashid; general variant flagged in row */
    MF_CMAC,     /* alg: 0 = fixed length, 1 = general */
    MF_WRAP,     /* alg: wrap mode */
    MF_DERIVE,   /* alg: hashid or 0 for HKDF */
    MF_KEYPAIR,  /* pair_kt: key type made */
    MF_SIG,      /* alg: SIGALG(scheme, hashid); sig.h */
    MF_ACRYPT,   /* public-key encryption only (OAEP); crypt: RC_* */
    MF_ECDH,     /* alg: 1 for the cofactor variant */
    MF_KEM,      /* CKM_ML_KEM; CKM_IBM_KYBER (also DeriveKey) */
    MF_PARAMGEN, /* domain parameters (GenerateKey); alg: CKK_DSA / CKK_DH */
    MF_DH,       /* CKM_DH_PKCS_DERIVE */
    MF_BTC,      /* CKM_IBM_BTC_DERIVE (BIP-0032 / SLIP-0010) */
} mech_family;

/* alg flag of MAC rows: the _GENERAL variant (length in the parameter). */
#define MECH_GENERAL 0x100

typedef struct {
    CK_MECHANISM_TYPE type;
    const char *name;
    CK_ULONG min_key, max_key; /* bytes for symmetric keys, 0 when keyless */
    CK_FLAGS flags;
    mech_family family;
    int alg;
    int wrap;            /* WRAP_* mode when the mechanism also wraps keys, else 0 */
    int crypt;           /* RC_* when the mechanism also encrypts with a public key (RSA) */
    CK_KEY_TYPE pair_kt; /* key type made when flags has CKF_GENERATE_KEY_PAIR */
} mech_row;

/* RSA encryption paddings. */
enum { RC_PKCS1 = 1, RC_OAEP, RC_X509 };

enum { WRAP_KW = 1, WRAP_KWP, WRAP_CBC_PAD };

const mech_row *mech_find(CK_MECHANISM_TYPE type);
const mech_row *mech_rows(void);
/* CKR_MECHANISM_PARAM_INVALID unless the mechanism carries no parameter. */
CK_RV mech_no_param(const engine_mech *m);

#endif
