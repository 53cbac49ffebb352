/* Find by attribute template, paged. Each template attribute becomes an
 * (type, HMAC) pair looked up in the (keystore, type, value_mac, object)
 * index; the first pair drives the scan, so the most selective attribute
 * is put first. Pages are ordered by object UUID and a cursor is the last
 * UUID of the previous page, so paging needs no server-side state and any
 * replica can serve the next page. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "codec.h"
#include "internal.h"
#include "sql.h"

#define DEFAULT_PAGE 100

/* Lower ranks drive the scan: identifiers and names pick out few objects,
 * classes and flags pick out many. */
static int rank(const CK_ATTRIBUTE *a)
{
    switch (a->type) {
    case CKA_ID:
    case CKA_LABEL:
    case CKA_SUBJECT:
    case CKA_ISSUER:
    case CKA_SERIAL_NUMBER:
    case CKA_VALUE:
    case CKA_MODULUS:
    case CKA_EC_POINT:
    case CKA_APPLICATION:
    case CKA_OBJECT_ID:
        return 0;
    case CKA_CLASS:
    case CKA_KEY_TYPE:
    case CKA_CERTIFICATE_TYPE:
        return 2;
    default:
        return a->ulValueLen <= 1 ? 3 : 1; /* CK_BBOOL flags */
    }
}

typedef struct find_arg {
    const ks_ctx *k;
    const CK_ATTRIBUTE *tmpl;
    CK_ULONG ntmpl;
    CK_ULONG *order;
    unsigned char (*macs)[CRYPT_KEY_LEN];
    store_uuid after;
    bool first; /* no cursor: start before every UUID */
    size_t limit;
    store_object *objs;
    size_t n;
    bool more;
    store_uuid last;
} find_arg;

/* Exact check after the index match: HMAC collisions are not a concern,
 * but a result must never depend on one. */
static bool matches(const store_object *o, const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
    for (CK_ULONG i = 0; i < n; i++) {
        bool ok = false;
        for (CK_ULONG j = 0; j < o->nattrs && !ok; j++)
            ok = o->attrs[j].type == tmpl[i].type && o->attrs[j].ulValueLen == tmpl[i].ulValueLen &&
                 (tmpl[i].ulValueLen == 0 ||
                  CRYPTO_memcmp(o->attrs[j].pValue, tmpl[i].pValue, tmpl[i].ulValueLen) == 0);
        if (!ok)
            return false;
    }
    return true;
}

static CK_RV run_query(db_ctx *db, find_arg *f, db_rows **r)
{
    size_t nargs = 3 + 2 * (size_t)f->ntmpl;
    char *sql = NULL;
    db_arg *a;
    int slot = SQL_FIND_ALL;
    size_t i = 0;
    CK_RV rv;

    a = calloc(nargs, sizeof(*a));
    if (a == NULL)
        return CKR_HOST_MEMORY;
    a[i++] = DB_UUID(&f->k->id);
    for (CK_ULONG t = 0; t < f->ntmpl; t++) {
        a[i++] = DB_I((int64_t)(uint64_t)f->tmpl[f->order[t]].type);
        a[i++] = DB_B(f->macs[t], CRYPT_KEY_LEN);
    }
    a[i++] = DB_B(f->after.b, f->first ? 0 : 16);
    a[i++] = DB_I(f->limit + 1); /* one more tells whether a next page exists */
    if (f->ntmpl > 0) {
        sql = sql_find(f->ntmpl, &slot);
        if (sql == NULL) {
            free(a);
            return CKR_HOST_MEMORY;
        }
    }
    rv = db_query(db, slot, sql ? sql : sql_text[SQL_FIND_ALL], a, i, r);
    free(sql);
    free(a);
    return rv;
}

