/* kgpath serve: the route table. Each serve_*.c file registers its routes
 * through one function listed in `registrars` below (see src/serve.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

typedef struct srv_route_ent {
    const char *method;         /* "GET", "POST", ... or "*" */
    const char *pattern;        /* exact path, or prefix ending in '*' */
    size_t plen;                /* prefix length (without '*'); 0 when exact */
    unsigned scope;
    srv_handler fn;
} srv_route_ent;

struct srv_routes {
    srv_route_ent *v;
    size_t n, cap;
    int oom;
};

/* Every file's registrar, in registration order (order matters only for
 * two routes with the same method and pattern: the first wins). */
static void (*const registrars[])(srv_routes *) = {
    serve_ops_routes,
    serve_assets_routes,
    serve_v1_routes,
    serve_xapi_routes,
    serve_studio_routes,
    serve_model_routes,
};

void srv_route(srv_routes *t, const char *method, const char *pattern,
               unsigned scope, srv_handler fn)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 32;
        srv_route_ent *v = realloc(t->v, cap * sizeof *v);
        if (!v) { t->oom = 1; return; }
        t->v = v;
        t->cap = cap;
    }
    size_t len = strlen(pattern);
    int prefix = len > 0 && pattern[len - 1] == '*';
    t->v[t->n++] = (srv_route_ent){method, pattern, prefix ? len - 1 : 0, scope, fn};
}

srv_routes *srv_routes_build(void)
{
    srv_routes *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    for (size_t i = 0; i < sizeof registrars / sizeof *registrars; i++)
        registrars[i](t);
    if (t->oom) { srv_routes_free(t); return NULL; }
    return t;
}

void srv_routes_free(srv_routes *t)
{
    if (!t) return;
    free(t->v);
    free(t);
}

static int path_matches(const srv_route_ent *r, const char *path, size_t *rank)
{
    if (!r->plen) {
        if (strcmp(r->pattern, path)) return 0;
        *rank = (size_t)-1;                     /* exact beats any prefix */
        return 1;
    }
    if (strncmp(r->pattern, path, r->plen)) return 0;
    *rank = r->plen;
    return 1;
}

static int method_matches(const char *want, const char *have)
{
    return !strcmp(want, "*") || !strcmp(want, have);
}

srv_handler srv_match(const srv_routes *t, const char *method, const char *path,
                      const char **tail, unsigned *scope, int *status,
                      char *allow, size_t allowlen)
{
    const srv_route_ent *best = NULL;
    size_t best_rank = 0, path_rank = 0;
    int path_seen = 0;
    /* Longest matching pattern for this method; and the longest matching
     * pattern of any method, to tell 404 from 405. */
    for (size_t i = 0; i < t->n; i++) {
        size_t rank;
        if (!path_matches(&t->v[i], path, &rank)) continue;
        if (!path_seen || rank > path_rank) { path_rank = rank; path_seen = 1; }
        if (method_matches(t->v[i].method, method) && (!best || rank > best_rank)) {
            best = &t->v[i];
            best_rank = rank;
        }
    }
    if (best && best_rank == path_rank) {
        *tail = best->plen ? path + best->plen : "";
        *scope = best->scope;
        return best->fn;
    }
    if (!path_seen) { *status = 404; return NULL; }
    /* The path exists with other methods: list them for the Allow header. */
    size_t used = 0;
    if (allowlen) allow[0] = 0;
    for (size_t i = 0; i < t->n; i++) {
        size_t rank;
        if (!path_matches(&t->v[i], path, &rank) || rank != path_rank) continue;
        const char *m = t->v[i].method;
        if (strstr(allow, m)) continue;
        int w = snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "", m);
        if (w < 0 || (size_t)w >= allowlen - used) break;
        used += (size_t)w;
        if (!strcmp(m, "GET") && used + 6 < allowlen) { strcat(allow, ", HEAD"); used += 6; }
    }
    *status = 405;
    return NULL;
}
