/* libgrep11's reading of an IAM token endpoint's answer, without a socket:
 * HTTP/1.1 framing (http_reply.c) and the status and JSON mapping
 * (iam_reply.c), table-driven; and the endpoint parser (grep11/url.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grep11/url.h"
#include "http_reply.h"
#include "iam_reply.h"

#define NOW 1700000000
#define TOKEN_BODY                                                                                 \
    "{\"access_token\":\"eyJ.abc.def\",\"token_type\":\"Bearer\",\"expires_in\":1200}"

static int parse(const char *resp, int clean, g11c_http_reply *r, char *body, const char **why)
{
    return g11c_http_reply_parse((const uint8_t *)resp, strlen(resp), clean, (uint8_t *)body,
                                 strlen(resp) + 1, r, why);
}

static void framing(void **state)
{
    (void)state;
    static const struct {
        const char *resp;
        int clean;
        unsigned status;
        const char *body; /* NULL: refused */
    } cases[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0, 200, "hello"},
        {"HTTP/1.1 200 OK\r\ncontent-length:5\r\nContent-Length: 5\r\n\r\nhello", 0, 200, "hello"},
        {"HTTP/1.0 200\r\nContent-Length: 0\r\n\r\n", 0, 200, ""},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
         "3;x=y\r\nhel\r\n2\r\nlo\r\n0\r\nX-Trailer: 1\r\n\r\n",
         0, 200, "hello"},
        {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\n{}", 0,
         401, "{}"},
        {"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end", 1, 200, "to the end"},
        /* Without a length, only a proper close ends the body. */
        {"HTTP/1.1 200 OK\r\n\r\ncut sh", 0, 0, NULL},
        {"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello", 1, 0, NULL},
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello", 1, 0,
         NULL},
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 1, 0, NULL},
        {"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello", 1, 0, NULL},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 1, 0, NULL},
        {"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n", 1, 0, NULL},
        {"HTTP/1.1 200 OK\nContent-Length: 0\n\n", 1, 0, NULL},
        {"HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n", 1, 0, NULL},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", 1, 0, NULL},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhelXX0\r\n\r\n", 1, 0, NULL},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffff\r\n", 1, 0, NULL},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", 1, 0, NULL},
        {"HTTP/1.1 101 Switching Protocols\r\n\r\n", 1, 0, NULL},
        {"HTTP/2 200\r\n\r\n", 1, 0, NULL},
        {"HTTP/1.1 999 Nine\r\n\r\n", 1, 0, NULL},
        {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", 1, 0, NULL},
        {"", 1, 0, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        g11c_http_reply r;
        char body[512];
        const char *why = "";
        int rc = parse(cases[i].resp, cases[i].clean, &r, body, &why);
        if (!cases[i].body) {
            if (rc == 0)
                fail_msg("case %zu: accepted (status %u)", i, r.status);
            assert_true(why[0] != '\0');
            continue;
        }
        if (rc != 0)
            fail_msg("case %zu: refused: %s", i, why);
        assert_int_equal(r.status, cases[i].status);
        assert_int_equal(r.body_len, strlen(cases[i].body));
        assert_memory_equal(body, cases[i].body, r.body_len);
    }
}

static CK_RV reply(const char *resp, char *token, size_t cap, int64_t *exp, char *detail)
{
    return g11c_iam_reply((const uint8_t *)resp, strlen(resp), 1, NOW, token, cap, exp, detail,
                          256);
}

