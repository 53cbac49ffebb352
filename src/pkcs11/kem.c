/* PKCS #11 3.2 C_EncapsulateKey / C_DecapsulateKey (3.2 interface only).
 *
 * The GREP11 API has no KEM RPC; grep11d runs CKM_ML_KEM on DeriveKey
 * (src/server/handlers_keys.c): no Data = encapsulate to BaseKey (a public
 * key), the ciphertext comes back as the CheckSum; Data = the ciphertext to
 * decapsulate with BaseKey (a private key). CKM_IBM_KYBER is sent in IBM's
 * DeriveKey form (KyberKEMParm, mode 1/2, KDF CKD_NULL); there the CheckSum
 * is check value (3) || key bits (4) || ciphertext.
 *
 * Buffer protocol: the ciphertext length follows from the key's parameter
 * set, so a NULL or short buffer is answered locally (CKR_OK /
 * CKR_BUFFER_TOO_SMALL with the length) and no key is made. Should the size
 * not be known here, the encapsulation runs and its result is dropped when
 * the buffer is short: nothing was created, and the next call encapsulates
 * afresh. The new secret key is placed like any new key (DESIGN §5:
 * session object, or token object in a keystore). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define KYBER_CHECKSUM_HEAD 7 /* check value (3) || key bits (u32) */

/* FIPS 203 ciphertext sizes; IBM Kyber round 2 768/1024 share them. */
static size_t mlkem_ct_len(CK_ULONG set)
{
    switch (set) {
    case CKP_ML_KEM_512:
        return 768;
    case CKP_ML_KEM_768:
        return 1088;
    case CKP_ML_KEM_1024:
        return 1568;
    default:
        return 0;
    }
}

/* IBM Kyber sets by OID (1.3.6.1.4.1.2.267.5.3.3 / .5.4.4). */
static size_t kyber_ct_len(const CK_ATTRIBUTE *oid)
{
    static const CK_BYTE k768[] = {0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01,
                                   0x02, 0x82, 0x0b, 0x05, 0x03, 0x03};
    static const CK_BYTE k1024[] = {0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01,
                                    0x02, 0x82, 0x0b, 0x05, 0x04, 0x04};
    if (!oid || oid->ulValueLen != sizeof(k768))
        return 0;
    if (memcmp(oid->pValue, k768, sizeof(k768)) == 0)
        return 1088;
    if (memcmp(oid->pValue, k1024, sizeof(k1024)) == 0)
        return 1568;
    return 0;
}

typedef struct {
    CK_OBJECT_CLASS cls; /* the key the call takes */
    size_t ct_len;       /* 0: unknown here */
    g11c_buf key;        /* blob or KeyBlobID reference */
} kem_key;

/* The key of the call: visible, of the right class and key type for the
 * mechanism, with the usage flag the server checks too (ENCRYPT/DECRYPT for
 * ML-KEM, DERIVE for IBM Kyber): checked here as well for a public key made
 * from its values, whose attributes only the module keeps. */
static CK_RV kem_key_get(p11_state *st, p11_session *s, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE h,
                         kem_key *k)
{
    p11_object *o;
    CK_RV rv = p11_object_get(st, s, h, &o);
    if (rv != CKR_OK)
        return CKR_KEY_HANDLE_INVALID;
    if (!o->bound_cached && (rv = p11_object_load_bound(st, o)) != CKR_OK) {
        rv = rv == CKR_OBJECT_HANDLE_INVALID ? CKR_KEY_HANDLE_INVALID : rv;
        goto out;
    }
    p11_mutex_lock(o->lock);
    CK_ULONG cls = p11_attrs_ulong(&o->attrs, CKA_CLASS, o->cls);
    CK_ULONG kt = p11_attrs_ulong(&o->attrs, CKA_KEY_TYPE, CK_UNAVAILABLE_INFORMATION);
    CK_ULONG set = p11_attrs_ulong(&o->attrs, CKA_PARAMETER_SET, 0);
    k->ct_len = mech == CKM_ML_KEM ? mlkem_ct_len(set)
                                   : kyber_ct_len(p11_attrs_find(&o->attrs, CKA_IBM_PQC_PARAMS));
    CK_ATTRIBUTE_TYPE usage = mech == CKM_IBM_KYBER      ? CKA_DERIVE
                              : k->cls == CKO_PUBLIC_KEY ? CKA_ENCRYPT
                                                         : CKA_DECRYPT;
    int permitted = p11_attrs_bool(&o->attrs, usage, 0);
    p11_mutex_unlock(o->lock);
    if (cls != k->cls)
        rv = CKR_KEY_TYPE_INCONSISTENT;
    else if (kt != (mech == CKM_ML_KEM ? CKK_ML_KEM : CKK_IBM_PQC_KYBER))
        rv = CKR_KEY_TYPE_INCONSISTENT;
    else if (!permitted)
        rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
    else if ((rv = p11_object_mech_allowed(o, mech)) == CKR_OK &&
             p11_object_key_arg(st, o, &k->key) != CKR_OK)
        rv = CKR_KEY_HANDLE_INVALID;
out:
    p11_object_put(st, o);
    return rv;
}

