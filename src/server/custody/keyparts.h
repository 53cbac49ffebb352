/* A register being assembled from key parts (XOR) or Shamir shares, in
 * memory only. Used for the new register (signed loads) and for unlocking. */
#ifndef GREP11_CUSTODY_KEYPARTS_H
#define GREP11_CUSTODY_KEYPARTS_H

#include <p11-kit/pkcs11.h>
#include <stdint.h>

#include "shamir.h"

#define KEYPART_LEN 32

typedef struct {
    int shamir;
    unsigned n; /* parts or shares held */
    uint8_t acc[KEYPART_LEN];
    shamir_share shares[SHAMIR_MAX_SHARES];
} keyacc;

void keyacc_clear(keyacc *k);
/* CKR_ARGUMENTS_BAD on a mix of schemes, a second share with the same x or
 * from another set, or too many. */
CK_RV keyacc_add_part(keyacc *k, const uint8_t part[KEYPART_LEN]);
CK_RV keyacc_add_share(keyacc *k, const shamir_share *s);
/* The key so far (XOR of the parts, or the shares' secret once m are held).
 * 0 when there is one; out is wiped otherwise. */
int keyacc_key(const keyacc *k, uint8_t out[KEYPART_LEN]);
/* Verification pattern of the key so far, or "" when none. */
void keyacc_vp(const keyacc *k, char out[17]);

#endif
