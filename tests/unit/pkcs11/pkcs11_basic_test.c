/* pkcs11-grep11.so against a real grep11d: function lists and interfaces,
 * slots and tokens, mechanisms, sessions and login, random, errors with the
 * server down, application locking, fork, load/unload cycles. */
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../../src/pkcs11/p11_ck3.h"
#include "p11test.h"

static int setup(void **state)
{
    p11t *t = calloc(1, sizeof(*t));
    *state = t;
    return t ? p11t_start(t) : -1;
}

static void info_and_interfaces(void **state)
{
    p11t *t = *state;
    CK_INFO info;
    assert_int_equal(t->f->C_GetInfo(&info), CKR_OK);
    assert_int_equal(info.cryptokiVersion.major, 3);
    assert_memory_equal(info.manufacturerID, "grep11 ", 7);
    assert_int_equal(t->f->version.major, 2);
    assert_int_equal(t->f->version.minor, 40);

    CK_RV (*list)(P11_CK_INTERFACE *, CK_ULONG *);
    CK_RV (*get)(CK_UTF8CHAR *, CK_VERSION *, P11_CK_INTERFACE **, CK_FLAGS);
    *(void **)&list = dlsym(t->dl, "C_GetInterfaceList");
    *(void **)&get = dlsym(t->dl, "C_GetInterface");
    assert_non_null(list);
    assert_non_null(get);
    CK_ULONG n = 0;
    assert_int_equal(list(NULL, &n), CKR_OK);
    assert_int_equal(n, 3); /* 3.2, 3.0, 2.40 (pkcs11_kem_test looks at 3.2) */
    P11_CK_INTERFACE ifs[3];
    n = 2;
    assert_int_equal(list(ifs, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 3);
    assert_int_equal(list(ifs, &n), CKR_OK);
    assert_string_equal((char *)ifs[0].pInterfaceName, "PKCS 11");

    P11_CK_INTERFACE *iface = NULL;
    CK_VERSION v30 = {3, 0};
    assert_int_equal(get((CK_UTF8CHAR *)"PKCS 11", &v30, &iface, 0), CKR_OK);
    P11_FUNCTION_LIST_3_0 *f3 = iface->pFunctionList;
    assert_int_equal(f3->version.major, 3);
    assert_int_equal(f3->version.minor, 0);
    assert_ptr_equal(f3->C_GetInfo, t->f->C_GetInfo);
    assert_ptr_equal(f3->C_WaitForSlotEvent, t->f->C_WaitForSlotEvent);
    assert_ptr_equal(f3->C_GetInterface, get);
    CK_VERSION v240 = {2, 40}, v31 = {3, 1};
    assert_int_equal(get((CK_UTF8CHAR *)"PKCS 11", &v240, &iface, 0), CKR_OK);
    assert_ptr_equal(iface->pFunctionList, t->f);
    assert_int_equal(get((CK_UTF8CHAR *)"PKCS 11", &v31, &iface, 0), CKR_ARGUMENTS_BAD);
    assert_int_equal(get((CK_UTF8CHAR *)"Vendor", NULL, &iface, 0), CKR_ARGUMENTS_BAD);

    /* Unsupported functions say so. */
    CK_SESSION_HANDLE s = p11t_session(t, 0, 0);
    assert_int_equal(f3->C_MessageEncryptInit(s, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
    assert_int_equal(t->f->C_SignRecoverInit(s, NULL, 0), CKR_FUNCTION_NOT_SUPPORTED);
    assert_int_equal(t->f->C_GetFunctionStatus(s), CKR_FUNCTION_NOT_PARALLEL);
    assert_int_equal(t->f->C_SeedRandom(s, (CK_BYTE *)"x", 1), CKR_RANDOM_SEED_NOT_SUPPORTED);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

static void slots_and_tokens(void **state)
{
    p11t *t = *state;
    CK_SLOT_ID slots[4];
    CK_ULONG n = 0;
    assert_int_equal(t->f->C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
    assert_int_equal(n, 2);
    n = 1;
    assert_int_equal(t->f->C_GetSlotList(CK_TRUE, slots, &n), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 2);
    assert_int_equal(t->f->C_GetSlotList(CK_FALSE, slots, &n), CKR_OK);
    assert_int_equal(slots[0], 0);
    assert_int_equal(slots[1], 5);

    CK_SLOT_INFO si;
    assert_int_equal(t->f->C_GetSlotInfo(5, &si), CKR_OK);
    assert_true(si.flags & CKF_TOKEN_PRESENT);
    assert_int_equal(t->f->C_GetSlotInfo(1, &si), CKR_SLOT_ID_INVALID);

    CK_TOKEN_INFO ti;
    assert_int_equal(t->f->C_GetTokenInfo(0, &ti), CKR_OK);
    assert_memory_equal(ti.label, "grep11 test                     ", 32);
    assert_true(ti.flags & CKF_TOKEN_INITIALIZED);
    assert_true(ti.flags & CKF_RNG);
    assert_true(ti.flags & CKF_USER_PIN_INITIALIZED);
    assert_false(ti.flags & CKF_LOGIN_REQUIRED); /* an anonymous key is configured */
    assert_int_equal(ti.ulTotalPublicMemory, CK_UNAVAILABLE_INFORMATION);
    assert_int_equal(ti.ulFreePrivateMemory, CK_UNAVAILABLE_INFORMATION);
    assert_int_equal(ti.ulSessionCount, 0);
    assert_int_equal(t->f->C_GetTokenInfo(5, &ti), CKR_OK);
    assert_memory_equal(ti.label, "grep11 token 5 ", 15);
}

static int has(const CK_MECHANISM_TYPE *l, CK_ULONG n, CK_MECHANISM_TYPE m)
{
    for (CK_ULONG i = 0; i < n; i++)
        if (l[i] == m)
            return 1;
    return 0;
}

static void mechanisms(void **state)
{
    p11t *t = *state;
    CK_ULONG n = 0;
    assert_int_equal(t->f->C_GetMechanismList(0, NULL, &n), CKR_OK);
    assert_true(n > 10);
    CK_MECHANISM_TYPE *l = calloc(n, sizeof(*l));
    CK_ULONG small = 2;
    assert_int_equal(t->f->C_GetMechanismList(0, l, &small), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(small, n);
    assert_int_equal(t->f->C_GetMechanismList(0, l, &n), CKR_OK);
    assert_true(has(l, n, CKM_AES_KEY_GEN));
    assert_true(has(l, n, CKM_AES_CBC_PAD));
    assert_true(has(l, n, CKM_SHA256));
    assert_true(has(l, n, CKM_SHA256_HMAC));
    free(l);
    CK_MECHANISM_INFO mi;
    assert_int_equal(t->f->C_GetMechanismInfo(0, CKM_AES_KEY_GEN, &mi), CKR_OK);
    assert_int_equal(mi.ulMinKeySize, 16);
    assert_int_equal(mi.ulMaxKeySize, 32);
    assert_true(mi.flags & CKF_GENERATE);
    assert_int_equal(t->f->C_GetMechanismInfo(0, CKM_AES_KEY_GEN, &mi), CKR_OK); /* cached */
    assert_int_equal(t->f->C_GetMechanismInfo(0, 0x7ffffff0UL, &mi), CKR_MECHANISM_INVALID);
    assert_int_equal(t->f->C_GetMechanismInfo(3, CKM_AES_KEY_GEN, &mi), CKR_SLOT_ID_INVALID);
}

static CK_STATE state_of(p11t *t, CK_SESSION_HANDLE s)
{
    CK_SESSION_INFO si;
    assert_int_equal(t->f->C_GetSessionInfo(s, &si), CKR_OK);
    return si.state;
}

static void sessions_and_login(void **state)
{
    p11t *t = *state;
    CK_SESSION_HANDLE ro, rw, x;
    CK_UTF8CHAR *pin = (CK_UTF8CHAR *)t->apikey;
    CK_ULONG plen = strlen(t->apikey);

    assert_int_equal(t->f->C_OpenSession(0, 0, NULL, NULL, &x), CKR_SESSION_PARALLEL_NOT_SUPPORTED);
    ro = p11t_session(t, 0, 0);
    rw = p11t_session(t, 0, 1);
    assert_int_equal(state_of(t, ro), CKS_RO_PUBLIC_SESSION);
    assert_int_equal(state_of(t, rw), CKS_RW_PUBLIC_SESSION);
    CK_TOKEN_INFO ti;
    assert_int_equal(t->f->C_GetTokenInfo(0, &ti), CKR_OK);
    assert_int_equal(ti.ulSessionCount, 2);
    assert_int_equal(ti.ulRwSessionCount, 1);

    /* SO cannot log in while a read-only session exists. */
    assert_int_equal(t->f->C_Login(rw, CKU_SO, pin, plen), CKR_SESSION_READ_ONLY_EXISTS);
    assert_int_equal(t->f->C_Login(ro, CKU_USER, (CK_UTF8CHAR *)"g11k_AAAAAAAAAAAAAAAA.nope", 26),
                     CKR_PIN_INCORRECT);
    assert_int_equal(t->f->C_Logout(ro), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(t->f->C_Login(ro, CKU_USER, pin, plen), CKR_OK);
    assert_int_equal(state_of(t, ro), CKS_RO_USER_FUNCTIONS);
    assert_int_equal(state_of(t, rw), CKS_RW_USER_FUNCTIONS); /* login is per slot */
    assert_int_equal(t->f->C_Login(rw, CKU_USER, pin, plen), CKR_USER_ALREADY_LOGGED_IN);
    assert_int_equal(t->f->C_Login(rw, CKU_SO, pin, plen), CKR_SESSION_READ_ONLY_EXISTS);
    assert_int_equal(t->f->C_Login(rw, 7, pin, plen), CKR_USER_TYPE_INVALID);
    /* Calls carry the user's token now. */
    CK_BYTE r[16];
    assert_int_equal(t->f->C_GenerateRandom(rw, r, sizeof(r)), CKR_OK);
    assert_int_equal(t->f->C_Logout(rw), CKR_OK);
    assert_int_equal(state_of(t, ro), CKS_RO_PUBLIC_SESSION);

    /* SO: only with read-write sessions; then no read-only one may open. */
    assert_int_equal(t->f->C_CloseSession(ro), CKR_OK);
    assert_int_equal(t->f->C_Login(rw, CKU_SO, pin, plen), CKR_OK);
    assert_int_equal(state_of(t, rw), CKS_RW_SO_FUNCTIONS);
    assert_int_equal(t->f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &x),
                     CKR_SESSION_READ_WRITE_SO_EXISTS);
    assert_int_equal(t->f->C_Login(rw, CKU_USER, pin, plen), CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
    /* Closing the last session logs out. */
    assert_int_equal(t->f->C_CloseSession(rw), CKR_OK);
    assert_int_equal(t->f->C_CloseSession(rw), CKR_SESSION_HANDLE_INVALID);
    rw = p11t_session(t, 0, 1);
    assert_int_equal(state_of(t, rw), CKS_RW_PUBLIC_SESSION);
    x = p11t_session(t, 0, 0);
    CK_SESSION_HANDLE other = p11t_session(t, 5, 0);
    assert_int_equal(t->f->C_CloseAllSessions(0), CKR_OK);
    assert_int_equal(t->f->C_GetSessionInfo(x, &(CK_SESSION_INFO){0}), CKR_SESSION_HANDLE_INVALID);
    assert_int_equal(state_of(t, other), CKS_RO_PUBLIC_SESSION);
    assert_int_equal(t->f->C_CloseSession(other), CKR_OK);
}

static void random_bytes(void **state)
{
    p11t *t = *state;
    CK_SESSION_HANDLE s = p11t_session(t, 5, 0);
    CK_BYTE a[32], b[32];
    assert_int_equal(t->f->C_GenerateRandom(s, a, sizeof(a)), CKR_OK);
    assert_int_equal(t->f->C_GenerateRandom(s, b, sizeof(b)), CKR_OK);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(t->f->C_GenerateRandom(s, a, 0), CKR_OK);
    assert_int_equal(t->f->C_GenerateRandom(s, NULL, 4), CKR_ARGUMENTS_BAD);
    assert_int_equal(t->f->C_GenerateRandom(0x7777, a, 4), CKR_SESSION_HANDLE_INVALID);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

/* ---- many threads, many sessions ------------------------------------------ */

typedef struct {
    p11t *t;
    int failures;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *w = p;
    CK_SESSION_HANDLE s;
    if (w->t->f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK) {
        w->failures++;
        return NULL;
    }
    for (int i = 0; i < 20; i++) {
        CK_BYTE r[8], d[32];
        CK_ULONG dl = sizeof(d);
        CK_MECHANISM m = {CKM_SHA256, NULL, 0};
        if (w->t->f->C_GenerateRandom(s, r, sizeof(r)) != CKR_OK ||
            w->t->f->C_DigestInit(s, &m) != CKR_OK || w->t->f->C_Digest(s, r, 8, d, &dl) != CKR_OK)
            w->failures++;
    }
    if (w->t->f->C_CloseSession(s) != CKR_OK)
        w->failures++;
    return NULL;
}

static void threads(void **state)
{
    p11t *t = *state;
    pthread_t th[8];
    worker_arg w[8];
    for (int i = 0; i < 8; i++) {
        w[i].t = t;
        w[i].failures = 0;
        assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
}

/* ---- fork ------------------------------------------------------------------ */

static void fork_child_reinitializes(void **state)
{
    p11t *t = *state;
    CK_SESSION_HANDLE s = p11t_session(t, 0, 0);
    CK_BYTE r[16];
    assert_int_equal(t->f->C_GenerateRandom(s, r, sizeof(r)), CKR_OK);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int code = 0;
        CK_INFO info;
        if (t->f->C_GetInfo(&info) != CKR_CRYPTOKI_NOT_INITIALIZED)
            code |= 1;
        if (t->f->C_GenerateRandom(s, r, sizeof(r)) != CKR_CRYPTOKI_NOT_INITIALIZED)
            code |= 2;
        if (t->f->C_Initialize(NULL) != CKR_OK)
            code |= 4;
        CK_SESSION_HANDLE cs;
        if (t->f->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &cs) != CKR_OK ||
            t->f->C_GenerateRandom(cs, r, sizeof(r)) != CKR_OK)
            code |= 8;
        if (t->f->C_Finalize(NULL) != CKR_OK)
            code |= 16;
        _exit(code);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* The parent goes on as before. */
    assert_int_equal(t->f->C_GenerateRandom(s, r, sizeof(r)), CKR_OK);
    assert_int_equal(t->f->C_CloseSession(s), CKR_OK);
}

/* ---- load / unload cycles and application locking -------------------------- */

static int mutex_calls;

static CK_RV app_create(void **m)
{
    *m = calloc(1, sizeof(pthread_mutex_t));
    if (!*m)
        return CKR_HOST_MEMORY;
    pthread_mutex_init(*m, NULL);
    __atomic_add_fetch(&mutex_calls, 1, __ATOMIC_RELAXED);
    return CKR_OK;
}

static CK_RV app_destroy(void *m)
{
    pthread_mutex_destroy(m);
    free(m);
    return CKR_OK;
}

static CK_RV app_lock(void *m)
{
    __atomic_add_fetch(&mutex_calls, 1, __ATOMIC_RELAXED);
    return pthread_mutex_lock(m) ? CKR_GENERAL_ERROR : CKR_OK;
}

static CK_RV app_unlock(void *m)
{
    return pthread_mutex_unlock(m) ? CKR_GENERAL_ERROR : CKR_OK;
}

/* Before C_Initialize (and after C_Finalize) every function but
 * C_Initialize and the list getters answers CKR_CRYPTOKI_NOT_INITIALIZED,
 * the ones grep11 does not back included (pkcs11test checks this). The
 * arguments are well formed, so no other check can come first. */
static void all_refuse_uninitialized(p11t *t)
{
    P11_C_GetInterface get;
    *(void **)&get = dlsym(t->dl, "C_GetInterface");
    P11_CK_INTERFACE *iface = NULL;
    CK_VERSION v30 = {3, 0};
    assert_int_equal(get((CK_UTF8CHAR *)"PKCS 11", &v30, &iface, 0), CKR_OK);
    P11_FUNCTION_LIST_3_0 *f = iface->pFunctionList;
    CK_INFO info;
    CK_SLOT_ID slots[4], slot = 0;
    CK_ULONG n = 4, len = 16;
    CK_SLOT_INFO si;
    CK_TOKEN_INFO ti;
    CK_MECHANISM_TYPE mt[4];
    CK_MECHANISM_INFO mi;
    CK_SESSION_HANDLE s = 1;
    CK_SESSION_INFO ssi;
    CK_OBJECT_HANDLE o = 1, o2 = 0;
    CK_BYTE buf[64], out[64];
    CK_UTF8CHAR pin[] = "123456", label[32] = "x";
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE a = {CKA_TOKEN, &yes, 1};
    CK_MECHANISM m = {CKM_AES_ECB, NULL, 0};
    memset(buf, 0, sizeof(buf));
    const CK_RV want = CKR_CRYPTOKI_NOT_INITIALIZED;
#define NI(call) assert_int_equal((call), want)
    NI(f->C_Finalize(NULL));
    NI(f->C_GetInfo(&info));
    NI(f->C_GetSlotList(CK_FALSE, slots, &n));
    NI(f->C_GetSlotInfo(slot, &si));
    NI(f->C_GetTokenInfo(slot, &ti));
    n = 4;
    NI(f->C_GetMechanismList(slot, mt, &n));
    NI(f->C_GetMechanismInfo(slot, CKM_AES_ECB, &mi));
    NI(f->C_InitToken(slot, pin, 6, label));
    NI(f->C_InitPIN(s, pin, 6));
    NI(f->C_SetPIN(s, pin, 6, pin, 6));
    NI(f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s));
    NI(f->C_CloseSession(s));
    NI(f->C_CloseAllSessions(slot));
    NI(f->C_GetSessionInfo(s, &ssi));
    len = sizeof(out);
    NI(f->C_GetOperationState(s, out, &len));
    NI(f->C_SetOperationState(s, buf, 16, 0, 0));
    NI(f->C_Login(s, CKU_USER, pin, 6));
    NI(f->C_Logout(s));
    NI(f->C_CreateObject(s, &a, 1, &o2));
    NI(f->C_CopyObject(s, o, &a, 1, &o2));
    NI(f->C_DestroyObject(s, o));
    NI(f->C_GetObjectSize(s, o, &len));
    NI(f->C_GetAttributeValue(s, o, &a, 1));
    NI(f->C_SetAttributeValue(s, o, &a, 1));
    NI(f->C_FindObjectsInit(s, &a, 1));
    NI(f->C_FindObjects(s, &o2, 1, &n));
    NI(f->C_FindObjectsFinal(s));
    len = sizeof(out);
    NI(f->C_EncryptInit(s, &m, o));
    NI(f->C_Encrypt(s, buf, 16, out, &len));
    NI(f->C_EncryptUpdate(s, buf, 16, out, &len));
    NI(f->C_EncryptFinal(s, out, &len));
    NI(f->C_DecryptInit(s, &m, o));
    NI(f->C_Decrypt(s, buf, 16, out, &len));
    NI(f->C_DecryptUpdate(s, buf, 16, out, &len));
    NI(f->C_DecryptFinal(s, out, &len));
    NI(f->C_DigestInit(s, &m));
    NI(f->C_Digest(s, buf, 16, out, &len));
    NI(f->C_DigestUpdate(s, buf, 16));
    NI(f->C_DigestKey(s, o));
    NI(f->C_DigestFinal(s, out, &len));
    NI(f->C_SignInit(s, &m, o));
    NI(f->C_Sign(s, buf, 16, out, &len));
    NI(f->C_SignUpdate(s, buf, 16));
    NI(f->C_SignFinal(s, out, &len));
    NI(f->C_SignRecoverInit(s, &m, o));
    NI(f->C_SignRecover(s, buf, 16, out, &len));
    NI(f->C_VerifyInit(s, &m, o));
    NI(f->C_Verify(s, buf, 16, buf, 16));
    NI(f->C_VerifyUpdate(s, buf, 16));
    NI(f->C_VerifyFinal(s, buf, 16));
    NI(f->C_VerifyRecoverInit(s, &m, o));
    NI(f->C_VerifyRecover(s, buf, 16, out, &len));
    NI(f->C_DigestEncryptUpdate(s, buf, 16, out, &len));
    NI(f->C_DecryptDigestUpdate(s, buf, 16, out, &len));
    NI(f->C_SignEncryptUpdate(s, buf, 16, out, &len));
    NI(f->C_DecryptVerifyUpdate(s, buf, 16, out, &len));
    NI(f->C_GenerateKey(s, &m, &a, 1, &o2));
    NI(f->C_GenerateKeyPair(s, &m, &a, 1, &a, 1, &o2, &o2));
    NI(f->C_WrapKey(s, &m, o, o, out, &len));
    NI(f->C_UnwrapKey(s, &m, o, buf, 16, &a, 1, &o2));
    NI(f->C_DeriveKey(s, &m, o, &a, 1, &o2));
    NI(f->C_SeedRandom(s, buf, 16));
    NI(f->C_GenerateRandom(s, out, 16));
    NI(f->C_GetFunctionStatus(s));
    NI(f->C_CancelFunction(s));
    NI(f->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL));
    NI(f->C_LoginUser(s, CKU_USER, pin, 6, label, 1));
    NI(f->C_SessionCancel(s, 0));
    NI(f->C_MessageEncryptInit(s, &m, o));
    NI(f->C_EncryptMessage(s, buf, 16, buf, 0, buf, 16, out, &len));
    NI(f->C_EncryptMessageBegin(s, buf, 16, buf, 0));
    NI(f->C_EncryptMessageNext(s, buf, 16, buf, 16, out, &len, 0));
    NI(f->C_MessageEncryptFinal(s));
    NI(f->C_MessageDecryptInit(s, &m, o));
    NI(f->C_DecryptMessage(s, buf, 16, buf, 0, buf, 16, out, &len));
    NI(f->C_DecryptMessageBegin(s, buf, 16, buf, 0));
    NI(f->C_DecryptMessageNext(s, buf, 16, buf, 16, out, &len, 0));
    NI(f->C_MessageDecryptFinal(s));
    NI(f->C_MessageSignInit(s, &m, o));
    NI(f->C_SignMessage(s, buf, 16, buf, 16, out, &len));
    NI(f->C_SignMessageBegin(s, buf, 16));
    NI(f->C_SignMessageNext(s, buf, 16, buf, 16, out, &len));
    NI(f->C_MessageSignFinal(s));
    NI(f->C_MessageVerifyInit(s, &m, o));
    NI(f->C_VerifyMessage(s, buf, 16, buf, 16, buf, 16));
    NI(f->C_VerifyMessageBegin(s, buf, 16));
    NI(f->C_VerifyMessageNext(s, buf, 16, buf, 16, buf, 16));
    NI(f->C_MessageVerifyFinal(s));
#undef NI
}

static void load_cycles_and_app_locking(void **state)
{
    p11t *t = *state;
    p11t other;
    memset(&other, 0, sizeof(other));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(p11t_load(&other, 0), 0);
        CK_C_INITIALIZE_ARGS args = {app_create, app_destroy, app_lock, app_unlock, 0, NULL};
        CK_RV rv = other.f->C_Initialize(i == 0 ? (void *)&args : NULL);
        /* The same module is already initialized through t (dlopen shares it). */
        assert_int_equal(rv, CKR_CRYPTOKI_ALREADY_INITIALIZED);
        p11t_unload(&other);
    }
    /* Finalize and initialize again with the application's mutexes. */
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    assert_int_equal(t->f->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
    all_refuse_uninitialized(t);
    CK_INFO info;
    assert_int_equal(t->f->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
    CK_C_INITIALIZE_ARGS bad = {app_create, NULL, app_lock, app_unlock, 0, NULL};
    assert_int_equal(t->f->C_Initialize(&bad), CKR_ARGUMENTS_BAD);
    CK_C_INITIALIZE_ARGS args = {app_create, app_destroy, app_lock, app_unlock, 0, NULL};
    mutex_calls = 0;
    assert_int_equal(t->f->C_Initialize(&args), CKR_OK);
    CK_SESSION_HANDLE s = p11t_session(t, 0, 0);
    CK_BYTE r[8];
    assert_int_equal(t->f->C_GenerateRandom(s, r, sizeof(r)), CKR_OK);
    assert_true(mutex_calls > 2);
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    /* GnuTLS always passes CKF_LIBRARY_CANT_CREATE_OS_THREADS: accepted
     * (gRPC's threads never run application code). */
    CK_C_INITIALIZE_ARGS nothreads = {
        NULL, NULL, NULL, NULL, CKF_LIBRARY_CANT_CREATE_OS_THREADS | CKF_OS_LOCKING_OK, NULL};
    assert_int_equal(t->f->C_Initialize(&nothreads), CKR_OK);
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    /* Full cycles: unload, load, initialize, use, finalize. */
    p11t_unload(t);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(p11t_load(t, 1), 0);
        s = p11t_session(t, 0, 0);
        assert_int_equal(t->f->C_GenerateRandom(s, r, sizeof(r)), CKR_OK);
        assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
        p11t_unload(t);
    }
    assert_int_equal(p11t_load(t, 1), 0); /* for the teardown */
}

/* ---- the server is gone ----------------------------------------------------- */

static void server_unreachable(void **state)
{
    p11t *t = *state;
    char addr[64];
    struct timespec a, b;
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", test_free_port());
    assert_int_equal(p11t_config(t, addr, "      timeout: 1500\n"), 0);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_OK); /* connections are lazy */
    CK_SESSION_HANDLE s = p11t_session(t, 0, 0);
    CK_BYTE r[8];
    clock_gettime(CLOCK_MONOTONIC, &a);
    assert_int_equal(t->f->C_GenerateRandom(s, r, sizeof(r)), CKR_DEVICE_ERROR);
    CK_ULONG n;
    assert_int_equal(t->f->C_GetMechanismList(0, NULL, &n), CKR_DEVICE_ERROR);
    clock_gettime(CLOCK_MONOTONIC, &b);
    assert_true(b.tv_sec - a.tv_sec < 10);
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    /* Back to the real server for the rest. */
    assert_int_equal(p11t_config(t, t->srv.addr, NULL), 0);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_OK);
}

static void bad_configuration_fails_initialize(void **state)
{
    p11t *t = *state;
    char path[400];
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    snprintf(path, sizeof(path), "%s/bad.yaml", t->srv.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("tokens:\n  0:\n    grep11connection: {address: 127.0.0.1}\n", f);
    fclose(f);
    setenv("GREP11_CLIENT_CONFIG", path, 1);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_ARGUMENTS_BAD);
    setenv("GREP11_CLIENT_CONFIG", "/nonexistent/grep11client.yaml", 1);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_GENERAL_ERROR);
    /* A CA file that is not there. */
    f = fopen(path, "w");
    fprintf(f, "tokens:\n  0:\n    grep11connection:\n      address: 127.0.0.1\n      port: 1\n"
               "      tls: {cacert: /nonexistent/ca.pem}\n");
    fclose(f);
    setenv("GREP11_CLIENT_CONFIG", path, 1);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_ARGUMENTS_BAD);
    setenv("GREP11_CLIENT_CONFIG", t->cfg, 1);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_OK);
}

/* Without an anonymous key nothing works before login: the token says so
 * and calls fail with a standard code, not the server's vendor code. */
static void login_required_without_anonymous_key(void **state)
{
    p11t *t = *state;
    char path[400];
    const char *colon = strrchr(t->srv.addr, ':');
    snprintf(path, sizeof(path), "%s/nologin.yaml", t->srv.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "tokens:\n  0:\n    grep11connection: {address: 127.0.0.1, port: %s, tls: {cacert: "
            "\"%s\"}}\n    users: {1: {name: user, iamauth: {enabled: true}}}\n"
            "logging: {loglevel: error}\n",
            colon + 1, t->srv.ca);
    fclose(f);
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    setenv("GREP11_CLIENT_CONFIG", path, 1);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_OK);
    CK_TOKEN_INFO ti;
    assert_int_equal(t->f->C_GetTokenInfo(0, &ti), CKR_OK);
    assert_true(ti.flags & CKF_LOGIN_REQUIRED);
    CK_SESSION_HANDLE s = p11t_session(t, 0, 0);
    CK_BYTE r[8];
    assert_int_equal(t->f->C_GenerateRandom(s, r, sizeof(r)), CKR_USER_NOT_LOGGED_IN);
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)t->apikey, strlen(t->apikey)),
                     CKR_OK);
    assert_int_equal(t->f->C_GenerateRandom(s, r, sizeof(r)), CKR_OK);
    /* The SO is not configured here. */
    assert_int_equal(t->f->C_Logout(s), CKR_OK);

    /* The PIN flags follow the server's limit on failed logins: a wrong
     * PIN sets COUNT_LOW, a good login clears it, and once the server
     * refuses attempts C_Login says CKR_PIN_LOCKED and the token
     * CKF_USER_PIN_LOCKED, until the server lets the client try again. */
    CK_UTF8CHAR wrong[] = "not-the-api-key";
    assert_int_equal(t->f->C_Login(s, CKU_USER, wrong, sizeof(wrong) - 1), CKR_PIN_INCORRECT);
    assert_int_equal(t->f->C_GetTokenInfo(0, &ti), CKR_OK);
    assert_true(ti.flags & CKF_USER_PIN_COUNT_LOW);
    assert_false(ti.flags & CKF_USER_PIN_LOCKED);
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)t->apikey, strlen(t->apikey)),
                     CKR_OK);
    assert_int_equal(t->f->C_GetTokenInfo(0, &ti), CKR_OK);
    assert_false(ti.flags & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_LOCKED));
    assert_int_equal(t->f->C_Logout(s), CKR_OK);
    CK_RV lrv = CKR_OK;
    for (int i = 0; i < 20 && lrv != CKR_PIN_LOCKED; i++)
        lrv = t->f->C_Login(s, CKU_USER, wrong, sizeof(wrong) - 1);
    assert_int_equal(lrv, CKR_PIN_LOCKED);
    assert_int_equal(t->f->C_GetTokenInfo(0, &ti), CKR_OK);
    assert_true(ti.flags & CKF_USER_PIN_LOCKED);
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)t->apikey, strlen(t->apikey)),
                     CKR_PIN_LOCKED); /* the server refuses even the right one for now */
    usleep(6500 * 1000);              /* one attempt back every 6 s */
    assert_int_equal(t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)t->apikey, strlen(t->apikey)),
                     CKR_OK);
    assert_int_equal(t->f->C_GetTokenInfo(0, &ti), CKR_OK);
    assert_false(ti.flags & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_LOCKED));
    assert_int_equal(t->f->C_Logout(s), CKR_OK);
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    setenv("GREP11_CLIENT_CONFIG", t->cfg, 1);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_OK);
}

