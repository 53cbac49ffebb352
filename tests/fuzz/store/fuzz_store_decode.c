/* libFuzzer target for every decoder of bytes the store did not just make
 * itself: an object row's attribute list (as read back from the database),
 * a sealed column of an authenticated keystore, and a client's paging
 * cursor. The first input byte picks the decoder. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "crypt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_attrs(const uint8_t *p, size_t n)
{
    CK_ATTRIBUTE *a = NULL;
    unsigned char *again = NULL;
    size_t again_len = 0;
    CK_ULONG na = 0;

    if (codec_attrs_decode(p, n, &a, &na) != CKR_OK)
        return;
    /* whatever decodes must re-encode to the same bytes */
    if (codec_attrs_encode(a, na, &again, &again_len) != CKR_OK || again_len != n ||
        memcmp(again, p, n) != 0)
        abort();
    free(again);
    codec_attrs_free(a, na);
}

static void fuzz_sealed(const uint8_t *p, size_t n)
{
    static const unsigned char key[CRYPT_KEY_LEN] = {1, 2, 3};
    store_uuid ks = {{4}}, obj = {{5}};
    unsigned char *pt = NULL;
    size_t ptlen = 0;

    if (crypt_open(key, CRYPT_FIELD_ATTRS, &ks, &obj, 1, p, n, &pt, &ptlen) == CKR_OK)
        crypt_freezero(pt, ptlen + 1);
}

static void fuzz_cursor(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1), back[STORE_CURSOR_SIZE];
    store_uuid u;
    bool first = false;

    if (s == NULL)
        return;
    memcpy(s, p, n);
    s[n] = '\0';
    if (codec_cursor_decode(s, &u, &first) == CKR_OK && !first) {
        codec_cursor_encode(&u, back);
        if (strcmp(back, s) != 0)
            abort();
    }
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    switch (data[0] % 3) {
    case 0:
        fuzz_attrs(data + 1, size - 1);
        break;
    case 1:
        fuzz_sealed(data + 1, size - 1);
        break;
    default:
        fuzz_cursor(data + 1, size - 1);
        break;
    }
    return 0;
}
