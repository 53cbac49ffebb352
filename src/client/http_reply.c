/* HTTP/1.1 response parsing (http_reply.h), RFC 9112. Every read goes
 * through one bounded cursor; a field the parser does not need is checked
 * for shape and skipped. */
#include "http_reply.h"

#include <string.h>
#include <strings.h>

#define MAX_FIELDS 100
#define MAX_INTERIM 8
#define MAX_CHUNKS 4096

typedef struct {
    const uint8_t *p;
    size_t len, off;
} cursor;

/* Framing and the fields the caller needs, from one header block. */
typedef struct {
    int has_length, chunked;
    size_t length;
    unsigned retry_after_s;
} fields;

/* The next line, without its CRLF; -1 when there is no complete line. */
static int next_line(cursor *c, const char **line, size_t *n)
{
    const uint8_t *start = c->p + c->off;
    size_t left = c->len - c->off;
    for (size_t i = 0; i + 1 < left; i++) {
        if (start[i] == '\n')
            return -1; /* a bare LF ends no line here */
        if (start[i] == '\r' && start[i + 1] == '\n') {
            *line = (const char *)start;
            *n = i;
            c->off += i + 2;
            return 0;
        }
    }
    return -1;
}

static int is_tchar(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Decimal digits only, at most 9 of them (far above any response cap). */
static int parse_decimal(const char *s, size_t n, size_t *out)
{
    size_t v = 0;
    if (n == 0 || n > 9)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* "HTTP/1.x SP 3DIGIT SP reason". */
static int status_line(const char *l, size_t n, unsigned *status)
{
    if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || l[7] < '0' || l[7] > '9' || l[8] != ' ' ||
        (n > 12 && l[12] != ' '))
        return -1;
    size_t v;
    if (parse_decimal(l + 9, 3, &v) != 0 || v < 100 || v > 599)
        return -1;
    for (size_t i = 13; i < n; i++)
        if ((unsigned char)l[i] < 0x20 && l[i] != '\t')
            return -1;
    *status = (unsigned)v;
    return 0;
}

static int name_is(const char *name, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

/* One "name: value" line into f. */
static int field_line(const char *l, size_t n, fields *f, const char **why)
{
    size_t nl = 0;
    while (nl < n && is_tchar(l[nl]))
        nl++;
    if (nl == 0 || nl == n || l[nl] != ':')
        return *why = "malformed header field", -1;
    const char *v = l + nl + 1, *end = l + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t vl = (size_t)(end - v);
    for (size_t i = 0; i < vl; i++)
        if (((unsigned char)v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
            return *why = "control character in a header field", -1;
    if (name_is(l, nl, "Content-Length")) {
        size_t len;
        if (parse_decimal(v, vl, &len) != 0)
            return *why = "invalid Content-Length", -1;
        if (f->has_length && f->length != len)
            return *why = "conflicting Content-Length fields", -1;
        f->has_length = 1;
        f->length = len;
    } else if (name_is(l, nl, "Transfer-Encoding")) {
        if (vl != 7 || strncasecmp(v, "chunked", 7) != 0 || f->chunked)
            return *why = "unsupported Transfer-Encoding (only chunked is read)", -1;
        f->chunked = 1;
    } else if (name_is(l, nl, "Retry-After")) {
        size_t s;
        /* An HTTP-date is legal too; it is ignored rather than refused. */
        if (parse_decimal(v, vl, &s) == 0)
            f->retry_after_s = s > 86400 ? 86400 : (unsigned)s;
    }
    return 0;
}

/* Status line and header block of one response. */
static int head(cursor *c, unsigned *status, fields *f, const char **why)
{
    const char *l;
    size_t n;
    memset(f, 0, sizeof(*f));
    if (next_line(c, &l, &n) != 0 || status_line(l, n, status) != 0)
        return *why = "malformed or truncated status line", -1;
    for (int i = 0;; i++) {
        if (next_line(c, &l, &n) != 0)
            return *why = "truncated or malformed header block", -1;
        if (n == 0)
            break;
        if (i == MAX_FIELDS)
            return *why = "too many header fields", -1;
        if (l[0] == ' ' || l[0] == '\t')
            return *why = "obsolete line folding in a header field", -1;
        if (field_line(l, n, f, why) != 0)
            return -1;
    }
    if (f->has_length && f->chunked)
        return *why = "both Content-Length and Transfer-Encoding", -1;
    return 0;
}

/* "1a;ext=x" -> 26. */
static int chunk_size(const char *l, size_t n, size_t *out)
{
    size_t v = 0, i = 0;
    for (; i < n && i < 8; i++) {
        char ch = l[i];
        int d = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        if (d < 0)
            break;
        v = v << 4 | (size_t)d;
    }
    if (i == 0 || (i < n && l[i] != ';' && l[i] != ' ' && l[i] != '\t'))
        return -1;
    *out = v;
    return 0;
}

static int chunked_body(cursor *c, uint8_t *body, size_t cap, size_t *blen, const char **why)
{
    const char *l;
    size_t n, size;
    *blen = 0;
    for (int i = 0;; i++) {
        if (i == MAX_CHUNKS)
            return *why = "too many chunks", -1;
        if (next_line(c, &l, &n) != 0 || chunk_size(l, n, &size) != 0)
            return *why = "malformed or truncated chunk size", -1;
        if (size == 0)
            break;
        if (size > c->len - c->off || c->len - c->off - size < 2 || size > cap - *blen)
            return *why = "truncated chunk", -1;
        memcpy(body + *blen, c->p + c->off, size);
        *blen += size;
        c->off += size;
        if (c->p[c->off] != '\r' || c->p[c->off + 1] != '\n')
            return *why = "chunk not followed by CRLF", -1;
        c->off += 2;
    }
    for (int i = 0;; i++) { /* trailer fields, read and dropped */
        if (next_line(c, &l, &n) != 0 || i == MAX_FIELDS)
            return *why = "truncated or malformed trailer", -1;
        if (n == 0)
            return 0;
    }
}

int g11c_http_reply_parse(const uint8_t *in, size_t len, int clean_eof, uint8_t *body, size_t cap,
                          g11c_http_reply *out, const char **why)
{
    const char *ignored;
    cursor c = {in, len, 0};
    fields f;
    if (!why)
        why = &ignored;
    memset(out, 0, sizeof(*out));
    for (int i = 0;; i++) {
        if (head(&c, &out->status, &f, why) != 0)
            return -1;
        if (out->status >= 200)
            break;
        /* 101 would switch protocols, which was never asked for. */
        if (out->status == 101 || i == MAX_INTERIM)
            return *why = "unexpected interim response", -1;
    }
    out->retry_after_s = f.retry_after_s;
    size_t left = c.len - c.off;
    if (out->status == 204 || out->status == 304)
        return 0;
    if (f.chunked)
        return chunked_body(&c, body, cap, &out->body_len, why);
    if (f.has_length && (f.length > left || f.length > cap))
        return *why = "body shorter than its Content-Length", -1;
    if (!f.has_length && !clean_eof)
        return *why = "body without a length ended without a proper close", -1;
    size_t n = f.has_length ? f.length : left;
    if (n > cap)
        return *why = "body larger than its buffer", -1;
    if (n)
        memcpy(body, c.p + c.off, n);
    out->body_len = n;
    return 0;
}
