/* igraph bridge: error handler, snapshot -> igraph, cycles, topological
 * ranks. See graph/igraph_bridge.h. */
#include "graph/igraph_bridge.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---- error handling ---- */

static _Thread_local char t_igraph_msg[512];

/* Records the error and frees igraph's FINALLY stack, like igraph's own
 * "print and ignore" handler but without printing: the failing igraph call
 * then returns its error code to us. */
static void kgg_igraph_error(const char *reason, const char *file, int line,
                             igraph_error_t err)
{
    snprintf(t_igraph_msg, sizeof t_igraph_msg, "igraph: %s (%s)", reason ? reason : "",
             igraph_strerror(err));
    (void)file; (void)line;
    IGRAPH_FINALLY_FREE();
}

static void kgg_igraph_warning(const char *reason, const char *file, int line)
{
    (void)reason; (void)file; (void)line;   /* the library never prints */
}

static pthread_once_t g_igraph_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_igraph_lock;

static void igraph_setup(void)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&g_igraph_lock, &attr);
    pthread_mutexattr_destroy(&attr);
    igraph_set_error_handler(kgg_igraph_error);
    igraph_set_warning_handler(kgg_igraph_warning);
}

void kgg_igraph_init(void) { pthread_once(&g_igraph_once, igraph_setup); }

void kgg_igraph_lock(void)
{
    kgg_igraph_init();
    pthread_mutex_lock(&g_igraph_lock);
    t_igraph_msg[0] = 0;
}

void kgg_igraph_unlock(void) { pthread_mutex_unlock(&g_igraph_lock); }

static kgp_status ig_fail(kgg_err *e, igraph_error_t rc)
{
    return kgg_errf(e, rc == IGRAPH_ENOMEM ? KGP_ENOMEM : KGP_EINTERNAL, "%s",
                    t_igraph_msg[0] ? t_igraph_msg : igraph_strerror(rc));
}

/* ---- graphs ---- */

static kgp_status build_graph(uint32_t nv, const uint32_t *from, const uint32_t *to,
                              size_t m, igraph_t *g, kgg_err *e)
{
    kgg_igraph_init();
    igraph_vector_int_t ev;
    igraph_error_t rc = igraph_vector_int_init(&ev, (igraph_integer_t)(2 * m));
    if (rc) return ig_fail(e, rc);
    for (size_t i = 0; i < m; i++) {
        VECTOR(ev)[2 * i] = from[i];
        VECTOR(ev)[2 * i + 1] = to[i];
    }
    rc = igraph_create(g, &ev, (igraph_integer_t)nv, IGRAPH_DIRECTED);
    igraph_vector_int_destroy(&ev);
    return rc ? ig_fail(e, rc) : KGP_OK;
}

/* The requirement edges of a snapshot as from/to arrays. */
static kgp_status snap_edges(const kgg_snap *s, uint32_t **from, uint32_t **to, size_t *m, kgg_err *e)
{
    size_t ne = s->mem_off ? s->mem_off[s->ngroups] : 0;
    *from = kg_malloc((ne ? ne : 1) * sizeof **from);
    *to = kg_malloc((ne ? ne : 1) * sizeof **to);
    if (!*from || !*to) { kg_free(*from); kg_free(*to); return kgg_errf(e, KGP_ENOMEM, "out of memory"); }
    size_t k = 0;
    for (uint32_t i = 0; i < s->n; i++)
        for (uint32_t g = s->grp_off[i]; g < s->grp_off[i + 1]; g++)
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
                (*from)[k] = s->mem[j];
                (*to)[k] = i;
                k++;
            }
    *m = k;
    return KGP_OK;
}

kgp_status kgg_snap_to_igraph(const kgg_snap *s, igraph_t *g, kgg_err *e)
{
    uint32_t *from, *to;
    size_t m;
    kgp_status st = snap_edges(s, &from, &to, &m, e);
    if (st) return st;
    kgg_igraph_lock();
    st = build_graph(s->n, from, to, m, g, e);
    kgg_igraph_unlock();
    kg_free(from); kg_free(to);
    return st;
}

/* ---- cycles ---- */

void kgg_cycles_free(kgg_cycles *c)
{
    if (!c) return;
    kg_free(c->v);
    kg_free(c->off);
    memset(c, 0, sizeof *c);
}

static kgp_status find_cycles_locked(uint32_t nv, const uint32_t *from, const uint32_t *to,
                                     size_t m, size_t max_cycles, kgg_cycles *out, kgg_err *e);

kgp_status kgg_find_cycles_edges(uint32_t nv, const uint32_t *from, const uint32_t *to,
                                 size_t m, size_t max_cycles, kgg_cycles *out, kgg_err *e)
{
    kgg_igraph_lock();
    kgp_status st = find_cycles_locked(nv, from, to, m, max_cycles, out, e);
    kgg_igraph_unlock();
    return st;
}

