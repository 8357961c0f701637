/* Prerequisite link prediction, trained end to end in C.
 *
 * Model: each concept's text (token ids) goes through the BERT encoder and
 * masked mean pooling to z0 (n, C); one graph-attention layer
 * (TransformerConv, heads·(C/heads) = C channels, a learned edge-type
 * embedding as edge features) over the training edges, in both directions
 * (a → b typed "prerequisite of", b → a typed "required by"), gives the
 * graph-contextual z (n, C); a decoder scores an ordered pair:
 *
 *   s(a, b) = w2 · gelu(W1 [z_a, z_b, z_a ⊙ z_b, φ(a, b)] + b1) + b2 + ws · φ(a, b)
 *
 * (direction matters), p = σ(s) the probability that a is a prerequisite
 * of b. φ (opts.structural, on by default) are structural features of the
 * pair in the same edges the graph attention sees: how many concepts a is
 * a prerequisite of and how many prerequisites it has, the same for b, the
 * reverse edge b → a, two-hop paths a → x → b, common neighbours and
 * Adamic-Adar (see kge_link_sx_pair). They are recomputed from the edges
 * whenever the model embeds, so a loaded model scores alike and held-out
 * edges never show. φ ends with the mention features (opts.mention, on by
 * default; kge_link_text_pair): whether a's title occurs in b's text and
 * the reverse, from d->mention, which depends on the texts alone. Training minimises binary cross-entropy on a batch of
 * training edges against sampled negatives (random pairs, reversed edges,
 * pairs two hops apart, and the caller's explicit negatives when given),
 * with AdamW, warm-up then linear/cosine decay and global-norm clipping. The positives of a step are removed from the message-passing
 * graph for that step (so the model cannot read the answer off the graph),
 * and other edges are dropped with probability edge_dropout.
 *
 * Modes: full fine-tuning (encoder + graph attention + decoder), LoRA
 * (adapters on query/value, the base frozen), head-only (the encoder
 * frozen; its embeddings computed once).
 *
 * Everything is deterministic for a fixed seed and thread count; the step
 * counter, the random state and the optimiser moments are part of a
 * checkpoint, so a run interrupted and resumed equals one uninterrupted.
 *
 * Checkpoint folder (kge_link_save), each file written atomically, the
 * manifest last:
 *   config.json, model.safetensors, vocab.txt   Hugging Face BERT folder
 *                                               (loadable by transformers)
 *   adapter_model.safetensors, adapter_config.json   LoRA mode (peft names)
 *   kgpath_heads.safetensors    graph attention (PyG names under "conv."),
 *                               "edge_type_embedding", "decoder.*"
 *   kgpath_optimizer.safetensors  AdamW moments
 *   kgpath_train.json           manifest: options, step, random state
 * Every safetensors file carries the step in its metadata; a loader
 * refuses files whose step disagrees with the manifest (a torn save).
 */
#ifndef KGE_TRAIN_LINK_H
#define KGE_TRAIN_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "encoder/bert.h"
#include "encoder/graph_attention.h"
#include "encoder/kge_err.h"
#include "encoder/lora.h"
#include "encoder/optim.h"
#include "encoder/tokenizer.h"
#include "encoder/train_eval.h"
#include "encoder/train_rng.h"

typedef enum kge_train_mode { KGE_TRAIN_FULL = 0, KGE_TRAIN_LORA = 1, KGE_TRAIN_HEAD = 2 } kge_train_mode;

/* Each concept's title and body (the rest of its text) as WordPiece ids
 * without special tokens (kge_link_text_build cuts bodies at max_body
 * tokens, not at the encoder's length), in CSR form: concept i's title is
 * title_ids[title_off[i] .. title_off[i+1]), its body body_ids[body_off[i]
 * .. body_off[i+1]). The mention features (opts.mention) read them: whether
 * a's title occurs in b's body. Build with kge_link_text_build. */
typedef struct kge_link_text {
    size_t    n;
    uint32_t *title_off, *body_off;   /* (n + 1) */
    int32_t  *title_ids, *body_ids;
    uint32_t *body_index;  /* (body_off[n]) or NULL: each body's positions sorted by (id,
                              position), so a title token is looked up in O(log body)
                              (filled by kge_link_text_build and the model's copy; NULL:
                              bodies are scanned) */
} kge_link_text;

/* The concepts (tokenised, padded to T) and the known prerequisite edges
 * src[e] → dst[e] ("src is a prerequisite of dst"). Borrowed. */
