/* kgpath serve: the HTTP server (libmicrohttpd) behind `kgpath serve`.
 *
 * CONTRACT FOR EVERY src/serve_X.c FILE (read this before adding a route)
 * ------------------------------------------------------------------------
 * Files.  serve.c        daemon, options, request life cycle, auth, limits,
 *                        access log, metrics, graceful shutdown, `kgpath serve`
 *         serve_router.c the route table and the list of registrars
 *         serve_json.c   JSON replies, errors, kgp_status -> HTTP mapping
 *         serve_assets.c static files under /studio/ (built in, see below)
 *         serve_v1.c     the JSON API under /v1/        serve_xapi.c  /xapi/
 *         serve_ops.c    /healthz, /metrics, /v1/openapi.json
 *         serve_studio.c the studio's own routes (engineer `studio`)
 *         serve_token.c  `kgpath token ...`, `kgpath learner forget`
 *         serve_model.c  /v1/search, /v1/similar, the model state
 *         serve_cache.c  srv_cached: replies made once per graph version
 *
 * Routes.  Each file registers its routes in ONE function listed in
 * serve_router.c's registrar table, e.g.
 *
 *     void serve_studio_routes(srv_routes *t)
 *     {
 *         srv_route(t, "GET",  "/studio/map.svg", SRV_READ, map_svg);
 *         srv_route(t, "GET",  "/studio/concept/" "*", SRV_READ, page);
 *     }
 *
 * A pattern is an exact path, or a prefix ending in '*' (the rest of the
 * path is then in rq->tail; longest prefix wins; exact beats prefix). The
 * method is "GET", "POST", "PUT", "DELETE" or "*"; HEAD is served by GET.
 * A path that matches with another method gets 405. The scope is the one a
 * bearer token must hold (SRV_PUBLIC: no token needed); the server checks it
 * BEFORE the handler runs (401 without a valid token, 403 without the
 * scope; SRV_ADMIN holds every scope). Static assets under /studio/ are
 * public: pages carry no data, they call the API with the user's token.
 *
 * Handlers.  `void handler(srv_req *rq)` runs on a libmicrohttpd worker
 * thread once the whole request (body included, at most --max-body bytes,
 * NUL-terminated) is in. It reads the request through the srv_req fields
 * and srv_query, srv_query_all, srv_header, and sets the reply with exactly one srv_reply_X
 * or srv_error_X call (none: 500). It must not block for long: the pool has
 * --threads workers.
 *
 * Data.  srv_view(rq) gives the request a consistent read view: the open
 * database, a snapshot and a planner over it, shared by all requests until
 * the graph changes (the planner's per-snapshot work is done once), held
 * until the request ends. Writes go through srv_write(rq, fn, ud): one
 * writer at a time, readers drained (LMDB may need to grow the map, which it
 * cannot do while a snapshot is open), the view dropped and rebuilt by the
 * next reader, so a reader sees the graph before or after a write, never
 * half of it. Calling srv_write releases the request's view (the pointer is
 * then invalid; call srv_view_get again). Every request holds the server's
 * read lock from its start (auth reads the database too) until srv_write
 * or its end (or srv_view_drop), because LMDB may grow its map only when
 * no read transaction of this process is open. A request never waits on
 * slow work that does not read the view while holding it (srv_view_drop).
 *
 * Static assets.  Files under src/studio/ listed in `studio_assets` in
 * src/meson.build are built into the binary by tools/embed_assets.py (a
 * table of name, bytes, MIME type by extension) and served at
 * /studio/<path relative to src/studio> ("/studio/" is index.html). Only
 * names in the table exist, so no request can reach outside it. To add a
 * file: put it under src/studio/ and add it to `studio_assets`; C code can
 * read one with srv_asset_find("name").
 */
#ifndef KGP_SERVE_H
#define KGP_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "kgpath.h"

/* Scopes a token may hold (bits). */
enum {
    SRV_PUBLIC  = 0,
    SRV_READ    = 1u << 0,   /* graph: concepts, courses, check, search */
    SRV_PLAN    = 1u << 1,   /* plan, next */
    SRV_LEARNER = 1u << 2,   /* learner events and state, xAPI */
    SRV_WRITE   = 1u << 3,   /* import, suggestion accept/reject */
    SRV_ADMIN   = 1u << 4    /* everything, tokens, learner forget */
};
#define SRV_ALL_SCOPES 0x1fu

