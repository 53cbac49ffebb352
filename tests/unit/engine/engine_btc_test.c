/* CKM_IBM_BTC_DERIVE through the engine API: every path of the BIP-0032
 * test vectors 1-4 (tests/vectors/bip32) and of the SLIP-0010 vectors for
 * secp256k1, NIST P-256 and Ed25519 (tests/vectors/slip10), derived from
 * the seed as IBM's clients do it (MASTERK, then PRV2PRV per step), each
 * child's private key (wrapped out and read back), public key and chain
 * code compared; PRV2PUB at every step, PUB2PUB from an imported parent
 * public key at every normal step. Then the parameter and policy rules. */
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>

#include "epk.h"
#include "testspki.h"
#include "etest.h"
#include "kex.h"
#include "testvec.h"

static const uint8_t KEKV[32] = {0x42, 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                 16,   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
static const uint8_t MSG[] = "BIP-0032 / SLIP-0010 child key";
static const uint8_t OID_K1[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a};
static const uint8_t OID_P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t OID_ED[] = {0x06, 0x03, 0x2b, 0x65, 0x70};

typedef struct {
    engine *e;
    engine_buf kek;
    int priv_ok, pub_ok, chain_ok, pub2pub_ok, paths;
} ctx_t;

static engine_mech btc_mech(CK_ULONG type, uint64_t index, const uint8_t *cc, size_t cclen)
{
    engine_mech m = et_mech(CKM_IBM_BTC_DERIVE);
    m.kind = ENGINE_PARAM_BTC;
    m.btc.type = type;
    m.btc.index = index;
    m.btc.chain_code = et_raw(cc, cclen);
    m.btc.version = CK_IBM_BTC_DERIVE_PARAMS_VERSION_1;
    return m;
}

/* The template IBM's Go examples send (one for every derivation). */
static void ibm_template(etmpl *t, const uint8_t *oid, size_t oidlen)
{
    et_reset(t);
    et_ulong(t, CKA_KEY_TYPE, CKK_EC);
    et_bytes(t, CKA_EC_PARAMS, oid, oidlen);
    et_ulong(t, CKA_VALUE_LEN, 0);
    et_bool(t, CKA_IBM_USE_AS_DATA, 1);
    et_bool(t, CKA_DERIVE, 1);
    et_bool(t, CKA_VERIFY, 1);
    et_bool(t, CKA_EXTRACTABLE, 1); /* so the test can read the private key back */
}

static CK_RV derive(ctx_t *c, CK_ULONG type, uint64_t idx, const engine_buf *base,
                    const uint8_t *cc, size_t cclen, const uint8_t *oid, size_t oidlen,
                    engine_buf *key, engine_buf *chain)
{
    etmpl t;
    engine_mech m = btc_mech(type, idx, cc, cclen);
    ibm_template(&t, oid, oidlen);
    return engine_derive_key(c->e, &m, t.a, t.n, et_b(base), et_raw(NULL, 0), key, chain);
}

/* The private key inside a blob: wrapped (AES-KWP, PKCS #8) and opened here. */
static void priv_of(ctx_t *c, const engine_buf *blob, bool ed, uint8_t out[32])
{
    engine_mech kwp = et_mech(CKM_AES_KEY_WRAP_PAD);
    engine_buf w = {0};
    uint8_t pt[512];
    int l1 = 0, l2 = 0;
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    assert_int_equal(engine_wrap_key(c->e, et_b(blob), et_b(&c->kek), et_raw(NULL, 0), &kwp, &w),
                     CKR_OK);
    EVP_CIPHER_CTX_set_flags(x, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    assert_int_equal(EVP_DecryptInit_ex(x, EVP_aes_256_wrap_pad(), NULL, KEKV, NULL), 1);
    assert_int_equal(EVP_DecryptUpdate(x, pt, &l1, w.ptr, (int)w.len), 1);
    assert_int_equal(EVP_DecryptFinal_ex(x, pt + l1, &l2), 1);
    const unsigned char *p = pt;
    PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, l1 + l2);
    EVP_PKEY *k = p8 ? EVP_PKCS82PKEY(p8) : NULL;
    assert_non_null(k);
    if (ed) {
        size_t rl = 32;
        assert_int_equal(EVP_PKEY_get_raw_private_key(k, out, &rl), 1);
    } else {
        BIGNUM *d = NULL;
        assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &d), 1);
        assert_int_equal(BN_bn2binpad(d, out, 32), 32);
        BN_clear_free(d);
    }
    OPENSSL_cleanse(pt, sizeof(pt));
    EVP_PKEY_free(k);
    PKCS8_PRIV_KEY_INFO_free(p8);
    EVP_CIPHER_CTX_free(x);
    engine_buf_free(&w);
}

