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

/* Class-balanced logistic regression on F <= 8 standardised features
 * (L2 1e-3 on the weights, not the bias), fitted to convergence by Newton's
 * method with step halving, on (Xtr [ntr x F], ytr); writes the
 * probabilities of the training rows to str and of Xte [nte x F] to ste.
 * Deterministic. Returns 0; -1 when F is 0 or above 8; -2 out of memory.
 * O(iterations · ntr · F²), iterations typically under 20 (at most 100). */
int kge_logreg_fit_predict(const double *Xtr, const int *ytr, size_t ntr, const double *Xte, size_t nte, size_t F,
                           double *str, double *ste);

#endif
