/* CKM_IBM_ATTRIBUTEBOUND_WRAP: a secret key and its bound attributes, under
 * an AES key (AES-KWP) or an RSA public key (RSA-OAEP with SHA-256),
 * authenticated with HMAC-SHA256 under a MAC key, so that the key comes
 * back with the attributes it left with (the unwrap template may narrow
 * them, never widen them) and nothing else. Only keys with
 * CKA_IBM_ATTRBOUND travel this way, and they travel no other way
 * (wrap.c). The format is grep11's own (IBM's is not published); only a
 * grep11 domain unwraps it:
 *
 *   "GABW" u8 version(1) u8 kek(1 AES-KWP, 2 RSA-OAEP-SHA256)
 *   u32 len, ciphertext of: u32 class | u32 key type | u32 flags (KF_*)
 *                           | u32 value length | value
 *   HMAC-SHA256(MAC key, everything before) */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "acrypt.h"
#include "mech.h"
#include "wrap_attrbound.h"

#define ABW_MAGIC "GABW"
#define ABW_VERSION 1
#define ABW_KWP 1
#define ABW_RSA 2
#define ABW_MAC_LEN 32
#define ABW_MAX_VALUE 512
#define ABW_HEAD_LEN (4 + 1 + 1 + 4)

/* The flags a receiver's template may carry and so re-applies; the rest
 * (local, always-sensitive, ...) the engine sets itself, and CKA_TRUSTED is
 * the security officer's to set. */
static const CK_ATTRIBUTE_TYPE CARRIED[] = {
    CKA_ENCRYPT,    CKA_DECRYPT,       CKA_SIGN,      CKA_VERIFY,      CKA_WRAP,
    CKA_UNWRAP,     CKA_DERIVE,        CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_WRAP_WITH_TRUSTED,
    CKA_MODIFIABLE, CKA_IBM_ATTRBOUND,
};
#define NCARRIED (sizeof(CARRIED) / sizeof(CARRIED[0]))

static const engine_mech *oaep_sha256(engine_mech *m)
{
    memset(m, 0, sizeof(*m));
    m->type = CKM_RSA_PKCS_OAEP;
    m->kind = ENGINE_PARAM_RSA_OAEP;
    m->oaep.hash = CKM_SHA256;
    m->oaep.mgf = CKG_MGF1_SHA256;
    return m;
}

/* The MAC key: an attribute-bound HMAC key of at least 128 bits. */
static CK_RV mac_key(const engine *e, engine_bytes blob, key_obj *k)
{
    CK_RV rv = key_unseal(e, blob, k);
    if (rv == CKR_KEY_HANDLE_INVALID || rv == CKR_ARGUMENTS_BAD)
        return CKR_KEY_HANDLE_INVALID;
    if (rv != CKR_OK)
        return rv;
    if (k->cls != CKO_SECRET_KEY || (k->ktype != CKK_GENERIC_SECRET && k->ktype != CKK_AES) ||
        k->vlen < 16)
        rv = CKR_KEY_TYPE_INCONSISTENT;
    else if (!(k->flags & KF_ATTRBOUND))
        rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
    if (rv != CKR_OK)
        key_obj_clear(k);
    return rv;
}

static CK_RV mac_of(const key_obj *mk, const uint8_t *d, size_t n, uint8_t out[ABW_MAC_LEN])
{
    unsigned int l = 0;
    return HMAC(EVP_sha256(), mk->secret, (int)mk->vlen, d, n, out, &l) && l == ABW_MAC_LEN
               ? CKR_OK
               : CKR_FUNCTION_FAILED;
}

/* An AES wrapping key of this domain with the usage asked for, or NULL
 * kek->secret when kek_blob is no secret key (an RSA public key's SPKI or
 * private key: rsa_wrap_secret checks those). */
