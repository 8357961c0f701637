/** @file kgpath_encoder.h
 * @brief Text encoder: Hugging Face BERT checkpoints (all-MiniLM-L6-v2,
 * bge-small-en, bert-base-chinese, …) run in C with the same numbers as
 * Hugging Face transformers. Included by kgpath.h.
 *
 * A model is a folder holding `config.json`, `vocab.txt` and
 * `model.safetensors` (what `git clone https://huggingface.co/<name>` gives);
 * `tokenizer_config.json` (do_lower_case) and `sentence_bert_config.json`
 * (max_seq_length) are read when present. A model handle is used by one
 * thread at a time (it keeps its activation buffers); load one per thread to
 * encode in parallel. Matrix products run on OpenBLAS, whose thread count is
 * set with OPENBLAS_NUM_THREADS.
 */
#ifndef KGPATH_ENCODER_H
#define KGPATH_ENCODER_H

#include "kgpath.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kgp_model kgp_model;

/** How token vectors become one text vector. */
typedef enum kgp_pooling {
    KGP_POOL_MEAN   = 0, /**< mean over real tokens ([CLS]/[SEP] included), as sentence-transformers */
    KGP_POOL_CLS    = 1, /**< the [CLS] token's final hidden state */
    KGP_POOL_POOLER = 2  /**< BERT's pooler: tanh(W·h_CLS + b); needs pooler.* weights */
} kgp_pooling;

/** Parses "mean", "cls" or "pooler". Errors: KGP_EUSAGE. */
kgp_status kgp_pooling_parse(const char *name, kgp_pooling *out);

/** Loads the model folder dir; dir NULL or "" means $KGPATH_MODEL.
 * On failure *out is still a handle carrying the message (kgp_model_errmsg)
 * unless memory ran out; free it with kgp_model_free. When no folder is
 * given and KGPATH_MODEL is unset the message says how to get a model.
 * Errors: KGP_EUSAGE (no model given), KGP_ENOTFOUND (missing file or
 * tensor, named), KGP_EINPUT (unsupported config, mis-shaped tensor,
 * corrupt safetensors), KGP_EIO, KGP_ENOMEM.
 * Cost: O(size of the weights) (they are read and hashed once). */
kgp_status kgp_model_load(const char *dir, kgp_model **out);
void       kgp_model_free(kgp_model *m);
/** Message of the handle's last error ("" when none). */
const char *kgp_model_errmsg(const kgp_model *m);
/** Embedding dimension (hidden size). */
size_t kgp_model_dim(const kgp_model *m);
/** Longest input in tokens, [CLS] and [SEP] included; longer texts are truncated. */
size_t kgp_model_max_tokens(const kgp_model *m);
/** Identity of the weights: "bert-" + 16 hex digits of a hash over
 * config.json, vocab.txt and model.safetensors. Two folders with the same
 * files have the same id; stored embeddings are valid only for their id. */
const char *kgp_model_id(const kgp_model *m);
/** 1 when the checkpoint has the pooler weights (KGP_POOL_POOLER usable). */
int kgp_model_has_pooler(const kgp_model *m);

/** Embeds n texts (UTF-8, NUL-terminated) into out (n × kgp_model_dim
 * floats, row i for texts[i]), L2-normalised when normalize is non-zero.
 * Texts are batched by length, so the result for a text does not depend on
 * the others it is encoded with (within float rounding, about 1e-6).
 * Errors: KGP_EINPUT (invalid UTF-8: the message names the text and byte),
 * KGP_EUSAGE (KGP_POOL_POOLER without pooler weights), KGP_ENOMEM.
 * Cost: O(n · layers · T · dim · (dim + T)) for T tokens per text. */
kgp_status kgp_model_encode(kgp_model *m, const char *const *texts, size_t n,
                            kgp_pooling pooling, int normalize, float *out);

/** The model input of one text: ids and pieces, [CLS] … [SEP], truncated
 * as kgp_model_encode truncates. pieces point into the model's vocabulary
 * (valid while the model lives). */
typedef struct kgp_tokens {
    size_t       n;
    int32_t     *ids;
    const char **pieces;
} kgp_tokens;
/** Errors: KGP_EINPUT (invalid UTF-8), KGP_ENOMEM. O(length of text). */
kgp_status kgp_model_tokenize(kgp_model *m, const char *text, kgp_tokens *out);
void       kgp_tokens_free(kgp_tokens *t);

#ifdef __cplusplus
}
#endif
#endif /* KGPATH_ENCODER_H */
