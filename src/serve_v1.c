/* kgpath serve: the JSON API under /v1/ — the CLI's commands over HTTP,
 * with the same JSON contracts (README "kgpath serve"). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli_util.h"
#include "serve.h"
#include "serve_internal.h"

/* ---- small helpers ---- */

/* Resolves a concept name; 0 after replying 404/409 with "where" (the
 * parameter that gave the name; NULL: a path). */
static int lookup(srv_req *rq, kgp_snap *snap, const char *name, const char *where, uint32_t *idx)
{
    kgp_status st = kgp_snap_lookup(snap, name, idx);
    if (st) { srv_error_status_at(rq, st, where, kgp_snap_errmsg(snap)); return 0; }
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
    if (!srv_query_uint(rq, "offset", 0, 1ul << 31, 0, &offset) || !srv_query_uint(rq, "limit", 1, 1000, 100, &limit))
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
    if (!lookup(rq, v->snap, rq->tail, NULL, &idx)) return;
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

/* ---- request parameters: a JSON body (POST) or the query (GET) ---- */

typedef enum { P_LIST, P_STR, P_INT, P_NUM, P_BOOL } ptype;
typedef struct pspec { const char *key; const char *query; ptype type; } pspec;

/* Plan parameters: the keys of a batch learner line; the query names are
 * the CLI's option names with '_' (goal and known repeat). */
static const pspec plan_params[] = {
    {"goals", "goal", P_LIST}, {"known", "known", P_LIST}, {"learner", "learner", P_STR},
    {"minutes_per_day", "minutes_per_day", P_INT}, {"days_per_week", "days_per_week", P_INT},
    {"start", "start", P_STR}, {"deadline", "deadline", P_STR},
    {"budget_minutes", "budget_minutes", P_NUM}, {"include_recommended", "include_recommended", P_BOOL},
    {"default_minutes", "default_minutes", P_INT}, {"date", "date", P_STR},
    {"retention", "retention", P_NUM}, {NULL, NULL, 0}};

static const pspec next_params[] = {
    {"goals", "goal", P_LIST}, {"known", "known", P_LIST}, {"learner", "learner", P_STR},
    {"date", "date", P_STR}, {"retention", "retention", P_NUM}, {"mastery", "mastery", P_NUM},
    {"limit", "limit", P_INT}, {NULL, NULL, 0}};

/* The request's parameters as a JSON object: the body of a POST (which must
 * be an object), or the query of a GET converted by spec. NULL after
 * replying 400/415. */
static json_t *request_params(srv_req *rq, const pspec *spec)
{
    if (!strcmp(rq->method, "POST")) {
        json_t *v = srv_body_json(rq);
        if (v && !json_is_object(v)) {
            json_decref(v);
            srv_error(rq, 400, "bad_request", NULL, "the body must be a JSON object");
            return NULL;
        }
        return v;
    }
    json_t *o = json_object();
    if (!o) { srv_error(rq, 503, "unavailable", NULL, "out of memory"); return NULL; }
    for (const pspec *p = spec; p->key; p++) {
        const char *vals[256];
        size_t n = srv_query_all(rq, p->query, vals, 256);
        if (!n) continue;
        if (n > 256) {
            json_decref(o);
            srv_error(rq, 400, "bad_request", p->query, "at most 256 '%s' parameters", p->query);
            return NULL;
        }
        json_t *v = NULL;
        char *end = NULL;
        switch (p->type) {
        case P_LIST:
            v = json_array();
            for (size_t i = 0; v && i < n; i++) json_array_append_new(v, json_string(vals[i]));
            break;
        case P_STR: v = json_string(vals[0]); break;
        case P_INT: {
            long long x = strtoll(vals[0], &end, 10);
            v = *vals[0] && !*end ? json_integer(x) : NULL;
            break;
        }
        case P_NUM: {
            double x = strtod(vals[0], &end);
            v = *vals[0] && !*end ? json_real(x) : NULL;
            break;
        }
        case P_BOOL:
            if (!strcmp(vals[0], "true") || !strcmp(vals[0], "1") || !*vals[0]) v = json_true();
            else if (!strcmp(vals[0], "false") || !strcmp(vals[0], "0")) v = json_false();
            break;
        }
        if (!v) {
            json_decref(o);
            srv_error(rq, 400, "bad_request", p->query, "query parameter '%s': bad value '%s'", p->query, vals[0]);
            return NULL;
        }
        json_object_set_new(o, p->key, v);
    }
    return o;
}

static void today_utc(char buf[16])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 16, "%Y-%m-%d", &tm);
}

/* The Content-Type of a plan format; NULL for a format plans do not have. */
static const char *format_type(const char *format)
{
    if (!format || !strcmp(format, "json")) return "application/json";
    if (!strcmp(format, "html")) return "text/html; charset=utf-8";
    if (!strcmp(format, "dot")) return "text/vnd.graphviz; charset=utf-8";
    if (!strcmp(format, "text")) return "text/plain; charset=utf-8";
    return NULL;
}

