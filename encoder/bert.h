/* A BERT encoder as Hugging Face's BertModel defines it (post-LN layers,
 * exact GELU, absolute positions), with the pooler and the masked-LM head.
 *
 * Parameters live in ONE float block; kge_bert_params holds pointers into
 * it (llm.c style), tensors of the N layers stacked along a leading L axis.
 * Query, key and value are stacked into one (3C, C) matrix per layer so
 * one sgemm projects all three; each of them is still a contiguous slice,
 * so every Hugging Face tensor maps to one pointer (kge_bert_tensors()).
 * Activations live in a kge_bert_acts block: every layer's intermediates
 * when kept for a backward pass, or one layer's reused in place for
 * inference.
 */
#ifndef KGE_BERT_H
#define KGE_BERT_H

#include <stddef.h>
#include <stdint.h>

#include "encoder/kge_err.h"
#include "encoder/tokenizer.h"

typedef struct kge_bert_config {
    int   vocab_size;      /* V */
    int   hidden;          /* C */
    int   layers;          /* L */
    int   heads;           /* NH, divides C */
    int   intermediate;    /* I */
    int   max_positions;   /* P */
    int   type_vocab;      /* TT */
    float ln_eps;          /* layer_norm_eps */
} kge_bert_config;

typedef struct kge_bert_params {
    float *wte;              // (V, C) word embeddings (also the MLM decoder)
    float *wpe;              // (P, C) position embeddings
    float *wtt;              // (TT, C) token-type embeddings
    float *embln_w, *embln_b;// (C) embedding LayerNorm
    float *qkvw;             // (L, 3C, C) query; key; value
    float *qkvb;             // (L, 3C)
    float *attprojw;         // (L, C, C) attention.output.dense
    float *attprojb;         // (L, C)
    float *ln1w, *ln1b;      // (L, C) attention.output.LayerNorm
    float *fcw;              // (L, I, C) intermediate.dense
    float *fcb;              // (L, I)
    float *fcprojw;          // (L, C, I) output.dense
    float *fcprojb;          // (L, C)
    float *ln2w, *ln2b;      // (L, C) output.LayerNorm
    float *poolw;            // (C, C) pooler.dense
    float *poolb;            // (C)
    float *mlmw;             // (C, C) cls.predictions.transform.dense
    float *mlmb;             // (C)
    float *mlmlnw, *mlmlnb;  // (C) cls.predictions.transform.LayerNorm
    float *mlmbias;          // (V) cls.predictions.bias
} kge_bert_params;

#define KGE_BERT_NUM_PARAMS 26

typedef struct kge_bert {
    kge_bert_config cfg;
    kge_bert_params p;
    float  *block;           /* all parameters */
    size_t  nparams;         /* floats in block */
    int     has_pooler;      /* pooler.* present in the checkpoint */
    int     has_mlm;         /* cls.predictions.* present */
    kge_vocab    *vocab;     /* NULL when built without a folder */
    kge_tokenizer tok;
    int     max_seq;         /* longest input the model accepts (≤ P) */
    /* The layers' dense weights packed for kge_gemm_packed (kge_bert_pack),
     * or NULL: one block, and per matrix its first layer (layer l at
     * l·kge_gemm_packed_floats of that matrix). */
    float  *packed;
    float  *pk_qkv, *pk_attproj, *pk_fc, *pk_fcproj;
} kge_bert;

/* One Hugging Face tensor and where it lives in the block. */
typedef struct kge_bert_tensor {
    char     name[96];       /* e.g. "encoder.layer.0.attention.self.query.weight" */
    float   *data;
    int      ndim;
    int64_t  shape[2];
    int      group;          /* 0 encoder (required), 1 pooler, 2 MLM head */
} kge_bert_tensor;

/* Allocates a model of the given shape with all parameters zero (for
 * tests, benchmarks and training from scratch); no vocabulary.
 * Errors: KGE_EUSAGE (bad shape), KGE_ENOMEM. */
int kge_bert_create(const kge_bert_config *cfg, kge_bert **out, kge_err *err);

