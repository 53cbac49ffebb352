/* grep11 keystores: a transactional store of sealed blobs and their
 * attributes, on SQLite (embedded) or PostgreSQL (scale-out).
 *
 * The store knows nothing of the engine or of gRPC: an object is an opaque
 * blob (a sealed key made by the engine) plus a list of PKCS #11 attributes
 * the server wants to search on and hand back, plus a version that every
 * update must quote (optimistic concurrency). See src/store/README.md.
 *
 * Every function returns a CK_RV and is safe to call from several threads
 * on one store. Errors beyond PKCS #11's own:
 *   CKR_IBM_GREP11_MISSING     the object does not exist
 *   CKR_IBM_GREP11_CONFLICT    stale version, or the keystore already exists
 *   CKR_IBM_GREP11_DBINTERNAL  the database holds something we did not write
 *                              (damaged or tampered row, unknown schema)
 *   CKR_TOKEN_NOT_PRESENT      the keystore does not exist
 *   CKR_PIN_INCORRECT          wrong, missing or unexpected keystore password
 *   CKR_DEVICE_ERROR           the database is unreachable or busy: retry later
 *   CKR_DEVICE_MEMORY          the write would take the keystore past its
 *                              object or byte limit (store_options); nothing
 *                              changed, and retrying will not help until
 *                              something is destroyed
 */
#ifndef GREP11_STORE_H
#define GREP11_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

#include "grep11/ck_ext.h"

/* Input limits; larger inputs are refused, never truncated. */
#define STORE_MAX_BLOB (1024UL * 1024UL)     /* bytes of one blob */
#define STORE_MAX_ATTRS 256u                 /* attributes of one object */
#define STORE_MAX_ATTR_VALUE (64UL * 1024UL) /* bytes of one attribute value */
#define STORE_MAX_LABEL 255u                 /* bytes of a keystore label */
#define STORE_MIN_PASSWORD 6u
#define STORE_MAX_PASSWORD 64u
#define STORE_MAX_BATCH 10000u /* objects in one batch create */
#define STORE_MAX_PAGE 1000u   /* objects in one find page */
#define STORE_CURSOR_SIZE 48u  /* buffer for a paging cursor */

/* Per-keystore quotas. What an object counts for in its keystore's bytes
 * (store_ks_info.bytes) is the column bytes the store writes for it:
 * STORE_OBJECT_ROW_BYTES (keystore and object UUIDs, version, two times and
 * this count itself) + its sealed blob + its serialized attribute list, as
 * stored (ciphertext in an authenticated keystore), + STORE_INDEX_ROW_BYTES
 * per attribute (one search row: two UUIDs, type, HMAC). The database's own
 * overhead (row headers, B-tree entries, free space) is not counted: it
 * differs per backend, and it is proportional to what is. */
#define STORE_OBJECT_ROW_BYTES 64u
#define STORE_INDEX_ROW_BYTES 72u
#define STORE_DEFAULT_MAX_OBJECTS 1000000u   /* objects per keystore */
#define STORE_DEFAULT_MAX_BYTES (4ULL << 30) /* bytes per keystore (4 GiB) */
#define STORE_MAX_UNLIMITED 4u               /* store_options.unlimited */
#define STORE_DEFAULT_POOL 4u                /* database connections */

typedef struct store store;

typedef struct store_uuid {
    unsigned char b[16];
} store_uuid;

typedef enum store_ks_kind {
    STORE_KS_PUBLIC = 0,
    STORE_KS_PRIVATE = 1,
} store_ks_kind;

/* A keystore password: bytes, not a C string. NULL where a call takes a
 * `const store_password *` means "no password". */
typedef struct store_password {
    const unsigned char *data;
    size_t len;
} store_password;

/* Called with one line of text about a database failure; never contains a
 * password, key or attribute value. */
typedef void (*store_log_fn)(void *ctx, const char *msg);

