/* Public training API (kgpath_train.h) over encoder/train_link.h: the
 * database's concepts and requirement edges become arrays, the encoder
 * layer trains and scores on them. */
#include "kgpath.h"
#include "kgpath_train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_internal.h"
#include "api_train_internal.h"
#include "encoder/graph_negatives.h"
#include "encoder/train_eval.h"
#include "encoder/tokenizer.h"
#include "encoder/train_link.h"
#include "encoder/train_mlm.h"
#include "encoder/train_rng.h"
#include "encoder/train_vocab.h"
#include "base/alloc.h"
#include "graph/snapshot.h"
#include "graph/store_reject.h"

void kgp__tdata_free(kgp__tdata *t)
{
    free(t->row_of); free(t->snap_of); free(t->ids); free(t->mask); free(t->src); free(t->dst);
    free(t->vids); free(t->vmask); free(t->neg_src); free(t->neg_dst); free(t->title);
    kge_link_text_free(&t->mt);
    kge_link_fit_free(&t->fit);
    memset(t, 0, sizeof *t);
}

/* Title, summary and goals, one per line (as `embed` reads a concept). */
char *kgp__concept_text(const kgg_snap *g, uint32_t i, kg_arena *a)
{
    kgg_text t;
    if (kgg_snap_concept_text(g, i, a, &t) != 0) return NULL;
    const char *title = g->title[i] ? g->title[i] : "";
    size_t len = strlen(title) + 2 + (t.summary ? strlen(t.summary) : 0);
    for (size_t k = 0; k < t.ngoals; k++) len += strlen(t.goals[k]) + 1;
    char *s = malloc(len + 1), *p = s;
    if (!s) return NULL;
    p += sprintf(p, "%s", title);
    if (t.summary && *t.summary) p += sprintf(p, "\n%s", t.summary);
    for (size_t k = 0; k < t.ngoals; k++) p += sprintf(p, "\n%s", t.goals[k]);
    return s;
}

int kgp__cmp_edge(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return *x < *y ? -1 : *x > *y;
}

/* Concept i's body for the mention features: its text after the title
 * (summary and goals, one per line; "" when it has neither), malloc'ed.
 * NULL when the text cannot be read or memory runs out. */
static char *concept_body(const kgg_snap *g, uint32_t i, kg_arena *a)
{
    char *s = kgp__concept_text(g, i, a);
    if (!s) return NULL;
    const char *nl = strchr(s, '\n');
    memmove(s, nl ? nl + 1 : s + strlen(s), strlen(nl ? nl + 1 : "") + 1);
    return s;
}

/* The two views of concept i for augmentation: its title alone (view 0)
 * and its summary alone (view 1; the full text when it has none). */
static char *concept_view(const kgg_snap *g, uint32_t i, int view, kg_arena *a)
{
    if (view == 0) return strdup(g->title[i] && *g->title[i] ? g->title[i] : g->key[i]);
    kgg_text t;
    if (kgg_snap_concept_text(g, i, a, &t) != 0) return NULL;
    return t.summary && *t.summary ? strdup(t.summary) : kgp__concept_text(g, i, a);
}

/* The index of course id in the snapshot, or KGP_NONE. O(courses). */
static uint32_t course_index(const kgg_snap *g, const char *course)
{
    for (uint32_t c = 0; course && c < g->ncourses; c++)
        if (!strcmp(g->course_id[c], course)) return c;
    return KGP_NONE;
}

/* *want = course's index, or KGP_NONE when course is NULL (all courses);
 * KGP_ENOTFOUND, set on the snapshot, when there is no such course. */
kgp_status kgp__find_course(kgp_snap *s, const char *course, uint32_t *want)
{
    *want = course ? course_index(kgp__snap_graph(s), course) : KGP_NONE;
    if (course && *want == KGP_NONE) return kgp__snap_error(s, KGP_ENOTFOUND, "no course \"%s\" in the database", course);
    return KGP_OK;
}

/* Builds the arrays (with views: also the two views of every concept).
 * Errors are set on the snapshot handle. */
kgp_status kgp__tdata_build(kgp_snap *s, const char *course, const kge_bert *bert, int max_tokens, int views,
                            kgp__tdata *t)
{
    memset(t, 0, sizeof *t);
    const kgg_snap *g = kgp__snap_graph(s);
    if (!bert->vocab) return kgp__snap_error(s, KGP_EUSAGE, "the model has no vocabulary (vocab.txt)");
    uint32_t want;
    kgp_status st = kgp__find_course(s, course, &want);
    if (st) return st;
    size_t n = 0, T = 1, nmax = g->n ? g->n : 1;
    t->row_of = malloc(nmax * sizeof *t->row_of);
    t->snap_of = malloc(nmax * sizeof *t->snap_of);
    kge_ids *tok = calloc(nmax * 3, sizeof *tok);   /* text, then the two views */
    kg_arena *arena = kg_arena_new();
    if (!t->row_of || !t->snap_of || !tok || !arena) { st = kgp__snap_error(s, KGP_ENOMEM, "out of memory"); goto out; }
    for (uint32_t i = 0; i < g->n; i++) {
        t->row_of[i] = KGP_NONE;
        if (want != KGP_NONE && g->course[i] != want) continue;
        char *text = kgp__concept_text(g, i, arena);
        if (!text) { st = kgp__snap_error(s, KGP_EDB, "cannot read the text of %s", g->key[i]); goto out; }
        kge_err e = {0};
        int rc = kge_encode(&bert->tok, text, NULL, (size_t)max_tokens, &tok[n], NULL, &e);
        free(text);
        if (rc) { st = kgp__snap_error(s, (kgp_status)rc, "%s: %s", g->key[i], e.msg); goto out; }
        if (tok[n].n > T) T = tok[n].n;
        for (int v = 0; views && v < 2; v++) {
            kge_ids *tv = &tok[(size_t)(v + 1) * nmax + n];
            char *vt = concept_view(g, i, v, arena);
            if (!vt) { st = kgp__snap_error(s, KGP_EDB, "cannot read the text of %s", g->key[i]); goto out; }
            rc = kge_encode(&bert->tok, vt, NULL, (size_t)max_tokens, tv, NULL, &e);
            free(vt);
            if (rc) { st = kgp__snap_error(s, (kgp_status)rc, "%s: %s", g->key[i], e.msg); goto out; }
            if (tv->n > T) T = tv->n;
        }
        t->row_of[i] = (uint32_t)n;
        t->snap_of[n++] = i;
    }
    if (n < 2) { st = kgp__snap_error(s, KGP_EUSAGE, "need at least two concepts (found %zu)", n); goto out; }
    t->ids = calloc(n * T, sizeof *t->ids);
    t->mask = calloc(n * T, 1);
    /* requirement edges inside the selection, each once */
    size_t ne = 0;
    for (size_t r = 0; r < n; r++) {
        uint32_t i = t->snap_of[r];
        for (uint32_t gi = g->grp_off[i]; gi < g->grp_off[i + 1]; gi++) ne += g->mem_off[gi + 1] - g->mem_off[gi];
    }
    uint64_t *e64 = malloc((ne + 1) * sizeof *e64);
    if (!t->ids || !t->mask || !e64) { free(e64); st = kgp__snap_error(s, KGP_ENOMEM, "out of memory"); goto out; }
    int32_t pad = kge_vocab_special(bert->vocab)->pad;
    for (size_t r = 0; r < n; r++) {
        for (size_t k = 0; k < T; k++) {
            int real = k < tok[r].n;
            t->ids[r * T + k] = real ? tok[r].v[k] : (pad >= 0 ? pad : 0);
            t->mask[r * T + k] = (uint8_t)real;
        }
    }
    size_t k = 0;
    for (size_t r = 0; r < n; r++) {
        uint32_t i = t->snap_of[r];
        for (uint32_t gi = g->grp_off[i]; gi < g->grp_off[i + 1]; gi++)
            for (uint32_t m = g->mem_off[gi]; m < g->mem_off[gi + 1]; m++) {
                uint32_t j = g->mem[m];
                if (j < g->n && t->row_of[j] != KGP_NONE && t->row_of[j] != r)
                    e64[k++] = (uint64_t)t->row_of[j] << 32 | r;
            }
    }
    qsort(e64, k, sizeof *e64, kgp__cmp_edge);
    t->src = malloc((k + 1) * sizeof *t->src);
    t->dst = malloc((k + 1) * sizeof *t->dst);
    if (!t->src || !t->dst) { free(e64); st = kgp__snap_error(s, KGP_ENOMEM, "out of memory"); goto out; }
    size_t E = 0;
    for (size_t q = 0; q < k; q++) {
        if (q && e64[q] == e64[q - 1]) continue;
        t->src[E] = (uint32_t)(e64[q] >> 32);
        t->dst[E++] = (uint32_t)e64[q];
    }
    free(e64);
    t->d = (kge_link_data){.n = n, .T = (int)T, .ids = t->ids, .mask = t->mask, .E = E, .src = t->src, .dst = t->dst};
    /* titles and bodies for the mention features */
    {
        const char **ti = calloc(n, sizeof *ti);
        char **bo = calloc(n, sizeof *bo);
        int bad = !ti || !bo;
        for (size_t r = 0; !bad && r < n; r++) {
            uint32_t i = t->snap_of[r];
            ti[r] = g->title[i] && *g->title[i] ? g->title[i] : g->key[i];
            bad = !(bo[r] = concept_body(g, i, arena));
        }
        kge_err e = {0};
        int rc = bad ? KGE_ENOMEM : kge_link_text_build(&bert->tok, ti, (const char *const *)bo, n, 0, &t->mt, &e);
        for (size_t r = 0; bo && r < n; r++) free(bo[r]);
        t->title = ti;   /* the stacked head's title-word features read them */
        free(bo);
        if (rc) {
            st = rc == KGE_ENOMEM ? kgp__snap_error(s, KGP_ENOMEM, "out of memory")
                                  : kgp__snap_error(s, (kgp_status)e.code, "%s", e.msg);
            goto out;
        }
        t->d.mention = &t->mt;
    }
    if (views) {
        t->vids = calloc(2 * n * T, sizeof *t->vids);
        t->vmask = calloc(2 * n * T, 1);
        if (!t->vids || !t->vmask) { st = kgp__snap_error(s, KGP_ENOMEM, "out of memory"); goto out; }
        for (size_t v = 0; v < 2; v++)
            for (size_t r = 0; r < n; r++) {
                const kge_ids *tv = &tok[(v + 1) * nmax + r];
                for (size_t k = 0; k < T; k++) {
                    int real = k < tv->n;
                    t->vids[(v * n + r) * T + k] = real ? tv->v[k] : (pad >= 0 ? pad : 0);
                    t->vmask[(v * n + r) * T + k] = (uint8_t)real;
                }
            }
        t->d.nviews = 2;
        t->d.view_ids = t->vids;
        t->d.view_mask = t->vmask;
    }
out:
    if (tok)
        for (size_t r = 0; r < 3 * nmax; r++) kge_ids_free(&tok[r]);
    free(tok);
    kg_arena_free(arena);
    if (st) kgp__tdata_free(t);
    return st;
}