/* The parameter a message of kgp_plan_request is about, for "where": its
 * messages on a value name the key in double quotes ("days_per_week" must
 * be ..., "goals"[0] must be ..., no goals: "goals" must ...; unknown key
 * "KEY"), and never quote anything else before it (concept names are in
 * single quotes). A GET names it by its query name (goals: goal), a POST
 * by its key (copied into buf). NULL when it names none. For KGP_EINPUT
 * and KGP_EUSAGE only (other errors may quote titles). */
static const char *plan_param(srv_req *rq, const pspec *spec, const char *msg, char *buf, size_t n)
{
    const char *k = strchr(msg, '"');
    const char *e = k ? strchr(++k, '"') : NULL;
    if (!e) return NULL;
    size_t len = (size_t)(e - k);
    if (strcmp(rq->method, "POST")) {
        for (const pspec *p = spec; p->key; p++)
            if (strlen(p->key) == len && !strncmp(p->key, k, len)) return p->query;
        return NULL;
    }
    if (len >= n) return NULL;
    memcpy(buf, k, len);
    buf[len] = 0;
    return buf;
}

/* How the request names the parameter of key: its query name in a GET
 * (goals: goal), the key in a POST's body. */
static const char *param_name(srv_req *rq, const pspec *spec, const char *key)
{
    if (strcmp(rq->method, "POST"))
        for (const pspec *p = spec; p->key; p++)
            if (!strcmp(p->key, key)) return p->query;
    return key;
}

static int resolve_names(srv_req *rq, kgp_snap *snap, json_t *v, const char *what, const char *where,
                         uint32_t **ids, size_t *n);

/* ---- plan, next, check ---- */

/* GET|POST /v1/plan: `kgpath plan` / a `kgpath batch` line; ?format=json
 * (default), html, text or dot. */
static void plan(srv_req *rq)
{
    json_t *o = request_params(rq, plan_params);
    if (!o) return;
    /* A calendar without a first day starts today (as `kgpath plan`). */
    if (json_object_get(o, "minutes_per_day") && !json_object_get(o, "start")) {
        char d[16];
        today_utc(d);
        json_object_set_new(o, "start", json_string(d));
    }
    const char *format = srv_query(rq, "format");
    if (!format_type(format)) {
        json_decref(o);
        srv_error(rq, 400, "bad_request", "format", "unknown format \"%s\" (json, text, html or dot)", format);
        return;
    }
    char *req = json_dumps(o, JSON_COMPACT);
    const srv_view *v = req ? srv_view_get(rq) : NULL;
    if (!v) { free(req); json_decref(o); if (!rq->status) srv_error(rq, 503, "unavailable", NULL, "out of memory"); return; }
    /* Names first, as /v1/next does, so that an unknown or ambiguous one
     * is named with its parameter (the planner then finds them again). */
    static const char *const lists[2] = {"goals", "known"};
    for (int i = 0; i < 2; i++) {
        uint32_t *ids;
        size_t n;
        int ok = resolve_names(rq, v->snap, json_object_get(o, lists[i]), lists[i],
                               param_name(rq, plan_params, lists[i]), &ids, &n);
        free(ids);
        if (!ok) { free(req); json_decref(o); return; }
    }
    json_decref(o);
    char *out = NULL, err[1024], key[128];
    size_t len = 0;
    kgp_status st = kgp_plan_request(v->planner, req, strlen(req), format, 0, &out, &len, err, sizeof err);
    free(req);
    if (st) {
        int bad_value = st == KGP_EINPUT || st == KGP_EUSAGE;
        srv_error_status_at(rq, st, bad_value ? plan_param(rq, plan_params, err, key, sizeof key) : NULL, err);
        return;
    }
    srv_reply_take(rq, 200, format_type(format), out, len);
}

/* Resolves a JSON array (or string) of concept names, the value of key
 * what, into *ids (malloc'ed); 0 after replying, "where" naming the
 * parameter as the request did. */
static int resolve_names(srv_req *rq, kgp_snap *snap, json_t *v, const char *what, const char *where,
                         uint32_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    if (!v || json_is_null(v)) return 1;
    size_t cnt = json_is_array(v) ? json_array_size(v) : 1;
    if (!json_is_array(v) && !json_is_string(v)) {
        srv_error(rq, 422, "invalid_input", where, "\"%s\" must be an array of concept names", what);
        return 0;
    }
    *ids = malloc((cnt ? cnt : 1) * sizeof **ids);
    if (!*ids) { srv_error(rq, 503, "unavailable", NULL, "out of memory"); return 0; }
    for (size_t i = 0; i < cnt; i++) {
        json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
        if (!json_is_string(e)) {
            srv_error(rq, 422, "invalid_input", where, "\"%s\"[%zu] must be a concept name (a string)", what, i);
            free(*ids); *ids = NULL;
            return 0;
        }
        if (!lookup(rq, snap, json_string_value(e), where, &(*ids)[(*n)++])) { free(*ids); *ids = NULL; return 0; }
    }
    return 1;
}

