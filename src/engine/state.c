/* State blob framing (see state.h). */
#include <string.h>

#include <openssl/rand.h>

#include "blob.h"
#include "state.h"

#define STATE_FORMAT 1

void state_begin(wbuf *w, op_kind op, CK_MECHANISM_TYPE mech, uint64_t op_id)
{
    wbuf_init(w, BLOB_MAX_PAYLOAD);
    wbuf_u8(w, STATE_FORMAT);
    wbuf_u8(w, (uint8_t)op);
    wbuf_u64(w, mech);
    wbuf_u64(w, op_id);
}

CK_RV state_seal(const engine *e, wbuf *w, engine_buf *out)
{
    CK_RV rv =
        w->err ? CKR_DATA_LEN_RANGE : blob_seal(&e->d->cur, BLOB_STATE, NULL, 0, w->p, w->len, out);
    wbuf_free(w);
    return rv;
}

uint64_t state_new_id(void)
{
    uint64_t id = 0;
    if (RAND_bytes((uint8_t *)&id, sizeof(id)) != 1)
        id = 0;
    return id;
}

CK_RV state_open(const engine *e, engine_bytes blob, op_kind expect, state_in *st)
{
    const uint8_t *attrs;
    size_t alen;
    blob_err be;
    uint8_t fmt, op;

    memset(st, 0, sizeof(*st));
    be = blob_unseal(&e->d->cur, BLOB_STATE, blob.ptr, blob.len, &attrs, &alen, &st->payload,
                     &st->plen);
    if (be != BLOB_OK)
        return blob_state_rv(be);
    rbuf_init(&st->body, st->payload, st->plen);
    fmt = rbuf_u8(&st->body);
    op = rbuf_u8(&st->body);
    st->mech = (CK_MECHANISM_TYPE)rbuf_u64(&st->body);
    st->op_id = rbuf_u64(&st->body);
    if (st->body.err || fmt != STATE_FORMAT || alen != 0) {
        state_close(st);
        return CKR_SAVED_STATE_INVALID;
    }
    st->op = (op_kind)op;
    if (st->op != expect) {
        state_close(st);
        return CKR_OPERATION_NOT_INITIALIZED;
    }
    return CKR_OK;
}

void state_close(state_in *st)
{
    engine_freezero(st->payload, st->plen);
    memset(st, 0, sizeof(*st));
}
