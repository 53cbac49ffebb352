/* grep11-bench: throughput, latency and CPU per operation, for one or two
 * targets measured alternately (A B A B ...) in one run so that their ratio
 * survives a noisy machine.
 *
 *   grep11-bench --target grep11 --target pkcs11=/usr/lib/softhsm/libsofthsm2.so,pin=1234
 *                --threads 1,2,8 --seconds 2 --rounds 3 --csv out.csv OP...
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

const bench_op_info bench_ops[OP_COUNT] = {
    [OP_RANDOM32] = {.name = "random-32", .msg_len = 0},
    [OP_SHA256_1K] = {.name = "sha256-1k", .msg_len = 1024},
    [OP_HMAC_1K] = {.name = "hmac-sha256-1k", .msg_len = 1024},
    [OP_GCM_1K] = {.name = "aes-gcm-1k", .msg_len = 1024},
    [OP_GCM_16K] = {.name = "aes-gcm-16k", .msg_len = 16384},
    [OP_GCM_1M] = {.name = "aes-gcm-1m", .msg_len = 1048576},
    [OP_CBC_1K] = {.name = "aes-cbc-1k", .msg_len = 1024},
    [OP_AES_KEYGEN] = {.name = "aes-keygen", .msg_len = 0},
    [OP_EC_KEYGEN] = {.name = "ec-p256-keygen", .msg_len = 0},
    [OP_ECDSA_SIGN] = {.name = "ecdsa-p256-sign", .msg_len = 32},
    [OP_ECDSA_VERIFY] = {.name = "ecdsa-p256-verify", .msg_len = 32},
    [OP_ED25519_SIGN] = {.name = "ed25519-sign", .msg_len = 32},
    [OP_RSA2048_SIGN] = {.name = "rsa2048-sign", .msg_len = 32},
    [OP_RSA3072_SIGN] = {.name = "rsa3072-sign", .msg_len = 32},
    [OP_RSA2048_PSS] = {.name = "rsa2048-pss-sign", .msg_len = 32},
    [OP_RSA3072_PSS] = {.name = "rsa3072-pss-sign", .msg_len = 32},
    [OP_MLDSA65_SIGN] = {.name = "mldsa65-sign", .msg_len = 32},
    [OP_MLDSA65_VERIFY] = {.name = "mldsa65-verify", .msg_len = 32},
    [OP_FIND_10K] = {.name = "find-label-10k", .msg_len = 0, .objects = 10000},
    [OP_FIND_100K] = {.name = "find-label-100k", .msg_len = 0, .objects = 100000},
};

void bench_message(uint8_t *msg, size_t len)
{
    for (size_t i = 0; i < len; i++)
        msg[i] = (uint8_t)(i * 131 + 7);
}

int bench_op_parse(const char *name, bench_op *out)
{
    for (int i = 0; i < OP_COUNT; i++)
        if (strcmp(name, bench_ops[i].name) == 0) {
            *out = (bench_op)i;
            return 0;
        }
    return -1;
}

typedef struct {
    const bench_target_ops *ops;
    bench_options opt;
    char label[64];
    bench_target *t;
} target_slot;

typedef struct {
    double ops_per_s, p50, p99, p999, cpu_us;
} result;

typedef struct {
    const target_slot *ts;
    bench_ctx *ctx;
    const uint8_t *msg;
    size_t len;
    double seconds;
    double *lat;
    size_t n, cap;
    int failed;
} worker;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *work(void *arg)
{
    worker *w = arg;
    double end = now_s() + w->seconds;
    for (double t0 = now_s(); t0 < end; t0 = now_s()) {
        if (w->ts->ops->run(w->ctx, w->msg, w->len) != 0) {
            w->failed = 1;
            break;
        }
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 4096;
            double *bigger = realloc(w->lat, w->cap * sizeof(double));
            if (!bigger) {
                w->failed = 1;
                break;
            }
            w->lat = bigger;
        }
        w->lat[w->n++] = (now_s() - t0) * 1e6;
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One timed run of op on ts with `threads` prepared contexts. */
static int measure(const target_slot *ts, bench_ctx **ctx, int threads, const uint8_t *msg,
                   size_t len, double seconds, result *r)
{
    worker *w = calloc((size_t)threads, sizeof(*w));
    pthread_t *th = calloc((size_t)threads, sizeof(*th));
    if (!w || !th) {
        free(w);
        free(th);
        return -1;
    }
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){ts, ctx[i], msg, len, seconds, NULL, 0, 0, 0};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    size_t total = 0;
    int failed = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        total += w[i].n;
        failed |= w[i].failed;
    }
    double elapsed = now_s() - t0;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double *all = calloc(total ? total : 1, sizeof(double));
    size_t n = 0;
    for (int i = 0; i < threads; i++) {
        if (all && w[i].n)
            memcpy(all + n, w[i].lat, w[i].n * sizeof(double));
        n += w[i].n;
        free(w[i].lat);
    }
    memset(r, 0, sizeof(*r));
    if (all && n) {
        qsort(all, n, sizeof(double), cmp_double);
        r->p50 = all[n / 2];
        r->p99 = all[(size_t)((double)(n - 1) * 0.99)];
        r->p999 = all[(size_t)((double)(n - 1) * 0.999)];
    }
    r->ops_per_s = (double)total / elapsed;
    /* Process CPU: with the grep11 target this is the client's share only;
     * the engine and pkcs11 targets include all the work. */
    double cpu = (double)(c1.tv_sec - c0.tv_sec) * 1e6 + (double)(c1.tv_nsec - c0.tv_nsec) / 1e3;
    r->cpu_us = total ? cpu / (double)total : 0;
    free(all);
    free(w);
    free(th);
    return failed || total == 0 ? -1 : 0;
}

