/* Prerequisite link prediction: model, training loop, scoring (see
 * train_link.h; checkpoints are in train_link_io.c). */
#include "encoder/train_link_internal.h"
#include "encoder/pair_set.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/kernels.h"
#include "encoder/threads.h"
#include "encoder/train_kernels.h"

void kge_link_opts_default(kge_link_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mode = KGE_TRAIN_FULL;
    o->steps = 200;
    o->warmup = 20;
    o->decay = KGE_LR_LINEAR;
    o->lr = 5e-4f;
    o->head_lr = 2e-3f;
    o->weight_decay = 0.01f;
    o->clip = 1.0f;
    o->batch_pos = 32;
    o->neg_per_pos = 3;
    o->gat_heads = 4;
    o->type_dim = 8;
    o->eval_every = 10;
    o->seed = 1;
    o->structural = 1;
    o->transitive = 1;
    o->mention = 1;
    o->struct_lr = 5e-2f;
    o->neg_explicit = 0.8f;
}

/* ---- model ------------------------------------------------------------------- */

void kge_link_head_ptrs(const kge_link_model *lm, float *block, kge_link_head *h)
{
    size_t C = (size_t)lm->C, H = (size_t)lm->H, D = (size_t)lm->D, S = (size_t)lm->S;
    h->temb = block;                       // (NT, D) edge-type embedding
    h->w1 = h->temb + KGE_LINK_NTYPES * D; // (H, 3C + S)
    h->b1 = h->w1 + H * (3 * C + S);       // (H)
    h->w2 = h->b1 + H;                     // (H)
    h->b2 = h->w2 + H;                     // (1)
    h->ws = h->b2 + 1;                     // (S)
}

size_t kge_link_enc_span(const kge_link_model *lm)
{
    return (size_t)(lm->bert->p.poolw - lm->bert->block);
}

/* Trainable blocks in optimiser order: params, grads, lengths, and whether
 * each is encoder-side (encoder lr) or head-side. Returns the count. */
size_t kge_link_blocks(kge_link_model *lm, float **p, float **g, size_t *len, int *enc)
{
    size_t k = 0;
    if (lm->o.mode == KGE_TRAIN_FULL) {
        p[k] = lm->bert->block; g[k] = lm->gbert->block; len[k] = kge_link_enc_span(lm); enc[k++] = 1;
    } else if (lm->o.mode == KGE_TRAIN_LORA) {
        p[k] = lm->lora.block; g[k] = lm->glora.block; len[k] = lm->lora.nparams; enc[k++] = 1;
    }
    p[k] = lm->conv.block; g[k] = lm->gconv.block; len[k] = lm->conv.nparams; enc[k++] = 0;
    /* the structural weights ws close the head block: a block of their own
     * for their learning rate, same optimiser offsets */
    size_t S = (size_t)lm->S;
    p[k] = lm->head; g[k] = lm->ghead; len[k] = lm->nhead - S; enc[k++] = 0;
    if (S) { p[k] = lm->head + lm->nhead - S; g[k] = lm->ghead + lm->nhead - S; len[k] = S; enc[k++] = 2; }
    return k;
}

static void uniform_fill(kge_rng *r, float *x, size_t n, float bound)
{
    for (size_t i = 0; i < n; i++) x[i] = bound * (2.0f * kge_rng_uniform(r) - 1.0f);
}

static int check_opts(const kge_link_opts *o, const kge_bert *b, kge_err *err)
{
    if (o->mode < KGE_TRAIN_FULL || o->mode > KGE_TRAIN_HEAD)
        return kge_fail(err, KGE_EUSAGE, "unknown training mode %d", (int)o->mode);
    if (o->steps < 1) return kge_fail(err, KGE_EUSAGE, "steps must be at least 1");
    if (o->warmup < 0 || o->warmup > o->steps) return kge_fail(err, KGE_EUSAGE, "warm-up must lie in 0..steps");
    if (!(o->lr >= 0.0f) || !(o->head_lr >= 0.0f) || !(o->struct_lr >= 0.0f))
        return kge_fail(err, KGE_EUSAGE, "learning rates must be >= 0");
    if (!(o->edge_dropout >= 0.0f && o->edge_dropout < 1.0f) || !(o->hidden_dropout >= 0.0f && o->hidden_dropout < 1.0f) ||
        !(o->attn_dropout >= 0.0f && o->attn_dropout < 1.0f))
        return kge_fail(err, KGE_EUSAGE, "dropout probabilities must lie in [0, 1)");
    if (!(o->view_prob >= 0.0f && o->view_prob <= 1.0f))
        return kge_fail(err, KGE_EUSAGE, "view probability must lie in [0, 1]");
    if (!(o->neg_explicit >= 0.0f && o->neg_explicit <= 1.0f))
        return kge_fail(err, KGE_EUSAGE, "the share of explicit negatives must lie in [0, 1]");
    if (o->structural != 0 && o->structural != 1) return kge_fail(err, KGE_EUSAGE, "structural must be 0 or 1");
    if (o->mention != 0 && o->mention != 1) return kge_fail(err, KGE_EUSAGE, "mention must be 0 or 1");
    if (o->transitive != 0 && o->transitive != 1) return kge_fail(err, KGE_EUSAGE, "transitive must be 0 or 1");
    if (o->transitive && !o->structural)
        return kge_fail(err, KGE_EUSAGE, "the transitive features come with the structural ones");
    if (!(o->val_frac >= 0.0f && o->val_frac < 0.9f))
        return kge_fail(err, KGE_EUSAGE, "validation fraction must lie in [0, 0.9)");
    if (o->batch_pos < 0 || o->neg_per_pos < 0 || o->type_dim < 0 || o->mlp_hidden < 0 || o->lora_rank < 0 ||
        o->eval_every < 0 || o->patience < 0 || o->enc_batch < 0)
        return kge_fail(err, KGE_EUSAGE, "sizes and counts must be non-negative");
    if (o->gat_heads <= 0 || b->cfg.hidden % o->gat_heads)
        return kge_fail(err, KGE_EUSAGE, "graph-attention heads %d must divide the hidden size %d", o->gat_heads,
                        b->cfg.hidden);
    return KGE_OK;
}

