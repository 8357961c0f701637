/* Backward passes: gradient parity with the PyTorch reference fixtures
 * (pair BCE and masked-LM through the tiny BERT, TransformerConv incl.
 * grad.x, LoRA adapters), and finite differences on small random shapes
 * that need no ../shared. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/bert.h"
#include "encoder/dropout.h"
#include "encoder/graph_attention.h"
#include "encoder/kernels.h"
#include "encoder/lora.h"
#include "encoder/safetensors.h"
#include "encoder/train_bert.h"
#include "encoder/train_graph_attention.h"
#include "encoder/train_kernels.h"
#include "encoder/train_rng.h"
#include "tests/encoder_fixtures.h"
#include "tests/testutil.h"

/* ---- helpers --------------------------------------------------------------- */

static float max_abs(const float *v, size_t n)
{
    float mx = 0.0f;
    for (size_t i = 0; i < n; i++) mx = fmaxf(mx, fabsf(v[i]));
    return mx;
}

/* |got − want| <= 1e-4 · max(max|want|, floor) over the tensor (the
 * fixtures' rule). floor matters only for a gradient that is zero in exact
 * arithmetic (a key bias: the softmax ignores a shift common to all keys),
 * where the reference holds rounding noise of order 1e-10. */
static void assert_grad_floor(const char *name, const float *got, const float *want, size_t n, float floor)
{
    float mx = fmaxf(max_abs(want, n), floor), worst = 0.0f;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        float d = fabsf(got[i] - want[i]);
        if (d > worst) { worst = d; at = i; }
    }
    ck_assert_msg(worst <= 1e-4f * mx + 1e-12f, "%s: |diff| %g at %zu (got %g want %g) > 1e-4 x %g",
                  name, worst, at, got[at], want[at], mx);
}

static void assert_grad(const char *name, const float *got, const float *want, size_t n)
{
    assert_grad_floor(name, got, want, n, 0.0f);
}

/* The floor for name: for "...key.bias", the largest magnitude of the
 * sibling "...key.weight" gradient in st; else 0. */
static float key_bias_floor(const kge_st *st, const char *name)
{
    size_t len = strlen(name);
    if (len < 8 || strcmp(name + len - 8, "key.bias") != 0) return 0.0f;
    char w[200];
    snprintf(w, sizeof w, "%.*sweight", (int)(len - 4), name);
    size_t n;
    float *v = ef_load_f32(st, w, &n), mx = max_abs(v, n);
    free(v);
    return mx;
}

/* Assertions inside long loops are slow with check (each passing one is
 * reported to the runner): loops count failures, one assertion follows. */
static size_t count_nonzero(const float *v, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += v[i] != 0.0f;
    return k;
}

static float max_diff(const float *a, const float *b, size_t n)
{
    float w = 0.0f;
    for (size_t i = 0; i < n; i++) w = fmaxf(w, fabsf(a[i] - b[i]));
    return w;
}

/* Compares every gradient tensor of grads whose "grad.<prefix><name>" the
 * fixture holds; returns how many were compared. */
static size_t compare_bert_grads(const kge_st *ex, const kge_bert *grads, const char *enc_prefix)
{
    kge_bert_tensor *ts = malloc(KGE_BERT_MAX_TENSORS(grads->cfg.layers) * sizeof *ts);
    size_t nt = kge_bert_tensors(grads, ts), cmp = 0;
    for (size_t i = 0; i < nt; i++) {
        char full[160];
        snprintf(full, sizeof full, "grad.%s%s", ts[i].group == 2 ? "" : enc_prefix, ts[i].name);
        const kge_st_tensor *t = kge_st_find(ex, full);
        if (!t) continue;
        size_t n = (size_t)ts[i].shape[0] * (size_t)(ts[i].ndim == 2 ? ts[i].shape[1] : 1);
        ck_assert_uint_eq(t->nelem, n);
        float *want = ef_load_f32(ex, full, NULL);
        assert_grad_floor(full, ts[i].data, want, n, key_bias_floor(ex, full));
        free(want);
        cmp++;
    }
    free(ts);
    return cmp;
}

static size_t count_grads(const kge_st *ex)
{
    size_t n = 0;
    for (size_t i = 0; i < kge_st_count(ex); i++) n += strncmp(kge_st_at(ex, i)->name, "grad.", 5) == 0;
    return n;
}

/* Pair loss on mean-pooled hidden states: forward (keep), loss, backward
 * into grads. Returns the loss. */
