/* Training graph attention: the backward pass of kge_tconv_forward
 * (PyG TransformerConv semantics, see graph_attention.h).
 *
 * Gradients live in a second kge_tconv of the same shape (kge_tconv_init
 * gives a zeroed block laid out like the parameters); the backward reads
 * the activations kge_tconv_acts kept (q, k, v, projected edge features,
 * attention weights) and accumulates (+=).
 */
#ifndef KGE_TRAIN_GRAPH_ATTENTION_H
#define KGE_TRAIN_GRAPH_ATTENTION_H

#include <stddef.h>

#include "encoder/graph_attention.h"
#include "encoder/kge_err.h"

/* Scratch for the backward pass, grown as needed. */
typedef struct kge_tconv_bwd {
    size_t cap;
    float *block;
} kge_tconv_bwd;
void kge_tconv_bwd_free(kge_tconv_bwd *w);

/* Given dy (N, HC), the gradient of the loss with respect to the output of
 * the last kge_tconv_forward(l, a, y, x, g, eattr) (same l, x, g, eattr):
 * grads (shaped like l; may be NULL to skip weight gradients) += d/dW;
 * dx (N, in) += d/dx when not NULL; deattr (E, edge_dim) += d/d eattr in
 * CSR order when not NULL (for a learned edge-type embedding).
 * Errors: KGE_EUSAGE (shape mismatch), KGE_ENOMEM.
 * Cost: O(N·in·HC + E·(edge_dim + 1)·HC). */
int kge_tconv_backward(const kge_tconv *l, kge_tconv *grads, const kge_tconv_acts *a, kge_tconv_bwd *w,
                       const float *dy, const float *x, const kge_csr *g, const float *eattr,
                       float *dx, float *deattr, kge_err *err);

#endif