typedef struct kgp_srv kgp_srv;         /* the server (serve.c) */
typedef struct srv_routes srv_routes;   /* the route table (serve_router.c) */

typedef struct srv_req {
    kgp_srv *srv;
    struct MHD_Connection *conn;
    const char *method;         /* "GET", "POST", ... (HEAD reads as "GET") */
    const char *path;           /* URL path, percent-decoded, no query */
    const char *tail;           /* after the matched prefix of a '*' route; "" */
    const char *body;           /* request body, NUL-terminated ("" when none) */
    size_t body_len;
    unsigned scopes;            /* scopes of the caller's token (0: none) */
    const char *token_name;     /* name of the caller's token, or NULL */
    char token_buf[64];         /* storage for token_name */
    /* --- the reply (set by the srv_reply and srv_error calls; private) --- */
    int status;
    char *out;  size_t out_len;  int out_owned;
    const char *out_type;
    char headers[512];          /* "Name: value\n" lines added to the reply */
    char err_code[32];          /* the error code of an error reply, for logs */
    void *view;                 /* the view held by this request */
    int locked;                 /* holds the server's read lock */
} srv_req;

typedef void (*srv_handler)(srv_req *rq);

/* ---- routes (serve_router.c) ---- */
void srv_route(srv_routes *t, const char *method, const char *pattern,
               unsigned scope, srv_handler fn);
/* Registrars, one per file (called once at start-up, in this order). */
void serve_ops_routes(srv_routes *t);
void serve_assets_routes(srv_routes *t);
void serve_v1_routes(srv_routes *t);
void serve_xapi_routes(srv_routes *t);
void serve_studio_routes(srv_routes *t);
void serve_model_routes(srv_routes *t);

/* ---- request helpers (serve.c) ---- */
/* First value of a query parameter, or NULL. */
const char *srv_query(srv_req *rq, const char *name);
/* All values of a repeated query parameter (?goal=a&goal=b), in order, up
 * to max; returns how many there are (may exceed max). */
size_t srv_query_all(srv_req *rq, const char *name, const char **vals, size_t max);
/* An unsigned query parameter in [lo, hi] into *out (def when absent or
 * empty); 0 after replying 400 naming it. */
int srv_query_uint(srv_req *rq, const char *name, unsigned long lo, unsigned long hi,
                   unsigned long def, unsigned long *out);
/* A request header (case-insensitive), or NULL. */
const char *srv_header(srv_req *rq, const char *name);

/* ---- replies (serve_json.c) ---- */
/* Copies len bytes as the reply body. */
void srv_reply(srv_req *rq, int status, const char *content_type, const void *buf, size_t len);
/* As srv_reply for data that outlives the server (assets): no copy. */
void srv_reply_static(srv_req *rq, int status, const char *content_type, const void *buf, size_t len);
/* Takes a malloc'ed buffer (freed by the server). */
void srv_reply_take(srv_req *rq, int status, const char *content_type, char *buf, size_t len);
/* Serialises v (compact, keys in insertion order) as application/json and
 * releases it; NULL replies 500 (out of memory). */
