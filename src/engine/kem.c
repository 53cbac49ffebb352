/* ML-KEM through the engine: C_EncapsulateKey / C_DecapsulateKey
 * (engine_encapsulate / engine_decapsulate, CKM_ML_KEM) and IBM's DeriveKey
 * form (CKM_IBM_KYBER with KyberKEMParm), whose encapsulation returns the
 * ciphertext in the DeriveKey CheckSum after the usual 7 bytes
 * (check value 3 || key bits u32), as the published GREP11 sample reads it.
 * Decapsulation never reports a wrong ciphertext: FIPS 203 implicit
 * rejection yields an unrelated key instead. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "kex.h"
#include "pqc.h"

#define KEM_MAX_CT 1600u

/* Length of the new key from a 32-byte secret: CKA_VALUE_LEN (<= 32), the
 * type's fixed length, else all 32 bytes. */
static CK_RV kem_len(const CK_ATTRIBUTE *tin, CK_ULONG n, size_t avail, size_t *len)
{
    CK_RV rv = derive_len(tin, n, avail, len);
    if (rv == CKR_TEMPLATE_INCOMPLETE) {
        *len = avail; /* AES with no CKA_VALUE_LEN: the whole secret */
        rv = CKR_OK;
    }
    if (rv == CKR_OK && *len > avail)
        rv = CKR_TEMPLATE_INCONSISTENT;
    return rv;
}

static CK_RV kem_encaps(const pkey *k, uint8_t *ct, size_t *ctlen, uint8_t ss[MLKEM_SS_BYTES])
{
    uint8_t m[MLKEM_SEED_BYTES];
    mlkem_set set = (mlkem_set)k->pqc->set;
    pqc_rv r;
    *ctlen = mlkem_ct_bytes(set);
    if (*ctlen == 0 || *ctlen > KEM_MAX_CT)
        return CKR_IBM_PQC_PARAMS_NOT_SUPPORTED;
    if (RAND_priv_bytes(m, sizeof(m)) != 1)
        return CKR_DEVICE_ERROR;
    r = mlkem_encaps(set, k->pub.p, k->pub.len, m, sizeof(m), ct, *ctlen, ss, MLKEM_SS_BYTES);
    OPENSSL_cleanse(m, sizeof(m));
    return r == PQC_OK ? CKR_OK : CKR_PUBLIC_KEY_INVALID;
}

static CK_RV kem_decaps(const pkey *k, engine_bytes ct, uint8_t ss[MLKEM_SS_BYTES])
{
    mlkem_set set = (mlkem_set)k->pqc->set;
    if (ct.ptr == NULL || ct.len != mlkem_ct_bytes(set))
        return CKR_ENCRYPTED_DATA_LEN_RANGE;
    return mlkem_decaps(set, k->priv, k->priv_len, ct.ptr, ct.len, ss, MLKEM_SS_BYTES) == PQC_OK
               ? CKR_OK
               : CKR_KEY_HANDLE_INVALID;
}

static CK_RV kem_key(const engine *e, CK_MECHANISM_TYPE mech, const key_obj *base,
                     const CK_ATTRIBUTE *tin, CK_ULONG n, const uint8_t *val, size_t avail,
                     engine_buf *key_blob, engine_buf *checksum)
{
    CK_RV rv;
    size_t len = 0;
    key_ctx ctx = {ORIGIN_DERIVE, mech, CK_UNAVAILABLE_INFORMATION, 0, base};
    if ((rv = kem_len(tin, n, avail, &len)) != CKR_OK)
        return rv;
    ctx.val_len = len;
    return keys_make_secret(e, tin, n, &ctx, val, len, key_blob, checksum);
}

/* Public key for encapsulation: any well-formed SPKI (a plain one is
 * untrusted, which only means the key it yields was never HSM-only). */
static CK_RV kem_pub(const engine *e, engine_bytes in, uint32_t usage, CK_MECHANISM_TYPE mech,
                     bool std, pkey *k)
{
    CK_RV rv = pkey_is_blob(in) ? CKR_KEY_TYPE_INCONSISTENT : pkey_load_public(e, in, k);
    if (rv != CKR_OK)
        return rv;
    if ((rv = policy_check_usage(&k->obj, usage, mech)) == CKR_OK &&
        (k->alg != PK_MLKEM || (std && k->pqc->ckp == 0)))
        rv = CKR_KEY_TYPE_INCONSISTENT;
    if (rv != CKR_OK)
        pkey_clear(k);
    return rv;
}

