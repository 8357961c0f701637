/* kgpath learner simulator: compares study planners on simulated learners.
 *
 * Graph: concepts with minutes and requirement groups (k of n members),
 * loaded from the Metacademy or Khan Academy datasets, from course files
 * (any format kgpath imports), or built in memory (tests). The simulator
 * builds a graph snapshot (graph/snapshot.h) so the real planner
 * (planner/planner.h) plans on it.
 *
 * Learners (hidden state, never seen by the planners):
 *  - per concept: learned or not; memory stability S (days) and the time of
 *    the last study; recall probability R = (1 + t/(9S))^-1 (a power-law
 *    forgetting curve, deliberately not FSRS-6's exact form);
 *  - per learner: a memory factor (log-normal, sd 0.4) scaling every S;
 *  - a lesson on c succeeds with probability 0.9·exp(−3·Σ missing), where
 *    missing sums, over c's requirement groups, how far the best k members'
 *    current mastery (learned·R) falls short of k — the EduSim KSS
 *    discount: nearly nothing is learned while prerequisites are missing
 *    or forgotten. Re-studying a learned concept refreshes its memory;
 *  - a review (recall attempt + short restudy) recalls with probability R;
 *    a recall multiplies S by 1.4 + 3·(1 − R) (spacing effect); a failure
 *    halves S (not below the initial stability) and relearns;
 *  - after every lesson a two-item quiz: each item correct with
 *    probability 0.9 when the concept is known (drawn from its mastery),
 *    else 0.2 (guess).
 *  - history: before the plan starts, each concept of the goals' closure
 *    was studied 5..90 days earlier with probability hist_p (prerequisites
 *    first), with its events (reading, quiz items, sometimes a review) on
 *    record, so what the learner knows, half-knows and has forgotten differs
 *    per learner.
 *
 * Planners (same learners, same goals, same time budget, same random draws
 * per learner — common random numbers):
 *   random   a random prerequisite-respecting order of the plan's concepts
 *   kahn     plain Kahn topological order (FIFO by concept id)
 *   kgpath   kgpath's plan (kgn_plan_make) with nothing known
 *   kgpath+learner  kgpath re-planned before every step from the learner's
 *            recorded events: BKT mastery decides what is known, FSRS-6
 *            retrievability inserts review steps for faded prerequisites
 *            and spaced reviews of learned goals (desired retention r);
 *            a concept below mastery but with P(L) >= check (and quiz
 *            evidence) is checked by a short review before it is taught
 *            again (kgpath_learner.h: the same policy as kgp_learner_known).
 * The first three cannot see the learner: they study every concept of the
 * plan once, in their order. All pay the same quiz time after lessons.
 *
 * Metrics per learner and planner, with means and 95% confidence intervals:
 *   gain      normalised learning gain on the goals at the end of the
 *             budget, E_p = (E_end − E_start)/(|goals| − E_start), E = sum
 *             of the goals' mastery (expected goals passed)
 *   goals/h   (E_end − E_start) per study hour actually used
 *   gain/h    E_p per study hour
 *   ret30     mean recall of the goals 30 days after the budget ends
 *   hours     study hours used (lessons, reviews, quizzes)
 * Deterministic for a seed: learner i draws from its own generator
 * (seed, i), independent of thread count and of the other planners.
 */
#ifndef KG_SIM_H
#define KG_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"
#include "graph/snapshot.h"

typedef struct sim_graph {
    kg_arena *arena;
    kgg_snap snap;          /* arrays below, in snapshot form */
    char name[64];
} sim_graph;

/* Builds a graph from edges: n concepts with keys and minutes (< 0: 30),
 * and nreq (prerequisite, concept) pairs, each a plain requirement (k = 1
 * of 1). Duplicate edges and self loops are dropped. Returns 0, or -1 with
 * a message (cycle, out of memory). */
int sim_graph_build(sim_graph *g, const char *name, uint32_t n,
                    const char *const *keys, const double *minutes,
                    const uint32_t (*req)[2], size_t nreq, char *err, size_t errlen);
/* Loads shared/datasets/metacademy (concepts.jsonl, edges.tsv). */
int sim_graph_metacademy(sim_graph *g, const char *dir, char *err, size_t errlen);
/* Loads shared/datasets/khan-academy-kalite (nodes.jsonl, edges.tsv);
 * exercises have no time: 20 minutes each. */
int sim_graph_khan(sim_graph *g, const char *dir, char *err, size_t errlen);
/* Loads course files through kgpath's importers (requirement groups with
 * k of n kept as they are; references across the files resolved). */
int sim_graph_courses(sim_graph *g, const char *const *paths, size_t npaths,
                      char *err, size_t errlen);
void sim_graph_free(sim_graph *g);

enum { SIM_RANDOM = 0, SIM_KAHN = 1, SIM_KGPATH = 2, SIM_LEARNER = 3, SIM_NPLANNERS = 4 };
extern const char *const sim_planner_names[SIM_NPLANNERS];

typedef struct sim_config {
    uint64_t seed;
    uint32_t learners;          /* default 1000 */
    uint32_t goals;             /* goals per learner, default 2 */
    uint32_t min_closure;       /* concepts a goal set needs, default 5 */
    uint32_t max_closure;       /* default 25 */
    double budget_frac;         /* budget = frac × (plan minutes + quizzes), default 1 */
    uint32_t minutes_per_day;   /* default 60 */
    double retention;           /* desired retention r, default 0.9 */
    double hist_p;              /* history probability, default 0.4 */
    double mastery;             /* BKT threshold, default 0.95 */
    double check;               /* below mastery but P(L) >= check (and seen):
                                   a short review checks it before a relearn
                                   (default 0.5; 1 disables) */
    void *events;               /* FILE *: when set, the kgpath+learner runs'
                                   events (history and plan) as kgpath JSON lines */
} sim_config;

void sim_config_init(sim_config *c);

enum { SIM_GAIN, SIM_GOALS_H, SIM_GAIN_H, SIM_RET30, SIM_HOURS, SIM_NMETRICS };
extern const char *const sim_metric_names[SIM_NMETRICS];

typedef struct sim_stat {
    double mean, ci;            /* mean and 95% half-width (1.96·sd/√n) */
    uint32_t n;
} sim_stat;

typedef struct sim_report {
    uint32_t learners;          /* simulated (learners with a usable goal set) */
    uint32_t skipped;           /* no goal set in the closure bounds */
    sim_stat m[SIM_NPLANNERS][SIM_NMETRICS];
    /* paired difference kgpath+learner − planner p, per metric */
    sim_stat diff[SIM_NPLANNERS][SIM_NMETRICS];
    uint64_t reviews, lessons, relearned;   /* kgpath+learner step counts */
    double checksum;            /* sum of all per-learner metrics (determinism) */
} sim_report;

/* Runs the comparison. Returns 0, or -1 with a message. O(learners × plan
 * steps × plan size). */
int sim_run(const sim_graph *g, const sim_config *c, sim_report *r,
            char *err, size_t errlen);

#endif
