/* The engine's key cache (README "Key cache"): bounded, least recently used
 * replacement within a set, never a substitute for the blob check, and
 * results identical with the cache on and off, also under concurrency. */
#include <pthread.h>

#include <openssl/evp.h>

#include "epk.h"
#include "pkcache.h"

static const uint8_t P256_OID[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t ED25519_OID[] = {0x06, 0x03, 0x2b, 0x65, 0x70};

static EVP_PKEY *fresh_key(void)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(k);
    return k;
}

/* An id that lands in set 0 of a one-set cache whatever its tail. */
static void make_id(uint8_t id[PKCACHE_ID_LEN], uint8_t tag)
{
    memset(id, 0, PKCACHE_ID_LEN);
    id[PKCACHE_ID_LEN - 1] = tag;
}

static void test_lru_within_a_set(void **st)
{
    pkcache *c = pkcache_new(4); /* one set of four ways */
    EVP_PKEY *k[5];
    uint8_t id[5][PKCACHE_ID_LEN];
    (void)st;
    assert_non_null(c);
    for (int i = 0; i < 5; i++) {
        k[i] = fresh_key();
        make_id(id[i], (uint8_t)(i + 1));
    }
    for (int i = 0; i < 4; i++)
        pkcache_put(c, id[i], k[i]);
    EVP_PKEY *hit = pkcache_get(c, id[0]); /* touches entry 0 */
    assert_ptr_equal(hit, k[0]);
    EVP_PKEY_free(hit);
    pkcache_put(c, id[4], k[4]); /* evicts entry 1, the least recently used */
    EVP_PKEY *gone = pkcache_get(c, id[1]);
    assert_null(gone);
    for (int i = 0; i < 5; i++) {
        if (i == 1)
            continue;
        hit = pkcache_get(c, id[i]);
        assert_ptr_equal(hit, k[i]);
        EVP_PKEY_free(hit);
    }
    /* The same id twice keeps the first key. */
    pkcache_put(c, id[0], k[1]);
    hit = pkcache_get(c, id[0]);
    assert_ptr_equal(hit, k[0]);
    EVP_PKEY_free(hit);
    for (int i = 0; i < 5; i++)
        EVP_PKEY_free(k[i]); /* the cache holds references of its own */
    pkcache_free(c);
    assert_null(pkcache_new(0));
    pkcache_free(NULL);
}

/* Many distinct keys: never more than the capacity remembered. */
static void test_bounded(void **st)
{
    enum { CAP = 16, N = 200 };
    pkcache *c = pkcache_new(CAP);
    EVP_PKEY *k = fresh_key();
    uint8_t id[PKCACHE_ID_LEN];
    int present = 0;
    (void)st;
    assert_int_equal(EVP_MD_get_size(EVP_sha256()), PKCACHE_ID_LEN);
    for (int i = 0; i < N; i++) {
        unsigned char in[4] = {(unsigned char)i, (unsigned char)(i >> 8), 1, 2};
        unsigned int n = 0;
        assert_int_equal(EVP_Digest(in, sizeof(in), id, &n, EVP_sha256(), NULL), 1);
        pkcache_put(c, id, k);
    }
    for (int i = 0; i < N; i++) {
        unsigned char in[4] = {(unsigned char)i, (unsigned char)(i >> 8), 1, 2};
        unsigned int n = 0;
        assert_int_equal(EVP_Digest(in, sizeof(in), id, &n, EVP_sha256(), NULL), 1);
        EVP_PKEY *hit = pkcache_get(c, id);
        if (hit != NULL)
            present++;
        EVP_PKEY_free(hit);
    }
    assert_true(present > 0 && present <= CAP);
    EVP_PKEY_free(k);
    pkcache_free(c);
}

/* Ed25519 signs deterministically: a copy of the cached template gives the
 * signature a context set up from the key gives. */
static void ed_sign_with(EVP_MD_CTX *c, uint8_t sig[64])
{
    static const uint8_t msg[] = "a template is copied, never used";
    size_t sl = 64;
    assert_int_equal(EVP_DigestSign(c, sig, &sl, msg, sizeof(msg)), 1);
    assert_int_equal(sl, 64);
}

/* Signing templates ride on their entry: copied on a hit, dropped with the
 * entry, refused for an entry that is gone or already has one. */
