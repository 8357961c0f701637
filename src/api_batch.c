/* Batch planning, merge and compact copies (kgpath_batch.h): the glue
 * between the public API, the batch engine (planner/batch.h), the planner
 * (planner/planner.h) and the store (change stamps, learner summaries). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "kgpath.h"
#include "kgpath_batch.h"
#include "api_internal.h"
#include "base/file.h"
#include "graph/learner_store.h"
#include "graph/store_copy.h"
#include "graph/store_stamp.h"
#include "planner/batch.h"
#include "planner/planner.h"

void kgp_batch_options_init(kgp_batch_options *o)
{
    memset(o, 0, sizeof *o);
    o->since = -1;
}

/* ---- per-learner options ------------------------------------------------ */

typedef struct batch_ctx {
    kgp_db *db;
    int64_t run_time;           /* learner state "at" when a line has no "date" */
    kgp_snap *snap;
    const kgg_snap *g;
    kgn_index *ix;
    kgn_ordered *bord;          /* courses whose authored order binds */
    kgn_ordered *ord;           /* "follow_course_order": built on first use */
    kgn_index *oix;
    pthread_mutex_t ord_mu;
    kgg_store *store;
    json_t *defaults;           /* object or NULL */
    int64_t *reach;             /* --since: newest stamp behind each concept */
    int64_t *stamp;             /* --since: each concept's own stamp */
} batch_ctx;

typedef struct batch_scratch {
    kgn_workspace *ws, *ows;    /* plain / authored-order index */
    uint32_t *goals, *known;
    size_t cgoals, cknown;
} batch_scratch;

/* Keys a learner line may carry (anything else is a typo worth reporting;
 * free-form data goes under "meta"). */
static const char *const known_keys[] = {
    "learner", "goals", "known", "minutes_per_day", "days_per_week", "start",
    "deadline", "budget_minutes", "include_recommended", "default_minutes",
    "changed_at", "date", "retention", "meta", "follow_course_order", NULL
};

static json_t *opt_get(const batch_ctx *c, const kgn_batch_req *r, const char *key)
{
    json_t *v = json_object_get(r->obj, key);
    if (!v && c->defaults) v = json_object_get(c->defaults, key);
    return v && !json_is_null(v) ? v : NULL;
}

/* Resolves a concept name: "course:id" exactly (lock-free), else a bare id or
 * title through kgp_snap_lookup. */
static kgp_status resolve(batch_ctx *c, const char *name, uint32_t *id,
                          char *err, size_t errlen)
{
    uint32_t i = kgg_snap_find_key(c->g, name);
    if (i != KGG_NONE) { *id = i; return KGP_OK; }
    kgp_status st = kgp_snap_lookup(c->snap, name, id);   /* message per thread */
    if (st) snprintf(err, errlen, "%s", kgp_snap_errmsg(c->snap));
    if (st && !err[0]) snprintf(err, errlen, "unknown concept \"%s\"", name);
    return st;
}

/* Resolves a string or an array of strings into *ids. */
static kgp_status resolve_list(batch_ctx *c, json_t *v, const char *what,
                               uint32_t **ids, size_t *cap, size_t *n,
                               char *err, size_t errlen)
{
    *n = 0;
    if (!v) return KGP_OK;
    size_t count = json_is_array(v) ? json_array_size(v) : 1;
    if (!json_is_array(v) && !json_is_string(v)) {
        snprintf(err, errlen, "\"%s\" must be an array of concept names", what);
        return KGP_EINPUT;
    }
    if (kg_grow(ids, cap, count ? count : 1, sizeof **ids)) return KGP_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
        if (!json_is_string(e)) {
            snprintf(err, errlen, "\"%s\"[%zu] must be a concept name (a string)", what, i);
            return KGP_EINPUT;
        }
        kgp_status st = resolve(c, json_string_value(e), &(*ids)[(*n)++], err, errlen);
        if (st) return st;
    }
    return KGP_OK;
}

static int get_uint(json_t *v, const char *key, uint32_t lo, uint32_t hi, uint32_t *out,
                    char *err, size_t errlen)
{
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        snprintf(err, errlen, "\"%s\" must be an integer from %u to %u", key, lo, hi);
        return -1;
    }
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

