/* Fitting learner-model parameters from many learners' events:
 *  - BKT per concept by expectation-maximisation (Baum-Welch on the
 *    two-state hidden Markov model of learner_bkt.h: quizzes and reviews
 *    are observed steps with learn rate T, readings are unobserved steps
 *    with their own rate Tr; forget stays fixed). Each parameter has a
 *    weak Beta prior at its default (KGN_FIT_PSEUDO pseudo-observations),
 *    and guess and slip are kept at or below 0.3 (so a "known" state means
 *    knowing). Learners are split deterministically (FNV-1a hash of the id,
 *    one in KGN_FIT_HOLDOUT) into training and held-out sets; the
 *    held-out log-likelihood of the fitted parameters is reported next to
 *    that of the defaults. A concept with fewer than min_obs training
 *    observations keeps the defaults.
 *  - Minutes per concept from reading dwell: each learner's total dwell on
 *    the concept (readings of at least KGN_BKT_MIN_DWELL seconds), then the
 *    median over learners (robust to the idle tab left open overnight);
 *    reported only with at least min_learners learners.
 *  - Review minutes from review dwell (reviews with a dwell_seconds), apart
 *    for recalled reviews (grade >= 2) and failed ones (grade 1: the
 *    relearning share): per concept the median of its reviews when it has
 *    at least min_learners of them; otherwise the population's median
 *    ratio of review dwell to the concept's lesson minutes (calibrated, else
 *    opt->lesson_minutes) times that concept's lesson minutes. A concept with
 *    neither keeps -1 (the planner's default rule applies).
 */
#ifndef KGN_LEARNER_FIT_H
#define KGN_LEARNER_FIT_H

#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"
#include "graph/learner_store.h"
#include "planner/learner_bkt.h"

#define KGN_FIT_PSEUDO 2.0
#define KGN_FIT_HOLDOUT 5
#define KGN_FIT_MIN_OBS 20
#define KGN_FIT_MIN_LEARNERS 5

/* Steps of one concept's sequences: 0 wrong, 1 correct, 2 reading. */
enum { KGN_STEP_WRONG = 0, KGN_STEP_RIGHT = 1, KGN_STEP_READ = 2 };

/* Log-likelihood (natural log) of the observed outcomes of nseq sequences
 * (steps[off[i] .. off[i+1]-1]) under p; *nobs (may be NULL) receives the
 * number of observed steps. O(steps). */
double kgn_bkt_loglik(const kgn_bkt_params *p, const uint8_t *steps,
                      const uint32_t *off, uint32_t nseq, uint64_t *nobs);

/* EM from the start values in *p; stops after max_iter iterations or when
 * the log-likelihood improves by less than tol. *p receives the fit.
 * Returns the number of iterations. O(iterations × steps). */
int kgn_bkt_em(kgn_bkt_params *p, const uint8_t *steps, const uint32_t *off,
               uint32_t nseq, int max_iter, double tol);

typedef struct kgn_fit_options {
    uint32_t min_obs;        /* 0: KGN_FIT_MIN_OBS */
    uint32_t min_learners;   /* 0: KGN_FIT_MIN_LEARNERS (dwell calibration) */
    int max_iter;            /* 0: 200 */
    kgn_bkt_params start;    /* defaults and EM start (kgn_bkt_defaults) */
    /* lesson minutes of a concept when not calibrated (authored; <= 0
     * unknown); NULL: none (review minutes then only per concept) */
    double (*lesson_minutes)(void *ud, const char *concept);
    void *lesson_minutes_ud;
} kgn_fit_options;

void kgn_fit_options_init(kgn_fit_options *o);

typedef struct kgn_fit_concept {
    const char *concept;
    kgn_bkt_params p;        /* fitted, or the defaults */
    int fitted;
    uint32_t learners;       /* learners with events on it */
    uint64_t ntrain, ntest;  /* observations */
    double ll_fit, ll_default;   /* held-out log-likelihoods */
    double minutes;          /* calibrated; < 0 none */
    uint32_t ndwell;         /* learners behind the minutes */
    double review_ok, review_fail;  /* review minutes recalled / failed; < 0 none */
    uint32_t nreview_ok, nreview_fail;  /* this concept's reviews with a dwell */
} kgn_fit_concept;

typedef struct kgn_fit_result {
    kg_arena *arena;
    kgn_fit_concept *c;      /* by concept key */
    size_t n;
    uint32_t nfitted, nminutes;
    uint64_t ntrain, ntest;
    double ll_fit, ll_default;   /* held-out totals over all concepts */
    /* population median of review dwell / lesson minutes (< 0: fewer than
     * min_learners reviews with a dwell and known lesson minutes) */
    double review_ratio_ok, review_ratio_fail;
    uint32_t nreview_ok, nreview_fail;     /* reviews behind the ratios */
    uint32_t nreview_minutes;              /* concepts with review minutes */
    /* Population BKT: one EM over every concept's training sequences
     * pooled (guess, slip and learning rates of the population). Concepts
     * with fewer than min_obs observations get it instead of the defaults,
     * and it is the start and the prior mean of each concept's own EM
     * (shrinkage towards the population). pop_fitted 0: fewer than min_obs
     * observations in all, pop = the defaults. */
    kgn_bkt_params pop;
    int pop_fitted;
    uint64_t pop_ntrain;
} kgn_fit_result;

/* Fits every concept that appears in ev[0..n) (any order). Returns 0, or
 * -1 when out of memory. O(n log n + EM). */
int  kgn_fit_events(const kgg_event *ev, size_t n, const kgn_fit_options *opt,
                    kgn_fit_result *out);
void kgn_fit_result_free(kgn_fit_result *r);

/* Prerequisite strength: how much a lesson's success depends on the recall
 * of its prerequisites. Lesson i has x[i] = Σ over its requirement groups
 * of (k − the k best recalls of the members) at the lesson's time, and
 * outcome y[i] (1: the quiz after it was right). The quiz is a noisy view
 * of the lesson's success (guess g, slip s, as in BKT): fits
 *     P(success) = p0 · exp(−kappa · x),  P(y = 1) = g + (1 − g − s)·P(success)
 * by maximum likelihood: kappa on a grid of 0.05 over [0, 10], p0 by
 * golden-section search for each (the likelihood is concave in p0).
 * ll: log-likelihood of the fit; ll0: with kappa = 0 (prerequisites do not
 * matter). O(n × 201 × 40). */
typedef struct kgn_strength {
    double kappa, p0;
    double ll, ll0;
    size_t n;
} kgn_strength;

void kgn_fit_strength(const double *x, const uint8_t *y, size_t n, double guess, double slip,
                      kgn_strength *out);

/* 1 when the learner belongs to the held-out set. */
int kgn_fit_is_holdout(const char *learner);

#endif
