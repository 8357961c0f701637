/* The learner simulator's core: hidden learners, the four planners, the
 * metrics. Model and metrics are documented in sim.h. */
#include "tools/sim/sim.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/learner_bkt.h"
#include "planner/learner_events.h"
#include "planner/learner_fsrs.h"
#include "planner/planner.h"

const char *const sim_planner_names[SIM_NPLANNERS] = {
    "random", "kahn", "kgpath", "kgpath+learner",
};
const char *const sim_metric_names[SIM_NMETRICS] = {
    "gain", "goals/h", "gain/h", "ret30", "hours",
};

#define QUIZ_MIN 3.0        /* two quiz items after a lesson */
#define REVIEW_MIN_FLOOR 5.0
#define REVIEW_SHARE 0.15   /* a review takes this share of the lesson */
#define DAY_OFFSET_MIN 540.0/* study starts at 09:00 */
#define EPOCH 1798761600LL  /* 2027-01-01T00:00:00Z: simulated day 0 */
#define LEARN_P 0.9
#define PREREQ_BETA 3.0
#define S_INIT 10.0         /* days, scaled per learner and concept */

void sim_config_init(sim_config *c)
{
    *c = (sim_config){ .seed = 1, .learners = 1000, .goals = 2,
                       .min_closure = 4, .max_closure = 25, .budget_frac = 1.5,
                       .minutes_per_day = 60, .retention = 0.9, .hist_p = 0.4,
                       .mastery = KGN_MASTERY, .check = 0.5 };
}

/* ---- random numbers (splitmix64) ---------------------------------------- */

typedef struct rng { uint64_t s; } rng;

