/* Planner: closure, k-of-n choice, order, calendar, explanations, errors.
 * Plans are checked by an independent validator; random DAGs by the
 * thousand; the k-of-n choice against brute force on small graphs. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "planner/learner_fsrs.h"
#include "planner/planner.h"
#include "tests/snapfix.h"
#include "tests/testutil.h"

/* ---- independent validator --------------------------------------------- */

static uint32_t minutes_of(const kgg_snap *s, uint32_t c, uint32_t def)
{
    float m = s->minutes[c];
    if (m < 0) return def;
    return (uint32_t)(m + 0.5f);
}

/* Returns NULL when the plan is valid, else a static description. */
static const char *validate(const kgg_snap *s, const kgn_plan *p, const uint32_t *known,
                            size_t nknown, uint32_t def_minutes)
{
    static char msg[256];
    uint32_t n = s->n;
    int *isknown = calloc(n, sizeof *isknown);
    int *learned = calloc(n, sizeof *learned);   /* step index + 1 */
    int *reviewed = calloc(n, sizeof *reviewed);
    int32_t *lastday = malloc(n * sizeof *lastday);   /* last study day (calendar) */
    const char *bad = NULL;
    for (size_t i = 0; i < nknown; i++) isknown[known[i]] = 1;
    for (uint32_t i = 0; i < n; i++) lastday[i] = INT32_MIN;
    uint64_t total = 0;
    for (uint32_t i = 0; i < p->nsteps && !bad; i++) {
        const kgn_step *st = &p->steps[i];
        uint32_t c = st->concept;
        total += st->minutes;
        int32_t end = st->nsessions ? st->sessions[st->nsessions - 1].day : INT32_MIN;
        if (st->kind == KGN_REVIEW) {
            /* of a concept known or learned earlier; again only after a
             * later study (reviews are decided at each use) */
            reviewed[c]++;
            if (!isknown[c] && !learned[c]) { snprintf(msg, sizeof msg, "review of unknown %s", s->key[c]); bad = msg; }
            else if (p->calendar && lastday[c] != INT32_MIN && st->day <= lastday[c] && st->via != KGG_NONE) {
                snprintf(msg, sizeof msg, "review of %s on the day of its last study", s->key[c]); bad = msg;
            }
            else if (st->via == KGG_NONE) {
                /* a mastered goal's review: the goal is listed as mastered */
                int ok = 0;
                for (uint32_t q = 0; q < p->nmastered; q++) ok |= p->mastered[q] == c;
                if (!ok) { snprintf(msg, sizeof msg, "review of %s for nothing", s->key[c]); bad = msg; }
            } else {
                /* before the lesson that needs it, on or before its first day */
                uint32_t u = st->via;
                int need = 0, later = -1;
                for (uint32_t g = s->grp_off[u]; g < s->grp_off[u + 1]; g++)
                    for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) need |= s->mem[j] == c;
                for (uint32_t q = i + 1; q < p->nsteps && later < 0; q++)
                    if (p->steps[q].kind == KGN_LEARN && p->steps[q].concept == u) later = (int)q;
                if (!need || later < 0) { snprintf(msg, sizeof msg, "review of %s not before a lesson needing it", s->key[c]); bad = msg; }
                else if (p->calendar && st->day > p->steps[later].day) { snprintf(msg, sizeof msg, "review of %s after the day it is needed", s->key[c]); bad = msg; }
            }
            if (end != INT32_MIN) lastday[c] = end;
            continue;
        }
        if (st->kind == KGN_SPACED) {
            if (!p->calendar) { bad = "spaced review without a calendar"; break; }
            if (!learned[c] && !reviewed[c]) { snprintf(msg, sizeof msg, "spaced review of %s before studying it", s->key[c]); bad = msg; break; }
            if (st->nsessions != 1 || st->day <= lastday[c]) { snprintf(msg, sizeof msg, "spaced review of %s not after its last study", s->key[c]); bad = msg; break; }
            lastday[c] = st->day;
            continue;
        }
        if (end != INT32_MIN) lastday[c] = end;
        if (isknown[c]) { snprintf(msg, sizeof msg, "known %s planned", s->key[c]); bad = msg; break; }
        if (learned[c]) { snprintf(msg, sizeof msg, "duplicate %s", s->key[c]); bad = msg; break; }
        if (st->minutes != minutes_of(s, c, def_minutes)) {
            snprintf(msg, sizeof msg, "minutes of %s: %u", s->key[c], st->minutes); bad = msg; break;
        }
        /* Every group satisfied by known concepts and earlier steps. */
        for (uint32_t g = s->grp_off[c]; g < s->grp_off[c + 1]; g++) {
            uint32_t have = 0;
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++)
                have += isknown[s->mem[j]] || learned[s->mem[j]];
            if (have < s->grp_k[g]) {
                snprintf(msg, sizeof msg, "%s before its requirements (group %u: %u of %u)",
                         s->key[c], g, have, s->grp_k[g]);
                bad = msg;
            }
        }
        learned[c] = (int)i + 1;
    }
    for (uint32_t i = 0; i < p->ngoals && !bad; i++)
        if (!learned[p->goals[i]]) { snprintf(msg, sizeof msg, "goal %s missing", s->key[p->goals[i]]); bad = msg; }
    /* Every learn step is a goal or is needed/recommended by a later step. */
    for (uint32_t i = 0; i < p->nsteps && !bad; i++) {
        const kgn_step *st = &p->steps[i];
        if (st->kind != KGN_LEARN || st->is_goal) continue;
        int used = 0;
        for (uint32_t d = 0; d < n && !used; d++) {
            if (learned[d] <= (int)i + 1) continue;
            for (uint32_t g = s->grp_off[d]; g < s->grp_off[d + 1]; g++)
                for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++)
                    used |= s->mem[j] == st->concept;
            for (uint32_t j = s->rec_off[d]; j < s->rec_off[d + 1]; j++)
                used |= s->rec[j] == st->concept;
        }
        if (!used) { snprintf(msg, sizeof msg, "%s needed by nothing", s->key[st->concept]); bad = msg; }
    }
    if (!bad && total != p->total_minutes) { snprintf(msg, sizeof msg, "total %lu != %lu", (unsigned long)total, (unsigned long)p->total_minutes); bad = msg; }
    if (!bad && p->calendar) {
        /* Days non-decreasing, study days only, within the daily limit. */
        int32_t prev = p->start_day;
        uint32_t used_today = 0;
        for (uint32_t i = 0; i < p->nsteps && !bad; i++) {
            const kgn_step *st = &p->steps[i];
            uint32_t sum = 0;
            for (uint32_t q = 0; q < st->nsessions; q++) {
                const kgn_session *se = &st->sessions[q];
                if (se->day < prev) { bad = "day goes back"; break; }
                if (se->day > prev) used_today = 0;
                prev = se->day;
                used_today += se->minutes;
                if (used_today > p->minutes_per_day) { bad = "daily limit exceeded"; break; }
                if ((uint32_t)kgn_date_weekday(se->day) > p->days_per_week) { bad = "not a study day"; break; }
                sum += se->minutes;
            }
            if (!bad && sum != st->minutes) bad = "sessions do not add up";
            if (!bad && st->nsessions && st->day != st->sessions[0].day) bad = "step day != first session";
        }
        if (!bad && p->deadline_day != KGN_NO_DAY) {
            if (p->fits != (p->end_day <= p->deadline_day)) bad = "fits flag wrong";
        }
    }
    free(isknown); free(learned); free(reviewed); free(lastday);
    return bad;
}

/* ---- brute force: least total minutes over all valid selections ---------- */

/* Returns the optimum, or UINT64_MAX when no selection reaches the goals.
 * The graph must be a DAG with members < owner (sf_random). */
static uint64_t brute_force(const kgg_snap *s, const uint32_t *goals, size_t ng,
                            const uint32_t *known, size_t nknown, uint32_t def)
{
    uint32_t n = s->n, free_ids[32], nf = 0;
    int *isknown = calloc(n, sizeof *isknown), *in = calloc(n, sizeof *in);
    for (size_t i = 0; i < nknown; i++) isknown[known[i]] = 1;
    for (uint32_t c = 0; c < n; c++) if (!isknown[c]) free_ids[nf++] = c;
    ck_assert_uint_le(nf, 20);
    uint64_t best = UINT64_MAX;
    for (uint64_t mask = 0; mask < (1ull << nf); mask++) {
        uint64_t cost = 0;
        for (uint32_t b = 0; b < nf; b++) {
            in[free_ids[b]] = (mask >> b) & 1;
            if (in[free_ids[b]]) cost += minutes_of(s, free_ids[b], def);
        }
        if (cost >= best) continue;
        int ok = 1;
        for (size_t i = 0; i < ng && ok; i++) ok = in[goals[i]];
        for (uint32_t c = 0; c < n && ok; c++) {
            if (!in[c]) continue;
            for (uint32_t g = s->grp_off[c]; g < s->grp_off[c + 1] && ok; g++) {
                uint32_t have = 0;
                for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++)
                    have += isknown[s->mem[j]] || in[s->mem[j]];
                ok = have >= s->grp_k[g];
            }
        }
        if (ok) best = cost;
    }
    free(isknown); free(in);
    return best;
}

