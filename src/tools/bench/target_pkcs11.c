/* Bench target "pkcs11": any PKCS #11 module by path (pkcs11-grep11.so or
 * Debian's SoftHSMv2). Each timing thread opens its own session and makes
 * its own session keys, as an application with one session per thread
 * would. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "grep11/ck_ext.h"
#include "grep11/rv_name.h"

struct bench_target {
    void *lib;
    CK_FUNCTION_LIST_PTR f;
    CK_SLOT_ID slot;
    char pin[128];
    size_t objects;             /* --objects override */
    pthread_mutex_t populating; /* one thread fills the token for the find ops */
};

struct bench_ctx {
    bench_target *t;
    bench_op op;
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE key, pub;
    CK_MECHANISM mech;
    CK_GCM_PARAMS gcm;
    CK_RSA_PKCS_PSS_PARAMS pss;
    uint8_t sig[8192];
    CK_ULONG sig_len;
    uint8_t *out; /* output buffer sized for the op */
    size_t out_cap;
    size_t objects; /* find ops: population searched */
    uint64_t rnd;   /* find ops: which label next */
};

static uint8_t iv[16] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static int open_target(bench_target **out, const bench_options *opt, const char *label)
{
    (void)label;
    if (!opt->module) {
        fprintf(stderr, "grep11-bench: --module PATH is needed for the pkcs11 target\n");
        return -1;
    }
    bench_target *t = calloc(1, sizeof(*t));
    if (!t)
        return -1;
    t->lib = dlopen(opt->module, RTLD_NOW | RTLD_LOCAL);
    CK_C_GetFunctionList get =
        t->lib ? (CK_C_GetFunctionList)dlsym(t->lib, "C_GetFunctionList") : NULL;
    CK_C_INITIALIZE_ARGS init = {.flags = CKF_OS_LOCKING_OK};
    CK_RV rv = get ? get(&t->f) : CKR_GENERAL_ERROR;
    if (rv == CKR_OK)
        rv = t->f->C_Initialize(&init);
    if (rv != CKR_OK) {
        fprintf(stderr, "grep11-bench: cannot load %s (%s)\n", opt->module,
                t->lib ? "C_Initialize failed" : dlerror());
        if (t->lib)
            dlclose(t->lib);
        free(t);
        return -1;
    }
    t->slot = opt->slot;
    t->objects = opt->objects;
    pthread_mutex_init(&t->populating, NULL);
    snprintf(t->pin, sizeof(t->pin), "%s", opt->pin ? opt->pin : "");
    /* Log the user in once: login state is per application, not per session. */
    CK_SESSION_HANDLE s;
    if (t->pin[0] && t->f->C_OpenSession(t->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
                                         &s) == CKR_OK) {
        rv = t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)t->pin, strlen(t->pin));
        if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
            fprintf(stderr, "grep11-bench: C_Login: 0x%lx\n", (unsigned long)rv);
        /* Kept open: closing a module's last session logs the user out. */
    }
    *out = t;
    return 0;
}

static CK_RV gen_secret(bench_ctx *c, CK_MECHANISM_TYPE mech, CK_KEY_TYPE kt, CK_ULONG len,
                        CK_ATTRIBUTE_TYPE use1, CK_ATTRIBUTE_TYPE use2, CK_OBJECT_HANDLE *key)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_MECHANISM m = {mech, NULL, 0};
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_VALUE_LEN, &len, sizeof(len)},
                        {use1, (void *)&yes, 1},
                        {use2, (void *)&yes, 1},
                        {CKA_TOKEN, (void *)&no, 1}};
    return c->t->f->C_GenerateKey(c->s, &m, t, 6, key);
}

static const uint8_t oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t ed25519_name[] = {0x13, 0x0c, 'e', 'd', 'w', 'a', 'r',
                                       'd',  's',  '2', '5', '5', '1', '9'};
static const uint8_t f4[] = {0x01, 0x00, 0x01};

