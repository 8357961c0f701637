/* kgpath serve: the JSON API under /v1/ — the CLI's commands over HTTP,
 * with the same JSON contracts (README "kgpath serve"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_util.h"
#include "serve.h"
#include "serve_internal.h"

/* ---- small helpers ---- */

/* Parses an unsigned query parameter in [lo, hi] (def when absent); 0 after
 * replying 400. */
static int query_uint(srv_req *rq, const char *name, unsigned long lo, unsigned long hi,
                      unsigned long def, unsigned long *out)
{
    const char *v = srv_query(rq, name);
    *out = def;
    if (!v) return 1;
    char *end;
    unsigned long x = strtoul(v, &end, 10);
    if (!*v || *end || x < lo || x > hi || v[0] == '-') {
        srv_error(rq, 400, "bad_request", name, "query parameter '%s' must be an integer in %lu..%lu", name, lo, hi);
        return 0;
    }
    *out = x;
    return 1;
}

/* Resolves a concept name; 0 after replying 404/409. */
static int lookup(srv_req *rq, kgp_snap *snap, const char *name, uint32_t *idx)
{
    kgp_status st = kgp_snap_lookup(snap, name, idx);
    if (st) { srv_error_status(rq, st, kgp_snap_errmsg(snap)); return 0; }
    return 1;
}

/* ---- concepts and courses ---- */

static int has_str(const char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) if (v[i] && !strcmp(v[i], s)) return 1;
    return 0;
}

/* GET /v1/concepts?course=&unit=&tag=&q=&offset=&limit= */
static void concepts_list(srv_req *rq)
{
    unsigned long offset, limit;
    if (!query_uint(rq, "offset", 0, 1ul << 31, 0, &offset) || !query_uint(rq, "limit", 1, 1000, 100, &limit))
        return;
    const char *course = srv_query(rq, "course"), *unit = srv_query(rq, "unit");
    const char *tag = srv_query(rq, "tag"), *q = srv_query(rq, "q");
    const srv_view *v = srv_view_get(rq);
    if (!v) return;
    kgp_iter *it;
    kgp_status st = kgp_iter_open(v->snap, course && *course ? course : NULL, &it);
    if (st) { srv_error(rq, srv_http_status(st), st == KGP_ENOTFOUND ? "not_found" : "internal", "course",
                        st == KGP_ENOTFOUND ? "no such course: %s" : "%s", st == KGP_ENOTFOUND ? course : kgp_strerror(st)); return; }
    json_t *arr = json_array();
    size_t total = 0;
    uint32_t idx;
    while (arr && kgp_iter_next(it, &idx)) {
        if (q && *q && !strcasestr(kgp_snap_title(v->snap, idx), q) && !strcasestr(kgp_snap_key(v->snap, idx), q))
            continue;
        kgp_concept *c = NULL;
        if ((unit && *unit) || (tag && *tag) || (total >= offset && total < offset + limit)) {
            if ((st = kgp_concept_get(v->snap, idx, &c))) break;
            if ((unit && *unit && (!c->unit_id || strcmp(c->unit_id, unit))) ||
                (tag && *tag && !has_str(c->tags, c->ntags, tag))) {
                kgp_concept_free(c);
                continue;
            }
        }
        if (total >= offset && total < offset + limit) {
            json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:o,s:o}", "id", c->key, "title", c->title,
                                                 "course", c->course_id, "unit", cli_json_str(c->unit_id),
                                                 "minutes", cli_json_num_or_null(c->minutes)));
        }
        kgp_concept_free(c);
        total++;
    }
    kgp_iter_close(it);
    if (st || !arr) { json_decref(arr); srv_error_status(rq, st ? st : KGP_ENOMEM, NULL); return; }
    srv_reply_json(rq, 200, json_pack("{s:I,s:I,s:I,s:o}", "total", (json_int_t)total, "offset",
                                      (json_int_t)offset, "limit", (json_int_t)limit, "concepts", arr));
}

/* GET /v1/concepts/{name}: `kgpath show --json`. */
static void concept_get(srv_req *rq)
{
    const srv_view *v = srv_view_get(rq);
    if (!v) return;
    uint32_t idx;
    if (!lookup(rq, v->snap, rq->tail, &idx)) return;
    kgp_concept *c = NULL;
    kgp_status st = kgp_concept_get(v->snap, idx, &c);
    if (st) srv_error_status(rq, st, kgp_snap_errmsg(v->snap));
    else srv_reply_json(rq, 200, cli_concept_json(c));
    kgp_concept_free(c);
}

/* GET /v1/courses */
static void courses_list(srv_req *rq)
{
    const srv_view *v = srv_view_get(rq);
    if (!v) return;
    json_t *arr = json_array();
    for (uint32_t i = 0; arr && i < kgp_snap_course_count(v->snap); i++) {
        size_t n = 0;
        kgp_iter *it;
        uint32_t idx;
        if (kgp_iter_open(v->snap, kgp_snap_course_id(v->snap, i), &it) == KGP_OK) {
            while (kgp_iter_next(it, &idx)) n++;
            kgp_iter_close(it);
        }
        json_array_append_new(arr, json_pack("{s:s,s:o,s:I}", "id", kgp_snap_course_id(v->snap, i),
                                             "title", cli_json_str(kgp_snap_course_title(v->snap, i)),
                                             "concepts", (json_int_t)n));
    }
    srv_reply_json(rq, 200, arr ? json_pack("{s:o}", "courses", arr) : NULL);
}

void serve_v1_routes(srv_routes *t)
{
    srv_route(t, "GET", "/v1/concepts", SRV_READ, concepts_list);
    srv_route(t, "GET", "/v1/concepts/*", SRV_READ, concept_get);
    srv_route(t, "GET", "/v1/courses", SRV_READ, courses_list);
}
