/* Private-key blobs and OpenSSL keys rebuilt from them. A private key's
 * sealed payload is u8 format (1) | lv(SPKI) | lv(private part); the
 * private part is the raw scalar/seed/expanded key, or for RSA the CRT
 * integers (README "Public-key objects"). Nothing is cached: every call
 * rebuilds its EVP_PKEY from the blob, so threads share nothing mutable. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include "blob.h"
#include "hash.h"
#include "pkey.h"
#include "pqc.h"

#define PAYLOAD_FORMAT 1
#define SPKI_MAX 8192u

void pkey_clear(pkey *k)
{
    if (k == NULL)
        return;
    key_obj_clear(&k->obj);
    free(k->spki);
    free(k->pub_own);
    memset(k, 0, sizeof(*k));
}

CK_RV pkey_payload(const uint8_t *spki, size_t slen, const uint8_t *priv, size_t plen, key_obj *k)
{
    wbuf w;
    size_t len = 0;
    wbuf_init(&w, KEY_MAX_PAYLOAD);
    wbuf_u8(&w, PAYLOAD_FORMAT);
    wbuf_lv(&w, spki, slen);
    wbuf_lv(&w, priv, plen);
    k->secret = wbuf_take(&w, &len);
    k->vlen = len;
    return k->secret ? CKR_OK : CKR_HOST_MEMORY;
}

CK_ULONG pkey_bits(const pkey *k)
{
    if (k->alg == PK_RSA) {
        unsigned top = k->n.p[0], b = 0;
        while (top) {
            b++;
            top >>= 1;
        }
        return (CK_ULONG)((k->n.len - 1) * 8 + b);
    }
    if (k->curve != NULL)
        return k->curve->bits;
    if (k->alg == PK_DSA || k->alg == PK_DH)
        return mag_bits(k->fp);
    return 0;
}

CK_RV pkey_check_binding(const pkey *k)
{
    const key_obj *o = &k->obj;
    switch (k->alg) {
    case PK_RSA:
        return (o->ktype == CKK_RSA && o->mod_bits == pkey_bits(k) && o->params_type == 0 &&
                o->param_set == 0)
                   ? CKR_OK
                   : CKR_KEY_HANDLE_INVALID;
    case PK_EC:
    case PK_ED:
    case PK_X: {
        CK_KEY_TYPE kt = k->alg == PK_EC   ? CKK_EC
                         : k->alg == PK_ED ? CKK_EC_EDWARDS
                                           : CKK_EC_MONTGOMERY;
        return (o->ktype == kt && o->params_type == CKA_EC_PARAMS &&
                o->params_len == k->curve->oid_len &&
                memcmp(o->params, k->curve->oid, o->params_len) == 0 && o->mod_bits == 0 &&
                o->param_set == 0)
                   ? CKR_OK
                   : CKR_KEY_HANDLE_INVALID;
    }
    case PK_DSA:
    case PK_DH:
        return (o->ktype == (k->alg == PK_DSA ? CKK_DSA : CKK_DH) && o->mod_bits == pkey_bits(k) &&
                o->params_type == 0 && o->param_set == 0)
                   ? CKR_OK
                   : CKR_KEY_HANDLE_INVALID;
    case PK_MLDSA:
    case PK_MLKEM:
        if (o->ktype != k->pqc->ktype || o->mod_bits != 0)
            return CKR_KEY_HANDLE_INVALID;
        if (k->pqc->ckp != 0)
            return (o->param_set == k->pqc->ckp && o->params_type == 0) ? CKR_OK
                                                                        : CKR_KEY_HANDLE_INVALID;
        return (o->param_set == 0 && o->params_type == CKA_IBM_PQC_PARAMS &&
                o->params_len == k->pqc->oid_len &&
                memcmp(o->params, k->pqc->oid, o->params_len) == 0)
                   ? CKR_OK
                   : CKR_KEY_HANDLE_INVALID;
    default:
        return CKR_KEY_HANDLE_INVALID;
    }
}

/* Private-part length the algorithm expects (RSA: checked when parsed). */
static bool priv_len_ok(const pkey *k)
{
    switch (k->alg) {
    case PK_EC:
    case PK_ED:
    case PK_X:
        return k->priv_len == k->curve->priv_len;
    case PK_MLDSA:
        return k->priv_len == mldsa_sk_bytes((mldsa_set)k->pqc->set);
    case PK_MLKEM:
        return k->priv_len == mlkem_dk_bytes((mlkem_set)k->pqc->set);
    case PK_DSA:
    case PK_DH:
        return k->priv_len > 0 && k->priv_len <= k->fp.len;
    default:
        return k->priv_len > 0;
    }
}

