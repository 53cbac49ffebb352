/* Wire (protobuf-c GREP11 messages) <-> engine types. Every value a client
 * sends is checked here or in the engine; nothing is trusted. */
#ifndef GREP11_SERVER_CONVERT_H
#define GREP11_SERVER_CONVERT_H

#include "engine.h"
#include "grep11/wire.h"
#include "rpc.h"
#include "server.pb-c.h"

/* Mechanism message -> engine_mech (borrowing the message's bytes). */
CK_RV conv_mech(rpc_ctx *ctx, const Grep11__Mechanism *m, engine_mech *out);

/* KeyBlob message -> the sealed blob bytes it carries, or (KeyBlobID) the
 * stored key it names, fetched after checking the caller may read it. */
CK_RV conv_keyblob(rpc_ctx *ctx, const Grep11__KeyBlob *kb, const char *what, engine_bytes *out);
/* The same for a request of either wire generation: legacy is the older
 * generation's raw-bytes field for this key (len 0: not sent). Absent
 * KeyBlob: the legacy bytes are the blob. Both, differing:
 * CKR_ARGUMENTS_BAD. */
CK_RV conv_key(rpc_ctx *ctx, const Grep11__KeyBlob *kb, ProtobufCBinaryData legacy,
               const char *what, engine_bytes *out);

/* KeyBlobID -> blob of a stored key the caller may read (handlers_store.c). */
CK_RV store_resolve_keyblob(rpc_ctx *ctx, ProtobufCBinaryData id, engine_bytes *out);

/* Attribute map entry -> CK_ATTRIBUTE; the value points into the message
 * except for booleans and integers, stored in *scratch (8 bytes). */
CK_RV conv_attr_in(rpc_ctx *ctx, uint64_t type, const Grep11__AttributeValue *v, CK_ATTRIBUTE *out,
                   uint8_t scratch[8]);

/* A template map (any message's map<uint64, AttributeValue>) as a CK_ATTRIBUTE
 * array. The entries of every map type share one layout, which protoc-c
 * guarantees (base, key, value), so they are read through conv_map_entry. */
typedef struct {
    ProtobufCMessage base;
    uint64_t key;
    Grep11__AttributeValue *value;
} conv_map_entry;

typedef struct {
    CK_ATTRIBUTE *attrs;
    CK_ULONG n;
    uint8_t (*scratch)[8];
} conv_template;

CK_RV conv_template_in(rpc_ctx *ctx, size_t n, void *const *entries, conv_template *out);
void conv_template_free(conv_template *t);

/* CK_ATTRIBUTE array -> map<uint64, AttributeValue> entries, typed by
 * attribute kind. Attributes with CK_UNAVAILABLE_INFORMATION are left out.
 * The entries borrow the values; free with conv_map_out_free. Every map entry
 * type shares one layout, so `entries` can be cast to any map's entry type. */
typedef struct {
    size_t n;
    conv_map_entry **entries;
    conv_map_entry *storage;
    Grep11__AttributeValue *values;
} conv_map_out;

CK_RV conv_attrs_out(const CK_ATTRIBUTE *attrs, CK_ULONG n, const ProtobufCMessageDescriptor *entry,
                     conv_map_out *out);
void conv_map_out_free(conv_map_out *m);

/* engine_buf -> ProtobufCBinaryData (borrowed; the buf still owns memory). */
static inline ProtobufCBinaryData conv_bin(const engine_buf *b)
{
    ProtobufCBinaryData d = {b->len, b->ptr};
    return d;
}

/* Fills kb as a KeyBlob carrying one blob (kb must outlive the reply). */
void conv_keyblob_out(Grep11__KeyBlob *kb, ProtobufCBinaryData *slot, const engine_buf *blob);

#endif
