/* BERT: reproduces the Hugging Face reference outputs of the shared tiny
 * checkpoints (BertModel and BertForMaskedLM), and — without ../shared — the
 * loader's errors, the bert. prefix, F16/BF16 weights and batching
 * invariance on a random model written by kge_st_write. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/bert.h"
#include "encoder/gemm.h"
#include "encoder/kernels.h"
#include "encoder/safetensors.h"
#include "tests/encoder_fixtures.h"
#include "tests/testutil.h"

/* ---- helpers ---------------------------------------------------------------- */

/* ---- reference outputs ---------------------------------------------------- */

/* The padded fixture batch b's real tokens end to end (masks are 1s then
 * 0s) through kge_bert_forward_packed: each sequence's rows and mean
 * match the Hugging Face reference. */
static void check_packed(const kge_bert *m, kge_st *ex, const ef_batch *b)
{
    size_t C = (size_t)m->cfg.hidden, T = (size_t)b->T, B = (size_t)b->B;
    kge_err e = {0};
    int32_t *ids = malloc(B * T * sizeof *ids), *types = malloc(B * T * sizeof *types);
    size_t off[16] = {0}, n = 0;
    ck_assert(B < 16);
    for (size_t i = 0; i < B; i++) {
        for (size_t t = 0; t < T && b->mask[i * T + t]; t++, n++) {
            ids[n] = b->ids[i * T + t];
            types[n] = b->types[i * T + t];
        }
        off[i + 1] = n;
    }
    ck_assert_uint_lt(n, B * T);   /* the fixture has padding to leave out */
    kge_bert_acts a = {0};
    ck_assert_msg(kge_bert_forward_packed(m, &a, ids, types, off, B, &e) == KGE_OK, "%s", e.msg);
    float *want = ef_load_f32(ex, "last_hidden_state", NULL), *wpool = ef_load_f32(ex, "mean_pooled", NULL);
    float *pool = malloc(C * sizeof *pool);
    for (size_t i = 0; i < B; i++) {
        size_t len = off[i + 1] - off[i];
        ef_assert_close(a.hidden + off[i] * C, want + i * T * C, len * C, 1e-4f, "packed last_hidden_state");
        kge_mean_pool_forward(pool, a.hidden + off[i] * C, NULL, 1, len, C);
        ef_assert_close(pool, wpool + i * C, C, 1e-4f, "packed mean_pooled");
    }
    free(pool);
    free(want);
    free(wpool);
    free(ids);
    free(types);
    kge_bert_acts_free(&a);
}

START_TEST(tiny_bert_reference)
{
    const char *sh = tu_shared_dir();
    if (!sh) { fprintf(stderr, "test_bert: ../shared absent, skipping tiny-bert reference\n"); return; }
    char *dir = tu_path(sh, "fixtures/encoder/tiny-bert");
    kge_bert *m = NULL;
    kge_err e = {0};
    ck_assert_msg(kge_bert_load(dir, &m, &e) == KGE_OK, "%s", e.msg);
    ck_assert(m->has_pooler);
    ck_assert(!m->has_mlm);
    ck_assert_int_eq(m->cfg.layers, 2);
    ck_assert_int_eq(m->cfg.heads, 4);
    ck_assert(m->tok.lowercase);
    kge_st *ex = ef_open_fixture("fixtures/encoder/tiny-bert/expected.safetensors");
    ef_batch b = ef_batch_from(ex);
    size_t C = (size_t)m->cfg.hidden, BT = (size_t)b.B * (size_t)b.T;
    for (int keep = 0; keep <= 1; keep++) {
        kge_bert_acts a = {0};
        ck_assert_msg(kge_bert_forward(m, &a, b.ids, b.types, b.mask, b.B, b.T, keep, &e) == KGE_OK, "%s", e.msg);
        float *want = ef_load_f32(ex, "last_hidden_state", NULL);
        ef_assert_close(a.hidden, want, BT * C, 1e-4f, "last_hidden_state");
        free(want);
        float *pool = malloc((size_t)b.B * C * sizeof *pool);
        kge_bert_pooler_forward(m, pool, a.hidden, b.B, b.T);
        want = ef_load_f32(ex, "pooler_output", NULL);
        ef_assert_close(pool, want, (size_t)b.B * C, 1e-4f, "pooler_output");
        free(want);
        kge_mean_pool_forward(pool, a.hidden, b.mask, (size_t)b.B, (size_t)b.T, C);
        want = ef_load_f32(ex, "mean_pooled", NULL);
        ef_assert_close(pool, want, (size_t)b.B * C, 1e-4f, "mean_pooled");
        free(want);
        kge_l2_normalize(pool, (size_t)b.B, C);
        want = ef_load_f32(ex, "mean_pooled_normalized", NULL);
        ef_assert_close(pool, want, (size_t)b.B * C, 1e-5f, "mean_pooled_normalized");
        free(want);
        free(pool);
        kge_bert_acts_free(&a);
    }
    check_packed(m, ex, &b);
    /* the same with the weights packed for the inference GEMM (as kgp_model_load does) */
    ck_assert_int_eq(kge_bert_pack(m, &e), KGE_OK);
    kge_bert_acts a = {0};
    ck_assert_msg(kge_bert_forward(m, &a, b.ids, b.types, b.mask, b.B, b.T, 0, &e) == KGE_OK, "%s", e.msg);
    float *want = ef_load_f32(ex, "last_hidden_state", NULL);
    ef_assert_close(a.hidden, want, BT * C, 1e-4f, "last_hidden_state, packed weights");
    free(want);
    kge_bert_acts_free(&a);
    check_packed(m, ex, &b);
    ef_batch_free(&b);
    kge_st_close(ex);
    kge_bert_free(m);
    free(dir);
}
END_TEST

