/* BERT encoder: parameter block, checkpoint loading, forward pass. */
#include "encoder/bert.h"
#include "encoder/files.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "encoder/gemm.h"
#include "encoder/kernels.h"
#include "encoder/safetensors.h"
#include "encoder/threads.h"

/* ---- parameter block ------------------------------------------------------ */

static void param_sizes(const kge_bert_config *c, size_t s[KGE_BERT_NUM_PARAMS])
{
    size_t V = (size_t)c->vocab_size, C = (size_t)c->hidden, L = (size_t)c->layers,
           I = (size_t)c->intermediate, P = (size_t)c->max_positions, TT = (size_t)c->type_vocab;
    size_t k = 0;
    s[k++] = V * C;  s[k++] = P * C;  s[k++] = TT * C;  s[k++] = C;  s[k++] = C;
    s[k++] = L * 3 * C * C;  s[k++] = L * 3 * C;
    s[k++] = L * C * C;  s[k++] = L * C;
    s[k++] = L * C;  s[k++] = L * C;
    s[k++] = L * I * C;  s[k++] = L * I;
    s[k++] = L * C * I;  s[k++] = L * C;
    s[k++] = L * C;  s[k++] = L * C;
    s[k++] = C * C;  s[k++] = C;
    s[k++] = C * C;  s[k++] = C;  s[k++] = C;  s[k++] = C;  s[k++] = V;
    while (k < KGE_BERT_NUM_PARAMS) s[k++] = 0;
}

static int check_config(const kge_bert_config *c, kge_err *err)
{
    if (c->vocab_size <= 0 || c->hidden <= 0 || c->layers <= 0 || c->heads <= 0 ||
        c->intermediate <= 0 || c->max_positions <= 0 || c->type_vocab <= 0)
        return kge_fail(err, KGE_EUSAGE, "model sizes must be positive");
    if (c->hidden % c->heads)
        return kge_fail(err, KGE_EUSAGE, "hidden_size %d is not a multiple of num_attention_heads %d",
                        c->hidden, c->heads);
    if (!(c->ln_eps > 0.0f)) return kge_fail(err, KGE_EUSAGE, "layer_norm_eps must be positive");
    return KGE_OK;
}

int kge_bert_create(const kge_bert_config *cfg, kge_bert **out, kge_err *err)
{
    *out = NULL;
    int rc = check_config(cfg, err);
    if (rc) return rc;
    size_t s[KGE_BERT_NUM_PARAMS], total = 0;
    param_sizes(cfg, s);
    for (int i = 0; i < KGE_BERT_NUM_PARAMS; i++) total += s[i];
    kge_bert *m = calloc(1, sizeof *m);
    if (!m) return kge_fail(err, KGE_ENOMEM, "out of memory");
    m->block = calloc(total, sizeof(float));
    if (!m->block) {
        free(m);
        return kge_fail(err, KGE_ENOMEM, "out of memory for %zu parameters", total);
    }
    m->cfg = *cfg;
    m->nparams = total;
    m->max_seq = cfg->max_positions;
    float **ptrs[KGE_BERT_NUM_PARAMS] = {
        &m->p.wte, &m->p.wpe, &m->p.wtt, &m->p.embln_w, &m->p.embln_b,
        &m->p.qkvw, &m->p.qkvb, &m->p.attprojw, &m->p.attprojb, &m->p.ln1w, &m->p.ln1b,
        &m->p.fcw, &m->p.fcb, &m->p.fcprojw, &m->p.fcprojb, &m->p.ln2w, &m->p.ln2b,
        &m->p.poolw, &m->p.poolb, &m->p.mlmw, &m->p.mlmb, &m->p.mlmlnw, &m->p.mlmlnb, &m->p.mlmbias,
        NULL, NULL,
    };
    float *p = m->block;
    for (int i = 0; i < KGE_BERT_NUM_PARAMS; i++) {
        if (ptrs[i]) *ptrs[i] = p;
        p += s[i];
    }
    *out = m;
    return KGE_OK;
}

void kge_bert_unpack(kge_bert *m)
{
    free(m->packed);
    m->packed = m->pk_qkv = m->pk_attproj = m->pk_fc = m->pk_fcproj = NULL;
}

int kge_bert_pack(kge_bert *m, kge_err *err)
{
    kge_bert_unpack(m);
    if (!kge_gemm_available()) return KGE_OK;
    size_t C = (size_t)m->cfg.hidden, I = (size_t)m->cfg.intermediate, L = (size_t)m->cfg.layers;
    /* (OC, C) of each matrix, its weights and where its packed copy goes */
    const size_t shape[4][2] = {{3 * C, C}, {C, C}, {I, C}, {C, I}};
    const float *w[4] = {m->p.qkvw, m->p.attprojw, m->p.fcw, m->p.fcprojw};
    float **dst[4] = {&m->pk_qkv, &m->pk_attproj, &m->pk_fc, &m->pk_fcproj};
    size_t total = 0;
    for (int i = 0; i < 4; i++) total += L * kge_gemm_packed_floats(shape[i][0], shape[i][1]);
    m->packed = aligned_alloc(64, (total * sizeof(float) + 63) & ~(size_t)63);
    if (!m->packed) return kge_fail(err, KGE_ENOMEM, "out of memory for %zu packed weights", total);
    float *p = m->packed;
    for (int i = 0; i < 4; i++) {
        size_t OC = shape[i][0], K = shape[i][1], n = kge_gemm_packed_floats(OC, K);
        *dst[i] = p;
        for (size_t l = 0; l < L; l++, p += n) kge_gemm_pack(p, w[i] + l * OC * K, OC, K);
    }
    return KGE_OK;
}

