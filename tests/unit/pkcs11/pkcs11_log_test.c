/* Where the module logs (issue 18, item 13): a library writes only where it
 * is told to. Nothing reaches the host's stderr before C_Initialize, for a
 * missing or bad configuration, or after C_Initialize without a
 * logging.logpath, gRPC's own log included (GRPC_VERBOSITY=debug makes gRPC
 * talk); with a logpath the lines, gRPC's too, go to that file, and
 * "stderr" is the one way to ask for the host's stderr. The test points fd
 * 2 at a file around each call sequence and reads it back. */
#include <dlfcn.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../../src/pkcs11/p11_ck3.h"
#include "p11test.h"

#define OUT_MAX 65536

typedef struct {
    p11t t;
    char path[400]; /* where fd 2 goes while captured */
    int saved;      /* the real fd 2 */
    char out[OUT_MAX];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    *state = f;
    if (!f || p11t_server(&f->t, NULL) != 0)
        return -1;
    /* Read at gRPC's first grpc_init in this process: the module's. */
    setenv("GRPC_VERBOSITY", "debug", 1);
    snprintf(f->path, sizeof(f->path), "%s/stderr.txt", f->t.srv.dir);
    f->saved = -1;
    return 0;
}

static void capture(fx *f)
{
    fflush(stderr);
    assert_int_equal(f->saved, -1);
    f->saved = dup(2);
    int fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(f->saved >= 0 && fd >= 0);
    assert_int_equal(dup2(fd, 2), 2);
    close(fd);
}

/* Ends the capture; f->out holds what was written to fd 2. */
static size_t captured(fx *f)
{
    fflush(stderr);
    dup2(f->saved, 2);
    close(f->saved);
    f->saved = -1;
    FILE *in = fopen(f->path, "rb");
    assert_non_null(in);
    size_t n = fread(f->out, 1, sizeof(f->out) - 1, in);
    fclose(in);
    f->out[n] = '\0';
    return n;
}

/* After each test: a capture a failed assertion left open is ended, and
 * what it caught shown. */
static int restore(void **state)
{
    fx *f = *state;
    if (f->saved >= 0 && captured(f))
        fprintf(stderr, "captured before the failure:\n%s\n", f->out);
    p11t_unload(&f->t);
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    int rc = f->t.have_srv ? test_server_stop(&f->t.srv) : 0;
    free(f);
    return rc;
}

static void assert_quiet(fx *f)
{
    size_t n = captured(f);
    if (n)
        fail_msg("the module wrote %zu bytes to stderr:\n%s", n, f->out);
}

static void read_file(const char *path, char *buf, size_t cap)
{
    FILE *in = fopen(path, "rb");
    size_t n = in ? fread(buf, 1, cap - 1, in) : 0;
    if (in)
        fclose(in);
    buf[n] = '\0';
}

/* Slot 0 on the server, slot 5 on a port nobody listens on (its calls fail
 * and are logged); logging as given. */
static void write_config(fx *f, const char *logging)
{
    char yaml[2048];
    snprintf(yaml, sizeof(yaml),
             "anon: &anon {enabled: true, apikey: \"%s\"}\n"
             "tokens:\n"
             "  0:\n"
             "    grep11connection: {address: \"@HOST@\", port: @PORT@, tls: {enabled: true, "
             "cacert: \"@CA@\"}}\n"
             "    users: {2: {name: anonymous, iamauth: *anon}}\n"
             "  5:\n"
             "    grep11connection: {address: 127.0.0.1, port: 1, timeout: 1000, tls: {enabled: "
             "true, cacert: \"@CA@\"}}\n"
             "    users: {2: {name: anonymous, iamauth: *anon}}\n"
             "%s",
             f->t.apikey, logging);
    assert_int_equal(p11t_write_config(&f->t, yaml), 0);
}

/* What an application does: slots, tokens, one unreachable, a session, a
 * refused call, random bytes. */
