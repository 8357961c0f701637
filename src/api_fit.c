/* Fitting the learner models from the stored events (kgpath_learner.h):
 * kgp_fit in its three steps (read, compute, store), whether a fit is due,
 * and the fit's report. The learner state, observe and the rest of the
 * learner API are api_learner.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kgpath.h"
#include "api_internal.h"
#include "api_learner_internal.h"
#include "base/alloc.h"
#include "graph/learner_store.h"
#include "graph/store.h"
#include "planner/learner_bkt.h"
#include "planner/learner_fit.h"
#include "planner/learner_fsrs.h"
#include "planner/learner_fsrs_fit.h"

/* kgp_fit's record of the data behind it: events, flags (kgp_fit_due) */
#define FIT_EVENTS_NAME "fit-events"

/* ---- fit ------------------------------------------------------------------------ */

typedef struct fit_impl {
    kgp_fit_report r;
    kgn_fit_result res;
    kg_arena *a;
    /* what kgp_fit_store writes (in the arena) */
    kgg_fit_rec *recs;          /* [res.n] */
    kgg_fsrs_rec *frecs;
    size_t nfrecs;
    int flags;                  /* KGP_FIT_PER_LEARNER, recorded with the count */
    int computed;               /* 1: made by kgp_fit_compute */
} fit_impl;

typedef struct all_load {
    kgg_event *v;
    size_t n, cap;
    size_t learners;
    const char *prev;
    kg_arena *a;
    int oom;
} all_load;

static int all_fn(void *ud, const kgg_event *e)
{
    all_load *x = ud;
    if (kg_grow(&x->v, &x->cap, x->n + 1, sizeof *x->v)) {
        x->oom = 1;
        return 1;
    }
    kgg_event *d = &x->v[x->n];
    *d = *e;
    /* events come by learner: intern the learner id once per run */
    if (!x->prev || strcmp(x->prev, e->learner) != 0) {
        x->prev = kg_arena_strdup(x->a, e->learner);
        x->learners++;
    }
    d->learner = x->prev;
    d->concept = kg_arena_strdup(x->a, e->concept);
    if (!d->learner || !d->concept) {
        x->oom = 1;
        return 1;
    }
    x->n++;
    return 0;
}

static int cmp_card(const void *a, const void *b, void *ctx)
{
    const all_load *x = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(x->v[i].learner, x->v[j].learner);
    if (!c)
        c = strcmp(x->v[i].concept, x->v[j].concept);
    return c ? c : i < j ? -1 : i > j;     /* stored order is time order */
}

/* FSRS-6 weights of the population (and per learner with KGP_FIT_PER_LEARNER)
 * from the graded events of al: one card per (learner, concept). 0 or -1
 * (out of memory); *recs and *nrecs: the weight vectors to store. */
