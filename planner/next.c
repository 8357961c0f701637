/* `kgpath next`: the outer fringe of the learner's knowledge (concepts not
 * known whose every requirement group is met by known concepts), ranked.
 *
 * With goals, the fringe is taken within the goals' plan and ranked by how
 * many goals each concept serves, then by how many plan steps depend on it
 * transitively. Without goals, every concept counts as a potential goal:
 * the rank is the number of concepts that depend on it transitively.
 * Ties: dependents made ready right after it, then key. */
#include <stdlib.h>
#include <string.h>

#include "planner/plan_internal.h"

void kgn_next_free(kgn_next *x)
{
    if (x) kg_arena_free(x->arena);
}

static int ready(kgn_workspace *ws, uint32_t c)
{
    const kgg_snap *s = ws->s;
    for (uint32_t g = s->grp_off[c]; g < s->grp_off[c + 1]; g++) {
        uint32_t have = 0;
        for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++)
            have += (uint32_t)kgn__is_known(ws, s->mem[j]);
        if (have < s->grp_k[g]) return 0;
    }
    return 1;
}

/* Concepts depending on c transitively (within the selection when
 * in_plan). Uses gray stamps and stk2. */
static int64_t count_dependents(kgn_workspace *ws, uint32_t c, int in_plan)
{
    const kgg_snap *s = ws->s;
    kgn__next_gen(ws->gray, &ws->gen_g, ws->n ? ws->n : 1);
    ws->nstk2 = 0;
    if (kgn__push(&ws->stk2, &ws->nstk2, &ws->cstk2, c)) return -1;
    ws->gray[c] = ws->gen_g;
    int64_t cnt = 0;
    for (size_t h = 0; h < ws->nstk2; h++) {
        uint32_t u = ws->stk2[h];
        for (uint32_t j = s->dep_off[u]; j < s->dep_off[u + 1]; j++) {
            uint32_t d = s->dep[j];
            if (ws->gray[d] == ws->gen_g || kgn__is_known(ws, d)) continue;
            if (in_plan && !kgn__in_sel(ws, d)) continue;
            ws->gray[d] = ws->gen_g;
            cnt++;
            if (kgn__push(&ws->stk2, &ws->nstk2, &ws->cstk2, d)) return -1;
        }
    }
    ws->nstk2 = 0;
    return cnt;
}

/* Dependents of c that are ready once c is learned too. */
static uint32_t ready_after(kgn_workspace *ws, uint32_t c)
{
    const kgg_snap *s = ws->s;
    uint32_t r = 0;
    for (uint32_t j = s->dep_off[c]; j < s->dep_off[c + 1]; j++) {
        uint32_t d = s->dep[j];
        if (kgn__is_known(ws, d)) continue;
        int ok = 1;
        for (uint32_t g = s->grp_off[d]; ok && g < s->grp_off[d + 1]; g++) {
            uint32_t have = 0;
            for (uint32_t q = s->mem_off[g]; q < s->mem_off[g + 1]; q++)
                have += kgn__is_known(ws, s->mem[q]) || s->mem[q] == c;
            ok = have >= s->grp_k[g];
        }
        r += (uint32_t)ok;
    }
    return r;
}

static int cmp_item(const void *a, const void *b, void *ud)
{
    const kgn_next_item *x = a, *y = b;
    const kgg_snap *s = ud;
    if (x->goals != y->goals) return x->goals > y->goals ? -1 : 1;
    if (x->unlocks != y->unlocks) return x->unlocks > y->unlocks ? -1 : 1;
    if (x->ready_after != y->ready_after) return x->ready_after > y->ready_after ? -1 : 1;
    return strcmp(s->key[x->concept], s->key[y->concept]);
}

