/* Negative and API-contract tests: flipped signature bits, wrong context,
 * message and parameter set, malformed keys of each size, the streaming mu
 * state (including a restored copy), HashML-DSA with every pre-hash, the
 * unsupported round-2 (8,7) set, and ML-KEM implicit rejection (a tampered
 * ciphertext must give J(z || c), with no error). Each check is one case in
 * the per-file count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pqc.h"
#include "pqc_testutil.h"

static tcount tc;
static long check_id;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        check_id++;                                                                                \
        if (cond)                                                                                  \
            tc_pass(&tc);                                                                          \
        else                                                                                       \
            tc_fail(&tc, check_id, __VA_ARGS__);                                                   \
    } while (0)

static const mldsa_set all_dsa[] = {MLDSA_44,       MLDSA_65,       MLDSA_87,       DILITHIUM_R3_2,
                                    DILITHIUM_R3_3, DILITHIUM_R3_5, DILITHIUM_R2_65};
#define NDSA (sizeof(all_dsa) / sizeof(all_dsa[0]))

static int is_fips(mldsa_set s)
{
    return s == MLDSA_44 || s == MLDSA_65 || s == MLDSA_87;
}

typedef struct {
    uint8_t pk[2592], sk[4896], sig[4627];
} dsa_keys;

/* Layout facts the tests need to aim a corruption at one field. */
typedef struct {
    unsigned k, l, eta_bits;
} dims;

static dims dims_of(mldsa_set s)
{
    switch (s) {
    case MLDSA_44:
    case DILITHIUM_R3_2:
        return (dims){4, 4, 3};
    case MLDSA_65:
    case DILITHIUM_R3_3:
        return (dims){6, 5, 4};
    case DILITHIUM_R2_65:
        return (dims){6, 5, 3};
    default:
        return (dims){8, 7, 3};
    }
}

static const uint8_t msg[] = "grep11 tamper test message";
static const uint8_t ctx[] = "grep11-ctx";

static void make_keys(mldsa_set set, dsa_keys *k)
{
    uint8_t seed[96];
    for (size_t i = 0; i < sizeof(seed); i++)
        seed[i] = (uint8_t)(i * 7 + set);
    assert_int_equal(
        mldsa_keygen(set, seed, mldsa_seed_bytes(set), k->pk, sizeof(k->pk), k->sk, sizeof(k->sk)),
        PQC_OK);
    size_t cl = is_fips(set) ? sizeof(ctx) : 0;
    assert_int_equal(mldsa_sign(set, k->sk, mldsa_sk_bytes(set), msg, sizeof(msg), ctx, cl, NULL, 0,
                                k->sig, sizeof(k->sig)),
                     PQC_OK);
}

static pqc_rv verify_default(mldsa_set set, const uint8_t *pk, const uint8_t *sig)
{
    size_t cl = is_fips(set) ? sizeof(ctx) : 0;
    return mldsa_verify(set, pk, mldsa_pk_bytes(set), msg, sizeof(msg), ctx, cl, sig,
                        mldsa_sig_bytes(set));
}

