/* `kgpath check`: curriculum quality report over a snapshot.
 *
 *  - cycles: one per strongly connected component (igraph), listed as a
 *    shortest cycle through the component's smallest concept (BFS);
 *  - redundant edges: a plain (all-of) prerequisite p of c that c already
 *    needs through another all-of prerequisite (k-of-n edges never imply);
 *  - dangling references: the snapshot's unresolved cross-course targets;
 *  - orphans: no requirements, no dependents, no recommended edges;
 *  - unreachable: concepts that cannot be learned starting from nothing
 *    (on or behind a cycle, or behind a group with too few members);
 *  - per concept (CurricularAnalytics): blocking = concepts depending on it
 *    transitively (igraph_neighborhood_size), delay = concepts on the
 *    longest requirement chain through it, complexity = their sum, and
 *    betweenness (igraph_betweenness, directed);
 *  - bottlenecks: the concepts through which the most long-range
 *    dependencies can pass: ancestors x blocking (pairs of concepts whose
 *    requirement chain may run through it), ties by betweenness, key.
 * Metrics cost O(V·(V+E)); above KGN_CHECK_METRICS_MAX concepts they are
 * skipped (the report says so). */
#include <stdlib.h>
#include <string.h>

#include <igraph.h>

#include "graph/igraph_bridge.h"

#include "planner/plan_internal.h"

#define KGN_CHECK_METRICS_MAX 50000u
#define KGN_BOTTLENECKS 10u

void kgn_check_free(kgn_check *c)
{
    if (c) kg_arena_free(c->arena);
}

static int all_of(const kgg_snap *s, uint32_t g)
{
    uint32_t res = s->mem_off[g + 1] - s->mem_off[g];
    return s->grp_k[g] == res && (!s->grp_n || s->grp_n[g] == res);
}

static kgp_status build_graph(const kgg_snap *s, igraph_t *g)
{
    igraph_vector_int_t edges;
    size_t ne = s->mem_off[s->ngroups];
    if (igraph_vector_int_init(&edges, (igraph_integer_t)(2 * ne)) != IGRAPH_SUCCESS) return KGP_ENOMEM;
    size_t e = 0;
    for (uint32_t c = 0; c < s->n; c++)
        for (uint32_t q = s->grp_off[c]; q < s->grp_off[c + 1]; q++)
            for (uint32_t j = s->mem_off[q]; j < s->mem_off[q + 1]; j++) {
                VECTOR(edges)[e++] = s->mem[j];
                VECTOR(edges)[e++] = c;
            }
    igraph_error_t rc = igraph_create(g, &edges, s->n, IGRAPH_DIRECTED);
    igraph_vector_int_destroy(&edges);
    return rc == IGRAPH_SUCCESS ? KGP_OK : KGP_EINTERNAL;
}

typedef struct vec { uint32_t *v; size_t n, cap; } vec;
static int vpush(vec *a, uint32_t x) { return kgn__push(&a->v, &a->n, &a->cap, x); }

static int cmp_bottleneck(const void *a, const void *b, void *ud)
{
    const kgn_check *c = ud;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    const kgn_metric *mx = &c->metrics[x], *my = &c->metrics[y];
    uint64_t px = (uint64_t)mx->ancestors * mx->blocking, py = (uint64_t)my->ancestors * my->blocking;
    if (px != py) return px > py ? -1 : 1;
    if (mx->betweenness != my->betweenness) return mx->betweenness > my->betweenness ? -1 : 1;
    return strcmp(c->snap->key[x], c->snap->key[y]);
}

