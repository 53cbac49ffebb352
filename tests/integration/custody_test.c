/* Master-key custody end to end on a real grep11d: the key ceremony, locked
 * start and unlock, refused commands, online rotation under load with a
 * crash in the middle, and audit-trail tampering. Commands are built and
 * signed with the same library code grep11ctl uses; a few steps go through
 * grep11ctl itself. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "adminkey.h"
#include "bytes.h"
#include "grep11_client.h"
#include "harness.h"
#include "journal.h"
#include "secretfile.h"
#include "shamir.h"
#include "store.h"

/* The size, in the sanitizer build too (re-wrap writes a page per
 * transaction: ~1 s here, ~2 s under ASan). */
#define NOBJ 10000
#define PASS "correct horse battery"

typedef struct {
    char dir[128];
    EVP_PKEY *key[3];
    custody_admin pub[3];
} admins;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void make_admins(admins *a)
{
    char err[256], path[300];
    snprintf(a->dir, sizeof(a->dir), "/tmp/grep11-custody-XXXXXX");
    assert_non_null(mkdtemp(a->dir));
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/admin%d.key", a->dir, i + 1);
        const char *names[] = {"alice", "bob", "carol"};
        assert_int_equal(adminkey_generate(path, i == 1 ? CUSTODY_ALG_P256 : CUSTODY_ALG_ED25519,
                                           names[i], PASS, 12, &a->pub[i], err, sizeof(err)),
                         CKR_OK);
        custody_admin again;
        assert_int_equal(adminkey_load(path, PASS, &a->key[i], &again, err, sizeof(err)), CKR_OK);
        assert_string_equal(again.keyid, a->pub[i].keyid);
    }
}

static void free_admins(admins *a)
{
    char cmd[200];
    for (int i = 0; i < 3; i++)
        EVP_PKEY_free(a->key[i]);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", a->dir);
    assert_int_equal(system(cmd), 0);
}

static char yaml_buf[512];
static const char *custody_yaml(const admins *a)
{
    snprintf(yaml_buf, sizeof(yaml_buf), "custody:\n  enabled: true\n  admin: %s/admin1.key.pub\n",
             a->dir);
    return yaml_buf;
}

/* Builds, signs (with the admins listed, -1 ends) and submits a command. */
typedef struct {
    custody_cmd cmd;
    uint8_t *canon;
    size_t len;
    g11c_custody_sig sigs[4];
    size_t nsigs;
} signed_cmd;

static void build(g11c_conn *c, signed_cmd *s, const char *name, ...)
{
    va_list ap;
    memset(s, 0, sizeof(*s));
    snprintf(s->cmd.name, sizeof(s->cmd.name), "%s", name);
    assert_int_equal(g11c_custody_prepare(c, s->cmd.instance, &s->cmd.epoch, s->cmd.nonce, NULL),
                     CKR_OK);
    va_start(ap, name);
    for (const char *k; (k = va_arg(ap, const char *));)
        assert_int_equal(custody_cmd_set(&s->cmd, k, va_arg(ap, const char *)), CKR_OK);
    va_end(ap);
    assert_int_equal(custody_cmd_encode(&s->cmd, &s->canon, &s->len), CKR_OK);
}

static void sign(signed_cmd *s, const admins *a, int who)
{
    g11c_custody_sig *g = &s->sigs[s->nsigs++];
    snprintf(g->keyid, sizeof(g->keyid), "%s", a->pub[who].keyid);
    assert_int_equal(adminkey_sign(a->key[who], a->pub[who].alg, s->canon, s->len, g->sig, &g->len),
                     CKR_OK);
}

static CK_RV submit(g11c_conn *c, signed_cmd *s, const uint8_t *secret, size_t slen,
                    g11c_custody_result *res)
{
    g11c_custody_result tmp;
    CK_RV rv = g11c_custody_submit(c, s->canon, s->len, s->sigs, s->nsigs,
                                   (g11c_bytes){secret, slen}, res ? res : &tmp);
    return rv;
}

static void cmd_free(signed_cmd *s)
{
    free(s->canon);
    s->canon = NULL;
}

/* One command signed by signers[] (terminated by -1); expects rv. */
static void run(g11c_conn *c, const admins *a, const int *signers, const uint8_t *secret,
                size_t slen, CK_RV want, g11c_custody_result *res, const char *name, const char *k1,
                const char *v1, const char *k2, const char *v2)
{
    signed_cmd s;
    if (k2)
        build(c, &s, name, k1, v1, k2, v2, NULL);
    else if (k1)
        build(c, &s, name, k1, v1, NULL);
    else
        build(c, &s, name, NULL);
    for (int i = 0; signers[i] >= 0; i++)
        sign(&s, a, signers[i]);
    assert_int_equal(submit(c, &s, secret, slen, res), want);
    cmd_free(&s);
}

static void vp_of(const uint8_t *d, size_t n, char out[17])
{
    custody_vp(d, n, out);
}

static void load_parts(g11c_conn *c, const admins *a, const int *signers, uint8_t (*parts)[32],
                       int n, char out_vp[17])
{
    g11c_custody_result r;
    for (int i = 0; i < n; i++) {
        char vp[17], idx[12];
        vp_of(parts[i], 32, vp);
        snprintf(idx, sizeof(idx), "%d", i + 1);
        run(c, a, signers, parts[i], 32, CKR_OK, &r, "load-part", "index", idx, "part-vp", vp);
        assert_string_equal(r.part_vp, vp);
    }
    uint8_t wk[32] = {0};
    for (int i = 0; i < n; i++)
        for (int b = 0; b < 32; b++)
            wk[b] ^= parts[i][b];
    vp_of(wk, 32, out_vp);
    assert_string_equal(r.assembled_vp, out_vp);
}

static void commit_activate(g11c_conn *c, const admins *a, const int *signers, const char *vp,
                            const char *grace)
{
    run(c, a, signers, NULL, 0, CKR_OK, NULL, "commit", "vp", vp, NULL, NULL);
    if (grace)
        return;
    run(c, a, signers, NULL, 0, CKR_OK, NULL, "activate", "vp", vp, NULL, NULL);
}

static int serving(const test_server *ts)
{
    g11c_conn *c = test_connect_anonymous(ts, 0);
    int s = -1;
    g11c_health(c, &s);
    g11c_close(c);
    return s;
}

