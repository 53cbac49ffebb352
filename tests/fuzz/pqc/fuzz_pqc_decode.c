/* libFuzzer target for everything in src/pqc that parses untrusted bytes:
 * ML-DSA public/secret key and signature decoders, verification (all
 * interfaces), a restored mu streaming state, ML-KEM ek/dk checks,
 * encapsulation and decapsulation. Input layout: byte 0 picks the set,
 * byte 1 the operation, the rest is split into the operation's inputs (a
 * short input simply yields length errors, which are also worth running).
 * The only requirement is that nothing crashes or trips a sanitizer. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pqc.h"

static const mldsa_set dsa_sets[] = {MLDSA_44,        MLDSA_65,       MLDSA_87,
                                     DILITHIUM_R3_2,  DILITHIUM_R3_3, DILITHIUM_R3_5,
                                     DILITHIUM_R2_65, DILITHIUM_R2_87};
static const mlkem_set kem_sets[] = {MLKEM_512, MLKEM_768, MLKEM_1024, KYBER_R2_768, KYBER_R2_1024};

/* Takes n bytes (or what is left) from the cursor. */
static const uint8_t *take(const uint8_t **p, size_t *left, size_t n, size_t *got)
{
    const uint8_t *r = *p;
    *got = n < *left ? n : *left;
    *p += *got;
    *left -= *got;
    return r;
}

static void fuzz_dsa(mldsa_set set, uint8_t op, const uint8_t *d, size_t n)
{
    uint8_t out[4896], mu[64];
    size_t pkl, sigl, ml, rest;
    size_t want_pk = mldsa_pk_bytes(set), want_sig = mldsa_sig_bytes(set);
    const uint8_t *pk, *sig, *msg;
    mldsa_mu_ctx mc;

    switch ((op & 0x7F) % 8) {
    case 0:
        (void)mldsa_pk_check(set, d, n);
        (void)mldsa_sig_check(set, d, n);
        (void)mldsa_sk_check(set, d, n);
        break;
    case 1: /* sk decoders; signing is only tried on a well-sized key */
        (void)mldsa_pk_from_sk(set, d, n, out, sizeof(out));
        if (n == mldsa_sk_bytes(set) && n >= 128) {
            static uint8_t sig_out[4627];
            (void)mldsa_sign_mu(set, d, n, d, mldsa_mu_bytes(set), NULL, 0, sig_out,
                                sizeof(sig_out));
        }
        break;
    case 2:
    case 3:
    case 4:
    case 5:
        if ((op & 0x80) && n > 0 && want_pk) {
            /* Stretch short inputs to full-size keys and signatures so the
             * arithmetic behind the length checks is reached too. */
            static uint8_t big[2592 + 4627];
            size_t need = want_pk + want_sig;
            for (size_t i = 0; i < need; i++)
                big[i] = d[i % n];
            pk = big;
            pkl = want_pk;
            sig = big + want_pk;
            sigl = want_sig;
            msg = d;
            ml = n;
        } else {
            pk = take(&d, &n, want_pk ? want_pk : 1312, &pkl);
            sig = take(&d, &n, want_sig ? want_sig : 2420, &sigl);
            msg = take(&d, &n, n, &ml);
        }
        if ((op & 0x7F) % 8 == 2)
            (void)mldsa_verify(set, pk, pkl, msg, ml, msg, ml > 255 ? 255 : ml, sig, sigl);
        else if ((op & 0x7F) % 8 == 3)
            (void)mldsa_verify_internal(set, pk, pkl, msg, ml, sig, sigl);
        else if ((op & 0x7F) % 8 == 4)
            (void)mldsa_verify_mu(set, pk, pkl, msg, ml < 64 ? ml : 64, sig, sigl);
        else
            (void)mldsa_hash_verify(set, pk, pkl, (pqc_hash)(1 + ml % 12), msg, ml, NULL, 0, sig,
                                    sigl);
        break;
    default: /* a sealed mu state restored from untrusted bytes */
        memset(&mc, 0, sizeof(mc));
        memcpy(&mc, d, n < sizeof(mc) ? n : sizeof(mc));
        rest = n > sizeof(mc) ? n - sizeof(mc) : 0;
        (void)mldsa_mu_update(&mc, d + (n - rest), rest);
        (void)mldsa_mu_final(&mc, mu, sizeof(mu));
        {
            keccak_state ks;
            uint8_t o[300];
            memset(&ks, 0, sizeof(ks));
            memcpy(&ks, d, n < sizeof(ks) ? n : sizeof(ks));
            (void)keccak_absorb(&ks, d, n);
            (void)keccak_squeeze(&ks, o, sizeof(o));
        }
        break;
    }
}

static void fuzz_kem(mlkem_set set, uint8_t op, const uint8_t *d, size_t n)
{
    uint8_t ct[1568], ss[32];
    size_t dkl, ctl, ekl, ml;
    const uint8_t *dk, *c, *ek, *m;

    switch ((op & 0x7F) % 3) {
    case 0:
        (void)mlkem_ek_check(set, d, n);
        (void)mlkem_dk_check(set, d, n);
        break;
    case 1:
        if ((op & 0x80) && n > 0) {
            /* Full-size dk (with a consistent H(ek), so decryption runs) and
             * ciphertext built from a short input. */
            static uint8_t big[3168 + 1568];
            size_t dl = mlkem_dk_bytes(set), cl = mlkem_ct_bytes(set);
            for (size_t i = 0; i < dl + cl; i++)
                big[i] = d[i % n];
            size_t k = (dl - 96) / 768;
            sha3_256(big + dl - 64, big + 384 * k, 384 * k + 32);
            (void)mlkem_decaps(set, big, dl, big + dl, cl, ss, sizeof(ss));
            break;
        }
        dk = take(&d, &n, mlkem_dk_bytes(set), &dkl);
        c = take(&d, &n, n, &ctl);
        (void)mlkem_decaps(set, dk, dkl, c, ctl, ss, sizeof(ss));
        break;
    default:
        ek = take(&d, &n, mlkem_ek_bytes(set), &ekl);
        m = take(&d, &n, 32, &ml);
        (void)mlkem_encaps(set, ek, ekl, m, ml, ct, sizeof(ct), ss, sizeof(ss));
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const unsigned nd = sizeof(dsa_sets) / sizeof(dsa_sets[0]);
    const unsigned nk = sizeof(kem_sets) / sizeof(kem_sets[0]);
    unsigned which = data[0] % (nd + nk);
    if (which < nd)
        fuzz_dsa(dsa_sets[which], data[1], data + 2, size - 2);
    else
        fuzz_kem(kem_sets[which - nd], data[1], data + 2, size - 2);
    return 0;
}