/* ---- helpers ------------------------------------------------------------ */

typedef struct fx { kgg_snap *s; kgn_index *ix; kgn_workspace *ws; } fx;

static fx fx_open(kgg_snap *s)
{
    fx f = { s, NULL, NULL };
    kgn_error err = {0};
    ck_assert_int_eq(kgn_index_new(s, &f.ix, &err), KGP_OK);
    f.ws = kgn_workspace_new(f.ix);
    ck_assert_ptr_nonnull(f.ws);
    return f;
}

static void fx_close(fx *f)
{
    kgn_workspace_free(f->ws);
    kgn_index_free(f->ix);
    sf_free(f->s);
}

static kgn_plan *plan_ok(fx *f, const uint32_t *g, size_t ng, const uint32_t *k, size_t nk,
                         const kgn_options *o)
{
    kgn_plan *p = NULL;
    kgn_error err = {0};
    kgp_status st = kgn_plan_make(f->ws, g, ng, k, nk, o, &p, &err);
    ck_assert_msg(st == KGP_OK, "plan failed: %s", err.msg);
    const char *bad = validate(f->s, p, k, nk, o && o->default_minutes ? o->default_minutes : KGN_DEFAULT_MINUTES);
    ck_assert_msg(bad == NULL, "invalid plan: %s", bad);
    return p;
}

static int step_index(const kgn_plan *p, uint32_t c)
{
    for (uint32_t i = 0; i < p->nsteps; i++)
        if (p->steps[i].concept == c && p->steps[i].kind == KGN_LEARN) return (int)i;
    return -1;
}

/* ---- unit tests --------------------------------------------------------- */

START_TEST(test_chain_and_known)
{
    /* c0 <- c1 <- c2 <- c3 (each needs the previous). */
    sf_builder *b = sf_new(4);
    sf_req(b, 1, 0, "basics");
    sf_req(b, 2, 1, NULL);
    sf_req(b, 3, 2, "uses 2");
    fx f = fx_open(sf_build(b));
    uint32_t goal = 3, known = 1;
    kgn_plan *p = plan_ok(&f, &goal, 1, NULL, 0, NULL);
    ck_assert_uint_eq(p->nsteps, 4);
    for (uint32_t i = 0; i < 4; i++) ck_assert_uint_eq(p->steps[i].concept, i);
    ck_assert_uint_eq(p->total_minutes, 40);
    ck_assert(p->steps[3].is_goal);
    ck_assert_uint_eq(p->steps[2].via, 3);
    ck_assert_str_eq(p->steps[2].via_reason, "uses 2");
    ck_assert_uint_eq(p->steps[0].ngoals, 1);
    ck_assert_uint_eq(p->steps[0].goals[0], 3);
    kgn_plan_free(p);
    /* Known c1: c0 is not needed (what a known concept needs is not needed). */
    p = plan_ok(&f, &goal, 1, &known, 1, NULL);
    ck_assert_uint_eq(p->nsteps, 2);
    ck_assert_uint_eq(p->steps[0].concept, 2);
    ck_assert_uint_eq(p->nskipped, 1);
    ck_assert_uint_eq(p->skipped[0], 1);
    kgn_plan_free(p);
    fx_close(&f);
}
END_TEST

START_TEST(test_kofn_shared_beats_greedy)
{
    /* g needs A = 1 of {x, y} and B = 1 of {y, z}; x and z cost 6, y 10:
     * per-group greedy takes x then z (12), the optimum is y alone (10). */
    sf_builder *b = sf_new(4);
    sf_concept(b, 0, "t:x", "X", 6);
    sf_concept(b, 1, "t:y", "Y", 10);
    sf_concept(b, 2, "t:z", "Z", 6);
    sf_concept(b, 3, "t:g", "G", 1);
    uint32_t a[2] = {0, 1}, bb[2] = {1, 2};
    sf_group(b, 3, 1, a, 2, 0, "either");
    sf_group(b, 3, 1, bb, 2, 0, "either");
    fx f = fx_open(sf_build(b));
    uint32_t goal = 3;
    kgn_plan *p = plan_ok(&f, &goal, 1, NULL, 0, NULL);
    ck_assert(p->exact);
    ck_assert_uint_eq(p->total_minutes, 11);
    ck_assert_uint_eq(p->nsteps, 2);
    ck_assert_uint_eq(p->steps[0].concept, 1);
    kgn_plan_free(p);
    /* With the search disabled (limit 1) the greedy plan is kept, marked inexact. */
    kgn_options o;
    kgn_options_init(&o);
    o.exact_limit = 1;
    p = plan_ok(&f, &goal, 1, NULL, 0, &o);
    ck_assert(!p->exact);
    ck_assert_uint_eq(p->total_minutes, 13);
    kgn_plan_free(p);
    fx_close(&f);
}
END_TEST

START_TEST(test_kofn_prefers_cheap_closure)
{
    /* g needs 2 of {a, b, c}; a is cheap but needs an expensive p. */
    sf_builder *b = sf_new(5);
    sf_concept(b, 0, "t:p", "P", 100);
    sf_concept(b, 1, "t:a", "A", 1);
    sf_concept(b, 2, "t:b", "B", 20);
    sf_concept(b, 3, "t:c", "C", 30);
    sf_concept(b, 4, "t:g", "G", 5);
    sf_req(b, 1, 0, NULL);
    uint32_t m[3] = {1, 2, 3};
    sf_group(b, 4, 2, m, 3, 0, "two of three");
    fx f = fx_open(sf_build(b));
    uint32_t goal = 4;
    kgn_plan *p = plan_ok(&f, &goal, 1, NULL, 0, NULL);
    ck_assert_uint_eq(p->total_minutes, 55);
    ck_assert_int_lt(step_index(p, 1), 0);
    kgn_plan_free(p);
    /* Knowing p makes a free of its prerequisite: a + b is best. */
    uint32_t known = 0;
    p = plan_ok(&f, &goal, 1, &known, 1, NULL);
    ck_assert_uint_eq(p->total_minutes, 26);
    kgn_plan_free(p);
    fx_close(&f);
}
END_TEST

START_TEST(test_order_goals_and_transitive)
{
    /* g1 needs a, b; b needs a (a->g1 is transitive); g2 needs c. */
    sf_builder *b = sf_new(5);
    sf_concept(b, 0, "t:a", "A", 10);
    sf_concept(b, 1, "t:c", "C", 10);
    sf_concept(b, 2, "t:b", "B", 10);
    sf_concept(b, 3, "t:g2", "G2", 10);
    sf_concept(b, 4, "t:g1", "G1", 10);
    sf_req(b, 4, 0, NULL);
    sf_req(b, 4, 2, NULL);
    sf_req(b, 2, 0, NULL);
    sf_req(b, 3, 1, NULL);
    fx f = fx_open(sf_build(b));
    uint32_t goals[2] = {4, 3};
    kgn_plan *p = plan_ok(&f, goals, 2, NULL, 0, NULL);
    uint32_t want[5] = {0, 2, 4, 1, 3};
    ck_assert_uint_eq(p->nsteps, 5);
    for (int i = 0; i < 5; i++) ck_assert_uint_eq(p->steps[i].concept, want[i]);
    kgn_plan_free(p);
    fx_close(&f);
}
END_TEST

