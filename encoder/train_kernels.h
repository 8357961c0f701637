/* Backward kernels of the encoder, paired with the forward kernels of
 * encoder/kernels.h (llm.c style).
 *
 * Every backward function ACCUMULATES (+=) into its gradient outputs, so
 * a parameter used twice (the word embeddings, tied to the MLM decoder)
 * collects both shares; callers zero the gradients once per step. Any
 * gradient output may be NULL when it is not wanted (a frozen weight, an
 * input that is data). Shapes are in the comments, row-major; linear
 * weights are PyTorch's (OC, C) with y = x·Wᵀ + b. None of these allocate,
 * fail or print. Keep this file out of -ffast-math (GELU's erf).
 */
#ifndef KGE_TRAIN_KERNELS_H
#define KGE_TRAIN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Linear layer backward: dinp (N,C) += dout (N,OC) · weight (OC,C);
 * dweight (OC,C) += doutᵀ · inp (N,C); dbias (OC) += Σ_n dout.
 * O(N·C·OC). */
void kge_matmul_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                         const float *inp, const float *weight, size_t N, size_t C, size_t OC);

/* LayerNorm backward from the forward's input and its kept mean and rstd
 * (N): dinp (N,C) += ..., dweight, dbias (C) += ... O(N·C). */
void kge_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, const float *mean,
                            const float *rstd, size_t N, size_t C);

/* GELU (erf form) backward: dinp (N) += dout · (Φ(x) + x·φ(x)) with x the
 * forward input. dinp may equal dout (in place, then it is overwritten,
 * not accumulated). O(N). */
void kge_gelu_backward(float *dinp, const float *inp, const float *dout, size_t N);

/* Embedding sum backward: dwte[ids[b,t]] += dout[b,t], dwpe[t] += …,
 * dwtt[types[b,t]] += … (types NULL: type 0). dout (B,T,C). O(B·T·C). */
void kge_embedding_backward(float *dwte, float *dwpe, float *dwtt, const float *dout,
                            const int32_t *ids, const int32_t *types, size_t B, size_t T, size_t C);

/* Attention backward of one (sequence b, head h), from the forward's qkv
 * (B,T,3C) and probabilities att (B,NH,T,T) (before dropout), given dout
 * (B,T,C): adds the gradients of that head's query, key and value slices
 * into dqkv (B,T,3C). dmask (B,NH,T,T) is the attention-dropout mask the
 * forward multiplied the probabilities by (NULL: none). Masked keys have
 * probability 0 and so receive nothing. scratch holds 2·T·T floats. Tasks
 * of distinct b write disjoint memory. O(T²·HS). */
void kge_attention_head_backward(float *dqkv, const float *dout, const float *qkv, const float *att,
                                 const float *dmask, float *scratch, size_t b, size_t h, size_t T, size_t C,
                                 size_t NH);

/* All sequences and heads of the above. scratch holds 2·T·T floats.
 * O(B·NH·T²·HS). */
void kge_attention_backward(float *dqkv, const float *dout, const float *qkv, const float *att,
                            const float *dmask, float *scratch, size_t B, size_t T, size_t C, size_t NH);

/* Mean pooling backward: dhidden[b,t] (B,T,C) += dout[b] / max(count_b,
 * 1e-9) where mask[b,t] is 1 (mask NULL: all). O(B·T·C). */
void kge_mean_pool_backward(float *dhidden, const float *dout, const uint8_t *mask,
                            size_t B, size_t T, size_t C);

/* L2 normalisation backward from the forward's input x (B,C):
 * dx += (dy − y·(y·dy)) / max(‖x‖, 1e-12), y = x/‖x‖. O(B·C). */
void kge_l2_normalize_backward(float *dx, const float *x, const float *dy, size_t B, size_t C);

/* Mean binary cross-entropy with logits over n: returns the loss and,
 * when dz is not NULL, sets dz[i] = scale·(σ(z_i) − y_i)/n (scale lets a
 * caller weight this loss against others; 1 for the plain mean).
 * Numerically stable for any z. O(n). */
float kge_bce_logits(float *dz, const float *z, const float *y, size_t n, float scale);

/* Mean softmax cross-entropy of logits (n,V) against labels (n) (a label
 * < 0 is ignored and excluded from the mean): returns the loss and, when
 * dlogits is not NULL, sets dlogits to its gradient (zero rows for
 * ignored labels). dlogits may equal logits. O(n·V). */
float kge_softmax_xent(float *dlogits, const float *logits, const int32_t *labels, size_t n, size_t V);

#endif