/* SIGTERM and wait (the data directory stays), then start again. */
static int stop_keep(test_server *ts)
{
    int status = 0;
    kill(ts->pid, SIGTERM);
    waitpid(ts->pid, &status, 0);
    ts->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static const int ONE[] = {0, -1}, TWO[] = {0, 1, -1}, TWO_B[] = {2, 1, -1};

/* Imprinted at first start, 3 admins with threshold 2, a key from 3 parts,
 * then an admin API key. Returns the key in apikey. */
static void ceremony(test_server *ts, g11c_conn *c, const admins *a, uint8_t (*parts)[32],
                     char vp[17], char *apikey, size_t cap)
{
    g11c_custody_result r;
    char hex[2 * CUSTODY_MAX_SPKI + 1];
    (void)ts;
    for (int i = 1; i < 3; i++) {
        hex_encode(a->pub[i].spki, a->pub[i].spki_len, hex);
        run(c, a, ONE, NULL, 0, CKR_OK, NULL, "add-admin", "pubkey", hex, "name", a->pub[i].name);
    }
    run(c, a, ONE, NULL, 0, CKR_OK, NULL, "set-threshold", "threshold", "2", NULL, NULL);
    for (int i = 0; i < 3; i++)
        RAND_bytes(parts[i], 32);
    load_parts(c, a, TWO, parts, 3, vp);
    commit_activate(c, a, TWO_B, vp, NULL);
    run(c, a, TWO_B, NULL, 0, CKR_OK, &r, "create-apikey", "principal", "ops", "roles",
        "admin,crypto,keystore-so,keystore-user");
    assert_true(strncmp(r.api_key, "g11k_", 5) == 0);
    snprintf(apikey, cap, "%s", r.api_key);
}

static void test_ceremony_and_unlock(void **state)
{
    (void)state;
    admins a;
    test_server ts;
    uint8_t parts[3][32], r8[8];
    char vp[17], key[160];
    make_admins(&a);
    assert_int_equal(test_server_start(&ts, custody_yaml(&a), NULL), 0);
    g11c_conn *anon = test_connect_anonymous(&ts, 0);
    assert_int_equal(serving(&ts), 0);
    assert_int_equal(g11c_generate_random(anon, r8, 8), CKR_GREP11_LOCKED);
    ceremony(&ts, anon, &a, parts, vp, key, sizeof(key));
    assert_int_equal(serving(&ts), 1);

    g11c_conn *c = test_connect_as(&ts, 0, key);
    assert_non_null(c);
    CK_ULONG len = 32;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_ENCRYPT, &yes, 1}};
    g11c_mech gen = {.type = CKM_AES_KEY_GEN}, ecb = {.type = CKM_AES_ECB};
    g11c_buf blob = {0}, cs = {0}, out = {0};
    uint8_t data[16] = "sixteen bytes!!";
    assert_int_equal(g11c_generate_key(c, &gen, t, 2, &blob, &cs), CKR_OK);
    assert_int_equal(
        g11c_encrypt_single(c, g11c_bytes_of(&blob), &ecb, (g11c_bytes){data, 16}, &out), CKR_OK);
    g11c_buf_free(&out);
    g11c_close(c);
    g11c_close(anon);

    /* Restart: locked until the three parts come back (any order, in two calls). */
    assert_int_equal(stop_keep(&ts), 0);
    assert_int_equal(test_server_restart(&ts), 0);
    assert_int_equal(serving(&ts), 0);
    anon = test_connect_anonymous(&ts, 0);
    int unlocked = -1;
    unsigned held = 0;
    char msg[300];
    uint8_t wrong[1][32];
    RAND_bytes(wrong[0], 32);
    assert_int_equal(g11c_custody_unlock(anon, (const uint8_t(*)[32])parts + 2, 1, NULL, 0, 0,
                                         &unlocked, &held, msg, sizeof(msg)),
                     CKR_OK);
    assert_int_equal(unlocked, 0);
    assert_int_equal(g11c_custody_unlock(anon, (const uint8_t(*)[32])wrong, 1, NULL, 0, 0,
                                         &unlocked, &held, msg, sizeof(msg)),
                     CKR_OK);
    assert_int_equal(unlocked, 0); /* a wrong part: still locked */
    assert_int_equal(g11c_custody_unlock(anon, (const uint8_t(*)[32])parts, 2, NULL, 0, 1,
                                         &unlocked, &held, msg, sizeof(msg)),
                     CKR_OK);
    assert_int_equal(unlocked, 0); /* reset forgot part 3 */
    assert_int_equal(g11c_custody_unlock(anon, (const uint8_t(*)[32])parts + 2, 1, NULL, 0, 0,
                                         &unlocked, &held, msg, sizeof(msg)),
                     CKR_OK);
    assert_int_equal(unlocked, 1);
    assert_int_equal(serving(&ts), 1);
    c = test_connect_as(&ts, 0, key); /* identities survive a restart */
    assert_non_null(c);
    assert_int_equal(
        g11c_encrypt_single(c, g11c_bytes_of(&blob), &ecb, (g11c_bytes){data, 16}, &out), CKR_OK);
    g11c_audit_report rep;
    assert_int_equal(g11c_audit_verify(c, &rep), CKR_OK);
    assert_true(rep.intact);
    assert_true(rep.entries >= 12);
    g11c_buf_free(&out);
    g11c_buf_free(&blob);
    g11c_buf_free(&cs);
    g11c_close(c);
    g11c_close(anon);
    assert_int_equal(test_server_stop(&ts), 0);
    free_admins(&a);
}

/* Replayed, altered, under-signed, duplicate, foreign-key and
 * foreign-instance commands; Shamir shares; a wrong passphrase. */
