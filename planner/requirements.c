/* Requirement closure and the k-of-n choice.
 *
 * The selection S starts with the goals. Adding a concept adds, at once,
 * every member of its groups that has no alternative (a group whose
 * eligible, unknown, unselected members number exactly what it still needs);
 * a group with more candidates than it needs is queued as a choice.
 * Choices are resolved to minimise the total minutes of S (shared
 * prerequisites count once because a concept is added once):
 *
 *  1. greedy: each queued group in discovery order takes, one at a time, the
 *     candidate whose closure adds the fewest minutes to S right now;
 *  2. exact: depth-first branch and bound over the queued groups, trying
 *     every combination of the members a group still needs, pruning any
 *     branch whose minutes already reach the best plan so far (the greedy
 *     one to start). When the search ends within the work limit (concepts
 *     added to trial selections, KGN_EXACT_LIMIT by default) the plan is
 *     optimal and says so (kgn_plan.exact); otherwise the best plan found is
 *     kept.
 *
 * Per-call cost is proportional to the concepts touched: every per-concept
 * array is stamped with a generation number instead of being cleared. */
#include <stdio.h>
#include <string.h>
#include <math.h>

#include "planner/plan_internal.h"

#define MAX_DEPTH 2000

int kgn__push(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
    if (*n == *cap && kg_grow(v, cap, *n + 1, sizeof **v) != 0) return -1;
    (*v)[(*n)++] = x;
    return 0;
}

void kgn__next_gen(uint32_t *arr, uint32_t *gen, size_t n)
{
    if (++*gen == 0) {
        memset(arr, 0, n * sizeof *arr);
        *gen = 1;
    }
}

kgn_workspace *kgn_workspace_new(const kgn_index *ix)
{
    kgn_workspace *ws = kg_calloc(1, sizeof *ws);
    if (!ws) return NULL;
    ws->ix = ix;
    ws->s = ix->snap;
    ws->n = ix->snap->n;
    ws->def_minutes = KGN_DEFAULT_MINUTES;
    size_t n = ws->n ? ws->n : 1, ng = ws->s->ngroups ? ws->s->ngroups : 1;
    ws->in_s = kg_calloc(n, sizeof(uint32_t));
    ws->known = kg_calloc(n, sizeof(uint32_t));
    ws->fseen = kg_calloc(n, sizeof(uint32_t));
    ws->fval = kg_calloc(n, 1);
    ws->lvl = kg_calloc(n, sizeof(uint32_t));
    ws->ucnt = kg_calloc(n, sizeof(uint32_t));
    ws->vis = kg_calloc(n, sizeof(uint32_t));
    ws->gray = kg_calloc(n, sizeof(uint32_t));
    ws->gcnt = kg_calloc(ng, sizeof(uint32_t));
    ws->gstamp = kg_calloc(ng, sizeof(uint32_t));
    ws->parent = kg_calloc(n, sizeof(uint32_t));
    ws->reason = kg_calloc(n, sizeof(char *));
    ws->flags = kg_calloc(n, 1);
    ws->pos = kg_calloc(n, sizeof(uint32_t));
    if (!ws->in_s || !ws->known || !ws->fseen || !ws->fval || !ws->lvl || !ws->ucnt ||
        !ws->vis || !ws->gray || !ws->gcnt || !ws->gstamp || !ws->parent ||
        !ws->reason || !ws->flags || !ws->pos) {
        kgn_workspace_free(ws);
        return NULL;
    }
    return ws;
}

void kgn_workspace_free(kgn_workspace *ws)
{
    if (!ws) return;
    kg_free(ws->in_s); kg_free(ws->known); kg_free(ws->fseen); kg_free(ws->fval);
    kg_free(ws->lvl); kg_free(ws->ucnt); kg_free(ws->vis); kg_free(ws->gray);
    kg_free(ws->gcnt); kg_free(ws->gstamp); kg_free(ws->parent);
    kg_free((void *)ws->reason); kg_free(ws->flags); kg_free(ws->pos);
    kg_free(ws->sel); kg_free(ws->pend); kg_free(ws->stk); kg_free(ws->stk2);
    kg_free(ws->best); kg_free(ws->best_par); kg_free((void *)ws->best_rsn);
    kg_free(ws->best_flg); kg_free(ws->bits);
    kg_free(ws);
}

