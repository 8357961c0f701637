/** @file kgpath_plan.h
 * @brief Study-path planning, "what next" and curriculum checks
 * (implemented in src/api_plan.c over planner/). Included by kgpath.h.
 *
 * A planner is opened once per snapshot: it does the whole-graph work
 * (topological order, which concepts can be learned at all) once, and keeps
 * a pool of per-thread scratch workspaces. kgp_plan_make, kgp_next_make and
 * kgp_check_make may then be called from any number of threads at once on
 * one planner; each call's cost is proportional to the plan, not the graph.
 *
 * Concepts are snapshot indexes (kgp_snap_lookup resolves names). Results
 * are objects owned by the caller; on failure the result object (when memory
 * allows) carries the message, read with the matching _errmsg call, and
 * must still be freed.
 */
#ifndef KGPATH_PLAN_H
#define KGPATH_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kgp_planner kgp_planner;
typedef struct kgp_plan    kgp_plan;
typedef struct kgp_next    kgp_next;
typedef struct kgp_check   kgp_check;

/** Opens a planner on a snapshot (which must outlive it).
 * Errors: KGP_ENOMEM, KGP_EINTERNAL. O(V + E). */
kgp_status kgp_planner_open(kgp_snap *s, kgp_planner **out);
void       kgp_planner_close(kgp_planner *pl);

/** Learner hook: return 1 when the known concept must be reviewed before a
 * step that needs it, setting *minutes and optionally *why (copied into the
 * plan: it need only last until the next call). Called from the planning
 * thread. */
typedef int (*kgp_review_fn)(void *ud, uint32_t concept, uint32_t *minutes,
                             const char **why);

/** "No day" for the dated hooks: judge at the learner state's own time. */
#define KGP_NO_DAY INT32_MIN

/** Dated learner hook: as kgp_review_fn, judged on `day` (days since
 * 1970-01-01, or KGP_NO_DAY), the day the step that needs the concept is
 * scheduled. With a calendar it is asked at each use of a known concept
 * until one review is placed. Preferred over review when both are set. */
typedef int (*kgp_review_at_fn)(void *ud, uint32_t concept, int32_t day,
                                uint32_t *minutes, const char **why);
/* On entry to a dated hook *minutes holds the minutes at stake: those of
 * the lesson that needs the concept (0: none, e.g. a goal already known),
 * so the hook can weigh a review's cost against the lesson it protects. */

/** Pessimistic review length (the recall fails and the concept is
 * relearned), summed into kgp_plan_summary.pessimistic_minutes. */
typedef uint32_t (*kgp_review_worst_fn)(void *ud, uint32_t concept);

/** In-plan review hook: as kgp_review_at_fn (stake on entry in *minutes),
 * for a concept last studied in the plan on `studied` (a lesson or review
 * there, assumed done and "good"). */
typedef int (*kgp_review_after_fn)(void *ud, uint32_t concept, int32_t studied, int32_t day,
                                   uint32_t *minutes, const char **why);

/** Lesson note hook: why the lesson of `concept` is planned although the
 * learner has met the concept (kgp_learner_learn_note: taught again rather
 * than checked), or NULL. The text is copied into the plan (step note). */
typedef const char *(*kgp_learn_note_fn)(void *ud, uint32_t concept);

/** Spaced-review hook: the concept was studied on `day` (days since
 * 1970-01-01); fill days[0..k) ascending (> day) with the days its next
 * reviews fall due, each assumed done on time, r[0..k) with the
 * retrievability predicted on those days, *minutes with a review's length;
 * return k <= max. Used only with a calendar. */
typedef size_t (*kgp_spaced_fn)(void *ud, uint32_t concept, int32_t day,
                                int32_t *days, double *r, size_t max,
                                uint32_t *minutes);

