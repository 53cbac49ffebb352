/* PKCS #8 PrivateKeyInfo for wrapping and unwrapping private keys.
 * RSA, EC, Ed25519/Ed448 and X25519/X448 go through OpenSSL's encoders; the
 * post-quantum keys use the IETF LAMPS layout with the expanded key
 * (CHOICE expandedKey; the seed [0] and both forms are read too, the seed
 * regenerating the key). */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "pkey.h"
#include "pqc.h"

CK_RV pkcs8_encode(const pkey *k, wbuf *w)
{
    CK_RV rv;
    EVP_PKEY *pk = NULL;
    PKCS8_PRIV_KEY_INFO *p8 = NULL;
    uint8_t *der = NULL;
    int dl = 0;

    if (k->alg == PK_MLDSA || k->alg == PK_MLKEM) {
        const pqc_def *q = k->pqc;
        size_t alg = q->oid_len + (q->ckp == 0 ? 2 : 0), inner = der_size(k->priv_len);
        der_put_hdr(w, DER_SEQUENCE, 3 + der_size(alg) + der_size(inner));
        der_put(w, DER_INTEGER, (const uint8_t *)"\0", 1);
        der_put_hdr(w, DER_SEQUENCE, alg);
        wbuf_put(w, q->oid, q->oid_len);
        if (q->ckp == 0)
            wbuf_put(w, "\x05\x00", 2);
        der_put_hdr(w, DER_OCTET_STRING, inner);
        der_put(w, DER_OCTET_STRING, k->priv, k->priv_len);
        return w->err ? CKR_HOST_MEMORY : CKR_OK;
    }
    if ((rv = pkey_evp(k, &pk)) != CKR_OK)
        return rv;
    rv = CKR_KEY_NOT_WRAPPABLE;
    if ((p8 = EVP_PKEY2PKCS8(pk)) != NULL && (dl = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) > 0) {
        wbuf_put(w, der, (size_t)dl);
        rv = w->err ? CKR_HOST_MEMORY : CKR_OK;
    }
    if (der != NULL)
        OPENSSL_clear_free(der, (size_t)dl);
    PKCS8_PRIV_KEY_INFO_free(p8);
    EVP_PKEY_free(pk);
    return rv;
}

/* Appends one attribute whose value is copied into scratch. The scratch
 * buffer is reserved large enough up front, so pointers stay valid. */
static bool add(CK_ATTRIBUTE *out, CK_ULONG *n, CK_ULONG cap, wbuf *s, CK_ATTRIBUTE_TYPE t,
                const void *p, size_t l)
{
    uint8_t *q;
    if (*n >= cap || s->len + l > s->cap)
        return false;
    q = s->p + s->len;
    memcpy(q, p, l);
    s->len += l;
    out[(*n)++] = (CK_ATTRIBUTE){t, q, l};
    return true;
}

