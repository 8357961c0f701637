/* Encoder benchmark (not a test): kgpath's C BERT forward on a model of
 * any shape, and OpenBLAS sgemm's peak on this machine for comparison.
 *
 *   encoder_bench make DIR [V C L NH I P]  write a random-weight Hugging Face
 *                                          folder (default all-MiniLM-L6-v2
 *                                          shape: 30522 384 6 12 1536 512)
 *   encoder_bench run DIR T B SECONDS      B sentences of T tokens per
 *                                          forward, repeated for SECONDS;
 *                                          prints "sent/s GFLOP/s"
 *   encoder_bench peak SECONDS             sgemm GFLOP/s on large squares, per
 *                                          wall and per CPU second
 *   encoder_bench core                     the OpenBLAS kernels in use
 *   encoder_bench tokenize DIR TEXTS OUT   token ids of each line of TEXTS
 *                                          (one line of ids per text, as
 *                                          kgpath truncates) for the peers
 *   encoder_bench encode DIR TEXTS SECONDS [OUT]
 *                                          the realistic workload: every
 *                                          line of TEXTS through
 *                                          kgp_model_encode (the path
 *                                          `kgpath embed` takes: tokenize,
 *                                          pack, mean-pool), repeated for
 *                                          SECONDS; prints "texts/s tokens
 *                                          texts/CPU-s"; OUT gets the
 *                                          embeddings (float32, text order)
 *
 * Like the kgpath command, it first makes OpenBLAS use kernels fit for
 * this CPU when OpenBLAS did not recognise it (kge_blas_select_core).
 *
 * Threads: OPENBLAS_NUM_THREADS. KGPATH_BENCH_GEMM=cblas makes `run` use
 * the OpenBLAS path instead of the packed-weight GEMM (encoder/gemm.h), to
 * compare the two. See tools/bench/encoder_bench.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>

#include "encoder/bert.h"
#include "encoder/gemm.h"
#include "encoder/kernels.h"
#include "encoder/safetensors.h"
#include "encoder/threads.h"
#include "kgpath.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static float frand(void)   /* uniform in [-0.5, 0.5) */
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (float)((rs >> 40) / (double)(1 << 24)) - 0.5f;
}

static int make(const char *dir, kge_bert_config c)
{
    kge_bert *m = NULL;
    kge_err e = {0};
    if (kge_bert_create(&c, &m, &e)) { fprintf(stderr, "%s\n", e.msg); return 1; }
    for (size_t i = 0; i < m->nparams; i++) m->block[i] = 0.08f * frand();
    /* LayerNorm weights near 1 keep activations in a realistic range */
    size_t C = (size_t)c.hidden, L = (size_t)c.layers;
    for (size_t i = 0; i < C; i++) m->p.embln_w[i] = 1.0f + 0.1f * frand();
    for (size_t i = 0; i < L * C; i++) { m->p.ln1w[i] = 1.0f + 0.1f * frand(); m->p.ln2w[i] = 1.0f + 0.1f * frand(); }
    kge_bert_tensor *ts = malloc(KGE_BERT_MAX_TENSORS(c.layers) * sizeof *ts);
    size_t nt = kge_bert_tensors(m, ts), nw = 0;
    kge_st_wtensor *w = calloc(nt, sizeof *w);
    for (size_t i = 0; i < nt; i++) {
        if (ts[i].group == 2) continue;           /* no MLM head */
        w[nw++] = (kge_st_wtensor){ts[i].name, KGE_DT_F32, ts[i].ndim, ts[i].shape, ts[i].data};
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    const char *meta[] = {"format", "pt"};
    int rc = kge_st_write(path, w, nw, meta, 1, &e);
    if (rc) fprintf(stderr, "%s\n", e.msg);
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"model_type\":\"bert\",\"vocab_size\":%d,\"hidden_size\":%d,\"num_hidden_layers\":%d,"
               "\"num_attention_heads\":%d,\"intermediate_size\":%d,\"max_position_embeddings\":%d,"
               "\"type_vocab_size\":%d,\"layer_norm_eps\":1e-12,\"hidden_act\":\"gelu\"}\n",
            c.vocab_size, c.hidden, c.layers, c.heads, c.intermediate, c.max_positions, c.type_vocab);
    fclose(f);
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    f = fopen(path, "w");
    fputs("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n", f);
    for (int i = 5; i < c.vocab_size; i++) fprintf(f, "tok%d\n", i);
    fclose(f);
    free(w);
    free(ts);
    kge_bert_free(m);
    return rc;
}

