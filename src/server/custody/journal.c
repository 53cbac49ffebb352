#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"

const store_uuid custody_keystore = {
    {'g', 'r', 'e', 'p', '1', '1', 'C', 'u', 's', 't', 'o', 'd', 'y', 'L', 'o', 'g'}};
const store_uuid audit_keystore = {
    {'g', 'r', 'e', 'p', '1', '1', 'A', 'u', 'd', 'i', 't', 'T', 'r', 'a', 'i', 'l'}};

CK_RV journal_init(store *st)
{
    store_ks_params p = {STORE_KS_PRIVATE, "grep11 custody", NULL};
    store_ks_params a = {STORE_KS_PRIVATE, "grep11 audit trail", NULL};
    CK_RV rv = store_keystore_create(st, &custody_keystore, &p);
    if (rv == CKR_IBM_GREP11_CONFLICT)
        rv = CKR_OK;
    if (rv == CKR_OK) {
        rv = store_keystore_create(st, &audit_keystore, &a);
        if (rv == CKR_IBM_GREP11_CONFLICT)
            rv = CKR_OK;
    }
    return rv;
}

static void attrs_of(CK_ATTRIBUTE a[2], const char *kind, const void *id, size_t idlen)
{
    a[0] = (CK_ATTRIBUTE){CKA_LABEL, (void *)kind, strlen(kind)};
    a[1] = (CK_ATTRIBUTE){CKA_ID, (void *)id, idlen};
}

static CK_RV find(store *st, const char *kind, const void *id, size_t idlen, store_object **o,
                  size_t *n)
{
    CK_ATTRIBUTE a[2];
    char next[STORE_CURSOR_SIZE];
    attrs_of(a, kind, id, idlen);
    return store_find_objects(st, &custody_keystore, NULL, a, 2, NULL, 4, o, n, next);
}

/* A record's object UUID is a function of (kind, id): two writers creating
 * the same record meet on the primary key, and exactly one insert wins.
 * (Records written before this rule have random UUIDs; they are found by
 * their attributes like any other.) */