/* Loads a Hugging Face BERT folder: config.json, vocab.txt and
 * model.safetensors (names with or without the "bert." prefix; F32, F16 or
 * BF16; extra tensors ignored; pooler and MLM head optional). Reads
 * do_lower_case from tokenizer_config.json and max_seq_length from
 * sentence_bert_config.json when present.
 * Errors: KGE_ENOTFOUND (missing file or tensor, named), KGE_EINPUT
 * (unsupported config, mis-shaped tensor, named), KGE_EIO, KGE_ENOMEM.
 * Cost: O(parameters). */
int kge_bert_load(const char *dir, kge_bert **out, kge_err *err);

/* Loads only the weights of model.safetensors at path into an existing model. */
int kge_bert_load_weights(kge_bert *m, const char *path, kge_err *err);

void kge_bert_free(kge_bert *m);

/* Packs the encoder layers' dense weights (query/key/value, attention
 * output, FFN up and down) once into the layout of the inference GEMM
 * (encoder/gemm.h), so forward passes without keep (inference: the
 * kgpath embed path) no longer pay OpenBLAS's copy of every weight matrix
 * on every call. A snapshot: whoever changes the weights afterwards
 * (training, LoRA merges, kge_bert_load_weights — which unpacks) must call
 * kge_bert_pack again or kge_bert_unpack, or the forward pass uses the old
 * weights; training code never packs. Does nothing (returns 0, packed stays
 * NULL) on CPUs without AVX-512 (kge_gemm_available): the forward pass
 * uses cblas_sgemm.
 * Memory: about the size of those weights again (42 MB for
 * all-MiniLM-L6-v2). Errors: KGE_ENOMEM. O(L·C·(C + I)). */
int kge_bert_pack(kge_bert *m, kge_err *err);
/* Frees the packed weights; forward passes use cblas_sgemm again. */
void kge_bert_unpack(kge_bert *m);

/* The Hugging Face tensors of m (without prefix) in a fixed order; out
 * holds KGE_BERT_MAX_TENSORS(L) entries. Returns the count. O(L). */
#define KGE_BERT_MAX_TENSORS(L) (5 + 16 * (size_t)(L) + 7)
size_t kge_bert_tensors(const kge_bert *m, kge_bert_tensor *out);

/* Activations of one forward pass over B sequences of T positions. */
typedef struct kge_bert_acts {
    int     B, T;            /* shape of the last forward */
    int     keep_all;        /* 1: every layer kept (training); 0: one layer reused */
    size_t  cap;             /* floats allocated in block */
    float  *block;
    float  *emb;             // (B,T,C) embedding sum (embedding LN input)
    float  *emb_mean, *emb_rstd; // (B,T)
    float  *x0;              // (B,T,C) layer-0 input
    float  *qkv;             // (LK,B,T,3C)   LK = L when keep, else 1
    float  *att;             // (L,B,NH,T,T) attention probabilities with keep; without,
                             // per-thread scratch (kge_attention_head_infer)
    float  *atty;            // (LK,B,T,C) heads concatenated
    float  *res1;            // (LK,B,T,C) x + attention output (LN1 input)
    float  *ln1_mean, *ln1_rstd; // (LK,B,T)
    float  *ln1;             // (LK,B,T,C)
    float  *fch;             // (LK,B,T,I) pre-GELU
    float  *fch_gelu;        // (LK,B,T,I) (= fch without keep: GELU in place)
    float  *res2;            // (LK,B,T,C) ln1 + FFN output (LN2 input)
    float  *ln2_mean, *ln2_rstd; // (LK,B,T)
    float  *ln2;             // (LK,B,T,C) layer output
    float  *hidden;          /* (B,T,C) last_hidden_state (points into ln2) */
    float  *keep;            // (B,T) mask as 1.0 / 0.0
    int     threads;         /* 0: kge_default_threads() at first use */
    struct kge_pool *pool;   /* created at first use */
} kge_bert_acts;

/* Frees the activations and the thread pool; *a is zeroed. */
void kge_bert_acts_free(kge_bert_acts *a);
/* Sets how many threads forward passes with a use (n >= 1; 0 restores the
 * default: $OPENBLAS_NUM_THREADS, else $OMP_NUM_THREADS, else the CPUs). */
