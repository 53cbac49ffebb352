/* grep11ctl: the command-line client of grep11d. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ctl.h"
#include "engine.h"
#include "grep11_client.h"
#include "version.h"

typedef struct {
    char address[512];
    char ca[4200], cert[4200], key[4200];
    char api_key[256];
    int insecure;
    int timeout_ms;
} ctl_options;

static void usage(FILE *to)
{
    fprintf(to,
            "Usage: grep11ctl [options] COMMAND [ARGS]\n"
            "Commands:\n"
            "  random N        print N random bytes from the server's generator, as hex\n"
            "  mechanisms      list the server's mechanisms with key sizes and flags\n"
            "  health          ask the server whether it is serving\n"
            "  apikey create --principal NAME --role ROLE [--role ROLE...] [--grant UUID...]\n"
            "                [--cert-identity ID]     make an API key (printed once)\n"
            "  apikey list     list API keys (never their secrets)\n"
            "  apikey revoke KEYID\n"
            "Master-key custody (docs/internals/custody.md):\n"
            "  admin keygen --out FILE [--alg ed25519|p256] [--name NAME]\n"
            "  keypart generate --out FILE | split --threshold M --shares N --out PREFIX\n"
            "                [--in PART] | show FILE\n"
            "  custody imprint --admin-pub FILE.pub   (offline, against --data-dir)\n"
            "  custody status | prepare COMMAND [--ARG V...] --out cmd.json\n"
            "  custody sign cmd.json --key ADMIN.key | submit cmd.json [--part F|--share F]\n"
            "  unlock [--reset] --part FILE... | --share FILE...\n"
            "  audit verify\n"
            "Options:\n"
            "  -a, --address HOST:PORT  server (default $GREP11_ADDRESS or 127.0.0.1:9876)\n"
            "  -d, --data-dir DIR       trust DIR/tls/ca.pem (a --dev server's CA;\n"
            "                           default $GREP11_DATA_DIR or grep11-data)\n"
            "      --ca FILE            CA certificate(s) to trust instead\n"
            "      --cert FILE --key FILE  client certificate for mutual TLS\n"
            "      --insecure           plaintext (server started with --insecure)\n"
            "      --timeout MS         per-call deadline (default 30000)\n"
            "      --api-key KEY        authenticate with KEY (default $GREP11_API_KEY, else\n"
            "                           DIR/dev-apikey when it exists)\n"
            "      --offline            apikey commands act on --data-dir directly (no server;\n"
            "                           needs its master key): to bootstrap the first admin\n"
            "      --config FILE        grep11d configuration, with --offline\n"
            "  -h, --help               this text\n"
            "  -V, --version            print the version\n");
}

static void on_error(void *arg, const char *method, CK_RV rv, const char *detail)
{
    (void)arg;
    const char *name = g11c_rv_name(rv);
    fprintf(stderr, "grep11ctl: %s failed: %s (0x%lx)%s%s\n", method, name ? name : "vendor code",
            (unsigned long)rv, detail && detail[0] ? ": " : "", detail ? detail : "");
}

static int cmd_random(g11c_conn *c, int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "grep11ctl: usage: random N\n");
        return 2;
    }
    char *end = NULL;
    unsigned long n = strtoul(argv[0], &end, 10);
    if (!end || *end || argv[0][0] == '-') {
        fprintf(stderr, "grep11ctl: N must be a number\n");
        return 2;
    }
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return 1;
    CK_RV rv = g11c_generate_random(c, buf, n);
    if (rv == CKR_OK) {
        for (unsigned long i = 0; i < n; i++)
            printf("%02x", buf[i]);
        printf("\n");
    }
    free(buf);
    return rv == CKR_OK ? 0 : 1;
}

static void print_flags(CK_FLAGS f)
{
    static const struct {
        CK_FLAGS bit;
        const char *name;
    } names[] = {
        {CKF_HW, "HW"},
        {CKF_ENCRYPT, "ENCRYPT"},
        {CKF_DECRYPT, "DECRYPT"},
        {CKF_DIGEST, "DIGEST"},
        {CKF_SIGN, "SIGN"},
        {CKF_VERIFY, "VERIFY"},
        {CKF_GENERATE, "GENERATE"},
        {CKF_GENERATE_KEY_PAIR, "GENERATE_KEY_PAIR"},
        {CKF_WRAP, "WRAP"},
        {CKF_UNWRAP, "UNWRAP"},
        {CKF_DERIVE, "DERIVE"},
        {CKF_EC_F_P, "EC_F_P"},
        {CKF_EC_NAMEDCURVE, "EC_NAMEDCURVE"},
        {CKF_EC_UNCOMPRESS, "EC_UNCOMPRESS"},
    };
    const char *sep = "";
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (f & names[i].bit) {
            printf("%s%s", sep, names[i].name);
            sep = ",";
        }
}

static int cmd_mechanisms(g11c_conn *c)
{
    CK_MECHANISM_TYPE *mechs = NULL;
    size_t n = 0;
    CK_RV rv = g11c_get_mechanism_list(c, &mechs, &n);
    if (rv != CKR_OK)
        return 1;
    printf("%-12s %-28s %-8s %-8s %s\n", "MECHANISM", "NAME", "MIN", "MAX", "FLAGS");
    for (size_t i = 0; i < n && rv == CKR_OK; i++) {
        CK_MECHANISM_INFO info;
        rv = g11c_get_mechanism_info(c, mechs[i], &info);
        if (rv != CKR_OK)
            break;
        const char *name = engine_mechanism_name(mechs[i]);
        printf("0x%-10lx %-28s %-8lu %-8lu ", (unsigned long)mechs[i], name ? name : "-",
               (unsigned long)info.ulMinKeySize, (unsigned long)info.ulMaxKeySize);
        print_flags(info.flags);
        printf("\n");
    }
    printf("%zu mechanisms\n", n);
    free(mechs);
    return rv == CKR_OK ? 0 : 1;
}

static int cmd_health(g11c_conn *c)
{
    int serving = 0;
    if (g11c_health(c, &serving) != CKR_OK)
        return 1;
    printf("%s\n", serving ? "SERVING" : "NOT_SERVING");
    return serving ? 0 : 1;
}

/* The token lives for the rest of the process. */
static char session_token[2048];

