/* Finite-field keys: DSA (FIPS 186) and PKCS #3 Diffie-Hellman. Domain
 * parameters travel as the published GREP11 samples pass them — the bytes
 * CKM_DSA_PARAMETER_GEN / CKM_DH_PKCS_PARAMETER_GEN returned, given back as
 * CKA_IBM_STRUCT_PARAMS — here the DER Dss-Parms { p, q, g } or
 * DHParameter { p, g }; CKA_PRIME / CKA_SUBPRIME / CKA_BASE work too. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/dsa.h>
#include <openssl/param_build.h>

#include "pkey.h"

#define FFC_MAX_BYTES 1024u /* 8192-bit p */

size_t mag_bits(der_span m)
{
    size_t b = m.len * 8;
    for (uint8_t t = m.len ? m.p[0] : 0; b > 0 && !(t & 0x80); t <<= 1)
        b--;
    return m.len ? b : 0;
}

static bool span_of(const CK_ATTRIBUTE *a, der_span *s)
{
    if (a == NULL || a->ulValueLen == 0)
        return false;
    *s = (der_span){a->pValue, a->ulValueLen};
    while (s->len > 1 && s->p[0] == 0)
        s->p++, s->len--;
    return true;
}

/* Dss-Parms ::= SEQUENCE { p, q, g }; DHParameter ::= SEQUENCE { p, g [, l] }. */
static bool ffc_der(pk_alg alg, der_span in, der_span *p, der_span *q, der_span *g)
{
    der_span seq, a, b, c;
    if (!der_get(&in, DER_SEQUENCE, &seq, NULL) || in.len != 0 ||
        !der_get(&seq, DER_INTEGER, &a, NULL) || !der_get(&seq, DER_INTEGER, &b, NULL) ||
        !der_uint(&a, p))
        return false;
    if (alg == PK_DSA) {
        if (!der_get(&seq, DER_INTEGER, &c, NULL) || seq.len != 0 || !der_uint(&b, q) ||
            !der_uint(&c, g))
            return false;
        return true;
    }
    *q = (der_span){NULL, 0};
    if (!der_uint(&b, g))
        return false;
    return seq.len == 0 || (der_get(&seq, DER_INTEGER, NULL, NULL) && seq.len == 0);
}

static CK_RV ffc_check(const engine *e, pk_alg alg, der_span p, der_span q, der_span g)
{
    size_t pb = mag_bits(p), qb = mag_bits(q);
    if (pb < e->pol.min_rsa_bits || pb > (alg == PK_DSA ? 3072u : 8192u) || !(p.p[p.len - 1] & 1))
        return CKR_DOMAIN_PARAMS_INVALID;
    if (alg == PK_DSA && qb != 160 && qb != 224 && qb != 256)
        return CKR_DOMAIN_PARAMS_INVALID;
    if (mag_bits(g) < 2 || g.len > p.len)
        return CKR_DOMAIN_PARAMS_INVALID;
    return CKR_OK;
}

static bool bld(OSSL_PARAM_BLD *b, const char *name, der_span v, BIGNUM **keep, bool secret)
{
    BIGNUM *bn = secret ? BN_secure_new() : BN_new();
    if (bn == NULL || BN_bin2bn(v.p, (int)v.len, bn) == NULL ||
        !OSSL_PARAM_BLD_push_BN(b, name, bn)) {
        BN_clear_free(bn);
        return false;
    }
    *keep = bn;
    return true;
}