static void test_refused_commands(void **state)
{
    (void)state;
    admins a, other;
    test_server ts, ts2;
    make_admins(&a);
    make_admins(&other);
    assert_int_equal(test_server_start(&ts, custody_yaml(&a), NULL), 0);
    char y2[512];
    snprintf(y2, sizeof(y2), "custody:\n  enabled: true\n  admin: %s/admin1.key.pub\n", other.dir);
    assert_int_equal(test_server_start(&ts2, y2, NULL), 0);
    g11c_conn *c = test_connect_anonymous(&ts, 0), *c2 = test_connect_anonymous(&ts2, 0);
    char hex[2 * CUSTODY_MAX_SPKI + 1];
    hex_encode(a.pub[1].spki, a.pub[1].spki_len, hex);

    signed_cmd s;
    build(c, &s, "add-admin", "pubkey", hex, "name", "bob", NULL);
    sign(&s, &a, 0);
    assert_int_equal(submit(c, &s, NULL, 0, NULL), CKR_OK);
    assert_int_equal(submit(c, &s, NULL, 0, NULL), CKR_GREP11_STALE_COMMAND); /* replay */
    cmd_free(&s);

    build(c, &s, "set-threshold", "threshold", "2", NULL);
    sign(&s, &a, 2); /* carol is not installed */
    assert_int_equal(submit(c, &s, NULL, 0, NULL), CKR_GREP11_SIGNATURES);
    s.nsigs = 0;
    sign(&s, &a, 0);
    sign(&s, &a, 0); /* duplicate */
    assert_int_equal(submit(c, &s, NULL, 0, NULL), CKR_GREP11_SIGNATURES);
    s.nsigs = 0;
    assert_int_equal(submit(c, &s, NULL, 0, NULL), CKR_GREP11_SIGNATURES); /* none */
    sign(&s, &a, 0);
    s.canon[s.len - 1] ^= '2' ^ '1'; /* altered after signing: threshold 1 */
    assert_int_equal(submit(c, &s, NULL, 0, NULL), CKR_GREP11_SIGNATURES);
    s.canon[s.len - 1] ^= '2' ^ '1';
    assert_int_equal(submit(c, &s, NULL, 0, NULL), CKR_OK);
    cmd_free(&s);

    /* Threshold 2 now: one signature is not enough. */
    build(c, &s, "remove-admin", "keyid", a.pub[1].keyid, NULL);
    sign(&s, &a, 0);
    assert_int_equal(submit(c, &s, NULL, 0, NULL), CKR_GREP11_SIGNATURES);
    cmd_free(&s);

    /* A command made for the other instance, signed by this one's admins. */
    build(c2, &s, "set-threshold", "threshold", "1", NULL);
    sign(&s, &a, 0);
    sign(&s, &a, 1);
    assert_int_equal(submit(c, &s, NULL, 0, NULL), CKR_GREP11_FOREIGN_INSTANCE);
    cmd_free(&s);

    /* Shamir: 2 of 3 shares into the new register; the part sent must have
     * the signed pattern. */
    uint8_t secret[32], enc[3][SHAMIR_SHARE_ENCODED];
    shamir_share sh[3];
    char set[17], vp[17], svp[17];
    RAND_bytes(secret, 32);
    assert_int_equal(shamir_split(secret, 2, 3, sh), 0);
    hex_encode(sh[0].set, 8, set);
    for (int i = 0; i < 3; i++)
        shamir_encode(&sh[i], enc[i]);
    vp_of(enc[0], sizeof(enc[0]), svp);
    g11c_custody_result r;
    signed_cmd ls;
    build(c, &ls, "load-share", "share-vp", svp, "index", "1", NULL);
    custody_cmd_set(&ls.cmd, "set", set);
    custody_cmd_set(&ls.cmd, "m", "2");
    free(ls.canon);
    custody_cmd_encode(&ls.cmd, &ls.canon, &ls.len);
    sign(&ls, &a, 0);
    sign(&ls, &a, 1);
    /* The share sent must be the one whose pattern was signed. */
    assert_int_equal(submit(c, &ls, enc[1], sizeof(enc[1]), &r), CKR_GREP11_SIGNATURES);
    cmd_free(&ls);
    build(c, &ls, "load-share", "share-vp", svp, "index", "1", NULL);
    custody_cmd_set(&ls.cmd, "set", set);
    custody_cmd_set(&ls.cmd, "m", "2");
    free(ls.canon);
    custody_cmd_encode(&ls.cmd, &ls.canon, &ls.len);
    sign(&ls, &a, 0);
    sign(&ls, &a, 1);
    assert_int_equal(submit(c, &ls, enc[0], sizeof(enc[0]), &r), CKR_OK);
    cmd_free(&ls);
    vp_of(enc[2], sizeof(enc[2]), svp);
    build(c, &ls, "load-share", "share-vp", svp, "index", "2", NULL);
    custody_cmd_set(&ls.cmd, "set", set);
    custody_cmd_set(&ls.cmd, "m", "2");
    free(ls.canon);
    custody_cmd_encode(&ls.cmd, &ls.canon, &ls.len);
    sign(&ls, &a, 0);
    sign(&ls, &a, 1);
    assert_int_equal(submit(c, &ls, enc[2], sizeof(enc[2]), &r), CKR_OK);
    cmd_free(&ls);
    vp_of(secret, 32, vp);
    assert_string_equal(r.assembled_vp, vp);
    commit_activate(c, &a, TWO, vp, NULL);
    assert_int_equal(serving(&ts), 1);

    /* Zeroize: every register erased, the instance locked again. */
    run(c, &a, TWO, NULL, 0, CKR_OK, NULL, "zeroize", NULL, NULL, NULL, NULL);
    assert_int_equal(serving(&ts), 0);
    uint8_t r8[8];
    assert_int_equal(g11c_generate_random(c, r8, 8), CKR_GREP11_LOCKED);

    /* A wrong key-part passphrase reads nothing. */
    char path[300], err[200];
    uint8_t out[64];
    size_t olen = 99;
    snprintf(path, sizeof(path), "%s/part.key", a.dir);
    secretfile_meta m = {0};
    secretfile_meta_add(&m, "kind", "keypart");
    assert_int_equal(secretfile_write(path, &m, secret, 32, PASS, 12, err, sizeof(err)), CKR_OK);
    memset(out, 0, sizeof(out));
    assert_int_equal(
        secretfile_read(path, "wrong passphrase", out, sizeof(out), &olen, &m, err, sizeof(err)),
        CKR_PIN_INCORRECT);
    assert_int_equal(olen, 0);
    for (size_t i = 0; i < sizeof(out); i++)
        assert_int_equal(out[i], 0);

    g11c_close(c);
    g11c_close(c2);
    assert_int_equal(test_server_stop(&ts), 0);
    assert_int_equal(test_server_stop(&ts2), 0);
    free_admins(&a);
    free_admins(&other);
}

/* ---- rotation ----------------------------------------------------------- */

static const uint8_t PRIV[16] = {0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x44, 0x44,
                                 0x88, 0x88, 1,    2,    3,    4,    5,    6};
static const uint8_t PUB[16] = {0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x44, 0x44,
                                0x88, 0x88, 1,    2,    3,    4,    5,    7};

typedef struct {
    test_server *ts;
    const char *key;
    uint8_t ref_id[16];
    g11c_buf blob; /* held by the client, under the first WK */
    volatile int stop;
    volatile int refs_only, acked; /* before activation: stop using the held blob */
    long calls, failures;
    CK_RV last;
} loop_arg;

static void *client_loop(void *p)
{
    loop_arg *l = p;
    g11c_conn *c = test_connect_as(l->ts, 0, l->key);
    g11c_mech ecb = {.type = CKM_AES_ECB};
    uint8_t data[16] = {0}, ref[G11C_KEY_REF_LEN];
    g11c_bytes kref = g11c_key_ref(l->ref_id, ref);
    while (!l->stop) {
        g11c_buf out = {0};
        l->acked = l->refs_only;
        CK_RV rv = g11c_encrypt_single(c, kref, &ecb, (g11c_bytes){data, 16}, &out);
        if (rv == CKR_OK && !l->acked)
            rv = (g11c_buf_free(&out), g11c_encrypt_single(c, g11c_bytes_of(&l->blob), &ecb,
                                                           (g11c_bytes){data, 16}, &out));
        g11c_buf_free(&out);
        l->calls++;
        if (rv != CKR_OK) {
            l->failures++;
            l->last = rv;
        }
    }
    g11c_close(c);
    return NULL;
}

/* Stores NOBJ copies of blob into the private keystore, straight into the
 * database in one batch transaction (as a bulk import would), ids in
 * *first. One transaction: ~0.1 s for 10,000 objects, where one Store RPC
 * per object costs a synchronous commit each. */
static void populate(test_server *ts, const g11c_buf *blob, uint8_t first[16])
{
    char url[400];
    store *st = NULL;
    double t0 = now_ms();
    snprintf(url, sizeof(url), "sqlite:%s/keystore.db", ts->dir);
    assert_int_equal(store_open(url, NULL, &st), CKR_OK);
    store_new_object *objs = calloc(NOBJ, sizeof(*objs));
    store_uuid *ids = calloc(NOBJ, sizeof(*ids));
    for (int i = 0; i < NOBJ; i++)
        objs[i] = (store_new_object){blob->ptr, blob->len, NULL, 0};
    store_uuid ks;
    memcpy(ks.b, PRIV, 16);
    assert_int_equal(store_object_create_batch(st, &ks, NULL, objs, NOBJ, ids), CKR_OK);
    memcpy(first, ids[0].b, 16);
    free(objs);
    free(ids);
    store_close(st);
    fprintf(stderr, "seeded %d objects in %.0f ms\n", NOBJ, now_ms() - t0);
}