CK_RV pkey_load_private(const engine *e, engine_bytes blob, pkey *k)
{
    CK_RV rv;
    rbuf r;
    const uint8_t *spki;
    size_t slen;

    memset(k, 0, sizeof(*k));
    if ((rv = key_unseal(e, blob, &k->obj)) != CKR_OK)
        return rv;
    if (k->obj.cls != CKO_PRIVATE_KEY) {
        rv = CKR_KEY_TYPE_INCONSISTENT;
        goto out;
    }
    /* Authenticated payload: a bad shape means a writer with our key wrote
     * something this build does not understand, i.e. a damaged blob. */
    rv = CKR_KEY_HANDLE_INVALID;
    rbuf_init(&r, k->obj.secret, k->obj.vlen);
    if (rbuf_u8(&r) != PAYLOAD_FORMAT)
        goto out;
    spki = rbuf_lv(&r, SPKI_MAX, &slen);
    k->priv = rbuf_lv(&r, KEY_MAX_PAYLOAD, &k->priv_len);
    if (!rbuf_done(&r) || spki_parse(spki, slen, k) != CKR_OK || !priv_len_ok(k))
        goto out;
    rv = pkey_check_binding(k);
    k->is_private = true;
    k->trusted = true;
    k->cache = e->d->kcache;
out:
    if (rv != CKR_OK)
        pkey_clear(k);
    return rv;
}

bool pkey_is_blob(engine_bytes in)
{
    return in.ptr != NULL && in.len >= 4 && memcmp(in.ptr, "GR11", 4) == 0;
}

CK_RV pkey_load_any(const engine *e, engine_bytes in, pkey *k)
{
    return pkey_is_blob(in) ? pkey_load_private(e, in, k) : pkey_load_public(e, in, k);
}

/* ---- OpenSSL keys ---- */

static bool bld_bn(OSSL_PARAM_BLD *b, const char *name, const uint8_t *p, size_t len, BIGNUM **keep)
{
    BIGNUM *bn = BN_secure_new();
    if (bn == NULL || BN_bin2bn(p, (int)len, bn) == NULL || !OSSL_PARAM_BLD_push_BN(b, name, bn)) {
        BN_clear_free(bn);
        return false;
    }
    *keep = bn;
    return true;
}

static CK_RV evp_fromdata(const char *type, int sel, OSSL_PARAM_BLD *b, EVP_PKEY **out)
{
    CK_RV rv = CKR_FUNCTION_FAILED;
    OSSL_PARAM *prm = OSSL_PARAM_BLD_to_param(b);
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (prm != NULL && c != NULL && EVP_PKEY_fromdata_init(c) == 1 &&
        EVP_PKEY_fromdata(c, out, sel, prm) == 1)
        rv = CKR_OK;
    else
        rv = CKR_PUBLIC_KEY_INVALID;
    EVP_PKEY_CTX_free(c);
    OSSL_PARAM_free(prm) /* secure-heap BNs were copied to the secure heap */;
    return rv;
}

static const char *const RSA_NAMES[8] = {
    OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,           OSSL_PKEY_PARAM_RSA_D,
    OSSL_PKEY_PARAM_RSA_FACTOR1,   OSSL_PKEY_PARAM_RSA_FACTOR2,     OSSL_PKEY_PARAM_RSA_EXPONENT1,
    OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};

