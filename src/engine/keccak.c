/* Keccak-f[1600] and the SHA-3 sponge, written out so its state (25 lanes
 * and a byte position) can be serialized into a state blob. OpenSSL keeps its
 * own Keccak context private. */
#include <string.h>

#include <openssl/crypto.h>

#include "hash.h"

static const uint64_t RC[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};
/* Rotation offsets and the pi lane order, walked as one cycle from lane 1. */
static const unsigned ROT[24] = {1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                                 27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
static const unsigned PI[24] = {10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                                15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};

static inline uint64_t rol(uint64_t x, unsigned n) { return (x << n) | (x >> (64 - n)); }

void keccak_f1600(uint64_t a[25]) {
  uint64_t c[5], t;
  for (int r = 0; r < 24; r++) {
    for (int x = 0; x < 5; x++)
      c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (int x = 0; x < 5; x++) {
      t = c[(x + 4) % 5] ^ rol(c[(x + 1) % 5], 1);
      for (int y = 0; y < 25; y += 5)
        a[y + x] ^= t;
    }
    t = a[1];
    for (int i = 0; i < 24; i++) {
      uint64_t nx = a[PI[i]];
      a[PI[i]] = rol(t, ROT[i]);
      t = nx;
    }
    for (int y = 0; y < 25; y += 5) {
      for (int x = 0; x < 5; x++)
        c[x] = a[y + x];
      for (int x = 0; x < 5; x++)
        a[y + x] = c[x] ^ (~c[(x + 1) % 5] & c[(x + 2) % 5]);
    }
    a[0] ^= RC[r];
  }
}

void sha3_init(sha3_ctx *c, size_t mdlen) {
  memset(c, 0, sizeof(*c));
  c->mdlen = mdlen;
  c->rate = 200 - 2 * mdlen;
}

void sha3_update(sha3_ctx *c, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    c->a[c->pos / 8] ^= (uint64_t)p[i] << (8 * (c->pos % 8));
    if (++c->pos == c->rate) {
      keccak_f1600(c->a);
      c->pos = 0;
    }
  }
}

void sha3_final(sha3_ctx *c, uint8_t *out) {
  /* SHA-3 domain bits 01 then pad10*1. */
  c->a[c->pos / 8] ^= (uint64_t)0x06 << (8 * (c->pos % 8));
  c->a[(c->rate - 1) / 8] ^= (uint64_t)0x80 << (8 * ((c->rate - 1) % 8));
  keccak_f1600(c->a);
  for (size_t i = 0; i < c->mdlen; i++)
    out[i] = (uint8_t)(c->a[i / 8] >> (8 * (i % 8)));
  OPENSSL_cleanse(c, sizeof(*c));
}
