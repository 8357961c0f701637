/* Metrics and logistic regression for prerequisite evaluation
 * (contract in encoder/train_eval.h). */
#include "encoder/train_eval.h"

#include "encoder/graph_csr.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

enum { LR_D = KGE_LOGREG_MAX_F + 1 };   /* weights and the bias */

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

/* The regularised, class-weighted mean log-loss of w (see below); fills
 * z[i] = w.x_i + b when z is not NULL. log(1 + e^-|z|) form: no overflow. */
static double logreg_loss(const double *X, const int *y, size_t n, size_t F, const double *mu, const double *sd,
                          double wpos, double lambda, const double *w, double *z)
{
    double L = 0;
    for (size_t i = 0; i < n; i++) {
        double v = w[F];
        for (size_t f = 0; f < F; f++) v += w[f] * (X[i * F + f] - mu[f]) / sd[f];
        if (z) z[i] = v;
        double m = y[i] ? -v : v;   /* loss = log(1 + e^m) */
        L += (y[i] ? wpos : 1) * (m > 0 ? m + log1p(exp(-m)) : log1p(exp(m)));
    }
    L = n ? L / (double)n : 0;
    for (size_t f = 0; f < F; f++) L += 0.5 * lambda * w[f] * w[f];
    return L;
}

/* Solves H x = g for a symmetric positive definite D x D (D <= LR_D) by
 * Cholesky; -1 when H is not positive definite. */
static int solve_spd(double H[LR_D][LR_D], const double *g, double *x, size_t D)
{
    double Lc[LR_D][LR_D] = {{0}}, y[LR_D];
    for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j <= i; j++) {
            double s = H[i][j];
            for (size_t k = 0; k < j; k++) s -= Lc[i][k] * Lc[j][k];
            if (i == j) {
                if (!(s > 0)) return -1;
                Lc[i][i] = sqrt(s);
            } else {
                Lc[i][j] = s / Lc[j][j];
            }
        }
    for (size_t i = 0; i < D; i++) {
        double s = g[i];
        for (size_t k = 0; k < i; k++) s -= Lc[i][k] * y[k];
        y[i] = s / Lc[i][i];
    }
    for (size_t i = D; i-- > 0;) {
        double s = y[i];
        for (size_t k = i + 1; k < D; k++) s -= Lc[k][i] * x[k];
        x[i] = s / Lc[i][i];
    }
    return 0;
}

/* The fit of kge_logreg_fit_predict: weights w[0 .. F) of the standardised
 * features and the bias w[F], with the means and deviations used. */
static int logreg_fit_std(const double *Xtr, const int *ytr, size_t ntr, size_t F, double lambda, double *mu,
                          double *sd, double *w)
{
    for (size_t f = 0; f < F; f++) {
        for (size_t i = 0; i < ntr; i++) mu[f] += Xtr[i * F + f] / (double)ntr;
        for (size_t i = 0; i < ntr; i++) sd[f] += pow(Xtr[i * F + f] - mu[f], 2) / (double)ntr;
        sd[f] = sd[f] > 1e-12 ? sqrt(sd[f]) : 1;
    }
    double npos = 0;
    for (size_t i = 0; i < ntr; i++) npos += ytr[i] != 0;
    double wpos = npos > 0 ? ((double)ntr - npos) / npos : 1;   /* balanced classes */
    /* Newton's method on the convex objective
     *   L(w) = (1/n) sum_i c_i logloss(y_i, sigma(w.x_i + b)) + (lambda/2) |w|^2
     * (c_i = wpos for positives, 1 for negatives; the bias is not penalised):
     * a (F+1)^2 system per iteration, converged to round-off in tens of
     * iterations where plain gradient descent needed thousands of passes.
     * Steps are halved while L does not decrease, so it never diverges. */
    size_t D = F + 1;
    double *z = ntr ? malloc(ntr * sizeof *z) : NULL;
    if (ntr && !z) return -2;
    double loss = logreg_loss(Xtr, ytr, ntr, F, mu, sd, wpos, lambda, w, z);
    for (int it = 0; ntr && it < 100; it++) {
        double g[LR_D] = {0}, H[LR_D][LR_D] = {{0}};
        for (size_t i = 0; i < ntr; i++) {
            double x[LR_D];
            for (size_t f = 0; f < F; f++) x[f] = (Xtr[i * F + f] - mu[f]) / sd[f];
            x[F] = 1;
            double p = 1 / (1 + exp(-z[i])), c = ytr[i] ? wpos : 1, r = c * (p - (ytr[i] != 0)), h = c * p * (1 - p);
            for (size_t a = 0; a < D; a++) {
                g[a] += r * x[a];
                for (size_t b = 0; b <= a; b++) H[a][b] += h * x[a] * x[b];
            }
        }
        for (size_t a = 0; a < D; a++) {
            g[a] = g[a] / (double)ntr + (a < F ? lambda * w[a] : 0);
            for (size_t b = 0; b <= a; b++) H[b][a] = H[a][b] = H[a][b] / (double)ntr + (a == b && a < F ? lambda : 0);
        }
        H[F][F] += 1e-12;   /* a constant feature set leaves only the bias: keep H definite */
        double step[LR_D];
        if (solve_spd(H, g, step, D)) break;
        double t = 1, wn[LR_D], ln = loss;
        for (int half = 0; half < 30; half++, t /= 2) {
            for (size_t a = 0; a < D; a++) wn[a] = w[a] - t * step[a];
            ln = logreg_loss(Xtr, ytr, ntr, F, mu, sd, wpos, lambda, wn, NULL);
            if (ln <= loss) break;
        }
        if (!(ln <= loss)) break;
        double dmax = 0;
        for (size_t a = 0; a < D; a++) {
            dmax = fmax(dmax, fabs(wn[a] - w[a]));
            w[a] = wn[a];
        }
        loss = logreg_loss(Xtr, ytr, ntr, F, mu, sd, wpos, lambda, w, z);
        if (dmax < 1e-10) break;
    }
    free(z);
    return 0;
}

