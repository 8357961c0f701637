/** @file kgpath_learner.h
 * @brief Learners: behaviour events in, mastery (BKT) and memory (FSRS-6)
 * out, fitted parameters, and the hooks that let plans use them
 * (implemented in src/api_learner.c and src/api_fit.c over planner/learner_* and
 * graph/learner_store). Included by kgpath.h.
 *
 * Events are facts stored once each (the same event twice counts once);
 * a learner's state is computed by replaying the learner's events in time
 * order, so events may arrive in any order. Concepts are named in events by
 * "course:concept" key; events for concepts not (yet) in the graph are kept
 * and count once the concept is imported.
 *
 * Model, event mapping, thresholds and defaults: README ("Learners").
 */
#ifndef KGPATH_LEARNER_H
#define KGPATH_LEARNER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Parses "YYYY-MM-DD" (midnight UTC) or an ISO 8601 timestamp with a zone
 * into unix seconds. Errors: KGP_EUSAGE. */
kgp_status kgp_parse_time(const char *s, int64_t *out);
/** Formats unix seconds as "YYYY-MM-DDThh:mm:ssZ" (buf of 21+ bytes). */
void kgp_format_time(int64_t t, char *buf, size_t cap);

/* ---- observe ------------------------------------------------------------- */

/** kgp_observe() flags. */
#define KGP_OBSERVE_STRICT  0x1  /**< any malformed line: write nothing */
#define KGP_OBSERVE_DRY_RUN 0x2  /**< parse and check only */

/** Outcome of kgp_observe (caller-owned, kgp_observe_report_free). */
typedef struct kgp_observe_report {
    size_t lines;           /**< non-blank lines (or xAPI statements) read */
    size_t events;          /**< well-formed events */
    size_t added;           /**< new events stored */
    size_t duplicates;      /**< events already stored (or repeated in the input) */
    size_t nerrors;         /**< malformed lines */
    const char *const *errors; /**< the first 100: "name:line:column: message" */
    size_t nerrors_kept;
    size_t learners;        /**< distinct learners in the input */
    int committed;          /**< 1 when the events were written */
    size_t future;          /**< events dated more than a day after now (stored;
                                 plans ignore an event until its date) */
    int64_t future_max;     /**< the latest of them (unix seconds) */
} kgp_observe_report;

/** Reads learner events (kgpath JSON lines or xAPI statements, README) from
 * buf (len bytes; name is used in messages, e.g. the file name or "-") and
 * appends the well-formed ones to the database in one transaction.
 * Malformed lines are listed in the report and skipped; with
 * KGP_OBSERVE_STRICT any malformed line writes nothing.
 * Errors: KGP_EINPUT (strict and a malformed line, or no line at all was
 * well formed while some were not), KGP_EUSAGE (read-only database),
 * KGP_EDB, KGP_ENOMEM. The report is set even on failure (NULL only when
 * memory ran out). O(len + n log N). */
kgp_status kgp_observe(kgp_db *db, const char *name, const char *buf,
                       size_t len, unsigned flags, kgp_observe_report **out);
/** As kgp_observe, reading a whole stream first (a file or stdin).
 * Errors also: KGP_EIO. */
kgp_status kgp_observe_file(kgp_db *db, const char *name, FILE *in,
                            unsigned flags, kgp_observe_report **out);
void kgp_observe_report_free(kgp_observe_report *r);

/** xAPI statement ids (for an LRS-like intake such as `kgpath serve`): one
 * entry per statement, its id (a UUID as 16 bytes) and a hash of its content
 * (the caller's, over what the xAPI specification compares). */
typedef struct kgp_statement_id {
    uint8_t id[16];
    uint64_t hash;
    int outcome;                /**< out: 0 new, 1 already stored with this
                                     content, 2 stored with other content */
} kgp_statement_id;
/** Looks the ids up and, with record and no conflict, remembers the new ones
 * (one transaction). Call with record 0 before storing the statements'
 * events, and with record 1 after, under one writer.
 * Errors: KGP_ECONFLICT (an id is stored with other content; nothing
 * written), KGP_EUSAGE (read-only database), KGP_EDB. O(n log N). */
