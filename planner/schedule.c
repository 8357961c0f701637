/* Turning the ordered lessons into steps: review steps for known concepts
 * (asked of the learner hook), spaced reviews (asked of the spaced hook),
 * and, with a calendar, study days.
 *
 * Two modes (kgn__steps):
 *   sequence  no calendar, or no dated hook: reviews are judged once per
 *             known concept at its first use, on the plan's start day, and
 *             the finished steps are packed by kgn__calendar.
 *   schedule  a calendar and a dated review hook or a spaced hook: days are
 *             packed while the steps are made. Reviews are decided at the
 *             moment of use: before each lesson, every prerequisite it
 *             relies on (known before the plan, or learned or reviewed
 *             earlier in it) is reviewed right before it when its recall on
 *             the lesson's day would be below the target — for a concept
 *             known before the plan the dated hook judges it; for one
 *             studied in the plan, the spaced hook's first due day after
 *             that study is the day its recall falls below the target. So a
 *             prerequisite is reviewed as often as its uses need, and never
 *             while its recall is still high, nor weeks before its use.
 *             Goals (whose use is the goal date) get spaced reviews on their
 *             due days up to the horizon, before that day's lessons, within
 *             the daily limit (postponed to the next study day when the day
 *             is full; later reviews of the same goal move with it); other
 *             concepts get none (a review pays only when something needs
 *             the memory). The packing rule for lessons is kgn__calendar's.
 *
 * Cost: O(S + D + E·H) for S steps, D calendar days, E requirement edges of
 * the plan's lessons and H the cost of one hook call; pending spaced reviews
 * are scanned once per study day (O(D·Q) for Q pending reviews). */
#include <stdlib.h>
#include <string.h>

#include "planner/plan_internal.h"

#define MAX_SPACED 32           /* spaced reviews asked per study of a concept */
#define DAY_GUARD 40000         /* calendar days after the start (>100 years) */

typedef struct pending {
    int32_t due;
    uint32_t concept, minutes, src, seq;
    int32_t prev;               /* day it was last studied (for the note) */
    double r;                   /* predicted retrievability on the due day */
} pending;

/* In-plan memory of the concepts studied in the plan: the day from which a
 * use needs a review first (recall below the target; INT32_MAX: none in
 * sight), the day of the last study, and a review's minutes. */
typedef struct mem { int32_t due, last; uint32_t minutes; } mem;

typedef struct sched {
    mem *mm;                            /* [n] schedule mode's in-plan memory */
    kgn_step_ctx *x;
    kgn_plan *p;
    kgn_step *v; size_t nv, cv;         /* finished steps */
    pending *q; size_t nq, cq;
    uint32_t seq;
    int32_t day, last;
    uint32_t left, mpd, dpw;
    int in_step;                        /* a lesson continues into the new day */
    int dirty;                          /* q needs sorting */
    int oom;
    int past;                           /* a lesson would fall after KGN_LAST_DAY */
} sched;

/* stake: minutes of the lesson that needs c (0: none), for the hook. */
static int ask(const kgn_step_ctx *x, uint32_t c, int32_t day, uint32_t stake, uint32_t *min,
               const char **why)
{
    *min = stake;
    *why = NULL;
    if (x->opt->review_at) return x->opt->review_at(x->opt->review_at_ud, c, day, min, why);
    if (x->opt->review) return x->opt->review(x->opt->review_ud, c, min, why);
    return 0;
}

/* Fills the step's identity and goals (those of learn step src, or the
 * single goal g when src is KGG_NONE). 0 or -1. */
