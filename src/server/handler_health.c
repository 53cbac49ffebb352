/* grpc.health.v1.Health/Check: SERVING for the whole server ("") and for
 * grep11.Crypto; NOT_SERVING while draining; NOT_FOUND for other names. */
#include <string.h>

#include "handlers.h"
#include "health.pb-c.h"

CK_RV h_health_check(rpc_ctx *ctx)
{
    const Grpc__Health__V1__HealthCheckRequest *req = (const void *)ctx->req;
    const char *svc = req->service ? req->service : "";
    if (svc[0] && strcmp(svc, "grep11.Crypto") != 0) {
        ctx->code_override = GRPC_STATUS_NOT_FOUND;
        return rpc_fail(ctx, CKR_ARGUMENTS_BAD, "unknown service");
    }
    Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    resp.status = ctx->draining
                      ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
                      : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    return rpc_reply(ctx, &resp.base);
}
