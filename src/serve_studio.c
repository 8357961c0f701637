/* kgpath serve: the studio's own routes (contract in src/serve.h). The
 * pages themselves are static files under src/studio/ (serve_assets.c);
 * these are the data they need beyond the rest of the /v1/ API (plans come
 * from /v1/plan?format=html, accept/reject from /v1/suggestions/accept|reject):
 *
 *   GET /v1/map.svg                  curriculum map (kgp_map_svg), cached
 *   GET /v1/studio/courses           courses with language and units (filters, lang)
 *   GET /v1/suggestions              ranked suggested prerequisites with evidence
 *   GET /v1/suggestions/suspicious   existing edges the model doubts
 *
 * Suggestions need a model: the checkpoint folder in $KGPATH_CHECKPOINT (as
 * for `kgpath suggest`); without one they answer 503 "no_model".
 *
 * Map layouts are slow (Graphviz, serialised inside the library), so the
 * last MAP_CACHE renders are kept, keyed by the view's generation and the
 * query: a changed graph never serves an old map. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

#define MAP_CACHE 8

/* ---- helpers ---- */

/* 1 when the parameter is "1"/"true"/"yes"; def when absent. */
static int query_bool(srv_req *rq, const char *name, int def)
{
    const char *v = srv_query(rq, name);
    if (!v) return def;
    return !strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on");
}

/* Parses an unsigned parameter in [lo, hi]; 0 after replying 400. */
static int query_num(srv_req *rq, const char *name, unsigned long lo, unsigned long hi, unsigned long *out)
{
    const char *v = srv_query(rq, name);
    if (!v || !*v) return 1;
    char *end;
    unsigned long x = strtoul(v, &end, 10);
    if (*end || v[0] == '-' || x < lo || x > hi) {
        srv_error(rq, 400, "bad_request", name, "query parameter '%s' must be an integer in %lu..%lu", name, lo, hi);
        return 0;
    }
    *out = x;
    return 1;
}

static const char *nonempty(const char *s) { return s && *s ? s : NULL; }

static json_t *ref_json(kgp_snap *s, uint32_t i)
{
    if (i == KGP_NONE) return json_null();
    const char *t = kgp_snap_title(s, i);
    return json_pack("{s:s,s:s}", "id", kgp_snap_key(s, i), "title", t ? t : "");
}

/* ---- GET /v1/map.svg?course=&unit=&tag=&findings=1&rankdir=LR ---- */

typedef struct map_entry { uint64_t gen; char *query; char *svg; size_t len; } map_entry;
static map_entry map_cache[MAP_CACHE];
static unsigned map_next;
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

static void map_svg(srv_req *rq)
{
    const char *course = nonempty(srv_query(rq, "course")), *unit = nonempty(srv_query(rq, "unit"));
    const char *tag = nonempty(srv_query(rq, "tag")), *rankdir = nonempty(srv_query(rq, "rankdir"));
    int findings = query_bool(rq, "findings", 1);
    const srv_view *v = srv_view_get(rq);
    if (!v) return;
    char *key = NULL;
    if (asprintf(&key, "%s\n%s\n%s\n%s\n%d", course ? course : "", unit ? unit : "", tag ? tag : "",
                 rankdir ? rankdir : "", findings) < 0) { srv_error_status(rq, KGP_ENOMEM, NULL); return; }
    pthread_mutex_lock(&map_lock);
    for (unsigned i = 0; i < MAP_CACHE; i++)
        if (map_cache[i].svg && map_cache[i].gen == v->generation && !strcmp(map_cache[i].query, key)) {
            srv_reply(rq, 200, "image/svg+xml", map_cache[i].svg, map_cache[i].len);
            pthread_mutex_unlock(&map_lock);
            free(key);
            return;
        }
    pthread_mutex_unlock(&map_lock);

    kgp_check *ck = NULL;
    kgp_status st = KGP_OK;
    if (findings && (st = kgp_check_make(v->planner, &ck)) != KGP_OK) {
        srv_error_status(rq, st, kgp_check_errmsg(ck));
        kgp_check_free(ck);
        free(key);
        return;
    }
    kgp_map_options o = {.course = course, .unit = unit, .tag = tag, .check = ck, .rankdir = rankdir};
    char *svg = NULL;
    size_t len = 0;
    st = kgp_map_svg(v->snap, &o, &svg, &len);
    kgp_check_free(ck);
    if (st) {
        srv_error(rq, srv_http_status(st), st == KGP_ENOTFOUND ? "not_found" : st == KGP_EUSAGE ? "bad_request" : "internal",
                  st == KGP_ENOTFOUND ? "course" : NULL, "%s", kgp_snap_errmsg(v->snap));
        free(key);
        return;
    }
    srv_reply(rq, 200, "image/svg+xml", svg, len);
    /* keep a copy (the library's buffer is freed with kgp_map_free) */
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, svg, len + 1);
        pthread_mutex_lock(&map_lock);
        map_entry *e = &map_cache[map_next++ % MAP_CACHE];
        free(e->query);
        free(e->svg);
        *e = (map_entry){v->generation, key, copy, len};
        key = NULL;
        pthread_mutex_unlock(&map_lock);
    }
    free(key);
    kgp_map_free(svg);
}

/* ---- GET /v1/studio/courses ---- */