/* serP of an SPKI's key, as the vectors write it: compressed EC points,
 * 0x00 || key for Ed25519. */
static void serp_of_spki(const uint8_t *spki, size_t len, uint8_t out[33])
{
    EVP_PKEY *k = testspki_key(spki, len);
    uint8_t raw[65];
    size_t rl = sizeof(raw);
    assert_non_null(k);
    if (EVP_PKEY_is_a(k, "ED25519")) {
        rl = 32;
        assert_int_equal(EVP_PKEY_get_raw_public_key(k, out + 1, &rl), 1);
        out[0] = 0;
    } else {
        assert_int_equal(
            EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, raw, rl, &rl),
            1);
        assert_int_equal(rl, 65);
        out[0] = (uint8_t)(2 | (raw[64] & 1));
        memcpy(out + 1, raw + 1, 32);
    }
    EVP_PKEY_free(k);
}

static void serp_of(ctx_t *c, const engine_buf *obj, uint8_t out[33])
{
    CK_ATTRIBUTE *a = NULL;
    if (obj->ptr[0] == 0x30) { /* a MACed SPKI */
        serp_of_spki(obj->ptr, epk_spki_len(obj), out);
        return;
    }
    assert_int_equal(epk_attr(c->e, obj, CKA_PUBLIC_KEY_INFO, &a), CKR_OK);
    serp_of_spki(a[0].pValue, a[0].ulValueLen, out);
    engine_attrs_free(a, 1);
}

/* A trusted public key from a vector's serP (C_CreateObject, CKA_DERIVE). */
static void import_pub(ctx_t *c, const uint8_t *oid, size_t oidlen, const uint8_t serp[33],
                       engine_buf *pub)
{
    etmpl t;
    uint8_t full[65];
    EC_GROUP *g =
        EC_GROUP_new_by_curve_name(oid == OID_P256 ? NID_X9_62_prime256v1 : NID_secp256k1);
    EC_POINT *p = g ? EC_POINT_new(g) : NULL;
    assert_non_null(p);
    assert_int_equal(EC_POINT_oct2point(g, p, serp, 33, NULL), 1);
    assert_int_equal(EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, full, 65, NULL), 65);
    EC_POINT_free(p);
    EC_GROUP_free(g);
    et_reset(&t);
    et_ulong(&t, CKA_CLASS, CKO_PUBLIC_KEY);
    et_ulong(&t, CKA_KEY_TYPE, CKK_EC);
    et_bytes(&t, CKA_EC_PARAMS, oid, oidlen);
    et_bytes(&t, CKA_EC_POINT, full, 65); /* raw */
    et_bool(&t, CKA_DERIVE, 1);
    assert_int_equal(engine_import_public_key(c->e, t.a, t.n, pub), CKR_OK);
}

/* "m/0'/1/2'" -> indexes; returns the count. */
static int parse_path(const char *s, uint32_t idx[16])
{
    int n = 0;
    assert_true(s[0] == 'm');
    for (s++; *s == '/'; n++) {
        char *end;
        unsigned long v = strtoul(s + 1, &end, 10);
        idx[n] = (uint32_t)v | (*end == '\'' ? 0x80000000u : 0);
        s = *end == '\'' ? end + 1 : end;
    }
    assert_true(*s == '\0');
    return n;
}

/* The expected values of one path. */
typedef struct {
    uint8_t chain[32], priv[32], serp[33];
} expect;

static void check_node(ctx_t *c, const engine_buf *key, const engine_buf *chain, bool ed,
                       const expect *x)
{
    uint8_t k[32], p[33];
    assert_int_equal(chain->len, 32);
    assert_memory_equal(chain->ptr, x->chain, 32);
    c->chain_ok++;
    priv_of(c, key, ed, k);
    assert_memory_equal(k, x->priv, 32);
    c->priv_ok++;
    serp_of(c, key, p);
    assert_memory_equal(p, x->serp, 33);
    c->pub_ok++;
}

