/* Encrypt, Decrypt and ReencryptSingle in every GREP11 flow. */
#include <string.h>

#include <openssl/crypto.h>

#include "acrypt.h"
#include "mech.h"
#include "state.h"
#include "sym.h"

#define OUT_MAX ((size_t)BLOB_MAX_PAYLOAD + 64)

static CK_RV crypt_take(wbuf *w, engine_buf *out)
{
    size_t len = 0;
    uint8_t *p = wbuf_take(w, &len);
    if (p == NULL)
        return CKR_HOST_MEMORY;
    ebuf_set(out, p, len);
    return CKR_OK;
}

/* Unseals the key, checks mechanism, usage and parameters, and sets up c. */
static CK_RV crypt_setup(const engine *e, const engine_mech *m, engine_bytes key_blob, bool enc,
                         sym_ctx *c)
{
    CK_RV rv;
    const mech_row *row;
    key_obj k;

    memset(c, 0, sizeof(*c));
    if (m == NULL)
        return CKR_ARGUMENTS_BAD;
    row = mech_find(m->type);
    if (row == NULL || row->family != MF_CIPHER)
        return CKR_MECHANISM_INVALID;
    if ((rv = key_unseal(e, key_blob, &k)) != CKR_OK)
        return rv;
    rv = policy_check_usage(&k, enc ? KF_ENCRYPT : KF_DECRYPT, m->type);
    if (rv == CKR_OK)
        rv = sym_init(c, e, m->type, m, &k, enc);
    key_obj_clear(&k);
    return rv;
}

static CK_RV crypt_save(const engine *e, op_kind op, CK_MECHANISM_TYPE mech, uint64_t id,
                        const sym_ctx *c, engine_buf *state)
{
    wbuf w;
    state_begin(&w, op, mech, id);
    sym_save(c, &w);
    return state_seal(e, &w, state);
}

/* True when a mechanism is public-key encryption (acrypt.c). */
static bool crypt_is_rsa(CK_MECHANISM_TYPE type)
{
    const mech_row *r = mech_find(type);
    return r != NULL && r->crypt != 0;
}

/* Opens a state; a public-key encryption state is left to the caller
 * (*rsa set, c untouched), any other is loaded into c. */
static CK_RV crypt_open(const engine *e, engine_bytes state, op_kind op, state_in *st, sym_ctx *c,
                        bool *rsa)
{
    CK_RV rv = state_open(e, state, op, st);
    if (rv != CKR_OK)
        return rv;
    *rsa = crypt_is_rsa(st->mech);
    if (*rsa)
        return CKR_OK;
    if ((rv = sym_load(c, e, &st->body)) != CKR_OK) {
        sym_wipe(c);
        state_close(st);
    }
    return rv;
}

static CK_RV crypt_init(engine *e, op_kind op, const engine_mech *m, engine_bytes key_blob,
                        engine_buf *state)
{
    CK_RV rv;
    sym_ctx c;
    if (e == NULL || state == NULL)
        return CKR_ARGUMENTS_BAD;
    *state = (engine_buf){NULL, 0};
    if (m != NULL && crypt_is_rsa(m->type))
        return acrypt_init(e, op, m, key_blob, state);
    if ((rv = crypt_setup(e, m, key_blob, op == OP_ENCRYPT, &c)) == CKR_OK)
        rv = crypt_save(e, op, m->type, state_new_id(), &c, state);
    sym_wipe(&c);
    return rv;
}

static CK_RV crypt_update(engine *e, op_kind op, engine_bytes state, engine_bytes in,
                          engine_buf *new_state, engine_buf *out)
{
    CK_RV rv;
    state_in st;
    sym_ctx c;
    wbuf o;
    bool rsa = false;

    if (e == NULL || new_state == NULL || out == NULL || (in.len > 0 && in.ptr == NULL))
        return CKR_ARGUMENTS_BAD;
    *new_state = (engine_buf){NULL, 0};
    *out = (engine_buf){NULL, 0};
    if ((rv = crypt_open(e, state, op, &st, &c, &rsa)) != CKR_OK)
        return rv;
    if (rsa) {
        rv = acrypt_update(e, &st, in, new_state, out);
        state_close(&st);
        return rv;
    }
    wbuf_init(&o, OUT_MAX);
    if ((rv = sym_update(&c, in.ptr, in.len, &o)) != CKR_OK)
        goto out;
    if ((rv = crypt_save(e, op, st.mech, st.op_id, &c, new_state)) != CKR_OK)
        goto out;
    if ((rv = crypt_take(&o, out)) != CKR_OK)
        engine_buf_free(new_state);
out:
    wbuf_free(&o);
    sym_wipe(&c);
    state_close(&st);
    return rv;
}

