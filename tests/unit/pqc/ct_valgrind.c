/* Constant-time check under valgrind memcheck (the "ctgrind" technique):
 * secret inputs are marked undefined, the library (built with
 * PQC_CT_VALGRIND) releases only what the standards make public, and
 * memcheck reports any branch or memory index that still depends on a
 * secret. Run as: valgrind --error-exitcode=1 pqc-ct-check.
 *
 * Covered: ML-DSA/Dilithium signing for every set (key K, s1, s2, t0 and
 * rnd secret), ML-KEM/Kyber key generation (d, z), encapsulation (m) and
 * decapsulation of valid and tampered ciphertexts (dk_PKE, z). ML-DSA key
 * generation is not covered: its s1/s2 rejection sampling branches on
 * secret XOF output by design (FIPS 204 ExpandS), leaking only the number
 * of draws. */
#include <stdio.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "pqc.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

static unsigned passed, failed;

static void check(int ok, const char *what, const char *set)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL %s %s\n", set, what);
    }
}

static void dsa(mldsa_set set)
{
    static uint8_t pk[2592], sk[4896], sig[4627];
    uint8_t seed[96], rnd[64], msg[40];
    const size_t pkl = mldsa_pk_bytes(set), skl = mldsa_sk_bytes(set);
    const size_t sigl = mldsa_sig_bytes(set), trl = mldsa_tr_bytes(set);
    const char *nm = mldsa_set_name(set);
    memset(seed, 0x11 + set, sizeof(seed));
    memset(rnd, 0x77, sizeof(rnd));
    memset(msg, 0x33, sizeof(msg));
    check(mldsa_keygen(set, seed, mldsa_seed_bytes(set), pk, sizeof(pk), sk, sizeof(sk)) == PQC_OK,
          "keygen", nm);
    for (int hedged = 0; hedged < 2; hedged++) {
        /* rho (public seed of A) and tr (hash of pk) stay defined. */
        SECRET(sk + 32, 32);
        SECRET(sk + 64 + trl, skl - 64 - trl);
        SECRET(rnd, sizeof(rnd));
        pqc_rv rv = mldsa_sign(set, sk, skl, msg, sizeof(msg), NULL, 0, hedged ? rnd : NULL,
                               hedged ? mldsa_rnd_bytes(set) : 0, sig, sizeof(sig));
        PUBLIC(&rv, sizeof(rv));
        PUBLIC(sig, sigl);
        PUBLIC(sk, skl);
        PUBLIC(rnd, sizeof(rnd));
        check(rv == PQC_OK &&
                  mldsa_verify(set, pk, pkl, msg, sizeof(msg), NULL, 0, sig, sigl) == PQC_OK,
              hedged ? "hedged sign" : "deterministic sign", nm);
    }
}

static void kem(mlkem_set set)
{
    static uint8_t ek[1568], dk[3168], ct[1568];
    uint8_t seed[64], m[32], ss[32], ss2[32];
    const size_t ekl = mlkem_ek_bytes(set), dkl = mlkem_dk_bytes(set), cl = mlkem_ct_bytes(set);
    const char *nm = mlkem_set_name(set);
    memset(seed, 0x5A + set, sizeof(seed));
    memset(m, 0xA5, sizeof(m));

    SECRET(seed, sizeof(seed));
    pqc_rv rv = mlkem_keygen(set, seed, 64, ek, sizeof(ek), dk, sizeof(dk));
    PUBLIC(&rv, sizeof(rv));
    PUBLIC(ek, ekl);
    PUBLIC(dk, dkl);
    check(rv == PQC_OK, "keygen", nm);

    SECRET(m, sizeof(m));
    rv = mlkem_encaps(set, ek, ekl, m, 32, ct, sizeof(ct), ss, sizeof(ss));
    PUBLIC(&rv, sizeof(rv));
    PUBLIC(ct, cl);
    PUBLIC(ss, sizeof(ss));
    check(rv == PQC_OK, "encaps", nm);

    for (int tamper = 0; tamper < 2; tamper++) {
        if (tamper)
            ct[7] ^= 0x10;
        /* dk_PKE and z secret; the embedded ek and H(ek) are public. */
        SECRET(dk, 384u * (unsigned)((dkl - 96) / 768));
        SECRET(dk + dkl - 32, 32);
        rv = mlkem_decaps(set, dk, dkl, ct, cl, ss2, sizeof(ss2));
        PUBLIC(&rv, sizeof(rv));
        PUBLIC(dk, dkl);
        PUBLIC(ss2, sizeof(ss2));
        check(rv == PQC_OK && (memcmp(ss, ss2, 32) == 0) == !tamper,
              tamper ? "decaps (implicit rejection)" : "decaps", nm);
    }
}

int main(void)
{
    const mldsa_set ds[] = {MLDSA_44,       MLDSA_65,       MLDSA_87,       DILITHIUM_R3_2,
                            DILITHIUM_R3_3, DILITHIUM_R3_5, DILITHIUM_R2_65};
    const mlkem_set ks[] = {MLKEM_512, MLKEM_768, MLKEM_1024, KYBER_R2_768, KYBER_R2_1024};
    for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++)
        dsa(ds[i]);
    for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++)
        kem(ks[i]);
    printf("pqc_ct_valgrind: %u passed, %u failed, 0 skipped (secret-dependence is reported "
           "by valgrind)\n",
           passed, failed);
    if (!RUNNING_ON_VALGRIND)
        printf("  note: not running under valgrind, so only functional results were checked\n");
    return failed || passed == 0;
}