kgp_status kgn_next_make(kgn_workspace *ws, const uint32_t *goals, size_t ngoals,
                         const uint32_t *known, size_t nknown, uint32_t limit,
                         kgn_next **out, kgn_error *err)
{
    const kgg_snap *s = ws->s;
    *out = NULL;
    for (size_t i = 0; i < nknown; i++)
        if (known[i] >= s->n) return kgn_fail(err, KGP_EUSAGE, "known id %u out of range", known[i]);
    kgn_plan *plan = NULL;
    if (ngoals) {
        kgp_status st = kgn_plan_make(ws, goals, ngoals, known, nknown, NULL, &plan, err);
        if (st != KGP_OK) return st;
    } else {
        kgn__begin(ws, known, nknown);
    }
    kg_arena *A = kg_arena_new();
    kgn_next *x = A ? kg_arena_calloc(A, sizeof *x) : NULL;
    if (!x) { kg_arena_free(A); kgn_plan_free(plan); return kgn_fail(err, KGP_ENOMEM, "out of memory"); }
    x->arena = A;
    x->snap = s;
    kgn_next_item *items = NULL;
    size_t nitems = 0, cap = 0;
    kgp_status st = KGP_OK;
    if (plan) {
        x->goals = kg_arena_alloc(A, (plan->ngoals + 1) * sizeof *x->goals);
        if (!x->goals) { st = KGP_ENOMEM; goto fail; }
        memcpy(x->goals, plan->goals, plan->ngoals * sizeof *x->goals);
        x->ngoals = plan->ngoals;
        for (uint32_t i = 0; i < plan->nsteps; i++) {
            const kgn_step *stp = &plan->steps[i];
            if (stp->kind != KGN_LEARN || !ready(ws, stp->concept)) continue;
            int64_t u = count_dependents(ws, stp->concept, 1);
            if (u < 0 || kg_grow(&items, &cap, nitems + 1, sizeof *items)) { st = KGP_ENOMEM; goto fail; }
            items[nitems++] = (kgn_next_item){stp->concept, stp->ngoals, (uint64_t)u,
                                              ready_after(ws, stp->concept), stp->minutes};
        }
    } else {
        /* Candidates: concepts without requirements, and dependents of known ones. */
        kgn__next_gen(ws->vis, &ws->gen_v, ws->n ? ws->n : 1);
        const kgn_index *ix = ws->ix;
        for (int pass = 0; pass < 2; pass++) {
            size_t lim = pass == 0 ? ix->nroots : nknown;
            for (size_t i = 0; i < lim; i++) {
                uint32_t a = pass == 0 ? ix->roots[i] : known[i];
                uint32_t lo = pass == 0 ? 0 : s->dep_off[a], hi = pass == 0 ? 1 : s->dep_off[a + 1];
                for (uint32_t j = lo; j < hi; j++) {
                    uint32_t c = pass == 0 ? a : s->dep[j];
                    if (ws->vis[c] == ws->gen_v) continue;
                    ws->vis[c] = ws->gen_v;
                    if (kgn__is_known(ws, c) || !ready(ws, c)) continue;
                    int64_t u = count_dependents(ws, c, 0);
                    if (u < 0 || kg_grow(&items, &cap, nitems + 1, sizeof *items)) { st = KGP_ENOMEM; goto fail; }
                    items[nitems++] = (kgn_next_item){c, 0, (uint64_t)u, ready_after(ws, c),
                                                      kgn__minutes(ws, c)};
                }
            }
        }
    }
    qsort_r(items, nitems, sizeof *items, cmp_item, (void *)s);
    x->total = (uint32_t)nitems;
    x->nitems = limit && nitems > limit ? limit : (uint32_t)nitems;
    x->items = kg_arena_alloc(A, ((size_t)x->nitems + 1) * sizeof *x->items);
    if (!x->items) { st = KGP_ENOMEM; goto fail; }
    if (x->nitems) memcpy(x->items, items, x->nitems * sizeof *items);
    kg_free(items);
    kgn_plan_free(plan);
    *out = x;
    return KGP_OK;
fail:
    kg_free(items);
    kgn_plan_free(plan);
    kg_arena_free(A);
    return kgn_fail(err, st, "out of memory");
}

