/* Planning API (kgpath_plan.h): glue between the public handles and
 * planner/ (kgn_*). A planner owns the per-snapshot index and a pool of
 * workspaces guarded by a mutex: a call takes a workspace (or makes one),
 * plans without any lock, and puts it back. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kgpath.h"
#include "api_internal.h"
#include "graph/learner_store.h"
#include "graph/store.h"
#include "planner/planner.h"

struct kgp_planner {
    kgp_snap *snap;
    kgg_snap calibrated;        /* the snapshot with fitted minutes (shallow copy) */
    float *minutes;             /* its own minutes array; NULL: none fitted */
    kgn_index *ix;              /* over base, or over bord when some course's order binds */
    const kgg_snap *base;       /* the (calibrated) snapshot */
    kgn_ordered *bord;          /* the courses imported with --course-order required */
    pthread_mutex_t mu;
    kgn_workspace **pool;
    size_t npool, cpool;
    /* follow_course_order: the authored-order view, built on first use. */
    kgn_ordered *ord;
    kgn_index *oix;
    kgn_workspace **opool;
    size_t nopool, copool;
};

struct kgp_plan  { kgn_plan *p;  char err[1024]; };
struct kgp_next  { kgn_next *x;  char err[1024]; };
struct kgp_check { kgn_check *c; char err[1024]; };

/* Minutes calibrated from learners' dwell (`kgpath fit`, stored with the
 * fit) replace the author's estimates for planning. The snapshot itself is
 * shared and read-only, so the planner plans over a shallow copy with its
 * own minutes array; without calibrated minutes it uses the snapshot as is.
 * O(n + F log n). */
static kgp_status calibrate(kgp_planner *pl, kgp_snap *s, const kgg_snap **g)
{
    kgp_db *db = kgp__snap_db(s);
    const kgg_snap *src = *g;
    if (!db || !src || src->n == 0) return KGP_OK;
    pl->calibrated = *src;
    pl->minutes = kg_malloc((size_t)src->n * sizeof *pl->minutes);
    if (!pl->minutes) return kgp__snap_error(s, KGP_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < src->n; i++)
        pl->minutes[i] = src->minutes ? src->minutes[i] : -1.0f;
    pl->calibrated.minutes = pl->minutes;
    uint32_t replaced = 0;
    kgg_err e;
    kgp_status st = kgg_fit_apply_minutes(kgp__db_store(db), &pl->calibrated, &replaced, &e);
    if (st != KGP_OK) return kgp__snap_error(s, st, "calibrated minutes: %s", e.msg);
    if (replaced == 0) {
        kg_free(pl->minutes);
        pl->minutes = NULL;
        return KGP_OK;
    }
    *g = &pl->calibrated;
    return KGP_OK;
}

kgp_status kgp_planner_open(kgp_snap *s, kgp_planner **out)
{
    *out = NULL;
    if (!s) return KGP_EUSAGE;
    kgp_planner *pl = kg_calloc(1, sizeof *pl);
    if (!pl) return KGP_ENOMEM;
    pl->snap = s;
    pthread_mutex_init(&pl->mu, NULL);
    const kgg_snap *g = kgp__snap_graph(s);
    kgp_status st = calibrate(pl, s, &g);
    if (st != KGP_OK) {
        kgp_planner_close(pl);
        return st;
    }
    kgn_error err = {0};
    pl->base = g;
    st = kgn_default_index(g, &pl->bord, &pl->ix, &err);
    if (st != KGP_OK) {
        kgp__snap_error(s, st, "%s", err.msg);
        kgp_planner_close(pl);
        return st;
    }
    *out = pl;
    return KGP_OK;
}

kgp_snap *kgp__planner_snap(const kgp_planner *pl) { return pl->snap; }

void kgp_planner_close(kgp_planner *pl)
{
    if (!pl) return;
    for (size_t i = 0; i < pl->npool; i++) kgn_workspace_free(pl->pool[i]);
    kg_free(pl->pool);
    for (size_t i = 0; i < pl->nopool; i++) kgn_workspace_free(pl->opool[i]);
    kg_free(pl->opool);
    kgn_index_free(pl->ix);
    kgn_index_free(pl->oix);
    kgn_ordered_free(pl->ord);
    kgn_ordered_free(pl->bord);
    kg_free(pl->minutes);
    pthread_mutex_destroy(&pl->mu);
    kg_free(pl);
}

/* A workspace on the plain index, or (ordered) on the authored-order one,
 * which the first such call builds under the lock. NULL: out of memory or
 * *st set. */
