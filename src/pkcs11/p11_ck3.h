/* PKCS #11 3.0/3.2 types the p11-kit 2.40 header lacks: the interface
 * structure and the 3.0 and 3.2 function lists (each the previous list
 * followed by its additions, in the order of the OASIS pkcs11f.h). Module-private; each name is
 * guarded so a 3.x pkcs11.h that already has it wins. Include after <p11-kit/pkcs11.h>. */
#ifndef P11_CK3_H
#define P11_CK3_H

#include <p11-kit/pkcs11.h>

#include "grep11/ck_ext.h"

#ifndef CKF_INTERFACE_FORK_SAFE
#define CKF_INTERFACE_FORK_SAFE (0x00000001UL)
#endif
#ifndef CKF_END_OF_MESSAGE
#define CKF_END_OF_MESSAGE (0x00000001UL)
#endif
#ifndef CKU_CONTEXT_SPECIFIC
#define CKU_CONTEXT_SPECIFIC (2UL)
#endif
#ifndef CKF_FIND_OBJECTS
#define CKF_FIND_OBJECTS (0x00000040UL) /* C_SessionCancel of a search */
#endif
#ifndef CKR_OPERATION_CANCEL_FAILED
#define CKR_OPERATION_CANCEL_FAILED (0x202UL)
#endif

/* CK_INTERFACE (PKCS #11 3.0 §3.6). */
typedef struct p11_ck_interface {
    CK_UTF8CHAR *pInterfaceName;
    void *pFunctionList;
    CK_FLAGS flags;
} P11_CK_INTERFACE;

/* 3.0 function prototypes (§5.x). */
typedef CK_RV (*P11_C_GetInterfaceList)(P11_CK_INTERFACE *list, CK_ULONG *count);
typedef CK_RV (*P11_C_GetInterface)(CK_UTF8CHAR *name, CK_VERSION *version,
                                    P11_CK_INTERFACE **iface, CK_FLAGS flags);
typedef CK_RV (*P11_C_LoginUser)(CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR *pin,
                                 CK_ULONG pin_len, CK_UTF8CHAR *username, CK_ULONG username_len);
typedef CK_RV (*P11_C_SessionCancel)(CK_SESSION_HANDLE s, CK_FLAGS flags);
typedef CK_RV (*P11_C_MessageInit)(CK_SESSION_HANDLE s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key);
typedef CK_RV (*P11_C_CryptMessage)(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len,
                                    CK_BYTE *aad, CK_ULONG aad_len, CK_BYTE *in, CK_ULONG in_len,
                                    CK_BYTE *out, CK_ULONG *out_len);
typedef CK_RV (*P11_C_CryptMessageBegin)(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len,
                                         CK_BYTE *aad, CK_ULONG aad_len);
typedef CK_RV (*P11_C_CryptMessageNext)(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len,
                                        CK_BYTE *in, CK_ULONG in_len, CK_BYTE *out,
                                        CK_ULONG *out_len, CK_FLAGS flags);
typedef CK_RV (*P11_C_MessageFinal)(CK_SESSION_HANDLE s);
typedef CK_RV (*P11_C_SignMessage)(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len,
                                   CK_BYTE *data, CK_ULONG data_len, CK_BYTE *sig,
                                   CK_ULONG *sig_len);
typedef CK_RV (*P11_C_SignMessageBegin)(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len);
typedef CK_RV (*P11_C_VerifyMessage)(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len,
                                     CK_BYTE *data, CK_ULONG data_len, CK_BYTE *sig,
                                     CK_ULONG sig_len);

