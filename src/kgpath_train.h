/** @file kgpath_train.h
 * @brief Learning from the curriculum itself: train the encoder (BERT +
 * graph attention + a pair decoder) on the database's concepts and
 * prerequisite edges, in C, and suggest missing prerequisites with scores
 * a designer can review. Included by kgpath.h.
 *
 * A training run starts from a Hugging Face BERT folder (any BERT-family
 * checkpoint: config.json, vocab.txt, model.safetensors) or resumes a
 * kgpath checkpoint, and writes a checkpoint folder: a Hugging Face BERT
 * folder (loadable by `transformers`; also usable as a kgpath model for
 * `encode`/`embed`) plus kgpath's parts (graph attention, decoder, LoRA
 * adapters, optimiser and random state), each file written atomically.
 */
#ifndef KGPATH_TRAIN_H
#define KGPATH_TRAIN_H

#include "kgpath.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options of kgp_train; zero/NULL fields take the defaults shown. */
typedef struct kgp_train_options {
    const char *model;      /**< BERT folder to start from (NULL: $KGPATH_MODEL) */
    const char *resume;     /**< kgpath checkpoint to continue (then model is ignored) */
    const char *out;        /**< checkpoint folder to write (required) */
    const char *course;     /**< train on one course only (NULL: all) */
    const char *mode;       /**< "full" (default), "lora" (adapters on query/value) or "head" */
    int         vocab_size; /**< with no model: start from scratch, with a WordPiece vocabulary of this
                                 many pieces trained on the concepts' text and a small random BERT
                                 (hidden 128, 2 layers, 4 heads; pre-train it with "mlm") */
    const char *objective;  /**< "link" (default): prerequisite link prediction; "mlm": masked-LM
                                 pre-training on the concepts' text (15%, 80/10/10), writing a plain
                                 BERT folder (with its MLM head) to start a link run from */
    long        steps;      /**< 200 */
    double      lr;         /**< encoder peak learning rate, 5e-5 (lora: 1e-3) */
    double      head_lr;    /**< graph attention + decoder, 2e-3 */
    double      val_frac;   /**< edges held out for validation, 0.1 */
    int         patience;   /**< validations without improvement before stopping (0: never) */
    int         max_tokens; /**< tokens per concept text, [CLS]/[SEP] included, 32 */
    int         batch;      /**< positive edges per step, 32 */
    int         enc_batch;  /**< concepts re-encoded per step, 64 (0: all) */
    double      dropout;    /**< hidden and attention dropout, 0.1 */
    double      edge_dropout; /**< message-passing edge dropout, 0.1 */
    unsigned long long seed;  /**< 1 */
    int         threads;    /**< 0: default */
} kgp_train_options;

/** Progress of one step (for a progress bar and a JSON-lines log). */
typedef struct kgp_train_progress {
    long   step, steps;
    double loss, lr, grad_norm;
    double val_loss;        /**< NaN when not evaluated at this step */
    double seconds;         /**< since the run started */
} kgp_train_progress;

/** Return non-zero to stop (a checkpoint is still written). */
typedef int (*kgp_train_fn)(void *ud, const kgp_train_progress *p);

/** What a run did. */
typedef struct kgp_train_report {
    size_t concepts, edges, train_edges, val_edges;
    long   steps_done;
    double first_loss, last_loss, best_val_loss; /**< NaN when none */
    double seconds;
} kgp_train_report;

/** Trains prerequisite link prediction on the concepts (title, summary and
 * goals as text) and resolved requirement edges (each group member is a
 * prerequisite of its concept) of the database, then writes opt->out.
 * Errors (message in kgp_db_errmsg): KGP_EUSAGE (bad option, no model, no
 * edges to learn from), KGP_ENOTFOUND (model, checkpoint or course),
 * KGP_EINPUT (bad checkpoint), KGP_EIO, KGP_ENOMEM.
 * Cost: per step a forward and backward pass of the encoder over
 * enc_batch concepts; deterministic for a seed and thread count. */
kgp_status kgp_train(kgp_db *db, const kgp_train_options *opt, kgp_train_fn progress, void *ud,
                     kgp_train_report *report);

/** A proposed prerequisite: prereq (snapshot index) is probably a
 * prerequisite of concept, with the model's probability and the existing
 * edge that is the nearest evidence (its prerequisite is the concept most
 * similar to prereq among concept's current prerequisites; KGP_NONE when
 * concept has none). */
typedef struct kgp_suggestion {
    uint32_t prereq, concept;
    float    score;
    uint32_t evidence;      /**< a current prerequisite of concept, or KGP_NONE */
    float    evidence_sim;  /**< cosine of prereq and evidence in the model's space */
} kgp_suggestion;

/** Scores every ordered pair (a, b) of distinct concepts of course (NULL:
 * all) that is not already a requirement edge either way and returns those
 * scoring at least min_score, best first, at most top (0: no limit), in a
 * malloc'ed array (free()). Uses the checkpoint folder ckpt.
 * Errors: KGP_ENOTFOUND (checkpoint or course), KGP_EINPUT (bad
 * checkpoint), KGP_ENOMEM. Cost: one encoder pass over the concepts, then
 * O(pairs · width) for the decoder. */
kgp_status kgp_suggest(kgp_snap *s, const char *ckpt, const char *course, float min_score, size_t top,
                       kgp_suggestion **out, size_t *nout);

/** Probabilities out[p] that pairs[2p] is a prerequisite of pairs[2p+1]
 * (snapshot indices), with the database's edges as context except the pair
 * itself. Errors: KGP_EUSAGE (index out of range), as kgp_suggest. */
kgp_status kgp_score_pairs(kgp_snap *s, const char *ckpt, const uint32_t *pairs, size_t n, float *out);

/** An existing requirement edge as the model sees it. */
typedef struct kgp_suspect {
    uint32_t prereq, concept;   /**< the edge prereq → concept (snapshot indices) */
    float    score;             /**< probability of the edge as written */
    float    reverse;           /**< probability of concept → prereq; above score: it may point the wrong way */
} kgp_suspect;

/** Scores every resolved requirement edge of course (NULL: all) both ways,
 * each without itself (and the few edges scored with it) as context, and
 * returns the top (0: all) lowest-scoring, lowest first, in a malloc'ed
 * array (free()). Errors: as kgp_suggest. Cost: one encoder pass per 16
 * edges. */
kgp_status kgp_suspicious(kgp_snap *s, const char *ckpt, const char *course, size_t top, kgp_suspect **out,
                          size_t *nout);

/** A likely-identical pair of concepts across two courses. */
typedef struct kgp_alignment {
    uint32_t a, b;              /**< snapshot indices: a in course A, b in course B */
    float    similarity;        /**< cosine of their graph-contextual embeddings */
} kgp_alignment;

/** Mutual nearest neighbours between the concepts of course_a and
 * course_b in the checkpoint's graph-contextual embedding space (every
 * concept and edge of the database as context), with cosine at least
 * min_sim, most similar first, in a malloc'ed array (free()): candidates
 * to merge. Errors: KGP_ENOTFOUND (course or checkpoint), as kgp_suggest.
 * Cost: one encoder pass, O(|A|·|B|·dim). */
kgp_status kgp_align(kgp_snap *s, const char *ckpt, const char *course_a, const char *course_b, float min_sim,
                     kgp_alignment **out, size_t *nout);

#ifdef __cplusplus
}
#endif
#endif /* KGPATH_TRAIN_H */
