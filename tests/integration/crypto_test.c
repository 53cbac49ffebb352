/* Engine I through grep11d and libgrep11: key generation, every flow of
 * encrypt/digest/MAC, state blobs continued on a second grep11d process
 * holding the same master key, and the documented failure classes. */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "server.pb-c.h"

typedef struct {
    test_server a, b, other; /* a and b share a master key; other does not */
    g11c_conn *ca, *cb, *cother;
} fixture;

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static int start(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    char yaml[600];
    if (!f || test_server_start(&f->a, NULL, NULL) != 0)
        return -1;
    snprintf(yaml, sizeof(yaml), "master_key_file: %s/dev-master-key\n", f->a.dir);
    if (test_server_start(&f->b, yaml, NULL) != 0 || test_server_start(&f->other, NULL, NULL) != 0)
        return -1;
    f->ca = test_connect(&f->a, 0);
    f->cb = test_connect(&f->b, 0);
    f->cother = test_connect(&f->other, 0);
    *state = f;
    return f->ca && f->cb && f->cother ? 0 : -1;
}

static int stop(void **state)
{
    fixture *f = *state;
    g11c_close(f->ca);
    g11c_close(f->cb);
    g11c_close(f->cother);
    int rc = test_server_stop(&f->a) | test_server_stop(&f->b) | test_server_stop(&f->other);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void aes_key(g11c_conn *c, CK_ULONG bytes, CK_BBOOL encrypt, g11c_buf *key, g11c_buf *sum)
{
    g11c_mech m = {.type = CKM_AES_KEY_GEN};
    CK_ATTRIBUTE t[] = {
        {CKA_VALUE_LEN, &bytes, sizeof(bytes)}, {CKA_ENCRYPT, (void *)&encrypt, 1},
        {CKA_DECRYPT, (void *)&yes, 1},         {CKA_WRAP, (void *)&yes, 1},
        {CKA_UNWRAP, (void *)&yes, 1},          {CKA_EXTRACTABLE, (void *)&yes, 1},
    };
    assert_int_equal(g11c_generate_key(c, &m, t, 6, key, sum), CKR_OK);
}

static g11c_bytes B(const g11c_buf *b)
{
    return g11c_bytes_of(b);
}

static void generate_key_reports_check_value_and_attributes(void **state)
{
    fixture *f = *state;
    g11c_buf key = {0}, sum = {0};
    aes_key(f->ca, 32, CK_TRUE, &key, &sum);
    assert_true(sum.len >= 3);
    CK_ATTRIBUTE_TYPE want[] = {CKA_VALUE_LEN, CKA_CHECK_VALUE, CKA_LOCAL, CKA_KEY_TYPE,
                                CKA_SENSITIVE};
    CK_ATTRIBUTE *got = NULL;
    CK_ULONG n = 0;
    assert_int_equal(g11c_get_attribute_value(f->ca, B(&key), want, 5, &got, &n), CKR_OK);
    int seen_cv = 0;
    for (CK_ULONG i = 0; i < n; i++) {
        if (got[i].type == CKA_VALUE_LEN)
            assert_int_equal(*(CK_ULONG *)got[i].pValue, 32);
        if (got[i].type == CKA_CHECK_VALUE) {
            assert_int_equal(got[i].ulValueLen, 3);
            assert_memory_equal(got[i].pValue, sum.ptr, 3);
            seen_cv = 1;
        }
        if (got[i].type == CKA_LOCAL)
            assert_int_equal(*(CK_BBOOL *)got[i].pValue, CK_TRUE);
        if (got[i].type == CKA_KEY_TYPE)
            assert_int_equal(*(CK_ULONG *)got[i].pValue, CKK_AES);
    }
    assert_true(seen_cv);
    g11c_attrs_free(got, n);
    /* A sensitive key never shows its value. */
    CK_ATTRIBUTE_TYPE value[] = {CKA_VALUE};
    CK_RV rv = g11c_get_attribute_value(f->ca, B(&key), value, 1, &got, &n);
    assert_true(rv == CKR_ATTRIBUTE_SENSITIVE || (rv == CKR_OK && n == 0));
    if (rv == CKR_OK)
        g11c_attrs_free(got, n);
    g11c_buf_free(&key);
    g11c_buf_free(&sum);
}

static void digest_matches_openssl_in_every_flow(void **state)
{
    fixture *f = *state;
    uint8_t msg[3000], want[32];
    unsigned int wl = 0;
    RAND_bytes(msg, sizeof(msg));
    EVP_Digest(msg, sizeof(msg), want, &wl, EVP_sha256(), NULL);
    g11c_mech m = {.type = CKM_SHA256};
    g11c_buf d = {0}, st = {0}, st2 = {0}, st3 = {0};
    assert_int_equal(g11c_digest_single(f->ca, &m, (g11c_bytes){msg, sizeof(msg)}, &d), CKR_OK);
    assert_memory_equal(d.ptr, want, 32);
    g11c_buf_free(&d);
    /* Init on A, Update on B, Update on A, Final on B: any replica continues. */
    assert_int_equal(g11c_digest_init(f->ca, &m, &st), CKR_OK);
    assert_int_equal(g11c_digest_update(f->cb, B(&st), (g11c_bytes){msg, 1000}, &st2), CKR_OK);
    assert_int_equal(g11c_digest_update(f->ca, B(&st2), (g11c_bytes){msg + 1000, 2000}, &st3),
                     CKR_OK);
    assert_int_equal(g11c_digest_final(f->cb, B(&st3), &d), CKR_OK);
    assert_memory_equal(d.ptr, want, 32);
    g11c_buf_free(&d);
    /* A state blob from another master key is refused. */
    assert_int_equal(g11c_digest_final(f->cother, B(&st3), &d), CKR_IBM_WKID_MISMATCH);
    g11c_buf_free(&st);
    g11c_buf_free(&st2);
    g11c_buf_free(&st3);
}

static void cbc_pad_multipart_on_two_replicas_equals_single(void **state)
{
    fixture *f = *state;
    g11c_buf key = {0}, sum = {0}, single = {0}, st = {0}, st2 = {0}, o1 = {0}, o2 = {0}, o3 = {0},
             plain = {0};
    aes_key(f->ca, 32, CK_TRUE, &key, &sum);
    uint8_t iv[16], msg[1000];
    RAND_bytes(iv, sizeof(iv));
    RAND_bytes(msg, sizeof(msg));
    g11c_mech m = {.type = CKM_AES_CBC_PAD, .kind = G11C_PARAM_BYTES, .bytes = {iv, 16}};
    assert_int_equal(g11c_encrypt_single(f->ca, B(&key), &m, (g11c_bytes){msg, 1000}, &single),
                     CKR_OK);
    assert_int_equal(single.len, 1008);
    assert_int_equal(g11c_encrypt_init(f->ca, &m, B(&key), &st), CKR_OK);
    assert_int_equal(g11c_encrypt_update(f->cb, B(&st), (g11c_bytes){msg, 333}, &st2, &o1), CKR_OK);
    g11c_buf_free(&st);
    assert_int_equal(g11c_encrypt_update(f->ca, B(&st2), (g11c_bytes){msg + 333, 667}, &st, &o2),
                     CKR_OK);
    assert_int_equal(g11c_encrypt_final(f->cb, B(&st), &o3), CKR_OK);
    assert_int_equal(o1.len + o2.len + o3.len, single.len);
    uint8_t joined[1008];
    memcpy(joined, o1.ptr, o1.len);
    memcpy(joined + o1.len, o2.ptr, o2.len);
    memcpy(joined + o1.len + o2.len, o3.ptr, o3.len);
    assert_memory_equal(joined, single.ptr, single.len);
    assert_int_equal(g11c_decrypt_single(f->cb, B(&key), &m, B(&single), &plain), CKR_OK);
    assert_int_equal(plain.len, 1000);
    assert_memory_equal(plain.ptr, msg, 1000);
    g11c_buf bufs[] = {key, sum, single, st, st2, o1, o2, o3, plain};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        g11c_buf_free(&bufs[i]);
}

static void gcm_round_trip_and_tamper(void **state)
{
    fixture *f = *state;
    g11c_buf key = {0}, sum = {0}, ct = {0}, pt = {0};
    aes_key(f->ca, 16, CK_TRUE, &key, &sum);
    uint8_t param[4 + 12 + 4 + 5 + 4] = {0, 0, 0, 12};
    RAND_bytes(param + 4, 12);
    memcpy(param + 16, "\0\0\0\5hello", 9);
    memcpy(param + 25, "\0\0\0\x80", 4);
    g11c_mech m = {.type = CKM_AES_GCM, .kind = G11C_PARAM_BYTES, .bytes = {param, sizeof(param)}};
    uint8_t msg[100];
    RAND_bytes(msg, sizeof(msg));
    assert_int_equal(g11c_encrypt_single(f->ca, B(&key), &m, (g11c_bytes){msg, 100}, &ct), CKR_OK);
    assert_int_equal(ct.len, 116);
    assert_int_equal(g11c_decrypt_single(f->cb, B(&key), &m, B(&ct), &pt), CKR_OK);
    assert_memory_equal(pt.ptr, msg, 100);
    g11c_buf_free(&pt);
    ct.ptr[ct.len - 1] ^= 1;
    assert_int_equal(g11c_decrypt_single(f->ca, B(&key), &m, B(&ct), &pt),
                     CKR_ENCRYPTED_DATA_INVALID);
    g11c_buf_free(&key);
    g11c_buf_free(&sum);
    g11c_buf_free(&ct);
}

static void hmac_sign_verify_across_replicas(void **state)
{
    fixture *f = *state;
    g11c_mech gen = {.type = CKM_GENERIC_SECRET_KEY_GEN};
    CK_ULONG len = 32;
    CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, &len, sizeof(len)},
                        {CKA_SIGN, (void *)&yes, 1},
                        {CKA_VERIFY, (void *)&yes, 1}};
    g11c_buf key = {0}, sum = {0}, sig = {0}, st = {0}, st2 = {0};
    assert_int_equal(g11c_generate_key(f->ca, &gen, t, 3, &key, &sum), CKR_OK);
    g11c_mech m = {.type = CKM_SHA256_HMAC};
    uint8_t msg[500];
    RAND_bytes(msg, sizeof(msg));
    assert_int_equal(g11c_sign_single(f->ca, B(&key), &m, (g11c_bytes){msg, 500}, &sig), CKR_OK);
    assert_int_equal(sig.len, 32);
    assert_int_equal(g11c_verify_init(f->cb, &m, B(&key), &st), CKR_OK);
    assert_int_equal(g11c_verify_update(f->ca, B(&st), (g11c_bytes){msg, 200}, &st2), CKR_OK);
    g11c_buf_free(&st);
    assert_int_equal(g11c_verify_update(f->cb, B(&st2), (g11c_bytes){msg + 200, 300}, &st), CKR_OK);
    assert_int_equal(g11c_verify_final(f->ca, B(&st), B(&sig)), CKR_OK);
    sig.ptr[0] ^= 1;
    assert_int_equal(g11c_verify_single(f->cb, B(&key), &m, (g11c_bytes){msg, 500}, B(&sig)),
                     CKR_SIGNATURE_INVALID);
    /* A verify state is no sign state. */
    g11c_buf out = {0};
    assert_int_equal(g11c_sign_final(f->ca, B(&st), &out), CKR_OPERATION_NOT_INITIALIZED);
    g11c_buf bufs[] = {key, sum, sig, st, st2};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        g11c_buf_free(&bufs[i]);
}