const kgn_index *kgn_workspace_index(const kgn_workspace *ws) { return ws->ix; }

uint32_t kgn__minutes(const kgn_workspace *ws, uint32_t c)
{
    float m = ws->s->minutes ? ws->s->minutes[c] : -1.0f;
    if (!(m >= 0)) return ws->def_minutes;
    if (m > 4.0e9f) return 4000000000u;
    return (uint32_t)lroundf(m);
}

int kgn__begin(kgn_workspace *ws, const uint32_t *known, size_t nknown)
{
    /* fseen shares gen_k: a new known set invalidates learnability. */
    if (ws->gen_k + 1 == 0) {
        memset(ws->known, 0, ws->n * sizeof *ws->known);
        memset(ws->fseen, 0, ws->n * sizeof *ws->fseen);
        ws->gen_k = 0;
    }
    ws->gen_k++;
    for (size_t i = 0; i < nknown; i++) ws->known[known[i]] = ws->gen_k;
    ws->next_lvl = ws->n;
    ws->oom = 0;
    return 0;
}

static uint32_t level(const kgn_workspace *ws, uint32_t c)
{
    uint32_t r = ws->ix->rank[c];
    return r != KGG_NONE ? r : ws->lvl[c];
}

/* Decides learnability for the region behind c that is neither known nor
 * learnable from nothing: collect it backwards, then run Kahn's propagation
 * forwards from what is learnable (known concepts, ix->feasible ones). A
 * concept learned this way gets a level after every ranked concept, in the
 * order it became learnable, so eligibility stays acyclic. */
static int decide_region(kgn_workspace *ws, uint32_t c)
{
    const kgg_snap *s = ws->s;
    const kgn_index *ix = ws->ix;
    size_t base = ws->nstk;
    if (kgn__push(&ws->stk, &ws->nstk, &ws->cstk, c) != 0) return -2;
    ws->fseen[c] = ws->gen_k;
    ws->fval[c] = 0;
    /* Backward collection; stk[base..] is the region. */
    for (size_t i = base; i < ws->nstk; i++) {
        uint32_t u = ws->stk[i];
        for (uint32_t g = s->grp_off[u]; g < s->grp_off[u + 1]; g++)
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
                uint32_t m = s->mem[j];
                if (kgn__is_known(ws, m) || ix->feasible[m] || ws->fseen[m] == ws->gen_k) continue;
                ws->fseen[m] = ws->gen_k;
                ws->fval[m] = 0;
                if (kgn__push(&ws->stk, &ws->nstk, &ws->cstk, m) != 0) return -2;
            }
    }
    size_t end = ws->nstk;
    kgn__next_gen(ws->gstamp, &ws->gen_gr, s->ngroups ? s->ngroups : 1);
    /* Initial counts from members learnable outside the region. */
    size_t qhead = ws->nstk;
    for (size_t i = base; i < end; i++) {
        uint32_t u = ws->stk[i], unsat = 0;
        for (uint32_t g = s->grp_off[u]; g < s->grp_off[u + 1]; g++) {
            uint32_t have = 0;
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
                uint32_t m = s->mem[j];
                int ok = kgn__is_known(ws, m) || ix->feasible[m] ||
                         (ws->fseen[m] == ws->gen_k && ws->fval[m]);
                if (ok && (kgn__is_known(ws, m) || ix->rank[u] == KGG_NONE ||
                           level(ws, m) < ix->rank[u]))
                    have++;
            }
            ws->gstamp[g] = ws->gen_gr;
            ws->gcnt[g] = have >= s->grp_k[g] ? 0 : s->grp_k[g] - have;
            if (ws->gcnt[g]) unsat++;
        }
        ws->ucnt[u] = unsat;
        if (!unsat && kgn__push(&ws->stk, &ws->nstk, &ws->cstk, u) != 0) return -2;
    }
    for (size_t h = qhead; h < ws->nstk; h++) {
        uint32_t u = ws->stk[h];
        ws->fval[u] = 1;
        ws->lvl[u] = ws->next_lvl++;
        for (uint32_t j = s->dep_off[u]; j < s->dep_off[u + 1]; j++) {
            uint32_t d = s->dep[j];
            if (ws->fseen[d] != ws->gen_k || ws->fval[d] || kgn__is_known(ws, d) || ix->feasible[d])
                continue;
            if (ws->ucnt[d] == 0) continue;
            for (uint32_t g = s->grp_off[d]; g < s->grp_off[d + 1]; g++) {
                if (ws->gstamp[g] != ws->gen_gr || ws->gcnt[g] == 0) continue;
                for (uint32_t q = s->mem_off[g]; q < s->mem_off[g + 1]; q++)
                    if (s->mem[q] == u && ws->gcnt[g] > 0 && --ws->gcnt[g] == 0) {
                        if (--ws->ucnt[d] == 0 &&
                            kgn__push(&ws->stk, &ws->nstk, &ws->cstk, d) != 0) return -2;
                    }
            }
        }
    }
    ws->nstk = base;
    return ws->fval[c];
}