static int parse_target(const char *spec, target_slot *ts)
{
    memset(ts, 0, sizeof(*ts));
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", spec);
    char *opts = strchr(buf, '=');
    if (opts)
        *opts++ = '\0';
    if (strcmp(buf, "grep11") == 0)
        ts->ops = &bench_grep11_client;
    else if (strcmp(buf, "engine") == 0)
        ts->ops = &bench_grep11_engine;
    else if (strcmp(buf, "pkcs11") == 0)
        ts->ops = &bench_pkcs11;
    else
        return -1;
    snprintf(ts->label, sizeof(ts->label), "%.63s", buf);
    if (ts->ops == &bench_pkcs11) {
        if (!opts)
            return -1;
        /* pkcs11=PATH[,slot=N][,pin=PIN|,pin-env=VAR][,label=NAME]; pin-env
         * keeps an API-key PIN out of the process list. */
        char *save = NULL;
        for (char *tok = strtok_r(opts, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (strncmp(tok, "slot=", 5) == 0)
                ts->opt.slot = strtoul(tok + 5, NULL, 0);
            else if (strncmp(tok, "pin=", 4) == 0)
                ts->opt.pin = strdup(tok + 4);
            else if (strncmp(tok, "pin-env=", 8) == 0) {
                const char *v = getenv(tok + 8);
                if (v == NULL)
                    return -1;
                ts->opt.pin = strdup(v);
            } else if (strncmp(tok, "label=", 6) == 0)
                snprintf(ts->label, sizeof(ts->label), "%.63s", tok + 6);
            else
                ts->opt.module = strdup(tok);
        }
        if (!ts->opt.module)
            return -1;
        if (!strstr(spec, "label=")) {
            const char *base = strrchr(ts->opt.module, '/');
            snprintf(ts->label, sizeof(ts->label), "%.63s", base ? base + 1 : ts->opt.module);
        }
    }
    return 0;
}

static void usage(FILE *to)
{
    fprintf(to, "usage: grep11-bench [--target SPEC]... [--threads N[,N...]] [--seconds S]\n"
                "                    [--rounds R] [--address HOST:PORT] [--data-dir DIR]\n"
                "                    [--csv FILE] [--plot FILE.png] [--objects N] OP...\n"
                "targets: grep11 (libgrep11 -> grep11d), engine (in-process),\n"
                "         pkcs11=PATH[,slot=N][,pin=PIN|,pin-env=VAR][,label=NAME]\n"
                "--channels N: TCP connections of the grep11 target (default 1)\n"
                "--spin US: how long a lone call of the grep11 target polls for its\n"
                "         reply before sleeping (default 200, 0: never)\n"
                "--batch N: RPCs a channel of the grep11 target keeps in flight before\n"
                "         it coalesces further calls into batches (default 2, 0: never)\n"
                "--objects N: token objects the find-label ops search (default 10,000 or\n"
                "         100,000; made once per token, labelled bench-find-N-*)\n"
                "ops:");
    for (int i = 0; i < OP_COUNT; i++)
        fprintf(to, " %s", bench_ops[i].name);
    fprintf(to, "\n");
}

/* gnuplot, if installed: ops/s against threads (log scales; the rounds of
 * a thread count averaged), one line per op and target. */
static void plot(const char *csv, const char *png)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "gnuplot -e \"set datafile separator ','; set terminal png size 1000,650; "
             "set output '%s'; set xlabel 'threads'; set ylabel 'ops/s'; set key outside; "
             "set logscale xy 2; "
             "plot for [k in system('tail -n +2 %s | cut -d, -f1,2 | sort -u | tr , :')] "
             "'< grep ^'.system('echo '.k.' | tr : ,').', %s' using 3:4 smooth unique "
             "with linespoints title k\" 2>/dev/null",
             png, csv, csv);
    if (system(cmd) != 0)
        fprintf(stderr, "grep11-bench: no plot (is gnuplot installed?)\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"target", required_argument, NULL, 't'},  {"threads", required_argument, NULL, 'n'},
        {"seconds", required_argument, NULL, 's'}, {"rounds", required_argument, NULL, 'r'},
        {"address", required_argument, NULL, 'a'}, {"data-dir", required_argument, NULL, 'd'},
        {"csv", required_argument, NULL, 'c'},     {"plot", required_argument, NULL, 'p'},
        {"objects", required_argument, NULL, 'o'}, {"channels", required_argument, NULL, 'C'},
        {"spin", required_argument, NULL, 'S'},    {"batch", required_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    target_slot targets[2];
    int ntargets = 0, threads[16] = {1}, nthreads = 1, rounds = 1;
    size_t objects = 0;
    int channels = 0, spin_us = 0, batch_inflight = 0;
    double seconds = 2.0;
    const char *address = "127.0.0.1:9876", *data_dir = "grep11-data", *csv = NULL, *png = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "t:n:s:r:a:d:c:p:o:C:S:B:h", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (ntargets == 2 || parse_target(optarg, &targets[ntargets]) != 0) {
                fprintf(stderr, "grep11-bench: bad or third --target '%s'\n", optarg);
                return 2;
            }
            ntargets++;
            break;
        case 'n': {
            nthreads = 0;
            char *save = NULL, buf[128];
            snprintf(buf, sizeof(buf), "%s", optarg);
            for (char *tok = strtok_r(buf, ",", &save); tok && nthreads < 16;
                 tok = strtok_r(NULL, ",", &save))
                threads[nthreads++] = atoi(tok);
            break;
        }
        case 's':
            seconds = atof(optarg);
            break;
        case 'r':
            rounds = atoi(optarg);
            break;
        case 'a':
            address = optarg;
            break;
        case 'd':
            data_dir = optarg;
            break;
        case 'c':
            csv = optarg;
            break;
        case 'p':
            png = optarg;
            break;
        case 'o':
            objects = strtoul(optarg, NULL, 10);
            break;
        case 'C':
            channels = atoi(optarg);
            break;
        case 'S':
            spin_us = atoi(optarg) > 0 ? atoi(optarg) : -1;
            break;
        case 'B':
            batch_inflight = atoi(optarg) > 0 ? atoi(optarg) : -1;
            break;
        default:
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 0 : 2;
        }
    }
    if (ntargets == 0)
        parse_target("grep11", &targets[ntargets++]);
    for (int i = 0; i < nthreads; i++)
        if (threads[i] < 1 || threads[i] > 256) {
            fprintf(stderr, "grep11-bench: threads 1..256\n");
            return 2;
        }
    if (seconds <= 0 || rounds < 1 || optind >= argc) {
        usage(stderr);
        return 2;
    }
    for (int i = 0; i < ntargets; i++) {
        targets[i].opt.address = address;
        targets[i].opt.data_dir = data_dir;
        targets[i].opt.objects = objects;
        targets[i].opt.channels = channels;
        targets[i].opt.spin_us = spin_us;
        targets[i].opt.batch_inflight = batch_inflight;
        if (targets[i].ops->open(&targets[i].t, &targets[i].opt, targets[i].label) != 0)
            return 1;
    }
    FILE *out = csv ? fopen(csv, "w") : NULL;
    if (out)
        fprintf(out, "op,target,threads,ops_per_s,p50_us,p99_us,p999_us,cpu_us_per_op\n");
    printf("%-18s %-18s %4s %11s %9s %9s %9s %9s\n", "op", "target", "thr", "ops/s", "p50us",
           "p99us", "p99.9us", "cpu_us");
    int rc = 0;
    for (int a = optind; a < argc; a++) {
        bench_op op;
        if (bench_op_parse(argv[a], &op) != 0) {
            fprintf(stderr, "grep11-bench: unknown op %s\n", argv[a]);
            rc = 2;
            continue;
        }
        size_t len = bench_ops[op].msg_len;
        uint8_t *msg = calloc(1, len ? len : 1);
        if (msg)
            bench_message(msg, len);
        for (int ti = 0; msg && ti < nthreads; ti++) {
            int n = threads[ti];
            bench_ctx **ctx[2] = {calloc((size_t)n, sizeof(bench_ctx *)),
                                  calloc((size_t)n, sizeof(bench_ctx *))};
            int ok[2] = {1, 1};
            for (int k = 0; k < ntargets; k++)
                for (int i = 0; i < n && ok[k]; i++) {
                    char why[128] = "";
                    ctx[k][i] = targets[k].ops->prepare(targets[k].t, op, why, sizeof(why));
                    if (!ctx[k][i]) {
                        printf("%-18s %-18s %4d %s\n", bench_ops[op].name, targets[k].label, n,
                               why);
                        ok[k] = 0;
                    }
                }
            double sum[2] = {0, 0};
            result last[2];
            /* A B A B ...: both targets see the same machine weather. */
            for (int r = 0; r < rounds; r++)
                for (int k = 0; k < ntargets; k++) {
                    if (!ok[k])
                        continue;
                    if (measure(&targets[k], ctx[k], n, msg, len, seconds, &last[k]) != 0) {
                        printf("%-18s %-18s %4d failed while timing\n", bench_ops[op].name,
                               targets[k].label, n);
                        ok[k] = 0;
                        rc = 1;
                        continue;
                    }
                    sum[k] += last[k].ops_per_s;
                    printf("%-18s %-18s %4d %11.0f %9.1f %9.1f %9.1f %9.1f\n", bench_ops[op].name,
                           targets[k].label, n, last[k].ops_per_s, last[k].p50, last[k].p99,
                           last[k].p999, last[k].cpu_us);
                    if (out)
                        fprintf(out, "%s,%s,%d,%.0f,%.1f,%.1f,%.1f,%.1f\n", bench_ops[op].name,
                                targets[k].label, n, last[k].ops_per_s, last[k].p50, last[k].p99,
                                last[k].p999, last[k].cpu_us);
                }
            if (ntargets == 2 && ok[0] && ok[1])
                printf("%-18s %s/%s = %.3f (threads %d, mean of %d)\n", bench_ops[op].name,
                       targets[0].label, targets[1].label, sum[0] / sum[1], n, rounds);
            for (int k = 0; k < ntargets; k++) {
                for (int i = 0; ctx[k] && i < n; i++)
                    targets[k].ops->release(ctx[k][i]);
                free(ctx[k]);
            }
            fflush(stdout);
        }
        free(msg);
    }
    if (out) {
        fclose(out);
        if (png)
            plot(csv, png);
    }
    for (int i = 0; i < ntargets; i++)
        targets[i].ops->close(targets[i].t);
    return rc;
}