typedef struct kgp_plan_options {
    int include_recommended;    /**< add recommended concepts (and what they need) */
    double budget_minutes;      /**< > 0: plan the goals that fit, in the order given */
    unsigned minutes_per_day;   /**< > 0: pack steps into study days (needs start) */
    unsigned days_per_week;     /**< 1..7, Monday first; 0 means 7 */
    const char *start;          /**< "YYYY-MM-DD": first study day */
    const char *deadline;       /**< "YYYY-MM-DD" or NULL */
    unsigned default_minutes;   /**< minutes of a concept without estimate (0: 30) */
    unsigned exact_limit;       /**< work limit of the exact k-of-n search (0: default) */
    kgp_review_fn review;       /**< NULL: no review steps */
    void *review_ud;
    kgp_review_at_fn review_at; /**< dated hook (kgp_learner_review_at); NULL: review */
    void *review_at_ud;
    kgp_spaced_fn spaced;       /**< spaced reviews (kgp_learner_spaced); NULL: none */
    void *spaced_ud;
    kgp_review_worst_fn review_worst;   /**< kgp_learner_review_worst; NULL: no
                                             pessimistic figure */
    void *review_worst_ud;
    kgp_review_after_fn review_after;   /**< kgp_learner_review_after; NULL: a
                                             concept studied in the plan is
                                             reviewed from its first due day
                                             (spaced) */
    void *review_after_ud;
    kgp_learn_note_fn learn_note;       /**< kgp_learner_learn_note; NULL: lessons
                                             carry no note */
    void *learn_note_ud;
    unsigned spaced_days;       /**< spaced reviews until this many days after the
                                     last lesson (0: until the last lesson) */
    int known_goals_ok;         /**< 1: a goal in the known set is reported as
                                     already mastered (and reviewed when the hook
                                     asks) instead of failing with KGP_ECONFLICT */
    int cheapest_goals_first;   /**< 1: goals in ascending order of the minutes
                                     of their own remaining requirements (the
                                     first goals are reached soonest; set with
                                     a learner); 0: in the order given */
    int follow_course_order;    /**< 1: within each course every concept also
                                     requires the one authored before it (a late
                                     goal pulls in everything before it; known
                                     concepts stop the walk). The first such call
                                     on a planner builds that view: O(V log V + E) */
} kgp_plan_options;

/** Zeroes *o and sets the defaults. */
void kgp_plan_options_init(kgp_plan_options *o);

/** Plans a study path from the known concepts to the goals.
 * Errors: KGP_EUSAGE (no goal, index out of range, bad option or date),
 * KGP_ECONFLICT (a goal already known, unless known_goals_ok, or
 * unreachable: on/behind a
 * prerequisite cycle, or a requirement group with too few learnable
 * members — the message names the blocking concept), KGP_ENOMEM.
 * Thread-safe on one planner. O(P log P) for a plan of P concepts. */
kgp_status kgp_plan_make(kgp_planner *pl, const uint32_t *goals, size_t ngoals,
                         const uint32_t *known, size_t nknown,
                         const kgp_plan_options *opt, kgp_plan **out);
void        kgp_plan_free(kgp_plan *p);
const char *kgp_plan_errmsg(const kgp_plan *p);

typedef struct kgp_plan_step {
    uint32_t concept;
    const char *key, *title;
    int review;                 /**< 1: a review of a known concept; 0: learn */
    unsigned minutes;
    int minutes_default;        /**< 1: the concept had no estimate */
    char day[16];               /**< first study day "YYYY-MM-DD", "" without calendar */
    unsigned parts;             /**< days it is split over (1 without calendar) */
    int goal, recommended;
    uint32_t via;               /**< the concept it is needed for (UINT32_MAX for goals) */
    const char *reason;         /**< that edge's reason, or NULL */
    int spaced;                 /**< 1: a spaced review (review is 1 too) */
    const char *note;           /**< why a review is there, or NULL */
    int course_order;           /**< 1: there only because of authored course
                                     order (follow_course_order) */
} kgp_plan_step;

typedef struct kgp_plan_summary {
    size_t steps;
    uint64_t total_minutes;     /**< expected minutes */
    uint64_t pessimistic_minutes;   /**< every review fails (0: no review_worst) */
    size_t goals, dropped_goals, skipped_known;
    int exact;                  /**< k-of-n choices proven least-time */
    int calendar;               /**< 1 when days were packed */
    char start[16], end[16];    /**< first and last study day */
    unsigned study_days;
    int has_deadline, fits;
    int overrun_days;
    uint64_t overrun_minutes;
    size_t reviews;             /**< reviews of known concepts before use */
    size_t spaced;              /**< spaced reviews */
    size_t mastered_goals;      /**< goals already known (known_goals_ok) */
} kgp_plan_summary;

