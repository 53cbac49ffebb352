/* GenerateKeyPair: template policy (policy_pair.c), generation per
 * algorithm, a pairwise-consistency test on every pair, then the private
 * key sealed and the public key MACed (README "Key pairs"). */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "mech.h"
#include "pkey.h"
#include "pqc.h"

#define PAIR_MAX 16384u

/* RSA, EC, Ed and X through OpenSSL; the SPKI and private part from its key. */
static CK_RV gen_ossl(const pair_params *pp, wbuf *spki, wbuf *priv)
{
    CK_RV rv = CKR_FUNCTION_FAILED;
    const char *type = pp->alg == PK_RSA ? "RSA" : pp->alg == PK_EC ? "EC" : pp->curve->ossl;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *k = NULL;
    BIGNUM *bn = NULL, *n = NULL;
    uint8_t buf[1024], pub[160];
    size_t l = 0;

    if (c == NULL || EVP_PKEY_keygen_init(c) != 1)
        goto out;
    if (pp->alg == PK_RSA) {
        bn = BN_bin2bn(pp->e, (int)pp->elen, NULL);
        if (bn == NULL || EVP_PKEY_CTX_set_rsa_keygen_bits(c, (int)pp->bits) != 1 ||
            EVP_PKEY_CTX_set1_rsa_keygen_pubexp(c, bn) != 1)
            goto out;
    } else if (pp->alg == PK_EC && EVP_PKEY_CTX_set_group_name(c, pp->curve->ossl) != 1) {
        goto out;
    }
    if (EVP_PKEY_generate(c, &k) != 1)
        goto out;
    switch (pp->alg) {
    case PK_RSA:
        if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
            BN_num_bytes(n) > (int)sizeof(buf))
            goto out;
        l = (size_t)BN_bn2bin(n, buf);
        if ((rv = spki_build(PK_RSA, NULL, NULL, buf, l, pp->e, pp->elen, spki)) == CKR_OK)
            rv = pkey_rsa_priv_encode(k, priv);
        goto out;
    case PK_EC:
        if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &n) != 1 ||
            BN_bn2binpad(n, buf, (int)pp->curve->priv_len) != (int)pp->curve->priv_len ||
            EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub, sizeof(pub),
                                            &l) != 1 ||
            l != pp->curve->pub_len)
            goto out;
        l = pp->curve->pub_len;
        wbuf_put(priv, buf, pp->curve->priv_len);
        break;
    default:
        l = pp->curve->priv_len;
        if (EVP_PKEY_get_raw_private_key(k, buf, &l) != 1 || l != pp->curve->priv_len)
            goto out;
        wbuf_put(priv, buf, l);
        l = pp->curve->pub_len;
        if (EVP_PKEY_get_raw_public_key(k, pub, &l) != 1 || l != pp->curve->pub_len)
            goto out;
        break;
    }
    rv = spki_build(pp->alg, pp->curve, NULL, pub, l, NULL, 0, spki);
out:
    OPENSSL_cleanse(buf, sizeof(buf));
    BN_clear_free(n);
    BN_free(bn);
    EVP_PKEY_free(k);
    EVP_PKEY_CTX_free(c);
    return rv;
}

/* ML-DSA/Dilithium and ML-KEM/Kyber from seeds drawn from the private DRBG. */
static CK_RV gen_pqc(const pair_params *pp, wbuf *spki, wbuf *priv)
{
    CK_RV rv = CKR_FUNCTION_FAILED;
    const pqc_def *q = pp->pqc;
    uint8_t seed[96], *pk = NULL, *sk;
    size_t pkl, skl, sl;
    pqc_rv pr;

    if (q->alg == PK_MLDSA) {
        pkl = mldsa_pk_bytes((mldsa_set)q->set), skl = mldsa_sk_bytes((mldsa_set)q->set);
        sl = mldsa_seed_bytes((mldsa_set)q->set);
    } else {
        pkl = mlkem_ek_bytes((mlkem_set)q->set), skl = mlkem_dk_bytes((mlkem_set)q->set);
        sl = 2 * MLKEM_SEED_BYTES;
    }
    if (pkl == 0 || skl == 0 || sl > sizeof(seed))
        return CKR_IBM_PQC_PARAMS_NOT_SUPPORTED;
    pk = malloc(pkl);
    sk = wbuf_reserve(priv, skl);
    if (pk == NULL || sk == NULL) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    if (RAND_priv_bytes(seed, (int)sl) != 1) {
        rv = CKR_DEVICE_ERROR;
        goto out;
    }
    pr = q->alg == PK_MLDSA ? mldsa_keygen((mldsa_set)q->set, seed, sl, pk, pkl, sk, skl)
                            : mlkem_keygen((mlkem_set)q->set, seed, sl, pk, pkl, sk, skl);
    if (pr == PQC_OK)
        rv = spki_build(q->alg, NULL, q, pk, pkl, NULL, 0, spki);
out:
    OPENSSL_cleanse(seed, sizeof(seed));
    free(pk);
    return rv;
}