/* Writes through fn into a memory buffer and replies with it. */
typedef kgp_status (*write_fn)(const void *obj, const char *format, FILE *out);
static void reply_written(srv_req *rq, write_fn fn, const void *obj, const char *format)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    kgp_status st = f ? fn(obj, format, f) : KGP_ENOMEM;
    if (f && fclose(f) && !st) st = KGP_ENOMEM;
    if (st) { free(buf); srv_error_status(rq, st, NULL); return; }
    srv_reply_take(rq, 200, format_type(format), buf, len);
}

static kgp_status next_write(const void *x, const char *f, FILE *o) { return kgp_next_write(x, f, o); }
static kgp_status check_write(const void *c, const char *f, FILE *o) { return kgp_check_write(c, f, o); }
static kgp_status learner_write(const void *l, const char *f, FILE *o) { return kgp_learner_write(l, f, o); }

/* Reads "date", "retention", "mastery" into learner options; 0 after replying. */
static int learner_opts(srv_req *rq, json_t *o, kgp_learner_options *lo)
{
    memset(lo, 0, sizeof *lo);
    json_t *v;
    if ((v = json_object_get(o, "date")) || (v = json_object_get(o, "at"))) {
        if (!json_is_string(v) || kgp_parse_time(json_string_value(v), &lo->at)) {
            srv_error(rq, 422, "invalid_input", "date", "\"date\" must be YYYY-MM-DD or an ISO 8601 time");
            return 0;
        }
    }
    const char *keys[2] = {"retention", "mastery"};
    double *dst[2] = {&lo->retention, &lo->mastery};
    for (int i = 0; i < 2; i++) {
        if (!(v = json_object_get(o, keys[i]))) continue;
        if (!json_is_number(v) || !(json_number_value(v) > 0 && json_number_value(v) < 1)) {
            srv_error(rq, 422, "invalid_input", keys[i], "\"%s\" must be a number between 0 and 1", keys[i]);
            return 0;
        }
        *dst[i] = json_number_value(v);
    }
    return 1;
}

/* GET|POST /v1/next: `kgpath next --format json`. */
static void next(srv_req *rq)
{
    json_t *o = request_params(rq, next_params);
    if (!o) return;
    const char *key;
    json_t *val;
    json_object_foreach(o, key, val) {
        int ok = 0;
        for (const pspec *p = next_params; p->key && !ok; p++) ok = !strcmp(p->key, key);
        if (!ok) {
            srv_error(rq, 422, "invalid_input", key, "unknown key \"%s\"", key);
            json_decref(o);
            return;
        }
    }
    json_t *lim = json_object_get(o, "limit");
    if (lim && (!json_is_integer(lim) || json_integer_value(lim) < 0 || json_integer_value(lim) > 1000000000)) {
        srv_error(rq, 422, "invalid_input", "limit", "\"limit\" must be an integer >= 0");
        json_decref(o);
        return;
    }
    json_t *lv = json_object_get(o, "learner");
    if (lv && !json_is_string(lv)) {
        srv_error(rq, 422, "invalid_input", "learner", "\"learner\" must be a string");
        json_decref(o);
        return;
    }
    kgp_learner_options lopt;
    if (!learner_opts(rq, o, &lopt)) { json_decref(o); return; }
    if (lv && !(rq->scopes & (SRV_LEARNER | SRV_ADMIN))) {
        srv_error(rq, 403, "forbidden", "learner", "a learner's state needs the 'learner' scope");
        json_decref(o);
        return;
    }
    const srv_view *v = srv_view_get(rq);
    uint32_t *goals = NULL, *known = NULL;
    size_t ng = 0, nk = 0;
    kgp_learner *l = NULL;
    kgp_next *x = NULL;
    if (!v || !resolve_names(rq, v->snap, json_object_get(o, "goals"), "goals", param_name(rq, next_params, "goals"),
                             &goals, &ng)
        || !resolve_names(rq, v->snap, json_object_get(o, "known"), "known", param_name(rq, next_params, "known"),
                          &known, &nk))
        goto out;
    uint32_t *lk = NULL;
    size_t nlk = 0;
    kgp_status st;
    if (lv) {
        st = kgp_learner_get(v->db, v->snap, json_string_value(lv), &lopt, &l);
        if (st == KGP_ENOTFOUND) { srv_error(rq, 404, "not_found", "learner", "no events for learner '%s'", json_string_value(lv)); goto out; }
        if (st || (st = kgp_learner_known(l, &lk, &nlk))) { srv_error_status(rq, st, NULL); goto out; }
        uint32_t *all = realloc(known, (nk + nlk + 1) * sizeof *all);
        if (!all) { kgp_learner_known_free(lk); srv_error(rq, 503, "unavailable", NULL, "out of memory"); goto out; }
        known = all;
        memcpy(known + nk, lk, nlk * sizeof *lk);
        nk += nlk;
    }
    st = kgp_next_make(v->planner, goals, ng, known, nk, lim ? (unsigned)json_integer_value(lim) : 10, &x);
    if (!st && l) st = kgp_next_add_reviews(x, lk, nlk, kgp_learner_review_at, l, KGP_NO_DAY);
    kgp_learner_known_free(lk);
    if (st) { srv_error_status(rq, st, kgp_next_errmsg(x)); goto out; }
    reply_written(rq, next_write, x, "json");
out:
    kgp_next_free(x);
    kgp_learner_free(l);
    free(goals);
    free(known);
    json_decref(o);
}

