/* Bench targets "grep11" (libgrep11 against a running grep11d) and "engine"
 * (the engine in-process). The two share everything but the call layer:
 * small adapters pick engine_* or g11c_* per call. */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "devsetup.h"
#include "engine.h"
#include "grep11_client.h"

struct bench_target {
    int in_process;
    g11c_conn *conn;
    engine *eng;
    char token[2048];
};

/* What one operation needs: keys (blobs) and the mechanism, made once. */
struct bench_ctx {
    bench_target *t;
    bench_op op;
    uint8_t *key, *pub; /* secret or private key blob; public key */
    size_t key_len, pub_len;
    uint8_t *sig; /* for verify ops: a signature made at prepare time */
    size_t sig_len;
};

typedef struct {
    uint8_t *ptr;
    size_t len;
} out_buf;

static void out_free(out_buf *b)
{
    if (b->ptr) {
        explicit_bzero(b->ptr, b->len);
        free(b->ptr);
    }
    b->ptr = NULL;
    b->len = 0;
}

/* ---- mechanisms ---------------------------------------------------------- */

static uint8_t gcm_param[4 + 12 + 4 + 4] = {0, 0,  0,  12, 1, 2, 3, 4, 5, 6, 7, 8,
                                            9, 10, 11, 12, 0, 0, 0, 0, 0, 0, 0, 128};
static uint8_t cbc_iv[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};

typedef struct {
    CK_MECHANISM_TYPE type;
    const uint8_t *param;
    size_t plen;
    int pss;
} mech_spec;

static mech_spec op_mech(bench_op op)
{
    switch (op) {
    case OP_SHA256_1K:
        return (mech_spec){CKM_SHA256, NULL, 0, 0};
    case OP_HMAC_1K:
        return (mech_spec){CKM_SHA256_HMAC, NULL, 0, 0};
    case OP_GCM_1K:
    case OP_GCM_16K:
    case OP_GCM_1M:
        return (mech_spec){CKM_AES_GCM, gcm_param, sizeof(gcm_param), 0};
    case OP_CBC_1K:
        return (mech_spec){CKM_AES_CBC, cbc_iv, sizeof(cbc_iv), 0};
    case OP_ECDSA_SIGN:
    case OP_ECDSA_VERIFY:
        return (mech_spec){CKM_ECDSA, NULL, 0, 0};
    case OP_ED25519_SIGN:
        return (mech_spec){CKM_EDDSA, NULL, 0, 0};
    case OP_RSA2048_SIGN:
    case OP_RSA3072_SIGN:
        return (mech_spec){CKM_SHA256_RSA_PKCS, NULL, 0, 0};
    case OP_RSA2048_PSS:
    case OP_RSA3072_PSS:
        return (mech_spec){CKM_SHA256_RSA_PKCS_PSS, NULL, 0, 1};
    case OP_MLDSA65_SIGN:
    case OP_MLDSA65_VERIFY:
        return (mech_spec){CKM_ML_DSA, NULL, 0, 0};
    default:
        return (mech_spec){0, NULL, 0, 0};
    }
}

static engine_mech to_engine(mech_spec m)
{
    engine_mech e = {.type = m.type};
    if (m.plen) {
        e.kind = ENGINE_PARAM_BYTES;
        e.bytes = (engine_bytes){m.param, m.plen};
    } else if (m.pss) {
        e.kind = ENGINE_PARAM_RSA_PSS;
        e.pss.hash = CKM_SHA256;
        e.pss.mgf = 2; /* GREP11's CkgMgf1Sha256 */
        e.pss.salt_len = 32;
    }
    return e;
}

static g11c_mech to_client(mech_spec m)
{
    g11c_mech g = {.type = m.type};
    if (m.plen) {
        g.kind = G11C_PARAM_BYTES;
        g.bytes = (g11c_bytes){m.param, m.plen};
    } else if (m.pss) {
        g.kind = G11C_PARAM_RSA_PSS;
        g.pss.hash = CKM_SHA256;
        g.pss.mgf = 2;
        g.pss.salt_len = 32;
    }
    return g;
}