kgp_status kgp_statement_ids(kgp_db *db, kgp_statement_id *ids, size_t n, int record);

/** Erases a learner's data: every stored event and the learner's summary,
 * in one transaction (the right to erasure; fitted per-concept parameters
 * from `kgpath fit` are aggregates and stay). *removed (may be NULL) counts
 * the events. Errors: KGP_ENOTFOUND (nothing stored for the learner),
 * KGP_EUSAGE (read-only database, empty id), KGP_EDB. O(its events). */
kgp_status kgp_learner_forget(kgp_db *db, const char *id, uint64_t *removed);

/* ---- learner state -------------------------------------------------------- */

/** Status of a concept for a learner. */
typedef enum kgp_mastery {
    KGP_NOT_STARTED = 0,    /**< no events */
    KGP_LEARNING    = 1,    /**< P(learned) below the mastery threshold */
    KGP_MASTERED    = 2,    /**< mastered and remembered (R >= target) */
    KGP_FADING      = 3     /**< mastered, but R has fallen below the target */
} kgp_mastery;

/** Static name of a status: "not started", "learning", "mastered", "fading". */
const char *kgp_mastery_name(int status);

typedef struct kgp_learner_concept {
    const char *key;            /**< "course:concept" as observed */
    uint32_t index;             /**< snapshot index, KGP_NONE when not in the graph */
    const char *title;          /**< NULL when not in the graph */
    int status;                 /**< kgp_mastery */
    double p_learned;           /**< BKT P(L) */
    double retrievability;      /**< FSRS R at the state's time (0: no memory) */
    double stability;           /**< FSRS S in days (0: no memory) */
    double difficulty;          /**< FSRS D, 1..10 (0: no memory) */
    int64_t last;               /**< unix seconds of the last event */
    int64_t due;                /**< when R reaches the target (INT64_MAX: never reviewed) */
    uint32_t events, reads, quizzes, reviews, correct, lapses;
    double dwell_seconds;       /**< known reading time in all */
    int fitted;                 /**< 1: BKT parameters from `kgpath fit` */
    double p_blamed;            /**< P(L) given the failed lessons that need it
                                     since its last study (the joint blame of
                                     a failed lesson, kgp_learner_review_at);
                                     p_learned when none */
} kgp_learner_concept;

typedef struct kgp_learner_options {
    int64_t at;                 /**< time of the state, unix seconds (0: now) */
    double retention;           /**< desired retention r (0: 0.9) */
    double mastery;             /**< BKT mastery threshold (0: 0.95) */
    double check;               /**< a concept below mastery with P(L) >= check
                                     (and quiz or review evidence) counts as known
                                     for planning, with a short review to check it
                                     before use (0: 0.5; >= mastery: off) */
    unsigned flags;             /**< KGP_LEARNER_NEW_OK */
} kgp_learner_options;

/** kgp_learner_options.flags: a learner without events is a new learner
 * (no history, every concept at its prior; kgp_learner.is_new set) rather
 * than KGP_ENOTFOUND. */
#define KGP_LEARNER_NEW_OK 1u

/** A learner's state at one time (caller-owned, kgp_learner_free). */
typedef struct kgp_learner {
    const char *id;
    int64_t at;
    double retention, mastery, check;
    uint64_t nevents;           /**< events stored for the learner */
    int64_t first, last;        /**< times of the first and last event */
    kgp_learner_concept *concepts; /**< by key */
    size_t nconcepts;
    size_t count[4];            /**< concepts per kgp_mastery status */
    int is_new;                 /**< no event up to `at` (KGP_LEARNER_NEW_OK) */
    uint64_t nlater;            /**< stored events dated after `at`: ignored (the
                                     state is the one at `at`: time travel) */
    int64_t later_max;          /**< the latest of them */
    void *impl;
} kgp_learner;

