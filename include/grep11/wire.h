/* Conventions of the GREP11 wire shared by server, client and module.
 *
 * GREP11 templates are map<uint64, AttributeValue>, where AttributeValue is
 * bytes, bool or int64. PKCS #11 attributes are typed by their attribute
 * type, so both sides need the same answer to "which kind does CKA_x have".
 * This is that answer, in one place. */
#ifndef GREP11_WIRE_H
#define GREP11_WIRE_H

#include <p11-kit/pkcs11.h>
#include <stddef.h>

#include "grep11/ck_ext.h"

typedef enum {
    GREP11_ATTR_BYTES, /* AttributeB: byte strings, big integers, DER */
    GREP11_ATTR_BOOL,  /* AttributeTF: CK_BBOOL (1 byte) */
    GREP11_ATTR_ULONG, /* AttributeI: CK_ULONG (8 bytes) */
} grep11_attr_kind;

static inline grep11_attr_kind grep11_attr_kind_of(CK_ATTRIBUTE_TYPE type)
{
    static const CK_ATTRIBUTE_TYPE bools[] = {
        CKA_TOKEN, CKA_PRIVATE, CKA_TRUSTED, CKA_SENSITIVE, CKA_ENCRYPT, CKA_DECRYPT,
        CKA_WRAP, CKA_UNWRAP, CKA_SIGN, CKA_SIGN_RECOVER, CKA_VERIFY, CKA_VERIFY_RECOVER,
        CKA_DERIVE, CKA_EXTRACTABLE, CKA_LOCAL, CKA_NEVER_EXTRACTABLE, CKA_ALWAYS_SENSITIVE,
        CKA_MODIFIABLE, CKA_COPYABLE, CKA_DESTROYABLE, CKA_ALWAYS_AUTHENTICATE,
        CKA_WRAP_WITH_TRUSTED, CKA_RESET_ON_INIT, CKA_HAS_RESET,
#ifdef CKA_IBM_USE_AS_DATA
        CKA_IBM_USE_AS_DATA,
#endif
#ifdef CKA_IBM_ATTRBOUND
        CKA_IBM_ATTRBOUND,
#endif
    };
    static const CK_ATTRIBUTE_TYPE ulongs[] = {
        CKA_CLASS, CKA_CERTIFICATE_TYPE, CKA_CERTIFICATE_CATEGORY,
        CKA_JAVA_MIDP_SECURITY_DOMAIN, CKA_KEY_TYPE, CKA_MODULUS_BITS, CKA_PRIME_BITS,
        CKA_SUB_PRIME_BITS, CKA_VALUE_BITS, CKA_VALUE_LEN, CKA_KEY_GEN_MECHANISM,
        CKA_NAME_HASH_ALGORITHM, CKA_MECHANISM_TYPE, CKA_HW_FEATURE_TYPE,
#ifdef CKA_PARAMETER_SET
        CKA_PARAMETER_SET,
#endif
    };
    for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
        if (bools[i] == type)
            return GREP11_ATTR_BOOL;
    for (size_t i = 0; i < sizeof(ulongs) / sizeof(ulongs[0]); i++)
        if (ulongs[i] == type)
            return GREP11_ATTR_ULONG;
    return GREP11_ATTR_BYTES;
}

/* Type URL of the error detail GREP11 servers attach to a failed call. */
#define GREP11_ERROR_TYPE_URL "type.googleapis.com/grep11.Grep11Error"
#define GREP11_STATUS_DETAILS_KEY "grpc-status-details-bin"

/* grep11.Batch (proto/batch.proto): grep11.Crypto calls coalesced into one
 * RPC. A batch holds 1..GREP11_BATCH_MAX_CALLS calls. */
#define GREP11_BATCH_METHOD "/grep11.Batch/Run"
#define GREP11_BATCH_CALL_PREFIX "/grep11.Crypto/"
#define GREP11_BATCH_MAX_CALLS 64

#endif
