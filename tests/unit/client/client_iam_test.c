/* g11c_iam_token on the wire, against a one-connection server in this
 * process (TLS with certificates made here, or plaintext): the request it
 * sends, the peer's name checked against its certificate, an unknown CA,
 * the deadline, the response cap, http:// only when allowed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "grep11_client.h"

#define TOKEN_REPLY                                                                                \
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n"              \
    "{\"access_token\":\"tok.en\",\"token_type\":\"Bearer\",\"expires_in\":600}"

typedef struct {
    int lfd;
    unsigned port;
    SSL_CTX *ctx; /* NULL: plaintext */
    const char *reply;
    size_t reply_len;
    int silent;  /* accept, then answer nothing */
    int no_read; /* answer at once, without reading a request */
    char request[8192];
    size_t req_len;
    pthread_t th;
} fake_server;

typedef struct {
    char dir[64];
    char detail[300];
} fx;

/* A self-signed P-256 certificate for san ("IP:127.0.0.1,DNS:x"), written
 * to path so that the client can trust it. */
static void make_cert(const char *san, const char *path, EVP_PKEY **key, X509 **crt)
{
    X509V3_CTX v;
    *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    assert_non_null(*key);
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"test", -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509_set_pubkey(x, *key);
    X509V3_set_ctx_nodb(&v);
    X509V3_set_ctx(&v, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v, NID_subject_alt_name, san);
    assert_non_null(e);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    assert_true(X509_sign(x, *key, EVP_sha256()) > 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    PEM_write_X509(f, x);
    fclose(f);
    *crt = x;
}

static SSL_CTX *server_ctx(const char *san, const char *path)
{
    EVP_PKEY *key;
    X509 *crt;
    make_cert(san, path, &key, &crt);
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    assert_non_null(ctx);
    assert_int_equal(SSL_CTX_use_certificate(ctx, crt), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
    X509_free(crt);
    EVP_PKEY_free(key);
    return ctx;
}

/* Reads the request head and its Content-Length body. */
static void read_request(fake_server *s, SSL *ssl, int fd)
{
    for (;;) {
        size_t room = sizeof(s->request) - 1 - s->req_len;
        int n = ssl ? SSL_read(ssl, s->request + s->req_len, (int)room)
                    : (int)recv(fd, s->request + s->req_len, room, 0);
        if (n <= 0)
            return;
        s->req_len += (size_t)n;
        s->request[s->req_len] = '\0';
        const char *end = strstr(s->request, "\r\n\r\n");
        const char *cl = strstr(s->request, "Content-Length: ");
        if (end && cl && strlen(end + 4) >= strtoul(cl + 16, NULL, 10))
            return;
    }
}

static void *serve(void *arg)
{
    fake_server *s = arg;
    struct pollfd p = {s->lfd, POLLIN, 0};
    if (poll(&p, 1, 10000) != 1)
        return NULL;
    int fd = accept(s->lfd, NULL, NULL);
    SSL *ssl = NULL;
    if (fd < 0)
        return NULL;
    if (s->ctx) {
        ssl = SSL_new(s->ctx);
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1)
            goto out; /* the client refused us */
    }
    if (!s->no_read)
        read_request(s, ssl, fd);
    if (s->silent) {
        char c;
        while ((ssl ? SSL_read(ssl, &c, 1) : (int)recv(fd, &c, 1, 0)) > 0)
            ; /* until the client gives up */
        goto out;
    }
    for (size_t off = 0; off < s->reply_len;) {
        int n = ssl ? SSL_write(ssl, s->reply + off, (int)(s->reply_len - off))
                    : (int)send(fd, s->reply + off, s->reply_len - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    if (ssl)
        SSL_shutdown(ssl);
out:
    SSL_free(ssl);
    close(fd);
    return NULL;
}

/* A loopback port where nothing listens (it did a moment ago). */
static unsigned free_port(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void start(fake_server *s, SSL_CTX *ctx, const char *reply)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    memset(s, 0, sizeof(*s));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->lfd >= 0);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->lfd, 1), 0);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    s->ctx = ctx;
    s->reply = reply;
    s->reply_len = reply ? strlen(reply) : 0;
    assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
}

