/* SubjectPublicKeyInfo: parse and build for every key type, the MAC
 * trailer that makes a "MACed SPKI", and loading a public key from the
 * bytes a client sends (README "Public-key objects"). */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "blob.h"
#include "pkey.h"
#include "pqc.h"

static const uint8_t OID_RSA[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
static const uint8_t OID_ECPUB[] = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t DER_NULL_V[] = {0x05, 0x00};
static const uint8_t OID_DSA[] = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01};
static const uint8_t OID_DH[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x03, 0x01};
static const uint8_t TRAILER_MAGIC[4] = {'G', 'R', 'P', 'K'};
#define TRAILER_VERSION 1
#define TRAILER_MAC 32
#define SPKI_MAX 8192u

static bool span_eq(der_span s, const uint8_t *p, size_t len)
{
    return s.len == len && memcmp(s.p, p, len) == 0;
}

size_t pqc_pub_len(const pqc_def *q)
{
    return q->alg == PK_MLDSA ? mldsa_pk_bytes((mldsa_set)q->set)
                              : mlkem_ek_bytes((mlkem_set)q->set);
}

/* BIT STRING content with no unused bits. */
static bool bits_of(der_span in, der_span *out)
{
    if (in.len < 1 || in.p[0] != 0)
        return false;
    *out = (der_span){in.p + 1, in.len - 1};
    return true;
}

static CK_RV spki_rsa(der_span key, pkey *k)
{
    der_span seq, n, e, in = key;
    if (!der_get(&in, DER_SEQUENCE, &seq, NULL) || in.len != 0 ||
        !der_get(&seq, DER_INTEGER, &n, NULL) || !der_get(&seq, DER_INTEGER, &e, NULL) ||
        seq.len != 0 || !der_uint(&n, &k->n) || !der_uint(&e, &k->e))
        return CKR_PUBLIC_KEY_INVALID;
    /* Sizes the engine would accept from itself or from any sane signer. */
    if (k->n.len < 64 || k->n.len > 1024 || k->e.len > 8 || !(k->e.p[k->e.len - 1] & 1) ||
        !(k->n.p[k->n.len - 1] & 1))
        return CKR_PUBLIC_KEY_INVALID;
    k->alg = PK_RSA;
    k->pub = key;
    return CKR_OK;
}

/* IBM Dilithium: SEQUENCE { BIT STRING rho, BIT STRING t1 }; IBM Kyber:
 * SEQUENCE { BIT STRING pk }. */
static CK_RV spki_ibm(der_span key, pkey *k)
{
    der_span in = key, seq, a, b, ra, rb;
    size_t want = pqc_pub_len(k->pqc);
    if (!der_get(&in, DER_SEQUENCE, &seq, NULL) || in.len != 0 ||
        !der_get(&seq, DER_BIT_STRING, &a, NULL) || !bits_of(a, &ra))
        return CKR_PUBLIC_KEY_INVALID;
    if (k->pqc->alg == PK_MLKEM) {
        if (seq.len != 0 || ra.len != want)
            return CKR_PUBLIC_KEY_INVALID;
        k->pub = ra;
        return CKR_OK;
    }
    if (!der_get(&seq, DER_BIT_STRING, &b, NULL) || seq.len != 0 || !bits_of(b, &rb) ||
        ra.len != 32 || ra.len + rb.len != want)
        return CKR_PUBLIC_KEY_INVALID;
    k->pub_own = malloc(want);
    if (k->pub_own == NULL)
        return CKR_HOST_MEMORY;
    memcpy(k->pub_own, ra.p, 32);
    memcpy(k->pub_own + 32, rb.p, rb.len);
    k->pub = (der_span){k->pub_own, want};
    return CKR_OK;
}

