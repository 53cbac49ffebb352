/* Parameter sets: FIPS 204 table 1, Dilithium round 3 v3.1 and round 2
 * MODE 4 (see tests/vectors/README.md, crystals). Sizes are computed
 * from the other fields at the bottom and cross-checked by the unit tests
 * against the published key and signature lengths. */
#include "mldsa_params.h"

#include <stddef.h>

#define Q MLDSA_Q
#define PK(k, t1b) (32 + (k)*32 * (t1b))
#define SK(k, l, trb, etab, d) (64 + (trb) + ((k) + (l)) * 32 * (etab) + (k)*32 * (d))
#define SIG(ct, k, l, zb, om) ((ct) + (l)*32 * (zb) + (om) + (k))

static const mldsa_params sets[] = {
    {MLDSA_44,
     MLDSA_V_FIPS,
     "ML-DSA-44",
     4,
     4,
     2,
     39,
     80,
     13,
     78,
     1 << 17,
     (Q - 1) / 88,
     32,
     64,
     64,
     64,
     64,
     3,
     10,
     18,
     6,
     32,
     32,
     PK(4, 10),
     SK(4, 4, 64, 3, 13),
     SIG(32, 4, 4, 18, 80)},
    {MLDSA_65,
     MLDSA_V_FIPS,
     "ML-DSA-65",
     6,
     5,
     4,
     49,
     55,
     13,
     196,
     1 << 19,
     (Q - 1) / 32,
     48,
     64,
     64,
     64,
     64,
     4,
     10,
     20,
     4,
     32,
     32,
     PK(6, 10),
     SK(6, 5, 64, 4, 13),
     SIG(48, 6, 5, 20, 55)},
    {MLDSA_87,
     MLDSA_V_FIPS,
     "ML-DSA-87",
     8,
     7,
     2,
     60,
     75,
     13,
     120,
     1 << 19,
     (Q - 1) / 32,
     64,
     64,
     64,
     64,
     64,
     3,
     10,
     20,
     4,
     32,
     32,
     PK(8, 10),
     SK(8, 7, 64, 3, 13),
     SIG(64, 8, 7, 20, 75)},
    {DILITHIUM_R3_2,
     MLDSA_V_R3,
     "Dilithium2-r3",
     4,
     4,
     2,
     39,
     80,
     13,
     78,
     1 << 17,
     (Q - 1) / 88,
     32,
     32,
     64,
     64,
     64,
     3,
     10,
     18,
     6,
     32,
     64,
     PK(4, 10),
     SK(4, 4, 32, 3, 13),
     SIG(32, 4, 4, 18, 80)},
    {DILITHIUM_R3_3,
     MLDSA_V_R3,
     "Dilithium3-r3",
     6,
     5,
     4,
     49,
     55,
     13,
     196,
     1 << 19,
     (Q - 1) / 32,
     32,
     32,
     64,
     64,
     64,
     4,
     10,
     20,
     4,
     32,
     64,
     PK(6, 10),
     SK(6, 5, 32, 4, 13),
     SIG(32, 6, 5, 20, 55)},
    {DILITHIUM_R3_5,
     MLDSA_V_R3,
     "Dilithium5-r3",
     8,
     7,
     2,
     60,
     75,
     13,
     120,
     1 << 19,
     (Q - 1) / 32,
     32,
     32,
     64,
     64,
     64,
     3,
     10,
     20,
     4,
     32,
     64,
     PK(8, 10),
     SK(8, 7, 32, 3, 13),
     SIG(32, 8, 7, 20, 75)},
    /* Round 2: gamma1 = (q-1)/16, gamma2 = gamma1/2; the challenge travels
     * as a 32-byte position bitmap plus 8 sign bytes instead of c~. */
    {DILITHIUM_R2_65,
     MLDSA_V_R2,
     "Dilithium4-r2",
     6,
     5,
     3,
     60,
     120,
     14,
     175,
     (Q - 1) / 16,
     (Q - 1) / 32,
     0,
     48,
     48,
     32,
     48,
     3,
     9,
     20,
     4,
     96,
     48,
     PK(6, 9),
     SK(6, 5, 48, 3, 14),
     SIG(40, 6, 5, 20, 120)},
};

const mldsa_params *mldsa_params_get(mldsa_set set)
{
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
        if (sets[i].set == set)
            return &sets[i];
    return NULL;
}

size_t mldsa_pk_bytes(mldsa_set set)
{
    const mldsa_params *p = mldsa_params_get(set);
    return p ? p->pk_bytes : 0;
}

size_t mldsa_sk_bytes(mldsa_set set)
{
    const mldsa_params *p = mldsa_params_get(set);
    return p ? p->sk_bytes : 0;
}

size_t mldsa_sig_bytes(mldsa_set set)
{
    const mldsa_params *p = mldsa_params_get(set);
    return p ? p->sig_bytes : 0;
}

size_t mldsa_seed_bytes(mldsa_set set)
{
    const mldsa_params *p = mldsa_params_get(set);
    return p ? p->seed_bytes : 0;
}

size_t mldsa_rnd_bytes(mldsa_set set)
{
    const mldsa_params *p = mldsa_params_get(set);
    return p ? p->rnd_bytes : 0;
}

size_t mldsa_tr_bytes(mldsa_set set)
{
    const mldsa_params *p = mldsa_params_get(set);
    return p ? p->tr_bytes : 0;
}

size_t mldsa_mu_bytes(mldsa_set set)
{
    const mldsa_params *p = mldsa_params_get(set);
    return p ? p->mu_bytes : 0;
}

const char *mldsa_set_name(mldsa_set set)
{
    if (set == DILITHIUM_R2_87)
        return "Dilithium-r2-8x7 (unsupported)";
    const mldsa_params *p = mldsa_params_get(set);
    return p ? p->name : NULL;
}
