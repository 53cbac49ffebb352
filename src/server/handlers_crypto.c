/* grep11.Crypto handlers for random numbers, mechanisms, digests, encryption
 * and signatures. Each is decode-check-call-encode; the engine decides. */
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "handlers.h"

#define ENGINE(ctx) rpc_engine(ctx)
#define BYTES(bin) ((engine_bytes){(bin).data, (bin).len})

/* Replies with a message whose only payload is one bytes field, then frees
 * the engine output. Used by every handler that returns state or data. */
#define REPLY_ONE(ctx, type, init, field, buf)                                                     \
    do {                                                                                           \
        type r_ = init;                                                                            \
        r_.field = conv_bin(&(buf));                                                               \
        CK_RV rr_ = rpc_reply((ctx), &r_.base);                                                    \
        engine_buf_free(&(buf));                                                                   \
        return rr_;                                                                                \
    } while (0)

CK_RV h_generate_random(rpc_ctx *ctx)
{
    const Grep11__GenerateRandomRequest *req = (const void *)ctx->req;
    if (req->len == 0 || req->len > HANDLER_MAX_RANDOM)
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "Len must be 1..%u", HANDLER_MAX_RANDOM);
    engine_buf out = {malloc(req->len), req->len};
    if (!out.ptr)
        return CKR_HOST_MEMORY;
    CK_RV rv = engine_generate_random(ENGINE(ctx), out.ptr, out.len);
    if (rv != CKR_OK) {
        engine_buf_free(&out);
        return rpc_fail(ctx, rv, "random generator failed");
    }
    REPLY_ONE(ctx, Grep11__GenerateRandomResponse, GREP11__GENERATE_RANDOM_RESPONSE__INIT, rnd,
              out);
}

CK_RV h_get_mechanism_list(rpc_ctx *ctx)
{
    CK_ULONG n = 0;
    CK_RV rv = engine_mechanism_list(ENGINE(ctx), NULL, &n);
    if (rv != CKR_OK)
        return rv;
    CK_MECHANISM_TYPE *mechs = calloc(n ? n : 1, sizeof(*mechs));
    uint64_t *wire = calloc(n ? n : 1, sizeof(*wire));
    if (!mechs || !wire) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    rv = engine_mechanism_list(ENGINE(ctx), mechs, &n);
    if (rv != CKR_OK)
        goto out;
    for (CK_ULONG i = 0; i < n; i++)
        wire[i] = mechs[i];
    Grep11__GetMechanismListResponse resp = GREP11__GET_MECHANISM_LIST_RESPONSE__INIT;
    resp.n_mechs = n;
    resp.mechs = wire;
    rv = rpc_reply(ctx, &resp.base);
out:
    free(mechs);
    free(wire);
    return rv;
}

CK_RV h_get_mechanism_info(rpc_ctx *ctx)
{
    const Grep11__GetMechanismInfoRequest *req = (const void *)ctx->req;
    CK_MECHANISM_INFO info;
    CK_RV rv = engine_mechanism_info(ENGINE(ctx), (CK_MECHANISM_TYPE)req->mech, &info);
    if (rv != CKR_OK)
        return rpc_fail(ctx, rv, "mechanism 0x%llx is not supported",
                        (unsigned long long)req->mech);
    Grep11__MechanismInfo mi = GREP11__MECHANISM_INFO__INIT;
    mi.minkeysize = info.ulMinKeySize;
    mi.maxkeysize = info.ulMaxKeySize;
    mi.flags = info.flags;
    Grep11__GetMechanismInfoResponse resp = GREP11__GET_MECHANISM_INFO_RESPONSE__INIT;
    resp.mechinfo = &mi;
    return rpc_reply(ctx, &resp.base);
}

/* ---- digest ----------------------------------------------------------- */

CK_RV h_digest_init(rpc_ctx *ctx)
{
    const Grep11__DigestInitRequest *req = (const void *)ctx->req;
    engine_mech m;
    engine_buf st = {0};
    CK_RV rv = conv_mech(ctx, req->mech, &m);
    if (rv == CKR_OK)
        rv = engine_digest_init(ENGINE(ctx), &m, &st);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__DigestInitResponse, GREP11__DIGEST_INIT_RESPONSE__INIT, state, st);
}

CK_RV h_digest(rpc_ctx *ctx)
{
    const Grep11__DigestRequest *req = (const void *)ctx->req;
    engine_buf d = {0};
    CK_RV rv = engine_digest(ENGINE(ctx), BYTES(req->state), BYTES(req->data), &d);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__DigestResponse, GREP11__DIGEST_RESPONSE__INIT, digest, d);
}

