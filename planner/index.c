/* kgn_index: the planner's whole-graph facts, computed once per snapshot.
 *
 * feasible[c] says whether c can be learned starting from nothing: it is not
 * on or behind a requirement cycle and each of its groups has at least k
 * feasible members. Plans use it to prune alternatives in O(1); a known
 * concept can make an infeasible region learnable again, which the workspace
 * re-checks per plan only for concepts whose feasible[] is 0. */
#include <string.h>

#include <igraph.h>

#include "graph/igraph_bridge.h"
#include "planner/planner.h"

/* One igraph error handler per process: the graph layer's (it records the
 * message instead of aborting). */
void kgn_igraph_init(void)
{
    kgg_igraph_init();
}

/* Topological order by igraph when the snapshot has no ranks. Concepts on or
 * behind a cycle are left out of the order. */
static kgp_status order_by_igraph(const kgg_snap *s, kgn_index *ix, kgn_error *err)
{
    kgn_igraph_init();
    igraph_t g;
    igraph_vector_int_t edges, order;
    size_t ne = s->mem_off[s->ngroups];
    if (igraph_vector_int_init(&edges, (igraph_integer_t)(2 * ne)) != IGRAPH_SUCCESS)
        return kgn_fail(err, KGP_ENOMEM, "out of memory");
    size_t e = 0;
    for (uint32_t c = 0; c < s->n; c++)
        for (uint32_t g2 = s->grp_off[c]; g2 < s->grp_off[c + 1]; g2++)
            for (uint32_t j = s->mem_off[g2]; j < s->mem_off[g2 + 1]; j++) {
                VECTOR(edges)[e++] = s->mem[j];
                VECTOR(edges)[e++] = c;
            }
    if (igraph_create(&g, &edges, s->n, IGRAPH_DIRECTED) != IGRAPH_SUCCESS) {
        igraph_vector_int_destroy(&edges);
        return kgn_fail(err, KGP_EINTERNAL, "igraph_create failed");
    }
    igraph_vector_int_destroy(&edges);
    igraph_bool_t dag = 0;
    igraph_is_dag(&g, &dag);
    igraph_vector_int_init(&order, 0);
    if (dag && igraph_topological_sorting(&g, &order, IGRAPH_OUT) == IGRAPH_SUCCESS) {
        igraph_integer_t m = igraph_vector_int_size(&order);
        for (igraph_integer_t i = 0; i < m; i++)
            ix->order[ix->norder++] = (uint32_t)VECTOR(order)[i];
    } else {
        /* igraph refuses to sort a graph with cycles; Kahn's algorithm keeps
         * the part that is not on or behind a cycle. */
        uint32_t *indeg = kg_calloc(s->n ? s->n : 1, sizeof *indeg);
        if (!indeg) {
            igraph_vector_int_destroy(&order);
            igraph_destroy(&g);
            return kgn_fail(err, KGP_ENOMEM, "out of memory");
        }
        for (uint32_t c = 0; c < s->n; c++)
            indeg[c] = s->mem_off[s->grp_off[c + 1]] - s->mem_off[s->grp_off[c]];
        for (uint32_t c = 0; c < s->n; c++)
            if (!indeg[c]) ix->order[ix->norder++] = c;
        for (uint32_t h = 0; h < ix->norder; h++) {
            uint32_t u = ix->order[h];
            for (uint32_t j = s->dep_off[u]; j < s->dep_off[u + 1]; j++) {
                uint32_t d = s->dep[j];
                /* u may appear in several groups of d: count each membership. */
                for (uint32_t g2 = s->grp_off[d]; g2 < s->grp_off[d + 1]; g2++)
                    for (uint32_t q = s->mem_off[g2]; q < s->mem_off[g2 + 1]; q++)
                        if (s->mem[q] == u && --indeg[d] == 0) ix->order[ix->norder++] = d;
            }
        }
        kg_free(indeg);
    }
    igraph_vector_int_destroy(&order);
    igraph_destroy(&g);
    return KGP_OK;
}

kgp_status kgn_index_new(const kgg_snap *s, kgn_index **out, kgn_error *err)
{
    *out = NULL;
    kgn_index *ix = kg_calloc(1, sizeof *ix);
    if (!ix) return kgn_fail(err, KGP_ENOMEM, "out of memory");
    ix->snap = s;
    uint32_t n = s->n;
    ix->order = kg_malloc((size_t)(n ? n : 1) * sizeof *ix->order);
    ix->feasible = kg_calloc(n ? n : 1, 1);
    ix->rank = kg_malloc((size_t)(n ? n : 1) * sizeof *ix->rank);
    ix->roots = kg_malloc((size_t)(n ? n : 1) * sizeof *ix->roots);
    if (!ix->order || !ix->feasible || !ix->roots || !ix->rank) {
        kgn_index_free(ix);
        return kgn_fail(err, KGP_ENOMEM, "out of memory");
    }
    if (s->topo_rank) {
        /* Ranks are distinct in 0..n-1 for the acyclic part: counting sort. */
        uint32_t *slot = kg_malloc((size_t)(n ? n : 1) * sizeof *slot);
        if (!slot) { kgn_index_free(ix); return kgn_fail(err, KGP_ENOMEM, "out of memory"); }
        int ok = 1;
        for (uint32_t i = 0; i < n; i++) slot[i] = KGG_NONE;
        for (uint32_t c = 0; ok && c < n; c++) {
            uint32_t r = s->topo_rank[c];
            if (r == KGG_NONE) continue;
            if (r >= n || slot[r] != KGG_NONE) ok = 0;     /* not a rank: sort ourselves */
            else slot[r] = c;
        }
        for (uint32_t r = 0; ok && r < n; r++)
            if (slot[r] != KGG_NONE) ix->order[ix->norder++] = slot[r];
        kg_free(slot);
        if (!ok) {
            ix->norder = 0;
            kgg_igraph_lock();   /* Debian igraph is not thread-safe */
            kgp_status st = order_by_igraph(s, ix, err);
            kgg_igraph_unlock();
            if (st != KGP_OK) { kgn_index_free(ix); return st; }
        }
    } else {
        kgg_igraph_lock();   /* Debian igraph is not thread-safe */
            kgp_status st = order_by_igraph(s, ix, err);
            kgg_igraph_unlock();
        if (st != KGP_OK) { kgn_index_free(ix); return st; }
    }
    for (uint32_t c = 0; c < n; c++) ix->rank[c] = KGG_NONE;
    for (uint32_t i = 0; i < ix->norder; i++) ix->rank[ix->order[i]] = i;
    for (uint32_t i = 0; i < ix->norder; i++) {
        uint32_t c = ix->order[i];
        int ok = 1;
        for (uint32_t g = s->grp_off[c]; ok && g < s->grp_off[c + 1]; g++) {
            uint32_t have = 0;
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++)
                have += ix->feasible[s->mem[j]];
            if (have < s->grp_k[g]) ok = 0;
        }
        ix->feasible[c] = (uint8_t)ok;
    }
    for (uint32_t c = 0; c < n; c++)
        if (s->grp_off[c] == s->grp_off[c + 1]) ix->roots[ix->nroots++] = c;
    *out = ix;
    return KGP_OK;
}

void kgn_index_free(kgn_index *ix)
{
    if (!ix) return;
    kg_free(ix->order);
    kg_free(ix->feasible);
    kg_free(ix->rank);
    kg_free(ix->roots);
    kg_free(ix);
}
