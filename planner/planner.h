/* The planner: study paths, "what next" and curriculum checks over a read
 * snapshot (graph/snapshot.h). Never touches LMDB.
 *
 * Three layers of state, so that whole-graph work happens once per snapshot
 * and each plan costs time proportional to the plan, not the graph:
 *
 *   kgn_index      once per snapshot: topological order, which concepts can
 *                  be learned at all (not on/behind a cycle, every group
 *                  satisfiable). Immutable; share it between threads.
 *   kgn_workspace  per thread: O(n) stamp arrays allocated once and reused
 *                  by every call (generation counters, never cleared).
 *                  One workspace must not be used by two threads at once.
 *   kgn_plan       per call: the result, in its own arena.
 *
 * Statuses are kgp_status values (src/kgpath.h); every failing call fills a
 * kgn_error with a message naming the concepts involved ("course:id").
 *
 * Learner state hook: the caller passes the known set (what the learner has
 * mastered) and optionally a review callback (kgn_options.review) that says
 * which known concepts must be reviewed before they are used; the planner
 * inserts "review" steps for those. The planner itself keeps no learner state.
 */
#ifndef KGN_PLANNER_H
#define KGN_PLANNER_H

#include <stddef.h>
#include <stdint.h>

#include "kgpath_base.h"   /* kgp_status */
#include "base/alloc.h"
#include "base/buf.h"
#include "graph/snapshot.h"

/* Minutes a concept counts when its snapshot minutes are unknown (< 0). */
#define KGN_DEFAULT_MINUTES 30
/* Work limit of the exact k-of-n search, in concepts added to trial plans
 * (see kgn_options.exact_limit and the README). */
#define KGN_EXACT_LIMIT 200000u
/* "No day": a step without a calendar. */
#define KGN_NO_DAY INT32_MIN

typedef struct kgn_error {
    kgp_status status;
    char msg[1024];
} kgn_error;

/* Renderers write into a kg_buf (base/buf.h). Appends s as a DOT
 * double-quoted string body (quotes, backslashes, newlines). */
void kgn_put_dot(kg_buf *b, const char *s);

/* ---- per-snapshot index ------------------------------------------------- */

typedef struct kgn_index {
    const kgg_snap *snap;
    uint32_t *order;        /* [norder] concepts in topological order (acyclic part) */
    uint32_t norder;
    uint32_t *rank;         /* [n] position in order, KGG_NONE on/behind a cycle */
    uint8_t *feasible;      /* [n] 1: learnable from nothing known */
    uint32_t *roots;        /* concepts without requirement groups */
    uint32_t nroots;
    const uint8_t *order_grp;   /* [ngroups] 1: a group added for authored course
                                   order (kgn_ordered); NULL: none. Set by the
                                   caller before the index is shared. */
} kgn_index;

/* Builds the index. Reads s->topo_rank when present, else sorts with igraph.
 * s must outlive the index. Errors: KGP_ENOMEM, KGP_EINTERNAL (igraph).
 * O(V + E) time and memory. */
kgp_status kgn_index_new(const kgg_snap *s, kgn_index **out, kgn_error *err);
void       kgn_index_free(kgn_index *ix);

/* Installs kgpath's igraph error and warning handlers (silent; errors become
 * statuses) once per process. Called by every planner entry that uses igraph. */
void kgn_igraph_init(void);

/* ---- authored course order (planner/course_order.c) ---------------------- */

/* A view of a snapshot in which, within each course c with on[c] set (on
 * NULL: every course), every concept also requires the concept before it in
 * the course's authored sequence (made consistent with the course's own
 * requirements: containers after their parts), as its last group, k = 1 of
 * 1, reason KGN_ORDER_REASON. Plan on it with an index built over
 * kgn_ordered_snap() whose order_grp is kgn_ordered_groups(). s must outlive
 * it. Errors: KGP_ENOMEM. O(V log V + E) time, O(V + E) memory. */