/* Is p → c an edge of the snapshot (p a resolved member of a requirement
 * group of c, or recommended before c)? O(c's groups and edges). */
int kgp__is_edge(const kgg_snap *g, uint32_t p, uint32_t c)
{
    for (uint32_t gi = g->grp_off[c]; gi < g->grp_off[c + 1]; gi++)
        for (uint32_t m = g->mem_off[gi]; m < g->mem_off[gi + 1]; m++)
            if (g->mem[m] == p) return 1;
    for (uint32_t r = g->rec_off ? g->rec_off[c] : 0; g->rec_off && r < g->rec_off[c + 1]; r++)
        if (g->rec[r] == p) return 1;
    return 0;
}

typedef struct rej_rows {
    const kgg_snap *g;
    kgp__tdata *t;
    size_t cap;
} rej_rows;

static int add_rej_row(void *ud, const kgg_reject *r)
{
    rej_rows *a = ud;
    kgp__tdata *t = a->t;
    uint32_t p = kgg_snap_find_key(a->g, r->prereq), c = kgg_snap_find_key(a->g, r->concept);
    if (p == KGG_NONE || c == KGG_NONE || t->row_of[p] == KGP_NONE || t->row_of[c] == KGP_NONE || kgp__is_edge(a->g, p, c))
        return 0;   /* not in this selection, or since become an edge: ignored */
    if (t->d.nneg == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 64;
        uint32_t *ns = realloc(t->neg_src, a->cap * sizeof *ns);
        if (ns) t->neg_src = ns;
        uint32_t *nd = realloc(t->neg_dst, a->cap * sizeof *nd);
        if (nd) t->neg_dst = nd;
        if (!ns || !nd) return KGP_ENOMEM;
    }
    t->neg_src[t->d.nneg] = t->row_of[p];
    t->neg_dst[t->d.nneg++] = t->row_of[c];
    return 0;
}

/* The designers' rejected suggestions among t's concepts that are not
 * edges, as labelled negatives of t->d (rows; in key order). None: t->d
 * keeps nneg 0 and NULL arrays. Errors are set on the snapshot handle. */
kgp_status kgp__tdata_rejected(kgp_snap *s, kgp__tdata *t)
{
    rej_rows a = {kgp__snap_graph(s), t, 0};
    kgg_err e = {{0}};
    t->d.nneg = 0;
    kgp_status st = kgg_reject_each(kgp__db_store(kgp__snap_db(s)), add_rej_row, &a, &e);
    if (st == KGP_ENOMEM && !e.msg[0]) snprintf(e.msg, sizeof e.msg, "out of memory");
    if (st) return kgp__snap_error(s, st, "%s", e.msg);
    t->d.neg_src = t->d.nneg ? t->neg_src : NULL;
    t->d.neg_dst = t->d.nneg ? t->neg_dst : NULL;
    return KGP_OK;
}

/* A small random BERT with a WordPiece vocabulary trained on the text of
 * the selected concepts (training from scratch). */
static kgp_status scratch_model(kgp_db *db, const char *course, int vocab_size, uint64_t seed, kge_bert **out)
{
    *out = NULL;
    kgp_snap *s = NULL;
    kgp_status st = kgp_snap_open(db, &s);
    if (st) return st;
    const kgg_snap *g = kgp__snap_graph(s);
    char **texts = calloc(g->n + 1, sizeof *texts);
    kg_arena *arena = kg_arena_new();
    size_t n = 0;
    char *vb = NULL;
    size_t vl = 0;
    kge_vocab *v = NULL;
    kge_err e = {0};
    if (!texts || !arena) { st = kgp__db_error(db, KGP_ENOMEM, "out of memory"); goto out; }
    uint32_t want = course ? course_index(g, course) : KGP_NONE;
    if (course && want == KGP_NONE) { st = kgp__db_error(db, KGP_ENOTFOUND, "no course \"%s\" in the database", course); goto out; }
    for (uint32_t i = 0; i < g->n; i++) {
        if (want != KGP_NONE && g->course[i] != want) continue;
        if (!(texts[n++] = kgp__concept_text(g, i, arena))) { st = kgp__db_error(db, KGP_EDB, "cannot read the text of %s", g->key[i]); goto out; }
    }
    if (kge_vocab_train((const char *const *)texts, n, (size_t)vocab_size, 1, &vb, &vl, &e) ||
        kge_vocab_from_buffer(vb, vl, &v, &e)) {
        st = kgp__db_error(db, (kgp_status)e.code, "vocabulary: %s", e.msg);
        goto out;
    }
    kge_bert_config cfg = {(int)kge_vocab_size(v), 128, 2, 4, 512, 128, 2, 1e-12f};
    if (kge_bert_create(&cfg, out, &e)) { st = kgp__db_error(db, (kgp_status)e.code, "%s", e.msg); goto out; }
    kge_bert_init_random(*out, seed, 0.02f);
    (*out)->vocab = v;
    (*out)->tok = kge_tokenizer_default(v, 1);
    v = NULL;
out:
    for (size_t i = 0; texts && i < n; i++) free(texts[i]);
    free(texts);
    free(vb);
    kge_vocab_free(v);
    kg_arena_free(arena);
    kgp_snap_close(s);
    return st;
}