START_TEST(test_calendar)
{
    /* 2026-11-30 is a Monday. Steps 50, 50, 130 minutes; 60 a day, 5 days a week. */
    sf_builder *b = sf_new(3);
    sf_minutes(b, 0, 50);
    sf_minutes(b, 1, 50);
    sf_minutes(b, 2, 130);
    sf_req(b, 1, 0, NULL);
    sf_req(b, 2, 1, NULL);
    fx f = fx_open(sf_build(b));
    uint32_t goal = 2;
    kgn_options o;
    kgn_options_init(&o);
    o.minutes_per_day = 60;
    o.days_per_week = 5;
    ck_assert_int_eq(kgn_date_parse("2026-11-30", &o.start_day), 0);
    ck_assert_int_eq(kgn_date_weekday(o.start_day), 1);
    ck_assert_int_eq(kgn_date_parse("2026-12-02", &o.deadline_day), 0);
    kgn_plan *p = plan_ok(&f, &goal, 1, NULL, 0, &o);
    ck_assert(p->calendar);
    ck_assert_int_eq(p->steps[0].day, o.start_day);
    ck_assert_int_eq(p->steps[1].day, o.start_day + 1);
    /* 130 minutes: 10 left on Tuesday, then 60 Wed, 60 Thu. */
    ck_assert_uint_eq(p->steps[2].nsessions, 3);
    ck_assert_uint_eq(p->steps[2].sessions[0].minutes, 10);
    ck_assert_int_eq(p->end_day, o.start_day + 3);
    ck_assert(!p->fits);
    ck_assert_int_eq(p->overrun_days, 1);
    ck_assert_uint_eq(p->overrun_minutes, 60);
    kgn_plan_free(p);
    /* Starting on a Saturday with 5 days a week: first day is Monday. */
    ck_assert_int_eq(kgn_date_parse("2026-12-05", &o.start_day), 0);
    o.deadline_day = KGN_NO_DAY;
    p = plan_ok(&f, &goal, 1, NULL, 0, &o);
    ck_assert_int_eq(kgn_date_weekday(p->steps[0].day), 1);
    kgn_plan_free(p);
    fx_close(&f);
}
END_TEST

START_TEST(test_dates)
{
    int32_t d;
    char buf[16];
    ck_assert_int_eq(kgn_date_parse("1970-01-01", &d), 0);
    ck_assert_int_eq(d, 0);
    ck_assert_int_eq(kgn_date_parse("2024-02-29", &d), 0);
    kgn_date_format(d, buf);
    ck_assert_str_eq(buf, "2024-02-29");
    kgn_date_format(d + 1, buf);
    ck_assert_str_eq(buf, "2024-03-01");
    ck_assert_int_eq(kgn_date_parse("2023-02-29", &d), -1);
    ck_assert_int_eq(kgn_date_parse("2023-13-01", &d), -1);
    ck_assert_int_eq(kgn_date_parse("2023-1-01", &d), -1);
    ck_assert_int_eq(kgn_date_parse("2023-01-0x", &d), -1);
    ck_assert_int_eq(kgn_date_parse("", &d), -1);
    ck_assert_int_eq(kgn_date_parse(NULL, &d), -1);
}
END_TEST

START_TEST(test_budget_and_recommended)
{
    /* g1 = 10 + needs a (10); g2 = 50; r recommended before g1 (5). */
    sf_builder *b = sf_new(4);
    sf_concept(b, 0, "t:a", "A", 10);
    sf_concept(b, 1, "t:g1", "G1", 10);
    sf_concept(b, 2, "t:g2", "G2", 50);
    sf_concept(b, 3, "t:r", "R", 5);
    sf_req(b, 1, 0, NULL);
    sf_rec(b, 1, 3, "nice to have");
    fx f = fx_open(sf_build(b));
    uint32_t goals[2] = {2, 1};
    kgn_options o;
    kgn_options_init(&o);
    o.budget_minutes = 30;
    kgn_plan *p = plan_ok(&f, goals, 2, NULL, 0, &o);
    ck_assert_uint_eq(p->ngoals, 1);
    ck_assert_uint_eq(p->goals[0], 1);
    ck_assert_uint_eq(p->ndropped, 1);
    ck_assert_uint_eq(p->dropped[0], 2);
    ck_assert_uint_eq(p->dropped_minutes[0], 50);
    /* r fits the budget: 25 minutes in all, r before g1. */
    ck_assert_uint_eq(p->total_minutes, 25);
    ck_assert_int_lt(step_index(p, 3), step_index(p, 1));
    ck_assert(p->steps[step_index(p, 3)].recommended);
    kgn_plan_free(p);
    /* Without budget or the flag: no recommended concept. */
    p = plan_ok(&f, goals + 1, 1, NULL, 0, NULL);
    ck_assert_int_lt(step_index(p, 3), 0);
    kgn_plan_free(p);
    kgn_options_init(&o);
    o.include_recommended = 1;
    p = plan_ok(&f, goals + 1, 1, NULL, 0, &o);
    ck_assert_int_ge(step_index(p, 3), 0);
    kgn_plan_free(p);
    /* A budget nothing fits: an empty plan listing both goals as dropped. */
    kgn_options_init(&o);
    o.budget_minutes = 5;
    p = plan_ok(&f, goals, 2, NULL, 0, &o);
    ck_assert_uint_eq(p->ngoals, 0);
    ck_assert_uint_eq(p->nsteps, 0);
    ck_assert_uint_eq(p->ndropped, 2);
    kgn_plan_free(p);
    fx_close(&f);
}
END_TEST

static int review_hook(void *ud, uint32_t c, uint32_t *minutes, const char **why)
{
    (void)ud;
    if (c != 0) return 0;
    *minutes = 7;
    *why = "faded";
    return 1;
}

START_TEST(test_review_hook)
{
    sf_builder *b = sf_new(3);
    sf_req(b, 1, 0, NULL);
    sf_req(b, 2, 1, NULL);
    sf_req(b, 2, 0, NULL);
    fx f = fx_open(sf_build(b));
    uint32_t goal = 2, known = 0;
    kgn_options o;
    kgn_options_init(&o);
    o.review = review_hook;
    kgn_plan *p = plan_ok(&f, &goal, 1, &known, 1, &o);
    ck_assert_uint_eq(p->nsteps, 3);
    ck_assert_int_eq(p->steps[0].kind, KGN_REVIEW);
    ck_assert_uint_eq(p->steps[0].concept, 0);
    ck_assert_uint_eq(p->steps[0].minutes, 7);
    ck_assert_str_eq(p->steps[0].note, "faded");
    ck_assert_uint_eq(p->total_minutes, 27);
    kgn_plan_free(p);
    fx_close(&f);
}
END_TEST

/* Dated hook: concept 0's retrievability falls 0.05 a day from day 20000
 * and is reviewed once below 0.9 (from day 20003 on). */
static int dated_hook(void *ud, uint32_t c, int32_t day, uint32_t *minutes, const char **why)
{
    static _Thread_local char buf[64];
    int *calls = ud;
    if (calls) (*calls)++;
    if (c != 0) return 0;
    double r = 1.0 - 0.05 * (day - 20000);
    if (r >= 0.9) return 0;
    char d[16];
    kgn_date_format(day, d);
    snprintf(buf, sizeof buf, "retrievability %.2f on %s", r, d);
    *minutes = 6;
    *why = buf;
    return 1;
}

START_TEST(test_review_on_day_needed)
{
    /* c0 known; c1 -> c2 -> c3 an hour each; c4 needs c3 and c0. At 60
     * min/day from day 20000 (a Monday: 1970-01-01 + 20000 = 2024-10-04,
     * any weekday with 7 days a week), c4 is on day 20003: c0 is fine at
     * the start but faded on the day it is needed. */
    sf_builder *b = sf_new(5);
    sf_concept(b, 0, "t:c0", "C0", 30);
    for (uint32_t i = 1; i <= 3; i++) {
        char k[8];
        snprintf(k, sizeof k, "t:c%u", i);
        sf_concept(b, i, k, k, 60);
    }
    sf_concept(b, 4, "t:c4", "C4", 20);
    sf_req(b, 2, 1, NULL);
    sf_req(b, 3, 2, NULL);
    sf_req(b, 4, 3, NULL);
    sf_req(b, 4, 0, "uses c0");
    fx f = fx_open(sf_build(b));
    uint32_t goal = 4, known = 0;
    kgn_options o;
    kgn_options_init(&o);
    o.minutes_per_day = 60;
    o.start_day = 20000;
    int calls = 0;
    o.review_at = dated_hook;
    o.review_at_ud = &calls;
    kgn_plan *p = plan_ok(&f, &goal, 1, &known, 1, &o);
    ck_assert_uint_eq(p->nsteps, 5);
    ck_assert_int_eq(p->steps[3].kind, KGN_REVIEW);
    ck_assert_uint_eq(p->steps[3].concept, 0);
    ck_assert_uint_eq(p->steps[3].via, 4);
    ck_assert_int_eq(p->steps[3].day, 20003);
    ck_assert_int_eq(p->steps[4].day, 20003);
    char d[16], want[128];
    kgn_date_format(20003, d);
    snprintf(want, sizeof want, "retrievability 0.85 on %s", d);
    ck_assert_str_eq(p->steps[3].note, want);
    ck_assert_uint_eq(p->nreviews, 1);
    ck_assert_int_gt(calls, 0);
    /* The reason is in the text and JSON explanations. */
    kg_buf buf = {0};
    ck_assert_int_eq(kgn_plan_render(p, KGN_TEXT, &buf), KGP_OK);
    snprintf(want, sizeof want, "review: retrievability 0.85 on %s, needed for 't:c4'", d);
    ck_assert_msg(strstr(buf.data, want) != NULL, "%s", buf.data);
    kg_buf_free(&buf);
    kgn_plan_free(p);
    /* Without a calendar it is judged on the start day: no review. */
    o.minutes_per_day = 0;
    p = plan_ok(&f, &goal, 1, &known, 1, &o);
    ck_assert_uint_eq(p->nreviews, 0);
    kgn_plan_free(p);
    /* Two hours a day: c4 is on day 20001, c0 still fresh. */
    o.minutes_per_day = 120;
    p = plan_ok(&f, &goal, 1, &known, 1, &o);
    ck_assert_uint_eq(p->nreviews, 0);
    kgn_plan_free(p);
    fx_close(&f);
}
END_TEST