static CK_RV spki_fields(const uint8_t *der, size_t len, pkey *k)
{
    der_span in = {der, len}, spki, algid, oid, key, raw;
    bool has_params;

    if (!der_get(&in, DER_SEQUENCE, &spki, NULL) || in.len != 0 ||
        !der_get(&spki, DER_SEQUENCE, &algid, NULL) ||
        !der_get(&spki, DER_BIT_STRING, &key, NULL) || spki.len != 0 || !bits_of(key, &raw))
        return CKR_PUBLIC_KEY_INVALID;
    if (!der_get(&algid, DER_OID, NULL, &oid))
        return CKR_PUBLIC_KEY_INVALID;
    has_params = algid.len != 0;
    if (span_eq(oid, OID_RSA, sizeof(OID_RSA))) {
        if (has_params && !span_eq(algid, DER_NULL_V, 2))
            return CKR_PUBLIC_KEY_INVALID;
        return spki_rsa(raw, k);
    }
    if (span_eq(oid, OID_DSA, sizeof(OID_DSA)) || span_eq(oid, OID_DH, sizeof(OID_DH)))
        return ffc_spki_fields(span_eq(oid, OID_DSA, sizeof(OID_DSA)) ? PK_DSA : PK_DH, algid, raw,
                               k);
    if (span_eq(oid, OID_ECPUB, sizeof(OID_ECPUB))) {
        der_span curve;
        if (!der_get(&algid, DER_OID, NULL, &curve) || algid.len != 0)
            return CKR_PUBLIC_KEY_INVALID;
        k->curve = curve_by_oid(curve.p, curve.len);
        if (k->curve == NULL)
            return CKR_CURVE_NOT_SUPPORTED;
    } else if ((k->curve = curve_by_oid(oid.p, oid.len)) != NULL) {
        if (has_params || k->curve->alg == PK_EC)
            return CKR_PUBLIC_KEY_INVALID;
    } else if ((k->pqc = pqc_by_spki_oid(oid.p, oid.len)) != NULL) {
        k->alg = k->pqc->alg;
        if (k->pqc->ckp == 0) {
            if (has_params && !span_eq(algid, DER_NULL_V, 2))
                return CKR_PUBLIC_KEY_INVALID;
            return spki_ibm(raw, k);
        }
        if (has_params || raw.len != pqc_pub_len(k->pqc))
            return CKR_PUBLIC_KEY_INVALID;
        k->pub = raw;
        return CKR_OK;
    } else {
        return CKR_PUBLIC_KEY_INVALID;
    }
    k->alg = k->curve->alg;
    if (k->alg == PK_EC) {
        /* Uncompressed (04 || X || Y) or compressed (02/03 || X) points. */
        size_t fl = (k->curve->pub_len - 1) / 2;
        bool ok = (raw.len == k->curve->pub_len && raw.p[0] == 4) ||
                  (raw.len == fl + 1 && (raw.p[0] == 2 || raw.p[0] == 3));
        if (!ok)
            return CKR_PUBLIC_KEY_INVALID;
    } else if (raw.len != k->curve->pub_len) {
        return CKR_PUBLIC_KEY_INVALID;
    }
    k->pub = raw;
    return CKR_OK;
}

CK_RV spki_parse(const uint8_t *der, size_t len, pkey *k)
{
    CK_RV rv;
    if (der == NULL || len == 0 || len > SPKI_MAX)
        return CKR_PUBLIC_KEY_INVALID;
    k->spki = malloc(len);
    if (k->spki == NULL)
        return CKR_HOST_MEMORY;
    memcpy(k->spki, der, len);
    k->spki_len = len;
    rv = spki_fields(k->spki, len, k);
    if (rv == CKR_OK && k->alg == PK_MLDSA &&
        mldsa_pk_check((mldsa_set)k->pqc->set, k->pub.p, k->pub.len) != PQC_OK)
        rv = CKR_PUBLIC_KEY_INVALID;
    if (rv == CKR_OK && k->alg == PK_MLKEM &&
        mlkem_ek_check((mlkem_set)k->pqc->set, k->pub.p, k->pub.len) != PQC_OK)
        rv = CKR_PUBLIC_KEY_INVALID;
    return rv;
}

static void put_bits(wbuf *w, const uint8_t *p, size_t len)
{
    der_put_hdr(w, DER_BIT_STRING, len + 1);
    wbuf_u8(w, 0);
    wbuf_put(w, p, len);
}

