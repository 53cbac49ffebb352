/* Shared helpers for the pqc unit tests: per-file pass/fail/skip counting
 * with the one-line summary every test file prints, hex/JSON shortcuts,
 * ACVP prompt/expected joining, and the NIST KAT DRBG. Test code only. */
#ifndef GREP11_PQC_TESTUTIL_H
#define GREP11_PQC_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define TC_MAX_REASONS 8

typedef struct {
    const char *name;
    unsigned pass, fail, skip;
    unsigned nreasons;
    const char *reasons[TC_MAX_REASONS];
    unsigned reason_count[TC_MAX_REASONS];
    unsigned fail_printed;
} tcount;

void tc_init(tcount *tc, const char *name);
void tc_pass(tcount *tc);
/* Records a failure and prints the first few with their test ids. */
void tc_fail(tcount *tc, long id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* reason must be a string literal (it is kept by pointer). */
void tc_skip(tcount *tc, const char *reason);
/* Prints "<name>: N passed, M failed, K skipped" plus skip reasons and
 * returns 1 when the file is good: no failures and at least one case run. */
int tc_report(const tcount *tc);

/* Hex field as bytes; *len is set; never NULL for a present field (empty
 * string gives a zero-length buffer). NULL when the field is absent. */
uint8_t *tu_hex(const cJSON *obj, const char *name, size_t *len);
int tu_bool(const cJSON *obj, const char *name, int dflt);
/* Expected-results test with the same tgId/tcId, or NULL. */
const cJSON *tu_acvp_expected(const cJSON *expected_root, long tgid, long tcid);
/* 1 when the test's "flags" array contains flag. */
int tu_has_flag(const cJSON *test, const char *flag);

/* NIST PQC KAT AES-256 CTR_DRBG (rng.c: no derivation function, no
 * reseed). Each randombytes call ends with an Update, so call boundaries
 * matter and must match the reference code's. */
typedef struct {
    uint8_t key[32];
    uint8_t v[16];
} kat_drbg;

void kat_drbg_init(kat_drbg *d, const uint8_t seed[48]);
void kat_drbg_bytes(kat_drbg *d, uint8_t *out, size_t len);

#endif
