#include "p11test.h"

#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#ifndef P11_MODULE_PATH
#error "P11_MODULE_PATH must name pkcs11-grep11.so"
#endif

static int server_with(p11t *t, const char *server_yaml, const char *const *args)
{
    char path[400];
    if (test_server_start(&t->srv, server_yaml, args) != 0)
        return -1;
    t->have_srv = 1;
    snprintf(path, sizeof(path), "%s/dev-apikey", t->srv.dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fgets(t->apikey, sizeof(t->apikey), f) != NULL;
    fclose(f);
    t->apikey[strcspn(t->apikey, "\r\n")] = '\0';
    return ok ? 0 : -1;
}

int p11t_server(p11t *t, const char *server_yaml)
{
    return server_with(t, server_yaml, NULL);
}

int p11t_server_http(p11t *t, const char *server_yaml)
{
    static const char *const args[] = {"--http-listen", "127.0.0.1:0", NULL};
    char path[400];
    if (server_with(t, server_yaml, args) != 0)
        return -1;
    /* Written before grep11d.addr, which test_server_start waited for. */
    snprintf(path, sizeof(path), "%s/grep11d.http-addr", t->srv.dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fgets(t->http_addr, sizeof(t->http_addr), f) != NULL;
    fclose(f);
    t->http_addr[strcspn(t->http_addr, "\r\n")] = '\0';
    return ok && t->http_addr[0] ? 0 : -1;
}

int p11t_config(p11t *t, const char *address, const char *extra)
{
    const char *ep = t->iam_endpoint ? t->iam_endpoint : "";
    const char *colon = strrchr(address, ':');
    if (!colon)
        return -1;
    snprintf(t->cfg, sizeof(t->cfg), "%s/grep11client.yaml", t->srv.dir);
    FILE *f = fopen(t->cfg, "w");
    if (!f)
        return -1;
    fprintf(f,
            "conn: &conn\n"
            "  address: \"%.*s\"\n"
            "  port: %s\n"
            "  tls: {enabled: true, cacert: \"%s\"}\n"
            "anon: &anon {enabled: true, apikey: \"%s\", endpoint: \"%s\"}\n"
            "tokens:\n"
            "  0:\n"
            "    label: \"grep11 test\"\n"
            "    grep11connection:\n"
            "      <<: *conn\n"
            "%s"
            "    users:\n"
            "      0: {name: so, iamauth: {enabled: true, endpoint: \"%s\"}}\n"
            "      1: {name: user, iamauth: {enabled: true, endpoint: \"%s\"}}\n"
            "      2: {name: anonymous, iamauth: *anon}\n"
            "  5:\n"
            "    grep11connection: *conn\n"
            "    users: {2: {name: anonymous, iamauth: *anon}}\n"
            "logging: {loglevel: debug, logpath: \"%s/module.log\"}\n",
            (int)(colon - address), address, colon + 1, t->srv.ca, t->apikey, ep,
            extra ? extra : "", ep, ep, t->srv.dir);
    fclose(f);
    setenv("GREP11_CLIENT_CONFIG", t->cfg, 1);
    return 0;
}

static void replace_all(char *buf, size_t cap, const char *what, const char *with)
{
    char *p;
    size_t wl = strlen(what), nl = strlen(with);
    while ((p = strstr(buf, what)) != NULL) {
        size_t rest = strlen(p + wl);
        if (strlen(buf) - wl + nl >= cap)
            return;
        memmove(p + nl, p + wl, rest + 1);
        memcpy(p, with, nl);
    }
}

int p11t_write_config(p11t *t, const char *yaml)
{
    size_t cap = strlen(yaml) + 4096;
    char *text = malloc(cap), host[128];
    const char *colon = strrchr(t->srv.addr, ':');
    if (!text || !colon)
        return free(text), -1;
    snprintf(host, sizeof(host), "%.*s", (int)(colon - t->srv.addr), t->srv.addr);
    snprintf(text, cap, "%s", yaml);
    replace_all(text, cap, "@DIR@", t->srv.dir);
    replace_all(text, cap, "@HOST@", host);
    replace_all(text, cap, "@PORT@", colon + 1);
    replace_all(text, cap, "@CA@", t->srv.ca);
    replace_all(text, cap, "@HTTP@", t->http_addr);
    snprintf(t->cfg, sizeof(t->cfg), "%s/grep11client.yaml", t->srv.dir);
    FILE *f = fopen(t->cfg, "w");
    if (!f)
        return free(text), -1;
    fputs(text, f);
    fclose(f);
    free(text);
    setenv("GREP11_CLIENT_CONFIG", t->cfg, 1);
    return 0;
}

int p11t_api_key(p11t *t, const char *name, const char *const *roles, size_t nroles,
                 const uint8_t (*grants)[16], size_t ngrants, char *key, size_t cap)
{
    g11c_conn *admin = test_connect(&t->srv, 0);
    if (!admin)
        return -1;
    CK_RV rv = g11c_admin_create_api_key(admin, name, roles, nroles, grants, ngrants, NULL, key,
                                         cap, NULL);
    g11c_close(admin);
    return rv == CKR_OK ? 0 : -1;
}

static int load_path(p11t *t, const char *path, int init)
{
    CK_RV (*get)(CK_FUNCTION_LIST **);
    t->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!t->dl) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return -1;
    }
    *(void **)&get = dlsym(t->dl, "C_GetFunctionList");
    if (!get || get(&t->f) != CKR_OK)
        return -1;
    if (init && t->f->C_Initialize(NULL) != CKR_OK)
        return -1;
    return 0;
}

