/* Public-key encryption flows (RSA PKCS #1 v1.5, OAEP, X.509 raw), called
 * by crypt.c. Multi-part input is buffered in the state (at most one
 * modulus length); all work happens at Final. */
#ifndef GREP11_ENGINE_ACRYPT_H
#define GREP11_ENGINE_ACRYPT_H

#include "buf.h"
#include "state.h"

CK_RV acrypt_init(engine *e, op_kind op, const engine_mech *m, engine_bytes key, engine_buf *state);
CK_RV acrypt_update(engine *e, state_in *st, engine_bytes in, engine_buf *new_state,
                    engine_buf *out);
CK_RV acrypt_finish(engine *e, state_in *st, const engine_bytes *data, engine_buf *out);
CK_RV acrypt_single(engine *e, bool enc, engine_bytes key, const engine_mech *m, engine_bytes in,
                    engine_buf *out);

CK_RV rsa_wrap_secret(const engine *e, bool wrap, engine_bytes key, const engine_mech *m,
                      const uint8_t *in, size_t n, wbuf *out, bool *trusted);

#endif
