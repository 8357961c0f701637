/* Simulator graphs: loaders (datasets, course files) and the snapshot view
 * the planner reads. See sim.h. */
#include "tools/sim/sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "importers/importers.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* A requirement group under construction. */
typedef struct gspec {
    uint32_t concept, k;
    uint32_t *mem;
    uint32_t nmem;
} gspec;

static int cmp_gspec(const void *a, const void *b)
{
    const gspec *x = a, *y = b;
    return x->concept < y->concept ? -1 : x->concept > y->concept;
}

/* (a, b) pairs in lexicographic order */
static int cmp_pair(const void *a, const void *b)
{
    const uint32_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Fills g->snap from n concepts and ng groups (sorted here). Strings and
 * member arrays must live in g->arena. */
static int build_snap(sim_graph *g, uint32_t n, const char **keys,
                      const double *minutes, gspec *gs, uint32_t ng,
                      char *err, size_t errlen)
{
    kg_arena *a = g->arena;
    kgg_snap *s = &g->snap;
    memset(s, 0, sizeof *s);
    qsort(gs, ng, sizeof *gs, cmp_gspec);
    s->n = n;
    s->ncourses = 1;
    s->ngroups = ng;
#define ARR(p, cnt) (p = kg_arena_calloc(a, sizeof *(p) * ((cnt) + 1)))
    const char **cid, **ctitle;
    if (!ARR(cid, 1) || !ARR(ctitle, 1) || !ARR(s->course_first, 2) ||
        !ARR(s->unit_off, 2) || !ARR(s->store_id, n) || !ARR(s->key, n) ||
        !ARR(s->title, n) || !ARR(s->course, n) || !ARR(s->unit, n) ||
        !ARR(s->seq, n) || !ARR(s->minutes, n) || !ARR(s->difficulty, n) ||
        !ARR(s->grp_off, n + 1) || !ARR(s->grp_k, ng) || !ARR(s->grp_n, ng) ||
        !ARR(s->grp_reason, ng) || !ARR(s->mem_off, ng + 1) ||
        !ARR(s->rec_off, n + 1) || !ARR(s->rec, 1) || !ARR(s->rec_reason, 1) ||
        !ARR(s->dep_off, n + 1) || !ARR(s->recby_off, n + 1) ||
        !ARR(s->recby, 1) || !ARR(s->topo_rank, n))
        return fail(err, errlen, "out of memory");
    cid[0] = g->name;
    ctitle[0] = g->name;
    s->course_id = cid;
    s->course_title = ctitle;
    s->course_first[1] = n;
    size_t nmem = 0;
    for (uint32_t i = 0; i < ng; i++)
        nmem += gs[i].nmem;
    if (!ARR(s->mem, nmem) || !ARR(s->mem_reason, nmem))
        return fail(err, errlen, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        s->store_id[i] = i;
        s->key[i] = keys[i];
        s->title[i] = keys[i];
        s->unit[i] = -1;
        s->seq[i] = i;
        s->minutes[i] = (float)(minutes[i] >= 0 ? minutes[i] : 30.0);
        s->difficulty[i] = -1;
    }
    size_t m = 0;
    for (uint32_t i = 0, gi = 0; i < n; i++) {
        s->grp_off[i] = gi;
        while (gi < ng && gs[gi].concept == i) {
            s->grp_k[gi] = gs[gi].k;
            s->grp_n[gi] = gs[gi].nmem;
            s->mem_off[gi] = (uint32_t)m;
            for (uint32_t j = 0; j < gs[gi].nmem; j++)
                s->mem[m++] = gs[gi].mem[j];
            gi++;
        }
    }
    s->grp_off[n] = ng;
    s->mem_off[ng] = (uint32_t)m;
    /* dependents: each (member -> concept) once, ascending */
    uint32_t (*pairs)[2] = kg_malloc(sizeof *pairs * (m ? m : 1));
    if (!pairs)
        return fail(err, errlen, "out of memory");
    size_t np = 0;
    for (uint32_t c = 0; c < n; c++)
        for (uint32_t gi = s->grp_off[c]; gi < s->grp_off[c + 1]; gi++)
            for (uint32_t j = s->mem_off[gi]; j < s->mem_off[gi + 1]; j++) {
                pairs[np][0] = s->mem[j];
                pairs[np][1] = c;
                np++;
            }
    qsort(pairs, np, sizeof *pairs, cmp_pair);
    if (!ARR(s->dep, np)) {
        kg_free(pairs);
        return fail(err, errlen, "out of memory");
    }
    size_t nd = 0;
    for (size_t i = 0; i < np; i++) {
        if (i > 0 && pairs[i][0] == pairs[i - 1][0] && pairs[i][1] == pairs[i - 1][1])
            continue;
        s->dep[nd++] = pairs[i][1];
        s->dep_off[pairs[i][0] + 1]++;
    }
    for (uint32_t i = 0; i < n; i++)
        s->dep_off[i + 1] += s->dep_off[i];
    kg_free(pairs);
    /* topological rank (Kahn); a cycle is an error */
    uint32_t *indeg = kg_calloc(n + 1, sizeof *indeg), *q = kg_malloc(sizeof *q * (n + 1));
    if (!indeg || !q) {
        kg_free(indeg);
        kg_free(q);
        return fail(err, errlen, "out of memory");
    }
    for (uint32_t c = 0; c < n; c++)
        for (uint32_t d = s->dep_off[c]; d < s->dep_off[c + 1]; d++)
            indeg[s->dep[d]]++;
    uint32_t qh = 0, qt = 0;
    for (uint32_t c = 0; c < n; c++)
        if (!indeg[c])
            q[qt++] = c;
    while (qh < qt) {
        uint32_t c = q[qh];
        s->topo_rank[c] = qh++;
        for (uint32_t d = s->dep_off[c]; d < s->dep_off[c + 1]; d++)
            if (--indeg[s->dep[d]] == 0)
                q[qt++] = s->dep[d];
    }
    kg_free(indeg);
    kg_free(q);
    if (qt != n)
        return fail(err, errlen, "%s: the prerequisite graph has a cycle", g->name);
#undef ARR
    return 0;
}

static int begin(sim_graph *g, const char *name, char *err, size_t errlen)
{
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    if (!(g->arena = kg_arena_new()))
        return fail(err, errlen, "out of memory");
    return 0;
}

int sim_graph_build(sim_graph *g, const char *name, uint32_t n,
                    const char *const *keys, const double *minutes,
                    const uint32_t (*req)[2], size_t nreq, char *err, size_t errlen)
{
    if (begin(g, name, err, errlen))
        return -1;
    const char **k = kg_arena_calloc(g->arena, sizeof *k * (n + 1));
    double *mins = kg_arena_calloc(g->arena, sizeof *mins * (n + 1));
    gspec *gs = kg_malloc(sizeof *gs * (nreq ? nreq : 1));
    uint32_t *mem = kg_arena_calloc(g->arena, sizeof *mem * (nreq + 1));
    if (!k || !mins || !gs || !mem) {
        kg_free(gs);
        return fail(err, errlen, "out of memory");
    }
    for (uint32_t i = 0; i < n; i++) {
        k[i] = kg_arena_strdup(g->arena, keys[i]);
        mins[i] = minutes ? minutes[i] : -1;
        if (!k[i]) {
            kg_free(gs);
            return fail(err, errlen, "out of memory");
        }
    }
    /* sort edges (concept, prerequisite) to drop duplicates */
    uint32_t (*e)[2] = kg_malloc(sizeof *e * (nreq ? nreq : 1));
    if (!e) {
        kg_free(gs);
        return fail(err, errlen, "out of memory");
    }
    size_t ne = 0;
    for (size_t i = 0; i < nreq; i++) {
        if (req[i][0] >= n || req[i][1] >= n) {
            kg_free(gs);
            kg_free(e);
            return fail(err, errlen, "edge %zu: concept out of range", i);
        }
        if (req[i][0] == req[i][1])
            continue;
        e[ne][0] = req[i][1];
        e[ne][1] = req[i][0];
        ne++;
    }
    qsort(e, ne, sizeof *e, cmp_pair);
    uint32_t ng = 0;
    for (size_t i = 0; i < ne; i++) {
        if (i > 0 && e[i][0] == e[i - 1][0] && e[i][1] == e[i - 1][1])
            continue;
        mem[ng] = e[i][1];
        gs[ng] = (gspec){ e[i][0], 1, &mem[ng], 1 };
        ng++;
    }
    kg_free(e);
    int rc = build_snap(g, n, k, mins, gs, ng, err, errlen);
    kg_free(gs);
    return rc;
}

/* ---- datasets ------------------------------------------------------------ */

typedef struct idmap {
    char **id;
    uint32_t *ix;       /* sorted view: indices into id by id */
    uint32_t n;
} idmap;

static int cmp_idx(const void *a, const void *b, void *ctx)
{
    const idmap *m = ctx;
    return strcmp(m->id[*(const uint32_t *)a], m->id[*(const uint32_t *)b]);
}

static uint32_t idmap_find(const idmap *m, const char *id)
{
    uint32_t lo = 0, hi = m->n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        int c = strcmp(m->id[m->ix[mid]], id);
        if (c == 0)
            return m->ix[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return UINT32_MAX;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = sz >= 0 ? kg_malloc((size_t)sz + 1) : NULL;
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        kg_free(b);
        b = NULL;
    }
    fclose(f);
    if (b) {
        b[sz] = '\0';
        if (len)
            *len = (size_t)sz;
    }
    return b;
}

/* Loads a JSON-lines node file and a TSV edge file (prerequisite id in
 * column 0, concept id in column 1, header line first). */
static int load_dataset(sim_graph *g, const char *name, const char *nodes,
                        const char *edges, const char *idfield,
                        const char *hours_field, double default_min,
                        char *err, size_t errlen)
{
    size_t len;
    char *buf = read_all(nodes, &len);
    if (!buf)
        return fail(err, errlen, "%s: cannot read", nodes);
    uint32_t cap = 1024, n = 0;
    char **ids = kg_malloc(sizeof *ids * cap);
    double *mins = kg_malloc(sizeof *mins * cap);
    int rc = -1;
    char *ebuf = NULL;
    uint32_t (*req)[2] = NULL;
    idmap map = {0};
    if (!ids || !mins) {
        fail(err, errlen, "out of memory");
        goto out;
    }
    for (char *line = buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (!*line)
            continue;
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        const char *id = o ? json_string_value(json_object_get(o, idfield)) : NULL;
        if (!id) {
            json_decref(o);
            fail(err, errlen, "%s: line without \"%s\"", nodes, idfield);
            goto out;
        }
        if (n == cap) {
            cap *= 2;
            char **i2 = kg_realloc(ids, sizeof *ids * cap);
            double *m2 = i2 ? kg_realloc(mins, sizeof *mins * cap) : NULL;
            if (i2) ids = i2;
            if (m2) mins = m2;
            if (!i2 || !m2) {
                json_decref(o);
                fail(err, errlen, "out of memory");
                goto out;
            }
        }
        char key[512];
        snprintf(key, sizeof key, "%s:%s", name, id);
        ids[n] = kg_arena_strdup(g->arena, key);
        json_t *h = hours_field ? json_object_get(o, hours_field) : NULL;
        mins[n] = json_is_number(h) && json_number_value(h) > 0
                      ? json_number_value(h) * 60.0 : default_min;
        json_decref(o);
        if (!ids[n]) {
            fail(err, errlen, "out of memory");
            goto out;
        }
        n++;
    }
    map.id = ids;
    map.n = n;
    map.ix = kg_malloc(sizeof *map.ix * (n + 1));
    if (!map.ix) {
        fail(err, errlen, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < n; i++)
        map.ix[i] = i;
    qsort_r(map.ix, n, sizeof *map.ix, cmp_idx, &map);
    ebuf = read_all(edges, &len);
    if (!ebuf) {
        fail(err, errlen, "%s: cannot read", edges);
        goto out;
    }
    size_t ncap = 1024, nr = 0;
    req = kg_malloc(sizeof *req * ncap);
    int first = 1;
    for (char *line = ebuf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (first) {            /* header */
            first = 0;
            continue;
        }
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        char *c2 = tab + 1, *tab2 = strchr(c2, '\t');
        if (tab2)
            *tab2 = '\0';
        char *cr = strchr(c2, '\r');
        if (cr)
            *cr = '\0';
        char k1[512], k2[512];
        snprintf(k1, sizeof k1, "%s:%s", name, line);
        snprintf(k2, sizeof k2, "%s:%s", name, c2);
        uint32_t p = idmap_find(&map, k1), c = idmap_find(&map, k2);
        if (p == UINT32_MAX || c == UINT32_MAX)
            continue;           /* edges to concepts not in the node file */
        if (nr == ncap) {
            ncap *= 2;
            void *r2 = kg_realloc(req, sizeof *req * ncap);
            if (!r2) {
                fail(err, errlen, "out of memory");
                goto out;
            }
            req = r2;
        }
        req[nr][0] = p;
        req[nr][1] = c;
        nr++;
    }
    {
        kg_arena *keep = g->arena;      /* sim_graph_build makes its own */
        char nm[64];
        snprintf(nm, sizeof nm, "%s", g->name);
        rc = sim_graph_build(g, nm, n, (const char *const *)ids, mins,
                             (const uint32_t (*)[2])req, nr, err, errlen);
        kg_arena_free(keep);
    }
out:
    kg_free(buf);
    kg_free(ebuf);
    kg_free(ids);
    kg_free(mins);
    kg_free(map.ix);
    kg_free(req);
    return rc;
}

int sim_graph_metacademy(sim_graph *g, const char *dir, char *err, size_t errlen)
{
    char nodes[4096], edges[4096];
    snprintf(nodes, sizeof nodes, "%s/concepts.jsonl", dir);
    snprintf(edges, sizeof edges, "%s/edges.tsv", dir);
    if (begin(g, "metacademy", err, errlen))
        return -1;
    if (load_dataset(g, "metacademy", nodes, edges, "id", "learn_time_hours", 60.0,
                     err, errlen)) {
        sim_graph_free(g);
        return -1;
    }
    return 0;
}

int sim_graph_khan(sim_graph *g, const char *dir, char *err, size_t errlen)
{
    char nodes[4096], edges[4096];
    snprintf(nodes, sizeof nodes, "%s/nodes.jsonl", dir);
    snprintf(edges, sizeof edges, "%s/edges.tsv", dir);
    if (begin(g, "khan", err, errlen))
        return -1;
    if (load_dataset(g, "khan", nodes, edges, "id", NULL, 20.0, err, errlen)) {
        sim_graph_free(g);
        return -1;
    }
    return 0;
}

/* ---- course files -------------------------------------------------------- */

int sim_graph_courses(sim_graph *g, const char *const *paths, size_t npaths,
                      char *err, size_t errlen)
{
    if (begin(g, "courses", err, errlen))
        return -1;
    kgi_result *res = kg_calloc(npaths ? npaths : 1, sizeof *res);
    if (!res)
        return fail(err, errlen, "out of memory");
    int rc = -1;
    uint32_t n = 0;
    const char **keys = NULL;
    double *mins = NULL;
    gspec *gs = NULL;
    uint32_t ng = 0, cap_g = 0;
    idmap map = {0};
    kgi_options opt = { .validate_schema = 0 };
    for (size_t i = 0; i < npaths; i++) {
        if (kgi_import_path(paths[i], &opt, &res[i]) && res[i].ncourses == 0) {
            fail(err, errlen, "%s: %s", paths[i], res[i].error);
            goto out;
        }
        for (size_t c = 0; c < res[i].ncourses; c++)
            n += (uint32_t)res[i].courses[c]->nconcepts;
    }
    keys = kg_arena_calloc(g->arena, sizeof *keys * (n + 1));
    mins = kg_arena_calloc(g->arena, sizeof *mins * (n + 1));
    map.id = (char **)keys;
    map.ix = kg_malloc(sizeof *map.ix * (n + 1));
    if (!keys || !mins || !map.ix) {
        fail(err, errlen, "out of memory");
        goto out;
    }
    uint32_t k = 0;
    for (size_t i = 0; i < npaths; i++)
        for (size_t c = 0; c < res[i].ncourses; c++) {
            kgg_course *co = res[i].courses[c];
            for (size_t j = 0; j < co->nconcepts; j++) {
                kgg_concept *cc = &co->concepts[j];
                keys[k] = kg_arena_printf(g->arena, "%s:%s", co->id, cc->id);
                double m = cc->minutes;
                for (size_t r = 0; r < cc->nresources; r++)
                    if (cc->resources[r].minutes > 0)
                        m = (m > 0 ? m : 0) + cc->resources[r].minutes;
                mins[k] = m;
                if (!keys[k]) {
                    fail(err, errlen, "out of memory");
                    goto out;
                }
                k++;
            }
        }
    map.n = n;
    for (uint32_t i = 0; i < n; i++)
        map.ix[i] = i;
    qsort_r(map.ix, n, sizeof *map.ix, cmp_idx, &map);
    k = 0;
    for (size_t i = 0; i < npaths; i++)
        for (size_t c = 0; c < res[i].ncourses; c++) {
            kgg_course *co = res[i].courses[c];
            for (size_t j = 0; j < co->nconcepts; j++, k++) {
                kgg_concept *cc = &co->concepts[j];
                for (size_t q = 0; q < cc->ngroups; q++) {
                    kgg_group *gr = &cc->groups[q];
                    uint32_t *mem = kg_arena_alloc(g->arena, sizeof *mem * (gr->nmembers + 1));
                    uint32_t nm = 0;
                    if (!mem) {
                        fail(err, errlen, "out of memory");
                        goto out;
                    }
                    for (size_t r = 0; r < gr->nmembers; r++) {
                        const char *t = gr->members[r].target;
                        char key[1024];
                        if (strchr(t, ':'))
                            snprintf(key, sizeof key, "%s", t);
                        else
                            snprintf(key, sizeof key, "%s:%s", co->id, t);
                        uint32_t x = idmap_find(&map, key);
                        if (x != UINT32_MAX && x != k)
                            mem[nm++] = x;
                    }
                    if (nm == 0)
                        continue;
                    if (ng == cap_g) {
                        cap_g = cap_g ? 2 * cap_g : 64;
                        gspec *g2 = kg_realloc(gs, sizeof *gs * cap_g);
                        if (!g2) {
                            fail(err, errlen, "out of memory");
                            goto out;
                        }
                        gs = g2;
                    }
                    gs[ng++] = (gspec){ k, gr->k < nm ? gr->k : nm, mem, nm };
                }
            }
        }
    rc = build_snap(g, n, keys, mins, gs, ng, err, errlen);
out:
    for (size_t i = 0; i < npaths; i++)
        kgi_result_free(&res[i]);
    kg_free(res);
    kg_free(gs);
    kg_free(map.ix);
    if (rc)
        sim_graph_free(g);
    return rc;
}

void sim_graph_free(sim_graph *g)
{
    if (!g)
        return;
    kg_arena_free(g->arena);
    memset(g, 0, sizeof *g);
}