/* Spaced hook over FSRS-6 with default parameters at retention 0.9: each
 * study "good" at noon, each review on time and "good". */
static size_t fsrs_hook(void *ud, uint32_t c, int32_t day, int32_t *days, double *r,
                        size_t max, uint32_t *minutes)
{
    (void)ud; (void)c;
    const double *w = kgn_fsrs_default_w;
    kgn_fsrs_card card = {0};
    kgn_fsrs_review(w, &card, KGN_GOOD, (int64_t)day * 86400 + 43200);
    size_t k = 0;
    int32_t prev = day;
    while (k < max) {
        int ivl = kgn_fsrs_interval_days(w, card.stability, 0.9, 36500);
        int32_t d = prev + (ivl < 1 ? 1 : ivl);
        days[k] = d;
        r[k] = kgn_fsrs_card_r(w, &card, (int64_t)d * 86400 + 43200);
        kgn_fsrs_review(w, &card, KGN_GOOD, (int64_t)d * 86400 + 43200);
        prev = d;
        k++;
    }
    *minutes = 5;
    return k;
}

START_TEST(test_spaced_reviews_fsrs)
{
    /* a (30) -> b (30) -> g (30), 40 min/day, 5 days a week. */
    sf_builder *b = sf_new(3);
    sf_concept(b, 0, "t:a", "A", 30);
    sf_concept(b, 1, "t:b", "B", 30);
    sf_concept(b, 2, "t:g", "G", 30);
    sf_req(b, 1, 0, NULL);
    sf_req(b, 2, 1, NULL);
    fx f = fx_open(sf_build(b));
    uint32_t goal = 2;
    kgn_options o;
    kgn_options_init(&o);
    o.minutes_per_day = 40;
    o.days_per_week = 5;
    ck_assert_int_eq(kgn_date_parse("2026-11-30", &o.start_day), 0);   /* a Monday */
    o.spaced = fsrs_hook;
    o.spaced_days = 90;
    kgn_plan *p = plan_ok(&f, &goal, 1, NULL, 0, &o);
    /* FSRS-6 by hand: S0(good) = w2 = 2.3065 days; at r = 0.9 the interval
     * is S itself, 2 days (rounded). */
    ck_assert_int_eq(kgn_fsrs_interval_days(kgn_fsrs_default_w, 2.3065, 0.9, 36500), 2);
    int32_t learned[3] = {0, 0, 0}, prev[3] = {0, 0, 0};
    uint32_t nsp[3] = {0, 0, 0};
    int32_t first_gap[3] = {0, 0, 0};
    for (uint32_t i = 0; i < p->nsteps; i++) {
        const kgn_step *st = &p->steps[i];
        if (st->kind == KGN_LEARN) { learned[st->concept] = st->sessions[st->nsessions - 1].day; prev[st->concept] = learned[st->concept]; continue; }
        ck_assert_int_eq(st->kind, KGN_SPACED);
        uint32_t c = st->concept;
        ck_assert_uint_eq(st->minutes, 5);
        ck_assert_int_gt(st->day, prev[c]);
        ck_assert_uint_ge(kgn_date_weekday(st->day), 1);
        ck_assert_uint_le(kgn_date_weekday(st->day), 5);
        if (nsp[c]++ == 0) first_gap[c] = st->day - learned[c];
        ck_assert_ptr_nonnull(strstr(st->note, "retrievability 0."));
        ck_assert_uint_eq(st->ngoals, 1);
        ck_assert_uint_eq(st->goals[0], 2);
        prev[c] = st->day;
    }
    /* Only the goal is kept by spaced reviews, several within 90 days, the
     * first 2 days after it was learned (3-4 when that is a weekend); a and
     * b are used the day after they are learned (recall still above the
     * target): no review of them at all. */
    ck_assert_uint_eq(nsp[0], 0);
    ck_assert_uint_eq(nsp[1], 0);
    ck_assert_uint_ge(nsp[2], 3);
    ck_assert_int_ge(first_gap[2], 2);
    ck_assert_int_le(first_gap[2], 4);
    ck_assert_uint_eq(p->nspaced, nsp[2]);
    ck_assert_uint_eq(p->nreviews, 0);
    /* a on Mon, b on Tue (a does not leave room), g on Wed, then g's
     * spaced reviews. */
    ck_assert_int_eq(learned[0], o.start_day);
    ck_assert_int_eq(learned[1], o.start_day + 1);
    ck_assert_int_eq(p->steps[2].kind, KGN_LEARN);
    ck_assert_uint_eq(p->steps[2].concept, 2);
    ck_assert_int_eq(p->steps[2].day, o.start_day + 2);
    ck_assert_int_eq(p->steps[3].kind, KGN_SPACED);
    ck_assert_uint_eq(p->steps[3].concept, 2);
    /* JSON: kind "review", spaced true, with its day in the schedule. */
    kg_buf buf = {0};
    ck_assert_int_eq(kgn_plan_render(p, KGN_JSON, &buf), KGP_OK);
    json_error_t je;
    json_t *j = json_loads(buf.data, 0, &je);
    ck_assert_msg(j != NULL, "%s", je.text);
    json_t *s2 = json_array_get(json_object_get(j, "steps"), 3);
    ck_assert_str_eq(json_string_value(json_object_get(s2, "kind")), "review");
    ck_assert(json_is_true(json_object_get(s2, "spaced")));
    json_decref(j);
    kg_buf_free(&buf);
    kgn_plan_free(p);
    /* Horizon 0: only reviews due by the last lesson. */
    o.spaced_days = 0;
    p = plan_ok(&f, &goal, 1, NULL, 0, &o);
    int32_t last_lesson = 0;
    for (uint32_t i = 0; i < p->nsteps; i++)
        if (p->steps[i].kind == KGN_LEARN) last_lesson = p->steps[i].day;
    for (uint32_t i = 0; i < p->nsteps; i++)
        ck_assert_int_le(p->steps[i].day, last_lesson);
    kgn_plan_free(p);
    /* Without a calendar there are no spaced reviews. */
    o.minutes_per_day = 0;
    p = plan_ok(&f, &goal, 1, NULL, 0, &o);
    ck_assert_uint_eq(p->nspaced, 0);
    kgn_plan_free(p);
    fx_close(&f);
}
END_TEST

START_TEST(test_known_goal)
{
    /* c0 -> c1 -> c2; the learner knows c2 (a goal) and c0. */
    sf_builder *b = sf_new(4);
    sf_req(b, 1, 0, NULL);
    sf_req(b, 2, 1, NULL);
    sf_req(b, 3, 0, NULL);
    fx f = fx_open(sf_build(b));
    uint32_t goals[2] = {2, 3}, known[2] = {2, 0};
    kgn_options o;
    kgn_options_init(&o);
    kgn_plan *p = NULL;
    kgn_error err = {0};
    ck_assert_int_eq(kgn_plan_make(f.ws, goals, 2, known, 2, &o, &p, &err), KGP_ECONFLICT);
    o.known_goals_ok = 1;
    p = plan_ok(&f, goals, 2, known, 2, &o);
    ck_assert_uint_eq(p->nmastered, 1);
    ck_assert_uint_eq(p->mastered[0], 2);
    ck_assert_uint_eq(p->ngoals, 1);
    ck_assert_uint_eq(p->nsteps, 1);
    kg_buf buf = {0};
    ck_assert_int_eq(kgn_plan_render(p, KGN_TEXT, &buf), KGP_OK);
    ck_assert_ptr_nonnull(strstr(buf.data, "goal already mastered: t:c2"));
    kg_buf_free(&buf);
    kgn_plan_free(p);
    /* Fading (the hook asks): a review step, before everything. */
    o.review = review_hook;     /* reviews concept 0 only */
    uint32_t g0 = 0, k0 = 0;
    p = plan_ok(&f, &g0, 1, &k0, 1, &o);
    ck_assert_uint_eq(p->nsteps, 1);
    ck_assert_int_eq(p->steps[0].kind, KGN_REVIEW);
    ck_assert_uint_eq(p->steps[0].via, KGG_NONE);
    ck_assert_uint_eq(p->steps[0].ngoals, 1);
    ck_assert_uint_eq(p->steps[0].goals[0], 0);
    ck_assert_int_eq(kgn_plan_render(p, KGN_JSON, &buf), KGP_OK);
    ck_assert_ptr_nonnull(strstr(buf.data, "\"mastered_goals\":[\"t:c0\"]"));
    ck_assert_ptr_nonnull(strstr(buf.data, "goal already mastered"));
    kg_buf_free(&buf);
    kgn_plan_free(p);
    fx_close(&f);
}
END_TEST

