/* Identities end to end: tokens, roles, revocation, expiry, rate limiting
 * and certificate binding, on a real grep11d. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

typedef struct {
    test_server srv;
    g11c_conn *admin;
} fixture;

static int start(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (!f || test_server_start(&f->srv, NULL, NULL) != 0)
        return -1;
    f->admin = test_connect(&f->srv, 0);
    *state = f;
    return f->admin ? 0 : -1;
}

static int stop(void **state)
{
    fixture *f = *state;
    g11c_close(f->admin);
    int rc = test_server_stop(&f->srv);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void new_key(fixture *f, const char *principal, const char *const *roles, size_t nroles,
                    const char *cert, char key[160], g11c_api_key_info *info)
{
    assert_int_equal(g11c_admin_create_api_key(f->admin, principal, roles, nroles, NULL, 0, cert,
                                               key, 160, info),
                     CKR_OK);
}

static CK_RV random_rv(g11c_conn *c)
{
    uint8_t r[8];
    return g11c_generate_random(c, r, sizeof(r));
}

static void calls_without_a_valid_token_are_refused(void **state)
{
    fixture *f = *state;
    g11c_conn *anon = test_connect_anonymous(&f->srv, 0);
    assert_int_equal(random_rv(anon), CKR_IBM_GREP11_NOT_AUTHENTICATED);
    int serving = 0;
    assert_int_equal(g11c_health(anon, &serving), CKR_OK); /* health is public */
    assert_int_equal(test_authenticate(anon, "g11k_not-a-key"), CKR_IBM_GREP11_NOT_AUTHENTICATED);
    g11c_close(anon);
}

static void roles_limit_what_a_key_may_call(void **state)
{
    fixture *f = *state;
    char key[160];
    static const char *const crypto[] = {"crypto"};
    static const char *const user[] = {"keystore-user"};
    new_key(f, "app", crypto, 1, NULL, key, NULL);
    g11c_conn *app = test_connect_as(&f->srv, 0, key);
    assert_non_null(app);
    assert_int_equal(random_rv(app), CKR_OK);
    g11c_api_key_info *list = NULL;
    size_t n = 0;
    assert_int_equal(g11c_admin_list_api_keys(app, &list, &n), CKR_GREP11_PERMISSION_DENIED);
    g11c_close(app);

    new_key(f, "user", user, 1, NULL, key, NULL);
    g11c_conn *u = test_connect_as(&f->srv, 0, key);
    assert_non_null(u);
    assert_int_equal(random_rv(u), CKR_GREP11_PERMISSION_DENIED);
    g11c_close(u);
}

static void list_shows_keys_but_never_secrets(void **state)
{
    fixture *f = *state;
    char key[160];
    static const char *const roles[] = {"crypto", "admin"};
    g11c_api_key_info info;
    new_key(f, "listed", roles, 2, NULL, key, &info);
    g11c_api_key_info *list = NULL;
    size_t n = 0;
    assert_int_equal(g11c_admin_list_api_keys(f->admin, &list, &n), CKR_OK);
    int found = 0;
    const char *secret = strchr(key, '.') + 1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i].key_id, info.key_id) == 0) {
            found = 1;
            assert_string_equal(list[i].principal, "listed");
            assert_string_equal(list[i].roles, "crypto,admin");
        }
        assert_null(strstr(list[i].key_id, secret));
    }
    assert_true(found);
    free(list);
}

static void revocation_takes_effect_at_once(void **state)
{
    fixture *f = *state;
    char key[160];
    static const char *const crypto[] = {"crypto"};
    g11c_api_key_info info;
    new_key(f, "revoked", crypto, 1, NULL, key, &info);
    g11c_conn *c = test_connect_as(&f->srv, 0, key);
    assert_non_null(c);
    assert_int_equal(random_rv(c), CKR_OK);
    assert_int_equal(g11c_admin_revoke_api_key(f->admin, info.key_id), CKR_OK);
    assert_int_equal(random_rv(c), CKR_IBM_GREP11_NOT_AUTHENTICATED); /* old token */
    assert_int_equal(test_authenticate(c, key), CKR_IBM_GREP11_NOT_AUTHENTICATED);
    assert_int_equal(g11c_admin_revoke_api_key(f->admin, "AAAAAAAAAAAAAAAA"), CKR_GREP11_MISSING);
    g11c_close(c);
}

