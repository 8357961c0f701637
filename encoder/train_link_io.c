/* Link-prediction checkpoints: a Hugging Face BERT folder plus kgpath's
 * own parts (see train_link.h). */
#include "encoder/train_link_internal.h"
#include "encoder/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encoder/safetensors.h"
#include "encoder/tokenizer.h"
#include "encoder/train_bert.h"

#define MANIFEST "kgpath_train.json"
#define FORMAT "kgpath-link-1"

static int write_json(const char *dir, const char *name, json_t *j, kge_err *err)
{
    char *path = kge_path_join(dir, name);
    char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    int rc;
    if (!path || !text) rc = kge_fail(err, KGE_ENOMEM, "out of memory");
    else {
        size_t n = strlen(text);
        char *t2 = realloc(text, n + 2);
        if (t2) { text = t2; text[n++] = '\n'; text[n] = 0; }
        rc = kge_write_atomic(path, &(kge_chunk){text, n}, 1, err);
    }
    free(path);
    free(text);
    json_decref(j);
    return rc;
}

static const char *mode_name(kge_train_mode m)
{
    return m == KGE_TRAIN_LORA ? "lora" : m == KGE_TRAIN_HEAD ? "head" : "full";
}

static const char *decay_name(kge_lr_decay d)
{
    return d == KGE_LR_COSINE ? "cosine" : d == KGE_LR_CONSTANT ? "constant" : "linear";
}

/* A float as the double of its shortest decimal form (1e-12f -> 1e-12, not
 * 9.999999960041972e-13), so config.json keeps the value the user's had. */
static double float_decimal(float f)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.9g", (double)f);
    for (int p = 1; p < 9; p++) {   /* the fewest digits that read back as f */
        char t[32];
        snprintf(t, sizeof t, "%.*g", p, (double)f);
        if (strtof(t, NULL) == f) return strtod(t, NULL);
    }
    return strtod(buf, NULL);
}

static json_t *hf_config(const kge_bert *b)
{
    const kge_bert_config *c = &b->cfg;
    return json_pack("{s:[s], s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:s, s:f, s:f, s:f, s:i, s:f, s:s}",
                     "architectures", "BertModel", "model_type", "bert", "vocab_size", c->vocab_size,
                     "hidden_size", c->hidden, "num_hidden_layers", c->layers, "num_attention_heads", c->heads,
                     "intermediate_size", c->intermediate, "max_position_embeddings", c->max_positions,
                     "type_vocab_size", c->type_vocab, "hidden_act", "gelu", "layer_norm_eps", float_decimal(c->ln_eps),
                     "hidden_dropout_prob", 0.0, "attention_probs_dropout_prob", 0.0, "pad_token_id", 0,
                     "initializer_range", 0.02, "position_embedding_type", "absolute");
}

/* vocab.txt: the model's, or placeholder pieces (specials first) when the
 * model was built without one, so the folder still loads anywhere. */
static int write_vocab(const kge_bert *b, const char *dir, kge_err *err)
{
    size_t V = (size_t)b->cfg.vocab_size, cap = 16 * V + 64, n = 0;
    char *buf = malloc(cap);
    if (!buf) return kge_fail(err, KGE_ENOMEM, "out of memory");
    static const char *const specials[5] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (size_t i = 0; i < V; i++) {
        char tmp[32];
        const char *piece = b->vocab ? kge_vocab_piece(b->vocab, (int32_t)i) : NULL;
        if (!piece) {
            if (i < 5) piece = specials[i];
            else { snprintf(tmp, sizeof tmp, "[unused%zu]", i - 5); piece = tmp; }
        }
        size_t l = strlen(piece);
        if (n + l + 2 > cap) {
            cap = 2 * (n + l + 2);
            char *nb = realloc(buf, cap);
            if (!nb) { free(buf); return kge_fail(err, KGE_ENOMEM, "out of memory"); }
            buf = nb;
        }
        memcpy(buf + n, piece, l);
        n += l;
        buf[n++] = '\n';
    }
    char *path = kge_path_join(dir, "vocab.txt");
    int rc = path ? kge_write_atomic(path, &(kge_chunk){buf, n}, 1, err) : kge_fail(err, KGE_ENOMEM, "out of memory");
    free(path);
    free(buf);
    return rc;
}