/* One vector: seed, then every path in order (each extends the last). */
static void run_vector(ctx_t *c, bool slip, const char *curve, const uint8_t *seed, size_t slen,
                       const cJSON *paths, void (*expect_of)(const cJSON *, expect *))
{
    const uint8_t *oid = strcmp(curve, "P-256") == 0     ? OID_P256
                         : strcmp(curve, "Ed25519") == 0 ? OID_ED
                                                         : OID_K1;
    size_t ol = oid == OID_P256 ? sizeof(OID_P256)
                : oid == OID_ED ? sizeof(OID_ED)
                                : sizeof(OID_K1);
    bool ed = oid == OID_ED;
    CK_ULONG t0 = slip ? CK_IBM_SLIP0010_PRV2PRV : CK_IBM_BIP0032_PRV2PRV;
    engine_buf s = {0}, key = {0}, chain = {0};
    expect prev;
    uint32_t idx[16];
    int depth = 0;
    const cJSON *p;

    assert_int_equal(et_import(c->e, CKK_GENERIC_SECRET, seed, slen, &s), CKR_OK);
    cJSON_ArrayForEach(p, paths)
    {
        expect x;
        int n = parse_path(testvec_str_field(p, "path"), idx);
        expect_of(p, &x);
        if (n == 0) {
            assert_int_equal(derive(c, t0 + 3, 0, &s, NULL, 0, oid, ol, &key, &chain), CKR_OK);
        } else {
            engine_buf child = {0}, cc = {0}, pub = {0}, pc = {0}, ppub = {0};
            uint8_t pp[33];
            assert_int_equal(n, depth + 1);
            uint32_t i = idx[n - 1];
            assert_int_equal(derive(c, t0, i, &key, chain.ptr, 32, oid, ol, &child, &cc), CKR_OK);
            /* PRV2PUB: the same public key and chain code. */
            assert_int_equal(derive(c, t0 + 1, i, &key, chain.ptr, 32, oid, ol, &pub, &pc), CKR_OK);
            assert_memory_equal(pc.ptr, x.chain, 32);
            serp_of(c, &pub, pp);
            assert_memory_equal(pp, x.serp, 33);
            c->pub_ok++;
            /* PUB2PUB from the parent's public key (imported from the vector). */
            if (!ed && !(i & 0x80000000u)) {
                engine_buf q = {0}, qc = {0};
                import_pub(c, oid, ol, prev.serp, &ppub);
                assert_int_equal(derive(c, t0 + 2, i, &ppub, prev.chain, 32, oid, ol, &q, &qc),
                                 CKR_OK);
                assert_memory_equal(qc.ptr, x.chain, 32);
                serp_of(c, &q, pp);
                assert_memory_equal(pp, x.serp, 33);
                c->pub2pub_ok++;
                engine_buf_free(&q);
                engine_buf_free(&qc);
            }
            engine_buf_free(&key);
            engine_buf_free(&chain);
            key = child;
            chain = cc;
            engine_buf_free(&pub);
            engine_buf_free(&pc);
            engine_buf_free(&ppub);
        }
        depth = n;
        check_node(c, &key, &chain, ed, &x);
        c->paths++;
        prev = x;
    }
    engine_buf_free(&s);
    engine_buf_free(&key);
    engine_buf_free(&chain);
}

/* ---- BIP-0032: the values come in base58check xprv / xpub strings ---- */