static kgp_status check_make_locked(const kgn_index *ix, kgn_check **out, kgn_error *err)
{
    const kgg_snap *s = ix->snap;
    uint32_t n = s->n;
    *out = NULL;
    kgn_igraph_init();
    kg_arena *A = kg_arena_new();
    kgn_check *c = A ? kg_arena_calloc(A, sizeof *c) : NULL;
    if (!c) { kg_arena_free(A); return kgn_fail(err, KGP_ENOMEM, "out of memory"); }
    c->arena = A;
    c->snap = s;
    kgp_status st = KGP_OK;
    igraph_t g;
    int have_g = 0;
    igraph_vector_int_t memb, csize;
    int have_v = 0;
    vec cyc = {0}, off = {0}, red = {0}, tmp = {0};
    uint32_t *mark = kg_calloc(n + 1, sizeof *mark), *par = kg_calloc(n + 1, sizeof *par);
    uint32_t *down = kg_calloc(n + 1, sizeof *down), *up = kg_calloc(n + 1, sizeof *up);
    uint8_t *rec_in = kg_calloc(n + 1, 1);
    if (!mark || !par || !down || !up || !rec_in) { st = KGP_ENOMEM; goto done; }
    if ((st = build_graph(s, &g)) != KGP_OK) goto done;
    have_g = 1;

    /* Cycles: strongly connected components. */
    if (igraph_vector_int_init(&memb, 0) || igraph_vector_int_init(&csize, 0)) { st = KGP_ENOMEM; goto done; }
    have_v = 1;
    igraph_integer_t ncomp = 0;
    if (igraph_connected_components(&g, &memb, &csize, &ncomp, IGRAPH_STRONG) != IGRAPH_SUCCESS) {
        st = KGP_EINTERNAL;
        goto done;
    }
    uint32_t stamp = 0;
    if (vpush(&off, 0)) { st = KGP_ENOMEM; goto done; }
    for (uint32_t v = 0; v < n; v++) {
        igraph_integer_t comp = VECTOR(memb)[v];
        int selfloop = 0;
        for (uint32_t q = s->grp_off[v]; q < s->grp_off[v + 1]; q++)
            for (uint32_t j = s->mem_off[q]; j < s->mem_off[q + 1]; j++) selfloop |= s->mem[j] == v;
        if (VECTOR(csize)[comp] < 2 && !selfloop) continue;
        if (VECTOR(csize)[comp] < 0) continue;           /* component done */
        VECTOR(csize)[comp] = -1;                         /* v is its smallest vertex */
        /* BFS from v along prerequisite -> dependent edges inside the
         * component until a vertex that v requires. */
        stamp++;
        tmp.n = 0;
        if (vpush(&tmp, v)) { st = KGP_ENOMEM; goto done; }
        mark[v] = stamp;
        par[v] = KGG_NONE;
        uint32_t last = KGG_NONE;
        for (size_t h = 0; h < tmp.n && last == KGG_NONE; h++) {
            uint32_t u = tmp.v[h];
            for (uint32_t j = s->dep_off[u]; j < s->dep_off[u + 1]; j++) {
                uint32_t d = s->dep[j];
                if (d == v) { last = u; break; }
                if (VECTOR(memb)[d] != comp || mark[d] == stamp) continue;
                mark[d] = stamp;
                par[d] = u;
                if (vpush(&tmp, d)) { st = KGP_ENOMEM; goto done; }
            }
        }
        if (last == KGG_NONE) continue;
        size_t start = cyc.n;
        for (uint32_t u = last; u != KGG_NONE; u = par[u])
            if (vpush(&cyc, u)) { st = KGP_ENOMEM; goto done; }
        /* Reverse so each concept is a prerequisite of the next. */
        for (size_t a = start, b = cyc.n - 1; a < b; a++, b--) {
            uint32_t t = cyc.v[a]; cyc.v[a] = cyc.v[b]; cyc.v[b] = t;
        }
        if (vpush(&off, (uint32_t)cyc.n)) { st = KGP_ENOMEM; goto done; }
    }
    c->ncycles = (uint32_t)(off.n - 1);

    /* Redundant all-of edges: p -> c implied through another all-of member. */
    for (uint32_t v = 0; v < n; v++) {
        if (ix->rank[v] == KGG_NONE) continue;
        stamp++;
        tmp.n = 0;
        /* Ancestors through all-of edges of every all-of member, not counting
         * the member itself unless reached through another. */
        for (uint32_t q = s->grp_off[v]; q < s->grp_off[v + 1]; q++) {
            if (!all_of(s, q)) continue;
            for (uint32_t j = s->mem_off[q]; j < s->mem_off[q + 1]; j++) {
                uint32_t m = s->mem[j];
                for (uint32_t q2 = s->grp_off[m]; q2 < s->grp_off[m + 1]; q2++) {
                    if (!all_of(s, q2)) continue;
                    for (uint32_t j2 = s->mem_off[q2]; j2 < s->mem_off[q2 + 1]; j2++) {
                        uint32_t a = s->mem[j2];
                        if (mark[a] == stamp) continue;
                        mark[a] = stamp;
                        if (vpush(&tmp, a)) { st = KGP_ENOMEM; goto done; }
                    }
                }
            }
        }
        for (size_t h = 0; h < tmp.n; h++) {
            uint32_t u = tmp.v[h];
            for (uint32_t q2 = s->grp_off[u]; q2 < s->grp_off[u + 1]; q2++) {
                if (!all_of(s, q2)) continue;
                for (uint32_t j2 = s->mem_off[q2]; j2 < s->mem_off[q2 + 1]; j2++) {
                    uint32_t a = s->mem[j2];
                    if (mark[a] == stamp) continue;
                    mark[a] = stamp;
                    if (vpush(&tmp, a)) { st = KGP_ENOMEM; goto done; }
                }
            }
        }
        for (uint32_t q = s->grp_off[v]; q < s->grp_off[v + 1]; q++) {
            if (!all_of(s, q)) continue;
            for (uint32_t j = s->mem_off[q]; j < s->mem_off[q + 1]; j++)
                if (mark[s->mem[j]] == stamp) {
                    if (vpush(&red, s->mem[j]) || vpush(&red, v)) { st = KGP_ENOMEM; goto done; }
                }
        }
    }
    c->nredundant = (uint32_t)(red.n / 2);

    /* Orphans, unreachable, entry points. */
    if (s->rec_off)
        for (uint32_t v = 0; v < n; v++)
            for (uint32_t j = s->rec_off[v]; j < s->rec_off[v + 1]; j++) { rec_in[v] = 1; rec_in[s->rec[j]] = 1; }
    c->orphans = kg_arena_alloc(A, (n + 1) * sizeof *c->orphans);
    c->unreachable = kg_arena_alloc(A, (n + 1) * sizeof *c->unreachable);
    if (!c->orphans || !c->unreachable) { st = KGP_ENOMEM; goto done; }
    for (uint32_t v = 0; v < n; v++) {
        int noreq = s->grp_off[v] == s->grp_off[v + 1];
        if (noreq) c->nentry++;
        if (noreq && s->dep_off[v] == s->dep_off[v + 1] && !rec_in[v]) c->orphans[c->norphans++] = v;
        if (!ix->feasible[v]) c->unreachable[c->nunreachable++] = v;
    }

    /* Copy cycles and redundant edges into the arena. */
    c->cycles = kg_arena_alloc(A, (cyc.n + 1) * sizeof *c->cycles);
    c->cycle_off = kg_arena_alloc(A, (off.n + 1) * sizeof *c->cycle_off);
    c->redundant = kg_arena_alloc(A, (c->nredundant + 1) * sizeof *c->redundant);
    if (!c->cycles || !c->cycle_off || !c->redundant) { st = KGP_ENOMEM; goto done; }
    if (cyc.n) memcpy(c->cycles, cyc.v, cyc.n * sizeof *cyc.v);
    memcpy(c->cycle_off, off.v, off.n * sizeof *off.v);
    for (uint32_t r = 0; r < c->nredundant; r++) c->redundant[r] = (kgn_edge){red.v[2 * r], red.v[2 * r + 1]};

    /* Metrics. */
    c->metrics_acyclic = ix->norder == n;
    if (n <= KGN_CHECK_METRICS_MAX) {
        c->metrics = kg_arena_calloc(A, (n + 1) * sizeof *c->metrics);
        if (!c->metrics) { st = KGP_ENOMEM; goto done; }
        igraph_vector_int_t reach;
        igraph_vector_t btw;
        if (igraph_vector_int_init(&reach, 0)) { st = KGP_ENOMEM; goto done; }
        if (igraph_neighborhood_size(&g, &reach, igraph_vss_all(), n ? n : 1, IGRAPH_OUT, 1) != IGRAPH_SUCCESS) {
            igraph_vector_int_destroy(&reach);
            st = KGP_EINTERNAL;
            goto done;
        }
        for (uint32_t v = 0; v < n; v++) c->metrics[v].blocking = (uint32_t)VECTOR(reach)[v];
        if (igraph_neighborhood_size(&g, &reach, igraph_vss_all(), n ? n : 1, IGRAPH_IN, 1) != IGRAPH_SUCCESS) {
            igraph_vector_int_destroy(&reach);
            st = KGP_EINTERNAL;
            goto done;
        }
        for (uint32_t v = 0; v < n; v++) c->metrics[v].ancestors = (uint32_t)VECTOR(reach)[v];
        igraph_vector_int_destroy(&reach);
        if (igraph_vector_init(&btw, 0)) { st = KGP_ENOMEM; goto done; }
        if (igraph_betweenness(&g, &btw, igraph_vss_all(), 1, NULL) != IGRAPH_SUCCESS) {
            igraph_vector_destroy(&btw);
            st = KGP_EINTERNAL;
            goto done;
        }
        for (uint32_t v = 0; v < n; v++) c->metrics[v].betweenness = VECTOR(btw)[v];
        igraph_vector_destroy(&btw);
        /* Longest chains over the acyclic part, in topological order. */
        for (uint32_t i = 0; i < ix->norder; i++) {
            uint32_t v = ix->order[i], best = 0;
            for (uint32_t q = s->grp_off[v]; q < s->grp_off[v + 1]; q++)
                for (uint32_t j = s->mem_off[q]; j < s->mem_off[q + 1]; j++)
                    if (down[s->mem[j]] > best) best = down[s->mem[j]];
            down[v] = best + 1;
        }
        for (uint32_t i = ix->norder; i-- > 0;) {
            uint32_t v = ix->order[i], best = 0;
            for (uint32_t j = s->dep_off[v]; j < s->dep_off[v + 1]; j++)
                if (up[s->dep[j]] > best) best = up[s->dep[j]];
            up[v] = best + 1;
        }
        for (uint32_t v = 0; v < n; v++) {
            kgn_metric *m = &c->metrics[v];
            m->delay = down[v] && up[v] ? down[v] + up[v] - 1 : 0;
            m->complexity = m->blocking + m->delay;
        }
        /* Bottlenecks. */
        uint32_t *all = kg_malloc((n + 1) * sizeof *all);
        if (!all) { st = KGP_ENOMEM; goto done; }
        uint32_t na = 0;
        for (uint32_t v = 0; v < n; v++)
            if (c->metrics[v].ancestors && c->metrics[v].blocking) all[na++] = v;
        qsort_r(all, na, sizeof *all, cmp_bottleneck, c);
        c->nbottlenecks = na < KGN_BOTTLENECKS ? na : KGN_BOTTLENECKS;
        c->bottlenecks = kg_arena_alloc(A, (c->nbottlenecks + 1) * sizeof *c->bottlenecks);
        if (!c->bottlenecks) { kg_free(all); st = KGP_ENOMEM; goto done; }
        memcpy(c->bottlenecks, all, c->nbottlenecks * sizeof *all);
        kg_free(all);
    }
done:
    if (have_v) { igraph_vector_int_destroy(&memb); igraph_vector_int_destroy(&csize); }
    if (have_g) igraph_destroy(&g);
    kg_free(cyc.v); kg_free(off.v); kg_free(red.v); kg_free(tmp.v);
    kg_free(mark); kg_free(par); kg_free(down); kg_free(up); kg_free(rec_in);
    if (st != KGP_OK) {
        kg_arena_free(A);
        return kgn_fail(err, st, st == KGP_ENOMEM ? "out of memory" : "igraph failed during the check");
    }
    *out = c;
    return KGP_OK;
}