static uint64_t rnext(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double ur(rng *r) { return (double)(rnext(r) >> 11) / 9007199254740992.0; }

static double normal(rng *r)
{
    double u = ur(r), v = ur(r);
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

static rng rseed(uint64_t seed, uint64_t a, uint64_t b)
{
    rng r = { seed * 0x9e3779b97f4a7c15ULL ^ (a + 1) * 0xd1b54a32d192ed03ULL ^
              (b + 7) * 0x8cb92ba72f3d8dd7ULL };
    rnext(&r);
    return r;
}

/* ---- hidden learner ------------------------------------------------------- */

typedef struct hidden { uint8_t learned; double S, last; } hidden;

typedef struct world {
    const kgg_snap *s;
    const sim_config *cfg;
    double *cf;             /* [n] concept memory factor */
    double mem;             /* learner memory factor */
    hidden *h;              /* [n] */
    rng r;
    /* clock */
    int32_t day, days;
    double used;            /* minutes used today */
    double spent;           /* minutes in all */
    /* the model (kgpath+learner only) */
    kgn_concept_state *cs;  /* NULL for planners that do not observe */
    const char *learner;
    uint64_t lessons, reviews, relearned;
} world;

static double rtrue(double t, double S)
{
    return t <= 0 ? 1.0 : 1.0 / (1.0 + t / (9.0 * S));
}

static double mastery(const world *w, uint32_t c, double t)
{
    const hidden *h = &w->h[c];
    return h->learned ? rtrue(t - h->last, h->S) : 0.0;
}

static double s_init(const world *w, uint32_t c)
{
    return S_INIT * w->mem * w->cf[c];
}

/* Sum over c's groups of how far the best k members fall short of k. */
static double missing(const world *w, uint32_t c, double t)
{
    const kgg_snap *s = w->s;
    double miss = 0;
    for (uint32_t g = s->grp_off[c]; g < s->grp_off[c + 1]; g++) {
        double best[8] = {0};
        uint32_t k = s->grp_k[g] < 8 ? s->grp_k[g] : 8;
        for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
            double m = mastery(w, s->mem[j], t);
            for (uint32_t q = 0; q < k; q++)
                if (m > best[q]) {
                    double tmp = best[q];
                    best[q] = m;
                    m = tmp;
                }
        }
        double sum = 0;
        for (uint32_t q = 0; q < k; q++)
            sum += best[q];
        miss += k - sum;
    }
    return miss;
}

static void emit(world *w, uint32_t c, int kind, double t, double dwell,
                 double score, int grade)
{
    if (!w->cs)
        return;
    kgg_event e = { w->learner, w->s->key[c], kind,
                    EPOCH + (int64_t)llround(t * 86400.0), dwell, score, grade };
    FILE *f = w->cfg->events;
    if (f) {
        char at[32];
        kgn_format_timestamp(e.at, at, sizeof at);
        fprintf(f, "{\"learner\":\"%s\",\"concept\":\"%s\",\"kind\":\"%s\",\"at\":\"%s\"",
                e.learner, e.concept, kgg_event_kind_name(kind), at);
        if (dwell >= 0)
            fprintf(f, ",\"dwell_seconds\":%.0f", dwell);
        if (score >= 0)
            fprintf(f, ",\"score\":%g", score);
        if (grade)
            fprintf(f, ",\"grade\":%d", grade);
        fputs("}\n", f);
    }
    kgn_concept_state_apply(&w->cs[c], &kgn_bkt_defaults, kgn_fsrs_default_w,
                            &e, w->s->minutes[c] * 60.0);
}

/* Spaced retrieval of a learned concept at time t; returns 1 on recall. */
static int recall(world *w, uint32_t c, double t)
{
    hidden *h = &w->h[c];
    double R = rtrue(t - h->last, h->S);
    int ok = ur(&w->r) < R;
    if (ok)
        h->S *= 1.4 + 3.0 * (1.0 - R);
    else
        h->S = fmax(s_init(w, c), 0.5 * h->S);
    h->last = t;
    return ok;
}

static void lesson_at(world *w, uint32_t c, double t, double dwell_s)
{
    hidden *h = &w->h[c];
    if (h->learned) {
        recall(w, c, t);                /* re-study refreshes memory */
    } else if (ur(&w->r) < LEARN_P * exp(-PREREQ_BETA * missing(w, c, t))) {
        h->learned = 1;
        h->S = s_init(w, c);
        h->last = t;
    }
    emit(w, c, KGG_EV_READ, t, dwell_s, -1, 0);
    double m = mastery(w, c, t);
    int knows = ur(&w->r) < m;
    for (int i = 0; i < 2; i++) {
        int ok = ur(&w->r) < (knows ? 0.9 : 0.2);
        emit(w, c, KGG_EV_QUIZ, t + (i + 1) / 1440.0, -1, ok ? 1.0 : 0.0, 0);
    }
}

static void review_at(world *w, uint32_t c, double t)
{
    hidden *h = &w->h[c];
    int ok;
    if (h->learned) {
        ok = recall(w, c, t);
    } else {
        ok = 0;
        if (ur(&w->r) < 0.5 * LEARN_P * exp(-PREREQ_BETA * missing(w, c, t))) {
            h->learned = 1;
            h->S = s_init(w, c);
            h->last = t;
        }
    }
    emit(w, c, KGG_EV_REVIEW, t, -1, -1, ok ? KGN_GOOD : KGN_AGAIN);
}

/* ---- clock ---------------------------------------------------------------- */

static double now(const world *w)
{
    return w->day + (DAY_OFFSET_MIN + w->used) / 1440.0;
}

/* Spends minutes; returns 1 and leaves the clock at the completion time,
 * or 0 when the budget ends first (the minutes are spent anyway). */
static int spend(world *w, double minutes)
{
    double mpd = w->cfg->minutes_per_day;
    while (minutes > 1e-9) {
        if (w->day >= w->days)
            return 0;
        double avail = mpd - w->used;
        if (avail <= 1e-9) {
            w->day++;
            w->used = 0;
            continue;
        }
        double take = minutes < avail ? minutes : avail;
        w->used += take;
        w->spent += take;
        minutes -= take;
    }
    return 1;
}

static double lesson_minutes(const kgg_snap *s, uint32_t c)
{
    return s->minutes[c] > 0 ? s->minutes[c] : 30.0;
}

static double review_minutes(const kgg_snap *s, uint32_t c)
{
    return fmax(REVIEW_MIN_FLOOR, REVIEW_SHARE * lesson_minutes(s, c));
}

static int do_lesson(world *w, uint32_t c)
{
    double m = lesson_minutes(w->s, c);
    if (!spend(w, m))
        return 0;
    double t = now(w);
    if (!spend(w, QUIZ_MIN))
        return 0;
    w->lessons++;
    if (w->cs && w->cs[c].nevents > 0)
        w->relearned++;
    lesson_at(w, c, t, m * 60.0);
    return 1;
}

static int do_review(world *w, uint32_t c)
{
    if (!spend(w, review_minutes(w->s, c)))
        return 0;
    w->reviews++;
    review_at(w, c, now(w));
    return 1;
}

/* ---- planners ------------------------------------------------------------- */

typedef struct sim_ctx {
    const sim_graph *g;
    const sim_config *cfg;
    kgn_index *ix;
    kgn_workspace *ws;
    double *cf;
    uint32_t *plan; uint32_t nplan;     /* kgpath plan with nothing known */
    uint32_t *seq;                      /* scratch order */
    uint32_t *indeg, *ready;
    uint8_t *inplan;
    uint32_t *known;
    kgn_concept_state *cs;
    double *metrics[SIM_NPLANNERS][SIM_NMETRICS];
} sim_ctx;

/* Kahn order of the plan's concepts over requirement edges inside the
 * plan; random picks a uniformly random ready concept, else FIFO by id. */
static void kahn_order(sim_ctx *x, rng *r, int random)
{
    const kgg_snap *s = &x->g->snap;
    for (uint32_t i = 0; i < x->nplan; i++)
        x->inplan[x->plan[i]] = 1;
    for (uint32_t i = 0; i < x->nplan; i++) {
        uint32_t c = x->plan[i], d = 0;
        for (uint32_t g = s->grp_off[c]; g < s->grp_off[c + 1]; g++)
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++)
                d += x->inplan[s->mem[j]];
        x->indeg[c] = d;
    }
    uint32_t nr = 0, out = 0;
    for (uint32_t i = 0; i < x->nplan; i++)
        if (!x->indeg[x->plan[i]])
            x->ready[nr++] = x->plan[i];
    while (nr > 0) {
        uint32_t pick = 0;
        if (random) {
            pick = (uint32_t)(ur(r) * nr);
            if (pick >= nr) pick = nr - 1;
        } else {
            for (uint32_t i = 1; i < nr; i++)
                if (x->ready[i] < x->ready[pick])
                    pick = i;
        }
        uint32_t c = x->ready[pick];
        x->ready[pick] = x->ready[--nr];
        x->seq[out++] = c;
        for (uint32_t d = s->dep_off[c]; d < s->dep_off[c + 1]; d++) {
            uint32_t u = s->dep[d];
            if (!x->inplan[u])
                continue;
            /* u counts c once per group membership */
            for (uint32_t g = s->grp_off[u]; g < s->grp_off[u + 1]; g++)
                for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++)
                    if (s->mem[j] == c && --x->indeg[u] == 0)
                        x->ready[nr++] = u;
        }
    }
    for (uint32_t i = 0; i < x->nplan; i++)
        x->inplan[x->plan[i]] = 0;
}

