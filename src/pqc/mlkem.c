/* ML-KEM key generation, encapsulation and decapsulation (FIPS 203
 * Algorithms 16-21) with the round-2 Kyber hashing as a variant, plus the
 * section 7 input checks.
 *
 * Decapsulation is the one place where secret-dependent control flow would
 * be fatal (it would turn the HSM into a plaintext-checking oracle): the
 * re-encryption comparison and the choice between the real and the
 * rejection key are both done with constant-time compare/select, and both
 * candidate keys are always computed. */
#include "keccak_internal.h"
#include "mlkem_kpke.h"
#include "mlkem_poly.h"
#include "pqc_common.h"

/* dk = dk_PKE || ek || H(ek) || z */
#define DK_OFF_EK(p) ((size_t)(p)->k * MLKEM_POLYBYTES)
#define DK_OFF_H(p) (DK_OFF_EK(p) + (p)->ek_bytes)
#define DK_OFF_Z(p) (DK_OFF_H(p) + MLKEM_SYMBYTES)

static pqc_rv lookup(mlkem_set set, const mlkem_params **p)
{
    *p = mlkem_params_get(set);
    return *p ? PQC_OK : PQC_ERR_BAD_PARAM;
}

pqc_rv mlkem_keygen_internal(mlkem_set set, const uint8_t *d, size_t dlen, const uint8_t *z,
                             size_t zlen, uint8_t *ek, size_t ekcap, uint8_t *dk, size_t dkcap)
{
    const mlkem_params *p;
    pqc_rv rv = lookup(set, &p);
    if (rv)
        return rv;
    if (!d || !z || !ek || !dk)
        return PQC_ERR_BAD_PARAM;
    if (dlen != MLKEM_SYMBYTES || zlen != MLKEM_SYMBYTES || ekcap < p->ek_bytes ||
        dkcap < p->dk_bytes)
        return PQC_ERR_BAD_LENGTH;

    mlkem_kpke_keygen(p, d, ek, dk);
    memcpy(dk + DK_OFF_EK(p), ek, p->ek_bytes);
    sha3_256(dk + DK_OFF_H(p), ek, p->ek_bytes);
    memcpy(dk + DK_OFF_Z(p), z, MLKEM_SYMBYTES);
    return PQC_OK;
}

pqc_rv mlkem_keygen(mlkem_set set, const uint8_t *random, size_t randomlen, uint8_t *ek,
                    size_t ekcap, uint8_t *dk, size_t dkcap)
{
    if (!random)
        return PQC_ERR_BAD_PARAM;
    if (randomlen != 2 * MLKEM_SYMBYTES)
        return PQC_ERR_BAD_LENGTH;
    return mlkem_keygen_internal(set, random, MLKEM_SYMBYTES, random + MLKEM_SYMBYTES,
                                 MLKEM_SYMBYTES, ek, ekcap, dk, dkcap);
}

pqc_rv mlkem_ek_check(mlkem_set set, const uint8_t *ek, size_t eklen)
{
    const mlkem_params *p;
    pqc_rv rv = lookup(set, &p);
    if (rv)
        return rv;
    if (!ek)
        return PQC_ERR_BAD_PARAM;
    if (eklen != p->ek_bytes)
        return PQC_ERR_BAD_LENGTH;
    /* Section 7.2: ByteEncode12(ByteDecode12(ek)) == ek, i.e. every
     * coefficient already reduced. An unreduced ek would let two encodings
     * name one key, and H(ek) binds the encoding. */
    return mlkem_polys_reduced(ek, p->k) ? PQC_OK : PQC_ERR_BAD_KEY;
}

pqc_rv mlkem_dk_check(mlkem_set set, const uint8_t *dk, size_t dklen)
{
    const mlkem_params *p;
    pqc_rv rv = lookup(set, &p);
    if (rv)
        return rv;
    if (!dk)
        return PQC_ERR_BAD_PARAM;
    if (dklen != p->dk_bytes)
        return PQC_ERR_BAD_LENGTH;
    /* Section 7.3: the stored H(ek) must match the embedded ek, otherwise
     * the FO re-encryption would be checked against a different key. */
    uint8_t h[MLKEM_SYMBYTES];
    sha3_256(h, dk + DK_OFF_EK(p), p->ek_bytes);
    return pqc_ct_neq(h, dk + DK_OFF_H(p), MLKEM_SYMBYTES) ? PQC_ERR_BAD_KEY : PQC_OK;
}

/* Round 2 derived the shared key as KDF(Kbar || H(c)) with KDF = SHAKE256. */
static void r2_kdf(uint8_t ss[MLKEM_SS_BYTES], const uint8_t kbar[MLKEM_SYMBYTES],
                   const uint8_t hc[MLKEM_SYMBYTES])
{
    uint8_t buf[2 * MLKEM_SYMBYTES];
    memcpy(buf, kbar, MLKEM_SYMBYTES);
    memcpy(buf + MLKEM_SYMBYTES, hc, MLKEM_SYMBYTES);
    shake256(ss, MLKEM_SS_BYTES, buf, sizeof(buf));
    PQC_WIPE(buf, sizeof(buf));
}

