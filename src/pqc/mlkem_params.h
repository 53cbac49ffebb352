/* Internal: ML-KEM / Kyber round 2 parameter and variant record. */
#ifndef GREP11_PQC_MLKEM_PARAMS_H
#define GREP11_PQC_MLKEM_PARAMS_H

#include <stdint.h>

#include "pqc.h"

#define MLKEM_N 256
#define MLKEM_Q 3329
#define MLKEM_MAX_K 4
#define MLKEM_SYMBYTES 32
#define MLKEM_POLYBYTES 384

typedef enum {
    MLKEM_V_R2 = 2,  /* Kyber round 2 (2019) */
    MLKEM_V_FIPS = 4 /* FIPS 203 */
} mlkem_version;

typedef struct {
    mlkem_set set;
    mlkem_version version;
    const char *name;
    uint8_t k, eta1, eta2, du, dv;
    uint16_t ek_bytes, dk_bytes, ct_bytes;
} mlkem_params;

const mlkem_params *mlkem_params_get(mlkem_set set);

#endif