static int get_date(json_t *v, const char *key, int32_t *day, char *err, size_t errlen)
{
    if (!v) return 0;
    if (!json_is_string(v) || kgn_date_parse(json_string_value(v), day)) {
        snprintf(err, errlen, "\"%s\" must be a date YYYY-MM-DD", key);
        return -1;
    }
    return 0;
}

int kgp_batch_parse_shard(const char *s, uint32_t *i, uint32_t *n)
{
    return kgn_batch_parse_shard(s, i, n);
}

int kgp_batch_parse_time(const char *s, int64_t *t)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!errno && end != s && !*end && v >= 0) { *t = v; return 0; }
    return kgp_parse_time(s, t) == KGP_OK ? 0 : -1;
}

/* "changed_at": Unix seconds (a JSON integer) or a kgp_batch_parse_time string. */
static int parse_time(json_t *v, int64_t *t)
{
    if (json_is_integer(v)) { *t = json_integer_value(v); return 0; }
    return json_is_string(v) ? kgp_batch_parse_time(json_string_value(v), t) : -1;
}

static kgp_status learner_options(batch_ctx *c, const kgn_batch_req *r, kgn_options *o,
                                  char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach(r->obj, key, v) {
        int ok = 0;
        for (const char *const *k = known_keys; *k && !ok; k++) ok = strcmp(*k, key) == 0;
        if (!ok) {
            snprintf(err, errlen, "unknown key \"%s\" (put free-form data under \"meta\")", key);
            return KGP_EINPUT;
        }
    }
    kgn_options_init(o);
    if ((v = opt_get(c, r, "include_recommended"))) {
        if (!json_is_boolean(v)) {
            snprintf(err, errlen, "\"include_recommended\" must be true or false");
            return KGP_EINPUT;
        }
        o->include_recommended = json_is_true(v);
    }
    if ((v = opt_get(c, r, "budget_minutes"))) {
        if (!json_is_number(v) || json_number_value(v) <= 0) {
            snprintf(err, errlen, "\"budget_minutes\" must be a positive number");
            return KGP_EINPUT;
        }
        o->budget_minutes = json_number_value(v);
    }
    if (get_uint(opt_get(c, r, "minutes_per_day"), "minutes_per_day", 1, 24 * 60,
                 &o->minutes_per_day, err, errlen)
        || get_uint(opt_get(c, r, "days_per_week"), "days_per_week", 1, 7,
                    &o->days_per_week, err, errlen)
        || get_uint(opt_get(c, r, "default_minutes"), "default_minutes", 1, 100000,
                    &o->default_minutes, err, errlen)
        || get_date(opt_get(c, r, "start"), "start", &o->start_day, err, errlen)
        || get_date(opt_get(c, r, "deadline"), "deadline", &o->deadline_day, err, errlen))
        return KGP_EINPUT;
    /* Checked on every line, not only where they are used (a learner
     * without events, a run without --since): a bad value is a typo. */
    int64_t t;
    if ((v = opt_get(c, r, "retention")) &&
        (!json_is_number(v) || !(json_number_value(v) > 0 && json_number_value(v) < 1))) {
        snprintf(err, errlen, "\"retention\" must be a number between 0 and 1 (exclusive)");
        return KGP_EINPUT;
    }
    if ((v = opt_get(c, r, "date")) && parse_time(v, &t)) {
        snprintf(err, errlen, "\"date\" must be YYYY-MM-DD or an ISO 8601 time");
        return KGP_EINPUT;
    }
    if ((v = json_object_get(r->obj, "changed_at")) && parse_time(v, &t)) {
        snprintf(err, errlen, "\"changed_at\" must be Unix seconds or YYYY-MM-DD[THH:MM:SSZ]");
        return KGP_EINPUT;
    }
    if ((v = opt_get(c, r, "follow_course_order")) && !json_is_boolean(v)) {
        snprintf(err, errlen, "\"follow_course_order\" must be true or false");
        return KGP_EINPUT;
    }
    if (o->minutes_per_day && !opt_get(c, r, "start")) {
        /* A calendar needs a first day; without one the batch would depend
         * on the clock, and the output on the night it ran. */
        snprintf(err, errlen, "\"minutes_per_day\" needs \"start\" (YYYY-MM-DD) in a batch");
        return KGP_EINPUT;
    }
    return KGP_OK;
}