static kgp_status find_cycles_locked(uint32_t nv, const uint32_t *from, const uint32_t *to,
                                     size_t m, size_t max_cycles, kgg_cycles *out, kgg_err *e)
{
    memset(out, 0, sizeof *out);
    igraph_t g;
    kgp_status st = build_graph(nv, from, to, m, &g, e);
    if (st) return st;
    igraph_vector_int_t memb, csize;
    igraph_integer_t ncomp = 0;
    igraph_error_t rc = igraph_vector_int_init(&memb, 0);
    if (rc) { igraph_destroy(&g); return ig_fail(e, rc); }
    rc = igraph_vector_int_init(&csize, 0);
    if (rc) { igraph_vector_int_destroy(&memb); igraph_destroy(&g); return ig_fail(e, rc); }
    rc = igraph_connected_components(&g, &memb, &csize, &ncomp, IGRAPH_STRONG);
    igraph_destroy(&g);
    if (rc) { st = ig_fail(e, rc); goto done_ig; }

    /* CSR of out-edges, for the BFS inside a component. */
    uint32_t *off = kg_calloc((size_t)nv + 1, sizeof *off);
    uint32_t *adj = kg_malloc((m ? m : 1) * sizeof *adj);
    uint32_t *parent = kg_malloc(((size_t)nv ? nv : 1) * sizeof *parent);
    uint32_t *queue = kg_malloc(((size_t)nv ? nv : 1) * sizeof *queue);
    uint8_t *done = kg_calloc((size_t)ncomp + 1, 1);
    size_t capv = 0, capo = 0;
    if (!off || !adj || !parent || !queue || !done) { st = kgg_errf(e, KGP_ENOMEM, "out of memory"); goto done; }
    for (size_t i = 0; i < m; i++) off[from[i] + 1]++;
    for (uint32_t v = 0; v < nv; v++) off[v + 1] += off[v];
    {
        uint32_t *pos = kg_malloc(((size_t)nv ? nv : 1) * sizeof *pos);
        if (!pos) { st = kgg_errf(e, KGP_ENOMEM, "out of memory"); goto done; }
        memcpy(pos, off, (size_t)nv * sizeof *pos);
        for (size_t i = 0; i < m; i++) adj[pos[from[i]]++] = to[i];
        kg_free(pos);
    }
    if (kg_grow(&out->off, &capo, 1, sizeof *out->off)) { st = kgg_errf(e, KGP_ENOMEM, "out of memory"); goto done; }
    out->off[0] = 0;
    for (uint32_t s = 0; s < nv; s++) {
        if (max_cycles && out->n >= max_cycles) break;
        igraph_integer_t c = VECTOR(memb)[s];
        if (done[c]) continue;
        int selfloop = 0;
        for (uint32_t j = off[s]; j < off[s + 1]; j++) if (adj[j] == s) selfloop = 1;
        if (VECTOR(csize)[c] < 2 && !selfloop) continue;
        done[c] = 1;
        size_t len = 0;
        if (selfloop) {
            len = 1;
            if (kg_grow(&out->v, &capv, (out->off[out->n]) + 1, sizeof *out->v)) goto oom;
            out->v[out->off[out->n]] = s;
        } else {
            /* BFS from s's successors inside the component back to s. */
            for (uint32_t v = 0; v < nv; v++) parent[v] = UINT32_MAX;
            size_t qh = 0, qt = 0;
            parent[s] = s;
            queue[qt++] = s;
            uint32_t last = UINT32_MAX;
            while (qh < qt && last == UINT32_MAX) {
                uint32_t u = queue[qh++];
                for (uint32_t j = off[u]; j < off[u + 1]; j++) {
                    uint32_t w = adj[j];
                    if (VECTOR(memb)[w] != c) continue;
                    if (w == s) { last = u; break; }
                    if (parent[w] != UINT32_MAX) continue;
                    parent[w] = u;
                    queue[qt++] = w;
                }
            }
            if (last == UINT32_MAX) continue;   /* cannot happen in an SCC */
            for (uint32_t u = last; u != s; u = parent[u]) len++;
            len++;
            size_t base = out->off[out->n];
            if (kg_grow(&out->v, &capv, base + len, sizeof *out->v)) goto oom;
            /* path s -> ... -> last, each a prerequisite of the next */
            size_t k = base + len;
            for (uint32_t u = last; u != s; u = parent[u]) out->v[--k] = u;
            out->v[--k] = s;
        }
        if (kg_grow(&out->off, &capo, out->n + 2, sizeof *out->off)) goto oom;
        out->off[out->n + 1] = out->off[out->n] + len;
        out->n++;
    }
    st = KGP_OK;
    goto done;
oom:
    st = kgg_errf(e, KGP_ENOMEM, "out of memory");
done:
    kg_free(off); kg_free(adj); kg_free(parent); kg_free(queue); kg_free(done);
    if (st) kgg_cycles_free(out);
done_ig:
    igraph_vector_int_destroy(&memb);
    igraph_vector_int_destroy(&csize);
    return st;
}

