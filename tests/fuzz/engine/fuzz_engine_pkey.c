/* Fuzzes the public-key parsers: SPKIs and MACed SPKIs given as keys,
 * damaged MAC trailers, ECDH peer values, signature parameters (ML-DSA
 * context, EdDSA, PSS) and KEM ciphertexts. The first byte picks a target;
 * PKCS #8 PrivateKeyInfo (what UnwrapKey decodes) and DSA/DH domain
 * parameters. Every call must fail cleanly or succeed, never crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "pkey.h"

static engine *g_e;
static engine_buf g_dsa_priv, g_dsa_pub, g_ec_priv, g_ec_pub, g_kem_priv, g_kem_pub;

static void pair(CK_MECHANISM_TYPE mech, CK_ATTRIBUTE_TYPE pt, const void *pv, size_t pl,
                 engine_buf *priv, engine_buf *pub)
{
    CK_ATTRIBUTE a[1] = {{pt, (void *)pv, pl}};
    engine_mech m = {.type = mech};
    if (engine_generate_key_pair(g_e, &m, a, 1, NULL, 0, priv, pub) != CKR_OK)
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const uint8_t wk[32] = {7};
    CK_ULONG dsa = CKP_ML_DSA_44, kem = CKP_ML_KEM_512;
    (void)argc, (void)argv;
    if (engine_create(wk, NULL, &g_e) != CKR_OK)
        abort();
    pair(CKM_ML_DSA_KEY_PAIR_GEN, CKA_PARAMETER_SET, &dsa, sizeof(dsa), &g_dsa_priv, &g_dsa_pub);
    pair(CKM_EC_KEY_PAIR_GEN, CKA_EC_PARAMS, "P-256", 5, &g_ec_priv, &g_ec_pub);
    pair(CKM_ML_KEM_KEY_PAIR_GEN, CKA_PARAMETER_SET, &kem, sizeof(kem), &g_kem_priv, &g_kem_pub);
    return 0;
}

static void as_public_key(const uint8_t *p, size_t n)
{
    static const CK_MECHANISM_TYPE M[] = {CKM_ECDSA_SHA256, CKM_ML_DSA, CKM_EDDSA,
                                          CKM_SHA256_RSA_PKCS, CKM_IBM_DILITHIUM};
    size_t kl = n > 0 ? p[0] * 16u % (n + 1) : 0;
    engine_bytes key = {p, kl}, rest = {p + kl, n - kl};
    CK_ATTRIBUTE_TYPE ty[4] = {CKA_EC_POINT, CKA_MODULUS, CKA_VALUE, CKA_PUBLIC_KEY_INFO};
    CK_ATTRIBUTE *a = NULL;
    CK_ULONG na = 0;
    for (size_t i = 0; i < sizeof(M) / sizeof(M[0]); i++) {
        engine_mech m = {.type = M[i]};
        (void)engine_verify_single(g_e, key, &m, rest, rest);
    }
    if (engine_get_attribute_value(g_e, key, ty, 4, &a, &na) == CKR_OK || a != NULL)
        engine_attrs_free(a, na);
}

/* A genuine MACed SPKI with fuzzer-chosen damage: bytes xored in, or cut. */
static void damaged(const engine_buf *pub, const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(pub->len);
    engine_mech m = {.type = pub == &g_ec_pub ? CKM_ECDSA : CKM_ML_DSA};
    size_t len = pub->len;
    memcpy(c, pub->ptr, len);
    for (size_t i = 0; i + 2 < n; i += 3)
        c[((size_t)p[i] << 8 | p[i + 1]) % len] ^= p[i + 2];
    if (n % 2)
        len = n % len;
    (void)engine_verify_single(g_e, (engine_bytes){c, len}, &m, (engine_bytes){p, n},
                               (engine_bytes){p, n});
    free(c);
}

static void ecdh_peer(const uint8_t *p, size_t n)
{
    CK_ULONG len = 16;
    CK_ATTRIBUTE t[1] = {{CKA_VALUE_LEN, &len, sizeof(len)}};
    engine_mech m = {.type = CKM_ECDH1_DERIVE, .kind = ENGINE_PARAM_BYTES, .bytes = {p, n}};
    engine_buf k = {0}, cs = {0};
    (void)engine_derive_key(g_e, &m, t, 1, (engine_bytes){g_ec_priv.ptr, g_ec_priv.len},
                            (engine_bytes){NULL, 0}, &k, &cs);
    engine_buf_free(&k);
    engine_buf_free(&cs);
}

