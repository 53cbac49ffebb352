#include "testspki.h"

#include <openssl/x509.h>
#include <string.h>

/* SEQUENCE { SEQUENCE { id-ecPublicKey, 1.3.101.x }: the fixed head of an
 * Edwards/Montgomery SPKI in IBM's form (keys of at most 57 bytes). */
static const uint8_t IBM_HEAD[] = {0x30, 0x0e, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
                                   0x3d, 0x02, 0x01, 0x06, 0x03, 0x2b, 0x65};

int testspki_ibm_form(const uint8_t *der, size_t len)
{
    return len > 2 + sizeof(IBM_HEAD) + 3 && der[0] == 0x30 &&
           memcmp(der + 2, IBM_HEAD, sizeof(IBM_HEAD)) == 0 && der[2 + sizeof(IBM_HEAD)] >= 0x6e &&
           der[2 + sizeof(IBM_HEAD)] <= 0x71;
}

EVP_PKEY *testspki_key(const uint8_t *der, size_t len)
{
    static const int NIDS[4] = {NID_X25519, NID_X448, NID_ED25519, NID_ED448};
    const unsigned char *p = der;
    if (!testspki_ibm_form(der, len))
        return d2i_PUBKEY(NULL, &p, (long)len);
    size_t at = 2 + sizeof(IBM_HEAD) + 1; /* the BIT STRING */
    size_t total = 2 + (size_t)der[1];
    if (total > len || der[at] != 0x03 || at + 3 > total || der[at + 2] != 0 ||
        at + 2 + der[at + 1] != total)
        return NULL;
    int nid = NIDS[der[2 + sizeof(IBM_HEAD)] - 0x6e];
    return EVP_PKEY_new_raw_public_key(nid, NULL, der + at + 3, (size_t)der[at + 1] - 1);
}
