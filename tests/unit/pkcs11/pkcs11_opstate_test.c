/* C_GetOperationState / C_SetOperationState through pkcs11-grep11.so
 * against a real grep11d: a digest and an HMAC saved half-way and finished
 * in another session equal the one-shot results (OpenSSL), a deferred Init
 * is saved without server state and needs its key back (CKR_KEY_NEEDED /
 * CKR_KEY_CHANGED / CKR_KEY_NOT_NEEDED), garbage is
 * CKR_SAVED_STATE_INVALID. */
#include <dlfcn.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "p11test.h"

typedef struct {
    p11t t;
    CK_SESSION_HANDLE s;
} fx;

static const CK_BYTE msg[] = "The state of a multi-part operation lives in the server's sealed "
                             "state blob; the module only carries it between sessions.";
#define PART1 37

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    *state = f;
    if (!f || p11t_start(&f->t) != 0)
        return -1;
    f->s = p11t_session(&f->t, 0, 0);
    return 0;
}

/* C_SessionCancel (3.0; not in the 2.40 list the harness holds). */
static CK_RV cancel(fx *f, CK_SESSION_HANDLE s, CK_FLAGS flags)
{
    CK_RV (*fn)(CK_SESSION_HANDLE, CK_FLAGS);
    *(void **)&fn = dlsym(f->t.dl, "C_SessionCancel");
    assert_non_null(fn);
    return fn(s, flags);
}

/* Saves the session's state into a fresh buffer (checking the buffer
 * protocol on the way). */
static CK_BYTE *save(fx *f, CK_SESSION_HANDLE s, CK_ULONG *len)
{
    CK_ULONG n = 0;
    assert_int_equal(f->t.f->C_GetOperationState(s, NULL, &n), CKR_OK);
    assert_true(n > 6);
    CK_BYTE *buf = malloc(n);
    assert_non_null(buf);
    CK_ULONG small = n - 1;
    assert_int_equal(f->t.f->C_GetOperationState(s, buf, &small), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(small, n);
    *len = n + 10;
    assert_int_equal(f->t.f->C_GetOperationState(s, buf, len), CKR_OK);
    assert_int_equal(*len, n);
    return buf;
}

static void digest_moves_between_sessions(void **state)
{
    fx *f = *state;
    CK_MECHANISM sha = {CKM_SHA256, NULL, 0};
    CK_BYTE want[32], got[32], got2[32];
    CK_ULONG len, glen = sizeof(got);
    SHA256(msg, sizeof(msg), want);

    CK_ULONG n = 0;
    assert_int_equal(f->t.f->C_GetOperationState(f->s, NULL, &n), CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(f->t.f->C_DigestInit(f->s, &sha), CKR_OK);
    assert_int_equal(f->t.f->C_DigestUpdate(f->s, (CK_BYTE *)msg, PART1), CKR_OK);
    CK_BYTE *st = save(f, f->s, &len);

    CK_SESSION_HANDLE s2 = p11t_session(&f->t, 0, 0);
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, len, 0, 0), CKR_OK);
    assert_int_equal(f->t.f->C_DigestUpdate(s2, (CK_BYTE *)msg + PART1, sizeof(msg) - PART1),
                     CKR_OK);
    assert_int_equal(f->t.f->C_DigestFinal(s2, got, &glen), CKR_OK);
    assert_int_equal(glen, 32);
    assert_memory_equal(got, want, 32);

    /* The original goes on independently, to the same digest. */
    assert_int_equal(f->t.f->C_DigestUpdate(f->s, (CK_BYTE *)msg + PART1, sizeof(msg) - PART1),
                     CKR_OK);
    glen = sizeof(got2);
    assert_int_equal(f->t.f->C_DigestFinal(f->s, got2, &glen), CKR_OK);
    assert_memory_equal(got2, want, 32);

    /* The saved state can be restored again (into the same session too),
     * and a key offered where none is needed is refused. */
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, len, 0, 12345), CKR_KEY_NOT_NEEDED);
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, len, 12345, 0), CKR_KEY_NOT_NEEDED);
    assert_int_equal(f->t.f->C_SetOperationState(f->s, st, len, 0, 0), CKR_OK);
    assert_int_equal(f->t.f->C_DigestUpdate(f->s, (CK_BYTE *)msg + PART1, sizeof(msg) - PART1),
                     CKR_OK);
    glen = sizeof(got2);
    assert_int_equal(f->t.f->C_DigestFinal(f->s, got2, &glen), CKR_OK);
    assert_memory_equal(got2, want, 32);

    /* A deferred digest (Init only) saves too, and needs no key. */
    CK_BYTE *st2;
    CK_ULONG len2;
    assert_int_equal(f->t.f->C_DigestInit(f->s, &sha), CKR_OK);
    st2 = save(f, f->s, &len2);
    assert_int_equal(f->t.f->C_SetOperationState(s2, st2, len2, 0, 0), CKR_OK);
    glen = sizeof(got2);
    assert_int_equal(f->t.f->C_Digest(s2, (CK_BYTE *)msg, sizeof(msg), got2, &glen), CKR_OK);
    assert_memory_equal(got2, want, 32);
    assert_int_equal(cancel(f, f->s, CKF_DIGEST), CKR_OK);
    free(st2);
    free(st);
    assert_int_equal(f->t.f->C_CloseSession(s2), CKR_OK);
}

