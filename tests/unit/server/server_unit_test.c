/* Unit tests of grep11d's pieces that need no network: configuration,
 * the CK_RV -> gRPC status mapping and its Grep11Error encoding, and the
 * wire conversions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "convert.h"
#include "directory.h"
#include "errors.pb-c.h"
#include "journal.h"
#include "status.h"
#include "status.pb-c.h"

static char *write_temp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/grep11-cfg-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void config_yaml_sets_every_key(void **state)
{
    (void)state;
    server_config cfg;
    char err[256];
    config_defaults(&cfg);
    char *path = write_temp("listen: 0.0.0.0:1234\n"
                            "data_dir: /srv/g11\n"
                            "master_key_file: /srv/g11/wk\n"
                            "log_level: debug\n"
                            "workers: 3\n"
                            "key_cache: 64\n"
                            "spin: 250\n"
                            "max_message_size: 8MiB\n"
                            "max_connections: 500\n"
                            "store_max_objects: 20\n"
                            "store_max_bytes: 64KiB\n"
                            "tls:\n"
                            "  cert: /c.pem\n"
                            "  key: /k.pem\n"
                            "  client_ca: /ca.pem\n");
    assert_int_equal(config_load_yaml(&cfg, path, err, sizeof(err)), 0);
    unlink(path);
    assert_string_equal(cfg.listen, "0.0.0.0:1234");
    assert_string_equal(cfg.data_dir, "/srv/g11");
    assert_string_equal(cfg.master_key_file, "/srv/g11/wk");
    assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
    assert_int_equal(cfg.workers, 3);
    assert_int_equal(cfg.key_cache, 64);
    assert_int_equal(cfg.spin_us, 250);
    engine_policy pol;
    config_engine_policy(&cfg, &pol);
    assert_int_equal(pol.key_cache_entries, 64);
    assert_false(pol.flags & ENGINE_POLICY_NO_KEY_CACHE);
    assert_int_equal(cfg.max_message, 8u * 1024 * 1024);
    assert_int_equal(cfg.max_connections, 500);
    assert_int_equal(cfg.store_max_objects, 20);
    assert_int_equal(cfg.store_max_bytes, 64 * 1024);
    assert_string_equal(cfg.tls_cert, "/c.pem");
    assert_string_equal(cfg.tls_key, "/k.pem");
    assert_string_equal(cfg.tls_client_ca, "/ca.pem");
    assert_int_equal(config_validate(&cfg, err, sizeof(err)), 0);
    config_free(&cfg);
}

static void config_rejects_bad_input(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "nonsense_key: 1\n",
        "workers: many\n",
        "log_level: loud\n",
        "max_message_size: 0\n",
        "tls:\n  pin: 1234\n",
        "listen: [a, b]\n",
        "tls:\n  a:\n    b: c\n",
        "listen: \"unterminated\n",
        "key_cache: -1\n",
        "key_cache: lots\n",
        "spin: -1\n",
        "spin: 10001\n",
        "spin: fast\n",
        "store_max_objects: 0\n",
        "store_max_objects: -5\n",
        "store_max_objects: 1000000001\n",
        "store_max_objects: lots\n",
        "store_max_bytes: 0\n",
        "store_max_bytes: -1\n",
        "store_max_bytes: 4TiB4\n",
        "store_max_bytes: 1048577GiB\n",
        "max_connections: -1\n",
        "max_connections: 1048577\n",
        "max_connections: many\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        server_config cfg;
        char err[256] = "";
        config_defaults(&cfg);
        char *path = write_temp(bad[i]);
        assert_int_equal(config_load_yaml(&cfg, path, err, sizeof(err)), -1);
        assert_true(err[0] != '\0');
        unlink(path);
        config_free(&cfg);
    }
}

/* The store limits reach store_open, with the server's own keystores
 * exempt; the defaults are the store's. */
static void config_store_options_carry_the_limits(void **state)
{
    (void)state;
    server_config cfg;
    store_options so;
    char err[256];
    config_defaults(&cfg);
    config_store_options(&cfg, &so);
    assert_int_equal(so.max_objects, STORE_DEFAULT_MAX_OBJECTS);
    assert_int_equal(so.max_bytes, 4ull << 30);
    char *path = write_temp("store_max_objects: 1000000000\nstore_max_bytes: 4GiB\n");
    assert_int_equal(config_load_yaml(&cfg, path, err, sizeof(err)), 0);
    unlink(path);
    config_store_options(&cfg, &so);
    assert_int_equal(so.max_objects, 1000000000);
    assert_int_equal(so.max_bytes, 4ull << 30);
    assert_int_equal(so.n_unlimited, 3);
    assert_memory_equal(so.unlimited[0].b, directory_keystore.b, 16);
    assert_memory_equal(so.unlimited[1].b, custody_keystore.b, 16);
    assert_memory_equal(so.unlimited[2].b, audit_keystore.b, 16);
    config_free(&cfg);
}

