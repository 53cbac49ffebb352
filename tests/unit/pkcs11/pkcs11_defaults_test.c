/* The module's attribute defaults (issue 18, item 2; IBM's PKCS #11
 * library): a key whose template does not say gets CKA_EXTRACTABLE,
 * CKA_DERIVE and CKA_WRAP_WITH_TRUSTED FALSE, CKA_MODIFIABLE TRUE,
 * CKA_TOKEN FALSE and CKA_PRIVATE as the login says, from every call that
 * makes a key. The wrap-then-decrypt attack (pkcs11test's TookanAttackA2)
 * on a sensitive key made with defaults finds nothing to wrap. And
 * CKA_GREP11_WKID: the master key a key's blob is sealed under. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "../../../src/pkcs11/p11_ck3.h"
#include "grep11/ck_ext.h"
#include "p11test.h"

typedef p11t_fx fx;

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static const CK_BYTE P256_OID[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static CK_OBJECT_CLASS secret = CKO_SECRET_KEY;
static CK_KEY_TYPE aes = CKK_AES, generic = CKK_GENERIC_SECRET;
static CK_ULONG len16 = 16, len32 = 32;

/* clang-format off */
#define A(type, ptr) {type, (void *)(ptr), sizeof(*(ptr))}
/* clang-format on */

static CK_OBJECT_HANDLE gen_key(fx *f, CK_MECHANISM_TYPE mech, CK_ATTRIBUTE *t, CK_ULONG n)
{
    CK_MECHANISM m = {mech, NULL, 0};
    CK_OBJECT_HANDLE k = CK_INVALID_HANDLE;
    assert_int_equal(f->t.f->C_GenerateKey(f->s, &m, t, n, &k), CKR_OK);
    return k;
}

static int get_bool(fx *f, CK_OBJECT_HANDLE k, CK_ATTRIBUTE_TYPE type)
{
    CK_BBOOL v = 0xff;
    CK_ATTRIBUTE a = {type, &v, sizeof(v)};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, k, &a, 1), CKR_OK);
    assert_int_equal(a.ulValueLen, sizeof(v));
    return v;
}

/* The defaults of a private or secret key; priv: CKA_PRIVATE expected. */
static void assert_defaults(fx *f, CK_OBJECT_HANDLE k, int priv)
{
    assert_int_equal(get_bool(f, k, CKA_EXTRACTABLE), CK_FALSE);
    assert_int_equal(get_bool(f, k, CKA_DERIVE), CK_FALSE);
    assert_int_equal(get_bool(f, k, CKA_WRAP_WITH_TRUSTED), CK_FALSE);
    assert_int_equal(get_bool(f, k, CKA_MODIFIABLE), CK_TRUE);
    assert_int_equal(get_bool(f, k, CKA_TOKEN), CK_FALSE);
    assert_int_equal(get_bool(f, k, CKA_PRIVATE), priv ? CK_TRUE : CK_FALSE);
}

static void ec_pair(fx *f, CK_ATTRIBUTE *pt, CK_ULONG npt, CK_ATTRIBUTE *vt, CK_ULONG nvt,
                    CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    assert_int_equal(f->t.f->C_GenerateKeyPair(f->s, &gen, pt, npt, vt, nvt, pub, priv), CKR_OK);
}

/* TookanAttackA2: a sensitive key made with default attributes, wrapped
 * under a key that also decrypts, and the wrapped bytes decrypted, would
 * give the sensitive key's value. The wrap is refused. */
