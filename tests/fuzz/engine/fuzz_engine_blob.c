/* Fuzzes blob unsealing and the parsers behind the AEAD. The first byte
 * picks a target: the public functions on arbitrary blobs (must fail
 * cleanly), a valid blob with fuzzer-chosen bit flips (must fail), or the
 * inner decoders that only ever see authenticated bytes (attributes, hash
 * and cipher states) fed raw, to prove they are bounded anyway. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "engine.h"
#include "hash.h"
#include "keyobj.h"
#include "sym.h"

static engine *g_e;
static engine_buf g_key, g_state;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const uint8_t wk[32] = {9};
    static const uint8_t kv[16] = {1, 2, 3};
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_ATTRIBUTE t[3] = {{CKA_CLASS, &cls, sizeof(cls)},
                         {CKA_KEY_TYPE, &kt, sizeof(kt)},
                         {CKA_VALUE, (void *)kv, 16}};
    engine_buf cs = {0};
    engine_mech m = {.type = CKM_SHA256};
    (void)argc, (void)argv;
    if (engine_create(wk, NULL, &g_e) != CKR_OK ||
        engine_import_secret_key(g_e, t, 3, &g_key, &cs) != CKR_OK ||
        engine_digest_init(g_e, &m, &g_state) != CKR_OK)
        abort();
    engine_buf_free(&cs);
    return 0;
}

static void public_calls(const uint8_t *p, size_t n)
{
    engine_bytes b = {p, n};
    engine_buf o = {0}, o2 = {0};
    CK_ATTRIBUTE_TYPE ty[2] = {CKA_CLASS, CKA_VALUE};
    CK_ATTRIBUTE *attrs = NULL;
    CK_ULONG na = 0;
    engine_mech ecb = {.type = CKM_AES_ECB};
    uint8_t blk[16] = {0};
    if (engine_get_attribute_value(g_e, b, ty, 2, &attrs, &na) == CKR_OK)
        abort(); /* nothing but our own seal can pass */
    engine_attrs_free(attrs, na);
    if (engine_encrypt_single(g_e, b, &ecb, (engine_bytes){blk, 16}, &o) == CKR_OK)
        abort();
    engine_digest_update(g_e, b, (engine_bytes){blk, 16}, &o);
    engine_buf_free(&o);
    engine_encrypt_update(g_e, b, (engine_bytes){blk, 16}, &o, &o2);
    engine_buf_free(&o);
    engine_buf_free(&o2);
    engine_verify_final(g_e, b, (engine_bytes){blk, 16});
    engine_rewrap_key_blob(g_e, b, &o);
    engine_buf_free(&o);
}

static void flipped(const engine_buf *valid, const uint8_t *p, size_t n, int is_key)
{
    uint8_t *c = malloc(valid->len);
    engine_buf o = {0};
    memcpy(c, valid->ptr, valid->len);
    for (size_t i = 0; i + 1 < n; i += 2)
        c[p[i] % valid->len] ^= (uint8_t)(p[i + 1] | 1);
    /* flips may cancel out; only a changed blob must be refused */
    if (n >= 2 && memcmp(c, valid->ptr, valid->len) != 0) {
        if (is_key) {
            CK_ATTRIBUTE_TYPE ty = CKA_CLASS;
            CK_ATTRIBUTE *a = NULL;
            CK_ULONG na = 0;
            if (engine_get_attribute_value(g_e, (engine_bytes){c, valid->len}, &ty, 1, &a, &na) ==
                CKR_OK)
                abort();
            engine_attrs_free(a, na);
        } else if (engine_digest_final(g_e, (engine_bytes){c, valid->len}, &o) == CKR_OK) {
            abort();
        }
    }
    engine_buf_free(&o);
    free(c);
}

static void inner(const uint8_t *p, size_t n, int which)
{
    rbuf r;
    rbuf_init(&r, p, n);
    if (which == 0) {
        key_obj k;
        memset(&k, 0, sizeof(k));
        key_attrs_decode(p, n, &k);
    } else if (which == 1) {
        hash_ctx h;
        if (hash_load(&h, &r)) {
            uint8_t out[HASH_MAX_LEN];
            hash_update(&h, p, n);
            hash_final(&h, out);
        }
    } else {
        sym_ctx c;
        if (sym_load(&c, g_e, &r) == CKR_OK) {
            wbuf w;
            wbuf_init(&w, 1 << 20);
            if (sym_update(&c, p, n, &w) == CKR_OK)
                sym_final(&c, &w);
            wbuf_free(&w);
        }
        sym_wipe(&c);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    switch (data[0] % 6) {
    case 0:
        public_calls(data + 1, size - 1);
        break;
    case 1:
        flipped(&g_key, data + 1, size - 1, 1);
        break;
    case 2:
        flipped(&g_state, data + 1, size - 1, 0);
        break;
    default:
        inner(data + 1, size - 1, data[0] % 6 - 3);
        break;
    }
    return 0;
}