static kgn_workspace *ws_take(kgp_planner *pl, int ordered, kgp_status *st, char *err)
{
    kgn_workspace *ws = NULL;
    const kgn_index *ix = pl->ix;
    *st = KGP_OK;
    pthread_mutex_lock(&pl->mu);
    if (ordered) {
        if (!pl->oix) {
            kgn_error e = {0};
            *st = kgn_ordered_index(pl->base, NULL, &pl->ord, &pl->oix, &e);
            if (*st != KGP_OK) snprintf(err, 1024, "%s", e.msg);
        }
        ix = pl->oix;
        if (pl->nopool) ws = pl->opool[--pl->nopool];
    } else if (pl->npool) {
        ws = pl->pool[--pl->npool];
    }
    pthread_mutex_unlock(&pl->mu);
    if (*st != KGP_OK) return NULL;
    if (!ws && !(ws = kgn_workspace_new(ix))) {
        *st = KGP_ENOMEM;
        snprintf(err, 1024, "out of memory");
    }
    return ws;
}

kgn_workspace *kgp__planner_ws_take(kgp_planner *pl)
{
    kgp_status st;
    char err[1024];
    return ws_take(pl, 0, &st, err);
}

kgn_workspace *kgp__planner_ws_take_ordered(kgp_planner *pl)
{
    kgp_status st;
    char err[1024];
    return ws_take(pl, 1, &st, err);
}

void kgp__planner_ws_give(kgp_planner *pl, kgn_workspace *ws)
{
    int ordered = kgn_workspace_index(ws) != pl->ix;
    kgn_workspace ***pool = ordered ? &pl->opool : &pl->pool;
    size_t *n = ordered ? &pl->nopool : &pl->npool, *cap = ordered ? &pl->copool : &pl->cpool;
    pthread_mutex_lock(&pl->mu);
    if (kg_grow(pool, cap, *n + 1, sizeof **pool) == 0) {
        (*pool)[(*n)++] = ws;
        ws = NULL;
    }
    pthread_mutex_unlock(&pl->mu);
    kgn_workspace_free(ws);
}

void kgp_plan_options_init(kgp_plan_options *o)
{
    memset(o, 0, sizeof *o);
    o->days_per_week = 7;
}

static void set_err(char *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(char *dst, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, 1024, fmt, ap);
    va_end(ap);
}

static kgp_status convert_options(const kgp_plan_options *o, kgn_options *k, char *err)
{
    kgn_options_init(k);
    if (!o) return KGP_OK;
    k->include_recommended = o->include_recommended;
    k->budget_minutes = o->budget_minutes;
    k->minutes_per_day = o->minutes_per_day;
    k->days_per_week = o->days_per_week ? o->days_per_week : 7;
    k->default_minutes = o->default_minutes;
    k->exact_limit = o->exact_limit;
    k->review = o->review;
    k->review_ud = o->review_ud;
    k->review_at = o->review_at;
    k->review_at_ud = o->review_at_ud;
    k->spaced = o->spaced;
    k->spaced_ud = o->spaced_ud;
    k->review_worst = o->review_worst;
    k->review_worst_ud = o->review_worst_ud;
    k->review_after = o->review_after;
    k->review_after_ud = o->review_after_ud;
    k->learn_note = o->learn_note;
    k->learn_note_ud = o->learn_note_ud;
    k->spaced_days = o->spaced_days;
    k->known_goals_ok = o->known_goals_ok;
    k->cheapest_goals_first = o->cheapest_goals_first;
    if (o->start && kgn_date_parse(o->start, &k->start_day)) {
        set_err(err, "bad start date '%s' (expected YYYY-MM-DD)", o->start);
        return KGP_EUSAGE;
    }
    if (o->deadline && kgn_date_parse(o->deadline, &k->deadline_day)) {
        set_err(err, "bad deadline '%s' (expected YYYY-MM-DD)", o->deadline);
        return KGP_EUSAGE;
    }
    return KGP_OK;
}

kgp_status kgp_plan_make(kgp_planner *pl, const uint32_t *goals, size_t ngoals,
                         const uint32_t *known, size_t nknown,
                         const kgp_plan_options *opt, kgp_plan **out)
{
    kgp_plan *r = kg_calloc(1, sizeof *r);
    *out = r;
    if (!r) return KGP_ENOMEM;
    kgn_options o;
    kgp_status st = convert_options(opt, &o, r->err);
    if (st != KGP_OK) return st;
    kgn_workspace *ws = ws_take(pl, opt && opt->follow_course_order, &st, r->err);
    if (!ws) return st;
    kgn_error err = {0};
    st = kgn_plan_make(ws, goals, ngoals, known, nknown, &o, &r->p, &err);
    kgp__planner_ws_give(pl, ws);
    if (st != KGP_OK) set_err(r->err, "%s", err.msg);
    return st;
}

