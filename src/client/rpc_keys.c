/* libgrep11: signatures and key management calls. */
#include <stdlib.h>
#include <string.h>

#include "grep11/wire.h"
#include "internal.h"

#define FREE_REPLY(r) g11c_reply_free((ProtobufCMessage *)(r))

/* Locals every call with a mechanism (and a key) needs. */
#define MECH_LOCALS(m)                                                                             \
    Grep11__Mechanism wm;                                                                          \
    g11c_mech_params mp;                                                                           \
    g11c_mech_encode((m), &wm, &mp)
#define KEY_LOCALS(name, key)                                                                      \
    Grep11__KeyBlob name##_kb;                                                                     \
    ProtobufCBinaryData name##_slot;                                                               \
    g11c_keyblob_encode((key), &name##_kb, &name##_slot)

/* ---- sign ------------------------------------------------------------- */

CK_RV g11c_sign_init(g11c_conn *c, const g11c_mech *m, g11c_bytes key, g11c_buf *state)
{
    Grep11__SignInitRequest req = GREP11__SIGN_INIT_REQUEST__INIT;
    MECH_LOCALS(m);
    KEY_LOCALS(k, key);
    req.mech = &wm;
    req.privkey = &k_kb;
    CALL(c, "SignInit", req, Grep11__SignInitResponse, grep11__sign_init_response__descriptor,
         resp);
    rv = g11c_copy_out(state, resp->state);
out:
    FREE_REPLY(resp);
    return rv;
}

CK_RV g11c_sign_update(g11c_conn *c, g11c_bytes state, g11c_bytes data, g11c_buf *new_state)
{
    Grep11__SignUpdateRequest req = GREP11__SIGN_UPDATE_REQUEST__INIT;
    req.state = BIN(state);
    req.data = BIN(data);
    CALL(c, "SignUpdate", req, Grep11__SignUpdateResponse, grep11__sign_update_response__descriptor,
         resp);
    rv = g11c_copy_out(new_state, resp->state);
out:
    FREE_REPLY(resp);
    return rv;
}

CK_RV g11c_sign_final(g11c_conn *c, g11c_bytes state, g11c_buf *sig)
{
    Grep11__SignFinalRequest req = GREP11__SIGN_FINAL_REQUEST__INIT;
    req.state = BIN(state);
    CALL(c, "SignFinal", req, Grep11__SignFinalResponse, grep11__sign_final_response__descriptor,
         resp);
    rv = g11c_copy_out(sig, resp->signature);
out:
    FREE_REPLY(resp);
    return rv;
}

CK_RV g11c_sign(g11c_conn *c, g11c_bytes state, g11c_bytes data, g11c_buf *sig)
{
    Grep11__SignRequest req = GREP11__SIGN_REQUEST__INIT;
    req.state = BIN(state);
    req.data = BIN(data);
    CALL(c, "Sign", req, Grep11__SignResponse, grep11__sign_response__descriptor, resp);
    rv = g11c_copy_out(sig, resp->signature);
out:
    FREE_REPLY(resp);
    return rv;
}

CK_RV g11c_sign_single(g11c_conn *c, g11c_bytes key, const g11c_mech *m, g11c_bytes data,
                       g11c_buf *sig)
{
    Grep11__SignSingleRequest req = GREP11__SIGN_SINGLE_REQUEST__INIT;
    MECH_LOCALS(m);
    KEY_LOCALS(k, key);
    req.mech = &wm;
    req.privkey = &k_kb;
    req.data = BIN(data);
    CALL(c, "SignSingle", req, Grep11__SignSingleResponse, grep11__sign_single_response__descriptor,
         resp);
    rv = g11c_copy_out(sig, resp->signature);
out:
    FREE_REPLY(resp);
    return rv;
}

/* ---- verify ----------------------------------------------------------- */

CK_RV g11c_verify_init(g11c_conn *c, const g11c_mech *m, g11c_bytes key, g11c_buf *state)
{
    Grep11__VerifyInitRequest req = GREP11__VERIFY_INIT_REQUEST__INIT;
    MECH_LOCALS(m);
    KEY_LOCALS(k, key);
    req.mech = &wm;
    req.pubkey = &k_kb;
    CALL(c, "VerifyInit", req, Grep11__VerifyInitResponse, grep11__verify_init_response__descriptor,
         resp);
    rv = g11c_copy_out(state, resp->state);
out:
    FREE_REPLY(resp);
    return rv;
}

CK_RV g11c_verify_update(g11c_conn *c, g11c_bytes state, g11c_bytes data, g11c_buf *new_state)
{
    Grep11__VerifyUpdateRequest req = GREP11__VERIFY_UPDATE_REQUEST__INIT;
    req.state = BIN(state);
    req.data = BIN(data);
    CALL(c, "VerifyUpdate", req, Grep11__VerifyUpdateResponse,
         grep11__verify_update_response__descriptor, resp);
    rv = g11c_copy_out(new_state, resp->state);
out:
    FREE_REPLY(resp);
    return rv;
}

CK_RV g11c_verify_final(g11c_conn *c, g11c_bytes state, g11c_bytes sig)
{
    Grep11__VerifyFinalRequest req = GREP11__VERIFY_FINAL_REQUEST__INIT;
    req.state = BIN(state);
    req.signature = BIN(sig);
    CALL(c, "VerifyFinal", req, Grep11__VerifyFinalResponse,
         grep11__verify_final_response__descriptor, resp);
out:
    FREE_REPLY(resp);
    return rv;
}

CK_RV g11c_verify(g11c_conn *c, g11c_bytes state, g11c_bytes data, g11c_bytes sig)
{
    Grep11__VerifyRequest req = GREP11__VERIFY_REQUEST__INIT;
    req.state = BIN(state);
    req.data = BIN(data);
    req.signature = BIN(sig);
    CALL(c, "Verify", req, Grep11__VerifyResponse, grep11__verify_response__descriptor, resp);
out:
    FREE_REPLY(resp);
    return rv;
}

CK_RV g11c_verify_single(g11c_conn *c, g11c_bytes key, const g11c_mech *m, g11c_bytes data,
                         g11c_bytes sig)
{
    Grep11__VerifySingleRequest req = GREP11__VERIFY_SINGLE_REQUEST__INIT;
    MECH_LOCALS(m);
    KEY_LOCALS(k, key);
    req.mech = &wm;
    req.pubkey = &k_kb;
    req.data = BIN(data);
    req.signature = BIN(sig);
    CALL(c, "VerifySingle", req, Grep11__VerifySingleResponse,
         grep11__verify_single_response__descriptor, resp);
out:
    FREE_REPLY(resp);
    return rv;
}

/* ---- keys ------------------------------------------------------------- */

/* Copies a new key (KeyBlob preferred, raw bytes otherwise) and checksum. */
static CK_RV copy_new_key(const Grep11__KeyBlob *kb, ProtobufCBinaryData raw,
                          ProtobufCBinaryData sum, g11c_buf *key, g11c_buf *checksum)
{
    CK_RV rv = g11c_copy_out(key, g11c_keyblob_pick(kb, raw));
    if (rv == CKR_OK && checksum && (rv = g11c_copy_out(checksum, sum)) != CKR_OK)
        g11c_buf_free(key);
    return rv;
}

CK_RV g11c_generate_key(g11c_conn *c, const g11c_mech *m, const CK_ATTRIBUTE *tmpl, CK_ULONG n,
                        g11c_buf *key, g11c_buf *checksum)
{
    Grep11__GenerateKeyRequest req = GREP11__GENERATE_KEY_REQUEST__INIT;
    g11c_template t;
    MECH_LOCALS(m);
    CK_RV trv = g11c_template_encode(tmpl, n, &t);
    if (trv != CKR_OK)
        return trv;
    req.mech = &wm;
    req.n_template_ = t.n;
    req.template_ = (Grep11__GenerateKeyRequest__TemplateEntry **)t.entries;
    CALL(c, "GenerateKey", req, Grep11__GenerateKeyResponse,
         grep11__generate_key_response__descriptor, resp);
    rv = copy_new_key(resp->key, resp->keybytes, resp->checksum, key, checksum);
out:
    FREE_REPLY(resp);
    g11c_template_free(&t);
    return rv;
}

CK_RV g11c_generate_key_pair(g11c_conn *c, const g11c_mech *m, const CK_ATTRIBUTE *pub_tmpl,
                             CK_ULONG npub, const CK_ATTRIBUTE *priv_tmpl, CK_ULONG npriv,
                             g11c_buf *priv_key, g11c_buf *pub_key)
{
    Grep11__GenerateKeyPairRequest req = GREP11__GENERATE_KEY_PAIR_REQUEST__INIT;
    g11c_template pt, st;
    MECH_LOCALS(m);
    CK_RV trv = g11c_template_encode(pub_tmpl, npub, &pt);
    if (trv != CKR_OK)
        return trv;
    trv = g11c_template_encode(priv_tmpl, npriv, &st);
    if (trv != CKR_OK) {
        g11c_template_free(&pt);
        return trv;
    }
    req.mech = &wm;
    req.n_pubkeytemplate = pt.n;
    req.pubkeytemplate = (Grep11__GenerateKeyPairRequest__PubKeyTemplateEntry **)pt.entries;
    req.n_privkeytemplate = st.n;
    req.privkeytemplate = (Grep11__GenerateKeyPairRequest__PrivKeyTemplateEntry **)st.entries;
    CALL(c, "GenerateKeyPair", req, Grep11__GenerateKeyPairResponse,
         grep11__generate_key_pair_response__descriptor, resp);
    rv = g11c_copy_out(priv_key, g11c_keyblob_pick(resp->privkey, resp->privkeybytes));
    if (rv == CKR_OK &&
        (rv = g11c_copy_out(pub_key, g11c_keyblob_pick(resp->pubkey, resp->pubkeybytes))) != CKR_OK)
        g11c_buf_free(priv_key);
out:
    FREE_REPLY(resp);
    g11c_template_free(&pt);
    g11c_template_free(&st);
    return rv;
}

CK_RV g11c_wrap_key(g11c_conn *c, g11c_bytes key, g11c_bytes kek, g11c_bytes mac_key,
                    const g11c_mech *m, g11c_buf *wrapped)
{
    Grep11__WrapKeyRequest req = GREP11__WRAP_KEY_REQUEST__INIT;
    MECH_LOCALS(m);
    KEY_LOCALS(k, key);
    KEY_LOCALS(w, kek);
    KEY_LOCALS(mk, mac_key);
    req.mech = &wm;
    req.key = &k_kb;
    req.kek = &w_kb;
    req.mackey = mac_key.len ? &mk_kb : NULL;
    CALL(c, "WrapKey", req, Grep11__WrapKeyResponse, grep11__wrap_key_response__descriptor, resp);
    rv = g11c_copy_out(wrapped, resp->wrapped);
out:
    FREE_REPLY(resp);
    return rv;
}

CK_RV g11c_unwrap_key(g11c_conn *c, g11c_bytes wrapped, g11c_bytes kek, g11c_bytes mac_key,
                      const g11c_mech *m, const CK_ATTRIBUTE *tmpl, CK_ULONG n, g11c_buf *key,
                      g11c_buf *checksum)
{
    Grep11__UnwrapKeyRequest req = GREP11__UNWRAP_KEY_REQUEST__INIT;
    g11c_template t;
    MECH_LOCALS(m);
    KEY_LOCALS(w, kek);
    KEY_LOCALS(mk, mac_key);
    CK_RV trv = g11c_template_encode(tmpl, n, &t);
    if (trv != CKR_OK)
        return trv;
    req.wrapped = BIN(wrapped);
    req.mech = &wm;
    req.kek = &w_kb;
    req.mackey = mac_key.len ? &mk_kb : NULL;
    req.n_template_ = t.n;
    req.template_ = (Grep11__UnwrapKeyRequest__TemplateEntry **)t.entries;
    CALL(c, "UnwrapKey", req, Grep11__UnwrapKeyResponse, grep11__unwrap_key_response__descriptor,
         resp);
    rv = copy_new_key(resp->unwrapped, resp->unwrappedbytes, resp->checksum, key, checksum);
out:
    FREE_REPLY(resp);
    g11c_template_free(&t);
    return rv;
}

CK_RV g11c_derive_key(g11c_conn *c, const g11c_mech *m, const CK_ATTRIBUTE *tmpl, CK_ULONG n,
                      g11c_bytes base_key, g11c_bytes data, g11c_buf *key, g11c_buf *checksum)
{
    Grep11__DeriveKeyRequest req = GREP11__DERIVE_KEY_REQUEST__INIT;
    g11c_template t;
    MECH_LOCALS(m);
    KEY_LOCALS(b, base_key);
    CK_RV trv = g11c_template_encode(tmpl, n, &t);
    if (trv != CKR_OK)
        return trv;
    req.mech = &wm;
    req.basekey = &b_kb;
    req.data = BIN(data);
    req.n_template_ = t.n;
    req.template_ = (Grep11__DeriveKeyRequest__TemplateEntry **)t.entries;
    CALL(c, "DeriveKey", req, Grep11__DeriveKeyResponse, grep11__derive_key_response__descriptor,
         resp);
    rv = copy_new_key(resp->newkey, resp->newkeybytes, resp->checksum, key, checksum);
out:
    FREE_REPLY(resp);
    g11c_template_free(&t);
    return rv;
}

void g11c_attrs_free(CK_ATTRIBUTE *attrs, CK_ULONG n)
{
    for (CK_ULONG i = 0; attrs && i < n; i++)
        free(attrs[i].pValue);
    free(attrs);
}

/* One reply attribute as a CK_ATTRIBUTE with a malloc'd value. */
static CK_RV attr_out(uint64_t type, const Grep11__AttributeValue *v, CK_ATTRIBUTE *a)
{
    a->type = (CK_ATTRIBUTE_TYPE)type;
    a->pValue = NULL;
    a->ulValueLen = 0;
    if (!v)
        return CKR_DEVICE_ERROR;
    switch (v->one_attr_case) {
    case GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_TF: {
        CK_BBOOL *b = malloc(sizeof(*b));
        if (!b)
            return CKR_HOST_MEMORY;
        *b = v->attributetf ? CK_TRUE : CK_FALSE;
        a->pValue = b;
        a->ulValueLen = sizeof(*b);
        return CKR_OK;
    }
    case GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_I: {
        CK_ULONG *u = malloc(sizeof(*u));
        if (!u)
            return CKR_HOST_MEMORY;
        *u = (CK_ULONG)v->attributei;
        a->pValue = u;
        a->ulValueLen = sizeof(*u);
        return CKR_OK;
    }
    default: {
        a->pValue = malloc(v->attributeb.len ? v->attributeb.len : 1);
        if (!a->pValue)
            return CKR_HOST_MEMORY;
        if (v->attributeb.len)
            memcpy(a->pValue, v->attributeb.data, v->attributeb.len);
        a->ulValueLen = v->attributeb.len;
        return CKR_OK;
    }
    }
}

CK_RV g11c_attrs_decode(size_t n, void *const *entries, CK_ATTRIBUTE **out, CK_ULONG *nout)
{
    *out = calloc(n ? n : 1, sizeof(CK_ATTRIBUTE));
    *nout = 0;
    if (!*out)
        return CKR_HOST_MEMORY;
    CK_RV rv = CKR_OK;
    for (size_t i = 0; i < n && rv == CKR_OK; i++) {
        /* Every map entry type is {base, uint64 key, AttributeValue *value}. */
        const Grep11__GetAttributeValueResponse__AttributesEntry *e = entries[i];
        rv = attr_out(e->key, e->value, &(*out)[i]);
        *nout = (CK_ULONG)i + 1;
    }
    if (rv != CKR_OK) {
        g11c_attrs_free(*out, *nout);
        *out = NULL;
        *nout = 0;
    }
    return rv;
}

CK_RV g11c_get_attribute_value(g11c_conn *c, g11c_bytes object, const CK_ATTRIBUTE_TYPE *types,
                               CK_ULONG n, CK_ATTRIBUTE **out, CK_ULONG *nout)
{
    Grep11__GetAttributeValueRequest req = GREP11__GET_ATTRIBUTE_VALUE_REQUEST__INIT;
    *out = NULL;
    *nout = 0;
    if (n == 0 || !types)
        return CKR_ARGUMENTS_BAD;
    /* The request names the wanted types as map keys; their values are
     * placeholders the server ignores. */
    CK_ATTRIBUTE *ask = calloc(n, sizeof(*ask));
    uint8_t *zero = calloc(n, sizeof(CK_ULONG));
    g11c_template t = {0};
    CK_RV trv = (ask && zero) ? CKR_OK : CKR_HOST_MEMORY;
    for (CK_ULONG i = 0; trv == CKR_OK && i < n; i++) {
        ask[i].type = types[i];
        ask[i].pValue = zero + i * sizeof(CK_ULONG);
        grep11_attr_kind k = grep11_attr_kind_of(types[i]);
        ask[i].ulValueLen = k == GREP11_ATTR_BOOL ? 1 : k == GREP11_ATTR_ULONG ? 8 : 0;
    }
    if (trv == CKR_OK)
        trv = g11c_template_encode(ask, n, &t);
    free(ask);
    if (trv != CKR_OK) {
        free(zero);
        return trv;
    }
    req.object = BIN(object);
    req.n_attributes = t.n;
    req.attributes = (Grep11__GetAttributeValueRequest__AttributesEntry **)t.entries;
    CALL(c, "GetAttributeValue", req, Grep11__GetAttributeValueResponse,
         grep11__get_attribute_value_response__descriptor, resp);
    rv = g11c_attrs_decode(resp->n_attributes, (void *const *)resp->attributes, out, nout);
out:
    FREE_REPLY(resp);
    g11c_template_free(&t);
    free(zero);
    return rv;
}

CK_RV g11c_set_attribute_value(g11c_conn *c, g11c_bytes object, const CK_ATTRIBUTE *tmpl,
                               CK_ULONG n, g11c_buf *new_object)
{
    Grep11__SetAttributeValueRequest req = GREP11__SET_ATTRIBUTE_VALUE_REQUEST__INIT;
    g11c_template t;
    CK_RV trv = g11c_template_encode(tmpl, n, &t);
    if (trv != CKR_OK)
        return trv;
    req.object = BIN(object);
    req.n_attributes = t.n;
    req.attributes = (Grep11__SetAttributeValueRequest__AttributesEntry **)t.entries;
    CALL(c, "SetAttributeValue", req, Grep11__SetAttributeValueResponse,
         grep11__set_attribute_value_response__descriptor, resp);
    rv = g11c_copy_out(new_object, resp->object);
out:
    FREE_REPLY(resp);
    g11c_template_free(&t);
    return rv;
}

CK_RV g11c_rewrap_key_blob(g11c_conn *c, g11c_bytes blob, g11c_buf *new_blob)
{
    Grep11__RewrapKeyBlobRequest req = GREP11__REWRAP_KEY_BLOB_REQUEST__INIT;
    KEY_LOCALS(k, blob);
    req.wrappedkey = &k_kb;
    CALL(c, "RewrapKeyBlob", req, Grep11__RewrapKeyBlobResponse,
         grep11__rewrap_key_blob_response__descriptor, resp);
    rv = g11c_copy_out(new_blob, g11c_keyblob_pick(resp->rewrappedkey, resp->rewrappedkeybytes));
out:
    FREE_REPLY(resp);
    return rv;
}

CK_RV g11c_login(g11c_conn *c, g11c_bytes store_id, g11c_bytes pin, g11c_buf *pin_blob)
{
    Grep11__LoginRequest req = GREP11__LOGIN_REQUEST__INIT;
    req.storeid = BIN(store_id);
    req.pin = BIN(pin);
    CALL(c, "Login", req, Grep11__LoginResponse, grep11__login_response__descriptor, resp);
    rv = g11c_copy_out(pin_blob, resp->pinblob);
out:
    FREE_REPLY(resp);
    return rv;
}

CK_RV g11c_logout(g11c_conn *c)
{
    Grep11__LogoutRequest req = GREP11__LOGOUT_REQUEST__INIT;
    CALL(c, "Logout", req, Grep11__LogoutResponse, grep11__logout_response__descriptor, resp);
out:
    FREE_REPLY(resp);
    return rv;
}
