/* Encrypt, decrypt, digest, sign and verify through the server.
 *
 * Init is deferred: C_xInit only checks locally (mechanism offered by the
 * server, key usage flag and key type from the cached bound attributes,
 * mechanism parameters) and remembers the mechanism and the key blob. A
 * single-part call then costs one RPC (the *Single RPC); the first Update
 * or Final of a multi-part operation sends the Init RPC first and keeps the
 * returned state blob in the session.
 *
 * Buffer protocol (§5.2): a NULL output or a too-small buffer computes the
 * result, keeps it (and the state it leads to) with a hash of the input, and
 * answers the length; the next call with the same input hands it out
 * without another RPC, so no data is lost and state never advances twice.
 * Any other error ends the operation. */
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const CK_FLAGS mech_flag[P11_OP_COUNT] = {CKF_ENCRYPT, CKF_DECRYPT, CKF_DIGEST, CKF_SIGN,
                                                 CKF_VERIFY};
static const CK_ATTRIBUTE_TYPE usage_attr[P11_OP_COUNT] = {CKA_ENCRYPT, CKA_DECRYPT, 0, CKA_SIGN,
                                                           CKA_VERIFY};

static g11c_conn *conn_of(p11_state *st, p11_session *s)
{
    return st->slots[s->slot_idx].conn;
}

/* ---- Init ---------------------------------------------------------------------- */

static CK_RV check_key(p11_state *st, p11_object *o, p11_opkind kind, CK_MECHANISM_TYPE mech)
{
    CK_RV rv = CKR_OK;
    if (!o->bound_cached && (rv = p11_object_load_bound(st, o)) != CKR_OK)
        return rv == CKR_OBJECT_HANDLE_INVALID ? CKR_KEY_HANDLE_INVALID : rv;
    p11_mutex_lock(o->lock);
    CK_ULONG cls = p11_attrs_ulong(&o->attrs, CKA_CLASS, o->cls);
    CK_ULONG kt = p11_attrs_ulong(&o->attrs, CKA_KEY_TYPE, CK_UNAVAILABLE_INFORMATION);
    int allowed = p11_attrs_bool(&o->attrs, usage_attr[kind], 0);
    p11_mutex_unlock(o->lock);
    if (cls != CKO_SECRET_KEY && cls != CKO_PRIVATE_KEY && cls != CKO_PUBLIC_KEY)
        return CKR_KEY_HANDLE_INVALID;
    if ((rv = p11_mech_key_check(mech, kind, kt)) != CKR_OK)
        return rv;
    return allowed ? CKR_OK : CKR_KEY_FUNCTION_NOT_PERMITTED;
}

static CK_RV op_init(CK_SESSION_HANDLE h, p11_opkind kind, const CK_MECHANISM *m,
                     CK_OBJECT_HANDLE key)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    p11_object *o = NULL;
    if (!m)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    p11_op *op = &s->ops[kind];
    if (op->active) {
        p11_session_put(st, s);
        return CKR_OPERATION_ACTIVE; /* the active one goes on */
    }
    if ((rv = p11_slot_mech_check(&st->slots[s->slot_idx], m->mechanism, mech_flag[kind])) !=
        CKR_OK)
        goto out;
    if (kind != P11_OP_DIGEST) {
        if ((rv = p11_object_get(st, s, key, &o)) != CKR_OK) {
            rv = CKR_KEY_HANDLE_INVALID;
            goto out;
        }
        if ((rv = check_key(st, o, kind, m->mechanism)) != CKR_OK ||
            (rv = p11_object_mech_allowed(o, m->mechanism)) != CKR_OK)
            goto out;
    }
    if ((rv = p11_mech_from_ck(m, &op->mech)) != CKR_OK)
        goto out;
    if (o && (rv = p11_object_key_arg(st, o, &op->key)) != CKR_OK) {
        rv = CKR_KEY_HANDLE_INVALID;
        goto out;
    }
    op->ctx_need = o && p11_ctxauth_needed(o, kind); /* CKA_ALWAYS_AUTHENTICATE */
    op->active = 1;
out:
    if (rv != CKR_OK)
        p11_op_clear(op);
    p11_object_put(st, o);
    p11_session_put(st, s);
    return rv;
}

/* ---- pending results --------------------------------------------------------------- */

