#include "tests/snapfix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sf_grp { uint32_t owner, k, nmem, unres; uint32_t *mem; char *reason; } sf_grp;
typedef struct sf_recd { uint32_t owner, target; char *reason; char *unres; } sf_recd;

struct sf_builder {
    uint32_t n;
    char **key, **title;
    float *minutes;
    sf_grp *g; size_t ng, cg;
    sf_recd *r; size_t nr, cr;
};

static void *xcalloc(size_t n, size_t s) { void *p = calloc(n ? n : 1, s ? s : 1); if (!p) abort(); return p; }
static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

uint64_t sf_rand(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

sf_builder *sf_new(uint32_t n)
{
    sf_builder *b = xcalloc(1, sizeof *b);
    b->n = n;
    b->key = xcalloc(n, sizeof *b->key);
    b->title = xcalloc(n, sizeof *b->title);
    b->minutes = xcalloc(n, sizeof *b->minutes);
    for (uint32_t i = 0; i < n; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "t:c%u", i);
        b->key[i] = xstrdup(buf);
        snprintf(buf, sizeof buf, "Concept %u", i);
        b->title[i] = xstrdup(buf);
        b->minutes[i] = 10;
    }
    return b;
}

void sf_concept(sf_builder *b, uint32_t i, const char *key, const char *title, float minutes)
{
    if (key) { free(b->key[i]); b->key[i] = xstrdup(key); }
    if (title) { free(b->title[i]); b->title[i] = xstrdup(title); }
    b->minutes[i] = minutes;
}

void sf_minutes(sf_builder *b, uint32_t i, float minutes) { b->minutes[i] = minutes; }

void sf_group(sf_builder *b, uint32_t owner, uint32_t k, const uint32_t *members,
              uint32_t nmem, uint32_t unresolved, const char *reason)
{
    if (b->ng == b->cg) { b->cg = b->cg ? 2 * b->cg : 16; b->g = realloc(b->g, b->cg * sizeof *b->g); }
    sf_grp *g = &b->g[b->ng++];
    g->owner = owner; g->k = k; g->nmem = nmem; g->unres = unresolved;
    g->mem = xcalloc(nmem, sizeof *g->mem);
    if (nmem) memcpy(g->mem, members, nmem * sizeof *members);
    g->reason = xstrdup(reason);
}

void sf_req(sf_builder *b, uint32_t owner, uint32_t pre, const char *reason)
{
    sf_group(b, owner, 1, &pre, 1, 0, reason);
}

static sf_recd *rec_add(sf_builder *b)
{
    if (b->nr == b->cr) { b->cr = b->cr ? 2 * b->cr : 16; b->r = realloc(b->r, b->cr * sizeof *b->r); }
    sf_recd *r = &b->r[b->nr++];
    memset(r, 0, sizeof *r);
    return r;
}

void sf_rec(sf_builder *b, uint32_t owner, uint32_t target, const char *reason)
{
    sf_recd *r = rec_add(b);
    r->owner = owner; r->target = target; r->reason = xstrdup(reason);
}

void sf_rec_unresolved(sf_builder *b, uint32_t owner, const char *target)
{
    sf_recd *r = rec_add(b);
    r->owner = owner; r->target = KGG_NONE; r->unres = xstrdup(target);
}

/* Everything a snapshot owns hangs off this, freed by sf_free. */
typedef struct sf_impl { sf_builder *b; uint32_t *sorted; } sf_impl;

