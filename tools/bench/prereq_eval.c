/* Prerequisite prediction on RefD (Liang et al., EMNLP 2015), 5-fold
 * cross-validation: kgpath's link model (BERT + graph attention + pair
 * decoder, trained in C) against baselines computed in the same run on the
 * same folds: text-only cosine similarity of the starting encoder, graph
 * heuristics on the training edges (Adamic–Adar, common neighbours,
 * in-degree of the candidate prerequisite) and a logistic regression over
 * all of them. Precision, recall, F1 (threshold chosen for the best F1 on
 * the fold's training pairs, for every method alike) and ROC-AUC per fold
 * and mean ± sd.
 *
 * usage: prereq_eval --model DIR --data ../shared/datasets/refd/Course/CS
 *                    [--folds 5] [--steps 150] [--mode head|lora|full] [--seed 1]
 *        (reads DATA.edges and DATA.edges_neg: "A<TAB>B" = B is a prerequisite of A)
 *        prereq_eval --model DIR --lb2 ../shared/datasets/lecturebank/LB-Paper/LectureBank2/data
 *                    [--definitions ../shared/datasets/lecturebank/derived/lb2_….jsonl] [--tokens 64]
 *        (LectureBank 2.0, its five published folds; topic names, plus the
 *        LLM-written definitions as text when given)
 *        prereq_eval --model DIR --metacademy ../shared/datasets/metacademy [--tokens 64]
 *        (20% of the edges held out, five seeds; titles and summaries as text)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "encoder/bert.h"
#include "encoder/kernels.h"
#include "encoder/tokenizer.h"
#include "encoder/train_link.h"
#include "encoder/train_rng.h"

typedef struct pair { uint32_t pre, con; int label, fold; } pair;

static char **names;
static size_t nnames, capnames;

static uint32_t intern(const char *s)
{
    for (size_t i = 0; i < nnames; i++)
        if (!strcmp(names[i], s)) return (uint32_t)i;
    if (nnames == capnames) {
        capnames = capnames ? 2 * capnames : 256;
        names = realloc(names, capnames * sizeof *names);
    }
    names[nnames] = strdup(s);
    return (uint32_t)nnames++;
}

static size_t read_pairs(const char *path, int label, pair **ps, size_t n, size_t *cap)
{
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(2); }
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = 0;
        if (n == *cap) { *cap = *cap ? 2 * *cap : 512; *ps = realloc(*ps, *cap * sizeof **ps); }
        /* "A<TAB>B": B is a prerequisite of A */
        (*ps)[n++] = (pair){intern(tab + 1), intern(line), label, 0};
    }
    fclose(f);
    return n;
}

typedef struct metrics { double p, r, f1, auc; } metrics;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ROC-AUC by ranks (Mann–Whitney, ties averaged). O(n log n). */
static double auc_of(const double *s, const int *y, size_t n)
{
    double *v = malloc((n + 1) * sizeof *v), pos = 0, neg = 0, rsum = 0;
    for (size_t i = 0; i < n; i++) { v[i] = s[i]; if (y[i]) pos++; else neg++; }
    qsort(v, n, sizeof *v, cmp_double);
    for (size_t i = 0; i < n; i++) {
        if (!y[i]) continue;
        /* average rank of s[i] among all scores (1-based) */
        size_t lo = 0, hi = n;
        while (lo < hi) { size_t m = (lo + hi) / 2; if (v[m] < s[i]) lo = m + 1; else hi = m; }
        size_t first = lo;
        hi = n;
        while (lo < hi) { size_t m = (lo + hi) / 2; if (v[m] <= s[i]) lo = m + 1; else hi = m; }
        rsum += ((double)first + 1 + (double)lo) / 2;
    }
    free(v);
    return pos && neg ? (rsum - pos * (pos + 1) / 2) / (pos * neg) : NAN;
}

