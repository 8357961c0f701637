/* kgpath serve: the studio's static files, built into the binary
 * (tools/embed_assets.py generates the table from src/studio/, listed in
 * `studio_assets` in src/meson.build). Only names in the table can be
 * served, so no path reaches outside it. */
#include <string.h>

#include "serve.h"

const srv_asset *srv_asset_find(const char *name)
{
    /* The table is sorted by name (embed_assets.py sorts it). */
    size_t lo = 0, hi = srv_nassets;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(srv_assets[mid].name, name);
        if (c == 0) return &srv_assets[mid];
        if (c < 0) lo = mid + 1; else hi = mid;
    }
    return NULL;
}

static void get_asset(srv_req *rq)
{
    const char *name = rq->tail;
    if (!*name) name = "index.html";
    /* Refuse anything path-like that the table could never hold (".."
     * segments, backslashes, absolute paths): 404 as for any unknown name. */
    const srv_asset *a = strstr(name, "..") || strchr(name, '\\') || name[0] == '/' ? NULL
                                                                                    : srv_asset_find(name);
    if (!a) {
        srv_error(rq, 404, "not_found", NULL, "no such studio file: %s", rq->tail);
        return;
    }
    srv_reply_static(rq, 200, a->type, a->data, a->len);
}

static void redirect_studio(srv_req *rq)
{
    srv_add_header(rq, "Location", "/studio/");
    srv_reply_static(rq, 308, "text/plain; charset=utf-8", "see /studio/\n", 13);
}

void serve_assets_routes(srv_routes *t)
{
    srv_route(t, "GET", "/studio/*", SRV_PUBLIC, get_asset);
    srv_route(t, "GET", "/studio", SRV_PUBLIC, redirect_studio);
    srv_route(t, "GET", "/", SRV_PUBLIC, redirect_studio);
}