static int fit_fsrs(const all_load *al, unsigned flags, kgp_fit_report *r, kg_arena *a,
                    kgg_fsrs_rec **recs, size_t *nrecs)
{
    size_t *idx = kg_malloc(sizeof *idx * (al->n + 1));
    int64_t *t = kg_malloc(sizeof *t * (al->n + 1));
    uint8_t *g = kg_malloc(al->n + 1), *train = NULL, *test = NULL, *held = NULL;
    uint8_t *skip = kg_malloc(al->n + 1);   /* replayed, no sample (fsrs_fit.h) */
    kgn_fsrs_eval ev[3] = {{0}, {0}, {0}};   /* own, population's, defaults */
    uint32_t *off = kg_malloc(sizeof *off * (al->n + 2));
    const char **who = kg_malloc(sizeof *who * (al->n + 1));
    int rc = -1;
    *recs = NULL;
    *nrecs = 0;
    memcpy(r->fsrs_w, kgn_fsrs_default_w, sizeof r->fsrs_w);
    if (!idx || !t || !g || !skip || !off || !who)
        goto out;
    size_t m = 0;
    for (size_t i = 0; i < al->n; i++)
        if (kgn_event_fsrs_grade(&al->v[i]))
            idx[m++] = i;
    qsort_r(idx, m, sizeof *idx, cmp_card, (void *)al);
    uint32_t nc = 0;
    for (size_t k = 0; k < m; k++) {
        const kgg_event *e = &al->v[idx[k]];
        if (k == 0 || strcmp(e->learner, al->v[idx[k - 1]].learner) ||
            strcmp(e->concept, al->v[idx[k - 1]].concept)) {
            off[nc] = (uint32_t)k;
            who[nc++] = e->learner;
        }
        t[k] = e->at;
        g[k] = (uint8_t)kgn_event_fsrs_grade(e);
        /* a reading tests no recall: as "recalled" it taught the fit that
         * a lesson read again days later (after it failed) is remembered */
        skip[k] = e->kind == KGG_EV_READ;
    }
    off[nc] = (uint32_t)m;
    if (!(train = kg_malloc(nc + 1)) || !(test = kg_malloc(nc + 1)))
        goto out;
    for (uint32_t q = 0; q < nc; q++) {
        test[q] = (uint8_t)kgn_fit_is_holdout(who[q]);
        train[q] = !test[q];
    }
    kgn_fsrs_log lg = { t, g, off, nc, skip };
    double w[KGN_FSRS_NW];
    if (kgn_fsrs_fit(&lg, train, NULL, w, &r->fsrs_train))
        goto out;
    kgn_fsrs_metrics mf, md;
    if (kgn_fsrs_evaluate(w, &lg, test, &mf) || kgn_fsrs_evaluate(kgn_fsrs_default_w, &lg, test, &md))
        goto out;
    r->fsrs_test = mf.n;
    r->fsrs_logloss_fit = mf.logloss;
    r->fsrs_rmse_fit = mf.rmse_bins;
    r->fsrs_logloss_default = md.logloss;
    r->fsrs_rmse_default = md.rmse_bins;
    rc = 0;
    if (r->fsrs_train < 64)
        goto out;           /* too little data: the defaults stay */
    r->fsrs_fitted = 1;
    memcpy(r->fsrs_w, w, sizeof w);
    size_t cap = 1 + ((flags & KGP_FIT_PER_LEARNER) ? nc : 0);
    if (!(*recs = kg_arena_calloc(a, sizeof **recs * cap))) {
        rc = -1;
        goto out;
    }
    (*recs)[0].learner = NULL;
    memcpy((*recs)[0].w, w, sizeof w);
    *nrecs = 1;
    if (!(flags & KGP_FIT_PER_LEARNER))
        goto out;
    /* Per learner: all of the learner's cards (held out or not), the
     * population's weights as start and prior centre (shrinkage, γ 10:
     * no loss where learners differ little, a gain where they differ; see
     * README Fitting), one free factor on the first stabilities
     * (learner_fsrs_fit.h: a learner's log is too small for 21 weights). A
     * held-out learner (never seen by the population's fit) is first
     * judged: fitted the same way on four in five of the cards, scored on
     * the fifth beside the population's weights and the defaults. */
    uint8_t *mine = train;
    if (!(held = kg_malloc(nc + 1))) {
        rc = -1;
        goto out;
    }
    static const uint8_t first_s[KGN_FSRS_NW] = {1, 1, 1, 1};
    kgn_fsrs_fit_options o = { .iterations = 100, .start = r->fsrs_w, .centre = r->fsrs_w,
                               .free_w = first_s, .tie_first = 1, .gamma = 10 };
    for (uint32_t q = 0; q < nc;) {
        uint32_t q2 = q;
        while (q2 < nc && !strcmp(who[q2], who[q]))
            q2++;
        uint64_t ns = 0;
        if (test[q]) {
            for (uint32_t k = 0; k < nc; k++) {
                held[k] = k >= q && k < q2 && (k - q) % 5 == 4;
                mine[k] = k >= q && k < q2 && !held[k];
            }
            double wl[KGN_FSRS_NW];
            if (kgn_fsrs_fit(&lg, mine, &o, wl, &ns)) {
                rc = -1;
                goto out;
            }
            if (ns >= 64) {
                if (kgn_fsrs_eval_add(&ev[0], wl, &lg, held) ||
                    kgn_fsrs_eval_add(&ev[1], r->fsrs_w, &lg, held) ||
                    kgn_fsrs_eval_add(&ev[2], kgn_fsrs_default_w, &lg, held)) {
                    rc = -1;
                    goto out;
                }
                r->fsrs_pl_learners++;
            }
        }
        for (uint32_t k = 0; k < nc; k++)
            mine[k] = k >= q && k < q2;
        if (kgn_fsrs_fit(&lg, mine, &o, (*recs)[*nrecs].w, &ns)) {
            rc = -1;
            goto out;
        }
        if (ns >= 64) {
            (*recs)[*nrecs].learner = who[q];
            ++*nrecs;
            r->fsrs_learners++;
        }
        q = q2;
    }
    kgn_fsrs_metrics pm[3];
    for (int k = 0; k < 3; k++)
        kgn_fsrs_eval_metrics(&ev[k], &pm[k]);
    r->fsrs_pl_test = pm[0].n;
    r->fsrs_pl_logloss_own = pm[0].logloss;
    r->fsrs_pl_logloss_population = pm[1].logloss;
    r->fsrs_pl_logloss_default = pm[2].logloss;
    r->fsrs_pl_rmse_own = pm[0].rmse_bins;
    r->fsrs_pl_rmse_population = pm[1].rmse_bins;
    r->fsrs_pl_rmse_default = pm[2].rmse_bins;
out:
    for (int k = 0; k < 3; k++)
        kgn_fsrs_eval_free(&ev[k]);
    kg_free(held);
    kg_free(idx);
    kg_free(t);
    kg_free(g);
    kg_free(skip);
    kg_free(off);
    kg_free(who);
    kg_free(train);
    kg_free(test);
    return rc;
}

