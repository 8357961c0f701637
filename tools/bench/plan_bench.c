/* Planner benchmark (run by tools/bench/plan_bench.sh beside networkx).
 *
 *   plan_bench gen N DB EDGES        synthetic curriculum of N concepts
 *   plan_bench dataset NAME DIR DB EDGES   metacademy | khan (../shared/datasets)
 *   plan_bench run DB QUERIES NQ SEED      plan latency, cold start, memory
 *
 * gen/dataset write the graph into a kgpath database (graph/store.h writer)
 * and its requirement edges as "prereq<TAB>concept" lines for networkx.
 * run opens the database once, times the cold start (snapshot + planner
 * index + first plan), then NQ plans on random requests (1-3 random goals;
 * known = every third concept of the goals' plan without known ones),
 * writes the requests to QUERIES (one line: goals TAB known, keys separated
 * by spaces) so that networkx runs the same ones, and prints one JSON line.
 *
 * Synthetic curricula: courses of 100 concepts; concept j of a course needs
 * up to 3 of the 20 concepts before it, and from j >= 10 on, with p = 0.6,
 * one of the 10 foundation concepts of a random earlier course; 10% of the
 * concepts have a 1-of-3 alternative group. About 4 prerequisites per
 * concept, minutes 10..90. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>

#include "graph/store.h"
#include "graph/snapshot.h"
#include "planner/planner.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static long peak_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int write_courses(const char *dbpath, kgg_course **cs, size_t n)
{
    kgg_store *st = NULL;
    kgg_err e = {{0}};
    if (kgg_store_open(dbpath, 0, (size_t)1 << 30, &st, &e) != KGP_OK) {
        fprintf(stderr, "plan_bench: %s\n", e.msg);
        return 1;
    }
    kgg_write_result res;
    kgg_write_result_init(&res);
    kgp_status s = kgg_store_write(st, cs, n, 0, &res, &e);
    if (s != KGP_OK) fprintf(stderr, "plan_bench: write failed: %s\n", e.msg);
    kgg_write_result_free(&res);
    kgg_store_close(st);
    return s != KGP_OK;
}

static int cmd_gen(uint32_t n, const char *db, const char *edges_path)
{
    const uint32_t per = 100;
    uint32_t ncourses = (n + per - 1) / per;
    kgg_course **cs = calloc(ncourses, sizeof *cs);
    FILE *ef = fopen(edges_path, "w");
    if (!cs || !ef) return 1;
    char id[64], ref[64], title[64];
    for (uint32_t c = 0; c < ncourses; c++) {
        kgg_course *k = cs[c] = kgg_course_new();
        snprintf(id, sizeof id, "s%u", c);
        k->id = kgg_course_str(k, id);
        k->title = kgg_course_str(k, id);
        k->format = kgg_course_str(k, "kgxml");
        uint32_t m = c + 1 == ncourses ? n - c * per : per;
        for (uint32_t j = 0; j < m; j++) {
            snprintf(id, sizeof id, "c%u", j);
            snprintf(title, sizeof title, "Concept %u.%u", c, j);
            kgg_concept *x = kgg_course_add_concept(k, id, title);
            x->minutes = 10 + (double)(rnd() % 81);
            uint32_t picked[3], np = 0;
            uint32_t want = j == 0 ? 0 : 1 + (uint32_t)(rnd() % 3);
            uint32_t lo = j > 20 ? j - 20 : 0;
            for (uint32_t t = 0; t < want && j > 0; t++) {
                uint32_t p = lo + (uint32_t)(rnd() % (j - lo)), dup = 0;
                for (uint32_t q = 0; q < np; q++) dup |= picked[q] == p;
                if (dup) continue;
                picked[np++] = p;
                snprintf(ref, sizeof ref, "c%u", p);
                kgg_concept_add_require(k, x, ref, NULL);
                fprintf(ef, "s%u:c%u\ts%u:c%u\n", c, p, c, j);
            }
            if (j >= 10 && c > 0 && rnd() % 10 < 6) {
                uint32_t oc = (uint32_t)(rnd() % c), oj = (uint32_t)(rnd() % 10);
                snprintf(ref, sizeof ref, "s%u:c%u", oc, oj);
                kgg_concept_add_require(k, x, ref, "foundation");
                fprintf(ef, "s%u:c%u\ts%u:c%u\n", oc, oj, c, j);
            }
            if (j >= 5 && rnd() % 10 == 0) {
                kgg_group *g = kgg_concept_add_group(k, x, 1);
                uint32_t base = j - 5;
                for (uint32_t t = 0; t < 3; t++) {
                    snprintf(ref, sizeof ref, "c%u", base + t);
                    kgg_group_add_member(k, g, ref, "any of these");
                    fprintf(ef, "s%u:c%u\ts%u:c%u\n", c, base + t, c, j);
                }
            }
        }
    }
    fclose(ef);
    double t0 = now();
    int rc = write_courses(db, cs, ncourses);
    fprintf(stderr, "plan_bench: wrote %u concepts in %.1f s\n", n, now() - t0);
    for (uint32_t c = 0; c < ncourses; c++) kgg_course_free(cs[c]);
    free(cs);
    return rc;
}

/* Khan ids may not be valid kgpath ids: keep [A-Za-z0-9_.-], map the rest to '_'. */
static void clean_id(const char *s, char *out, size_t len)
{
    size_t i = 0;
    for (; *s && i + 1 < len; s++)
        out[i++] = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                   *s == '_' || *s == '.' || *s == '-' ? *s : '_';
    out[i] = 0;
}