void       kgp_plan_summary_get(const kgp_plan *p, kgp_plan_summary *out);
/** Step i (0-based). Errors: KGP_EUSAGE when out of range. */
kgp_status kgp_plan_step_get(const kgp_plan *p, size_t i, kgp_plan_step *out);
/** Goal i left out by the budget and the minutes its plan would need. */
kgp_status kgp_plan_dropped_get(const kgp_plan *p, size_t i, uint32_t *concept,
                                uint64_t *minutes);
/** Goal i of those already mastered (known_goals_ok). Errors: KGP_EUSAGE. */
kgp_status kgp_plan_mastered_get(const kgp_plan *p, size_t i, uint32_t *concept);
/** Writes the plan as "text", "json" (schema kgpath_plan 1, see README),
 * "dot" or "html" (self-contained page). Errors: KGP_EUSAGE (format),
 * KGP_EIO, KGP_ENOMEM. */
kgp_status kgp_plan_write(const kgp_plan *p, const char *format, FILE *out);

/** The outer fringe: concepts not known whose requirements are all met by
 * known ones, ranked (README); with goals, only those the goals' plan needs.
 * limit 0: all. Errors as kgp_plan_make. */
kgp_status kgp_next_make(kgp_planner *pl, const uint32_t *goals, size_t ngoals,
                         const uint32_t *known, size_t nknown, unsigned limit,
                         kgp_next **out);
/** As kgp_next_make, with plan options: only follow_course_order is read
 * (opt NULL: none). */
kgp_status kgp_next_make_opts(kgp_planner *pl, const uint32_t *goals, size_t ngoals,
                              const uint32_t *known, size_t nknown, unsigned limit,
                              const kgp_plan_options *opt, kgp_next **out);
void        kgp_next_free(kgp_next *x);
const char *kgp_next_errmsg(const kgp_next *x);
/** Number of ranked items (after the limit) and the fringe size before it. */
size_t      kgp_next_count(const kgp_next *x, size_t *total);
/** Item i: its concept and how many goals it serves / concepts it unlocks. */
kgp_status  kgp_next_get(const kgp_next *x, size_t i, uint32_t *concept,
                         unsigned *goals_served, uint64_t *unlocks);
/** Adds the due reviews to x: the known concepts (in the order given) for
 * which the hook, judged on `day` (KGP_NO_DAY: the state's time), asks for
 * a review; written as "reviews" (JSON) and "Due reviews" (text).
 * Errors: KGP_EUSAGE (bad index), KGP_ENOMEM. */
kgp_status  kgp_next_add_reviews(kgp_next *x, const uint32_t *known, size_t nknown,
                                 kgp_review_at_fn review, void *ud, int32_t day);
/** Number of due reviews added, and review i. */
size_t      kgp_next_review_count(const kgp_next *x);
kgp_status  kgp_next_review_get(const kgp_next *x, size_t i, uint32_t *concept,
                                unsigned *minutes, const char **why);
/** "text" or "json" (schema kgpath_next 1). */
kgp_status  kgp_next_write(const kgp_next *x, const char *format, FILE *out);

/** Curriculum report: cycles, redundant edges, dangling references, orphans,
 * unreachable concepts, structural metrics, bottlenecks.
 * Errors: KGP_ENOMEM, KGP_EINTERNAL. O(V·(V+E)) for the metrics. */
kgp_status kgp_check_make(kgp_planner *pl, kgp_check **out);
void        kgp_check_free(kgp_check *c);
const char *kgp_check_errmsg(const kgp_check *c);
typedef struct kgp_check_summary {
    size_t cycles, redundant_edges, dangling, orphans, unreachable;
} kgp_check_summary;
void        kgp_check_summary_get(const kgp_check *c, kgp_check_summary *out);
/** "text" or "json" (schema kgpath_check 1). */
kgp_status  kgp_check_write(const kgp_check *c, const char *format, FILE *out);

#ifdef __cplusplus
}
#endif
#endif /* KGPATH_PLAN_H */