/* Final, or one-shot over a state when with_data is set. */
static CK_RV crypt_finish(engine *e, op_kind op, engine_bytes state, const engine_bytes *data,
                          engine_buf *out)
{
    CK_RV rv;
    state_in st;
    sym_ctx c;
    wbuf o;
    bool rsa = false;

    if (e == NULL || out == NULL || (data && data->len > 0 && data->ptr == NULL))
        return CKR_ARGUMENTS_BAD;
    *out = (engine_buf){NULL, 0};
    if ((rv = crypt_open(e, state, op, &st, &c, &rsa)) != CKR_OK)
        return rv;
    if (rsa) {
        rv = acrypt_finish(e, &st, data, out);
        state_close(&st);
        return rv;
    }
    wbuf_init(&o, OUT_MAX);
    if (data != NULL) {
        /* C_Encrypt/C_Decrypt: unpadded modes need whole blocks up front. */
        bool blocky = c.mode == CM_ECB || c.mode == CM_CBC || (c.mode == CM_CBC_PAD && !c.enc);
        if (blocky && (c.blen + data->len) % c.bs != 0) {
            rv = c.enc ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
            goto out;
        }
        if ((rv = sym_update(&c, data->ptr, data->len, &o)) != CKR_OK)
            goto out;
    }
    if ((rv = sym_final(&c, &o)) != CKR_OK)
        goto out;
    rv = crypt_take(&o, out);
out:
    wbuf_free(&o);
    sym_wipe(&c);
    state_close(&st);
    return rv;
}

static CK_RV crypt_single(engine *e, bool enc, engine_bytes key_blob, const engine_mech *m,
                          engine_bytes in, engine_buf *out)
{
    CK_RV rv;
    sym_ctx c;
    wbuf o;

    if (e == NULL || out == NULL || (in.len > 0 && in.ptr == NULL))
        return CKR_ARGUMENTS_BAD;
    *out = (engine_buf){NULL, 0};
    if (m != NULL && crypt_is_rsa(m->type))
        return acrypt_single(e, enc, key_blob, m, in, out);
    wbuf_init(&o, OUT_MAX);
    if ((rv = crypt_setup(e, m, key_blob, enc, &c)) != CKR_OK)
        goto out;
    if ((rv = sym_single(&c, in.ptr, in.len, &o)) != CKR_OK)
        goto out;
    rv = crypt_take(&o, out);
out:
    wbuf_free(&o);
    sym_wipe(&c);
    return rv;
}

CK_RV engine_encrypt_init(engine *e, const engine_mech *m, engine_bytes key_blob, engine_buf *state)
{
    return crypt_init(e, OP_ENCRYPT, m, key_blob, state);
}
CK_RV engine_encrypt_update(engine *e, engine_bytes state, engine_bytes in, engine_buf *new_state,
                            engine_buf *out)
{
    return crypt_update(e, OP_ENCRYPT, state, in, new_state, out);
}
CK_RV engine_encrypt_final(engine *e, engine_bytes state, engine_buf *out)
{
    return crypt_finish(e, OP_ENCRYPT, state, NULL, out);
}
CK_RV engine_encrypt(engine *e, engine_bytes state, engine_bytes in, engine_buf *out)
{
    return crypt_finish(e, OP_ENCRYPT, state, &in, out);
}
CK_RV engine_encrypt_single(engine *e, engine_bytes key_blob, const engine_mech *m, engine_bytes in,
                            engine_buf *out)
{
    return crypt_single(e, true, key_blob, m, in, out);
}
CK_RV engine_decrypt_init(engine *e, const engine_mech *m, engine_bytes key_blob, engine_buf *state)
{
    return crypt_init(e, OP_DECRYPT, m, key_blob, state);
}
CK_RV engine_decrypt_update(engine *e, engine_bytes state, engine_bytes in, engine_buf *new_state,
                            engine_buf *out)
{
    return crypt_update(e, OP_DECRYPT, state, in, new_state, out);
}
CK_RV engine_decrypt_final(engine *e, engine_bytes state, engine_buf *out)
{
    return crypt_finish(e, OP_DECRYPT, state, NULL, out);
}
CK_RV engine_decrypt(engine *e, engine_bytes state, engine_bytes in, engine_buf *out)
{
    return crypt_finish(e, OP_DECRYPT, state, &in, out);
}
CK_RV engine_decrypt_single(engine *e, engine_bytes key_blob, const engine_mech *m, engine_bytes in,
                            engine_buf *out)
{
    return crypt_single(e, false, key_blob, m, in, out);
}

CK_RV engine_reencrypt_single(engine *e, engine_bytes dec_key, engine_bytes enc_key,
                              const engine_mech *dec_m, const engine_mech *enc_m, engine_bytes in,
                              engine_buf *out)
{
    CK_RV rv;
    engine_buf mid = {NULL, 0};
    if (e == NULL || out == NULL)
        return CKR_ARGUMENTS_BAD;
    *out = (engine_buf){NULL, 0};
    /* The plaintext exists only inside this call and is wiped on the way out. */
    if ((rv = engine_decrypt_single(e, dec_key, dec_m, in, &mid)) == CKR_OK)
        rv = engine_encrypt_single(e, enc_key, enc_m, (engine_bytes){mid.ptr, mid.len}, out);
    engine_buf_free(&mid);
    return rv;
}
