/* grep11ctl apikey: create, list and revoke API keys, through the server's
 * grep11.Admin service or, with --offline, directly in a data directory (to
 * bootstrap the first administrator). */
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "ctl.h"
#include "devsetup.h"
#include "services.h"

typedef struct {
    const char *principal;
    const char *roles[8];
    size_t nroles;
    uint8_t grants[AUTH_MAX_GRANTS][16];
    size_t ngrants;
    const char *cert_identity;
} create_args;

static void print_info(const char *key_id, const char *principal, const char *roles,
                       const char *cert, int64_t created, int revoked)
{
    char when[32] = "-";
    time_t t = (time_t)created;
    struct tm tm;
    if (created && gmtime_r(&t, &tm))
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%-18s %-20s %-40s %-20s %s%s\n", key_id, principal, roles, when,
           cert && cert[0] ? cert : "-", revoked ? "  REVOKED" : "");
}

static int parse_create(int argc, char **argv, create_args *a)
{
    static const struct option opts[] = {
        {"principal", required_argument, NULL, 'p'},
        {"role", required_argument, NULL, 'r'},
        {"grant", required_argument, NULL, 'g'},
        {"cert-identity", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof(*a));
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "p:r:g:c:", opts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            a->principal = optarg;
            break;
        case 'r':
            if (a->nroles == 8)
                return -1;
            a->roles[a->nroles++] = optarg;
            break;
        case 'g': {
            store_uuid u;
            if (a->ngrants == AUTH_MAX_GRANTS || !store_uuid_parse(optarg, &u)) {
                fprintf(stderr, "grep11ctl: --grant takes a keystore UUID\n");
                return -1;
            }
            memcpy(a->grants[a->ngrants++], u.b, 16);
            break;
        }
        case 'c':
            a->cert_identity = optarg;
            break;
        default:
            return -1;
        }
    }
    if (!a->principal || a->nroles == 0) {
        fprintf(stderr, "grep11ctl: apikey create needs --principal and at least one --role "
                        "(crypto, keystore-so, keystore-user, keystore-anonymous, admin)\n");
        return -1;
    }
    return 0;
}

/* Opens the data directory's engine, database and identity directory. */
static int offline_open(const ctl_context *cx, engine **eng, services **svc)
{
    server_config cfg;
    char err[512], path[4200];
    uint8_t wk[32];
    int rc = -1;
    config_defaults(&cfg);
    if (cx->config && config_load_yaml(&cfg, cx->config, err, sizeof(err)) != 0) {
        fprintf(stderr, "grep11ctl: %s\n", err);
        goto out;
    }
    if (cx->data_dir) {
        free(cfg.data_dir);
        cfg.data_dir = strdup(cx->data_dir);
    }
    if (cfg.master_key_file)
        snprintf(path, sizeof(path), "%s", cfg.master_key_file);
    else
        snprintf(path, sizeof(path), "%s/%s", cfg.data_dir, DEV_WK_FILE);
    if (masterkey_read_file(path, wk, err, sizeof(err)) != 0) {
        fprintf(stderr, "grep11ctl: %s\n", err);
        goto out;
    }
    CK_RV rv = engine_create(wk, NULL, eng);
    OPENSSL_cleanse(wk, sizeof(wk));
    if (rv != CKR_OK || services_open(&cfg, *eng, svc, err, sizeof(err)) != CKR_OK) {
        fprintf(stderr, "grep11ctl: %s\n", rv != CKR_OK ? "engine start failed" : err);
        goto out;
    }
    rc = 0;
out:
    config_free(&cfg);
    return rc;
}

static int roles_mask(const create_args *a, uint32_t *mask)
{
    *mask = 0;
    for (size_t i = 0; i < a->nroles; i++) {
        uint32_t bit;
        if (auth_role_parse(a->roles[i], &bit) != 0) {
            fprintf(stderr, "grep11ctl: unknown role '%s'\n", a->roles[i]);
            return -1;
        }
        *mask |= bit;
    }
    return 0;
}

