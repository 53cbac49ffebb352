/* Feeds arbitrary bytes to libgrep11's reading of an IAM token endpoint's
 * answer: the HTTP/1.1 response parser (status line, fields, Content-Length
 * and chunked framing) and, on 200, the JSON token body. The first byte
 * says whether the stream ended with a proper close. */
#include <stdint.h>
#include <string.h>

#include "http_reply.h"
#include "iam_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char token[4096], detail[256];
    int64_t exp = 0;
    if (size == 0)
        return 0;
    int clean = data[0] & 1;
    CK_RV rv = g11c_iam_reply(data + 1, size - 1, clean, 1700000000, token, sizeof(token), &exp,
                              detail, sizeof(detail));
    /* A token is handed out only whole and printable. */
    if (rv == CKR_OK && (!token[0] || strlen(token) >= sizeof(token)))
        __builtin_trap();
    if (strlen(detail) >= sizeof(detail))
        __builtin_trap();
    return 0;
}