/* Pairwise consistency (FIPS 140-3 style): the pair, rebuilt from the very
 * bytes that will be sealed, signs and verifies, or encapsulates and
 * decapsulates, or (X25519/X448) re-derives its public key. */
static CK_RV pair_check_ossl(const pkey *priv, const pkey *pub)
{
    static const uint8_t MSG[] = "grep11 pairwise consistency";
    CK_RV rv = CKR_GENERAL_ERROR;
    EVP_PKEY *a = NULL, *b = NULL;
    EVP_MD_CTX *s = EVP_MD_CTX_new(), *v = EVP_MD_CTX_new();
    const EVP_MD *md = priv->alg == PK_ED ? NULL : EVP_sha256();
    uint8_t sig[1024], raw[64];
    size_t sl = sizeof(sig), rl = sizeof(raw);

    if (s == NULL || v == NULL || pkey_evp(priv, &a) != CKR_OK || pkey_evp(pub, &b) != CKR_OK)
        goto out;
    if (priv->alg == PK_DH) {
        /* y == g^x mod p, computed again from x alone. */
        uint8_t y[1024];
        size_t yl = 0;
        if (ffc_public_of(priv->fp, priv->fg, priv->priv, priv->priv_len, y, sizeof(y), &yl) ==
                CKR_OK &&
            yl == pub->pub.len && CRYPTO_memcmp(y, pub->pub.p, yl) == 0)
            rv = CKR_OK;
        goto out;
    }
    if (priv->alg == PK_X) {
        /* Recompute the public key from the private one alone (pkey_evp would
         * take the stored public half as given). */
        EVP_PKEY *x = EVP_PKEY_new_raw_private_key_ex(NULL, priv->curve->ossl, NULL, priv->priv,
                                                      priv->priv_len);
        if (x != NULL && EVP_PKEY_get_raw_public_key(x, raw, &rl) == 1 && rl == pub->pub.len &&
            CRYPTO_memcmp(raw, pub->pub.p, rl) == 0)
            rv = CKR_OK;
        EVP_PKEY_free(x);
        goto out;
    }
    if (EVP_DigestSignInit_ex(s, NULL, md ? "SHA256" : NULL, NULL, NULL, a, NULL) != 1 ||
        EVP_DigestSign(s, sig, &sl, MSG, sizeof(MSG)) != 1 ||
        EVP_DigestVerifyInit_ex(v, NULL, md ? "SHA256" : NULL, NULL, NULL, b, NULL) != 1 ||
        EVP_DigestVerify(v, sig, sl, MSG, sizeof(MSG)) != 1)
        goto out;
    rv = CKR_OK;
out:
    EVP_MD_CTX_free(s);
    EVP_MD_CTX_free(v);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    return rv;
}