/** Replays the learner's events up to opt->at (time order) into
 * per-concept state; events dated later are ignored and counted in
 * nlater (nevents, first and last describe the events used). With a
 * snapshot (may be NULL), concepts are matched to the graph, their minutes
 * weight readings, and fitted parameters (kgp_fit) are used.
 * Errors: KGP_ENOTFOUND (no events for the learner up to `at`, unless
 * KGP_LEARNER_NEW_OK), KGP_EUSAGE (bad
 * option), KGP_EDB, KGP_ENOMEM. O(events of the learner). */
kgp_status kgp_learner_get(kgp_db *db, kgp_snap *snap, const char *id,
                           const kgp_learner_options *opt, kgp_learner **out);
void kgp_learner_free(kgp_learner *l);
/** The learner's concept by snapshot index, or NULL. O(log n). */
const kgp_learner_concept *kgp_learner_find(const kgp_learner *l, uint32_t index);

/** Writes the state as "text" (a table by status) or "json" (schema
 * kgpath_learner 1, README). Errors: KGP_EUSAGE, KGP_EIO. */
kgp_status kgp_learner_write(const kgp_learner *l, const char *format, FILE *out);

/** Learner ids with their event counts, in id order; fn returns nonzero to
 * stop. Errors: KGP_EDB. O(learners). */
typedef int (*kgp_learner_list_fn)(void *ud, const char *id, uint64_t nevents,
                                   int64_t first, int64_t last);
kgp_status kgp_learners_list(kgp_db *db, kgp_learner_list_fn fn, void *ud);

/* ---- planning with a learner ------------------------------------------------ */

/** Concepts (snapshot indexes, ascending) that count as known for planning:
 * mastered, fading, and learning ones with P(L) >= check whose last quiz or
 * review was right (a concept whose last attempt failed is taught again, a
 * learn step with its full time, never "reviewed"; a failed review drops
 * P(L) and the next plan teaches it again). A known concept of uncertain
 * mastery (P(learned) p < 1: learning, or doubted by a failed lesson that
 * needs it) with recall r is left out — taught again — where checking it
 * is expected to take longer than its lesson of M minutes:
 * p·r·ok + p·(1 - r)·fail + (1 - p)·(fail + M) > M (a failed check of a
 * concept never learned teaches nothing: the lesson follows it);
 * kgp_learner_learn_note says so in the lesson. *known is kg-allocated: free with
 * kgp_learner_known_free. Errors: KGP_ENOMEM. O(concepts). */
kgp_status kgp_learner_known(const kgp_learner *l, uint32_t **known, size_t *nknown);
void       kgp_learner_known_free(uint32_t *known);

/** A kgp_learn_note_fn for kgp_plan_options.learn_note with ud = the
 * learner: the reason a concept the learner has met is taught again
 * rather than checked (see kgp_learner_known), e.g. "mastery uncertain
 * (P(learned) 0.56): a check would take 46 min expected (a failed one
 * teaches nothing: the lesson follows), the lesson 30"; NULL for other
 * concepts. Per-thread
 * buffer (the planner copies it). Read-only on the learner. O(log n). */
const char *kgp_learner_learn_note(void *ud, uint32_t concept);

/** Review minutes (all hooks below): a recalled review takes ok minutes, a
 * failed one fail minutes (it is relearned), both fitted by `kgpath fit`
 * from review dwell (kgp_fit_concept.review_ok/review_fail); before any fit
 * ok = max(5, 15% of the lesson's minutes) and fail = ok + half the
 * lesson. A review step's minutes are the expected r·ok + (1-r)·fail for
 * its predicted recall r (rounded up). */

/** A kgp_review_worst_fn for kgp_plan_options.review_worst with ud = the
 * learner: the failed review's minutes (pessimistic plan total). */
uint32_t kgp_learner_review_worst(void *ud, uint32_t concept);

/** A kgp_review_fn for kgp_plan_options.review with ud = the learner:
 * asks for a review when the concept's retrievability on the plan date
 * (kgp_learner_options.at) is below the target ("retrievability 0.71 on
 * 2026-12-03") or its mastery is uncertain ("mastery uncertain: P(learned)
 * 0.87"), for its expected minutes. The reason strings are
 * owned by the learner: keep the learner until the plan is freed.
 * Read-only: any number of plans may use one learner at once. */
