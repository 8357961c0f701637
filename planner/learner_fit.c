/* BKT EM per concept and dwell-time calibration; see learner_fit.h. */
#include "planner/learner_fit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define P_MIN 1e-4
#define P_MAX (1.0 - 1e-4)
#define GS_MAX 0.3

static double clampp(double x, double hi)
{
    return x < P_MIN ? P_MIN : x > hi ? hi : x;
}

static void emission(const kgn_bkt_params *p, uint8_t step, double e[2])
{
    switch (step) {
    case KGN_STEP_RIGHT: e[0] = p->guess;       e[1] = 1.0 - p->slip; break;
    case KGN_STEP_WRONG: e[0] = 1.0 - p->guess; e[1] = p->slip;       break;
    default:             e[0] = 1.0;            e[1] = 1.0;           break;
    }
}

static double rate(const kgn_bkt_params *p, uint8_t step)
{
    return step == KGN_STEP_READ ? p->learn_read : p->learn;
}

double kgn_bkt_loglik(const kgn_bkt_params *p, const uint8_t *steps,
                      const uint32_t *off, uint32_t nseq, uint64_t *nobs)
{
    double ll = 0;
    uint64_t no = 0;
    for (uint32_t q = 0; q < nseq; q++) {
        double L = p->prior;
        for (uint32_t t = off[q]; t < off[q + 1]; t++) {
            uint8_t s = steps[t];
            if (s != KGN_STEP_READ) {
                double pc = kgn_bkt_p_correct(p, L);
                ll += log(s == KGN_STEP_RIGHT ? pc : 1.0 - pc);
                no++;
                L = kgn_bkt_posterior(p, L, s == KGN_STEP_RIGHT);
            }
            L = kgn_bkt_transition(p, L, rate(p, s));
        }
    }
    if (nobs)
        *nobs = no;
    return ll;
}

/* Sufficient statistics of one E step. */
typedef struct em_acc {
    double prior_n, prior_d;
    double learn_n, learn_d, read_n, read_d;
    double guess_n, guess_d, slip_n, slip_d;
    double ll;
} em_acc;

/* Forward-backward over one sequence of len steps; a and b are scratch of
 * 2*len doubles, c of len. */
static void fb(const kgn_bkt_params *p, const uint8_t *st, uint32_t len,
               double *a, double *b, double *c, em_acc *acc)
{
    double e[2];
    emission(p, st[0], e);
    a[0] = (1.0 - p->prior) * e[0];
    a[1] = p->prior * e[1];
    c[0] = a[0] + a[1];
    a[0] /= c[0];
    a[1] /= c[0];
    for (uint32_t t = 1; t < len; t++) {
        double r = rate(p, st[t - 1]), f = p->forget;
        emission(p, st[t], e);
        double x0 = (a[2 * (t - 1)] * (1.0 - r) + a[2 * (t - 1) + 1] * f) * e[0];
        double x1 = (a[2 * (t - 1)] * r + a[2 * (t - 1) + 1] * (1.0 - f)) * e[1];
        c[t] = x0 + x1;
        a[2 * t] = x0 / c[t];
        a[2 * t + 1] = x1 / c[t];
    }
    b[2 * (len - 1)] = b[2 * (len - 1) + 1] = 1.0;
    for (uint32_t t = len - 1; t-- > 0;) {
        double r = rate(p, st[t]), f = p->forget;
        emission(p, st[t + 1], e);
        double n0 = e[0] * b[2 * (t + 1)] / c[t + 1];
        double n1 = e[1] * b[2 * (t + 1) + 1] / c[t + 1];
        b[2 * t] = (1.0 - r) * n0 + r * n1;
        b[2 * t + 1] = f * n0 + (1.0 - f) * n1;
        /* xi(0 -> 1) at t, and gamma(0) at t, for the learn rates */
        double xi01 = a[2 * t] * r * n1;
        double g0 = a[2 * t] * b[2 * t];
        if (st[t] == KGN_STEP_READ) {
            acc->read_n += xi01;
            acc->read_d += g0;
        } else {
            acc->learn_n += xi01;
            acc->learn_d += g0;
        }
    }
    for (uint32_t t = 0; t < len; t++) {
        double g0 = a[2 * t] * b[2 * t], g1 = a[2 * t + 1] * b[2 * t + 1];
        double z = g0 + g1;
        g0 /= z;
        g1 /= z;
        if (t == 0) {
            acc->prior_n += g1;
            acc->prior_d += 1.0;
        }
        if (st[t] == KGN_STEP_RIGHT) {
            acc->guess_n += g0;
        } else if (st[t] == KGN_STEP_WRONG) {
            acc->slip_n += g1;
        }
        if (st[t] != KGN_STEP_READ) {
            acc->guess_d += g0;
            acc->slip_d += g1;
        }
        acc->ll += log(c[t]);
    }
}

