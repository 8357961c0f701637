/* Graph attention over a concept's incoming neighbourhood, with the
 * semantics of PyTorch Geometric's TransformerConv(in, out, heads,
 * concat=True, beta=False, edge_dim, root_weight=True):
 *
 *   q_i = Wq x_i + bq,  k_j = Wk x_j + bk,  v_j = Wv x_j + bv,
 *   e'_ji = We e_ji (no bias);  per head h (out channels each):
 *   a_ij = softmax over the incoming edges j→i of q_i·(k_j + e'_ji)/√out
 *   y_i  = Ws x_i + bs + concat_h Σ_j a_ij (v_j + e'_ji)
 *
 * A node with no incoming edge gets only the skip term. The graph is a CSR
 * list of incoming edges (no padding); the softmax of each node subtracts
 * its maximum. Parameters are one float block; activations are kept for a
 * backward pass.
 */
#ifndef KGE_GRAPH_ATTENTION_H
#define KGE_GRAPH_ATTENTION_H

#include <stddef.h>
#include <stdint.h>

#include "encoder/kge_err.h"
#include "encoder/safetensors.h"

/* Edge types of the kgpath concept graph (index into a type embedding). */
typedef enum kge_edge_type {
    KGE_EDGE_PREREQUISITE_OF = 0,  /* j is a prerequisite of i */
    KGE_EDGE_REQUIRED_BY     = 1,  /* j requires i (reverse direction) */
    KGE_EDGE_RECOMMENDED     = 2,  /* j is recommended before i */
    KGE_EDGE_SAME_UNIT       = 3,  /* j and i belong to the same unit */
    KGE_EDGE_NUM_TYPES       = 4
} kge_edge_type;

/* Incoming edges in CSR form: the edges into node i are
 * src[row_ptr[i] .. row_ptr[i+1]), row_ptr has n+1 entries. */
typedef struct kge_csr {
    size_t          n;        /* nodes */
    const uint32_t *row_ptr;  /* (n+1) */
    const uint32_t *src;      /* (E) source node of each edge */
} kge_csr;

/* Builds the incoming CSR of E edges src[e] → dst[e] over n nodes.
 * row_ptr (n+1), csr_src (E) and perm (E; may be NULL: csr position →
 * original edge index, stable) are caller-allocated.
 * Errors: KGE_EUSAGE for an endpoint >= n (named). O(n + E). */
int kge_csr_from_edges(size_t n, size_t E, const uint32_t *src, const uint32_t *dst,
                       uint32_t *row_ptr, uint32_t *csr_src, uint32_t *perm, kge_err *err);

typedef struct kge_tconv {
    int    in, out, heads, edge_dim;   /* HC = heads·out output channels */
    float *block;
    size_t nparams;
    float *wq, *bq;   // (HC, in), (HC)  lin_query
    float *wk, *bk;   // (HC, in), (HC)  lin_key
    float *wv, *bv;   // (HC, in), (HC)  lin_value
    float *we;        // (HC, edge_dim)  lin_edge, no bias (NULL when edge_dim 0)
    float *ws, *bs;   // (HC, in), (HC)  lin_skip
} kge_tconv;

/* Allocates a layer with zero parameters. Errors: KGE_EUSAGE, KGE_ENOMEM. */
int  kge_tconv_init(kge_tconv *l, int in, int out, int heads, int edge_dim, kge_err *err);
void kge_tconv_free(kge_tconv *l);

/* Loads lin_{query,key,value,skip}.{weight,bias} and lin_edge.weight
 * (PyG names, after prefix) from st, checking every shape.
 * Errors: KGE_ENOTFOUND / KGE_EINPUT naming the tensor. */
int kge_tconv_load(kge_tconv *l, const kge_st *st, const char *prefix, kge_err *err);

/* Activations of one forward pass (grown as needed). */
typedef struct kge_tconv_acts {
    size_t cap;
    float *block;
    float *q, *k, *v;  // (N, HC)
    float *ep;         // (E, HC) projected edge features (CSR order)
    float *alpha;      // (E, heads) attention weights (CSR order)
} kge_tconv_acts;
void kge_tconv_acts_free(kge_tconv_acts *a);

/* y (N, HC) from x (N, in) over g, with edge features eattr (E, edge_dim)
 * in CSR order (NULL when edge_dim is 0).
 * Errors: KGE_EUSAGE (a source node out of range), KGE_ENOMEM.
 * Cost: O(N·in·HC + E·(edge_dim + 1)·HC). */
int kge_tconv_forward(const kge_tconv *l, kge_tconv_acts *a, float *y, const float *x,
                      const kge_csr *g, const float *eattr, kge_err *err);

#endif
