/* kgpath serve: operations endpoints: /healthz, /metrics (Prometheus text
 * format) and the OpenAPI document /v1/openapi.json (src/openapi.json,
 * built in). All public: they carry no graph or learner data. */
#include <stdlib.h>
#include <string.h>

#include "serve.h"
#include "serve_internal.h"
#include "openapi_json.h"

static void healthz(srv_req *rq)
{
    uint64_t txn;
    if (kgp_db_txn_id(srv_db(rq), &txn)) {
        srv_error(rq, 503, "unavailable", NULL, "the database cannot be read");
        return;
    }
    srv_reply_static(rq, 200, "application/json", "{\"status\":\"ok\"}", 15);
}

static void metrics(srv_req *rq)
{
    size_t len = 0;
    char *text = srv_metrics_text(rq->srv, &len);
    if (!text) { srv_error(rq, 503, "unavailable", NULL, "out of memory"); return; }
    srv_reply_take(rq, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

static void openapi(srv_req *rq)
{
    srv_reply_static(rq, 200, "application/json", kgp_openapi_json, KGP_OPENAPI_JSON_LEN);
}

void serve_ops_routes(srv_routes *t)
{
    srv_route(t, "GET", "/healthz", SRV_PUBLIC, healthz);
    srv_route(t, "GET", "/metrics", SRV_PUBLIC, metrics);
    srv_route(t, "GET", "/v1/openapi.json", SRV_PUBLIC, openapi);
}
