/* FSRS-6 weight fitting; see learner_fsrs_fit.h. */
#include "planner/learner_fsrs_fit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#define NP KGN_FSRS_NW
#define R_EPS 1e-7

const double kgn_fsrs_prior_sigma[NP] = {
    6.43, 9.66, 17.58, 27.85, 0.57, 0.28, 0.6, 0.12, 0.39, 0.18, 0.33,
    0.3, 0.09, 0.16, 0.57, 0.25, 1.03, 0.31, 0.32, 0.14, 0.27,
};

/* fsrs-rs parameter_clipper.rs (w19 floor 0.01: short-term on) */
static const double lo_b[NP] = {
    0.001, 0.001, 0.001, 0.001, 1, 0.001, 0.001, 0.001, 0, 0, 0.001,
    0.001, 0.001, 0.001, 0, 0, 1, 0, 0, 0.01, 0.1,
};
static const double hi_b[NP] = {
    100, 100, 100, 100, 10, 4, 4, 0.75, 4.5, 0.8, 3.5,
    5, 0.25, 0.9, 4, 1, 6, 2, 2, 0.8, 0.8,
};

void kgn_fsrs_clip(double *w)
{
    for (int i = 0; i < NP; i++)
        w[i] = w[i] < lo_b[i] ? lo_b[i] : w[i] > hi_b[i] ? hi_b[i] : w[i];
}

/* ---- gradients: a small tape per review ---------------------------------
 *
 * A card's state after each review is (S, D); the loss needs d/dw of every
 * sample's R. Forward-mode duals (21 derivatives carried through every
 * operation, ~60 per review) made the fit's cost 21 × the replay's. Here
 * one review's straight-line arithmetic is recorded on a small tape whose
 * leaves are the state before it (S, D) and the 21 weights; a reverse sweep
 * from an output gives its partials with respect to those leaves, and the
 * chain rule carries the total derivatives dS/dw, dD/dw from review to
 * review: dS'/dw = ∂S'/∂S·dS/dw + ∂S'/∂D·dD/dw + ∂S'/∂w. Cost per review:
 * the tape (~60 nodes), two sweeps over it (the sample's R; S' and D'
 * together), and a few 21-long axpys.
 * Values are computed by the same operations in the same order as the
 * plain replay (learner_fsrs.c), so the loss is the same to the last bit. */

#define T_MAX 256               /* a review records under 120 nodes */
enum { T_S = 0, T_D = 1, T_W = 2, T_LEAVES = T_W + NP };

typedef struct tape {
    int n;
    double v[T_MAX];
    int16_t a[T_MAX], b[T_MAX];  /* parents (-1: none) */
    double da[T_MAX], db[T_MAX]; /* ∂node/∂parent */
    double adj[2][T_MAX];
} tape;

static int tpush(tape *t, double v, int a, double da, int b, double db)
{
    int i = t->n < T_MAX ? t->n++ : T_MAX - 1;   /* never full: see T_MAX */
    t->v[i] = v;
    t->a[i] = (int16_t)a;
    t->b[i] = (int16_t)b;
    t->da[i] = da;
    t->db[i] = db;
    return i;
}

static int tc(tape *t, double v) { return tpush(t, v, -1, 0, -1, 0); }
static int tw(int k) { return T_W + k; }
static int tadd(tape *t, int x, int y) { return tpush(t, t->v[x] + t->v[y], x, 1, y, 1); }
static int tsub(tape *t, int x, int y) { return tpush(t, t->v[x] - t->v[y], x, 1, y, -1); }
static int taddc(tape *t, int x, double c) { return tpush(t, t->v[x] + c, x, 1, -1, 0); }
static int tscale(tape *t, int x, double c) { return tpush(t, t->v[x] * c, x, c, -1, 0); }
static int tmul(tape *t, int x, int y) { return tpush(t, t->v[x] * t->v[y], x, t->v[y], y, t->v[x]); }
static int tdiv(tape *t, int x, int y)
{
    double q = t->v[x] / t->v[y];
    return tpush(t, q, x, 1.0 / t->v[y], y, -q / t->v[y]);
}
/* f(x) with f'(x) = df */
static int tun(tape *t, int x, double f, double df) { return tpush(t, f, x, df, -1, 0); }
static int texp(tape *t, int x) { double e = exp(t->v[x]); return tun(t, x, e, e); }
static int tlog(tape *t, int x) { return tun(t, x, log(t->v[x]), 1.0 / t->v[x]); }
static int tpow(tape *t, int x, int y) { return texp(t, tmul(t, y, tlog(t, x))); }   /* x > 0 */
static int tclamp(tape *t, int x, double lo, double hi)
{
    if (t->v[x] < lo) return tc(t, lo);
    if (t->v[x] > hi) return tc(t, hi);
    return x;
}

