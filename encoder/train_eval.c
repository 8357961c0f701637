/* Metrics and logistic regression for prerequisite evaluation
 * (contract in encoder/train_eval.h). */
#include "encoder/train_eval.h"

#include <math.h>
#include <stdlib.h>

void kge_prf_at(const double *s, const int *y, size_t n, double th, double *precision, double *recall, double *f1)
{
    double tp = 0, fp = 0, fn = 0;
    for (size_t i = 0; i < n; i++) {
        int pr = s[i] >= th;
        tp += pr && y[i];
        fp += pr && !y[i];
        fn += !pr && y[i];
    }
    double p = tp + fp > 0 ? tp / (tp + fp) : 0, r = tp + fn > 0 ? tp / (tp + fn) : 0;
    *precision = p;
    *recall = r;
    *f1 = p + r > 0 ? 2 * p * r / (p + r) : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int kge_roc_auc(const double *s, const int *y, size_t n, double *auc)
{
    double *v = malloc((n + 1) * sizeof *v), pos = 0, neg = 0, rsum = 0;
    if (!v) return -1;
    for (size_t i = 0; i < n; i++) {
        v[i] = s[i];
        if (y[i]) pos++; else neg++;
    }
    qsort(v, n, sizeof *v, cmp_double);
    for (size_t i = 0; i < n; i++) {
        if (!y[i]) continue;
        /* average 1-based rank of s[i] among all scores */
        size_t lo = 0, hi = n;
        while (lo < hi) { size_t m = (lo + hi) / 2; if (v[m] < s[i]) lo = m + 1; else hi = m; }
        size_t first = lo;
        hi = n;
        while (lo < hi) { size_t m = (lo + hi) / 2; if (v[m] <= s[i]) lo = m + 1; else hi = m; }
        rsum += ((double)first + 1 + (double)lo) / 2;
    }
    free(v);
    *auc = pos > 0 && neg > 0 ? (rsum - pos * (pos + 1) / 2) / (pos * neg) : NAN;
    return 0;
}

typedef struct scored { double s; int y; } scored;

static int by_score_desc(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    return x->s > y->s ? -1 : x->s < y->s;
}

int kge_best_f1_threshold(const double *s, const int *y, size_t n, double *threshold)
{
    scored *v = malloc((n + 1) * sizeof *v);
    if (!v) return -1;
    double pos = 0, tp = 0, fp = 0, bf = -1, best = 0.5;
    for (size_t i = 0; i < n; i++) { v[i] = (scored){s[i], y[i]}; pos += y[i] != 0; }
    qsort(v, n, sizeof *v, by_score_desc);
    for (size_t i = 0; i < n; i++) {
        tp += v[i].y != 0;
        fp += v[i].y == 0;
        if (i + 1 < n && v[i + 1].s == v[i].s) continue;   /* a threshold takes all ties */
        double p = tp / (tp + fp), r = pos > 0 ? tp / pos : 0, f = p + r > 0 ? 2 * p * r / (p + r) : 0;
        if (f > bf) { bf = f; best = v[i].s; }
    }
    free(v);
    *threshold = best;
    return 0;
}

int kge_logreg_fit_predict(const double *Xtr, const int *ytr, size_t ntr, const double *Xte, size_t nte, size_t F,
                           double *str, double *ste)
{
    if (F == 0 || F > 8) return -1;
    double mu[8] = {0}, sd[8] = {0}, w[9] = {0};
    for (size_t f = 0; f < F; f++) {
        for (size_t i = 0; i < ntr; i++) mu[f] += Xtr[i * F + f] / (double)ntr;
        for (size_t i = 0; i < ntr; i++) sd[f] += pow(Xtr[i * F + f] - mu[f], 2) / (double)ntr;
        sd[f] = sd[f] > 1e-12 ? sqrt(sd[f]) : 1;
    }
    double npos = 0;
    for (size_t i = 0; i < ntr; i++) npos += ytr[i] != 0;
    double wpos = npos > 0 ? ((double)ntr - npos) / npos : 1;   /* balanced classes */
    for (int it = 0; ntr && it < 2000; it++) {
        double g[9] = {0};
        for (size_t i = 0; i < ntr; i++) {
            double z = w[F];
            for (size_t f = 0; f < F; f++) z += w[f] * (Xtr[i * F + f] - mu[f]) / sd[f];
            double p = 1 / (1 + exp(-z)), c = (p - (ytr[i] != 0)) * (ytr[i] ? wpos : 1);
            for (size_t f = 0; f < F; f++) g[f] += c * (Xtr[i * F + f] - mu[f]) / sd[f];
            g[F] += c;
        }
        for (size_t f = 0; f <= F; f++) w[f] -= 0.5 * (g[f] / (double)ntr + (f < F ? 1e-3 * w[f] : 0));
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
    return 0;
}
