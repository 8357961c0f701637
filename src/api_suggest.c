/* Scoring with a trained checkpoint (kgpath_train.h): suggestions, listed
 * pairs, suspicious edges, course alignment, and a designer's review of
 * suggestions (accepting, rejecting). Training itself is api_train.c; the
 * data both read is kgp__tdata (api_train_internal.h). */
#include "kgpath.h"
#include "kgpath_train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "api_train_internal.h"
#include "encoder/graph_csr.h"
#include "encoder/nearest.h"
#include "encoder/train_link.h"
#include "base/alloc.h"
#include "graph/snapshot.h"
#include "graph/store.h"
#include "graph/store_edges.h"
#include "graph/store_reject.h"

/* ---- scoring ------------------------------------------------------------------ */

/* The data scoring reads (every course) with the tokens of lm's encoder. */
static kgp_status scoring_data(kgp_snap *s, kge_link_model *lm, kgp__tdata *t)
{
    kge_bert *b = kge_link_bert(lm);
    int mt = kge_link_options(lm)->max_tokens > 2 ? kge_link_options(lm)->max_tokens : 32;
    return kgp__tdata_build(s, NULL, b, b->max_seq < mt ? b->max_seq : mt, 0, t);
}

/* The key of what scoring with lm reads and computes first (kgp__scoring_fit):
 * the fingerprint of the whole graph (scoring_data, the rejections),
 * whatever course a checkpoint was trained on, and the settings of lm's
 * stacked head that its regression depends on (a manifest edited since
 * training gets its regression fitted again). */
static kgp_status scoring_key(kgp_snap *s, kge_link_model *lm, char *key, size_t size)
{
    kgp__graph_rec rec;
    kgp_status st = kgp__graph_record(s, KGP_NONE, NULL, &rec);
    if (!st)
        snprintf(key, size, "%016llx;r%d,t%d,g%d;s%llx", (unsigned long long)rec.fingerprint,
                 kge_link_stack_regression(lm), kge_link_stack_titles(lm), kge_link_stack_graph_negatives(lm),
                 (unsigned long long)kge_link_options(lm)->seed);
    return st;
}

/* Loads the checkpoint and the data of the whole graph: scoring always
 * sees every course, so a pair scores alike whatever filter the caller
 * applies to its candidates. */
kgp_status kgp__load_for_snap(kgp_snap *s, const char *ckpt, kge_link_model **lm, kgp__tdata *t)
{
    kge_err e = {0};
    if (!ckpt || !*ckpt) return kgp__snap_error(s, KGP_EUSAGE, "no checkpoint folder (kgpath train --out DIR)");
    kgp_status st0 = kgp__checkpoint_usable(s, ckpt);   /* not one of another graph */
    if (st0) return st0;
    if (kge_link_load(ckpt, lm, &e)) return kgp__snap_error(s, (kgp_status)e.code, "%s", e.msg);
    kgp_status st = scoring_data(s, *lm, t);
    /* what train stored for scoring (KGE_LINK_FIT), used only on the data
     * it was computed from: on a changed graph, or from a checkpoint
     * written before it, scoring computes everything as it always did */
    int rc = st ? KGE_OK : kge_link_fit_load(*lm, ckpt, &t->fit, &e);
    if (rc && rc != KGE_ENOTFOUND)
        st = kgp__snap_error(s, (kgp_status)e.code, "%s (run `kgpath train --force --out %s` to write the checkpoint again)",
                             e.msg, ckpt);
    char key[sizeof t->fit.key];
    if (!st && !rc && (st = scoring_key(s, *lm, key, sizeof key)) == KGP_OK &&
        (strcmp(key, t->fit.key) || (t->fit.z0 && (t->fit.n != t->d.n || t->fit.C != (size_t)kge_link_dim(*lm)))))
        kge_link_fit_free(&t->fit);
    if (st) { kgp__tdata_free(t); kge_link_free(*lm); *lm = NULL; }
    return st;
}

/* The concepts' encodings z0 (n, C) of t: stored by train for this data,
 * or encoded (the same values). */
static int encode_texts(kge_link_model *lm, const kgp__tdata *t, float *z0, kge_err *e)
{
    if (!t->fit.z0) return kge_link_encode(lm, &t->d, z0, e);
    memcpy(z0, t->fit.z0, t->d.n * (size_t)kge_link_dim(lm) * sizeof *z0);
    return KGE_OK;
}

/* kge_link_embed of d (t's concepts, its edges or some of them), from the
 * stored encodings where t has them. */
static int embed(kge_link_model *lm, const kgp__tdata *t, const kge_link_data *d, float *z, kge_err *e)
{
    return t->fit.z0 ? kge_link_embed_from(lm, d, t->fit.z0, z, e) : kge_link_embed(lm, d, z, e);
}

static int by_score(const void *a, const void *b)
{
    const kgp_suggestion *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    if (x->concept != y->concept) return x->concept < y->concept ? -1 : 1;
    return x->prereq < y->prereq ? -1 : x->prereq > y->prereq;
}

static float cosine(const float *a, const float *b, size_t C)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < C; i++) { ab += (double)a[i] * b[i]; aa += (double)a[i] * a[i]; bb += (double)b[i] * b[i]; }
    return aa > 0 && bb > 0 ? (float)(ab / sqrt(aa * bb)) : 0.0f;
}

/* The stacked head's pair regression on the graph d (t's concepts), fitted
 * as train's folds fitted it: on d's edges against t's rejections (read
 * with kgp__tdata_rejected), or against them and the negatives d implies when
 * the checkpoint learnt from graph negatives. Returns kgp__structural_fit's
 * codes. O(E · (n + E)) at worst (the searches of each edge). */
