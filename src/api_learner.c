/* Learner API (kgpath_learner.h): glue between the public handles, the
 * learner store (graph/learner_store.h) and the learner models
 * (planner/learner_*.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "kgpath.h"
#include "api_internal.h"
#include "api_learner_internal.h"
#include "base/alloc.h"
#include "graph/learner_store.h"
#include "graph/store.h"
#include "planner/learner_bkt.h"
#include "planner/learner_events.h"
#include "planner/learner_fit.h"
#include "planner/learner_fsrs.h"
#include "planner/learner_fsrs_fit.h"

const char *kgp_mastery_name(int status)
{
    return kgn_mastery_status_name(status);
}

/* Review minutes before any are fitted: a recalled review max(5, 15 %) of
 * the lesson, a failed one that plus KGP_RELEARN_SHARE of the lesson (the
 * concept is relearned). `kgpath fit` replaces both by the observed review
 * dwell (kgp_fit_concept.review_ok/review_fail). */
#define KGP_RELEARN_SHARE 0.5


double kgp__review_minutes(double concept_minutes)
{
    double m = concept_minutes > 0 ? 0.15 * concept_minutes : 0;
    return m < 5 ? 5 : ceil(m);
}

/* Recalled and failed review minutes of a concept: fitted (ok, fail < 0
 * when not), else the default rule from its lesson minutes. */
static void review_costs(double lesson, double fok, double ffail, double *ok, double *fail)
{
    *ok = fok > 0 ? fok : kgp__review_minutes(lesson);
    double relearn = KGP_RELEARN_SHARE * (lesson > 0 ? lesson : 30);
    *fail = ffail > 0 ? ffail : *ok + relearn;
    if (*fail < *ok)
        *fail = *ok;
}

/* Whole minutes of a review with recall probability r (expected). */
static uint32_t expected_minutes(double r, double ok, double fail)
{
    double m = ceil(r * ok + (1.0 - r) * fail - 1e-9);
    return m < 1 ? 1 : (uint32_t)m;
}

static void fmt_day(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm))
        strftime(buf, cap, "%Y-%m-%d", &tm);
    else
        snprintf(buf, cap, "?");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

kgp_status kgp_parse_time(const char *s, int64_t *out)
{
    char buf[64], err[128];
    if (!s)
        return KGP_EUSAGE;
    if (strlen(s) == 10) {          /* a date alone: midnight UTC */
        snprintf(buf, sizeof buf, "%sT00:00:00Z", s);
        s = buf;
    }
    return kgn_parse_timestamp(s, out, err, sizeof err) ? KGP_EUSAGE : KGP_OK;
}

void kgp_format_time(int64_t t, char *buf, size_t cap)
{
    kgn_format_timestamp(t, buf, cap);
}

/* ---- observe --------------------------------------------------------------- */

typedef struct observe_impl {
    kgp_observe_report r;
    kgn_events ev;
} observe_impl;

void kgp_observe_report_free(kgp_observe_report *r)
{
    if (!r)
        return;
    observe_impl *o = (observe_impl *)r;
    kgn_events_free(&o->ev);
    kg_free(o);
}

kgp_status kgp_observe(kgp_db *db, const char *name, const char *buf,
                       size_t len, unsigned flags, kgp_observe_report **out)
{
    *out = NULL;
    observe_impl *o = kg_calloc(1, sizeof *o);
    if (!o || kgn_events_init(&o->ev)) {
        kg_free(o);
        return kgp__db_error(db, KGP_ENOMEM, "out of memory");
    }
    *out = &o->r;
    kgp_observe_report *r = &o->r;
    if (kgn_events_parse(&o->ev, name ? name : "-", buf, len))
        return kgp__db_error(db, KGP_ENOMEM, "out of memory");
    r->lines = o->ev.lines;
    r->events = o->ev.n;
    r->nerrors = o->ev.nerr;
    r->errors = (const char *const *)o->ev.err;
    r->nerrors_kept = o->ev.nerr_kept;
    /* A timestamp far ahead (9999-12-31 from a placeholder, a clock in
     * milliseconds) is stored as given but reported: plans only count an
     * event from its date on (kgp_learner_get). */
    int64_t soon = (int64_t)time(NULL) + 86400;
    for (size_t i = 0; i < o->ev.n; i++)
        if (o->ev.ev[i].at > soon) {
            if (!r->future++ || o->ev.ev[i].at > r->future_max)
                r->future_max = o->ev.ev[i].at;
        }
    if (o->ev.n) {
        const char **ids = kg_malloc(sizeof *ids * o->ev.n);
        if (!ids)
            return kgp__db_error(db, KGP_ENOMEM, "out of memory");
        for (size_t i = 0; i < o->ev.n; i++)
            ids[i] = o->ev.ev[i].learner;
        qsort(ids, o->ev.n, sizeof *ids, cmp_str);
        for (size_t i = 0; i < o->ev.n; i++)
            r->learners += i == 0 || strcmp(ids[i], ids[i - 1]) != 0;
        kg_free(ids);
    }
    if (r->nerrors && (flags & KGP_OBSERVE_STRICT))
        return kgp__db_error(db, KGP_EINPUT, "%s; nothing written (--strict): %zu "
                             "malformed line%s", o->ev.err[0], r->nerrors,
                             r->nerrors == 1 ? "" : "s");
    if (r->nerrors && r->events == 0)
        return kgp__db_error(db, KGP_EINPUT, "%s; no well-formed event", o->ev.err[0]);
    if (flags & KGP_OBSERVE_DRY_RUN)
        return KGP_OK;
    kgg_err e;
    kgp_status st = kgg_learner_append(kgp__db_store(db), o->ev.ev, o->ev.n,
                                       &r->added, &r->duplicates, &e);
    if (st != KGP_OK)
        return kgp__db_error(db, st, "%s", e.msg);
    r->committed = 1;
    return KGP_OK;
}

kgp_status kgp_observe_file(kgp_db *db, const char *name, FILE *in,
                            unsigned flags, kgp_observe_report **out)
{
    *out = NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = kg_malloc(cap);
    if (!buf)
        return kgp__db_error(db, KGP_ENOMEM, "out of memory");
    for (;;) {
        if (len == cap) {
            char *b2 = kg_realloc(buf, cap * 2);
            if (!b2) {
                kg_free(buf);
                return kgp__db_error(db, KGP_ENOMEM, "out of memory");
            }
            buf = b2;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, in);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(in)) {
        kg_free(buf);
        return kgp__db_error(db, KGP_EIO, "%s: read error", name ? name : "-");
    }
    kgp_status st = kgp_observe(db, name, buf, len, flags, out);
    kg_free(buf);
    return st;
}

/* ---- fitted parameters ------------------------------------------------------ */

typedef struct fitted {
    char *key;
    kgn_bkt_params p;
    int bkt;
    double minutes;
    double review_ok, review_fail;  /* fitted review minutes; < 0 none */
} fitted;

typedef struct fit_load {
    fitted *v;
    size_t n, cap;
    kg_arena *a;
    int oom;
} fit_load;

static int fit_load_fn(void *ud, const kgg_fit_rec *r)
{
    fit_load *f = ud;
    if (kg_grow(&f->v, &f->cap, f->n + 1, sizeof *f->v)) {
        f->oom = 1;
        return 1;
    }
    fitted *x = &f->v[f->n];
    x->key = kg_arena_strdup(f->a, r->concept);
    if (!x->key) {
        f->oom = 1;
        return 1;
    }
    x->p = (kgn_bkt_params){ r->prior, r->learn, r->learn_read, r->guess,
                             r->slip, r->forget };
    x->bkt = r->bkt_fitted;
    x->minutes = r->minutes;
    x->review_ok = r->review_ok;
    x->review_fail = r->review_fail;
    f->n++;
    return 0;
}

