/* Derived keystore keys kept in memory for a bounded time, so that only the
 * first call with a password pays scrypt. Entries expire after ttl and the
 * least recently used one is evicted when full; every eviction zeroizes. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "crypt.h"
#include "internal.h"

static void wipe_entry(kc_entry *e)
{
    OPENSSL_cleanse(e, sizeof(*e));
}

CK_RV keycache_init(keycache *kc, unsigned n, unsigned ttl_s)
{
    memset(kc, 0, sizeof(*kc));
    if (RAND_bytes(kc->secret, sizeof(kc->secret)) != 1)
        return CKR_FUNCTION_FAILED;
    kc->e = calloc(n ? n : 1, sizeof(*kc->e));
    if (kc->e == NULL)
        return CKR_HOST_MEMORY;
    kc->n = n;
    kc->ttl_us = (int64_t)ttl_s * 1000000;
    pthread_mutex_init(&kc->mu, NULL);
    return CKR_OK;
}

void keycache_fini(keycache *kc)
{
    if (kc->e == NULL)
        return;
    for (unsigned i = 0; i < kc->n; i++)
        wipe_entry(&kc->e[i]);
    free(kc->e);
    pthread_mutex_destroy(&kc->mu);
    OPENSSL_cleanse(kc, sizeof(*kc));
}

CK_RV keycache_id(const keycache *kc, const store_uuid *ks, const kdf_params *kp,
                  const unsigned char verifier[CRYPT_KEY_LEN], const unsigned char *pw,
                  size_t pwlen, unsigned char id[CRYPT_KEY_LEN])
{
    unsigned char buf[16 + sizeof(kp->salt) + 3 + CRYPT_KEY_LEN + STORE_MAX_PASSWORD];
    unsigned int outlen = 0;
    size_t off = 0;
    CK_RV rv = CKR_FUNCTION_FAILED;

    if (pwlen > STORE_MAX_PASSWORD)
        return CKR_ARGUMENTS_BAD;
    memcpy(buf + off, ks->b, 16);
    off += 16;
    memcpy(buf + off, kp->salt, sizeof(kp->salt));
    off += sizeof(kp->salt);
    buf[off++] = (unsigned char)kp->log2n;
    buf[off++] = (unsigned char)kp->r;
    buf[off++] = (unsigned char)kp->p;
    memcpy(buf + off, verifier, CRYPT_KEY_LEN);
    off += CRYPT_KEY_LEN;
    memcpy(buf + off, pw, pwlen);
    off += pwlen;
    if (HMAC(EVP_sha256(), kc->secret, sizeof(kc->secret), buf, off, id, &outlen) != NULL &&
        outlen == CRYPT_KEY_LEN)
        rv = CKR_OK;
    OPENSSL_cleanse(buf, sizeof(buf));
    return rv;
}

/* Zeroizes expired entries; called with the lock held. */
static void expire(keycache *kc, int64_t now)
{
    for (unsigned i = 0; i < kc->n; i++)
        if (kc->e[i].expires_us != 0 && kc->e[i].expires_us <= now)
            wipe_entry(&kc->e[i]);
}

bool keycache_get(keycache *kc, const unsigned char id[CRYPT_KEY_LEN], ks_keys *out)
{
    int64_t now = store_now_us();
    bool hit = false;

    if (kc->n == 0)
        return false;
    pthread_mutex_lock(&kc->mu);
    expire(kc, now);
    for (unsigned i = 0; i < kc->n && !hit; i++) {
        kc_entry *e = &kc->e[i];
        if (e->expires_us != 0 && CRYPTO_memcmp(e->id, id, CRYPT_KEY_LEN) == 0) {
            *out = e->keys;
            e->used = ++kc->tick;
            hit = true;
        }
    }
    pthread_mutex_unlock(&kc->mu);
    return hit;
}

void keycache_put(keycache *kc, const unsigned char id[CRYPT_KEY_LEN], const ks_keys *keys)
{
    int64_t now = store_now_us();
    kc_entry *victim = NULL;

    if (kc->n == 0)
        return;
    pthread_mutex_lock(&kc->mu);
    expire(kc, now);
    for (unsigned i = 0; i < kc->n; i++) {
        kc_entry *e = &kc->e[i];
        if (e->expires_us != 0 && CRYPTO_memcmp(e->id, id, CRYPT_KEY_LEN) == 0) {
            victim = e; /* refresh in place */
            break;
        }
        if (victim == NULL || victim->expires_us != 0) {
            if (e->expires_us == 0 || victim == NULL || e->used < victim->used)
                victim = e;
        }
    }
    if (victim == NULL) { /* unreachable with n > 0; keeps analysers calm */
        pthread_mutex_unlock(&kc->mu);
        return;
    }
    wipe_entry(victim);
    memcpy(victim->id, id, CRYPT_KEY_LEN);
    victim->keys = *keys;
    victim->used = ++kc->tick;
    victim->expires_us = now + kc->ttl_us;
    pthread_mutex_unlock(&kc->mu);
}
