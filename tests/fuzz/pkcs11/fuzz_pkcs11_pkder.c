/* libFuzzer: bytes as a key template (class, key type, curve, point, values,
 * parameter set) through pkder.c, which turns what an application hands
 * C_CreateObject into an SPKI or a PKCS #8 with OpenSSL and a DER writer of
 * its own. Any input must convert or fail cleanly, without leaks. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Layout: key type selector (1), then up to six length-prefixed (1 byte)
 * values for EC_PARAMS, EC_POINT, VALUE, MODULUS, PUBLIC_EXPONENT,
 * PARAMETER_SET (8 bytes used when present). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const CK_KEY_TYPE kts[] = {CKK_RSA,    CKK_EC,     CKK_EC_EDWARDS, CKK_EC_MONTGOMERY,
                                      CKK_ML_DSA, CKK_ML_KEM, CKK_AES};
    static const CK_ATTRIBUTE_TYPE types[] = {CKA_EC_PARAMS,       CKA_EC_POINT,
                                              CKA_VALUE,           CKA_MODULUS,
                                              CKA_PUBLIC_EXPONENT, CKA_PARAMETER_SET};
    CK_ATTRIBUTE t[8];
    CK_ULONG n = 0, set = 0;
    if (size < 1)
        return 0;
    CK_KEY_TYPE kt = kts[data[0] % (sizeof(kts) / sizeof(kts[0]))];
    t[n++] = (CK_ATTRIBUTE){CKA_KEY_TYPE, &kt, sizeof(kt)};
    size_t pos = 1;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]) && pos < size; i++) {
        size_t len = data[pos++];
        if (len > size - pos)
            len = size - pos;
        if (types[i] == CKA_PARAMETER_SET) {
            memcpy(&set, data + pos, len < sizeof(set) ? len : sizeof(set));
            t[n++] = (CK_ATTRIBUTE){CKA_PARAMETER_SET, &set, sizeof(set)};
        } else if (len) {
            t[n++] = (CK_ATTRIBUTE){types[i], (void *)(data + pos), len};
        }
        pos += len;
    }
    for (int priv = 0; priv < 2; priv++) {
        g11c_buf out = {0};
        if (p11_pkder(t, n, priv, &out) == CKR_OK)
            free(out.ptr);
    }
    return 0;
}