/* ---- training ---------------------------------------------------------------- */

typedef struct run_ctx {
    kgp_train_fn fn;
    void *ud;
    struct timespec t0;
    long steps;
    double first, last, best;
    long done;
    /* the run's resumable state, written when the callback asks
     * (KGP_TRAIN_SAVE, KGP_TRAIN_INTERRUPT): the model, the folder, the
     * record (built at the first save: the default run never pays for it) */
    kgp_db *db;
    const kge_link_model *lm;
    const char *part;
    const char *record, *model, *mode;
    const kgp_train_options *opt;
    int vocab;
    char *precord;
    kgp_status st;          /* a failed save; training stopped */
    int interrupted, saved;
} run_ctx;

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static kgp_status from_kge(kgp_db *db, const kge_err *e);

/* What the steps of a run did, into its report. */
static void run_report(const run_ctx *c, kgp_train_report *rep)
{
    rep->steps_done = c->done;
    rep->first_loss = c->first;
    rep->last_loss = c->last;
    rep->best_val_loss = c->best;
    rep->seconds = since(&c->t0);
}

static int on_step(void *vc, const kge_link_metrics *m)
{
    run_ctx *c = vc;
    if (isnan(c->first)) c->first = m->loss;
    c->last = m->loss;
    c->done = (long)m->step;
    if (!isnan(m->val_loss) && (isnan(c->best) || m->val_loss < c->best)) c->best = m->val_loss;
    if (!c->fn) return 0;
    kgp_train_progress p = {(long)m->step, c->steps, m->loss, m->lr, m->grad_norm, m->val_loss, since(&c->t0)};
    int r = c->fn(c->ud, &p);
    int save = r & (KGP_TRAIN_SAVE | KGP_TRAIN_INTERRUPT);
    r &= ~(KGP_TRAIN_SAVE | KGP_TRAIN_INTERRUPT);
    /* the last step, or one where early stopping ends the run: the
     * finished checkpoint follows at once, and a partial saved here would
     * resume into one more step than the uninterrupted run made */
    if (!save || m->stopped_early || m->step >= c->steps) return r;
    if (!c->precord && !(c->precord = kgp__partial_record_json(c->record, c->opt, c->model, c->vocab, c->mode))) {
        c->st = kgp__db_error(c->db, KGP_ENOMEM, "out of memory");
        return 1;
    }
    kge_err e = {0};
    if (kge_link_save_with(c->lm, c->part, c->precord, &e)) {
        c->st = from_kge(c->db, &e);
        return 1;
    }
    c->saved = 1;
    if (save & KGP_TRAIN_INTERRUPT) { c->interrupted = 1; return 1; }
    return r;
}

static kgp_status from_kge(kgp_db *db, const kge_err *e)
{
    return kgp__db_error(db, (kgp_status)e->code, "%s", e->msg);
}

/* Masked-LM pre-training on the concepts' text; writes a BERT folder. */
static kgp_status train_mlm(kgp_db *db, kge_bert *bert, const kgp__tdata *t, const kgp_train_options *opt,
                            const char *out, kgp_train_fn progress, void *ud, kgp_train_report *rep)
{
    long steps = opt->steps > 0 ? opt->steps : 200;
    kge_lr_sched sch = {(float)(opt->lr > 0 ? opt->lr : 1e-4), 0.0f, steps / 10, steps, KGE_LR_LINEAR};
    float p = (float)(opt->dropout > 0 ? opt->dropout : opt->dropout < 0 ? 0.0 : 0.1);
    kge_dropout d = {p, p};
    kge_err e = {0};
    kge_bert_add_mlm_head(bert, opt->seed ? opt->seed : 1);
    kge_mlm_trainer tr;
    if (kge_mlm_trainer_init(&tr, bert, &sch, 0.01f, 1.0f, &d, 0.15f, opt->seed ? opt->seed : 1, &e))
        return kgp__db_error(db, (kgp_status)e.code, "%s", e.msg);
    kge_bert_acts_set_threads(&tr.acts, opt->threads);
    const kge_special *sp = kge_vocab_special(bert->vocab);
    if (sp->mask < 0) {
        kge_mlm_trainer_free(&tr);
        return kgp__db_error(db, KGP_EUSAGE, "the vocabulary has no [MASK] token: cannot train a masked LM");
    }
    int32_t specials[5] = {sp->pad, sp->unk, sp->cls, sp->sep, sp->mask};
    kge_mlm_vocab v = {bert->cfg.vocab_size, sp->mask, specials, 5};
    size_t n = t->d.n, T = (size_t)t->d.T, B = opt->batch > 0 ? (size_t)opt->batch : 32;
    if (B > n) B = n;
    int32_t *ids = malloc(B * T * sizeof *ids);
    uint8_t *mask = malloc(B * T);
    uint32_t *order = malloc(n * sizeof *order);
    kgp_status st = KGP_OK;
    if (!ids || !mask || !order) st = kgp__db_error(db, KGP_ENOMEM, "out of memory");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rep->first_loss = rep->last_loss = NAN;
    for (long step = 0; !st && step < steps; step++) {
        /* a random batch of concepts, token dropout as augmentation */
        for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
        for (size_t i = 0; i < B; i++) {
            size_t j = i + (size_t)kge_rng_below(&tr.rng, n - i);
            uint32_t x = order[i]; order[i] = order[j]; order[j] = x;
            memcpy(ids + i * T, t->d.ids + (size_t)order[i] * T, T * sizeof *ids);
            memcpy(mask + i * T, t->d.mask + (size_t)order[i] * T, T);
            kge_augment_tokens(&tr.rng, ids + i * T, mask + i * T, T, 0.05f, 0.0f, 0, sp->pad >= 0 ? sp->pad : 0);
        }
        float loss;
        if (kge_mlm_step(&tr, &v, ids, mask, (int)B, (int)T, &loss, &e)) {
            st = kgp__db_error(db, (kgp_status)e.code, "%s", e.msg);
            break;
        }
        if (isnan(rep->first_loss)) rep->first_loss = loss;
        rep->last_loss = loss;
        rep->steps_done = step + 1;
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        kgp_train_progress pr = {step + 1, steps, loss, kge_lr_at(&sch, step), NAN, NAN, secs};
        int r = progress ? progress(ud, &pr) : 0;
        rep->seconds = secs;
        /* pre-training has no resumable state: an interrupt writes nothing */
        if ((r & KGP_TRAIN_INTERRUPT) && step + 1 < steps) { rep->interrupted = 1; break; }
        if (r & ~(KGP_TRAIN_SAVE | KGP_TRAIN_INTERRUPT)) break;
    }
    rep->steps = steps;
    if (!st && !rep->interrupted && kge_bert_save(bert, out, &e)) st = kgp__db_error(db, (kgp_status)e.code, "%s", e.msg);
    free(ids); free(mask); free(order);
    kge_mlm_trainer_free(&tr);
    return st;
}

/* The options' fingerprint: what a run's result depends on besides the
 * graph (the model it starts from and every training setting; not the
 * thread count). */
