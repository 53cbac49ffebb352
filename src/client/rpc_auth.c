/* libgrep11: grep11.Auth and grep11.Admin calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.pb-c.h"
#include "auth.pb-c.h"
#include "internal.h"

CK_RV g11c_read_api_key_file(const char *path, char *out, size_t cap)
{
    if (!path || !out || cap == 0)
        return CKR_ARGUMENTS_BAD;
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return CKR_ARGUMENTS_BAD;
    if (!fgets(out, (int)cap, f))
        out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return out[0] ? CKR_OK : CKR_ARGUMENTS_BAD;
}

CK_RV g11c_auth_token(g11c_conn *c, const char *api_key, char *token, size_t cap,
                      int64_t *expires_at)
{
    Grep11__TokenRequest req = GREP11__TOKEN_REQUEST__INIT;
    Grep11__TokenResponse *resp = NULL;
    if (!api_key || !token || cap == 0)
        return CKR_ARGUMENTS_BAD;
    req.apikey = (char *)api_key;
    CK_RV rv = g11c_call(c, G11C_AUTH_TOKEN, &req.base, &grep11__token_response__descriptor,
                         (ProtobufCMessage **)&resp);
    if (rv != CKR_OK)
        return rv;
    if (!resp->token || strlen(resp->token) >= cap)
        rv = CKR_DEVICE_ERROR;
    else {
        snprintf(token, cap, "%s", resp->token);
        if (expires_at)
            *expires_at = resp->expiresat;
    }
    g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}

static void info_out(const Grep11__ApiKeyInfo *in, g11c_api_key_info *out)
{
    memset(out, 0, sizeof(*out));
    if (!in)
        return;
    snprintf(out->key_id, sizeof(out->key_id), "%s", in->keyid ? in->keyid : "");
    snprintf(out->principal, sizeof(out->principal), "%s", in->principal ? in->principal : "");
    for (size_t i = 0; i < in->n_roles; i++) {
        size_t used = strlen(out->roles);
        snprintf(out->roles + used, sizeof(out->roles) - used, "%s%s", used ? "," : "",
                 in->roles[i]);
    }
    for (size_t i = 0; i < in->n_grants && out->ngrants < G11C_MAX_GRANTS; i++)
        if (in->grants[i].len == 16)
            memcpy(out->grants[out->ngrants++], in->grants[i].data, 16);
    snprintf(out->cert_identity, sizeof(out->cert_identity), "%s",
             in->certidentity ? in->certidentity : "");
    out->created_at = in->createdat;
    out->revoked = in->revoked;
}

CK_RV g11c_admin_create_api_key(g11c_conn *c, const char *principal, const char *const *roles,
                                size_t nroles, const uint8_t (*grants)[16], size_t ngrants,
                                const char *cert_identity, char *api_key, size_t cap,
                                g11c_api_key_info *info)
{
    Grep11__CreateApiKeyRequest req = GREP11__CREATE_API_KEY_REQUEST__INIT;
    Grep11__CreateApiKeyResponse *resp = NULL;
    ProtobufCBinaryData *g = calloc(ngrants ? ngrants : 1, sizeof(*g));
    if (!g)
        return CKR_HOST_MEMORY;
    for (size_t i = 0; i < ngrants; i++) {
        g[i].data = (uint8_t *)grants[i];
        g[i].len = 16;
    }
    req.principal = (char *)principal;
    req.n_roles = nroles;
    req.roles = (char **)roles;
    req.n_grants = ngrants;
    req.grants = g;
    req.certidentity = (char *)(cert_identity ? cert_identity : "");
    CK_RV rv = g11c_call(c, "/grep11.Admin/CreateApiKey", &req.base,
                         &grep11__create_api_key_response__descriptor, (ProtobufCMessage **)&resp);
    free(g);
    if (rv != CKR_OK)
        return rv;
    if (!resp->apikey || strlen(resp->apikey) >= cap)
        rv = CKR_DEVICE_ERROR;
    else
        snprintf(api_key, cap, "%s", resp->apikey);
    if (info)
        info_out(resp->info, info);
    g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}

CK_RV g11c_admin_list_api_keys(g11c_conn *c, g11c_api_key_info **out, size_t *n)
{
    Grep11__ListApiKeysRequest req = GREP11__LIST_API_KEYS_REQUEST__INIT;
    Grep11__ListApiKeysResponse *resp = NULL;
    *out = NULL;
    *n = 0;
    CK_RV rv = g11c_call(c, "/grep11.Admin/ListApiKeys", &req.base,
                         &grep11__list_api_keys_response__descriptor, (ProtobufCMessage **)&resp);
    if (rv != CKR_OK)
        return rv;
    *out = calloc(resp->n_keys ? resp->n_keys : 1, sizeof(**out));
    if (!*out)
        rv = CKR_HOST_MEMORY;
    for (size_t i = 0; rv == CKR_OK && i < resp->n_keys; i++)
        info_out(resp->keys[i], &(*out)[i]);
    if (rv == CKR_OK)
        *n = resp->n_keys;
    g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}

CK_RV g11c_admin_revoke_api_key(g11c_conn *c, const char *key_id)
{
    Grep11__RevokeApiKeyRequest req = GREP11__REVOKE_API_KEY_REQUEST__INIT;
    Grep11__RevokeApiKeyResponse *resp = NULL;
    req.keyid = (char *)key_id;
    CK_RV rv = g11c_call(c, "/grep11.Admin/RevokeApiKey", &req.base,
                         &grep11__revoke_api_key_response__descriptor, (ProtobufCMessage **)&resp);
    if (rv == CKR_OK)
        g11c_reply_free((ProtobufCMessage *)resp);
    return rv;
}
