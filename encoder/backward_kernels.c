/* Backward kernels (see train_kernels.h). */
#include "encoder/train_kernels.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

void kge_matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                         const float *inp, const float *weight, size_t N, size_t C, size_t OC)
{
    if (N == 0) return;
    // dinp (N,C) += dout (N,OC) · weight (OC,C)
    if (dinp)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)C, (int)OC, 1.0f,
                    dout, (int)OC, weight, (int)C, 1.0f, dinp, (int)C);
    // dweight (OC,C) += dout (N,OC)ᵀ · inp (N,C)
    if (dweight)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)OC, (int)C, (int)N, 1.0f,
                    dout, (int)OC, inp, (int)C, 1.0f, dweight, (int)C);
    // dbias (OC) += Σ_n dout[n]
    if (dbias)
        for (size_t n = 0; n < N; n++) {
            const float *d = dout + n * OC;
            for (size_t o = 0; o < OC; o++) dbias[o] += d[o];
        }
}

void kge_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, const float *mean,
                            const float *rstd, size_t N, size_t C)
{
    // dinp (N,C), dweight (C), dbias (C), dout (N,C), inp (N,C), mean (N), rstd (N)
    for (size_t n = 0; n < N; n++) {
        const float *x = inp + n * C, *d = dout + n * C;
        float m = mean[n], s = rstd[n];
        /* the two reductions of the input gradient: mean(w·d), mean(w·d·x̂) */
        float dmean = 0.0f, dnmean = 0.0f;
        for (size_t i = 0; i < C; i++) {
            float xh = (x[i] - m) * s, dn = weight[i] * d[i];
            dmean += dn;
            dnmean += dn * xh;
        }
        dmean /= (float)C;
        dnmean /= (float)C;
        for (size_t i = 0; i < C; i++) {
            float xh = (x[i] - m) * s;
            if (dbias) dbias[i] += d[i];
            if (dweight) dweight[i] += xh * d[i];
            if (dinp) dinp[n * C + i] += (weight[i] * d[i] - dmean - xh * dnmean) * s;
        }
    }
}

void kge_gelu_backward(float *dinp, const float *inp, const float *dout, size_t N)
{
    const float inv_sqrt2 = 0.70710678118654752f, inv_sqrt2pi = 0.39894228040143268f;
    int inplace = dinp == dout;
    for (size_t i = 0; i < N; i++) {
        float x = inp[i];
        float cdf = 0.5f * (1.0f + erff(x * inv_sqrt2));
        float pdf = inv_sqrt2pi * expf(-0.5f * x * x);
        float g = dout[i] * (cdf + x * pdf);
        if (inplace) dinp[i] = g;
        else dinp[i] += g;
    }
}

void kge_embedding_backward(float *dwte, float *dwpe, float *dwtt, const float *dout,
                            const int32_t *ids, const int32_t *types, size_t B, size_t T, size_t C)
{
    // dout (B,T,C) into rows of dwte (V,C), dwpe (P,C), dwtt (TT,C)
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < T; t++) {
            size_t bt = b * T + t;
            const float *d = dout + bt * C;
            float *w = dwte ? dwte + (size_t)ids[bt] * C : NULL, *p = dwpe ? dwpe + t * C : NULL,
                  *y = dwtt ? dwtt + (size_t)(types ? types[bt] : 0) * C : NULL;
            for (size_t i = 0; i < C; i++) {
                if (w) w[i] += d[i];
                if (p) p[i] += d[i];
                if (y) y[i] += d[i];
            }
        }
}

void kge_attention_head_backward(float *dqkv, const float *dout, const float *qkv, const float *att,
                                 const float *dmask, float *scratch, size_t b, size_t h, size_t T, size_t C,
                                 size_t NH)
{
    size_t HS = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)HS);
    const float *q = qkv + b * T * C3 + h * HS, *k = q + C, *v = q + 2 * C;
    float *dq = dqkv + b * T * C3 + h * HS, *dk = dq + C, *dv = dq + 2 * C;
    const float *a = att + ((b * NH + h) * T) * T, *dy = dout + b * T * C + h * HS;
    float *dp = scratch, *pd = scratch + T * T;   // (T,T) each
    const float *M = dmask ? dmask + ((b * NH + h) * T) * T : NULL, *pu = a;
    // forward: S = q kᵀ·scale (T,T); P = softmax(S) (masked); P' = P ⊙ M; Y = P' v (T,HS)
    if (M) {
        for (size_t i = 0; i < T * T; i++) pd[i] = a[i] * M[i];
        pu = pd;
    }
    // dP' (T,T) = dY (T,HS) · v (T,HS)ᵀ ; dv (T,HS) += P'ᵀ · dY ; dP = dP' ⊙ M
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, (int)T, (int)HS, 1.0f,
                dy, (int)C, v, (int)C3, 0.0f, dp, (int)T);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)T, (int)HS, (int)T, 1.0f,
                pu, (int)T, dy, (int)C, 1.0f, dv, (int)C3);
    if (M)
        for (size_t i = 0; i < T * T; i++) dp[i] *= M[i];
    // dS = P ⊙ (dP − Σ_j P·dP) per row (softmax backward), scaled
    for (size_t i = 0; i < T; i++) {
        const float *pr = a + i * T;
        float *dr = dp + i * T, dot = 0.0f;
        for (size_t j = 0; j < T; j++) dot += pr[j] * dr[j];
        for (size_t j = 0; j < T; j++) dr[j] = pr[j] * (dr[j] - dot) * scale;
    }
    // dq (T,HS) += dS · k ; dk (T,HS) += dSᵀ · q
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)T, (int)HS, (int)T, 1.0f,
                dp, (int)T, k, (int)C3, 1.0f, dq, (int)C3);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)T, (int)HS, (int)T, 1.0f,
                dp, (int)T, q, (int)C3, 1.0f, dk, (int)C3);
}