int kge_logreg_fit(const double *X, const int *y, size_t n, size_t F, double *w)
{
    if (F == 0 || F > KGE_LOGREG_MAX_F) return -1;
    double mu[KGE_LOGREG_MAX_F] = {0}, sd[KGE_LOGREG_MAX_F] = {0}, ws[LR_D] = {0};
    if (logreg_fit_std(X, y, n, F, KGE_LOGREG_LAMBDA, mu, sd, ws)) return -2;
    w[F] = ws[F];
    for (size_t f = 0; f < F; f++) {
        w[f] = ws[f] / sd[f];
        w[F] -= ws[f] * mu[f] / sd[f];
    }
    return 0;
}

/* out[i] = P(y = 1) of the rows X (n x F) under the standardised fit
 * (mu, sd, w) of logreg_fit_std. */
static void logreg_predict_std(const double *X, size_t n, size_t F, const double *mu, const double *sd,
                               const double *w, double *out)
{
    for (size_t i = 0; i < n; i++) {
        double z = w[F];
        for (size_t f = 0; f < F; f++) z += w[f] * (X[i * F + f] - mu[f]) / sd[f];
        out[i] = 1 / (1 + exp(-z));
    }
}

int kge_logreg_fit_predict(const double *Xtr, const int *ytr, size_t ntr, const double *Xte, size_t nte, size_t F,
                           double lambda, double *str, double *ste)
{
    if (F == 0 || F > KGE_LOGREG_MAX_F || !(lambda >= 0)) return -1;
    double mu[KGE_LOGREG_MAX_F] = {0}, sd[KGE_LOGREG_MAX_F] = {0}, w[LR_D] = {0};
    if (logreg_fit_std(Xtr, ytr, ntr, F, lambda, mu, sd, w)) return -2;
    logreg_predict_std(Xtr, ntr, F, mu, sd, w, str);
    logreg_predict_std(Xte, nte, F, mu, sd, w, ste);
    return 0;
}

/* The weighted cross-entropy of (A, B) against targets t (libsvm's
 * fval, log(1 + e^z) on the stable branch by the sign of z). */
static double platt_loss(const double *s, const double *t, const double *w, size_t n, double A, double B)
{
    double f = 0;
    for (size_t i = 0; i < n; i++) {
        double z = s[i] * A + B;
        f += w[i] * (z >= 0 ? t[i] * z + log1p(exp(-z)) : (t[i] - 1) * z + log1p(exp(z)));
    }
    return f;
}

