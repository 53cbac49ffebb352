/* C_GetOperationState / C_SetOperationState.
 *
 * A session's active encrypt/decrypt/digest/sign/verify operations become
 * one opaque buffer (integers big-endian):
 *
 *   "G11S" | u8 version (1) | u8 count | count × operation
 *   operation: u8 kind (P11_OP_*) | u8 flags (1 started, 2 needs a
 *              context-specific login) | u64 mechanism |
 *     started:  u32 len | the server's state blob
 *     deferred: u8 parameter kind | u32 len | ParameterB bytes |
 *               u64 OAEP hash | u64 OAEP MGF | u32 len | OAEP label |
 *               u64 PSS hash | u64 PSS MGF | u64 PSS salt length |
 *               u8 has key | [32-byte SHA-256 of the key argument]
 *
 * Nothing in it is secret and nothing is MACed here: a started operation's
 * state blob is sealed and authenticated by the server (it holds the key,
 * sealed, and the running state); the module-side fields are the
 * mechanism and its parameters (IVs, AAD, labels) and a hash of a sealed
 * key blob. Results kept for a short buffer are not saved (a decryption's
 * kept plaintext would be secret): the state saved is the one before that
 * call, which the application repeats after restoring.
 *
 * Keys (PKCS #11 §5.6): a started operation's key is inside its state blob,
 * so no key is needed for it. A deferred operation (Init done, no data yet:
 * no server state exists) is saved as mechanism + a hash of its key and
 * needs the key again at restore — hEncryptionKey for encrypt/decrypt,
 * hAuthenticationKey for sign/verify: missing → CKR_KEY_NEEDED, another
 * key → CKR_KEY_CHANGED, a key no saved operation needs →
 * CKR_KEY_NOT_NEEDED. A restored operation on a CKA_ALWAYS_AUTHENTICATE
 * key asks for a new context-specific login. Anything malformed →
 * CKR_SAVED_STATE_INVALID; the server rejects a state blob that is not its
 * own when the operation continues. */
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define OPST_MAGIC "G11S"
#define OPST_VERSION 1
#define OPST_MAX_FIELD (64u << 20) /* no state blob or parameter is larger */
#define F_STARTED 1u
#define F_CTX 2u

/* ---- writing ----------------------------------------------------------------- */

typedef struct {
    uint8_t *p; /* NULL: only count */
    size_t len;
} wbuf;

static void w_bytes(wbuf *w, const void *src, size_t n)
{
    if (w->p && n)
        memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void w_u8(wbuf *w, uint8_t v)
{
    w_bytes(w, &v, 1);
}

static void w_u32(wbuf *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    w_bytes(w, b, 4);
}

static void w_u64(wbuf *w, uint64_t v)
{
    w_u32(w, (uint32_t)(v >> 32));
    w_u32(w, (uint32_t)v);
}

static void w_lv(wbuf *w, g11c_bytes b)
{
    w_u32(w, (uint32_t)b.len);
    w_bytes(w, b.ptr, b.len);
}

static CK_RV saveable(const p11_op *op)
{
    const g11c_mech *m = &op->mech.m;
    if (op->started)
        return op->state.len && op->state.len <= OPST_MAX_FIELD ? CKR_OK : CKR_STATE_UNSAVEABLE;
    if (m->kind != G11C_PARAM_NONE && m->kind != G11C_PARAM_BYTES &&
        m->kind != G11C_PARAM_RSA_OAEP && m->kind != G11C_PARAM_RSA_PSS)
        return CKR_STATE_UNSAVEABLE;
    if (m->bytes.len > OPST_MAX_FIELD || m->oaep.label.len > OPST_MAX_FIELD)
        return CKR_STATE_UNSAVEABLE;
    return CKR_OK;
}

static void write_op(wbuf *w, p11_opkind kind, const p11_op *op)
{
    const g11c_mech *m = &op->mech.m;
    w_u8(w, (uint8_t)kind);
    w_u8(w, (uint8_t)((op->started ? F_STARTED : 0) | (op->ctx_need ? F_CTX : 0)));
    w_u64(w, m->type);
    if (op->started) {
        w_lv(w, g11c_bytes_of(&op->state));
        return;
    }
    w_u8(w, (uint8_t)m->kind);
    w_lv(w, m->kind == G11C_PARAM_BYTES ? m->bytes : (g11c_bytes){NULL, 0});
    w_u64(w, m->oaep.hash);
    w_u64(w, m->oaep.mgf);
    w_lv(w, m->oaep.label);
    w_u64(w, m->pss.hash);
    w_u64(w, m->pss.mgf);
    w_u64(w, m->pss.salt_len);
    w_u8(w, op->key.ptr ? 1 : 0);
    if (op->key.ptr) {
        uint8_t h[32];
        SHA256(op->key.ptr, op->key.len, h);
        w_bytes(w, h, sizeof(h));
    }
}

static void write_all(wbuf *w, const p11_session *s, int count)
{
    w_bytes(w, OPST_MAGIC, 4);
    w_u8(w, OPST_VERSION);
    w_u8(w, (uint8_t)count);
    for (int k = 0; k < P11_OP_COUNT; k++)
        if (s->ops[k].active)
            write_op(w, (p11_opkind)k, &s->ops[k]);
}

CK_RV C_GetOperationState(CK_SESSION_HANDLE h, CK_BYTE *out, CK_ULONG *out_len)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    int count = 0;
    if (!out_len)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    for (int k = 0; k < P11_OP_COUNT && rv == CKR_OK; k++)
        if (s->ops[k].active) {
            count++;
            rv = saveable(&s->ops[k]);
        }
    if (rv == CKR_OK && count == 0)
        rv = CKR_OPERATION_NOT_INITIALIZED;
    if (rv == CKR_OK) {
        wbuf w = {NULL, 0};
        write_all(&w, s, count); /* the length; the output is deterministic */
        if (out && *out_len >= w.len) {
            w.p = out;
            w.len = 0;
            write_all(&w, s, count);
        } else if (out) {
            rv = CKR_BUFFER_TOO_SMALL;
        }
        *out_len = w.len;
    }
    p11_session_put(st, s);
    return rv;
}