/* Keys arrive in LMDB (byte) order, which is strcmp order. */
static const fitted *fit_find(const fit_load *f, const char *key)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(f->v[mid].key, key);
        if (c == 0)
            return &f->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- learner state ------------------------------------------------------------ */

typedef struct learner_impl {
    kgp_learner l;
    kg_arena *a;
    const kgg_snap *g;
    uint32_t *by_index;         /* positions in l.concepts with an index, by index */
    size_t nby_index;
    const char **why;           /* [nconcepts] review reason, NULL when none */
    kgn_fsrs_card *cards;       /* [nconcepts] */
    double *minutes;            /* [nconcepts] expected minutes, < 0 unknown */
    double *rev_ok, *rev_fail;  /* [nconcepts] review minutes, recalled / failed */
    double w[KGN_FSRS_NW];      /* FSRS-6 weights: the learner's fit, else the
                                   population's, else the defaults */
    double kappa, p0;           /* prerequisite strength (kappa < 0: not fitted) */
    int64_t *failed;            /* [nconcepts] time of a failed lesson (the last
                                   attempt a wrong quiz, not known), else 0 */
    int64_t *lapse;             /* [nconcepts] a failed review of a mastered
                                   concept: the time of the study before it
                                   (0: none; see resolve_lapses) */
    double *lapse_p;            /* [nconcepts] P(learned) before that review */
    double *doubt;              /* [nconcepts] P(learned) given the failed
                                   lessons of its dependents since its last
                                   study (1: none; see doubt_prerequisites) */
    kgn_bkt_params bkt;         /* BKT of concepts without their own fit: the
                                   population's (kgpath fit), else the defaults */
    fitted *fit;                /* `kgpath fit` records by key (review minutes
                                   of concepts the learner has not met yet) */
    size_t nfit;
} learner_impl;

/* A concept's events in the sorted index (idx[lo..hi-1]) with the BKT and
 * lesson time they were replayed with, for its state at a past moment
 * (doubt_prerequisites). */
typedef struct ev_range {
    size_t lo, hi;
    kgn_bkt_params p;
    double expected_s;
} ev_range;

typedef struct blame_src {
    const kgg_event *ev;
    const size_t *idx;
    const ev_range *rg;         /* [nconcepts] */
    const fit_load *fl;
} blame_src;

static int doubt_prerequisites(learner_impl *li, const blame_src *src);
static int resolve_lapses(learner_impl *li, const char *day);

typedef struct ev_load {
    kgg_event *v;
    size_t n, cap;
    kg_arena *a;
    int64_t until;              /* events after it are counted, not kept */
    uint64_t later;
    int64_t later_max;
    int oom;
} ev_load;

static int ev_load_fn(void *ud, const kgg_event *e)
{
    ev_load *x = ud;
    if (e->at > x->until) {
        if (!x->later++ || e->at > x->later_max)
            x->later_max = e->at;
        return 0;
    }
    if (kg_grow(&x->v, &x->cap, x->n + 1, sizeof *x->v)) {
        x->oom = 1;
        return 1;
    }
    kgg_event *d = &x->v[x->n];
    *d = *e;
    d->learner = NULL;      /* one learner: not needed */
    d->concept = kg_arena_strdup(x->a, e->concept);
    if (!d->concept) {
        x->oom = 1;
        return 1;
    }
    x->n++;
    return 0;
}

static int cmp_ev_concept(const void *a, const void *b, void *ctx)
{
    const kgg_event *v = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(v[i].concept, v[j].concept);
    if (c)
        return c;
    /* stored order is time order: keep it */
    return i < j ? -1 : i > j;
}

static int cmp_by_index(const void *a, const void *b, void *ctx)
{
    const kgp_learner_concept *c = ctx;
    uint32_t x = c[*(const uint32_t *)a].index, y = c[*(const uint32_t *)b].index;
    return x < y ? -1 : x > y;
}

void kgp_learner_free(kgp_learner *l)
{
    if (!l)
        return;
    learner_impl *li = (learner_impl *)l;
    kg_free(li->fit);
    kg_arena_free(li->a);
    kg_free(li);
}

