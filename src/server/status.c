#include "status.h"

#include <stdlib.h>
#include <string.h>

#include "errors.pb-c.h"
#include "grep11/rv_name.h"
#include "status.pb-c.h"
#include "custody/custody_codes.h"

grpc_status_code status_code_for_rv(CK_RV rv)
{
    switch (rv) {
    case CKR_OK:
        return GRPC_STATUS_OK;
    case CKR_FUNCTION_NOT_SUPPORTED:
        return GRPC_STATUS_UNIMPLEMENTED;
    case CKR_ARGUMENTS_BAD:
    case CKR_ATTRIBUTE_TYPE_INVALID:
    case CKR_ATTRIBUTE_VALUE_INVALID:
    case CKR_ATTRIBUTE_READ_ONLY:
    case CKR_TEMPLATE_INCOMPLETE:
    case CKR_TEMPLATE_INCONSISTENT:
    case CKR_MECHANISM_INVALID:
    case CKR_MECHANISM_PARAM_INVALID:
    case CKR_DATA_LEN_RANGE:
    case CKR_DATA_INVALID:
    case CKR_ENCRYPTED_DATA_LEN_RANGE:
    case CKR_ENCRYPTED_DATA_INVALID:
    case CKR_KEY_SIZE_RANGE:
    case CKR_KEY_TYPE_INCONSISTENT:
    case CKR_WRAPPED_KEY_INVALID:
    case CKR_WRAPPED_KEY_LEN_RANGE:
    case CKR_SIGNATURE_LEN_RANGE:
    case CKR_DOMAIN_PARAMS_INVALID:
    case CKR_CURVE_NOT_SUPPORTED:
        return GRPC_STATUS_INVALID_ARGUMENT;
    case CKR_KEY_FUNCTION_NOT_PERMITTED:
    case CKR_KEY_NOT_WRAPPABLE:
    case CKR_KEY_UNEXTRACTABLE:
    case CKR_ATTRIBUTE_SENSITIVE:
        return GRPC_STATUS_PERMISSION_DENIED;
    case CKR_USER_NOT_LOGGED_IN:
    case CKR_PIN_INCORRECT:
    case CKR_IBM_GREP11_NOT_AUTHENTICATED:
        return GRPC_STATUS_UNAUTHENTICATED;
    case CKR_GREP11_PERMISSION_DENIED:
        return GRPC_STATUS_PERMISSION_DENIED;
    case CKR_GREP11_RATE_LIMITED:
        return GRPC_STATUS_RESOURCE_EXHAUSTED;
    case CKR_IBM_GREP11_CONFLICT:
        return GRPC_STATUS_ABORTED;
    case CKR_GREP11_REQUEST_REUSED:
        return GRPC_STATUS_ALREADY_EXISTS;
    case CKR_GREP11_MISSING:
        return GRPC_STATUS_NOT_FOUND;
    case CKR_HOST_MEMORY:
    case CKR_DEVICE_MEMORY:
        return GRPC_STATUS_RESOURCE_EXHAUSTED;
    case CKR_DEVICE_ERROR:
    case CKR_DEVICE_REMOVED:
        return GRPC_STATUS_UNAVAILABLE;
    case CKR_GENERAL_ERROR:
        return GRPC_STATUS_INTERNAL;
    default:
        /* Cryptographic outcomes (a bad signature, a damaged blob, a state
         * used out of order) are answers, not transport faults. */
        return GRPC_STATUS_UNKNOWN;
    }
}

/* CKR_DEVICE_MEMORY is a full keystore (store quotas): the same call fails
 * the same way until something is destroyed, so it is not retryable. */
int status_rv_retryable(CK_RV rv)
{
    return rv == CKR_DEVICE_ERROR || rv == CKR_HOST_MEMORY || rv == CKR_GREP11_RATE_LIMITED ||
           rv == CKR_IBM_GREP11_CONFLICT || rv == CKR_GREP11_LOCKED;
}

int status_encode_details(grpc_status_code code, CK_RV rv, const char *detail, uint8_t **out,
                          size_t *out_len)
{
    Grep11__Grep11Error g11 = GREP11__GREP11_ERROR__INIT;
    Google__Rpc__Any any = GOOGLE__RPC__ANY__INIT;
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    Google__Rpc__Any *anys[1] = {&any};
    uint8_t *g11_bytes = NULL, *buf = NULL;
    int rc = -1;

    g11.code = rv;
    g11.detail = (char *)(detail ? detail : "");
    g11.retry = status_rv_retryable(rv);
    size_t g11_len = grep11__grep11_error__get_packed_size(&g11);
    g11_bytes = malloc(g11_len ? g11_len : 1);
    if (!g11_bytes)
        goto out;
    grep11__grep11_error__pack(&g11, g11_bytes);

    any.type_url = (char *)GREP11_ERROR_TYPE_URL;
    any.value.data = g11_bytes;
    any.value.len = g11_len;
    st.code = (int32_t)code;
    st.message = g11.detail;
    st.n_details = 1;
    st.details = anys;
    size_t len = google__rpc__status__get_packed_size(&st);
    buf = malloc(len ? len : 1);
    if (!buf)
        goto out;
    google__rpc__status__pack(&st, buf);
    *out = buf;
    *out_len = len;
    buf = NULL;
    rc = 0;
out:
    free(g11_bytes);
    free(buf);
    return rc;
}

const char *status_rv_name(CK_RV rv)
{
    return grep11_rv_name(rv);
}