static CK_RV give_token(void *arg, char *buf, size_t cap)
{
    (void)arg;
    if (strlen(session_token) >= cap)
        return CKR_GENERAL_ERROR;
    strcpy(buf, session_token);
    return CKR_OK;
}

/* Exchanges the API key (option, environment or DIR/dev-apikey) for a token
 * and attaches it to every call. No key: calls go without one. */
static int authenticate(g11c_conn *c, ctl_options *o, const char *data_dir)
{
    if (!o->api_key[0]) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/dev-apikey", data_dir);
        (void)g11c_read_api_key_file(path, o->api_key, sizeof(o->api_key)); /* optional */
    }
    if (!o->api_key[0])
        return 0;
    CK_RV rv = g11c_auth_token(c, o->api_key, session_token, sizeof(session_token), NULL);
    OPENSSL_cleanse(o->api_key, sizeof(o->api_key));
    if (rv != CKR_OK)
        return -1;
    g11c_set_token_hook(c, give_token, NULL);
    return 0;
}

int main(int argc, char **argv)
{
    enum {
        OPT_CA = 256,
        OPT_CERT,
        OPT_KEY,
        OPT_INSECURE,
        OPT_TIMEOUT,
        OPT_API_KEY,
        OPT_OFFLINE,
        OPT_CONFIG
    };
    static const struct option opts[] = {
        {"address", required_argument, NULL, 'a'},
        {"data-dir", required_argument, NULL, 'd'},
        {"ca", required_argument, NULL, OPT_CA},
        {"cert", required_argument, NULL, OPT_CERT},
        {"key", required_argument, NULL, OPT_KEY},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"api-key", required_argument, NULL, OPT_API_KEY},
        {"offline", no_argument, NULL, OPT_OFFLINE},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    ctl_options o;
    memset(&o, 0, sizeof(o));
    const char *env_addr = getenv("GREP11_ADDRESS");
    const char *env_dir = getenv("GREP11_DATA_DIR");
    snprintf(o.address, sizeof(o.address), "%s", env_addr ? env_addr : "127.0.0.1:9876");
    const char *data_dir = env_dir ? env_dir : "grep11-data";
    const char *env_key = getenv("GREP11_API_KEY");
    if (env_key)
        snprintf(o.api_key, sizeof(o.api_key), "%s", env_key);
    ctl_context cx = {0};
    int c;
    while ((c = getopt_long(argc, argv, "+a:d:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            snprintf(o.address, sizeof(o.address), "%s", optarg);
            break;
        case 'd':
            data_dir = optarg;
            break;
        case OPT_CA:
            snprintf(o.ca, sizeof(o.ca), "%s", optarg);
            break;
        case OPT_CERT:
            snprintf(o.cert, sizeof(o.cert), "%s", optarg);
            break;
        case OPT_KEY:
            snprintf(o.key, sizeof(o.key), "%s", optarg);
            break;
        case OPT_INSECURE:
            o.insecure = 1;
            break;
        case OPT_TIMEOUT:
            o.timeout_ms = atoi(optarg);
            break;
        case OPT_API_KEY:
            snprintf(o.api_key, sizeof(o.api_key), "%s", optarg);
            break;
        case OPT_OFFLINE:
            cx.offline = 1;
            break;
        case OPT_CONFIG:
            cx.config = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("grep11ctl %s\n", GREP11_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    cx.data_dir = data_dir;
    const char *cmd = argv[optind];
    /* Custody commands that never talk to a server. */
    if (strcmp(cmd, "admin") == 0)
        return ctl_admin(argc - optind - 1, argv + optind + 1);
    if (strcmp(cmd, "keypart") == 0)
        return ctl_keypart(argc - optind - 1, argv + optind + 1);
    if (strcmp(cmd, "custody") == 0) {
        int r = ctl_custody_offline(&cx, argc - optind - 1, argv + optind + 1);
        if (r >= 0)
            return r;
    }
    if (cx.offline) {
        if (strcmp(cmd, "apikey") != 0) {
            fprintf(stderr, "grep11ctl: --offline works with apikey commands only\n");
            return 2;
        }
        return ctl_apikey(&cx, NULL, argc - optind - 1, argv + optind + 1);
    }
    if (!o.ca[0] && !o.insecure &&
        snprintf(o.ca, sizeof(o.ca), "%s/tls/ca.pem", data_dir) >= (int)sizeof(o.ca)) {
        fprintf(stderr, "grep11ctl: data directory path too long\n");
        return 2;
    }
    g11c_options copt = {
        .address = o.address,
        .insecure = o.insecure,
        .ca_file = o.insecure ? NULL : o.ca,
        .cert_file = o.cert[0] ? o.cert : NULL,
        .key_file = o.key[0] ? o.key : NULL,
        .timeout_ms = o.timeout_ms,
    };
    g11c_conn *conn = NULL;
    CK_RV rv = g11c_connect(&copt, &conn);
    if (rv != CKR_OK) {
        fprintf(stderr,
                "grep11ctl: cannot set up a connection to %s (%s): check --ca/--cert/--key\n",
                o.address, g11c_rv_name(rv) ? g11c_rv_name(rv) : "error");
        return 1;
    }
    g11c_set_error_hook(conn, on_error, NULL);
    int rc;
    /* Custody commands carry their own authorisation (signatures, parts). */
    int needs_token =
        strcmp(cmd, "health") != 0 && strcmp(cmd, "custody") != 0 && strcmp(cmd, "unlock") != 0;
    if (needs_token && authenticate(conn, &o, data_dir) != 0) {
        g11c_close(conn);
        return 1;
    }
    if (strcmp(cmd, "random") == 0)
        rc = cmd_random(conn, argc - optind - 1, argv + optind + 1);
    else if (strcmp(cmd, "mechanisms") == 0)
        rc = cmd_mechanisms(conn);
    else if (strcmp(cmd, "health") == 0)
        rc = cmd_health(conn);
    else if (strcmp(cmd, "apikey") == 0)
        rc = ctl_apikey(&cx, conn, argc - optind - 1, argv + optind + 1);
    else if (strcmp(cmd, "custody") == 0)
        rc = ctl_custody(conn, argc - optind - 1, argv + optind + 1);
    else if (strcmp(cmd, "unlock") == 0)
        rc = ctl_unlock(conn, argc - optind - 1, argv + optind + 1);
    else if (strcmp(cmd, "audit") == 0)
        rc = ctl_audit(conn, argc - optind - 1, argv + optind + 1);
    else {
        fprintf(stderr, "grep11ctl: unknown command '%s'\n", cmd);
        usage(stderr);
        rc = 2;
    }
    g11c_close(conn);
    return rc;
}
