/* Client values -> GREP11 wire messages (borrowing, never copying). */
#include <stdlib.h>
#include <string.h>

#include "grep11/rv_name.h"
#include "grep11/wire.h"
#include "internal.h"

const char *g11c_rv_name(CK_RV rv)
{
    return grep11_rv_name(rv);
}

void g11c_mech_encode(const g11c_mech *m, Grep11__Mechanism *wm, g11c_mech_params *p)
{
    Grep11__RSAOAEPParm *oaep = &p->oaep;
    Grep11__RSAPSSParm *pss = &p->pss;
    grep11__mechanism__init(wm);
    wm->mechanism = m->type;
    switch (m->kind) {
    case G11C_PARAM_BYTES:
        wm->parameter_case = GREP11__MECHANISM__PARAMETER_PARAMETER_B;
        wm->parameterb.data = (uint8_t *)m->bytes.ptr;
        wm->parameterb.len = m->bytes.len;
        break;
    case G11C_PARAM_RSA_OAEP:
        grep11__rsaoaepparm__init(oaep);
        oaep->hashmech = m->oaep.hash;
        oaep->mgf = (Grep11__RSAOAEPParm__Mask)m->oaep.mgf;
        if (m->oaep.label.len) {
            oaep->encodingparmtype = GREP11__RSAOAEPPARM__PARM_TYPE__CkzDataSpecifiied;
            oaep->encodingparm.data = (uint8_t *)m->oaep.label.ptr;
            oaep->encodingparm.len = m->oaep.label.len;
        }
        wm->parameter_case = GREP11__MECHANISM__PARAMETER_RSAOAEPPARAMETER;
        wm->rsaoaepparameter = oaep;
        break;
    case G11C_PARAM_RSA_PSS:
        grep11__rsapssparm__init(pss);
        pss->hashmech = m->pss.hash;
        pss->mgf = (Grep11__RSAPSSParm__Mask)m->pss.mgf;
        pss->saltbytecount = m->pss.salt_len;
        wm->parameter_case = GREP11__MECHANISM__PARAMETER_RSAPSSPARAMETER;
        wm->rsapssparameter = pss;
        break;
    case G11C_PARAM_ECDH1:
        grep11__ecdh1_derive_parm__init(&p->ecdh);
        p->ecdh.kdf = (Grep11__ECDH1DeriveParm__KeyDerivationFunction)m->ecdh.kdf;
        p->ecdh.shareddata =
            (ProtobufCBinaryData){m->ecdh.shared_data.len, (uint8_t *)m->ecdh.shared_data.ptr};
        p->ecdh.publicdata =
            (ProtobufCBinaryData){m->ecdh.public_data.len, (uint8_t *)m->ecdh.public_data.ptr};
        wm->parameter_case = GREP11__MECHANISM__PARAMETER_ECDH1_DERIVE_PARAMETER;
        wm->ecdh1deriveparameter = &p->ecdh;
        break;
    case G11C_PARAM_KYBER:
        grep11__kyber_kemparm__init(&p->kyber);
        p->kyber.version = (uint32_t)m->kyber.version;
        p->kyber.mode = (Grep11__KyberKEMParm__KyberMode)m->kyber.mode;
        p->kyber.kdf = (Grep11__KyberKEMParm__KyberDeriveType)m->kyber.kdf;
        p->kyber.prepend = m->kyber.prepend != CK_FALSE;
        p->kyber.ciphertext =
            (ProtobufCBinaryData){m->kyber.cipher_text.len, (uint8_t *)m->kyber.cipher_text.ptr};
        p->kyber.shareddata =
            (ProtobufCBinaryData){m->kyber.shared_data.len, (uint8_t *)m->kyber.shared_data.ptr};
        p->kyber.blob = (ProtobufCBinaryData){m->kyber.blob.len, (uint8_t *)m->kyber.blob.ptr};
        wm->parameter_case = GREP11__MECHANISM__PARAMETER_KYBER_KEMPARAMETER;
        wm->kyberkemparameter = &p->kyber;
        break;
    case G11C_PARAM_BTC:
        grep11__btcderive_parm__init(&p->btc);
        p->btc.type = (Grep11__BTCDeriveParm__BTCDeriveType)m->btc.type;
        p->btc.childkeyindex = m->btc.index;
        p->btc.chaincode =
            (ProtobufCBinaryData){m->btc.chain_code.len, (uint8_t *)m->btc.chain_code.ptr};
        p->btc.version = m->btc.version;
        wm->parameter_case = GREP11__MECHANISM__PARAMETER_BTCDERIVE_PARAMETER;
        wm->btcderiveparameter = &p->btc;
        break;
    case G11C_PARAM_ECSG:
        grep11__ecsgparm__init(&p->ecsg);
        p->ecsg.type = (Grep11__ECSGParm__ECSGType)m->ecsg.type;
        wm->parameter_case = GREP11__MECHANISM__PARAMETER_ECSGPARAMETER;
        wm->ecsgparameter = &p->ecsg;
        break;
    default:
        break;
    }
}