/* The learner's state from `kgpath observe` events (a new learner's when
 * there are none); *out NULL without a database. The state is taken at the line's "date", else at the
 * run's start, so every thread (and every shard) uses the same time. */
static kgp_status learner_state(batch_ctx *c, const kgn_batch_req *r, kgp_learner **out,
                                char *err, size_t errlen)
{
    *out = NULL;
    if (!c->store) return KGP_OK;
    kgp_status st;
    /* a learner without events is planned as a new one (as plan --learner) */
    kgp_learner_options lo = {.flags = KGP_LEARNER_NEW_OK};
    lo.at = c->run_time;
    json_t *v;
    if ((v = opt_get(c, r, "date")) && parse_time(v, &lo.at)) {
        snprintf(err, errlen, "\"date\" must be YYYY-MM-DD or an ISO 8601 time");
        return KGP_EINPUT;
    }
    if ((v = opt_get(c, r, "retention"))) {
        if (!json_is_number(v) || !(json_number_value(v) > 0 && json_number_value(v) < 1)) {
            snprintf(err, errlen, "\"retention\" must be a number between 0 and 1");
            return KGP_EINPUT;
        }
        lo.retention = json_number_value(v);
    }
    /* the message is this thread's (kgp_db_errmsg is per thread) */
    st = kgp_learner_get(c->db, c->snap, r->learner, &lo, out);
    if (st) {
        snprintf(err, errlen, "cannot load the learner's state: %s", kgp_db_errmsg(c->db));
        return st == KGP_ENOMEM ? KGP_ENOMEM : st;
    }
    return KGP_OK;
}

/* ---- the engine callbacks ------------------------------------------------ */

static void *scratch_new(void *ctx)
{
    batch_ctx *c = ctx;
    batch_scratch *s = kg_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->ws = kgn_workspace_new(c->ix);
    if (!s->ws) { kg_free(s); return NULL; }
    return s;
}

static void scratch_free(void *ctx, void *sp)
{
    (void)ctx;
    batch_scratch *s = sp;
    if (!s) return;
    kgn_workspace_free(s->ws);
    kgn_workspace_free(s->ows);
    kg_free(s->goals);
    kg_free(s->known);
    kg_free(s);
}

static int plan_one_as(void *ctx, void *sp, const kgn_batch_req *r, kgn_format fmt, kg_buf *out,
                       char *err, size_t errlen)
{
    batch_ctx *c = ctx;
    batch_scratch *s = sp;
    kgn_options o;
    size_t ng, nk;
    kgp_status st = learner_options(c, r, &o, err, errlen);
    if (st) return st;
    kgn_workspace *ws = s->ws;
    json_t *fo = opt_get(c, r, "follow_course_order");   /* a boolean: learner_options */
    if (fo && json_is_true(fo)) {
        if (!s->ows) {          /* kgp_plan_request brings the planner's */
            kgn_error oe = {0};
            pthread_mutex_lock(&c->ord_mu);
            if (!c->oix) st = kgn_ordered_index(c->g, NULL, &c->ord, &c->oix, &oe);
            pthread_mutex_unlock(&c->ord_mu);
            if (st) { snprintf(err, errlen, "%s", oe.msg); return st; }
            if (!(s->ows = kgn_workspace_new(c->oix))) return KGP_ENOMEM;
        }
        ws = s->ows;
    }
    json_t *goals = opt_get(c, r, "goals");
    if (!goals || (json_is_array(goals) && json_array_size(goals) == 0)) {
        snprintf(err, errlen, "no goals: \"goals\" must name at least one concept");
        return KGP_EUSAGE;
    }
    if ((st = resolve_list(c, goals, "goals", &s->goals, &s->cgoals, &ng, err, errlen))
        || (st = resolve_list(c, opt_get(c, r, "known"), "known", &s->known, &s->cknown,
                              &nk, err, errlen)))
        return st;

    kgp_learner *l = NULL;
    if ((st = learner_state(c, r, &l, err, errlen))) return st;
    if (l) {
        uint32_t *lk;
        size_t nlk;
        if (kgp_learner_known(l, &lk, &nlk)) { kgp_learner_free(l); return KGP_ENOMEM; }
        if (kg_grow(&s->known, &s->cknown, nk + nlk + 1, sizeof *s->known)) {
            kgp_learner_known_free(lk);
            kgp_learner_free(l);
            return KGP_ENOMEM;
        }
        memcpy(s->known + nk, lk, nlk * sizeof *lk);
        nk += nlk;
        kgp_learner_known_free(lk);
        o.review = kgp_learner_review;
        o.review_ud = l;
        /* As `kgpath plan --learner`: reviews judged on the day a concept is
         * needed, spaced reviews when there is a calendar, and goals the
         * learner already masters reported instead of failing. */
        o.review_at = kgp_learner_review_at;
        o.review_at_ud = l;
        o.spaced = kgp_learner_spaced;
        o.spaced_ud = l;
        o.review_worst = kgp_learner_review_worst;
        o.review_worst_ud = l;
        o.review_after = kgp_learner_review_after;
        o.review_after_ud = l;
        o.learn_note = kgp_learner_learn_note;
        o.learn_note_ud = l;
        o.known_goals_ok = !l->is_new;  /* a new learner knows only "known" */
        o.cheapest_goals_first = 1;
    }

    kgn_plan *p = NULL;
    kgn_error pe = {0};
    st = kgn_plan_make(ws, s->goals, ng, s->known, nk, &o, &p, &pe);
    if (st) {
        kgp_learner_free(l);
        snprintf(err, errlen, "%s", pe.msg[0] ? pe.msg : kgp_strerror(st));
        return st;
    }
    /* Rendered straight into the record; the engine splices the object. */
    st = kgn_plan_render(p, fmt, out);
    kgn_plan_free(p);
    kgp_learner_free(l);   /* after the plan: review reasons live in the learner */
    if (!st && out->oom) st = KGP_ENOMEM;
    if (st) snprintf(err, errlen, "cannot render the plan: %s", kgp_strerror(st));
    return st;
}

