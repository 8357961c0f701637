/* LoRA adapters on query and value (see lora.h). */
#include "encoder/lora.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/safetensors.h"
#include "encoder/train_rng.h"

int kge_lora_init(kge_lora *lo, const kge_bert_config *cfg, int rank, float alpha, kge_err *err)
{
    memset(lo, 0, sizeof *lo);
    if (rank < 1 || rank > cfg->hidden)
        return kge_fail(err, KGE_EUSAGE, "LoRA rank %d must be in 1..%d", rank, cfg->hidden);
    if (!(alpha > 0.0f)) return kge_fail(err, KGE_EUSAGE, "LoRA alpha must be positive");
    size_t n = 4 * (size_t)cfg->layers * (size_t)rank * (size_t)cfg->hidden;
    lo->block = calloc(n, sizeof(float));
    if (!lo->block) return kge_fail(err, KGE_ENOMEM, "out of memory for LoRA adapters");
    lo->layers = cfg->layers;
    lo->hidden = cfg->hidden;
    lo->rank = rank;
    lo->alpha = alpha;
    lo->scaling = alpha / (float)rank;
    lo->nparams = n;
    return KGE_OK;
}

void kge_lora_free(kge_lora *lo)
{
    free(lo->block);
    memset(lo, 0, sizeof *lo);
}

float *kge_lora_tensor(const kge_lora *lo, int l, int k)
{
    return lo->block + ((size_t)l * 4 + (size_t)k) * (size_t)lo->rank * (size_t)lo->hidden;
}

void kge_lora_init_random(kge_lora *lo, uint64_t seed)
{
    kge_rng r;
    kge_rng_seed(&r, seed);
    float bound = 1.0f / sqrtf((float)lo->hidden);
    size_t n = (size_t)lo->rank * (size_t)lo->hidden;
    for (int l = 0; l < lo->layers; l++)
        for (int k = 0; k < 4; k++) {
            float *t = kge_lora_tensor(lo, l, k);
            for (size_t i = 0; i < n; i++)
                t[i] = (k == KGE_LORA_QA || k == KGE_LORA_VA) ? bound * (2.0f * kge_rng_uniform(&r) - 1.0f) : 0.0f;
        }
}

void kge_lora_merge(const kge_lora *lo, const kge_bert *base, kge_bert *merged)
{
    memcpy(merged->block, base->block, base->nparams * sizeof(float));
    merged->has_pooler = base->has_pooler;
    merged->has_mlm = base->has_mlm;
    int C = lo->hidden, r = lo->rank;
    for (int l = 0; l < lo->layers; l++)
        for (int j = 0; j < 2; j++) {   /* query (slot 0 of qkv), value (slot 2) */
            float *W = merged->p.qkvw + ((size_t)l * 3 + (j ? 2u : 0u)) * (size_t)C * (size_t)C;
            const float *A = kge_lora_tensor(lo, l, j ? KGE_LORA_VA : KGE_LORA_QA),
                        *B = kge_lora_tensor(lo, l, j ? KGE_LORA_VB : KGE_LORA_QB);
            // W (C,C) += scaling · B (C,r) · A (r,C)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, C, C, r, lo->scaling, B, r, A, C, 1.0f, W, C);
        }
}

void kge_lora_backward(const kge_lora *lo, const kge_bert *mg, kge_lora *g)
{
    int C = lo->hidden, r = lo->rank;
    for (int l = 0; l < lo->layers; l++)
        for (int j = 0; j < 2; j++) {
            const float *dW = mg->p.qkvw + ((size_t)l * 3 + (j ? 2u : 0u)) * (size_t)C * (size_t)C;
            const float *A = kge_lora_tensor(lo, l, j ? KGE_LORA_VA : KGE_LORA_QA),
                        *B = kge_lora_tensor(lo, l, j ? KGE_LORA_VB : KGE_LORA_QB);
            float *dA = kge_lora_tensor(g, l, j ? KGE_LORA_VA : KGE_LORA_QA),
                  *dB = kge_lora_tensor(g, l, j ? KGE_LORA_VB : KGE_LORA_QB);
            // dA (r,C) += scaling · B (C,r)ᵀ · dW (C,C) ; dB (C,r) += scaling · dW (C,C) · A (r,C)ᵀ
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, C, C, lo->scaling, B, r, dW, C, 1.0f, dA, C);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, C, r, C, lo->scaling, dW, C, A, C, 1.0f, dB, r);
        }
}

