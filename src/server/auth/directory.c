#include "directory.h"

#include "be.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECORD_VERSION 1
#define RECORD_MAX                                                                                 \
    (1 + 16 + 32 + 4 + 8 + 1 + 1 + AUTH_MAX_PRINCIPAL + 1 + 16 * AUTH_MAX_GRANTS + 1 +             \
     AUTH_MAX_CERT_ID + 32)

const store_uuid directory_keystore = {{0x67, 0x72, 0x65, 0x70, 0x31, 0x31, 0x49, 0x64, 0x65, 0x6e,
                                        0x74, 0x69, 0x74, 0x69, 0x65, 0x73}};

struct directory {
    store *st;
    uint8_t mac_key[32];
};

CK_RV directory_open(store *st, const uint8_t mac_key[32], directory **out)
{
    directory *d = calloc(1, sizeof(*d));
    if (!d)
        return CKR_HOST_MEMORY;
    d->st = st;
    memcpy(d->mac_key, mac_key, 32);
    store_ks_params p = {STORE_KS_PRIVATE, "grep11 identities", NULL};
    CK_RV rv = store_keystore_create(st, &directory_keystore, &p);
    if (rv != CKR_OK && rv != CKR_IBM_GREP11_CONFLICT) {
        directory_close(d);
        return rv;
    }
    *out = d;
    return CKR_OK;
}

void directory_close(directory *d)
{
    if (!d)
        return;
    OPENSSL_cleanse(d->mac_key, sizeof(d->mac_key));
    free(d);
}

static int record_mac(const directory *d, const uint8_t *key_id, const uint8_t *rec, size_t len,
                      uint8_t out[32])
{
    uint8_t msg[AUTH_KEY_ID_LEN + RECORD_MAX];
    unsigned int outlen = 0;
    if (len > RECORD_MAX)
        return 0;
    memcpy(msg, key_id, AUTH_KEY_ID_LEN);
    memcpy(msg + AUTH_KEY_ID_LEN, rec, len);
    return HMAC(EVP_sha256(), d->mac_key, 32, msg, AUTH_KEY_ID_LEN + len, out, &outlen) != NULL &&
           outlen == 32;
}

/* version | salt | hash | roles | created | revoked | principal | grants |
 * cert | HMAC(key_id ‖ everything before) */
static CK_RV record_encode(const directory *d, const directory_entry *e, uint8_t *buf, size_t *len)
{
    size_t pl = strlen(e->principal), cl = strlen(e->cert_identity), n = 0;
    if (pl > AUTH_MAX_PRINCIPAL || cl > AUTH_MAX_CERT_ID || e->ngrants > AUTH_MAX_GRANTS)
        return CKR_ARGUMENTS_BAD;
    buf[n++] = RECORD_VERSION;
    memcpy(buf + n, e->rec.salt, 16);
    n += 16;
    memcpy(buf + n, e->rec.hash, 32);
    n += 32;
    be_put(buf + n, e->roles, 4);
    n += 4;
    be_put(buf + n, (uint64_t)e->created_at, 8);
    n += 8;
    buf[n++] = e->revoked ? 1 : 0;
    buf[n++] = (uint8_t)pl;
    memcpy(buf + n, e->principal, pl);
    n += pl;
    buf[n++] = (uint8_t)e->ngrants;
    memcpy(buf + n, e->grants, 16 * e->ngrants);
    n += 16 * e->ngrants;
    buf[n++] = (uint8_t)cl;
    memcpy(buf + n, e->cert_identity, cl);
    n += cl;
    if (!record_mac(d, e->rec.key_id, buf, n, buf + n))
        return CKR_GENERAL_ERROR;
    *len = n + 32;
    return CKR_OK;
}

