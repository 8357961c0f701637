/* kge_graph_negatives: the labelled negatives a graph without rejections
 * carries (reversed edges, near and random non-edges) are never edges,
 * never implied prerequisites (a path x ⇝ y), come in the asked mix and
 * cap, each once, the same for the same seed; on a graph too large for the
 * reachability bitsets the searches give the same answers. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/graph_negatives.h"

/* Two small trees joined at the top and a side chain:
 * 0 → 1 → 3, 0 → 2 → 4, 1 → 4, 5 → 6 → 7 → 8, 2 → 7, 9 isolated. */
static const uint32_t g_src[] = {0, 1, 0, 2, 1, 5, 6, 7, 2};
static const uint32_t g_dst[] = {1, 3, 2, 4, 4, 6, 7, 8, 7};
enum { GN = 10, GE = sizeof g_src / sizeof *g_src };

/* x ⇝ y over (src, dst) of E edges, by repeated relaxation. */
static int path(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, uint32_t x, uint32_t y)
{
    uint8_t *r = calloc(n, 1);
    ck_assert(r != NULL);
    r[x] = 1;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t e = 0; e < E; e++)
            if (r[src[e]] && !r[dst[e]]) { r[dst[e]] = 1; changed = 1; }
    }
    int ok = r[y] && x != y;
    free(r);
    return ok;
}

static int is_edge(uint32_t x, uint32_t y)
{
    for (size_t e = 0; e < GE; e++)
        if (g_src[e] == x && g_dst[e] == y) return 1;
    return 0;
}

START_TEST(kinds_and_mix)
{
    uint32_t *ns, *nd;
    size_t m;
    /* reversed edges only: exactly the edges turned round */
    kge_negmix rev = {1, 0, 0, 0, 0};
    ck_assert_int_eq(kge_graph_negatives(GN, GE, g_src, g_dst, &rev, 7, &ns, &nd, &m), 0);
    ck_assert_uint_eq(m, GE);
    for (size_t k = 0; k < m; k++) ck_assert_msg(is_edge(nd[k], ns[k]), "%u -> %u is no reversed edge", ns[k], nd[k]);
    free(ns); free(nd);
    /* near only: each pair shares a neighbour, neither an edge nor a path x ⇝ y */
    kge_negmix near = {0, 1, 0, 0, 0};
    ck_assert_int_eq(kge_graph_negatives(GN, GE, g_src, g_dst, &near, 7, &ns, &nd, &m), 0);
    ck_assert_uint_eq(m, GE);
    for (size_t k = 0; k < m; k++) {
        uint32_t x = ns[k], y = nd[k];
        ck_assert(x != y && !is_edge(x, y) && !path(GN, GE, g_src, g_dst, x, y));
        int shared = 0;
        for (uint32_t w = 0; w < GN; w++)
            shared |= (is_edge(x, w) || is_edge(w, x)) && (is_edge(y, w) || is_edge(w, y));
        ck_assert_msg(shared, "%u, %u share no neighbour", x, y);
        for (size_t j = 0; j < k; j++) ck_assert(!(ns[j] == x && nd[j] == y));
    }
    free(ns); free(nd);
    /* the default mix, deterministic, another seed another draw, the cap */
    kge_negmix mix = {1, 1, 1, 0, 0};
    uint32_t *ns2, *nd2;
    size_t m2;
    ck_assert_int_eq(kge_graph_negatives(GN, GE, g_src, g_dst, &mix, 7, &ns, &nd, &m), 0);
    ck_assert_msg(m > 2 * GE && m <= 3 * GE, "%zu pairs", m);   /* a kind may run short on so small a graph */
    for (size_t k = 0; k < m; k++) {
        ck_assert(ns[k] != nd[k] && !is_edge(ns[k], nd[k]));
        ck_assert_msg(is_edge(nd[k], ns[k]) || !path(GN, GE, g_src, g_dst, ns[k], nd[k]), "%u ⇝ %u drawn", ns[k], nd[k]);
        for (size_t j = 0; j < k; j++) ck_assert(!(ns[j] == ns[k] && nd[j] == nd[k]));
    }
    ck_assert_int_eq(kge_graph_negatives(GN, GE, g_src, g_dst, &mix, 7, &ns2, &nd2, &m2), 0);
    ck_assert(m2 == m && !memcmp(ns, ns2, m * sizeof *ns) && !memcmp(nd, nd2, m * sizeof *nd));
    free(ns2); free(nd2);
    ck_assert_int_eq(kge_graph_negatives(GN, GE, g_src, g_dst, &mix, 8, &ns2, &nd2, &m2), 0);
    ck_assert(m2 == m && (memcmp(ns, ns2, m * sizeof *ns) || memcmp(nd, nd2, m * sizeof *nd)));
    free(ns2); free(nd2);
    free(ns); free(nd);
    mix.cap = 9;
    ck_assert_int_eq(kge_graph_negatives(GN, GE, g_src, g_dst, &mix, 7, &ns, &nd, &m), 0);
    ck_assert_uint_eq(m, 9);
    free(ns); free(nd);
    /* no edges: nothing to draw around */
    ck_assert_int_eq(kge_graph_negatives(GN, 0, g_src, g_dst, &mix, 7, &ns, &nd, &m), 0);
    ck_assert_uint_eq(m, 0);
    free(ns); free(nd);
}
END_TEST

/* A complete order (a chain, every pair joined by a path): only reversed
 * and backward pairs exist; the kinds that need a pair without a path
 * x ⇝ y find none forward. The chain is long enough (9,000 concepts)
 * for the searches instead of the bitsets, and a cycle (a → b → a) is
 * handled, not looped on. */
START_TEST(chain_and_cycle)
{
    enum { L = 9000 };
    uint32_t *src = malloc(L * sizeof *src), *dst = malloc(L * sizeof *dst), *ns, *nd;
    ck_assert(src && dst);
    for (uint32_t i = 0; i + 1 < L; i++) { src[i] = i; dst[i] = i + 1; }
    size_t m;
    kge_negmix mix = {0, 1, 1, 0, 400};
    ck_assert_int_eq(kge_graph_negatives(L, L - 1, src, dst, &mix, 3, &ns, &nd, &m), 0);
    ck_assert_uint_eq(m, 400);
    for (size_t k = 0; k < m; k++) ck_assert_msg(ns[k] > nd[k], "%u -> %u is implied by the chain", ns[k], nd[k]);
    free(ns); free(nd);
    /* a cycle 0 → 1 → 2 → 0 entered from 3 (3 → 0, 3 → 4): every pair
     * in the cycle and 3 ⇝ anything have paths; 4 and the cycle to 3 not */
    const uint32_t cs[] = {0, 1, 2, 3, 3}, cd[] = {1, 2, 0, 0, 4};
    kge_negmix rnd = {0, 0, 4, 0, 0};
    ck_assert_int_eq(kge_graph_negatives(5, 5, cs, cd, &rnd, 3, &ns, &nd, &m), 0);
    ck_assert(m > 0);
    for (size_t k = 0; k < m; k++) ck_assert_msg(!(ns[k] < 3 && nd[k] < 3) && ns[k] != 3, "%u -> %u has a path", ns[k], nd[k]);
    free(ns); free(nd);
    free(src); free(dst);
}
END_TEST

Suite *suite(void)
{
    Suite *s = suite_create("graph_negatives");
    TCase *tc = tcase_create("negatives");
    tcase_add_test(tc, kinds_and_mix);
    tcase_add_test(tc, chain_and_cycle);
    suite_add_tcase(s, tc);
    return s;
}