static void record_uuid(const char *kind, const void *id, size_t idlen, store_uuid *out)
{
    static const char tag[] = "grep11 custody record v1";
    uint8_t h[32];
    EVP_MD_CTX *x = EVP_MD_CTX_new();
    uint8_t sep = 0;
    unsigned int hl = 0;
    int ok = x && EVP_DigestInit_ex(x, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(x, tag, sizeof(tag)) == 1 &&
             EVP_DigestUpdate(x, kind, strlen(kind)) == 1 && EVP_DigestUpdate(x, &sep, 1) == 1 &&
             EVP_DigestUpdate(x, id, idlen) == 1 && EVP_DigestFinal_ex(x, h, &hl) == 1;
    EVP_MD_CTX_free(x);
    if (!ok) /* cannot happen with the default provider; a random UUID still works */
        RAND_bytes(h, sizeof(h));
    memcpy(out->b, h, 16);
}

/* Creates the record if absent (atomically), else updates it at the
 * version read. CKR_IBM_GREP11_CONFLICT: someone else wrote in between. */
static CK_RV put_once(store *st, const char *kind, const void *id, size_t idlen,
                      const uint8_t *blob, size_t len)
{
    store_object *o = NULL;
    size_t n = 0;
    CK_ATTRIBUTE a[2];
    store_uuid u;
    uint64_t v;
    CK_RV rv = find(st, kind, id, idlen, &o, &n);
    if (rv != CKR_OK)
        return rv;
    attrs_of(a, kind, id, idlen);
    if (n == 0) {
        record_uuid(kind, id, idlen, &u);
        rv = store_object_create_with_id(st, &custody_keystore, NULL, &u, blob, len, a, 2);
    } else {
        rv = store_object_update(st, &custody_keystore, NULL, &o[0].uuid, o[0].version, blob, len,
                                 NULL, 0, &v);
    }
    store_objects_free(o, n);
    return rv;
}

CK_RV journal_put(store *st, const char *kind, const void *id, size_t idlen, const uint8_t *blob,
                  size_t len)
{
    CK_RV rv = CKR_IBM_GREP11_CONFLICT;
    /* last writer wins: a conflict means another writer was first, so
     * read again and write over it */
    for (int attempt = 0; attempt < 5 && rv == CKR_IBM_GREP11_CONFLICT; attempt++)
        rv = put_once(st, kind, id, idlen, blob, len);
    return rv;
}

CK_RV journal_get(store *st, const char *kind, const void *id, size_t idlen, uint8_t **blob,
                  size_t *len)
{
    store_object *o = NULL;
    size_t n = 0;
    *blob = NULL;
    *len = 0;
    CK_RV rv = find(st, kind, id, idlen, &o, &n);
    if (rv != CKR_OK)
        return rv;
    if (n == 0) {
        rv = CKR_GREP11_MISSING;
    } else {
        *blob = o[0].blob;
        *len = o[0].blob_len;
        o[0].blob = NULL;
        o[0].blob_len = 0;
    }
    store_objects_free(o, n);
    return rv;
}

CK_RV journal_del(store *st, const char *kind, const void *id, size_t idlen)
{
    store_object *o = NULL;
    size_t n = 0;
    CK_RV rv = find(st, kind, id, idlen, &o, &n);
    if (rv != CKR_OK)
        return rv;
    rv = n ? CKR_OK : CKR_GREP11_MISSING;
    for (size_t i = 0; i < n && rv == CKR_OK; i++)
        rv = store_object_destroy(st, &custody_keystore, NULL, &o[i].uuid);
    store_objects_free(o, n);
    return rv;
}

static const CK_ATTRIBUTE *attr(const store_object *o, CK_ATTRIBUTE_TYPE t)
{
    for (CK_ULONG i = 0; i < o->nattrs; i++)
        if (o->attrs[i].type == t)
            return &o->attrs[i];
    return NULL;
}

CK_RV journal_each(store *st, const char *kind, journal_fn fn, void *arg)
{
    char cursor[STORE_CURSOR_SIZE] = "", next[STORE_CURSOR_SIZE];
    CK_ATTRIBUTE t = {CKA_LABEL, (void *)kind, strlen(kind)};
    CK_RV rv = CKR_OK;
    do {
        store_object *o = NULL;
        size_t n = 0;
        rv = store_find_objects(st, &custody_keystore, NULL, &t, 1, cursor, 500, &o, &n, next);
        for (size_t i = 0; rv == CKR_OK && i < n; i++) {
            const CK_ATTRIBUTE *id = attr(&o[i], CKA_ID);
            rv = fn(arg, id ? id->pValue : NULL, id ? id->ulValueLen : 0, o[i].blob, o[i].blob_len);
        }
        store_objects_free(o, n);
        memcpy(cursor, next, sizeof(cursor));
    } while (rv == CKR_OK && cursor[0]);
    return rv;
}

/* ---- command log ------------------------------------------------------
 * record: u64 when | lv(canonical) | u32 nsigs | { lv(keyid) lv(sig) }* */

CK_RV journal_append(store *st, uint64_t epoch, int64_t when, const uint8_t *canon, size_t len,
                     const custody_sig *sigs, size_t nsigs)
{
    cw_buf w;
    uint8_t id[8];
    for (int i = 0; i < 8; i++)
        id[i] = (uint8_t)(epoch >> (56 - 8 * i));
    cw_init(&w, CUSTODY_MAX_CMD + CUSTODY_MAX_SIGS * (CUSTODY_MAX_SIG + 32) + 64);
    cw_u64(&w, (uint64_t)when);
    cw_lv(&w, canon, len);
    cw_u32(&w, (uint32_t)nsigs);
    for (size_t i = 0; i < nsigs; i++) {
        cw_str(&w, sigs[i].keyid);
        cw_lv(&w, sigs[i].sig, sigs[i].len);
    }
    CK_RV rv = CKR_HOST_MEMORY;
    if (!w.err) {
        uint8_t *blob = NULL;
        size_t bl = 0;
        /* An epoch is written once: of two writers, the primary key lets
         * exactly one insert in (the look-up first catches entries written
         * before record UUIDs were derived). */
        rv = journal_get(st, "cmd", id, 8, &blob, &bl);
        free(blob);
        if (rv == CKR_OK) {
            rv = CKR_IBM_GREP11_CONFLICT;
        } else if (rv == CKR_GREP11_MISSING) {
            CK_ATTRIBUTE a[2];
            store_uuid u;
            attrs_of(a, "cmd", id, 8);
            record_uuid("cmd", id, 8, &u);
            rv = store_object_create_with_id(st, &custody_keystore, NULL, &u, w.p, w.len, a, 2);
        }
    }
    cw_free(&w);
    return rv;
}

typedef struct {
    uint64_t epoch;
    uint8_t *blob;
    size_t len;
} log_entry;

typedef struct {
    log_entry *e;
    size_t n, cap;
} log_list;

static CK_RV collect(void *arg, const uint8_t *id, size_t idlen, const uint8_t *blob, size_t len)
{
    log_list *l = arg;
    if (idlen != 8)
        return CKR_IBM_GREP11_DBINTERNAL;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        log_entry *b = realloc(l->e, cap * sizeof(*b));
        if (!b)
            return CKR_HOST_MEMORY;
        l->e = b;
        l->cap = cap;
    }
    log_entry *e = &l->e[l->n];
    e->epoch = 0;
    for (int i = 0; i < 8; i++)
        e->epoch = e->epoch << 8 | id[i];
    e->blob = malloc(len ? len : 1);
    if (!e->blob)
        return CKR_HOST_MEMORY;
    memcpy(e->blob, blob, len);
    e->len = len;
    l->n++;
    return CKR_OK;
}