static int stacked_fit(kge_link_model *lm, const kgp__tdata *t, const kge_link_data *d, kge_pair_fit *fit)
{
    uint32_t *gs = NULL, *gd = NULL;
    size_t gm = 0, r = t->d.nneg;
    int graph = kge_link_stack_graph_negatives(lm), rc = 0;
    if (graph && r) {   /* the rejections first, as train had them */
        gs = malloc((r + 1) * sizeof *gs);
        gd = malloc((r + 1) * sizeof *gd);
        if (!gs || !gd) rc = -2;
        else { memcpy(gs, t->neg_src, r * sizeof *gs); memcpy(gd, t->neg_dst, r * sizeof *gd); }
    }
    if (!rc && graph && kgp__graph_negatives_after(d->n, d->E, d->src, d->dst, kge_link_options(lm)->seed, &gs, &gd, r, &gm))
        rc = -2;
    if (!rc)
        rc = kgp__structural_fit(d->n, d->E, d->src, d->dst, graph ? gs : t->neg_src, graph ? gd : t->neg_dst,
                            graph ? r + gm : t->d.nneg, kge_link_stack_titles(lm) ? (const char *const *)t->title : NULL,
                            kge_link_stack_regression(lm), fit);
    free(gs); free(gd);
    return rc;
}

/* What scoring this very graph with lm computes first, for the checkpoint
 * to keep (kge_link_fit; scoring uses it while the graph keeps its key):
 * the concepts' encodings in head mode (the encoder is frozen, so they are
 * what scoring would encode: other modes encode at scoring, as before),
 * and the stacked head's pair regression (stacked_fit on the whole graph).
 * Errors, set on s: KGP_ENOMEM, the encoder's, the store's. */
kgp_status kgp__scoring_fit(kgp_snap *s, kge_link_model *lm, kge_link_fit *fit)
{
    kgp__tdata t;
    kge_err e = {0};
    memset(fit, 0, sizeof *fit);
    kgp_status st = scoring_data(s, lm, &t);
    if (st) return st;
    if (!(st = kgp__tdata_rejected(s, &t))) st = scoring_key(s, lm, fit->key, sizeof fit->key);
    if (!st && kge_link_options(lm)->mode == KGE_TRAIN_HEAD) {
        fit->n = t.d.n;
        fit->C = (size_t)kge_link_dim(lm);
        fit->z0 = malloc(fit->n * fit->C * sizeof *fit->z0 + 1);
        if (!fit->z0) st = kgp__snap_error(s, KGP_ENOMEM, "out of memory");
        else if (kge_link_encode(lm, &t.d, fit->z0, &e)) st = kgp__snap_error(s, (kgp_status)e.code, "%s", e.msg);
    }
    if (!st && kge_link_stack(lm) != 0) {
        int rc = stacked_fit(lm, &t, &t.d, &fit->reg);
        if (rc == -2) st = kgp__snap_error(s, KGP_ENOMEM, "out of memory");
        fit->has_reg = rc == 0;
    }
    kgp__tdata_free(&t);
    if (st) kge_link_fit_free(fit);
    return st;
}

/* The stacked head's probabilities po[k] of the pairs rp (n, 2) (rows) on
 * the graph d (zd: its embeddings when the caller has them from
 * kge_link_embed on d, else NULL to embed here): the decoder's logit s and
 * the structural regression's log-odds u (fitted on d's edges against t's
 * rejections, which the caller has read with kgp__tdata_rejected, as train's
 * folds fitted it), 1 / (1 + exp(a·s + c·u + b − ln(π / (1 − π)))).
 * O(n · (C + n_concepts + E) + model). */
static kgp_status score_stacked(kgp_snap *s, kge_link_model *lm, kgp__tdata *t, const kge_link_data *d, const float *zd,
                                const uint32_t *rp, size_t n, float *po)
{
    kgp_status st = KGP_OK;
    float *z = zd ? NULL : malloc(d->n * (size_t)kge_link_dim(lm) * sizeof *z + 1), a, b;
    double *u = malloc((n + 1) * sizeof *u), c = kge_link_stack(lm), pi = kge_link_prior(lm);
    kge_err e = {0};
    kge_link_calibration(lm, &a, &b);
    if ((!zd && !z) || !u) st = kgp__snap_error(s, KGP_ENOMEM, "out of memory");
    else if ((!zd && embed(lm, t, d, z, &e)) || kge_link_decode_logits(lm, zd ? zd : z, rp, n, po, &e))
        st = kgp__snap_error(s, (kgp_status)e.code, "%s", e.msg);
    else {
        /* u learns from what train's u learnt from (stacked_fit), unless
         * train stored that very fit: d is then t's whole graph, unchanged */
        const char *const *titles = kge_link_stack_titles(lm) ? (const char *const *)t->title : NULL;
        int version = kge_link_stack_regression(lm);
        kge_pair_fit fit;
        int stored = t->fit.has_reg && d->E == t->d.E && t->fit.reg.F == 8 + kgp__extra_feats(titles, version);
        int rc = stored ? 0 : stacked_fit(lm, t, d, &fit);
        if (!rc) rc = kgp__structural_apply(d->n, d->E, d->src, d->dst, rp, n, titles, version, stored ? &t->fit.reg : &fit, u);
        if (rc == -2) st = kgp__snap_error(s, KGP_ENOMEM, "out of memory");
        for (size_t k = 0; !st && k < n; k++)   /* no edge or no rejection left: the regression is flat */
            po[k] = (float)(1 / (1 + exp(a * po[k] + (rc ? 0 : c * u[k]) + b - log(pi / (1 - pi)))));
    }
    free(z); free(u);
    return st;
}

/* kgp_suggest scores every candidate pair up to SUGGEST_ALL_PAIRS of them
 * (a selection of 2,048 concepts); beyond, as b's possible prerequisites,
 * b's SUGGEST_ALL_PAIRS / n (at least SUGGEST_MIN_NEAR) nearest concepts,
 * its course mates (while all courses' pairs number SUGGEST_ALL_PAIRS at
 * most) and the SUGGEST_HUBS concepts with the most known dependents. */