typedef struct kgn_ordered kgn_ordered;
extern const char *const KGN_ORDER_REASON;
kgp_status      kgn_ordered_new(const kgg_snap *s, const uint8_t *on, kgn_ordered **out, kgn_error *err);
const kgg_snap *kgn_ordered_snap(const kgn_ordered *o);
const uint8_t  *kgn_ordered_groups(const kgn_ordered *o);
void            kgn_ordered_free(kgn_ordered *o);
/* kgn_ordered_new then kgn_index_new over it, with order_grp set; free with
 * kgn_index_free then kgn_ordered_free. Errors as both. */
kgp_status      kgn_ordered_index(const kgg_snap *s, const uint8_t *on, kgn_ordered **ord,
                                  kgn_index **ix, kgn_error *err);
/* The index plans use by default: over s itself, or (*ord set) over the
 * authored-order view of the courses whose order binds (s->course_order,
 * import --course-order required). Errors as kgn_ordered_index. */
kgp_status      kgn_default_index(const kgg_snap *s, kgn_ordered **ord, kgn_index **ix, kgn_error *err);

/* ---- workspace ---------------------------------------------------------- */

typedef struct kgn_workspace kgn_workspace;

/* O(n) memory, allocated once. NULL when out of memory. */
kgn_workspace *kgn_workspace_new(const kgn_index *ix);
void           kgn_workspace_free(kgn_workspace *ws);
const kgn_index *kgn_workspace_index(const kgn_workspace *ws);

/* ---- plans -------------------------------------------------------------- */

/* Review hook: called once per known concept that a planned step requires
 * (directly, as a chosen member of one of its groups). Return 1 to insert a
 * review step before its first use, setting *minutes (review length) and
 * optionally *why (e.g. "retrievability 0.62 on 2026-12-01"; the planner
 * copies it into the plan, so it need only last until the hook is called
 * again); return 0 otherwise. */
typedef int (*kgn_review_fn)(void *ud, uint32_t concept, uint32_t *minutes,
                             const char **why);

/* Dated review hook: as kgn_review_fn, judged on `day` (days since
 * 1970-01-01, KGN_NO_DAY: the state's own time), the day the step that
 * needs the concept is scheduled. Preferred over review when both are set.
 * With a calendar it is asked at each use of a known concept until one
 * review is placed (R only falls with time, so a later use may need one). */
typedef int (*kgn_review_at_fn)(void *ud, uint32_t concept, int32_t day,
                                uint32_t *minutes, const char **why);
/* On entry to a dated hook *minutes holds the minutes at stake: those of
 * the lesson that needs the concept (0: no lesson, e.g. a goal already
 * known, or a list of due reviews), so a hook can weigh a review's cost
 * against the lesson it protects. */

/* Pessimistic length of a review of the concept (its recall fails and it
 * is relearned): counted into kgn_plan.pessimistic_minutes. */
typedef uint32_t (*kgn_review_worst_fn)(void *ud, uint32_t concept);

/* In-plan review hook: as kgn_review_at_fn (stake on entry in *minutes),
 * for a concept last studied in the plan on `studied` (a lesson or review
 * assumed done, "good"). NULL: such a concept is reviewed from the first
 * due day the spaced hook gives. */
typedef int (*kgn_review_after_fn)(void *ud, uint32_t concept, int32_t studied, int32_t day,
                                   uint32_t *minutes, const char **why);

/* Lesson note hook: why the lesson of `concept` is in the plan when the
 * learner has met it before (e.g. taught again rather than checked), or
 * NULL. The planner copies the text. */
typedef const char *(*kgn_learn_note_fn)(void *ud, uint32_t concept);

/* Spaced-review hook: the concept was studied (learned or reviewed) on
 * `day`; fills days[0..k) (ascending, > day) with the days its next
 * reviews fall due (k <= max; each assumed done on time), r[0..k) with the
 * retrievability predicted on each of those days, *minutes with a review's
 * length, and returns k. Only used with a calendar. */
typedef size_t (*kgn_spaced_fn)(void *ud, uint32_t concept, int32_t day,
                                int32_t *days, double *r, size_t max,
                                uint32_t *minutes);