static size_t b58check(const char *s, uint8_t *out, size_t cap)
{
    static const char A[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    uint8_t buf[128] = {0}, md[32];
    size_t n = strlen(s);
    assert_true(cap + 4 <= sizeof(buf));
    for (size_t i = 0; i < n; i++) {
        const char *d = strchr(A, s[i]);
        assert_non_null(d);
        unsigned carry = (unsigned)(d - A);
        for (size_t j = sizeof(buf); j-- > 0;) {
            carry += 58u * buf[j];
            buf[j] = (uint8_t)carry;
            carry >>= 8;
        }
        assert_int_equal(carry, 0);
    }
    /* 78 bytes of payload + 4 of checksum, at the end of buf. */
    const uint8_t *pl = buf + sizeof(buf) - 82;
    EVP_Digest(pl, 78, md, NULL, EVP_sha256(), NULL);
    EVP_Digest(md, 32, md, NULL, EVP_sha256(), NULL);
    assert_memory_equal(md, pl + 78, 4);
    memcpy(out, pl, 78);
    return 78;
}

static void bip32_expect(const cJSON *p, expect *x)
{
    uint8_t prv[78], pub[78];
    b58check(testvec_str_field(p, "xprv"), prv, sizeof(prv));
    b58check(testvec_str_field(p, "xpub"), pub, sizeof(pub));
    /* version 4 | depth 1 | fingerprint 4 | child 4 | chain 32 | key 33 */
    assert_memory_equal(prv, "\x04\x88\xad\xe4", 4);
    assert_memory_equal(pub, "\x04\x88\xb2\x1e", 4);
    assert_int_equal(prv[45], 0);
    memcpy(x->chain, prv + 13, 32);
    memcpy(x->priv, prv + 46, 32);
    memcpy(x->serp, pub + 45, 33);
}

static void slip10_expect(const cJSON *p, expect *x)
{
    size_t l;
    uint8_t *a = testvec_hex_field(p, "chain", &l), *b, *c;
    assert_non_null(a);
    assert_int_equal(l, 32);
    b = testvec_hex_field(p, "private", &l);
    assert_non_null(b);
    assert_int_equal(l, 32);
    c = testvec_hex_field(p, "public", &l);
    assert_non_null(c);
    assert_int_equal(l, 33);
    memcpy(x->chain, a, 32);
    memcpy(x->priv, b, 32);
    memcpy(x->serp, c, 33);
    free(a);
    free(b);
    free(c);
}

static ctx_t ctx_new(void)
{
    ctx_t c;
    memset(&c, 0, sizeof(c));
    c.e = et_engine();
    assert_int_equal(et_import(c.e, CKK_AES, KEKV, 32, &c.kek), CKR_OK);
    return c;
}

static void ctx_free(ctx_t *c)
{
    engine_buf_free(&c->kek);
    engine_destroy(c->e);
}

static void run_file(const char *rel, bool slip, int want_vectors, int want_paths)
{
    ctx_t c = ctx_new();
    cJSON *j = testvec_load_json(rel), *v;
    int nv = 0;
    assert_non_null(j);
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(j, "vectors"))
    {
        size_t sl;
        uint8_t *seed = testvec_hex_field(v, "seed", &sl);
        const char *curve = slip ? testvec_str_field(v, "curve") : "secp256k1";
        assert_non_null(seed);
        run_vector(&c, slip, curve, seed, sl, cJSON_GetObjectItem(v, "paths"),
                   slip ? slip10_expect : bip32_expect);
        free(seed);
        nv++;
    }
    print_message("%s: %d vectors, %d paths: %d private keys, %d public keys (incl. PRV2PUB), "
                  "%d chain codes, %d PUB2PUB children match\n",
                  rel, nv, c.paths, c.priv_ok, c.pub_ok, c.chain_ok, c.pub2pub_ok);
    assert_int_equal(nv, want_vectors);
    assert_int_equal(c.paths, want_paths);
    cJSON_Delete(j);
    ctx_free(&c);
}

static void test_bip32_vectors(void **st)
{
    (void)st;
    run_file("bip32/bip32.json", false, 4, 17);
}

static void test_slip10_vectors(void **st)
{
    (void)st;
    run_file("slip10/slip10.json", true, 8, 40);
}

