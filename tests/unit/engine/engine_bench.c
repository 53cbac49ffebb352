/* Engine-only throughput for the issues' closing notes (not a ctest test):
 * ops/s of AES-256-GCM EncryptSingle (1 KiB, 16 KiB), HMAC-SHA256 SignSingle
 * (1 KiB), GenerateKey AES-256, and the public-key operations (SignSingle
 * P-256 / Ed25519 / RSA-2048 / ML-DSA-65, VerifySingle P-256 / ML-DSA-65,
 * ML-KEM-768 encapsulate + decapsulate, X25519 DeriveKey), on one thread.
 * Every call unseals its key blob and rebuilds the key, as in service. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ecrypt.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct {
    const char *name;
    CK_MECHANISM_TYPE gen, sign;
    CK_ATTRIBUTE_TYPE pt;
    const void *pv;
    size_t pl;
} pk_case;

static void bench_pk(engine *e, double secs)
{
    static CK_ULONG bits = 2048, dsa = CKP_ML_DSA_65, kem = CKP_ML_KEM_768;
    const pk_case cases[] = {
        {"P-256 ECDSA-SHA256", CKM_EC_KEY_PAIR_GEN, CKM_ECDSA_SHA256, CKA_EC_PARAMS, "P-256", 5},
        {"Ed25519", CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EDDSA, CKA_EC_PARAMS, "Ed25519", 7},
        {"RSA-2048 SHA256-PKCS", CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_SHA256_RSA_PKCS, CKA_MODULUS_BITS,
         &bits, sizeof(bits)},
        {"ML-DSA-65", CKM_ML_DSA_KEY_PAIR_GEN, CKM_ML_DSA, CKA_PARAMETER_SET, &dsa, sizeof(dsa)},
    };
    static uint8_t msg[32];
    engine_buf priv = {0}, pub = {0}, sig = {0}, ct = {0}, k = {0}, cs = {0};
    double t0;
    long n;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CK_ATTRIBUTE a[1] = {{cases[i].pt, (void *)cases[i].pv, cases[i].pl}};
        engine_mech g = et_mech(cases[i].gen), m = et_mech(cases[i].sign);
        if (engine_generate_key_pair(e, &g, a, 1, NULL, 0, &priv, &pub) != CKR_OK)
            return;
        for (n = 0, t0 = now(); now() - t0 < secs; n++) {
            engine_sign_single(e, et_b(&priv), &m, et_raw(msg, sizeof(msg)), &sig);
            engine_buf_free(&sig);
        }
        printf("SignSingle %-20s %8.0f ops/s\n", cases[i].name, n / (now() - t0));
        engine_sign_single(e, et_b(&priv), &m, et_raw(msg, sizeof(msg)), &sig);
        for (n = 0, t0 = now(); now() - t0 < secs; n++)
            engine_verify_single(e, et_b(&pub), &m, et_raw(msg, sizeof(msg)), et_b(&sig));
        printf("VerifySingle %-18s %8.0f ops/s\n", cases[i].name, n / (now() - t0));
        engine_buf_free(&sig);
        engine_buf_free(&priv);
        engine_buf_free(&pub);
    }
    CK_ATTRIBUTE ka[1] = {{CKA_PARAMETER_SET, &kem, sizeof(kem)}};
    CK_ULONG len = 32, kt = CKK_AES;
    CK_ATTRIBUTE at[2] = {{CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_KEY_TYPE, &kt, sizeof(kt)}};
    engine_mech g = et_mech(CKM_ML_KEM_KEY_PAIR_GEN), km = et_mech(CKM_ML_KEM);
    if (engine_generate_key_pair(e, &g, ka, 1, NULL, 0, &priv, &pub) != CKR_OK)
        return;
    for (n = 0, t0 = now(); now() - t0 < secs; n++) {
        engine_encapsulate(e, &km, et_b(&pub), at, 2, &ct, &k);
        engine_buf_free(&k);
        engine_decapsulate(e, &km, et_b(&priv), et_b(&ct), at, 2, &k);
        engine_buf_free(&k);
        engine_buf_free(&ct);
    }
    printf("ML-KEM-768 encaps+decaps:     %8.0f ops/s\n", n / (now() - t0));
    engine_buf_free(&priv);
    engine_buf_free(&pub);
    CK_ATTRIBUTE xa[1] = {{CKA_EC_PARAMS, "X25519", 6}};
    engine_buf p2 = {0}, k2 = {0};
    g = et_mech(CKM_EC_MONTGOMERY_KEY_PAIR_GEN);
    if (engine_generate_key_pair(e, &g, xa, 1, NULL, 0, &priv, &pub) != CKR_OK ||
        engine_generate_key_pair(e, &g, xa, 1, NULL, 0, &p2, &k2) != CKR_OK)
        return;
    /* The peer's raw value sits at offset 12 of its 44-byte X25519 SPKI. */
    engine_mech d = et_mech_b(CKM_ECDH1_DERIVE, k2.ptr + 12, 32);
    CK_ULONG gl = 32, gk = CKK_GENERIC_SECRET;
    CK_ATTRIBUTE gt[2] = {{CKA_VALUE_LEN, &gl, sizeof(gl)}, {CKA_KEY_TYPE, &gk, sizeof(gk)}};
    for (n = 0, t0 = now(); now() - t0 < secs; n++) {
        engine_derive_key(e, &d, gt, 2, et_b(&priv), et_raw(NULL, 0), &k, &cs);
        engine_buf_free(&k);
        engine_buf_free(&cs);
    }
    printf("DeriveKey X25519:             %8.0f ops/s\n", n / (now() - t0));
    engine_buf_free(&priv);
    engine_buf_free(&pub);
    engine_buf_free(&p2);
    engine_buf_free(&k2);
}