static void policy_and_damaged_blobs_are_refused(void **state)
{
    fixture *f = *state;
    g11c_buf key = {0}, sum = {0}, out = {0};
    aes_key(f->ca, 32, CK_FALSE, &key, &sum); /* no CKA_ENCRYPT */
    uint8_t iv[16] = {0}, msg[16] = {0};
    g11c_mech m = {.type = CKM_AES_CBC, .kind = G11C_PARAM_BYTES, .bytes = {iv, 16}};
    assert_int_equal(g11c_encrypt_single(f->ca, B(&key), &m, (g11c_bytes){msg, 16}, &out),
                     CKR_KEY_FUNCTION_NOT_PERMITTED);
    /* One flipped bit anywhere in the blob. */
    key.ptr[key.len / 2] ^= 0x10;
    assert_int_equal(g11c_decrypt_single(f->ca, B(&key), &m, (g11c_bytes){msg, 16}, &out),
                     CKR_KEY_HANDLE_INVALID);
    key.ptr[key.len / 2] ^= 0x10;
    /* Truncated. */
    assert_int_equal(g11c_decrypt_single(f->ca, (g11c_bytes){key.ptr, key.len - 1}, &m,
                                         (g11c_bytes){msg, 16}, &out),
                     CKR_KEY_HANDLE_INVALID);
    /* Another master key. */
    assert_int_equal(g11c_decrypt_single(f->cother, B(&key), &m, (g11c_bytes){msg, 16}, &out),
                     CKR_IBM_WKID_MISMATCH);
    /* Extractable may only go off, sensitive only on. */
    CK_ATTRIBUTE back_on[] = {{CKA_SENSITIVE, (void *)&no, 1}};
    g11c_buf obj = {0};
    assert_int_equal(g11c_set_attribute_value(f->ca, B(&key), back_on, 1, &obj),
                     CKR_ATTRIBUTE_READ_ONLY);
    g11c_buf_free(&key);
    g11c_buf_free(&sum);
}

