/* grep11.Crypto handlers that make, transform or describe keys. */
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "handlers.h"

#define ENGINE(ctx) rpc_engine(ctx)
#define BYTES(bin) ((engine_bytes){(bin).data, (bin).len})
#define TEMPLATE(ctx, req, field, out)                                                             \
    conv_template_in((ctx), (req)->n_##field, (void *const *)(req)->field, (out))

/* GenerateKey, UnwrapKey and DeriveKey all answer with the new blob twice
 * (raw bytes for old clients, a KeyBlob for current ones) and a checksum. */
#define REPLY_NEW_KEY(ctx, type, init, bytes_f, sum_f, blob_f, key, sum)                           \
    do {                                                                                           \
        type r_ = init;                                                                            \
        Grep11__KeyBlob kb_;                                                                       \
        ProtobufCBinaryData slot_;                                                                 \
        conv_keyblob_out(&kb_, &slot_, &(key));                                                    \
        r_.bytes_f = conv_bin(&(key));                                                             \
        r_.sum_f = conv_bin(&(sum));                                                               \
        r_.blob_f = &kb_;                                                                          \
        CK_RV rr_ = rpc_reply((ctx), &r_.base);                                                    \
        engine_buf_free(&(key));                                                                   \
        engine_buf_free(&(sum));                                                                   \
        return rr_;                                                                                \
    } while (0)

CK_RV h_generate_key(rpc_ctx *ctx)
{
    const Grep11__GenerateKeyRequest *req = (const void *)ctx->req;
    engine_mech m;
    conv_template t = {0};
    engine_buf key = {0}, sum = {0};
    CK_RV rv = conv_mech(ctx, req->mech, &m);
    if (rv == CKR_OK)
        rv = TEMPLATE(ctx, req, template_, &t);
    if (rv == CKR_OK)
        rv = engine_generate_key(ENGINE(ctx), &m, t.attrs, t.n, &key, &sum);
    conv_template_free(&t);
    if (rv != CKR_OK)
        return rv;
    REPLY_NEW_KEY(ctx, Grep11__GenerateKeyResponse, GREP11__GENERATE_KEY_RESPONSE__INIT, keybytes,
                  checksum, key, key, sum);
}

CK_RV h_generate_key_pair(rpc_ctx *ctx)
{
    const Grep11__GenerateKeyPairRequest *req = (const void *)ctx->req;
    engine_mech m;
    conv_template pub = {0}, priv = {0};
    engine_buf sk = {0}, pk = {0};
    CK_RV rv = conv_mech(ctx, req->mech, &m);
    if (rv == CKR_OK)
        rv = TEMPLATE(ctx, req, pubkeytemplate, &pub);
    if (rv == CKR_OK)
        rv = TEMPLATE(ctx, req, privkeytemplate, &priv);
    if (rv == CKR_OK)
        rv = engine_generate_key_pair(ENGINE(ctx), &m, pub.attrs, pub.n, priv.attrs, priv.n, &sk,
                                      &pk);
    conv_template_free(&pub);
    conv_template_free(&priv);
    if (rv != CKR_OK)
        return rv;
    Grep11__GenerateKeyPairResponse resp = GREP11__GENERATE_KEY_PAIR_RESPONSE__INIT;
    Grep11__KeyBlob skb, pkb;
    ProtobufCBinaryData sslot, pslot;
    conv_keyblob_out(&skb, &sslot, &sk);
    conv_keyblob_out(&pkb, &pslot, &pk);
    resp.privkeybytes = conv_bin(&sk);
    resp.pubkeybytes = conv_bin(&pk);
    resp.privkey = &skb;
    resp.pubkey = &pkb;
    rv = rpc_reply(ctx, &resp.base);
    engine_buf_free(&sk);
    engine_buf_free(&pk);
    return rv;
}

/* An optional KeyBlob (MacKey): absent means "none". */
static CK_RV optional_keyblob(rpc_ctx *ctx, const Grep11__KeyBlob *kb, ProtobufCBinaryData legacy,
                              const char *what, engine_bytes *out)
{
    out->ptr = NULL;
    out->len = 0;
    if ((!kb || (kb->n_keyblobs == 0 && kb->keyblobid.len == 0)) && legacy.len == 0)
        return CKR_OK;
    return conv_key(ctx, kb, legacy, what, out);
}

CK_RV h_wrap_key(rpc_ctx *ctx)
{
    const Grep11__WrapKeyRequest *req = (const void *)ctx->req;
    engine_mech m;
    engine_bytes key, kek, mac;
    engine_buf out = {0};
    CK_RV rv = conv_mech(ctx, req->mech, &m);
    if (rv == CKR_OK)
        rv = conv_key(ctx, req->key, req->legacykey, "Key", &key);
    if (rv == CKR_OK)
        rv = conv_key(ctx, req->kek, req->legacykek, "KeK", &kek);
    if (rv == CKR_OK)
        rv = optional_keyblob(ctx, req->mackey, req->legacymackey, "MacKey", &mac);
    if (rv == CKR_OK)
        rv = engine_wrap_key(ENGINE(ctx), key, kek, mac, &m, &out);
    if (rv != CKR_OK)
        return rv;
    Grep11__WrapKeyResponse resp = GREP11__WRAP_KEY_RESPONSE__INIT;
    resp.wrapped = conv_bin(&out);
    rv = rpc_reply(ctx, &resp.base);
    engine_buf_free(&out);
    return rv;
}

CK_RV h_unwrap_key(rpc_ctx *ctx)
{
    const Grep11__UnwrapKeyRequest *req = (const void *)ctx->req;
    engine_mech m;
    engine_bytes kek, mac;
    conv_template t = {0};
    engine_buf key = {0}, sum = {0};
    CK_RV rv = conv_mech(ctx, req->mech, &m);
    /* IBM's clients send some key as KeK with CKM_IBM_TRANSPORTKEY, which
     * ignores it: it is not looked up, so a stale or absent one is fine. */
    kek = (engine_bytes){NULL, 0};
    if (rv == CKR_OK && m.type != CKM_IBM_TRANSPORTKEY)
        rv = conv_key(ctx, req->kek, req->legacykek, "KeK", &kek);
    if (rv == CKR_OK)
        rv = optional_keyblob(ctx, req->mackey, req->legacymackey, "MacKey", &mac);
    if (rv == CKR_OK)
        rv = TEMPLATE(ctx, req, template_, &t);
    if (rv == CKR_OK)
        rv = engine_unwrap_key(ENGINE(ctx), BYTES(req->wrapped), kek, mac, &m, t.attrs, t.n, &key,
                               &sum);
    conv_template_free(&t);
    if (rv != CKR_OK)
        return rv;
    REPLY_NEW_KEY(ctx, Grep11__UnwrapKeyResponse, GREP11__UNWRAP_KEY_RESPONSE__INIT, unwrappedbytes,
                  checksum, unwrapped, key, sum);
}

CK_RV h_derive_key(rpc_ctx *ctx)
{
    const Grep11__DeriveKeyRequest *req = (const void *)ctx->req;
    engine_mech m;
    engine_bytes base;
    conv_template t = {0};
    engine_buf key = {0}, sum = {0};
    CK_RV rv = conv_mech(ctx, req->mech, &m);
    if (rv == CKR_OK)
        rv = conv_key(ctx, req->basekey, req->legacybasekey, "BaseKey", &base);
    if (rv == CKR_OK)
        rv = TEMPLATE(ctx, req, template_, &t);
    if (rv == CKR_OK && m.type == CKM_ML_KEM) {
        /* The GREP11 API has no encapsulation RPC: CKM_ML_KEM rides on
         * DeriveKey like IBM's Kyber. No Data: encapsulate to BaseKey (a
         * public key), the ciphertext comes back in CheckSum. Data: the
         * ciphertext to decapsulate with BaseKey (a private key). */
        if (req->data.len == 0)
            rv = engine_encapsulate(ENGINE(ctx), &m, base, t.attrs, t.n, &sum, &key);
        else
            rv = engine_decapsulate(ENGINE(ctx), &m, base, BYTES(req->data), t.attrs, t.n, &key);
    } else if (rv == CKR_OK) {
        rv = engine_derive_key(ENGINE(ctx), &m, t.attrs, t.n, base, BYTES(req->data), &key, &sum);
    }
    conv_template_free(&t);
    if (rv != CKR_OK)
        return rv;
    REPLY_NEW_KEY(ctx, Grep11__DeriveKeyResponse, GREP11__DERIVE_KEY_RESPONSE__INIT, newkeybytes,
                  checksum, newkey, key, sum);
}

/* One reply entry per attribute the engine returned, typed by attribute. */
static CK_RV reply_attributes(rpc_ctx *ctx, const CK_ATTRIBUTE *attrs, CK_ULONG n)
{
    conv_map_out m;
    CK_RV rv = conv_attrs_out(
        attrs, n, &grep11__get_attribute_value_response__attributes_entry__descriptor, &m);
    if (rv != CKR_OK)
        return rv;
    Grep11__GetAttributeValueResponse resp = GREP11__GET_ATTRIBUTE_VALUE_RESPONSE__INIT;
    resp.n_attributes = m.n;
    resp.attributes = (Grep11__GetAttributeValueResponse__AttributesEntry **)m.entries;
    rv = rpc_reply(ctx, &resp.base);
    conv_map_out_free(&m);
    return rv;
}

CK_RV h_get_attribute_value(rpc_ctx *ctx)
{
    const Grep11__GetAttributeValueRequest *req = (const void *)ctx->req;
    size_t n = req->n_attributes + req->n_attributesbytes;
    if (n == 0 || n > 256)
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "ask for 1..256 attributes");
    CK_ATTRIBUTE_TYPE *types = calloc(n, sizeof(*types));
    CK_ATTRIBUTE *attrs = NULL;
    CK_ULONG nout = 0;
    if (!types)
        return CKR_HOST_MEMORY;
    for (size_t i = 0; i < req->n_attributes; i++)
        types[i] = req->attributes[i]->key;
    for (size_t i = 0; i < req->n_attributesbytes; i++)
        types[req->n_attributes + i] = req->attributesbytes[i]->key;
    CK_RV rv = engine_get_attribute_value(ENGINE(ctx), BYTES(req->object), types, n, &attrs, &nout);
    free(types);
    /* Sensitive or unknown attributes still answer the rest, as C_GetAttributeValue does. */
    if (rv == CKR_OK || rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID) {
        CK_RV rr = attrs ? reply_attributes(ctx, attrs, nout) : rv;
        if (rv == CKR_OK)
            rv = rr;
    }
    if (attrs)
        engine_attrs_free(attrs, nout);
    return rv;
}

