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

#include "encoder/bert.h"
#include "encoder/kernels.h"
#include "encoder/tokenizer.h"
#include "encoder/train_eval.h"
#include "encoder/train_link.h"
#include "encoder/train_rng.h"

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

/* ---- one fold ---------------------------------------------------------------- */

enum { M_KGPATH, M_COS, M_AA, M_CN, M_INDEG, M_LR };
static const char *const method_names[KGP_EVAL_METHODS] = {"kgpath", "text cosine", "Adamic-Adar",
                                                           "common neighbours", "in-degree of prereq",
                                                           "logistic regression"};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct shared {
    const kgp_eval_options *o;
    const char *model;
    size_t n;
    int T;
    int32_t *ids;
    uint8_t *mask;
    float *emb;      /* [n, C] normalised text embeddings of the starting encoder */
    size_t C;
    kge_link_text mention;   /* titles and bodies for the mention features */
} shared;

/* kgpath's scores for the pairs P (training pairs: positives without their
 * own edges in the graph, in groups of 16). The texts are encoded once
 * (the encoder does not see edges), and only the graph attention and the
 * decoder run per group: O(n) encoder rows, not O(n · groups). */
static kgp_status kgpath_scores(kgp_eval_report *r, kge_link_model *lm, const shared *sh, const uint32_t *src,
                                const uint32_t *dst, size_t E, const pair *P, size_t m, int training, double *out)
{
    size_t C = (size_t)kge_link_dim(lm);
    uint32_t *pp = malloc((2 * m + 1) * sizeof *pp), *s2 = malloc((E + 1) * sizeof *s2), *d2 = malloc((E + 1) * sizeof *d2);
    float *pr = malloc((m + 1) * sizeof *pr);
    float *z0 = malloc((sh->n * C + 1) * sizeof *z0), *z = malloc((sh->n * C + 1) * sizeof *z);
    uint8_t *done = malloc(m + 1);
    uint32_t *used = malloc((sh->n + 1) * sizeof *used);
    kgp_status st = KGP_OK;
    kge_err e = {0};
    kge_link_data d = {.n = sh->n, .T = sh->T, .ids = sh->ids, .mask = sh->mask, .E = E, .src = src, .dst = dst,
                       .mention = &sh->mention};
    if (!pp || !pr || !s2 || !d2 || !z0 || !z || !done || !used) { st = OOM(r); goto out; }
    for (size_t q = 0; q < m; q++) { pp[2 * q] = P[q].pre; pp[2 * q + 1] = P[q].con; }
    if (kge_link_encode(lm, &d, z0, &e) || kge_link_embed_from(lm, &d, z0, z, &e) ||
        kge_link_decode(lm, z, pp, m, pr, &e)) {
        st = fail(r, (kgp_status)e.code, "%s", e.msg);
        goto out;
    }
    if (training) {
        /* groups of up to 16 positives with no concept in common: a pair's
         * degrees, two-hop paths and common neighbours then lose only its
         * own edge, as a held-out edge is missing from the graph */
        uint32_t grp[2 * 16], stamp = 0;
        size_t gidx[16], left = 0;
        for (size_t q = 0; q < m; q++) left += P[q].label != 0;
        for (size_t q = 0; q < m; q++) done[q] = !P[q].label;
        for (size_t i = 0; i < sh->n; i++) used[i] = 0;
        while (left) {
            size_t ng = 0;
            stamp++;
            for (size_t q = 0; q < m && ng < 16; q++) {
                if (done[q] || used[pp[2 * q]] == stamp || used[pp[2 * q + 1]] == stamp) continue;
                used[pp[2 * q]] = used[pp[2 * q + 1]] = stamp;
                done[q] = 1;
                gidx[ng] = q;
                grp[2 * ng] = pp[2 * q];
                grp[2 * ng + 1] = pp[2 * q + 1];
                ng++;
            }
            left -= ng;
            size_t E2 = 0;
            for (size_t k = 0; k < E; k++) {
                int drop = 0;
                for (size_t g = 0; g < ng; g++) drop |= src[k] == grp[2 * g] && dst[k] == grp[2 * g + 1];
                if (!drop) { s2[E2] = src[k]; d2[E2++] = dst[k]; }
            }
            kge_link_data d1 = {.n = sh->n, .T = sh->T, .ids = sh->ids, .mask = sh->mask, .E = E2, .src = s2, .dst = d2,
                                .mention = &sh->mention};
            float gp[16];
            if (kge_link_embed_from(lm, &d1, z0, z, &e) || kge_link_decode(lm, z, grp, ng, gp, &e)) {
                st = fail(r, (kgp_status)e.code, "%s", e.msg);
                goto out;
            }
            for (size_t g = 0; g < ng; g++) pr[gidx[g]] = gp[g];
        }
    }
    for (size_t q = 0; q < m; q++) out[q] = pr[q];
out:
    free(pp); free(pr); free(s2); free(d2); free(z0); free(z); free(done); free(used);
    return st;
}