static int offline_apikey(const ctl_context *cx, const char *cmd, int argc, char **argv)
{
    engine *eng = NULL;
    services *svc = NULL;
    int rc = 1;
    create_args a;
    if (strcmp(cmd, "create") == 0 && parse_create(argc, argv, &a) != 0)
        return 2;
    if (offline_open(cx, &eng, &svc) != 0)
        goto out;
    if (strcmp(cmd, "create") == 0) {
        uint32_t mask;
        char key[AUTH_API_KEY_MAX], id[32];
        directory_entry e;
        if (roles_mask(&a, &mask) != 0)
            goto out;
        if (directory_create_key(svc->dir, a.principal, mask, (const uint8_t(*)[16])a.grants,
                                 a.ngrants, a.cert_identity, NULL, key, &e) != CKR_OK) {
            fprintf(stderr, "grep11ctl: cannot create the key\n");
            goto out;
        }
        auth_b64url_encode(e.rec.key_id, AUTH_KEY_ID_LEN, id, sizeof(id));
        printf("API key for %s (shown once; store it now):\n%s\nkey id: %s\n", a.principal, key,
               id);
        OPENSSL_cleanse(key, sizeof(key));
        rc = 0;
    } else if (strcmp(cmd, "list") == 0) {
        directory_entry *all = NULL;
        size_t n = 0;
        if (directory_list(svc->dir, &all, &n) != CKR_OK)
            goto out;
        for (size_t i = 0; i < n; i++) {
            char id[32], roles[128] = "";
            auth_b64url_encode(all[i].rec.key_id, AUTH_KEY_ID_LEN, id, sizeof(id));
            for (uint32_t bit = 1; bit <= AUTH_ROLE_ALL; bit <<= 1)
                if (all[i].roles & bit)
                    snprintf(roles + strlen(roles), sizeof(roles) - strlen(roles), "%s%s",
                             roles[0] ? "," : "", auth_role_name(bit));
            print_info(id, all[i].principal, roles, all[i].cert_identity, all[i].created_at,
                       all[i].revoked);
        }
        OPENSSL_cleanse(all, n * sizeof(*all));
        free(all);
        rc = 0;
    } else if (strcmp(cmd, "revoke") == 0 && argc == 2) {
        uint8_t id[AUTH_KEY_ID_LEN];
        if (auth_b64url_decode(argv[1], strlen(argv[1]), id, sizeof(id)) != sizeof(id) ||
            directory_revoke(svc->dir, id, NULL) != CKR_OK) {
            fprintf(stderr, "grep11ctl: no such key id\n");
            goto out;
        }
        printf("revoked %s\n", argv[1]);
        rc = 0;
    } else {
        fprintf(stderr, "grep11ctl: usage: apikey create|list|revoke KEYID\n");
        rc = 2;
    }
out:
    services_close(svc);
    if (eng)
        engine_destroy(eng);
    return rc;
}

static int online_apikey(g11c_conn *c, const char *cmd, int argc, char **argv)
{
    if (strcmp(cmd, "create") == 0) {
        create_args a;
        char key[160];
        g11c_api_key_info info;
        if (parse_create(argc, argv, &a) != 0)
            return 2;
        if (g11c_admin_create_api_key(c, a.principal, a.roles, a.nroles,
                                      (const uint8_t(*)[16])a.grants, a.ngrants, a.cert_identity,
                                      key, sizeof(key), &info) != CKR_OK)
            return 1;
        printf("API key for %s (shown once; store it now):\n%s\nkey id: %s\n", a.principal, key,
               info.key_id);
        OPENSSL_cleanse(key, sizeof(key));
        return 0;
    }
    if (strcmp(cmd, "list") == 0) {
        g11c_api_key_info *list = NULL;
        size_t n = 0;
        if (g11c_admin_list_api_keys(c, &list, &n) != CKR_OK)
            return 1;
        for (size_t i = 0; i < n; i++)
            print_info(list[i].key_id, list[i].principal, list[i].roles, list[i].cert_identity,
                       list[i].created_at, list[i].revoked);
        free(list);
        return 0;
    }
    if (strcmp(cmd, "revoke") == 0 && argc == 2) {
        if (g11c_admin_revoke_api_key(c, argv[1]) != CKR_OK)
            return 1;
        printf("revoked %s\n", argv[1]);
        return 0;
    }
    fprintf(stderr, "grep11ctl: usage: apikey create|list|revoke KEYID\n");
    return 2;
}

int ctl_apikey(const ctl_context *cx, g11c_conn *c, int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "grep11ctl: usage: apikey create|list|revoke KEYID\n");
        return 2;
    }
    return cx->offline ? offline_apikey(cx, argv[0], argc, argv)
                       : online_apikey(c, argv[0], argc, argv);
}