static void hmac_moves_between_sessions(void **state)
{
    fx *f = *state;
    CK_MECHANISM hmac = {CKM_SHA256_HMAC, NULL, 0};
    CK_BYTE key[32], want[32], got[32];
    CK_ULONG klen = sizeof(key), glen = sizeof(got), len;
    unsigned int wlen = 0;
    CK_OBJECT_HANDLE k =
        p11t_secret_key(&f->t, f->s, CKM_GENERIC_SECRET_KEY_GEN, CKK_GENERIC_SECRET, 32, 1);
    CK_OBJECT_HANDLE other =
        p11t_secret_key(&f->t, f->s, CKM_GENERIC_SECRET_KEY_GEN, CKK_GENERIC_SECRET, 32, 1);
    p11t_key_value(&f->t, f->s, k, key, &klen);
    assert_non_null(HMAC(EVP_sha256(), key, (int)klen, msg, sizeof(msg), want, &wlen));
    assert_int_equal(wlen, 32);

    /* Started: the key is sealed inside the server's state. */
    assert_int_equal(f->t.f->C_SignInit(f->s, &hmac, k), CKR_OK);
    assert_int_equal(f->t.f->C_SignUpdate(f->s, (CK_BYTE *)msg, PART1), CKR_OK);
    CK_BYTE *st = save(f, f->s, &len);
    assert_int_equal(f->t.f->C_SignFinal(f->s, got, &glen), CKR_OK); /* the original ends */
    CK_SESSION_HANDLE s2 = p11t_session(&f->t, 0, 0);
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, len, 0, k), CKR_KEY_NOT_NEEDED);
    assert_int_equal(f->t.f->C_SignUpdate(s2, (CK_BYTE *)msg, 1), CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, len, 0, 0), CKR_OK);
    assert_int_equal(f->t.f->C_SignUpdate(s2, (CK_BYTE *)msg + PART1, sizeof(msg) - PART1), CKR_OK);
    glen = sizeof(got);
    assert_int_equal(f->t.f->C_SignFinal(s2, got, &glen), CKR_OK);
    assert_int_equal(glen, 32);
    assert_memory_equal(got, want, 32);
    free(st);

    /* Deferred (Init only): mechanism + a hash of the key; the key comes back
     * as hAuthenticationKey. */
    assert_int_equal(f->t.f->C_SignInit(f->s, &hmac, k), CKR_OK);
    st = save(f, f->s, &len);
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, len, 0, 0), CKR_KEY_NEEDED);
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, len, k, 0), CKR_KEY_NOT_NEEDED);
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, len, 0, other), CKR_KEY_CHANGED);
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, len, 0, 0xdead), CKR_KEY_HANDLE_INVALID);
    assert_int_equal(f->t.f->C_SignUpdate(s2, (CK_BYTE *)msg, 1), CKR_OPERATION_NOT_INITIALIZED);
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, len, 0, k), CKR_OK);
    glen = sizeof(got);
    assert_int_equal(f->t.f->C_Sign(s2, (CK_BYTE *)msg, sizeof(msg), got, &glen), CKR_OK);
    assert_memory_equal(got, want, 32);
    /* The original is still initialized and signs the same. */
    glen = sizeof(got);
    assert_int_equal(f->t.f->C_Sign(f->s, (CK_BYTE *)msg, sizeof(msg), got, &glen), CKR_OK);
    assert_memory_equal(got, want, 32);
    free(st);

    /* Two operations at once: a digest under way and a deferred HMAC. */
    CK_MECHANISM sha = {CKM_SHA256, NULL, 0};
    CK_BYTE dwant[32];
    SHA256(msg, sizeof(msg), dwant);
    assert_int_equal(f->t.f->C_DigestInit(f->s, &sha), CKR_OK);
    assert_int_equal(f->t.f->C_DigestUpdate(f->s, (CK_BYTE *)msg, PART1), CKR_OK);
    assert_int_equal(f->t.f->C_SignInit(f->s, &hmac, k), CKR_OK);
    st = save(f, f->s, &len);
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, len, 0, k), CKR_OK);
    assert_int_equal(f->t.f->C_DigestUpdate(s2, (CK_BYTE *)msg + PART1, sizeof(msg) - PART1),
                     CKR_OK);
    glen = sizeof(got);
    assert_int_equal(f->t.f->C_DigestFinal(s2, got, &glen), CKR_OK);
    assert_memory_equal(got, dwant, 32);
    glen = sizeof(got);
    assert_int_equal(f->t.f->C_Sign(s2, (CK_BYTE *)msg, sizeof(msg), got, &glen), CKR_OK);
    assert_memory_equal(got, want, 32);
    free(st);
    assert_int_equal(cancel(f, f->s, CKF_DIGEST | CKF_SIGN), CKR_OK);
    assert_int_equal(f->t.f->C_CloseSession(s2), CKR_OK);
}

