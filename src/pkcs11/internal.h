/* pkcs11-grep11 internals: the one module context, slots, sessions,
 * objects and the helpers the entry points share.
 *
 * Locks (never held across an RPC unless said so):
 *   P11.init_lock   C_Initialize / C_Finalize only (pthread; exists before
 *                   the application's mutex callbacks are known).
 *   st->lock        the session and object tables.
 *   (tokmap.c)      the token-object handle map has a lock of its own,
 *                   taken after st->lock.
 *   s->lock         one session: its operations and search (held across that
 *                   session's own RPCs: a session is used by one thread at a
 *                   time, and this makes concurrent misuse safe).
 *   o->lock         one object's attributes and blob.
 *   slot->lock      login state, bearer token, mechanism caches.
 *   slot->refresh   serializes bearer-token refreshes of that slot (held
 *                   across the Auth RPC so that N threads do not refresh N
 *                   times; it blocks only calls that need a new token).
 * Order: s->lock before st->lock; st->lock before o->lock; slot locks last. */
#ifndef P11_INTERNAL_H
#define P11_INTERNAL_H

#include <p11-kit/pkcs11.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "grep11/ck_ext.h"
#include "grep11_client.h"
#include "log.h"
#include "p11_ck3.h"

#define P11_LIBRARY_VERSION_MAJOR 0
#define P11_LIBRARY_VERSION_MINOR 1
#define P11_TOKEN_MAX 4096
#define P11_NOT_LOGGED_IN ((CK_ULONG)-1)
#define P11_MAX_ATTR_LEN (1u << 20)
/* A token's two keystores (DESIGN §5): the normal user's and everyone's. */
#define P11_KS_PRIVATE 0
#define P11_KS_PUBLIC 1
/* Token keys whose blob is larger than this are named by KeyBlobID in
 * crypto calls instead of carried (when their keystore has no password). */
#define P11_KEYREF_MIN 4096

/* ---- locking.c: OS locking or the application's callbacks ---------------- */
typedef struct {
    CK_CREATEMUTEX create;
    CK_DESTROYMUTEX destroy;
    CK_LOCKMUTEX lock;
    CK_UNLOCKMUTEX unlock;
} p11_lockops;

CK_RV p11_locking_choose(const CK_C_INITIALIZE_ARGS *args, p11_lockops *out);
CK_RV p11_mutex_new(void **m);
void p11_mutex_free(void *m);
void p11_mutex_lock(void *m);
void p11_mutex_unlock(void *m);

/* ---- htab.c: handle -> pointer ------------------------------------------ */
typedef struct p11_hent p11_hent;
typedef struct {
    p11_hent **buckets;
    size_t nbuckets, count;
} p11_htab;

CK_RV p11_htab_put(p11_htab *t, CK_ULONG key, void *val);
void *p11_htab_get(const p11_htab *t, CK_ULONG key);
void *p11_htab_del(p11_htab *t, CK_ULONG key);
/* Calls fn for every entry; fn may not modify the table. */
void p11_htab_each(const p11_htab *t, void (*fn)(CK_ULONG key, void *val, void *arg), void *arg);
void p11_htab_free(p11_htab *t);

/* ---- tokmap.c: (slot, token object UUID) -> handle, for the process ---- */
CK_OBJECT_HANDLE p11_tokmap_get(CK_SLOT_ID slot, const uint8_t id[16]);
CK_RV p11_tokmap_put(CK_SLOT_ID slot, const uint8_t id[16], CK_OBJECT_HANDLE h);
void p11_tokmap_del(CK_SLOT_ID slot, const uint8_t id[16]);
void p11_tokmap_del_slot(CK_SLOT_ID slot);
void p11_tokmap_after_fork(void);

/* ---- attrs.c: attribute lists with owned values -------------------------- */
typedef struct {
    CK_ATTRIBUTE *a;
    CK_ULONG n, cap;
} p11_attrs;

