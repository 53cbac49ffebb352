/* DeriveKey: HKDF (CKM_HKDF_DERIVE) and the CKM_SHA*_KEY_DERIVATION family.
 * The base key needs CKA_DERIVE; the new key's ALWAYS_SENSITIVE and
 * NEVER_EXTRACTABLE follow the base (policy.c). */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "hash.h"
#include "kex.h"
#include "keyobj.h"
#include "mech.h"

#define HKDF_MAX_PART 1024u

/* The digest named by a PRF mechanism (CKM_SHA256, CKM_IBM_SHA3_256, …). */
static hashid derive_prf(CK_MECHANISM_TYPE m)
{
    const mech_row *r = mech_find(m);
    return (r != NULL && r->family == MF_DIGEST) ? (hashid)r->alg : H_NONE;
}

static const char *derive_md_name(hashid h)
{
    static const char *const N[H_COUNT] = {[H_SHA1] = "SHA1",
                                           [H_SHA224] = "SHA224",
                                           [H_SHA256] = "SHA256",
                                           [H_SHA384] = "SHA384",
                                           [H_SHA512] = "SHA512",
                                           [H_SHA512_224] = "SHA512-224",
                                           [H_SHA512_256] = "SHA512-256",
                                           [H_SHA3_224] = "SHA3-224",
                                           [H_SHA3_256] = "SHA3-256",
                                           [H_SHA3_384] = "SHA3-384",
                                           [H_SHA3_512] = "SHA3-512"};
    return (h > H_NONE && h < H_COUNT) ? N[h] : NULL;
}

/* Length the new key gets: CKA_VALUE_LEN, else what its type fixes, else
 * dflt (0 = must be given). */
CK_RV derive_len(const CK_ATTRIBUTE *tmpl_in, CK_ULONG n, size_t dflt, size_t *len)
{
    CK_RV rv;
    tmpl t;
    CK_ULONG v;

    if ((rv = tmpl_parse(tmpl_in, n, &t)) != CKR_OK)
        return rv;
    if (tmpl_ulong(&t, CKA_KEY_TYPE, &v) && (v == CKK_DES2 || v == CKK_DES3)) {
        *len = v == CKK_DES2 ? 16 : 24;
        return CKR_OK;
    }
    if (tmpl_ulong(&t, CKA_VALUE_LEN, &v)) {
        *len = v;
        return v == 0 ? CKR_ATTRIBUTE_VALUE_INVALID : CKR_OK;
    }
    if (tmpl_ulong(&t, CKA_KEY_TYPE, &v) && v != CKK_GENERIC_SECRET)
        return CKR_TEMPLATE_INCOMPLETE;
    *len = dflt;
    return dflt ? CKR_OK : CKR_TEMPLATE_INCOMPLETE;
}

/* HKDF ParameterB: bExtract u8 | bExpand u8 | prfHashMechanism u64 |
 * ulSaltType u64 | salt (u32 length, bytes) | info (u32 length, bytes). */
typedef struct {
    bool extract, expand;
    hashid prf;
    const uint8_t *salt, *info;
    size_t salt_len, info_len;
} hkdf_param;

static CK_RV hkdf_parse(const engine_mech *m, hkdf_param *p)
{
    rbuf r;
    uint8_t ex, ep;
    uint64_t prf, st;

    if (m->kind != ENGINE_PARAM_BYTES)
        return CKR_MECHANISM_PARAM_INVALID;
    rbuf_init(&r, m->bytes.ptr, m->bytes.len);
    ex = rbuf_u8(&r);
    ep = rbuf_u8(&r);
    prf = rbuf_u64(&r);
    st = rbuf_u64(&r);
    p->salt = rbuf_lv(&r, HKDF_MAX_PART, &p->salt_len);
    p->info = rbuf_lv(&r, HKDF_MAX_PART, &p->info_len);
    if (!rbuf_done(&r) || ex > 1 || ep > 1 || (!ex && !ep))
        return CKR_MECHANISM_PARAM_INVALID;
    p->extract = ex;
    p->expand = ep;
    p->prf = derive_prf((CK_MECHANISM_TYPE)prf);
    if (p->prf == H_NONE)
        return CKR_MECHANISM_PARAM_INVALID;
    /* A salt held in a key object (CKF_HKDF_SALT_KEY) has no handle here. */
    if (st == CKF_HKDF_SALT_NULL ? p->salt_len != 0 : st != CKF_HKDF_SALT_DATA || p->salt_len == 0)
        return CKR_MECHANISM_PARAM_INVALID;
    if (!p->extract && (st != CKF_HKDF_SALT_NULL))
        return CKR_MECHANISM_PARAM_INVALID;
    return CKR_OK;
}

