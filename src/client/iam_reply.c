/* An IAM token endpoint's answer as a CK_RV and a token (iam_reply.h). The
 * status is mapped to the codes grep11.Auth/Token gives for the same
 * outcome, so that a caller (the module's C_Login) behaves the same
 * whichever way it asked. */
#include "iam_reply.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_reply.h"

/* Bounds on what a sane token endpoint states; beyond them the number is
 * taken as garbage rather than as a token that never expires. */
#define MAX_EXPIRES_IN_S (366.0 * 86400)
#define MAX_EXPIRATION 1e11

static CK_RV status_rv(unsigned status)
{
    switch (status) {
    case 200:
        return CKR_OK;
    case 400: /* IAM: BXNIM0415E, the API key is not known */
    case 401:
        return CKR_IBM_GREP11_NOT_AUTHENTICATED;
    case 403:
        return CKR_GREP11_PERMISSION_DENIED;
    case 429:
        return CKR_GREP11_RATE_LIMITED;
    default:
        return CKR_DEVICE_ERROR; /* 5xx, and a status no token endpoint should give */
    }
}

/* cJSON holds its own copies of the strings it parsed, the token among
 * them: wiped before the tree is freed. */
static void wipe_strings(cJSON *j)
{
    for (; j; j = j->next) {
        if (j->valuestring)
            OPENSSL_cleanse(j->valuestring, strlen(j->valuestring));
        wipe_strings(j->child);
    }
}

static void json_free(cJSON *j)
{
    wipe_strings(j);
    cJSON_Delete(j);
}

/* A server's text, made safe for a log line. */
static void printable(char *out, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < cap; i++)
        out[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e ? '?' : s[i];
    if (cap)
        out[i] = '\0';
}

/* A token goes into an authorization header: visible ASCII only. */
static int token_ok(const char *t)
{
    if (!t[0])
        return 0;
    for (; *t; t++)
        if (*t < 0x21 || *t > 0x7e)
            return 0;
    return 1;
}

static CK_RV expiry(const cJSON *o, int64_t now, int64_t *expires_at, char *detail, size_t dcap)
{
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(o, "expiration");
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(o, "expires_in");
    if (cJSON_IsNumber(exp) && isfinite(exp->valuedouble) && exp->valuedouble >= 1 &&
        exp->valuedouble <= MAX_EXPIRATION) {
        *expires_at = (int64_t)exp->valuedouble;
        return CKR_OK;
    }
    if (cJSON_IsNumber(in) && isfinite(in->valuedouble) && in->valuedouble >= 0 &&
        in->valuedouble <= MAX_EXPIRES_IN_S) {
        *expires_at = now + (int64_t)in->valuedouble;
        return CKR_OK;
    }
    snprintf(detail, dcap, "token response without a valid expiration or expires_in");
    return CKR_DEVICE_ERROR;
}

static CK_RV token_json(const uint8_t *body, size_t n, int64_t now, char *token, size_t cap,
                        int64_t *expires_at, char *detail, size_t dcap)
{
    CK_RV rv = CKR_DEVICE_ERROR;
    cJSON *o = cJSON_ParseWithLength((const char *)body, n);
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(o, "access_token");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "token_type");
    if (!cJSON_IsObject(o)) {
        snprintf(detail, dcap, "token response is not a JSON object");
        goto out;
    }
    if (!cJSON_IsString(tok) || !token_ok(tok->valuestring) || strlen(tok->valuestring) >= cap) {
        snprintf(detail, dcap, "token response without a usable access_token");
        goto out;
    }
    if (type && (!cJSON_IsString(type) || strcasecmp(type->valuestring, "Bearer") != 0)) {
        snprintf(detail, dcap, "token_type is not Bearer");
        goto out;
    }
    if ((rv = expiry(o, now, expires_at, detail, dcap)) != CKR_OK)
        goto out;
    memcpy(token, tok->valuestring, strlen(tok->valuestring) + 1);
out:
    json_free(o);
    return rv;
}

/* "HTTP 400 BXNIM0415E: Provided API key could not be found." */
static void error_detail(const g11c_http_reply *r, const uint8_t *body, char *detail, size_t dcap)
{
    char code[64] = "", msg[200] = "";
    cJSON *o = cJSON_ParseWithLength((const char *)body, r->body_len);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "errorCode");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "errorMessage");
    if (cJSON_IsString(c))
        printable(code, sizeof(code), c->valuestring);
    if (cJSON_IsString(m))
        printable(msg, sizeof(msg), m->valuestring);
    json_free(o);
    int n = snprintf(detail, dcap, "HTTP %u%s%s%s%s", r->status, code[0] ? " " : "", code,
                     msg[0] ? ": " : "", msg);
    if (r->retry_after_s && n >= 0 && (size_t)n < dcap)
        snprintf(detail + n, dcap - (size_t)n, " (retry after %u s)", r->retry_after_s);
}

CK_RV g11c_iam_reply(const uint8_t *in, size_t len, int clean_eof, int64_t now, char *token,
                     size_t cap, int64_t *expires_at, char *detail, size_t dcap)
{
    g11c_http_reply r;
    const char *why = "";
    CK_RV rv = CKR_DEVICE_ERROR;
    uint8_t *body = malloc(len ? len : 1);
    if (dcap)
        detail[0] = '\0';
    if (!body)
        return CKR_HOST_MEMORY;
    if (g11c_http_reply_parse(in, len, clean_eof, body, len, &r, &why) != 0) {
        snprintf(detail, dcap, "malformed HTTP response: %s", why);
        goto out;
    }
    rv = status_rv(r.status);
    if (rv == CKR_OK)
        rv = token_json(body, r.body_len, now, token, cap, expires_at, detail, dcap);
    else
        error_detail(&r, body, detail, dcap);
out:
    OPENSSL_cleanse(body, len ? len : 1);
    free(body);
    return rv;
}
