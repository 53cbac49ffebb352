/* gRPC status + Grep11Error -> CK_RV: the client's one mapping. */
#include <stdio.h>
#include <string.h>

#include "errors.pb-c.h"
#include "grep11/wire.h"
#include "internal.h"
#include "status.pb-c.h"

/* Reads grep11.Grep11Error out of a google.rpc.Status trailer. */
static int decode_grep11_error(const grpc_metadata_array *trailers, CK_RV *rv, char *detail,
                               size_t cap)
{
    for (size_t i = 0; i < trailers->count; i++) {
        if (grpc_slice_str_cmp(trailers->metadata[i].key, GREP11_STATUS_DETAILS_KEY) != 0)
            continue;
        const grpc_slice v = trailers->metadata[i].value;
        Google__Rpc__Status *st =
            google__rpc__status__unpack(NULL, GRPC_SLICE_LENGTH(v), GRPC_SLICE_START_PTR(v));
        if (!st)
            return 0;
        int found = 0;
        for (size_t k = 0; k < st->n_details && !found; k++) {
            const Google__Rpc__Any *any = st->details[k];
            if (!any->type_url || strcmp(any->type_url, GREP11_ERROR_TYPE_URL) != 0)
                continue;
            Grep11__Grep11Error *ge =
                grep11__grep11_error__unpack(NULL, any->value.len, any->value.data);
            if (ge) {
                *rv = (CK_RV)ge->code;
                snprintf(detail, cap, "%s", ge->detail ? ge->detail : "");
                grep11__grep11_error__free_unpacked(ge, NULL);
                found = 1;
            }
        }
        google__rpc__status__free_unpacked(st, NULL);
        return found;
    }
    return 0;
}

int g11c_has_grep11_error(const grpc_metadata_array *trailers)
{
    for (size_t i = 0; i < trailers->count; i++)
        if (grpc_slice_str_cmp(trailers->metadata[i].key, GREP11_STATUS_DETAILS_KEY) == 0)
            return 1;
    return 0;
}

CK_RV g11c_status_to_rv(grpc_status_code code, const grpc_metadata_array *trailers, char *detail,
                        size_t cap)
{
    CK_RV rv;
    detail[0] = '\0';
    if (code == GRPC_STATUS_OK)
        return CKR_OK;
    if (decode_grep11_error(trailers, &rv, detail, cap) && rv != CKR_OK)
        return rv;
    return g11c_code_to_rv(code, detail, cap);
}

CK_RV g11c_code_to_rv(grpc_status_code code, char *detail, size_t cap)
{
    switch (code) {
    case GRPC_STATUS_OK:
        return CKR_OK;
    case GRPC_STATUS_UNIMPLEMENTED:
        snprintf(detail, cap, "method not implemented by the server");
        return CKR_FUNCTION_NOT_SUPPORTED;
    case GRPC_STATUS_INVALID_ARGUMENT:
        return CKR_ARGUMENTS_BAD;
    case GRPC_STATUS_RESOURCE_EXHAUSTED:
        /* The usual cause is a message over the size limit. */
        return CKR_DATA_LEN_RANGE;
    case GRPC_STATUS_UNAUTHENTICATED:
        return CKR_USER_NOT_LOGGED_IN;
    case GRPC_STATUS_PERMISSION_DENIED:
        return CKR_FUNCTION_FAILED;
    default:
        /* Network or server loss (UNAVAILABLE, DEADLINE_EXCEEDED, ...). */
        return CKR_DEVICE_ERROR;
    }
}