static void wrap_then_decrypt_refused(void **state)
{
    fx *f = *state;
    CK_ATTRIBUTE wt[] = {A(CKA_CLASS, &secret),  A(CKA_KEY_TYPE, &aes), A(CKA_VALUE_LEN, &len16),
                         A(CKA_WRAP, &yes),      A(CKA_UNWRAP, &yes),   A(CKA_DECRYPT, &yes),
                         A(CKA_EXTRACTABLE, &no)};
    CK_OBJECT_HANDLE w = gen_key(f, CKM_AES_KEY_GEN, wt, 7);
    CK_ATTRIBUTE kt[] = {A(CKA_CLASS, &secret),  A(CKA_KEY_TYPE, &aes), A(CKA_VALUE_LEN, &len16),
                         A(CKA_SENSITIVE, &yes), A(CKA_ENCRYPT, &yes),  A(CKA_DECRYPT, &yes)};
    CK_OBJECT_HANDLE k = gen_key(f, CKM_AES_KEY_GEN, kt, 6);

    CK_BYTE iv[16] = {0}, wrapped[64], clear[64];
    CK_MECHANISM cbc = {CKM_AES_CBC_PAD, iv, sizeof(iv)};
    CK_ULONG wl = sizeof(wrapped);
    CK_RV rv = f->t.f->C_WrapKey(f->s, &cbc, w, k, wrapped, &wl);
    if (rv == CKR_OK) { /* the attack's second step, to show what was lost */
        CK_ULONG cl = sizeof(clear);
        assert_int_equal(f->t.f->C_DecryptInit(f->s, &cbc, w), CKR_OK);
        assert_int_equal(f->t.f->C_Decrypt(f->s, wrapped, wl, clear, &cl), CKR_OK);
        fail_msg("a sensitive key with default attributes was wrapped; decrypting gave its "
                 "%lu-byte value",
                 (unsigned long)cl);
    }
    assert_int_equal(rv, CKR_KEY_UNEXTRACTABLE);
    assert_int_equal(get_bool(f, k, CKA_NEVER_EXTRACTABLE), CK_TRUE);
    wl = 0;
    CK_MECHANISM kwp = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
    assert_int_equal(f->t.f->C_WrapKey(f->s, &kwp, w, k, NULL, &wl), CKR_KEY_UNEXTRACTABLE);
    /* Nor can it become extractable later, or in a copy. */
    CK_ATTRIBUTE on = A(CKA_EXTRACTABLE, &yes);
    assert_int_equal(f->t.f->C_SetAttributeValue(f->s, k, &on, 1), CKR_ATTRIBUTE_READ_ONLY);
    CK_OBJECT_HANDLE c;
    assert_int_equal(f->t.f->C_CopyObject(f->s, k, &on, 1, &c), CKR_ATTRIBUTE_READ_ONLY);

    /* A key the application made extractable still wraps, and unwraps to
     * the same key. */
    CK_ATTRIBUTE xt[] = {A(CKA_CLASS, &secret),  A(CKA_KEY_TYPE, &aes), A(CKA_VALUE_LEN, &len16),
                         A(CKA_SENSITIVE, &yes), A(CKA_ENCRYPT, &yes),  A(CKA_EXTRACTABLE, &yes)};
    CK_OBJECT_HANDLE x = gen_key(f, CKM_AES_KEY_GEN, xt, 6);
    assert_int_equal(get_bool(f, x, CKA_EXTRACTABLE), CK_TRUE);
    wl = sizeof(wrapped);
    assert_int_equal(f->t.f->C_WrapKey(f->s, &kwp, w, x, wrapped, &wl), CKR_OK);
    CK_ATTRIBUTE ut[] = {A(CKA_CLASS, &secret), A(CKA_KEY_TYPE, &aes), A(CKA_ENCRYPT, &yes)};
    CK_OBJECT_HANDLE u;
    assert_int_equal(f->t.f->C_UnwrapKey(f->s, &kwp, w, wrapped, wl, ut, 3, &u), CKR_OK);
    assert_defaults(f, u, 0); /* the unwrapped copy has the defaults again */
    CK_BYTE msg[16] = "sixteen bytes..", a[16], b[16];
    CK_ULONG al = 16, bl = 16;
    CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
    assert_int_equal(f->t.f->C_EncryptInit(f->s, &ecb, x), CKR_OK);
    assert_int_equal(f->t.f->C_Encrypt(f->s, msg, 16, a, &al), CKR_OK);
    assert_int_equal(f->t.f->C_EncryptInit(f->s, &ecb, u), CKR_OK);
    assert_int_equal(f->t.f->C_Encrypt(f->s, msg, 16, b, &bl), CKR_OK);
    assert_memory_equal(a, b, 16);
}