int kgp_learner_review(void *ud, uint32_t concept, uint32_t *minutes, const char **why);

/** A kgp_review_at_fn for kgp_plan_options.review_at with ud = the learner:
 * judged on the day the step that needs the concept is scheduled. A known
 * concept (kgp_learner_known) with retrievability r on that day (midnight
 * UTC) needed by a lesson of L minutes (*minutes on entry) is reviewed only
 * when the review pays for itself: (1 - r)·L > r·ok, the expected loss of
 * the lesson when the concept is forgotten against the minutes a review
 * spends on a concept still recalled (a forgotten one is relearned either
 * way) — so never while recall is high ("retrievability 0.71 on
 * 2026-12-03: 17 min expected loss on the 60-min lesson > 4 min spent on a
 * recalled review"). Once `kgpath fit` has fitted the prerequisite
 * strength (kgp_fit_report.prereq_kappa, p0) the expected loss is
 * L·p0·(1 − e^(−kappa·(1 − r))) instead of (1 − r)·L; with uncertain
 * mastery (P(learned) p < 1; the review is a check) the mixture
 * L·p0·(p(1 − e^(−kappa(1 − r))) + (1 − p)(1 − e^(−kappa))), and without a
 * fitted strength (1 − p·r)·L, against p·r·ok + (1 − p)·fail: a failed
 * check of a concept never learned teaches nothing, so its minutes count
 * ("... > 12 min spent on a check (recalled, or failed where never
 * learned)"). p is P(learned) (1 once mastered), or
 * kgp_learner_concept.p_blamed when lower: a lesson that needs it failed
 * since its last study blames the lesson's
 * prerequisites jointly under the same model (each learned with its
 * P(learned), recalled as predicted at the failure, requirement groups
 * k of n), so one doubtful or faded prerequisite explains the failure
 * away from the others; O(Σ n_g²·k_g) per failed lesson over its groups
 * of n_g members needing k_g. A failed review of a concept
 * mastered before it is a lapse (kept known), unless it checked a
 * prerequisite doubted by a failed lesson. With no lesson at
 * stake (L = 0, a goal already known) the retention target decides. KGP_NO_DAY: as kgp_learner_review. The reason is in a
 * per-thread buffer that the planner copies. Read-only on the learner. */
int kgp_learner_review_at(void *ud, uint32_t concept, int32_t day, uint32_t *minutes,
                          const char **why);

/** A kgp_spaced_fn for kgp_plan_options.spaced with ud = the learner: the
 * concept's memory (FSRS-6, starting from the learner's card when there is
 * one) studied on `day` as "good", then the days its reviews fall due at the
 * learner's retention target, each done on time and "good"; the review
 * length is its expected minutes at the target recall. Read-only on the learner. */
/** A kgp_review_after_fn for kgp_plan_options.review_after with ud = the
 * learner: the same decision as kgp_learner_review_at for a concept
 * studied in the plan on `studied` (its card with that study added as
 * "good" at noon UTC). Read-only on the learner. */
int kgp_learner_review_after(void *ud, uint32_t concept, int32_t studied, int32_t day,
                             uint32_t *minutes, const char **why);

size_t kgp_learner_spaced(void *ud, uint32_t concept, int32_t day, int32_t *days,
                          double *r, size_t max, uint32_t *minutes);

/** A spaced review after a plan: concept, day and why. */
typedef struct kgp_review_item {
    uint32_t concept;
    char day[16];               /**< "YYYY-MM-DD" */
    unsigned minutes;
    double stability;           /**< predicted S (days) before this review */
    double retrievability;      /**< predicted R on that day (= the target) */
} kgp_review_item;

/** Spaced reviews for concepts learned on the given days (days since
 * 1970-01-01; a concept already in memory starts from its current state),
 * at FSRS intervals for the learner's retention target, each review
 * assumed "good", up to horizon_days after the last learn day.
 * *out is kg-allocated (free with kgp_learner_reviews_free).
 * Errors: KGP_EUSAGE (bad index), KGP_ENOMEM. O(n × reviews). */