kgp_status kgp_learner_get(kgp_db *db, kgp_snap *snap, const char *id,
                           const kgp_learner_options *opt, kgp_learner **out)
{
    *out = NULL;
    kgg_store *st = kgp__db_store(db);
    kgp_learner_options o = opt ? *opt : (kgp_learner_options){0};
    if (o.at == 0)
        o.at = (int64_t)time(NULL);
    if (o.retention == 0)
        o.retention = 0.9;
    if (o.mastery == 0)
        o.mastery = KGN_MASTERY;
    if (o.check == 0)
        o.check = 0.5;
    if (!(o.retention > 0 && o.retention < 1) || !(o.mastery > 0 && o.mastery <= 1))
        return kgp__db_error(db, KGP_EUSAGE, "retention must be in (0, 1) and "
                             "mastery in (0, 1]");
    if (!id || !*id)
        return kgp__db_error(db, KGP_EUSAGE, "no learner id");
    kgg_err e;
    learner_impl *li = kg_calloc(1, sizeof *li);
    if (!li || !(li->a = kg_arena_new())) {
        kg_free(li);
        return kgp__db_error(db, KGP_ENOMEM, "out of memory");
    }
    kgp_learner *l = &li->l;
    li->g = snap ? kgp__snap_graph(snap) : NULL;
    memcpy(li->w, kgn_fsrs_default_w, sizeof li->w);
    int found = 0;
    kgp_status s = kgg_fsrs_get(st, NULL, li->w, &found, &e);
    if (s == KGP_OK)
        s = kgg_fsrs_get(st, id, li->w, &found, &e);
    if (s != KGP_OK) {
        kgp__db_error(db, s, "%s", e.msg);
        kg_arena_free(li->a);
        kg_free(li);
        return s;
    }
    double sv[6];
    li->kappa = -1;
    li->p0 = 1;
    if (kgg_model_get(st, STRENGTH_NAME, sv, 2, &found, &e) == KGP_OK && found) {
        li->kappa = sv[0];
        li->p0 = sv[1];
    }
    li->bkt = kgn_bkt_defaults;
    if (kgg_model_get(st, BKT_POP_NAME, sv, 6, &found, &e) == KGP_OK && found)
        li->bkt = (kgn_bkt_params){ sv[0], sv[1], sv[2], sv[3], sv[4], sv[5] };
    l->id = kg_arena_strdup(li->a, id);
    l->at = o.at;
    l->retention = o.retention;
    l->mastery = o.mastery;
    l->check = o.check;
    fit_load fl = { .a = li->a };
    ev_load el = { .a = li->a, .until = o.at };
    size_t *idx = NULL;
    ev_range *rg = NULL;
    s = kgg_fit_all(st, fit_load_fn, &fl, &e);
    if (s == KGP_OK && !fl.oom)
        s = kgg_learner_events(st, id, ev_load_fn, &el, &e);
    if (s == KGP_ENOTFOUND)
        s = KGP_OK;             /* no event at all: el.n == 0 */
    if (s == KGP_OK && !fl.oom && !el.oom && el.n == 0 && !(o.flags & KGP_LEARNER_NEW_OK)) {
        char d[16];
        fmt_day(o.at, d, sizeof d);
        if (el.later)
            s = kgp__db_error(db, KGP_ENOTFOUND, "learner '%s' has no event up to %s "
                              "(%llu later)", id, d, (unsigned long long)el.later);
        else
            s = kgp__db_error(db, KGP_ENOTFOUND, "no learner '%s'", id);
        goto fail;
    }
    if (s != KGP_OK) {
        kgp__db_error(db, s, "%s", e.msg);
        goto fail;
    }
    if (fl.oom || el.oom || !l->id || !(idx = kg_malloc(sizeof *idx * (el.n + 1))))
        goto oom;
    /* stored order is time order */
    l->nevents = el.n;
    l->first = el.n ? el.v[0].at : 0;
    l->last = el.n ? el.v[el.n - 1].at : 0;
    l->is_new = el.n == 0;
    l->nlater = el.later;
    l->later_max = el.later_max;
    for (size_t i = 0; i < el.n; i++)
        idx[i] = i;
    qsort_r(idx, el.n, sizeof *idx, cmp_ev_concept, el.v);
    size_t nc = 0;
    for (size_t i = 0; i < el.n; i++)
        nc += i == 0 || strcmp(el.v[idx[i]].concept, el.v[idx[i - 1]].concept) != 0;
    l->concepts = kg_arena_calloc(li->a, sizeof *l->concepts * (nc + 1));
    li->why = kg_arena_calloc(li->a, sizeof *li->why * (nc + 1));
    li->cards = kg_arena_calloc(li->a, sizeof *li->cards * (nc + 1));
    li->minutes = kg_arena_calloc(li->a, sizeof *li->minutes * (nc + 1));
    li->rev_ok = kg_arena_calloc(li->a, sizeof *li->rev_ok * (nc + 1));
    li->rev_fail = kg_arena_calloc(li->a, sizeof *li->rev_fail * (nc + 1));
    li->by_index = kg_arena_calloc(li->a, sizeof *li->by_index * (nc + 1));
    li->failed = kg_arena_calloc(li->a, sizeof *li->failed * (nc + 1));
    li->doubt = kg_arena_calloc(li->a, sizeof *li->doubt * (nc + 1));
    li->lapse = kg_arena_calloc(li->a, sizeof *li->lapse * (nc + 1));
    li->lapse_p = kg_arena_calloc(li->a, sizeof *li->lapse_p * (nc + 1));
    rg = kg_malloc(sizeof *rg * (nc + 1));
    if (!rg || !l->concepts || !li->why || !li->cards || !li->minutes || !li->by_index ||
        !li->rev_ok || !li->rev_fail || !li->failed || !li->doubt || !li->lapse || !li->lapse_p)
        goto oom;
    char day[16];
    fmt_day(o.at, day, sizeof day);
    for (size_t i = 0; i < el.n;) {
        size_t j = i;
        const char *key = el.v[idx[i]].concept;
        while (j < el.n && strcmp(el.v[idx[j]].concept, key) == 0)
            j++;
        kgp_learner_concept *c = &l->concepts[l->nconcepts];
        c->key = key;
        c->index = KGP_NONE;
        double minutes = -1;
        if (li->g) {
            uint32_t x = kgg_snap_find_key(li->g, key);
            if (x != KGG_NONE) {
                c->index = x;
                c->title = li->g->title[x];
                minutes = li->g->minutes[x];
            }
        }
        const fitted *f = fit_find(&fl, key);
        kgn_bkt_params p = li->bkt;
        if (f && f->bkt) {
            p = f->p;
            c->fitted = 1;
        }
        if (f && f->minutes > 0)
            minutes = f->minutes;
        li->minutes[l->nconcepts] = minutes;
        review_costs(minutes, f ? f->review_ok : -1, f ? f->review_fail : -1,
                     &li->rev_ok[l->nconcepts], &li->rev_fail[l->nconcepts]);
        kgn_concept_state cs;
        kgn_concept_state_init(&cs, &p);
        rg[l->nconcepts] = (ev_range){ i, j, p, minutes > 0 ? minutes * 60.0 : -1 };
        for (size_t q = i; q < j; q++)
            kgn_concept_state_apply(&cs, &p, li->w, &el.v[idx[q]],
                                    minutes > 0 ? minutes * 60.0 : -1);
        c->status = kgn_concept_state_status(&cs, li->w, o.at, o.retention, o.mastery);
        c->p_learned = cs.p_learned;
        c->events = cs.nevents;
        c->reads = cs.nreads;
        c->quizzes = cs.nquiz;
        c->reviews = cs.nreview;
        c->correct = cs.ncorrect;
        c->lapses = cs.card.lapses;
        c->dwell_seconds = cs.dwell_s;
        c->last = cs.last;
        c->due = kgn_fsrs_card_due(li->w, &cs.card, o.retention);
        if (cs.card.reps) {
            c->retrievability = kgn_fsrs_card_r(li->w, &cs.card, o.at);
            c->stability = cs.card.stability;
            c->difficulty = cs.card.difficulty;
        }
        li->cards[l->nconcepts] = cs.card;
        if (c->status == KGP_FADING) {
            li->why[l->nconcepts] = kg_arena_printf(li->a,
                "retrievability %.2f on %s", c->retrievability, day);
            if (!li->why[l->nconcepts])
                goto oom;
        } else if (c->status == KGP_LEARNING && c->p_learned >= o.check &&
                   cs.last_outcome == 1) {
            /* Counted as known only when the last attempt succeeded: a
             * failed lesson is taught again (a learn step with its full
             * time), never "reviewed". (Checking a wrong last quiz with a
             * review instead, when the expected cost said so, lost goals
             * per hour in tools/sim/cli_sim.py: a failed check costs the
             * review and the lesson.) */
            li->why[l->nconcepts] = kg_arena_printf(li->a,
                "mastery uncertain: P(learned) %.2f", c->p_learned);
            if (!li->why[l->nconcepts])
                goto oom;
        }
        li->doubt[l->nconcepts] = 1.0;
        /* a failed review of a concept mastered before it: a lapse of
         * memory, unless it checked a doubt (resolve_lapses) */
        if (cs.last_outcome == 0 && cs.last_review && cs.p_before >= o.mastery &&
            c->status == KGP_LEARNING) {
            li->lapse[l->nconcepts] = cs.before > 0 ? cs.before : 1;
            li->lapse_p[l->nconcepts] = cs.p_before;
        }
        /* a failed lesson: read, then its last quiz wrong (a failed review
         * is a lapse of memory, not evidence against prerequisites) */
        if (cs.last_outcome == 0 && !cs.last_review && cs.nreads && !li->why[l->nconcepts] &&
            c->status == KGP_LEARNING)
            li->failed[l->nconcepts] = cs.last;
        l->count[c->status]++;
        if (c->index != KGP_NONE)
            li->by_index[li->nby_index++] = (uint32_t)l->nconcepts;
        l->nconcepts++;
        i = j;
    }
    qsort_r(li->by_index, li->nby_index, sizeof *li->by_index, cmp_by_index, l->concepts);
    if (resolve_lapses(li, day))
        goto oom;
    blame_src bs = { el.v, idx, rg, &fl };
    if (doubt_prerequisites(li, &bs))
        goto oom;
    if (li->g)      /* graph concepts without events */
        l->count[KGP_NOT_STARTED] += li->g->n - li->nby_index;
    kg_free(rg);
    kg_free(idx);
    kg_free(el.v);
    li->fit = fl.v;             /* keys live in li->a */
    li->nfit = fl.n;
    *out = l;
    return KGP_OK;
oom:
    s = kgp__db_error(db, KGP_ENOMEM, "out of memory");
fail:
    kg_free(rg);
    kg_free(idx);
    kg_free(el.v);
    kg_free(fl.v);
    kgp_learner_free(l);
    return s;
}

