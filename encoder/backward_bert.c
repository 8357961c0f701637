/* BERT backward pass, MLM head loss, pair loss, initialisation (see
 * train_bert.h). */
#include "encoder/train_bert.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/dropout.h"
#include "encoder/kernels.h"
#include "encoder/train_kernels.h"
#include "encoder/train_rng.h"

int kge_train_grads_new(const kge_bert *m, kge_bert **grads, kge_err *err)
{
    int rc = kge_bert_create(&m->cfg, grads, err);
    if (rc) return rc;
    (*grads)->has_pooler = m->has_pooler;
    (*grads)->has_mlm = m->has_mlm;
    (*grads)->max_seq = m->max_seq;
    return KGE_OK;
}

void kge_train_grads_zero(kge_bert *grads)
{
    memset(grads->block, 0, grads->nparams * sizeof(float));
}

void kge_bert_bwd_free(kge_bert_bwd *w)
{
    free(w->block);
    memset(w, 0, sizeof *w);
}

static float *bwd_reserve(kge_bert_bwd *w, size_t n)
{
    if (n > w->cap) {
        float *nb = malloc(n * sizeof(float));
        if (!nb) return NULL;
        free(w->block);
        w->block = nb;
        w->cap = n;
    }
    return w->block;
}

int kge_bert_backward(const kge_bert *m, kge_bert *grads, const kge_bert_acts *a, kge_bert_bwd *w,
                      const kge_dropout_masks *dm, const float *dhidden, const int32_t *ids,
                      const int32_t *types, int what, kge_err *err)
{
    static const kge_dropout_masks none = {0};
    if (!dm) dm = &none;
    if (!a->keep_all || !a->block || a->B <= 0 || a->T <= 0)
        return kge_fail(err, KGE_EUSAGE, "backward needs a forward pass run with keep = 1");
    if (grads->nparams != m->nparams)
        return kge_fail(err, KGE_EUSAGE, "gradient block does not match the model");
    const kge_bert_config *c = &m->cfg;
    const kge_bert_params *p = &m->p;
    kge_bert_params *g = &grads->p;
    size_t B = (size_t)a->B, T = (size_t)a->T, BT = B * T, C = (size_t)c->hidden,
           I = (size_t)c->intermediate, NH = (size_t)c->heads, L = (size_t)c->layers;
    int all = what == KGE_BWD_ALL;
    /* scratch: dx, dres, dln1, datty (BT,C); dfch (BT,I); dqkv (BT,3C); dp (2,T,T) */
    float *s = bwd_reserve(w, 4 * BT * C + BT * I + 3 * BT * C + 2 * T * T);
    if (!s) return kge_fail(err, KGE_ENOMEM, "out of memory for the backward pass");
    float *dx = s, *dres = dx + BT * C, *dln1 = dres + BT * C, *datty = dln1 + BT * C,
          *dfch = datty + BT * C, *dqkv = dfch + BT * I, *dp = dqkv + 3 * BT * C;
    memcpy(dx, dhidden, BT * C * sizeof *dx);
    for (size_t l = L; l-- > 0;) {
        size_t o = l * BT;
        // ln2 (BT,C) = LN(res2): dres = d res2
        memset(dres, 0, BT * C * sizeof *dres);
        kge_layernorm_backward(dres, all ? g->ln2w + l * C : NULL, all ? g->ln2b + l * C : NULL, dx,
                               a->res2 + o * C, p->ln2w + l * C, a->ln2_mean + o, a->ln2_rstd + o, BT, C);
        // res2 = ln1 + drop(gelu(fch) (BT,I) · W2 (C,I)ᵀ + b2) ; fch = ln1 · W1 (I,C)ᵀ + b1
        memcpy(dln1, dres, BT * C * sizeof *dln1);
        if (dm->ffn)
            for (size_t i = 0; i < BT * C; i++) dres[i] *= dm->ffn[o * C + i];
        memset(dfch, 0, BT * I * sizeof *dfch);
        kge_matmul_backward(dfch, all ? g->fcprojw + l * C * I : NULL, all ? g->fcprojb + l * C : NULL, dres,
                            a->fch_gelu + o * I, p->fcprojw + l * C * I, BT, I, C);
        kge_gelu_backward(dfch, a->fch + o * I, dfch, BT * I);
        kge_matmul_backward(dln1, all ? g->fcw + l * I * C : NULL, all ? g->fcb + l * I : NULL, dfch,
                            a->ln1 + o * C, p->fcw + l * I * C, BT, C, I);
        // ln1 (BT,C) = LN(res1): dres = d res1
        memset(dres, 0, BT * C * sizeof *dres);
        kge_layernorm_backward(dres, all ? g->ln1w + l * C : NULL, all ? g->ln1b + l * C : NULL, dln1,
                               a->res1 + o * C, p->ln1w + l * C, a->ln1_mean + o, a->ln1_rstd + o, BT, C);
        // res1 = x + drop(atty (BT,C) · Wo (C,C)ᵀ + bo): dx restarts as d x (residual)
        memcpy(dx, dres, BT * C * sizeof *dx);
        if (dm->attproj)
            for (size_t i = 0; i < BT * C; i++) dres[i] *= dm->attproj[o * C + i];
        memset(datty, 0, BT * C * sizeof *datty);
        kge_matmul_backward(datty, all ? g->attprojw + l * C * C : NULL, all ? g->attprojb + l * C : NULL,
                            dres, a->atty + o * C, p->attprojw + l * C * C, BT, C, C);
        // atty = attention(qkv) ; qkv (BT,3C) = x · Wqkv (3C,C)ᵀ + bqkv
        memset(dqkv, 0, 3 * BT * C * sizeof *dqkv);
        kge_attention_backward(dqkv, datty, a->qkv + o * 3 * C, a->att + l * B * NH * T * T,
                               dm->att ? dm->att + l * B * NH * T * T : NULL, dp, B, T, C, NH);
        const float *x = l ? a->ln2 + (l - 1) * BT * C : a->x0;
        int need_dx = all || l > 0;
        kge_matmul_backward(need_dx ? dx : NULL, g->qkvw + l * 3 * C * C, all ? g->qkvb + l * 3 * C : NULL,
                            dqkv, x, p->qkvw + l * 3 * C * C, BT, C, 3 * C);
    }
    if (!all) return KGE_OK;
    // x0 (BT,C) = drop(LN(emb)) ; emb = wte[ids] + wpe[t] + wtt[types]
    if (dm->emb)
        for (size_t i = 0; i < BT * C; i++) dx[i] *= dm->emb[i];
    memset(dres, 0, BT * C * sizeof *dres);
    kge_layernorm_backward(dres, g->embln_w, g->embln_b, dx, a->emb, p->embln_w, a->emb_mean, a->emb_rstd,
                           BT, C);
    kge_embedding_backward(g->wte, g->wpe, g->wtt, dres, ids, types, B, T, C);
    return KGE_OK;
}