/* CK_FUNCTION_LIST_3_0: the 2.40 members, then these 24. */
typedef struct p11_function_list_3_0 {
    CK_VERSION version;
    CK_C_Initialize C_Initialize;
    CK_C_Finalize C_Finalize;
    CK_C_GetInfo C_GetInfo;
    CK_C_GetFunctionList C_GetFunctionList;
    CK_C_GetSlotList C_GetSlotList;
    CK_C_GetSlotInfo C_GetSlotInfo;
    CK_C_GetTokenInfo C_GetTokenInfo;
    CK_C_GetMechanismList C_GetMechanismList;
    CK_C_GetMechanismInfo C_GetMechanismInfo;
    CK_C_InitToken C_InitToken;
    CK_C_InitPIN C_InitPIN;
    CK_C_SetPIN C_SetPIN;
    CK_C_OpenSession C_OpenSession;
    CK_C_CloseSession C_CloseSession;
    CK_C_CloseAllSessions C_CloseAllSessions;
    CK_C_GetSessionInfo C_GetSessionInfo;
    CK_C_GetOperationState C_GetOperationState;
    CK_C_SetOperationState C_SetOperationState;
    CK_C_Login C_Login;
    CK_C_Logout C_Logout;
    CK_C_CreateObject C_CreateObject;
    CK_C_CopyObject C_CopyObject;
    CK_C_DestroyObject C_DestroyObject;
    CK_C_GetObjectSize C_GetObjectSize;
    CK_C_GetAttributeValue C_GetAttributeValue;
    CK_C_SetAttributeValue C_SetAttributeValue;
    CK_C_FindObjectsInit C_FindObjectsInit;
    CK_C_FindObjects C_FindObjects;
    CK_C_FindObjectsFinal C_FindObjectsFinal;
    CK_C_EncryptInit C_EncryptInit;
    CK_C_Encrypt C_Encrypt;
    CK_C_EncryptUpdate C_EncryptUpdate;
    CK_C_EncryptFinal C_EncryptFinal;
    CK_C_DecryptInit C_DecryptInit;
    CK_C_Decrypt C_Decrypt;
    CK_C_DecryptUpdate C_DecryptUpdate;
    CK_C_DecryptFinal C_DecryptFinal;
    CK_C_DigestInit C_DigestInit;
    CK_C_Digest C_Digest;
    CK_C_DigestUpdate C_DigestUpdate;
    CK_C_DigestKey C_DigestKey;
    CK_C_DigestFinal C_DigestFinal;
    CK_C_SignInit C_SignInit;
    CK_C_Sign C_Sign;
    CK_C_SignUpdate C_SignUpdate;
    CK_C_SignFinal C_SignFinal;
    CK_C_SignRecoverInit C_SignRecoverInit;
    CK_C_SignRecover C_SignRecover;
    CK_C_VerifyInit C_VerifyInit;
    CK_C_Verify C_Verify;
    CK_C_VerifyUpdate C_VerifyUpdate;
    CK_C_VerifyFinal C_VerifyFinal;
    CK_C_VerifyRecoverInit C_VerifyRecoverInit;
    CK_C_VerifyRecover C_VerifyRecover;
    CK_C_DigestEncryptUpdate C_DigestEncryptUpdate;
    CK_C_DecryptDigestUpdate C_DecryptDigestUpdate;
    CK_C_SignEncryptUpdate C_SignEncryptUpdate;
    CK_C_DecryptVerifyUpdate C_DecryptVerifyUpdate;
    CK_C_GenerateKey C_GenerateKey;
    CK_C_GenerateKeyPair C_GenerateKeyPair;
    CK_C_WrapKey C_WrapKey;
    CK_C_UnwrapKey C_UnwrapKey;
    CK_C_DeriveKey C_DeriveKey;
    CK_C_SeedRandom C_SeedRandom;
    CK_C_GenerateRandom C_GenerateRandom;
    CK_C_GetFunctionStatus C_GetFunctionStatus;
    CK_C_CancelFunction C_CancelFunction;
    CK_C_WaitForSlotEvent C_WaitForSlotEvent;
    /* 3.0 */
    P11_C_GetInterfaceList C_GetInterfaceList;
    P11_C_GetInterface C_GetInterface;
    P11_C_LoginUser C_LoginUser;
    P11_C_SessionCancel C_SessionCancel;
    P11_C_MessageInit C_MessageEncryptInit;
    P11_C_CryptMessage C_EncryptMessage;
    P11_C_CryptMessageBegin C_EncryptMessageBegin;
    P11_C_CryptMessageNext C_EncryptMessageNext;
    P11_C_MessageFinal C_MessageEncryptFinal;
    P11_C_MessageInit C_MessageDecryptInit;
    P11_C_CryptMessage C_DecryptMessage;
    P11_C_CryptMessageBegin C_DecryptMessageBegin;
    P11_C_CryptMessageNext C_DecryptMessageNext;
    P11_C_MessageFinal C_MessageDecryptFinal;
    P11_C_MessageInit C_MessageSignInit;
    P11_C_SignMessage C_SignMessage;
    P11_C_SignMessageBegin C_SignMessageBegin;
    P11_C_SignMessage C_SignMessageNext;
    P11_C_MessageFinal C_MessageSignFinal;
    P11_C_MessageInit C_MessageVerifyInit;
    P11_C_VerifyMessage C_VerifyMessage;
    P11_C_SignMessageBegin C_VerifyMessageBegin;
    P11_C_VerifyMessage C_VerifyMessageNext;
    P11_C_MessageFinal C_MessageVerifyFinal;
} P11_FUNCTION_LIST_3_0;

