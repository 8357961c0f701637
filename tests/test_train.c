/* End-to-end link-prediction training on a small synthetic curriculum (no
 * ../shared needed): the loss falls in every mode, runs are deterministic,
 * save → load gives identical scores, texts encoded once give the scores of
 * a full pass under every edge set, an interrupted and resumed run equals
 * an uninterrupted one, bad inputs and bad checkpoints are refused. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <dirent.h>

#include "encoder/files.h"
#include "encoder/graph_csr.h"
#include "encoder/kernels.h"
#include "encoder/nearest.h"
#include "encoder/train_bert.h"
#include "encoder/train_eval.h"
#include "encoder/train_link.h"
#include "encoder/train_link_internal.h"
#include "encoder/train_mlm.h"
#include "encoder/train_vocab.h"
#include "encoder/tokenizer.h"
#include "tests/testutil.h"

/* 4 topics × 6 levels; concept (topic t, level k) reads
 * [CLS] topic-t level-k noise noise [SEP] (pad…); level k of a topic is a
 * prerequisite of level k+1. */
enum { NT = 4, NL = 6, N = NT * NL, T = 8, V = 40 };

typedef struct synth {
    int32_t  ids[N * T];
    uint8_t  mask[N * T];
    uint32_t src[NT * (NL - 1)], dst[NT * (NL - 1)];
    kge_link_data d;
} synth;

static void synth_make(synth *s)
{
    uint64_t x = 12345;
    size_t E = 0;
    for (int t = 0; t < NT; t++)
        for (int k = 0; k < NL; k++) {
            int i = t * NL + k, len = 6 - (i % 3 == 0);   /* some rows padded */
            int32_t *row = s->ids + i * T;
            uint8_t *m = s->mask + i * T;
            memset(row, 0, T * sizeof *row);
            memset(m, 0, T);
            row[0] = 2;
            row[1] = 5 + t;
            row[2] = 9 + k;
            for (int j = 3; j < len - 1; j++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                row[j] = 15 + (int32_t)((x >> 33) % 25);
            }
            row[len - 1] = 3;
            for (int j = 0; j < len; j++) m[j] = 1;
            if (k + 1 < NL) { s->src[E] = (uint32_t)i; s->dst[E++] = (uint32_t)(i + 1); }
        }
    s->d = (kge_link_data){.n = N, .T = T, .ids = s->ids, .mask = s->mask, .E = E, .src = s->src, .dst = s->dst};
}

static kge_bert *tiny_bert(uint64_t seed)
{
    kge_bert_config cfg = {.vocab_size = V, .hidden = 16, .layers = 1, .heads = 2, .intermediate = 32,
                           .max_positions = 16, .type_vocab = 2, .ln_eps = 1e-12f};
    kge_bert *b = NULL;
    ck_assert_int_eq(kge_bert_create(&cfg, &b, NULL), KGE_OK);
    kge_bert_init_random(b, seed, 0.1f);
    return b;
}

static kge_link_opts tiny_opts(kge_train_mode mode)
{
    kge_link_opts o;
    kge_link_opts_default(&o);
    o.mode = mode;
    o.steps = 60;
    o.warmup = 5;
    o.lr = 3e-3f;
    o.head_lr = 1e-2f;
    o.batch_pos = 8;
    o.neg_per_pos = 3;
    o.gat_heads = 2;
    o.type_dim = 4;
    o.mlp_hidden = 16;
    o.lora_rank = 2;
    o.transitive = 0;   /* the suites below predate them; transitive_features covers them */
    o.seed = 42;
    o.threads = 1;
    return o;
}

typedef struct curve {
    float loss[256], val[256];
    int n;
} curve;

static int record(void *ctx, const kge_link_metrics *m)
{
    curve *c = ctx;
    ck_assert(isfinite(m->loss) && isfinite(m->grad_norm));
    if (c->n < 256) { c->val[c->n] = m->val_loss; c->loss[c->n++] = m->loss; }
    return 0;
}

static float mean_of(const float *v, int a, int b)
{
    float s = 0.0f;
    for (int i = a; i < b; i++) s += v[i];
    return s / (float)(b - a);
}

/* Edges vs reversed edges: the mean probability of the true direction,
 * each edge scored with the graph minus that edge (as training sees a
 * positive, and as a missing prerequisite is seen when suggesting). */
static void direction_scores(kge_link_model *lm, const synth *s, float *fwd, float *rev)
{
    size_t E = s->d.E;
    float f = 0.0f, r = 0.0f;
    uint32_t src[NT * NL], dst[NT * NL];
    kge_err err = {0};
    for (size_t e = 0; e < E; e++) {
        size_t k = 0;
        for (size_t j = 0; j < E; j++)
            if (j != e) { src[k] = s->src[j]; dst[k++] = s->dst[j]; }
        kge_link_data d = s->d;
        d.E = k;
        d.src = src;
        d.dst = dst;
        uint32_t pairs[4] = {s->src[e], s->dst[e], s->dst[e], s->src[e]};
        float p[2];
        ck_assert_msg(kge_link_score(lm, &d, pairs, 2, p, &err) == KGE_OK, "%s", err.msg);
        ck_assert(p[0] >= 0.0f && p[0] <= 1.0f && p[1] >= 0.0f && p[1] <= 1.0f);
        f += p[0];
        r += p[1];
    }
    *fwd = f / (float)E;
    *rev = r / (float)E;
}

static void check_mode_learns(kge_train_mode mode)
{
    synth s;
    synth_make(&s);
    kge_link_opts o = tiny_opts(mode);
    kge_link_model *lm = NULL;
    kge_err err = {0};
    kge_bert *b = tiny_bert(3);
    float *before = malloc(b->nparams * sizeof *before);
    memcpy(before, b->block, b->nparams * sizeof *before);
    ck_assert_msg(kge_link_new(b, &o, &lm, &err) == KGE_OK, "%s", err.msg);
    curve c = {0};
    ck_assert_msg(kge_link_train(lm, &s.d, 1000, record, &c, &err) == KGE_OK, "%s", err.msg);
    ck_assert_int_eq(c.n, 60);
    ck_assert_int_eq(kge_link_step(lm), 60);
    float first = mean_of(c.loss, 0, 10), last = mean_of(c.loss, 50, 60);
    ck_assert_msg(last < 0.75f * first, "mode %d: loss %g -> %g did not fall", (int)mode, first, last);
    float fwd, rev;
    direction_scores(lm, &s, &fwd, &rev);
    if (getenv("TRAIN_VERBOSE")) fprintf(stderr, "mode %d: loss %.3f -> %.3f, edges %.3f, reversed %.3f\n", (int)mode, first, last, fwd, rev);
    ck_assert_msg(fwd > rev + 0.2f, "mode %d: edges %g vs reversed %g", (int)mode, fwd, rev);
    /* the base encoder moves only in full fine-tuning */
    int same = memcmp(before, kge_link_bert(lm)->block, kge_link_bert(lm)->nparams * sizeof *before) == 0;
    ck_assert_int_eq(same, mode != KGE_TRAIN_FULL);
    free(before);
    kge_link_free(lm);
}

START_TEST(full_loss_falls) { check_mode_learns(KGE_TRAIN_FULL); }
END_TEST
START_TEST(lora_loss_falls) { check_mode_learns(KGE_TRAIN_LORA); }
END_TEST
START_TEST(head_loss_falls) { check_mode_learns(KGE_TRAIN_HEAD); }
END_TEST

static kge_link_model *trained(const synth *s, kge_link_opts *o, int64_t until)
{
    kge_link_model *lm = NULL;
    kge_err err = {0};
    ck_assert_msg(kge_link_new(tiny_bert(3), o, &lm, &err) == KGE_OK, "%s", err.msg);
    ck_assert_msg(kge_link_train(lm, &s->d, until, NULL, NULL, &err) == KGE_OK, "%s", err.msg);
    return lm;
}

static float *all_scores(kge_link_model *lm, const synth *s)
{
    uint32_t *pairs = malloc(2 * N * N * sizeof *pairs);
    for (uint32_t a = 0; a < N; a++)
        for (uint32_t b = 0; b < N; b++) { pairs[2 * (a * N + b)] = a; pairs[2 * (a * N + b) + 1] = b; }
    float *p = malloc(N * N * sizeof *p);
    kge_err err = {0};
    ck_assert_msg(kge_link_score(lm, &s->d, pairs, N * N, p, &err) == KGE_OK, "%s", err.msg);
    free(pairs);
    return p;
}

START_TEST(deterministic)
{
    synth s;
    synth_make(&s);
    kge_link_opts o = tiny_opts(KGE_TRAIN_FULL);
    o.edge_dropout = 0.2f;
    o.hidden_dropout = 0.1f;
    o.attn_dropout = 0.1f;
    kge_link_model *a = trained(&s, &o, 15), *b = trained(&s, &o, 15);
    ck_assert(memcmp(kge_link_bert(a)->block, kge_link_bert(b)->block, kge_link_bert(a)->nparams * sizeof(float)) == 0);
    float *pa = all_scores(a, &s), *pb = all_scores(b, &s);
    ck_assert(memcmp(pa, pb, N * N * sizeof *pa) == 0);
    /* another seed gives another model */
    o.seed = 43;
    kge_link_model *c = trained(&s, &o, 15);
    float *pc = all_scores(c, &s);
    ck_assert(memcmp(pa, pc, N * N * sizeof *pa) != 0);
    free(pa); free(pb); free(pc);
    kge_link_free(a); kge_link_free(b); kge_link_free(c);
}
END_TEST

/* Encoding the texts once and running only the graph attention per edge
 * set (how eval-prereq and --suspicious score edges left out in groups)
 * gives the scores of kge_link_score on that edge set, bit for bit. */
static void cached_same(kge_train_mode mode)
{
    synth s;
    synth_make(&s);
    kge_link_opts o = tiny_opts(mode);
    kge_link_model *lm = trained(&s, &o, 6);
    size_t C = (size_t)kge_link_dim(lm), E = s.d.E, G = 4;
    float *z0 = malloc(N * C * sizeof *z0), *z0b = malloc(N * C * sizeof *z0b), *z = malloc(N * C * sizeof *z);
    uint32_t src[NT * (NL - 1)], dst[NT * (NL - 1)], pairs[2 * 4];
    float pc[4], pu[4];
    kge_err err = {0};
    ck_assert_msg(kge_link_encode(lm, &s.d, z0, &err) == KGE_OK, "%s", err.msg);
    /* the encoder does not see edges */
    kge_link_data d0 = s.d;
    d0.E = 0;
    ck_assert_msg(kge_link_encode(lm, &d0, z0b, &err) == KGE_OK, "%s", err.msg);
    ck_assert(memcmp(z0, z0b, N * C * sizeof *z0) == 0);
    for (size_t g0 = 0; g0 < E; g0 += G) {
        size_t g1 = g0 + G < E ? g0 + G : E, k = 0, m = g1 - g0;
        for (size_t q = 0; q < E; q++)
            if (q < g0 || q >= g1) { src[k] = s.src[q]; dst[k++] = s.dst[q]; }
        kge_link_data d = s.d;
        d.E = k;
        d.src = src;
        d.dst = dst;
        for (size_t q = 0; q < m; q++) { pairs[2 * q] = s.src[g0 + q]; pairs[2 * q + 1] = s.dst[g0 + q]; }
        ck_assert_msg(kge_link_embed_from(lm, &d, z0, z, &err) == KGE_OK, "%s", err.msg);
        ck_assert_msg(kge_link_decode(lm, z, pairs, m, pc, &err) == KGE_OK, "%s", err.msg);
        ck_assert_msg(kge_link_score(lm, &d, pairs, m, pu, &err) == KGE_OK, "%s", err.msg);
        ck_assert(memcmp(pc, pu, m * sizeof *pc) == 0);
        /* leaving the group out changes the context, so the scores too */
        ck_assert_msg(kge_link_score(lm, &s.d, pairs, m, pu, &err) == KGE_OK, "%s", err.msg);
        ck_assert(memcmp(pc, pu, m * sizeof *pc) != 0);
    }
    /* bad edge sets are refused */
    uint32_t bad_src = N, bad_dst = 0;
    kge_link_data bad = s.d;
    bad.E = 1;
    bad.src = &bad_src;
    bad.dst = &bad_dst;
    ck_assert_int_eq(kge_link_embed_from(lm, &bad, z0, z, &err), KGE_EUSAGE);
    ck_assert_int_eq(kge_link_encode(lm, &bad, z0b, &err), KGE_EUSAGE);
    free(z0); free(z0b); free(z);
    kge_link_free(lm);
}

/* kge_link_encode packs the concepts' tokens end to end: each row equals
 * the padded forward's mean-pooled row (within rounding); a row whose mask
 * has a hole keeps the padded path's position ids, and a row without
 * tokens is 0, as mean pooling over an empty mask gives. */
