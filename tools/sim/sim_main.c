/* kgpath-sim: compares study planners on simulated learners (see sim.h).
 *
 *   kgpath-sim [--graph metacademy|khan|FILE...] [--shared DIR]
 *              [--learners N] [--seed S] [--goals G] [--minutes-per-day M]
 *              [--retention R] [--history P] [--budget F] [--json]
 *              [--events FILE]
 *
 * --graph defaults to metacademy (from $KGPATH_SHARED or ../shared);
 * any other value is read as course files through kgpath's importers
 * (repeat --graph for several files). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/sim/sim.h"

static void usage(void)
{
    fprintf(stderr,
        "usage: kgpath-sim [--graph metacademy|khan|FILE...] [--shared DIR]\n"
        "                  [--learners N] [--seed S] [--goals G] [--minutes-per-day M]\n"
        "                  [--retention R] [--history P] [--budget F] [--json]\n"
        "                  [--events FILE]   (kgpath+learner events as JSON lines)\n");
}

static const char *shared_dir(const char *opt)
{
    if (opt)
        return opt;
    const char *e = getenv("KGPATH_SHARED");
    return e && *e ? e : "../shared";
}

int main(int argc, char **argv)
{
    sim_config cfg;
    sim_config_init(&cfg);
    const char *graph = "metacademy", *shared = NULL;
    const char *files[64];
    size_t nfiles = 0;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NUM(name, field, conv) \
        if (!strcmp(a, name)) { if (!v) { usage(); return 1; } cfg.field = conv; i++; continue; }
        NUM("--learners", learners, (uint32_t)strtoul(v, NULL, 10))
        NUM("--seed", seed, strtoull(v, NULL, 10))
        NUM("--goals", goals, (uint32_t)strtoul(v, NULL, 10))
        NUM("--minutes-per-day", minutes_per_day, (uint32_t)strtoul(v, NULL, 10))
        NUM("--retention", retention, strtod(v, NULL))
        NUM("--history", hist_p, strtod(v, NULL))
        NUM("--budget", budget_frac, strtod(v, NULL))
        NUM("--check", check, strtod(v, NULL))
        NUM("--min-closure", min_closure, (uint32_t)strtoul(v, NULL, 10))
        NUM("--max-closure", max_closure, (uint32_t)strtoul(v, NULL, 10))
#undef NUM
        if (!strcmp(a, "--graph") && v) {
            if (!strcmp(v, "metacademy") || !strcmp(v, "khan"))
                graph = v;
            else if (nfiles < 64)
                files[nfiles++] = v, graph = NULL;
            i++;
        } else if (!strcmp(a, "--shared") && v) {
            shared = v;
            i++;
        } else if (!strcmp(a, "--events") && v) {
            if (!(cfg.events = fopen(v, "w"))) {
                perror(v);
                return 8;
            }
            i++;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else {
            usage();
            return 1;
        }
    }
    if (cfg.learners == 0 || cfg.minutes_per_day == 0 || !(cfg.retention > 0 && cfg.retention < 1) ||
        cfg.budget_frac <= 0) {
        usage();
        return 1;
    }
    sim_graph g;
    char err[1024], dir[4096];
    int rc;
    if (graph && !strcmp(graph, "khan")) {
        snprintf(dir, sizeof dir, "%s/datasets/khan-academy-kalite", shared_dir(shared));
        rc = sim_graph_khan(&g, dir, err, sizeof err);
    } else if (graph) {
        snprintf(dir, sizeof dir, "%s/datasets/metacademy", shared_dir(shared));
        rc = sim_graph_metacademy(&g, dir, err, sizeof err);
    } else {
        rc = sim_graph_courses(&g, files, nfiles, err, sizeof err);
    }
    if (rc) {
        fprintf(stderr, "kgpath-sim: %s\n", err);
        return 2;
    }
    sim_report r;
    if (sim_run(&g, &cfg, &r, err, sizeof err)) {
        fprintf(stderr, "kgpath-sim: %s\n", err);
        sim_graph_free(&g);
        return 9;
    }
    if (json) {
        printf("{\"graph\":\"%s\",\"concepts\":%u,\"learners\":%u,\"skipped\":%u,"
               "\"seed\":%llu,\"checksum\":%.12g,\"planners\":{",
               g.name, g.snap.n, r.learners, r.skipped,
               (unsigned long long)cfg.seed, r.checksum);
        for (int p = 0; p < SIM_NPLANNERS; p++) {
            printf("%s\"%s\":{", p ? "," : "", sim_planner_names[p]);
            for (int m = 0; m < SIM_NMETRICS; m++)
                printf("%s\"%s\":{\"mean\":%.6g,\"ci95\":%.6g}", m ? "," : "",
                       sim_metric_names[m], r.m[p][m].mean, r.m[p][m].ci);
            printf("}");
        }
        printf("},\"learner_steps\":{\"lessons\":%llu,\"reviews\":%llu,\"relearned\":%llu}}\n",
               (unsigned long long)r.lessons, (unsigned long long)r.reviews,
               (unsigned long long)r.relearned);
    } else {
        printf("graph %s: %u concepts; %u learners (%u without a goal set), seed %llu\n",
               g.name, g.snap.n, r.learners, r.skipped, (unsigned long long)cfg.seed);
        printf("%-16s", "planner");
        for (int m = 0; m < SIM_NMETRICS; m++)
            printf(" %17s", sim_metric_names[m]);
        printf("\n");
        for (int p = 0; p < SIM_NPLANNERS; p++) {
            printf("%-16s", sim_planner_names[p]);
            for (int m = 0; m < SIM_NMETRICS; m++)
                printf("   %6.3f ± %6.3f", r.m[p][m].mean, r.m[p][m].ci);
            printf("\n");
        }
        printf("paired difference kgpath+learner − planner (mean ± 95%% CI):\n");
        for (int p = 0; p < SIM_NPLANNERS; p++) {
            if (p == SIM_LEARNER)
                continue;
            printf("%-16s", sim_planner_names[p]);
            for (int m = 0; m < SIM_NMETRICS; m++)
                printf("   %+6.3f ± %6.3f", r.diff[p][m].mean, r.diff[p][m].ci);
            printf("\n");
        }
        printf("kgpath+learner steps: %llu lessons (%llu on concepts with history), %llu reviews\n",
               (unsigned long long)r.lessons, (unsigned long long)r.relearned,
               (unsigned long long)r.reviews);
        printf("checksum %.12g\n", r.checksum);
    }
    sim_graph_free(&g);
    if (cfg.events && fclose(cfg.events)) {
        perror("--events");
        return 8;
    }
    return 0;
}