static void test_signer_templates(void **st)
{
    pkcache *c = pkcache_new(4); /* one set of four ways */
    EVP_PKEY *k = fresh_key(), *other = fresh_key(), *hit;
    uint8_t id[PKCACHE_ID_LEN], id2[PKCACHE_ID_LEN], want[64], got[64];
    pkc_signer t = {NULL, NULL}, copy;
    EVP_MD_CTX *direct = EVP_MD_CTX_new();
    (void)st;
    make_id(id, 1);
    make_id(id2, 2);
    assert_int_equal(EVP_DigestSignInit_ex(direct, NULL, NULL, NULL, NULL, k, NULL), 1);
    ed_sign_with(direct, want);

    /* No entry: the template is freed (ASan builds see a leak otherwise). */
    t.mctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit_ex(t.mctx, NULL, NULL, NULL, NULL, k, NULL), 1);
    pkcache_put_signer(c, id, &t);
    assert_null(t.mctx);

    pkcache_put(c, id, k);
    hit = pkcache_get_signer(c, id, &copy);
    assert_ptr_equal(hit, k);
    assert_null(copy.mctx); /* none yet */
    EVP_PKEY_free(hit);
    t.mctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit_ex(t.mctx, NULL, NULL, NULL, NULL, k, NULL), 1);
    pkcache_put_signer(c, id, &t);
    assert_null(t.mctx); /* taken over */
    for (int i = 0; i < 3; i++) {
        hit = pkcache_get_signer(c, id, &copy);
        assert_non_null(copy.mctx);
        ed_sign_with(copy.mctx, got);
        assert_memory_equal(got, want, sizeof(want));
        pkc_signer_free(&copy);
        EVP_PKEY_free(hit);
    }
    /* A second template for the same entry is not kept. */
    t.mctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit_ex(t.mctx, NULL, NULL, NULL, NULL, other, NULL), 1);
    pkcache_put_signer(c, id, &t);
    hit = pkcache_get_signer(c, id, &copy);
    ed_sign_with(copy.mctx, got);
    assert_memory_equal(got, want, sizeof(want));
    pkc_signer_free(&copy);
    EVP_PKEY_free(hit);
    /* Four other keys evict the entry, and its template with it. */
    for (uint8_t i = 2; i < 6; i++) {
        make_id(id2, i);
        pkcache_put(c, id2, other);
    }
    assert_null(pkcache_get_signer(c, id, &copy));
    assert_null(copy.mctx);
    assert_null(copy.pctx);
    EVP_MD_CTX_free(direct);
    EVP_PKEY_free(k);
    EVP_PKEY_free(other);
    pkcache_free(c);
}

static engine *engine_with(bool cache)
{
    engine *e = NULL;
    engine_policy pol;
    memset(&pol, 0, sizeof(pol));
    pol.flags = cache ? 0 : ENGINE_POLICY_NO_KEY_CACHE;
    pol.key_cache_entries = cache ? 8 : 0;
    assert_int_equal(engine_create(ETEST_WK, &pol, &e), CKR_OK);
    return e;
}

static void pair(engine *e, CK_MECHANISM_TYPE mech, const uint8_t *oid, size_t olen,
                 engine_buf *priv, engine_buf *pub)
{
    etmpl tp, tv;
    et_reset(&tp);
    et_reset(&tv);
    if (oid != NULL)
        et_bytes(&tp, CKA_EC_PARAMS, oid, olen);
    else
        et_ulong(&tp, CKA_MODULUS_BITS, 2048);
    assert_int_equal(epk_pair(e, mech, &tp, &tv, priv, pub), CKR_OK);
}

/* A key that is cached still needs a blob that verifies on every call:
 * damaged bytes are refused after the cache knows the key. Signatures made
 * by the cached key verify on an engine without a cache, and the other
 * way round. */