/* GET /v1/check: `kgpath check --format json`. */
static void check(srv_req *rq)
{
    const srv_view *v = srv_view_get(rq);
    if (!v) return;
    kgp_check *c = NULL;
    kgp_status st = kgp_check_make(v->planner, &c);
    if (st) srv_error_status(rq, st, kgp_check_errmsg(c));
    else reply_written(rq, check_write, c, "json");
    kgp_check_free(c);
}

/* ---- learners ---- */

static int list_learner(void *ud, const char *id, uint64_t nevents, int64_t first, int64_t last)
{
    char a[32], b[32];
    kgp_format_time(first, a, sizeof a);
    kgp_format_time(last, b, sizeof b);
    return json_array_append_new(ud, json_pack("{s:s,s:I,s:s,s:s}", "id", id, "events", (json_int_t)nevents,
                                               "first", a, "last", b)) ? 1 : 0;
}

/* GET /v1/learners */
static void learners_list(srv_req *rq)
{
    json_t *arr = json_array();
    kgp_status st = arr ? kgp_learners_list(srv_db(rq), list_learner, arr) : KGP_ENOMEM;
    if (st) { json_decref(arr); srv_error_status(rq, st, NULL); return; }
    srv_reply_json(rq, 200, json_pack("{s:o}", "learners", arr));
}

/* GET /v1/learners/{id}?date=&retention=&mastery=: `kgpath learner ID --json`. */
static void learner_get(srv_req *rq)
{
    json_t *o = request_params(rq, next_params);
    if (!o) return;
    kgp_learner_options lo;
    int ok = learner_opts(rq, o, &lo);
    json_decref(o);
    if (!ok) return;
    const srv_view *v = srv_view_get(rq);
    if (!v) return;
    kgp_learner *l = NULL;
    kgp_status st = kgp_learner_get(v->db, v->snap, rq->tail, &lo, &l);
    if (st == KGP_ENOTFOUND) srv_error(rq, 404, "not_found", NULL, "no events for learner '%s'", rq->tail);
    else if (st) srv_error_status(rq, st, NULL);
    else reply_written(rq, learner_write, l, "json");
    kgp_learner_free(l);
}

/* POST /v1/observe: `kgpath observe` (JSON lines or xAPI statements);
 * ?strict=1, ?dry_run=1. 200 with the report; 422 when nothing was stored
 * because of malformed lines. */
typedef struct observe_job {
    const char *name, *body;
    size_t len;
    unsigned flags;
    kgp_observe_report *rep;
} observe_job;

static kgp_status observe_write(kgp_db *db, void *ud)
{
    observe_job *j = ud;
    kgp_observe_report_free(j->rep);
    j->rep = NULL;
    return kgp_observe(db, j->name, j->body, j->len, j->flags, &j->rep);
}

json_t *srv_observe_report_json(const kgp_observe_report *r)
{
    json_t *errs = json_array();
    for (size_t i = 0; errs && i < r->nerrors_kept; i++) json_array_append_new(errs, json_string(r->errors[i]));
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:o}", "lines", (json_int_t)r->lines,
                     "events", (json_int_t)r->events, "added", (json_int_t)r->added,
                     "duplicates", (json_int_t)r->duplicates, "errors_count", (json_int_t)r->nerrors,
                     "learners", (json_int_t)r->learners, "committed", r->committed, "errors", errs);
}

