/* Pre-hash functions for HashML-DSA and the library's error strings.
 *
 * SHA-2 comes from libcrypto as a one-shot: nothing of an EVP context
 * survives the call, so no unserializable state leaks into the API. The
 * SHA-3/SHAKE family uses our own sponge so the engine can stream it. */
#include <openssl/evp.h>

#include "pqc_common.h"
#include "pqc_hash.h"

/* DER of each OID (tag 06, length 09, 2.16.840.1.101.3.4.2.x): FIPS 204
 * puts the full encoding, not just the arc, into M'. */
#define NIST_HASH_OID(last)                                                                        \
    {                                                                                              \
        0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, last                           \
    }

static const struct {
    pqc_hash id;
    uint8_t digest_bytes;
    const char *evp_name; /* NULL: computed with our Keccak */
    uint8_t oid[PQC_HASH_OID_BYTES];
} hash_table[] = {
    {PQC_HASH_SHA224, 28, "SHA224", NIST_HASH_OID(0x04)},
    {PQC_HASH_SHA256, 32, "SHA256", NIST_HASH_OID(0x01)},
    {PQC_HASH_SHA384, 48, "SHA384", NIST_HASH_OID(0x02)},
    {PQC_HASH_SHA512, 64, "SHA512", NIST_HASH_OID(0x03)},
    {PQC_HASH_SHA512_224, 28, "SHA512-224", NIST_HASH_OID(0x05)},
    {PQC_HASH_SHA512_256, 32, "SHA512-256", NIST_HASH_OID(0x06)},
    {PQC_HASH_SHA3_224, 28, NULL, NIST_HASH_OID(0x07)},
    {PQC_HASH_SHA3_256, 32, NULL, NIST_HASH_OID(0x08)},
    {PQC_HASH_SHA3_384, 48, NULL, NIST_HASH_OID(0x09)},
    {PQC_HASH_SHA3_512, 64, NULL, NIST_HASH_OID(0x0A)},
    {PQC_HASH_SHAKE128, 32, NULL, NIST_HASH_OID(0x0B)},
    {PQC_HASH_SHAKE256, 64, NULL, NIST_HASH_OID(0x0C)},
};

static int hash_index(pqc_hash ph)
{
    for (size_t i = 0; i < sizeof(hash_table) / sizeof(hash_table[0]); i++)
        if (hash_table[i].id == ph)
            return (int)i;
    return -1;
}

size_t pqc_hash_bytes(pqc_hash ph)
{
    int i = hash_index(ph);
    return i < 0 ? 0 : hash_table[i].digest_bytes;
}

const uint8_t *pqc_hash_oid(pqc_hash ph)
{
    int i = hash_index(ph);
    return i < 0 ? NULL : hash_table[i].oid;
}

pqc_rv pqc_prehash(pqc_hash ph, const uint8_t *msg, size_t msglen, uint8_t *digest,
                   size_t digest_cap)
{
    int i = hash_index(ph);
    if (i < 0 || !digest || (!msg && msglen))
        return PQC_ERR_BAD_PARAM;
    size_t dlen = hash_table[i].digest_bytes;
    if (digest_cap < dlen)
        return PQC_ERR_BAD_LENGTH;

    if (hash_table[i].evp_name) {
        unsigned int outlen = 0;
        static const uint8_t empty[1] = {0};
        EVP_MD *md = EVP_MD_fetch(NULL, hash_table[i].evp_name, NULL);
        if (!md)
            return PQC_ERR_INTERNAL;
        int ok = EVP_Digest(msglen ? msg : empty, msglen, digest, &outlen, md, NULL);
        EVP_MD_free(md);
        return (ok == 1 && outlen == dlen) ? PQC_OK : PQC_ERR_INTERNAL;
    }
    switch (ph) {
    case PQC_HASH_SHA3_224:
        sha3_224(digest, msg, msglen);
        break;
    case PQC_HASH_SHA3_256:
        sha3_256(digest, msg, msglen);
        break;
    case PQC_HASH_SHA3_384:
        sha3_384(digest, msg, msglen);
        break;
    case PQC_HASH_SHA3_512:
        sha3_512(digest, msg, msglen);
        break;
    case PQC_HASH_SHAKE128:
        shake128(digest, dlen, msg, msglen);
        break;
    case PQC_HASH_SHAKE256:
        shake256(digest, dlen, msg, msglen);
        break;
    default:
        return PQC_ERR_BAD_PARAM;
    }
    return PQC_OK;
}

const char *pqc_rv_str(pqc_rv rv)
{
    switch (rv) {
    case PQC_OK:
        return "ok";
    case PQC_ERR_BAD_PARAM:
        return "bad parameter";
    case PQC_ERR_BAD_LENGTH:
        return "bad length";
    case PQC_ERR_BAD_KEY:
        return "malformed key";
    case PQC_ERR_BAD_SIGNATURE:
        return "malformed signature";
    case PQC_ERR_VERIFY_FAILED:
        return "signature verification failed";
    case PQC_ERR_CONTEXT_TOO_LONG:
        return "context string longer than 255 bytes";
    case PQC_ERR_UNSUPPORTED:
        return "parameter set not supported";
    case PQC_ERR_STATE:
        return "streaming context used out of order";
    case PQC_ERR_INTERNAL:
        return "internal digest failure";
    }
    return "unknown error";
}