/* Every stored object's blob names WKID (SHA-256(wk)[0..16], at offset 8). */
static int count_under(test_server *ts, const uint8_t wk[32])
{
    char url[400], cursor[STORE_CURSOR_SIZE] = "", next[STORE_CURSOR_SIZE];
    uint8_t h[32];
    store *st = NULL;
    int n = 0;
    custody_sha256(wk, 32, h);
    snprintf(url, sizeof(url), "sqlite:%s/keystore.db", ts->dir);
    assert_int_equal(store_open(url, NULL, &st), CKR_OK);
    store_uuid ks;
    memcpy(ks.b, PRIV, 16);
    do {
        store_object *o = NULL;
        size_t got = 0;
        assert_int_equal(store_find_objects(st, &ks, NULL, NULL, 0, cursor, 1000, &o, &got, next),
                         CKR_OK);
        for (size_t i = 0; i < got; i++)
            n += o[i].blob_len > 24 && memcmp(o[i].blob + 8, h, 16) == 0;
        store_objects_free(o, got);
        memcpy(cursor, next, sizeof(cursor));
    } while (cursor[0]);
    store_close(st);
    return n;
}

static void wait_rewrap(g11c_conn *c, const char *phase, uint64_t at_least)
{
    g11c_custody_info s;
    for (int i = 0; i < 30000; i++) {
        assert_int_equal(g11c_custody_status(c, &s), CKR_OK);
        if (!strcmp(s.rewrap_phase, phase) && s.rewrap_done >= at_least)
            return;
        assert_string_not_equal(s.rewrap_phase, "failed");
        sleep_ms(10);
    }
    fail_msg("re-wrap did not reach %s", phase);
}

static void setup_store(test_server *ts, const admins *a, uint8_t (*parts)[32], uint8_t wk[32],
                        char *key, size_t cap, g11c_buf *blob, uint8_t first[16])
{
    g11c_conn *anon = test_connect_anonymous(ts, 0);
    char vp[17];
    g11c_custody_result r;
    for (int i = 0; i < 2; i++)
        RAND_bytes(parts[i], 32);
    load_parts(anon, a, ONE, parts, 2, vp);
    commit_activate(anon, a, ONE, vp, NULL);
    for (int b = 0; b < 32; b++)
        wk[b] = parts[0][b] ^ parts[1][b];
    run(anon, a, ONE, NULL, 0, CKR_OK, &r, "create-apikey", "principal", "app", "roles",
        "crypto,keystore-so,keystore-user");
    snprintf(key, cap, "%s", r.api_key);
    g11c_close(anon);
    /* Grants: an admin key of our own creates the app key with grants. */
    g11c_conn *c = test_connect_as(ts, 0, key);
    assert_non_null(c);
    (void)c;
    g11c_close(c);
    (void)blob;
    (void)first;
}

/* An API key "app" with the keystore roles and grants for PRIV and PUB,
 * made through an admin key (which itself only a signed command makes). */
static void app_key(test_server *ts, const admins *a, g11c_conn *anon, char *appkey, size_t cap,
                    char adminkey[160])
{
    g11c_custody_result r;
    run(anon, a, ONE, NULL, 0, CKR_OK, &r, "create-apikey", "principal", "root", "roles", "admin");
    snprintf(adminkey, 160, "%s", r.api_key);
    g11c_conn *adm = test_connect_as(ts, 0, adminkey);
    g11c_api_key_info info;
    const char *roles[] = {"crypto", "keystore-so", "keystore-user"};
    uint8_t g[2][16];
    memcpy(g[0], PRIV, 16);
    memcpy(g[1], PUB, 16);
    assert_int_equal(g11c_admin_create_api_key(adm, "app", roles, 3, (const uint8_t(*)[16])g, 2,
                                               NULL, appkey, cap, &info),
                     CKR_OK);
    /* Admin-role keys only by signed command. */
    const char *admin_role[] = {"admin"};
    char k2[160];
    assert_int_equal(g11c_admin_create_api_key(adm, "sneaky", admin_role, 1, NULL, 0, NULL, k2,
                                               sizeof(k2), NULL),
                     CKR_GREP11_PERMISSION_DENIED);
    g11c_close(adm);
}

static void rotation_case(int crash)
{
    admins a;
    test_server ts;
    uint8_t parts[2][32], wk[32], nparts[2][32], nwk[32], first[16];
    char key[160], vp[17];
    make_admins(&a);
    assert_int_equal(test_server_start(&ts, custody_yaml(&a), NULL), 0);
    setup_store(&ts, &a, parts, wk, key, sizeof(key), NULL, NULL);
    g11c_conn *anon = test_connect_anonymous(&ts, 0);
    char appkey[160], adminkey[160];
    app_key(&ts, &a, anon, appkey, sizeof(appkey), adminkey);
    g11c_conn *c = test_connect_as(&ts, 0, appkey);
    assert_int_equal(g11c_store_init_keystores(c, PRIV, PUB, "rotation", NULL), CKR_OK);
    CK_ULONG len = 32;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_ENCRYPT, &yes, 1}};
    g11c_mech gen = {.type = CKM_AES_KEY_GEN};
    loop_arg l = {.ts = &ts, .key = appkey};
    g11c_buf cs = {0};
    assert_int_equal(g11c_generate_key(c, &gen, t, 2, &l.blob, &cs), CKR_OK);
    populate(&ts, &l.blob, first);
    memcpy(l.ref_id, first, 16);
    assert_int_equal(count_under(&ts, wk), NOBJ);

    pthread_t th;
    if (!crash)
        pthread_create(&th, NULL, client_loop, &l);
    for (int i = 0; i < 2; i++)
        RAND_bytes(nparts[i], 32);
    for (int b = 0; b < 32; b++)
        nwk[b] = nparts[0][b] ^ nparts[1][b];
    load_parts(anon, &a, ONE, nparts, 2, vp);
    double t0 = now_ms();
    run(anon, &a, ONE, NULL, 0, CKR_OK, NULL, "commit", "vp", vp, NULL, NULL);
    if (crash) {
        /* kill -9 in the middle of re-wrapping, then resume. */
        wait_rewrap(anon, "running", 200);
        g11c_close(anon);
        test_server_crash(&ts);
        int mid = count_under(&ts, nwk);
        fprintf(stderr, "crashed with %d of %d objects re-wrapped\n", mid, NOBJ);
        assert_true(mid >= 200 && mid < NOBJ);
        assert_int_equal(test_server_restart(&ts), 0);
        anon = test_connect_anonymous(&ts, 0);
        int unlocked = 0;
        unsigned held;
        char msg[300];
        assert_int_equal(g11c_custody_unlock(anon, (const uint8_t(*)[32])parts, 2, NULL, 0, 0,
                                             &unlocked, &held, msg, sizeof(msg)),
                         CKR_OK);
        assert_int_equal(unlocked, 1);
        g11c_close(c);
        c = test_connect_as(&ts, 0, appkey);
        pthread_create(&th, NULL, client_loop, &l);
    }
    wait_rewrap(anon, "done", NOBJ);
    if (!crash)
        fprintf(stderr, "re-wrapped %d objects in %.0f ms (client loop running)\n", NOBJ,
                now_ms() - t0);
    assert_int_equal(count_under(&ts, nwk), NOBJ);
    l.refs_only = 1;
    while (!l.acked)
        sleep_ms(1);
    long before = l.calls;
    t0 = now_ms();
    run(anon, &a, ONE, NULL, 0, CKR_OK, NULL, "activate", "vp", vp, "grace", "3600");
    fprintf(stderr, "activate (with its final sweep of %d objects) took %.0f ms\n", NOBJ,
            now_ms() - t0);
    while (l.calls < before + 50) /* keeps running across activation */
        sleep_ms(5);
    l.stop = 1;
    pthread_join(th, NULL);
    fprintf(stderr, "client loop: %ld calls, %ld failed (last 0x%lx)\n", l.calls, l.failures,
            (unsigned long)l.last);
    assert_true(l.calls > 0);
    /* The held blob is refused after activation, except by RewrapKeyBlob. */
    g11c_mech ecb = {.type = CKM_AES_ECB};
    uint8_t data[16] = {0}, ref[G11C_KEY_REF_LEN];
    g11c_buf out = {0}, nb = {0};
    assert_int_equal(
        g11c_encrypt_single(c, g11c_bytes_of(&l.blob), &ecb, (g11c_bytes){data, 16}, &out),
        CKR_IBM_WKID_MISMATCH);
    assert_int_equal(g11c_rewrap_key_blob(c, g11c_bytes_of(&l.blob), &nb), CKR_OK);
    assert_int_equal(g11c_encrypt_single(c, g11c_bytes_of(&nb), &ecb, (g11c_bytes){data, 16}, &out),
                     CKR_OK);
    g11c_buf_free(&out);
    assert_int_equal(
        g11c_encrypt_single(c, g11c_key_ref(first, ref), &ecb, (g11c_bytes){data, 16}, &out),
        CKR_OK);
    g11c_buf_free(&out);
    assert_int_equal(count_under(&ts, nwk), NOBJ);
    assert_int_equal(l.failures, 0);
    g11c_buf_free(&nb);
    g11c_buf_free(&l.blob);
    g11c_buf_free(&cs);
    g11c_close(c);
    g11c_close(anon);
    assert_int_equal(test_server_stop(&ts), 0);
    free_admins(&a);
}