/* Zero fields take the default shown. */
typedef struct store_options {
    unsigned pool_size;         /* database connections (STORE_DEFAULT_POOL) */
    unsigned connect_timeout_s; /* PostgreSQL connect timeout, >= 2 (2) */
    unsigned busy_timeout_ms;   /* SQLite wait on another process's lock (5000) */
    unsigned kdf_log2n;         /* scrypt log2(N) for new keystores (15) */
    unsigned key_cache_ttl_s;   /* lifetime of a cached keystore key (120) */
    unsigned key_cache_size;    /* cached keystore keys (256) */
    uint64_t max_objects;       /* objects per keystore (STORE_DEFAULT_MAX_OBJECTS) */
    uint64_t max_bytes;         /* bytes per keystore, counted as above (4 GiB) */
    /* Keystores no limit applies to (the first n_unlimited): the server's
     * own, written by the server itself. Their use is still counted. */
    store_uuid unlimited[STORE_MAX_UNLIMITED];
    size_t n_unlimited;
    store_log_fn log; /* NULL: silent */
    void *log_ctx;
} store_options;

typedef struct store_ks_info {
    store_ks_kind kind;
    char label[STORE_MAX_LABEL + 1];
    uint64_t object_count;
    uint64_t bytes;                  /* counted as STORE_OBJECT_ROW_BYTES says */
    uint64_t max_objects, max_bytes; /* the limits that apply; 0: none */
    bool password_protected;
    int64_t created_us; /* microseconds since the Unix epoch */
} store_ks_info;

/* What a keystore is (re)created with. label is UTF-8 without NUL, at most
 * STORE_MAX_LABEL bytes; password NULL or STORE_MIN_PASSWORD..MAX bytes. */
typedef struct store_ks_params {
    store_ks_kind kind;
    const char *label;
    const store_password *password;
} store_ks_params;

/* A stored object as returned by get and find; owned by the caller. */
typedef struct store_object {
    store_uuid uuid;
    uint64_t version; /* 1 at creation, +1 per update */
    int64_t created_us, updated_us;
    unsigned char *blob;
    size_t blob_len;
    CK_ATTRIBUTE *attrs; /* each pValue malloc'd; NULL when ulValueLen is 0 */
    CK_ULONG nattrs;
} store_object;

/* One object of a batch create. */
typedef struct store_new_object {
    const unsigned char *blob;
    size_t blob_len;
    const CK_ATTRIBUTE *attrs;
    CK_ULONG nattrs;
} store_new_object;

/* url: "sqlite:/path/file.db" (created 0600 if absent), or a libpq conninfo
 * string or URI ("postgresql://user@host/db", "host=... dbname=..."). The
 * schema is created or migrated before this returns. opt may be NULL. */
CK_RV store_open(const char *url, const store_options *opt, store **out);
/* After every other call on st has returned. Zeroizes cached keys. */
void store_close(store *st);

/* ---- keystores ---------------------------------------------------------- */

/* Fails with CKR_IBM_GREP11_CONFLICT if the keystore exists. A password
 * costs one scrypt derivation (~50-100 ms) here. */
CK_RV store_keystore_create(store *st, const store_uuid *ks, const store_ks_params *p);

/* Deletes every object of the keystore in one transaction. With p NULL the
 * keystore keeps its kind, label and password; otherwise it is re-created
 * with p (C_InitToken). Needs no password: authorising a wipe is the
 * server's job. */
CK_RV store_keystore_wipe(store *st, const store_uuid *ks, const store_ks_params *p);

/* One indexed row read: the object count and bytes are counters kept in
 * the keystore's row by every write, in the write's own transaction. */
CK_RV store_keystore_info(store *st, const store_uuid *ks, store_ks_info *out);
/* The same (the name access checks use). */
CK_RV store_keystore_lookup(store *st, const store_uuid *ks, store_ks_info *out);

/* Deletes the keystore and all its objects. */
CK_RV store_keystore_delete(store *st, const store_uuid *ks);

/* One keystore as listed: no password is needed to list. */
typedef struct store_ks_entry {
    store_uuid id;
    store_ks_kind kind;
    bool password_protected;
} store_ks_entry;

/* Every keystore, in UUID order, at most limit per page (0: 100; capped at
 * STORE_MAX_PAGE); cursor and next_cursor as for store_find_objects.
 * *out is an array of *out_n entries (NULL when none); free() it. */
CK_RV store_keystore_list(store *st, const char *cursor, size_t limit, store_ks_entry **out,
                          size_t *out_n, char next_cursor[STORE_CURSOR_SIZE]);