/* ---- call adapters ------------------------------------------------------- */

static CK_RV call_single(bench_target *t, int what, const uint8_t *key, size_t klen, mech_spec ms,
                         const uint8_t *in, size_t len, const uint8_t *sig, size_t slen,
                         out_buf *out)
{
    /* what: 0 encrypt, 1 decrypt, 2 sign, 3 verify, 4 digest */
    CK_RV rv;
    if (t->in_process) {
        engine_mech m = to_engine(ms);
        engine_buf o = {0};
        engine_bytes k = {key, klen}, d = {in, len};
        switch (what) {
        case 0:
            rv = engine_encrypt_single(t->eng, k, &m, d, &o);
            break;
        case 1:
            rv = engine_decrypt_single(t->eng, k, &m, d, &o);
            break;
        case 2:
            rv = engine_sign_single(t->eng, k, &m, d, &o);
            break;
        case 3:
            rv = engine_verify_single(t->eng, k, &m, d, (engine_bytes){sig, slen});
            break;
        default:
            rv = engine_digest_single(t->eng, &m, d, &o);
            break;
        }
        out->ptr = o.ptr;
        out->len = o.len;
        return rv;
    }
    g11c_mech m = to_client(ms);
    g11c_buf o = {0};
    g11c_bytes k = {key, klen}, d = {in, len};
    switch (what) {
    case 0:
        rv = g11c_encrypt_single(t->conn, k, &m, d, &o);
        break;
    case 1:
        rv = g11c_decrypt_single(t->conn, k, &m, d, &o);
        break;
    case 2:
        rv = g11c_sign_single(t->conn, k, &m, d, &o);
        break;
    case 3:
        rv = g11c_verify_single(t->conn, k, &m, d, (g11c_bytes){sig, slen});
        break;
    default:
        rv = g11c_digest_single(t->conn, &m, d, &o);
        break;
    }
    out->ptr = o.ptr;
    out->len = o.len;
    return rv;
}

static const CK_BBOOL yes = CK_TRUE;

static CK_RV gen_secret(bench_target *t, CK_MECHANISM_TYPE mech, CK_ULONG len,
                        CK_ATTRIBUTE_TYPE use1, CK_ATTRIBUTE_TYPE use2, out_buf *key)
{
    CK_ATTRIBUTE tmpl[] = {
        {CKA_VALUE_LEN, &len, sizeof(len)}, {use1, (void *)&yes, 1}, {use2, (void *)&yes, 1}};
    out_buf sum = {0};
    CK_RV rv;
    if (t->in_process) {
        engine_mech m = {.type = mech};
        engine_buf k = {0}, s = {0};
        rv = engine_generate_key(t->eng, &m, tmpl, 3, &k, &s);
        *key = (out_buf){k.ptr, k.len};
        sum = (out_buf){s.ptr, s.len};
    } else {
        g11c_mech m = {.type = mech};
        g11c_buf k = {0}, s = {0};
        rv = g11c_generate_key(t->conn, &m, tmpl, 3, &k, &s);
        *key = (out_buf){k.ptr, k.len};
        sum = (out_buf){s.ptr, s.len};
    }
    out_free(&sum);
    return rv;
}

static const uint8_t oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_ed25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
static const uint8_t f4[] = {0x01, 0x00, 0x01};