START_TEST(test_next_due_reviews)
{
    sf_builder *b = sf_new(3);
    sf_req(b, 1, 0, NULL);
    sf_req(b, 2, 1, NULL);
    fx f = fx_open(sf_build(b));
    uint32_t known[3] = {0, 0, 2};
    kgn_next *x = NULL;
    kgn_error err = {0};
    ck_assert_int_eq(kgn_next_make(f.ws, NULL, 0, known, 3, 0, &x, &err), KGP_OK);
    ck_assert_int_eq(kgn_next_reviews(x, known, 3, dated_hook, NULL, 20005, &err), KGP_OK);
    ck_assert_uint_eq(x->nreviews, 1);
    ck_assert_uint_eq(x->reviews[0].concept, 0);
    ck_assert_uint_eq(x->reviews[0].minutes, 6);
    ck_assert_ptr_nonnull(strstr(x->reviews[0].why, "retrievability 0.75"));
    kg_buf buf = {0};
    ck_assert_int_eq(kgn_next_render(x, KGN_JSON, &buf), KGP_OK);
    json_error_t je;
    json_t *j = json_loads(buf.data, 0, &je);
    ck_assert_msg(j != NULL, "%s", je.text);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "reviews")), 1);
    json_decref(j);
    buf.len = 0;
    ck_assert_int_eq(kgn_next_render(x, KGN_TEXT, &buf), KGP_OK);
    ck_assert_ptr_nonnull(strstr(buf.data, "Due reviews: 1"));
    kg_buf_free(&buf);
    uint32_t bad = 99;
    ck_assert_int_eq(kgn_next_reviews(x, &bad, 1, dated_hook, NULL, 20005, &err), KGP_EUSAGE);
    kgn_next_free(x);
    /* Not fading yet: none, but the JSON still says so. */
    ck_assert_int_eq(kgn_next_make(f.ws, NULL, 0, known, 3, 0, &x, &err), KGP_OK);
    ck_assert_int_eq(kgn_next_reviews(x, known, 3, dated_hook, NULL, 20000, &err), KGP_OK);
    ck_assert_uint_eq(x->nreviews, 0);
    ck_assert_int_eq(kgn_next_render(x, KGN_JSON, &buf), KGP_OK);
    ck_assert_ptr_nonnull(strstr(buf.data, "\"reviews\":[]"));
    kg_buf_free(&buf);
    kgn_next_free(x);
    fx_close(&f);
}
END_TEST

START_TEST(test_errors)
{
    /* c0 <-> c1 cycle; c2 behind it; c3 needs 2 of {c4, missing}; c4 free. */
    sf_builder *b = sf_new(6);
    sf_req(b, 0, 1, NULL);
    sf_req(b, 1, 0, NULL);
    sf_req(b, 2, 1, NULL);
    uint32_t m = 4;
    sf_group(b, 3, 2, &m, 1, 1, "two needed");
    fx f = fx_open(sf_build(b));
    kgn_plan *p = NULL;
    kgn_error err = {0};
    uint32_t g;
    ck_assert_int_eq(kgn_plan_make(f.ws, NULL, 0, NULL, 0, NULL, &p, &err), KGP_EUSAGE);
    g = 99;
    ck_assert_int_eq(kgn_plan_make(f.ws, &g, 1, NULL, 0, NULL, &p, &err), KGP_EUSAGE);
    g = 2;
    ck_assert_int_eq(kgn_plan_make(f.ws, &g, 1, NULL, 0, NULL, &p, &err), KGP_ECONFLICT);
    ck_assert_msg(strstr(err.msg, "cycle") && strstr(err.msg, "t:c2"), "%s", err.msg);
    g = 3;
    ck_assert_int_eq(kgn_plan_make(f.ws, &g, 1, NULL, 0, NULL, &p, &err), KGP_ECONFLICT);
    ck_assert_msg(strstr(err.msg, "x:missing0") && strstr(err.msg, "needs 2 of 2"), "%s", err.msg);
    ck_assert_ptr_null(p);
    g = 4;
    uint32_t k = 4;
    ck_assert_int_eq(kgn_plan_make(f.ws, &g, 1, &k, 1, NULL, &p, &err), KGP_ECONFLICT);
    ck_assert_msg(strstr(err.msg, "already known"), "%s", err.msg);
    /* Knowing c1 cuts the cycle: c2 becomes reachable. */
    g = 2; k = 1;
    p = plan_ok(&f, &g, 1, &k, 1, NULL);
    ck_assert_uint_eq(p->nsteps, 1);
    kgn_plan_free(p);
    kgn_options o;
    kgn_options_init(&o);
    o.days_per_week = 8;
    g = 4;
    ck_assert_int_eq(kgn_plan_make(f.ws, &g, 1, NULL, 0, &o, &p, &err), KGP_EUSAGE);
    kgn_options_init(&o);
    o.minutes_per_day = 30;
    ck_assert_int_eq(kgn_plan_make(f.ws, &g, 1, NULL, 0, &o, &p, &err), KGP_EUSAGE);
    kgn_options_init(&o);
    o.deadline_day = 100;
    ck_assert_int_eq(kgn_plan_make(f.ws, &g, 1, NULL, 0, &o, &p, &err), KGP_EUSAGE);
    fx_close(&f);
}
END_TEST


/* ---- renderers, next, check --------------------------------------------- */

static kgg_snap *small_course(void)
{
    /* a -> b -> g1; a -> c; g1 needs 1 of {c, d}; d expensive; r rec before g1;
     * k known; b also needs k. */
    sf_builder *b = sf_new(7);
    sf_concept(b, 0, "alg:a", "Sets & \"logic\"", 20);
    sf_concept(b, 1, "alg:b", "Functions", 30);
    sf_concept(b, 2, "alg:c", "Relations", 15);
    sf_concept(b, 3, "alg:d", "Category theory", 200);
    sf_concept(b, 4, "alg:g1", "Linear maps", 45);
    sf_concept(b, 5, "alg:r", "History", 5);
    sf_concept(b, 6, "alg:k", "Numbers", 10);
    sf_req(b, 1, 0, "functions are sets of pairs");
    sf_req(b, 1, 6, NULL);
    sf_req(b, 2, 0, NULL);
    sf_req(b, 4, 1, "maps are functions");
    uint32_t alt[2] = {2, 3};
    sf_group(b, 4, 1, alt, 2, 0, "some structure");
    sf_rec(b, 4, 5, "context");
    return sf_build(b);
}