static float pair_step(kge_bert *m, kge_bert *grads, kge_bert_acts *a, const ef_batch *b, const int64_t *pairs,
                       const float *labels, size_t P, int what)
{
    kge_err e = {0};
    size_t C = (size_t)m->cfg.hidden, B = (size_t)b->B, T = (size_t)b->T;
    ck_assert_msg(kge_bert_forward(m, a, b->ids, b->types, b->mask, b->B, b->T, 1, &e) == KGE_OK, "%s", e.msg);
    float *pooled = malloc(B * C * sizeof *pooled), *dpooled = calloc(B * C, sizeof *dpooled),
          *dh = calloc(B * T * C, sizeof *dh);
    kge_mean_pool_forward(pooled, a->hidden, b->mask, B, T, C);
    float loss = kge_pair_dot_bce(pooled, grads ? dpooled : NULL, pairs, labels, P, C, NULL);
    if (grads) {
        kge_mean_pool_backward(dh, dpooled, b->mask, B, T, C);
        kge_bert_bwd w = {0};
        ck_assert_msg(kge_bert_backward(m, grads, a, &w, NULL, dh, b->ids, b->types, what, &e) == KGE_OK, "%s", e.msg);
        kge_bert_bwd_free(&w);
    }
    free(pooled); free(dpooled); free(dh);
    return loss;
}

/* ---- parity with the fixtures -------------------------------------------- */

START_TEST(pair_bce_parity)
{
    const char *sh = tu_shared_dir();
    if (!sh) { fprintf(stderr, "test_backward: ../shared absent, skipping pair parity\n"); return; }
    char *dir = tu_path(sh, "fixtures/encoder/tiny-bert");
    kge_bert *m = NULL, *g = NULL;
    kge_err e = {0};
    ck_assert_msg(kge_bert_load(dir, &m, &e) == KGE_OK, "%s", e.msg);
    ck_assert_int_eq(kge_train_grads_new(m, &g, &e), KGE_OK);
    kge_st *ex = ef_open_fixture("fixtures/encoder/tiny-bert/expected.safetensors");
    ef_batch b = ef_batch_from(ex);
    size_t P;
    int64_t *pairs = ef_load_i64(ex, "pairs", &P);
    P /= 2;
    float *labels = ef_load_f32(ex, "pair_labels", NULL), *wl = ef_load_f32(ex, "loss", NULL);
    kge_bert_acts a = {0};
    kge_bert_acts_set_threads(&a, 2);
    float loss = pair_step(m, g, &a, &b, pairs, labels, P, KGE_BWD_ALL);
    ck_assert_msg(fabsf(loss - wl[0]) < 1e-5f, "loss %g vs %g", loss, wl[0]);
    size_t want = count_grads(ex), got = compare_bert_grads(ex, g, "");
    ck_assert_uint_eq(got, want);
    ck_assert_uint_eq(got, 5 + 16 * 2);
    /* the pooler is outside the loss: its gradient stays zero */
    ck_assert_uint_eq(count_nonzero(g->p.poolw, 64 * 64), 0);
    /* accumulation: a second backward doubles every gradient */
    float *g1 = malloc(g->nparams * sizeof *g1);
    memcpy(g1, g->block, g->nparams * sizeof *g1);
    pair_step(m, g, &a, &b, pairs, labels, P, KGE_BWD_ALL);
    size_t off = 0;
    for (size_t i = 0; i < g->nparams; i++) off += !(fabsf(g->block[i] - 2 * g1[i]) <= 1e-6f + 1e-5f * fabsf(g1[i]));
    ck_assert_uint_eq(off, 0);
    free(g1);
    kge_bert_acts_free(&a);
    free(pairs); free(labels); free(wl);
    ef_batch_free(&b);
    kge_st_close(ex);
    kge_bert_free(g);
    kge_bert_free(m);
    free(dir);
}
END_TEST