static const kgg_snap *sort_snap;
static int cmp_key(const void *a, const void *b)
{
    return strcmp(sort_snap->key[*(const uint32_t *)a], sort_snap->key[*(const uint32_t *)b]);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

kgg_snap *sf_build(sf_builder *b)
{
    uint32_t n = b->n;
    kgg_snap *s = xcalloc(1, sizeof *s);
    sf_impl *im = xcalloc(1, sizeof *im);
    im->b = b;
    s->impl = im;
    s->n = n;
    s->key = (const char **)b->key;
    s->title = (const char **)b->title;
    s->minutes = b->minutes;
    s->store_id = xcalloc(n, sizeof *s->store_id);
    s->course = xcalloc(n, sizeof *s->course);
    s->unit = xcalloc(n, sizeof *s->unit);
    s->seq = xcalloc(n, sizeof *s->seq);
    s->difficulty = xcalloc(n, sizeof *s->difficulty);
    /* Courses: the distinct key prefixes, in order of first appearance. */
    s->course_id = xcalloc(n + 1, sizeof *s->course_id);
    s->course_title = xcalloc(n + 1, sizeof *s->course_title);
    for (uint32_t i = 0; i < n; i++) {
        s->store_id[i] = i + 1;
        s->unit[i] = -1;
        s->difficulty[i] = -1;
        const char *colon = strchr(b->key[i], ':');
        size_t len = colon ? (size_t)(colon - b->key[i]) : 0;
        uint32_t c = 0;
        for (; c < s->ncourses; c++)
            if (strlen(s->course_id[c]) == len && strncmp(s->course_id[c], b->key[i], len) == 0) break;
        if (c == s->ncourses) {
            s->course_id[c] = strndup(b->key[i], len);
            s->course_title[c] = strndup(b->key[i], len);
            s->ncourses++;
        }
        s->course[i] = c;
    }
    for (uint32_t i = 0, *cnt = xcalloc(s->ncourses, sizeof *cnt); i <= n; i++) {
        if (i == n) { free(cnt); break; }
        s->seq[i] = cnt[s->course[i]]++;
    }
    /* Groups by owner, stable. */
    s->grp_off = xcalloc(n + 1, sizeof *s->grp_off);
    for (size_t g = 0; g < b->ng; g++) s->grp_off[b->g[g].owner + 1]++;
    for (uint32_t i = 0; i < n; i++) s->grp_off[i + 1] += s->grp_off[i];
    s->ngroups = (uint32_t)b->ng;
    uint32_t *fill = xcalloc(n + 1, sizeof *fill);
    memcpy(fill, s->grp_off, (n + 1) * sizeof *fill);
    uint32_t *gidx = xcalloc(b->ng, sizeof *gidx);   /* global group -> builder group */
    for (size_t g = 0; g < b->ng; g++) gidx[fill[b->g[g].owner]++] = (uint32_t)g;
    s->grp_k = xcalloc(b->ng, sizeof *s->grp_k);
    s->grp_n = xcalloc(b->ng, sizeof *s->grp_n);
    s->grp_reason = xcalloc(b->ng, sizeof *s->grp_reason);
    s->mem_off = xcalloc(b->ng + 1, sizeof *s->mem_off);
    size_t nm = 0, nunres = 0;
    for (size_t g = 0; g < b->ng; g++) { nm += b->g[g].nmem; nunres += b->g[g].unres; }
    s->mem = xcalloc(nm, sizeof *s->mem);
    s->mem_reason = xcalloc(nm, sizeof *s->mem_reason);
    size_t nrun = 0;
    for (size_t r = 0; r < b->nr; r++) nrun += b->r[r].target == KGG_NONE;
    s->unresolved = xcalloc(nunres + nrun, sizeof *s->unresolved);
    size_t m = 0;
    for (uint32_t G = 0; G < b->ng; G++) {
        sf_grp *g = &b->g[gidx[G]];
        s->grp_k[G] = g->k;
        s->grp_n[G] = g->nmem + g->unres;
        s->grp_reason[G] = g->reason;
        s->mem_off[G] = (uint32_t)m;
        for (uint32_t j = 0; j < g->nmem; j++) {
            s->mem[m] = g->mem[j];
            s->mem_reason[m] = NULL;
            m++;
        }
        for (uint32_t j = 0; j < g->unres; j++) {
            char buf[64];
            snprintf(buf, sizeof buf, "x:missing%u", j);
            kgg_unresolved *u = &s->unresolved[s->nunresolved++];
            u->concept = g->owner;
            u->target = strdup(buf);
            u->recommended = 0;
            u->group = G;
        }
    }
    s->mem_off[b->ng] = (uint32_t)m;
    free(gidx);
    /* Recommends. */
    s->rec_off = xcalloc(n + 1, sizeof *s->rec_off);
    for (size_t r = 0; r < b->nr; r++)
        if (b->r[r].target != KGG_NONE) s->rec_off[b->r[r].owner + 1]++;
    for (uint32_t i = 0; i < n; i++) s->rec_off[i + 1] += s->rec_off[i];
    s->rec = xcalloc(s->rec_off[n], sizeof *s->rec);
    s->rec_reason = xcalloc(s->rec_off[n], sizeof *s->rec_reason);
    memcpy(fill, s->rec_off, (n + 1) * sizeof *fill);
    for (size_t r = 0; r < b->nr; r++) {
        if (b->r[r].target == KGG_NONE) {
            kgg_unresolved *u = &s->unresolved[s->nunresolved++];
            u->concept = b->r[r].owner;
            u->target = strdup(b->r[r].unres);
            u->recommended = 1;
            u->group = KGG_NONE;
            continue;
        }
        uint32_t at = fill[b->r[r].owner]++;
        s->rec[at] = b->r[r].target;
        s->rec_reason[at] = b->r[r].reason;
    }
    /* Dependents: each once, ascending. */
    uint32_t *pairs = xcalloc(2 * nm, sizeof *pairs);
    size_t np = 0;
    for (uint32_t c = 0; c < n; c++) {
        size_t st = np;
        (void)st;
        for (uint32_t G = s->grp_off[c]; G < s->grp_off[c + 1]; G++)
            for (uint32_t j = s->mem_off[G]; j < s->mem_off[G + 1]; j++) {
                pairs[2 * np] = s->mem[j];
                pairs[2 * np + 1] = c;
                np++;
            }
    }
    s->dep_off = xcalloc(n + 1, sizeof *s->dep_off);
    uint32_t *tmp = xcalloc(np, sizeof *tmp);
    for (size_t q = 0; q < np; q++) s->dep_off[pairs[2 * q] + 1]++;
    for (uint32_t i = 0; i < n; i++) s->dep_off[i + 1] += s->dep_off[i];
    memcpy(fill, s->dep_off, (n + 1) * sizeof *fill);
    for (size_t q = 0; q < np; q++) tmp[fill[pairs[2 * q]]++] = pairs[2 * q + 1];
    /* Sort and de-duplicate each list. */
    s->dep = xcalloc(np, sizeof *s->dep);
    uint32_t w = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t a = s->dep_off[i], e = s->dep_off[i + 1];
        qsort(tmp + a, e - a, sizeof *tmp, cmp_u32);
        s->dep_off[i] = w;
        for (uint32_t q = a; q < e; q++)
            if (q == a || tmp[q] != tmp[q - 1]) s->dep[w++] = tmp[q];
    }
    s->dep_off[n] = w;
    free(tmp);
    free(pairs);
    /* Topological ranks (Kahn, smallest id first for determinism). */
    s->topo_rank = xcalloc(n, sizeof *s->topo_rank);
    uint32_t *indeg = xcalloc(n, sizeof *indeg), *q = xcalloc(n, sizeof *q);
    for (uint32_t c = 0; c < n; c++) {
        s->topo_rank[c] = KGG_NONE;
        indeg[c] = s->mem_off[s->grp_off[c + 1]] - s->mem_off[s->grp_off[c]];
    }
    size_t qh = 0, qt = 0;
    for (uint32_t c = 0; c < n; c++) if (!indeg[c]) q[qt++] = c;
    uint32_t rank = 0;
    while (qh < qt) {
        uint32_t u = q[qh++];
        s->topo_rank[u] = rank++;
        for (uint32_t j = s->dep_off[u]; j < s->dep_off[u + 1]; j++) {
            uint32_t d = s->dep[j];
            for (uint32_t G = s->grp_off[d]; G < s->grp_off[d + 1]; G++)
                for (uint32_t x = s->mem_off[G]; x < s->mem_off[G + 1]; x++)
                    if (s->mem[x] == u && --indeg[d] == 0) q[qt++] = d;
        }
    }
    s->has_cycle = rank < n;
    free(indeg); free(q); free(fill);
    /* Sorted key index for sf_find. */
    im->sorted = xcalloc(n, sizeof *im->sorted);
    for (uint32_t i = 0; i < n; i++) im->sorted[i] = i;
    sort_snap = s;
    qsort(im->sorted, n, sizeof *im->sorted, cmp_key);
    return s;
}