int kge_platt_fit(const double *s, const int *y, size_t n, int balanced, double *A, double *B)
{
    if (!n) return -1;
    double np = 0, nn = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i]) np += 1;
        else nn += 1;
    }
    double *t = malloc(2 * n * sizeof *t);
    if (!t) return -1;
    double *w = t + n, hi = (np + 1) / (np + 2), lo = 1 / (nn + 2);
    for (size_t i = 0; i < n; i++) {
        t[i] = y[i] ? hi : lo;
        w[i] = !balanced ? 1.0 : y[i] ? (np ? (double)n / (2 * np) : 0) : (nn ? (double)n / (2 * nn) : 0);
    }
    double a = 0, b = balanced ? 0 : log((nn + 1) / (np + 1)), f = platt_loss(s, t, w, n, a, b);
    for (int it = 0; it < 100; it++) {
        double h11 = 1e-12, h22 = 1e-12, h21 = 0, g1 = 0, g2 = 0;
        for (size_t i = 0; i < n; i++) {
            double z = s[i] * a + b, p, q;
            if (z >= 0) { p = exp(-z) / (1 + exp(-z)); q = 1 / (1 + exp(-z)); }
            else { p = 1 / (1 + exp(z)); q = exp(z) / (1 + exp(z)); }
            double d2 = w[i] * p * q, d1 = w[i] * (t[i] - p);
            h11 += s[i] * s[i] * d2;
            h22 += d2;
            h21 += s[i] * d2;
            g1 += s[i] * d1;
            g2 += d1;
        }
        if (fabs(g1) < 1e-5 && fabs(g2) < 1e-5) break;
        double det = h11 * h22 - h21 * h21, dA = -(h22 * g1 - h21 * g2) / det, dB = -(-h21 * g1 + h11 * g2) / det;
        double gd = g1 * dA + g2 * dB, step = 1;
        while (step >= 1e-10) {
            double na = a + step * dA, nb = b + step * dB, nf = platt_loss(s, t, w, n, na, nb);
            if (nf < f + 1e-4 * step * gd) { a = na; b = nb; f = nf; break; }
            step /= 2;
        }
        if (step < 1e-10) break;   /* line search failed: keep the best so far */
    }
    free(t);
    *A = a;
    *B = b;
    return 0;
}

double kge_ece(const double *p, const int *y, size_t n, int bins)
{
    if (!n || bins < 1) return 0;
    double cnt[64] = {0}, pos[64] = {0}, sum[64] = {0};
    if (bins > 64) bins = 64;
    for (size_t i = 0; i < n; i++) {
        int m = (int)ceil(p[i] * bins) - 1;   /* ((m)/bins, (m+1)/bins] */
        if (m < 0) m = 0;
        if (m >= bins) m = bins - 1;
        cnt[m]++;
        pos[m] += y[i] != 0;
        sum[m] += p[i];
    }
    double e = 0;
    for (int m = 0; m < bins; m++)
        if (cnt[m]) e += cnt[m] / (double)n * fabs(pos[m] / cnt[m] - sum[m] / cnt[m]);
    return e;
}

double kge_prior_move(double p, double from, double to)
{
    double q = p < 1e-7 ? 1e-7 : p > 1 - 1e-7 ? 1 - 1e-7 : p;
    double z = log(q / (1 - q)) + log(to / (1 - to)) - log(from / (1 - from));
    return 1 / (1 + exp(-z));
}

int kge_prior_em(const float *p, size_t n, double from, double *prior, int *iters)
{
    if (!n || !(from > 0 && from < 1)) return -1;
    /* π stays inside (0, 1): each posterior does, and so does their mean */
    double pi = from;
    int it = 0;
    while (it < 200) {
        double sum = 0;
        for (size_t i = 0; i < n; i++) sum += kge_prior_move(p[i], from, pi);
        double next = sum / (double)n;
        it++;
        int done = fabs(next - pi) < 1e-6;
        pi = next;
        if (done) break;
    }
    double lo = n < 2 ? 0.5 : 1 / (double)n;
    *prior = pi < lo ? lo : pi > 1 - lo ? 1 - lo : pi;
    if (iters) *iters = it;
    return 0;
}

/* ---- structural baselines for prerequisite pairs ---------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct kge_dag {
    size_t n;
    uint32_t *optr, *oadj, *iptr, *iadj;   /* out- and in-adjacency (CSR) */
    uint32_t *queue;
    int32_t *mark;                         /* BFS stamps */
    uint16_t *dist;
    int32_t stamp;
} kge_dag;

static void dag_free(kge_dag *g)
{
    free(g->optr); free(g->oadj); free(g->iptr); free(g->iadj); free(g->queue); free(g->mark); free(g->dist);
}

static int dag_build(kge_dag *g, size_t n, size_t E, const uint32_t *src, const uint32_t *dst)
{
    memset(g, 0, sizeof *g);
    g->n = n;
    g->queue = malloc((n + 1) * sizeof *g->queue);
    g->mark = calloc(n + 1, sizeof *g->mark);
    g->dist = malloc((n + 1) * sizeof *g->dist);
    if (!g->queue || !g->mark || !g->dist || kge_csr_build(n, E, src, dst, KGE_CSR_OUT, &g->optr, &g->oadj) ||
        kge_csr_build(n, E, src, dst, KGE_CSR_IN, &g->iptr, &g->iadj))
        return -1;
    return 0;
}