START_TEST(mlm_parity)
{
    const char *sh = tu_shared_dir();
    if (!sh) { fprintf(stderr, "test_backward: ../shared absent, skipping MLM parity\n"); return; }
    char *dir = tu_path(sh, "fixtures/encoder/tiny-bert");
    kge_bert *base = NULL, *m = NULL, *g = NULL;
    kge_err e = {0};
    ck_assert_msg(kge_bert_load(dir, &base, &e) == KGE_OK, "%s", e.msg);
    ck_assert_int_eq(kge_bert_create(&base->cfg, &m, &e), KGE_OK);
    char *wp = tu_path(sh, "fixtures/encoder/tiny-bert-mlm/model.safetensors");
    ck_assert_msg(kge_bert_load_weights(m, wp, &e) == KGE_OK, "%s", e.msg);
    ck_assert(m->has_mlm);
    ck_assert_int_eq(kge_train_grads_new(m, &g, &e), KGE_OK);
    kge_st *ex = ef_open_fixture("fixtures/encoder/tiny-bert/mlm_expected.safetensors");
    ef_batch b = ef_batch_from(ex);
    size_t C = (size_t)m->cfg.hidden, V = (size_t)m->cfg.vocab_size, BT = (size_t)b.B * (size_t)b.T;
    int64_t *labels = ef_load_i64(ex, "labels", NULL);
    kge_bert_acts a = {0};
    ck_assert_msg(kge_bert_forward(m, &a, b.ids, b.types, b.mask, b.B, b.T, 1, &e) == KGE_OK, "%s", e.msg);
    /* the head runs on the masked rows only; the others have no loss */
    size_t nm = 0;
    for (size_t i = 0; i < BT; i++) nm += labels[i] != -100;
    float *rows = malloc(nm * C * sizeof *rows), *drows = calloc(nm * C, sizeof *drows),
          *logits = malloc(nm * V * sizeof *logits), *dh = calloc(BT * C, sizeof *dh);
    int32_t *lab = malloc(nm * sizeof *lab);
    size_t *at = malloc(nm * sizeof *at);
    for (size_t i = 0, k = 0; i < BT; i++)
        if (labels[i] != -100) {
            memcpy(rows + k * C, a.hidden + i * C, C * sizeof *rows);
            lab[k] = (int32_t)labels[i];
            at[k++] = i;
        }
    float loss;
    ck_assert_msg(kge_mlm_loss(m, g, rows, lab, nm, drows, logits, &loss, &e) == KGE_OK, "%s", e.msg);
    float *wl = ef_load_f32(ex, "loss", NULL), *wlog = ef_load_f32(ex, "masked_logits", NULL);
    ck_assert_msg(fabsf(loss - wl[0]) < 1e-4f, "loss %g vs %g", loss, wl[0]);
    ck_assert(max_diff(logits, wlog, nm * V) < 1e-4f);
    for (size_t k = 0; k < nm; k++) memcpy(dh + at[k] * C, drows + k * C, C * sizeof *dh);
    kge_bert_bwd w = {0};
    ck_assert_msg(kge_bert_backward(m, g, &a, &w, NULL, dh, b.ids, b.types, KGE_BWD_ALL, &e) == KGE_OK, "%s", e.msg);
    size_t want = count_grads(ex), got = compare_bert_grads(ex, g, "bert.");
    ck_assert_uint_eq(got, want);
    ck_assert_uint_eq(got, 5 + 16 * 2 + 5);
    /* a label outside the vocabulary is refused */
    lab[0] = (int32_t)V;
    ck_assert_int_eq(kge_mlm_loss(m, NULL, rows, lab, nm, NULL, NULL, &loss, &e), KGE_EUSAGE);
    ck_assert(strstr(e.msg, "vocabulary") != NULL);
    kge_bert_bwd_free(&w);
    kge_bert_acts_free(&a);
    free(rows); free(drows); free(logits); free(dh); free(lab); free(at); free(labels); free(wl); free(wlog);
    ef_batch_free(&b);
    kge_st_close(ex);
    kge_bert_free(g); kge_bert_free(m); kge_bert_free(base);
    free(wp); free(dir);
}
END_TEST

START_TEST(backward_needs_kept_activations)
{
    kge_bert_config cfg = {.vocab_size = 10, .hidden = 8, .layers = 1, .heads = 2, .intermediate = 16,
                           .max_positions = 8, .type_vocab = 2, .ln_eps = 1e-12f};
    kge_bert *m = NULL, *g = NULL;
    kge_err e = {0};
    ck_assert_int_eq(kge_bert_create(&cfg, &m, &e), KGE_OK);
    kge_bert_init_random(m, 1, 0.1f);
    ck_assert_int_eq(kge_train_grads_new(m, &g, &e), KGE_OK);
    int32_t ids[4] = {1, 2, 3, 4};
    kge_bert_acts a = {0};
    kge_bert_bwd w = {0};
    float dh[32] = {0};
    ck_assert_int_eq(kge_bert_backward(m, g, &a, &w, NULL, dh, ids, NULL, KGE_BWD_ALL, &e), KGE_EUSAGE);
    ck_assert_int_eq(kge_bert_forward(m, &a, ids, NULL, NULL, 1, 4, 0, &e), KGE_OK);
    ck_assert_int_eq(kge_bert_backward(m, g, &a, &w, NULL, dh, ids, NULL, KGE_BWD_ALL, &e), KGE_EUSAGE);
    ck_assert(strstr(e.msg, "keep") != NULL);
    /* a model without an MLM head refuses the MLM loss */
    m->has_mlm = 0;
    int32_t lab[1] = {1};
    float loss;
    ck_assert_int_eq(kge_mlm_loss(m, NULL, dh, lab, 1, NULL, NULL, &loss, &e), KGE_EUSAGE);
    kge_bert_acts_free(&a);
    kge_bert_free(g);
    kge_bert_free(m);
}
END_TEST