static void dsa_tamper(void **state)
{
    (void)state;
    static dsa_keys k;
    uint8_t sig[4627], big_ctx[256];
    memset(big_ctx, 'A', sizeof(big_ctx));

    for (size_t si = 0; si < NDSA; si++) {
        mldsa_set set = all_dsa[si];
        const size_t pkl = mldsa_pk_bytes(set), skl = mldsa_sk_bytes(set);
        const size_t sigl = mldsa_sig_bytes(set);
        const char *nm = mldsa_set_name(set);
        make_keys(set, &k);
        CHECK(verify_default(set, k.pk, k.sig) == PQC_OK, "%s: genuine signature", nm);
        CHECK(mldsa_sig_check(set, k.sig, sigl) == PQC_OK, "%s: sig_check", nm);

        /* Flipped bits across the whole signature, first and last bytes
         * included: never accepted, and reported as malformed or failed. */
        unsigned bad = 0;
        for (size_t pos = 0; pos < sigl; pos += (pos < 2 || pos > sigl - 3) ? 1 : sigl / 61) {
            memcpy(sig, k.sig, sigl);
            sig[pos] ^= (uint8_t)(1u << (pos % 8));
            pqc_rv rv = verify_default(set, k.pk, sig);
            if (rv != PQC_ERR_VERIFY_FAILED && rv != PQC_ERR_BAD_SIGNATURE)
                bad++;
        }
        CHECK(bad == 0, "%s: %u flipped-bit signatures not rejected", nm, bad);

        /* Wrong message and wrong/oversized context. */
        CHECK(mldsa_verify(set, k.pk, pkl, msg, sizeof(msg) - 1, is_fips(set) ? ctx : NULL,
                           is_fips(set) ? sizeof(ctx) : 0, k.sig, sigl) == PQC_ERR_VERIFY_FAILED,
              "%s: wrong message", nm);
        if (is_fips(set)) {
            CHECK(mldsa_verify(set, k.pk, pkl, msg, sizeof(msg), ctx, sizeof(ctx) - 1, k.sig,
                               sigl) == PQC_ERR_VERIFY_FAILED,
                  "%s: wrong context", nm);
            CHECK(mldsa_verify(set, k.pk, pkl, msg, sizeof(msg), NULL, 0, k.sig, sigl) ==
                      PQC_ERR_VERIFY_FAILED,
                  "%s: missing context", nm);
            memset(sig, 0x55, sizeof(sig));
            pqc_rv crv = mldsa_sign(set, k.sk, skl, msg, sizeof(msg), big_ctx, 256, NULL, 0, sig,
                                    sizeof(sig));
            unsigned nz = 0;
            for (size_t i = 0; i < sigl; i++)
                nz |= sig[i];
            CHECK(crv == PQC_ERR_CONTEXT_TOO_LONG && nz == 0,
                  "%s: sign with 256-byte context (rv %d, output cleared %d)", nm, crv, nz == 0);
            CHECK(mldsa_verify(set, k.pk, pkl, msg, sizeof(msg), big_ctx, 256, k.sig, sigl) ==
                      PQC_ERR_CONTEXT_TOO_LONG,
                  "%s: verify with 256-byte context", nm);
            CHECK(mldsa_sign(set, k.sk, skl, msg, sizeof(msg), big_ctx, 255, NULL, 0, sig,
                             sizeof(sig)) == PQC_OK &&
                      mldsa_verify(set, k.pk, pkl, msg, sizeof(msg), big_ctx, 255, sig, sigl) ==
                          PQC_OK,
                  "%s: 255-byte context works", nm);
        } else {
            CHECK(mldsa_sign(set, k.sk, skl, msg, sizeof(msg), ctx, sizeof(ctx), NULL, 0, sig,
                             sizeof(sig)) == PQC_ERR_BAD_PARAM,
                  "%s: legacy set rejects a context", nm);
            CHECK(mldsa_hash_sign(set, k.sk, skl, PQC_HASH_SHA256, msg, sizeof(msg), NULL, 0, NULL,
                                  0, sig, sizeof(sig)) == PQC_ERR_BAD_PARAM,
                  "%s: legacy set has no HashML-DSA", nm);
        }

        /* The same signature under every other set: wrong sizes are length
         * errors; equal sizes (ML-DSA-44 vs round-3 Dilithium2) must not
         * verify. */
        for (size_t oi = 0; oi < NDSA; oi++) {
            mldsa_set o = all_dsa[oi];
            if (o == set)
                continue;
            pqc_rv rv = mldsa_verify(o, k.pk, pkl, msg, sizeof(msg), NULL, 0, k.sig, sigl);
            int same = mldsa_pk_bytes(o) == pkl && mldsa_sig_bytes(o) == sigl;
            CHECK(same ? rv == PQC_ERR_VERIFY_FAILED : rv == PQC_ERR_BAD_LENGTH,
                  "%s under %s: rv %d", nm, mldsa_set_name(o), rv);
        }

        /* Malformed keys and buffers of each size. */
        CHECK(mldsa_pk_check(set, k.pk, pkl) == PQC_OK && mldsa_sk_check(set, k.sk, skl) == PQC_OK,
              "%s: genuine keys pass checks", nm);
        CHECK(mldsa_pk_check(set, k.pk, pkl - 1) == PQC_ERR_BAD_LENGTH &&
                  mldsa_pk_check(set, k.pk, pkl + 1) == PQC_ERR_BAD_LENGTH,
              "%s: pk length", nm);
        CHECK(mldsa_sk_check(set, k.sk, skl - 1) == PQC_ERR_BAD_LENGTH &&
                  mldsa_sk_check(set, k.sk, skl + 1) == PQC_ERR_BAD_LENGTH,
              "%s: sk length", nm);
        CHECK(mldsa_sig_check(set, k.sig, sigl - 1) == PQC_ERR_BAD_LENGTH &&
                  mldsa_sig_check(set, k.sig, sigl + 1) == PQC_ERR_BAD_LENGTH,
              "%s: sig length", nm);
        CHECK(mldsa_verify(set, k.pk, pkl + 1, msg, sizeof(msg), NULL, 0, k.sig, sigl) ==
                  PQC_ERR_BAD_LENGTH,
              "%s: verify with long pk", nm);
        CHECK(mldsa_sign(set, k.sk, skl - 1, msg, sizeof(msg), NULL, 0, NULL, 0, sig,
                         sizeof(sig)) == PQC_ERR_BAD_LENGTH,
              "%s: sign with short sk", nm);
        CHECK(mldsa_sign(set, k.sk, skl, msg, sizeof(msg), NULL, 0, NULL, 0, sig, sigl - 1) ==
                  PQC_ERR_BAD_LENGTH,
              "%s: small signature buffer", nm);
        CHECK(mldsa_sign(set, k.sk, skl, msg, sizeof(msg), NULL, 0, sig, 5, sig, sizeof(sig)) ==
                  PQC_ERR_BAD_LENGTH,
              "%s: wrong rnd length", nm);

        /* s1 / s2 coefficient out of [-eta, eta]: the first packed value of
         * each vector set to its all-ones pattern (7 or 15 > 2 eta). */
        static uint8_t bsk[4896];
        const dims dm = dims_of(set);
        const size_t eta_bytes = 32u * dm.eta_bits;
        const size_t off_s1 = 64 + mldsa_tr_bytes(set);
        for (int which = 0; which < 2; which++) {
            memcpy(bsk, k.sk, skl);
            size_t off = off_s1 + (which ? dm.l * eta_bytes : 0);
            bsk[off] |= dm.eta_bits == 4 ? 0x0F : 0x07;
            CHECK(mldsa_sk_check(set, bsk, skl) == PQC_ERR_BAD_KEY, "%s: s%d out of range", nm,
                  which + 1);
            memset(sig, 0x55, sizeof(sig));
            pqc_rv rv =
                mldsa_sign(set, bsk, skl, msg, sizeof(msg), NULL, 0, NULL, 0, sig, sizeof(sig));
            unsigned nz = 0;
            for (size_t i = 0; i < sigl; i++)
                nz |= sig[i];
            CHECK(rv == PQC_ERR_BAD_KEY && nz == 0, "%s: signing with bad s%d (rv %d)", nm,
                  which + 1, rv);
        }
        /* t0 and tr are not range-limited, but must match s1/s2. */
        uint8_t rpk[2592];
        CHECK(mldsa_pk_from_sk(set, k.sk, skl, rpk, sizeof(rpk)) == PQC_OK &&
                  !memcmp(rpk, k.pk, pkl),
              "%s: pk_from_sk", nm);
        memcpy(bsk, k.sk, skl);
        bsk[skl - 1] ^= 1; /* last t0 byte */
        CHECK(mldsa_pk_from_sk(set, bsk, skl, rpk, sizeof(rpk)) == PQC_ERR_BAD_KEY,
              "%s: pk_from_sk with altered t0", nm);
        memcpy(bsk, k.sk, skl);
        bsk[64] ^= 0x80; /* first tr byte */
        CHECK(mldsa_pk_from_sk(set, bsk, skl, rpk, sizeof(rpk)) == PQC_ERR_BAD_KEY,
              "%s: pk_from_sk with altered tr", nm);

        /* Hedged vs deterministic. */
        uint8_t zero[64] = {0}, rnd[64], sig2[4627];
        memset(rnd, 0xC3, sizeof(rnd));
        size_t rl = mldsa_rnd_bytes(set);
        CHECK(mldsa_sign(set, k.sk, skl, msg, sizeof(msg), NULL, 0, zero, rl, sig, sizeof(sig)) ==
                      PQC_OK &&
                  mldsa_sign(set, k.sk, skl, msg, sizeof(msg), NULL, 0, NULL, 0, sig2,
                             sizeof(sig2)) == PQC_OK &&
                  !memcmp(sig, sig2, sigl),
              "%s: zero rnd is deterministic", nm);
        CHECK(mldsa_sign(set, k.sk, skl, msg, sizeof(msg), NULL, 0, rnd, rl, sig2, sizeof(sig2)) ==
                      PQC_OK &&
                  memcmp(sig, sig2, sigl) &&
                  mldsa_verify(set, k.pk, pkl, msg, sizeof(msg), NULL, 0, sig2, sigl) == PQC_OK,
              "%s: hedged signature differs and verifies", nm);

        /* Hint encoding: make the first cumulative count exceed omega. */
        memcpy(sig, k.sig, sigl);
        size_t hoff = sigl - (set == DILITHIUM_R2_65 ? 40 : 0) - dm.k; /* first row count */
        sig[hoff] = 0xFF;
        CHECK(mldsa_sig_check(set, sig, sigl) == PQC_ERR_BAD_SIGNATURE &&
                  verify_default(set, k.pk, sig) == PQC_ERR_BAD_SIGNATURE,
              "%s: hint count above omega", nm);
    }
}

