/* grpc.health.v1.Health/Check per service: the whole server ("") and
 * grep11.Crypto serve whenever the instance is unlocked and not draining,
 * whatever the database does; grep11.Store and grep11.Auth (API keys are
 * in the database) also need the keystore database to answer.
 * NOT_FOUND for other names. */
#include <string.h>

#include "handlers.h"
#include "health.pb-c.h"
#include "services.h"

CK_RV h_health_check(rpc_ctx *ctx)
{
    const Grpc__Health__V1__HealthCheckRequest *req = (const void *)ctx->req;
    const char *svc = req->service ? req->service : "";
    int needs_store = strcmp(svc, "grep11.Store") == 0 || strcmp(svc, "grep11.Auth") == 0;
    if (svc[0] && strcmp(svc, "grep11.Crypto") != 0 && !needs_store) {
        ctx->code_override = GRPC_STATUS_NOT_FOUND;
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "unknown service");
    }
    int down = ctx->draining || (needs_store && ctx->svc && !services_store_ok(ctx->svc));
    Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    resp.status = down ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
                       : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    return rpc_reply(ctx, &resp.base);
}
