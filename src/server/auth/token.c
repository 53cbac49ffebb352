/* Bearer tokens: "g11t1." base64url(payload) "." base64url(HMAC-SHA256).
 *
 * payload = key_id[12] | roles u32 | expires_at u64 | principal_len u8 |
 *           principal | ngrants u8 | grants[16*n] | cert_len u8 | cert
 * (integers big-endian). Stateless: any replica with the same master key
 * verifies it; revocation is checked by the caller against the key id. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "be.h"

#define TOKEN_PREFIX "g11t1."
#define PAYLOAD_MAX                                                                                \
    (AUTH_KEY_ID_LEN + 4 + 8 + 1 + AUTH_MAX_PRINCIPAL + 1 + 16 * AUTH_MAX_GRANTS + 1 +             \
     AUTH_MAX_CERT_ID)

struct auth_token_key {
    EVP_MAC_CTX *keyed; /* only ever duplicated */
};

auth_token_key *auth_token_key_new(const uint8_t key[32])
{
    auth_token_key *k = calloc(1, sizeof(*k));
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    OSSL_PARAM prm[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end()};
    if (k != NULL && hmac != NULL && (k->keyed = EVP_MAC_CTX_new(hmac)) != NULL &&
        EVP_MAC_init(k->keyed, key, 32, prm) != 1) {
        EVP_MAC_CTX_free(k->keyed);
        k->keyed = NULL;
    }
    EVP_MAC_free(hmac); /* the context holds its own reference */
    if (k != NULL && k->keyed == NULL) {
        free(k);
        k = NULL;
    }
    return k;
}

void auth_token_key_free(auth_token_key *k)
{
    if (k == NULL)
        return;
    EVP_MAC_CTX_free(k->keyed); /* wipes the key it holds */
    free(k);
}

static int mac(const auth_token_key *k, const uint8_t *msg, size_t len, uint8_t out[32])
{
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(k->keyed);
    size_t outlen = 0;
    int ok = c != NULL && EVP_MAC_update(c, msg, len) == 1 &&
             EVP_MAC_final(c, out, &outlen, 32) == 1 && outlen == 32;
    EVP_MAC_CTX_free(c);
    return ok;
}

CK_RV auth_token_issue(const auth_token_key *mac_key, const auth_identity *id,
                       char out[AUTH_TOKEN_MAX])
{
    uint8_t p[PAYLOAD_MAX], tag[32];
    size_t plen = strlen(id->principal), clen = strlen(id->cert_identity), n = 0;
    if (mac_key == NULL) /* custody locked: no caller gets this far */
        return CKR_GENERAL_ERROR;
    if (plen > AUTH_MAX_PRINCIPAL || clen > AUTH_MAX_CERT_ID || id->ngrants > AUTH_MAX_GRANTS)
        return CKR_ARGUMENTS_BAD;
    memcpy(p + n, id->key_id, AUTH_KEY_ID_LEN);
    n += AUTH_KEY_ID_LEN;
    be_put(p + n, id->roles, 4);
    n += 4;
    be_put(p + n, id->expires_at, 8);
    n += 8;
    p[n++] = (uint8_t)plen;
    memcpy(p + n, id->principal, plen);
    n += plen;
    p[n++] = (uint8_t)id->ngrants;
    memcpy(p + n, id->grants, 16 * id->ngrants);
    n += 16 * id->ngrants;
    p[n++] = (uint8_t)clen;
    memcpy(p + n, id->cert_identity, clen);
    n += clen;
    if (!mac(mac_key, p, n, tag))
        return CKR_GENERAL_ERROR;
    size_t o = strlen(TOKEN_PREFIX);
    memcpy(out, TOKEN_PREFIX, o);
    size_t w = auth_b64url_encode(p, n, out + o, AUTH_TOKEN_MAX - o);
    if (!w || o + w + 1 + 44 >= AUTH_TOKEN_MAX)
        return CKR_GENERAL_ERROR;
    o += w;
    out[o++] = '.';
    auth_b64url_encode(tag, sizeof(tag), out + o, AUTH_TOKEN_MAX - o);
    return CKR_OK;
}

CK_RV auth_token_verify(const auth_token_key *mac_key, const char *token, uint64_t now,
                        auth_identity *out)
{
    const CK_RV bad = CKR_IBM_GREP11_NOT_AUTHENTICATED;
    uint8_t p[PAYLOAD_MAX], tag[32], want[32];
    size_t pre = strlen(TOKEN_PREFIX);
    if (!mac_key || !token || strncmp(token, TOKEN_PREFIX, pre) != 0)
        return bad;
    const char *body = token + pre;
    const char *dot = strchr(body, '.');
    if (!dot)
        return bad;
    size_t n = auth_b64url_decode(body, (size_t)(dot - body), p, sizeof(p));
    if (n == (size_t)-1 ||
        auth_b64url_decode(dot + 1, strlen(dot + 1), tag, sizeof(tag)) != sizeof(tag))
        return bad;
    /* Authenticate before parsing: nothing unauthenticated is interpreted. */
    if (!mac(mac_key, p, n, want))
        return CKR_GENERAL_ERROR;
    if (CRYPTO_memcmp(want, tag, sizeof(tag)) != 0)
        return bad;

    memset(out, 0, sizeof(*out));
    size_t i = 0;
    if (n < AUTH_KEY_ID_LEN + 4 + 8 + 1)
        return bad;
    memcpy(out->key_id, p, AUTH_KEY_ID_LEN);
    i += AUTH_KEY_ID_LEN;
    out->roles = (uint32_t)be_get(p + i, 4);
    i += 4;
    out->expires_at = be_get(p + i, 8);
    i += 8;
    size_t plen = p[i++];
    if (plen > AUTH_MAX_PRINCIPAL || i + plen + 1 > n)
        return bad;
    memcpy(out->principal, p + i, plen);
    i += plen;
    size_t ng = p[i++];
    if (ng > AUTH_MAX_GRANTS || i + 16 * ng + 1 > n)
        return bad;
    memcpy(out->grants, p + i, 16 * ng);
    out->ngrants = ng;
    i += 16 * ng;
    size_t clen = p[i++];
    if (clen > AUTH_MAX_CERT_ID || i + clen != n)
        return bad;
    memcpy(out->cert_identity, p + i, clen);
    if (out->expires_at <= now)
        return bad;
    return CKR_OK;
}