static void dsa_mu_stream(void **state)
{
    (void)state;
    static dsa_keys k;
    for (size_t si = 0; si < NDSA; si++) {
        mldsa_set set = all_dsa[si];
        const char *nm = mldsa_set_name(set);
        size_t cl = is_fips(set) ? sizeof(ctx) : 0, mul = mldsa_mu_bytes(set);
        uint8_t mu1[64], mu2[64], tr[64], sig[4627];
        mldsa_mu_ctx a, b;
        make_keys(set, &k);

        CHECK(mldsa_mu_init_pk(&a, set, k.pk, mldsa_pk_bytes(set), ctx, cl) == PQC_OK &&
                  mldsa_mu_update(&a, msg, 5) == PQC_OK &&
                  mldsa_mu_update(&a, msg + 5, sizeof(msg) - 5) == PQC_OK &&
                  mldsa_mu_final(&a, mu1, sizeof(mu1)) == PQC_OK,
              "%s: streamed mu from pk", nm);
        CHECK(mldsa_mu_init_sk(&b, set, k.sk, mldsa_sk_bytes(set), ctx, cl) == PQC_OK &&
                  mldsa_mu_update(&b, msg, sizeof(msg)) == PQC_OK &&
                  mldsa_mu_final(&b, mu2, sizeof(mu2)) == PQC_OK && !memcmp(mu1, mu2, mul),
              "%s: mu from sk equals mu from pk", nm);
        CHECK(mldsa_sign_mu(set, k.sk, mldsa_sk_bytes(set), mu1, mul, NULL, 0, sig, sizeof(sig)) ==
                      PQC_OK &&
                  !memcmp(sig, k.sig, mldsa_sig_bytes(set)),
              "%s: sign_mu equals sign", nm);
        CHECK(mldsa_mu_final(&a, mu2, sizeof(mu2)) == PQC_ERR_STATE &&
                  mldsa_mu_update(&a, msg, 1) == PQC_ERR_STATE,
              "%s: context unusable after final", nm);

        /* Internal form with tr = H(pk), fed the whole M' by the caller. */
        memcpy(tr, k.sk + 64, mldsa_tr_bytes(set));
        uint8_t mprime[2 + sizeof(ctx) + sizeof(msg)];
        size_t ml = 0;
        if (is_fips(set)) {
            mprime[ml++] = 0;
            mprime[ml++] = (uint8_t)sizeof(ctx);
            memcpy(mprime + ml, ctx, sizeof(ctx));
            ml += sizeof(ctx);
        }
        memcpy(mprime + ml, msg, sizeof(msg));
        ml += sizeof(msg);
        CHECK(mldsa_mu_init_internal(&a, set, tr, mldsa_tr_bytes(set)) == PQC_OK &&
                  mldsa_mu_update(&a, mprime, ml) == PQC_OK &&
                  mldsa_mu_final(&a, mu2, sizeof(mu2)) == PQC_OK && !memcmp(mu1, mu2, mul),
              "%s: internal mu over M'", nm);
        CHECK(mldsa_verify_internal(set, k.pk, mldsa_pk_bytes(set), mprime, ml, k.sig,
                                    mldsa_sig_bytes(set)) == PQC_OK,
              "%s: verify_internal over M'", nm);

        /* Restored-but-corrupted states are refused, not trusted. */
        CHECK(mldsa_mu_init(&a, set, tr, mldsa_tr_bytes(set), ctx, cl) == PQC_OK, "%s: init", nm);
        b = a;
        b.magic ^= 1;
        CHECK(mldsa_mu_update(&b, msg, 1) == PQC_ERR_STATE, "%s: bad magic", nm);
        b = a;
        b.ks.pos = 4000;
        CHECK(mldsa_mu_update(&b, msg, 1) == PQC_ERR_STATE, "%s: bad sponge position", nm);
        b = a;
        b.set = 77;
        CHECK(mldsa_mu_final(&b, mu2, sizeof(mu2)) == PQC_ERR_STATE, "%s: bad set", nm);
        CHECK(mldsa_mu_final(&a, mu2, mul - 1) == PQC_ERR_BAD_LENGTH, "%s: small mu buffer", nm);
        CHECK(mldsa_mu_init(&a, set, tr, mldsa_tr_bytes(set) - 1, NULL, 0) == PQC_ERR_BAD_LENGTH,
              "%s: tr length", nm);
    }
}