/* Multiply-adds ×2 of one sentence of T tokens. */
static double flops(const kge_bert_config *c, double T)
{
    double C = c->hidden, FF = c->intermediate;
    return c->layers * (2.0 * T * (4.0 * C * C + 2.0 * C * FF) + 4.0 * T * T * C);
}

static int run(const char *dir, int T, int B, double secs)
{
    kge_bert *m = NULL;
    kge_err e = {0};
    /* KGPATH_BENCH_GEMM=cblas: the OpenBLAS path instead of the packed-weight GEMM (for comparisons) */
    const char *g = getenv("KGPATH_BENCH_GEMM");
    if (g && strcmp(g, "cblas") == 0) kge_gemm_enable(0);
    if (kge_bert_load(dir, &m, &e) || kge_bert_pack(m, &e)) { fprintf(stderr, "%s\n", e.msg); return 1; }
    int32_t *ids = malloc((size_t)B * (size_t)T * sizeof *ids);
    uint8_t *mask = malloc((size_t)B * (size_t)T);
    for (int i = 0; i < B * T; i++) {
        frand();
        ids[i] = 5 + (int32_t)(rs % (uint64_t)(m->cfg.vocab_size - 5));
        mask[i] = 1;
    }
    for (int b = 0; b < B; b++) { ids[b * T] = 2; ids[b * T + T - 1] = 3; }
    kge_bert_acts a = {0};
    float *pool = malloc((size_t)B * (size_t)m->cfg.hidden * sizeof *pool);
    /* warm-up */
    kge_bert_forward(m, &a, ids, NULL, mask, B, T, 0, &e);
    long n = 0;
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    double t0 = now(), t;
    do {
        if (kge_bert_forward(m, &a, ids, NULL, mask, B, T, 0, &e)) { fprintf(stderr, "%s\n", e.msg); return 1; }
        kge_mean_pool_forward(pool, a.hidden, mask, (size_t)B, (size_t)T, (size_t)m->cfg.hidden);
        n++;
        t = now() - t0;
    } while (t < secs);
    double sps = (double)n * B / t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
    /* sent/s, GFLOP/s, and sentences per CPU-second (less sensitive to a
     * busy machine; for tuning) */
    printf("%.2f %.2f %.2f\n", sps, sps * flops(&m->cfg, T) / 1e9, (double)n * B / cpu);
    free(pool);
    free(ids);
    free(mask);
    kge_bert_acts_free(&a);
    kge_bert_free(m);
    return 0;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* sgemm GFLOP/s on 1024² squares: per wall second and per CPU second. */
static int peak(double secs)
{
    int n = 1024;
    float *a = malloc((size_t)n * n * 4), *b = malloc((size_t)n * n * 4), *c = malloc((size_t)n * n * 4);
    for (size_t i = 0; i < (size_t)n * n; i++) { a[i] = frand(); b[i] = frand(); }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    long k = 0;
    double t0 = now(), c0 = cpu_now(), t;
    do {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        k++;
        t = now() - t0;
    } while (t < secs);
    double g = 2.0 * n * n * (double)n * (double)k / 1e9;
    printf("%.2f %.2f\n", g / t, g / (cpu_now() - c0));
    free(a); free(b); free(c);
    return 0;
}

/* The lines of path (newline removed); *n set. Exits on error. */
static char **read_lines(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(1); }
    char **v = NULL, *line = NULL;
    size_t cap = 0, k = 0, lc = 0;
    ssize_t r;
    while ((r = getline(&line, &lc, f)) >= 0) {
        if (r > 0 && line[r - 1] == '\n') line[r - 1] = 0;
        if (k == cap) v = realloc(v, (cap = cap ? 2 * cap : 256) * sizeof *v);
        v[k++] = strdup(line);
    }
    free(line);
    fclose(f);
    *n = k;
    return v;
}

