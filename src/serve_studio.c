/* kgpath serve: the studio's own routes (map, concept page, plan builder,
 * suggestion review). Owned by the studio; see the contract in src/serve.h.
 * Its static files are served by serve_assets.c from src/studio/. */
#include "serve.h"

void serve_studio_routes(srv_routes *t)
{
    (void)t;
}
