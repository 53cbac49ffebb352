/* g11c_iam_token: IBM Cloud IAM's API-key grant, the way IBM's GREP11
 * clients ask for a bearer token: one POST of a form to the endpoint's
 * /identity/token on a fresh connection that closes after the answer
 * (tokens are fetched once per login and then every few minutes, so a
 * connection kept open would buy nothing). The request holds the API key
 * and the answer the token: both buffers are wiped, and neither is ever
 * passed to the error hook. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grep11/url.h"
#include "iam_reply.h"
#include "net_stream.h"

#define MAX_RESPONSE (64u * 1024u)
#define MAX_API_KEY 4096
#define TOKEN_PATH "/identity/token"
#define GRANT_APIKEY "urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey"

/* application/x-www-form-urlencoded: unreserved characters as they are,
 * everything else %XX. out holds 3 * strlen(in) + 1. */
static size_t form_encode(const char *in, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return o;
}

/* The whole request, malloc'd into *req (to be wiped: it holds the key). */
static CK_RV build_request(const grep11_url *u, const char *api_key, char **req, size_t *len)
{
    char host[300];
    size_t klen = strlen(api_key);
    char *body = malloc(sizeof("grant_type=" GRANT_APIKEY "&apikey=") + 3 * klen);
    size_t cap = 3 * klen + strlen(u->path) + sizeof(host) + 512;
    CK_RV rv = CKR_HOST_MEMORY;
    *req = malloc(cap);
    if (!body || !*req || grep11_url_authority(u, host, sizeof(host)) != 0)
        goto out;
    static const char prefix[] = "grant_type=" GRANT_APIKEY "&apikey=";
    memcpy(body, prefix, sizeof(prefix) - 1);
    size_t blen = sizeof(prefix) - 1 + form_encode(api_key, body + sizeof(prefix) - 1);
    int n = snprintf(*req, cap,
                     "POST %s" TOKEN_PATH " HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "User-Agent: libgrep11\r\n"
                     "Accept: application/json\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     "Content-Length: %zu\r\n"
                     "Connection: close\r\n"
                     "\r\n"
                     "%s",
                     u->path, host, blen, body);
    if (n > 0 && (size_t)n < cap) {
        *len = (size_t)n;
        rv = CKR_OK;
    }
    OPENSSL_cleanse(body, blen);
out:
    free(body);
    if (rv != CKR_OK) {
        free(*req);
        *req = NULL;
    }
    return rv;
}

static CK_RV check_options(const g11c_iam_options *o, grep11_url *u, char *detail, size_t dcap)
{
    const char *why = "";
    if (grep11_url_parse(o->url, u, &why) != 0) {
        memset(u, 0, sizeof(*u)); /* nothing of it is named in the error */
        snprintf(detail, dcap, "endpoint: %s", why);
        return CKR_ARGUMENTS_BAD;
    }
    if (u->scheme == GREP11_URL_BARE) {
        snprintf(detail, dcap, "endpoint: an IAM endpoint is an https:// URL");
        return CKR_ARGUMENTS_BAD;
    }
    if (u->scheme == GREP11_URL_HTTP && !o->allow_http) {
        snprintf(detail, dcap, "endpoint: http:// would send the API key in clear");
        return CKR_ARGUMENTS_BAD;
    }
    if ((o->cert_file == NULL) != (o->key_file == NULL)) {
        snprintf(detail, dcap, "a client certificate needs its key, and a key its certificate");
        return CKR_ARGUMENTS_BAD;
    }
    return CKR_OK;
}

/* Sends req and reads the whole answer into *resp (malloc'd, to be
 * wiped: it holds the token). */
static CK_RV exchange(const grep11_url *u, const g11c_iam_options *o, const char *req,
                      size_t req_len, uint8_t **resp, size_t *resp_len, int *clean, char *detail,
                      size_t dcap)
{
    g11c_stream s;
    g11c_stream_opts so = {
        .host = u->host,
        .port = u->port,
        .tls = u->scheme == GREP11_URL_HTTPS,
        .ca_file = o->ca_file,
        .cert_file = o->cert_file,
        .key_file = o->key_file,
        .timeout_ms = o->timeout_ms,
    };
    CK_RV rv = g11c_stream_open(&s, &so, detail, dcap);
    if (rv == CKR_OK)
        rv = g11c_stream_write(&s, (const uint8_t *)req, req_len, detail, dcap);
    if (rv == CKR_OK && !(*resp = malloc(MAX_RESPONSE)))
        rv = CKR_HOST_MEMORY;
    if (rv == CKR_OK)
        rv = g11c_stream_read_all(&s, *resp, MAX_RESPONSE, resp_len, clean, detail, dcap);
    g11c_stream_close(&s);
    return rv;
}

CK_RV g11c_iam_token(const g11c_iam_options *o, const char *api_key, char *token, size_t cap,
                     int64_t *expires_at)
{
    grep11_url u;
    char detail[256] = "", *req = NULL;
    uint8_t *resp = NULL;
    size_t req_len = 0, resp_len = 0;
    int clean = 0;
    int64_t exp = 0;
    if (!o || !o->url || !api_key || !api_key[0] || strlen(api_key) > MAX_API_KEY || !token ||
        cap == 0)
        return CKR_ARGUMENTS_BAD;
    token[0] = '\0';
    CK_RV rv = check_options(o, &u, detail, sizeof(detail));
    if (rv == CKR_OK)
        rv = build_request(&u, api_key, &req, &req_len);
    if (rv == CKR_OK)
        rv = exchange(&u, o, req, req_len, &resp, &resp_len, &clean, detail, sizeof(detail));
    if (rv == CKR_OK)
        rv = g11c_iam_reply(resp, resp_len, clean, (int64_t)time(NULL), token, cap, &exp, detail,
                            sizeof(detail));
    if (rv == CKR_OK && expires_at)
        *expires_at = exp;
    if (req) {
        OPENSSL_cleanse(req, req_len);
        free(req);
    }
    if (resp) {
        OPENSSL_cleanse(resp, MAX_RESPONSE);
        free(resp);
    }
    if (rv != CKR_OK) {
        OPENSSL_cleanse(token, cap);
        token[0] = '\0';
        if (o->on_error) {
            char what[700] = "POST (IAM endpoint)";
            if (u.host[0] &&
                grep11_url_format(&u, what + 5, sizeof(what) - 5 - sizeof(TOKEN_PATH)) == 0)
                strcat(what, TOKEN_PATH);
            o->on_error(o->on_error_arg, what, rv, detail);
        }
    }
    return rv;
}
