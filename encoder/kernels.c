/* Forward kernels (see kernels.h). */
#include "encoder/kernels.h"
#include "encoder/approx.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

/* Elementwise kernels are compiled for AVX-512, AVX2 and baseline x86-64
 * and picked at load time by CPU feature (GCC function multi-versioning;
 * features rather than CPU models, which virtual machines often hide).
 * Not under ThreadSanitizer: the clones' IFUNC resolvers run while the
 * loader relocates, before TSan is set up, and its instrumentation of
 * them crashed every program linked with libkgpath. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(KGE_NO_CLONES) && \
    !defined(__SANITIZE_THREAD__)
#define KGE_SIMD __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define KGE_SIMD
#endif

void kge_matmul_forward(float *out, const float *inp, const float *weight, const float *bias,
                        size_t N, size_t C, size_t OC)
{
    // out (N,OC), inp (N,C), weight (OC,C), bias (OC)
    float beta = 0.0f;
    if (bias) {
        for (size_t n = 0; n < N; n++) memcpy(out + n * OC, bias, OC * sizeof *out);
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)OC, (int)C, 1.0f,
                inp, (int)C, weight, (int)C, beta, out, (int)OC);
}

void kge_matmul_forward_acc(float *out, const float *inp, const float *weight, const float *bias,
                            size_t N, size_t C, size_t OC)
{
    // out (N,OC) += inp (N,C) · weight (OC,C)ᵀ + bias (OC)
    if (bias)
        for (size_t n = 0; n < N; n++) {
            float *o = out + n * OC;
            for (size_t j = 0; j < OC; j++) o[j] += bias[j];
        }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)OC, (int)C, 1.0f,
                inp, (int)C, weight, (int)C, 1.0f, out, (int)OC);
}

KGE_SIMD
void kge_add_rows(float *out, const float *inp, const float *bias, size_t N, size_t C)
{
    // out (N,C), inp (N,C), bias (C)
    for (size_t n = 0; n < N; n++) {
        float *o = out + n * C;
        const float *x = inp + n * C;
        for (size_t i = 0; i < C; i++) o[i] = x[i] + bias[i];
    }
}

KGE_SIMD
void kge_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                           const float *weight, const float *bias, size_t N, size_t C, float eps)
{
    // out (N,C), mean (N), rstd (N), inp (N,C), weight (C), bias (C)
    for (size_t n = 0; n < N; n++) {
        const float *x = inp + n * C;
        float m = 0.0f, v = 0.0f;
#pragma omp simd reduction(+ : m)
        for (size_t i = 0; i < C; i++) m += x[i];
        m /= (float)C;
#pragma omp simd reduction(+ : v)
        for (size_t i = 0; i < C; i++) {
            float d = x[i] - m;
            v += d * d;
        }
        v /= (float)C;
        float s = 1.0f / sqrtf(v + eps);
        float *o = out + n * C;
        for (size_t i = 0; i < C; i++) o[i] = (x[i] - m) * s * weight[i] + bias[i];
        if (mean) mean[n] = m;
        if (rstd) rstd[n] = s;
    }
}

KGE_SIMD
void kge_gelu_forward(float *out, const float *inp, size_t N)
{
    for (size_t i = 0; i < N; i++) out[i] = gelu_approx(inp[i]);
}

void kge_embedding_forward(float *out, const int32_t *ids, const int32_t *types,
                           const float *wte, const float *wpe, const float *wtt,
                           size_t B, size_t T, size_t C)
{
    // out (B,T,C), ids (B,T), types (B,T), wte (V,C), wpe (P,C), wtt (TT,C)
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < T; t++) {
            size_t bt = b * T + t;
            const float *w = wte + (size_t)ids[bt] * C, *p = wpe + t * C,
                        *y = wtt + (size_t)(types ? types[bt] : 0) * C;
            float *o = out + bt * C;
            for (size_t i = 0; i < C; i++) o[i] = w[i] + p[i] + y[i];
        }
}

KGE_SIMD
void kge_softmax_rows(float *x, size_t rows, size_t n)
{
    for (size_t r = 0; r < rows; r++) {
        float *v = x + r * n, mx = -FLT_MAX;
#pragma omp simd reduction(max : mx)
        for (size_t i = 0; i < n; i++) mx = v[i] > mx ? v[i] : mx;
        float s = 0.0f;
#pragma omp simd reduction(+ : s)
        for (size_t i = 0; i < n; i++) {
            v[i] = exp_approx(v[i] - mx);
            s += v[i];
        }
        float inv = s > 0.0f ? 1.0f / s : 0.0f;
        for (size_t i = 0; i < n; i++) v[i] *= inv;
    }
}

/* row[j] = exp(row[j] - max) for the T keys with keep[j] != 0, 0 for the
 * others; returns 1/sum (0 when every key is masked). Inlined into each
 * caller's SIMD clone. */