static CK_RV find_txn(db_ctx *db, void *arg)
{
    find_arg *f = arg;
    db_rows *r = NULL;
    size_t seen = 0;
    bool have = false;
    CK_RV rv;

    /* a retried transaction starts over */
    store_objects_free(f->objs, f->n);
    f->objs = NULL;
    f->n = 0;
    f->more = false;
    rv = ks_recheck(db, f->k);
    if (rv != CKR_OK)
        return rv;
    f->objs = calloc(f->limit, sizeof(*f->objs));
    if (f->objs == NULL)
        return CKR_HOST_MEMORY;
    rv = run_query(db, f, &r);
    while (rv == CKR_OK && (rv = db->be->next(r, &have)) == CKR_OK && have) {
        store_object *o;
        if (seen == f->limit) {
            f->more = true;
            break;
        }
        seen++;
        o = &f->objs[f->n];
        rv = objrow_decode(f->k, db, r, o);
        if (rv != CKR_OK)
            break;
        f->last = o->uuid;
        if (matches(o, f->tmpl, f->ntmpl))
            f->n++;
        else
            objrow_clear(o);
    }
    db->be->rows_free(r);
    return rv;
}

/* Template order for the query: by rank, stable. */
static void order_template(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ULONG *order)
{
    for (CK_ULONG i = 0; i < n; i++) {
        CK_ULONG j = i;
        while (j > 0 && rank(&t[order[j - 1]]) > rank(&t[i])) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
}

CK_RV store_find_objects(store *st, const store_uuid *ks, const store_password *pw,
                         const CK_ATTRIBUTE *tmpl, CK_ULONG ntmpl, const char *cursor, size_t limit,
                         store_object **out_objs, size_t *out_n,
                         char next_cursor[STORE_CURSOR_SIZE])
{
    find_arg f;
    ks_ctx k;
    CK_RV rv;

    if (st == NULL || ks == NULL || out_objs == NULL || out_n == NULL || next_cursor == NULL)
        return CKR_ARGUMENTS_BAD;
    *out_objs = NULL;
    *out_n = 0;
    next_cursor[0] = '\0';
    memset(&f, 0, sizeof(f));
    if ((rv = store_check_attrs(tmpl, ntmpl, false)) != CKR_OK)
        return rv;
    if ((rv = codec_cursor_decode(cursor, &f.after, &f.first)) != CKR_OK)
        return rv;
    rv = ks_resolve(st, ks, pw, &k);
    if (rv != CKR_OK)
        return rv;
    f.k = &k;
    f.tmpl = tmpl;
    f.ntmpl = ntmpl;
    f.limit = limit == 0 ? DEFAULT_PAGE : limit > STORE_MAX_PAGE ? STORE_MAX_PAGE : limit;
    f.order = calloc(ntmpl ? ntmpl : 1, sizeof(*f.order));
    f.macs = calloc(ntmpl ? ntmpl : 1, sizeof(*f.macs));
    if (f.order == NULL || f.macs == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    order_template(tmpl, ntmpl, f.order);
    for (CK_ULONG i = 0; i < ntmpl && rv == CKR_OK; i++) {
        const CK_ATTRIBUTE *t = &tmpl[f.order[i]];
        rv = crypt_index(k.keys.index, t->type, t->pValue, t->ulValueLen, f.macs[i]);
    }
    if (rv != CKR_OK)
        goto out;
    rv = pool_txn(&st->pl, false, find_txn, &f);
    if (rv != CKR_OK)
        goto out;
    if (f.more)
        codec_cursor_encode(&f.last, next_cursor);
    if (f.n == 0) { /* nothing found: no array to free */
        free(f.objs);
        f.objs = NULL;
    }
    *out_objs = f.objs;
    *out_n = f.n;
    f.objs = NULL;
out:
    store_objects_free(f.objs, f.n);
    free(f.order);
    if (f.macs != NULL)
        OPENSSL_cleanse(f.macs, (ntmpl ? ntmpl : 1) * sizeof(*f.macs));
    free(f.macs);
    ks_ctx_clear(&k);
    return rv;
}