static CK_RV record_decode(const directory *d, const uint8_t key_id[AUTH_KEY_ID_LEN],
                           const uint8_t *buf, size_t len, directory_entry *e)
{
    const CK_RV bad = CKR_IBM_GREP11_DBINTERNAL;
    uint8_t want[32];
    if (len < 32 + 1 + 16 + 32 + 4 + 8 + 1 + 1 + 1 + 1 || len > RECORD_MAX)
        return bad;
    size_t body = len - 32;
    if (!record_mac(d, key_id, buf, body, want))
        return CKR_GENERAL_ERROR;
    if (CRYPTO_memcmp(want, buf + body, 32) != 0)
        return bad;
    memset(e, 0, sizeof(*e));
    size_t n = 0;
    if (buf[n++] != RECORD_VERSION)
        return bad;
    memcpy(e->rec.key_id, key_id, AUTH_KEY_ID_LEN);
    memcpy(e->rec.salt, buf + n, 16);
    n += 16;
    memcpy(e->rec.hash, buf + n, 32);
    n += 32;
    e->roles = (uint32_t)be_get(buf + n, 4);
    n += 4;
    e->created_at = (int64_t)be_get(buf + n, 8);
    n += 8;
    e->revoked = buf[n++] != 0;
    size_t pl = buf[n++];
    if (pl > AUTH_MAX_PRINCIPAL || n + pl + 1 > body)
        return bad;
    memcpy(e->principal, buf + n, pl);
    n += pl;
    size_t ng = buf[n++];
    if (ng > AUTH_MAX_GRANTS || n + 16 * ng + 1 > body)
        return bad;
    memcpy(e->grants, buf + n, 16 * ng);
    e->ngrants = ng;
    n += 16 * ng;
    size_t cl = buf[n++];
    if (cl > AUTH_MAX_CERT_ID || n + cl != body)
        return bad;
    memcpy(e->cert_identity, buf + n, cl);
    return CKR_OK;
}

/* Searchable attributes of a record: the key id (CKA_ID) and the principal
 * (CKA_LABEL). */
static void record_attrs(const directory_entry *e, CK_ATTRIBUTE a[2])
{
    a[0].type = CKA_ID;
    a[0].pValue = (void *)e->rec.key_id;
    a[0].ulValueLen = AUTH_KEY_ID_LEN;
    a[1].type = CKA_LABEL;
    a[1].pValue = (void *)e->principal;
    a[1].ulValueLen = strlen(e->principal);
}

static CK_RV add_with(directory *d, const directory_entry *e, store_with *w)
{
    uint8_t buf[RECORD_MAX];
    size_t len = 0;
    CK_ATTRIBUTE a[2];
    store_uuid id;
    uint64_t version;
    CK_RV rv = record_encode(d, e, buf, &len);
    if (rv != CKR_OK)
        return rv;
    record_attrs(e, a);
    return store_object_create_with(d->st, &directory_keystore, NULL, buf, len, a, 2, w, &id,
                                    &version);
}

CK_RV directory_add(directory *d, const directory_entry *e)
{
    return add_with(d, e, NULL);
}

/* Finds the stored object for a key id. */
static CK_RV find_object(directory *d, const uint8_t key_id[AUTH_KEY_ID_LEN], store_object **out,
                         size_t *n)
{
    CK_ATTRIBUTE t = {CKA_ID, (void *)key_id, AUTH_KEY_ID_LEN};
    char next[STORE_CURSOR_SIZE];
    return store_find_objects(d->st, &directory_keystore, NULL, &t, 1, NULL, 2, out, n, next);
}

CK_RV directory_lookup(directory *d, const uint8_t key_id[AUTH_KEY_ID_LEN], directory_entry *out)
{
    store_object *objs = NULL;
    size_t n = 0;
    CK_RV rv = find_object(d, key_id, &objs, &n);
    if (rv != CKR_OK)
        return rv;
    if (n != 1)
        rv = CKR_IBM_GREP11_NOT_AUTHENTICATED;
    else if (record_decode(d, key_id, objs[0].blob, objs[0].blob_len, out) != CKR_OK)
        rv = CKR_IBM_GREP11_NOT_AUTHENTICATED; /* a damaged record authenticates nobody */
    store_objects_free(objs, n);
    return rv;
}