int kge_link_new(kge_bert *bert, const kge_link_opts *opts, kge_link_model **out, kge_err *err)
{
    *out = NULL;
    kge_link_opts o = *opts;
    if (!o.batch_pos) o.batch_pos = 32;
    if (!o.neg_per_pos) o.neg_per_pos = 3;
    if (!o.gat_heads) o.gat_heads = 4;
    if (!o.type_dim) o.type_dim = 8;
    if (!o.mlp_hidden) o.mlp_hidden = bert->cfg.hidden;
    if (!o.lora_rank) o.lora_rank = 8;
    if (!(o.lora_alpha > 0.0f)) o.lora_alpha = 2.0f * (float)o.lora_rank;
    if (!o.eval_every) o.eval_every = 10;
    if (!(o.head_lr > 0.0f)) o.head_lr = o.lr;
    if (!(o.struct_lr > 0.0f)) o.struct_lr = o.head_lr;
    int rc = check_opts(&o, bert, err);
    if (rc) { kge_bert_free(bert); return rc; }
    kge_link_model *lm = calloc(1, sizeof *lm);
    if (!lm) { kge_bert_free(bert); return kge_fail(err, KGE_ENOMEM, "out of memory"); }
    lm->o = o;
    lm->bert = bert;
    lm->C = bert->cfg.hidden;
    lm->H = o.mlp_hidden;
    lm->D = o.type_dim;
    lm->SX = o.structural ? KGE_LINK_NSTRUCT + (o.transitive ? KGE_LINK_NTRANS : 0) : 0;
    lm->S = lm->SX + (o.mention ? KGE_LINK_NMENTION : 0);
    lm->best_val = INFINITY;
    kge_rng_seed(&lm->rng, o.seed);
    size_t C = (size_t)lm->C, H = (size_t)lm->H, D = (size_t)lm->D, S = (size_t)lm->S;
    lm->nhead = KGE_LINK_NTYPES * D + H * (3 * C + S) + H + H + 1 + S;
    lm->head = calloc(2 * lm->nhead, sizeof(float));
    if (!lm->head) { rc = kge_fail(err, KGE_ENOMEM, "out of memory"); goto fail; }
    lm->ghead = lm->head + lm->nhead;
    if ((rc = kge_tconv_init(&lm->conv, lm->C, lm->C / o.gat_heads, o.gat_heads, lm->D, err)) ||
        (rc = kge_tconv_init(&lm->gconv, lm->C, lm->C / o.gat_heads, o.gat_heads, lm->D, err)))
        goto fail;
    /* PyTorch's default Linear init, U(±1/√fan_in), for weights and biases */
    kge_rng init;
    kge_rng_seed(&init, o.seed ^ 0x6b67706174680001ull);
    kge_rng mrng;
    kge_rng_seed(&mrng, o.seed ^ 0x6b67706174680005ull);
    size_t HC = C;
    uniform_fill(&init, lm->conv.block, 4 * (HC * C + HC), 1.0f / sqrtf((float)C));
    uniform_fill(&init, lm->conv.we, HC * D, 1.0f / sqrtf((float)D));
    kge_link_head h;
    kge_link_head_ptrs(lm, lm->head, &h);
    for (size_t i = 0; i < KGE_LINK_NTYPES * D; i++) h.temb[i] = kge_rng_normal(&init);
    /* fc1 over [z_a, z_b, z_a ⊙ z_b, structural φ] is drawn as it was before
     * the mention features, and their columns from a stream of their own:
     * a model whose mention features are all 0 (no titles, titles never
     * mentioned) then trains and scores exactly as one without them */
    size_t SX = (size_t)lm->SX, C3x = 3 * C + SX, M = S - SX;
    float bound = 1.0f / sqrtf((float)C3x);
    uniform_fill(&init, h.w1, H * C3x + H, bound);
    if (M) {
        memmove(h.b1, h.w1 + H * C3x, H * sizeof *h.b1);
        for (size_t j = H; j-- > 0;) {   /* widen rows (H, C3x) → (H, C3x + M), last row first */
            memmove(h.w1 + j * (C3x + M), h.w1 + j * C3x, C3x * sizeof *h.w1);
            uniform_fill(&mrng, h.w1 + j * (C3x + M) + C3x, M, bound);
        }
    }
    uniform_fill(&init, h.w2, H + 1, 1.0f / sqrtf((float)H));   /* ws starts at 0 */
    if (o.mode != KGE_TRAIN_HEAD && (rc = kge_train_grads_new(bert, &lm->gbert, err))) goto fail;
    if (o.mode == KGE_TRAIN_LORA) {
        if ((rc = kge_lora_init(&lm->lora, &bert->cfg, o.lora_rank, o.lora_alpha, err)) ||
            (rc = kge_lora_init(&lm->glora, &bert->cfg, o.lora_rank, o.lora_alpha, err)) ||
            (rc = kge_bert_create(&bert->cfg, &lm->work, err)))
            goto fail;
        kge_lora_init_random(&lm->lora, o.seed ^ 0x6b67706174680002ull);
        kge_lora_merge(&lm->lora, bert, lm->work);
    }
    float *pb[4], *gb[4];
    size_t len[4], total = 0;
    int enc[4];
    size_t nb = kge_link_blocks(lm, pb, gb, len, enc);
    for (size_t i = 0; i < nb; i++) total += len[i];
    if ((rc = kge_adamw_init(&lm->opt, total, 0.9f, 0.999f, 1e-8f, o.weight_decay, err))) goto fail;
    kge_bert_acts_set_threads(&lm->acts, o.threads);
    *out = lm;
    return KGE_OK;
fail:
    kge_link_free(lm);
    return rc;
}

void kge_link_free(kge_link_model *lm)
{
    if (!lm) return;
    kge_bert_free(lm->bert);
    kge_bert_free(lm->work);
    kge_bert_free(lm->gbert);
    kge_lora_free(&lm->lora);
    kge_lora_free(&lm->glora);
    kge_tconv_free(&lm->conv);
    kge_tconv_free(&lm->gconv);
    free(lm->head);
    kge_adamw_free(&lm->opt);
    kge_bert_acts_free(&lm->acts);
    kge_bert_bwd_free(&lm->bwd);
    kge_dropout_masks_free(&lm->dm);
    kge_tconv_acts_free(&lm->cacts);
    kge_tconv_bwd_free(&lm->cbwd);
    free(lm->z0cache);
    kge_link_sx_free(&lm->sx);
    kge_link_text_free(&lm->mt);
    free(lm);
}

int64_t kge_link_step(const kge_link_model *lm) { return lm->step; }
float kge_link_best_val(const kge_link_model *lm) { return isfinite(lm->best_val) ? lm->best_val : NAN; }
const kge_link_opts *kge_link_options(const kge_link_model *lm) { return &lm->o; }
kge_bert *kge_link_bert(kge_link_model *lm) { return lm->bert; }

/* The encoder the forward pass uses: the merged copy in LoRA mode. */
static const kge_bert *enc_model(const kge_link_model *lm)
{
    return lm->work ? lm->work : lm->bert;
}

/* ---- graph ------------------------------------------------------------------- */

/* A message-passing graph in CSR with edge features. */
typedef struct mp_graph {
    kge_csr   g;
    uint32_t *row_ptr, *src, *perm, *esrc, *edst;
    uint8_t  *etype;     /* per original edge */
    float    *eattr;     /* (E, D) in CSR order */
    size_t    E;
} mp_graph;

static void mp_free(mp_graph *m)
{
    free(m->row_ptr); free(m->src); free(m->perm); free(m->esrc); free(m->edst); free(m->etype); free(m->eattr);
    memset(m, 0, sizeof *m);
}