static void dsa_prehash(void **state)
{
    (void)state;
    static dsa_keys k;
    const pqc_hash hs[] = {PQC_HASH_SHA224,   PQC_HASH_SHA256,     PQC_HASH_SHA384,
                           PQC_HASH_SHA512,   PQC_HASH_SHA512_224, PQC_HASH_SHA512_256,
                           PQC_HASH_SHA3_224, PQC_HASH_SHA3_256,   PQC_HASH_SHA3_384,
                           PQC_HASH_SHA3_512, PQC_HASH_SHAKE128,   PQC_HASH_SHAKE256};
    const mldsa_set set = MLDSA_65;
    const size_t pkl = mldsa_pk_bytes(set), skl = mldsa_sk_bytes(set), sigl = mldsa_sig_bytes(set);
    uint8_t sig[4627], dig[64], mu[64];
    make_keys(set, &k);
    for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
        pqc_hash other = hs[(i + 1) % (sizeof(hs) / sizeof(hs[0]))];
        CHECK(mldsa_hash_sign(set, k.sk, skl, hs[i], msg, sizeof(msg), ctx, sizeof(ctx), NULL, 0,
                              sig, sizeof(sig)) == PQC_OK &&
                  mldsa_hash_verify(set, k.pk, pkl, hs[i], msg, sizeof(msg), ctx, sizeof(ctx), sig,
                                    sigl) == PQC_OK,
              "prehash %d roundtrip", hs[i]);
        CHECK(mldsa_hash_verify(set, k.pk, pkl, other, msg, sizeof(msg), ctx, sizeof(ctx), sig,
                                sigl) == PQC_ERR_VERIFY_FAILED,
              "prehash %d verified under another hash", hs[i]);
        CHECK(mldsa_verify(set, k.pk, pkl, msg, sizeof(msg), ctx, sizeof(ctx), sig, sigl) ==
                  PQC_ERR_VERIFY_FAILED,
              "prehash %d verified as pure", hs[i]);
        /* Digest path: the engine may stream PH itself and hand us PH(M). */
        CHECK(pqc_prehash(hs[i], msg, sizeof(msg), dig, sizeof(dig)) == PQC_OK &&
                  mldsa_prehash_mu(set, k.sk + 64, 64, ctx, sizeof(ctx), hs[i], dig,
                                   pqc_hash_bytes(hs[i]), mu, sizeof(mu)) == PQC_OK &&
                  mldsa_verify_mu(set, k.pk, pkl, mu, 64, sig, sigl) == PQC_OK,
              "prehash %d via digest and mu", hs[i]);
        CHECK(mldsa_prehash_mu(set, k.sk + 64, 64, ctx, sizeof(ctx), hs[i], dig,
                               pqc_hash_bytes(hs[i]) - 1, mu, sizeof(mu)) == PQC_ERR_BAD_LENGTH,
              "prehash %d wrong digest length", hs[i]);
    }
    CHECK(mldsa_hash_sign(set, k.sk, skl, (pqc_hash)99, msg, sizeof(msg), NULL, 0, NULL, 0, sig,
                          sizeof(sig)) == PQC_ERR_BAD_PARAM,
          "unknown pre-hash");
}