kgp_status kgg_find_cycles(const kgg_snap *s, size_t max_cycles, kgg_cycles *out, kgg_err *e)
{
    uint32_t *from, *to;
    size_t m;
    kgp_status st = snap_edges(s, &from, &to, &m, e);
    if (st) return st;
    st = kgg_find_cycles_edges(s->n, from, to, m, max_cycles, out, e);
    kg_free(from); kg_free(to);
    return st;
}

/* ---- topological ranks ---- */

static kgp_status topo_ranks_locked(const kgg_snap *s, uint32_t *rank, int *has_cycle, kgg_err *e);

kgp_status kgg_topo_ranks(const kgg_snap *s, uint32_t *rank, int *has_cycle, kgg_err *e)
{
    kgg_igraph_lock();
    kgp_status st = topo_ranks_locked(s, rank, has_cycle, e);
    kgg_igraph_unlock();
    return st;
}

static kgp_status topo_ranks_locked(const kgg_snap *s, uint32_t *rank, int *has_cycle, kgg_err *e)
{
    *has_cycle = 0;
    for (uint32_t i = 0; i < s->n; i++) rank[i] = KGG_NONE;
    if (s->n == 0) return KGP_OK;
    igraph_t g;
    kgp_status st = kgg_snap_to_igraph(s, &g, e);
    if (st) return st;
    igraph_error_t rc;
    igraph_vector_int_t order, keep;
    if ((rc = igraph_vector_int_init(&order, 0))) { igraph_destroy(&g); return ig_fail(e, rc); }
    if ((rc = igraph_vector_int_init(&keep, 0))) {
        igraph_vector_int_destroy(&order); igraph_destroy(&g); return ig_fail(e, rc);
    }
    /* igraph 0.10 fails on a graph with a cycle; the usual acyclic case
     * then needs a single pass (no separate igraph_is_dag). */
    rc = igraph_topological_sorting(&g, &order, IGRAPH_OUT);
    if (rc == IGRAPH_ENOMEM) { st = ig_fail(e, rc); goto out; }
    if (rc == IGRAPH_SUCCESS && igraph_vector_int_size(&order) == (igraph_integer_t)s->n) {
        for (igraph_integer_t i = 0; i < igraph_vector_int_size(&order); i++)
            rank[VECTOR(order)[i]] = (uint32_t)i;
        goto out;
    }
    t_igraph_msg[0] = 0;
    igraph_vector_int_clear(&order);
    *has_cycle = 1;
    /* Drop the concepts on a cycle and everything behind them, then sort
     * what is left (its induced subgraph is a DAG). */
    {
        uint32_t *from, *to;
        size_t m;
        if ((st = snap_edges(s, &from, &to, &m, e))) goto out;
        igraph_vector_int_t memb, csize;
        igraph_integer_t nc;
        igraph_vector_int_init(&memb, 0);
        igraph_vector_int_init(&csize, 0);
        rc = igraph_connected_components(&g, &memb, &csize, &nc, IGRAPH_STRONG);
        uint8_t *bad = kg_calloc(s->n, 1);
        uint32_t *queue = kg_malloc((size_t)s->n * sizeof *queue);
        if (rc || !bad || !queue) {
            st = rc ? ig_fail(e, rc) : kgg_errf(e, KGP_ENOMEM, "out of memory");
        } else {
            size_t qt = 0, qh = 0;
            for (uint32_t v = 0; v < s->n; v++)
                if (VECTOR(csize)[VECTOR(memb)[v]] > 1) { bad[v] = 1; queue[qt++] = v; }
            for (size_t i = 0; i < m; i++)
                if (from[i] == to[i] && !bad[from[i]]) { bad[from[i]] = 1; queue[qt++] = from[i]; }
            while (qh < qt) {       /* everything behind: dependents, transitively */
                uint32_t u = queue[qh++];
                for (uint32_t j = s->dep_off[u]; j < s->dep_off[u + 1]; j++)
                    if (!bad[s->dep[j]]) { bad[s->dep[j]] = 1; queue[qt++] = s->dep[j]; }
            }
            for (uint32_t v = 0; v < s->n; v++)
                if (!bad[v]) igraph_vector_int_push_back(&keep, v);
            igraph_t sub;
            igraph_vs_t vs;
            igraph_vs_vector(&vs, &keep);
            rc = igraph_induced_subgraph(&g, &sub, vs, IGRAPH_SUBGRAPH_AUTO);
            if (rc) st = ig_fail(e, rc);
            else {
                rc = igraph_topological_sorting(&sub, &order, IGRAPH_OUT);
                if (rc) st = ig_fail(e, rc);
                else
                    for (igraph_integer_t i = 0; i < igraph_vector_int_size(&order); i++)
                        rank[VECTOR(keep)[VECTOR(order)[i]]] = (uint32_t)i;
                igraph_destroy(&sub);
            }
        }
        kg_free(bad); kg_free(queue); kg_free(from); kg_free(to);
        igraph_vector_int_destroy(&memb);
        igraph_vector_int_destroy(&csize);
    }
out:
    igraph_vector_int_destroy(&order);
    igraph_vector_int_destroy(&keep);
    igraph_destroy(&g);
    return st;
}
