/* Linear layers for inference on weights packed once (a GEMM whose B
 * operand is pre-packed), with the bias, a residual and GELU fused into
 * the store.
 *
 * Why: OpenBLAS 0.3.21 has no pre-packed sgemm, so every cblas_sgemm call
 * copies the whole weight matrix into its blocked layout again (and the
 * activations too). At 32 sentences of 16 tokens that copying was about
 * 13 % of the encoder's time (perf: sgemm_incopy + sgemm_oncopy). Here
 * each weight is packed once per model (kge_bert_pack) and the
 * micro-kernel reads the activations in place: a tile of rows times output
 * columns accumulates in registers over the input dimension (AVX-512:
 * 8 x 48 in 24 zmm registers), and the epilogue adds the bias and the residual and applies GELU while the tile
 * is in registers or L1. (On the MiniLM shapes, one thread, AVX-512, the
 * tiles 8 x 48, 6 x 64 and 12 x 32 measured within noise of each other,
 * 8 x 48 ahead; input blocks of 384 ahead of 256.)
 *
 * Packed layout of a PyTorch Linear weight W (OC, C), y = x·Wᵀ:
 * (P, C, 48) with P = ceil(OC / 48); panel p holds output columns
 * 48p .. 48p+47, and for each input index k their 48 weights
 * W[48p + j][k] side by side (64-byte aligned rows); columns past OC are 0.
 *
 * Results per row depend only on that row (fixed summation order: input
 * index ascending, in blocks of KGE_GEMM_KC), never on N, the row's place
 * in the batch or the thread count. They equal the cblas_sgemm path up to
 * rounding (different summation order), not bit for bit.
 */
#ifndef KGE_GEMM_H
#define KGE_GEMM_H

#include <stddef.h>

#define KGE_GEMM_NR 48
#define KGE_GEMM_KC 384

/* 1 when this CPU runs the kernel (AVX-512F) and it is enabled, else 0:
 * callers then use cblas_sgemm. (An AVX2 + FMA kernel, 4 x 24 tiles,
 * measured 0.82-0.88x OpenBLAS's own Haswell kernels in the encoder on
 * this Zen 5 CPU, so AVX2-only CPUs keep OpenBLAS.) O(1). */
int kge_gemm_available(void);

/* Enables (1, the default) or disables (0: callers take the cblas path;
 * for tests and benchmarks) the kernel; returns the previous setting.
 * Process-wide, not thread-safe: call between forward passes. */
int kge_gemm_enable(int on);

/* Floats of the packed form of a (OC, C) weight: ceil(OC/48)·C·48. */
size_t kge_gemm_packed_floats(size_t OC, size_t C);

/* dst (ceil(OC/48), C, 48) = the packed layout above of w (OC, C); dst
 * 64-byte aligned. O(OC·C). */
void kge_gemm_pack(float *dst, const float *w, size_t OC, size_t C);

/* out (N,OC) = act(inp (N,C) · Wᵀ + bias (OC) + res (N,OC)), W packed by
 * kge_gemm_pack; act is GELU (erf form, as kge_gelu_forward) when gelu,
 * else identity. bias and res may be NULL; res must not overlap out.
 * Requires kge_gemm_available(). O(N·C·OC). */
void kge_gemm_packed(float *out, const float *inp, const float *wp, const float *bias, const float *res,
                     int gelu, size_t N, size_t C, size_t OC);

#endif
