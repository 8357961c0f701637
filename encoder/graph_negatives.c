/* Labelled negatives from the graph alone (graph_negatives.h). */
#include "encoder/graph_negatives.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/graph_csr.h"
#include "encoder/pair_set.h"
#include "encoder/train_rng.h"

enum { REACH_BITSET_MAX = 8192 };

/* x ⇝ y? The transitive closure as bitsets (n ≤ REACH_BITSET_MAX), else a
 * breadth-first search per question. */
typedef struct reach {
    size_t n, words;
    const uint32_t *op, *od;   /* out-adjacency, CSR */
    uint64_t *bits;            /* (n, words) or NULL */
    uint32_t *queue, *stamp, now;
} reach;

static int reach_has(reach *R, uint32_t x, uint32_t y)
{
    if (R->bits) return (int)(R->bits[(size_t)x * R->words + y / 64] >> (y % 64) & 1);
    if (++R->now == 0) { memset(R->stamp, 0, R->n * sizeof *R->stamp); R->now = 1; }
    size_t qh = 0, qt = 0;
    R->queue[qt++] = x;
    R->stamp[x] = R->now;
    while (qh < qt) {
        uint32_t v = R->queue[qh++];
        for (uint32_t k = R->op[v]; k < R->op[v + 1]; k++) {
            uint32_t w = R->od[k];
            if (w == y) return 1;
            if (R->stamp[w] != R->now) { R->stamp[w] = R->now; R->queue[qt++] = w; }
        }
    }
    return 0;
}

/* The closure: a concept on a cycle (never ordered by Kahn's algorithm)
 * gets its own breadth-first search first; then, in reverse topological
 * order, each other concept's set is its children and their sets. */
static int reach_init(reach *R, size_t n, const uint32_t *op, const uint32_t *od)
{
    memset(R, 0, sizeof *R);
    R->n = n; R->op = op; R->od = od;
    R->queue = malloc((n + 1) * sizeof *R->queue);
    R->stamp = calloc(n + 1, sizeof *R->stamp);
    if (!R->queue || !R->stamp) return -1;
    if (n > REACH_BITSET_MAX) return 0;
    R->words = (n + 63) / 64;
    R->bits = calloc(n * R->words + 1, sizeof *R->bits);
    uint32_t *indeg = calloc(n + 1, sizeof *indeg), *order = malloc((n + 1) * sizeof *order);
    if (!R->bits || !indeg || !order) { free(indeg); free(order); return -1; }
    for (size_t v = 0; v < n; v++)
        for (uint32_t k = op[v]; k < op[v + 1]; k++) indeg[od[k]]++;
    size_t no = 0, head = 0;
    for (size_t v = 0; v < n; v++)
        if (!indeg[v]) order[no++] = (uint32_t)v;
    while (head < no) {
        uint32_t v = order[head++];
        for (uint32_t k = op[v]; k < op[v + 1]; k++)
            if (--indeg[od[k]] == 0) order[no++] = od[k];
    }
    if (no < n) {   /* cycles: those concepts by search */
        uint8_t *ordered = calloc(n + 1, 1);
        if (!ordered) { free(indeg); free(order); return -1; }
        for (size_t i = 0; i < no; i++) ordered[order[i]] = 1;
        for (size_t v = 0; v < n; v++) {
            if (ordered[v]) continue;
            uint64_t *bv = R->bits + v * R->words;
            size_t qh = 0, qt = 0;
            R->queue[qt++] = (uint32_t)v;
            while (qh < qt) {
                uint32_t x = R->queue[qh++];
                for (uint32_t k = op[x]; k < op[x + 1]; k++) {
                    uint32_t w = od[k];
                    if (bv[w / 64] >> (w % 64) & 1) continue;
                    bv[w / 64] |= 1ull << (w % 64);
                    R->queue[qt++] = w;
                }
            }
        }
        free(ordered);
    }
    for (size_t i = no; i-- > 0;) {
        uint32_t v = order[i];
        uint64_t *bv = R->bits + (size_t)v * R->words;
        for (uint32_t k = op[v]; k < op[v + 1]; k++) {
            uint32_t w = od[k];
            const uint64_t *bw = R->bits + (size_t)w * R->words;
            bv[w / 64] |= 1ull << (w % 64);
            for (size_t q = 0; q < R->words; q++) bv[q] |= bw[q];
        }
    }
    free(indeg); free(order);
    return 0;
}

static void reach_free(reach *R) { free(R->bits); free(R->queue); free(R->stamp); }

