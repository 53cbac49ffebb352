/* Feeds arbitrary bytes to libgrep11's decoder of a server's
 * grep11.BatchResponse: the first byte says how many calls the batch had. */
#include <grpc/grpc.h>
#include <stdint.h>
#include <string.h>

#include "batch.h"
#include "grep11/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n = 1 + data[0] % GREP11_BATCH_MAX_CALLS;
    batch_result res[GREP11_BATCH_MAX_CALLS];
    if (batch_reply_decode(data + 1, size - 1, n, res) == CKR_OK)
        for (size_t i = 0; i < n; i++)
            grpc_slice_unref(res[i].reply);
    return 0;
}
