/* The SHA-3/SHAKE sponge over keccak_f1600 (FIPS 202 sections 4 and 6).
 * Byte i of the rate lives in lane i/8 at bit 8*(i%8): the state is kept as
 * lanes so whole 8-byte words are xored in at once on the common path. */
#include "keccak_internal.h"

#include "pqc_common.h"

pqc_rv keccak_init(keccak_state *st, unsigned rate_bytes, uint8_t dsbyte)
{
    if (!st || rate_bytes == 0 || rate_bytes >= 200 || rate_bytes % 8 || dsbyte == 0)
        return PQC_ERR_BAD_PARAM;
    memset(st, 0, sizeof(*st));
    st->rate = (uint16_t)rate_bytes;
    st->dsbyte = dsbyte;
    return PQC_OK;
}

void shake128_init(keccak_state *st)
{
    (void)keccak_init(st, SHAKE128_RATE, 0x1F);
}

void shake256_init(keccak_state *st)
{
    (void)keccak_init(st, SHAKE256_RATE, 0x1F);
}

pqc_rv sha3_init(keccak_state *st, unsigned bits)
{
    if (bits != 224 && bits != 256 && bits != 384 && bits != 512)
        return PQC_ERR_BAD_PARAM;
    return keccak_init(st, 200 - 2 * (bits / 8), 0x06);
}

/* Does not check state sanity: callers inside the library own the state. */
void keccak_absorb_ok(keccak_state *st, const uint8_t *in, size_t len)
{
    unsigned rate = st->rate;
    unsigned pos = st->pos;

    while (len > 0) {
        if (pos == 0) {
            /* Whole blocks straight from the input: the bulk of long messages. */
            while (len >= rate) {
                for (unsigned i = 0; i < rate / 8; i++)
                    st->s[i] ^= pqc_load64_le(in + 8 * i);
                keccak_f1600(st->s);
                in += rate;
                len -= rate;
            }
            if (len == 0)
                break;
        }
        if ((pos % 8) == 0 && len >= 8 && pos + 8 <= rate) {
            st->s[pos / 8] ^= pqc_load64_le(in);
            pos += 8;
            in += 8;
            len -= 8;
        } else {
            st->s[pos / 8] ^= (uint64_t)in[0] << (8 * (pos % 8));
            pos++;
            in++;
            len--;
        }
        if (pos == rate) {
            keccak_f1600(st->s);
            pos = 0;
        }
    }
    st->pos = pos;
}

pqc_rv keccak_absorb(keccak_state *st, const uint8_t *in, size_t len)
{
    if (!st || (!in && len) || st->rate == 0 || st->rate >= 200 || st->rate % 8)
        return PQC_ERR_BAD_PARAM;
    if (st->squeezing)
        return PQC_ERR_STATE;
    /* An absorbing sponge permutes as soon as a block fills, so pos == rate
     * only comes from a corrupted (e.g. restored) state. */
    if (st->pos >= st->rate)
        return PQC_ERR_BAD_PARAM;
    keccak_absorb_ok(st, in, len);
    return PQC_OK;
}

static void keccak_finalize(keccak_state *st)
{
    unsigned pos = st->pos;
    st->s[pos / 8] ^= (uint64_t)st->dsbyte << (8 * (pos % 8));
    st->s[(st->rate - 1) / 8] ^= (uint64_t)0x80 << (8 * ((st->rate - 1) % 8));
    keccak_f1600(st->s);
    st->squeezing = 1;
    st->pos = 0;
}

static void keccak_squeeze_ok(keccak_state *st, uint8_t *out, size_t len)
{
    unsigned rate = st->rate;
    unsigned pos = st->pos;

    if (!st->squeezing) {
        keccak_finalize(st);
        pos = 0;
    }
    while (len > 0) {
        if (pos == rate) {
            keccak_f1600(st->s);
            pos = 0;
        }
        if ((pos % 8) == 0 && len >= 8) {
            pqc_store64_le(out, st->s[pos / 8]);
            pos += 8;
            out += 8;
            len -= 8;
        } else {
            *out++ = (uint8_t)(st->s[pos / 8] >> (8 * (pos % 8)));
            pos++;
            len--;
        }
    }
    st->pos = pos;
}

pqc_rv keccak_squeeze(keccak_state *st, uint8_t *out, size_t len)
{
    if (!st || (!out && len) || st->rate == 0 || st->rate >= 200 || st->rate % 8 ||
        st->pos > st->rate)
        return PQC_ERR_BAD_PARAM;
    keccak_squeeze_ok(st, out, len);
    return PQC_OK;
}

void keccak_squeezeblocks(keccak_state *st, uint8_t *out, size_t nblocks)
{
    unsigned rate = st->rate;

    if (!st->squeezing)
        keccak_finalize(st);
    else
        keccak_f1600(st->s); /* pos == rate: the previous block is used up */
    for (;;) {
        for (unsigned i = 0; i < rate / 8; i++)
            pqc_store64_le(out + 8 * i, st->s[i]);
        out += rate;
        if (--nblocks == 0)
            break;
        keccak_f1600(st->s);
    }
    st->pos = rate;
}

void keccak_wipe(keccak_state *st)
{
    if (st)
        PQC_WIPE(st, sizeof(*st));
}

static void oneshot(unsigned rate, uint8_t ds, uint8_t *out, size_t outlen, const uint8_t *in,
                    size_t inlen)
{
    keccak_state st;
    (void)keccak_init(&st, rate, ds);
    keccak_absorb_ok(&st, in, inlen);
    keccak_squeeze_ok(&st, out, outlen);
    /* Inputs here are often secret seeds. */
    keccak_wipe(&st);
}

void shake128(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen)
{
    oneshot(SHAKE128_RATE, 0x1F, out, outlen, in, inlen);
}

void shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t inlen)
{
    oneshot(SHAKE256_RATE, 0x1F, out, outlen, in, inlen);
}

void sha3_224(uint8_t out[28], const uint8_t *in, size_t inlen)
{
    oneshot(144, 0x06, out, 28, in, inlen);
}

void sha3_256(uint8_t out[32], const uint8_t *in, size_t inlen)
{
    oneshot(136, 0x06, out, 32, in, inlen);
}

void sha3_384(uint8_t out[48], const uint8_t *in, size_t inlen)
{
    oneshot(104, 0x06, out, 48, in, inlen);
}

void sha3_512(uint8_t out[64], const uint8_t *in, size_t inlen)
{
    oneshot(72, 0x06, out, 64, in, inlen);
}
