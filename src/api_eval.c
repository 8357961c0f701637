/* Prerequisite prediction on public datasets (kgp_eval_prereq in
 * kgpath_train.h): loaders for RefD, LectureBank 2.0 and Metacademy, the
 * folds, the baselines, and kgpath's link model trained per fold. Metrics
 * and the logistic regression are pure arrays (encoder/train_eval.h). */
#include "kgpath.h"
#include "kgpath_train.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include <ftw.h>

#include "api_internal.h"
#include "encoder/train_eval.h"
#include "encoder/train_rng.h"
#include "graph/snapshot.h"

typedef struct pair { uint32_t pre, con; int label; } pair;

typedef struct eset {
    char **names, **texts;       /* [n]: a concept's name (unique) and the text to encode */
    size_t *tlen;                /* [n]: the text's first tlen bytes are the title, the rest its body */
    size_t n, cap;
    pair *tr[KGP_EVAL_MAX_FOLDS], *te[KGP_EVAL_MAX_FOLDS];
    size_t ntr[KGP_EVAL_MAX_FOLDS], nte[KGP_EVAL_MAX_FOLDS];
    size_t ctr[KGP_EVAL_MAX_FOLDS], cte[KGP_EVAL_MAX_FOLDS];
    int folds;
} eset;

static void eset_free(eset *d)
{
    for (size_t i = 0; i < d->n; i++) {
        if (d->texts && d->texts[i] != d->names[i]) free(d->texts[i]);
        free(d->names[i]);
    }
    free(d->names);
    free(d->texts);
    free(d->tlen);
    for (int f = 0; f < KGP_EVAL_MAX_FOLDS; f++) { free(d->tr[f]); free(d->te[f]); }
    memset(d, 0, sizeof *d);
}

static kgp_status fail(kgp_eval_report *r, kgp_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static kgp_status fail(kgp_eval_report *r, kgp_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errmsg, sizeof r->errmsg, fmt, ap);
    va_end(ap);
    return st;
}

#define OOM(r) fail(r, KGP_ENOMEM, "out of memory")

/* Index of name s, added when new (text = the name). UINT32_MAX: out of memory. */
static uint32_t intern(eset *d, const char *s, int *added)
{
    if (added) *added = 0;
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp(d->names[i], s)) return (uint32_t)i;
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 256;
        char **nn = realloc(d->names, cap * sizeof *nn);
        if (nn) d->names = nn;
        char **nt = realloc(d->texts, cap * sizeof *nt);
        if (nt) d->texts = nt;
        size_t *tl = realloc(d->tlen, cap * sizeof *tl);
        if (tl) d->tlen = tl;
        if (!nn || !nt || !tl) return UINT32_MAX;
        d->cap = cap;
    }
    if (!(d->names[d->n] = strdup(s))) return UINT32_MAX;
    d->texts[d->n] = d->names[d->n];
    d->tlen[d->n] = strlen(s);
    if (added) *added = 1;
    return (uint32_t)d->n++;
}

