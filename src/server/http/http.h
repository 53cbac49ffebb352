/* grep11d's HTTPS front (DESIGN §10): a second listener beside gRPC for
 * HTTP clients, on libmicrohttpd, with the same TLS material and the same
 * services. Its handlers are as thin as the gRPC ones: they reach the
 * services through rpc_invoke, so a token issued here is issued, limited
 * and refused exactly as grep11.Auth/Token would. */
#ifndef GREP11_SERVER_HTTP_H
#define GREP11_SERVER_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "services.h"

typedef struct http_front http_front;

/* Starts listening on cfg->http_listen (TLS unless cfg->insecure), with at
 * most max_connections connections at once (fdbudget.h). *bound_port gets
 * the port (useful with port 0). svc stays the caller's and must outlive
 * the front. */
int http_front_start(const server_config *cfg, services *svc, unsigned max_connections,
                     http_front **out, unsigned *bound_port, char *err, size_t errlen);
/* Stops accepting, waits for requests in progress, frees everything. */
void http_front_stop(http_front *f);

/* ---- what the handlers share (front.c) ---------------------------------- */

typedef struct http_request http_request;

/* A finished response: status, content type and a body copied by the
 * front (body may be NULL for none). */
typedef struct {
    unsigned status;
    const char *content_type;
    char *body; /* malloc'd, freed (wiped) by the front */
    size_t len;
    unsigned retry_after_s; /* 0: no Retry-After header */
} http_response;

typedef void (*http_handler_fn)(http_request *r, http_response *out);

const char *http_method(const http_request *r);
/* A query-string argument, decoded; NULL when absent. */
const char *http_query(const http_request *r, const char *name);
/* A request header (case-insensitive name); NULL when absent. */
const char *http_header(const http_request *r, const char *name);
/* The request body as received (at most HTTP_MAX_BODY bytes). */
const uint8_t *http_body(const http_request *r, size_t *len);
/* "ipv4:1.2.3.4:port" like gRPC's peer strings, so both fronts share one
 * rate limiter per client address. */
const char *http_peer(const http_request *r);
services *http_services(const http_request *r);

#define HTTP_MAX_BODY 8192

/* A JSON body from a cJSON object (consumed), or a 500 when it cannot be
 * printed. */
struct cJSON;
void http_json(http_response *out, unsigned status, struct cJSON *obj);
/* IBM Cloud IAM's error shape: {"errorCode", "errorMessage"}. */
void http_iam_error(http_response *out, unsigned status, const char *code, const char *message);

/* ---- the routes ------------------------------------------------------- */
void http_identity_token(http_request *r, http_response *out); /* iam_token.c */
void http_healthz(http_request *r, http_response *out);        /* health.c */
void http_readyz(http_request *r, http_response *out);

/* "a=1&b=x%20y" form or query decoding (form.c): the value of name, decoded
 * into out (NUL-terminated); 0 when found and it fits, -1 otherwise. */
int http_form_value(const char *form, size_t len, const char *name, char *out, size_t cap);

#endif
