/* Authored course order as requirements (kgpath plan --follow-course-order).
 *
 * Most course exports declare few prerequisites; their knowledge is in the
 * authored sequence. kgn_ordered_new builds a view of a snapshot in which,
 * within each selected course, every concept also requires the concept
 * before it in the course's sequence, so that planning a late goal pulls in
 * everything authored before it (and a known concept stops the walk, as any
 * known prerequisite does).
 *
 * The sequence is the course's authored order (dense ids course_first[c]..,
 * graph/snapshot.h) made consistent with its own requirements: a
 * topological order of the course's requirement edges (every member of
 * every group) that takes the earliest-authored ready concept first. A
 * container authored before its parts (an OLX chapter, a SCORM aggregation,
 * a Moodle section, all of which require their parts) so comes right after
 * its last part, and the added chain never closes a cycle inside a course.
 *
 * The view is a shallow copy: titles, keys, minutes, recommendations are
 * the snapshot's; requirement groups, members, dependents and unresolved
 * group numbers are rebuilt with one added group per chained concept (its
 * last group, k = 1 of 1, reason KGN_ORDER_REASON). topo_rank is left NULL
 * so kgn_index_new sorts the new graph. O(V log V + E) time, O(V + E)
 * memory. */
#include <string.h>

#include "planner/planner.h"

struct kgn_ordered {
    kgg_snap snap;
    uint8_t *order_grp;                 /* [ngroups] 1: an added authored-order group */
    uint32_t *grp_off, *grp_k, *grp_n, *mem_off, *mem, *dep_off, *dep;
    const char **grp_reason, **mem_reason;
    kgg_unresolved *unresolved;
};

const char *const KGN_ORDER_REASON = "authored course order";

static void heap_push(uint32_t *h, uint32_t *n, uint32_t x)
{
    uint32_t i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > x) { h[i] = h[(i - 1) / 2]; i = (i - 1) / 2; }
    h[i] = x;
}

static uint32_t heap_pop(uint32_t *h, uint32_t *n)
{
    uint32_t top = h[0], x = h[--*n], i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        uint32_t v = x;
        if (l < *n && h[l] < v) { m = l; v = h[l]; }
        if (r < *n && h[r] < v) m = r;
        if (m == i) break;
        h[i] = h[m];
        i = m;
    }
    if (*n) h[i] = x;
    return top;
}

/* pred[i] = the concept before i in its course's sequence, or KGG_NONE. */
static int sequence(const kgg_snap *s, const uint8_t *on, uint32_t *pred, uint32_t *indeg, uint32_t *heap)
{
    for (uint32_t i = 0; i < s->n; i++) pred[i] = KGG_NONE;
    for (uint32_t c = 0; c < s->ncourses; c++) {
        if (on && !on[c]) continue;
        uint32_t lo = s->course_first[c], hi = s->course_first[c + 1], nh = 0, last = KGG_NONE;
        for (uint32_t i = lo; i < hi; i++) {
            indeg[i] = 0;
            for (uint32_t j = s->mem_off[s->grp_off[i]]; j < s->mem_off[s->grp_off[i + 1]]; j++)
                if (s->mem[j] >= lo && s->mem[j] < hi) indeg[i]++;
            if (!indeg[i]) heap_push(heap, &nh, i);
        }
        while (nh) {
            uint32_t u = heap_pop(heap, &nh);
            pred[u] = last;
            last = u;
            for (uint32_t q = s->dep_off[u]; q < s->dep_off[u + 1]; q++) {
                uint32_t d = s->dep[q];
                if (d < lo || d >= hi) continue;
                for (uint32_t j = s->mem_off[s->grp_off[d]]; j < s->mem_off[s->grp_off[d + 1]]; j++)
                    if (s->mem[j] == u && --indeg[d] == 0) heap_push(heap, &nh, d);
            }
        }
        /* Concepts on an in-course cycle (refused at import) stay unchained. */
    }
    return 0;
}

void kgn_ordered_free(kgn_ordered *o)
{
    if (!o) return;
    kg_free(o->order_grp); kg_free(o->grp_off); kg_free(o->grp_k); kg_free(o->grp_n);
    kg_free(o->mem_off); kg_free(o->mem); kg_free(o->dep_off); kg_free(o->dep);
    kg_free((void *)o->grp_reason); kg_free((void *)o->mem_reason); kg_free(o->unresolved);
    kg_free(o);
}

const kgg_snap *kgn_ordered_snap(const kgn_ordered *o) { return &o->snap; }
const uint8_t *kgn_ordered_groups(const kgn_ordered *o) { return o->order_grp; }