static void wrap_and_unwrap_keep_the_check_value(void **state)
{
    fixture *f = *state;
    g11c_buf kek = {0}, ksum = {0}, key = {0}, sum = {0}, wrapped = {0}, back = {0}, bsum = {0};
    aes_key(f->ca, 32, CK_TRUE, &kek, &ksum);
    aes_key(f->ca, 16, CK_TRUE, &key, &sum);
    g11c_mech kw = {.type = CKM_AES_KEY_WRAP};
    assert_int_equal(g11c_wrap_key(f->ca, B(&key), B(&kek), (g11c_bytes){NULL, 0}, &kw, &wrapped),
                     CKR_OK);
    assert_int_equal(wrapped.len, 24);
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_ENCRYPT, (void *)&yes, 1}};
    assert_int_equal(g11c_unwrap_key(f->cb, B(&wrapped), B(&kek), (g11c_bytes){NULL, 0}, &kw, t, 3,
                                     &back, &bsum),
                     CKR_OK);
    assert_memory_equal(bsum.ptr, sum.ptr, 3);
    g11c_buf bufs[] = {kek, ksum, key, sum, wrapped, back, bsum};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        g11c_buf_free(&bufs[i]);
}

/* EncryptSingle or DecryptSingle in the older wire generation: the key as
 * raw bytes in field 1 (LegacyKey), optionally with a KeyBlob beside it. */
