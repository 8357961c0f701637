/* Compressed adjacency (CSR) of a directed edge list: the one builder of
 * the encoder's graph code (the searches and pair features of
 * train_eval.c, the reachability and draws of graph_negatives.c). Arrays
 * in, arrays out. */
#ifndef KGE_GRAPH_CSR_H
#define KGE_GRAPH_CSR_H

#include <stddef.h>
#include <stdint.h>

typedef enum kge_csr_kind {
    KGE_CSR_OUT,    /* row v: dst[k] of each edge k with src[k] = v (v's dependents) */
    KGE_CSR_IN,     /* row v: src[k] of each edge k with dst[k] = v (v's prerequisites) */
    KGE_CSR_BOTH    /* undirected: per edge k, dst[k] into src[k]'s row, then src[k] into dst[k]'s */
} kge_csr_kind;

/* Row v of the graph of n concepts and E edges src[k] → dst[k] is
 * (*adj)[(*ptr)[v] .. (*ptr)[v + 1]), its entries in edge order (so sums
 * over a row add up alike wherever the adjacency is built). Edges with an
 * end outside [0, n) are left out. *ptr (n + 1) and *adj (malloc'ed: free
 * both) are NULL after a failure. Returns 0, -1 out of memory. O(n + E). */
int kge_csr_build(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, kge_csr_kind kind, uint32_t **ptr,
                  uint32_t **adj);

#endif