static void config_validate_requires_tls_or_insecure(void **state)
{
    (void)state;
    server_config cfg;
    char err[256];
    config_defaults(&cfg);
    assert_int_equal(config_validate(&cfg, err, sizeof(err)), -1); /* no TLS, no WK */
    cfg.dev = 1;
    assert_int_equal(config_validate(&cfg, err, sizeof(err)), 0);
    cfg.insecure = 1;
    cfg.tls_client_ca = strdup("/ca.pem");
    assert_int_equal(config_validate(&cfg, err, sizeof(err)), -1); /* mTLS needs TLS */
    config_free(&cfg);
}

static void config_command_line_overrides_file(void **state)
{
    (void)state;
    server_config cfg;
    config_defaults(&cfg);
    char *path = write_temp("listen: 10.0.0.1:1\nworkers: 2\nmax_connections: 500\n");
    char *argv[] = {
        "grep11d", "--listen", "127.0.0.1:5", "--config",          path, "--dev", "--key-cache",
        "0",       "--spin",   "0",           "--max-connections", "7",  NULL};
    assert_int_equal(cfg.key_cache, 1024); /* the default */
    assert_int_equal(cfg.spin_us, CONFIG_DEFAULT_SPIN_US);
    assert_int_equal(cfg.max_connections, 0); /* from the descriptor limit */
    assert_int_equal(config_parse_args(&cfg, 12, argv), 0);
    assert_int_equal(cfg.spin_us, 0);
    assert_int_equal(cfg.max_connections, 7);
    unlink(path);
    assert_string_equal(cfg.listen, "127.0.0.1:5");
    assert_int_equal(cfg.workers, 2);
    assert_true(cfg.dev);
    engine_policy pol;
    config_engine_policy(&cfg, &pol);
    assert_true(pol.flags & ENGINE_POLICY_NO_KEY_CACHE);
    config_free(&cfg);
}

static void status_details_decode_as_grep11_error(void **state)
{
    (void)state;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(status_encode_details(GRPC_STATUS_INVALID_ARGUMENT, CKR_TEMPLATE_INCONSISTENT,
                                           "bad template", &buf, &len),
                     0);
    Google__Rpc__Status *st = google__rpc__status__unpack(NULL, len, buf);
    assert_non_null(st);
    assert_int_equal(st->code, GRPC_STATUS_INVALID_ARGUMENT);
    assert_string_equal(st->message, "bad template");
    assert_int_equal(st->n_details, 1);
    assert_string_equal(st->details[0]->type_url, "type.googleapis.com/grep11.Grep11Error");
    Grep11__Grep11Error *ge =
        grep11__grep11_error__unpack(NULL, st->details[0]->value.len, st->details[0]->value.data);
    assert_non_null(ge);
    assert_int_equal(ge->code, CKR_TEMPLATE_INCONSISTENT);
    assert_string_equal(ge->detail, "bad template");
    assert_false(ge->retry);
    grep11__grep11_error__free_unpacked(ge, NULL);
    google__rpc__status__free_unpacked(st, NULL);
    free(buf);
}

static void status_codes_follow_the_error_class(void **state)
{
    (void)state;
    assert_int_equal(status_code_for_rv(CKR_OK), GRPC_STATUS_OK);
    assert_int_equal(status_code_for_rv(CKR_FUNCTION_NOT_SUPPORTED), GRPC_STATUS_UNIMPLEMENTED);
    assert_int_equal(status_code_for_rv(CKR_ARGUMENTS_BAD), GRPC_STATUS_INVALID_ARGUMENT);
    assert_int_equal(status_code_for_rv(CKR_KEY_FUNCTION_NOT_PERMITTED),
                     GRPC_STATUS_PERMISSION_DENIED);
    assert_int_equal(status_code_for_rv(CKR_DEVICE_ERROR), GRPC_STATUS_UNAVAILABLE);
    assert_int_equal(status_code_for_rv(CKR_SIGNATURE_INVALID), GRPC_STATUS_UNKNOWN);
    assert_true(status_rv_retryable(CKR_DEVICE_ERROR));
    assert_false(status_rv_retryable(CKR_SIGNATURE_INVALID));
    /* a full keystore stays full until something is destroyed */
    assert_int_equal(status_code_for_rv(CKR_DEVICE_MEMORY), GRPC_STATUS_RESOURCE_EXHAUSTED);
    assert_false(status_rv_retryable(CKR_DEVICE_MEMORY));
}