static kgp_model *load_public(const char *dir)
{
    kgp_model *m = NULL;
    if (kgp_model_load(dir, &m)) { fprintf(stderr, "%s\n", kgp_model_errmsg(m)); exit(1); }
    return m;
}

static int tokenize(const char *dir, const char *texts, const char *out)
{
    kgp_model *m = load_public(dir);
    size_t n;
    char **t = read_lines(texts, &n);
    FILE *f = fopen(out, "w");
    if (!f) { perror(out); return 1; }
    for (size_t i = 0; i < n; i++) {
        kgp_tokens tk;
        if (kgp_model_tokenize(m, t[i], &tk)) { fprintf(stderr, "%s\n", kgp_model_errmsg(m)); return 1; }
        for (size_t j = 0; j < tk.n; j++) fprintf(f, j ? " %d" : "%d", tk.ids[j]);
        fputc('\n', f);
        kgp_tokens_free(&tk);
        free(t[i]);
    }
    free(t);
    kgp_model_free(m);
    return fclose(f) != 0;
}

static int encode(const char *dir, const char *texts, double secs, const char *out)
{
    kgp_model *m = load_public(dir);
    size_t n, tokens = 0, C = kgp_model_dim(m);
    char **t = read_lines(texts, &n);
    for (size_t i = 0; i < n; i++) {
        kgp_tokens tk;
        if (kgp_model_tokenize(m, t[i], &tk)) { fprintf(stderr, "%s\n", kgp_model_errmsg(m)); return 1; }
        tokens += tk.n;
        kgp_tokens_free(&tk);
    }
    float *v = malloc(n * C * sizeof *v);
    /* warm-up on the first 32 texts */
    if (kgp_model_encode(m, (const char *const *)t, n < 32 ? n : 32, KGP_POOL_MEAN, 0, v)) {
        fprintf(stderr, "%s\n", kgp_model_errmsg(m));
        return 1;
    }
    long k = 0;
    double c0 = cpu_now(), t0 = now(), el;
    do {   /* mean pooling without normalisation: what the ONNX graph outputs */
        if (kgp_model_encode(m, (const char *const *)t, n, KGP_POOL_MEAN, 0, v)) {
            fprintf(stderr, "%s\n", kgp_model_errmsg(m));
            return 1;
        }
        k++;
        el = now() - t0;
    } while (el < secs);
    double cpu = cpu_now() - c0;
    printf("%.2f %zu %.2f\n", (double)k * (double)n / el, tokens, (double)k * (double)n / cpu);
    if (out) {
        FILE *f = fopen(out, "wb");
        if (!f || fwrite(v, sizeof *v, n * C, f) != n * C || fclose(f)) { perror(out); return 1; }
    }
    for (size_t i = 0; i < n; i++) free(t[i]);
    free(t);
    free(v);
    kgp_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    /* as the kgpath command does: OpenBLAS kernels fit for this CPU */
    kge_blas_select_core();
    if (argc == 2 && strcmp(argv[1], "core") == 0) {
        const char *c = kge_blas_core();
        printf("%s\n", c ? c : "(not OpenBLAS)");
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "make") == 0) {
        kge_bert_config c = {30522, 384, 6, 12, 1536, 512, 2, 1e-12f};
        if (argc >= 9) {
            c.vocab_size = atoi(argv[3]); c.hidden = atoi(argv[4]); c.layers = atoi(argv[5]);
            c.heads = atoi(argv[6]); c.intermediate = atoi(argv[7]); c.max_positions = atoi(argv[8]);
        }
        return make(argv[2], c);
    }
    if (argc == 6 && strcmp(argv[1], "run") == 0)
        return run(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[5]));
    if (argc == 3 && strcmp(argv[1], "peak") == 0) return peak(atof(argv[2]));
    if (argc == 5 && strcmp(argv[1], "tokenize") == 0) return tokenize(argv[2], argv[3], argv[4]);
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "encode") == 0)
        return encode(argv[2], argv[3], atof(argv[4]), argc == 6 ? argv[5] : NULL);
    fprintf(stderr, "usage: encoder_bench make DIR [V C L NH I P] | run DIR T B SECONDS | peak SECONDS | core"
                    " | tokenize DIR TEXTS OUT | encode DIR TEXTS SECONDS [OUT]\n");
    return 1;
}
