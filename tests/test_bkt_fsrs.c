/* FSRS-6 and BKT against hand-computed values (the equations of
 * shared/notes/learning.md evaluated by hand, digits kept to 1e-9). */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "planner/learner_bkt.h"
#include "planner/learner_fsrs.h"
#include "planner/learner_fit.h"

#include <stdio.h>
#include <string.h>

#define W kgn_fsrs_default_w
#define EPS 1e-9
#define DAY 86400

START_TEST(fsrs_factor_and_retrievability)
{
    /* f = 0.9^(-1/0.1542) - 1 */
    ck_assert_double_eq_tol(kgn_fsrs_factor(W), 0.9803464944134797, EPS);
    /* R(S,S) = 0.9 by construction, whatever S */
    ck_assert_double_eq_tol(kgn_fsrs_retrievability(W, 5, 5), 0.9, EPS);
    ck_assert_double_eq_tol(kgn_fsrs_retrievability(W, 123.4, 123.4), 0.9, EPS);
    /* R(10, 2.3065) = (1 + f*10/2.3065)^-0.1542 */
    ck_assert_double_eq_tol(kgn_fsrs_retrievability(W, 10, 2.3065),
                            0.7743669167614039, EPS);
    ck_assert_double_eq_tol(kgn_fsrs_retrievability(W, 0, 1), 1.0, EPS);
    ck_assert_double_eq_tol(kgn_fsrs_retrievability(W, -3, 1), 1.0, EPS);
    /* R decreases with t */
    ck_assert(kgn_fsrs_retrievability(W, 20, 10) < kgn_fsrs_retrievability(W, 19, 10));
}
END_TEST

START_TEST(fsrs_interval)
{
    /* I(S, 0.9) = S */
    ck_assert_double_eq_tol(kgn_fsrs_interval(W, 10, 0.9), 10.0, EPS);
    /* I(10, 0.8) = 10/f * (0.8^(-1/0.1542) - 1) */
    ck_assert_double_eq_tol(kgn_fsrs_interval(W, 10, 0.8), 33.159597862309816, 1e-7);
    ck_assert_int_eq(kgn_fsrs_interval_days(W, 10, 0.8, 36500), 33);
    ck_assert_int_eq(kgn_fsrs_interval_days(W, 0.2, 0.9, 36500), 1);  /* at least 1 */
    ck_assert_int_eq(kgn_fsrs_interval_days(W, 30000, 0.5, 365), 365);
    ck_assert(kgn_fsrs_interval(W, 10, 1.0) <= 0);   /* out of range */
    ck_assert(kgn_fsrs_interval(W, 10, 0.0) <= 0);
    /* round trip: R(I(S,r), S) = r */
    double i = kgn_fsrs_interval(W, 7.5, 0.85);
    ck_assert_double_eq_tol(kgn_fsrs_retrievability(W, i, 7.5), 0.85, EPS);
}
END_TEST

START_TEST(fsrs_initial_state)
{
    for (int g = 1; g <= 4; g++)
        ck_assert_double_eq_tol(kgn_fsrs_init_stability(W, g), W[g - 1], EPS);
    /* D0(G) = w4 - e^(w5 (G-1)) + 1 */
    ck_assert_double_eq_tol(kgn_fsrs_init_difficulty(W, 1), 6.4133, EPS);
    ck_assert_double_eq_tol(kgn_fsrs_init_difficulty(W, 2), 5.112170705601055, EPS);
    ck_assert_double_eq_tol(kgn_fsrs_init_difficulty(W, 3), 2.118103970459015, EPS);
    /* D0(4) = -4.7716… clamped to 1 */
    ck_assert_double_eq_tol(kgn_fsrs_init_difficulty(W, 4), 1.0, EPS);
}
END_TEST

START_TEST(fsrs_difficulty_update)
{
    /* D'' = w7*D0(4) + (1-w7)*(D - w6(G-3)(10-D)/9), D0(4) unclamped */
    ck_assert_double_eq_tol(kgn_fsrs_next_difficulty(W, 5, 1), 8.341762369296838, EPS);
    ck_assert_double_eq_tol(kgn_fsrs_next_difficulty(W, 5, 3), 4.9902283692968386, EPS);
    ck_assert_double_eq_tol(kgn_fsrs_next_difficulty(W, 5, 4), 3.3144613692968385, EPS);
    /* clamped to [1,10] */
    ck_assert_double_eq_tol(kgn_fsrs_next_difficulty(W, 10, 1), 10 - 0.001 * (10 + 4.771630703161737), 1e-6);
    ck_assert(kgn_fsrs_next_difficulty(W, 1, 4) >= 1.0);
}
END_TEST