int kgn__learnable(kgn_workspace *ws, uint32_t c)
{
    if (kgn__is_known(ws, c) || ws->ix->feasible[c]) return 1;
    if (ws->fseen[c] == ws->gen_k) return ws->fval[c];
    int r = decide_region(ws, c);
    if (r < 0) { ws->oom = 1; return 0; }
    return r;
}

int kgn__eligible(kgn_workspace *ws, uint32_t owner, uint32_t m)
{
    if (kgn__is_known(ws, m)) return 1;
    if (!kgn__learnable(ws, m)) return 0;
    return level(ws, m) < level(ws, owner);
}

static int sel_add(kgn_workspace *ws, uint32_t c, uint32_t parent, const char *reason,
                   uint8_t flags)
{
    if (kgn__push(&ws->sel, &ws->nsel, &ws->csel, c) != 0) { ws->oom = 1; return -2; }
    ws->in_s[c] = ws->gen_s;
    ws->parent[c] = parent;
    ws->reason[c] = reason;
    ws->flags[c] = flags;
    ws->cost += kgn__minutes(ws, c);
    ws->work++;
    return 0;
}

static void undo(kgn_workspace *ws, size_t mark, size_t pmark)
{
    while (ws->nsel > mark) {
        uint32_t c = ws->sel[--ws->nsel];
        ws->in_s[c] = 0;
        ws->cost -= kgn__minutes(ws, c);
    }
    ws->npend = pmark;
}

static const char *member_reason(const kgg_snap *s, uint32_t g, uint32_t j)
{
    const char *r = s->mem_reason ? s->mem_reason[j] : NULL;
    if ((!r || !*r) && s->grp_reason) r = s->grp_reason[g];
    return r && *r ? r : NULL;
}

/* Members of g (owner u) already satisfying it: known or selected. */
static uint32_t group_have(kgn_workspace *ws, uint32_t g, uint32_t u)
{
    const kgg_snap *s = ws->s;
    uint32_t have = 0;
    for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
        uint32_t m = s->mem[j];
        if (kgn__is_known(ws, m) || (kgn__in_sel(ws, m) && level(ws, m) < level(ws, u))) have++;
    }
    return have;
}

/* Adds c and every requirement without alternative behind it; queues
 * choice groups. 0, -1 (a group cannot be satisfied), -2 (OOM). */
static int add_closure(kgn_workspace *ws, uint32_t c, uint32_t parent,
                       const char *reason, uint8_t flags)
{
    const kgg_snap *s = ws->s;
    if (kgn__in_sel(ws, c)) return 0;
    size_t i = ws->nsel;
    if (sel_add(ws, c, parent, reason, flags) != 0) return -2;
    for (; i < ws->nsel; i++) {
        uint32_t u = ws->sel[i];
        for (uint32_t g = s->grp_off[u]; g < s->grp_off[u + 1]; g++) {
            uint32_t k = s->grp_k[g], have = 0, cand = 0;
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
                uint32_t m = s->mem[j];
                if (kgn__is_known(ws, m)) have++;
                else if (!kgn__eligible(ws, u, m)) continue;
                else if (kgn__in_sel(ws, m)) have++;
                else cand++;
            }
            if (ws->oom) return -2;
            if (have >= k) continue;
            if (cand < k - have) return -1;
            if (cand == k - have) {
                for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
                    uint32_t m = s->mem[j];
                    if (kgn__is_known(ws, m) || kgn__in_sel(ws, m) || !kgn__eligible(ws, u, m))
                        continue;
                    if (sel_add(ws, m, u, member_reason(s, g, j), 0) != 0) return -2;
                }
            } else {
                if (ws->npend == ws->cpend &&
                    kg_grow(&ws->pend, &ws->cpend, ws->npend + 1, sizeof *ws->pend) != 0) {
                    ws->oom = 1;
                    return -2;
                }
                ws->pend[ws->npend].grp = g;
                ws->pend[ws->npend].owner = u;
                ws->npend++;
            }
        }
    }
    return 0;
}