void kge_bert_free(kge_bert *m)
{
    if (!m) return;
    kge_bert_unpack(m);
    free(m->block);
    kge_vocab_free(m->vocab);
    free(m);
}

static void add_t(kge_bert_tensor *o, size_t *k, int group, float *data, int ndim, int64_t d0, int64_t d1,
                  const char *fmt, int layer)
{
    kge_bert_tensor *t = &o[(*k)++];
    snprintf(t->name, sizeof t->name, fmt, layer);
    t->data = data;
    t->ndim = ndim;
    t->shape[0] = d0;
    t->shape[1] = d1;
    t->group = group;
}

size_t kge_bert_tensors(const kge_bert *m, kge_bert_tensor *o)
{
    const kge_bert_config *c = &m->cfg;
    const kge_bert_params *p = &m->p;
    int64_t V = c->vocab_size, C = c->hidden, I = c->intermediate;
    size_t k = 0, uC = (size_t)C, uI = (size_t)I;
    add_t(o, &k, 0, p->wte, 2, V, C, "embeddings.word_embeddings.weight", 0);
    add_t(o, &k, 0, p->wpe, 2, c->max_positions, C, "embeddings.position_embeddings.weight", 0);
    add_t(o, &k, 0, p->wtt, 2, c->type_vocab, C, "embeddings.token_type_embeddings.weight", 0);
    add_t(o, &k, 0, p->embln_w, 1, C, 0, "embeddings.LayerNorm.weight", 0);
    add_t(o, &k, 0, p->embln_b, 1, C, 0, "embeddings.LayerNorm.bias", 0);
    static const char *qkv[3] = {"query", "key", "value"};
    for (int l = 0; l < c->layers; l++) {
        size_t ul = (size_t)l;
        for (int j = 0; j < 3; j++) {
            char fmt[96];
            snprintf(fmt, sizeof fmt, "encoder.layer.%%d.attention.self.%s.weight", qkv[j]);
            add_t(o, &k, 0, p->qkvw + (ul * 3 + (size_t)j) * uC * uC, 2, C, C, fmt, l);
            snprintf(fmt, sizeof fmt, "encoder.layer.%%d.attention.self.%s.bias", qkv[j]);
            add_t(o, &k, 0, p->qkvb + (ul * 3 + (size_t)j) * uC, 1, C, 0, fmt, l);
        }
        add_t(o, &k, 0, p->attprojw + ul * uC * uC, 2, C, C, "encoder.layer.%d.attention.output.dense.weight", l);
        add_t(o, &k, 0, p->attprojb + ul * uC, 1, C, 0, "encoder.layer.%d.attention.output.dense.bias", l);
        add_t(o, &k, 0, p->ln1w + ul * uC, 1, C, 0, "encoder.layer.%d.attention.output.LayerNorm.weight", l);
        add_t(o, &k, 0, p->ln1b + ul * uC, 1, C, 0, "encoder.layer.%d.attention.output.LayerNorm.bias", l);
        add_t(o, &k, 0, p->fcw + ul * uI * uC, 2, I, C, "encoder.layer.%d.intermediate.dense.weight", l);
        add_t(o, &k, 0, p->fcb + ul * uI, 1, I, 0, "encoder.layer.%d.intermediate.dense.bias", l);
        add_t(o, &k, 0, p->fcprojw + ul * uC * uI, 2, C, I, "encoder.layer.%d.output.dense.weight", l);
        add_t(o, &k, 0, p->fcprojb + ul * uC, 1, C, 0, "encoder.layer.%d.output.dense.bias", l);
        add_t(o, &k, 0, p->ln2w + ul * uC, 1, C, 0, "encoder.layer.%d.output.LayerNorm.weight", l);
        add_t(o, &k, 0, p->ln2b + ul * uC, 1, C, 0, "encoder.layer.%d.output.LayerNorm.bias", l);
    }
    add_t(o, &k, 1, p->poolw, 2, C, C, "pooler.dense.weight", 0);
    add_t(o, &k, 1, p->poolb, 1, C, 0, "pooler.dense.bias", 0);
    add_t(o, &k, 2, p->mlmw, 2, C, C, "cls.predictions.transform.dense.weight", 0);
    add_t(o, &k, 2, p->mlmb, 1, C, 0, "cls.predictions.transform.dense.bias", 0);
    add_t(o, &k, 2, p->mlmlnw, 1, C, 0, "cls.predictions.transform.LayerNorm.weight", 0);
    add_t(o, &k, 2, p->mlmlnb, 1, C, 0, "cls.predictions.transform.LayerNorm.bias", 0);
    add_t(o, &k, 2, p->mlmbias, 1, V, 0, "cls.predictions.bias", 0);
    return k;
}

