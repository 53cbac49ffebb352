/* ECDH (CKM_ECDH1_DERIVE, CKM_ECDH1_COFACTOR_DERIVE, IBM's X25519/X448
 * numbers) producing a secret-key blob, and the X9.63 KDF shared with the
 * KEM. The peer's public value comes raw or as a DER OCTET STRING. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/kdf.h>

#include "kex.h"

#define ECDH_MAX_SHARED 1024u

bool kdf_hash(CK_ULONG kdf, hashid *h)
{
    static const struct {
        CK_ULONG kdf;
        hashid h;
    } T[] = {{CKD_NULL, H_NONE},
             {CKD_IBM_HYBRID_NULL, H_NONE},
             {CKD_SHA1_KDF, H_SHA1},
             {CKD_SHA224_KDF, H_SHA224},
             {CKD_SHA256_KDF, H_SHA256},
             {CKD_SHA384_KDF, H_SHA384},
             {CKD_SHA512_KDF, H_SHA512},
             {CKD_SHA3_224_KDF, H_SHA3_224},
             {CKD_SHA3_256_KDF, H_SHA3_256},
             {CKD_SHA3_384_KDF, H_SHA3_384},
             {CKD_SHA3_512_KDF, H_SHA3_512}};
    for (size_t i = 0; i < sizeof(T) / sizeof(T[0]); i++)
        if (T[i].kdf == kdf) {
            *h = T[i].h;
            return true;
        }
    return false;
}

static const char *md_name(hashid h)
{
    switch (h) {
    case H_SHA1:
        return "SHA1";
    case H_SHA224:
        return "SHA224";
    case H_SHA256:
        return "SHA256";
    case H_SHA384:
        return "SHA384";
    case H_SHA512:
        return "SHA512";
    case H_SHA3_224:
        return "SHA3-224";
    case H_SHA3_256:
        return "SHA3-256";
    case H_SHA3_384:
        return "SHA3-384";
    case H_SHA3_512:
        return "SHA3-512";
    default:
        return NULL;
    }
}

CK_RV kdf_x963(hashid h, const uint8_t *z, size_t zlen, const uint8_t *shared, size_t slen,
               uint8_t *out, size_t outlen)
{
    CK_RV rv = CKR_FUNCTION_FAILED;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "X963KDF", NULL);
    EVP_KDF_CTX *k = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM prm[4];
    size_t i = 0;

    if (k == NULL || md_name(h) == NULL)
        goto out;
    prm[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md_name(h), 0);
    prm[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)z, zlen);
    if (slen > 0)
        prm[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)shared, slen);
    prm[i] = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(k, out, outlen, prm) == 1)
        rv = CKR_OK;
out:
    EVP_KDF_CTX_free(k);
    EVP_KDF_free(kdf);
    return rv;
}

/* The peer's public value as an OpenSSL key on our key's curve. */
static CK_RV ecdh_peer(const pkey *k, const uint8_t *p, size_t len, EVP_PKEY **out)
{
    CK_RV rv;
    pkey peer;
    der_span in = {p, len}, v;
    size_t fl = (k->curve->pub_len - 1) / 2;
    bool raw = k->alg == PK_EC ? (len == k->curve->pub_len && p[0] == 4) ||
                                     (len == fl + 1 && (p[0] == 2 || p[0] == 3))
                               : len == k->curve->pub_len;

    /* An uncompressed point also starts with 0x04 (the OCTET STRING tag):
     * the exact raw length decides first. */
    if (!raw) {
        if (!der_get(&in, DER_OCTET_STRING, &v, NULL) || in.len != 0)
            return CKR_MECHANISM_PARAM_INVALID;
        p = v.p, len = v.len;
    }
    memset(&peer, 0, sizeof(peer));
    peer.alg = k->alg;
    peer.curve = k->curve;
    peer.pub = (der_span){p, len};
    if (len == 0 || (k->alg != PK_EC && len != k->curve->pub_len))
        return CKR_MECHANISM_PARAM_INVALID;
    rv = pkey_evp(&peer, out);
    return rv == CKR_OK ? CKR_OK : CKR_MECHANISM_PARAM_INVALID;
}

