/* Every SQL statement the store runs, written once for both backends, and
 * the schema migrations. */
#ifndef GREP11_STORE_SQL_H
#define GREP11_STORE_SQL_H

#include "internal.h"

/* Cached statement slots (db_backend.exec/query `slot`). */
enum sql_slot {
    SQL_KS_GET,
    SQL_KS_INSERT,
    SQL_KS_RESET,
    SQL_KS_DELETE,
    SQL_KS_USAGE,
    SQL_KS_CHARGE,
    SQL_KS_ZERO,
    SQL_KS_LIST,
    SQL_OBJ_INSERT,
    SQL_OBJ_GET,
    SQL_OBJ_VERSION,
    SQL_OBJ_UPDATE,
    SQL_OBJ_DELETE,
    SQL_OBJ_DELETE_ALL,
    SQL_ATTR_INSERT,
    SQL_ATTR_DELETE,
    SQL_ATTR_DELETE_ALL,
    SQL_FIND_ALL,
    SQL_REQ_GET,
    SQL_REQ_INSERT,
    SQL_REQ_PURGE,
    SQL_REQ_DELETE_ALL,
    SQL_FIND_N, /* + (n - 1) for a template of n <= SQL_FIND_CACHED attributes */
};
#define SQL_FIND_CACHED 8

extern const char *const sql_text[SQL_FIND_N];

/* Columns of SQL_KS_GET, in order. kdf_log2n 0: no password. */
enum {
    KS_KIND,
    KS_LABEL,
    KS_CREATED,
    KS_SALT,
    KS_LOG2N,
    KS_R,
    KS_P,
    KS_VERIFIER,
    KS_USED_OBJECTS,
    KS_USED_BYTES
};
/* Columns of SQL_KS_USAGE. */
enum { KSU_OBJECTS, KSU_BYTES };
/* Columns of SQL_KS_LIST. */
enum { KSL_ID, KSL_KIND, KSL_LOG2N };
/* Columns of SQL_OBJ_GET and of the find queries; OBJ_USED (what the
 * object counts for in its keystore's bytes) in SQL_OBJ_GET only. */
enum { OBJ_ID, OBJ_VERSION, OBJ_CREATED, OBJ_UPDATED, OBJ_BLOB, OBJ_ATTRS, OBJ_USED };
/* Columns of SQL_REQ_GET. */
enum { REQ_DIGEST, REQ_OBJECT, REQ_VERSION, REQ_CREATED };
/* Columns of SQL_OBJ_VERSION. */
enum { OBJV_VERSION, OBJV_USED };

/* SELECT for a template of n >= 1 attributes; parameters: keystore, then
 * (type, index value) n times, then the cursor, then the limit. Returns a
 * malloc'd string; the slot to use is *slot (-1 when not cached). */
char *sql_find(CK_ULONG n, int *slot);

/* Creates or upgrades the schema; fails on a schema newer than we know. */
CK_RV sql_migrate(pool *pl);

#endif