static void test_rotation_under_load(void **state)
{
    (void)state;
    rotation_case(0);
}

static void test_rotation_crash_resume(void **state)
{
    (void)state;
    rotation_case(1);
}

/* ---- password-protected keystores --------------------------------------- */

static CK_RV encrypt_with(g11c_conn *c, const g11c_buf *blob);
static void aes_key(g11c_conn *c, g11c_buf *blob);
static store *open_db(const test_server *ts);

/* Audit entries whose event is `event` (entries are not secret). */
static int audit_count(store *st, const char *event)
{
    char cursor[STORE_CURSOR_SIZE] = "", next[STORE_CURSOR_SIZE];
    CK_ATTRIBUTE t = {CKA_LABEL, "e", 1};
    size_t elen = strlen(event);
    int k = 0;
    do {
        store_object *o = NULL;
        size_t n = 0;
        assert_int_equal(
            store_find_objects(st, &audit_keystore, NULL, &t, 1, cursor, 1000, &o, &n, next),
            CKR_OK);
        /* u64 seq | u64 time | prev[32] | lv(event) ... */
        for (size_t i = 0; i < n; i++)
            k += o[i].blob_len > 52 + elen && o[i].blob[48] == 0 && o[i].blob[49] == 0 &&
                 o[i].blob[50] == (elen >> 8) && o[i].blob[51] == (elen & 0xff) &&
                 memcmp(o[i].blob + 52, event, elen) == 0;
        store_objects_free(o, n);
        memcpy(cursor, next, sizeof(cursor));
    } while (cursor[0]);
    return k;
}

static int under(const g11c_buf *blob, const uint8_t wk[32])
{
    uint8_t h[32];
    custody_sha256(wk, 32, h);
    return blob->len > 24 && memcmp(blob->ptr + 8, h, 16) == 0;
}

static void store_key(g11c_conn *c, const uint8_t ks[16], const char *pw, const g11c_buf *blob,
                      const char *label, uint8_t id[16])
{
    CK_ATTRIBUTE a = {CKA_LABEL, (void *)label, strlen(label)};
    int64_t v = 0;
    assert_int_equal(g11c_store_create_object(c, ks, pw, g11c_bytes_of(blob), &a, 1, id, &v),
                     CKR_OK);
    assert_int_equal(v, 1);
}

/* Rows of a password-protected keystore are sealed under a key derived
 * from the password, which the server does not keep: the re-wrap worker
 * counts them and leaves them; a read with the password during the
 * rotation (or the grace window after it) re-wraps the blob and writes it
 * back, and the reader gets the new blob. */
static void test_rotation_password_keystore(void **state)
{
    (void)state;
    static const char *PW = "keystore password";
    admins a;
    test_server ts;
    uint8_t parts[2][32], wk[32], np[2][32], nwk[32], ida[16], idb[16], idc[16];
    char key[160], appkey[160], adminkey[160], vp[17], next[64];
    make_admins(&a);
    assert_int_equal(test_server_start(&ts, custody_yaml(&a), NULL), 0);
    setup_store(&ts, &a, parts, wk, key, sizeof(key), NULL, NULL);
    g11c_conn *anon = test_connect_anonymous(&ts, 0);
    app_key(&ts, &a, anon, appkey, sizeof(appkey), adminkey);
    g11c_conn *c = test_connect_as(&ts, 0, appkey);
    assert_int_equal(g11c_store_init_keystores(c, PRIV, PUB, "protected", PW), CKR_OK);
    g11c_buf blob = {0};
    aes_key(c, &blob);
    assert_true(under(&blob, wk));
    store_key(c, PRIV, PW, &blob, "A", ida);
    store_key(c, PRIV, PW, &blob, "B", idb);
    store_key(c, PUB, NULL, &blob, "C", idc);

    RAND_bytes(np[0], 32);
    RAND_bytes(np[1], 32);
    for (int b = 0; b < 32; b++)
        nwk[b] = np[0][b] ^ np[1][b];
    load_parts(anon, &a, ONE, np, 2, vp);
    run(anon, &a, ONE, NULL, 0, CKR_OK, NULL, "commit", "vp", vp, NULL, NULL);
    wait_rewrap(anon, "done", 1);
    g11c_custody_info info;
    assert_int_equal(g11c_custody_status(anon, &info), CKR_OK);
    assert_true(info.rewrap_skipped >= 2); /* A and B: counted, not readable */

    /* The plain keystore's object was re-wrapped by the worker. */
    g11c_stored_object o;
    memset(&o, 0, sizeof(o));
    assert_int_equal(g11c_store_get_object(c, PUB, NULL, idc, &o), CKR_OK);
    assert_true(under(&o.blob, nwk));
    g11c_stored_object_free(&o);

    /* A wrong password reads nothing and re-wraps nothing. */
    assert_int_equal(g11c_store_get_object(c, PRIV, "wrong password", ida, &o), CKR_PIN_INCORRECT);

    /* During the rotation window: A read with its password comes back
     * under the committed key, stored as version 2, and works. */
    memset(&o, 0, sizeof(o));
    assert_int_equal(g11c_store_get_object(c, PRIV, PW, ida, &o), CKR_OK);
    assert_true(under(&o.blob, nwk));
    assert_int_equal(o.version, 2);
    assert_int_equal(encrypt_with(c, &o.blob), CKR_OK);
    g11c_stored_object_free(&o);
    memset(&o, 0, sizeof(o));
    assert_int_equal(g11c_store_get_object(c, PRIV, PW, ida, &o), CKR_OK);
    assert_int_equal(o.version, 2); /* once is enough */
    g11c_stored_object_free(&o);

    /* Without a grace window B (never read) would be lost: refused. */
    run(anon, &a, ONE, NULL, 0, CKR_GREP11_CUSTODY_STATE, NULL, "activate", "vp", vp, "grace", "0");
    run(anon, &a, ONE, NULL, 0, CKR_GREP11_CUSTODY_STATE, NULL, "activate", "vp", vp, NULL, NULL);

    /* After activation, in the grace window: B found by its label. */
    run(anon, &a, ONE, NULL, 0, CKR_OK, NULL, "activate", "vp", vp, "grace", "3600");
    assert_int_equal(encrypt_with(c, &blob), CKR_IBM_WKID_MISMATCH);
    CK_ATTRIBUTE t = {CKA_LABEL, "B", 1};
    g11c_stored_object *found = NULL;
    size_t n = 0;
    assert_int_equal(g11c_store_find_objects(c, PRIV, PW, &t, 1, NULL, 10, &found, &n, next),
                     CKR_OK);
    assert_int_equal(n, 1);
    assert_memory_equal(found[0].id, idb, 16);
    assert_true(under(&found[0].blob, nwk));
    assert_int_equal(found[0].version, 2);
    assert_int_equal(encrypt_with(c, &found[0].blob), CKR_OK);
    g11c_stored_objects_free(found, n);
    memset(&o, 0, sizeof(o));
    assert_int_equal(g11c_store_get_object(c, PRIV, PW, idb, &o), CKR_OK);
    assert_int_equal(o.version, 2);
    assert_true(under(&o.blob, nwk));
    g11c_stored_object_free(&o);

    /* The write-backs are audited (two entries), and the trail is intact. */
    g11c_audit_report rep;
    g11c_conn *adm = test_connect_as(&ts, 0, adminkey);
    assert_int_equal(g11c_audit_verify(adm, &rep), CKR_OK);
    assert_true(rep.intact);
    g11c_close(adm);
    store *st = open_db(&ts);
    assert_int_equal(audit_count(st, "rewrap-on-read"), 2);
    store_close(st);

    g11c_buf_free(&blob);
    g11c_close(c);
    g11c_close(anon);
    assert_int_equal(test_server_stop(&ts), 0);
    free_admins(&a);
}