CK_RV h_set_attribute_value(rpc_ctx *ctx)
{
    const Grep11__SetAttributeValueRequest *req = (const void *)ctx->req;
    conv_template t = {0};
    engine_buf obj = {0};
    CK_RV rv = TEMPLATE(ctx, req, attributes, &t);
    if (rv == CKR_OK && t.n == 0)
        rv = rpc_fail(ctx, CKR_ARGUMENTS_BAD, "no attributes to set");
    if (rv == CKR_OK)
        rv = engine_set_attribute_value(ENGINE(ctx), BYTES(req->object), t.attrs, t.n, &obj);
    conv_template_free(&t);
    if (rv != CKR_OK)
        return rv;
    Grep11__SetAttributeValueResponse resp = GREP11__SET_ATTRIBUTE_VALUE_RESPONSE__INIT;
    resp.object = conv_bin(&obj);
    rv = rpc_reply(ctx, &resp.base);
    engine_buf_free(&obj);
    return rv;
}

CK_RV h_rewrap_key_blob(rpc_ctx *ctx)
{
    const Grep11__RewrapKeyBlobRequest *req = (const void *)ctx->req;
    engine_bytes blob = BYTES(req->wrappedkeybytes);
    engine_buf out = {0};
    CK_RV rv = CKR_OK;
    if (req->wrappedkey)
        rv = conv_keyblob(ctx, req->wrappedkey, "WrappedKey", &blob);
    else if (blob.len == 0)
        rv = rpc_fail(ctx, CKR_ARGUMENTS_BAD, "WrappedKey missing");
    if (rv == CKR_OK)
        rv = engine_rewrap_key_blob(ENGINE(ctx), blob, &out);
    if (rv != CKR_OK)
        return rv;
    Grep11__RewrapKeyBlobResponse resp = GREP11__REWRAP_KEY_BLOB_RESPONSE__INIT;
    Grep11__KeyBlob kb;
    ProtobufCBinaryData slot;
    conv_keyblob_out(&kb, &slot, &out);
    resp.rewrappedkeybytes = conv_bin(&out);
    resp.rewrappedkey = &kb;
    rv = rpc_reply(ctx, &resp.base);
    engine_buf_free(&out);
    return rv;
}

/* EP11 session PINs (m_Login/m_Logout) bind keys to a login session; grep11
 * authenticates callers with API keys and bearer tokens instead. */
CK_RV h_login(rpc_ctx *ctx)
{
    return rpc_fail(ctx, CKR_FUNCTION_NOT_SUPPORTED,
                    "Login: EP11 session PINs are not supported; use API keys");
}

CK_RV h_logout(rpc_ctx *ctx)
{
    return rpc_fail(ctx, CKR_FUNCTION_NOT_SUPPORTED,
                    "Logout: EP11 session PINs are not supported; use API keys");
}
