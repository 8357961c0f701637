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

/** Threads one kgp_model_encode call uses (n >= 1; 0: the default,
 * $OPENBLAS_NUM_THREADS, else $OMP_NUM_THREADS, else the CPUs). Results do
 * not depend on it. */
void kgp_model_set_threads(kgp_model *m, int n);

/** Makes OpenBLAS run kernels fit for this CPU when it did not recognise
 * the CPU: OpenBLAS 0.3.21 (Debian 12) falls back to its generic Prescott
 * kernels on CPUs newer than it (Sapphire and Emerald Rapids, ...), where
 * sgemm is 5-7x slower than with the AVX-512 (SkylakeX) or AVX2 (Haswell)
 * kernels the CPU's features allow. Does nothing when OPENBLAS_CORETYPE is
 * set (the user's choice wins), when OpenBLAS already runs a specific core,
 * or with another BLAS. Process-wide and not thread-safe: call it once at
 * start-up, before other threads use BLAS (the kgpath command does; an
 * embedding program may, or set OPENBLAS_CORETYPE itself). Returns 1 when
 * it switched the kernels, else 0. Never fails. O(1). */
int kgp_blas_select(void);

/** One line on the BLAS in use, for --version and bug reports, such as
 * "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64"
 * or "unknown BLAS (not OpenBLAS)". Static storage. */
const char *kgp_blas_describe(void);

/** NULL, or a hint on making the encoder faster on this machine (today:
 * OpenBLAS not recognising the CPU and falling back to generic kernels,
 * fixed by setting OPENBLAS_CORETYPE). */
const char *kgp_encoder_hint(void);

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

/* ------------------------------------------------------------------------ */
/** @name Concept embeddings in the database (src/api_encoder.c)
 * Each concept's text — title, summary and goals, one per line — is
 * embedded (mean pooling, L2-normalised) and stored in the database's
 * `embeddings` table under the concept's stable id, with the model id and
 * a hash of the text, so `kgp_embed` re-embeds only concepts whose text or
 * model changed. Similarity is the cosine (a dot product of unit vectors). */

/** Outcome of kgp_embed. */
typedef struct kgp_embed_report {
    size_t concepts;    /**< concepts in the database */
    size_t embedded;    /**< (re-)embedded now */
    size_t unchanged;   /**< already embedded with this model and text */
    size_t removed;     /**< stored vectors of concepts no longer present */
} kgp_embed_report;

/** Embeds every concept whose text or model changed (all when force) and
 * stores the vectors in one write transaction. progress (may be NULL) is
 * called with (done, total) as batches finish. rep may be NULL.
 * Errors: KGP_EUSAGE (read-only database), KGP_EDB, KGP_ENOMEM, the
 * model's errors (message in kgp_db_errmsg).
 * Cost: O(changed concepts · encoder cost + concepts). */
kgp_status kgp_embed(kgp_db *db, kgp_model *m, int force,
                     void (*progress)(void *ud, size_t done, size_t total, const char *label),
                     void *ud, kgp_embed_report *rep);

/** One nearest concept. key and title point into the snapshot. */
typedef struct kgp_match {
    uint32_t    index;  /**< concept index in the snapshot */
    const char *key;    /**< "course:concept" */
    const char *title;
    float       score;  /**< cosine similarity, -1 .. 1 */
} kgp_match;

/** The k concepts nearest in meaning to text, best first, among those
 * embedded with m (*nout <= k set; *missing, when not NULL, counts
 * concepts without a vector for this model: run kgp_embed).
 * Errors: KGP_ENOTFOUND (no concept embedded with this model: the message
 * says to run `kgpath embed`), the model's errors, KGP_EDB, KGP_ENOMEM
 * (messages in kgp_snap_errmsg). Cost: O(encoder + concepts · dim). */
kgp_status kgp_search(kgp_snap *s, kgp_model *m, const char *text, size_t k,
                      kgp_match *out, size_t *nout, size_t *missing);

/** The k concepts nearest to concept index (itself excluded), across all
 * courses, compared with the vectors of the same model as its own.
 * Errors: KGP_ENOTFOUND (the concept has no vector: run `kgpath embed`),
 * KGP_EUSAGE (index out of range), KGP_EDB, KGP_ENOMEM.
 * Cost: O(concepts · dim). */
kgp_status kgp_similar(kgp_snap *s, uint32_t index, size_t k,
                       kgp_match *out, size_t *nout);

#ifdef __cplusplus
}
#endif
#endif /* KGPATH_ENCODER_H */