/* ---- loading ------------------------------------------------------------- */

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int cfg_int(json_t *root, const char *path, const char *key, int dflt, int *out, kge_err *err)
{
    json_t *v = json_object_get(root, key);
    if (!v) {
        if (dflt < 0) return kge_fail(err, KGE_EINPUT, "%s: missing \"%s\"", path, key);
        *out = dflt;
        return KGE_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > (1 << 24))
        return kge_fail(err, KGE_EINPUT, "%s: \"%s\" must be a positive integer", path, key);
    *out = (int)json_integer_value(v);
    return KGE_OK;
}

static int read_config(const char *dir, kge_bert_config *c, kge_err *err)
{
    char *path = kge_path_join(dir, "config.json");
    if (!path) return kge_fail(err, KGE_ENOMEM, "out of memory");
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    int rc = KGE_OK;
    if (!root) {
        rc = file_exists(path) ? kge_fail(err, KGE_EINPUT, "%s:%d:%d: %s", path, je.line, je.column, je.text)
                               : kge_fail(err, KGE_ENOTFOUND, "%s: no such file (a Hugging Face BERT folder "
                                          "holds config.json, vocab.txt and model.safetensors)", path);
        free(path);
        return rc;
    }
    if (!json_is_object(root)) { rc = kge_fail(err, KGE_EINPUT, "%s: not a JSON object", path); goto out; }
    const char *mt = json_string_value(json_object_get(root, "model_type"));
    if (mt && strcmp(mt, "bert") != 0) {
        rc = kge_fail(err, KGE_EINPUT, "%s: model_type \"%s\" is not supported (only \"bert\")", path, mt);
        goto out;
    }
    const char *act = json_string_value(json_object_get(root, "hidden_act"));
    if (act && strcmp(act, "gelu") != 0) {
        rc = kge_fail(err, KGE_EINPUT, "%s: hidden_act \"%s\" is not supported (only \"gelu\")", path, act);
        goto out;
    }
    const char *pe = json_string_value(json_object_get(root, "position_embedding_type"));
    if (pe && strcmp(pe, "absolute") != 0) {
        rc = kge_fail(err, KGE_EINPUT, "%s: position_embedding_type \"%s\" is not supported", path, pe);
        goto out;
    }
    if ((rc = cfg_int(root, path, "vocab_size", -1, &c->vocab_size, err)) ||
        (rc = cfg_int(root, path, "hidden_size", -1, &c->hidden, err)) ||
        (rc = cfg_int(root, path, "num_hidden_layers", -1, &c->layers, err)) ||
        (rc = cfg_int(root, path, "num_attention_heads", -1, &c->heads, err)) ||
        (rc = cfg_int(root, path, "intermediate_size", -1, &c->intermediate, err)) ||
        (rc = cfg_int(root, path, "max_position_embeddings", 512, &c->max_positions, err)) ||
        (rc = cfg_int(root, path, "type_vocab_size", 2, &c->type_vocab, err)))
        goto out;
    json_t *eps = json_object_get(root, "layer_norm_eps");
    c->ln_eps = eps ? (float)json_number_value(eps) : 1e-12f;
    if (eps && !json_is_number(eps)) {
        rc = kge_fail(err, KGE_EINPUT, "%s: \"layer_norm_eps\" must be a number", path);
        goto out;
    }
    if ((rc = check_config(c, err))) {
        kge_fail_ctx(err, "%s", path);
        rc = KGE_EINPUT;
        if (err) err->code = rc;
    }
out:
    json_decref(root);
    free(path);
    return rc;
}

/* Optional JSON side files: tokenizer_config.json (do_lower_case) and
 * sentence_bert_config.json (max_seq_length, do_lower_case). */
static void read_side_configs(const char *dir, int *lower, int *max_seq)
{
    static const char *files[2] = {"tokenizer_config.json", "sentence_bert_config.json"};
    for (int i = 0; i < 2; i++) {
        char *p = kge_path_join(dir, files[i]);
        json_t *r = p ? json_load_file(p, 0, NULL) : NULL;
        free(p);
        if (!r) continue;
        json_t *v = json_object_get(r, "do_lower_case");
        if (json_is_boolean(v)) *lower = json_is_true(v);
        v = json_object_get(r, "max_seq_length");
        if (json_is_integer(v) && json_integer_value(v) > 2 && json_integer_value(v) < *max_seq)
            *max_seq = (int)json_integer_value(v);
        json_decref(r);
    }
}