typedef struct hook_ud {
    world *w;
    double r, m;
    char why[64];
} hook_ud;

static int review_hook(void *ud, uint32_t c, uint32_t *minutes, const char **why)
{
    hook_ud *h = ud;
    int64_t at = EPOCH + (int64_t)llround(now(h->w) * 86400.0);
    double R = kgn_fsrs_card_r(kgn_fsrs_default_w, &h->w->cs[c].card, at);
    if (R >= h->r && h->w->cs[c].p_learned >= h->m)
        return 0;
    *minutes = (uint32_t)ceil(review_minutes(h->w->s, c));
    *why = NULL;
    return 1;
}

static double model_r(const world *w, uint32_t c)
{
    int64_t at = EPOCH + (int64_t)llround(now(w) * 86400.0);
    return kgn_fsrs_card_r(kgn_fsrs_default_w, &w->cs[c].card, at);
}

static void run_learner_planner(sim_ctx *x, world *w, const uint32_t *goals,
                                uint32_t ng)
{
    const kgg_snap *s = &x->g->snap;
    const double r = x->cfg->retention, m = x->cfg->mastery;
    uint32_t rem[64];
    for (int guard = 0; guard < 100000; guard++) {
        if (w->day >= w->days)
            return;
        uint32_t nk = 0;
        for (uint32_t c = 0; c < s->n; c++)
            if (w->cs[c].p_learned >= m ||
                (w->cs[c].p_learned >= x->cfg->check && w->cs[c].nevents > 0))
                x->known[nk++] = c;
        /* Goals are planned as given: the planner reports the ones the
         * learner already knows as mastered and asks the review hook for
         * each, so a learned goal whose memory has faded below r gets a
         * review step first (the planner's spaced review of a goal). The
         * worst-faded goal goes first. */
        uint32_t nrem = 0;
        double worst = 2.0;
        for (uint32_t i = 0; i < ng; i++) {
            uint32_t gl = goals[i];
            double R = w->cs[gl].p_learned >= m ? model_r(w, gl) : 2.0;
            if (R < worst) {
                worst = R;
                memmove(rem + 1, rem, nrem * sizeof *rem);
                rem[0] = gl;
                nrem++;
            } else {
                rem[nrem++] = gl;
            }
        }
        kgn_options opt;
        kgn_options_init(&opt);
        hook_ud hu = { .w = w, .r = r, .m = m };
        opt.review = review_hook;
        opt.review_ud = &hu;
        opt.known_goals_ok = 1;
        kgn_plan *p = NULL;
        kgn_error err;
        if (kgn_plan_make(x->ws, rem, nrem, x->known, nk, &opt, &p, &err) != KGP_OK) {
            kgn_plan_free(p);
            return;
        }
        if (p->nsteps == 0) {
            int all = p->nmastered == nrem;
            kgn_plan_free(p);
            if (!all)
                return;
            w->day++;               /* every goal known, nothing due: wait */
            w->used = 0;
            continue;
        }
        kgn_step st = p->steps[0];
        kgn_plan_free(p);
        int ok = st.kind == KGN_REVIEW ? do_review(w, st.concept)
                                       : do_lesson(w, st.concept);
        if (!ok)
            return;
    }
}

