/* Keystores: create, wipe (and re-create), info, delete; and the password
 * check every object call goes through (ks_resolve before its transaction,
 * ks_recheck inside it). */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "codec.h"
#include "internal.h"
#include "sql.h"

typedef struct ks_row {
    bool found;
    store_ks_kind kind;
    char label[STORE_MAX_LABEL + 1];
    int64_t created;
    bool prot;
    kdf_params kdf;
    unsigned char verifier[CRYPT_KEY_LEN];
    uint64_t used_objects, used_bytes;
} ks_row;

/* A count as read; below zero only if rows were written behind the
 * store's back (or by a program without quotas), shown as none. */
static uint64_t count_of(int64_t v)
{
    return v > 0 ? (uint64_t)v : 0;
}

/* Reads and sanity-checks a keystore row; a row we could not have written
 * is CKR_IBM_GREP11_DBINTERNAL. */
static CK_RV read_ks(db_ctx *db, const store_uuid *ks, ks_row *out)
{
    db_arg arg = DB_UUID(ks);
    const unsigned char *p;
    db_rows *r = NULL;
    bool have = false;
    size_t n;
    CK_RV rv;
    int64_t kind, log2n;

    memset(out, 0, sizeof(*out));
    rv = db_query(db, SQL_KS_GET, sql_text[SQL_KS_GET], &arg, 1, &r);
    if (rv == CKR_OK)
        rv = db->be->next(r, &have);
    if (rv != CKR_OK || !have)
        goto out;
    rv = CKR_IBM_GREP11_DBINTERNAL;
    kind = db->be->col_int(r, KS_KIND);
    if (kind != STORE_KS_PUBLIC && kind != STORE_KS_PRIVATE)
        goto out;
    out->kind = (store_ks_kind)kind;
    p = db->be->col_blob(r, KS_LABEL, &n);
    if (n > STORE_MAX_LABEL)
        goto out;
    if (n > 0)
        memcpy(out->label, p, n);
    out->created = db->be->col_int(r, KS_CREATED);
    out->used_objects = count_of(db->be->col_int(r, KS_USED_OBJECTS));
    out->used_bytes = count_of(db->be->col_int(r, KS_USED_BYTES));
    log2n = db->be->col_int(r, KS_LOG2N);
    if (log2n != 0) {
        out->prot = true;
        out->kdf.log2n = (unsigned)(log2n & 0xff);
        out->kdf.r = (unsigned)(db->be->col_int(r, KS_R) & 0xff);
        out->kdf.p = (unsigned)(db->be->col_int(r, KS_P) & 0xff);
        if ((int64_t)out->kdf.log2n != log2n || !crypt_kdf_params_ok(&out->kdf))
            goto out;
        p = db->be->col_blob(r, KS_SALT, &n);
        if (n != CRYPT_SALT_LEN)
            goto out;
        memcpy(out->kdf.salt, p, n);
        p = db->be->col_blob(r, KS_VERIFIER, &n);
        if (n != CRYPT_KEY_LEN)
            goto out;
        memcpy(out->verifier, p, n);
    }
    out->found = true;
    rv = CKR_OK;
out:
    db->be->rows_free(r);
    return rv;
}

typedef struct read_arg {
    const store_uuid *ks;
    ks_row *row;
} read_arg;

static CK_RV read_ks_txn(db_ctx *db, void *arg)
{
    read_arg *a = arg;

    return read_ks(db, a->ks, a->row);
}

void ks_ctx_clear(ks_ctx *k)
{
    OPENSSL_cleanse(k, sizeof(*k));
}

static bool pw_len_ok(const store_password *pw)
{
    return pw->data != NULL && pw->len >= STORE_MIN_PASSWORD && pw->len <= STORE_MAX_PASSWORD;
}

/* The password check proper: the derived verifier is compared in constant
 * time, and only a verified key ever enters the cache. */
