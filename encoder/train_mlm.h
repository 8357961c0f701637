/* Masked-language-model training of the encoder on arrays of token ids
 * (BERT's pre-training objective, as Hugging Face's
 * DataCollatorForLanguageModeling does it), and text augmentation.
 *
 * Masking: each real token that is not special ([CLS], [SEP], [PAD], …) is
 * chosen with probability p (0.15); a chosen token becomes [MASK] 80% of
 * the time, a random non-special token 10%, itself 10%; the loss is the
 * mean cross-entropy of the MLM head (decoder tied to the word embeddings)
 * at the chosen positions.
 */
#ifndef KGE_TRAIN_MLM_H
#define KGE_TRAIN_MLM_H

#include <stddef.h>
#include <stdint.h>

#include "encoder/bert.h"
#include "encoder/dropout.h"
#include "encoder/kge_err.h"
#include "encoder/optim.h"
#include "encoder/train_bert.h"
#include "encoder/train_rng.h"

/* Token ids that are never masked nor drawn as random replacements. */
typedef struct kge_mlm_vocab {
    int32_t        vocab_size;
    int32_t        mask_id;       /* [MASK] */
    const int32_t *special;       /* ids never chosen (e.g. [PAD] [UNK] [CLS] [SEP] [MASK]) */
    size_t         nspecial;
} kge_mlm_vocab;

/* Masks ids (n) in place where mask[i] (NULL: all real) and writes labels
 * (n): the original id at chosen positions, -1 elsewhere. Returns how many
 * were chosen. Deterministic given r. O(n · nspecial). */
size_t kge_mlm_mask(kge_rng *r, const kge_mlm_vocab *v, float p, int32_t *ids, const uint8_t *mask,
                    int32_t *labels, size_t n);

/* Augmentation of one padded sequence ids/mask (T) that starts with [CLS]
 * and whose last real token is [SEP]: each inner token is deleted with
 * probability p_token, and with probability p_span one random span of up
 * to max_span inner tokens is deleted; the rest moves left, padding (id
 * pad_id, mask 0) fills the end. Returns the new length. O(T). */
size_t kge_augment_tokens(kge_rng *r, int32_t *ids, uint8_t *mask, size_t T, float p_token, float p_span,
                          size_t max_span, int32_t pad_id);

/* A training session for the MLM objective on one model. */
typedef struct kge_mlm_trainer {
    kge_bert         *m;        /* borrowed; needs has_mlm */
    kge_bert         *grads;
    kge_bert_acts     acts;
    kge_bert_bwd      bwd;
    kge_dropout_masks dm;
    kge_dropout       drop;
    kge_adamw         opt;      /* over the encoder and the MLM head (not the pooler) */
    kge_lr_sched      sched;
    float             clip;
    float             p_mask;
    kge_rng           rng;
    int64_t           step;
} kge_mlm_trainer;

/* Sets up training of m (which must have an MLM head: kge_bert_init_random
 * gives one) with AdamW(lr schedule s, weight decay wd), clipping at clip
 * (0: none), dropout d and masking probability p_mask, seeded.
 * Errors: KGE_EUSAGE (no MLM head, bad probabilities), KGE_ENOMEM. */
int  kge_mlm_trainer_init(kge_mlm_trainer *t, kge_bert *m, const kge_lr_sched *s, float wd, float clip,
                          const kge_dropout *d, float p_mask, uint64_t seed, kge_err *err);
void kge_mlm_trainer_free(kge_mlm_trainer *t);

/* One step on a batch ids/mask (B,T) (copied, then masked with v): forward
 * with dropout, MLM loss, backward, clip, AdamW. *loss receives the loss
 * (0 when no token was chosen; then no update is made).
 * Errors: as kge_bert_forward, KGE_ENOMEM. */
int kge_mlm_step(kge_mlm_trainer *t, const kge_mlm_vocab *v, const int32_t *ids, const uint8_t *mask, int B, int T,
                 float *loss, kge_err *err);

#endif
