/* See schnorr_ref.h. Test code: clarity over speed, nothing constant time. */
#include "schnorr_ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <openssl/evp.h>
#include <secp256k1.h>

#include "testvec.h"

/* The order of secp256k1. */
static const uint8_t K1_N[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};

/* x mod n in place; x < 2^256 < 2n, so one subtraction at most. */
static void k1_reduce(uint8_t x[32])
{
    uint8_t t[32];
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int v = x[i] - K1_N[i] - borrow;
        borrow = v < 0;
        t[i] = (uint8_t)(v & 0xff);
    }
    if (!borrow)
        memcpy(x, t, 32);
}

static int is_zero(const uint8_t x[32])
{
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++)
        acc |= x[i];
    return acc == 0;
}

/* r bytes of commitment q (variant 3: the hash; 5: the hash mod n) and e. */
static int k1_challenge(const secp256k1_context *ctx, unsigned long variant,
                        const secp256k1_pubkey *q, const secp256k1_pubkey *p, const uint8_t *msg,
                        size_t mlen, uint8_t r[32], uint8_t e[32])
{
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    uint8_t o[65];
    size_t ol;
    if (h == NULL || EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(h);
        return -1;
    }
    if (variant == 3) {
        ol = 65;
        secp256k1_ec_pubkey_serialize(ctx, o, &ol, q, SECP256K1_EC_UNCOMPRESSED);
        EVP_DigestUpdate(h, o + 1, 64);
    } else {
        ol = 33;
        secp256k1_ec_pubkey_serialize(ctx, o, &ol, q, SECP256K1_EC_COMPRESSED);
        EVP_DigestUpdate(h, o, 33);
        ol = 33;
        secp256k1_ec_pubkey_serialize(ctx, o, &ol, p, SECP256K1_EC_COMPRESSED);
        EVP_DigestUpdate(h, o, 33);
    }
    EVP_DigestUpdate(h, msg, mlen);
    EVP_DigestFinal_ex(h, r, NULL);
    EVP_MD_CTX_free(h);
    memcpy(e, r, 32);
    k1_reduce(e);
    if (variant != 3)
        memcpy(r, e, 32);
    return is_zero(e) ? -1 : 0;
}

int sref_k1_verify(unsigned long variant, const uint8_t pub[65], const uint8_t *msg, size_t mlen,
                   const uint8_t sig[64])
{
    int ok = -1;
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_pubkey p, cp, sg, q;
    const secp256k1_pubkey *two[2] = {&sg, &cp};
    uint8_t c[32], r2[32], e2[32];

    if (ctx == NULL || !secp256k1_ec_pubkey_parse(ctx, &p, pub, 65))
        goto out;
    ok = 0;
    memcpy(c, sig, 32);
    if (variant != 3 && memcmp(c, K1_N, 32) >= 0)
        goto out; /* COMPR_MULTI: r must be reduced */
    k1_reduce(c);
    /* s in (0, n): exactly what seckey_verify accepts. */
    if (is_zero(c) || !secp256k1_ec_seckey_verify(ctx, sig + 32))
        goto out;
    /* Q' = sG - eP (3) or sG + rP (5). */
    if (variant == 3 && !secp256k1_ec_seckey_negate(ctx, c))
        goto out;
    cp = p;
    if (!secp256k1_ec_pubkey_tweak_mul(ctx, &cp, c) ||
        !secp256k1_ec_pubkey_create(ctx, &sg, sig + 32) ||
        !secp256k1_ec_pubkey_combine(ctx, &q, two, 2))
        goto out; /* infinity */
    if (k1_challenge(ctx, variant, &q, &p, msg, mlen, r2, e2) != 0)
        goto out;
    ok = memcmp(r2, sig, 32) == 0;
out:
    secp256k1_context_destroy(ctx);
    return ok;
}