static CK_RV gen_pair(bench_ctx *c)
{
    CK_MECHANISM m = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pt[4], st[3];
    CK_ULONG npt = 0, nst = 0,
             bits = c->op == OP_RSA3072_SIGN || c->op == OP_RSA3072_PSS ? 3072 : 2048;
    CK_ULONG set = CKP_ML_DSA_65;
    pt[npt++] = (CK_ATTRIBUTE){CKA_VERIFY, (void *)&yes, 1};
    pt[npt++] = (CK_ATTRIBUTE){CKA_TOKEN, (void *)&no, 1};
    st[nst++] = (CK_ATTRIBUTE){CKA_SIGN, (void *)&yes, 1};
    st[nst++] = (CK_ATTRIBUTE){CKA_TOKEN, (void *)&no, 1};
    switch (c->op) {
    case OP_EC_KEYGEN:
    case OP_ECDSA_SIGN:
    case OP_ECDSA_VERIFY:
        pt[npt++] = (CK_ATTRIBUTE){CKA_EC_PARAMS, (void *)oid_p256, sizeof(oid_p256)};
        break;
    case OP_ED25519_SIGN:
        /* SoftHSMv2 knows Ed25519 by its printable curve name. */
        m.mechanism = CKM_EC_EDWARDS_KEY_PAIR_GEN;
        pt[npt++] = (CK_ATTRIBUTE){CKA_EC_PARAMS, (void *)ed25519_name, sizeof(ed25519_name)};
        break;
    case OP_MLDSA65_SIGN:
    case OP_MLDSA65_VERIFY:
        m.mechanism = CKM_ML_DSA_KEY_PAIR_GEN;
        pt[npt++] = (CK_ATTRIBUTE){CKA_PARAMETER_SET, &set, sizeof(set)};
        break;
    default:
        m.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
        pt[npt++] = (CK_ATTRIBUTE){CKA_MODULUS_BITS, &bits, sizeof(bits)};
        pt[npt++] = (CK_ATTRIBUTE){CKA_PUBLIC_EXPONENT, (void *)f4, sizeof(f4)};
        break;
    }
    return c->t->f->C_GenerateKeyPair(c->s, &m, pt, npt, st, nst, &c->pub, &c->key);
}

static void set_mech(bench_ctx *c)
{
    memset(&c->mech, 0, sizeof(c->mech));
    switch (c->op) {
    case OP_SHA256_1K:
        c->mech.mechanism = CKM_SHA256;
        break;
    case OP_HMAC_1K:
        c->mech.mechanism = CKM_SHA256_HMAC;
        break;
    case OP_GCM_1K:
    case OP_GCM_16K:
    case OP_GCM_1M:
        c->gcm = (CK_GCM_PARAMS){iv, 12, 96, NULL, 0, 128};
        c->mech = (CK_MECHANISM){CKM_AES_GCM, &c->gcm, sizeof(c->gcm)};
        break;
    case OP_CBC_1K:
        c->mech = (CK_MECHANISM){CKM_AES_CBC, iv, sizeof(iv)};
        break;
    case OP_ECDSA_SIGN:
    case OP_ECDSA_VERIFY:
        c->mech.mechanism = CKM_ECDSA;
        break;
    case OP_ED25519_SIGN:
        c->mech.mechanism = CKM_EDDSA;
        break;
    case OP_RSA2048_SIGN:
    case OP_RSA3072_SIGN:
        c->mech.mechanism = CKM_SHA256_RSA_PKCS;
        break;
    case OP_RSA2048_PSS:
    case OP_RSA3072_PSS:
        c->pss = (CK_RSA_PKCS_PSS_PARAMS){CKM_SHA256, CKG_MGF1_SHA256, 32};
        c->mech = (CK_MECHANISM){CKM_SHA256_RSA_PKCS_PSS, &c->pss, sizeof(c->pss)};
        break;
    case OP_MLDSA65_SIGN:
    case OP_MLDSA65_VERIFY:
        c->mech.mechanism = CKM_ML_DSA;
        break;
    default:
        break;
    }
}

static CK_RV sign(bench_ctx *c, const uint8_t *msg, size_t len, uint8_t *sig, CK_ULONG *slen)
{
    CK_RV rv = c->t->f->C_SignInit(c->s, &c->mech, c->key);
    return rv == CKR_OK ? c->t->f->C_Sign(c->s, (CK_BYTE_PTR)msg, len, sig, slen) : rv;
}

static CK_RV verify(bench_ctx *c, const uint8_t *msg, size_t len, const uint8_t *sig, CK_ULONG slen)
{
    CK_RV rv = c->t->f->C_VerifyInit(c->s, &c->mech, c->pub);
    return rv == CKR_OK ? c->t->f->C_Verify(c->s, (CK_BYTE_PTR)msg, len, (CK_BYTE_PTR)sig, slen)
                        : rv;
}

static CK_RV crypt(bench_ctx *c, int enc, const uint8_t *in, size_t len, uint8_t *out,
                   CK_ULONG *olen)
{
    CK_FUNCTION_LIST_PTR f = c->t->f;
    CK_RV rv =
        enc ? f->C_EncryptInit(c->s, &c->mech, c->key) : f->C_DecryptInit(c->s, &c->mech, c->key);
    if (rv != CKR_OK)
        return rv;
    return enc ? f->C_Encrypt(c->s, (CK_BYTE_PTR)in, len, out, olen)
               : f->C_Decrypt(c->s, (CK_BYTE_PTR)in, len, out, olen);
}

