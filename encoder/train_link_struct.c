/* Pair features of the link model's decoder (see train_link_internal.h):
 * structural ones (degrees, the reverse edge, two-hop paths, common
 * neighbours and Adamic-Adar, read from the edges the graph attention sees)
 * and mention ones (a concept's title in another's text, train_link.h). */
#include "encoder/train_link_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void kge_link_sx_free(kge_link_sx *sx)
{
    free(sx->out_ptr); free(sx->out); free(sx->in_ptr); free(sx->in); free(sx->nb_ptr); free(sx->nb);
    free(sx->desc); free(sx->anc); free(sx->dist_f); free(sx->dist_r); free(sx->queue); free(sx->seen);
    memset(sx, 0, sizeof *sx);
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* Rows of a CSR (ptr over n rows into v) sorted and made unique in place;
 * ptr is rewritten to the compacted layout. O(m log m). */
static void csr_sort_unique(size_t n, uint32_t *ptr, uint32_t *v)
{
    uint32_t w = 0, start = ptr[0];
    for (size_t i = 0; i < n; i++) {
        uint32_t a = start, b = ptr[i + 1];
        start = b;
        qsort(v + a, b - a, sizeof *v, cmp_u32);
        ptr[i] = w;
        for (uint32_t k = a; k < b; k++)
            if (k == a || v[k] != v[k - 1]) v[w++] = v[k];
    }
    ptr[n] = w;
}

/* CSR of rows r[k] → c[k] over the kept, non-loop edges. */
static int csr_build(size_t n, size_t E, const uint32_t *r, const uint32_t *c, const uint8_t *keep, uint32_t **ptr,
                     uint32_t **v)
{
    *ptr = calloc(n + 1, sizeof **ptr);
    *v = malloc((E + 1) * sizeof **v);
    uint32_t *cur = malloc((n + 1) * sizeof *cur);
    if (!*ptr || !*v || !cur) { free(cur); return -1; }
    for (size_t k = 0; k < E; k++)
        if ((!keep || keep[k]) && r[k] != c[k]) (*ptr)[r[k] + 1]++;
    for (size_t i = 0; i < n; i++) (*ptr)[i + 1] += (*ptr)[i];
    memcpy(cur, *ptr, (n + 1) * sizeof *cur);
    for (size_t k = 0; k < E; k++)
        if ((!keep || keep[k]) && r[k] != c[k]) (*v)[cur[r[k]]++] = c[k];
    free(cur);
    csr_sort_unique(n, *ptr, *v);
    return 0;
}

int kge_link_sx_build(kge_link_sx *sx, size_t n, size_t E, const uint32_t *src, const uint32_t *dst,
                      const uint8_t *keep, kge_err *err)
{
    kge_link_sx_free(sx);
    sx->n = n;
    if (csr_build(n, E, src, dst, keep, &sx->out_ptr, &sx->out) ||
        csr_build(n, E, dst, src, keep, &sx->in_ptr, &sx->in))
        goto oom;
    /* undirected neighbours: the union of each node's two sorted lists */
    sx->nb_ptr = malloc((n + 1) * sizeof *sx->nb_ptr);
    sx->nb = malloc((sx->out_ptr[n] + sx->in_ptr[n] + 1) * sizeof *sx->nb);
    if (!sx->nb_ptr || !sx->nb) goto oom;
    uint32_t w = 0;
    for (size_t i = 0; i < n; i++) {
        sx->nb_ptr[i] = w;
        uint32_t p = sx->out_ptr[i], pe = sx->out_ptr[i + 1], q = sx->in_ptr[i], qe = sx->in_ptr[i + 1];
        while (p < pe || q < qe) {
            uint32_t x;
            if (q >= qe || (p < pe && sx->out[p] < sx->in[q])) x = sx->out[p++];
            else if (p >= pe || sx->in[q] < sx->out[p]) x = sx->in[q++];
            else { x = sx->out[p++]; q++; }
            sx->nb[w++] = x;
        }
    }
    sx->nb_ptr[n] = w;
    sx->desc = malloc((n + 1) * sizeof *sx->desc);
    sx->anc = malloc((n + 1) * sizeof *sx->anc);
    sx->dist_f = malloc((n + 1) * sizeof *sx->dist_f);
    sx->dist_r = malloc((n + 1) * sizeof *sx->dist_r);
    sx->queue = malloc((n + 1) * sizeof *sx->queue);
    sx->seen = malloc(n + 1);
    if (!sx->desc || !sx->anc || !sx->dist_f || !sx->dist_r || !sx->queue || !sx->seen) goto oom;
    for (size_t i = 0; i < n; i++) sx->desc[i] = sx->anc[i] = -1;
    sx->src_f = sx->src_r = UINT32_MAX;
    return KGE_OK;
oom:
    kge_link_sx_free(sx);
    return kge_fail(err, KGE_ENOMEM, "out of memory for the structural features");
}

static int has(const uint32_t *v, uint32_t lo, uint32_t hi, uint32_t x)
{
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v[mid] == x) return 1;
        if (v[mid] < x) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

void kge_link_sx_pair(const kge_link_sx *sx, uint32_t a, uint32_t b, float *phi)
{
    const uint32_t *op = sx->out_ptr, *ip = sx->in_ptr, *np = sx->nb_ptr;
    phi[0] = log1pf((float)(op[a + 1] - op[a]));   /* a is a prerequisite of so many */
    phi[1] = log1pf((float)(ip[a + 1] - ip[a]));   /* a has so many prerequisites */
    phi[2] = log1pf((float)(op[b + 1] - op[b]));
    phi[3] = log1pf((float)(ip[b + 1] - ip[b]));
    phi[4] = (float)has(sx->out, op[b], op[b + 1], a);   /* the reverse edge b → a */
    /* two-hop paths a → x → b: successors of a that are predecessors of b */
    uint32_t two = 0;
    for (uint32_t p = op[a], q = ip[b]; p < op[a + 1] && q < ip[b + 1];) {
        if (sx->out[p] < sx->in[q]) p++;
        else if (sx->out[p] > sx->in[q]) q++;
        else { two++; p++; q++; }
    }
    phi[5] = log1pf((float)two);
    /* common undirected neighbours and Adamic-Adar */
    uint32_t cn = 0;
    double aa = 0.0;
    for (uint32_t p = np[a], q = np[b]; p < np[a + 1] && q < np[b + 1];) {
        uint32_t x = sx->nb[p], y = sx->nb[q];
        if (x < y) p++;
        else if (x > y) q++;
        else {
            uint32_t deg = np[x + 1] - np[x];
            cn++;
            if (deg > 1) aa += 1.0 / log((double)deg);
            p++;
            q++;
        }
    }
    phi[6] = log1pf((float)cn);
    phi[7] = log1pf((float)aa);
}

/* Breadth-first search from s along the successors (rev 0) or the
 * predecessors (rev 1); dist (may be NULL) gets every concept's distance
 * (0xffff: not reached, 0 for s). Returns how many concepts it reached,
 * s not counted. O(n + E). */
static int32_t sx_bfs(kge_link_sx *sx, uint32_t s, int rev, uint16_t *dist)
{
    const uint32_t *ptr = rev ? sx->in_ptr : sx->out_ptr, *adj = rev ? sx->in : sx->out;
    memset(sx->seen, 0, sx->n);
    if (dist) {
        for (size_t i = 0; i < sx->n; i++) dist[i] = 0xffff;
        dist[s] = 0;
    }
    size_t qh = 0, qt = 0;
    sx->queue[qt++] = s;
    sx->seen[s] = 1;
    while (qh < qt) {
        uint32_t x = sx->queue[qh++];
        for (uint32_t k = ptr[x]; k < ptr[x + 1]; k++) {
            uint32_t y = adj[k];
            if (sx->seen[y]) continue;
            sx->seen[y] = 1;
            if (dist) dist[y] = (uint16_t)(dist[x] < 0xfffe ? dist[x] + 1 : 0xfffe);
            sx->queue[qt++] = y;
        }
    }
    return (int32_t)(qt - 1);
}

void kge_link_sx_trans(kge_link_sx *sx, uint32_t a, uint32_t b, float *phi)
{
    if (sx->src_f != a) { sx->desc[a] = sx_bfs(sx, a, 0, sx->dist_f); sx->src_f = a; }
    if (sx->src_r != a) { sx->anc[a] = sx_bfs(sx, a, 1, sx->dist_r); sx->src_r = a; }
    if (sx->desc[b] < 0) sx->desc[b] = sx_bfs(sx, b, 0, NULL);
    if (sx->anc[b] < 0) sx->anc[b] = sx_bfs(sx, b, 1, NULL);
    uint16_t ab = sx->dist_f[b], ba = sx->dist_r[b];
    phi[0] = log1pf((float)sx->desc[a]);   /* a already precedes so many */
    phi[1] = log1pf((float)sx->anc[a]);
    phi[2] = log1pf((float)sx->desc[b]);
    phi[3] = log1pf((float)sx->anc[b]);
    phi[4] = ab && ab != 0xffff ? 1.0f / (float)ab : 0.0f;   /* a reaches b (transitivity) */
    phi[5] = ba && ba != 0xffff ? 1.0f / (float)ba : 0.0f;   /* b reaches a: the wrong way */
}

/* ---- mention features ---------------------------------------------------------- */

void kge_link_text_free(kge_link_text *t)
{
    free(t->title_off); free(t->body_off); free(t->title_ids); free(t->body_ids); free(t->body_index);
    memset(t, 0, sizeof *t);
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

/* t->body_index from t's bodies (allocated here). -1: out of memory.
 * O(total · log body). */
static int body_index(kge_link_text *t)
{
    size_t total = t->body_off[t->n], longest = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->body_off[i + 1] - t->body_off[i] > longest) longest = t->body_off[i + 1] - t->body_off[i];
    t->body_index = malloc((total + 1) * sizeof *t->body_index);
    uint64_t *key = malloc((longest + 1) * sizeof *key);
    if (!t->body_index || !key) { free(key); return -1; }
    for (size_t i = 0; i < t->n; i++) {
        uint32_t o = t->body_off[i], m = t->body_off[i + 1] - o;
        for (uint32_t k = 0; k < m; k++) key[k] = (uint64_t)(uint32_t)t->body_ids[o + k] << 32 | k;
        qsort(key, m, sizeof *key, cmp_u64);
        for (uint32_t k = 0; k < m; k++) t->body_index[o + k] = (uint32_t)key[k];
    }
    free(key);
    return 0;
}

/* Appends text's ids (at most max, 0: all) to v[*len..], growing v. */
/* Appends text's ids (at most max; 0: all) to *v. [UNK] becomes unk_as, a
 * negative id of its own for titles and for bodies: an unknown piece says
 * nothing about which word it was, so it must never match (with the tiny
 * vocabulary every Chinese title would otherwise "occur" in every Chinese
 * body as a run of [UNK]s). */
static int push_ids(const kge_tokenizer *tk, const char *text, size_t max, int32_t unk_as, kge_ids *tmp, int32_t **v,
                    size_t *len, size_t *cap, kge_err *err)
{
    tmp->n = 0;
    if (text && *text) {
        int rc = kge_tokenize(tk, text, strlen(text), tmp, err);
        if (rc) return rc;
    }
    size_t m = max && tmp->n > max ? max : tmp->n;
    if (*len + m + 1 > *cap) {
        size_t c = 2 * (*len + m + 1);
        int32_t *nv = realloc(*v, c * sizeof *nv);
        if (!nv) return kge_fail(err, KGE_ENOMEM, "out of memory for the concept titles");
        *v = nv;
        *cap = c;
    }
    int32_t unk = tk->vocab ? kge_vocab_special(tk->vocab)->unk : -1;
    for (size_t k = 0; k < m; k++) (*v)[*len + k] = unk >= 0 && tmp->v[k] == unk ? unk_as : tmp->v[k];
    *len += m;
    return KGE_OK;
}

int kge_link_text_build(const kge_tokenizer *tk, const char *const *titles, const char *const *bodies, size_t n,
                        size_t max_body, kge_link_text *out, kge_err *err)
{
    kge_link_text_free(out);
    kge_link_text t = {.n = n};
    kge_ids tmp = {0};
    size_t tl = 0, tc = 0, bl = 0, bc = 0;
    int rc = KGE_OK;
    t.title_off = malloc((n + 1) * sizeof *t.title_off);
    t.body_off = malloc((n + 1) * sizeof *t.body_off);
    if (!t.title_off || !t.body_off) rc = kge_fail(err, KGE_ENOMEM, "out of memory for the concept titles");
    for (size_t i = 0; !rc && i < n; i++) {
        t.title_off[i] = (uint32_t)tl;
        t.body_off[i] = (uint32_t)bl;
        if ((rc = push_ids(tk, titles[i], 0, -2, &tmp, &t.title_ids, &tl, &tc, err)) ||
            (rc = push_ids(tk, bodies ? bodies[i] : NULL, max_body ? max_body : 256, -1, &tmp, &t.body_ids, &bl, &bc,
                           err)))
            kge_fail_ctx(err, "concept %zu", i);
    }
    if (!rc) {
        t.title_off[n] = (uint32_t)tl;
        t.body_off[n] = (uint32_t)bl;
        /* never NULL, so an empty set reads alike */
        if (!t.title_ids && !(t.title_ids = malloc(sizeof *t.title_ids))) rc = kge_fail(err, KGE_ENOMEM, "out of memory");
        if (!rc && !t.body_ids && !(t.body_ids = malloc(sizeof *t.body_ids))) rc = kge_fail(err, KGE_ENOMEM, "out of memory");
        if (!rc && body_index(&t)) rc = kge_fail(err, KGE_ENOMEM, "out of memory");
    }
    kge_ids_free(&tmp);
    if (rc) { kge_link_text_free(&t); return rc; }
    *out = t;
    return KGE_OK;
}

/* The longest run of x[0..nx) found contiguously in y[0..ny) (longest
 * common substring; titles longer than 64 tokens: their first 64). Runs are
 * extended from their first token only, found through idx (y's positions
 * sorted by (id, position)) when given, else by scanning y. O(nx · log ny
 * + matches · nx) with idx, O(nx · ny) without. */
static uint32_t longest_run(const int32_t *x, uint32_t nx, const int32_t *y, uint32_t ny, const uint32_t *idx)
{
    uint32_t best = 0;
    if (nx > 64) nx = 64;
    for (uint32_t i = 0; i < nx && nx - i > best; i++) {
        uint32_t lo = 0, hi = ny;
        if (idx) {   /* the first indexed position holding x[i] */
            while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if ((uint32_t)y[idx[mid]] < (uint32_t)x[i]) lo = mid + 1;
                else hi = mid;
            }
        }
        for (uint32_t q = lo; q < ny; q++) {
            uint32_t j = idx ? idx[q] : q;
            if (y[j] != x[i]) {
                if (idx) break;   /* past x[i]'s positions */
                continue;
            }
            if (i && j && x[i - 1] == y[j - 1]) continue;   /* not the start of a run */
            uint32_t k = 1;
            while (i + k < nx && j + k < ny && x[i + k] == y[j + k]) k++;
            if (k > best) best = k;
        }
    }
    return best;
}

