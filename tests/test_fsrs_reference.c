/* kgpath's FSRS-6 against the published reference values of the FSRS
 * projects for known review logs (issue 14: "check against the published
 * FSRS-6 reference values for a known review log").
 *
 * Sources (open-spaced-repetition on GitHub; the numbers are copied from
 * their unit tests, which run in f32, hence the tolerances):
 *  - fsrs-rs src/inference.rs, tests test_memory_state, test_next_interval,
 *    test_memo_state and test_next_states (the FSRS-6 release with
 *    DEFAULT_PARAMETERS = 0.212, 1.2931, ..., 0.1542; the 19-weight tests run
 *    as FSRS-5, w19 = 0 and w20 = 0.5, by fsrs-rs's own check_and_fill);
 *  - fsrs-rs src/model_v6.rs (commit 48b7d2f61fa51b16b1c74c9271b01f33fd5adbb0),
 *    test_power_forgetting_curve;
 *  - fsrs-rs src/training.rs, test_loss_and_grad (FSRS-6 version: loss
 *    4.0466027 and the 21-weight gradient for a batch of four cards, one
 *    Adam step with lr 0.04 and the parameter clipper, the L2 penalty, a
 *    second loss, gradient and step);
 *  - py-fsrs tests/test_basic.py (FSRS-6 release, `from fsrs.scheduler
 *    import Scheduler`), test_review_card, test_memo_state and
 *    test_repeated_correct_reviews.
 * The exact commits of inference.rs, training.rs and test_basic.py were not
 * visible in the index they were read from; the values are those of the
 * FSRS-6 test suites (the same vectors appear in py-fsrs and fsrs-rs).
 *
 * Not checked against a published log: the optimiser's end result. fsrs-rs's
 * training test runs on an Anki collection (tests/data) through its own
 * pre-training, outlier filter, mini-batches and seed; kgpath's optimiser is
 * deliberately different (full batch, all 21 weights, log-space steps for
 * w0-w3; planner/learner_fsrs_fit.h), so its weights would not match. What
 * the optimiser is built from — the loss, its gradient and the bounds — is
 * checked here against fsrs-rs's values; recovery of known weights is in
 * test_fsrs_fit. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planner/learner_fsrs.h"
#include "planner/learner_fsrs_fit.h"

#define DAY 86400
#define W kgn_fsrs_default_w

/* |got − want| ≤ tol·max(1, |want|) */
#define NEAR(got, want, tol, what)                                                     \
    ck_assert_msg(fabs((got) - (want)) <= (tol) * fmax(1.0, fabs(want)),               \
                  "%s: kgpath %.9g, reference %.9g", (what), (double)(got), (double)(want))

/* Replays grades g[i] at day offsets day[i] (days since the first review;
 * equal days: same-day reviews) on a fresh card. */
static kgn_fsrs_card replay(const double *w, const int *g, const int *day, int n)
{
    kgn_fsrs_card c = {0};
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(kgn_fsrs_review(w, &c, g[i], 1669725000 + (int64_t)day[i] * DAY), 0);
    return c;
}

/* fsrs-rs test_memory_state and py-fsrs test_memo_state: again, good on the
 * same day, then good after 1, 3, 8 and 21 days (cumulative days 0 0 1 4
 * 12 33): S 53.62691, D 6.3574867 (abs 1e-4 in both sources); with the
 * same-day weights w17-w19 set to 0, S 53.335106 and the same D. */
START_TEST(memory_state_known_log)
{
    const int g[6] = {1, 3, 3, 3, 3, 3}, day[6] = {0, 0, 1, 4, 12, 33};
    kgn_fsrs_card c = replay(W, g, day, 6);
    ck_assert_msg(fabs(c.stability - 53.62691) < 1e-4, "S %.7f", c.stability);
    ck_assert_msg(fabs(c.difficulty - 6.3574867) < 1e-4, "D %.7f", c.difficulty);
    double w[KGN_FSRS_NW];
    memcpy(w, W, sizeof w);
    w[17] = w[18] = w[19] = 0;
    c = replay(w, g, day, 6);
    ck_assert_msg(fabs(c.stability - 53.335106) < 1e-4, "S %.7f", c.stability);
    ck_assert_msg(fabs(c.difficulty - 6.3574867) < 1e-4, "D %.7f", c.difficulty);
}
END_TEST