START_TEST(test_render_json)
{
    fx f = fx_open(small_course());
    uint32_t goal = 4, known = 6;
    kgn_options o;
    kgn_options_init(&o);
    o.minutes_per_day = 40;
    ck_assert_int_eq(kgn_date_parse("2026-12-01", &o.start_day), 0);
    ck_assert_int_eq(kgn_date_parse("2026-12-02", &o.deadline_day), 0);
    kgn_plan *p = plan_ok(&f, &goal, 1, &known, 1, &o);
    kg_buf b = {0};
    ck_assert_int_eq(kgn_plan_render(p, KGN_JSON, &b), KGP_OK);
    json_error_t je;
    json_t *j = json_loads(b.data, 0, &je);
    ck_assert_msg(j != NULL, "bad JSON: %s\n%s", je.text, b.data);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "kgpath_plan")), 1);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "goals"), 0)), "alg:g1");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "known"), 0)), "alg:k");
    json_t *steps = json_object_get(j, "steps");
    ck_assert_uint_eq(json_array_size(steps), 4);
    /* Requirements by topological rank: c (rank 4) before b (rank 5). */
    const char *want[4] = {"alg:a", "alg:c", "alg:b", "alg:g1"};
    json_int_t sum = 0;
    for (size_t i = 0; i < 4; i++) {
        json_t *st = json_array_get(steps, i);
        ck_assert_str_eq(json_string_value(json_object_get(st, "concept")), want[i]);
        ck_assert_str_eq(json_string_value(json_object_get(st, "kind")), "learn");
        ck_assert(json_is_string(json_object_get(st, "day")));
        ck_assert(json_is_array(json_object_get(st, "why")));
        ck_assert_uint_ge(json_array_size(json_object_get(st, "why")), 1);
        sum += json_integer_value(json_object_get(st, "minutes"));
    }
    ck_assert_int_eq(sum, json_integer_value(json_object_get(j, "total_minutes")));
    ck_assert_int_eq(sum, 110);
    /* The chain names the edge reason. */
    json_t *why_a = json_object_get(json_array_get(steps, 0), "why");
    int found = 0;
    for (size_t i = 0; i < json_array_size(why_a); i++)
        found |= strstr(json_string_value(json_array_get(why_a, i)), "functions are sets of pairs") != NULL;
    ck_assert(found);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(j, "skipped_known"), 0)), "alg:k");
    json_t *cal = json_object_get(j, "calendar");
    /* a 20 + c 15 on Dec 1; b 30 on Dec 2 (does not fit the 5 left); g1 45
     * split 10 + 35 over Dec 2 and 3: one day past the deadline. */
    ck_assert(json_is_false(json_object_get(cal, "fits")));
    ck_assert_int_eq(json_integer_value(json_object_get(cal, "overrun_days")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(cal, "overrun_minutes")), 35);
    ck_assert_uint_eq(json_array_size(json_object_get(cal, "days")), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(steps, 0), "day")), "2026-12-01");
    json_decref(j);
    kg_buf_free(&b);
    kgn_plan_free(p);
    /* Without a calendar "day" is null. */
    p = plan_ok(&f, &goal, 1, &known, 1, NULL);
    ck_assert_int_eq(kgn_plan_render(p, KGN_JSON, &b), KGP_OK);
    j = json_loads(b.data, 0, &je);
    ck_assert(json_is_null(json_object_get(json_array_get(json_object_get(j, "steps"), 0), "day")));
    ck_assert(json_is_null(json_object_get(j, "calendar")));
    json_decref(j);
    kg_buf_free(&b);
    kgn_plan_free(p);
    fx_close(&f);
}
END_TEST

START_TEST(test_render_text_dot_html)
{
    fx f = fx_open(small_course());
    uint32_t goal = 4, known = 6;
    kgn_options o;
    kgn_options_init(&o);
    o.include_recommended = 1;
    o.minutes_per_day = 30;
    ck_assert_int_eq(kgn_date_parse("2026-12-01", &o.start_day), 0);
    kgn_plan *p = plan_ok(&f, &goal, 1, &known, 1, &o);
    kg_buf b = {0};
    ck_assert_int_eq(kgn_plan_render(p, KGN_TEXT, &b), KGP_OK);
    ck_assert_msg(strstr(b.data, "alg:g1") && strstr(b.data, "Skipped (known): alg:k") &&
                  strstr(b.data, "maps are functions") && strstr(b.data, "Total: 1 h 55 min"), "%s", b.data);
    kg_buf_free(&b);
    ck_assert_int_eq(kgn_plan_render(p, KGN_DOT, &b), KGP_OK);
    ck_assert_msg(strstr(b.data, "digraph") && strstr(b.data, "\"alg:a\" -> \"alg:b\"") &&
                  strstr(b.data, "Sets & \\\"logic\\\"") && strstr(b.data, "style=dotted"), "%s", b.data);
    ck_assert_ptr_null(strstr(b.data, "alg:d"));
    kg_buf_free(&b);
    ck_assert_int_eq(kgn_plan_render(p, KGN_HTML, &b), KGP_OK);
    ck_assert(strstr(b.data, "<svg") && strstr(b.data, "Sets &amp; &quot;logic&quot;"));
    ck_assert_ptr_null(strstr(b.data, "http://") == NULL ? NULL : strstr(strstr(b.data, "http://") + 1, "http://"));
    ck_assert_ptr_null(strstr(b.data, "<script"));
    ck_assert_ptr_nonnull(strstr(b.data, "data-day=\"2026-12-01\""));
    for (uint32_t i = 0; i < p->nsteps; i++) {
        char needle[64];
        snprintf(needle, sizeof needle, "data-concept=\"%s\"", f.s->key[p->steps[i].concept]);
        ck_assert_msg(strstr(b.data, needle), "missing %s", needle);
    }
    kg_buf_free(&b);
    kgn_plan_free(p);
    fx_close(&f);
}
END_TEST

START_TEST(test_next)
{
    fx f = fx_open(small_course());
    kgn_next *x = NULL;
    kgn_error err = {0};
    uint32_t known = 6;
    /* Without goals: a, k? k known; roots a, d, r; a unlocks most. */
    ck_assert_int_eq(kgn_next_make(f.ws, NULL, 0, &known, 1, 0, &x, &err), KGP_OK);
    ck_assert_uint_eq(x->total, 3);
    ck_assert_str_eq(f.s->key[x->items[0].concept], "alg:a");
    ck_assert_uint_eq(x->items[0].unlocks, 3);
    kg_buf b = {0};
    ck_assert_int_eq(kgn_next_render(x, KGN_JSON, &b), KGP_OK);
    json_t *j = json_loads(b.data, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "next")), 3);
    json_decref(j);
    kg_buf_free(&b);
    kgn_next_free(x);
    /* With goal g1: only a is ready within the plan (d is not in it). */
    uint32_t goal = 4;
    ck_assert_int_eq(kgn_next_make(f.ws, &goal, 1, &known, 1, 0, &x, &err), KGP_OK);
    ck_assert_uint_eq(x->total, 1);
    ck_assert_str_eq(f.s->key[x->items[0].concept], "alg:a");
    ck_assert_uint_eq(x->items[0].goals, 1);
    ck_assert_int_eq(kgn_next_render(x, KGN_TEXT, &b), KGP_OK);
    ck_assert_ptr_nonnull(strstr(b.data, "alg:a"));
    kg_buf_free(&b);
    kgn_next_free(x);
    /* Limit. */
    ck_assert_int_eq(kgn_next_make(f.ws, NULL, 0, &known, 1, 1, &x, &err), KGP_OK);
    ck_assert_uint_eq(x->nitems, 1);
    ck_assert_uint_eq(x->total, 3);
    kgn_next_free(x);
    /* Errors: a known goal. */
    ck_assert_int_eq(kgn_next_make(f.ws, &known, 1, &known, 1, 0, &x, &err), KGP_ECONFLICT);
    uint32_t bad = 77;
    ck_assert_int_eq(kgn_next_make(f.ws, NULL, 0, &bad, 1, 0, &x, &err), KGP_EUSAGE);
    fx_close(&f);
}
END_TEST

START_TEST(test_check)
{
    /* 0 -> 1 -> 2, 0 -> 2 (redundant); 3 <-> 4 cycle, 5 behind it;
     * 6 orphan; 7 needs a missing concept; 8 needs 1 of {0, 1} (not redundant). */
    sf_builder *b = sf_new(9);
    sf_concept(b, 3, "t:c3", "Chicken", 10);
    sf_concept(b, 4, "t:c4", "Egg", 10);
    sf_req(b, 1, 0, NULL);
    sf_req(b, 2, 1, NULL);
    sf_req(b, 2, 0, NULL);
    sf_req(b, 3, 4, NULL);
    sf_req(b, 4, 3, NULL);
    sf_req(b, 5, 4, NULL);
    sf_group(b, 7, 1, NULL, 0, 1, NULL);
    uint32_t alt[2] = {0, 1};
    sf_group(b, 8, 1, alt, 2, 0, NULL);
    sf_req(b, 8, 1, NULL);
    fx f = fx_open(sf_build(b));
    kgn_check *c = NULL;
    kgn_error err = {0};
    ck_assert_int_eq(kgn_check_make(f.ix, &c, &err), KGP_OK);
    ck_assert_uint_eq(c->ncycles, 1);
    ck_assert_uint_eq(c->cycle_off[1] - c->cycle_off[0], 2);
    ck_assert_uint_eq(c->nredundant, 1);
    ck_assert_uint_eq(c->redundant[0].from, 0);
    ck_assert_uint_eq(c->redundant[0].to, 2);
    ck_assert_uint_eq(c->norphans, 1);
    ck_assert_uint_eq(c->orphans[0], 6);
    ck_assert_uint_eq(c->nunreachable, 4);   /* 3, 4, 5, 7 */
    ck_assert_ptr_nonnull(c->metrics);
    ck_assert_uint_eq(c->metrics[0].blocking, 3);   /* 1, 2, 8 */
    ck_assert_uint_eq(c->metrics[1].delay, 3);      /* 0 -> 1 -> 2 */
    ck_assert_uint_eq(c->metrics[0].complexity, 6);
    ck_assert_uint_ge(c->nbottlenecks, 1);
    /* Egg lies on the chain Chicken -> Egg -> 5 (betweenness breaks the tie). */
    ck_assert_uint_eq(c->bottlenecks[0], 4);
    int has1 = 0;
    for (uint32_t i = 0; i < c->nbottlenecks; i++) has1 |= c->bottlenecks[i] == 1;
    ck_assert(has1);
    kg_buf bt = {0};
    ck_assert_int_eq(kgn_check_render(c, KGN_TEXT, &bt), KGP_OK);
    ck_assert_msg(strstr(bt.data, "\"Chicken\"") && strstr(bt.data, "\"Egg\"") &&
                  strstr(bt.data, "x:missing0"), "%s", bt.data);
    kg_buf_free(&bt);
    ck_assert_int_eq(kgn_check_render(c, KGN_JSON, &bt), KGP_OK);
    json_error_t je;
    json_t *j = json_loads(bt.data, 0, &je);
    ck_assert_msg(j != NULL, "%s", je.text);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "kgpath_check")), 1);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "cycles")), 1);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "dangling")), 1);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "metrics")), 9);
    json_decref(j);
    kg_buf_free(&bt);
    kgn_check_free(c);
    fx_close(&f);
}
END_TEST