static CK_RV ecdh_z(const pkey *k, bool cofactor, const uint8_t *pub, size_t publen, uint8_t *z,
                    size_t *zlen)
{
    CK_RV rv = CKR_FUNCTION_FAILED;
    EVP_PKEY *mine = NULL, *peer = NULL;
    EVP_PKEY_CTX *c = NULL;

    if ((rv = ecdh_peer(k, pub, publen, &peer)) != CKR_OK)
        goto out;
    rv = CKR_FUNCTION_FAILED;
    if (pkey_evp(k, &mine) != CKR_OK ||
        (c = EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL)) == NULL || EVP_PKEY_derive_init(c) != 1)
        goto out;
    if (cofactor && EVP_PKEY_CTX_set_ecdh_cofactor_mode(c, 1) != 1)
        goto out;
    if (EVP_PKEY_derive_set_peer_ex(c, peer, 1) != 1) {
        rv = CKR_MECHANISM_PARAM_INVALID; /* not a point of this curve */
        goto out;
    }
    *zlen = ECDH_MAX_SHARED;
    if (EVP_PKEY_derive(c, z, zlen) != 1) {
        rv = CKR_MECHANISM_PARAM_INVALID; /* e.g. a low-order X25519 point */
        goto out;
    }
    rv = CKR_OK;
out:
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(mine);
    EVP_PKEY_free(peer);
    return rv;
}

CK_RV ecdh_derive(engine *e, const mech_row *row, const engine_mech *m, const CK_ATTRIBUTE *tin,
                  CK_ULONG n, engine_bytes base, engine_buf *key_blob, engine_buf *checksum)
{
    CK_RV rv;
    pkey k;
    CK_ULONG kdf = CKD_NULL;
    engine_bytes shared = {NULL, 0}, pub;
    hashid h;
    uint8_t z[ECDH_MAX_SHARED], out[1024];
    size_t zlen = 0, len = 0;
    key_ctx ctx = {ORIGIN_DERIVE, 0, CK_UNAVAILABLE_INFORMATION, 0, NULL};

    if ((rv = pkey_load_private(e, base, &k)) != CKR_OK)
        return rv;
    if ((rv = policy_check_usage(&k.obj, KF_DERIVE, m->type)) != CKR_OK)
        goto out;
    rv = CKR_KEY_TYPE_INCONSISTENT;
    if ((k.alg != PK_EC && k.alg != PK_X) || (row->alg == 1 && k.alg != PK_EC) ||
        (row->type == CKM_IBM_EC_X25519 && (k.alg != PK_X || k.curve->pub_len != 32)) ||
        (row->type == CKM_IBM_EC_X448 && (k.alg != PK_X || k.curve->pub_len != 56)))
        goto out;
    /* GREP11 ECDH1DeriveParm, or ParameterB holding just the peer's value
     * (what the published samples send). */
    if (m->kind == ENGINE_PARAM_ECDH1) {
        kdf = m->ecdh.kdf, shared = m->ecdh.shared_data, pub = m->ecdh.public_data;
    } else if (m->kind == ENGINE_PARAM_BYTES) {
        pub = m->bytes;
    } else {
        rv = CKR_MECHANISM_PARAM_INVALID;
        goto out;
    }
    rv = CKR_MECHANISM_PARAM_INVALID;
    if (!kdf_hash(kdf, &h) || pub.ptr == NULL || pub.len == 0 || (h == H_NONE && shared.len > 0) ||
        shared.len > 1024 || (shared.len > 0 && shared.ptr == NULL))
        goto out;
    if ((rv = ecdh_z(&k, row->alg == 1, pub.ptr, pub.len, z, &zlen)) != CKR_OK)
        goto out;
    if ((rv = derive_len(tin, n, zlen, &len)) != CKR_OK)
        goto out;
    if (len > sizeof(out) || (h == H_NONE && len > zlen)) {
        rv = CKR_TEMPLATE_INCONSISTENT;
        goto out;
    }
    if (h == H_NONE)
        memcpy(out, z, len); /* CKD_NULL: the leading bytes of Z */
    else if ((rv = kdf_x963(h, z, zlen, shared.ptr, shared.len, out, len)) != CKR_OK)
        goto out;
    ctx.mech = m->type;
    ctx.val_len = len;
    ctx.base = &k.obj;
    rv = keys_make_secret(e, tin, n, &ctx, out, len, key_blob, checksum);
out:
    OPENSSL_cleanse(z, sizeof(z));
    OPENSSL_cleanse(out, sizeof(out));
    pkey_clear(&k);
    return rv;
}