/* Prerequisite strength (planner/learner_fit.h kgn_fit_strength) from the
 * lessons in al: a reading of a concept with requirements, its outcome the
 * first quiz or review of it within a day after, x the shortfall of its
 * prerequisites' recall at that moment (each learner's FSRS cards replayed
 * in time order with weights w; never studied: recall 0). 0 or -1 (out of
 * memory). O(N log V + lessons × requirements). */
#define STRENGTH_MIN_LESSONS 50
static int fit_strength(const all_load *al, const kgg_snap *g, const double *w,
                        const kgn_bkt_params *bkt, kgp_fit_report *r)
{
    r->prereq_kappa = -1;
    if (!g || g->n == 0 || al->n == 0)
        return 0;
    kgn_fsrs_card *cards = kg_calloc(g->n, sizeof *cards);
    uint32_t *touched = kg_malloc(sizeof *touched * g->n);
    uint32_t *ix = kg_malloc(sizeof *ix * al->n);
    double *xs = kg_malloc(sizeof *xs * al->n), *rs = kg_malloc(sizeof *rs * (g->n + 1));
    uint8_t *ys = kg_malloc(al->n);
    int rc = -1;
    size_t nt = 0, nl = 0;
    if (!cards || !touched || !ix || !xs || !rs || !ys)
        goto out;
    for (size_t i = 0; i < al->n; i++)
        ix[i] = kgg_snap_find_key(g, al->v[i].concept);
    for (size_t i = 0; i < al->n; i++) {
        const kgg_event *e = &al->v[i];
        if (i == 0 || e->learner != al->v[i - 1].learner) {  /* interned per learner */
            for (size_t k = 0; k < nt; k++)
                cards[touched[k]] = (kgn_fsrs_card){0};
            nt = 0;
        }
        uint32_t c = ix[i];
        if (c == KGG_NONE)
            continue;
        if (e->kind == KGG_EV_READ && g->grp_off[c] < g->grp_off[c + 1]) {
            int y = -1;
            for (size_t j = i + 1; j < al->n && al->v[j].learner == e->learner &&
                                   al->v[j].at <= e->at + 86400 && y < 0; j++)
                if (ix[j] == c)
                    y = kgn_event_outcome(&al->v[j]);
            if (y >= 0) {
                double x = 0;
                for (uint32_t q = g->grp_off[c]; q < g->grp_off[c + 1]; q++) {
                    uint32_t nm = 0;
                    for (uint32_t j = g->mem_off[q]; j < g->mem_off[q + 1]; j++) {
                        uint32_t m = g->mem[j];
                        rs[nm++] = cards[m].reps ? kgn_fsrs_card_r(w, &cards[m], e->at) : 0;
                    }
                    /* the k best recalls of the group */
                    uint32_t k = g->grp_k[q] < nm ? g->grp_k[q] : nm;
                    for (uint32_t a = 0; a < k; a++) {
                        uint32_t best = a;
                        for (uint32_t b = a + 1; b < nm; b++)
                            if (rs[b] > rs[best]) best = b;
                        double t = rs[a]; rs[a] = rs[best]; rs[best] = t;
                        x += 1.0 - rs[a];
                    }
                    x += g->grp_k[q] - k;
                }
                xs[nl] = x;
                ys[nl++] = (uint8_t)y;
            }
        }
        int gr = kgn_event_fsrs_grade(e);
        if (gr) {
            if (!cards[c].reps)
                touched[nt++] = c;
            kgn_fsrs_review(w, &cards[c], gr, e->at);
        }
    }
    kgn_strength fs;
    /* the quiz after the lesson as BKT sees it: the population's guess and
     * slip (the defaults' slip of 0.03 reads every slip as a failed lesson
     * and attenuates kappa) */
    kgn_fit_strength(xs, ys, nl, bkt->guess, bkt->slip, &fs);
    r->prereq_lessons = nl;
    if (nl >= STRENGTH_MIN_LESSONS) {
        r->prereq_kappa = fs.kappa;
        r->prereq_p0 = fs.p0;
        r->prereq_ll = fs.ll;
        r->prereq_ll0 = fs.ll0;
    }
    rc = 0;
out:
    kg_free(cards);
    kg_free(touched);
    kg_free(ix);
    kg_free(xs);
    kg_free(rs);
    kg_free(ys);
    return rc;
}

void kgp_fit_report_free(kgp_fit_report *r)
{
    if (!r)
        return;
    fit_impl *f = (fit_impl *)r;
    kgn_fit_result_free(&f->res);
    kg_arena_free(f->a);
    kg_free(f);
}

/* Lesson minutes of a concept key in the snapshot (authored, or the last
 * calibration); -1 when not in it. */