static int by_epoch(const void *a, const void *b)
{
    uint64_t x = ((const log_entry *)a)->epoch, y = ((const log_entry *)b)->epoch;
    return x < y ? -1 : x > y;
}

/* Decodes one record and checks it against the state before it. */
static CK_RV replay_one(custody_state *s, const log_entry *e, const uint8_t anchor[32], char *why,
                        size_t cap, custody_cmd *cmd_out)
{
    cr_buf r;
    custody_cmd c;
    custody_sig sigs[CUSTODY_MAX_SIGS];
    size_t len = 0, nsigs;
    cr_init(&r, e->blob, e->len);
    int64_t when = (int64_t)cr_u64(&r);
    const uint8_t *canon = cr_lv(&r, CUSTODY_MAX_CMD, &len);
    nsigs = cr_u32(&r);
    if (!canon || nsigs > CUSTODY_MAX_SIGS || custody_cmd_decode(canon, len, &c) != CKR_OK)
        goto bad;
    for (size_t i = 0; i < nsigs; i++) {
        size_t sl = 0;
        const uint8_t *q;
        if (cr_str(&r, sigs[i].keyid, sizeof(sigs[i].keyid)) != 0 ||
            !(q = cr_lv(&r, CUSTODY_MAX_SIG, &sl)))
            goto bad;
        memcpy(sigs[i].sig, q, sl);
        sigs[i].len = sl;
    }
    if (!cr_done(&r) || c.epoch != e->epoch)
        goto bad;
    if (e->epoch == 0) {
        uint8_t h[32];
        custody_sha256(canon, len, h);
        if (CRYPTO_memcmp(h, anchor, 32) != 0) {
            snprintf(why, cap, "the imprint in the database does not match this host's anchor");
            return CKR_IBM_GREP11_DBINTERNAL;
        }
        if (cmd_out)
            *cmd_out = c;
        return custody_state_genesis(s, &c, canon, len, why, cap);
    }
    CK_RV rv = custody_state_check(s, &c, canon, len, sigs, nsigs, why, cap);
    if (rv == CKR_OK)
        rv = custody_state_apply(s, &c, canon, len, when, why, cap);
    if (rv == CKR_OK && cmd_out)
        *cmd_out = c;
    return rv;
bad:
    snprintf(why, cap, "log entry %llu is damaged", (unsigned long long)e->epoch);
    return CKR_IBM_GREP11_DBINTERNAL;
}

CK_RV journal_replay(store *st, const uint8_t anchor[32], custody_state *out, char *why, size_t cap)
{
    return journal_replay_steps(st, anchor, out, why, cap, NULL, NULL);
}