static int push(pair **v, size_t *n, size_t *cap, pair p)
{
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 256;
        pair *nv = realloc(*v, c * sizeof *nv);
        if (!nv) return -1;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = p;
    return 0;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Every line of path, with its number; fn returns a status. */
typedef kgp_status (*line_fn)(kgp_eval_report *r, const char *path, size_t lineno, char *line, void *ud);
static kgp_status each_line(kgp_eval_report *r, const char *path, line_fn fn, void *ud)
{
    FILE *f = fopen(path, "r");
    if (!f) return fail(r, errno == ENOENT ? KGP_ENOTFOUND : KGP_EIO, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    kgp_status st = KGP_OK;
    while (!st && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len) st = fn(r, path, lineno, line, ud);
    }
    free(line);
    fclose(f);
    return st;
}

/* ---- RefD: PREFIX.edges / PREFIX.edges_neg, "A<TAB>B" = B is a prerequisite of A ---- */

typedef struct refd_ctx { eset *d; pair *ps; size_t n, cap; int label; } refd_ctx;

static kgp_status refd_line(kgp_eval_report *r, const char *path, size_t lineno, char *line, void *ud)
{
    refd_ctx *c = ud;
    char *tab = strchr(line, '\t');
    if (!tab || tab == line || !tab[1]) return fail(r, KGP_EINPUT, "%s:%zu: expected 'concept<TAB>prerequisite'", path, lineno);
    *tab = 0;
    char *end = strchr(tab + 1, '\t');
    if (end) *end = 0;
    uint32_t a = intern(c->d, tab + 1, NULL);   /* the prerequisite first: indices as prereq_eval numbered them */
    uint32_t b = intern(c->d, line, NULL);
    if (a == UINT32_MAX || b == UINT32_MAX) return OOM(r);
    if (a == b) return fail(r, KGP_EINPUT, "%s:%zu: a concept paired with itself", path, lineno);
    if (push(&c->ps, &c->n, &c->cap, (pair){a, b, c->label})) return OOM(r);
    return KGP_OK;
}

static kgp_status load_refd(kgp_eval_report *r, const char *prefix, int folds, uint64_t seed, eset *d)
{
    char path[1100];
    refd_ctx c = {d, NULL, 0, 0, 1};
    snprintf(path, sizeof path, "%s.edges", prefix);
    kgp_status st = each_line(r, path, refd_line, &c);
    c.label = 0;
    snprintf(path, sizeof path, "%s.edges_neg", prefix);
    if (!st) st = each_line(r, path, refd_line, &c);
    int *fold = st ? NULL : malloc((c.n + 1) * sizeof *fold);
    size_t *idx = st ? NULL : malloc((c.n + 1) * sizeof *idx);
    if (!st && (!fold || !idx)) st = OOM(r);
    /* folds stratified by label, seeded */
    kge_rng g;
    kge_rng_seed(&g, seed);
    for (int lab = 0; !st && lab < 2; lab++) {
        size_t k = 0;
        for (size_t i = 0; i < c.n; i++)
            if (c.ps[i].label == lab) idx[k++] = i;
        if (k < (size_t)folds) {
            st = fail(r, KGP_EINPUT, "%s: %zu %s pairs, fewer than the %d folds", prefix, k, lab ? "positive" : "negative",
                      folds);
            break;
        }
        for (size_t i = k; i > 1; i--) {
            size_t j = kge_rng_below(&g, i), t = idx[i - 1];
            idx[i - 1] = idx[j];
            idx[j] = t;
        }
        for (size_t i = 0; i < k; i++) fold[idx[i]] = (int)(i % (size_t)folds);
    }
    for (int f = 0; !st && f < folds; f++)
        for (size_t i = 0; !st && i < c.n; i++)
            if (fold[i] == f ? push(&d->te[f], &d->nte[f], &d->cte[f], c.ps[i])
                             : push(&d->tr[f], &d->ntr[f], &d->ctr[f], c.ps[i]))
                st = OOM(r);
    free(fold);
    free(idx);
    free(c.ps);
    return st;
}

/* ---- LectureBank 2.0: 322topics_final.tsv ("id|name", 1-based), optional
 * definitions (JSON lines topic_id, generated_definition), folds
 * split/{train,test}_edges_{positive,negative}_F.txt with "a,b" (0-based) =
 * a is a prerequisite of b ---- */

static kgp_status lb2_topic(kgp_eval_report *r, const char *path, size_t lineno, char *line, void *ud)
{
    eset *d = ud;
    char *bar = strchr(line, '|'), *end;
    if (!bar) return fail(r, KGP_EINPUT, "%s:%zu: expected 'id|name'", path, lineno);
    long id = strtol(line, &end, 10);
    if (end != bar || id != (long)d->n + 1)
        return fail(r, KGP_EINPUT, "%s:%zu: ids must be 1..n in order (expected %zu)", path, lineno, d->n + 1);
    char key[600];
    snprintf(key, sizeof key, "#%ld %s", id, bar + 1);   /* ids keep duplicate names apart */
    int added;
    uint32_t k = intern(d, key, &added);
    if (k == UINT32_MAX) return OOM(r);
    char *t = strdup(bar + 1);
    if (!t) return OOM(r);
    d->texts[k] = t;
    d->tlen[k] = strlen(t);
    return KGP_OK;
}

static kgp_status lb2_def(kgp_eval_report *r, const char *path, size_t lineno, char *line, void *ud)
{
    eset *d = ud;
    json_error_t je;
    json_t *j = json_loads(line, 0, &je);
    if (!j) return fail(r, KGP_EINPUT, "%s:%zu:%d: %s", path, lineno, je.column, je.text);
    json_t *ji = json_object_get(j, "topic_id");
    json_int_t id = json_integer_value(ji);
    const char *def = json_string_value(json_object_get(j, "generated_definition"));
    kgp_status st = KGP_OK;
    if (!json_is_integer(ji) || !def) st = fail(r, KGP_EINPUT, "%s:%zu: expected topic_id and generated_definition", path, lineno);
    else if (id >= 1 && (size_t)id <= d->n) {
        size_t l = strlen(d->texts[id - 1]) + strlen(def) + 3;
        char *t = malloc(l);
        if (!t) st = OOM(r);
        else {
            snprintf(t, l, "%s. %s", d->texts[id - 1], def);
            free(d->texts[id - 1]);
            d->texts[id - 1] = t;
        }
    }
    json_decref(j);
    return st;
}

typedef struct lb2_ctx { eset *d; int fold, test, pos; } lb2_ctx;

static kgp_status lb2_edge(kgp_eval_report *r, const char *path, size_t lineno, char *line, void *ud)
{
    lb2_ctx *c = ud;
    eset *d = c->d;
    long x, y;
    if (sscanf(line, "%ld,%ld", &x, &y) != 2 || x < 0 || y < 0 || (size_t)x >= d->n || (size_t)y >= d->n)
        return fail(r, KGP_EINPUT, "%s:%zu: expected 'a,b' with two topic indices below %zu", path, lineno, d->n);
    if (x == y) return KGP_OK;   /* the published negatives hold a few self-pairs: left out */
    pair p = {(uint32_t)x, (uint32_t)y, c->pos};
    int f = c->fold;
    if (c->test ? push(&d->te[f], &d->nte[f], &d->cte[f], p) : push(&d->tr[f], &d->ntr[f], &d->ctr[f], p)) return OOM(r);
    return KGP_OK;
}

static kgp_status load_lb2(kgp_eval_report *r, const char *dir, const char *defs, int folds, eset *d)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/322topics_final.tsv", dir);
    kgp_status st = each_line(r, path, lb2_topic, d);
    if (!st && defs) st = each_line(r, defs, lb2_def, d);
    for (int f = 0; !st && f < folds; f++)
        for (int part = 0; !st && part < 4; part++) {
            lb2_ctx c = {d, f, part >= 2, part % 2 == 0};
            snprintf(path, sizeof path, "%s/split/%s_edges_%s_%d.txt", dir, c.test ? "test" : "train",
                     c.pos ? "positive" : "negative", f);
            st = each_line(r, path, lb2_edge, &c);
        }
    return st;
}

/* ---- Metacademy: concepts.jsonl (id, title, summary), edges.tsv
 * (prereq_id<TAB>concept_id...). Per fold: 20% of the edges held out with
 * as many random non-edges; five random non-edges per training edge. ---- */

