/* Token objects (CKA_TOKEN=TRUE) live in the token's keystores on the
 * server (DESIGN §5): the private keystore of the normal user and the public
 * one. That needs the grep11.Store service, which grep11d does not serve
 * yet. Until it does, this is the one unfinished part of the module: every
 * token-object request answers CKR_FUNCTION_NOT_SUPPORTED, and searches
 * find no token objects. */
#include "internal.h"

CK_RV p11_tokstore_create(p11_state *st, p11_session *s, const CK_ATTRIBUTE *t, CK_ULONG n)
{
    (void)st, (void)s, (void)t, (void)n;
    P11_INFO("token objects wait for the grep11.Store keystore service: use CKA_TOKEN=FALSE");
    return CKR_FUNCTION_NOT_SUPPORTED;
}