static CK_RV unlock(store *st, const ks_row *row, const store_uuid *ks, const store_password *pw,
                    ks_ctx *out)
{
    unsigned char id[CRYPT_KEY_LEN], verifier[CRYPT_KEY_LEN];
    CK_RV rv;

    if (pw == NULL || !pw_len_ok(pw))
        return CKR_PIN_INCORRECT;
    rv = keycache_id(&st->kc, ks, &row->kdf, row->verifier, pw->data, pw->len, id);
    if (rv != CKR_OK)
        return rv;
    if (keycache_get(&st->kc, id, &out->keys))
        goto out;
    rv = crypt_derive(ks, &row->kdf, pw->data, pw->len, verifier, &out->keys);
    if (rv != CKR_OK)
        goto out;
    if (CRYPTO_memcmp(verifier, row->verifier, CRYPT_KEY_LEN) != 0) {
        rv = CKR_PIN_INCORRECT;
        goto out;
    }
    keycache_put(&st->kc, id, &out->keys);
out:
    OPENSSL_cleanse(verifier, sizeof(verifier));
    OPENSSL_cleanse(id, sizeof(id));
    if (rv != CKR_OK)
        OPENSSL_cleanse(&out->keys, sizeof(out->keys));
    return rv;
}

CK_RV ks_resolve(store *st, const store_uuid *ks, const store_password *pw, ks_ctx *out)
{
    ks_row row;
    read_arg a = {ks, &row};
    CK_RV rv;

    memset(out, 0, sizeof(*out));
    rv = pool_txn(&st->pl, false, read_ks_txn, &a);
    if (rv != CKR_OK)
        goto out;
    if (!row.found) {
        rv = CKR_TOKEN_NOT_PRESENT;
        goto out;
    }
    out->id = *ks;
    quota_limits(&st->q, ks, &out->max_objects, &out->max_bytes);
    out->prot = row.prot;
    if (!row.prot) {
        /* a password where none is set is a client misconfiguration that
         * must not silently store objects unencrypted */
        rv = pw != NULL ? CKR_PIN_INCORRECT : CKR_OK;
        crypt_public_index_key(ks, out->keys.index);
        goto out;
    }
    out->kdf = row.kdf;
    memcpy(out->verifier, row.verifier, CRYPT_KEY_LEN);
    rv = unlock(st, &row, ks, pw, out);
out:
    OPENSSL_cleanse(&row, sizeof(row));
    if (rv != CKR_OK)
        ks_ctx_clear(out);
    return rv;
}

CK_RV ks_recheck(db_ctx *db, const ks_ctx *k)
{
    ks_row row;
    CK_RV rv;

    rv = read_ks(db, &k->id, &row);
    if (rv != CKR_OK)
        return rv;
    if (!row.found)
        return CKR_TOKEN_NOT_PRESENT;
    if (row.prot != k->prot)
        return CKR_PIN_INCORRECT;
    if (row.prot && (CRYPTO_memcmp(row.kdf.salt, k->kdf.salt, CRYPT_SALT_LEN) != 0 ||
                     CRYPTO_memcmp(row.verifier, k->verifier, CRYPT_KEY_LEN) != 0))
        return CKR_PIN_INCORRECT;
    return CKR_OK;
}

/* ---- create / wipe ------------------------------------------------------ */

/* A keystore's new settings, the KDF already run (outside transactions). */
typedef struct ks_new {
    const store_uuid *ks;
    const store_ks_params *p;
    kdf_params kdf;
    unsigned char verifier[CRYPT_KEY_LEN];
    ks_keys keys;
    unsigned char cache_id[CRYPT_KEY_LEN];
    bool wipe; /* wipe: keystore must exist; p may be NULL */
} ks_new;

static CK_RV check_params(const store_ks_params *p)
{
    size_t n;

    if ((p->kind != STORE_KS_PUBLIC && p->kind != STORE_KS_PRIVATE) || p->label == NULL)
        return CKR_ARGUMENTS_BAD;
    n = strnlen(p->label, STORE_MAX_LABEL + 1);
    if (n > STORE_MAX_LABEL)
        return CKR_DATA_LEN_RANGE;
    if (!store_utf8_ok(p->label, n))
        return CKR_ARGUMENTS_BAD;
    if (p->password != NULL && p->password->data == NULL)
        return CKR_ARGUMENTS_BAD;
    if (p->password != NULL && !pw_len_ok(p->password))
        return CKR_PIN_LEN_RANGE;
    return CKR_OK;
}

