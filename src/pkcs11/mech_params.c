/* CK_MECHANISM -> GREP11 Mechanism (g11c_mech), with the parameter
 * encodings grep11d expects (src/engine/README.md, "Mechanism parameters"),
 * and the local Init-time checks of mechanism against key type. Mechanisms
 * this file does not know pass through with their parameter bytes as they
 * are (IBM vendor mechanisms and whatever the server adds later). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define OP_ENC (1u << P11_OP_ENCRYPT)
#define OP_DEC (1u << P11_OP_DECRYPT)
#define OP_SIGN (1u << P11_OP_SIGN)
#define OP_VERIFY (1u << P11_OP_VERIFY)

typedef enum {
    P_NONE,
    P_IV16,
    P_IV8,
    P_CTR,
    P_GCM,
    P_MACLEN,
    P_HKDF,
    P_OAEP,
    P_PSS,
    P_EDDSA,   /* none, or CK_EDDSA_PARAMS */
    P_SIGNCTX, /* none, or CK_SIGN_ADDITIONAL_CONTEXT */
    P_HASHCTX, /* CK_HASH_SIGN_ADDITIONAL_CONTEXT */
    P_ECDH,    /* CK_ECDH1_DERIVE_PARAMS -> ECDH1DeriveParm */
    P_BTC,     /* CK_IBM_BTC_DERIVE_PARAMS -> BTCDeriveParm */
    P_ECSG,    /* CK_IBM_ECDSA_OTHER_PARAMS -> ECSGParm */
} pkind;

typedef struct {
    CK_MECHANISM_TYPE mech;
    pkind param;
    unsigned ops;      /* the key operations it serves (0: none) */
    CK_KEY_TYPE kt[2]; /* the key types it takes */
} mech_row;

#define ENCDEC (OP_ENC | OP_DEC)
#define MAC (OP_SIGN | OP_VERIFY)
/* HMAC keys: generic secrets, and AES keys as EP11 allows. */
#define GEN                                                                                        \
    {                                                                                              \
        CKK_GENERIC_SECRET, CKK_AES                                                                \
    }

