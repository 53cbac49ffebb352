/* grep11-bench: throughput and latency of grep11 operations, through
 * libgrep11 against a running grep11d ("client") or in-process against the
 * engine ("engine"), side by side in one run so that ratios survive a noisy
 * machine.
 *
 *   grep11-bench [--target client|engine|both] [--threads N] [--seconds S]
 *                [--address A --data-dir DIR] OP...
 *
 * Each operation is checked once before timing (a ciphertext decrypts, a
 * MAC verifies). */
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devsetup.h"
#include "engine.h"
#include "grep11_client.h"

typedef enum { TARGET_CLIENT, TARGET_ENGINE } target_kind;

typedef struct {
    target_kind kind;
    g11c_conn *conn;
    engine *eng;
} target;

/* Keys made once per target, before timing. */
typedef struct {
    uint8_t *aes;
    size_t aes_len;
    uint8_t *hmac;
    size_t hmac_len;
} keys;

typedef struct op op;
typedef CK_RV (*op_fn)(const target *t, const keys *k, const uint8_t *msg, size_t len);

struct op {
    const char *name;
    size_t msg_len;
    op_fn run;
    op_fn check;
};

static const CK_BBOOL yes = CK_TRUE;

/* ---- the operations, on either target ---------------------------------- */

static CK_RV gen_key(const target *t, CK_MECHANISM_TYPE mech, CK_ULONG len, CK_ATTRIBUTE_TYPE use1,
                     CK_ATTRIBUTE_TYPE use2, uint8_t **out, size_t *out_len)
{
    CK_ATTRIBUTE tmpl[] = {
        {CKA_VALUE_LEN, &len, sizeof(len)}, {use1, (void *)&yes, 1}, {use2, (void *)&yes, 1}};
    if (t->kind == TARGET_ENGINE) {
        engine_mech m = {.type = mech};
        engine_buf key = {0}, sum = {0};
        CK_RV rv = engine_generate_key(t->eng, &m, tmpl, 3, &key, &sum);
        engine_buf_free(&sum);
        *out = key.ptr;
        *out_len = key.len;
        return rv;
    }
    g11c_mech m = {.type = mech};
    g11c_buf key = {0}, sum = {0};
    CK_RV rv = g11c_generate_key(t->conn, &m, tmpl, 3, &key, &sum);
    g11c_buf_free(&sum);
    *out = key.ptr;
    *out_len = key.len;
    return rv;
}

static uint8_t gcm_param[4 + 12 + 4 + 4] = {0, 0,  0,  12, 1, 2, 3, 4, 5, 6, 7, 8,
                                            9, 10, 11, 12, 0, 0, 0, 0, 0, 0, 0, 128};

static CK_RV one_shot(const target *t, CK_MECHANISM_TYPE mech, const uint8_t *param, size_t plen,
                      const uint8_t *key, size_t klen, int sign, const uint8_t *msg, size_t len,
                      uint8_t **out, size_t *out_len)
{
    CK_RV rv;
    if (t->kind == TARGET_ENGINE) {
        engine_mech m = {.type = mech,
                         .kind = plen ? ENGINE_PARAM_BYTES : ENGINE_PARAM_NONE,
                         .bytes = {param, plen}};
        engine_buf o = {0};
        rv = sign ? engine_sign_single(t->eng, (engine_bytes){key, klen}, &m,
                                       (engine_bytes){msg, len}, &o)
                  : engine_encrypt_single(t->eng, (engine_bytes){key, klen}, &m,
                                          (engine_bytes){msg, len}, &o);
        *out = o.ptr;
        *out_len = o.len;
        return rv;
    }
    g11c_mech m = {
        .type = mech, .kind = plen ? G11C_PARAM_BYTES : G11C_PARAM_NONE, .bytes = {param, plen}};
    g11c_buf o = {0};
    rv = sign ? g11c_sign_single(t->conn, (g11c_bytes){key, klen}, &m, (g11c_bytes){msg, len}, &o)
              : g11c_encrypt_single(t->conn, (g11c_bytes){key, klen}, &m, (g11c_bytes){msg, len},
                                    &o);
    *out = o.ptr;
    *out_len = o.len;
    return rv;
}

static void free_out(uint8_t *p, size_t len)
{
    if (p) {
        OPENSSL_cleanse(p, len);
        free(p);
    }
}