static CK_RV single_old(g11c_conn *c, const char *method, const g11c_buf *key, const g11c_buf *also,
                        const uint8_t *in, size_t len, g11c_buf *out)
{
    Grep11__Mechanism m = GREP11__MECHANISM__INIT;
    m.mechanism = CKM_AES_ECB;
    Grep11__KeyBlob kb = GREP11__KEY_BLOB__INIT;
    ProtobufCBinaryData slot = {also ? also->len : 0, also ? also->ptr : NULL};
    kb.n_keyblobs = 1;
    kb.keyblobs = &slot;
    uint8_t buf[4096];
    size_t n;
    if (strstr(method, "Encrypt")) {
        Grep11__EncryptSingleRequest r = GREP11__ENCRYPT_SINGLE_REQUEST__INIT;
        r.mech = &m;
        r.plain = (ProtobufCBinaryData){len, (uint8_t *)in};
        r.legacykey = (ProtobufCBinaryData){key->len, key->ptr};
        r.key = also ? &kb : NULL;
        assert_true(grep11__encrypt_single_request__get_packed_size(&r) <= sizeof(buf));
        n = grep11__encrypt_single_request__pack(&r, buf);
    } else {
        Grep11__DecryptSingleRequest r = GREP11__DECRYPT_SINGLE_REQUEST__INIT;
        r.mech = &m;
        r.ciphered = (ProtobufCBinaryData){len, (uint8_t *)in};
        r.legacykey = (ProtobufCBinaryData){key->len, key->ptr};
        r.key = also ? &kb : NULL;
        assert_true(grep11__decrypt_single_request__get_packed_size(&r) <= sizeof(buf));
        n = grep11__decrypt_single_request__pack(&r, buf);
    }
    g11c_buf reply = {0};
    CK_RV rv = g11c_raw_call(c, method, buf, n, &reply);
    if (rv == CKR_OK) {
        ProtobufCBinaryData got;
        if (strstr(method, "Encrypt")) {
            Grep11__EncryptSingleResponse *e =
                grep11__encrypt_single_response__unpack(NULL, reply.len, reply.ptr);
            assert_non_null(e);
            got = e->ciphered;
            out->ptr = malloc(got.len);
            memcpy(out->ptr, got.data, got.len);
            grep11__encrypt_single_response__free_unpacked(e, NULL);
        } else {
            Grep11__DecryptSingleResponse *d =
                grep11__decrypt_single_response__unpack(NULL, reply.len, reply.ptr);
            assert_non_null(d);
            got = d->plain;
            out->ptr = malloc(got.len);
            memcpy(out->ptr, got.data, got.len);
            grep11__decrypt_single_response__free_unpacked(d, NULL);
        }
        out->len = got.len;
    }
    g11c_buf_free(&reply);
    return rv;
}