int kge_bert_load_weights(kge_bert *m, const char *path, kge_err *err)
{
    kge_bert_unpack(m);   /* the weights change: a packed copy would be stale */
    kge_st *st = NULL;
    int rc = kge_st_open(path, &st, err);
    if (rc) return rc;
    const char *prefix = "";
    if (!kge_st_find(st, "embeddings.word_embeddings.weight") &&
        kge_st_find(st, "bert.embeddings.word_embeddings.weight"))
        prefix = "bert.";
    size_t nt = KGE_BERT_MAX_TENSORS(m->cfg.layers);
    kge_bert_tensor *ts = malloc(nt * sizeof *ts);
    if (!ts) { kge_st_close(st); return kge_fail(err, KGE_ENOMEM, "out of memory"); }
    nt = kge_bert_tensors(m, ts);
    /* A group is present when its first tensor is; then all of it must be. */
    int present[3] = {1, 0, 0};
    for (size_t i = 0; i < nt; i++) {
        char full[128];
        const char *pfx = ts[i].group == 2 ? "" : prefix;   /* the MLM head is never under bert. */
        snprintf(full, sizeof full, "%s%s", pfx, ts[i].name);
        if (ts[i].group && (i == 0 || ts[i - 1].group != ts[i].group))
            present[ts[i].group] = kge_st_find(st, full) != NULL;
        if (!present[ts[i].group]) continue;
        const kge_st_tensor *t;
        if ((rc = kge_st_expect(st, full, ts[i].ndim, ts[i].shape, &t, err))) break;
        if ((rc = kge_st_to_f32(t, ts[i].data, err))) {
            kge_fail_ctx(err, "%s", path);
            break;
        }
    }
    if (!rc) {
        m->has_pooler = present[1];
        m->has_mlm = present[2];
    }
    free(ts);
    kge_st_close(st);
    return rc;
}

int kge_bert_load(const char *dir, kge_bert **out, kge_err *err)
{
    *out = NULL;
    kge_bert_config cfg;
    int rc = read_config(dir, &cfg, err);
    if (rc) return rc;
    kge_bert *m = NULL;
    if ((rc = kge_bert_create(&cfg, &m, err))) return rc;
    char *vp = kge_path_join(dir, "vocab.txt"), *wp = kge_path_join(dir, "model.safetensors");
    if (!vp || !wp) { rc = kge_fail(err, KGE_ENOMEM, "out of memory"); goto out; }
    if ((rc = kge_vocab_load(vp, &m->vocab, err))) goto out;
    if (kge_vocab_size(m->vocab) != (size_t)cfg.vocab_size) {
        rc = kge_fail(err, KGE_EINPUT, "%s: %zu pieces but config.json says vocab_size %d", vp,
                      kge_vocab_size(m->vocab), cfg.vocab_size);
        goto out;
    }
    if (!file_exists(wp)) {
        char *bin = kge_path_join(dir, "pytorch_model.bin");
        int hasbin = bin && file_exists(bin);
        free(bin);
        rc = kge_fail(err, KGE_ENOTFOUND, "%s: no such file%s", wp,
                      hasbin ? " (only pytorch_model.bin is there: convert it to safetensors, "
                               "e.g. with the Hugging Face 'safetensors' convert script)" : "");
        goto out;
    }
    if ((rc = kge_bert_load_weights(m, wp, err))) goto out;
    int lower = 1, max_seq = cfg.max_positions;
    read_side_configs(dir, &lower, &max_seq);
    m->tok = kge_tokenizer_default(m->vocab, lower);
    m->max_seq = max_seq;
out:
    free(vp);
    free(wp);
    if (rc) kge_bert_free(m);
    else *out = m;
    return rc;
}

/* ---- activations and forward -------------------------------------------- */

void kge_bert_acts_free(kge_bert_acts *a)
{
    kge_pool_free(a->pool);
    free(a->block);
    memset(a, 0, sizeof *a);
}

void kge_bert_acts_set_threads(kge_bert_acts *a, int n)
{
    if (n < 0) n = 0;
    if (a->pool && kge_pool_size(a->pool) != (n ? n : kge_default_threads())) {
        kge_pool_free(a->pool);
        a->pool = NULL;
    }
    a->threads = n;
}

/* The pool forward passes run on (created at first use). */
static kge_pool *pool_of(kge_bert_acts *a)
{
    if (!a->pool) a->pool = kge_pool_new(a->threads ? a->threads : kge_default_threads());
    return a->pool;
}

/* Attention floats per layer: with keep, every probability (Σ over
 * sequences of NH·len²); without, one scratch per thread for the longest
 * sequence (kge_attention_head_infer). */
static size_t att_floats(const kge_bert *m, kge_bert_acts *a, size_t sum_sq, size_t Tmax, int keep)
{
    size_t NH = (size_t)m->cfg.heads;
    if (keep) return NH * sum_sq;
    return (size_t)kge_pool_size(pool_of(a)) * kge_attention_scratch(Tmax, (size_t)m->cfg.hidden / NH);
}

