/* Graph attention: PyG TransformerConv reference output, plus hand-checked
 * properties on small graphs (no ../shared needed). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/graph_attention.h"
#include "encoder/safetensors.h"
#include "tests/encoder_fixtures.h"
#include "tests/testutil.h"

START_TEST(transformer_conv_reference)
{
    const char *sh = tu_shared_dir();
    if (!sh) { fprintf(stderr, "test_graph_attention: ../shared absent, skipping reference\n"); return; }
    char *p = tu_path(sh, "fixtures/encoder/graph-attention/transformer_conv.safetensors");
    kge_st *st = NULL;
    kge_err e = {0};
    ck_assert_msg(kge_st_open(p, &st, &e) == KGE_OK, "%s", e.msg);
    kge_tconv l;
    ck_assert_int_eq(kge_tconv_init(&l, 64, 16, 4, 8, &e), KGE_OK);
    ck_assert_msg(kge_tconv_load(&l, st, "", &e) == KGE_OK, "%s", e.msg);
    size_t nx, E2;
    float *x = ef_load_f32(st, "x", &nx), *temb = ef_load_f32(st, "type_embedding", NULL),
          *eattr_ref = ef_load_f32(st, "edge_attr", NULL), *want = ef_load_f32(st, "y", NULL);
    const kge_st_tensor *ei = kge_st_find(st, "edge_index"), *et = kge_st_find(st, "edge_type");
    ck_assert(ei && et);
    E2 = ei->nelem;
    size_t E = E2 / 2, N = nx / 64;
    int64_t *idx = malloc(E2 * sizeof *idx), *typ = malloc(E * sizeof *typ);
    ck_assert_int_eq(kge_st_to_i64(ei, idx, NULL), KGE_OK);
    ck_assert_int_eq(kge_st_to_i64(et, typ, NULL), KGE_OK);
    uint32_t *src = malloc(E * 4), *dst = malloc(E * 4), *rp = malloc((N + 1) * 4), *cs = malloc(E * 4),
             *perm = malloc(E * 4);
    for (size_t i = 0; i < E; i++) { src[i] = (uint32_t)idx[i]; dst[i] = (uint32_t)idx[E + i]; }
    ck_assert_int_eq(kge_csr_from_edges(N, E, src, dst, rp, cs, perm, &e), KGE_OK);
    /* edge features from the edge-type embedding, in CSR order */
    float *eattr = malloc(E * 8 * sizeof *eattr);
    for (size_t k = 0; k < E; k++) {
        memcpy(eattr + k * 8, temb + typ[perm[k]] * 8, 8 * sizeof *eattr);
        for (int c = 0; c < 8; c++) ck_assert(eattr[k * 8 + c] == eattr_ref[perm[k] * 8 + c]);
    }
    kge_csr g = {N, rp, cs};
    kge_tconv_acts a = {0};
    float *y = malloc(N * 64 * sizeof *y);
    ck_assert_msg(kge_tconv_forward(&l, &a, y, x, &g, eattr, &e) == KGE_OK, "%s", e.msg);
    float worst = 0.0f;
    for (size_t i = 0; i < N * 64; i++) worst = fmaxf(worst, fabsf(y[i] - want[i]));
    ck_assert_msg(worst < 1e-4f, "y differs by %g", worst);
    /* attention weights of each node and head sum to one */
    for (size_t i = 0; i < N; i++)
        for (int h = 0; h < 4 && rp[i + 1] > rp[i]; h++) {
            float s = 0.0f;
            for (uint32_t k = rp[i]; k < rp[i + 1]; k++) s += a.alpha[k * 4 + (size_t)h];
            ck_assert(fabsf(s - 1.0f) < 1e-5f);
        }
    /* the training check: loss = mean((y @ proj)^2) */
    float *proj = ef_load_f32(st, "proj", NULL), *wl = ef_load_f32(st, "loss", NULL);
    double loss = 0.0;
    for (size_t i = 0; i < N; i++)
        for (int c = 0; c < 3; c++) {
            double s = 0.0;
            for (int k = 0; k < 64; k++) s += (double)y[i * 64 + (size_t)k] * proj[k * 3 + c];
            loss += s * s;
        }
    loss /= (double)(N * 3);
    ck_assert_msg(fabs(loss - wl[0]) <= 1e-4 * fmax(1.0, fabs(wl[0])), "loss %g vs %g", loss, wl[0]);
    free(proj); free(wl);
    kge_tconv_acts_free(&a);
    kge_tconv_free(&l);
    free(x); free(temb); free(eattr_ref); free(want); free(idx); free(typ);
    free(src); free(dst); free(rp); free(cs); free(perm); free(eattr); free(y);
    kge_st_close(st);
    free(p);
}
END_TEST

