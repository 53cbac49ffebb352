/* Attacks on grep11d from outside, each a regression test of a defect an
 * attacker found (issue 18): key extraction through CKA_TRUSTED, boolean
 * encodings that slipped past role rules, private objects in public
 * keystores, stored keys used without a keystore role. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "devsetup.h"
#include "directory.h"
#include "engine.h"
#include "harness.h"
#include "store.h"
#include "store.pb-c.h"

static const uint8_t PRIV[16] = {0x51, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t PUB[16] = {0x52, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

typedef struct {
    test_server srv;
    g11c_conn *admin;
    g11c_conn *crypto; /* crypto only, granted both keystores */
    g11c_conn *so;     /* crypto + keystore-so */
    g11c_conn *user;   /* crypto + keystore-user */
    g11c_conn *anon;   /* crypto + keystore-anonymous */
} fixture;

static g11c_conn *with_key(fixture *f, const char *name, const char *const *roles, size_t nroles)
{
    char key[160];
    const uint8_t both[2][16] = {{0x51, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
                                 {0x52, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}};
    if (g11c_admin_create_api_key(f->admin, name, roles, nroles, both, 2, NULL, key, sizeof(key),
                                  NULL) != CKR_OK)
        return NULL;
    return test_connect_as(&f->srv, 0, key);
}

static int start(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    static const char *const crypto[] = {"crypto"};
    static const char *const so[] = {"crypto", "keystore-so"};
    static const char *const user[] = {"crypto", "keystore-user"};
    static const char *const anon[] = {"crypto", "keystore-anonymous"};
    if (!f || test_server_start(&f->srv, NULL, NULL) != 0)
        return -1;
    *state = f;
    if (!(f->admin = test_connect(&f->srv, 0)))
        return -1;
    f->crypto = with_key(f, "app", crypto, 1);
    f->so = with_key(f, "so", so, 2);
    f->user = with_key(f, "user", user, 2);
    f->anon = with_key(f, "anon", anon, 2);
    if (!f->crypto || !f->so || !f->user || !f->anon)
        return -1;
    return g11c_store_init_keystores(f->so, PRIV, PUB, "sec", NULL) == CKR_OK ? 0 : -1;
}

static int stop(void **state)
{
    fixture *f = *state;
    g11c_close(f->admin);
    g11c_close(f->crypto);
    g11c_close(f->so);
    g11c_close(f->user);
    g11c_close(f->anon);
    int rc = test_server_stop(&f->srv);
    free(f);
    return rc == 0 ? 0 : -1;
}

static g11c_bytes B(const g11c_buf *b)
{
    return g11c_bytes_of(b);
}

static CK_RV aes_key(g11c_conn *c, CK_BBOOL trusted, CK_BBOOL wrap_with_trusted, g11c_buf *key)
{
    static const CK_ULONG len = 32;
    g11c_mech m = {.type = CKM_AES_KEY_GEN};
    g11c_buf sum = {0};
    CK_ATTRIBUTE t[] = {
        {CKA_VALUE_LEN, (void *)&len, sizeof(len)},
        {CKA_WRAP, (void *)&yes, 1},
        {CKA_EXTRACTABLE, (void *)&yes, 1},
        {CKA_SENSITIVE, (void *)&yes, 1},
        {CKA_WRAP_WITH_TRUSTED, &wrap_with_trusted, 1},
        {CKA_TRUSTED, &trusted, 1},
    };
    CK_RV rv = g11c_generate_key(c, &m, t, 6, key, &sum);
    g11c_buf_free(&sum);
    return rv;
}

/* The attack as found: a crypto-only caller unwraps a key it knows with
 * CKA_TRUSTED=TRUE, then wraps a wrap-with-trusted key under it and so
 * learns its value. Every way to a trusted key must be closed to it. */
static void only_the_so_makes_trusted_keys(void **state)
{
    fixture *f = *state;
    g11c_buf v = {0}, plain = {0}, wrapped = {0}, sk = {0}, pk = {0}, k = {0}, sum = {0};
    assert_int_equal(aes_key(f->crypto, CK_FALSE, CK_TRUE, &v), CKR_OK);
    assert_int_equal(aes_key(f->crypto, CK_FALSE, CK_FALSE, &plain), CKR_OK);
    g11c_mech kw = {.type = CKM_AES_KEY_WRAP_KWP};
    assert_int_not_equal(g11c_wrap_key(f->crypto, B(&v), B(&plain), (g11c_bytes){0}, &kw, &wrapped),
                         CKR_OK);

    /* The direct ways: generate, set. */
    assert_int_equal(aes_key(f->crypto, CK_TRUE, CK_FALSE, &k), CKR_ATTRIBUTE_READ_ONLY);
    CK_ATTRIBUTE trust[] = {{CKA_TRUSTED, (void *)&yes, 1}};
    g11c_buf set = {0};
    assert_int_equal(g11c_set_attribute_value(f->crypto, B(&plain), trust, 1, &set),
                     CKR_ATTRIBUTE_READ_ONLY);

    /* A key pair with a trusted public key. */
    static const CK_ULONG bits = 2048;
    static const uint8_t e65537[] = {1, 0, 1};
    CK_ATTRIBUTE pub[] = {{CKA_MODULUS_BITS, (void *)&bits, sizeof(bits)},
                          {CKA_PUBLIC_EXPONENT, (void *)e65537, 3},
                          {CKA_ENCRYPT, (void *)&yes, 1},
                          {CKA_WRAP, (void *)&yes, 1},
                          {CKA_TRUSTED, (void *)&yes, 1}};
    CK_ATTRIBUTE priv[] = {{CKA_DECRYPT, (void *)&yes, 1}, {CKA_UNWRAP, (void *)&yes, 1}};
    g11c_mech gen = {.type = CKM_RSA_PKCS_KEY_PAIR_GEN};
    assert_int_equal(g11c_generate_key_pair(f->crypto, &gen, pub, 5, priv, 2, &sk, &pk),
                     CKR_ATTRIBUTE_READ_ONLY);
    assert_int_equal(g11c_generate_key_pair(f->crypto, &gen, pub, 4, priv, 2, &sk, &pk), CKR_OK);

    /* The unwrap: K encrypted under the public key, unwrapped as trusted. */
    uint8_t known[32];
    memset(known, 0x5a, sizeof(known));
    g11c_mech oaep = {.type = CKM_RSA_PKCS_OAEP, .kind = G11C_PARAM_RSA_OAEP};
    oaep.oaep.hash = CKM_SHA256;
    oaep.oaep.mgf = CKG_MGF1_SHA256;
    g11c_buf ct = {0};
    assert_int_equal(
        g11c_encrypt_single(f->crypto, B(&pk), &oaep, (g11c_bytes){known, sizeof(known)}, &ct),
        CKR_OK);
    static const CK_ULONG secret = CKO_SECRET_KEY, aes = CKK_AES, len = 32;
    CK_ATTRIBUTE ut[] = {{CKA_CLASS, (void *)&secret, sizeof(secret)},
                         {CKA_KEY_TYPE, (void *)&aes, sizeof(aes)},
                         {CKA_VALUE_LEN, (void *)&len, sizeof(len)},
                         {CKA_WRAP, (void *)&yes, 1},
                         {CKA_TRUSTED, (void *)&yes, 1}};
    assert_int_equal(
        g11c_unwrap_key(f->crypto, B(&ct), B(&sk), (g11c_bytes){0}, &oaep, ut, 5, &k, &sum),
        CKR_ATTRIBUTE_READ_ONLY);

    /* Store rows cannot claim it either. */
    uint8_t id[16], blob[4] = "abc";
    assert_int_equal(
        g11c_store_create_object(f->user, PUB, NULL, (g11c_bytes){blob, 4}, trust, 1, id, NULL),
        CKR_ATTRIBUTE_READ_ONLY);

    /* The security officer may (the positive control: the rule is a role). */
    assert_int_equal(
        g11c_unwrap_key(f->so, B(&ct), B(&sk), (g11c_bytes){0}, &oaep, ut, 5, &k, &sum), CKR_OK);
    assert_int_equal(g11c_wrap_key(f->so, B(&v), B(&k), (g11c_bytes){0}, &kw, &wrapped), CKR_OK);
    g11c_buf_free(&plain);
    assert_int_equal(aes_key(f->so, CK_TRUE, CK_FALSE, &plain), CKR_OK);
    assert_int_equal(
        g11c_store_create_object(f->so, PUB, NULL, (g11c_bytes){blob, 4}, trust, 1, id, NULL),
        CKR_OK);
    g11c_buf_free(&v);
    g11c_buf_free(&plain);
    g11c_buf_free(&wrapped);
    g11c_buf_free(&sk);
    g11c_buf_free(&pk);
    g11c_buf_free(&k);
    g11c_buf_free(&sum);
    g11c_buf_free(&ct);
}

/* CreateObject with CKA_PRIVATE in one chosen wire encoding. */
static CK_RV create_with_private(g11c_conn *c, const uint8_t ks[16],
                                 Grep11__AttributeValue__OneAttrCase how, const uint8_t *b,
                                 size_t blen, int64_t i)
{
    Grep11__AttributeValue v = GREP11__ATTRIBUTE_VALUE__INIT;
    v.one_attr_case = how; /* the oneof is a union: set only the chosen member */
    if (how == GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_TF)
        v.attributetf = 1;
    else if (how == GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_I)
        v.attributei = i;
    else
        v.attributeb = (ProtobufCBinaryData){blen, (uint8_t *)b};
    Grep11__CreateObjectRequest__AttributesEntry e =
        GREP11__CREATE_OBJECT_REQUEST__ATTRIBUTES_ENTRY__INIT;
    e.key = CKA_PRIVATE;
    e.value = &v;
    Grep11__CreateObjectRequest__AttributesEntry *ep = &e;
    Grep11__CreateObjectRequest req = GREP11__CREATE_OBJECT_REQUEST__INIT;
    req.keystoreid.data = (uint8_t *)ks;
    req.keystoreid.len = 16;
    req.blob.data = (uint8_t *)"opaque";
    req.blob.len = 6;
    req.n_attributes = 1;
    req.attributes = &ep;
    uint8_t buf[256];
    size_t n = grep11__create_object_request__pack(&req, buf);
    g11c_buf reply = {0};
    CK_RV rv = g11c_raw_call(c, "/grep11.Store/CreateObject", buf, n, &reply);
    g11c_buf_free(&reply);
    return rv;
}

static void every_boolean_encoding_meets_the_same_rule(void **state)
{
    fixture *f = *state;
    static const uint8_t one = 1, two = 2, pair[2] = {0, 1};
    const Grep11__AttributeValue__OneAttrCase TF = GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_TF,
                                              I = GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_I,
                                              BB = GREP11__ATTRIBUTE_VALUE__ONE_ATTR_ATTRIBUTE_B;
    /* The anonymous caller may not make a private object, however TRUE is said. */
    assert_int_equal(create_with_private(f->anon, PUB, TF, NULL, 0, 0), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(create_with_private(f->anon, PUB, I, NULL, 0, 1), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(create_with_private(f->anon, PUB, BB, &one, 1, 0), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(create_with_private(f->so, PUB, I, NULL, 0, 1), CKR_USER_NOT_LOGGED_IN);
    /* Values that are no boolean at all are refused outright. */
    assert_int_equal(create_with_private(f->anon, PUB, I, NULL, 0, 2), CKR_ATTRIBUTE_VALUE_INVALID);
    assert_int_equal(create_with_private(f->anon, PUB, BB, &two, 1, 0),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    assert_int_equal(create_with_private(f->anon, PUB, BB, pair, 2, 0),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    /* FALSE in any encoding is fine and reads back as a CK_BBOOL. */
    assert_int_equal(create_with_private(f->anon, PUB, I, NULL, 0, 0), CKR_OK);
    /* The normal user: TRUE in any encoding lands in its private keystore. */
    assert_int_equal(create_with_private(f->user, PRIV, I, NULL, 0, 1), CKR_OK);
    assert_int_equal(create_with_private(f->user, PRIV, BB, &one, 1, 0), CKR_OK);
}

static void private_objects_stay_out_of_public_keystores(void **state)
{
    fixture *f = *state;
    uint8_t id[16], blob[6] = "opaqu";
    CK_ATTRIBUTE priv[] = {{CKA_LABEL, "p", 1}, {CKA_PRIVATE, (void *)&yes, 1}};
    CK_ATTRIBUTE pub[] = {{CKA_LABEL, "q", 1}, {CKA_PRIVATE, (void *)&no, 1}};
    /* Not even the normal user puts a private object in the public keystore. */
    assert_int_equal(
        g11c_store_create_object(f->user, PUB, NULL, (g11c_bytes){blob, 6}, priv, 2, id, NULL),
        CKR_TEMPLATE_INCONSISTENT);
    /* Nor turns a public one private there. */
    int64_t ver = 0, nv = 0;
    assert_int_equal(
        g11c_store_create_object(f->user, PUB, NULL, (g11c_bytes){blob, 6}, pub, 2, id, &ver),
        CKR_OK);
    assert_int_equal(
        g11c_store_update_object(f->user, PUB, NULL, id, ver, (g11c_bytes){0}, priv, 2, &nv),
        CKR_TEMPLATE_INCONSISTENT);
    /* In the private keystore it is at home. */
    assert_int_equal(
        g11c_store_create_object(f->user, PRIV, NULL, (g11c_bytes){blob, 6}, priv, 2, id, NULL),
        CKR_OK);
}

/* Objects a public keystore already holds with CKA_PRIVATE=TRUE (written
 * before the rule above existed) stay out of sight of anyone who is not
 * the normal user: not found, not read, not destroyed. */
static void private_objects_are_hidden_from_other_roles(void **state)
{
    fixture *f = *state;
    char url[400];
    store *st = NULL;
    store_uuid ks, id;
    uint64_t ver = 0;
    snprintf(url, sizeof(url), "sqlite:%s/keystore.db", f->srv.dir);
    assert_int_equal(store_open(url, NULL, &st), CKR_OK);
    memcpy(ks.b, PUB, 16);
    CK_ATTRIBUTE a[] = {{CKA_LABEL, "legacy", 6}, {CKA_PRIVATE, (void *)&yes, 1}};
    assert_int_equal(
        store_object_create(st, &ks, NULL, (const uint8_t *)"blob", 4, a, 2, &id, &ver), CKR_OK);
    store_close(st);

    CK_ATTRIBUTE by_label[] = {{CKA_LABEL, "legacy", 6}};
    g11c_stored_object *objs = NULL, one;
    size_t n = 0;
    char next[64];
    assert_int_equal(
        g11c_store_find_objects(f->anon, PUB, NULL, by_label, 1, NULL, 100, &objs, &n, next),
        CKR_OK);
    assert_int_equal(n, 0);
    g11c_stored_objects_free(objs, n);
    assert_int_equal(g11c_store_get_object(f->anon, PUB, NULL, id.b, &one),
                     CKR_OBJECT_HANDLE_INVALID);
    assert_int_equal(g11c_store_destroy_object(f->so, PUB, NULL, id.b), CKR_OBJECT_HANDLE_INVALID);
    /* The normal user still sees it, and may clean it up. */
    assert_int_equal(
        g11c_store_find_objects(f->user, PUB, NULL, by_label, 1, NULL, 100, &objs, &n, next),
        CKR_OK);
    assert_int_equal(n, 1);
    g11c_stored_objects_free(objs, n);
    assert_int_equal(g11c_store_destroy_object(f->user, PUB, NULL, id.b), CKR_OK);
}

/* A key with the crypto role alone, even with grants, cannot reach stored
 * keys: the README's role table gives keystores to keystore roles only. */
static void stored_keys_need_a_keystore_role(void **state)
{
    fixture *f = *state;
    g11c_buf key = {0};
    assert_int_equal(aes_key(f->user, CK_FALSE, CK_FALSE, &key), CKR_OK);
    uint8_t id[16], ref[G11C_KEY_REF_LEN];
    CK_ATTRIBUTE a[] = {{CKA_LABEL, "stored", 6}, {CKA_PRIVATE, (void *)&no, 1}};
    assert_int_equal(g11c_store_create_object(f->user, PUB, NULL, B(&key), a, 2, id, NULL), CKR_OK);
    g11c_bytes r = g11c_key_ref(id, ref);
    g11c_mech ecb = {.type = CKM_AES_ECB};
    uint8_t block[16] = {0};
    g11c_buf out = {0};
    assert_int_equal(g11c_encrypt_single(f->anon, r, &ecb, (g11c_bytes){block, 16}, &out), CKR_OK);
    g11c_buf_free(&out);
    assert_int_equal(g11c_encrypt_single(f->crypto, r, &ecb, (g11c_bytes){block, 16}, &out),
                     CKR_GREP11_PERMISSION_DENIED);
    g11c_buf_free(&key);
}

/* How many times its size a request may cost the server. Under
 * AddressSanitizer freed memory waits in a quarantine before reuse, so the
 * same work shows a higher peak there. */
#if defined(__SANITIZE_ADDRESS__)
#define COST_FACTOR 6
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COST_FACTOR 6
#endif
#endif
#ifndef COST_FACTOR
#define COST_FACTOR 3
#endif

/* The server's peak resident memory so far, in bytes. */
static size_t peak_rss(pid_t pid)
{
    char path[64], line[256];
    size_t kb = 0;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %zu kB", &kb) == 1)
            break;
    fclose(f);
    return kb * 1024;
}

/* n bytes of one field repeated empty: tag 0x0a is field 1 (BatchRequest.Calls,
 * CustodyUnlockRequest.Parts), 0x12 field 2 (CustodySubmitRequest.Signatures). */
static uint8_t *empty_entries(uint8_t tag, size_t n)
{
    uint8_t *p = malloc(n);
    assert_non_null(p);
    for (size_t i = 0; i + 1 < n; i += 2) {
        p[i] = tag;
        p[i + 1] = 0;
    }
    return p;
}

static void health_answers_within(const fixture *f, double seconds)
{
    g11c_conn *anon = test_connect_anonymous(&f->srv, 0);
    int serving = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(g11c_health(anon, &serving), CKR_OK);
    assert_true(test_seconds_since(&t0) < seconds);
    g11c_close(anon);
}

/* A request without a token costs the server about its own size: nothing
 * is decoded before the caller is known, and methods anyone may call take
 * only what they need. (A 64 MiB batch of empty calls cost 4 GB before.) */
static void unauthenticated_requests_cost_their_size(void **state)
{
    fixture *f = *state;
    const size_t n = 48u << 20;
    uint8_t *batch = empty_entries(0x0a, n), *submit = empty_entries(0x12, n);
    g11c_conn *anon = test_connect_anonymous(&f->srv, 0);
    g11c_buf reply = {0};
    size_t before = peak_rss(f->srv.pid);
    assert_int_equal(g11c_raw_call(anon, "/grep11.Batch/Run", batch, n, &reply),
                     CKR_IBM_GREP11_NOT_AUTHENTICATED);
    assert_int_not_equal(g11c_raw_call(anon, "/grep11.Custody/Submit", submit, n, &reply), CKR_OK);
    assert_int_not_equal(g11c_raw_call(anon, "/grep11.Custody/Unlock", batch, n, &reply), CKR_OK);
    size_t grown = peak_rss(f->srv.pid) - before;
    print_message("peak memory grew by %zu MiB for %zu MiB requests\n", grown >> 20, n >> 20);
    assert_true(grown < COST_FACTOR * n);
    health_answers_within(f, 2.0);
    g11c_close(anon);

    /* With a token, a repeated field past its cap is refused before it is
     * allocated: 24 Mi empty template entries. */
    uint8_t *tmpl = empty_entries(0x32, n); /* GenerateKeyRequest.Template = 6 */
    before = peak_rss(f->srv.pid);
    assert_int_equal(g11c_raw_call(f->crypto, "/grep11.Crypto/GenerateKey", tmpl, n, &reply),
                     CKR_ARGUMENTS_BAD);
    grown = peak_rss(f->srv.pid) - before;
    print_message("peak memory grew by %zu MiB for a %zu MiB template\n", grown >> 20, n >> 20);
    assert_true(grown < COST_FACTOR * n);
    free(batch);
    free(submit);
    free(tmpl);
}

/* Revocation is complete and permanent: with more than 4,096 revoked keys
 * (the list used to be rebuilt capped at 4,096 every 5 s), the tokens of
 * keys revoked last stay refused after the server reloads its list. */
static void revocation_survives_thousands_of_revoked_keys(void **state)
{
    fixture *f = *state;
    /* Records come back in object-UUID order: with twice the old cap of
     * revoked records, about half of the victims lie past it. */
    enum { FILLERS = 8192, VICTIMS = 40 };
    char path[400], url[400], err[256];
    uint8_t wk[32], dk[32];
    engine *e = NULL;
    store *st = NULL;
    directory *d = NULL;
    snprintf(path, sizeof(path), "%s/dev-master-key", f->srv.dir);
    assert_int_equal(masterkey_read_file(path, wk, err, sizeof(err)), 0);
    assert_int_equal(engine_create(wk, NULL, &e), CKR_OK);
    assert_int_equal(engine_derive_purpose_key(e, "identity-records", dk), CKR_OK);
    snprintf(url, sizeof(url), "sqlite:%s/keystore.db", f->srv.dir);
    assert_int_equal(store_open(url, NULL, &st), CKR_OK);
    assert_int_equal(directory_open(st, dk, &d), CKR_OK);
    /* Revoked keys written as the server writes them, without the slow
     * hash an API key's secret needs (nobody will log in with these). */
    for (int i = 0; i < FILLERS; i++) {
        directory_entry en;
        memset(&en, 0, sizeof(en));
        for (int j = 0; j < AUTH_KEY_ID_LEN; j++)
            en.rec.key_id[j] = (uint8_t)(i >> (8 * (j % 4)) ^ j * 37);
        snprintf(en.principal, sizeof(en.principal), "revoked-%d", i);
        en.roles = AUTH_ROLE_CRYPTO;
        en.revoked = 1;
        assert_int_equal(directory_add(d, &en), CKR_OK);
    }
    directory_close(d);
    store_close(st);
    engine_destroy(e);

    static const char *const crypto[] = {"crypto"};
    g11c_conn *victim[VICTIMS];
    g11c_api_key_info info[VICTIMS];
    for (int i = 0; i < VICTIMS; i++) {
        char key[160];
        assert_int_equal(g11c_admin_create_api_key(f->admin, "victim", crypto, 1, NULL, 0, NULL,
                                                   key, sizeof(key), &info[i]),
                         CKR_OK);
        assert_non_null(victim[i] = test_connect_as(&f->srv, 0, key));
    }
    for (int i = 0; i < VICTIMS; i++)
        assert_int_equal(g11c_admin_revoke_api_key(f->admin, info[i].key_id), CKR_OK);
    uint8_t r[4];
    int accepted = 0;
    for (int i = 0; i < VICTIMS; i++)
        accepted += g11c_generate_random(victim[i], r, sizeof(r)) == CKR_OK;
    assert_int_equal(accepted, 0);
    sleep(6); /* past the reload of the revoked list */
    for (int i = 0; i < VICTIMS; i++) {
        accepted += g11c_generate_random(victim[i], r, sizeof(r)) == CKR_OK;
        g11c_close(victim[i]);
    }
    print_message("revocation: %d of %d revoked keys' tokens accepted after the reload\n", accepted,
                  VICTIMS);
    assert_int_equal(accepted, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(only_the_so_makes_trusted_keys),
        cmocka_unit_test(every_boolean_encoding_meets_the_same_rule),
        cmocka_unit_test(private_objects_stay_out_of_public_keystores),
        cmocka_unit_test(private_objects_are_hidden_from_other_roles),
        cmocka_unit_test(stored_keys_need_a_keystore_role),
        cmocka_unit_test(unauthenticated_requests_cost_their_size),
        cmocka_unit_test(revocation_survives_thousands_of_revoked_keys),
    };
    return cmocka_run_group_tests(tests, start, stop);
}
