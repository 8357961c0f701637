/* TransformerConv backward (see train_graph_attention.h). */
#include "encoder/train_graph_attention.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/train_kernels.h"

void kge_tconv_bwd_free(kge_tconv_bwd *w)
{
    free(w->block);
    memset(w, 0, sizeof *w);
}

int kge_tconv_backward(const kge_tconv *l, kge_tconv *grads, const kge_tconv_acts *a, kge_tconv_bwd *w,
                       const float *dy, const float *x, const kge_csr *g, const float *eattr,
                       float *dx, float *deattr, kge_err *err)
{
    if (grads && (grads->in != l->in || grads->out != l->out || grads->heads != l->heads ||
                  grads->edge_dim != l->edge_dim))
        return kge_fail(err, KGE_EUSAGE, "gradient layer shape differs from the layer");
    size_t N = g->n, E = g->row_ptr[N], H = (size_t)l->heads, OC = (size_t)l->out, HC = H * OC,
           I = (size_t)l->in, D = (size_t)l->edge_dim;
    if (N == 0) return KGE_OK;
    size_t need = 3 * N * HC + E * HC;
    if (need > w->cap) {
        float *nb = malloc(need * sizeof(float));
        if (!nb) return kge_fail(err, KGE_ENOMEM, "out of memory for the graph attention backward");
        free(w->block);
        w->block = nb;
        w->cap = need;
    }
    float *dq = w->block, *dk = dq + N * HC, *dv = dk + N * HC, *dep = dv + N * HC;
    memset(w->block, 0, need * sizeof(float));
    float scale = 1.0f / sqrtf((float)OC);
    // y_i (per head) = Σ_e α_e (v_j + ep_e) ; α = softmax_e(s_e) ; s_e = q_i·(k_j + ep_e)·scale
    for (size_t i = 0; i < N; i++) {
        size_t e0 = g->row_ptr[i], e1 = g->row_ptr[i + 1];
        for (size_t h = 0; h < H; h++) {
            const float *dyi = dy + i * HC + h * OC, *qi = a->q + i * HC + h * OC;
            /* dα_e = dy_i·(v_j + ep_e) and their α-weighted sum */
            float dsum = 0.0f;
            for (size_t e = e0; e < e1; e++) {
                size_t j = g->src[e];
                const float *vj = a->v + j * HC + h * OC, *ee = a->ep + e * HC + h * OC;
                float da = 0.0f;
                for (size_t c = 0; c < OC; c++) da += dyi[c] * (vj[c] + ee[c]);
                dsum += a->alpha[e * H + h] * da;
            }
            for (size_t e = e0; e < e1; e++) {
                size_t j = g->src[e];
                float al = a->alpha[e * H + h];
                const float *vj = a->v + j * HC + h * OC, *kj = a->k + j * HC + h * OC,
                            *ee = a->ep + e * HC + h * OC;
                float da = 0.0f;
                for (size_t c = 0; c < OC; c++) da += dyi[c] * (vj[c] + ee[c]);
                float ds = al * (da - dsum) * scale;   /* softmax backward */
                float *dqi = dq + i * HC + h * OC, *dkj = dk + j * HC + h * OC, *dvj = dv + j * HC + h * OC,
                      *dee = dep + e * HC + h * OC;
                for (size_t c = 0; c < OC; c++) {
                    dvj[c] += al * dyi[c];
                    dee[c] += al * dyi[c] + ds * qi[c];
                    dqi[c] += ds * (kj[c] + ee[c]);
                    dkj[c] += ds * qi[c];
                }
            }
        }
    }
    // q, k, v, skip (N,HC) = x (N,in) · W (HC,in)ᵀ + b ; ep (E,HC) = eattr (E,D) · We (HC,D)ᵀ
    kge_matmul_backward(dx, grads ? grads->ws : NULL, grads ? grads->bs : NULL, dy, x, l->ws, N, I, HC);
    kge_matmul_backward(dx, grads ? grads->wq : NULL, grads ? grads->bq : NULL, dq, x, l->wq, N, I, HC);
    kge_matmul_backward(dx, grads ? grads->wk : NULL, grads ? grads->bk : NULL, dk, x, l->wk, N, I, HC);
    kge_matmul_backward(dx, grads ? grads->wv : NULL, grads ? grads->bv : NULL, dv, x, l->wv, N, I, HC);
    if (D && E)
        kge_matmul_backward(deattr, grads ? grads->we : NULL, NULL, dep, eattr, l->we, E, D, HC);
    return KGE_OK;
}