static CK_RV op_gcm(const target *t, const keys *k, const uint8_t *msg, size_t len)
{
    uint8_t *o = NULL;
    size_t ol = 0;
    CK_RV rv = one_shot(t, CKM_AES_GCM, gcm_param, sizeof(gcm_param), k->aes, k->aes_len, 0, msg,
                        len, &o, &ol);
    free_out(o, ol);
    return rv;
}

static CK_RV check_gcm(const target *t, const keys *k, const uint8_t *msg, size_t len)
{
    uint8_t *o = NULL, *back = NULL;
    size_t ol = 0, bl = 0;
    CK_RV rv = one_shot(t, CKM_AES_GCM, gcm_param, sizeof(gcm_param), k->aes, k->aes_len, 0, msg,
                        len, &o, &ol);
    if (rv == CKR_OK) {
        if (t->kind == TARGET_ENGINE) {
            engine_mech m = {.type = CKM_AES_GCM,
                             .kind = ENGINE_PARAM_BYTES,
                             .bytes = {gcm_param, sizeof(gcm_param)}};
            engine_buf b = {0};
            rv = engine_decrypt_single(t->eng, (engine_bytes){k->aes, k->aes_len}, &m,
                                       (engine_bytes){o, ol}, &b);
            back = b.ptr;
            bl = b.len;
        } else {
            g11c_mech m = {.type = CKM_AES_GCM,
                           .kind = G11C_PARAM_BYTES,
                           .bytes = {gcm_param, sizeof(gcm_param)}};
            g11c_buf b = {0};
            rv = g11c_decrypt_single(t->conn, (g11c_bytes){k->aes, k->aes_len}, &m,
                                     (g11c_bytes){o, ol}, &b);
            back = b.ptr;
            bl = b.len;
        }
        if (rv == CKR_OK && (bl != len || memcmp(back, msg, len) != 0))
            rv = CKR_GENERAL_ERROR;
    }
    free_out(o, ol);
    free_out(back, bl);
    return rv;
}

static CK_RV op_hmac(const target *t, const keys *k, const uint8_t *msg, size_t len)
{
    uint8_t *o = NULL;
    size_t ol = 0;
    CK_RV rv = one_shot(t, CKM_SHA256_HMAC, NULL, 0, k->hmac, k->hmac_len, 1, msg, len, &o, &ol);
    if (rv == CKR_OK && ol != 32)
        rv = CKR_GENERAL_ERROR;
    free_out(o, ol);
    return rv;
}

static CK_RV op_keygen(const target *t, const keys *k, const uint8_t *msg, size_t len)
{
    (void)k, (void)msg, (void)len;
    uint8_t *key = NULL;
    size_t kl = 0;
    CK_RV rv = gen_key(t, CKM_AES_KEY_GEN, 32, CKA_ENCRYPT, CKA_DECRYPT, &key, &kl);
    free_out(key, kl);
    return rv;
}

static CK_RV op_random(const target *t, const keys *k, const uint8_t *msg, size_t len)
{
    (void)k, (void)msg, (void)len;
    uint8_t r[32];
    return t->kind == TARGET_ENGINE ? engine_generate_random(t->eng, r, sizeof(r))
                                    : g11c_generate_random(t->conn, r, sizeof(r));
}

static CK_RV op_sha256(const target *t, const keys *k, const uint8_t *msg, size_t len)
{
    (void)k;
    if (t->kind == TARGET_ENGINE) {
        engine_mech m = {.type = CKM_SHA256};
        engine_buf d = {0};
        CK_RV rv = engine_digest_single(t->eng, &m, (engine_bytes){msg, len}, &d);
        engine_buf_free(&d);
        return rv;
    }
    g11c_mech m = {.type = CKM_SHA256};
    g11c_buf d = {0};
    CK_RV rv = g11c_digest_single(t->conn, &m, (g11c_bytes){msg, len}, &d);
    g11c_buf_free(&d);
    return rv;
}

static const op ops[] = {
    {"aes-gcm-1k", 1024, op_gcm, check_gcm},    {"aes-gcm-16k", 16384, op_gcm, check_gcm},
    {"hmac-sha256-1k", 1024, op_hmac, op_hmac}, {"sha256-1k", 1024, op_sha256, op_sha256},
    {"aes-keygen", 0, op_keygen, op_keygen},    {"random-32", 0, op_random, op_random},
};

/* ---- timing ------------------------------------------------------------ */