static CK_RV kem_priv(const engine *e, engine_bytes in, uint32_t usage, CK_MECHANISM_TYPE mech,
                      bool std, pkey *k)
{
    CK_RV rv = pkey_load_private(e, in, k);
    if (rv != CKR_OK)
        return rv;
    if ((rv = policy_check_usage(&k->obj, usage, mech)) == CKR_OK &&
        (k->alg != PK_MLKEM || (std && k->pqc->ckp == 0)))
        rv = CKR_KEY_TYPE_INCONSISTENT;
    if (rv != CKR_OK)
        pkey_clear(k);
    return rv;
}

static CK_RV kem_mech(const engine_mech *m)
{
    const mech_row *r;
    if (m == NULL)
        return CKR_ARGUMENTS_BAD;
    r = mech_find(m->type);
    if (r == NULL || r->type != CKM_ML_KEM)
        return CKR_MECHANISM_INVALID;
    return mech_no_param(m);
}

CK_RV engine_encapsulate(engine *e, const engine_mech *m, engine_bytes pub_key,
                         const CK_ATTRIBUTE *tin, CK_ULONG n, engine_buf *ciphertext,
                         engine_buf *key_blob)
{
    CK_RV rv;
    pkey k;
    uint8_t ct[KEM_MAX_CT], ss[MLKEM_SS_BYTES];
    size_t ctlen = 0;

    if (e == NULL || ciphertext == NULL || key_blob == NULL)
        return CKR_ARGUMENTS_BAD;
    *ciphertext = (engine_buf){NULL, 0};
    *key_blob = (engine_buf){NULL, 0};
    if ((rv = kem_mech(m)) != CKR_OK ||
        (rv = kem_pub(e, pub_key, KF_ENCRYPT, m->type, true, &k)) != CKR_OK)
        return rv;
    if ((rv = kem_encaps(&k, ct, &ctlen, ss)) == CKR_OK &&
        (rv = kem_key(e, m->type, NULL, tin, n, ss, sizeof(ss), key_blob, NULL)) == CKR_OK &&
        (rv = ebuf_copy(ciphertext, ct, ctlen)) != CKR_OK)
        engine_buf_free(key_blob);
    OPENSSL_cleanse(ss, sizeof(ss));
    pkey_clear(&k);
    return rv;
}

CK_RV engine_decapsulate(engine *e, const engine_mech *m, engine_bytes priv_key,
                         engine_bytes ciphertext, const CK_ATTRIBUTE *tin, CK_ULONG n,
                         engine_buf *key_blob)
{
    CK_RV rv;
    pkey k;
    uint8_t ss[MLKEM_SS_BYTES];

    if (e == NULL || key_blob == NULL)
        return CKR_ARGUMENTS_BAD;
    *key_blob = (engine_buf){NULL, 0};
    if ((rv = kem_mech(m)) != CKR_OK ||
        (rv = kem_priv(e, priv_key, KF_DECRYPT, m->type, true, &k)) != CKR_OK)
        return rv;
    if ((rv = kem_decaps(&k, ciphertext, ss)) == CKR_OK)
        rv = kem_key(e, m->type, &k.obj, tin, n, ss, sizeof(ss), key_blob, NULL);
    OPENSSL_cleanse(ss, sizeof(ss));
    pkey_clear(&k);
    return rv;
}

/* IBM hybrid KDFs: the KEM secret and a generic secret key (Blob) combined
 * as Z = ss || secret (Prepend: secret || ss), then CKD_NULL-like use or
 * the X9.63 KDF with SharedData. grep11's definition (README): IBM has not
 * published its own. */