static CK_RV gen_pair(bench_target *t, bench_op op, out_buf *priv, out_buf *pub)
{
    CK_MECHANISM_TYPE mech;
    CK_ATTRIBUTE pt[3], st[2];
    CK_ULONG npt = 0, nst = 0, bits = op == OP_RSA3072_SIGN || op == OP_RSA3072_PSS ? 3072 : 2048;
    CK_ULONG set = CKP_ML_DSA_65;
    pt[npt++] = (CK_ATTRIBUTE){CKA_VERIFY, (void *)&yes, 1};
    st[nst++] = (CK_ATTRIBUTE){CKA_SIGN, (void *)&yes, 1};
    switch (op) {
    case OP_EC_KEYGEN:
    case OP_ECDSA_SIGN:
    case OP_ECDSA_VERIFY:
        mech = CKM_EC_KEY_PAIR_GEN;
        pt[npt++] = (CK_ATTRIBUTE){CKA_EC_PARAMS, (void *)oid_p256, sizeof(oid_p256)};
        break;
    case OP_ED25519_SIGN:
        mech = CKM_EC_EDWARDS_KEY_PAIR_GEN;
        pt[npt++] = (CK_ATTRIBUTE){CKA_EC_PARAMS, (void *)oid_ed25519, sizeof(oid_ed25519)};
        break;
    case OP_MLDSA65_SIGN:
    case OP_MLDSA65_VERIFY:
        mech = CKM_ML_DSA_KEY_PAIR_GEN;
        pt[npt++] = (CK_ATTRIBUTE){CKA_PARAMETER_SET, &set, sizeof(set)};
        break;
    default:
        mech = CKM_RSA_PKCS_KEY_PAIR_GEN;
        pt[npt++] = (CK_ATTRIBUTE){CKA_MODULUS_BITS, &bits, sizeof(bits)};
        pt[npt++] = (CK_ATTRIBUTE){CKA_PUBLIC_EXPONENT, (void *)f4, sizeof(f4)};
        break;
    }
    CK_RV rv;
    if (t->in_process) {
        engine_mech m = {.type = mech};
        engine_buf s = {0}, p = {0};
        rv = engine_generate_key_pair(t->eng, &m, pt, npt, st, nst, &s, &p);
        *priv = (out_buf){s.ptr, s.len};
        *pub = (out_buf){p.ptr, p.len};
    } else {
        g11c_mech m = {.type = mech};
        g11c_buf s = {0}, p = {0};
        rv = g11c_generate_key_pair(t->conn, &m, pt, npt, st, nst, &s, &p);
        *priv = (out_buf){s.ptr, s.len};
        *pub = (out_buf){p.ptr, p.len};
    }
    return rv;
}

/* ---- target ------------------------------------------------------------- */

static CK_RV give_token(void *arg, char *buf, size_t cap)
{
    const char *tok = arg;
    if (strlen(tok) >= cap)
        return CKR_GENERAL_ERROR;
    strcpy(buf, tok);
    return CKR_OK;
}

static int open_common(bench_target **out, const bench_options *opt, int in_process)
{
    bench_target *t = calloc(1, sizeof(*t));
    if (!t)
        return -1;
    t->in_process = in_process;
    char path[4200], err[256];
    if (in_process) {
        uint8_t wk[32];
        snprintf(path, sizeof(path), "%s/%s", opt->data_dir, DEV_WK_FILE);
        /* Without a data directory a throwaway key measures the same. */
        if (masterkey_read_file(path, wk, err, sizeof(err)) != 0 && RAND_bytes(wk, 32) != 1)
            goto fail;
        CK_RV rv = engine_create(wk, NULL, &t->eng);
        OPENSSL_cleanse(wk, sizeof(wk));
        if (rv != CKR_OK)
            goto fail;
    } else {
        char apikey[256] = "";
        snprintf(path, sizeof(path), "%s/tls/ca.pem", opt->data_dir);
        g11c_options o = {.address = opt->address,
                          .ca_file = path,
                          .channels = opt->channels,
                          .spin_us = opt->spin_us,
                          .batch_inflight = opt->batch_inflight};
        if (g11c_connect(&o, &t->conn) != CKR_OK)
            goto fail;
        snprintf(path, sizeof(path), "%s/dev-apikey", opt->data_dir);
        (void)g11c_read_api_key_file(path, apikey, sizeof(apikey)); /* optional */
        const char *env = getenv("GREP11_API_KEY");
        if (env)
            snprintf(apikey, sizeof(apikey), "%s", env);
        if (apikey[0]) {
            CK_RV rv = g11c_auth_token(t->conn, apikey, t->token, sizeof(t->token), NULL);
            OPENSSL_cleanse(apikey, sizeof(apikey));
            if (rv != CKR_OK) {
                fprintf(stderr, "grep11-bench: the API key was not accepted\n");
                goto fail;
            }
            g11c_set_token_hook(t->conn, give_token, t->token);
        }
        uint8_t probe[8];
        if (g11c_generate_random(t->conn, probe, sizeof(probe)) != CKR_OK) {
            fprintf(stderr, "grep11-bench: cannot reach grep11d at %s\n", opt->address);
            goto fail;
        }
    }
    *out = t;
    return 0;
fail:
    if (t->conn)
        g11c_close(t->conn);
    free(t);
    return -1;
}