static uint64_t options_fingerprint(const kgp_train_options *o, const char *model, int vocab, const char *mode)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "model=%s;vocab=%d;mode=%s;steps=%ld;lr=%g;hlr=%g;val=%g;pat=%d;tok=%d;batch=%d;"
             "enc=%d;drop=%g;edrop=%g;seed=%llu;views=%g;course=%s;cal=crossfit-5;stack=titles,neighbours;neg=graph-1031",
             model ? model : "(scratch)", vocab, mode, o->steps, o->lr, o->head_lr, o->val_frac,
             o->patience, o->max_tokens, o->batch, o->enc_batch, o->dropout, o->edge_dropout, o->seed, o->view_prob,
             o->course ? o->course : "");
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = buf; *p; p++) { h ^= (unsigned char)*p; h *= 0x100000001b3ull; }
    return h;
}

/* Held-out pairs for the calibration and model lm's logits of them, added
 * to c: the edges of d with held[e] (positives; the graph lm sees is the
 * other edges) against the rejections (hs, hd)[0 .. nh) held out of lm's
 * training, which are the kind of pair a designer actually asks about;
 * topped up, when they are fewer than three per edge, with non-edges drawn
 * as training draws them (the edge's reverse, each end joined to a random
 * concept). A rejection the model trained on would score too low and make
 * every score too sure. */
typedef struct calset {
    double *s, *u;
    int *y;
    size_t m, cap, npos;
    int stack;                   /* 1: u, the pair regression's log-odds, is collected too */
    const char *const *titles;   /* u's regression reads the title-word features (or NULL) */
    int regression;              /* u's version (kge_link_set_stack_regression: 1 or 2) */
    int graphneg;                /* 1: the "rejections" are graph_negatives' (no designer rejected anything) */
} calset;

/* The labelled negatives of a graph that has no rejections
 * (kge_graph_negatives), at most GRAPH_NEG_CAP: per edge its reverse,
 * three random non-edges and one pair of a concept that precedes some
 * concept with one that has prerequisites. Drawn alike by `train` (on the
 * graph it learns from) and by the stacked head when it scores (on the
 * graph it scores against). The mix was chosen on the benchmarks'
 * CSV folds (README, "Benchmarks"): near non-edges (sharing a neighbour)
 * lowered the AUC there, more role pairs lowered RefD MATH's, fewer left
 * the synthetic graph's calibration (test_train_default) off. */
enum { GRAPH_NEG_CAP = 8192 };

static int graph_negatives(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, uint64_t seed,
                           uint32_t **ns, uint32_t **nd, size_t *m)
{
    kge_negmix mix = {.reversed = 1.0f, .near = 0.0f, .random = 3.0f, .roles = 1.0f, .cap = GRAPH_NEG_CAP};
    return kge_graph_negatives(n, E, src, dst, &mix, seed, ns, nd, m);
}

/* Fewer rejections than half the edges are too few to fit the stacked
 * head on (a designer's first few "no"s would otherwise replace the
 * graph's negatives: one rejection on a RefD CS fold took its AUC from
 * 0.969 to 0.916), so the graph's own negatives join them. */
static int few_rejections(size_t R, size_t E) { return 2 * R < E; }

/* graph_negatives appended after the r pairs already in (*ns, *nd) (the
 * rejections; both arrays may be NULL when r is 0), reallocating them;
 * *m counts the appended. Returns 0 or -1 (out of memory). */
int kgp__graph_negatives_after(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, uint64_t seed,
                               uint32_t **ns, uint32_t **nd, size_t r, size_t *m)
{
    uint32_t *gs = NULL, *gd = NULL;
    *m = 0;
    if (graph_negatives(n, E, src, dst, seed, &gs, &gd, m)) return -1;
    uint32_t *s2 = realloc(*ns, (r + *m + 1) * sizeof *s2);
    if (s2) *ns = s2;
    uint32_t *d2 = s2 ? realloc(*nd, (r + *m + 1) * sizeof *d2) : NULL;
    if (d2) *nd = d2;
    if (!s2 || !d2) { free(gs); free(gd); *m = 0; return -1; }
    if (*m) {
        memcpy(*ns + r, gs, *m * sizeof *gs);
        memcpy(*nd + r, gd, *m * sizeof *gd);
    }
    free(gs); free(gd);
    return 0;
}

/* The features of u's regression beyond the eight structural ones, for
 * the pairs (m, 2) on the graph (n, E, src, dst), into x (m, k): the
 * title-word features when titles is given, then, from version 2 on, the
 * neighbourhood features. Returns 0 or -1 (out of memory). */
static int pair_extra_feats(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const char *const *titles,
                            int version, const uint32_t *pairs, size_t m, size_t k, double *x)
{
    size_t kt = titles ? KGE_TITLE_FEATS : 0, kn = version >= 2 ? KGE_NEIGHBOUR_FEATS : 0;
    double *tx = malloc((kt * m + 1) * sizeof *tx), *nx = malloc((kn * m + 1) * sizeof *nx);
    int rc = !tx || !nx || (kt && kge_title_pair_feats(titles, n, E, src, dst, pairs, m, tx)) ||
             (kn && kge_neighbour_pair_feats(n, E, src, dst, pairs, m, nx)) ? -1 : 0;
    for (size_t p = 0; !rc && p < m; p++) {
        memcpy(x + k * p, tx + kt * p, kt * sizeof *x);
        memcpy(x + k * p + kt, nx + kn * p, kn * sizeof *x);
    }
    free(tx); free(nx);
    return rc;
}

/* The pair regression's log-odds u[p] for pairs (m, 2) on the graph of E
 * edges (src, dst) over n concepts, fitted on its edges (each featurised
 * without itself) against the rejections (ns, nd)[0 .. nr): the eight
 * structural features of the eval-prereq baseline (kge_prereq_baselines),
 * followed, when titles (n) is given, by the title-word features
 * (kge_title_pair_feats: a's words inside b's title and the reverse, which
 * tell "Algorithm" → "Analysis of algorithms" from a pair of unrelated
 * titles), and in version 2 (KGE_STACK_REGRESSION) by the neighbourhood
 * features (kge_neighbour_pair_feats: a leads where b's known
 * prerequisites lead), fitted with the stronger L2 of KGE_STACK_LAMBDA
 * (version 1: KGE_LOGREG_LAMBDA, as checkpoints written before). The second
 * input of the stacked head, the same function in train's folds and in
 * kgp_score_pairs. Returns 0, -1 without a rejection or an edge (nothing
 * to fit), -2 out of memory. kgp__structural_fit is its first half (the fit,
 * which a checkpoint keeps for its graph), kgp__structural_apply the second. */
/* How many features u's regression reads beyond the eight structural ones. */
size_t kgp__extra_feats(const char *const *titles, int version)
{
    return (titles ? KGE_TITLE_FEATS : 0) + (version >= 2 ? KGE_NEIGHBOUR_FEATS : 0);
}

int kgp__structural_fit(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const uint32_t *ns,
                        const uint32_t *nd, size_t nr, const char *const *titles, int version, kge_pair_fit *fit)
{
    if (!E || !nr) return -1;
    size_t ntr = E + nr, k = kgp__extra_feats(titles, version);
    uint32_t *tp = malloc(2 * ntr * sizeof *tp);
    int *ty = malloc(ntr * sizeof *ty);
    double *xtr = malloc((k * ntr + 1) * sizeof *xtr);
    int rc = !tp || !ty || !xtr ? -2 : 0;
    for (size_t q = 0; !rc && q < ntr; q++) {
        tp[2 * q] = q < E ? src[q] : ns[q - E];
        tp[2 * q + 1] = q < E ? dst[q] : nd[q - E];
        ty[q] = q < E;
    }
    if (!rc && k && pair_extra_feats(n, E, src, dst, titles, version, tp, ntr, k, xtr)) rc = -2;
    double lambda = version >= 2 ? KGE_STACK_LAMBDA : KGE_LOGREG_LAMBDA;
    if (!rc && kge_prereq_regression_fit(n, E, src, dst, tp, ty, ntr, xtr, k, lambda, fit)) rc = -2;
    free(tp); free(ty); free(xtr);
    return rc;
}