int sref_k1_point(const uint8_t d[32], uint8_t pub[65])
{
    int rv = -1;
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_pubkey p;
    size_t l = 65;
    if (ctx != NULL && secp256k1_ec_pubkey_create(ctx, &p, d) &&
        secp256k1_ec_pubkey_serialize(ctx, pub, &l, &p, SECP256K1_EC_UNCOMPRESSED) && l == 65)
        rv = 0;
    secp256k1_context_destroy(ctx);
    return rv;
}

int sref_k1_sign(unsigned long variant, const uint8_t d[32], const uint8_t k[32],
                 const uint8_t *msg, size_t mlen, uint8_t sig[64])
{
    int rv = -1;
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_pubkey p, q;
    uint8_t e[32], s[32];

    if (ctx == NULL || !secp256k1_ec_pubkey_create(ctx, &p, d) ||
        !secp256k1_ec_pubkey_create(ctx, &q, k) ||
        k1_challenge(ctx, variant, &q, &p, msg, mlen, sig, e) != 0)
        goto out;
    /* s = k + e·d (3) or k - e·d (5), with the seckey tweaks mod n. */
    memcpy(s, d, 32);
    if (!secp256k1_ec_seckey_tweak_mul(ctx, s, e) ||
        (variant != 3 && !secp256k1_ec_seckey_negate(ctx, s)) ||
        !secp256k1_ec_seckey_tweak_add(ctx, s, k))
        goto out;
    memcpy(sig + 32, s, 32);
    rv = 0;
out:
    secp256k1_context_destroy(ctx);
    return rv;
}

/* Runs the Python reference with the arguments; its first output line in
 * out (if out), its exit status returned (-1: could not run). */
static int py_run(const char *args, char *out, size_t cap)
{
    size_t n = strlen(GREP11_ECSDSA_REF_PY) + strlen(args) + 32;
    char *cmd = malloc(n);
    FILE *f;
    int st;
    if (cmd == NULL)
        return -1;
    snprintf(cmd, n, "python3 %s %s", GREP11_ECSDSA_REF_PY, args);
    f = popen(cmd, "r");
    free(cmd);
    if (f == NULL)
        return -1;
    if (out != NULL && fgets(out, (int)cap, f) == NULL)
        out[0] = 0;
    st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *hex(const uint8_t *p, size_t n)
{
    return testvec_hex_encode(p, n);
}

int sref_py_verify(const char *curve, unsigned long variant, const uint8_t pub[65],
                   const uint8_t *msg, size_t mlen, const uint8_t sig[64])
{
    char *ph = hex(pub, 65), *mh = hex(msg, mlen), *sh = hex(sig, 64), *args = NULL;
    int st = -1;
    size_t n = 512 + 2 * mlen;
    if (ph && mh && sh && (args = malloc(n)) != NULL) {
        int w =
            snprintf(args, n, "verify %s %lu %s %s %s", curve, variant, ph, mlen ? mh : "\"\"", sh);
        if (w > 0 && (size_t)w < n)
            st = py_run(args, NULL, 0);
    }
    free(ph), free(mh), free(sh), free(args);
    return st == 0 ? 1 : st == 1 ? 0 : -1;
}

int sref_py_sign(const char *curve, unsigned long variant, const uint8_t d[32], const uint8_t k[32],
                 const uint8_t *msg, size_t mlen, uint8_t sig[64])
{
    char *dh = hex(d, 32), *kh = hex(k, 32), *mh = hex(msg, mlen), *args = NULL;
    char line[160];
    uint8_t *b = NULL;
    size_t bl = 0, n = 512 + 2 * mlen;
    int rv = -1;
    if (dh && kh && mh && (args = malloc(n)) != NULL) {
        int w =
            snprintf(args, n, "sign %s %lu %s %s %s", curve, variant, dh, kh, mlen ? mh : "\"\"");
        if (w > 0 && (size_t)w < n && py_run(args, line, sizeof(line)) == 0) {
            line[strcspn(line, "\r\n")] = 0;
            b = testvec_hex_decode(line, &bl);
            if (b != NULL && bl == 64) {
                memcpy(sig, b, 64);
                rv = 0;
            }
        }
    }
    free(dh), free(kh), free(mh), free(args), free(b);
    return rv;
}