static void courses(srv_req *rq)
{
    const srv_view *v = srv_view_get(rq);
    if (!v) return;
    uint32_t nc = kgp_snap_course_count(v->snap);
    size_t *count = calloc((size_t)nc + 1, sizeof *count);
    json_t *arr = json_array();
    if (!count || !arr) { free(count); json_decref(arr); srv_error_status(rq, KGP_ENOMEM, NULL); return; }
    for (uint32_t c = 0; c < nc; c++) {
        kgp_iter *it;
        uint32_t idx;
        if (kgp_iter_open(v->snap, kgp_snap_course_id(v->snap, c), &it) == KGP_OK) {
            while (kgp_iter_next(it, &idx)) count[c]++;
            kgp_iter_close(it);
        }
        json_t *units = json_array();
        for (uint32_t u = 0; u < kgp_snap_unit_count(v->snap, c); u++) {
            const char *id, *title;
            if (kgp_snap_unit(v->snap, c, u, &id, &title) == KGP_OK)
                json_array_append_new(units, json_pack("{s:s,s:s?}", "id", id, "title", title));
        }
        const char *title = kgp_snap_course_title(v->snap, c), *lang = kgp_snap_course_language(v->snap, c);
        json_array_append_new(arr, json_pack("{s:s,s:s?,s:s?,s:I,s:o}", "id", kgp_snap_course_id(v->snap, c),
                                             "title", title, "language", lang, "concepts", (json_int_t)count[c],
                                             "units", units));
    }
    free(count);
    srv_reply_json(rq, 200, json_pack("{s:o}", "courses", arr));
}

/* ---- suggestions ---- */

static const char *model_or_503(srv_req *rq)
{
    const char *m = nonempty(getenv("KGPATH_CHECKPOINT"));
    if (!m) srv_error(rq, 503, "no_model", NULL, "no model: start the server with KGPATH_CHECKPOINT set "
                      "to a checkpoint folder (kgpath train --out DIR)");
    return m;
}

/* GET /v1/suggestions?course=&concept=&top=&min_score= */
static void suggestions(srv_req *rq)
{
    const char *course = nonempty(srv_query(rq, "course")), *cname = nonempty(srv_query(rq, "concept"));
    unsigned long top = 25;
    if (!query_num(rq, "top", 1, 1000, &top)) return;
    const char *ms = srv_query(rq, "min_score");
    double min_score = 0;
    if (ms) {
        char *end;
        min_score = strtod(ms, &end);
        if (!*ms || *end || !(min_score >= 0 && min_score <= 1)) {
            srv_error(rq, 400, "bad_request", "min_score", "query parameter 'min_score' must be a number in 0..1");
            return;
        }
    }
    const char *model = model_or_503(rq);
    if (!model) return;
    const srv_view *v = srv_view_get(rq);
    if (!v) return;
    uint32_t concept = KGP_NONE;
    if (cname) {
        kgp_status st = kgp_snap_lookup(v->snap, cname, &concept);
        if (st) { srv_error_status(rq, st, kgp_snap_errmsg(v->snap)); return; }
    }
    kgp_suggestion *sg = NULL;
    size_t n = 0;
    /* For one concept: every pair involving it (no top before the filter). */
    kgp_status st = kgp_suggest(v->snap, model, course, (float)min_score, cname ? 0 : top, &sg, &n);
    if (st) { srv_error_status(rq, st, kgp_snap_errmsg(v->snap)); free(sg); return; }
    json_t *arr = json_array();
    size_t shown = 0;
    for (size_t i = 0; arr && i < n && shown < top; i++) {
        if (concept != KGP_NONE && sg[i].concept != concept && sg[i].prereq != concept) continue;
        json_array_append_new(arr, json_pack("{s:o,s:o,s:f,s:o,s:o,s:f}", "prerequisite", ref_json(v->snap, sg[i].prereq),
            "concept", ref_json(v->snap, sg[i].concept), "score", (double)sg[i].score,
            "evidence", ref_json(v->snap, sg[i].evidence),
            "evidence_sim", isfinite(sg[i].evidence_sim) ? json_real(sg[i].evidence_sim) : json_real(0),
            "mention", (double)sg[i].mention));
        shown++;
    }
    free(sg);
    srv_reply_json(rq, 200, json_pack("{s:s,s:o}", "model", model, "suggestions", arr));
}

/* GET /v1/suggestions/suspicious?course=&top= */
static void suspicious(srv_req *rq)
{
    const char *course = nonempty(srv_query(rq, "course"));
    unsigned long top = 10;
    if (!query_num(rq, "top", 1, 1000, &top)) return;
    const char *model = model_or_503(rq);
    if (!model) return;
    const srv_view *v = srv_view_get(rq);
    if (!v) return;
    kgp_suspect *sp = NULL;
    size_t n = 0;
    kgp_status st = kgp_suspicious(v->snap, model, course, top, &sp, &n);
    if (st) { srv_error_status(rq, st, kgp_snap_errmsg(v->snap)); free(sp); return; }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_pack("{s:o,s:o,s:f,s:f}", "prerequisite", ref_json(v->snap, sp[i].prereq),
            "concept", ref_json(v->snap, sp[i].concept), "score", (double)sp[i].score, "reverse", (double)sp[i].reverse));
    free(sp);
    srv_reply_json(rq, 200, json_pack("{s:s,s:o}", "model", model, "suspicious", arr));
}

void serve_studio_routes(srv_routes *t)
{
    srv_route(t, "GET", "/v1/map.svg", SRV_READ, map_svg);
    srv_route(t, "GET", "/v1/studio/courses", SRV_READ, courses);
    srv_route(t, "GET", "/v1/suggestions", SRV_READ, suggestions);
    srv_route(t, "GET", "/v1/suggestions/suspicious", SRV_READ, suspicious);
}