CK_RV h_digest_update(rpc_ctx *ctx)
{
    const Grep11__DigestUpdateRequest *req = (const void *)ctx->req;
    engine_buf st = {0};
    CK_RV rv = engine_digest_update(ENGINE(ctx), BYTES(req->state), BYTES(req->data), &st);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__DigestUpdateResponse, GREP11__DIGEST_UPDATE_RESPONSE__INIT, state, st);
}

CK_RV h_digest_key(rpc_ctx *ctx)
{
    const Grep11__DigestKeyRequest *req = (const void *)ctx->req;
    engine_bytes key;
    engine_buf st = {0};
    CK_RV rv = conv_key(ctx, req->key, req->legacykey, "Key", &key);
    if (rv == CKR_OK)
        rv = engine_digest_key(ENGINE(ctx), BYTES(req->state), key, &st);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__DigestKeyResponse, GREP11__DIGEST_KEY_RESPONSE__INIT, state, st);
}

CK_RV h_digest_final(rpc_ctx *ctx)
{
    const Grep11__DigestFinalRequest *req = (const void *)ctx->req;
    engine_buf d = {0};
    CK_RV rv = engine_digest_final(ENGINE(ctx), BYTES(req->state), &d);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__DigestFinalResponse, GREP11__DIGEST_FINAL_RESPONSE__INIT, digest, d);
}

CK_RV h_digest_single(rpc_ctx *ctx)
{
    const Grep11__DigestSingleRequest *req = (const void *)ctx->req;
    engine_mech m;
    engine_buf d = {0};
    CK_RV rv = conv_mech(ctx, req->mech, &m);
    if (rv == CKR_OK)
        rv = engine_digest_single(ENGINE(ctx), &m, BYTES(req->data), &d);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__DigestSingleResponse, GREP11__DIGEST_SINGLE_RESPONSE__INIT, digest, d);
}

/* ---- encrypt and decrypt ---------------------------------------------- */

typedef CK_RV (*init_fn)(engine *, const engine_mech *, engine_bytes, engine_buf *);

/* Shared by EncryptInit, DecryptInit, SignInit and VerifyInit: they differ
 * only in the engine function and the key's field name. */
static CK_RV keyed_init(rpc_ctx *ctx, const Grep11__Mechanism *mech, const Grep11__KeyBlob *kb,
                        ProtobufCBinaryData legacy, const char *key_name, init_fn fn,
                        engine_buf *state)
{
    engine_mech m;
    engine_bytes key;
    CK_RV rv = conv_mech(ctx, mech, &m);
    if (rv == CKR_OK)
        rv = conv_key(ctx, kb, legacy, key_name, &key);
    if (rv == CKR_OK)
        rv = fn(ENGINE(ctx), &m, key, state);
    return rv;
}

CK_RV h_encrypt_init(rpc_ctx *ctx)
{
    const Grep11__EncryptInitRequest *req = (const void *)ctx->req;
    engine_buf st = {0};
    CK_RV rv =
        keyed_init(ctx, req->mech, req->key, req->legacykey, "Key", engine_encrypt_init, &st);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__EncryptInitResponse, GREP11__ENCRYPT_INIT_RESPONSE__INIT, state, st);
}

CK_RV h_decrypt_init(rpc_ctx *ctx)
{
    const Grep11__DecryptInitRequest *req = (const void *)ctx->req;
    engine_buf st = {0};
    CK_RV rv =
        keyed_init(ctx, req->mech, req->key, req->legacykey, "Key", engine_decrypt_init, &st);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__DecryptInitResponse, GREP11__DECRYPT_INIT_RESPONSE__INIT, state, st);
}

CK_RV h_encrypt_update(rpc_ctx *ctx)
{
    const Grep11__EncryptUpdateRequest *req = (const void *)ctx->req;
    engine_buf st = {0}, out = {0};
    CK_RV rv = engine_encrypt_update(ENGINE(ctx), BYTES(req->state), BYTES(req->plain), &st, &out);
    if (rv != CKR_OK)
        return rv;
    Grep11__EncryptUpdateResponse resp = GREP11__ENCRYPT_UPDATE_RESPONSE__INIT;
    resp.state = conv_bin(&st);
    resp.ciphered = conv_bin(&out);
    rv = rpc_reply(ctx, &resp.base);
    engine_buf_free(&st);
    engine_buf_free(&out);
    return rv;
}

CK_RV h_decrypt_update(rpc_ctx *ctx)
{
    const Grep11__DecryptUpdateRequest *req = (const void *)ctx->req;
    engine_buf st = {0}, out = {0};
    CK_RV rv =
        engine_decrypt_update(ENGINE(ctx), BYTES(req->state), BYTES(req->ciphered), &st, &out);
    if (rv != CKR_OK)
        return rv;
    Grep11__DecryptUpdateResponse resp = GREP11__DECRYPT_UPDATE_RESPONSE__INIT;
    resp.state = conv_bin(&st);
    resp.plain = conv_bin(&out);
    rv = rpc_reply(ctx, &resp.base);
    engine_buf_free(&st);
    engine_buf_free(&out);
    return rv;
}