static CK_RV prepare_new(store *st, ks_new *k)
{
    const store_password *pw = k->p ? k->p->password : NULL;
    CK_RV rv;

    if (pw == NULL)
        return CKR_OK;
    rv = crypt_new_kdf_params(st->kdf_log2n, &k->kdf);
    if (rv == CKR_OK)
        rv = crypt_derive(k->ks, &k->kdf, pw->data, pw->len, k->verifier, &k->keys);
    if (rv == CKR_OK)
        rv = keycache_id(&st->kc, k->ks, &k->kdf, k->verifier, pw->data, pw->len, k->cache_id);
    return rv;
}

static CK_RV write_ks(db_ctx *db, void *arg)
{
    ks_new *k = arg;
    const bool prot = k->p->password != NULL;
    const int slot = k->wipe ? SQL_KS_RESET : SQL_KS_INSERT;
    db_arg a[9];
    size_t i = 0;

    if (!k->wipe)
        a[i++] = DB_UUID(k->ks);
    a[i++] = DB_I(k->p->kind);
    a[i++] = DB_T(k->p->label);
    a[i++] = DB_I(store_now_us());
    a[i++] = DB_B(k->kdf.salt, prot ? CRYPT_SALT_LEN : 0);
    a[i++] = DB_I(prot ? k->kdf.log2n : 0);
    a[i++] = DB_I(prot ? k->kdf.r : 0);
    a[i++] = DB_I(prot ? k->kdf.p : 0);
    a[i++] = DB_B(k->verifier, prot ? CRYPT_KEY_LEN : 0);
    if (k->wipe)
        a[i++] = DB_UUID(k->ks);
    return db_exec(db, slot, sql_text[slot], a, i, NULL);
}

/* The request records go too: a write resent after a wipe is applied to
 * the new keystore, not answered with an object that no longer exists. */
static CK_RV delete_objects(db_ctx *db, const store_uuid *ks)
{
    db_arg a = DB_UUID(ks);
    CK_RV rv;

    rv = db_exec(db, SQL_ATTR_DELETE_ALL, sql_text[SQL_ATTR_DELETE_ALL], &a, 1, NULL);
    if (rv == CKR_OK)
        rv = db_exec(db, SQL_OBJ_DELETE_ALL, sql_text[SQL_OBJ_DELETE_ALL], &a, 1, NULL);
    if (rv == CKR_OK)
        rv = db_exec(db, SQL_REQ_DELETE_ALL, sql_text[SQL_REQ_DELETE_ALL], &a, 1, NULL);
    return rv;
}

static CK_RV create_or_wipe_txn(db_ctx *db, void *arg)
{
    ks_new *k = arg;
    ks_row row;
    CK_RV rv;

    rv = read_ks(db, k->ks, &row);
    OPENSSL_cleanse(&row.verifier, sizeof(row.verifier));
    if (rv != CKR_OK)
        return rv;
    if (!k->wipe)
        return row.found ? CKR_IBM_GREP11_CONFLICT : write_ks(db, k);
    if (!row.found)
        return CKR_TOKEN_NOT_PRESENT;
    rv = quota_zero(db, k->ks);
    if (rv == CKR_OK)
        rv = delete_objects(db, k->ks);
    if (rv == CKR_OK && k->p != NULL)
        rv = write_ks(db, k);
    return rv;
}

static CK_RV create_or_wipe(store *st, const store_uuid *ks, const store_ks_params *p, bool wipe)
{
    ks_new k;
    CK_RV rv;

    if (st == NULL || ks == NULL || (p == NULL && !wipe))
        return CKR_ARGUMENTS_BAD;
    if (p != NULL && (rv = check_params(p)) != CKR_OK)
        return rv;
    memset(&k, 0, sizeof(k));
    k.ks = ks;
    k.p = p;
    k.wipe = wipe;
    rv = prepare_new(st, &k);
    if (rv == CKR_OK)
        rv = pool_txn(&st->pl, true, create_or_wipe_txn, &k);
    /* the creator will use the keystore next: spare it a second KDF run */
    if (rv == CKR_OK && p != NULL && p->password != NULL)
        keycache_put(&st->kc, k.cache_id, &k.keys);
    OPENSSL_cleanse(&k, sizeof(k));
    return rv;
}