void kgp_plan_free(kgp_plan *p)
{
    if (!p) return;
    kgn_plan_free(p->p);
    kg_free(p);
}

const char *kgp_plan_errmsg(const kgp_plan *p) { return p ? p->err : "out of memory"; }

void kgp_plan_summary_get(const kgp_plan *r, kgp_plan_summary *s)
{
    memset(s, 0, sizeof *s);
    const kgn_plan *p = r ? r->p : NULL;
    if (!p) return;
    s->steps = p->nsteps;
    s->total_minutes = p->total_minutes;
    s->pessimistic_minutes = p->has_pessimistic ? p->pessimistic_minutes : 0;
    s->goals = p->ngoals;
    s->dropped_goals = p->ndropped;
    s->skipped_known = p->nskipped;
    s->exact = p->exact;
    s->calendar = p->calendar;
    s->reviews = p->nreviews;
    s->spaced = p->nspaced;
    s->mastered_goals = p->nmastered;
    if (p->calendar) {
        kgn_date_format(p->start_day, s->start);
        kgn_date_format(p->end_day, s->end);
        s->study_days = p->study_days;
        s->has_deadline = p->deadline_day != KGN_NO_DAY;
        s->fits = p->fits;
        s->overrun_days = p->overrun_days;
        s->overrun_minutes = p->overrun_minutes;
    }
}

kgp_status kgp_plan_step_get(const kgp_plan *r, size_t i, kgp_plan_step *out)
{
    const kgn_plan *p = r ? r->p : NULL;
    if (!p || i >= p->nsteps) return KGP_EUSAGE;
    const kgn_step *st = &p->steps[i];
    memset(out, 0, sizeof *out);
    out->concept = st->concept;
    out->key = p->snap->key[st->concept];
    out->title = p->snap->title[st->concept];
    out->review = st->kind != KGN_LEARN;
    out->spaced = st->kind == KGN_SPACED;
    out->note = st->note;
    out->minutes = st->minutes;
    out->minutes_default = st->minutes_default;
    if (st->day != KGN_NO_DAY) kgn_date_format(st->day, out->day);
    out->parts = st->nsessions ? st->nsessions : 1;
    out->goal = st->is_goal;
    out->recommended = st->recommended;
    out->via = st->via;
    out->reason = st->via_reason;
    out->course_order = st->course_order;
    return KGP_OK;
}

kgp_status kgp_plan_dropped_get(const kgp_plan *r, size_t i, uint32_t *concept, uint64_t *minutes)
{
    const kgn_plan *p = r ? r->p : NULL;
    if (!p || i >= p->ndropped) return KGP_EUSAGE;
    if (concept) *concept = p->dropped[i];
    if (minutes) *minutes = p->dropped_minutes[i];
    return KGP_OK;
}

kgp_status kgp_plan_mastered_get(const kgp_plan *r, size_t i, uint32_t *concept)
{
    const kgn_plan *p = r ? r->p : NULL;
    if (!p || i >= p->nmastered) return KGP_EUSAGE;
    if (concept) *concept = p->mastered[i];
    return KGP_OK;
}

static int parse_format(const char *f, int allow_graph, kgn_format *out)
{
    if (!f || !strcmp(f, "text")) { *out = KGN_TEXT; return 0; }
    if (!strcmp(f, "json")) { *out = KGN_JSON; return 0; }
    if (allow_graph && !strcmp(f, "dot")) { *out = KGN_DOT; return 0; }
    if (allow_graph && !strcmp(f, "html")) { *out = KGN_HTML; return 0; }
    return -1;
}

static kgp_status write_buf(kg_buf *b, kgp_status st, FILE *out)
{
    if (st == KGP_OK && b->len && fwrite(b->data, 1, b->len, out) != b->len) st = KGP_EIO;
    if (st == KGP_OK && fflush(out) != 0) st = KGP_EIO;
    kg_buf_free(b);
    return st;
}

kgp_status kgp_plan_write(const kgp_plan *r, const char *format, FILE *out)
{
    kgn_format f;
    if (!r || !r->p) return KGP_EUSAGE;
    if (parse_format(format, 1, &f)) return KGP_EUSAGE;
    kg_buf b = {0};
    return write_buf(&b, kgn_plan_render(r->p, f, &b), out);
}

kgp_status kgp_next_make(kgp_planner *pl, const uint32_t *goals, size_t ngoals,
                         const uint32_t *known, size_t nknown, unsigned limit,
                         kgp_next **out)
{
    return kgp_next_make_opts(pl, goals, ngoals, known, nknown, limit, NULL, out);
}