START_TEST(tiny_bert_mlm_reference)
{
    const char *sh = tu_shared_dir();
    if (!sh) { fprintf(stderr, "test_bert: ../shared absent, skipping MLM reference\n"); return; }
    /* tiny-bert-mlm has no vocab.txt: load config + weights by hand. */
    char *dir = tu_path(sh, "fixtures/encoder/tiny-bert");
    kge_bert *base = NULL;
    kge_err e = {0};
    ck_assert_msg(kge_bert_load(dir, &base, &e) == KGE_OK, "%s", e.msg);
    kge_bert *m = NULL;
    ck_assert_int_eq(kge_bert_create(&base->cfg, &m, &e), KGE_OK);
    char *wp = tu_path(sh, "fixtures/encoder/tiny-bert-mlm/model.safetensors");
    ck_assert_msg(kge_bert_load_weights(m, wp, &e) == KGE_OK, "%s", e.msg);
    ck_assert(m->has_mlm);
    ck_assert(!m->has_pooler);
    kge_st *ex = ef_open_fixture("fixtures/encoder/tiny-bert/mlm_expected.safetensors");
    ef_batch b = ef_batch_from(ex);
    int64_t *labels = ef_load_i64(ex, "labels", NULL);
    size_t C = (size_t)m->cfg.hidden, V = (size_t)m->cfg.vocab_size, BT = (size_t)b.B * (size_t)b.T;
    kge_bert_acts a = {0};
    ck_assert_msg(kge_bert_forward(m, &a, b.ids, b.types, b.mask, b.B, b.T, 0, &e) == KGE_OK, "%s", e.msg);
    size_t nm = 0;
    for (size_t i = 0; i < BT; i++) nm += labels[i] != -100;
    ck_assert_uint_eq(nm, 15);
    float *rows = malloc(nm * C * sizeof *rows), *logits = malloc(nm * V * sizeof *logits),
          *scratch = malloc(2 * nm * C * sizeof *scratch);
    int64_t *lab = malloc(nm * sizeof *lab);
    for (size_t i = 0, k = 0; i < BT; i++)
        if (labels[i] != -100) {
            memcpy(rows + k * C, a.hidden + i * C, C * sizeof *rows);
            lab[k++] = labels[i];
        }
    kge_bert_mlm_forward(m, logits, rows, nm, scratch);
    float *want = ef_load_f32(ex, "masked_logits", NULL);
    ef_assert_close(logits, want, nm * V, 1e-4f, "masked_logits");
    /* mean cross-entropy over the masked positions */
    double loss = 0.0;
    for (size_t k = 0; k < nm; k++) {
        const float *z = logits + k * V;
        double mx = z[0], s = 0.0;
        for (size_t j = 1; j < V; j++) mx = z[j] > mx ? z[j] : mx;
        for (size_t j = 0; j < V; j++) s += exp(z[j] - mx);
        loss += log(s) + mx - z[lab[k]];
    }
    float *wl = ef_load_f32(ex, "loss", NULL);
    ck_assert_msg(fabs(loss / (double)nm - wl[0]) < 1e-4, "loss %g vs %g", loss / (double)nm, wl[0]);
    free(wl);
    free(want);
    free(rows);
    free(logits);
    free(scratch);
    free(lab);
    free(labels);
    kge_bert_acts_free(&a);
    ef_batch_free(&b);
    kge_st_close(ex);
    kge_bert_free(m);
    kge_bert_free(base);
    free(wp);
    free(dir);
}
END_TEST