static CK_RV kyber_material(const engine *e, const engine_mech *m, const uint8_t ss[MLKEM_SS_BYTES],
                            uint8_t *out, size_t *avail, hashid *h)
{
    CK_RV rv;
    key_obj hk;
    CK_ULONG kdf = m->kyber.kdf;
    bool hybrid = kdf >= CKD_IBM_HYBRID_NULL && kdf <= CKD_IBM_HYBRID_SHA512_KDF;
    static const hashid HH[] = {H_NONE, H_SHA1, H_SHA224, H_SHA256, H_SHA384, H_SHA512};

    if (!hybrid) {
        if (kdf != CKD_NULL || m->kyber.blob.len != 0 || m->kyber.shared_data.len != 0)
            return CKR_MECHANISM_PARAM_INVALID;
        memcpy(out, ss, MLKEM_SS_BYTES);
        *avail = MLKEM_SS_BYTES;
        *h = H_NONE;
        return CKR_OK;
    }
    *h = HH[kdf - CKD_IBM_HYBRID_NULL];
    if (m->kyber.blob.len == 0 || (*h == H_NONE && m->kyber.shared_data.len != 0))
        return CKR_MECHANISM_PARAM_INVALID;
    if ((rv = key_unseal(e, m->kyber.blob, &hk)) != CKR_OK)
        return rv;
    if (hk.cls != CKO_SECRET_KEY || hk.vlen > 512) {
        key_obj_clear(&hk);
        return CKR_KEY_TYPE_INCONSISTENT;
    }
    memcpy(out + (m->kyber.prepend ? hk.vlen : 0), ss, MLKEM_SS_BYTES);
    memcpy(out + (m->kyber.prepend ? 0 : MLKEM_SS_BYTES), hk.secret, hk.vlen);
    *avail = MLKEM_SS_BYTES + hk.vlen;
    key_obj_clear(&hk);
    return CKR_OK;
}

CK_RV kyber_derive(engine *e, const engine_mech *m, const CK_ATTRIBUTE *tin, CK_ULONG n,
                   engine_bytes base, engine_buf *key_blob, engine_buf *checksum)
{
    CK_RV rv;
    pkey k;
    bool enc;
    uint8_t ct[KEM_MAX_CT], ss[MLKEM_SS_BYTES], z[MLKEM_SS_BYTES + 512], out[512];
    size_t ctlen = 0, zlen = 0, len = 0;
    hashid h = H_NONE;

    if (m->kind != ENGINE_PARAM_KYBER || m->kyber.version != 0 ||
        (m->kyber.mode != CK_IBM_KEM_ENCAPSULATE && m->kyber.mode != CK_IBM_KEM_DECAPSULATE))
        return CKR_MECHANISM_PARAM_INVALID;
    enc = m->kyber.mode == CK_IBM_KEM_ENCAPSULATE;
    rv = enc ? kem_pub(e, base, KF_DERIVE, m->type, false, &k)
             : kem_priv(e, base, KF_DERIVE, m->type, false, &k);
    if (rv != CKR_OK)
        return rv;
    if (enc && m->kyber.cipher_text.len != 0) {
        rv = CKR_MECHANISM_PARAM_INVALID;
        goto out;
    }
    rv = enc ? kem_encaps(&k, ct, &ctlen, ss) : kem_decaps(&k, m->kyber.cipher_text, ss);
    if (rv == CKR_ENCRYPTED_DATA_LEN_RANGE)
        rv = CKR_MECHANISM_PARAM_INVALID;
    if (rv != CKR_OK || (rv = kyber_material(e, m, ss, z, &zlen, &h)) != CKR_OK)
        goto out;
    if (h == H_NONE) {
        rv = kem_key(e, m->type, enc ? NULL : &k.obj, tin, n, z, zlen, key_blob, checksum);
    } else {
        rv = derive_len(tin, n, hash_len(h), &len);
        if (rv == CKR_OK && len > sizeof(out))
            rv = CKR_TEMPLATE_INCONSISTENT;
        if (rv == CKR_OK)
            rv = kdf_x963(h, z, zlen, m->kyber.shared_data.ptr, m->kyber.shared_data.len, out, len);
        if (rv == CKR_OK)
            rv = kem_key(e, m->type, enc ? NULL : &k.obj, tin, n, out, len, key_blob, checksum);
    }
    if (rv == CKR_OK && enc) {
        /* CheckSum = check value (3) || bits (4) || ciphertext. */
        uint8_t *p = realloc(checksum->ptr, checksum->len + ctlen);
        if (p == NULL) {
            rv = CKR_HOST_MEMORY;
            engine_buf_free(key_blob);
            engine_buf_free(checksum);
        } else {
            memcpy(p + checksum->len, ct, ctlen);
            checksum->ptr = p;
            checksum->len += ctlen;
        }
    }
out:
    OPENSSL_cleanse(ss, sizeof(ss));
    OPENSSL_cleanse(z, sizeof(z));
    OPENSSL_cleanse(out, sizeof(out));
    pkey_clear(&k);
    return rv;
}
