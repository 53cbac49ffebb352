/* Feeds arbitrary bytes to the request decoders and handlers of
 * grep11.Crypto, grep11.Store, grep11.Auth and grep11.Batch (whose calls
 * reach grep11.Crypto again), through the same rpc_invoke
 * path the transport uses: protobuf decoding, mechanism/template/KeyBlob
 * conversion, the engine's blob parsing and the keystore (SQLite in a temp
 * directory, authentication off so that decoders are reached). The first
 * byte picks the method. grep11.Admin is left out: each key creation costs
 * a deliberate 50 ms scrypt. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "rpc.h"
#include "services.h"

static engine *fuzz_engine;
static services *fuzz_services;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    uint8_t wk[32];
    memset(wk, 0x42, sizeof(wk));
    if (engine_create(wk, NULL, &fuzz_engine) != CKR_OK)
        abort();
    char dir[] = "/tmp/grep11-fuzz-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    server_config cfg;
    char err[256];
    config_defaults(&cfg);
    free(cfg.data_dir);
    cfg.data_dir = strdup(dir);
    cfg.auth_enabled = 0;
    if (services_open(&cfg, fuzz_engine, &fuzz_services, err, sizeof(err)) != CKR_OK)
        abort();
    config_free(&cfg);
    return 0;
}

/* NULL: grep11.Batch. */
static const rpc_method *pick(uint8_t b)
{
    size_t total = crypto_method_count + store_method_count + auth_method_count + 1;
    size_t i = b % total;
    if (i == total - 1)
        return NULL;
    if (i < crypto_method_count)
        return &crypto_methods[i];
    i -= crypto_method_count;
    if (i < store_method_count)
        return &store_methods[i];
    return &auth_methods[i - store_method_count];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const rpc_method *m = pick(data[0]);
    rpc_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.eng = fuzz_engine;
    ctx.svc = fuzz_services;
    ctx.peer = "ipv4:127.0.0.1:1";
    ctx.method = m ? m : &batch_method;
    if (m)
        (void)rpc_invoke(&ctx, m, data + 1, size - 1);
    else
        (void)rpc_invoke_batch(&ctx, data + 1, size - 1, NULL, NULL);
    rpc_ctx_release(&ctx);
    return 0;
}