static int open_client(bench_target **out, const bench_options *opt, const char *label)
{
    (void)label;
    return open_common(out, opt, 0);
}

static int open_engine(bench_target **out, const bench_options *opt, const char *label)
{
    (void)label;
    return open_common(out, opt, 1);
}

static void release(bench_ctx *c)
{
    if (!c)
        return;
    out_buf k = {c->key, c->key_len}, p = {c->pub, c->pub_len}, s = {c->sig, c->sig_len};
    out_free(&k);
    out_free(&p);
    out_free(&s);
    free(c);
}

static int run(bench_ctx *c, const uint8_t *msg, size_t len)
{
    out_buf o = {0};
    CK_RV rv;
    mech_spec ms = op_mech(c->op);
    switch (c->op) {
    case OP_RANDOM32: {
        uint8_t r[32];
        rv = c->t->in_process ? engine_generate_random(c->t->eng, r, 32)
                              : g11c_generate_random(c->t->conn, r, 32);
        break;
    }
    case OP_SHA256_1K:
        rv = call_single(c->t, 4, NULL, 0, ms, msg, len, NULL, 0, &o);
        break;
    case OP_AES_KEYGEN:
        rv = gen_secret(c->t, CKM_AES_KEY_GEN, 32, CKA_ENCRYPT, CKA_DECRYPT, &o);
        break;
    case OP_EC_KEYGEN: {
        out_buf p = {0};
        rv = gen_pair(c->t, c->op, &o, &p);
        out_free(&p);
        break;
    }
    case OP_ECDSA_VERIFY:
    case OP_MLDSA65_VERIFY:
        rv = call_single(c->t, 3, c->pub, c->pub_len, ms, msg, len, c->sig, c->sig_len, &o);
        break;
    case OP_HMAC_1K:
    case OP_ECDSA_SIGN:
    case OP_ED25519_SIGN:
    case OP_RSA2048_SIGN:
    case OP_RSA3072_SIGN:
    case OP_RSA2048_PSS:
    case OP_RSA3072_PSS:
    case OP_MLDSA65_SIGN:
        rv = call_single(c->t, 2, c->key, c->key_len, ms, msg, len, NULL, 0, &o);
        break;
    default:
        rv = call_single(c->t, 0, c->key, c->key_len, ms, msg, len, NULL, 0, &o);
        break;
    }
    out_free(&o);
    return rv == CKR_OK ? 0 : -1;
}

/* Checks the operation once: decrypt what was encrypted, verify what was
 * signed. */
