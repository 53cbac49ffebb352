/* One TCP connection, optionally TLS, for a single request and its answer
 * (iam_token.c). Every step runs against one deadline: connecting,
 * the handshake, writing and reading together take at most the caller's
 * timeout, however slowly the peer trickles bytes. Writes never raise
 * SIGPIPE in the host process. */
#ifndef G11C_NET_STREAM_H
#define G11C_NET_STREAM_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#include "grep11_client.h"

typedef struct {
    const char *host; /* name or IP literal (IPv6 without brackets) */
    unsigned port;
    int tls;               /* 0: plaintext */
    const char *ca_file;   /* PEM roots; NULL: the system's */
    const char *cert_file; /* client certificate (mutual TLS), or NULL */
    const char *key_file;
    int timeout_ms;
} g11c_stream_opts;

typedef struct {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    BIO_METHOD *meth;
    int eof;             /* the peer's FIN was read */
    int64_t deadline_ms; /* CLOCK_MONOTONIC */
} g11c_stream;

/* Connects (every address the name resolves to, in turn) and, with tls,
 * completes a TLS 1.2+ handshake that verified the peer's chain and that
 * its certificate names host (DNS name or IP address). CKR_DEVICE_ERROR
 * for a network or TLS failure, CKR_ARGUMENTS_BAD for unreadable TLS
 * files; detail says which. s needs g11c_stream_close either way. */
CK_RV g11c_stream_open(g11c_stream *s, const g11c_stream_opts *o, char *detail, size_t dcap);

CK_RV g11c_stream_write(g11c_stream *s, const uint8_t *p, size_t n, char *detail, size_t dcap);

/* Reads until the peer closes. *clean: it closed properly (close_notify,
 * or FIN on plaintext), as opposed to a TLS stream cut short. More than
 * cap bytes is CKR_DEVICE_ERROR. */
CK_RV g11c_stream_read_all(g11c_stream *s, uint8_t *buf, size_t cap, size_t *n, int *clean,
                           char *detail, size_t dcap);

void g11c_stream_close(g11c_stream *s);

#endif
