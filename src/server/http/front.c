/* The HTTPS front's daemon: libmicrohttpd with its own small thread pool,
 * one request record per request (its body bounded by HTTP_MAX_BODY and
 * grown as bytes arrive, so a request costs about its size), a route
 * table, and the one place responses are queued and logged.
 *
 * Why libmicrohttpd: Debian ships it, it is made to be embedded in a C
 * server (no framework, no global state), it does HTTP/1.1 with TLS
 * (GnuTLS) from PEM in memory, and it bounds connections, per-connection
 * memory and idle time itself. nghttp2 would add HTTP/2 but leave TLS,
 * sockets and HTTP/1.1 to us; IBM's Go client falls back to HTTP/1.1. */
#include "http.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "devsetup.h"
#include "log.h"

#define POOL_THREADS 4
#define IDLE_TIMEOUT_S 30

struct http_front {
    struct MHD_Daemon *d;
    services *svc;
    char *cert; /* PEM, kept while the daemon runs */
    char *key;
    size_t key_len;
};

struct http_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    services *svc;
    uint8_t *body;
    size_t len;
    int too_large;
    char peer[96];
    struct timespec started;
};

typedef struct {
    const char *path;
    const char *method;
    http_handler_fn fn;
} route;

static const route routes[] = {
    {"/identity/token", "POST", http_identity_token},
    {"/healthz", "GET", http_healthz},
    {"/readyz", "GET", http_readyz},
};

const char *http_method(const http_request *r)
{
    return r->method;
}

const char *http_query(const http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_header(const http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const uint8_t *http_body(const http_request *r, size_t *len)
{
    *len = r->len;
    return r->body;
}

const char *http_peer(const http_request *r)
{
    return r->peer;
}

services *http_services(const http_request *r)
{
    return r->svc;
}

void http_json(http_response *out, unsigned status, cJSON *obj)
{
    char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
    cJSON_Delete(obj);
    out->content_type = "application/json";
    if (!text) {
        out->status = 500;
        out->body = NULL;
        out->len = 0;
        return;
    }
    out->status = status;
    out->body = text;
    out->len = strlen(text);
}

void http_iam_error(http_response *out, unsigned status, const char *code, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddStringToObject(o, "errorCode", code) ||
              !cJSON_AddStringToObject(o, "errorMessage", message))) {
        cJSON_Delete(o);
        o = NULL;
    }
    http_json(out, status, o);
}

/* gRPC's spelling of a peer, "ipv4:127.0.0.1:5555" or "ipv6:[::1]:5555". */
static void peer_of(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char host[INET6_ADDRSTRLEN] = "unknown";
    snprintf(out, cap, "unknown");
    if (!ci || !ci->client_addr)
        return;
    if (ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)ci->client_addr;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        snprintf(out, cap, "ipv4:%s:%u", host, (unsigned)ntohs(a->sin_port));
    } else if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)ci->client_addr;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        snprintf(out, cap, "ipv6:[%s]:%u", host, (unsigned)ntohs(a->sin6_port));
    }
}

static const route *route_for(const char *path, int *path_known)
{
    *path_known = 0;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (strcmp(routes[i].path, path) == 0) {
            *path_known = 1;
            return &routes[i];
        }
    return NULL;
}

static enum MHD_Result respond(http_request *r, http_response *out)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        out->len, out->body ? out->body : (char *)"", MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ok = MHD_NO;
    if (resp) {
        if (out->content_type)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, out->content_type);
        /* Token responses must never be cached (RFC 6749 §5.1); nothing
         * else here is worth caching either. */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_PRAGMA, "no-cache");
        if (out->retry_after_s) {
            char s[16];
            snprintf(s, sizeof(s), "%u", out->retry_after_s);
            MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, s);
        }
        ok = MHD_queue_response(r->conn, out->status, resp);
        MHD_destroy_response(resp);
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long us =
        (now.tv_sec - r->started.tv_sec) * 1000000LL + (now.tv_nsec - r->started.tv_nsec) / 1000;
    /* The path only: query strings can carry API keys. */
    log_write(LOG_LEVEL_INFO, "http method=%s path=\"%s\" status=%u us=%lld", r->method, r->path,
              out->status, us);
    if (out->body) {
        OPENSSL_cleanse(out->body, out->len);
        free(out->body);
    }
    return ok;
}

