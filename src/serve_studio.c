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
 * Suggestions need a model: the server's checkpoint (srv_checkpoint:
 * --checkpoint, $KGPATH_CHECKPOINT, else DB.kgmodel that bare `kgpath
 * train` writes, as for `kgpath suggest`); without one they answer 503
 * "no_model" saying to run `kgpath train`.
 *
 * Maps (a Graphviz layout: seconds for large graphs) and suggestions (an
 * encoder pass and a scan of concept pairs) are made once per graph version
 * and query (srv_cached, single flight) and served from memory after that:
 * a changed graph, or a retrained model, never serves an old answer.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/file.h"
#include "serve.h"
#include "serve_internal.h"

/* ---- helpers ---- */

/* 1 when the parameter is "1"/"true"/"yes"/"on", 0 when "0"/"false"/
 * "no"/"off", def when absent; -1 after replying 400 for anything else. */
static int query_bool(srv_req *rq, const char *name, int def)
{
    const char *v = srv_query(rq, name);
    if (!v) return def;
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) return 1;
    if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off")) return 0;
    srv_error(rq, 400, "bad_request", name, "query parameter '%s' must be 1 or 0 (true or false)", name);
    return -1;
}

static const char *nonempty(const char *s) { return s && *s ? s : NULL; }

static json_t *ref_json(kgp_snap *s, uint32_t i)
{
    if (i == KGP_NONE) return json_null();
    const char *t = kgp_snap_title(s, i);
    return json_pack("{s:s,s:s}", "id", kgp_snap_key(s, i), "title", t ? t : "");
}

/* ---- GET /v1/map.svg?course=&unit=&tag=&findings=1&rankdir=LR ---- */

typedef struct map_query {
    const char *course, *unit, *tag, *rankdir;
    int findings;
} map_query;

/* Graphviz 2.42's dot layout never frees some of what it allocates (the
 * virtual and auxiliary edges of clusters: tools/lsan.supp), about 100 KB
 * for a course of 35 concepts. The server lays a map out again after every
 * change of the graph, so in-process layouts would grow it without bound.
 * Each layout therefore runs in a child process (fork) that sends the SVG
 * (or the error) back through a pipe and exits, taking Graphviz's leaks
 * with it; a crash in Graphviz costs one reply, not the server. The child
 * only reads memory it shares with the parent (the snapshot's arrays, the
 * check's findings) and calls kgp_map_svg, which no thread of the server
 * calls in-process, so no lock another thread held at fork time is taken
 * (glibc's fork keeps malloc usable in the child). It ends with _exit: no
 * atexit handlers, no stdio flush of the parent's buffers. */
static int read_all(int fd, void *buf, size_t n)
{
    for (char *p = buf; n; ) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* The child's end of the pipe and whether it said "built". */
typedef struct layout_child {
    int fd;
    int told;
} layout_child;

/* In the child, once kgp_map_svg has read the snapshot: one byte 'B' tells
 * the parent it may let the snapshot go. KGPATH_TEST_MAP_HOLD=DIR (tests
 * only) then makes the child create DIR/layout.started and wait for
 * DIR/layout.go before the layout, so a test can act while a layout is in
 * progress without relying on its duration. */
static void layout_tell(layout_child *lc)
{
    if (lc->told) return;
    lc->told = 1;
    if (kg_write_all(lc->fd, "B", 1)) _exit(1);
}

static void layout_built(void *ud)
{
    layout_tell(ud);
    const char *hold = getenv("KGPATH_TEST_MAP_HOLD");
    if (hold && *hold) {
        char path[4096];
        snprintf(path, sizeof path, "%s/layout.started", hold);
        FILE *f = fopen(path, "w");
        if (f) fclose(f);
        snprintf(path, sizeof path, "%s/layout.go", hold);
        while (access(path, F_OK)) usleep(10000);
    }
}

/* kgp_map_svg in a child process: the status, and the SVG (*svg, malloc'ed)
 * or the message (*svg too). KGP_EIO when the child could not run or died.
 * The request's view (and read lock) is dropped as soon as the child has
 * read what it needs of the snapshot (its 'B'), before the layout: the
 * child's strings point into LMDB's map, which a writer may reuse only
 * after that. ck (the findings the child draws) is freed then too. */
static kgp_status map_layout(srv_req *rq, kgp_snap *snap, kgp_map_options *o, kgp_check *ck,
                             char **svg, size_t *len)
{
    *svg = NULL;
    *len = 0;
    int fd[2];
    if (pipe(fd)) { kgp_check_free(ck); return KGP_EIO; }
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        layout_child lc = {fd[1], 0};
        o->built = layout_built;
        o->built_ud = &lc;
        char *s = NULL;
        size_t n = 0;
        kgp_status st = kgp_map_svg(snap, o, &s, &n);
        layout_tell(&lc);                                /* failed before: still say it */
        const char *out = st ? kgp_snap_errmsg(snap) : s;
        uint64_t hdr[2] = {(uint64_t)st, st ? strlen(out) : n};
        int bad = kg_write_all(fd[1], hdr, sizeof hdr) || kg_write_all(fd[1], out, (size_t)hdr[1]);
        _exit(bad ? 1 : 0);
    }
    close(fd[1]);
    char b = 0;
    int ok = pid > 0 && !read_all(fd[0], &b, 1) && b == 'B';
    kgp_check_free(ck);
    srv_view_drop(rq);                                   /* the layout needs no snapshot */
    kgp_status st = KGP_EIO;
    uint64_t hdr[2];
    if (ok && !read_all(fd[0], hdr, sizeof hdr) && hdr[1] < ((uint64_t)1 << 32) &&
        (*svg = malloc((size_t)hdr[1] + 1)) && !read_all(fd[0], *svg, (size_t)hdr[1])) {
        (*svg)[hdr[1]] = 0;
        *len = (size_t)hdr[1];
        st = (kgp_status)hdr[0];
    } else {
        free(*svg);
        *svg = NULL;
    }
    close(fd[0]);
    if (pid > 0) {
        int ws;
        while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {}
    }
    return st;
}