void kge_attention_backward(float *dqkv, const float *dout, const float *qkv, const float *att,
                            const float *dmask, float *scratch, size_t B, size_t T, size_t C, size_t NH)
{
    for (size_t b = 0; b < B; b++)
        for (size_t h = 0; h < NH; h++)
            kge_attention_head_backward(dqkv, dout, qkv, att, dmask, scratch, b, h, T, C, NH);
}

void kge_mean_pool_backward(float *dhidden, const float *dout, const uint8_t *mask,
                            size_t B, size_t T, size_t C)
{
    for (size_t b = 0; b < B; b++) {
        float cnt = 0.0f;
        for (size_t t = 0; t < T; t++) cnt += !mask || mask[b * T + t] ? 1.0f : 0.0f;
        float inv = 1.0f / (cnt > 1e-9f ? cnt : 1e-9f);
        const float *d = dout + b * C;
        for (size_t t = 0; t < T; t++) {
            if (mask && !mask[b * T + t]) continue;
            float *dh = dhidden + (b * T + t) * C;
            for (size_t i = 0; i < C; i++) dh[i] += d[i] * inv;
        }
    }
}

void kge_l2_normalize_backward(float *dx, const float *x, const float *dy, size_t B, size_t C)
{
    for (size_t b = 0; b < B; b++) {
        const float *xv = x + b * C, *d = dy + b * C;
        double s = 0.0, yd = 0.0;
        for (size_t i = 0; i < C; i++) s += (double)xv[i] * xv[i];
        float n = (float)sqrt(s), inv = 1.0f / (n > 1e-12f ? n : 1e-12f);
        for (size_t i = 0; i < C; i++) yd += (double)xv[i] * inv * d[i];
        /* below the clamp the forward is x/1e-12, a plain scaling */
        float proj = n > 1e-12f ? (float)yd : 0.0f;
        for (size_t i = 0; i < C; i++) dx[b * C + i] += (d[i] - xv[i] * inv * proj) * inv;
    }
}

float kge_bce_logits(float *dz, const float *z, const float *y, size_t n, float scale)
{
    if (n == 0) return 0.0f;
    double loss = 0.0;
    for (size_t i = 0; i < n; i++) {
        float x = z[i];
        /* max(x,0) − x·y + log(1 + e^−|x|) */
        loss += (double)(x > 0.0f ? x : 0.0f) - (double)x * y[i] + log1p(exp(-fabs((double)x)));
        if (dz) {
            float sig = x >= 0.0f ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x));
            dz[i] = scale * (sig - y[i]) / (float)n;
        }
    }
    return (float)(loss / (double)n);
}

float kge_softmax_xent(float *dlogits, const float *logits, const int32_t *labels, size_t n, size_t V)
{
    size_t cnt = 0;
    for (size_t r = 0; r < n; r++) cnt += labels[r] >= 0;
    double loss = 0.0;
    for (size_t r = 0; r < n; r++) {
        const float *z = logits + r * V;
        float *d = dlogits ? dlogits + r * V : NULL;
        if (labels[r] < 0) {
            if (d) memset(d, 0, V * sizeof *d);
            continue;
        }
        float mx = z[0];
        for (size_t j = 1; j < V; j++) mx = z[j] > mx ? z[j] : mx;
        double s = 0.0;
        for (size_t j = 0; j < V; j++) s += exp((double)(z[j] - mx));
        float zl = z[labels[r]];
        loss += log(s) + mx - zl;
        if (d) {
            float inv = (float)(1.0 / s) / (float)cnt;
            for (size_t j = 0; j < V; j++) d[j] = expf(z[j] - mx) * inv;
            d[labels[r]] -= 1.0f / (float)cnt;
        }
    }
    return cnt ? (float)(loss / (double)cnt) : 0.0f;
}
