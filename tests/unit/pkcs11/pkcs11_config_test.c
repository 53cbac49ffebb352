/* grep11client.yaml: the shipped example parses as is; anchors, aliases and
 * merge keys; every invalid case fails with a message naming the key; the
 * search order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "yaml_tree.h"

static CK_RV parse(const char *yaml, p11_config *cfg, char *err, size_t cap)
{
    return p11_config_parse((const uint8_t *)yaml, strlen(yaml), cfg, err, cap);
}

static void example_parses_as_is(void **state)
{
    (void)state;
    FILE *f = fopen(P11_EXAMPLE, "rb");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    p11_config cfg;
    char err[400];
    CK_RV rv = p11_config_parse((uint8_t *)buf, n, &cfg, err, sizeof(err));
    if (rv != CKR_OK)
        fail_msg("%s", err);
    assert_int_equal(cfg.ntokens, 2);
    const p11_token_cfg *t0 = p11_config_token(&cfg, 0), *t1 = p11_config_token(&cfg, 1);
    assert_non_null(t0);
    assert_non_null(t1);
    assert_string_equal(t0->label, "grep11");
    assert_string_equal(t0->address, "127.0.0.1:9876");
    assert_int_equal(t0->timeout_ms, 30000);
    assert_int_equal(t0->channels, 1);
    assert_true(t0->tls_enabled);
    assert_false(t0->tls_mutual);
    assert_string_equal(t0->cacert, "/etc/grep11/ca.pem");
    assert_true(t0->remotestore);
    assert_true(t0->users[0].present && t0->users[0].iam_enabled);
    assert_null(t0->users[0].apikey);
    assert_null(t0->users[0].iam_endpoint); /* "" is no endpoint */
    assert_string_equal(t0->users[2].apikey, "g11k_replace-with-the-anonymous-api-key");
    assert_string_equal(t0->users[1].tokenspace_id, "1c4a3ad3-3b0c-4e5a-9d2c-6a1f7b2e8c01");
    assert_false(t0->users[1].sessionauth_enabled);
    /* Token 1: explicit address over both merge sources, port from the first. */
    assert_string_equal(t1->address, "grep11.eu-2.example.com:9876");
    assert_true(t1->tls_mutual);
    assert_string_equal(t1->certfile, "/etc/grep11/client.pem");
    assert_string_equal(t1->cacert, "/etc/grep11/ca.pem");
    assert_false(t1->users[0].present);
    assert_int_equal(cfg.loglevel, P11_LOG_WARN);
    assert_null(cfg.logpath);
    assert_true(cfg.grpc_log);
    p11_config_free(&cfg);
}

static void yaml_anchors_aliases_merges(void **state)
{
    (void)state;
    const char *doc = "a: &A {x: 1, y: 2}\n"
                      "b: &B {y: 20, z: 30}\n"
                      "s: &S hello\n"
                      "one: {<<: *A, x: 10}\n"
                      "list: {<<: [*A, *B], w: 0}\n"
                      "list2: {<<: [*B, *A]}\n"
                      "nested: {<<: {<<: *A, q: 5}}\n"
                      "scal: *S\n"
                      "quoted: {'<<': *A}\n";
    p11_ydoc d;
    char err[200];
    assert_int_equal(p11_yaml_parse((const uint8_t *)doc, strlen(doc), &d, err, sizeof(err)), 0);
    const p11_ynode *one = p11_yaml_get(d.root, "one");
    assert_string_equal(p11_yaml_get(one, "x")->value, "10"); /* explicit wins */
    assert_string_equal(p11_yaml_get(one, "y")->value, "2");
    const p11_ynode *list = p11_yaml_get(d.root, "list");
    assert_string_equal(p11_yaml_get(list, "y")->value, "2"); /* first source wins */
    assert_string_equal(p11_yaml_get(list, "z")->value, "30");
    assert_string_equal(p11_yaml_get(list, "w")->value, "0");
    assert_null(p11_yaml_get(list, "<<"));
    assert_string_equal(p11_yaml_get(p11_yaml_get(d.root, "list2"), "y")->value, "20");
    const p11_ynode *nested = p11_yaml_get(d.root, "nested");
    assert_string_equal(p11_yaml_get(nested, "x")->value, "1");
    assert_string_equal(p11_yaml_get(nested, "q")->value, "5");
    assert_string_equal(p11_yaml_get(d.root, "scal")->value, "hello");
    /* A quoted "<<" is an ordinary key. */
    const p11_ynode *q = p11_yaml_get(d.root, "quoted");
    assert_null(p11_yaml_get(q, "x"));
    assert_non_null(p11_yaml_get(q, "<<"));
    /* The anchored mapping itself is untouched by merges into others. */
    assert_null(p11_yaml_get(p11_yaml_get(d.root, "a"), "z"));
    p11_yaml_free(&d);

    static const char *const bad[] = {
        "a: *nope\n",             /* undefined alias */
        "a: &A [*A]\n",           /* an anchor is usable only when complete */
        "a: 1\na: 2\n",           /* duplicate key */
        "s: &S x\nm: {<<: *S}\n", /* merge of a scalar */
        "m: {<<: [1, 2]}\n",      /* merge of scalars */
        "a: [1, 2\n",             /* syntax */
        "",                       /* empty */
        "? [1]\n: 2\n",           /* non-scalar key */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(
            p11_yaml_parse((const uint8_t *)bad[i], strlen(bad[i]), &d, err, sizeof(err)), -1);
        assert_true(err[0] != '\0');
    }
}