static CK_RV decode_pqc(const pqc_def *q, der_span key, CK_ATTRIBUTE *out, CK_ULONG *n,
                        CK_ULONG cap, wbuf *s, bool need_type)
{
    der_span in = key, v, seed = {NULL, 0}, exp = {NULL, 0};
    CK_ULONG kt = q->ktype, ps = q->ckp;
    uint8_t *gen = NULL;
    size_t glen =
        q->alg == PK_MLDSA ? mldsa_sk_bytes((mldsa_set)q->set) : mlkem_dk_bytes((mlkem_set)q->set);
    bool ok;

    if (in.len > 0 && in.p[0] == 0x80) { /* seed [0] IMPLICIT OCTET STRING */
        if (!der_get(&in, 0x80, &seed, NULL) || in.len != 0)
            return CKR_WRAPPED_KEY_INVALID;
    } else if (der_get(&in, DER_OCTET_STRING, &exp, NULL) && in.len == 0) {
    } else {
        in = key; /* both: SEQUENCE { seed OCTET STRING, expandedKey OCTET STRING } */
        if (!der_get(&in, DER_SEQUENCE, &v, NULL) || in.len != 0 ||
            !der_get(&v, DER_OCTET_STRING, &seed, NULL) ||
            !der_get(&v, DER_OCTET_STRING, &exp, NULL) || v.len != 0)
            return CKR_WRAPPED_KEY_INVALID;
    }
    if (seed.p != NULL) {
        /* Regenerate the expanded key; with both forms present they must agree. */
        uint8_t *pk = malloc(pqc_pub_len(q));
        gen = malloc(glen);
        pqc_rv r = PQC_ERR_BAD_LENGTH;
        if (pk != NULL && gen != NULL) {
            if (q->alg == PK_MLDSA && seed.len == mldsa_seed_bytes((mldsa_set)q->set))
                r = mldsa_keygen_internal((mldsa_set)q->set, seed.p, seed.len, pk, pqc_pub_len(q),
                                          gen, glen);
            else if (q->alg == PK_MLKEM && seed.len == 64)
                r = mlkem_keygen_internal((mlkem_set)q->set, seed.p, 32, seed.p + 32, 32, pk,
                                          pqc_pub_len(q), gen, glen);
        }
        free(pk);
        if (r != PQC_OK ||
            (exp.p != NULL && (exp.len != glen || CRYPTO_memcmp(exp.p, gen, glen) != 0))) {
            if (gen != NULL)
                OPENSSL_cleanse(gen, glen);
            free(gen);
            return CKR_WRAPPED_KEY_INVALID;
        }
        exp = (der_span){gen, glen};
    }
    ok = (!need_type || add(out, n, cap, s, CKA_KEY_TYPE, &kt, sizeof(kt))) &&
         (ps != 0 ? add(out, n, cap, s, CKA_PARAMETER_SET, &ps, sizeof(ps))
                  : add(out, n, cap, s, CKA_IBM_PQC_PARAMS, q->oid, q->oid_len)) &&
         add(out, n, cap, s, CKA_VALUE, exp.p, exp.len);
    if (gen != NULL) {
        OPENSSL_cleanse(gen, glen);
        free(gen);
    }
    return ok ? CKR_OK : CKR_WRAPPED_KEY_INVALID;
}

static CK_RV decode_ossl(const uint8_t *der, size_t len, CK_ATTRIBUTE *out, CK_ULONG *n,
                         CK_ULONG cap, wbuf *s, bool need_type)
{
    static const char *RN[8] = {OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
                                OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
                                OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
                                OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
    static const CK_ATTRIBUTE_TYPE RT[8] = {
        CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
        CKA_PRIME_2, CKA_EXPONENT_1,      CKA_EXPONENT_2,       CKA_COEFFICIENT};
    CK_RV rv = CKR_WRAPPED_KEY_INVALID;
    const uint8_t *p = der;
    PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
    EVP_PKEY *pk = p8 ? EVP_PKCS82PKEY(p8) : NULL;
    uint8_t buf[1024];
    char name[64];
    size_t bl = 0;
    CK_ULONG kt;
    const curve_def *c = NULL;

    if (pk == NULL || p != der + len)
        goto out;
    if (EVP_PKEY_is_a(pk, "RSA")) {
        kt = CKK_RSA;
        if (need_type && !add(out, n, cap, s, CKA_KEY_TYPE, &kt, sizeof(kt)))
            goto out;
        for (int i = 0; i < 8; i++) {
            BIGNUM *bn = NULL;
            int l;
            bool ok = EVP_PKEY_get_bn_param(pk, RN[i], &bn) == 1 &&
                      (l = BN_num_bytes(bn)) <= (int)sizeof(buf) && BN_bn2bin(bn, buf) == l &&
                      add(out, n, cap, s, RT[i], buf, (size_t)l);
            BN_clear_free(bn);
            if (!ok)
                goto out;
        }
        rv = CKR_OK;
        goto out;
    }
    if (EVP_PKEY_is_a(pk, "DSA") || EVP_PKEY_is_a(pk, "DH")) {
        static const char *FN[4] = {OSSL_PKEY_PARAM_FFC_P, OSSL_PKEY_PARAM_FFC_Q,
                                    OSSL_PKEY_PARAM_FFC_G, OSSL_PKEY_PARAM_PRIV_KEY};
        static const CK_ATTRIBUTE_TYPE FT[4] = {CKA_PRIME, CKA_SUBPRIME, CKA_BASE, CKA_VALUE};
        bool dsa = EVP_PKEY_is_a(pk, "DSA");
        kt = dsa ? CKK_DSA : CKK_DH;
        if (need_type && !add(out, n, cap, s, CKA_KEY_TYPE, &kt, sizeof(kt)))
            goto out;
        for (int i = 0; i < 4; i++) {
            BIGNUM *bn = NULL;
            int l;
            bool ok;
            if (i == 1 && !dsa)
                continue; /* PKCS #3 DH keys carry p and g */
            ok = EVP_PKEY_get_bn_param(pk, FN[i], &bn) == 1 &&
                 (l = BN_num_bytes(bn)) <= (int)sizeof(buf) && BN_bn2bin(bn, buf) == l &&
                 add(out, n, cap, s, FT[i], buf, (size_t)l);
            BN_clear_free(bn);
            if (!ok)
                goto out;
        }
        rv = CKR_OK;
        goto out;
    }
    if (EVP_PKEY_is_a(pk, "EC")) {
        BIGNUM *d = NULL;
        if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name),
                                           NULL) != 1 ||
            (c = curve_by_ossl(name)) == NULL ||
            EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1 ||
            BN_bn2binpad(d, buf, (int)c->priv_len) != (int)c->priv_len) {
            BN_clear_free(d);
            goto out;
        }
        BN_clear_free(d);
        bl = c->priv_len;
    } else {
        const char *ty = EVP_PKEY_get0_type_name(pk);
        bl = sizeof(buf);
        if (ty == NULL || (c = curve_by_ossl(ty)) == NULL ||
            EVP_PKEY_get_raw_private_key(pk, buf, &bl) != 1)
            goto out;
    }
    kt = c->alg == PK_EC ? CKK_EC : c->alg == PK_ED ? CKK_EC_EDWARDS : CKK_EC_MONTGOMERY;
    if ((!need_type || add(out, n, cap, s, CKA_KEY_TYPE, &kt, sizeof(kt))) &&
        add(out, n, cap, s, CKA_EC_PARAMS, c->oid, c->oid_len) &&
        add(out, n, cap, s, CKA_VALUE, buf, bl))
        rv = CKR_OK;