kgp_status kgp_learner_reviews(const kgp_learner *l, kgp_snap *snap,
                               const uint32_t *concepts, const int32_t *learn_day,
                               size_t n, int32_t horizon_days,
                               kgp_review_item **out, size_t *nout);
void kgp_learner_reviews_free(kgp_review_item *r);

/* ---- fit -------------------------------------------------------------------- */

typedef struct kgp_fit_concept {
    const char *key;
    uint32_t index;             /**< KGP_NONE when not in the graph */
    int fitted;                 /**< 0: too few observations; defaults kept */
    double prior, learn, learn_read, guess, slip, forget;
    uint32_t learners;
    uint64_t ntrain, ntest;     /**< observations in the training / held-out learners */
    double ll_fit, ll_default;  /**< held-out log-likelihoods */
    double minutes;             /**< calibrated from dwell (median), < 0 none */
    uint32_t ndwell;            /**< learners behind it */
    double author_minutes;      /**< the graph's estimate, < 0 unknown */
    double review_ok, review_fail;  /**< review minutes when recalled / failed
                                         (from review dwell: the concept's
                                         median, else the population's ratio
                                         × its lesson minutes); < 0 none */
    uint32_t nreview_ok, nreview_fail;  /**< its reviews with a dwell */
} kgp_fit_concept;

typedef struct kgp_fit_report {
    uint64_t events;
    size_t learners;
    kgp_fit_concept *concepts;  size_t nconcepts;
    uint32_t nfitted, nminutes;
    uint32_t nreview_minutes;   /**< concepts with fitted review minutes */
    double review_ratio_ok, review_ratio_fail;  /**< median review dwell / lesson
                                         minutes, recalled / failed; < 0: fewer
                                         than 5 reviews with a dwell */
    uint32_t nreview_ok, nreview_fail;  /**< reviews behind the ratios */
    uint64_t ntrain, ntest;
    double ll_fit, ll_default;  /**< held-out totals (fitted vs defaults) */
    int committed;              /**< 1: stored for kgp_learner_get */
    /* FSRS-6 memory model, fitted to the graded reviews (kgpath_learner.h's
     * event-to-grade rules) of the learners not held out: */
    int fsrs_fitted;            /**< 1: enough samples (>= 64), weights stored */
    double fsrs_w[21];          /**< the fitted weights (defaults when not fitted) */
    uint64_t fsrs_train, fsrs_test;  /**< samples (reviews >= 1 day after the last) */
    double fsrs_logloss_fit, fsrs_logloss_default;  /**< held-out mean log loss */
    double fsrs_rmse_fit, fsrs_rmse_default;        /**< held-out RMSE(bins) */
    /* Prerequisite strength: P(lesson succeeds) = prereq_p0 ·
     * exp(−prereq_kappa · the recall shortfall of its prerequisites), fitted
     * on readings followed by a quiz within a day (>= 50 of them; else
     * prereq_kappa < 0 and nothing is stored). */
    double prereq_kappa, prereq_p0;
    double prereq_ll, prereq_ll0;   /**< log-likelihood; with kappa = 0 */
    size_t prereq_lessons;
    size_t fsrs_learners;       /**< learners with their own first-stability
                                     factor (KGP_FIT_PER_LEARNER) */
    /* Per-learner weights judged (KGP_FIT_PER_LEARNER) on the held-out
     * learners with 64+ samples: each fitted, shrunk towards the population,
     * on four in five of their cards and scored on the fifth, beside the
     * population's weights and the defaults on the same reviews. */
    size_t fsrs_pl_learners;    /**< held-out learners so judged (0: none) */
    uint64_t fsrs_pl_test;      /**< their held-out samples */
    double fsrs_pl_logloss_own, fsrs_pl_logloss_population, fsrs_pl_logloss_default;
    double fsrs_pl_rmse_own, fsrs_pl_rmse_population, fsrs_pl_rmse_default;
    /* Population BKT: one EM over every concept's sequences pooled; used
     * for concepts without their own fit (fewer than 20 observations), as
     * the start and prior mean of each concept's EM, and (guess, slip) as
     * the quiz noise of the prerequisite-strength fit. Stored when fitted
     * (>= 20 observations in all). */
    int bkt_pop_fitted;
    uint64_t bkt_pop_ntrain;
    double bkt_pop_prior, bkt_pop_learn, bkt_pop_learn_read, bkt_pop_guess, bkt_pop_slip;
    void *impl;
} kgp_fit_report;