/* Derived keys sign (CKM_ECDSA / CKM_EDDSA) and the PRV2PUB key verifies. */
static void test_derived_keys_sign(void **st)
{
    static const uint8_t seed[32] = {1, 2, 3};
    const struct {
        const uint8_t *oid;
        size_t ol;
        CK_MECHANISM_TYPE sig;
    } C[] = {{OID_K1, sizeof(OID_K1), CKM_ECDSA},
             {OID_P256, sizeof(OID_P256), CKM_ECDSA_SHA256},
             {OID_ED, sizeof(OID_ED), CKM_EDDSA}};
    ctx_t c = ctx_new();
    (void)st;
    for (size_t i = 0; i < 3; i++) {
        engine_buf s = {0}, mk = {0}, mc = {0}, k = {0}, kc = {0}, p = {0}, pc = {0}, sig = {0};
        engine_mech sm = et_mech(C[i].sig);
        CK_ATTRIBUTE *a = NULL;
        CK_ULONG gm = 0;
        assert_int_equal(et_import(c.e, CKK_GENERIC_SECRET, seed, sizeof(seed), &s), CKR_OK);
        assert_int_equal(
            derive(&c, CK_IBM_SLIP0010_MASTERK, 0, &s, NULL, 0, C[i].oid, C[i].ol, &mk, &mc),
            CKR_OK);
        assert_int_equal(derive(&c, CK_IBM_SLIP0010_PRV2PRV, 0x80000005u, &mk, mc.ptr, 32, C[i].oid,
                                C[i].ol, &k, &kc),
                         CKR_OK);
        assert_int_equal(derive(&c, CK_IBM_SLIP0010_PRV2PUB, 0x80000005u, &mk, mc.ptr, 32, C[i].oid,
                                C[i].ol, &p, &pc),
                         CKR_OK);
        assert_memory_equal(kc.ptr, pc.ptr, 32);
        assert_int_equal(engine_sign_single(c.e, et_b(&k), &sm, et_raw(MSG, sizeof(MSG)), &sig),
                         CKR_OK);
        assert_int_equal(
            engine_verify_single(c.e, et_b(&p), &sm, et_raw(MSG, sizeof(MSG)), et_b(&sig)), CKR_OK);
        /* Made by DeriveKey: the mechanism is recorded, the key is not LOCAL. */
        assert_int_equal(epk_attr(c.e, &k, CKA_KEY_GEN_MECHANISM, &a), CKR_OK);
        memcpy(&gm, a[0].pValue, sizeof(gm));
        assert_int_equal(gm, CKM_IBM_BTC_DERIVE);
        engine_attrs_free(a, 1);
        assert_int_equal(epk_attr(c.e, &k, CKA_LOCAL, &a), CKR_OK);
        assert_int_equal(*(CK_BBOOL *)a[0].pValue, CK_FALSE);
        engine_attrs_free(a, 1);
        engine_buf_free(&s);
        engine_buf_free(&mk);
        engine_buf_free(&mc);
        engine_buf_free(&k);
        engine_buf_free(&kc);
        engine_buf_free(&p);
        engine_buf_free(&pc);
        engine_buf_free(&sig);
    }
    ctx_free(&c);
}

