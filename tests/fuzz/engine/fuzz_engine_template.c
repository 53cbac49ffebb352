/* Fuzzes template parsing and policy: the input becomes a CK_ATTRIBUTE
 * array (type u32 | length u8 | value) fed to GenerateKey, the secret-key
 * import, SetAttributeValue, UnwrapKey and DeriveKey. Every call must return
 * a CK_RV without crashing, and a key it accepts must be usable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static engine *g_e;
static engine_buf g_key;

static const CK_ATTRIBUTE_TYPE TYPES[] = {
    CKA_CLASS,
    CKA_KEY_TYPE,
    CKA_VALUE_LEN,
    CKA_ENCRYPT,
    CKA_DECRYPT,
    CKA_SIGN,
    CKA_VERIFY,
    CKA_WRAP,
    CKA_UNWRAP,
    CKA_DERIVE,
    CKA_SENSITIVE,
    CKA_EXTRACTABLE,
    CKA_TRUSTED,
    CKA_WRAP_WITH_TRUSTED,
    CKA_MODIFIABLE,
    CKA_LOCAL,
    CKA_ALWAYS_SENSITIVE,
    CKA_VALUE,
    CKA_CHECK_VALUE,
    CKA_LABEL,
    CKA_TOKEN,
    CKA_KEY_GEN_MECHANISM,
    CKA_SIGN_RECOVER,
    CKA_MODULUS,
    CKA_IBM_ATTRBOUND,
    CKA_NEVER_EXTRACTABLE,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const uint8_t wk[32] = {7};
    CK_ULONG len = 32;
    CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE t[2] = {{CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_SENSITIVE, &no, 1}};
    engine_mech m = {.type = CKM_AES_KEY_GEN};
    engine_buf cs = {0};
    engine_policy pol = {0};
    (void)argc, (void)argv;
    pol.min_generic_secret_bytes = 1;
    if (engine_create(wk, &pol, &g_e) != CKR_OK ||
        engine_generate_key(g_e, &m, t, 2, &g_key, &cs) != CKR_OK)
        abort();
    engine_buf_free(&cs);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    CK_ATTRIBUTE a[16];
    uint8_t vals[16][64];
    CK_ULONG n = 0;
    size_t off = 1;
    engine_buf b = {0}, cs = {0}, w = {0};
    static const CK_MECHANISM_TYPE GEN[] = {CKM_AES_KEY_GEN, CKM_DES3_KEY_GEN,
                                            CKM_GENERIC_SECRET_KEY_GEN, CKM_DES2_KEY_GEN};
    engine_mech m;

    if (size < 1)
        return 0;
    while (n < 16 && off + 2 <= size) {
        uint8_t sel = data[off], len = data[off + 1] % 65;
        off += 2;
        if (len > size - off)
            len = (uint8_t)(size - off);
        memcpy(vals[n], data + off, len);
        off += len;
        /* widen one-byte integers so ulong attributes are often well-formed */
        if (len == 1 && (sel & 0x80)) {
            CK_ULONG v = vals[n][0];
            memcpy(vals[n], &v, sizeof(v));
            len = sizeof(v);
        }
        a[n] = (CK_ATTRIBUTE){TYPES[sel % (sizeof(TYPES) / sizeof(TYPES[0]))], vals[n], len};
        n++;
    }
    switch (data[0] % 5) {
    case 0:
    case 1:
        m = (engine_mech){.type = GEN[data[0] / 5 % 4]};
        if (engine_generate_key(g_e, &m, a, n, &b, &cs) == CKR_OK) {
            engine_mech ecb = {.type = CKM_AES_ECB};
            uint8_t blk[16] = {0};
            engine_buf o = {0};
            engine_encrypt_single(g_e, (engine_bytes){b.ptr, b.len}, &ecb, (engine_bytes){blk, 16},
                                  &o);
            engine_buf_free(&o);
        }
        break;
    case 2:
        engine_import_secret_key(g_e, a, n, &b, &cs);
        break;
    case 3:
        engine_set_attribute_value(g_e, (engine_bytes){g_key.ptr, g_key.len}, a, n, &b);
        break;
    case 4:
        m = (engine_mech){.type = CKM_AES_KEY_WRAP};
        if (engine_wrap_key(g_e, (engine_bytes){g_key.ptr, g_key.len},
                            (engine_bytes){g_key.ptr, g_key.len}, (engine_bytes){NULL, 0}, &m,
                            &w) == CKR_OK)
            engine_unwrap_key(g_e, (engine_bytes){w.ptr, w.len},
                              (engine_bytes){g_key.ptr, g_key.len}, (engine_bytes){NULL, 0}, &m, a,
                              n, &b, &cs);
        engine_buf_free(&w);
        if (b.ptr == NULL) {
            m = (engine_mech){.type = CKM_SHA256_KEY_DERIVATION};
            engine_derive_key(g_e, &m, a, n, (engine_bytes){g_key.ptr, g_key.len},
                              (engine_bytes){NULL, 0}, &b, &cs);
        }
        break;
    }
    engine_buf_free(&b);
    engine_buf_free(&cs);
    return 0;
}
