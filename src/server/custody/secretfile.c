#include "secretfile.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "grep11/ck_ext.h"

#define MAGIC_LINE "GREP11-SECRET-FILE v1\n"
#define FILE_MAX 8192

int secretfile_meta_add(secretfile_meta *m, const char *key, const char *val)
{
    if (m->n == SECRETFILE_MAX_META || strlen(key) >= sizeof(m->key[0]) ||
        strlen(val) >= sizeof(m->val[0]) || strpbrk(key, ":\n ") || strchr(val, '\n'))
        return -1;
    snprintf(m->key[m->n], sizeof(m->key[0]), "%s", key);
    snprintf(m->val[m->n], sizeof(m->val[0]), "%s", val);
    m->n++;
    return 0;
}

const char *secretfile_meta_get(const secretfile_meta *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->key[i], key) == 0)
            return m->val[i];
    return NULL;
}

static CK_RV derive(const char *pass, const uint8_t salt[16], unsigned log2n, unsigned r,
                    unsigned p, uint8_t key[32])
{
    uint64_t n = 1ull << log2n;
    uint64_t maxmem = 130ull * r * n + (1u << 20);
    if (EVP_PBE_scrypt(pass, strlen(pass), salt, 16, n, r, p, maxmem, key, 32) != 1)
        return CKR_FUNCTION_FAILED;
    return CKR_OK;
}

static CK_RV gcm(int enc, const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad,
                 size_t aadlen, const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l = 0, ok = 0;
    if (!c)
        return CKR_HOST_MEMORY;
    if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce, enc) != 1 ||
        EVP_CipherUpdate(c, NULL, &l, aad, (int)aadlen) != 1 ||
        (len && EVP_CipherUpdate(c, out, &l, in, (int)len) != 1))
        goto out;
    if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1)
        goto out;
    if (EVP_CipherFinal_ex(c, out + len, &l) != 1)
        goto out;
    if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
        goto out;
    ok = 1;
out:
    EVP_CIPHER_CTX_free(c);
    return ok ? CKR_OK : (enc ? CKR_FUNCTION_FAILED : CKR_PIN_INCORRECT);
}

static int write_new_file(const char *path, const char *data, size_t len)
{
    char tmp[4300];
    snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int ok = write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    /* link() refuses to replace an existing file: never overwrite a key. */
    ok = ok && link(tmp, path) == 0;
    unlink(tmp);
    return ok ? 0 : -1;
}

CK_RV secretfile_write(const char *path, const secretfile_meta *meta, const uint8_t *secret,
                       size_t len, const char *passphrase, unsigned log2n, char *err, size_t errlen)
{
    uint8_t salt[16], nonce[12], key[32], tag[16], ct[SECRETFILE_MAX_SECRET + 16];
    char *text = NULL, hex[2 * (SECRETFILE_MAX_SECRET + 16) + 1];
    CK_RV rv = CKR_ARGUMENTS_BAD;
    size_t off = 0;
    if (log2n == 0)
        log2n = SECRETFILE_DEFAULT_LOG2N;
    if (len == 0 || len > SECRETFILE_MAX_SECRET || log2n < 12 || log2n > 20 || !passphrase ||
        !passphrase[0]) {
        snprintf(err, errlen, "bad arguments (empty passphrase?)");
        return CKR_ARGUMENTS_BAD;
    }
    if (access(path, F_OK) == 0) {
        snprintf(err, errlen, "%s exists; refusing to overwrite a key file", path);
        return CKR_ARGUMENTS_BAD;
    }
    text = calloc(1, FILE_MAX);
    if (!text || RAND_bytes(salt, 16) != 1 || RAND_bytes(nonce, 12) != 1) {
        rv = CKR_HOST_MEMORY;
        goto out;
    }
    off += (size_t)snprintf(text + off, FILE_MAX - off, "%s", MAGIC_LINE);
    for (size_t i = 0; i < meta->n; i++)
        off += (size_t)snprintf(text + off, FILE_MAX - off, "%s: %s\n", meta->key[i], meta->val[i]);
    hex_encode(salt, 16, hex);
    off += (size_t)snprintf(text + off, FILE_MAX - off, "kdf: scrypt %u 8 1 %s\n", log2n, hex);
    size_t aadlen = off;
    if ((rv = derive(passphrase, salt, log2n, 8, 1, key)) != CKR_OK ||
        (rv = gcm(1, key, nonce, (const uint8_t *)text, aadlen, secret, len, ct, tag)) != CKR_OK)
        goto out;
    hex_encode(nonce, 12, hex);
    off += (size_t)snprintf(text + off, FILE_MAX - off, "nonce: %s\ndata: ", hex);
    memcpy(ct + len, tag, 16);
    hex_encode(ct, len + 16, hex);
    off += (size_t)snprintf(text + off, FILE_MAX - off, "%s\n", hex);
    if (off >= FILE_MAX - 1 || write_new_file(path, text, off) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        rv = CKR_FUNCTION_FAILED;
        goto out;
    }
    rv = CKR_OK;
out:
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(ct, sizeof(ct));
    free(text);
    return rv;
}