enum { SUGGEST_ALL_PAIRS = 1 << 22, SUGGEST_MIN_NEAR = 64, SUGGEST_HUBS = 64 };

kgp_status kgp_suggest(kgp_snap *s, const char *ckpt, const char *course, float min_score, size_t top,
                       kgp_suggestion **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    const kgg_snap *g = kgp__snap_graph(s);
    uint32_t want;
    kge_link_model *lm = NULL;
    kgp__tdata t;
    /* the course selects the candidates only (both concepts in it) */
    kgp_status st = kgp__find_course(s, course, &want);
    if (st || (st = kgp__load_for_snap(s, ckpt, &lm, &t))) return st;
    size_t n = t.d.n, C = (size_t)kge_link_dim(lm), nc = 0, ne = t.d.E;
    for (size_t r = 0; g->rec_off && r < n; r++) {
        uint32_t i = t.snap_of[r];
        ne += g->rec_off[i + 1] - g->rec_off[i];
    }
    float *z = malloc(n * C * sizeof *z);
    uint32_t *cand = malloc(n * sizeof *cand), *cidx = malloc(n * sizeof *cidx);
    uint32_t *off = NULL, *to = NULL, *es = malloc((ne + 1) * sizeof *es), *ed = malloc((ne + 1) * sizeof *ed);
    uint32_t *pairs = NULL, *near = NULL, *queue = malloc(n * sizeof *queue);
    uint8_t *reach = NULL, *rej = NULL;
    float *p = NULL;
    kgp_suggestion *res = NULL;
    size_t nres = 0, cap = 0;
    kge_err e = {0};
    if (!z || !cand || !cidx || !es || !ed || !queue) {
        st = kgp__snap_error(s, KGP_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t r = 0; r < n; r++) {
        cidx[r] = KGP_NONE;
        if (want == KGP_NONE || g->course[t.snap_of[r]] == want) { cidx[r] = (uint32_t)nc; cand[nc++] = (uint32_t)r; }
    }
    if (embed(lm, &t, &t.d, z, &e)) { st = kgp__snap_error(s, (kgp_status)e.code, "%s", e.msg); goto out; }
    /* the order the graph already gives, as CSR over rows: requirement
     * edges, and recommended ones (authored or accepted suggestions) */
    size_t nk = t.d.E;
    memcpy(es, t.src, t.d.E * sizeof *es);
    memcpy(ed, t.dst, t.d.E * sizeof *ed);
    for (size_t r = 0; g->rec_off && r < n; r++) {
        uint32_t i = t.snap_of[r];
        for (uint32_t j = g->rec_off[i]; j < g->rec_off[i + 1]; j++)
            if (g->rec[j] < g->n && t.row_of[g->rec[j]] != KGP_NONE) { es[nk] = t.row_of[g->rec[j]]; ed[nk++] = (uint32_t)r; }
    }
    if (kge_csr_build(n, nk, es, ed, KGE_CSR_OUT, &off, &to)) { st = kgp__snap_error(s, KGP_ENOMEM, "out of memory"); goto out; }
    /* pairs the graph already orders (one comes before the other through
     * requirement and recommended edges, transitively, across courses too)
     * are not proposed: such an edge would be redundant or contradict the
     * graph. reach[c * n + y]: candidate c comes before row y. */
    reach = calloc(nc * n + 1, 1);
    rej = calloc(nc * n + 1, 1);
    if (!reach || !rej) { st = kgp__snap_error(s, KGP_ENOMEM, "out of memory"); goto out; }
    for (size_t c = 0; c < nc; c++) {
        uint8_t *rc = reach + c * n;
        uint32_t a = cand[c];
        size_t qh = 0, qt = 0;
        queue[qt++] = a;
        while (qh < qt) {
            uint32_t x = queue[qh++];
            for (uint32_t k = off[x]; k < off[x + 1]; k++)
                if (!rc[to[k]] && to[k] != a) { rc[to[k]] = 1; queue[qt++] = to[k]; }
        }
    }
    /* nor are the pairs designers rejected */
    if ((st = kgp__tdata_rejected(s, &t))) goto out;
    for (size_t q = 0; q < t.d.nneg; q++)
        if (cidx[t.neg_src[q]] != KGP_NONE) rej[(size_t)cidx[t.neg_src[q]] * n + t.neg_dst[q]] = 1;
    /* the candidates: every ordered pair not ordered either way, or on a
     * large selection each concept's nearest concepts by embedding as its
     * possible prerequisites (scoring all n² pairs took minutes at 10,000) */
    size_t K = 0, np = 0, pcap = 0, nco = g->ncourses;
    uint32_t *coff = NULL, *crow = NULL;    /* the candidates by course (CSR), for same-course pairs */
    uint32_t hub[SUGGEST_HUBS];
    size_t nhub = 0;
    if ((uint64_t)nc * nc > SUGGEST_ALL_PAIRS) {
        K = SUGGEST_ALL_PAIRS / nc < SUGGEST_MIN_NEAR ? SUGGEST_MIN_NEAR : SUGGEST_ALL_PAIRS / nc;
        if (K > nc - 1) K = nc - 1;
        near = malloc(nc * K * sizeof *near);
        coff = calloc(nco + 2, sizeof *coff);
        crow = malloc(nc * sizeof *crow);
        if (!near || !coff || !crow) { st = kgp__snap_error(s, KGP_ENOMEM, "out of memory"); goto pruned_out; }
        if (kge_nearest_rows(z, C, cand, nc, K, near, &e)) {
            st = kgp__snap_error(s, (kgp_status)e.code, "%s", e.msg);
            goto pruned_out;
        }
        /* every pair of one course too, while they number at most as many
         * again (a designer's suggestions are mostly within a course) */
        uint64_t same = 0;
        for (size_t i = 0; i < nc; i++) coff[g->course[t.snap_of[cand[i]]] + 2]++;
        for (size_t c = 0; c < nco; c++) same += (uint64_t)coff[c + 2] * coff[c + 2];
        for (size_t c = 0; c < nco; c++) coff[c + 2] += coff[c + 1];
        for (size_t i = 0; i < nc; i++) crow[coff[g->course[t.snap_of[cand[i]]] + 1]++] = cand[i];
        if (same > SUGGEST_ALL_PAIRS) { free(coff); coff = NULL; }
        /* and the concepts that already precede the most ("precedes
         * count", the strongest structural baseline) for everyone */
        nhub = nc < SUGGEST_HUBS ? nc : SUGGEST_HUBS;
        for (size_t i = 0; i < nc; i++) {
            uint32_t r = cand[i], d = off[r + 1] - off[r];
            size_t at = i < nhub ? i : nhub;
            while (at > 0 && off[hub[at - 1] + 1] - off[hub[at - 1]] < d) at--;
            if (at >= nhub) continue;
            for (size_t k = (i < nhub ? i : nhub - 1); k > at; k--) hub[k] = hub[k - 1];
            hub[at] = r;
        }
    }
    for (size_t i = 0; i < nc; i++) {       /* all pairs: (cand[i], cand[q]); else (near[i][q] or course mate, cand[i]) */
        uint32_t ci = near ? g->course[t.snap_of[cand[i]]] : 0;
        size_t nmate = coff ? coff[ci + 1] - coff[ci] : 0;
        for (size_t q = 0; q < (near ? K + nmate + nhub : nc); q++) {
            uint32_t a = !near ? cand[i] : q < K ? near[i * K + q] : q < K + nmate ? crow[coff[ci] + (q - K)]
                                                                               : hub[q - K - nmate];
            uint32_t b = near ? cand[i] : cand[q];
            if (a == UINT32_MAX) continue;
            size_t ca = cidx[a], cb = cidx[b];
            if (a == b || reach[ca * n + b] || reach[cb * n + a] || rej[ca * n + b]) continue;
            if (np == pcap) {
                pcap = pcap ? 2 * pcap : 4096;
                uint32_t *npairs = realloc(pairs, 2 * pcap * sizeof *npairs);
                if (!npairs) { st = kgp__snap_error(s, KGP_ENOMEM, "out of memory"); goto pruned_out; }
                pairs = npairs;
            }
            pairs[2 * np] = a;
            pairs[2 * np + 1] = b;
            np++;
        }
    }
    /* by prerequisite (the decoder reuses its searches from one concept
     * across consecutive pairs), as the full scan generates them */
    if (near && np) {                       /* sorted, and a course mate that is also near once */
        uint64_t *key = malloc(np * sizeof *key);
        if (!key) { st = kgp__snap_error(s, KGP_ENOMEM, "out of memory"); goto pruned_out; }
        for (size_t q = 0; q < np; q++) key[q] = (uint64_t)pairs[2 * q] << 32 | pairs[2 * q + 1];
        qsort(key, np, sizeof *key, kgp__cmp_edge);
        size_t w = 0;
        for (size_t q = 0; q < np; q++) {
            if (q && key[q] == key[q - 1]) continue;
            pairs[2 * w] = (uint32_t)(key[q] >> 32);
            pairs[2 * w + 1] = (uint32_t)key[q];
            w++;
        }
        np = w;
        free(key);
    }
pruned_out:
    free(coff);
    free(crow);
    if (st) goto out;
    /* scored as kgp_score_pairs scores them (the stacked head when the
     * checkpoint has one), so a pair's score is the same in both lists */
    p = malloc((np + 1) * sizeof *p);
    if (!p) { st = kgp__snap_error(s, KGP_ENOMEM, "out of memory"); goto out; }
    if (np && kge_link_stack(lm) != 0) st = score_stacked(s, lm, &t, &t.d, z, pairs, np, p);
    else if (np && kge_link_decode(lm, z, pairs, np, p, &e)) st = kgp__snap_error(s, (kgp_status)e.code, "%s", e.msg);
    for (size_t q = 0; q < np && !st; q++) {
        if (p[q] < min_score) continue;
        if (nres == cap) {
            cap = cap ? 2 * cap : 256;
            kgp_suggestion *nr = realloc(res, cap * sizeof *nr);
            if (!nr) { st = kgp__snap_error(s, KGP_ENOMEM, "out of memory"); break; }
            res = nr;
        }
        res[nres++] = (kgp_suggestion){pairs[2 * q], pairs[2 * q + 1], p[q], KGP_NONE, 0.0f, 0.0f};
    }
    if (st) goto out;
    if (nres) qsort(res, nres, sizeof *res, by_score);
    if (top && nres > top) nres = top;
    for (size_t k = 0; k < nres; k++) {
        /* nearest evidence: the current prerequisite of concept most like prereq */
        uint32_t a = res[k].prereq, b = res[k].concept;
        float best = -2.0f;
        for (size_t q = 0; q < t.d.E; q++)
            if (t.dst[q] == b) {
                float c = cosine(z + (size_t)a * C, z + (size_t)t.src[q] * C, C);
                if (c > best) { best = c; res[k].evidence = t.snap_of[t.src[q]]; res[k].evidence_sim = c; }
            }
        float m[KGE_LINK_NMENTION];
        kge_link_text_pair(&t.mt, a, b, m);
        res[k].mention = m[1];
        res[k].prereq = t.snap_of[a];
        res[k].concept = t.snap_of[b];
    }
    *out = res;
    *nout = nres;
    res = NULL;
out:
    free(res); free(z); free(cand); free(cidx); free(off); free(to); free(es); free(ed); free(pairs); free(p);
    free(reach); free(rej); free(queue); free(near);
    kgp__tdata_free(&t);
    kge_link_free(lm);
    return st;
}

kgp_status kgp_score_pairs(kgp_snap *s, const char *ckpt, const uint32_t *pairs, size_t n, float *out)
{
    return kgp_score_pairs_prior(s, ckpt, pairs, n, -1, out, NULL);
}

kgp_status kgp_score_pairs_prior(kgp_snap *s, const char *ckpt, const uint32_t *pairs, size_t n, double prior,
                                 float *out, double *prior_used)
{
    if (prior_used) *prior_used = -1;   /* until a calibration says otherwise */
    if (!(prior < 0) && !(prior > 0 && prior < 1) && prior != KGP_PRIOR_AUTO)
        return kgp__snap_error(s, KGP_EUSAGE, "prior %g: expected a share in (0, 1), KGP_PRIOR_AUTO, or negative "
                               "for the checkpoint's", prior);
    const kgg_snap *g = kgp__snap_graph(s);
    for (size_t k = 0; k < 2 * n; k++)
        if (pairs[k] >= g->n) return kgp__snap_error(s, KGP_EUSAGE, "pair %zu: concept index %u out of range", k / 2, pairs[k]);
    kge_link_model *lm = NULL;
    kgp__tdata t;
    kgp_status st = kgp__load_for_snap(s, ckpt, &lm, &t);
    if (st) return st;
    uint32_t *rp = malloc((2 * n + 1) * sizeof *rp);
    uint64_t *key = malloc((n + 1) * sizeof *key);
    float *po = malloc((n + 1) * sizeof *po);
    uint32_t *src = malloc((t.d.E + 1) * sizeof *src), *dst = malloc((t.d.E + 1) * sizeof *dst);
    kge_err e = {0};
    if (!rp || !key || !po || !src || !dst) { st = kgp__snap_error(s, KGP_ENOMEM, "out of memory"); goto out; }
    /* the pairs by their first concept (the decoder's searches from it are
     * reused), each keyed with its place in the caller's order */
    int packed = (uint64_t)t.d.n <= (1u << 20) && n <= (1u << 20);   /* else the caller's order */
    for (size_t k = 0; k < n; k++)
        key[k] = packed ? (uint64_t)t.row_of[pairs[2 * k]] << 40 | (uint64_t)t.row_of[pairs[2 * k + 1]] << 20 | k : k;
    if (packed) qsort(key, n, sizeof *key, kgp__cmp_edge);
    for (size_t k = 0; k < n; k++) {
        size_t i = packed ? (size_t)(key[k] & 0xfffff) : (size_t)key[k];
        rp[2 * k] = t.row_of[pairs[2 * i]];
        rp[2 * k + 1] = t.row_of[pairs[2 * i + 1]];
    }
    /* the scored pairs are not context for themselves: an edge leaves the
     * graph when it is one of them (binary search over the sorted pairs) */
    size_t E = 0;
    for (size_t q = 0; q < t.d.E; q++) {
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            uint32_t a = rp[2 * mid], b = rp[2 * mid + 1];
            if (a < t.src[q] || (a == t.src[q] && b < t.dst[q])) lo = mid + 1;
            else hi = mid;
        }
        int scored = lo < n && rp[2 * lo] == t.src[q] && rp[2 * lo + 1] == t.dst[q];
        if (!scored && !packed)   /* unsorted: look through them all */
            for (size_t k = 0; k < n && !scored; k++) scored = rp[2 * k] == t.src[q] && rp[2 * k + 1] == t.dst[q];
        if (!scored) { src[E] = t.src[q]; dst[E++] = t.dst[q]; }
    }
    kge_link_data d = t.d;
    d.E = E;
    d.src = src;
    d.dst = dst;
    if (kge_link_stack(lm) != 0) {
        if (!(st = kgp__tdata_rejected(s, &t))) st = score_stacked(s, lm, &t, &d, NULL, rp, n, po);
    }
    else {
        float *z = malloc(d.n * (size_t)kge_link_dim(lm) * sizeof *z + 1);
        if (!z) st = kgp__snap_error(s, KGP_ENOMEM, "out of memory");
        else if (embed(lm, &t, &d, z, &e) || kge_link_decode(lm, z, rp, n, po, &e))
            st = kgp__snap_error(s, (kgp_status)e.code, "%s", e.msg);
        free(z);
    }
    /* the checkpoint's probabilities hold for its prior; the caller's share
     * moves each log-odds by the difference */
    float ca, cb;
    if (!st && kge_link_calibration(lm, &ca, &cb)) {
        double from = kge_link_prior(lm), to = prior > 0 && prior < 1 ? prior : from;
        /* auto: the share the list's own scores hold (EM), on lists long
         * enough for it to mean something */
        if (prior == KGP_PRIOR_AUTO && n >= KGP_PRIOR_AUTO_MIN && kge_prior_em(po, n, from, &to, NULL)) to = from;
        for (size_t k = 0; k < n && to != from; k++) po[k] = (float)kge_prior_move(po[k], from, to);
        if (prior_used) *prior_used = to;
    }
    for (size_t k = 0; !st && k < n; k++) {
        out[packed ? (size_t)(key[k] & 0xfffff) : (size_t)key[k]] = po[k];
    }
out:
    free(rp); free(key); free(po); free(src); free(dst);
    kgp__tdata_free(&t);
    kge_link_free(lm);
    return st;
}

