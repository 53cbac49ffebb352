/* Endpoint parsing (grep11/url.h). Strict on purpose: what it accepts is
 * later copied into a request line and a Host header as it is, so every
 * character that could end or split either is refused here. */
#include "grep11/url.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 3986 pchar and '/': unreserved, pct-encoded, sub-delims, ':', '@'. */
static int is_path_char(char c)
{
    return is_alnum(c) || (c && strchr("-._~%!$&'()*+,;=:@/", c) != NULL);
}

/* A host name or IPv4 literal (reg-name without escapes). */
static int is_host_char(char c)
{
    return is_alnum(c) || c == '-' || c == '.' || c == '_';
}

static int is_v6_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
           c == '.';
}

/* Decimal 1..65535 over [s, s + n). */
static int parse_port(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    if (n == 0 || n > 5)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return -1;
    *out = v;
    return 0;
}

/* [s, s + n) is "host", "host:port", "[v6]" or "[v6]:port". */
static int parse_authority(const char *s, size_t n, grep11_url *u, const char **why)
{
    const char *host = s, *port = NULL;
    size_t hlen;
    if (n && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close) {
            *why = "unclosed '[' in host";
            return -1;
        }
        host = s + 1;
        hlen = (size_t)(close - host);
        for (size_t i = 0; i < hlen; i++)
            if (!is_v6_char(host[i])) {
                *why = "not an IPv6 address inside [ ]";
                return -1;
            }
        if (close + 1 < s + n && close[1] != ':') {
            *why = "unexpected text after ']'";
            return -1;
        }
        port = close + 1 < s + n ? close + 2 : NULL;
        u->ipv6 = 1;
    } else {
        const char *colon = memchr(s, ':', n);
        hlen = colon ? (size_t)(colon - s) : n;
        if (colon && memchr(colon + 1, ':', n - hlen - 1)) {
            *why = "an IPv6 address needs brackets ([::1]:443)";
            return -1;
        }
        for (size_t i = 0; i < hlen; i++)
            if (!is_host_char(s[i])) {
                *why = "invalid character in host";
                return -1;
            }
        port = colon ? colon + 1 : NULL;
    }
    if (hlen == 0 || hlen >= sizeof(u->host)) {
        *why = hlen ? "host name too long" : "no host";
        return -1;
    }
    memcpy(u->host, host, hlen);
    u->host[hlen] = '\0';
    if (port && parse_port(port, (size_t)(s + n - port), &u->port) != 0) {
        *why = "port must be a number from 1 to 65535";
        return -1;
    }
    if (!port && u->scheme == GREP11_URL_BARE) {
        *why = "needs host:port (or an https:// URL)";
        return -1;
    }
    return 0;
}

/* The path, without its trailing slashes. */
static int parse_path(const char *p, grep11_url *u, const char **why)
{
    size_t n = strlen(p);
    for (size_t i = 0; i < n; i++)
        if (!is_path_char(p[i])) {
            *why = p[i] == '?' || p[i] == '#' ? "a query or fragment has no place in an endpoint"
                                              : "invalid character in path";
            return -1;
        }
    while (n && p[n - 1] == '/')
        n--;
    if (n >= sizeof(u->path)) {
        *why = "path too long";
        return -1;
    }
    memcpy(u->path, p, n);
    u->path[n] = '\0';
    return 0;
}

int grep11_url_parse(const char *s, grep11_url *out, const char **why)
{
    const char *ignored, *rest = s;
    if (!why)
        why = &ignored;
    memset(out, 0, sizeof(*out));
    if (!s) {
        *why = "no endpoint";
        return -1;
    }
    const char *sep = strstr(s, "://");
    if (sep) {
        size_t sl = (size_t)(sep - s);
        if (sl == 5 && strncasecmp(s, "https", 5) == 0) {
            out->scheme = GREP11_URL_HTTPS;
            out->port = 443;
        } else if (sl == 4 && strncasecmp(s, "http", 4) == 0) {
            out->scheme = GREP11_URL_HTTP;
            out->port = 80;
        } else {
            *why = "unsupported scheme (use https://, http:// or host:port)";
            return -1;
        }
        rest = sep + 3;
    }
    size_t alen = strcspn(rest, "/?#");
    if (memchr(rest, '@', alen)) {
        *why = "user information has no place in an endpoint";
        return -1;
    }
    if (parse_authority(rest, alen, out, why) != 0)
        return -1;
    if (out->scheme == GREP11_URL_BARE && rest[alen]) {
        *why = "a path needs an https:// URL";
        return -1;
    }
    return parse_path(rest + alen, out, why);
}

int grep11_url_authority(const grep11_url *u, char *out, size_t cap)
{
    int n =
        snprintf(out, cap, "%s%s%s:%u", u->ipv6 ? "[" : "", u->host, u->ipv6 ? "]" : "", u->port);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int grep11_url_format(const grep11_url *u, char *out, size_t cap)
{
    const char *scheme = u->scheme == GREP11_URL_HTTPS  ? "https://"
                         : u->scheme == GREP11_URL_HTTP ? "http://"
                                                        : "";
    char auth[300];
    if (grep11_url_authority(u, auth, sizeof(auth)) != 0)
        return -1;
    int n = snprintf(out, cap, "%s%s%s", scheme, auth, u->path);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}