START_TEST(fsrs_stability_updates)
{
    /* success with D=5, S=10, R=0.9 */
    ck_assert_double_eq_tol(kgn_fsrs_stability_success(W, 5, 10, 0.9, 3), 32.02672948198673, 1e-8);
    ck_assert_double_eq_tol(kgn_fsrs_stability_success(W, 5, 10, 0.9, 2), 23.246875110466817, 1e-8);
    ck_assert_double_eq_tol(kgn_fsrs_stability_success(W, 5, 10, 0.9, 4), 51.25386164681294, 1e-8);
    /* lapse: min(long-term, S/e^(w17 w18)) */
    ck_assert_double_eq_tol(kgn_fsrs_stability_lapse(W, 5, 10, 0.9), 1.3919869729546932, 1e-9);
    /* same day: S e^(w17(G-3+w18)) S^-w19; not below S for G >= 2 */
    ck_assert_double_eq_tol(kgn_fsrs_stability_same_day(W, 2.3065, 1), 0.7750839828558983, EPS);
    ck_assert_double_eq_tol(kgn_fsrs_stability_same_day(W, 2.3065, 3), 2.3065, EPS);
    ck_assert_double_eq_tol(kgn_fsrs_stability_same_day(W, 100, 2), 100, EPS);
    ck_assert_double_eq_tol(kgn_fsrs_stability_same_day(W, 0.5, 4), 0.9459532818568194, EPS);
    /* bounds */
    ck_assert(kgn_fsrs_stability_lapse(W, 10, 0.001, 0.0) >= KGN_FSRS_S_MIN);
    ck_assert(kgn_fsrs_stability_success(W, 1, 36000, 0.01, 4) <= KGN_FSRS_S_MAX);
}
END_TEST

START_TEST(fsrs_card_sequence)
{
    /* good on day 0, good on day 3, again on day 10 */
    kgn_fsrs_card c = {0};
    int64_t t0 = 1764000000;
    ck_assert_int_eq(kgn_fsrs_review(W, &c, 3, t0), 0);
    ck_assert_double_eq_tol(c.stability, 2.3065, EPS);
    ck_assert_double_eq_tol(c.difficulty, 2.118103970459015, EPS);
    ck_assert_int_eq(kgn_fsrs_review(W, &c, 3, t0 + 3 * DAY), 0);
    ck_assert_double_eq_tol(c.stability, 13.826903694354572, 1e-8);
    ck_assert_double_eq_tol(c.difficulty, 2.1112142357853942, EPS);
    ck_assert_int_eq(kgn_fsrs_review(W, &c, 1, t0 + 10 * DAY), 0);
    ck_assert_double_eq_tol(c.stability, 1.6145979400290669, 1e-8);
    ck_assert_double_eq_tol(c.difficulty, 7.392238132342694, EPS);
    ck_assert_uint_eq(c.reps, 3);
    ck_assert_uint_eq(c.lapses, 1);
    /* retrievability and due time */
    ck_assert_double_eq_tol(kgn_fsrs_card_r(W, &c, t0 + 10 * DAY), 1.0, EPS);
    int64_t due = kgn_fsrs_card_due(W, &c, 0.9);
    ck_assert_int_eq(due, t0 + 10 * DAY + llround(1.6145979400290669 * DAY));
    ck_assert_double_eq_tol(kgn_fsrs_card_r(W, &c, due), 0.9, 1e-6);
    /* bad grade: card unchanged */
    kgn_fsrs_card before = c;
    ck_assert_int_eq(kgn_fsrs_review(W, &c, 0, t0 + 11 * DAY), -1);
    ck_assert_int_eq(kgn_fsrs_review(W, &c, 5, t0 + 11 * DAY), -1);
    ck_assert_double_eq(c.stability, before.stability);
    /* never reviewed */
    kgn_fsrs_card z = {0};
    ck_assert_double_eq(kgn_fsrs_card_r(W, &z, t0), 0.0);
    ck_assert_int_eq(kgn_fsrs_card_due(W, &z, 0.9), INT64_MAX);
}
END_TEST

