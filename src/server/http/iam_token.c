/* POST /identity/token: IBM Cloud IAM's API-key grant, so that IBM's
 * GREP11 clients get their bearer token from grep11d unmodified. The Go
 * client sends the grant as a form body, the Node client as query-string
 * parameters with an empty body; both are taken. The token itself comes
 * from grep11.Auth/Token through rpc_invoke: the same directory, rate
 * limit, custody lock and token as for a gRPC client. */
#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.pb-c.h"
#include "http.h"
#include "rpc.h"

#define IAM_GRANT_APIKEY "urn:ibm:params:oauth:grant-type:apikey"
#define FORM_TYPE "application/x-www-form-urlencoded"

/* A parameter from the form body, else from the query string. */
static int param(http_request *r, int form, const char *name, char *out, size_t cap)
{
    size_t len = 0;
    const uint8_t *body = http_body(r, &len);
    if (form && body && http_form_value((const char *)body, len, name, out, cap) == 0)
        return 0;
    const char *q = http_query(r, name);
    if (!q || strlen(q) >= cap)
        return -1;
    strcpy(out, q);
    return 0;
}

static void token_json(http_response *out, const Grep11__TokenResponse *t)
{
    int64_t now = (int64_t)time(NULL);
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddStringToObject(o, "access_token", t->token) ||
              !cJSON_AddStringToObject(o, "token_type", "Bearer") ||
              !cJSON_AddNumberToObject(o, "expires_in", (double)(t->expiresat - now)) ||
              !cJSON_AddNumberToObject(o, "expiration", (double)t->expiresat) ||
              !cJSON_AddStringToObject(o, "scope", "ibm openid"))) {
        cJSON_Delete(o);
        o = NULL;
    }
    http_json(out, 200, o);
}

/* rpc_invoke of grep11.Auth/Token for api_key, as if a gRPC client at the
 * same address had asked. */
static void issue(http_request *r, const char *api_key, http_response *out)
{
    Grep11__TokenRequest req = GREP11__TOKEN_REQUEST__INIT;
    req.apikey = (char *)api_key;
    uint8_t buf[1024];
    size_t n = grep11__token_request__get_packed_size(&req);
    if (n > sizeof(buf)) {
        http_iam_error(out, 400, "BXNIM0415E", "Provided API key could not be found.");
        return;
    }
    grep11__token_request__pack(&req, buf);
    services *svc = http_services(r);
    rpc_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.eng = svc->eng;
    ctx.svc = svc;
    ctx.peer = http_peer(r);
    CK_RV rv = rpc_invoke(&ctx, &auth_methods[0], buf, n);
    OPENSSL_cleanse(buf, sizeof(buf));
    Grep11__TokenResponse *t =
        rv == CKR_OK ? grep11__token_response__unpack(NULL, ctx.resp_len, ctx.resp) : NULL;
    if (t)
        token_json(out, t);
    else if (rv == CKR_OK)
        http_iam_error(out, 500, "G11IAM500", "internal error");
    else if (rv == CKR_GREP11_RATE_LIMITED) {
        http_iam_error(out, 429, "G11IAM429", "Too many failed attempts; retry later.");
        out->retry_after_s = 6;
    } else if (rv == CKR_GREP11_LOCKED) {
        http_iam_error(out, 503, "G11IAM503", "The instance is locked until key owners unlock it.");
        out->retry_after_s = 5;
    } else if (rv == CKR_DEVICE_ERROR) {
        http_iam_error(out, 503, "G11IAM503", "The identity directory is unavailable.");
        out->retry_after_s = 1;
    } else if (rv == CKR_IBM_GREP11_NOT_AUTHENTICATED) {
        http_iam_error(out, 400, "BXNIM0415E", "Provided API key could not be found.");
    } else {
        http_iam_error(out, 500, "G11IAM500", "The token could not be issued.");
    }
    if (t) {
        OPENSSL_cleanse(t->token, strlen(t->token));
        grep11__token_response__free_unpacked(t, NULL);
    }
    rpc_ctx_release(&ctx);
}

void http_identity_token(http_request *r, http_response *out)
{
    char grant[128], api_key[512];
    size_t len = 0;
    http_body(r, &len);
    const char *ct = http_header(r, "Content-Type");
    int form = ct && strncmp(ct, FORM_TYPE, strlen(FORM_TYPE)) == 0;
    if (len && !form) {
        http_iam_error(out, 400, "BXNIM0109E",
                       "Unsupported content type: use application/x-www-form-urlencoded.");
        return;
    }
    if (param(r, form, "grant_type", grant, sizeof(grant)) != 0 ||
        param(r, form, "apikey", api_key, sizeof(api_key)) != 0 || !api_key[0]) {
        http_iam_error(out, 400, "BXNIM0109E", "Property missing or empty: grant_type and apikey.");
        return;
    }
    if (strcmp(grant, IAM_GRANT_APIKEY) != 0)
        http_iam_error(out, 400, "BXNIM0103E",
                       "Unsupported grant_type: only " IAM_GRANT_APIKEY " is offered.");
    else
        issue(r, api_key, out);
    OPENSSL_cleanse(api_key, sizeof(api_key));
}