/* Bad parameters, bases and templates, each with its CK_RV. */
static void test_rules(void **st)
{
    static const uint8_t seed[32] = {9}, cc[32] = {7};
    ctx_t c = ctx_new();
    engine_buf s = {0}, short_s = {0}, nod = {0}, mk = {0}, mc = {0}, ek = {0}, ec = {0}, pk = {0},
               pc = {0}, pb = {0}, k = {0}, sum = {0};
    engine_mech m;
    etmpl t;
    (void)st;
    assert_int_equal(et_import(c.e, CKK_GENERIC_SECRET, seed, sizeof(seed), &s), CKR_OK);
    assert_int_equal(et_import(c.e, CKK_GENERIC_SECRET, seed, 15, &short_s), CKR_OK);
    et_reset(&t);
    et_ulong(&t, CKA_CLASS, CKO_SECRET_KEY);
    et_ulong(&t, CKA_KEY_TYPE, CKK_GENERIC_SECRET);
    et_bytes(&t, CKA_VALUE, seed, sizeof(seed));
    et_bool(&t, CKA_DERIVE, 0);
    assert_int_equal(engine_import_secret_key(c.e, t.a, t.n, &nod, &sum), CKR_OK);
    engine_buf_free(&sum);
    assert_int_equal(
        derive(&c, CK_IBM_BIP0032_MASTERK, 0, &s, NULL, 0, OID_K1, sizeof(OID_K1), &mk, &mc),
        CKR_OK);
    assert_int_equal(
        derive(&c, CK_IBM_SLIP0010_MASTERK, 0, &s, NULL, 0, OID_ED, sizeof(OID_ED), &ek, &ec),
        CKR_OK);
    assert_int_equal(
        derive(&c, CK_IBM_BIP0032_PRV2PUB, 1, &mk, mc.ptr, 32, OID_K1, sizeof(OID_K1), &pk, &pc),
        CKR_OK);
#define EXPECT(rv, call)                                                                           \
    do {                                                                                           \
        assert_int_equal((call), (rv));                                                            \
        assert_null(k.ptr);                                                                        \
        assert_null(sum.ptr);                                                                      \
    } while (0)
#define D(type, idx, base, chain, cl, oid)                                                         \
    derive(&c, type, idx, base, chain, cl, oid, sizeof(oid), &k, &sum)
    /* Parameter values. */
    ibm_template(&t, OID_K1, sizeof(OID_K1));
    m = btc_mech(CK_IBM_BIP0032_PRV2PRV, 0, mc.ptr, 32);
    m.btc.version = 2;
    EXPECT(CKR_MECHANISM_PARAM_INVALID,
           engine_derive_key(c.e, &m, t.a, t.n, et_b(&mk), et_raw(NULL, 0), &k, &sum));
    m = btc_mech(CK_IBM_BIP0032_PRV2PRV, 0, mc.ptr, 32);
    m.kind = ENGINE_PARAM_BYTES;
    EXPECT(CKR_MECHANISM_PARAM_INVALID,
           engine_derive_key(c.e, &m, t.a, t.n, et_b(&mk), et_raw(NULL, 0), &k, &sum));
    EXPECT(CKR_MECHANISM_PARAM_INVALID, D(0, 0, &mk, mc.ptr, 32, OID_K1));
    EXPECT(CKR_MECHANISM_PARAM_INVALID, D(9, 0, &mk, mc.ptr, 32, OID_K1));
    EXPECT(CKR_MECHANISM_PARAM_INVALID,
           D(CK_IBM_BIP0032_PRV2PRV, 0x100000000ull, &mk, mc.ptr, 32, OID_K1));
    EXPECT(CKR_MECHANISM_PARAM_INVALID, D(CK_IBM_BIP0032_PRV2PRV, 0, &mk, mc.ptr, 31, OID_K1));
    EXPECT(CKR_MECHANISM_PARAM_INVALID, D(CK_IBM_BIP0032_PRV2PRV, 0, &mk, NULL, 0, OID_K1));
    EXPECT(CKR_MECHANISM_PARAM_INVALID, D(CK_IBM_BIP0032_MASTERK, 0, &s, cc, 32, OID_K1));
    EXPECT(CKR_MECHANISM_PARAM_INVALID, D(CK_IBM_BIP0032_MASTERK, 1, &s, NULL, 0, OID_K1));
    /* Public derivation of a hardened child; Ed25519 normal children and PUB2PUB. */
    EXPECT(CKR_MECHANISM_PARAM_INVALID,
           D(CK_IBM_BIP0032_PUB2PUB, 0x80000000u, &pk, pc.ptr, 32, OID_K1));
    EXPECT(CKR_MECHANISM_PARAM_INVALID, D(CK_IBM_SLIP0010_PRV2PRV, 1, &ek, ec.ptr, 32, OID_ED));
    /* Bases: seed length, usage, kind and curve. */
    EXPECT(CKR_KEY_SIZE_RANGE, D(CK_IBM_BIP0032_MASTERK, 0, &short_s, NULL, 0, OID_K1));
    EXPECT(CKR_KEY_FUNCTION_NOT_PERMITTED, D(CK_IBM_BIP0032_MASTERK, 0, &nod, NULL, 0, OID_K1));
    EXPECT(CKR_KEY_TYPE_INCONSISTENT, D(CK_IBM_BIP0032_MASTERK, 0, &mk, NULL, 0, OID_K1));
    EXPECT(CKR_KEY_TYPE_INCONSISTENT,
           D(CK_IBM_BIP0032_PRV2PRV, 0x80000000u, &ek, ec.ptr, 32, OID_ED));
    EXPECT(CKR_KEY_TYPE_INCONSISTENT, D(CK_IBM_BIP0032_PUB2PUB, 0, &mk, mc.ptr, 32, OID_K1));
    /* A plain (untrusted) SPKI is no base: its children would be MACed. */
    pb.ptr = pk.ptr;
    pb.len = epk_spki_len(&pk);
    EXPECT(CKR_KEY_FUNCTION_NOT_PERMITTED, D(CK_IBM_BIP0032_PUB2PUB, 0, &pb, pc.ptr, 32, OID_K1));
    pb.ptr = NULL;
    /* Templates: curves, class. */
    EXPECT(CKR_TEMPLATE_INCONSISTENT, D(CK_IBM_BIP0032_MASTERK, 0, &s, NULL, 0, OID_P256));
    EXPECT(CKR_TEMPLATE_INCONSISTENT, D(CK_IBM_BIP0032_PRV2PRV, 0, &mk, mc.ptr, 32, OID_P256));
    {
        static const uint8_t P384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
        EXPECT(CKR_CURVE_NOT_SUPPORTED, D(CK_IBM_SLIP0010_MASTERK, 0, &s, NULL, 0, P384));
    }
    et_reset(&t);
    et_ulong(&t, CKA_CLASS, CKO_PUBLIC_KEY);
    m = btc_mech(CK_IBM_BIP0032_PRV2PRV, 0, mc.ptr, 32);
    EXPECT(CKR_TEMPLATE_INCONSISTENT,
           engine_derive_key(c.e, &m, t.a, t.n, et_b(&mk), et_raw(NULL, 0), &k, &sum));
    et_reset(&t);
    et_ulong(&t, CKA_VALUE_LEN, 32);
    EXPECT(CKR_TEMPLATE_INCONSISTENT,
           engine_derive_key(c.e, &m, t.a, t.n, et_b(&mk), et_raw(NULL, 0), &k, &sum));
    /* SLIP-0010 master keys need a curve; BIP-0032's is secp256k1. */
    et_reset(&t);
    m = btc_mech(CK_IBM_SLIP0010_MASTERK, 0, NULL, 0);
    EXPECT(CKR_TEMPLATE_INCOMPLETE,
           engine_derive_key(c.e, &m, t.a, t.n, et_b(&s), et_raw(NULL, 0), &k, &sum));
    m = btc_mech(CK_IBM_BIP0032_MASTERK, 0, NULL, 0);
    assert_int_equal(engine_derive_key(c.e, &m, t.a, t.n, et_b(&s), et_raw(NULL, 0), &k, &sum),
                     CKR_OK);
    assert_memory_equal(sum.ptr, mc.ptr, 32);
    engine_buf_free(&k);
    engine_buf_free(&sum);
#undef D
#undef EXPECT
    engine_buf_free(&s);
    engine_buf_free(&short_s);
    engine_buf_free(&nod);
    engine_buf_free(&mk);
    engine_buf_free(&mc);
    engine_buf_free(&ek);
    engine_buf_free(&ec);
    engine_buf_free(&pk);
    engine_buf_free(&pc);
    ctx_free(&c);
}