START_TEST(fsrs_same_day_review)
{
    kgn_fsrs_card c = {0};
    kgn_fsrs_review(W, &c, 1, 1000);             /* S0 = 0.212 */
    kgn_fsrs_review(W, &c, 1, 1000 + 3600);      /* same day, again */
    double s = 0.212 * exp(0.5425 * (-2 + 0.0912)) * pow(0.212, -0.0658);
    ck_assert_double_eq_tol(c.stability, s, EPS);
}
END_TEST

/* Reference vectors of the FSRS-6 reference implementation (fsrs-rs,
 * src/model_v6.rs tests; f32 there, hence 1e-4): two reviews with the same
 * grade, 1 or 2 days apart; stability updates with S = 5. */
START_TEST(fsrs_reference_vectors)
{
    const int g[6] = { 1, 2, 3, 4, 1, 2 }, dt[6] = { 1, 1, 1, 1, 2, 2 };
    const double s_want[6] = { 0.10088589, 3.2494123, 7.3153, 18.014914, 0.112798266, 4.4694576 };
    const double d_want[6] = { 8.806304, 6.7404594, 2.1112142, 1.0, 8.806304, 6.7404594 };
    for (int i = 0; i < 6; i++) {
        kgn_fsrs_card c = {0};
        kgn_fsrs_review(W, &c, g[i], 0);
        kgn_fsrs_review(W, &c, g[i], (int64_t)dt[i] * DAY);
        ck_assert_double_eq_tol(c.stability, s_want[i], 1e-4 * s_want[i] + 1e-6);
        ck_assert_double_eq_tol(c.difficulty, d_want[i], 1e-4);
    }
    const double recall[4] = { 25.602541, 28.226582, 58.656002, 127.226685 };
    const double forget[4] = { 1.0525396, 1.1894329, 1.3680838, 1.584989 };
    for (int i = 0; i < 4; i++) {
        double d = i + 1, r = 0.9 - 0.1 * i;
        ck_assert_double_eq_tol(kgn_fsrs_stability_success(W, d, 5, r, i + 1), recall[i], 1e-4 * recall[i]);
        ck_assert_double_eq_tol(kgn_fsrs_stability_lapse(W, d, 5, r), forget[i], 1e-5);
    }
    /* next difficulty from 5 (after mean reversion) */
    const double nd[4] = { 8.341763, 6.6659956, 4.990228, 3.3144615 };
    for (int i = 0; i < 4; i++)
        ck_assert_double_eq_tol(kgn_fsrs_next_difficulty(W, 5, i + 1), nd[i], 1e-5);
}
END_TEST

START_TEST(bkt_updates)
{
    const kgn_bkt_params *p = &kgn_bkt_defaults;
    ck_assert_double_eq_tol(p->prior, 0.10, EPS);
    /* correct from 0.1: 0.097 / 0.187, then + (1-x)*0.3 */
    ck_assert_double_eq_tol(kgn_bkt_posterior(p, 0.1, 1), 0.5187165775401069, EPS);
    ck_assert_double_eq_tol(kgn_bkt_observe(p, 0.1, 1), 0.6631016042780749, EPS);
    /* wrong from 0.1: 0.003 / 0.813, then learn */
    ck_assert_double_eq_tol(kgn_bkt_posterior(p, 0.1, 0), 0.0036900369003690036, EPS);
    ck_assert_double_eq_tol(kgn_bkt_observe(p, 0.1, 0), 0.3025830258302583, EPS);
    /* two correct answers reach mastery */
    double L = kgn_bkt_observe(p, kgn_bkt_observe(p, 0.1, 1), 1);
    ck_assert_double_eq_tol(L, 0.965160372886712, EPS);
    ck_assert(L >= KGN_MASTERY);
    /* P(correct) */
    ck_assert_double_eq_tol(kgn_bkt_p_correct(p, 0.5), 0.5 * 0.97 + 0.5 * 0.1, EPS);
    /* reading: full, half, too short */
    ck_assert_double_eq_tol(kgn_bkt_read(p, 0.1, -1, -1), 0.28, EPS);
    ck_assert_double_eq_tol(kgn_bkt_read(p, 0.1, 600, 600), 0.28, EPS);
    ck_assert_double_eq_tol(kgn_bkt_read(p, 0.1, 300, 600), 0.19501552810007572, EPS);
    ck_assert_double_eq_tol(kgn_bkt_read(p, 0.1, 10, 600), 0.1, EPS);
    /* forgetting */
    kgn_bkt_params q = *p;
    q.forget = 0.1;
    ck_assert_double_eq_tol(kgn_bkt_transition(&q, 0.8, 0.3), 0.8 * 0.9 + 0.2 * 0.3, EPS);
}
END_TEST