static inline __attribute__((always_inline)) float exp_row_masked(float *row, const float *keep, size_t T)
{
    float mx = -FLT_MAX, s = 0.0f;
#pragma omp simd reduction(max : mx)
    for (size_t j = 0; j < T; j++) {
        float v = keep[j] != 0.0f ? row[j] : -FLT_MAX;
        mx = v > mx ? v : mx;
    }
#pragma omp simd reduction(+ : s)
    for (size_t j = 0; j < T; j++) {
        float d = row[j] - mx;
        float e = exp_approx(d < 0.0f ? d : 0.0f) * keep[j];
        row[j] = e;
        s += e;
    }
    return s > 0.0f ? 1.0f / s : 0.0f;
}

/* Masked softmax of the rows of a (T,T): keys with keep[j] == 0 get 0. */
KGE_SIMD
static void softmax_masked(float *a, const float *keep, size_t T)
{
    for (size_t i = 0; i < T; i++) {
        float *row = a + i * T;
        float inv = exp_row_masked(row, keep, T);
        for (size_t j = 0; j < T; j++) row[j] *= inv;
    }
}

void kge_attention_head_forward(float *out, float *att, const float *qkv, const float *keep,
                                size_t b, size_t h, size_t T, size_t C, size_t NH)
{
    // out (B,T,C), att (B,NH,T,T), qkv (B,T,3C), keep (T) for sequence b
    size_t HS = C / NH, C3 = 3 * C;
    float scale = 1.0f / sqrtf((float)HS);
    const float *q = qkv + b * T * C3 + h * HS, *k = q + C, *v = q + 2 * C;
    float *a = att + ((b * NH + h) * T) * T;
    // scores (T,T) = q (T,HS) · k (T,HS)ᵀ / sqrt(HS)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, (int)T, (int)HS, scale,
                q, (int)C3, k, (int)C3, 0.0f, a, (int)T);
    softmax_masked(a, keep, T);
    // out (T,HS) of head h = att (T,T) · v (T,HS)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)T, (int)HS, (int)T, 1.0f,
                a, (int)T, v, (int)C3, 0.0f, out + b * T * C + h * HS, (int)C);
}

/* Query rows per block of the inference attention kernel, and keys per
 * vector (one AVX-512 register of floats). */
#define ATT_QR 8
#define ATT_KJ 16

size_t kge_attention_scratch(size_t T, size_t HS)
{
    size_t Tp = (T + ATT_KJ - 1) / ATT_KJ * ATT_KJ;
    return HS * Tp + ATT_QR * Tp;
}

/* The kernel body for a head size HS that is a compile-time constant
 * after inlining (32 for MiniLM, 64 for BERT-base), so the ATT_QR output
 * rows and score blocks stay in vector registers. */