static int cmd_dataset(const char *name, const char *dir, const char *db, const char *edges_path)
{
    int meta = strcmp(name, "metacademy") == 0;
    char path[4096], line[1 << 16], id[512], ref[512];
    snprintf(path, sizeof path, "%s/%s", dir, meta ? "concepts.jsonl" : "nodes.jsonl");
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "plan_bench: cannot read %s\n", path); return 1; }
    kgg_course *k = kgg_course_new();
    k->id = kgg_course_str(k, meta ? "metacademy" : "khan");
    k->title = k->id;
    k->format = kgg_course_str(k, "kgxml");
    while (fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j) continue;
        const char *cid = json_string_value(json_object_get(j, "id"));
        const char *title = json_string_value(json_object_get(j, "title"));
        if (cid && kgg_course_find(k, (clean_id(cid, id, sizeof id), id)) < 0) {
            kgg_concept *x = kgg_course_add_concept(k, id, title ? title : id);
            json_t *h = json_object_get(j, "learn_time_hours");
            if (json_is_number(h)) x->minutes = json_number_value(h) * 60.0;
        }
        json_decref(j);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/edges.tsv", dir);
    f = fopen(path, "r");
    FILE *ef = fopen(edges_path, "w");
    if (!f || !ef) return 1;
    if (!fgets(line, sizeof line, f)) return 1;             /* header */
    size_t nedges = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *pre = strtok(line, "\t"), *con = strtok(NULL, "\t");
        char *reason = NULL;
        if (meta) { strtok(NULL, "\t"); strtok(NULL, "\t"); reason = strtok(NULL, "\t"); }
        if (!pre || !con) continue;
        clean_id(pre, ref, sizeof ref);
        clean_id(con, id, sizeof id);
        long a = kgg_course_find(k, ref), b = kgg_course_find(k, id);
        if (a < 0 || b < 0 || a == b) continue;
        kgg_concept_add_require(k, &k->concepts[b], ref, reason);
        fprintf(ef, "%s:%s\t%s:%s\n", k->id, ref, k->id, id);
        nedges++;
    }
    fclose(f);
    fclose(ef);
    fprintf(stderr, "plan_bench: %s: %zu concepts, %zu edges\n", name, k->nconcepts, nedges);
    int rc = write_courses(db, &k, 1);
    kgg_course_free(k);
    return rc;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmd_run(const char *db, const char *qpath, uint32_t nq, uint64_t seed)
{
    rng ^= seed * 0x9e3779b97f4a7c15ull;
    double t0 = now();
    kgg_store *st = NULL;
    kgg_err e = {{0}};
    if (kgg_store_open(db, KGG_STORE_RDONLY, 0, &st, &e) != KGP_OK) { fprintf(stderr, "%s\n", e.msg); return 1; }
    kgg_snap *s = NULL;
    if (kgg_snap_open(st, &s, &e) != KGP_OK) { fprintf(stderr, "%s\n", e.msg); return 1; }
    double t_snap = now();
    kgn_index *ix = NULL;
    kgn_error ne = {0};
    if (kgn_index_new(s, &ix, &ne) != KGP_OK) { fprintf(stderr, "%s\n", ne.msg); return 1; }
    kgn_workspace *ws = kgn_workspace_new(ix);
    uint32_t *goals = malloc(3 * sizeof *goals), *known = NULL;
    size_t cknown = 0;
    FILE *qf = fopen(qpath, "w");
    double *lat = malloc(nq * sizeof *lat);
    double cold = 0;
    uint64_t steps = 0;
    uint32_t exact = 0, done = 0;
    long rss_before = 0;
    for (uint32_t q = 0; q < nq; q++) {
        /* Request: goals, then the known set from a plan without known ones. */
        uint32_t ng = 1 + (uint32_t)(rnd() % 3);
        for (uint32_t i = 0; i < ng; i++) goals[i] = (uint32_t)(rnd() % s->n);
        kgn_plan *p = NULL;
        if (kgn_plan_make(ws, goals, ng, NULL, 0, NULL, &p, &ne) != KGP_OK) { q--; continue; }
        size_t nk = 0;
        if (cknown < p->nsteps) { cknown = p->nsteps; known = realloc(known, cknown * sizeof *known); }
        for (uint32_t i = 0; i < p->nsteps; i++)
            if (!p->steps[i].is_goal && i % 3 == 0) known[nk++] = p->steps[i].concept;
        kgn_plan_free(p);
        for (uint32_t i = 0; i < ng; i++) fprintf(qf, "%s%s", i ? " " : "", s->key[goals[i]]);
        fputc('\t', qf);
        for (size_t i = 0; i < nk; i++) fprintf(qf, "%s%s", i ? " " : "", s->key[known[i]]);
        fputc('\n', qf);
        double a = now();
        kgp_status rc = kgn_plan_make(ws, goals, ng, known, nk, NULL, &p, &ne);
        double b = now();
        if (q == 0) cold = b - t0;
        if (q == 1) rss_before = peak_kib();
        lat[done++] = b - a;
        if (rc == KGP_OK) { steps += p->nsteps; exact += (uint32_t)p->exact; kgn_plan_free(p); }
    }
    fclose(qf);
    qsort(lat, done, sizeof *lat, cmp_d);
    double med = lat[done / 2], p99 = lat[(size_t)(done * 0.99) < done ? (size_t)(done * 0.99) : done - 1];
    printf("{\"tool\":\"kgpath\",\"concepts\":%u,\"plans\":%u,\"median_us\":%.1f,\"p99_us\":%.1f,"
           "\"cold_start_ms\":%.1f,\"snapshot_ms\":%.1f,\"mean_steps\":%.1f,\"exact\":%u,"
           "\"peak_rss_mib\":%.1f,\"rss_growth_during_plans_kib\":%ld}\n",
           s->n, done, med * 1e6, p99 * 1e6, cold * 1e3, (t_snap - t0) * 1e3,
           done ? (double)steps / done : 0.0, exact, peak_kib() / 1024.0, peak_kib() - rss_before);
    free(lat); free(goals); free(known);
    kgn_workspace_free(ws);
    kgn_index_free(ix);
    kgg_snap_close(s);
    kgg_store_close(st);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "gen")) return cmd_gen((uint32_t)strtoul(argv[2], NULL, 10), argv[3], argv[4]);
    if (argc == 6 && !strcmp(argv[1], "dataset")) return cmd_dataset(argv[2], argv[3], argv[4], argv[5]);
    if (argc == 6 && !strcmp(argv[1], "run"))
        return cmd_run(argv[2], argv[3], (uint32_t)strtoul(argv[4], NULL, 10), strtoull(argv[5], NULL, 10));
    fprintf(stderr, "usage: plan_bench gen N DB EDGES | dataset metacademy|khan DIR DB EDGES | run DB QUERIES NQ SEED\n");
    return 1;
}
