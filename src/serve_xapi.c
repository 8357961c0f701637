/* kgpath serve: xAPI intake (POST/PUT /xapi/statements). */
#include "serve.h"

void serve_xapi_routes(srv_routes *t)
{
    (void)t;
}