/* Both directions of the edges k with keep[k] (NULL: all) of (s, d). */
static int mp_build(const kge_link_model *lm, size_t n, size_t E, const uint32_t *s, const uint32_t *d,
                    const uint8_t *keep, mp_graph *m, kge_err *err)
{
    memset(m, 0, sizeof *m);
    size_t cnt = 0;
    for (size_t k = 0; k < E; k++) cnt += !keep || keep[k];
    size_t M = 2 * cnt, D = (size_t)lm->D;
    m->row_ptr = malloc((n + 1) * sizeof *m->row_ptr);
    m->src = malloc((M + 1) * sizeof *m->src);
    m->perm = malloc((M + 1) * sizeof *m->perm);
    m->esrc = malloc((M + 1) * sizeof *m->esrc);
    m->edst = malloc((M + 1) * sizeof *m->edst);
    m->etype = malloc(M + 1);
    m->eattr = malloc((M * D + 1) * sizeof *m->eattr);
    if (!m->row_ptr || !m->src || !m->perm || !m->esrc || !m->edst || !m->etype || !m->eattr) {
        mp_free(m);
        return kge_fail(err, KGE_ENOMEM, "out of memory for the graph");
    }
    size_t j = 0;
    for (size_t k = 0; k < E; k++) {
        if (keep && !keep[k]) continue;
        m->esrc[j] = s[k]; m->edst[j] = d[k]; m->etype[j++] = KGE_EDGE_PREREQUISITE_OF;
        m->esrc[j] = d[k]; m->edst[j] = s[k]; m->etype[j++] = KGE_EDGE_REQUIRED_BY;
    }
    int rc = kge_csr_from_edges(n, M, m->esrc, m->edst, m->row_ptr, m->src, m->perm, err);
    if (rc) { mp_free(m); return rc; }
    kge_link_head h;
    kge_link_head_ptrs(lm, lm->head, &h);
    for (size_t e = 0; e < M; e++) memcpy(m->eattr + e * D, h.temb + m->etype[m->perm[e]] * D, D * sizeof(float));
    m->g = (kge_csr){n, m->row_ptr, m->src};
    m->E = M;
    return KGE_OK;
}

/* ---- encoder part ------------------------------------------------------------ */

/* z0 rows of the nodes sel[0..m) = mean-pooled encoder output; keep
 * selects whether activations are kept for a backward pass (training: with
 * the model's dropout, masks in lm->dm). */
static int encode_rows(kge_link_model *lm, const kge_link_data *d, const uint32_t *sel, size_t m, int keep,
                       float *z0, int32_t *ids, uint8_t *mask, kge_err *err)
{
    kge_dropout drop = {lm->o.hidden_dropout, lm->o.attn_dropout};
    int train_drop = keep && (drop.p_hidden > 0.0f || drop.p_attn > 0.0f);
    size_t T = (size_t)d->T, C = (size_t)lm->C;
    int views = keep && lm->o.view_prob > 0.0f && d->nviews && d->view_ids && d->view_mask;
    for (size_t i = 0; i < m; i++) {
        const int32_t *src_ids = d->ids;
        const uint8_t *src_mask = d->mask;
        if (views && kge_rng_uniform(&lm->rng) < lm->o.view_prob) {
            /* title/summary views: another text of the same concept */
            size_t v = d->nviews > 1 ? (size_t)kge_rng_below(&lm->rng, d->nviews) : 0;
            src_ids = d->view_ids + v * d->n * T;
            src_mask = d->view_mask + v * d->n * T;
        }
        memcpy(ids + i * T, src_ids + (size_t)sel[i] * T, T * sizeof *ids);
        memcpy(mask + i * T, src_mask + (size_t)sel[i] * T, T);
    }
    int rc = train_drop ? kge_bert_forward_train(enc_model(lm), &lm->acts, &lm->dm, &drop, &lm->rng, ids, NULL, mask,
                                                 (int)m, (int)T, err)
                        : kge_bert_forward(enc_model(lm), &lm->acts, ids, NULL, mask, (int)m, (int)T, keep, err);
    if (!train_drop) kge_dropout_masks_free(&lm->dm);
    if (rc) return rc;
    float *pooled = malloc(m * C * sizeof *pooled);
    if (!pooled) return kge_fail(err, KGE_ENOMEM, "out of memory");
    kge_mean_pool_forward(pooled, lm->acts.hidden, mask, m, T, C);
    for (size_t i = 0; i < m; i++) memcpy(z0 + (size_t)sel[i] * C, pooled + i * C, C * sizeof *z0);
    free(pooled);
    return KGE_OK;
}

/* The padded path for rows whose mask is not a run of 1s from position 0
 * (holes keep their position ids, which packing would shift). */
static int encode_padded(kge_link_model *lm, const kge_link_data *d, const uint32_t *sel, size_t m, float *z0,
                         kge_err *err)
{
    size_t chunk = 64, T = (size_t)d->T;
    int32_t *ids = malloc(chunk * T * sizeof *ids);
    uint8_t *mask = malloc(chunk * T);
    int rc = ids && mask ? KGE_OK : kge_fail(err, KGE_ENOMEM, "out of memory");
    for (size_t s = 0; !rc && s < m; s += chunk)
        rc = encode_rows(lm, d, sel + s, m - s < chunk ? m - s : chunk, 0, z0, ids, mask, err);
    free(ids); free(mask);
    return rc;
}

/* All n rows (inference; nothing kept): each concept's tokens packed end to
 * end with the others' (kge_bert_forward_packed), so no work goes to
 * padding. A row with no token gets 0, as mean pooling over an empty mask
 * gives. */
static int encode_all(kge_link_model *lm, const kge_link_data *d, float *z0, kge_err *err)
{
    size_t n = d->n, T = (size_t)d->T, C = (size_t)lm->C, np = 0, nh = 0;
    size_t cap = T > KGE_BERT_PACK_TOKENS ? T : KGE_BERT_PACK_TOKENS;
    uint32_t *sel = malloc(2 * n * sizeof *sel), *holes = sel + n;   /* packed rows, padded rows */
    size_t *len = malloc(n * sizeof *len), *off = malloc((cap + 1) * sizeof *off);
    int32_t *ids = malloc(cap * sizeof *ids);
    int rc = KGE_OK;
    kge_dropout_masks_free(&lm->dm);   /* no dropout here: a training step draws fresh masks */
    if (!sel || !len || !off || !ids) { rc = kge_fail(err, KGE_ENOMEM, "out of memory"); goto out; }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *mk = d->mask + i * T;
        size_t k = 0, rest = 0;
        while (k < T && mk[k]) k++;
        for (size_t t = k; t < T; t++) rest |= mk[t];
        if (rest) holes[nh++] = (uint32_t)i;
        else if (k == 0) memset(z0 + i * C, 0, C * sizeof *z0);
        else { sel[np] = (uint32_t)i; len[np++] = k; }
    }
    for (size_t i0 = 0, i1; !rc && i0 < np; i0 = i1) {
        const kge_bert *b = enc_model(lm);
        i1 = i0 + kge_bert_pack_take(b, len + i0, np - i0);
        off[0] = 0;
        for (size_t i = i0; i < i1; i++) {
            memcpy(ids + off[i - i0], d->ids + (size_t)sel[i] * T, len[i] * sizeof *ids);
            off[i + 1 - i0] = off[i - i0] + len[i];
        }
        if ((rc = kge_bert_forward_packed(b, &lm->acts, ids, NULL, off, i1 - i0, err))) break;
        for (size_t i = i0; i < i1; i++)
            kge_mean_pool_forward(z0 + (size_t)sel[i] * C, lm->acts.hidden + off[i - i0] * C, NULL, 1, len[i], C);
    }
    if (!rc && nh) rc = encode_padded(lm, d, holes, nh, z0, err);