static kgp_status meta_concept(kgp_eval_report *r, const char *path, size_t lineno, char *line, void *ud)
{
    eset *d = ud;
    json_error_t je;
    json_t *j = json_loads(line, 0, &je);
    if (!j) return fail(r, KGP_EINPUT, "%s:%zu:%d: %s", path, lineno, je.column, je.text);
    const char *id = json_string_value(json_object_get(j, "id")), *title = json_string_value(json_object_get(j, "title")),
               *sum = json_string_value(json_object_get(j, "summary"));
    kgp_status st = KGP_OK;
    if (!id || !title) st = fail(r, KGP_EINPUT, "%s:%zu: expected string fields id and title", path, lineno);
    int added = 0;
    uint32_t k = st ? 0 : intern(d, id, &added);
    if (!st && k == UINT32_MAX) st = OOM(r);
    if (!st && !added) st = fail(r, KGP_EINPUT, "%s:%zu: concept '%s' given twice", path, lineno, id);
    if (!st) {
        size_t l = strlen(title) + (sum ? strlen(sum) : 0) + 3;
        char *t = malloc(l);
        if (!t) st = OOM(r);
        else {
            snprintf(t, l, "%s. %s", title, sum ? sum : "");
            d->texts[k] = t;
            d->tlen[k] = strlen(title);
        }
    }
    json_decref(j);
    return st;
}

typedef struct meta_ctx { eset *d; size_t n; uint8_t *adj; pair *ed; size_t ne, cap; } meta_ctx;

static kgp_status meta_edge(kgp_eval_report *r, const char *path, size_t lineno, char *line, void *ud)
{
    (void)r; (void)path; (void)lineno;
    meta_ctx *c = ud;
    char *save = NULL, *a = strtok_r(line, "\t", &save), *b = strtok_r(NULL, "\t", &save);
    if (!a || !b || !strcmp(a, "prereq_id")) return KGP_OK;
    uint32_t x = UINT32_MAX, y = UINT32_MAX;
    for (size_t i = 0; i < c->n && (x == UINT32_MAX || y == UINT32_MAX); i++) {
        if (!strcmp(c->d->names[i], a)) x = (uint32_t)i;
        if (!strcmp(c->d->names[i], b)) y = (uint32_t)i;
    }
    /* unknown ids, loops and repeats are left out */
    if (x == UINT32_MAX || y == UINT32_MAX || x == y || c->adj[(size_t)x * c->n + y]) return KGP_OK;
    c->adj[(size_t)x * c->n + y] = 1;
    return push(&c->ed, &c->ne, &c->cap, (pair){x, y, 1}) ? OOM(r) : KGP_OK;
}

static kgp_status load_metacademy(kgp_eval_report *r, const char *dir, int folds, uint64_t seed, eset *d)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/concepts.jsonl", dir);
    kgp_status st = each_line(r, path, meta_concept, d);
    if (st) return st;
    meta_ctx c = {d, d->n, calloc(d->n * d->n + 1, 1), NULL, 0, 0};
    uint8_t *used = calloc(d->n * d->n + 1, 1);
    if (!c.adj || !used) st = OOM(r);
    snprintf(path, sizeof path, "%s/edges.tsv", dir);
    if (!st) st = each_line(r, path, meta_edge, &c);
    size_t n = d->n, ne = c.ne, nt = ne / 5;
    if (!st && (nt < 1 || n < 3)) st = fail(r, KGP_EINPUT, "%s: too few edges (%zu) to hold out 20%%", path, ne);
    /* enough non-edges for the negatives? */
    if (!st && (double)n * (double)(n - 1) - 2.0 * (double)ne < 1.5 * (double)(nt + 5 * (ne - nt)))
        st = fail(r, KGP_EINPUT, "%s: too dense for random non-edges", path);
    for (int f = 0; !st && f < folds; f++) {
        kge_rng g;
        kge_rng_seed(&g, seed * 1000 + (uint64_t)f);
        for (size_t i = ne; i > 1; i--) {
            size_t j = kge_rng_below(&g, i);
            pair t = c.ed[i - 1];
            c.ed[i - 1] = c.ed[j];
            c.ed[j] = t;
        }
        memset(used, 0, n * n);
        for (size_t i = 0; !st && i < ne; i++)
            if (i < nt ? push(&d->te[f], &d->nte[f], &d->cte[f], c.ed[i]) : push(&d->tr[f], &d->ntr[f], &d->ctr[f], c.ed[i]))
                st = OOM(r);
        for (size_t k = 0; !st && k < nt + 5 * (ne - nt);) {
            uint32_t x = (uint32_t)kge_rng_below(&g, n), y = (uint32_t)kge_rng_below(&g, n);
            if (x == y || c.adj[(size_t)x * n + y] || c.adj[(size_t)y * n + x] || used[(size_t)x * n + y]) continue;
            used[(size_t)x * n + y] = 1;
            pair p = {x, y, 0};
            if (k < nt ? push(&d->te[f], &d->nte[f], &d->cte[f], p) : push(&d->tr[f], &d->ntr[f], &d->ctr[f], p))
                st = OOM(r);
            k++;
        }
    }
    free(c.adj);
    free(c.ed);
    free(used);
    return st;
}

/* ---- the user's path on a known graph ----------------------------------------- */

enum { M_KGPATH, M_TRANS, M_PREC, M_LR, M_OUT };
static const char *const method_names[KGP_EVAL_METHODS] = {"kgpath", "transitivity", "precedes count",
                                                           "logistic regression (structure)", "out-degree"};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Removes the work folder: its files, and the checkpoint folder's. */
static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : 0;
}

