/* grep11's CK_RV extensions for master-key custody (CKR_VENDOR_DEFINED_GREP11
 * + 0x110..0x11f). */
#ifndef GREP11_CUSTODY_CODES_H
#define GREP11_CUSTODY_CODES_H

#include <p11-kit/pkcs11.h>

#include "grep11/ck_ext.h"

/* The codes themselves live in include/grep11/ck_ext.h (0x110..0x114), so
 * that clients and the module name them too:
 *   CKR_GREP11_LOCKED            no usable master key yet: unlock (gRPC
 *                                UNAVAILABLE, Retry=true)
 *   CKR_GREP11_STALE_COMMAND     another epoch, or an unknown, used or expired
 *                                nonce: prepare the command again
 *   CKR_GREP11_SIGNATURES        missing, duplicate, foreign or bad
 *                                signatures, or fewer than the threshold
 *   CKR_GREP11_FOREIGN_INSTANCE  a command made for another instance
 *   CKR_GREP11_CUSTODY_STATE     the command does not fit the state */

#endif
