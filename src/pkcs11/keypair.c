/* C_GenerateKeyPair: one GenerateKeyPair RPC returns the private key's
 * sealed blob and the public key as a MACed SPKI (src/engine/README.md);
 * each becomes a key object whose bound attributes (CKA_EC_POINT,
 * CKA_MODULUS, ...) come from the server's GetAttributeValue, placed per
 * DESIGN §5 by its own template (session or token, private or public).
 * CKA_EC_PARAMS may be the DER OID or a curve name ("P-256"): the server
 * takes both and reports the OID. */
#include <stdlib.h>

#include "internal.h"

/* Template checks and placement of one half, before anything is made; the
 * server's template gets the module's defaults for that class (defaults.c).
 * CKA_ALWAYS_AUTHENTICATE is a private key's (kept by the module: ctxauth.c). */
static CK_RV prepare(p11_state *st, p11_session *s, const CK_ATTRIBUTE *t, CK_ULONG n, int pub,
                     CK_ATTRIBUTE **srv, CK_ULONG *nsrv)
{
    int priv, token;
    CK_RV rv = p11_tmpl_check(t, n);
    if (rv == CKR_OK && pub && p11_tmpl_bool(t, n, CKA_ALWAYS_AUTHENTICATE, 0)) {
        P11_INFO("C_GenerateKeyPair: CKA_ALWAYS_AUTHENTICATE on a public key");
        rv = CKR_ATTRIBUTE_VALUE_INVALID;
    }
    if (rv == CKR_OK)
        rv = p11_object_placement(st, s, t, n, 0, -1, &priv, &token);
    if (rv == CKR_OK)
        rv = p11_new_key_template(pub ? CKO_PUBLIC_KEY : CKO_PRIVATE_KEY, t, n, srv, nsrv);
    return rv;
}

/* Takes back a half already handed out when the other half fails. */
static void undo(p11_state *st, p11_session *s, CK_OBJECT_HANDLE h)
{
    p11_object *o;
    if (p11_object_get(st, s, h, &o) != CKR_OK)
        return;
    if (p11_object_destroy(st, o) != CKR_OK)
        P11_WARN("C_GenerateKeyPair: the public key of a failed pair could not be removed");
    p11_object_put(st, o);
}

CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE h, CK_MECHANISM *m, CK_ATTRIBUTE *pub, CK_ULONG npub,
                        CK_ATTRIBUTE *priv, CK_ULONG npriv, CK_OBJECT_HANDLE *hpub,
                        CK_OBJECT_HANDLE *hpriv)
{
    P11_STATE_OR_RETURN(st);
    p11_session *s;
    p11_mech pm = {0};
    CK_ATTRIBUTE *spub = NULL, *spriv = NULL;
    CK_ULONG nspub = 0, nspriv = 0;
    g11c_buf bpriv = {0}, bpub = {0};
    p11_object *opub = NULL, *opriv = NULL;
    if (!m || !hpub || !hpriv)
        return CKR_ARGUMENTS_BAD;
    CK_RV rv = p11_session_get(st, h, &s);
    if (rv != CKR_OK)
        return rv;
    if ((rv = p11_slot_mech_check(&st->slots[s->slot_idx], m->mechanism, CKF_GENERATE_KEY_PAIR)) !=
            CKR_OK ||
        (rv = prepare(st, s, pub, npub, 1, &spub, &nspub)) != CKR_OK ||
        (rv = prepare(st, s, priv, npriv, 0, &spriv, &nspriv)) != CKR_OK ||
        (rv = p11_mech_from_ck(m, &pm)) != CKR_OK)
        goto out;
    rv = g11c_generate_key_pair(st->slots[s->slot_idx].conn, &pm.m, spub, nspub, spriv, nspriv,
                                &bpriv, &bpub);
    if (rv != CKR_OK)
        goto out;
    if ((rv = p11_key_object(st, s, &bpub, NULL, CKO_PUBLIC_KEY, pub, npub, &opub)) != CKR_OK ||
        (rv = p11_key_object(st, s, &bpriv, NULL, CKO_PRIVATE_KEY, priv, npriv, &opriv)) != CKR_OK)
        goto out;
    if ((rv = p11_object_add(st, s, opub, hpub)) != CKR_OK)
        goto out;
    opub = NULL;
    if ((rv = p11_object_add(st, s, opriv, hpriv)) != CKR_OK) {
        undo(st, s, *hpub);
        goto out;
    }
    opriv = NULL;
out:
    p11_object_free(opub);
    p11_object_free(opriv);
    free(spub);
    free(spriv);
    p11_mech_free(&pm);
    g11c_buf_free(&bpriv);
    g11c_buf_free(&bpub);
    p11_session_put(st, s);
    return rv;
}