/* Reverse sweeps from up to two outputs at once: adj[0][0 .. T_LEAVES) =
 * ∂out0/∂leaf, adj[1][...] = ∂out1/∂leaf (out1 < 0: none). */
static void tsweep(tape *t, int out0, int out1)
{
    int top = out0 > out1 ? out0 : out1;
    size_t len = sizeof(double) * (size_t)(top >= T_LEAVES ? top + 1 : T_LEAVES);
    memset(t->adj[0], 0, len);
    memset(t->adj[1], 0, len);
    t->adj[0][out0] = 1;
    if (out1 >= 0)
        t->adj[1][out1] += 1;
    for (int i = top; i >= T_LEAVES; i--) {
        double g0 = t->adj[0][i], g1 = t->adj[1][i];
        if (g0 == 0 && g1 == 0) continue;
        int a = t->a[i], b = t->b[i];
        if (a >= 0) { t->adj[0][a] += g0 * t->da[i]; t->adj[1][a] += g1 * t->da[i]; }
        if (b >= 0) { t->adj[0][b] += g0 * t->db[i]; t->adj[1][b] += g1 * t->db[i]; }
    }
}

/* f = 0.9^(−1/w20) − 1 */
static int tfactor(tape *t)
{
    int w20 = tw(20);
    double v = t->v[w20];
    return taddc(t, texp(t, tmul(t, tun(t, w20, -1.0 / v, 1.0 / (v * v)), tc(t, log(0.9)))), -1.0);
}

/* R(Δt, S) = (1 + f·Δt/S)^(−w20), S the node s */
static int tretr(tape *t, double dt, int s)
{
    int base = taddc(t, tdiv(t, tscale(t, tfactor(t), dt), s), 1.0);
    return tpow(t, base, tscale(t, tw(20), -1.0));
}

static int td0(tape *t, int g)
{
    /* w4 − e^(w5(G−1)) + 1 */
    return taddc(t, tsub(t, tw(4), texp(t, tscale(t, tw(5), g - 1))), 1.0);
}

/* One review of grade g, Δt days after the last (first: no state yet):
 * records S', D' from the leaves; *so, *dout receive their nodes. */
static void treview(tape *t, int first, double dt, int g, int *so, int *dout)
{
    if (first) {
        *so = tclamp(t, tw(g - 1), KGN_FSRS_S_MIN, KGN_FSRS_S_MAX);
        *dout = tclamp(t, td0(t, g), 1, 10);
        return;
    }
    int s = T_S, d = T_D;
    if (dt < 1.0) {
        /* S·e^(w17(G−3+w18))·S^(−w19), not below S from hard up */
        int inc = tmul(t, texp(t, tmul(t, tw(17), taddc(t, tw(18), g - 3))),
                       tpow(t, s, tscale(t, tw(19), -1.0)));
        if (g >= KGN_HARD && t->v[inc] < 1.0) inc = tc(t, 1.0);
        s = tmul(t, s, inc);
    } else {
        int r = tretr(t, dt, s);
        int one_r = taddc(t, tscale(t, r, -1.0), 1.0);
        if (g == KGN_AGAIN) {
            int lt = tmul(t, tmul(t, tmul(t, tw(11), tpow(t, d, tscale(t, tw(12), -1.0))),
                                  taddc(t, tpow(t, taddc(t, s, 1.0), tw(13)), -1.0)),
                          texp(t, tmul(t, tw(14), one_r)));
            int st = tdiv(t, s, texp(t, tmul(t, tw(17), tw(18))));
            s = t->v[lt] < t->v[st] ? lt : st;
        } else {
            int inc = tmul(t, tmul(t, texp(t, tw(8)), taddc(t, tscale(t, d, -1.0), 11.0)),
                           tmul(t, tpow(t, s, tscale(t, tw(9), -1.0)),
                                taddc(t, texp(t, tmul(t, tw(10), one_r)), -1.0)));
            if (g == KGN_HARD) inc = tmul(t, inc, tw(15));
            if (g == KGN_EASY) inc = tmul(t, inc, tw(16));
            s = tmul(t, s, taddc(t, inc, 1.0));
        }
    }
    *so = tclamp(t, s, KGN_FSRS_S_MIN, KGN_FSRS_S_MAX);
    /* D' = D − w6(G−3)(10−D)/9; D'' = w7·D0(4) + (1−w7)·D' */
    int d1 = tsub(t, d, tscale(t, tmul(t, tw(6), taddc(t, tscale(t, d, -1.0), 10.0)), (g - 3) / 9.0));
    int w7 = tw(7);
    int d2 = tadd(t, tmul(t, w7, td0(t, 4)), tmul(t, taddc(t, tscale(t, w7, -1.0), 1.0), d1));
    *dout = tclamp(t, d2, 1, 10);
}