/* ---- a random model written to a temp folder ----------------------------- */

static const kge_bert_config small_cfg = {
    .vocab_size = 40, .hidden = 16, .layers = 2, .heads = 2, .intermediate = 32,
    .max_positions = 24, .type_vocab = 2, .ln_eps = 1e-12f,
};

static uint64_t rng = 88172645463325252ull;
static float frand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 40) / (double)(1 << 24)) - 0.5f;
}

static kge_bert *random_model(void)
{
    kge_bert *m = NULL;
    ck_assert_int_eq(kge_bert_create(&small_cfg, &m, NULL), KGE_OK);
    for (size_t i = 0; i < m->nparams; i++) m->block[i] = frand();
    m->has_pooler = m->has_mlm = 1;
    return m;
}

static const char *small_vocab_txt(void)
{
    static char buf[1024];
    size_t o = (size_t)snprintf(buf, sizeof buf, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
    const char *words[] = {"the", "graph", "node", "edge", "learn", "##ing", "path", "a", "b", "c", ",", "."};
    int i = 5;
    for (size_t w = 0; w < sizeof words / sizeof *words; w++, i++) o += (size_t)snprintf(buf + o, sizeof buf - o, "%s\n", words[w]);
    for (; i < small_cfg.vocab_size; i++) o += (size_t)snprintf(buf + o, sizeof buf - o, "w%d\n", i);
    return buf;
}

/* Writes m into dir as a Hugging Face folder; prefix "bert." or "";
 * dtype F32/F16/BF16; skip (may be NULL) names a tensor to leave out;
 * bad names one to write with a wrong shape. */
static void write_folder(const kge_bert *m, const char *dir, const char *prefix, kge_dtype dt,
                         const char *skip, const char *bad)
{
    char *p = tu_path(dir, "config.json");
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"model_type\":\"bert\",\"vocab_size\":%d,\"hidden_size\":%d,\"num_hidden_layers\":%d,"
             "\"num_attention_heads\":%d,\"intermediate_size\":%d,\"max_position_embeddings\":%d,"
             "\"type_vocab_size\":%d,\"layer_norm_eps\":1e-12,\"hidden_act\":\"gelu\"}",
             m->cfg.vocab_size, m->cfg.hidden, m->cfg.layers, m->cfg.heads, m->cfg.intermediate,
             m->cfg.max_positions, m->cfg.type_vocab);
    tu_write(p, cfg, (size_t)-1);
    free(p);
    p = tu_path(dir, "vocab.txt");
    tu_write(p, small_vocab_txt(), (size_t)-1);
    free(p);
    kge_bert_tensor *ts = malloc(KGE_BERT_MAX_TENSORS(m->cfg.layers) * sizeof *ts);
    size_t nt = kge_bert_tensors(m, ts), nw = 0;
    kge_st_wtensor *w = calloc(nt + 1, sizeof *w);
    char (*names)[128] = calloc(nt + 1, 128);
    uint16_t **conv = calloc(nt, sizeof *conv);
    static const int64_t bad_shape[2] = {3, 3};
    static float bad_data[9];
    for (size_t i = 0; i < nt; i++) {
        if (skip && strcmp(ts[i].name, skip) == 0) continue;
        snprintf(names[nw], 128, "%s%s", ts[i].group == 2 ? "" : prefix, ts[i].name);
        w[nw].name = names[nw];
        w[nw].ndim = ts[i].ndim;
        w[nw].shape = ts[i].shape;
        w[nw].dtype = dt;
        w[nw].data = ts[i].data;
        if (bad && strcmp(ts[i].name, bad) == 0) {
            w[nw].shape = bad_shape;
            w[nw].ndim = 2;
            w[nw].data = bad_data;
            w[nw].dtype = KGE_DT_F32;
        } else if (dt != KGE_DT_F32) {
            size_t n = (size_t)ts[i].shape[0] * (size_t)(ts[i].ndim == 2 ? ts[i].shape[1] : 1);
            conv[i] = malloc(n * 2);
            for (size_t j = 0; j < n; j++) {
                uint32_t bits;
                memcpy(&bits, &ts[i].data[j], 4);
                if (dt == KGE_DT_BF16) conv[i][j] = (uint16_t)(bits >> 16);
                else {   /* to half: values are small and normal; truncate mantissa */
                    uint32_t s = (bits >> 16) & 0x8000, ex = (bits >> 23) & 0xff, man = (bits >> 13) & 0x3ff;
                    int e16 = (int)ex - 127 + 15;
                    conv[i][j] = e16 <= 0 ? (uint16_t)s : (uint16_t)(s | ((uint32_t)e16 << 10) | man);
                }
            }
            w[nw].data = conv[i];
        }
        nw++;
    }
    /* an extra tensor that must be ignored */
    static const int64_t one[1] = {1};
    static const int64_t pos[1] = {1};
    w[nw++] = (kge_st_wtensor){"embeddings.position_ids", KGE_DT_I64, 1, one, pos};
    p = tu_path(dir, "model.safetensors");
    kge_err e = {0};
    const char *meta[] = {"format", "pt"};
    ck_assert_msg(kge_st_write(p, w, nw, meta, 1, &e) == KGE_OK, "%s", e.msg);
    free(p);
    for (size_t i = 0; i < nt; i++) free(conv[i]);
    free(conv);
    free(names);
    free(w);
    free(ts);
}

