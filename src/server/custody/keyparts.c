#include "keyparts.h"

#include <openssl/crypto.h>
#include <string.h>

#include "bytes.h"

void keyacc_clear(keyacc *k)
{
    OPENSSL_cleanse(k, sizeof(*k));
    k->n = 0;
    k->shamir = 0;
}

CK_RV keyacc_add_part(keyacc *k, const uint8_t part[KEYPART_LEN])
{
    if ((k->n && k->shamir) || k->n >= SHAMIR_MAX_SHARES)
        return CKR_ARGUMENTS_BAD;
    for (int i = 0; i < KEYPART_LEN; i++)
        k->acc[i] ^= part[i];
    k->n++;
    return CKR_OK;
}

CK_RV keyacc_add_share(keyacc *k, const shamir_share *s)
{
    if ((k->n && !k->shamir) || k->n >= SHAMIR_MAX_SHARES)
        return CKR_ARGUMENTS_BAD;
    for (unsigned i = 0; i < k->n; i++)
        if (k->shares[i].x == s->x || memcmp(k->shares[i].set, s->set, 8) != 0 ||
            k->shares[i].m != s->m)
            return CKR_ARGUMENTS_BAD;
    k->shamir = 1;
    k->shares[k->n++] = *s;
    return CKR_OK;
}

int keyacc_key(const keyacc *k, uint8_t out[KEYPART_LEN])
{
    if (k->n == 0) {
        OPENSSL_cleanse(out, KEYPART_LEN);
        return -1;
    }
    if (!k->shamir) {
        memcpy(out, k->acc, KEYPART_LEN);
        return 0;
    }
    if (k->n < k->shares[0].m) {
        OPENSSL_cleanse(out, KEYPART_LEN);
        return -1;
    }
    return shamir_combine(k->shares, k->n, out);
}

void keyacc_vp(const keyacc *k, char out[17])
{
    uint8_t key[KEYPART_LEN];
    out[0] = '\0';
    if (keyacc_key(k, key) == 0)
        custody_vp(key, KEYPART_LEN, out);
    OPENSSL_cleanse(key, sizeof(key));
}