typedef struct {
    char *text;
    size_t aadlen;
    unsigned log2n, r, p;
    uint8_t salt[16], nonce[12];
    char data[2 * (SECRETFILE_MAX_SECRET + 16) + 2];
} parsed;

static CK_RV parse(const char *path, parsed *ps, secretfile_meta *meta, char *err, size_t errlen)
{
    memset(ps, 0, sizeof(*ps));
    memset(meta, 0, sizeof(*meta));
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return CKR_ARGUMENTS_BAD;
    }
    ps->text = calloc(1, FILE_MAX + 1);
    size_t n = ps->text ? fread(ps->text, 1, FILE_MAX + 1, f) : 0;
    fclose(f);
    if (n == 0 || n > FILE_MAX || strncmp(ps->text, MAGIC_LINE, strlen(MAGIC_LINE)) != 0)
        goto bad;
    char *line = ps->text + strlen(MAGIC_LINE);
    int have_kdf = 0, have_nonce = 0, have_data = 0;
    while (*line) {
        char *nl = strchr(line, '\n');
        if (!nl)
            goto bad;
        *nl = '\0';
        char *colon = strstr(line, ": ");
        if (!colon)
            goto bad;
        *colon = '\0';
        const char *k = line, *v = colon + 2;
        char salt[40];
        if (strcmp(k, "kdf") == 0 && !have_kdf) {
            if (sscanf(v, "scrypt %u %u %u %39s", &ps->log2n, &ps->r, &ps->p, salt) != 4 ||
                ps->log2n < 10 || ps->log2n > 20 || ps->r != 8 || ps->p != 1 ||
                hex_decode(salt, ps->salt, 16) != 16)
                goto bad;
            have_kdf = 1;
        } else if (strcmp(k, "nonce") == 0 && have_kdf && !have_nonce) {
            ps->aadlen = (size_t)(line - ps->text);
            if (hex_decode(v, ps->nonce, 12) != 12)
                goto bad;
            have_nonce = 1;
        } else if (strcmp(k, "data") == 0 && have_nonce && !have_data) {
            if (strlen(v) >= sizeof(ps->data))
                goto bad;
            snprintf(ps->data, sizeof(ps->data), "%s", v);
            have_data = 1;
        } else if (!have_kdf) {
            if (secretfile_meta_add(meta, k, v) != 0)
                goto bad;
        } else {
            goto bad;
        }
        line = nl + 1;
    }
    if (!have_data)
        goto bad;
    return CKR_OK;
bad:
    snprintf(err, errlen, "%s is not a grep11 key file (or is damaged)", path);
    free(ps->text);
    ps->text = NULL;
    return CKR_ARGUMENTS_BAD;
}

CK_RV secretfile_peek(const char *path, secretfile_meta *meta, char *err, size_t errlen)
{
    parsed ps;
    CK_RV rv = parse(path, &ps, meta, err, errlen);
    free(ps.text);
    return rv;
}

CK_RV secretfile_read(const char *path, const char *passphrase, uint8_t *secret, size_t cap,
                      size_t *len, secretfile_meta *meta, char *err, size_t errlen)
{
    parsed ps;
    uint8_t key[32], ct[SECRETFILE_MAX_SECRET + 16], pt[SECRETFILE_MAX_SECRET + 16];
    *len = 0;
    CK_RV rv = parse(path, &ps, meta, err, errlen);
    if (rv != CKR_OK)
        return rv;
    /* The AAD is the file's own bytes before "nonce:", re-read as written. */
    FILE *f = fopen(path, "rb");
    char aad[FILE_MAX];
    size_t got = f ? fread(aad, 1, ps.aadlen, f) : 0;
    if (f)
        fclose(f);
    long n = hex_decode(ps.data, ct, sizeof(ct));
    rv = CKR_ARGUMENTS_BAD;
    if (got != ps.aadlen || n < 17 || (size_t)(n - 16) > cap) {
        snprintf(err, errlen, "%s is damaged", path);
        goto out;
    }
    size_t plen = (size_t)n - 16;
    if ((rv = derive(passphrase ? passphrase : "", ps.salt, ps.log2n, ps.r, ps.p, key)) != CKR_OK)
        goto out;
    rv = gcm(0, key, ps.nonce, (const uint8_t *)aad, ps.aadlen, ct, plen, pt, ct + plen);
    if (rv != CKR_OK) {
        snprintf(err, errlen, "%s: wrong passphrase, or the file was altered", path);
        rv = CKR_PIN_INCORRECT;
        goto out;
    }
    memcpy(secret, pt, plen);
    *len = plen;
out:
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(pt, sizeof(pt));
    free(ps.text);
    return rv;
}
