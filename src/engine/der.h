/* Minimal DER for the shapes the engine reads and writes: SPKIs, EC point
 * OCTET STRINGs, OIDs, INTEGERs, RSA public keys, PKCS #8. Readers are
 * bounded windows (like rbuf); writers append to a capped wbuf. Only
 * definite, minimal lengths are accepted. */
#ifndef GREP11_ENGINE_DER_H
#define GREP11_ENGINE_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum {
    DER_INTEGER = 0x02,
    DER_BIT_STRING = 0x03,
    DER_OCTET_STRING = 0x04,
    DER_NULL = 0x05,
    DER_OID = 0x06,
    DER_PRINTABLE = 0x13,
    DER_SEQUENCE = 0x30,
};

typedef struct {
    const uint8_t *p;
    size_t len;
} der_span;

/* Reads one element of the expected tag from *in (advancing it); the
 * content goes to out, the whole TLV to whole (either may be NULL). */
bool der_get(der_span *in, uint8_t tag, der_span *out, der_span *whole);
/* Length of the first complete TLV in p (0 if not one). */
size_t der_tlv_len(const uint8_t *p, size_t len);
/* Non-negative INTEGER content without its sign byte (leading zeros
 * stripped); false for a negative or non-minimal one. */
bool der_uint(const der_span *content, der_span *mag);

void der_put_hdr(wbuf *w, uint8_t tag, size_t len);
void der_put(wbuf *w, uint8_t tag, const uint8_t *p, size_t len);
/* INTEGER from an unsigned big-endian magnitude. */
void der_put_uint(wbuf *w, const uint8_t *mag, size_t len);
/* Size of a TLV whose content is len bytes. */
size_t der_size(size_t len);
size_t der_uint_size(const uint8_t *mag, size_t len);

#endif