static int by_low_score(const void *a, const void *b)
{
    const kgp_suspect *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? -1 : 1;
    return x->concept < y->concept ? -1 : x->concept > y->concept ? 1 : (x->prereq > y->prereq) - (x->prereq < y->prereq);
}

kgp_status kgp_suspicious(kgp_snap *s, const char *ckpt, const char *course, size_t top, kgp_suspect **out,
                          size_t *nout)
{
    *out = NULL;
    *nout = 0;
    const kgg_snap *g = kgp__snap_graph(s);
    uint32_t want;
    kge_link_model *lm = NULL;
    kgp__tdata t;
    /* the course selects the edges reported only (both concepts in it) */
    kgp_status st = kgp__find_course(s, course, &want);
    if (st || (st = kgp__load_for_snap(s, ckpt, &lm, &t))) return st;
    size_t E = t.d.E, G = 16, C = (size_t)kge_link_dim(lm), nres = 0;
    kgp_suspect *res = calloc(E + 1, sizeof *res);
    uint32_t *src = malloc((E + 1) * sizeof *src), *dst = malloc((E + 1) * sizeof *dst), pairs[4 * 16];
    float *z = malloc((t.d.n * C + 1) * sizeof *z), *z0 = malloc((t.d.n * C + 1) * sizeof *z0), p[2 * 16];
    uint8_t *done = malloc(E + 1);
    uint32_t *used = malloc((t.d.n + 1) * sizeof *used);
    kge_err e = {0};
    if (!res || !src || !dst || !z || !z0 || !done || !used) { st = kgp__snap_error(s, KGP_ENOMEM, "out of memory"); goto out; }
    /* the texts are encoded once (the encoder does not see edges); only the
     * graph attention runs per group */
    if (E && encode_texts(lm, &t, z0, &e)) { st = kgp__snap_error(s, (kgp_status)e.code, "%s", e.msg); goto out; }
    /* groups of up to G edges with no concept in common leave the graph
     * together, then are scored both ways: an edge's degrees, two-hop
     * paths and common neighbours then lose only the edge itself */
    size_t nsel = 0;
    for (size_t q = 0; q < E; q++) {
        int sel = want == KGP_NONE || (g->course[t.snap_of[t.src[q]]] == want && g->course[t.snap_of[t.dst[q]]] == want);
        done[q] = !sel;   /* edges outside the course stay in the graph, unscored */
        nsel += sel;
    }
    for (size_t i = 0; i < t.d.n; i++) used[i] = 0;
    for (size_t left = nsel, stamp = 1; left; stamp++) {
        size_t gidx[16], m = 0, k = 0;
        for (size_t q = 0; q < E && m < G; q++) {
            if (done[q] || used[t.src[q]] == stamp || used[t.dst[q]] == stamp) continue;
            used[t.src[q]] = used[t.dst[q]] = (uint32_t)stamp;
            done[q] = 2;   /* in this group */
            gidx[m++] = q;
        }
        left -= m;
        for (size_t q = 0; q < E; q++)
            if (done[q] != 2) { src[k] = t.src[q]; dst[k++] = t.dst[q]; }
        kge_link_data d = t.d;
        d.E = k;
        d.src = src;
        d.dst = dst;
        for (size_t q = 0; q < m; q++) {
            size_t x = gidx[q];
            pairs[2 * q] = t.src[x];
            pairs[2 * q + 1] = t.dst[x];
            pairs[2 * (m + q)] = t.dst[x];
            pairs[2 * (m + q) + 1] = t.src[x];
            done[x] = 1;
        }
        if (kge_link_embed_from(lm, &d, z0, z, &e) || kge_link_decode(lm, z, pairs, 2 * m, p, &e)) {
            st = kgp__snap_error(s, (kgp_status)e.code, "%s", e.msg);
            goto out;
        }
        for (size_t q = 0; q < m; q++)
            res[nres++] = (kgp_suspect){t.snap_of[t.src[gidx[q]]], t.snap_of[t.dst[gidx[q]]], p[q], p[m + q]};
    }
    qsort(res, nres, sizeof *res, by_low_score);
    *out = res;
    *nout = top && nres > top ? top : nres;
    res = NULL;
out:
    free(res); free(src); free(dst); free(z); free(z0); free(done); free(used);
    kgp__tdata_free(&t);
    kge_link_free(lm);
    return st;
}