/* Every call that makes a key, with a template that does not name them. */
static void defaults_read_back(void **state)
{
    fx *f = *state;
    /* C_GenerateKey */
    CK_ATTRIBUTE kt[] = {A(CKA_CLASS, &secret), A(CKA_KEY_TYPE, &aes), A(CKA_VALUE_LEN, &len16)};
    CK_OBJECT_HANDLE k = gen_key(f, CKM_AES_KEY_GEN, kt, 3);
    assert_defaults(f, k, 0);
    assert_int_equal(get_bool(f, k, CKA_ENCRYPT), CK_TRUE); /* usage: still every one */

    /* C_GenerateKeyPair: the private key has them all; the public key has
     * no secret to keep (CKA_EXTRACTABLE is not one of its attributes) but
     * derives nothing either. */
    CK_OBJECT_HANDLE pub, priv;
    CK_ATTRIBUTE pt[] = {{CKA_EC_PARAMS, (void *)P256_OID, sizeof(P256_OID)}};
    ec_pair(f, pt, 1, NULL, 0, &pub, &priv);
    assert_defaults(f, priv, 0);
    assert_int_equal(get_bool(f, priv, CKA_SIGN), CK_TRUE);
    assert_int_equal(get_bool(f, pub, CKA_DERIVE), CK_FALSE);
    assert_int_equal(get_bool(f, pub, CKA_MODIFIABLE), CK_TRUE);
    assert_int_equal(get_bool(f, pub, CKA_TOKEN), CK_FALSE);
    assert_int_equal(get_bool(f, pub, CKA_PRIVATE), CK_FALSE);
    assert_int_equal(get_bool(f, pub, CKA_VERIFY), CK_TRUE);

    /* C_DeriveKey (HKDF from a base that may derive) */
    CK_ATTRIBUTE bt[] = {A(CKA_CLASS, &secret), A(CKA_KEY_TYPE, &generic), A(CKA_VALUE_LEN, &len32),
                         A(CKA_DERIVE, &yes)};
    CK_OBJECT_HANDLE base = gen_key(f, CKM_GENERIC_SECRET_KEY_GEN, bt, 4);
    assert_int_equal(get_bool(f, base, CKA_DERIVE), CK_TRUE); /* as asked */
    assert_int_equal(get_bool(f, base, CKA_EXTRACTABLE), CK_FALSE);
    GREP11_CK_HKDF_PARAMS hp = {
        CK_TRUE, CK_TRUE,           CKM_SHA256, CKF_HKDF_SALT_DATA, (CK_BYTE *)"salt", 4,
        0,       (CK_BYTE *)"info", 4};
    CK_MECHANISM hkdf = {CKM_HKDF_DERIVE, &hp, sizeof(hp)};
    CK_OBJECT_HANDLE d;
    assert_int_equal(f->t.f->C_DeriveKey(f->s, &hkdf, base, kt, 3, &d), CKR_OK);
    assert_defaults(f, d, 0);

    /* C_CreateObject: a clear secret key and a private key, imported. */
    static CK_BYTE value[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    CK_ATTRIBUTE it[] = {A(CKA_CLASS, &secret), A(CKA_KEY_TYPE, &aes), {CKA_VALUE, value, 16}};
    CK_OBJECT_HANDLE imp;
    assert_int_equal(f->t.f->C_CreateObject(f->s, it, 3, &imp), CKR_OK);
    assert_defaults(f, imp, 0);
    CK_OBJECT_CLASS pc = CKO_PRIVATE_KEY, uc = CKO_PUBLIC_KEY;
    CK_KEY_TYPE ec = CKK_EC;
    static CK_BYTE scalar[32] = {0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
                                 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
                                 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42};
    CK_ATTRIBUTE vt[] = {A(CKA_CLASS, &pc),
                         A(CKA_KEY_TYPE, &ec),
                         {CKA_EC_PARAMS, "P-256", 5},
                         {CKA_VALUE, scalar, 32}};
    CK_OBJECT_HANDLE ipriv;
    assert_int_equal(f->t.f->C_CreateObject(f->s, vt, 4, &ipriv), CKR_OK);
    assert_defaults(f, ipriv, 0);
    /* A public key from its values: no derivation either. */
    CK_BYTE point[80];
    CK_ATTRIBUTE pa = {CKA_EC_POINT, point, sizeof(point)};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, pub, &pa, 1), CKR_OK);
    CK_ATTRIBUTE ut[] = {A(CKA_CLASS, &uc),
                         A(CKA_KEY_TYPE, &ec),
                         {CKA_EC_PARAMS, (void *)P256_OID, sizeof(P256_OID)},
                         {CKA_EC_POINT, point, pa.ulValueLen}};
    CK_OBJECT_HANDLE ipub;
    assert_int_equal(f->t.f->C_CreateObject(f->s, ut, 4, &ipub), CKR_OK);
    assert_int_equal(get_bool(f, ipub, CKA_DERIVE), CK_FALSE);
    assert_int_equal(get_bool(f, ipub, CKA_MODIFIABLE), CK_TRUE);
    assert_int_equal(get_bool(f, ipub, CKA_VERIFY), CK_TRUE);

    /* C_EncapsulateKey / C_DecapsulateKey (3.2): the new secret too. */
    if (p11t_offered(&f->t, CKM_ML_KEM_KEY_PAIR_GEN)) {
        P11_FUNCTION_LIST_3_2 *f32 = NULL;
        P11_CK_INTERFACE *iface;
        CK_RV (*gi)(CK_UTF8CHAR *, CK_VERSION *, P11_CK_INTERFACE **, CK_FLAGS);
        *(void **)&gi = dlsym(f->t.dl, "C_GetInterface");
        assert_non_null(gi);
        assert_int_equal(gi((CK_UTF8CHAR *)"PKCS 11", NULL, &iface, 0), CKR_OK);
        f32 = iface->pFunctionList;
        CK_ULONG set = CKP_ML_KEM_768;
        CK_ATTRIBUTE kpt[] = {A(CKA_PARAMETER_SET, &set)};
        CK_MECHANISM kgen = {CKM_ML_KEM_KEY_PAIR_GEN, NULL, 0};
        CK_OBJECT_HANDLE kpub, kpriv, s1, s2;
        assert_int_equal(f->t.f->C_GenerateKeyPair(f->s, &kgen, kpt, 1, NULL, 0, &kpub, &kpriv),
                         CKR_OK);
        assert_defaults(f, kpriv, 0);
        CK_MECHANISM kem = {CKM_ML_KEM, NULL, 0};
        CK_BYTE ct[1088];
        CK_ULONG ctl = sizeof(ct);
        assert_int_equal(f32->C_EncapsulateKey(f->s, &kem, kpub, kt, 2, ct, &ctl, &s1), CKR_OK);
        assert_defaults(f, s1, 0);
        assert_int_equal(f32->C_DecapsulateKey(f->s, &kem, kpriv, kt, 2, ct, ctl, &s2), CKR_OK);
        assert_defaults(f, s2, 0);
    }

    /* Said in the template: the application's value. */
    CK_ATTRIBUTE st[] = {A(CKA_CLASS, &secret),    A(CKA_KEY_TYPE, &aes), A(CKA_VALUE_LEN, &len16),
                         A(CKA_EXTRACTABLE, &yes), A(CKA_DERIVE, &yes),   A(CKA_MODIFIABLE, &no)};
    CK_OBJECT_HANDLE said = gen_key(f, CKM_AES_KEY_GEN, st, 6);
    assert_int_equal(get_bool(f, said, CKA_EXTRACTABLE), CK_TRUE);
    assert_int_equal(get_bool(f, said, CKA_DERIVE), CK_TRUE);
    assert_int_equal(get_bool(f, said, CKA_MODIFIABLE), CK_FALSE);
    /* A copy keeps the original's values (PKCS #11: those the template
     * does not change), defaults or not. */
    CK_OBJECT_HANDLE copy;
    assert_int_equal(f->t.f->C_CopyObject(f->s, said, NULL, 0, &copy), CKR_OK);
    assert_int_equal(get_bool(f, copy, CKA_EXTRACTABLE), CK_TRUE);
    assert_int_equal(get_bool(f, copy, CKA_DERIVE), CK_TRUE);
    assert_int_equal(f->t.f->C_CopyObject(f->s, k, NULL, 0, &copy), CKR_OK);
    assert_defaults(f, copy, 0);

    /* The normal user logged in: CKA_PRIVATE defaults to TRUE. */
    const char *pin = f->t.apikey;
    assert_int_equal(f->t.f->C_Login(f->s, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin)), CKR_OK);
    CK_OBJECT_HANDLE pk = gen_key(f, CKM_AES_KEY_GEN, kt, 3);
    assert_defaults(f, pk, 1);
    ec_pair(f, pt, 1, NULL, 0, &pub, &priv);
    assert_defaults(f, priv, 1);
    assert_int_equal(get_bool(f, pub, CKA_PRIVATE), CK_TRUE);
    assert_int_equal(f->t.f->C_Logout(f->s), CKR_OK);
}