/* The log-odds u[p] of the pairs (m, 2) under fit (kgp__structural_fit's, on
 * this graph, titles and version: fit->F = 8 + kgp__extra_feats). Returns 0,
 * -2 out of memory. */
int kgp__structural_apply(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const uint32_t *pairs,
                          size_t m, const char *const *titles, int version, const kge_pair_fit *fit, double *u)
{
    size_t k = kgp__extra_feats(titles, version);
    double *xte = malloc((k * m + 1) * sizeof *xte);
    int rc = !xte ? -2 : 0;
    if (!rc && k && pair_extra_feats(n, E, src, dst, titles, version, pairs, m, k, xte)) rc = -2;
    if (!rc && kge_prereq_regression_apply(n, E, src, dst, fit, pairs, m, xte, u)) rc = -2;
    for (size_t p = 0; !rc && p < m; p++) {
        double q = u[p] < 1e-6 ? 1e-6 : u[p] > 1 - 1e-6 ? 1 - 1e-6 : u[p];
        u[p] = log(q / (1 - q));
    }
    free(xte);
    return rc;
}

static int structural_logodds(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const uint32_t *ns,
                              const uint32_t *nd, size_t nr, const uint32_t *pairs, size_t m,
                              const char *const *titles, int version, double *u)
{
    kge_pair_fit fit;
    int rc = kgp__structural_fit(n, E, src, dst, ns, nd, nr, titles, version, &fit);
    return rc ? rc : kgp__structural_apply(n, E, src, dst, pairs, m, titles, version, &fit, u);
}

static kgp_status cal_collect(kgp_db *db, kge_link_model *lm, const kge_link_data *d, const uint8_t *held,
                              const uint32_t *hs, const uint32_t *hd, size_t nh, const uint32_t *ks, const uint32_t *kd,
                              size_t nk, kge_rng *r, calset *c)
{
    size_t E = d->E, n = d->n, nv = 0;
    for (size_t q = 0; q < E; q++) nv += held[q];
    size_t need = c->m + 4 * nv + nh + 1;
    if (need > c->cap) {
        double *ns = realloc(c->s, need * sizeof *ns);
        if (ns) c->s = ns;
        double *nu = realloc(c->u, need * sizeof *nu);
        if (nu) c->u = nu;
        if (!nu) return kgp__db_error(db, KGP_ENOMEM, "out of memory");
        int *ny = realloc(c->y, need * sizeof *ny);
        if (ny) c->y = ny;
        if (!ns || !ny) return kgp__db_error(db, KGP_ENOMEM, "out of memory");
        c->cap = need;
    }
    uint32_t *src = malloc((E + 1) * sizeof *src), *dst = malloc((E + 1) * sizeof *dst);
    uint32_t *pairs = malloc(2 * (4 * nv + nh + 1) * sizeof *pairs);
    float *p = malloc((4 * nv + nh + 1) * sizeof *p);
    uint64_t *known = malloc((E + 1) * sizeof *known);
    float *z = malloc(n * (size_t)kge_link_dim(lm) * sizeof *z + 1);
    kgp_status st = KGP_OK;
    kge_err e = {0};
    if (!src || !dst || !pairs || !p || !known || !z) { st = kgp__db_error(db, KGP_ENOMEM, "out of memory"); goto out; }
    size_t k = 0, m = 0;
    int *y = c->y + c->m;
    for (size_t q = 0; q < E; q++) {
        known[q] = (uint64_t)d->src[q] << 32 | d->dst[q];
        if (!held[q]) { src[k] = d->src[q]; dst[k++] = d->dst[q]; }
    }
    qsort(known, E, sizeof *known, kgp__cmp_edge);
    for (size_t q = 0; q < nh; q++) { pairs[2 * m] = hs[q]; pairs[2 * m + 1] = hd[q]; y[m++] = 0; }
    size_t synth = nh >= 3 * nv ? 0 : 3 * nv - nh;
    for (size_t q = 0; q < E; q++) {
        if (!held[q]) continue;
        uint32_t a = d->src[q], b = d->dst[q];
        pairs[2 * m] = a; pairs[2 * m + 1] = b; y[m++] = 1;
        for (int kind = 0; kind < 3 && synth; kind++) {
            for (int tries = 0; tries < 16; tries++) {
                uint32_t x = a, w = b;
                if (kind == 0 && tries == 0) { x = b; w = a; }
                else if (kind == 1) w = (uint32_t)kge_rng_below(r, n);
                else x = (uint32_t)kge_rng_below(r, n);
                uint64_t key = (uint64_t)x << 32 | w;
                if (x == w || bsearch(&key, known, E, sizeof *known, kgp__cmp_edge)) continue;
                pairs[2 * m] = x; pairs[2 * m + 1] = w; y[m++] = 0;
                synth--;
                break;
            }
        }
    }
    kge_link_data dv = *d;
    dv.E = k;
    dv.src = src;
    dv.dst = dst;
    kge_link_set_calibration(lm, 0, 0, 0);
    if (kge_link_embed(lm, &dv, z, &e) || kge_link_decode_logits(lm, z, pairs, m, p, &e)) { st = from_kge(db, &e); goto out; }
    for (size_t q = 0; q < m; q++) c->s[c->m + q] = p[q];
    /* the stacked head's second input, on the same fold's graph and the
     * rejections that fold's model learnt from */
    if (c->stack) {
        int rc = structural_logodds(n, k, src, dst, ks, kd, nk, pairs, m, c->titles, c->regression, c->u + c->m);
        if (rc == -2) { st = kgp__db_error(db, KGP_ENOMEM, "out of memory"); goto out; }
        if (rc) c->stack = 0;
    }
    c->m += m;
    c->npos += nv;
out:
    free(src); free(dst); free(pairs); free(p); free(known); free(z);
    return st;
}

/* Platt scaling of lm on c (classes weighted equally: the fit holds for as
 * many prerequisites as not), then the prior: the share of prerequisites
 * among the pairs a designer reviewed (E edges and R rejections) when the
 * rejections are a sample (at least one per edge), else 0.5; what a list of
 * pairs to score is likely to hold (kgp_score_pairs_prior moves it). */
static kgp_status cal_fit(kgp_db *db, kge_link_model *lm, const calset *c, size_t E, size_t R, kgp_train_report *rep)
{
    double A, B, C = 0;
    if (c->stack) {   /* stacked head: (s, u) by class-balanced logistic regression, as -(A·s + C·u + B) */
        double *X = malloc(2 * c->m * sizeof *X + 1), w[3];
        if (!X) return kgp__db_error(db, KGP_ENOMEM, "out of memory");
        for (size_t q = 0; q < c->m; q++) { X[2 * q] = c->s[q]; X[2 * q + 1] = c->u[q]; }
        int rc = kge_logreg_fit(X, c->y, c->m, 2, w);
        free(X);
        if (rc) return kgp__db_error(db, KGP_ENOMEM, "out of memory");
        A = -w[0]; C = -w[1]; B = -w[2];
    } else if (kge_platt_fit(c->s, c->y, c->m, 1, &A, &B))
        return kgp__db_error(db, KGP_ENOMEM, "out of memory");
    kge_link_set_calibration(lm, 1, (float)A, (float)B);
    kge_link_set_stack(lm, (float)C);
    kge_link_set_stack_titles(lm, c->stack && c->titles);
    kge_link_set_stack_regression(lm, c->stack ? c->regression : 1);
    kge_link_set_stack_graph_negatives(lm, c->stack && c->graphneg);
    rep->stack_structural = C;
    double prior = R >= E && R && !c->graphneg ? (double)E / (double)(E + R) : 0.5;
    if (prior < 0.01) prior = 0.01;
    kge_link_set_prior(lm, (float)prior);
    rep->prior = prior;
    rep->calibrated = 1;
    rep->platt_a = A;
    rep->platt_b = B;
    rep->cal_positives = c->npos;
    rep->cal_negatives = c->m - c->npos;
    return KGP_OK;
}

