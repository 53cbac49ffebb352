/* Store writes made by handlers, each with what commits with it
 * (store.h, store_with): the record of the caller's RequestID, so that a
 * resend gets the first answer, and the call's audit entry, so that no
 * write stands without it (custody_tie). */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "custody.h"
#include "handlers.h"
#include "services.h"

/* What a RequestID stands for: the method and the request without its
 * RequestID and Password (the digest is stored; a password must not be
 * guessable from it). A shallow copy is enough to clear two fields. */
static CK_RV request_digest(const rpc_ctx *ctx, uint8_t out[32])
{
    const ProtobufCMessage *msg = ctx->req;
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    uint8_t *copy = malloc(d->sizeof_message), *packed = NULL;
    CK_RV rv = copy ? CKR_OK : CKR_HOST_MEMORY;
    if (rv != CKR_OK)
        return rv;
    memcpy(copy, msg, d->sizeof_message);
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(d, "Password");
    if (f && f->type == PROTOBUF_C_TYPE_STRING)
        *(const char **)(copy + f->offset) = "";
    f = protobuf_c_message_descriptor_get_field_by_name(d, "RequestID");
    if (f && f->type == PROTOBUF_C_TYPE_BYTES)
        memset(copy + f->offset, 0, sizeof(ProtobufCBinaryData));
    size_t len = protobuf_c_message_get_packed_size((const ProtobufCMessage *)copy);
    packed = malloc(len ? len : 1);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned int n = 0;
    if (!packed || !md)
        rv = CKR_HOST_MEMORY;
    if (rv == CKR_OK) {
        protobuf_c_message_pack((const ProtobufCMessage *)copy, packed);
        if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
            EVP_DigestUpdate(md, ctx->method->path, strlen(ctx->method->path) + 1) != 1 ||
            EVP_DigestUpdate(md, packed, len) != 1 || EVP_DigestFinal_ex(md, out, &n) != 1)
            rv = CKR_GENERAL_ERROR;
    }
    EVP_MD_CTX_free(md);
    free(packed);
    free(copy);
    return rv;
}

/* Runs a write with what commits with it: the record of its RequestID (a
 * resend gets the first answer) and its audit entry (no write without
 * one, none without its write). The tie is taken again when another
 * replica moved the audit chain's head under it. */
#define TIE_ATTEMPTS 32
CK_RV rpc_write_tied(rpc_ctx *ctx, ProtobufCBinaryData request_id, rpc_write_fn fn, void *arg)
{
    store_with w;
    memset(&w, 0, sizeof(w));
    if (request_id.len != 0 && request_id.len != STORE_REQUEST_ID_LEN)
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "RequestID must be 16 bytes");
    CK_RV rv = CKR_OK;
    if (request_id.len) {
        w.request_id = request_id.data;
        rv = request_digest(ctx, w.request_digest);
    }
    for (int attempt = 0; rv == CKR_OK && attempt < TIE_ATTEMPTS; attempt++) {
        custody_tie t;
        rv = custody_tie_begin(ctx->svc->cust, ctx, &t, &w.also);
        if (rv == CKR_OK)
            rv = fn(ctx, &w, arg);
        if (!custody_tie_end(ctx->svc->cust, ctx, &t, rv, rv == CKR_OK && !w.replayed))
            return rv == CKR_GREP11_REQUEST_REUSED
                       ? rpc_fail(ctx, rv, "this RequestID was used for another request")
                       : rv;
        rv = CKR_OK;
    }
    return rv == CKR_OK ? CKR_DEVICE_ERROR : rv; /* the head kept moving */
}