/* Lays out a's block for N rows (tokens) and S attention floats per layer
 * (att_floats). Inference (keep 0) applies GELU in place,
 * so fch_gelu aliases fch. -1 when out of memory. */
static int acts_layout(const kge_bert *m, kge_bert_acts *a, size_t N, size_t S, int keep)
{
    size_t C = (size_t)m->cfg.hidden, I = (size_t)m->cfg.intermediate;
    size_t LK = keep ? (size_t)m->cfg.layers : 1;
    size_t sz[] = {
        N * C, N, N, N * C,                                 /* emb, mean, rstd, x0 */
        LK * N * 3 * C, LK * S, LK * N * C,                 /* qkv, att, atty */
        LK * N * C, LK * N, LK * N, LK * N * C,             /* res1, ln1 mean/rstd, ln1 */
        LK * N * I, keep ? LK * N * I : 0,                  /* fch, fch_gelu */
        LK * N * C, LK * N, LK * N, LK * N * C,             /* res2, ln2 mean/rstd, ln2 */
        N,                                                  /* keep */
    };
    float **dst[] = {
        &a->emb, &a->emb_mean, &a->emb_rstd, &a->x0, &a->qkv, &a->att, &a->atty,
        &a->res1, &a->ln1_mean, &a->ln1_rstd, &a->ln1, &a->fch, &a->fch_gelu,
        &a->res2, &a->ln2_mean, &a->ln2_rstd, &a->ln2, &a->keep,
    };
    size_t n = sizeof sz / sizeof sz[0], total = 0;
    for (size_t i = 0; i < n; i++) total += (sz[i] + 15) & ~(size_t)15;   /* 64-byte aligned parts */
    if (total > a->cap) {
        float *nb = aligned_alloc(64, total * sizeof(float));
        if (!nb) return -1;
        free(a->block);
        a->block = nb;
        a->cap = total;
    }
    float *p = a->block;
    for (size_t i = 0; i < n; i++) {
        *dst[i] = p;
        p += (sz[i] + 15) & ~(size_t)15;
    }
    if (!keep) a->fch_gelu = a->fch;
    a->keep_all = keep;
    return kge_blas_headroom(kge_pool_size(pool_of(a)));   /* -1: the BLAS would hang, see threads.h */
}

int kge_bert_acts_reserve(const kge_bert *m, kge_bert_acts *a, size_t B, size_t T, int keep, const uint8_t *mask)
{
    size_t BT = B * T;
    if (acts_layout(m, a, BT, att_floats(m, a, B * T * T, T, keep), keep)) return -1;
    a->B = (int)B;
    a->T = (int)T;
    for (size_t i = 0; i < BT; i++) a->keep[i] = !mask || mask[i] ? 1.0f : 0.0f;
    return 0;
}

/* Token ids and types of N rows against the model; T > 0 names a bad
 * entry [row / T, row % T], T == 0 (packed sequences) by its row. */
static int check_tokens(const kge_bert *m, const int32_t *ids, const int32_t *types, size_t N, size_t T,
                        kge_err *err)
{
    const kge_bert_config *c = &m->cfg;
    for (size_t i = 0; i < N; i++) {
        int bad_id = ids[i] < 0 || ids[i] >= c->vocab_size;
        if (!bad_id && !(types && (types[i] < 0 || types[i] >= c->type_vocab))) continue;
        char at[64];
        if (T) snprintf(at, sizeof at, "[%zu,%zu]", i / T, i % T);
        else snprintf(at, sizeof at, "row %zu", i);
        if (bad_id)
            return kge_fail(err, KGE_EUSAGE, "token id %d at %s outside the vocabulary (%d)", ids[i], at,
                            c->vocab_size);
        return kge_fail(err, KGE_EUSAGE, "token type %d at %s outside 0..%d", types[i], at, c->type_vocab - 1);
    }
    return 0;
}

int kge_bert_check_batch(const kge_bert *m, const int32_t *ids, const int32_t *types, int Bi, int Ti, kge_err *err)
{
    const kge_bert_config *c = &m->cfg;
    if (Bi <= 0 || Ti <= 0) return kge_fail(err, KGE_EUSAGE, "empty batch (%d x %d)", Bi, Ti);
    if (Ti > c->max_positions)
        return kge_fail(err, KGE_EUSAGE, "sequence length %d exceeds max_position_embeddings %d",
                        Ti, c->max_positions);
    return check_tokens(m, ids, types, (size_t)Bi * (size_t)Ti, (size_t)Ti, err);
}

/* One forward pass split into tasks: row blocks of the (N, ·) matrices
 * (N tokens of all sequences, whatever the sentence boundaries) and
 * (sequence, head) pairs of attention. Sequence s holds rows
 * off[s]..off[s+1]-1 and, with keep, its attention probabilities start at
 * aoff[s] (without keep aoff is unused: threads use their own scratch). */