static const char *const lora_part[4] = {"query.lora_A", "query.lora_B", "value.lora_A", "value.lora_B"};

int kge_lora_load(kge_lora *lo, const char *path, kge_err *err)
{
    kge_st *st = NULL;
    int rc = kge_st_open(path, &st, err);
    if (rc) return rc;
    static const char *const prefixes[4] = {"", "base_model.model.", "base_model.model.bert.", "bert."};
    const char *prefix = NULL;
    for (int i = 0; i < 4 && !prefix; i++) {
        char probe[192];
        snprintf(probe, sizeof probe, "%sencoder.layer.0.attention.self.query.lora_A.weight", prefixes[i]);
        if (kge_st_find(st, probe)) prefix = prefixes[i];
    }
    if (!prefix) {
        kge_st_close(st);
        return kge_fail(err, KGE_ENOTFOUND, "%s: no LoRA adapter tensors "
                        "(encoder.layer.0.attention.self.query.lora_A.weight)", path);
    }
    for (int l = 0; l < lo->layers && !rc; l++)
        for (int k = 0; k < 4 && !rc; k++) {
            char name[192];
            snprintf(name, sizeof name, "%sencoder.layer.%d.attention.self.%s.weight", prefix, l, lora_part[k]);
            int64_t shape[2] = {k % 2 ? lo->hidden : lo->rank, k % 2 ? lo->rank : lo->hidden};
            const kge_st_tensor *t;
            rc = kge_st_expect(st, name, 2, shape, &t, err);
            if (!rc) rc = kge_st_to_f32(t, kge_lora_tensor(lo, l, k), err);
            if (rc) kge_fail_ctx(err, "%s", path);
        }
    kge_st_close(st);
    return rc;
}

int kge_lora_save(const kge_lora *lo, const char *path, const char *const *extra, size_t nextra, kge_err *err)
{
    if (nextra > 8) return kge_fail(err, KGE_EUSAGE, "too many metadata pairs");
    size_t n = 4 * (size_t)lo->layers;
    kge_st_wtensor *ts = calloc(n, sizeof *ts);
    char (*names)[192] = calloc(n, sizeof *names);
    int64_t (*shapes)[2] = calloc(n, sizeof *shapes);
    int rc;
    if (!ts || !names || !shapes) { rc = kge_fail(err, KGE_ENOMEM, "out of memory"); goto out; }
    for (int l = 0; l < lo->layers; l++)
        for (int k = 0; k < 4; k++) {
            size_t i = (size_t)l * 4 + (size_t)k;
            snprintf(names[i], sizeof names[i], "base_model.model.encoder.layer.%d.attention.self.%s.weight", l,
                     lora_part[k]);
            shapes[i][0] = k % 2 ? lo->hidden : lo->rank;
            shapes[i][1] = k % 2 ? lo->rank : lo->hidden;
            ts[i] = (kge_st_wtensor){names[i], KGE_DT_F32, 2, shapes[i], kge_lora_tensor(lo, l, k)};
        }
    char rank[32], alpha[32];
    snprintf(rank, sizeof rank, "%d", lo->rank);
    snprintf(alpha, sizeof alpha, "%.9g", (double)lo->alpha);
    const char *meta[22] = {"format", "pt", "lora_rank", rank, "lora_alpha", alpha};
    for (size_t i = 0; i < 2 * nextra; i++) meta[6 + i] = extra[i];
    rc = kge_st_write(path, ts, n, meta, 3 + nextra, err);
out:
    free(ts);
    free(names);
    free(shapes);
    return rc;
}