typedef struct kgn_options {
    int include_recommended;    /* add recommended concepts (and their needs),
                                   transitively: recommendations of what was
                                   added are followed too */
    double budget_minutes;      /* > 0: plan only the goals that fit, in order */
    uint32_t minutes_per_day;   /* > 0: pack steps into study days */
    uint32_t days_per_week;     /* 1..7 study days per week, Monday first (default 7) */
    int32_t start_day;          /* first day (days since 1970-01-01), needs minutes_per_day */
    int32_t deadline_day;       /* KGN_NO_DAY: none */
    uint32_t default_minutes;   /* 0: KGN_DEFAULT_MINUTES */
    uint32_t exact_limit;       /* 0: KGN_EXACT_LIMIT */
    kgn_review_fn review;       /* NULL: no review steps */
    void *review_ud;
    kgn_review_at_fn review_at; /* NULL: use review (judged without a day) */
    void *review_at_ud;
    kgn_spaced_fn spaced;       /* NULL: no spaced reviews (needs a calendar) */
    void *spaced_ud;
    kgn_review_worst_fn review_worst;   /* NULL: no pessimistic figure */
    void *review_worst_ud;
    kgn_review_after_fn review_after;   /* NULL: in-plan reviews when due */
    void *review_after_ud;
    kgn_learn_note_fn learn_note;       /* NULL: lessons carry no note */
    void *learn_note_ud;
    uint32_t spaced_days;       /* spaced reviews until this many days after
                                   the last lesson (0: until the last lesson) */
    int known_goals_ok;         /* 1: a known goal is reported as mastered
                                   (reviewed when the hook asks), not an error */
    int cheapest_goals_first;   /* 1: order goals by the minutes of their own
                                   selected requirements, ascending (stable) */
} kgn_options;

void kgn_options_init(kgn_options *o);

/* KGN_REVIEW: a known concept refreshed before a step needs it (via) or a
 * mastered goal (via KGG_NONE); KGN_SPACED: a spaced review of a concept
 * studied earlier in the plan (or before it), on its due day. */
typedef enum kgn_step_kind { KGN_LEARN = 0, KGN_REVIEW = 1, KGN_SPACED = 2 } kgn_step_kind;

/* A part of a step studied on one day (a step longer than the rest of a day
 * is split over several days). */
typedef struct kgn_session {
    int32_t day;
    uint32_t minutes;
} kgn_session;

typedef struct kgn_step {
    uint32_t concept;
    kgn_step_kind kind;
    uint32_t minutes;           /* whole minutes (rounded snapshot minutes) */
    int minutes_default;        /* 1: the concept's minutes were unknown */
    int is_goal;
    int recommended;            /* here through a recommended edge */
    uint32_t via;               /* the concept this one is needed for, next on
                                   the chain to a goal; KGG_NONE for goals */
    const char *via_reason;     /* reason text of that edge, or NULL */
    uint32_t via_step;          /* index of via's step, KGG_NONE for goals */
    uint32_t *goals;            /* goals this step serves (dense ids) */
    uint32_t ngoals;
    const char *note;           /* review hook's why, or NULL */
    int course_order;           /* 1: in the plan only because of authored course
                                   order (an index with order_grp): no
                                   prerequisite or recommendation of the goals
                                   needs it */
    kgn_session *sessions;      /* calendar parts (NULL without calendar) */
    uint32_t nsessions;
    int32_t day;                /* first day, KGN_NO_DAY without calendar */
} kgn_step;

