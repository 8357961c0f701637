/* Optimiser: AdamW against torch (ten steps on the tiny BERT's pair loss:
 * every loss and every final parameter), hand-computed steps, schedules,
 * clipping, bad arguments. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/bert.h"
#include "encoder/kernels.h"
#include "encoder/optim.h"
#include "encoder/safetensors.h"
#include "encoder/train_bert.h"
#include "encoder/train_kernels.h"
#include "tests/encoder_fixtures.h"
#include "tests/testutil.h"

START_TEST(adamw_matches_torch)
{
    const char *sh = tu_shared_dir();
    if (!sh) { fprintf(stderr, "test_optim: ../shared absent, skipping AdamW reference\n"); return; }
    char *dir = tu_path(sh, "fixtures/encoder/tiny-bert"),
         *xp = tu_path(sh, "fixtures/encoder/tiny-bert/expected.safetensors"),
         *ap = tu_path(sh, "fixtures/encoder/tiny-bert/adamw_steps.safetensors");
    kge_bert *m = NULL, *g = NULL;
    kge_err e = {0};
    ck_assert_msg(kge_bert_load(dir, &m, &e) == KGE_OK, "%s", e.msg);
    ck_assert_int_eq(kge_train_grads_new(m, &g, &e), KGE_OK);
    kge_st *ex = NULL, *ad = NULL;
    ck_assert_msg(kge_st_open(xp, &ex, &e) == KGE_OK, "%s", e.msg);
    ck_assert_msg(kge_st_open(ap, &ad, &e) == KGE_OK, "%s", e.msg);
    size_t P;
    ef_batch b = ef_batch_from(ex);
    int64_t *pairs = ef_load_i64(ex, "pairs", &P);
    P /= 2;
    ck_assert_int_eq(b.B, 9);
    int B = b.B, T = b.T;
    const int32_t *ids = b.ids, *ty = b.types;
    const uint8_t *mk = b.mask;
    size_t n = (size_t)B * (size_t)T;
    float *labels = ef_load_f32(ex, "pair_labels", NULL), *losses = ef_load_f32(ad, "losses", NULL);
    size_t C = 64, BT = n;
    /* every parameter but the pooler (it has no gradient, and torch skips
     * parameters without one, weight decay included): the encoder span */
    size_t span = (size_t)(m->p.poolw - m->block);
    kge_adamw opt;
    ck_assert_int_eq(kge_adamw_init(&opt, span, 0.9f, 0.999f, 1e-8f, 0.01f, &e), KGE_OK);
    float *pool_before = malloc(64 * 64 * sizeof *pool_before);
    memcpy(pool_before, m->p.poolw, 64 * 64 * sizeof *pool_before);
    kge_bert_acts a = {0};
    kge_bert_bwd w = {0};
    float *pooled = malloc(9 * C * sizeof *pooled), *dpooled = malloc(9 * C * sizeof *dpooled),
          *dh = malloc(BT * C * sizeof *dh);
    for (int step = 0; step < 10; step++) {
        kge_train_grads_zero(g);
        ck_assert_int_eq(kge_bert_forward(m, &a, ids, ty, mk, B, T, 1, &e), KGE_OK);
        kge_mean_pool_forward(pooled, a.hidden, mk, 9, (size_t)T, C);
        memset(dpooled, 0, 9 * C * sizeof *dpooled);
        memset(dh, 0, BT * C * sizeof *dh);
        float loss = kge_pair_dot_bce(pooled, dpooled, pairs, labels, P, C, NULL);
        ck_assert_msg(fabsf(loss - losses[step]) <= 1e-5f * fmaxf(1.0f, fabsf(losses[step])),
                      "loss before step %d: %.7g vs torch %.7g", step, loss, losses[step]);
        kge_mean_pool_backward(dh, dpooled, mk, 9, (size_t)T, C);
        ck_assert_int_eq(kge_bert_backward(m, g, &a, &w, NULL, dh, ids, ty, KGE_BWD_ALL, &e), KGE_OK);
        kge_adamw_step(&opt, m->block, g->block, 1e-3f);
    }
    ck_assert_int_eq(opt.t, 10);
    /* every final parameter; Adam moves each by about lr per step whatever
     * the gradient's size, so compare in units of lr */
    kge_bert_tensor ts[KGE_BERT_MAX_TENSORS(2)];
    size_t nt = kge_bert_tensors(m, ts), cmp = 0;
    for (size_t i = 0; i < nt; i++) {
        char full[160];
        snprintf(full, sizeof full, "param.%.120s", ts[i].name);
        if (!kge_st_find(ad, full)) continue;
        size_t k;
        float *want = ef_load_f32(ad, full, &k), worst = 0.0f;
        for (size_t j = 0; j < k; j++) worst = fmaxf(worst, fabsf(ts[i].data[j] - want[j]));
        /* a key bias has a zero gradient in exact arithmetic (the softmax
         * ignores a shift shared by all keys): torch moves it by rounding
         * noise, about lr·|g|/eps ≈ 1e-3·1e-10/1e-8 per step, so it only
         * has to stay within one learning-rate step */
        size_t len = strlen(full);
        float tol = len > 8 && strcmp(full + len - 8, "key.bias") == 0 ? 1e-3f : 2e-5f;
        ck_assert_msg(worst < tol, "%s differs by %g after ten steps", full, worst);
        free(want);
        cmp++;
    }
    ck_assert_uint_eq(cmp, 5 + 16 * 2);
    ck_assert(memcmp(pool_before, m->p.poolw, 64 * 64 * sizeof *pool_before) == 0);
    kge_adamw_free(&opt);
    kge_bert_bwd_free(&w);
    kge_bert_acts_free(&a);
    free(pool_before); free(pooled); free(dpooled); free(dh);
    ef_batch_free(&b); free(pairs); free(labels); free(losses);
    kge_st_close(ex); kge_st_close(ad);
    kge_bert_free(g); kge_bert_free(m);
    free(dir); free(xp); free(ap);
}
END_TEST