static int fill(kgn_step_ctx *x, kgn_step *st, const kgn__proto *ps)
{
    kgn_plan *p = x->p;
    memset(st, 0, sizeof *st);
    st->concept = ps->concept;
    st->kind = ps->kind;
    st->minutes = ps->minutes;
    st->via = ps->via;
    st->via_step = KGG_NONE;
    st->via_reason = ps->via_reason;
    st->note = NULL;
    if (ps->note && !(st->note = kg_arena_strdup(p->arena, ps->note))) return -1;
    st->day = KGN_NO_DAY;
    const kgg_snap *s = x->ws->s;
    if (ps->kind == KGN_LEARN) {
        st->minutes_default = !(s->minutes && s->minutes[ps->concept] >= 0);
        st->is_goal = (x->ws->flags[ps->concept] & KGN_F_GOAL) != 0;
        st->recommended = (x->ws->flags[ps->concept] & KGN_F_REC) != 0;
    }
    if (ps->src == KGG_NONE) {
        st->goals = kg_arena_alloc(p->arena, sizeof *st->goals);
        if (!st->goals) return -1;
        st->goals[0] = ps->goal;
        st->ngoals = 1;
    } else {
        const uint64_t *b = x->bits + (size_t)ps->src * x->W;
        uint32_t cnt = 0;
        for (uint32_t q = 0; q < p->ngoals; q++) cnt += (b[q / 64] >> (q % 64)) & 1;
        st->goals = kg_arena_alloc(p->arena, (cnt + 1) * sizeof *st->goals);
        if (!st->goals) return -1;
        for (uint32_t q = 0; q < p->ngoals; q++)
            if ((b[q / 64] >> (q % 64)) & 1) st->goals[st->ngoals++] = p->goals[q];
    }
    if (ps->kind == KGN_REVIEW) p->nreviews++;
    if (ps->kind == KGN_SPACED) p->nspaced++;
    p->total_minutes += st->minutes;
    uint32_t worst = st->minutes;
    if (ps->kind != KGN_LEARN && x->opt->review_worst) {
        uint32_t wm = x->opt->review_worst(x->opt->review_worst_ud, ps->concept);
        if (wm > worst) worst = wm;
    }
    p->pessimistic_minutes += worst;
    if (ps->kind != KGN_LEARN && x->opt->review_worst) p->has_pessimistic = 1;
    return 0;
}

static int push_step(kgn_step **v, size_t *n, size_t *cap, const kgn_step *st)
{
    if (kg_grow(v, cap, *n + 1, sizeof **v)) return -1;
    (*v)[(*n)++] = *st;
    return 0;
}

/* Copies the finished steps into the plan's arena and links via_step
 * (via's learn step). 0 or -1. */
static int finish(kgn_step_ctx *x, kgn_step *v, size_t nv)
{
    kgn_plan *p = x->p;
    uint32_t *fin = kg_arena_alloc(p->arena, (x->nlearn + 1) * sizeof *fin);
    if (!fin) return -1;
    if (v != p->steps) {
        p->steps = kg_arena_calloc(p->arena, (nv + 1) * sizeof *p->steps);
        if (!p->steps) return -1;
        if (nv) memcpy(p->steps, v, nv * sizeof *v);
    }
    p->nsteps = (uint32_t)nv;
    for (size_t i = 0; i < nv; i++)
        if (v[i].kind == KGN_LEARN) fin[x->ws->pos[v[i].concept]] = (uint32_t)i;
    for (size_t i = 0; i < nv; i++) {
        kgn_step *st = &p->steps[i];
        if (st->kind != KGN_SPACED && st->via != KGG_NONE && kgn__in_sel(x->ws, st->via))
            st->via_step = fin[x->ws->pos[st->via]];
    }
    return 0;
}

/* ---- sequence mode ---------------------------------------------------------- */

