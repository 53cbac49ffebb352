/* CKM_IBM_ECDSA_OTHER (EC-Schnorr) through a real grep11d, the way IBM's
 * Go examples (hpcs-grep11-go examples/schnorr_test.go) drive it: an EC key
 * pair on secp256k1 (CKA_EC_PARAMS = the DER OID), SignSingle and
 * VerifySingle of a 6 KiB message with ECSGParm type S256 and COMPR_MULTI,
 * then the same by Init/Update/Final. Every signature is checked by
 * libsecp256k1 and the plain-Python reference (the COMPR_MULTI check is the
 * Zilliqa verification IBM's example runs); P-256 by the Python one. */
#include <openssl/rand.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "schnorr_ref.h"

static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static const uint8_t OID_K1[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a};
static const uint8_t OID_P256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const CK_ULONG VARIANTS[] = {ECSG_IBM_ECSDSA_S256, ECSG_IBM_ECSDSA_COMPR_MULTI};
#define MSG_LEN (6 * 1024)

static g11c_mech ecsg(CK_ULONG type)
{
    g11c_mech m = {.type = CKM_IBM_ECDSA_OTHER, .kind = G11C_PARAM_ECSG};
    m.ecsg.type = type;
    return m;
}

/* IBM's templates. */
static void ec_pair(g11c_conn *c, const uint8_t *oid, size_t ol, g11c_buf *priv, g11c_buf *pub)
{
    g11c_mech m = {.type = CKM_EC_KEY_PAIR_GEN};
    CK_ATTRIBUTE pt[] = {{CKA_EC_PARAMS, (void *)oid, ol},
                         {CKA_VERIFY, (void *)&yes, 1},
                         {CKA_EXTRACTABLE, (void *)&no, 1}};
    CK_ATTRIBUTE st[] = {{CKA_SIGN, (void *)&yes, 1}, {CKA_EXTRACTABLE, (void *)&no, 1}};
    assert_int_equal(g11c_generate_key_pair(c, &m, pt, 3, st, 2, priv, pub), CKR_OK);
}

/* The uncompressed point closing the SPKI at the front of a MACed SPKI. */
static const uint8_t *point_of(const g11c_buf *pub)
{
    size_t l;
    assert_true(pub->len > 2 && pub->ptr[1] < 0x80);
    l = 2 + pub->ptr[1];
    assert_true(l <= pub->len && l >= 65 && pub->ptr[l - 65] == 0x04);
    return pub->ptr + l - 65;
}

static void check_independently(const char *curve, CK_ULONG variant, const g11c_buf *pub,
                                const uint8_t *msg, const g11c_buf *sig)
{
    assert_int_equal(sig->len, 64);
    assert_int_equal(sref_py_verify(curve, variant, point_of(pub), msg, MSG_LEN, sig->ptr), 1);
    if (strcmp(curve, "secp256k1") == 0)
        assert_int_equal(sref_k1_verify(variant, point_of(pub), msg, MSG_LEN, sig->ptr), 1);
}

static void multi_sign(g11c_conn *c, const g11c_mech *m, const g11c_buf *priv, const uint8_t *msg,
                       g11c_buf *sig)
{
    g11c_buf st = {0}, st2 = {0};
    assert_int_equal(g11c_sign_init(c, m, g11c_bytes_of(priv), &st), CKR_OK);
    for (size_t off = 0; off < MSG_LEN; off += 2048) {
        assert_int_equal(
            g11c_sign_update(c, g11c_bytes_of(&st), (g11c_bytes){msg + off, 2048}, &st2), CKR_OK);
        g11c_buf_free(&st);
        st = st2;
        st2 = (g11c_buf){0};
    }
    assert_int_equal(g11c_sign_final(c, g11c_bytes_of(&st), sig), CKR_OK);
    g11c_buf_free(&st);
}

static CK_RV multi_verify(g11c_conn *c, const g11c_mech *m, const g11c_buf *pub, const uint8_t *msg,
                          const g11c_buf *sig)
{
    g11c_buf st = {0}, st2 = {0};
    CK_RV rv = g11c_verify_init(c, m, g11c_bytes_of(pub), &st);
    for (size_t off = 0; off < MSG_LEN && rv == CKR_OK; off += 3072) {
        rv = g11c_verify_update(c, g11c_bytes_of(&st), (g11c_bytes){msg + off, 3072}, &st2);
        g11c_buf_free(&st);
        st = st2;
        st2 = (g11c_buf){0};
    }
    if (rv == CKR_OK)
        rv = g11c_verify_final(c, g11c_bytes_of(&st), g11c_bytes_of(sig));
    g11c_buf_free(&st);
    return rv;
}