int kge_mlm_loss(const kge_bert *m, kge_bert *grads, const float *rows, const int32_t *labels,
                 size_t n, float *drows, float *logits, float *loss, kge_err *err)
{
    if (!m->has_mlm) return kge_fail(err, KGE_EUSAGE, "the model has no masked-LM head");
    size_t C = (size_t)m->cfg.hidden, V = (size_t)m->cfg.vocab_size;
    for (size_t r = 0; r < n; r++)
        if (labels[r] >= (int32_t)V)
            return kge_fail(err, KGE_EUSAGE, "label %d of row %zu outside the vocabulary (%zu)", labels[r], r, V);
    float *s = malloc((4 * n * C + 2 * n + n * V + 1) * sizeof *s);
    if (!s) return kge_fail(err, KGE_ENOMEM, "out of memory for the MLM head");
    float *h = s, *gl = h + n * C, *u = gl + n * C, *dg = u + n * C, *mean = dg + n * C, *rstd = mean + n,
          *lg = rstd + n;
    const kge_bert_params *p = &m->p;
    // h (n,C) = rows · W (C,C)ᵀ + b ; gl = gelu(h) ; u = LN(gl) ; lg (n,V) = u · wte (V,C)ᵀ + bias
    kge_matmul_forward(h, rows, p->mlmw, p->mlmb, n, C, C);
    kge_gelu_forward(gl, h, n * C);
    kge_layernorm_forward(u, mean, rstd, gl, p->mlmlnw, p->mlmlnb, n, C, m->cfg.ln_eps);
    kge_matmul_forward(lg, u, p->wte, p->mlmbias, n, C, V);
    if (logits) memcpy(logits, lg, n * V * sizeof *lg);
    float l = kge_softmax_xent(grads ? lg : NULL, lg, labels, n, V);
    if (loss) *loss = l;
    if (grads) {
        kge_bert_params *g = &grads->p;
        float *du = h + 0;   /* h is dead after gelu; reuse it for d u */
        memset(du, 0, n * C * sizeof *du);
        kge_matmul_backward(du, g->wte, g->mlmbias, lg, u, p->wte, n, C, V);
        memset(dg, 0, n * C * sizeof *dg);
        kge_layernorm_backward(dg, g->mlmlnw, g->mlmlnb, du, gl, p->mlmlnw, mean, rstd, n, C);
        /* gelu's backward needs its input h, which du overwrote: recompute it */
        kge_matmul_forward(h, rows, p->mlmw, p->mlmb, n, C, C);
        kge_gelu_backward(dg, h, dg, n * C);
        kge_matmul_backward(drows, g->mlmw, g->mlmb, dg, rows, p->mlmw, n, C, C);
    }
    free(s);
    return KGE_OK;
}