/* Breadth-first search from s over the out- (rev 0) or in-edges (rev 1),
 * never along the edge skip_a → skip_b (either search direction); returns
 * how many concepts it reaches (s not counted), and in *d the length of
 * the shortest path to target (0: none; target UINT32_MAX: none sought).
 * With stop, it returns SIZE_MAX as soon as it reaches target (*d set). */
static size_t dag_bfs(kge_dag *g, uint32_t s, int rev, uint32_t skip_a, uint32_t skip_b, uint32_t target,
                      int stop, unsigned *d)
{
    const uint32_t *ptr = rev ? g->iptr : g->optr, *adj = rev ? g->iadj : g->oadj;
    int32_t st = ++g->stamp;
    size_t qh = 0, qt = 0, reached = 0;
    g->queue[qt++] = s;
    g->mark[s] = st;
    g->dist[s] = 0;
    *d = 0;
    while (qh < qt) {
        uint32_t x = g->queue[qh++];
        for (uint32_t k = ptr[x]; k < ptr[x + 1]; k++) {
            uint32_t y = adj[k];
            if (g->mark[y] == st) continue;
            if (rev ? (y == skip_a && x == skip_b) : (x == skip_a && y == skip_b)) continue;
            g->mark[y] = st;
            g->dist[y] = (uint16_t)(g->dist[x] < 65535 ? g->dist[x] + 1 : 65535);
            if (y == target && !*d) {
                *d = g->dist[y];
                if (stop) return SIZE_MAX;
            }
            g->queue[qt++] = y;
            reached++;
        }
    }
    return reached;
}

/* Per-concept results of the searches that do not depend on the pair,
 * kept across the pairs of one prereq_fit: pairs featurised with their
 * own edge in place (skip 0) need, for their first concept a, one forward
 * and one backward search (its descendants and ancestors, and the
 * distance a → b and b → a from the same two searches), and for b only
 * the two counts. So m such pairs over k distinct first concepts cost
 * O(k · (n + E) + m) instead of four searches a pair. */
typedef struct pair_memo {
    size_t *desc, *anc;          /* [n] counts, SIZE_MAX: not yet searched */
    uint32_t *fstamp, *rstamp;   /* [n] == cur: reached from / reaching cur */
    uint16_t *fdist, *rdist;     /* [n] the distance cur → x, x → cur */
    uint32_t cur;                /* the concept the stamps are for (UINT32_MAX: none) */
    uint32_t tick;
} pair_memo;

static int memo_init(pair_memo *mo, size_t n)
{
    memset(mo, 0, sizeof *mo);
    mo->desc = malloc((n + 1) * sizeof *mo->desc);
    mo->anc = malloc((n + 1) * sizeof *mo->anc);
    mo->fstamp = calloc(n + 1, sizeof *mo->fstamp);
    mo->rstamp = calloc(n + 1, sizeof *mo->rstamp);
    mo->fdist = malloc((n + 1) * sizeof *mo->fdist);
    mo->rdist = malloc((n + 1) * sizeof *mo->rdist);
    mo->cur = UINT32_MAX;
    if (!mo->desc || !mo->anc || !mo->fstamp || !mo->rstamp || !mo->fdist || !mo->rdist) return -1;
    for (size_t i = 0; i < n; i++) mo->desc[i] = mo->anc[i] = SIZE_MAX;
    return 0;
}

static void memo_free(pair_memo *mo)
{
    free(mo->desc); free(mo->anc); free(mo->fstamp); free(mo->rstamp); free(mo->fdist); free(mo->rdist);
}

/* Searches from a both ways (no edge left out) and keeps what they reached
 * with its distance in the memo's stamps. */
static void memo_from(kge_dag *g, pair_memo *mo, uint32_t a)
{
    unsigned d;
    mo->tick++;
    for (int rev = 0; rev < 2; rev++) {
        size_t r = dag_bfs(g, a, rev, UINT32_MAX, UINT32_MAX, UINT32_MAX, 0, &d);
        uint32_t *st = rev ? mo->rstamp : mo->fstamp;
        uint16_t *dist = rev ? mo->rdist : mo->fdist;
        for (size_t q = 1; q <= r; q++) {   /* queue[0] is a itself */
            uint32_t y = g->queue[q];
            st[y] = mo->tick;
            dist[y] = g->dist[y];
        }
        *(rev ? &mo->anc[a] : &mo->desc[a]) = r;
    }
    mo->cur = a;
}