static CK_RV check(bench_ctx *c, const uint8_t *msg, size_t len)
{
    mech_spec ms = op_mech(c->op);
    out_buf o = {0}, back = {0};
    CK_RV rv = CKR_OK;
    switch (c->op) {
    case OP_GCM_1K:
    case OP_GCM_16K:
    case OP_GCM_1M:
    case OP_CBC_1K:
        rv = call_single(c->t, 0, c->key, c->key_len, ms, msg, len, NULL, 0, &o);
        if (rv == CKR_OK)
            rv = call_single(c->t, 1, c->key, c->key_len, ms, o.ptr, o.len, NULL, 0, &back);
        if (rv == CKR_OK && (back.len != len || memcmp(back.ptr, msg, len) != 0))
            rv = CKR_GENERAL_ERROR;
        break;
    case OP_ECDSA_SIGN:
    case OP_ED25519_SIGN:
    case OP_RSA2048_SIGN:
    case OP_RSA3072_SIGN:
    case OP_RSA2048_PSS:
    case OP_RSA3072_PSS:
    case OP_MLDSA65_SIGN:
        rv = call_single(c->t, 2, c->key, c->key_len, ms, msg, len, NULL, 0, &o);
        if (rv == CKR_OK)
            rv = call_single(c->t, 3, c->pub, c->pub_len, ms, msg, len, o.ptr, o.len, &back);
        break;
    default:
        rv = run(c, msg, len) == 0 ? CKR_OK : CKR_GENERAL_ERROR;
        break;
    }
    out_free(&o);
    out_free(&back);
    return rv;
}

static bench_ctx *prepare(bench_target *t, bench_op op, char *why, size_t cap)
{
    if (op == OP_FIND_10K || op == OP_FIND_100K) {
        /* Keystore search is the Store service's, which the pkcs11 target
         * (pkcs11-grep11.so) measures as applications meet it. */
        snprintf(why, cap, "not available (use the pkcs11 target with pkcs11-grep11.so)");
        return NULL;
    }
    bench_ctx *c = calloc(1, sizeof(*c));
    out_buf k = {0}, p = {0};
    CK_RV rv = CKR_OK;
    size_t len = bench_ops[op].msg_len;
    uint8_t *msg = calloc(1, len ? len : 1);
    if (msg)
        bench_message(msg, len);
    if (!c || !msg) {
        free(c);
        free(msg);
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    c->t = t;
    c->op = op;
    switch (op) {
    case OP_HMAC_1K:
        rv = gen_secret(t, CKM_GENERIC_SECRET_KEY_GEN, 32, CKA_SIGN, CKA_VERIFY, &k);
        break;
    case OP_GCM_1K:
    case OP_GCM_16K:
    case OP_GCM_1M:
    case OP_CBC_1K:
        rv = gen_secret(t, CKM_AES_KEY_GEN, 32, CKA_ENCRYPT, CKA_DECRYPT, &k);
        break;
    case OP_ECDSA_SIGN:
    case OP_ECDSA_VERIFY:
    case OP_ED25519_SIGN:
    case OP_RSA2048_SIGN:
    case OP_RSA3072_SIGN:
    case OP_RSA2048_PSS:
    case OP_RSA3072_PSS:
    case OP_MLDSA65_SIGN:
    case OP_MLDSA65_VERIFY:
        rv = gen_pair(t, op, &k, &p);
        break;
    default:
        break;
    }
    c->key = k.ptr;
    c->key_len = k.len;
    c->pub = p.ptr;
    c->pub_len = p.len;
    if (rv == CKR_OK && (op == OP_ECDSA_VERIFY || op == OP_MLDSA65_VERIFY)) {
        out_buf s = {0};
        rv = call_single(t, 2, c->key, c->key_len, op_mech(op), msg, len, NULL, 0, &s);
        c->sig = s.ptr;
        c->sig_len = s.len;
    }
    if (rv == CKR_OK)
        rv = check(c, msg, len);
    free(msg);
    if (rv != CKR_OK) {
        const char *name = g11c_rv_name(rv);
        snprintf(why, cap, "not available (%s)", name ? name : "error");
        release(c);
        return NULL;
    }
    return c;
}

static void close_target(bench_target *t)
{
    if (!t)
        return;
    if (t->conn)
        g11c_close(t->conn);
    if (t->eng)
        engine_destroy(t->eng);
    OPENSSL_cleanse(t->token, sizeof(t->token));
    free(t);
}

const bench_target_ops bench_grep11_client = {"grep11", open_client, prepare,
                                              run,      release,     close_target};
const bench_target_ops bench_grep11_engine = {"engine", open_engine, prepare,
                                              run,      release,     close_target};
