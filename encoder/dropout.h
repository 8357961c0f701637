/* Dropout for training the encoder (attention probabilities and hidden
 * states, as Hugging Face BERT places it) and the training forward pass
 * that applies it.
 *
 * Hidden dropout acts on the embedding LayerNorm's output, on the attention
 * output projection and on the FFN output, each before its residual add;
 * attention dropout on the softmax probabilities. Masks hold 0 or 1/(1−p)
 * (inverted dropout: no rescaling at inference) drawn from a kge_rng, so a
 * step is reproducible from the generator's state. kge_bert_backward
 * (train_bert.h) takes the masks and routes gradients through them.
 */
#ifndef KGE_DROPOUT_H
#define KGE_DROPOUT_H

#include <stddef.h>
#include <stdint.h>

#include "encoder/bert.h"
#include "encoder/kge_err.h"
#include "encoder/train_rng.h"

typedef struct kge_dropout {
    float p_hidden;          /* hidden_dropout_prob, in [0, 1) */
    float p_attn;            /* attention_probs_dropout_prob, in [0, 1) */
} kge_dropout;

/* Masks of one training forward pass (grown as needed). A NULL pointer
 * means "no dropout there". */
typedef struct kge_dropout_masks {
    size_t cap;
    float *block;
    float *emb;              // (B,T,C) after the embedding LayerNorm, or NULL
    float *attproj;          // (L,B,T,C) attention output projection, or NULL
    float *ffn;              // (L,B,T,C) FFN output, or NULL
    float *att;              // (L,B,NH,T,T) attention probabilities, or NULL
} kge_dropout_masks;
void kge_dropout_masks_free(kge_dropout_masks *dm);

/* x (n) *= mask (n) drawn now: mask[i] = 0 with probability p, else
 * 1/(1−p). mask may be NULL (then only x changes). p = 0 leaves x alone
 * and sets mask to 1. O(n). */
void kge_dropout_forward(float *x, float *mask, size_t n, float p, kge_rng *r);

/* The encoder's forward pass with dropout, keeping every activation for
 * kge_bert_backward (as kge_bert_forward with keep = 1; a->att holds the
 * probabilities before dropout). With both probabilities 0 it computes what
 * kge_bert_forward computes (within float rounding) and leaves the masks
 * NULL. Single-threaded apart from OpenBLAS; deterministic given r.
 * Errors: as kge_bert_forward, KGE_EUSAGE for a probability outside
 * [0, 1). Cost: O(L·B·T·C·(C + I + T)). */
int kge_bert_forward_train(const kge_bert *m, kge_bert_acts *a, kge_dropout_masks *dm, const kge_dropout *d,
                           kge_rng *r, const int32_t *ids, const int32_t *types, const uint8_t *mask, int B,
                           int T, kge_err *err);

#endif
