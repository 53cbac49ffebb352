/* libgrep11: random, mechanisms, digest, encrypt and decrypt calls. */
#include <stdlib.h>
#include <string.h>

#include "health.pb-c.h"
#include "internal.h"

CK_RV g11c_generate_random(g11c_conn *c, uint8_t *out, size_t len)
{
    if (!out && len)
        return CKR_ARGUMENTS_BAD;
    Grep11__GenerateRandomRequest req = GREP11__GENERATE_RANDOM_REQUEST__INIT;
    req.len = len;
    CALL(c, "GenerateRandom", req, Grep11__GenerateRandomResponse,
         grep11__generate_random_response__descriptor, resp);
    if (resp->rnd.len != len)
        rv = CKR_DEVICE_ERROR;
    else if (len)
        memcpy(out, resp->rnd.data, len);
out:
    g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}

CK_RV g11c_get_mechanism_list(g11c_conn *c, CK_MECHANISM_TYPE **mechs, size_t *count)
{
    Grep11__GetMechanismListRequest req = GREP11__GET_MECHANISM_LIST_REQUEST__INIT;
    *mechs = NULL;
    *count = 0;
    CALL(c, "GetMechanismList", req, Grep11__GetMechanismListResponse,
         grep11__get_mechanism_list_response__descriptor, resp);
    *mechs = calloc(resp->n_mechs ? resp->n_mechs : 1, sizeof(CK_MECHANISM_TYPE));
    if (!*mechs) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    for (size_t i = 0; i < resp->n_mechs; i++)
        (*mechs)[i] = (CK_MECHANISM_TYPE)resp->mechs[i];
    *count = resp->n_mechs;
out:
    g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}

CK_RV g11c_get_mechanism_info(g11c_conn *c, CK_MECHANISM_TYPE mech, CK_MECHANISM_INFO *info)
{
    Grep11__GetMechanismInfoRequest req = GREP11__GET_MECHANISM_INFO_REQUEST__INIT;
    req.mech = mech;
    CALL(c, "GetMechanismInfo", req, Grep11__GetMechanismInfoResponse,
         grep11__get_mechanism_info_response__descriptor, resp);
    if (!resp->mechinfo) {
        rv = CKR_DEVICE_ERROR;
        goto out;
    }
    info->ulMinKeySize = (CK_ULONG)resp->mechinfo->minkeysize;
    info->ulMaxKeySize = (CK_ULONG)resp->mechinfo->maxkeysize;
    info->flags = (CK_FLAGS)resp->mechinfo->flags;
out:
    g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}

CK_RV g11c_health(g11c_conn *c, int *serving)
{
    Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    Grpc__Health__V1__HealthCheckResponse *resp = NULL;
    CK_RV rv =
        g11c_call(c, "/grpc.health.v1.Health/Check", &req.base,
                  &grpc__health__v1__health_check_response__descriptor, (ProtobufCMessage **)&resp);
    if (rv == CKR_OK)
        *serving = resp->status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    if (resp)
        g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}

/* ---- digest ----------------------------------------------------------- */

CK_RV g11c_digest_init(g11c_conn *c, const g11c_mech *m, g11c_buf *state)
{
    Grep11__DigestInitRequest req = GREP11__DIGEST_INIT_REQUEST__INIT;
    Grep11__Mechanism wm;
    g11c_mech_params mp;
    g11c_mech_encode(m, &wm, &mp);
    req.mech = &wm;
    CALL(c, "DigestInit", req, Grep11__DigestInitResponse, grep11__digest_init_response__descriptor,
         resp);
    rv = g11c_copy_out(state, resp->state);
out:
    g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}

CK_RV g11c_digest(g11c_conn *c, g11c_bytes state, g11c_bytes data, g11c_buf *digest)
{
    Grep11__DigestRequest req = GREP11__DIGEST_REQUEST__INIT;
    req.state = BIN(state);
    req.data = BIN(data);
    CALL(c, "Digest", req, Grep11__DigestResponse, grep11__digest_response__descriptor, resp);
    rv = g11c_copy_out(digest, resp->digest);
out:
    g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}