CK_RV p11_attrs_set(p11_attrs *l, CK_ATTRIBUTE_TYPE type, const void *val, CK_ULONG len);
CK_RV p11_attrs_set_bool(p11_attrs *l, CK_ATTRIBUTE_TYPE type, CK_BBOOL v);
CK_RV p11_attrs_set_ulong(p11_attrs *l, CK_ATTRIBUTE_TYPE type, CK_ULONG v);
const CK_ATTRIBUTE *p11_attrs_find(const p11_attrs *l, CK_ATTRIBUTE_TYPE type);
int p11_attrs_bool(const p11_attrs *l, CK_ATTRIBUTE_TYPE type, int dflt);
CK_ULONG p11_attrs_ulong(const p11_attrs *l, CK_ATTRIBUTE_TYPE type, CK_ULONG dflt);
void p11_attrs_free(p11_attrs *l);
const CK_ATTRIBUTE *p11_tmpl_find(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type);
/* Checks a template's shape: lengths of booleans and integers, NULL values. */
CK_RV p11_tmpl_check(const CK_ATTRIBUTE *t, CK_ULONG n);
int p11_tmpl_bool(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type, int dflt);

/* ---- slots ---------------------------------------------------------------- */
typedef struct {
    CK_MECHANISM_TYPE type;
    CK_MECHANISM_INFO info;
} p11_mechinfo;

typedef struct p11_slot {
    const p11_token_cfg *cfg;
    g11c_conn *conn;      /* Crypto calls */
    g11c_conn *auth_conn; /* grep11.Auth: conn, or its own when iamauth.endpoint differs */
    void *lock;
    void *refresh;
    CK_ULONG login;  /* P11_NOT_LOGGED_IN, CKU_SO or CKU_USER */
    char *login_key; /* the PIN (API key) while logged in, to refresh tokens; secret */
    char token[P11_TOKEN_MAX];
    int64_t token_exp;  /* unix seconds */
    int64_t token_life; /* seconds it was valid for when received */
    int token_user;     /* whose token: -1 none, else P11_USER_* */
    CK_MECHANISM_TYPE *mechs;
    size_t nmechs;
    int mechs_loaded;
    p11_mechinfo *infos;
    size_t ninfos, capinfos;
    CK_ULONG nsessions, nrw_sessions;
    /* Keystores (tokens.N.users.1/2.tokenspaceID) when remotestore is on. */
    int ks_on[2];
    uint8_t ks_id[2][16];
    /* The keystore's label and whether it exists, cached (slot->lock). */
    char ks_label[33];
    int ks_label_state; /* 0 unknown, 1 label known, 2 keystore absent, 3 unreadable */
    int64_t ks_label_at;
    /* Failed logins since the last good one, and until when the server
     * refuses more (its rate limit), per P11_USER_* (slot->lock). */
    unsigned pin_failures[P11_USERS];
    int64_t pin_locked_until[P11_USERS];
} p11_slot;

/* ---- operations and sessions ---------------------------------------------- */
typedef enum {
    P11_OP_ENCRYPT,
    P11_OP_DECRYPT,
    P11_OP_DIGEST,
    P11_OP_SIGN,
    P11_OP_VERIFY,
    P11_OP_COUNT
} p11_opkind;

/* A mechanism translated for the wire, owning its parameter bytes. */
typedef struct {
    g11c_mech m;
    uint8_t *param;
    size_t param_len;
    uint8_t *label; /* OAEP source data */
} p11_mech;

enum { P11_PEND_NONE, P11_PEND_SINGLE, P11_PEND_UPDATE, P11_PEND_FINAL };

typedef struct {
    int active;
    int started; /* a state blob exists: multi-part under way */
    p11_mech mech;
    g11c_buf key;   /* the key blob (copied at Init) */
    g11c_buf state; /* the current state blob */
    /* A result computed for a length query or a too-small buffer, handed out
     * when the same call comes again with the same input. */
    int pend;
    uint8_t pend_hash[32];
    g11c_buf pend_out, pend_state;
    /* The key has CKA_ALWAYS_AUTHENTICATE: sign/decrypt need a
     * C_Login(CKU_CONTEXT_SPECIFIC) after Init (ctxauth.c). */
    int ctx_need, ctx_done;
} p11_op;

typedef struct p11_session {
    CK_SESSION_HANDLE handle;
    size_t slot_idx;
    CK_FLAGS flags;
    void *lock;
    int refs; /* guarded by st->lock */
    int closed;
    p11_op ops[P11_OP_COUNT];
    int finding;
    CK_OBJECT_HANDLE *found;
    size_t nfound, capfound, pos;
    /* Token objects: the search template and a cursor per keystore still
     * to be paged through (tokfind.c). */
    CK_ATTRIBUTE *ftmpl;
    CK_ULONG nftmpl;
    int fks_more[2];
    char fks_cursor[2][64];
} p11_session;

