/* Sign/Verify in every GREP11 flow: the engine.h functions dispatch by
 * mechanism family to the MAC flows (mac.c) or the public-key flows
 * (sig.c). A state blob remembers its mechanism, so Update/Final find their
 * family from the state itself. */
#include "sig.h"

static bool bytes_ok(engine_bytes b)
{
    return b.len == 0 || b.ptr != NULL;
}

/* 0: MAC family, 1: public-key signature, -1: neither. */
static int sign_family(CK_MECHANISM_TYPE type)
{
    const mech_row *r = mech_find(type);
    if (r == NULL)
        return -1;
    if (r->family == MF_HMAC || r->family == MF_CMAC)
        return 0;
    return r->family == MF_SIG ? 1 : -1;
}

static CK_RV sign_init(engine *e, op_kind op, const engine_mech *m, engine_bytes key,
                       engine_buf *state)
{
    int f;
    if (e == NULL || m == NULL || state == NULL)
        return CKR_ARGUMENTS_BAD;
    *state = (engine_buf){NULL, 0};
    f = sign_family(m->type);
    if (f < 0)
        return CKR_MECHANISM_INVALID;
    return f == 0 ? mac_init(e, op, m, key, state) : sig_init(e, op, m, key, state);
}

CK_RV engine_sign_init(engine *e, const engine_mech *m, engine_bytes key_blob, engine_buf *state)
{
    return sign_init(e, OP_SIGN, m, key_blob, state);
}
CK_RV engine_verify_init(engine *e, const engine_mech *m, engine_bytes key_blob, engine_buf *state)
{
    return sign_init(e, OP_VERIFY, m, key_blob, state);
}

/* Opens a sign/verify state and names its family. */
static CK_RV sign_open(engine *e, engine_bytes state, op_kind op, state_in *st, int *fam)
{
    CK_RV rv = state_open(e, state, op, st);
    if (rv != CKR_OK)
        return rv;
    *fam = sign_family(st->mech);
    if (*fam < 0) {
        state_close(st);
        return CKR_SAVED_STATE_INVALID;
    }
    return CKR_OK;
}

static CK_RV sign_update(engine *e, op_kind op, engine_bytes state, engine_bytes data,
                         engine_buf *new_state)
{
    CK_RV rv;
    state_in st;
    int f;
    if (e == NULL || new_state == NULL || !bytes_ok(data))
        return CKR_ARGUMENTS_BAD;
    *new_state = (engine_buf){NULL, 0};
    if ((rv = sign_open(e, state, op, &st, &f)) != CKR_OK)
        return rv;
    rv = f == 0 ? mac_state_update(e, &st, data, new_state) : sig_update(e, &st, data, new_state);
    state_close(&st);
    return rv;
}

CK_RV engine_sign_update(engine *e, engine_bytes state, engine_bytes data, engine_buf *new_state)
{
    return sign_update(e, OP_SIGN, state, data, new_state);
}
CK_RV engine_verify_update(engine *e, engine_bytes state, engine_bytes data, engine_buf *new_state)
{
    return sign_update(e, OP_VERIFY, state, data, new_state);
}

static CK_RV sign_finish(engine *e, engine_bytes state, const engine_bytes *data, engine_buf *sig)
{
    CK_RV rv;
    state_in st;
    int f;
    if (e == NULL || sig == NULL || (data && !bytes_ok(*data)))
        return CKR_ARGUMENTS_BAD;
    *sig = (engine_buf){NULL, 0};
    if ((rv = sign_open(e, state, OP_SIGN, &st, &f)) != CKR_OK)
        return rv;
    rv = f == 0 ? mac_sign_finish(e, &st, data, sig) : sig_sign_finish(e, &st, data, sig);
    state_close(&st);
    return rv;
}

static CK_RV verify_finish(engine *e, engine_bytes state, const engine_bytes *data,
                           engine_bytes sig)
{
    CK_RV rv;
    state_in st;
    int f;
    if (e == NULL || (data && !bytes_ok(*data)) || !bytes_ok(sig))
        return CKR_ARGUMENTS_BAD;
    if ((rv = sign_open(e, state, OP_VERIFY, &st, &f)) != CKR_OK)
        return rv;
    rv = f == 0 ? mac_verify_finish(e, &st, data, sig) : sig_verify_finish(e, &st, data, sig);
    state_close(&st);
    return rv;
}

CK_RV engine_sign_final(engine *e, engine_bytes state, engine_buf *sig)
{
    return sign_finish(e, state, NULL, sig);
}
CK_RV engine_sign(engine *e, engine_bytes state, engine_bytes data, engine_buf *sig)
{
    return sign_finish(e, state, &data, sig);
}
CK_RV engine_verify_final(engine *e, engine_bytes state, engine_bytes sig)
{
    return verify_finish(e, state, NULL, sig);
}
CK_RV engine_verify(engine *e, engine_bytes state, engine_bytes data, engine_bytes sig)
{
    return verify_finish(e, state, &data, sig);
}

CK_RV engine_sign_single(engine *e, engine_bytes key_blob, const engine_mech *m, engine_bytes data,
                         engine_buf *sig)
{
    int f;
    if (e == NULL || m == NULL || sig == NULL || !bytes_ok(data))
        return CKR_ARGUMENTS_BAD;
    *sig = (engine_buf){NULL, 0};
    f = sign_family(m->type);
    if (f < 0)
        return CKR_MECHANISM_INVALID;
    return f == 0 ? mac_sign_single(e, key_blob, m, data, sig)
                  : sig_sign_single(e, key_blob, m, data, sig);
}

CK_RV engine_verify_single(engine *e, engine_bytes key_blob, const engine_mech *m,
                           engine_bytes data, engine_bytes sig)
{
    int f;
    if (e == NULL || m == NULL || !bytes_ok(data) || !bytes_ok(sig))
        return CKR_ARGUMENTS_BAD;
    f = sign_family(m->type);
    if (f < 0)
        return CKR_MECHANISM_INVALID;
    return f == 0 ? mac_verify_single(e, key_blob, m, data, sig)
                  : sig_verify_single(e, key_blob, m, data, sig);
}
