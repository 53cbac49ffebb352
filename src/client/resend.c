/* The resend rule of resend.h. */
#include <grpc/support/alloc.h>
#include <string.h>

#include "internal.h"
#include "resend.h"

/* Methods whose calls may run twice: a second run changes nothing the
 * first did not, and its answer is as good. Anything not listed is sent
 * once unless it provably never left (or carries a RequestID). */
static const struct {
    const char *path;
    int prefix; /* path is a prefix: a whole service */
} idempotent[] = {
    /* Stateless on the server: a call's whole state travels in its
     * request and reply (a second key generated is only another blob). */
    {"/grep11.Crypto/", 1},
    /* Reads. */
    {"/grep11.Store/KeystoreInfo", 0},
    {"/grep11.Store/GetObject", 0},
    {"/grep11.Store/FindObjects", 0},
    {"/grep11.Admin/ListApiKeys", 0},
    {"/grep11.Custody/Status", 0},
    {"/grep11.Custody/AuditVerify", 0},
    {"/grpc.health.v1.Health/Check", 0},
    /* A second token is as good as the first. */
    {G11C_AUTH_TOKEN, 0},
};

int g11c_method_idempotent(const char *method)
{
    for (size_t i = 0; i < sizeof(idempotent) / sizeof(idempotent[0]); i++) {
        const char *p = idempotent[i].path;
        if (idempotent[i].prefix ? strncmp(method, p, strlen(p)) == 0 : strcmp(method, p) == 0)
            return 1;
    }
    return 0;
}

int g11c_may_resend(g11c_delivery d, const char *method, int keyed)
{
    switch (d) {
    case G11C_UNSENT:
        return 1;
    case G11C_UNCERTAIN:
        return keyed || g11c_method_idempotent(method);
    default:
        return 0;
    }
}

/* A target in the form of a transport's peer ("ipv4:127.0.0.1:5000", a
 * valid gRPC target too) reads the same whether or not a transport took
 * the call: no proof either way. */
static int peer_shaped(const char *target)
{
    static const char *const schemes[] = {"ipv4:", "ipv6:", "unix:", "unix-abstract:", "vsock:"};
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if (strncmp(target, schemes[i], strlen(schemes[i])) == 0)
            return 1;
    return 0;
}

g11c_delivery g11c_delivery_of(grpc_call *call, grpc_channel *ch, grpc_status_code status,
                               const grpc_metadata_array *trailers)
{
    if (status != GRPC_STATUS_UNAVAILABLE || g11c_has_grep11_error(trailers))
        return G11C_FINAL;
    if (!call || !ch)
        return G11C_UNCERTAIN;
    char *peer = grpc_call_get_peer(call), *target = grpc_channel_get_target(ch);
    int unsent = peer && target && !peer_shaped(target) && strcmp(peer, target) == 0;
    gpr_free(peer);
    gpr_free(target);
    return unsent ? G11C_UNSENT : G11C_UNCERTAIN;
}