START_TEST(transformer_conv_parity)
{
    const char *sh = tu_shared_dir();
    if (!sh) { fprintf(stderr, "test_backward: ../shared absent, skipping TransformerConv parity\n"); return; }
    kge_st *st = ef_open_fixture("fixtures/encoder/graph-attention/transformer_conv.safetensors");
    kge_err e = {0};
    kge_tconv l, gl;
    ck_assert_int_eq(kge_tconv_init(&l, 64, 16, 4, 8, &e), KGE_OK);
    ck_assert_int_eq(kge_tconv_init(&gl, 64, 16, 4, 8, &e), KGE_OK);
    ck_assert_msg(kge_tconv_load(&l, st, "", &e) == KGE_OK, "%s", e.msg);
    size_t nx, E2;
    float *x = ef_load_f32(st, "x", &nx), *eattr_in = ef_load_f32(st, "edge_attr", NULL), *proj = ef_load_f32(st, "proj", NULL);
    int64_t *idx = ef_load_i64(st, "edge_index", &E2);
    size_t E = E2 / 2, N = nx / 64;
    uint32_t *src = malloc(E * 4), *dst = malloc(E * 4), *rp = malloc((N + 1) * 4), *cs = malloc(E * 4),
             *perm = malloc(E * 4);
    for (size_t i = 0; i < E; i++) { src[i] = (uint32_t)idx[i]; dst[i] = (uint32_t)idx[E + i]; }
    ck_assert_int_eq(kge_csr_from_edges(N, E, src, dst, rp, cs, perm, &e), KGE_OK);
    float *eattr = malloc(E * 8 * sizeof *eattr);
    for (size_t k = 0; k < E; k++) memcpy(eattr + k * 8, eattr_in + perm[k] * 8, 8 * sizeof *eattr);
    kge_csr g = {N, rp, cs};
    kge_tconv_acts a = {0};
    float *y = malloc(N * 64 * sizeof *y), *dy = malloc(N * 64 * sizeof *dy), *dx = calloc(N * 64, sizeof *dx);
    ck_assert_msg(kge_tconv_forward(&l, &a, y, x, &g, eattr, &e) == KGE_OK, "%s", e.msg);
    /* loss = mean((y @ proj)^2): dy = 2·(y@proj)·projᵀ / (N·3) */
    for (size_t i = 0; i < N; i++) {
        double t[3];
        for (int c = 0; c < 3; c++) {
            t[c] = 0.0;
            for (int k = 0; k < 64; k++) t[c] += (double)y[i * 64 + (size_t)k] * proj[k * 3 + c];
        }
        for (int k = 0; k < 64; k++) {
            double s = 0.0;
            for (int c = 0; c < 3; c++) s += 2.0 * t[c] * proj[k * 3 + c];
            dy[i * 64 + (size_t)k] = (float)(s / (double)(N * 3));
        }
    }
    kge_tconv_bwd w = {0};
    ck_assert_msg(kge_tconv_backward(&l, &gl, &a, &w, dy, x, &g, eattr, dx, NULL, &e) == KGE_OK, "%s", e.msg);
    struct { const char *name; const float *got; size_t n; } t[] = {
        {"grad.x", dx, N * 64},
        {"grad.lin_query.weight", gl.wq, 4096}, {"grad.lin_query.bias", gl.bq, 64},
        {"grad.lin_key.weight", gl.wk, 4096},   {"grad.lin_key.bias", gl.bk, 64},
        {"grad.lin_value.weight", gl.wv, 4096}, {"grad.lin_value.bias", gl.bv, 64},
        {"grad.lin_skip.weight", gl.ws, 4096},  {"grad.lin_skip.bias", gl.bs, 64},
        {"grad.lin_edge.weight", gl.we, 512},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        size_t n;
        float *want = ef_load_f32(st, t[i].name, &n);
        ck_assert_uint_eq(n, t[i].n);
        assert_grad_floor(t[i].name, t[i].got, want, n, key_bias_floor(st, t[i].name));
        free(want);
    }
    /* a gradient layer of another shape is refused */
    kge_tconv bad;
    ck_assert_int_eq(kge_tconv_init(&bad, 64, 8, 4, 8, &e), KGE_OK);
    ck_assert_int_eq(kge_tconv_backward(&l, &bad, &a, &w, dy, x, &g, eattr, dx, NULL, &e), KGE_EUSAGE);
    kge_tconv_free(&bad);
    kge_tconv_bwd_free(&w);
    kge_tconv_acts_free(&a);
    kge_tconv_free(&l);
    kge_tconv_free(&gl);
    free(x); free(eattr_in); free(proj); free(idx); free(src); free(dst); free(rp); free(cs); free(perm);
    free(eattr); free(y); free(dy); free(dx);
    kge_st_close(st);
}
END_TEST