typedef struct kge_link_data {
    size_t          n;       /* concepts */
    int             T;       /* tokens per concept, padded */
    const int32_t  *ids;     /* (n, T) */
    const uint8_t  *mask;    /* (n, T) 1 token, 0 padding */
    size_t          E;
    const uint32_t *src, *dst;   /* (E) */
    /* Optional views for augmentation (opts.view_prob): nviews other texts
     * of each concept (for example its title alone and its summary alone),
     * tokenised and padded like ids. NULL/0: none. */
    size_t          nviews;
    const int32_t  *view_ids;    /* (nviews, n, T) */
    const uint8_t  *view_mask;   /* (nviews, n, T) */
    /* Optional labelled negatives: pairs neg_src[k] → neg_dst[k] known NOT
     * to be prerequisites (for example related concepts judged not
     * prerequisite by annotators). Training draws a share opts.neg_explicit
     * of its negatives from them; they never enter the graph. NULL/0: none
     * (training then samples every negative as before). */
    size_t          nneg;
    const uint32_t *neg_src, *neg_dst;   /* (nneg) */
    /* Optional titles and bodies for the mention features (opts.mention),
     * mention->n == n. NULL: every mention feature is 0 (a model with them
     * then scores from the rest alone). */
    const kge_link_text *mention;
} kge_link_data;

typedef struct kge_link_opts {
    kge_train_mode mode;
    int64_t  steps;          /* schedule length (total steps) */
    int64_t  warmup;         /* linear warm-up steps */
    kge_lr_decay decay;
    float    lr;             /* peak lr of the encoder (or adapters) */
    float    head_lr;        /* peak lr of graph attention + decoder (0: lr) */
    float    struct_lr;      /* peak lr of the decoder's linear weights ws on the structural
                                features (0: head_lr; default 5e-2: a linear model over a
                                few features converges in the short runs used here) */
    float    weight_decay;
    float    clip;           /* global-norm clip (0: none) */
    int      batch_pos;      /* positive edges per step (0: 32) */
    int      neg_per_pos;    /* negatives per positive (0: 3) */
    float    edge_dropout;   /* message-passing edge dropout */
    float    hidden_dropout; /* encoder hidden-state dropout (training only) */
    float    attn_dropout;   /* encoder attention-probability dropout */
    int      gat_heads;      /* 0: 4 (must divide hidden) */
    int      type_dim;       /* edge-type embedding size (0: 8) */
    int      mlp_hidden;     /* decoder width (0: hidden) */
    int      lora_rank;      /* 0: 8 */
    float    lora_alpha;     /* 0: 2·rank */
    int      enc_batch;      /* concepts re-encoded per step, the pairs' endpoints
                                first (0: all); the others come from a cache of
                                embeddings refreshed as concepts are re-encoded,
                                and get no gradient that step */
    float    val_frac;       /* fraction of edges held out for validation (0: none) */
    int      eval_every;     /* steps between validation losses (0: 10) */
    int      patience;       /* evaluations without improvement before stopping (0: never) */
    uint64_t seed;
    int      threads;        /* encoder threads (0: default) */
    int      max_tokens;     /* tokens per concept text the caller used (recorded in
                                checkpoints so scoring tokenises alike; 0: unknown) */
    float    view_prob;      /* augmentation: probability that a concept encoded for a
                                training step reads one of its views (uniformly) instead
                                of its text; full and LoRA modes (head mode encodes once),
                                needs d->nviews; scoring and validation read the text.
                                0: never */
    int      structural;     /* 1: structural pair features φ in the decoder (default);
                                0: text and graph attention alone (checkpoints written
                                before φ load this way) */
    int      transitive;     /* 1: with structural, six transitive features in φ (default):
                                descendants and ancestors of a and of b, 1 / distance
                                a → b and b → a in the graph the model sees; 0: none
                                (checkpoints written before them load this way) */
    int      mention;        /* 1: mention features in φ (default): a's title in b's body
                                (exact, and the longest run of its tokens / its length)
                                and the same for b's title in a's body (kge_link_text,
                                d->mention); 0: none (checkpoints written before them
                                load this way) */
    float    neg_explicit;   /* share of each step's negatives drawn from d's explicit
                                negatives when it has some, in [0, 1] (default 0.8) */
} kge_link_opts;

/* Fills the defaults above (lr 5e-4, head_lr 2e-3, struct_lr 5e-2,
 * wd 0.01, clip 1, 200 steps, warm-up 10%, linear decay, structural
 * and mention features on, 80% of the negatives explicit when given). */