static void hash_input(const CK_BYTE *in, CK_ULONG len, uint8_t out[32])
{
    static const CK_BYTE none[1] = {0};
    SHA256(in ? in : none, len, out);
}

static void pend_clear(p11_op *op)
{
    g11c_buf_free(&op->pend_out);
    g11c_buf_free(&op->pend_state);
    op->pend = P11_PEND_NONE;
}

/* Takes a kept result for this call and input, if there is one. */
static int pend_take(p11_op *op, int kind, const uint8_t hash[32], g11c_buf *res, g11c_buf *ns)
{
    if (op->pend != kind || memcmp(op->pend_hash, hash, 32) != 0) {
        pend_clear(op);
        return 0;
    }
    *res = op->pend_out;
    *ns = op->pend_state;
    memset(&op->pend_out, 0, sizeof(op->pend_out));
    memset(&op->pend_state, 0, sizeof(op->pend_state));
    op->pend = P11_PEND_NONE;
    return 1;
}

/* Hands res to the caller, or keeps it (and ns) for the next call. Takes
 * ownership of res and ns. *done: the output went out. */
static CK_RV deliver(p11_op *op, int kind, const uint8_t hash[32], g11c_buf *res, g11c_buf *ns,
                     CK_BYTE *out, CK_ULONG *out_len, int *done)
{
    *done = 0;
    if (!out || *out_len < res->len) {
        CK_RV rv = out ? CKR_BUFFER_TOO_SMALL : CKR_OK;
        *out_len = res->len;
        op->pend = kind;
        memcpy(op->pend_hash, hash, 32);
        op->pend_out = *res;
        op->pend_state = *ns;
        memset(res, 0, sizeof(*res));
        memset(ns, 0, sizeof(*ns));
        return rv;
    }
    if (res->len)
        memcpy(out, res->ptr, res->len);
    *out_len = res->len;
    if (ns->ptr) {
        g11c_buf_free(&op->state);
        op->state = *ns;
        memset(ns, 0, sizeof(*ns));
    }
    g11c_buf_free(res);
    *done = 1;
    return CKR_OK;
}

/* ---- running operations ---------------------------------------------------------------- */

static CK_RV begin(CK_SESSION_HANDLE h, p11_opkind kind, p11_state **st, p11_session **s,
                   p11_op **op)
{
    *st = p11_state_get();
    if (!*st)
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    CK_RV rv = p11_session_get(*st, h, s);
    if (rv != CKR_OK)
        return rv;
    *op = &(*s)->ops[kind];
    if (!(*op)->active) {
        p11_session_put(*st, *s);
        return CKR_OPERATION_NOT_INITIALIZED;
    }
    if ((*op)->ctx_need && !(*op)->ctx_done) { /* no C_Login(CKU_CONTEXT_SPECIFIC) yet */
        p11_op_clear(*op);
        p11_session_put(*st, *s);
        return CKR_USER_NOT_LOGGED_IN;
    }
    return CKR_OK;
}

/* Ends the operation unless the result is waiting for a bigger buffer. */
static CK_RV finish(p11_state *st, p11_session *s, p11_op *op, CK_RV rv, int keep)
{
    if (!keep)
        p11_op_clear(op);
    p11_session_put(st, s);
    return rv;
}

static CK_RV start_multi(p11_state *st, p11_session *s, p11_opkind kind, p11_op *op)
{
    g11c_conn *c = conn_of(st, s);
    g11c_bytes key = g11c_bytes_of(&op->key);
    if (op->started)
        return CKR_OK;
    CK_RV rv;
    switch (kind) {
    case P11_OP_ENCRYPT:
        rv = g11c_encrypt_init(c, &op->mech.m, key, &op->state);
        break;
    case P11_OP_DECRYPT:
        rv = g11c_decrypt_init(c, &op->mech.m, key, &op->state);
        break;
    case P11_OP_DIGEST:
        rv = g11c_digest_init(c, &op->mech.m, &op->state);
        break;
    case P11_OP_SIGN:
        rv = g11c_sign_init(c, &op->mech.m, key, &op->state);
        break;
    default:
        rv = g11c_verify_init(c, &op->mech.m, key, &op->state);
        break;
    }
    op->started = rv == CKR_OK;
    return rv;
}