/* ---- reading ------------------------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    size_t left;
    int bad;
} rbuf;

static const uint8_t *r_take(rbuf *r, size_t n)
{
    if (r->bad || r->left < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

static uint8_t r_u8(rbuf *r)
{
    const uint8_t *p = r_take(r, 1);
    return p ? p[0] : 0;
}

static uint32_t r_u32(rbuf *r)
{
    const uint8_t *p = r_take(r, 4);
    return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

static uint64_t r_u64(rbuf *r)
{
    uint64_t hi = r_u32(r);
    return hi << 32 | r_u32(r);
}

/* A length-prefixed field as an owned copy (NULL when empty). */
static uint8_t *r_lv(rbuf *r, size_t *len)
{
    uint32_t n = r_u32(r);
    const uint8_t *p = n > OPST_MAX_FIELD ? (r->bad = 1, NULL) : r_take(r, n);
    uint8_t *c = NULL;
    *len = 0;
    if (!p || n == 0)
        return NULL;
    if (!(c = malloc(n))) {
        r->bad = 2; /* out of memory, not a bad state */
        return NULL;
    }
    memcpy(c, p, n);
    *len = n;
    return c;
}

/* An operation as read, before its key is known. */
typedef struct {
    p11_op op;
    int has_key;
    uint8_t key_hash[32];
} saved_op;

static int read_deferred(rbuf *r, saved_op *so)
{
    g11c_mech *m = &so->op.mech.m;
    size_t n = 0;
    uint8_t kind = r_u8(r);
    uint8_t *bytes = r_lv(r, &n);
    so->op.mech.param = bytes;
    so->op.mech.param_len = n;
    m->oaep.hash = r_u64(r);
    m->oaep.mgf = r_u64(r);
    so->op.mech.label = r_lv(r, &n);
    m->oaep.label = p11_bytes(so->op.mech.label, n);
    m->pss.hash = r_u64(r);
    m->pss.mgf = r_u64(r);
    m->pss.salt_len = r_u64(r);
    so->has_key = r_u8(r);
    if (so->has_key == 1) {
        const uint8_t *hp = r_take(r, 32);
        if (hp)
            memcpy(so->key_hash, hp, 32);
    }
    if (r->bad)
        return r->bad;
    switch (kind) {
    case G11C_PARAM_NONE:
        if (bytes)
            return 1;
        break;
    case G11C_PARAM_BYTES:
        if (!bytes)
            return 1;
        m->bytes = p11_bytes(bytes, so->op.mech.param_len);
        break;
    case G11C_PARAM_RSA_OAEP:
    case G11C_PARAM_RSA_PSS:
        if (bytes)
            return 1;
        break;
    default:
        return 1;
    }
    m->kind = (g11c_param_kind)kind;
    if (so->has_key > 1)
        return 1;
    return 0;
}

/* 0: read; 1: malformed; 2: out of memory. */
static int read_op(rbuf *r, saved_op *so, int *kind)
{
    size_t n = 0;
    *kind = r_u8(r);
    uint8_t flags = r_u8(r);
    so->op.mech.m.type = r_u64(r);
    if (r->bad || *kind >= P11_OP_COUNT || (flags & ~(F_STARTED | F_CTX)))
        return 1;
    so->op.active = 1;
    so->op.ctx_need = (flags & F_CTX) != 0;
    if (!(flags & F_STARTED))
        return read_deferred(r, so);
    so->op.started = 1;
    so->op.state.ptr = r_lv(r, &n);
    so->op.state.len = n;
    return r->bad ? r->bad : n ? 0 : 1;
}

