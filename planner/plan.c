/* kgn_plan_make: goals and known set in, ordered and explained study plan out.
 *
 * Steps: validate and de-duplicate the input; choose the goals that fit a
 * budget; select requirements (requirements.c); add recommended concepts;
 * order the selection; insert review steps the learner hook asks for; work
 * out which goals each step serves; pack into study days (calendar.c).
 *
 * Order: a depth-first post-order from each goal in the order given, over
 * the selected requirements of each concept (recommended concepts first,
 * then requirements by ascending topological rank). Everything one goal
 * needs comes before that goal and before anything only a later goal needs,
 * a concept comes right after its last prerequisite subtree, and a
 * transitive edge changes nothing (the concept it names is already placed
 * by the longer path). Deterministic: no hashing, no thread-dependent state. */
#include <stdlib.h>
#include <string.h>

#include "planner/plan_internal.h"

void kgn_options_init(kgn_options *o)
{
    memset(o, 0, sizeof *o);
    o->days_per_week = 7;
    o->start_day = KGN_NO_DAY;
    o->deadline_day = KGN_NO_DAY;
}

void kgn_plan_free(kgn_plan *p)
{
    if (!p) return;
    kg_arena_free(p->arena);
}

typedef struct frame { uint32_t node; size_t beg, end, cur; } frame;

typedef struct order_ctx {
    frame *fr; size_t nfr, cfr;
    uint64_t *ch; size_t nch, cch;
} order_ctx;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Ascending; a concept has a handful of requirements, where insertion sort
 * beats qsort's call overhead (this runs once per planned concept). */
static void sort_u64(uint64_t *v, size_t n)
{
    if (n > 16) { qsort(v, n, sizeof *v, cmp_u64); return; }
    for (size_t i = 1; i < n; i++) {
        uint64_t x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) { v[j] = v[j - 1]; j--; }
        v[j] = x;
    }
}

static uint32_t lvl_of(const kgn_workspace *ws, uint32_t c)
{
    uint32_t r = ws->ix->rank[c];
    return r != KGG_NONE ? r : ws->lvl[c];
}

/* Pushes a DFS frame for c with its children (rec first, then requirements
 * by level). 0 or -2. */
static int push_frame(kgn_workspace *ws, order_ctx *o, uint32_t c)
{
    const kgg_snap *s = ws->s;
    size_t beg = o->nch;
    if (s->rec_off)
        for (uint32_t j = s->rec_off[c]; j < s->rec_off[c + 1]; j++) {
            uint32_t r = s->rec[j];
            if (!kgn__in_sel(ws, r) || ws->vis[r] == ws->gen_v) continue;
            if (o->nch >= o->cch && kg_grow(&o->ch, &o->cch, o->nch + 1, sizeof *o->ch)) return -2;
            o->ch[o->nch++] = r;                  /* level 0 key: first, in written order */
        }
    size_t rb = o->nch;
    for (uint32_t g = s->grp_off[c]; g < s->grp_off[c + 1]; g++)
        for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
            uint32_t m = s->mem[j];
            if (!kgn__in_sel(ws, m) || ws->vis[m] == ws->gen_v) continue;
            if (lvl_of(ws, m) >= lvl_of(ws, c)) continue;
            if (o->nch >= o->cch && kg_grow(&o->ch, &o->cch, o->nch + 1, sizeof *o->ch)) return -2;
            o->ch[o->nch++] = ((uint64_t)lvl_of(ws, m) << 32) | m;
        }
    sort_u64(o->ch + rb, o->nch - rb);
    if (o->nfr >= o->cfr && kg_grow(&o->fr, &o->cfr, o->nfr + 1, sizeof *o->fr)) return -2;
    o->fr[o->nfr++] = (frame){c, beg, o->nch, beg};
    ws->gray[c] = ws->gen_g;
    return 0;
}