static metrics at_threshold(const double *s, const int *y, size_t n, double th)
{
    double tp = 0, fp = 0, fn = 0;
    for (size_t i = 0; i < n; i++) {
        int pr = s[i] >= th;
        tp += pr && y[i];
        fp += pr && !y[i];
        fn += !pr && y[i];
    }
    metrics m = {tp + fp ? tp / (tp + fp) : 0, tp + fn ? tp / (tp + fn) : 0, 0, auc_of(s, y, n)};
    m.f1 = m.p + m.r ? 2 * m.p * m.r / (m.p + m.r) : 0;
    return m;
}

typedef struct scored { double s; int y; } scored;

static int by_score_desc(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    return x->s > y->s ? -1 : x->s < y->s;
}

/* The threshold with the best F1 on (s, y): one sweep over the sorted scores. */
static double best_threshold(const double *s, const int *y, size_t n)
{
    scored *v = malloc((n + 1) * sizeof *v);
    double pos = 0, tp = 0, fp = 0, bf = -1, best = 0.5;
    for (size_t i = 0; i < n; i++) { v[i] = (scored){s[i], y[i]}; pos += y[i]; }
    qsort(v, n, sizeof *v, by_score_desc);
    for (size_t i = 0; i < n; i++) {
        tp += v[i].y;
        fp += !v[i].y;
        if (i + 1 < n && v[i + 1].s == v[i].s) continue;   /* a threshold takes all ties */
        double p = tp / (tp + fp), r = pos ? tp / pos : 0, f = p + r ? 2 * p * r / (p + r) : 0;
        if (f > bf) { bf = f; best = v[i].s; }
    }
    free(v);
    return best;
}

/* Scores of train and test pairs for one method → test metrics. */
static metrics evaluate(const double *str, const int *ytr, size_t ntr, const double *ste, const int *yte, size_t nte)
{
    return at_threshold(ste, yte, nte, best_threshold(str, ytr, ntr));
}