out:
    free(sel); free(len); free(off); free(ids);
    return rc;
}

/* ---- decoder ----------------------------------------------------------------- */

/* φ of the pair (a, b): the structural features from sx (when lm->SX),
 * then the mention features from lm->mt (0 without titles). */
static void pair_features(const kge_link_model *lm, kge_link_sx *sx, uint32_t a, uint32_t b, float *phi)
{
    if (lm->SX) kge_link_sx_pair(sx, a, b, phi);
    if (lm->SX > KGE_LINK_NSTRUCT) kge_link_sx_trans(sx, a, b, phi + KGE_LINK_NSTRUCT);
    if (lm->S > lm->SX) {
        if (lm->mt.n) kge_link_text_pair(&lm->mt, a, b, phi + lm->SX);
        else memset(phi + lm->SX, 0, (size_t)(lm->S - lm->SX) * sizeof *phi);
    }
}

/* Scores s (P) of pairs (P,2) from z (n,C) and the structure sx (unused
 * when lm->SX is 0); with dz != NULL also the BCE loss against y and
 * gradients (ghead, dz +=). Returns the loss (0 without labels). Scratch:
 * X (P,3C+S), Hh and G (P,H). */
static float decode(kge_link_model *lm, const float *z, kge_link_sx *sx, const uint32_t *pairs, const float *y,
                    size_t P, float *s, float *dz, int *oom)
{
    size_t C = (size_t)lm->C, H = (size_t)lm->H, S = (size_t)lm->S, C3 = 3 * C + S;
    kge_link_head h, gh;
    kge_link_head_ptrs(lm, lm->head, &h);
    kge_link_head_ptrs(lm, lm->ghead, &gh);
    float *X = malloc((2 * P * C3 + 2 * P * H + P + 1) * sizeof *X);
    if (!X) { *oom = 1; return NAN; }
    float *Hh = X + P * C3, *G = Hh + P * H, *ds = G + P * H, *dX = ds + P;
    // X (P,3C+S) = [z_a, z_b, z_a ⊙ z_b, φ(a, b)]
    for (size_t p = 0; p < P; p++) {
        const float *za = z + (size_t)pairs[2 * p] * C, *zb = z + (size_t)pairs[2 * p + 1] * C;
        float *x = X + p * C3;
        for (size_t i = 0; i < C; i++) { x[i] = za[i]; x[C + i] = zb[i]; x[2 * C + i] = za[i] * zb[i]; }
        if (S) pair_features(lm, sx, pairs[2 * p], pairs[2 * p + 1], x + 3 * C);
    }
    // Hh (P,H) = X · W1 (H,3C+S)ᵀ + b1 ; G = gelu(Hh) ; s = G · w2 + b2 + φ · ws
    kge_matmul_forward(Hh, X, h.w1, h.b1, P, C3, H);
    kge_gelu_forward(G, Hh, P * H);
    kge_matmul_forward(s, G, h.w2, h.b2, P, H, 1);
    for (size_t p = 0; S && p < P; p++) {
        const float *phi = X + p * C3 + 3 * C;
        float a = 0.0f;
        for (size_t k = 0; k < S; k++) a += h.ws[k] * phi[k];
        s[p] += a;
    }
    float loss = 0.0f;
    if (y) loss = kge_bce_logits(dz ? ds : NULL, s, y, P, 1.0f);
    if (dz) {
        for (size_t p = 0; S && p < P; p++)
            for (size_t k = 0; k < S; k++) gh.ws[k] += ds[p] * X[p * C3 + 3 * C + k];
        // dG (P,H) = ds · w2 ; then gelu backward in place ; X's gradient into dz
        float *dG = G;   /* G is consumed here: dw2 first */
        kge_matmul_backward(NULL, gh.w2, gh.b2, ds, G, h.w2, P, H, 1);
        for (size_t p = 0; p < P; p++)
            for (size_t j = 0; j < H; j++) dG[p * H + j] = ds[p] * h.w2[j];
        kge_gelu_backward(dG, Hh, dG, P * H);
        memset(dX, 0, P * C3 * sizeof *dX);
        kge_matmul_backward(dX, gh.w1, gh.b1, dG, X, h.w1, P, C3, H);
        for (size_t p = 0; p < P; p++) {
            size_t a = pairs[2 * p], b = pairs[2 * p + 1];
            const float *dx = dX + p * C3, *za = z + a * C, *zb = z + b * C;
            for (size_t i = 0; i < C; i++) {
                dz[a * C + i] += dx[i] + dx[2 * C + i] * zb[i];
                dz[b * C + i] += dx[C + i] + dx[2 * C + i] * za[i];
            }
        }
    }
    free(X);
    return loss;
}

/* ---- sampling ---------------------------------------------------------------- */

/* One negative for the positive (a, b) of kind k % 3: a corrupted end,
 * the reversed edge, a pair two hops apart (a → b → y gives (a, y));
 * falls back to corrupted ends. Returns 0 when none was found. */
static int sample_negative(kge_rng *r, const pair_set *known, size_t n, const uint32_t *out_ptr,
                           const uint32_t *out_dst, uint32_t a, uint32_t b, int k, uint32_t *na, uint32_t *nb)
{
    for (int tries = 0; tries < 12; tries++) {
        uint32_t x = a, y = b;
        int kind = tries < 2 ? k % 3 : 0;
        if (kind == 1) { x = b; y = a; }
        else if (kind == 2 && out_ptr[b + 1] > out_ptr[b]) {
            y = out_dst[out_ptr[b] + kge_rng_below(r, out_ptr[b + 1] - out_ptr[b])];
        } else if (kge_rng_below(r, 2)) x = (uint32_t)kge_rng_below(r, n);
        else y = (uint32_t)kge_rng_below(r, n);
        if (x != y && !pset_has(known, x, y)) { *na = x; *nb = y; return 1; }
    }
    return 0;
}

/* ---- training ---------------------------------------------------------------- */

