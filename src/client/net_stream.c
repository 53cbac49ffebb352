/* A deadline-bound TCP (+TLS) stream (net_stream.h). The socket is
 * non-blocking and every wait is a poll() for what remains of the one
 * deadline. OpenSSL reaches the socket through a small BIO of our own
 * rather than its socket BIO, which writes with write(2): a peer that
 * reset the connection would otherwise kill the host application with
 * SIGPIPE; send(2) with MSG_NOSIGNAL does not. Name resolution
 * (getaddrinfo) is the one step the deadline cannot bound. */
#include "net_stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_MS 30000
/* A BIO type of the user range: OpenSSL only reports it back. */
#define STREAM_BIO_TYPE ((BIO_TYPE_START + 0x3c) | BIO_TYPE_SOURCE_SINK)

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits until the socket is ready for events, within the deadline. */
static int wait_fd(g11c_stream *s, short events)
{
    for (;;) {
        int64_t left = s->deadline_ms - now_ms();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd p = {s->fd, events, 0};
        int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (r > 0)
            return 0;
        if (r == 0)
            errno = ETIMEDOUT;
        if (r == 0 || errno != EINTR)
            return -1;
    }
}

/* ---- the BIO: send/recv on s->fd ---------------------------------------- */

static int bio_write(BIO *b, const char *buf, int n)
{
    g11c_stream *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t r = send(s->fd, buf, (size_t)n, MSG_NOSIGNAL);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)r;
}

static int bio_read(BIO *b, char *buf, int n)
{
    g11c_stream *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t r = recv(s->fd, buf, (size_t)n, 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_read(b);
    if (r == 0)
        s->eof = 1;
    return (int)r;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    g11c_stream *s = BIO_get_data(b);
    (void)num, (void)ptr;
    if (cmd == BIO_CTRL_FLUSH)
        return 1;
    /* Lets OpenSSL tell a peer's FIN from a read that merely failed. */
    if (cmd == BIO_CTRL_EOF)
        return s->eof;
    return 0;
}

static int stream_bio(g11c_stream *s, BIO **out)
{
    s->meth = BIO_meth_new(STREAM_BIO_TYPE, "grep11 stream");
    if (!s->meth || !BIO_meth_set_write(s->meth, bio_write) ||
        !BIO_meth_set_read(s->meth, bio_read) || !BIO_meth_set_ctrl(s->meth, bio_ctrl))
        return -1;
    if (!(*out = BIO_new(s->meth)))
        return -1;
    BIO_set_data(*out, s);
    BIO_set_init(*out, 1);
    return 0;
}

/* ---- TCP ------------------------------------------------------------------ */

static int connect_one(g11c_stream *s, const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -1;
    s->fd = fd;
    int err = 0;
    socklen_t el = sizeof(err);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return 0;
    if (errno == EINPROGRESS && wait_fd(s, POLLOUT) == 0 &&
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0) {
        if (err == 0)
            return 0;
        errno = err;
    }
    err = errno;
    close(fd);
    s->fd = -1;
    errno = err;
    return -1;
}

static CK_RV tcp_connect(g11c_stream *s, const g11c_stream_opts *o, char *detail, size_t dcap)
{
    struct addrinfo hints, *res = NULL;
    char port[8];
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%u", o->port);
    int gai = getaddrinfo(o->host, port, &hints, &res);
    if (gai != 0) {
        snprintf(detail, dcap, "cannot resolve %s: %s", o->host, gai_strerror(gai));
        return CKR_DEVICE_ERROR;
    }
    int err = 0;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (connect_one(s, ai) == 0)
            break;
        err = errno;
    }
    freeaddrinfo(res);
    if (s->fd >= 0)
        return CKR_OK;
    snprintf(detail, dcap, "cannot connect to %s port %u: %s", o->host, o->port, strerror(err));
    return CKR_DEVICE_ERROR;
}

/* ---- TLS ------------------------------------------------------------------ */

/* Why OpenSSL failed: the certificate check if that was it, else its
 * error queue, else errno. */
