/* Entry points grep11 does not back (yet). Each says why in one line. */
#include "internal.h"

/* Before C_Initialize every function answers CKR_CRYPTOKI_NOT_INITIALIZED,
 * these too (PKCS #11 5.4; pkcs11test checks it). */
#define NOT_SUPPORTED                                                                              \
    return p11_state_get() ? CKR_FUNCTION_NOT_SUPPORTED : CKR_CRYPTOKI_NOT_INITIALIZED

/* API keys are issued by grep11's administrators, not set through PKCS #11. */
CK_RV C_InitPIN(CK_SESSION_HANDLE s, CK_UTF8CHAR *pin, CK_ULONG len)
{
    (void)s, (void)pin, (void)len;
    P11_WARN("C_InitPIN: not supported: PINs are API keys, managed with grep11ctl apikey");
    NOT_SUPPORTED;
}

CK_RV C_SetPIN(CK_SESSION_HANDLE s, CK_UTF8CHAR *old, CK_ULONG old_len, CK_UTF8CHAR *pin,
               CK_ULONG len)
{
    (void)s, (void)old, (void)old_len, (void)pin, (void)len;
    P11_WARN("C_SetPIN: not supported: PINs are API keys, managed with grep11ctl apikey");
    NOT_SUPPORTED;
}

/* GREP11 has no sign/verify-recover or dual-function RPCs. */
CK_RV C_SignRecoverInit(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE k)
{
    (void)s, (void)m, (void)k;
    NOT_SUPPORTED;
}

CK_RV C_SignRecover(CK_SESSION_HANDLE s, CK_BYTE *d, CK_ULONG dl, CK_BYTE *sig, CK_ULONG *sl)
{
    (void)s, (void)d, (void)dl, (void)sig, (void)sl;
    NOT_SUPPORTED;
}

CK_RV C_VerifyRecoverInit(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE k)
{
    (void)s, (void)m, (void)k;
    NOT_SUPPORTED;
}

CK_RV C_VerifyRecover(CK_SESSION_HANDLE s, CK_BYTE *sig, CK_ULONG sl, CK_BYTE *d, CK_ULONG *dl)
{
    (void)s, (void)sig, (void)sl, (void)d, (void)dl;
    NOT_SUPPORTED;
}

CK_RV C_DigestEncryptUpdate(CK_SESSION_HANDLE s, CK_BYTE *in, CK_ULONG il, CK_BYTE *out,
                            CK_ULONG *ol)
{
    (void)s, (void)in, (void)il, (void)out, (void)ol;
    NOT_SUPPORTED;
}

CK_RV C_DecryptDigestUpdate(CK_SESSION_HANDLE s, CK_BYTE *in, CK_ULONG il, CK_BYTE *out,
                            CK_ULONG *ol)
{
    (void)s, (void)in, (void)il, (void)out, (void)ol;
    NOT_SUPPORTED;
}

CK_RV C_SignEncryptUpdate(CK_SESSION_HANDLE s, CK_BYTE *in, CK_ULONG il, CK_BYTE *out, CK_ULONG *ol)
{
    (void)s, (void)in, (void)il, (void)out, (void)ol;
    NOT_SUPPORTED;
}

CK_RV C_DecryptVerifyUpdate(CK_SESSION_HANDLE s, CK_BYTE *in, CK_ULONG il, CK_BYTE *out,
                            CK_ULONG *ol)
{
    (void)s, (void)in, (void)il, (void)out, (void)ol;
    NOT_SUPPORTED;
}

/* Legacy parallel-function management (PKCS #11 §5.20). */
CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE s)
{
    (void)s;
    return p11_state_get() ? CKR_FUNCTION_NOT_PARALLEL : CKR_CRYPTOKI_NOT_INITIALIZED;
}

CK_RV C_CancelFunction(CK_SESSION_HANDLE s)
{
    (void)s;
    return p11_state_get() ? CKR_FUNCTION_NOT_PARALLEL : CKR_CRYPTOKI_NOT_INITIALIZED;
}

/* Tokens are configured, never inserted or removed. */
CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID *slot, void *reserved)
{
    (void)flags, (void)slot, (void)reserved;
    NOT_SUPPORTED;
}

