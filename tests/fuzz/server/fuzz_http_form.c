/* Feeds arbitrary bytes to the HTTPS front's form decoder as a request body
 * (what /identity/token reads before anything is authenticated): the names
 * it looks up, into buffers of several sizes, must never be overrun. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"grant_type", "apikey", "", "a"};
    static const size_t caps[] = {1, 2, 16, 512};
    char *form = malloc(size ? size : 1);
    if (!form)
        return 0;
    memcpy(form, data, size);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        for (size_t j = 0; j < sizeof(caps) / sizeof(caps[0]); j++) {
            char *out = malloc(caps[j]);
            if (out && http_form_value(form, size, names[i], out, caps[j]) == 0 &&
                strlen(out) >= caps[j])
                abort();
            free(out);
        }
    free(form);
    return 0;
}
