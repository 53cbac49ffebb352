/* The one place where a CK_RV becomes a gRPC status: the status code, and the
 * grpc-status-details-bin trailer holding a google.rpc.Status with one Any of
 * type grep11.Grep11Error {Code, Detail, Retry}, exactly as GREP11 clients
 * decode it. */
#ifndef GREP11_SERVER_STATUS_H
#define GREP11_SERVER_STATUS_H

#include <grpc/status.h>
#include <p11-kit/pkcs11.h>
#include <stddef.h>
#include <stdint.h>

#include "grep11/wire.h"

grpc_status_code status_code_for_rv(CK_RV rv);

/* Whether a client may retry the same call unchanged. */
int status_rv_retryable(CK_RV rv);

/* Serialises google.rpc.Status{code, detail, [Any(Grep11Error{rv, detail,
 * retry})]} into a fresh buffer (free()). 0 on success. */
int status_encode_details(grpc_status_code code, CK_RV rv, const char *detail, uint8_t **out,
                          size_t *out_len);

/* Name of a CK_RV for logs ("CKR_ARGUMENTS_BAD"), or NULL if unknown. */
const char *status_rv_name(CK_RV rv);

#endif