void srv_reply_json(srv_req *rq, int status, json_t *v);
/* {"error":{"code":code,"message":...,"where":where or null}} with status. */
void srv_error(srv_req *rq, int status, const char *code, const char *where,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* An error reply for a library status: the HTTP status and code that fit
 * (KGP_EUSAGE 400 bad_request, KGP_EINPUT 422 invalid_input, KGP_ENOTFOUND
 * 404, KGP_EAMBIGUOUS 409 ambiguous, KGP_ECONFLICT 409 conflict, KGP_EDB 503,
 * ...); msg may carry "file:line:column: " which becomes "where". */
void srv_error_status(srv_req *rq, kgp_status st, const char *msg);
/* As srv_error_status with "where" given: the parameter or key at fault
 * (NULL: from msg's "file:line:column: " prefix, as srv_error_status). */
void srv_error_status_at(srv_req *rq, kgp_status st, const char *where, const char *msg);
/* HTTP status for a library status. */
int  srv_http_status(kgp_status st);
/* Adds a reply header (copied). */
void srv_add_header(srv_req *rq, const char *name, const char *value);
/* Parses the body as a JSON object/array (415 unless the Content-Type is
 * JSON or absent; 400 with line:column when malformed): NULL after
 * replying the error. */
json_t *srv_body_json(srv_req *rq);
/* After a request stored learner events: refits the learner models when
 * kgp_fit_due says so, computing the fit with no lock held (other requests
 * go on meanwhile; only storing it is a write, srv_write) while the request
 * waits for it. One refit at a time: while one runs, another request finds
 * none to do. Returns the "refit" summary for a report, or NULL when none
 * was due, another was running, a newer fit was stored meanwhile, or it
 * failed (logged on stderr; the events stay stored). Releases the
 * request's view. serve_v1.c. */
json_t *srv_refit(srv_req *rq);

/* ---- data (serve.c) ---- */
typedef struct srv_view {
    kgp_db *db;
    kgp_snap *snap;
    kgp_planner *planner;
    uint64_t generation;        /* increases with every rebuilt view */
} srv_view;
/* The request's read view; NULL after replying 503 (database unusable). */
const srv_view *srv_view_get(srv_req *rq);
/* Runs fn(db, ud) as the only writer (see the contract above) and returns
 * its status. graph_changed 1: the graph changed (rebuild snapshot and
 * planner); 0: only learner data, tokens, ... */
typedef kgp_status (*srv_write_fn)(kgp_db *db, void *ud);
kgp_status srv_write(srv_req *rq, int graph_changed, srv_write_fn fn, void *ud);
/* Releases the request's view and the server's read lock before the
 * request ends (the view pointer is then invalid; srv_view_get takes them
 * again, perhaps a newer view). For a request that waits on something slow
 * which no longer reads the view (a map layout in a child process, another
 * request's reply): holding the read lock meanwhile would stall an import
 * (srv_write), and behind it (writers first) every new request. */
void srv_view_drop(srv_req *rq);
/* Takes the server's read lock again, without a view, after srv_write or
 * srv_view_drop (released by srv_view_drop, srv_write or the request's
 * end): for a read of the request's own through srv_db that opens a
 * snapshot (a snapshot open in this process makes a write that must grow
 * the map fail, so it may open only while no write runs). */
void srv_read_hold(srv_req *rq);
/* At most one refit per server (srv_refit): 1 when the caller now holds
 * the claim (release it with srv_refit_release), 0 when another holds it. */
int  srv_refit_claim(kgp_srv *s);
void srv_refit_release(kgp_srv *s);
/* The open database, for calls that open their own read transaction
 * (learner state, tokens); safe from any thread. */
kgp_db *srv_db(srv_req *rq);

/* ---- replies made once per graph version (serve_cache.c) ---- */
/* Replies with the reply kept for key under the request's view generation,
 * or makes it with make(rq, ud) and keeps it (unless its status is 5xx).
 * Single flight: while one request makes it, others for the same key and
 * generation wait for that reply instead of making it too. The key must
 * hold everything the reply depends on besides the graph (the query, the
 * model's stamp). The reply's content type must be a string literal. */
void srv_cached(srv_req *rq, const char *key, void (*make)(srv_req *rq, void *ud), void *ud);

/* ---- assets (serve_assets.c, table generated by tools/embed_assets.py) ---- */
typedef struct srv_asset {
    const char *name;           /* path relative to src/studio, e.g. "index.html" */
    const unsigned char *data;
    size_t len;
    const char *type;           /* MIME type with charset for text */
} srv_asset;
extern const srv_asset srv_assets[];
extern const size_t srv_nassets;
/* The asset of that name, or NULL. */
const srv_asset *srv_asset_find(const char *name);

/* ---- internals shared by serve*.c ---- */
/* The handler for method and path: sets *tail and *scope; NULL with *status
 * 404 (no such path) or 405 (*allow then lists the methods). */
srv_handler srv_match(const srv_routes *t, const char *method, const char *path,
                      const char **tail, unsigned *scope, int *status,
                      char *allow, size_t allowlen);
/* Builds the table by calling every registrar. NULL: out of memory. */
srv_routes *srv_routes_build(void);
void srv_routes_free(srv_routes *t);
/* 1 when the server runs with --no-auth (every scope granted). */
int  srv_noauth(const kgp_srv *s);

#endif