static void map_make(srv_req *rq, void *ud)
{
    const map_query *q = ud;
    const srv_view *v = srv_view_get(rq);
    if (!v) return;
    kgp_check *ck = NULL;
    kgp_status st = KGP_OK;
    if (q->findings && (st = kgp_check_make(v->planner, &ck)) != KGP_OK) {
        srv_error_status(rq, st, kgp_check_errmsg(ck));
        kgp_check_free(ck);
        return;
    }
    kgp_map_options o = {.course = q->course, .unit = q->unit, .tag = q->tag, .check = ck, .rankdir = q->rankdir};
    char *out = NULL;
    size_t len = 0;
    st = map_layout(rq, v->snap, &o, ck, &out, &len);     /* drops the view */
    if (st == KGP_EIO && !out)
        srv_error(rq, 500, "internal", NULL, "the map's layout process failed");
    else if (st)      /* not found: the course (rankdir was checked before) */
        srv_error_status_at(rq, st, st == KGP_ENOTFOUND ? "course" : NULL, out);
    else {
        srv_reply_take(rq, 200, "image/svg+xml", out, len);
        out = NULL;
    }
    free(out);
}

static void map_svg(srv_req *rq)
{
    map_query q = {nonempty(srv_query(rq, "course")), nonempty(srv_query(rq, "unit")),
                   nonempty(srv_query(rq, "tag")), nonempty(srv_query(rq, "rankdir")), query_bool(rq, "findings", 1)};
    if (q.findings < 0) return;
    /* The directions of kgp_map_options.rankdir, checked here so that the
     * error names the parameter (and costs no layout process). */
    if (q.rankdir && strcmp(q.rankdir, "LR") && strcmp(q.rankdir, "TB") && strcmp(q.rankdir, "RL") &&
        strcmp(q.rankdir, "BT")) {
        srv_error(rq, 400, "bad_request", "rankdir", "unknown map direction '%s' (LR, TB, RL or BT)", q.rankdir);
        return;
    }
    char *key = NULL;
    if (asprintf(&key, "map\n%s\n%s\n%s\n%s\n%d", q.course ? q.course : "", q.unit ? q.unit : "",
                 q.tag ? q.tag : "", q.rankdir ? q.rankdir : "", q.findings) < 0) {
        srv_error_status(rq, KGP_ENOMEM, NULL);
        return;
    }
    srv_cached(rq, key, map_make, &q);
    free(key);
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

typedef struct sugg_query {
    const char *course, *concept;
    unsigned long top;
    double min_score;
    int state;                  /* the checkpoint against this graph (KGP_CKPT_*) */
} sugg_query;

static void suggestions_make(srv_req *rq, void *ud)
{
    const sugg_query *q = ud;
    const char *model = srv_checkpoint(rq->srv);
    const srv_view *v = srv_view_get(rq);
    if (!v) return;
    uint32_t concept = KGP_NONE;
    if (q->concept) {
        kgp_status st = kgp_snap_lookup(v->snap, q->concept, &concept);
        if (st) { srv_error_status_at(rq, st, "concept", kgp_snap_errmsg(v->snap)); return; }
    }
    kgp_suggestion *sg = NULL;
    size_t n = 0;
    /* For one concept: every pair involving it (no top before the filter). */
    kgp_status st = kgp_suggest(v->snap, model, q->course, (float)q->min_score, q->concept ? 0 : q->top, &sg, &n);
    if (st) { srv_error_status(rq, st, kgp_snap_errmsg(v->snap)); free(sg); return; }
    json_t *arr = json_array();
    size_t shown = 0;
    for (size_t i = 0; arr && i < n && shown < q->top; i++) {
        if (concept != KGP_NONE && sg[i].concept != concept && sg[i].prereq != concept) continue;
        json_array_append_new(arr, json_pack("{s:o,s:o,s:f,s:o,s:o,s:f}", "prerequisite", ref_json(v->snap, sg[i].prereq),
            "concept", ref_json(v->snap, sg[i].concept), "score", (double)sg[i].score,
            "evidence", ref_json(v->snap, sg[i].evidence),
            "evidence_sim", isfinite(sg[i].evidence_sim) ? json_real(sg[i].evidence_sim) : json_real(0),
            "mention", (double)sg[i].mention));
        shown++;
    }
    free(sg);
    srv_reply_json(rq, 200, json_pack("{s:s,s:s,s:o}", "model", model, "model_state", srv_model_state_name(q->state),
                                      "suggestions", arr));
}

/* GET /v1/suggestions?course=&concept=&top=&min_score= */
static void suggestions(srv_req *rq)
{
    sugg_query q = {nonempty(srv_query(rq, "course")), nonempty(srv_query(rq, "concept")), 25, 0, 0};
    if (!srv_query_uint(rq, "top", 1, 1000, 25, &q.top)) return;
    const char *ms = srv_query(rq, "min_score");
    if (ms) {
        char *end;
        q.min_score = strtod(ms, &end);
        if (!*ms || *end || !(q.min_score >= 0 && q.min_score <= 1)) {
            srv_error(rq, 400, "bad_request", "min_score", "query parameter 'min_score' must be a number in 0..1");
            return;
        }
    }
    uint64_t stamp;
    if (!srv_model_ready(rq, &stamp, &q.state)) return;
    char *key = NULL;
    if (asprintf(&key, "suggest\n%016llx\n%s\n%s\n%lu\n%.17g", (unsigned long long)stamp,
                 q.course ? q.course : "", q.concept ? q.concept : "", q.top, q.min_score) < 0) {
        srv_error_status(rq, KGP_ENOMEM, NULL);
        return;
    }
    srv_cached(rq, key, suggestions_make, &q);
    free(key);
}

typedef struct suspect_query { const char *course; unsigned long top; int state; } suspect_query;

static void suspicious_make(srv_req *rq, void *ud)
{
    const suspect_query *q = ud;
    const char *model = srv_checkpoint(rq->srv);
    const srv_view *v = srv_view_get(rq);
    if (!v) return;
    kgp_suspect *sp = NULL;
    size_t n = 0;
    kgp_status st = kgp_suspicious(v->snap, model, q->course, q->top, &sp, &n);
    if (st) { srv_error_status(rq, st, kgp_snap_errmsg(v->snap)); free(sp); return; }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_pack("{s:o,s:o,s:f,s:f}", "prerequisite", ref_json(v->snap, sp[i].prereq),
            "concept", ref_json(v->snap, sp[i].concept), "score", (double)sp[i].score, "reverse", (double)sp[i].reverse));
    free(sp);
    srv_reply_json(rq, 200, json_pack("{s:s,s:s,s:o}", "model", model, "model_state", srv_model_state_name(q->state),
                                      "suspicious", arr));
}

/* GET /v1/suggestions/suspicious?course=&top= */
static void suspicious(srv_req *rq)
{
    suspect_query q = {nonempty(srv_query(rq, "course")), 10, 0};
    if (!srv_query_uint(rq, "top", 1, 1000, 10, &q.top)) return;
    uint64_t stamp;
    if (!srv_model_ready(rq, &stamp, &q.state)) return;
    char *key = NULL;
    if (asprintf(&key, "suspicious\n%016llx\n%s\n%lu", (unsigned long long)stamp, q.course ? q.course : "",
                 q.top) < 0) {
        srv_error_status(rq, KGP_ENOMEM, NULL);
        return;
    }
    srv_cached(rq, key, suspicious_make, &q);
    free(key);
}

void serve_studio_routes(srv_routes *t)
{
    srv_route(t, "GET", "/v1/map.svg", SRV_READ, map_svg);
    srv_route(t, "GET", "/v1/studio/courses", SRV_READ, courses);
    srv_route(t, "GET", "/v1/suggestions", SRV_READ, suggestions);
    srv_route(t, "GET", "/v1/suggestions/suspicious", SRV_READ, suspicious);
}