static CK_RV evp_rsa(const pkey *k, EVP_PKEY **out)
{
    CK_RV rv = CKR_HOST_MEMORY;
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    BIGNUM *bn[8] = {0};
    rbuf r;

    if (b == NULL)
        goto out;
    if (!k->is_private) {
        if (!bld_bn(b, RSA_NAMES[0], k->n.p, k->n.len, &bn[0]) ||
            !bld_bn(b, RSA_NAMES[1], k->e.p, k->e.len, &bn[1]))
            goto out;
        rv = evp_fromdata("RSA", EVP_PKEY_PUBLIC_KEY, b, out);
        goto out;
    }
    /* Eight CRT integers, or just n, e, d (keys imported without factors). */
    rbuf_init(&r, k->priv, k->priv_len);
    for (int i = 0; i < 8 && (i < 3 || rbuf_left(&r) > 0); i++) {
        size_t l;
        const uint8_t *p = rbuf_lv(&r, 1024, &l);
        if (p == NULL || l == 0 || (i == 3 && rbuf_left(&r) == 0)) {
            rv = CKR_KEY_HANDLE_INVALID;
            goto out;
        }
        if (i == 0 && (l != k->n.len || memcmp(p, k->n.p, l) != 0)) {
            rv = CKR_KEY_HANDLE_INVALID; /* private part of another key */
            goto out;
        }
        if (!bld_bn(b, RSA_NAMES[i], p, l, &bn[i]))
            goto out;
    }
    if (!rbuf_done(&r)) {
        rv = CKR_KEY_HANDLE_INVALID;
        goto out;
    }
    rv = evp_fromdata("RSA", EVP_PKEY_KEYPAIR, b, out);
out:
    for (int i = 0; i < 8; i++)
        BN_clear_free(bn[i]);
    OSSL_PARAM_BLD_free(b);
    return rv;
}

static CK_RV evp_ec(const pkey *k, EVP_PKEY **out)
{
    CK_RV rv = CKR_HOST_MEMORY;
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    BIGNUM *d = NULL;

    if (b == NULL ||
        !OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, k->curve->ossl, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, k->pub.p, k->pub.len))
        goto out;
    if (k->is_private && !bld_bn(b, OSSL_PKEY_PARAM_PRIV_KEY, k->priv, k->priv_len, &d))
        goto out;
    rv = evp_fromdata("EC", k->is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, b, out);
out:
    BN_clear_free(d);
    OSSL_PARAM_BLD_free(b);
    return rv;
}

/* Ed/X private keys with their stored public half: new_raw_private_key
 * would recompute it (a scalar multiplication as costly as the signature). */
static CK_RV evp_ecx_private(const pkey *k, EVP_PKEY **out)
{
    OSSL_PARAM prm[3] = {
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, (void *)k->priv, k->priv_len),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)k->pub.p, k->pub.len),
        OSSL_PARAM_construct_end()};
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, k->curve->ossl, NULL);
    CK_RV rv = CKR_KEY_HANDLE_INVALID;
    if (c != NULL && EVP_PKEY_fromdata_init(c) == 1 &&
        EVP_PKEY_fromdata(c, out, EVP_PKEY_KEYPAIR, prm) == 1)
        rv = CKR_OK;
    EVP_PKEY_CTX_free(c);
    return rv;
}

static CK_RV evp_build(const pkey *k, EVP_PKEY **out)
{
    *out = NULL;
    switch (k->alg) {
    case PK_RSA:
        return evp_rsa(k, out);
    case PK_EC:
        return evp_ec(k, out);
    case PK_DSA:
    case PK_DH:
        return ffc_evp(k, out);
    case PK_ED:
    case PK_X:
        if (k->is_private)
            return evp_ecx_private(k, out);
        *out = EVP_PKEY_new_raw_public_key_ex(NULL, k->curve->ossl, NULL, k->pub.p, k->pub.len);
        return *out ? CKR_OK : CKR_PUBLIC_KEY_INVALID;
    default:
        return CKR_KEY_TYPE_INCONSISTENT;
    }
}

/* The memo's key names the whole key material: the private payload (SPKI
 * and private part) of a private key, the SPKI of a public one. */