static void run_example(test_fixture *f, const char *curve, const uint8_t *oid, size_t ol)
{
    g11c_conn *c = f->conn;
    g11c_buf priv = {0}, pub = {0};
    uint8_t *msg = malloc(MSG_LEN);
    assert_non_null(msg);
    assert_int_equal(RAND_bytes(msg, MSG_LEN), 1);
    ec_pair(c, oid, ol, &priv, &pub);
    for (size_t v = 0; v < 2; v++) {
        g11c_mech m = ecsg(VARIANTS[v]);
        g11c_buf sig = {0}, sig2 = {0};
        /* Example_signVerify_Schnorr_*_ESP: SignSingle, VerifySingle. */
        assert_int_equal(
            g11c_sign_single(c, g11c_bytes_of(&priv), &m, (g11c_bytes){msg, MSG_LEN}, &sig),
            CKR_OK);
        assert_int_equal(g11c_verify_single(c, g11c_bytes_of(&pub), &m, (g11c_bytes){msg, MSG_LEN},
                                            g11c_bytes_of(&sig)),
                         CKR_OK);
        check_independently(curve, VARIANTS[v], &pub, msg, &sig);
        /* Init/Update/Final both ways, crossed with the single-part flow. */
        multi_sign(c, &m, &priv, msg, &sig2);
        check_independently(curve, VARIANTS[v], &pub, msg, &sig2);
        assert_int_equal(multi_verify(c, &m, &pub, msg, &sig), CKR_OK);
        assert_int_equal(g11c_verify_single(c, g11c_bytes_of(&pub), &m, (g11c_bytes){msg, MSG_LEN},
                                            g11c_bytes_of(&sig2)),
                         CKR_OK);
        /* A tampered signature. */
        sig.ptr[33] ^= 0x01;
        assert_int_equal(g11c_verify_single(c, g11c_bytes_of(&pub), &m, (g11c_bytes){msg, MSG_LEN},
                                            g11c_bytes_of(&sig)),
                         CKR_SIGNATURE_INVALID);
        assert_int_equal(multi_verify(c, &m, &pub, msg, &sig), CKR_SIGNATURE_INVALID);
        g11c_buf_free(&sig);
        g11c_buf_free(&sig2);
    }
    g11c_buf_free(&priv);
    g11c_buf_free(&pub);
    free(msg);
}

static void ibm_example_secp256k1(void **state)
{
    run_example(*state, "secp256k1", OID_K1, sizeof(OID_K1));
}

static void ibm_example_p256(void **state)
{
    run_example(*state, "P-256", OID_P256, sizeof(OID_P256));
}

/* Signatures made outside (libsecp256k1) verify through grep11d under the
 * plain SPKI of their key (an untrusted public key, which GREP11 accepts
 * for verification); a flipped bit is refused. */
static void outside_signature_verifies(void **state)
{
    test_fixture *f = *state;
    g11c_conn *c = f->conn;
    static const uint8_t SPKI_K1[23] = {0x30, 0x56, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86,
                                        0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
                                        0x81, 0x04, 0x00, 0x0a, 0x03, 0x42, 0x00};
    uint8_t d[32], k[32], msg[MSG_LEN], sig[64], spki[sizeof(SPKI_K1) + 65];
    g11c_buf pub = {spki, sizeof(spki)};
    assert_int_equal(RAND_bytes(msg, sizeof(msg)), 1);
    memset(d, 0x11, sizeof(d));
    memset(k, 0x22, sizeof(k));
    memcpy(spki, SPKI_K1, sizeof(SPKI_K1));
    assert_int_equal(sref_k1_point(d, spki + sizeof(SPKI_K1)), 0);
    for (size_t v = 0; v < 2; v++) {
        g11c_mech m = ecsg(VARIANTS[v]);
        assert_int_equal(sref_k1_sign(VARIANTS[v], d, k, msg, sizeof(msg), sig), 0);
        assert_int_equal(g11c_verify_single(c, g11c_bytes_of(&pub), &m,
                                            (g11c_bytes){msg, sizeof(msg)}, (g11c_bytes){sig, 64}),
                         CKR_OK);
        sig[0] ^= 0x40;
        assert_int_equal(g11c_verify_single(c, g11c_bytes_of(&pub), &m,
                                            (g11c_bytes){msg, sizeof(msg)}, (g11c_bytes){sig, 64}),
                         CKR_SIGNATURE_INVALID);
    }
}

static void bls_and_bad_types_refused(void **state)
{
    test_fixture *f = *state;
    g11c_conn *c = f->conn;
    g11c_buf priv = {0}, pub = {0}, sig = {0};
    const uint8_t msg[] = "BLS is not offered";
    g11c_mech m = ecsg(ECSG_IBM_BLS);
    ec_pair(c, OID_K1, sizeof(OID_K1), &priv, &pub);
    assert_int_equal(
        g11c_sign_single(c, g11c_bytes_of(&priv), &m, (g11c_bytes){msg, sizeof(msg)}, &sig),
        CKR_MECHANISM_INVALID);
    m = ecsg(4);
    assert_int_equal(
        g11c_sign_single(c, g11c_bytes_of(&priv), &m, (g11c_bytes){msg, sizeof(msg)}, &sig),
        CKR_MECHANISM_PARAM_INVALID);
    m = (g11c_mech){.type = CKM_IBM_ECDSA_OTHER};
    assert_int_equal(
        g11c_sign_single(c, g11c_bytes_of(&priv), &m, (g11c_bytes){msg, sizeof(msg)}, &sig),
        CKR_MECHANISM_PARAM_INVALID);
    g11c_buf_free(&priv);
    g11c_buf_free(&pub);
}

static void mechanism_listed_with_true_sizes(void **state)
{
    test_fixture *f = *state;
    CK_MECHANISM_INFO mi;
    assert_int_equal(test_mechanism_listed(f->conn, CKM_IBM_ECDSA_OTHER, &mi), 1);
    assert_true((mi.flags & (CKF_SIGN | CKF_VERIFY)) == (CKF_SIGN | CKF_VERIFY));
    assert_false(mi.flags & (CKF_DERIVE | CKF_ENCRYPT | CKF_GENERATE_KEY_PAIR));
    assert_int_equal(mi.ulMinKeySize, 256);
    assert_int_equal(mi.ulMaxKeySize, 256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ibm_example_secp256k1),
        cmocka_unit_test(ibm_example_p256),
        cmocka_unit_test(outside_signature_verifies),
        cmocka_unit_test(bls_and_bad_types_refused),
        cmocka_unit_test(mechanism_listed_with_true_sizes),
    };
    return cmocka_run_group_tests(tests, test_fixture_setup, test_fixture_teardown);
}