/* An OpenSSL key (parameters only, public, or key pair) from the fields. */
static CK_RV ffc_build(pk_alg alg, der_span p, der_span q, der_span g, const der_span *y,
                       const der_span *x, EVP_PKEY **out)
{
    CK_RV rv = CKR_HOST_MEMORY;
    OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
    OSSL_PARAM *prm = NULL;
    EVP_PKEY_CTX *c = NULL;
    BIGNUM *bn[5] = {0};
    int sel = x ? EVP_PKEY_KEYPAIR : y ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEY_PARAMETERS;

    *out = NULL;
    if (b == NULL || !bld(b, OSSL_PKEY_PARAM_FFC_P, p, &bn[0], false) ||
        !bld(b, OSSL_PKEY_PARAM_FFC_G, g, &bn[1], false) ||
        (q.len && !bld(b, OSSL_PKEY_PARAM_FFC_Q, q, &bn[2], false)) ||
        (y && !bld(b, OSSL_PKEY_PARAM_PUB_KEY, *y, &bn[3], false)) ||
        (x && !bld(b, OSSL_PKEY_PARAM_PRIV_KEY, *x, &bn[4], true)))
        goto out;
    rv = CKR_DOMAIN_PARAMS_INVALID;
    if ((prm = OSSL_PARAM_BLD_to_param(b)) != NULL &&
        (c = EVP_PKEY_CTX_new_from_name(NULL, alg == PK_DSA ? "DSA" : "DH", NULL)) != NULL &&
        EVP_PKEY_fromdata_init(c) == 1 && EVP_PKEY_fromdata(c, out, sel, prm) == 1)
        rv = CKR_OK;
out:
    for (int i = 0; i < 5; i++)
        BN_clear_free(bn[i]);
    OSSL_PARAM_free(prm);
    EVP_PKEY_CTX_free(c);
    OSSL_PARAM_BLD_free(b);
    return rv;
}

CK_RV ffc_params(const engine *e, CK_KEY_TYPE kt, const CK_ATTRIBUTE *sp, const CK_ATTRIBUTE *p,
                 const CK_ATTRIBUTE *q, const CK_ATTRIBUTE *g, pair_params *pp)
{
    CK_RV rv;
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *c = NULL;

    pp->alg = kt == CKK_DSA ? PK_DSA : PK_DH;
    if (sp != NULL) {
        if (p || q || g)
            return CKR_TEMPLATE_INCONSISTENT;
        if (!ffc_der(pp->alg, (der_span){sp->pValue, sp->ulValueLen}, &pp->fp, &pp->fq, &pp->fg))
            return CKR_ATTRIBUTE_VALUE_INVALID;
    } else {
        if (!span_of(p, &pp->fp) || !span_of(g, &pp->fg) ||
            (pp->alg == PK_DSA && !span_of(q, &pp->fq)))
            return CKR_TEMPLATE_INCOMPLETE;
        if (pp->alg == PK_DH && q != NULL)
            return CKR_TEMPLATE_INCONSISTENT;
    }
    if ((rv = ffc_check(e, pp->alg, pp->fp, pp->fq, pp->fg)) != CKR_OK)
        return rv;
    pp->bits = mag_bits(pp->fp);
    /* OpenSSL's quick FFC validation (g's order, q | p-1 for DSA). */
    if ((rv = ffc_build(pp->alg, pp->fp, pp->fq, pp->fg, NULL, NULL, &k)) == CKR_OK &&
        ((c = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL)) == NULL ||
         EVP_PKEY_param_check_quick(c) != 1))
        rv = CKR_DOMAIN_PARAMS_INVALID;
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(k);
    return rv;
}

CK_RV spki_build_ffc(pk_alg alg, der_span p, der_span q, der_span g, const uint8_t *y, size_t ylen,
                     wbuf *w)
{
    static const uint8_t OID_DSA[] = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01};
    static const uint8_t OID_DH[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                     0xf7, 0x0d, 0x01, 0x03, 0x01};
    const uint8_t *oid = alg == PK_DSA ? OID_DSA : OID_DH;
    size_t ol = alg == PK_DSA ? sizeof(OID_DSA) : sizeof(OID_DH);
    size_t prm = der_uint_size(p.p, p.len) + der_uint_size(g.p, g.len) +
                 (alg == PK_DSA ? der_uint_size(q.p, q.len) : 0);
    size_t algid = ol + der_size(prm), key = der_uint_size(y, ylen);

    der_put_hdr(w, DER_SEQUENCE, der_size(algid) + der_size(key + 1));
    der_put_hdr(w, DER_SEQUENCE, algid);
    wbuf_put(w, oid, ol);
    der_put_hdr(w, DER_SEQUENCE, prm);
    der_put_uint(w, p.p, p.len);
    if (alg == PK_DSA)
        der_put_uint(w, q.p, q.len);
    der_put_uint(w, g.p, g.len);
    der_put_hdr(w, DER_BIT_STRING, key + 1);
    wbuf_u8(w, 0);
    der_put_uint(w, y, ylen);
    return w->err ? CKR_HOST_MEMORY : CKR_OK;
}

