/* TransformerConv forward over CSR incoming edges (see graph_attention.h). */
#include "encoder/graph_attention.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/kernels.h"

int kge_csr_from_edges(size_t n, size_t E, const uint32_t *src, const uint32_t *dst,
                       uint32_t *row_ptr, uint32_t *csr_src, uint32_t *perm, kge_err *err)
{
    for (size_t e = 0; e < E; e++)
        if (src[e] >= n || dst[e] >= n)
            return kge_fail(err, KGE_EUSAGE, "edge %zu (%u -> %u) has an endpoint outside 0..%zu",
                            e, src[e], dst[e], n ? n - 1 : 0);
    memset(row_ptr, 0, (n + 1) * sizeof *row_ptr);
    for (size_t e = 0; e < E; e++) row_ptr[dst[e] + 1]++;
    for (size_t i = 0; i < n; i++) row_ptr[i + 1] += row_ptr[i];
    /* stable counting sort: fill with a moving cursor per node */
    uint32_t *cur = malloc((n ? n : 1) * sizeof *cur);
    if (!cur) return kge_fail(err, KGE_ENOMEM, "out of memory");
    memcpy(cur, row_ptr, n * sizeof *cur);
    for (size_t e = 0; e < E; e++) {
        uint32_t p = cur[dst[e]]++;
        csr_src[p] = src[e];
        if (perm) perm[p] = (uint32_t)e;
    }
    free(cur);
    return KGE_OK;
}

int kge_tconv_init(kge_tconv *l, int in, int out, int heads, int edge_dim, kge_err *err)
{
    memset(l, 0, sizeof *l);
    if (in <= 0 || out <= 0 || heads <= 0 || edge_dim < 0)
        return kge_fail(err, KGE_EUSAGE, "bad TransformerConv shape (in %d, out %d, heads %d, edge_dim %d)",
                        in, out, heads, edge_dim);
    size_t HC = (size_t)heads * (size_t)out, I = (size_t)in, D = (size_t)edge_dim;
    size_t total = 4 * (HC * I + HC) + HC * D;
    l->block = calloc(total, sizeof(float));
    if (!l->block) return kge_fail(err, KGE_ENOMEM, "out of memory");
    l->in = in;
    l->out = out;
    l->heads = heads;
    l->edge_dim = edge_dim;
    l->nparams = total;
    float *p = l->block;
    l->wq = p; p += HC * I; l->bq = p; p += HC;
    l->wk = p; p += HC * I; l->bk = p; p += HC;
    l->wv = p; p += HC * I; l->bv = p; p += HC;
    l->ws = p; p += HC * I; l->bs = p; p += HC;
    l->we = D ? p : NULL;
    return KGE_OK;
}

void kge_tconv_free(kge_tconv *l)
{
    free(l->block);
    memset(l, 0, sizeof *l);
}

int kge_tconv_load(kge_tconv *l, const kge_st *st, const char *prefix, kge_err *err)
{
    int64_t HC = (int64_t)l->heads * l->out;
    struct { const char *name; float *dst; int ndim; int64_t s0, s1; } t[] = {
        {"lin_query.weight", l->wq, 2, HC, l->in}, {"lin_query.bias", l->bq, 1, HC, 0},
        {"lin_key.weight", l->wk, 2, HC, l->in},   {"lin_key.bias", l->bk, 1, HC, 0},
        {"lin_value.weight", l->wv, 2, HC, l->in}, {"lin_value.bias", l->bv, 1, HC, 0},
        {"lin_skip.weight", l->ws, 2, HC, l->in},  {"lin_skip.bias", l->bs, 1, HC, 0},
        {"lin_edge.weight", l->we, 2, HC, l->edge_dim},
    };
    size_t n = sizeof t / sizeof *t - (l->edge_dim ? 0 : 1);
    for (size_t i = 0; i < n; i++) {
        char full[160];
        snprintf(full, sizeof full, "%s%s", prefix ? prefix : "", t[i].name);
        int64_t shape[2] = {t[i].s0, t[i].s1};
        const kge_st_tensor *x;
        int rc = kge_st_expect(st, full, t[i].ndim, shape, &x, err);
        if (!rc) rc = kge_st_to_f32(x, t[i].dst, err);
        if (rc) return rc;
    }
    return KGE_OK;
}