static const mech_row rows[] = {
    {CKM_AES_ECB, P_NONE, ENCDEC, {CKK_AES, CKK_AES}},
    {CKM_AES_CBC, P_IV16, ENCDEC, {CKK_AES, CKK_AES}},
    {CKM_AES_CBC_PAD, P_IV16, ENCDEC, {CKK_AES, CKK_AES}},
    {CKM_AES_CTR, P_CTR, ENCDEC, {CKK_AES, CKK_AES}},
    {CKM_AES_GCM, P_GCM, ENCDEC, {CKK_AES, CKK_AES}},
    {CKM_DES3_ECB, P_NONE, ENCDEC, {CKK_DES3, CKK_DES2}},
    {CKM_DES3_CBC, P_IV8, ENCDEC, {CKK_DES3, CKK_DES2}},
    {CKM_DES3_CBC_PAD, P_IV8, ENCDEC, {CKK_DES3, CKK_DES2}},
    {CKM_AES_CMAC, P_NONE, MAC, {CKK_AES, CKK_AES}},
    {CKM_AES_CMAC_GENERAL, P_MACLEN, MAC, {CKK_AES, CKK_AES}},
    {CKM_IBM_CMAC, P_NONE, MAC, {CKK_AES, CKK_AES}},
    {CKM_SHA_1_HMAC, P_NONE, MAC, GEN},
    {CKM_SHA224_HMAC, P_NONE, MAC, GEN},
    {CKM_SHA256_HMAC, P_NONE, MAC, GEN},
    {CKM_SHA384_HMAC, P_NONE, MAC, GEN},
    {CKM_SHA512_HMAC, P_NONE, MAC, GEN},
    {CKM_SHA512_224_HMAC, P_NONE, MAC, GEN},
    {CKM_SHA512_256_HMAC, P_NONE, MAC, GEN},
    {CKM_SHA3_224_HMAC, P_NONE, MAC, GEN},
    {CKM_SHA3_256_HMAC, P_NONE, MAC, GEN},
    {CKM_SHA3_384_HMAC, P_NONE, MAC, GEN},
    {CKM_SHA3_512_HMAC, P_NONE, MAC, GEN},
    {CKM_IBM_SHA512_224_HMAC, P_NONE, MAC, GEN},
    {CKM_IBM_SHA512_256_HMAC, P_NONE, MAC, GEN},
    {CKM_IBM_SHA3_224_HMAC, P_NONE, MAC, GEN},
    {CKM_IBM_SHA3_256_HMAC, P_NONE, MAC, GEN},
    {CKM_IBM_SHA3_384_HMAC, P_NONE, MAC, GEN},
    {CKM_IBM_SHA3_512_HMAC, P_NONE, MAC, GEN},
    {CKM_SHA_1_HMAC_GENERAL, P_MACLEN, MAC, GEN},
    {CKM_SHA224_HMAC_GENERAL, P_MACLEN, MAC, GEN},
    {CKM_SHA256_HMAC_GENERAL, P_MACLEN, MAC, GEN},
    {CKM_SHA384_HMAC_GENERAL, P_MACLEN, MAC, GEN},
    {CKM_SHA512_HMAC_GENERAL, P_MACLEN, MAC, GEN},
    {CKM_SHA512_224_HMAC_GENERAL, P_MACLEN, MAC, GEN},
    {CKM_SHA512_256_HMAC_GENERAL, P_MACLEN, MAC, GEN},
    {CKM_SHA3_224_HMAC_GENERAL, P_MACLEN, MAC, GEN},
    {CKM_SHA3_256_HMAC_GENERAL, P_MACLEN, MAC, GEN},
    {CKM_SHA3_384_HMAC_GENERAL, P_MACLEN, MAC, GEN},
    {CKM_SHA3_512_HMAC_GENERAL, P_MACLEN, MAC, GEN},
    /* no parameter, not an encrypt/sign mechanism */
    {CKM_SHA_1, P_NONE, 0, {0, 0}},
    {CKM_SHA224, P_NONE, 0, {0, 0}},
    {CKM_SHA256, P_NONE, 0, {0, 0}},
    {CKM_SHA384, P_NONE, 0, {0, 0}},
    {CKM_SHA512, P_NONE, 0, {0, 0}},
    {CKM_SHA512_224, P_NONE, 0, {0, 0}},
    {CKM_SHA512_256, P_NONE, 0, {0, 0}},
    {CKM_SHA3_224, P_NONE, 0, {0, 0}},
    {CKM_SHA3_256, P_NONE, 0, {0, 0}},
    {CKM_SHA3_384, P_NONE, 0, {0, 0}},
    {CKM_SHA3_512, P_NONE, 0, {0, 0}},
    {CKM_AES_KEY_GEN, P_NONE, 0, {0, 0}},
    {CKM_DES2_KEY_GEN, P_NONE, 0, {0, 0}},
    {CKM_DES3_KEY_GEN, P_NONE, 0, {0, 0}},
    {CKM_GENERIC_SECRET_KEY_GEN, P_NONE, 0, {0, 0}},
    {CKM_AES_KEY_WRAP, P_NONE, 0, {0, 0}},
    {CKM_AES_KEY_WRAP_PAD, P_NONE, 0, {0, 0}},
    {CKM_AES_KEY_WRAP_KWP, P_NONE, 0, {0, 0}},
    {CKM_HKDF_DERIVE, P_HKDF, 0, {0, 0}},
    {CKM_ECDH1_DERIVE, P_ECDH, 0, {0, 0}},
    {CKM_ECDH1_COFACTOR_DERIVE, P_ECDH, 0, {0, 0}},
    {CKM_IBM_BTC_DERIVE, P_BTC, 0, {0, 0}},
    {CKM_IBM_ECDSA_OTHER, P_ECSG, MAC, {CKK_EC, CKK_EC}},
    {CKM_RSA_PKCS_OAEP, P_OAEP, ENCDEC, {CKK_RSA, CKK_RSA}},
    {CKM_RSA_PKCS_PSS, P_PSS, MAC, {CKK_RSA, CKK_RSA}},
    {CKM_SHA1_RSA_PKCS_PSS, P_PSS, MAC, {CKK_RSA, CKK_RSA}},
    {CKM_SHA224_RSA_PKCS_PSS, P_PSS, MAC, {CKK_RSA, CKK_RSA}},
    {CKM_SHA256_RSA_PKCS_PSS, P_PSS, MAC, {CKK_RSA, CKK_RSA}},
    {CKM_SHA384_RSA_PKCS_PSS, P_PSS, MAC, {CKK_RSA, CKK_RSA}},
    {CKM_SHA512_RSA_PKCS_PSS, P_PSS, MAC, {CKK_RSA, CKK_RSA}},
    {CKM_SHA3_224_RSA_PKCS_PSS, P_PSS, MAC, {CKK_RSA, CKK_RSA}},
    {CKM_SHA3_256_RSA_PKCS_PSS, P_PSS, MAC, {CKK_RSA, CKK_RSA}},
    {CKM_SHA3_384_RSA_PKCS_PSS, P_PSS, MAC, {CKK_RSA, CKK_RSA}},
    {CKM_SHA3_512_RSA_PKCS_PSS, P_PSS, MAC, {CKK_RSA, CKK_RSA}},
    /* public-key mechanisms (engine II) */
    {CKM_RSA_PKCS_KEY_PAIR_GEN, P_NONE, 0, {0, 0}},
    {CKM_EC_KEY_PAIR_GEN, P_NONE, 0, {0, 0}},
    {CKM_EC_EDWARDS_KEY_PAIR_GEN, P_NONE, 0, {0, 0}},
    {CKM_EC_MONTGOMERY_KEY_PAIR_GEN, P_NONE, 0, {0, 0}},
    {CKM_ML_DSA_KEY_PAIR_GEN, P_NONE, 0, {0, 0}},
    {CKM_ML_KEM_KEY_PAIR_GEN, P_NONE, 0, {0, 0}},
    {CKM_RSA_PKCS, P_NONE, ENCDEC | MAC, {CKK_RSA, CKK_RSA}},
    {CKM_RSA_X_509, P_NONE, ENCDEC | MAC, {CKK_RSA, CKK_RSA}},
    {CKM_SHA1_RSA_PKCS, P_NONE, MAC, {CKK_RSA, CKK_RSA}},
    {CKM_SHA224_RSA_PKCS, P_NONE, MAC, {CKK_RSA, CKK_RSA}},
    {CKM_SHA256_RSA_PKCS, P_NONE, MAC, {CKK_RSA, CKK_RSA}},
    {CKM_SHA384_RSA_PKCS, P_NONE, MAC, {CKK_RSA, CKK_RSA}},
    {CKM_SHA512_RSA_PKCS, P_NONE, MAC, {CKK_RSA, CKK_RSA}},
    {CKM_SHA3_224_RSA_PKCS, P_NONE, MAC, {CKK_RSA, CKK_RSA}},
    {CKM_SHA3_256_RSA_PKCS, P_NONE, MAC, {CKK_RSA, CKK_RSA}},
    {CKM_SHA3_384_RSA_PKCS, P_NONE, MAC, {CKK_RSA, CKK_RSA}},
    {CKM_SHA3_512_RSA_PKCS, P_NONE, MAC, {CKK_RSA, CKK_RSA}},
    {CKM_ECDSA, P_NONE, MAC, {CKK_EC, CKK_EC}},
    {CKM_ECDSA_SHA1, P_NONE, MAC, {CKK_EC, CKK_EC}},
    {CKM_ECDSA_SHA224, P_NONE, MAC, {CKK_EC, CKK_EC}},
    {CKM_ECDSA_SHA256, P_NONE, MAC, {CKK_EC, CKK_EC}},
    {CKM_ECDSA_SHA384, P_NONE, MAC, {CKK_EC, CKK_EC}},
    {CKM_ECDSA_SHA512, P_NONE, MAC, {CKK_EC, CKK_EC}},
    {CKM_ECDSA_SHA3_224, P_NONE, MAC, {CKK_EC, CKK_EC}},
    {CKM_ECDSA_SHA3_256, P_NONE, MAC, {CKK_EC, CKK_EC}},
    {CKM_ECDSA_SHA3_384, P_NONE, MAC, {CKK_EC, CKK_EC}},
    {CKM_ECDSA_SHA3_512, P_NONE, MAC, {CKK_EC, CKK_EC}},
    {CKM_IBM_ECDSA_SHA224, P_NONE, MAC, {CKK_EC, CKK_EC}},
    {CKM_IBM_ECDSA_SHA256, P_NONE, MAC, {CKK_EC, CKK_EC}},
    {CKM_IBM_ECDSA_SHA384, P_NONE, MAC, {CKK_EC, CKK_EC}},
    {CKM_IBM_ECDSA_SHA512, P_NONE, MAC, {CKK_EC, CKK_EC}},
    /* The engine reports Edwards keys as CKK_EC_EDWARDS, however made. */
    {CKM_EDDSA, P_EDDSA, MAC, {CKK_EC_EDWARDS, CKK_EC_EDWARDS}},
    {CKM_ML_DSA, P_SIGNCTX, MAC, {CKK_ML_DSA, CKK_ML_DSA}},
    {CKM_HASH_ML_DSA, P_HASHCTX, MAC, {CKK_ML_DSA, CKK_ML_DSA}},
    {CKM_HASH_ML_DSA_SHA224, P_SIGNCTX, MAC, {CKK_ML_DSA, CKK_ML_DSA}},
    {CKM_HASH_ML_DSA_SHA256, P_SIGNCTX, MAC, {CKK_ML_DSA, CKK_ML_DSA}},
    {CKM_HASH_ML_DSA_SHA384, P_SIGNCTX, MAC, {CKK_ML_DSA, CKK_ML_DSA}},
    {CKM_HASH_ML_DSA_SHA512, P_SIGNCTX, MAC, {CKK_ML_DSA, CKK_ML_DSA}},
    {CKM_HASH_ML_DSA_SHA3_224, P_SIGNCTX, MAC, {CKK_ML_DSA, CKK_ML_DSA}},
    {CKM_HASH_ML_DSA_SHA3_256, P_SIGNCTX, MAC, {CKK_ML_DSA, CKK_ML_DSA}},
    {CKM_HASH_ML_DSA_SHA3_384, P_SIGNCTX, MAC, {CKK_ML_DSA, CKK_ML_DSA}},
    {CKM_HASH_ML_DSA_SHA3_512, P_SIGNCTX, MAC, {CKK_ML_DSA, CKK_ML_DSA}},
    {CKM_HASH_ML_DSA_SHAKE128, P_SIGNCTX, MAC, {CKK_ML_DSA, CKK_ML_DSA}},
    {CKM_HASH_ML_DSA_SHAKE256, P_SIGNCTX, MAC, {CKK_ML_DSA, CKK_ML_DSA}},
};