CK_RV ffc_spki_fields(pk_alg alg, der_span params, der_span key, pkey *k)
{
    der_span in = key, yv;
    /* params arrive as the AlgorithmIdentifier's remaining bytes: one SEQUENCE. */
    if (!ffc_der(alg, params, &k->fp, &k->fq, &k->fg) || !der_get(&in, DER_INTEGER, &yv, NULL) ||
        in.len != 0 || !der_uint(&yv, &k->pub))
        return CKR_PUBLIC_KEY_INVALID;
    if (mag_bits(k->fp) < 1024 || k->fp.len > FFC_MAX_BYTES || k->pub.len > k->fp.len)
        return CKR_PUBLIC_KEY_INVALID;
    k->alg = alg;
    return CKR_OK;
}

CK_RV ffc_evp(const pkey *k, EVP_PKEY **out)
{
    der_span x = {k->priv, k->priv_len};
    return ffc_build(k->alg, k->fp, k->fq, k->fg, &k->pub, k->is_private ? &x : NULL, out) == CKR_OK
               ? CKR_OK
               : CKR_PUBLIC_KEY_INVALID;
}

CK_RV ffc_public_of(der_span p, der_span g, const uint8_t *x, size_t xlen, uint8_t *y, size_t cap,
                    size_t *ylen)
{
    CK_RV rv = CKR_HOST_MEMORY;
    BN_CTX *c = BN_CTX_new();
    BIGNUM *bp = BN_bin2bn(p.p, (int)p.len, NULL), *bg = BN_bin2bn(g.p, (int)g.len, NULL);
    BIGNUM *bx = BN_secure_new(), *by = BN_new();
    int l;
    if (c == NULL || bp == NULL || bg == NULL || bx == NULL || by == NULL ||
        BN_bin2bn(x, (int)xlen, bx) == NULL)
        goto out;
    BN_set_flags(bx, BN_FLG_CONSTTIME);
    rv = CKR_FUNCTION_FAILED;
    if (BN_is_zero(bx) || BN_mod_exp_mont_consttime(by, bg, bx, bp, c, NULL) != 1 ||
        (l = BN_num_bytes(by)) > (int)cap)
        goto out;
    *ylen = (size_t)BN_bn2bin(by, y);
    rv = CKR_OK;
out:
    BN_CTX_free(c);
    BN_free(bp);
    BN_free(bg);
    BN_clear_free(bx);
    BN_free(by);
    return rv;
}

CK_RV ffc_generate(const pair_params *pp, wbuf *spki, wbuf *priv)
{
    CK_RV rv;
    EVP_PKEY *params = NULL, *k = NULL;
    EVP_PKEY_CTX *c = NULL;
    BIGNUM *x = NULL, *y = NULL;
    uint8_t yb[FFC_MAX_BYTES], xb[FFC_MAX_BYTES];
    int yl, xl;

    if ((rv = ffc_build(pp->alg, pp->fp, pp->fq, pp->fg, NULL, NULL, &params)) != CKR_OK)
        return rv;
    rv = CKR_FUNCTION_FAILED;
    if ((c = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL)) == NULL ||
        EVP_PKEY_keygen_init(c) != 1 || EVP_PKEY_generate(c, &k) != 1 ||
        EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PUB_KEY, &y) != 1 ||
        EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &x) != 1 ||
        (yl = BN_num_bytes(y)) > (int)sizeof(yb) || (xl = BN_num_bytes(x)) > (int)sizeof(xb))
        goto out;
    BN_bn2bin(y, yb);
    BN_bn2bin(x, xb);
    wbuf_put(priv, xb, (size_t)xl);
    rv = spki_build_ffc(pp->alg, pp->fp, pp->fq, pp->fg, yb, (size_t)yl, spki);