void kge_link_opts_default(kge_link_opts *o);

/* Tokenises titles[i] and bodies[i] (i < n; a NULL or empty body: none)
 * with tk, no special tokens, each body cut at max_body tokens (0: 256),
 * into out (freed first with kge_link_text_free). Errors: KGE_EINPUT
 * (invalid UTF-8, naming the concept and the byte), KGE_ENOMEM; out is left
 * empty. O(total text length). */
int  kge_link_text_build(const kge_tokenizer *tk, const char *const *titles, const char *const *bodies,
                         size_t n, size_t max_body, kge_link_text *out, kge_err *err);
void kge_link_text_free(kge_link_text *t);

/* The mention features of the ordered pair (a, b) (a, b < t->n) into
 * m[KGE_LINK_NMENTION]: 1 when a's whole title occurs contiguously in b's
 * body (b's text mentions a: a is likely a prerequisite of b, as in RefD),
 * the longest contiguous run of a's title tokens found in b's body over the
 * title's length, and the same two for b's title in a's body (evidence for
 * the reverse). Titles over 64 tokens count their first 64; empty titles
 * and bodies give 0. O(|title a| · |body b| + |title b| · |body a|). */
#define KGE_LINK_NMENTION 4
void kge_link_text_pair(const kge_link_text *t, uint32_t a, uint32_t b, float *m);

/* Metrics of one step, for progress bars and logs. */
typedef struct kge_link_metrics {
    int64_t step;            /* steps done after this one */
    float   loss;            /* training loss of the step */
    float   lr;              /* encoder lr used */
    float   grad_norm;       /* before clipping */
    float   val_loss;        /* NaN when not evaluated at this step */
    int     stopped_early;   /* 1 when patience ran out at this step */
} kge_link_metrics;

/* Returns non-zero to stop training after this step. */
typedef int (*kge_link_cb)(void *ctx, const kge_link_metrics *m);

typedef struct kge_link_model kge_link_model;

/* A model over bert (ownership passes to the model, also on failure) with
 * freshly initialised graph attention, decoder (and adapters in LoRA mode).
 * Errors: KGE_EUSAGE (bad options, named), KGE_ENOMEM. */
int kge_link_new(kge_bert *bert, const kge_link_opts *opts, kge_link_model **out, kge_err *err);
void kge_link_free(kge_link_model *lm);

/* Runs steps until lm's step counter reaches until (clamped to
 * opts.steps), or the callback or early stopping ends it. Uses d's edges
 * minus the validation split, and d's explicit negatives. Errors:
 * KGE_EUSAGE (no edges, too few concepts, T over the model's positions,
 * an endpoint of an edge or negative out of range), KGE_ENOMEM. Cost per step: a forward and backward pass of the encoder
 * over all n·T tokens (none in head mode), O(E + batch) for the graph. */
int kge_link_train(kge_link_model *lm, const kge_link_data *d, int64_t until, kge_link_cb cb, void *ctx,
                   kge_err *err);

/* The validation split kge_link_train uses for E edges (from the seed and
 * opts.val_frac alone): is_val[e] = 1 for a held-out edge. Returns KGE_OK
 * or KGE_ENOMEM. O(E). */
int kge_link_val_split(const kge_link_model *lm, size_t E, uint8_t *is_val);

/* Steps done so far. */
int64_t kge_link_step(const kge_link_model *lm);
/* The best validation loss so far (kept in checkpoints); NaN: none yet. */
float kge_link_best_val(const kge_link_model *lm);
/* The options the model was made (or loaded) with. */
const kge_link_opts *kge_link_options(const kge_link_model *lm);
/* The encoder (base weights; in LoRA mode the adapters are not merged). */
kge_bert *kge_link_bert(kge_link_model *lm);

/* Probabilities out[p] that pairs[2p] is a prerequisite of pairs[2p+1],
 * with every edge of d in the message-passing graph. Deterministic.
 * Errors: KGE_EUSAGE (index out of range), KGE_ENOMEM. */
int kge_link_score(kge_link_model *lm, const kge_link_data *d, const uint32_t *pairs, size_t np, float *out,
                   kge_err *err);

/* Graph-contextual embeddings z (n, C) of d's concepts: kge_link_encode
 * then kge_link_embed_from. Errors: as kge_link_encode, KGE_ENOMEM. */
int kge_link_embed(kge_link_model *lm, const kge_link_data *d, float *z, kge_err *err);