static float *forward_mean(const kge_bert *m, const int32_t *ids, const uint8_t *mask, int B, int T)
{
    kge_bert_acts a = {0};
    kge_err e = {0};
    ck_assert_msg(kge_bert_forward(m, &a, ids, NULL, mask, B, T, 0, &e) == KGE_OK, "%s", e.msg);
    float *o = malloc((size_t)B * (size_t)m->cfg.hidden * sizeof *o);
    kge_mean_pool_forward(o, a.hidden, mask, (size_t)B, (size_t)T, (size_t)m->cfg.hidden);
    kge_bert_acts_free(&a);
    return o;
}

START_TEST(roundtrip_prefix_and_dtypes)
{
    kge_bert *m = random_model();
    char *dir = tu_mkdtemp();
    int32_t ids[6] = {2, 5, 6, 7, 8, 3};
    float *ref = forward_mean(m, ids, NULL, 1, 6);
    struct { const char *prefix; kge_dtype dt; float tol; } cases[] = {
        {"", KGE_DT_F32, 0.0f}, {"bert.", KGE_DT_F32, 0.0f}, {"", KGE_DT_BF16, 0.1f}, {"bert.", KGE_DT_F16, 0.02f},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        write_folder(m, dir, cases[c].prefix, cases[c].dt, NULL, NULL);
        kge_bert *l = NULL;
        kge_err e = {0};
        ck_assert_msg(kge_bert_load(dir, &l, &e) == KGE_OK, "%s", e.msg);
        ck_assert(l->has_pooler && l->has_mlm);
        ck_assert_uint_eq(l->nparams, m->nparams);
        if (cases[c].dt == KGE_DT_F32)
            ck_assert(memcmp(l->block, m->block, m->nparams * sizeof(float)) == 0);
        float *got = forward_mean(l, ids, NULL, 1, 6);
        ef_assert_close(got, ref, (size_t)m->cfg.hidden, cases[c].tol + 1e-6f, "reloaded model");
        free(got);
        kge_bert_free(l);
    }
    free(ref);
    tu_rmrf(dir);
    free(dir);
    kge_bert_free(m);
}
END_TEST