/* Calibration on the validation edges kge_link_train held out and the
 * rejections held out of training (t->neg_src[t->d.nneg .. + nheld)); none
 * when fewer than 2 edges are held out. */
static kgp_status calibrate(kgp_db *db, kge_link_model *lm, const kgp__tdata *t, size_t nheld, int graphneg,
                            kgp_train_report *rep)
{
    const kge_link_data *d = &t->d;
    size_t nv = 0;
    uint8_t *is_val = malloc(d->E + 1);
    if (!is_val || kge_link_val_split(lm, d->E, is_val)) { free(is_val); return kgp__db_error(db, KGP_ENOMEM, "out of memory"); }
    for (size_t q = 0; q < d->E; q++) nv += is_val[q];
    /* the stacked head where the pair regression has rejections to learn
     * from: fitted, as the model was, on the training edges against the
     * training rejections */
    calset c = {.stack = d->nneg > 0 && nheld > 0, .titles = (const char *const *)t->title,
                .regression = KGE_STACK_REGRESSION, .graphneg = graphneg};
    kge_rng r;
    kge_rng_seed(&r, kge_link_options(lm)->seed ^ 0x6b67706174680007ull);
    kgp_status st = nv < 2 ? KGP_OK
                  : cal_collect(db, lm, d, is_val, t->neg_src + d->nneg, t->neg_dst + d->nneg, nheld, t->neg_src,
                                t->neg_dst, d->nneg, &r, &c);
    if (!st && nv >= 2) st = cal_fit(db, lm, &c, d->E, d->nneg + nheld, rep);
    free(is_val); free(c.s); free(c.u); free(c.y);
    return st;
}

/* Cross-fitted calibration, for graphs whose validation split would hold
 * too few edges to fit on (head mode, where training is cheap): the edges
 * and the rejections in CAL_FOLDS folds (seeded); per fold a model made
 * like lm (a fresh encoder from new_bert, the same options) learns from
 * the other folds and scores its own; Platt scaling on all those
 * out-of-fold logits is then lm's (lm trained on everything). */
enum { CAL_FOLDS = 4, CAL_CROSSFIT_BELOW = 50 };

typedef kgp_status (*bert_fn)(void *ud, kge_bert **out);

static kgp_status crossfit(kgp_db *db, kge_link_model *lm, const kgp__tdata *t, bert_fn new_bert, void *bud, int graphneg,
                           kgp_train_report *rep)
{
    const kge_link_data *d = &t->d;
    size_t E = d->E, R = d->nneg;
    kge_link_opts o = *kge_link_options(lm);
    o.val_frac = 0;
    o.patience = 0;
    uint8_t *held = malloc(E + 1), *rfold = malloc(R + 1), *efold = malloc(E + 1);
    uint32_t *ns = malloc((R + 1) * sizeof *ns), *nd = malloc((R + 1) * sizeof *nd);
    uint32_t *hs = malloc((R + 1) * sizeof *hs), *hd = malloc((R + 1) * sizeof *hd);
    size_t *perm = malloc((E + R + 1) * sizeof *perm);
    calset c = {0};
    c.stack = R > 0;   /* the stacked head where the pair regression has rejections to learn from */
    c.titles = (const char *const *)t->title;
    c.regression = KGE_STACK_REGRESSION;
    c.graphneg = graphneg;
    kgp_status st = KGP_OK;
    kge_err e = {0};
    if (!held || !rfold || !efold || !ns || !nd || !hs || !hd || !perm) { st = kgp__db_error(db, KGP_ENOMEM, "out of memory"); goto out; }
    kge_rng r;
    kge_rng_seed(&r, o.seed ^ 0x6b67706174680017ull);
    for (int pass = 0; pass < 2; pass++) {   /* edges, then rejections: each shuffled, dealt round the folds */
        size_t cnt = pass ? R : E;
        uint8_t *fold = pass ? rfold : efold;
        for (size_t i = 0; i < cnt; i++) perm[i] = i;
        for (size_t i = cnt; i > 1; i--) {
            size_t j = kge_rng_below(&r, i), tmp = perm[i - 1];
            perm[i - 1] = perm[j];
            perm[j] = tmp;
        }
        for (size_t i = 0; i < cnt; i++) fold[perm[i]] = (uint8_t)(i % CAL_FOLDS);
    }
    for (int f = 0; !st && f < CAL_FOLDS; f++) {
        size_t nk = 0, nh = 0;
        for (size_t q = 0; q < E; q++) held[q] = efold[q] == f;
        for (size_t q = 0; q < R; q++) {
            if (rfold[q] == f) { hs[nh] = d->neg_src[q]; hd[nh++] = d->neg_dst[q]; }
            else { ns[nk] = d->neg_src[q]; nd[nk++] = d->neg_dst[q]; }
        }
        kge_link_data dk = *d;
        uint32_t *ks = malloc((E + 1) * sizeof *ks), *kd = malloc((E + 1) * sizeof *kd);
        if (!ks || !kd) { free(ks); free(kd); st = kgp__db_error(db, KGP_ENOMEM, "out of memory"); break; }
        size_t ke = 0;
        for (size_t q = 0; q < E; q++)
            if (!held[q]) { ks[ke] = d->src[q]; kd[ke++] = d->dst[q]; }
        dk.E = ke; dk.src = ks; dk.dst = kd;
        dk.nneg = nk; dk.neg_src = nk ? ns : NULL; dk.neg_dst = nk ? nd : NULL;
        kge_bert *b = NULL;
        kge_link_model *mk = NULL;
        if ((st = new_bert(bud, &b))) { free(ks); free(kd); break; }
        if (kge_link_new(b, &o, &mk, &e) || kge_link_train(mk, &dk, o.steps, NULL, NULL, &e)) st = from_kge(db, &e);
        free(ks); free(kd);
        if (!st) st = cal_collect(db, mk, d, held, hs, hd, nh, ns, nd, nk, &r, &c);
        if (mk) kge_link_free(mk);
    }
    if (!st) st = cal_fit(db, lm, &c, E, R, rep);
    rep->cal_folds = CAL_FOLDS;
out:
    free(held); free(rfold); free(efold); free(ns); free(nd); free(hs); free(hd); free(perm); free(c.s); free(c.u); free(c.y);
    return st;
}

/* The encoder a run starts from: the pretrained one in model_dir, or the
 * small one from scratch (deterministic for the seed). */
typedef struct bert_ctx { kgp_db *db; const char *model_dir, *course; int vocab; uint64_t seed; } bert_ctx;

static kgp_status fresh_bert(void *ud, kge_bert **out)
{
    bert_ctx *b = ud;
    kge_err e = {0};
    if (!b->model_dir) return scratch_model(b->db, b->course, b->vocab, b->seed, out);
    return kge_bert_load(b->model_dir, out, &e) ? from_kge(b->db, &e) : KGP_OK;
}


/* A run: fresh (ri NULL), or the continuation of the interrupted run in
 * ri->dir, whose options opt then is (model NULL meaning the small model
 * from scratch, whatever $KGPATH_MODEL says now). Both take the same path
 * (negatives, held-out pairs, cross-fitting, calibration, the options'
 * fingerprint), the model coming from the partial folder instead of being
 * made: that is why a resumed run ends as the uninterrupted one. */