static inline __attribute__((always_inline)) void att_infer(float *out, const float *qkv, const float *keep,
                                                           size_t h, size_t T, size_t C, const size_t HS,
                                                           float *scratch)
{
    size_t C3 = 3 * C, Tp = (T + ATT_KJ - 1) / ATT_KJ * ATT_KJ;
    float scale = 1.0f / sqrtf((float)HS);
    const float *q = qkv + h * HS, *k = q + C, *v = q + 2 * C;
    float *kt = scratch, *p = scratch + HS * Tp;
    // kt (HS,Tp) = kᵀ / sqrt(HS), keys past T zero
    for (size_t j = 0; j < T; j++)
        for (size_t d = 0; d < HS; d++) kt[d * Tp + j] = k[j * C3 + d] * scale;
    for (size_t d = 0; d < HS; d++)
        for (size_t j = T; j < Tp; j++) kt[d * Tp + j] = 0.0f;
    for (size_t i0 = 0; i0 < T; i0 += ATT_QR) {
        /* ATT_QR query rows; past the end, row i0 again (computed, not written) */
        size_t nr = T - i0 < ATT_QR ? T - i0 : ATT_QR;
        const float *qr[ATT_QR];
        for (size_t r = 0; r < ATT_QR; r++) qr[r] = q + (i0 + (r < nr ? r : 0)) * C3;
        // p (QR,Tp) = q rows · kt, ATT_KJ keys at a time in registers
        for (size_t j0 = 0; j0 < Tp; j0 += ATT_KJ) {
            float acc[ATT_QR][ATT_KJ] = {{0}};
            for (size_t d = 0; d < HS; d++) {
                const float *kr = kt + d * Tp + j0;
                for (size_t r = 0; r < ATT_QR; r++) {
                    float qv = qr[r][d];
#pragma omp simd
                    for (size_t jj = 0; jj < ATT_KJ; jj++) acc[r][jj] += qv * kr[jj];
                }
            }
            for (size_t r = 0; r < ATT_QR; r++)
#pragma omp simd
                for (size_t jj = 0; jj < ATT_KJ; jj++) p[r * Tp + j0 + jj] = acc[r][jj];
        }
        // softmax over the T keys (masked keys 0); 1/sum applied to the output
        float inv[ATT_QR];
        for (size_t r = 0; r < ATT_QR; r++) inv[r] = exp_row_masked(p + r * Tp, keep, T);
        // out rows (QR,HS) = p (QR,T) · v (T,HS)
        float o[ATT_QR][HS];
        for (size_t r = 0; r < ATT_QR; r++)
            for (size_t d = 0; d < HS; d++) o[r][d] = 0.0f;
        for (size_t j = 0; j < T; j++) {
            const float *vj = v + j * C3;
            for (size_t r = 0; r < ATT_QR; r++) {
                float pj = p[r * Tp + j];
#pragma omp simd
                for (size_t d = 0; d < HS; d++) o[r][d] += pj * vj[d];
            }
        }
        for (size_t r = 0; r < nr; r++) {
            float *dst = out + (i0 + r) * C + h * HS;
            for (size_t d = 0; d < HS; d++) dst[d] = o[r][d] * inv[r];
        }
    }
}

KGE_SIMD __attribute__((optimize("fp-contract=fast")))
void kge_attention_head_infer(float *out, const float *qkv, const float *keep, size_t h, size_t T, size_t C,
                              size_t NH, float *scratch)
{
    // out (T,C) columns of head h, qkv (T,3C), keep (T), scratch as kge_attention_scratch(T, C/NH)
    size_t HS = C / NH;
    if (HS == 32) att_infer(out, qkv, keep, h, T, C, 32, scratch);
    else if (HS == 64) att_infer(out, qkv, keep, h, T, C, 64, scratch);
    else att_infer(out, qkv, keep, h, T, C, HS, scratch);
}

void kge_attention_forward(float *out, float *att, const float *qkv, const uint8_t *mask,
                           size_t B, size_t T, size_t C, size_t NH)
{
    float keep[T ? T : 1];
    for (size_t b = 0; b < B; b++) {
        for (size_t t = 0; t < T; t++) keep[t] = !mask || mask[b * T + t] ? 1.0f : 0.0f;
        for (size_t h = 0; h < NH; h++) kge_attention_head_forward(out, att, qkv, keep, b, h, T, C, NH);
    }
}

void kge_mean_pool_forward(float *out, const float *hidden, const uint8_t *mask,
                           size_t B, size_t T, size_t C)
{
    // out (B,C), hidden (B,T,C), mask (B,T)
    for (size_t b = 0; b < B; b++) {
        float *o = out + b * C;
        memset(o, 0, C * sizeof *o);
        float cnt = 0.0f;
        for (size_t t = 0; t < T; t++) {
            if (mask && !mask[b * T + t]) continue;
            const float *h = hidden + (b * T + t) * C;
            for (size_t i = 0; i < C; i++) o[i] += h[i];
            cnt += 1.0f;
        }
        float inv = 1.0f / (cnt > 1e-9f ? cnt : 1e-9f);
        for (size_t i = 0; i < C; i++) o[i] *= inv;
    }
}

void kge_l2_normalize(float *x, size_t B, size_t C)
{
    for (size_t b = 0; b < B; b++) {
        float *v = x + b * C;
        double s = 0.0;
        for (size_t i = 0; i < C; i++) s += (double)v[i] * v[i];
        float n = (float)sqrt(s);
        float inv = 1.0f / (n > 1e-12f ? n : 1e-12f);
        for (size_t i = 0; i < C; i++) v[i] *= inv;
    }
}
