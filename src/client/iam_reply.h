/* What an IAM token endpoint's answer means (iam_token.c): the HTTP status
 * as a CK_RV, and on 200 the token and its expiry from the JSON body.
 * Separate from the socket code so that the fuzzer and the unit tests can
 * feed it bytes. */
#ifndef G11C_IAM_REPLY_H
#define G11C_IAM_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "grep11_client.h"

/* Maps the whole response in[0..len) (clean_eof as for g11c_http_reply_parse):
 *   200            CKR_OK with access_token in token (NUL-terminated) and
 *                  *expires_at = "expiration" when present, else now +
 *                  "expires_in"; a body without them: CKR_DEVICE_ERROR
 *   400, 401       CKR_IBM_GREP11_NOT_AUTHENTICATED (grep11.Auth/Token's
 *                  code for a refused API key)
 *   403            CKR_GREP11_PERMISSION_DENIED
 *   429            CKR_GREP11_RATE_LIMITED
 *   anything else, a malformed response included: CKR_DEVICE_ERROR.
 * detail gets a printable reason (the status and the server's errorCode
 * and errorMessage; never the token). Buffers that held the body are
 * wiped. */
CK_RV g11c_iam_reply(const uint8_t *in, size_t len, int clean_eof, int64_t now, char *token,
                     size_t cap, int64_t *expires_at, char *detail, size_t dcap);

#endif