START_TEST(encode_packed_as_padded)
{
    synth s;
    synth_make(&s);
    s.mask[1 * T + 2] = 0;                  /* a hole */
    memset(s.mask + 2 * T, 0, T);           /* no token */
    kge_link_opts o = tiny_opts(KGE_TRAIN_FULL);
    kge_link_model *lm = trained(&s, &o, 4);
    const kge_bert *b = kge_link_bert(lm);
    size_t C = (size_t)kge_link_dim(lm);
    ck_assert_uint_eq(C, (size_t)b->cfg.hidden);
    float *z0 = malloc(N * C * sizeof *z0), *ref = malloc(N * C * sizeof *ref);
    kge_err err = {0};
    ck_assert_msg(kge_link_encode(lm, &s.d, z0, &err) == KGE_OK, "%s", err.msg);
    kge_bert_acts a = {0};
    kge_bert_acts_set_threads(&a, 1);
    ck_assert_msg(kge_bert_forward(b, &a, s.ids, NULL, s.mask, N, T, 0, &err) == KGE_OK, "%s", err.msg);
    kge_mean_pool_forward(ref, a.hidden, s.mask, N, T, C);
    float worst = 0.0f;
    for (size_t i = 0; i < N * C; i++) worst = fmaxf(worst, fabsf(z0[i] - ref[i]));
    ck_assert_msg(worst < 1e-5f, "packed vs padded: %g", worst);
    for (size_t c = 0; c < C; c++) ck_assert(z0[2 * C + c] == 0.0f);
    /* the hole matters: packing that row's tokens would give another vector */
    int32_t one[T];
    size_t k = 0, off[2] = {0, 0};
    for (size_t t = 0; t < T; t++)
        if (s.mask[1 * T + t]) one[k++] = s.ids[1 * T + t];
    off[1] = k;
    ck_assert_msg(kge_bert_forward_packed(b, &a, one, NULL, off, 1, &err) == KGE_OK, "%s", err.msg);
    kge_mean_pool_forward(ref, a.hidden, NULL, 1, k, C);
    float moved = 0.0f;
    for (size_t c = 0; c < C; c++) moved = fmaxf(moved, fabsf(z0[C + c] - ref[c]));
    ck_assert_msg(moved > 1e-4f, "hole row %g", moved);
    kge_bert_acts_free(&a);
    free(z0); free(ref);
    kge_link_free(lm);
}
END_TEST

START_TEST(cached_head) { cached_same(KGE_TRAIN_HEAD); }
END_TEST

START_TEST(cached_lora) { cached_same(KGE_TRAIN_LORA); }
END_TEST

START_TEST(cached_full) { cached_same(KGE_TRAIN_FULL); }
END_TEST

static void save_load_same(kge_train_mode mode)
{
    synth s;
    synth_make(&s);
    kge_link_opts o = tiny_opts(mode);
    kge_link_model *a = trained(&s, &o, 10), *b = NULL;
    char *dir = tu_mkdtemp(), *ck = tu_path(dir, "ckpt");
    kge_err err = {0};
    ck_assert_msg(kge_link_save(a, ck, &err) == KGE_OK, "%s", err.msg);
    ck_assert_msg(kge_link_load(ck, &b, &err) == KGE_OK, "%s", err.msg);
    ck_assert_int_eq(kge_link_step(b), 10);
    ck_assert_int_eq(kge_link_options(b)->mode, mode);
    float *pa = all_scores(a, &s), *pb = all_scores(b, &s);
    ck_assert(memcmp(pa, pb, N * N * sizeof *pa) == 0);
    /* the folder is a Hugging Face BERT folder */
    kge_bert *hf = NULL;
    ck_assert_msg(kge_bert_load(ck, &hf, &err) == KGE_OK, "%s", err.msg);
    ck_assert(memcmp(hf->block, kge_link_bert(a)->block, hf->nparams * sizeof(float)) == 0);
    kge_bert_free(hf);
    char *ad = tu_path(ck, "adapter_model.safetensors"), *txt = tu_read(ad, NULL);
    ck_assert_int_eq(txt != NULL, mode == KGE_TRAIN_LORA);
    free(txt); free(ad);
    free(pa); free(pb);
    kge_link_free(a); kge_link_free(b);
    tu_rmrf(dir);
    free(dir); free(ck);
}

START_TEST(save_load_full) { save_load_same(KGE_TRAIN_FULL); }
END_TEST
START_TEST(save_load_lora) { save_load_same(KGE_TRAIN_LORA); }
END_TEST
START_TEST(save_load_head) { save_load_same(KGE_TRAIN_HEAD); }
END_TEST

static void resume_same(kge_train_mode mode)
{
    synth s;
    synth_make(&s);
    kge_link_opts o = tiny_opts(mode);
    o.steps = 24;
    o.hidden_dropout = 0.1f;
    o.attn_dropout = 0.1f;
    o.val_frac = 0.2f;
    o.eval_every = 4;
    o.edge_dropout = 0.1f;
    kge_link_model *full = trained(&s, &o, 24), *half = trained(&s, &o, 11), *rest = NULL;
    char *dir = tu_mkdtemp();
    kge_err err = {0};
    ck_assert_msg(kge_link_save(half, dir, &err) == KGE_OK, "%s", err.msg);
    kge_link_free(half);
    ck_assert_msg(kge_link_load(dir, &rest, &err) == KGE_OK, "%s", err.msg);
    curve c = {0};
    ck_assert_msg(kge_link_train(rest, &s.d, 24, record, &c, &err) == KGE_OK, "%s", err.msg);
    ck_assert_int_eq(c.n, 13);
    ck_assert(!isnan(c.val[0]));   /* step 12: a validation step */
    ck_assert(isnan(c.val[1]));
    ck_assert(memcmp(kge_link_bert(full)->block, kge_link_bert(rest)->block,
                     kge_link_bert(full)->nparams * sizeof(float)) == 0);
    float *pa = all_scores(full, &s), *pb = all_scores(rest, &s);
    ck_assert(memcmp(pa, pb, N * N * sizeof *pa) == 0);
    free(pa); free(pb);
    kge_link_free(full); kge_link_free(rest);
    tu_rmrf(dir);
    free(dir);
}

/* Title/summary views as augmentation: each concept gets two other texts
 * (its topic token alone, its level token alone). Deterministic, different
 * from a run without views, recorded in the checkpoint, resumed exactly,
 * and a probability outside [0, 1] is refused. */
START_TEST(views_augment)
{
    static synth s;
    static int32_t vids[2 * N * T];
    static uint8_t vmask[2 * N * T];
    synth_make(&s);
    memset(vids, 0, sizeof vids);
    memset(vmask, 0, sizeof vmask);
    for (int v = 0; v < 2; v++)
        for (int i = 0; i < N; i++) {
            int32_t *row = vids + ((size_t)v * N + (size_t)i) * T;
            row[0] = 2;
            row[1] = v == 0 ? 5 + i / NL : 9 + i % NL;
            row[2] = 3;
            memset(vmask + ((size_t)v * N + (size_t)i) * T, 1, 3);
        }
    s.d.nviews = 2;
    s.d.view_ids = vids;
    s.d.view_mask = vmask;
    kge_link_opts o = tiny_opts(KGE_TRAIN_FULL);
    o.steps = 12;
    o.view_prob = 0.5f;
    kge_link_model *a = trained(&s, &o, 12), *b = trained(&s, &o, 12), *half = trained(&s, &o, 5), *rest = NULL;
    size_t np = kge_link_bert(a)->nparams * sizeof(float);
    ck_assert(memcmp(kge_link_bert(a)->block, kge_link_bert(b)->block, np) == 0);
    o.view_prob = 0.0f;
    kge_link_model *c = trained(&s, &o, 12);
    ck_assert(memcmp(kge_link_bert(a)->block, kge_link_bert(c)->block, np) != 0);
    char *dir = tu_mkdtemp();
    kge_err err = {0};
    ck_assert_msg(kge_link_save(half, dir, &err) == KGE_OK, "%s", err.msg);
    ck_assert_msg(kge_link_load(dir, &rest, &err) == KGE_OK, "%s", err.msg);
    ck_assert(kge_link_options(rest)->view_prob == 0.5f);
    ck_assert_msg(kge_link_train(rest, &s.d, 12, NULL, NULL, &err) == KGE_OK, "%s", err.msg);
    ck_assert(memcmp(kge_link_bert(a)->block, kge_link_bert(rest)->block, np) == 0);
    o.view_prob = 1.5f;
    kge_link_model *bad = NULL;
    ck_assert_int_eq(kge_link_new(tiny_bert(3), &o, &bad, &err), KGE_EUSAGE);
    ck_assert(strstr(err.msg, "view") != NULL);
    kge_link_free(a); kge_link_free(b); kge_link_free(c); kge_link_free(half); kge_link_free(rest);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(resume_full) { resume_same(KGE_TRAIN_FULL); }
END_TEST
START_TEST(resume_lora) { resume_same(KGE_TRAIN_LORA); }
END_TEST

START_TEST(early_stopping)
{
    synth s;
    synth_make(&s);
    kge_link_opts o = tiny_opts(KGE_TRAIN_HEAD);
    o.steps = 400;
    o.val_frac = 0.25f;
    o.eval_every = 2;
    o.patience = 3;
    o.head_lr = 5e-2f;
    o.warmup = 0;
    o.decay = KGE_LR_CONSTANT;
    kge_link_model *lm = NULL;
    kge_err err = {0};
    ck_assert_int_eq(kge_link_new(tiny_bert(3), &o, &lm, &err), KGE_OK);
    curve c = {0};
    ck_assert_msg(kge_link_train(lm, &s.d, 400, record, &c, &err) == KGE_OK, "%s", err.msg);
    /* stopped before the end, right after three evaluations without a new best */
    ck_assert_int_lt(kge_link_step(lm), 400);
    int evals = 0;
    for (int i = 0; i < c.n; i++) evals += !isnan(c.val[i]);
    ck_assert_int_ge(evals, 4);
    kge_link_free(lm);
}
END_TEST

START_TEST(bad_inputs)
{
    synth s;
    synth_make(&s);
    kge_err err = {0};
    kge_link_model *lm = NULL;
    kge_link_opts o = tiny_opts(KGE_TRAIN_FULL);
    o.gat_heads = 3;   /* does not divide 16 */
    ck_assert_int_eq(kge_link_new(tiny_bert(1), &o, &lm, &err), KGE_EUSAGE);
    ck_assert(strstr(err.msg, "divide") != NULL);
    ck_assert(lm == NULL);
    o = tiny_opts(KGE_TRAIN_FULL);
    o.edge_dropout = 1.0f;
    ck_assert_int_eq(kge_link_new(tiny_bert(1), &o, &lm, &err), KGE_EUSAGE);
    o = tiny_opts(KGE_TRAIN_FULL);
    o.warmup = 100;
    ck_assert_int_eq(kge_link_new(tiny_bert(1), &o, &lm, &err), KGE_EUSAGE);
    o = tiny_opts(KGE_TRAIN_FULL);
    ck_assert_int_eq(kge_link_new(tiny_bert(1), &o, &lm, &err), KGE_OK);
    kge_link_data d = s.d;
    uint32_t bad_dst[NT * (NL - 1)];
    memcpy(bad_dst, s.dst, sizeof bad_dst);
    bad_dst[3] = N;
    d.dst = bad_dst;
    ck_assert_int_eq(kge_link_train(lm, &d, 5, NULL, NULL, &err), KGE_EUSAGE);
    ck_assert(strstr(err.msg, "edge 3") != NULL);
    d = s.d;
    d.E = 0;
    ck_assert_int_eq(kge_link_train(lm, &d, 5, NULL, NULL, &err), KGE_EUSAGE);
    ck_assert(strstr(err.msg, "no training edges") != NULL);
    d = s.d;
    d.T = 17;   /* over max_positions 16 */
    ck_assert_int_eq(kge_link_train(lm, &d, 5, NULL, NULL, &err), KGE_EUSAGE);
    ck_assert_int_eq(kge_link_step(lm), 0);   /* nothing trained */
    uint32_t pair[2] = {0, N};
    float p;
    ck_assert_int_eq(kge_link_score(lm, &s.d, pair, 1, &p, &err), KGE_EUSAGE);
    kge_link_free(lm);
}
END_TEST

START_TEST(bad_checkpoints)
{
    synth s;
    synth_make(&s);
    kge_link_opts o = tiny_opts(KGE_TRAIN_FULL);
    kge_link_model *a = trained(&s, &o, 3), *b = NULL;
    char *dir = tu_mkdtemp(), *ck = tu_path(dir, "ck"), *man = tu_path(ck, "kgpath_train.json"),
         *heads = tu_path(ck, "kgpath_heads.safetensors"), *missing = tu_path(dir, "nope");
    kge_err err = {0};
    ck_assert_int_eq(kge_link_load(missing, &b, &err), KGE_ENOTFOUND);
    ck_assert(strstr(err.msg, "kgpath_train.json") != NULL);
    ck_assert_int_eq(kge_link_save(a, ck, &err), KGE_OK);
    size_t len;
    char *good = tu_read(man, &len);
    /* malformed JSON: position given */
    tu_write(man, "{\"format\": ", (size_t)-1);
    ck_assert_int_eq(kge_link_load(ck, &b, &err), KGE_EINPUT);
    ck_assert(strstr(err.msg, "kgpath_train.json:1:") != NULL);
    /* another format */
    tu_write(man, "{\"format\": \"other\", \"step\": 3, \"options\": {}, \"rng\": [], \"best_val\": null, "
                  "\"bad_evals\": 0}", (size_t)-1);
    ck_assert_int_eq(kge_link_load(ck, &b, &err), KGE_EINPUT);
    ck_assert(strstr(err.msg, "format") != NULL);
    /* a manifest whose step disagrees with the tensors (a torn save) */
    char *torn = strdup(good), *at = strstr(torn, "\"step\": 3");
    ck_assert(at != NULL);
    at[8] = '2';
    tu_write(man, torn, (size_t)-1);
    ck_assert_int_eq(kge_link_load(ck, &b, &err), KGE_EINPUT);
    ck_assert_msg(strstr(err.msg, "interrupted") != NULL, "%s", err.msg);
    free(torn);
    /* a truncated tensor file */
    tu_write(man, good, len);
    size_t hl;
    char *hb = tu_read(heads, &hl);
    tu_write(heads, hb, hl / 2);
    ck_assert_int_eq(kge_link_load(ck, &b, &err), KGE_EINPUT);
    ck_assert(strstr(err.msg, "kgpath_heads.safetensors") != NULL);
    tu_write(heads, hb, hl);
    ck_assert_msg(kge_link_load(ck, &b, &err) == KGE_OK, "%s", err.msg);
    ck_assert(b != NULL);
    kge_link_free(b);
    free(hb); free(good);
    kge_link_free(a);
    tu_rmrf(dir);
    free(dir); free(ck); free(man); free(heads); free(missing);
}
END_TEST

/* The names in folder dir, sorted, one per line (a listing to compare). */
static char *listing(const char *dir)
{
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, alphasort);
    size_t cap = 4096, len = 0;
    char *out = calloc(1, cap);
    for (int i = 0; i < n; i++) {
        if (strcmp(ents[i]->d_name, ".") && strcmp(ents[i]->d_name, ".."))
            len += (size_t)snprintf(out + len, cap - len, "%s\n", ents[i]->d_name);
        free(ents[i]);
    }
    free(ents);
    return out;
}