/* fsrs-rs test_next_interval: S = 1, desired retention 0.1 .. 1.0, interval
 * rounded, at least 1 (assert_eq there; f32 arithmetic, so the two largest,
 * 3.1 million and 34,793 days, are compared to 2e-6 relative here). */
START_TEST(next_interval_table)
{
    const double want[10] = {3116766, 34793, 2508, 387, 90, 27, 9, 3, 1, 1};
    for (int i = 1; i <= 10; i++) {
        double ivl = kgn_fsrs_interval(W, 1.0, i / 10.0);
        double got = fmax(1.0, round(ivl));
        if (want[i - 1] > 10000)
            NEAR(got, want[i - 1], 2e-6 * want[i - 1], "interval");
        else
            ck_assert_msg(got == want[i - 1], "r %.1f: %g days, reference %g", i / 10.0,
                          got, want[i - 1]);
    }
    /* the rounded helper agrees where it is not capped */
    ck_assert_int_eq(kgn_fsrs_interval_days(W, 1.0, 0.3, 36500), 2508);
    ck_assert_int_eq(kgn_fsrs_interval_days(W, 1.0, 0.9, 36500), 1);
}
END_TEST

/* fsrs-rs model_v6.rs test_power_forgetting_curve (abs 1e-5). */
START_TEST(forgetting_curve)
{
    const double t[6] = {0, 1, 2, 3, 4, 5}, s[6] = {1, 2, 3, 4, 4, 2};
    const double want[6] = {1.0, 0.9403443, 0.9253786, 0.9185229, 0.9, 0.8261359};
    for (int i = 0; i < 6; i++)
        ck_assert_msg(fabs(kgn_fsrs_retrievability(W, t[i], s[i]) - want[i]) < 1e-5,
                      "R(%g, %g) = %.7f, reference %.7f", t[i], s[i],
                      kgn_fsrs_retrievability(W, t[i], s[i]), want[i]);
}
END_TEST

/* fsrs-rs inference.rs PARAMETERS (19 weights, run as FSRS-5: w19 0, w20
 * 0.5): test_memo_state and test_next_states. The same model code with the
 * decay fixed, so these check the lapse floor S/e^(w17·w18) and the hard and
 * easy factors on a known log. Exact in f32 there; 2e-6 relative here. */
static void fsrs5_params(double *w)
{
    const double p[19] = {0.6845422, 1.6790825, 4.7349424, 10.042885, 7.4410233,
                          0.64219797, 1.071918, 0.0025195254, 1.432437, 0.1544,
                          0.8692766, 2.0696752, 0.0953, 0.2975, 2.4691248,
                          0.19542035, 3.201072, 0.18046261, 0.121442534};
    memcpy(w, p, sizeof p);
    w[19] = 0.0;
    w[20] = 0.5;
}

