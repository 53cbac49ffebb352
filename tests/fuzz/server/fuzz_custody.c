/* libFuzzer: the signed-command decoder and what a submit does with
 * untrusted bytes before any signature check (decode, re-encode, the state
 * checks and the signature checker against a fixed administrator). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "shamir.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    custody_cmd c;
    if (custody_cmd_decode(data, size, &c) == CKR_OK) {
        /* A decoded command re-encodes to exactly the same bytes. */
        uint8_t *p = NULL;
        size_t n = 0;
        if (custody_cmd_encode(&c, &p, &n) != CKR_OK || n != size || memcmp(p, data, size) != 0)
            abort();
        free(p);
        custody_state s;
        char why[256];
        memset(&s, 0, sizeof(s));
        s.imprinted = 1;
        s.epoch = c.epoch;
        s.threshold = 1;
        memcpy(s.instance, c.instance, 16);
        custody_sig sig = {.len = 64};
        memcpy(sig.keyid, "0000000000000000", 17);
        (void)custody_state_check(&s, &c, data, size, &sig, 1, why, sizeof(why));
        (void)custody_state_apply(&s, &c, data, size, 0, why, sizeof(why));
    }
    shamir_share sh;
    (void)shamir_decode(data, size, &sh);
    return 0;
}