static int write_model(const kge_bert *b, const char *dir, const char *const *meta, size_t nmeta, kge_err *err)
{
    size_t nt = KGE_BERT_MAX_TENSORS(b->cfg.layers), k = 0;
    kge_bert_tensor *ts = malloc(nt * sizeof *ts);
    kge_st_wtensor *w = malloc(nt * sizeof *w);
    char *path = kge_path_join(dir, "model.safetensors");
    int rc;
    if (!ts || !w || !path) { rc = kge_fail(err, KGE_ENOMEM, "out of memory"); goto out; }
    nt = kge_bert_tensors(b, ts);
    for (size_t i = 0; i < nt; i++) {
        if ((ts[i].group == 1 && !b->has_pooler) || (ts[i].group == 2 && !b->has_mlm)) continue;
        w[k++] = (kge_st_wtensor){ts[i].name, KGE_DT_F32, ts[i].ndim, ts[i].shape, ts[i].data};
    }
    rc = kge_st_write(path, w, k, meta, nmeta, err);
out:
    free(ts);
    free(w);
    free(path);
    return rc;
}

/* The names a kgpath-written folder may hold (kge_dir_stage): a BERT
 * folder's, a link checkpoint's, and temporary files of older versions
 * that wrote file by file. */
static int ckpt_name(const char *name)
{
    static const char *const names[] = {"config.json", "vocab.txt", "model.safetensors", "kgpath_heads.safetensors",
                                        "kgpath_optimizer.safetensors", MANIFEST, "adapter_model.safetensors",
                                        "adapter_config.json", KGE_LINK_EXTRA, KGE_LINK_FIT};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!strcmp(name, names[i])) return 1;
    return strstr(name, ".tmp-") != NULL;
}

static int bert_files(const kge_bert *m, const char *dir, kge_err *err)
{
    const char *meta[2] = {"format", "pt"};
    int rc = write_model(m, dir, meta, 1, err);
    if (!rc) rc = write_json(dir, "config.json", hf_config(m), err);
    if (!rc) rc = write_vocab(m, dir, err);
    return rc;
}

int kge_bert_save(const kge_bert *m, const char *dir, kge_err *err)
{
    char *stage = NULL;
    int rc = kge_dir_stage(dir, ckpt_name, &stage, err);
    if (rc) return rc;
    if ((rc = bert_files(m, stage, err))) kge_dir_abort(stage);
    else rc = kge_dir_commit(stage, dir, err);
    free(stage);
    return rc;
}

/* The tensors of kgpath_heads.safetensors. */
typedef struct head_tensor {
    const char *name;
    float      *data;
    int         ndim;
    int64_t     shape[2];
} head_tensor;

static size_t head_tensors(const kge_link_model *lm, head_tensor *t)
{
    const kge_tconv *c = &lm->conv;
    int64_t HC = (int64_t)c->heads * c->out, I = c->in, H = lm->H, C3 = 3 * (int64_t)lm->C + lm->S;
    kge_link_head h;
    kge_link_head_ptrs(lm, lm->head, &h);
    size_t k = 0;
    t[k++] = (head_tensor){"conv.lin_query.weight", c->wq, 2, {HC, I}};
    t[k++] = (head_tensor){"conv.lin_query.bias", c->bq, 1, {HC, 0}};
    t[k++] = (head_tensor){"conv.lin_key.weight", c->wk, 2, {HC, I}};
    t[k++] = (head_tensor){"conv.lin_key.bias", c->bk, 1, {HC, 0}};
    t[k++] = (head_tensor){"conv.lin_value.weight", c->wv, 2, {HC, I}};
    t[k++] = (head_tensor){"conv.lin_value.bias", c->bv, 1, {HC, 0}};
    t[k++] = (head_tensor){"conv.lin_skip.weight", c->ws, 2, {HC, I}};
    t[k++] = (head_tensor){"conv.lin_skip.bias", c->bs, 1, {HC, 0}};
    t[k++] = (head_tensor){"conv.lin_edge.weight", c->we, 2, {HC, c->edge_dim}};
    t[k++] = (head_tensor){"edge_type_embedding", h.temb, 2, {(int64_t)KGE_LINK_NTYPES, lm->D}};
    t[k++] = (head_tensor){"decoder.fc1.weight", h.w1, 2, {H, C3}};
    t[k++] = (head_tensor){"decoder.fc1.bias", h.b1, 1, {H, 0}};
    t[k++] = (head_tensor){"decoder.fc2.weight", h.w2, 2, {1, H}};
    t[k++] = (head_tensor){"decoder.fc2.bias", h.b2, 1, {1, 0}};
    /* structural pair features (the last S inputs of fc1 are φ too) */
    if (lm->S) t[k++] = (head_tensor){"decoder.struct.weight", h.ws, 2, {1, lm->S}};
    return k;
}

