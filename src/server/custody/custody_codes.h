/* grep11's CK_RV extensions for master-key custody (CKR_VENDOR_DEFINED_GREP11
 * + 0x110..0x11f; include/grep11/ck_ext.h owns 0x100..0x10f). */
#ifndef GREP11_CUSTODY_CODES_H
#define GREP11_CUSTODY_CODES_H

#include <p11-kit/pkcs11.h>

#include "grep11/ck_ext.h"

/* The instance has no usable master key yet: key owners must unlock it.
 * Answered with gRPC UNAVAILABLE and Retry=true. */
#define CKR_GREP11_LOCKED (CKR_VENDOR_DEFINED_GREP11 + 0x110UL)
/* A signed command for another epoch, or with an unknown, used or expired
 * nonce: prepare it again. */
#define CKR_GREP11_STALE_COMMAND (CKR_VENDOR_DEFINED_GREP11 + 0x111UL)
/* Missing, duplicate, foreign or bad signatures, or fewer than the
 * threshold. */
#define CKR_GREP11_SIGNATURES (CKR_VENDOR_DEFINED_GREP11 + 0x112UL)
/* A command made for another instance. */
#define CKR_GREP11_FOREIGN_INSTANCE (CKR_VENDOR_DEFINED_GREP11 + 0x113UL)
/* The command does not fit the instance's state (e.g. activate with no
 * committed key). */
#define CKR_GREP11_CUSTODY_STATE (CKR_VENDOR_DEFINED_GREP11 + 0x114UL)

#endif
