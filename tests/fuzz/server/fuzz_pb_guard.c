/* Feeds arbitrary bytes to pb_guard_check as each request type grep11d
 * serves (the first byte picks it), and decodes what the guard lets
 * through with protobuf-c: the guard must never read out of bounds, and
 * what it passes must decode within the budget it promised. */
#include <stdint.h>
#include <stdlib.h>

#include "grep11/pb_guard.h"
#include "rpc.h"

typedef struct {
    size_t used, budget;
} counting;

static void *count_alloc(void *arg, size_t size)
{
    counting *c = arg;
    c->used += size;
    if (c->used > c->budget)
        abort(); /* the guard under-estimated what decoding costs */
    return malloc(size);
}

static void count_free(void *arg, void *p)
{
    (void)arg;
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const rpc_method *tables[] = {crypto_methods, store_methods, admin_methods, auth_methods,
                                  health_methods};
    const size_t counts[] = {crypto_method_count, store_method_count, admin_method_count,
                             auth_method_count, health_method_count};
    size_t total = 0, pick = data[0];
    for (size_t t = 0; t < 5; t++)
        total += counts[t];
    pick %= total + 1;
    const ProtobufCMessageDescriptor *d = batch_method.request;
    for (size_t t = 0; t < 5 && pick < total; t++) {
        if (pick < counts[t]) {
            d = tables[t][pick].request;
            break;
        }
        pick -= counts[t];
    }
    const uint8_t *msg = data + 1;
    size_t len = size - 1;
    pb_guard_limits lim = {256, 64, 16, 2 * len + 256 * 1024};
    if (pb_guard_check(d, msg, len, &lim) != PB_GUARD_OK)
        return 0;
    /* protobuf-c's own scan records add a bounded amount on top. */
    counting c = {0, lim.max_alloc + 64 * 1024};
    ProtobufCAllocator a = {count_alloc, count_free, &c};
    ProtobufCMessage *m = protobuf_c_message_unpack(d, &a, len, msg);
    if (m)
        protobuf_c_message_free_unpacked(m, &a);
    return 0;
}