/* ---- audit tampering --------------------------------------------------- */

static store *open_db(const test_server *ts)
{
    char url[400];
    store *st = NULL;
    snprintf(url, sizeof(url), "sqlite:%s/keystore.db", ts->dir);
    assert_int_equal(store_open(url, NULL, &st), CKR_OK);
    return st;
}

static store_object *audit_entry(store *st, uint64_t seq)
{
    uint8_t id[8];
    for (int i = 0; i < 8; i++)
        id[i] = (uint8_t)(seq >> (56 - 8 * i));
    CK_ATTRIBUTE t[2] = {{CKA_LABEL, "e", 1}, {CKA_ID, id, 8}};
    store_object *o = NULL;
    size_t n = 0;
    char next[STORE_CURSOR_SIZE];
    assert_int_equal(store_find_objects(st, &audit_keystore, NULL, t, 2, NULL, 2, &o, &n, next),
                     CKR_OK);
    assert_int_equal(n, 1);
    return o;
}

static int intact(g11c_conn *c, char *problem)
{
    g11c_audit_report r;
    assert_int_equal(g11c_audit_verify(c, &r), CKR_OK);
    snprintf(problem, 256, "%s", r.problem);
    return r.intact;
}

/* Key generations from many threads while custody commands switch the
 * state under its write lock: each generation waits for its audit commit
 * (lending its compute slot meanwhile) while holding custody's read lock,
 * and a command queued for the write lock blocks new readers. Every call
 * must finish, and every generation must be on an intact chain. */
typedef struct {
    test_server *ts;
    const char *key;
    int ok, failed;
} keygen_arg;

enum { KEYGEN_THREADS = 8, KEYGENS_EACH = 20 };

static void *keygen_loop(void *p)
{
    keygen_arg *k = p;
    g11c_conn *c = test_connect_as(k->ts, 0, k->key);
    CK_ULONG len = 32;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_ENCRYPT, &yes, 1}};
    g11c_mech gen = {.type = CKM_AES_KEY_GEN};
    for (int i = 0; i < KEYGENS_EACH; i++) {
        g11c_buf blob = {0}, cs = {0};
        if (c && g11c_generate_key(c, &gen, t, 2, &blob, &cs) == CKR_OK)
            k->ok++;
        else
            k->failed++;
        g11c_buf_free(&blob);
        g11c_buf_free(&cs);
    }
    if (c)
        g11c_close(c);
    return NULL;
}

static void test_keygen_audit_under_commands(void **state)
{
    (void)state;
    admins a;
    test_server ts;
    uint8_t parts[3][32];
    char vp[17], key[160], problem[256], principal[32];
    make_admins(&a);
    assert_int_equal(test_server_start(&ts, custody_yaml(&a), NULL), 0);
    g11c_conn *anon = test_connect_anonymous(&ts, 0);
    ceremony(&ts, anon, &a, parts, vp, key, sizeof(key));
    g11c_conn *c = test_connect_as(&ts, 0, key);
    g11c_audit_report before, after;
    assert_int_equal(g11c_audit_verify(c, &before), CKR_OK);

    keygen_arg args[KEYGEN_THREADS];
    pthread_t th[KEYGEN_THREADS];
    for (int i = 0; i < KEYGEN_THREADS; i++) {
        args[i] = (keygen_arg){.ts = &ts, .key = key};
        pthread_create(&th[i], NULL, keygen_loop, &args[i]);
    }
    enum { COMMANDS = 6 };
    for (int i = 0; i < COMMANDS; i++) {
        snprintf(principal, sizeof(principal), "batch-%d", i);
        run(anon, &a, TWO_B, NULL, 0, CKR_OK, NULL, "create-apikey", "principal", principal,
            "roles", "crypto");
    }
    int ok = 0, failed = 0;
    for (int i = 0; i < KEYGEN_THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += args[i].ok;
        failed += args[i].failed;
    }
    assert_int_equal(failed, 0);
    assert_int_equal(ok, KEYGEN_THREADS * KEYGENS_EACH);
    assert_int_equal(g11c_audit_verify(c, &after), CKR_OK);
    snprintf(problem, sizeof(problem), "%s", after.problem);
    if (!after.intact)
        fprintf(stderr, "audit trail: %s\n", problem);
    assert_true(after.intact);
    /* Each generation and each command left an entry (a command may leave
     * more than one). */
    assert_true(after.entries >= before.entries + (uint64_t)ok + COMMANDS);
    g11c_close(c);
    g11c_close(anon);
    assert_int_equal(test_server_stop(&ts), 0);
    free_admins(&a);
}

