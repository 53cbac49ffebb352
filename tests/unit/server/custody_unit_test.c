/* Custody building blocks: canonical command encoding, signatures and
 * thresholds, the state machine, Shamir over GF(2^8), key-part assembly and
 * passphrase-protected files. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/rand.h>

#include "adminkey.h"
#include "audit.h"
#include "bytes.h"
#include "command.h"
#include "journal.h"
#include "keyparts.h"
#include "secretfile.h"
#include "shamir.h"
#include "state.h"

static custody_cmd sample(void)
{
    custody_cmd c;
    memset(&c, 0, sizeof(c));
    memset(c.instance, 0xab, 16);
    memset(c.nonce, 0x5a, 16);
    c.epoch = 7;
    snprintf(c.name, sizeof(c.name), "set-threshold");
    custody_cmd_set(&c, "threshold", "2");
    custody_cmd_set(&c, "comment", "z before t? no: sorted");
    return c;
}

static void encoding_is_canonical(void **state)
{
    (void)state;
    custody_cmd c = sample(), d;
    uint8_t *p = NULL, *q = NULL;
    size_t n = 0, m = 0;
    assert_int_equal(custody_cmd_encode(&c, &p, &n), CKR_OK);
    assert_int_equal(custody_cmd_decode(p, n, &d), CKR_OK);
    assert_string_equal(d.args[0].key, "comment"); /* sorted */
    assert_int_equal(custody_cmd_encode(&d, &q, &m), CKR_OK);
    assert_int_equal(n, m);
    assert_memory_equal(p, q, n);
    /* Trailing byte, truncation, a wrong magic: refused. */
    uint8_t *r = malloc(n + 1);
    memcpy(r, p, n);
    r[n] = 0;
    assert_int_equal(custody_cmd_decode(r, n + 1, &d), CKR_ARGUMENTS_BAD);
    assert_int_equal(custody_cmd_decode(r, n - 1, &d), CKR_ARGUMENTS_BAD);
    r[6] ^= 1;
    assert_int_equal(custody_cmd_decode(r, n, &d), CKR_ARGUMENTS_BAD);
    free(r);
    /* Duplicate keys and bad names never encode. */
    custody_cmd e = sample();
    snprintf(e.args[1].key, sizeof(e.args[1].key), "threshold");
    uint8_t *x = NULL;
    size_t xl = 0;
    assert_int_equal(custody_cmd_encode(&e, &x, &xl), CKR_ARGUMENTS_BAD);
    assert_int_equal(custody_cmd_set(&e, "Bad_Key", "v"), CKR_ARGUMENTS_BAD);
    assert_int_equal(custody_cmd_set(&e, "k", "new\nline"), CKR_ARGUMENTS_BAD);
    free(p);
    free(q);
}

static void keys(custody_admin pub[3], EVP_PKEY *k[3], const char *dir)
{
    char path[300], err[200];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/k%d", dir, i);
        assert_int_equal(adminkey_generate(path, i == 1 ? CUSTODY_ALG_P256 : CUSTODY_ALG_ED25519,
                                           "n", "pw", 12, &pub[i], err, sizeof(err)),
                         CKR_OK);
        custody_admin again;
        assert_int_equal(adminkey_load(path, "wrong", &k[i], &again, err, sizeof(err)),
                         CKR_PIN_INCORRECT);
        assert_null(k[i]);
        assert_int_equal(adminkey_load(path, "pw", &k[i], &again, err, sizeof(err)), CKR_OK);
        assert_string_equal(again.keyid, pub[i].keyid);
    }
}