CK_RV journal_replay_steps(store *st, const uint8_t anchor[32], custody_state *out, char *why,
                           size_t cap, journal_step_fn fn, void *arg)
{
    log_list l = {0};
    memset(out, 0, sizeof(*out));
    CK_RV rv = journal_each(st, "cmd", collect, &l);
    if (rv == CKR_OK && l.n == 0)
        rv = CKR_GREP11_MISSING;
    if (rv == CKR_OK)
        qsort(l.e, l.n, sizeof(*l.e), by_epoch);
    for (size_t i = 0; rv == CKR_OK && i < l.n; i++) {
        if (l.e[i].epoch != i) {
            snprintf(why, cap, "command log entry %zu is missing", i);
            rv = CKR_IBM_GREP11_DBINTERNAL;
            break;
        }
        char inner[200] = "";
        custody_cmd cmd;
        rv = replay_one(out, &l.e[i], anchor, inner, sizeof(inner), &cmd);
        if (rv != CKR_OK)
            snprintf(why, cap, "command log entry %zu refused: %s", i, inner);
        else if (fn)
            rv = fn(arg, &cmd, out);
    }
    for (size_t i = 0; i < l.n; i++)
        free(l.e[i].blob);
    free(l.e);
    return rv;
}

CK_RV journal_has(store *st, uint64_t epoch)
{
    uint8_t id[8], *blob = NULL;
    size_t bl = 0;
    for (int i = 0; i < 8; i++)
        id[i] = (uint8_t)(epoch >> (56 - 8 * i));
    CK_RV rv = journal_get(st, "cmd", id, 8, &blob, &bl);
    free(blob);
    return rv;
}

CK_RV journal_imprint(store *st, const uint8_t *spki, size_t spki_len, const char *name,
                      uint8_t instance[16], uint8_t anchor[32])
{
    custody_cmd c;
    char hex[2 * CUSTODY_MAX_SPKI + 1];
    uint8_t *canon = NULL;
    size_t len = 0;
    custody_admin a;
    memset(&c, 0, sizeof(c));
    if (custody_admin_from_spki(spki, spki_len, name, &a) != CKR_OK)
        return CKR_ARGUMENTS_BAD;
    uint8_t *old = NULL;
    size_t ol = 0;
    uint8_t zero[8] = {0};
    CK_RV rv = journal_get(st, "cmd", zero, 8, &old, &ol);
    free(old);
    if (rv == CKR_OK)
        return CKR_IBM_GREP11_CONFLICT;
    if (rv != CKR_GREP11_MISSING)
        return rv;
    if (RAND_bytes(instance, 16) != 1)
        return CKR_DEVICE_ERROR;
    memcpy(c.instance, instance, 16);
    snprintf(c.name, sizeof(c.name), "imprint");
    hex_encode(spki, spki_len, hex);
    if (custody_cmd_set(&c, "pubkey", hex) != CKR_OK ||
        custody_cmd_set(&c, "name", name && name[0] ? name : "admin") != CKR_OK)
        return CKR_ARGUMENTS_BAD;
    if ((rv = custody_cmd_encode(&c, &canon, &len)) != CKR_OK)
        return rv;
    custody_sha256(canon, len, anchor);
    rv = journal_append(st, 0, (int64_t)time(NULL), canon, len, NULL, 0);
    free(canon);
    return rv;
}

/* ---- nonces: record id = nonce, blob = u64 expiry (s) || u64 birth (ns) --
 * The birth time orders eviction: expiries share a second, so "oldest" by
 * expiry alone picked an arbitrary nonce among those of one second. Rows
 * of 8 bytes (written before the birth time was kept) count as born at the
 * start of their second. */

typedef struct {
    uint8_t id[CUSTODY_MAX_NONCES * 2][16];
    uint64_t exp[CUSTODY_MAX_NONCES * 2];
    uint64_t born[CUSTODY_MAX_NONCES * 2];
    size_t n;
} nonce_list;

static uint64_t nonce_expiry(const uint8_t *blob, size_t len)
{
    cr_buf r;
    cr_init(&r, blob, len);
    uint64_t exp = cr_u64(&r);
    return r.err ? 0 : exp;
}

static uint64_t nonce_born(const uint8_t *blob, size_t len)
{
    cr_buf r;
    cr_init(&r, blob, len);
    uint64_t exp = cr_u64(&r), born = cr_u64(&r);
    if (!r.err)
        return born;
    return exp > CUSTODY_NONCE_TTL_S ? (exp - CUSTODY_NONCE_TTL_S) * 1000000000ULL : 0;
}