static const kgp_learner_concept *find_pos(const kgp_learner *l, uint32_t index,
                                           size_t *pos)
{
    const learner_impl *li = (const learner_impl *)l;
    size_t lo = 0, hi = li->nby_index;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const kgp_learner_concept *c = &l->concepts[li->by_index[mid]];
        if (c->index == index) {
            if (pos)
                *pos = li->by_index[mid];
            return c;
        }
        if (c->index < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const kgp_learner_concept *kgp_learner_find(const kgp_learner *l, uint32_t index)
{
    return find_pos(l, index, NULL);
}

/* ---- output -------------------------------------------------------------------- */

static json_t *json_time(int64_t t)
{
    if (t == INT64_MAX)
        return json_null();
    char buf[32];
    kgn_format_timestamp(t, buf, sizeof buf);
    return json_string(buf);
}

/* Writes o as indented JSON and a newline to out, then releases o.
 * Returns KGP_EIO when writing fails. */
kgp_status kgp__dump_json(json_t *o, FILE *out)
{
    int rc = json_dumpf(o, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(o);
    if (rc || fputc('\n', out) == EOF)
        return KGP_EIO;
    return KGP_OK;
}

kgp_status kgp_learner_write(const kgp_learner *l, const char *format, FILE *out)
{
    static const int order[] = { KGP_FADING, KGP_LEARNING, KGP_MASTERED, KGP_NOT_STARTED };
    if (!strcmp(format, "json")) {
        json_t *o = json_object(), *counts = json_object(), *arr = json_array();
        if (!o || !counts || !arr) {
            json_decref(o); json_decref(counts); json_decref(arr);
            return KGP_ENOMEM;
        }
        json_object_set_new(o, "kgpath_learner", json_integer(1));
        json_object_set_new(o, "learner", json_string(l->id));
        json_object_set_new(o, "at", json_time(l->at));
        json_object_set_new(o, "retention", json_real(l->retention));
        json_object_set_new(o, "mastery", json_real(l->mastery));
        json_object_set_new(o, "events", json_integer((json_int_t)l->nevents));
        json_object_set_new(o, "first", json_time(l->first));
        json_object_set_new(o, "last", json_time(l->last));
        for (int s = 0; s < 4; s++)
            json_object_set_new(counts, kgp_mastery_name(s),
                                json_integer((json_int_t)l->count[s]));
        json_object_set_new(o, "counts", counts);
        for (size_t i = 0; i < l->nconcepts; i++) {
            const kgp_learner_concept *c = &l->concepts[i];
            json_t *x = json_object();
            json_object_set_new(x, "key", json_string(c->key));
            json_object_set_new(x, "title", c->title ? json_string(c->title) : json_null());
            json_object_set_new(x, "in_graph", json_boolean(c->index != KGP_NONE));
            json_object_set_new(x, "status", json_string(kgp_mastery_name(c->status)));
            json_object_set_new(x, "p_learned", json_real(c->p_learned));
            json_object_set_new(x, "p_blamed", json_real(c->p_blamed));
            json_object_set_new(x, "retrievability", json_real(c->retrievability));
            json_object_set_new(x, "stability_days", json_real(c->stability));
            json_object_set_new(x, "difficulty", json_real(c->difficulty));
            json_object_set_new(x, "last", json_time(c->last));
            json_object_set_new(x, "due", json_time(c->due));
            json_object_set_new(x, "events", json_integer(c->events));
            json_object_set_new(x, "reads", json_integer(c->reads));
            json_object_set_new(x, "quizzes", json_integer(c->quizzes));
            json_object_set_new(x, "reviews", json_integer(c->reviews));
            json_object_set_new(x, "correct", json_integer(c->correct));
            json_object_set_new(x, "lapses", json_integer(c->lapses));
            json_object_set_new(x, "dwell_seconds", json_real(c->dwell_seconds));
            json_object_set_new(x, "fitted", json_boolean(c->fitted));
            json_array_append_new(arr, x);
        }
        json_object_set_new(o, "concepts", arr);
        return kgp__dump_json(o, out);
    }
    if (strcmp(format, "text"))
        return KGP_EUSAGE;
    char at[32], first[32], last[32];
    fmt_day(l->at, at, sizeof at);
    fmt_day(l->first, first, sizeof first);
    fmt_day(l->last, last, sizeof last);
    fprintf(out, "learner %s: %llu event%s from %s to %s; state on %s "
            "(retention target %.2f, mastery %.2f)\n", l->id,
            (unsigned long long)l->nevents, l->nevents == 1 ? "" : "s", first,
            last, at, l->retention, l->mastery);
    fprintf(out, "mastered %zu, fading %zu, learning %zu, not started %zu\n",
            l->count[KGP_MASTERED], l->count[KGP_FADING], l->count[KGP_LEARNING],
            l->count[KGP_NOT_STARTED]);
    if (l->nconcepts)
        fprintf(out, "\n%-11s %5s %5s %8s  %-10s  %s\n", "status", "P(L)", "R",
                "S(days)", "due", "concept");
    for (int k = 0; k < 4; k++)
        for (size_t i = 0; i < l->nconcepts; i++) {
            const kgp_learner_concept *c = &l->concepts[i];
            if (c->status != order[k])
                continue;
            char due[32] = "-";
            if (c->due != INT64_MAX)
                fmt_day(c->due, due, sizeof due);
            fprintf(out, "%-11s %5.2f %5.2f %8.1f  %-10s  %s%s%s%s\n",
                    kgp_mastery_name(c->status), c->p_learned, c->retrievability,
                    c->stability, due, c->key, c->title ? "  " : "",
                    c->title ? c->title : "",
                    c->index == KGP_NONE ? "  (not in the graph)" : "");
        }
    return ferror(out) ? KGP_EIO : KGP_OK;
}

typedef struct list_ctx { kgp_learner_list_fn fn; void *ud; } list_ctx;

static int list_fn(void *ud, const char *id, const kgg_learner_info *info)
{
    list_ctx *c = ud;
    return c->fn(c->ud, id, info->nevents, info->first, info->last);
}

kgp_status kgp_learners_list(kgp_db *db, kgp_learner_list_fn fn, void *ud)
{
    list_ctx c = { fn, ud };
    kgg_err e;
    kgp_status s = kgg_learners_all(kgp__db_store(db), list_fn, &c, &e);
    return s == KGP_OK ? s : kgp__db_error(db, s, "%s", e.msg);
}

/* ---- planning with a learner ------------------------------------------------------ */

/* P(learned) a plan judges concept `pos` by: 1 when mastered or fading,
 * the BKT posterior while learning, lowered by the doubt of a failed
 * dependent lesson (doubt_prerequisites). */
static double plan_p_learned(const learner_impl *li, size_t pos)
{
    const kgp_learner_concept *c = &li->l.concepts[pos];
    double pl = c->status == KGP_LEARNING ? c->p_learned : 1.0;
    return li->doubt[pos] < pl ? li->doubt[pos] : pl;
}

/* Check or teach a known concept whose mastery is uncertain (P(learned) p
 * below 1)? A check takes ok minutes where the concept is recalled (p·r),
 * fail where it is forgotten (p·(1 − r): the failed review relearns it),
 * and fail plus the lesson (M minutes) where it was never learned (1 − p:
 * a failed check teaches nothing, the lesson follows); teaching it takes
 * M. Returns 1 when teaching is cheaper (the concept then counts as not
 * known: a learn step with its full time), with both expected minutes.
 * O(1). */
static int teach_cheaper(const learner_impl *li, size_t pos, double *check, double *teach)
{
    const kgp_learner_concept *c = &li->l.concepts[pos];
    double p = plan_p_learned(li, pos);
    *check = *teach = 0;
    if (p >= 1.0)
        return 0;
    double r = li->cards[pos].reps ? c->retrievability : 1.0;
    double M = li->minutes[pos] > 0 ? li->minutes[pos] : 30;
    double ok = li->rev_ok[pos], fail = li->rev_fail[pos];
    *check = p * r * ok + p * (1.0 - r) * fail + (1.0 - p) * (fail + M);
    *teach = M;
    return *teach < *check;
}

kgp_status kgp_learner_known(const kgp_learner *l, uint32_t **known, size_t *nknown)
{
    const learner_impl *li = (const learner_impl *)l;
    *known = kg_malloc(sizeof **known * (li->nby_index + 1));
    *nknown = 0;
    if (!*known)
        return KGP_ENOMEM;
    for (size_t i = 0; i < li->nby_index; i++) {
        uint32_t pos = li->by_index[i];
        const kgp_learner_concept *c = &l->concepts[pos];
        double check, teach;
        if ((c->status == KGP_MASTERED || li->why[pos]) && !teach_cheaper(li, pos, &check, &teach))
            (*known)[(*nknown)++] = c->index;
    }
    return KGP_OK;
}

void kgp_learner_known_free(uint32_t *known)
{
    kg_free(known);
}

const char *kgp_learner_learn_note(void *ud, uint32_t concept)
{
    /* a per-thread buffer, as decide(): the planner copies it */
    static _Thread_local char buf[200];
    const learner_impl *li = ud;
    size_t pos;
    double check, teach;
    if (!find_pos(&li->l, concept, &pos) || !teach_cheaper(li, pos, &check, &teach))
        return NULL;
    snprintf(buf, sizeof buf, "mastery uncertain (P(learned) %.2f): a check would take %.0f min "
             "expected (a failed one teaches nothing: the lesson follows), the lesson %.0f",
             plan_p_learned(li, pos), check, teach);
    return buf;
}

/* ---- blame after a failed lesson ------------------------------------------- */

/* A failed lesson is evidence against its prerequisites, weighed jointly:
 * the planner's model of a lesson (decide(), kgpath_learner.h) is that it
 * succeeds with p0·e^(−κ·x), x the requirements' shortfall — for each
 * requirement group needing k of its members, k minus the recall of its k
 * best-recalled learned members (a missing one recalls 0). With the
 * prerequisites' independent priors (learned with P(learned) p_i as of the
 * failure, recalled r_i then when learned), the posterior of each one is
 *
 *   P(i learned | fail) = Σ_{S ∋ i} Π_j P(S_j) · (1 − p0·e^(−κ·x(S))) / P(fail)
 *
 * over the learned sets S. This explains away: one doubtful or faded
 * prerequisite accounts for the failure and the others keep most of their
 * P(learned) (independent Bayes per prerequisite gave each the whole
 * blame, so a failed lesson made the plan check all of them). With one
 * prerequisite recalled fully it is the old rule p·f1 / (p·f1 + (1 − p)·f0),
 * f1 = 1 − p0, f0 = 1 − p0·e^(−κ).
 *
 * Computed exactly without enumerating S: e^(−κ·x) is a product over the
 * groups, so P(fail) = 1 − p0·Π_g E_g with E_g = E[e^(−κ·x_g)], and each
 * E_g is a dynamic programme over the group's members in recall order
 * (group_mgf, O(n_g·k_g)). A member that appears in two groups of the same
 * lesson breaks the product: then the lesson's distinct prerequisites are
 * enumerated (2^K configurations, K ≤ BLAME_ENUM_MAX), and beyond that the
 * repeated member is treated as independent copies (its lowest posterior
 * kept). Groups with no member in the graph are left out, and k is capped
 * at the members in the graph. */
#define BLAME_ENUM_MAX 16

/* One prerequisite of a failed lesson, as of the failure: learned with
 * probability p, recalled r when learned. post: P(learned | the failure).
 * pos: its learner position whose doubt the posterior sets (studied before
 * the failure and not since), SIZE_MAX for none. */
typedef struct blame_var {
    uint32_t concept;
    size_t pos;
    double p, r, post;
} blame_var;

/* E[e^(−κ·x)] for a group needing k of the n members v[ord[0..n-1]]
 * (highest recall first; k ≤ n), x = k − the recall of its k best-recalled
 * learned members, over their independent states; member ord[force] is
 * taken as learned (force = SIZE_MAX: none). d: k + 1 scratch. O(n·k). */
static double group_mgf(const blame_var *v, const uint32_t *ord, size_t n, size_t k,
                        double kappa, size_t force, double *d)
{
    /* d[c]: P(c counted members learned so far) × Π e^(−κ(1 − r)) over them */
    for (size_t c = 0; c <= k; c++)
        d[c] = 0;
    d[0] = 1;
    for (size_t t = 0; t < n; t++) {
        const blame_var *b = &v[ord[t]];
        double p = t == force ? 1.0 : b->p, e = exp(-kappa * (1.0 - b->r));
        /* d[k]: the group is full, later members do not count */
        for (size_t c = (t < k ? t : k - 1) + 1; c-- > 0;) {
            d[c + 1] += d[c] * p * e;
            d[c] *= 1.0 - p;
        }
    }
    double m = 0;
    for (size_t c = 0; c <= k; c++)
        m += d[c] * exp(-kappa * (double)(k - c));
    return m;
}

/* A failed lesson's groups as indexes into its distinct prerequisites:
 * group q needs k[q] of ord[off[q] .. off[q+1]-1], highest recall first. */
typedef struct blame_groups {
    size_t n;
    const size_t *off, *k;
    const uint32_t *ord;
} blame_groups;

/* Exact posterior by enumeration of the nv ≤ BLAME_ENUM_MAX distinct
 * prerequisites. O(2^nv · members). */
static void blame_enumerate(blame_var *v, size_t nv, const blame_groups *gr, double kappa,
                            double p0)
{
    double pf = 0, num[BLAME_ENUM_MAX] = {0};
    for (uint32_t s = 0; s < (1u << nv); s++) {
        double pr = 1, x = 0;
        for (size_t j = 0; j < nv; j++)
            pr *= s >> j & 1 ? v[j].p : 1.0 - v[j].p;
        for (size_t q = 0; q < gr->n; q++) {
            size_t need = gr->k[q];
            double got = 0;
            for (size_t t = gr->off[q]; t < gr->off[q + 1] && need; t++)
                if (s >> gr->ord[t] & 1) {
                    got += v[gr->ord[t]].r;
                    need--;
                }
            x += (double)gr->k[q] - got;
        }
        double like = pr * (1.0 - p0 * exp(-kappa * x));
        pf += like;
        for (size_t j = 0; j < nv; j++)
            if (s >> j & 1)
                num[j] += like;
    }
    for (size_t j = 0; j < nv; j++)
        v[j].post = pf > 0 ? num[j] / pf : v[j].p;
}

/* Posterior of the nv distinct prerequisites v of a lesson that failed
 * (groups gr; `repeats`: some member is in two groups). d: scratch of
 * 3·(groups + 1) + largest k + 1. */
static void blame_lesson(blame_var *v, size_t nv, const blame_groups *gr, int repeats,
                         double kappa, double p0, double *d)
{
    if (repeats && nv <= BLAME_ENUM_MAX) {
        blame_enumerate(v, nv, gr, kappa, p0);
        return;
    }
    /* e[q]: E of group q; pre[q]: Π E of the groups before q; suf[q]: from q on */
    double *e = d, *pre = e + gr->n + 1, *suf = pre + gr->n + 1, *scratch = suf + gr->n + 1;
    pre[0] = 1;
    for (size_t q = 0; q < gr->n; q++) {
        e[q] = group_mgf(v, gr->ord + gr->off[q], gr->off[q + 1] - gr->off[q], gr->k[q], kappa,
                         SIZE_MAX, scratch);
        pre[q + 1] = pre[q] * e[q];
    }
    suf[gr->n] = 1;
    for (size_t q = gr->n; q-- > 0;)
        suf[q] = suf[q + 1] * e[q];
    double pf = 1.0 - p0 * pre[gr->n];
    for (size_t j = 0; j < nv; j++)
        v[j].post = v[j].p;
    for (size_t q = 0; q < gr->n; q++) {
        size_t n = gr->off[q + 1] - gr->off[q];
        double rest = pre[q] * suf[q + 1];
        for (size_t t = 0; t < n; t++) {
            blame_var *b = &v[gr->ord[gr->off[q] + t]];
            double plus = group_mgf(v, gr->ord + gr->off[q], n, gr->k[q], kappa, t, scratch);
            double post = b->p * (1.0 - p0 * plus * rest) / pf;
            if (post < b->post)
                b->post = post;
        }
    }
}

/* Prerequisite b->concept as of time `at` (a failure): its learner record
 * when it has no event since, else its state replayed from its events
 * before `at`; a concept never studied has its BKT prior. */
static void blame_prior(const learner_impl *li, const blame_src *src, blame_var *b, int64_t at)
{
    size_t pos;
    const kgp_learner_concept *c = find_pos(&li->l, b->concept, &pos);
    b->pos = SIZE_MAX;
    b->r = 1;
    if (c && c->last < at) {
        b->pos = pos;
        b->p = c->p_learned < li->doubt[pos] ? c->p_learned : li->doubt[pos];
        if (li->cards[pos].reps)
            b->r = kgn_fsrs_card_r(li->w, &li->cards[pos], at);
        return;
    }
    if (c) {
        const ev_range *rg = &src->rg[pos];
        kgn_concept_state cs;
        kgn_concept_state_init(&cs, &rg->p);
        for (size_t q = rg->lo; q < rg->hi && src->ev[src->idx[q]].at < at; q++)
            kgn_concept_state_apply(&cs, &rg->p, li->w, &src->ev[src->idx[q]], rg->expected_s);
        b->p = cs.p_learned;
        if (cs.card.reps)
            b->r = kgn_fsrs_card_r(li->w, &cs.card, at);
        return;
    }
    const fitted *f = fit_find(src->fl, li->g->key[b->concept]);
    b->p = f && f->bkt ? f->p.prior : li->bkt.prior;
}

static int cmp_failed(const void *a, const void *b, void *ctx)
{
    const int64_t *failed = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (failed[i] != failed[j])
        return failed[i] < failed[j] ? -1 : 1;
    return i < j ? -1 : i > j;
}

static int cmp_recall_desc(const void *a, const void *b, void *ctx)
{
    const blame_var *v = ctx;
    double x = v[*(const uint32_t *)a].r, y = v[*(const uint32_t *)b].r;
    return x > y ? -1 : x < y;
}

/* A lesson that failed while its prerequisites looked known is evidence
 * that one of them is not: each failed lesson (the last attempt of a
 * concept, a reading then a wrong quiz) updates the P(learned) of its
 * prerequisites studied before it jointly (see "blame after a failed
 * lesson" above; prerequisite strength p0, κ from `kgpath fit`, before a
 * fit 0.9 and ln 18: a lesson fails with 0.1 with its prerequisites, 0.95
 * with one missing). Failed lessons are taken in time order, each one's
 * posterior the prior of the next (a prerequisite shared by two failed
 * lessons is doubted by both, each weighed with what else could explain
 * it). Repeated failed attempts of one lesson count once: they are not
 * independent evidence (counting each made the plans check more and reach
 * fewer goals per hour, README "fourth round"). The review decision then
 * uses the posterior (li->doubt) in place of P(learned) when lower, so a
 * doubted prerequisite is checked before the lesson is tried again; once
 * studied after the failure the doubt is gone. Returns -1 when out of
 * memory. O(F·(Σ_g n_g²·k_g + K·(log V + E_K))) for F failed lessons with
 * groups of n_g members needing k_g, K distinct prerequisites and E_K the
 * events of those studied since; O(F·2^K·Σ_g n_g) for a lesson with a
 * member in two groups and K ≤ 16. */
static int doubt_prerequisites(learner_impl *li, const blame_src *src)
{
    const kgg_snap *g = li->g;
    kgp_learner *l = &li->l;
    for (size_t i = 0; i < l->nconcepts; i++)
        l->concepts[i].p_blamed = l->concepts[i].p_learned;
    if (!g)
        return 0;
    double p0 = 0.9, kappa = log(18.0);
    if (li->kappa >= 0) {
        p0 = li->p0;
        kappa = li->kappa;
    }
    if (!(p0 <= 0.95))          /* a lesson fails with ≥ 0.05 whatever is known */
        p0 = 0.95;
    if (!(p0 >= 0))
        p0 = 0;
    if (!(kappa >= 0))
        kappa = 0;
    size_t nf = 0, cap = 0, ngcap = 0;
    size_t *fo = kg_malloc(sizeof *fo * (l->nconcepts + 1));
    if (!fo)
        return -1;
    for (size_t i = 0; i < l->nconcepts; i++) {
        uint32_t d = l->concepts[i].index;
        if (!li->failed[i] || d == KGP_NONE)
            continue;
        fo[nf++] = i;
        size_t nm = g->mem_off[g->grp_off[d + 1]] - g->mem_off[g->grp_off[d]];
        size_t ng = g->grp_off[d + 1] - g->grp_off[d];
        if (nm > cap)
            cap = nm;
        if (ng > ngcap)
            ngcap = ng;
    }
    qsort_r(fo, nf, sizeof *fo, cmp_failed, li->failed);
    blame_var *v = kg_malloc(sizeof *v * (cap + 1));
    uint32_t *ord = kg_malloc(sizeof *ord * (cap + 1));
    size_t *off = kg_malloc(sizeof *off * (ngcap + 1)), *kk = kg_malloc(sizeof *kk * (ngcap + 1));
    double *d = kg_malloc(sizeof *d * (cap + 2 + 3 * (ngcap + 1)));
    int rc = v && ord && off && kk && d ? 0 : -1;
    for (size_t f = 0; rc == 0 && f < nf; f++) {
        uint32_t x = l->concepts[fo[f]].index;
        int64_t at = li->failed[fo[f]];
        size_t nv = 0, ng = 0, nord = 0;
        int repeats = 0;
        for (uint32_t q = g->grp_off[x]; q < g->grp_off[x + 1]; q++) {
            size_t k = g->grp_k[q], first = nord;
            for (uint32_t j = g->mem_off[q]; j < g->mem_off[q + 1]; j++) {
                size_t u = 0;
                while (u < nv && v[u].concept != g->mem[j])
                    u++;
                if (u == nv) {
                    v[nv].concept = g->mem[j];
                    blame_prior(li, src, &v[nv++], at);
                } else {
                    repeats = 1;
                }
                ord[nord++] = (uint32_t)u;
            }
            if (nord == first || k == 0) {
                nord = first;   /* nothing in the graph to blame, or nothing needed */
                continue;
            }
            qsort_r(ord + first, nord - first, sizeof *ord, cmp_recall_desc, v);
            off[ng] = first;
            kk[ng++] = k < nord - first ? k : nord - first;
            off[ng] = nord;
        }
        if (!nv || !ng)
            continue;
        blame_groups gr = { ng, off, kk, ord };
        blame_lesson(v, nv, &gr, repeats, kappa, p0, d);
        for (size_t u = 0; u < nv; u++)
            if (v[u].pos != SIZE_MAX)
                li->doubt[v[u].pos] = v[u].post;
    }
    for (size_t i = 0; i < l->nconcepts; i++) {
        kgp_learner_concept *c = &l->concepts[i];
        c->p_blamed = li->doubt[i] < c->p_learned ? li->doubt[i] : c->p_learned;
    }
    kg_free(fo);
    kg_free(v);
    kg_free(ord);
    kg_free(off);
    kg_free(kk);
    kg_free(d);
    return rc;
}

/* A failed review of a concept that was mastered (P(learned) ≥ mastery
 * before it) is a lapse of memory, not evidence that it was never learned:
 * the failed review's minutes include relearning it (kgpath fit's failed
 * review minutes, the default `fail` rule), and FSRS's post-lapse
 * stability says when it needs the next review. So the concept stays known
 * with its P(learned) from before the review, instead of being taught
 * again in full (in tools/sim/cli_sim.py 9 of 26 lessons of concepts the
 * learner knew came right after a recalled-again-then-failed review). The
 * exception is a check: a review that followed a failed lesson of a
 * dependent (since the concept's previous study) tested a doubted
 * prerequisite, and its failure says the prerequisite is missing: taught.
 * Returns -1 when out of memory. O(failed lessons × requirements × log V
 * + concepts). */
static int resolve_lapses(learner_impl *li, const char *day)
{
    const kgg_snap *g = li->g;
    kgp_learner *l = &li->l;
    for (size_t i = 0; g && i < l->nconcepts; i++) {
        uint32_t d = l->concepts[i].index;
        if (!li->failed[i] || d == KGP_NONE)
            continue;
        for (uint32_t q = g->grp_off[d]; q < g->grp_off[d + 1]; q++)
            for (uint32_t j = g->mem_off[q]; j < g->mem_off[q + 1]; j++) {
                size_t pos;
                const kgp_learner_concept *m = find_pos(l, g->mem[j], &pos);
                if (m && li->lapse[pos] > 0 && li->lapse[pos] < li->failed[i] &&
                    li->failed[i] <= m->last)
                    li->lapse[pos] = -1;        /* a check that failed */
            }
    }
    for (size_t pos = 0; pos < l->nconcepts; pos++) {
        if (li->lapse[pos] <= 0)
            continue;
        kgp_learner_concept *c = &l->concepts[pos];
        l->count[c->status]--;
        c->p_learned = li->lapse_p[pos];
        c->status = c->retrievability < l->retention ? KGP_FADING : KGP_MASTERED;
        l->count[c->status]++;
        if (c->status == KGP_FADING &&
            !(li->why[pos] = kg_arena_printf(li->a, "retrievability %.2f on %s after a lapse",
                                             c->retrievability, day)))
            return -1;
    }
    return 0;
}

/* Recalled and failed review minutes of graph concept `concept` for the
 * learner: its own record, else the fit's record of the concept, else the
 * default rule on the graph's minutes. */
static void concept_costs(const learner_impl *li, uint32_t concept, double *ok, double *fail)
{
    size_t pos;
    if (find_pos(&li->l, concept, &pos)) {
        *ok = li->rev_ok[pos];
        *fail = li->rev_fail[pos];
        return;
    }
    double m = li->g && concept < li->g->n ? li->g->minutes[concept] : -1;
    const fitted *f = NULL;
    if (li->g && concept < li->g->n) {
        fit_load fl = { .v = li->fit, .n = li->nfit };
        f = fit_find(&fl, li->g->key[concept]);
    }
    if (f && f->minutes > 0)
        m = f->minutes;
    review_costs(m, f ? f->review_ok : -1, f ? f->review_fail : -1, ok, fail);
}

uint32_t kgp_learner_review_worst(void *ud, uint32_t concept)
{
    double ok, fail;
    concept_costs(ud, concept, &ok, &fail);
    return expected_minutes(0, ok, fail);
}

int kgp_learner_review(void *ud, uint32_t concept, uint32_t *minutes, const char **why)
{
    const learner_impl *li = ud;
    size_t pos;
    const kgp_learner_concept *c = find_pos(&li->l, concept, &pos);
    if (!c || !li->why[pos])
        return 0;
    *minutes = expected_minutes(c->retrievability, li->rev_ok[pos], li->rev_fail[pos]);
    *why = li->why[pos];
    return 1;
}

/* The review decision for a card on `day` (see kgpath_learner.h): fills
 * *minutes (stake on entry) and *why (per-thread buffer) and returns 1 when
 * the review pays for itself. `studied`: the in-plan study day it is
 * counted from, KGP_NO_DAY for the learner's record. */
static int decide(const learner_impl *li, const kgn_fsrs_card *card, double pl, double ok,
                  double fail, int32_t studied, int32_t day, uint32_t *minutes, const char **why)
{
    /* The planner copies the reason: a per-thread buffer keeps one learner
     * usable by many planning threads at once. */
    static _Thread_local char buf[256];
    uint32_t stake = *minutes;
    int64_t t = (int64_t)day * 86400;
    /* recall: retrievability, times P(learned) when mastery is uncertain */
    double rr = kgn_fsrs_card_r(li->w, card, t), r = pl * rr;
    char d[16], sd[64] = "", un[48] = "";
    if (pl < 1)
        snprintf(un, sizeof un, "mastery uncertain (P(learned) %.2f): ", pl);
    fmt_day(t, d, sizeof d);
    if (studied != KGP_NO_DAY) {
        char s0[16];
        fmt_day((int64_t)studied * 86400, s0, sizeof s0);
        snprintf(sd, sizeof sd, ", %d days after studying it on %s", day - studied, s0);
    }
    if (stake == 0) {
        /* no lesson at stake (a goal already known): the retention target */
        if (r >= li->l.retention)
            return 0;
        snprintf(buf, sizeof buf, "%sretrievability %.2f on %s%s", un, r, d, sd);
    } else {
        /* Cost against value. Unreviewed, the concept is forgotten with
         * probability 1 - r; then the lesson that needs it is wasted
         * (`stake` minutes) and the concept must be relearned anyway (the
         * failed review's minutes). Reviewed, it costs r·ok + (1-r)·fail.
         * So the review pays iff (1 - r)·stake > r·ok: the expected loss
         * it prevents exceeds the minutes it spends on a concept that was
         * still recalled. No review while recall is high. With uncertain
         * mastery the review is a check, and a check of a concept never
         * learned (1 - pl) fails and teaches nothing (the concept is
         * taught after it): its `fail` minutes are spent too. Without
         * them, checks of concepts one wrong quiz in two made doubtful,
         * each a failed review as long as a lesson when reviews are dear,
         * cost more than they saved (tools/sim/cli_sim.py, "review cost
         * x2"); where a check costs more than teaching the concept again,
         * kgp_learner_known has it taught instead. */
        double loss = (1.0 - r) * stake, spent = r * ok + (1.0 - pl) * fail;
        /* fitted prerequisite strength: a lesson succeeds with p0·e^(−κ·x),
         * x the prerequisites' recall shortfall, so bringing this one from
         * recall rr to 1 saves stake·p0·(1 − e^(−κ(1−rr))). Uncertain
         * mastery is a mixture, not a lower recall: learned (pl) with
         * recall rr, or missing (1 − pl, shortfall 1), so the saving is
         * averaged over the two — evaluating the concave curve at the mean
         * recall pl·rr overstated it (2.5× at pl 0.84, κ 3) and checked
         * prerequisites that were there after every failed lesson. */
        if (li->kappa >= 0)
            loss = stake * li->p0 * (pl * (1.0 - exp(-li->kappa * (1.0 - rr))) +
                                     (1.0 - pl) * (1.0 - exp(-li->kappa)));
        if (loss <= spent)
            return 0;
        snprintf(buf, sizeof buf, "%sretrievability %.2f on %s%s: %.0f min expected loss on "
                 "the %u-min lesson > %.0f min spent on a %s", un, r, d, sd, loss, stake, spent,
                 pl < 1 ? "check (recalled, or failed where never learned)" : "recalled review");
    }
    *minutes = expected_minutes(r, ok, fail);
    *why = buf;
    return 1;
}

int kgp_learner_review_at(void *ud, uint32_t concept, int32_t day, uint32_t *minutes,
                          const char **why)
{
    const learner_impl *li = ud;
    if (day == KGP_NO_DAY)
        return kgp_learner_review(ud, concept, minutes, why);
    size_t pos;
    const kgp_learner_concept *c = find_pos(&li->l, concept, &pos);
    if (!c)
        return 0;
    if (c->status == KGP_LEARNING && !li->why[pos])
        return 0;               /* not counted as known: taught, not reviewed */
    if (!li->cards[pos].reps)
        return 0;
    double pl = plan_p_learned(li, pos);
    return decide(li, &li->cards[pos], pl, li->rev_ok[pos], li->rev_fail[pos], KGP_NO_DAY,
                  day, minutes, why);
}

int kgp_learner_review_after(void *ud, uint32_t concept, int32_t studied, int32_t day,
                             uint32_t *minutes, const char **why)
{
    const learner_impl *li = ud;
    size_t pos;
    kgn_fsrs_card card = {0};
    if (find_pos(&li->l, concept, &pos) && li->cards[pos].reps)
        card = li->cards[pos];
    /* studied at noon UTC that day, "good" (as kgp_learner_spaced) */
    kgn_fsrs_review(li->w, &card, KGN_GOOD, (int64_t)studied * 86400 + 43200);
    double ok, fail;
    concept_costs(li, concept, &ok, &fail);
    return decide(li, &card, 1.0, ok, fail, studied, day, minutes, why);
}

size_t kgp_learner_spaced(void *ud, uint32_t concept, int32_t day, int32_t *days,
                          double *r, size_t max, uint32_t *minutes)
{
    const learner_impl *li = ud;
    size_t pos, k = 0;
    kgn_fsrs_card card = {0};
    const kgp_learner_concept *c = find_pos(&li->l, concept, &pos);
    if (c && li->cards[pos].reps)
        card = li->cards[pos];
    double ok, fail;
    concept_costs(li, concept, &ok, &fail);
    /* due at the retention target: the expected minutes at that recall */
    *minutes = expected_minutes(li->l.retention, ok, fail);
    /* studied at noon UTC that day, "good"; each review on time and "good" */
    kgn_fsrs_review(li->w, &card, KGN_GOOD, (int64_t)day * 86400 + 43200);
    while (k < max) {
        int ivl = kgn_fsrs_interval_days(li->w, card.stability, li->l.retention, 36500);
        int64_t next = card.last + (int64_t)ivl * 86400;
        int32_t nd = (int32_t)(next / 86400);
        if (nd <= (k ? days[k - 1] : day))
            nd = (k ? days[k - 1] : day) + 1;
        days[k] = nd;
        r[k] = kgn_fsrs_card_r(li->w, &card, (int64_t)nd * 86400 + 43200);
        kgn_fsrs_review(li->w, &card, KGN_GOOD, (int64_t)nd * 86400 + 43200);
        k++;
        if (ivl >= 36500)
            break;
    }
    return k;
}

kgp_status kgp_learner_reviews(const kgp_learner *l, kgp_snap *snap,
                               const uint32_t *concepts, const int32_t *learn_day,
                               size_t n, int32_t horizon_days,
                               kgp_review_item **out, size_t *nout)
{
    const kgg_snap *g = snap ? kgp__snap_graph(snap) : NULL;
    *out = NULL;
    *nout = 0;
    size_t cap = 0;
    int32_t end = INT32_MIN;
    for (size_t i = 0; i < n; i++) {
        if (g && concepts[i] >= g->n)
            return KGP_EUSAGE;
        if (learn_day[i] > end)
            end = learn_day[i];
    }
    end = end > INT32_MAX - horizon_days ? INT32_MAX : end + horizon_days;
    const learner_impl *li = (const learner_impl *)l;
    for (size_t i = 0; i < n; i++) {
        size_t pos;
        kgn_fsrs_card card = {0};
        const kgp_learner_concept *c = find_pos(l, concepts[i], &pos);
        /* learned on learn_day at noon UTC ("good"); memory already there
         * counts too */
        int64_t t = (int64_t)learn_day[i] * 86400 + 43200;
        if (c && li->cards[pos].reps)
            card = li->cards[pos];
        kgn_fsrs_review(li->w, &card, KGN_GOOD, t);
        for (int guard = 0; guard < 64; guard++) {
            int ivl = kgn_fsrs_interval_days(li->w, card.stability, l->retention, 36500);
            int64_t next = card.last + (int64_t)ivl * 86400;
            int32_t day = (int32_t)(next / 86400);
            if (day > end)
                break;
            if (kg_grow(out, &cap, *nout + 1, sizeof **out)) {
                kg_free(*out);
                *out = NULL;
                *nout = 0;
                return KGP_ENOMEM;
            }
            kgp_review_item *r = &(*out)[(*nout)++];
            r->concept = concepts[i];
            fmt_day(next, r->day, sizeof r->day);
            double ok, fail;
            concept_costs(li, concepts[i], &ok, &fail);
            r->minutes = expected_minutes(l->retention, ok, fail);
            r->stability = card.stability;
            r->retrievability = kgn_fsrs_card_r(li->w, &card, next);
            kgn_fsrs_review(li->w, &card, KGN_GOOD, next);
        }
    }
    return KGP_OK;
}

void kgp_learner_reviews_free(kgp_review_item *r)
{
    kg_free(r);
}

/* ---- erasure ------------------------------------------------------------- */

kgp_status kgp_learner_forget(kgp_db *db, const char *id, uint64_t *removed)
{
    if (removed) *removed = 0;
    if (kgp__db_rdonly(db)) return kgp__db_error(db, KGP_EUSAGE, "%s: opened read-only", kgp_db_path(db));
    kgg_err e;
    kgp_status st = kgg_learner_forget(kgp__db_store(db), id, removed, &e);
    return st ? kgp__db_error(db, st, "%s", e.msg) : KGP_OK;
}

/* ---- xAPI statement ids ---------------------------------------------------- */

#include "graph/store_stmt.h"

kgp_status kgp_statement_ids(kgp_db *db, kgp_statement_id *ids, size_t n, int record)
{
    kgg_stmt buf[64];
    kgg_stmt *s = n <= 64 ? buf : malloc(n * sizeof *s);
    if (!s) return kgp__db_error(db, KGP_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        memcpy(s[i].id, ids[i].id, 16);
        s[i].hash = ids[i].hash;
        s[i].outcome = 0;
    }
    kgg_err e;
    kgp_status st = (record && kgp__db_rdonly(db)) ? KGP_EUSAGE
                                                   : kgg_stmt_record(kgp__db_store(db), s, n, record, &e);
    if (st == KGP_EUSAGE) snprintf(e.msg, sizeof e.msg, "%s: opened read-only", kgp_db_path(db));
    for (size_t i = 0; i < n; i++) ids[i].outcome = s[i].outcome;
    if (s != buf) free(s);
    return st ? kgp__db_error(db, st, "%s", e.msg) : KGP_OK;
}
