/* pb_guard_check: the wire walk of pb_guard.h. It mirrors what
 * protobuf-c's decoder allocates closely enough to bound it from above:
 * the message structs, arrays of repeated fields, copies of byte strings,
 * unknown fields, and the scratch record the decoder keeps per field
 * occurrence while it scans. */
#include "grep11/pb_guard.h"

#include <stdlib.h>
#include <string.h>

/* protobuf-c's per-occurrence scan record (ScannedMember) is about this. */
#define SCAN_RECORD_BYTES 40
#define UNKNOWN_FIELD_BYTES sizeof(ProtobufCMessageUnknownField)
/* Messages with more fields than this count occurrences in a heap array. */
#define STACK_FIELDS 32

enum { WT_VARINT = 0, WT_64BIT = 1, WT_LEN = 2, WT_32BIT = 5 };

typedef struct {
    const pb_guard_limits *lim;
    size_t alloc; /* running estimate of what decoding allocates */
} walk_state;

/* Reads a varint at *p (< end); 0 when it is cut short or over 10 bytes. */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 1;
        }
    }
    return 0;
}

static int charge(walk_state *w, size_t n)
{
    if (n > w->lim->max_alloc - w->alloc)
        return 0;
    w->alloc += n;
    return 1;
}

/* Size of one element of a repeated scalar field as protobuf-c stores it. */
static size_t scalar_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    default:
        return 4;
    }
}

/* Elements in a packed repeated scalar field of n bytes at p. */
static size_t packed_count(ProtobufCType t, const uint8_t *p, size_t n)
{
    size_t k = 0;
    switch (t) {
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return n / 4;
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return n / 8;
    default: /* varints: one ends at each byte without the high bit */
        for (size_t i = 0; i < n; i++)
            k += !(p[i] & 0x80);
        return k;
    }
}

static pb_guard_result walk(walk_state *w, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                            size_t len, unsigned depth);

/* One occurrence of field f (wire type LEN), n bytes at p. */
static pb_guard_result charge_len_field(walk_state *w, const ProtobufCFieldDescriptor *f,
                                        const uint8_t *p, size_t n, unsigned depth,
                                        size_t *elements)
{
    int repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
    *elements = 1;
    switch (f->type) {
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessageDescriptor *sub = f->descriptor;
        if (!charge(w, sub->sizeof_message + (repeated ? sizeof(void *) : 0)))
            return PB_GUARD_TOO_BIG;
        return walk(w, sub, p, n, depth + 1);
    }
    case PROTOBUF_C_TYPE_BYTES:
        return charge(w, n + 1 + (repeated ? sizeof(ProtobufCBinaryData) : 0)) ? PB_GUARD_OK
                                                                               : PB_GUARD_TOO_BIG;
    case PROTOBUF_C_TYPE_STRING:
        return charge(w, n + 1 + (repeated ? sizeof(char *) : 0)) ? PB_GUARD_OK : PB_GUARD_TOO_BIG;
    default: /* a packed repeated scalar */
        *elements = packed_count(f->type, p, n);
        return charge(w, *elements * scalar_size(f->type)) ? PB_GUARD_OK : PB_GUARD_TOO_BIG;
    }
}

static pb_guard_result walk(walk_state *w, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                            size_t len, unsigned depth)
{
    pb_guard_result r = PB_GUARD_OK;
    size_t stack_counts[STACK_FIELDS] = {0}, *counts = stack_counts, unknown = 0;
    const uint8_t *end;

    if (depth > w->lim->max_depth)
        return PB_GUARD_TOO_DEEP;
    if (len == 0) /* an empty message (its bytes may be NULL) */
        return PB_GUARD_OK;
    end = p + len;
    if (d->n_fields > STACK_FIELDS && (counts = calloc(d->n_fields, sizeof(*counts))) == NULL)
        return PB_GUARD_TOO_BIG;
    while (p < end && r == PB_GUARD_OK) {
        uint64_t tag, v, n = 0;
        const uint8_t *field_start = p;
        if (!read_varint(&p, end, &tag) || (tag >> 3) == 0 || (tag >> 3) > UINT32_MAX) {
            r = PB_GUARD_MALFORMED;
            break;
        }
        switch (tag & 7) {
        case WT_VARINT:
            if (!read_varint(&p, end, &v))
                r = PB_GUARD_MALFORMED;
            break;
        case WT_64BIT:
        case WT_32BIT:
            n = (tag & 7) == WT_64BIT ? 8 : 4;
            if ((size_t)(end - p) < n)
                r = PB_GUARD_MALFORMED;
            else
                p += n;
            break;
        case WT_LEN:
            if (!read_varint(&p, end, &n) || n > (uint64_t)(end - p))
                r = PB_GUARD_MALFORMED;
            else
                p += n;
            break;
        default: /* groups and reserved wire types: protobuf-c refuses them */
            r = PB_GUARD_MALFORMED;
            break;
        }
        if (r != PB_GUARD_OK)
            break;
        if (!charge(w, SCAN_RECORD_BYTES)) {
            r = PB_GUARD_TOO_BIG;
            break;
        }
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3));
        if (f == NULL) {
            if (++unknown > w->lim->max_unknown)
                r = PB_GUARD_TOO_MANY;
            else if (!charge(w, UNKNOWN_FIELD_BYTES + (size_t)(p - field_start)))
                r = PB_GUARD_TOO_BIG;
            continue;
        }
        size_t elements = 1, idx = (size_t)(f - d->fields);
        if ((tag & 7) == WT_LEN)
            r = charge_len_field(w, f, p - n, (size_t)n, depth, &elements);
        else if (f->label == PROTOBUF_C_LABEL_REPEATED && !charge(w, scalar_size(f->type)))
            r = PB_GUARD_TOO_BIG;
        if (r == PB_GUARD_OK && (elements > w->lim->max_occurrences ||
                                 counts[idx] > w->lim->max_occurrences - elements))
            r = PB_GUARD_TOO_MANY;
        counts[idx] += elements;
    }
    if (counts != stack_counts)
        free(counts);
    return r;
}

pb_guard_result pb_guard_check(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                               const pb_guard_limits *lim)
{
    walk_state w = {lim, 0};
    if (!charge(&w, d->sizeof_message))
        return PB_GUARD_TOO_BIG;
    return walk(&w, d, buf, len, 0);
}
