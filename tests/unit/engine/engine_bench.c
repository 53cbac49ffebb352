/* Engine-only throughput for the closing note (not a ctest test):
 * ops/s of AES-256-GCM EncryptSingle (1 KiB, 16 KiB), HMAC-SHA256 SignSingle
 * (1 KiB) and GenerateKey AES-256, on one thread. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ecrypt.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void) {
  engine *e = NULL;
  engine_buf aes = {0}, hk = {0}, out = {0}, cs = {0};
  static uint8_t msg[16384];
  uint8_t iv[12] = {1}, param[64], kv[32] = {2};
  size_t pl = et_gcm_param(param, iv, 12, NULL, 0, 128);
  engine_mech gcm = et_mech_b(CKM_AES_GCM, param, pl), hm = et_mech(CKM_SHA256_HMAC), gen = et_mech(CKM_AES_KEY_GEN);
  CK_ULONG len = 32;
  CK_ATTRIBUTE t[1] = {{CKA_VALUE_LEN, &len, sizeof(len)}};
  const double secs = 1.0;
  double t0;
  long n;

  if (engine_create(ETEST_WK, NULL, &e) != CKR_OK || et_import(e, CKK_AES, kv, 32, &aes) != CKR_OK ||
      et_import(e, CKK_GENERIC_SECRET, kv, 32, &hk) != CKR_OK)
    return 1;
  for (size_t sz = 1024; sz <= 16384; sz *= 16) {
    for (n = 0, t0 = now(); now() - t0 < secs; n++) {
      engine_encrypt_single(e, et_b(&aes), &gcm, et_raw(msg, sz), &out);
      engine_buf_free(&out);
    }
    printf("AES-256-GCM EncryptSingle %5zu B: %8.0f ops/s (%.1f MB/s)\n", sz, n / (now() - t0),
           n * (double)sz / (now() - t0) / 1e6);
  }
  for (n = 0, t0 = now(); now() - t0 < secs; n++) {
    engine_sign_single(e, et_b(&hk), &hm, et_raw(msg, 1024), &out);
    engine_buf_free(&out);
  }
  printf("HMAC-SHA256 SignSingle 1024 B: %8.0f ops/s\n", n / (now() - t0));
  for (n = 0, t0 = now(); now() - t0 < secs; n++) {
    engine_generate_key(e, &gen, t, 1, &out, &cs);
    engine_buf_free(&out);
    engine_buf_free(&cs);
  }
  printf("GenerateKey AES-256:          %8.0f ops/s\n", n / (now() - t0));
  engine_buf_free(&aes);
  engine_buf_free(&hk);
  engine_destroy(e);
  return 0;
}