/* ---- objects -------------------------------------------------------------
 * pw must be given exactly when the keystore has a password. Attributes are
 * stored as given (types unique per object) and returned in the same order.
 * A write that adds objects or bytes fails with CKR_DEVICE_MEMORY, changing
 * nothing, if the keystore would then hold more than its limits; a write
 * that does not grow a count (a destroy, a shrinking update, a re-wrap of
 * the same length) is never refused, even over a limit lowered since. */

CK_RV store_object_create(store *st, const store_uuid *ks, const store_password *pw,
                          const unsigned char *blob, size_t blob_len, const CK_ATTRIBUTE *attrs,
                          CK_ULONG nattrs, store_uuid *out_uuid, uint64_t *out_version);

/* Creates n objects in one transaction (all or none); out_uuids has n
 * entries. Every object starts at version 1. */
CK_RV store_object_create_batch(store *st, const store_uuid *ks, const store_password *pw,
                                const store_new_object *objs, size_t n, store_uuid *out_uuids);

/* The same with a UUID chosen by the caller: insert-if-absent, atomic
 * across processes and replicas (the primary key decides). Fails with
 * CKR_IBM_GREP11_CONFLICT, changing nothing, if the keystore already holds
 * an object with this UUID. */
CK_RV store_object_create_with_id(store *st, const store_uuid *ks, const store_password *pw,
                                  const store_uuid *uuid, const unsigned char *blob,
                                  size_t blob_len, const CK_ATTRIBUTE *attrs, CK_ULONG nattrs);

/* *out is allocated; free it with store_object_free. */
CK_RV store_object_get(store *st, const store_uuid *ks, const store_password *pw,
                       const store_uuid *uuid, store_object **out);

/* Replaces the blob (unless blob is NULL) and the whole attribute list
 * (unless attrs is NULL; pass a non-NULL attrs with nattrs 0 to clear it),
 * if and only if the object is still at expected_version. Otherwise
 * CKR_IBM_GREP11_CONFLICT and nothing changes. */
CK_RV store_object_update(store *st, const store_uuid *ks, const store_password *pw,
                          const store_uuid *uuid, uint64_t expected_version,
                          const unsigned char *blob, size_t blob_len, const CK_ATTRIBUTE *attrs,
                          CK_ULONG nattrs, uint64_t *out_new_version);

/* One blob replacement of a batch: in uuid, expected_version, blob; out rv
 * (CKR_OK, CKR_IBM_GREP11_CONFLICT or CKR_IBM_GREP11_MISSING) and, when
 * rv is CKR_OK, new_version. */
typedef struct store_blob_update {
    store_uuid uuid;
    uint64_t expected_version;
    const unsigned char *blob;
    size_t blob_len;
    CK_RV rv;
    uint64_t new_version;
} store_blob_update;

/* Replaces the blobs of n objects (attributes kept), each if and only if
 * it is still at its expected version, in one transaction: one commit for
 * the lot. CKR_OK: the transaction committed, see each u[i].rv; any other
 * return: nothing changed (CKR_DEVICE_MEMORY: the new blobs together would
 * take the keystore past its byte limit). At most STORE_MAX_BATCH. */
CK_RV store_object_update_blobs(store *st, const store_uuid *ks, const store_password *pw,
                                store_blob_update *u, size_t n);

/* Creates n objects and replaces the blobs of m others (attributes kept)
 * in one transaction, all or nothing: one commit for the lot (an append-
 * only log and its head record, written by a group commit). ids NULL:
 * fresh random UUIDs, returned in out_uuids (n entries); otherwise the
 * caller's n UUIDs (out_uuids may then be NULL), and an existing one fails
 * the call with CKR_IBM_GREP11_CONFLICT as for store_object_create_with_id.
 * Every u[i] must still be at its expected version: otherwise the call
 * fails with u[i].rv and its return CKR_IBM_GREP11_CONFLICT or
 * CKR_IBM_GREP11_MISSING, and nothing changes. On CKR_OK every u[i].rv is
 * CKR_OK and u[i].new_version set. 0 < n + m <= STORE_MAX_BATCH. */
CK_RV store_object_create_update(store *st, const store_uuid *ks, const store_password *pw,
                                 const store_new_object *objs, size_t n, const store_uuid *ids,
                                 store_uuid *out_uuids, store_blob_update *u, size_t m);

CK_RV store_object_destroy(store *st, const store_uuid *ks, const store_password *pw,
                           const store_uuid *uuid);

