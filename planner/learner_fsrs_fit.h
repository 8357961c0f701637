/* Fitting FSRS-6 weights to review logs (the FSRS optimiser, after fsrs-rs
 * src/training.rs; shared/notes/round2.md §1).
 *
 * Data: cards (one learner × one concept), each a time-ordered list of
 * graded reviews (unix seconds, grade 1..4). Samples: every review after
 * the first that comes at least one day after the previous one and is
 * not skipped (kgn_fsrs_log.skip); its
 * outcome is y = 0 for "again", else 1, and the model's prediction is
 * R(Δt, S) with S from replaying the card's earlier reviews (same-day ones
 * included) through learner_fsrs.h.
 *
 * Objective: Σ BCE(R, y) + γ·Σᵢ ((wᵢ − cᵢ)/σᵢ)², with R clamped to
 * [1e-7, 1 − 1e-7], σ the published per-weight scales and c the centre of
 * the prior (the default weights for a population fit; the population's
 * fit for one learner: shrinkage, fading as the learner's reviews grow).
 * A learner's log is small: fitting all 21 weights to it scored worse on
 * the learner's held-out cards than the population's weights (README,
 * Fitting), so kgpath fits one learner with free_w = w0..w3 and
 * tie_first: one common factor on the first stabilities.
 * Minimised by full-batch Adam (β 0.9/0.999, ε 1e-8, learning rate 0.04
 * cosine-annealed to 0; exact gradients by reverse-mode differentiation
 * of each review, chained from review to review),
 * each weight clamped to the fsrs-rs bounds after every step; the best
 * iterate is kept. All 21 weights are fitted: kgpath's events put
 * same-day reviews (a lesson and its quizzes) in every card, so the
 * short-term weights w17–w19 matter here.
 *
 * Metrics (srs-benchmark): log loss = mean BCE; RMSE(bins) over bins keyed
 * by (Δt, review number, lapses) on srs-benchmark's geometric grids,
 * weighted by samples.
 *
 * Pure functions, no global state; O(iterations × reviews × 21), with a
 * small constant (about 60 operations a review and a few 21-long sums).
 */
#ifndef KGN_LEARNER_FSRS_FIT_H
#define KGN_LEARNER_FSRS_FIT_H

#include <stddef.h>
#include <stdint.h>

#include "planner/learner_fsrs.h"

/* Review log: card q's reviews are t[off[q] .. off[q+1]) (unix seconds,
 * ascending) with grades g[...] in 1..4. */
typedef struct kgn_fsrs_log {
    const int64_t *t;
    const uint8_t *g;
    const uint32_t *off;
    uint32_t ncards;
    /* May be NULL. skip[i] != 0: review i updates the card as its grade
     * says but is no sample (kgpath: a reading, which tests no recall). */
    const uint8_t *skip;
} kgn_fsrs_log;

/* Per-weight scale of the L2 prior (fsrs-rs). */
extern const double kgn_fsrs_prior_sigma[KGN_FSRS_NW];

/* Clamps w to the fsrs-rs parameter bounds. */
void kgn_fsrs_clip(double *w);

typedef struct kgn_fsrs_metrics {
    uint64_t n;             /* samples */
    double logloss;         /* mean BCE */
    double rmse_bins;       /* srs-benchmark RMSE(bins) */
} kgn_fsrs_metrics;

/* Metrics of w on the cards with use[q] != 0 (use NULL: all). Returns 0,
 * or -1 when out of memory. O(reviews). */
int kgn_fsrs_evaluate(const double *w, const kgn_fsrs_log *log, const uint8_t *use,
                      kgn_fsrs_metrics *out);

/* The data term of the objective: Σ BCE(R, y) of w over the samples of the
 * cards with use[q] != 0 (use NULL: all), R clamped as above, and its exact
 * gradient d/dw into grad[21] (grad may be NULL). *nsamples (may be NULL)
 * receives the number of samples. No allocation. O(reviews × 21). */
double kgn_fsrs_loss(const double *w, const kgn_fsrs_log *log, const uint8_t *use,
                     double *grad, uint64_t *nsamples);

/* Metrics pooled over several (weights, cards) pairs, e.g. each learner's
 * own weights on that learner's held-out cards: start from {0}, add, read,
 * free. eval_add returns 0, or -1 when out of memory (e unchanged but for
 * the samples added before); eval_metrics sorts e's samples (O(n log n)). */
typedef struct kgn_fsrs_eval {
    void *v;                /* the samples (private) */
    size_t n, cap;
    double ll;              /* Σ BCE */
} kgn_fsrs_eval;
int kgn_fsrs_eval_add(kgn_fsrs_eval *e, const double *w, const kgn_fsrs_log *log,
                      const uint8_t *use);
void kgn_fsrs_eval_metrics(kgn_fsrs_eval *e, kgn_fsrs_metrics *out);
void kgn_fsrs_eval_free(kgn_fsrs_eval *e);

typedef struct kgn_fsrs_fit_options {
    int iterations;         /* Adam steps (0: 300) */
    double lr;              /* 0: 0.04 */
    double gamma;           /* prior strength (0: 1; < 0: no prior) */
    const double *start;    /* start weights (NULL: the defaults) */
    const double *centre;   /* prior centre (NULL: start) */
    const uint8_t *free_w;  /* weights to fit, free_w[k] != 0 (NULL: all 21);
                               the others keep their start values */
    int tie_first;          /* 1: w0..w3 move together, one factor (one
                               weight's worth of data, for small logs) */
} kgn_fsrs_fit_options;

/* Fits w (21 weights) on the cards with use[q] != 0 (use NULL: all).
 * *nsamples (may be NULL) receives the number of samples; with none, w is
 * the start. Returns 0, or -1 when out of memory. */
int kgn_fsrs_fit(const kgn_fsrs_log *log, const uint8_t *use,
                 const kgn_fsrs_fit_options *opt, double *w, uint64_t *nsamples);

#endif