/* Logistic regression (standardised features, L2 1e-3, full-batch gradient descent). */
static void logreg(const double *Xtr, const int *ytr, size_t ntr, const double *Xte, size_t nte, size_t F,
                   double *str, double *ste)
{
    double mu[8] = {0}, sd[8] = {0}, w[9] = {0};
    for (size_t f = 0; f < F; f++) {
        for (size_t i = 0; i < ntr; i++) mu[f] += Xtr[i * F + f] / ntr;
        for (size_t i = 0; i < ntr; i++) sd[f] += pow(Xtr[i * F + f] - mu[f], 2) / ntr;
        sd[f] = sd[f] > 1e-12 ? sqrt(sd[f]) : 1;
    }
    double npos = 0;
    for (size_t i = 0; i < ntr; i++) npos += ytr[i];
    double wpos = npos ? (ntr - npos) / npos : 1;   /* balanced classes */
    for (int it = 0; it < 2000; it++) {
        double g[9] = {0};
        for (size_t i = 0; i < ntr; i++) {
            double z = w[F];
            for (size_t f = 0; f < F; f++) z += w[f] * (Xtr[i * F + f] - mu[f]) / sd[f];
            double p = 1 / (1 + exp(-z)), c = (p - ytr[i]) * (ytr[i] ? wpos : 1);
            for (size_t f = 0; f < F; f++) g[f] += c * (Xtr[i * F + f] - mu[f]) / sd[f];
            g[F] += c;
        }
        for (size_t f = 0; f <= F; f++) w[f] -= 0.5 * (g[f] / ntr + (f < F ? 1e-3 * w[f] : 0));
    }
    for (int pass = 0; pass < 2; pass++) {
        const double *X = pass ? Xte : Xtr;
        double *out = pass ? ste : str;
        size_t n = pass ? nte : ntr;
        for (size_t i = 0; i < n; i++) {
            double z = w[F];
            for (size_t f = 0; f < F; f++) z += w[f] * (X[i * F + f] - mu[f]) / sd[f];
            out[i] = 1 / (1 + exp(-z));
        }
    }
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

enum { M_KGPATH, M_COS, M_AA, M_CN, M_INDEG, M_LR, NM };
static const char *mname[NM] = {"kgpath", "text cosine", "Adamic-Adar", "common neighbours", "in-degree of prereq",
                                "logistic regression"};

/* LectureBank 2.0: topics "id|name" (1-based), optional LLM definitions
 * (jsonl with topic_id, generated_definition) appended to the names, and
 * the published folds split/{train,test}_edges_{positive,negative}_F.txt
 * with "a,b" (0-based ids) = a is a prerequisite of b. */
static char **texts;   /* per concept: the text to encode (names[i] unless definitions) */

static void load_lb2(const char *dir, const char *defs, int folds, pair **tr, size_t *ntr, pair **te, size_t *nte)
{
    char path[1024], line[8192];
    snprintf(path, sizeof path, "%s/322topics_final.tsv", dir);
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(2); }
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *bar = strchr(line, '|');
        if (!bar) continue;
        long id = strtol(line, NULL, 10);
        if (id != (long)nnames + 1) { fprintf(stderr, "%s: ids are not 1..n in order at %ld\n", path, id); exit(2); }
        char key[64];
        snprintf(key, sizeof key, "#%ld %s", id, bar + 1);   /* ids keep duplicate names apart */
        intern(key);
    }
    fclose(f);
    texts = calloc(nnames, sizeof *texts);
    for (size_t i = 0; i < nnames; i++) texts[i] = strdup(strchr(names[i], ' ') + 1);
    if (defs) {
        f = fopen(defs, "r");
        if (!f) { perror(defs); exit(2); }
        static char big[1 << 16];
        while (fgets(big, sizeof big, f)) {
            json_error_t je;
            json_t *j = json_loads(big, 0, &je);
            json_int_t id = json_integer_value(json_object_get(j, "topic_id"));
            const char *d = json_string_value(json_object_get(j, "generated_definition"));
            if (j && d && id >= 1 && (size_t)id <= nnames) {
                size_t l = strlen(texts[id - 1]) + strlen(d) + 3;
                char *t = malloc(l);
                snprintf(t, l, "%s. %s", texts[id - 1], d);
                free(texts[id - 1]);
                texts[id - 1] = t;
            }
            json_decref(j);
        }
        fclose(f);
    }
    for (int fo = 0; fo < folds; fo++)
        for (int part = 0; part < 4; part++) {
            int test = part >= 2, pos = part % 2 == 0;
            snprintf(path, sizeof path, "%s/split/%s_edges_%s_%d.txt", dir, test ? "test" : "train",
                     pos ? "positive" : "negative", fo);
            f = fopen(path, "r");
            if (!f) { perror(path); exit(2); }
            pair **dst = test ? &te[fo] : &tr[fo];
            size_t *cnt = test ? &nte[fo] : &ntr[fo];
            while (fgets(line, sizeof line, f)) {
                long x, y;
                if (sscanf(line, "%ld,%ld", &x, &y) != 2 || x < 0 || y < 0 || (size_t)x >= nnames || (size_t)y >= nnames)
                    continue;
                *dst = realloc(*dst, (*cnt + 1) * sizeof **dst);
                (*dst)[(*cnt)++] = (pair){(uint32_t)x, (uint32_t)y, pos, fo};
            }
            fclose(f);
        }
}

/* Metacademy: concepts.jsonl (id, title, summary) and edges.tsv
 * (prereq_id, concept_id, ...). Per seed f: 20% of the edges held out as
 * test positives with as many random non-edges (either direction) as test
 * negatives; the rest are training positives, with five times as many
 * random non-edges as training negatives. */
