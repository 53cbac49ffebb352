/* iamauth.endpoint as IBM's YAML writes it: an https:// URL is an IAM token
 * endpoint, here grep11d's HTTPS front. Every token fetch (anonymous user,
 * C_Login, refresh) is then a POST /identity/token there, never a
 * grep11.Auth/Token call, and the tokens work on the gRPC calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "p11test.h"

#define POST_OK "http method=POST path=\"/identity/token\" status=200"
#define POST_REFUSED "http method=POST path=\"/identity/token\" status=400"
#define GRPC_TOKEN "method=\"/grep11.Auth/Token\""

/* How many lines of a log file contain needle. */
static int count_lines(const char *path, const char *needle)
{
    char line[4096];
    int n = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

/* The count once it reaches at least want (the server writes a call's log
 * line after its answer, so a client can be faster than the line), or what
 * it is after 5 s. */
static int wait_lines(const char *path, const char *needle, int want)
{
    int n = count_lines(path, needle);
    for (int i = 0; i < 100 && n < want; i++) {
        usleep(50 * 1000);
        n = count_lines(path, needle);
    }
    return n;
}

typedef struct {
    p11t t; /* first: p11t_teardown */
    char user_key[256];
    char endpoint[160];
    int grpc_tokens; /* grep11.Auth/Token calls before the module was loaded */
} iam_fx;

static int setup(void **state)
{
    static const char *const roles[] = {"crypto"};
    iam_fx *f = calloc(1, sizeof(*f));
    *state = f;
    if (!f || p11t_server_http(&f->t, NULL) != 0 ||
        p11t_api_key(&f->t, "user", roles, 1, NULL, 0, f->user_key, sizeof(f->user_key)) != 0)
        return -1;
    snprintf(f->endpoint, sizeof(f->endpoint), "https://%s", f->t.http_addr);
    f->t.iam_endpoint = f->endpoint;
    if (p11t_config(&f->t, f->t.srv.addr, NULL) != 0)
        return -1;
    /* The harness's own admin connection got its token over gRPC. */
    f->grpc_tokens = wait_lines(f->t.srv.log, GRPC_TOKEN, 1);
    return p11t_load(&f->t, 1);
}

static void module_log(const p11t *t, char *path, size_t cap)
{
    snprintf(path, cap, "%s/module.log", t->srv.dir);
}

static void aes_round_trip(p11t *t, CK_SESSION_HANDLE s)
{
    CK_OBJECT_HANDLE k = p11t_secret_key(t, s, CKM_AES_KEY_GEN, CKK_AES, 32, 0);
    CK_BYTE iv[16] = {1, 2, 3}, plain[] = "a message under a token fetched over HTTPS";
    CK_BYTE ct[64], back[64];
    CK_ULONG clen = sizeof(ct), blen = sizeof(back);
    CK_MECHANISM cbc = {CKM_AES_CBC_PAD, iv, sizeof(iv)};
    assert_int_equal(t->f->C_EncryptInit(s, &cbc, k), CKR_OK);
    assert_int_equal(t->f->C_Encrypt(s, plain, sizeof(plain), ct, &clen), CKR_OK);
    assert_int_equal(t->f->C_DecryptInit(s, &cbc, k), CKR_OK);
    assert_int_equal(t->f->C_Decrypt(s, ct, clen, back, &blen), CKR_OK);
    assert_int_equal(blen, sizeof(plain));
    assert_memory_equal(back, plain, sizeof(plain));
}

static void login_fetches_token_over_https(void **state)
{
    iam_fx *f = *state;
    p11t *t = &f->t;
    char mlog[400];
    module_log(t, mlog, sizeof(mlog));
    CK_SESSION_HANDLE s = p11t_session(t, 0, 1);
    CK_BYTE r[16];
    /* The anonymous user's token comes from the front as well. */
    assert_int_equal(t->f->C_GenerateRandom(s, r, sizeof(r)), CKR_OK);
    int before = wait_lines(t->srv.log, POST_OK, 1);
    assert_true(before >= 1);
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)f->user_key, strlen(f->user_key)),
                     CKR_OK);
    assert_int_equal(wait_lines(t->srv.log, POST_OK, before + 1), before + 1);
    aes_round_trip(t, s);
    assert_int_equal(t->f->C_Logout(s), CKR_OK);

    /* A refused key is a wrong PIN, as over gRPC. */
    static const char wrong[] = "g11k_not-a-key-this-server-issued";
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)wrong, strlen(wrong)),
                     CKR_PIN_INCORRECT);
    assert_int_equal(wait_lines(t->srv.log, POST_REFUSED, 1), 1);
    assert_int_equal(t->f->C_GetSessionInfo(s, &(CK_SESSION_INFO){0}), CKR_OK);

    /* Not one token went the gRPC way; no key reached either log. */
    assert_int_equal(count_lines(t->srv.log, GRPC_TOKEN), f->grpc_tokens);
    assert_int_equal(count_lines(t->srv.log, f->user_key), 0);
    assert_int_equal(count_lines(mlog, f->user_key), 0);
    assert_int_equal(count_lines(mlog, wrong), 0);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

