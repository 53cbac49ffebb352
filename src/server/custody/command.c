#include "command.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CUSTODY_MAX_NAME)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

static int value_ok(const char *s)
{
    size_t n = strlen(s);
    if (n > CUSTODY_MAX_VALUE)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return 0;
    return 1;
}

static int arg_cmp(const void *a, const void *b)
{
    return strcmp(((const custody_arg *)a)->key, ((const custody_arg *)b)->key);
}

CK_RV custody_cmd_encode(const custody_cmd *c, uint8_t **out, size_t *len)
{
    custody_arg *sorted = NULL;
    cw_buf w;
    CK_RV rv = CKR_ARGUMENTS_BAD;
    *out = NULL;
    *len = 0;
    if (!name_ok(c->name) || c->nargs > CUSTODY_MAX_ARGS)
        return CKR_ARGUMENTS_BAD;
    sorted = calloc(c->nargs ? c->nargs : 1, sizeof(*sorted));
    if (!sorted)
        return CKR_HOST_MEMORY;
    memcpy(sorted, c->args, c->nargs * sizeof(*sorted));
    if (c->nargs > 1)
        qsort(sorted, c->nargs, sizeof(*sorted), arg_cmp);
    for (size_t i = 0; i < c->nargs; i++)
        if (!name_ok(sorted[i].key) || !value_ok(sorted[i].val) ||
            (i && strcmp(sorted[i - 1].key, sorted[i].key) == 0))
            goto out;
    cw_init(&w, CUSTODY_MAX_CMD);
    cw_str(&w, CUSTODY_MAGIC);
    cw_lv(&w, c->instance, 16);
    cw_u64(&w, c->epoch);
    cw_lv(&w, c->nonce, 16);
    cw_str(&w, c->name);
    cw_u32(&w, (uint32_t)c->nargs);
    for (size_t i = 0; i < c->nargs; i++) {
        cw_str(&w, sorted[i].key);
        cw_str(&w, sorted[i].val);
    }
    if (w.err) {
        cw_free(&w);
        goto out;
    }
    *out = w.p; /* ownership moves to the caller */
    *len = w.len;
    rv = CKR_OK;
out:
    free(sorted);
    return rv;
}

CK_RV custody_cmd_decode(const uint8_t *p, size_t len, custody_cmd *out)
{
    cr_buf r;
    char magic[sizeof(CUSTODY_MAGIC)];
    size_t n = 0;
    const uint8_t *q;
    memset(out, 0, sizeof(*out));
    if (!p || len > CUSTODY_MAX_CMD)
        return CKR_ARGUMENTS_BAD;
    cr_init(&r, p, len);
    if (cr_str(&r, magic, sizeof(magic)) != 0 || strcmp(magic, CUSTODY_MAGIC) != 0)
        return CKR_ARGUMENTS_BAD;
    if (!(q = cr_lv(&r, 16, &n)) || n != 16)
        return CKR_ARGUMENTS_BAD;
    memcpy(out->instance, q, 16);
    out->epoch = cr_u64(&r);
    if (!(q = cr_lv(&r, 16, &n)) || n != 16)
        return CKR_ARGUMENTS_BAD;
    memcpy(out->nonce, q, 16);
    if (cr_str(&r, out->name, sizeof(out->name)) != 0 || !name_ok(out->name))
        return CKR_ARGUMENTS_BAD;
    uint32_t nargs = cr_u32(&r);
    if (r.err || nargs > CUSTODY_MAX_ARGS)
        return CKR_ARGUMENTS_BAD;
    for (uint32_t i = 0; i < nargs; i++) {
        custody_arg *a = &out->args[i];
        if (cr_str(&r, a->key, sizeof(a->key)) != 0 || !name_ok(a->key) ||
            cr_str(&r, a->val, sizeof(a->val)) != 0 || !value_ok(a->val))
            return CKR_ARGUMENTS_BAD;
        if (i && strcmp(out->args[i - 1].key, a->key) >= 0)
            return CKR_ARGUMENTS_BAD; /* not canonical: order or duplicate */
        out->nargs++;
    }
    return cr_done(&r) ? CKR_OK : CKR_ARGUMENTS_BAD;
}

const char *custody_cmd_arg(const custody_cmd *c, const char *key)
{
    for (size_t i = 0; i < c->nargs; i++)
        if (strcmp(c->args[i].key, key) == 0)
            return c->args[i].val;
    return NULL;
}