static int plan_one(void *ctx, void *sp, const kgn_batch_req *r, kg_buf *out,
                    char *err, size_t errlen)
{
    return plan_one_as(ctx, sp, r, KGN_JSON, out, err, errlen);
}

/* ---- one request on a planner (kgp_plan_request) ------------------------ */

kgp_status kgp_plan_request(kgp_planner *pl, const char *json, size_t len, const char *format,
                            int64_t at, char **out, size_t *outlen, char *err, size_t errlen)
{
    *out = NULL;
    if (outlen) *outlen = 0;
    err[0] = 0;
    kgn_format fmt;
    if (!format || !strcmp(format, "json")) fmt = KGN_JSON;
    else if (!strcmp(format, "text")) fmt = KGN_TEXT;
    else if (!strcmp(format, "html")) fmt = KGN_HTML;
    else if (!strcmp(format, "dot")) fmt = KGN_DOT;
    else {
        snprintf(err, errlen, "unknown format \"%s\" (json, text, html or dot)", format);
        return KGP_EUSAGE;
    }
    json_error_t je;
    json_t *obj = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(obj)) {
        if (obj) snprintf(err, errlen, "the request must be a JSON object");
        else snprintf(err, errlen, "%d:%d: %s", je.line, je.column, je.text);
        json_decref(obj);
        return KGP_EINPUT;
    }
    json_t *lv = json_object_get(obj, "learner");
    if (lv && !json_is_null(lv) && (!json_is_string(lv) || !*json_string_value(lv))) {
        snprintf(err, errlen, "\"learner\" must be a non-empty string");
        json_decref(obj);
        return KGP_EINPUT;
    }
    batch_ctx c;
    memset(&c, 0, sizeof c);
    c.snap = kgp__planner_snap(pl);
    c.db = kgp__snap_db(c.snap);
    c.g = kgp__snap_graph(c.snap);
    c.run_time = at ? at : (int64_t)time(NULL);
    c.store = json_is_string(lv) ? kgp__db_store(c.db) : NULL;
    kgn_batch_req r = {.line = 1, .learner = json_is_string(lv) ? json_string_value(lv) : NULL,
                       .obj = obj, .source = "request"};
    /* "follow_course_order": the planner's authored-order view (built once
     * per planner), not one per request. */
    json_t *fo = json_object_get(obj, "follow_course_order");
    batch_scratch sc = {.ws = kgp__planner_ws_take(pl),
                        .ows = json_is_true(fo) ? kgp__planner_ws_take_ordered(pl) : NULL};
    kgp_status st = KGP_ENOMEM;
    kg_buf b = {0};
    if (sc.ws && (sc.ows || !json_is_true(fo))) {
        /* As a batch line, rendered as JSON; other formats re-render. */
        st = fmt == KGN_JSON ? plan_one(&c, &sc, &r, &b, err, errlen)
                             : plan_one_as(&c, &sc, &r, fmt, &b, err, errlen);
    }
    if (sc.ws) kgp__planner_ws_give(pl, sc.ws);
    if (sc.ows) kgp__planner_ws_give(pl, sc.ows);
    kg_free(sc.goals);
    kg_free(sc.known);
    json_decref(obj);
    if (!st && b.oom) st = KGP_ENOMEM;
    if (st) {
        if (!err[0]) snprintf(err, errlen, "%s", kgp_strerror(st));
        kg_buf_free(&b);
        return st;
    }
    char *o = malloc(b.len + 1);
    if (!o) { kg_buf_free(&b); return KGP_ENOMEM; }
    memcpy(o, b.data ? b.data : "", b.len);
    o[b.len] = 0;
    if (outlen) *outlen = b.len;
    *out = o;
    kg_buf_free(&b);
    return KGP_OK;
}

