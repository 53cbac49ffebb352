/* Serializable hash contexts. SHA-1/SHA-2 use OpenSSL's low-level
 * SHA*_CTX (deprecated API, kept for its assembler speed) and are saved
 * field by field, never as a memcpy of the struct, so the blob format does
 * not depend on OpenSSL's layout. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <string.h>

#include <openssl/crypto.h>

#include "hash.h"

static const struct {
    size_t len, block;
} INFO[H_COUNT] = {
    [H_SHA1] = {20, 64},        [H_SHA224] = {28, 64},    [H_SHA256] = {32, 64},
    [H_SHA384] = {48, 128},     [H_SHA512] = {64, 128},   [H_SHA512_224] = {28, 128},
    [H_SHA512_256] = {32, 128}, [H_SHA3_224] = {28, 144}, [H_SHA3_256] = {32, 136},
    [H_SHA3_384] = {48, 104},   [H_SHA3_512] = {64, 72},  [H_SHAKE128] = {32, 168},
    [H_SHAKE256] = {64, 136},
};

/* FIPS 180-4 5.3.6 initial values for the truncated SHA-512 variants. */
static const uint64_t IV512_224[8] = {
    0x8C3D37C819544DA2ULL, 0x73E1996689DCD4D6ULL, 0x1DFAB7AE32FF9C82ULL, 0x679DD514582F9FCFULL,
    0x0F6D2B697BD44DA8ULL, 0x77E36F7304C48942ULL, 0x3F9D85A86A1D36C8ULL, 0x1112E6AD91D692A1ULL};
static const uint64_t IV512_256[8] = {
    0x22312194FC2BF72CULL, 0x9F555FA3C84C64C2ULL, 0x2393B86B6F53B151ULL, 0x963877195940EABDULL,
    0x96283EE2A88EFFE3ULL, 0xBE5E1E2553863992ULL, 0x2B0199FC2C85B8AAULL, 0x0EB72DDC81C52CA2ULL};

const char *hash_ossl_name(hashid a)
{
    static const char *const N[H_COUNT] = {[H_SHA1] = "SHA1",
                                           [H_SHA224] = "SHA224",
                                           [H_SHA256] = "SHA256",
                                           [H_SHA384] = "SHA384",
                                           [H_SHA512] = "SHA512",
                                           [H_SHA512_224] = "SHA512-224",
                                           [H_SHA512_256] = "SHA512-256",
                                           [H_SHA3_224] = "SHA3-224",
                                           [H_SHA3_256] = "SHA3-256",
                                           [H_SHA3_384] = "SHA3-384",
                                           [H_SHA3_512] = "SHA3-512"};
    return (a > H_NONE && a < H_COUNT) ? N[a] : NULL;
}

size_t hash_len(hashid a)
{
    return (a > H_NONE && a < H_COUNT) ? INFO[a].len : 0;
}
size_t hash_block(hashid a)
{
    return (a > H_NONE && a < H_COUNT) ? INFO[a].block : 0;
}

static bool is_sha3(hashid a)
{
    return a >= H_SHA3_224 && a <= H_SHAKE256;
}
static bool is_sha512(hashid a)
{
    return a == H_SHA384 || a == H_SHA512 || a == H_SHA512_224 || a == H_SHA512_256;
}

bool hash_init(hash_ctx *c, hashid a)
{
    memset(c, 0, sizeof(*c));
    c->alg = a;
    switch (a) {
    case H_SHA1:
        return SHA1_Init(&c->u.s1) == 1;
    case H_SHA224:
        return SHA224_Init(&c->u.s256) == 1;
    case H_SHA256:
        return SHA256_Init(&c->u.s256) == 1;
    case H_SHA384:
        return SHA384_Init(&c->u.s512) == 1;
    case H_SHA512:
        return SHA512_Init(&c->u.s512) == 1;
    case H_SHA512_224:
    case H_SHA512_256:
        /* SHA512_Final truncates by md_len, so only the IV differs. */
        if (SHA512_Init(&c->u.s512) != 1)
            return false;
        memcpy(c->u.s512.h, a == H_SHA512_224 ? IV512_224 : IV512_256, sizeof(IV512_224));
        c->u.s512.md_len = (unsigned int)INFO[a].len;
        return true;
    case H_SHA3_224:
    case H_SHA3_256:
    case H_SHA3_384:
    case H_SHA3_512:
        return sha3_init(&c->u.s3, (unsigned)INFO[a].len * 8) == PQC_OK;
    case H_SHAKE128:
        shake128_init(&c->u.s3);
        return true;
    case H_SHAKE256:
        shake256_init(&c->u.s3);
        return true;
    default:
        return false;
    }
}

void hash_update(hash_ctx *c, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    if (c->alg == H_SHA1)
        SHA1_Update(&c->u.s1, p, n);
    else if (c->alg == H_SHA224 || c->alg == H_SHA256)
        SHA256_Update(&c->u.s256, p, n);
    else if (is_sha512(c->alg))
        SHA512_Update(&c->u.s512, p, n);
    else if (is_sha3(c->alg))
        (void)keccak_absorb(&c->u.s3, p, n); /* cannot fail on a state hash_init made */
}