/* ---- PKCS #11 3.0 message-based functions: no GREP11 RPCs back them ---- */

CK_RV C_MessageEncryptInit(CK_SESSION_HANDLE s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
    (void)s, (void)mech, (void)key;
    NOT_SUPPORTED;
}

CK_RV C_EncryptMessage(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *aad,
                       CK_ULONG aad_len, CK_BYTE *in, CK_ULONG in_len, CK_BYTE *out,
                       CK_ULONG *out_len)
{
    (void)s, (void)param, (void)param_len, (void)aad, (void)aad_len, (void)in, (void)in_len,
        (void)out, (void)out_len;
    NOT_SUPPORTED;
}

CK_RV C_EncryptMessageBegin(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *aad,
                            CK_ULONG aad_len)
{
    (void)s, (void)param, (void)param_len, (void)aad, (void)aad_len;
    NOT_SUPPORTED;
}

CK_RV C_EncryptMessageNext(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *in,
                           CK_ULONG in_len, CK_BYTE *out, CK_ULONG *out_len, CK_FLAGS flags)
{
    (void)s, (void)param, (void)param_len, (void)in, (void)in_len, (void)out, (void)out_len,
        (void)flags;
    NOT_SUPPORTED;
}

CK_RV C_MessageEncryptFinal(CK_SESSION_HANDLE s)
{
    (void)s;
    NOT_SUPPORTED;
}

CK_RV C_MessageDecryptInit(CK_SESSION_HANDLE s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
    (void)s, (void)mech, (void)key;
    NOT_SUPPORTED;
}

CK_RV C_DecryptMessage(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *aad,
                       CK_ULONG aad_len, CK_BYTE *in, CK_ULONG in_len, CK_BYTE *out,
                       CK_ULONG *out_len)
{
    (void)s, (void)param, (void)param_len, (void)aad, (void)aad_len, (void)in, (void)in_len,
        (void)out, (void)out_len;
    NOT_SUPPORTED;
}

CK_RV C_DecryptMessageBegin(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *aad,
                            CK_ULONG aad_len)
{
    (void)s, (void)param, (void)param_len, (void)aad, (void)aad_len;
    NOT_SUPPORTED;
}

CK_RV C_DecryptMessageNext(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *in,
                           CK_ULONG in_len, CK_BYTE *out, CK_ULONG *out_len, CK_FLAGS flags)
{
    (void)s, (void)param, (void)param_len, (void)in, (void)in_len, (void)out, (void)out_len,
        (void)flags;
    NOT_SUPPORTED;
}

CK_RV C_MessageDecryptFinal(CK_SESSION_HANDLE s)
{
    (void)s;
    NOT_SUPPORTED;
}

CK_RV C_MessageSignInit(CK_SESSION_HANDLE s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
    (void)s, (void)mech, (void)key;
    NOT_SUPPORTED;
}

CK_RV C_SignMessage(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *data,
                    CK_ULONG data_len, CK_BYTE *sig, CK_ULONG *sig_len)
{
    (void)s, (void)param, (void)param_len, (void)data, (void)data_len, (void)sig, (void)sig_len;
    NOT_SUPPORTED;
}

CK_RV C_SignMessageBegin(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len)
{
    (void)s, (void)param, (void)param_len;
    NOT_SUPPORTED;
}

CK_RV C_SignMessageNext(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *data,
                        CK_ULONG data_len, CK_BYTE *sig, CK_ULONG *sig_len)
{
    (void)s, (void)param, (void)param_len, (void)data, (void)data_len, (void)sig, (void)sig_len;
    NOT_SUPPORTED;
}

CK_RV C_MessageSignFinal(CK_SESSION_HANDLE s)
{
    (void)s;
    NOT_SUPPORTED;
}

CK_RV C_MessageVerifyInit(CK_SESSION_HANDLE s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key)
{
    (void)s, (void)mech, (void)key;
    NOT_SUPPORTED;
}

CK_RV C_VerifyMessage(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *data,
                      CK_ULONG data_len, CK_BYTE *sig, CK_ULONG sig_len)
{
    (void)s, (void)param, (void)param_len, (void)data, (void)data_len, (void)sig, (void)sig_len;
    NOT_SUPPORTED;
}