START_TEST(adamw_hand_computed)
{
    /* p = 1, lr 0.1, wd 0.01, torch's defaults otherwise; gradients 0.5,
     * −0.25, 0: values worked out by hand (in double) */
    kge_adamw o;
    kge_err e = {0};
    ck_assert_int_eq(kge_adamw_init(&o, 2, 0.9f, 0.999f, 1e-8f, 0.01f, &e), KGE_OK);
    float p[2] = {1.0f, -2.0f}, g[2];
    const double want[3] = {0.899000002, 0.8714672987058463, 0.8500079016867623};
    const float gs[3] = {0.5f, -0.25f, 0.0f};
    for (int t = 0; t < 3; t++) {
        g[0] = gs[t];
        g[1] = 0.0f;   /* zero gradient: only the decay acts */
        kge_adamw_step(&o, p, g, 0.1f);
        ck_assert_msg(fabs(p[0] - want[t]) < 1e-6, "step %d: %.9g vs %.9g", t + 1, p[0], want[t]);
    }
    ck_assert(fabs(p[1] - -2.0 * pow(1.0 - 0.1 * 0.01, 3)) < 1e-6);
    /* per-span decay: wd 0 leaves a zero-gradient parameter alone */
    float q = 3.0f, gz = 0.0f;
    kge_adamw_begin(&o);
    kge_adamw_update(&o, &q, &gz, 1, 1, 0.1f, 0.0f);
    ck_assert(q == 3.0f);
    kge_adamw_free(&o);
    /* bad arguments */
    ck_assert_int_eq(kge_adamw_init(&o, 2, 1.0f, 0.999f, 1e-8f, 0.0f, &e), KGE_EUSAGE);
    ck_assert(strstr(e.msg, "betas") != NULL);
    ck_assert_int_eq(kge_adamw_init(&o, 2, 0.9f, 0.999f, -1.0f, 0.0f, &e), KGE_EUSAGE);
    ck_assert_int_eq(kge_adamw_init(&o, 2, 0.9f, 0.999f, 1e-8f, -0.1f, &e), KGE_EUSAGE);
}
END_TEST