/* Train/validation split of d's edges, from the seed alone (so a resumed
 * run splits alike): is_val (E). */
static void split_edges(const kge_link_model *lm, size_t E, uint8_t *is_val, uint32_t *tmp)
{
    memset(is_val, 0, E);
    size_t nval = (size_t)floor((double)lm->o.val_frac * (double)E);
    if (!nval) return;
    kge_rng r;
    kge_rng_seed(&r, lm->o.seed ^ 0x6b67706174680003ull);
    for (size_t i = 0; i < E; i++) tmp[i] = (uint32_t)i;
    for (size_t i = 0; i < nval; i++) {
        size_t j = i + (size_t)kge_rng_below(&r, E - i);
        uint32_t t = tmp[i]; tmp[i] = tmp[j]; tmp[j] = t;
        is_val[tmp[i]] = 1;
    }
}

int kge_link_val_split(const kge_link_model *lm, size_t E, uint8_t *is_val)
{
    uint32_t *tmp = malloc((E + 1) * sizeof *tmp);
    if (!tmp) return KGE_ENOMEM;
    split_edges(lm, E, is_val, tmp);
    free(tmp);
    return KGE_OK;
}

static int check_data(const kge_link_model *lm, const kge_link_data *d, kge_err *err)
{
    if (d->n < 2) return kge_fail(err, KGE_EUSAGE, "need at least two concepts (got %zu)", d->n);
    if (d->T < 1 || d->T > lm->bert->cfg.max_positions)
        return kge_fail(err, KGE_EUSAGE, "token length %d outside 1..%d", d->T, lm->bert->cfg.max_positions);
    for (size_t e = 0; e < d->E; e++)
        if (d->src[e] >= d->n || d->dst[e] >= d->n)
            return kge_fail(err, KGE_EUSAGE, "edge %zu (%u -> %u) has an endpoint outside 0..%zu", e, d->src[e],
                            d->dst[e], d->n - 1);
    if (d->nneg && (!d->neg_src || !d->neg_dst)) return kge_fail(err, KGE_EUSAGE, "explicit negatives without pairs");
    if (d->mention && d->mention->n != d->n)
        return kge_fail(err, KGE_EUSAGE, "titles of %zu concepts for %zu concepts", d->mention->n, d->n);
    for (size_t e = 0; e < d->nneg; e++)
        if (d->neg_src[e] >= d->n || d->neg_dst[e] >= d->n)
            return kge_fail(err, KGE_EUSAGE, "negative %zu (%u -> %u) has an endpoint outside 0..%zu", e,
                            d->neg_src[e], d->neg_dst[e], d->n - 1);
    return KGE_OK;
}

typedef struct train_ctx {
    const kge_link_data *d;
    uint8_t  *is_val;
    uint32_t *tr;          /* training edge indices (ntr) */
    size_t    ntr;
    pair_set  known;       /* every edge of d, both splits */
    uint32_t *out_ptr, *out_dst;   /* training out-adjacency (CSR by source) */
    uint32_t *val_pairs;   /* (nvp, 2) */
    float    *val_y;
    size_t    nvp;
    float    *z0, *z, *dz, *dz0;   /* (n, C) */
    uint32_t *pairs;       /* (P, 2) */
    float    *y, *s;
    uint32_t *sel;         /* nodes encoded this step */
    int32_t  *ids;
    uint8_t  *mask, *keep, *seen;
    float    *dpool, *dh;
    kge_link_sx sx;        /* structure of the step's message-passing graph */
} train_ctx;

static void ctx_free(train_ctx *c)
{
    free(c->is_val); free(c->tr); free(c->known.slot); free(c->out_ptr); free(c->out_dst); free(c->val_pairs);
    free(c->val_y); free(c->z0); free(c->z); free(c->dz); free(c->dz0); free(c->pairs); free(c->y); free(c->s);
    free(c->sel); free(c->ids); free(c->mask); free(c->keep); free(c->seen); free(c->dpool); free(c->dh);
    kge_link_sx_free(&c->sx);
}

static int ctx_init(kge_link_model *lm, const kge_link_data *d, train_ctx *c, kge_err *err)
{
    memset(c, 0, sizeof *c);
    c->d = d;
    size_t n = d->n, E = d->E, C = (size_t)lm->C, T = (size_t)d->T;
    size_t P = (size_t)lm->o.batch_pos * (1 + (size_t)lm->o.neg_per_pos);
    c->is_val = malloc(E + 1);
    c->tr = malloc((E + 1) * sizeof *c->tr);
    c->out_ptr = calloc(n + 1, sizeof *c->out_ptr);
    c->out_dst = malloc((E + 1) * sizeof *c->out_dst);
    c->z0 = malloc(n * C * sizeof(float));
    c->z = malloc(n * C * sizeof(float));
    c->dz = malloc(n * C * sizeof(float));
    c->dz0 = malloc(n * C * sizeof(float));
    c->pairs = malloc((P + 1) * 2 * sizeof *c->pairs);
    c->y = malloc((P + 1) * sizeof *c->y);
    c->s = malloc((P + 1) * sizeof *c->s);
    c->sel = malloc(n * sizeof *c->sel);
    c->ids = malloc(n * T * sizeof *c->ids);
    c->mask = malloc(n * T);
    c->keep = malloc(E + 1);
    c->seen = malloc(n);
    c->dpool = malloc(n * C * sizeof(float));
    /* the encoder backward covers at most enc_batch concepts a step */
    size_t rows = lm->o.enc_batch > 0 && (size_t)lm->o.enc_batch < n ? (size_t)lm->o.enc_batch : n;
    c->dh = malloc(rows * T * C * sizeof(float));
    if (!c->is_val || !c->tr || !c->out_ptr || !c->out_dst || !c->z0 || !c->z || !c->dz || !c->dz0 || !c->pairs ||
        !c->y || !c->s || !c->sel || !c->ids || !c->mask || !c->keep || !c->seen || !c->dpool || !c->dh ||
        pset_init(&c->known, E))
        return kge_fail(err, KGE_ENOMEM, "out of memory for training");
    split_edges(lm, E, c->is_val, c->tr);
    for (size_t e = 0; e < E; e++) {
        pset_add(&c->known, d->src[e], d->dst[e]);
        if (!c->is_val[e]) c->tr[c->ntr++] = (uint32_t)e;
    }
    if (c->ntr == 0) return kge_fail(err, KGE_EUSAGE, "no training edges (%zu edges, %zu held out)", E, E - c->ntr);
    for (size_t k = 0; k < c->ntr; k++) c->out_ptr[d->src[c->tr[k]] + 1]++;
    for (size_t i = 0; i < n; i++) c->out_ptr[i + 1] += c->out_ptr[i];
    uint32_t *cur = malloc((n + 1) * sizeof *cur);
    if (!cur) return kge_fail(err, KGE_ENOMEM, "out of memory");
    memcpy(cur, c->out_ptr, (n + 1) * sizeof *cur);
    for (size_t k = 0; k < c->ntr; k++) c->out_dst[cur[d->src[c->tr[k]]]++] = d->dst[c->tr[k]];
    free(cur);
    /* validation pairs: every held-out edge and fixed negatives */
    size_t nval = E - c->ntr, npp = (size_t)lm->o.neg_per_pos;
    c->val_pairs = malloc((nval * (1 + npp) + 1) * 2 * sizeof *c->val_pairs);
    c->val_y = malloc((nval * (1 + npp) + 1) * sizeof *c->val_y);
    if (!c->val_pairs || !c->val_y) return kge_fail(err, KGE_ENOMEM, "out of memory");
    kge_rng vr;
    kge_rng_seed(&vr, lm->o.seed ^ 0x6b67706174680004ull);
    for (size_t e = 0; e < E; e++) {
        if (!c->is_val[e]) continue;
        c->val_pairs[2 * c->nvp] = d->src[e];
        c->val_pairs[2 * c->nvp + 1] = d->dst[e];
        c->val_y[c->nvp++] = 1.0f;
        for (size_t k = 0; k < npp; k++) {
            uint32_t a, b;
            if (!sample_negative(&vr, &c->known, n, c->out_ptr, c->out_dst, d->src[e], d->dst[e], (int)k, &a, &b))
                continue;
            c->val_pairs[2 * c->nvp] = a;
            c->val_pairs[2 * c->nvp + 1] = b;
            c->val_y[c->nvp++] = 0.0f;
        }
    }
    return KGE_OK;
}