static int by_sim(const void *x, const void *y)
{
    const kgp_alignment *a = x, *b = y;
    if (a->similarity != b->similarity) return a->similarity > b->similarity ? -1 : 1;
    return a->a < b->a ? -1 : a->a > b->a;
}

kgp_status kgp_align(kgp_snap *s, const char *ckpt, const char *course_a, const char *course_b, float min_sim,
                     kgp_alignment **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    const kgg_snap *g = kgp__snap_graph(s);
    uint32_t ca, cb;
    kge_link_model *lm = NULL;
    kgp__tdata t;
    kgp_status st = kgp__find_course(s, course_a ? course_a : "", &ca);
    if (st || (st = kgp__find_course(s, course_b ? course_b : "", &cb)) || (st = kgp__load_for_snap(s, ckpt, &lm, &t)))
        return st;
    size_t n = t.d.n, C = (size_t)kge_link_dim(lm), na = 0, nb = 0;
    float *z = malloc(n * C * sizeof *z);
    uint32_t *A = malloc(n * sizeof *A), *B = malloc(n * sizeof *B), *bestb = malloc(n * sizeof *bestb),
             *besta = malloc(n * sizeof *besta);
    float *sim = NULL;
    kgp_alignment *res = NULL;
    kge_err e = {0};
    if (!z || !A || !B || !bestb || !besta) { st = kgp__snap_error(s, KGP_ENOMEM, "out of memory"); goto out; }
    if (embed(lm, &t, &t.d, z, &e)) { st = kgp__snap_error(s, (kgp_status)e.code, "%s", e.msg); goto out; }
    for (size_t r = 0; r < n; r++) {
        float nr = 0.0f;
        for (size_t c = 0; c < C; c++) nr += z[r * C + c] * z[r * C + c];
        nr = nr > 0.0f ? 1.0f / sqrtf(nr) : 0.0f;
        for (size_t c = 0; c < C; c++) z[r * C + c] *= nr;
        uint32_t course = g->course[t.snap_of[r]];
        if (course == ca) A[na++] = (uint32_t)r;
        if (course == cb) B[nb++] = (uint32_t)r;
    }
    sim = malloc((na * nb + 1) * sizeof *sim);
    res = malloc((na < nb ? na : nb) * sizeof *res + 1);
    if (!sim || !res) { st = kgp__snap_error(s, KGP_ENOMEM, "out of memory"); goto out; }
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++) {
            float d = 0.0f;
            for (size_t c = 0; c < C; c++) d += z[A[i] * C + c] * z[B[j] * C + c];
            sim[i * nb + j] = d;
        }
    for (size_t i = 0; i < na; i++) {
        bestb[i] = 0;
        for (size_t j = 1; j < nb; j++) if (sim[i * nb + j] > sim[i * nb + bestb[i]]) bestb[i] = (uint32_t)j;
    }
    for (size_t j = 0; j < nb; j++) {
        besta[j] = 0;
        for (size_t i = 1; i < na; i++) if (sim[i * nb + j] > sim[besta[j] * nb + j]) besta[j] = (uint32_t)i;
    }
    size_t k = 0;
    for (size_t i = 0; nb && i < na; i++) {
        size_t j = bestb[i];
        if (besta[j] == i && A[i] != B[j] && sim[i * nb + j] >= min_sim)
            res[k++] = (kgp_alignment){t.snap_of[A[i]], t.snap_of[B[j]], sim[i * nb + j]};
    }
    qsort(res, k, sizeof *res, by_sim);
    *out = res;
    *nout = k;
    res = NULL;