static CK_RV single_rpc(p11_state *st, p11_session *s, p11_opkind kind, p11_op *op, g11c_bytes in,
                        g11c_buf *res)
{
    g11c_conn *c = conn_of(st, s);
    g11c_bytes key = g11c_bytes_of(&op->key);
    switch (kind) {
    case P11_OP_ENCRYPT:
        return g11c_encrypt_single(c, key, &op->mech.m, in, res);
    case P11_OP_DECRYPT:
        return g11c_decrypt_single(c, key, &op->mech.m, in, res);
    case P11_OP_DIGEST:
        return g11c_digest_single(c, &op->mech.m, in, res);
    default:
        return g11c_sign_single(c, key, &op->mech.m, in, res);
    }
}

/* C_Encrypt, C_Decrypt, C_Digest, C_Sign. */
static CK_RV run_single(CK_SESSION_HANDLE h, p11_opkind kind, const CK_BYTE *in, CK_ULONG in_len,
                        CK_BYTE *out, CK_ULONG *out_len)
{
    p11_state *st;
    p11_session *s;
    p11_op *op;
    g11c_buf res = {0}, ns = {0};
    uint8_t hash[32];
    int done = 0;
    CK_RV rv = begin(h, kind, &st, &s, &op);
    if (rv != CKR_OK)
        return rv;
    if (!out_len || (!in && in_len))
        return finish(st, s, op, CKR_ARGUMENTS_BAD, 0);
    if (op->started) /* single-part after Update: refused, the operation goes on */
        return finish(st, s, op, CKR_OPERATION_ACTIVE, 1);
    hash_input(in, in_len, hash);
    if (!pend_take(op, P11_PEND_SINGLE, hash, &res, &ns) &&
        (rv = single_rpc(st, s, kind, op, p11_bytes(in, in_len), &res)) != CKR_OK)
        return finish(st, s, op, rv, 0);
    rv = deliver(op, P11_PEND_SINGLE, hash, &res, &ns, out, out_len, &done);
    g11c_buf_free(&res);
    g11c_buf_free(&ns);
    return finish(st, s, op, rv, !done);
}

/* C_EncryptUpdate, C_DecryptUpdate. */
static CK_RV run_update_out(CK_SESSION_HANDLE h, p11_opkind kind, const CK_BYTE *in,
                            CK_ULONG in_len, CK_BYTE *out, CK_ULONG *out_len)
{
    p11_state *st;
    p11_session *s;
    p11_op *op;
    g11c_buf res = {0}, ns = {0};
    uint8_t hash[32];
    int done = 0;
    CK_RV rv = begin(h, kind, &st, &s, &op);
    if (rv != CKR_OK)
        return rv;
    if (!out_len || (!in && in_len))
        return finish(st, s, op, CKR_ARGUMENTS_BAD, 0);
    hash_input(in, in_len, hash);
    if (!pend_take(op, P11_PEND_UPDATE, hash, &res, &ns)) {
        if ((rv = start_multi(st, s, kind, op)) != CKR_OK)
            return finish(st, s, op, rv, 0);
        g11c_bytes state = g11c_bytes_of(&op->state), data = p11_bytes(in, in_len);
        rv = kind == P11_OP_ENCRYPT ? g11c_encrypt_update(conn_of(st, s), state, data, &ns, &res)
                                    : g11c_decrypt_update(conn_of(st, s), state, data, &ns, &res);
        if (rv != CKR_OK)
            return finish(st, s, op, rv, 0);
    }
    rv = deliver(op, P11_PEND_UPDATE, hash, &res, &ns, out, out_len, &done);
    g11c_buf_free(&res);
    g11c_buf_free(&ns);
    return finish(st, s, op, rv, 1);
}

/* C_DigestUpdate, C_SignUpdate, C_VerifyUpdate. */
static CK_RV run_update(CK_SESSION_HANDLE h, p11_opkind kind, const CK_BYTE *in, CK_ULONG in_len)
{
    p11_state *st;
    p11_session *s;
    p11_op *op;
    g11c_buf ns = {0};
    CK_RV rv = begin(h, kind, &st, &s, &op);
    if (rv != CKR_OK)
        return rv;
    if (!in && in_len)
        return finish(st, s, op, CKR_ARGUMENTS_BAD, 0);
    if ((rv = start_multi(st, s, kind, op)) != CKR_OK)
        return finish(st, s, op, rv, 0);
    g11c_conn *c = conn_of(st, s);
    g11c_bytes state = g11c_bytes_of(&op->state), data = p11_bytes(in, in_len);
    rv = kind == P11_OP_DIGEST ? g11c_digest_update(c, state, data, &ns)
         : kind == P11_OP_SIGN ? g11c_sign_update(c, state, data, &ns)
                               : g11c_verify_update(c, state, data, &ns);
    if (rv == CKR_OK) {
        g11c_buf_free(&op->state);
        op->state = ns;
    }
    return finish(st, s, op, rv, rv == CKR_OK);
}