static double snap_minutes(void *ud, const char *key)
{
    const kgg_snap *g = ud;
    uint32_t x = g ? kgg_snap_find_key(g, key) : KGG_NONE;
    return x == KGG_NONE ? -1 : g->minutes[x];
}

/* What kgp_fit_read read, for kgp_fit_compute: the events (strings in the
 * fit's arena, which the report inherits) and the graph. */
struct kgp_fit_input {
    kgp_db *db;                 /* for error messages only */
    int flags;
    kgp_snap *snap;             /* the caller's: annotates the report */
    kgp_snap *own;              /* else one of its own, detached (or NULL: no graph) */
    fit_impl *f;
    all_load al;
};

void kgp_fit_input_free(kgp_fit_input *in)
{
    if (!in)
        return;
    kgp_snap_close(in->own);
    kg_free(in->al.v);
    kgp_fit_report_free(in->f ? &in->f->r : NULL);
    kg_free(in);
}

kgp_status kgp_fit_read(kgp_db *db, kgp_snap *snap, int flags, kgp_fit_input **out)
{
    *out = NULL;
    kgp_fit_input *in = kg_calloc(1, sizeof *in);
    fit_impl *f = in ? kg_calloc(1, sizeof *f) : NULL;
    if (!f || !(f->a = kg_arena_new())) {
        kg_free(f);
        kg_free(in);
        return kgp__db_error(db, KGP_ENOMEM, "out of memory");
    }
    in->db = db;
    in->flags = flags;
    in->snap = snap;
    in->f = f;
    in->al.a = f->a;
    kgg_err e;
    kgp_status s = kgg_events_all(kgp__db_store(db), all_fn, &in->al, &e);
    if (s == KGP_OK && in->al.oom)
        s = kgp__db_error(db, KGP_ENOMEM, "out of memory");
    else if (s != KGP_OK)
        kgp__db_error(db, s, "%s", e.msg);
    else if (in->al.n == 0)
        s = kgp__db_error(db, KGP_ENOTFOUND, "no learner events in the database "
                          "(kgpath observe FILE)");
    /* the graph's lesson minutes scale the population's review times;
     * copied out of LMDB's map, so the computation pins nothing */
    if (s == KGP_OK && !snap && kgp_snap_open(db, &in->own) != KGP_OK) {
        kgp_snap_close(in->own);
        in->own = NULL;         /* no graph yet: review minutes per concept only */
    }
    if (s == KGP_OK && in->own)
        s = kgp__snap_detach(in->own);
    if (s != KGP_OK) {
        kgp_fit_input_free(in);
        return s;
    }
    *out = in;
    return KGP_OK;
}