/* Every file of folder a equals the file of the same name in b, and both
 * hold the same names. */
static int same_folder(const char *a, const char *b)
{
    char *la = listing(a), *lb = listing(b);
    int same = !strcmp(la, lb);
    for (char *name = la, *nl; same && (nl = strchr(name, '\n')); name = nl + 1) {
        *nl = 0;
        char *pa = tu_path(a, name), *pb = tu_path(b, name);
        same = tu_file_cmp(pa, pb) == 0;
        free(pa); free(pb);
    }
    free(la); free(lb);
    return same;
}

/* A checkpoint is replaced as a whole: with a failure injected at every
 * file write and at the switch of a save over an existing checkpoint, the
 * folder still holds the old checkpoint byte for byte and no temporary
 * file, nothing is left beside it, and it loads; the save after that puts
 * the new one in place. A folder of other files is never replaced. */
START_TEST(checkpoint_switch_atomic)
{
    synth s;
    synth_make(&s);
    kge_link_opts o = tiny_opts(KGE_TRAIN_LORA);
    kge_link_model *a = trained(&s, &o, 3), *b = trained(&s, &o, 6), *l = NULL;
    char *dir = tu_mkdtemp(), *ck = tu_path(dir, "ck"), *old = tu_path(dir, "old"), *fresh = tu_path(dir, "new");
    kge_err err = {0};
    ck_assert_msg(kge_link_save(a, ck, &err) == KGE_OK, "%s", err.msg);
    ck_assert_msg(kge_link_save(a, old, &err) == KGE_OK, "%s", err.msg);
    ck_assert_msg(kge_link_save_with(b, fresh, "{\"x\": 1}", &err) == KGE_OK, "%s", err.msg);
    ck_assert(same_folder(ck, old));
    char *before = listing(dir);
    int faults = 0;
    for (long k = 1;; k++) {
        kge_files_inject_fault(k);
        int rc = kge_link_save_with(b, ck, "{\"x\": 1}", &err);
        kge_files_inject_fault(0);
        if (rc == KGE_OK) break;
        faults++;
        ck_assert_int_eq(rc, KGE_EIO);
        ck_assert_msg(strstr(err.msg, "injected") || strstr(err.msg, "new folder"), "%s", err.msg);
        ck_assert_msg(same_folder(ck, old), "fault %ld: the old checkpoint changed", k);
        char *now = listing(dir);
        ck_assert_msg(!strcmp(now, before), "fault %ld left %s", k, now);
        free(now);
        ck_assert_msg(kge_link_load(ck, &l, &err) == KGE_OK, "%s", err.msg);
        ck_assert_int_eq(kge_link_step(l), 3);
        kge_link_free(l);
    }
    /* one fault per file (config, vocab, model, adapters and their config,
     * heads, optimiser, the caller's file, manifest) and one at the switch */
    ck_assert_int_ge(faults, 9);
    ck_assert(same_folder(ck, fresh));
    char *after = listing(dir);
    ck_assert_str_eq(after, before);
    free(after);
    /* a staging folder left by a killed run is removed by the next save */
    char *stale = tu_path(dir, "ck.new-AbC123");
    ck_assert_int_eq(mkdir(stale, 0755), 0);
    ck_assert_msg(kge_link_save(a, ck, &err) == KGE_OK, "%s", err.msg);
    ck_assert(same_folder(ck, old));
    after = listing(dir);
    ck_assert_str_eq(after, before);
    free(after);
    /* a folder holding anything else is refused, untouched */
    char *user = tu_path(dir, "user"), *note = tu_path(user, "notes.txt");
    ck_assert_int_eq(mkdir(user, 0755), 0);
    tu_write(note, "mine", 4);
    ck_assert_int_eq(kge_link_save(a, user, &err), KGE_EUSAGE);
    ck_assert_msg(strstr(err.msg, "notes.txt") != NULL, "%s", err.msg);
    char *lu = listing(user);
    ck_assert_str_eq(lu, "notes.txt\n");
    free(lu);
    free(stale); free(user); free(note); free(before);
    kge_link_free(a); kge_link_free(b);
    tu_rmrf(dir);
    free(dir); free(ck); free(old); free(fresh);
}
END_TEST

/* Platt scaling recovers known probabilities: scores s with P(y = 1 | s) =
 * 1 / (1 + exp(-2s + 0.5)) give A ≈ -2, B ≈ 0.5, and the fitted
 * probabilities have a small ECE on a fresh sample, where a miscalibrated
 * map (the plain sigmoid of s) has a large one; balanced fitting shifts B
 * by the log of the class ratio. */
START_TEST(platt_calibration)
{
    enum { M = 20000 };
    double *sc = malloc(2 * M * sizeof *sc), *p = malloc(M * sizeof *p);
    int *y = malloc(2 * M * sizeof *y);
    uint64_t x = 99;
    for (size_t i = 0; i < 2 * M; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double u = (double)(x >> 11) / 9007199254740992.0;
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double v = (double)(x >> 11) / 9007199254740992.0;
        sc[i] = 6 * u - 3;
        y[i] = v < 1 / (1 + exp(-2 * sc[i] + 0.5));
    }
    double A, B;
    ck_assert_int_eq(kge_platt_fit(sc, y, M, 0, &A, &B), 0);
    ck_assert_msg(fabs(A + 2) < 0.1 && fabs(B - 0.5) < 0.1, "A %g B %g", A, B);
    for (size_t i = 0; i < M; i++) p[i] = 1 / (1 + exp(A * sc[M + i] + B));
    double ece = kge_ece(p, y + M, M, 10);
    ck_assert_msg(ece < 0.02, "ECE %g", ece);
    for (size_t i = 0; i < M; i++) p[i] = 1 / (1 + exp(-sc[M + i]));
    ck_assert_msg(kge_ece(p, y + M, M, 10) > 0.05, "a miscalibrated map scored ECE %g", kge_ece(p, y + M, M, 10));
    /* balanced: each class weighs half, so B falls by ln(N- / N+) */
    double np = 0;
    for (size_t i = 0; i < M; i++) np += y[i];
    double A2, B2;
    ck_assert_int_eq(kge_platt_fit(sc, y, M, 1, &A2, &B2), 0);
    ck_assert_msg(fabs(A2 - A) < 0.05 && fabs((B - B2) - log((M - np) / np)) < 0.05, "A %g B %g / %g %g", A, B, A2, B2);
    /* ECE by hand: bins (0.1, 0.2] and (0.8, 0.9], p = 0 in the first */
    double pp[4] = {0.15, 0.15, 0.85, 0.0};
    int yy[4] = {0, 1, 1, 0};
    ck_assert(fabs(kge_ece(pp, yy, 4, 10) - (0.5 * 0.35 + 0.25 * 0.15 + 0.25 * 0.0)) < 1e-12);
    ck_assert_int_eq(kge_platt_fit(sc, y, 0, 0, &A, &B), -1);
    free(sc); free(p); free(y);
}
END_TEST

/* kge_prior_em on scores whose calibration is known: class-conditional
 * x | y=1 ~ N(1, 1), x | y=0 ~ N(-1, 1), so the probability that holds
 * for a share `from` is σ(2x + ln(from/(1−from))). Drawn at a share of
 * 5% (and 80%), the EM from `from` recovers it, where the scores' mean
 * (what a single step gives) does not; degenerate lists converge and are
 * clamped to [1/n, 1 − 1/n]; bad arguments are refused. */
static double gauss(uint64_t *x)
{
    double u[2];
    for (int k = 0; k < 2; k++) {
        *x = *x * 6364136223846793005ull + 1442695040888963407ull;
        u[k] = ((double)(*x >> 11) + 0.5) / 9007199254740992.0;
    }
    return sqrt(-2 * log(u[0])) * cos(6.283185307179586 * u[1]);
}

START_TEST(prior_em)
{
    enum { M = 20000 };
    float *p = malloc(M * sizeof *p);
    ck_assert(p != NULL);
    const double shares[2] = {0.05, 0.8}, froms[2] = {0.5, 0.3};
    for (int si = 0; si < 2; si++)
        for (int fi = 0; fi < 2; fi++) {
            uint64_t x = 7 + (uint64_t)si;
            double from = froms[fi], mean = 0, pi = -1;
            size_t npos = 0;
            for (size_t i = 0; i < M; i++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                int y = (double)(x >> 11) / 9007199254740992.0 < shares[si];
                double z = (y ? 1 : -1) + gauss(&x);
                p[i] = (float)(1 / (1 + exp(-(2 * z + log(from / (1 - from))))));
                npos += (size_t)y;
                mean += p[i] / M;
            }
            double truth = (double)npos / M;
            int it = 0;
            ck_assert_int_eq(kge_prior_em(p, M, from, &pi, &it), 0);
            ck_assert_msg(fabs(pi - truth) < 0.015, "share %.3f from %.2f: estimated %.4f in %d iterations (mean %.3f)",
                          truth, from, pi, it, mean);
            ck_assert_msg(fabs(mean - truth) > 0.05, "the mean score %.3f already is the share %.3f", mean, truth);
            ck_assert(it > 1 && it <= 200);
            /* moved to the estimate, the scores' mean is the estimate (the EM's fixed point) */
            double moved = 0;
            for (size_t i = 0; i < M; i++) moved += kge_prior_move(p[i], from, pi) / M;
            ck_assert_msg(fabs(moved - pi) < 1e-4, "moved mean %.5f, estimate %.5f", moved, pi);
        }
    /* kge_prior_move: no move at the same share; 0.5 goes to the new share; a round trip */
    ck_assert(fabs(kge_prior_move(0.3, 0.4, 0.4) - 0.3) < 1e-12);
    ck_assert(fabs(kge_prior_move(0.5, 0.5, 0.2) - 0.2) < 1e-12);
    ck_assert(fabs(kge_prior_move(kge_prior_move(0.7, 0.5, 0.03), 0.03, 0.5) - 0.7) < 1e-9);
    /* degenerate lists: all 0, all 1 (clamped), one pair (0.5), a list at exactly its share */
    double pi;
    int it;
    for (size_t i = 0; i < 100; i++) p[i] = 0;
    ck_assert_int_eq(kge_prior_em(p, 100, 0.5, &pi, &it), 0);
    ck_assert_msg(fabs(pi - 0.01) < 1e-12 && it <= 200, "all 0: %g after %d", pi, it);
    for (size_t i = 0; i < 100; i++) p[i] = 1;
    ck_assert_int_eq(kge_prior_em(p, 100, 0.5, &pi, &it), 0);
    ck_assert_msg(fabs(pi - 0.99) < 1e-12 && it <= 200, "all 1: %g after %d", pi, it);
    p[0] = 0.9f;
    ck_assert_int_eq(kge_prior_em(p, 1, 0.5, &pi, NULL), 0);
    ck_assert(fabs(pi - 0.5) < 1e-12);
    for (size_t i = 0; i < 100; i++) p[i] = 0.3f;   /* flat scores at the share they hold for: stays */
    ck_assert_int_eq(kge_prior_em(p, 100, 0.3, &pi, &it), 0);
    ck_assert_msg(fabs(pi - 0.3) < 1e-6 && it == 1, "flat: %g after %d", pi, it);
    /* bad arguments */
    ck_assert_int_eq(kge_prior_em(p, 0, 0.5, &pi, NULL), -1);
    ck_assert_int_eq(kge_prior_em(p, 100, 0, &pi, NULL), -1);
    ck_assert_int_eq(kge_prior_em(p, 100, 1, &pi, NULL), -1);
    ck_assert_int_eq(kge_prior_em(p, 100, NAN, &pi, NULL), -1);
    free(p);
}
END_TEST