/* ---- FindObjects by label among many token objects ---------------------- */

static void find_label_of(const bench_ctx *c, size_t i, char *out, size_t cap)
{
    if (i == (size_t)-1)
        snprintf(out, cap, "bench-find-%zu-complete", c->objects);
    else
        snprintf(out, cap, "bench-find-%zu-%zu", c->objects, i);
}

/* Objects with the label: their number, at most 2 counted. */
static CK_RV find_label(bench_ctx *c, const char *label, CK_ULONG *found)
{
    CK_FUNCTION_LIST_PTR f = c->t->f;
    CK_ATTRIBUTE t[] = {{CKA_LABEL, (void *)label, strlen(label)}};
    CK_OBJECT_HANDLE h[2];
    CK_RV rv = f->C_FindObjectsInit(c->s, t, 1);
    if (rv != CKR_OK)
        return rv;
    rv = f->C_FindObjects(c->s, h, 2, found);
    CK_RV fin = f->C_FindObjectsFinal(c->s);
    return rv != CKR_OK ? rv : fin;
}

static CK_RV create_data(bench_ctx *c, const char *label)
{
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_OBJECT_HANDLE h;
    static const char app[] = "grep11-bench";
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_TOKEN, (void *)&yes, 1},
                        {CKA_PRIVATE, (void *)&yes, 1},
                        {CKA_APPLICATION, (void *)app, sizeof(app) - 1},
                        {CKA_LABEL, (void *)label, strlen(label)},
                        {CKA_VALUE, (void *)label, strlen(label)}};
    return c->t->f->C_CreateObject(c->s, t, 6, &h);
}

/* The token keeps its population between runs: a final "complete" object
 * says a previous run finished filling it; otherwise the labels that are
 * missing are made now (a half-filled token resumes). */
static CK_RV find_populate(bench_ctx *c)
{
    char label[64];
    CK_ULONG n = 0;
    CK_RV rv;
    pthread_mutex_lock(&c->t->populating);
    find_label_of(c, (size_t)-1, label, sizeof(label));
    rv = find_label(c, label, &n);
    if (rv == CKR_OK && n == 0) {
        fprintf(stderr, "grep11-bench: making %zu token objects for the find ops...\n", c->objects);
        /* A fresh token (no first object) skips the per-label check. */
        find_label_of(c, 0, label, sizeof(label));
        rv = find_label(c, label, &n);
        int resume = rv == CKR_OK && n != 0;
        for (size_t i = 0; i < c->objects && rv == CKR_OK; i++) {
            find_label_of(c, i, label, sizeof(label));
            n = 0;
            if (!resume || (rv = find_label(c, label, &n)) == CKR_OK) {
                if (n == 0)
                    rv = create_data(c, label);
            }
        }
        find_label_of(c, (size_t)-1, label, sizeof(label));
        if (rv == CKR_OK)
            rv = create_data(c, label);
    }
    pthread_mutex_unlock(&c->t->populating);
    return rv;
}

static CK_RV find_one(bench_ctx *c)
{
    char label[64];
    CK_ULONG n = 0;
    /* xorshift: a different object each time, no two threads in step */
    c->rnd ^= c->rnd << 13;
    c->rnd ^= c->rnd >> 7;
    c->rnd ^= c->rnd << 17;
    find_label_of(c, (size_t)(c->rnd % c->objects), label, sizeof(label));
    CK_RV rv = find_label(c, label, &n);
    return rv == CKR_OK && n != 1 ? CKR_GENERAL_ERROR : rv;
}

static int run(bench_ctx *c, const uint8_t *msg, size_t len)
{
    CK_FUNCTION_LIST_PTR f = c->t->f;
    CK_ULONG olen = c->out_cap;
    CK_RV rv;
    switch (c->op) {
    case OP_RANDOM32:
        rv = f->C_GenerateRandom(c->s, c->out, 32);
        break;
    case OP_SHA256_1K:
        rv = f->C_DigestInit(c->s, &c->mech);
        if (rv == CKR_OK)
            rv = f->C_Digest(c->s, (CK_BYTE_PTR)msg, len, c->out, &olen);
        break;
    case OP_AES_KEYGEN: {
        CK_OBJECT_HANDLE k;
        rv = gen_secret(c, CKM_AES_KEY_GEN, CKK_AES, 32, CKA_ENCRYPT, CKA_DECRYPT, &k);
        if (rv == CKR_OK)
            rv = f->C_DestroyObject(c->s, k);
        break;
    }
    case OP_EC_KEYGEN: {
        CK_OBJECT_HANDLE k = c->key, p = c->pub;
        rv = gen_pair(c);
        if (rv == CKR_OK) {
            f->C_DestroyObject(c->s, c->key);
            f->C_DestroyObject(c->s, c->pub);
        }
        c->key = k;
        c->pub = p;
        break;
    }
    case OP_ECDSA_VERIFY:
    case OP_MLDSA65_VERIFY:
        rv = verify(c, msg, len, c->sig, c->sig_len);
        break;
    case OP_FIND_10K:
    case OP_FIND_100K:
        rv = find_one(c);
        break;
    case OP_GCM_1K:
    case OP_GCM_16K:
    case OP_GCM_1M:
    case OP_CBC_1K:
        rv = crypt(c, 1, msg, len, c->out, &olen);
        break;
    default:
        rv = sign(c, msg, len, c->out, &olen);
        break;
    }
    return rv == CKR_OK ? 0 : -1;
}

