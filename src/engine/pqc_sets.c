/* Post-quantum parameter sets as PKCS #11 and IBM name them: CKP_* values
 * for ML-DSA/ML-KEM (PKCS #11 3.2), DER OIDs in CKA_IBM_PQC_PARAMS for
 * IBM's Dilithium and Kyber. A set we know by OID but cannot implement
 * (Dilithium round 2 (8,7): no public definition) is refused, never
 * replaced by another. */
#include <string.h>

#include "pkey.h"
#include "pqc.h"

#define OID(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})
/* 2.16.840.1.101.3.4.3.x (ML-DSA) and .4.x (ML-KEM), FIPS 204/203 / NIST CSOR. */
#define NIST_OID(a, b) OID(0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, a, b)
/* 1.3.6.1.4.1.2.267.x.y.z, IBM's arc for the CRYSTALS sets. */
#define IBM_OID(x, y, z) OID(0x06, 0x0b, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x02, 0x82, 0x0b, x, y, z)

static const pqc_def SETS[] = {
    {PK_MLDSA, CKK_ML_DSA, CKP_ML_DSA_44, NIST_OID(0x03, 0x11), MLDSA_44, "ML-DSA-44"},
    {PK_MLDSA, CKK_ML_DSA, CKP_ML_DSA_65, NIST_OID(0x03, 0x12), MLDSA_65, "ML-DSA-65"},
    {PK_MLDSA, CKK_ML_DSA, CKP_ML_DSA_87, NIST_OID(0x03, 0x13), MLDSA_87, "ML-DSA-87"},
    {PK_MLKEM, CKK_ML_KEM, CKP_ML_KEM_512, NIST_OID(0x04, 0x01), MLKEM_512, "ML-KEM-512"},
    {PK_MLKEM, CKK_ML_KEM, CKP_ML_KEM_768, NIST_OID(0x04, 0x02), MLKEM_768, "ML-KEM-768"},
    {PK_MLKEM, CKK_ML_KEM, CKP_ML_KEM_1024, NIST_OID(0x04, 0x03), MLKEM_1024, "ML-KEM-1024"},
    {PK_MLDSA, CKK_IBM_PQC_DILITHIUM, 0, IBM_OID(0x01, 0x06, 0x05), DILITHIUM_R2_65,
     "Dilithium-r2-6x5"},
    {PK_MLDSA, CKK_IBM_PQC_DILITHIUM, 0, IBM_OID(0x07, 0x04, 0x04), DILITHIUM_R3_2,
     "Dilithium-r3-4x4"},
    {PK_MLDSA, CKK_IBM_PQC_DILITHIUM, 0, IBM_OID(0x07, 0x06, 0x05), DILITHIUM_R3_3,
     "Dilithium-r3-6x5"},
    {PK_MLDSA, CKK_IBM_PQC_DILITHIUM, 0, IBM_OID(0x07, 0x08, 0x07), DILITHIUM_R3_5,
     "Dilithium-r3-8x7"},
    {PK_MLKEM, CKK_IBM_PQC_KYBER, 0, IBM_OID(0x05, 0x03, 0x03), KYBER_R2_768, "Kyber-r2-768"},
    {PK_MLKEM, CKK_IBM_PQC_KYBER, 0, IBM_OID(0x05, 0x04, 0x04), KYBER_R2_1024, "Kyber-r2-1024"},
};
#define NSETS (sizeof(SETS) / sizeof(SETS[0]))

const pqc_def *pqc_by_ckp(CK_KEY_TYPE kt, CK_ULONG ckp)
{
    for (size_t i = 0; i < NSETS; i++)
        if (SETS[i].ktype == kt && SETS[i].ckp != 0 && SETS[i].ckp == ckp)
            return &SETS[i];
    return NULL;
}

const pqc_def *pqc_by_spki_oid(const uint8_t *oid, size_t len)
{
    for (size_t i = 0; i < NSETS; i++)
        if (SETS[i].oid_len == len && memcmp(SETS[i].oid, oid, len) == 0)
            return &SETS[i];
    return NULL;
}

const pqc_def *pqc_by_ibm_oid(CK_KEY_TYPE kt, const uint8_t *oid, size_t len, CK_RV *why)
{
    der_span in = {oid, len}, v;
    const pqc_def *q;

    *why = CKR_ATTRIBUTE_VALUE_INVALID;
    if (oid == NULL || !der_get(&in, DER_OID, &v, NULL) || in.len != 0 || v.len == 0)
        return NULL;
    q = pqc_by_spki_oid(oid, len);
    if (q == NULL || q->ktype != kt) {
        /* Includes 1.3.6.1.4.1.2.267.1.8.7 (round-2 Dilithium 8x7). */
        *why = CKR_IBM_PQC_PARAMS_NOT_SUPPORTED;
        return NULL;
    }
    return q;
}