typedef struct {
    const target *t;
    const keys *k;
    const op *o;
    double seconds;
    uint8_t *msg;
    double *lat_us; /* per-call latencies */
    size_t nlat, cap;
    int failed;
} worker;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    double end = now_s() + w->seconds;
    for (;;) {
        double t0 = now_s();
        if (t0 >= end)
            break;
        if (w->o->run(w->t, w->k, w->msg, w->o->msg_len) != CKR_OK) {
            w->failed = 1;
            break;
        }
        if (w->nlat == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 4096;
            double *bigger = realloc(w->lat_us, w->cap * sizeof(double));
            if (!bigger) {
                w->failed = 1;
                break;
            }
            w->lat_us = bigger;
        }
        w->lat_us[w->nlat++] = (now_s() - t0) * 1e6;
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    double ops_per_s, p50, p99, p999, cpu_us_per_op;
} result;

static int measure(const target *t, const keys *k, const op *o, int threads, double seconds,
                   result *r)
{
    worker *w = calloc((size_t)threads, sizeof(*w));
    pthread_t *th = calloc((size_t)threads, sizeof(*th));
    uint8_t *msg = calloc(1, o->msg_len ? o->msg_len : 1);
    int failed = 0;
    if (!w || !th || !msg)
        return -1;
    for (size_t i = 0; i < o->msg_len; i++)
        msg[i] = (uint8_t)(i * 31);
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){t, k, o, seconds, msg, NULL, 0, 0, 0};
        pthread_create(&th[i], NULL, run_worker, &w[i]);
    }
    size_t total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        total += w[i].nlat;
        failed |= w[i].failed;
    }
    double elapsed = now_s() - t0;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double *all = calloc(total ? total : 1, sizeof(double));
    size_t n = 0;
    for (int i = 0; i < threads; i++) {
        if (all)
            memcpy(all + n, w[i].lat_us, w[i].nlat * sizeof(double));
        n += w[i].nlat;
        free(w[i].lat_us);
    }
    if (all && n) {
        qsort(all, n, sizeof(double), cmp_double);
        r->p50 = all[n / 2];
        r->p99 = all[(size_t)((double)n * 0.99)];
        r->p999 = all[(size_t)((double)n * 0.999)];
    }
    r->ops_per_s = (double)total / elapsed;
    double cpu = (double)(c1.tv_sec - c0.tv_sec) * 1e6 + (double)(c1.tv_nsec - c0.tv_nsec) / 1e3;
    r->cpu_us_per_op = total ? cpu / (double)total : 0;
    free(all);
    free(w);
    free(th);
    free(msg);
    return failed || total == 0 ? -1 : 0;
}

static int make_keys(const target *t, keys *k)
{
    return gen_key(t, CKM_AES_KEY_GEN, 32, CKA_ENCRYPT, CKA_DECRYPT, &k->aes, &k->aes_len) ||
           gen_key(t, CKM_GENERIC_SECRET_KEY_GEN, 32, CKA_SIGN, CKA_VERIFY, &k->hmac, &k->hmac_len);
}

static CK_RV give_token(void *arg, char *buf, size_t cap)
{
    const char *tok = arg;
    if (strlen(tok) >= cap)
        return CKR_GENERAL_ERROR;
    strcpy(buf, tok);
    return CKR_OK;
}

static int open_client(target *t, const char *address, const char *data_dir, char *token,
                       size_t cap)
{
    char ca[4200], keyfile[4200], apikey[256] = "";
    snprintf(ca, sizeof(ca), "%s/tls/ca.pem", data_dir);
    snprintf(keyfile, sizeof(keyfile), "%s/dev-apikey", data_dir);
    g11c_options o = {.address = address, .ca_file = ca};
    if (g11c_connect(&o, &t->conn) != CKR_OK)
        return -1;
    FILE *f = fopen(keyfile, "r");
    if (f) {
        if (!fgets(apikey, sizeof(apikey), f))
            apikey[0] = '\0';
        fclose(f);
        apikey[strcspn(apikey, "\r\n")] = '\0';
    }
    if (apikey[0]) {
        if (g11c_auth_token(t->conn, apikey, token, cap, NULL) != CKR_OK)
            return -1;
        g11c_set_token_hook(t->conn, give_token, token);
    }
    OPENSSL_cleanse(apikey, sizeof(apikey));
    return 0;
}

