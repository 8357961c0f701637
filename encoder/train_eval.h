/* Binary-classification metrics and a small logistic regression, on
 * arrays, for evaluating prerequisite prediction (src/api_eval.c,
 * `kgpath eval-prereq`). No dependence on other kgpath layers.
 *
 * Scores s[i] and labels y[i] (1 positive, 0 negative). Higher scores mean
 * "more likely positive". Nothing here prints or aborts; functions that
 * allocate return -1 when memory runs out.
 */
#ifndef KGE_TRAIN_EVAL_H
#define KGE_TRAIN_EVAL_H

#include <stddef.h>
#include <stdint.h>

/* The most features kge_logreg_fit / kge_logreg_fit_predict take. */
#define KGE_LOGREG_MAX_F 24

/* The L2 strength of kge_logreg_fit, kge_logreg_fit_predict and the
 * eval-prereq baseline regression (on standardised weights, mean loss). */
#define KGE_LOGREG_LAMBDA 1e-3

/* Precision, recall and F1 when every s[i] >= threshold is called
 * positive (0 where undefined). O(n). */
void kge_prf_at(const double *s, const int *y, size_t n, double threshold, double *precision, double *recall,
                double *f1);

/* ROC-AUC by ranks (Mann-Whitney U, ties averaged) into *auc; NaN when a
 * class is absent. Returns 0 or -1 (out of memory). O(n log n). */
int kge_roc_auc(const double *s, const int *y, size_t n, double *auc);

/* The threshold (one of the scores) with the best F1 on (s, y); a
 * threshold takes all ties. 0.5 when n = 0. Returns 0 or -1 (out of
 * memory). O(n log n). */
int kge_best_f1_threshold(const double *s, const int *y, size_t n, double *threshold);

/* Class-balanced logistic regression on F <= KGE_LOGREG_MAX_F standardised features
 * (L2 lambda on the weights, not the bias: KGE_LOGREG_LAMBDA for a
 * light touch, about 1 to shrink many weak features towards their class
 * mean differences), fitted to convergence by Newton's method with step
 * halving, on (Xtr [ntr x F], ytr); writes the probabilities of the
 * training rows to str and of Xte [nte x F] to ste. Deterministic.
 * Returns 0; -1 when F is 0 or above KGE_LOGREG_MAX_F or lambda is
 * negative; -2 out of memory. O(iterations · ntr · F²), iterations
 * typically under 20 (at most 100). */
int kge_logreg_fit_predict(const double *Xtr, const int *ytr, size_t ntr, const double *Xte, size_t nte, size_t F,
                           double lambda, double *str, double *ste);

/* The same fit (class-balanced, L2 KGE_LOGREG_LAMBDA on the standardised weights),
 * returned on the raw features: P(y = 1 | x) = 1 / (1 + exp(-(w[0..F) · x
 * + w[F]))). Returns 0; -1 when F is 0 or above KGE_LOGREG_MAX_F; -2 out of
 * memory.
 * O(iterations · n · F²). */
int kge_logreg_fit(const double *X, const int *y, size_t n, size_t F, double *w);

/* Platt scaling (libsvm's sigmoid_train): A, B of P(y = 1 | s) =
 * 1 / (1 + exp(A·s + B)) by Newton's method with backtracking on the
 * cross-entropy against the smoothed targets (N₊+1)/(N₊+2) and 1/(N₋+2),
 * from A = 0, B = ln((N₋+1)/(N₊+1)); at most 100 iterations, stop when the
 * gradient is under 1e-5. balanced: each class weighs half (the
 * probabilities then hold for a set with as many positives as negatives);
 * else each pair weighs 1. A < 0 when higher scores mean positive.
 * Returns 0; -1 when n is 0. O(iterations · n). */
int kge_platt_fit(const double *s, const int *y, size_t n, int balanced, double *A, double *B);

/* Expected calibration error over `bins` equal-width bins of p in [0, 1]
 * (bin m holds p in ((m-1)/bins, m/bins], p = 0 in the first): Σ |Bₘ|/n ·
 * |fraction positive − mean p| over the bins; 0 when n is 0. O(n + bins). */
