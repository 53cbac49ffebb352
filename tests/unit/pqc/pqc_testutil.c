#include "pqc_testutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "testvec.h"

void tc_init(tcount *tc, const char *name)
{
    memset(tc, 0, sizeof(*tc));
    tc->name = name;
}

void tc_pass(tcount *tc)
{
    tc->pass++;
}

void tc_fail(tcount *tc, long id, const char *fmt, ...)
{
    tc->fail++;
    if (tc->fail_printed++ >= 10)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  FAIL %s case %ld: ", tc->name, id);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void tc_skip(tcount *tc, const char *reason)
{
    tc->skip++;
    for (unsigned i = 0; i < tc->nreasons; i++)
        if (strcmp(tc->reasons[i], reason) == 0) {
            tc->reason_count[i]++;
            return;
        }
    if (tc->nreasons < TC_MAX_REASONS) {
        tc->reasons[tc->nreasons] = reason;
        tc->reason_count[tc->nreasons++] = 1;
    }
}

int tc_report(const tcount *tc)
{
    printf("%s: %u passed, %u failed, %u skipped\n", tc->name, tc->pass, tc->fail, tc->skip);
    for (unsigned i = 0; i < tc->nreasons; i++)
        printf("  skipped %u: %s\n", tc->reason_count[i], tc->reasons[i]);
    if (tc->pass + tc->fail == 0)
        printf("  ERROR: no cases were run\n");
    fflush(stdout);
    return tc->fail == 0 && tc->pass > 0;
}

uint8_t *tu_hex(const cJSON *obj, const char *name, size_t *len)
{
    *len = 0;
    return testvec_hex_field(obj, name, len);
}

int tu_bool(const cJSON *obj, const char *name, int dflt)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (cJSON_IsBool(it))
        return cJSON_IsTrue(it);
    return dflt;
}

const cJSON *tu_acvp_expected(const cJSON *expected_root, long tgid, long tcid)
{
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(expected_root, "testGroups");
    const cJSON *g;
    cJSON_ArrayForEach(g, groups)
    {
        if (testvec_int_field(g, "tgId", -1) != tgid)
            continue;
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(g, "tests"))
        {
            if (testvec_int_field(t, "tcId", -1) == tcid)
                return t;
        }
    }
    return NULL;
}

int tu_has_flag(const cJSON *test, const char *flag)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(test, "flags"))
    {
        if (cJSON_IsString(f) && strcmp(f->valuestring, flag) == 0)
            return 1;
    }
    return 0;
}

/* ---- NIST KAT DRBG ---- */

static void aes256_block(const uint8_t key[32], const uint8_t in[16], uint8_t out[16])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_256_ecb(), NULL, key, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 || EVP_EncryptUpdate(ctx, out, &n, in, 16) != 1 ||
        n != 16) {
        fprintf(stderr, "AES-256-ECB failed\n");
        abort();
    }
    EVP_CIPHER_CTX_free(ctx);
}

static void v_increment(uint8_t v[16])
{
    for (int j = 15; j >= 0; j--) {
        if (++v[j] != 0)
            break;
    }
}

static void drbg_update(kat_drbg *d, const uint8_t *provided)
{
    uint8_t temp[48];
    for (int i = 0; i < 3; i++) {
        v_increment(d->v);
        aes256_block(d->key, d->v, temp + 16 * i);
    }
    if (provided)
        for (int i = 0; i < 48; i++)
            temp[i] ^= provided[i];
    memcpy(d->key, temp, 32);
    memcpy(d->v, temp + 32, 16);
}

void kat_drbg_init(kat_drbg *d, const uint8_t seed[48])
{
    memset(d, 0, sizeof(*d));
    drbg_update(d, seed);
}

void kat_drbg_bytes(kat_drbg *d, uint8_t *out, size_t len)
{
    uint8_t block[16];
    while (len > 0) {
        v_increment(d->v);
        aes256_block(d->key, d->v, block);
        size_t n = len < 16 ? len : 16;
        memcpy(out, block, n);
        out += n;
        len -= n;
    }
    drbg_update(d, NULL);
}
