/* Feeds arbitrary bytes to libgrep11's decoder of a server's
 * grpc-status-details-bin trailer (google.rpc.Status -> Grep11Error). */
#include <grpc/grpc.h>
#include <stdint.h>
#include <string.h>

#include "grep11/wire.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    grpc_metadata md;
    grpc_metadata_array arr = {1, 1, &md};
    md.key = grpc_slice_from_static_string(GREP11_STATUS_DETAILS_KEY);
    md.value = grpc_slice_from_copied_buffer((const char *)data, size);
    char detail[256];
    (void)g11c_status_to_rv(GRPC_STATUS_UNKNOWN, &arr, detail, sizeof(detail));
    grpc_slice_unref(md.value);
    return 0;
}
