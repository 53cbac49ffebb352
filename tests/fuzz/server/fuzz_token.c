/* Feeds arbitrary bytes to the bearer-token verifier, the API-key parser and
 * the base64url decoder: everything an unauthenticated peer controls. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key_bytes[32] = {7};
    static auth_token_key *key; /* made once: the fuzzer's loop reuses it */
    if (!key && !(key = auth_token_key_new(key_bytes)))
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    auth_identity id;
    (void)auth_token_verify(key, text, 1000, &id);
    uint8_t kid[AUTH_KEY_ID_LEN], secret[AUTH_SECRET_LEN], out[256];
    (void)auth_apikey_parse(text, kid, secret);
    (void)auth_b64url_decode(text, size, out, sizeof(out));
    free(text);
    return 0;
}