/* Validation loss with every training edge in the graph. */
static int val_loss(kge_link_model *lm, train_ctx *c, float *out, kge_err *err)
{
    const kge_link_data *d = c->d;
    if (lm->o.mode == KGE_TRAIN_HEAD) memcpy(c->z0, lm->z0cache, d->n * (size_t)lm->C * sizeof(float));
    else {
        int rc = encode_all(lm, d, c->z0, err);
        if (rc) return rc;
    }
    for (size_t e = 0; e < d->E; e++) c->keep[e] = !c->is_val[e];
    mp_graph g;
    int rc = mp_build(lm, d->n, d->E, d->src, d->dst, c->keep, &g, err);
    if (rc) return rc;
    rc = kge_tconv_forward(&lm->conv, &lm->cacts, c->z, c->z0, &g.g, g.eattr, err);
    mp_free(&g);
    if (!rc && lm->SX) rc = kge_link_sx_build(&c->sx, d->n, d->E, d->src, d->dst, c->keep, err);
    if (rc) return rc;
    float *s = malloc((c->nvp + 1) * sizeof *s);
    int oom = 0;
    if (!s) return kge_fail(err, KGE_ENOMEM, "out of memory");
    *out = decode(lm, c->z, &c->sx, c->val_pairs, c->val_y, c->nvp, s, NULL, &oom);
    free(s);
    return oom ? kge_fail(err, KGE_ENOMEM, "out of memory") : KGE_OK;
}