static void rm_tree(const char *dir)
{
    if (dir && *dir) nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Metrics of scores s against labels y: ROC-AUC, the F1 at the threshold
 * with the best F1 on these very pairs (an upper bound for the method),
 * and of the probabilities probs (NULL: none) precision, recall and F1 at
 * 0.5 and the ECE over 10 bins; NaN where not defined. */
static int metrics(const double *s, const double *probs, const int *y, size_t n, kgp_eval_metrics *m)
{
    double th;
    *m = (kgp_eval_metrics){NAN, NAN, NAN, NAN, NAN, NAN};
    if (kge_roc_auc(s, y, n, &m->auc) || kge_best_f1_threshold(s, y, n, &th)) return -1;
    double p, rc;
    kge_prf_at(s, y, n, th, &p, &rc, &m->f1_best);
    if (probs) {
        kge_prf_at(probs, y, n, 0.5, &m->precision, &m->recall, &m->f1);
        m->ece = kge_ece(probs, y, n, 10);
    }
    return 0;
}

/* A baseline's score as its calibration reads it: the counts on a log
 * scale, the regression's probability as log-odds, transitivity as is. */
static double base_x(int k, double v)
{
    if (k == M_PREC || k == M_OUT) return log1p(v);
    if (k == M_LR) {
        v = v < 1e-9 ? 1e-9 : v > 1 - 1e-9 ? 1 - 1e-9 : v;
        return log(v / (1 - v));
    }
    return v;
}

/* What kgpath and the baselines make of the labelled pairs (names as a
 * user gives them: ids, keys or titles) on the database db, whose graph
 * is everything known: `kgpath train` (the options of o, the checkpoint in
 * work/ck), then `suggest --pairs`'s scores; the baselines on the same
 * graph, fitted (logistic regression) on its edges against its designers'
 * rejections, or against three random non-edges per edge when it has none.
 * Fills r->fold[f]. */
static kgp_status evaluate(kgp_eval_report *r, const kgp_eval_options *o, kgp_db *db, const char *work,
                           char *const *names, const int *y, size_t n, int f)
{
    char ck[1100];
    snprintf(ck, sizeof ck, "%s/ck", work);
    kgp_train_options to = {.model = o->model, .out = ck, .mode = o->mode, .steps = o->steps,
                            .max_tokens = o->max_tokens, .seed = o->seed, .threads = o->threads, .force = 1};
    kgp_train_report tr;
    double t0 = now_s();
    kgp_status st = kgp_train(db, &to, NULL, NULL, &tr);
    if (st) return fail(r, st, "fold %d: train: %s", f, kgp_db_errmsg(db));
    r->train_seconds += now_s() - t0;
    r->fold_edges[f] = tr.edges;
    r->fold_rejected[f] = tr.rejected_negatives;
    kgp_snap *snap = NULL;
    if ((st = kgp_snap_open(db, &snap))) return fail(r, st, "%s", kgp_db_errmsg(db));
    const kgg_snap *g = kgp__snap_graph(snap);
    size_t N = g->n, E = 0, ntr = 0;
    uint32_t *idx = malloc((2 * n + 1) * sizeof *idx);
    float *p = malloc((n + 1) * sizeof *p);
    double *s[KGP_EVAL_METHODS] = {0};
    for (int k = 0; k < KGP_EVAL_METHODS; k++) s[k] = malloc((n + 1) * sizeof(double));
    size_t ne = 0;
    for (uint32_t i = 0; i < N; i++)
        for (uint32_t gi = g->grp_off[i]; gi < g->grp_off[i + 1]; gi++) ne += g->mem_off[gi + 1] - g->mem_off[gi];
    uint32_t *src = malloc((ne + 1) * sizeof *src), *dst = malloc((ne + 1) * sizeof *dst);
    kgp_rejection *rj = NULL;
    size_t nrj = 0;
    uint32_t *trp = NULL;
    int *try = NULL;
    double *trs = NULL, *cal = NULL;
    size_t *outdeg = NULL;
    int sok = 1;
    for (int k = 0; k < KGP_EVAL_METHODS; k++) sok &= s[k] != NULL;
    if (!idx || !p || !sok || !src || !dst) { st = OOM(r); goto out; }
    for (size_t q = 0; q < 2 * n; q++)
        if ((st = kgp_snap_lookup(snap, names[q], &idx[q]))) {
            st = fail(r, st, "pair %zu: %s", q / 2 + 1, kgp_snap_errmsg(snap));
            goto out;
        }
    /* the share of prerequisites among the test pairs, as a user who knows
     * the balance of the list gives it (`suggest --prior`); the baselines'
     * probabilities get the same */
    size_t npos = 0;
    for (size_t q = 0; q < n; q++) npos += y[q] != 0;
    double prior = (double)npos / (double)n;
    if (o->csv && *o->csv) prior = o->prior > 0 ? o->prior : -1;   /* as bare `suggest --pairs` unless given */
    if ((st = kgp_score_pairs_prior(snap, ck, idx, n, prior, p, &prior))) {
        st = fail(r, st, "%s", kgp_snap_errmsg(snap));
        goto out;
    }
    if (prior < 0) prior = 0.5;   /* an uncalibrated checkpoint: the baselines at a balanced list */
    r->fold_prior[f] = prior;
    for (size_t q = 0; q < n; q++) s[M_KGPATH][q] = p[q];
    /* the known graph, as the model saw it: requirement edges */
    for (uint32_t i = 0; i < N; i++)
        for (uint32_t gi = g->grp_off[i]; gi < g->grp_off[i + 1]; gi++)
            for (uint32_t m = g->mem_off[gi]; m < g->mem_off[gi + 1]; m++)
                if (g->mem[m] < N && g->mem[m] != i) { src[E] = g->mem[m]; dst[E++] = i; }
    if ((st = kgp_rejections(snap, NULL, &rj, &nrj))) { st = fail(r, st, "%s", kgp_snap_errmsg(snap)); goto out; }
    size_t nneg = nrj ? nrj : 3 * E;
    trp = malloc(2 * (E + nneg + 1) * sizeof *trp);
    try = malloc((E + nneg + 1) * sizeof *try);
    if (!trp || !try) { st = OOM(r); goto out; }
    for (size_t k = 0; k < E; k++) { trp[2 * ntr] = src[k]; trp[2 * ntr + 1] = dst[k]; try[ntr++] = 1; }
    for (size_t k = 0; k < nrj; k++) {
        uint32_t a = kgg_snap_find_key(g, rj[k].prereq), b = kgg_snap_find_key(g, rj[k].concept);
        if (rj[k].outcome != KGP_REJECT_DONE || a == KGG_NONE || b == KGG_NONE) continue;
        trp[2 * ntr] = a; trp[2 * ntr + 1] = b; try[ntr++] = 0;
    }
    kge_rng rg;
    kge_rng_seed(&rg, (o->seed ? o->seed : 1) ^ 0x6b67706174680011ull);
    for (size_t k = 0; !nrj && N > 1 && k < 3 * E; k++) {
        uint32_t a = (uint32_t)kge_rng_below(&rg, N), b = (uint32_t)kge_rng_below(&rg, N);
        if (a == b) continue;
        trp[2 * ntr] = a; trp[2 * ntr + 1] = b; try[ntr++] = 0;
    }
    if (!(trs = malloc((3 * ntr + 1) * sizeof *trs)) || !(cal = malloc((n + ntr + 1) * sizeof *cal)) ||
        kge_prereq_baselines(N, E, src, dst, trp, try, ntr, idx, n, s[M_TRANS], s[M_PREC], s[M_LR], trs)) {
        st = OOM(r);
        goto out;
    }
    /* out-degree: of how many known concepts the candidate is a direct
     * prerequisite (precedes count's direct half); a training positive,
     * one of the known edges, counted without its own edge, as
     * kge_prereq_baselines featurises it */
    if (!(outdeg = calloc(N + 1, sizeof *outdeg))) { st = OOM(r); goto out; }
    for (size_t k = 0; k < E; k++) outdeg[src[k]]++;
    for (size_t q = 0; q < n; q++) s[M_OUT][q] = outdeg[idx[2 * q]];
    if (metrics(s[M_KGPATH], s[M_KGPATH], y, n, &r->fold[f][M_KGPATH])) { st = OOM(r); goto out; }
    /* each baseline as kgpath's scores are made: Platt scaling fitted on the
     * training pairs (both classes weighing alike), moved to the same prior */
    for (int k = M_TRANS; k < KGP_EVAL_METHODS; k++) {
        double A, B, *xt = cal + n, sh = log(prior / (1 - prior));
        for (size_t q = 0; q < ntr; q++)
            xt[q] = base_x(k, k == M_OUT ? outdeg[trp[2 * q]] - (q < E) : trs[3 * q + k - M_TRANS]);
        if (kge_platt_fit(xt, try, ntr, 1, &A, &B)) { st = OOM(r); goto out; }
        for (size_t q = 0; q < n; q++) {
            double z = -(A * base_x(k, s[k][q]) + B) + sh;
            cal[q] = 1 / (1 + exp(-z));
        }
        if (metrics(s[k], cal, y, n, &r->fold[f][k])) { st = OOM(r); goto out; }
    }
    r->fold_test[f] = n;
out:
    kgp_snap_close(snap);
    free(idx); free(p); free(src); free(dst); free(rj); free(trp); free(try); free(trs); free(cal); free(outdeg);
    for (int k = 0; k < KGP_EVAL_METHODS; k++) free(s[k]);
    return st;
}

/* A CSV field, quoted (RFC 4180). */
static void csv_field(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') fputc('"', f);
        fputc(s[i], f);
    }
    fputc('"', f);
}