static void use_module(fx *f)
{
    CK_FUNCTION_LIST *p = f->t.f;
    CK_SLOT_ID slots[4];
    CK_ULONG n = 4;
    CK_TOKEN_INFO ti;
    CK_MECHANISM_INFO mi;
    CK_SESSION_HANDLE s;
    CK_BYTE rnd[16];
    assert_int_equal(p->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
    assert_int_equal(n, 2);
    assert_int_equal(p->C_GetTokenInfo(0, &ti), CKR_OK);
    n = 0;
    assert_int_equal(p->C_GetMechanismList(5, NULL, &n), CKR_DEVICE_ERROR); /* unreachable */
    assert_int_equal(p->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
    assert_int_equal(p->C_GenerateRandom(s, rnd, sizeof(rnd)), CKR_OK);
    assert_int_not_equal(p->C_GetMechanismInfo(0, 0x7fff0000UL, &mi), CKR_OK);
    CK_MECHANISM m = {CKM_AES_KEY_GEN, NULL, 0};
    CK_OBJECT_HANDLE k;
    assert_int_not_equal(p->C_GenerateKey(s, &m, NULL, 0, &k), CKR_OK); /* no length */
    assert_int_equal(p->C_CloseSession(s), CKR_OK);
}

/* Loading the module and calling it before C_Initialize writes nothing. */
static void nothing_before_initialize(void **state)
{
    fx *f = *state;
    setenv("GREP11_CLIENT_CONFIG", "/nonexistent/grep11client.yaml", 1);
    CK_RV (*list)(P11_CK_INTERFACE *, CK_ULONG *);
    CK_RV (*get)(CK_UTF8CHAR *, CK_VERSION *, P11_CK_INTERFACE **, CK_FLAGS);
    P11_CK_INTERFACE ifaces[4], *iface = NULL;
    CK_ULONG count = 4, nslots = 0;
    CK_INFO info;
    CK_SESSION_HANDLE s;
    CK_RV rv[8];

    capture(f);
    int loaded = p11t_load(&f->t, 0);
    *(void **)&list = dlsym(f->t.dl, "C_GetInterfaceList");
    *(void **)&get = dlsym(f->t.dl, "C_GetInterface");
    rv[0] = list ? list(ifaces, &count) : CKR_GENERAL_ERROR;
    rv[1] = get ? get((CK_UTF8CHAR *)"PKCS 11", NULL, &iface, 0) : CKR_GENERAL_ERROR;
    rv[2] = f->t.f->C_GetInfo(&info);
    rv[3] = f->t.f->C_GetSlotList(CK_FALSE, NULL, &nslots);
    rv[4] = f->t.f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s);
    rv[5] = f->t.f->C_Finalize(NULL);
    rv[6] = f->t.f->C_GetTokenInfo(0, NULL);
    p11t_unload(&f->t);
    assert_quiet(f);
    assert_int_equal(loaded, 0);
    assert_int_equal(rv[0], CKR_OK);
    assert_int_equal(rv[1], CKR_OK);
    assert_int_equal(rv[2], CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(rv[3], CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(rv[4], CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(rv[5], CKR_CRYPTOKI_NOT_INITIALIZED);
    assert_int_equal(rv[6], CKR_CRYPTOKI_NOT_INITIALIZED);
}

/* A configuration that is missing, not YAML, invalid, or names a log that
 * cannot be opened: C_Initialize says so by its return value alone. */
static void nothing_for_a_bad_configuration(void **state)
{
    fx *f = *state;
    char yaml[600];
    CK_RV rv[4];
    capture(f);
    int loaded = p11t_load(&f->t, 0);
    setenv("GREP11_CLIENT_CONFIG", "/nonexistent/grep11client.yaml", 1);
    rv[0] = f->t.f->C_Initialize(NULL);
    assert_int_equal(p11t_write_config(&f->t, "tokens: {0: [}\n"), 0);
    rv[1] = f->t.f->C_Initialize(NULL);
    assert_int_equal(p11t_write_config(&f->t, "tokens: {0: {grep11connection: {address: h}}}\n"),
                     0);
    rv[2] = f->t.f->C_Initialize(NULL);
    snprintf(yaml, sizeof(yaml),
             "logging: {loglevel: debug, logpath: \"@DIR@/no/such/dir/log\"}\n");
    write_config(f, yaml);
    rv[3] = f->t.f->C_Initialize(NULL);
    p11t_unload(&f->t);
    assert_quiet(f);
    assert_int_equal(loaded, 0);
    assert_int_equal(rv[0], CKR_GENERAL_ERROR);
    assert_int_equal(rv[1], CKR_GENERAL_ERROR);
    assert_int_equal(rv[2], CKR_ARGUMENTS_BAD);
    assert_int_equal(rv[3], CKR_ARGUMENTS_BAD);
}

/* An invalid setting in a file that names a log: the line naming the key
 * goes there. */
static void bad_configuration_logged_where_it_says(void **state)
{
    fx *f = *state;
    char log[400], text[4096];
    snprintf(log, sizeof(log), "%s/bad.log", f->t.srv.dir);
    unlink(log);
    assert_int_equal(p11t_write_config(&f->t,
                                       "logging: {loglevel: error, logpath: \"@DIR@/bad.log\"}\n"
                                       "tokens: {0: {grep11connection: {address: h}}}\n"),
                     0);
    capture(f);
    int loaded = p11t_load(&f->t, 0);
    CK_RV rv = f->t.f->C_Initialize(NULL);
    p11t_unload(&f->t);
    assert_quiet(f);
    assert_int_equal(loaded, 0);
    assert_int_equal(rv, CKR_ARGUMENTS_BAD);
    read_file(log, text, sizeof(text));
    assert_non_null(strstr(text, "pkcs11-grep11 ERROR: C_Initialize: "));
    assert_non_null(strstr(text, "tokens.0.grep11connection.port: missing"));
}

/* Initialized, used, finalized at trace level without a logpath: not a
 * byte, neither the module's nor gRPC's. */
static void initialized_without_logpath_is_silent(void **state)
{
    fx *f = *state;
    write_config(f, "logging: {loglevel: trace, grpc: true}\n");
    capture(f);
    int loaded = p11t_load(&f->t, 1);
    if (loaded == 0) {
        use_module(f);
        assert_int_equal(f->t.f->C_Finalize(NULL), CKR_OK);
    }
    p11t_unload(&f->t);
    assert_quiet(f);
    assert_int_equal(loaded, 0);
}

/* With a logpath the lines are there, gRPC's among them; stderr stays
 * empty; no API key is in them. */
static void lines_go_to_logpath(void **state)
{
    fx *f = *state;
    char log[400];
    static char text[1 << 20];
    snprintf(log, sizeof(log), "%s/module.log", f->t.srv.dir);
    unlink(log);
    write_config(f, "logging: {loglevel: debug, logpath: \"@DIR@/module.log\"}\n");
    capture(f);
    int loaded = p11t_load(&f->t, 1);
    if (loaded == 0) {
        use_module(f);
        assert_int_equal(f->t.f->C_Finalize(NULL), CKR_OK);
    }
    p11t_unload(&f->t);
    assert_quiet(f);
    assert_int_equal(loaded, 0);
    read_file(log, text, sizeof(text));
    assert_non_null(strstr(text, "pkcs11-grep11 INFO: initialized from "));
    assert_non_null(strstr(text, ": grpc: ")); /* gRPC's own, routed */
    assert_non_null(strstr(text, "pkcs11-grep11 ERROR: /grep11.Crypto/GetMechanismList: "));
    assert_null(strstr(text, f->t.apikey));
}

/* "stderr" is how a configuration asks for the host's stderr. */
static void stderr_when_asked(void **state)
{
    fx *f = *state;
    write_config(f, "logging: {loglevel: info, logpath: stderr}\n");
    capture(f);
    int loaded = p11t_load(&f->t, 1);
    if (loaded == 0)
        assert_int_equal(f->t.f->C_Finalize(NULL), CKR_OK);
    p11t_unload(&f->t);
    captured(f);
    assert_int_equal(loaded, 0);
    assert_non_null(strstr(f->out, "pkcs11-grep11 INFO: initialized from "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(nothing_before_initialize, restore),
        cmocka_unit_test_teardown(nothing_for_a_bad_configuration, restore),
        cmocka_unit_test_teardown(bad_configuration_logged_where_it_says, restore),
        cmocka_unit_test_teardown(initialized_without_logpath_is_silent, restore),
        cmocka_unit_test_teardown(lines_go_to_logpath, restore),
        cmocka_unit_test_teardown(stderr_when_asked, restore),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