/* BIP-0032's invalid children (IL >= n, or IL + k = 0 mod n) are refused,
 * never reduced into some other key. */
static void test_invalid_child_scalar(void **st)
{
    static const uint8_t N[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                  0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    uint8_t k[32] = {0}, il[32], out[32], want[32] = {0};
    (void)st;
    k[31] = 5;
    assert_false(btc_child_scalar(N, k, N, out)); /* IL = n */
    memcpy(il, N, 32);
    il[31] -= 5; /* IL = n - k: the sum is 0 */
    assert_false(btc_child_scalar(N, k, il, out));
    il[31] += 1; /* n - 4: sum = 1 mod n */
    assert_true(btc_child_scalar(N, k, il, out));
    want[31] = 1;
    assert_memory_equal(out, want, 32);
    memcpy(k, N, 32);
    k[31] -= 1; /* k = n - 1, IL = 2: 1 */
    memset(il, 0, 32);
    il[31] = 2;
    assert_true(btc_child_scalar(N, k, il, out));
    assert_memory_equal(out, want, 32);
    memset(il, 0xff, 32); /* IL > n */
    assert_false(btc_child_scalar(N, k, il, out));
}

static void test_mechanism_info(void **st)
{
    engine *e = et_engine();
    CK_MECHANISM_INFO mi;
    (void)st;
    assert_int_equal(engine_mechanism_info(e, CKM_IBM_BTC_DERIVE, &mi), CKR_OK);
    assert_true(mi.flags & CKF_DERIVE);
    assert_false(mi.flags & (CKF_SIGN | CKF_GENERATE_KEY_PAIR | CKF_ENCRYPT));
    assert_int_equal(mi.ulMinKeySize, 255);
    assert_int_equal(mi.ulMaxKeySize, 256);
    assert_string_equal(engine_mechanism_name(CKM_IBM_BTC_DERIVE), "CKM_IBM_BTC_DERIVE");
    engine_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bip32_vectors),        cmocka_unit_test(test_slip10_vectors),
        cmocka_unit_test(test_derived_keys_sign),    cmocka_unit_test(test_rules),
        cmocka_unit_test(test_invalid_child_scalar), cmocka_unit_test(test_mechanism_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