kgp_status kgn_next_render(const kgn_next *x, kgn_format fmt, kg_buf *b)
{
    const kgg_snap *s = x->snap;
    if (fmt == KGN_JSON) {
        kg_buf_puts(b, "{\"kgpath_next\":1,\"goals\":[");
        for (uint32_t i = 0; i < x->ngoals; i++) {
            if (i) kg_buf_put(b, ",", 1);
            kg_buf_json(b, s->key[x->goals[i]]);
        }
        kg_buf_printf(b, "],\"total\":%u,\"next\":[", x->total);
        for (uint32_t i = 0; i < x->nitems; i++) {
            const kgn_next_item *it = &x->items[i];
            kg_buf_puts(b, i ? ",{\"concept\":" : "{\"concept\":");
            kg_buf_json(b, s->key[it->concept]);
            kg_buf_puts(b, ",\"title\":");
            kg_buf_json(b, s->title[it->concept]);
            kg_buf_printf(b, ",\"minutes\":%u,\"goals_served\":%u,\"unlocks\":%llu,\"ready_after\":%u}",
                           it->minutes, it->goals, (unsigned long long)it->unlocks, it->ready_after);
        }
        kg_buf_put(b, "]", 1);
        if (x->reviews_asked) {
            kg_buf_puts(b, ",\"reviews\":[");
            for (uint32_t i = 0; i < x->nreviews; i++) {
                const kgn_next_review *r = &x->reviews[i];
                kg_buf_puts(b, i ? ",{\"concept\":" : "{\"concept\":");
                kg_buf_json(b, s->key[r->concept]);
                kg_buf_puts(b, ",\"title\":");
                kg_buf_json(b, s->title[r->concept]);
                kg_buf_printf(b, ",\"minutes\":%u,\"why\":", r->minutes);
                kg_buf_json(b, r->why);
                kg_buf_put(b, "}", 1);
            }
            kg_buf_put(b, "]", 1);
        }
        kg_buf_puts(b, "}\n");
    } else if (fmt == KGN_TEXT) {
        if (x->nreviews) {
            kg_buf_printf(b, "Due reviews: %u\n", x->nreviews);
            for (uint32_t i = 0; i < x->nreviews; i++) {
                const kgn_next_review *r = &x->reviews[i];
                kg_buf_printf(b, "  review %s  %s  (%u min; %s)\n", s->key[r->concept],
                               s->title[r->concept], r->minutes, r->why ? r->why : "due");
            }
        }
        if (x->total == 0) {
            kg_buf_puts(b, x->ngoals ? "Nothing to study next for these goals.\n"
                                      : "Nothing left to study: every concept is known or blocked.\n");
        } else {
            kg_buf_printf(b, "Ready to study now: %u concept%s%s\n", x->total, x->total == 1 ? "" : "s",
                           x->nitems < x->total ? " (best shown)" : "");
        }
        for (uint32_t i = 0; i < x->nitems; i++) {
            const kgn_next_item *it = &x->items[i];
            kg_buf_printf(b, "%3u. %s  %s  (%u min; ", i + 1, s->key[it->concept], s->title[it->concept], it->minutes);
            if (x->ngoals) kg_buf_printf(b, "serves %u goal%s, ", it->goals, it->goals == 1 ? "" : "s");
            kg_buf_printf(b, "unlocks %llu, %u ready right after)\n", (unsigned long long)it->unlocks, it->ready_after);
        }
    } else {
        return KGP_EUSAGE;
    }
    return b->oom ? KGP_ENOMEM : KGP_OK;
}

kgp_status kgn_next_reviews(kgn_next *x, const uint32_t *known, size_t nknown,
                            kgn_review_at_fn fn, void *ud, int32_t day, kgn_error *err)
{
    const kgg_snap *s = x->snap;
    x->reviews_asked = 1;
    if (!fn || nknown == 0) return KGP_OK;
    for (size_t i = 0; i < nknown; i++)
        if (known[i] >= s->n) return kgn_fail(err, KGP_EUSAGE, "known id %u out of range", known[i]);
    kgn_next_review *v = kg_arena_alloc(x->arena, nknown * sizeof *v);
    if (!v) return kgn_fail(err, KGP_ENOMEM, "out of memory");
    uint32_t n = 0;
    for (size_t i = 0; i < nknown; i++) {
        uint32_t c = known[i], mins = 0;
        const char *why = NULL;
        int dup = 0;
        for (uint32_t k = 0; k < n && !dup; k++) dup = v[k].concept == c;
        if (dup || !fn(ud, c, day, &mins, &why)) continue;
        if (why && !(why = kg_arena_strdup(x->arena, why))) return kgn_fail(err, KGP_ENOMEM, "out of memory");
        v[n++] = (kgn_next_review){c, mins, why};
    }
    x->reviews = v;
    x->nreviews = n;
    return KGP_OK;
}