/* Does b reach a along adj (n concepts)? (a → b would close a cycle.) */
static int reaches(const uint8_t *adj, size_t n, uint32_t b, uint32_t a, uint32_t *queue, uint8_t *seen)
{
    memset(seen, 0, n);
    size_t qh = 0, qt = 0;
    queue[qt++] = b;
    seen[b] = 1;
    while (qh < qt) {
        uint32_t x = queue[qh++];
        if (x == a) return 1;
        for (size_t y = 0; y < n; y++)
            if (adj[(size_t)x * n + y] && !seen[y]) { seen[y] = 1; queue[qt++] = (uint32_t)y; }
    }
    return 0;
}

/* Fold f's known graph as a user's course file at path: id c<i>, the
 * title and the rest of the text as summary, the training positives as
 * prerequisites (adj, n × n, filled here; an edge that would close a
 * cycle, which an import refuses, left out and counted in
 * r->fold_dropped[f]). */
static kgp_status fold_csv(kgp_eval_report *r, const eset *ds, int f, const char *path, uint8_t *adj)
{
    size_t n = ds->n, dropped = 0;
    uint8_t *seen = malloc(n + 1);
    uint32_t *queue = malloc((n + 1) * sizeof *queue);
    kgp_status st = KGP_OK;
    FILE *fp = NULL;
    if (!seen || !queue) { st = OOM(r); goto out; }
    for (size_t i = 0; i < ds->ntr[f]; i++) {
        const pair *q = &ds->tr[f][i];
        if (!q->label || adj[(size_t)q->pre * n + q->con]) continue;
        if (reaches(adj, n, q->con, q->pre, queue, seen)) { dropped++; continue; }
        adj[(size_t)q->pre * n + q->con] = 1;
    }
    r->fold_dropped[f] = dropped;
    if (!(fp = fopen(path, "w"))) { st = fail(r, KGP_EIO, "%s: %s", path, strerror(errno)); goto out; }
    fputs("id,title,summary,prerequisites\n", fp);
    for (size_t i = 0; i < n; i++) {
        const char *t = ds->texts[i], *b = t + ds->tlen[i];
        while (*b == '.' || *b == ' ') b++;
        fprintf(fp, "c%zu,", i);
        csv_field(fp, t, ds->tlen[i]);
        fputc(',', fp);
        csv_field(fp, b, strlen(b));
        fputs(",\"", fp);
        int first = 1;
        for (size_t a = 0; a < n; a++)
            if (adj[a * n + i]) { fprintf(fp, "%sc%zu", first ? "" : ";", a); first = 0; }
        fputs("\"\n", fp);
    }
    int rc = fclose(fp);
    fp = NULL;
    if (rc != 0) st = fail(r, KGP_EIO, "%s: %s", path, strerror(errno));
out:
    if (fp) fclose(fp);
    free(seen); free(queue);
    return st;
}