START_TEST(lora_parity)
{
    const char *sh = tu_shared_dir();
    if (!sh) { fprintf(stderr, "test_backward: ../shared absent, skipping LoRA parity\n"); return; }
    char *dir = tu_path(sh, "fixtures/encoder/tiny-bert");
    kge_bert *m = NULL, *merged = NULL, *g = NULL;
    kge_err e = {0};
    ck_assert_msg(kge_bert_load(dir, &m, &e) == KGE_OK, "%s", e.msg);
    kge_lora lo, glo;
    ck_assert_int_eq(kge_lora_init(&lo, &m->cfg, 4, 8.0f, &e), KGE_OK);
    ck_assert_int_eq(kge_lora_init(&glo, &m->cfg, 4, 8.0f, &e), KGE_OK);
    ck_assert_float_eq(lo.scaling, 2.0f);
    char *lp = tu_path(sh, "fixtures/encoder/tiny-bert/lora_expected.safetensors");
    ck_assert_msg(kge_lora_load(&lo, lp, &e) == KGE_OK, "%s", e.msg);
    ck_assert_int_eq(kge_bert_create(&m->cfg, &merged, &e), KGE_OK);
    kge_lora_merge(&lo, m, merged);
    ck_assert_int_eq(kge_train_grads_new(merged, &g, &e), KGE_OK);
    kge_st *ex = ef_open_fixture("fixtures/encoder/tiny-bert/expected.safetensors");
    kge_st *lx = ef_open_fixture("fixtures/encoder/tiny-bert/lora_expected.safetensors");
    ef_batch b = ef_batch_from(ex);
    size_t P, C = 64;
    int64_t *pairs = ef_load_i64(ex, "pairs", &P);
    P /= 2;
    float *labels = ef_load_f32(ex, "pair_labels", NULL), *wl = ef_load_f32(lx, "loss", NULL),
          *wpool = ef_load_f32(lx, "mean_pooled", NULL);
    kge_bert_acts a = {0};
    float loss = pair_step(merged, g, &a, &b, pairs, labels, P, KGE_BWD_QKV_ONLY);
    ck_assert_msg(fabsf(loss - wl[0]) < 1e-5f, "loss %g vs %g", loss, wl[0]);
    float *pooled = malloc((size_t)b.B * C * sizeof *pooled);
    kge_mean_pool_forward(pooled, a.hidden, b.mask, (size_t)b.B, (size_t)b.T, C);
    ck_assert(max_diff(pooled, wpool, (size_t)b.B * C) < 1e-4f);
    /* frozen base: nothing but the q/k/v weights got a gradient */
    ck_assert_uint_eq(count_nonzero(g->p.wte, 3000 * 64), 0);
    ck_assert_uint_eq(count_nonzero(g->p.fcw, 2 * 256 * 64), 0);
    kge_lora_backward(&lo, g, &glo);
    const char *names[4] = {"query.lora_A", "query.lora_B", "value.lora_A", "value.lora_B"};
    for (int l = 0; l < 2; l++)
        for (int k = 0; k < 4; k++) {
            char full[160];
            snprintf(full, sizeof full, "grad.encoder.layer.%d.attention.self.%s.weight", l, names[k]);
            float *want = ef_load_f32(lx, full, NULL);
            const float *got = kge_lora_tensor(&glo, l, k);
            assert_grad(full, got, want, 4 * 64);
            free(want);
        }
    /* the merged weights equal base + scaling·B·A, and unmerging restores the base */
    ck_assert(merged->p.qkvw[64 * 64] == m->p.qkvw[64 * 64]);   /* key: untouched */
    free(pooled);
    kge_bert_acts_free(&a);
    free(pairs); free(labels); free(wl); free(wpool);
    ef_batch_free(&b);
    kge_st_close(ex);
    kge_st_close(lx);
    kge_lora_free(&lo);
    kge_lora_free(&glo);
    kge_bert_free(g); kge_bert_free(merged); kge_bert_free(m);
    free(lp); free(dir);
}
END_TEST

/* ---- finite differences on random small shapes ---------------------------- */

typedef struct fd_bert {
    kge_bert *m;
    float p_drop;      /* dropout probability (hidden and attention); masks re-drawn from one seed */
    ef_batch b;
    int64_t pairs[8];
    float labels[4];
    int32_t mlm_labels[12];
} fd_bert;

/* loss = pair BCE over mean pooling + MLM CE on the labelled positions */
static double fd_loss(fd_bert *f, kge_bert *g)
{
    kge_err e = {0};
    kge_bert *m = f->m;
    size_t C = (size_t)m->cfg.hidden, B = (size_t)f->b.B, T = (size_t)f->b.T, BT = B * T;
    kge_bert_acts a = {0};
    kge_bert_acts_set_threads(&a, 1);
    kge_dropout_masks dm = {0};
    if (f->p_drop > 0.0f) {
        kge_rng r;
        kge_rng_seed(&r, 77);   /* the same masks at every evaluation: a smooth function to difference */
        kge_dropout d = {f->p_drop, f->p_drop};
        ck_assert_int_eq(kge_bert_forward_train(m, &a, &dm, &d, &r, f->b.ids, f->b.types, f->b.mask, f->b.B,
                                                f->b.T, &e), KGE_OK);
        ck_assert(dm.emb && dm.att && dm.ffn && dm.attproj);
    } else {
        ck_assert_int_eq(kge_bert_forward(m, &a, f->b.ids, f->b.types, f->b.mask, f->b.B, f->b.T, 1, &e), KGE_OK);
    }
    float *pooled = malloc(B * C * sizeof *pooled), *dpooled = calloc(B * C, sizeof *dpooled),
          *dh = calloc(BT * C, sizeof *dh);
    kge_mean_pool_forward(pooled, a.hidden, f->b.mask, B, T, C);
    float l1 = kge_pair_dot_bce(pooled, g ? dpooled : NULL, f->pairs, f->labels, 4, C, NULL), l2;
    ck_assert_int_eq(kge_mlm_loss(m, g, a.hidden, f->mlm_labels, BT, g ? dh : NULL, NULL, &l2, &e), KGE_OK);
    if (g) {
        kge_mean_pool_backward(dh, dpooled, f->b.mask, B, T, C);
        kge_bert_bwd w = {0};
        ck_assert_int_eq(kge_bert_backward(m, g, &a, &w, &dm, dh, f->b.ids, f->b.types, KGE_BWD_ALL, &e), KGE_OK);
        kge_bert_bwd_free(&w);
    }
    kge_dropout_masks_free(&dm);
    free(pooled); free(dpooled); free(dh);
    kge_bert_acts_free(&a);
    return (double)l1 + (double)l2;
}