START_TEST(small_graph_properties)
{
    /* in 2, out 2, 1 head, edge_dim 1; identity-like weights */
    kge_tconv l;
    kge_err e = {0};
    ck_assert_int_eq(kge_tconv_init(&l, 2, 2, 1, 1, &e), KGE_OK);
    for (int i = 0; i < 2; i++) {
        l.wq[i * 2 + i] = 1.0f;
        l.wk[i * 2 + i] = 1.0f;
        l.wv[i * 2 + i] = 1.0f;
        l.ws[i * 2 + i] = 2.0f;
    }
    l.we[0] = 0.5f; /* e' = (0.5·e, 0) */
    /* 3 nodes: 0 -> 2, 1 -> 2; node 0 and 1 have no incoming edge */
    uint32_t src[2] = {0, 1}, dst[2] = {2, 2}, rp[4], cs[2], perm[2];
    ck_assert_int_eq(kge_csr_from_edges(3, 2, src, dst, rp, cs, perm, &e), KGE_OK);
    ck_assert_uint_eq(rp[0], 0); ck_assert_uint_eq(rp[2], 0); ck_assert_uint_eq(rp[3], 2);
    float x[6] = {1, 0, 0, 1, 1, 1}, eattr[2] = {0, 0}, y[6];
    kge_csr g = {3, rp, cs};
    kge_tconv_acts a = {0};
    ck_assert_int_eq(kge_tconv_forward(&l, &a, y, x, &g, eattr, &e), KGE_OK);
    /* nodes without incoming edges: skip term only */
    ck_assert(y[0] == 2.0f && y[1] == 0.0f && y[2] == 0.0f && y[3] == 2.0f);
    /* node 2: q=(1,1); both keys score 1/sqrt(2): equal weights, mean of v */
    ck_assert(fabsf(a.alpha[0] - 0.5f) < 1e-6f && fabsf(a.alpha[1] - 0.5f) < 1e-6f);
    ck_assert(fabsf(y[4] - 2.5f) < 1e-6f && fabsf(y[5] - 2.5f) < 1e-6f);
    /* an edge feature shifts both the score and the message of its edge */
    eattr[1] = 2.0f; /* e' of edge 1->2 = (1, 0) */
    ck_assert_int_eq(kge_tconv_forward(&l, &a, y, x, &g, eattr, &e), KGE_OK);
    float s0 = 1.0f / sqrtf(2.0f), s1 = 2.0f / sqrtf(2.0f);
    float w1 = expf(s1) / (expf(s0) + expf(s1)), w0 = 1.0f - w1;
    ck_assert(fabsf(y[4] - (2.0f + w0 * 1.0f + w1 * 1.0f)) < 1e-5f);
    ck_assert(fabsf(y[5] - (2.0f + w0 * 0.0f + w1 * 1.0f)) < 1e-5f);
    /* huge scores do not overflow (max subtracted) */
    for (int i = 0; i < 4; i++) l.wq[i] *= 1000.0f;
    ck_assert_int_eq(kge_tconv_forward(&l, &a, y, x, &g, eattr, &e), KGE_OK);
    ck_assert(isfinite(y[4]) && isfinite(y[5]));
    /* bad input */
    uint32_t bad_dst[2] = {2, 3};
    ck_assert_int_eq(kge_csr_from_edges(3, 2, src, bad_dst, rp, cs, perm, &e), KGE_EUSAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "edge 1"));
    uint32_t bad_cs[2] = {0, 7};
    kge_csr gb = {3, rp, bad_cs};
    ck_assert_int_eq(kge_csr_from_edges(3, 2, src, dst, rp, cs, perm, &e), KGE_OK);
    ck_assert_int_eq(kge_tconv_forward(&l, &a, y, x, &gb, eattr, &e), KGE_EUSAGE);
    ck_assert_int_eq(kge_tconv_forward(&l, &a, y, x, &g, NULL, &e), KGE_EUSAGE);
    kge_tconv l2;
    ck_assert_int_eq(kge_tconv_init(&l2, 0, 2, 1, 1, &e), KGE_EUSAGE);
    kge_tconv_acts_free(&a);
    kge_tconv_free(&l);
}
END_TEST

START_TEST(load_errors)
{
    char *dir = tu_mkdtemp();
    char *p = tu_path(dir, "g.safetensors");
    float w[9] = {0};
    int64_t s22[2] = {2, 2}, s2[1] = {2}, s21[2] = {2, 1}, s33[2] = {3, 3};
    kge_st_wtensor ts[] = {
        {"lin_query.weight", KGE_DT_F32, 2, s22, w}, {"lin_query.bias", KGE_DT_F32, 1, s2, w},
        {"lin_key.weight", KGE_DT_F32, 2, s33, w},   {"lin_key.bias", KGE_DT_F32, 1, s2, w},
        {"lin_edge.weight", KGE_DT_F32, 2, s21, w},
    };
    kge_err e = {0};
    ck_assert_int_eq(kge_st_write(p, ts, 5, NULL, 0, &e), KGE_OK);
    kge_st *st = NULL;
    ck_assert_int_eq(kge_st_open(p, &st, &e), KGE_OK);
    kge_tconv l;
    ck_assert_int_eq(kge_tconv_init(&l, 2, 2, 1, 1, &e), KGE_OK);
    ck_assert_int_eq(kge_tconv_load(&l, st, "", &e), KGE_EINPUT);
    ck_assert_msg(strstr(e.msg, "lin_key.weight") && strstr(e.msg, "[3, 3]"), "%s", e.msg);
    ck_assert_int_eq(kge_tconv_load(&l, st, "gnn.", &e), KGE_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, "gnn.lin_query.weight"));
    kge_tconv_free(&l);
    kge_st_close(st);
    tu_rmrf(dir);
    free(p);
    free(dir);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("graph_attention");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, transformer_conv_reference);
    tcase_add_test(tc, small_graph_properties);
    tcase_add_test(tc, load_errors);
    suite_add_tcase(s, tc);
    return s;
}