int kge_graph_negatives(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const kge_negmix *mix,
                        uint64_t seed, uint32_t **ns, uint32_t **nd, size_t *m)
{
    *ns = *nd = NULL;
    *m = 0;
    enum { KINDS = 4 };
    double want[KINDS] = {mix->reversed * (double)E, mix->near * (double)E, mix->random * (double)E,
                          mix->roles * (double)E};
    double tot = want[0] + want[1] + want[2] + want[3];
    double scale = mix->cap && tot > (double)mix->cap ? (double)mix->cap / tot : 1;
    size_t quota[KINDS], M = 0;
    for (int k = 0; k < KINDS; k++) { quota[k] = (size_t)llround(want[k] * scale); M += quota[k]; }
    uint32_t *op = NULL, *od = NULL, *up = NULL, *ud = NULL;   /* out-adjacency; undirected */
    uint32_t *perm = malloc((E + 1) * sizeof *perm);
    uint32_t *xs = malloc((M + 1) * sizeof *xs), *ys = malloc((M + 1) * sizeof *ys);
    pair_set edges = {0}, drawn = {0};
    uint32_t *srcs = NULL, *dsts = NULL;
    size_t nsrc = 0, ndst = 0;
    reach R = {0};
    int rc = 0;
    if (!perm || !xs || !ys || pset_init(&edges, E) || pset_init(&drawn, M) ||
        kge_csr_build(n, E, src, dst, KGE_CSR_OUT, &op, &od) || kge_csr_build(n, E, src, dst, KGE_CSR_BOTH, &up, &ud)) {
        rc = -1;
        goto out;
    }
    for (size_t e = 0; e < E; e++) pset_add(&edges, src[e], dst[e]);
    if (reach_init(&R, n, op, od)) { rc = -1; goto out; }
    /* the concepts in each role, each once */
    srcs = malloc((n + 1) * sizeof *srcs);
    dsts = malloc((n + 1) * sizeof *dsts);
    if (!srcs || !dsts) { rc = -1; goto out; }
    for (size_t v = 0; v < n; v++) {
        if (op[v + 1] > op[v]) srcs[nsrc++] = (uint32_t)v;
        if (up[v + 1] - up[v] > op[v + 1] - op[v]) dsts[ndst++] = (uint32_t)v;
    }
    kge_rng r;
    kge_rng_seed(&r, seed ^ 0x6b67706174680021ull);
    for (size_t e = 0; e < E; e++) perm[e] = (uint32_t)e;
    for (size_t e = E; e > 1; e--) {
        size_t j = kge_rng_below(&r, e);
        uint32_t t = perm[e - 1]; perm[e - 1] = perm[j]; perm[j] = t;
    }
    /* round the shuffled edges, one of each kind still wanted per edge,
     * until every quota is met or a whole round adds nothing */
    size_t got[KINDS] = {0, 0, 0, 0};
    for (int added = 1; added && n > 1 && E;) {
        added = 0;
        for (size_t i = 0; i < E; i++) {
            uint32_t a = src[perm[i]], b = dst[perm[i]];
            for (int kind = 0; kind < KINDS; kind++) {
                if (got[kind] >= quota[kind]) continue;
                for (int tries = 0; tries < (kind ? 8 : 1); tries++) {
                    uint32_t x = b, y = a;   /* reversed */
                    if (kind == 1) {         /* near: an end's other neighbour with the other end */
                        int end = (int)kge_rng_below(&r, 2);
                        uint32_t e0 = end ? b : a, other = end ? a : b;
                        uint32_t deg = up[e0 + 1] - up[e0];
                        uint32_t w = ud[up[e0] + kge_rng_below(&r, deg)];
                        if (w == other) continue;   /* the edge itself, or its reverse */
                        if (kge_rng_below(&r, 2)) { x = w; y = other; } else { x = other; y = w; }
                    } else if (kind == 2) {
                        x = (uint32_t)kge_rng_below(&r, n);
                        y = (uint32_t)kge_rng_below(&r, n);
                    } else if (kind == 3) {   /* roles: a prerequisite of something, a concept with some */
                        x = srcs[kge_rng_below(&r, nsrc)];
                        y = dsts[kge_rng_below(&r, ndst)];
                    }
                    if (x == y || pset_has(&edges, x, y) || pset_has(&drawn, x, y)) continue;
                    if (kind && reach_has(&R, x, y)) continue;
                    pset_add(&drawn, x, y);
                    xs[*m] = x; ys[*m] = y; ++*m;
                    got[kind]++;
                    added = 1;
                    break;
                }
            }
            if (got[0] >= quota[0] && got[1] >= quota[1] && got[2] >= quota[2] && got[3] >= quota[3]) {
                added = 0;
                break;
            }
        }
    }
out:
    free(op); free(od); free(up); free(ud); free(perm); free(edges.slot); free(drawn.slot); free(srcs); free(dsts);
    reach_free(&R);
    if (rc) { free(xs); free(ys); *m = 0; }
    else { *ns = xs; *nd = ys; }
    return rc;
}