/* ---- structural features and explicit negatives ------------------------------ */

/* The decoder's pair features on a small graph with a duplicate edge and a
 * self-loop (both left out), and with an edge masked out. */
START_TEST(structural_features)
{
    /* 0→1 1→2 0→3 3→2 4→0 0→1 (again) 5→5 (loop) */
    uint32_t src[] = {0, 1, 0, 3, 4, 0, 5}, dst[] = {1, 2, 3, 2, 0, 1, 5};
    kge_link_sx sx = {0};
    kge_err err = {0};
    float phi[KGE_LINK_NSTRUCT];
    ck_assert_int_eq(kge_link_sx_build(&sx, 6, 7, src, dst, NULL, &err), KGE_OK);
    kge_link_sx_pair(&sx, 0, 2, phi);
    ck_assert_float_eq_tol(phi[0], log1pf(2), 1e-6f);   /* 0 is a prerequisite of 1 and 3 */
    ck_assert_float_eq_tol(phi[1], log1pf(1), 1e-6f);   /* 4 is one of 0 */
    ck_assert_float_eq_tol(phi[2], 0.0f, 1e-6f);
    ck_assert_float_eq_tol(phi[3], log1pf(2), 1e-6f);   /* 1 and 3 come before 2 */
    ck_assert_float_eq_tol(phi[4], 0.0f, 1e-6f);        /* no 2 → 0 */
    ck_assert_float_eq_tol(phi[5], log1pf(2), 1e-6f);   /* 0→1→2 and 0→3→2 */
    ck_assert_float_eq_tol(phi[6], log1pf(2), 1e-6f);   /* neighbours 1 and 3 in common */
    ck_assert_float_eq_tol(phi[7], log1pf((float)(2.0 / log(2.0))), 1e-5f);   /* each of degree 2 */
    kge_link_sx_pair(&sx, 1, 0, phi);
    ck_assert_float_eq_tol(phi[4], 1.0f, 1e-6f);        /* the reverse edge 0 → 1 */
    ck_assert_float_eq_tol(phi[5], 0.0f, 1e-6f);
    kge_link_sx_pair(&sx, 5, 4, phi);                    /* the loop is no edge */
    for (int k = 0; k < KGE_LINK_NSTRUCT; k++) ck_assert_float_eq_tol(phi[k], (k == 2 ? log1pf(1) : 0.0f), 1e-6f);
    /* without 0 → 3: one successor and one two-hop path left */
    uint8_t keep[] = {1, 1, 0, 1, 1, 1, 1};
    ck_assert_int_eq(kge_link_sx_build(&sx, 6, 7, src, dst, keep, &err), KGE_OK);
    kge_link_sx_pair(&sx, 0, 2, phi);
    ck_assert_float_eq_tol(phi[0], log1pf(1), 1e-6f);
    ck_assert_float_eq_tol(phi[5], log1pf(1), 1e-6f);
    ck_assert_float_eq_tol(phi[6], log1pf(1), 1e-6f);   /* 3 no longer neighbours 0 */
    kge_link_sx_free(&sx);
}
END_TEST

/* The transitive features on the same graph: descendants and ancestors
 * counted through paths, distances both ways; the same values whatever
 * order the pairs come in (the searches are cached per first concept). */
START_TEST(transitive_features)
{
    /* 4→0 0→1 1→2 0→3 3→2, and 5 alone */
    uint32_t src[] = {0, 1, 0, 3, 4}, dst[] = {1, 2, 3, 2, 0};
    kge_link_sx sx = {0};
    kge_err err = {0};
    float phi[KGE_LINK_NTRANS], again[KGE_LINK_NTRANS];
    ck_assert_int_eq(kge_link_sx_build(&sx, 6, 5, src, dst, NULL, &err), KGE_OK);
    kge_link_sx_trans(&sx, 4, 2, phi);
    ck_assert_float_eq_tol(phi[0], log1pf(4), 1e-6f);   /* 4 precedes 0, 1, 3 and 2 */
    ck_assert_float_eq_tol(phi[1], 0.0f, 1e-6f);
    ck_assert_float_eq_tol(phi[2], 0.0f, 1e-6f);
    ck_assert_float_eq_tol(phi[3], log1pf(4), 1e-6f);   /* 2 follows 1, 3, 0 and 4 */
    ck_assert_float_eq_tol(phi[4], 1.0f / 3.0f, 1e-6f); /* 4 → 0 → 1 → 2 */
    ck_assert_float_eq_tol(phi[5], 0.0f, 1e-6f);
    kge_link_sx_trans(&sx, 2, 4, phi);
    ck_assert_float_eq_tol(phi[4], 0.0f, 1e-6f);
    ck_assert_float_eq_tol(phi[5], 1.0f / 3.0f, 1e-6f); /* the other way round */
    kge_link_sx_trans(&sx, 1, 5, phi);
    ck_assert_float_eq_tol(phi[0], log1pf(1), 1e-6f);
    ck_assert_float_eq_tol(phi[1], log1pf(2), 1e-6f);   /* 0 and 4 */
    ck_assert_float_eq_tol(phi[2] + phi[3] + phi[4] + phi[5], 0.0f, 1e-6f);
    kge_link_sx_trans(&sx, 4, 2, again);
    kge_link_sx_trans(&sx, 2, 4, phi);
    kge_link_sx_trans(&sx, 4, 2, phi);
    ck_assert(memcmp(phi, again, sizeof phi) == 0);
    /* a model with them: 14 structural inputs, "transitive": 1 saved and read back */
    synth s;
    synth_make(&s);
    kge_link_opts o = tiny_opts(KGE_TRAIN_HEAD);
    o.transitive = 1;
    kge_link_model *a = trained(&s, &o, 10), *b = NULL;
    ck_assert_int_eq(a->SX, KGE_LINK_NSTRUCT + KGE_LINK_NTRANS);
    char *dir = tu_mkdtemp(), *ck = tu_path(dir, "ck");
    ck_assert_msg(kge_link_save(a, ck, &err) == KGE_OK, "%s", err.msg);
    ck_assert_msg(kge_link_load(ck, &b, &err) == KGE_OK, "%s", err.msg);
    ck_assert_int_eq(kge_link_options(b)->transitive, 1);
    float *pa = all_scores(a, &s), *pb = all_scores(b, &s);
    ck_assert(memcmp(pa, pb, N * N * sizeof *pa) == 0);
    free(pa); free(pb);
    kge_link_free(a); kge_link_free(b);
    o.structural = 0;
    ck_assert_int_eq(kge_link_new(tiny_bert(3), &o, &a, &err), KGE_EUSAGE);
    tu_rmrf(dir);
    free(dir); free(ck);
    kge_link_sx_free(&sx);
}
END_TEST

/* Mean probability of the pairs (src, dst), each scored with the graph of
 * d minus that pair (as training sees a positive). */
static float mean_score(kge_link_model *lm, const kge_link_data *d, const uint32_t *src, const uint32_t *dst,
                        size_t m)
{
    uint32_t es[NT * NL], ed[NT * NL];
    float sum = 0.0f;
    kge_err err = {0};
    for (size_t q = 0; q < m; q++) {
        size_t k = 0;
        for (size_t e = 0; e < d->E; e++)
            if (d->src[e] != src[q] || d->dst[e] != dst[q]) { es[k] = d->src[e]; ed[k++] = d->dst[e]; }
        kge_link_data dq = *d;
        dq.E = k;
        dq.src = es;
        dq.dst = ed;
        uint32_t pair[2] = {src[q], dst[q]};
        float p = 0.0f;
        ck_assert_msg(kge_link_score(lm, &dq, pair, 1, &p, &err) == KGE_OK, "%s", err.msg);
        sum += p;
    }
    return sum / (float)m;
}

/* Labelled negatives are trained on. The last topic's chain is left out
 * of the edges: a model trained without negatives scores its pairs like
 * the other topics' chains (levels k → k+1 read alike), one trained with
 * them as explicit negatives scores them far lower, and still scores the
 * edges high. Without negatives their share changes nothing (the
 * sampler's random stream is untouched). */
START_TEST(explicit_negatives)
{
    synth s;
    synth_make(&s);
    size_t E = (NT - 1) * (NL - 1), nn = NL - 1;   /* edges: topics 0..NT-2; the chain of topic NT-1 */
    const uint32_t *ns = s.src + E, *nd = s.dst + E;
    kge_link_data d = s.d;
    d.E = E;
    kge_link_opts o = tiny_opts(KGE_TRAIN_HEAD);
    kge_link_model *plain = NULL, *plain0 = NULL, *neg = NULL;
    kge_err err = {0};
    ck_assert_int_eq(kge_link_new(tiny_bert(3), &o, &plain, &err), KGE_OK);
    ck_assert_msg(kge_link_train(plain, &d, 60, NULL, NULL, &err) == KGE_OK, "%s", err.msg);
    /* absent negatives: neg_explicit is not read */
    kge_link_opts o0 = o;
    o0.neg_explicit = 0.0f;
    ck_assert_int_eq(kge_link_new(tiny_bert(3), &o0, &plain0, &err), KGE_OK);
    ck_assert_msg(kge_link_train(plain0, &d, 60, NULL, NULL, &err) == KGE_OK, "%s", err.msg);
    ck_assert(mean_score(plain, &d, s.src, s.dst, E) == mean_score(plain0, &d, s.src, s.dst, E));
    ck_assert(mean_score(plain, &d, ns, nd, nn) == mean_score(plain0, &d, ns, nd, nn));
    kge_link_free(plain0);
    kge_link_data dn = d;
    dn.nneg = nn;
    dn.neg_src = ns;
    dn.neg_dst = nd;
    ck_assert_int_eq(kge_link_new(tiny_bert(3), &o, &neg, &err), KGE_OK);
    ck_assert_msg(kge_link_train(neg, &dn, 60, NULL, NULL, &err) == KGE_OK, "%s", err.msg);
    float chain_plain = mean_score(plain, &d, ns, nd, nn), chain_neg = mean_score(neg, &d, ns, nd, nn);
    float edge_plain = mean_score(plain, &d, s.src, s.dst, E), edge_neg = mean_score(neg, &d, s.src, s.dst, E);
    if (getenv("TRAIN_VERBOSE"))
        fprintf(stderr, "left-out chain %.3f -> %.3f as explicit negatives; edges %.3f -> %.3f\n", chain_plain,
                chain_neg, edge_plain, edge_neg);
    ck_assert_msg(chain_neg < 0.5f * chain_plain, "negatives %g vs %g", chain_neg, chain_plain);
    ck_assert_msg(edge_neg > chain_neg + 0.3f, "edges %g vs negatives %g", edge_neg, chain_neg);
    /* bad negatives are refused before any step */
    uint32_t bad = N;
    dn.neg_dst = &bad;
    dn.nneg = 1;
    ck_assert_int_eq(kge_link_train(plain, &dn, 61, NULL, NULL, &err), KGE_EUSAGE);
    ck_assert_msg(strstr(err.msg, "negative 0") != NULL, "%s", err.msg);
    dn.neg_dst = NULL;
    ck_assert_int_eq(kge_link_train(plain, &dn, 61, NULL, NULL, &err), KGE_EUSAGE);
    kge_link_free(plain);
    kge_link_free(neg);
    o.neg_explicit = 1.5f;
    ck_assert_int_eq(kge_link_new(tiny_bert(3), &o, &plain, &err), KGE_EUSAGE);
}
END_TEST

static int contains(const char *buf, size_t len, const char *needle)
{
    size_t l = strlen(needle);
    for (size_t i = 0; i + l <= len; i++)
        if (!memcmp(buf + i, needle, l)) return 1;
    return 0;
}

