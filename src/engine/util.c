/* Small helpers for engine_buf ownership and zeroizing frees. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "internal.h"

void engine_freezero(void *p, size_t len)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, len);
    free(p);
}

void engine_buf_free(engine_buf *b)
{
    if (b == NULL)
        return;
    engine_freezero(b->ptr, b->len);
    b->ptr = NULL;
    b->len = 0;
}

void ebuf_set(engine_buf *b, uint8_t *p, size_t len)
{
    b->ptr = p;
    b->len = len;
}

CK_RV ebuf_alloc(engine_buf *b, size_t len)
{
    /* malloc(0) may return NULL; callers treat NULL as failure, so never ask for 0. */
    uint8_t *p = calloc(1, len ? len : 1);
    if (p == NULL)
        return CKR_HOST_MEMORY;
    ebuf_set(b, p, len);
    return CKR_OK;
}

CK_RV ebuf_copy(engine_buf *b, const uint8_t *src, size_t len)
{
    CK_RV rv = ebuf_alloc(b, len);
    if (rv == CKR_OK && len > 0)
        memcpy(b->ptr, src, len);
    return rv;
}