START_TEST(fsrs5_memo_and_next_states)
{
    double w[KGN_FSRS_NW];
    fsrs5_params(w);
    ck_assert_double_eq_tol(kgn_fsrs_factor(w), 19.0 / 81.0, 1e-12);
    const int g[5] = {1, 3, 3, 3, 3}, day[5] = {0, 1, 4, 12, 33};
    kgn_fsrs_card c = replay(w, g, day, 5);
    NEAR(c.stability, 31.722992, 2e-6, "memo S");
    NEAR(c.difficulty, 7.382128, 2e-6, "memo D");
    /* next_states from S 20.925528, D 7.005062 after 21 days, good */
    kgn_fsrs_card s = {20.925528, 7.005062, 0, 2, 0};
    ck_assert_int_eq(kgn_fsrs_review(w, &s, 3, 21 * DAY), 0);
    NEAR(s.stability, 40.87456, 2e-6, "next good S");
    NEAR(s.difficulty, 6.9913807, 2e-6, "next good D");
    /* test_next_states: the first four reviews, then each grade after 21
     * days; the interval at retention 0.9 is the stability */
    const double ws[4] = {2.9691455, 17.091452, 31.722992, 71.7502};
    const double wd[4] = {8.000659, 7.6913934, 7.382128, 7.0728626};
    kgn_fsrs_card base = replay(w, g, day, 4);
    for (int gr = 1; gr <= 4; gr++) {
        kgn_fsrs_card x = base;
        ck_assert_int_eq(kgn_fsrs_review(w, &x, gr, base.last + 21 * DAY), 0);
        NEAR(x.stability, ws[gr - 1], 2e-6, "next_states S");
        NEAR(x.difficulty, wd[gr - 1], 2e-6, "next_states D");
        NEAR(kgn_fsrs_interval(w, x.stability, 0.9), ws[gr - 1], 2e-6, "next_states interval");
    }
    NEAR(kgn_fsrs_interval(w, 121.01552, 0.9), 121.01551, 2e-6, "next_interval");
}
END_TEST

/* py-fsrs test_review_card: Scheduler(enable_fuzzing=False) — learning
 * steps 1 and 10 minutes, one relearning step of 10 minutes, retention 0.9
 * — good ×6, again ×2, good ×5 from 2022-11-29 12:30 UTC, each review when
 * the card is due; whole days between review and due:
 * 0 2 11 46 163 498 0 0 2 4 7 12 21 (exact). The steps are py-fsrs's
 * scheduler, replayed here (only again and good occur); the memory model,
 * the same-day rule and the interval (rounded, at least 1 day) are
 * kgpath's. */
START_TEST(py_fsrs_review_card_intervals)
{
    enum { LEARNING, REVIEW, RELEARNING };
    const int grades[13] = {3, 3, 3, 3, 3, 3, 1, 1, 3, 3, 3, 3, 3};
    const int want[13] = {0, 2, 11, 46, 163, 498, 0, 0, 2, 4, 7, 12, 21};
    const int64_t learn[2] = {60, 600}, relearn[1] = {600};
    int state = LEARNING, step = 0;
    int64_t now = 1669725000;
    kgn_fsrs_card c = {0};
    for (int i = 0; i < 13; i++) {
        int g = grades[i];
        ck_assert_int_eq(kgn_fsrs_review(W, &c, g, now), 0);
        int64_t days = kgn_fsrs_interval_days(W, c.stability, 0.9, 36500) * (int64_t)DAY;
        int64_t ivl;
        if (state == REVIEW) {
            if (g == KGN_AGAIN) { state = RELEARNING; step = 0; ivl = relearn[0]; }
            else ivl = days;
        } else {
            const int64_t *steps = state == LEARNING ? learn : relearn;
            int nsteps = state == LEARNING ? 2 : 1;
            if (g == KGN_AGAIN) { step = 0; ivl = steps[0]; }
            else if (step + 1 == nsteps) { state = REVIEW; ivl = days; }
            else ivl = steps[++step];
        }
        ck_assert_msg(ivl / DAY == want[i], "review %d: %lld days, py-fsrs %d", i + 1,
                      (long long)(ivl / DAY), want[i]);
        now += ivl;
    }
}
END_TEST

/* py-fsrs test_repeated_correct_reviews: ten easy reviews at once leave
 * the difficulty at exactly 1.0. */
START_TEST(py_fsrs_repeated_easy)
{
    kgn_fsrs_card c = {0};
    for (int i = 0; i < 10; i++)
        kgn_fsrs_review(W, &c, KGN_EASY, 1669725000);
    ck_assert(c.difficulty == 1.0);
}
END_TEST