static void test_audit_tamper(void **state)
{
    (void)state;
    admins a;
    test_server ts;
    uint8_t parts[3][32];
    char vp[17], key[160], problem[256];
    make_admins(&a);
    assert_int_equal(test_server_start(&ts, custody_yaml(&a), NULL), 0);
    g11c_conn *anon = test_connect_anonymous(&ts, 0);
    ceremony(&ts, anon, &a, parts, vp, key, sizeof(key));
    g11c_conn *c = test_connect_as(&ts, 0, key);
    assert_true(intact(c, problem));
    store *st = open_db(&ts);
    uint64_t v;

    /* Edit: one byte of entry 5's detail. */
    store_object *o = audit_entry(st, 5);
    uint8_t *orig = malloc(o->blob_len);
    memcpy(orig, o->blob, o->blob_len);
    o->blob[o->blob_len - 40] ^= 1;
    assert_int_equal(store_object_update(st, &audit_keystore, NULL, &o->uuid, o->version, o->blob,
                                         o->blob_len, NULL, 0, &v),
                     CKR_OK);
    assert_false(intact(c, problem));
    fprintf(stderr, "edited: %s\n", problem);
    assert_int_equal(
        store_object_update(st, &audit_keystore, NULL, &o->uuid, v, orig, o->blob_len, NULL, 0, &v),
        CKR_OK);
    assert_true(intact(c, problem));
    store_objects_free(o, 1);
    free(orig);

    /* Reorder: entries 3 and 4 trade their sequence numbers. */
    store_object *e3 = audit_entry(st, 3), *e4 = audit_entry(st, 4);
    uint8_t s3[8], s4[8];
    memcpy(s3, e3->blob, 8);
    memcpy(s4, e4->blob, 8);
    memcpy(e3->blob, s4, 8);
    memcpy(e4->blob, s3, 8);
    assert_int_equal(store_object_update(st, &audit_keystore, NULL, &e3->uuid, e3->version,
                                         e3->blob, e3->blob_len, NULL, 0, &v),
                     CKR_OK);
    assert_int_equal(store_object_update(st, &audit_keystore, NULL, &e4->uuid, e4->version,
                                         e4->blob, e4->blob_len, NULL, 0, &v),
                     CKR_OK);
    assert_false(intact(c, problem));
    fprintf(stderr, "reordered: %s\n", problem);
    store_objects_free(e3, 1);
    store_objects_free(e4, 1);

    /* Drop: entry 7 deleted. */
    o = audit_entry(st, 7);
    assert_int_equal(store_object_destroy(st, &audit_keystore, NULL, &o->uuid), CKR_OK);
    store_objects_free(o, 1);
    assert_false(intact(c, problem));
    fprintf(stderr, "dropped: %s\n", problem);
    store_close(st);

    /* grep11ctl audit verify says so too (exit status 1). */
    char cmd[1200];
    snprintf(cmd, sizeof(cmd),
             "%s --address %s --data-dir %s --api-key '%s' audit verify >/dev/null", GREP11CTL_PATH,
             ts.addr, ts.dir, key);
    int rc = system(cmd);
    assert_true(WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
    g11c_close(c);
    g11c_close(anon);
    assert_int_equal(test_server_stop(&ts), 0);
    free_admins(&a);
}

/* ---- replicas sharing one database ------------------------------------- */

/* How many times the server's log says needle. */
static int log_count(const test_server *ts, const char *needle)
{
    static char buf[1 << 20];
    FILE *f = fopen(ts->log, "r");
    int k = 0;
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (const char *p = buf; (p = strstr(p, needle)); p++)
        k++;
    return k;
}

static int wait_log(const test_server *ts, const char *needle, int times, int ms)
{
    for (int t = 0; t < ms; t += 50, sleep_ms(50))
        if (log_count(ts, needle) >= times)
            return 1;
    return log_count(ts, needle) >= times;
}

static CK_RV encrypt_with(g11c_conn *c, const g11c_buf *blob)
{
    g11c_mech ecb = {.type = CKM_AES_ECB};
    g11c_buf out = {0};
    uint8_t data[16] = "sixteen bytes!!";
    CK_RV rv = g11c_encrypt_single(c, g11c_bytes_of(blob), &ecb, (g11c_bytes){data, 16}, &out);
    g11c_buf_free(&out);
    return rv;
}

static void aes_key(g11c_conn *c, g11c_buf *blob)
{
    CK_ULONG len = 32;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_ENCRYPT, &yes, 1}};
    g11c_mech gen = {.type = CKM_AES_KEY_GEN};
    g11c_buf cs = {0};
    assert_int_equal(g11c_generate_key(c, &gen, t, 2, blob, &cs), CKR_OK);
    g11c_buf_free(&cs);
}

/* Two grep11d on one database: the ceremony and a rotation through A, B
 * follows without a restart; then the log's newest entry is deleted and
 * both refuse to serve (B at once, A at its next start). */