/* ---- objects ---------------------------------------------------------------- */
typedef struct p11_object {
    CK_OBJECT_HANDLE handle;
    CK_SESSION_HANDLE owner;
    size_t slot_idx;
    int refs; /* guarded by st->lock */
    void *lock;
    CK_OBJECT_CLASS cls;
    int is_private;
    p11_attrs attrs;  /* everything known locally (never CKA_VALUE of a key) */
    g11c_buf blob;    /* sealed key blob (keys) */
    int bound_cached; /* the blob's bound attributes are in attrs */
    /* Token objects: a cached copy of a keystore object. */
    int is_token;
    int ks; /* P11_KS_* */
    uint8_t uuid[16];
    int64_t version; /* the version last read or written */
    /* Session objects are also on a list of their own (st->session_objects),
     * so a search does not walk the cached token objects. */
    struct p11_object *sprev, *snext;
    int on_session_list;
} p11_object;

/* ---- the module context ------------------------------------------------------ */
typedef struct p11_state {
    p11_config cfg;
    p11_slot *slots;
    size_t nslots;
    void *lock;
    p11_htab sessions;
    p11_htab objects;            /* every object by handle */
    p11_object *session_objects; /* the session objects among them (st->lock) */
    struct p11_state *next_orphan;
} p11_state;

typedef struct {
    p11_state *st;       /* non-NULL while initialized */
    pid_t pid;           /* the process that initialized */
    p11_lockops lockops; /* chosen at C_Initialize */
    p11_state *orphans;  /* states left behind by fork (never touched again) */
} p11_module;

extern p11_module P11;

/* module.c */
p11_state *p11_state_get(void);         /* NULL: not initialized (or in a forked child) */
CK_ULONG p11_new_handle(p11_state *st); /* process-wide: never reused */

/* fork.c */
void p11_fork_setup(void);
int p11_fork_supported(void);     /* gRPC's fork handlers were found */
void p11_fork_orphan_state(void); /* module.c */
void p11_pad(CK_UTF8CHAR *dst, size_t cap, const char *src);

/* PKCS #11 3.0 entry points (p11-kit's header declares only 2.40). */
CK_RV C_GetInterfaceList(P11_CK_INTERFACE *list, CK_ULONG *count);
CK_RV C_GetInterface(CK_UTF8CHAR *name, CK_VERSION *version, P11_CK_INTERFACE **iface,
                     CK_FLAGS flags);
CK_RV C_LoginUser(CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR *pin, CK_ULONG pin_len,
                  CK_UTF8CHAR *username, CK_ULONG username_len);
CK_RV C_SessionCancel(CK_SESSION_HANDLE s, CK_FLAGS flags);
/* PKCS #11 3.2 (kem.c; the others in stubs.c). */
CK_RV C_EncapsulateKey(CK_SESSION_HANDLE s, CK_MECHANISM *mech, CK_OBJECT_HANDLE pub,
                       CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_BYTE *ct, CK_ULONG *ct_len,
                       CK_OBJECT_HANDLE *key);
CK_RV C_DecapsulateKey(CK_SESSION_HANDLE s, CK_MECHANISM *mech, CK_OBJECT_HANDLE priv,
                       CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_BYTE *ct, CK_ULONG ct_len,
                       CK_OBJECT_HANDLE *key);
CK_RV C_VerifySignatureInit(CK_SESSION_HANDLE s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key,
                            CK_BYTE *sig, CK_ULONG sig_len);
CK_RV C_VerifySignature(CK_SESSION_HANDLE s, CK_BYTE *data, CK_ULONG len);
CK_RV C_VerifySignatureUpdate(CK_SESSION_HANDLE s, CK_BYTE *part, CK_ULONG len);
CK_RV C_VerifySignatureFinal(CK_SESSION_HANDLE s);
CK_RV C_GetSessionValidationFlags(CK_SESSION_HANDLE s, CK_ULONG type, CK_FLAGS *flags);
CK_RV C_AsyncComplete(CK_SESSION_HANDLE s, CK_UTF8CHAR *fn, void *result);
CK_RV C_AsyncGetID(CK_SESSION_HANDLE s, CK_UTF8CHAR *fn, CK_ULONG *id);
CK_RV C_AsyncJoin(CK_SESSION_HANDLE s, CK_UTF8CHAR *fn, CK_ULONG id, CK_BYTE *data, CK_ULONG len);
CK_RV C_WrapKeyAuthenticated(CK_SESSION_HANDLE s, CK_MECHANISM *mech, CK_OBJECT_HANDLE wrapping,
                             CK_OBJECT_HANDLE key, CK_BYTE *aad, CK_ULONG aad_len, CK_BYTE *out,
                             CK_ULONG *out_len);