/* The encoder's part alone: z0 (n, C), each concept's text through BERT and
 * mean pooling (full text, no dropout). It depends on d's texts and the
 * encoder's weights, never on d's edges, so a caller that scores the same
 * concepts under several edge sets (edges left out in groups, folds) encodes
 * once and calls kge_link_embed_from per edge set, with results identical to
 * kge_link_embed bit for bit. Errors: KGE_EUSAGE (fewer than two concepts,
 * T over the model's positions, an endpoint out of range), KGE_ENOMEM.
 * Cost: one encoder pass over n·T tokens. */
int kge_link_encode(kge_link_model *lm, const kge_link_data *d, float *z0, kge_err *err);

/* Graph attention over d's edges (both directions) from z0 of
 * kge_link_encode (same d->n) into z (n, C); also keeps d's edge structure
 * in the model for the next kge_link_decode. d's texts are not read.
 * Errors: KGE_EUSAGE (as kge_link_encode), KGE_ENOMEM.
 * Cost: O(E · C · heads + n · C²), no encoder pass. */
int kge_link_embed_from(kge_link_model *lm, const kge_link_data *d, const float *z0, float *z, kge_err *err);

/* Probabilities out[p] for pairs (np, 2) of rows of z (n, C) from
 * kge_link_embed: the decoder alone, O(np · width · C). The structural
 * features come from the edges of the model's latest kge_link_embed or
 * kge_link_embed_from (so z and φ see the same graph); the caller checks
 * the indices. Errors: KGE_EUSAGE (a structural model that has not
 * embedded yet, or a pair outside that edge set's concepts), KGE_ENOMEM. */
int kge_link_decode(kge_link_model *lm, const float *z, const uint32_t *pairs, size_t np, float *out, kge_err *err);

/* Logits out[p] of the decoder (log-odds before any calibration) for the
 * pairs, as kge_link_decode. */
int kge_link_decode_logits(kge_link_model *lm, const float *z, const uint32_t *pairs, size_t np, float *out,
                           kge_err *err);

/* Platt scaling of the decoder's logit s (on 1): kge_link_decode and
 * kge_link_score then return 1 / (1 + exp(a·s + b)) instead of the plain
 * sigmoid; saved in the checkpoint's manifest ("calibration"). on 0:
 * none (a fresh model, and checkpoints written before it). */
void kge_link_set_calibration(kge_link_model *lm, int on, float a, float b);
/* The share of prerequisites the calibrated probabilities hold for: a, b
 * are fitted with both classes weighted equally (0.5); the prior π moves
 * every calibrated log-odds by ln(π / (1 − π)), so kge_link_decode and
 * kge_link_score return probabilities for a set of pairs of which a share
 * π are prerequisites. Saved with the calibration ("prior"); outside (0, 1)
 * means 0.5, and kge_link_set_calibration resets it to 0.5. */
void  kge_link_set_prior(kge_link_model *lm, float prior);
/* Stacked head: the calibrated log-odds become -(a·s + c·u + b), u the
 * log-odds of the structural logistic regression (kge_prereq_baselines)
 * of the pair on the graph scored against; a, b, c fitted together on
 * out-of-fold pairs. kge_link_decode and kge_link_score know no graph
 * features and keep -(a·s + b); the caller that has u (kgp_score_pairs)
 * combines them. Saved with the calibration ("structural"; absent: 0);
 * 0 means none, and kge_link_set_calibration resets it. */
void  kge_link_set_stack(kge_link_model *lm, float c);
float kge_link_stack(const kge_link_model *lm);
/* 1: the stacked head's regression (u) reads the title-word features
 * (kge_title_pair_feats) after the structural ones; saved with the
 * calibration ("titles": 1; absent: 0, the structural features alone, as
 * checkpoints written before). Set after kge_link_set_stack. */
void  kge_link_set_stack_titles(kge_link_model *lm, int on);
int   kge_link_stack_titles(const kge_link_model *lm);
/* The version of the stacked head's pair regression (u): 1, the
 * structural (and, with kge_link_stack_titles, title-word) features at L2
 * KGE_LOGREG_LAMBDA, as checkpoints written before; 2, the neighbourhood
 * features (kge_neighbour_pair_feats) after those, at L2
 * KGE_STACK_LAMBDA. Saved with the calibration ("regression": 2; absent:
 * 1); anything else set is 1. Set after kge_link_set_stack; 1 for a model
 * without a stacked head. */