static void saved_clear(saved_op *ops)
{
    for (int k = 0; k < P11_OP_COUNT; k++)
        p11_op_clear(&ops[k].op);
}

static CK_RV parse(const CK_BYTE *in, CK_ULONG len, saved_op ops[P11_OP_COUNT])
{
    rbuf r = {in, len, 0};
    const uint8_t *magic = r_take(&r, 4);
    uint8_t version = r_u8(&r), count = r_u8(&r);
    if (r.bad || memcmp(magic, OPST_MAGIC, 4) != 0 || version != OPST_VERSION || count == 0 ||
        count > P11_OP_COUNT)
        return CKR_SAVED_STATE_INVALID;
    for (uint8_t i = 0; i < count; i++) {
        saved_op so;
        int kind = 0;
        memset(&so, 0, sizeof(so));
        int bad = read_op(&r, &so, &kind);
        if (bad == 0 && ops[kind].op.active)
            bad = 1; /* the same kind twice */
        if (bad == 0 && kind == P11_OP_DIGEST && so.has_key)
            bad = 1;
        if (bad == 0 && kind != P11_OP_DIGEST && !so.op.started && !so.has_key)
            bad = 1;
        if (bad) {
            p11_op_clear(&so.op);
            return bad == 2 ? CKR_HOST_MEMORY : CKR_SAVED_STATE_INVALID;
        }
        ops[kind] = so;
    }
    return r.left == 0 ? CKR_OK : CKR_SAVED_STATE_INVALID;
}

/* The key handle that ops of this kind are restored with. */
static int uses_enc_key(int kind)
{
    return kind == P11_OP_ENCRYPT || kind == P11_OP_DECRYPT;
}

/* Gives each deferred operation its key from the handles (§5.6 rules). */
static CK_RV attach_keys(p11_state *st, p11_session *s, saved_op ops[P11_OP_COUNT],
                         CK_OBJECT_HANDLE enc_key, CK_OBJECT_HANDLE auth_key)
{
    int need_enc = 0, need_auth = 0;
    for (int k = 0; k < P11_OP_COUNT; k++)
        if (ops[k].op.active && ops[k].has_key)
            *(uses_enc_key(k) ? &need_enc : &need_auth) = 1;
    if ((enc_key != CK_INVALID_HANDLE && !need_enc) ||
        (auth_key != CK_INVALID_HANDLE && !need_auth))
        return CKR_KEY_NOT_NEEDED;
    if ((need_enc && enc_key == CK_INVALID_HANDLE) || (need_auth && auth_key == CK_INVALID_HANDLE))
        return CKR_KEY_NEEDED;
    for (int k = 0; k < P11_OP_COUNT; k++) {
        if (!ops[k].op.active || !ops[k].has_key)
            continue;
        p11_object *o;
        uint8_t hash[32];
        CK_RV rv = p11_object_get(st, s, uses_enc_key(k) ? enc_key : auth_key, &o);
        if (rv != CKR_OK)
            return CKR_KEY_HANDLE_INVALID;
        rv = p11_object_key_arg(st, o, &ops[k].op.key);
        p11_object_put(st, o);
        if (rv != CKR_OK)
            return CKR_KEY_HANDLE_INVALID;
        SHA256(ops[k].op.key.ptr, ops[k].op.key.len, hash);
        if (CRYPTO_memcmp(hash, ops[k].key_hash, 32) != 0)
            return CKR_KEY_CHANGED;
    }
    return CKR_OK;
}

CK_RV C_SetOperationState(CK_SESSION_HANDLE h, CK_BYTE *in, CK_ULONG len, CK_OBJECT_HANDLE enc_key,
                          CK_OBJECT_HANDLE auth_key)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    saved_op ops[P11_OP_COUNT];
    if (!in || !len)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    memset(ops, 0, sizeof(ops));
    if ((rv = parse(in, len, ops)) == CKR_OK &&
        (rv = attach_keys(st, s, ops, enc_key, auth_key)) == CKR_OK) {
        /* The saved operations replace whatever the session was doing. */
        for (int k = 0; k < P11_OP_COUNT; k++) {
            p11_op_clear(&s->ops[k]);
            if (ops[k].op.active) {
                s->ops[k] = ops[k].op;
                memset(&ops[k].op, 0, sizeof(ops[k].op));
            }
        }
    }
    saved_clear(ops);
    p11_session_put(st, s);
    return rv;
}