/* Post-order of the selection from the goals; fills ord (nsel entries). */
static int order_selection(kgn_workspace *ws, const uint32_t *goals, uint32_t ngoals,
                           uint32_t *ord, uint32_t *nord)
{
    order_ctx o = {0};
    int rc = 0;
    *nord = 0;
    kgn__next_gen(ws->vis, &ws->gen_v, ws->n ? ws->n : 1);
    kgn__next_gen(ws->gray, &ws->gen_g, ws->n ? ws->n : 1);
    for (uint32_t gi = 0; gi < ngoals && rc == 0; gi++) {
        if (ws->vis[goals[gi]] == ws->gen_v) continue;
        if ((rc = push_frame(ws, &o, goals[gi])) != 0) break;
        while (o.nfr > 0) {
            frame *f = &o.fr[o.nfr - 1];
            if (f->cur < f->end) {
                uint32_t ch = (uint32_t)(o.ch[f->cur++] & 0xffffffffu);
                if (ws->vis[ch] == ws->gen_v || ws->gray[ch] == ws->gen_g) continue;
                if ((rc = push_frame(ws, &o, ch)) != 0) break;
            } else {
                uint32_t c = f->node;
                o.nch = f->beg;
                o.nfr--;
                ws->vis[c] = ws->gen_v;
                ws->gray[c] = 0;
                ord[(*nord)++] = c;
            }
        }
    }
    kg_free(o.fr);
    kg_free(o.ch);
    return rc;
}

static kgp_status oom(kgn_error *err) { return kgn_fail(err, KGP_ENOMEM, "out of memory"); }

/* Sorts goals (stable) by the minutes of the selected concepts each one
 * needs on its own: its requirements' members in the selection, walked
 * transitively. A learner with an unknown time budget reaches the first
 * goals soonest, and a budget that runs out leaves whole goals reached
 * rather than parts of several. O(goals × plan). 0 or -1 (out of memory). */
static int order_goals_cheapest(kgn_workspace *ws, uint32_t *goals, uint32_t ng)
{
    const kgg_snap *s = ws->s;
    uint64_t *key = kg_malloc(ng * sizeof *key);
    if (!key) return -1;
    size_t base = ws->nstk;
    for (uint32_t gi = 0; gi < ng; gi++) {
        uint64_t cost = 0;
        kgn__next_gen(ws->vis, &ws->gen_v, ws->n ? ws->n : 1);
        ws->vis[goals[gi]] = ws->gen_v;
        if (kgn__push(&ws->stk, &ws->nstk, &ws->cstk, goals[gi]) != 0) { kg_free(key); return -1; }
        for (size_t h = base; h < ws->nstk; h++) {
            uint32_t u = ws->stk[h];
            cost += kgn__minutes(ws, u);
            for (uint32_t g = s->grp_off[u]; g < s->grp_off[u + 1]; g++)
                for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
                    uint32_t m = s->mem[j];
                    if (!kgn__in_sel(ws, m) || ws->vis[m] == ws->gen_v) continue;
                    ws->vis[m] = ws->gen_v;
                    if (kgn__push(&ws->stk, &ws->nstk, &ws->cstk, m) != 0) { kg_free(key); return -1; }
                }
        }
        ws->nstk = base;
        key[gi] = cost;
    }
    for (uint32_t i = 1; i < ng; i++) {     /* insertion sort: stable, few goals */
        uint64_t k = key[i];
        uint32_t g = goals[i], j = i;
        while (j > 0 && key[j - 1] > k) { key[j] = key[j - 1]; goals[j] = goals[j - 1]; j--; }
        key[j] = k;
        goals[j] = g;
    }
    kg_free(key);
    return 0;
}

/* On an authored-order index: marks the lessons that no prerequisite or
 * recommendation of the goals reaches without the added order groups (a
 * walk over every member of the other groups, and over recommended edges
 * that brought concepts in, through the selection only). O(plan). */