/* x's descendants (rev 0) or ancestors (rev 1), searched once per concept. */
static size_t memo_count(kge_dag *g, pair_memo *mo, uint32_t x, int rev)
{
    size_t *c = rev ? &mo->anc[x] : &mo->desc[x];
    unsigned d;
    if (*c == SIZE_MAX) *c = dag_bfs(g, x, rev, UINT32_MAX, UINT32_MAX, UINT32_MAX, 0, &d);
    return *c;
}

/* The features of the pair (a, b); with skip, the edge a → b is left out
 * (a training positive is not evidence for itself). Pairs without skip
 * read and fill the memo (the same values as the four searches). */
static void pair_feats(kge_dag *g, pair_memo *mo, uint32_t a, uint32_t b, int skip, double *x, double *trans,
                       double *prec)
{
    uint32_t sa = skip ? a : UINT32_MAX, sb = skip ? b : UINT32_MAX;
    unsigned dab, dba, dummy;
    size_t desc_a, desc_b, anc_a, anc_b;
    if (skip) {
        /* Without the edge a → b, a's descendants and b's ancestors must be
         * searched again; b's descendants and a's ancestors change only
         * when the edge lies on a path from b back to a (a cycle), which
         * the memo's search from a tells. */
        if (mo->cur != a) memo_from(g, mo, a);
        desc_a = dag_bfs(g, a, 0, sa, sb, b, 1, &dab);
        if (desc_a == SIZE_MAX) {   /* a reaches b another way: the edge changes neither set */
            desc_a = mo->desc[a];
            anc_b = memo_count(g, mo, b, 1);
        } else {
            anc_b = dag_bfs(g, b, 1, sa, sb, UINT32_MAX, 0, &dummy);
        }
        if (b != a && mo->rstamp[b] == mo->tick) {   /* b reaches a */
            desc_b = dag_bfs(g, b, 0, sa, sb, a, 0, &dba);
            anc_a = dag_bfs(g, a, 1, sa, sb, UINT32_MAX, 0, &dummy);
        } else {
            desc_b = memo_count(g, mo, b, 0);
            anc_a = mo->anc[a];
            dba = 0;
        }
    } else {
        if (mo->cur != a) memo_from(g, mo, a);
        dab = b != a && mo->fstamp[b] == mo->tick ? mo->fdist[b] : 0;
        dba = b != a && mo->rstamp[b] == mo->tick ? mo->rdist[b] : 0;
        desc_a = mo->desc[a];
        anc_a = mo->anc[a];
        desc_b = memo_count(g, mo, b, 0);
        anc_b = memo_count(g, mo, b, 1);
    }
    double outa = g->optr[a + 1] - g->optr[a] - (skip ? 1 : 0), inb = g->iptr[b + 1] - g->iptr[b] - (skip ? 1 : 0);
    x[0] = log1p((double)desc_a);
    x[1] = log1p((double)anc_a);
    x[2] = log1p((double)desc_b);
    x[3] = log1p((double)anc_b);
    x[4] = log1p(outa > 0 ? outa : 0);
    x[5] = log1p(inb > 0 ? inb : 0);
    x[6] = dab ? 1.0 / dab : 0.0;
    x[7] = dba ? 1.0 / dba : 0.0;
    if (trans) *trans = x[6];
    if (prec) *prec = (double)desc_a;
}

/* The baselines and the regression on the structural features plus k
 * of the caller's (kge_prereq_baselines with k = 0, kge_prereq_regression).
 * With in_fit the regression is not fitted (no training pairs are read):
 * the test pairs are scored by in_fit; else the fit is kept in out_fit
 * when given. */