int p11t_load(p11t *t, int init)
{
    return load_path(t, P11_MODULE_PATH, init);
}

int p11t_load_copy(p11t *t, const char *dir, int init)
{
    char path[400], buf[65536];
    snprintf(path, sizeof(path), "%s/pkcs11-grep11-copy.so", dir);
    FILE *in = fopen(P11_MODULE_PATH, "rb"), *out = fopen(path, "wb");
    size_t n;
    int ok = in && out;
    while (ok && (n = fread(buf, 1, sizeof(buf), in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = 0;
    return ok ? load_path(t, path, init) : -1;
}

void p11t_unload(p11t *t)
{
    if (t->dl)
        dlclose(t->dl);
    t->dl = NULL;
    t->f = NULL;
}

int p11t_start(p11t *t)
{
    memset(t, 0, sizeof(*t));
    if (p11t_server(t, NULL) != 0 || p11t_config(t, t->srv.addr, NULL) != 0)
        return -1;
    return p11t_load(t, 1);
}

int p11t_stop(p11t *t)
{
    int rc = 0;
    if (t->f && t->f->C_Finalize(NULL) != CKR_OK)
        rc = -1;
    p11t_unload(t);
    if (t->have_srv && test_server_stop(&t->srv) != 0)
        rc = -1;
    return rc;
}

int p11t_keystore_users(p11t *t, const uint8_t (*ks)[16], size_t nks, char *so, char *user,
                        char *anon, size_t cap)
{
    static const char *const so_roles[] = {"keystore-so", "crypto"};
    static const char *const user_roles[] = {"keystore-user", "crypto"};
    static const char *const anon_roles[] = {"keystore-anonymous", "crypto"};
    if (p11t_api_key(t, "so", so_roles, 2, ks, nks, so, cap) != 0 ||
        p11t_api_key(t, "user", user_roles, 2, ks, nks, user, cap) != 0)
        return -1;
    return anon ? p11t_api_key(t, "anon", anon_roles, 2, &ks[1], 1, anon, cap) : 0;
}

int p11t_fx_setup(void **state)
{
    p11t_fx *f = calloc(1, sizeof(*f));
    *state = f;
    if (!f || p11t_start(&f->t) != 0)
        return -1;
    f->s = p11t_session(&f->t, 0, 1);
    return 0;
}

int p11t_teardown(void **state)
{
    p11t *t = *state; /* the fixture's first member */
    int rc = p11t_stop(t);
    free(t);
    return rc;
}

int p11t_offered(p11t *t, CK_MECHANISM_TYPE m)
{
    CK_MECHANISM_INFO info;
    return t->f->C_GetMechanismInfo(0, m, &info) == CKR_OK;
}

CK_SESSION_HANDLE p11t_session(p11t *t, CK_SLOT_ID slot, int rw)
{
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_FLAGS fl = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
    assert_int_equal(t->f->C_OpenSession(slot, fl, NULL, NULL, &s), CKR_OK);
    return s;
}

CK_OBJECT_HANDLE p11t_secret_key(p11t *t, CK_SESSION_HANDLE s, CK_MECHANISM_TYPE gen,
                                 CK_KEY_TYPE kt, CK_ULONG len, int clear)
{
    CK_MECHANISM m = {gen, NULL, 0};
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_KEY_TYPE, &kt, sizeof(kt)},
        {CKA_VALUE_LEN, &len, sizeof(len)},
        {CKA_SENSITIVE, clear ? &no : &yes, sizeof(CK_BBOOL)},
        {CKA_EXTRACTABLE, &yes, sizeof(CK_BBOOL)},
    };
    CK_OBJECT_HANDLE k = CK_INVALID_HANDLE;
    assert_int_equal(t->f->C_GenerateKey(s, &m, tmpl, 5, &k), CKR_OK);
    return k;
}

void p11t_key_value(p11t *t, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE k, unsigned char *out,
                    CK_ULONG *len)
{
    CK_ATTRIBUTE a = {CKA_VALUE, out, *len};
    assert_int_equal(t->f->C_GetAttributeValue(s, k, &a, 1), CKR_OK);
    *len = a.ulValueLen;
}