static CK_RV aes_kek(const engine *e, engine_bytes kek_blob, bool wrap, key_obj *kek)
{
    memset(kek, 0, sizeof(*kek));
    if (key_unseal(e, kek_blob, kek) != CKR_OK || kek->cls != CKO_SECRET_KEY) {
        key_obj_clear(kek);
        return CKR_OK;
    }
    CK_RV rv =
        kek->ktype == CKK_AES
            ? policy_check_usage(kek, wrap ? KF_WRAP : KF_UNWRAP, CKM_IBM_ATTRIBUTEBOUND_WRAP)
            : (wrap ? CKR_WRAPPING_KEY_TYPE_INCONSISTENT : CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT);
    if (rv != CKR_OK)
        key_obj_clear(kek);
    return rv;
}

static CK_RV kwp(const key_obj *kek, bool enc, const uint8_t *in, size_t n, wbuf *out)
{
    const EVP_CIPHER *c = kek->vlen == 16   ? EVP_aes_128_wrap_pad()
                          : kek->vlen == 24 ? EVP_aes_192_wrap_pad()
                                            : EVP_aes_256_wrap_pad();
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    uint8_t *q = wbuf_reserve(out, n + 16);
    int l1 = 0, l2 = 0;
    CK_RV rv = x && q ? CKR_FUNCTION_FAILED : CKR_HOST_MEMORY;
    if (x && q) {
        EVP_CIPHER_CTX_set_flags(x, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
        if (EVP_CipherInit_ex(x, c, NULL, kek->secret, NULL, enc) == 1 &&
            EVP_CipherUpdate(x, q, &l1, in, (int)n) == 1 &&
            EVP_CipherFinal_ex(x, q + l1, &l2) == 1) {
            out->len -= n + 16 - (size_t)(l1 + l2);
            rv = CKR_OK;
        } else if (!enc) {
            rv = CKR_WRAPPED_KEY_INVALID;
        }
    }
    EVP_CIPHER_CTX_free(x);
    return rv;
}

CK_RV abw_wrap(engine *e, engine_bytes key_blob, engine_bytes kek_blob, engine_bytes mac_blob,
               wbuf *out)
{
    key_obj k, kek, mk;
    wbuf plain, enc;
    engine_mech om;
    bool trusted = false;
    uint8_t tag[ABW_MAC_LEN], kind = ABW_KWP;
    CK_RV rv;

    memset(&k, 0, sizeof(k));
    memset(&kek, 0, sizeof(kek));
    memset(&mk, 0, sizeof(mk));
    wbuf_init(&plain, ABW_MAX_VALUE + 32);
    wbuf_init(&enc, ABW_MAX_VALUE + 512);
    if ((rv = mac_key(e, mac_blob, &mk)) != CKR_OK)
        goto out;
    if ((rv = key_unseal(e, key_blob, &k)) != CKR_OK)
        goto out;
    if (k.cls != CKO_SECRET_KEY || !(k.flags & KF_ATTRBOUND) || k.vlen > ABW_MAX_VALUE) {
        rv = CKR_KEY_NOT_WRAPPABLE; /* secret, attribute-bound keys only */
        goto out;
    }
    if (!(k.flags & KF_EXTRACTABLE)) {
        rv = CKR_KEY_UNEXTRACTABLE;
        goto out;
    }
    wbuf_u32(&plain, (uint32_t)k.cls);
    wbuf_u32(&plain, (uint32_t)k.ktype);
    wbuf_u32(&plain, k.flags);
    wbuf_u32(&plain, (uint32_t)k.vlen);
    wbuf_put(&plain, k.secret, k.vlen);
    if (plain.err) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if ((rv = aes_kek(e, kek_blob, true, &kek)) != CKR_OK)
        goto out;
    if (kek.secret != NULL) {
        trusted = (kek.flags & KF_TRUSTED) != 0;
        rv = kwp(&kek, true, plain.p, plain.len, &enc);
    } else {
        kind = ABW_RSA;
        rv = rsa_wrap_secret(e, true, kek_blob, oaep_sha256(&om), plain.p, plain.len, &enc,
                             &trusted);
    }
    if (rv == CKR_OK && (k.flags & KF_WRAP_WITH_TRUSTED) && !trusted)
        rv = CKR_KEY_NOT_WRAPPABLE;
    if (rv != CKR_OK)
        goto out;
    wbuf_put(out, ABW_MAGIC, 4);
    wbuf_u8(out, ABW_VERSION);
    wbuf_u8(out, kind);
    wbuf_lv(out, enc.p, enc.len);
    if (out->err) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if ((rv = mac_of(&mk, out->p, out->len, tag)) == CKR_OK)
        wbuf_put(out, tag, sizeof(tag));
    if (rv == CKR_OK && out->err)
        rv = CKR_HOST_MEMORY;
out:
    wbuf_free(&plain);
    wbuf_free(&enc);
    key_obj_clear(&k);
    key_obj_clear(&kek);
    key_obj_clear(&mk);
    return rv;
}

/* May the receiver's template say `want` where the key carried `had`? It
 * may narrow what the key may do (a usage, extractable or modifiable off;
 * sensitive or wrap-with-trusted on), never widen it, and never unbind it. */
static bool narrows(uint32_t flag, bool want, bool had)
{
    if (want == had)
        return true;
    switch (flag) {
    case KF_SENSITIVE:
    case KF_WRAP_WITH_TRUSTED:
        return want;
    case KF_ATTRBOUND:
        return false;
    default:
        return !want;
    }
}

/* The receiver's template plus what the key carried: class and type when
 * not given, and every carried flag the template does not narrow. */
static CK_RV merged_template(const CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_CLASS cls, CK_KEY_TYPE kt,
                             uint32_t flags, CK_ATTRIBUTE *out, CK_ULONG cap, CK_ULONG *nout,
                             CK_ULONG vals[2], CK_BBOOL bools[NCARRIED])
{
    CK_ULONG m = 0;
    bool have_cls = false, have_kt = false;
    if (n > cap - 2 - NCARRIED)
        return CKR_TEMPLATE_INCONSISTENT;
    for (CK_ULONG i = 0; i < n; i++) {
        const CK_ATTRIBUTE *a = &t[i];
        if ((a->type == CKA_CLASS || a->type == CKA_KEY_TYPE) &&
            (a->pValue == NULL || a->ulValueLen != sizeof(CK_ULONG)))
            return CKR_ATTRIBUTE_VALUE_INVALID;
        if (a->type == CKA_CLASS) {
            have_cls = true;
            if (*(const CK_ULONG *)a->pValue != cls)
                return CKR_TEMPLATE_INCONSISTENT;
        }
        if (a->type == CKA_KEY_TYPE) {
            have_kt = true;
            if (*(const CK_ULONG *)a->pValue != kt)
                return CKR_TEMPLATE_INCONSISTENT;
        }
        for (size_t j = 0; j < NCARRIED; j++)
            if (a->type == CARRIED[j]) {
                if (a->pValue == NULL || a->ulValueLen != 1)
                    return CKR_ATTRIBUTE_VALUE_INVALID;
                if (!narrows(key_bool_flag(CARRIED[j]), *(const CK_BBOOL *)a->pValue != 0,
                             (flags & key_bool_flag(CARRIED[j])) != 0))
                    return CKR_TEMPLATE_INCONSISTENT;
                flags |= 0x80000000u >> j; /* given: not added (bits above KF_*) */
            }
        out[m++] = *a;
    }
    vals[0] = cls;
    vals[1] = kt;
    if (!have_cls)
        out[m++] = (CK_ATTRIBUTE){CKA_CLASS, &vals[0], sizeof(CK_ULONG)};
    if (!have_kt)
        out[m++] = (CK_ATTRIBUTE){CKA_KEY_TYPE, &vals[1], sizeof(CK_ULONG)};
    for (size_t j = 0; j < NCARRIED; j++) {
        if (flags & (0x80000000u >> j))
            continue;
        bools[j] = (flags & key_bool_flag(CARRIED[j])) ? CK_TRUE : CK_FALSE;
        out[m++] = (CK_ATTRIBUTE){CARRIED[j], &bools[j], 1};
    }
    *nout = m;
    return CKR_OK;
}

CK_RV abw_unwrap(engine *e, engine_bytes wrapped, engine_bytes kek_blob, engine_bytes mac_blob,
                 const CK_ATTRIBUTE *t, CK_ULONG n, engine_buf *key_blob, engine_buf *checksum)
{
    key_obj kek, mk;
    wbuf plain;
    engine_mech om;
    rbuf r;
    uint8_t tag[ABW_MAC_LEN];
    bool trusted = false;
    size_t enc_len = 0;
    CK_RV rv;

    memset(&kek, 0, sizeof(kek));
    memset(&mk, 0, sizeof(mk));
    wbuf_init(&plain, ABW_MAX_VALUE + 512);
    if (wrapped.len < ABW_HEAD_LEN + ABW_MAC_LEN || wrapped.len > ABW_MAX_VALUE + 1024)
        return CKR_WRAPPED_KEY_LEN_RANGE;
    if ((rv = mac_key(e, mac_blob, &mk)) != CKR_OK)
        goto out;
    /* Authenticity first: nothing of an unauthenticated blob is decrypted. */
    size_t body = wrapped.len - ABW_MAC_LEN;
    if ((rv = mac_of(&mk, wrapped.ptr, body, tag)) != CKR_OK)
        goto out;
    if (CRYPTO_memcmp(tag, wrapped.ptr + body, ABW_MAC_LEN) != 0) {
        rv = CKR_WRAPPED_KEY_INVALID;
        goto out;
    }
    rbuf_init(&r, wrapped.ptr, body);
    const uint8_t *magic = rbuf_ptr(&r, 4);
    uint8_t ver = rbuf_u8(&r), kind = rbuf_u8(&r);
    const uint8_t *enc = rbuf_lv(&r, body, &enc_len);
    if (!rbuf_done(&r) || !magic || memcmp(magic, ABW_MAGIC, 4) != 0 || ver != ABW_VERSION ||
        !enc || (kind != ABW_KWP && kind != ABW_RSA)) {
        rv = CKR_WRAPPED_KEY_INVALID;
        goto out;
    }
    if ((rv = aes_kek(e, kek_blob, false, &kek)) != CKR_OK)
        goto out;
    if ((kind == ABW_KWP) != (kek.secret != NULL)) {
        rv = CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT;
        goto out;
    }
    rv = kind == ABW_KWP ? kwp(&kek, false, enc, enc_len, &plain)
                         : rsa_wrap_secret(e, false, kek_blob, oaep_sha256(&om), enc, enc_len,
                                           &plain, &trusted);
    if (rv != CKR_OK)
        goto out;
    rbuf_init(&r, plain.p, plain.len);
    CK_OBJECT_CLASS cls = rbuf_u32(&r);
    CK_KEY_TYPE kt = rbuf_u32(&r);
    uint32_t flags = rbuf_u32(&r), vlen = rbuf_u32(&r);
    const uint8_t *val = vlen <= ABW_MAX_VALUE ? rbuf_ptr(&r, vlen) : NULL;
    if (!rbuf_done(&r) || !val || cls != CKO_SECRET_KEY || (flags & 0xffff0000u)) {
        rv = CKR_WRAPPED_KEY_INVALID;
        goto out;
    }
    CK_ATTRIBUTE all[64 + 2 + NCARRIED];
    CK_ULONG na = 0, vals[2];
    CK_BBOOL bools[NCARRIED];
    rv = merged_template(t, n, cls, kt, flags, all, sizeof(all) / sizeof(all[0]), &na, vals, bools);
    if (rv != CKR_OK)
        goto out;
    key_ctx ctx = {ORIGIN_UNWRAP, CKM_IBM_ATTRIBUTEBOUND_WRAP, CK_UNAVAILABLE_INFORMATION, vlen,
                   NULL};
    rv = keys_make_secret(e, all, na, &ctx, val, vlen, key_blob, checksum);
out:
    wbuf_free(&plain);
    key_obj_clear(&kek);
    key_obj_clear(&mk);
    return rv;
}