/* CKA_DERIVE defaults to FALSE: deriving from such a key is refused as a
 * use its attributes do not permit. */
static void derive_refused_by_default(void **state)
{
    fx *f = *state;
    CK_ATTRIBUTE bt[] = {A(CKA_CLASS, &secret), A(CKA_KEY_TYPE, &generic),
                         A(CKA_VALUE_LEN, &len32)};
    CK_OBJECT_HANDLE base = gen_key(f, CKM_GENERIC_SECRET_KEY_GEN, bt, 3);
    GREP11_CK_HKDF_PARAMS hp = {
        CK_TRUE, CK_TRUE,           CKM_SHA256, CKF_HKDF_SALT_DATA, (CK_BYTE *)"salt", 4,
        0,       (CK_BYTE *)"info", 4};
    CK_MECHANISM hkdf = {CKM_HKDF_DERIVE, &hp, sizeof(hp)};
    CK_ATTRIBUTE dt[] = {A(CKA_CLASS, &secret), A(CKA_KEY_TYPE, &aes), A(CKA_VALUE_LEN, &len16)};
    CK_OBJECT_HANDLE d = CK_INVALID_HANDLE;
    assert_int_equal(f->t.f->C_DeriveKey(f->s, &hkdf, base, dt, 3, &d),
                     CKR_KEY_FUNCTION_NOT_PERMITTED);
    assert_int_equal(d, CK_INVALID_HANDLE);

    /* ECDH with a private key made with defaults. */
    CK_OBJECT_HANDLE pub, priv;
    CK_ATTRIBUTE pt[] = {{CKA_EC_PARAMS, (void *)P256_OID, sizeof(P256_OID)}};
    ec_pair(f, pt, 1, NULL, 0, &pub, &priv);
    CK_BYTE point[80];
    CK_ATTRIBUTE pa = {CKA_EC_POINT, point, sizeof(point)};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, pub, &pa, 1), CKR_OK);
    /* CKA_EC_POINT is a DER OCTET STRING; ECDH1 takes the raw point. */
    CK_ECDH1_DERIVE_PARAMS ep = {CKD_NULL, 0, NULL, pa.ulValueLen - 2, point + 2};
    CK_MECHANISM ecdh = {CKM_ECDH1_DERIVE, &ep, sizeof(ep)};
    CK_ATTRIBUTE gt[] = {A(CKA_CLASS, &secret), A(CKA_KEY_TYPE, &generic),
                         A(CKA_VALUE_LEN, &len32)};
    assert_int_equal(f->t.f->C_DeriveKey(f->s, &ecdh, priv, gt, 3, &d),
                     CKR_KEY_FUNCTION_NOT_PERMITTED);
    /* Asked for, it derives. */
    CK_ATTRIBUTE dv[] = {A(CKA_DERIVE, &yes)};
    ec_pair(f, pt, 1, dv, 1, &pub, &priv);
    assert_int_equal(f->t.f->C_DeriveKey(f->s, &ecdh, priv, gt, 3, &d), CKR_OK);
    assert_defaults(f, d, 0);
}