CK_RV g11c_digest_update(g11c_conn *c, g11c_bytes state, g11c_bytes data, g11c_buf *new_state)
{
    Grep11__DigestUpdateRequest req = GREP11__DIGEST_UPDATE_REQUEST__INIT;
    req.state = BIN(state);
    req.data = BIN(data);
    CALL(c, "DigestUpdate", req, Grep11__DigestUpdateResponse,
         grep11__digest_update_response__descriptor, resp);
    rv = g11c_copy_out(new_state, resp->state);
out:
    g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}

CK_RV g11c_digest_key(g11c_conn *c, g11c_bytes state, g11c_bytes key, g11c_buf *new_state)
{
    Grep11__DigestKeyRequest req = GREP11__DIGEST_KEY_REQUEST__INIT;
    Grep11__KeyBlob kb;
    ProtobufCBinaryData slot;
    g11c_keyblob_encode(key, &kb, &slot);
    req.state = BIN(state);
    req.key = &kb;
    CALL(c, "DigestKey", req, Grep11__DigestKeyResponse, grep11__digest_key_response__descriptor,
         resp);
    rv = g11c_copy_out(new_state, resp->state);
out:
    g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}

CK_RV g11c_digest_final(g11c_conn *c, g11c_bytes state, g11c_buf *digest)
{
    Grep11__DigestFinalRequest req = GREP11__DIGEST_FINAL_REQUEST__INIT;
    req.state = BIN(state);
    CALL(c, "DigestFinal", req, Grep11__DigestFinalResponse,
         grep11__digest_final_response__descriptor, resp);
    rv = g11c_copy_out(digest, resp->digest);
out:
    g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}

CK_RV g11c_digest_single(g11c_conn *c, const g11c_mech *m, g11c_bytes data, g11c_buf *digest)
{
    Grep11__DigestSingleRequest req = GREP11__DIGEST_SINGLE_REQUEST__INIT;
    Grep11__Mechanism wm;
    g11c_mech_params mp;
    g11c_mech_encode(m, &wm, &mp);
    req.mech = &wm;
    req.data = BIN(data);
    CALL(c, "DigestSingle", req, Grep11__DigestSingleResponse,
         grep11__digest_single_response__descriptor, resp);
    rv = g11c_copy_out(digest, resp->digest);
out:
    g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}

/* ---- encrypt and decrypt: the two directions share their shapes ------- */

/* Declares the six functions of one direction. IN/OUT name the request's data
 * field and the reply's data field (Plain/Ciphered or Ciphered/Plain). */