static CK_RV hkdf_run(const hkdf_param *p, const key_obj *base, uint8_t *out, size_t len)
{
    CK_RV rv = CKR_FUNCTION_FAILED;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *k = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM prm[6];
    size_t i = 0;
    int mode = p->extract && p->expand ? EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND
               : p->extract            ? EVP_KDF_HKDF_MODE_EXTRACT_ONLY
                                       : EVP_KDF_HKDF_MODE_EXPAND_ONLY;

    if (k == NULL)
        goto out;
    prm[i++] =
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)derive_md_name(p->prf), 0);
    prm[i++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    prm[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, base->secret, base->vlen);
    if (p->salt_len > 0)
        prm[i++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)p->salt, p->salt_len);
    if (p->info_len > 0)
        prm[i++] =
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)p->info, p->info_len);
    prm[i] = OSSL_PARAM_construct_end();
    if (p->extract && !p->expand) {
        /* Extract yields exactly one hash; the key takes its first len bytes. */
        uint8_t prk[HASH_MAX_LEN];
        if (EVP_KDF_derive(k, prk, hash_len(p->prf), prm) == 1) {
            memcpy(out, prk, len);
            rv = CKR_OK;
        }
        OPENSSL_cleanse(prk, sizeof(prk));
    } else if (EVP_KDF_derive(k, out, len, prm) == 1) {
        rv = CKR_OK;
    }
out:
    EVP_KDF_CTX_free(k);
    EVP_KDF_free(kdf);
    return rv;
}

CK_RV engine_derive_key(engine *e, const engine_mech *m, const CK_ATTRIBUTE *tmpl_in, CK_ULONG n,
                        engine_bytes base_key_blob, engine_bytes data, engine_buf *key_blob,
                        engine_buf *checksum)
{
    CK_RV rv;
    const mech_row *row;
    key_obj base;
    uint8_t out[1024];
    size_t len = 0;
    key_ctx ctx = {ORIGIN_DERIVE, 0, CK_UNAVAILABLE_INFORMATION, 0, NULL};

    (void)data; /* no mechanism offered here takes the Data field */
    if (e == NULL || m == NULL || key_blob == NULL || checksum == NULL)
        return CKR_ARGUMENTS_BAD;
    *key_blob = (engine_buf){NULL, 0};
    *checksum = (engine_buf){NULL, 0};
    row = mech_find(m->type);
    if (row != NULL && row->family == MF_ECDH)
        return ecdh_derive(e, row, m, tmpl_in, n, base_key_blob, key_blob, checksum);
    if (row != NULL && row->family == MF_DH)
        return dh_derive(e, m, tmpl_in, n, base_key_blob, key_blob, checksum);
    if (row != NULL && row->family == MF_KEM && row->type == CKM_IBM_KYBER)
        return kyber_derive(e, m, tmpl_in, n, base_key_blob, key_blob, checksum);
    if (row != NULL && row->family == MF_BTC)
        return btc_derive(e, m, tmpl_in, n, base_key_blob, key_blob, checksum);
    if (row == NULL || row->family != MF_DERIVE)
        return CKR_MECHANISM_INVALID;
    if ((rv = key_unseal(e, base_key_blob, &base)) != CKR_OK)
        return rv;
    if (base.cls != CKO_SECRET_KEY) {
        rv = CKR_KEY_TYPE_INCONSISTENT;
        goto out;
    }
    if ((rv = policy_check_usage(&base, KF_DERIVE, m->type)) != CKR_OK)
        goto out;
    if (row->alg == H_NONE) {
        hkdf_param p;
        if ((rv = hkdf_parse(m, &p)) != CKR_OK)
            goto out;
        if ((rv = derive_len(tmpl_in, n, 0, &len)) != CKR_OK)
            goto out;
        if (len > (p.expand ? 255 * hash_len(p.prf) : hash_len(p.prf)) || len > sizeof(out)) {
            rv = CKR_TEMPLATE_INCONSISTENT;
            goto out;
        }
        rv = hkdf_run(&p, &base, out, len);
    } else {
        uint8_t md[HASH_MAX_LEN];
        hashid h = (hashid)row->alg;
        if ((rv = mech_no_param(m)) != CKR_OK)
            goto out;
        if ((rv = derive_len(tmpl_in, n, hash_len(h), &len)) != CKR_OK)
            goto out;
        /* PKCS #11: the key is the leading bytes of the digest, never more. */
        if (len > hash_len(h)) {
            rv = CKR_TEMPLATE_INCONSISTENT;
            goto out;
        }
        hash_oneshot(h, base.secret, base.vlen, md);
        memcpy(out, md, len);
        OPENSSL_cleanse(md, sizeof(md));
    }
    if (rv != CKR_OK)
        goto out;
    ctx.mech = m->type;
    ctx.val_len = len;
    ctx.base = &base;
    rv = keys_make_secret(e, tmpl_in, n, &ctx, out, len, key_blob, checksum);
out:
    OPENSSL_cleanse(out, sizeof(out));
    key_obj_clear(&base);
    return rv;
}
