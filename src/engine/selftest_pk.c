/* Power-on known answers for the public-key families, through the public
 * functions like the symmetric ones (selftest.c): Ed25519 signing (RFC 8032
 * test 1), ECDSA P-256 verification (RFC 6979 A.2.5) and a sign/verify
 * round trip, X25519 (RFC 7748 6.1), RSA PKCS #1 v1.5 signing (Wycheproof
 * rsa_pkcs1_2048_sig_gen tc 82), ML-DSA-44 deterministic signing and
 * ML-KEM-768 decapsulation of keys from fixed seeds (answers recorded from
 * src/pqc, itself checked against ACVP), and BIP-0032 derivation (test
 * vector 1: m's chain code, M/0H's point and chain code). */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "internal.h"
#include "pqc.h"

bool selftest_public_key(engine *e);

typedef struct {
    CK_ATTRIBUTE a[12];
    CK_ULONG n;
    CK_ULONG u[4];
    size_t nu;
} st_tmpl;

static void tu(st_tmpl *t, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
    t->u[t->nu] = v;
    t->a[t->n++] = (CK_ATTRIBUTE){type, &t->u[t->nu++], sizeof(CK_ULONG)};
}
static void tb(st_tmpl *t, CK_ATTRIBUTE_TYPE type, const void *p, size_t len)
{
    t->a[t->n++] = (CK_ATTRIBUTE){type, (void *)p, len};
}

/* Hex into a fresh buffer (caller frees). */
static uint8_t *hx(const char *h, size_t *len)
{
    size_t n = strlen(h) / 2;
    uint8_t *o = malloc(n ? n : 1);
    if (o == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            char c = h[2 * i + j];
            v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        o[i] = (uint8_t)v;
    }
    *len = n;
    return o;
}

static bool eqhex(const uint8_t *p, size_t len, const char *h)
{
    size_t n = 0;
    uint8_t *w = hx(h, &n);
    bool ok = w != NULL && n == len && CRYPTO_memcmp(w, p, n) == 0;
    free(w);
    return ok;
}

static engine_bytes eb(const engine_buf *b)
{
    return (engine_bytes){b->ptr, b->len};
}