uint32_t sf_find(const kgg_snap *s, const char *key)
{
    const sf_impl *im = s->impl;
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->key[im->sorted[mid]], key);
        if (c == 0) return im->sorted[mid];
        if (c < 0) lo = mid + 1; else hi = mid;
    }
    return KGG_NONE;
}

void sf_free(kgg_snap *s)
{
    if (!s) return;
    sf_impl *im = s->impl;
    sf_builder *b = im->b;
    for (uint32_t i = 0; i < b->n; i++) { free(b->key[i]); free(b->title[i]); }
    free(b->key); free(b->title); free(b->minutes);
    for (size_t g = 0; g < b->ng; g++) { free(b->g[g].mem); free(b->g[g].reason); }
    free(b->g);
    for (size_t r = 0; r < b->nr; r++) { free(b->r[r].reason); free(b->r[r].unres); }
    free(b->r);
    free(b);
    for (uint32_t c = 0; c < s->ncourses; c++) { free((char *)s->course_id[c]); free((char *)s->course_title[c]); }
    free(s->course_id); free(s->course_title);
    free(s->store_id); free(s->course); free(s->unit); free(s->seq); free(s->difficulty);
    free(s->grp_off); free(s->grp_k); free(s->grp_n); free(s->grp_reason);
    free(s->mem_off); free(s->mem); free(s->mem_reason);
    free(s->rec_off); free(s->rec); free(s->rec_reason);
    free(s->dep_off); free(s->dep);
    for (size_t u = 0; u < s->nunresolved; u++) free((char *)s->unresolved[u].target);
    free(s->unresolved);
    free(s->topo_rank);
    free(im->sorted);
    free(im);
    free(s);
}

