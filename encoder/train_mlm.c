/* Masked-LM training and token augmentation (see train_mlm.h). */
#include "encoder/train_mlm.h"

#include <stdlib.h>
#include <string.h>

static int is_special(const kge_mlm_vocab *v, int32_t id)
{
    for (size_t k = 0; k < v->nspecial; k++)
        if (v->special[k] == id) return 1;
    return 0;
}

size_t kge_mlm_mask(kge_rng *r, const kge_mlm_vocab *v, float p, int32_t *ids, const uint8_t *mask,
                    int32_t *labels, size_t n)
{
    size_t chosen = 0;
    for (size_t i = 0; i < n; i++) {
        labels[i] = -1;
        if ((mask && !mask[i]) || is_special(v, ids[i])) continue;
        if (kge_rng_uniform(r) >= p) continue;
        labels[i] = ids[i];
        chosen++;
        float u = kge_rng_uniform(r);
        if (u < 0.8f) ids[i] = v->mask_id;
        else if (u < 0.9f) {
            int32_t x;
            int tries = 0;
            do x = (int32_t)kge_rng_below(r, (uint64_t)v->vocab_size);
            while (is_special(v, x) && ++tries < 64);
            ids[i] = x;
        }
    }
    return chosen;
}

size_t kge_augment_tokens(kge_rng *r, int32_t *ids, uint8_t *mask, size_t T, float p_token, float p_span,
                          size_t max_span, int32_t pad_id)
{
    size_t len = 0;
    while (len < T && mask[len]) len++;
    if (len <= 2) return len;
    /* inner tokens are 1 .. len-2; drop[] marks deletions */
    uint8_t *drop = calloc(len, 1);
    if (!drop) return len;
    for (size_t i = 1; i + 1 < len; i++)
        if (p_token > 0.0f && kge_rng_uniform(r) < p_token) drop[i] = 1;
    if (p_span > 0.0f && max_span > 0 && kge_rng_uniform(r) < p_span) {
        size_t inner = len - 2, span = 1 + (size_t)kge_rng_below(r, max_span < inner ? max_span : inner);
        size_t start = 1 + (size_t)kge_rng_below(r, inner - span + 1);
        for (size_t i = start; i < start + span; i++) drop[i] = 1;
    }
    /* keep at least one inner token */
    size_t kept = 0;
    for (size_t i = 1; i + 1 < len; i++) kept += !drop[i];
    if (!kept) drop[1 + (size_t)kge_rng_below(r, len - 2)] = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++)
        if (!drop[i]) ids[o++] = ids[i];
    for (size_t i = o; i < T; i++) { ids[i] = pad_id; mask[i] = 0; }
    free(drop);
    return o;
}

int kge_mlm_trainer_init(kge_mlm_trainer *t, kge_bert *m, const kge_lr_sched *s, float wd, float clip,
                         const kge_dropout *d, float p_mask, uint64_t seed, kge_err *err)
{
    memset(t, 0, sizeof *t);
    if (!m->has_mlm) return kge_fail(err, KGE_EUSAGE, "the model has no masked-LM head to train");
    if (!(p_mask > 0.0f && p_mask < 1.0f)) return kge_fail(err, KGE_EUSAGE, "masking probability must lie in (0, 1)");
    if (!(d->p_hidden >= 0.0f && d->p_hidden < 1.0f) || !(d->p_attn >= 0.0f && d->p_attn < 1.0f))
        return kge_fail(err, KGE_EUSAGE, "dropout probabilities must lie in [0, 1)");
    int rc = kge_train_grads_new(m, &t->grads, err);
    if (rc) return rc;
    size_t enc = (size_t)(m->p.poolw - m->block), head = m->nparams - (size_t)(m->p.mlmw - m->block);
    if ((rc = kge_adamw_init(&t->opt, enc + head, 0.9f, 0.999f, 1e-8f, wd, err))) {
        kge_bert_free(t->grads);
        t->grads = NULL;
        return rc;
    }
    t->m = m;
    t->drop = *d;
    t->sched = *s;
    t->clip = clip;
    t->p_mask = p_mask;
    kge_rng_seed(&t->rng, seed);
    return KGE_OK;
}