static void stop(fake_server *s)
{
    pthread_join(s->th, NULL);
    close(s->lfd);
    SSL_CTX_free(s->ctx);
}

static void on_error(void *arg, const char *method, CK_RV rv, const char *detail)
{
    fx *f = arg;
    (void)rv;
    snprintf(f->detail, sizeof(f->detail), "%s: %s", method, detail);
}

static CK_RV fetch(fx *f, const char *url, const char *ca, int timeout_ms, char *tok, size_t cap,
                   int64_t *exp)
{
    g11c_iam_options o = {
        .url = url,
        .ca_file = ca,
        .timeout_ms = timeout_ms,
        .on_error = on_error,
        .on_error_arg = f,
    };
    f->detail[0] = '\0';
    return g11c_iam_token(&o, "k+y&z", tok, cap, exp);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/g11c-iam-XXXXXX");
    *state = f;
    return mkdtemp(f->dir) ? 0 : -1;
}

static int teardown(void **state)
{
    fx *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void request_and_token(void **state)
{
    fx *f = *state;
    fake_server s;
    char ca[128], url[128], tok[64], host[64];
    int64_t exp = 0;
    snprintf(ca, sizeof(ca), "%s/ip.pem", f->dir);
    start(&s, server_ctx("IP:127.0.0.1,DNS:localhost", ca), TOKEN_REPLY);
    snprintf(url, sizeof(url), "https://127.0.0.1:%u/iam/", s.port);
    int64_t now = (int64_t)time(NULL);
    assert_int_equal(fetch(f, url, ca, 5000, tok, sizeof(tok), &exp), CKR_OK);
    stop(&s);
    assert_string_equal(tok, "tok.en");
    assert_true(exp >= now + 600 && exp <= now + 602);
    /* IAM's form: the path kept, /identity/token appended, the key escaped. */
    snprintf(host, sizeof(host), "\r\nHost: 127.0.0.1:%u\r\n", s.port);
    assert_memory_equal(s.request, "POST /iam/identity/token HTTP/1.1\r\n", 35);
    assert_non_null(strstr(s.request, host));
    assert_non_null(strstr(s.request, "\r\nConnection: close\r\n"));
    assert_non_null(strstr(s.request, "\r\nContent-Type: application/x-www-form-urlencoded\r\n"));
    assert_non_null(strstr(s.request, "\r\n\r\ngrant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-"
                                      "type%3Aapikey&apikey=k%2By%26z"));

    /* A DNS name is checked as one (and sent as SNI). */
    start(&s, server_ctx("IP:127.0.0.1,DNS:localhost", ca), TOKEN_REPLY);
    snprintf(url, sizeof(url), "https://localhost:%u", s.port);
    assert_int_equal(fetch(f, url, ca, 5000, tok, sizeof(tok), &exp), CKR_OK);
    stop(&s);
    assert_memory_equal(s.request, "POST /identity/token HTTP/1.1\r\n", 31);
}

static void peer_name_and_ca_checked(void **state)
{
    fx *f = *state;
    fake_server s;
    char ca[128], other[128], url[128], tok[64];
    int64_t exp = 0;
    /* A chain the client trusts, for another name. */
    snprintf(ca, sizeof(ca), "%s/other-name.pem", f->dir);
    start(&s, server_ctx("DNS:other.example", ca), TOKEN_REPLY);
    snprintf(url, sizeof(url), "https://127.0.0.1:%u", s.port);
    assert_int_equal(fetch(f, url, ca, 5000, tok, sizeof(tok), &exp), CKR_DEVICE_ERROR);
    stop(&s);
    assert_non_null(strstr(f->detail, "certificate not accepted"));
    assert_int_equal(s.req_len, 0);
    assert_string_equal(tok, "");
    /* The right name from a CA the client does not know. */
    snprintf(other, sizeof(other), "%s/unrelated.pem", f->dir);
    EVP_PKEY *k;
    X509 *x;
    make_cert("IP:127.0.0.1", other, &k, &x);
    X509_free(x);
    EVP_PKEY_free(k);
    start(&s, server_ctx("IP:127.0.0.1", ca), TOKEN_REPLY);
    snprintf(url, sizeof(url), "https://127.0.0.1:%u", s.port);
    assert_int_equal(fetch(f, url, other, 5000, tok, sizeof(tok), &exp), CKR_DEVICE_ERROR);
    stop(&s);
    assert_non_null(strstr(f->detail, "certificate not accepted"));
    assert_int_equal(s.req_len, 0);
}

static void deadline_and_cap(void **state)
{
    fx *f = *state;
    fake_server s;
    char ca[128], url[128], tok[64];
    int64_t exp = 0;
    snprintf(ca, sizeof(ca), "%s/ip.pem", f->dir);
    start(&s, server_ctx("IP:127.0.0.1", ca), NULL);
    s.silent = 1;
    snprintf(url, sizeof(url), "https://127.0.0.1:%u", s.port);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(fetch(f, url, ca, 400, tok, sizeof(tok), &exp), CKR_DEVICE_ERROR);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    stop(&s);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(took >= 0.35 && took < 3.0);

    /* 64 KiB is the most an answer may be. */
    size_t big = 70 * 1024;
    char *reply = malloc(big + 1);
    assert_non_null(reply);
    int h = snprintf(reply, big, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", big - 45);
    memset(reply + h, 'a', big - (size_t)h);
    reply[big] = '\0';
    start(&s, server_ctx("IP:127.0.0.1", ca), reply);
    snprintf(url, sizeof(url), "https://127.0.0.1:%u", s.port);
    assert_int_equal(fetch(f, url, ca, 5000, tok, sizeof(tok), &exp), CKR_DEVICE_ERROR);
    stop(&s);
    free(reply);
    assert_non_null(strstr(f->detail, "larger than"));
}

static void plaintext_only_when_allowed(void **state)
{
    fx *f = *state;
    fake_server s;
    char url[128], tok[64];
    int64_t exp = 0;
    start(&s, NULL, TOKEN_REPLY);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", s.port);
    assert_int_equal(fetch(f, url, NULL, 5000, tok, sizeof(tok), &exp), CKR_ARGUMENTS_BAD);
    assert_non_null(strstr(f->detail, "in clear"));
    g11c_iam_options o = {.url = url, .allow_http = 1, .timeout_ms = 5000};
    assert_int_equal(g11c_iam_token(&o, "k", tok, sizeof(tok), &exp), CKR_OK);
    stop(&s);
    assert_string_equal(tok, "tok.en");
    /* A TLS client meeting a plaintext server fails cleanly. */
    start(&s, NULL, "HTTP/1.1 200 OK\r\n\r\n");
    s.no_read = 1;
    snprintf(url, sizeof(url), "https://127.0.0.1:%u", s.port);
    assert_int_equal(fetch(f, url, NULL, 5000, tok, sizeof(tok), &exp), CKR_DEVICE_ERROR);
    stop(&s);
    assert_non_null(strstr(f->detail, "TLS handshake"));
    /* Nobody listening. */
    snprintf(url, sizeof(url), "https://127.0.0.1:%u", free_port());
    assert_int_equal(fetch(f, url, NULL, 5000, tok, sizeof(tok), &exp), CKR_DEVICE_ERROR);
    assert_non_null(strstr(f->detail, "cannot connect"));
    /* A host:port is no IAM endpoint. */
    assert_int_equal(fetch(f, "127.0.0.1:1", NULL, 5000, tok, sizeof(tok), &exp),
                     CKR_ARGUMENTS_BAD);
}

int main(void)
{
    /* The fake server writes to clients that stopped reading on purpose. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_and_token),
        cmocka_unit_test(peer_name_and_ca_checked),
        cmocka_unit_test(deadline_and_cap),
        cmocka_unit_test(plaintext_only_when_allowed),
    };
    return cmocka_run_group_tests_name("client_iam", tests, setup, teardown);
}