#define TOK "tokens:\n  0:\n    grep11connection: {address: h, port: 1}\n"

static void config_values(void **state)
{
    (void)state;
    p11_config cfg;
    char err[300];
    const char *doc = "defaults: &d {address: \"::1\", port: \"443\", timeout: 2500, channels: 3,"
                      " tls: {enabled: no}}\n"
                      "tokens:\n"
                      "  7: {grep11connection: *d, users: {1: {iamauth: {endpoint: "
                      "\"https://auth.example:8443/token\"}}}}\n"
                      "  2: {grep11connection: {<<: *d, address: h2, spin: 0}}\n"
                      "logging: {loglevel: TRACE, logpath: /tmp/x.log, grpc: off}\n";
    assert_int_equal(parse(doc, &cfg, err, sizeof(err)), CKR_OK);
    assert_int_equal(cfg.ntokens, 2);
    assert_int_equal(cfg.tokens[0].slot, 2); /* sorted */
    assert_string_equal(cfg.tokens[1].address, "[::1]:443");
    assert_int_equal(cfg.tokens[1].timeout_ms, 2500);
    assert_int_equal(cfg.tokens[1].channels, 3);
    assert_int_equal(cfg.tokens[1].spin_us, 0);  /* absent: libgrep11's default */
    assert_int_equal(cfg.tokens[0].spin_us, -1); /* 0: never spin */
    assert_false(cfg.tokens[1].tls_enabled);
    /* A URL is an IAM endpoint over HTTPS now, path and all. */
    assert_string_equal(cfg.tokens[1].users[1].iam_endpoint, "https://auth.example:8443/token");
    assert_int_equal(cfg.tokens[1].users[1].iam_kind, P11_IAM_HTTPS);
    assert_true(cfg.tokens[1].users[1].iam_enabled);
    assert_string_equal(cfg.tokens[0].address, "h2:443");
    assert_string_equal(cfg.tokens[0].label, "grep11 token 2");
    assert_int_equal(cfg.loglevel, P11_LOG_TRACE);
    assert_string_equal(cfg.logpath, "/tmp/x.log");
    assert_false(cfg.grpc_log);
    p11_config_free(&cfg);
}

/* iamauth.endpoint: a bare host:port keeps grep11.Auth over gRPC; https://
 * (IBM's YAML) is IAM over HTTPS with its path kept; http:// only where the
 * grep11 connection is plaintext too. */