static void failed_token_requests_are_rate_limited(void **state)
{
    fixture *f = *state;
    g11c_conn *c = test_connect_anonymous(&f->srv, 0);
    CK_RV rv = CKR_OK;
    int i;
    for (i = 0; i < 50; i++) {
        rv = test_authenticate(c,
                               "g11k_AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        if (rv == CKR_GREP11_RATE_LIMITED)
            break;
        assert_int_equal(rv, CKR_IBM_GREP11_NOT_AUTHENTICATED);
    }
    assert_int_equal(rv, CKR_GREP11_RATE_LIMITED);
    assert_true(i >= 5);
    /* Even the right key waits now: the limit is on the peer. */
    assert_int_equal(test_authenticate(c, f->srv.apikey), CKR_GREP11_RATE_LIMITED);
    g11c_close(c);
}

static void tokens_expire(void **state)
{
    (void)state;
    test_server srv;
    assert_int_equal(test_server_start(&srv, "auth:\n  token_ttl: 1\n", NULL), 0);
    g11c_conn *c = test_connect(&srv, 0);
    assert_non_null(c);
    assert_int_equal(random_rv(c), CKR_OK);
    sleep(2);
    assert_int_equal(random_rv(c), CKR_IBM_GREP11_NOT_AUTHENTICATED);
    g11c_close(c);
    assert_int_equal(test_server_stop(&srv), 0);
}

static void keys_bound_to_a_certificate(void **state)
{
    (void)state;
    test_server srv;
    assert_int_equal(test_server_start(&srv, "tls:\n  client_ca: @DIR@/tls/ca.pem\n", NULL), 0);
    char cert[400], keyf[400], bound[160], other[160];
    snprintf(cert, sizeof(cert), "%s/tls/client.pem", srv.dir);
    snprintf(keyf, sizeof(keyf), "%s/tls/client-key.pem", srv.dir);
    g11c_options o = {.address = srv.addr,
                      .ca_file = srv.ca,
                      .cert_file = cert,
                      .key_file = keyf,
                      .timeout_ms = 10000};
    g11c_conn *admin = NULL;
    assert_int_equal(g11c_connect(&o, &admin), CKR_OK);
    assert_int_equal(test_authenticate(admin, srv.apikey), CKR_OK);
    static const char *const crypto[] = {"crypto"};
    assert_int_equal(g11c_admin_create_api_key(admin, "bound", crypto, 1, NULL, 0,
                                               "grep11 development client", bound, sizeof(bound),
                                               NULL),
                     CKR_OK);
    assert_int_equal(g11c_admin_create_api_key(admin, "elsewhere", crypto, 1, NULL, 0,
                                               "another client", other, sizeof(other), NULL),
                     CKR_OK);
    g11c_conn *c = NULL;
    assert_int_equal(g11c_connect(&o, &c), CKR_OK);
    assert_int_equal(test_authenticate(c, bound), CKR_OK);
    assert_int_equal(random_rv(c), CKR_OK);
    assert_int_equal(test_authenticate(c, other), CKR_IBM_GREP11_NOT_AUTHENTICATED);
    g11c_close(c);
    g11c_close(admin);
    assert_int_equal(test_server_stop(&srv), 0);
}

/* Neither API keys nor tokens reach the server's log. */
static void secrets_stay_out_of_the_log(void **state)
{
    (void)state;
    test_server srv;
    assert_int_equal(test_server_start(&srv, "log_level: debug\n", NULL), 0);
    g11c_conn *c = test_connect_anonymous(&srv, 0);
    char token[2048];
    assert_int_equal(g11c_auth_token(c, srv.apikey, token, sizeof(token), NULL), CKR_OK);
    assert_int_equal(
        test_authenticate(c, "g11k_AAAAAAAAAAAAAAAA.wrongwrongwrongwrongwrongwrongwrongwrongwro"),
        CKR_IBM_GREP11_NOT_AUTHENTICATED);
    assert_int_equal(test_authenticate(c, srv.apikey), CKR_OK);
    assert_int_equal(random_rv(c), CKR_OK);
    g11c_close(c);
    char apikey[160];
    snprintf(apikey, sizeof(apikey), "%s", srv.apikey);
    char log[400];
    snprintf(log, sizeof(log), "%s", srv.log);
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_true(n > 0);
    /* The first start prints the development key once, on stdout, by design;
     * nothing after that line may repeat it. */
    const char *after = strstr(text, apikey);
    if (after)
        after += strlen(apikey);
    else
        after = text;
    assert_null(strstr(after, strchr(apikey, '.') + 1));
    assert_null(strstr(text, strchr(token, '.') + 1));
    assert_null(strstr(text, "wrongwrongwrong"));
    assert_int_equal(test_server_stop(&srv), 0);
}

static void auth_can_be_switched_off_for_development(void **state)
{
    (void)state;
    test_server srv;
    assert_int_equal(test_server_start(&srv, "auth:\n  enabled: false\n", NULL), 0);
    g11c_conn *anon = test_connect_anonymous(&srv, 0);
    assert_int_equal(random_rv(anon), CKR_OK);
    g11c_close(anon);
    assert_int_equal(test_server_stop(&srv), 0);
}

int main(void)
{
    const struct CMUnitTest shared[] = {
        cmocka_unit_test(calls_without_a_valid_token_are_refused),
        cmocka_unit_test(roles_limit_what_a_key_may_call),
        cmocka_unit_test(list_shows_keys_but_never_secrets),
        cmocka_unit_test(revocation_takes_effect_at_once),
        cmocka_unit_test(failed_token_requests_are_rate_limited),
    };
    const struct CMUnitTest own[] = {
        cmocka_unit_test(tokens_expire),
        cmocka_unit_test(keys_bound_to_a_certificate),
        cmocka_unit_test(secrets_stay_out_of_the_log),
        cmocka_unit_test(auth_can_be_switched_off_for_development),
    };
    int failed = cmocka_run_group_tests_name("identities", shared, start, stop);
    failed += cmocka_run_group_tests_name("identity settings", own, NULL, NULL);
    return failed;
}