START_TEST(bkt_event_mapping)
{
    kgg_event e = { .learner = "u", .concept = "c:x", .kind = KGG_EV_QUIZ,
                    .dwell = -1, .score = 0.6 };
    ck_assert_int_eq(kgn_event_outcome(&e), 1);      /* threshold inclusive */
    e.score = 0.59;
    ck_assert_int_eq(kgn_event_outcome(&e), 0);
    ck_assert_int_eq(kgn_event_fsrs_grade(&e), 1);
    e.score = 0.7;
    ck_assert_int_eq(kgn_event_fsrs_grade(&e), 2);
    e.score = 0.8;
    ck_assert_int_eq(kgn_event_fsrs_grade(&e), 3);
    e.score = 1;
    ck_assert_int_eq(kgn_event_fsrs_grade(&e), 4);
    e.grade = 2;                                     /* explicit grade wins */
    ck_assert_int_eq(kgn_event_fsrs_grade(&e), 2);
    e.score = -1; e.grade = 0;
    ck_assert_int_eq(kgn_event_outcome(&e), -1);
    e.kind = KGG_EV_REVIEW; e.grade = 1;
    ck_assert_int_eq(kgn_event_outcome(&e), 0);
    e.grade = 2;
    ck_assert_int_eq(kgn_event_outcome(&e), 1);
    e.kind = KGG_EV_READ; e.dwell = 10;
    ck_assert_int_eq(kgn_event_outcome(&e), -1);
    ck_assert_int_eq(kgn_event_fsrs_grade(&e), 0);   /* a skim is not a review */
    e.dwell = 600;
    ck_assert_int_eq(kgn_event_fsrs_grade(&e), 3);
}
END_TEST

START_TEST(state_replay_and_status)
{
    const kgn_bkt_params *p = &kgn_bkt_defaults;
    kgn_concept_state cs;
    kgn_concept_state_init(&cs, p);
    int64_t t0 = 1764000000;
    ck_assert_int_eq(kgn_concept_state_status(&cs, W, t0, 0.9, KGN_MASTERY), KGN_NOT_STARTED);
    kgg_event r = { "u", "c:x", KGG_EV_READ, t0, 600, -1, 0 };
    kgn_concept_state_apply(&cs, p, W, &r, 600);
    ck_assert_double_eq_tol(cs.p_learned, 0.28, EPS);
    ck_assert_int_eq(kgn_concept_state_status(&cs, W, t0, 0.9, KGN_MASTERY), KGN_LEARNING);
    kgg_event q = { "u", "c:x", KGG_EV_QUIZ, t0 + 600, -1, 1.0, 0 };
    kgn_concept_state_apply(&cs, p, W, &q, 600);
    q.at += 600;
    kgn_concept_state_apply(&cs, p, W, &q, 600);
    ck_assert(cs.p_learned >= KGN_MASTERY);
    ck_assert_uint_eq(cs.nevents, 3);
    ck_assert_uint_eq(cs.ncorrect, 2);
    ck_assert_uint_eq(cs.card.reps, 3);
    ck_assert_int_eq(kgn_concept_state_status(&cs, W, t0 + DAY, 0.9, KGN_MASTERY), KGN_MASTERED);
    /* a month later the memory has faded below 0.9 */
    ck_assert_int_eq(kgn_concept_state_status(&cs, W, t0 + 30 * DAY, 0.9, KGN_MASTERY), KGN_FADING);
    ck_assert_str_eq(kgn_mastery_status_name(KGN_FADING), "fading");
}
END_TEST