static void attribute_values_convert_by_kind(void **state)
{
    (void)state;
    rpc_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    uint8_t scratch[8];
    CK_ATTRIBUTE a;
    Grep11__AttributeValue v = GREP11__ATTRIBUTE_VALUE__INIT;

    v.one_attr_case = GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_TF;
    v.attributetf = 1;
    assert_int_equal(conv_attr_in(&ctx, CKA_SENSITIVE, &v, &a, scratch), CKR_OK);
    assert_int_equal(a.ulValueLen, 1);
    assert_int_equal(*(CK_BBOOL *)a.pValue, CK_TRUE);

    v.one_attr_case = GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_I;
    v.attributei = 32;
    assert_int_equal(conv_attr_in(&ctx, CKA_VALUE_LEN, &v, &a, scratch), CKR_OK);
    assert_int_equal(a.ulValueLen, sizeof(CK_ULONG));
    CK_ULONG u;
    memcpy(&u, a.pValue, sizeof(u));
    assert_int_equal(u, 32);

    v.attributei = -1; /* CK_UNAVAILABLE_INFORMATION */
    assert_int_equal(conv_attr_in(&ctx, CKA_KEY_GEN_MECHANISM, &v, &a, scratch), CKR_OK);
    memcpy(&u, a.pValue, sizeof(u));
    assert_true(u == CK_UNAVAILABLE_INFORMATION);
    v.attributei = -2;
    assert_int_equal(conv_attr_in(&ctx, CKA_VALUE_LEN, &v, &a, scratch),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    v.one_attr_case = GREP11__ATTRIBUTE_VALUE__ONE_ATTR__NOT_SET;
    assert_int_equal(conv_attr_in(&ctx, CKA_LABEL, &v, &a, scratch), CKR_ATTRIBUTE_VALUE_INVALID);
    assert_int_equal(conv_attr_in(&ctx, CKA_LABEL, NULL, &a, scratch), CKR_ATTRIBUTE_VALUE_INVALID);

    assert_int_equal(grep11_attr_kind_of(CKA_TOKEN), GREP11_ATTR_BOOL);
    assert_int_equal(grep11_attr_kind_of(CKA_CLASS), GREP11_ATTR_ULONG);
    assert_int_equal(grep11_attr_kind_of(CKA_VALUE), GREP11_ATTR_BYTES);
}

static void keyblob_rules(void **state)
{
    (void)state;
    rpc_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    engine_bytes out;
    Grep11__KeyBlob kb = GREP11__KEY_BLOB__INIT;
    assert_int_equal(conv_keyblob(&ctx, NULL, "Key", &out), CKR_ARGUMENTS_BAD);
    assert_int_equal(conv_keyblob(&ctx, &kb, "Key", &out), CKR_ARGUMENTS_BAD);
    uint8_t id[16] = {1};
    kb.keyblobid.data = id;
    kb.keyblobid.len = sizeof(id);
    assert_int_equal(conv_keyblob(&ctx, &kb, "Key", &out), CKR_FUNCTION_NOT_SUPPORTED);
    uint8_t blob[3] = {7, 8, 9};
    ProtobufCBinaryData slot = {sizeof(blob), blob};
    kb.n_keyblobs = 1;
    kb.keyblobs = &slot;
    assert_int_equal(conv_keyblob(&ctx, &kb, "Key", &out), CKR_OK);
    assert_ptr_equal(out.ptr, blob);
    assert_int_equal(out.len, 3);

    engine_mech m;
    assert_int_equal(conv_mech(&ctx, NULL, &m), CKR_MECHANISM_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_yaml_sets_every_key),
        cmocka_unit_test(config_rejects_bad_input),
        cmocka_unit_test(config_store_options_carry_the_limits),
        cmocka_unit_test(config_validate_requires_tls_or_insecure),
        cmocka_unit_test(config_command_line_overrides_file),
        cmocka_unit_test(status_details_decode_as_grep11_error),
        cmocka_unit_test(status_codes_follow_the_error_class),
        cmocka_unit_test(attribute_values_convert_by_kind),
        cmocka_unit_test(keyblob_rules),
    };
    return cmocka_run_group_tests_name("server units", tests, NULL, NULL);
}