void kge_link_text_pair(const kge_link_text *t, uint32_t a, uint32_t b, float *m)
{
    const int32_t *ta = t->title_ids + t->title_off[a], *tb = t->title_ids + t->title_off[b];
    const int32_t *ba = t->body_ids + t->body_off[a], *bb = t->body_ids + t->body_off[b];
    const uint32_t *ia = t->body_index ? t->body_index + t->body_off[a] : NULL;
    const uint32_t *ib = t->body_index ? t->body_index + t->body_off[b] : NULL;
    uint32_t nta = t->title_off[a + 1] - t->title_off[a], ntb = t->title_off[b + 1] - t->title_off[b];
    uint32_t nba = t->body_off[a + 1] - t->body_off[a], nbb = t->body_off[b + 1] - t->body_off[b];
    uint32_t la = nta > 64 ? 64 : nta, lb = ntb > 64 ? 64 : ntb;
    memset(m, 0, KGE_LINK_NMENTION * sizeof *m);
    if (la) {
        uint32_t r = longest_run(ta, la, bb, nbb, ib);
        m[0] = r == la;
        m[1] = (float)r / (float)la;
    }
    if (lb) {
        uint32_t r = longest_run(tb, lb, ba, nba, ia);
        m[2] = r == lb;
        m[3] = (float)r / (float)lb;
    }
}