static int safe_path(const char *p)
{
    for (; *p; p++)
        if (*p < 0x21 || *p > 0x7e || *p == '"')
            return 0;
    return 1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    http_front *f = cls;
    http_request *r = *req_cls;
    (void)version;
    if (!r) { /* headers are in: the body, if any, comes next */
        if ((r = calloc(1, sizeof(*r))) == NULL)
            return MHD_NO;
        r->conn = conn;
        r->method = method;
        r->path = safe_path(url) ? url : "(unprintable)";
        r->svc = f->svc;
        clock_gettime(CLOCK_MONOTONIC, &r->started);
        peer_of(conn, r->peer, sizeof(r->peer));
        *req_cls = r;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (r->too_large || n > HTTP_MAX_BODY - r->len) {
            r->too_large = 1; /* read and dropped: the answer is 413 */
            return MHD_YES;
        }
        uint8_t *bigger = realloc(r->body, r->len + n + 1);
        if (!bigger)
            return MHD_NO;
        r->body = bigger;
        memcpy(r->body + r->len, upload, n);
        r->len += n;
        r->body[r->len] = '\0';
        return MHD_YES;
    }
    http_response out = {0};
    int known = 0;
    const route *rt = route_for(url, &known);
    if (r->too_large)
        http_iam_error(&out, 413, "G11HTTP413", "request body too large");
    else if (!known)
        http_iam_error(&out, 404, "G11HTTP404", "no such resource");
    else if (strcmp(rt->method, method) != 0)
        http_iam_error(&out, 405, "G11HTTP405", "method not allowed here");
    else
        rt->fn(r, &out);
    return respond(r, &out);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls, (void)conn, (void)why;
    http_request *r = *req_cls;
    if (!r)
        return;
    if (r->body) {
        OPENSSL_cleanse(r->body, r->len);
        free(r->body);
    }
    free(r);
    *req_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[256];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line; *p; p++)
        if (*p == '"')
            *p = '\'';
    log_warn("component=http msg=\"%s\"", line);
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    memset(ss, 0, sizeof(*ss));
    if (!colon || (size_t)(colon - listen) >= sizeof(host)) {
        snprintf(err, errlen, "http_listen: expected HOST:PORT");
        return -1;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!end || *end || port < 0 || port > 65535) {
        snprintf(err, errlen, "http_listen: bad port in '%s'", listen);
        return -1;
    }
    size_t hl = strlen(host);
    if (hl > 1 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        struct sockaddr_in6 *a = (void *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1)
            return 0;
    } else {
        struct sockaddr_in *a = (void *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (strcmp(host, "localhost") == 0)
            snprintf(host, sizeof(host), "127.0.0.1");
        if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &a->sin_addr) == 1)
            return 0;
    }
    snprintf(err, errlen, "http_listen: '%s' is not an IP address", host);
    return -1;
}

int http_front_start(const server_config *cfg, services *svc, unsigned max_connections,
                     http_front **out, unsigned *bound_port, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    http_front *f = NULL;
    *out = NULL;
    if (parse_listen(cfg->http_listen, &ss, err, errlen) != 0)
        return -1;
    if ((f = calloc(1, sizeof(*f))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    f->svc = svc;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (!cfg->insecure) {
        char cert_path[4200], key_path[4200];
        config_tls_paths(cfg, cert_path, sizeof(cert_path), key_path, sizeof(key_path));
        f->cert = file_read_all(cert_path, 1 << 20, NULL);
        f->key = file_read_all(key_path, 1 << 20, &f->key_len);
        if (!f->cert || !f->key) {
            snprintf(err, errlen, "cannot read TLS %s", !f->cert ? cert_path : key_path);
            http_front_stop(f);
            return -1;
        }
        flags |= MHD_USE_TLS;
    }
    if (f->cert)
        f->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, f, MHD_OPTION_EXTERNAL_LOGGER,
                                on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                MHD_OPTION_HTTPS_MEM_CERT, f->cert, MHD_OPTION_HTTPS_MEM_KEY,
                                f->key, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)POOL_THREADS,
                                MHD_OPTION_CONNECTION_LIMIT, max_connections,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    else
        f->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, f, MHD_OPTION_EXTERNAL_LOGGER,
                                on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                MHD_OPTION_THREAD_POOL_SIZE, (unsigned)POOL_THREADS,
                                MHD_OPTION_CONNECTION_LIMIT, max_connections,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
                                MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    if (!f->d) {
        snprintf(err, errlen, "cannot listen for HTTP on %s", cfg->http_listen);
        http_front_stop(f);
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT);
    *bound_port = di ? di->port : 0;
    *out = f;
    return 0;
}

void http_front_stop(http_front *f)
{
    if (!f)
        return;
    if (f->d)
        MHD_stop_daemon(f->d);
    free(f->cert);
    if (f->key) {
        OPENSSL_cleanse(f->key, f->key_len);
        free(f->key);
    }
    free(f);
}
