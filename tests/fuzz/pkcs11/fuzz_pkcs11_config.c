/* libFuzzer: bytes as a grep11client.yaml document through the in-memory
 * loader. Any input must parse or fail cleanly, without leaks. */
#include <stddef.h>
#include <stdint.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    p11_config cfg;
    char err[256];
    if (p11_config_parse(data, size, &cfg, err, sizeof(err)) == CKR_OK)
        p11_config_free(&cfg);
    return 0;
}