/* ---- per learner ---------------------------------------------------------- */

static double goals_mastery(const world *w, const uint32_t *goals, uint32_t ng,
                            double t)
{
    double e = 0;
    for (uint32_t i = 0; i < ng; i++)
        e += mastery(w, goals[i], t);
    return e;
}

/* Picks goals whose plan (nothing known) has min..max concepts; fills
 * x->plan. Returns the number of goals, 0 when none found. */
static uint32_t pick_goals(sim_ctx *x, rng *r, uint32_t *goals)
{
    const kgg_snap *s = &x->g->snap;
    const sim_config *c = x->cfg;
    uint32_t want = c->goals < 1 ? 1 : c->goals > 16 ? 16 : c->goals;
    for (int tries = 0; tries < 200; tries++) {
        uint32_t ng = 0;
        for (uint32_t i = 0; i < want; i++) {
            uint32_t gl = (uint32_t)(ur(r) * s->n);
            if (gl >= s->n || s->grp_off[gl] == s->grp_off[gl + 1])
                continue;           /* goals have prerequisites */
            int dup = 0;
            for (uint32_t q = 0; q < ng; q++)
                dup |= goals[q] == gl;
            if (!dup)
                goals[ng++] = gl;
        }
        if (ng == 0)
            continue;
        kgn_options opt;
        kgn_options_init(&opt);
        kgn_plan *p = NULL;
        kgn_error err;
        if (kgn_plan_make(x->ws, goals, ng, NULL, 0, &opt, &p, &err) != KGP_OK) {
            kgn_plan_free(p);
            continue;
        }
        if (p->nsteps >= c->min_closure && p->nsteps <= c->max_closure) {
            x->nplan = p->nsteps;
            for (uint32_t i = 0; i < p->nsteps; i++)
                x->plan[i] = p->steps[i].concept;
            kgn_plan_free(p);
            return ng;
        }
        kgn_plan_free(p);
    }
    return 0;
}

/* The learner's past: concepts of the plan (not the goals) studied 5..90
 * days before day 0 with probability hist_p, in plan order, sometimes
 * reviewed once later. Writes the hidden state into w->h and, when w->cs,
 * the events into the model. */