/* One optimisation step. */
static int train_step(kge_link_model *lm, train_ctx *c, kge_link_metrics *mt, kge_err *err)
{
    const kge_link_data *d = c->d;
    size_t n = d->n, C = (size_t)lm->C, T = (size_t)d->T;
    kge_rng *r = &lm->rng;
    /* positives: a random subset of the training edges (partial shuffle) */
    size_t P = (size_t)lm->o.batch_pos < c->ntr ? (size_t)lm->o.batch_pos : c->ntr, np = 0;
    memset(c->keep, 0, d->E);
    for (size_t k = 0; k < c->ntr; k++) c->keep[c->tr[k]] = 1;
    uint32_t *order = malloc(c->ntr * sizeof *order);
    if (!order) return kge_fail(err, KGE_ENOMEM, "out of memory");
    memcpy(order, c->tr, c->ntr * sizeof *order);
    for (size_t i = 0; i < P; i++) {
        size_t j = i + (size_t)kge_rng_below(r, c->ntr - i);
        uint32_t t = order[i]; order[i] = order[j]; order[j] = t;
        uint32_t e = order[i];
        c->keep[e] = 0;   /* a positive is not in this step's graph */
        c->pairs[2 * np] = d->src[e];
        c->pairs[2 * np + 1] = d->dst[e];
        c->y[np++] = 1.0f;
        for (int k = 0; k < lm->o.neg_per_pos; k++) {
            uint32_t a, b;
            /* a labelled negative (the random draw only when there are some,
             * so runs without them sample exactly as before) */
            if (d->nneg && lm->o.neg_explicit > 0.0f && kge_rng_uniform(r) < lm->o.neg_explicit) {
                size_t q = (size_t)kge_rng_below(r, d->nneg);
                a = d->neg_src[q];
                b = d->neg_dst[q];
                if (a != b && !pset_has(&c->known, a, b)) {
                    c->pairs[2 * np] = a;
                    c->pairs[2 * np + 1] = b;
                    c->y[np++] = 0.0f;
                    continue;
                }
            }
            if (!sample_negative(r, &c->known, n, c->out_ptr, c->out_dst, d->src[e], d->dst[e], k, &a, &b))
                continue;
            c->pairs[2 * np] = a;
            c->pairs[2 * np + 1] = b;
            c->y[np++] = 0.0f;
        }
    }
    free(order);
    if (lm->o.edge_dropout > 0.0f)
        for (size_t e = 0; e < d->E; e++)
            if (c->keep[e] && kge_rng_uniform(r) < lm->o.edge_dropout) c->keep[e] = 0;
    /* encoder: z0 of every node (all re-encoded, or a batch over a cache) */
    size_t m = 0;
    int rc = KGE_OK;
    if (lm->o.mode == KGE_TRAIN_HEAD) {
        memcpy(c->z0, lm->z0cache, n * C * sizeof(float));
    } else {
        if (lm->o.enc_batch > 0 && (size_t)lm->o.enc_batch < n) {
            /* the pairs' endpoints first, up to enc_batch; the rest from the cache */
            memcpy(c->z0, lm->z0cache, n * C * sizeof(float));
            memset(c->seen, 0, n);
            for (size_t p = 0; p < 2 * np && m < (size_t)lm->o.enc_batch; p++)
                if (!c->seen[c->pairs[p]]) { c->seen[c->pairs[p]] = 1; c->sel[m++] = c->pairs[p]; }
        } else {
            for (size_t i = 0; i < n; i++) c->sel[m++] = (uint32_t)i;
        }
        if ((rc = encode_rows(lm, d, c->sel, m, 1, c->z0, c->ids, c->mask, err))) return rc;
        if (lm->z0cache)
            for (size_t i = 0; i < m; i++)
                memcpy(lm->z0cache + (size_t)c->sel[i] * C, c->z0 + (size_t)c->sel[i] * C, C * sizeof(float));
    }
    /* graph attention and decoder */
    mp_graph g;
    if (lm->SX && (rc = kge_link_sx_build(&c->sx, n, d->E, d->src, d->dst, c->keep, err))) return rc;
    if ((rc = mp_build(lm, n, d->E, d->src, d->dst, c->keep, &g, err))) return rc;
    if ((rc = kge_tconv_forward(&lm->conv, &lm->cacts, c->z, c->z0, &g.g, g.eattr, err))) { mp_free(&g); return rc; }
    memset(lm->ghead, 0, lm->nhead * sizeof(float));
    memset(lm->gconv.block, 0, lm->gconv.nparams * sizeof(float));
    memset(c->dz, 0, n * C * sizeof(float));
    memset(c->dz0, 0, n * C * sizeof(float));
    int oom = 0;
    float loss = decode(lm, c->z, &c->sx, c->pairs, c->y, np, c->s, c->dz, &oom);
    if (oom) { mp_free(&g); return kge_fail(err, KGE_ENOMEM, "out of memory"); }
    float *deattr = calloc(g.E * (size_t)lm->D + 1, sizeof *deattr);
    if (!deattr) { mp_free(&g); return kge_fail(err, KGE_ENOMEM, "out of memory"); }
    rc = kge_tconv_backward(&lm->conv, &lm->gconv, &lm->cacts, &lm->cbwd, c->dz, c->z0, &g.g, g.eattr, c->dz0,
                            deattr, err);
    if (!rc) {
        kge_link_head gh;
        kge_link_head_ptrs(lm, lm->ghead, &gh);
        size_t D = (size_t)lm->D;
        for (size_t e = 0; e < g.E; e++) {
            float *dt = gh.temb + g.etype[g.perm[e]] * D;
            for (size_t k = 0; k < D; k++) dt[k] += deattr[e * D + k];
        }
    }
    free(deattr);
    mp_free(&g);
    if (rc) return rc;
    /* encoder backward */
    if (lm->o.mode != KGE_TRAIN_HEAD) {
        kge_train_grads_zero(lm->gbert);
        for (size_t i = 0; i < m; i++) memcpy(c->dpool + i * C, c->dz0 + (size_t)c->sel[i] * C, C * sizeof(float));
        memset(c->dh, 0, m * T * C * sizeof(float));
        kge_mean_pool_backward(c->dh, c->dpool, c->mask, m, T, C);
        int what = lm->o.mode == KGE_TRAIN_LORA ? KGE_BWD_QKV_ONLY : KGE_BWD_ALL;
        if ((rc = kge_bert_backward(enc_model(lm), lm->gbert, &lm->acts, &lm->bwd, &lm->dm, c->dh, c->ids, NULL, what, err)))
            return rc;
        if (lm->o.mode == KGE_TRAIN_LORA) {
            memset(lm->glora.block, 0, lm->glora.nparams * sizeof(float));
            kge_lora_backward(&lm->lora, lm->gbert, &lm->glora);
        }
    }
    /* clip, schedule, AdamW */
    float *pb[4], *gb[4];
    size_t len[4];
    int enc[4];
    size_t nb = kge_link_blocks(lm, pb, gb, len, enc);
    double norm = kge_clip_grad_norm(gb, len, nb, lm->o.clip);
    kge_lr_sched se = {lm->o.lr, 0.0f, lm->o.warmup, lm->o.steps, lm->o.decay}, sh = se, ss = se;
    sh.peak = lm->o.head_lr;
    ss.peak = lm->o.struct_lr;
    float lr = kge_lr_at(&se, lm->step), hlr = kge_lr_at(&sh, lm->step), slr = kge_lr_at(&ss, lm->step);
    kge_adamw_begin(&lm->opt);
    size_t off = 0;
    for (size_t b = 0; b < nb; b++) {
        kge_adamw_update(&lm->opt, pb[b], gb[b], off, len[b], enc[b] == 1 ? lr : enc[b] == 2 ? slr : hlr,
                         lm->o.weight_decay);
        off += len[b];
    }
    if (lm->o.mode == KGE_TRAIN_LORA) kge_lora_merge(&lm->lora, lm->bert, lm->work);
    lm->step++;
    mt->step = lm->step;
    mt->loss = loss;
    mt->lr = lr;
    mt->grad_norm = (float)norm;
    mt->val_loss = NAN;
    mt->stopped_early = 0;
    return KGE_OK;
}

int kge_link_train(kge_link_model *lm, const kge_link_data *d, int64_t until, kge_link_cb cb, void *ctx,
                   kge_err *err)
{
    int rc = check_data(lm, d, err);
    if (rc) return rc;
    if (until > lm->o.steps) until = lm->o.steps;
    if (lm->step >= until) return KGE_OK;
    train_ctx c;
    if ((rc = ctx_init(lm, d, &c, err))) { ctx_free(&c); return rc; }
    if (lm->o.mention && (rc = kge_link_text_copy(&lm->mt, d->mention, err))) { ctx_free(&c); return rc; }
    int blas = kge_blas_set_threads(1);
    size_t nC = d->n * (size_t)lm->C;
    /* head mode: the frozen encoder's embeddings once; batched encoding:
     * a cache of every node's embedding refreshed as nodes are re-encoded */
    int batched = lm->o.mode != KGE_TRAIN_HEAD && lm->o.enc_batch > 0 && (size_t)lm->o.enc_batch < d->n;
    if (batched && lm->z0cache_saved && lm->z0cache && lm->z0cache_n == d->n) {
        /* resumed: the cache as the interrupted run left it */
    } else if (lm->o.mode == KGE_TRAIN_HEAD || batched) {
        free(lm->z0cache);
        lm->z0cache = malloc(nC * sizeof(float));
        lm->z0cache_n = d->n;
        if (!lm->z0cache) rc = kge_fail(err, KGE_ENOMEM, "out of memory");
        else rc = encode_all(lm, d, lm->z0cache, err);
    }
    lm->z0cache_saved = 0;
    while (!rc && lm->step < until) {
        kge_link_metrics mt;
        if ((rc = train_step(lm, &c, &mt, err))) break;
        if (c.nvp && (lm->step % lm->o.eval_every == 0 || lm->step == until)) {
            float vl = NAN;
            if ((rc = val_loss(lm, &c, &vl, err))) break;
            mt.val_loss = vl;
            if (vl < lm->best_val) { lm->best_val = vl; lm->bad_evals = 0; }
            else if (lm->o.patience && ++lm->bad_evals >= lm->o.patience) mt.stopped_early = 1;
        }
        if (cb && cb(ctx, &mt)) break;
        if (mt.stopped_early) break;
    }
    kge_blas_set_threads(blas);
    ctx_free(&c);
    return rc;
}

/* ---- inference --------------------------------------------------------------- */