/* the total derivative of sweep j's output: ∂/∂S·dS/dw + ∂/∂D·dD/dw +
 * ∂/∂w, into out[21] */
static void tchain(const tape *t, int j, const double *ds, const double *dd, double *out)
{
    const double *adj = t->adj[j];
    for (int k = 0; k < NP; k++)
        out[k] = adj[T_S] * ds[k] + adj[T_D] * dd[k] + adj[T_W + k];
}

/* Σ BCE over the samples of the used cards, with its gradient (grad may be
 * NULL: values only, no sweeps). */
double kgn_fsrs_loss(const double *w, const kgn_fsrs_log *lg, const uint8_t *use,
                     double *grad, uint64_t *nsamples)
{
    double sum = 0;
    uint64_t n = 0;
    tape t;
    for (int k = 0; k < T_LEAVES; k++) {
        t.v[k] = k >= T_W ? w[k - T_W] : 0;
        t.a[k] = t.b[k] = -1;
    }
    if (grad) memset(grad, 0, NP * sizeof *grad);
    double ds[NP], dd[NP], ns[NP], nd[NP], dr[NP];
    for (uint32_t q = 0; q < lg->ncards; q++) {
        if (use && !use[q]) continue;
        uint32_t reps = 0;
        int64_t last = 0;
        memset(ds, 0, sizeof ds);
        memset(dd, 0, sizeof dd);
        for (uint32_t i = lg->off[q]; i < lg->off[q + 1]; i++) {
            int g = lg->g[i];
            if (g < 1 || g > 4) continue;
            double dt = (double)(lg->t[i] - last) / 86400.0;
            t.n = T_LEAVES;
            if (reps && lg->t[i] - last >= 86400 && !(lg->skip && lg->skip[i])) {
                int r = tretr(&t, dt, T_S);
                double y = g > 1, p = t.v[r];
                double dl = 0;
                if (p < R_EPS) p = R_EPS;
                else if (p > 1 - R_EPS) p = 1 - R_EPS;
                else dl = y ? -1.0 / p : 1.0 / (1.0 - p);
                sum += y ? -log(p) : -log(1.0 - p);
                if (grad && dl != 0) {
                    tsweep(&t, r, -1);
                    tchain(&t, 0, ds, dd, dr);
                    for (int k = 0; k < NP; k++)
                        grad[k] += dl * dr[k];
                }
                n++;
                t.n = T_LEAVES;
            }
            int so, dout;
            treview(&t, reps == 0, dt, g, &so, &dout);
            if (grad) {
                tsweep(&t, so, dout);
                tchain(&t, 0, ds, dd, ns);
                tchain(&t, 1, ds, dd, nd);
                memcpy(ds, ns, sizeof ds);
                memcpy(dd, nd, sizeof dd);
            }
            t.v[T_S] = t.v[so];
            t.v[T_D] = t.v[dout];
            if (reps == 0 || lg->t[i] > last) last = lg->t[i];
            reps++;
        }
    }
    if (nsamples) *nsamples = n;
    return sum;
}

int kgn_fsrs_fit(const kgn_fsrs_log *lg, const uint8_t *use,
                 const kgn_fsrs_fit_options *opt, double *w, uint64_t *nsamples)
{
    kgn_fsrs_fit_options o = opt ? *opt : (kgn_fsrs_fit_options){0};
    int iters = o.iterations > 0 ? o.iterations : 300;
    double lr = o.lr > 0 ? o.lr : 0.04;
    double gamma = o.gamma == 0 ? 1.0 : o.gamma < 0 ? 0 : o.gamma;
    const double *start = o.start ? o.start : kgn_fsrs_default_w;
    const double *centre = o.centre ? o.centre : start;
    double x[NP], best[NP], g[NP], m[NP] = {0}, v[NP] = {0};
    memcpy(x, start, sizeof x);
    kgn_fsrs_clip(x);
    memcpy(best, x, sizeof best);
    uint64_t n = 0;
    kgn_fsrs_loss(x, lg, use, NULL, &n);
    if (nsamples) *nsamples = n;
    if (n == 0) {
        memcpy(w, best, sizeof best);
        return 0;
    }
    double best_j = INFINITY;
    for (int it = 0; it <= iters; it++) {
        double j = kgn_fsrs_loss(x, lg, use, g, NULL);
        for (int k = 0; k < NP; k++) {
            double z = (x[k] - centre[k]) / kgn_fsrs_prior_sigma[k];
            j += gamma * z * z;
            g[k] += 2.0 * gamma * z / kgn_fsrs_prior_sigma[k];
        }
        if (j < best_j) { best_j = j; memcpy(best, x, sizeof best); }
        if (it == iters) break;
        double a = lr * 0.5 * (1.0 + cos(M_PI * it / iters));
        double b1t = 1.0 - pow(0.9, it + 1), b2t = 1.0 - pow(0.999, it + 1);
        double g_first = 0;     /* d/d(log factor) of w0..w3 together */
        for (int k = 0; k < 4; k++)
            g_first += g[k] * x[k];
        for (int k = 0; k < NP; k++) {
            if (o.free_w && !o.free_w[k]) continue;
            /* initial stabilities span 0.001..100: steps in log space */
            double gk = (k < 4 ? (o.tie_first ? g_first : g[k] * x[k]) : g[k]) / (double)n;
            m[k] = 0.9 * m[k] + 0.1 * gk;
            v[k] = 0.999 * v[k] + 0.001 * gk * gk;
            double step = a * (m[k] / b1t) / (sqrt(v[k] / b2t) + 1e-8);
            x[k] = k < 4 ? x[k] * exp(-step) : x[k] - step;
        }
        kgn_fsrs_clip(x);
    }
    memcpy(w, best, sizeof best);
    return 0;
}