static int prereq_fit(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const uint32_t *tr_pairs,
                      const int *tr_y, size_t ntr, const uint32_t *te_pairs, size_t nte, const double *xtr,
                      const double *xte, size_t k, double lambda, double *trans, double *prec, double *lr,
                      double *tr_scores, const kge_pair_fit *in_fit, kge_pair_fit *out_fit)
{
    size_t F = 8 + k;
    if (F > KGE_LOGREG_MAX_F || (in_fit && in_fit->F != F) || !(lambda >= 0)) return -1;
    if (in_fit) ntr = 0;
    kge_dag g;
    pair_memo mo = {0};
    if (ntr > UINT32_MAX || nte > UINT32_MAX) return -1;   /* the order keeps an index in 32 bits */
    double *Xtr = malloc((ntr * F + 1) * sizeof *Xtr), *Xte = malloc((nte * F + 1) * sizeof *Xte);
    double *str = malloc((ntr + 1) * sizeof *str);
    uint64_t *ek = malloc((E + 1) * sizeof *ek);
    uint64_t *ord = malloc(((ntr > nte ? ntr : nte) + 1) * sizeof *ord);
    int rc = dag_build(&g, n, E, src, dst) | memo_init(&mo, n) || !Xtr || !Xte || !str || !ek || !ord ? -1 : 0;
    for (size_t q = 0; !rc && q < E; q++) ek[q] = (uint64_t)src[q] << 32 | dst[q];
    if (!rc) qsort(ek, E, sizeof *ek, cmp_u64);
    /* the pairs in the order of their first concept, so the memo searches
     * from each first concept once (each pair still writes its own row) */
    for (size_t p = 0; !rc && p < ntr; p++) ord[p] = (uint64_t)tr_pairs[2 * p] << 32 | p;
    if (!rc) qsort(ord, ntr, sizeof *ord, cmp_u64);
    for (size_t i = 0; !rc && i < ntr; i++) {
        size_t p = (uint32_t)ord[i];
        uint32_t a = tr_pairs[2 * p], b = tr_pairs[2 * p + 1];
        uint64_t key = (uint64_t)a << 32 | b;
        int is_edge = bsearch(&key, ek, E, sizeof *ek, cmp_u64) != NULL;
        double t, c;
        pair_feats(&g, &mo, a, b, is_edge && tr_y[p], Xtr + F * p, &t, &c);
        for (size_t f = 0; f < k; f++) Xtr[F * p + 8 + f] = xtr[k * p + f];
        if (tr_scores) { tr_scores[3 * p] = t; tr_scores[3 * p + 1] = c; }
    }
    for (size_t p = 0; !rc && p < nte; p++) ord[p] = (uint64_t)te_pairs[2 * p] << 32 | p;
    if (!rc) qsort(ord, nte, sizeof *ord, cmp_u64);
    for (size_t i = 0; !rc && i < nte; i++) {
        size_t p = (uint32_t)ord[i];
        double t, c;
        pair_feats(&g, &mo, te_pairs[2 * p], te_pairs[2 * p + 1], 0, Xte + F * p, trans ? &trans[p] : &t,
                   prec ? &prec[p] : &c);
        for (size_t f = 0; f < k; f++) Xte[F * p + 8 + f] = xte[k * p + f];
    }
    kge_pair_fit fit = {.F = F};
    if (!rc && in_fit) fit = *in_fit;
    else if (!rc && logreg_fit_std(Xtr, tr_y, ntr, F, lambda, fit.mu, fit.sd, fit.w)) rc = -1;
    if (!rc) {
        logreg_predict_std(Xtr, ntr, F, fit.mu, fit.sd, fit.w, str);
        logreg_predict_std(Xte, nte, F, fit.mu, fit.sd, fit.w, lr);
        for (size_t p = 0; tr_scores && p < ntr; p++) tr_scores[3 * p + 2] = str[p];
        if (out_fit && !in_fit) *out_fit = fit;
    }
    dag_free(&g);
    memo_free(&mo);
    free(Xtr); free(Xte); free(str); free(ek); free(ord);
    return rc;
}

int kge_prereq_baselines(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const uint32_t *tr_pairs,
                         const int *tr_y, size_t ntr, const uint32_t *te_pairs, size_t nte, double *trans,
                         double *prec, double *lr, double *tr_scores)
{
    return prereq_fit(n, E, src, dst, tr_pairs, tr_y, ntr, te_pairs, nte, NULL, NULL, 0, KGE_LOGREG_LAMBDA, trans, prec,
                      lr, tr_scores, NULL, NULL);
}

int kge_prereq_regression(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const uint32_t *tr_pairs,
                          const int *tr_y, size_t ntr, const uint32_t *te_pairs, size_t nte, const double *xtr,
                          const double *xte, size_t k, double lambda, double *lr)
{
    return prereq_fit(n, E, src, dst, tr_pairs, tr_y, ntr, te_pairs, nte, xtr, xte, k, lambda, NULL, NULL, lr, NULL,
                      NULL, NULL);
}

int kge_prereq_regression_fit(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const uint32_t *tr_pairs,
                              const int *tr_y, size_t ntr, const double *xtr, size_t k, double lambda,
                              kge_pair_fit *fit)
{
    return prereq_fit(n, E, src, dst, tr_pairs, tr_y, ntr, NULL, 0, xtr, NULL, k, lambda, NULL, NULL, NULL, NULL, NULL,
                      fit);
}

int kge_prereq_regression_apply(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const kge_pair_fit *fit,
                                const uint32_t *te_pairs, size_t nte, const double *xte, double *lr)
{
    if (!fit || fit->F < 8) return -1;
    return prereq_fit(n, E, src, dst, NULL, NULL, 0, te_pairs, nte, NULL, xte, fit->F - 8, 0, NULL, NULL, lr, NULL, fit,
                      NULL);
}