static void json_concept(kg_buf *b, const kgg_snap *s, uint32_t v)
{
    kg_buf_puts(b, "{\"id\":");
    kg_buf_json(b, s->key[v]);
    kg_buf_puts(b, ",\"title\":");
    kg_buf_json(b, s->title[v]);
    kg_buf_put(b, "}", 1);
}

kgp_status kgn_check_render(const kgn_check *c, kgn_format fmt, kg_buf *b)
{
    const kgg_snap *s = c->snap;
    if (fmt == KGN_JSON) {
        kg_buf_printf(b, "{\"kgpath_check\":1,\"concepts_total\":%u,\"entry_points\":%u,\"cycles\":[", s->n, c->nentry);
        for (uint32_t i = 0; i < c->ncycles; i++) {
            kg_buf_puts(b, i ? ",[" : "[");
            for (uint32_t j = c->cycle_off[i]; j < c->cycle_off[i + 1]; j++) {
                if (j > c->cycle_off[i]) kg_buf_put(b, ",", 1);
                json_concept(b, s, c->cycles[j]);
            }
            kg_buf_put(b, "]", 1);
        }
        kg_buf_puts(b, "],\"redundant_edges\":[");
        for (uint32_t i = 0; i < c->nredundant; i++) {
            kg_buf_puts(b, i ? ",{\"from\":" : "{\"from\":");
            kg_buf_json(b, s->key[c->redundant[i].from]);
            kg_buf_puts(b, ",\"to\":");
            kg_buf_json(b, s->key[c->redundant[i].to]);
            kg_buf_put(b, "}", 1);
        }
        kg_buf_puts(b, "],\"dangling\":[");
        for (size_t i = 0; i < s->nunresolved; i++) {
            kg_buf_puts(b, i ? ",{\"concept\":" : "{\"concept\":");
            kg_buf_json(b, s->key[s->unresolved[i].concept]);
            kg_buf_puts(b, ",\"target\":");
            kg_buf_json(b, s->unresolved[i].target);
            kg_buf_printf(b, ",\"recommended\":%s}", s->unresolved[i].recommended ? "true" : "false");
        }
        kg_buf_puts(b, "],\"orphans\":[");
        for (uint32_t i = 0; i < c->norphans; i++) { if (i) kg_buf_put(b, ",", 1); json_concept(b, s, c->orphans[i]); }
        kg_buf_puts(b, "],\"unreachable\":[");
        for (uint32_t i = 0; i < c->nunreachable; i++) { if (i) kg_buf_put(b, ",", 1); json_concept(b, s, c->unreachable[i]); }
        kg_buf_puts(b, "],\"bottlenecks\":[");
        for (uint32_t i = 0; i < c->nbottlenecks; i++) { if (i) kg_buf_put(b, ",", 1); json_concept(b, s, c->bottlenecks[i]); }
        kg_buf_puts(b, "],\"metrics\":");
        if (!c->metrics) kg_buf_puts(b, "null");
        else {
            kg_buf_put(b, "[", 1);
            for (uint32_t v = 0; v < s->n; v++) {
                const kgn_metric *m = &c->metrics[v];
                kg_buf_puts(b, v ? ",{\"id\":" : "{\"id\":");
                kg_buf_json(b, s->key[v]);
                kg_buf_printf(b, ",\"blocking\":%u,\"delay\":%u,\"complexity\":%u,\"ancestors\":%u,\"betweenness\":%.6g}",
                               m->blocking, m->delay, m->complexity, m->ancestors, m->betweenness);
            }
            kg_buf_put(b, "]", 1);
        }
        kg_buf_puts(b, "}\n");
        return b->oom ? KGP_ENOMEM : KGP_OK;
    }
    if (fmt != KGN_TEXT) return KGP_EUSAGE;
    kg_buf_printf(b, "Curriculum check: %u concepts, %u entry points (no prerequisites)\n\n", s->n, c->nentry);
    kg_buf_printf(b, "Cycles: %u\n", c->ncycles);
    for (uint32_t i = 0; i < c->ncycles; i++) {
        kg_buf_puts(b, "  ");
        for (uint32_t j = c->cycle_off[i]; j < c->cycle_off[i + 1]; j++)
            kg_buf_printf(b, "%s\"%s\" (%s)", j > c->cycle_off[i] ? " -> " : "", s->title[c->cycles[j]], s->key[c->cycles[j]]);
        kg_buf_printf(b, " -> \"%s\"\n", s->title[c->cycles[c->cycle_off[i]]]);
    }
    kg_buf_printf(b, "Redundant (transitive) prerequisites: %u\n", c->nredundant);
    for (uint32_t i = 0; i < c->nredundant; i++)
        kg_buf_printf(b, "  %s -> %s (implied by a longer path)\n", s->key[c->redundant[i].from], s->key[c->redundant[i].to]);
    kg_buf_printf(b, "Dangling references: %zu\n", s->nunresolved);
    for (size_t i = 0; i < s->nunresolved; i++)
        kg_buf_printf(b, "  %s -> %s%s (not in the database)\n", s->key[s->unresolved[i].concept],
                       s->unresolved[i].target, s->unresolved[i].recommended ? " [recommended]" : "");
    kg_buf_printf(b, "Orphans (no prerequisites, nothing depends on them): %u\n", c->norphans);
    for (uint32_t i = 0; i < c->norphans; i++)
        kg_buf_printf(b, "  %s  %s\n", s->key[c->orphans[i]], s->title[c->orphans[i]]);
    kg_buf_printf(b, "Unreachable (cannot be learned from the entry points): %u\n", c->nunreachable);
    for (uint32_t i = 0; i < c->nunreachable; i++)
        kg_buf_printf(b, "  %s  %s\n", s->key[c->unreachable[i]], s->title[c->unreachable[i]]);
    if (!c->metrics) {
        kg_buf_printf(b, "Structural metrics: skipped (more than %u concepts)\n", KGN_CHECK_METRICS_MAX);
        return b->oom ? KGP_ENOMEM : KGP_OK;
    }
    kg_buf_printf(b, "Bottlenecks (most dependencies pass through them): %u\n", c->nbottlenecks);
    for (uint32_t i = 0; i < c->nbottlenecks; i++) {
        const kgn_metric *m = &c->metrics[c->bottlenecks[i]];
        kg_buf_printf(b, "  %s  %s  (%u prerequisites x %u dependents, betweenness %.1f)\n",
                       s->key[c->bottlenecks[i]], s->title[c->bottlenecks[i]], m->ancestors,
                       m->blocking, m->betweenness);
    }
    kg_buf_puts(b, "Structural complexity per concept (blocking + delay):\n");
    kg_buf_printf(b, "  %-32s %8s %6s %10s\n", "concept", "blocking", "delay", "complexity");
    for (uint32_t v = 0; v < s->n; v++) {
        const kgn_metric *m = &c->metrics[v];
        kg_buf_printf(b, "  %-32s %8u %6u %10u\n", s->key[v], m->blocking, m->delay, m->complexity);
    }
    return b->oom ? KGP_ENOMEM : KGP_OK;
}

/* Debian's igraph is built without thread-local state: every igraph call in
 * the process runs under the graph layer's igraph lock. */
kgp_status kgn_check_make(const kgn_index *ix, kgn_check **out, kgn_error *err)
{
    kgg_igraph_lock();
    kgp_status st = check_make_locked(ix, out, err);
    kgg_igraph_unlock();
    return st;
}