/* ---- metrics --------------------------------------------------------------- */

typedef struct binned { uint32_t key; double p, y; } binned;

static int cmp_binned(const void *a, const void *b)
{
    uint32_t x = ((const binned *)a)->key, y = ((const binned *)b)->key;
    return x < y ? -1 : x > y;
}

/* floor(log_base(x)) + 1 for x >= 1 (0 for x < 1) */
static uint32_t gbin(double x, double base)
{
    return x < 1 ? 0 : (uint32_t)floor(log(x) / log(base) + 1e-9) + 1;
}

int kgn_fsrs_eval_add(kgn_fsrs_eval *e, const double *w, const kgn_fsrs_log *lg,
                      const uint8_t *use)
{
    for (uint32_t q = 0; q < lg->ncards; q++) {
        if (use && !use[q]) continue;
        kgn_fsrs_card c = {0};
        uint32_t nlong = 0, lapses = 0;
        for (uint32_t i = lg->off[q]; i < lg->off[q + 1]; i++) {
            int g = lg->g[i];
            if (g < 1 || g > 4) continue;
            if (c.reps == 0 || lg->t[i] - c.last >= 86400) nlong++;
            if (c.reps && lg->t[i] - c.last >= 86400 && !(lg->skip && lg->skip[i])) {
                double dt = (double)(lg->t[i] - c.last) / 86400.0;
                double p = kgn_fsrs_retrievability(w, dt, c.stability), y = g > 1;
                p = p < R_EPS ? R_EPS : p > 1 - R_EPS ? 1 - R_EPS : p;
                e->ll += y ? -log(p) : -log(1.0 - p);
                if (kg_grow(&e->v, &e->cap, e->n + 1, sizeof(binned)))
                    return -1;
                uint32_t kt = gbin(dt, 3.62), kn = gbin(nlong, 1.89), kl = gbin(lapses, 1.73);
                ((binned *)e->v)[e->n++] =
                    (binned){(kt & 1023) << 20 | (kn & 1023) << 10 | (kl & 1023), p, y};
                if (g == KGN_AGAIN) lapses++;
            }
            kgn_fsrs_review(w, &c, g, lg->t[i]);
        }
    }
    return 0;
}

void kgn_fsrs_eval_metrics(kgn_fsrs_eval *e, kgn_fsrs_metrics *out)
{
    memset(out, 0, sizeof *out);
    binned *v = e->v;
    size_t nv = e->n;
    out->n = nv;
    if (!nv)
        return;
    out->logloss = e->ll / (double)nv;
    qsort(v, nv, sizeof *v, cmp_binned);
    double se = 0;
    for (size_t i = 0; i < nv;) {
        size_t j = i;
        double sp = 0, sy = 0;
        while (j < nv && v[j].key == v[i].key) { sp += v[j].p; sy += v[j].y; j++; }
        double k = (double)(j - i), d = sp / k - sy / k;
        se += k * d * d;
        i = j;
    }
    out->rmse_bins = sqrt(se / (double)nv);
}

void kgn_fsrs_eval_free(kgn_fsrs_eval *e)
{
    kg_free(e->v);
    memset(e, 0, sizeof *e);
}

int kgn_fsrs_evaluate(const double *w, const kgn_fsrs_log *lg, const uint8_t *use,
                      kgn_fsrs_metrics *out)
{
    kgn_fsrs_eval e = {0};
    memset(out, 0, sizeof *out);
    int rc = kgn_fsrs_eval_add(&e, w, lg, use);
    if (!rc)
        kgn_fsrs_eval_metrics(&e, out);
    kgn_fsrs_eval_free(&e);
    return rc;
}