static int changed_one(void *ctx, void *sp, const kgn_batch_req *r, int64_t since,
                       char *err, size_t errlen)
{
    batch_ctx *c = ctx;
    batch_scratch *s = sp;
    size_t ng, nk;
    char ignore[256];
    kgn_options o;
    /* A line with an unknown key or a bad value: plan it, so the error
     * record says why on an incremental night too (not "unchanged"). */
    if (learner_options(c, r, &o, ignore, sizeof ignore)) return 1;
    json_t *v = json_object_get(r->obj, "changed_at");
    int64_t t;
    if (v && !parse_time(v, &t) && t > since) return 1;
    /* A name that does not resolve: plan it, so the error record says why. */
    if (resolve_list(c, opt_get(c, r, "goals"), "goals", &s->goals, &s->cgoals, &ng,
                     ignore, sizeof ignore)
        || resolve_list(c, opt_get(c, r, "known"), "known", &s->known, &s->cknown, &nk,
                        ignore, sizeof ignore)
        || ng == 0)
        return 1;
    for (size_t i = 0; i < ng; i++)
        if (c->reach[s->goals[i]] > since) return 1;
    for (size_t i = 0; i < nk; i++)
        if (c->stamp[s->known[i]] > since) return 1;
    if (c->store) {
        kgg_learner_info info;
        kgg_err e;
        kgp_status st = kgg_learner_info_get(c->store, r->learner, &info, &e);
        if (st == KGP_OK && info.last > since) return 1;
        if (st && st != KGP_ENOTFOUND) {
            snprintf(err, errlen, "learner events: %s", e.msg);
            return st;
        }
    }
    return 0;
}

/* ---- runs --------------------------------------------------------------- */

typedef struct progress_fwd {
    const kgp_batch_options *o;
    kgp_batch_summary *sum;
} progress_fwd;

static void fill_summary(kgp_batch_summary *sum, const kgn_batch_stats *st)
{
    sum->lines = st->lines;
    sum->learners = st->learners;
    sum->plans = st->plans;
    sum->errors = st->errors;
    sum->unchanged = st->unchanged;
    sum->other_shard = st->other_shard;
    sum->resumed_lines = st->resumed_lines;
    sum->resumed_plans = st->resumed_plans;
    sum->seconds = st->seconds;
}

static void on_progress(void *ud, const kgn_batch_stats *st, uint64_t bytes,
                        uint64_t total, int done)
{
    progress_fwd *f = ud;
    fill_summary(f->sum, st);
    f->sum->bytes_read = bytes;
    f->sum->total_bytes = total;
    f->sum->done = done;
    f->o->progress(f->o->progress_ud, f->sum);
}

/* Identity of the graph for --resume: hash of every concept's content. */
static uint64_t graph_hash(const kgg_snap *g)
{
    uint64_t h = 1469598103934665603ULL ^ g->n;
    for (uint32_t i = 0; i < g->n; i++) h = (h ^ kgg_stamp_hash(g, i)) * 1099511628211ULL;
    return h;
}