static void test_replicas_follow(void **state)
{
    (void)state;
    admins a;
    test_server A, B;
    uint8_t parts[3][32], np[2][32];
    char vp[17], nvp[17], key[160], msg[300], db[64], ya[900], yb[900], cmd[1200];
    int unlocked = -1;
    unsigned held = 0;
    make_admins(&a);
    snprintf(db, sizeof(db), "/tmp/grep11-shared-XXXXXX");
    assert_non_null(mkdtemp(db));
    snprintf(ya, sizeof(ya),
             "store: sqlite:%s/shared.db\ncustody:\n  enabled: true\n  admin: %s/admin1.key.pub\n",
             db, a.dir);
    snprintf(yb, sizeof(yb), "store: sqlite:%s/shared.db\ncustody:\n  enabled: true\n", db);
    assert_int_equal(test_server_start(&A, ya, NULL), 0);
    /* B without the anchor refuses to start; with a copy of A's it starts. */
    assert_int_not_equal(test_server_start(&B, yb, NULL), 0);
    snprintf(cmd, sizeof(cmd), "cp '%s/custody-anchor' '%s/'", A.dir, B.dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(test_server_restart(&B), 0);

    g11c_conn *anonA = test_connect_anonymous(&A, 0), *anonB = test_connect_anonymous(&B, 0);
    ceremony(&A, anonA, &a, parts, vp, key, sizeof(key));
    assert_int_equal(serving(&B), 0); /* B follows the log but needs its own unlock */
    assert_int_equal(g11c_custody_unlock(anonB, (const uint8_t(*)[32])parts, 3, NULL, 0, 0,
                                         &unlocked, &held, msg, sizeof(msg)),
                     CKR_OK);
    assert_int_equal(unlocked, 1);
    g11c_conn *cA = test_connect_as(&A, 0, key), *cB = test_connect_as(&B, 0, key);
    assert_non_null(cA);
    assert_non_null(cB);
    g11c_buf old = {0}, neu = {0};
    aes_key(cA, &old);
    assert_int_equal(encrypt_with(cB, &old), CKR_OK);

    /* Rotation through A only. */
    RAND_bytes(np[0], 32);
    RAND_bytes(np[1], 32);
    load_parts(anonA, &a, TWO, np, 2, nvp);
    run(anonA, &a, TWO_B, NULL, 0, CKR_OK, NULL, "commit", "vp", nvp, NULL, NULL);
    /* The second commit B applies (the first was the ceremony's). */
    assert_true(wait_log(&B, "applied commit", 2, 5000));
    wait_rewrap(anonA, "done", 0);
    assert_int_equal(encrypt_with(cB, &old), CKR_OK); /* either key during the window */
    run(anonA, &a, TWO_B, NULL, 0, CKR_OK, NULL, "activate", "vp", nvp, NULL, NULL);
    aes_key(cA, &neu);
    /* B accepts the new key's blobs at once (it holds the committed key)
     * and switches within about a second, when its watcher reads the log. */
    assert_int_equal(encrypt_with(cB, &neu), CKR_OK);
    assert_true(wait_log(&B, "applied activate", 2, 5000));
    assert_int_equal(encrypt_with(cB, &neu), CKR_OK);
    assert_int_equal(encrypt_with(cB, &old), CKR_IBM_WKID_MISMATCH);
    assert_int_equal(encrypt_with(cA, &old), CKR_IBM_WKID_MISMATCH);
    assert_int_equal(serving(&B), 1);

    /* Rollback: A stops, the newest command record disappears. */
    assert_int_equal(stop_keep(&A), 0);
    char url[200];
    store *st = NULL;
    snprintf(url, sizeof(url), "sqlite:%s/shared.db", db);
    assert_int_equal(store_open(url, NULL, &st), CKR_OK);
    uint64_t last = 0;
    while (journal_has(st, last + 1) == CKR_OK)
        last++;
    assert_true(last >= 10);
    uint8_t id[8];
    for (int i = 0; i < 8; i++)
        id[i] = (uint8_t)(last >> (56 - 8 * i));
    assert_int_equal(journal_del(st, "cmd", id, 8), CKR_OK);
    store_close(st);
    /* B, running, notices on its next look at the log. */
    assert_true(wait_log(&B, "was rolled back", 1, 5000));
    assert_int_equal(serving(&B), 0);
    assert_int_not_equal(encrypt_with(cB, &neu), CKR_OK);
    /* A, restarted, refuses to unlock. */
    assert_int_equal(test_server_restart(&A), 0);
    assert_true(log_count(&A, "was rolled back") >= 1);
    g11c_close(anonA);
    anonA = test_connect_anonymous(&A, 0);
    unlocked = -1;
    assert_int_not_equal(g11c_custody_unlock(anonA, (const uint8_t(*)[32])np, 2, NULL, 0, 0,
                                             &unlocked, &held, msg, sizeof(msg)),
                         CKR_OK);
    assert_int_not_equal(unlocked, 1);
    assert_int_equal(serving(&A), 0);

    g11c_buf_free(&old);
    g11c_buf_free(&neu);
    g11c_close(cA);
    g11c_close(cB);
    g11c_close(anonA);
    g11c_close(anonB);
    assert_int_equal(test_server_stop(&A), 0);
    assert_int_equal(test_server_stop(&B), 0);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", db);
    assert_int_equal(system(cmd), 0);
    free_admins(&a);
}

/* "STATUS BODY" of an HTTPS request to the server's front (curl). */
static int front_get(const test_server *ts, const char *method, const char *path, char *body,
                     size_t cap)
{
    char addr[128] = "", cmd[1400], p[400];
    snprintf(p, sizeof(p), "%s/grep11d.http-addr", ts->dir);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    assert_non_null(fgets(addr, sizeof(addr), f));
    fclose(f);
    addr[strcspn(addr, "\r\n")] = '\0';
    snprintf(cmd, sizeof(cmd), "curl -s -X %s --cacert '%s' -w '\n%%{http_code}' 'https://%s%s'",
             method, ts->ca, addr, path);
    FILE *c = popen(cmd, "r");
    assert_non_null(c);
    size_t n = fread(body, 1, cap - 1, c);
    body[n] = '\0';
    assert_int_equal(pclose(c), 0);
    char *nl = strrchr(body, '\n');
    assert_non_null(nl);
    *nl = '\0';
    return atoi(nl + 1);
}

/* A locked instance is not ready, and says why; it issues no tokens. */
static void test_locked_front(void **state)
{
    (void)state;
    admins a;
    test_server ts;
    static const char *const args[] = {"--http-listen", "127.0.0.1:0", NULL};
    char body[2048];
    make_admins(&a);
    assert_int_equal(test_server_start(&ts, custody_yaml(&a), args), 0);
    assert_int_equal(front_get(&ts, "GET", "/healthz", body, sizeof(body)), 200);
    assert_int_equal(front_get(&ts, "GET", "/readyz", body, sizeof(body)), 503);
    assert_non_null(strstr(body, "locked"));
    assert_int_equal(front_get(&ts, "POST",
                               "/identity/token?grant_type=urn:ibm:params:oauth:grant-type:apikey"
                               "&apikey=g11k_x.y",
                               body, sizeof(body)),
                     503);
    assert_non_null(strstr(body, "errorCode"));
    assert_int_equal(test_server_stop(&ts), 0);
    free_admins(&a);
}

static CK_RV count_nonce(void *arg, const uint8_t *id, size_t idlen, const uint8_t *blob,
                         size_t len)
{
    (void)id, (void)idlen, (void)blob, (void)len;
    ++*(int *)arg;
    return CKR_OK;
}

/* Prepare needs no credentials, so a flood of it must not grow the
 * database (3,000 calls left 3,000 rows) and is slowed per address. The
 * nonces a ceremony did take stay valid. */
static void test_prepare_flood(void **state)
{
    (void)state;
    admins a;
    test_server ts;
    make_admins(&a);
    assert_int_equal(test_server_start(&ts, custody_yaml(&a), NULL), 0);
    g11c_conn *c = test_connect_anonymous(&ts, 0);
    signed_cmd first;
    build(c, &first, "set-threshold", "threshold", "1", NULL);
    int ok = 1, limited = 0;
    for (int i = 0; i < 300; i++) {
        uint8_t inst[16], nonce[16];
        uint64_t epoch;
        CK_RV rv = g11c_custody_prepare(c, inst, &epoch, nonce, NULL);
        if (rv == CKR_OK)
            ok++;
        else if (rv == CKR_GREP11_RATE_LIMITED)
            limited++;
        else
            fail_msg("Prepare answered 0x%lx", (unsigned long)rv);
    }
    print_message("prepare: %d answered, %d rate-limited\n", ok, limited);
    assert_true(ok <= 40);
    assert_true(limited >= 260);
    /* The early nonce still works: eviction takes the oldest only when
     * more than CUSTODY_MAX_NONCES are outstanding. */
    sign(&first, &a, 0);
    assert_int_equal(submit(c, &first, NULL, 0, NULL), CKR_OK);
    cmd_free(&first);
    char url[400];
    store *st = NULL;
    int rows = 0;
    snprintf(url, sizeof(url), "sqlite:%s/keystore.db", ts.dir);
    assert_int_equal(store_open(url, NULL, &st), CKR_OK);
    assert_int_equal(journal_each(st, "nonce", count_nonce, &rows), CKR_OK);
    store_close(st);
    assert_true(rows <= CUSTODY_MAX_NONCES);
    g11c_close(c);
    assert_int_equal(test_server_stop(&ts), 0);
    free_admins(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ceremony_and_unlock),
        cmocka_unit_test(test_prepare_flood),
        cmocka_unit_test(test_locked_front),
        cmocka_unit_test(test_refused_commands),
        cmocka_unit_test(test_audit_tamper),
        cmocka_unit_test(test_keygen_audit_under_commands),
        cmocka_unit_test(test_rotation_under_load),
        cmocka_unit_test(test_rotation_crash_resume),
        cmocka_unit_test(test_replicas_follow),
        cmocka_unit_test(test_rotation_password_keystore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