kgp_status kgp_next_make_opts(kgp_planner *pl, const uint32_t *goals, size_t ngoals,
                              const uint32_t *known, size_t nknown, unsigned limit,
                              const kgp_plan_options *opt, kgp_next **out)
{
    kgp_next *r = kg_calloc(1, sizeof *r);
    *out = r;
    if (!r) return KGP_ENOMEM;
    kgp_status st;
    kgn_workspace *ws = ws_take(pl, opt && opt->follow_course_order, &st, r->err);
    if (!ws) return st;
    kgn_error err = {0};
    st = kgn_next_make(ws, goals, ngoals, known, nknown, limit, &r->x, &err);
    kgp__planner_ws_give(pl, ws);
    if (st != KGP_OK) set_err(r->err, "%s", err.msg);
    return st;
}

void kgp_next_free(kgp_next *x)
{
    if (!x) return;
    kgn_next_free(x->x);
    kg_free(x);
}

const char *kgp_next_errmsg(const kgp_next *x) { return x ? x->err : "out of memory"; }

size_t kgp_next_count(const kgp_next *x, size_t *total)
{
    if (total) *total = x && x->x ? x->x->total : 0;
    return x && x->x ? x->x->nitems : 0;
}

kgp_status kgp_next_get(const kgp_next *x, size_t i, uint32_t *concept,
                        unsigned *goals_served, uint64_t *unlocks)
{
    if (!x || !x->x || i >= x->x->nitems) return KGP_EUSAGE;
    const kgn_next_item *it = &x->x->items[i];
    if (concept) *concept = it->concept;
    if (goals_served) *goals_served = it->goals;
    if (unlocks) *unlocks = it->unlocks;
    return KGP_OK;
}

kgp_status kgp_next_add_reviews(kgp_next *x, const uint32_t *known, size_t nknown,
                                kgp_review_at_fn review, void *ud, int32_t day)
{
    if (!x || !x->x) return KGP_EUSAGE;
    kgn_error err = {0};
    kgp_status st = kgn_next_reviews(x->x, known, nknown, review, ud, day, &err);
    if (st != KGP_OK) set_err(x->err, "%s", err.msg);
    return st;
}

size_t kgp_next_review_count(const kgp_next *x)
{
    return x && x->x ? x->x->nreviews : 0;
}

kgp_status kgp_next_review_get(const kgp_next *x, size_t i, uint32_t *concept,
                               unsigned *minutes, const char **why)
{
    if (!x || !x->x || i >= x->x->nreviews) return KGP_EUSAGE;
    const kgn_next_review *r = &x->x->reviews[i];
    if (concept) *concept = r->concept;
    if (minutes) *minutes = r->minutes;
    if (why) *why = r->why;
    return KGP_OK;
}

kgp_status kgp_next_write(const kgp_next *x, const char *format, FILE *out)
{
    kgn_format f;
    if (!x || !x->x || parse_format(format, 0, &f)) return KGP_EUSAGE;
    kg_buf b = {0};
    return write_buf(&b, kgn_next_render(x->x, f, &b), out);
}

kgp_status kgp_check_make(kgp_planner *pl, kgp_check **out)
{
    kgp_check *r = kg_calloc(1, sizeof *r);
    *out = r;
    if (!r) return KGP_ENOMEM;
    kgn_error err = {0};
    kgp_status st = kgn_check_make(pl->ix, &r->c, &err);
    if (st != KGP_OK) set_err(r->err, "%s", err.msg);
    return st;
}

void kgp_check_free(kgp_check *c)
{
    if (!c) return;
    kgn_check_free(c->c);
    kg_free(c);
}

const char *kgp_check_errmsg(const kgp_check *c) { return c ? c->err : "out of memory"; }

const kgn_check *kgp__check_result(const kgp_check *c) { return c ? c->c : NULL; }

void kgp_check_summary_get(const kgp_check *r, kgp_check_summary *s)
{
    memset(s, 0, sizeof *s);
    if (!r || !r->c) return;
    s->cycles = r->c->ncycles;
    s->redundant_edges = r->c->nredundant;
    s->dangling = r->c->snap->nunresolved;
    s->orphans = r->c->norphans;
    s->unreachable = r->c->nunreachable;
}

kgp_status kgp_check_write(const kgp_check *c, const char *format, FILE *out)
{
    kgn_format f;
    if (!c || !c->c || parse_format(format, 0, &f)) return KGP_EUSAGE;
    kg_buf b = {0};
    return write_buf(&b, kgn_check_render(c->c, f, &b), out);
}