/* The key id of a stored object is its CKA_ID attribute. */
static const uint8_t *object_key_id(const store_object *o)
{
    for (CK_ULONG i = 0; i < o->nattrs; i++)
        if (o->attrs[i].type == CKA_ID && o->attrs[i].ulValueLen == AUTH_KEY_ID_LEN)
            return o->attrs[i].pValue;
    return NULL;
}

CK_RV directory_list(directory *d, directory_entry **out, size_t *n)
{
    char cursor[STORE_CURSOR_SIZE] = "", next[STORE_CURSOR_SIZE];
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    do {
        store_object *objs = NULL;
        size_t got = 0;
        CK_RV rv = store_find_objects(d->st, &directory_keystore, NULL, NULL, 0, cursor, 500, &objs,
                                      &got, next);
        if (rv != CKR_OK) {
            free(*out);
            *out = NULL;
            *n = 0;
            return rv;
        }
        for (size_t i = 0; i < got; i++) {
            const uint8_t *kid = object_key_id(&objs[i]);
            if (*n == cap) {
                cap = cap ? cap * 2 : 16;
                directory_entry *bigger = realloc(*out, cap * sizeof(**out));
                if (!bigger) {
                    store_objects_free(objs, got);
                    free(*out);
                    *out = NULL;
                    *n = 0;
                    return CKR_HOST_MEMORY;
                }
                *out = bigger;
            }
            if (kid && record_decode(d, kid, objs[i].blob, objs[i].blob_len, &(*out)[*n]) == CKR_OK)
                (*n)++;
        }
        store_objects_free(objs, got);
        memcpy(cursor, next, sizeof(cursor));
    } while (cursor[0]);
    return CKR_OK;
}

CK_RV directory_revoke(directory *d, const uint8_t key_id[AUTH_KEY_ID_LEN], store_with *w)
{
    store_object *objs = NULL;
    size_t n = 0;
    directory_entry e;
    uint8_t buf[RECORD_MAX];
    size_t len = 0;
    CK_RV rv = find_object(d, key_id, &objs, &n);
    if (rv != CKR_OK)
        return rv;
    if (n != 1) {
        rv = CKR_IBM_GREP11_MISSING;
        goto out;
    }
    if ((rv = record_decode(d, key_id, objs[0].blob, objs[0].blob_len, &e)) != CKR_OK)
        goto out;
    e.revoked = 1;
    if ((rv = record_encode(d, &e, buf, &len)) != CKR_OK)
        goto out;
    uint64_t v;
    rv = store_object_update_with(d->st, &directory_keystore, NULL, &objs[0].uuid, objs[0].version,
                                  buf, len, NULL, 0, w, &v);
out:
    store_objects_free(objs, n);
    return rv;
}

CK_RV directory_create_key(directory *d, const char *principal, uint32_t roles,
                           const uint8_t (*grants)[16], size_t ngrants, const char *cert_identity,
                           store_with *w, char text[AUTH_API_KEY_MAX], directory_entry *out)
{
    directory_entry e;
    memset(&e, 0, sizeof(e));
    if (!principal || !principal[0] || strlen(principal) > AUTH_MAX_PRINCIPAL ||
        ngrants > AUTH_MAX_GRANTS || (roles & ~AUTH_ROLE_ALL) || roles == 0 ||
        (cert_identity && strlen(cert_identity) > AUTH_MAX_CERT_ID))
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = auth_apikey_generate(text, &e.rec);
    if (rv != CKR_OK)
        return rv;
    strcpy(e.principal, principal);
    e.roles = roles;
    if (ngrants)
        memcpy(e.grants, grants, 16 * ngrants);
    e.ngrants = ngrants;
    if (cert_identity)
        strcpy(e.cert_identity, cert_identity);
    e.created_at = (int64_t)time(NULL);
    rv = add_with(d, &e, w);
    if (rv != CKR_OK)
        OPENSSL_cleanse(text, AUTH_API_KEY_MAX);
    else if (out)
        *out = e;
    return rv;
}
