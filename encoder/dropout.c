/* Dropout and the training forward pass (see dropout.h). */
#include "encoder/dropout.h"

#include <cblas.h>
#undef I /* <complex.h>, pulled in by some cblas.h, defines I; here I is a size */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/kernels.h"

void kge_dropout_masks_free(kge_dropout_masks *dm)
{
    free(dm->block);
    memset(dm, 0, sizeof *dm);
}

void kge_dropout_forward(float *x, float *mask, size_t n, float p, kge_rng *r)
{
    if (!(p > 0.0f)) {
        if (mask)
            for (size_t i = 0; i < n; i++) mask[i] = 1.0f;
        return;
    }
    float keep = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        float m = kge_rng_uniform(r) < p ? 0.0f : keep;
        x[i] *= m;
        if (mask) mask[i] = m;
    }
}

static int reserve_masks(kge_dropout_masks *dm, const kge_bert *m, size_t B, size_t T, const kge_dropout *d)
{
    size_t C = (size_t)m->cfg.hidden, NH = (size_t)m->cfg.heads, L = (size_t)m->cfg.layers, BT = B * T;
    size_t nh = d->p_hidden > 0.0f ? BT * C + 2 * L * BT * C : 0, na = d->p_attn > 0.0f ? L * B * NH * T * T : 0;
    if (nh + na > dm->cap) {
        float *nb = malloc((nh + na) * sizeof(float));
        if (!nb) return -1;
        free(dm->block);
        dm->block = nb;
        dm->cap = nh + na;
    }
    dm->emb = nh ? dm->block : NULL;
    dm->attproj = nh ? dm->block + BT * C : NULL;
    dm->ffn = nh ? dm->attproj + L * BT * C : NULL;
    dm->att = na ? dm->block + nh : NULL;
    return 0;
}

int kge_bert_forward_train(const kge_bert *m, kge_bert_acts *a, kge_dropout_masks *dm, const kge_dropout *d,
                           kge_rng *r, const int32_t *ids, const int32_t *types, const uint8_t *mask, int Bi,
                           int Ti, kge_err *err)
{
    const kge_bert_config *c = &m->cfg;
    const kge_bert_params *p = &m->p;
    if (!(d->p_hidden >= 0.0f && d->p_hidden < 1.0f) || !(d->p_attn >= 0.0f && d->p_attn < 1.0f))
        return kge_fail(err, KGE_EUSAGE, "dropout probabilities must lie in [0, 1)");
    int rc = kge_bert_check_batch(m, ids, types, Bi, Ti, err);
    if (rc) return rc;
    size_t B = (size_t)Bi, T = (size_t)Ti, BT = B * T, C = (size_t)c->hidden, I = (size_t)c->intermediate,
           NH = (size_t)c->heads, L = (size_t)c->layers, HS = C / NH, C3 = 3 * C;
    float *pd = malloc(T * T * sizeof *pd);
    if (!pd || kge_bert_acts_reserve(m, a, B, T, 1, mask) || reserve_masks(dm, m, B, T, d)) {
        free(pd);
        return kge_fail(err, KGE_ENOMEM, "out of memory for activations");
    }
    float eps = c->ln_eps, scale = 1.0f / sqrtf((float)HS);
    // x0 (BT,C) = drop(LN(wte[ids] + wpe[t] + wtt[types]))
    kge_embedding_forward(a->emb, ids, types, p->wte, p->wpe, p->wtt, B, T, C);
    kge_layernorm_forward(a->x0, a->emb_mean, a->emb_rstd, a->emb, p->embln_w, p->embln_b, BT, C, eps);
    if (dm->emb) kge_dropout_forward(a->x0, dm->emb, BT * C, d->p_hidden, r);
    const float *x = a->x0;
    for (size_t l = 0; l < L; l++) {
        size_t o = l * BT;
        float *qkv = a->qkv + o * C3, *att = a->att + l * B * NH * T * T, *atty = a->atty + o * C,
              *res1 = a->res1 + o * C, *ln1 = a->ln1 + o * C, *fch = a->fch + o * I, *fchg = a->fch_gelu + o * I,
              *res2 = a->res2 + o * C, *ln2 = a->ln2 + o * C;
        // qkv (BT,3C) = x · Wqkvᵀ + b
        kge_matmul_forward(qkv, x, p->qkvw + l * C3 * C, p->qkvb + l * C3, BT, C, C3);
        for (size_t b = 0; b < B; b++)
            for (size_t h = 0; h < NH; h++) {
                const float *q = qkv + b * T * C3 + h * HS, *k = q + C, *v = q + 2 * C, *keep = a->keep + b * T;
                float *P = att + (b * NH + h) * T * T;
                // P (T,T) = masked softmax(q kᵀ · scale)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, (int)T, (int)HS, scale, q, (int)C3, k,
                            (int)C3, 0.0f, P, (int)T);
                for (size_t i = 0; i < T; i++) {
                    float *row = P + i * T, mx = -FLT_MAX, s = 0.0f;
                    for (size_t j = 0; j < T; j++)
                        if (keep[j] != 0.0f && row[j] > mx) mx = row[j];
                    for (size_t j = 0; j < T; j++) {
                        row[j] = keep[j] != 0.0f ? expf(row[j] - mx) : 0.0f;
                        s += row[j];
                    }
                    float inv = s > 0.0f ? 1.0f / s : 0.0f;
                    for (size_t j = 0; j < T; j++) row[j] *= inv;
                }
                // out (T,HS) = drop(P) · v
                const float *Pu = P;
                if (dm->att) {
                    float *M = dm->att + ((l * B + b) * NH + h) * T * T;
                    memcpy(pd, P, T * T * sizeof *pd);
                    kge_dropout_forward(pd, M, T * T, d->p_attn, r);
                    Pu = pd;
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)T, (int)HS, (int)T, 1.0f, Pu, (int)T,
                            v, (int)C3, 0.0f, atty + b * T * C + h * HS, (int)C);
            }
        // res1 = x + drop(atty · Woᵀ + bo) ; ln1 = LN(res1)
        kge_matmul_forward(res1, atty, p->attprojw + l * C * C, p->attprojb + l * C, BT, C, C);
        if (dm->attproj) kge_dropout_forward(res1, dm->attproj + o * C, BT * C, d->p_hidden, r);
        for (size_t i = 0; i < BT * C; i++) res1[i] += x[i];
        kge_layernorm_forward(ln1, a->ln1_mean + o, a->ln1_rstd + o, res1, p->ln1w + l * C, p->ln1b + l * C, BT,
                              C, eps);
        // res2 = ln1 + drop(gelu(ln1 · W1ᵀ + b1) · W2ᵀ + b2) ; ln2 = LN(res2)
        kge_matmul_forward(fch, ln1, p->fcw + l * I * C, p->fcb + l * I, BT, C, I);
        kge_gelu_forward(fchg, fch, BT * I);
        kge_matmul_forward(res2, fchg, p->fcprojw + l * C * I, p->fcprojb + l * C, BT, I, C);
        if (dm->ffn) kge_dropout_forward(res2, dm->ffn + o * C, BT * C, d->p_hidden, r);
        for (size_t i = 0; i < BT * C; i++) res2[i] += ln1[i];
        kge_layernorm_forward(ln2, a->ln2_mean + o, a->ln2_rstd + o, res2, p->ln2w + l * C, p->ln2b + l * C, BT,
                              C, eps);
        x = ln2;
    }
    a->hidden = (float *)x;
    free(pd);
    return KGE_OK;
}