/* Candidates of pending group p (eligible, unknown, unselected), pushed on
 * stk2; returns how many, or -1 on OOM. */
static long push_candidates(kgn_workspace *ws, const kgn_pend *p)
{
    const kgg_snap *s = ws->s;
    long n = 0;
    for (uint32_t j = s->mem_off[p->grp]; j < s->mem_off[p->grp + 1]; j++) {
        uint32_t m = s->mem[j];
        if (kgn__is_known(ws, m) || kgn__in_sel(ws, m) || !kgn__eligible(ws, p->owner, m)) continue;
        if (kgn__push(&ws->stk2, &ws->nstk2, &ws->cstk2, j) != 0) return -1;
        n++;
    }
    return n;
}

/* Greedy resolution of pending groups from index pi on. 0, -1, -2. */
static int greedy(kgn_workspace *ws, size_t pi)
{
    const kgg_snap *s = ws->s;
    for (; pi < ws->npend; pi++) {
        for (;;) {
            kgn_pend p = ws->pend[pi];
            uint32_t have = group_have(ws, p.grp, p.owner);
            if (have >= s->grp_k[p.grp]) break;
            size_t base = ws->nstk2;
            long nc = push_candidates(ws, &p);
            if (nc < 0) { ws->oom = 1; return -2; }
            uint64_t best = UINT64_MAX;
            uint32_t bestj = KGG_NONE;
            for (long q = 0; q < nc; q++) {
                uint32_t j = ws->stk2[base + (size_t)q];
                size_t mark = ws->nsel, pmark = ws->npend;
                uint64_t c0 = ws->cost;
                int rc = add_closure(ws, s->mem[j], p.owner, member_reason(s, p.grp, j), 0);
                uint64_t delta = ws->cost - c0;
                undo(ws, mark, pmark);
                if (rc == -2) { ws->nstk2 = base; return -2; }
                if (rc == 0 && delta < best) { best = delta; bestj = j; }
            }
            ws->nstk2 = base;
            if (bestj == KGG_NONE) return -1;
            int rc = add_closure(ws, s->mem[bestj], p.owner, member_reason(s, p.grp, bestj), 0);
            if (rc != 0) return rc;
        }
    }
    return 0;
}

static int save_best(kgn_workspace *ws)
{
    if (ws->nsel > ws->cbest) {
        size_t c = ws->cbest;
        size_t c1 = c, c2 = c, c3 = c, c4 = c;
        if (kg_grow(&ws->best, &c1, ws->nsel, sizeof *ws->best) ||
            kg_grow(&ws->best_par, &c2, ws->nsel, sizeof *ws->best_par) ||
            kg_grow(&ws->best_rsn, &c3, ws->nsel, sizeof *ws->best_rsn) ||
            kg_grow(&ws->best_flg, &c4, ws->nsel, sizeof *ws->best_flg)) {
            ws->oom = 1;
            return -2;
        }
        size_t m = c1;
        if (c2 < m) m = c2;
        if (c3 < m) m = c3;
        if (c4 < m) m = c4;
        ws->cbest = m;
    }
    for (size_t i = 0; i < ws->nsel; i++) {
        uint32_t c = ws->sel[i];
        ws->best[i] = c;
        ws->best_par[i] = ws->parent[c];
        ws->best_rsn[i] = ws->reason[c];
        ws->best_flg[i] = ws->flags[c];
    }
    ws->nbest = ws->nsel;
    ws->best_cost = ws->cost;
    return 0;
}

