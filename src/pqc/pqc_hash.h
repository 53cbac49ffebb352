/* Internal: the DER OID of each HashML-DSA pre-hash function. */
#ifndef GREP11_PQC_HASH_H
#define GREP11_PQC_HASH_H

#include "pqc.h"

#define PQC_HASH_OID_BYTES 11

/* NULL for an unknown id. */
const uint8_t *pqc_hash_oid(pqc_hash ph);

#endif
