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

struct kge_link_model {
    kge_link_opts o;         /* with defaults filled */
    int       C, H, D;       /* hidden, decoder width, edge-type dim */
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
    float     best_val;      /* early stopping */
    int       bad_evals;
    /* scratch */
    kge_bert_acts  acts;
    kge_bert_bwd   bwd;
    kge_dropout_masks dm;
    kge_tconv_acts cacts;
    kge_tconv_bwd  cbwd;
    float         *z0cache;  /* (n, C) head mode / batched encoding */
};

/* Views of a head block (parameters or gradients). */
typedef struct kge_link_head {
    float *temb;   // (NT, D) edge-type embedding
    float *w1;     // (H, 3C) decoder hidden layer
    float *b1;     // (H)
    float *w2;     // (H)  decoder output (1, H)
    float *b2;     // (1)
} kge_link_head;

void   kge_link_head_ptrs(const kge_link_model *lm, float *block, kge_link_head *h);
/* Floats of the encoder proper (everything before the pooler). */
size_t kge_link_enc_span(const kge_link_model *lm);
/* Trainable blocks in optimiser order (at most 3): parameters, gradients,
 * lengths, and 1 for encoder-side blocks. */
size_t kge_link_blocks(kge_link_model *lm, float **p, float **g, size_t *len, int *enc);

#endif