static void history(sim_ctx *x, world *w, const uint32_t *goals, uint32_t ng)
{
    const sim_config *c = x->cfg;
    uint32_t nh = 0;
    for (uint32_t i = 0; i < x->nplan; i++) {
        uint32_t k = x->plan[i];
        int isgoal = 0;
        for (uint32_t q = 0; q < ng; q++)
            isgoal |= goals[q] == k;
        if (!isgoal && ur(&w->r) < c->hist_p)
            x->seq[nh++] = k;
    }
    /* times: sorted uniform draws in [-90, -5] days */
    double *t = kg_malloc(sizeof *t * (nh + 1));
    if (!t)
        return;
    for (uint32_t i = 0; i < nh; i++)
        t[i] = -90.0 + 85.0 * ur(&w->r);
    for (uint32_t i = 1; i < nh; i++)       /* insertion sort: nh is small */
        for (uint32_t j = i; j > 0 && t[j - 1] > t[j]; j--) {
            double tmp = t[j]; t[j] = t[j - 1]; t[j - 1] = tmp;
        }
    for (uint32_t i = 0; i < nh; i++) {
        uint32_t k = x->seq[i];
        lesson_at(w, k, t[i], lesson_minutes(w->s, k) * 60.0 * (0.8 + 0.4 * ur(&w->r)));
    }
    /* one later review for some (in time order, after all lessons) */
    for (uint32_t i = 0; i < nh; i++) {
        double tr = t[i] + 2.0 + 13.0 * ur(&w->r);
        if (ur(&w->r) < 0.3 && tr < -1.0 && tr > t[nh - 1])
            review_at(w, x->seq[i], tr);
    }
    kg_free(t);
}

static void stat_of(const double *v, uint32_t n, sim_stat *st)
{
    double sum = 0, sq = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += v[i];
    double mean = n ? sum / n : 0;
    for (uint32_t i = 0; i < n; i++)
        sq += (v[i] - mean) * (v[i] - mean);
    st->n = n;
    st->mean = mean;
    st->ci = n > 1 ? 1.96 * sqrt(sq / (n - 1)) / sqrt((double)n) : 0;
}