/* Template, placement and mechanism checks before anything is sent;
 * *srv borrows t's values. */
static CK_RV kem_prep(p11_state *st, p11_session *s, const CK_MECHANISM *m, int encaps,
                      const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE **srv, CK_ULONG *nsrv)
{
    int priv, token;
    const CK_ATTRIBUTE *c;
    CK_RV rv = p11_tmpl_check(t, n);
    if (rv != CKR_OK)
        return rv;
    if (m->mechanism != CKM_ML_KEM && m->mechanism != CKM_IBM_KYBER)
        return CKR_MECHANISM_INVALID;
    if (m->ulParameterLen || m->pParameter)
        return CKR_MECHANISM_PARAM_INVALID; /* neither takes a parameter here */
    /* CKM_IBM_KYBER is a DeriveKey mechanism on the server. */
    CK_FLAGS need = m->mechanism == CKM_IBM_KYBER ? CKF_DERIVE
                    : encaps                      ? CKF_ENCAPSULATE
                                                  : CKF_DECAPSULATE;
    if ((rv = p11_slot_mech_check(&st->slots[s->slot_idx], m->mechanism, need)) != CKR_OK)
        return rv;
    c = p11_tmpl_find(t, n, CKA_CLASS);
    if (c && *(const CK_ULONG *)c->pValue != CKO_SECRET_KEY)
        return CKR_TEMPLATE_INCONSISTENT; /* a KEM makes secret keys */
    if ((rv = p11_object_placement(st, s, t, n, 0, -1, &priv, &token)) != CKR_OK)
        return rv;
    return p11_new_key_template(CKO_SECRET_KEY, t, n, srv, nsrv);
}

static void kem_mech(CK_MECHANISM_TYPE type, int encaps, const CK_BYTE *ct, CK_ULONG ct_len,
                     g11c_mech *gm)
{
    memset(gm, 0, sizeof(*gm));
    gm->type = type;
    if (type != CKM_IBM_KYBER)
        return;
    gm->kind = G11C_PARAM_KYBER;
    gm->kyber.version = 0;
    gm->kyber.mode = encaps ? CK_IBM_KEM_ENCAPSULATE : CK_IBM_KEM_DECAPSULATE;
    gm->kyber.kdf = CKD_NULL;
    if (!encaps)
        gm->kyber.cipher_text = p11_bytes(ct, ct_len);
}

/* The ciphertext in an encapsulation's CheckSum. */
static CK_RV kem_ciphertext(CK_MECHANISM_TYPE type, const g11c_buf *sum, g11c_bytes *ct)
{
    size_t skip = type == CKM_IBM_KYBER ? KYBER_CHECKSUM_HEAD : 0;
    if (sum->len <= skip)
        return CKR_DEVICE_ERROR; /* a server that did not return one */
    *ct = (g11c_bytes){sum->ptr + skip, sum->len - skip};
    return CKR_OK;
}