static void iam_endpoint_schemes(void **state)
{
    (void)state;
    static const struct {
        const char *endpoint;
        int tls;
        const char *canonical;
        p11_iam_kind kind;
    } cases[] = {
        {"auth.example:8443", 1, "auth.example:8443", P11_IAM_GRPC},
        {"[::1]:9876", 1, "[::1]:9876", P11_IAM_GRPC},
        {"127.0.0.1:9876", 0, "127.0.0.1:9876", P11_IAM_GRPC},
        {"https://iam.cloud.ibm.com", 1, "https://iam.cloud.ibm.com:443", P11_IAM_HTTPS},
        {"https://iam.example/", 1, "https://iam.example:443", P11_IAM_HTTPS},
        {"https://iam.example:9443/a/b//", 1, "https://iam.example:9443/a/b", P11_IAM_HTTPS},
        {"HTTPS://[::1]:8443/iam", 1, "https://[::1]:8443/iam", P11_IAM_HTTPS},
        {"https://127.0.0.1:8443", 0, "https://127.0.0.1:8443", P11_IAM_HTTPS},
        {"http://127.0.0.1:8080/x", 0, "http://127.0.0.1:8080/x", P11_IAM_HTTP},
        {"http://localhost", 0, "http://localhost:80", P11_IAM_HTTP},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char doc[400], err[300] = "";
        p11_config cfg;
        snprintf(doc, sizeof(doc),
                 "tokens:\n  0:\n    grep11connection: {address: h, port: 1, tls: {enabled: %s}}\n"
                 "    users: {1: {iamauth: {endpoint: \"%s\"}}}\n",
                 cases[i].tls ? "true" : "false", cases[i].endpoint);
        if (parse(doc, &cfg, err, sizeof(err)) != CKR_OK)
            fail_msg("case %zu (%s): %s", i, cases[i].endpoint, err);
        const p11_user_cfg *u = &cfg.tokens[0].users[1];
        if (strcmp(u->iam_endpoint, cases[i].canonical) != 0 || u->iam_kind != cases[i].kind)
            fail_msg("case %zu (%s): '%s' kind %d, want '%s' kind %d", i, cases[i].endpoint,
                     u->iam_endpoint, (int)u->iam_kind, cases[i].canonical, (int)cases[i].kind);
        p11_config_free(&cfg);
    }
    /* http:// beside a TLS connection would put the API key in clear. */
    p11_config cfg;
    char err[300] = "";
    assert_int_equal(parse(TOK "    users: {1: {iamauth: {endpoint: \"http://iam.example\"}}}\n",
                           &cfg, err, sizeof(err)),
                     CKR_ARGUMENTS_BAD);
    assert_non_null(strstr(err, "tokens.0.users.1.iamauth.endpoint"));
    assert_non_null(strstr(err, "in clear"));
}