static int sequence(kgn_step_ctx *x)
{
    kgn_workspace *ws = x->ws;
    const kgg_snap *s = ws->s;
    kgn_plan *p = x->p;
    kgn_step st;
    /* at most one review per known concept the plan relies on, and per
     * mastered goal: the steps go straight into the plan's arena */
    size_t cv = (size_t)x->nlearn + p->nskipped + p->nmastered + 1, nv = 0;
    kgn_step *v = kg_arena_alloc(p->arena, cv * sizeof *v);
    int32_t day0 = x->opt->start_day;
    if (!v) return -1;
    p->steps = v;
    kgn__next_gen(ws->gray, &ws->gen_g, ws->n ? ws->n : 1);
    for (uint32_t i = 0; i < x->p->nmastered; i++) {
        uint32_t g = x->p->mastered[i], mins;
        const char *why;
        ws->gray[g] = ws->gen_g;
        if (!ask(x, g, day0, 0, &mins, &why)) continue;
        kgn__proto ps = {g, mins, KGG_NONE, KGG_NONE, g, KGN_REVIEW, NULL, why};
        if (fill(x, &st, &ps)) return -1;
        v[nv++] = st;
    }
    for (uint32_t i = 0; i < x->nlearn; i++) {
        uint32_t c = x->learn[i].concept;
        for (uint32_t g = s->grp_off[c]; g < s->grp_off[c + 1]; g++)
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
                uint32_t m = s->mem[j], mins;
                const char *why;
                if (!kgn__is_known(ws, m) || ws->gray[m] == ws->gen_g) continue;
                ws->gray[m] = ws->gen_g;
                if (!ask(x, m, day0, x->learn[i].minutes, &mins, &why)) continue;
                kgn__proto ps = {m, mins, c, i, 0, KGN_REVIEW,
                                 s->mem_reason ? s->mem_reason[j] : NULL, why};
                if (nv + 1 >= cv || fill(x, &st, &ps)) return -1;   /* cv bounds it */
                v[nv++] = st;
            }
        if (nv >= cv || fill(x, &st, &x->learn[i])) return -1;
        v[nv++] = st;
    }
    if (finish(x, v, nv)) return -1;
    return x->opt->minutes_per_day ? kgn__calendar(p) : 0;
}

/* ---- schedule mode ---------------------------------------------------------- */

static int32_t study_day_from(int32_t d, uint32_t dpw)
{
    while ((uint32_t)kgn_date_weekday(d) > dpw) d++;
    return d;
}

static void count_day(sched *sc, uint32_t take)
{
    kgn_plan *p = sc->p;
    if (take && sc->day != sc->last) { p->study_days++; sc->last = sc->day; }
    if (p->deadline_day != KGN_NO_DAY && sc->day > p->deadline_day) p->overrun_minutes += take;
}

/* Asks the spaced hook for the reviews of c studied on `day`. */
static void add_spaced(sched *sc, uint32_t c, int32_t day, uint32_t src)
{
    const kgn_options *o = sc->x->opt;
    if (!o->spaced) return;
    int32_t days[MAX_SPACED];
    double r[MAX_SPACED];
    uint32_t mins = 0;
    size_t k = o->spaced(o->spaced_ud, c, day, days, r, MAX_SPACED, &mins);
    if (k > MAX_SPACED) k = MAX_SPACED;
    if (mins == 0) mins = 1;
    if (mins > sc->mpd) mins = sc->mpd;      /* a review never takes more than a day */
    int32_t prev = day;
    for (size_t i = 0; i < k; i++) {
        if (days[i] <= prev) continue;
        if (days[i] > KGN_LAST_DAY) break;      /* no calendar past 9999-12-31 */
        if (kg_grow(&sc->q, &sc->cq, sc->nq + 1, sizeof *sc->q)) { sc->oom = 1; return; }
        sc->q[sc->nq++] = (pending){days[i], c, mins, src, sc->seq++, prev, r[i]};
        sc->dirty = 1;
        prev = days[i];
    }
}

static void studied(sched *sc, mem *mm, uint32_t c, int32_t day);