static void test_cache_never_replaces_blob_check(void **st)
{
    engine *on = engine_with(true), *off = engine_with(false);
    struct {
        CK_MECHANISM_TYPE gen, sign;
        const uint8_t *oid;
        size_t olen;
    } k[] = {{CKM_EC_KEY_PAIR_GEN, CKM_ECDSA_SHA256, P256_OID, sizeof(P256_OID)},
             {CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EDDSA, ED25519_OID, sizeof(ED25519_OID)},
             {CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_SHA256_RSA_PKCS, NULL, 0}};
    const uint8_t msg[] = "the cache memoizes, the blob decides";
    (void)st;
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        engine_buf priv = {0}, pub = {0}, s1 = {0}, s2 = {0}, s3 = {0};
        engine_mech m = et_mech(k[i].sign);
        pair(on, k[i].gen, k[i].oid, k[i].olen, &priv, &pub);
        for (int rep = 0; rep < 3; rep++) { /* miss, then hits */
            engine_buf s = {0};
            assert_int_equal(engine_sign_single(on, et_b(&priv), &m, et_raw(msg, sizeof(msg)), &s),
                             CKR_OK);
            assert_int_equal(
                engine_verify_single(off, et_b(&pub), &m, et_raw(msg, sizeof(msg)), et_b(&s)),
                CKR_OK);
            assert_int_equal(
                engine_verify_single(on, et_b(&pub), &m, et_raw(msg, sizeof(msg)), et_b(&s)),
                CKR_OK);
            engine_buf_free(&s);
        }
        assert_int_equal(engine_sign_single(off, et_b(&priv), &m, et_raw(msg, sizeof(msg)), &s1),
                         CKR_OK);
        assert_int_equal(
            engine_verify_single(on, et_b(&pub), &m, et_raw(msg, sizeof(msg)), et_b(&s1)), CKR_OK);
        /* Flip one bit in the middle (attributes or ciphertext) and at the end (tag). */
        size_t at[2] = {priv.len / 2, priv.len - 1};
        for (int j = 0; j < 2; j++) {
            priv.ptr[at[j]] ^= 0x01;
            assert_int_not_equal(
                engine_sign_single(on, et_b(&priv), &m, et_raw(msg, sizeof(msg)), &s2), CKR_OK);
            assert_null(s2.ptr);
            priv.ptr[at[j]] ^= 0x01;
        }
        /* A blob under another WK is refused although its key is cached here. */
        engine *other = NULL;
        engine_policy pol;
        memset(&pol, 0, sizeof(pol));
        assert_int_equal(engine_create(ETEST_WK2, &pol, &other), CKR_OK);
        assert_int_not_equal(
            engine_sign_single(other, et_b(&priv), &m, et_raw(msg, sizeof(msg)), &s3), CKR_OK);
        engine_destroy(other);
        engine_buf_free(&s1);
        engine_buf_free(&priv);
        engine_buf_free(&pub);
    }
    engine_destroy(on);
    engine_destroy(off);
}

/* Twelve keys through a cache of eight entries from four threads at once:
 * every signature verifies (ASan/UBSan builds check the sharing). */
typedef struct {
    engine *e, *check;
    engine_buf *priv, *pub;
    int nkeys;
    int failures;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *w = p;
    const uint8_t msg[] = "many threads, one cache";
    for (int i = 0; i < 120; i++) {
        int j = (i * 7) % w->nkeys;
        engine_mech m = et_mech(j % 2 ? CKM_EDDSA : CKM_ECDSA_SHA256);
        engine_buf s = {0};
        if (engine_sign_single(w->e, et_b(&w->priv[j]), &m, et_raw(msg, sizeof(msg)), &s) !=
                CKR_OK ||
            engine_verify_single(w->check, et_b(&w->pub[j]), &m, et_raw(msg, sizeof(msg)),
                                 et_b(&s)) != CKR_OK)
            w->failures++;
        engine_buf_free(&s);
    }
    return NULL;
}

static void test_concurrent(void **st)
{
    enum { KEYS = 12, THREADS = 4 };
    engine *on = engine_with(true), *off = engine_with(false);
    engine_buf priv[KEYS], pub[KEYS];
    pthread_t t[THREADS];
    worker_arg w[THREADS];
    (void)st;
    memset(priv, 0, sizeof(priv));
    memset(pub, 0, sizeof(pub));
    /* More keys than entries: evictions (of keys and their signing
     * templates) while in use. Odd keys are Ed25519, even ones P-256. */
    for (int i = 0; i < KEYS; i++) {
        if (i % 2)
            pair(on, CKM_EC_EDWARDS_KEY_PAIR_GEN, ED25519_OID, sizeof(ED25519_OID), &priv[i],
                 &pub[i]);
        else
            pair(on, CKM_EC_KEY_PAIR_GEN, P256_OID, sizeof(P256_OID), &priv[i], &pub[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker_arg){on, off, priv, pub, KEYS, 0};
        assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    for (int i = 0; i < KEYS; i++) {
        engine_buf_free(&priv[i]);
        engine_buf_free(&pub[i]);
    }
    engine_destroy(on);
    engine_destroy(off);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lru_within_a_set),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_signer_templates),
        cmocka_unit_test(test_cache_never_replaces_blob_check),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests_name("engine_keycache", tests, NULL, NULL);
}