/* Fold f as a user's course: work/fold.csv (fold_csv) imported into
 * work/fold.db, with the training negatives recorded as a designer's
 * rejections (`suggest --reject-pairs`). */
static kgp_status fold_db(kgp_eval_report *r, const eset *ds, int f, const char *work, kgp_db **db)
{
    size_t n = ds->n;
    char path[1100], dbp[1100];
    snprintf(path, sizeof path, "%s/fold.csv", work);
    snprintf(dbp, sizeof dbp, "%s/fold.db", work);
    uint8_t *adj = calloc(n * n + 1, 1), *seen = malloc(n + 1);
    kgp_rejection *rj = NULL;
    char *keys = NULL;
    kgp_status st = KGP_OK;
    if (!adj || !seen) { st = OOM(r); goto out; }
    if ((st = fold_csv(r, ds, f, path, adj))) goto out;
    if ((st = kgp_db_open(dbp, 0, db))) { st = fail(r, st, "%s", *db ? kgp_db_errmsg(*db) : dbp); goto out; }
    const char *paths[1] = {path};
    kgp_report *rep = NULL;
    st = kgp_import(*db, paths, 1, NULL, &rep);
    if (st) st = fail(r, st, "fold %d: import: %s", f, rep && rep->ndiags ? rep->diags[0].message : kgp_db_errmsg(*db));
    kgp_report_free(rep);
    if (st) goto out;
    /* the training negatives: each pair once, never an edge; in chunks (the
     * strict check of a list is quadratic in its length) */
    size_t nn = 0;
    rj = calloc(ds->ntr[f] + 1, sizeof *rj);
    keys = malloc(ds->ntr[f] * 32 + 1);
    if (!rj || !keys) { st = OOM(r); goto out; }
    memset(seen, 0, n);
    uint8_t *done = calloc(n * n + 1, 1);
    if (!done) { st = OOM(r); goto out; }
    for (size_t i = 0; i < ds->ntr[f]; i++) {
        const pair *q = &ds->tr[f][i];
        size_t k = (size_t)q->pre * n + q->con;
        if (q->label || q->pre == q->con || adj[k] || done[k]) continue;
        done[k] = 1;
        char *pk = keys + 32 * nn;
        snprintf(pk, 16, "fold:c%u", q->pre);
        snprintf(pk + 16, 16, "fold:c%u", q->con);
        rj[nn++] = (kgp_rejection){pk, pk + 16, NULL, NAN, "eval-prereq: labelled negative", 0, 0};
    }
    free(done);
    for (size_t at = 0; !st && at < nn; at += 2000) {
        size_t m = nn - at < 2000 ? nn - at : 2000;
        if ((st = kgp_reject_suggestions(*db, rj + at, m, 0, NULL)))
            st = fail(r, st, "fold %d: rejections: %s", f, kgp_db_errmsg(*db));
    }
out:
    free(adj); free(seen); free(rj); free(keys);
    if (st) { kgp_db_close(*db); *db = NULL; }
    return st;
}

/* --write-folds DIR: fold f as the files a user of `import`, `train` and
 * `suggest --pairs` has: DIR/foldF.csv (fold_csv: the known graph, no
 * rejections) and DIR/foldF.tsv, its test pairs as
 * "c<pre><TAB>c<concept><TAB>1|0" (the `--csv --pairs` input). */
static kgp_status write_fold(kgp_eval_report *r, const eset *ds, int f, const char *dir)
{
    char path[1100];
    uint8_t *adj = calloc(ds->n * ds->n + 1, 1);
    if (!adj) return OOM(r);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) { free(adj); return fail(r, KGP_EIO, "%s: %s", dir, strerror(errno)); }
    snprintf(path, sizeof path, "%s/fold%d.csv", dir, f);
    kgp_status st = fold_csv(r, ds, f, path, adj);
    free(adj);
    if (st) return st;
    snprintf(path, sizeof path, "%s/fold%d.tsv", dir, f);
    FILE *fp = fopen(path, "w");
    if (!fp) return fail(r, KGP_EIO, "%s: %s", path, strerror(errno));
    for (size_t q = 0; q < ds->nte[f]; q++)
        fprintf(fp, "c%u\tc%u\t%d\n", ds->te[f][q].pre, ds->te[f][q].con, ds->te[f][q].label != 0);
    if (fclose(fp) != 0) return fail(r, KGP_EIO, "%s: %s", path, strerror(errno));
    r->fold_train[f] = ds->ntr[f];
    r->fold_test[f] = ds->nte[f];
    return KGP_OK;
}

static kgp_status run_fold(kgp_eval_report *r, const kgp_eval_options *o, const eset *ds, int f, const char *work)
{
    kgp_db *db = NULL;
    kgp_status st = fold_db(r, ds, f, work, &db);
    size_t nB = ds->nte[f];
    char **names = calloc(2 * nB + 1, sizeof *names), *buf = malloc(32 * nB + 1);
    int *y = malloc((nB + 1) * sizeof *y);
    if (!st && (!names || !buf || !y)) st = OOM(r);
    for (size_t q = 0; !st && q < nB; q++) {
        names[2 * q] = buf + 32 * q;
        names[2 * q + 1] = buf + 32 * q + 16;
        snprintf(names[2 * q], 16, "fold:c%u", ds->te[f][q].pre);
        snprintf(names[2 * q + 1], 16, "fold:c%u", ds->te[f][q].con);
        y[q] = ds->te[f][q].label != 0;
    }
    size_t npos = 0;
    for (size_t q = 0; q < nB; q++) npos += y && y[q];
    if (!st && (!npos || npos == nB)) st = fail(r, KGP_EINPUT, "fold %d: its test pairs need both classes", f);
    if (!st) st = evaluate(r, o, db, work, names, y, nB, f);
    r->fold_train[f] = ds->ntr[f];
    kgp_db_close(db);
    free(names); free(buf); free(y);
    return st;
}