/* Both generations of the GREP11 wire are served: keys as raw bytes at the
 * older field numbers (IBM's Node client) give the same answers as keys in
 * KeyBlob messages; both at once must agree. */
static void older_wire_generation_is_served(void **state)
{
    fixture *f = *state;
    g11c_buf key = {0}, sum = {0}, other = {0}, ct = {0}, pt = {0}, ref = {0};
    aes_key(f->ca, 32, CK_TRUE, &key, &sum);
    g11c_buf_free(&sum);
    aes_key(f->ca, 32, CK_TRUE, &other, &sum);
    uint8_t block[32];
    RAND_bytes(block, sizeof(block));
    g11c_mech ecb = {.type = CKM_AES_ECB};
    assert_int_equal(
        g11c_encrypt_single(f->ca, B(&key), &ecb, (g11c_bytes){block, sizeof(block)}, &ref),
        CKR_OK);
    assert_int_equal(
        single_old(f->ca, "/grep11.Crypto/EncryptSingle", &key, NULL, block, sizeof(block), &ct),
        CKR_OK);
    assert_int_equal(ct.len, ref.len);
    assert_memory_equal(ct.ptr, ref.ptr, ref.len);
    assert_int_equal(
        single_old(f->ca, "/grep11.Crypto/DecryptSingle", &key, &key, ct.ptr, ct.len, &pt), CKR_OK);
    assert_memory_equal(pt.ptr, block, sizeof(block));
    assert_int_equal(
        single_old(f->ca, "/grep11.Crypto/EncryptSingle", &key, &other, block, sizeof(block), &pt),
        CKR_ARGUMENTS_BAD);
    g11c_buf_free(&key);
    g11c_buf_free(&other);
    g11c_buf_free(&sum);
    g11c_buf_free(&ct);
    g11c_buf_free(&pt);
    g11c_buf_free(&ref);
}

/* A parameter type the server does not implement is CKR_MECHANISM_INVALID:
 * one of the oneof's types without a mechanism here yet (ECAGGParm), and
 * one in a field number this server does not know. ECSGParm is converted
 * now (CKM_IBM_ECDSA_OTHER), so on AES-ECB it is a parameter that
 * mechanism does not take. */
static CK_RV encrypt_with(g11c_conn *c, const g11c_buf *key, Grep11__Mechanism *m)
{
    Grep11__EncryptSingleRequest r = GREP11__ENCRYPT_SINGLE_REQUEST__INIT;
    Grep11__KeyBlob kb = GREP11__KEY_BLOB__INIT;
    ProtobufCBinaryData blob = {key->len, key->ptr};
    uint8_t block[16] = {0}, buf[2048];
    kb.n_keyblobs = 1;
    kb.keyblobs = &blob;
    r.mech = m;
    r.key = &kb;
    r.plain = (ProtobufCBinaryData){sizeof(block), block};
    assert_true(grep11__encrypt_single_request__get_packed_size(&r) <= sizeof(buf));
    size_t n = grep11__encrypt_single_request__pack(&r, buf);
    g11c_buf reply = {0};
    CK_RV rv = g11c_raw_call(c, "/grep11.Crypto/EncryptSingle", buf, n, &reply);
    g11c_buf_free(&reply);
    return rv;
}