static void dsa_unsupported(void **state)
{
    (void)state;
    uint8_t buf[8192] = {0};
    CHECK(mldsa_pk_bytes(DILITHIUM_R2_87) == 0 && mldsa_sig_bytes(DILITHIUM_R2_87) == 0,
          "r2 (8,7) has no sizes");
    CHECK(mldsa_keygen(DILITHIUM_R2_87, buf, 96, buf, sizeof(buf), buf, sizeof(buf)) ==
              PQC_ERR_UNSUPPORTED,
          "r2 (8,7) keygen");
    CHECK(mldsa_sign(DILITHIUM_R2_87, buf, 4000, buf, 1, NULL, 0, NULL, 0, buf, sizeof(buf)) ==
              PQC_ERR_UNSUPPORTED,
          "r2 (8,7) sign");
    CHECK(mldsa_verify(DILITHIUM_R2_87, buf, 2000, buf, 1, NULL, 0, buf, 4668) ==
              PQC_ERR_UNSUPPORTED,
          "r2 (8,7) verify");
    CHECK(mldsa_keygen((mldsa_set)99, buf, 32, buf, sizeof(buf), buf, sizeof(buf)) ==
              PQC_ERR_BAD_PARAM,
          "unknown set");
    CHECK(mldsa_keygen(MLDSA_44, buf, 31, buf, sizeof(buf), buf, sizeof(buf)) == PQC_ERR_BAD_LENGTH,
          "short seed");
    CHECK(mldsa_keygen(MLDSA_44, NULL, 32, buf, sizeof(buf), buf, sizeof(buf)) == PQC_ERR_BAD_PARAM,
          "NULL seed");
    CHECK(pqc_rv_str(PQC_ERR_VERIFY_FAILED) && pqc_rv_str((pqc_rv)1234), "rv strings");
}