static kgp_status train_run(kgp_db *db, const kgp_train_options *opt, const kgp__resume *ri, kgp_train_fn progress,
                            void *ud, kgp_train_report *report)
{
    kgp_train_report rep = {0};
    rep.first_loss = rep.last_loss = rep.best_val_loss = NAN;
    if (report) *report = rep;
    int mlm = opt->objective && strcmp(opt->objective, "link");
    if (mlm && strcmp(opt->objective, "mlm"))
        return kgp__db_error(db, KGP_EUSAGE, "unknown objective \"%s\" (link or mlm)", opt->objective);
    const char *model_dir = opt->model && *opt->model ? opt->model : ri ? NULL : getenv("KGPATH_MODEL");
    if (model_dir && !*model_dir) model_dir = NULL;
    /* a pretrained encoder is fine-tuned; the small one from scratch stays
     * as initialised (its random token embeddings already tell words apart)
     * and only the graph attention and decoder learn: seconds, not minutes */
    const char *mode = opt->mode ? opt->mode : model_dir ? "full" : "head";
    if (strcmp(mode, "full") && strcmp(mode, "lora") && strcmp(mode, "head"))
        return kgp__db_error(db, KGP_EUSAGE, "unknown mode \"%s\" (full, lora or head)", mode);
    if (!strcmp(mode, "head") && opt->view_prob > 0)
        return kgp__db_error(db, KGP_EUSAGE, "title/summary views need the encoder to train (mode full or lora)");
    char defout[4096];
    const char *out = opt->out;
    if (!out || !*out) {
        if (mlm) return kgp__db_error(db, KGP_EUSAGE, "masked-LM pre-training needs an output folder (--out DIR)");
        if (kgp_checkpoint_path(kgp_db_path(db), defout, sizeof defout))
            return kgp__db_error(db, KGP_EUSAGE, "no output folder for the checkpoint (--out DIR)");
        out = defout;
    }
    int vocab = opt->vocab_size > 0 ? opt->vocab_size : 2000;
    kge_err e = {0};
    kge_link_model *lm = NULL;
    kge_bert *bert = NULL;
    kgp_snap *snap = NULL;
    kgp__tdata t = {0};
    char *record = NULL;
    int cross = 0;
    kgp_status st = kgp_snap_open(db, &snap);
    if (st) return st;
    /* what training would read: refused before any model work when there
     * is nothing to learn from, reused when a checkpoint already learnt it */
    uint32_t want;
    kgp__graph_rec rec;
    if ((st = kgp__find_course(snap, opt->course, &want)) || (st = kgp__graph_record(snap, want, opt->course, &rec))) {
        st = kgp__db_error(db, st, "%s", kgp_snap_errmsg(snap));
        goto out;
    }
    snprintf(rep.fingerprint, sizeof rep.fingerprint, "%016llx", (unsigned long long)rec.fingerprint);
    rep.concepts = rec.concepts;
    rep.edges = rec.edges;
    if (rec.concepts < 2) {
        st = kgp__db_error(db, KGP_EUSAGE, "need at least two concepts to learn from (found %zu%s%s): import a course first",
                           rec.concepts, opt->course ? " in course " : "", opt->course ? opt->course : "");
        goto out;
    }
    if (!mlm && rec.edges == 0) {
        st = kgp__db_error(db, KGP_EUSAGE, "no prerequisite edges among the %zu concepts: nothing to learn from",
                           rec.concepts);
        goto out;
    }
    if (ri && strcmp(rep.fingerprint, ri->fingerprint)) {
        st = kgp__db_error(db, KGP_ECONFLICT, "%s: the graph changed since this run was interrupted (fingerprint %s, "
                           "now %s), so it cannot end as it would have: train again without --resume", ri->dir,
                           ri->fingerprint, rep.fingerprint);
        goto out;
    }
    uint64_t ofp = options_fingerprint(opt, model_dir, model_dir ? 0 : vocab, mode);
    if (!mlm && !ri && !opt->force && kgp__checkpoint_reusable(out, &rec, ofp)) {
        rep.reused = 1;
        if (report) *report = rep;
        goto out;
    }
    if (!mlm && !(record = kgp__graph_record_json(snap, want, opt->course, &rec, ofp))) {
        st = kgp__db_error(db, KGP_ENOMEM, "out of memory");
        goto out;
    }
    bert_ctx bc0 = {db, model_dir, opt->course, vocab, opt->seed ? opt->seed : 1};
    if (ri) {
        if (kge_link_load(ri->dir, &lm, &e)) { st = from_kge(db, &e); goto out; }
        bert = kge_link_bert(lm);
    } else if ((st = fresh_bert(&bc0, &bert))) goto out;
    int max_tokens = opt->max_tokens > 2 ? opt->max_tokens : lm && kge_link_options(lm)->max_tokens > 2
                                                                ? kge_link_options(lm)->max_tokens : 32;
    if (max_tokens > bert->max_seq) max_tokens = bert->max_seq;
    int views = opt->view_prob > 0 || (lm && kge_link_options(lm)->view_prob > 0);   /* a resumed run keeps its views */
    if ((st = kgp__tdata_build(snap, opt->course, bert, max_tokens, views, &t))) {
        st = kgp__db_error(db, st, "%s", kgp_snap_errmsg(snap));
        goto out;
    }
    if (mlm) {
        rep.concepts = t.d.n;
        rep.edges = t.d.E;
        st = train_mlm(db, bert, &t, opt, out, progress, ud, &rep);
        if (!st && report) *report = rep;
        goto out;
    }
    /* the designers' "no"s are labelled negatives; a graph without any
     * (a course imported from CSV), or with too few to fit on, has the ones
     * its edges imply too (few_rejections) */
    if ((st = kgp__tdata_rejected(snap, &t))) {
        st = kgp__db_error(db, st, "%s", kgp_snap_errmsg(snap));
        goto out;
    }
    int graphneg = 0;
    size_t rejected_too = 0;   /* rejections beside the graph's negatives */
    if (few_rejections(t.d.nneg, t.d.E)) {
        size_t m = 0, r = t.d.nneg;
        if (kgp__graph_negatives_after(t.d.n, t.d.E, t.d.src, t.d.dst, opt->seed ? opt->seed : 1, &t.neg_src, &t.neg_dst,
                                  r, &m)) {
            st = kgp__db_error(db, KGP_ENOMEM, "out of memory");
            goto out;
        }
        t.d.nneg = r + m;
        t.d.neg_src = r + m ? t.neg_src : NULL;
        t.d.neg_dst = r + m ? t.neg_dst : NULL;
        graphneg = m > 0;
        rejected_too = r;
    }
    {   /* the options: a resumed model has its own, but cross is derived from them */
        kge_link_opts o;
        kge_link_opts_default(&o);
        o.mode = !strcmp(mode, "lora") ? KGE_TRAIN_LORA : !strcmp(mode, "head") ? KGE_TRAIN_HEAD : KGE_TRAIN_FULL;
        o.steps = opt->steps > 0 ? opt->steps : 200;
        o.warmup = o.steps / 10;
        o.lr = (float)(opt->lr > 0 ? opt->lr : o.mode == KGE_TRAIN_LORA ? 1e-3 : 5e-5);
        o.head_lr = (float)(opt->head_lr > 0 ? opt->head_lr : 2e-3);
        o.val_frac = (float)(opt->val_frac > 0 ? opt->val_frac : opt->val_frac < 0 ? 0.0 : 0.1);
        o.patience = opt->patience;
        o.batch_pos = opt->batch > 0 ? opt->batch : 32;
        o.enc_batch = opt->enc_batch >= 0 ? (opt->enc_batch ? opt->enc_batch : 64) : 0;
        o.hidden_dropout = o.attn_dropout = (float)(opt->dropout > 0 ? opt->dropout : opt->dropout < 0 ? 0.0 : 0.1);
        o.edge_dropout = (float)(opt->edge_dropout > 0 ? opt->edge_dropout : opt->edge_dropout < 0 ? 0.0 : 0.1);
        o.seed = opt->seed ? opt->seed : 1;
        o.threads = opt->threads;
        o.gat_heads = bert->cfg.hidden % 4 == 0 ? 4 : 1;
        o.mlp_hidden = 64;
        o.max_tokens = max_tokens;
        o.view_prob = (float)opt->view_prob;
        /* the model samples its own negatives, as before (trained on the
         * graph's, its AUC fell on every benchmark) */
        if (graphneg) o.neg_explicit = 0.0f;
        /* too few edges for the validation split to calibrate on: cross-fit
         * (cheap in head mode), and the model learns from every edge */
        cross = o.mode == KGE_TRAIN_HEAD && o.val_frac > 0 && t.d.E >= 2 * CAL_FOLDS &&
                floor(o.val_frac * (double)t.d.E) < CAL_CROSSFIT_BELOW;
        if (cross) o.val_frac = 0;
        kge_bert *b = bert;
        bert = NULL;   /* the model owns it now, also on failure */
        if (!lm && kge_link_new(b, &o, &lm, &e)) { st = from_kge(db, &e); goto out; }
    }
    bert = NULL;   /* owned by lm */
    /* a share of the rejections, as of the edges, is held out for the
     * calibration (drawn from the seed; the training sees the rest) */
    size_t nheld = 0;
    if (!cross && kge_link_options(lm)->val_frac > 0 && t.d.nneg >= 10) {
        kge_rng hr;
        kge_rng_seed(&hr, kge_link_options(lm)->seed ^ 0x6b67706174680013ull);
        size_t nn = t.d.nneg;
        for (size_t i = nn; i > 1; i--) {
            size_t j = kge_rng_below(&hr, i);
            uint32_t a = t.neg_src[i - 1], b = t.neg_dst[i - 1];
            t.neg_src[i - 1] = t.neg_src[j]; t.neg_dst[i - 1] = t.neg_dst[j];
            t.neg_src[j] = a; t.neg_dst[j] = b;
        }
        nheld = (size_t)ceil((double)kge_link_options(lm)->val_frac * (double)nn);
        t.d.nneg = nn - nheld;
    }
    char part[4096];
    if (kgp_checkpoint_partial_path(out, part, sizeof part)) {
        st = kgp__db_error(db, KGP_EUSAGE, "%s: path too long", out);
        goto out;
    }
    /* a resumed run reports the best validation loss of the whole run */
    run_ctx c = {.fn = progress, .ud = ud, .steps = (long)kge_link_options(lm)->steps, .first = NAN, .last = NAN,
                 .best = kge_link_best_val(lm), .done = (long)kge_link_step(lm), .db = db, .lm = lm, .part = part, .record = record,
                 .model = model_dir, .mode = mode, .opt = opt, .vocab = vocab};
    rep.steps = c.steps;
    clock_gettime(CLOCK_MONOTONIC, &c.t0);
    int trc = kge_link_train(lm, &t.d, kge_link_options(lm)->steps, on_step, &c, &e);
    free(c.precord);
    if (trc) { st = from_kge(db, &e); goto out; }
    if ((st = c.st)) goto out;
    if (c.interrupted) {
        rep.interrupted = 1;
        run_report(&c, &rep);
        if (report) *report = rep;
        goto out;
    }
    bert_ctx bc = {db, model_dir, opt->course, vocab, opt->seed ? opt->seed : 1};
    if ((st = cross ? crossfit(db, lm, &t, fresh_bert, &bc, graphneg, &rep) : calibrate(db, lm, &t, nheld, graphneg, &rep)))
        goto out;
    kge_link_fit fit = {0};
    if ((st = kgp__scoring_fit(snap, lm, &fit))) { st = kgp__db_error(db, st, "%s", kgp_snap_errmsg(snap)); goto out; }
    int saved = kge_link_save_fit(lm, out, record, &fit, &e);
    kge_link_fit_free(&fit);
    if (saved) { st = from_kge(db, &e); goto out; }
    /* the finished checkpoint is in place: the run's resumable state (this
     * run's, or an earlier interrupted one's for this folder) is stale now */
    kge_link_remove(part, &e);   /* best effort: a folder of other files there is left alone */
    rep.concepts = t.d.n;
    rep.edges = t.d.E;
    rep.rejected_negatives = graphneg ? rejected_too : t.d.nneg + nheld;
    rep.graph_negatives = graphneg ? t.d.nneg + nheld - rejected_too : 0;
    rep.val_edges = (size_t)floor((double)kge_link_options(lm)->val_frac * (double)t.d.E);
    rep.train_edges = t.d.E - rep.val_edges;
    run_report(&c, &rep);
    if (report) *report = rep;
out:
    free(record);
    kgp__tdata_free(&t);
    if (lm) kge_link_free(lm);
    else kge_bert_free(bert);
    kgp_snap_close(snap);
    return st;
}

