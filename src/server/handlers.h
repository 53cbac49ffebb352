/* Handler functions of every service grep11d serves; methods.c lists them. */
#ifndef GREP11_SERVER_HANDLERS_H
#define GREP11_SERVER_HANDLERS_H

#include "rpc.h"
#include "server.pb-c.h"
#include "store.h"

#define HANDLER_MAX_RANDOM (1024u * 1024u) /* GenerateRandom: 1 MiB at most */

/* A write of a handler: fn makes it with w (store_object_*_with). Runs fn
 * with the record of request_id (empty: none; else 16 bytes, or
 * CKR_ARGUMENTS_BAD) and the call's audit entry in its transaction, again
 * when another replica moved the audit chain's head meanwhile. */
typedef CK_RV (*rpc_write_fn)(rpc_ctx *ctx, store_with *w, void *arg);
CK_RV rpc_write_tied(rpc_ctx *ctx, ProtobufCBinaryData request_id, rpc_write_fn fn, void *arg);

#define HANDLER(name) CK_RV name(rpc_ctx *ctx);
HANDLER(h_generate_random)
HANDLER(h_get_mechanism_list)
HANDLER(h_get_mechanism_info)
HANDLER(h_digest_init)
HANDLER(h_digest)
HANDLER(h_digest_update)
HANDLER(h_digest_key)
HANDLER(h_digest_final)
HANDLER(h_digest_single)
HANDLER(h_encrypt_init)
HANDLER(h_decrypt_init)
HANDLER(h_encrypt_update)
HANDLER(h_decrypt_update)
HANDLER(h_encrypt)
HANDLER(h_decrypt)
HANDLER(h_encrypt_final)
HANDLER(h_decrypt_final)
HANDLER(h_encrypt_single)
HANDLER(h_decrypt_single)
HANDLER(h_reencrypt_single)
HANDLER(h_sign_init)
HANDLER(h_verify_init)
HANDLER(h_sign_update)
HANDLER(h_verify_update)
HANDLER(h_sign_final)
HANDLER(h_verify_final)
HANDLER(h_sign)
HANDLER(h_verify)
HANDLER(h_sign_single)
HANDLER(h_verify_single)
HANDLER(h_generate_key)
HANDLER(h_generate_key_pair)
HANDLER(h_wrap_key)
HANDLER(h_unwrap_key)
HANDLER(h_derive_key)
HANDLER(h_get_attribute_value)
HANDLER(h_set_attribute_value)
HANDLER(h_login)
HANDLER(h_logout)
HANDLER(h_rewrap_key_blob)
HANDLER(h_health_check)
HANDLER(h_auth_token)
HANDLER(h_admin_create_api_key)
HANDLER(h_admin_list_api_keys)
HANDLER(h_admin_revoke_api_key)
HANDLER(h_store_init_keystores)
HANDLER(h_store_keystore_info)
HANDLER(h_store_create_object)
HANDLER(h_store_get_object)
HANDLER(h_store_update_object)
HANDLER(h_store_destroy_object)
HANDLER(h_store_find_objects)
HANDLER(h_custody_status)
HANDLER(h_custody_prepare)
HANDLER(h_custody_submit)
HANDLER(h_custody_unlock)
HANDLER(h_custody_audit_verify)
#undef HANDLER

#endif