typedef struct fwd {
    const kge_bert *m;
    kge_bert_acts  *a;
    const int32_t  *ids, *types;
    const size_t   *off, *aoff;        /* (nseq + 1) row and attention offsets */
    size_t nseq, N, C, I, NH, rows;    /* rows per block task */
    size_t l, k;                       /* layer, and its activation slot */
    int    keep;
    int    pk;                         /* dense layers on m's packed weights (kge_gemm_packed) */
    size_t scratch;                    /* attention scratch floats per thread (without keep) */
    atomic_size_t next;                /* next (sequence, head) pair (without keep) */
    const float *x;                    /* input of layer l (N, C) */
} fwd;

/* The sequence holding row r: the last s with off[s] <= r. O(log nseq). */
static size_t seq_of(const fwd *f, size_t r)
{
    size_t lo = 0, hi = f->nseq;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (f->off[mid] <= r) lo = mid;
        else hi = mid;
    }
    return lo;
}

static void task_embed(void *vc, size_t t)
{
    fwd *f = vc;
    const kge_bert_params *p = &f->m->p;
    size_t r0 = t * f->rows, r1 = r0 + f->rows < f->N ? r0 + f->rows : f->N, C = f->C;
    size_t s = seq_of(f, r0);
    for (size_t r = r0; r < r1; r++) {   /* one row at a time: its position in its sequence */
        while (r >= f->off[s + 1]) s++;
        kge_embedding_forward(f->a->emb + r * C, f->ids + r, f->types ? f->types + r : NULL, p->wte,
                              p->wpe + (r - f->off[s]) * C, p->wtt, 1, 1, C);
    }
    kge_layernorm_forward(f->a->x0 + r0 * C, f->a->emb_mean + r0, f->a->emb_rstd + r0, f->a->emb + r0 * C,
                          p->embln_w, p->embln_b, r1 - r0, C, f->m->cfg.ln_eps);
}

static void task_qkv(void *vc, size_t t)
{
    fwd *f = vc;
    const kge_bert_params *p = &f->m->p;
    size_t r0 = t * f->rows, r1 = r0 + f->rows < f->N ? r0 + f->rows : f->N, C = f->C;
    // qkv (rows,3C) = x (rows,C) · [Wq;Wk;Wv] (3C,C)ᵀ + b
    if (f->pk)
        kge_gemm_packed(f->a->qkv + (f->k * f->N + r0) * 3 * C, f->x + r0 * C,
                        f->m->pk_qkv + f->l * kge_gemm_packed_floats(3 * C, C), p->qkvb + f->l * 3 * C, NULL, 0,
                        r1 - r0, C, 3 * C);
    else
        kge_matmul_forward(f->a->qkv + (f->k * f->N + r0) * 3 * C, f->x + r0 * C,
                       p->qkvw + f->l * 3 * C * C, p->qkvb + f->l * 3 * C, r1 - r0, C, 3 * C);
}

static void task_attention(void *vc, size_t t)
{
    fwd *f = vc;
    size_t s = t / f->NH, h = t % f->NH, k = f->k, r = f->off[s], T = f->off[s + 1] - r, C = f->C;
    // sequence s alone: its T rows of qkv, its (NH,T,T) probabilities
    kge_attention_head_forward(f->a->atty + (k * f->N + r) * C, f->a->att + k * f->aoff[f->nseq] + f->aoff[s],
                               f->a->qkv + (k * f->N + r) * 3 * C, f->a->keep + r, 0, h, T, C, f->NH);
}

/* Without keep: task t is thread slot t, with its own scratch in a->att;
 * it takes (sequence, head) pairs until none is left. */
static void task_attention_infer(void *vc, size_t slot)
{
    fwd *f = vc;
    float *scratch = f->a->att + slot * f->scratch;
    for (size_t t; (t = atomic_fetch_add(&f->next, 1)) < f->nseq * f->NH;) {
        size_t s = t / f->NH, h = t % f->NH, r = f->off[s], T = f->off[s + 1] - r, C = f->C;
        kge_attention_head_infer(f->a->atty + r * C, f->a->qkv + r * 3 * C, f->a->keep + r, h, T, C, f->NH,
                                 scratch);
    }
}

/* Everything after attention is row-local: output projection, residual,
 * LN1, FFN, residual, LN2 on one block of rows while it is in cache. */
