/* The method tables: one row per RPC, path -> request type -> handler. */
#include "admin.pb-c.h"
#include "auth.pb-c.h"
#include "batch.pb-c.h"
#include "custody.pb-c.h"
#include "grep11/wire.h"
#include "handlers.h"
#include "health.pb-c.h"
#include "store.pb-c.h"

#define CRYPTO(name, msg, fn)                                                                      \
    {                                                                                              \
        "/grep11.Crypto/" name, &grep11__##msg##_request__descriptor, fn, AUTH_ROLE_CRYPTO, 0      \
    }

const rpc_method crypto_methods[] = {
    CRYPTO("GenerateRandom", generate_random, h_generate_random),
    CRYPTO("DigestInit", digest_init, h_digest_init),
    CRYPTO("Digest", digest, h_digest),
    CRYPTO("DigestUpdate", digest_update, h_digest_update),
    CRYPTO("DigestKey", digest_key, h_digest_key),
    CRYPTO("DigestFinal", digest_final, h_digest_final),
    CRYPTO("DigestSingle", digest_single, h_digest_single),
    CRYPTO("EncryptInit", encrypt_init, h_encrypt_init),
    CRYPTO("DecryptInit", decrypt_init, h_decrypt_init),
    CRYPTO("EncryptUpdate", encrypt_update, h_encrypt_update),
    CRYPTO("DecryptUpdate", decrypt_update, h_decrypt_update),
    CRYPTO("Encrypt", encrypt, h_encrypt),
    CRYPTO("Decrypt", decrypt, h_decrypt),
    CRYPTO("EncryptFinal", encrypt_final, h_encrypt_final),
    CRYPTO("DecryptFinal", decrypt_final, h_decrypt_final),
    CRYPTO("EncryptSingle", encrypt_single, h_encrypt_single),
    CRYPTO("DecryptSingle", decrypt_single, h_decrypt_single),
    CRYPTO("SignInit", sign_init, h_sign_init),
    CRYPTO("VerifyInit", verify_init, h_verify_init),
    CRYPTO("SignUpdate", sign_update, h_sign_update),
    CRYPTO("VerifyUpdate", verify_update, h_verify_update),
    CRYPTO("SignFinal", sign_final, h_sign_final),
    CRYPTO("VerifyFinal", verify_final, h_verify_final),
    CRYPTO("Sign", sign, h_sign),
    CRYPTO("Verify", verify, h_verify),
    CRYPTO("SignSingle", sign_single, h_sign_single),
    CRYPTO("VerifySingle", verify_single, h_verify_single),
    CRYPTO("ReencryptSingle", reencrypt_single, h_reencrypt_single),
    CRYPTO("GenerateKey", generate_key, h_generate_key),
    CRYPTO("GenerateKeyPair", generate_key_pair, h_generate_key_pair),
    CRYPTO("WrapKey", wrap_key, h_wrap_key),
    CRYPTO("UnwrapKey", unwrap_key, h_unwrap_key),
    CRYPTO("DeriveKey", derive_key, h_derive_key),
    CRYPTO("GetMechanismList", get_mechanism_list, h_get_mechanism_list),
    CRYPTO("GetMechanismInfo", get_mechanism_info, h_get_mechanism_info),
    CRYPTO("GetAttributeValue", get_attribute_value, h_get_attribute_value),
    CRYPTO("SetAttributeValue", set_attribute_value, h_set_attribute_value),
    CRYPTO("Login", login, h_login),
    CRYPTO("Logout", logout, h_logout),
    CRYPTO("RewrapKeyBlob", rewrap_key_blob, h_rewrap_key_blob),
};
const size_t crypto_method_count = sizeof(crypto_methods) / sizeof(crypto_methods[0]);

const rpc_method health_methods[] = {
    {"/grpc.health.v1.Health/Check", &grpc__health__v1__health_check_request__descriptor,
     h_health_check, 0, 1024},
};
const size_t health_method_count = sizeof(health_methods) / sizeof(health_methods[0]);

const rpc_method auth_methods[] = {
    {"/grep11.Auth/Token", &grep11__token_request__descriptor, h_auth_token, 0, 8192},
};
const size_t auth_method_count = sizeof(auth_methods) / sizeof(auth_methods[0]);

#define ADMIN(name, msg, fn)                                                                       \
    {                                                                                              \
        "/grep11.Admin/" name, &grep11__##msg##_request__descriptor, fn, AUTH_ROLE_ADMIN, 0        \
    }

#define ADMIN_RAW(path, msg, fn)                                                                   \
    {                                                                                              \
        path, &grep11__##msg##_request__descriptor, fn, AUTH_ROLE_ADMIN, 0                         \
    }

const rpc_method admin_methods[] = {
    ADMIN("CreateApiKey", create_api_key, h_admin_create_api_key),
    ADMIN("ListApiKeys", list_api_keys, h_admin_list_api_keys),
    ADMIN("RevokeApiKey", revoke_api_key, h_admin_revoke_api_key),
    /* grep11.Custody shares this table (the administration services). Its
     * commands carry their own authorisation (administrators' signatures,
     * key parts), so they need no token: the instance may be locked. */
    {"/grep11.Custody/Status", &grep11__custody_status_request__descriptor, h_custody_status, 0,
     1024},
    {"/grep11.Custody/Prepare", &grep11__custody_prepare_request__descriptor, h_custody_prepare, 0,
     1024},
    {"/grep11.Custody/Submit", &grep11__custody_submit_request__descriptor, h_custody_submit, 0,
     64 * 1024},
    {"/grep11.Custody/Unlock", &grep11__custody_unlock_request__descriptor, h_custody_unlock, 0,
     16 * 1024},
    ADMIN_RAW("/grep11.Custody/AuditVerify", audit_verify, h_custody_audit_verify),
};
const size_t admin_method_count = sizeof(admin_methods) / sizeof(admin_methods[0]);

#define STORE(name, msg, fn)                                                                       \
    {                                                                                              \
        "/grep11.Store/" name, &grep11__##msg##_request__descriptor, fn,                           \
            AUTH_ROLE_KEYSTORE_SO | AUTH_ROLE_KEYSTORE_USER | AUTH_ROLE_KEYSTORE_ANONYMOUS, 0      \
    }

const rpc_method store_methods[] = {
    STORE("InitKeystores", init_keystores, h_store_init_keystores),
    STORE("KeystoreInfo", keystore_info, h_store_keystore_info),
    STORE("CreateObject", create_object, h_store_create_object),
    STORE("GetObject", get_object, h_store_get_object),
    STORE("UpdateObject", update_object, h_store_update_object),
    STORE("DestroyObject", destroy_object, h_store_destroy_object),
    STORE("FindObjects", find_objects, h_store_find_objects),
};
const size_t store_method_count = sizeof(store_methods) / sizeof(store_methods[0]);

/* Its calls are grep11.Crypto calls: the caller must hold that role before
 * the batch is even decoded. */
const rpc_method batch_method = {GREP11_BATCH_METHOD, &grep11__batch_request__descriptor, NULL,
                                 AUTH_ROLE_CRYPTO, 0};