static kgp_status run_fold(kgp_eval_report *r, const shared *sh, const eset *ds, int f, double *train_secs)
{
    size_t n = sh->n, nA = ds->ntr[f], nB = ds->nte[f], E = 0;
    const kgp_eval_options *o = sh->o;
    kgp_status st = KGP_OK;
    uint32_t *src = malloc((nA + 1) * sizeof *src), *dst = malloc((nA + 1) * sizeof *dst);
    uint32_t *nsrc = malloc((nA + 1) * sizeof *nsrc), *ndst = malloc((nA + 1) * sizeof *ndst);
    size_t nneg = 0;
    uint8_t *adj = calloc(n * n + 1, 1);
    double *deg = calloc(n + 1, sizeof *deg), *indeg = calloc(n + 1, sizeof *indeg);
    double *s[2][KGP_EVAL_METHODS] = {{0}}, *X[2] = {0};
    int *y[2] = {0};
    kge_link_model *lm = NULL;
    if (!src || !dst || !nsrc || !ndst || !adj || !deg || !indeg) { st = OOM(r); goto out; }
    /* the training positives are the graph; the training negatives are
     * labelled negatives for kgpath's training (never graph edges) */
    for (size_t i = 0; i < nA; i++)
        if (ds->tr[f][i].label) { src[E] = ds->tr[f][i].pre; dst[E++] = ds->tr[f][i].con; }
        else { nsrc[nneg] = ds->tr[f][i].pre; ndst[nneg++] = ds->tr[f][i].con; }
    size_t npos[2] = {0, 0};
    for (int t = 0; t < 2; t++)
        for (size_t q = 0; q < (t ? nB : nA); q++) npos[t] += (t ? ds->te[f] : ds->tr[f])[q].label != 0;
    if (!npos[0] || npos[0] == nA || !npos[1] || npos[1] == nB)
        { st = fail(r, KGP_EINPUT, "fold %d: its training and test pairs need both classes", f); goto out; }
    /* graph features on the training edges (undirected neighbourhoods) */
    for (size_t k = 0; k < E; k++) {
        if (!adj[src[k] * n + dst[k]] && !adj[dst[k] * n + src[k]]) { deg[src[k]]++; deg[dst[k]]++; }
        adj[src[k] * n + dst[k]] = adj[dst[k] * n + src[k]] = 1;
        indeg[src[k]]++;   /* how often a concept is a prerequisite */
    }
    for (int t = 0; t < 2; t++) {
        size_t m = t ? nB : nA;
        const pair *P = t ? ds->te[f] : ds->tr[f];
        for (int k = 0; k < KGP_EVAL_METHODS; k++)
            if (!(s[t][k] = calloc(m + 1, sizeof(double)))) { st = OOM(r); goto out; }
        X[t] = calloc(4 * m + 1, sizeof(double));
        y[t] = calloc(m + 1, sizeof(int));
        if (!X[t] || !y[t]) { st = OOM(r); goto out; }
        for (size_t q = 0; q < m; q++) {
            uint32_t a = P[q].pre, b = P[q].con;
            double cs = 0, aa = 0, cn = 0;
            for (size_t c = 0; c < sh->C; c++) cs += (double)sh->emb[a * sh->C + c] * sh->emb[b * sh->C + c];
            for (size_t z = 0; z < n; z++)
                if (adj[a * n + z] && adj[b * n + z]) { cn++; aa += deg[z] > 1 ? 1 / log(deg[z]) : 0; }
            /* a training pair's own edge is not evidence for itself */
            double id = indeg[a] - (t == 0 && P[q].label ? 1 : 0);
            s[t][M_COS][q] = cs;
            s[t][M_AA][q] = aa;
            s[t][M_CN][q] = cn;
            s[t][M_INDEG][q] = id;
            X[t][q * 4 + 0] = cs; X[t][q * 4 + 1] = aa; X[t][q * 4 + 2] = cn; X[t][q * 4 + 3] = id;
            y[t][q] = P[q].label;
        }
    }
    if (kge_logreg_fit_predict(X[0], y[0], nA, X[1], nB, 4, s[0][M_LR], s[1][M_LR])) { st = OOM(r); goto out; }
    /* kgpath: a fresh copy of the encoder, trained on this fold's edges */
    kge_err e = {0};
    kge_bert *bert = NULL;
    if (kge_bert_load(sh->model, &bert, &e)) { st = fail(r, (kgp_status)e.code, "%s", e.msg); goto out; }
    const char *mode = o->mode ? o->mode : "head";
    kge_link_opts lo;
    kge_link_opts_default(&lo);
    lo.mode = !strcmp(mode, "full") ? KGE_TRAIN_FULL : !strcmp(mode, "lora") ? KGE_TRAIN_LORA : KGE_TRAIN_HEAD;
    lo.steps = o->steps > 0 ? o->steps : 150;
    lo.warmup = lo.steps / 10;
    lo.lr = lo.mode == KGE_TRAIN_LORA ? 1e-3f : 5e-5f;
    lo.head_lr = 2e-3f;
    lo.gat_heads = sh->C % 4 == 0 ? 4 : 1;
    lo.mlp_hidden = 64;
    lo.enc_batch = 64;
    lo.threads = o->threads;
    lo.max_tokens = sh->T;
    lo.seed = (o->seed ? o->seed : 1) + (uint64_t)f;
    if (kge_link_new(bert, &lo, &lm, &e)) { st = fail(r, (kgp_status)e.code, "%s", e.msg); goto out; }
    kge_link_data d = {.n = n, .T = sh->T, .ids = sh->ids, .mask = sh->mask, .E = E, .src = src, .dst = dst,
                       .nneg = nneg, .neg_src = nsrc, .neg_dst = ndst, .mention = &sh->mention};
    double t0 = now_s();
    if (kge_link_train(lm, &d, lo.steps, NULL, NULL, &e)) { st = fail(r, (kgp_status)e.code, "fold %d: %s", f, e.msg); goto out; }
    *train_secs += now_s() - t0;
    for (int t = 0; t < 2 && !st; t++)
        st = kgpath_scores(r, lm, sh, src, dst, E, t ? ds->te[f] : ds->tr[f], t ? nB : nA, t == 0, s[t][M_KGPATH]);
    for (int k = 0; !st && k < KGP_EVAL_METHODS; k++) {
        double th;
        kgp_eval_metrics *mm = &r->fold[f][k];
        if (kge_best_f1_threshold(s[0][k], y[0], nA, &th) || kge_roc_auc(s[1][k], y[1], nB, &mm->auc)) { st = OOM(r); break; }
        kge_prf_at(s[1][k], y[1], nB, th, &mm->precision, &mm->recall, &mm->f1);
    }
    r->fold_train[f] = nA;
    r->fold_test[f] = nB;
out:
    kge_link_free(lm);
    for (int t = 0; t < 2; t++) {
        for (int k = 0; k < KGP_EVAL_METHODS; k++) free(s[t][k]);
        free(X[t]);
        free(y[t]);
    }
    free(src); free(dst); free(nsrc); free(ndst); free(adj); free(deg); free(indeg);
    return st;
}

