/* Endpoints as configuration files write them: "https://host[:port][/path]",
 * "http://host[:port][/path]" or a bare "host:port". One parser for the
 * module's configuration and libgrep11's IAM client, so both read an
 * endpoint the same way. */
#ifndef GREP11_URL_H
#define GREP11_URL_H

#include <stddef.h>

typedef enum {
    GREP11_URL_BARE,  /* host:port, no scheme */
    GREP11_URL_HTTP,  /* http:// */
    GREP11_URL_HTTPS, /* https:// */
} grep11_url_scheme;

typedef struct {
    grep11_url_scheme scheme;
    char host[256]; /* without the brackets of an IPv6 literal */
    int ipv6;       /* host is an IPv6 literal ([...] in the text) */
    unsigned port;  /* as given; else 443 (https) or 80 (http) */
    char path[512]; /* "" or "/a/b", never ending in '/' */
} grep11_url;

/* Parses s. Rejected, with a static reason in *why: another scheme, user
 * information ("user@"), a query or fragment, characters outside RFC 3986's
 * path and host sets (so that the parts can go into a request line and a
 * Host header as they are), a bare form without a port, or with a path.
 * Returns 0 or -1. */
int grep11_url_parse(const char *s, grep11_url *out, const char **why);

/* The canonical text: "https://host:port/path", "host:port" ("[::1]:443"
 * for IPv6). Returns 0, or -1 when it does not fit in cap. */
int grep11_url_format(const grep11_url *u, char *out, size_t cap);

/* "host:port" (brackets for IPv6), e.g. for a Host header or a gRPC
 * target. Returns 0, or -1 when it does not fit. */
int grep11_url_authority(const grep11_url *u, char *out, size_t cap);

#endif
