/* Forward kernels of the encoder, llm.c style.
 *
 * Each kernel is a plain function on row-major float arrays whose shapes
 * are given in the comments; it writes its outputs and keeps whatever a
 * backward pass needs (LayerNorm mean and reciprocal std, attention
 * probabilities, pre-activation values) in caller-provided buffers. A
 * backward pass (training, a later step) pairs each with a
 * kge_X_backward(dinp, dweight, …) that accumulates (+=) into gradients.
 * Linear layers follow PyTorch: weight is (OC, C), y = x·Wᵀ + b, computed
 * with cblas_sgemm. None of them allocate, fail or print.
 * Keep these files out of -ffast-math: GELU's erf and the softmax's max
 * subtraction rely on IEEE semantics. erf and exp are branch-free
 * polynomial forms accurate to float precision (erf |error| < 5e-7, exp
 * relative error < 1e-7) so that the loops vectorise.
 */
#ifndef KGE_KERNELS_H
#define KGE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* out (N,OC) = inp (N,C) · weight(OC,C)ᵀ + bias(OC) (bias may be NULL).
 * O(N·C·OC). */
void kge_matmul_forward(float *out, const float *inp, const float *weight, const float *bias,
                        size_t N, size_t C, size_t OC);

/* out (N,OC) += inp (N,C) · weight(OC,C)ᵀ + bias(OC): a linear layer added
 * onto a residual already in out. O(N·C·OC). */
void kge_matmul_forward_acc(float *out, const float *inp, const float *weight, const float *bias,
                            size_t N, size_t C, size_t OC);

/* out (N,C) = inp (N,C) + bias (C) per row: a residual with a linear
 * layer's bias, before kge_matmul_forward_acc adds the product. O(N·C). */
void kge_add_rows(float *out, const float *inp, const float *bias, size_t N, size_t C);

/* out (N,C) = (inp − mean) · rstd · weight + bias per row; mean, rstd (N)
 * are kept for the backward pass. rstd = 1/sqrt(var + eps), var biased.
 * O(N·C). */
void kge_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                           const float *weight, const float *bias, size_t N, size_t C, float eps);

/* out (N) = x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (the erf form, "gelu" in HF;
 * not the tanh approximation). O(N). */
void kge_gelu_forward(float *out, const float *inp, size_t N);

/* out (B,T,C) = wte[ids[b,t]] + wpe[t] + wtt[types[b,t]]  (types NULL: 0).
 * wte (V,C), wpe (P,C) with P >= T, wtt (TT,C). Ids must be in range
 * (checked by the caller). O(B·T·C). */
void kge_embedding_forward(float *out, const int32_t *ids, const int32_t *types,
                           const float *wte, const float *wpe, const float *wtt,
                           size_t B, size_t T, size_t C);

/* Multi-head scaled dot-product self-attention over padded sequences.
 * qkv (B,T,3C): per position the query, key and value vectors, each (NH,HS)
 * with C = NH·HS. mask (B,T): 1 real token, 0 padding (NULL: all real);
 * padding keys get probability 0 (HF adds the most negative float to their
 * scores). att (B,NH,T,T): softmax probabilities, kept for backward.
 * out (B,T,C): concatenated heads. O(B·NH·T²·HS). */
void kge_attention_forward(float *out, float *att, const float *qkv, const uint8_t *mask,
                           size_t B, size_t T, size_t C, size_t NH);

/* Attention of head h over one sequence for inference, probabilities not
 * kept: out's head-h columns (T rows, stride C) = softmax(q·kᵀ/√HS)·v,
 * qkv (T,3C) the sequence's rows, keep (T) 1.0 / 0.0 per key (masked
 * keys get probability 0). scratch holds
 * kge_attention_scratch(T, HS) floats (HS = C/NH): kᵀ and a few rows of
 * scores, so everything stays in L1/L2. Hand-written instead of two sgemm
 * calls: at these sizes OpenBLAS's packing, C zeroing and call overhead
 * cost more than the arithmetic. Equals kge_attention_head_forward up to
 * rounding. O(T²·HS). */
size_t kge_attention_scratch(size_t T, size_t HS);
void kge_attention_head_infer(float *out, const float *qkv, const float *keep, size_t h, size_t T, size_t C,
                              size_t NH, float *scratch);

/* One (sequence b, head h) of kge_attention_forward: keep (T) holds 1.0
 * for real tokens of sequence b, 0.0 for padding. Tasks of distinct
 * (b, h) write disjoint memory, so they may run in parallel. */
void kge_attention_head_forward(float *out, float *att, const float *qkv, const float *keep,
                                size_t b, size_t h, size_t T, size_t C, size_t NH);

/* In-place softmax of each row of x (rows, n), max subtracted. O(rows·n). */
void kge_softmax_rows(float *x, size_t rows, size_t n);

/* out (B,C) = Σ_t mask·h / max(Σ_t mask, 1e-9), as sentence-transformers'
 * mean pooling. hidden (B,T,C), mask (B,T) (NULL: all 1). O(B·T·C). */
void kge_mean_pool_forward(float *out, const float *hidden, const uint8_t *mask,
                           size_t B, size_t T, size_t C);

/* x (B,C) divided row-wise by max(‖x‖₂, 1e-12) (torch F.normalize). O(B·C). */
void kge_l2_normalize(float *x, size_t B, size_t C);

#endif
