#include "devsetup.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int dev_mkdirs(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
        snprintf(err, errlen, "path too long");
        return -1;
    }
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(path, 0700) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
                return -1;
            }
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    return 0;
}

char *file_read_all(const char *path, size_t max, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    fclose(f);
    if (!buf || n > max) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len_out)
        *len_out = n;
    return buf;
}

/* Writes data to path atomically (temp file + rename) with the given mode,
 * so a crash never leaves a half-written key behind. */
static int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, char *err,
                             size_t errlen)
{
    char tmp[4300];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
        snprintf(err, errlen, "path too long");
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    const uint8_t *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot store %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int masterkey_read_file(const char *path, uint8_t wk[32], char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open master key %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "master key %s is not a regular file", path);
        goto out;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, errlen,
                 "master key %s is accessible by group or others "
                 "(chmod 600 it)",
                 path);
        goto out;
    }
    if (st.st_size != 32) {
        snprintf(err, errlen, "master key %s must be exactly 32 bytes", path);
        goto out;
    }
    ssize_t n = read(fd, wk, 32);
    if (n != 32) {
        snprintf(err, errlen, "cannot read master key %s", path);
        OPENSSL_cleanse(wk, 32);
        goto out;
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

/* dir + "/" + name into out; -1 (with a reason) when it does not fit. */
static int path_join(char *out, size_t cap, const char *dir, const char *name, char *err,
                     size_t errlen)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap) {
        snprintf(err, errlen, "path too long under %s", dir);
        return -1;
    }
    return 0;
}

static EVP_PKEY *keygen_p256(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* Issues a certificate for key, signed by issuer_key (self-signed when
 * issuer is NULL). kind: 0 CA, 1 server, 2 client. */
static X509 *issue_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, int kind)
{
    X509 *cert = X509_new();
    uint8_t serial[16];
    BIGNUM *bn = NULL;
    int ok = 0;
    if (!cert || RAND_bytes(serial, sizeof(serial)) != 1)
        goto out;
    serial[0] &= 0x7f; /* positive serial */
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)))
        goto out;
    X509_set_version(cert, 2);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 825L * 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"grep11 development",
                               -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
    X509 *iss = issuer ? issuer : cert;
    if (kind == 0) {
        if (add_ext(cert, iss, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
            add_ext(cert, iss, NID_key_usage, "critical,keyCertSign,cRLSign") ||
            add_ext(cert, iss, NID_subject_key_identifier, "hash"))
            goto out;
    } else {
        if (add_ext(cert, iss, NID_basic_constraints, "critical,CA:FALSE") ||
            add_ext(cert, iss, NID_key_usage, "critical,digitalSignature") ||
            add_ext(cert, iss, NID_ext_key_usage, kind == 1 ? "serverAuth" : "clientAuth") ||
            add_ext(cert, iss, NID_authority_key_identifier, "keyid"))
            goto out;
        if (kind == 1 &&
            add_ext(cert, iss, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"))
            goto out;
    }
    if (!X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256()))
        goto out;
    ok = 1;
out:
    BN_free(bn);
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

static int write_pem(const char *path, X509 *cert, EVP_PKEY *key, char *err, size_t errlen)
{
    BIO *mem = BIO_new(BIO_s_mem());
    int rc = -1;
    if (!mem)
        goto out;
    if (cert ? !PEM_write_bio_X509(mem, cert)
             : !PEM_write_bio_PrivateKey(mem, key, NULL, NULL, 0, NULL, NULL))
        goto out;
    char *data = NULL;
    long len = BIO_get_mem_data(mem, &data);
    rc = write_file_atomic(path, data, (size_t)len, cert ? 0644 : 0600, err, errlen);
out:
    if (rc != 0 && err[0] == '\0')
        snprintf(err, errlen, "cannot encode %s", path);
    BIO_free(mem); /* BIO_s_mem clears its buffer on free */
    return rc;
}

/* Generates the development PKI in dir: a CA, a server certificate for
 * localhost/127.0.0.1 and a client certificate for trying mutual TLS. */
static int dev_make_pki(const char *dir, char *err, size_t errlen)
{
    EVP_PKEY *ca_key = keygen_p256(), *srv_key = keygen_p256(), *cli_key = keygen_p256();
    X509 *ca = NULL, *srv = NULL, *cli = NULL;
    char path[4200];
    int rc = -1;
    err[0] = '\0';
    if (!ca_key || !srv_key || !cli_key)
        goto out;
    ca = issue_cert(ca_key, "grep11 development CA", NULL, NULL, 0);
    srv = ca ? issue_cert(srv_key, "localhost", ca, ca_key, 1) : NULL;
    cli = ca ? issue_cert(cli_key, "grep11 development client", ca, ca_key, 2) : NULL;
    if (!ca || !srv || !cli)
        goto out;
    const struct {
        const char *name;
        X509 *cert;
        EVP_PKEY *key;
    } files[] = {
        {"ca-key.pem", NULL, ca_key},      {"server-key.pem", NULL, srv_key},
        {"client-key.pem", NULL, cli_key}, {"client.pem", cli, NULL},
        {"server.pem", srv, NULL},         {"ca.pem", ca, NULL},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (path_join(path, sizeof(path), dir, files[i].name, err, errlen) != 0 ||
            write_pem(path, files[i].cert, files[i].key, err, errlen) != 0)
            goto out;
    }
    rc = 0;
out:
    if (rc != 0 && err[0] == '\0')
        snprintf(err, errlen, "cannot generate development certificates");
    X509_free(ca);
    X509_free(srv);
    X509_free(cli);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(srv_key);
    EVP_PKEY_free(cli_key);
    return rc;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int dev_prepare(const char *data_dir, int *created_wk, char *err, size_t errlen)
{
    char path[4200], tls_dir[4200];
    *created_wk = 0;
    if (dev_mkdirs(data_dir, err, errlen) != 0)
        return -1;
    if (path_join(path, sizeof(path), data_dir, DEV_WK_FILE, err, errlen) != 0)
        return -1;
    if (!file_exists(path)) {
        uint8_t wk[32];
        if (RAND_priv_bytes(wk, sizeof(wk)) != 1) {
            snprintf(err, errlen, "random generator failed");
            return -1;
        }
        int rc = write_file_atomic(path, wk, sizeof(wk), 0600, err, errlen);
        OPENSSL_cleanse(wk, sizeof(wk));
        if (rc != 0)
            return -1;
        *created_wk = 1;
    }
    if (path_join(tls_dir, sizeof(tls_dir), data_dir, DEV_TLS_DIR, err, errlen) != 0 ||
        dev_mkdirs(tls_dir, err, errlen) != 0 ||
        path_join(path, sizeof(path), tls_dir, "ca.pem", err, errlen) != 0)
        return -1;
    /* ca.pem is written last, so its presence means the set is complete. */
    if (!file_exists(path) && dev_make_pki(tls_dir, err, errlen) != 0)
        return -1;
    return 0;
}