START_TEST(load_errors)
{
    kge_bert *m = random_model();
    char *dir = tu_mkdtemp();
    kge_bert *l = (kge_bert *)1;
    kge_err e = {0};
    /* no folder / no config */
    ck_assert_int_eq(kge_bert_load(dir, &l, &e), KGE_ENOTFOUND);
    ck_assert_ptr_null(l);
    ck_assert_ptr_nonnull(strstr(e.msg, "config.json"));
    /* missing tensor: named */
    write_folder(m, dir, "", KGE_DT_F32, "encoder.layer.1.attention.self.key.bias", NULL);
    ck_assert_int_eq(kge_bert_load(dir, &l, &e), KGE_ENOTFOUND);
    ck_assert_msg(strstr(e.msg, "encoder.layer.1.attention.self.key.bias") != NULL, "%s", e.msg);
    /* mis-shaped tensor: named with both shapes */
    write_folder(m, dir, "bert.", KGE_DT_F32, NULL, "encoder.layer.0.intermediate.dense.weight");
    ck_assert_int_eq(kge_bert_load(dir, &l, &e), KGE_EINPUT);
    ck_assert_msg(strstr(e.msg, "bert.encoder.layer.0.intermediate.dense.weight") != NULL &&
                  strstr(e.msg, "[3, 3]") && strstr(e.msg, "[32, 16]"), "%s", e.msg);
    /* optional pooler absent: loads, has_pooler 0 */
    write_folder(m, dir, "", KGE_DT_F32, "pooler.dense.weight", NULL);
    ck_assert_msg(kge_bert_load(dir, &l, &e) == KGE_OK, "%s", e.msg);
    ck_assert(!l->has_pooler);
    kge_bert_free(l);
    /* pooler half present: error */
    write_folder(m, dir, "", KGE_DT_F32, "pooler.dense.bias", NULL);
    ck_assert_int_eq(kge_bert_load(dir, &l, &e), KGE_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, "pooler.dense.bias"));
    /* unsupported config values */
    char *cp = tu_path(dir, "config.json");
    tu_write(cp, "{\"model_type\":\"roberta\"}", (size_t)-1);
    ck_assert_int_eq(kge_bert_load(dir, &l, &e), KGE_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "roberta"));
    tu_write(cp, "{\"vocab_size\":40,\"hidden_size\":16,\"num_hidden_layers\":2,\"num_attention_heads\":3,"
                 "\"intermediate_size\":32}", (size_t)-1);
    ck_assert_int_eq(kge_bert_load(dir, &l, &e), KGE_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "multiple"));
    tu_write(cp, "{\"vocab_size\":40,", (size_t)-1);
    ck_assert_int_eq(kge_bert_load(dir, &l, &e), KGE_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "config.json:1:"));
    tu_write(cp, "{\"vocab_size\":41,\"hidden_size\":16,\"num_hidden_layers\":2,\"num_attention_heads\":2,"
                 "\"intermediate_size\":32,\"max_position_embeddings\":24}", (size_t)-1);
    ck_assert_int_eq(kge_bert_load(dir, &l, &e), KGE_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "vocab_size 41"));
    free(cp);
    /* forward input checks */
    kge_bert_acts a = {0};
    int32_t ids[3] = {2, 99, 3};
    ck_assert_int_eq(kge_bert_forward(m, &a, ids, NULL, NULL, 1, 3, 0, &e), KGE_EUSAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "[0,1]"));
    int32_t many[25] = {0};
    ck_assert_int_eq(kge_bert_forward(m, &a, many, NULL, NULL, 1, 25, 0, &e), KGE_EUSAGE);
    kge_bert_acts_free(&a);
    tu_rmrf(dir);
    free(dir);
    kge_bert_free(m);
}
END_TEST

START_TEST(batching_invariance)
{
    kge_bert *m = random_model();
    /* three sequences of different lengths, alone and padded together */
    int32_t s0[] = {2, 5, 6, 3}, s1[] = {2, 7, 8, 9, 10, 11, 12, 3}, s2[] = {2, 3};
    const int32_t *seq[3] = {s0, s1, s2};
    int len[3] = {4, 8, 2}, T = 8;
    int32_t ids[3 * 8];
    uint8_t mask[3 * 8];
    for (int b = 0; b < 3; b++)
        for (int t = 0; t < T; t++) {
            ids[b * T + t] = t < len[b] ? seq[b][t] : 0;
            mask[b * T + t] = t < len[b];
        }
    float *batched = forward_mean(m, ids, mask, 3, T);
    for (int b = 0; b < 3; b++) {
        float *alone = forward_mean(m, seq[b], NULL, 1, len[b]);
        ef_assert_close(batched + b * m->cfg.hidden, alone, (size_t)m->cfg.hidden, 1e-5f, "batched vs alone");
        free(alone);
    }
    free(batched);
    kge_bert_free(m);
}
END_TEST

START_TEST(threads_do_not_change_results)
{
    kge_bert *m = random_model();
    int B = 5, T = 20;
    int32_t ids[100];
    uint8_t mask[100];
    for (int i = 0; i < B * T; i++) {
        ids[i] = 5 + i % 30;
        mask[i] = i % T < 8 + (i / T) * 3;
    }
    kge_bert_acts a1 = {0}, a3 = {0};
    kge_bert_acts_set_threads(&a1, 1);
    kge_bert_acts_set_threads(&a3, 3);
    kge_err e = {0};
    for (int keep = 0; keep <= 1; keep++) {
        ck_assert_int_eq(kge_bert_forward(m, &a1, ids, NULL, mask, B, T, keep, &e), KGE_OK);
        ck_assert_int_eq(kge_bert_forward(m, &a3, ids, NULL, mask, B, T, keep, &e), KGE_OK);
        ck_assert(memcmp(a1.hidden, a3.hidden, (size_t)(B * T * m->cfg.hidden) * sizeof(float)) == 0);
        if (keep)   /* without keep, att is per-thread scratch */
            ck_assert(memcmp(a1.att, a3.att, (size_t)(B * m->cfg.heads * T * T) * sizeof(float)) == 0);
    }
    /* every layer kept: layer 0's output is the input of layer 1's LN chain */
    ck_assert(a3.keep_all);
    ck_assert_ptr_eq(a3.hidden, a3.ln2 + (size_t)B * T * m->cfg.hidden);
    kge_bert_acts_free(&a1);
    kge_bert_acts_free(&a3);
    kge_bert_free(m);
}
END_TEST

