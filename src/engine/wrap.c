/* WrapKey / UnwrapKey: secret keys and private keys (PKCS #8) under
 * AES-KW (RFC 3394), AES-KWP (RFC 5649; CKM_AES_KEY_WRAP_KWP, and
 * CKM_AES_KEY_WRAP_PAD read the same way) and CBC-PAD with AES or DES3;
 * secret keys under RSA PKCS #1 v1.5 and OAEP. Policy: the wrapped key must
 * be extractable, a wrap-with-trusted key only leaves under a trusted
 * wrapping key, an attribute-bound key (CKA_IBM_ATTRBOUND) only with its
 * attributes (CKM_IBM_ATTRIBUTEBOUND_WRAP, wrap_attrbound.c), and the
 * wrapping key needs CKA_WRAP / CKA_UNWRAP (an RSA public key has it only
 * as a MACed SPKI of this domain). */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "acrypt.h"
#include "mech.h"
#include "pkey.h"
#include "sym.h"
#include "wrap_attrbound.h"

#define WRAP_MAX (16u * 1024u) /* largest wrapped key (ML-DSA-87 PKCS #8 and headroom) */

static const EVP_CIPHER *wrap_cipher(int mode, size_t klen)
{
    if (mode == WRAP_KW)
        return klen == 16   ? EVP_aes_128_wrap()
               : klen == 24 ? EVP_aes_192_wrap()
                            : EVP_aes_256_wrap();
    return klen == 16   ? EVP_aes_128_wrap_pad()
           : klen == 24 ? EVP_aes_192_wrap_pad()
                        : EVP_aes_256_wrap_pad();
}

/* RFC 3394 / 5649 in one direction. Integrity failures on unwrap come back
 * as CKR_WRAPPED_KEY_INVALID. */