int kge_link_text_copy(kge_link_text *dst, const kge_link_text *src, kge_err *err)
{
    if (src && src->n && dst->n == src->n) {
        /* the same texts as last time (each group of a leave-out pass):
         * kept with their index */
        size_t n = src->n;
        if (!memcmp(dst->title_off, src->title_off, (n + 1) * sizeof *dst->title_off) &&
            !memcmp(dst->body_off, src->body_off, (n + 1) * sizeof *dst->body_off) &&
            !memcmp(dst->title_ids, src->title_ids, src->title_off[n] * sizeof *dst->title_ids) &&
            !memcmp(dst->body_ids, src->body_ids, src->body_off[n] * sizeof *dst->body_ids))
            return KGE_OK;
    }
    kge_link_text_free(dst);
    if (!src || !src->n) return KGE_OK;
    size_t n = src->n, nt = src->title_off[n], nb = src->body_off[n];
    dst->title_off = malloc((n + 1) * sizeof *dst->title_off);
    dst->body_off = malloc((n + 1) * sizeof *dst->body_off);
    dst->title_ids = malloc((nt + 1) * sizeof *dst->title_ids);
    dst->body_ids = malloc((nb + 1) * sizeof *dst->body_ids);
    if (!dst->title_off || !dst->body_off || !dst->title_ids || !dst->body_ids) {
        kge_link_text_free(dst);
        return kge_fail(err, KGE_ENOMEM, "out of memory for the concept titles");
    }
    memcpy(dst->title_off, src->title_off, (n + 1) * sizeof *dst->title_off);
    memcpy(dst->body_off, src->body_off, (n + 1) * sizeof *dst->body_off);
    memcpy(dst->title_ids, src->title_ids, nt * sizeof *dst->title_ids);
    memcpy(dst->body_ids, src->body_ids, nb * sizeof *dst->body_ids);
    dst->n = n;
    if (body_index(dst)) {
        kge_link_text_free(dst);
        return kge_fail(err, KGE_ENOMEM, "out of memory for the concept titles");
    }
    return KGE_OK;
}