START_TEST(packed_sequences)
{
    kge_bert *m = random_model();
    size_t C = (size_t)m->cfg.hidden;
    int32_t ids[] = {2, 5, 6, 3, 2, 7, 8, 9, 10, 11, 12, 3, 2, 3};
    size_t off[] = {0, 4, 12, 14};
    kge_bert_acts a1 = {0}, a3 = {0}, one = {0};
    kge_bert_acts_set_threads(&a1, 1);
    kge_bert_acts_set_threads(&a3, 3);
    kge_err e = {0};
    ck_assert_msg(kge_bert_forward_packed(m, &a1, ids, NULL, off, 3, &e) == KGE_OK, "%s", e.msg);
    ck_assert_msg(kge_bert_forward_packed(m, &a3, ids, NULL, off, 3, &e) == KGE_OK, "%s", e.msg);
    ck_assert(memcmp(a1.hidden, a3.hidden, 14 * C * sizeof(float)) == 0);
    for (size_t s = 0; s < 3; s++) {   /* each sequence as kge_bert_forward gives it alone */
        int len = (int)(off[s + 1] - off[s]);
        ck_assert_int_eq(kge_bert_forward(m, &one, ids + off[s], NULL, NULL, 1, len, 0, &e), KGE_OK);
        ef_assert_close(a1.hidden + off[s] * C, one.hidden, (size_t)len * C, 1e-5f, "packed vs alone");
    }
    /* bad input: a clear error */
    size_t empty[] = {0, 4, 4}, shifted[] = {1, 4}, toolong[] = {0, 25};
    ck_assert_int_eq(kge_bert_forward_packed(m, &a1, ids, NULL, off, 0, &e), KGE_EUSAGE);
    ck_assert_int_eq(kge_bert_forward_packed(m, &a1, ids, NULL, shifted, 1, &e), KGE_EUSAGE);
    ck_assert_int_eq(kge_bert_forward_packed(m, &a1, ids, NULL, empty, 2, &e), KGE_EUSAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "sequence 1 is empty"));
    int32_t many[25] = {0};
    ck_assert_int_eq(kge_bert_forward_packed(m, &a1, many, NULL, toolong, 1, &e), KGE_EUSAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "max_position_embeddings"));
    ids[9] = 9999;
    ck_assert_int_eq(kge_bert_forward_packed(m, &a1, ids, NULL, off, 3, &e), KGE_EUSAGE);
    ck_assert_ptr_nonnull(strstr(e.msg, "row 9"));
    kge_bert_acts_free(&a1);
    kge_bert_acts_free(&a3);
    kge_bert_acts_free(&one);
    kge_bert_free(m);
}
END_TEST

/* The inference attention kernel (hand-written, probabilities not kept)
 * equals the sgemm one with its probabilities, for head sizes it
 * specialises (32, 64) and one it does not (12), lengths around its block
 * sizes, with masked keys. */
START_TEST(attention_infer_matches)
{
    const size_t NHs[] = {2, 1, 8}, Cs[] = {64, 64, 96}, Ts[] = {1, 3, 8, 9, 16, 17, 40};
    for (size_t c = 0; c < 3; c++)
        for (size_t ti = 0; ti < sizeof Ts / sizeof Ts[0]; ti++) {
            size_t NH = NHs[c], C = Cs[c], T = Ts[ti], HS = C / NH;
            float *qkv = malloc(T * 3 * C * sizeof *qkv), *keep = malloc(T * sizeof *keep);
            float *ref = calloc(T * C, sizeof *ref), *got = calloc(T * C, sizeof *got);
            float *att = malloc(NH * T * T * sizeof *att), *scr = malloc(kge_attention_scratch(T, HS) * sizeof *scr);
            uint64_t x = 7 + T;
            for (size_t i = 0; i < T * 3 * C; i++) {
                x = x * 6364136223846793005ull + 1442695040888963407ull;
                qkv[i] = (float)((x >> 40) / (double)(1 << 24)) * 4.0f - 2.0f;
            }
            for (size_t j = 0; j < T; j++) keep[j] = T > 2 && j % 3 == 2 ? 0.0f : 1.0f;
            for (size_t h = 0; h < NH; h++) {
                kge_attention_head_forward(ref, att, qkv, keep, 0, h, T, C, NH);
                kge_attention_head_infer(got, qkv, keep, h, T, C, NH, scr);
            }
            for (size_t i = 0; i < T * C; i++)
                ck_assert_msg(fabsf(got[i] - ref[i]) < 1e-5f, "C %zu NH %zu T %zu [%zu]: %g vs %g", C, NH, T, i,
                              got[i], ref[i]);
            free(qkv); free(keep); free(ref); free(got); free(att); free(scr);
        }
}
END_TEST