/* After events were stored: the learner models refitted when due
 * (kgp_fit_due, as `kgpath observe` does) without holding up the other
 * requests. The events are read under the read lock, like any request's
 * reads (kgp_fit_read: one read transaction, a snapshot copied out of the
 * map); the fit is computed with no lock held (kgp_fit_compute: seconds at
 * tens of thousands of events), other requests, writes included, going on
 * meanwhile; only storing it is a write, a short one (kgp_fit_store), and
 * it stores nothing when a fit on as many events or more was stored
 * meanwhile (`kgpath fit`, another process): the report then has no refit. The request that found it due waits
 * for it and reports it. One refit at a time (srv_refit_claim): a due
 * request while one runs does none, the next due check after it will.
 * Returns the "refit" object for the report, or NULL when none was done;
 * a failed fit leaves the stored events alone and is logged. */
static kgp_status refit_store(kgp_db *db, void *ud)
{
    return kgp_fit_store(db, ud, KGP_FIT_STORE_NEWER);
}

/* Test hook (tests/test_serve.c, not an interface): with
 * KGPATH_SERVE_TEST_REFIT_PAUSE naming a FIFO, a refit about to compute
 * writes one byte to it (opening it waits for the test to read) and then
 * waits for one byte back, so a test can act while a refit computes
 * without guessing at durations. */