/* ---- title words ---------------------------------------------------------------- */

static int is_word_byte(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80; }

/* The stem of the lowercased word w[0 .. len): its length after the first
 * suffix that leaves more than three bytes. */
static size_t stem_len(const char *w, size_t len)
{
    static const char *const suf[] = {"ization", "ation", "ical", "ing", "ic", "al", "s"};
    for (size_t i = 0; i < sizeof suf / sizeof *suf; i++) {
        size_t l = strlen(suf[i]);
        if (len > l + 3 && !memcmp(w + len - l, suf[i], l)) return len - l;
    }
    return len;
}

static int is_stop(const char *w, size_t len)
{
    static const char *const stop[] = {"a", "an", "and", "as", "at", "by", "for", "from", "in", "of", "on", "or", "the", "to", "with"};
    for (size_t i = 0; i < sizeof stop / sizeof *stop; i++)
        if (strlen(stop[i]) == len && !memcmp(stop[i], w, len)) return 1;
    return 0;
}

/* Title t's words as sorted, distinct FNV-1a hashes into h (at most cap);
 * returns how many. */
static size_t title_words(const char *t, uint64_t *h, size_t cap)
{
    size_t nw = 0;
    int depth = 0;
    char w[64];
    for (const unsigned char *p = (const unsigned char *)(t ? t : ""); *p;) {
        if (*p == '(') { depth++; p++; continue; }
        if (*p == ')') { if (depth) depth--; p++; continue; }
        if (!is_word_byte(*p)) { p++; continue; }
        size_t len = 0;
        for (; is_word_byte(*p); p++)
            if (len < sizeof w) w[len++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        if (depth || is_stop(w, len) || nw == cap) continue;
        len = stem_len(w, len);
        uint64_t x = 0xcbf29ce484222325ull;
        for (size_t i = 0; i < len; i++) { x ^= (unsigned char)w[i]; x *= 0x100000001b3ull; }
        size_t at = 0;
        while (at < nw && h[at] < x) at++;
        if (at < nw && h[at] == x) continue;
        memmove(h + at + 1, h + at, (nw - at) * sizeof *h);
        h[at] = x;
        nw++;
    }
    return nw;
}

enum { TITLE_WORDS = 32 };

/* Shared words of two sorted, distinct hash lists. */
static size_t shared_words(const uint64_t *x, size_t nx, const uint64_t *y, size_t ny)
{
    size_t i = 0, j = 0, both = 0;
    while (i < nx && j < ny) {
        if (x[i] == y[j]) { both++; i++; j++; }
        else if (x[i] < y[j]) i++;
        else j++;
    }
    return both;
}

static double jaccard(const uint64_t *h, const uint8_t *nw, uint32_t a, uint32_t b)
{
    size_t both = shared_words(h + (size_t)a * TITLE_WORDS, nw[a], h + (size_t)b * TITLE_WORDS, nw[b]);
    size_t any = (size_t)nw[a] + nw[b] - both;
    return any ? (double)both / (double)any : 0;
}

int kge_title_pair_feats(const char *const *titles, size_t n, size_t E, const uint32_t *src, const uint32_t *dst,
                         const uint32_t *pairs, size_t m, double *x)
{
    uint64_t *h = malloc((n * TITLE_WORDS + 1) * sizeof *h);
    uint8_t *nw = malloc(n + 1);
    uint32_t *optr = NULL, *iptr = NULL, *oadj = NULL, *iadj = NULL;
    int rc = !h || !nw ? -1 : 0;
    for (size_t i = 0; !rc && i < n; i++) nw[i] = (uint8_t)title_words(titles[i], h + i * TITLE_WORDS, TITLE_WORDS);
    /* out- and in-adjacency, edges outside [0, n) ignored */
    if (!rc && (kge_csr_build(n, E, src, dst, KGE_CSR_OUT, &optr, &oadj) ||
                kge_csr_build(n, E, src, dst, KGE_CSR_IN, &iptr, &iadj)))
        rc = -1;
    for (size_t p = 0; !rc && p < m; p++) {
        uint32_t a = pairs[2 * p], b = pairs[2 * p + 1];
        double *o = x + KGE_TITLE_FEATS * p;
        if (a >= n || b >= n) { memset(o, 0, KGE_TITLE_FEATS * sizeof *o); continue; }
        size_t na = nw[a], nb = nw[b], both = shared_words(h + a * TITLE_WORDS, na, h + b * TITLE_WORDS, nb);
        o[0] = na ? (double)both / (double)na : 0;
        o[1] = nb ? (double)both / (double)nb : 0;
        o[2] = na && both == na && nb > na;
        o[3] = nb && both == nb && na > nb;
        o[4] = o[5] = o[6] = o[7] = 0;
        for (uint32_t k = optr[a]; k < optr[a + 1]; k++)
            if (oadj[k] != b) {
                double j = jaccard(h, nw, oadj[k], b);
                o[4] += j;
                o[6] = j > o[6] ? j : o[6];
            }
        for (uint32_t k = iptr[b]; k < iptr[b + 1]; k++)
            if (iadj[k] != a) {
                double j = jaccard(h, nw, iadj[k], a);
                o[5] += j;
                o[7] = j > o[7] ? j : o[7];
            }
    }
    free(h); free(nw); free(optr); free(iptr); free(oadj); free(iadj);
    return rc;
}

/* ---- neighbourhood (collaborative filtering on the edges) ------------------- */

/* Stamps the neighbours of c in (ptr, adj) but `skip` with `tick` in mark;
 * returns how many distinct ones. */
static size_t stamp_set(const uint32_t *ptr, const uint32_t *adj, uint32_t c, uint32_t skip, uint32_t *mark,
                        uint32_t tick)
{
    size_t k = 0;
    for (uint32_t q = ptr[c]; q < ptr[c + 1]; q++)
        if (adj[q] != skip && mark[adj[q]] != tick) { mark[adj[q]] = tick; k++; }
    return k;
}

/* The largest and the mean, over the distinct neighbours x of `via` in
 * (vptr, vadj) but `self`, of the cosine similarity of the stamped set
 * (nset members, mark == tick) with x's neighbours in (ptr, adj) but
 * `via`; seen and *clock count distinct members. */
static void like_set(const uint32_t *vptr, const uint32_t *vadj, uint32_t via, uint32_t self, const uint32_t *ptr,
                     const uint32_t *adj, const uint32_t *mark, uint32_t tick, size_t nset, uint32_t *seen,
                     uint32_t *xseen, uint32_t *clock, double *mx, double *mean)
{
    size_t cnt = 0;
    double sum = 0;
    *mx = *mean = 0;
    uint32_t xt = ++*clock;
    for (uint32_t q = vptr[via]; q < vptr[via + 1]; q++) {
        uint32_t x = vadj[q];
        if (x == self || xseen[x] == xt) continue;
        xseen[x] = xt;
        uint32_t st = ++*clock;
        size_t both = 0, nx = 0;
        for (uint32_t r = ptr[x]; r < ptr[x + 1]; r++) {
            uint32_t z = adj[r];
            if (z == via || seen[z] == st) continue;
            seen[z] = st;
            nx++;
            both += mark[z] == tick;
        }
        double c = nset && nx ? (double)both / sqrt((double)nset * (double)nx) : 0;
        sum += c;
        *mx = c > *mx ? c : *mx;
        cnt++;
    }
    *mean = cnt ? sum / (double)cnt : 0;
}

int kge_neighbour_pair_feats(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const uint32_t *pairs,
                             size_t m, double *x)
{
    uint32_t *marks = calloc(4 * n + 1, sizeof *marks), clock = 0;
    kge_dag g = {0};
    int rc = !marks ? -1 : 0;
    if (!rc && dag_build(&g, n, E, src, dst)) rc = -1;   /* edges outside [0, n) count for nothing */
    uint32_t *ma = marks, *mb = marks + n, *seen = marks + 2 * n, *xseen = marks + 3 * n;
    for (size_t p = 0; !rc && p < m; p++) {
        uint32_t a = pairs[2 * p], b = pairs[2 * p + 1];
        double *o = x + KGE_NEIGHBOUR_FEATS * p;
        memset(o, 0, KGE_NEIGHBOUR_FEATS * sizeof *o);
        if (a >= n || b >= n) continue;
        if (clock > UINT32_MAX - 4 * (uint32_t)(n + 2)) {   /* stamps about to wrap: start afresh */
            memset(marks, 0, 4 * n * sizeof *marks);
            clock = 0;
        }
        uint32_t ta = ++clock, tb = ++clock;
        size_t na = stamp_set(g.optr, g.oadj, a, b, ma, ta);   /* A: a's dependents but b */
        size_t nb = stamp_set(g.iptr, g.iadj, b, a, mb, tb);   /* B: b's prerequisites but a */
        like_set(g.iptr, g.iadj, b, a, g.optr, g.oadj, ma, ta, na, seen, xseen, &clock, &o[0], &o[1]);
        like_set(g.optr, g.oadj, a, b, g.iptr, g.iadj, mb, tb, nb, seen, xseen, &clock, &o[2], &o[3]);
    }
    dag_free(&g);
    free(marks);
    return rc;
}