static void bert_fd(float p_drop)
{
    kge_bert_config cfg = {.vocab_size = 11, .hidden = 8, .layers = 2, .heads = 2, .intermediate = 12,
                           .max_positions = 8, .type_vocab = 2, .ln_eps = 1e-5f};
    fd_bert f;
    kge_err e = {0};
    f.p_drop = p_drop;
    ck_assert_int_eq(kge_bert_create(&cfg, &f.m, &e), KGE_OK);
    kge_bert_init_random(f.m, 7, 0.4f);
    /* LayerNorm weights and biases away from 1 and 0 */
    kge_rng r;
    kge_rng_seed(&r, 99);
    for (size_t i = 0; i < (size_t)cfg.hidden; i++) {
        f.m->p.embln_w[i] += 0.3f * kge_rng_normal(&r);
        f.m->p.embln_b[i] = 0.2f * kge_rng_normal(&r);
        f.m->p.mlmbias[i] = 0.2f * kge_rng_normal(&r);
    }
    int B = 3, T = 4;
    f.b.B = B;
    f.b.T = T;
    f.b.ids = malloc(12 * sizeof(int32_t));
    f.b.types = malloc(12 * sizeof(int32_t));
    f.b.mask = malloc(12);
    for (int i = 0; i < 12; i++) {
        f.b.ids[i] = (int32_t)kge_rng_below(&r, 11);
        f.b.types[i] = i % 4 >= 2;
        f.b.mask[i] = !(i == 3 || i == 10 || i == 11);   /* padding in rows 0 and 2 */
        f.mlm_labels[i] = (i % 3 == 1 && f.b.mask[i]) ? (int32_t)kge_rng_below(&r, 11) : -1;
    }
    int64_t pairs[8] = {0, 1, 1, 2, 2, 0, 0, 0};
    float labels[4] = {1, 0, 1, 0};
    memcpy(f.pairs, pairs, sizeof pairs);
    memcpy(f.labels, labels, sizeof labels);
    kge_bert *g = NULL;
    ck_assert_int_eq(kge_train_grads_new(f.m, &g, &e), KGE_OK);
    fd_loss(&f, g);
    /* central differences in float: check a spread of parameters of every
     * tensor; tolerance for float32 rounding of the loss */
    kge_bert_tensor ts[KGE_BERT_MAX_TENSORS(2)];
    size_t nt = kge_bert_tensors(f.m, ts), checked = 0;
    for (size_t t = 0; t < nt; t++) {
        if (ts[t].group == 1) continue;   /* pooler: not in the loss */
        size_t n = (size_t)ts[t].shape[0] * (size_t)(ts[t].ndim == 2 ? ts[t].shape[1] : 1);
        size_t off = (size_t)(ts[t].data - f.m->block);
        for (int k = 0; k < 3; k++) {
            size_t i = off + kge_rng_below(&r, n);
            float save = f.m->block[i], h = 2e-3f;
            f.m->block[i] = save + h;
            double lp = fd_loss(&f, NULL);
            f.m->block[i] = save - h;
            double lm = fd_loss(&f, NULL);
            f.m->block[i] = save;
            double fd = (lp - lm) / (2.0 * h), an = g->block[i];
            ck_assert_msg(fabs(fd - an) <= 2e-3 + 3e-2 * fabs(an), "%s[%zu]: analytic %g, numeric %g",
                          ts[t].name, i - off, an, fd);
            checked++;
        }
    }
    ck_assert(checked > 50);
    kge_bert_free(g);
    kge_bert_free(f.m);
    ef_batch_free(&f.b);
}

START_TEST(bert_finite_differences) { bert_fd(0.0f); }
END_TEST

/* Hidden and attention dropout at p = 0.3, the masks fixed by the seed. */
START_TEST(bert_dropout_finite_differences) { bert_fd(0.3f); }
END_TEST