out:
    OPENSSL_cleanse(buf, sizeof(buf));
    EVP_PKEY_free(pk);
    PKCS8_PRIV_KEY_INFO_free(p8);
    return rv;
}

CK_RV pkcs8_decode(const uint8_t *der, size_t len, CK_ATTRIBUTE *out, CK_ULONG *n, CK_ULONG cap,
                   wbuf *scratch, bool need_type)
{
    der_span in = {der, len}, seq, ver, alg, oid, key;
    const pqc_def *q;

    if (wbuf_reserve(scratch, len + 256) == NULL)
        return CKR_HOST_MEMORY;
    scratch->len = 0; /* reserved capacity, nothing written yet */
    if (!der_get(&in, DER_SEQUENCE, &seq, NULL) || in.len != 0 ||
        !der_get(&seq, DER_INTEGER, &ver, NULL) || !der_get(&seq, DER_SEQUENCE, &alg, NULL) ||
        !der_get(&alg, DER_OID, NULL, &oid))
        return CKR_WRAPPED_KEY_INVALID;
    q = pqc_by_spki_oid(oid.p, oid.len);
    if (q == NULL)
        return decode_ossl(der, len, out, n, cap, scratch, need_type);
    /* version 0, no attributes or public key after the private key. */
    if (ver.len != 1 || ver.p[0] != 0 || !der_get(&seq, DER_OCTET_STRING, &key, NULL) ||
        seq.len != 0 || !(alg.len == 0 || (alg.len == 2 && alg.p[0] == DER_NULL)))
        return CKR_WRAPPED_KEY_INVALID;
    return decode_pqc(q, key, out, n, cap, scratch, need_type);
}

CK_RV pkey_public_of(const engine *e, engine_bytes priv_blob, engine_buf *pub)
{
    CK_RV rv;
    pkey k;
    key_obj o;
    if ((rv = pkey_load_private(e, priv_blob, &k)) != CKR_OK)
        return rv;
    o = k.obj;
    o.secret = NULL;
    o.vlen = 0;
    o.cls = CKO_PUBLIC_KEY;
    o.flags = ((KF_VERIFY | KF_ENCRYPT | KF_DERIVE) & policy_usage(CKO_PUBLIC_KEY, o.ktype)) |
              KF_EXTRACTABLE;
    o.flags |= k.obj.flags & KF_LOCAL;
    rv = spki_mac_seal(&e->d->cur, k.spki, k.spki_len, &o, pub);
    pkey_clear(&k);
    return rv;
}