static void invalid_settings_name_the_key(void **state)
{
    (void)state;
    static const struct {
        const char *yaml;
        CK_RV rv;
        const char *key;
    } cases[] = {
        {"logging: {loglevel: info}\n", CKR_ARGUMENTS_BAD, "tokens"},
        {"tokens: [1, 2]\n", CKR_ARGUMENTS_BAD, "tokens"},
        {"- a\n- b\n", CKR_ARGUMENTS_BAD, "(document)"},
        {"tokens:\n  zero: {}\n", CKR_ARGUMENTS_BAD, "tokens.zero"},
        {"tokens:\n  0: {}\n", CKR_ARGUMENTS_BAD, "tokens.0.grep11connection"},
        {"tokens:\n  0: {grep11connection: {port: 1}}\n", CKR_ARGUMENTS_BAD,
         "tokens.0.grep11connection.address"},
        {"tokens:\n  0: {grep11connection: {address: h}}\n", CKR_ARGUMENTS_BAD,
         "tokens.0.grep11connection.port"},
        {"tokens:\n  0: {grep11connection: {address: h, port: 70000}}\n", CKR_ARGUMENTS_BAD,
         "tokens.0.grep11connection.port"},
        {"tokens:\n  0: {grep11connection: {address: h, port: -1}}\n", CKR_ARGUMENTS_BAD,
         "tokens.0.grep11connection.port"},
        {"tokens:\n  0: {grep11connection: {address: h, port: 1, timeout: 0}}\n", CKR_ARGUMENTS_BAD,
         "tokens.0.grep11connection.timeout"},
        {"tokens:\n  0: {grep11connection: {address: h, port: 1, channels: 17}}\n",
         CKR_ARGUMENTS_BAD, "tokens.0.grep11connection.channels"},
        {"tokens:\n  0: {grep11connection: {address: h, port: 1, spin: 10001}}\n",
         CKR_ARGUMENTS_BAD, "tokens.0.grep11connection.spin"},
        {"tokens:\n  0: {grep11connection: {address: h, port: 1, tls: {enabled: maybe}}}\n",
         CKR_ARGUMENTS_BAD, "tokens.0.grep11connection.tls.enabled"},
        {"tokens:\n  0: {grep11connection: {address: h, port: 1, tls: {mutual: true}}}\n",
         CKR_ARGUMENTS_BAD, "tokens.0.grep11connection.tls.certfile"},
        {"tokens:\n  0: {grep11connection: {address: [h], port: 1}}\n", CKR_ARGUMENTS_BAD,
         "tokens.0.grep11connection.address"},
        {TOK "    users: {5: {name: x}}\n", CKR_ARGUMENTS_BAD, "tokens.0.users"},
        {TOK "    users: {1: {tokenspaceID: not-a-uuid}}\n", CKR_ARGUMENTS_BAD,
         "tokens.0.users.1.tokenspaceID"},
        {TOK "    users: {2: {iamauth: {enabled: true}}}\n", CKR_ARGUMENTS_BAD,
         "tokens.0.users.2.iamauth.apikey"},
        {TOK "    users: {1: {iamauth: {endpoint: nohostport}}}\n", CKR_ARGUMENTS_BAD,
         "tokens.0.users.1.iamauth.endpoint"},
        {TOK "    users: {1: {iamauth: {endpoint: \"grpc://h:1\"}}}\n", CKR_ARGUMENTS_BAD,
         "tokens.0.users.1.iamauth.endpoint: unsupported scheme"},
        {TOK "    users: {1: {iamauth: {endpoint: \"https://u:p@h\"}}}\n", CKR_ARGUMENTS_BAD,
         "tokens.0.users.1.iamauth.endpoint: user information"},
        {TOK "    users: {1: {iamauth: {endpoint: \"https://h/t?apikey=x\"}}}\n", CKR_ARGUMENTS_BAD,
         "tokens.0.users.1.iamauth.endpoint: a query"},
        {TOK "    users: {1: {iamauth: {endpoint: \"h:1/token\"}}}\n", CKR_ARGUMENTS_BAD,
         "tokens.0.users.1.iamauth.endpoint: a path needs"},
        {TOK "    users: {1: {iamauth: {endpoint: \"https://h:0\"}}}\n", CKR_ARGUMENTS_BAD,
         "tokens.0.users.1.iamauth.endpoint: port"},
        {TOK "    users: {1: {iamauth: {endpoint: \"https://\"}}}\n", CKR_ARGUMENTS_BAD,
         "tokens.0.users.1.iamauth.endpoint: no host"},
        {TOK "    users: {1: {iamauth: {endpoint: \"::1:443\"}}}\n", CKR_ARGUMENTS_BAD,
         "tokens.0.users.1.iamauth.endpoint: an IPv6 address needs brackets"},
        {TOK "    users: {1: {iamauth: {endpoint: \"https://h/a b\"}}}\n", CKR_ARGUMENTS_BAD,
         "tokens.0.users.1.iamauth.endpoint: invalid character in path"},
        {TOK "    users: {1: {iamauth: yes}}\n", CKR_ARGUMENTS_BAD, "tokens.0.users.1.iamauth"},
        {TOK "    label: \"123456789012345678901234567890123\"\n", CKR_ARGUMENTS_BAD,
         "tokens.0.label"},
        {TOK "logging: {loglevel: loud}\n", CKR_ARGUMENTS_BAD, "logging.loglevel"},
        {TOK "logging: {grpc: 3}\n", CKR_ARGUMENTS_BAD, "logging.grpc"},
        {TOK "logging: [1]\n", CKR_ARGUMENTS_BAD, "logging"},
        {"tokens:\n  1: {grep11connection: {address: h, port: 1}}\n  01: {grep11connection: "
         "{address: h, port: 1}}\n",
         CKR_ARGUMENTS_BAD, "slot 1 given twice"},
        {"tokens: {0: *missing}\n", CKR_GENERAL_ERROR, "not valid YAML"},
        {"tokens: {0: [}\n", CKR_GENERAL_ERROR, "not valid YAML"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        p11_config cfg;
        char err[300] = "";
        CK_RV rv = parse(cases[i].yaml, &cfg, err, sizeof(err));
        if (rv != cases[i].rv || !strstr(err, cases[i].key))
            fail_msg("case %zu: rv 0x%lx, message '%s' (want 0x%lx naming '%s')", i,
                     (unsigned long)rv, err, (unsigned long)cases[i].rv, cases[i].key);
    }
}

static void search_order(void **state)
{
    (void)state;
    char dir[] = "/tmp/p11cfg-XXXXXX", path[200], old[512], err[400];
    p11_config cfg;
    assert_non_null(mkdtemp(dir));
    assert_non_null(getcwd(old, sizeof(old)));
    setenv("GREP11_CLIENT_CONFIG", "/nonexistent/grep11client.yaml", 1);
    assert_int_equal(p11_config_load(&cfg, err, sizeof(err)), CKR_GENERAL_ERROR);
    assert_non_null(strstr(err, "/nonexistent/grep11client.yaml"));
    /* The current directory, when the variable is unset. */
    snprintf(path, sizeof(path), "%s/grep11client.yaml", dir);
    FILE *f = fopen(path, "w");
    fputs(TOK "    label: from-cwd\n", f);
    fclose(f);
    unsetenv("GREP11_CLIENT_CONFIG");
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(p11_config_load(&cfg, err, sizeof(err)), CKR_OK);
    assert_string_equal(cfg.tokens[0].label, "from-cwd");
    assert_string_equal(cfg.source, "grep11client.yaml");
    p11_config_free(&cfg);
    /* The variable wins over the current directory. */
    char other[220];
    snprintf(other, sizeof(other), "%s/other.yaml", dir);
    f = fopen(other, "w");
    fputs(TOK "    label: from-env\n", f);
    fclose(f);
    setenv("GREP11_CLIENT_CONFIG", other, 1);
    assert_int_equal(p11_config_load(&cfg, err, sizeof(err)), CKR_OK);
    assert_string_equal(cfg.tokens[0].label, "from-env");
    p11_config_free(&cfg);
    /* Files named by the configuration must be readable. */
    f = fopen(other, "w");
    fputs(TOK "    grep11connection: {address: h, port: 1, tls: {cacert: /nonexistent.pem}}\n", f);
    fclose(f);
    assert_int_equal(p11_config_load(&cfg, err, sizeof(err)),
                     CKR_GENERAL_ERROR); /* duplicate key */
    f = fopen(other, "w");
    fputs("tokens:\n  0:\n    grep11connection: {address: h, port: 1, tls: {cacert: "
          "/nonexistent.pem}}\n",
          f);
    fclose(f);
    assert_int_equal(p11_config_load(&cfg, err, sizeof(err)), CKR_OK);
    assert_int_equal(p11_config_check_files(&cfg, err, sizeof(err)), CKR_ARGUMENTS_BAD);
    assert_non_null(strstr(err, "tokens.0.grep11connection.tls.cacert"));
    p11_config_free(&cfg);
    unlink(other);
    unlink(path);
    assert_int_equal(chdir(old), 0);
    rmdir(dir);
    unsetenv("GREP11_CLIENT_CONFIG");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(example_parses_as_is),
        cmocka_unit_test(yaml_anchors_aliases_merges),
        cmocka_unit_test(config_values),
        cmocka_unit_test(iam_endpoint_schemes),
        cmocka_unit_test(invalid_settings_name_the_key),
        cmocka_unit_test(search_order),
    };
    return cmocka_run_group_tests_name("pkcs11_config", tests, NULL, NULL);
}