CK_RV C_EncapsulateKey(CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_OBJECT_HANDLE hpub, CK_ATTRIBUTE *t,
                       CK_ULONG n, CK_BYTE *ct, CK_ULONG *ct_len, CK_OBJECT_HANDLE *out)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    kem_key k = {CKO_PUBLIC_KEY, 0, {0}};
    CK_ATTRIBUTE *srv = NULL;
    CK_ULONG nsrv = 0;
    g11c_buf blob = {0}, sum = {0};
    g11c_mech gm;
    g11c_bytes got;
    if (!m || !ct_len || (!t && n))
        return CKR_ARGUMENTS_BAD;
    if (ct && !out)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    if ((rv = kem_prep(st, s, m, 1, t, n, &srv, &nsrv)) != CKR_OK ||
        (rv = kem_key_get(st, s, m->mechanism, hpub, &k)) != CKR_OK)
        goto out;
    if (k.ct_len && (!ct || *ct_len < k.ct_len)) {
        rv = ct ? CKR_BUFFER_TOO_SMALL : CKR_OK;
        *ct_len = k.ct_len;
        goto out;
    }
    kem_mech(m->mechanism, 1, NULL, 0, &gm);
    g11c_bytes none = {NULL, 0};
    rv = g11c_derive_key(st->slots[s->slot_idx].conn, &gm, srv, nsrv, g11c_bytes_of(&k.key), none,
                         &blob, &sum);
    if (rv == CKR_OK)
        rv = kem_ciphertext(m->mechanism, &sum, &got);
    if (rv != CKR_OK)
        goto out;
    if (!ct || *ct_len < got.len) { /* size not known beforehand: nothing is kept */
        rv = ct ? CKR_BUFFER_TOO_SMALL : CKR_OK;
        *ct_len = got.len;
        goto out;
    }
    /* ML-KEM's CheckSum is the ciphertext alone: no check value. */
    g11c_buf head = {sum.ptr, (size_t)(got.ptr - sum.ptr)};
    if ((rv = p11_key_from_blob(st, s, &blob, head.len ? &head : NULL, t, n, out)) != CKR_OK)
        goto out;
    memcpy(ct, got.ptr, got.len);
    *ct_len = got.len;
out:
    free(srv);
    g11c_buf_free(&k.key);
    g11c_buf_free(&blob);
    g11c_buf_free(&sum);
    p11_session_put(st, s);
    return rv;
}

CK_RV C_DecapsulateKey(CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_OBJECT_HANDLE hpriv,
                       CK_ATTRIBUTE *t, CK_ULONG n, CK_BYTE *ct, CK_ULONG ct_len,
                       CK_OBJECT_HANDLE *out)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    kem_key k = {CKO_PRIVATE_KEY, 0, {0}};
    CK_ATTRIBUTE *srv = NULL;
    CK_ULONG nsrv = 0;
    g11c_buf blob = {0}, sum = {0};
    g11c_mech gm;
    if (!m || !out || (!t && n) || (!ct && ct_len))
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    if ((rv = kem_prep(st, s, m, 0, t, n, &srv, &nsrv)) != CKR_OK ||
        (rv = kem_key_get(st, s, m->mechanism, hpriv, &k)) != CKR_OK)
        goto out;
    /* A ciphertext of the wrong size is refused here; one of the right size
     * always yields a key (FIPS 203 implicit rejection). */
    if (ct_len == 0 || (k.ct_len && ct_len != k.ct_len)) {
        rv = CKR_ENCRYPTED_DATA_LEN_RANGE;
        goto out;
    }
    kem_mech(m->mechanism, 0, ct, ct_len, &gm);
    g11c_bytes data = m->mechanism == CKM_ML_KEM ? p11_bytes(ct, ct_len) : (g11c_bytes){NULL, 0};
    rv = g11c_derive_key(st->slots[s->slot_idx].conn, &gm, srv, nsrv, g11c_bytes_of(&k.key), data,
                         &blob, &sum);
    if (rv == CKR_MECHANISM_PARAM_INVALID && m->mechanism == CKM_IBM_KYBER)
        rv = CKR_ENCRYPTED_DATA_LEN_RANGE; /* the engine's word for a Kyber ciphertext size */
    if (rv == CKR_OK)
        rv = p11_key_from_blob(st, s, &blob, sum.len ? &sum : NULL, t, n, out);
out:
    free(srv);
    g11c_buf_free(&k.key);
    g11c_buf_free(&blob);
    g11c_buf_free(&sum);
    p11_session_put(st, s);
    return rv;
}