/* The structural weights are part of the checkpoint (scores identical after
 * a reload, shown by save_load_*); a model without them saves, reloads and
 * scores alike, and a manifest without "structural" (written before the
 * features existed) reads as a model without them: a checkpoint that has
 * them and lost the key is refused by shape, not misread. A structural
 * model decodes only after embedding a graph, and only its concepts. */
START_TEST(structural_checkpoints)
{
    synth s;
    synth_make(&s);
    char *dir = tu_mkdtemp();
    kge_err err = {0};
    for (int st = 0; st < 2; st++) {
        kge_link_opts o = tiny_opts(KGE_TRAIN_HEAD);
        o.structural = st;
        o.mention = 0;   /* the features this test is about alone */
        kge_link_model *a = trained(&s, &o, 8), *b = NULL;
        char name[16];
        snprintf(name, sizeof name, "ck%d", st);
        char *ck = tu_path(dir, name), *man = tu_path(ck, "kgpath_train.json"),
             *heads = tu_path(ck, "kgpath_heads.safetensors");
        ck_assert_msg(kge_link_save(a, ck, &err) == KGE_OK, "%s", err.msg);
        size_t hl;
        char *hb = tu_read(heads, &hl);
        ck_assert_int_eq(contains(hb, hl, "decoder.struct.weight"), st);
        free(hb);
        ck_assert_msg(kge_link_load(ck, &b, &err) == KGE_OK, "%s", err.msg);
        ck_assert_int_eq(kge_link_options(b)->structural, st);
        float *pa = all_scores(a, &s), *pb = all_scores(b, &s);
        ck_assert(memcmp(pa, pb, N * N * sizeof *pa) == 0);
        free(pa); free(pb);
        kge_link_free(b);
        b = NULL;
        /* the manifest of an older checkpoint: no "structural" */
        char *m = tu_read(man, NULL), *at = strstr(m, "\"structural\": ");
        ck_assert(at != NULL);
        char *comma = strchr(at, ',');
        ck_assert(comma != NULL);
        memmove(at, comma + 1, strlen(comma + 1) + 1);
        tu_write(man, m, (size_t)-1);
        free(m);
        if (st) {
            ck_assert_int_eq(kge_link_load(ck, &b, &err), KGE_EINPUT);
            ck_assert_msg(strstr(err.msg, "decoder.fc1.weight") != NULL, "%s", err.msg);
        } else {
            ck_assert_msg(kge_link_load(ck, &b, &err) == KGE_OK, "%s", err.msg);
            ck_assert_int_eq(kge_link_options(b)->structural, 0);
            kge_link_free(b);
        }
        kge_link_free(a);
        free(ck); free(man); free(heads);
    }
    /* decoding needs the structure of an embedded graph */
    kge_link_opts o = tiny_opts(KGE_TRAIN_HEAD);
    kge_link_model *lm = NULL;
    ck_assert_int_eq(kge_link_new(tiny_bert(3), &o, &lm, &err), KGE_OK);
    size_t C = (size_t)kge_link_dim(lm);
    float *z = calloc(N * C, sizeof *z), p;
    uint32_t pair[2] = {0, 1};
    ck_assert_int_eq(kge_link_decode(lm, z, pair, 1, &p, &err), KGE_EUSAGE);
    ck_assert_msg(kge_link_embed(lm, &s.d, z, &err) == KGE_OK, "%s", err.msg);
    ck_assert_msg(kge_link_decode(lm, z, pair, 1, &p, &err) == KGE_OK, "%s", err.msg);
    pair[1] = N;
    ck_assert_int_eq(kge_link_decode(lm, z, pair, 1, &p, &err), KGE_EUSAGE);
    free(z);
    kge_link_free(lm);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* The title-word features (kge_title_pair_feats): shares both ways and
 * proper subsets, case, plurals and function words ignored, parentheses
 * left out, the titles like b's among a's known dependents and like a's
 * among b's known prerequisites; and the pair regression they feed (kge_prereq_regression):
 * where the graph says nothing about the test pairs, the structural
 * features alone score them alike and the titles tell them apart. */
START_TEST(title_pair_features)
{
    const char *titles[10] = {"Calculus", "Multivariable CALCULUS", "Algorithm", "Analysis of algorithms",
                              "Translator (computing)", "Computing", "Computer networks", "Network security", NULL,
                              "Vector calculus"};
    const uint32_t pairs[] = {0, 1, 1, 0, 2, 3, 4, 5, 6, 7, 8, 0, 0, 10, 0, 9, 2, 9};
    const double want[9][KGE_TITLE_FEATS] = {
        {1, 0.5, 1, 0, 0, 0, 0, 0}, {0.5, 1, 0, 1, 0.5, 0, 0.5, 0}, {1, 0.5, 1, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},
        {0.5, 0.5, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},
        {1, 0.5, 1, 0, 1.0 / 3, 0.5, 1.0 / 3, 0.5}, {0, 0, 0, 0, 0, 0, 0, 0}};
    /* the known graph: Calculus -> Multivariable calculus (b itself, or a
     * itself, never counts), Multivariable calculus -> Vector calculus */
    const uint32_t gs[2] = {0, 1}, gd[2] = {1, 9};
    double x[9 * KGE_TITLE_FEATS];
    ck_assert_int_eq(kge_title_pair_feats(titles, 10, 2, gs, gd, pairs, 9, x), 0);
    for (int p = 0; p < 9; p++)
        for (int f = 0; f < KGE_TITLE_FEATS; f++)
            ck_assert_msg(fabs(x[KGE_TITLE_FEATS * p + f] - want[p][f]) < 1e-12, "pair %d feature %d: %g, want %g", p, f,
                          x[KGE_TITLE_FEATS * p + f], want[p][f]);
    /* bases 0-3 ("Alpha" ...), advanced 4-7 ("Advanced alpha" ...): the
     * graph and the labelled pairs involve topics 0 and 1 only */
    const char *tt[8] = {"Alpha", "Beta", "Gamma", "Delta", "Advanced alpha", "Advanced beta", "Advanced gamma",
                         "Advanced delta"};
    const uint32_t src[2] = {0, 1}, dst[2] = {4, 5};
    const uint32_t trp[8] = {0, 4, 1, 5, 0, 5, 1, 4};
    const int try[4] = {1, 1, 0, 0};
    const uint32_t tep[8] = {2, 6, 2, 7, 3, 7, 3, 6};   /* positive, negative, positive, negative */
    double xtr[4 * KGE_TITLE_FEATS], xte[4 * KGE_TITLE_FEATS], with[4], without[4];
    ck_assert_int_eq(kge_title_pair_feats(tt, 8, 2, src, dst, trp, 4, xtr), 0);
    ck_assert_int_eq(kge_title_pair_feats(tt, 8, 2, src, dst, tep, 4, xte), 0);
    const double l0 = KGE_LOGREG_LAMBDA;
    ck_assert_int_eq(kge_prereq_regression(8, 2, src, dst, trp, try, 4, tep, 4, NULL, NULL, 0, l0, without), 0);
    ck_assert_int_eq(kge_prereq_regression(8, 2, src, dst, trp, try, 4, tep, 4, xtr, xte, KGE_TITLE_FEATS, l0, with), 0);
    for (int p = 1; p < 4; p++) ck_assert_msg(fabs(without[p] - without[0]) < 1e-12, "%g vs %g", without[p], without[0]);
    ck_assert_msg(with[0] > with[1] + 0.05 && with[2] > with[3] + 0.05, "%g %g %g %g", with[0], with[1], with[2], with[3]);
    /* more features than the regression takes */
    ck_assert_int_eq(kge_prereq_regression(8, 2, src, dst, trp, try, 4, tep, 4, xtr, xte, KGE_LOGREG_MAX_F - 7, l0, with),
                     -1);
}
END_TEST

/* A key of the manifest's calibration that a is saved with ("key": want,
 * read back by get): read back; bad in its place refused, naming the key;
 * without the key (a checkpoint written before it), absent, and the
 * stacked head's weight kept. a has a stacked head of weight 0.75. */
static void cal_key_roundtrip(kge_link_model *a, const char *key, int want, int bad, int absent,
                              int (*get)(const kge_link_model *))
{
    char *dir = tu_mkdtemp(), *ck = tu_path(dir, "ck"), *man = tu_path(ck, "kgpath_train.json"), pat[64];
    kge_err err = {0};
    kge_link_model *b = NULL;
    ck_assert_msg(kge_link_save(a, ck, &err) == KGE_OK, "%s", err.msg);
    ck_assert_msg(kge_link_load(ck, &b, &err) == KGE_OK, "%s", err.msg);
    ck_assert_int_eq(get(b), want);
    ck_assert(kge_link_stack(b) == 0.75f);
    kge_link_free(b);
    b = NULL;
    snprintf(pat, sizeof pat, "\"%s\": %d", key, want);
    char *m = tu_read(man, NULL), *at = strstr(m, pat);
    ck_assert_msg(at != NULL, "%s", m);
    at[strlen(pat) - 1] = (char)('0' + bad);
    tu_write(man, m, (size_t)-1);
    ck_assert_int_eq(kge_link_load(ck, &b, &err), KGE_EINPUT);
    ck_assert_msg(strstr(err.msg, key) != NULL, "%s", err.msg);
    /* without the key */
    char *comma = at;
    while (comma > m && *comma != ',') comma--;
    ck_assert(*comma == ',');
    *comma = ' ';   /* the comma before it */
    memset(at, ' ', strlen(pat));
    tu_write(man, m, (size_t)-1);
    ck_assert_msg(kge_link_load(ck, &b, &err) == KGE_OK, "%s", err.msg);
    ck_assert_int_eq(get(b), absent);
    ck_assert(kge_link_stack(b) == 0.75f);
    kge_link_free(b);
    free(m);
    tu_rmrf(dir);
    free(dir); free(ck); free(man);
}

/* The stacked head's "titles" flag and the version of its regression are
 * saved with the calibration ("titles": 1, "regression": 2), read back,
 * absent in checkpoints written before them (0: the structural features
 * alone; version 1: without the neighbourhood features, as before), and
 * anything else is refused. */
START_TEST(stack_flags_checkpoint)
{
    synth s;
    synth_make(&s);
    kge_link_opts o = tiny_opts(KGE_TRAIN_HEAD);
    kge_link_model *a = trained(&s, &o, 4);
    ck_assert_int_eq(kge_link_stack_regression(a), 1);   /* no stacked head */
    kge_link_set_calibration(a, 1, -1.0f, 0.5f);
    kge_link_set_stack(a, 0.75f);
    kge_link_set_stack_titles(a, 1);
    kge_link_set_stack_regression(a, 3);
    ck_assert_int_eq(kge_link_stack_regression(a), 1);
    kge_link_set_stack_regression(a, KGE_STACK_REGRESSION);
    ck_assert_int_eq(kge_link_stack_regression(a), 2);
    cal_key_roundtrip(a, "titles", 1, 2, 0, kge_link_stack_titles);
    cal_key_roundtrip(a, "regression", 2, 3, 1, kge_link_stack_regression);
    kge_link_free(a);
}
END_TEST

/* The neighbourhood features (kge_neighbour_pair_feats) on a hand-built
 * graph, against values worked out by hand: 0 -> 2, 0 -> 3, 1 -> 2,
 * 1 -> 3, 1 -> 4, 5 -> 3; concept 6 has no edge. For (0, 4): A = {2, 3},
 * b's other prerequisite 1 leads to {2, 3} too (cosine 1); B = {1}, a's
 * dependents 2 and 3 build on {1} (1) and {1, 5} (1/√2). The known edge
 * (1, 3) is featurised without itself. Repeated edges and edges or pairs
 * outside [0, n) change nothing; and the pair regression, where the
 * structural features cannot tell its test pairs apart, ranks them by
 * the neighbourhood. */
START_TEST(neighbour_pair_features)
{
    const double r = 1 / sqrt(2.0);
    const uint32_t src[8] = {0, 0, 1, 1, 1, 5, 1, 3}, dst[8] = {2, 3, 2, 3, 4, 3, 2, 99};
    const uint32_t pairs[] = {0, 4, 1, 3, 5, 2, 6, 2, 2, 0, 0, 9};
    const double want[6][KGE_NEIGHBOUR_FEATS] = {
        {1, 1, 1, (1 + r) / 2}, {r, r / 2, r, r / 2}, {1, (1 + r) / 2, 1, 1}, {0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}};
    double x[6 * KGE_NEIGHBOUR_FEATS], x2[6 * KGE_NEIGHBOUR_FEATS];
    ck_assert_int_eq(kge_neighbour_pair_feats(7, 6, src, dst, pairs, 6, x), 0);
    ck_assert_int_eq(kge_neighbour_pair_feats(7, 8, src, dst, pairs, 6, x2), 0);   /* 1 -> 2 again, 3 -> 99 */
    for (int p = 0; p < 6; p++)
        for (int f = 0; f < KGE_NEIGHBOUR_FEATS; f++) {
            double got = x[KGE_NEIGHBOUR_FEATS * p + f];
            ck_assert_msg(fabs(got - want[p][f]) < 1e-12, "pair %d feature %d: %g, want %g", p, f, got, want[p][f]);
            ck_assert_msg(x2[KGE_NEIGHBOUR_FEATS * p + f] == got, "pair %d feature %d: repeated edge", p, f);
        }
    /* 0, 1 and 2 lead to 4 and 5, 3 to 9 and 10; 0 and 1 to 6, 0 to 8.
     * Training: the edges 0 -> 6 and 1 -> 6 against the rejections 3 -> 6
     * and 2 -> 9; test pairs 2 -> 8 (8's prerequisite 0 leads where 2
     * does: cosine 2 / √6) and 3 -> 8 (0), whose structural features are
     * the same, so only the neighbourhood tells them apart */
    const uint32_t gs[11] = {0, 0, 1, 1, 2, 2, 3, 3, 0, 1, 0}, gd[11] = {4, 5, 4, 5, 4, 5, 9, 10, 6, 6, 8};
    const uint32_t trp[8] = {0, 6, 1, 6, 3, 6, 2, 9}, tep[4] = {2, 8, 3, 8};
    const int try[4] = {1, 1, 0, 0};
    double ntr[4 * KGE_NEIGHBOUR_FEATS], nte[2 * KGE_NEIGHBOUR_FEATS], lr[2], flat[2];
    ck_assert_int_eq(kge_neighbour_pair_feats(11, 11, gs, gd, tep, 2, nte), 0);
    ck_assert_msg(fabs(nte[0] - 2 / sqrt(6.0)) < 1e-12 && nte[KGE_NEIGHBOUR_FEATS] == 0, "%g %g", nte[0],
                  nte[KGE_NEIGHBOUR_FEATS]);
    ck_assert_int_eq(kge_neighbour_pair_feats(11, 11, gs, gd, trp, 4, ntr), 0);
    ck_assert_int_eq(kge_prereq_regression(11, 11, gs, gd, trp, try, 4, tep, 2, NULL, NULL, 0, 1.0, flat), 0);
    ck_assert_msg(fabs(flat[0] - flat[1]) < 1e-12, "%g %g", flat[0], flat[1]);
    const size_t kn = KGE_NEIGHBOUR_FEATS;
    ck_assert_int_eq(kge_prereq_regression(11, 11, gs, gd, trp, try, 4, tep, 2, ntr, nte, kn, 1.0, lr), 0);
    ck_assert_msg(lr[0] > lr[1] + 0.05, "%g %g", lr[0], lr[1]);
    /* a negative L2 strength is refused */
    ck_assert_int_eq(kge_prereq_regression(11, 11, gs, gd, trp, try, 4, tep, 2, ntr, nte, kn, -1, lr), -1);
}
END_TEST


static const int32_t specials[5] = {0, 1, 2, 3, 4};   /* [PAD] [UNK] [CLS] [SEP] [MASK] */

START_TEST(mlm_masking)
{
    kge_mlm_vocab v = {V, 4, specials, 5};
    enum { M = 20000 };
    int32_t *ids = malloc(M * sizeof *ids), *orig = malloc(M * sizeof *orig), *lab = malloc(M * sizeof *lab);
    uint8_t *mask = malloc(M);
    kge_rng r;
    kge_rng_seed(&r, 9);
    for (int i = 0; i < M; i++) {
        orig[i] = ids[i] = i % 10 == 0 ? 2 : 5 + (int32_t)kge_rng_below(&r, V - 5);
        mask[i] = i % 7 != 6;
    }
    size_t chosen = kge_mlm_mask(&r, &v, 0.15f, ids, mask, lab, M);
    size_t eligible = 0, as_mask = 0, same = 0, other = 0, bad = 0;
    for (int i = 0; i < M; i++) {   /* one assertion after the loop: check is slow inside */
        eligible += mask[i] && orig[i] != 2;
        if (lab[i] < 0) { bad += ids[i] != orig[i]; continue; }
        bad += !(mask[i] && orig[i] != 2);   /* never padding, never a special token */
        bad += lab[i] != orig[i];
        if (ids[i] == 4) as_mask++;
        else if (ids[i] == orig[i]) same++;
        else { other++; bad += !(ids[i] >= 5 && ids[i] < V); }
    }
    ck_assert_uint_eq(bad, 0);
    double f = (double)chosen / (double)eligible;
    ck_assert_msg(f > 0.13 && f < 0.17, "chose %g", f);
    ck_assert(fabs((double)as_mask / chosen - 0.8) < 0.03);
    ck_assert(fabs((double)(same + other) / chosen - 0.2) < 0.03);
    ck_assert(other > same / 2);   /* random replacements (some land on the same id) */
    free(ids); free(orig); free(lab); free(mask);
}
END_TEST

START_TEST(mlm_loss_falls)
{
    synth s;
    synth_make(&s);
    kge_bert *m = tiny_bert(4);
    kge_lr_sched sch = {.peak = 5e-3f, .warmup = 5, .total = 120, .decay = KGE_LR_COSINE};
    kge_dropout d = {0.1f, 0.1f};
    kge_mlm_trainer t;
    kge_err e = {0};
    kge_mlm_vocab v = {V, 4, specials, 5};
    ck_assert_int_eq(kge_mlm_trainer_init(&t, m, &sch, 0.01f, 1.0f, &d, 0.15f, 7, &e), KGE_OK);
    float curve[120];
    for (int step = 0; step < 120; step++) {
        ck_assert_msg(kge_mlm_step(&t, &v, s.ids, s.mask, N, T, &curve[step], &e) == KGE_OK, "%s", e.msg);
        ck_assert(isfinite(curve[step]));
    }
    float first = mean_of(curve, 0, 15), last = mean_of(curve, 105, 120);
    if (getenv("TRAIN_VERBOSE")) fprintf(stderr, "mlm: %.3f -> %.3f\n", first, last);
    ck_assert_msg(last < 0.85f * first, "MLM loss %g -> %g did not fall", first, last);
    kge_mlm_trainer_free(&t);
    /* a model without a head is refused */
    m->has_mlm = 0;
    ck_assert_int_eq(kge_mlm_trainer_init(&t, m, &sch, 0.01f, 1.0f, &d, 0.15f, 7, &e), KGE_EUSAGE);
    kge_bert_free(m);
}
END_TEST

START_TEST(augmentation)
{
    kge_rng r;
    kge_rng_seed(&r, 3);
    for (int rep = 0; rep < 200; rep++) {
        int32_t ids[12] = {2, 10, 11, 12, 13, 14, 15, 16, 3, 0, 0, 0};
        uint8_t mask[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0};
        size_t len = kge_augment_tokens(&r, ids, mask, 12, 0.2f, 0.5f, 3, 0);
        ck_assert(len >= 3 && len <= 9);
        ck_assert_int_eq(ids[0], 2);
        ck_assert_int_eq(ids[len - 1], 3);
        for (size_t i = 0; i < 12; i++) ck_assert_int_eq(mask[i], i < len);
        for (size_t i = 1; i + 1 < len; i++) ck_assert(ids[i] > ids[i - 1] || i == 1);   /* order kept */
        for (size_t i = len; i < 12; i++) ck_assert_int_eq(ids[i], 0);
    }
}
END_TEST

START_TEST(vocab_training)
{
    const char *texts[] = {
        "The eigenvalues of a matrix; the eigenvectors of the matrix.",
        "Matrices and vectors: the matrix-vector product, matrix multiplication.",
        "Éigen décomposition of symmetric matrices (the spectral theorem).",
        "线性代数 矩阵 向量",
    };
    char *vb = NULL, *vb2 = NULL;
    size_t vl = 0, vl2 = 0;
    kge_err e = {0};
    ck_assert_msg(kge_vocab_train(texts, 4, 90, 1, &vb, &vl, &e) == KGE_OK, "%s", e.msg);
    ck_assert(strncmp(vb, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n", 31) == 0);
    ck_assert(strstr(vb, "\nmatrix\n") != NULL);      /* a frequent word became one piece */
    ck_assert(strstr(vb, "\n##s\n") != NULL);         /* continuation pieces */
    ck_assert(strstr(vb, "\n矩\n") != NULL);          /* CJK ideographs stand alone */
    ck_assert(strstr(vb, "\neigen") != NULL);          /* accents stripped, lowercased */
    ck_assert(strstr(vb, "É") == NULL);
    kge_vocab *v = NULL;
    ck_assert_msg(kge_vocab_from_buffer(vb, vl, &v, &e) == KGE_OK, "%s", e.msg);
    ck_assert_uint_eq(kge_vocab_size(v), 90);
    ck_assert_int_eq(kge_vocab_special(v)->mask, 4);
    /* the texts tokenise without [UNK] */
    kge_tokenizer tk = kge_tokenizer_default(v, 1);
    for (int i = 0; i < 4; i++) {
        kge_ids ids = {0};
        ck_assert_int_eq(kge_tokenize(&tk, texts[i], strlen(texts[i]), &ids, &e), KGE_OK);
        for (size_t k = 0; k < ids.n; k++) ck_assert_int_ne(ids.v[k], 1);
        kge_ids_free(&ids);
    }
    kge_vocab_free(v);
    /* deterministic; a bigger budget stops when every word is one piece */
    ck_assert_int_eq(kge_vocab_train(texts, 4, 90, 1, &vb2, &vl2, &e), KGE_OK);
    ck_assert(vl == vl2 && memcmp(vb, vb2, vl) == 0);
    free(vb2);
    ck_assert_int_eq(kge_vocab_train(texts, 4, 100000, 1, &vb2, &vl2, &e), KGE_OK);
    ck_assert(vl2 > vl);
    free(vb2);
    free(vb);
    /* bad input */
    const char *bad[] = {"ok", "bad \xff byte"};
    ck_assert_int_eq(kge_vocab_train(bad, 2, 100, 1, &vb, &vl, &e), KGE_EINPUT);
    ck_assert(strstr(e.msg, "text 1") != NULL);
    ck_assert_int_eq(kge_vocab_train(texts, 4, 3, 1, &vb, &vl, &e), KGE_EUSAGE);
}
END_TEST

/* The evaluation's logistic regression reaches the optimum of its
 * objective (class-balanced log-loss + 1e-3/2 |w|^2 on standardised
 * features): probabilities from an independent numpy Newton solve whose
 * gradient was 2e-17. Also the metrics on a hand-checked example. */
START_TEST(eval_logreg_and_metrics)
{
    const double X[20] = {0.1, 2.0, 0.4, 1.0, 1.5, 0.3, 2.0, 0.1, 0.9, 0.8,
                          1.1, 1.9, 0.2, 0.2, 1.7, 1.4, 0.5, 0.6, 1.3, 0.4};
    const int y[10] = {0, 0, 1, 1, 0, 1, 0, 1, 1, 0};
    const double Xte[6] = {1.0, 1.0, 0.0, 0.0, 2.5, 2.5};
    const double want_tr[10] = {0.16278558, 0.17194513, 0.74817889, 0.9164288, 0.43387911,
                                0.77184777, 0.05667787, 0.92915223, 0.16737218, 0.64173243};
    const double want_te[3] = {0.54757751, 0.02757853, 0.99704515};
    double str[10], ste[3];
    ck_assert_int_eq(kge_logreg_fit_predict(X, y, 10, Xte, 3, 2, KGE_LOGREG_LAMBDA, str, ste), 0);
    for (int i = 0; i < 10; i++) ck_assert_msg(fabs(str[i] - want_tr[i]) < 1e-7, "train %d: %.9f", i, str[i]);
    for (int i = 0; i < 3; i++) ck_assert_msg(fabs(ste[i] - want_te[i]) < 1e-7, "test %d: %.9f", i, ste[i]);
    ck_assert_int_eq(kge_logreg_fit_predict(X, y, 10, Xte, 3, 0, KGE_LOGREG_LAMBDA, str, ste), -1);
    ck_assert_int_eq(kge_logreg_fit_predict(X, y, 10, Xte, 3, KGE_LOGREG_MAX_F + 1, KGE_LOGREG_LAMBDA, str, ste), -1);
    /* AUC: 3 positives, 3 negatives; pairs ranked right 7 of 9, one tie = 7.5/9 */
    const double s[6] = {0.9, 0.8, 0.4, 0.7, 0.4, 0.1};
    const int ys[6] = {1, 1, 1, 0, 0, 0};
    double auc, th, p, r, f1;
    ck_assert_int_eq(kge_roc_auc(s, ys, 6, &auc), 0);
    ck_assert_msg(fabs(auc - 7.5 / 9) < 1e-12, "%g", auc);
    ck_assert_int_eq(kge_best_f1_threshold(s, ys, 6, &th), 0);
    kge_prf_at(s, ys, 6, th, &p, &r, &f1);
    ck_assert_msg(th == 0.8 && fabs(f1 - 0.8) < 1e-12, "threshold %g f1 %g", th, f1);   /* P 1, R 2/3 */
}
END_TEST

/* Titles and bodies of the synthetic concepts as token ids: concept
 * (topic t, level k) is titled [topic-t level-k], and its body mentions
 * its prerequisite's title (level k-1) between two noise tokens; level 0's
 * body is the noise alone. */
typedef struct synth_text {
    uint32_t title_off[N + 1], body_off[N + 1];
    int32_t  title_ids[2 * N], body_ids[4 * N];
    kge_link_text t;
} synth_text;

static void synth_text_make(synth_text *x)
{
    uint32_t nt = 0, nb = 0;
    for (int t = 0; t < NT; t++)
        for (int k = 0; k < NL; k++) {
            int i = t * NL + k;
            x->title_off[i] = nt;
            x->body_off[i] = nb;
            x->title_ids[nt++] = 5 + t;
            x->title_ids[nt++] = 9 + k;
            x->body_ids[nb++] = 15;
            if (k) { x->body_ids[nb++] = 5 + t; x->body_ids[nb++] = 9 + k - 1; }
            x->body_ids[nb++] = 16;
        }
    x->title_off[N] = nt;
    x->body_off[N] = nb;
    x->t = (kge_link_text){.n = N, .title_off = x->title_off, .body_off = x->body_off, .title_ids = x->title_ids,
                           .body_ids = x->body_ids};
}

/* Mention features on a tiny vocabulary: exact values, word pieces
 * ("regressions" mentions "regression"), partial runs, empty titles and
 * bodies; invalid UTF-8 is refused naming the concept. */
START_TEST(mention_features)
{
    const char vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nlinear\nregression\nmodel\nthe\nuses\nof\na\n.\n##s\n";
    kge_vocab *v = NULL;
    kge_err e = {0};
    ck_assert_msg(kge_vocab_from_buffer(vocab, sizeof vocab - 1, &v, &e) == KGE_OK, "%s", e.msg);
    kge_tokenizer tk = kge_tokenizer_default(v, 1);
    const char *titles[] = {"Linear Regression", "Regression", "Model", ""};
    const char *bodies[] = {"Uses the regression model.", NULL, "A linear model of regressions", "the model"};
    kge_link_text t = {0};
    ck_assert_msg(kge_link_text_build(&tk, titles, bodies, 4, 0, &t, &e) == KGE_OK, "%s", e.msg);
    ck_assert_uint_eq(t.n, 4);
    ck_assert_uint_eq(t.title_off[1] - t.title_off[0], 2);
    ck_assert_uint_eq(t.body_off[1] - t.body_off[0], 5);   /* uses the regression model . */
    ck_assert_uint_eq(t.body_off[2] - t.body_off[1], 0);
    ck_assert_uint_eq(t.body_off[3] - t.body_off[2], 6);   /* a linear model of regression ##s */
    float m[KGE_LINK_NMENTION];
    /* 0's body mentions "regression" (1) and "model" (2) */
    kge_link_text_pair(&t, 1, 0, m);
    ck_assert(m[0] == 1.0f && m[1] == 1.0f && m[2] == 0.0f && m[3] == 0.0f);
    kge_link_text_pair(&t, 0, 1, m);
    ck_assert(m[0] == 0.0f && m[1] == 0.0f && m[2] == 1.0f && m[3] == 1.0f);
    /* 2's body has "linear" and "regression" apart: half of 0's title */
    kge_link_text_pair(&t, 0, 2, m);
    ck_assert(m[0] == 0.0f && m[1] == 0.5f && m[2] == 1.0f && m[3] == 1.0f);
    kge_link_text_pair(&t, 2, 0, m);
    ck_assert(m[0] == 1.0f && m[1] == 1.0f && m[2] == 0.0f && m[3] == 0.5f);
    kge_link_text_pair(&t, 1, 2, m);   /* regression ##s */
    ck_assert(m[0] == 1.0f && m[1] == 1.0f && m[2] == 0.0f && m[3] == 0.0f);
    /* an empty title is never mentioned; 3's body mentions "model" */
    kge_link_text_pair(&t, 3, 0, m);
    ck_assert(m[0] == 0.0f && m[1] == 0.0f && m[2] == 0.0f && m[3] == 0.0f);
    kge_link_text_pair(&t, 2, 3, m);
    ck_assert(m[0] == 1.0f && m[1] == 1.0f && m[2] == 0.0f && m[3] == 0.0f);
    /* scanning the bodies (no index) finds the same runs */
    uint32_t *index = t.body_index;
    t.body_index = NULL;
    for (uint32_t a = 0; a < 4; a++)
        for (uint32_t b = 0; b < 4; b++) {
            float m2[KGE_LINK_NMENTION];
            kge_link_text_pair(&t, a, b, m2);
            t.body_index = index;
            kge_link_text_pair(&t, a, b, m);
            t.body_index = NULL;
            ck_assert(memcmp(m, m2, sizeof m) == 0);
        }
    t.body_index = index;
    /* bodies cut at max_body tokens: "uses the" lose the mentions */
    ck_assert_msg(kge_link_text_build(&tk, titles, bodies, 4, 2, &t, &e) == KGE_OK, "%s", e.msg);
    kge_link_text_pair(&t, 1, 0, m);
    ck_assert(m[0] == 0.0f && m[1] == 0.0f);
    /* [UNK] never matches: words outside the vocabulary (here Chinese, as
     * with a small English vocabulary) are not "mentioned" by other
     * unknown words, while known words around them still are */
    const char *ut[] = {"\xe7\xbb\xa7\xe6\x89\xbf", "model \xe5\x9f\x9f"}, *ub[] = {"\xe5\xb1\x80\xe9\x83\xa8", "\xe5\x8f\x98 model"};
    ck_assert_msg(kge_link_text_build(&tk, ut, ub, 2, 0, &t, &e) == KGE_OK, "%s", e.msg);
    kge_link_text_pair(&t, 0, 1, m);
    ck_assert_msg(m[0] == 0.0f && m[1] == 0.0f && m[2] == 0.0f && m[3] == 0.0f, "%g %g %g %g", m[0], m[1], m[2], m[3]);
    kge_link_text_pair(&t, 1, 1, m);   /* "model" of the title found, its [UNK] not: half */
    ck_assert_msg(m[0] == 0.0f && m[1] == 0.5f, "%g %g", m[0], m[1]);
    /* bad input: nothing kept */
    const char *bad[] = {"ok", "bad", "x", "y"}, *badb[] = {NULL, "bad \xff byte", NULL, NULL};
    ck_assert_int_eq(kge_link_text_build(&tk, bad, badb, 4, 0, &t, &e), KGE_EINPUT);
    ck_assert_msg(strstr(e.msg, "concept 1") != NULL, "%s", e.msg);
    ck_assert_uint_eq(t.n, 0);
    ck_assert(t.title_ids == NULL && t.body_ids == NULL);
    kge_link_text_free(&t);
    kge_vocab_free(v);
}
END_TEST

/* The mention features in the model and its checkpoints: a model with
 * them learns from them (the synthetic bodies mention their prerequisite:
 * the linear weights take the signs that say so), saves "mention": 1 and reloads
 * scoring identically; a model whose features never fire scores as one
 * without them; a manifest written before the features (no "mention" key,
 * 8 structural features) loads as a model without them and scores
 * identically; a mention checkpoint that lost the key is refused by shape. */
START_TEST(mention_checkpoints)
{
    synth s;
    synth_make(&s);
    synth_text x;
    synth_text_make(&x);
    char *dir = tu_mkdtemp();
    kge_err err = {0};
    float *pa, *pb;
    for (int me = 0; me < 2; me++) {
        kge_link_opts o = tiny_opts(KGE_TRAIN_HEAD);
        o.mention = me;
        s.d.mention = &x.t;
        kge_link_model *a = trained(&s, &o, 30), *b = NULL;
        ck_assert_int_eq(kge_link_options(a)->mention, me);
        char name[16];
        snprintf(name, sizeof name, "ck%d", me);
        char *ck = tu_path(dir, name), *man = tu_path(ck, "kgpath_train.json");
        ck_assert_msg(kge_link_save(a, ck, &err) == KGE_OK, "%s", err.msg);
        char *m = tu_read(man, NULL), *at = strstr(m, "\"mention\": ");
        ck_assert(at != NULL);
        ck_assert_int_eq(at[11], me ? '1' : '0');
        ck_assert_msg(kge_link_load(ck, &b, &err) == KGE_OK, "%s", err.msg);
        ck_assert_int_eq(kge_link_options(b)->mention, me);
        pa = all_scores(a, &s);
        pb = all_scores(b, &s);
        ck_assert(memcmp(pa, pb, N * N * sizeof *pa) == 0);
        if (me) {
            /* learnt from: "b's body mentions a" raises the score of a → b,
             * "a's body mentions b" lowers it */
            kge_link_head h;
            kge_link_head_ptrs(a, a->head, &h);
            ck_assert_msg(h.ws[KGE_LINK_NSTRUCT] > 0.0f && h.ws[KGE_LINK_NSTRUCT + 2] < 0.0f, "weights %g %g",
                          h.ws[KGE_LINK_NSTRUCT], h.ws[KGE_LINK_NSTRUCT + 2]);
        }
        free(pa); free(pb);
        kge_link_free(b);
        b = NULL;
        /* the manifest as written before the mention features: no key */
        char *comma = strchr(at, ',');
        if (comma) memmove(at, comma + 1, strlen(comma + 1) + 1);
        else {   /* the last key: drop it and the comma before it */
            char *prev = at;
            while (prev > m && *prev != ',') prev--;
            char *close = strchr(at, '}');
            memmove(prev, close, strlen(close) + 1);
        }
        tu_write(man, m, (size_t)-1);
        free(m);
        if (me) {
            ck_assert_int_eq(kge_link_load(ck, &b, &err), KGE_EINPUT);
            ck_assert_msg(strstr(err.msg, "decoder.fc1.weight") != NULL, "%s", err.msg);
        } else {
            ck_assert_msg(kge_link_load(ck, &b, &err) == KGE_OK, "%s", err.msg);
            ck_assert_int_eq(kge_link_options(b)->mention, 0);
            ck_assert_int_eq(kge_link_options(b)->structural, 1);
            pa = all_scores(a, &s);
            pb = all_scores(b, &s);
            ck_assert(memcmp(pa, pb, N * N * sizeof *pa) == 0);
            free(pa); free(pb);
            kge_link_free(b);
        }
        kge_link_free(a);
        free(ck); free(man);
    }
    /* no titles: the mention model trains and scores as the model without */
    s.d.mention = NULL;
    kge_link_opts o = tiny_opts(KGE_TRAIN_HEAD);
    kge_link_model *with = trained(&s, &o, 20), *without;
    o.mention = 0;
    without = trained(&s, &o, 20);
    pa = all_scores(with, &s);
    pb = all_scores(without, &s);
    for (size_t i = 0; i < N * N; i++) ck_assert_msg(fabsf(pa[i] - pb[i]) < 1e-5f, "pair %zu: %g vs %g", i, pa[i], pb[i]);
    free(pa); free(pb);
    /* titles of another concept count are refused */
    x.t.n = N - 1;
    s.d.mention = &x.t;
    float p;
    uint32_t pair[2] = {0, 1};
    ck_assert_int_eq(kge_link_score(with, &s.d, pair, 1, &p, &err), KGE_EUSAGE);
    ck_assert_msg(strstr(err.msg, "titles") != NULL, "%s", err.msg);
    kge_link_free(with);
    kge_link_free(without);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

/* kge_nearest_rows against a brute-force ranking by cosine: odd sizes
 * (more rows than one sgemm block, k past the rows left), a zero row, a
 * scaled copy (cosine 1) and ties broken by the lower index. */
START_TEST(nearest_rows_brute_force)
{
    enum { N = 300, C = 7, K = 5 };
    static float x[N * C];
    uint64_t r = 7;
    for (size_t i = 0; i < N * C; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((r >> 40) % 2001) / 1000.0f - 1.0f;
    }
    for (size_t c = 0; c < C; c++) { x[5 * C + c] = 0; x[9 * C + c] = 3 * x[2 * C + c]; x[11 * C + c] = x[2 * C + c]; }
    uint32_t rows[N - 1], out[(N - 1) * K];
    size_t nr = 0;
    for (uint32_t i = 0; i < N; i++) if (i != 17) rows[nr++] = i;      /* row 17 not listed */
    ck_assert_int_eq(kge_nearest_rows(x, C, rows, nr, K, out, NULL), 0);
    for (size_t q = 0; q < nr; q++) {
        const float *a = x + (size_t)rows[q] * C;
        double best[K];
        uint32_t bi[K];
        size_t nb = 0;
        for (size_t j = 0; j < nr; j++) {
            if (j == q) continue;
            const float *b = x + (size_t)rows[j] * C;
            double ab = 0, aa = 0, bb = 0;
            for (size_t c = 0; c < C; c++) { ab += a[c] * b[c]; aa += a[c] * a[c]; bb += b[c] * b[c]; }
            double cs = aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
            size_t at = nb;         /* insertion into the sorted best list (ties: earlier index first) */
            while (at > 0 && cs > best[at - 1] + 1e-6) at--;
            if (at >= K) continue;
            for (size_t t = (nb < K ? nb : K - 1); t > at; t--) { best[t] = best[t - 1]; bi[t] = bi[t - 1]; }
            best[at] = cs; bi[at] = rows[j];
            if (nb < K) nb++;
        }
        for (size_t t = 0; t < K; t++) {
            uint32_t got = out[q * K + t];
            ck_assert_uint_ne(got, rows[q]);
            ck_assert_uint_ne(got, 17);
            if (got != bi[t]) {     /* only a float tie may reorder */
                const float *b = x + (size_t)got * C;
                double ab = 0, aa = 0, bb = 0;
                for (size_t c = 0; c < C; c++) { ab += a[c] * b[c]; aa += a[c] * a[c]; bb += b[c] * b[c]; }
                double cs = aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
                ck_assert_msg(fabs(cs - best[t]) < 1e-5, "row %u rank %zu: %u (%.6f), want %u (%.6f)", rows[q], t,
                              got, cs, bi[t], best[t]);
            }
        }
    }
    /* rows 2, 9, 11 point the same way: each is the other's nearest */
    size_t q2 = 2;
    ck_assert(out[q2 * K] == 9 || out[q2 * K] == 11);
    /* fewer rows than k: the rest is UINT32_MAX */
    uint32_t few[3] = {0, 1, 2}, o3[3 * K];
    ck_assert_int_eq(kge_nearest_rows(x, C, few, 3, K, o3, NULL), 0);
    for (size_t q = 0; q < 3; q++) {
        ck_assert_uint_lt(o3[q * K + 1], 3);
        for (size_t t = 2; t < K; t++) ck_assert_uint_eq(o3[q * K + t], UINT32_MAX);
    }
    kge_err e = {0};
    ck_assert_int_eq(kge_nearest_rows(x, C, few, 3, 0, o3, &e), KGE_EUSAGE);
}
END_TEST

/* Brute-force structural features of (a, b) for structural_memo_matches:
 * breadth-first searches over an adjacency matrix, the edge a → b left out
 * when skip, exactly as documented for kge_prereq_baselines. */
enum { BF_N = 40 };
static size_t bf_search(const unsigned char adj[BF_N][BF_N], int s, int rev, int sa, int sb, int t, unsigned *d)
{
    int q[BF_N], dist[BF_N], seen[BF_N] = {0}, h = 0, n = 0;
    size_t r = 0;
    *d = 0;
    q[n++] = s;
    seen[s] = 1;
    dist[s] = 0;
    while (h < n) {
        int x = q[h++];
        for (int y = 0; y < BF_N; y++) {
            int e = rev ? adj[y][x] : adj[x][y];
            int cut = rev ? (y == sa && x == sb) : (x == sa && y == sb);
            if (!e || cut || seen[y]) continue;
            seen[y] = 1;
            dist[y] = dist[x] + 1;
            if (y == t && !*d) *d = (unsigned)dist[y];
            q[n++] = y;
            r++;
        }
    }
    return r;
}

static void bf_feats(const unsigned char adj[BF_N][BF_N], int a, int b, int skip, double *x)
{
    int sa = skip ? a : -1, sb = skip ? b : -1;
    unsigned dab, dba, u;
    double outa = 0, inb = 0;
    x[0] = log1p((double)bf_search(adj, a, 0, sa, sb, b, &dab));
    x[1] = log1p((double)bf_search(adj, a, 1, sa, sb, -1, &u));
    x[2] = log1p((double)bf_search(adj, b, 0, sa, sb, a, &dba));
    x[3] = log1p((double)bf_search(adj, b, 1, sa, sb, -1, &u));
    for (int k = 0; k < BF_N; k++) { outa += adj[a][k]; inb += adj[k][b]; }
    x[4] = log1p(skip ? outa - 1 : outa);
    x[5] = log1p(skip ? inb - 1 : inb);
    x[6] = dab ? 1.0 / dab : 0;
    x[7] = dba ? 1.0 / dba : 0;
}

/* kge_prereq_baselines searches once per concept where a pair allows it
 * (pairs in the order of their first concept, the searches of pairs that
 * keep their own edge shared); its transitivity, precedes count, training
 * scores and regression must equal the four-searches-a-pair definition on
 * a graph with cycles, pairs in random order, a = b and repeated pairs. */
START_TEST(structural_memo_matches)
{
    enum { E = 110, NTR = 160, NTE = 120 };
    unsigned char adj[BF_N][BF_N] = {{0}};
    uint32_t src[E], dst[E], trp[2 * NTR], tep[2 * NTE];
    int try[NTR];
    uint64_t r = 12345;
    size_t e = 0;
    while (e < E) {   /* mostly forward, some back edges: cycles */
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        int a = (int)((r >> 33) % BF_N), b = (int)((r >> 13) % BF_N);
        if (a == b || adj[a][b] || ((r >> 7) % 8 && a > b)) continue;
        adj[a][b] = 1;
        src[e] = (uint32_t)a; dst[e++] = (uint32_t)b;
    }
    for (int p = 0; p < NTR; p++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        if (p % 2) { size_t k = (r >> 20) % E; trp[2 * p] = src[k]; trp[2 * p + 1] = dst[k]; try[p] = 1; }
        else { trp[2 * p] = (uint32_t)((r >> 33) % BF_N); trp[2 * p + 1] = (uint32_t)((r >> 13) % BF_N); try[p] = 0; }
    }
    for (int p = 0; p < NTE; p++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        tep[2 * p] = (uint32_t)((r >> 33) % BF_N);
        tep[2 * p + 1] = p % 17 ? (uint32_t)((r >> 13) % BF_N) : tep[2 * p];
    }
    double trans[NTE], prec[NTE], lr[NTE], trs[3 * NTR], Xtr[8 * NTR], Xte[8 * NTE], str[NTR], lr_ref[NTE];
    ck_assert_int_eq(kge_prereq_baselines(BF_N, E, src, dst, trp, try, NTR, tep, NTE, trans, prec, lr, trs), 0);
    for (int p = 0; p < NTR; p++) {
        bf_feats(adj, (int)trp[2 * p], (int)trp[2 * p + 1], try[p] && adj[trp[2 * p]][trp[2 * p + 1]], Xtr + 8 * p);
        ck_assert_double_eq(trs[3 * p], Xtr[8 * p + 6]);
        ck_assert_double_eq_tol(trs[3 * p + 1], expm1(Xtr[8 * p]), 1e-9);
    }
    for (int p = 0; p < NTE; p++) {
        bf_feats(adj, (int)tep[2 * p], (int)tep[2 * p + 1], 0, Xte + 8 * p);
        ck_assert_double_eq(trans[p], Xte[8 * p + 6]);
        ck_assert_double_eq_tol(prec[p], expm1(Xte[8 * p]), 1e-9);
    }
    ck_assert_int_eq(kge_logreg_fit_predict(Xtr, try, NTR, Xte, NTE, 8, KGE_LOGREG_LAMBDA, str, lr_ref), 0);
    for (int p = 0; p < NTE; p++) ck_assert_double_eq(lr[p], lr_ref[p]);
    for (int p = 0; p < NTR; p++) ck_assert_double_eq(trs[3 * p + 2], str[p]);
    /* the regression in two halves (a checkpoint keeps the first) scores
     * the test pairs to the last bit as in one call, with features of the
     * caller's beside the structural ones */
    double xtr[2 * NTR], xte[2 * NTE], lr_one[NTE], lr_two[NTE];
    for (int p = 0; p < 2 * NTR; p++) xtr[p] = (double)((p * 37) % 11) / 11.0 + (try[p / 2] && p % 2 ? 0.3 : 0);
    for (int p = 0; p < 2 * NTE; p++) xte[p] = (double)((p * 53) % 13) / 13.0;
    kge_pair_fit fit;
    ck_assert_int_eq(kge_prereq_regression(BF_N, E, src, dst, trp, try, NTR, tep, NTE, xtr, xte, 2, 1.0, lr_one), 0);
    ck_assert_int_eq(kge_prereq_regression_fit(BF_N, E, src, dst, trp, try, NTR, xtr, 2, 1.0, &fit), 0);
    ck_assert_uint_eq(fit.F, 10);
    ck_assert_int_eq(kge_prereq_regression_apply(BF_N, E, src, dst, &fit, tep, NTE, xte, lr_two), 0);
    ck_assert_int_eq(memcmp(lr_one, lr_two, sizeof lr_one), 0);
    fit.w[3] += 0.5;   /* the weights are what scores */
    ck_assert_int_eq(kge_prereq_regression_apply(BF_N, E, src, dst, &fit, tep, NTE, xte, lr_two), 0);
    ck_assert(memcmp(lr_one, lr_two, sizeof lr_one) != 0);
    fit.F = 7;         /* fewer than the structural features: refused */
    ck_assert_int_eq(kge_prereq_regression_apply(BF_N, E, src, dst, &fit, tep, NTE, xte, lr_two), -1);
}
END_TEST

/* The one CSR builder: rows in edge order, each direction, and edges with
 * an end outside [0, n) left out. */
START_TEST(csr_rows_in_edge_order)
{
    enum { N = 5, E = 6 };
    const uint32_t src[E] = {0, 2, 0, 3, 9, 2}, dst[E] = {1, 1, 3, 0, 1, 4};
    uint32_t *ptr, *adj;
    ck_assert_int_eq(kge_csr_build(N, E, src, dst, KGE_CSR_OUT, &ptr, &adj), 0);
    const uint32_t optr[N + 1] = {0, 2, 2, 4, 5, 5}, oadj[5] = {1, 3, 1, 4, 0};
    ck_assert_int_eq(memcmp(ptr, optr, sizeof optr), 0);
    ck_assert_int_eq(memcmp(adj, oadj, sizeof oadj), 0);
    free(ptr); free(adj);
    ck_assert_int_eq(kge_csr_build(N, E, src, dst, KGE_CSR_IN, &ptr, &adj), 0);
    const uint32_t iptr[N + 1] = {0, 1, 3, 3, 4, 5}, iadj[5] = {3, 0, 2, 0, 2};
    ck_assert_int_eq(memcmp(ptr, iptr, sizeof iptr), 0);
    ck_assert_int_eq(memcmp(adj, iadj, sizeof iadj), 0);
    free(ptr); free(adj);
    ck_assert_int_eq(kge_csr_build(N, E, src, dst, KGE_CSR_BOTH, &ptr, &adj), 0);
    const uint32_t uptr[N + 1] = {0, 3, 5, 7, 9, 10}, uadj[10] = {1, 3, 3, 0, 2, 1, 4, 0, 0, 2};
    ck_assert_int_eq(memcmp(ptr, uptr, sizeof uptr), 0);
    ck_assert_int_eq(memcmp(adj, uadj, sizeof uadj), 0);
    free(ptr); free(adj);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("train");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, full_loss_falls);
    tcase_add_test(tc, lora_loss_falls);
    tcase_add_test(tc, head_loss_falls);
    tcase_add_test(tc, deterministic);
    tcase_add_test(tc, encode_packed_as_padded);
    tcase_add_test(tc, cached_head);
    tcase_add_test(tc, cached_lora);
    tcase_add_test(tc, cached_full);
    tcase_add_test(tc, save_load_full);
    tcase_add_test(tc, save_load_lora);
    tcase_add_test(tc, save_load_head);
    tcase_add_test(tc, resume_full);
    tcase_add_test(tc, resume_lora);
    tcase_add_test(tc, views_augment);
    tcase_add_test(tc, checkpoint_switch_atomic);
    tcase_add_test(tc, transitive_features);
    tcase_add_test(tc, platt_calibration);
    tcase_add_test(tc, prior_em);
    tcase_add_test(tc, early_stopping);
    tcase_add_test(tc, bad_inputs);
    tcase_add_test(tc, bad_checkpoints);
    tcase_add_test(tc, structural_features);
    tcase_add_test(tc, explicit_negatives);
    tcase_add_test(tc, structural_checkpoints);
    tcase_add_test(tc, nearest_rows_brute_force);
    tcase_add_test(tc, mention_features);
    tcase_add_test(tc, mention_checkpoints);
    tcase_add_test(tc, mlm_masking);
    tcase_add_test(tc, mlm_loss_falls);
    tcase_add_test(tc, augmentation);
    tcase_add_test(tc, vocab_training);
    tcase_add_test(tc, eval_logreg_and_metrics);
    tcase_add_test(tc, title_pair_features);
    tcase_add_test(tc, stack_flags_checkpoint);
    tcase_add_test(tc, neighbour_pair_features);
    tcase_add_test(tc, structural_memo_matches);
    tcase_add_test(tc, csr_rows_in_edge_order);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