static bool cache_id(const pkey *k, uint8_t id[PKCACHE_ID_LEN])
{
    static const char domain[] = "grep11 engine key cache v1";
    const uint8_t kind[2] = {k->is_private, (uint8_t)k->alg};
    const uint8_t *m = k->is_private ? k->obj.secret : k->spki;
    size_t mlen = k->is_private ? k->obj.vlen : k->spki_len;
    hash_ctx h;
    if (m == NULL || !hash_init(&h, H_SHA256))
        return false;
    hash_update(&h, (const uint8_t *)domain, sizeof(domain));
    hash_update(&h, kind, sizeof(kind));
    hash_update(&h, m, mlen);
    hash_final(&h, id);
    return true;
}

/* The key for k: from the cache (with a copy of its signing template in
 * *sign when asked and there is one), or built and remembered there. */
static CK_RV evp_cached(const pkey *k, EVP_PKEY **out, pkc_signer *sign, bool *named,
                        uint8_t id[PKCACHE_ID_LEN])
{
    CK_RV rv;
    *named = k->cache != NULL && cache_id(k, id);
    if (*named && (*out = pkcache_get_signer(k->cache, id, sign)) != NULL)
        return CKR_OK;
    rv = evp_build(k, out);
    if (rv == CKR_OK && *named)
        pkcache_put(k->cache, id, *out);
    return rv;
}

CK_RV pkey_evp(const pkey *k, EVP_PKEY **out)
{
    uint8_t id[PKCACHE_ID_LEN];
    bool named;
    CK_RV rv = evp_cached(k, out, NULL, &named, id);
    OPENSSL_cleanse(id, sizeof(id));
    return rv;
}

static CK_RV signer_init(const pkey *k, EVP_PKEY *pk, pkc_signer *s)
{
    if (k->alg == PK_EC)
        return (s->pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) != NULL &&
                       EVP_PKEY_sign_init(s->pctx) == 1
                   ? CKR_OK
                   : CKR_FUNCTION_FAILED;
    if (k->alg == PK_ED)
        return (s->mctx = EVP_MD_CTX_new()) != NULL &&
                       EVP_DigestSignInit_ex(s->mctx, NULL, NULL, NULL, NULL, pk, NULL) == 1
                   ? CKR_OK
                   : CKR_FUNCTION_FAILED;
    return CKR_KEY_TYPE_INCONSISTENT;
}

CK_RV pkey_signer(const pkey *k, pkc_signer *out)
{
    uint8_t id[PKCACHE_ID_LEN];
    bool named;
    EVP_PKEY *pk = NULL;
    pkc_signer spare;
    CK_RV rv;

    out->pctx = NULL;
    out->mctx = NULL;
    if (!k->is_private)
        return CKR_KEY_TYPE_INCONSISTENT;
    rv = evp_cached(k, &pk, out, &named, id);
    if (rv == CKR_OK && out->pctx == NULL && out->mctx == NULL) {
        rv = signer_init(k, pk, out);
        /* The next call with this key copies instead of setting up. */
        if (rv == CKR_OK && named && pkc_signer_dup(&spare, out))
            pkcache_put_signer(k->cache, id, &spare);
    }
    if (rv != CKR_OK)
        pkc_signer_free(out);
    EVP_PKEY_free(pk); /* the contexts hold their own references */
    OPENSSL_cleanse(id, sizeof(id));
    return rv;
}

CK_RV pkey_rsa_priv_encode(const EVP_PKEY *pk, wbuf *w)
{
    CK_RV rv = CKR_OK;
    uint8_t tmp[1024];
    for (int i = 0; i < 8 && rv == CKR_OK; i++) {
        BIGNUM *bn = NULL;
        int l;
        if (EVP_PKEY_get_bn_param(pk, RSA_NAMES[i], &bn) != 1 ||
            (l = BN_num_bytes(bn)) > (int)sizeof(tmp) || BN_bn2bin(bn, tmp) != l)
            rv = CKR_FUNCTION_FAILED;
        else
            wbuf_lv(w, tmp, (size_t)l);
        BN_clear_free(bn);
    }
    OPENSSL_cleanse(tmp, sizeof(tmp));
    return rv == CKR_OK && w->err ? CKR_HOST_MEMORY : rv;
}
