/* FSRS-6 fitting (planner/learner_fsrs_fit.h): exact gradients, recovery
 * of known weights from synthetic review logs generated with them, and a
 * lower held-out log loss than the defaults. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "planner/learner_fsrs.h"
#include "planner/learner_fsrs_fit.h"

#define DAY 86400

typedef struct synth {
    int64_t *t;
    uint8_t *g;
    uint32_t *off;
    uint32_t ncards;
    uint8_t *train, *test;
} synth;

static uint64_t rs;
static double ur(void)
{
    rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
    return (double)(rs >> 11) / 9007199254740992.0;
}

/* Cards reviewed at intervals around their true stability (×e^±1), the
 * outcome drawn from the true recall; some get a same-day second look.
 * Every fifth card is held out. */
static void synth_make(synth *s, const double *w, uint32_t ncards, uint64_t seed)
{
    rs = seed;
    s->ncards = ncards;
    s->t = malloc(sizeof *s->t * ncards * 10);
    s->g = malloc(ncards * 10);
    s->off = malloc(sizeof *s->off * (ncards + 1));
    s->train = malloc(ncards);
    s->test = malloc(ncards);
    uint32_t n = 0;
    for (uint32_t q = 0; q < ncards; q++) {
        s->off[q] = n;
        kgn_fsrs_card c = {0};
        int64_t now = 1700000000 + (int64_t)(ur() * DAY * 30);
        double u = ur();
        int gr = u < 0.1 ? 1 : u < 0.25 ? 2 : u < 0.85 ? 3 : 4;
        s->t[n] = now; s->g[n++] = (uint8_t)gr;
        kgn_fsrs_review(w, &c, gr, now);
        if (ur() < 0.5) {
            now += 600;
            s->t[n] = now; s->g[n++] = 3;
            kgn_fsrs_review(w, &c, 3, now);
        }
        for (int k = 0; k < 7; k++) {
            double ivl = c.stability * exp((ur() - 0.5) * 2.0);
            if (ivl < 1) ivl = 1 + ur();
            now += (int64_t)(ivl * DAY);
            int ok = ur() < kgn_fsrs_card_r(w, &c, now);
            u = ur();
            gr = ok ? (u < 0.15 ? 2 : u < 0.85 ? 3 : 4) : 1;
            s->t[n] = now; s->g[n++] = (uint8_t)gr;
            kgn_fsrs_review(w, &c, gr, now);
        }
        s->train[q] = q % 5 != 0;
        s->test[q] = q % 5 == 0;
    }
    s->off[ncards] = n;
}

static void synth_free(synth *s)
{
    free(s->t); free(s->g); free(s->off); free(s->train); free(s->test);
}

static kgn_fsrs_log as_log(const synth *s)
{
    return (kgn_fsrs_log){s->t, s->g, s->off, s->ncards, NULL};
}

/* The weights the synthetic learners were made with: far from the
 * defaults where kgpath's learners are (first stability days, not hours). */
static void true_weights(double *w)
{
    memcpy(w, kgn_fsrs_default_w, sizeof *w * KGN_FSRS_NW);
    w[0] = 0.8; w[1] = 2.0; w[2] = 6.0; w[3] = 15.0;
    w[8] = 1.2; w[20] = 0.3;
}