static json_t *opts_json(const kge_link_opts *o)
{
    char seed[32];
    snprintf(seed, sizeof seed, "%" PRIu64, o->seed);
    json_t *j = json_pack("{s:s, s:I, s:I, s:s, s:f, s:f, s:f, s:f, s:i, s:i, s:f, s:i, s:i, s:i, s:i, s:f, s:i, "
                     "s:f, s:i, s:i, s:s, s:i}",
                     "mode", mode_name(o->mode), "steps", (json_int_t)o->steps, "warmup", (json_int_t)o->warmup,
                     "decay", decay_name(o->decay), "lr", (double)o->lr, "head_lr", (double)o->head_lr,
                     "weight_decay", (double)o->weight_decay, "clip", (double)o->clip, "batch_pos", o->batch_pos,
                     "neg_per_pos", o->neg_per_pos, "edge_dropout", (double)o->edge_dropout, "gat_heads",
                     o->gat_heads, "type_dim", o->type_dim, "mlp_hidden", o->mlp_hidden, "lora_rank", o->lora_rank,
                     "lora_alpha", (double)o->lora_alpha, "enc_batch", o->enc_batch, "val_frac",
                     (double)o->val_frac, "eval_every", o->eval_every, "patience", o->patience, "seed", seed,
                     "threads", o->threads);
    if (j) {
        json_object_set_new(j, "hidden_dropout", json_real(o->hidden_dropout));
        json_object_set_new(j, "attn_dropout", json_real(o->attn_dropout));
        json_object_set_new(j, "max_tokens", json_integer(o->max_tokens));
        json_object_set_new(j, "view_prob", json_real(o->view_prob));
        json_object_set_new(j, "structural", json_integer(o->structural));
        json_object_set_new(j, "transitive", json_integer(o->transitive));
        json_object_set_new(j, "mention", json_integer(o->mention));
        json_object_set_new(j, "neg_explicit", json_real(o->neg_explicit));
        json_object_set_new(j, "struct_lr", json_real(o->struct_lr));
    }
    return j;
}

/* KGE_LINK_FIT in dir from fit, at lm's step. */
static int fit_file(const kge_link_model *lm, const char *dir, const kge_link_fit *fit, const char *step, kge_err *err)
{
    if (strlen(fit->key) >= sizeof fit->key) return kge_fail(err, KGE_EUSAGE, "fit key too long");
    int64_t zs[2] = {(int64_t)fit->n, (int64_t)fit->C}, f = (int64_t)fit->reg.F, f1 = f + 1;
    kge_st_wtensor w[4];
    size_t nw = 0;
    if (fit->z0) w[nw++] = (kge_st_wtensor){"concepts.z0", KGE_DT_F32, 2, zs, fit->z0};
    if (fit->has_reg) {
        w[nw++] = (kge_st_wtensor){"regression.mu", KGE_DT_F64, 1, &f, fit->reg.mu};
        w[nw++] = (kge_st_wtensor){"regression.sd", KGE_DT_F64, 1, &f, fit->reg.sd};
        w[nw++] = (kge_st_wtensor){"regression.w", KGE_DT_F64, 1, &f1, fit->reg.w};
    }
    (void)lm;
    const char *meta[6] = {"format", KGE_LINK_FIT_FORMAT, "key", fit->key, "kgpath_step", step};
    char *p = kge_path_join(dir, KGE_LINK_FIT);
    int rc = p ? kge_st_write(p, w, nw, meta, 3, err) : kge_fail(err, KGE_ENOMEM, "out of memory");
    free(p);
    return rc;
}