/* C_EncryptFinal, C_DecryptFinal, C_DigestFinal, C_SignFinal. */
static CK_RV run_final(CK_SESSION_HANDLE h, p11_opkind kind, CK_BYTE *out, CK_ULONG *out_len)
{
    static const uint8_t nohash[32];
    p11_state *st;
    p11_session *s;
    p11_op *op;
    g11c_buf res = {0}, ns = {0};
    int done = 0;
    CK_RV rv = begin(h, kind, &st, &s, &op);
    if (rv != CKR_OK)
        return rv;
    if (!out_len)
        return finish(st, s, op, CKR_ARGUMENTS_BAD, 0);
    if (!pend_take(op, P11_PEND_FINAL, nohash, &res, &ns)) {
        if ((rv = start_multi(st, s, kind, op)) != CKR_OK)
            return finish(st, s, op, rv, 0);
        g11c_conn *c = conn_of(st, s);
        g11c_bytes state = g11c_bytes_of(&op->state);
        rv = kind == P11_OP_ENCRYPT   ? g11c_encrypt_final(c, state, &res)
             : kind == P11_OP_DECRYPT ? g11c_decrypt_final(c, state, &res)
             : kind == P11_OP_DIGEST  ? g11c_digest_final(c, state, &res)
                                      : g11c_sign_final(c, state, &res);
        if (rv != CKR_OK)
            return finish(st, s, op, rv, 0);
    }
    rv = deliver(op, P11_PEND_FINAL, nohash, &res, &ns, out, out_len, &done);
    g11c_buf_free(&res);
    g11c_buf_free(&ns);
    return finish(st, s, op, rv, !done);
}

/* ---- the entry points --------------------------------------------------------------------- */

CK_RV C_EncryptInit(CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_OBJECT_HANDLE key)
{
    return op_init(h, P11_OP_ENCRYPT, m, key);
}

CK_RV C_Encrypt(CK_SESSION_HANDLE h, CK_BYTE *in, CK_ULONG in_len, CK_BYTE *out, CK_ULONG *out_len)
{
    return run_single(h, P11_OP_ENCRYPT, in, in_len, out, out_len);
}

CK_RV C_EncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE *in, CK_ULONG in_len, CK_BYTE *out,
                      CK_ULONG *out_len)
{
    return run_update_out(h, P11_OP_ENCRYPT, in, in_len, out, out_len);
}

CK_RV C_EncryptFinal(CK_SESSION_HANDLE h, CK_BYTE *out, CK_ULONG *out_len)
{
    return run_final(h, P11_OP_ENCRYPT, out, out_len);
}

CK_RV C_DecryptInit(CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_OBJECT_HANDLE key)
{
    return op_init(h, P11_OP_DECRYPT, m, key);
}

CK_RV C_Decrypt(CK_SESSION_HANDLE h, CK_BYTE *in, CK_ULONG in_len, CK_BYTE *out, CK_ULONG *out_len)
{
    return run_single(h, P11_OP_DECRYPT, in, in_len, out, out_len);
}

CK_RV C_DecryptUpdate(CK_SESSION_HANDLE h, CK_BYTE *in, CK_ULONG in_len, CK_BYTE *out,
                      CK_ULONG *out_len)
{
    return run_update_out(h, P11_OP_DECRYPT, in, in_len, out, out_len);
}

CK_RV C_DecryptFinal(CK_SESSION_HANDLE h, CK_BYTE *out, CK_ULONG *out_len)
{
    return run_final(h, P11_OP_DECRYPT, out, out_len);
}

CK_RV C_DigestInit(CK_SESSION_HANDLE h, CK_MECHANISM *m)
{
    return op_init(h, P11_OP_DIGEST, m, CK_INVALID_HANDLE);
}

CK_RV C_Digest(CK_SESSION_HANDLE h, CK_BYTE *in, CK_ULONG in_len, CK_BYTE *out, CK_ULONG *out_len)
{
    return run_single(h, P11_OP_DIGEST, in, in_len, out, out_len);
}

