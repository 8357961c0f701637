/* The learner simulator: graphs load (built, datasets, course files), bad
 * graphs are refused, runs are deterministic for a seed, and the metrics
 * stay in range. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/testutil.h"
#include "tools/sim/sim.h"

/* 24 concepts: four chains of six that share a root, plus cross links. */
static void small_graph(sim_graph *g)
{
    const char *keys[24];
    char names[24][16];
    double mins[24];
    uint32_t req[64][2];
    size_t nr = 0;
    for (int i = 0; i < 24; i++) {
        snprintf(names[i], sizeof names[i], "t:c%02d", i);
        keys[i] = names[i];
        mins[i] = 20 + (i % 5) * 10;
    }
    for (int ch = 0; ch < 4; ch++)
        for (int j = 1; j < 6; j++) {
            uint32_t c = (uint32_t)(ch * 6 + j);
            req[nr][0] = j == 1 ? 0 : c - 1;
            req[nr][1] = c;
            nr++;
        }
    req[nr][0] = 3; req[nr][1] = 10; nr++;
    req[nr][0] = 9; req[nr][1] = 16; nr++;
    req[nr][0] = 15; req[nr][1] = 22; nr++;
    req[nr][0] = 15; req[nr][1] = 22; nr++;     /* duplicate: dropped */
    req[nr][0] = 5; req[nr][1] = 5; nr++;       /* self loop: dropped */
    char err[256];
    ck_assert_msg(sim_graph_build(g, "t", 24, keys, mins,
                                  (const uint32_t (*)[2])req, nr, err, sizeof err) == 0,
                  "%s", err);
}

START_TEST(graph_build)
{
    sim_graph g;
    small_graph(&g);
    const kgg_snap *s = &g.snap;
    ck_assert_uint_eq(s->n, 24);
    ck_assert_uint_eq(s->ngroups, 23);               /* 20 + 3 cross links */
    ck_assert_uint_eq(s->grp_off[22 + 1] - s->grp_off[22], 2);
    /* dependents of the root: the four chain heads */
    ck_assert_uint_eq(s->dep_off[1] - s->dep_off[0], 4);
    ck_assert_uint_eq(s->dep[s->dep_off[0]], 1);
    /* topological rank respects every edge */
    for (uint32_t c = 0; c < s->n; c++)
        for (uint32_t gi = s->grp_off[c]; gi < s->grp_off[c + 1]; gi++)
            for (uint32_t j = s->mem_off[gi]; j < s->mem_off[gi + 1]; j++)
                ck_assert_uint_lt(s->topo_rank[s->mem[j]], s->topo_rank[c]);
    sim_graph_free(&g);
}
END_TEST

START_TEST(graph_bad_input)
{
    sim_graph g;
    char err[256];
    const char *keys[] = { "a", "b", "c" };
    uint32_t cyc[][2] = { { 0, 1 }, { 1, 2 }, { 2, 0 } };
    ck_assert_int_eq(sim_graph_build(&g, "x", 3, keys, NULL,
                                     (const uint32_t (*)[2])cyc, 3, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "cycle"));
    sim_graph_free(&g);
    uint32_t range[][2] = { { 0, 7 } };
    ck_assert_int_eq(sim_graph_build(&g, "x", 3, keys, NULL,
                                     (const uint32_t (*)[2])range, 1, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "out of range"));
    sim_graph_free(&g);
    ck_assert_int_eq(sim_graph_metacademy(&g, "/nonexistent-dir", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot read"));
    const char *bad[] = { "/nonexistent-file.xml" };
    ck_assert_int_eq(sim_graph_courses(&g, bad, 1, err, sizeof err), -1);
}
END_TEST

static void check_report(const sim_report *r)
{
    for (int p = 0; p < SIM_NPLANNERS; p++) {
        ck_assert(r->m[p][SIM_GAIN].mean >= -1 && r->m[p][SIM_GAIN].mean <= 1);
        ck_assert(r->m[p][SIM_RET30].mean >= 0 && r->m[p][SIM_RET30].mean <= 1);
        ck_assert(r->m[p][SIM_HOURS].mean > 0);
        ck_assert(r->m[p][SIM_GAIN].ci >= 0);
        ck_assert_uint_eq(r->m[p][SIM_GAIN].n, r->learners);
    }
}

START_TEST(run_deterministic)
{
    sim_graph g;
    small_graph(&g);
    sim_config c;
    sim_config_init(&c);
    c.learners = 300;
    c.seed = 11;
    sim_report a, b, d;
    char err[256];
    ck_assert_msg(sim_run(&g, &c, &a, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(sim_run(&g, &c, &b, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(a.learners + a.skipped, 300);
    ck_assert_uint_gt(a.learners, 200);
    ck_assert_double_eq(a.checksum, b.checksum);
    ck_assert_int_eq(memcmp(a.m, b.m, sizeof a.m), 0);
    check_report(&a);
    /* the non-adaptive planners use the same hours (one pass of the plan) */
    ck_assert_double_eq(a.m[SIM_KAHN][SIM_HOURS].mean, a.m[SIM_KGPATH][SIM_HOURS].mean);
    ck_assert_uint_gt(a.lessons, 0);
    ck_assert_uint_gt(a.reviews, 0);
    /* the planner that reads the learner's record keeps more 30 days on */
    ck_assert(a.m[SIM_LEARNER][SIM_RET30].mean > a.m[SIM_KGPATH][SIM_RET30].mean);
    /* another seed, other learners */
    c.seed = 12;
    ck_assert(sim_run(&g, &c, &d, err, sizeof err) == 0);
    ck_assert(d.checksum != a.checksum);
    sim_graph_free(&g);
}
END_TEST

START_TEST(datasets_and_samples)
{
    const char *sh = tu_shared_dir();
    char dir[4096], err[1024];
    sim_graph g;
    sim_config c;
    sim_config_init(&c);
    c.learners = 50;
    sim_report r;
    if (!sh) {
        fprintf(stderr, "test_sim: shared/ not found, skipping the dataset runs\n");
    } else {
        snprintf(dir, sizeof dir, "%s/datasets/metacademy", sh);
        ck_assert_msg(sim_graph_metacademy(&g, dir, err, sizeof err) == 0, "%s", err);
        ck_assert_uint_eq(g.snap.n, 487);
        ck_assert_uint_gt(g.snap.ngroups, 1000);
        ck_assert(sim_run(&g, &c, &r, err, sizeof err) == 0);
        check_report(&r);
        sim_graph_free(&g);
        snprintf(dir, sizeof dir, "%s/datasets/khan-academy-kalite", sh);
        ck_assert_msg(sim_graph_khan(&g, dir, err, sizeof err) == 0, "%s", err);
        ck_assert_uint_eq(g.snap.n, 1542);
        ck_assert(sim_run(&g, &c, &r, err, sizeof err) == 0);
        check_report(&r);
        sim_graph_free(&g);
    }
    char p1[4096];
    snprintf(p1, sizeof p1, "%s/data/samples/ml-intro.xml", tu_source_root());
    const char *paths[] = { p1 };
    ck_assert_msg(sim_graph_courses(&g, paths, 1, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_gt(g.snap.n, 5);
    ck_assert(sim_run(&g, &c, &r, err, sizeof err) == 0);
    sim_graph_free(&g);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("sim");
    TCase *t = tcase_create("core");
    tcase_add_test(t, graph_build);
    tcase_add_test(t, graph_bad_input);
    tcase_add_test(t, run_deterministic);
    tcase_add_test(t, datasets_and_samples);
    suite_add_tcase(s, t);
    return s;
}