static void signatures_and_threshold(void **state)
{
    (void)state;
    char dir[] = "/tmp/custody-unit-XXXXXX", why[256], cmd[64];
    custody_admin pub[3];
    EVP_PKEY *k[3];
    custody_sig s[3];
    assert_non_null(mkdtemp(dir));
    keys(pub, k, dir);
    const uint8_t msg[] = "the canonical bytes";
    for (int i = 0; i < 3; i++) {
        memcpy(s[i].keyid, pub[i].keyid, sizeof(s[i].keyid));
        assert_int_equal(adminkey_sign(k[i], pub[i].alg, msg, sizeof(msg), s[i].sig, &s[i].len),
                         CKR_OK);
        assert_true(custody_sig_verify(&pub[i], msg, sizeof(msg), s[i].sig, s[i].len));
        assert_false(custody_sig_verify(&pub[i], msg, sizeof(msg) - 1, s[i].sig, s[i].len));
    }
    assert_int_equal(custody_check_sigs(pub, 3, 2, msg, sizeof(msg), s, 2, why, sizeof(why)),
                     CKR_OK);
    assert_int_equal(custody_check_sigs(pub, 3, 2, msg, sizeof(msg), s, 1, why, sizeof(why)),
                     CKR_GREP11_SIGNATURES); /* under-signed */
    custody_sig dup[2] = {s[0], s[0]};
    assert_int_equal(custody_check_sigs(pub, 3, 1, msg, sizeof(msg), dup, 2, why, sizeof(why)),
                     CKR_GREP11_SIGNATURES);
    assert_non_null(strstr(why, "duplicate"));
    assert_int_equal(custody_check_sigs(pub, 2, 1, msg, sizeof(msg), s + 2, 1, why, sizeof(why)),
                     CKR_GREP11_SIGNATURES); /* foreign key */
    assert_non_null(strstr(why, "not an installed"));
    custody_sig bad = s[1];
    bad.sig[bad.len / 2] ^= 1;
    assert_int_equal(custody_check_sigs(pub, 3, 1, msg, sizeof(msg), &bad, 1, why, sizeof(why)),
                     CKR_GREP11_SIGNATURES);
    for (int i = 0; i < 3; i++)
        EVP_PKEY_free(k[i]);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void apply(custody_state *s, const char *name, const char *k, const char *v, CK_RV want)
{
    custody_cmd c;
    char why[256] = "";
    uint8_t *p = NULL;
    size_t n = 0;
    memset(&c, 0, sizeof(c));
    memcpy(c.instance, s->instance, 16);
    c.epoch = s->epoch;
    snprintf(c.name, sizeof(c.name), "%s", name);
    if (k)
        custody_cmd_set(&c, k, v);
    if (!strcmp(name, "load-part"))
        custody_cmd_set(&c, "index", v[0] == 'a' ? "1" : "2");
    assert_int_equal(custody_cmd_encode(&c, &p, &n), CKR_OK);
    uint64_t before = s->epoch;
    CK_RV rv = custody_state_apply(s, &c, p, n, 1000, why, sizeof(why));
    if (rv != want)
        fail_msg("%s: got 0x%lx (%s)", name, (unsigned long)rv, why);
    assert_int_equal(s->epoch, want == CKR_OK ? before + 1 : before);
    free(p);
}

static void state_machine(void **state)
{
    (void)state;
    char dir[] = "/tmp/custody-unit-XXXXXX", hex[400], why[200], cmd[64];
    custody_admin pub[3];
    EVP_PKEY *k[3];
    custody_state s;
    custody_cmd g;
    uint8_t *p = NULL;
    size_t n = 0;
    assert_non_null(mkdtemp(dir));
    keys(pub, k, dir);
    memset(&g, 0, sizeof(g));
    snprintf(g.name, sizeof(g.name), "imprint");
    hex_encode(pub[0].spki, pub[0].spki_len, hex);
    custody_cmd_set(&g, "pubkey", hex);
    custody_cmd_encode(&g, &p, &n);
    assert_int_equal(custody_state_genesis(&s, &g, p, n, why, sizeof(why)), CKR_OK);
    free(p);
    assert_int_equal(s.threshold, 1);
    apply(&s, "set-threshold", "threshold", "2", CKR_ARGUMENTS_BAD); /* only 1 admin */
    hex_encode(pub[1].spki, pub[1].spki_len, hex);
    apply(&s, "add-admin", "pubkey", hex, CKR_OK);
    apply(&s, "add-admin", "pubkey", hex, CKR_GREP11_CUSTODY_STATE); /* twice */
    apply(&s, "set-threshold", "threshold", "2", CKR_OK);
    apply(&s, "remove-admin", "keyid", pub[1].keyid, CKR_GREP11_CUSTODY_STATE);
    apply(&s, "activate", "vp", "0123456789abcdef", CKR_GREP11_CUSTODY_STATE);
    apply(&s, "load-part", "part-vp", "aaaaaaaaaaaaaaaa", CKR_OK);
    apply(&s, "commit", "vp", "0123456789abcdef", CKR_GREP11_CUSTODY_STATE); /* 1 part */
    apply(&s, "load-part", "part-vp", "bbbbbbbbbbbbbbbb", CKR_OK);
    apply(&s, "commit", "vp", "0123456789abcdef", CKR_OK);
    apply(&s, "load-part", "part-vp", "aaaaaaaaaaaaaaaa", CKR_GREP11_CUSTODY_STATE);
    apply(&s, "activate", "vp", "fedcba9876543210", CKR_GREP11_CUSTODY_STATE); /* other key */
    apply(&s, "activate", "vp", "0123456789abcdef", CKR_OK);
    assert_true(s.have_current);
    assert_string_equal(s.cur_vp, "0123456789abcdef");
    apply(&s, "zeroize", NULL, NULL, CKR_OK);
    assert_false(s.have_current);
    apply(&s, "launch-missiles", NULL, NULL, CKR_ARGUMENTS_BAD);
    for (int i = 0; i < 3; i++)
        EVP_PKEY_free(k[i]);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void shamir_any_m_of_n(void **state)
{
    (void)state;
    uint8_t secret[32], out[32];
    shamir_share sh[5], pick[3];
    RAND_bytes(secret, 32);
    assert_int_equal(shamir_split(secret, 3, 5, sh), 0);
    for (int a = 0; a < 5; a++)
        for (int b = a + 1; b < 5; b++)
            for (int c = b + 1; c < 5; c++) {
                pick[0] = sh[c];
                pick[1] = sh[a];
                pick[2] = sh[b];
                assert_int_equal(shamir_combine(pick, 3, out), 0);
                assert_memory_equal(out, secret, 32);
            }
    assert_int_equal(shamir_combine(sh, 2, out), -1); /* too few */
    pick[0] = sh[0];
    pick[1] = sh[0];
    pick[2] = sh[1];
    assert_int_equal(shamir_combine(pick, 3, out), -1); /* same x twice */
    pick[1] = sh[3];
    pick[2].y[0] ^= 1;
    assert_int_equal(shamir_combine(pick, 3, out), -1); /* damaged share */
    assert_int_equal(gf256_mul(0x57, 0x83), 0xc1);      /* FIPS 197 example */
    uint8_t enc[SHAMIR_SHARE_ENCODED];
    shamir_share back;
    shamir_encode(&sh[4], enc);
    assert_int_equal(shamir_decode(enc, sizeof(enc), &back), 0);
    assert_memory_equal(&back, &sh[4], sizeof(back));
    enc[0] = 0;
    assert_int_equal(shamir_decode(enc, sizeof(enc), &back), -1);
}

static void xor_parts(void **state)
{
    (void)state;
    keyacc k;
    uint8_t a[32], b[32], key[32], want[32];
    char vp[17], wvp[17];
    RAND_bytes(a, 32);
    RAND_bytes(b, 32);
    for (int i = 0; i < 32; i++)
        want[i] = a[i] ^ b[i];
    keyacc_clear(&k);
    assert_int_equal(keyacc_add_part(&k, a), CKR_OK);
    assert_int_equal(keyacc_add_part(&k, b), CKR_OK);
    assert_int_equal(keyacc_key(&k, key), 0);
    assert_memory_equal(key, want, 32);
    keyacc_vp(&k, vp);
    custody_vp(want, 32, wvp);
    assert_string_equal(vp, wvp);
    shamir_share s;
    memset(&s, 0, sizeof(s));
    assert_int_equal(keyacc_add_share(&k, &s), CKR_ARGUMENTS_BAD); /* no mixing */
}

static void secret_files(void **state)
{
    (void)state;
    char path[] = "/tmp/custody-unit-file-XXXXXX", err[256];
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    uint8_t secret[32], out[64];
    size_t len = 0;
    secretfile_meta m = {0}, got;
    RAND_bytes(secret, 32);
    secretfile_meta_add(&m, "kind", "keypart");
    secretfile_meta_add(&m, "vp", "0011223344556677");
    assert_int_equal(secretfile_write(path, &m, secret, 32, "pass phrase", 12, err, sizeof(err)),
                     CKR_OK);
    assert_int_equal(secretfile_write(path, &m, secret, 32, "pass phrase", 12, err, sizeof(err)),
                     CKR_ARGUMENTS_BAD); /* never overwritten */
    assert_int_equal(
        secretfile_read(path, "pass phrase", out, sizeof(out), &len, &got, err, sizeof(err)),
        CKR_OK);
    assert_int_equal(len, 32);
    assert_memory_equal(out, secret, 32);
    assert_string_equal(secretfile_meta_get(&got, "vp"), "0011223344556677");
    memset(out, 0, sizeof(out));
    assert_int_equal(
        secretfile_read(path, "pass phrasE", out, sizeof(out), &len, &got, err, sizeof(err)),
        CKR_PIN_INCORRECT);
    assert_int_equal(len, 0);
    /* The metadata is authenticated too. */
    FILE *f = fopen(path, "r+");
    fseek(f, 30, SEEK_SET);
    fputc('9', f);
    fclose(f);
    assert_int_not_equal(
        secretfile_read(path, "pass phrase", out, sizeof(out), &len, &got, err, sizeof(err)),
        CKR_OK);
    unlink(path);
}

/* ---- the command log: one entry per epoch, whoever races --------------- */

#define RACERS 8

typedef struct {
    store *st;
    uint64_t epoch;
    uint8_t canon[24];
    pthread_barrier_t *go;
    CK_RV rv;
    int put; /* 1: journal_put of one shared record instead */
} racer;

static void *race(void *p)
{
    racer *r = p;
    pthread_barrier_wait(r->go);
    if (r->put)
        r->rv = journal_put(r->st, "vault", "shared", 6, r->canon, sizeof(r->canon));
    else
        r->rv = journal_append(r->st, r->epoch, 1, r->canon, sizeof(r->canon), NULL, 0);
    return NULL;
}

static void run_racers(store *a, store *b, uint64_t epoch, int put, racer *r)
{
    pthread_t th[RACERS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        r[i] = (racer){i % 2 ? b : a, epoch, {0}, &go, CKR_GENERAL_ERROR, put};
        memset(r[i].canon, 'a' + i, sizeof(r[i].canon));
        assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
}

/* Two replicas (two store handles on one database), four submitters each,
 * all appending the same epoch at once: exactly one entry is written, the
 * others get CKR_IBM_GREP11_CONFLICT, and what is stored is the winner's.
 * journal_put of one record from all of them leaves one record. */
static void log_append_race(void **state)
{
    (void)state;
    char dir[] = "/tmp/grep11-journal-XXXXXX", url[128], cmd[160];
    store *a = NULL, *b = NULL;
    store_options opt = {.pool_size = RACERS};
    assert_non_null(mkdtemp(dir));
    snprintf(url, sizeof(url), "sqlite:%s/log.db", dir);
    assert_int_equal(store_open(url, &opt, &a), CKR_OK);
    assert_int_equal(store_open(url, &opt, &b), CKR_OK);
    assert_int_equal(journal_init(a), CKR_OK);
    assert_int_equal(journal_init(b), CKR_OK);
    for (uint64_t epoch = 0; epoch < 25; epoch++) {
        racer r[RACERS];
        int wins = 0, winner = -1;
        run_racers(a, b, epoch, 0, r);
        for (int i = 0; i < RACERS; i++) {
            if (r[i].rv == CKR_OK) {
                wins++;
                winner = i;
            } else {
                assert_int_equal(r[i].rv, CKR_IBM_GREP11_CONFLICT);
            }
        }
        assert_int_equal(wins, 1);
        uint8_t id[8], *blob = NULL;
        size_t len = 0;
        for (int i = 0; i < 8; i++)
            id[i] = (uint8_t)(epoch >> (56 - 8 * i));
        assert_int_equal(journal_get(b, "cmd", id, 8, &blob, &len), CKR_OK);
        /* u64 when | u32 len | canon | u32 nsigs */
        assert_int_equal(len, 8 + 4 + sizeof(r[0].canon) + 4);
        assert_memory_equal(blob + 12, r[winner].canon, sizeof(r[winner].canon));
        free(blob);
        assert_int_equal(journal_has(a, epoch), CKR_OK);
        /* a late writer of a written epoch loses too */
        assert_int_equal(journal_append(a, epoch, 1, r[0].canon, sizeof(r[0].canon), NULL, 0),
                         CKR_IBM_GREP11_CONFLICT);
    }
    assert_int_equal(journal_has(a, 25), CKR_GREP11_MISSING);

    racer r[RACERS];
    run_racers(a, b, 0, 1, r);
    for (int i = 0; i < RACERS; i++)
        assert_int_equal(r[i].rv, CKR_OK);
    CK_ATTRIBUTE t[2] = {{CKA_LABEL, "vault", 5}, {CKA_ID, "shared", 6}};
    store_object *o = NULL;
    size_t n = 0;
    char next[STORE_CURSOR_SIZE];
    assert_int_equal(store_find_objects(a, &custody_keystore, NULL, t, 2, NULL, 10, &o, &n, next),
                     CKR_OK);
    assert_int_equal(n, 1);
    store_objects_free(o, n);
    store_close(a);
    store_close(b);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- the audit trail: group commit ------------------------------------- */

#define APPENDERS 16
#define APPENDS 50

typedef struct {
    audit *au;
    int who;
    int ok;
    pthread_barrier_t *go;
} appender;

static void *append_many(void *p)
{
    appender *x = p;
    char detail[64];
    pthread_barrier_wait(x->go);
    for (int i = 0; i < APPENDS; i++) {
        snprintf(detail, sizeof(detail), "thread=%d i=%d", x->who, i);
        if (audit_append(x->au, "generate-key", "tester", detail) == CKR_OK)
            x->ok++;
    }
    return NULL;
}

/* APPENDERS threads spread over the audit handles au[0..nau), all at once;
 * returns the number of acknowledged appends. */
static int run_appenders(audit **au, int nau)
{
    pthread_t th[APPENDERS];
    appender x[APPENDERS];
    pthread_barrier_t go;
    int ok = 0;
    pthread_barrier_init(&go, NULL, APPENDERS);
    for (int i = 0; i < APPENDERS; i++) {
        x[i] = (appender){au[i % nau], i, 0, &go};
        assert_int_equal(pthread_create(&th[i], NULL, append_many, &x[i]), 0);
    }
    for (int i = 0; i < APPENDERS; i++) {
        pthread_join(th[i], NULL);
        ok += x[i].ok;
    }
    pthread_barrier_destroy(&go);
    return ok;
}

/* Every stored entry: each sequence number exactly once, 0..n-1. */
static void assert_seqs_unique(store *st, uint64_t n)
{
    char cursor[STORE_CURSOR_SIZE] = "", next[STORE_CURSOR_SIZE];
    uint8_t *seen = calloc(n, 1);
    uint64_t total = 0;
    CK_ATTRIBUTE t = {CKA_LABEL, "e", 1};
    assert_non_null(seen);
    do {
        store_object *o = NULL;
        size_t got = 0;
        assert_int_equal(
            store_find_objects(st, &audit_keystore, NULL, &t, 1, cursor, 1000, &o, &got, next),
            CKR_OK);
        for (size_t i = 0; i < got; i++) {
            uint64_t seq = 0;
            assert_true(o[i].blob_len >= 8);
            for (int k = 0; k < 8; k++)
                seq = seq << 8 | o[i].blob[k];
            assert_true(seq < n);
            assert_int_equal(seen[seq], 0);
            seen[seq] = 1;
            total++;
        }
        store_objects_free(o, got);
        memcpy(cursor, next, sizeof(cursor));
    } while (cursor[0]);
    assert_int_equal(total, n);
    free(seen);
}

/* 16 threads x 50 appends through one audit handle, then through two
 * handles on one database (two replicas racing for the head): every entry
 * is stored once, in one chain that verifies with its MACs. An edited
 * entry is still detected. */
static void audit_group_commit(void **state)
{
    (void)state;
    char dir[] = "/tmp/grep11-audit-XXXXXX", url[128], cmd[160];
    store *a = NULL, *b = NULL;
    audit *au[2] = {NULL, NULL};
    uint8_t key[32];
    audit_report rep;
    store_options opt = {.pool_size = 4};
    assert_non_null(mkdtemp(dir));
    snprintf(url, sizeof(url), "sqlite:%s/audit.db", dir);
    assert_int_equal(store_open(url, &opt, &a), CKR_OK);
    assert_int_equal(store_open(url, &opt, &b), CKR_OK);
    assert_int_equal(journal_init(a), CKR_OK);
    assert_int_equal(audit_open(a, &au[0]), CKR_OK);
    assert_int_equal(audit_open(b, &au[1]), CKR_OK);
    assert_int_equal(RAND_bytes(key, sizeof(key)), 1);
    audit_set_key(au[0], key);
    audit_set_key(au[1], key);

    assert_int_equal(run_appenders(au, 1), APPENDERS * APPENDS);
    assert_int_equal(audit_verify(a, key, &rep), CKR_OK);
    assert_string_equal(rep.problem, "");
    assert_int_equal(rep.entries, APPENDERS * APPENDS);
    assert_int_equal(rep.maced, APPENDERS * APPENDS);
    assert_int_equal(rep.orphans, 0);
    assert_int_equal(rep.head_seq, APPENDERS * APPENDS - 1);
    assert_seqs_unique(a, APPENDERS * APPENDS);

    assert_int_equal(run_appenders(au, 2), APPENDERS * APPENDS);
    assert_int_equal(audit_verify(b, key, &rep), CKR_OK);
    assert_string_equal(rep.problem, "");
    assert_int_equal(rep.entries, 2 * APPENDERS * APPENDS);
    assert_int_equal(rep.orphans, 0);
    assert_seqs_unique(a, 2 * APPENDERS * APPENDS);

    /* an edited entry: the MAC (and the next entry's link) catch it */
    CK_ATTRIBUTE t[2] = {{CKA_LABEL, "e", 1}, {CKA_ID, "\0\0\0\0\0\0\0\x07", 8}};
    store_object *o = NULL;
    size_t n = 0;
    char next[STORE_CURSOR_SIZE];
    uint64_t v;
    assert_int_equal(store_find_objects(a, &audit_keystore, NULL, t, 2, NULL, 2, &o, &n, next),
                     CKR_OK);
    assert_int_equal(n, 1);
    o[0].blob[o[0].blob_len - 40] ^= 1; /* a byte of the detail text */
    assert_int_equal(store_object_update(a, &audit_keystore, NULL, &o[0].uuid, o[0].version,
                                         o[0].blob, o[0].blob_len, NULL, 0, &v),
                     CKR_OK);
    store_objects_free(o, n);
    assert_int_equal(audit_verify(a, key, &rep), CKR_OK);
    assert_string_not_equal(rep.problem, "");

    audit_close(au[0]);
    audit_close(au[1]);
    store_close(a);
    store_close(b);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static CK_RV count_one(void *arg, const uint8_t *id, size_t idlen, const uint8_t *blob, size_t len)
{
    (void)id, (void)idlen, (void)blob, (void)len;
    ++*(int *)arg;
    return CKR_OK;
}

/* Outstanding nonces stay at CUSTODY_MAX_NONCES however many are asked
 * for: the oldest goes, the newest work, expired ones are purged. */
static void nonces_are_bounded(void **state)
{
    (void)state;
    char dir[] = "/tmp/grep11-nonce-XXXXXX", url[128], cmd[160];
    store *st = NULL;
    enum { MADE = 3 * CUSTODY_MAX_NONCES };
    static uint8_t made[MADE][16];
    uint8_t n[16];
    int rows = 0;
    assert_non_null(mkdtemp(dir));
    snprintf(url, sizeof(url), "sqlite:%s/log.db", dir);
    assert_int_equal(store_open(url, NULL, &st), CKR_OK);
    assert_int_equal(journal_init(st), CKR_OK);
    /* All within a second or two: eviction must follow the order of
     * making, not of expiry seconds (the flake CI found). */
    for (int i = 0; i < MADE; i++)
        assert_int_equal(journal_nonce_new(st, made[i]), CKR_OK);
    assert_int_equal(journal_each(st, "nonce", count_one, &rows), CKR_OK);
    assert_int_equal(rows, CUSTODY_MAX_NONCES);
    for (int i = 0; i < MADE - CUSTODY_MAX_NONCES; i++) /* evicted, oldest first */
        assert_int_equal(journal_nonce_take(st, made[i]), CKR_GREP11_STALE_COMMAND);
    for (int i = MADE - CUSTODY_MAX_NONCES; i < MADE; i++)
        assert_int_equal(journal_nonce_take(st, made[i]), CKR_OK);
    assert_int_equal(journal_nonce_take(st, made[MADE - 1]), CKR_GREP11_STALE_COMMAND);
    /* An expired nonce is purged by the next Prepare. */
    uint8_t old_exp[8] = {0, 0, 0, 0, 0, 0, 0, 1}, old_id[16] = {0xee};
    assert_int_equal(journal_put(st, "nonce", old_id, 16, old_exp, 8), CKR_OK);
    assert_int_equal(journal_nonce_new(st, n), CKR_OK);
    uint8_t *blob = NULL;
    size_t len = 0;
    assert_int_equal(journal_get(st, "nonce", old_id, 16, &blob, &len), CKR_GREP11_MISSING);
    store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nonces_are_bounded),
        cmocka_unit_test(encoding_is_canonical),
        cmocka_unit_test(signatures_and_threshold),
        cmocka_unit_test(state_machine),
        cmocka_unit_test(shamir_any_m_of_n),
        cmocka_unit_test(xor_parts),
        cmocka_unit_test(secret_files),
        cmocka_unit_test(log_append_race),
        cmocka_unit_test(audit_group_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