/** kgp_fit flags */
#define KGP_FIT_DRY_RUN 1u          /**< fit and report, store nothing */
#define KGP_FIT_PER_LEARNER 2u      /**< also give each learner with at least
                                         64 samples a factor of their own on the
                                         first stabilities w0..w3 (the other
                                         weights the population's), fitted from
                                         and pulled towards the population's
                                         weights; judged on the held-out
                                         learners (fsrs_pl_*) */

/** Fits BKT parameters per concept from all learners' events (EM), with
 * one learner in five held out to compare the fitted parameters with the
 * defaults by log-likelihood, and calibrates minutes from reading dwell
 * (median over learners, at least 5 learners) and review minutes from
 * review dwell, recalled and failed apart (per concept the median of at
 * least 5 reviews, else the population's median ratio to the lesson's
 * minutes times the concept's). Fits the FSRS-6 weights of
 * the population (planner/learner_fsrs_fit.h: maximum likelihood of recall
 * outcomes given elapsed times, Adam, fsrs-rs bounds and L2 prior) on the
 * same split, reporting held-out log loss and RMSE(bins) beside the
 * defaults'; kgp_learner_get then uses them. dry_run: flags (KGP_FIT_*;
 * 1 = KGP_FIT_DRY_RUN as before). Unless a dry run, stores the
 * result (replacing the previous fit) and the number of events behind it
 * (kgp_fit_due), in one write transaction. It is kgp_fit_read,
 * kgp_fit_compute and (unless a dry run) kgp_fit_store(db, *out, 0).
 * Errors: KGP_ENOTFOUND (no events), KGP_EUSAGE (read-only and not
 * dry_run), KGP_EDB, KGP_EIO, KGP_ENOMEM; *out is NULL after a failed read
 * or computation, the computed report after a failed store.
 * O(N log N + EM iterations × N). */
kgp_status kgp_fit(kgp_db *db, kgp_snap *snap, int flags, kgp_fit_report **out);
void       kgp_fit_report_free(kgp_fit_report *r);

/* A fit in three steps, for a process that keeps serving while it fits
 * (`kgpath serve`): only the first reads the database and only the last
 * writes it; the computation between holds no LMDB transaction and no
 * snapshot, so other threads read and write meanwhile, and the map may
 * grow. kgp_fit is the three in a row. */

/** What a fit is computed from (opaque): every learner event and the graph. */
typedef struct kgp_fit_input kgp_fit_input;

/** Reads the events in one read transaction (a consistent view of them,
 * ended before it returns) into memory of the input's own. The graph (lesson
 * minutes, requirements) comes from snap when given — it must then stay
 * open until kgp_fit_compute returns, and annotates the report as in
 * kgp_fit — else from a snapshot the input opens and copies out of LMDB's
 * map (none when the database has no graph); while that snapshot is
 * being built (not after), a write of this process that must grow the map
 * fails with KGP_EDB, so a process that writes from other threads calls
 * this where no write runs (`kgpath serve`: under its read lock). flags: as kgp_fit
 * (KGP_FIT_PER_LEARNER is used; KGP_FIT_DRY_RUN means nothing here).
 * Errors: KGP_ENOTFOUND (no events), KGP_EDB, KGP_ENOMEM; *out NULL on
 * error. O(N log N). */
kgp_status kgp_fit_read(kgp_db *db, kgp_snap *snap, int flags, kgp_fit_input **out);
/** Computes the fit (kgp_fit) from the input without touching the
 * database: call it from any thread with no lock held. Consumes the input
 * (freed whatever it returns, as mdb_txn_commit frees its transaction).
 * *out (kgp_fit_report_free) is the fit, not stored: committed 0.
 * Errors: KGP_ENOMEM (*out NULL). O(EM iterations × N). */
kgp_status kgp_fit_compute(kgp_fit_input *in, kgp_fit_report **out);
/** Frees an input that will not be computed. NULL is allowed. */
void       kgp_fit_input_free(kgp_fit_input *in);

/** kgp_fit_store flags: store only when no fit on as many events or more
 * is stored (the count kgp_fit_due reads as events_at_fit) — a fit that
 * was computed while another process or thread stored a newer one does
 * not replace it. */
#define KGP_FIT_STORE_NEWER 1u
/** Stores a computed fit (kgp_fit_compute) in one write transaction: the
 * per-concept parameters, the FSRS-6 weights, the population values and
 * the number of events behind it (kgp_fit_due), replacing the previous
 * fit; sets r->committed. With KGP_FIT_STORE_NEWER the comparison and the
 * store are one transaction, and a skipped store writes nothing.
 * Errors: KGP_ECONFLICT (KGP_FIT_STORE_NEWER and a fit on at least
 * r->events events is stored: skipped, committed stays 0), KGP_EUSAGE
 * (read-only database, a report not from kgp_fit_compute, unknown flag),
 * KGP_EDB, KGP_EIO (disk full), KGP_ENOMEM. O(concepts log concepts). */
kgp_status kgp_fit_store(kgp_db *db, kgp_fit_report *r, unsigned flags);

/** Refitting as the history grows (`kgpath observe` does it unless told
 * not to): kgp_fit records how many events it was fitted on, and a fit is
 * due when at least KGP_FIT_AUTO_MIN events are stored and there is no
 * recorded fit, or the events have grown by KGP_FIT_AUTO_GROWTH times
 * since it. Growth by a factor, not a fixed count: N events cost
 * O(log N) fits in all, so a deployment's models follow its learners
 * from the first hundred events on without a scheduled job. */
#define KGP_FIT_AUTO_MIN 100
#define KGP_FIT_AUTO_GROWTH 1.2
typedef struct kgp_fit_due_info {
    uint64_t events;            /**< events stored now */
    uint64_t events_at_fit;     /**< events behind the recorded fit (0: none) */
    int fitted;                 /**< 1: a fit with its count is stored */
    int due;                    /**< 1: kgp_fit would renew the models */
    int flags;                  /**< the recorded fit's KGP_FIT_PER_LEARNER:
                                     renew it with the same */
    uint64_t due_at;            /**< the fewest events at which a fit is due
                                     (due is events >= due_at) */
} kgp_fit_due_info;
/** Whether a fit is due (see above). Reads only. Errors: KGP_EDB. O(1). */
kgp_status kgp_fit_due(kgp_db *db, kgp_fit_due_info *out);
/** kgp_fit, with the recorded fit's flags, when one is due; otherwise
 * nothing and *out NULL. due (may be NULL) receives what kgp_fit_due said.
 * On success *out is the stored fit's report (kgp_fit_report_free); on an
 * error *out is NULL and nothing was stored. Errors: as kgp_fit_due and
 * kgp_fit. O(1) when not due, else as kgp_fit. */
kgp_status kgp_fit_if_due(kgp_db *db, kgp_fit_due_info *due, kgp_fit_report **out);

/** Fills index and author_minutes of every concept from a snapshot (for a
 * report made without one, e.g. to store the fit before a snapshot is
 * opened). O(concepts × log n). */
void       kgp_fit_annotate(kgp_fit_report *r, kgp_snap *snap);
/** "text" or "json" (schema kgpath_fit 1). */
kgp_status kgp_fit_write(const kgp_fit_report *r, const char *format, FILE *out);

#ifdef __cplusplus
}
#endif
#endif /* KGPATH_LEARNER_H */