static int mark_course_order(kgn_workspace *ws, kgn_plan *p, const uint32_t *goals, uint32_t ng)
{
    const kgg_snap *s = ws->s;
    const uint8_t *og = ws->ix->order_grp;
    size_t base = ws->nstk;
    kgn__next_gen(ws->vis, &ws->gen_v, ws->n ? ws->n : 1);
    for (uint32_t i = 0; i < ng; i++) {
        if (ws->vis[goals[i]] == ws->gen_v) continue;
        ws->vis[goals[i]] = ws->gen_v;
        if (kgn__push(&ws->stk, &ws->nstk, &ws->cstk, goals[i]) != 0) return -1;
    }
    for (size_t h = base; h < ws->nstk; h++) {
        uint32_t u = ws->stk[h];
        for (uint32_t g = s->grp_off[u]; g < s->grp_off[u + 1]; g++) {
            if (og[g]) continue;
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
                uint32_t m = s->mem[j];
                if (!kgn__in_sel(ws, m) || ws->vis[m] == ws->gen_v) continue;
                ws->vis[m] = ws->gen_v;
                if (kgn__push(&ws->stk, &ws->nstk, &ws->cstk, m) != 0) return -1;
            }
        }
        if (s->rec_off)
            for (uint32_t j = s->rec_off[u]; j < s->rec_off[u + 1]; j++) {
                uint32_t r = s->rec[j];
                if (!kgn__in_sel(ws, r) || !(ws->flags[r] & KGN_F_REC) || ws->vis[r] == ws->gen_v) continue;
                ws->vis[r] = ws->gen_v;
                if (kgn__push(&ws->stk, &ws->nstk, &ws->cstk, r) != 0) return -1;
            }
    }
    ws->nstk = base;
    for (uint32_t i = 0; i < p->nsteps; i++)
        if (p->steps[i].kind == KGN_LEARN && ws->vis[p->steps[i].concept] != ws->gen_v)
            p->steps[i].course_order = 1;
    return 0;
}