/* ---- property tests ----------------------------------------------------- */

static void random_request(uint64_t *st, uint32_t n, uint32_t *goals, size_t *ng,
                           uint32_t *known, size_t *nk)
{
    *ng = 1 + sf_rand(st) % 4;
    for (size_t i = 0; i < *ng; i++) goals[i] = (uint32_t)(sf_rand(st) % n);
    *nk = 0;
    for (uint32_t c = 0; c < n; c++)
        if (sf_rand(st) % 100 < 12) known[(*nk)++] = c;
}

/* Reviews a concept when (7c + day) % 5 == 0: varies with the day. */
static int rand_dated_hook(void *ud, uint32_t c, int32_t day, uint32_t *minutes, const char **why)
{
    (void)ud;
    if (((uint64_t)c * 7 + (uint32_t)day) % 5 != 0) return 0;
    *minutes = 1 + c % 13;
    *why = "due";
    return 1;
}

START_TEST(test_random_dags_validate)
{
    uint64_t st = 42;
    uint32_t goals[8], *known = malloc(400 * sizeof *known);
    int planned = 0, conflicts = 0;
    for (int iter = 0; iter < 1500; iter++) {
        sf_random_opts ro = { .n = 10 + (uint32_t)(sf_rand(&st) % 150), .max_groups = 3,
                              .max_members = 5, .pct_choice = 35, .pct_unknown_minutes = 10,
                              .pct_rec = 20, .pct_unresolved = 4, .window = 30 };
        fx f = fx_open(sf_random((uint64_t)iter, &ro));
        for (int r = 0; r < 3; r++) {
            size_t ng, nk;
            random_request(&st, ro.n, goals, &ng, known, &nk);
            kgn_options o;
            kgn_options_init(&o);
            o.include_recommended = sf_rand(&st) % 4 == 0;
            if (sf_rand(&st) % 3 == 0) {
                o.minutes_per_day = 20 + (uint32_t)(sf_rand(&st) % 100);
                o.days_per_week = 1 + (uint32_t)(sf_rand(&st) % 7);
                o.start_day = 20000 + (int32_t)(sf_rand(&st) % 7);
                if (sf_rand(&st) & 1) o.deadline_day = o.start_day + (int32_t)(sf_rand(&st) % 20);
            }
            if (sf_rand(&st) % 5 == 0) o.budget_minutes = (double)(sf_rand(&st) % 300);
            if (sf_rand(&st) % 3 == 0) {
                /* learner hooks: dated reviews, FSRS spaced reviews, known goals */
                o.review_at = rand_dated_hook;
                o.spaced = sf_rand(&st) & 1 ? fsrs_hook : NULL;
                o.spaced_days = (uint32_t)(sf_rand(&st) % 40);
                o.known_goals_ok = 1;
            }
            kgn_plan *p = NULL;
            kgn_error err = {0};
            kgp_status s = kgn_plan_make(f.ws, goals, ng, known, nk, &o, &p, &err);
            if (s == KGP_ECONFLICT) { conflicts++; ck_assert(err.msg[0]); continue; }
            ck_assert_msg(s == KGP_OK, "status %d: %s", s, err.msg);
            const char *bad = validate(f.s, p, known, nk, KGN_DEFAULT_MINUTES);
            ck_assert_msg(bad == NULL, "iter %d: %s", iter, bad);
            if (o.budget_minutes > 0) {
                /* the budget is for lessons; review steps come on top */
                uint64_t lm = 0;
                for (uint32_t q = 0; q < p->nsteps; q++)
                    if (p->steps[q].kind == KGN_LEARN) lm += p->steps[q].minutes;
                ck_assert((double)lm <= o.budget_minutes);
            }
            if (r == 0) {
                /* Every renderer on random plans; JSON must parse and agree. */
                kg_buf b = {0};
                ck_assert_int_eq(kgn_plan_render(p, KGN_JSON, &b), KGP_OK);
                json_error_t je;
                json_t *j = json_loads(b.data, 0, &je);
                ck_assert_msg(j != NULL, "iter %d: %s", iter, je.text);
                ck_assert_uint_eq(json_array_size(json_object_get(j, "steps")), p->nsteps);
                ck_assert_int_eq(json_integer_value(json_object_get(j, "total_minutes")), (json_int_t)p->total_minutes);
                json_decref(j);
                for (int fmt = KGN_TEXT; fmt <= KGN_HTML; fmt++) {
                    if (fmt == KGN_JSON) continue;
                    b.len = 0;
                    ck_assert_int_eq(kgn_plan_render(p, (kgn_format)fmt, &b), KGP_OK);
                    ck_assert(b.len > 0);
                }
                kg_buf_free(&b);
            }
            /* Deterministic: the same request gives the same plan. */
            kgn_plan *q = NULL;
            ck_assert_int_eq(kgn_plan_make(f.ws, goals, ng, known, nk, &o, &q, &err), KGP_OK);
            ck_assert_uint_eq(p->nsteps, q->nsteps);
            for (uint32_t i = 0; i < p->nsteps; i++)
                ck_assert_uint_eq(p->steps[i].concept, q->steps[i].concept);
            kgn_plan_free(q);
            kgn_plan_free(p);
            planned++;
        }
        if (iter % 5 == 0) {
            /* check and next on the same random graphs: sane, no crash. */
            kgn_check *c = NULL;
            kgn_error err = {0};
            ck_assert_int_eq(kgn_check_make(f.ix, &c, &err), KGP_OK);
            ck_assert_uint_eq(c->ncycles, 0);
            for (uint32_t u = 0; u < c->nunreachable; u++) ck_assert(!f.ix->feasible[c->unreachable[u]]);
            kg_buf b = {0};
            ck_assert_int_eq(kgn_check_render(c, KGN_JSON, &b), KGP_OK);
            json_t *j = json_loads(b.data, 0, NULL);
            ck_assert_ptr_nonnull(j);
            json_decref(j);
            kg_buf_free(&b);
            kgn_check_free(c);
            size_t ng, nk;
            random_request(&st, ro.n, goals, &ng, known, &nk);
            kgn_next *x = NULL;
            kgp_status s = kgn_next_make(f.ws, NULL, 0, known, nk, 0, &x, &err);
            ck_assert_int_eq(s, KGP_OK);
            /* Every fringe item is unknown and has all requirements met by known ones. */
            for (uint32_t i = 0; i < x->nitems; i++) {
                uint32_t c2 = x->items[i].concept;
                for (size_t q = 0; q < nk; q++) ck_assert_uint_ne(known[q], c2);
                for (uint32_t g = f.s->grp_off[c2]; g < f.s->grp_off[c2 + 1]; g++) {
                    uint32_t have = 0;
                    for (uint32_t m = f.s->mem_off[g]; m < f.s->mem_off[g + 1]; m++)
                        for (size_t q = 0; q < nk; q++) have += known[q] == f.s->mem[m];
                    ck_assert_uint_ge(have, f.s->grp_k[g]);
                }
            }
            /* ... and every such concept is listed. */
            uint32_t ready = 0;
            for (uint32_t c2 = 0; c2 < f.s->n; c2++) {
                int isk = 0, ok = 1;
                for (size_t q = 0; q < nk; q++) isk |= known[q] == c2;
                for (uint32_t g = f.s->grp_off[c2]; ok && g < f.s->grp_off[c2 + 1]; g++) {
                    uint32_t have = 0;
                    for (uint32_t m = f.s->mem_off[g]; m < f.s->mem_off[g + 1]; m++)
                        for (size_t q = 0; q < nk; q++) have += known[q] == f.s->mem[m];
                    ok = have >= f.s->grp_k[g];
                }
                ready += !isk && ok;
            }
            ck_assert_uint_eq(x->total, ready);
            kgn_next_free(x);
        }
        fx_close(&f);
    }
    free(known);
    ck_assert_int_gt(planned, 2000);
    ck_assert_int_gt(conflicts, 10);
}
END_TEST