#define KGE_STACK_REGRESSION 2
#define KGE_STACK_LAMBDA 1.0
void  kge_link_set_stack_regression(kge_link_model *lm, int version);
int   kge_link_stack_regression(const kge_link_model *lm);
/* 1: the stacked head's regression (u) learns from negatives drawn from
 * the graph scored against (kge_graph_negatives, seeded with the
 * options' seed), not from the designers' rejections: the model was
 * trained on a graph that had none. Saved with the calibration
 * ("negatives": "graph"; absent or "rejections": 0). Set after
 * kge_link_set_stack. */
void  kge_link_set_stack_graph_negatives(kge_link_model *lm, int on);
int   kge_link_stack_graph_negatives(const kge_link_model *lm);
float kge_link_prior(const kge_link_model *lm);
/* 1 and a, b when the model is calibrated, else 0. */
int  kge_link_calibration(const kge_link_model *lm, float *a, float *b);

/* Hidden size C of the embeddings. */
int kge_link_dim(const kge_link_model *lm);

/* Writes a checkpoint folder as a whole (kge_dir_stage / kge_dir_commit
 * of files.h): the new files beside dir, then switched in one rename, so
 * dir holds the previous checkpoint or the new one, never a mix, even
 * when the process is killed. dir must be missing or a kgpath folder.
 * Errors: KGE_EUSAGE (dir holds other files), KGE_EIO (naming the file),
 * KGE_ENOMEM; dir is then unchanged. */
int kge_link_save(const kge_link_model *lm, const char *dir, kge_err *err);

/* The caller's own file in a checkpoint (the API layer's record of the
 * graph it was trained on), read back with the checkpoint's other files. */
#define KGE_LINK_EXTRA "kgpath_graph.json"
/* kge_link_save plus KGE_LINK_EXTRA holding extra (NULL: none), written in
 * the same switch. Errors: as kge_link_save. */
int kge_link_save_with(const kge_link_model *lm, const char *dir, const char *extra, kge_err *err);

/* What training computed for scoring, kept in the checkpoint
 * (KGE_LINK_FIT) so that scoring on unchanged data need not compute it
 * again: the concepts' encodings z0 (kge_link_encode: (n, C), or NULL) and
 * a fitted pair regression (has_reg: the stacked head's, reg). key: the
 * caller's fingerprint of the data both were computed from (the API
 * layer's graph fingerprint); the caller uses them only where its data
 * still has that key. Safetensors: "concepts.z0" F32 (n, C), and
 * "regression.mu", "regression.sd" F64 (F), "regression.w" F64 (F + 1),
 * metadata "format" KGE_LINK_FIT_FORMAT, "key", "kgpath_step". */
#define KGE_LINK_FIT "kgpath_fit.safetensors"
#define KGE_LINK_FIT_FORMAT "kgpath-fit-1"
typedef struct kge_link_fit {
    char key[64];
    size_t n, C;
    float *z0;
    int has_reg;
    kge_pair_fit reg;
} kge_link_fit;

/* kge_link_save_with plus KGE_LINK_FIT from fit (NULL: none), in the same
 * switch. Errors: as kge_link_save; KGE_EUSAGE for a key over 63 bytes. */
int kge_link_save_fit(const kge_link_model *lm, const char *dir, const char *extra, const kge_link_fit *fit,
                      kge_err *err);

/* Reads dir's KGE_LINK_FIT (written with lm's checkpoint) into *fit
 * (kge_link_fit_free it). Errors: KGE_ENOTFOUND (none: a checkpoint
 * written before it, or without anything to keep), KGE_EINPUT (naming the
 * file: truncated, malformed, another format, a step that disagrees with
 * the manifest, shapes that do not fit lm, values not finite), KGE_EIO,
 * KGE_ENOMEM; *fit is then empty. O(n · C). */
int kge_link_fit_load(const kge_link_model *lm, const char *dir, kge_link_fit *fit, kge_err *err);
void kge_link_fit_free(kge_link_fit *fit);

/* Removes checkpoint folder dir (missing: nothing to do): its manifest
 * first, so a kill midway leaves no folder that loads. Refused when dir
 * holds a name a checkpoint does not (KGE_EUSAGE, named). Errors: KGE_EIO.
 * O(files). */
int kge_link_remove(const char *dir, kge_err *err);

/* Reads a checkpoint folder written by kge_link_save.
 * Errors: KGE_ENOTFOUND (missing file, named), KGE_EINPUT (malformed or
 * inconsistent: bad manifest, shapes, a step that disagrees with the
 * manifest), KGE_EIO, KGE_ENOMEM. */
int kge_link_load(const char *dir, kge_link_model **out, kge_err *err);

#endif
