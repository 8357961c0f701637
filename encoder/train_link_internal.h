/* Internals of the link-prediction model shared by train_link.c (model,
 * training, scoring) and train_link_io.c (checkpoints). Not installed. */
#ifndef KGE_TRAIN_LINK_INTERNAL_H
#define KGE_TRAIN_LINK_INTERNAL_H

#include "encoder/dropout.h"
#include "encoder/train_bert.h"
#include "encoder/train_graph_attention.h"
#include "encoder/train_link.h"

/* Rows of the edge-type embedding (every kge_edge_type). */
#define KGE_LINK_NTYPES ((size_t)KGE_EDGE_NUM_TYPES)

/* Structural pair features per scored pair (opts.structural), and the
 * transitive ones that follow them (opts.transitive). */
#define KGE_LINK_NSTRUCT 8
#define KGE_LINK_NTRANS 6

/* The structure of one directed edge set (a → b: a is a prerequisite of b),
 * for the decoder's pair features: sorted, duplicate-free successor,
 * predecessor and undirected-neighbour lists (CSR), self-loops left out. */
typedef struct kge_link_sx {
    size_t    n;
    uint32_t *out_ptr, *out;
    uint32_t *in_ptr, *in;
    uint32_t *nb_ptr, *nb;
    /* transitive features: descendant and ancestor counts (-1: not yet
     * counted), and the distances from the latest source searched forward
     * (dist_f, from src_f) and backward (dist_r, to src_r; 0xffff: none),
     * so that pairs grouped by their first concept cost one search each */
    int32_t  *desc, *anc;
    uint16_t *dist_f, *dist_r;
    uint32_t  src_f, src_r;
    uint32_t *queue;
    uint8_t  *seen;
} kge_link_sx;

/* Builds sx (freed first) from the edges k with keep[k] (NULL: all).
 * Errors: KGE_ENOMEM (sx left empty). O(E log E + n). */
int  kge_link_sx_build(kge_link_sx *sx, size_t n, size_t E, const uint32_t *src, const uint32_t *dst,
                       const uint8_t *keep, kge_err *err);
void kge_link_sx_free(kge_link_sx *sx);
/* phi[KGE_LINK_NSTRUCT] of the ordered pair (a, b), a and b < sx->n:
 * log(1+x) of a's successors, a's predecessors, b's successors, b's
 * predecessors; the reverse edge b → a (0/1); log(1+x) of the two-hop
 * paths a → x → b, of the common undirected neighbours, and of their
 * Adamic-Adar sum. O(deg a + deg b + log deg b). */
void kge_link_sx_pair(const kge_link_sx *sx, uint32_t a, uint32_t b, float *phi);
/* phi[KGE_LINK_NTRANS] of the ordered pair (a, b): log(1+x) of a's
 * descendants (how many concepts a already precedes, transitively), a's
 * ancestors, b's descendants and b's ancestors, then 1 / the length of the
 * shortest path a → b and of b → a (0: none). Counts are cached in sx and
 * the searches from a are reused while a stays the same. O(n + E) per new
 * a, amortised O(1) otherwise. */
void kge_link_sx_trans(kge_link_sx *sx, uint32_t a, uint32_t b, float *phi);

/* dst = a copy of src (NULL: dst emptied), so that scoring after an embed
 * does not depend on the caller's arrays. Errors: KGE_ENOMEM (dst left
 * empty). O(total tokens). */
int kge_link_text_copy(kge_link_text *dst, const kge_link_text *src, kge_err *err);

struct kge_link_model {
    kge_link_opts o;         /* with defaults filled */
    int       C, H, D;       /* hidden, decoder width, edge-type dim */
    int       S;             /* pair features φ: the structural ones (KGE_LINK_NSTRUCT when
                                opts.structural), then the mention ones (KGE_LINK_NMENTION
                                when opts.mention) */
    int       SX;            /* of which structural (0, KGE_LINK_NSTRUCT, or with opts.transitive
                                KGE_LINK_NSTRUCT + KGE_LINK_NTRANS) */
    kge_bert *bert;          /* the encoder (base weights in LoRA mode) */
    kge_bert *work;          /* LoRA: base with the adapters merged; else NULL */
    kge_bert *gbert;         /* encoder gradients (NULL in head mode) */
    kge_lora  lora, glora;   /* LoRA mode */
    kge_tconv conv, gconv;   /* graph attention and its gradients */
    float    *head, *ghead;  /* edge-type embedding + decoder, and gradients */
    size_t    nhead;
    kge_adamw opt;           /* state over kge_link_blocks() in order */
    kge_rng   rng;           /* sampling stream (saved in checkpoints) */
    int64_t   step;
    int       calibrated;    /* Platt scaling of the decoder's logit (kge_link_set_calibration) */
    float     cal_a, cal_b;
    float     cal_struct;    /* stacked head: weight c of the structural log-odds u (kge_link_set_stack; 0: none) */
    int       cal_titles;    /* 1: u's regression also reads the title-word features (kge_link_set_stack_titles) */
    int       cal_regression; /* u's version: 2 adds the neighbourhood features, L2 1 (kge_link_set_stack_regression) */
    int       cal_graphneg;  /* 1: u's regression learns from negatives drawn from the graph (kge_link_set_stack_graph_negatives) */
    float     cal_prior;     /* share of prerequisites the probabilities hold for (kge_link_set_prior; 0.5: as fitted) */
    float     best_val;      /* early stopping */
    int       bad_evals;
    /* scratch */
    kge_bert_acts  acts;
    kge_bert_bwd   bwd;
    kge_dropout_masks dm;
    kge_tconv_acts cacts;
    kge_tconv_bwd  cbwd;
    float         *z0cache;  /* (n, C) head mode / batched encoding */
    size_t         z0cache_n;      /* its rows */
    int            z0cache_saved;  /* 1: read from a checkpoint of an unfinished run (batched
                                      encoding): the next kge_link_train goes on with it rather
                                      than encoding afresh, as the uninterrupted run did (its
                                      rows are embeddings of earlier weights) */
    kge_link_sx    sx;       /* structure of the edges of the latest embedding (scoring) */
    kge_link_text  mt;       /* titles and bodies of the latest training or embedding (a copy;
                                n == 0: none, mention features 0) */
};

/* Views of a head block (parameters or gradients). */
typedef struct kge_link_head {
    float *temb;   // (NT, D) edge-type embedding
    float *w1;     // (H, 3C + S) decoder hidden layer
    float *b1;     // (H)
    float *w2;     // (H)  decoder output (1, H)
    float *b2;     // (1)
    float *ws;     // (S)  structural features straight to the score
} kge_link_head;

void   kge_link_head_ptrs(const kge_link_model *lm, float *block, kge_link_head *h);
/* Floats of the encoder proper (everything before the pooler). */
size_t kge_link_enc_span(const kge_link_model *lm);
/* Trainable blocks in optimiser order (at most 4): parameters, gradients,
 * lengths, and the learning rate each takes: 1 encoder (lr), 0 graph
 * attention and decoder (head_lr), 2 the structural weights ws (struct_lr;
 * the last S floats of the head block, so the optimiser layout is the
 * head block's either way). */
size_t kge_link_blocks(kge_link_model *lm, float **p, float **g, size_t *len, int *enc);

#endif
