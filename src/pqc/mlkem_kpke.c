/* K-PKE key generation, encryption and decryption (FIPS 203 Algorithms
 * 13-15). Work space is on the stack (under 12 KiB for ML-KEM-1024). */
#include "mlkem_kpke.h"
#include "keccak_internal.h"
#include "mlkem_poly.h"
#include "mlkem_sample.h"
#include "pqc_common.h"

void mlkem_kpke_keygen(const mlkem_params *p, const uint8_t d[MLKEM_SYMBYTES], uint8_t *ek,
                       uint8_t *dkpke)
{
    const unsigned k = p->k;
    uint8_t seed[MLKEM_SYMBYTES + 1], rs[2 * MLKEM_SYMBYTES];
    mlkem_poly a[MLKEM_MAX_K * MLKEM_MAX_K], s[MLKEM_MAX_K], e[MLKEM_MAX_K], t;
    const uint8_t *rho = rs, *sigma = rs + MLKEM_SYMBYTES;
    uint8_t nonce = 0;

    memcpy(seed, d, MLKEM_SYMBYTES);
    if (p->version == MLKEM_V_FIPS) {
        /* FIPS 203 appends k so one d cannot give related keys across sets. */
        seed[MLKEM_SYMBYTES] = k;
        sha3_512(rs, seed, MLKEM_SYMBYTES + 1);
    } else {
        sha3_512(rs, seed, MLKEM_SYMBYTES);
    }
    PQC_DECLASSIFY(rs, MLKEM_SYMBYTES); /* rho is published in ek */

    mlkem_gen_matrix(a, p, rho, 0);
    for (unsigned i = 0; i < k; i++)
        mlkem_sample_noise(&s[i], sigma, nonce++, p->eta1);
    for (unsigned i = 0; i < k; i++)
        mlkem_sample_noise(&e[i], sigma, nonce++, p->eta1);
    for (unsigned i = 0; i < k; i++) {
        mlkem_poly_ntt(&s[i]);
        mlkem_poly_ntt(&e[i]);
    }
    for (unsigned i = 0; i < k; i++) {
        mlkem_poly_basemul_acc(&t, &a[i * k], s, k);
        mlkem_poly_tomont(&t);
        mlkem_poly_add(&t, &t, &e[i]);
        mlkem_poly_reduce(&t);
        mlkem_poly_tobytes(ek + i * MLKEM_POLYBYTES, &t);
        mlkem_poly_tobytes(dkpke + i * MLKEM_POLYBYTES, &s[i]);
    }
    memcpy(ek + k * MLKEM_POLYBYTES, rho, MLKEM_SYMBYTES);

    PQC_WIPE(seed, sizeof(seed));
    PQC_WIPE(rs, sizeof(rs));
    PQC_WIPE(s, sizeof(s));
    PQC_WIPE(e, sizeof(e));
    PQC_WIPE(&t, sizeof(t));
}

void mlkem_kpke_encrypt(const mlkem_params *p, const uint8_t *ek, const uint8_t m[MLKEM_SYMBYTES],
                        const uint8_t r[MLKEM_SYMBYTES], uint8_t *ct)
{
    const unsigned k = p->k;
    mlkem_poly at[MLKEM_MAX_K * MLKEM_MAX_K], that[MLKEM_MAX_K], rhat[MLKEM_MAX_K];
    mlkem_poly u, v, e, mp;
    uint8_t nonce = 0;
    const size_t upb = 32u * p->du;

    for (unsigned i = 0; i < k; i++)
        mlkem_poly_frombytes(&that[i], ek + i * MLKEM_POLYBYTES);
    mlkem_gen_matrix(at, p, ek + k * MLKEM_POLYBYTES, 1);
    for (unsigned i = 0; i < k; i++) {
        mlkem_sample_noise(&rhat[i], r, nonce++, p->eta1);
        mlkem_poly_ntt(&rhat[i]);
    }
    for (unsigned i = 0; i < k; i++) {
        mlkem_poly_basemul_acc(&u, &at[i * k], rhat, k);
        mlkem_poly_invntt_tomont(&u);
        mlkem_sample_noise(&e, r, nonce++, p->eta2);
        mlkem_poly_add(&u, &u, &e);
        mlkem_poly_compress(ct + i * upb, &u, p->du);
    }
    mlkem_poly_basemul_acc(&v, that, rhat, k);
    mlkem_poly_invntt_tomont(&v);
    mlkem_sample_noise(&e, r, nonce, p->eta2);
    mlkem_poly_frommsg(&mp, m);
    mlkem_poly_add(&v, &v, &e);
    mlkem_poly_add(&v, &v, &mp);
    mlkem_poly_compress(ct + k * upb, &v, p->dv);

    /* r, e and the message polynomial are all secret in the FO transform. */
    PQC_WIPE(rhat, sizeof(rhat));
    PQC_WIPE(&u, sizeof(u));
    PQC_WIPE(&v, sizeof(v));
    PQC_WIPE(&e, sizeof(e));
    PQC_WIPE(&mp, sizeof(mp));
}

void mlkem_kpke_decrypt(const mlkem_params *p, const uint8_t *dkpke, const uint8_t *ct,
                        uint8_t m[MLKEM_SYMBYTES])
{
    const unsigned k = p->k;
    mlkem_poly uhat[MLKEM_MAX_K], shat[MLKEM_MAX_K], w, v;
    const size_t upb = 32u * p->du;

    for (unsigned i = 0; i < k; i++) {
        mlkem_poly_decompress(&uhat[i], ct + i * upb, p->du);
        mlkem_poly_ntt(&uhat[i]);
        mlkem_poly_frombytes(&shat[i], dkpke + i * MLKEM_POLYBYTES);
    }
    mlkem_poly_decompress(&v, ct + k * upb, p->dv);
    mlkem_poly_basemul_acc(&w, shat, uhat, k);
    mlkem_poly_invntt_tomont(&w);
    mlkem_poly_sub(&w, &v, &w);
    mlkem_poly_reduce(&w);
    mlkem_poly_tomsg(m, &w);

    PQC_WIPE(shat, sizeof(shat));
    PQC_WIPE(uhat, sizeof(uhat));
    PQC_WIPE(&w, sizeof(w));
    PQC_WIPE(&v, sizeof(v));
}