/* --resume: what the checkpoint's record says decides; the caller may
 * repeat the recorded course and step count, never change them. */
kgp_status kgp_train(kgp_db *db, const kgp_train_options *opt, kgp_train_fn progress, void *ud,
                     kgp_train_report *report)
{
    if (!opt) return kgp__db_error(db, KGP_EUSAGE, "no options");
    if (!opt->resume) return train_run(db, opt, NULL, progress, ud, report);
    kgp_train_report rep = {0};
    rep.first_loss = rep.last_loss = rep.best_val_loss = NAN;
    if (report) *report = rep;
    if (opt->objective && strcmp(opt->objective, "link"))
        return kgp__db_error(db, KGP_EUSAGE, "--resume continues link training only");
    kgp__resume ri;
    kgp_status st = kgp__resume_read(db, opt->resume, &ri);
    if (st) return st;
    if (ri.recorded && opt->course && (!ri.course || strcmp(ri.course, opt->course))) {
        st = kgp__db_error(db, KGP_EUSAGE, "%s was trained on %s%s%s; --resume continues it there: leave out --course",
                           opt->resume, ri.course ? "course " : "every course", ri.course ? ri.course : "",
                           ri.course ? "" : " of the database");
    } else if (!ri.interrupted) {
        /* a finished run: its schedule ended, nothing to continue */
        kge_link_model *lm = NULL;
        kge_err e = {0};
        if (kge_link_load(opt->resume, &lm, &e)) st = from_kge(db, &e);
        else if (opt->steps > 0 && opt->steps != (long)kge_link_options(lm)->steps)
            st = kgp__db_error(db, KGP_EUSAGE, "%s is a finished run of %ld steps: --steps cannot extend it (its "
                               "learning-rate schedule has ended); train a new run with --steps %ld", opt->resume,
                               (long)kge_link_options(lm)->steps, opt->steps);
        else {
            rep.finished = 1;
            rep.steps_done = (long)kge_link_step(lm);
            rep.steps = (long)kge_link_options(lm)->steps;
            if (report) *report = rep;
        }
        kge_link_free(lm);
    } else if (opt->steps > 0 && opt->steps != (ri.opt.steps > 0 ? ri.opt.steps : 200)) {
        st = kgp__db_error(db, KGP_EUSAGE, "%s: the interrupted run continues to its own %ld steps (not --steps %ld)",
                           opt->resume, ri.opt.steps > 0 ? ri.opt.steps : 200, opt->steps);
    } else {
        kgp_train_options o = ri.opt;
        o.out = opt->out;
        o.force = 1;
        st = train_run(db, &o, &ri, progress, ud, report);
    }
    kgp__resume_free(&ri);
    return st;
}
