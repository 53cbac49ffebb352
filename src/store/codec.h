/* Byte formats the store writes and reads back: the attribute list of an
 * object row, and the paging cursor handed to clients. Both decoders take
 * untrusted bytes (a damaged or tampered row; a client's cursor) and are
 * fuzzed (tests/fuzz/store). */
#ifndef GREP11_STORE_CODEC_H
#define GREP11_STORE_CODEC_H

#include <stddef.h>

#include "store.h"

/* "GA" 0x01, u32 count, then per attribute u64 type, u32 length, value
 * (all big-endian). */
CK_RV codec_attrs_encode(const CK_ATTRIBUTE *a, CK_ULONG n, unsigned char **out, size_t *outlen);
/* CKR_IBM_GREP11_DBINTERNAL for anything malformed or over the limits. */
CK_RV codec_attrs_decode(const unsigned char *in, size_t len, CK_ATTRIBUTE **out, CK_ULONG *n);
void codec_attrs_free(CK_ATTRIBUTE *a, CK_ULONG n);

/* "c1" + 32 lower-case hex digits of the last object UUID of a page. */
void codec_cursor_encode(const store_uuid *last, char out[STORE_CURSOR_SIZE]);
/* NULL or "" -> *first = true. Anything but the exact encoding ->
 * CKR_ARGUMENTS_BAD. */
CK_RV codec_cursor_decode(const char *s, store_uuid *last, bool *first);

#endif