static void dev_wkid(fx *f, CK_BYTE out[16])
{
    char path[400];
    CK_BYTE wk[32], h[SHA256_DIGEST_LENGTH];
    snprintf(path, sizeof(path), "%s/dev-master-key", f->t.srv.dir);
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    assert_int_equal(fread(wk, 1, sizeof(wk), in), sizeof(wk));
    fclose(in);
    SHA256(wk, sizeof(wk), h);
    memcpy(out, h, 16);
}

static void assert_wkid(fx *f, CK_OBJECT_HANDLE k, const CK_BYTE want[16])
{
    CK_BYTE got[32];
    CK_ATTRIBUTE a = {CKA_GREP11_WKID, NULL, 0};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, k, &a, 1), CKR_OK);
    assert_int_equal(a.ulValueLen, 16);
    a.pValue = got;
    a.ulValueLen = 15;
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, k, &a, 1), CKR_BUFFER_TOO_SMALL);
    assert_int_equal(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
    a.ulValueLen = sizeof(got);
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, k, &a, 1), CKR_OK);
    assert_int_equal(a.ulValueLen, 16);
    assert_memory_equal(got, want, 16);
}

/* CKA_GREP11_WKID: the WKID (SHA-256 of the master key, first 16 bytes)
 * of secret keys, private keys and public keys made by the server;
 * read-only; absent where nothing is sealed. */