static void refit_test_pause(void)
{
    const char *fifo = getenv("KGPATH_SERVE_TEST_REFIT_PAUSE");
    if (!fifo || !*fifo) return;
    char b = 'p';
    int fd = open(fifo, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = write(fd, &b, 1);
    close(fd);
    if (n == 1 && (fd = open(fifo, O_RDONLY | O_CLOEXEC)) >= 0) {
        while (read(fd, &b, 1) < 0 && errno == EINTR) {}
        close(fd);
    }
}

json_t *srv_refit(srv_req *rq)
{
    kgp_srv *s = rq->srv;
    kgp_db *db = srv_db(rq);
    srv_view_drop(rq);
    if (!srv_refit_claim(s)) return NULL;
    kgp_fit_due_info due;
    kgp_fit_input *in = NULL;
    kgp_fit_report *rep = NULL;
    srv_read_hold(rq);
    kgp_status st = kgp_fit_due(db, &due);
    if (!st && due.due) st = kgp_fit_read(db, NULL, due.flags, &in);
    srv_view_drop(rq);
    if (!st && in) {
        refit_test_pause();
        st = kgp_fit_compute(in, &rep);
    }
    if (!st && rep) st = srv_write(rq, 0, refit_store, rep);
    json_t *o = NULL;
    if (st && st != KGP_ECONFLICT && !srv_opts(s)->quiet)
        fprintf(stderr, "kgpath: refitting the learner models failed (the events are stored): %s\n",
                kgp_db_errmsg(db));
    if (!st && rep)
        o = cli_refit_json(rep, &due);
    kgp_fit_report_free(rep);
    srv_refit_release(s);
    return o;
}

static void observe(srv_req *rq)
{
    const char *ct = srv_header(rq, "Content-Type");
    if (ct && strncmp(ct, "application/json", 16) && strncmp(ct, "application/x-ndjson", 20)
        && strncmp(ct, "application/jsonl", 17) && strncmp(ct, "text/plain", 10)) {
        srv_error(rq, 415, "unsupported_media_type", NULL,
                  "send JSON lines (application/x-ndjson) or JSON, not %s", ct);
        return;
    }
    const char *strict = srv_query(rq, "strict"), *dry = srv_query(rq, "dry_run");
    observe_job j = {.name = "body", .body = rq->body, .len = rq->body_len};
    if (strict && strcmp(strict, "0") && strcmp(strict, "false")) j.flags |= KGP_OBSERVE_STRICT;
    if (dry && strcmp(dry, "0") && strcmp(dry, "false")) j.flags |= KGP_OBSERVE_DRY_RUN;
    kgp_status st = srv_write(rq, 0, observe_write, &j);
    if (!j.rep) { srv_error_status(rq, st ? st : KGP_ENOMEM, kgp_db_errmsg(srv_db(rq))); return; }
    if (st == KGP_EINPUT) {
        json_t *rep = srv_observe_report_json(j.rep);
        const char *first = j.rep->nerrors_kept ? j.rep->errors[0] : "malformed events";
        srv_error_status(rq, st, first);
        /* keep the whole report beside the error */
        json_t *e = json_loadb(rq->out, rq->out_len, 0, NULL);
        if (e && rep) { json_object_set_new(json_object_get(e, "error"), "report", rep); rep = NULL;
                        srv_reply_json(rq, 422, e); } else json_decref(e);
        json_decref(rep);
    } else if (st) {
        srv_error_status(rq, st, kgp_db_errmsg(srv_db(rq)));
    } else {
        json_t *rep = srv_observe_report_json(j.rep);
        json_t *refit = j.rep->committed && j.rep->added ? srv_refit(rq) : NULL;
        if (rep && refit) json_object_set_new(rep, "refit", refit);
        else json_decref(refit);
        srv_reply_json(rq, 200, rep);
    }
    kgp_observe_report_free(j.rep);
}

/* ---- import ---- */

/* The file extension an upload is saved with: from ?filename= (its last
 * extension, or ".tar.gz"), else from the Content-Type. NULL: unknown. */
static const char *upload_ext(srv_req *rq)
{
    static const char *const exts[] = {".tar.gz", ".tgz", ".xml", ".kgxml", ".csv", ".zip", ".imscc",
                                       ".mbz", ".tar", NULL};
    const char *fn = srv_query(rq, "filename");
    if (fn) {
        size_t n = strlen(fn);
        for (const char *const *e = exts; *e; e++) {
            size_t m = strlen(*e);
            if (n >= m && !strcasecmp(fn + n - m, *e)) return *e;
        }
        return NULL;
    }
    const char *ct = srv_header(rq, "Content-Type");
    if (!ct) return NULL;
    if (!strncmp(ct, "application/xml", 15) || !strncmp(ct, "text/xml", 8)) return ".xml";
    if (!strncmp(ct, "text/csv", 8)) return ".csv";
    if (!strncmp(ct, "application/zip", 15)) return ".zip";
    if (!strncmp(ct, "application/gzip", 16) || !strncmp(ct, "application/x-gzip", 18)) return ".tar.gz";
    if (!strncmp(ct, "application/x-tar", 17)) return ".tar";
    return NULL;
}

typedef struct import_job {
    const char *path;
    kgp_import_options opt;
    kgp_report *rep;
    char err[1024];
} import_job;

static kgp_status import_write(kgp_db *db, void *ud)
{
    import_job *j = ud;
    kgp_report_free(j->rep);
    j->rep = NULL;
    kgp_status st = kgp_import(db, &j->path, 1, &j->opt, &j->rep);
    snprintf(j->err, sizeof j->err, "%s", kgp_db_errmsg(db));
    return st;
}

/* v with every occurrence of prefix removed from its strings (v released;
 * NULL when out of memory). */
static json_t *strip_prefix(json_t *v, const char *prefix)
{
    char *d = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(v);
    if (!d) return NULL;
    size_t pl = strlen(prefix);
    for (char *hit; (hit = strstr(d, prefix)); ) memmove(hit, hit + pl, strlen(hit + pl) + 1);
    json_t *o = json_loads(d, 0, NULL);
    free(d);
    return o;
}

/* POST /v1/import?filename=course.imscc&dry_run=1: the body is one course
 * file or package; `kgpath import` in one transaction, its JSON report.
 * replace=1, as=ID and encoding=NAME are import's --replace, --as, --encoding
 * (another course of the same id is 409 conflict without them). */
static void import(srv_req *rq)
{
    const char *ext = upload_ext(rq);
    if (!ext) {
        srv_error(rq, 415, "unsupported_media_type", "filename",
                  "say what the body is: ?filename=NAME.xml|.csv|.tar.gz|.zip|.imscc|.mbz, or a Content-Type "
                  "of application/xml, text/csv, application/zip or application/gzip");
        return;
    }
    if (!rq->body_len) { srv_error(rq, 400, "bad_request", NULL, "the body is empty"); return; }
    /* kgp_import refuses an encoding iconv does not know (KGP_EUSAGE, as
     * for --as); checked here too so that the error names the parameter. */
    const char *enc = srv_query(rq, "encoding");
    if (enc && *enc) {
        iconv_t cd = iconv_open("UTF-8", enc);
        if (cd == (iconv_t)-1) {
            srv_error(rq, 400, "bad_request", "encoding", "unknown encoding '%s' (iconv names such as GBK, "
                      "ISO-8859-1, WINDOWS-1252, UTF-16; `iconv -l` lists them)", enc);
            return;
        }
        iconv_close(cd);
    }
    char dir[] = "/tmp/kgpath-upload-XXXXXX";
    if (!mkdtemp(dir)) { srv_error(rq, 503, "unavailable", NULL, "cannot make a temporary folder"); return; }
    const char *fn = srv_query(rq, "filename");
    const char *base = fn ? strrchr(fn, '/') : NULL;
    base = base ? base + 1 : fn;
    char path[512];
    /* The upload's own name (reports and course sources name it), made safe. */
    char safe[128];
    size_t k = 0;
    /* Bytes beyond ASCII stay: "数学.csv" must become course 数学, not the
     * placeholder every non-ASCII name would share. */
    for (const char *p = base && *base ? base : "upload"; *p && k + 1 < sizeof safe - 8; p++)
        safe[k++] = (isalnum((unsigned char)*p) || (unsigned char)*p >= 0x80 || *p == '.' || *p == '-' ||
                     *p == '_') ? *p : '_';
    safe[k] = 0;
    if (!fn) snprintf(safe + k, sizeof safe - k, "%s", ext);
    snprintf(path, sizeof path, "%s/%s", dir, safe);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(rq->body, 1, rq->body_len, f) == rq->body_len;
    if (f && fclose(f)) ok = 0;
    if (!ok) {
        unlink(path);
        rmdir(dir);
        srv_error(rq, 503, "unavailable", NULL, "cannot store the upload");
        return;
    }
    import_job j = {.path = path};
    const char *dry = srv_query(rq, "dry_run");
    j.opt.dry_run = dry && strcmp(dry, "0") && strcmp(dry, "false");
    /* as `kgpath import --replace / --as ID / --encoding NAME` */
    const char *rep_q = srv_query(rq, "replace");
    j.opt.replace = rep_q && strcmp(rep_q, "0") && strcmp(rep_q, "false");
    j.opt.as_id = srv_query(rq, "as");
    j.opt.encoding = srv_query(rq, "encoding");
    kgp_status st = srv_write(rq, !j.opt.dry_run, import_write, &j);
    unlink(path);
    rmdir(dir);
    /* a usage error left after the encoding: "as" names one course of several */
    const char *where = st == KGP_EUSAGE && j.opt.as_id ? "as" : NULL;
    if (!j.rep) { srv_error_status_at(rq, st ? st : KGP_ENOMEM, where, j.err); return; }
    json_t *rep = cli_import_report_json(j.rep, st);
    kgp_report_free(j.rep);
    /* Name the upload as the client did, not by its temporary folder. */
    char prefix[sizeof dir + 1];
    snprintf(prefix, sizeof prefix, "%s/", dir);
    rep = strip_prefix(rep, prefix);
    char *m = j.err, *hit;
    while ((hit = strstr(m, prefix))) memmove(hit, hit + strlen(prefix), strlen(hit + strlen(prefix)) + 1);
    if (!st) { srv_reply_json(rq, 200, rep); return; }
    /* The error, with the whole report (every diagnostic) beside it. */
    srv_error_status_at(rq, st, where, j.err);
    json_t *e = json_loadb(rq->out, rq->out_len, 0, NULL);
    if (e && rep) {
        json_object_set_new(json_object_get(e, "error"), "report", rep);
        srv_reply_json(rq, rq->status, e);
    } else {
        json_decref(e);
        json_decref(rep);
    }
}

/* ---- erasure ---- */

typedef struct forget_job { const char *id; uint64_t n; char err[512]; } forget_job;

static kgp_status forget_write(kgp_db *db, void *ud)
{
    forget_job *j = ud;
    kgp_status st = kgp_learner_forget(db, j->id, &j->n);
    snprintf(j->err, sizeof j->err, "%s", kgp_db_errmsg(db));
    return st;
}

/* DELETE /v1/learners/{id} (admin): `kgpath learner forget ID`. */
static void learner_forget(srv_req *rq)
{
    forget_job j = {.id = rq->tail};
    kgp_status st = srv_write(rq, 0, forget_write, &j);
    if (st) { srv_error_status(rq, st, j.err); return; }
    srv_reply_json(rq, 200, json_pack("{s:s,s:I}", "forgot", rq->tail, "events", (json_int_t)j.n));
}

/* ---- suggestion review ---- */

typedef struct review_job {
    int reject;
    kgp_accepted *acc;
    kgp_rejection *rej;
    size_t n, done;
    const char *model;
    unsigned flags;
    char err[1024];
} review_job;

static kgp_status review_write(kgp_db *db, void *ud)
{
    review_job *j = ud;
    kgp_status st = j->reject ? kgp_reject_suggestions(db, j->rej, j->n, j->flags, &j->done)
                              : kgp_accept_suggestions(db, j->model, j->acc, j->n, j->flags, &j->done);
    snprintf(j->err, sizeof j->err, "%s", kgp_db_errmsg(db));
    return st;
}

/* POST /v1/suggestions/accept and /v1/suggestions/reject:
 * {"pairs":[{"prerequisite":"c:a","concept":"c:b","score":0.9}], "model":"...",
 *  "reason":"...", "dry_run":false} — `suggest --accept-pairs` /
 * `--reject-pairs`: all or nothing. */
static void review(srv_req *rq)
{
    int reject = strstr(rq->path, "/reject") != NULL;
    json_t *o = srv_body_json(rq);
    if (!o) return;
    json_t *pairs = json_object_get(o, "pairs");
    json_t *model = json_object_get(o, "model"), *reason = json_object_get(o, "reason");
    size_t n = json_array_size(pairs);
    if (!json_is_object(o) || !json_is_array(pairs) || !n || (model && !json_is_string(model))
        || (reason && !json_is_string(reason))) {
        srv_error(rq, 422, "invalid_input", "pairs", "expected {\"pairs\":[{\"prerequisite\":...,\"concept\":...}, ...]} "
                  "with optional \"model\", \"reason\" (strings) and \"dry_run\"");
        json_decref(o);
        return;
    }
    review_job j = {.reject = reject, .n = n, .model = model ? json_string_value(model) : "studio"};
    j.acc = calloc(n, sizeof *j.acc);
    j.rej = calloc(n, sizeof *j.rej);
    if (json_is_true(json_object_get(o, "dry_run"))) j.flags |= KGP_ACCEPT_DRY_RUN;
    int bad = !j.acc || !j.rej;
    for (size_t i = 0; !bad && i < n; i++) {
        json_t *p = json_array_get(pairs, i);
        const char *pre = json_string_value(json_object_get(p, "prerequisite"));
        const char *con = json_string_value(json_object_get(p, "concept"));
        json_t *sc = json_object_get(p, "score");
        if (!pre || !con || (sc && !json_is_number(sc))) {
            char where[32];
            snprintf(where, sizeof where, "pairs[%zu]", i);
            srv_error(rq, 422, "invalid_input", where, "each pair needs \"prerequisite\" and \"concept\" (keys), "
                      "and \"score\" a number if given");
            bad = 1;
            break;
        }
        j.acc[i] = (kgp_accepted){pre, con, sc ? (float)json_number_value(sc) : 0.0f, 0};
        j.rej[i] = (kgp_rejection){pre, con, model ? json_string_value(model) : NULL,
                                   sc ? (float)json_number_value(sc) : (float)NAN,
                                   reason ? json_string_value(reason) : NULL, 0, 0};
    }
    if (!bad) {
        /* A rejection changes no edge but what is suggested: a new view
         * too, so that no suggestion made before it is served again. */
        kgp_status st = srv_write(rq, !(j.flags & KGP_ACCEPT_DRY_RUN), review_write, &j);
        if (st) srv_error_status(rq, st, j.err);
        else srv_reply_json(rq, 200, json_pack("{s:s,s:I,s:b}", reject ? "rejected" : "accepted", "pairs",
                                               "count", (json_int_t)j.done, "dry_run", (j.flags & KGP_ACCEPT_DRY_RUN) != 0));
    }
    free(j.acc);
    free(j.rej);
    json_decref(o);
}

/* GET /v1/suggestions/rejected?course=C */
static void rejected(srv_req *rq)
{
    const srv_view *v = srv_view_get(rq);
    if (!v) return;
    kgp_rejection *r = NULL;
    size_t n = 0;
    const char *course = srv_query(rq, "course");
    kgp_status st = kgp_rejections(v->snap, course && *course ? course : NULL, &r, &n);
    if (st) { srv_error_status(rq, st, kgp_snap_errmsg(v->snap)); return; }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        char when[32];
        kgp_format_time(r[i].time, when, sizeof when);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:o,s:o,s:o,s:s,s:b}", "prerequisite", r[i].prereq,
            "concept", r[i].concept, "model", cli_json_str(r[i].model),
            "score", r[i].score == r[i].score ? json_real(r[i].score) : json_null(),
            "reason", cli_json_str(r[i].reason), "time", when, "in_force", r[i].outcome == KGP_REJECT_DONE));
    }
    free(r);
    srv_reply_json(rq, 200, arr ? json_pack("{s:o}", "rejected", arr) : NULL);
}