START_TEST(dropout_forward)
{
    kge_bert_config cfg = {.vocab_size = 11, .hidden = 8, .layers = 2, .heads = 2, .intermediate = 12,
                           .max_positions = 8, .type_vocab = 2, .ln_eps = 1e-12f};
    kge_bert *m = NULL;
    kge_err e = {0};
    ck_assert_int_eq(kge_bert_create(&cfg, &m, &e), KGE_OK);
    kge_bert_init_random(m, 5, 0.3f);
    int32_t ids[12] = {2, 5, 6, 3, 2, 7, 3, 0, 2, 9, 10, 3};
    uint8_t mask[12] = {1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1};
    /* p = 0: the training forward computes what the inference forward does */
    kge_bert_acts a = {0}, b = {0};
    kge_dropout_masks dm = {0};
    kge_dropout none = {0.0f, 0.0f}, bad = {1.0f, 0.0f};
    kge_rng r;
    kge_rng_seed(&r, 1);
    ck_assert_int_eq(kge_bert_forward(m, &a, ids, NULL, mask, 3, 4, 1, &e), KGE_OK);
    ck_assert_int_eq(kge_bert_forward_train(m, &b, &dm, &none, &r, ids, NULL, mask, 3, 4, &e), KGE_OK);
    ck_assert(dm.emb == NULL && dm.att == NULL);
    ck_assert(max_diff(a.hidden, b.hidden, 12 * 8) < 1e-5f);
    ck_assert_int_eq(kge_bert_forward_train(m, &b, &dm, &bad, &r, ids, NULL, mask, 3, 4, &e), KGE_EUSAGE);
    /* inverted dropout: about p of the mask is 0, the rest 1/(1-p) */
    float x[4000], mk[4000];
    for (int i = 0; i < 4000; i++) x[i] = 1.0f;
    kge_dropout_forward(x, mk, 4000, 0.25f, &r);
    int zeros = 0, wrong = 0;
    for (int i = 0; i < 4000; i++) {
        wrong += !(mk[i] == 0.0f || fabsf(mk[i] - 1.0f / 0.75f) < 1e-6f) || x[i] != mk[i];
        zeros += mk[i] == 0.0f;
    }
    ck_assert_int_eq(wrong, 0);
    ck_assert_int_gt(zeros, 850);
    ck_assert_int_lt(zeros, 1150);
    kge_dropout_masks_free(&dm);
    kge_bert_acts_free(&a);
    kge_bert_acts_free(&b);
    kge_bert_free(m);
}
END_TEST

typedef struct fd_tc {
    kge_tconv l;
    kge_csr g;
    float *x, *eattr, *proj;
    size_t N, E, HC;
} fd_tc;

static double tc_loss(fd_tc *f, float *dx, float *deattr, kge_tconv *gl)
{
    kge_err e = {0};
    kge_tconv_acts a = {0};
    float *y = malloc(f->N * f->HC * sizeof *y), *dy = malloc(f->N * f->HC * sizeof *dy);
    ck_assert_int_eq(kge_tconv_forward(&f->l, &a, y, f->x, &f->g, f->eattr, &e), KGE_OK);
    double loss = 0.0;
    for (size_t i = 0; i < f->N * f->HC; i++) {
        loss += 0.5 * (double)y[i] * y[i] * f->proj[i];
        dy[i] = y[i] * f->proj[i];
    }
    if (gl) {
        kge_tconv_bwd w = {0};
        ck_assert_int_eq(kge_tconv_backward(&f->l, gl, &a, &w, dy, f->x, &f->g, f->eattr, dx, deattr, &e), KGE_OK);
        kge_tconv_bwd_free(&w);
    }
    kge_tconv_acts_free(&a);
    free(y); free(dy);
    return loss;
}

START_TEST(tconv_finite_differences)
{
    fd_tc f;
    kge_err e = {0};
    ck_assert_int_eq(kge_tconv_init(&f.l, 5, 3, 2, 4, &e), KGE_OK);
    f.N = 6;
    f.HC = 6;
    uint32_t src[9] = {0, 1, 2, 3, 4, 5, 0, 2, 1}, dst[9] = {1, 2, 3, 4, 1, 1, 3, 0, 0};
    f.E = 9;   /* node 5 has no incoming edge: skip term only */
    uint32_t rp[7], cs[9];
    ck_assert_int_eq(kge_csr_from_edges(f.N, f.E, src, dst, rp, cs, NULL, &e), KGE_OK);
    f.g = (kge_csr){f.N, rp, cs};
    kge_rng r;
    kge_rng_seed(&r, 5);
    for (size_t i = 0; i < f.l.nparams; i++) f.l.block[i] = 0.5f * kge_rng_normal(&r);
    f.x = malloc(f.N * 5 * sizeof(float));
    f.eattr = malloc(f.E * 4 * sizeof(float));
    f.proj = malloc(f.N * f.HC * sizeof(float));
    for (size_t i = 0; i < f.N * 5; i++) f.x[i] = kge_rng_normal(&r);
    for (size_t i = 0; i < f.E * 4; i++) f.eattr[i] = kge_rng_normal(&r);
    for (size_t i = 0; i < f.N * f.HC; i++) f.proj[i] = kge_rng_normal(&r);
    kge_tconv gl;
    ck_assert_int_eq(kge_tconv_init(&gl, 5, 3, 2, 4, &e), KGE_OK);
    float *dx = calloc(f.N * 5, sizeof *dx), *de = calloc(f.E * 4, sizeof *de);
    tc_loss(&f, dx, de, &gl);
    struct { float *v, *grad; size_t n; const char *what; } t[3] = {
        {f.l.block, gl.block, f.l.nparams, "param"}, {f.x, dx, f.N * 5, "x"}, {f.eattr, de, f.E * 4, "eattr"}};
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < t[k].n; i++) {
            float save = t[k].v[i], h = 1e-2f;
            t[k].v[i] = save + h;
            double lp = tc_loss(&f, NULL, NULL, NULL);
            t[k].v[i] = save - h;
            double lm = tc_loss(&f, NULL, NULL, NULL);
            t[k].v[i] = save;
            double fd = (lp - lm) / (2.0 * h), an = t[k].grad[i];
            ck_assert_msg(fabs(fd - an) <= 2e-3 + 2e-2 * fabs(an), "%s[%zu]: analytic %g, numeric %g",
                          t[k].what, i, an, fd);
        }
    kge_tconv_free(&gl);
    kge_tconv_free(&f.l);
    free(f.x); free(f.eattr); free(f.proj); free(dx); free(de);
}
END_TEST