static void wkid_readable(void **state)
{
    fx *f = *state;
    CK_BYTE want[16];
    dev_wkid(f, want);
    CK_ATTRIBUTE kt[] = {A(CKA_CLASS, &secret), A(CKA_KEY_TYPE, &aes), A(CKA_VALUE_LEN, &len16)};
    CK_OBJECT_HANDLE k = gen_key(f, CKM_AES_KEY_GEN, kt, 3), pub, priv;
    CK_ATTRIBUTE pt[] = {{CKA_EC_PARAMS, (void *)P256_OID, sizeof(P256_OID)}};
    ec_pair(f, pt, 1, NULL, 0, &pub, &priv);
    assert_wkid(f, k, want);
    assert_wkid(f, priv, want);
    assert_wkid(f, pub, want);

    /* With other attributes in one call. */
    CK_BYTE id[16];
    CK_BBOOL ex = 0xff;
    CK_ATTRIBUTE two[] = {{CKA_GREP11_WKID, id, sizeof(id)}, A(CKA_EXTRACTABLE, &ex)};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, k, two, 2), CKR_OK);
    assert_memory_equal(id, want, 16);
    assert_int_equal(ex, CK_FALSE);

    /* Read-only, in a change or in a new key's template. */
    CK_ATTRIBUTE set = {CKA_GREP11_WKID, id, sizeof(id)};
    assert_int_equal(f->t.f->C_SetAttributeValue(f->s, k, &set, 1), CKR_ATTRIBUTE_READ_ONLY);
    CK_ATTRIBUTE nt[] = {kt[0], kt[1], kt[2], set};
    CK_MECHANISM m = {CKM_AES_KEY_GEN, NULL, 0};
    CK_OBJECT_HANDLE none;
    assert_int_equal(f->t.f->C_GenerateKey(f->s, &m, nt, 4, &none), CKR_ATTRIBUTE_READ_ONLY);

    /* Nothing sealed: a data object, a public key made from its values. */
    CK_OBJECT_CLASS dc = CKO_DATA, uc = CKO_PUBLIC_KEY;
    CK_ATTRIBUTE dt[] = {A(CKA_CLASS, &dc), {CKA_VALUE, "data", 4}};
    CK_OBJECT_HANDLE data, ipub;
    assert_int_equal(f->t.f->C_CreateObject(f->s, dt, 2, &data), CKR_OK);
    CK_ATTRIBUTE q = {CKA_GREP11_WKID, id, sizeof(id)};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, data, &q, 1), CKR_ATTRIBUTE_TYPE_INVALID);
    assert_int_equal(q.ulValueLen, CK_UNAVAILABLE_INFORMATION);
    CK_BYTE point[80];
    CK_ATTRIBUTE pa = {CKA_EC_POINT, point, sizeof(point)};
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, pub, &pa, 1), CKR_OK);
    CK_KEY_TYPE ec = CKK_EC;
    CK_ATTRIBUTE ut[] = {A(CKA_CLASS, &uc),
                         A(CKA_KEY_TYPE, &ec),
                         {CKA_EC_PARAMS, (void *)P256_OID, sizeof(P256_OID)},
                         {CKA_EC_POINT, point, pa.ulValueLen}};
    assert_int_equal(f->t.f->C_CreateObject(f->s, ut, 4, &ipub), CKR_OK);
    q.ulValueLen = sizeof(id);
    assert_int_equal(f->t.f->C_GetAttributeValue(f->s, ipub, &q, 1), CKR_ATTRIBUTE_TYPE_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wrap_then_decrypt_refused),
        cmocka_unit_test(defaults_read_back),
        cmocka_unit_test(derive_refused_by_default),
        cmocka_unit_test(wkid_readable),
    };
    return cmocka_run_group_tests(tests, p11t_fx_setup, p11t_teardown);
}