static CK_RV wrap_kw(int mode, bool enc, const key_obj *kek, const uint8_t *in, size_t n, wbuf *out)
{
    CK_RV rv = CKR_FUNCTION_FAILED;
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    uint8_t *q;
    int l1 = 0, l2 = 0;

    if (x == NULL)
        return CKR_HOST_MEMORY;
    q = wbuf_reserve(out, n + 16);
    if (q == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    EVP_CIPHER_CTX_set_flags(x, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    if (EVP_CipherInit_ex(x, wrap_cipher(mode, kek->vlen), NULL, kek->secret, NULL, enc) != 1)
        goto out;
    if (EVP_CipherUpdate(x, q, &l1, in, (int)n) != 1 || EVP_CipherFinal_ex(x, q + l1, &l2) != 1) {
        rv = enc ? CKR_KEY_NOT_WRAPPABLE : CKR_WRAPPED_KEY_INVALID;
        goto out;
    }
    out->len -= n + 16 - (size_t)(l1 + l2);
    rv = CKR_OK;
out:
    EVP_CIPHER_CTX_free(x);
    return rv;
}

/* Unseals the wrapping key and checks mechanism, type and usage. */
static CK_RV wrap_kek(const engine *e, const engine_mech *m, engine_bytes kek_blob, bool wrap,
                      key_obj *kek, int *mode)
{
    CK_RV rv;
    const mech_row *row;

    memset(kek, 0, sizeof(*kek));
    if (m == NULL)
        return CKR_ARGUMENTS_BAD;
    row = mech_find(m->type);
    if (row == NULL || row->wrap == 0)
        return CKR_MECHANISM_INVALID;
    *mode = row->wrap;
    rv = key_unseal(e, kek_blob, kek);
    if (rv == CKR_KEY_HANDLE_INVALID)
        return wrap ? CKR_WRAPPING_KEY_HANDLE_INVALID : CKR_UNWRAPPING_KEY_HANDLE_INVALID;
    if (rv != CKR_OK)
        return rv;
    if (*mode == WRAP_CBC_PAD) {
        CK_KEY_TYPE need = m->type == CKM_AES_CBC_PAD ? CKK_AES : CKK_DES3;
        bool ok = need == CKK_AES ? kek->ktype == CKK_AES
                                  : (kek->ktype == CKK_DES2 || kek->ktype == CKK_DES3);
        if (!ok)
            rv = wrap ? CKR_WRAPPING_KEY_TYPE_INCONSISTENT : CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT;
    } else {
        if (kek->ktype != CKK_AES)
            rv = wrap ? CKR_WRAPPING_KEY_TYPE_INCONSISTENT : CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT;
        else if (mech_no_param(m) != CKR_OK)
            rv = CKR_MECHANISM_PARAM_INVALID;
    }
    if (rv == CKR_OK)
        rv = policy_check_usage(kek, wrap ? KF_WRAP : KF_UNWRAP, m->type);
    if (rv != CKR_OK)
        key_obj_clear(kek);
    return rv;
}

static CK_RV wrap_run(const engine *e, int mode, bool enc, const engine_mech *m, const key_obj *kek,
                      const uint8_t *in, size_t n, wbuf *out)
{
    CK_RV rv;
    sym_ctx c;
    if (mode != WRAP_CBC_PAD)
        return wrap_kw(mode, enc, kek, in, n, out);
    if ((rv = sym_init(&c, e, m->type, m, kek, enc)) == CKR_OK) {
        rv = sym_single(&c, in, n, out);
        if (!enc && (rv == CKR_ENCRYPTED_DATA_INVALID))
            rv = CKR_WRAPPED_KEY_INVALID;
        else if (!enc && rv == CKR_ENCRYPTED_DATA_LEN_RANGE)
            rv = CKR_WRAPPED_KEY_LEN_RANGE;
    }
    sym_wipe(&c);
    return rv;
}

static bool wrap_is_rsa(const engine_mech *m)
{
    const mech_row *r = mech_find(m->type);
    return r != NULL && r->crypt != 0 && (r->flags & CKF_WRAP);
}

/* CKA_CLASS of an unwrap template (secret when absent or malformed; the
 * template parser reports malformed values later). */
static CK_OBJECT_CLASS wrap_class(const CK_ATTRIBUTE *t, CK_ULONG n)
{
    for (CK_ULONG i = 0; t != NULL && i < n; i++)
        if (t[i].type == CKA_CLASS && t[i].pValue != NULL && t[i].ulValueLen == sizeof(CK_ULONG))
            return *(const CK_ULONG *)t[i].pValue;
    return CKO_SECRET_KEY;
}

static CK_RV wrap_rsa(engine *e, engine_bytes key_blob, engine_bytes kek, const engine_mech *m,
                      wbuf *o)
{
    CK_RV rv;
    key_obj k;
    bool trusted = false;
    if ((rv = key_unseal(e, key_blob, &k)) != CKR_OK)
        return rv;
    if (k.cls != CKO_SECRET_KEY || (k.flags & KF_ATTRBOUND))
        rv = CKR_KEY_NOT_WRAPPABLE; /* a private key does not fit one RSA block */
    else if (!(k.flags & KF_EXTRACTABLE))
        rv = CKR_KEY_UNEXTRACTABLE;
    else
        rv = rsa_wrap_secret(e, true, kek, m, k.secret, k.vlen, o, &trusted);
    if (rv == CKR_OK && (k.flags & KF_WRAP_WITH_TRUSTED) && !trusted) {
        wbuf_free(o);
        rv = CKR_KEY_NOT_WRAPPABLE;
    }
    key_obj_clear(&k);
    return rv;
}

/* A PKCS #8 PrivateKeyInfo becomes a private key blob through the import
 * path (template + the key's attributes); the checksum is its public key. */
static CK_RV unwrap_private(engine *e, const uint8_t *der, size_t len, const CK_ATTRIBUTE *t,
                            CK_ULONG n, engine_buf *key_blob, engine_buf *checksum)
{
    CK_RV rv;
    CK_ATTRIBUTE *all;
    CK_ULONG cnt = n;
    wbuf scratch;
    bool has_type = false;

    if (n > 64)
        return CKR_TEMPLATE_INCONSISTENT;
    for (CK_ULONG i = 0; i < n; i++)
        has_type |= t[i].type == CKA_KEY_TYPE;
    all = calloc(n + 12, sizeof(*all));
    if (all == NULL)
        return CKR_HOST_MEMORY;
    if (n > 0)
        memcpy(all, t, n * sizeof(*all));
    wbuf_init(&scratch, WRAP_MAX + 512);
    rv = pkcs8_decode(der, len, all, &cnt, n + 12, &scratch, !has_type);
    if (rv == CKR_OK) {
        rv = engine_import_private_key(e, all, cnt, key_blob);
        if (rv == CKR_ATTRIBUTE_VALUE_INVALID)
            rv = CKR_WRAPPED_KEY_INVALID;
    }
    if (rv == CKR_OK &&
        (rv = pkey_public_of(e, (engine_bytes){key_blob->ptr, key_blob->len}, checksum)) != CKR_OK)
        engine_buf_free(key_blob);
    wbuf_free(&scratch);
    free(all);
    return rv;
}

CK_RV engine_wrap_key(engine *e, engine_bytes key_blob, engine_bytes kek_blob,
                      engine_bytes mac_key_blob, const engine_mech *m, engine_buf *wrapped)
{
    CK_RV rv;
    key_obj k, kek;
    int mode = 0;
    wbuf o, p8;
    size_t len = 0, inlen;
    const uint8_t *in;

    if (e == NULL || wrapped == NULL)
        return CKR_ARGUMENTS_BAD;
    *wrapped = (engine_buf){NULL, 0};
    memset(&k, 0, sizeof(k));
    memset(&kek, 0, sizeof(kek));
    wbuf_init(&o, WRAP_MAX + 64);
    wbuf_init(&p8, WRAP_MAX);
    if (m != NULL && m->type == CKM_IBM_ATTRIBUTEBOUND_WRAP) {
        rv = m->kind == ENGINE_PARAM_NONE ? abw_wrap(e, key_blob, kek_blob, mac_key_blob, &o)
                                          : CKR_MECHANISM_PARAM_INVALID;
        goto done;
    }
    /* A MAC key belongs to attribute-bound wrapping only. */
    if (mac_key_blob.len != 0) {
        rv = CKR_ARGUMENTS_BAD;
        goto out;
    }
    if (m != NULL && wrap_is_rsa(m)) {
        rv = wrap_rsa(e, key_blob, kek_blob, m, &o);
        goto done;
    }
    if ((rv = wrap_kek(e, m, kek_blob, true, &kek, &mode)) != CKR_OK)
        goto out;
    if ((rv = key_unseal(e, key_blob, &k)) != CKR_OK)
        goto out;
    if (!(k.flags & KF_EXTRACTABLE)) {
        rv = CKR_KEY_UNEXTRACTABLE;
        goto out;
    }
    if ((k.flags & KF_ATTRBOUND) ||
        ((k.flags & KF_WRAP_WITH_TRUSTED) && !(kek.flags & KF_TRUSTED))) {
        rv = CKR_KEY_NOT_WRAPPABLE;
        goto out;
    }
    if (k.cls == CKO_PRIVATE_KEY) {
        /* The private key leaves as a PKCS #8 PrivateKeyInfo. */
        pkey pk;
        if ((rv = pkey_load_private(e, key_blob, &pk)) != CKR_OK)
            goto out;
        rv = pkcs8_encode(&pk, &p8);
        pkey_clear(&pk);
        if (rv != CKR_OK)
            goto out;
        in = p8.p, inlen = p8.len;
    } else {
        in = k.secret, inlen = k.vlen;
    }
    if (mode == WRAP_KW && (inlen % 8 != 0 || inlen < 16)) {
        rv = CKR_KEY_SIZE_RANGE;
        goto out;
    }
    if ((rv = wrap_run(e, mode, true, m, &kek, in, inlen, &o)) != CKR_OK)
        goto out;
done:
    if (rv != CKR_OK)
        goto out;
    wrapped->ptr = wbuf_take(&o, &len);
    wrapped->len = len;
    rv = wrapped->ptr ? CKR_OK : CKR_HOST_MEMORY;
out:
    wbuf_free(&o);
    wbuf_free(&p8);
    key_obj_clear(&k);
    key_obj_clear(&kek);
    return rv;
}

CK_RV engine_unwrap_key(engine *e, engine_bytes wrapped, engine_bytes kek_blob,
                        engine_bytes mac_key_blob, const engine_mech *m,
                        const CK_ATTRIBUTE *tmpl_in, CK_ULONG n, engine_buf *key_blob,
                        engine_buf *checksum)
{
    CK_RV rv;
    key_obj kek;
    int mode = 0;
    wbuf o;
    key_ctx ctx = {ORIGIN_UNWRAP, 0, CK_UNAVAILABLE_INFORMATION, 0, NULL};

    if (e == NULL || key_blob == NULL || checksum == NULL ||
        (wrapped.len > 0 && wrapped.ptr == NULL))
        return CKR_ARGUMENTS_BAD;
    *key_blob = (engine_buf){NULL, 0};
    *checksum = (engine_buf){NULL, 0};
    if (m != NULL && m->type == CKM_IBM_ATTRIBUTEBOUND_WRAP)
        return m->kind == ENGINE_PARAM_NONE
                   ? abw_unwrap(e, wrapped, kek_blob, mac_key_blob, tmpl_in, n, key_blob, checksum)
                   : CKR_MECHANISM_PARAM_INVALID;
    if (mac_key_blob.len != 0)
        return CKR_ARGUMENTS_BAD;
    if (wrapped.len == 0 || wrapped.len > WRAP_MAX + 16)
        return CKR_WRAPPED_KEY_LEN_RANGE;
    if (m != NULL && m->type == CKM_IBM_TRANSPORTKEY) /* the unwrapping key is ignored */
        return m->kind == ENGINE_PARAM_NONE
                   ? transport_unwrap(e, wrapped, tmpl_in, n, key_blob, checksum)
                   : CKR_MECHANISM_PARAM_INVALID;
    memset(&kek, 0, sizeof(kek));
    wbuf_init(&o, WRAP_MAX + 64);
    if (m != NULL && wrap_is_rsa(m)) {
        bool trusted;
        rv = rsa_wrap_secret(e, false, kek_blob, m, wrapped.ptr, wrapped.len, &o, &trusted);
        if (rv == CKR_OK && o.len == 0)
            rv = CKR_WRAPPED_KEY_INVALID;
        if (rv == CKR_OK && wrap_class(tmpl_in, n) != CKO_SECRET_KEY)
            rv = CKR_TEMPLATE_INCONSISTENT; /* private keys do not fit in one RSA block */
        if (rv != CKR_OK)
            goto out;
        goto secret;
    }
    if ((rv = wrap_kek(e, m, kek_blob, false, &kek, &mode)) != CKR_OK)
        goto out;
    if (mode != WRAP_CBC_PAD && (wrapped.len % 8 != 0 || wrapped.len < 16)) {
        rv = CKR_WRAPPED_KEY_LEN_RANGE;
        goto out;
    }
    if ((rv = wrap_run(e, mode, false, m, &kek, wrapped.ptr, wrapped.len, &o)) != CKR_OK)
        goto out;
    if (o.len == 0) {
        rv = CKR_WRAPPED_KEY_INVALID;
        goto out;
    }
    if (wrap_class(tmpl_in, n) == CKO_PRIVATE_KEY) {
        rv = unwrap_private(e, o.p, o.len, tmpl_in, n, key_blob, checksum);
        goto out;
    }
secret:
    ctx.mech = m->type;
    ctx.val_len = o.len;
    rv = keys_make_secret(e, tmpl_in, n, &ctx, o.p, o.len, key_blob, checksum);
out:
    wbuf_free(&o);
    key_obj_clear(&kek);
    return rv;
}