CK_RV store_keystore_create(store *st, const store_uuid *ks, const store_ks_params *p)
{
    return create_or_wipe(st, ks, p, false);
}

CK_RV store_keystore_wipe(store *st, const store_uuid *ks, const store_ks_params *p)
{
    return create_or_wipe(st, ks, p, true);
}

/* C_InitToken's meaning in one transaction: wipe and re-create with p, or
 * create when new; with what commits with it (its audit entry, asked for
 * with the keystore's UUID as the object and version 0). */
typedef struct init_arg {
    ks_new k;
    tied *t;
} init_arg;

static CK_RV init_txn(db_ctx *db, void *arg)
{
    init_arg *x = arg;
    ks_row row;
    ks_ctx kc;
    CK_RV rv;

    rv = read_ks(db, x->k.ks, &row);
    OPENSSL_cleanse(&row.verifier, sizeof(row.verifier));
    if (rv != CKR_OK)
        return rv;
    x->k.wipe = row.found;
    if (row.found) {
        rv = quota_zero(db, x->k.ks);
        if (rv == CKR_OK)
            rv = delete_objects(db, x->k.ks);
    }
    if (rv == CKR_OK)
        rv = write_ks(db, &x->k);
    memset(&kc, 0, sizeof(kc));
    kc.id = *x->k.ks;
    if (rv == CKR_OK)
        rv = tied_commit(db, &kc, x->t, x->k.ks, 0);
    return rv;
}

CK_RV store_keystore_init_with(store *st, const store_uuid *ks, const store_ks_params *p,
                               store_with *w)
{
    init_arg x;
    tied t;
    CK_RV rv;

    if (st == NULL || ks == NULL || p == NULL || (w != NULL && w->request_id != NULL))
        return CKR_ARGUMENTS_BAD;
    if ((rv = check_params(p)) != CKR_OK)
        return rv;
    memset(&x, 0, sizeof(x));
    x.k.ks = ks;
    x.k.p = p;
    rv = prepare_new(st, &x.k);
    if (rv == CKR_OK)
        rv = tied_open(st, w, &t);
    if (rv != CKR_OK) {
        OPENSSL_cleanse(&x, sizeof(x));
        return rv;
    }
    x.t = &t;
    rv = pool_txn(&st->pl, true, init_txn, &x);
    if (rv == CKR_OK && p->password != NULL)
        keycache_put(&st->kc, x.k.cache_id, &x.k.keys);
    tied_close(&t);
    OPENSSL_cleanse(&x, sizeof(x));
    return rv;
}

/* ---- info / delete ------------------------------------------------------ */

typedef struct info_arg {
    const store_uuid *ks;
    ks_row row;
} info_arg;

static CK_RV info_txn(db_ctx *db, void *arg)
{
    info_arg *ia = arg;
    CK_RV rv;

    rv = read_ks(db, ia->ks, &ia->row);
    if (rv == CKR_OK && !ia->row.found)
        rv = CKR_TOKEN_NOT_PRESENT;
    return rv;
}

/* A limit as store_ks_info shows it: 0 for none. */
static uint64_t shown_limit(int64_t v)
{
    return v == QUOTA_NONE ? 0 : (uint64_t)v;
}

CK_RV store_keystore_info(store *st, const store_uuid *ks, store_ks_info *out)
{
    info_arg ia;
    int64_t max_objects, max_bytes;
    CK_RV rv;

    if (st == NULL || ks == NULL || out == NULL)
        return CKR_ARGUMENTS_BAD;
    memset(out, 0, sizeof(*out));
    ia.ks = ks;
    rv = pool_txn(&st->pl, false, info_txn, &ia);
    if (rv == CKR_OK) {
        quota_limits(&st->q, ks, &max_objects, &max_bytes);
        out->kind = ia.row.kind;
        memcpy(out->label, ia.row.label, sizeof(ia.row.label));
        out->object_count = ia.row.used_objects;
        out->bytes = ia.row.used_bytes;
        out->max_objects = shown_limit(max_objects);
        out->max_bytes = shown_limit(max_bytes);
        out->password_protected = ia.row.prot;
        out->created_us = ia.row.created;
    }
    OPENSSL_cleanse(&ia.row, sizeof(ia.row));
    return rv;
}