typedef struct kgn_plan {
    kg_arena *arena;
    const kgg_snap *snap;
    uint32_t *goals;  uint32_t ngoals;        /* goals planned */
    uint32_t *dropped; uint32_t ndropped;     /* goals left out (budget) */
    uint64_t *dropped_minutes;                /* plan total each would need */
    uint32_t *known;  uint32_t nknown;        /* as given, de-duplicated */
    uint32_t *skipped; uint32_t nskipped;     /* known concepts the plan relies on */
    uint32_t *mastered; uint32_t nmastered;   /* goals already known (known_goals_ok) */
    uint32_t nreviews, nspaced;               /* review / spaced steps */
    kgn_step *steps;  uint32_t nsteps;
    uint64_t total_minutes;     /* expected minutes (the steps' minutes) */
    uint64_t pessimistic_minutes;   /* every review fails (review_worst);
                                       has_pessimistic 0: not asked, or
                                       no review step */
    int has_pessimistic;
    int exact;                  /* k-of-n choices proven optimal */
    uint32_t nchoices;          /* k-of-n groups decided */
    double budget_minutes;      /* as requested (<= 0 none) */
    /* Calendar (calendar == 0: none). */
    int calendar;
    uint32_t minutes_per_day, days_per_week;
    int32_t start_day, end_day; /* end_day: last study day used */
    uint32_t study_days;        /* days with study time */
    int32_t deadline_day;       /* KGN_NO_DAY: none */
    int fits;                   /* 1: ends on or before the deadline */
    int32_t overrun_days;       /* calendar days past the deadline */
    uint64_t overrun_minutes;   /* minutes scheduled after the deadline */
} kgn_plan;

/* Plans a study path from the known set to the goals (dense ids).
 * Goals are de-duplicated and kept in the given order. Errors (err filled):
 *   KGP_EUSAGE     no goals, an id out of range, bad options
 *   KGP_ECONFLICT  a goal already known; a goal that cannot be reached
 *                  (on/behind a prerequisite cycle, or a requirement group
 *                  with fewer learnable members than k) — names the blocker;
 *                  with a budget, no goal fits
 *   KGP_ENOMEM
 * Time: O(P log P) for a plan of P concepts (plus the k-of-n search, at most
 * exact_limit additions); O(n) only for the first call on a workspace. */
kgp_status kgn_plan_make(kgn_workspace *ws, const uint32_t *goals, size_t ngoals,
                         const uint32_t *known, size_t nknown,
                         const kgn_options *opt, kgn_plan **out, kgn_error *err);
void kgn_plan_free(kgn_plan *p);

typedef enum kgn_format {
    KGN_TEXT = 0, KGN_JSON = 1, KGN_DOT = 2, KGN_HTML = 3
} kgn_format;

/* Renders a plan. JSON schema "kgpath_plan": 1 (README). Errors: KGP_ENOMEM.
 * O(P log P + output). */
kgp_status kgn_plan_render(const kgn_plan *p, kgn_format fmt, kg_buf *out);
/* The JSON object's members without the braces ("kgpath_plan":1,…), for
 * JSON-lines writers such as the batch engine. Appends to out. */
void kgn_plan_json_members(const kgn_plan *p, kg_buf *out);
/* Appends s as a JSON string literal (quotes included; NULL gives null). */
void kg_buf_json(kg_buf *b, const char *s);

/* ---- dates -------------------------------------------------------------- */

/* The last day a plan's calendar may use, 9999-12-31 (four-digit years):
 * kgn_plan_make fails with KGP_ECONFLICT when lessons would run past it,
 * and spaced reviews past it are dropped. */
#define KGN_LAST_DAY 2932896

/* "YYYY-MM-DD" → days since 1970-01-01. Returns 0, or -1 when malformed or
 * not a real date. */
int  kgn_date_parse(const char *s, int32_t *day);
/* days since 1970-01-01 → "YYYY-MM-DD" (buf of at least 11 bytes). */
void kgn_date_format(int32_t day, char buf[16]);
/* ISO weekday of a day: 1 Monday .. 7 Sunday. */
int  kgn_date_weekday(int32_t day);

/* ---- next --------------------------------------------------------------- */

typedef struct kgn_next_item {
    uint32_t concept;
    uint32_t goals;             /* goals whose plan includes it (with --goal) */
    uint64_t unlocks;           /* concepts that depend on it transitively
                                   (within the goals' plan when goals given) */
    uint32_t ready_after;       /* dependents that become ready right after it */
    uint32_t minutes;
} kgn_next_item;

