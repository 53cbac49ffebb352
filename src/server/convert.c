#include "convert.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

CK_RV conv_mech(rpc_ctx *ctx, const Grep11__Mechanism *m, engine_mech *out)
{
    memset(out, 0, sizeof(*out));
    if (!m)
        return rpc_fail(ctx, CKR_MECHANISM_INVALID, "mechanism missing");
    out->type = (CK_MECHANISM_TYPE)m->mechanism;
    /* A parameter in a field this server does not know (a later wire
     * generation): a parameter type not implemented, not "no parameter". */
    if (m->base.n_unknown_fields)
        return rpc_fail(ctx, CKR_MECHANISM_INVALID, "mechanism parameter type not supported");
    switch (m->parameter_case) {
    case GREP11__MECHANISM__PARAMETER__NOT_SET:
        out->kind = ENGINE_PARAM_NONE;
        break;
    case GREP11__MECHANISM__PARAMETER_PARAMETER_B:
        out->kind = ENGINE_PARAM_BYTES;
        out->bytes.ptr = m->parameterb.data;
        out->bytes.len = m->parameterb.len;
        break;
    case GREP11__MECHANISM__PARAMETER_RSAOAEPPARAMETER:
        out->kind = ENGINE_PARAM_RSA_OAEP;
        out->oaep.hash = (CK_MECHANISM_TYPE)m->rsaoaepparameter->hashmech;
        out->oaep.mgf = (CK_ULONG)m->rsaoaepparameter->mgf;
        out->oaep.label.ptr = m->rsaoaepparameter->encodingparm.data;
        out->oaep.label.len = m->rsaoaepparameter->encodingparm.len;
        break;
    case GREP11__MECHANISM__PARAMETER_RSAPSSPARAMETER:
        out->kind = ENGINE_PARAM_RSA_PSS;
        out->pss.hash = (CK_MECHANISM_TYPE)m->rsapssparameter->hashmech;
        out->pss.mgf = (CK_ULONG)m->rsapssparameter->mgf;
        out->pss.salt_len = (CK_ULONG)m->rsapssparameter->saltbytecount;
        break;
    case GREP11__MECHANISM__PARAMETER_ECDH1_DERIVE_PARAMETER: {
        const Grep11__ECDH1DeriveParm *p = m->ecdh1deriveparameter;
        out->kind = ENGINE_PARAM_ECDH1;
        out->ecdh.kdf = (CK_ULONG)p->kdf;
        out->ecdh.shared_data = (engine_bytes){p->shareddata.data, p->shareddata.len};
        out->ecdh.public_data = (engine_bytes){p->publicdata.data, p->publicdata.len};
        break;
    }
    case GREP11__MECHANISM__PARAMETER_KYBER_KEMPARAMETER: {
        const Grep11__KyberKEMParm *p = m->kyberkemparameter;
        out->kind = ENGINE_PARAM_KYBER;
        out->kyber.version = p->version;
        out->kyber.mode = (CK_ULONG)p->mode;
        out->kyber.kdf = (CK_ULONG)p->kdf;
        out->kyber.prepend = p->prepend ? CK_TRUE : CK_FALSE;
        out->kyber.cipher_text = (engine_bytes){p->ciphertext.data, p->ciphertext.len};
        out->kyber.shared_data = (engine_bytes){p->shareddata.data, p->shareddata.len};
        out->kyber.blob = (engine_bytes){p->blob.data, p->blob.len};
        break;
    }
    case GREP11__MECHANISM__PARAMETER_BTCDERIVE_PARAMETER: {
        /* Values are the engine's to judge (type, index, chain code, version). */
        const Grep11__BTCDeriveParm *p = m->btcderiveparameter;
        out->kind = ENGINE_PARAM_BTC;
        out->btc.type = p->type < 0 ? (CK_ULONG)-1 : (CK_ULONG)p->type;
        out->btc.index = p->childkeyindex;
        out->btc.chain_code = (engine_bytes){p->chaincode.data, p->chaincode.len};
        out->btc.version = (CK_ULONG)p->version;
        break;
    }
    case GREP11__MECHANISM__PARAMETER_ECSGPARAMETER:
        /* The type is the engine's to judge (BLS and unknown values too). */
        out->kind = ENGINE_PARAM_ECSG;
        out->ecsg.type =
            m->ecsgparameter->type < 0 ? (CK_ULONG)-1 : (CK_ULONG)m->ecsgparameter->type;
        break;
    default: /* ECAGGParm until CKM_IBM_EC_AGGREGATE is implemented */
        return rpc_fail(ctx, CKR_MECHANISM_INVALID, "mechanism parameter type not supported");
    }
    return CKR_OK;
}