g11c_bytes g11c_key_ref(const uint8_t id[16], uint8_t buf[G11C_KEY_REF_LEN])
{
    size_t p = strlen(G11C_KEYBLOB_ID_PREFIX);
    memcpy(buf, G11C_KEYBLOB_ID_PREFIX, p);
    memcpy(buf + p, id, 16);
    g11c_bytes b = {buf, G11C_KEY_REF_LEN};
    return b;
}

void g11c_keyblob_encode(g11c_bytes key, Grep11__KeyBlob *kb, ProtobufCBinaryData *slot)
{
    grep11__key_blob__init(kb);
    size_t p = strlen(G11C_KEYBLOB_ID_PREFIX);
    if (key.len == G11C_KEY_REF_LEN && memcmp(key.ptr, G11C_KEYBLOB_ID_PREFIX, p) == 0) {
        /* A reference to a stored key: the server fetches it. */
        kb->keyblobid.data = (uint8_t *)key.ptr + p;
        kb->keyblobid.len = 16;
        return;
    }
    slot->data = (uint8_t *)key.ptr;
    slot->len = key.len;
    kb->n_keyblobs = 1;
    kb->keyblobs = slot;
}

ProtobufCBinaryData g11c_keyblob_pick(const Grep11__KeyBlob *kb, ProtobufCBinaryData raw)
{
    if (kb && kb->n_keyblobs > 0)
        return kb->keyblobs[0];
    return raw;
}

CK_RV g11c_template_encode(const CK_ATTRIBUTE *tmpl, CK_ULONG n, g11c_template *out)
{
    memset(out, 0, sizeof(*out));
    if (n == 0)
        return CKR_OK;
    if (!tmpl)
        return CKR_ARGUMENTS_BAD;
    out->entries = calloc(n, sizeof(void *));
    out->values = calloc(n, sizeof(Grep11__AttributeValue));
    out->storage = calloc(n, sizeof(Grep11__GenerateKeyRequest__TemplateEntry));
    if (!out->entries || !out->values || !out->storage) {
        g11c_template_free(out);
        return CKR_HOST_MEMORY;
    }
    for (CK_ULONG i = 0; i < n; i++) {
        Grep11__AttributeValue *v = &out->values[i];
        grep11__attribute_value__init(v);
        const CK_ATTRIBUTE *a = &tmpl[i];
        if (a->ulValueLen && !a->pValue) {
            g11c_template_free(out);
            return CKR_ARGUMENTS_BAD;
        }
        switch (grep11_attr_kind_of(a->type)) {
        case GREP11_ATTR_BOOL:
            if (a->ulValueLen != sizeof(CK_BBOOL)) {
                g11c_template_free(out);
                return CKR_ATTRIBUTE_VALUE_INVALID;
            }
            v->one_attr_case = GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_TF;
            v->attributetf = *(const CK_BBOOL *)a->pValue != CK_FALSE;
            break;
        case GREP11_ATTR_ULONG: {
            CK_ULONG u;
            if (a->ulValueLen != sizeof(CK_ULONG)) {
                g11c_template_free(out);
                return CKR_ATTRIBUTE_VALUE_INVALID;
            }
            memcpy(&u, a->pValue, sizeof(u));
            v->one_attr_case = GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_I;
            v->attributei = (int64_t)u;
            break;
        }
        default:
            v->one_attr_case = GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_B;
            v->attributeb.data = a->pValue;
            v->attributeb.len = a->ulValueLen;
            break;
        }
        /* Every template map's entry message is {uint64 key = 1; AttributeValue
         * value = 2} under a different name; protobuf-c packs each entry with
         * its own descriptor, so one entry type encodes any template map. */
        grep11__generate_key_request__template_entry__init(&out->storage[i]);
        out->storage[i].key = a->type;
        out->storage[i].value = v;
        out->entries[i] = &out->storage[i];
    }
    out->n = n;
    return CKR_OK;
}

void g11c_template_free(g11c_template *t)
{
    free(t->entries);
    free(t->values);
    free(t->storage);
    memset(t, 0, sizeof(*t));
}