static bool st_ed25519(engine *e)
{
    static const uint8_t SK[32] = {0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a,
                                   0xf4, 0x92, 0xec, 0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32,
                                   0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
    st_tmpl t = {0};
    engine_buf k = {0}, s = {0};
    engine_mech m = {.type = CKM_EDDSA};
    bool ok;
    tu(&t, CKA_CLASS, CKO_PRIVATE_KEY);
    tu(&t, CKA_KEY_TYPE, CKK_EC_EDWARDS);
    tb(&t, CKA_EC_PARAMS, "Ed25519", 7);
    tb(&t, CKA_VALUE, SK, 32);
    ok = engine_import_private_key(e, t.a, t.n, &k) == CKR_OK &&
         engine_sign_single(e, eb(&k), &m, (engine_bytes){NULL, 0}, &s) == CKR_OK &&
         eqhex(s.ptr, s.len,
               "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61"
               "e39701cf9b46bd25bf5f0"
               "595bbe24655141438e7a100b");
    engine_buf_free(&k);
    engine_buf_free(&s);
    return ok;
}

static bool st_ecdsa(engine *e)
{
    st_tmpl t = {0};
    size_t pl = 0, rl = 0;
    uint8_t *pt = hx("0460fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb67903fe1008b"
                     "8bc99a41ae9e95628bc64f2f1"
                     "b20c2d7e9f5177a3c294d4462299",
                     &pl);
    uint8_t *rs = hx("efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716f7cb1c942d657"
                     "c41d436c7a1b6e29f65f3e9"
                     "00dbb9aff4064dc4ab2f843acda8",
                     &rl);
    engine_buf pub = {0}, priv = {0}, pub2 = {0}, s = {0};
    engine_mech m = {.type = CKM_ECDSA_SHA256};
    CK_ATTRIBUTE g[1] = {{CKA_EC_PARAMS, "P-256", 5}};
    engine_mech gm = {.type = CKM_EC_KEY_PAIR_GEN};
    bool ok;
    tu(&t, CKA_CLASS, CKO_PUBLIC_KEY);
    tu(&t, CKA_KEY_TYPE, CKK_EC);
    tb(&t, CKA_EC_PARAMS, "P-256", 5);
    tb(&t, CKA_EC_POINT, pt, pl);
    ok = pt && rs && engine_import_public_key(e, t.a, t.n, &pub) == CKR_OK &&
         engine_verify_single(e, eb(&pub), &m, (engine_bytes){(const uint8_t *)"sample", 6},
                              (engine_bytes){rs, rl}) == CKR_OK;
    if (ok) { /* a flipped bit must fail */
        rs[5] ^= 1;
        ok = engine_verify_single(e, eb(&pub), &m, (engine_bytes){(const uint8_t *)"sample", 6},
                                  (engine_bytes){rs, rl}) == CKR_SIGNATURE_INVALID;
    }
    ok = ok && engine_generate_key_pair(e, &gm, g, 1, NULL, 0, &priv, &pub2) == CKR_OK &&
         engine_sign_single(e, eb(&priv), &m, (engine_bytes){(const uint8_t *)"sample", 6}, &s) ==
             CKR_OK &&
         engine_verify_single(e, eb(&pub2), &m, (engine_bytes){(const uint8_t *)"sample", 6},
                              eb(&s)) == CKR_OK;
    free(pt);
    free(rs);
    engine_buf_free(&pub);
    engine_buf_free(&pub2);
    engine_buf_free(&priv);
    engine_buf_free(&s);
    return ok;
}

static bool st_secret_equals(engine *e, const engine_buf *k, const char *hex)
{
    CK_ATTRIBUTE_TYPE ty = CKA_VALUE;
    CK_ATTRIBUTE *a = NULL;
    CK_ULONG n = 0;
    bool ok = engine_get_attribute_value(e, eb(k), &ty, 1, &a, &n) == CKR_OK &&
              eqhex(a[0].pValue, a[0].ulValueLen, hex);
    engine_attrs_free(a, n);
    return ok;
}

static bool st_x25519(engine *e)
{
    st_tmpl t = {0}, d = {0};
    size_t sl = 0, pl = 0;
    uint8_t *sk = hx("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", &sl);
    uint8_t *peer = hx("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", &pl);
    engine_buf k = {0}, z = {0}, cs = {0};
    bool ok;
    tu(&t, CKA_CLASS, CKO_PRIVATE_KEY);
    tu(&t, CKA_KEY_TYPE, CKK_EC_MONTGOMERY);
    tb(&t, CKA_EC_PARAMS, "X25519", 6);
    tb(&t, CKA_VALUE, sk, sl);
    tu(&d, CKA_KEY_TYPE, CKK_GENERIC_SECRET);
    tu(&d, CKA_VALUE_LEN, 32);
    CK_BBOOL f = CK_FALSE;
    tb(&d, CKA_SENSITIVE, &f, 1);
    engine_mech m = {.type = CKM_ECDH1_DERIVE, .kind = ENGINE_PARAM_BYTES, .bytes = {peer, pl}};
    ok =
        sk && peer && engine_import_private_key(e, t.a, t.n, &k) == CKR_OK &&
        engine_derive_key(e, &m, d.a, d.n, eb(&k), (engine_bytes){NULL, 0}, &z, &cs) == CKR_OK &&
        st_secret_equals(e, &z, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    free(sk);
    free(peer);
    engine_buf_free(&k);
    engine_buf_free(&z);
    engine_buf_free(&cs);
    return ok;
}

static bool st_rsa(engine *e)
{
    static const char *N = "a2b451a07d0aa5f96e455671513550514a8a5b462ebef717094fa1fee82224e637f9746"
                           "d3f7cafd31878d80325b6ef5a17"
                           "00f65903b469429e89d6eac8845097b5ab393189db92512ed8a7711a1253facd20f79c1"
                           "5e8247f3d3e42e46e48c98e254a2f"
                           "e9765313a03eff8f17e1a029397a1fa26a8dce26f490ed81299615d9814c22da610428e"
                           "09c7d9658594266f5c021d0fceca0"
                           "8d945a12be82de4d1ece6b4c03145b5d3495d4ed5411eb878daf05fd7afc3e09ada0f11"
                           "26422f590975a1969816f48698bcb"
                           "ba1b4d9cae79d460d8f9f85e7975005d9bc22c4e5ac0f7c1a45d12569a62807d3b9a02e"
                           "5a530e773066f453d1f5b4c2e9cf7"
                           "820283f742b9d5";
    static const char *D = "7627eef3567b2a27268e52053ecd31c3a7172ccb9ddcee819b306a5b3c66b7573ca4fa8"
                           "8efc6f3c4a00bfa0ae7139f6454"
                           "3a4dac3d05823f6ff477cfcec84fe2ac7a68b17204b390232e110310c4e899c4e7c1096"
                           "7db4acde042dbbf19dbe00b4b4741"
                           "de1020aaaaffb5054c797c9f136f7d93ac3fc8caff6654242d7821ebee517bf537f4436"
                           "6a0fdd45ae05b9909c2e6cc1ed928"
                           "1eff4399f76c96b96233ec29ae0bbf0d752b234fc197389f51050aa1acd01c074c3ac8f"
                           "bdb9ea8b651a95995e8db4ad5c43b"
                           "6c8673e5a126e7ee94b8dff4c5afc01259bc8da76950bae6f8bae715f50985b0d6f66d0"
                           "4c6fef3b700720eecdcdf171bb7b1"
                           "ecbe7289c467c1";
    size_t nl = 0, dl = 0;
    uint8_t *n = hx(N, &nl), *d = hx(D, &dl), msg[20] = {0};
    st_tmpl t = {0};
    engine_buf k = {0}, s = {0};
    engine_mech m = {.type = CKM_SHA256_RSA_PKCS};
    bool ok;
    tu(&t, CKA_CLASS, CKO_PRIVATE_KEY);
    tu(&t, CKA_KEY_TYPE, CKK_RSA);
    tb(&t, CKA_MODULUS, n, nl);
    tb(&t, CKA_PUBLIC_EXPONENT, "\x01\x00\x01", 3);
    tb(&t, CKA_PRIVATE_EXPONENT, d, dl);
    ok = n && d && engine_import_private_key(e, t.a, t.n, &k) == CKR_OK &&
         engine_sign_single(e, eb(&k), &m, (engine_bytes){msg, sizeof(msg)}, &s) == CKR_OK &&
         eqhex(s.ptr, s.len,
               "8a1b220cb2ab415dc760eb7f5bb10335a3cca269d7dbbf7d0962ba79f9cf7b43a5fc09c99a1584f0740"
               "3473d6c189a836897a5b6"
               "f8ea9fa22d601e6ba5f7411fe27c638b81b1a22363583a80fce8c7df3e40fb51bd0e60d0a6653f79f3b"
               "cb7ec3e9dc14cfb5b31ab17"
               "35bca692d50ac03f979dda92747c6430f8045efa3513ba6e0ce3e9e35570e1c30c8ebe589b44192e134"
               "4ca83dfa576fc6fdc7bf1cd"
               "7cee875b001c8c02ce8d602769e4bd9d241c4857182a0089a8b67644e73eef105c550efa47a40874289"
               "395ac0c4e02fd4ba98e130a"
               "4c2d1b95521c6af4a002ac3bdc6e52122ae4c08cc3da1c896e059acbddec574ac0432f6103dd97273d8"
               "803c102");
    free(n);
    free(d);
    engine_buf_free(&k);
    engine_buf_free(&s);
    return ok;
}

static bool st_mldsa(engine *e)
{
    uint8_t seed[32], pk[1312], *sk = malloc(2560), dg[32];
    uint8_t prm[8] = {0, 0, 0, (uint8_t)CKH_DETERMINISTIC_REQUIRED, 0, 0, 0, 0};
    st_tmpl t = {0};
    engine_buf k = {0}, s = {0};
    engine_mech m = {.type = CKM_ML_DSA, .kind = ENGINE_PARAM_BYTES, .bytes = {prm, sizeof(prm)}};
    bool ok;
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    ok =
        sk != NULL && mldsa_keygen_internal(MLDSA_44, seed, 32, pk, sizeof(pk), sk, 2560) == PQC_OK;
    tu(&t, CKA_CLASS, CKO_PRIVATE_KEY);
    tu(&t, CKA_KEY_TYPE, CKK_ML_DSA);
    tu(&t, CKA_PARAMETER_SET, CKP_ML_DSA_44);
    tb(&t, CKA_VALUE, sk, 2560);
    ok = ok && engine_import_private_key(e, t.a, t.n, &k) == CKR_OK &&
         engine_sign_single(e, eb(&k), &m, (engine_bytes){(const uint8_t *)"abc", 3}, &s) ==
             CKR_OK &&
         SHA256(s.ptr, s.len, dg) != NULL &&
         eqhex(dg, 32, "9c2afc5db0e15c199977be79eaee52ca0b538a1b6f8039dcac032a06120cfa87");
    if (sk != NULL)
        OPENSSL_cleanse(sk, 2560);
    free(sk);
    engine_buf_free(&k);
    engine_buf_free(&s);
    return ok;
}

static bool st_mlkem(engine *e)
{
    uint8_t d[32], z[32], m[32], ek[1184], *dk = malloc(2400), ct[1088], ss[32], dg[32];
    st_tmpl t = {0}, a = {0};
    engine_buf k = {0}, key = {0};
    engine_mech mech = {.type = CKM_ML_KEM};
    CK_BBOOL f = CK_FALSE;
    bool ok;
    for (int i = 0; i < 32; i++)
        d[i] = (uint8_t)(0x40 + i), z[i] = (uint8_t)(0x80 + i), m[i] = (uint8_t)(0xc0 + i);
    ok =
        dk != NULL &&
        mlkem_keygen_internal(MLKEM_768, d, 32, z, 32, ek, sizeof(ek), dk, 2400) == PQC_OK &&
        mlkem_encaps_internal(MLKEM_768, ek, sizeof(ek), m, 32, ct, sizeof(ct), ss, 32) == PQC_OK &&
        SHA256(ct, sizeof(ct), dg) != NULL &&
        eqhex(dg, 32, "6f3b3662a3417088b0bab01def55edffa713c2300d2146c1218fb89b72262f37");
    tu(&t, CKA_CLASS, CKO_PRIVATE_KEY);
    tu(&t, CKA_KEY_TYPE, CKK_ML_KEM);
    tu(&t, CKA_PARAMETER_SET, CKP_ML_KEM_768);
    tb(&t, CKA_VALUE, dk, 2400);
    tu(&a, CKA_KEY_TYPE, CKK_GENERIC_SECRET);
    tb(&a, CKA_SENSITIVE, &f, 1);
    ok = ok && engine_import_private_key(e, t.a, t.n, &k) == CKR_OK &&
         engine_decapsulate(e, &mech, eb(&k), (engine_bytes){ct, sizeof(ct)}, a.a, a.n, &key) ==
             CKR_OK &&
         st_secret_equals(e, &key,
                          "2c35e52a6b5bf457018914b0e355c7eb65392f376e5b8173698f6274484503dc");
    if (dk != NULL)
        OPENSSL_cleanse(dk, 2400);
    free(dk);
    OPENSSL_cleanse(ss, sizeof(ss));
    engine_buf_free(&k);
    engine_buf_free(&key);
    return ok;
}

/* BIP-0032 test vector 1: seed 000102..0f; m's chain code; M/0H (PRV2PUB)
 * compressed 035a7846.. and its chain code. */
static bool st_btc(engine *e)
{
    static const uint8_t seed[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    st_tmpl t = {0}, d = {0};
    engine_buf s = {0}, cs = {0}, m = {0}, mc = {0}, p = {0}, pc = {0};
    engine_mech mech = {.type = CKM_IBM_BTC_DERIVE, .kind = ENGINE_PARAM_BTC};
    CK_ATTRIBUTE_TYPE ty = CKA_EC_POINT;
    CK_ATTRIBUTE *a = NULL;
    CK_ULONG n = 0;
    bool ok;

    tu(&t, CKA_CLASS, CKO_SECRET_KEY);
    tu(&t, CKA_KEY_TYPE, CKK_GENERIC_SECRET);
    tb(&t, CKA_VALUE, seed, sizeof(seed));
    tu(&d, CKA_KEY_TYPE, CKK_EC);
    mech.btc.type = CK_IBM_BIP0032_MASTERK;
    mech.btc.version = CK_IBM_BTC_DERIVE_PARAMS_VERSION_1;
    ok =
        engine_import_secret_key(e, t.a, t.n, &s, &cs) == CKR_OK &&
        engine_derive_key(e, &mech, d.a, d.n, eb(&s), (engine_bytes){NULL, 0}, &m, &mc) == CKR_OK &&
        eqhex(mc.ptr, mc.len, "873dff81c02f525623fd1fe5167eac3a55a049de3d314bb42ee227ffed37d508");
    mech.btc.type = CK_IBM_BIP0032_PRV2PUB;
    mech.btc.index = CK_IBM_BIP0032_HARDENED;
    mech.btc.chain_code = eb(&mc);
    ok =
        ok &&
        engine_derive_key(e, &mech, d.a, d.n, eb(&m), (engine_bytes){NULL, 0}, &p, &pc) == CKR_OK &&
        eqhex(pc.ptr, pc.len, "47fdacbd0f1097043b78c63c20c34ef4ed9a111d980047ad16282c7ae6236141") &&
        engine_get_attribute_value(e, eb(&p), &ty, 1, &a, &n) == CKR_OK && a[0].ulValueLen == 67 &&
        (((const uint8_t *)a[0].pValue)[66] & 1) == 1 &&
        eqhex((const uint8_t *)a[0].pValue + 3, 32,
              "5a784662a4a20a65bf6aab9ae98a6c068a81c52e4b032c0fb5400c706cfccc56");
    engine_attrs_free(a, n);
    engine_buf_free(&s);
    engine_buf_free(&cs);
    engine_buf_free(&m);
    engine_buf_free(&mc);
    engine_buf_free(&p);
    engine_buf_free(&pc);
    return ok;
}

bool selftest_public_key(engine *e)
{
    return st_ed25519(e) && st_ecdsa(e) && st_x25519(e) && st_rsa(e) && st_mldsa(e) &&
           st_mlkem(e) && st_btc(e);
}
