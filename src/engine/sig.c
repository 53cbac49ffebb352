/* Public-key signature flows: Init / Update / Final / one-shot / Single
 * for RSA, ECDSA, EC-Schnorr, EdDSA, ML-DSA/HashML-DSA and IBM Dilithium. The state
 * blob carries the key bytes as the client gave them (sealed blob or MACed
 * SPKI), the mechanism parameter, and the running state: a serializable
 * hash (hash-then-sign mechanisms), the ML-DSA mu sponge, or buffered input
 * (schemes that must see the whole message: EdDSA, EC-Schnorr, raw
 * RSA/ECDSA input). */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "sig.h"

#define SIG_STATE_VERSION 1
#define SIG_BUF_MAX (16u * 1024u * 1024u) /* buffered message cap */

typedef enum { SM_HASH = 1, SM_BUF, SM_MU } sig_mode;

typedef struct {
    const mech_row *row;
    int scheme;
    hashid h;
    sig_param p;
    pkey k;
    sig_mode mode;
    bool sign;
    hash_ctx hc;
    wbuf buf;
    mldsa_mu_ctx mu;
} sig_ctx;

static void sig_wipe(sig_ctx *c)
{
    pkey_clear(&c->k);
    hash_wipe(&c->hc);
    wbuf_free(&c->buf);
    OPENSSL_cleanse(&c->mu, sizeof(c->mu));
    OPENSSL_cleanse(&c->p, sizeof(c->p));
}

/* Which key algorithm each scheme needs (and, for the IBM EdDSA numbers,
 * which curve). */
static bool sig_key_fits(const sig_ctx *c)
{
    const pkey *k = &c->k;
    switch (c->scheme) {
    case SIG_RSA_PKCS:
    case SIG_RSA_PSS:
    case SIG_RSA_X509:
        return k->alg == PK_RSA;
    case SIG_ECDSA:
        return k->alg == PK_EC;
    case SIG_ECSDSA:
        return ecsdsa_curve_ok(k);
    case SIG_EDDSA:
        if (k->alg != PK_ED)
            return false;
        if (c->row->type == CKM_IBM_ED25519_SHA512)
            return k->curve->priv_len == 32;
        if (c->row->type == CKM_IBM_ED448_SHA3)
            return k->curve->priv_len == 57;
        return true;
    case SIG_MLDSA:
    case SIG_HASH_MLDSA:
        return k->alg == PK_MLDSA && k->pqc->ckp != 0;
    case SIG_DILITHIUM:
        return k->alg == PK_MLDSA && k->pqc->ckp == 0;
    case SIG_DSA:
        return k->alg == PK_DSA;
    default:
        return false;
    }
}

/* Key, mechanism and parameter; no running state yet. */
static CK_RV sig_prepare(const engine *e, const engine_mech *m, engine_bytes key, bool sign,
                         sig_ctx *c)
{
    CK_RV rv;

    memset(c, 0, sizeof(*c));
    c->sign = sign;
    c->row = mech_find(m->type);
    if (c->row == NULL || c->row->family != MF_SIG)
        return CKR_MECHANISM_INVALID;
    c->scheme = SIG_SCHEME(c->row->alg);
    c->h = SIG_HASH(c->row->alg);
    if (sign)
        rv = pkey_load_private(e, key, &c->k);
    else
        rv = pkey_is_blob(key) ? CKR_KEY_TYPE_INCONSISTENT : pkey_load_public(e, key, &c->k);
    if (rv != CKR_OK)
        return rv;
    if ((rv = policy_check_usage(&c->k.obj, sign ? KF_SIGN : KF_VERIFY, m->type)) != CKR_OK)
        return rv;
    if (!sig_key_fits(c))
        return CKR_KEY_TYPE_INCONSISTENT;
    if ((rv = sig_param_parse(c->row, m, &c->k, &c->p)) != CKR_OK)
        return rv;
    c->mode = c->h != H_NONE                                           ? SM_HASH
              : (c->scheme == SIG_MLDSA || c->scheme == SIG_DILITHIUM) ? SM_MU
                                                                       : SM_BUF;
    wbuf_init(&c->buf, SIG_BUF_MAX);
    return CKR_OK;
}