static void release(bench_ctx *c)
{
    if (!c)
        return;
    if (c->s)
        c->t->f->C_CloseSession(c->s);
    free(c->out);
    free(c);
}

static CK_RV check(bench_ctx *c, const uint8_t *msg, size_t len)
{
    CK_ULONG olen = c->out_cap, blen = c->out_cap;
    uint8_t *back = malloc(c->out_cap);
    CK_RV rv;
    if (!back)
        return CKR_HOST_MEMORY;
    switch (c->op) {
    case OP_GCM_1K:
    case OP_GCM_16K:
    case OP_GCM_1M:
    case OP_CBC_1K:
        rv = crypt(c, 1, msg, len, c->out, &olen);
        if (rv == CKR_OK)
            rv = crypt(c, 0, c->out, olen, back, &blen);
        if (rv == CKR_OK && (blen != len || memcmp(back, msg, len) != 0))
            rv = CKR_GENERAL_ERROR;
        break;
    case OP_ECDSA_SIGN:
    case OP_ED25519_SIGN:
    case OP_RSA2048_SIGN:
    case OP_RSA3072_SIGN:
    case OP_RSA2048_PSS:
    case OP_RSA3072_PSS:
    case OP_MLDSA65_SIGN:
        rv = sign(c, msg, len, c->out, &olen);
        if (rv == CKR_OK)
            rv = verify(c, msg, len, c->out, olen);
        break;
    default:
        rv = run(c, msg, len) == 0 ? CKR_OK : CKR_GENERAL_ERROR;
        break;
    }
    free(back);
    return rv;
}

static bench_ctx *prepare(bench_target *t, bench_op op, char *why, size_t cap)
{
    bench_ctx *c = calloc(1, sizeof(*c));
    size_t len = bench_ops[op].msg_len;
    uint8_t *msg = calloc(1, len ? len : 1);
    if (msg)
        bench_message(msg, len);
    CK_RV rv = c && msg ? CKR_OK : CKR_HOST_MEMORY;
    if (c) {
        c->t = t;
        c->op = op;
        c->objects = t->objects ? t->objects : bench_ops[op].objects;
        c->rnd = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)c;
        c->out_cap = len + 8192;
        c->out = malloc(c->out_cap);
        if (!c->out)
            rv = CKR_HOST_MEMORY;
    }
    if (rv == CKR_OK)
        rv = t->f->C_OpenSession(t->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &c->s);
    if (rv == CKR_OK) {
        set_mech(c);
        switch (op) {
        case OP_HMAC_1K:
            rv = gen_secret(c, CKM_GENERIC_SECRET_KEY_GEN, CKK_GENERIC_SECRET, 32, CKA_SIGN,
                            CKA_VERIFY, &c->key);
            break;
        case OP_GCM_1K:
        case OP_GCM_16K:
        case OP_GCM_1M:
        case OP_CBC_1K:
            rv = gen_secret(c, CKM_AES_KEY_GEN, CKK_AES, 32, CKA_ENCRYPT, CKA_DECRYPT, &c->key);
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
            rv = gen_pair(c);
            break;
        case OP_FIND_10K:
        case OP_FIND_100K:
            rv = find_populate(c);
            break;
        default:
            break;
        }
    }
    if (rv == CKR_OK && (op == OP_ECDSA_VERIFY || op == OP_MLDSA65_VERIFY)) {
        c->sig_len = sizeof(c->sig);
        rv = sign(c, msg, len, c->sig, &c->sig_len);
    }
    if (rv == CKR_OK)
        rv = check(c, msg, len);
    free(msg);
    if (rv != CKR_OK) {
        const char *name = grep11_rv_name(rv);
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
    t->f->C_Finalize(NULL);
    dlclose(t->lib);
    pthread_mutex_destroy(&t->populating);
    free(t);
}

const bench_target_ops bench_pkcs11 = {"pkcs11", open_target, prepare, run, release, close_target};