static int open_engine(target *t, const char *data_dir)
{
    char path[4200], err[256];
    uint8_t wk[32];
    snprintf(path, sizeof(path), "%s/%s", data_dir, DEV_WK_FILE);
    if (masterkey_read_file(path, wk, err, sizeof(err)) != 0) {
        /* No data dir at hand: an engine with a throwaway key measures the same. */
        if (RAND_bytes(wk, sizeof(wk)) != 1)
            return -1;
    }
    CK_RV rv = engine_create(wk, NULL, &t->eng);
    OPENSSL_cleanse(wk, sizeof(wk));
    return rv == CKR_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"target", required_argument, NULL, 't'},
        {"threads", required_argument, NULL, 'n'},
        {"seconds", required_argument, NULL, 's'},
        {"address", required_argument, NULL, 'a'},
        {"data-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *which = "both", *address = "127.0.0.1:9876", *data_dir = "grep11-data";
    int threads = 1;
    double seconds = 2.0;
    int c;
    while ((c = getopt_long(argc, argv, "t:n:s:a:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            which = optarg;
            break;
        case 'n':
            threads = atoi(optarg);
            break;
        case 's':
            seconds = atof(optarg);
            break;
        case 'a':
            address = optarg;
            break;
        case 'd':
            data_dir = optarg;
            break;
        default:
            printf("usage: grep11-bench [--target client|engine|both] [--threads N] "
                   "[--seconds S] [--address A] [--data-dir DIR] OP...\nops:");
            for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
                printf(" %s", ops[i].name);
            printf("\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (threads < 1 || threads > 256 || seconds <= 0) {
        fprintf(stderr, "grep11-bench: --threads 1..256, --seconds > 0\n");
        return 2;
    }
    target targets[2];
    int ntargets = 0;
    static char token[2048];
    if (strcmp(which, "engine") != 0) {
        targets[ntargets].kind = TARGET_CLIENT;
        if (open_client(&targets[ntargets], address, data_dir, token, sizeof(token)) != 0) {
            fprintf(stderr, "grep11-bench: cannot reach grep11d at %s\n", address);
            return 1;
        }
        ntargets++;
    }
    if (strcmp(which, "client") != 0) {
        targets[ntargets].kind = TARGET_ENGINE;
        if (open_engine(&targets[ntargets], data_dir) != 0)
            return 1;
        ntargets++;
    }
    keys k[2];
    memset(k, 0, sizeof(k));
    for (int i = 0; i < ntargets; i++)
        if (make_keys(&targets[i], &k[i]) != 0) {
            fprintf(stderr, "grep11-bench: key generation failed\n");
            return 1;
        }
    printf("%-16s %-7s %3s %12s %10s %10s %10s %10s\n", "op", "target", "thr", "ops/s", "p50us",
           "p99us", "p99.9us", "cpu_us/op");
    int rc = 0;
    for (int a = optind; a < argc; a++) {
        const op *o = NULL;
        for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
            if (strcmp(argv[a], ops[i].name) == 0)
                o = &ops[i];
        if (!o) {
            fprintf(stderr, "grep11-bench: unknown op %s\n", argv[a]);
            return 2;
        }
        uint8_t *msg = calloc(1, o->msg_len ? o->msg_len : 1);
        result r[2];
        for (int i = 0; i < ntargets; i++) {
            if (!msg || o->check(&targets[i], &k[i], msg, o->msg_len) != CKR_OK ||
                measure(&targets[i], &k[i], o, threads, seconds, &r[i]) != 0) {
                fprintf(stderr, "grep11-bench: %s failed on %s\n", o->name,
                        targets[i].kind == TARGET_ENGINE ? "engine" : "client");
                rc = 1;
                continue;
            }
            printf("%-16s %-7s %3d %12.0f %10.1f %10.1f %10.1f %10.1f\n", o->name,
                   targets[i].kind == TARGET_ENGINE ? "engine" : "client", threads, r[i].ops_per_s,
                   r[i].p50, r[i].p99, r[i].p999, r[i].cpu_us_per_op);
        }
        if (ntargets == 2 && rc == 0)
            printf("%-16s ratio client/engine = %.3f\n", o->name, r[0].ops_per_s / r[1].ops_per_s);
        free(msg);
        fflush(stdout);
    }
    for (int i = 0; i < ntargets; i++) {
        free_out(k[i].aes, k[i].aes_len);
        free_out(k[i].hmac, k[i].hmac_len);
        if (targets[i].kind == TARGET_CLIENT)
            g11c_close(targets[i].conn);
        else
            engine_destroy(targets[i].eng);
    }
    return rc;
}