typedef struct kgn_next_review {
    uint32_t concept;
    uint32_t minutes;
    const char *why;            /* the hook's reason (lives as long as the hook's owner) */
} kgn_next_review;

typedef struct kgn_next {
    kg_arena *arena;
    const kgg_snap *snap;
    uint32_t *goals; uint32_t ngoals;
    kgn_next_item *items; uint32_t nitems;   /* ranked, best first */
    uint32_t total;                          /* fringe size before the limit */
    kgn_next_review *reviews; uint32_t nreviews; /* due reviews, known order */
    int reviews_asked;                       /* 1: kgn_next_reviews was called */
} kgn_next;

/* The outer fringe: concepts not known whose every requirement group is met
 * by known concepts, ranked by goals served, then transitive dependents
 * unlocked, then dependents made ready, then key. With goals, only concepts
 * of the goals' plan. limit 0: all. Errors as kgn_plan_make (goals), ENOMEM.
 * Time: O(F * R) for F fringe concepts reaching R dependents. */
kgp_status kgn_next_make(kgn_workspace *ws, const uint32_t *goals, size_t ngoals,
                         const uint32_t *known, size_t nknown, uint32_t limit,
                         kgn_next **out, kgn_error *err);
void kgn_next_free(kgn_next *x);
/* Adds the due reviews: each known concept (in the order given, duplicates
 * once) for which the hook, judged on `day`, asks for a review. Rendered as
 * "reviews" (JSON, present once this was called) and "Due reviews" (text).
 * Errors: KGP_EUSAGE (id out of range), KGP_ENOMEM. O(nknown² worst case
 * for duplicates; known sets are small) plus one hook call each. */
kgp_status kgn_next_reviews(kgn_next *x, const uint32_t *known, size_t nknown,
                            kgn_review_at_fn fn, void *ud, int32_t day, kgn_error *err);
kgp_status kgn_next_render(const kgn_next *x, kgn_format fmt, kg_buf *out);

/* ---- check -------------------------------------------------------------- */

typedef struct kgn_metric {
    uint32_t blocking;          /* concepts depending on it transitively */
    uint32_t ancestors;         /* concepts it depends on transitively */
    uint32_t delay;             /* concepts on the longest requirement chain through it */
    uint32_t complexity;        /* blocking + delay */
    double betweenness;         /* igraph betweenness (directed) */
} kgn_metric;

typedef struct kgn_edge { uint32_t from, to; } kgn_edge;   /* prerequisite → concept */

typedef struct kgn_check {
    kg_arena *arena;
    const kgg_snap *snap;
    /* cycles[c] lists one cycle's concepts, cycle_off CSR; one per
     * strongly connected component with more than one concept (or a self loop). */
    uint32_t *cycle_off, *cycles; uint32_t ncycles;
    kgn_edge *redundant; uint32_t nredundant;   /* implied by a longer path */
    uint32_t *orphans; uint32_t norphans;
    uint32_t *unreachable; uint32_t nunreachable;  /* cannot be learned from nothing */
    uint32_t nentry;                              /* concepts without requirements */
    kgn_metric *metrics;                          /* [n], NULL when not computed */
    uint32_t *bottlenecks; uint32_t nbottlenecks; /* best first (ancestors x blocking,
                                                     then betweenness) */
    int metrics_acyclic;                          /* 0: graph has cycles; delay over acyclic part */
} kgn_check;

/* Curriculum report (README "kgpath check"). Uses igraph for components and
 * reachability. Errors: KGP_ENOMEM, KGP_EINTERNAL. Time: O(V·(V+E)) for the
 * per-concept reachability (meant for curricula, not the 1M benchmark). */
kgp_status kgn_check_make(const kgn_index *ix, kgn_check **out, kgn_error *err);
void kgn_check_free(kgn_check *c);
kgp_status kgn_check_render(const kgn_check *c, kgn_format fmt, kg_buf *out);

/* Sets err (status + printf message) and returns status. */
kgp_status kgn_fail(kgn_error *err, kgp_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
