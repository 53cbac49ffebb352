/* Test-vector helpers shared by the unit tests: locating tests/vectors,
 * loading a JSON vector file, and hex <-> bytes. Tests only; never linked
 * into the product. */
#ifndef GREP11_TESTVEC_H
#define GREP11_TESTVEC_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* Directory holding the shared vectors: $GREP11_VECTORS_DIR if set, else the
 * path baked in at configure time (TESTVEC_DEFAULT_DIR). */
const char *testvec_dir(void);

/* Parses <testvec_dir()>/<relpath> as JSON. Returns NULL (and prints why) when
 * the file is missing or malformed; the caller frees with cJSON_Delete. */
cJSON *testvec_load_json(const char *relpath);

/* Reads <testvec_dir()>/<relpath> whole. Returns NULL on failure; free(). */
char *testvec_read_file(const char *relpath, size_t *len_out);

/* Decodes hex (either case, even length) into a fresh malloc'd buffer.
 * An empty string gives a non-NULL zero-length buffer. NULL on bad input. */
uint8_t *testvec_hex_decode(const char *hex, size_t *len_out);

/* Hex string field of a JSON object decoded to bytes; NULL if absent/bad. */
uint8_t *testvec_hex_field(const cJSON *obj, const char *name, size_t *len_out);

/* Integer field of a JSON object, or dflt when absent. */
long testvec_int_field(const cJSON *obj, const char *name, long dflt);

/* String field of a JSON object, or NULL when absent. */
const char *testvec_str_field(const cJSON *obj, const char *name);

/* Lower-case hex of len bytes into a fresh string (for messages). */
char *testvec_hex_encode(const uint8_t *buf, size_t len);

#endif