static void summarise(kgp_eval_report *r)
{
    int F = r->folds_done;
    for (int k = 0; k < KGP_EVAL_METHODS; k++) {
        double mean[4] = {0}, var[4] = {0};
        for (int f = 0; f < F; f++) {
            const kgp_eval_metrics *m = &r->fold[f][k];
            double v[4] = {m->precision, m->recall, m->f1, m->auc};
            for (int j = 0; j < 4; j++) mean[j] += v[j] / F;
        }
        for (int f = 0; f < F; f++) {
            const kgp_eval_metrics *m = &r->fold[f][k];
            double v[4] = {m->precision, m->recall, m->f1, m->auc};
            for (int j = 0; j < 4; j++) var[j] += F > 1 ? pow(v[j] - mean[j], 2) / (F - 1) : 0;
        }
        r->mean[k] = (kgp_eval_metrics){mean[0], mean[1], mean[2], mean[3]};
        r->sd[k] = (kgp_eval_metrics){sqrt(var[0]), sqrt(var[1]), sqrt(var[2]), sqrt(var[3])};
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

kgp_status kgp_eval_prereq(const kgp_eval_options *o, kgp_eval_fn fn, void *ud, kgp_eval_report *r)
{
    memset(r, 0, sizeof *r);
    for (int k = 0; k < KGP_EVAL_METHODS; k++) r->method[k] = method_names[k];
    eset ds = {0};
    shared sh = {.o = o};
    kge_bert *base = NULL;
    kge_bert_acts acts = {0};
    kge_ids tk = {0};
    kgp_status st = KGP_OK;
    int folds = o->folds ? o->folds : 5, T = o->max_tokens ? o->max_tokens : 16;
    const char *mode = o->mode ? o->mode : "head";
    sh.model = o->model && *o->model ? o->model : getenv("KGPATH_MODEL");
    if (folds < 2 || folds > KGP_EVAL_MAX_FOLDS) return fail(r, KGP_EUSAGE, "folds must be in [2, %d]", KGP_EVAL_MAX_FOLDS);
    if (T < 3 || T > 512) return fail(r, KGP_EUSAGE, "max_tokens must be in [3, 512]");
    if (o->steps < 0) return fail(r, KGP_EUSAGE, "steps must be positive");
    if (strcmp(mode, "head") && strcmp(mode, "lora") && strcmp(mode, "full"))
        return fail(r, KGP_EUSAGE, "unknown mode \"%s\" (head, lora or full)", mode);
    if (!sh.model || !*sh.model) return fail(r, KGP_EUSAGE, "no model: pass a BERT folder (--model DIR) or set KGPATH_MODEL");
    if ((st = resolve(r, o, r->dataset, sizeof r->dataset))) return st;
    if (!strcmp(r->kind, "lecturebank") && folds > 5) return fail(r, KGP_EUSAGE, "LectureBank 2.0 has 5 published folds");
    if (o->definitions && strcmp(r->kind, "lecturebank"))
        return fail(r, KGP_EUSAGE, "definitions go with LectureBank 2.0 only");
    uint64_t seed = o->seed ? o->seed : 1;
    if (!strcmp(r->kind, "refd")) st = load_refd(r, r->dataset, folds, seed, &ds);
    else if (!strcmp(r->kind, "lecturebank")) st = load_lb2(r, r->dataset, o->definitions, folds, &ds);
    else st = load_metacademy(r, r->dataset, folds, seed, &ds);
    if (st) goto out;
    r->folds = folds;
    r->concepts = sh.n = ds.n;
    r->pairs = ds.ntr[0] + ds.nte[0];
    for (size_t i = 0; i < ds.ntr[0]; i++) r->positives += ds.tr[0][i].label != 0;
    for (size_t i = 0; i < ds.nte[0]; i++) r->positives += ds.te[0][i].label != 0;
    kge_err e = {0};
    if (kge_bert_load(sh.model, &base, &e)) { st = fail(r, (kgp_status)e.code, "%s", e.msg); goto out; }
    if (!base->vocab) { st = fail(r, KGP_EUSAGE, "%s: the model has no vocabulary (vocab.txt)", sh.model); goto out; }
    if (T > base->max_seq) T = base->max_seq;
    sh.T = T;
    sh.C = (size_t)base->cfg.hidden;
    /* token ids of every concept text, padded */
    sh.ids = calloc(sh.n * (size_t)T + 1, sizeof *sh.ids);
    sh.mask = calloc(sh.n * (size_t)T + 1, 1);
    sh.emb = malloc((sh.n * sh.C + 1) * sizeof *sh.emb);
    if (!sh.ids || !sh.mask || !sh.emb) { st = OOM(r); goto out; }
    int32_t pad = kge_vocab_special(base->vocab)->pad;
    for (size_t i = 0; i < sh.n; i++) {
        if (kge_encode(&base->tok, ds.texts[i], NULL, (size_t)T, &tk, NULL, &e)) {
            st = fail(r, (kgp_status)e.code, "%s: %s", ds.names[i], e.msg);
            goto out;
        }
        for (size_t k = 0; k < (size_t)T; k++) {
            sh.ids[i * T + k] = k < tk.n ? tk.v[k] : (pad >= 0 ? pad : 0);
            sh.mask[i * T + k] = k < tk.n;
        }
    }
    /* titles and bodies (the text after its title and the ". " joining them) */
    {
        char **ti = calloc(sh.n + 1, sizeof *ti);
        const char **bo = calloc(sh.n + 1, sizeof *bo);
        int bad = !ti || !bo;
        for (size_t i = 0; !bad && i < sh.n; i++) {
            const char *b = ds.texts[i] + ds.tlen[i];
            while (*b == '.' || *b == ' ') b++;
            bo[i] = b;
            bad = !(ti[i] = strndup(ds.texts[i], ds.tlen[i]));
        }
        int rc = bad ? KGE_ENOMEM
                     : kge_link_text_build(&base->tok, (const char *const *)ti, bo, sh.n, 0, &sh.mention, &e);
        for (size_t i = 0; ti && i < sh.n; i++) free(ti[i]);
        free(ti);
        free(bo);
        if (rc) { st = rc == KGE_ENOMEM ? OOM(r) : fail(r, (kgp_status)e.code, "%s", e.msg); goto out; }
    }
    /* text baseline: mean-pooled, normalised embeddings of the starting encoder */
    if (kge_bert_forward(base, &acts, sh.ids, NULL, sh.mask, (int)sh.n, T, 0, &e)) {
        st = fail(r, (kgp_status)e.code, "%s", e.msg);
        goto out;
    }
    kge_mean_pool_forward(sh.emb, acts.hidden, sh.mask, sh.n, (size_t)T, sh.C);
    kge_l2_normalize(sh.emb, sh.n, sh.C);
    for (int f = 0; f < folds; f++) {
        if ((st = run_fold(r, &sh, &ds, f, &r->train_seconds))) goto out;
        r->folds_done = f + 1;
        summarise(r);
        if (fn && fn(ud, r)) break;
    }
out:
    kge_ids_free(&tk);
    kge_bert_acts_free(&acts);
    kge_bert_free(base);
    free(sh.ids);
    free(sh.mask);
    free(sh.emb);
    kge_link_text_free(&sh.mention);
    eset_free(&ds);
    return st;
}
