/* Training the BERT encoder: the backward pass through every layer, the
 * masked-LM head with its loss, the pair loss over pooled embeddings, and
 * random initialisation.
 *
 * Gradients live in a second kge_bert of the same configuration (made
 * with kge_train_grads_new): one block laid out exactly like the
 * parameters, its kge_bert_params pointing at the gradient of each
 * parameter tensor, so the optimiser runs one loop over two blocks and
 * kge_bert_tensors(grads) names every gradient. The backward pass reads
 * the activations that kge_bert_forward(…, keep = 1) kept; it recomputes
 * nothing and accumulates (+=) into the gradients.
 */
#ifndef KGE_TRAIN_BERT_H
#define KGE_TRAIN_BERT_H

#include <stddef.h>
#include <stdint.h>

#include "encoder/bert.h"
#include "encoder/kge_err.h"

/* A zeroed gradient model shaped like m (has_pooler/has_mlm copied).
 * Errors: KGE_ENOMEM. */
int kge_train_grads_new(const kge_bert *m, kge_bert **grads, kge_err *err);
/* Zeroes every gradient. O(parameters). */
void kge_train_grads_zero(kge_bert *grads);

/* Which parameter gradients a backward pass computes. */
enum {
    KGE_BWD_ALL = 0,       /* every parameter (full fine-tuning) */
    KGE_BWD_QKV_ONLY = 1   /* only the query/key/value weights (LoRA: the
                              adapters' gradients follow from them) */
};

/* Scratch for kge_bert_backward, grown as needed. */
typedef struct kge_bert_bwd {
    size_t cap;
    float *block;
} kge_bert_bwd;
void kge_bert_bwd_free(kge_bert_bwd *w);

/* Backpropagates dhidden (B,T,C), the gradient of the loss with respect
 * to a->hidden, through the encoder whose forward pass filled a (it must
 * have been run with keep = 1, or by kge_bert_forward_train whose dropout
 * masks dm then are (NULL: no dropout), on the same ids/types, and m
 * unchanged since). Accumulates into grads (from kge_train_grads_new)
 * according to what (KGE_BWD_*). dhidden is read only.
 * Errors: KGE_EUSAGE (activations not kept or of another shape),
 * KGE_ENOMEM. Cost: about twice the forward pass. */
struct kge_dropout_masks;
int kge_bert_backward(const kge_bert *m, kge_bert *grads, const kge_bert_acts *a, kge_bert_bwd *w,
                      const struct kge_dropout_masks *dm, const float *dhidden, const int32_t *ids,
                      const int32_t *types, int what, kge_err *err);

/* Masked-LM loss and its gradients on n rows of hidden states: logits =
 * LN(gelu(rows·Wᵀ + b))·wteᵀ + bias (the decoder tied to the word
 * embeddings), loss = mean cross-entropy against labels (n; < 0 ignored).
 * When grads is not NULL, adds the head's gradients (the decoder's share
 * into grads->p.wte) and sets drows (n,C) (+=). logits (n,V) may be NULL
 * (then a scratch is allocated) or receive the logits.
 * Requires m->has_mlm. Errors: KGE_EUSAGE, KGE_ENOMEM.
 * Cost: O(n·C·(C + V)). */
int kge_mlm_loss(const kge_bert *m, kge_bert *grads, const float *rows, const int32_t *labels,
                 size_t n, float *drows, float *logits, float *loss, kge_err *err);

/* Pair loss on embeddings z (B,C): logit_p = z[a_p]·z[b_p] for pairs
 * (P,2), loss = mean BCE with logits against labels (P). When dz is not
 * NULL, dz (B,C) += d loss / d z. logits (P) may be NULL. O(P·C). */
float kge_pair_dot_bce(const float *z, float *dz, const int64_t *pairs, const float *labels,
                       size_t P, size_t C, float *logits);

/* Writes m as a Hugging Face BERT folder dir (created when missing):
 * config.json, vocab.txt (m's vocabulary, or placeholder pieces with the
 * special tokens first when m has none) and model.safetensors (encoder,
 * and pooler / MLM head when present), each file atomically.
 * Errors: KGE_EIO, KGE_ENOMEM. */
int kge_bert_save(const kge_bert *m, const char *dir, kge_err *err);

/* Gives m a freshly initialised MLM head (transform dense normal(0, 0.02),
 * LayerNorm 1/0, bias 0) when it has none; a no-op otherwise. */
void kge_bert_add_mlm_head(kge_bert *m, uint64_t seed);

/* Initialises m as Hugging Face does for a new BertModel: weights normal
 * (0, std) (std 0.02 unless given), biases 0, LayerNorm weights 1, from a
 * deterministic seed. O(parameters). */
void kge_bert_init_random(kge_bert *m, uint64_t seed, float std);

#endif