kgp_status kgn_ordered_new(const kgg_snap *s, const uint8_t *on, kgn_ordered **out, kgn_error *err)
{
    *out = NULL;
    uint32_t n = s->n, n1 = n ? n : 1;
    kgn_ordered *o = kg_calloc(1, sizeof *o);
    uint32_t *pred = kg_malloc((size_t)n1 * sizeof *pred);
    uint32_t *tmp = kg_malloc((size_t)n1 * sizeof *tmp), *heap = kg_malloc((size_t)n1 * sizeof *heap);
    if (!o || !pred || !tmp || !heap) goto oom;
    sequence(s, on, pred, tmp, heap);
    uint32_t nchain = 0;
    for (uint32_t i = 0; i < n; i++) nchain += pred[i] != KGG_NONE;
    uint32_t ng = s->ngroups + nchain, ng1 = ng ? ng : 1;
    size_t nm = (size_t)s->mem_off[s->ngroups] + nchain;
    o->grp_off = kg_malloc((size_t)(n + 1) * sizeof *o->grp_off);
    o->grp_k = kg_malloc((size_t)ng1 * sizeof *o->grp_k);
    o->grp_n = kg_malloc((size_t)ng1 * sizeof *o->grp_n);
    o->grp_reason = kg_calloc(ng1, sizeof *o->grp_reason);
    o->order_grp = kg_calloc(ng1, 1);
    o->mem_off = kg_malloc((size_t)(ng + 1) * sizeof *o->mem_off);
    o->mem = kg_malloc((nm ? nm : 1) * sizeof *o->mem);
    o->mem_reason = kg_calloc(nm ? nm : 1, sizeof *o->mem_reason);
    o->dep_off = kg_calloc((size_t)n + 1, sizeof *o->dep_off);
    if (!o->grp_off || !o->grp_k || !o->grp_n || !o->grp_reason || !o->order_grp || !o->mem_off ||
        !o->mem || !o->mem_reason || !o->dep_off) goto oom;
    /* Groups: the concept's own, then the authored-order one. */
    uint32_t g2 = 0, m2 = 0;
    for (uint32_t i = 0; i < n; i++) {
        o->grp_off[i] = g2;
        for (uint32_t g = s->grp_off[i]; g < s->grp_off[i + 1]; g++, g2++) {
            o->grp_k[g2] = s->grp_k[g];
            o->grp_n[g2] = s->grp_n ? s->grp_n[g] : s->mem_off[g + 1] - s->mem_off[g];
            o->grp_reason[g2] = s->grp_reason ? s->grp_reason[g] : NULL;
            o->mem_off[g2] = m2;
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++, m2++) {
                o->mem[m2] = s->mem[j];
                o->mem_reason[m2] = s->mem_reason ? s->mem_reason[j] : NULL;
            }
        }
        if (pred[i] != KGG_NONE) {
            o->grp_k[g2] = 1;
            o->grp_n[g2] = 1;
            o->grp_reason[g2] = KGN_ORDER_REASON;
            o->order_grp[g2] = 1;
            o->mem_off[g2] = m2;
            o->mem[m2] = pred[i];
            o->mem_reason[m2++] = KGN_ORDER_REASON;
            g2++;
        }
    }
    o->grp_off[n] = g2;
    o->mem_off[g2] = m2;
    /* Dependents: each (member, concept) pair once, ascending by concept. */
    for (uint32_t i = 0; i < n; i++) tmp[i] = KGG_NONE;
    for (uint32_t d = 0; d < n; d++)
        for (uint32_t j = o->mem_off[o->grp_off[d]]; j < o->mem_off[o->grp_off[d + 1]]; j++)
            if (tmp[o->mem[j]] != d) { tmp[o->mem[j]] = d; o->dep_off[o->mem[j] + 1]++; }
    for (uint32_t i = 0; i < n; i++) o->dep_off[i + 1] += o->dep_off[i];
    o->dep = kg_malloc((o->dep_off[n] ? o->dep_off[n] : 1) * sizeof *o->dep);
    if (!o->dep) goto oom;
    for (uint32_t i = 0; i < n; i++) { tmp[i] = KGG_NONE; heap[i] = o->dep_off[i]; }
    for (uint32_t d = 0; d < n; d++)
        for (uint32_t j = o->mem_off[o->grp_off[d]]; j < o->mem_off[o->grp_off[d + 1]]; j++)
            if (tmp[o->mem[j]] != d) { tmp[o->mem[j]] = d; o->dep[heap[o->mem[j]]++] = d; }
    /* Unresolved references keep naming their (renumbered) group. */
    if (s->nunresolved) {
        o->unresolved = kg_malloc(s->nunresolved * sizeof *o->unresolved);
        if (!o->unresolved) goto oom;
        for (size_t q = 0; q < s->nunresolved; q++) {
            o->unresolved[q] = s->unresolved[q];
            uint32_t g = s->unresolved[q].group, c = s->unresolved[q].concept;
            if (g != KGG_NONE) o->unresolved[q].group = o->grp_off[c] + (g - s->grp_off[c]);
        }
    }
    o->snap = *s;
    o->snap.ngroups = ng;
    o->snap.grp_off = o->grp_off; o->snap.grp_k = o->grp_k; o->snap.grp_n = o->grp_n;
    o->snap.grp_reason = o->grp_reason; o->snap.mem_off = o->mem_off; o->snap.mem = o->mem;
    o->snap.mem_reason = o->mem_reason; o->snap.dep_off = o->dep_off; o->snap.dep = o->dep;
    o->snap.unresolved = o->unresolved;
    o->snap.topo_rank = NULL;
    kg_free(pred); kg_free(tmp); kg_free(heap);
    *out = o;
    return KGP_OK;
oom:
    kg_free(pred); kg_free(tmp); kg_free(heap);
    kgn_ordered_free(o);
    return kgn_fail(err, KGP_ENOMEM, "out of memory");
}

kgp_status kgn_ordered_index(const kgg_snap *s, const uint8_t *on, kgn_ordered **ord,
                             kgn_index **ix, kgn_error *err)
{
    *ix = NULL;
    kgp_status st = kgn_ordered_new(s, on, ord, err);
    if (st != KGP_OK) return st;
    st = kgn_index_new(kgn_ordered_snap(*ord), ix, err);
    if (st != KGP_OK) {
        kgn_ordered_free(*ord);
        *ord = NULL;
        return st;
    }
    (*ix)->order_grp = kgn_ordered_groups(*ord);
    return KGP_OK;
}

kgp_status kgn_default_index(const kgg_snap *s, kgn_ordered **ord, kgn_index **ix, kgn_error *err)
{
    *ord = NULL;
    int any = 0;
    for (uint32_t c = 0; s->course_order && c < s->ncourses; c++) any |= s->course_order[c];
    if (!any) return kgn_index_new(s, ix, err);
    return kgn_ordered_index(s, s->course_order, ord, ix, err);
}