CK_RV spki_build(pk_alg alg, const curve_def *c, const pqc_def *q, const uint8_t *pub,
                 size_t publen, const uint8_t *e, size_t elen, wbuf *w)
{
    size_t alen, klen, inner = 0;
    const uint8_t *oid = NULL, *par = NULL;
    size_t oidlen = 0, parlen = 0;

    switch (alg) {
    case PK_RSA:
        oid = OID_RSA, oidlen = sizeof(OID_RSA), par = DER_NULL_V, parlen = 2;
        inner = der_uint_size(pub, publen) + der_uint_size(e, elen);
        klen = der_size(inner);
        break;
    case PK_EC:
    case PK_ED:
    case PK_X:
        /* Edwards and Montgomery keys too, as IBM's EP11 writes them (its
         * GREP11 clients read every EC-family key as id-ecPublicKey plus a
         * curve OID); RFC 8410's form is read as well, and the PKCS #11
         * module hands applications that form (README "Public-key objects"). */
        oid = OID_ECPUB, oidlen = sizeof(OID_ECPUB), par = c->oid, parlen = c->oid_len;
        klen = publen;
        break;
    case PK_MLDSA:
    case PK_MLKEM:
        oid = q->oid, oidlen = q->oid_len;
        klen = publen;
        if (q->ckp == 0) {
            par = DER_NULL_V, parlen = 2;
            inner =
                alg == PK_MLKEM ? der_size(publen + 1) : der_size(33) + der_size(publen - 32 + 1);
            klen = der_size(inner);
        }
        break;
    default:
        return CKR_GENERAL_ERROR;
    }
    alen = oidlen + parlen;
    der_put_hdr(w, DER_SEQUENCE, der_size(alen) + der_size(klen + 1));
    der_put_hdr(w, DER_SEQUENCE, alen);
    wbuf_put(w, oid, oidlen);
    wbuf_put(w, par, parlen);
    if (alg == PK_RSA) {
        der_put_hdr(w, DER_BIT_STRING, klen + 1);
        wbuf_u8(w, 0);
        der_put_hdr(w, DER_SEQUENCE, inner);
        der_put_uint(w, pub, publen);
        der_put_uint(w, e, elen);
    } else if (q != NULL && q->ckp == 0) {
        der_put_hdr(w, DER_BIT_STRING, klen + 1);
        wbuf_u8(w, 0);
        der_put_hdr(w, DER_SEQUENCE, inner);
        if (alg == PK_MLKEM) {
            put_bits(w, pub, publen);
        } else {
            put_bits(w, pub, 32);
            put_bits(w, pub + 32, publen - 32);
        }
    } else {
        put_bits(w, pub, publen);
    }
    return w->err ? CKR_HOST_MEMORY : CKR_OK;
}

/* ---- MAC trailer: "GRPK" | version | flags | WKID | u16 attr_len | attrs | HMAC-SHA256 ---- */

static CK_RV trailer_mac(const mk_register *r, const uint8_t *spki, size_t slen, const uint8_t *tr,
                         size_t tlen, uint8_t mac[TRAILER_MAC])
{
    CK_RV rv = CKR_FUNCTION_FAILED;
    /* HMAC over SPKI || trailer-without-MAC under the public-key MAC subkey. */
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
    OSSL_PARAM prm[2] = {OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
                         OSSL_PARAM_construct_end()};
    size_t ol = 0;
    if (c == NULL || EVP_MAC_init(c, r->k_pub_mac, ENGINE_SUBKEY_LEN, prm) != 1 ||
        EVP_MAC_update(c, spki, slen) != 1 || EVP_MAC_update(c, tr, tlen) != 1 ||
        EVP_MAC_final(c, mac, &ol, TRAILER_MAC) != 1 || ol != TRAILER_MAC)
        goto out;
    rv = CKR_OK;
out:
    EVP_MAC_CTX_free(c);
    EVP_MAC_free(m);
    return rv;
}

CK_RV spki_mac_seal(const mk_register *r, const uint8_t *spki, size_t slen, const key_obj *attrs,
                    engine_buf *out)
{
    CK_RV rv;
    wbuf w, a;
    size_t len = 0, tstart;
    uint8_t *mac;

    *out = (engine_buf){NULL, 0};
    if (!r->loaded)
        return CKR_IBM_WK_NOT_INITIALIZED;
    wbuf_init(&a, BLOB_MAX_ATTRS);
    key_attrs_encode(attrs, &a);
    wbuf_init(&w, slen + 64 + a.len);
    wbuf_put(&w, spki, slen);
    tstart = w.len;
    wbuf_put(&w, TRAILER_MAGIC, 4);
    wbuf_u8(&w, TRAILER_VERSION);
    wbuf_u8(&w, 0);
    wbuf_put(&w, r->wkid, ENGINE_WKID_LEN);
    wbuf_u16(&w, (uint16_t)a.len);
    wbuf_put(&w, a.p, a.len);
    mac = wbuf_reserve(&w, TRAILER_MAC);
    if (w.err || a.err) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if ((rv = trailer_mac(r, w.p, slen, w.p + tstart, w.len - TRAILER_MAC - tstart, mac)) != CKR_OK)
        goto out;
    out->ptr = wbuf_take(&w, &len);
    out->len = len;
    rv = out->ptr ? CKR_OK : CKR_HOST_MEMORY;
out:
    wbuf_free(&a);
    wbuf_free(&w);
    return rv;
}

size_t spki_len_of(const uint8_t *p, size_t len)
{
    if (p == NULL || len < 2 || p[0] != DER_SEQUENCE)
        return 0;
    return der_tlv_len(p, len);
}

/* Checks the trailer; true (and attributes decoded into k->obj) only when
 * it is ours, whole, and its MAC verifies. */