/* splitmix64: a tiny deterministic generator for synthetic learners */
static uint64_t rng_state;
static double urand(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* Simulates nseq sequences of len steps from true parameters: every third
 * step a reading, otherwise a quiz. */
static void simulate(const kgn_bkt_params *p, uint32_t nseq, uint32_t len,
                     uint8_t *steps, uint32_t *off)
{
    uint32_t k = 0;
    off[0] = 0;
    for (uint32_t q = 0; q < nseq; q++) {
        int known = urand() < p->prior;
        for (uint32_t t = 0; t < len; t++) {
            uint8_t s;
            if (t % 3 == 2) {
                s = KGN_STEP_READ;
            } else {
                double pc = known ? 1 - p->slip : p->guess;
                s = urand() < pc ? KGN_STEP_RIGHT : KGN_STEP_WRONG;
            }
            steps[k++] = s;
            if (!known && urand() < (s == KGN_STEP_READ ? p->learn_read : p->learn))
                known = 1;
        }
        off[q + 1] = k;
    }
}

START_TEST(bkt_loglik_by_hand)
{
    /* one sequence: right, wrong with defaults:
     * P(c1) = 0.1*0.97 + 0.9*0.1 = 0.187; L1 = 0.66310160…;
     * P(w2) = 1 - (L1*0.97 + (1-L1)*0.1) */
    const kgn_bkt_params *p = &kgn_bkt_defaults;
    uint8_t st[] = { KGN_STEP_RIGHT, KGN_STEP_READ, KGN_STEP_WRONG };
    uint32_t off[] = { 0, 3 };
    uint64_t nobs;
    double L1 = 0.6631016042780749;
    L1 = L1 + (1 - L1) * 0.2;                       /* the reading */
    double want = log(0.187) + log(1 - (L1 * 0.97 + (1 - L1) * 0.1));
    ck_assert_double_eq_tol(kgn_bkt_loglik(p, st, off, 1, &nobs), want, 1e-12);
    ck_assert_uint_eq(nobs, 2);
}
END_TEST

START_TEST(bkt_em_recovers_parameters)
{
    kgn_bkt_params truth = { .prior = 0.2, .learn = 0.15, .learn_read = 0.35,
                             .guess = 0.2, .slip = 0.08, .forget = 0 };
    enum { NSEQ = 3000, LEN = 12 };
    uint8_t *st = malloc(NSEQ * LEN);
    uint32_t *off = malloc(sizeof *off * (NSEQ + 1));
    rng_state = 42;
    simulate(&truth, NSEQ, LEN, st, off);
    kgn_bkt_params fit = kgn_bkt_defaults;
    double ll0 = kgn_bkt_loglik(&fit, st, off, NSEQ, NULL);
    int it = kgn_bkt_em(&fit, st, off, NSEQ, 300, 1e-7);
    ck_assert_int_gt(it, 1);
    double ll1 = kgn_bkt_loglik(&fit, st, off, NSEQ, NULL);
    ck_assert(ll1 > ll0);
    double llt = kgn_bkt_loglik(&truth, st, off, NSEQ, NULL);
    ck_assert(ll1 >= llt - 1.0);         /* as good as the truth, up to noise */
    ck_assert_double_eq_tol(fit.prior, truth.prior, 0.05);
    ck_assert_double_eq_tol(fit.learn, truth.learn, 0.05);
    ck_assert_double_eq_tol(fit.learn_read, truth.learn_read, 0.08);
    ck_assert_double_eq_tol(fit.guess, truth.guess, 0.04);
    ck_assert_double_eq_tol(fit.slip, truth.slip, 0.04);
    ck_assert_double_eq(fit.forget, 0);
    free(st);
    free(off);
}
END_TEST

START_TEST(fit_events_holdout_and_minutes)
{
    kgn_bkt_params truth = { .prior = 0.3, .learn = 0.2, .learn_read = 0.3,
                             .guess = 0.25, .slip = 0.1, .forget = 0 };
    enum { NL = 600, LEN = 9 };
    kgg_event *ev = calloc(NL * LEN + NL, sizeof *ev);
    char (*names)[16] = calloc(NL, 16);
    uint8_t st[LEN];
    uint32_t off[2];
    size_t n = 0;
    rng_state = 7;
    for (int l = 0; l < NL; l++) {
        snprintf(names[l], 16, "u%d", l);
        simulate(&truth, 1, LEN, st, off);
        for (int t = 0; t < LEN; t++) {
            kgg_event *e = &ev[n++];
            *e = (kgg_event){ names[l], "c:a", 0, 1000 + t * 60, -1, -1, 0 };
            if (st[t] == KGN_STEP_READ) {
                e->kind = KGG_EV_READ;
                e->dwell = 600 + (l % 7) * 60;     /* 10..16 min */
            } else {
                e->kind = KGG_EV_QUIZ;
                e->score = st[t] == KGN_STEP_RIGHT ? 0.9 : 0.2;
            }
        }
        if (l < 4)     /* too few learners for c:b's minutes */
            ev[n++] = (kgg_event){ names[l], "c:b", KGG_EV_READ, 5, 120, -1, 0 };
    }
    /* the fit must sort by time itself: hand it the events reversed */
    for (size_t i = 0; i < n / 2; i++) {
        kgg_event tmp = ev[i];
        ev[i] = ev[n - 1 - i];
        ev[n - 1 - i] = tmp;
    }
    kgn_fit_result r;
    ck_assert_int_eq(kgn_fit_events(ev, n, NULL, &r), 0);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_str_eq(r.c[0].concept, "c:a");
    ck_assert_int_eq(r.c[0].fitted, 1);
    ck_assert_uint_eq(r.c[0].learners, NL);
    ck_assert_uint_gt(r.c[0].ntest, 100);
    ck_assert_uint_gt(r.c[0].ntrain, r.c[0].ntest);
    ck_assert(r.c[0].ll_fit > r.c[0].ll_default);   /* fitted beats defaults */
    ck_assert_double_eq_tol(r.c[0].p.guess, truth.guess, 0.06);
    /* per learner total dwell = 3 readings * (600 + (l%7)*60); median */
    ck_assert_uint_eq(r.c[0].ndwell, NL);
    ck_assert(r.c[0].minutes >= 30 && r.c[0].minutes <= 48);
    ck_assert_str_eq(r.c[1].concept, "c:b");
    ck_assert_int_eq(r.c[1].fitted, 0);
    ck_assert_double_eq(r.c[1].minutes, -1);       /* 4 learners < 5 */
    ck_assert_uint_eq(r.nfitted, 1);
    kgn_fit_result_free(&r);
    /* empty input */
    ck_assert_int_eq(kgn_fit_events(ev, 0, NULL, &r), 0);
    ck_assert_uint_eq(r.n, 0);
    kgn_fit_result_free(&r);
    free(ev);
    free(names);
}
END_TEST

/* Population BKT: 500 concepts met by 3 learners each (too few
 * observations for any concept's own fit) still give back the population's
 * guess and slip from all of them pooled; each unfitted concept gets the
 * population's parameters, not the defaults (slip 0.03 reads every slip as
 * a failed lesson). */
START_TEST(fit_events_population)
{
    kgn_bkt_params truth = { .prior = 0.2, .learn = 0.2, .learn_read = 0.6,
                             .guess = 0.25, .slip = 0.12, .forget = 0 };
    enum { NC = 500, NLC = 3, LEN = 4 };
    kgg_event *ev = calloc(NC * NLC * LEN, sizeof *ev);
    char (*names)[16] = calloc(NLC, 16), (*cs)[16] = calloc(NC, 16);
    uint8_t st[LEN];
    uint32_t off[2];
    size_t n = 0;
    rng_state = 11;
    for (int l = 0; l < NLC; l++)
        snprintf(names[l], 16, "u%d", l);
    for (int c = 0; c < NC; c++) {
        snprintf(cs[c], 16, "c:%03d", c);
        for (int l = 0; l < NLC; l++) {
            simulate(&truth, 1, LEN, st, off);
            for (int t = 0; t < LEN; t++) {
                kgg_event *e = &ev[n++];
                *e = (kgg_event){ names[l], cs[c], 0, 1000 + c * 600 + t * 60, -1, -1, 0 };
                if (st[t] == KGN_STEP_READ) {
                    e->kind = KGG_EV_READ;
                    e->dwell = 600;
                } else {
                    e->kind = KGG_EV_QUIZ;
                    e->score = st[t] == KGN_STEP_RIGHT ? 1 : 0;
                }
            }
        }
    }
    kgn_fit_result r;
    ck_assert_int_eq(kgn_fit_events(ev, n, NULL, &r), 0);
    ck_assert_uint_eq(r.n, NC);
    ck_assert_uint_eq(r.nfitted, 0);
    ck_assert_int_eq(r.pop_fitted, 1);
    ck_assert_uint_gt(r.pop_ntrain, 1000);
    ck_assert_double_eq_tol(r.pop.guess, truth.guess, 0.06);
    ck_assert_double_eq_tol(r.pop.slip, truth.slip, 0.05);
    for (size_t i = 0; i < r.n; i++) {
        ck_assert_int_eq(r.c[i].fitted, 0);
        ck_assert_double_eq(r.c[i].p.slip, r.pop.slip);
        ck_assert_double_eq(r.c[i].p.guess, r.pop.guess);
    }
    kgn_fit_result_free(&r);
    /* too little in all: the defaults */
    ck_assert_int_eq(kgn_fit_events(ev, 8, NULL, &r), 0);
    ck_assert_int_eq(r.pop_fitted, 0);
    ck_assert_double_eq(r.pop.slip, kgn_bkt_defaults.slip);
    kgn_fit_result_free(&r);
    free(ev);
    free(names);
    free(cs);
}
END_TEST

/* Prerequisite strength: lessons drawn with P(success) = 0.9·exp(−3x)
 * give back kappa ≈ 3 and p0 ≈ 0.9, a better likelihood than "the
 * prerequisites do not matter"; with outcomes independent of x, kappa ≈ 0. */
START_TEST(strength_recovers_kappa)
{
    enum { N = 4000 };
    static double x[N];
    static uint8_t y[N], y0[N];
    uint64_t s = 12345;
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (double)(s >> 11) / 9007199254740992.0 * 1.5;
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(s >> 11) / 9007199254740992.0;
        y[i] = u < 0.9 * exp(-3 * x[i]);
        y0[i] = u < 0.6;
    }
    kgn_strength f;
    kgn_fit_strength(x, y, N, 0, 0, &f);
    ck_assert_msg(fabs(f.kappa - 3) < 0.4, "kappa %.2f", f.kappa);
    ck_assert_msg(fabs(f.p0 - 0.9) < 0.06, "p0 %.3f", f.p0);
    ck_assert(f.ll > f.ll0 + 100);
    ck_assert_uint_eq(f.n, N);
    kgn_fit_strength(x, y0, N, 0, 0, &f);
    ck_assert_msg(f.kappa < 0.3, "kappa %.2f", f.kappa);
    ck_assert_msg(fabs(f.p0 - 0.6) < 0.05, "p0 %.3f", f.p0);
    /* through a noisy quiz (guess 0.2, slip 0.1): the same kappa when the
     * fit knows the noise */
    static uint8_t yq[N];
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(s >> 11) / 9007199254740992.0;
        yq[i] = u < (y[i] ? 0.9 : 0.2);
    }
    kgn_fit_strength(x, yq, N, 0.2, 0.1, &f);
    ck_assert_msg(fabs(f.kappa - 3) < 0.8, "kappa %.2f", f.kappa);
    kgn_fit_strength(x, y, 0, 0, 0, &f);                  /* nothing: no effect */
    ck_assert_double_eq(f.kappa, 0);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("bkt_fsrs");
    TCase *t = tcase_create("core");
    tcase_add_test(t, fsrs_factor_and_retrievability);
    tcase_add_test(t, fsrs_interval);
    tcase_add_test(t, fsrs_initial_state);
    tcase_add_test(t, fsrs_difficulty_update);
    tcase_add_test(t, fsrs_stability_updates);
    tcase_add_test(t, fsrs_card_sequence);
    tcase_add_test(t, fsrs_same_day_review);
    tcase_add_test(t, fsrs_reference_vectors);
    tcase_add_test(t, bkt_updates);
    tcase_add_test(t, bkt_event_mapping);
    tcase_add_test(t, state_replay_and_status);
    tcase_add_test(t, bkt_loglik_by_hand);
    tcase_add_test(t, bkt_em_recovers_parameters);
    tcase_add_test(t, fit_events_holdout_and_minutes);
    tcase_add_test(t, strength_recovers_kappa);
    tcase_add_test(t, fit_events_population);
    suite_add_tcase(s, t);
    return s;
}
