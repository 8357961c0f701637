/* Store and snapshot benchmark: generates a synthetic curriculum of N
 * concepts in C courses (each concept requires 1-3 earlier ones, some
 * across courses, every tenth group "k of n"), writes it with the store's
 * writer in one transaction, then times snapshot builds (CSR, key index,
 * igraph topological ranks), key lookups and a JSON export.
 *
 *   store_bench [N] [COURSES] [DIR]   (defaults 100000 10 $TMPDIR)
 * Prints one JSON line; tools/bench/store_bench.sh compares it with
 * networkx loading the same export.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "graph/course_model.h"
#include "graph/export.h"
#include "graph/snapshot.h"
#include "graph/store.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(uint32_t n) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)(rng % n); }

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)atol(argv[1]) : 100000;
    uint32_t nc = argc > 2 ? (uint32_t)atol(argv[2]) : 10;
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/kgpath-store-bench-XXXXXX", argc > 3 ? argv[3] : (tmp && *tmp ? tmp : "/tmp"));
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    char db[4200], exp[4200];
    snprintf(db, sizeof db, "%s/bench.db", dir);
    snprintf(exp, sizeof exp, "%s/export.json", dir);
    if (nc == 0 || n < nc) nc = 1;
    uint32_t per = n / nc;
    n = per * nc;

    kgg_course **cs = calloc(nc, sizeof *cs);
    char id[64], ref[96], title[96];
    size_t nedges = 0;
    for (uint32_t c = 0; c < nc; c++) {
        kgg_course *co = cs[c] = kgg_course_new();
        snprintf(id, sizeof id, "course%u", c);
        co->id = kgg_course_str(co, id);
        co->title = kgg_course_str(co, id);
        co->format = kgg_course_str(co, "bench");
        for (uint32_t i = 0; i < per; i++) {
            snprintf(id, sizeof id, "k%u", i);
            snprintf(title, sizeof title, "Concept %u of course %u", i, c);
            kgg_concept *k = kgg_course_add_concept(co, id, title);
            k->minutes = 10 + rnd(50);
            k->summary = kgg_course_str(co, "A short summary of what this concept is about.");
            if (i == 0) continue;
            uint32_t np = 1 + rnd(3);
            for (uint32_t p = 0; p < np; p++) {
                uint32_t t = i - 1 - rnd(i < 50 ? i : 50);
                if (c > 0 && rnd(10) == 0) snprintf(ref, sizeof ref, "course%u:k%u", rnd(c), rnd(per));
                else snprintf(ref, sizeof ref, "k%u", t);
                if (rnd(10) == 0 && i > 3 && t + 2 < i) {
                    kgg_group *g = kgg_concept_add_group(co, k, 2);
                    snprintf(ref, sizeof ref, "k%u", t);
                    kgg_group_add_member(co, g, ref, NULL);
                    snprintf(ref, sizeof ref, "k%u", i - 1);
                    kgg_group_add_member(co, &k->groups[k->ngroups - 1], ref, NULL);
                    snprintf(ref, sizeof ref, "k%u", i - 2);
                    kgg_group_add_member(co, &k->groups[k->ngroups - 1], ref, NULL);
                    nedges += 3;
                } else {
                    kgg_concept_add_require(co, k, ref, "because");
                    nedges++;
                }
            }
        }
    }
    kgg_store *st;
    kgg_err e;
    if (kgg_store_open(db, 0, 0, &st, &e)) { fprintf(stderr, "%s\n", e.msg); return 1; }
    kgg_write_result r;
    kgg_write_result_init(&r);
    double t0 = now();
    kgp_status s = kgg_store_write(st, cs, nc, 0, &r, &e);
    double t_write = now() - t0;
    if (s) {   /* duplicate member in a group can happen with random refs: report and stop */
        fprintf(stderr, "write: %s\n", e.msg);
        return 1;
    }
    kgg_write_result_free(&r);
    /* re-import of one course (replacement path) */
    cs[nc - 1]->version = kgg_course_str(cs[nc - 1], "2");
    kgg_write_result_init(&r);
    t0 = now();
    s = kgg_store_write(st, &cs[nc - 1], 1, 0, &r, &e);
    double t_reimport = now() - t0;
    if (s) { fprintf(stderr, "reimport: %s\n", e.msg); return 1; }
    kgg_write_result_free(&r);

    double snaps[5];
    kgg_snap *sn = NULL;
    for (int i = 0; i < 5; i++) {
        if (sn) kgg_snap_close(sn);
        t0 = now();
        if (kgg_snap_open(st, &sn, &e)) { fprintf(stderr, "%s\n", e.msg); return 1; }
        snaps[i] = now() - t0;
    }
    qsort(snaps, 5, sizeof snaps[0], dcmp);
    t0 = now();
    uint32_t found = 0;
    for (uint32_t i = 0; i < n; i++) {
        snprintf(ref, sizeof ref, "course%u:k%u", rnd(nc), rnd(per));
        found += kgg_snap_find_key(sn, ref) != KGG_NONE;
    }
    double t_lookup = now() - t0;
    FILE *f = fopen(exp, "w");
    t0 = now();
    if (kgg_export(sn, "json", f, &e)) { fprintf(stderr, "%s\n", e.msg); return 1; }
    fclose(f);
    double t_export = now() - t0;
    printf("{\"concepts\": %u, \"courses\": %u, \"groups\": %u, \"edges\": %u, \"has_cycle\": %d, "
           "\"write_s\": %.4f, \"reimport_course_s\": %.4f, \"snapshot_s\": %.4f, "
           "\"lookup_us\": %.3f, \"export_s\": %.4f, \"db_bytes\": %llu, \"export\": \"%s\", \"dir\": \"%s\"}\n",
           sn->n, sn->ncourses, sn->ngroups, sn->mem_off[sn->ngroups], sn->has_cycle,
           t_write, t_reimport, snaps[2], t_lookup / n * 1e6, t_export,
           (unsigned long long)kgg_store_file_size(st), exp, dir);
    (void)found; (void)nedges;
    kgg_snap_close(sn);
    kgg_store_close(st);
    for (uint32_t c = 0; c < nc; c++) kgg_course_free(cs[c]);
    free(cs);
    return 0;
}