static void restore_best(kgn_workspace *ws)
{
    undo(ws, 0, 0);
    for (size_t i = 0; i < ws->nbest; i++) {
        uint32_t c = ws->best[i];
        ws->sel[i] = c;
        ws->in_s[c] = ws->gen_s;
        ws->parent[c] = ws->best_par[i];
        ws->reason[c] = ws->best_rsn[i];
        ws->flags[c] = ws->best_flg[i];
        ws->cost += kgn__minutes(ws, c);
    }
    ws->nsel = ws->nbest;
}

/* Branch and bound over pending groups from pi on. */
static void search(kgn_workspace *ws, size_t pi)
{
    const kgg_snap *s = ws->s;
    if (ws->aborted || ws->oom) return;
    if (ws->cost >= ws->best_cost) return;
    if (ws->work > ws->work_limit || ws->depth > MAX_DEPTH) { ws->aborted = 1; return; }
    while (pi < ws->npend &&
           group_have(ws, ws->pend[pi].grp, ws->pend[pi].owner) >= s->grp_k[ws->pend[pi].grp])
        pi++;
    if (pi == ws->npend) { save_best(ws); return; }
    kgn_pend p = ws->pend[pi];
    uint32_t need = s->grp_k[p.grp] - group_have(ws, p.grp, p.owner);
    size_t base = ws->nstk2;
    long nc = push_candidates(ws, &p);
    if (nc < 0) { ws->oom = 1; return; }
    if ((uint32_t)nc < need) { ws->nstk2 = base; return; }
    /* Combination indexes follow the candidates on stk2. */
    size_t ib = ws->nstk2;
    for (uint32_t q = 0; q < need; q++)
        if (kgn__push(&ws->stk2, &ws->nstk2, &ws->cstk2, q) != 0) { ws->oom = 1; ws->nstk2 = base; return; }
    ws->depth++;
    for (;;) {
        size_t mark = ws->nsel, pmark = ws->npend;
        int rc = 0;
        for (uint32_t q = 0; q < need && rc == 0; q++) {
            uint32_t j = ws->stk2[base + ws->stk2[ib + q]];
            rc = add_closure(ws, s->mem[j], p.owner, member_reason(s, p.grp, j), 0);
        }
        if (rc == 0) search(ws, pi + 1);
        undo(ws, mark, pmark);
        if (rc == -2 || ws->aborted || ws->oom) break;
        /* Next combination of need out of nc. */
        long q = (long)need - 1;
        while (q >= 0 && ws->stk2[ib + (size_t)q] == (uint32_t)(nc - (long)need + q)) q--;
        if (q < 0) break;
        ws->stk2[ib + (size_t)q]++;
        for (uint32_t r = (uint32_t)q + 1; r < need; r++)
            ws->stk2[ib + r] = ws->stk2[ib + r - 1] + 1;
    }
    ws->depth--;
    ws->nstk2 = base;
}

int kgn__solve(kgn_workspace *ws, const uint32_t *goals, size_t ngoals,
               uint64_t work_limit, int *exact, uint32_t *nchoices, uint32_t *bad)
{
    kgn__next_gen(ws->in_s, &ws->gen_s, ws->n ? ws->n : 1);
    ws->nsel = ws->npend = ws->nstk = ws->nstk2 = 0;
    ws->cost = 0;
    ws->work = 0;
    ws->aborted = 0;
    ws->depth = 0;
    *exact = 1;
    *nchoices = 0;
    for (size_t i = 0; i < ngoals; i++) {
        uint32_t g = goals[i];
        if (!kgn__learnable(ws, g)) { *bad = g; return ws->oom ? -2 : -1; }
        int rc = add_closure(ws, g, KGG_NONE, NULL, KGN_F_GOAL);
        if (rc == -1) { *bad = g; return -1; }
        if (rc) return rc;
        ws->flags[g] |= KGN_F_GOAL;
    }
    if (ws->npend == 0) return 0;
    size_t mark0 = ws->nsel, pmark0 = ws->npend;
    int rc = greedy(ws, 0);
    if (rc) { if (rc == -1) *bad = goals[0]; return rc; }
    *nchoices = (uint32_t)ws->npend;
    if (save_best(ws) != 0) return -2;
    undo(ws, mark0, pmark0);
    ws->work = 0;
    ws->work_limit = work_limit;
    search(ws, 0);
    if (ws->oom) return -2;
    *exact = !ws->aborted;
    restore_best(ws);
    /* Goal flags survive restore (saved with the selection). */
    return 0;
}