CK_RV store_keystore_lookup(store *st, const store_uuid *ks, store_ks_info *out)
{
    return store_keystore_info(st, ks, out);
}

/* The keystore row first: its lock makes a concurrent writer wait and
 * then find no keystore to charge (it rolls back), or makes us wait for
 * its commit, after which the objects deleted next include its own. */
static CK_RV delete_txn(db_ctx *db, void *arg)
{
    const store_uuid *ks = arg;
    db_arg a = DB_UUID(ks);
    uint64_t changes = 0;
    CK_RV rv;

    rv = db_exec(db, SQL_KS_DELETE, sql_text[SQL_KS_DELETE], &a, 1, &changes);
    if (rv == CKR_OK && changes == 0)
        rv = CKR_TOKEN_NOT_PRESENT;
    if (rv == CKR_OK)
        rv = delete_objects(db, ks);
    return rv;
}

CK_RV store_keystore_delete(store *st, const store_uuid *ks)
{
    if (st == NULL || ks == NULL)
        return CKR_ARGUMENTS_BAD;
    return pool_txn(&st->pl, true, delete_txn, (void *)ks);
}

/* ---- list --------------------------------------------------------------- */

typedef struct list_arg {
    store_uuid after;
    bool first;
    size_t limit;
    store_ks_entry *out;
    size_t n;
    bool more;
} list_arg;

static CK_RV list_row(db_ctx *db, db_rows *r, store_ks_entry *e)
{
    const unsigned char *p;
    size_t n;
    int64_t kind;

    p = db->be->col_blob(r, KSL_ID, &n);
    kind = db->be->col_int(r, KSL_KIND);
    if (n != sizeof(e->id.b) || (kind != STORE_KS_PUBLIC && kind != STORE_KS_PRIVATE))
        return CKR_IBM_GREP11_DBINTERNAL;
    memcpy(e->id.b, p, n);
    e->kind = (store_ks_kind)kind;
    e->password_protected = db->be->col_int(r, KSL_LOG2N) != 0;
    return CKR_OK;
}

static CK_RV list_txn(db_ctx *db, void *arg)
{
    list_arg *l = arg;
    db_arg a[2];
    db_rows *r = NULL;
    bool have = false;
    CK_RV rv;

    l->n = 0; /* a retried transaction starts over */
    l->more = false;
    a[0] = DB_B(l->after.b, l->first ? 0 : 16);
    a[1] = DB_I(l->limit + 1); /* one more tells whether a next page exists */
    rv = db_query(db, SQL_KS_LIST, sql_text[SQL_KS_LIST], a, 2, &r);
    while (rv == CKR_OK && (rv = db->be->next(r, &have)) == CKR_OK && have) {
        if (l->n == l->limit) {
            l->more = true;
            break;
        }
        rv = list_row(db, r, &l->out[l->n]);
        if (rv == CKR_OK)
            l->n++;
    }
    db->be->rows_free(r);
    return rv;
}

CK_RV store_keystore_list(store *st, const char *cursor, size_t limit, store_ks_entry **out,
                          size_t *out_n, char next_cursor[STORE_CURSOR_SIZE])
{
    list_arg l;
    CK_RV rv;

    if (st == NULL || out == NULL || out_n == NULL || next_cursor == NULL)
        return CKR_ARGUMENTS_BAD;
    *out = NULL;
    *out_n = 0;
    next_cursor[0] = '\0';
    memset(&l, 0, sizeof(l));
    rv = codec_cursor_decode(cursor, &l.after, &l.first);
    if (rv != CKR_OK)
        return rv;
    l.limit = limit == 0 ? 100 : limit > STORE_MAX_PAGE ? STORE_MAX_PAGE : limit;
    l.out = calloc(l.limit, sizeof(*l.out));
    if (l.out == NULL)
        return CKR_HOST_MEMORY;
    rv = pool_txn(&st->pl, false, list_txn, &l);
    if (rv == CKR_OK && l.more)
        codec_cursor_encode(&l.out[l.n - 1].id, next_cursor);
    if (rv != CKR_OK || l.n == 0) {
        free(l.out);
        l.out = NULL;
        l.n = 0;
    }
    *out = l.out;
    *out_n = l.n;
    return rv;
}