kgp_status kgp_fit_compute(kgp_fit_input *in, kgp_fit_report **out)
{
    *out = NULL;
    kgp_db *db = in->db;
    fit_impl *f = in->f;
    all_load *al = &in->al;
    const kgg_snap *lg = kgp__snap_graph(in->snap ? in->snap : in->own);
    kgn_fit_options fo;
    kgn_fit_options_init(&fo);
    fo.lesson_minutes = snap_minutes;
    fo.lesson_minutes_ud = (void *)lg;
    int frc = kgn_fit_events(al->v, al->n, &fo, &f->res);
    if (!frc)
        frc = fit_fsrs(al, (unsigned)in->flags, &f->r, f->a, &f->frecs, &f->nfrecs);
    if (!frc)
        frc = fit_strength(al, lg, f->r.fsrs_w, &f->res.pop, &f->r);
    kgp_fit_report *r = &f->r;
    r->events = al->n;
    r->learners = al->learners;
    f->flags = in->flags & KGP_FIT_PER_LEARNER;
    const kgg_snap *g = in->snap ? kgp__snap_graph(in->snap) : NULL;
    in->f = NULL;               /* the report owns it from here on */
    kgp_fit_input_free(in);
    if (frc) {
        kgp_fit_report_free(r);
        return kgp__db_error(db, KGP_ENOMEM, "out of memory");
    }
    r->nconcepts = f->res.n;
    r->concepts = kg_arena_calloc(f->a, sizeof *r->concepts * (f->res.n + 1));
    f->recs = kg_arena_calloc(f->a, sizeof *f->recs * (f->res.n + 1));
    if (!r->concepts || !f->recs) {
        kgp_fit_report_free(r);
        return kgp__db_error(db, KGP_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < f->res.n; i++) {
        const kgn_fit_concept *c = &f->res.c[i];
        kgp_fit_concept *o = &r->concepts[i];
        o->key = c->concept;
        o->index = KGP_NONE;
        o->author_minutes = -1;
        if (g) {
            uint32_t x = kgg_snap_find_key(g, c->concept);
            if (x != KGG_NONE) {
                o->index = x;
                o->author_minutes = g->minutes[x];
            }
        }
        o->fitted = c->fitted;
        o->prior = c->p.prior;
        o->learn = c->p.learn;
        o->learn_read = c->p.learn_read;
        o->guess = c->p.guess;
        o->slip = c->p.slip;
        o->forget = c->p.forget;
        o->learners = c->learners;
        o->ntrain = c->ntrain;
        o->ntest = c->ntest;
        o->ll_fit = c->ll_fit;
        o->ll_default = c->ll_default;
        o->minutes = c->minutes;
        o->ndwell = c->ndwell;
        f->recs[i] = (kgg_fit_rec){ c->concept, c->p.prior, c->p.learn, c->p.learn_read,
                                    c->p.guess, c->p.slip, c->p.forget, c->fitted,
                                    c->minutes, (uint32_t)(c->ntrain > UINT32_MAX
                                                           ? UINT32_MAX : c->ntrain),
                                    c->ndwell, c->review_ok, c->review_fail };
        o->review_ok = c->review_ok;
        o->review_fail = c->review_fail;
        o->nreview_ok = c->nreview_ok;
        o->nreview_fail = c->nreview_fail;
    }
    r->nfitted = f->res.nfitted;
    r->nminutes = f->res.nminutes;
    r->nreview_minutes = f->res.nreview_minutes;
    r->review_ratio_ok = f->res.review_ratio_ok;
    r->review_ratio_fail = f->res.review_ratio_fail;
    r->nreview_ok = f->res.nreview_ok;
    r->nreview_fail = f->res.nreview_fail;
    r->ntrain = f->res.ntrain;
    r->ntest = f->res.ntest;
    r->ll_fit = f->res.ll_fit;
    r->ll_default = f->res.ll_default;
    r->bkt_pop_fitted = f->res.pop_fitted;
    r->bkt_pop_ntrain = f->res.pop_ntrain;
    r->bkt_pop_prior = f->res.pop.prior;
    r->bkt_pop_learn = f->res.pop.learn;
    r->bkt_pop_learn_read = f->res.pop.learn_read;
    r->bkt_pop_guess = f->res.pop.guess;
    r->bkt_pop_slip = f->res.pop.slip;
    f->computed = 1;
    *out = r;
    return KGP_OK;
}

kgp_status kgp_fit_store(kgp_db *db, kgp_fit_report *r, unsigned flags)
{
    fit_impl *f = (fit_impl *)r;
    if (!r || !f->computed)
        return kgp__db_error(db, KGP_EUSAGE, "not a computed fit (kgp_fit_compute)");
    if (flags & ~KGP_FIT_STORE_NEWER)
        return kgp__db_error(db, KGP_EUSAGE, "unknown flags 0x%x", flags);
    if (kgp__db_rdonly(db))
        return kgp__db_error(db, KGP_EUSAGE, "the database is open read-only");
    const kgn_bkt_params *q = &f->res.pop;
    const double strength[3] = { r->prereq_kappa, r->prereq_p0, (double)r->prereq_lessons };
    const double pop[6] = { q->prior, q->learn, q->learn_read, q->guess, q->slip, q->forget };
    const double behind[2] = { (double)r->events, (double)f->flags };
    kgg_model_val mv[3];
    size_t nmv = 0;
    if (r->prereq_kappa >= 0)
        mv[nmv++] = (kgg_model_val){ STRENGTH_NAME, strength, 3 };
    if (f->res.pop_fitted)
        mv[nmv++] = (kgg_model_val){ BKT_POP_NAME, pop, 6 };
    mv[nmv++] = (kgg_model_val){ FIT_EVENTS_NAME, behind, 2 };
    kgg_fit_all_in in = { f->recs, f->res.n, f->frecs, f->nfrecs, mv, nmv,
                          (flags & KGP_FIT_STORE_NEWER) ? FIT_EVENTS_NAME : NULL,
                          (double)r->events };
    kgg_err e;
    kgp_status s = kgg_fit_store(kgp__db_store(db), &in, &e);
    if (s != KGP_OK)
        return kgp__db_error(db, s, "%s", e.msg);
    r->committed = 1;
    return KGP_OK;
}

kgp_status kgp_fit(kgp_db *db, kgp_snap *snap, int flags, kgp_fit_report **out)
{
    int dry_run = (flags & KGP_FIT_DRY_RUN) != 0;
    *out = NULL;
    if (!dry_run && kgp__db_rdonly(db))
        return kgp__db_error(db, KGP_EUSAGE, "the database is open read-only");
    kgp_fit_input *in;
    kgp_status s = kgp_fit_read(db, snap, flags, &in);
    if (s == KGP_OK)
        s = kgp_fit_compute(in, out);
    if (s == KGP_OK && !dry_run)
        s = kgp_fit_store(db, *out, 0);
    return s;
}

kgp_status kgp_fit_due(kgp_db *db, kgp_fit_due_info *out)
{
    memset(out, 0, sizeof *out);
    kgg_store *st = kgp__db_store(db);
    kgg_err e;
    kgp_status s = kgg_events_count(st, &out->events, &e);
    double v[2];
    int found = 0;
    if (s == KGP_OK)
        s = kgg_model_get(st, FIT_EVENTS_NAME, v, 2, &found, &e);
    if (s != KGP_OK)
        return kgp__db_error(db, s, "%s", e.msg);
    out->fitted = found;
    out->events_at_fit = found && v[0] > 0 ? (uint64_t)v[0] : 0;
    out->flags = found ? (int)v[1] & KGP_FIT_PER_LEARNER : 0;
    /* due from KGP_FIT_AUTO_MIN events, and once fitted from
     * KGP_FIT_AUTO_GROWTH times the events of that fit */
    out->due_at = KGP_FIT_AUTO_MIN;
    if (found) {
        double bar = KGP_FIT_AUTO_GROWTH * (double)out->events_at_fit;
        uint64_t n = (uint64_t)bar;
        while ((double)n < bar) n++;
        if (n > out->due_at) out->due_at = n;
    }
    out->due = out->events >= out->due_at;
    return KGP_OK;
}

kgp_status kgp_fit_if_due(kgp_db *db, kgp_fit_due_info *due, kgp_fit_report **out)
{
    kgp_fit_due_info d;
    *out = NULL;
    kgp_status s = kgp_fit_due(db, &d);
    if (due)
        *due = d;
    if (s != KGP_OK || !d.due)
        return s;
    s = kgp_fit(db, NULL, d.flags, out);
    if (s != KGP_OK) {
        kgp_fit_report_free(*out);
        *out = NULL;
    }
    return s;
}

void kgp_fit_annotate(kgp_fit_report *r, kgp_snap *snap)
{
    const kgg_snap *g = snap ? kgp__snap_graph(snap) : NULL;
    for (size_t i = 0; g && i < r->nconcepts; i++) {
        kgp_fit_concept *c = &r->concepts[i];
        uint32_t x = kgg_snap_find_key(g, c->key);
        c->index = x == KGG_NONE ? KGP_NONE : x;
        c->author_minutes = x == KGG_NONE ? -1 : g->minutes[x];
    }
}

kgp_status kgp_fit_write(const kgp_fit_report *r, const char *format, FILE *out)
{
    if (!strcmp(format, "json")) {
        json_t *o = json_object(), *arr = json_array();
        if (!o || !arr) {
            json_decref(o);
            json_decref(arr);
            return KGP_ENOMEM;
        }
        json_object_set_new(o, "kgpath_fit", json_integer(1));
        json_object_set_new(o, "events", json_integer((json_int_t)r->events));
        json_object_set_new(o, "learners", json_integer((json_int_t)r->learners));
        json_object_set_new(o, "concepts_fitted", json_integer(r->nfitted));
        json_object_set_new(o, "concepts_with_minutes", json_integer(r->nminutes));
        json_object_set_new(o, "train_observations", json_integer((json_int_t)r->ntrain));
        json_object_set_new(o, "heldout_observations", json_integer((json_int_t)r->ntest));
        json_object_set_new(o, "heldout_loglik_fitted", json_real(r->ll_fit));
        json_object_set_new(o, "heldout_loglik_defaults", json_real(r->ll_default));
        json_object_set_new(o, "stored", json_boolean(r->committed));
        json_t *rt = json_object();
        json_object_set_new(rt, "concepts", json_integer(r->nreview_minutes));
        json_object_set_new(rt, "ratio_recalled", r->review_ratio_ok >= 0
                            ? json_real(r->review_ratio_ok) : json_null());
        json_object_set_new(rt, "ratio_failed", r->review_ratio_fail >= 0
                            ? json_real(r->review_ratio_fail) : json_null());
        json_object_set_new(rt, "reviews_recalled", json_integer(r->nreview_ok));
        json_object_set_new(rt, "reviews_failed", json_integer(r->nreview_fail));
        json_object_set_new(o, "kgp__review_minutes", rt);
        json_t *ps = json_object();
        json_object_set_new(ps, "fitted", json_boolean(r->prereq_kappa >= 0));
        json_object_set_new(ps, "lessons", json_integer((json_int_t)r->prereq_lessons));
        if (r->prereq_kappa >= 0) {
            json_object_set_new(ps, "kappa", json_real(r->prereq_kappa));
            json_object_set_new(ps, "p0", json_real(r->prereq_p0));
            json_object_set_new(ps, "loglik", json_real(r->prereq_ll));
            json_object_set_new(ps, "loglik_independent", json_real(r->prereq_ll0));
        }
        json_object_set_new(o, "prerequisite_strength", ps);
        json_t *bp = json_object();
        json_object_set_new(bp, "fitted", json_boolean(r->bkt_pop_fitted));
        json_object_set_new(bp, "observations", json_integer((json_int_t)r->bkt_pop_ntrain));
        json_object_set_new(bp, "prior", json_real(r->bkt_pop_prior));
        json_object_set_new(bp, "learn", json_real(r->bkt_pop_learn));
        json_object_set_new(bp, "learn_read", json_real(r->bkt_pop_learn_read));
        json_object_set_new(bp, "guess", json_real(r->bkt_pop_guess));
        json_object_set_new(bp, "slip", json_real(r->bkt_pop_slip));
        json_object_set_new(o, "bkt_population", bp);
        json_t *fs = json_object(), *wa = json_array();
        for (int k = 0; k < 21; k++)
            json_array_append_new(wa, json_real(r->fsrs_w[k]));
        json_object_set_new(fs, "fitted", json_boolean(r->fsrs_fitted));
        json_object_set_new(fs, "weights", wa);
        json_object_set_new(fs, "train_samples", json_integer((json_int_t)r->fsrs_train));
        json_object_set_new(fs, "heldout_samples", json_integer((json_int_t)r->fsrs_test));
        json_object_set_new(fs, "heldout_logloss_fitted", json_real(r->fsrs_logloss_fit));
        json_object_set_new(fs, "heldout_logloss_defaults", json_real(r->fsrs_logloss_default));
        json_object_set_new(fs, "heldout_rmse_bins_fitted", json_real(r->fsrs_rmse_fit));
        json_object_set_new(fs, "heldout_rmse_bins_defaults", json_real(r->fsrs_rmse_default));
        json_object_set_new(fs, "learners_fitted", json_integer((json_int_t)r->fsrs_learners));
        if (r->fsrs_pl_learners) {
            json_t *pl = json_object();
            json_object_set_new(pl, "heldout_learners", json_integer((json_int_t)r->fsrs_pl_learners));
            json_object_set_new(pl, "heldout_samples", json_integer((json_int_t)r->fsrs_pl_test));
            static const char *const nm[6] = {
                "heldout_logloss_own", "heldout_logloss_population", "heldout_logloss_defaults",
                "heldout_rmse_bins_own", "heldout_rmse_bins_population", "heldout_rmse_bins_defaults"};
            const double val[6] = {
                r->fsrs_pl_logloss_own, r->fsrs_pl_logloss_population, r->fsrs_pl_logloss_default,
                r->fsrs_pl_rmse_own, r->fsrs_pl_rmse_population, r->fsrs_pl_rmse_default};
            for (int k = 0; k < 6; k++)
                json_object_set_new(pl, nm[k], json_real(val[k]));
            json_object_set_new(fs, "per_learner", pl);
        }
        json_object_set_new(o, "fsrs", fs);
        for (size_t i = 0; i < r->nconcepts; i++) {
            const kgp_fit_concept *c = &r->concepts[i];
            json_t *x = json_object();
            json_object_set_new(x, "key", json_string(c->key));
            json_object_set_new(x, "in_graph", json_boolean(c->index != KGP_NONE));
            json_object_set_new(x, "fitted", json_boolean(c->fitted));
            json_object_set_new(x, "prior", json_real(c->prior));
            json_object_set_new(x, "learn", json_real(c->learn));
            json_object_set_new(x, "learn_read", json_real(c->learn_read));
            json_object_set_new(x, "guess", json_real(c->guess));
            json_object_set_new(x, "slip", json_real(c->slip));
            json_object_set_new(x, "forget", json_real(c->forget));
            json_object_set_new(x, "learners", json_integer(c->learners));
            json_object_set_new(x, "train_observations", json_integer((json_int_t)c->ntrain));
            json_object_set_new(x, "heldout_observations", json_integer((json_int_t)c->ntest));
            json_object_set_new(x, "heldout_loglik_fitted", json_real(c->ll_fit));
            json_object_set_new(x, "heldout_loglik_defaults", json_real(c->ll_default));
            json_object_set_new(x, "minutes", c->minutes >= 0 ? json_real(c->minutes) : json_null());
            json_object_set_new(x, "minutes_learners", json_integer(c->ndwell));
            json_object_set_new(x, "review_minutes_recalled",
                                c->review_ok >= 0 ? json_real(c->review_ok) : json_null());
            json_object_set_new(x, "review_minutes_failed",
                                c->review_fail >= 0 ? json_real(c->review_fail) : json_null());
            json_object_set_new(x, "reviews_with_dwell",
                                json_integer(c->nreview_ok + c->nreview_fail));
            json_object_set_new(x, "author_minutes",
                                c->author_minutes >= 0 ? json_real(c->author_minutes) : json_null());
            json_array_append_new(arr, x);
        }
        json_object_set_new(o, "concepts", arr);
        return kgp__dump_json(o, out);
    }
    if (strcmp(format, "text"))
        return KGP_EUSAGE;
    fprintf(out, "fit: %llu events of %zu learners on %zu concepts; BKT fitted for "
            "%u, minutes calibrated for %u%s\n", (unsigned long long)r->events,
            r->learners, r->nconcepts, r->nfitted, r->nminutes,
            r->committed ? " (stored)" : " (not stored)");
    if (r->review_ratio_ok >= 0 || r->review_ratio_fail >= 0)
        fprintf(out, "review minutes from %u reviews with a dwell: recalled %.2f, failed "
                "%.2f of the lesson's minutes (median); %u concepts\n",
                r->nreview_ok + r->nreview_fail, r->review_ratio_ok, r->review_ratio_fail,
                r->nreview_minutes);
    else
        fprintf(out, "review minutes: too few reviews with a dwell (%u); the default "
                "rule stays\n", r->nreview_ok + r->nreview_fail);
    if (r->bkt_pop_fitted)
        fprintf(out, "population BKT from %llu observations: prior %.2f, learn %.2f, "
                "learn by reading %.2f, guess %.2f, slip %.2f (concepts without their own "
                "fit)\n", (unsigned long long)r->bkt_pop_ntrain, r->bkt_pop_prior,
                r->bkt_pop_learn, r->bkt_pop_learn_read, r->bkt_pop_guess, r->bkt_pop_slip);
    if (r->prereq_kappa >= 0)
        fprintf(out, "prerequisite strength from %zu lessons: P(success) = %.2f x "
                "exp(-%.2f x recall shortfall of the prerequisites); log-likelihood %.1f, "
                "%.1f if they did not matter\n", r->prereq_lessons, r->prereq_p0,
                r->prereq_kappa, r->prereq_ll, r->prereq_ll0);
    else
        fprintf(out, "prerequisite strength: too few lessons with a quiz after them (%zu); "
                "reviews assume a forgotten prerequisite fails the lesson\n",
                r->prereq_lessons);
    if (r->ntest)
        fprintf(out, "held-out log-likelihood over %llu observations: fitted %.1f "
                "(%.4f each), defaults %.1f (%.4f each)\n",
                (unsigned long long)r->ntest, r->ll_fit, r->ll_fit / (double)r->ntest,
                r->ll_default, r->ll_default / (double)r->ntest);
    else
        fprintf(out, "held-out log-likelihood: no held-out observations\n");
    fprintf(out, "FSRS-6: %s on %llu reviews", r->fsrs_fitted ? "fitted" : "defaults kept "
            "(fewer than 64 reviews a day or more apart)", (unsigned long long)r->fsrs_train);
    if (r->fsrs_test)
        fprintf(out, "; held out %llu: log loss fitted %.4f, defaults %.4f; RMSE(bins) "
                "fitted %.4f, defaults %.4f", (unsigned long long)r->fsrs_test,
                r->fsrs_logloss_fit, r->fsrs_logloss_default, r->fsrs_rmse_fit,
                r->fsrs_rmse_default);
    if (r->fsrs_learners)
        fprintf(out, "; %zu learners with their own weights", r->fsrs_learners);
    fprintf(out, "\n");
    if (r->fsrs_pl_learners)
        fprintf(out, "FSRS-6 per learner, judged on %zu held-out learners (a fifth of their "
                "cards, %llu reviews): log loss own %.4f, population %.4f, defaults %.4f; "
                "RMSE(bins) own %.4f, population %.4f, defaults %.4f\n", r->fsrs_pl_learners,
                (unsigned long long)r->fsrs_pl_test, r->fsrs_pl_logloss_own,
                r->fsrs_pl_logloss_population, r->fsrs_pl_logloss_default, r->fsrs_pl_rmse_own,
                r->fsrs_pl_rmse_population, r->fsrs_pl_rmse_default);
    if (r->fsrs_fitted) {
        fprintf(out, "FSRS-6 weights:");
        for (int k = 0; k < 21; k++)
            fprintf(out, " %.4g", r->fsrs_w[k]);
        fprintf(out, "\n");
    }
    fprintf(out, "\n%-6s %5s %5s %5s %5s %5s %7s %6s %9s %9s %8s %8s  %s\n", "fitted",
            "L0", "T", "Tread", "G", "S", "train", "test", "LL fit", "LL def",
            "minutes", "author", "concept");
    for (size_t i = 0; i < r->nconcepts; i++) {
        const kgp_fit_concept *c = &r->concepts[i];
        char mn[16] = "-", au[16] = "-";
        if (c->minutes >= 0)
            snprintf(mn, sizeof mn, "%.1f", c->minutes);
        if (c->author_minutes >= 0)
            snprintf(au, sizeof au, "%.1f", c->author_minutes);
        fprintf(out, "%-6s %5.3f %5.3f %5.3f %5.3f %5.3f %7llu %6llu %9.2f %9.2f %8s %8s  %s\n",
                c->fitted ? "yes" : "no", c->prior, c->learn, c->learn_read, c->guess,
                c->slip, (unsigned long long)c->ntrain, (unsigned long long)c->ntest,
                c->ll_fit, c->ll_default, mn, au, c->key);
    }
    return ferror(out) ? KGP_EIO : KGP_OK;
}