static void status_and_json(void **state)
{
    (void)state;
    static const struct {
        const char *status_line;
        const char *body;
        CK_RV rv;
        int64_t exp;
        const char *detail; /* in the detail text */
    } cases[] = {
        {"200 OK", TOKEN_BODY, CKR_OK, NOW + 1200, ""},
        {"200 OK", "{\"access_token\":\"t\",\"expires_in\":5,\"expiration\":1700009999}", CKR_OK,
         1700009999, ""},
        {"200 OK", "{\"access_token\":\"t\",\"token_type\":\"bearer\",\"expiration\":1700000600}",
         CKR_OK, 1700000600, ""},
        {"200 OK", "{\"access_token\":\"t\"}", CKR_DEVICE_ERROR, 0, "expires_in"},
        {"200 OK", "{\"access_token\":\"t\",\"expires_in\":-1}", CKR_DEVICE_ERROR, 0, "expires_in"},
        {"200 OK", "{\"access_token\":\"t\",\"expires_in\":\"60\"}", CKR_DEVICE_ERROR, 0,
         "expires_in"},
        {"200 OK", "{\"access_token\":\"a b\",\"expires_in\":60}", CKR_DEVICE_ERROR, 0,
         "access_token"},
        {"200 OK", "{\"access_token\":\"\",\"expires_in\":60}", CKR_DEVICE_ERROR, 0,
         "access_token"},
        {"200 OK", "{\"access_token\":7,\"expires_in\":60}", CKR_DEVICE_ERROR, 0, "access_token"},
        {"200 OK", "{\"access_token\":\"t\",\"token_type\":\"MAC\",\"expires_in\":60}",
         CKR_DEVICE_ERROR, 0, "Bearer"},
        {"200 OK", "[\"access_token\"]", CKR_DEVICE_ERROR, 0, "JSON object"},
        {"200 OK", "{\"access_token\":\"t\",", CKR_DEVICE_ERROR, 0, "JSON object"},
        {"400 Bad Request",
         "{\"errorCode\":\"BXNIM0415E\",\"errorMessage\":\"Provided API key could not be found.\"}",
         CKR_IBM_GREP11_NOT_AUTHENTICATED, 0,
         "HTTP 400 BXNIM0415E: Provided API key could not be found."},
        {"401 Unauthorized", "", CKR_IBM_GREP11_NOT_AUTHENTICATED, 0, "HTTP 401"},
        {"403 Forbidden", "{}", CKR_GREP11_PERMISSION_DENIED, 0, "HTTP 403"},
        {"429 Too Many Requests", "{\"errorCode\":\"G11IAM429\",\"errorMessage\":\"x\\u0001y\"}",
         CKR_GREP11_RATE_LIMITED, 0, "G11IAM429: x?y (retry after 6 s)"},
        {"503 Service Unavailable", "{\"errorCode\":\"G11IAM503\"}", CKR_DEVICE_ERROR, 0,
         "HTTP 503 G11IAM503"},
        {"404 Not Found", "not json", CKR_DEVICE_ERROR, 0, "HTTP 404"},
        {"302 Found", "", CKR_DEVICE_ERROR, 0, "HTTP 302"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char resp[1024], token[64] = "", detail[256];
        int64_t exp = 0;
        snprintf(resp, sizeof(resp), "HTTP/1.1 %s\r\nContent-Length: %zu\r\n%s\r\n%s",
                 cases[i].status_line, strlen(cases[i].body),
                 strncmp(cases[i].status_line, "429", 3) == 0 ? "Retry-After: 6\r\n" : "",
                 cases[i].body);
        CK_RV rv = reply(resp, token, sizeof(token), &exp, detail);
        if (rv != cases[i].rv || !strstr(detail, cases[i].detail))
            fail_msg("case %zu: rv 0x%lx detail '%s' (want 0x%lx, '%s')", i, (unsigned long)rv,
                     detail, (unsigned long)cases[i].rv, cases[i].detail);
        if (rv == CKR_OK) {
            assert_int_equal(exp, cases[i].exp);
            assert_true(token[0] != '\0');
        }
        assert_null(strstr(detail, "eyJ")); /* never the token */
    }
}

static void token_must_fit(void **state)
{
    (void)state;
    char resp[512], token[8], detail[256];
    int64_t exp = 0;
    snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(TOKEN_BODY), TOKEN_BODY);
    assert_int_equal(reply(resp, token, sizeof(token), &exp, detail), CKR_DEVICE_ERROR);
    char big[sizeof("eyJ.abc.def")];
    assert_int_equal(reply(resp, big, sizeof(big), &exp, detail), CKR_OK);
    assert_string_equal(big, "eyJ.abc.def");
}

static void endpoints(void **state)
{
    (void)state;
    grep11_url u;
    const char *why = NULL;
    char out[600];
    assert_int_equal(grep11_url_parse("https://iam.cloud.ibm.com", &u, &why), 0);
    assert_int_equal(u.scheme, GREP11_URL_HTTPS);
    assert_string_equal(u.host, "iam.cloud.ibm.com");
    assert_int_equal(u.port, 443);
    assert_string_equal(u.path, "");
    assert_int_equal(grep11_url_parse("https://[fe80::1]:8443/a/b/", &u, &why), 0);
    assert_true(u.ipv6);
    assert_string_equal(u.host, "fe80::1");
    assert_string_equal(u.path, "/a/b");
    assert_int_equal(grep11_url_authority(&u, out, sizeof(out)), 0);
    assert_string_equal(out, "[fe80::1]:8443");
    assert_int_equal(grep11_url_format(&u, out, sizeof(out)), 0);
    assert_string_equal(out, "https://[fe80::1]:8443/a/b");
    assert_int_equal(grep11_url_parse("h:1", &u, &why), 0);
    assert_int_equal(u.scheme, GREP11_URL_BARE);
    static const char *const bad[] = {
        "h",
        "https://h:65536",
        "https://h:x",
        "https://h/\r\nX: y",
        "https://h/%0d x",
        "https://[::1",
        "https://[zz]:1",
        "ftp://h:1",
        "https://a@h",
        "https://h#f",
        NULL,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        if (grep11_url_parse(bad[i], &u, &why) == 0)
            fail_msg("accepted '%s'", bad[i] ? bad[i] : "(null)");
        assert_non_null(why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(framing),
        cmocka_unit_test(status_and_json),
        cmocka_unit_test(token_must_fit),
        cmocka_unit_test(endpoints),
    };
    return cmocka_run_group_tests_name("client_iam_reply", tests, NULL, NULL);
}