static void encrypt_moves_between_sessions(void **state)
{
    fx *f = *state;
    CK_BYTE iv[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    CK_MECHANISM cbc = {CKM_AES_CBC_PAD, iv, sizeof(iv)};
    CK_BYTE key[16], want[256], out[256];
    CK_ULONG klen = sizeof(key), len, olen, total = 0;
    int wlen = 0, flen = 0;
    CK_OBJECT_HANDLE k = p11t_secret_key(&f->t, f->s, CKM_AES_KEY_GEN, CKK_AES, 16, 1);
    p11t_key_value(&f->t, f->s, k, key, &klen);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_128_cbc(), NULL, key, iv), 1);
    assert_int_equal(EVP_EncryptUpdate(c, want, &wlen, msg, sizeof(msg)), 1);
    assert_int_equal(EVP_EncryptFinal_ex(c, want + wlen, &flen), 1);
    EVP_CIPHER_CTX_free(c);

    /* Deferred: the key comes back as hEncryptionKey, the IV from the state. */
    assert_int_equal(f->t.f->C_EncryptInit(f->s, &cbc, k), CKR_OK);
    CK_BYTE *st = save(f, f->s, &len);
    assert_int_equal(cancel(f, f->s, CKF_ENCRYPT), CKR_OK);
    CK_SESSION_HANDLE s2 = p11t_session(&f->t, 0, 0);
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, len, 0, 0), CKR_KEY_NEEDED);
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, len, 0, k), CKR_KEY_NOT_NEEDED);
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, len, k, 0), CKR_OK);
    free(st);
    olen = sizeof(out);
    assert_int_equal(f->t.f->C_EncryptUpdate(s2, (CK_BYTE *)msg, PART1, out, &olen), CKR_OK);
    total = olen;
    /* Under way, with a result kept for a length query: the state saved is
     * the one before that call, which the restored session makes again. */
    olen = 0;
    assert_int_equal(
        f->t.f->C_EncryptUpdate(s2, (CK_BYTE *)msg + PART1, sizeof(msg) - PART1, NULL, &olen),
        CKR_OK);
    assert_true(olen > 0);
    st = save(f, s2, &len);
    CK_SESSION_HANDLE s3 = p11t_session(&f->t, 0, 0);
    assert_int_equal(f->t.f->C_SetOperationState(s3, st, len, 0, 0), CKR_OK);
    free(st);
    olen = sizeof(out) - total;
    assert_int_equal(f->t.f->C_EncryptUpdate(s3, (CK_BYTE *)msg + PART1, sizeof(msg) - PART1,
                                             out + total, &olen),
                     CKR_OK);
    total += olen;
    olen = sizeof(out) - total;
    assert_int_equal(f->t.f->C_EncryptFinal(s3, out + total, &olen), CKR_OK);
    total += olen;
    assert_int_equal(total, (CK_ULONG)(wlen + flen));
    assert_memory_equal(out, want, total);
    assert_int_equal(f->t.f->C_CloseSession(s2), CKR_OK);
    assert_int_equal(f->t.f->C_CloseSession(s3), CKR_OK);
}