CK_RV custody_cmd_set(custody_cmd *c, const char *key, const char *val)
{
    if (!name_ok(key) || !value_ok(val))
        return CKR_ARGUMENTS_BAD;
    for (size_t i = 0; i < c->nargs; i++)
        if (strcmp(c->args[i].key, key) == 0) {
            snprintf(c->args[i].val, sizeof(c->args[i].val), "%s", val);
            return CKR_OK;
        }
    if (c->nargs == CUSTODY_MAX_ARGS)
        return CKR_ARGUMENTS_BAD;
    snprintf(c->args[c->nargs].key, sizeof(c->args[0].key), "%s", key);
    snprintf(c->args[c->nargs].val, sizeof(c->args[0].val), "%s", val);
    c->nargs++;
    return CKR_OK;
}

/* ---- keys and signatures ----------------------------------------------- */

const char *custody_alg_name(int alg)
{
    return alg == CUSTODY_ALG_P256 ? "p256" : alg == CUSTODY_ALG_ED25519 ? "ed25519" : "unknown";
}

static EVP_PKEY *spki_key(const uint8_t *spki, size_t len)
{
    const unsigned char *q = spki;
    EVP_PKEY *k = d2i_PUBKEY(NULL, &q, (long)len);
    if (k && q != spki + len) {
        EVP_PKEY_free(k);
        k = NULL;
    }
    return k;
}

static int key_alg(EVP_PKEY *k)
{
    if (EVP_PKEY_is_a(k, "ED25519"))
        return CUSTODY_ALG_ED25519;
    if (EVP_PKEY_is_a(k, "EC")) {
        char group[64];
        size_t gl = 0;
        if (EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof(group), &gl) == 1 &&
            (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0))
            return CUSTODY_ALG_P256;
    }
    return 0;
}

CK_RV custody_admin_from_spki(const uint8_t *spki, size_t len, const char *name, custody_admin *out)
{
    memset(out, 0, sizeof(*out));
    if (!spki || len == 0 || len > CUSTODY_MAX_SPKI)
        return CKR_ARGUMENTS_BAD;
    EVP_PKEY *k = spki_key(spki, len);
    if (!k)
        return CKR_ARGUMENTS_BAD;
    out->alg = key_alg(k);
    EVP_PKEY_free(k);
    if (!out->alg)
        return CKR_ARGUMENTS_BAD;
    memcpy(out->spki, spki, len);
    out->spki_len = len;
    custody_vp(spki, len, out->keyid);
    snprintf(out->name, sizeof(out->name), "%s", name ? name : "");
    return CKR_OK;
}

int custody_sig_verify(const custody_admin *a, const uint8_t *msg, size_t len, const uint8_t *sig,
                       size_t siglen)
{
    EVP_PKEY *k = spki_key(a->spki, a->spki_len);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = 0;
    if (!k || !md || siglen == 0)
        goto out;
    if (EVP_DigestVerifyInit(md, NULL, a->alg == CUSTODY_ALG_P256 ? EVP_sha256() : NULL, NULL, k) !=
        1)
        goto out;
    ok = EVP_DigestVerify(md, sig, siglen, msg, len) == 1;
out:
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    return ok;
}

CK_RV custody_check_sigs(const custody_admin *admins, size_t nadmins, unsigned threshold,
                         const uint8_t *msg, size_t len, const custody_sig *sigs, size_t nsigs,
                         char *why, size_t cap)
{
    unsigned good = 0;
    if (nsigs > CUSTODY_MAX_SIGS) {
        snprintf(why, cap, "too many signatures (%zu)", nsigs);
        return CKR_GREP11_SIGNATURES;
    }
    for (size_t i = 0; i < nsigs; i++) {
        const custody_admin *a = NULL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(sigs[j].keyid, sigs[i].keyid) == 0) {
                snprintf(why, cap, "duplicate signature by administrator key %s", sigs[i].keyid);
                return CKR_GREP11_SIGNATURES;
            }
        for (size_t j = 0; j < nadmins && !a; j++)
            if (strcmp(admins[j].keyid, sigs[i].keyid) == 0)
                a = &admins[j];
        if (!a) {
            snprintf(why, cap, "signature by key %.16s, which is not an installed administrator",
                     sigs[i].keyid);
            return CKR_GREP11_SIGNATURES;
        }
        if (!custody_sig_verify(a, msg, len, sigs[i].sig, sigs[i].len)) {
            snprintf(why, cap,
                     "signature by administrator %s (%s) does not verify: the command was "
                     "altered or signed for another one",
                     a->keyid, a->name);
            return CKR_GREP11_SIGNATURES;
        }
        good++;
    }
    if (good < threshold) {
        snprintf(why, cap, "%u signature%s required, %u present", threshold,
                 threshold == 1 ? "" : "s", good);
        return CKR_GREP11_SIGNATURES;
    }
    return CKR_OK;
}
