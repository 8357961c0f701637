/* Compressed adjacency of an edge list (graph_csr.h). */
#include "encoder/graph_csr.h"

#include <stdlib.h>

int kge_csr_build(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, kge_csr_kind kind, uint32_t **ptr,
                  uint32_t **adj)
{
    uint32_t *p = calloc(n + 1, sizeof *p), *fill = malloc((n + 1) * sizeof *fill), *a = NULL;
    if (!p || !fill) goto fail;
    for (size_t k = 0; k < E; k++) {
        if (src[k] >= n || dst[k] >= n) continue;
        if (kind != KGE_CSR_IN) p[src[k] + 1]++;
        if (kind != KGE_CSR_OUT) p[dst[k] + 1]++;
    }
    for (size_t v = 0; v < n; v++) p[v + 1] += p[v];
    a = malloc(((size_t)p[n] + 1) * sizeof *a);
    if (!a) goto fail;
    for (size_t v = 0; v < n; v++) fill[v] = p[v];
    for (size_t k = 0; k < E; k++) {
        if (src[k] >= n || dst[k] >= n) continue;
        if (kind != KGE_CSR_IN) a[fill[src[k]]++] = dst[k];
        if (kind != KGE_CSR_OUT) a[fill[dst[k]]++] = src[k];
    }
    free(fill);
    *ptr = p;
    *adj = a;
    return 0;
fail:
    free(p); free(fill); free(a);
    *ptr = *adj = NULL;
    return -1;
}