static CK_RV pair_check_pqc(const pkey *priv)
{
    static const uint8_t MSG[] = "grep11 pairwise consistency";
    CK_RV rv = CKR_GENERAL_ERROR;
    const pqc_def *q = priv->pqc;
    uint8_t *buf = NULL, ss1[MLKEM_SS_BYTES], ss2[MLKEM_SS_BYTES], m[32] = {0};
    size_t len;

    if (q->alg == PK_MLDSA) {
        len = mldsa_sig_bytes((mldsa_set)q->set);
        if ((buf = malloc(len)) == NULL)
            return CKR_HOST_MEMORY;
        /* Deterministic signing: no randomness needed to prove consistency. */
        if (mldsa_sign((mldsa_set)q->set, priv->priv, priv->priv_len, MSG, sizeof(MSG), NULL, 0,
                       NULL, 0, buf, len) == PQC_OK &&
            mldsa_verify((mldsa_set)q->set, priv->pub.p, priv->pub.len, MSG, sizeof(MSG), NULL, 0,
                         buf, len) == PQC_OK)
            rv = CKR_OK;
    } else {
        len = mlkem_ct_bytes((mlkem_set)q->set);
        if ((buf = malloc(len)) == NULL)
            return CKR_HOST_MEMORY;
        if (RAND_bytes(m, sizeof(m)) == 1 &&
            mlkem_encaps((mlkem_set)q->set, priv->pub.p, priv->pub.len, m, sizeof(m), buf, len, ss1,
                         sizeof(ss1)) == PQC_OK &&
            mlkem_decaps((mlkem_set)q->set, priv->priv, priv->priv_len, buf, len, ss2,
                         sizeof(ss2)) == PQC_OK &&
            CRYPTO_memcmp(ss1, ss2, sizeof(ss1)) == 0)
            rv = CKR_OK;
    }
    OPENSSL_cleanse(ss1, sizeof(ss1));
    OPENSSL_cleanse(ss2, sizeof(ss2));
    free(buf);
    return rv;
}

CK_RV pkey_pair_check(const uint8_t *spki, size_t slen, const uint8_t *priv, size_t plen)
{
    CK_RV rv = CKR_GENERAL_ERROR;
    pkey a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    if (spki_parse(spki, slen, &a) != CKR_OK || spki_parse(spki, slen, &b) != CKR_OK)
        goto out;
    a.is_private = true;
    a.priv = priv;
    a.priv_len = plen;
    rv = (a.alg == PK_MLDSA || a.alg == PK_MLKEM) ? pair_check_pqc(&a) : pair_check_ossl(&a, &b);
    if (rv != CKR_OK)
        rv = CKR_GENERAL_ERROR;
out:
    pkey_clear(&a);
    pkey_clear(&b);
    return rv;
}

CK_RV engine_generate_key_pair(engine *e, const engine_mech *m, const CK_ATTRIBUTE *pub_tmpl,
                               CK_ULONG npub, const CK_ATTRIBUTE *priv_tmpl, CK_ULONG npriv,
                               engine_buf *priv_blob, engine_buf *pub_key)
{
    CK_RV rv;
    const mech_row *row;
    pair_params pp;
    key_obj pubk, privk;
    wbuf spki, priv;

    if (e == NULL || m == NULL || priv_blob == NULL || pub_key == NULL)
        return CKR_ARGUMENTS_BAD;
    *priv_blob = (engine_buf){NULL, 0};
    *pub_key = (engine_buf){NULL, 0};
    row = mech_find(m->type);
    if (row == NULL || !(row->flags & CKF_GENERATE_KEY_PAIR))
        return CKR_MECHANISM_INVALID;
    if ((rv = mech_no_param(m)) != CKR_OK)
        return rv;
    memset(&privk, 0, sizeof(privk));
    wbuf_init(&spki, PAIR_MAX);
    wbuf_init(&priv, PAIR_MAX);
    if ((rv = policy_new_pair(e, m->type, row->pair_kt, pub_tmpl, npub, priv_tmpl, npriv, &pp,
                              &pubk, &privk)) != CKR_OK)
        goto out;
    rv = (pp.alg == PK_MLDSA || pp.alg == PK_MLKEM) ? gen_pqc(&pp, &spki, &priv)
         : (pp.alg == PK_DSA || pp.alg == PK_DH)    ? ffc_generate(&pp, &spki, &priv)
                                                    : gen_ossl(&pp, &spki, &priv);
    if (rv == CKR_OK && (spki.err || priv.err))
        rv = CKR_HOST_MEMORY;
    if (rv != CKR_OK)
        goto out;
    if ((rv = pkey_pair_check(spki.p, spki.len, priv.p, priv.len)) != CKR_OK)
        goto out;
    if ((rv = pkey_payload(spki.p, spki.len, priv.p, priv.len, &privk)) != CKR_OK)
        goto out;
    if ((rv = key_seal(&e->d->cur, &privk, priv_blob)) != CKR_OK)
        goto out;
    if ((rv = spki_mac_seal(&e->d->cur, spki.p, spki.len, &pubk, pub_key)) != CKR_OK)
        engine_buf_free(priv_blob);
out:
    key_obj_clear(&privk);
    wbuf_free(&spki);
    wbuf_free(&priv);
    return rv;
}