static int cmp_pending(const void *a, const void *b)
{
    const pending *x = a, *y = b;
    if (x->due != y->due) return x->due < y->due ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Places the spaced reviews due by today that fit in what is left of it.
 * The queue is kept sorted by (due, seq), re-sorted only after additions
 * or shifts, so a call costs O(due ones) when nothing changed. */
static void place_due(sched *sc)
{
    if (sc->nq == 0) return;
    if (sc->dirty) {
        qsort(sc->q, sc->nq, sizeof *sc->q, cmp_pending);
        sc->dirty = 0;
    }
    size_t k = 0;
    while (k < sc->nq && sc->q[k].due <= sc->day) k++;
    if (k == 0) return;
    size_t w = 0;
    for (size_t i = 0; i < k; i++) {
        pending e = sc->q[i];
        if (e.due > sc->day || e.minutes > sc->left || sc->oom) { sc->q[w++] = e; continue; }
        char d[16], pd[16];
        kgn_date_format(sc->day, d);
        kgn_date_format(e.prev, pd);
        const char *note = kg_arena_printf(sc->p->arena,
            "retrievability %.2f on %s, %d days after studying it on %s%s",
            e.r, d, sc->day - e.prev, pd, sc->day > e.due ? " (postponed: day full)" : "");
        kgn__proto ps = {e.concept, e.minutes, KGG_NONE, e.src, e.concept, KGN_SPACED, NULL, note};
        kgn_step st;
        kgn_session *se = kg_arena_alloc(sc->p->arena, sizeof *se);
        if (!note || !se || fill(sc->x, &st, &ps)) { sc->oom = 1; sc->q[w++] = e; continue; }
        se->day = sc->day;
        se->minutes = e.minutes;
        st.sessions = se;
        st.nsessions = 1;
        st.day = sc->day;
        sc->left -= e.minutes;
        count_day(sc, e.minutes);
        if (push_step(&sc->v, &sc->nv, &sc->cv, &st)) sc->oom = 1;
        if (sc->mm) studied(sc, sc->mm, e.concept, sc->day);   /* a goal needed later */
        /* a late review moves the concept's later ones by as much */
        int32_t shift = sc->day - e.due;
        if (shift <= 0) continue;
        for (size_t j = 0; j < sc->nq; j++)
            if ((j < w || j > i) && sc->q[j].concept == e.concept && sc->q[j].seq > e.seq) {
                sc->q[j].due += shift;
                sc->q[j].prev += shift;
                sc->dirty = 1;
            }
    }
    memmove(sc->q + w, sc->q + k, (sc->nq - k) * sizeof *sc->q);
    sc->nq = w + (sc->nq - k);
}

/* Next study day; due spaced reviews go first, unless a lesson is
 * continuing from the day before (they follow it: steps stay in day order). */
static void advance(sched *sc)
{
    sc->day = study_day_from(sc->day + 1, sc->dpw);
    sc->left = sc->mpd;
    if (!sc->in_step) place_due(sc);
}

/* The day a step of `need` minutes would start on (kgn__calendar's rule). */
static int32_t tentative(const sched *sc, uint32_t need)
{
    if (sc->left == 0 || (need > sc->left && need <= sc->mpd && sc->left < sc->mpd))
        return study_day_from(sc->day + 1, sc->dpw);
    return sc->day;
}

/* Places one step (split over days when longer than a day). Returns the
 * last day it uses, or KGN_NO_DAY when out of memory. */
static int32_t place(sched *sc, const kgn__proto *ps)
{
    kgn_step st;
    if (fill(sc->x, &st, ps)) { sc->oom = 1; return KGN_NO_DAY; }
    uint32_t rem = st.minutes;
    sc->in_step = 0;
    if (rem > sc->left && rem <= sc->mpd && sc->left < sc->mpd) advance(sc);
    uint32_t parts = 2 + rem / sc->mpd;
    st.sessions = kg_arena_alloc(sc->p->arena, parts * sizeof *st.sessions);
    if (!st.sessions) { sc->oom = 1; return KGN_NO_DAY; }
    do {
        if (sc->left == 0) {
            sc->in_step = st.nsessions > 0;
            advance(sc);
        }
        uint32_t take = rem < sc->left ? rem : sc->left;
        if (take == 0 && rem > 0) continue;  /* due reviews filled the day */
        if (sc->day > KGN_LAST_DAY) { sc->past = 1; return KGN_NO_DAY; }
        if (st.nsessions == parts) break;   /* cannot happen: parts is an upper bound */
        st.sessions[st.nsessions].day = sc->day;
        st.sessions[st.nsessions].minutes = take;
        st.nsessions++;
        count_day(sc, take);
        rem -= take;
        sc->left -= take;
    } while (rem > 0);
    st.day = st.sessions[0].day;
    sc->in_step = 0;
    if (push_step(&sc->v, &sc->nv, &sc->cv, &st)) sc->oom = 1;
    place_due(sc);      /* reviews held back by a lesson over several days */
    return st.sessions[st.nsessions - 1].day;
}

typedef struct need { uint32_t m, minutes, j; const char *why; } need;


/* Records a study (lesson or review) of c ending on `day`: asks the spaced
 * hook when its recall will fall below the target. */
static void studied(sched *sc, mem *mm, uint32_t c, int32_t day)
{
    const kgn_options *o = sc->x->opt;
    if (day == KGN_NO_DAY) return;
    if (!o->spaced) {
        /* no memory model: one review before use, as the dated hook says */
        mm[c] = (mem){INT32_MAX, day, 1};
        return;
    }
    int32_t days[1];
    double r[1];
    uint32_t mins = 0;
    size_t k = o->spaced(o->spaced_ud, c, day, days, r, 1, &mins);
    mm[c].due = k && days[0] > day ? days[0] : INT32_MAX;
    mm[c].last = day;
    if (mins == 0) mins = 1;
    if (mins > sc->mpd) mins = sc->mpd;
    mm[c].minutes = mins;
}

/* 1 when prerequisite m needs a review before a lesson on day d (fills
 * *mins, *why). Studied in the plan: from its in-plan memory; otherwise
 * known: the dated hook. */
static int needs_review(sched *sc, const mem *mm, uint32_t m, int32_t d, uint32_t stake,
                        uint32_t *mins, const char **why)
{
    if (mm[m].last != KGN_NO_DAY) {
        const kgn_options *o = sc->x->opt;
        if (o->review_after) {
            *mins = stake;
            *why = NULL;
            return o->review_after(o->review_after_ud, m, mm[m].last, d, mins, why);
        }
        if (d < mm[m].due) return 0;
        char dd[16], ld[16];
        kgn_date_format(d, dd);
        kgn_date_format(mm[m].last, ld);
        *why = kg_arena_printf(sc->p->arena, "recall below target on %s, %d days after "
                               "studying it on %s", dd, d - mm[m].last, ld);
        if (!*why) { sc->oom = 1; return 0; }
        *mins = mm[m].minutes;
        return 1;
    }
    if (!kgn__is_known(sc->x->ws, m)) return 0;
    return ask(sc->x, m, d, stake, mins, why);
}

static int schedule(kgn_step_ctx *x)
{
    kgn_workspace *ws = x->ws;
    const kgg_snap *s = ws->s;
    kgn_plan *p = x->p;
    sched sc = {0};
    need *nd = NULL;
    size_t cnd = 0;
    mem *mm = kg_malloc((ws->n + 1) * sizeof *mm);
    if (!mm) return -1;
    for (uint32_t c = 0; c < ws->n; c++) mm[c] = (mem){INT32_MAX, KGN_NO_DAY, 0};
    sc.mm = mm;
    sc.x = x;
    sc.p = p;
    sc.mpd = x->opt->minutes_per_day;
    sc.dpw = x->opt->days_per_week;
    sc.day = study_day_from(p->start_day, sc.dpw);
    sc.left = sc.mpd;
    sc.last = KGN_NO_DAY;
    p->study_days = 0;
    p->overrun_minutes = 0;
    for (uint32_t i = 0; i < p->nmastered && !sc.oom; i++) {
        uint32_t g = p->mastered[i], mins;
        const char *why;
        if (!ask(x, g, sc.day, 0, &mins, &why)) continue;
        kgn__proto ps = {g, mins, KGG_NONE, KGG_NONE, g, KGN_REVIEW, NULL, why};
        int32_t d = place(&sc, &ps);
        /* its spaced reviews serve it (src none: the goal is the concept) */
        if (d != KGN_NO_DAY) add_spaced(&sc, g, d, KGG_NONE);
    }
    int32_t last_lesson = sc.day;
    for (uint32_t i = 0; i < x->nlearn && !sc.oom && !sc.past; i++) {
        const kgn__proto *L = &x->learn[i];
        uint32_t c = L->concept, sum = 0;
        size_t nn = 0;
        int32_t d = tentative(&sc, L->minutes);
        /* Judged on the day the lesson will start; reviews can push it to
         * the next study day, where recall is lower: judge again there. */
        for (int iter = 0; iter < 8; iter++) {
            nn = 0;
            sum = 0;
            for (uint32_t g = s->grp_off[c]; g < s->grp_off[c + 1]; g++)
                for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
                    uint32_t m = s->mem[j], mins;
                    const char *why;
                    int dup = 0;
                    for (size_t k = 0; k < nn && !dup; k++) dup = nd[k].m == m;
                    if (dup || !needs_review(&sc, mm, m, d, L->minutes, &mins, &why)) continue;
                    if (kg_grow(&nd, &cnd, nn + 1, sizeof *nd)) { sc.oom = 1; goto out; }
                    nd[nn++] = (need){m, mins, j, why};
                    sum += mins;
                }
            /* the day the first review starts (the lesson's, unless the
             * lesson is too long to share a day with them) */
            int32_t d2 = d;
            if (nn) {
                int32_t a = tentative(&sc, sum + L->minutes), b = tentative(&sc, sum);
                d2 = a > b ? a : b;
            }
            if (d2 == d) break;
            d = d2;
        }
        /* the reviews go on the lesson's day, right before it */
        while (nn && sc.day < d && !sc.oom) advance(&sc);
        for (size_t k = 0; k < nn && !sc.oom; k++) {
            /* asked again for the day it lands on (several reviews may not
             * share one day), which also gives its own reason text (the
             * hook's buffer holds only the last answer) */
            uint32_t mins;
            const char *why;
            int32_t td = tentative(&sc, nd[k].minutes);
            while (sc.day < td && !sc.oom) advance(&sc);    /* due spaced reviews first */
            if (!needs_review(&sc, mm, nd[k].m, sc.day, L->minutes, &mins, &why)) continue;
            nd[k].minutes = mins;
            nd[k].why = why;
            kgn__proto ps = {nd[k].m, nd[k].minutes, c, i, 0, KGN_REVIEW,
                             s->mem_reason ? s->mem_reason[nd[k].j] : NULL, nd[k].why};
            int32_t rd = place(&sc, &ps);
            studied(&sc, mm, nd[k].m, rd);
        }
        int32_t ld = place(&sc, L);
        if (ld != KGN_NO_DAY) {
            studied(&sc, mm, c, ld);
            /* a goal's use is the goal date: spaced reviews keep it */
            if (ws->flags[c] & KGN_F_GOAL) add_spaced(&sc, c, ld, i);
            last_lesson = ld;
        }
    }
    /* Spaced reviews after the last lesson, up to the horizon. */
    int32_t horizon = last_lesson + (int32_t)x->opt->spaced_days;
    size_t w = 0;
    for (size_t q = 0; q < sc.nq; q++)
        if (sc.q[q].due <= horizon) sc.q[w++] = sc.q[q];
    sc.nq = w;
    for (int guard = 0; sc.nq > 0 && !sc.oom && !sc.past && guard < DAY_GUARD; guard++) {
        int32_t mind = sc.q[0].due;
        for (size_t q = 1; q < sc.nq; q++)
            if (sc.q[q].due < mind) mind = sc.q[q].due;
        sc.day = study_day_from(mind > sc.day + 1 ? mind : sc.day + 1, sc.dpw);
        if (sc.day > KGN_LAST_DAY) break;       /* the rest would fall past 9999 */
        sc.left = sc.mpd;
        place_due(&sc);
        /* reviews pushed past the horizon by a full day are dropped */
        w = 0;
        for (size_t q = 0; q < sc.nq; q++)
            if (sc.q[q].due <= horizon || sc.q[q].due <= sc.day) sc.q[w++] = sc.q[q];
        sc.nq = w;
    }
    if (sc.oom || sc.past) goto out;
    p->end_day = sc.last != KGN_NO_DAY ? sc.last : study_day_from(p->start_day, sc.dpw);
    if (p->deadline_day != KGN_NO_DAY) {
        p->fits = p->end_day <= p->deadline_day;
        p->overrun_days = p->fits ? 0 : p->end_day - p->deadline_day;
    }
    if (finish(x, sc.v, sc.nv)) sc.oom = 1;
out:
    kg_free(mm);
    kg_free(nd);
    kg_free(sc.v);
    kg_free(sc.q);
    return sc.oom ? -1 : sc.past ? -2 : 0;
}

int kgn__steps(kgn_step_ctx *x)
{
    const kgn_options *o = x->opt;
    if (o->minutes_per_day && (o->review_at || o->spaced)) return schedule(x);
    return sequence(x);
}
