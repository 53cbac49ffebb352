/* GET /healthz and GET /readyz, for load balancers and orchestrators.
 * healthz: the process answers. readyz: it can serve calls now (unlocked,
 * the keystore database answering; the self-tests passed, or it would not
 * have started), 503 with the reason otherwise. The database's state is
 * the revocation reloader's last look (services_store_ok): a probe of our
 * own would hang with a frozen database, and so would the balancer. */
#include <cjson/cJSON.h>

#include "custody.h"
#include "directory.h"
#include "http.h"

static void status_json(http_response *out, unsigned status, const char *state, const char *why)
{
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddStringToObject(o, "status", state) ||
              (why && !cJSON_AddStringToObject(o, "reason", why)))) {
        cJSON_Delete(o);
        o = NULL;
    }
    http_json(out, status, o);
}

void http_healthz(http_request *r, http_response *out)
{
    (void)r;
    status_json(out, 200, "alive", NULL);
}

void http_readyz(http_request *r, http_response *out)
{
    services *svc = http_services(r);
    if (!custody_unlocked(svc->cust)) {
        status_json(out, 503, "not ready", "locked: key owners have not unlocked the instance");
        out->retry_after_s = 5;
    } else if (!services_store_ok(svc)) {
        status_json(out, 503, "not ready", "the keystore database does not answer");
        out->retry_after_s = 1;
    } else {
        status_json(out, 200, "ready", NULL);
    }
}