void kge_tconv_acts_free(kge_tconv_acts *a)
{
    free(a->block);
    memset(a, 0, sizeof *a);
}

int kge_tconv_forward(const kge_tconv *l, kge_tconv_acts *a, float *y, const float *x,
                      const kge_csr *g, const float *eattr, kge_err *err)
{
    size_t N = g->n, E = g->row_ptr[N], HC = (size_t)l->heads * (size_t)l->out, I = (size_t)l->in,
           H = (size_t)l->heads, OC = (size_t)l->out, D = (size_t)l->edge_dim;
    for (size_t e = 0; e < E; e++)
        if (g->src[e] >= N)
            return kge_fail(err, KGE_EUSAGE, "edge %zu: source node %u outside 0..%zu", e, g->src[e], N - 1);
    if (D && !eattr) return kge_fail(err, KGE_EUSAGE, "edge features required (edge_dim %zu)", D);
    size_t need = 3 * N * HC + E * HC + E * H;
    if (need > a->cap) {
        float *nb = malloc((need ? need : 1) * sizeof(float));
        if (!nb) return kge_fail(err, KGE_ENOMEM, "out of memory");
        free(a->block);
        a->block = nb;
        a->cap = need;
    }
    a->q = a->block;
    a->k = a->q + N * HC;
    a->v = a->k + N * HC;
    a->ep = a->v + N * HC;
    a->alpha = a->ep + E * HC;
    if (N == 0) return KGE_OK;
    // q, k, v (N,HC) = x (N,in) · W (HC,in)ᵀ + b ; y starts as the skip term
    kge_matmul_forward(a->q, x, l->wq, l->bq, N, I, HC);
    kge_matmul_forward(a->k, x, l->wk, l->bk, N, I, HC);
    kge_matmul_forward(a->v, x, l->wv, l->bv, N, I, HC);
    kge_matmul_forward(y, x, l->ws, l->bs, N, I, HC);
    // ep (E,HC) = eattr (E,D) · We (HC,D)ᵀ
    if (D && E) kge_matmul_forward(a->ep, eattr, l->we, NULL, E, D, HC);
    else memset(a->ep, 0, E * HC * sizeof(float));
    float scale = 1.0f / sqrtf((float)OC);
    for (size_t i = 0; i < N; i++) {
        size_t e0 = g->row_ptr[i], e1 = g->row_ptr[i + 1];
        if (e0 == e1) continue;
        for (size_t h = 0; h < H; h++) {
            const float *qi = a->q + i * HC + h * OC;
            float mx = -FLT_MAX;
            for (size_t e = e0; e < e1; e++) {
                const float *kj = a->k + (size_t)g->src[e] * HC + h * OC, *ee = a->ep + e * HC + h * OC;
                float s = 0.0f;
                for (size_t c = 0; c < OC; c++) s += qi[c] * (kj[c] + ee[c]);
                s *= scale;
                a->alpha[e * H + h] = s;
                mx = s > mx ? s : mx;
            }
            float sum = 0.0f;
            for (size_t e = e0; e < e1; e++) {
                float w = expf(a->alpha[e * H + h] - mx);
                a->alpha[e * H + h] = w;
                sum += w;
            }
            float *yi = y + i * HC + h * OC;
            for (size_t e = e0; e < e1; e++) {
                float w = a->alpha[e * H + h] /= sum;
                const float *vj = a->v + (size_t)g->src[e] * HC + h * OC, *ee = a->ep + e * HC + h * OC;
                for (size_t c = 0; c < OC; c++) yi[c] += w * (vj[c] + ee[c]);
            }
        }
    }
    return KGE_OK;
}