START_TEST(test_brute_force)
{
    uint64_t st = 7;
    int exact = 0, compared = 0;
    for (int iter = 0; iter < 600; iter++) {
        sf_random_opts ro = { .n = 6 + (uint32_t)(sf_rand(&st) % 9), .max_groups = 3,
                              .max_members = 4, .pct_choice = 60, .pct_unknown_minutes = 10,
                              .pct_rec = 0, .pct_unresolved = 3, .window = 0 };
        fx f = fx_open(sf_random(1000 + (uint64_t)iter, &ro));
        uint32_t goals[8], known[32];
        size_t ng, nk;
        random_request(&st, ro.n, goals, &ng, known, &nk);
        /* Goals must not be known (that is an error, tested elsewhere). */
        size_t w = 0;
        for (size_t i = 0; i < nk; i++) {
            int isgoal = 0;
            for (size_t j = 0; j < ng; j++) isgoal |= goals[j] == known[i];
            if (!isgoal) known[w++] = known[i];
        }
        nk = w;
        uint64_t opt = brute_force(f.s, goals, ng, known, nk, KGN_DEFAULT_MINUTES);
        kgn_plan *p = NULL;
        kgn_error err = {0};
        kgp_status s = kgn_plan_make(f.ws, goals, ng, known, nk, NULL, &p, &err);
        if (opt == UINT64_MAX) {
            ck_assert_msg(s == KGP_ECONFLICT, "iter %d: brute force finds no plan, planner %d", iter, s);
        } else {
            ck_assert_msg(s == KGP_OK, "iter %d: %s", iter, err.msg);
            ck_assert(validate(f.s, p, known, nk, KGN_DEFAULT_MINUTES) == NULL);
            ck_assert_uint_ge(p->total_minutes, opt);
            if (p->exact) {
                ck_assert_msg(p->total_minutes == opt, "iter %d: %lu > optimum %lu", iter,
                              (unsigned long)p->total_minutes, (unsigned long)opt);
                exact++;
            }
            compared++;
            kgn_plan_free(p);
        }
        fx_close(&f);
    }
    ck_assert_int_gt(compared, 300);
    ck_assert_int_eq(exact, compared);
}
END_TEST

/* Many threads plan on one index, each with its own workspace: results equal
 * the single-threaded ones. */
typedef struct thr_arg { fx *f; int id; uint64_t sum; } thr_arg;

static uint64_t plan_checksum(kgn_workspace *ws, const kgn_index *ix, int which)
{
    uint64_t st = 99 + (uint64_t)which, sum = 0;
    uint32_t goals[8], known[600];
    for (int r = 0; r < 40; r++) {
        size_t ng, nk;
        random_request(&st, ix->snap->n, goals, &ng, known, &nk);
        kgn_plan *p = NULL;
        kgn_error err;
        if (kgn_plan_make(ws, goals, ng, known, nk, NULL, &p, &err) != KGP_OK) { sum += 7; continue; }
        for (uint32_t i = 0; i < p->nsteps; i++) sum = sum * 31 + p->steps[i].concept;
        kgn_plan_free(p);
    }
    return sum;
}

static void *thr_main(void *a)
{
    thr_arg *t = a;
    kgn_workspace *ws = kgn_workspace_new(t->f->ix);
    t->sum = plan_checksum(ws, t->f->ix, t->id);
    kgn_workspace_free(ws);
    return NULL;
}

START_TEST(test_threads)
{
    sf_random_opts ro = { .n = 500, .max_groups = 3, .max_members = 4, .pct_choice = 30,
                          .pct_unknown_minutes = 5, .pct_rec = 10, .pct_unresolved = 2, .window = 40 };
    fx f = fx_open(sf_random(5, &ro));
    thr_arg args[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) { args[i] = (thr_arg){&f, i % 2, 0}; pthread_create(&th[i], NULL, thr_main, &args[i]); }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    uint64_t s0 = plan_checksum(f.ws, f.ix, 0), s1 = plan_checksum(f.ws, f.ix, 1);
    for (int i = 0; i < 4; i++) ck_assert_uint_eq(args[i].sum, i % 2 ? s1 : s0);
    fx_close(&f);
}
END_TEST

/* Without snapshot ranks the index sorts with igraph (DAG) or Kahn (cycles);
 * plans stay valid. */
START_TEST(test_index_without_ranks)
{
    uint64_t st = 3;
    uint32_t goals[8], known[400];
    for (int iter = 0; iter < 50; iter++) {
        sf_random_opts ro = { .n = 20 + (uint32_t)(sf_rand(&st) % 100), .max_groups = 3, .max_members = 4,
                              .pct_choice = 30, .pct_unknown_minutes = 5, .pct_rec = 10,
                              .pct_unresolved = 3, .window = 25 };
        kgg_snap *s = sf_random(500 + (uint64_t)iter, &ro);
        uint32_t *saved = s->topo_rank;
        s->topo_rank = NULL;
        fx f = fx_open(s);
        ck_assert_uint_eq(f.ix->norder, s->n);
        for (int r = 0; r < 5; r++) {
            size_t ng, nk;
            random_request(&st, ro.n, goals, &ng, known, &nk);
            kgn_plan *p = NULL;
            kgn_error err = {0};
            kgp_status rc = kgn_plan_make(f.ws, goals, ng, known, nk, NULL, &p, &err);
            if (rc == KGP_ECONFLICT) continue;
            ck_assert_msg(rc == KGP_OK, "%s", err.msg);
            ck_assert(validate(s, p, known, nk, KGN_DEFAULT_MINUTES) == NULL);
            kgn_plan_free(p);
        }
        s->topo_rank = saved;
        fx_close(&f);
    }
    /* A cycle without ranks: the cycle and what is behind it are left out. */
    sf_builder *b = sf_new(4);
    sf_req(b, 1, 0, NULL);
    sf_req(b, 2, 1, NULL);
    sf_req(b, 1, 2, NULL);
    sf_req(b, 3, 2, NULL);
    kgg_snap *s = sf_build(b);
    uint32_t *saved = s->topo_rank;
    s->topo_rank = NULL;
    fx f = fx_open(s);
    ck_assert_uint_eq(f.ix->norder, 1);
    ck_assert(!f.ix->feasible[3]);
    kgn_plan *p = NULL;
    kgn_error err = {0};
    uint32_t g = 3;
    ck_assert_int_eq(kgn_plan_make(f.ws, &g, 1, NULL, 0, NULL, &p, &err), KGP_ECONFLICT);
    ck_assert_msg(strstr(err.msg, "cycle"), "%s", err.msg);
    s->topo_rank = saved;
    fx_close(&f);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("planner");
    TCase *t = tcase_create("core");
    tcase_add_test(t, test_chain_and_known);
    tcase_add_test(t, test_kofn_shared_beats_greedy);
    tcase_add_test(t, test_kofn_prefers_cheap_closure);
    tcase_add_test(t, test_order_goals_and_transitive);
    tcase_add_test(t, test_calendar);
    tcase_add_test(t, test_dates);
    tcase_add_test(t, test_budget_and_recommended);
    tcase_add_test(t, test_review_hook);
    tcase_add_test(t, test_review_on_day_needed);
    tcase_add_test(t, test_spaced_reviews_fsrs);
    tcase_add_test(t, test_known_goal);
    tcase_add_test(t, test_next_due_reviews);
    tcase_add_test(t, test_errors);
    tcase_add_test(t, test_render_json);
    tcase_add_test(t, test_render_text_dot_html);
    tcase_add_test(t, test_next);
    tcase_add_test(t, test_check);
    suite_add_tcase(s, t);
    TCase *pr = tcase_create("properties");
    tcase_add_test(pr, test_random_dags_validate);
    tcase_add_test(pr, test_brute_force);
    tcase_add_test(pr, test_threads);
    tcase_add_test(pr, test_index_without_ranks);
    suite_add_tcase(s, pr);
    return s;
}