/* The inference GEMM on packed weights equals cblas_sgemm + bias +
 * residual + kge_gelu_forward at shapes off its blocking: rows around the
 * tile height (8) and the row chunk (96), inputs below, at and past the
 * input block (384), outputs around the 16-column vectors and 48-column
 * panels; nothing is written past out. */
START_TEST(gemm_packed_matches_sgemm)
{
    const size_t Ns[] = {1, 5, 7, 8, 9, 17, 97, 103}, Cs[] = {1, 3, 16, 33, 384, 385, 800},
                 OCs[] = {1, 15, 16, 17, 47, 48, 49, 100};
    /* the packed layout itself: panel p, input k, column j */
    float lw[50 * 3], lp[2 * 3 * KGE_GEMM_NR];
    for (size_t i = 0; i < 50 * 3; i++) lw[i] = (float)i;
    ck_assert_uint_eq(kge_gemm_packed_floats(50, 3), 2 * 3 * KGE_GEMM_NR);
    kge_gemm_pack(lp, lw, 50, 3);
    ck_assert_float_eq(lp[1 * KGE_GEMM_NR + 5], lw[5 * 3 + 1]);
    ck_assert_float_eq(lp[(3 + 2) * KGE_GEMM_NR + 1], lw[(KGE_GEMM_NR + 1) * 3 + 2]);
    ck_assert_float_eq(lp[(3 + 2) * KGE_GEMM_NR + 2], 0.0f);   /* column 50 does not exist */
    if (!kge_gemm_available()) {
        fprintf(stderr, "test_bert: no AVX-512 on this CPU, skipping the packed GEMM\n");
        return;
    }
    size_t shape = 0;
    for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++)
        for (size_t ci = 0; ci < sizeof Cs / sizeof *Cs; ci++)
            for (size_t oi = 0; oi < sizeof OCs / sizeof *OCs; oi++, shape++) {
                size_t N = Ns[ni], C = Cs[ci], OC = OCs[oi];
                if (N * C * OC > 1500000) continue;
                int fused = (int)(shape % 4);   /* 0 plain, 1 bias, 2 bias + residual, 3 bias + GELU */
                float *x = malloc(N * C * sizeof *x), *w = malloc(OC * C * sizeof *w), *b = malloc(OC * sizeof *b);
                float *res = malloc(N * OC * sizeof *res), *want = malloc(N * OC * sizeof *want);
                float *got = malloc((N * OC + 64) * sizeof *got);
                float *wp = aligned_alloc(64, kge_gemm_packed_floats(OC, C) * sizeof *wp);
                for (size_t i = 0; i < N * C; i++) x[i] = frand() * 2.0f;
                for (size_t i = 0; i < OC * C; i++) w[i] = frand() * 2.0f;
                for (size_t i = 0; i < OC; i++) b[i] = frand();
                for (size_t i = 0; i < N * OC; i++) res[i] = frand();
                for (size_t i = 0; i < N * OC + 64; i++) got[i] = 12345.0f;
                kge_matmul_forward(want, x, w, fused ? b : NULL, N, C, OC);
                if (fused == 2)
                    for (size_t i = 0; i < N * OC; i++) want[i] += res[i];
                if (fused == 3) kge_gelu_forward(want, want, N * OC);
                kge_gemm_pack(wp, w, OC, C);
                kge_gemm_packed(got, x, wp, fused ? b : NULL, fused == 2 ? res : NULL, fused == 3, N, C, OC);
                float tol = 1e-5f + 1e-6f * (float)C;
                for (size_t i = 0; i < N * OC; i++)
                    ck_assert_msg(fabsf(got[i] - want[i]) <= tol, "N %zu C %zu OC %zu fused %d [%zu,%zu]: %g vs %g",
                                  N, C, OC, fused, i / OC, i % OC, got[i], want[i]);
                for (size_t i = N * OC; i < N * OC + 64; i++) ck_assert_float_eq(got[i], 12345.0f);
                free(x); free(w); free(b); free(res); free(want); free(got); free(wp);
            }
}
END_TEST