static const mlkem_set all_kem[] = {MLKEM_512, MLKEM_768, MLKEM_1024, KYBER_R2_768, KYBER_R2_1024};

/* The rejection key the spec prescribes for a ciphertext c. */
static void expected_reject(mlkem_set set, const uint8_t *dk, const uint8_t *c, uint8_t out[32])
{
    const size_t dkl = mlkem_dk_bytes(set), cl = mlkem_ct_bytes(set);
    const uint8_t *z = dk + dkl - 32;
    uint8_t buf[32 + 1568];
    memcpy(buf, z, 32);
    if (set == KYBER_R2_768 || set == KYBER_R2_1024) {
        sha3_256(buf + 32, c, cl);
        shake256(out, 32, buf, 64);
    } else {
        memcpy(buf + 32, c, cl);
        shake256(out, 32, buf, 32 + cl);
    }
}

static void kem_tamper(void **state)
{
    (void)state;
    for (size_t si = 0; si < sizeof(all_kem) / sizeof(all_kem[0]); si++) {
        mlkem_set set = all_kem[si];
        const char *nm = mlkem_set_name(set);
        const size_t ekl = mlkem_ek_bytes(set), dkl = mlkem_dk_bytes(set), cl = mlkem_ct_bytes(set);
        uint8_t seed[64], m[32], ek[1568], dk[3168], c[1568], c2[1568], ss[32], ss2[32], rej[32];
        uint8_t bad[3200];
        for (int i = 0; i < 64; i++)
            seed[i] = (uint8_t)(3 * i + set);
        memset(m, 0x42, sizeof(m));
        assert_int_equal(mlkem_keygen(set, seed, 64, ek, sizeof(ek), dk, sizeof(dk)), PQC_OK);
        assert_int_equal(mlkem_encaps(set, ek, ekl, m, 32, c, sizeof(c), ss, sizeof(ss)), PQC_OK);
        CHECK(mlkem_decaps(set, dk, dkl, c, cl, ss2, sizeof(ss2)) == PQC_OK && !memcmp(ss, ss2, 32),
              "%s: roundtrip", nm);

        /* Tampered ciphertexts: PQC_OK and exactly the rejection key. */
        unsigned badrej = 0;
        for (size_t pos = 0; pos < cl; pos += cl / 23) {
            memcpy(c2, c, cl);
            c2[pos] ^= (uint8_t)(1u << (pos % 8));
            expected_reject(set, dk, c2, rej);
            pqc_rv rv = mlkem_decaps(set, dk, dkl, c2, cl, ss2, sizeof(ss2));
            if (rv != PQC_OK || memcmp(ss2, rej, 32) || !memcmp(ss2, ss, 32))
                badrej++;
        }
        CHECK(badrej == 0, "%s: %u tampered ciphertexts not implicitly rejected", nm, badrej);

        /* Encapsulation key with an unreduced coefficient (q itself). */
        memcpy(bad, ek, ekl);
        bad[0] = 0x01;
        bad[1] = (uint8_t)((bad[1] & 0xF0) | 0x0D); /* 12-bit value 0xD01 = 3329 */
        memset(ss2, 0x55, sizeof(ss2));
        CHECK(mlkem_ek_check(set, bad, ekl) == PQC_ERR_BAD_KEY &&
                  mlkem_encaps(set, bad, ekl, m, 32, c2, sizeof(c2), ss2, sizeof(ss2)) ==
                      PQC_ERR_BAD_KEY &&
                  ss2[0] == 0 && ss2[31] == 0 && c2[0] == 0,
              "%s: unreduced ek", nm);
        CHECK(mlkem_ek_check(set, ek, ekl) == PQC_OK && mlkem_dk_check(set, dk, dkl) == PQC_OK,
              "%s: genuine keys pass", nm);
        CHECK(mlkem_ek_check(set, ek, ekl - 1) == PQC_ERR_BAD_LENGTH &&
                  mlkem_ek_check(set, ek, ekl + 1) == PQC_ERR_BAD_LENGTH &&
                  mlkem_encaps(set, ek, ekl + 1, m, 32, c2, sizeof(c2), ss2, 32) ==
                      PQC_ERR_BAD_LENGTH,
              "%s: ek length", nm);

        /* Decapsulation key: hash of the embedded ek, and a changed ek. */
        memcpy(bad, dk, dkl);
        bad[dkl - 64] ^= 1; /* H(ek) */
        CHECK(mlkem_dk_check(set, bad, dkl) == PQC_ERR_BAD_KEY &&
                  mlkem_decaps(set, bad, dkl, c, cl, ss2, 32) == PQC_ERR_BAD_KEY,
              "%s: dk with wrong H(ek)", nm);
        memcpy(bad, dk, dkl);
        bad[dkl - 96] ^= 1; /* last byte of the embedded ek (rho) */
        CHECK(mlkem_dk_check(set, bad, dkl) == PQC_ERR_BAD_KEY, "%s: dk with altered ek", nm);
        CHECK(mlkem_dk_check(set, dk, dkl - 1) == PQC_ERR_BAD_LENGTH &&
                  mlkem_decaps(set, dk, dkl + 1, c, cl, ss2, 32) == PQC_ERR_BAD_LENGTH,
              "%s: dk length", nm);
        CHECK(mlkem_decaps(set, dk, dkl, c, cl - 1, ss2, 32) == PQC_ERR_BAD_LENGTH &&
                  mlkem_decaps(set, dk, dkl, c, cl + 1, ss2, 32) == PQC_ERR_BAD_LENGTH,
              "%s: ciphertext length", nm);
        CHECK(mlkem_keygen(set, seed, 63, ek, sizeof(ek), dk, sizeof(dk)) == PQC_ERR_BAD_LENGTH &&
                  mlkem_encaps(set, ek, ekl, m, 31, c2, sizeof(c2), ss2, 32) ==
                      PQC_ERR_BAD_LENGTH &&
                  mlkem_encaps(set, ek, ekl, m, 32, c2, cl - 1, ss2, 32) == PQC_ERR_BAD_LENGTH,
              "%s: seed/m/output lengths", nm);

        /* Same-size key under the other generation (ML-KEM vs round 2):
         * no error, but a different (rejection) secret. */
        mlkem_set twin = set == MLKEM_768       ? KYBER_R2_768
                         : set == KYBER_R2_768  ? MLKEM_768
                         : set == MLKEM_1024    ? KYBER_R2_1024
                         : set == KYBER_R2_1024 ? MLKEM_1024
                                                : MLKEM_512;
        if (twin != set) {
            CHECK(mlkem_decaps(twin, dk, dkl, c, cl, ss2, 32) == PQC_OK && memcmp(ss2, ss, 32),
                  "%s: decaps under %s", nm, mlkem_set_name(twin));
        }
    }
    uint8_t b[64] = {0};
    CHECK(mlkem_keygen((mlkem_set)42, b, 64, b, 64, b, 64) == PQC_ERR_BAD_PARAM, "unknown kem set");
    CHECK(mlkem_ek_bytes((mlkem_set)42) == 0, "unknown kem set size");
}

static int setup(void **state)
{
    (void)state;
    tc_init(&tc, "pqc_tamper");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return tc_report(&tc) ? 0 : -1;
}

static void all_checks_passed(void **state)
{
    (void)state;
    assert_int_equal(tc.fail, 0);
    assert_true(tc.pass > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dsa_tamper),  cmocka_unit_test(dsa_mu_stream),
        cmocka_unit_test(dsa_prehash), cmocka_unit_test(dsa_unsupported),
        cmocka_unit_test(kem_tamper),  cmocka_unit_test(all_checks_passed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
