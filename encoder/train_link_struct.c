/* Structural pair features of the link model's decoder (see
 * train_link_internal.h): degrees, the reverse edge, two-hop paths, common
 * neighbours and Adamic-Adar, read from the edges the graph attention sees. */
#include "encoder/train_link_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void kge_link_sx_free(kge_link_sx *sx)
{
    free(sx->out_ptr); free(sx->out); free(sx->in_ptr); free(sx->in); free(sx->nb_ptr); free(sx->nb);
    memset(sx, 0, sizeof *sx);
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* Rows of a CSR (ptr over n rows into v) sorted and made unique in place;
 * ptr is rewritten to the compacted layout. O(m log m). */
static void csr_sort_unique(size_t n, uint32_t *ptr, uint32_t *v)
{
    uint32_t w = 0, start = ptr[0];
    for (size_t i = 0; i < n; i++) {
        uint32_t a = start, b = ptr[i + 1];
        start = b;
        qsort(v + a, b - a, sizeof *v, cmp_u32);
        ptr[i] = w;
        for (uint32_t k = a; k < b; k++)
            if (k == a || v[k] != v[k - 1]) v[w++] = v[k];
    }
    ptr[n] = w;
}

/* CSR of rows r[k] → c[k] over the kept, non-loop edges. */
static int csr_build(size_t n, size_t E, const uint32_t *r, const uint32_t *c, const uint8_t *keep, uint32_t **ptr,
                     uint32_t **v)
{
    *ptr = calloc(n + 1, sizeof **ptr);
    *v = malloc((E + 1) * sizeof **v);
    uint32_t *cur = malloc((n + 1) * sizeof *cur);
    if (!*ptr || !*v || !cur) { free(cur); return -1; }
    for (size_t k = 0; k < E; k++)
        if ((!keep || keep[k]) && r[k] != c[k]) (*ptr)[r[k] + 1]++;
    for (size_t i = 0; i < n; i++) (*ptr)[i + 1] += (*ptr)[i];
    memcpy(cur, *ptr, (n + 1) * sizeof *cur);
    for (size_t k = 0; k < E; k++)
        if ((!keep || keep[k]) && r[k] != c[k]) (*v)[cur[r[k]]++] = c[k];
    free(cur);
    csr_sort_unique(n, *ptr, *v);
    return 0;
}

int kge_link_sx_build(kge_link_sx *sx, size_t n, size_t E, const uint32_t *src, const uint32_t *dst,
                      const uint8_t *keep, kge_err *err)
{
    kge_link_sx_free(sx);
    sx->n = n;
    if (csr_build(n, E, src, dst, keep, &sx->out_ptr, &sx->out) ||
        csr_build(n, E, dst, src, keep, &sx->in_ptr, &sx->in))
        goto oom;
    /* undirected neighbours: the union of each node's two sorted lists */
    sx->nb_ptr = malloc((n + 1) * sizeof *sx->nb_ptr);
    sx->nb = malloc((sx->out_ptr[n] + sx->in_ptr[n] + 1) * sizeof *sx->nb);
    if (!sx->nb_ptr || !sx->nb) goto oom;
    uint32_t w = 0;
    for (size_t i = 0; i < n; i++) {
        sx->nb_ptr[i] = w;
        uint32_t p = sx->out_ptr[i], pe = sx->out_ptr[i + 1], q = sx->in_ptr[i], qe = sx->in_ptr[i + 1];
        while (p < pe || q < qe) {
            uint32_t x;
            if (q >= qe || (p < pe && sx->out[p] < sx->in[q])) x = sx->out[p++];
            else if (p >= pe || sx->in[q] < sx->out[p]) x = sx->in[q++];
            else { x = sx->out[p++]; q++; }
            sx->nb[w++] = x;
        }
    }
    sx->nb_ptr[n] = w;
    return KGE_OK;
oom:
    kge_link_sx_free(sx);
    return kge_fail(err, KGE_ENOMEM, "out of memory for the structural features");
}

static int has(const uint32_t *v, uint32_t lo, uint32_t hi, uint32_t x)
{
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v[mid] == x) return 1;
        if (v[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

void kge_link_sx_pair(const kge_link_sx *sx, uint32_t a, uint32_t b, float *phi)
{
    const uint32_t *op = sx->out_ptr, *ip = sx->in_ptr, *np = sx->nb_ptr;
    phi[0] = log1pf((float)(op[a + 1] - op[a]));   /* a is a prerequisite of so many */
    phi[1] = log1pf((float)(ip[a + 1] - ip[a]));   /* a has so many prerequisites */
    phi[2] = log1pf((float)(op[b + 1] - op[b]));
    phi[3] = log1pf((float)(ip[b + 1] - ip[b]));
    phi[4] = (float)has(sx->out, op[b], op[b + 1], a);   /* the reverse edge b → a */
    /* two-hop paths a → x → b: successors of a that are predecessors of b */
    uint32_t two = 0;
    for (uint32_t p = op[a], q = ip[b]; p < op[a + 1] && q < ip[b + 1];) {
        if (sx->out[p] < sx->in[q]) p++;
        else if (sx->out[p] > sx->in[q]) q++;
        else { two++; p++; q++; }
    }
    phi[5] = log1pf((float)two);
    /* common undirected neighbours and Adamic-Adar */
    uint32_t cn = 0;
    double aa = 0.0;
    for (uint32_t p = np[a], q = np[b]; p < np[a + 1] && q < np[b + 1];) {
        uint32_t x = sx->nb[p], y = sx->nb[q];
        if (x < y) p++;
        else if (x > y) q++;
        else {
            uint32_t deg = np[x + 1] - np[x];
            cn++;
            if (deg > 1) aa += 1.0 / log((double)deg);
            p++;
            q++;
        }
    }
    phi[6] = log1pf((float)cn);
    phi[7] = log1pf((float)aa);
}
