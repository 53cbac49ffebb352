/* An HTTP/1.1 response read whole off a connection that carried one request
 * with "Connection: close" (iam_token.c): the parser sees every byte the
 * server sent at once, so it has no state to keep between reads, and it
 * touches no socket (the fuzzer feeds it directly). */
#ifndef G11C_HTTP_REPLY_H
#define G11C_HTTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    unsigned status;        /* 200..599 (interim 1xx responses are skipped) */
    unsigned retry_after_s; /* Retry-After as seconds; 0: absent or a date */
    size_t body_len;        /* bytes written to the body buffer */
} g11c_http_reply;

/* Parses in[0..len): status line, header fields, and the body framed by
 * Content-Length, by chunked transfer coding, or by the end of the stream.
 * The last is complete only when clean_eof says the peer closed properly
 * (TLS close_notify, or a plaintext FIN); otherwise a truncated body would
 * pass for a whole one. The body (de-chunked) goes to body, cap bytes; cap
 * >= len always suffices. Refused: anything malformed or truncated, obsolete
 * line folding, Content-Length and Transfer-Encoding together, conflicting
 * lengths, transfer codings other than chunked. Returns 0, or -1 with a
 * static reason in *why. */
int g11c_http_reply_parse(const uint8_t *in, size_t len, int clean_eof, uint8_t *body, size_t cap,
                          g11c_http_reply *out, const char **why);

#endif