#define CIPHER_DIRECTION(dir, Dir, DIR, IN, OUT)                                                   \
    CK_RV g11c_##dir##_init(g11c_conn *c, const g11c_mech *m, g11c_bytes key, g11c_buf *state)     \
    {                                                                                              \
        Grep11__##Dir##InitRequest req = GREP11__##DIR##_INIT_REQUEST__INIT;                       \
        Grep11__Mechanism wm;                                                                      \
        g11c_mech_params mp;                                                                       \
        Grep11__KeyBlob kb;                                                                        \
        ProtobufCBinaryData slot;                                                                  \
        g11c_mech_encode(m, &wm, &mp);                                                             \
        g11c_keyblob_encode(key, &kb, &slot);                                                      \
        req.mech = &wm;                                                                            \
        req.key = &kb;                                                                             \
        CALL(c, #Dir "Init", req, Grep11__##Dir##InitResponse,                                     \
             grep11__##dir##_init_response__descriptor, resp);                                     \
        rv = g11c_copy_out(state, resp->state);                                                    \
    out:                                                                                           \
        g11c_reply_free((ProtobufCMessage *)resp);                                                 \
        return rv;                                                                                 \
    }                                                                                              \
    CK_RV g11c_##dir##_update(g11c_conn *c, g11c_bytes state, g11c_bytes in, g11c_buf *new_state,  \
                              g11c_buf *outb)                                                      \
    {                                                                                              \
        Grep11__##Dir##UpdateRequest req = GREP11__##DIR##_UPDATE_REQUEST__INIT;                   \
        req.state = BIN(state);                                                                    \
        req.IN = BIN(in);                                                                          \
        CALL(c, #Dir "Update", req, Grep11__##Dir##UpdateResponse,                                 \
             grep11__##dir##_update_response__descriptor, resp);                                   \
        rv = g11c_copy_out(new_state, resp->state);                                                \
        if (rv == CKR_OK && (rv = g11c_copy_out(outb, resp->OUT)) != CKR_OK)                       \
            g11c_buf_free(new_state);                                                              \
    out:                                                                                           \
        g11c_reply_free((ProtobufCMessage *)resp);                                                 \
        return rv;                                                                                 \
    }                                                                                              \
    CK_RV g11c_##dir##_final(g11c_conn *c, g11c_bytes state, g11c_buf *outb)                       \
    {                                                                                              \
        Grep11__##Dir##FinalRequest req = GREP11__##DIR##_FINAL_REQUEST__INIT;                     \
        req.state = BIN(state);                                                                    \
        CALL(c, #Dir "Final", req, Grep11__##Dir##FinalResponse,                                   \
             grep11__##dir##_final_response__descriptor, resp);                                    \
        rv = g11c_copy_out(outb, resp->OUT);                                                       \
    out:                                                                                           \
        g11c_reply_free((ProtobufCMessage *)resp);                                                 \
        return rv;                                                                                 \
    }                                                                                              \
    CK_RV g11c_##dir(g11c_conn *c, g11c_bytes state, g11c_bytes in, g11c_buf *outb)                \
    {                                                                                              \
        Grep11__##Dir##Request req = GREP11__##DIR##_REQUEST__INIT;                                \
        req.state = BIN(state);                                                                    \
        req.IN = BIN(in);                                                                          \
        CALL(c, #Dir, req, Grep11__##Dir##Response, grep11__##dir##_response__descriptor, resp);   \
        rv = g11c_copy_out(outb, resp->OUT);                                                       \
    out:                                                                                           \
        g11c_reply_free((ProtobufCMessage *)resp);                                                 \
        return rv;                                                                                 \
    }                                                                                              \
    CK_RV g11c_##dir##_single(g11c_conn *c, g11c_bytes key, const g11c_mech *m, g11c_bytes in,     \
                              g11c_buf *outb)                                                      \
    {                                                                                              \
        Grep11__##Dir##SingleRequest req = GREP11__##DIR##_SINGLE_REQUEST__INIT;                   \
        Grep11__Mechanism wm;                                                                      \
        g11c_mech_params mp;                                                                       \
        Grep11__KeyBlob kb;                                                                        \
        ProtobufCBinaryData slot;                                                                  \
        g11c_mech_encode(m, &wm, &mp);                                                             \
        g11c_keyblob_encode(key, &kb, &slot);                                                      \
        req.mech = &wm;                                                                            \
        req.key = &kb;                                                                             \
        req.IN = BIN(in);                                                                          \
        CALL(c, #Dir "Single", req, Grep11__##Dir##SingleResponse,                                 \
             grep11__##dir##_single_response__descriptor, resp);                                   \
        rv = g11c_copy_out(outb, resp->OUT);                                                       \
    out:                                                                                           \
        g11c_reply_free((ProtobufCMessage *)resp);                                                 \
        return rv;                                                                                 \
    }

CIPHER_DIRECTION(encrypt, Encrypt, ENCRYPT, plain, ciphered)
CIPHER_DIRECTION(decrypt, Decrypt, DECRYPT, ciphered, plain)

CK_RV g11c_reencrypt_single(g11c_conn *c, g11c_bytes dec_key, g11c_bytes enc_key,
                            const g11c_mech *dec_m, const g11c_mech *enc_m, g11c_bytes in,
                            g11c_buf *outb)
{
    Grep11__ReencryptSingleRequest req = GREP11__REENCRYPT_SINGLE_REQUEST__INIT;
    Grep11__Mechanism dm, em;
    g11c_mech_params dmp, emp;
    Grep11__KeyBlob dkb, ekb;
    ProtobufCBinaryData dslot, eslot;
    g11c_mech_encode(dec_m, &dm, &dmp);
    g11c_mech_encode(enc_m, &em, &emp);
    g11c_keyblob_encode(dec_key, &dkb, &dslot);
    g11c_keyblob_encode(enc_key, &ekb, &eslot);
    req.decmech = &dm;
    req.encmech = &em;
    req.deckey = &dkb;
    req.enckey = &ekb;
    req.ciphered = BIN(in);
    CALL(c, "ReencryptSingle", req, Grep11__ReencryptSingleResponse,
         grep11__reencrypt_single_response__descriptor, resp);
    rv = g11c_copy_out(outb, resp->reciphered);
out:
    g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}