CK_RV h_encrypt(rpc_ctx *ctx)
{
    const Grep11__EncryptRequest *req = (const void *)ctx->req;
    engine_buf out = {0};
    CK_RV rv = engine_encrypt(ENGINE(ctx), BYTES(req->state), BYTES(req->plain), &out);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__EncryptResponse, GREP11__ENCRYPT_RESPONSE__INIT, ciphered, out);
}

CK_RV h_decrypt(rpc_ctx *ctx)
{
    const Grep11__DecryptRequest *req = (const void *)ctx->req;
    engine_buf out = {0};
    CK_RV rv = engine_decrypt(ENGINE(ctx), BYTES(req->state), BYTES(req->ciphered), &out);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__DecryptResponse, GREP11__DECRYPT_RESPONSE__INIT, plain, out);
}

CK_RV h_encrypt_final(rpc_ctx *ctx)
{
    const Grep11__EncryptFinalRequest *req = (const void *)ctx->req;
    engine_buf out = {0};
    CK_RV rv = engine_encrypt_final(ENGINE(ctx), BYTES(req->state), &out);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__EncryptFinalResponse, GREP11__ENCRYPT_FINAL_RESPONSE__INIT, ciphered,
              out);
}

CK_RV h_decrypt_final(rpc_ctx *ctx)
{
    const Grep11__DecryptFinalRequest *req = (const void *)ctx->req;
    engine_buf out = {0};
    CK_RV rv = engine_decrypt_final(ENGINE(ctx), BYTES(req->state), &out);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__DecryptFinalResponse, GREP11__DECRYPT_FINAL_RESPONSE__INIT, plain, out);
}

typedef CK_RV (*single_fn)(engine *, engine_bytes, const engine_mech *, engine_bytes, engine_buf *);

/* EncryptSingle, DecryptSingle and SignSingle: key + mechanism + data. */
static CK_RV keyed_single(rpc_ctx *ctx, const Grep11__KeyBlob *kb, ProtobufCBinaryData legacy,
                          const char *key_name, const Grep11__Mechanism *mech,
                          ProtobufCBinaryData in, single_fn fn, engine_buf *out)
{
    engine_mech m;
    engine_bytes key;
    CK_RV rv = conv_mech(ctx, mech, &m);
    if (rv == CKR_OK)
        rv = conv_key(ctx, kb, legacy, key_name, &key);
    if (rv == CKR_OK)
        rv = fn(ENGINE(ctx), key, &m, BYTES(in), out);
    return rv;
}

CK_RV h_encrypt_single(rpc_ctx *ctx)
{
    const Grep11__EncryptSingleRequest *req = (const void *)ctx->req;
    engine_buf out = {0};
    CK_RV rv = keyed_single(ctx, req->key, req->legacykey, "Key", req->mech, req->plain,
                            engine_encrypt_single, &out);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__EncryptSingleResponse, GREP11__ENCRYPT_SINGLE_RESPONSE__INIT, ciphered,
              out);
}

CK_RV h_decrypt_single(rpc_ctx *ctx)
{
    const Grep11__DecryptSingleRequest *req = (const void *)ctx->req;
    engine_buf out = {0};
    CK_RV rv = keyed_single(ctx, req->key, req->legacykey, "Key", req->mech, req->ciphered,
                            engine_decrypt_single, &out);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__DecryptSingleResponse, GREP11__DECRYPT_SINGLE_RESPONSE__INIT, plain,
              out);
}

CK_RV h_reencrypt_single(rpc_ctx *ctx)
{
    const Grep11__ReencryptSingleRequest *req = (const void *)ctx->req;
    engine_mech dm, em;
    engine_bytes dk, ek;
    engine_buf out = {0};
    CK_RV rv = conv_mech(ctx, req->decmech, &dm);
    if (rv == CKR_OK)
        rv = conv_mech(ctx, req->encmech, &em);
    if (rv == CKR_OK)
        rv = conv_keyblob(ctx, req->deckey, "DecKey", &dk);
    if (rv == CKR_OK)
        rv = conv_keyblob(ctx, req->enckey, "EncKey", &ek);
    if (rv == CKR_OK)
        rv = engine_reencrypt_single(ENGINE(ctx), dk, ek, &dm, &em, BYTES(req->ciphered), &out);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__ReencryptSingleResponse, GREP11__REENCRYPT_SINGLE_RESPONSE__INIT,
              reciphered, out);
}

/* ---- sign and verify -------------------------------------------------- */