/* Tokens that expire are fetched again from the front inside the call that
 * needs one. */
static void tokens_refresh_over_https(void **state)
{
    iam_fx *f = *state;
    p11t *t = &f->t;
    p11t short_lived;
    char ep[160];
    memset(&short_lived, 0, sizeof(short_lived));
    assert_int_equal(p11t_server_http(&short_lived, "auth:\n  token_ttl: 2\n"), 0);
    snprintf(ep, sizeof(ep), "https://%s", short_lived.http_addr);
    short_lived.iam_endpoint = ep;
    assert_int_equal(p11t_config(&short_lived, short_lived.srv.addr, NULL), 0);
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_OK);
    CK_SESSION_HANDLE s = p11t_session(t, 0, 0);
    CK_BYTE r[8];
    assert_int_equal(
        t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)short_lived.apikey, strlen(short_lived.apikey)),
        CKR_OK);
    assert_int_equal(t->f->C_GenerateRandom(s, r, sizeof(r)), CKR_OK);
    int before = wait_lines(short_lived.srv.log, POST_OK, 1);
    sleep(3); /* the user's token has expired */
    assert_int_equal(t->f->C_GenerateRandom(s, r, sizeof(r)), CKR_OK);
    assert_int_equal(wait_lines(short_lived.srv.log, POST_OK, before + 1), before + 1);
    assert_int_equal(count_lines(short_lived.srv.log, GRPC_TOKEN), 0);
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    assert_int_equal(test_server_stop(&short_lived.srv), 0);
    setenv("GREP11_CLIENT_CONFIG", t->cfg, 1);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_OK);
}

/* A host:port endpoint keeps grep11.Auth/Token over gRPC, even when it is
 * the front's neighbour on the same server. */
static void host_port_endpoint_stays_grpc(void **state)
{
    iam_fx *f = *state;
    p11t *t = &f->t;
    int before = count_lines(t->srv.log, GRPC_TOKEN);
    t->iam_endpoint = t->srv.addr;
    assert_int_equal(p11t_config(t, t->srv.addr, NULL), 0);
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_OK);
    CK_SESSION_HANDLE s = p11t_session(t, 0, 0);
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)f->user_key, strlen(f->user_key)),
                     CKR_OK);
    assert_true(wait_lines(t->srv.log, GRPC_TOKEN, before + 1) > before);
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    t->iam_endpoint = f->endpoint;
    assert_int_equal(p11t_config(t, t->srv.addr, NULL), 0);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_OK);
}

/* http:// beside a TLS connection would send API keys in clear: refused
 * when the configuration is read. */
static void http_endpoint_refused_beside_tls(void **state)
{
    iam_fx *f = *state;
    p11t *t = &f->t;
    char ep[160];
    snprintf(ep, sizeof(ep), "http://%s", t->http_addr);
    t->iam_endpoint = ep;
    assert_int_equal(p11t_config(t, t->srv.addr, NULL), 0);
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_ARGUMENTS_BAD);
    t->iam_endpoint = f->endpoint;
    assert_int_equal(p11t_config(t, t->srv.addr, NULL), 0);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(login_fetches_token_over_https),
        cmocka_unit_test(tokens_refresh_over_https),
        cmocka_unit_test(host_port_endpoint_stays_grpc),
        cmocka_unit_test(http_endpoint_refused_beside_tls),
    };
    return cmocka_run_group_tests_name("pkcs11_iam", tests, setup, p11t_teardown);
}