/* ---- fsrs-rs training.rs test_loss_and_grad ----------------------------- */

/* The batch: four cards (columns), six reviews each as (days since the
 * previous review, grade), then the reviewed sample after delta days with
 * its label (1 recalled, 0 forgotten). */
static const int LG_T[6][4] = {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 1},
                               {0, 1, 1, 3}, {1, 3, 3, 5}, {3, 6, 6, 12}};
static const int LG_R[6][4] = {{1, 2, 3, 4}, {3, 4, 2, 4}, {1, 4, 4, 3},
                               {4, 3, 3, 3}, {3, 1, 3, 3}, {2, 3, 3, 4}};
static const int LG_DELTA[4] = {4, 11, 12, 23}, LG_LABEL[4] = {1, 1, 1, 0};

/* fsrs-rs counts only the batch's final review of each card; kgpath counts
 * every review a day or more after the previous one. So: the loss and
 * gradient of the four cards with their final review, minus those of the
 * same cards without it (the earlier samples cancel). */
static double batch_loss(const double *w, double *grad)
{
    int64_t t[4 * 7];
    uint8_t gr[4 * 7];
    uint32_t off_full[5], off_pre[5];
    int64_t tp[4 * 6];
    uint8_t gp[4 * 6];
    uint32_t n = 0, np = 0;
    for (int q = 0; q < 4; q++) {
        off_full[q] = n;
        off_pre[q] = np;
        int64_t at = 1669725000;
        for (int i = 0; i < 6; i++) {
            at += (int64_t)LG_T[i][q] * DAY;
            t[n] = tp[np] = at;
            gr[n++] = gp[np++] = (uint8_t)LG_R[i][q];
        }
        t[n] = at + (int64_t)LG_DELTA[q] * DAY;
        gr[n++] = LG_LABEL[q] ? KGN_GOOD : KGN_AGAIN;
    }
    off_full[4] = n;
    off_pre[4] = np;
    kgn_fsrs_log full = {t, gr, off_full, 4, NULL}, pre = {tp, gp, off_pre, 4, NULL};
    double gf[KGN_FSRS_NW], gpre[KGN_FSRS_NW];
    uint64_t nf = 0, npre = 0;
    double lf = kgn_fsrs_loss(w, &full, NULL, gf, &nf);
    double lp = kgn_fsrs_loss(w, &pre, NULL, gpre, &npre);
    ck_assert_uint_eq(nf, npre + 4);
    for (int k = 0; k < KGN_FSRS_NW; k++)
        grad[k] = gf[k] - gpre[k];
    return lf - lp;
}

/* burn's Adam (β 0.9/0.999, ε 1e-8, bias-corrected) as fsrs-rs runs it */
typedef struct adam { double m[KGN_FSRS_NW], v[KGN_FSRS_NW]; int t; } adam;
static void adam_step(adam *a, double *w, const double *g, double lr)
{
    a->t++;
    for (int k = 0; k < KGN_FSRS_NW; k++) {
        a->m[k] = 0.9 * a->m[k] + 0.1 * g[k];
        a->v[k] = 0.999 * a->v[k] + 0.001 * g[k] * g[k];
        double mh = a->m[k] / (1 - pow(0.9, a->t)), vh = a->v[k] / (1 - pow(0.999, a->t));
        w[k] -= lr * mh / (sqrt(vh) + 1e-8);
    }
}