out:
    OPENSSL_cleanse(xb, sizeof(xb));
    BN_clear_free(x);
    BN_free(y);
    EVP_PKEY_free(k);
    EVP_PKEY_free(params);
    EVP_PKEY_CTX_free(c);
    return rv;
}

/* DSA signatures as r || s, each the length of q (PKCS #11 CKM_DSA). */
CK_RV dsa_sign(const pkey *k, const uint8_t *dgst, size_t n, engine_buf *sig)
{
    CK_RV rv;
    EVP_PKEY *pk = NULL;
    EVP_PKEY_CTX *c = NULL;
    DSA_SIG *ds = NULL;
    uint8_t der[160];
    const uint8_t *p = der;
    size_t dl = sizeof(der), ql = k->fq.len;
    const BIGNUM *r, *s;

    if ((rv = ffc_evp(k, &pk)) != CKR_OK)
        return CKR_KEY_HANDLE_INVALID;
    rv = CKR_FUNCTION_FAILED;
    if ((c = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL || EVP_PKEY_sign_init(c) != 1 ||
        EVP_PKEY_sign(c, der, &dl, dgst, n) != 1 || (ds = d2i_DSA_SIG(NULL, &p, (long)dl)) == NULL)
        goto out;
    DSA_SIG_get0(ds, &r, &s);
    if ((rv = ebuf_alloc(sig, 2 * ql)) != CKR_OK)
        goto out;
    if (BN_bn2binpad(r, sig->ptr, (int)ql) != (int)ql ||
        BN_bn2binpad(s, sig->ptr + ql, (int)ql) != (int)ql) {
        engine_buf_free(sig);
        rv = CKR_FUNCTION_FAILED;
    }
out:
    DSA_SIG_free(ds);
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(pk);
    return rv;
}

CK_RV dsa_verify(const pkey *k, const uint8_t *dgst, size_t n, const uint8_t *sig, size_t slen)
{
    CK_RV rv = CKR_SIGNATURE_INVALID;
    EVP_PKEY *pk = NULL;
    EVP_PKEY_CTX *c = NULL;
    DSA_SIG *ds = NULL;
    BIGNUM *r = NULL, *s = NULL;
    uint8_t *der = NULL;
    int dl;
    size_t ql = k->fq.len;

    if (slen != 2 * ql)
        return CKR_SIGNATURE_LEN_RANGE;
    if (ffc_evp(k, &pk) != CKR_OK)
        return CKR_KEY_HANDLE_INVALID;
    ds = DSA_SIG_new();
    r = BN_bin2bn(sig, (int)ql, NULL);
    s = BN_bin2bn(sig + ql, (int)ql, NULL);
    if (ds == NULL || r == NULL || s == NULL || DSA_SIG_set0(ds, r, s) != 1) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    r = s = NULL;
    if ((dl = i2d_DSA_SIG(ds, &der)) > 0 &&
        (c = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) != NULL && EVP_PKEY_verify_init(c) == 1 &&
        EVP_PKEY_verify(c, der, (size_t)dl, dgst, n) == 1)
        rv = CKR_OK;
out:
    OPENSSL_free(der);
    BN_free(r);
    BN_free(s);
    DSA_SIG_free(ds);
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(pk);
    return rv;
}

static CK_RV der_ffc(const BIGNUM *p, const BIGNUM *q, const BIGNUM *g, engine_buf *out)
{
    uint8_t bp[FFC_MAX_BYTES], bq[64], bg[FFC_MAX_BYTES];
    int lp = BN_bn2bin(p, bp), lq = q ? BN_bn2bin(q, bq) : 0, lg = BN_bn2bin(g, bg);
    wbuf w;
    size_t len = 0;
    wbuf_init(&w, 4096);
    der_put_hdr(&w, DER_SEQUENCE,
                der_uint_size(bp, (size_t)lp) + (q ? der_uint_size(bq, (size_t)lq) : 0) +
                    der_uint_size(bg, (size_t)lg));
    der_put_uint(&w, bp, (size_t)lp);
    if (q)
        der_put_uint(&w, bq, (size_t)lq);
    der_put_uint(&w, bg, (size_t)lg);
    out->ptr = wbuf_take(&w, &len);
    out->len = len;
    return out->ptr ? CKR_OK : CKR_HOST_MEMORY;
}

CK_RV ffc_paramgen(const engine *e, CK_KEY_TYPE kt, const CK_ATTRIBUTE *tin, CK_ULONG n,
                   engine_buf *out)
{
    CK_RV rv;
    tmpl t;
    CK_ULONG bits = 0, qbits = 256, v;
    EVP_PKEY_CTX *c = NULL;
    EVP_PKEY *k = NULL;
    BIGNUM *p = NULL, *q = NULL, *g = NULL;
    char grp[16];

    if ((rv = tmpl_parse(tin, n, &t)) != CKR_OK)
        return rv;
    for (int i = 0; i < TMPL_MAX_DEFS; i++) {
        const CK_ATTRIBUTE *a = t.slot[i];
        const attr_def *d = a ? attr_find(a->type, NULL) : NULL;
        if (a == NULL || d->role == AR_NONBOUND || a->type == CKA_CLASS ||
            a->type == CKA_KEY_TYPE || a->type == CKA_PRIME_BITS ||
            (kt == CKK_DSA && a->type == CKA_SUB_PRIME_BITS))
            continue;
        return CKR_TEMPLATE_INCONSISTENT;
    }
    if ((tmpl_ulong(&t, CKA_CLASS, &v) && v != CKO_DOMAIN_PARAMETERS) ||
        (tmpl_ulong(&t, CKA_KEY_TYPE, &v) && v != kt))
        return CKR_TEMPLATE_INCONSISTENT;
    if (!tmpl_ulong(&t, CKA_PRIME_BITS, &bits))
        return CKR_TEMPLATE_INCOMPLETE;
    (void)tmpl_ulong(&t, CKA_SUB_PRIME_BITS, &qbits);
    if (kt == CKK_DSA) {
        /* FIPS 186-4 sizes: (2048, 224), (2048, 256), (3072, 256). */
        if (bits < e->pol.min_rsa_bits || (bits != 2048 && bits != 3072) ||
            (qbits != 224 && qbits != 256) || (bits == 3072 && qbits != 256))
            return CKR_ATTRIBUTE_VALUE_INVALID;
        c = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL);
        rv = CKR_FUNCTION_FAILED;
        if (c == NULL || EVP_PKEY_paramgen_init(c) != 1 ||
            EVP_PKEY_CTX_set_dsa_paramgen_bits(c, (int)bits) != 1 ||
            EVP_PKEY_CTX_set_dsa_paramgen_q_bits(c, (int)qbits) != 1 ||
            EVP_PKEY_paramgen(c, &k) != 1)
            goto out;
    } else {
        /* Safe primes take minutes to find; the RFC 7919 group of the size
         * asked is returned instead (published, safe-prime, named). */
        if (bits < e->pol.min_rsa_bits ||
            (bits != 2048 && bits != 3072 && bits != 4096 && bits != 6144 && bits != 8192))
            return CKR_ATTRIBUTE_VALUE_INVALID;
        snprintf(grp, sizeof(grp), "ffdhe%lu", (unsigned long)bits);
        OSSL_PARAM prm[2] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, grp, 0),
                             OSSL_PARAM_construct_end()};
        c = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
        rv = CKR_FUNCTION_FAILED;
        if (c == NULL || EVP_PKEY_paramgen_init(c) != 1 || EVP_PKEY_CTX_set_params(c, prm) != 1 ||
            EVP_PKEY_paramgen(c, &k) != 1)
            goto out;
    }
    if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_FFC_P, &p) != 1 ||
        EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_FFC_G, &g) != 1 ||
        (kt == CKK_DSA && EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_FFC_Q, &q) != 1))
        goto out;
    rv = der_ffc(p, kt == CKK_DSA ? q : NULL, g, out);
out:
    BN_free(p);
    BN_free(q);
    BN_free(g);
    EVP_PKEY_free(k);
    EVP_PKEY_CTX_free(c);
    return rv;
}