void hash_final(hash_ctx *c, uint8_t *out)
{
    if (c->alg == H_SHA1)
        SHA1_Final(out, &c->u.s1);
    else if (c->alg == H_SHA224 || c->alg == H_SHA256)
        SHA256_Final(out, &c->u.s256);
    else if (is_sha512(c->alg))
        SHA512_Final(out, &c->u.s512);
    else if (is_sha3(c->alg))
        (void)keccak_squeeze(&c->u.s3, out, INFO[c->alg].len);
    hash_wipe(c);
}

void hash_wipe(hash_ctx *c)
{
    OPENSSL_cleanse(c, sizeof(*c));
}

bool hash_oneshot(hashid a, const uint8_t *p, size_t n, uint8_t *out)
{
    hash_ctx c;
    if (!hash_init(&c, a))
        return false;
    hash_update(&c, p, n);
    hash_final(&c, out);
    return true;
}

void hash_save(const hash_ctx *c, wbuf *w)
{
    wbuf_u8(w, (uint8_t)c->alg);
    if (c->alg == H_SHA1) {
        const SHA_CTX *s = &c->u.s1;
        wbuf_u32(w, s->h0);
        wbuf_u32(w, s->h1);
        wbuf_u32(w, s->h2);
        wbuf_u32(w, s->h3);
        wbuf_u32(w, s->h4);
        wbuf_u32(w, s->Nl);
        wbuf_u32(w, s->Nh);
        wbuf_u32(w, s->num);
        wbuf_put(w, s->data, s->num);
    } else if (c->alg == H_SHA224 || c->alg == H_SHA256) {
        const SHA256_CTX *s = &c->u.s256;
        for (int i = 0; i < 8; i++)
            wbuf_u32(w, s->h[i]);
        wbuf_u32(w, s->Nl);
        wbuf_u32(w, s->Nh);
        wbuf_u32(w, s->num);
        wbuf_put(w, s->data, s->num);
    } else if (is_sha512(c->alg)) {
        const SHA512_CTX *s = &c->u.s512;
        for (int i = 0; i < 8; i++)
            wbuf_u64(w, s->h[i]);
        wbuf_u64(w, s->Nl);
        wbuf_u64(w, s->Nh);
        wbuf_u32(w, s->num);
        wbuf_put(w, s->u.p, s->num);
    } else if (is_sha3(c->alg)) {
        /* The sponge is host-endian lanes in memory; the blob carries them
         * little-endian, byte by byte, so any replica (any byte order, any
         * build) resumes it. Rate and domain byte follow from the algorithm. */
        uint8_t *q = wbuf_reserve(w, 200);
        if (q != NULL)
            for (int i = 0; i < 25; i++)
                for (int j = 0; j < 8; j++)
                    q[8 * i + j] = (uint8_t)(c->u.s3.s[i] >> (8 * j));
        wbuf_u32(w, c->u.s3.pos);
    } else {
        w->err = true;
    }
}

bool hash_load(hash_ctx *c, rbuf *r)
{
    hashid a = (hashid)rbuf_u8(r);
    uint32_t num;

    if (r->err || !hash_init(c, a))
        return false;
    if (a == H_SHA1) {
        SHA_CTX *s = &c->u.s1;
        s->h0 = rbuf_u32(r);
        s->h1 = rbuf_u32(r);
        s->h2 = rbuf_u32(r);
        s->h3 = rbuf_u32(r);
        s->h4 = rbuf_u32(r);
        s->Nl = rbuf_u32(r);
        s->Nh = rbuf_u32(r);
        num = rbuf_u32(r);
        if (num >= 64)
            return false;
        s->num = num;
        rbuf_copy(r, s->data, num);
    } else if (a == H_SHA224 || a == H_SHA256) {
        SHA256_CTX *s = &c->u.s256;
        for (int i = 0; i < 8; i++)
            s->h[i] = rbuf_u32(r);
        s->Nl = rbuf_u32(r);
        s->Nh = rbuf_u32(r);
        num = rbuf_u32(r);
        if (num >= 64)
            return false;
        s->num = num;
        rbuf_copy(r, s->data, num);
    } else if (is_sha512(a)) {
        SHA512_CTX *s = &c->u.s512;
        for (int i = 0; i < 8; i++)
            s->h[i] = rbuf_u64(r);
        s->Nl = rbuf_u64(r);
        s->Nh = rbuf_u64(r);
        num = rbuf_u32(r);
        if (num >= 128)
            return false;
        s->num = num;
        rbuf_copy(r, s->u.p, num);
    } else {
        const uint8_t *q = rbuf_ptr(r, 200);
        if (q == NULL)
            return false;
        for (int i = 0; i < 25; i++) {
            uint64_t v = 0;
            for (int j = 7; j >= 0; j--)
                v = (v << 8) | q[8 * i + j];
            c->u.s3.s[i] = v;
        }
        num = rbuf_u32(r);
        /* An absorbing sponge never rests at pos == rate (it permutes first). */
        if (num >= c->u.s3.rate)
            return false;
        c->u.s3.pos = num;
    }
    return !r->err;
}