CK_RV conv_keyblob(rpc_ctx *ctx, const Grep11__KeyBlob *kb, const char *what, engine_bytes *out)
{
    out->ptr = NULL;
    out->len = 0;
    if (!kb)
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "%s missing", what);
    if (kb->n_keyblobs == 0) {
        if (kb->keyblobid.len)
            return store_resolve_keyblob(ctx, kb->keyblobid, out);
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "%s carries no key blob", what);
    }
    out->ptr = kb->keyblobs[0].data;
    out->len = kb->keyblobs[0].len;
    return CKR_OK;
}

static int keyblob_empty(const Grep11__KeyBlob *kb)
{
    return !kb || (kb->n_keyblobs == 0 && kb->keyblobid.len == 0);
}

CK_RV conv_key(rpc_ctx *ctx, const Grep11__KeyBlob *kb, ProtobufCBinaryData legacy,
               const char *what, engine_bytes *out)
{
    if (legacy.len == 0)
        return conv_keyblob(ctx, kb, what, out);
    if (!keyblob_empty(kb) && (kb->n_keyblobs == 0 || kb->keyblobs[0].len != legacy.len ||
                               memcmp(kb->keyblobs[0].data, legacy.data, legacy.len) != 0))
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "%s sent twice (KeyBlob and bytes), differently",
                        what);
    out->ptr = legacy.data;
    out->len = legacy.len;
    return CKR_OK;
}

/* A boolean attribute's value in whichever encoding it came: AttributeTF,
 * or 0/1 as AttributeI or as one AttributeB byte (older clients). Anything
 * else is refused, so no check downstream can be passed by an encoding it
 * does not expect: every boolean reaches them as one CK_BBOOL. */
static CK_RV bool_in(const Grep11__AttributeValue *v, CK_BBOOL *out)
{
    switch (v->one_attr_case) {
    case GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_TF:
        *out = v->attributetf ? CK_TRUE : CK_FALSE;
        return CKR_OK;
    case GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_I:
        if (v->attributei != 0 && v->attributei != 1)
            return CKR_ATTRIBUTE_VALUE_INVALID;
        *out = v->attributei ? CK_TRUE : CK_FALSE;
        return CKR_OK;
    default:
        if (v->attributeb.len != 1 || v->attributeb.data[0] > 1)
            return CKR_ATTRIBUTE_VALUE_INVALID;
        *out = v->attributeb.data[0];
        return CKR_OK;
    }
}

CK_RV conv_attr_in(rpc_ctx *ctx, uint64_t type, const Grep11__AttributeValue *v, CK_ATTRIBUTE *out,
                   uint8_t scratch[8])
{
    out->type = (CK_ATTRIBUTE_TYPE)type;
    if (!v || v->one_attr_case == GREP11__ATTRIBUTE_VALUE__ONE_ATTR__NOT_SET)
        return rpc_fail(ctx, CKR_ATTRIBUTE_VALUE_INVALID, "attribute 0x%llx has no value",
                        (unsigned long long)type);
    if (grep11_attr_kind_of(out->type) == GREP11_ATTR_BOOL) {
        CK_BBOOL b;
        if (bool_in(v, &b) != CKR_OK)
            return rpc_fail(ctx, CKR_ATTRIBUTE_VALUE_INVALID,
                            "attribute 0x%llx is a boolean: TRUE or FALSE",
                            (unsigned long long)type);
        memcpy(scratch, &b, sizeof(b));
        out->pValue = scratch;
        out->ulValueLen = sizeof(CK_BBOOL);
        return CKR_OK;
    }
    switch (v->one_attr_case) {
    case GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_TF: {
        /* Attributes we do not know (vendor booleans) pass as a CK_BBOOL. */
        CK_BBOOL b = v->attributetf ? CK_TRUE : CK_FALSE;
        if (grep11_attr_kind_of(out->type) == GREP11_ATTR_ULONG)
            return rpc_fail(ctx, CKR_ATTRIBUTE_VALUE_INVALID, "attribute 0x%llx is not a boolean",
                            (unsigned long long)type);
        memcpy(scratch, &b, sizeof(b));
        out->pValue = scratch;
        out->ulValueLen = sizeof(CK_BBOOL);
        break;
    }
    case GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_I: {
        /* -1 is CK_UNAVAILABLE_INFORMATION (~0) as a signed wire integer
         * (e.g. CKA_KEY_GEN_MECHANISM of an imported key); other negative
         * values mean nothing for a CK_ULONG. */
        if (v->attributei < -1)
            return rpc_fail(ctx, CKR_ATTRIBUTE_VALUE_INVALID, "attribute 0x%llx: negative integer",
                            (unsigned long long)type);
        CK_ULONG u = v->attributei == -1 ? CK_UNAVAILABLE_INFORMATION : (CK_ULONG)v->attributei;
        memcpy(scratch, &u, sizeof(u));
        out->pValue = scratch;
        out->ulValueLen = sizeof(CK_ULONG);
        break;
    }
    default:
        out->pValue = v->attributeb.data;
        out->ulValueLen = v->attributeb.len;
        break;
    }
    return CKR_OK;
}