CK_RV C_DigestUpdate(CK_SESSION_HANDLE h, CK_BYTE *in, CK_ULONG in_len)
{
    return run_update(h, P11_OP_DIGEST, in, in_len);
}

CK_RV C_DigestKey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE key)
{
    p11_state *st;
    p11_session *s;
    p11_op *op;
    p11_object *o = NULL;
    g11c_buf blob = {0}, ns = {0};
    CK_RV rv = begin(h, P11_OP_DIGEST, &st, &s, &op);
    if (rv != CKR_OK)
        return rv;
    if ((rv = p11_object_get(st, s, key, &o)) != CKR_OK ||
        (rv = p11_object_blob(o, &blob)) != CKR_OK)
        rv = CKR_KEY_HANDLE_INVALID;
    else if ((rv = start_multi(st, s, P11_OP_DIGEST, op)) == CKR_OK &&
             (rv = g11c_digest_key(conn_of(st, s), g11c_bytes_of(&op->state), g11c_bytes_of(&blob),
                                   &ns)) == CKR_OK) {
        g11c_buf_free(&op->state);
        op->state = ns;
    }
    g11c_buf_free(&blob);
    p11_object_put(st, o);
    return finish(st, s, op, rv, rv == CKR_OK);
}

CK_RV C_DigestFinal(CK_SESSION_HANDLE h, CK_BYTE *out, CK_ULONG *out_len)
{
    return run_final(h, P11_OP_DIGEST, out, out_len);
}

CK_RV C_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_OBJECT_HANDLE key)
{
    return op_init(h, P11_OP_SIGN, m, key);
}

CK_RV C_Sign(CK_SESSION_HANDLE h, CK_BYTE *in, CK_ULONG in_len, CK_BYTE *sig, CK_ULONG *sig_len)
{
    return run_single(h, P11_OP_SIGN, in, in_len, sig, sig_len);
}

CK_RV C_SignUpdate(CK_SESSION_HANDLE h, CK_BYTE *in, CK_ULONG in_len)
{
    return run_update(h, P11_OP_SIGN, in, in_len);
}

CK_RV C_SignFinal(CK_SESSION_HANDLE h, CK_BYTE *sig, CK_ULONG *sig_len)
{
    return run_final(h, P11_OP_SIGN, sig, sig_len);
}

CK_RV C_VerifyInit(CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_OBJECT_HANDLE key)
{
    return op_init(h, P11_OP_VERIFY, m, key);
}

/* Verification always ends the operation, whatever the answer. */
CK_RV C_Verify(CK_SESSION_HANDLE h, CK_BYTE *in, CK_ULONG in_len, CK_BYTE *sig, CK_ULONG sig_len)
{
    p11_state *st;
    p11_session *s;
    p11_op *op;
    CK_RV rv = begin(h, P11_OP_VERIFY, &st, &s, &op);
    if (rv != CKR_OK)
        return rv;
    if ((!in && in_len) || !sig)
        rv = CKR_ARGUMENTS_BAD;
    else if (op->started)
        return finish(st, s, op, CKR_OPERATION_ACTIVE, 1);
    else
        rv = g11c_verify_single(conn_of(st, s), g11c_bytes_of(&op->key), &op->mech.m,
                                p11_bytes(in, in_len), p11_bytes(sig, sig_len));
    return finish(st, s, op, rv, 0);
}

CK_RV C_VerifyUpdate(CK_SESSION_HANDLE h, CK_BYTE *in, CK_ULONG in_len)
{
    return run_update(h, P11_OP_VERIFY, in, in_len);
}

CK_RV C_VerifyFinal(CK_SESSION_HANDLE h, CK_BYTE *sig, CK_ULONG sig_len)
{
    p11_state *st;
    p11_session *s;
    p11_op *op;
    CK_RV rv = begin(h, P11_OP_VERIFY, &st, &s, &op);
    if (rv != CKR_OK)
        return rv;
    if (!sig)
        rv = CKR_ARGUMENTS_BAD;
    else if ((rv = start_multi(st, s, P11_OP_VERIFY, op)) == CKR_OK)
        rv = g11c_verify_final(conn_of(st, s), g11c_bytes_of(&op->state), p11_bytes(sig, sig_len));
    return finish(st, s, op, rv, 0);
}