static void task_post(void *vc, size_t t)
{
    fwd *f = vc;
    const kge_bert_params *p = &f->m->p;
    kge_bert_acts *a = f->a;
    size_t r0 = t * f->rows, r1 = r0 + f->rows < f->N ? r0 + f->rows : f->N, n = r1 - r0;
    size_t C = f->C, I = f->I, l = f->l, o = f->k * f->N + r0;
    float eps = f->m->cfg.ln_eps;
    if (f->pk) {   /* packed weights: bias, residual and GELU fused into each product's store */
        const kge_bert *m = f->m;
        float *atty = a->atty + o * C, *res1 = a->res1 + o * C, *ln1 = a->ln1 + o * C, *fch = a->fch + o * I,
              *res2 = a->res2 + o * C;
        // res1 = atty · Woᵀ + bo + x ; ln1 = LN(res1)
        kge_gemm_packed(res1, atty, m->pk_attproj + l * kge_gemm_packed_floats(C, C), p->attprojb + l * C,
                        f->x + r0 * C, 0, n, C, C);
        kge_layernorm_forward(ln1, a->ln1_mean + o, a->ln1_rstd + o, res1, p->ln1w + l * C, p->ln1b + l * C,
                              n, C, eps);
        // fch = gelu(ln1 · W1ᵀ + b1) ; res2 = fch · W2ᵀ + b2 + ln1 ; ln2 = LN(res2)
        kge_gemm_packed(fch, ln1, m->pk_fc + l * kge_gemm_packed_floats(I, C), p->fcb + l * I, NULL, 1, n, C, I);
        kge_gemm_packed(res2, fch, m->pk_fcproj + l * kge_gemm_packed_floats(C, I), p->fcprojb + l * C, ln1, 0,
                        n, I, C);
        kge_layernorm_forward(a->ln2 + o * C, a->ln2_mean + o, a->ln2_rstd + o, res2, p->ln2w + l * C,
                              p->ln2b + l * C, n, C, eps);
        return;
    }
    float *atty = a->atty + o * C, *res1 = a->res1 + o * C, *ln1 = a->ln1 + o * C, *fch = a->fch + o * I,
          *fchg = a->fch_gelu + o * I, *res2 = a->res2 + o * C, *ln2 = a->ln2 + o * C;
    // res1 = (x + bo) + atty · Woᵀ ; ln1 = LN(res1)
    kge_add_rows(res1, f->x + r0 * C, p->attprojb + l * C, n, C);
    kge_matmul_forward_acc(res1, atty, p->attprojw + l * C * C, NULL, n, C, C);
    kge_layernorm_forward(ln1, a->ln1_mean + o, a->ln1_rstd + o, res1, p->ln1w + l * C, p->ln1b + l * C,
                          n, C, eps);
    // res2 = (ln1 + b2) + gelu(ln1 · W1ᵀ + b1) · W2ᵀ ; ln2 = LN(res2)  (GELU in place without keep)
    kge_matmul_forward(fch, ln1, p->fcw + l * I * C, p->fcb + l * I, n, C, I);
    kge_gelu_forward(fchg, fch, n * I);
    kge_add_rows(res2, ln1, p->fcprojb + l * C, n, C);
    kge_matmul_forward_acc(res2, fchg, p->fcprojw + l * C * I, NULL, n, I, C);
    kge_layernorm_forward(ln2, a->ln2_mean + o, a->ln2_rstd + o, res2, p->ln2w + l * C, p->ln2b + l * C,
                          n, C, eps);
}

/* Rows per block task: a quarter of the batch (so two to four threads
 * share the work), between 256 and 512 rows. OpenBLAS packs the weight
 * matrix once per call, so small blocks pay that copy again and again
 * (sgemm on the MiniLM shapes, one thread, AVX-512 kernels: 256 rows
 * 167-175 GFLOP/s, 128 rows 124-149). It depends on the rows only, never
 * on the thread count, so results are the same whatever the threads. */
static size_t block_rows(size_t N)
{
    size_t r = (N / 4 + 31) & ~(size_t)31;
    return r < 256 ? 256 : r > 512 ? 512 : r;
}

/* The forward pass over nseq sequences at rows off[] (keep mask already
 * in a->keep, layout reserved). */
static void forward_rows(const kge_bert *m, kge_bert_acts *a, const int32_t *ids, const int32_t *types,
                         const size_t *off, const size_t *aoff, size_t nseq, int keep)
{
    const kge_bert_config *c = &m->cfg;
    size_t N = off[nseq], Tmax = 0;
    for (size_t s = 0; s < nseq; s++) Tmax = off[s + 1] - off[s] > Tmax ? off[s + 1] - off[s] : Tmax;
    kge_pool *pool = pool_of(a);
    size_t slots = (size_t)kge_pool_size(pool);
    fwd f = {.m = m, .a = a, .ids = ids, .types = types, .off = off, .aoff = aoff, .nseq = nseq, .N = N,
             .C = (size_t)c->hidden, .I = (size_t)c->intermediate, .NH = (size_t)c->heads,
             .rows = block_rows(N), .keep = keep, .pk = !keep && m->packed && kge_gemm_available(),
             .scratch = kge_attention_scratch(Tmax, (size_t)(c->hidden / c->heads))};
    size_t nblocks = (N + f.rows - 1) / f.rows;
    int blas = kge_blas_set_threads(1);
    kge_pool_run(a->pool, nblocks, task_embed, &f);
    f.x = a->x0;
    for (size_t l = 0; l < (size_t)c->layers; l++) {
        f.l = l;
        f.k = keep ? l : 0;
        kge_pool_run(a->pool, nblocks, task_qkv, &f);
        if (keep) kge_pool_run(a->pool, nseq * f.NH, task_attention, &f);
        else {
            atomic_store(&f.next, 0);
            kge_pool_run(pool, slots, task_attention_infer, &f);
        }
        kge_pool_run(a->pool, nblocks, task_post, &f);
        f.x = a->ln2 + f.k * N * f.C;
    }
    kge_blas_set_threads(blas);
    a->hidden = (float *)f.x;
}