static void unknown_parameter_types_are_mechanism_invalid(void **state)
{
    fixture *f = *state;
    g11c_buf key = {0}, sum = {0};
    aes_key(f->ca, 32, CK_TRUE, &key, &sum);
    Grep11__Mechanism m = GREP11__MECHANISM__INIT;
    m.mechanism = CKM_AES_ECB;
    assert_int_equal(encrypt_with(f->ca, &key, &m), CKR_OK);

    Grep11__ECSGParm sg = GREP11__ECSGPARM__INIT;
    m.parameter_case = GREP11__MECHANISM__PARAMETER_ECSGPARAMETER;
    m.ecsgparameter = &sg;
    assert_int_equal(encrypt_with(f->ca, &key, &m), CKR_MECHANISM_PARAM_INVALID);
    Grep11__ECAGGParm agg = GREP11__ECAGGPARM__INIT;
    m.parameter_case = GREP11__MECHANISM__PARAMETER_ECAGGPARAMETER;
    m.ecaggparameter = &agg;
    assert_int_equal(encrypt_with(f->ca, &key, &m), CKR_MECHANISM_INVALID);

    uint8_t later[4] = {3, 'n', 'e', 'w'}; /* protobuf-c packs it as is: length, then bytes */
    ProtobufCMessageUnknownField uf = {10, PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED, sizeof(later),
                                       later};
    m.parameter_case = GREP11__MECHANISM__PARAMETER__NOT_SET;
    m.base.n_unknown_fields = 1;
    m.base.unknown_fields = &uf;
    assert_int_equal(encrypt_with(f->ca, &key, &m), CKR_MECHANISM_INVALID);
    g11c_buf_free(&key);
    g11c_buf_free(&sum);
}

/* IBM's Example_wrapAndUnwrapAttributeBoundKey through grep11d: an
 * attribute-bound AES key wrapped under an RSA public key with a MAC key
 * and unwrapped under the private key, the check value unchanged; the key
 * does not leave by ordinary wrapping. */