static void load_metacademy(const char *dir, int folds, uint64_t seed, pair **tr, size_t *ntr, pair **te, size_t *nte)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/concepts.jsonl", dir);
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); exit(2); }
    static char big[1 << 17];
    size_t cap = 0;
    while (fgets(big, sizeof big, f)) {
        json_error_t je;
        json_t *j = json_loads(big, 0, &je);
        const char *id = json_string_value(json_object_get(j, "id")), *title = json_string_value(json_object_get(j, "title")),
                   *sum = json_string_value(json_object_get(j, "summary"));
        if (id && title) {
            size_t k = intern(id);
            if (k >= cap) { cap = 2 * k + 16; texts = realloc(texts, cap * sizeof *texts); }
            size_t l = strlen(title) + (sum ? strlen(sum) : 0) + 3;
            texts[k] = malloc(l);
            snprintf(texts[k], l, "%s. %s", title, sum ? sum : "");
        }
        json_decref(j);
    }
    fclose(f);
    size_t n = nnames;
    snprintf(path, sizeof path, "%s/edges.tsv", dir);
    f = fopen(path, "r");
    if (!f) { perror(path); exit(2); }
    pair *ed = NULL;
    size_t ne = 0;
    uint8_t *adj = calloc(n * n, 1);
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char *a = strtok(line, "\t\r\n"), *b = strtok(NULL, "\t\r\n");
        if (!a || !b || !strcmp(a, "prereq_id")) continue;
        size_t before = nnames;
        uint32_t x = intern(a), y = intern(b);
        if (nnames != before || x == y || adj[(size_t)x * n + y]) { nnames = before; continue; }   /* unknown ids, loops, repeats */
        adj[(size_t)x * n + y] = 1;
        ed = realloc(ed, (ne + 1) * sizeof *ed);
        ed[ne++] = (pair){x, y, 1, 0};
    }
    fclose(f);
    for (int fo = 0; fo < folds; fo++) {
        kge_rng r;
        kge_rng_seed(&r, seed * 1000 + (uint64_t)fo);
        for (size_t i = ne; i > 1; i--) { size_t j = kge_rng_below(&r, i); pair t = ed[i - 1]; ed[i - 1] = ed[j]; ed[j] = t; }
        size_t nt = ne / 5, nneg_tr = 5 * (ne - nt);
        tr[fo] = malloc((ne - nt + nneg_tr) * sizeof **tr);
        te[fo] = malloc(2 * nt * sizeof **te);
        uint8_t *used = calloc(n * n, 1);
        for (size_t i = 0; i < ne; i++) {
            if (i < nt) te[fo][nte[fo]++] = ed[i];
            else tr[fo][ntr[fo]++] = ed[i];
        }
        for (size_t k = 0; k < nt + nneg_tr;) {
            uint32_t x = (uint32_t)kge_rng_below(&r, n), y = (uint32_t)kge_rng_below(&r, n);
            if (x == y || adj[(size_t)x * n + y] || adj[(size_t)y * n + x] || used[(size_t)x * n + y]) continue;
            used[(size_t)x * n + y] = 1;
            if (k < nt) te[fo][nte[fo]++] = (pair){x, y, 0, fo};
            else tr[fo][ntr[fo]++] = (pair){x, y, 0, fo};
            k++;
        }
        free(used);
    }
    free(ed);
    free(adj);
}

