/* FIPS 203 table 2 and Kyber round 2 (768/1024 only; IBM never exposed
 * round-2 Kyber512, whose eta1/dv also differ). */
#include "mlkem_params.h"

#include <stddef.h>

#define EK(k) (384 * (k) + 32)
#define DK(k) (768 * (k) + 96)
#define CT(k, du, dv) (32 * ((du) * (k) + (dv)))

static const mlkem_params sets[] = {
    {MLKEM_512, MLKEM_V_FIPS, "ML-KEM-512", 2, 3, 2, 10, 4, EK(2), DK(2), CT(2, 10, 4)},
    {MLKEM_768, MLKEM_V_FIPS, "ML-KEM-768", 3, 2, 2, 10, 4, EK(3), DK(3), CT(3, 10, 4)},
    {MLKEM_1024, MLKEM_V_FIPS, "ML-KEM-1024", 4, 2, 2, 11, 5, EK(4), DK(4), CT(4, 11, 5)},
    {KYBER_R2_768, MLKEM_V_R2, "Kyber768-r2", 3, 2, 2, 10, 4, EK(3), DK(3), CT(3, 10, 4)},
    {KYBER_R2_1024, MLKEM_V_R2, "Kyber1024-r2", 4, 2, 2, 11, 5, EK(4), DK(4), CT(4, 11, 5)},
};

const mlkem_params *mlkem_params_get(mlkem_set set)
{
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
        if (sets[i].set == set)
            return &sets[i];
    return NULL;
}

size_t mlkem_ek_bytes(mlkem_set set)
{
    const mlkem_params *p = mlkem_params_get(set);
    return p ? p->ek_bytes : 0;
}

size_t mlkem_dk_bytes(mlkem_set set)
{
    const mlkem_params *p = mlkem_params_get(set);
    return p ? p->dk_bytes : 0;
}

size_t mlkem_ct_bytes(mlkem_set set)
{
    const mlkem_params *p = mlkem_params_get(set);
    return p ? p->ct_bytes : 0;
}

const char *mlkem_set_name(mlkem_set set)
{
    const mlkem_params *p = mlkem_params_get(set);
    return p ? p->name : NULL;
}