int kgn_bkt_em(kgn_bkt_params *p, const uint8_t *steps, const uint32_t *off,
               uint32_t nseq, int max_iter, double tol)
{
    uint32_t maxlen = 0;
    for (uint32_t q = 0; q < nseq; q++)
        if (off[q + 1] - off[q] > maxlen)
            maxlen = off[q + 1] - off[q];
    if (maxlen == 0)
        return 0;
    double *a = kg_malloc(sizeof(double) * 5 * maxlen);
    if (!a)
        return 0;
    double *b = a + 2 * maxlen, *c = b + 2 * maxlen;
    const kgn_bkt_params d0 = *p;       /* prior means of the Beta priors */
    const double m = KGN_FIT_PSEUDO;
    double prev = -INFINITY;
    int it;
    for (it = 0; it < max_iter; it++) {
        em_acc acc = {0};
        for (uint32_t q = 0; q < nseq; q++)
            if (off[q + 1] > off[q])
                fb(p, steps + off[q], off[q + 1] - off[q], a, b, c, &acc);
        p->prior = clampp((acc.prior_n + m * d0.prior) / (acc.prior_d + m), P_MAX);
        p->learn = clampp((acc.learn_n + m * d0.learn) / (acc.learn_d + m), P_MAX);
        p->learn_read = clampp((acc.read_n + m * d0.learn_read) / (acc.read_d + m), P_MAX);
        p->guess = clampp((acc.guess_n + m * d0.guess) / (acc.guess_d + m), GS_MAX);
        p->slip = clampp((acc.slip_n + m * d0.slip) / (acc.slip_d + m), GS_MAX);
        if (acc.ll - prev < tol && it > 0) {
            it++;
            break;
        }
        prev = acc.ll;
    }
    kg_free(a);
    return it;
}

void kgn_fit_options_init(kgn_fit_options *o)
{
    *o = (kgn_fit_options){ .min_obs = KGN_FIT_MIN_OBS,
                            .min_learners = KGN_FIT_MIN_LEARNERS,
                            .max_iter = 200, .start = kgn_bkt_defaults };
}

/* Log-likelihood of p0·exp(−kappa·x) on the lessons (e[i] = exp(−kappa·x[i])). */
static double strength_ll(const double *e, const uint8_t *y, size_t n, double p0,
                          double g, double s)
{
    double ll = 0;
    for (size_t i = 0; i < n; i++) {
        double p = g + (1 - g - s) * p0 * e[i];
        if (p < 1e-9) p = 1e-9;
        if (p > 1 - 1e-9) p = 1 - 1e-9;
        ll += y[i] ? log(p) : log(1 - p);
    }
    return ll;
}

void kgn_fit_strength(const double *x, const uint8_t *y, size_t n, double g0, double sl,
                      kgn_strength *out)
{
    *out = (kgn_strength){ .kappa = 0, .p0 = 1, .n = n };
    if (n == 0)
        return;
    double *e = kg_malloc(sizeof *e * n);
    if (!e)
        return;
    double best = -INFINITY;
    for (int k = 0; k <= 200; k++) {
        double kappa = 0.05 * k;
        for (size_t i = 0; i < n; i++)
            e[i] = exp(-kappa * x[i]);
        /* golden section on p0 in [0.001, 0.999] */
        double a = 0.001, b = 0.999, g = 0.5 * (sqrt(5.0) - 1);
        double c = b - g * (b - a), d = a + g * (b - a);
        double fc = strength_ll(e, y, n, c, g0, sl), fd = strength_ll(e, y, n, d, g0, sl);
        for (int it = 0; it < 40; it++) {
            if (fc > fd) { b = d; d = c; fd = fc; c = b - g * (b - a); fc = strength_ll(e, y, n, c, g0, sl); }
            else         { a = c; c = d; fc = fd; d = a + g * (b - a); fd = strength_ll(e, y, n, d, g0, sl); }
        }
        double p0 = 0.5 * (a + b), ll = strength_ll(e, y, n, p0, g0, sl);
        if (k == 0)
            out->ll0 = ll;
        if (ll > best) {
            best = ll;
            out->kappa = kappa;
            out->p0 = p0;
            out->ll = ll;
        }
    }
    kg_free(e);
}

int kgn_fit_is_holdout(const char *learner)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *s = (const unsigned char *)learner; *s; s++) {
        h ^= *s;
        h *= 0x100000001b3ULL;
    }
    return h % KGN_FIT_HOLDOUT == 0;
}

static int cmp_ev(const void *x, const void *y, void *ctx)
{
    const kgg_event *ev = ctx;
    const kgg_event *a = &ev[*(const size_t *)x], *b = &ev[*(const size_t *)y];
    int c = strcmp(a->concept, b->concept);
    if (c) return c;
    if ((c = strcmp(a->learner, b->learner))) return c;
    if (a->at != b->at) return a->at < b->at ? -1 : 1;
    return *(const size_t *)x < *(const size_t *)y ? -1 : 1;
}