kgp_status kgn_plan_make(kgn_workspace *ws, const uint32_t *goals_in, size_t ngoals_in,
                         const uint32_t *known_in, size_t nknown_in,
                         const kgn_options *opt_in, kgn_plan **out, kgn_error *err)
{
    const kgg_snap *s = ws->s;
    kgn_options opt;
    if (opt_in) opt = *opt_in; else kgn_options_init(&opt);
    *out = NULL;
    if (ngoals_in == 0) return kgn_fail(err, KGP_EUSAGE, "no goal given");
    for (size_t i = 0; i < ngoals_in; i++)
        if (goals_in[i] >= s->n) return kgn_fail(err, KGP_EUSAGE, "goal id %u out of range", goals_in[i]);
    for (size_t i = 0; i < nknown_in; i++)
        if (known_in[i] >= s->n) return kgn_fail(err, KGP_EUSAGE, "known id %u out of range", known_in[i]);
    if (opt.days_per_week == 0) opt.days_per_week = 7;
    if (opt.days_per_week > 7) return kgn_fail(err, KGP_EUSAGE, "days per week must be 1..7, not %u", opt.days_per_week);
    if (opt.minutes_per_day && opt.start_day == KGN_NO_DAY)
        return kgn_fail(err, KGP_EUSAGE, "a calendar needs a start day");
    if (!opt.minutes_per_day && opt.deadline_day != KGN_NO_DAY)
        return kgn_fail(err, KGP_EUSAGE, "a deadline needs minutes per day and a start day");
    if (opt.minutes_per_day && opt.deadline_day != KGN_NO_DAY && opt.deadline_day < opt.start_day)
        return kgn_fail(err, KGP_EUSAGE, "the deadline is before the start day");
    if (opt.budget_minutes < 0) return kgn_fail(err, KGP_EUSAGE, "negative budget");
    ws->def_minutes = opt.default_minutes ? opt.default_minutes : KGN_DEFAULT_MINUTES;
    uint64_t limit = opt.exact_limit ? opt.exact_limit : KGN_EXACT_LIMIT;

    kgn__begin(ws, known_in, nknown_in);
    kg_arena *A = kg_arena_new();
    if (!A) return oom(err);
    kgn_plan *p = kg_arena_calloc(A, sizeof *p);
    uint32_t *goals = kg_arena_alloc(A, ngoals_in * sizeof *goals + 1);
    uint32_t *known = kg_arena_alloc(A, nknown_in * sizeof *known + 1);
    uint32_t *dropped = kg_arena_alloc(A, ngoals_in * sizeof *dropped + 1);
    uint64_t *dropped_min = kg_arena_alloc(A, ngoals_in * sizeof *dropped_min + 1);
    uint32_t *mastered = kg_arena_alloc(A, ngoals_in * sizeof *mastered + 1);
    if (!p || !goals || !known || !dropped || !dropped_min || !mastered) { kg_arena_free(A); return oom(err); }
    p->mastered = mastered;
    p->arena = A;
    p->snap = s;
    p->deadline_day = KGN_NO_DAY;
    p->start_day = p->end_day = KGN_NO_DAY;
    p->budget_minutes = opt.budget_minutes;
    /* De-duplicate known and goals (vis stamps). */
    kgn__next_gen(ws->vis, &ws->gen_v, ws->n ? ws->n : 1);
    for (size_t i = 0; i < nknown_in; i++)
        if (ws->vis[known_in[i]] != ws->gen_v) { ws->vis[known_in[i]] = ws->gen_v; known[p->nknown++] = known_in[i]; }
    p->known = known;
    kgn__next_gen(ws->vis, &ws->gen_v, ws->n ? ws->n : 1);
    uint32_t ng = 0;
    for (size_t i = 0; i < ngoals_in; i++) {
        uint32_t g = goals_in[i];
        if (ws->vis[g] == ws->gen_v) continue;
        ws->vis[g] = ws->gen_v;
        if (kgn__is_known(ws, g)) {
            if (opt.known_goals_ok) { mastered[p->nmastered++] = g; continue; }
            kg_arena_free(A);
            return kgn_fail(err, KGP_ECONFLICT, "goal '%s' is already known", s->key[g]);
        }
        goals[ng++] = g;
    }
    for (uint32_t i = 0; i < ng; i++) {
        if (!kgn__learnable(ws, goals[i])) {
            if (ws->oom) { kg_arena_free(A); return oom(err); }
            char why[700];
            uint32_t g = goals[i];
            kgn__why_blocked(ws, g, why, sizeof why);
            kg_arena_free(A);
            return kgn_fail(err, KGP_ECONFLICT, "goal '%s' cannot be reached: %s", s->key[g], why);
        }
    }
    int exact = 1;
    uint32_t nchoices = 0, bad = KGG_NONE;
    int rc;
    if (opt.budget_minutes > 0) {
        /* Goals in the order given; each kept when the plan with it fits. */
        uint32_t nacc = 0;
        for (uint32_t i = 0; i < ng; i++) {
            uint32_t g = goals[i];
            goals[nacc] = g;
            rc = kgn__solve(ws, goals, nacc + 1, limit, &exact, &nchoices, &bad);
            if (rc == -2) { kg_arena_free(A); return oom(err); }
            if (rc == 0 && (double)ws->cost <= opt.budget_minutes) nacc++;
            else { dropped[p->ndropped] = g; dropped_min[p->ndropped++] = ws->cost; }
        }
        ng = nacc;
    }
    p->goals = goals;
    p->ngoals = ng;
    p->dropped = dropped;
    p->dropped_minutes = dropped_min;
    rc = kgn__solve(ws, goals, ng, limit, &exact, &nchoices, &bad);
    if (rc == -2) { kg_arena_free(A); return oom(err); }
    if (rc == -1) {
        char why[700];
        kgn__why_blocked(ws, bad, why, sizeof why);
        kg_arena_free(A);
        return kgn_fail(err, KGP_ECONFLICT, "goal '%s' cannot be reached: %s", s->key[bad], why);
    }
    p->exact = exact;
    p->nchoices = nchoices;
    if (opt.include_recommended || opt.budget_minutes > 0) {
        if (kgn__add_recommended(ws, opt.budget_minutes, opt.include_recommended) != 0) {
            kg_arena_free(A);
            return oom(err);
        }
    }

    if (opt.cheapest_goals_first && ng > 1 && order_goals_cheapest(ws, goals, ng) != 0) {
        kg_arena_free(A);
        return oom(err);
    }

    /* Order. */
    uint32_t nsel = (uint32_t)ws->nsel, nord = 0;
    uint32_t *ord = kg_arena_alloc(A, (nsel + 1) * sizeof *ord);
    if (!ord || order_selection(ws, goals, ng, ord, &nord) != 0) { kg_arena_free(A); return oom(err); }
    if (nord != nsel) {
        /* Every selected concept hangs below a goal; anything else is a bug. */
        kg_arena_free(A);
        return kgn_fail(err, KGP_EINTERNAL, "ordering placed %u of %u concepts", nord, nsel);
    }

    /* Skipped known concepts (gray stamps: listed), in order of first use. */
    kgn__proto *learn = kg_arena_alloc(A, ((size_t)nord + 1) * sizeof *learn);
    uint32_t *skipped = kg_arena_alloc(A, (ws->nsel + p->nknown + 1) * sizeof *skipped);
    if (!learn || !skipped) { kg_arena_free(A); return oom(err); }
    kgn__next_gen(ws->gray, &ws->gen_g, ws->n ? ws->n : 1);
    for (uint32_t i = 0; i < nord; i++) {
        uint32_t c = ord[i];
        for (uint32_t g = s->grp_off[c]; g < s->grp_off[c + 1]; g++)
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
                uint32_t m = s->mem[j];
                if (!kgn__is_known(ws, m) || ws->gray[m] == ws->gen_g) continue;
                ws->gray[m] = ws->gen_g;
                if (p->nskipped < ws->nsel + p->nknown) skipped[p->nskipped++] = m;
            }
        ws->pos[c] = i;
        learn[i] = (kgn__proto){c, kgn__minutes(ws, c), ws->parent[c], i, 0, KGN_LEARN, ws->reason[c],
                                opt.learn_note ? opt.learn_note(opt.learn_note_ud, c) : NULL};
    }
    p->skipped = skipped;

    /* Goals served: bitsets per lesson, propagated against the order. */
    size_t W = (ng + 63) / 64;
    if (W == 0) W = 1;
    if (kg_grow(&ws->bits, &ws->cbits, (size_t)nord * W + 1, sizeof *ws->bits)) { kg_arena_free(A); return oom(err); }
    memset(ws->bits, 0, (size_t)nord * W * sizeof *ws->bits);
    for (uint32_t i = nord; i-- > 0;) {
        uint32_t c = ord[i];
        uint64_t *b = ws->bits + (size_t)i * W;
        if (ws->flags[c] & KGN_F_GOAL)
            for (uint32_t q = 0; q < ng; q++)
                if (goals[q] == c) b[q / 64] |= 1ull << (q % 64);
        for (uint32_t g = s->grp_off[c]; g < s->grp_off[c + 1]; g++)
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
                uint32_t m = s->mem[j];
                if (!kgn__in_sel(ws, m) || lvl_of(ws, m) >= lvl_of(ws, c)) continue;
                uint64_t *bm = ws->bits + (size_t)ws->pos[m] * W;
                for (size_t w = 0; w < W; w++) bm[w] |= b[w];
            }
        if (s->rec_off)
            for (uint32_t j = s->rec_off[c]; j < s->rec_off[c + 1]; j++) {
                uint32_t r = s->rec[j];
                if (!kgn__in_sel(ws, r) || ws->pos[r] >= i) continue;
                uint64_t *bm = ws->bits + (size_t)ws->pos[r] * W;
                for (size_t w = 0; w < W; w++) bm[w] |= b[w];
            }
    }
    /* Steps: lessons, reviews, spaced reviews, study days (schedule.c). */
    if (opt.minutes_per_day) {
        p->calendar = 1;
        p->minutes_per_day = opt.minutes_per_day;
        p->days_per_week = opt.days_per_week;
        p->start_day = opt.start_day;
        p->deadline_day = opt.deadline_day;
    }
    kgn_step_ctx sx = {ws, p, &opt, learn, nord, ws->bits, W};
    if ((rc = kgn__steps(&sx)) != 0) {
        kg_arena_free(A);
        if (rc == -1) return oom(err);
        return kgn_fail(err, KGP_ECONFLICT, "the plan's calendar would run past 9999-12-31: "
                        "start earlier or study more minutes a day");
    }
    if (ws->ix->order_grp && mark_course_order(ws, p, goals, ng) != 0) { kg_arena_free(A); return oom(err); }
    *out = p;
    return KGP_OK;
}
