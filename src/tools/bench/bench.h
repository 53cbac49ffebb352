/* grep11-bench internals: operations, targets and the timing loop.
 *
 * A target is something that performs operations: libgrep11 against a
 * running grep11d, the engine in-process, or any PKCS #11 module by path
 * (ours or SoftHSMv2). Each timing thread gets its own context (for PKCS #11:
 * its own session and keys); the operation is checked once on it before
 * timing (a ciphertext decrypts, a signature verifies). */
#ifndef GREP11_BENCH_H
#define GREP11_BENCH_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    OP_RANDOM32,
    OP_SHA256_1K,
    OP_HMAC_1K,
    OP_GCM_1K,
    OP_GCM_16K,
    OP_GCM_1M,
    OP_CBC_1K,
    OP_AES_KEYGEN,
    OP_EC_KEYGEN,
    OP_ECDSA_SIGN,
    OP_ECDSA_VERIFY,
    OP_ED25519_SIGN,
    OP_RSA2048_SIGN,
    OP_RSA3072_SIGN,
    OP_RSA2048_PSS,
    OP_RSA3072_PSS,
    OP_MLDSA65_SIGN,
    OP_MLDSA65_VERIFY,
    OP_FIND_10K,  /* FindObjects by CKA_LABEL among 10,000 token objects */
    OP_FIND_100K, /* ... among 100,000 */
    OP_COUNT
} bench_op;

typedef struct {
    const char *name;
    size_t msg_len;
    size_t objects; /* find ops: token objects in the keystore */
} bench_op_info;

extern const bench_op_info bench_ops[OP_COUNT];

/* The message every operation works on: prepare (which signs it once for
 * the verify operations) and the timing loop must agree on it. */
void bench_message(uint8_t *msg, size_t len);
int bench_op_parse(const char *name, bench_op *out);

typedef struct {
    const char *address;  /* grep11d */
    const char *data_dir; /* its CA, API key and (engine target) master key */
    const char *module;   /* PKCS #11 module path */
    const char *pin;      /* PKCS #11 user PIN */
    unsigned long slot;   /* PKCS #11 slot id */
    size_t objects;       /* find ops: population override (0: the op's own) */
    int channels;         /* grep11 target: TCP connections (0: 1) */
    int spin_us;          /* grep11 target: g11c_options.spin_us */
    int batch_inflight;   /* grep11 target: g11c_options.batch_inflight */
} bench_options;

typedef struct bench_target bench_target;
typedef struct bench_ctx bench_ctx;

typedef struct {
    const char *name;
    /* 0 on success; a message on stderr otherwise. */
    int (*open)(bench_target **out, const bench_options *opt, const char *label);
    /* A per-thread context ready to run op (checked once), or NULL with a
     * reason in why when the target cannot do it. */
    bench_ctx *(*prepare)(bench_target *t, bench_op op, char *why, size_t cap);
    int (*run)(bench_ctx *c, const uint8_t *msg, size_t len);
    void (*release)(bench_ctx *c);
    void (*close)(bench_target *t);
} bench_target_ops;

extern const bench_target_ops bench_grep11_client, bench_grep11_engine, bench_pkcs11;

#endif
