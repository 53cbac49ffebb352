#ifndef GREP11_RV_NAME_H
#define GREP11_RV_NAME_H

#include <p11-kit/pkcs11.h>

/* "CKR_ARGUMENTS_BAD" for CKR_ARGUMENTS_BAD; NULL for codes it does not know
 * (vendor codes included). */
const char *grep11_rv_name(CK_RV rv);

#endif
