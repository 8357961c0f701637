/* FSRS-6 memory model: difficulty, stability and retrievability of one
 * concept for one learner, driven by graded reviews (1 again, 2 hard,
 * 3 good, 4 easy).
 *
 * Equations (FSRS-6, as published by the open-spaced-repetition project and
 * summarised in shared/notes/learning.md), with w = w0..w20:
 *   R(t,S)   = (1 + f·t/S)^(−w20),   f = 0.9^(−1/w20) − 1   (R(S,S) = 0.9)
 *   I(r,S)   = (S/f)·(r^(−1/w20) − 1)           interval for retention r
 *   S0(G)    = w[G−1]
 *   D0(G)    = w4 − e^(w5(G−1)) + 1             clamped to [1,10]
 *   D'       = D − w6(G−3)·(10−D)/9
 *   D''      = w7·D0(4) + (1−w7)·D'             D0(4) unclamped; D'' clamped [1,10]
 *   success  S' = S·(e^w8·(11−D)·S^(−w9)·(e^(w10(1−R)) − 1)·h·b + 1),
 *              h = w15 for hard, b = w16 for easy, else 1
 *   lapse    S' = min(w11·D^(−w12)·((S+1)^w13 − 1)·e^(w14(1−R)), S/e^(w17·w18))
 *   same day S' = S·e^(w17(G−3+w18))·S^(−w19), not below S when G ≥ 2
 *   S clamped to [0.001, 36500] days.
 * A review is "same day" when less than one day (86,400 s) has passed since
 * the previous review; the difficulty is updated on every review, as in the
 * reference implementation (fsrs-rs; its test vectors are in
 * tests/test_bkt_fsrs.c). Two deliberate differences from it: elapsed time
 * is fractional days (the reference rounds to whole days), and the same-day
 * floor applies from "hard" up, as in fsrs-rs's model (py-fsrs and fsrs-rs's
 * scalar helper use "good" up). Time is in days; the caller turns seconds
 * into days.
 *
 * Pure functions on a small struct: no allocation, thread-safe, O(1) each.
 */
#ifndef KGN_LEARNER_FSRS_H
#define KGN_LEARNER_FSRS_H

#include <stdint.h>

#define KGN_FSRS_NW 21
#define KGN_FSRS_S_MIN 0.001
#define KGN_FSRS_S_MAX 36500.0

/* The 21 published FSRS-6 default parameters. */
extern const double kgn_fsrs_default_w[KGN_FSRS_NW];

/* Grades as in spaced-repetition apps. */
enum { KGN_AGAIN = 1, KGN_HARD = 2, KGN_GOOD = 3, KGN_EASY = 4 };

/* Memory state of one item. reps == 0 means never reviewed (S, D, last
 * are then meaningless). last is the time of the last review in seconds
 * since the Unix epoch (UTC). */
typedef struct kgn_fsrs_card {
    double stability;     /* days */
    double difficulty;    /* 1..10 */
    int64_t last;         /* unix seconds of the last review */
    uint32_t reps;        /* reviews so far */
    uint32_t lapses;      /* reviews graded "again" after the first */
} kgn_fsrs_card;

/* f = 0.9^(−1/w20) − 1. */
double kgn_fsrs_factor(const double *w);
/* R(t,S); t, S in days; t < 0 is treated as 0. Returns 1 for t == 0. */
double kgn_fsrs_retrievability(const double *w, double t_days, double s);
/* Interval in days after which R falls to retention r (0 < r < 1), not
 * rounded; <= 0 when r is out of range. */
double kgn_fsrs_interval(const double *w, double s, double r);
/* Interval rounded to whole days, at least 1 and at most max_days. */
int kgn_fsrs_interval_days(const double *w, double s, double r, int max_days);

double kgn_fsrs_init_stability(const double *w, int grade);
/* D0(G) clamped to [1,10]. */
double kgn_fsrs_init_difficulty(const double *w, int grade);
double kgn_fsrs_next_difficulty(const double *w, double d, int grade);
/* Stability after a review on a later day with retrievability r at the time. */
double kgn_fsrs_stability_success(const double *w, double d, double s,
                                  double r, int grade);
double kgn_fsrs_stability_lapse(const double *w, double d, double s, double r);
double kgn_fsrs_stability_same_day(const double *w, double s, int grade);

/* Applies a review with grade 1..4 at time `at` (unix seconds) to card:
 * first review, same-day review or later-day review as above. A review
 * earlier than card->last (out-of-order input) is treated as same-day;
 * callers replay events in time order. Returns 0, or -1 when grade is out
 * of range (card unchanged). */
int kgn_fsrs_review(const double *w, kgn_fsrs_card *card, int grade, int64_t at);

/* Retrievability of the card at time `at` (unix seconds); 0 when never
 * reviewed. */
double kgn_fsrs_card_r(const double *w, const kgn_fsrs_card *card, int64_t at);

/* Time (unix seconds) at which the card's retrievability falls to r;
 * INT64_MAX when never reviewed. */
int64_t kgn_fsrs_card_due(const double *w, const kgn_fsrs_card *card, double r);

#endif