int main(void)
{
    engine *e = NULL;
    engine_buf aes = {0}, hk = {0}, out = {0}, cs = {0};
    static uint8_t msg[16384];
    uint8_t iv[12] = {1}, param[64], kv[32] = {2};
    size_t pl = et_gcm_param(param, iv, 12, NULL, 0, 128);
    engine_mech gcm = et_mech_b(CKM_AES_GCM, param, pl), hm = et_mech(CKM_SHA256_HMAC),
                gen = et_mech(CKM_AES_KEY_GEN);
    CK_ULONG len = 32;
    CK_ATTRIBUTE t[1] = {{CKA_VALUE_LEN, &len, sizeof(len)}};
    const double secs = 1.0;
    double t0;
    long n;

    if (engine_create(ETEST_WK, NULL, &e) != CKR_OK ||
        et_import(e, CKK_AES, kv, 32, &aes) != CKR_OK ||
        et_import(e, CKK_GENERIC_SECRET, kv, 32, &hk) != CKR_OK)
        return 1;
    for (size_t sz = 1024; sz <= 16384; sz *= 16) {
        for (n = 0, t0 = now(); now() - t0 < secs; n++) {
            engine_encrypt_single(e, et_b(&aes), &gcm, et_raw(msg, sz), &out);
            engine_buf_free(&out);
        }
        printf("AES-256-GCM EncryptSingle %5zu B: %8.0f ops/s (%.1f MB/s)\n", sz, n / (now() - t0),
               n * (double)sz / (now() - t0) / 1e6);
    }
    for (n = 0, t0 = now(); now() - t0 < secs; n++) {
        engine_sign_single(e, et_b(&hk), &hm, et_raw(msg, 1024), &out);
        engine_buf_free(&out);
    }
    printf("HMAC-SHA256 SignSingle 1024 B: %8.0f ops/s\n", n / (now() - t0));
    for (n = 0, t0 = now(); now() - t0 < secs; n++) {
        engine_generate_key(e, &gen, t, 1, &out, &cs);
        engine_buf_free(&out);
        engine_buf_free(&cs);
    }
    printf("GenerateKey AES-256:          %8.0f ops/s\n", n / (now() - t0));
    bench_pk(e, secs);
    engine_buf_free(&aes);
    engine_buf_free(&hk);
    engine_destroy(e);
    return 0;
}