void serve_v1_routes(srv_routes *t)
{
    srv_route(t, "GET", "/v1/concepts", SRV_READ, concepts_list);
    srv_route(t, "GET", "/v1/concepts/*", SRV_READ, concept_get);
    srv_route(t, "GET", "/v1/courses", SRV_READ, courses_list);
    srv_route(t, "GET", "/v1/plan", SRV_PLAN, plan);
    srv_route(t, "POST", "/v1/plan", SRV_PLAN, plan);
    srv_route(t, "GET", "/v1/next", SRV_PLAN, next);
    srv_route(t, "POST", "/v1/next", SRV_PLAN, next);
    srv_route(t, "GET", "/v1/check", SRV_READ, check);
    srv_route(t, "GET", "/v1/learners", SRV_LEARNER, learners_list);
    srv_route(t, "GET", "/v1/learners/*", SRV_LEARNER, learner_get);
    srv_route(t, "POST", "/v1/observe", SRV_LEARNER, observe);
    srv_route(t, "DELETE", "/v1/learners/*", SRV_ADMIN, learner_forget);
    srv_route(t, "POST", "/v1/import", SRV_WRITE, import);
    srv_route(t, "POST", "/v1/suggestions/accept", SRV_WRITE, review);
    srv_route(t, "POST", "/v1/suggestions/reject", SRV_WRITE, review);
    srv_route(t, "GET", "/v1/suggestions/rejected", SRV_READ, rejected);
}
