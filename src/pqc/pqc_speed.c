/* pqc-speed: single-thread throughput of every ML-DSA and ML-KEM set,
 * measured side by side in one run so the numbers are comparable.
 * Usage: pqc-speed [seconds-per-measurement] (default 0.5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pqc.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Deterministic filler: the benchmark needs varied inputs, not entropy. */
static void fill(uint8_t *buf, size_t len, uint32_t *state)
{
    for (size_t i = 0; i < len; i++) {
        *state = *state * 1103515245u + 12345u;
        buf[i] = (uint8_t)(*state >> 16);
    }
}

typedef int (*op_fn)(void *arg, unsigned iter);

static double rate(op_fn fn, void *arg, double seconds)
{
    unsigned n = 0;
    double t0 = now(), t;
    do {
        if (fn(arg, n)) {
            fprintf(stderr, "operation failed\n");
            exit(1);
        }
        n++;
        t = now();
    } while (t - t0 < seconds);
    return n / (t - t0);
}

typedef struct {
    mldsa_set set;
    uint8_t pk[2592], sk[4896], sig[4627], seed[96], rnd[64], msg[64];
} dsa_bench;

static int dsa_keygen(void *a, unsigned it)
{
    dsa_bench *b = a;
    b->seed[0] = (uint8_t)it;
    return mldsa_keygen(b->set, b->seed, mldsa_seed_bytes(b->set), b->pk, sizeof(b->pk), b->sk,
                        sizeof(b->sk));
}

static int dsa_sign(void *a, unsigned it)
{
    dsa_bench *b = a;
    b->msg[0] = (uint8_t)it; /* vary the message so rejection counts vary */
    b->msg[1] = (uint8_t)(it >> 8);
    return mldsa_sign(b->set, b->sk, mldsa_sk_bytes(b->set), b->msg, sizeof(b->msg), NULL, 0,
                      b->rnd, mldsa_rnd_bytes(b->set), b->sig, sizeof(b->sig));
}

static int dsa_verify(void *a, unsigned it)
{
    dsa_bench *b = a;
    (void)it;
    return mldsa_verify(b->set, b->pk, mldsa_pk_bytes(b->set), b->msg, sizeof(b->msg), NULL, 0,
                        b->sig, mldsa_sig_bytes(b->set));
}

typedef struct {
    mlkem_set set;
    uint8_t ek[1568], dk[3168], ct[1568], ss[32], ss2[32], seed[64], m[32];
} kem_bench;

static int kem_keygen(void *a, unsigned it)
{
    kem_bench *b = a;
    b->seed[0] = (uint8_t)it;
    return mlkem_keygen(b->set, b->seed, 64, b->ek, sizeof(b->ek), b->dk, sizeof(b->dk));
}

static int kem_encaps(void *a, unsigned it)
{
    kem_bench *b = a;
    b->m[0] = (uint8_t)it;
    return mlkem_encaps(b->set, b->ek, mlkem_ek_bytes(b->set), b->m, 32, b->ct, sizeof(b->ct),
                        b->ss, sizeof(b->ss));
}

static int kem_decaps(void *a, unsigned it)
{
    kem_bench *b = a;
    (void)it;
    return mlkem_decaps(b->set, b->dk, mlkem_dk_bytes(b->set), b->ct, mlkem_ct_bytes(b->set),
                        b->ss2, sizeof(b->ss2));
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 0.5;
    uint32_t st = 1;
    static dsa_bench db;
    static kem_bench kb;
    const mldsa_set dsets[] = {MLDSA_44, MLDSA_65, MLDSA_87};
    const mlkem_set ksets[] = {MLKEM_512, MLKEM_768, MLKEM_1024};

    if (secs <= 0)
        secs = 0.5;
    printf("%-12s %12s %12s %12s   (ops/s, one core, hedged signing)\n", "ML-DSA", "keygen", "sign",
           "verify");
    for (size_t i = 0; i < sizeof(dsets) / sizeof(dsets[0]); i++) {
        memset(&db, 0, sizeof(db));
        db.set = dsets[i];
        fill(db.seed, sizeof(db.seed), &st);
        fill(db.rnd, sizeof(db.rnd), &st);
        fill(db.msg, sizeof(db.msg), &st);
        double kg = rate(dsa_keygen, &db, secs);
        double sg = rate(dsa_sign, &db, secs);
        double vf = rate(dsa_verify, &db, secs);
        printf("%-12s %12.0f %12.0f %12.0f\n", mldsa_set_name(dsets[i]), kg, sg, vf);
    }
    printf("%-12s %12s %12s %12s %14s\n", "ML-KEM", "keygen", "encaps", "decaps", "encaps+decaps");
    for (size_t i = 0; i < sizeof(ksets) / sizeof(ksets[0]); i++) {
        memset(&kb, 0, sizeof(kb));
        kb.set = ksets[i];
        fill(kb.seed, sizeof(kb.seed), &st);
        fill(kb.m, sizeof(kb.m), &st);
        double kg = rate(kem_keygen, &kb, secs);
        double en = rate(kem_encaps, &kb, secs);
        double de = rate(kem_decaps, &kb, secs);
        if (memcmp(kb.ss, kb.ss2, 32) != 0) {
            fprintf(stderr, "shared secrets differ\n");
            return 1;
        }
        printf("%-12s %12.0f %12.0f %12.0f %14.0f\n", mlkem_set_name(ksets[i]), kg, en, de,
               1.0 / (1.0 / en + 1.0 / de));
    }
    return 0;
}