void kge_mlm_trainer_free(kge_mlm_trainer *t)
{
    kge_bert_free(t->grads);
    kge_bert_acts_free(&t->acts);
    kge_bert_bwd_free(&t->bwd);
    kge_dropout_masks_free(&t->dm);
    kge_adamw_free(&t->opt);
    memset(t, 0, sizeof *t);
}

int kge_mlm_step(kge_mlm_trainer *t, const kge_mlm_vocab *v, const int32_t *ids_in, const uint8_t *mask, int Bi,
                 int Ti, float *loss, kge_err *err)
{
    kge_bert *m = t->m;
    size_t B = (size_t)(Bi > 0 ? Bi : 0), T = (size_t)(Ti > 0 ? Ti : 0), BT = B * T, C = (size_t)m->cfg.hidden;
    *loss = 0.0f;
    int32_t *ids = malloc((BT + 1) * sizeof *ids), *labels = malloc((BT + 1) * sizeof *labels);
    if (!ids || !labels) { free(ids); free(labels); return kge_fail(err, KGE_ENOMEM, "out of memory"); }
    memcpy(ids, ids_in, BT * sizeof *ids);
    size_t nm = kge_mlm_mask(&t->rng, v, t->p_mask, ids, mask, labels, BT);
    int rc = kge_bert_forward_train(m, &t->acts, &t->dm, &t->drop, &t->rng, ids, NULL, mask, Bi, Ti, err);
    if (rc || nm == 0) { free(ids); free(labels); return rc; }
    float *rows = malloc(nm * C * sizeof *rows), *drows = calloc(nm * C, sizeof *drows),
          *dh = calloc(BT * C, sizeof *dh);
    int32_t *lab = malloc(nm * sizeof *lab);
    size_t *at = malloc(nm * sizeof *at);
    if (!rows || !drows || !dh || !lab || !at) { rc = kge_fail(err, KGE_ENOMEM, "out of memory"); goto out; }
    for (size_t i = 0, k = 0; i < BT; i++)
        if (labels[i] >= 0) {
            memcpy(rows + k * C, t->acts.hidden + i * C, C * sizeof *rows);
            lab[k] = labels[i];
            at[k++] = i;
        }
    kge_train_grads_zero(t->grads);
    if ((rc = kge_mlm_loss(m, t->grads, rows, lab, nm, drows, NULL, loss, err))) goto out;
    for (size_t k = 0; k < nm; k++) memcpy(dh + at[k] * C, drows + k * C, C * sizeof *dh);
    if ((rc = kge_bert_backward(m, t->grads, &t->acts, &t->bwd, &t->dm, dh, ids, NULL, KGE_BWD_ALL, err))) goto out;
    /* encoder and MLM head: the pooler takes no part */
    size_t enc = (size_t)(m->p.poolw - m->block), h0 = (size_t)(m->p.mlmw - m->block), head = m->nparams - h0;
    float *blocks[2] = {t->grads->block, t->grads->block + h0};
    size_t lens[2] = {enc, head};
    kge_clip_grad_norm(blocks, lens, 2, t->clip);
    float lr = kge_lr_at(&t->sched, t->step);
    kge_adamw_begin(&t->opt);
    kge_adamw_update(&t->opt, m->block, t->grads->block, 0, enc, lr, t->opt.weight_decay);
    kge_adamw_update(&t->opt, m->block + h0, t->grads->block + h0, enc, head, lr, t->opt.weight_decay);
    t->step++;
out:
    free(ids); free(labels); free(rows); free(drows); free(dh); free(lab); free(at);
    return rc;
}