int main(int argc, char **argv)
{
    const char *model = NULL, *data = NULL, *lb2 = NULL, *meta = NULL, *defs = NULL, *mode = "head";
    int folds = 5, steps = 150, T = 16;
    uint64_t seed = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--model")) model = argv[i + 1];
        else if (!strcmp(argv[i], "--data")) data = argv[i + 1];
        else if (!strcmp(argv[i], "--lb2")) lb2 = argv[i + 1];
        else if (!strcmp(argv[i], "--metacademy")) meta = argv[i + 1];
        else if (!strcmp(argv[i], "--definitions")) defs = argv[i + 1];
        else if (!strcmp(argv[i], "--folds")) folds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--tokens")) T = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--mode")) mode = argv[i + 1];
        else if (!strcmp(argv[i], "--seed")) seed = strtoull(argv[i + 1], NULL, 10);
    }
    if (!model || (!!data + !!lb2 + !!meta) != 1 || folds < 2 || folds > 16 || T < 3) {
        fprintf(stderr, "usage: prereq_eval --model DIR (--data REFD_PREFIX | --lb2 LB2_DATA_DIR [--definitions JSONL]\n"
                        "                   | --metacademy DIR)\n"
                        "                   [--folds 5] [--steps 150] [--tokens 16] [--mode head|lora|full] [--seed 1]\n");
        return 1;
    }
    pair *tr[16] = {0}, *te[16] = {0};
    size_t ntr[16] = {0}, nte[16] = {0}, np = 0, npos = 0;
    if (data) {
        char path[1024];
        pair *ps = NULL;
        size_t cap = 0;
        snprintf(path, sizeof path, "%s.edges", data);
        np = read_pairs(path, 1, &ps, np, &cap);
        snprintf(path, sizeof path, "%s.edges_neg", data);
        np = read_pairs(path, 0, &ps, np, &cap);
        texts = names;
        /* stratified folds */
        kge_rng r;
        kge_rng_seed(&r, seed);
        for (int lab = 0; lab < 2; lab++) {
            size_t k = 0, *idx = malloc(np * sizeof *idx);
            for (size_t i = 0; i < np; i++) if (ps[i].label == lab) idx[k++] = i;
            for (size_t i = k; i > 1; i--) { size_t j = kge_rng_below(&r, i); size_t t = idx[i - 1]; idx[i - 1] = idx[j]; idx[j] = t; }
            for (size_t i = 0; i < k; i++) ps[idx[i]].fold = (int)(i % (size_t)folds);
            free(idx);
        }
        for (int f = 0; f < folds; f++) {
            tr[f] = malloc(np * sizeof *tr[f]);
            te[f] = malloc(np * sizeof *te[f]);
            for (size_t i = 0; i < np; i++) {
                if (ps[i].fold == f) te[f][nte[f]++] = ps[i];
                else tr[f][ntr[f]++] = ps[i];
            }
        }
        for (size_t i = 0; i < np; i++) npos += ps[i].label;
        free(ps);
    } else if (meta) {
        load_metacademy(meta, folds, seed, tr, ntr, te, nte);
        np = ntr[0] + nte[0];
        for (size_t i = 0; i < ntr[0]; i++) npos += tr[0][i].label;
        for (size_t i = 0; i < nte[0]; i++) npos += te[0][i].label;
    } else {
        load_lb2(lb2, defs, folds, tr, ntr, te, nte);
        np = ntr[0] + nte[0];
        for (size_t i = 0; i < ntr[0]; i++) npos += tr[0][i].label;
        for (size_t i = 0; i < nte[0]; i++) npos += te[0][i].label;
    }
    size_t n = nnames;
    kge_err e = {0};
    kge_bert *base = NULL;
    if (kge_bert_load(model, &base, &e)) { fprintf(stderr, "%s\n", e.msg); return 2; }
    if (T > base->max_seq) T = base->max_seq;
    /* token ids of every concept text, padded */
    int32_t *ids = calloc(n * (size_t)T, sizeof *ids);
    uint8_t *mask = calloc(n * (size_t)T, 1);
    kge_ids tk = {0};
    for (size_t i = 0; i < n; i++) {
        if (kge_encode(&base->tok, texts[i], NULL, (size_t)T, &tk, NULL, &e)) { fprintf(stderr, "%s\n", e.msg); return 2; }
        for (size_t k = 0; k < tk.n; k++) { ids[i * T + k] = tk.v[k]; mask[i * T + k] = 1; }
    }
    kge_ids_free(&tk);
    /* text baseline: mean-pooled, normalised embeddings of the starting encoder */
    size_t C = (size_t)base->cfg.hidden;
    float *emb = malloc(n * C * sizeof *emb);
    kge_bert_acts acts = {0};
    if (kge_bert_forward(base, &acts, ids, NULL, mask, (int)n, T, 0, &e)) { fprintf(stderr, "%s\n", e.msg); return 2; }
    kge_mean_pool_forward(emb, acts.hidden, mask, n, (size_t)T, C);
    kge_l2_normalize(emb, n, C);
    kge_bert_acts_free(&acts);
    printf("dataset %s: %zu concepts, %zu pairs in fold 0 (%zu positive); model %s, mode %s, %d steps, %d folds, "
           "%d tokens\n\n", data ? data : lb2 ? lb2 : meta, n, np, npos, model, mode, steps, folds, T);
    metrics all[16][NM];
    double train_secs = 0;
    for (int f = 0; f < folds; f++) {
        size_t nA = ntr[f], nB = nte[f];
        /* training edges: the fold's training positives */
        uint32_t *src = malloc((nA + 1) * sizeof *src), *dst = malloc((nA + 1) * sizeof *dst);
        size_t E = 0;
        for (size_t i = 0; i < nA; i++)
            if (tr[f][i].label) { src[E] = tr[f][i].pre; dst[E++] = tr[f][i].con; }
        /* graph features on training edges (undirected neighbourhoods) */
        uint8_t *adj = calloc(n * n, 1);
        double *deg = calloc(n, sizeof *deg), *indeg = calloc(n, sizeof *indeg);
        for (size_t k = 0; k < E; k++) {
            if (!adj[src[k] * n + dst[k]]) { deg[src[k]]++; deg[dst[k]]++; }
            adj[src[k] * n + dst[k]] = adj[dst[k] * n + src[k]] = 1;
            indeg[src[k]]++;   /* how often a concept is a prerequisite */
        }
        double *s[2][NM], *X[2];
        int *y[2];
        for (int t = 0; t < 2; t++) {
            size_t m = t ? nB : nA;
            const pair *P = t ? te[f] : tr[f];
            for (int k = 0; k < NM; k++) s[t][k] = calloc(m + 1, sizeof(double));
            X[t] = calloc(4 * m + 1, sizeof(double));
            y[t] = calloc(m + 1, sizeof(int));
            for (size_t q = 0; q < m; q++) {
                uint32_t a = P[q].pre, b = P[q].con;
                double cs = 0, aa = 0, cn = 0;
                for (size_t c = 0; c < C; c++) cs += (double)emb[a * C + c] * emb[b * C + c];
                for (size_t z = 0; z < n; z++)
                    if (adj[a * n + z] && adj[b * n + z]) { cn++; aa += deg[z] > 1 ? 1 / log(deg[z]) : 0; }
                /* a training pair's own edge is not evidence for itself */
                double id = indeg[a] - (t == 0 && P[q].label ? 1 : 0);
                s[t][M_COS][q] = cs;
                s[t][M_AA][q] = aa;
                s[t][M_CN][q] = cn;
                s[t][M_INDEG][q] = id;
                X[t][q * 4 + 0] = cs; X[t][q * 4 + 1] = aa; X[t][q * 4 + 2] = cn; X[t][q * 4 + 3] = id;
                y[t][q] = P[q].label;
            }
        }
        logreg(X[0], y[0], nA, X[1], nB, 4, s[0][M_LR], s[1][M_LR]);
        /* kgpath: a fresh copy of the encoder, trained on this fold's edges */
        kge_bert *bert = NULL;
        if (kge_bert_load(model, &bert, &e)) { fprintf(stderr, "%s\n", e.msg); return 2; }
        kge_link_opts o;
        kge_link_opts_default(&o);
        o.mode = !strcmp(mode, "full") ? KGE_TRAIN_FULL : !strcmp(mode, "lora") ? KGE_TRAIN_LORA : KGE_TRAIN_HEAD;
        o.steps = steps;
        o.warmup = steps / 10;
        o.lr = o.mode == KGE_TRAIN_LORA ? 1e-3f : 5e-5f;
        o.head_lr = 2e-3f;
        o.gat_heads = (int)(C % 4 == 0 ? 4 : 1);
        o.mlp_hidden = 64;
        o.enc_batch = 64;
        o.seed = seed + (uint64_t)f;
        kge_link_model *lm = NULL;
        if (kge_link_new(bert, &o, &lm, &e)) { fprintf(stderr, "%s\n", e.msg); return 2; }
        kge_link_data d = {n, T, ids, mask, E, src, dst};
        double t0 = now();
        if (kge_link_train(lm, &d, steps, NULL, NULL, &e)) { fprintf(stderr, "%s\n", e.msg); return 2; }
        train_secs += now() - t0;
        for (int t = 0; t < 2; t++) {
            size_t m = t ? nB : nA;
            const pair *P = t ? te[f] : tr[f];
            uint32_t *pp = malloc((2 * m + 1) * sizeof *pp);
            float *pr = malloc((m + 1) * sizeof *pr);
            for (size_t q = 0; q < m; q++) { pp[2 * q] = P[q].pre; pp[2 * q + 1] = P[q].con; }
            if (kge_link_score(lm, &d, pp, m, pr, &e)) { fprintf(stderr, "%s\n", e.msg); return 2; }
            /* training positives are scored without their own edges in the graph,
             * as test positives are: groups of 16 leave the graph together */
            if (t == 0) {
                uint32_t *s2 = malloc((E + 1) * sizeof *s2), *d2 = malloc((E + 1) * sizeof *d2), grp[2 * 16];
                size_t gidx[16], ng = 0;
                for (size_t q = 0; q <= m; q++) {
                    if (q < m && y[0][q]) { gidx[ng] = q; grp[2 * ng] = pp[2 * q]; grp[2 * ng + 1] = pp[2 * q + 1]; ng++; }
                    if (ng == 16 || (q == m && ng)) {
                        size_t E2 = 0;
                        for (size_t k = 0; k < E; k++) {
                            int out = 0;
                            for (size_t g = 0; g < ng; g++) out |= src[k] == grp[2 * g] && dst[k] == grp[2 * g + 1];
                            if (!out) { s2[E2] = src[k]; d2[E2++] = dst[k]; }
                        }
                        kge_link_data d1 = {n, T, ids, mask, E2, s2, d2};
                        float gp[16];
                        if (kge_link_score(lm, &d1, grp, ng, gp, &e)) { fprintf(stderr, "%s\n", e.msg); return 2; }
                        for (size_t g = 0; g < ng; g++) pr[gidx[g]] = gp[g];
                        ng = 0;
                    }
                }
                free(s2);
                free(d2);
            }
            for (size_t k = 0; k < m; k++) s[t][M_KGPATH][k] = pr[k];
            free(pp);
            free(pr);
        }
        kge_link_free(lm);
        for (int k = 0; k < NM; k++) all[f][k] = evaluate(s[0][k], y[0], nA, s[1][k], y[1], nB);
        printf("fold %d (%zu train / %zu test pairs)\n", f, nA, nB);
        for (int k = 0; k < NM; k++)
            printf("  %-22s P %.3f  R %.3f  F1 %.3f  AUC %.3f\n", mname[k], all[f][k].p, all[f][k].r, all[f][k].f1,
                   all[f][k].auc);
        fflush(stdout);
        for (int t = 0; t < 2; t++) {
            for (int k = 0; k < NM; k++) free(s[t][k]);
            free(X[t]);
            free(y[t]);
        }
        free(adj); free(deg); free(indeg); free(src); free(dst);
    }
    printf("\n| method | precision | recall | F1 | ROC-AUC |\n|---|---|---|---|---|\n");
    for (int k = 0; k < NM; k++) {
        double mean[4] = {0}, sd[4] = {0};
        for (int f = 0; f < folds; f++) {
            double v[4] = {all[f][k].p, all[f][k].r, all[f][k].f1, all[f][k].auc};
            for (int j = 0; j < 4; j++) mean[j] += v[j] / folds;
        }
        for (int f = 0; f < folds; f++) {
            double v[4] = {all[f][k].p, all[f][k].r, all[f][k].f1, all[f][k].auc};
            for (int j = 0; j < 4; j++) sd[j] += pow(v[j] - mean[j], 2) / (folds - 1);
        }
        printf("| %s | %.3f ± %.3f | %.3f ± %.3f | %.3f ± %.3f | %.3f ± %.3f |\n", mname[k], mean[0], sqrt(sd[0]),
               mean[1], sqrt(sd[1]), mean[2], sqrt(sd[2]), mean[3], sqrt(sd[3]));
    }
    printf("\nkgpath training: %.1f s in all (%.1f s per fold)\n", train_secs, train_secs / folds);
    kge_bert_free(base);
    if (texts != names) {
        for (size_t i = 0; i < nnames; i++) free(texts[i]);
        free(texts);
    }
    for (size_t i = 0; i < nnames; i++) free(names[i]);
    free(names);
    for (int f = 0; f < folds; f++) { free(tr[f]); free(te[f]); }
    free(ids);
    free(mask);
    free(emb);
    return 0;
}
