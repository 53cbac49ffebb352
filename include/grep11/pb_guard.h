/* A look at a protobuf message before protobuf-c decodes it.
 *
 * protobuf-c allocates as it decodes: an empty sub-message costs two bytes
 * on the wire and some fifty in memory, so a 64 MiB message of them costs
 * gigabytes before any handler can count anything. pb_guard_check walks
 * the wire form against the message's descriptor, without allocating, and
 * refuses it when a field occurs too often, when it nests too deeply, or
 * when what decoding would allocate exceeds a budget. Only then is it
 * decoded. */
#ifndef GREP11_PB_GUARD_H
#define GREP11_PB_GUARD_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t max_occurrences; /* of any one field in one message (repeated
                               elements, packed ones included) */
    size_t max_unknown;     /* unknown fields in one message */
    unsigned max_depth;     /* sub-message nesting */
    size_t max_alloc;       /* what decoding may allocate, about */
} pb_guard_limits;

typedef enum {
    PB_GUARD_OK,
    PB_GUARD_MALFORMED, /* not a valid encoding (protobuf-c would refuse it too) */
    PB_GUARD_TOO_MANY,  /* a field occurs more than max_occurrences times */
    PB_GUARD_TOO_DEEP,
    PB_GUARD_TOO_BIG /* decoding would allocate more than max_alloc */
} pb_guard_result;

/* Walks buf (len bytes) as a message of type d. Reads every byte once and
 * allocates nothing. */
pb_guard_result pb_guard_check(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                               const pb_guard_limits *lim);

#endif