static void sig_params(const uint8_t *p, size_t n)
{
    static const CK_MECHANISM_TYPE M[] = {CKM_ML_DSA, CKM_HASH_ML_DSA, CKM_HASH_ML_DSA_SHA256};
    engine_buf s = {0};
    for (size_t i = 0; i < 3; i++) {
        engine_mech m = {.type = M[i], .kind = ENGINE_PARAM_BYTES, .bytes = {p, n}};
        (void)engine_sign_single(g_e, (engine_bytes){g_dsa_priv.ptr, g_dsa_priv.len}, &m,
                                 (engine_bytes){p, n}, &s);
        engine_buf_free(&s);
    }
    engine_mech ed = {.type = CKM_EDDSA, .kind = ENGINE_PARAM_BYTES, .bytes = {p, n}};
    (void)engine_sign_single(g_e, (engine_bytes){g_ec_priv.ptr, g_ec_priv.len}, &ed,
                             (engine_bytes){p, n}, &s);
    engine_buf_free(&s);
}

static void kem(const uint8_t *p, size_t n)
{
    CK_ULONG len = 32, kt = CKK_AES;
    CK_ATTRIBUTE t[2] = {{CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_KEY_TYPE, &kt, sizeof(kt)}};
    engine_mech m = {.type = CKM_ML_KEM};
    engine_buf k = {0}, cs = {0};
    (void)engine_decapsulate(g_e, &m, (engine_bytes){g_kem_priv.ptr, g_kem_priv.len},
                             (engine_bytes){p, n}, t, 2, &k);
    engine_buf_free(&k);
    engine_mech ib = {.type = CKM_IBM_KYBER, .kind = ENGINE_PARAM_KYBER};
    ib.kyber.mode = CK_IBM_KEM_DECAPSULATE;
    ib.kyber.kdf = n > 0 ? p[0] : CKD_NULL;
    ib.kyber.cipher_text = (engine_bytes){p, n};
    (void)engine_derive_key(g_e, &ib, t, 2, (engine_bytes){g_kem_priv.ptr, g_kem_priv.len},
                            (engine_bytes){NULL, 0}, &k, &cs);
    engine_buf_free(&k);
    engine_buf_free(&cs);
}

static void pkcs8(const uint8_t *p, size_t n)
{
    CK_ATTRIBUTE all[16];
    CK_ULONG cls = CKO_PRIVATE_KEY, cnt = 1;
    wbuf scratch;
    engine_buf k = {0};
    all[0] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
    wbuf_init(&scratch, 20000);
    if (pkcs8_decode(p, n, all, &cnt, 16, &scratch, true) == CKR_OK) {
        (void)engine_import_private_key(g_e, all, cnt, &k);
        engine_buf_free(&k);
    }
    wbuf_free(&scratch);
}

static void ffc_params_fuzz(const uint8_t *p, size_t n)
{
    CK_ATTRIBUTE a[1] = {{CKA_IBM_STRUCT_PARAMS, (void *)p, n}};
    engine_mech m = {.type = (n & 1) ? CKM_DSA_KEY_PAIR_GEN : CKM_DH_PKCS_KEY_PAIR_GEN};
    engine_buf x = {0}, y = {0};
    if (n > 600) /* keep FFC validation cheap per input */
        return;
    (void)engine_generate_key_pair(g_e, &m, a, 1, NULL, 0, &x, &y);
    engine_buf_free(&x);
    engine_buf_free(&y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    switch (data[0] % 8) {
    case 6:
        pkcs8(data + 1, size - 1);
        break;
    case 7:
        ffc_params_fuzz(data + 1, size - 1);
        break;
    case 0:
        as_public_key(data + 1, size - 1);
        break;
    case 1:
        damaged(&g_dsa_pub, data + 1, size - 1);
        break;
    case 2:
        damaged(&g_ec_pub, data + 1, size - 1);
        break;
    case 3:
        ecdh_peer(data + 1, size - 1);
        break;
    case 4:
        sig_params(data + 1, size - 1);
        break;
    default:
        kem(data + 1, size - 1);
        break;
    }
    return 0;
}