int kge_bert_forward(const kge_bert *m, kge_bert_acts *a, const int32_t *ids, const int32_t *types,
                     const uint8_t *mask, int Bi, int Ti, int keep, kge_err *err)
{
    int rc = kge_bert_check_batch(m, ids, types, Bi, Ti, err);
    if (rc) return rc;
    size_t B = (size_t)Bi, T = (size_t)Ti, NH = (size_t)m->cfg.heads;
    size_t *off = malloc(2 * (B + 1) * sizeof *off), *aoff = off + B + 1;
    if (!off || kge_bert_acts_reserve(m, a, B, T, keep, mask)) {
        free(off);
        return kge_fail(err, KGE_ENOMEM, "out of memory for activations or the BLAS work buffers (128 MiB of "
                        "address space per thread)");
    }
    for (size_t b = 0; b <= B; b++) {   /* padded: every sequence T rows, masked keys get 0 */
        off[b] = b * T;
        aoff[b] = b * NH * T * T;
    }
    forward_rows(m, a, ids, types, off, aoff, B, keep);
    free(off);
    return KGE_OK;
}

int kge_bert_forward_packed(const kge_bert *m, kge_bert_acts *a, const int32_t *ids, const int32_t *types,
                            const size_t *off, size_t nseq, kge_err *err)
{
    const kge_bert_config *c = &m->cfg;
    if (nseq == 0 || off[0] != 0) return kge_fail(err, KGE_EUSAGE, "empty batch or first offset not 0");
    size_t Tmax = 0;
    for (size_t s = 0; s < nseq; s++) {
        if (off[s + 1] <= off[s])
            return kge_fail(err, KGE_EUSAGE, "sequence %zu is empty (offsets must increase)", s);
        size_t T = off[s + 1] - off[s];
        if (T > (size_t)c->max_positions)
            return kge_fail(err, KGE_EUSAGE, "sequence %zu: length %zu exceeds max_position_embeddings %d", s, T,
                            c->max_positions);
        Tmax = T > Tmax ? T : Tmax;
    }
    size_t N = off[nseq];
    int rc = check_tokens(m, ids, types, N, 0, err);
    if (rc) return rc;
    if (acts_layout(m, a, N, att_floats(m, a, 0, Tmax, 0), 0))
        return kge_fail(err, KGE_ENOMEM, "out of memory for activations or the BLAS work buffers (128 MiB of "
                        "address space per thread)");
    a->B = (int)nseq;
    a->T = 0;
    for (size_t i = 0; i < N; i++) a->keep[i] = 1.0f;
    forward_rows(m, a, ids, types, off, NULL, nseq, 0);
    return KGE_OK;
}

size_t kge_bert_pack_take(const kge_bert *m, const size_t *len, size_t n)
{
    size_t NH = (size_t)m->cfg.heads, tok = 0, scores = 0, k = 0;
    for (; k < n; k++) {
        size_t T = len[k] ? len[k] : 1;
        if (k > 0 && (tok + T > KGE_BERT_PACK_TOKENS || scores + NH * T * T > KGE_BERT_PACK_SCORES)) break;
        tok += T;
        scores += NH * T * T;
    }
    return k;
}

void kge_bert_pooler_forward(const kge_bert *m, float *out, const float *hidden, int B, int T)
{
    size_t C = (size_t)m->cfg.hidden;
    // out (B,C) = tanh(hidden[:,0] (B,C) · Wpᵀ + bp), CLS rows strided by T·C
    for (size_t b = 0; b < (size_t)B; b++) memcpy(out + b * C, m->p.poolb, C * sizeof(float));
    for (size_t b = 0; b < (size_t)B; b++) {
        const float *h = hidden + b * (size_t)T * C;
        float *o = out + b * C;
        kge_matmul_forward_acc(o, h, m->p.poolw, NULL, 1, C, C);
        for (size_t i = 0; i < C; i++) o[i] = tanhf(o[i]);
    }
}

void kge_bert_mlm_forward(const kge_bert *m, float *out, const float *rows, size_t n, float *scratch)
{
    size_t C = (size_t)m->cfg.hidden, V = (size_t)m->cfg.vocab_size;
    float *h = scratch, *g = scratch + n * C;
    // h (n,C) = rows · Wᵀ + b ; g = gelu(h) ; h = LN(g) ; out (n,V) = h · wteᵀ + bias
    kge_matmul_forward(h, rows, m->p.mlmw, m->p.mlmb, n, C, C);
    kge_gelu_forward(g, h, n * C);
    kge_layernorm_forward(h, NULL, NULL, g, m->p.mlmlnw, m->p.mlmlnb, n, C, m->cfg.ln_eps);
    kge_matmul_forward(out, h, m->p.wte, m->p.mlmbias, n, C, V);
}