static void summarise(kgp_eval_report *r)
{
    int F = r->folds_done;
    for (int k = 0; k < KGP_EVAL_METHODS; k++) {
        double mean[6] = {0}, var[6] = {0};
        for (int f = 0; f < F; f++) {
            const kgp_eval_metrics *m = &r->fold[f][k];
            double v[6] = {m->precision, m->recall, m->f1, m->f1_best, m->auc, m->ece};
            for (int j = 0; j < 6; j++) mean[j] += v[j] / F;
        }
        for (int f = 0; f < F; f++) {
            const kgp_eval_metrics *m = &r->fold[f][k];
            double v[6] = {m->precision, m->recall, m->f1, m->f1_best, m->auc, m->ece};
            for (int j = 0; j < 6; j++) var[j] += F > 1 ? pow(v[j] - mean[j], 2) / (F - 1) : 0;
        }
        r->mean[k] = (kgp_eval_metrics){mean[0], mean[1], mean[2], mean[3], mean[4], mean[5]};
        r->sd[k] = (kgp_eval_metrics){sqrt(var[0]), sqrt(var[1]), sqrt(var[2]), sqrt(var[3]), sqrt(var[4]), sqrt(var[5])};
    }
}

/* A dataset name or path → kind and path. */
static kgp_status resolve(kgp_eval_report *r, const kgp_eval_options *o, char *path, size_t len)
{
    static const struct { const char *name, *sub, *kind; } known[] = {
        {"refd-cs", "refd/Course/CS", "refd"},
        {"refd-math", "refd/Course/MATH", "refd"},
        {"lecturebank", "lecturebank/LB-Paper/LectureBank2/data", "lecturebank"},
        {"metacademy", "metacademy", "metacademy"},
    };
    const char *ds = o->dataset;
    if (!ds || !*ds) return fail(r, KGP_EUSAGE, "no dataset (a path, or refd-cs, refd-math, lecturebank, metacademy)");
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (!strcmp(ds, known[i].name)) {
            const char *dir = o->datasets_dir ? o->datasets_dir : getenv("KGPATH_DATASETS");
            if (!dir || !*dir) dir = "../shared/datasets";
            snprintf(path, len, "%s/%s", dir, known[i].sub);
            snprintf(r->kind, sizeof r->kind, "%s", known[i].kind);
            char probe[1200];
            snprintf(probe, sizeof probe, !strcmp(known[i].kind, "refd") ? "%s.edges" : "%s", path);
            if (!exists(probe))
                return fail(r, KGP_ENOTFOUND, "dataset %s: %s not found (set --datasets DIR or $KGPATH_DATASETS)", ds, probe);
            return KGP_OK;
        }
    snprintf(path, len, "%s", ds);
    char probe[1200];
    snprintf(probe, sizeof probe, "%s.edges", ds);
    if (exists(probe)) { snprintf(r->kind, sizeof r->kind, "refd"); return KGP_OK; }
    snprintf(probe, sizeof probe, "%s/322topics_final.tsv", ds);
    if (exists(probe)) { snprintf(r->kind, sizeof r->kind, "lecturebank"); return KGP_OK; }
    snprintf(probe, sizeof probe, "%s/concepts.jsonl", ds);
    if (exists(probe)) { snprintf(r->kind, sizeof r->kind, "metacademy"); return KGP_OK; }
    return fail(r, KGP_ENOTFOUND,
                "%s: not a dataset (expected PREFIX.edges + PREFIX.edges_neg, a LectureBank 2.0 data folder, or a "
                "Metacademy folder; or a name: refd-cs, refd-math, lecturebank, metacademy)", ds);
}

/* --csv FILE --pairs FILE: the user's own course and labelled pairs
 * ("prerequisite<TAB>concept<TAB>label", label 1 or 0; ids, keys or
 * titles as `suggest --pairs` reads them; '#' comments). */
typedef struct lpairs { char **names; int *y; size_t n, cap; } lpairs;

static kgp_status lpair_line(kgp_eval_report *r, const char *path, size_t lineno, char *line, void *ud)
{
    lpairs *l = ud;
    if (line[0] == '#') return KGP_OK;
    char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
    if (!t1 || !t2 || t1 == line || t2 == t1 + 1)
        return fail(r, KGP_EINPUT, "%s:%zu: expected 'prerequisite<TAB>concept<TAB>label'", path, lineno);
    *t1 = *t2 = 0;
    char *lab = t2 + 1, *end = strchr(lab, '\t');
    if (end) *end = 0;
    if (strcmp(lab, "0") && strcmp(lab, "1"))
        return fail(r, KGP_EINPUT, "%s:%zu: the label must be 1 (a prerequisite) or 0 (not one), not '%s'", path,
                    lineno, lab);
    if (l->n == l->cap) {
        size_t c = l->cap ? 2 * l->cap : 256;
        char **nn = realloc(l->names, 2 * c * sizeof *nn);
        if (nn) l->names = nn;
        int *ny = realloc(l->y, c * sizeof *ny);
        if (ny) l->y = ny;
        if (!nn || !ny) return OOM(r);
        l->cap = c;
    }
    l->names[2 * l->n] = strdup(line);
    l->names[2 * l->n + 1] = strdup(t1 + 1);
    l->y[l->n++] = lab[0] == '1';
    return l->names[2 * l->n - 2] && l->names[2 * l->n - 1] ? KGP_OK : OOM(r);
}