CK_RV C_VerifyMessageBegin(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len)
{
    (void)s, (void)param, (void)param_len;
    NOT_SUPPORTED;
}

CK_RV C_VerifyMessageNext(CK_SESSION_HANDLE s, void *param, CK_ULONG param_len, CK_BYTE *data,
                          CK_ULONG data_len, CK_BYTE *sig, CK_ULONG sig_len)
{
    (void)s, (void)param, (void)param_len, (void)data, (void)data_len, (void)sig, (void)sig_len;
    NOT_SUPPORTED;
}

CK_RV C_MessageVerifyFinal(CK_SESSION_HANDLE s)
{
    (void)s;
    NOT_SUPPORTED;
}

/* ---- PKCS #11 3.2 functions other than the KEM pair (kem.c) ------------ */

/* Signature-first verification: no GREP11 RPC takes the signature at Init. */
CK_RV C_VerifySignatureInit(CK_SESSION_HANDLE s, CK_MECHANISM *mech, CK_OBJECT_HANDLE key,
                            CK_BYTE *sig, CK_ULONG sig_len)
{
    (void)s, (void)mech, (void)key, (void)sig, (void)sig_len;
    NOT_SUPPORTED;
}

CK_RV C_VerifySignature(CK_SESSION_HANDLE s, CK_BYTE *data, CK_ULONG len)
{
    (void)s, (void)data, (void)len;
    NOT_SUPPORTED;
}

CK_RV C_VerifySignatureUpdate(CK_SESSION_HANDLE s, CK_BYTE *part, CK_ULONG len)
{
    (void)s, (void)part, (void)len;
    NOT_SUPPORTED;
}

CK_RV C_VerifySignatureFinal(CK_SESSION_HANDLE s)
{
    (void)s;
    NOT_SUPPORTED;
}

/* No FIPS-validated operation indicator. */
CK_RV C_GetSessionValidationFlags(CK_SESSION_HANDLE s, CK_ULONG type, CK_FLAGS *flags)
{
    (void)s, (void)type, (void)flags;
    NOT_SUPPORTED;
}

/* Every call completes before it returns: nothing is asynchronous. */
CK_RV C_AsyncComplete(CK_SESSION_HANDLE s, CK_UTF8CHAR *fn, void *result)
{
    (void)s, (void)fn, (void)result;
    NOT_SUPPORTED;
}

CK_RV C_AsyncGetID(CK_SESSION_HANDLE s, CK_UTF8CHAR *fn, CK_ULONG *id)
{
    (void)s, (void)fn, (void)id;
    NOT_SUPPORTED;
}

CK_RV C_AsyncJoin(CK_SESSION_HANDLE s, CK_UTF8CHAR *fn, CK_ULONG id, CK_BYTE *data, CK_ULONG len)
{
    (void)s, (void)fn, (void)id, (void)data, (void)len;
    NOT_SUPPORTED;
}

/* GREP11's WrapKey/UnwrapKey carry no associated data. */
CK_RV C_WrapKeyAuthenticated(CK_SESSION_HANDLE s, CK_MECHANISM *mech, CK_OBJECT_HANDLE wrapping,
                             CK_OBJECT_HANDLE key, CK_BYTE *aad, CK_ULONG aad_len, CK_BYTE *out,
                             CK_ULONG *out_len)
{
    (void)s, (void)mech, (void)wrapping, (void)key, (void)aad, (void)aad_len, (void)out,
        (void)out_len;
    NOT_SUPPORTED;
}

CK_RV C_UnwrapKeyAuthenticated(CK_SESSION_HANDLE s, CK_MECHANISM *mech, CK_OBJECT_HANDLE unwrapping,
                               CK_BYTE *in, CK_ULONG in_len, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                               CK_BYTE *aad, CK_ULONG aad_len, CK_OBJECT_HANDLE *key)
{
    (void)s, (void)mech, (void)unwrapping, (void)in, (void)in_len, (void)tmpl, (void)n, (void)aad,
        (void)aad_len, (void)key;
    NOT_SUPPORTED;
}