float kge_pair_dot_bce(const float *z, float *dz, const int64_t *pairs, const float *labels,
                       size_t P, size_t C, float *logits)
{
    if (P == 0) return 0.0f;
    float *lg = malloc(2 * P * sizeof *lg);
    if (!lg) return NAN;
    float *dl = lg + P;
    for (size_t k = 0; k < P; k++) {
        const float *za = z + (size_t)pairs[2 * k] * C, *zb = z + (size_t)pairs[2 * k + 1] * C;
        float s = 0.0f;
        for (size_t i = 0; i < C; i++) s += za[i] * zb[i];
        lg[k] = s;
    }
    float loss = kge_bce_logits(dz ? dl : NULL, lg, labels, P, 1.0f);
    if (dz)
        for (size_t k = 0; k < P; k++) {
            size_t a = (size_t)pairs[2 * k], b = (size_t)pairs[2 * k + 1];
            for (size_t i = 0; i < C; i++) {
                float za = z[a * C + i], zb = z[b * C + i];
                dz[a * C + i] += dl[k] * zb;
                dz[b * C + i] += dl[k] * za;
            }
        }
    if (logits) memcpy(logits, lg, P * sizeof *lg);
    free(lg);
    return loss;
}

static void fill_normal(kge_rng *r, float *x, size_t n, float std)
{
    for (size_t i = 0; i < n; i++) x[i] = std * kge_rng_normal(r);
}

static void fill_const(float *x, size_t n, float v)
{
    for (size_t i = 0; i < n; i++) x[i] = v;
}

void kge_bert_init_random(kge_bert *m, uint64_t seed, float std)
{
    if (!(std > 0.0f)) std = 0.02f;
    const kge_bert_config *c = &m->cfg;
    kge_bert_params *p = &m->p;
    size_t V = (size_t)c->vocab_size, C = (size_t)c->hidden, L = (size_t)c->layers,
           I = (size_t)c->intermediate, P = (size_t)c->max_positions, TT = (size_t)c->type_vocab;
    kge_rng r;
    kge_rng_seed(&r, seed);
    memset(m->block, 0, m->nparams * sizeof(float));   /* every bias 0 */
    fill_normal(&r, p->wte, V * C, std);
    fill_normal(&r, p->wpe, P * C, std);
    fill_normal(&r, p->wtt, TT * C, std);
    fill_const(p->embln_w, C, 1.0f);
    fill_normal(&r, p->qkvw, L * 3 * C * C, std);
    fill_normal(&r, p->attprojw, L * C * C, std);
    fill_const(p->ln1w, L * C, 1.0f);
    fill_normal(&r, p->fcw, L * I * C, std);
    fill_normal(&r, p->fcprojw, L * C * I, std);
    fill_const(p->ln2w, L * C, 1.0f);
    fill_normal(&r, p->poolw, C * C, std);
    fill_normal(&r, p->mlmw, C * C, std);
    fill_const(p->mlmlnw, C, 1.0f);
    m->has_pooler = 1;
    m->has_mlm = 1;
}

void kge_bert_add_mlm_head(kge_bert *m, uint64_t seed)
{
    if (m->has_mlm) return;
    size_t C = (size_t)m->cfg.hidden;
    kge_rng r;
    kge_rng_seed(&r, seed);
    fill_normal(&r, m->p.mlmw, C * C, 0.02f);
    memset(m->p.mlmb, 0, C * sizeof(float));
    fill_const(m->p.mlmlnw, C, 1.0f);
    memset(m->p.mlmlnb, 0, C * sizeof(float));
    memset(m->p.mlmbias, 0, (size_t)m->cfg.vocab_size * sizeof(float));
    m->has_mlm = 1;
}
