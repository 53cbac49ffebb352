/* CKM_IBM_ATTRIBUTEBOUND_WRAP (wrap_attrbound.c), called by wrap.c. */
#ifndef GREP11_ENGINE_WRAP_ATTRBOUND_H
#define GREP11_ENGINE_WRAP_ATTRBOUND_H

#include "buf.h"
#include "keyobj.h"

/* Appends the wrapped form of the attribute-bound secret key to out. */
CK_RV abw_wrap(engine *e, engine_bytes key_blob, engine_bytes kek_blob, engine_bytes mac_blob,
               wbuf *out);
/* The key back, with the attributes it was wrapped with. */
CK_RV abw_unwrap(engine *e, engine_bytes wrapped, engine_bytes kek_blob, engine_bytes mac_blob,
                 const CK_ATTRIBUTE *t, CK_ULONG n, engine_buf *key_blob, engine_buf *checksum);

#endif