static kgp_status run_csv(kgp_eval_report *r, const kgp_eval_options *o, const char *work)
{
    lpairs l = {0};
    kgp_status st = each_line(r, o->pairs, lpair_line, &l);
    size_t npos = 0;
    for (size_t q = 0; q < l.n; q++) npos += l.y[q];
    if (!st && (!npos || npos == l.n)) st = fail(r, KGP_EINPUT, "%s: the labelled pairs need both classes (%zu of %zu "
                                                 "are prerequisites)", o->pairs, npos, l.n);
    char dbp[1100];
    snprintf(dbp, sizeof dbp, "%s/course.db", work);
    kgp_db *db = NULL;
    if (!st && (st = kgp_db_open(dbp, 0, &db))) st = fail(r, st, "%s", db ? kgp_db_errmsg(db) : dbp);
    if (!st) {
        const char *paths[1] = {o->csv};
        kgp_report *rep = NULL;
        st = kgp_import(db, paths, 1, NULL, &rep);
        if (st) st = fail(r, st, "%s: %s", o->csv, rep && rep->ndiags ? rep->diags[0].message : kgp_db_errmsg(db));
        if (!st && rep) for (size_t c = 0; c < rep->ncourses; c++) r->concepts += rep->courses[c].concepts;
        kgp_report_free(rep);
    }
    r->pairs = l.n;
    r->positives = npos;
    if (!st) st = evaluate(r, o, db, work, l.names, l.y, l.n, 0);
    r->fold_train[0] = r->fold_edges[0];
    kgp_db_close(db);
    for (size_t q = 0; q < 2 * l.n; q++) free(l.names[q]);
    free(l.names);
    free(l.y);
    return st;
}

kgp_status kgp_eval_prereq(const kgp_eval_options *o, kgp_eval_fn fn, void *ud, kgp_eval_report *r)
{
    memset(r, 0, sizeof *r);
    for (int k = 0; k < KGP_EVAL_METHODS; k++) r->method[k] = method_names[k];
    eset ds = {0};
    kgp_status st = KGP_OK;
    int csv = o->csv && *o->csv;
    int folds = csv ? 1 : o->folds ? o->folds : 5;
    const char *mode = o->mode;
    if (!csv && (folds < 2 || folds > KGP_EVAL_MAX_FOLDS)) return fail(r, KGP_EUSAGE, "folds must be in [2, %d]", KGP_EVAL_MAX_FOLDS);
    if (o->max_tokens && (o->max_tokens < 3 || o->max_tokens > 512)) return fail(r, KGP_EUSAGE, "max_tokens must be in [3, 512]");
    if (o->steps < 0) return fail(r, KGP_EUSAGE, "steps must be positive");
    if (mode && strcmp(mode, "head") && strcmp(mode, "lora") && strcmp(mode, "full"))
        return fail(r, KGP_EUSAGE, "unknown mode \"%s\" (head, lora or full)", mode);
    if (csv != (o->pairs && *o->pairs)) return fail(r, KGP_EUSAGE, "a course CSV and its labelled pairs go together");
    if (csv && o->dataset && *o->dataset) return fail(r, KGP_EUSAGE, "either a dataset or a course CSV with its pairs");
    if (csv && o->write_folds && *o->write_folds) return fail(r, KGP_EUSAGE, "--write-folds writes a dataset's folds, not a course's");
    if (o->prior != 0 && !(csv && ((o->prior > 0 && o->prior < 1) || o->prior == KGP_PRIOR_AUTO)))
        return fail(r, KGP_EUSAGE, "prior: a share in (0, 1) or KGP_PRIOR_AUTO, with a course CSV only");
    if (csv) {
        snprintf(r->dataset, sizeof r->dataset, "%s", o->csv);
        snprintf(r->kind, sizeof r->kind, "csv");
        if (!exists(o->csv)) return fail(r, KGP_ENOTFOUND, "%s: no such file", o->csv);
        if (!exists(o->pairs)) return fail(r, KGP_ENOTFOUND, "%s: no such file", o->pairs);
    } else {
        if ((st = resolve(r, o, r->dataset, sizeof r->dataset))) return st;
        if (!strcmp(r->kind, "lecturebank") && folds > 5) return fail(r, KGP_EUSAGE, "LectureBank 2.0 has 5 published folds");
        if (o->definitions && strcmp(r->kind, "lecturebank"))
            return fail(r, KGP_EUSAGE, "definitions go with LectureBank 2.0 only");
        uint64_t seed = o->seed ? o->seed : 1;
        if (!strcmp(r->kind, "refd")) st = load_refd(r, r->dataset, folds, seed, &ds);
        else if (!strcmp(r->kind, "lecturebank")) st = load_lb2(r, r->dataset, o->definitions, folds, &ds);
        else st = load_metacademy(r, r->dataset, folds, seed, &ds);
        if (st) goto out;
        r->concepts = ds.n;
        r->pairs = ds.ntr[0] + ds.nte[0];
        for (size_t i = 0; i < ds.ntr[0]; i++) r->positives += ds.tr[0][i].label != 0;
        for (size_t i = 0; i < ds.nte[0]; i++) r->positives += ds.te[0][i].label != 0;
    }
    r->folds = folds;
    if (o->write_folds && *o->write_folds) {
        for (int f = 0; !st && f < folds; f++) {
            if ((st = write_fold(r, &ds, f, o->write_folds))) break;
            r->folds_done = f + 1;
        }
        goto out;
    }
    const char *tmp = getenv("TMPDIR");
    char work[1000];
    snprintf(work, sizeof work, "%s/kgpath-eval-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(work)) { st = fail(r, KGP_EIO, "%s: cannot create a work folder: %s", work, strerror(errno)); goto out; }
    for (int f = 0; f < folds; f++) {
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%d", work, f);
        if (mkdir(sub, 0700) != 0) { st = fail(r, KGP_EIO, "%s: %s", sub, strerror(errno)); break; }
        st = csv ? run_csv(r, o, sub) : run_fold(r, o, &ds, f, sub);
        rm_tree(sub);
        if (st) break;
        r->folds_done = f + 1;
        summarise(r);
        if (fn && fn(ud, r)) break;
    }
    rm_tree(work);
out:
    eset_free(&ds);
    return st;
}
