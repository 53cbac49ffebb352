/* Digest in every GREP11 flow: Init, Update, Key, Final, one-shot with a
 * state, and Single. */
#include <string.h>

#include <openssl/crypto.h>

#include "hash.h"
#include "keyobj.h"
#include "mech.h"
#include "state.h"

static CK_RV digest_alg(const engine_mech *m, hashid *a)
{
    const mech_row *r;
    if (m == NULL)
        return CKR_ARGUMENTS_BAD;
    r = mech_find(m->type);
    if (r == NULL || r->family != MF_DIGEST)
        return CKR_MECHANISM_INVALID;
    *a = (hashid)r->alg;
    return mech_no_param(m);
}

static CK_RV digest_save(const engine *e, const state_in *st_or_null, CK_MECHANISM_TYPE mech,
                         const hash_ctx *h, engine_buf *out)
{
    wbuf w;
    state_begin(&w, OP_DIGEST, mech, st_or_null ? st_or_null->op_id : state_new_id());
    hash_save(h, &w);
    return state_seal(e, &w, out);
}

static CK_RV digest_open(const engine *e, engine_bytes state, state_in *st, hash_ctx *h)
{
    CK_RV rv = state_open(e, state, OP_DIGEST, st);
    if (rv != CKR_OK)
        return rv;
    if (!hash_load(h, &st->body) || !rbuf_done(&st->body)) {
        hash_wipe(h);
        state_close(st);
        return CKR_SAVED_STATE_INVALID;
    }
    return CKR_OK;
}

static CK_RV digest_out(hash_ctx *h, engine_buf *digest)
{
    CK_RV rv = ebuf_alloc(digest, hash_len(h->alg));
    if (rv == CKR_OK)
        hash_final(h, digest->ptr);
    hash_wipe(h);
    return rv;
}

CK_RV engine_digest_init(engine *e, const engine_mech *m, engine_buf *state)
{
    CK_RV rv;
    hashid a;
    hash_ctx h;

    if (e == NULL || state == NULL)
        return CKR_ARGUMENTS_BAD;
    *state = (engine_buf){NULL, 0};
    if ((rv = digest_alg(m, &a)) != CKR_OK)
        return rv;
    if (!hash_init(&h, a))
        return CKR_FUNCTION_FAILED;
    rv = digest_save(e, NULL, m->type, &h, state);
    hash_wipe(&h);
    return rv;
}

CK_RV engine_digest_update(engine *e, engine_bytes state, engine_bytes data, engine_buf *new_state)
{
    CK_RV rv;
    state_in st;
    hash_ctx h;

    if (e == NULL || new_state == NULL || (data.len > 0 && data.ptr == NULL))
        return CKR_ARGUMENTS_BAD;
    *new_state = (engine_buf){NULL, 0};
    if ((rv = digest_open(e, state, &st, &h)) != CKR_OK)
        return rv;
    hash_update(&h, data.ptr, data.len);
    rv = digest_save(e, &st, st.mech, &h, new_state);
    hash_wipe(&h);
    state_close(&st);
    return rv;
}

CK_RV engine_digest_key(engine *e, engine_bytes state, engine_bytes key_blob, engine_buf *new_state)
{
    CK_RV rv;
    state_in st;
    hash_ctx h;
    key_obj k;

    if (e == NULL || new_state == NULL)
        return CKR_ARGUMENTS_BAD;
    *new_state = (engine_buf){NULL, 0};
    if ((rv = key_unseal(e, key_blob, &k)) != CKR_OK)
        return rv;
    if (k.cls != CKO_SECRET_KEY) { /* a private payload is no digestible value */
        rv = CKR_KEY_INDIGESTIBLE;
        goto out;
    }
    if ((rv = digest_open(e, state, &st, &h)) != CKR_OK)
        goto out;
    /* The digest mechanism was accepted at DigestInit; a key whose list
     * excludes it is one this operation cannot digest. */
    if (policy_allows(&k, st.mech)) {
        hash_update(&h, k.secret, k.vlen);
        rv = digest_save(e, &st, st.mech, &h, new_state);
    } else {
        rv = CKR_KEY_INDIGESTIBLE;
    }
    hash_wipe(&h);
    state_close(&st);
out:
    key_obj_clear(&k);
    return rv;
}

CK_RV engine_digest_final(engine *e, engine_bytes state, engine_buf *digest)
{
    CK_RV rv;
    state_in st;
    hash_ctx h;

    if (e == NULL || digest == NULL)
        return CKR_ARGUMENTS_BAD;
    *digest = (engine_buf){NULL, 0};
    if ((rv = digest_open(e, state, &st, &h)) != CKR_OK)
        return rv;
    rv = digest_out(&h, digest);
    state_close(&st);
    return rv;
}

CK_RV engine_digest(engine *e, engine_bytes state, engine_bytes data, engine_buf *digest)
{
    CK_RV rv;
    state_in st;
    hash_ctx h;

    if (e == NULL || digest == NULL || (data.len > 0 && data.ptr == NULL))
        return CKR_ARGUMENTS_BAD;
    *digest = (engine_buf){NULL, 0};
    if ((rv = digest_open(e, state, &st, &h)) != CKR_OK)
        return rv;
    hash_update(&h, data.ptr, data.len);
    rv = digest_out(&h, digest);
    state_close(&st);
    return rv;
}

CK_RV engine_digest_single(engine *e, const engine_mech *m, engine_bytes data, engine_buf *digest)
{
    CK_RV rv;
    hashid a;
    hash_ctx h;

    if (e == NULL || digest == NULL || (data.len > 0 && data.ptr == NULL))
        return CKR_ARGUMENTS_BAD;
    *digest = (engine_buf){NULL, 0};
    if ((rv = digest_alg(m, &a)) != CKR_OK)
        return rv;
    if (!hash_init(&h, a))
        return CKR_FUNCTION_FAILED;
    hash_update(&h, data.ptr, data.len);
    return digest_out(&h, digest);
}