out:
    free(z); free(A); free(B); free(bestb); free(besta); free(sim); free(res);
    kgp__tdata_free(&t);
    kge_link_free(lm);
    return st;
}

/* ---- accepting suggestions ---------------------------------------------------- */

_Static_assert((int)KGP_ACCEPT_ADDED == (int)KGG_EDGE_ADDED && (int)KGP_ACCEPT_UNKNOWN == (int)KGG_EDGE_UNKNOWN &&
               (int)KGP_ACCEPT_SELF == (int)KGG_EDGE_SELF && (int)KGP_ACCEPT_EXISTS == (int)KGG_EDGE_EXISTS &&
               (int)KGP_ACCEPT_DUPLICATE == (int)KGG_EDGE_DUPLICATE && (int)KGP_ACCEPT_CYCLE == (int)KGG_EDGE_CYCLE &&
               (int)KGP_ACCEPT_ALREADY == (int)KGG_EDGE_ALREADY,
               "outcome codes of kgpath_train.h and graph/store_edges.h agree");

kgp_status kgp_accept_suggestions(kgp_db *db, const char *model, kgp_accepted *edges, size_t n, unsigned flags,
                                  size_t *nadded)
{
    if (nadded) *nadded = 0;
    if (n && !edges) return kgp__db_error(db, KGP_EUSAGE, "no edges");
    if (!model || !*model) return kgp__db_error(db, KGP_EUSAGE, "no model name for the reason");
    if (kgp__db_rdonly(db)) return kgp__db_error(db, KGP_EUSAGE, "the database is open read-only");
    kgg_edge_add *ea = calloc(n + 1, sizeof *ea);
    char **why = calloc(n + 1, sizeof *why);
    kgp_status st = KGP_OK;
    if (!ea || !why) { st = kgp__db_error(db, KGP_ENOMEM, "out of memory"); goto out; }
    for (size_t i = 0; i < n; i++) {
        const char *mark = flags & KGP_ACCEPT_TOP ? KGP_ACCEPT_TOP_MARK : "";
        int len = snprintf(NULL, 0, "suggested by model %s, score %.2f%s", model, (double)edges[i].score, mark);
        if (len < 0 || !(why[i] = malloc((size_t)len + 1))) { st = kgp__db_error(db, KGP_ENOMEM, "out of memory"); goto out; }
        snprintf(why[i], (size_t)len + 1, "suggested by model %s, score %.2f%s", model, (double)edges[i].score, mark);
        ea[i] = (kgg_edge_add){edges[i].prereq, edges[i].concept, why[i], 0};
    }
    kgg_err e = {{0}};
    size_t added = 0;
    unsigned f = (flags & KGP_ACCEPT_SKIP_BAD ? KGG_EDGES_SKIP_BAD : 0) | (flags & KGP_ACCEPT_DRY_RUN ? KGG_EDGES_DRY_RUN : 0);
    st = kgg_store_add_recommends(kgp__db_store(db), ea, n, f, &added, &e);
    for (size_t i = 0; i < n; i++) edges[i].outcome = ea[i].outcome;   /* KGG_EDGE_* and KGP_ACCEPT_* agree */
    if (st) st = kgp__db_error(db, st, "%s", e.msg);
    else if (nadded) *nadded = added;
out:
    for (size_t i = 0; why && i < n; i++) free(why[i]);
    free(why);
    free(ea);
    return st;
}

