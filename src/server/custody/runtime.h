/* Internals shared by the custody files: the runtime object, its locks and
 * the transitions that change the engines. */
#ifndef GREP11_CUSTODY_RUNTIME_H
#define GREP11_CUSTODY_RUNTIME_H

#include <pthread.h>
#include <stdatomic.h>

#include "audit.h"
#include "custody.h"
#include "journal.h"
#include "keyparts.h"
#include "state.h"

typedef struct rotation rotation;

struct custody {
    int dev;
    engine_policy eng_pol; /* every engine custody creates (config key_cache) */
    char data_dir[4096];
    struct services *svc;
    store *st;
    audit *au;
    rotation *rot;
    uint8_t anchor[32];
    int have_anchor;
    /* cmd_mu serialises commands, unlocks and status reads of the fields
     * below; lock (writer-preferring) guards the engines: every call that
     * uses one holds the read side, a transition the write side. */
    pthread_mutex_t cmd_mu;
    pthread_rwlock_t lock;
    atomic_int unlocked;
    custody_state state;
    engine *cur_eng;   /* current WK (+ committed new WK in its new register) */
    engine *next_eng;  /* committed new WK as current: fallback during re-wrap */
    engine *grace_eng; /* previous WK, new register = current: RewrapKeyBlob */
    uint8_t cur_wk[32], next_wk[32];
    int have_next_wk;
    uint8_t root[32]; /* identity root: token, directory and audit keys */
    int have_root;
    keyacc newreg, unlockacc;
    /* Following commands submitted through other replicas (runtime.c). */
    uint64_t epoch_seen; /* highest epoch applied on this host (DIR/custody-epoch) */
    int rolled_back;     /* the log is behind epoch_seen: refuse to serve */
    char rollback_msg[200];
    int follow_logged; /* a refresh failure was logged (once, not every second) */
    pthread_t follow_th;
    int follow_running;
    pthread_mutex_t follow_mu;
    pthread_cond_t follow_cv;
    int follow_stop;
};

/* Loads `wk` as the current key and opens what is sealed under it (identity
 * root, committed new key, previous key). Caller holds cmd_mu. */
CK_RV custody_become_unlocked(custody *c, const uint8_t wk[32], char *why, size_t cap);
/* Seals / opens a vault record under the WK that `eng` holds as current. */
CK_RV vault_seal(custody *c, engine *eng, const char *name, const uint8_t *data, size_t len);
CK_RV vault_open(custody *c, engine *eng, const char *name, uint8_t *out, size_t len);
void vault_name(char out[40], const char *what, const char *vp);
/* The committed key: "next@<current VP>.<new VP>", so two commits racing
 * for one epoch never overwrite each other's record. */
void vault_next_name(char out[40], const char *cur_vp, const char *new_vp);
/* Derived identity keys from the root into services and audit. */
CK_RV custody_identity_on(custody *c);
void custody_identity_off(custody *c);

/* Erases every register and engine in memory and locks (zeroize without
 * touching the vault; also a replica that cannot follow). Caller holds cmd_mu. */
void custody_forget(custody *c);
/* new key -> current in the engines (commands.c); old_vp "" keeps the vault. */
void custody_activate_engines(custody *c, engine *created, const char *old_vp, int keep_prev);

/* ---- replicas (runtime.c) ---------------------------------------------- */
#define CUSTODY_EPOCH_FILE "custody-epoch"
/* At start, after replay: compares the log with DIR/custody-epoch; a log
 * behind it leaves the instance refusing to serve (rolled_back). */
void custody_epoch_check(custody *c);
/* Records the state's epoch in DIR/custody-epoch when it is higher. */
void custody_note_epoch(custody *c);
/* Applies commands other replicas appended to the shared log since our
 * state (and notices a truncated log). Caller holds cmd_mu. */
void custody_refresh(custody *c);
/* The watcher thread: custody_refresh about once a second. */
void custody_follow_start(custody *c);
void custody_follow_stop(custody *c);

/* Handlers' entry points (handlers_custody.c uses them). */
CK_RV custody_submit(custody *c, const uint8_t *canon, size_t len, const custody_sig *sigs,
                     size_t nsigs, const uint8_t *secret, size_t slen, char *msg, size_t msgcap,
                     char *part_vp, char *asm_vp, char *apikey, size_t keycap, uint64_t *epoch);
CK_RV custody_unlock(custody *c, const uint8_t (*parts)[32], size_t nparts,
                     const shamir_share *shares, size_t nshares, int reset, char *msg, size_t cap,
                     unsigned *held);

/* ---- rotation (rotation.c) ------------------------------------------ */
typedef struct {
    const char *phase;
    uint64_t done, skipped, failed;
    uint64_t pending; /* objects of password-protected keystores: re-wrapped on read */
    char error[160];
} rotation_status;

CK_RV rotation_new(custody *c, rotation **out);
void rotation_free(rotation *r); /* stops and joins the worker */
/* Starts (or resumes) re-wrapping every registered keystore towards the
 * committed key whose pattern is target_vp. */
void rotation_start(rotation *r, const char *target_vp);
void rotation_stop(rotation *r);
void rotation_status_get(rotation *r, rotation_status *out);
/* Runs one pass synchronously (activation's final sweep); 0 when every
 * object is under the new key. */
int rotation_sweep(rotation *r, const char *target_vp);

#endif
