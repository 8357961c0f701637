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

/* ---- forward-mode dual numbers: value and d/dw of all 21 weights ---------- */

typedef struct dn { double v, d[NP]; } dn;

static dn dc(double v) { dn r; r.v = v; memset(r.d, 0, sizeof r.d); return r; }
static dn dw(const double *w, int i) { dn r = dc(w[i]); r.d[i] = 1; return r; }
static dn dadd(dn a, dn b) { for (int i = 0; i < NP; i++) a.d[i] += b.d[i]; a.v += b.v; return a; }
static dn dsub(dn a, dn b) { for (int i = 0; i < NP; i++) a.d[i] -= b.d[i]; a.v -= b.v; return a; }
static dn daddc(dn a, double c) { a.v += c; return a; }
static dn dscale(dn a, double c) { for (int i = 0; i < NP; i++) a.d[i] *= c; a.v *= c; return a; }
static dn dmul(dn a, dn b)
{
    dn r;
    r.v = a.v * b.v;
    for (int i = 0; i < NP; i++) r.d[i] = a.d[i] * b.v + b.d[i] * a.v;
    return r;
}
static dn ddiv(dn a, dn b)
{
    dn r;
    r.v = a.v / b.v;
    for (int i = 0; i < NP; i++) r.d[i] = (a.d[i] - r.v * b.d[i]) / b.v;
    return r;
}
/* f(a) with f'(a.v) = df */
static dn dun(dn a, double f, double df)
{
    a.v = f;
    for (int i = 0; i < NP; i++) a.d[i] *= df;
    return a;
}
static dn dexp(dn a) { double e = exp(a.v); return dun(a, e, e); }
static dn dlog(dn a) { return dun(a, log(a.v), 1.0 / a.v); }
static dn dpow(dn a, dn b) { return dexp(dmul(b, dlog(a))); }     /* a > 0 */
static dn dclamp(dn a, double lo, double hi)
{
    if (a.v < lo) return dc(lo);
    if (a.v > hi) return dc(hi);
    return a;
}

/* f = 0.9^(−1/w20) − 1 */
static dn dfactor(const double *w)
{
    dn w20 = dw(w, 20);
    return daddc(dexp(dmul(dun(w20, -1.0 / w20.v, 1.0 / (w20.v * w20.v)), dc(log(0.9)))), -1.0);
}

/* R(t, S) = (1 + f·t/S)^(−w20) */
static dn dretr(const double *w, double t, dn s)
{
    dn base = daddc(ddiv(dscale(dfactor(w), t), s), 1.0);
    return dpow(base, dscale(dw(w, 20), -1.0));
}

static dn dd0(const double *w, int g)
{
    /* w4 − e^(w5(G−1)) + 1 */
    return daddc(dsub(dw(w, 4), dexp(dscale(dw(w, 5), g - 1))), 1.0);
}

typedef struct dcard { dn s, d; int64_t last; uint32_t reps; } dcard;

static void dreview(const double *w, dcard *c, int g, int64_t at)
{
    if (c->reps == 0) {
        c->s = dclamp(dw(w, g - 1), KGN_FSRS_S_MIN, KGN_FSRS_S_MAX);
        c->d = dclamp(dd0(w, g), 1, 10);
        c->last = at;
        c->reps = 1;
        return;
    }
    double t = (double)(at - c->last) / 86400.0;
    dn s = c->s, d = c->d;
    if (t < 1.0) {
        /* S·e^(w17(G−3+w18))·S^(−w19), not below S from hard up */
        dn inc = dmul(dexp(dmul(dw(w, 17), daddc(dw(w, 18), g - 3))),
                      dpow(s, dscale(dw(w, 19), -1.0)));
        if (g >= KGN_HARD && inc.v < 1.0) inc = dc(1.0);
        s = dmul(s, inc);
    } else {
        dn r = dretr(w, t, s);
        dn one_r = daddc(dscale(r, -1.0), 1.0);
        if (g == KGN_AGAIN) {
            dn lt = dmul(dmul(dmul(dw(w, 11), dpow(d, dscale(dw(w, 12), -1.0))),
                              daddc(dpow(daddc(s, 1.0), dw(w, 13)), -1.0)),
                         dexp(dmul(dw(w, 14), one_r)));
            dn st = ddiv(s, dexp(dmul(dw(w, 17), dw(w, 18))));
            s = lt.v < st.v ? lt : st;
        } else {
            dn inc = dmul(dmul(dexp(dw(w, 8)), daddc(dscale(d, -1.0), 11.0)),
                          dmul(dpow(s, dscale(dw(w, 9), -1.0)),
                               daddc(dexp(dmul(dw(w, 10), one_r)), -1.0)));
            if (g == KGN_HARD) inc = dmul(inc, dw(w, 15));
            if (g == KGN_EASY) inc = dmul(inc, dw(w, 16));
            s = dmul(s, daddc(inc, 1.0));
        }
    }
    c->s = dclamp(s, KGN_FSRS_S_MIN, KGN_FSRS_S_MAX);
    /* D' = D − w6(G−3)(10−D)/9; D'' = w7·D0(4) + (1−w7)·D' */
    dn d1 = dsub(d, dscale(dmul(dw(w, 6), daddc(dscale(d, -1.0), 10.0)), (g - 3) / 9.0));
    dn w7 = dw(w, 7);
    dn d2 = dadd(dmul(w7, dd0(w, 4)), dmul(daddc(dscale(w7, -1.0), 1.0), d1));
    c->d = dclamp(d2, 1, 10);
    if (at > c->last) c->last = at;
    c->reps++;
}

/* Σ BCE over the samples of the used cards, with its gradient (grad may be
 * NULL for value only; the dual arithmetic runs either way). */
double kgn_fsrs_loss(const double *w, const kgn_fsrs_log *lg, const uint8_t *use,
                     double *grad, uint64_t *nsamples)
{
    double sum = 0;
    uint64_t n = 0;
    if (grad) memset(grad, 0, NP * sizeof *grad);
    for (uint32_t q = 0; q < lg->ncards; q++) {
        if (use && !use[q]) continue;
        dcard c = {0};
        for (uint32_t i = lg->off[q]; i < lg->off[q + 1]; i++) {
            int g = lg->g[i];
            if (g < 1 || g > 4) continue;
            if (c.reps && lg->t[i] - c.last >= 86400 && !(lg->skip && lg->skip[i])) {
                dn r = dretr(w, (double)(lg->t[i] - c.last) / 86400.0, c.s);
                double y = g > 1, p = r.v;
                double dl = 0;
                if (p < R_EPS) p = R_EPS;
                else if (p > 1 - R_EPS) p = 1 - R_EPS;
                else dl = y ? -1.0 / p : 1.0 / (1.0 - p);
                sum += y ? -log(p) : -log(1.0 - p);
                if (grad)
                    for (int k = 0; k < NP; k++) grad[k] += dl * r.d[k];
                n++;
            }
            dreview(w, &c, g, lg->t[i]);
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