int kgn__add_recommended(kgn_workspace *ws, double budget, int transitive)
{
    const kgg_snap *s = ws->s;
    if (!s->rec_off) return 0;
    size_t n0 = ws->nsel;
    for (size_t i = 0; i < (transitive ? ws->nsel : n0); i++) {
        uint32_t c = ws->sel[i];
        for (uint32_t j = s->rec_off[c]; j < s->rec_off[c + 1]; j++) {
            uint32_t r = s->rec[j];
            if (kgn__is_known(ws, r) || kgn__in_sel(ws, r) || !kgn__learnable(ws, r)) continue;
            size_t mark = ws->nsel, pmark = ws->npend;
            const char *why = s->rec_reason ? s->rec_reason[j] : NULL;
            int rc = add_closure(ws, r, c, why && *why ? why : NULL, KGN_F_REC);
            if (rc == 0) rc = greedy(ws, pmark);
            if (rc == -2) return -2;
            if (rc == -1 || (budget > 0 && (double)ws->cost > budget)) undo(ws, mark, pmark);
        }
    }
    return 0;
}

void kgn__why_blocked(kgn_workspace *ws, uint32_t c, char *buf, size_t len)
{
    const kgg_snap *s = ws->s;
    /* Walk down from c through unlearnable members until a group that lacks
     * members outright, or until the walk returns to itself (a cycle). */
    uint32_t path[64];
    size_t np = 0;
    uint32_t u = c;
    kgn__next_gen(ws->vis, &ws->gen_v, ws->n ? ws->n : 1);
    for (;;) {
        ws->vis[u] = ws->gen_v;
        if (np < 64) path[np++] = u;
        uint32_t next = KGG_NONE, gbad = KGG_NONE;
        for (uint32_t g = s->grp_off[u]; g < s->grp_off[u + 1] && next == KGG_NONE; g++) {
            uint32_t ok = 0;
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++)
                ok += (uint32_t)kgn__eligible(ws, u, s->mem[j]);
            if (ok >= s->grp_k[g]) continue;
            gbad = g;
            uint32_t resolved = s->mem_off[g + 1] - s->mem_off[g];
            if (resolved < s->grp_k[g]) break;   /* missing members: report here */
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
                uint32_t m = s->mem[j];
                if (!kgn__eligible(ws, u, m)) {
                    if (ws->vis[m] == ws->gen_v) {
                        /* Cycle: print it from m. */
                        size_t at = 0;
                        while (at < np && path[at] != m) at++;
                        size_t o = (size_t)snprintf(buf, len, "'%s' is on a prerequisite cycle: ", s->key[m]);
                        for (size_t q = at; q < np && o < len; q++)
                            o += (size_t)snprintf(buf + o, len - o, "'%s' -> ", s->key[path[q]]);
                        if (o < len) snprintf(buf + o, len - o, "'%s'", s->key[m]);
                        return;
                    }
                    next = m;
                    break;
                }
            }
        }
        if (gbad == KGG_NONE) {
            snprintf(buf, len, "'%s' is behind a prerequisite cycle", s->key[u]);
            return;
        }
        if (next == KGG_NONE || np >= 64) {
            uint32_t written = s->grp_n ? s->grp_n[gbad] : 0;
            uint32_t resolved = s->mem_off[gbad + 1] - s->mem_off[gbad];
            size_t o = (size_t)snprintf(buf, len,
                "'%s' needs %u of %u prerequisites but only %u can be learned",
                s->key[u], s->grp_k[gbad], written > resolved ? written : resolved,
                resolved);
            int first = 1;
            for (size_t q = 0; q < s->nunresolved && o < len; q++)
                if (s->unresolved[q].group == gbad) {
                    o += (size_t)snprintf(buf + o, len - o, "%s'%s'", first ? " (unresolved: " : ", ",
                                          s->unresolved[q].target);
                    first = 0;
                }
            if (!first && o < len) snprintf(buf + o, len - o, ")");
            return;
        }
        u = next;
    }
}