static CK_RV sig_start(sig_ctx *c)
{
    if (c->mode == SM_HASH)
        return hash_init(&c->hc, c->h) ? CKR_OK : CKR_FUNCTION_FAILED;
    if (c->mode == SM_MU)
        return mldsa_op_start(&c->k, c->scheme, &c->p, c->sign, &c->mu);
    return CKR_OK;
}

static CK_RV sig_setup(const engine *e, const engine_mech *m, engine_bytes key, bool sign,
                       sig_ctx *c)
{
    CK_RV rv = sig_prepare(e, m, key, sign, c);
    if (rv == CKR_OK)
        rv = sig_start(c);
    if (rv != CKR_OK)
        sig_wipe(c);
    return rv;
}

static CK_RV sig_absorb(sig_ctx *c, const uint8_t *p, size_t n)
{
    switch (c->mode) {
    case SM_HASH:
        hash_update(&c->hc, p, n);
        return CKR_OK;
    case SM_MU:
        return mldsa_mu_update(&c->mu, p, n) == PQC_OK ? CKR_OK : CKR_SAVED_STATE_INVALID;
    default:
        wbuf_put(&c->buf, p, n);
        return c->buf.err ? CKR_DATA_LEN_RANGE : CKR_OK;
    }
}

/* The bytes the scheme works on once all data is in: a digest, the
 * buffered input, or mu. */
static CK_RV sig_finish_input(sig_ctx *c, uint8_t *tmp, size_t cap, const uint8_t **in, size_t *n)
{
    CK_RV rv;
    if (c->mode == SM_HASH) {
        *n = hash_len(c->h);
        hash_final(&c->hc, tmp);
        *in = tmp;
    } else if (c->mode == SM_MU) {
        *n = mldsa_mu_bytes((mldsa_set)c->k.pqc->set);
        if (mldsa_mu_final(&c->mu, tmp, cap) != PQC_OK)
            return CKR_SAVED_STATE_INVALID;
        *in = tmp;
        return CKR_OK;
    } else {
        *in = c->buf.p ? c->buf.p : tmp;
        *n = c->buf.len;
    }
    if (c->scheme == SIG_HASH_MLDSA) {
        /* HashML-DSA: the digest (computed here or given) becomes mu. */
        hashid ph = c->h != H_NONE ? c->h : c->p.ph;
        uint8_t dg[HASH_MAX_LEN];
        size_t dl = *n;
        if (dl != hash_len(ph))
            return CKR_DATA_LEN_RANGE;
        memcpy(dg, *in, dl);
        rv = mldsa_op_prehash_mu(&c->k, &c->p, ph, dg, dl, tmp, cap);
        OPENSSL_cleanse(dg, sizeof(dg));
        *in = tmp;
        *n = 64;
        return rv;
    }
    return CKR_OK;
}

static CK_RV sig_emit(sig_ctx *c, engine_buf *sig)
{
    CK_RV rv;
    uint8_t tmp[HASH_MAX_LEN + 64];
    const uint8_t *in = NULL;
    size_t n = 0;

    if ((rv = sig_finish_input(c, tmp, sizeof(tmp), &in, &n)) != CKR_OK)
        goto out;
    switch (c->scheme) {
    case SIG_RSA_PKCS:
    case SIG_RSA_PSS:
    case SIG_RSA_X509:
        rv = rsa_sign(&c->k, c->scheme, c->h, &c->p, in, n, sig);
        break;
    case SIG_ECDSA:
        rv = ecdsa_sign(&c->k, in, n, sig);
        break;
    case SIG_DSA:
        rv = dsa_sign(&c->k, in, n, sig);
        break;
    case SIG_ECSDSA:
        rv = ecsdsa_sign(&c->k, c->p.ecsg, in, n, sig);
        break;
    case SIG_EDDSA:
        rv = eddsa_sign(&c->k, &c->p, in, n, sig);
        break;
    default:
        rv = mldsa_op_sign(&c->k, &c->p, in, n, sig);
        break;
    }
out:
    OPENSSL_cleanse(tmp, sizeof(tmp));
    return rv;
}

