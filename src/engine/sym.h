/* Symmetric cipher operations with serializable state: AES ECB, CBC,
 * CBC-PAD, CTR, GCM and DES3 ECB, CBC, CBC-PAD. */
#ifndef GREP11_ENGINE_SYM_H
#define GREP11_ENGINE_SYM_H

#include <openssl/evp.h>

#include "buf.h"
#include "ghash.h"
#include "keyobj.h"

typedef enum { CM_ECB = 1, CM_CBC, CM_CBC_PAD, CM_CTR, CM_GCM } cipher_mode;

typedef struct {
    cipher_mode mode;
    bool enc;
    CK_KEY_TYPE ktype;
    uint8_t key[32];
    size_t klen, bs;
    uint8_t iv[16];  /* CBC: chaining block; CTR: initial counter; GCM: J0 */
    uint8_t buf[16]; /* partial input block (GCM encrypt: partial ciphertext) */
    size_t blen;
    uint64_t total; /* CTR and GCM: bytes processed so far */
    unsigned ctr_bits;
    /* GCM */
    uint8_t y[16]; /* GHASH accumulator */
    uint64_t aad_bytes;
    unsigned tag_bytes;
    wbuf held; /* GCM decrypt: ciphertext kept until the tag verifies */
    size_t held_max;
    /* transient, never serialized */
    const uint8_t *p_iv, *p_aad; /* GCM parameters borrowed from the mechanism */
    size_t p_ivlen, p_aadlen;
    EVP_CIPHER_CTX *ecb;
    ghash_key gk;
    bool gk_ready;
} sym_ctx;

/* Parses the mechanism and its parameter for this key (CK_RVs per PKCS #11:
 * CKR_MECHANISM_PARAM_INVALID, CKR_KEY_TYPE_INCONSISTENT, …). */
CK_RV sym_init(sym_ctx *c, const engine *e, CK_MECHANISM_TYPE mech, const engine_mech *m,
               const key_obj *k, bool enc);
CK_RV sym_update(sym_ctx *c, const uint8_t *in, size_t n, wbuf *out);
CK_RV sym_final(sym_ctx *c, wbuf *out);
void sym_save(const sym_ctx *c, wbuf *w);
CK_RV sym_load(sym_ctx *c, const engine *e, rbuf *r);
void sym_wipe(sym_ctx *c);
/* True when init + one update + final is equivalent to the single-part
 * operation's input checks (lengths) for this mode. */
CK_RV sym_single(sym_ctx *c, const uint8_t *in, size_t n, wbuf *out);

/* Raw AES/DES3 helpers for other files (wrap, cmac). */
const EVP_CIPHER *sym_ecb_cipher(CK_KEY_TYPE kt, size_t klen);
const EVP_CIPHER *sym_cbc_cipher(CK_KEY_TYPE kt, size_t klen);
/* Expands a 16-byte DES2 key to the 24 bytes DES-EDE3 needs. */
size_t sym_des_key(const uint8_t *k, size_t klen, uint8_t out[24]);

/* gcm.c */
CK_RV gcm_parse(const engine_mech *m, const uint8_t **iv, size_t *ivlen, const uint8_t **aad,
                size_t *aadlen, unsigned *tag_bytes);
CK_RV gcm_start(sym_ctx *c, const uint8_t *iv, size_t ivlen, const uint8_t *aad, size_t aadlen);
CK_RV gcm_update(sym_ctx *c, const uint8_t *in, size_t n, wbuf *out);
CK_RV gcm_final(sym_ctx *c, wbuf *out);
CK_RV gcm_single(const sym_ctx *c, const uint8_t *iv, size_t ivlen, const uint8_t *aad,
                 size_t aadlen, const uint8_t *in, size_t n, wbuf *out);
/* Encrypts counter blocks for CTR and GCM: keystream for block index
 * `first` onward, counter = low `bits` bits of cb. */
CK_RV sym_keystream_xor(sym_ctx *c, const uint8_t cb[16], unsigned bits, uint64_t pos,
                        const uint8_t *in, uint8_t *out, size_t n);
CK_RV sym_ecb_blocks(sym_ctx *c, const uint8_t *in, uint8_t *out, size_t n);

#endif