static void tls_detail(g11c_stream *s, const char *what, char *detail, size_t dcap)
{
    char err[200] = "";
    long vr = s->ssl ? SSL_get_verify_result(s->ssl) : X509_V_OK;
    unsigned long e = ERR_peek_last_error();
    if (vr != X509_V_OK)
        snprintf(err, sizeof(err), "certificate not accepted: %s",
                 X509_verify_cert_error_string(vr));
    else if (e)
        ERR_error_string_n(e, err, sizeof(err));
    else
        snprintf(err, sizeof(err), "%s", errno ? strerror(errno) : "connection closed");
    snprintf(detail, dcap, "%s: %s", what, err);
    ERR_clear_error();
}

/* After an SSL call returned r <= 0: waits for what it asks for; -1 when
 * it failed instead. */
static int ssl_wait(g11c_stream *s, int r)
{
    int e = SSL_get_error(s->ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return wait_fd(s, POLLIN);
    if (e == SSL_ERROR_WANT_WRITE)
        return wait_fd(s, POLLOUT);
    if (e != SSL_ERROR_SYSCALL)
        errno = 0;
    return -1;
}

static CK_RV tls_context(g11c_stream *s, const g11c_stream_opts *o, char *detail, size_t dcap)
{
    if (!(s->ctx = SSL_CTX_new(TLS_client_method())) ||
        !SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION)) {
        tls_detail(s, "TLS setup", detail, dcap);
        return CKR_HOST_MEMORY;
    }
    SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_options(s->ctx, SSL_OP_NO_RENEGOTIATION);
    if (!(o->ca_file ? SSL_CTX_load_verify_file(s->ctx, o->ca_file)
                     : SSL_CTX_set_default_verify_paths(s->ctx))) {
        tls_detail(s, o->ca_file ? o->ca_file : "system CA store", detail, dcap);
        return CKR_ARGUMENTS_BAD;
    }
    if (o->cert_file && (SSL_CTX_use_certificate_chain_file(s->ctx, o->cert_file) != 1 ||
                         SSL_CTX_use_PrivateKey_file(s->ctx, o->key_file, SSL_FILETYPE_PEM) != 1 ||
                         SSL_CTX_check_private_key(s->ctx) != 1)) {
        tls_detail(s, "client certificate", detail, dcap);
        return CKR_ARGUMENTS_BAD;
    }
    return CKR_OK;
}

/* The name the peer's certificate must carry: an IP address for an IP
 * literal, else a DNS name (also sent as SNI). */
static int expect_peer(SSL *ssl, const char *host)
{
    struct in6_addr a6;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1)
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 ? 0 : -1;
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1 ? 0 : -1;
}

static CK_RV tls_handshake(g11c_stream *s, const g11c_stream_opts *o, char *detail, size_t dcap)
{
    static const unsigned char alpn[] = "\x08http/1.1";
    BIO *b = NULL;
    CK_RV rv = tls_context(s, o, detail, dcap);
    if (rv != CKR_OK)
        return rv;
    if (!(s->ssl = SSL_new(s->ctx)) || expect_peer(s->ssl, o->host) != 0 ||
        SSL_set_alpn_protos(s->ssl, alpn, sizeof(alpn) - 1) != 0 || stream_bio(s, &b) != 0) {
        BIO_free(b);
        tls_detail(s, "TLS setup", detail, dcap);
        return CKR_HOST_MEMORY;
    }
    SSL_set_bio(s->ssl, b, b);
    for (;;) {
        int r = SSL_connect(s->ssl);
        if (r == 1)
            break;
        if (ssl_wait(s, r) != 0) {
            tls_detail(s, "TLS handshake", detail, dcap);
            return CKR_DEVICE_ERROR;
        }
    }
    /* SSL_VERIFY_PEER already failed the handshake otherwise; checked
     * again so that no future option can make it pass silently. */
    if (SSL_get_verify_result(s->ssl) != X509_V_OK || !SSL_get0_peer_certificate(s->ssl)) {
        tls_detail(s, "TLS handshake", detail, dcap);
        return CKR_DEVICE_ERROR;
    }
    return CKR_OK;
}

