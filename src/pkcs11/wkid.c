/* CKA_GREP11_WKID: the WKID of the master key a key's blob is sealed (or
 * its SPKI MACed) under. The engine answers no such attribute, and a blob
 * carries it in clear in a documented place (src/engine/README.md "Blob
 * format v1", "Public keys"), so it is read here from the bytes the module
 * holds, every check bounded by the length. Never cached or stored: a
 * rewrapped blob has another. */
#include <string.h>

#include "internal.h"

#define WKID_LEN 16
/* Key blob: "GR11" | version 1 | type 1 (key) | flags u16 | WKID. */
#define BLOB_HEAD 8
/* After a public key's SPKI: "GRPK" | version 1 | flags 0 | WKID. */
#define TRAILER_HEAD 6

/* The length of the DER TLV at p (0: not one, or longer than len). */
static size_t der_len(const uint8_t *p, size_t len)
{
    if (len < 2)
        return 0;
    size_t n = p[1], head = 2;
    if (n & 0x80) {
        size_t k = n & 0x7f;
        if (k == 0 || k > 4 || len < 2 + k)
            return 0;
        n = 0;
        for (size_t i = 0; i < k; i++)
            n = (n << 8) | p[2 + i];
        head += k;
    }
    return n <= len - head ? head + n : 0;
}

static int from_key_blob(const uint8_t *b, size_t len, uint8_t out[WKID_LEN])
{
    if (len < BLOB_HEAD + WKID_LEN || memcmp(b, "GR11", 4) != 0 || b[4] != 1 || b[5] != 1 ||
        b[6] != 0 || b[7] != 0)
        return 0;
    memcpy(out, b + BLOB_HEAD, WKID_LEN);
    return 1;
}

static int from_maced_spki(const uint8_t *b, size_t len, uint8_t out[WKID_LEN])
{
    if (len < 2 || b[0] != 0x30)
        return 0;
    size_t spki = der_len(b, len);
    if (spki == 0 || len - spki < TRAILER_HEAD + WKID_LEN)
        return 0; /* a plain SPKI: sealed under nothing */
    const uint8_t *tr = b + spki;
    if (memcmp(tr, "GRPK", 4) != 0 || tr[4] != 1 || tr[5] != 0)
        return 0;
    memcpy(out, tr + TRAILER_HEAD, WKID_LEN);
    return 1;
}

CK_RV p11_object_wkid(p11_object *o, uint8_t out[16])
{
    p11_mutex_lock(o->lock);
    int ok = o->blob.ptr && (from_key_blob(o->blob.ptr, o->blob.len, out) ||
                             from_maced_spki(o->blob.ptr, o->blob.len, out));
    p11_mutex_unlock(o->lock);
    return ok ? CKR_OK : CKR_ATTRIBUTE_TYPE_INVALID;
}

CK_RV p11_wkid_attr(p11_object *o, CK_ATTRIBUTE *want)
{
    uint8_t id[WKID_LEN];
    CK_RV rv = p11_object_wkid(o, id);
    if (rv != CKR_OK)
        return rv;
    if (want->pValue && want->ulValueLen < WKID_LEN)
        return CKR_BUFFER_TOO_SMALL;
    if (want->pValue)
        memcpy(want->pValue, id, WKID_LEN);
    want->ulValueLen = WKID_LEN;
    return CKR_OK;
}