static void garbage_is_refused(void **state)
{
    fx *f = *state;
    CK_MECHANISM sha = {CKM_SHA256, NULL, 0};
    CK_BYTE junk[64], got[32];
    CK_ULONG len, glen = sizeof(got);
    memset(junk, 0x5a, sizeof(junk));
    assert_int_equal(f->t.f->C_SetOperationState(f->s, junk, sizeof(junk), 0, 0),
                     CKR_SAVED_STATE_INVALID);
    assert_int_equal(f->t.f->C_SetOperationState(f->s, NULL, 0, 0, 0), CKR_ARGUMENTS_BAD);

    assert_int_equal(f->t.f->C_DigestInit(f->s, &sha), CKR_OK);
    assert_int_equal(f->t.f->C_DigestUpdate(f->s, (CK_BYTE *)msg, PART1), CKR_OK);
    CK_BYTE *st = save(f, f->s, &len);
    CK_BYTE *longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, st, len);
    longer[len] = 0;
    CK_SESSION_HANDLE s2 = p11t_session(&f->t, 0, 0);
    for (CK_ULONG cut = 1; cut < len; cut += 7) /* every truncation */
        assert_int_equal(f->t.f->C_SetOperationState(s2, st, cut, 0, 0), CKR_SAVED_STATE_INVALID);
    assert_int_equal(f->t.f->C_SetOperationState(s2, longer, len + 1, 0, 0),
                     CKR_SAVED_STATE_INVALID);
    st[4] = 2; /* another version */
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, len, 0, 0), CKR_SAVED_STATE_INVALID);
    st[4] = 1;
    st[6] = 9; /* no such operation kind */
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, len, 0, 0), CKR_SAVED_STATE_INVALID);
    st[6] = 2;
    /* The sealed state blob itself: the module passes it on, the server
     * refuses it and the operation ends. */
    st[len - 20] ^= 0x40;
    assert_int_equal(f->t.f->C_SetOperationState(s2, st, len, 0, 0), CKR_OK);
    assert_int_not_equal(f->t.f->C_DigestFinal(s2, got, &glen), CKR_OK);
    assert_int_equal(f->t.f->C_DigestFinal(s2, got, &glen), CKR_OPERATION_NOT_INITIALIZED);
    /* A failed restore leaves the session as it was. */
    assert_int_equal(f->t.f->C_DigestInit(s2, &sha), CKR_OK);
    assert_int_equal(f->t.f->C_SetOperationState(s2, junk, sizeof(junk), 0, 0),
                     CKR_SAVED_STATE_INVALID);
    glen = sizeof(got);
    assert_int_equal(f->t.f->C_Digest(s2, (CK_BYTE *)"", 0, got, &glen), CKR_OK);
    free(st);
    free(longer);
    assert_int_equal(cancel(f, f->s, CKF_DIGEST), CKR_OK);
    assert_int_equal(f->t.f->C_CloseSession(s2), CKR_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(digest_moves_between_sessions),
        cmocka_unit_test(hmac_moves_between_sessions),
        cmocka_unit_test(encrypt_moves_between_sessions),
        cmocka_unit_test(garbage_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, p11t_teardown);
}