/* ---- rejected suggestions ----------------------------------------------------- */

_Static_assert((int)KGP_REJECT_DONE == (int)KGG_REJECT_DONE && (int)KGP_REJECT_UNKNOWN == (int)KGG_REJECT_UNKNOWN &&
               (int)KGP_REJECT_SELF == (int)KGG_REJECT_SELF && (int)KGP_REJECT_EDGE == (int)KGG_REJECT_EDGE &&
               (int)KGP_REJECT_DUPLICATE == (int)KGG_REJECT_DUPLICATE &&
               (int)KGP_REJECT_ALREADY == (int)KGG_REJECT_ALREADY &&
               (int)KGP_REJECT_TOO_LONG == (int)KGG_REJECT_TOO_LONG && (int)KGP_REJECT_ABSENT == (int)KGG_REJECT_ABSENT,
               "outcome codes of kgpath_train.h and graph/store_reject.h agree");

/* kgp_reject_suggestions and kgp_unreject_suggestions: the pairs go to the
 * graph layer as they are, the outcomes come back. */
static kgp_status reject_change(kgp_db *db, kgp_rejection *pairs, size_t n, unsigned flags, int remove, size_t *ndone)
{
    if (ndone) *ndone = 0;
    if (n && !pairs) return kgp__db_error(db, KGP_EUSAGE, "no pairs");
    if (kgp__db_rdonly(db)) return kgp__db_error(db, KGP_EUSAGE, "the database is open read-only");
    kgg_reject *r = calloc(n + 1, sizeof *r);
    if (!r) return kgp__db_error(db, KGP_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        r[i] = (kgg_reject){pairs[i].prereq, pairs[i].concept, pairs[i].model, (double)pairs[i].score, pairs[i].reason,
                            pairs[i].time, 0};
    kgg_err e = {{0}};
    unsigned f = flags & KGP_REJECT_DRY_RUN ? KGG_REJECT_DRY_RUN : 0;
    kgp_status st = remove ? kgg_reject_remove(kgp__db_store(db), r, n, f, ndone, &e)
                           : kgg_reject_add(kgp__db_store(db), r, n, f, ndone, &e);
    for (size_t i = 0; i < n; i++) pairs[i].outcome = r[i].outcome;   /* KGG_REJECT_* and KGP_REJECT_* agree */
    free(r);
    return st ? kgp__db_error(db, st, "%s", e.msg) : KGP_OK;
}

kgp_status kgp_reject_suggestions(kgp_db *db, kgp_rejection *pairs, size_t n, unsigned flags, size_t *nadded)
{
    return reject_change(db, pairs, n, flags, 0, nadded);
}

kgp_status kgp_unreject_suggestions(kgp_db *db, kgp_rejection *pairs, size_t n, unsigned flags, size_t *nremoved)
{
    return reject_change(db, pairs, n, flags, 1, nremoved);
}

/* The listing is gathered with its strings in a separate buffer (offsets
 * + 1, 0 for NULL), then packed into one block. */
typedef struct rej_list {
    const kgg_snap *g;
    const char *course;
    kgp_rejection *v;
    size_t (*off)[4];
    size_t n, cap;
    char *str;
    size_t len, scap;
} rej_list;

static int in_course(const char *key, const char *course)
{
    size_t l = strlen(course);
    return !strncmp(key, course, l) && key[l] == ':';
}

static int list_one(void *ud, const kgg_reject *r)
{
    rej_list *l = ud;
    if (l->course && !in_course(r->prereq, l->course) && !in_course(r->concept, l->course)) return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 32;
        kgp_rejection *nv = realloc(l->v, l->cap * sizeof *nv);
        if (nv) l->v = nv;
        size_t (*no)[4] = realloc(l->off, l->cap * sizeof *no);
        if (no) l->off = no;
        if (!nv || !no) return KGP_ENOMEM;
    }
    const char *str[4] = {r->prereq, r->concept, r->model, r->reason};
    for (int k = 0; k < 4; k++) {
        l->off[l->n][k] = 0;
        if (!str[k]) continue;
        size_t sl = strlen(str[k]) + 1;
        if (l->len + sl > l->scap) {
            size_t nc = l->scap ? 2 * l->scap : 4096;
            while (nc < l->len + sl) nc *= 2;
            char *ns = realloc(l->str, nc);
            if (!ns) return KGP_ENOMEM;
            l->str = ns;
            l->scap = nc;
        }
        memcpy(l->str + l->len, str[k], sl);
        l->off[l->n][k] = l->len + 1;
        l->len += sl;
    }
    uint32_t p = kgg_snap_find_key(l->g, r->prereq), c = kgg_snap_find_key(l->g, r->concept);
    int outcome = p == KGG_NONE || c == KGG_NONE ? KGP_REJECT_UNKNOWN : kgp__is_edge(l->g, p, c) ? KGP_REJECT_EDGE
                                                                                           : KGP_REJECT_DONE;
    l->v[l->n++] = (kgp_rejection){NULL, NULL, NULL, (float)r->score, NULL, r->time, outcome};
    return 0;
}

