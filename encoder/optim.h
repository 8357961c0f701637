/* Optimisation: AdamW (bias-corrected moments, decoupled weight decay, as
 * torch.optim.AdamW), learning-rate schedules (linear warm-up, then
 * constant, linear or cosine decay) and gradient clipping by global norm.
 *
 * Parameters and gradients are flat float blocks (a model's block and its
 * gradient block laid out alike); the moments m and v are one block of the
 * same total length, so the update is one loop. A model whose trainable
 * parameters live in several blocks (encoder, graph attention, heads)
 * gives each block an offset into the optimiser's state.
 */
#ifndef KGE_OPTIM_H
#define KGE_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "encoder/kge_err.h"

typedef struct kge_adamw {
    float   beta1, beta2, eps, weight_decay;
    int64_t t;          /* steps taken (bias correction uses t after kge_adamw_begin) */
    size_t  n;          /* floats of state */
    float  *m, *v;      /* first and second moments (n each, one allocation) */
} kge_adamw;

/* State for n parameters, moments zero, t = 0; the torch defaults are
 * beta1 0.9, beta2 0.999, eps 1e-8, weight decay 0.01.
 * Errors: KGE_EUSAGE (betas outside [0,1), eps or decay negative),
 * KGE_ENOMEM. */
int  kge_adamw_init(kge_adamw *o, size_t n, float beta1, float beta2, float eps, float weight_decay,
                    kge_err *err);
void kge_adamw_free(kge_adamw *o);

/* Starts a step: t += 1. Call once per step, before the updates. */
void kge_adamw_begin(kge_adamw *o);

/* Updates params[0..len) from grads[0..len) with the state at
 * [offset, offset + len), learning rate lr and weight decay wd (pass
 * o->weight_decay, or 0 for parameters exempt from decay):
 *   p ← p − lr·wd·p;  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
 *   p ← p − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + eps)
 * Requires offset + len <= o->n and t >= 1. O(len). */
void kge_adamw_update(kge_adamw *o, float *params, const float *grads, size_t offset, size_t len,
                      float lr, float wd);

/* begin + update of the whole state over one block of o->n parameters. */
void kge_adamw_step(kge_adamw *o, float *params, const float *grads, float lr);

/* Learning-rate schedules. */
typedef enum kge_lr_decay { KGE_LR_CONSTANT, KGE_LR_LINEAR, KGE_LR_COSINE } kge_lr_decay;

typedef struct kge_lr_sched {
    float        peak;      /* lr after warm-up */
    float        floor;     /* lr at the end of the decay (>= 0) */
    int64_t      warmup;    /* steps of linear warm-up from 0 */
    int64_t      total;     /* steps in all (decay ends at total) */
    kge_lr_decay decay;
} kge_lr_sched;

/* The learning rate for step (0-based), as Hugging Face's
 * get_{linear,cosine}_schedule_with_warmup define it, lifted to floor:
 * step < warmup: peak·step/warmup (step 0 has lr 0 when warmup > 0); then
 * constant: peak; linear: floor + (peak−floor)·(total−step)/(total−warmup);
 * cosine: floor + (peak−floor)·½(1 + cos(π·progress)) with progress =
 * (step−warmup)/(total−warmup); from step total on: floor. O(1). */
float kge_lr_at(const kge_lr_sched *s, int64_t step);

/* Global L2 norm over nb gradient blocks (blocks[i] of lens[i] floats),
 * accumulated in double. O(total). */
double kge_grad_norm(float *const *blocks, const size_t *lens, size_t nb);

/* Clips by global norm as torch.nn.utils.clip_grad_norm_: when the norm
 * exceeds max_norm, every gradient is scaled by max_norm/(norm + 1e-6).
 * Returns the norm before clipping. max_norm <= 0 only measures.
 * O(total). */
double kge_clip_grad_norm(float *const *blocks, const size_t *lens, size_t nb, float max_norm);

#endif