static bool trailer_open(const mk_register *r, const uint8_t *spki, size_t slen, const uint8_t *tr,
                         size_t tlen, pkey *k)
{
    rbuf rd;
    const uint8_t *magic, *wkid, *attrs, *mac;
    uint8_t want[TRAILER_MAC];
    uint16_t alen;
    bool ok;

    rbuf_init(&rd, tr, tlen);
    magic = rbuf_ptr(&rd, 4);
    if (magic == NULL || memcmp(magic, TRAILER_MAGIC, 4) != 0 || rbuf_u8(&rd) != TRAILER_VERSION ||
        rbuf_u8(&rd) != 0)
        return false;
    wkid = rbuf_ptr(&rd, ENGINE_WKID_LEN);
    alen = rbuf_u16(&rd);
    attrs = rbuf_ptr(&rd, alen);
    mac = rbuf_ptr(&rd, TRAILER_MAC);
    if (!rbuf_done(&rd) || !r->loaded || memcmp(wkid, r->wkid, ENGINE_WKID_LEN) != 0)
        return false;
    if (trailer_mac(r, spki, slen, tr, tlen - TRAILER_MAC, want) != CKR_OK)
        return false;
    ok = CRYPTO_memcmp(want, mac, TRAILER_MAC) == 0;
    if (ok) {
        memset(&k->obj, 0, sizeof(k->obj));
        ok = key_attrs_decode(attrs, alen, &k->obj) == CKR_OK && k->obj.cls == CKO_PUBLIC_KEY;
    }
    return ok;
}

CK_KEY_TYPE pkey_ktype(const pkey *k)
{
    return k->alg == PK_RSA   ? CKK_RSA
           : k->alg == PK_DSA ? CKK_DSA
           : k->alg == PK_DH  ? CKK_DH
           : k->alg == PK_EC  ? CKK_EC
           : k->alg == PK_ED  ? CKK_EC_EDWARDS
           : k->alg == PK_X   ? CKK_EC_MONTGOMERY
           : k->pqc != NULL   ? k->pqc->ktype
                              : CK_UNAVAILABLE_INFORMATION;
}

/* Attributes of a public key nobody vouches for: usable to verify, encrypt
 * and as a KEM/ECDH peer, never to wrap, never trusted. */
static void untrusted_attrs(pkey *k)
{
    key_obj *o = &k->obj;
    memset(o, 0, sizeof(*o));
    o->cls = CKO_PUBLIC_KEY;
    o->ktype = pkey_ktype(k);
    o->gen_mech = CK_UNAVAILABLE_INFORMATION;
    o->flags = (KF_VERIFY | KF_ENCRYPT | KF_DERIVE) & policy_usage(CKO_PUBLIC_KEY, o->ktype);
    o->flags |= KF_EXTRACTABLE;
    if (k->alg == PK_RSA || k->alg == PK_DSA || k->alg == PK_DH)
        o->mod_bits = pkey_bits(k);
    if (k->curve != NULL) {
        o->params_type = CKA_EC_PARAMS;
        o->params_len = k->curve->oid_len;
        memcpy(o->params, k->curve->oid, o->params_len);
    }
    if (k->pqc != NULL && k->pqc->ckp != 0)
        o->param_set = k->pqc->ckp;
    if (k->pqc != NULL && k->pqc->ckp == 0) {
        o->params_type = CKA_IBM_PQC_PARAMS;
        o->params_len = k->pqc->oid_len;
        memcpy(o->params, k->pqc->oid, o->params_len);
    }
}

CK_RV pkey_load_public_reg(const mk_register *r, engine_bytes in, pkey *k)
{
    CK_RV rv;
    size_t slen;

    memset(k, 0, sizeof(*k));
    slen = spki_len_of(in.ptr, in.len);
    if (slen == 0)
        return CKR_KEY_HANDLE_INVALID;
    if ((rv = spki_parse(in.ptr, slen, k)) != CKR_OK)
        goto out;
    k->trusted = slen < in.len && trailer_open(r, in.ptr, slen, in.ptr + slen, in.len - slen, k);
    if (k->trusted) {
        /* Our own MAC over attributes that contradict the key: never issued. */
        if ((rv = pkey_check_binding(k)) != CKR_OK)
            rv = CKR_KEY_HANDLE_INVALID;
    } else {
        untrusted_attrs(k);
    }
out:
    if (rv != CKR_OK)
        pkey_clear(k);
    return rv;
}

CK_RV pkey_load_public(const engine *e, engine_bytes in, pkey *k)
{
    CK_RV rv = pkey_load_public_reg(&e->d->cur, in, k);
    if (rv == CKR_OK)
        k->cache = e->d->kcache;
    return rv;
}