static int cmp_dbl(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static uint8_t step_of(const kgg_event *e)
{
    if (e->kind == KGG_EV_READ)
        return e->dwell >= 0 && e->dwell < KGN_BKT_MIN_DWELL ? 0xff : KGN_STEP_READ;
    int o = kgn_event_outcome(e);
    return o < 0 ? 0xff : (uint8_t)o;
}

void kgn_fit_result_free(kgn_fit_result *r)
{
    if (!r)
        return;
    kg_arena_free(r->arena);
    *r = (kgn_fit_result){0};
}

static double median(double *v, uint32_t n)
{
    qsort(v, n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Review dwell samples (seconds) of one concept, recalled and failed. */
typedef struct rev_acc { double *ok, *fail; uint32_t nok, nfail; } rev_acc;

/* Fits one concept: events idx[lo..hi) sorted by learner then time. */
static int fit_one(const kgg_event *ev, const size_t *idx, size_t lo, size_t hi,
                   const kgn_fit_options *o, const kgn_bkt_params *pop, kgn_fit_concept *fc,
                   uint8_t *steps, uint32_t *tr_off, uint32_t *te_off,
                   uint8_t *te_steps, double *dw, rev_acc *ra)
{
    uint32_t ntr = 0, nte = 0, ltr = 0, lte = 0, ndw = 0;
    ra->nok = ra->nfail = 0;
    tr_off[0] = te_off[0] = 0;
    fc->learners = 0;
    for (size_t i = lo; i < hi;) {
        const char *who = ev[idx[i]].learner;
        int hold = kgn_fit_is_holdout(who);
        double dwell = 0;
        size_t j = i;
        for (; j < hi && strcmp(ev[idx[j]].learner, who) == 0; j++) {
            const kgg_event *e = &ev[idx[j]];
            uint8_t s = step_of(e);
            if (e->kind == KGG_EV_READ && e->dwell >= KGN_BKT_MIN_DWELL)
                dwell += e->dwell;
            if (e->kind == KGG_EV_REVIEW && e->dwell > 0) {
                if (e->grade == KGN_AGAIN) ra->fail[ra->nfail++] = e->dwell;
                else ra->ok[ra->nok++] = e->dwell;
            }
            if (s == 0xff)
                continue;
            if (hold)
                te_steps[lte++] = s;
            else
                steps[ltr++] = s;
        }
        fc->learners++;
        if (dwell > 0)
            dw[ndw++] = dwell;
        if (hold)
            te_off[++nte] = lte;
        else
            tr_off[++ntr] = ltr;
        i = j;
    }
    /* held-out comparison against the defaults; the fit starts from (and
     * is shrunk towards) the population, which unfitted concepts get */
    kgn_bkt_params def = o->start, fit = *pop;
    uint64_t ntrain = 0, ntest = 0;
    kgn_bkt_loglik(&def, steps, tr_off, ntr, &ntrain);
    fc->ntrain = ntrain;
    fc->fitted = ntrain >= o->min_obs;
    if (fc->fitted)
        kgn_bkt_em(&fit, steps, tr_off, ntr, o->max_iter, 1e-6);
    fc->p = fit;
    fc->ll_default = kgn_bkt_loglik(&def, te_steps, te_off, nte, &ntest);
    fc->ll_fit = fc->fitted ? kgn_bkt_loglik(&fit, te_steps, te_off, nte, NULL)
                            : fc->ll_default;
    fc->ntest = ntest;
    fc->ndwell = ndw;
    fc->minutes = -1;
    if (ndw >= o->min_learners && ndw > 0)
        fc->minutes = median(dw, ndw) / 60.0;
    fc->nreview_ok = ra->nok;
    fc->nreview_fail = ra->nfail;
    fc->review_ok = ra->nok >= o->min_learners && ra->nok ? median(ra->ok, ra->nok) / 60.0 : -1;
    fc->review_fail = ra->nfail >= o->min_learners && ra->nfail
                      ? median(ra->fail, ra->nfail) / 60.0 : -1;
    return 0;
}

/* Lesson minutes of fc: calibrated, else the caller's; <= 0 unknown. */
static double lesson_minutes(const kgn_fit_options *o, const kgn_fit_concept *fc)
{
    if (fc->minutes > 0) return fc->minutes;
    return o->lesson_minutes ? o->lesson_minutes(o->lesson_minutes_ud, fc->concept) : -1;
}

int kgn_fit_events(const kgg_event *ev, size_t n, const kgn_fit_options *opt,
                   kgn_fit_result *out)
{
    kgn_fit_options o;
    if (opt) {
        o = *opt;
        if (!o.min_obs) o.min_obs = KGN_FIT_MIN_OBS;
        if (!o.min_learners) o.min_learners = KGN_FIT_MIN_LEARNERS;
        if (!o.max_iter) o.max_iter = 200;
    } else {
        kgn_fit_options_init(&o);
    }
    *out = (kgn_fit_result){0};
    if (!(out->arena = kg_arena_new()))
        return -1;
    size_t *idx = kg_malloc(sizeof *idx * (n ? n : 1));
    uint8_t *steps = kg_malloc(2 * (n ? n : 1));
    uint32_t *offs = kg_malloc(sizeof *offs * 2 * (n + 2));
    double *dw = kg_malloc(sizeof *dw * (n ? n : 1));
    /* review dwell of the concept at hand, and the population's ratios */
    double *rv = kg_malloc(sizeof *rv * 4 * (n ? n : 1));
    rev_acc ra = { rv, rv ? rv + n : NULL, 0, 0 };
    double *pok = rv ? rv + 2 * n : NULL, *pfail = rv ? rv + 3 * n : NULL;
    uint32_t npok = 0, npfail = 0;
    size_t nconc = 0;
    int rc = -1;
    if (!idx || !steps || !offs || !dw || !rv)
        goto done;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    qsort_r(idx, n, sizeof *idx, cmp_ev, (void *)ev);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(ev[idx[i]].concept, ev[idx[i - 1]].concept))
            nconc++;
    out->c = kg_arena_calloc(out->arena, sizeof *out->c * (nconc ? nconc : 1));
    if (!out->c)
        goto done;
    /* the population: every (concept, learner) training sequence pooled */
    out->pop = o.start;
    {
        uint32_t nseq = 0, len = 0;
        offs[0] = 0;
        for (size_t i = 0; i < n;) {
            const kgg_event *e0 = &ev[idx[i]];
            size_t j = i;
            int hold = kgn_fit_is_holdout(e0->learner);
            for (; j < n && !strcmp(ev[idx[j]].concept, e0->concept) &&
                   !strcmp(ev[idx[j]].learner, e0->learner); j++) {
                uint8_t st = step_of(&ev[idx[j]]);
                if (!hold && st != 0xff)
                    steps[len++] = st;
            }
            if (!hold && len > offs[nseq])
                offs[++nseq] = len;
            i = j;
        }
        kgn_bkt_loglik(&out->pop, steps, offs, nseq, &out->pop_ntrain);
        out->pop_fitted = out->pop_ntrain >= o.min_obs;
        if (out->pop_fitted)
            kgn_bkt_em(&out->pop, steps, offs, nseq, o.max_iter, 1e-6);
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && strcmp(ev[idx[j]].concept, ev[idx[i]].concept) == 0)
            j++;
        kgn_fit_concept *fc = &out->c[out->n++];
        if (!(fc->concept = kg_arena_strdup(out->arena, ev[idx[i]].concept)))
            goto done;
        fit_one(ev, idx, i, j, &o, &out->pop, fc, steps, offs, offs + n + 2, steps + n, dw, &ra);
        double lm = lesson_minutes(&o, fc);
        for (uint32_t k = 0; k < ra.nok && lm > 0; k++) pok[npok++] = ra.ok[k] / 60.0 / lm;
        for (uint32_t k = 0; k < ra.nfail && lm > 0; k++) pfail[npfail++] = ra.fail[k] / 60.0 / lm;
        out->nfitted += fc->fitted;
        out->nminutes += fc->minutes >= 0;
        out->ntrain += fc->ntrain;
        out->ntest += fc->ntest;
        out->ll_fit += fc->ll_fit;
        out->ll_default += fc->ll_default;
        i = j;
    }
    out->nreview_ok = npok;
    out->nreview_fail = npfail;
    out->review_ratio_ok = npok >= o.min_learners && npok ? median(pok, npok) : -1;
    out->review_ratio_fail = npfail >= o.min_learners && npfail ? median(pfail, npfail) : -1;
    for (size_t i = 0; i < out->n; i++) {
        kgn_fit_concept *fc = &out->c[i];
        double lm = lesson_minutes(&o, fc);
        if (fc->review_ok < 0 && out->review_ratio_ok > 0 && lm > 0)
            fc->review_ok = out->review_ratio_ok * lm;
        if (fc->review_fail < 0 && out->review_ratio_fail > 0 && lm > 0)
            fc->review_fail = out->review_ratio_fail * lm;
        out->nreview_minutes += fc->review_ok >= 0 || fc->review_fail >= 0;
    }
    rc = 0;
done:
    kg_free(rv);
    kg_free(idx);
    kg_free(steps);
    kg_free(offs);
    kg_free(dw);
    if (rc)
        kgn_fit_result_free(out);
    return rc;
}