pqc_rv mlkem_encaps_internal(mlkem_set set, const uint8_t *ek, size_t eklen, const uint8_t *m,
                             size_t mlen, uint8_t *ct, size_t ctcap, uint8_t *ss, size_t sscap)
{
    const mlkem_params *p;
    pqc_rv rv = lookup(set, &p);
    if (rv)
        return rv;
    if (!m || !ct || !ss)
        return PQC_ERR_BAD_PARAM;
    if (mlen != MLKEM_SYMBYTES || ctcap < p->ct_bytes || sscap < MLKEM_SS_BYTES)
        return PQC_ERR_BAD_LENGTH;
    if ((rv = mlkem_ek_check(set, ek, eklen)) != PQC_OK) {
        memset(ct, 0, p->ct_bytes);
        memset(ss, 0, MLKEM_SS_BYTES);
        return rv;
    }

    uint8_t buf[2 * MLKEM_SYMBYTES], kr[2 * MLKEM_SYMBYTES];
    if (p->version == MLKEM_V_R2)
        sha3_256(buf, m, MLKEM_SYMBYTES); /* never expose raw RNG output */
    else
        memcpy(buf, m, MLKEM_SYMBYTES);
    sha3_256(buf + MLKEM_SYMBYTES, ek, p->ek_bytes);
    sha3_512(kr, buf, sizeof(buf));
    mlkem_kpke_encrypt(p, ek, buf, kr + MLKEM_SYMBYTES, ct);
    if (p->version == MLKEM_V_R2) {
        uint8_t hc[MLKEM_SYMBYTES];
        sha3_256(hc, ct, p->ct_bytes);
        r2_kdf(ss, kr, hc);
    } else {
        memcpy(ss, kr, MLKEM_SS_BYTES);
    }
    PQC_WIPE(buf, sizeof(buf));
    PQC_WIPE(kr, sizeof(kr));
    return PQC_OK;
}

pqc_rv mlkem_encaps(mlkem_set set, const uint8_t *ek, size_t eklen, const uint8_t *random,
                    size_t randomlen, uint8_t *ct, size_t ctcap, uint8_t *ss, size_t sscap)
{
    return mlkem_encaps_internal(set, ek, eklen, random, randomlen, ct, ctcap, ss, sscap);
}

pqc_rv mlkem_decaps(mlkem_set set, const uint8_t *dk, size_t dklen, const uint8_t *ct, size_t ctlen,
                    uint8_t *ss, size_t sscap)
{
    const mlkem_params *p;
    pqc_rv rv = lookup(set, &p);
    if (rv)
        return rv;
    if (!ct || !ss)
        return PQC_ERR_BAD_PARAM;
    if (ctlen != p->ct_bytes || sscap < MLKEM_SS_BYTES)
        return PQC_ERR_BAD_LENGTH;
    if ((rv = mlkem_dk_check(set, dk, dklen)) != PQC_OK) {
        memset(ss, 0, MLKEM_SS_BYTES);
        return rv;
    }

    uint8_t buf[2 * MLKEM_SYMBYTES], kr[2 * MLKEM_SYMBYTES], kbar[MLKEM_SYMBYTES];
    uint8_t cmp[1568]; /* largest ciphertext */
    const uint8_t *z = dk + DK_OFF_Z(p);
    keccak_state st;

    mlkem_kpke_decrypt(p, dk, ct, buf);
    memcpy(buf + MLKEM_SYMBYTES, dk + DK_OFF_H(p), MLKEM_SYMBYTES);
    sha3_512(kr, buf, sizeof(buf));
    mlkem_kpke_encrypt(p, dk + DK_OFF_EK(p), buf, kr + MLKEM_SYMBYTES, cmp);
    unsigned fail = pqc_ct_neq(ct, cmp, p->ct_bytes);

    if (p->version == MLKEM_V_R2) {
        uint8_t hc[MLKEM_SYMBYTES];
        sha3_256(hc, ct, p->ct_bytes);
        pqc_ct_cmov(kr, z, MLKEM_SYMBYTES, fail);
        r2_kdf(ss, kr, hc);
    } else {
        /* Kbar = J(z || c) is computed unconditionally. */
        shake256_init(&st);
        keccak_absorb_ok(&st, z, MLKEM_SYMBYTES);
        keccak_absorb_ok(&st, ct, p->ct_bytes);
        (void)keccak_squeeze(&st, kbar, MLKEM_SYMBYTES);
        keccak_wipe(&st);
        memcpy(ss, kr, MLKEM_SS_BYTES);
        pqc_ct_cmov(ss, kbar, MLKEM_SS_BYTES, fail);
    }
    PQC_WIPE(buf, sizeof(buf));
    PQC_WIPE(kr, sizeof(kr));
    PQC_WIPE(kbar, sizeof(kbar));
    PQC_WIPE(cmp, sizeof(cmp));
    return PQC_OK;
}