void kge_bert_acts_set_threads(kge_bert_acts *a, int n);

/* Checks a batch of ids (B,T) and types (B,T) (NULL: all 0) against m:
 * B, T >= 1, T <= max_position_embeddings, ids in the vocabulary, types
 * below type_vocab_size. KGE_EUSAGE naming the first bad entry, else 0.
 * O(B·T). */
int kge_bert_check_batch(const kge_bert *m, const int32_t *ids, const int32_t *types, int B, int T, kge_err *err);

/* Lays out a's block for a batch (B,T), growing it when needed: every
 * layer's activations when keep, else one layer's (reused per layer), and
 * sets a->keep from mask (B,T) (NULL: all 1). -1 when out of memory. */
int kge_bert_acts_reserve(const kge_bert *m, kge_bert_acts *a, size_t B, size_t T, int keep, const uint8_t *mask);

/* Runs the encoder on ids (B,T) with token types (B,T) (NULL: all 0) and
 * mask (B,T) (1 token, 0 padding; NULL: all 1). Grows a as needed; keep
 * selects whether every layer's activations are kept. On return
 * a->hidden is last_hidden_state (B,T,C).
 * Work is split over a->threads threads (row blocks, and one task per
 * sequence and head in attention); OpenBLAS is set to one thread for the
 * duration (process-wide) and restored after, so no threads oversubscribe.
 * Results do not depend on the thread count.
 * Errors: KGE_EUSAGE (T over max_positions, id or type out of range, with
 * the position), KGE_ENOMEM. Cost: O(L·B·T·C·(C + I + T)). */
int kge_bert_forward(const kge_bert *m, kge_bert_acts *a, const int32_t *ids, const int32_t *types,
                     const uint8_t *mask, int B, int T, int keep, kge_err *err);

/* Runs the encoder for inference on nseq sequences packed end to end, no
 * padding: sequence s is ids[off[s] .. off[s+1]) (types likewise; NULL:
 * all 0), positions counted from 0 in each. The dense layers see all
 * off[nseq] tokens as one matrix, whatever the sentence boundaries;
 * attention runs per sequence. On return a->hidden is (off[nseq], C),
 * sequence s at rows off[s]..; nothing is kept for a backward pass.
 * A sequence's values equal kge_bert_forward's on it alone (padding adds
 * nothing: masked keys get probability 0) up to rounding.
 * Errors: KGE_EUSAGE (nseq 0, off[0] != 0, an empty sequence, one over
 * max_positions, id or type out of range, with the row), KGE_ENOMEM.
 * Cost: O(L·(N·C·(C + I) + Σ len²·C)), N = off[nseq]. */
int kge_bert_forward_packed(const kge_bert *m, kge_bert_acts *a, const int32_t *ids, const int32_t *types,
                            const size_t *off, size_t nseq, kge_err *err);

/* Batches for kge_bert_forward_packed bound their activation memory: at
 * most KGE_BERT_PACK_TOKENS tokens (or one longer sequence alone) and
 * KGE_BERT_PACK_SCORES attention probabilities per layer. */
#define KGE_BERT_PACK_TOKENS 4096
#define KGE_BERT_PACK_SCORES (8u << 20)

/* How many of the sequences of lengths len[0..n) (n >= 1, taken in that
 * order) one packed batch holds under those bounds: at least 1. A length
 * 0 counts as 1. O(result). */
size_t kge_bert_pack_take(const kge_bert *m, const size_t *len, size_t n);

/* out (B,C) = tanh(pooler(hidden[:,0])). Requires has_pooler. O(B·C²). */
void kge_bert_pooler_forward(const kge_bert *m, float *out, const float *hidden, int B, int T);

/* MLM logits for n rows of hidden states: out (n,V) =
 * LN(gelu(rows·Wᵀ + b))·wteᵀ + bias. scratch holds 2·n·C floats.
 * Requires has_mlm. O(n·C·(C + V)). */
void kge_bert_mlm_forward(const kge_bert *m, float *out, const float *rows, size_t n, float *scratch);

#endif