static CK_RV sig_check(sig_ctx *c, engine_bytes sig)
{
    CK_RV rv;
    uint8_t tmp[HASH_MAX_LEN + 64];
    const uint8_t *in = NULL;
    size_t n = 0;

    if ((rv = sig_finish_input(c, tmp, sizeof(tmp), &in, &n)) != CKR_OK)
        return rv;
    switch (c->scheme) {
    case SIG_RSA_PKCS:
    case SIG_RSA_PSS:
    case SIG_RSA_X509:
        return rsa_verify(&c->k, c->scheme, c->h, &c->p, in, n, sig.ptr, sig.len);
    case SIG_ECDSA:
        return ecdsa_verify(&c->k, in, n, sig.ptr, sig.len);
    case SIG_DSA:
        return dsa_verify(&c->k, in, n, sig.ptr, sig.len);
    case SIG_ECSDSA:
        return ecsdsa_verify(&c->k, c->p.ecsg, in, n, sig.ptr, sig.len);
    case SIG_EDDSA:
        return eddsa_verify(&c->k, &c->p, in, n, sig.ptr, sig.len);
    default:
        return mldsa_op_verify(&c->k, in, n, sig.ptr, sig.len);
    }
}

/* ---- state blobs ---- */

/* An ECSGParm travels in the ParameterB slot as its type (u64), so states
 * of the other mechanisms keep their layout. */
static void sig_save(const sig_ctx *c, engine_bytes key, const engine_mech *m, wbuf *w)
{
    wbuf_u8(w, SIG_STATE_VERSION);
    wbuf_lv(w, key.ptr, key.len);
    wbuf_u32(w, (uint32_t)m->kind);
    if (m->kind == ENGINE_PARAM_ECSG) {
        wbuf_u32(w, 8); /* = wbuf_lv of the u64 */
        wbuf_u64(w, m->ecsg.type);
    } else {
        wbuf_lv(w, m->kind == ENGINE_PARAM_BYTES ? m->bytes.ptr : NULL,
                m->kind == ENGINE_PARAM_BYTES ? m->bytes.len : 0);
    }
    wbuf_u64(w, m->kind == ENGINE_PARAM_RSA_PSS ? m->pss.hash : 0);
    wbuf_u64(w, m->kind == ENGINE_PARAM_RSA_PSS ? m->pss.mgf : 0);
    wbuf_u64(w, m->kind == ENGINE_PARAM_RSA_PSS ? m->pss.salt_len : 0);
    wbuf_u8(w, (uint8_t)c->mode);
    if (c->mode == SM_HASH)
        hash_save(&c->hc, w);
    else if (c->mode == SM_MU)
        mldsa_mu_save(&c->mu, w);
    else
        wbuf_lv(w, c->buf.p, c->buf.len);
}

/* Re-creates the context from a state: the key is loaded (and checked)
 * again, the parameter re-parsed, the running state restored. */
static CK_RV sig_load(const engine *e, state_in *st, sig_ctx *c, engine_bytes *key, engine_mech *m)
{
    CK_RV rv;
    rbuf *r = &st->body;
    const uint8_t *b;
    size_t bl;

    memset(c, 0, sizeof(*c));
    memset(m, 0, sizeof(*m));
    if (rbuf_u8(r) != SIG_STATE_VERSION)
        return CKR_SAVED_STATE_INVALID;
    key->ptr = rbuf_lv(r, KEY_MAX_PAYLOAD + 8192, &key->len);
    m->type = st->mech;
    m->kind = (engine_param_kind)rbuf_u32(r);
    m->bytes.ptr = rbuf_lv(r, 65536, &m->bytes.len);
    m->pss.hash = (CK_MECHANISM_TYPE)rbuf_u64(r);
    m->pss.mgf = (CK_ULONG)rbuf_u64(r);
    m->pss.salt_len = (CK_ULONG)rbuf_u64(r);
    if (r->err || (m->kind != ENGINE_PARAM_NONE && m->kind != ENGINE_PARAM_BYTES &&
                   m->kind != ENGINE_PARAM_RSA_PSS && m->kind != ENGINE_PARAM_ECSG))
        return CKR_SAVED_STATE_INVALID;
    if (m->kind == ENGINE_PARAM_ECSG) {
        rbuf pr;
        rbuf_init(&pr, m->bytes.ptr, m->bytes.len);
        m->ecsg.type = (CK_ULONG)rbuf_u64(&pr);
        m->bytes = (engine_bytes){NULL, 0};
        if (!rbuf_done(&pr))
            return CKR_SAVED_STATE_INVALID;
    }
    if ((rv = sig_prepare(e, m, *key, st->op == OP_SIGN, c)) != CKR_OK)
        return rv;
    if (rbuf_u8(r) != (uint8_t)c->mode)
        return CKR_SAVED_STATE_INVALID;
    if (c->mode == SM_HASH) {
        if (!hash_load(&c->hc, r) || c->hc.alg != c->h)
            return CKR_SAVED_STATE_INVALID;
    } else if (c->mode == SM_MU) {
        if (!mldsa_mu_load(&c->mu, r) || c->mu.set != (uint32_t)c->k.pqc->set)
            return CKR_SAVED_STATE_INVALID;
    } else {
        b = rbuf_lv(r, SIG_BUF_MAX, &bl);
        if (b == NULL)
            return CKR_SAVED_STATE_INVALID;
        wbuf_put(&c->buf, b, bl);
    }
    return rbuf_done(r) ? CKR_OK : CKR_SAVED_STATE_INVALID;
}