CK_RV h_sign_init(rpc_ctx *ctx)
{
    const Grep11__SignInitRequest *req = (const void *)ctx->req;
    engine_buf st = {0};
    CK_RV rv = keyed_init(ctx, req->mech, req->privkey, req->legacyprivkey, "PrivKey",
                          engine_sign_init, &st);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__SignInitResponse, GREP11__SIGN_INIT_RESPONSE__INIT, state, st);
}

CK_RV h_verify_init(rpc_ctx *ctx)
{
    const Grep11__VerifyInitRequest *req = (const void *)ctx->req;
    engine_buf st = {0};
    CK_RV rv = keyed_init(ctx, req->mech, req->pubkey, req->legacypubkey, "PubKey",
                          engine_verify_init, &st);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__VerifyInitResponse, GREP11__VERIFY_INIT_RESPONSE__INIT, state, st);
}

CK_RV h_sign_update(rpc_ctx *ctx)
{
    const Grep11__SignUpdateRequest *req = (const void *)ctx->req;
    engine_buf st = {0};
    CK_RV rv = engine_sign_update(ENGINE(ctx), BYTES(req->state), BYTES(req->data), &st);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__SignUpdateResponse, GREP11__SIGN_UPDATE_RESPONSE__INIT, state, st);
}

CK_RV h_verify_update(rpc_ctx *ctx)
{
    const Grep11__VerifyUpdateRequest *req = (const void *)ctx->req;
    engine_buf st = {0};
    CK_RV rv = engine_verify_update(ENGINE(ctx), BYTES(req->state), BYTES(req->data), &st);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__VerifyUpdateResponse, GREP11__VERIFY_UPDATE_RESPONSE__INIT, state, st);
}

CK_RV h_sign_final(rpc_ctx *ctx)
{
    const Grep11__SignFinalRequest *req = (const void *)ctx->req;
    engine_buf sig = {0};
    CK_RV rv = engine_sign_final(ENGINE(ctx), BYTES(req->state), &sig);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__SignFinalResponse, GREP11__SIGN_FINAL_RESPONSE__INIT, signature, sig);
}

CK_RV h_sign(rpc_ctx *ctx)
{
    const Grep11__SignRequest *req = (const void *)ctx->req;
    engine_buf sig = {0};
    CK_RV rv = engine_sign(ENGINE(ctx), BYTES(req->state), BYTES(req->data), &sig);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__SignResponse, GREP11__SIGN_RESPONSE__INIT, signature, sig);
}

CK_RV h_sign_single(rpc_ctx *ctx)
{
    const Grep11__SignSingleRequest *req = (const void *)ctx->req;
    engine_buf sig = {0};
    CK_RV rv = keyed_single(ctx, req->privkey, req->legacyprivkey, "PrivKey", req->mech, req->data,
                            engine_sign_single, &sig);
    if (rv != CKR_OK)
        return rv;
    REPLY_ONE(ctx, Grep11__SignSingleResponse, GREP11__SIGN_SINGLE_RESPONSE__INIT, signature, sig);
}

static CK_RV reply_empty(rpc_ctx *ctx, const ProtobufCMessageDescriptor *d)
{
    /* Verify responses carry no fields: an empty message of the right type. */
    ProtobufCMessage msg;
    protobuf_c_message_init(d, &msg);
    return rpc_reply(ctx, &msg);
}

CK_RV h_verify_final(rpc_ctx *ctx)
{
    const Grep11__VerifyFinalRequest *req = (const void *)ctx->req;
    CK_RV rv = engine_verify_final(ENGINE(ctx), BYTES(req->state), BYTES(req->signature));
    return rv != CKR_OK ? rv : reply_empty(ctx, &grep11__verify_final_response__descriptor);
}

CK_RV h_verify(rpc_ctx *ctx)
{
    const Grep11__VerifyRequest *req = (const void *)ctx->req;
    CK_RV rv =
        engine_verify(ENGINE(ctx), BYTES(req->state), BYTES(req->data), BYTES(req->signature));
    return rv != CKR_OK ? rv : reply_empty(ctx, &grep11__verify_response__descriptor);
}

CK_RV h_verify_single(rpc_ctx *ctx)
{
    const Grep11__VerifySingleRequest *req = (const void *)ctx->req;
    engine_mech m;
    engine_bytes key;
    CK_RV rv = conv_mech(ctx, req->mech, &m);
    if (rv == CKR_OK)
        rv = conv_key(ctx, req->pubkey, req->legacypubkey, "PubKey", &key);
    if (rv == CKR_OK)
        rv = engine_verify_single(ENGINE(ctx), key, &m, BYTES(req->data), BYTES(req->signature));
    return rv != CKR_OK ? rv : reply_empty(ctx, &grep11__verify_single_response__descriptor);
}