static const mech_row *row_of(CK_MECHANISM_TYPE m)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (rows[i].mech == m)
            return &rows[i];
    return NULL;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
    p = put_u32(p, (uint32_t)(v >> 32));
    return put_u32(p, (uint32_t)v);
}

static CK_RV set_bytes(p11_mech *out, const void *src, size_t len)
{
    out->param = malloc(len ? len : 1);
    if (!out->param)
        return CKR_HOST_MEMORY;
    if (len)
        memcpy(out->param, src, len);
    out->param_len = len;
    return CKR_OK;
}

/* The 2.40 errata layout without ulIvBits, which some applications send. */
typedef struct {
    CK_BYTE *pIv;
    CK_ULONG ulIvLen;
    CK_BYTE *pAAD;
    CK_ULONG ulAADLen;
    CK_ULONG ulTagBits;
} gcm_params_240;

static CK_RV enc_gcm(const CK_MECHANISM *in, p11_mech *out)
{
    const CK_BYTE *iv, *aad;
    CK_ULONG ivlen, aadlen, tagbits;
    if (in->ulParameterLen == sizeof(CK_GCM_PARAMS)) {
        const CK_GCM_PARAMS *g = in->pParameter;
        iv = g->pIv, ivlen = g->ulIvLen, aad = g->pAAD, aadlen = g->ulAADLen;
        tagbits = g->ulTagBits;
    } else if (in->ulParameterLen == sizeof(gcm_params_240)) {
        const gcm_params_240 *g = in->pParameter;
        iv = g->pIv, ivlen = g->ulIvLen, aad = g->pAAD, aadlen = g->ulAADLen;
        tagbits = g->ulTagBits;
    } else {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    if (ivlen < 1 || ivlen > 256 || !iv || aadlen > (1u << 20) || (aadlen && !aad) || tagbits > 128)
        return CKR_MECHANISM_PARAM_INVALID;
    size_t len = 4 + ivlen + 4 + aadlen + 4;
    if (!(out->param = malloc(len)))
        return CKR_HOST_MEMORY;
    uint8_t *p = put_u32(out->param, (uint32_t)ivlen);
    memcpy(p, iv, ivlen);
    p = put_u32(p + ivlen, (uint32_t)aadlen);
    if (aadlen)
        memcpy(p, aad, aadlen);
    put_u32(p + aadlen, (uint32_t)tagbits);
    out->param_len = len;
    return CKR_OK;
}

static CK_RV enc_hkdf(const CK_MECHANISM *in, p11_mech *out)
{
    if (in->ulParameterLen != sizeof(GREP11_CK_HKDF_PARAMS))
        return CKR_MECHANISM_PARAM_INVALID;
    const GREP11_CK_HKDF_PARAMS *h = in->pParameter;
    if (h->ulSaltType == CKF_HKDF_SALT_KEY) /* the engine refuses it */
        return CKR_MECHANISM_PARAM_INVALID;
    CK_ULONG slen = h->ulSaltType == CKF_HKDF_SALT_DATA ? h->ulSaltLen : 0;
    if ((slen && !h->pSalt) || (h->ulInfoLen && !h->pInfo) || slen > (1u << 20) ||
        h->ulInfoLen > (1u << 20))
        return CKR_MECHANISM_PARAM_INVALID;
    size_t len = 2 + 8 + 8 + 4 + slen + 4 + h->ulInfoLen;
    if (!(out->param = malloc(len)))
        return CKR_HOST_MEMORY;
    uint8_t *p = out->param;
    *p++ = h->bExtract ? 1 : 0;
    *p++ = h->bExpand ? 1 : 0;
    p = put_u64(p, h->prfHashMechanism);
    p = put_u64(p, h->ulSaltType);
    p = put_u32(p, (uint32_t)slen);
    if (slen)
        memcpy(p, h->pSalt, slen);
    p = put_u32(p + slen, (uint32_t)h->ulInfoLen);
    if (h->ulInfoLen)
        memcpy(p, h->pInfo, h->ulInfoLen);
    out->param_len = len;
    return CKR_OK;
}

/* hedge u32 || ctxLen u32 || ctx [|| hash u64] (src/engine/README.md). */
static CK_RV enc_signctx(const CK_MECHANISM *in, p11_mech *out, int with_hash)
{
    CK_ULONG hedge, clen;
    const CK_BYTE *ctx;
    CK_MECHANISM_TYPE hash = 0;
    if (with_hash) {
        if (in->ulParameterLen != sizeof(P11_CK_HASH_SIGN_ADDITIONAL_CONTEXT))
            return CKR_MECHANISM_PARAM_INVALID;
        const P11_CK_HASH_SIGN_ADDITIONAL_CONTEXT *p = in->pParameter;
        hedge = p->hedgeVariant, ctx = p->pContext, clen = p->ulContextLen, hash = p->hash;
    } else {
        if (in->ulParameterLen == 0)
            return CKR_OK; /* hedged, no context */
        if (in->ulParameterLen != sizeof(P11_CK_SIGN_ADDITIONAL_CONTEXT))
            return CKR_MECHANISM_PARAM_INVALID;
        const P11_CK_SIGN_ADDITIONAL_CONTEXT *p = in->pParameter;
        hedge = p->hedgeVariant, ctx = p->pContext, clen = p->ulContextLen;
    }
    if (clen > 255 || (clen && !ctx))
        return CKR_MECHANISM_PARAM_INVALID;
    size_t len = 8 + clen + (with_hash ? 8 : 0);
    if (!(out->param = malloc(len)))
        return CKR_HOST_MEMORY;
    uint8_t *p = put_u32(out->param, (uint32_t)hedge);
    p = put_u32(p, (uint32_t)clen);
    if (clen)
        memcpy(p, ctx, clen);
    if (with_hash)
        put_u64(p + clen, hash);
    out->param_len = len;
    return CKR_OK;
}

/* phFlag u8 || ctxLen u32 || ctx, or nothing (plain Ed25519/Ed448). */
static CK_RV enc_eddsa(const CK_MECHANISM *in, p11_mech *out)
{
    if (in->ulParameterLen == 0)
        return CKR_OK;
    if (in->ulParameterLen != sizeof(P11_CK_EDDSA_PARAMS))
        return CKR_MECHANISM_PARAM_INVALID;
    const P11_CK_EDDSA_PARAMS *e = in->pParameter;
    if (e->ulContextDataLen > 255 || (e->ulContextDataLen && !e->pContextData))
        return CKR_MECHANISM_PARAM_INVALID;
    size_t len = 5 + e->ulContextDataLen;
    if (!(out->param = malloc(len)))
        return CKR_HOST_MEMORY;
    out->param[0] = e->phFlag ? 1 : 0;
    uint8_t *p = put_u32(out->param + 1, (uint32_t)e->ulContextDataLen);
    if (e->ulContextDataLen)
        memcpy(p, e->pContextData, e->ulContextDataLen);
    out->param_len = len;
    return CKR_OK;
}

/* CK_ECDH1_DERIVE_PARAMS holds pointers: its bytes mean nothing to the
 * server. The peer's value and the shared data are copied (one buffer, the
 * public value first) and sent as the ECDH1DeriveParm fields; whether the
 * KDF and shared data fit together is the engine's decision. */
static CK_RV enc_ecdh(const CK_MECHANISM *in, p11_mech *out)
{
    if (in->ulParameterLen != sizeof(CK_ECDH1_DERIVE_PARAMS))
        return CKR_MECHANISM_PARAM_INVALID;
    const CK_ECDH1_DERIVE_PARAMS *e = in->pParameter;
    CK_ULONG plen = e->ulPublicDataLen, slen = e->ulSharedDataLen;
    if (!plen || !e->pPublicData || (slen && !e->pSharedData) || plen > (1u << 20) ||
        slen > (1u << 20))
        return CKR_MECHANISM_PARAM_INVALID;
    if (!(out->param = malloc(plen + slen)))
        return CKR_HOST_MEMORY;
    memcpy(out->param, e->pPublicData, plen);
    if (slen)
        memcpy(out->param + plen, e->pSharedData, slen);
    out->param_len = plen + slen;
    out->m.kind = G11C_PARAM_ECDH1;
    out->m.ecdh.kdf = e->kdf;
    out->m.ecdh.public_data = p11_bytes(out->param, plen);
    out->m.ecdh.shared_data = p11_bytes(slen ? out->param + plen : NULL, slen);
    return CKR_OK;
}

/* IBM's CK_IBM_BTC_DERIVE_PARAMS (pkcs11-btc.c): the chain code is copied
 * (it points into the caller's memory); its length, the type, index and
 * version are the engine's to judge. */
static CK_RV enc_btc(const CK_MECHANISM *in, p11_mech *out)
{
    if (in->ulParameterLen != sizeof(CK_IBM_BTC_DERIVE_PARAMS))
        return CKR_MECHANISM_PARAM_INVALID;
    const CK_IBM_BTC_DERIVE_PARAMS *b = in->pParameter;
    CK_ULONG cl = b->ulChainCodeLen;
    if ((cl && !b->pChainCode) || cl > 1024)
        return CKR_MECHANISM_PARAM_INVALID;
    if (cl) {
        if (!(out->param = malloc(cl)))
            return CKR_HOST_MEMORY;
        memcpy(out->param, b->pChainCode, cl);
        out->param_len = cl;
    }
    out->m.kind = G11C_PARAM_BTC;
    out->m.btc.type = b->type;
    out->m.btc.index = b->childKeyIndex;
    out->m.btc.chain_code = p11_bytes(out->param, cl);
    out->m.btc.version = b->version;
    return CKR_OK;
}

/* openCryptoki's CK_IBM_ECDSA_OTHER_PARAMS: required (there is no default
 * variant); the submechanism is sent as ECSGParm.Type, whose values the
 * engine judges (BLS: CKR_MECHANISM_INVALID). */
static CK_RV enc_ecsg(const CK_MECHANISM *in, p11_mech *out)
{
    if (in->ulParameterLen != sizeof(CK_IBM_ECDSA_OTHER_PARAMS))
        return CKR_MECHANISM_PARAM_INVALID;
    out->m.kind = G11C_PARAM_ECSG;
    out->m.ecsg.type = ((const CK_IBM_ECDSA_OTHER_PARAMS *)in->pParameter)->submechanism;
    return CKR_OK;
}

CK_OBJECT_CLASS p11_mech_derived_class(const CK_MECHANISM *m, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    CK_OBJECT_CLASS dflt = CKO_SECRET_KEY;
    if (m && m->mechanism == CKM_IBM_BTC_DERIVE && m->pParameter &&
        m->ulParameterLen == sizeof(CK_IBM_BTC_DERIVE_PARAMS)) {
        CK_ULONG type = ((const CK_IBM_BTC_DERIVE_PARAMS *)m->pParameter)->type;
        int pub = type == CK_IBM_BIP0032_PRV2PUB || type == CK_IBM_BIP0032_PUB2PUB ||
                  type == CK_IBM_SLIP0010_PRV2PUB || type == CK_IBM_SLIP0010_PUB2PUB;
        dflt = pub ? CKO_PUBLIC_KEY : CKO_PRIVATE_KEY;
    }
    return p11_tmpl_class(t, n, dflt);
}

static CK_RV enc_param(const mech_row *r, const CK_MECHANISM *in, p11_mech *out)
{
    uint8_t buf[20];
    switch (r->param) {
    case P_NONE:
        return in->ulParameterLen == 0 ? CKR_OK : CKR_MECHANISM_PARAM_INVALID;
    case P_IV16:
    case P_IV8:
        if (in->ulParameterLen != (r->param == P_IV16 ? 16u : 8u))
            return CKR_MECHANISM_PARAM_INVALID;
        return set_bytes(out, in->pParameter, in->ulParameterLen);
    case P_CTR: {
        if (in->ulParameterLen != sizeof(CK_AES_CTR_PARAMS))
            return CKR_MECHANISM_PARAM_INVALID;
        const CK_AES_CTR_PARAMS *c = in->pParameter;
        if (c->ulCounterBits < 1 || c->ulCounterBits > 128)
            return CKR_MECHANISM_PARAM_INVALID;
        put_u32(buf, (uint32_t)c->ulCounterBits);
        memcpy(buf + 4, c->cb, 16);
        return set_bytes(out, buf, 20);
    }
    case P_GCM:
        return enc_gcm(in, out);
    case P_MACLEN: {
        CK_ULONG l;
        if (in->ulParameterLen != sizeof(CK_ULONG))
            return CKR_MECHANISM_PARAM_INVALID;
        memcpy(&l, in->pParameter, sizeof(l));
        if (l == 0 || l > 64)
            return CKR_MECHANISM_PARAM_INVALID;
        put_u32(buf, (uint32_t)l);
        return set_bytes(out, buf, 4);
    }
    case P_HKDF:
        return enc_hkdf(in, out);
    case P_OAEP: {
        if (in->ulParameterLen != sizeof(CK_RSA_PKCS_OAEP_PARAMS))
            return CKR_MECHANISM_PARAM_INVALID;
        const CK_RSA_PKCS_OAEP_PARAMS *o = in->pParameter;
        out->m.kind = G11C_PARAM_RSA_OAEP;
        out->m.oaep.hash = o->hashAlg;
        out->m.oaep.mgf = o->mgf;
        if (o->ulSourceDataLen) {
            if (!o->pSourceData || !(out->label = malloc(o->ulSourceDataLen)))
                return o->pSourceData ? CKR_HOST_MEMORY : CKR_MECHANISM_PARAM_INVALID;
            memcpy(out->label, o->pSourceData, o->ulSourceDataLen);
            out->m.oaep.label = p11_bytes(out->label, o->ulSourceDataLen);
        }
        return CKR_OK;
    }
    case P_PSS: {
        if (in->ulParameterLen != sizeof(CK_RSA_PKCS_PSS_PARAMS))
            return CKR_MECHANISM_PARAM_INVALID;
        const CK_RSA_PKCS_PSS_PARAMS *p = in->pParameter;
        out->m.kind = G11C_PARAM_RSA_PSS;
        out->m.pss.hash = p->hashAlg;
        out->m.pss.mgf = p->mgf;
        out->m.pss.salt_len = p->sLen;
        return CKR_OK;
    }
    case P_EDDSA:
        return enc_eddsa(in, out);
    case P_SIGNCTX:
    case P_HASHCTX:
        return enc_signctx(in, out, r->param == P_HASHCTX);
    case P_ECDH:
        return enc_ecdh(in, out);
    case P_BTC:
        return enc_btc(in, out);
    case P_ECSG:
        return enc_ecsg(in, out);
    }
    return CKR_MECHANISM_PARAM_INVALID;
}

CK_RV p11_mech_from_ck(const CK_MECHANISM *in, p11_mech *out)
{
    memset(out, 0, sizeof(*out));
    if (!in || (in->ulParameterLen && !in->pParameter))
        return CKR_ARGUMENTS_BAD;
    out->m.type = in->mechanism;
    const mech_row *r = row_of(in->mechanism);
    CK_RV rv =
        r ? enc_param(r, in, out)
          : (in->ulParameterLen ? set_bytes(out, in->pParameter, in->ulParameterLen) : CKR_OK);
    if (rv != CKR_OK) {
        p11_mech_free(out);
        return rv;
    }
    if (out->param && out->m.kind == G11C_PARAM_NONE) {
        out->m.kind = G11C_PARAM_BYTES;
        out->m.bytes = p11_bytes(out->param, out->param_len);
    }
    return CKR_OK;
}

void p11_mech_free(p11_mech *m)
{
    if (m->param) {
        explicit_bzero(m->param, m->param_len);
        free(m->param);
    }
    free(m->label);
    memset(m, 0, sizeof(*m));
}

CK_RV p11_mech_key_check(CK_MECHANISM_TYPE mech, p11_opkind op, CK_KEY_TYPE kt)
{
    const mech_row *r = row_of(mech);
    if (!r)
        return CKR_OK; /* a mechanism we do not know: the server decides */
    if (!(r->ops & (1u << op)))
        return CKR_MECHANISM_INVALID;
    if (kt != r->kt[0] && kt != r->kt[1])
        return CKR_KEY_TYPE_INCONSISTENT;
    return CKR_OK;
}