CK_RV C_UnwrapKeyAuthenticated(CK_SESSION_HANDLE s, CK_MECHANISM *mech, CK_OBJECT_HANDLE unwrapping,
                               CK_BYTE *in, CK_ULONG in_len, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                               CK_BYTE *aad, CK_ULONG aad_len, CK_OBJECT_HANDLE *key);
CK_RV C_MessageEncryptInit(CK_SESSION_HANDLE s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
CK_RV C_EncryptMessage(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *aad,
                       CK_ULONG aad_len, CK_BYTE *in, CK_ULONG in_len, CK_BYTE *out,
                       CK_ULONG *out_len);
CK_RV C_EncryptMessageBegin(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *aad,
                            CK_ULONG aad_len);
CK_RV C_EncryptMessageNext(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *in,
                           CK_ULONG in_len, CK_BYTE *out, CK_ULONG *out_len, CK_FLAGS flags);
CK_RV C_MessageEncryptFinal(CK_SESSION_HANDLE s);
CK_RV C_MessageDecryptInit(CK_SESSION_HANDLE s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
CK_RV C_DecryptMessage(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *aad,
                       CK_ULONG aad_len, CK_BYTE *in, CK_ULONG in_len, CK_BYTE *out,
                       CK_ULONG *out_len);
CK_RV C_DecryptMessageBegin(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *aad,
                            CK_ULONG aad_len);
CK_RV C_DecryptMessageNext(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *in,
                           CK_ULONG in_len, CK_BYTE *out, CK_ULONG *out_len, CK_FLAGS flags);
CK_RV C_MessageDecryptFinal(CK_SESSION_HANDLE s);
CK_RV C_MessageSignInit(CK_SESSION_HANDLE s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
CK_RV C_SignMessage(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *data,
                    CK_ULONG data_len, CK_BYTE *sig, CK_ULONG *sig_len);
CK_RV C_SignMessageBegin(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len);
CK_RV C_SignMessageNext(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *data,
                        CK_ULONG data_len, CK_BYTE *sig, CK_ULONG *sig_len);
CK_RV C_MessageSignFinal(CK_SESSION_HANDLE s);
CK_RV C_MessageVerifyInit(CK_SESSION_HANDLE s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
CK_RV C_VerifyMessage(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *data,
                      CK_ULONG data_len, CK_BYTE *sig, CK_ULONG sig_len);
CK_RV C_VerifyMessageBegin(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len);
CK_RV C_VerifyMessageNext(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *data,
                          CK_ULONG data_len, CK_BYTE *sig, CK_ULONG sig_len);
CK_RV C_MessageVerifyFinal(CK_SESSION_HANDLE s);

/* slots.c */
CK_RV p11_slots_open(p11_state *st);
void p11_slots_close(p11_state *st);
CK_RV p11_slot_get(p11_state *st, CK_SLOT_ID id, p11_slot **slot, size_t *idx);
CK_RV p11_slot_mech_check(p11_slot *slot, CK_MECHANISM_TYPE type, CK_FLAGS need);
/* A connection of its own to the slot's server that sends token (may be
 * "") with every call: for C_InitToken, which acts as the SO without a
 * login. */
CK_RV p11_slot_connect_with(p11_slot *slot, const char *token, g11c_conn **out);

/* auth.c */
CK_RV p11_auth_token_hook(void *arg, char *buf, size_t cap);
CK_RV p11_auth_login(p11_state *st, p11_slot *slot, CK_USER_TYPE user, const CK_UTF8CHAR *pin,
                     CK_ULONG pin_len);
void p11_auth_logout(p11_slot *slot);
/* CKF_USER_PIN_COUNT_LOW / _LOCKED and the SO's: a failed login since the
 * last good one; the server refusing attempts (CKR_PIN_LOCKED from
 * C_Login) for P11_PIN_LOCK_S, its refill interval. */
#define P11_PIN_LOCK_S 6
CK_FLAGS p11_auth_pin_flags(p11_slot *slot);
int p11_slot_user_logged_in(p11_slot *slot);
CK_ULONG p11_slot_login_state(p11_slot *slot);
int p11_slot_needs_token(const p11_token_cfg *cfg);
/* Exchanges an API key (a PIN) of user (P11_USER_*) for a bearer token; ""
 * when that user's iamauth is disabled. A refusal is CKR_PIN_INCORRECT. */
CK_RV p11_auth_key_token(p11_slot *slot, int user, const CK_UTF8CHAR *pin, CK_ULONG pin_len,
                         char *tok, size_t cap);

/* session.c */
CK_RV p11_session_get(p11_state *st, CK_SESSION_HANDLE h, p11_session **out);
void p11_session_put(p11_state *st, p11_session *s);
void p11_op_clear(p11_op *op);
void p11_sessions_close_slot(p11_state *st, size_t slot_idx);
void p11_state_free_sessions(p11_state *st);

/* objects.c */
CK_RV p11_object_get(p11_state *st, p11_session *s, CK_OBJECT_HANDLE h, p11_object **out);
void p11_object_put(p11_state *st, p11_object *o);
CK_RV p11_object_add(p11_state *st, p11_session *s, p11_object *o, CK_OBJECT_HANDLE *h);
p11_object *p11_object_new(CK_OBJECT_CLASS cls);
void p11_object_free(p11_object *o);
void p11_objects_drop_session(p11_state *st, CK_SESSION_HANDLE owner);
void p11_objects_drop_private(p11_state *st, size_t slot_idx);
/* Destroys an object the caller holds a reference to (token objects in
 * their keystore too). */
CK_RV p11_object_destroy(p11_state *st, p11_object *o);
/* Forgets every cached token object of a slot (C_InitToken). */
void p11_objects_drop_token(p11_state *st, size_t slot_idx);
/* Takes a token object out of the tables (destroyed, or gone from its
 * keystore). */
void p11_object_forget(p11_state *st, p11_object *o);
void p11_state_free_objects(p11_state *st);
/* Copies the key blob out (caller frees). */
CK_RV p11_object_blob(p11_object *o, g11c_buf *out);
/* The key as a crypto call's key argument: the blob, or for a large token
 * key a KeyBlobID reference (caller frees either). */
CK_RV p11_object_key_arg(p11_state *st, p11_object *o, g11c_buf *out);
/* Makes sure the bound attributes are cached (one GetAttributeValue RPC). */
CK_RV p11_object_load_bound(p11_state *st, p11_object *o);
/* A key object from a fresh blob: local attributes from the template, bound
 * ones from the server; p11_key_object does not add it to the tables. */
CK_RV p11_key_object(p11_state *st, p11_session *s, g11c_buf *blob, const g11c_buf *checksum,
                     CK_OBJECT_CLASS cls, const CK_ATTRIBUTE *t, CK_ULONG n, p11_object **out);
CK_RV p11_key_from_blob(p11_state *st, p11_session *s, g11c_buf *blob, const g11c_buf *checksum,
                        const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *h);
/* Splits a key template into the part the server sees; *out is malloc'd and
 * borrows the values. */
CK_RV p11_key_template_for_server(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE **out,
                                  CK_ULONG *nout);
/* defaults.c: the module's defaults for new keys (IBM's PKCS #11 library):
 * CKA_EXTRACTABLE and CKA_WRAP_WITH_TRUSTED FALSE (private and secret
 * keys), CKA_DERIVE FALSE, CKA_MODIFIABLE TRUE, for what t does not name.
 * p11_new_key_template: p11_key_template_for_server plus those, for a key
 * of class cls (same ownership). p11_public_key_defaults: the public-key
 * ones into a's attributes (a public key made from its values, which the
 * server binds nothing to). */
CK_RV p11_new_key_template(CK_OBJECT_CLASS cls, const CK_ATTRIBUTE *t, CK_ULONG n,
                           CK_ATTRIBUTE **out, CK_ULONG *nout);
CK_RV p11_public_key_defaults(p11_attrs *a, const CK_ATTRIBUTE *t, CK_ULONG n);
/* A template's CKA_CLASS, or dflt. */
CK_OBJECT_CLASS p11_tmpl_class(const CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_CLASS dflt);
/* wkid.c: CKA_GREP11_WKID from the blob's clear header (key blobs, MACed
 * SPKIs); CKR_ATTRIBUTE_TYPE_INVALID for anything else (a plain SPKI, an
 * object without blob). p11_wkid_attr answers one C_GetAttributeValue
 * entry (size query, CKR_BUFFER_TOO_SMALL). */
CK_RV p11_object_wkid(p11_object *o, uint8_t out[16]);
CK_RV p11_wkid_attr(p11_object *o, CK_ATTRIBUTE *want);
/* DESIGN §5: CKA_TOKEN / CKA_PRIVATE against the login state; a token
 * object also needs a read/write session and a configured keystore.
 * dflt_token / dflt_private: the values when the template does not say
 * (dflt_private -1: TRUE when the normal user is logged in). */
CK_RV p11_object_placement(p11_state *st, p11_session *s, const CK_ATTRIBUTE *t, CK_ULONG n,
                           int dflt_token, int dflt_private, int *is_private, int *is_token);
/* CKA_ALLOWED_MECHANISMS (the copy beside the blob; grep11d enforces the
 * bound one): CKR_OK when the list is absent or empty or names mech, else
 * CKR_MECHANISM_INVALID. Called by every *Init that uses a key, to fail
 * before a call and for keys whose blob predates the binding. */
CK_RV p11_object_mech_allowed(p11_object *o, CK_MECHANISM_TYPE mech);
/* Does o match every attribute of a search template (exact bytes)? */
int p11_object_matches(p11_object *o, const CK_ATTRIBUTE *t, CK_ULONG n);
/* Copies an object (attributes, blob; not its keystore identity). */
CK_RV p11_object_duplicate(p11_object *src, p11_object **out);

/* import.c: clear keys into sealed blobs (through a transport key) */
CK_RV p11_import_secret(p11_state *st, p11_session *s, const CK_ATTRIBUTE *t, CK_ULONG n,
                        CK_OBJECT_HANDLE *h);
CK_RV p11_import_private(p11_state *st, p11_session *s, const CK_ATTRIBUTE *t, CK_ULONG n,
                         CK_OBJECT_HANDLE *h);

/* pkder.c: a key's values in a template as DER: SubjectPublicKeyInfo
 * (priv 0) or PKCS #8 (priv 1); CKR_TEMPLATE_INCOMPLETE when the template
 * does not hold the key. */
CK_RV p11_pkder(const CK_ATTRIBUTE *t, CK_ULONG n, int priv, g11c_buf *out);
/* An Edwards/Montgomery SPKI in IBM's form (id-ecPublicKey + curve) as RFC
 * 8410 writes it: 1 and *olen set, else 0 (any other SPKI: keep it). */
int p11_spki_rfc8410(const CK_BYTE *in, CK_ULONG len, CK_BYTE *out, CK_ULONG cap, CK_ULONG *olen);
/* 1 when CKA_EC_PARAMS (OID or name) is Ed25519 or Ed448: IBM's
 * applications give such keys as CKK_EC, which they are not. */
int p11_ec_params_edwards(const CK_ATTRIBUTE *params);

/* tokstore.c: token objects in the keystores (grep11.Store) */
/* CKA_UNIQUE_ID (PKCS #11 3.0) of a token object is its keystore object
 * UUID as text (8-4-4-4-12 lowercase hex, no NUL): the same in every
 * process and after C_Finalize. A session object gets a random UUID
 * (p11_object_add). Read-only; never stored in the row (it is the row's
 * id); a search naming it reads that one object (tokfind.c). */
#define P11_UUID_TEXT_LEN 36
void p11_uuid_text(const uint8_t id[16], char out[P11_UUID_TEXT_LEN + 1]);
/* Exactly 36 bytes in the 8-4-4-4-12 shape (either case); 0 otherwise. */
int p11_uuid_from_text(const void *p, size_t len, uint8_t out[16]);
/* Sets CKA_UNIQUE_ID from o->uuid. */
CK_RV p11_unique_id_set(p11_object *o);
/* The slot's keystore UUIDs from the configuration. */
void p11_tokstore_slot_setup(p11_slot *slot);
/* May a token object go to keystore ks of the slot? (configuration) */
CK_RV p11_tokstore_usable(p11_state *st, size_t slot_idx, int ks);
/* The keystore password (sessionauth), or NULL. */
const char *p11_tokstore_password(const p11_slot *slot, int ks);
/* Stores a complete new object (o->is_private picks the keystore) and
 * adds it to the tables; on failure o stays the caller's. */
CK_RV p11_tokstore_create(p11_state *st, p11_object *o, CK_OBJECT_HANDLE *h);
/* A keystore object as a cached object with a stable handle; takes so's
 * blob and attributes. */
CK_RV p11_tokstore_adopt(p11_state *st, size_t slot_idx, int ks, g11c_stored_object *so,
                         CK_OBJECT_HANDLE *h);
/* C_SetAttributeValue on a token object: the change is applied to a copy
 * and written back with the version read; a conflict re-reads and retries
 * once. */
CK_RV p11_tokstore_set(p11_state *st, p11_object *o, const CK_ATTRIBUTE *t, CK_ULONG n);
CK_RV p11_tokstore_destroy(p11_state *st, p11_object *o);
/* A store error as PKCS #11 sees it (logged with what). */
CK_RV p11_tokstore_rv(CK_RV rv, const char *what);

/* tokfind.c: the keystore half of C_FindObjects */
CK_RV p11_tokfind_init(p11_state *st, p11_session *s, const CK_ATTRIBUTE *t, CK_ULONG n);
/* Fetches pages until s->found has handles to give or nothing is left. */
CK_RV p11_tokfind_more(p11_state *st, p11_session *s);
void p11_tokfind_clear(p11_session *s);

/* keystore.c: C_InitToken and the token label */
/* The label for C_GetTokenInfo and whether the keystores exist. */
void p11_keystore_label(p11_state *st, p11_slot *slot, char label[33], int *initialized);
void p11_keystore_label_forget(p11_slot *slot);

/* object_attrs.c: applying a checked change (C_SetAttributeValue) */
CK_RV p11_object_check_change(p11_object *o, const CK_ATTRIBUTE *t, CK_ULONG n, int copy);
CK_RV p11_object_apply_change(p11_state *st, p11_object *o, const CK_ATTRIBUTE *t, CK_ULONG n);

/* ctxauth.c: CKA_ALWAYS_AUTHENTICATE keys and C_Login(CKU_CONTEXT_SPECIFIC) */
/* At Init: does the key want a context-specific login for this kind? */
int p11_ctxauth_needed(p11_object *o, p11_opkind kind);
/* C_Login(CKU_CONTEXT_SPECIFIC) on a session. */
CK_RV p11_ctxauth_login(p11_state *st, CK_SESSION_HANDLE h, const CK_UTF8CHAR *pin,
                        CK_ULONG pin_len);

/* mech_params.c */
CK_RV p11_mech_from_ck(const CK_MECHANISM *in, p11_mech *out);
void p11_mech_free(p11_mech *m);
CK_RV p11_mech_key_check(CK_MECHANISM_TYPE mech, p11_opkind op, CK_KEY_TYPE kt);
/* The class a C_DeriveKey makes: the template's CKA_CLASS, else what the
 * mechanism implies (CKM_IBM_BTC_DERIVE: a private or public EC key), else
 * a secret key. */
CK_OBJECT_CLASS p11_mech_derived_class(const CK_MECHANISM *m, const CK_ATTRIBUTE *t, CK_ULONG n);

/* Output to a caller's buffer per PKCS #11 §5.2: NULL -> length; short ->
 * CKR_BUFFER_TOO_SMALL; both keep the result for the next call. */
CK_RV p11_copy_out(const g11c_buf *res, CK_BYTE *out, CK_ULONG *out_len);

static inline g11c_bytes p11_bytes(const void *p, CK_ULONG n)
{
    g11c_bytes b = {(const uint8_t *)p, (size_t)n};
    return b;
}

#define P11_STATE_OR_RETURN(st)                                                                    \
    p11_state *st = p11_state_get();                                                               \
    if (!st)                                                                                       \
    return CKR_CRYPTOKI_NOT_INITIALIZED

#endif