static CK_RV sig_reseal(engine *e, const state_in *st, const sig_ctx *c, engine_bytes key,
                        const engine_mech *m, engine_buf *out)
{
    wbuf w;
    state_begin(&w, st->op, st->mech, st->op_id);
    sig_save(c, key, m, &w);
    return state_seal(e, &w, out);
}

CK_RV sig_init(engine *e, op_kind op, const engine_mech *m, engine_bytes key, engine_buf *state)
{
    CK_RV rv;
    sig_ctx c;
    state_in st;
    if ((rv = sig_setup(e, m, key, op == OP_SIGN, &c)) != CKR_OK)
        return rv;
    memset(&st, 0, sizeof(st));
    st.op = op;
    st.mech = m->type;
    st.op_id = state_new_id();
    rv = sig_reseal(e, &st, &c, key, m, state);
    sig_wipe(&c);
    return rv;
}

CK_RV sig_update(engine *e, state_in *st, engine_bytes data, engine_buf *new_state)
{
    CK_RV rv;
    sig_ctx c;
    engine_bytes key;
    engine_mech m;
    if ((rv = sig_load(e, st, &c, &key, &m)) == CKR_OK &&
        (rv = sig_absorb(&c, data.ptr, data.len)) == CKR_OK)
        rv = sig_reseal(e, st, &c, key, &m, new_state);
    sig_wipe(&c);
    return rv;
}

CK_RV sig_sign_finish(engine *e, state_in *st, const engine_bytes *data, engine_buf *sig)
{
    CK_RV rv;
    sig_ctx c;
    engine_bytes key;
    engine_mech m;
    if ((rv = sig_load(e, st, &c, &key, &m)) == CKR_OK &&
        (data == NULL || (rv = sig_absorb(&c, data->ptr, data->len)) == CKR_OK))
        rv = sig_emit(&c, sig);
    sig_wipe(&c);
    return rv;
}

CK_RV sig_verify_finish(engine *e, state_in *st, const engine_bytes *data, engine_bytes sig)
{
    CK_RV rv;
    sig_ctx c;
    engine_bytes key;
    engine_mech m;
    if ((rv = sig_load(e, st, &c, &key, &m)) == CKR_OK &&
        (data == NULL || (rv = sig_absorb(&c, data->ptr, data->len)) == CKR_OK))
        rv = sig_check(&c, sig);
    sig_wipe(&c);
    return rv;
}

CK_RV sig_sign_single(engine *e, engine_bytes key, const engine_mech *m, engine_bytes data,
                      engine_buf *sig)
{
    CK_RV rv;
    sig_ctx c;
    if ((rv = sig_setup(e, m, key, true, &c)) != CKR_OK)
        return rv;
    if ((rv = sig_absorb(&c, data.ptr, data.len)) == CKR_OK)
        rv = sig_emit(&c, sig);
    sig_wipe(&c);
    return rv;
}

CK_RV sig_verify_single(engine *e, engine_bytes key, const engine_mech *m, engine_bytes data,
                        engine_bytes sig)
{
    CK_RV rv;
    sig_ctx c;
    if ((rv = sig_setup(e, m, key, false, &c)) != CKR_OK)
        return rv;
    if ((rv = sig_absorb(&c, data.ptr, data.len)) == CKR_OK)
        rv = sig_check(&c, sig);
    sig_wipe(&c);
    return rv;
}