START_TEST(fit_recovers_known_weights)
{
    double wt[KGN_FSRS_NW], w[KGN_FSRS_NW];
    true_weights(wt);
    synth s;
    synth_make(&s, wt, 1500, 88172645463325252ull);
    kgn_fsrs_log lg = as_log(&s);
    uint64_t ns = 0;
    kgn_fsrs_fit_options o = {.iterations = 150};
    ck_assert_int_eq(kgn_fsrs_fit(&lg, s.train, &o, w, &ns), 0);
    ck_assert_uint_gt(ns, 5000);
    /* the weights the data pin down: first stability of "good" (most
     * first grades), the decay, and the success increase */
    ck_assert_msg(fabs(w[2] - wt[2]) < 0.25 * wt[2], "w2 %.3f, true %.3f", w[2], wt[2]);
    ck_assert_msg(fabs(w[20] - wt[20]) < 0.08, "w20 %.3f, true %.3f", w[20], wt[20]);
    ck_assert_msg(fabs(w[8] - wt[8]) < 0.6, "w8 %.3f, true %.3f", w[8], wt[8]);
    /* ... moved from the defaults towards the truth */
    ck_assert(fabs(w[2] - wt[2]) < fabs(kgn_fsrs_default_w[2] - wt[2]) / 3);
    /* held out: as good as the true weights, better than the defaults */
    kgn_fsrs_metrics mt, md, mf;
    ck_assert_int_eq(kgn_fsrs_evaluate(wt, &lg, s.test, &mt), 0);
    ck_assert_int_eq(kgn_fsrs_evaluate(kgn_fsrs_default_w, &lg, s.test, &md), 0);
    ck_assert_int_eq(kgn_fsrs_evaluate(w, &lg, s.test, &mf), 0);
    ck_assert_uint_eq(mt.n, mf.n);
    ck_assert_msg(mf.logloss < md.logloss - 0.005, "fitted %.4f, defaults %.4f",
                  mf.logloss, md.logloss);
    ck_assert_msg(mf.logloss < mt.logloss + 0.005, "fitted %.4f, true %.4f",
                  mf.logloss, mt.logloss);
    ck_assert_msg(mf.rmse_bins < md.rmse_bins, "RMSE(bins) fitted %.4f, defaults %.4f",
                  mf.rmse_bins, md.rmse_bins);
    /* every weight within the fsrs-rs bounds */
    double c[KGN_FSRS_NW];
    memcpy(c, w, sizeof c);
    kgn_fsrs_clip(c);
    ck_assert_mem_eq(c, w, sizeof c);
    synth_free(&s);
}
END_TEST

/* Data made with the defaults: the fit stays near them (the prior and the
 * data agree), and its held-out loss is no worse. */
START_TEST(fit_on_default_data_stays)
{
    double w[KGN_FSRS_NW];
    synth s;
    synth_make(&s, kgn_fsrs_default_w, 600, 12345);
    kgn_fsrs_log lg = as_log(&s);
    kgn_fsrs_fit_options o = {.iterations = 80};
    ck_assert_int_eq(kgn_fsrs_fit(&lg, s.train, &o, w, NULL), 0);
    kgn_fsrs_metrics md, mf;
    kgn_fsrs_evaluate(kgn_fsrs_default_w, &lg, s.test, &md);
    kgn_fsrs_evaluate(w, &lg, s.test, &mf);
    ck_assert_msg(mf.logloss < md.logloss + 0.01, "fitted %.4f, defaults %.4f",
                  mf.logloss, md.logloss);
    ck_assert_msg(fabs(w[2] - kgn_fsrs_default_w[2]) < 1.0, "w2 %.3f", w[2]);
    synth_free(&s);
}
END_TEST

/* The per-learner form (free_w w0..w3, tie_first): data made with the
 * defaults' first stabilities times 3 give back one common factor near 3;
 * the ratios among w0..w3 and every other weight stay exactly as started. */
START_TEST(fit_tied_first_stability)
{
    double wt[KGN_FSRS_NW], w[KGN_FSRS_NW];
    memcpy(wt, kgn_fsrs_default_w, sizeof wt);
    for (int k = 0; k < 4; k++)
        wt[k] *= 3;
    synth s;
    synth_make(&s, wt, 300, 4242);
    kgn_fsrs_log lg = as_log(&s);
    static const uint8_t first[KGN_FSRS_NW] = {1, 1, 1, 1};
    kgn_fsrs_fit_options o = {.iterations = 100, .free_w = first, .tie_first = 1};
    ck_assert_int_eq(kgn_fsrs_fit(&lg, NULL, &o, w, NULL), 0);
    double f = w[2] / kgn_fsrs_default_w[2];
    ck_assert_msg(f > 2.4 && f < 3.6, "factor %.3f, true 3", f);
    for (int k = 0; k < 4; k++)
        ck_assert_double_eq_tol(w[k] / kgn_fsrs_default_w[k], f, 1e-9 * f);
    for (int k = 4; k < KGN_FSRS_NW; k++)
        ck_assert_double_eq(w[k], kgn_fsrs_default_w[k]);
    synth_free(&s);
}
END_TEST

/* No samples (single reviews only): the start weights come back. Metrics
 * by hand on a two-review card: one sample, log loss −ln R. */