double kge_ece(const double *p, const int *y, size_t n, int bins);

/* A probability p that holds for a share `from` of positives, moved to
 * a share `to` (both in (0, 1)): the log-odds of p (p clamped to
 * [1e-7, 1 − 1e-7]) plus ln(to/(1−to)) − ln(from/(1−from)), Saerens,
 * Latinne & Decaestecker (2002) eq. 2.4. The ranking is unchanged. O(1). */
double kge_prior_move(double p, double from, double to);

/* The share of positives in a list, estimated from its own calibrated
 * probabilities p (n) that hold for a share `from` in (0, 1): Saerens,
 * Latinne & Decaestecker (2002) EM, π ← mean_i kge_prior_move(p_i, from,
 * π) from π = from, until |Δπ| < 1e-6 or 200 iterations; *prior gets π
 * clamped to [1/n, 1 − 1/n] (0.5 for one pair). The estimate is only as
 * good as the calibration: scores that over-call a list's positives give
 * a share above the true one. *iters (may be NULL) gets the iterations
 * run. Returns 0; -1 when n is 0 or `from` is not in (0, 1).
 * O(iterations · n), iterations at most 200. */
int kge_prior_em(const float *p, size_t n, double from, double *prior, int *iters);

/* Structural baselines for prerequisite pairs on a known graph of n
 * concepts and E edges src[k] → dst[k] (src before dst), for the test
 * pairs te_pairs (nte, 2) = (a, b), "a is a prerequisite of b":
 * trans[p] = 1 / (length of the shortest path a → b) (0: none; the
 * transitive closure, ranked by distance), prec[p] = how many concepts a
 * already precedes (its descendants), lr[p] = a logistic regression
 * (kge_logreg_fit_predict) on eight structural features — log 1 + x of
 * a's and b's descendants and ancestors, of a's out-degree and b's
 * in-degree, and 1 / distance a → b and b → a — fitted on the labelled
 * pairs tr_pairs (ntr, 2) with tr_y; a training positive that is an edge
 * of the graph is featurised without that edge. tr_scores (ntr, 3) or NULL:
 * the three scores of each training pair, featurised so (a threshold or a
 * calibration chosen on them never saw the pair's own edge; the regression's
 * are in-sample). Returns 0 or -1 (out of
 * memory, or a class missing from the training pairs). O((ntr + nte) ·
 * (n + E)) at worst; pairs that share their first concept share its
 * searches, so pairs over k distinct concepts without their own edge cost
 * O(k · (n + E) + (ntr + nte) log(ntr + nte)). */
int kge_prereq_baselines(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const uint32_t *tr_pairs,
                         const int *tr_y, size_t ntr, const uint32_t *te_pairs, size_t nte, double *trans,
                         double *prec, double *lr, double *tr_scores);

/* The same regression on the eight structural features followed by k
 * features of the caller's (xtr (ntr, k) for the training pairs, xte
 * (nte, k) for the test pairs; k <= KGE_LOGREG_MAX_F - 8; k = 0 and
 * lambda = KGE_LOGREG_LAMBDA give kge_prereq_baselines' lr), with L2
 * strength lambda (kge_logreg_fit_predict): probabilities of the test
 * pairs in lr. Returns 0 or -1 (out of memory, k too large, or a class
 * missing). O((ntr + nte) · (n + E + k²) + iterations · ntr · (8 + k)²). */
int kge_prereq_regression(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const uint32_t *tr_pairs,
                          const int *tr_y, size_t ntr, const uint32_t *te_pairs, size_t nte, const double *xtr,
                          const double *xte, size_t k, double lambda, double *lr);

