/* Functions of engine.h whose mechanisms are not implemented yet. They say
 * so honestly (CKR_MECHANISM_INVALID: no such row in the table); none
 * pretends to work. */
#include "internal.h"
#include "mech.h"

CK_RV engine_generate_key_pair(engine *e, const engine_mech *m, const CK_ATTRIBUTE *pub_tmpl,
                               CK_ULONG npub, const CK_ATTRIBUTE *priv_tmpl, CK_ULONG npriv,
                               engine_buf *priv_blob, engine_buf *pub_key) {
  (void)e, (void)pub_tmpl, (void)npub, (void)priv_tmpl, (void)npriv, (void)priv_blob, (void)pub_key;
  /* No key-pair mechanism is in the table yet (engine II). */
  if (m == NULL)
    return CKR_ARGUMENTS_BAD;
  return CKR_MECHANISM_INVALID;
}