static int link_files(const kge_link_model *lm, const char *dir, const char *extra, const kge_link_fit *fit,
                      kge_err *err)
{
    char step[32], t[32];
    snprintf(step, sizeof step, "%" PRId64, lm->step);
    snprintf(t, sizeof t, "%" PRId64, lm->opt.t);
    const char *meta[4] = {"format", "pt", "kgpath_step", step};
    int rc;
    if ((rc = write_model(lm->bert, dir, meta, 2, err))) return rc;
    if ((rc = write_json(dir, "config.json", hf_config(lm->bert), err))) return rc;
    if ((rc = write_vocab(lm->bert, dir, err))) return rc;
    if (lm->o.mode == KGE_TRAIN_LORA) {
        char *ap = kge_path_join(dir, "adapter_model.safetensors");
        if (!ap) return kge_fail(err, KGE_ENOMEM, "out of memory");
        const char *am[2] = {"kgpath_step", step};
        rc = kge_lora_save(&lm->lora, ap, am, 1, err);
        free(ap);
        if (rc) return rc;
        json_t *ac = json_pack("{s:s, s:i, s:f, s:[s,s], s:f, s:s, s:s, s:s}", "peft_type", "LORA", "r",
                               lm->lora.rank, "lora_alpha", (double)lm->lora.alpha, "target_modules", "query",
                               "value", "lora_dropout", 0.0, "bias", "none", "task_type", "FEATURE_EXTRACTION",
                               "base_model_name_or_path", ".");
        if ((rc = write_json(dir, "adapter_config.json", ac, err))) return rc;
    }
    /* kgpath's parts and the optimiser state */
    head_tensor ht[16];
    size_t nh = head_tensors(lm, ht);
    kge_st_wtensor w[16];
    for (size_t i = 0; i < nh; i++) w[i] = (kge_st_wtensor){ht[i].name, KGE_DT_F32, ht[i].ndim, ht[i].shape, ht[i].data};
    char *hp = kge_path_join(dir, "kgpath_heads.safetensors"), *op = kge_path_join(dir, "kgpath_optimizer.safetensors");
    if (!hp || !op) { free(hp); free(op); return kge_fail(err, KGE_ENOMEM, "out of memory"); }
    rc = kge_st_write(hp, w, nh, meta + 2, 1, err);
    if (!rc) {
        int64_t n = (int64_t)lm->opt.n;
        /* an unfinished run with batched encoding: its embedding cache too
         * (rows of earlier weights, which a resumed run must go on with
         * to end as the uninterrupted one; head mode recomputes its own) */
        int64_t zs[2] = {(int64_t)lm->z0cache_n, lm->C};
        int cache = lm->z0cache && lm->o.mode != KGE_TRAIN_HEAD && lm->step < lm->o.steps;
        kge_st_wtensor ow[3] = {{"adamw.m", KGE_DT_F32, 1, &n, lm->opt.m}, {"adamw.v", KGE_DT_F32, 1, &n, lm->opt.v},
                                {"train.z0cache", KGE_DT_F32, 2, zs, lm->z0cache}};
        const char *om[4] = {"kgpath_step", step, "adamw_t", t};
        rc = kge_st_write(op, ow, cache ? 3 : 2, om, 2, err);
    }
    free(hp);
    free(op);
    if (rc) return rc;
    /* the manifest last: its presence with a matching step marks a whole checkpoint */
    json_t *rng = json_array();
    for (int i = 0; i < 4; i++) {
        char s[24];
        snprintf(s, sizeof s, "%016" PRIx64, lm->rng.s[i]);
        json_array_append_new(rng, json_string(s));
    }
    json_t *m = json_pack("{s:s, s:I, s:o, s:o, s:o, s:i, s:{s:i, s:i, s:i}}", "format", FORMAT, "step",
                          (json_int_t)lm->step, "options", opts_json(&lm->o), "rng", rng, "best_val",
                          isfinite(lm->best_val) ? json_real(lm->best_val) : json_null(), "bad_evals",
                          lm->bad_evals, "sizes", "hidden", lm->C, "mlp_hidden", lm->H, "type_dim", lm->D);
    if (m && lm->calibrated) {
        json_t *jc = json_pack("{s:s, s:f, s:f, s:f}", "method", "platt", "a", (double)lm->cal_a, "b", (double)lm->cal_b,
                               "prior", (double)lm->cal_prior);
        if (jc && lm->cal_struct != 0.0f) json_object_set_new(jc, "structural", json_real((double)lm->cal_struct));
        if (jc && lm->cal_struct != 0.0f && lm->cal_titles) json_object_set_new(jc, "titles", json_integer(1));
        if (jc && lm->cal_struct != 0.0f && lm->cal_regression > 1)
            json_object_set_new(jc, "regression", json_integer(lm->cal_regression));
        if (jc && lm->cal_struct != 0.0f && lm->cal_graphneg) json_object_set_new(jc, "negatives", json_string("graph"));
        json_object_set_new(m, "calibration", jc);
    }
    if (fit && (rc = fit_file(lm, dir, fit, step, err))) { json_decref(m); return rc; }
    if (extra) {
        char *ep = kge_path_join(dir, KGE_LINK_EXTRA);
        rc = ep ? kge_write_atomic(ep, &(kge_chunk){extra, strlen(extra)}, 1, err) : kge_fail(err, KGE_ENOMEM, "out of memory");
        free(ep);
        if (rc) { json_decref(m); return rc; }
    }
    return write_json(dir, MANIFEST, m, err);
}

int kge_link_save_fit(const kge_link_model *lm, const char *dir, const char *extra, const kge_link_fit *fit,
                      kge_err *err)
{
    char *stage = NULL;
    int rc = kge_dir_stage(dir, ckpt_name, &stage, err);
    if (rc) return rc;
    if ((rc = link_files(lm, stage, extra, fit, err))) kge_dir_abort(stage);
    else rc = kge_dir_commit(stage, dir, err);
    free(stage);
    return rc;
}