START_TEST(fit_degenerate_and_metrics_by_hand)
{
    int64_t t[3] = {0, 10 * DAY, 20 * DAY};
    uint8_t g[3] = {3, 3, 1};
    uint32_t off[3] = {0, 1, 3};
    kgn_fsrs_log lg = {t + 1, g + 1, off, 1, NULL};   /* one card, one review */
    double w[KGN_FSRS_NW];
    uint64_t ns = 7;
    ck_assert_int_eq(kgn_fsrs_fit(&lg, NULL, NULL, w, &ns), 0);
    ck_assert_uint_eq(ns, 0);
    ck_assert_mem_eq(w, kgn_fsrs_default_w, sizeof w);
    /* card: good at day 0, good at day 10 */
    kgn_fsrs_log l2 = {t, g, (uint32_t[]){0, 2}, 1, NULL};
    kgn_fsrs_metrics m;
    ck_assert_int_eq(kgn_fsrs_evaluate(kgn_fsrs_default_w, &l2, NULL, &m), 0);
    ck_assert_uint_eq(m.n, 1);
    double r = kgn_fsrs_retrievability(kgn_fsrs_default_w, 10, kgn_fsrs_default_w[2]);
    ck_assert_double_eq_tol(m.logloss, -log(r), 1e-12);
    ck_assert_double_eq_tol(m.rmse_bins, 1 - r, 1e-12);
}
END_TEST

/* The gradient points downhill: one tiny step lowers the loss
 * (a wrong sign or a lost term would not). */
START_TEST(gradient_step_descends)
{
    double wt[KGN_FSRS_NW];
    true_weights(wt);
    synth s;
    synth_make(&s, wt, 60, 777);
    kgn_fsrs_log lg = as_log(&s);
    double w0[KGN_FSRS_NW], w1[KGN_FSRS_NW];
    memcpy(w0, kgn_fsrs_default_w, sizeof w0);
    kgn_fsrs_fit_options o = {.iterations = 1, .lr = 1e-3, .gamma = -1};
    ck_assert_int_eq(kgn_fsrs_fit(&lg, NULL, &o, w1, NULL), 0);
    kgn_fsrs_metrics a, b;
    kgn_fsrs_evaluate(w0, &lg, NULL, &a);
    kgn_fsrs_evaluate(w1, &lg, NULL, &b);
    ck_assert_msg(b.logloss < a.logloss, "one step: %.6f -> %.6f", a.logloss, b.logloss);
    synth_free(&s);
}
END_TEST

/* The gradient equals central finite differences of the loss, weight by
 * weight, on a log with every branch of the replay: same-day reviews
 * (short-term S), again / hard / good / easy, and a skipped review. A lost
 * chain term (dS/dw carried from review to review) or a wrong partial
 * fails. */
START_TEST(gradient_matches_finite_differences)
{
    double wt[KGN_FSRS_NW];
    true_weights(wt);
    synth s;
    synth_make(&s, wt, 40, 4242);
    uint8_t *skip = calloc(s.off[s.ncards], 1);
    for (uint32_t i = 0; i < s.off[s.ncards]; i += 7)
        skip[i] = 1;
    kgn_fsrs_log lg = {s.t, s.g, s.off, s.ncards, skip};
    int grades[5] = {0};
    for (uint32_t i = 0; i < s.off[s.ncards]; i++)
        grades[s.g[i]]++;
    ck_assert(grades[1] && grades[2] && grades[3] && grades[4]);
    /* a point inside every bound, away from the clamps */
    double w[KGN_FSRS_NW], g[KGN_FSRS_NW], wp[KGN_FSRS_NW];
    memcpy(w, kgn_fsrs_default_w, sizeof w);
    w[19] = 0.3;
    w[20] = 0.4;
    kgn_fsrs_loss(w, &lg, NULL, g, NULL);
    for (int k = 0; k < KGN_FSRS_NW; k++) {
        double h = 1e-6 * (fabs(w[k]) + 1e-3);
        memcpy(wp, w, sizeof wp);
        wp[k] = w[k] + h;
        double lp = kgn_fsrs_loss(wp, &lg, NULL, NULL, NULL);
        wp[k] = w[k] - h;
        double lm = kgn_fsrs_loss(wp, &lg, NULL, NULL, NULL);
        double fd = (lp - lm) / (2 * h);
        ck_assert_msg(fabs(fd - g[k]) <= 1e-4 * (fabs(fd) + 1),
                      "w%d: gradient %.8g, finite differences %.8g", k, g[k], fd);
    }
    free(skip);
    synth_free(&s);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("fsrs_fit");
    TCase *t = tcase_create("fit");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, fit_recovers_known_weights);
    tcase_add_test(t, fit_on_default_data_stays);
    tcase_add_test(t, fit_tied_first_stability);
    tcase_add_test(t, fit_degenerate_and_metrics_by_hand);
    tcase_add_test(t, gradient_step_descends);
    tcase_add_test(t, gradient_matches_finite_differences);
    suite_add_tcase(s, t);
    return s;
}
