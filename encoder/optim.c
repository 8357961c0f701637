/* AdamW, schedules, clipping (see optim.h). */
#include "encoder/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int kge_adamw_init(kge_adamw *o, size_t n, float beta1, float beta2, float eps, float weight_decay,
                   kge_err *err)
{
    memset(o, 0, sizeof *o);
    if (!(beta1 >= 0.0f && beta1 < 1.0f) || !(beta2 >= 0.0f && beta2 < 1.0f))
        return kge_fail(err, KGE_EUSAGE, "AdamW betas must lie in [0, 1) (got %g, %g)", (double)beta1,
                        (double)beta2);
    if (!(eps >= 0.0f) || !(weight_decay >= 0.0f))
        return kge_fail(err, KGE_EUSAGE, "AdamW eps and weight decay must be non-negative");
    o->m = calloc(2 * (n ? n : 1), sizeof(float));
    if (!o->m) return kge_fail(err, KGE_ENOMEM, "out of memory for optimiser state (%zu parameters)", n);
    o->v = o->m + n;
    o->n = n;
    o->beta1 = beta1;
    o->beta2 = beta2;
    o->eps = eps;
    o->weight_decay = weight_decay;
    return KGE_OK;
}

void kge_adamw_free(kge_adamw *o)
{
    free(o->m);
    memset(o, 0, sizeof *o);
}

void kge_adamw_begin(kge_adamw *o)
{
    o->t++;
}

void kge_adamw_update(kge_adamw *o, float *params, const float *grads, size_t offset, size_t len,
                      float lr, float wd)
{
    float b1 = o->beta1, b2 = o->beta2, eps = o->eps;
    /* bias corrections in double: β2ᵗ stays accurate for long runs */
    float bc1 = (float)(1.0 - pow((double)b1, (double)o->t));
    float bc2s = (float)sqrt(1.0 - pow((double)b2, (double)o->t));
    float step = lr / bc1, decay = 1.0f - lr * wd;
    float *m = o->m + offset, *v = o->v + offset;
    for (size_t i = 0; i < len; i++) {
        float g = grads[i];
        float mi = m[i] = b1 * m[i] + (1.0f - b1) * g;
        float vi = v[i] = b2 * v[i] + (1.0f - b2) * g * g;
        /* torch: p·(1 − lr·wd), then p −= (lr/bc1)·m / (√v/√bc2 + eps) */
        params[i] = params[i] * decay - step * mi / (sqrtf(vi) / bc2s + eps);
    }
}

void kge_adamw_step(kge_adamw *o, float *params, const float *grads, float lr)
{
    kge_adamw_begin(o);
    kge_adamw_update(o, params, grads, 0, o->n, lr, o->weight_decay);
}

float kge_lr_at(const kge_lr_sched *s, int64_t step)
{
    if (step < 0) step = 0;
    if (s->warmup > 0 && step < s->warmup) return s->peak * (float)step / (float)s->warmup;
    if (s->decay == KGE_LR_CONSTANT) return s->peak;
    if (step >= s->total) return s->floor;
    double span = (double)(s->total - s->warmup), progress = span > 0 ? (double)(step - s->warmup) / span : 1.0;
    double f = s->decay == KGE_LR_LINEAR ? 1.0 - progress : 0.5 * (1.0 + cos(M_PI * progress));
    return (float)(s->floor + (s->peak - s->floor) * f);
}

double kge_grad_norm(float *const *blocks, const size_t *lens, size_t nb)
{
    double s = 0.0;
    for (size_t b = 0; b < nb; b++)
        for (size_t i = 0; i < lens[b]; i++) s += (double)blocks[b][i] * blocks[b][i];
    return sqrt(s);
}

double kge_clip_grad_norm(float *const *blocks, const size_t *lens, size_t nb, float max_norm)
{
    double norm = kge_grad_norm(blocks, lens, nb);
    if (max_norm > 0.0f && norm > max_norm) {
        float c = (float)(max_norm / (norm + 1e-6));
        for (size_t b = 0; b < nb; b++)
            for (size_t i = 0; i < lens[b]; i++) blocks[b][i] *= c;
    }
    return norm;
}