kgp_status kgp_rejections(kgp_snap *s, const char *course, kgp_rejection **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    rej_list l = {.g = kgp__snap_graph(s), .course = course};
    kgg_err e = {{0}};
    kgp_status st = kgg_reject_each(kgp__db_store(kgp__snap_db(s)), list_one, &l, &e);
    if (st == KGP_ENOMEM && !e.msg[0]) snprintf(e.msg, sizeof e.msg, "out of memory");
    kgp_rejection *block = st ? NULL : malloc(l.n * sizeof *block + l.len + 1);
    if (!st && !block) st = KGP_ENOMEM, snprintf(e.msg, sizeof e.msg, "out of memory");
    if (!st) {
        char *strs = (char *)(block + l.n);
        if (l.len) memcpy(strs, l.str, l.len);
        for (size_t i = 0; i < l.n; i++) {
            const char **f[4] = {&l.v[i].prereq, &l.v[i].concept, &l.v[i].model, &l.v[i].reason};
            for (int k = 0; k < 4; k++) *f[k] = l.off[i][k] ? strs + l.off[i][k] - 1 : NULL;
            block[i] = l.v[i];
        }
        *out = block;
        *nout = l.n;
    }
    free(l.v);
    free(l.off);
    free(l.str);
    return st ? kgp__snap_error(s, st, "%s", e.msg) : KGP_OK;
}
