/* Prerequisite prediction benchmark, kept for scripts that call it: a thin
 * wrapper over kgp_eval_prereq (kgpath_train.h), which `kgpath
 * eval-prereq` also runs. Same options as before; --data, --lb2 and
 * --metacademy name the dataset path.
 *
 * usage: prereq_eval --model DIR (--data REFD_PREFIX | --lb2 LB2_DATA_DIR [--definitions JSONL]
 *                    | --metacademy DIR) [--folds 5] [--steps 150] [--tokens 16]
 *                    [--mode head|lora|full] [--seed 1]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kgpath.h"
#include "kgpath_train.h"

static int on_fold(void *ud, const kgp_eval_report *r)
{
    (void)ud;
    int f = r->folds_done - 1;
    printf("fold %d (%zu train / %zu test pairs)\n", f, r->fold_train[f], r->fold_test[f]);
    for (int k = 0; k < KGP_EVAL_METHODS; k++)
        printf("  %-32s P@0.5 %.3f  R@0.5 %.3f  F1@0.5 %.3f  best F1 %.3f  AUC %.3f\n", r->method[k], r->fold[f][k].precision,
               r->fold[f][k].recall, r->fold[f][k].f1, r->fold[f][k].f1_best, r->fold[f][k].auc);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    kgp_eval_options o = {0};
    int nsets = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--model")) o.model = v;
        else if (!strcmp(a, "--data") || !strcmp(a, "--lb2") || !strcmp(a, "--metacademy")) { o.dataset = v; nsets++; }
        else if (!strcmp(a, "--definitions")) o.definitions = v;
        else if (!strcmp(a, "--folds")) o.folds = atoi(v);
        else if (!strcmp(a, "--steps")) o.steps = atol(v);
        else if (!strcmp(a, "--tokens")) o.max_tokens = atoi(v);
        else if (!strcmp(a, "--mode")) o.mode = v;
        else if (!strcmp(a, "--seed")) o.seed = strtoull(v, NULL, 10);
        else { fprintf(stderr, "prereq_eval: unknown option %s\n", a); return 1; }
    }
    if (!o.model || nsets != 1) {
        fprintf(stderr, "usage: prereq_eval --model DIR (--data REFD_PREFIX | --lb2 LB2_DATA_DIR [--definitions JSONL]\n"
                        "                   | --metacademy DIR)\n"
                        "                   [--folds 5] [--steps 150] [--tokens 16] [--mode head|lora|full] [--seed 1]\n"
                        "(the same as `kgpath eval-prereq`)\n");
        return 1;
    }
    kgp_eval_report *r = malloc(sizeof *r);
    if (!r) return 7;
    printf("dataset %s; model %s, mode %s\n\n", o.dataset, o.model, o.mode ? o.mode : "(as kgpath train)");
    kgp_status st = kgp_eval_prereq(&o, on_fold, NULL, r);
    if (st) {
        fprintf(stderr, "prereq_eval: %s\n", r->errmsg);
        free(r);
        return (int)st;
    }
    printf("\n%zu concepts, %zu pairs in fold 0 (%zu positive)\n", r->concepts, r->pairs, r->positives);
    printf("\n| method | precision at 0.5 | recall at 0.5 | F1 at 0.5 | best-threshold F1 | ROC-AUC |\n"
           "|---|---|---|---|---|---|\n");
    for (int k = 0; k < KGP_EVAL_METHODS; k++)   /* NaN at 0.5: a baseline without probabilities */
        printf("| %s | %.3f ± %.3f | %.3f ± %.3f | %.3f ± %.3f | %.3f ± %.3f | %.3f ± %.3f |\n", r->method[k],
               r->mean[k].precision, r->sd[k].precision, r->mean[k].recall, r->sd[k].recall, r->mean[k].f1, r->sd[k].f1,
               r->mean[k].f1_best, r->sd[k].f1_best, r->mean[k].auc, r->sd[k].auc);
    printf("\nkgpath training: %.1f s in all (%.1f s per fold)\n", r->train_seconds,
           r->folds_done ? r->train_seconds / r->folds_done : 0.0);
    free(r);
    return 0;
}