kgg_snap *sf_random(uint64_t seed, const sf_random_opts *o)
{
    uint64_t st = seed * 0x2545F4914F6CDD1Dull + 1;
    uint32_t n = o->n;
    sf_builder *b = sf_new(n);
    uint32_t mem[64];
    for (uint32_t i = 0; i < n; i++) {
        if (sf_rand(&st) % 100 < o->pct_unknown_minutes) b->minutes[i] = -1;
        else b->minutes[i] = (float)(1 + sf_rand(&st) % 60);
        if (i == 0) continue;
        uint32_t lo = (o->window && i > o->window) ? i - o->window : 0;
        uint32_t span = i - lo;
        uint32_t ng = o->max_groups ? (uint32_t)(sf_rand(&st) % (o->max_groups + 1)) : 0;
        for (uint32_t g = 0; g < ng; g++) {
            int choice = sf_rand(&st) % 100 < o->pct_choice && span >= 2;
            uint32_t unres = sf_rand(&st) % 100 < o->pct_unresolved;
            if (!choice) {
                mem[0] = lo + (uint32_t)(sf_rand(&st) % span);
                sf_group(b, i, 1, mem, 1, unres, (sf_rand(&st) & 1) ? "needed" : NULL);
                continue;
            }
            uint32_t maxm = o->max_members < 2 ? 2 : o->max_members;
            if (maxm > 64) maxm = 64;
            uint32_t nm = 2 + (uint32_t)(sf_rand(&st) % (maxm - 1));
            if (nm > span) nm = span;
            uint32_t cnt = 0;
            for (uint32_t t = 0; t < nm; t++) {
                uint32_t m = lo + (uint32_t)(sf_rand(&st) % span);
                int dup = 0;
                for (uint32_t q = 0; q < cnt; q++) dup |= mem[q] == m;
                if (!dup) mem[cnt++] = m;
            }
            uint32_t k = 1 + (uint32_t)(sf_rand(&st) % (cnt + unres));
            if (k > cnt + unres) k = cnt + unres;
            sf_group(b, i, k, mem, cnt, unres, "choose");
        }
        if (sf_rand(&st) % 100 < o->pct_rec)
            sf_rec(b, i, lo + (uint32_t)(sf_rand(&st) % span), "helps");
    }
    return sf_build(b);
}