START_TEST(fsrs_rs_loss_and_grad)
{
    const double grad1[KGN_FSRS_NW] = {
        -0.095688485, -0.0051607806, -0.0012249565, 0.007462064, 0.03650761,
        -0.082112335, 0.0593964, -2.1474836, 0.57626534, -2.8751316, 0.7154875,
        -0.028993709, 0.0099172965, -0.2189217, -0.0017800558, -0.089381434,
        0.299141, 0.068104014, -0.011605468, -0.25398168, 0.27700496};
    const double w1[KGN_FSRS_NW] = {
        0.252, 1.3331, 2.3464994, 8.2556, 6.3733, 0.87340003, 2.9794, 0.040999997,
        1.8322, 0.20660001, 0.756, 1.5235, 0.021400042, 0.3029, 1.6882998,
        0.64140004, 1.8329, 0.5025, 0.13119997, 0.1058, 0.1142};
    const double grad2[KGN_FSRS_NW] = {
        -0.040530164, -0.0041278866, -0.0010157757, 0.007239434, 0.009321215,
        -0.120117955, 0.039143264, -0.8628009, 0.5794302, -2.5713828, 0.7669307,
        -0.024242667, 0.0, -0.16912507, -0.0017008218, -0.061857328, 0.28093633,
        0.064058185, 0.0063592787, -0.1903223, 0.6257775};
    const double w2[KGN_FSRS_NW] = {
        0.2882918, 1.3726242, 2.3861322, 8.215636, 6.339965, 0.9130969, 2.940639,
        0.07696985, 1.7921946, 0.2464217, 0.71595186, 1.5631561, 0.001, 0.34230903,
        1.7282416, 0.68038, 1.7929853, 0.46258268, 0.14039303, 0.14509967, 0.1};
    char what[64];
    double w[KGN_FSRS_NW], g[KGN_FSRS_NW];
    memcpy(w, W, sizeof w);
    /* loss (assert_eq in f32 there) and gradient at the defaults */
    NEAR(batch_loss(w, g), 4.0466027, 2e-6, "loss at the defaults");
    for (int k = 0; k < KGN_FSRS_NW; k++) {
        snprintf(what, sizeof what, "gradient w%d at the defaults", k);
        NEAR(g[k], grad1[k], 1e-4, what);
    }
    /* one Adam step, then kgpath's clipper: fsrs-rs's weights */
    adam a = {{0}, {0}, 0};
    adam_step(&a, w, g, 0.04);
    kgn_fsrs_clip(w);
    for (int k = 0; k < KGN_FSRS_NW; k++) {
        snprintf(what, sizeof what, "w%d after step 1", k);
        NEAR(w[k], w1[k], 1e-5, what);
    }
    /* the L2 penalty with kgpath's σ table: γ 2, batch 512 of 1000 */
    double pen = 0;
    for (int k = 0; k < KGN_FSRS_NW; k++) {
        double z = (w1[k] - W[k]) / kgn_fsrs_prior_sigma[k];
        pen += z * z;
    }
    NEAR(2.0 * 512.0 / 1000.0 * pen, 0.67711145, 2e-6, "L2 penalty");
    /* second loss and gradient at fsrs-rs's step-1 weights */
    NEAR(batch_loss(w1, g), 3.767796, 2e-6, "loss after step 1");
    for (int k = 0; k < KGN_FSRS_NW; k++) {
        snprintf(what, sizeof what, "gradient w%d after step 1", k);
        NEAR(g[k], grad2[k], 1e-4, what);
    }
    /* second step: w12 and w20 run into their lower bounds (0.001, 0.1) */
    adam_step(&a, w, g, 0.04);
    kgn_fsrs_clip(w);
    for (int k = 0; k < KGN_FSRS_NW; k++) {
        snprintf(what, sizeof what, "w%d after step 2", k);
        NEAR(w[k], w2[k], 1e-5, what);
    }
    ck_assert(w[12] == 0.001 && w[20] == 0.1);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("fsrs_reference");
    TCase *t = tcase_create("reference");
    tcase_add_test(t, memory_state_known_log);
    tcase_add_test(t, next_interval_table);
    tcase_add_test(t, forgetting_curve);
    tcase_add_test(t, fsrs5_memo_and_next_states);
    tcase_add_test(t, py_fsrs_review_card_intervals);
    tcase_add_test(t, py_fsrs_repeated_easy);
    tcase_add_test(t, fsrs_rs_loss_and_grad);
    suite_add_tcase(s, t);
    return s;
}
