/* The module's entry: the one context (P11), C_Initialize / C_Finalize /
 * C_GetInfo, and the function lists and interfaces. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

p11_module P11;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

p11_state *p11_state_get(void)
{
    p11_state *st = __atomic_load_n(&P11.st, __ATOMIC_ACQUIRE);
    if (st && P11.pid != getpid())
        return NULL; /* a forked child that has not called C_Initialize */
    return st;
}

/* One counter for the process, so that a handle is never reused, not even
 * across C_Finalize / C_Initialize (token objects keep theirs: tokmap.c). */
static CK_ULONG next_handle;

CK_ULONG p11_new_handle(p11_state *st)
{
    (void)st;
    CK_ULONG h;
    while ((h = __atomic_add_fetch(&next_handle, 1, __ATOMIC_RELAXED)) == CK_INVALID_HANDLE)
        ;
    return h;
}

static void state_free(p11_state *st)
{
    if (!st)
        return;
    p11_state_free_sessions(st);
    p11_state_free_objects(st);
    p11_slots_close(st);
    p11_mutex_free(st->lock);
    p11_config_free(&st->cfg);
    free(st);
}

/* Called from the fork handler and from C_Initialize in a child: the old
 * state may be mid-change in a thread that no longer exists, so it is never
 * touched again, only kept reachable. */
void p11_fork_orphan_state(void)
{
    p11_state *st = P11.st;
    if (!st)
        return;
    __atomic_store_n(&P11.st, NULL, __ATOMIC_RELEASE);
    st->next_orphan = P11.orphans;
    P11.orphans = st;
}

static CK_RV initialize(const CK_C_INITIALIZE_ARGS *args)
{
    char err[600] = "";
    p11_state *st = NULL;
    CK_RV rv;

    if ((rv = p11_locking_choose(args, &P11.lockops)) != CKR_OK)
        return rv;
    p11_fork_setup();
    st = calloc(1, sizeof(*st));
    if (!st)
        return CKR_HOST_MEMORY;
    rv = p11_config_load(&st->cfg, err, sizeof(err));
    if (rv == CKR_OK)
        rv = p11_config_check_files(&st->cfg, err, sizeof(err));
    /* The log the file names, if it got that far; else the return value is
     * the only report (nothing goes to the host's stderr unasked). */
    if (p11_log_open(&st->cfg) != 0 && rv == CKR_OK)
        rv = CKR_ARGUMENTS_BAD; /* a logpath that cannot be written is a bad setting */
    if (rv != CKR_OK) {
        p11_log(P11_LOG_ERROR, "C_Initialize: %s", err);
        goto out;
    }
    p11_log_route_grpc(st->cfg.grpc_log);
    if (!p11_fork_supported())
        P11_WARN("gRPC's fork handlers not found: a forked child cannot use the module");
    /* GnuTLS always sets it; refusing would make the module unusable there.
     * gRPC's threads are its own and never run application code. */
    if (args && (args->flags & CKF_LIBRARY_CANT_CREATE_OS_THREADS))
        P11_INFO("CKF_LIBRARY_CANT_CREATE_OS_THREADS: gRPC still runs its own threads");
    if ((rv = p11_mutex_new(&st->lock)) != CKR_OK)
        goto out;
    if ((rv = p11_slots_open(st)) != CKR_OK)
        goto out;
    P11.pid = getpid();
    __atomic_store_n(&P11.st, st, __ATOMIC_RELEASE);
    p11_log(P11_LOG_INFO, "initialized from %s: %zu token(s)", st->cfg.source, st->nslots);
    st = NULL;
out:
    if (st) {
        state_free(st);
        p11_log_close();
    }
    return rv;
}

CK_RV C_Initialize(void *init_args)
{
    CK_RV rv;
    pthread_mutex_lock(&init_lock);
    if (P11.st && P11.pid != getpid())
        p11_fork_orphan_state();
    rv = P11.st ? CKR_CRYPTOKI_ALREADY_INITIALIZED : initialize(init_args);
    pthread_mutex_unlock(&init_lock);
    return rv;
}

CK_RV C_Finalize(void *reserved)
{
    if (reserved)
        return CKR_ARGUMENTS_BAD;
    pthread_mutex_lock(&init_lock);
    p11_state *st = p11_state_get();
    if (st) {
        __atomic_store_n(&P11.st, NULL, __ATOMIC_RELEASE);
        state_free(st);
        p11_log_close();
    }
    pthread_mutex_unlock(&init_lock);
    return st ? CKR_OK : CKR_CRYPTOKI_NOT_INITIALIZED;
}

void p11_pad(CK_UTF8CHAR *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    memset(dst, ' ', cap);
    memcpy(dst, src, n < cap ? n : cap);
}

CK_RV C_GetInfo(CK_INFO *info)
{
    P11_STATE_OR_RETURN(st);
    (void)st;
    if (!info)
        return CKR_ARGUMENTS_BAD;
    memset(info, 0, sizeof(*info));
    info->cryptokiVersion.major = 3;
    info->cryptokiVersion.minor = 0;
    p11_pad(info->manufacturerID, sizeof(info->manufacturerID), "grep11");
    p11_pad(info->libraryDescription, sizeof(info->libraryDescription), "grep11 PKCS#11 module");
    info->libraryVersion.major = P11_LIBRARY_VERSION_MAJOR;
    info->libraryVersion.minor = P11_LIBRARY_VERSION_MINOR;
    return CKR_OK;
}

