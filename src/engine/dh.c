/* PKCS #3 Diffie-Hellman derivation (CKM_DH_PKCS_DERIVE): the peer's
 * public value y in ParameterB (big-endian), checked against the domain
 * parameters; Z is padded to the length of p, and the new key takes its
 * leading CKA_VALUE_LEN bytes (default: all). */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>

#include "kex.h"

CK_RV dh_derive(engine *e, const engine_mech *m, const CK_ATTRIBUTE *tin, CK_ULONG n,
                engine_bytes base, engine_buf *key_blob, engine_buf *checksum)
{
    CK_RV rv;
    pkey k, peer;
    EVP_PKEY *mine = NULL, *theirs = NULL;
    EVP_PKEY_CTX *c = NULL;
    uint8_t z[1024];
    size_t zl = sizeof(z), len = 0;
    key_ctx ctx = {ORIGIN_DERIVE, 0, CK_UNAVAILABLE_INFORMATION, 0, NULL};

    if ((rv = pkey_load_private(e, base, &k)) != CKR_OK)
        return rv;
    if ((rv = policy_check_usage(&k.obj, KF_DERIVE, m->type)) != CKR_OK)
        goto out;
    if (k.alg != PK_DH) {
        rv = CKR_KEY_TYPE_INCONSISTENT;
        goto out;
    }
    rv = CKR_MECHANISM_PARAM_INVALID;
    if (m->kind != ENGINE_PARAM_BYTES || m->bytes.len == 0 || m->bytes.len > k.fp.len + 1)
        goto out;
    memset(&peer, 0, sizeof(peer));
    peer.alg = PK_DH;
    peer.fp = k.fp, peer.fq = k.fq, peer.fg = k.fg;
    peer.pub = (der_span){m->bytes.ptr, m->bytes.len};
    while (peer.pub.len > 1 && peer.pub.p[0] == 0)
        peer.pub.p++, peer.pub.len--;
    if (ffc_evp(&peer, &theirs) != CKR_OK || ffc_evp(&k, &mine) != CKR_OK)
        goto out;
    if ((c = EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL)) == NULL ||
        EVP_PKEY_derive_init(c) != 1 || EVP_PKEY_CTX_set_dh_pad(c, 1) != 1) {
        rv = CKR_FUNCTION_FAILED;
        goto out;
    }
    /* Validation rejects y outside [2, p-2] (and the subgroup, when q is known). */
    if (EVP_PKEY_derive_set_peer_ex(c, theirs, 1) != 1 || EVP_PKEY_derive(c, z, &zl) != 1)
        goto out;
    if ((rv = derive_len(tin, n, zl, &len)) != CKR_OK)
        goto out;
    if (len > zl) {
        rv = CKR_TEMPLATE_INCONSISTENT;
        goto out;
    }
    ctx.mech = m->type;
    ctx.val_len = len;
    ctx.base = &k.obj;
    rv = keys_make_secret(e, tin, n, &ctx, z, len, key_blob, checksum);
out:
    OPENSSL_cleanse(z, sizeof(z));
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(mine);
    EVP_PKEY_free(theirs);
    pkey_clear(&k);
    return rv;
}