/* ---- what commits with a write -------------------------------------------
 * An object write may carry, in a store_with, what must commit in its own
 * transaction or not at all:
 *  - a request record (at-most-once). The first write under a client's
 *    request id is applied and its answer (object UUID and version)
 *    recorded with it; the same id in the same keystore within
 *    STORE_REQUEST_TTL_S, with the same digest, gets the recorded answer
 *    (replayed true: nothing applied, nothing else written); with another
 *    digest the call fails with CKR_GREP11_REQUEST_REUSED. Of two
 *    concurrent writes under one id (two replicas) one applies; the other
 *    is answered as a replay. Expired records are purged by later writes
 *    to the keystore.
 *  - rows of another keystore, one without a password: the audit trail's
 *    entry for the write and its new head. They are asked for inside the
 *    transaction, once the write is done and its outcome known, so they
 *    can name it; a failure among them (u[i].rv) rolls the write back. */

#define STORE_REQUEST_ID_LEN 16u
#define STORE_REQUEST_TTL_S (24 * 3600)

/* Rows to create (ids: their UUIDs, never NULL) and blobs to replace at
 * their expected versions, as for store_object_create_update. */
typedef struct store_rows {
    const store_new_object *objs;
    size_t n;
    const store_uuid *ids;
    store_blob_update *u;
    size_t m;
} store_rows;

typedef struct store_also {
    const store_uuid *ks;
    /* Called inside the transaction after the write (again if the
     * transaction is run again), never on a replay; fills *out, which must
     * stay valid until the next call or the write's return. No I/O. */
    CK_RV (*rows)(void *arg, const store_uuid *object, uint64_t version, store_rows *out);
    void *arg;
} store_also;

typedef struct store_with {
    const unsigned char *request_id; /* STORE_REQUEST_ID_LEN bytes; NULL: none */
    unsigned char request_digest[32];
    const store_also *also; /* NULL: none */
    bool replayed;          /* out */
} store_with;

/* store_object_create, _update and _destroy with w (NULL: as those). On a
 * replay the outputs are the recorded answer's. */
CK_RV store_object_create_with(store *st, const store_uuid *ks, const store_password *pw,
                               const unsigned char *blob, size_t blob_len,
                               const CK_ATTRIBUTE *attrs, CK_ULONG nattrs, store_with *w,
                               store_uuid *out_uuid, uint64_t *out_version);
CK_RV store_object_update_with(store *st, const store_uuid *ks, const store_password *pw,
                               const store_uuid *uuid, uint64_t expected_version,
                               const unsigned char *blob, size_t blob_len,
                               const CK_ATTRIBUTE *attrs, CK_ULONG nattrs, store_with *w,
                               uint64_t *out_new_version);
CK_RV store_object_destroy_with(store *st, const store_uuid *ks, const store_password *pw,
                                const store_uuid *uuid, store_with *w);
/* C_InitToken in one transaction: wipes the keystore and re-creates it
 * with p, or creates it when new. w's rows are asked for with the
 * keystore's UUID as the object and version 0; w takes no request id. */
CK_RV store_keystore_init_with(store *st, const store_uuid *ks, const store_ks_params *p,
                               store_with *w);

/* Objects that have every template attribute with an equal value (an empty
 * template matches all), in a stable order, at most limit (0: 100; capped
 * at STORE_MAX_PAGE). cursor is NULL or "" for the first page, else the
 * next_cursor of the previous page. next_cursor (STORE_CURSOR_SIZE bytes)
 * receives "" when there is nothing more. *out_objs is an array of *out_n
 * objects (NULL when none); free it with store_objects_free. */
CK_RV store_find_objects(store *st, const store_uuid *ks, const store_password *pw,
                         const CK_ATTRIBUTE *tmpl, CK_ULONG ntmpl, const char *cursor, size_t limit,
                         store_object **out_objs, size_t *out_n,
                         char next_cursor[STORE_CURSOR_SIZE]);

void store_object_free(store_object *obj);
void store_objects_free(store_object *objs, size_t n);

/* Canonical text form (36 characters + NUL) and back; parse returns false on
 * anything else. */
void store_uuid_format(const store_uuid *u, char out[37]);
bool store_uuid_parse(const char *s, store_uuid *out);

#endif /* GREP11_STORE_H */
