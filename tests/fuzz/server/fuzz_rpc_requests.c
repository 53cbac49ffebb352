/* Feeds arbitrary bytes to every grep11.Crypto request decoder and handler,
 * through the same rpc_invoke path the transport uses: protobuf decoding,
 * mechanism/template/KeyBlob conversion and the engine's blob parsing. The
 * first byte picks the method. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "rpc.h"

static engine *fuzz_engine;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    uint8_t wk[32];
    memset(wk, 0x42, sizeof(wk));
    if (engine_create(wk, NULL, &fuzz_engine) != CKR_OK)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const rpc_method *m = &crypto_methods[data[0] % crypto_method_count];
    rpc_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.eng = fuzz_engine;
    ctx.method = m;
    (void)rpc_invoke(&ctx, m, data + 1, size - 1);
    rpc_ctx_release(&ctx);
    return 0;
}