kgp_status kgp_batch_run(kgp_db *db, const kgp_batch_options *o, kgp_batch_summary *sum)
{
    memset(sum, 0, sizeof *sum);
    batch_ctx c;
    memset(&c, 0, sizeof c);
    pthread_mutex_init(&c.ord_mu, NULL);
    kgp_status st = KGP_OK;
    FILE *in = NULL, *out = NULL;
    char *fingerprint = NULL;
    char err[1024] = "";
    kgg_err ge;

    uint32_t shard = o->shard, nshards = o->nshards;
    if (nshards == 0) {
        int r = kgn_batch_shard_from_env(&shard, &nshards);
        if (r < 0) {
            st = kgp__db_error(db, KGP_EUSAGE, "SLURM_ARRAY_TASK_ID/_COUNT/_MIN are inconsistent; "
                               "give --shard I/N");
            goto out;
        }
        if (r == 0) { shard = 0; nshards = 1; }
    }
    if (shard >= nshards) {
        st = kgp__db_error(db, KGP_EUSAGE, "shard %u is not below the shard count %u", shard, nshards);
        goto out;
    }
    if (o->defaults) {
        json_error_t je;
        c.defaults = json_loads(o->defaults, 0, &je);
        if (!json_is_object(c.defaults)) {
            st = kgp__db_error(db, KGP_EUSAGE, "plan defaults must be a JSON object");
            goto out;
        }
    }
    const char *lpath = o->learners && strcmp(o->learners, "-") != 0 ? o->learners : NULL;
    uint64_t in_size = 0;
    if (lpath) {
        in = fopen(lpath, "rb");
        if (!in) {
            st = kgp__db_error(db, errno == ENOENT ? KGP_ENOTFOUND : KGP_EIO, "%s: %s",
                               lpath, strerror(errno));
            goto out;
        }
        struct stat sb;
        if (fstat(fileno(in), &sb) == 0 && S_ISREG(sb.st_mode)) in_size = (uint64_t)sb.st_size;
    } else in = stdin;
    const char *opath = o->out && strcmp(o->out, "-") != 0 ? o->out : NULL;
    if (!opath) out = stdout;

    c.db = db;
    c.run_time = (int64_t)time(NULL);
    c.store = kgp__db_store(db);
    /* Change stamps first (a write), then the snapshot the run plans on. */
    if (!o->no_stamp && c.store && !kgp__db_rdonly(db)) {
        st = kgg_stamp_refresh(c.store, (int64_t)time(NULL), &sum->stamps_changed, &ge);
        if (st) { st = kgp__db_error(db, st, "%s", ge.msg); goto out; }
    }
    /* Detached: the run may last hours beside other processes' imports,
     * which grow the file; a snapshot pinning the map would make every
     * later learner read fail (MDB_MAP_RESIZED cannot be adopted while the
     * map is pinned). The graph stays the one the run started with. */
    if ((st = kgp_snap_open(db, &c.snap)) || (st = kgp__snap_detach(c.snap))) goto out;
    c.g = kgp__snap_graph(c.snap);
    kgn_error ne = {0};
    if ((st = kgn_default_index(c.g, &c.bord, &c.ix, &ne))) {
        st = kgp__db_error(db, st, "%s", ne.msg);
        goto out;
    }
    if (o->since >= 0) {
        c.stamp = kg_malloc(((size_t)c.g->n + 1) * sizeof *c.stamp);
        c.reach = kg_malloc(((size_t)c.g->n + 1) * sizeof *c.reach);
        if (!c.stamp || !c.reach) { st = kgp__db_error(db, KGP_ENOMEM, "out of memory"); goto out; }
        if (!c.store) {
            for (uint32_t i = 0; i < c.g->n; i++) c.stamp[i] = KGG_STAMP_UNKNOWN;
        } else if ((st = kgg_stamp_load(c.store, c.g, c.stamp, &ge))) {
            st = kgp__db_error(db, st, "%s", ge.msg);
            goto out;
        }
        if (kgg_stamp_closure_max(c.g, c.stamp, c.reach)) {
            st = kgp__db_error(db, KGP_ENOMEM, "out of memory");
            goto out;
        }
    }

    /* What a resumed run must share with the interrupted one besides the
     * shard, --since and chunk size (the engine checks those). */
    char *defs = c.defaults ? json_dumps(c.defaults, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *lreal = lpath ? realpath(lpath, NULL) : NULL;   /* same file from any cwd */
    const char *lname = lreal ? lreal : lpath ? lpath : "-";
    size_t flen = (defs ? strlen(defs) : 0) + strlen(lname) + 64;
    fingerprint = kg_malloc(flen);
    if (fingerprint)
        snprintf(fingerprint, flen, "graph %016" PRIx64 " learners %s defaults %s",
                 graph_hash(c.g), lname, defs ? defs : "{}");
    free(defs);
    free(lreal);
    if (!fingerprint) { st = kgp__db_error(db, KGP_ENOMEM, "out of memory"); goto out; }

    kgn_batch_ops ops = { &c, scratch_new, scratch_free, plan_one, changed_one };
    kgn_batch_opts bo = {0};
    bo.threads = o->threads;
    bo.shard = shard;
    bo.nshards = nshards;
    bo.since = o->since;
    bo.chunk_lines = o->chunk_lines;
    bo.resume = o->resume;
    bo.out_is_dir = o->out_dir;
    bo.fingerprint = fingerprint;
    progress_fwd fwd = { o, sum };
    if (o->progress) { bo.progress = on_progress; bo.progress_ud = &fwd; }
    sum->shard = shard;
    sum->nshards = nshards;
    kgn_batch_stats bst;
    int rc = kgn_batch_run(in, lpath ? lpath : "-", in_size, opath, out, &ops, &bo, &bst,
                           err, sizeof err);
    fill_summary(sum, &bst);
    if (rc) st = kgp__db_error(db, (kgp_status)rc, "%s", err);

out:
    if (in && in != stdin) fclose(in);
    kg_free(fingerprint);
    kg_free(c.stamp);
    kg_free(c.reach);
    if (c.ix) kgn_index_free(c.ix);
    kgn_index_free(c.oix);
    kgn_ordered_free(c.ord);
    kgn_ordered_free(c.bord);
    pthread_mutex_destroy(&c.ord_mu);
    if (c.snap) kgp_snap_close(c.snap);
    json_decref(c.defaults);
    return st;
}

kgp_status kgp_batch_merge(const char *const *paths, size_t n, const char *out,
                           kgp_batch_summary *sum, char *errbuf, size_t errlen)
{
    memset(sum, 0, sizeof *sum);
    int to_stdout = !out || strcmp(out, "-") == 0;
    FILE *f = stdout;
    kg_atomic_file af;
    if (!to_stdout) {
        /* Written beside the destination and renamed: a reader never sees
         * half a merge. */
        int e = kg_atomic_begin(&af, out, 0644);
        if (!e && !(f = kg_atomic_stream(&af))) { e = errno ? errno : ENOMEM; kg_atomic_abort(&af); }
        if (e) {
            snprintf(errbuf, errlen, "%s: %s", out, strerror(e));
            return KGP_EIO;
        }
    }
    int rc = kgn_batch_merge(paths, n, f, &sum->plans, &sum->errors, errbuf, errlen);
    sum->learners = sum->plans + sum->errors;
    sum->lines = sum->learners;
    if (!to_stdout) {
        int e = 0;
        if (rc) kg_atomic_abort(&af);
        else if ((e = kg_atomic_commit(&af)) != 0) {
            snprintf(errbuf, errlen, "%s: %s", out, strerror(e));
            rc = KGP_EIO;
        }
    }
    return (kgp_status)rc;
}

kgp_status kgp_db_copy(kgp_db *db, const char *dest, unsigned flags)
{
    kgg_store *store = kgp__db_store(db);
    kgg_err ge;
    kgp_status st;
    if (!store) return kgp__db_error(db, KGP_EDB, "the database is not open");
    if (flags & KGP_COPY_STAMP) {
        if (kgp__db_rdonly(db))
            return kgp__db_error(db, KGP_EUSAGE, "--stamp needs a writable database");
        st = kgg_stamp_refresh(store, (int64_t)time(NULL), NULL, &ge);
        if (st) return kgp__db_error(db, st, "%s", ge.msg);
    }
    if ((st = kgg_store_copy_compact(store, dest, &ge))) return kgp__db_error(db, st, "%s", ge.msg);
    return KGP_OK;
}