START_TEST(schedules)
{
    kge_lr_sched s = {.peak = 1.0f, .floor = 0.0f, .warmup = 10, .total = 110, .decay = KGE_LR_LINEAR};
    ck_assert(kge_lr_at(&s, 0) == 0.0f);
    ck_assert(fabsf(kge_lr_at(&s, 5) - 0.5f) < 1e-6f);
    ck_assert(fabsf(kge_lr_at(&s, 10) - 1.0f) < 1e-6f);
    ck_assert(fabsf(kge_lr_at(&s, 60) - 0.5f) < 1e-6f);
    ck_assert(fabsf(kge_lr_at(&s, 109) - 0.01f) < 1e-6f);
    ck_assert(kge_lr_at(&s, 110) == 0.0f);
    ck_assert(kge_lr_at(&s, 1000) == 0.0f);
    s.decay = KGE_LR_COSINE;
    ck_assert(fabsf(kge_lr_at(&s, 60) - 0.5f) < 1e-6f);
    ck_assert(fabsf(kge_lr_at(&s, 35) - 0.8535534f) < 1e-6f);
    ck_assert(fabsf(kge_lr_at(&s, 10) - 1.0f) < 1e-6f);
    s.floor = 0.1f;
    ck_assert(fabsf(kge_lr_at(&s, 60) - 0.55f) < 1e-6f);
    ck_assert(fabsf(kge_lr_at(&s, 500) - 0.1f) < 1e-6f);
    s.decay = KGE_LR_CONSTANT;
    ck_assert(fabsf(kge_lr_at(&s, 5) - 0.5f) < 1e-6f);
    ck_assert(kge_lr_at(&s, 500) == 1.0f);
    s.warmup = 0;
    s.decay = KGE_LR_LINEAR;
    s.floor = 0.0f;
    ck_assert(kge_lr_at(&s, 0) == 1.0f);
    ck_assert(fabsf(kge_lr_at(&s, 55) - 0.5f) < 1e-6f);
}
END_TEST

START_TEST(clipping)
{
    float a[2] = {3.0f, 4.0f}, b[1] = {12.0f};
    float *blocks[2] = {a, b};
    size_t lens[2] = {2, 1};
    ck_assert(fabs(kge_grad_norm(blocks, lens, 2) - 13.0) < 1e-9);
    /* under the limit: untouched */
    ck_assert(fabs(kge_clip_grad_norm(blocks, lens, 2, 20.0f) - 13.0) < 1e-9);
    ck_assert(a[0] == 3.0f && b[0] == 12.0f);
    /* over: scaled to the limit, the direction kept */
    ck_assert(fabs(kge_clip_grad_norm(blocks, lens, 2, 6.5f) - 13.0) < 1e-9);
    ck_assert(fabsf(a[0] - 1.5f) < 1e-5f && fabsf(a[1] - 2.0f) < 1e-5f && fabsf(b[0] - 6.0f) < 1e-5f);
    ck_assert(fabs(kge_grad_norm(blocks, lens, 2) - 6.5) < 1e-4);
    /* max_norm <= 0 only measures */
    ck_assert(fabs(kge_clip_grad_norm(blocks, lens, 2, 0.0f) - 6.5) < 1e-4);
    ck_assert(fabsf(b[0] - 6.0f) < 1e-5f);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("optim");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, adamw_matches_torch);
    tcase_add_test(tc, adamw_hand_computed);
    tcase_add_test(tc, schedules);
    tcase_add_test(tc, clipping);
    suite_add_tcase(s, tc);
    return s;
}
