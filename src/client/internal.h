/* libgrep11 internals: the one unary-call path and encoding helpers. */
#ifndef GREP11_CLIENT_INTERNAL_H
#define GREP11_CLIENT_INTERNAL_H

#include <grpc/grpc.h>
#include <protobuf-c/protobuf-c.h>

#include "grep11_client.h"
#include "server.pb-c.h"

#define G11C_CRYPTO(name) "/grep11.Crypto/" name
/* The one call that never carries a bearer token. */
#define G11C_AUTH_TOKEN "/grep11.Auth/Token"

/* Sends req to method and decodes the reply as resp_desc. On success *resp
 * must be released with g11c_reply_free. */
CK_RV g11c_call(g11c_conn *c, const char *method, const ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp);
/* The same for a Store write; keyed: req carries a RequestID, so that the
 * call may be resent after an uncertain failure (resend.h). */
CK_RV g11c_call_keyed(g11c_conn *c, const char *method, const ProtobufCMessage *req, int keyed,
                      const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp);
void g11c_reply_free(ProtobufCMessage *resp);

/* The one mapping from a finished call's gRPC status (and the Grep11Error in
 * its trailers, if any) to a CK_RV plus a readable detail. */
CK_RV g11c_status_to_rv(grpc_status_code code, const grpc_metadata_array *trailers, char *detail,
                        size_t cap);

/* The part of that mapping for a status without the server's own error. */
CK_RV g11c_code_to_rv(grpc_status_code code, char *detail, size_t cap);

/* Whether a finished call's trailers carry the server's own error. */
int g11c_has_grep11_error(const grpc_metadata_array *trailers);

/* Copies a reply field into a caller-owned buffer. */
CK_RV g11c_copy_out(g11c_buf *out, ProtobufCBinaryData d);

/* Wire forms of client values; the encoders borrow, never copy. */
/* Storage for whichever parameter message a mechanism needs. */
typedef struct {
    Grep11__RSAOAEPParm oaep;
    Grep11__RSAPSSParm pss;
    Grep11__ECDH1DeriveParm ecdh;
    Grep11__KyberKEMParm kyber;
    Grep11__BTCDeriveParm btc;
    Grep11__ECSGParm ecsg;
} g11c_mech_params;

void g11c_mech_encode(const g11c_mech *m, Grep11__Mechanism *wm, g11c_mech_params *p);
void g11c_keyblob_encode(g11c_bytes key, Grep11__KeyBlob *kb, ProtobufCBinaryData *slot);
/* The blob a response carries: KeyBlob.KeyBlobs[0] if present, else raw. */
ProtobufCBinaryData g11c_keyblob_pick(const Grep11__KeyBlob *kb, ProtobufCBinaryData raw);

/* A template as a map<uint64, AttributeValue>; free with g11c_template_free. */
typedef struct {
    size_t n;
    void **entries; /* every map entry type shares this layout */
    Grep11__AttributeValue *values;
    Grep11__GenerateKeyRequest__TemplateEntry *storage;
} g11c_template;

/* A reply's attribute map as a CK_ATTRIBUTE array (values malloc'd). */
CK_RV g11c_attrs_decode(size_t n, void *const *entries, CK_ATTRIBUTE **out, CK_ULONG *nout);

CK_RV g11c_template_encode(const CK_ATTRIBUTE *tmpl, CK_ULONG n, g11c_template *out);
void g11c_template_free(g11c_template *t);

#define BIN(b) ((ProtobufCBinaryData){(b).len, (uint8_t *)(b).ptr})

/* Sends req (a local message) and, on success, leaves the typed reply in
 * `resp` for the statements that follow; jumps to `out` on failure. The
 * caller ends with `out: g11c_reply_free((ProtobufCMessage *)resp);`. */
#define CALL(c, name, req, rtype, rdesc, resp)                                                     \
    rtype *resp = NULL;                                                                            \
    CK_RV rv =                                                                                     \
        g11c_call((c), G11C_CRYPTO(name), &(req).base, &(rdesc), (ProtobufCMessage **)&resp);      \
    if (rv != CKR_OK)                                                                              \
        goto out;

#endif
