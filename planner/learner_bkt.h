/* Bayesian Knowledge Tracing (mastery) and the per-concept learner state
 * that combines it with FSRS-6 memory (learner_fsrs.h).
 *
 * BKT, per concept: prior P(L0), learn P(T) after a practice opportunity
 * (quiz or review), learn_read P(Tr) after a reading opportunity (no
 * observation), guess P(G), slip P(S), forget P(F). An observed outcome
 * updates P(L) by Bayes' rule:
 *   correct: P(L|obs) = P(L)(1−S) / (P(L)(1−S) + (1−P(L))G)
 *   wrong:   P(L|obs) = P(L)S / (P(L)S + (1−P(L))(1−G))
 * then the opportunity transitions: P(L') = P(L|obs)(1−F) + (1−P(L|obs))T.
 *
 * Events → observations (documented thresholds):
 *  - quiz: correct when score >= KGN_BKT_PASS (0.6); without a score, a
 *    grade >= 2 counts as correct.
 *  - review: correct when grade >= 2 (hard, good, easy), wrong when 1.
 *  - read: no observation; one learning opportunity with learn_read,
 *    weighted by the share of the concept's expected time actually read:
 *    T_eff = 1 − (1 − Tr)^min(1, dwell/expected). Reads shorter than
 *    KGN_BKT_MIN_DWELL seconds (30) teach nothing; unknown dwell or unknown
 *    expected time counts as a full reading.
 * Events → FSRS reviews: a review uses its grade; a quiz uses its grade, or
 * a grade derived from the score (< 0.6 again, < 0.75 hard, < 0.95 good,
 * else easy); a reading starts or refreshes memory as a "good" review.
 *
 * Defaults (learning.md's typical values): L0 0.10, T 0.30, Tr 0.20,
 * G 0.10, S 0.03, F 0. Mastery: P(L) >= 0.95.
 *
 * All functions are pure, O(1) per event, thread-safe.
 */
#ifndef KGN_LEARNER_BKT_H
#define KGN_LEARNER_BKT_H

#include <stdint.h>

#include "graph/learner_store.h"
#include "planner/learner_fsrs.h"

#define KGN_BKT_PASS 0.6
#define KGN_BKT_MIN_DWELL 30.0
#define KGN_MASTERY 0.95

typedef struct kgn_bkt_params {
    double prior, learn, learn_read, guess, slip, forget;
} kgn_bkt_params;

extern const kgn_bkt_params kgn_bkt_defaults;

/* P(correct) = P(L)(1−S) + (1−P(L))G. */
double kgn_bkt_p_correct(const kgn_bkt_params *p, double L);
/* P(L | outcome) by Bayes' rule (no transition). */
double kgn_bkt_posterior(const kgn_bkt_params *p, double L, int correct);
/* P(L') = L(1−F) + (1−L)T for a learning rate T. */
double kgn_bkt_transition(const kgn_bkt_params *p, double L, double T);
/* Posterior then transition with p->learn. */
double kgn_bkt_observe(const kgn_bkt_params *p, double L, int correct);
/* Reading opportunity: transition with T_eff (see above); expected_s <= 0
 * means unknown. */
double kgn_bkt_read(const kgn_bkt_params *p, double L, double dwell_s,
                    double expected_s);
/* Effective learn rate of a reading (see above). */
double kgn_bkt_read_rate(const kgn_bkt_params *p, double dwell_s,
                         double expected_s);

/* Observation of an event: 1 correct, 0 wrong, -1 none (a reading, or a
 * quiz with neither score nor grade). */
int kgn_event_outcome(const kgg_event *e);
/* FSRS grade of an event (see above), 0 when it gives no review. */
int kgn_event_fsrs_grade(const kgg_event *e);

/* Learner state of one concept. */
typedef struct kgn_concept_state {
    double p_learned;        /* BKT P(L) */
    kgn_fsrs_card card;      /* FSRS memory */
    uint32_t nevents, nreads, nquiz, nreview, ncorrect;
    double dwell_s;          /* total known dwell */
    int64_t first, last;     /* times of the first and last event */
    int last_outcome;        /* the last observed attempt: 1 correct, 0 wrong,
                                -1 none yet */
    int last_review;         /* 1: that attempt was a review (not a quiz) */
    double p_before;         /* P(L) before the last attempt */
    int64_t before;          /* time of the event before the last attempt
                                (0: none) */
} kgn_concept_state;

/* Status of a concept for a learner at a time, for a retention target. */
typedef enum kgn_mastery_status {
    KGN_NOT_STARTED = 0,     /* no events */
    KGN_LEARNING = 1,        /* events, P(L) below the mastery threshold */
    KGN_MASTERED = 2,        /* P(L) >= threshold and R >= target */
    KGN_FADING = 3           /* P(L) >= threshold but R below target */
} kgn_mastery_status;

const char *kgn_mastery_status_name(int st);

/* Fresh state: P(L) = prior, no memory. */
void kgn_concept_state_init(kgn_concept_state *cs, const kgn_bkt_params *p);
/* Applies one event (callers apply a concept's events in time order).
 * expected_s: the concept's expected study time in seconds (<= 0 unknown).
 * w: FSRS parameters. */
void kgn_concept_state_apply(kgn_concept_state *cs, const kgn_bkt_params *p,
                             const double *w, const kgg_event *e,
                             double expected_s);
/* Status at time `at` for retention target r and mastery threshold m. */
int kgn_concept_state_status(const kgn_concept_state *cs, const double *w,
                             int64_t at, double r, double m);

#endif