/* A model with packed weights (kge_bert_pack) gives the cblas path's
 * outputs within 1e-5, padded and packed; with the kernel disabled, or in
 * training passes (keep), the cblas path bit for bit; kge_bert_unpack and
 * loading weights drop the packs. */
START_TEST(packed_weights_match_sgemm)
{
    kge_bert *m = random_model();
    size_t C = (size_t)m->cfg.hidden;
    int B = 3, T = 9;
    int32_t ids[27];
    uint8_t mask[27];
    for (int i = 0; i < B * T; i++) {
        ids[i] = 5 + (i * 7) % 30;
        mask[i] = i % T < 4 + 2 * (i / T);
    }
    size_t off[] = {0, 4, 13, 15};
    kge_bert_acts ref = {0}, got = {0}, refp = {0}, gotp = {0}, keep = {0}, keepref = {0};
    kge_err e = {0};
    ck_assert_int_eq(kge_bert_forward(m, &ref, ids, NULL, mask, B, T, 0, &e), KGE_OK);
    ck_assert_int_eq(kge_bert_forward(m, &keepref, ids, NULL, mask, B, T, 1, &e), KGE_OK);
    ck_assert_int_eq(kge_bert_forward_packed(m, &refp, ids, NULL, off, 3, &e), KGE_OK);
    ck_assert_int_eq(kge_bert_pack(m, &e), KGE_OK);
    if (!kge_gemm_available()) {
        ck_assert_ptr_null(m->packed);
        fprintf(stderr, "test_bert: no AVX-512 on this CPU, packing does nothing\n");
    } else {
        ck_assert_ptr_nonnull(m->packed);
        ck_assert_int_eq(kge_bert_forward(m, &got, ids, NULL, mask, B, T, 0, &e), KGE_OK);
        ef_assert_close(got.hidden, ref.hidden, (size_t)(B * T) * C, 1e-5f, "packed weights, padded");
        ck_assert(memcmp(got.hidden, ref.hidden, (size_t)(B * T) * C * sizeof(float)) != 0);   /* another path ran */
        ck_assert_int_eq(kge_bert_forward_packed(m, &gotp, ids, NULL, off, 3, &e), KGE_OK);
        ef_assert_close(gotp.hidden, refp.hidden, 15 * C, 1e-5f, "packed weights, packed sequences");
        /* disabled: the cblas path */
        ck_assert_int_eq(kge_gemm_enable(0), 1);
        ck_assert_int_eq(kge_bert_forward(m, &got, ids, NULL, mask, B, T, 0, &e), KGE_OK);
        ck_assert(memcmp(got.hidden, ref.hidden, (size_t)(B * T) * C * sizeof(float)) == 0);
        kge_gemm_enable(1);
    }
    /* keep (training): the cblas path, bit for bit */
    ck_assert_int_eq(kge_bert_forward(m, &keep, ids, NULL, mask, B, T, 1, &e), KGE_OK);
    ck_assert(memcmp(keep.hidden, keepref.hidden, (size_t)(B * T) * C * sizeof(float)) == 0);
    /* kge_bert_unpack: the cblas path again, bit for bit */
    kge_bert_unpack(m);
    ck_assert_ptr_null(m->packed);
    ck_assert_int_eq(kge_bert_forward(m, &got, ids, NULL, mask, B, T, 0, &e), KGE_OK);
    ck_assert(memcmp(got.hidden, ref.hidden, (size_t)(B * T) * C * sizeof(float)) == 0);
    kge_bert_acts_free(&ref);
    kge_bert_acts_free(&got);
    kge_bert_acts_free(&refp);
    kge_bert_acts_free(&gotp);
    kge_bert_acts_free(&keep);
    kge_bert_acts_free(&keepref);
    kge_bert_free(m);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("bert");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, tiny_bert_reference);
    tcase_add_test(tc, tiny_bert_mlm_reference);
    tcase_add_test(tc, roundtrip_prefix_and_dtypes);
    tcase_add_test(tc, load_errors);
    tcase_add_test(tc, batching_invariance);
    tcase_add_test(tc, threads_do_not_change_results);
    tcase_add_test(tc, packed_sequences);
    tcase_add_test(tc, attention_infer_matches);
    tcase_add_test(tc, gemm_packed_matches_sgemm);
    tcase_add_test(tc, packed_weights_match_sgemm);
    suite_add_tcase(s, tc);
    return s;
}