CK_RV conv_template_in(rpc_ctx *ctx, size_t n, void *const *entries, conv_template *out)
{
    memset(out, 0, sizeof(*out));
    if (n == 0)
        return CKR_OK;
    if (n > 256)
        return rpc_fail(ctx, CKR_TEMPLATE_INCONSISTENT, "template has %zu attributes", n);
    out->attrs = calloc(n, sizeof(CK_ATTRIBUTE));
    out->scratch = calloc(n, 8);
    if (!out->attrs || !out->scratch) {
        conv_template_free(out);
        return CKR_HOST_MEMORY;
    }
    for (size_t i = 0; i < n; i++) {
        const conv_map_entry *e = entries[i];
        CK_RV rv = conv_attr_in(ctx, e->key, e->value, &out->attrs[i], out->scratch[i]);
        if (rv != CKR_OK) {
            conv_template_free(out);
            return rv;
        }
    }
    out->n = (CK_ULONG)n;
    return CKR_OK;
}

void conv_template_free(conv_template *t)
{
    if (t->scratch)
        OPENSSL_cleanse(t->scratch, (size_t)t->n * 8);
    free(t->attrs);
    free(t->scratch);
    memset(t, 0, sizeof(*t));
}

void conv_keyblob_out(Grep11__KeyBlob *kb, ProtobufCBinaryData *slot, const engine_buf *blob)
{
    grep11__key_blob__init(kb);
    *slot = conv_bin(blob);
    kb->n_keyblobs = 1;
    kb->keyblobs = slot;
}

CK_RV conv_attrs_out(const CK_ATTRIBUTE *attrs, CK_ULONG n, const ProtobufCMessageDescriptor *entry,
                     conv_map_out *out)
{
    memset(out, 0, sizeof(*out));
    out->entries = calloc(n ? n : 1, sizeof(*out->entries));
    out->storage = calloc(n ? n : 1, sizeof(*out->storage));
    out->values = calloc(n ? n : 1, sizeof(*out->values));
    if (!out->entries || !out->storage || !out->values) {
        conv_map_out_free(out);
        return CKR_HOST_MEMORY;
    }
    size_t k = 0;
    for (CK_ULONG i = 0; i < n; i++) {
        if (attrs[i].ulValueLen == CK_UNAVAILABLE_INFORMATION)
            continue; /* sensitive or absent: not reported */
        Grep11__AttributeValue *v = &out->values[k];
        grep11__attribute_value__init(v);
        protobuf_c_message_init(entry, &out->storage[k]);
        out->storage[k].key = attrs[i].type;
        out->storage[k].value = v;
        const uint8_t *p = attrs[i].pValue;
        switch (grep11_attr_kind_of(attrs[i].type)) {
        case GREP11_ATTR_BOOL:
            v->one_attr_case = GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_TF;
            v->attributetf = attrs[i].ulValueLen >= 1 && p[0] != 0;
            break;
        case GREP11_ATTR_ULONG: {
            CK_ULONG u = 0;
            if (attrs[i].ulValueLen == sizeof(u))
                memcpy(&u, p, sizeof(u));
            v->one_attr_case = GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_I;
            v->attributei = (int64_t)u;
            break;
        }
        default:
            v->one_attr_case = GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_B;
            v->attributeb.data = (uint8_t *)p;
            v->attributeb.len = attrs[i].ulValueLen;
            break;
        }
        out->entries[k] = &out->storage[k];
        k++;
    }
    out->n = k;
    return CKR_OK;
}

void conv_map_out_free(conv_map_out *m)
{
    free(m->entries);
    free(m->storage);
    free(m->values);
    memset(m, 0, sizeof(*m));
}
