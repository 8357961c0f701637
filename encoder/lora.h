/* LoRA adapters (Hugging Face peft semantics) on the attention query and
 * value projections of every BERT layer:
 *
 *   y = x·Wᵀ + b + scaling·(x·Aᵀ)·Bᵀ,  A (r, C), B (C, r), scaling = alpha/r
 *
 * The base model stays frozen. Training merges the adapters into a working
 * copy of the model (W' = W + scaling·B·A, exact up to float rounding),
 * runs the ordinary forward and a backward that computes only the q/k/v
 * weight gradients (KGE_BWD_QKV_ONLY), and maps dW' to the adapters:
 * dA = scaling·Bᵀ·dW', dB = scaling·dW'·Aᵀ. All adapters live in one
 * block (per layer: query A, query B, value A, value B), so the optimiser
 * and the gradient block work as for any other parameters. Saved files are
 * small (2·L·2·r·C floats) and use peft's tensor names.
 */
#ifndef KGE_LORA_H
#define KGE_LORA_H

#include <stddef.h>
#include <stdint.h>

#include "encoder/bert.h"
#include "encoder/kge_err.h"

typedef struct kge_lora {
    int    layers, hidden, rank;
    float  alpha, scaling;     /* scaling = alpha / rank */
    float *block;
    size_t nparams;            /* 4·layers·rank·hidden */
} kge_lora;

/* Which adapter tensor of a layer (kge_lora_tensor's k). */
enum { KGE_LORA_QA = 0, KGE_LORA_QB = 1, KGE_LORA_VA = 2, KGE_LORA_VB = 3 };

/* Zeroed adapters for a model of configuration cfg.
 * Errors: KGE_EUSAGE (rank < 1 or > hidden, alpha <= 0), KGE_ENOMEM. */
int  kge_lora_init(kge_lora *lo, const kge_bert_config *cfg, int rank, float alpha, kge_err *err);
void kge_lora_free(kge_lora *lo);

/* peft's initialisation: A uniform in ±1/√hidden (Kaiming, a = √5), B zero
 * (so the adapted model starts equal to the base). Deterministic. */
void kge_lora_init_random(kge_lora *lo, uint64_t seed);

/* Adapter k (KGE_LORA_*) of layer l: A is (rank, hidden), B (hidden, rank). */
float *kge_lora_tensor(const kge_lora *lo, int l, int k);

/* merged := base with W_q += scaling·B_q·A_q and W_v += scaling·B_v·A_v
 * per layer (every other parameter copied). merged must have base's
 * configuration. O(parameters + L·r·C²). */
void kge_lora_merge(const kge_lora *lo, const kge_bert *base, kge_bert *merged);

/* Adapter gradients from the q/k/v weight gradients of the merged model:
 * grads (shaped like lo) += … O(L·r·C²). */
void kge_lora_backward(const kge_lora *lo, const kge_bert *merged_grads, kge_lora *grads);

/* Reads adapters from a safetensors file with peft's names
 * ("[base_model.model.][bert.]encoder.layer.N.attention.self.{query,value}
 * .lora_{A,B}.weight"), checking each shape against lo.
 * Errors: KGE_ENOTFOUND (file or tensor, named), KGE_EINPUT, KGE_EIO. */
int kge_lora_load(kge_lora *lo, const char *path, kge_err *err);

/* Writes the adapters atomically to path with peft's names (prefix
 * "base_model.model.") and metadata format "pt", lora_rank, lora_alpha,
 * plus the nmeta extra key/value pairs of meta (may be NULL).
 * Errors: KGE_EIO, KGE_ENOMEM. */
int kge_lora_save(const kge_lora *lo, const char *path, const char *const *meta, size_t nmeta, kge_err *err);

#endif