/* ---- the stream ----------------------------------------------------------- */

CK_RV g11c_stream_open(g11c_stream *s, const g11c_stream_opts *o, char *detail, size_t dcap)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    s->deadline_ms = now_ms() + (o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS);
    ERR_clear_error();
    CK_RV rv = tcp_connect(s, o, detail, dcap);
    if (rv == CKR_OK && o->tls)
        rv = tls_handshake(s, o, detail, dcap);
    return rv;
}

CK_RV g11c_stream_write(g11c_stream *s, const uint8_t *p, size_t n, char *detail, size_t dcap)
{
    size_t off = 0;
    while (off < n) {
        size_t chunk = n - off > INT_MAX ? INT_MAX : n - off;
        ssize_t r;
        if (s->ssl) {
            if ((r = SSL_write(s->ssl, p + off, (int)chunk)) <= 0 && ssl_wait(s, (int)r) != 0) {
                tls_detail(s, "TLS write", detail, dcap);
                return CKR_DEVICE_ERROR;
            }
        } else if ((r = send(s->fd, p + off, chunk, MSG_NOSIGNAL)) < 0 && errno != EINTR &&
                   ((errno != EAGAIN && errno != EWOULDBLOCK) || wait_fd(s, POLLOUT) != 0)) {
            snprintf(detail, dcap, "write: %s", strerror(errno));
            return CKR_DEVICE_ERROR;
        }
        if (r > 0)
            off += (size_t)r;
    }
    return CKR_OK;
}

/* One read: > 0 bytes, 0 at the end (*clean set), -1 failed. */
static int read_some(g11c_stream *s, uint8_t *p, size_t n, int *clean)
{
    int want = n > INT_MAX ? INT_MAX : (int)n;
    for (;;) {
        if (s->ssl) {
            int r = SSL_read(s->ssl, p, want);
            if (r > 0)
                return r;
            int e = SSL_get_error(s->ssl, r);
            if (e == SSL_ERROR_ZERO_RETURN)
                return *clean = 1, 0;
            if (s->eof && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                ERR_clear_error(); /* a FIN without close_notify */
                return *clean = 0, 0;
            }
            if (ssl_wait(s, r) != 0)
                return -1;
            continue;
        }
        ssize_t r = recv(s->fd, p, (size_t)want, 0);
        if (r >= 0) {
            *clean = 1;
            return (int)r;
        }
        if (errno != EINTR &&
            ((errno != EAGAIN && errno != EWOULDBLOCK) || wait_fd(s, POLLIN) != 0))
            return -1;
    }
}

CK_RV g11c_stream_read_all(g11c_stream *s, uint8_t *buf, size_t cap, size_t *n, int *clean,
                           char *detail, size_t dcap)
{
    uint8_t extra;
    *n = 0;
    *clean = 0;
    for (;;) {
        /* At cap, one more byte tells a full buffer from a longer answer. */
        int r = *n < cap ? read_some(s, buf + *n, cap - *n, clean) : read_some(s, &extra, 1, clean);
        if (r == 0)
            return CKR_OK;
        if (r < 0) {
            if (s->ssl)
                tls_detail(s, "TLS read", detail, dcap);
            else
                snprintf(detail, dcap, "read: %s", strerror(errno));
            return CKR_DEVICE_ERROR;
        }
        if (*n == cap) {
            snprintf(detail, dcap, "response larger than %zu bytes", cap);
            return CKR_DEVICE_ERROR;
        }
        *n += (size_t)r;
    }
}

void g11c_stream_close(g11c_stream *s)
{
    if (s->ssl) {
        SSL_shutdown(s->ssl); /* one close_notify, not waited for */
        SSL_free(s->ssl);     /* and the BIO with it */
    }
    SSL_CTX_free(s->ctx);
    BIO_meth_free(s->meth);
    if (s->fd >= 0)
        close(s->fd);
    ERR_clear_error(); /* leave the caller's thread an empty queue */
    memset(s, 0, sizeof(*s));
    s->fd = -1;
}