static void attribute_bound_keys_wrap_with_their_attributes(void **state)
{
    fixture *f = *state;
    CK_ULONG sixteen = 16, bits = 2048, secret = CKO_SECRET_KEY, aes = CKK_AES,
             gen = CKK_GENERIC_SECRET;
    static const uint8_t e17[] = {0x11};
    CK_ATTRIBUTE mt[] = {{CKA_KEY_TYPE, &gen, sizeof(gen)},
                         {CKA_CLASS, &secret, sizeof(secret)},
                         {CKA_VALUE_LEN, &sixteen, sizeof(sixteen)},
                         {CKA_EXTRACTABLE, (void *)&no, 1},
                         {CKA_IBM_ATTRBOUND, (void *)&yes, 1}};
    CK_ATTRIBUTE kt[] = {{CKA_VALUE_LEN, &sixteen, sizeof(sixteen)},
                         {CKA_ENCRYPT, (void *)&yes, 1},
                         {CKA_DECRYPT, (void *)&yes, 1},
                         {CKA_EXTRACTABLE, (void *)&yes, 1},
                         {CKA_IBM_ATTRBOUND, (void *)&yes, 1}};
    CK_ATTRIBUTE pt[] = {
        {CKA_ENCRYPT, (void *)&yes, 1},          {CKA_WRAP, (void *)&yes, 1},
        {CKA_MODULUS_BITS, &bits, sizeof(bits)}, {CKA_PUBLIC_EXPONENT, (void *)e17, 1},
        {CKA_EXTRACTABLE, (void *)&no, 1},       {CKA_IBM_ATTRBOUND, (void *)&yes, 1}};
    CK_ATTRIBUTE st[] = {{CKA_PRIVATE, (void *)&yes, 1},    {CKA_SENSITIVE, (void *)&yes, 1},
                         {CKA_DECRYPT, (void *)&yes, 1},    {CKA_UNWRAP, (void *)&yes, 1},
                         {CKA_EXTRACTABLE, (void *)&no, 1}, {CKA_IBM_ATTRBOUND, (void *)&yes, 1}};
    CK_ATTRIBUTE ut[] = {{CKA_CLASS, &secret, sizeof(secret)},
                         {CKA_KEY_TYPE, &aes, sizeof(aes)},
                         {CKA_VALUE_LEN, &sixteen, sizeof(sixteen)},
                         {CKA_ENCRYPT, (void *)&yes, 1},
                         {CKA_DECRYPT, (void *)&yes, 1},
                         {CKA_EXTRACTABLE, (void *)&yes, 1}};
    g11c_mech mg = {.type = CKM_GENERIC_SECRET_KEY_GEN}, ag = {.type = CKM_AES_KEY_GEN},
              rg = {.type = CKM_RSA_PKCS_KEY_PAIR_GEN}, abw = {.type = CKM_IBM_ATTRIBUTEBOUND_WRAP},
              kw = {.type = CKM_AES_KEY_WRAP_PAD};
    g11c_buf mac = {0}, mcs = {0}, key = {0}, cs = {0}, priv = {0}, pub = {0}, w = {0}, u = {0},
             ucs = {0}, kek = {0}, kcs = {0};
    CK_MECHANISM_INFO info;
    assert_int_equal(g11c_get_mechanism_info(f->ca, CKM_IBM_ATTRIBUTEBOUND_WRAP, &info), CKR_OK);
    assert_true((info.flags & (CKF_WRAP | CKF_UNWRAP)) == (CKF_WRAP | CKF_UNWRAP));
    assert_int_equal(g11c_generate_key(f->ca, &mg, mt, 5, &mac, &mcs), CKR_OK);
    assert_int_equal(g11c_generate_key(f->ca, &ag, kt, 5, &key, &cs), CKR_OK);
    assert_int_equal(g11c_generate_key_pair(f->ca, &rg, pt, 6, st, 6, &priv, &pub), CKR_OK);
    assert_int_equal(g11c_wrap_key(f->ca, B(&key), B(&pub), B(&mac), &abw, &w), CKR_OK);
    assert_int_equal(g11c_unwrap_key(f->cb, B(&w), B(&priv), B(&mac), &abw, ut, 6, &u, &ucs),
                     CKR_OK);
    assert_true(cs.len >= 3 && ucs.len >= 3);
    assert_memory_equal(cs.ptr, ucs.ptr, 3);
    /* not by ordinary wrapping, and not without its MAC key */
    aes_key(f->ca, 32, CK_TRUE, &kek, &kcs);
    g11c_buf w2 = {0};
    assert_int_equal(g11c_wrap_key(f->ca, B(&key), B(&kek), (g11c_bytes){NULL, 0}, &kw, &w2),
                     CKR_KEY_NOT_WRAPPABLE);
    g11c_buf_free(&u);
    g11c_buf_free(&ucs);
    assert_int_equal(g11c_unwrap_key(f->ca, B(&w), B(&priv), B(&kcs), &abw, ut, 6, &u, &ucs),
                     CKR_KEY_HANDLE_INVALID);
    g11c_buf bufs[] = {mac, mcs, key, cs, priv, pub, w, u, ucs, kek, kcs, w2};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        g11c_buf_free(&bufs[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generate_key_reports_check_value_and_attributes),
        cmocka_unit_test(digest_matches_openssl_in_every_flow),
        cmocka_unit_test(cbc_pad_multipart_on_two_replicas_equals_single),
        cmocka_unit_test(gcm_round_trip_and_tamper),
        cmocka_unit_test(hmac_sign_verify_across_replicas),
        cmocka_unit_test(policy_and_damaged_blobs_are_refused),
        cmocka_unit_test(wrap_and_unwrap_keep_the_check_value),
        cmocka_unit_test(older_wire_generation_is_served),
        cmocka_unit_test(unknown_parameter_types_are_mechanism_invalid),
        cmocka_unit_test(attribute_bound_keys_wrap_with_their_attributes),
    };
    return cmocka_run_group_tests_name("crypto through grep11d", tests, start, stop);
}