int kge_link_save_with(const kge_link_model *lm, const char *dir, const char *extra, kge_err *err)
{
    return kge_link_save_fit(lm, dir, extra, NULL, err);
}

int kge_link_save(const kge_link_model *lm, const char *dir, kge_err *err)
{
    return kge_link_save_with(lm, dir, NULL, err);
}

/* The manifest first: once it is gone the folder is no checkpoint (a
 * kill midway leaves files kge_link_load refuses, never a model that
 * loads); then the rest. A folder holding any other name is left alone. */
int kge_link_remove(const char *dir, kge_err *err)
{
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? KGE_OK : kge_fail(err, KGE_EIO, "%s: %s", dir, strerror(errno));
    int rc = KGE_OK;
    for (struct dirent *e; !rc && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && !ckpt_name(e->d_name))
            rc = kge_fail(err, KGE_EUSAGE, "%s holds %s, which is not a checkpoint's: left as it is", dir, e->d_name);
    if (!rc && unlinkat(dirfd(d), MANIFEST, 0) != 0 && errno != ENOENT)
        rc = kge_fail(err, KGE_EIO, "%s/%s: %s", dir, MANIFEST, strerror(errno));
    if (!rc) {
        rewinddir(d);
        for (struct dirent *e; (e = readdir(d));)
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
    if (!rc && rmdir(dir) != 0) rc = kge_fail(err, KGE_EIO, "%s: %s", dir, strerror(errno));
    return rc;
}

/* ---- loading ----------------------------------------------------------------- */

static int parse_opts(json_t *j, const char *path, kge_link_opts *o, kge_err *err)
{
    kge_link_opts_default(o);
    const char *mode = NULL, *decay = NULL, *seed = NULL;
    json_int_t steps = 0, warmup = 0;
    double lr, hlr, wd, clip, edrop, alpha, vf, hdrop, adrop, vprob = 0.0;   /* view_prob: absent before views */
    double nexp = o->neg_explicit, slr = 0.0;   /* struct_lr 0: head_lr (kge_link_new) */
    o->structural = 0;   /* absent: a checkpoint from before the structural features */
    o->transitive = 0;   /* absent: a checkpoint from before the transitive features */
    o->mention = 0;      /* absent: a checkpoint from before the mention features */
    json_error_t je;
    if (json_unpack_ex(j, &je, JSON_STRICT,
                       "{s:s, s:I, s:I, s:s, s:F, s:F, s:F, s:F, s:i, s:i, s:F, s:i, s:i, s:i, s:i, s:F, s:i, s:F, "
                       "s:i, s:i, s:s, s:i, s:F, s:F, s:i, s?F, s?i, s?F, s?F, s?i, s?i}",
                       "mode", &mode, "steps", &steps, "warmup", &warmup, "decay", &decay, "lr", &lr, "head_lr",
                       &hlr, "weight_decay", &wd, "clip", &clip, "batch_pos", &o->batch_pos, "neg_per_pos",
                       &o->neg_per_pos, "edge_dropout", &edrop, "gat_heads", &o->gat_heads, "type_dim",
                       &o->type_dim, "mlp_hidden", &o->mlp_hidden, "lora_rank", &o->lora_rank, "lora_alpha",
                       &alpha, "enc_batch", &o->enc_batch, "val_frac", &vf, "eval_every", &o->eval_every,
                       "patience", &o->patience, "seed", &seed, "threads", &o->threads, "hidden_dropout", &hdrop,
                       "attn_dropout", &adrop, "max_tokens", &o->max_tokens, "view_prob", &vprob, "structural",
                       &o->structural, "neg_explicit", &nexp, "struct_lr", &slr, "mention", &o->mention, "transitive", &o->transitive) != 0)
        return kge_fail(err, KGE_EINPUT, "%s: \"options\": %s", path, je.text);
    o->mode = !strcmp(mode, "lora") ? KGE_TRAIN_LORA : !strcmp(mode, "head") ? KGE_TRAIN_HEAD : KGE_TRAIN_FULL;
    if (strcmp(mode, "lora") && strcmp(mode, "head") && strcmp(mode, "full"))
        return kge_fail(err, KGE_EINPUT, "%s: unknown mode \"%s\"", path, mode);
    o->decay = !strcmp(decay, "cosine") ? KGE_LR_COSINE : !strcmp(decay, "constant") ? KGE_LR_CONSTANT : KGE_LR_LINEAR;
    o->steps = steps;
    o->warmup = warmup;
    o->lr = (float)lr;
    o->head_lr = (float)hlr;
    o->weight_decay = (float)wd;
    o->clip = (float)clip;
    o->edge_dropout = (float)edrop;
    o->lora_alpha = (float)alpha;
    o->val_frac = (float)vf;
    o->hidden_dropout = (float)hdrop;
    o->attn_dropout = (float)adrop;
    o->view_prob = (float)vprob;
    o->neg_explicit = (float)nexp;
    o->struct_lr = (float)slr;
    char *end;
    errno = 0;
    o->seed = strtoull(seed, &end, 10);
    if (errno || *end || !*seed) return kge_fail(err, KGE_EINPUT, "%s: bad seed \"%s\"", path, seed);
    return KGE_OK;
}

/* Opens dir/name and checks its kgpath_step metadata against step. */
static int open_at_step(const char *dir, const char *name, int64_t step, kge_st **st, kge_err *err)
{
    char *p = kge_path_join(dir, name);
    if (!p) return kge_fail(err, KGE_ENOMEM, "out of memory");
    int rc = kge_st_open(p, st, err);
    if (!rc) {
        const char *s = kge_st_metadata(*st, "kgpath_step");
        char want[32];
        snprintf(want, sizeof want, "%" PRId64, step);
        if (!s || strcmp(s, want) != 0) {
            rc = kge_fail(err, KGE_EINPUT, "%s: written at step %s but %s says step %s (an interrupted save?)", p,
                          s ? s : "(none)", MANIFEST, want);
            kge_st_close(*st);
            *st = NULL;
        }
    }
    free(p);
    return rc;
}

int kge_link_load(const char *dir, kge_link_model **out, kge_err *err)
{
    *out = NULL;
    char *mp = kge_path_join(dir, MANIFEST);
    if (!mp) return kge_fail(err, KGE_ENOMEM, "out of memory");
    json_error_t je;
    json_t *root = json_load_file(mp, 0, &je);
    int rc = KGE_OK;
    kge_link_model *lm = NULL;
    kge_st *st = NULL;
    if (!root) {
        rc = access(mp, F_OK) == 0
                 ? kge_fail(err, KGE_EINPUT, "%s:%d:%d: %s", mp, je.line, je.column, je.text)
                 : kge_fail(err, KGE_ENOTFOUND, "%s: no such file (not a kgpath training checkpoint)", mp);
        goto out;
    }
    const char *fmt = NULL;
    json_int_t step = 0;
    json_t *jopts = NULL, *jrng = NULL, *jbest = NULL;
    int bad = 0;
    if (json_unpack_ex(root, &je, 0, "{s:s, s:I, s:o, s:o, s:o, s:i}", "format", &fmt, "step", &step, "options",
                       &jopts, "rng", &jrng, "best_val", &jbest, "bad_evals", &bad) != 0) {
        rc = kge_fail(err, KGE_EINPUT, "%s: %s", mp, je.text);
        goto out;
    }
    if (strcmp(fmt, FORMAT) != 0) {
        rc = kge_fail(err, KGE_EINPUT, "%s: format \"%s\" is not %s", mp, fmt, FORMAT);
        goto out;
    }
    kge_link_opts o;
    if ((rc = parse_opts(jopts, mp, &o, err))) goto out;
    if (step < 0 || step > o.steps) { rc = kge_fail(err, KGE_EINPUT, "%s: step %lld outside 0..%lld", mp,
                                                    (long long)step, (long long)o.steps); goto out; }
    kge_rng rng;
    if (!json_is_array(jrng) || json_array_size(jrng) != 4) {
        rc = kge_fail(err, KGE_EINPUT, "%s: \"rng\" must hold four hexadecimal words", mp);
        goto out;
    }
    for (size_t i = 0; i < 4; i++) {
        const char *s = json_string_value(json_array_get(jrng, i));
        char *end;
        rng.s[i] = s ? strtoull(s, &end, 16) : 0;
        if (!s || *end || !*s) { rc = kge_fail(err, KGE_EINPUT, "%s: bad \"rng\" word %zu", mp, i); goto out; }
    }
    /* the encoder folder, then the model around it */
    kge_bert *bert = NULL;
    if ((rc = kge_bert_load(dir, &bert, err))) goto out;
    if ((rc = kge_link_new(bert, &o, &lm, err))) {   /* the options do not fit: bad input, unless out of memory */
        kge_fail_ctx(err, "%s", mp);
        if (rc != KGE_ENOMEM && err) err->code = rc = KGE_EINPUT;
        goto out;
    }
    if ((rc = open_at_step(dir, "model.safetensors", step, &st, err))) goto out;
    kge_st_close(st);
    st = NULL;
    if ((rc = open_at_step(dir, "kgpath_heads.safetensors", step, &st, err))) goto out;
    head_tensor ht[16];
    size_t nh = head_tensors(lm, ht);
    for (size_t i = 0; i < nh && !rc; i++) {
        const kge_st_tensor *t;
        rc = kge_st_expect(st, ht[i].name, ht[i].ndim, ht[i].shape, &t, err);
        if (!rc) rc = kge_st_to_f32(t, ht[i].data, err);
        if (rc) kge_fail_ctx(err, "%s/kgpath_heads.safetensors", dir);
    }
    kge_st_close(st);
    st = NULL;
    if (rc) goto out;
    if (o.mode == KGE_TRAIN_LORA) {
        if ((rc = open_at_step(dir, "adapter_model.safetensors", step, &st, err))) goto out;
        kge_st_close(st);
        st = NULL;
        char *ap = kge_path_join(dir, "adapter_model.safetensors");
        rc = ap ? kge_lora_load(&lm->lora, ap, err) : kge_fail(err, KGE_ENOMEM, "out of memory");
        free(ap);
        if (rc) goto out;
        kge_lora_merge(&lm->lora, lm->bert, lm->work);
    }
    if ((rc = open_at_step(dir, "kgpath_optimizer.safetensors", step, &st, err))) goto out;
    int64_t n = (int64_t)lm->opt.n;
    const kge_st_tensor *tm, *tv;
    if ((rc = kge_st_expect(st, "adamw.m", 1, &n, &tm, err)) || (rc = kge_st_expect(st, "adamw.v", 1, &n, &tv, err)) ||
        (rc = kge_st_to_f32(tm, lm->opt.m, err)) || (rc = kge_st_to_f32(tv, lm->opt.v, err))) {
        kge_fail_ctx(err, "%s/kgpath_optimizer.safetensors", dir);
        goto out;
    }
    const char *ts = kge_st_metadata(st, "adamw_t");
    char *end = NULL;
    long long t = ts ? strtoll(ts, &end, 10) : -1;
    if (!ts || *end || t < 0) {
        rc = kge_fail(err, KGE_EINPUT, "%s/kgpath_optimizer.safetensors: missing or bad adamw_t", dir);
        goto out;
    }
    const kge_st_tensor *tz = kge_st_find(st, "train.z0cache");
    if (tz) {
        int64_t rows = tz->ndim == 2 ? tz->shape[0] : 0, zs[2] = {rows, lm->C};
        if (rows <= 0 || (rc = kge_st_expect(st, "train.z0cache", 2, zs, &tz, err)) ||
            !(lm->z0cache = malloc((size_t)rows * (size_t)lm->C * sizeof(float))) ||
            (rc = kge_st_to_f32(tz, lm->z0cache, err))) {
            if (!rc) rc = rows <= 0 ? kge_fail(err, KGE_EINPUT, "bad shape") : kge_fail(err, KGE_ENOMEM, "out of memory");
            kge_fail_ctx(err, "%s/kgpath_optimizer.safetensors: train.z0cache", dir);
            goto out;
        }
        lm->z0cache_n = (size_t)rows;
        lm->z0cache_saved = 1;
    }
    lm->opt.t = t;
    lm->step = step;
    lm->rng = rng;
    lm->best_val = json_is_number(jbest) ? (float)json_number_value(jbest) : INFINITY;
    lm->bad_evals = bad;
    json_t *jcal = json_object_get(root, "calibration");
    if (jcal) {
        const char *meth = NULL, *neg = "rejections";
        double a = 0, b = 0, prior = 0.5, cs = 0;
        int ti = 0, rv = 1;
        if (json_unpack_ex(jcal, &je, 0, "{s:s, s:F, s:F, s?F, s?F, s?i, s?i, s?s}", "method", &meth, "a", &a, "b", &b,
                           "prior", &prior, "structural", &cs, "titles", &ti, "regression", &rv, "negatives", &neg) != 0 ||
            strcmp(meth, "platt") != 0 || !isfinite(a) || !isfinite(b) || !isfinite(cs) || !(prior > 0 && prior < 1) ||
            (ti != 0 && ti != 1) || rv < 1 || rv > KGE_STACK_REGRESSION ||
            (strcmp(neg, "rejections") && strcmp(neg, "graph"))) {
            rc = kge_fail(err, KGE_EINPUT, "%s: \"calibration\" must be {\"method\": \"platt\", \"a\": A, \"b\": B"
                          "[, \"prior\": P in (0, 1)][, \"structural\": C][, \"titles\": 0|1][, \"regression\": 1|2]"
                          "[, \"negatives\": \"rejections\"|\"graph\"]}", mp);
            goto out;
        }
        kge_link_set_calibration(lm, 1, (float)a, (float)b);
        kge_link_set_prior(lm, (float)prior);
        kge_link_set_stack(lm, (float)cs);
        kge_link_set_stack_titles(lm, ti);
        kge_link_set_stack_regression(lm, rv);
        kge_link_set_stack_graph_negatives(lm, !strcmp(neg, "graph"));
    }
out:
    kge_st_close(st);
    json_decref(root);
    free(mp);
    if (rc) kge_link_free(lm);
    else *out = lm;
    return rc;
}

/* ---- what training computed for scoring (KGE_LINK_FIT) ---------------------- */

void kge_link_fit_free(kge_link_fit *fit)
{
    free(fit->z0);
    memset(fit, 0, sizeof *fit);
}

/* The F64 tensor name of `len` finite values into out. */
static int fit_f64(const kge_st *st, const char *name, int64_t len, double *out, kge_err *err)
{
    const kge_st_tensor *t;
    int rc = kge_st_expect(st, name, 1, &len, &t, err);
    if (rc) return rc == KGE_ENOTFOUND ? kge_fail(err, KGE_EINPUT, "%s: no tensor %s", kge_st_path(st), name) : rc;
    if (t->dtype != KGE_DT_F64) return kge_fail(err, KGE_EINPUT, "%s: %s is not F64", kge_st_path(st), name);
    memcpy(out, t->data, (size_t)len * sizeof *out);
    for (int64_t i = 0; i < len; i++)
        if (!isfinite(out[i])) return kge_fail(err, KGE_EINPUT, "%s: %s holds a value that is not finite", kge_st_path(st), name);
    return KGE_OK;
}

int kge_link_fit_load(const kge_link_model *lm, const char *dir, kge_link_fit *fit, kge_err *err)
{
    memset(fit, 0, sizeof *fit);
    kge_st *st = NULL;
    int rc = open_at_step(dir, KGE_LINK_FIT, lm->step, &st, err);
    if (rc) return rc;
    const char *path = kge_st_path(st), *fmt = kge_st_metadata(st, "format"), *key = kge_st_metadata(st, "key");
    const kge_st_tensor *z = kge_st_find(st, "concepts.z0"), *mu = kge_st_find(st, "regression.mu");
    if (!fmt || strcmp(fmt, KGE_LINK_FIT_FORMAT) != 0)
        rc = kge_fail(err, KGE_EINPUT, "%s: format \"%s\" is not %s", path, fmt ? fmt : "(none)", KGE_LINK_FIT_FORMAT);
    else if (!key || !*key || strlen(key) >= sizeof fit->key)
        rc = kge_fail(err, KGE_EINPUT, "%s: no key of the data it was computed from", path);
    else if (z && (z->dtype != KGE_DT_F32 || z->ndim != 2 || z->shape[1] != lm->C))
        rc = kge_fail(err, KGE_EINPUT, "%s: concepts.z0 is not F32 (n, %d)", path, lm->C);
    else if (mu && (mu->ndim != 1 || mu->shape[0] < 8 || mu->shape[0] > KGE_LOGREG_MAX_F))
        rc = kge_fail(err, KGE_EINPUT, "%s: regression.mu holds %lld features (8 to %d)", path,
                      (long long)(mu->ndim == 1 ? mu->shape[0] : -1), KGE_LOGREG_MAX_F);
    if (!rc) snprintf(fit->key, sizeof fit->key, "%s", key);
    if (!rc && z) {
        fit->n = (size_t)z->shape[0];
        fit->C = (size_t)z->shape[1];
        fit->z0 = malloc(z->nbytes + 1);
        if (!fit->z0) rc = kge_fail(err, KGE_ENOMEM, "out of memory");
        else memcpy(fit->z0, z->data, z->nbytes);
        for (size_t i = 0; !rc && i < z->nelem; i++)
            if (!isfinite(fit->z0[i])) rc = kge_fail(err, KGE_EINPUT, "%s: concepts.z0 holds a value that is not finite", path);
    }
    if (!rc && mu) {
        int64_t F = mu->shape[0];
        fit->reg.F = (size_t)F;
        if (!(rc = fit_f64(st, "regression.mu", F, fit->reg.mu, err)) &&
            !(rc = fit_f64(st, "regression.sd", F, fit->reg.sd, err)))
            rc = fit_f64(st, "regression.w", F + 1, fit->reg.w, err);
        for (int64_t f = 0; !rc && f < F; f++)
            if (!(fit->reg.sd[f] > 0)) rc = kge_fail(err, KGE_EINPUT, "%s: regression.sd holds a deviation that is not positive", path);
        fit->has_reg = !rc;
    }
    kge_st_close(st);
    if (rc) kge_link_fit_free(fit);
    return rc;
}