/* ---- function lists ------------------------------------------------------ */

#define P11_FUNCS_240                                                                              \
    C_Initialize, C_Finalize, C_GetInfo, C_GetFunctionList, C_GetSlotList, C_GetSlotInfo,          \
        C_GetTokenInfo, C_GetMechanismList, C_GetMechanismInfo, C_InitToken, C_InitPIN, C_SetPIN,  \
        C_OpenSession, C_CloseSession, C_CloseAllSessions, C_GetSessionInfo, C_GetOperationState,  \
        C_SetOperationState, C_Login, C_Logout, C_CreateObject, C_CopyObject, C_DestroyObject,     \
        C_GetObjectSize, C_GetAttributeValue, C_SetAttributeValue, C_FindObjectsInit,              \
        C_FindObjects, C_FindObjectsFinal, C_EncryptInit, C_Encrypt, C_EncryptUpdate,              \
        C_EncryptFinal, C_DecryptInit, C_Decrypt, C_DecryptUpdate, C_DecryptFinal, C_DigestInit,   \
        C_Digest, C_DigestUpdate, C_DigestKey, C_DigestFinal, C_SignInit, C_Sign, C_SignUpdate,    \
        C_SignFinal, C_SignRecoverInit, C_SignRecover, C_VerifyInit, C_Verify, C_VerifyUpdate,     \
        C_VerifyFinal, C_VerifyRecoverInit, C_VerifyRecover, C_DigestEncryptUpdate,                \
        C_DecryptDigestUpdate, C_SignEncryptUpdate, C_DecryptVerifyUpdate, C_GenerateKey,          \
        C_GenerateKeyPair, C_WrapKey, C_UnwrapKey, C_DeriveKey, C_SeedRandom, C_GenerateRandom,    \
        C_GetFunctionStatus, C_CancelFunction, C_WaitForSlotEvent

static CK_FUNCTION_LIST fl_240 = {{2, 40}, P11_FUNCS_240};

#define P11_FUNCS_30                                                                               \
    C_GetInterfaceList, C_GetInterface, C_LoginUser, C_SessionCancel, C_MessageEncryptInit,        \
        C_EncryptMessage, C_EncryptMessageBegin, C_EncryptMessageNext, C_MessageEncryptFinal,      \
        C_MessageDecryptInit, C_DecryptMessage, C_DecryptMessageBegin, C_DecryptMessageNext,       \
        C_MessageDecryptFinal, C_MessageSignInit, C_SignMessage, C_SignMessageBegin,               \
        C_SignMessageNext, C_MessageSignFinal, C_MessageVerifyInit, C_VerifyMessage,               \
        C_VerifyMessageBegin, C_VerifyMessageNext, C_MessageVerifyFinal

static P11_FUNCTION_LIST_3_0 fl_30 = {{3, 0}, P11_FUNCS_240, P11_FUNCS_30};

/* The 3.0 list followed by the 3.2 functions; only the 3.2 interface has
 * them (a 3.0 caller's structure ends before). */
static P11_FUNCTION_LIST_3_2 fl_32 = {
    {{3, 2}, P11_FUNCS_240, P11_FUNCS_30},
    C_EncapsulateKey,
    C_DecapsulateKey,
    C_VerifySignatureInit,
    C_VerifySignature,
    C_VerifySignatureUpdate,
    C_VerifySignatureFinal,
    C_GetSessionValidationFlags,
    C_AsyncComplete,
    C_AsyncGetID,
    C_AsyncJoin,
    C_WrapKeyAuthenticated,
    C_UnwrapKeyAuthenticated,
};

static CK_UTF8CHAR iface_name[] = "PKCS 11";

/* Newest first: C_GetInterface with no version picks the first match. */
static P11_CK_INTERFACE interfaces[] = {
    {iface_name, &fl_32, 0},
    {iface_name, &fl_30, 0},
    {iface_name, &fl_240, 0},
};
#define NIFACES (sizeof(interfaces) / sizeof(interfaces[0]))

CK_RV C_GetFunctionList(CK_FUNCTION_LIST **list)
{
    if (!list)
        return CKR_ARGUMENTS_BAD;
    *list = &fl_240;
    return CKR_OK;
}

CK_RV C_GetInterfaceList(P11_CK_INTERFACE *list, CK_ULONG *count)
{
    if (!count)
        return CKR_ARGUMENTS_BAD;
    if (!list) {
        *count = NIFACES;
        return CKR_OK;
    }
    if (*count < NIFACES) {
        *count = NIFACES;
        return CKR_BUFFER_TOO_SMALL;
    }
    memcpy(list, interfaces, sizeof(interfaces));
    *count = NIFACES;
    return CKR_OK;
}

CK_RV C_GetInterface(CK_UTF8CHAR *name, CK_VERSION *version, P11_CK_INTERFACE **iface,
                     CK_FLAGS flags)
{
    if (!iface)
        return CKR_ARGUMENTS_BAD;
    for (size_t i = 0; i < NIFACES; i++) {
        const CK_VERSION *v = interfaces[i].pFunctionList; /* every list starts with it */
        if (name && strcmp((const char *)name, (const char *)interfaces[i].pInterfaceName) != 0)
            continue;
        if (version && (version->major != v->major || version->minor != v->minor))
            continue;
        if ((interfaces[i].flags & flags) != flags)
            continue;
        *iface = &interfaces[i];
        return CKR_OK;
    }
    return CKR_ARGUMENTS_BAD;
}