/* Bearer tokens that expire are renewed inside the call that needs one. */
static void expired_tokens_are_refreshed(void **state)
{
    p11t *t = *state;
    p11t short_lived;
    memset(&short_lived, 0, sizeof(short_lived));
    assert_int_equal(p11t_server(&short_lived, "auth:\n  token_ttl: 2\n"), 0);
    assert_int_equal(p11t_config(&short_lived, short_lived.srv.addr, NULL), 0);
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_OK);
    CK_SESSION_HANDLE s = p11t_session(t, 0, 0);
    CK_BYTE r[8];
    assert_int_equal(t->f->C_GenerateRandom(s, r, sizeof(r)), CKR_OK);
    assert_int_equal(
        t->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)short_lived.apikey, strlen(short_lived.apikey)),
        CKR_OK);
    sleep(3); /* both tokens (anonymous and user) have expired */
    assert_int_equal(t->f->C_GenerateRandom(s, r, sizeof(r)), CKR_OK);
    assert_int_equal(t->f->C_Logout(s), CKR_OK);
    assert_int_equal(t->f->C_GenerateRandom(s, r, sizeof(r)), CKR_OK);
    assert_int_equal(t->f->C_Finalize(NULL), CKR_OK);
    assert_int_equal(test_server_stop(&short_lived.srv), 0);
    setenv("GREP11_CLIENT_CONFIG", t->cfg, 1);
    assert_int_equal(t->f->C_Initialize(NULL), CKR_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(info_and_interfaces),
        cmocka_unit_test(slots_and_tokens),
        cmocka_unit_test(mechanisms),
        cmocka_unit_test(sessions_and_login),
        cmocka_unit_test(random_bytes),
        cmocka_unit_test(threads),
        cmocka_unit_test(fork_child_reinitializes),
        cmocka_unit_test(load_cycles_and_app_locking),
        cmocka_unit_test(server_unreachable),
        cmocka_unit_test(bad_configuration_fails_initialize),
        cmocka_unit_test(expired_tokens_are_refreshed),
        cmocka_unit_test(login_required_without_anonymous_key),
    };
    return cmocka_run_group_tests_name("pkcs11_basic", tests, setup, p11t_teardown);
}
