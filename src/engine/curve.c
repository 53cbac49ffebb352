/* Named curves the engine supports, and how CKA_EC_PARAMS names them: a DER
 * OID, a DER PrintableString with the curve name, or the plain name itself
 * ("P-256", "secp256r1"), which IBM's library accepts and its samples send. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "pkey.h"

#define OID(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

static const curve_def CURVES[] = {
    {"P-224",
     {"secp224r1", "NIST P-224", NULL},
     OID(0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x21),
     PK_EC,
     "secp224r1",
     224,
     28,
     57},
    {"P-256",
     {"secp256r1", "prime256v1", "NIST P-256"},
     OID(0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07),
     PK_EC,
     "prime256v1",
     256,
     32,
     65},
    {"P-384",
     {"secp384r1", "NIST P-384", NULL},
     OID(0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22),
     PK_EC,
     "secp384r1",
     384,
     48,
     97},
    {"P-521",
     {"secp521r1", "NIST P-521", NULL},
     OID(0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23),
     PK_EC,
     "secp521r1",
     521,
     66,
     133},
    {"secp256k1",
     {NULL},
     OID(0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a),
     PK_EC,
     "secp256k1",
     256,
     32,
     65},
    {"brainpoolP256r1",
     {NULL},
     OID(0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07),
     PK_EC,
     "brainpoolP256r1",
     256,
     32,
     65},
    {"brainpoolP384r1",
     {NULL},
     OID(0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0b),
     PK_EC,
     "brainpoolP384r1",
     384,
     48,
     97},
    {"brainpoolP512r1",
     {NULL},
     OID(0x06, 0x09, 0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0d),
     PK_EC,
     "brainpoolP512r1",
     512,
     64,
     129},
    {"Ed25519",
     {"edwards25519", NULL},
     OID(0x06, 0x03, 0x2b, 0x65, 0x70),
     PK_ED,
     "ED25519",
     255,
     32,
     32},
    {"Ed448", {"edwards448", NULL}, OID(0x06, 0x03, 0x2b, 0x65, 0x71), PK_ED, "ED448", 448, 57, 57},
    {"X25519",
     {"curve25519", NULL},
     OID(0x06, 0x03, 0x2b, 0x65, 0x6e),
     PK_X,
     "X25519",
     255,
     32,
     32},
    {"X448", {"curve448", NULL}, OID(0x06, 0x03, 0x2b, 0x65, 0x6f), PK_X, "X448", 448, 56, 56},
};
#define NCURVES (sizeof(CURVES) / sizeof(CURVES[0]))

const curve_def *curve_by_oid(const uint8_t *oid, size_t len)
{
    for (size_t i = 0; i < NCURVES; i++)
        if (CURVES[i].oid_len == len && memcmp(CURVES[i].oid, oid, len) == 0)
            return &CURVES[i];
    return NULL;
}

static bool name_eq(const char *a, const uint8_t *b, size_t blen)
{
    if (a == NULL || strlen(a) != blen)
        return false;
    for (size_t i = 0; i < blen; i++)
        if (tolower((unsigned char)a[i]) != tolower(b[i]))
            return false;
    return true;
}

static const curve_def *curve_by_bytes(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < NCURVES; i++) {
        if (name_eq(CURVES[i].name, p, len))
            return &CURVES[i];
        for (int j = 0; j < 3; j++)
            if (name_eq(CURVES[i].alias[j], p, len))
                return &CURVES[i];
    }
    return NULL;
}

const curve_def *curve_by_ossl(const char *name)
{
    for (size_t i = 0; i < NCURVES; i++)
        if (strcasecmp(CURVES[i].ossl, name) == 0)
            return &CURVES[i];
    return NULL;
}

const curve_def *curve_by_name(const char *name)
{
    return curve_by_bytes((const uint8_t *)name, strlen(name));
}

const curve_def *curve_by_params(const uint8_t *p, size_t len, CK_RV *why)
{
    const curve_def *c = NULL;
    der_span in = {p, len}, v;

    *why = CKR_ATTRIBUTE_VALUE_INVALID;
    if (p == NULL || len == 0)
        return NULL;
    if (p[0] == DER_OID || p[0] == DER_PRINTABLE) {
        if (!der_get(&in, p[0], &v, NULL) || in.len != 0 || v.len == 0)
            return NULL;
        c = p[0] == DER_OID ? curve_by_oid(p, len) : curve_by_bytes(v.p, v.len);
    } else if (p[0] == DER_SEQUENCE) {
        *why = CKR_CURVE_NOT_SUPPORTED; /* explicit domain parameters are not offered */
        return NULL;
    } else {
        /* A plain name: printable ASCII only, short. */
        if (len > 32)
            return NULL;
        for (size_t i = 0; i < len; i++)
            if (p[i] < 0x20 || p[i] > 0x7e)
                return NULL;
        c = curve_by_bytes(p, len);
    }
    if (c == NULL)
        *why = CKR_CURVE_NOT_SUPPORTED;
    return c;
}