/* Kernels alone: LayerNorm, GELU, L2 normalisation, softmax CE, BCE. */
START_TEST(kernel_finite_differences)
{
    enum { N = 3, C = 5 };
    kge_rng r;
    kge_rng_seed(&r, 11);
    float x[N * C], w[C], b[C], y[N * C], up[N * C], mean[N], rstd[N];
    for (int i = 0; i < N * C; i++) { x[i] = kge_rng_normal(&r); up[i] = kge_rng_normal(&r); }
    for (int i = 0; i < C; i++) { w[i] = 1.0f + 0.3f * kge_rng_normal(&r); b[i] = 0.1f * kge_rng_normal(&r); }
    /* L = Σ up·f(x) for f in {LN, GELU, l2norm}: analytic vs numeric dL/dx */
    for (int which = 0; which < 3; which++) {
        float dx[N * C] = {0};
        if (which == 0) {
            kge_layernorm_forward(y, mean, rstd, x, w, b, N, C, 1e-5f);
            kge_layernorm_backward(dx, NULL, NULL, up, x, w, mean, rstd, N, C);
        } else if (which == 1) {
            kge_gelu_backward(dx, x, up, N * C);
        } else {
            kge_l2_normalize_backward(dx, x, up, N, C);
        }
        for (int i = 0; i < N * C; i++) {
            double l[2];
            for (int s = 0; s < 2; s++) {
                float xs[N * C];
                memcpy(xs, x, sizeof xs);
                xs[i] += s ? -1e-2f : 1e-2f;
                if (which == 0) kge_layernorm_forward(y, NULL, NULL, xs, w, b, N, C, 1e-5f);
                else if (which == 1) kge_gelu_forward(y, xs, N * C);
                else { memcpy(y, xs, sizeof y); kge_l2_normalize(y, N, C); }
                l[s] = 0.0;
                for (int k = 0; k < N * C; k++) l[s] += (double)up[k] * y[k];
            }
            double fd = (l[0] - l[1]) / 2e-2;
            ck_assert_msg(fabs(fd - dx[i]) <= 2e-3 + 2e-2 * fabs(fd), "kernel %d x[%d]: %g vs %g", which, i,
                          (double)dx[i], fd);
        }
    }
    /* softmax CE: gradient rows sum to zero; ignored rows are zero */
    float z[2 * 4] = {1, 2, 3, 4, 0.5f, -1, 2, 0}, dz[8];
    int32_t lab[2] = {2, -1};
    float loss = kge_softmax_xent(dz, z, lab, 2, 4);
    double want = log(exp(1) + exp(2) + exp(3) + exp(4)) - 3.0;
    ck_assert(fabs(loss - want) < 1e-5);
    ck_assert(fabsf(dz[0] + dz[1] + dz[2] + dz[3]) < 1e-6f);
    for (int i = 4; i < 8; i++) ck_assert(dz[i] == 0.0f);
    /* BCE with logits is stable for large |z| */
    float zz[3] = {100.0f, -100.0f, 0.0f}, yy[3] = {1, 1, 0}, dd[3];
    loss = kge_bce_logits(dd, zz, yy, 3, 1.0f);
    ck_assert(isfinite(loss));
    ck_assert(fabs(loss - (100.0 + log(2.0)) / 3.0) < 1e-4);
    ck_assert(fabsf(dd[0]) < 1e-6f && fabsf(dd[1] + 1.0f / 3.0f) < 1e-6f && fabsf(dd[2] - 0.5f / 3.0f) < 1e-6f);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("backward");
    TCase *tc = tcase_create("parity");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, pair_bce_parity);
    tcase_add_test(tc, mlm_parity);
    tcase_add_test(tc, transformer_conv_parity);
    tcase_add_test(tc, lora_parity);
    tcase_add_test(tc, backward_needs_kept_activations);
    suite_add_tcase(s, tc);
    TCase *fd = tcase_create("finite_differences");
    tcase_set_timeout(fd, 120);
    tcase_add_test(fd, kernel_finite_differences);
    tcase_add_test(fd, bert_finite_differences);
    tcase_add_test(fd, bert_dropout_finite_differences);
    tcase_add_test(fd, dropout_forward);
    tcase_add_test(fd, tconv_finite_differences);
    suite_add_tcase(s, fd);
    return s;
}
