/* Fuzzes the mechanism-parameter decoders (CBC IV, CTR, GCM, HKDF, MAC
 * _GENERAL lengths) and the cipher/MAC paths behind them. Input: selector
 * byte, then ParameterB length u8, ParameterB, then data. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static engine *g_e;
static engine_buf g_aes, g_gen;

static engine_buf imp(CK_KEY_TYPE kt, size_t len)
{
    uint8_t v[32];
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE t[3] = {
        {CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)}, {CKA_VALUE, v, len}};
    engine_buf b = {0}, cs = {0};
    memset(v, 0x5a, sizeof(v));
    if (engine_import_secret_key(g_e, t, 3, &b, &cs) != CKR_OK)
        abort();
    engine_buf_free(&cs);
    return b;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const uint8_t wk[32] = {5};
    (void)argc, (void)argv;
    if (engine_create(wk, NULL, &g_e) != CKR_OK)
        abort();
    g_aes = imp(CKK_AES, 32);
    g_gen = imp(CKK_GENERIC_SECRET, 32);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const CK_MECHANISM_TYPE M[] = {CKM_AES_CBC,
                                          CKM_AES_CBC_PAD,
                                          CKM_AES_CTR,
                                          CKM_AES_GCM,
                                          CKM_AES_ECB,
                                          CKM_HKDF_DERIVE,
                                          CKM_SHA256_HMAC_GENERAL,
                                          CKM_AES_CMAC_GENERAL,
                                          CKM_SHA3_256_HMAC_GENERAL};
    engine_mech m;
    engine_bytes data_b;
    engine_buf o = {0}, s = {0}, s2 = {0}, o2 = {0}, cs = {0};
    size_t pl;

    if (size < 2)
        return 0;
    pl = data[1];
    if (pl > size - 2)
        pl = size - 2;
    m = (engine_mech){.type = M[data[0] % (sizeof(M) / sizeof(M[0]))],
                      .kind = ENGINE_PARAM_BYTES,
                      .bytes = {data + 2, pl}};
    data_b = (engine_bytes){data + 2 + pl, size - 2 - pl};
    if (m.type == CKM_HKDF_DERIVE) {
        CK_ULONG len = 1 + data[0] % 64;
        CK_ATTRIBUTE t[1] = {{CKA_VALUE_LEN, &len, sizeof(len)}};
        engine_derive_key(g_e, &m, t, 1, (engine_bytes){g_gen.ptr, g_gen.len}, data_b, &o, &cs);
    } else if (m.type == CKM_SHA256_HMAC_GENERAL || m.type == CKM_SHA3_256_HMAC_GENERAL ||
               m.type == CKM_AES_CMAC_GENERAL) {
        const engine_buf *k = m.type == CKM_AES_CMAC_GENERAL ? &g_aes : &g_gen;
        if (engine_sign_single(g_e, (engine_bytes){k->ptr, k->len}, &m, data_b, &o) == CKR_OK &&
            engine_verify_single(g_e, (engine_bytes){k->ptr, k->len}, &m, data_b,
                                 (engine_bytes){o.ptr, o.len}) != CKR_OK)
            abort();
    } else {
        if (engine_encrypt_single(g_e, (engine_bytes){g_aes.ptr, g_aes.len}, &m, data_b, &o) ==
            CKR_OK) {
            if (engine_decrypt_single(g_e, (engine_bytes){g_aes.ptr, g_aes.len}, &m,
                                      (engine_bytes){o.ptr, o.len}, &o2) != CKR_OK ||
                o2.len != data_b.len || (o2.len && memcmp(o2.ptr, data_b.ptr, o2.len) != 0))
                abort(); /* decrypt must invert encrypt */
        }
        engine_buf_free(&o2);
        if (engine_decrypt_init(g_e, &m, (engine_bytes){g_aes.ptr, g_aes.len}, &s) == CKR_OK &&
            engine_decrypt_update(g_e, (engine_bytes){s.ptr, s.len}, data_b, &s2, &o2) == CKR_OK) {
            engine_buf_free(&o2);
            engine_decrypt_final(g_e, (engine_bytes){s2.ptr, s2.len}, &o2);
        }
    }
    engine_buf_free(&o);
    engine_buf_free(&o2);
    engine_buf_free(&s);
    engine_buf_free(&s2);
    engine_buf_free(&cs);
    return 0;
}