/* 3.2 function prototypes (OASIS pkcs11f.h 3.2). CK_ASYNC_DATA is passed
 * as void * (only C_AsyncComplete takes it, and grep11 does not back it). */
typedef CK_RV (*P11_C_EncapsulateKey)(CK_SESSION_HANDLE s, CK_MECHANISM *mech, CK_OBJECT_HANDLE pub,
                                      CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_BYTE *ct, CK_ULONG *ct_len,
                                      CK_OBJECT_HANDLE *key);
typedef CK_RV (*P11_C_DecapsulateKey)(CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                                      CK_OBJECT_HANDLE priv, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                                      CK_BYTE *ct, CK_ULONG ct_len, CK_OBJECT_HANDLE *key);
typedef CK_RV (*P11_C_VerifySignatureInit)(CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                                           CK_OBJECT_HANDLE key, CK_BYTE *sig, CK_ULONG sig_len);
typedef CK_RV (*P11_C_VerifySignature)(CK_SESSION_HANDLE s, CK_BYTE *data, CK_ULONG len);
typedef CK_RV (*P11_C_VerifySignatureFinal)(CK_SESSION_HANDLE s);
typedef CK_RV (*P11_C_GetSessionValidationFlags)(CK_SESSION_HANDLE s, CK_ULONG type,
                                                 CK_FLAGS *flags);
typedef CK_RV (*P11_C_AsyncComplete)(CK_SESSION_HANDLE s, CK_UTF8CHAR *fn, void *result);
typedef CK_RV (*P11_C_AsyncGetID)(CK_SESSION_HANDLE s, CK_UTF8CHAR *fn, CK_ULONG *id);
typedef CK_RV (*P11_C_AsyncJoin)(CK_SESSION_HANDLE s, CK_UTF8CHAR *fn, CK_ULONG id, CK_BYTE *data,
                                 CK_ULONG len);
typedef CK_RV (*P11_C_WrapKeyAuthenticated)(CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                                            CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key,
                                            CK_BYTE *aad, CK_ULONG aad_len, CK_BYTE *out,
                                            CK_ULONG *out_len);
typedef CK_RV (*P11_C_UnwrapKeyAuthenticated)(CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                                              CK_OBJECT_HANDLE unwrapping, CK_BYTE *in,
                                              CK_ULONG in_len, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                                              CK_BYTE *aad, CK_ULONG aad_len,
                                              CK_OBJECT_HANDLE *key);

/* CK_FUNCTION_LIST_3_2: the 3.0 list, then these 12 in this order. */
typedef struct p11_function_list_3_2 {
    P11_FUNCTION_LIST_3_0 base; /* version {3, 2} */
    P11_C_EncapsulateKey C_EncapsulateKey;
    P11_C_DecapsulateKey C_DecapsulateKey;
    P11_C_VerifySignatureInit C_VerifySignatureInit;
    P11_C_VerifySignature C_VerifySignature;
    P11_C_VerifySignature C_VerifySignatureUpdate;
    P11_C_VerifySignatureFinal C_VerifySignatureFinal;
    P11_C_GetSessionValidationFlags C_GetSessionValidationFlags;
    P11_C_AsyncComplete C_AsyncComplete;
    P11_C_AsyncGetID C_AsyncGetID;
    P11_C_AsyncJoin C_AsyncJoin;
    P11_C_WrapKeyAuthenticated C_WrapKeyAuthenticated;
    P11_C_UnwrapKeyAuthenticated C_UnwrapKeyAuthenticated;
} P11_FUNCTION_LIST_3_2;

/* Mechanism parameters of PKCS #11 3.0 (EdDSA) and 3.2 (ML-DSA) that
 * p11-kit's header lacks. */
typedef struct {
    CK_BBOOL phFlag;
    CK_ULONG ulContextDataLen;
    CK_BYTE_PTR pContextData;
} P11_CK_EDDSA_PARAMS;

typedef struct {
    CK_ULONG hedgeVariant;
    CK_BYTE_PTR pContext;
    CK_ULONG ulContextLen;
} P11_CK_SIGN_ADDITIONAL_CONTEXT;

typedef struct {
    CK_ULONG hedgeVariant;
    CK_BYTE_PTR pContext;
    CK_ULONG ulContextLen;
    CK_MECHANISM_TYPE hash;
} P11_CK_HASH_SIGN_ADDITIONAL_CONTEXT;

#endif