/* kge_prereq_regression in two halves, so a fit can be kept (a
 * checkpoint stores it) and applied later to other pairs with the same
 * result to the last bit: kge_prereq_regression_fit fits on the training
 * pairs (as kge_prereq_regression does) into *fit, F = 8 + k features: their
 * means mu and deviations sd on the training pairs, and the weights w of
 * the standardised features with the bias w[F]; kge_prereq_regression_apply
 * featurises the test pairs on the same graph (xte (nte, F - 8)) and
 * writes their probabilities to lr. Returns 0 or -1 (out of memory, k too
 * large, a fit with F < 8). Costs: the halves of kge_prereq_regression's. */
typedef struct kge_pair_fit {
    size_t F;
    double mu[KGE_LOGREG_MAX_F], sd[KGE_LOGREG_MAX_F], w[KGE_LOGREG_MAX_F + 1];
} kge_pair_fit;
int kge_prereq_regression_fit(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const uint32_t *tr_pairs,
                              const int *tr_y, size_t ntr, const double *xtr, size_t k, double lambda,
                              kge_pair_fit *fit);
int kge_prereq_regression_apply(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const kge_pair_fit *fit,
                                const uint32_t *te_pairs, size_t nte, const double *xte, double *lr);

/* Title-word features of ordered pairs (a, b) = "a is a prerequisite of
 * b", KGE_TITLE_FEATS per pair in x (m, KGE_TITLE_FEATS): the share of a's
 * title words found in b's title, the share of b's found in a's, 1 when
 * a's words are a proper subset of b's ("Calculus" → "Multivariable
 * calculus"), 1 when b's are a proper subset of a's; then, on the known
 * graph of E edges src[k] → dst[k], how like b's title are the titles of
 * the concepts a already precedes directly (Σ Jaccard of the word sets,
 * b itself left out: "Calculus" → "Vector calculus" known makes
 * "Calculus" → "Multivariable calculus" likelier), and how like a's title
 * are b's other direct prerequisites; then the largest of each of those
 * two Jaccard similarities (0 without such a concept). Words: runs of letters, digits and
 * non-ASCII bytes, lowercased (ASCII), text in parentheses left out
 * ("Translator (computing)"), a few function words (of, and, the, …)
 * dropped, a crude English suffix stem (-s, -al, -ic, -ing, -ical,
 * -ation, -ization on words long enough: "networks" is "network"), at
 * most 32 words a title. Needs only the titles and the edges any imported
 * course has. titles[i] may be NULL (no words). Returns 0, -1 out of
 * memory. O(total title length + E + m · (1 + degree) · words per title). */
#define KGE_TITLE_FEATS 8
int kge_title_pair_feats(const char *const *titles, size_t n, size_t E, const uint32_t *src, const uint32_t *dst,
                         const uint32_t *pairs, size_t m, double *x);

/* Neighbourhood features of ordered pairs (a, b) = "a is a prerequisite
 * of b" on the known graph of E edges src[k] → dst[k] over n concepts,
 * KGE_NEIGHBOUR_FEATS per pair in x (m, KGE_NEIGHBOUR_FEATS): item-based
 * collaborative filtering on the graph's own edges. With A = the concepts
 * a precedes directly but b, and B = b's direct prerequisites but a:
 * the largest and the mean, over b's other prerequisites x, of the cosine
 * similarity |A ∩ D(x)| / √(|A| · |D(x)|), D(x) = x's dependents but b
 * ("a leads to what b's known prerequisites lead to"); then the largest
 * and the mean, over a's other dependents y, of |B ∩ P(y)| / √(|B| ·
 * |P(y)|), P(y) = y's prerequisites but a ("b builds on what a's known
 * dependents build on"). 0 where a set is empty or there is no x (y).
 * The pair's own edge, when the graph has it, never counts, so a known
 * edge featurised on its graph is featurised as if left out. Edges and
 * pairs outside [0, n) count for nothing (their row is 0); repeated edges
 * count once. Needs only the edges. Returns 0, -1 out of memory.
 * O(n + E + Σ over pairs of the degrees of a's dependents and b's
 * prerequisites). */
#define KGE_NEIGHBOUR_FEATS 4
int kge_neighbour_pair_feats(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const uint32_t *pairs,
                             size_t m, double *x);

#endif
