/* Power-on self-tests: a known answer for every algorithm family, run
 * through the public functions on a throwaway engine, so the code paths that
 * serve requests are the ones tested. Any mismatch fails closed with
 * CKR_GENERAL_ERROR; the server must then refuse to serve. */
#include <string.h>

#include <openssl/crypto.h>

#include "hash.h"
#include "internal.h"

/* Test-only master key; it never protects anything. */
static const uint8_t ST_WK[32] = {0x5e, 0x1f, 0x7e, 0x57};

static int st_hex(const char *h, uint8_t *out, size_t max)
{
    size_t n = strlen(h) / 2;
    if (n > max)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            char c = h[2 * i + j];
            v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        out[i] = (uint8_t)v;
    }
    return (int)n;
}

static bool st_eq(const engine_buf *b, const char *hex)
{
    uint8_t want[64];
    int n = st_hex(hex, want, sizeof(want));
    return n >= 0 && b->len == (size_t)n && CRYPTO_memcmp(b->ptr, want, (size_t)n) == 0;
}

static bool st_digests(engine *e)
{
    static const struct {
        CK_MECHANISM_TYPE m;
        const char *md;
    } K[] = {
        {CKM_SHA_1, "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {CKM_SHA256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {CKM_SHA512_256, "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"},
        {CKM_SHA3_256, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"},
    };
    for (size_t i = 0; i < sizeof(K) / sizeof(K[0]); i++) {
        engine_mech m = {.type = K[i].m};
        engine_buf st = {0}, st2 = {0}, d = {0};
        /* multi-part path: the state blob round-trips through the AEAD */
        bool ok = engine_digest_init(e, &m, &st) == CKR_OK &&
                  engine_digest_update(e, (engine_bytes){st.ptr, st.len},
                                       (engine_bytes){(const uint8_t *)"abc", 3}, &st2) == CKR_OK &&
                  engine_digest_final(e, (engine_bytes){st2.ptr, st2.len}, &d) == CKR_OK &&
                  st_eq(&d, K[i].md);
        engine_buf_free(&st);
        engine_buf_free(&st2);
        engine_buf_free(&d);
        if (!ok)
            return false;
    }
    return true;
}

static bool st_import(engine *e, CK_KEY_TYPE kt, const char *hex, engine_buf *blob)
{
    uint8_t v[32];
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_BBOOL no = CK_FALSE;
    engine_buf cs = {0};
    int n = st_hex(hex, v, sizeof(v));
    CK_ATTRIBUTE t[4] = {{CKA_CLASS, &cls, sizeof(cls)},
                         {CKA_KEY_TYPE, &kt, sizeof(kt)},
                         {CKA_VALUE, v, (CK_ULONG)n},
                         {CKA_SENSITIVE, &no, 1}};
    bool ok = n > 0 && engine_import_secret_key(e, t, 4, blob, &cs) == CKR_OK;
    engine_buf_free(&cs);
    OPENSSL_cleanse(v, sizeof(v));
    return ok;
}

static bool st_encrypt(engine *e, const engine_buf *key, CK_MECHANISM_TYPE mt,
                       const char *param_hex, const char *pt_hex, const char *ct_hex)
{
    uint8_t param[64], pt[64];
    int pl = param_hex ? st_hex(param_hex, param, sizeof(param)) : 0,
        n = st_hex(pt_hex, pt, sizeof(pt));
    engine_mech m = {.type = mt,
                     .kind = param_hex ? ENGINE_PARAM_BYTES : ENGINE_PARAM_NONE,
                     .bytes = {param, (size_t)pl}};
    engine_buf ct = {0}, back = {0};
    bool ok = pl >= 0 && n >= 0 &&
              engine_encrypt_single(e, (engine_bytes){key->ptr, key->len}, &m,
                                    (engine_bytes){pt, (size_t)n}, &ct) == CKR_OK &&
              st_eq(&ct, ct_hex) &&
              engine_decrypt_single(e, (engine_bytes){key->ptr, key->len}, &m,
                                    (engine_bytes){ct.ptr, ct.len}, &back) == CKR_OK &&
              back.len == (size_t)n && memcmp(back.ptr, pt, (size_t)n) == 0;
    engine_buf_free(&ct);
    engine_buf_free(&back);
    return ok;
}

static bool st_mac(engine *e, const engine_buf *key, CK_MECHANISM_TYPE mt, const char *msg,
                   size_t ml, const char *tag_hex)
{
    engine_mech m = {.type = mt};
    engine_buf sig = {0}, st = {0};
    bool ok =
        engine_sign_single(e, (engine_bytes){key->ptr, key->len}, &m,
                           (engine_bytes){(const uint8_t *)msg, ml}, &sig) == CKR_OK &&
        st_eq(&sig, tag_hex) &&
        engine_verify_init(e, &m, (engine_bytes){key->ptr, key->len}, &st) == CKR_OK &&
        engine_verify(e, (engine_bytes){st.ptr, st.len}, (engine_bytes){(const uint8_t *)msg, ml},
                      (engine_bytes){sig.ptr, sig.len}) == CKR_OK;
    engine_buf_free(&sig);
    engine_buf_free(&st);
    return ok;
}

static bool st_symmetric(engine *e)
{
    engine_buf aes = {0}, zero = {0}, des = {0}, cm = {0}, hm = {0}, kek = {0}, w = {0};
    engine_mech kw = {.type = CKM_AES_KEY_WRAP};
    bool ok =
        st_import(e, CKK_AES, "000102030405060708090a0b0c0d0e0f", &aes) &&
        st_import(e, CKK_AES, "00000000000000000000000000000000", &zero) &&
        st_import(e, CKK_DES3, "0123456789abcdef23456789abcdef01456789abcdef0123", &des) &&
        st_import(e, CKK_AES, "2b7e151628aed2a6abf7158809cf4f3c", &cm) &&
        st_import(e, CKK_GENERIC_SECRET, "4a656665", &hm) &&
        /* FIPS 197 C.1 */
        st_encrypt(e, &aes, CKM_AES_ECB, NULL, "00112233445566778899aabbccddeeff",
                   "69c4e0d86a7b0430d8cdb78070b4c55a") &&
        /* GCM spec test case 2 (single-part: OpenSSL; the decrypt state path is tested below) */
        st_encrypt(e, &zero, CKM_AES_GCM, "0000000c0000000000000000000000000000000000000080",
                   "00000000000000000000000000000000",
                   "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf") &&
        /* SP 800-67 example */
        st_encrypt(e, &des, CKM_DES3_ECB, NULL, "54686520717566636b2062726f776e20666f78206a756d70",
                   "a826fd8ce53b855fcce21c8112256fe668d5c05dd9b6b900") &&
        /* RFC 4493 examples 1 and 2 */
        st_mac(e, &cm, CKM_AES_CMAC, "", 0, "bb1d6929e95937287fa37d129b756746") &&
        /* RFC 4231 test case 2 */
        st_mac(e, &hm, CKM_SHA256_HMAC, "what do ya want for nothing?", 28,
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") &&
        /* RFC 3394 4.1 */
        st_import(e, CKK_AES, "00112233445566778899aabbccddeeff", &kek) &&
        engine_wrap_key(e, (engine_bytes){kek.ptr, kek.len}, (engine_bytes){aes.ptr, aes.len},
                        (engine_bytes){NULL, 0}, &kw, &w) == CKR_OK &&
        st_eq(&w, "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5");
    engine_buf_free(&aes);
    engine_buf_free(&zero);
    engine_buf_free(&des);
    engine_buf_free(&cm);
    engine_buf_free(&hm);
    engine_buf_free(&kek);
    engine_buf_free(&w);
    return ok;
}

/* GCM through the state path: own GHASH and counter code. */
static bool st_gcm_state(engine *e)
{
    engine_buf zero = {0}, st = {0}, st2 = {0}, out = {0}, pt = {0};
    uint8_t ct[32], param[32];
    engine_mech m = {.type = CKM_AES_GCM, .kind = ENGINE_PARAM_BYTES, .bytes = {param, 0}};
    bool ok;
    m.bytes.len =
        (size_t)st_hex("0000000c0000000000000000000000000000000000000080", param, sizeof(param));
    st_hex("0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf", ct, sizeof(ct));
    ok = st_import(e, CKK_AES, "00000000000000000000000000000000", &zero) &&
         engine_decrypt_init(e, &m, (engine_bytes){zero.ptr, zero.len}, &st) == CKR_OK &&
         engine_decrypt_update(e, (engine_bytes){st.ptr, st.len}, (engine_bytes){ct, 32}, &st2,
                               &out) == CKR_OK &&
         engine_decrypt_final(e, (engine_bytes){st2.ptr, st2.len}, &pt) == CKR_OK &&
         st_eq(&pt, "00000000000000000000000000000000");
    engine_buf_free(&zero);
    engine_buf_free(&st);
    engine_buf_free(&st2);
    engine_buf_free(&out);
    engine_buf_free(&pt);
    return ok;
}

/* A sealed blob must refuse a single flipped bit. */
static bool st_blob(engine *e)
{
    engine_buf k = {0};
    CK_ATTRIBUTE_TYPE ty = CKA_CLASS;
    CK_ATTRIBUTE *out = NULL;
    CK_ULONG n = 0;
    bool ok = st_import(e, CKK_AES, "000102030405060708090a0b0c0d0e0f", &k);
    if (ok) {
        k.ptr[k.len - 1] ^= 1;
        ok =
            engine_get_attribute_value(e, (engine_bytes){k.ptr, k.len}, &ty, 1, &out, &n) != CKR_OK;
        engine_attrs_free(out, n);
    }
    engine_buf_free(&k);
    return ok;
}

bool selftest_public_key(engine *e); /* selftest_pk.c */

CK_RV engine_self_test(void)
{
    engine *e = NULL;
    engine_policy pol;
    bool ok;

    memset(&pol, 0, sizeof(pol));
    pol.min_generic_secret_bytes = 1; /* RFC 4231's key is four bytes */
    if (engine_create(ST_WK, &pol, &e) != CKR_OK)
        return CKR_GENERAL_ERROR;
    ok =
        st_digests(e) && st_symmetric(e) && st_gcm_state(e) && st_blob(e) && selftest_public_key(e);
    engine_destroy(e);
    return ok ? CKR_OK : CKR_GENERAL_ERROR;
}