static int sfail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int sfail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int sim_run(const sim_graph *g, const sim_config *cfg, sim_report *rep,
            char *err, size_t errlen)
{
    const kgg_snap *s = &g->snap;
    memset(rep, 0, sizeof *rep);
    sim_ctx x = { .g = g, .cfg = cfg };
    kgn_error kerr;
    int rc = -1;
    uint32_t n = s->n, L = cfg->learners;
    hidden *h0 = NULL, *h = NULL;
    kgn_concept_state *cs0 = NULL;
    char learner[32];
    if (n == 0)
        return sfail(err, errlen, "empty graph");
    if (kgn_index_new(s, &x.ix, &kerr) != KGP_OK)
        return sfail(err, errlen, "planner index: %s", kerr.msg);
    x.ws = kgn_workspace_new(x.ix);
    x.cf = kg_malloc(sizeof *x.cf * n);
    x.plan = kg_malloc(sizeof *x.plan * n);
    x.seq = kg_malloc(sizeof *x.seq * n);
    x.indeg = kg_malloc(sizeof *x.indeg * n);
    x.ready = kg_malloc(sizeof *x.ready * n);
    x.known = kg_malloc(sizeof *x.known * n);
    x.inplan = kg_calloc(n, 1);
    x.cs = kg_malloc(sizeof *x.cs * n);
    cs0 = kg_malloc(sizeof *cs0 * n);
    h0 = kg_malloc(sizeof *h0 * n);
    h = kg_malloc(sizeof *h * n);
    int oom = !x.ws || !x.cf || !x.plan || !x.seq || !x.indeg || !x.ready ||
              !x.known || !x.inplan || !x.cs || !cs0 || !h0 || !h;
    for (int p = 0; p < SIM_NPLANNERS && !oom; p++)
        for (int m = 0; m < SIM_NMETRICS && !oom; m++)
            oom = !(x.metrics[p][m] = kg_calloc(L ? L : 1, sizeof(double)));
    if (oom) {
        sfail(err, errlen, "out of memory");
        goto out;
    }
    {
        rng gr = rseed(cfg->seed, UINT64_MAX, 0);
        for (uint32_t c = 0; c < n; c++)
            x.cf[c] = exp(0.3 * normal(&gr));
    }
    uint32_t used = 0;
    for (uint32_t li = 0; li < L; li++) {
        rng lr = rseed(cfg->seed, li, 0);
        uint32_t goals[16];
        uint32_t ng = pick_goals(&x, &lr, goals);
        if (!ng) {
            rep->skipped++;
            continue;
        }
        snprintf(learner, sizeof learner, "sim%u", li);
        double memf = exp(0.4 * normal(&lr));
        /* the past, recorded once and shared by every planner */
        for (uint32_t c = 0; c < n; c++) {
            h0[c] = (hidden){0};
            kgn_concept_state_init(&cs0[c], &kgn_bkt_defaults);
        }
        world w0 = { .s = s, .cfg = cfg, .cf = x.cf, .mem = memf, .h = h0,
                     .r = rseed(cfg->seed, li, 1), .cs = cs0, .learner = learner };
        history(&x, &w0, goals, ng);
        double plan_min = 0;
        for (uint32_t i = 0; i < x.nplan; i++)
            plan_min += lesson_minutes(s, x.plan[i]) + QUIZ_MIN;
        int32_t days = (int32_t)ceil(cfg->budget_frac * plan_min / cfg->minutes_per_day);
        if (days < 1)
            days = 1;
        double t0 = DAY_OFFSET_MIN / 1440.0;
        for (int p = 0; p < SIM_NPLANNERS; p++) {
            memcpy(h, h0, sizeof *h * n);
            world w = { .s = s, .cfg = cfg, .cf = x.cf, .mem = memf, .h = h,
                        .r = rseed(cfg->seed, li, 2), .days = days,
                        .learner = learner };
            double e0 = goals_mastery(&w, goals, ng, t0);
            if (p == SIM_LEARNER) {
                memcpy(x.cs, cs0, sizeof *x.cs * n);
                w.cs = x.cs;
                run_learner_planner(&x, &w, goals, ng);
                rep->reviews += w.reviews;
                rep->lessons += w.lessons;
                rep->relearned += w.relearned;
            } else {
                if (p == SIM_KGPATH) {
                    memcpy(x.seq, x.plan, sizeof *x.seq * x.nplan);
                } else {
                    rng orr = rseed(cfg->seed, li, 3);
                    kahn_order(&x, &orr, p == SIM_RANDOM);
                }
                for (uint32_t i = 0; i < x.nplan; i++)
                    if (!do_lesson(&w, x.seq[i]))
                        break;
            }
            double tend = (double)days;
            double e1 = goals_mastery(&w, goals, ng, tend);
            double hours = w.spent / 60.0;
            double gain = (e1 - e0) / (ng - e0);
            x.metrics[p][SIM_GAIN][used] = gain;
            x.metrics[p][SIM_GOALS_H][used] = hours > 0 ? (e1 - e0) / hours : 0;
            x.metrics[p][SIM_GAIN_H][used] = hours > 0 ? gain / hours : 0;
            x.metrics[p][SIM_RET30][used] = goals_mastery(&w, goals, ng, tend + 30) / ng;
            x.metrics[p][SIM_HOURS][used] = hours;
        }
        used++;
    }
    rep->learners = used;
    for (int p = 0; p < SIM_NPLANNERS; p++)
        for (int m = 0; m < SIM_NMETRICS; m++) {
            stat_of(x.metrics[p][m], used, &rep->m[p][m]);
            for (uint32_t i = 0; i < used; i++) {
                rep->checksum += x.metrics[p][m][i];
                x.metrics[p][m][i] = x.metrics[SIM_LEARNER][m][i] - x.metrics[p][m][i];
            }
        }
    for (int p = 0; p < SIM_NPLANNERS; p++)
        for (int m = 0; m < SIM_NMETRICS; m++)
            if (p != SIM_LEARNER)
                stat_of(x.metrics[p][m], used, &rep->diff[p][m]);
    rc = 0;
out:
    for (int p = 0; p < SIM_NPLANNERS; p++)
        for (int m = 0; m < SIM_NMETRICS; m++)
            kg_free(x.metrics[p][m]);
    kg_free(x.cf); kg_free(x.plan); kg_free(x.seq); kg_free(x.indeg);
    kg_free(x.ready); kg_free(x.known); kg_free(x.inplan); kg_free(x.cs);
    kg_free(cs0); kg_free(h0); kg_free(h);
    kgn_workspace_free(x.ws);
    kgn_index_free(x.ix);
    return rc;
}