int kge_link_encode(kge_link_model *lm, const kge_link_data *d, float *z0, kge_err *err)
{
    int rc = check_data(lm, d, err);
    if (rc) return rc;
    int blas = kge_blas_set_threads(1);
    rc = encode_all(lm, d, z0, err);
    kge_blas_set_threads(blas);
    return rc;
}

int kge_link_embed_from(kge_link_model *lm, const kge_link_data *d, const float *z0, float *z, kge_err *err)
{
    int rc = check_data(lm, d, err);
    if (rc) return rc;
    int blas = kge_blas_set_threads(1);
    mp_graph g;
    if (!(rc = mp_build(lm, d->n, d->E, d->src, d->dst, NULL, &g, err))) {
        rc = kge_tconv_forward(&lm->conv, &lm->cacts, z, z0, &g.g, g.eattr, err);
        mp_free(&g);
    }
    /* the decoder's structural features read the same edges, its mention
     * features the same concepts */
    if (!rc && lm->o.mention) rc = kge_link_text_copy(&lm->mt, d->mention, err);
    if (lm->SX) {
        if (!rc) rc = kge_link_sx_build(&lm->sx, d->n, d->E, d->src, d->dst, NULL, err);
        else kge_link_sx_free(&lm->sx);
    }
    kge_blas_set_threads(blas);
    return rc;
}

int kge_link_embed(kge_link_model *lm, const kge_link_data *d, float *z, kge_err *err)
{
    int rc = check_data(lm, d, err);
    if (rc) return rc;
    float *z0 = malloc(d->n * (size_t)lm->C * sizeof *z0);
    if (!z0) return kge_fail(err, KGE_ENOMEM, "out of memory");
    rc = kge_link_encode(lm, d, z0, err);
    if (!rc) rc = kge_link_embed_from(lm, d, z0, z, err);
    free(z0);
    return rc;
}

int kge_link_score(kge_link_model *lm, const kge_link_data *d, const uint32_t *pairs, size_t np, float *out,
                   kge_err *err)
{
    for (size_t p = 0; p < 2 * np; p++)
        if (pairs[p] >= d->n)
            return kge_fail(err, KGE_EUSAGE, "pair %zu names concept %u outside 0..%zu", p / 2, pairs[p],
                            d->n ? d->n - 1 : 0);
    float *z = malloc(d->n * (size_t)lm->C * sizeof *z + 1);
    if (!z) return kge_fail(err, KGE_ENOMEM, "out of memory");
    int rc = kge_link_embed(lm, d, z, err);
    if (!rc) rc = kge_link_decode(lm, z, pairs, np, out, err);
    free(z);
    return rc;
}

int kge_link_decode_logits(kge_link_model *lm, const float *z, const uint32_t *pairs, size_t np, float *out, kge_err *err)
{
    if (lm->SX) {
        if (!lm->sx.out_ptr) return kge_fail(err, KGE_EUSAGE, "decoding before the graph is embedded");
        for (size_t p = 0; p < 2 * np; p++)
            if (pairs[p] >= lm->sx.n)
                return kge_fail(err, KGE_EUSAGE, "pair %zu names concept %u outside the embedded 0..%zu", p / 2,
                                pairs[p], lm->sx.n - 1);
    }
    if (lm->S > lm->SX && lm->mt.n)
        for (size_t p = 0; p < 2 * np; p++)
            if (pairs[p] >= lm->mt.n)
                return kge_fail(err, KGE_EUSAGE, "pair %zu names concept %u outside the embedded 0..%zu", p / 2,
                                pairs[p], lm->mt.n - 1);
    int blas = kge_blas_set_threads(1), oom = 0;
    /* chunks bound the scratch (pairs · (3C + S + H) floats) */
    for (size_t p0 = 0; p0 < np && !oom; p0 += 4096) {
        size_t m = np - p0 < 4096 ? np - p0 : 4096;
        decode(lm, z, &lm->sx, pairs + 2 * p0, NULL, m, out + p0, NULL, &oom);
    }
    kge_blas_set_threads(blas);
    return oom ? kge_fail(err, KGE_ENOMEM, "out of memory") : KGE_OK;
}

int kge_link_decode(kge_link_model *lm, const float *z, const uint32_t *pairs, size_t np, float *out, kge_err *err)
{
    int rc = kge_link_decode_logits(lm, z, pairs, np, out, err);
    if (rc) return rc;
    for (size_t p = 0; p < np; p++) {
        /* the calibrated log-odds: -(a·s + b); plain: s */
        float t = lm->calibrated ? -(lm->cal_a * out[p] + lm->cal_b) + logf(lm->cal_prior / (1.0f - lm->cal_prior)) : out[p];
        out[p] = t >= 0.0f ? 1.0f / (1.0f + expf(-t)) : expf(t) / (1.0f + expf(t));
    }
    return KGE_OK;
}

void kge_link_set_calibration(kge_link_model *lm, int on, float a, float b)
{
    lm->calibrated = on != 0;
    lm->cal_a = on ? a : 0.0f;
    lm->cal_b = on ? b : 0.0f;
    lm->cal_prior = 0.5f;
    lm->cal_struct = 0.0f;
    lm->cal_titles = 0;
    lm->cal_regression = 1;
    lm->cal_graphneg = 0;
}

void kge_link_set_stack(kge_link_model *lm, float c) { lm->cal_struct = lm->calibrated && isfinite(c) ? c : 0.0f; }

float kge_link_stack(const kge_link_model *lm) { return lm->calibrated ? lm->cal_struct : 0.0f; }

void kge_link_set_stack_titles(kge_link_model *lm, int on) { lm->cal_titles = lm->calibrated && on != 0; }

int kge_link_stack_titles(const kge_link_model *lm) { return lm->calibrated && lm->cal_struct != 0.0f && lm->cal_titles; }

void kge_link_set_stack_regression(kge_link_model *lm, int version)
{
    lm->cal_regression = lm->calibrated && version == KGE_STACK_REGRESSION ? version : 1;
}

int kge_link_stack_regression(const kge_link_model *lm)
{
    return lm->calibrated && lm->cal_struct != 0.0f && lm->cal_regression > 1 ? lm->cal_regression : 1;
}

void kge_link_set_stack_graph_negatives(kge_link_model *lm, int on) { lm->cal_graphneg = lm->calibrated && on != 0; }

int kge_link_stack_graph_negatives(const kge_link_model *lm)
{
    return lm->calibrated && lm->cal_struct != 0.0f && lm->cal_graphneg;
}

void kge_link_set_prior(kge_link_model *lm, float prior)
{
    lm->cal_prior = prior > 0.0f && prior < 1.0f ? prior : 0.5f;
}

float kge_link_prior(const kge_link_model *lm) { return lm->calibrated ? lm->cal_prior : 0.5f; }

int kge_link_calibration(const kge_link_model *lm, float *a, float *b)
{
    if (a) *a = lm->cal_a;
    if (b) *b = lm->cal_b;
    return lm->calibrated;
}

int kge_link_dim(const kge_link_model *lm) { return lm->C; }