static CK_RV nonce_collect(void *arg, const uint8_t *id, size_t idlen, const uint8_t *blob,
                           size_t len)
{
    nonce_list *l = arg;
    if (idlen != 16)
        return CKR_OK;
    if (l->n == sizeof(l->exp) / sizeof(l->exp[0]))
        return CKR_BUFFER_TOO_SMALL; /* enough to evict from; the rest next time */
    memcpy(l->id[l->n], id, 16);
    l->exp[l->n] = nonce_expiry(blob, len);
    l->born[l->n++] = nonce_born(blob, len);
    return CKR_OK;
}

/* Purges expired nonces and evicts the oldest until one more fits. */
static CK_RV nonce_make_room(store *st, uint64_t now)
{
    nonce_list *l = calloc(1, sizeof(*l));
    if (!l)
        return CKR_HOST_MEMORY;
    CK_RV rv = journal_each(st, "nonce", nonce_collect, l);
    if (rv == CKR_BUFFER_TOO_SMALL)
        rv = CKR_OK;
    size_t live = l->n;
    for (size_t i = 0; rv == CKR_OK && i < l->n; i++)
        if (l->exp[i] < now) {
            rv = journal_del(st, "nonce", l->id[i], 16);
            l->born[i] = UINT64_MAX; /* gone: never the oldest below */
            live--;
        }
    while (rv == CKR_OK && live >= CUSTODY_MAX_NONCES) {
        size_t oldest = 0;
        for (size_t i = 1; i < l->n; i++)
            if (l->born[i] < l->born[oldest])
                oldest = i;
        rv = journal_del(st, "nonce", l->id[oldest], 16);
        l->born[oldest] = UINT64_MAX;
        live--;
    }
    if (rv == CKR_GREP11_MISSING) /* another replica was quicker */
        rv = CKR_OK;
    free(l);
    return rv;
}

CK_RV journal_nonce_new(store *st, uint8_t nonce[16])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec, exp = now + CUSTODY_NONCE_TTL_S;
    uint64_t born = now * 1000000000ULL + (uint64_t)ts.tv_nsec;
    CK_RV rv = nonce_make_room(st, now);
    if (rv != CKR_OK)
        return rv;
    if (RAND_bytes(nonce, 16) != 1)
        return CKR_DEVICE_ERROR;
    cw_buf w;
    cw_init(&w, 16);
    cw_u64(&w, exp);
    cw_u64(&w, born);
    rv = w.err ? CKR_HOST_MEMORY : journal_put(st, "nonce", nonce, 16, w.p, w.len);
    cw_free(&w);
    return rv;
}

CK_RV journal_nonce_take(store *st, const uint8_t nonce[16])
{
    uint8_t *blob = NULL;
    size_t len = 0;
    CK_RV rv = journal_get(st, "nonce", nonce, 16, &blob, &len);
    if (rv == CKR_GREP11_MISSING)
        return CKR_GREP11_STALE_COMMAND;
    if (rv != CKR_OK)
        return rv;
    uint64_t exp = nonce_expiry(blob, len);
    free(blob);
    /* Destroy first: of two submitters of one nonce, one wins. */
    rv = journal_del(st, "nonce", nonce, 16);
    if (rv == CKR_GREP11_MISSING)
        return CKR_GREP11_STALE_COMMAND;
    if (rv != CKR_OK)
        return rv;
    return exp >= (uint64_t)time(NULL) ? CKR_OK : CKR_GREP11_STALE_COMMAND;
}

/* ---- anchor file ----------------------------------------------------- */

int anchor_write(const char *data_dir, const uint8_t instance[16], const uint8_t hash[32])
{
    char path[4200], tmp[4300], a[33], h[65];
    snprintf(path, sizeof(path), "%s/%s", data_dir, CUSTODY_ANCHOR_FILE);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    hex_encode(instance, 16, a);
    hex_encode(hash, 32, h);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%s %s\n", a, h);
    int ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    return ok && rename(tmp, path) == 0 ? 0 : -1;
}

int anchor_read(const char *data_dir, uint8_t instance[16], uint8_t hash[32])
{
    char path[4200], a[40], h[80];
    snprintf(path, sizeof(path), "%s/%s", data_dir, CUSTODY_ANCHOR_FILE);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 1 : -1;
    int n = fscanf(f, "%39s %79s", a, h);
    fclose(f);
    if (n != 2 || hex_decode(a, instance, 16) != 16 || hex_decode(h, hash, 32) != 32)
        return -1;
    return 0;
}
