/* Learner events and their storage in LMDB.
 *
 * An event is one thing a learner did with one concept: read it (dwell
 * time), took a quiz on it (score 0..1) or reviewed it (grade 1..4). Events
 * are facts; learner state (mastery, memory) is derived from them by
 * replaying them in time order (planner/learner_bkt.h), so events that
 * arrive out of order simply take their place in the replay.
 *
 * Storage (named DB "events"): key = learner id, NUL, at (8 bytes,
 * big-endian, sign bit flipped so that cursor order is time order), then
 * the first 8 bytes of the event's hash; value = the canonical encoding.
 * The hash covers the canonical encoding, so the same event stored twice
 * has the same key and is kept once (idempotent appends). Named DB
 * "learners": learner id → summary (event count, first and last time).
 *
 * The pure part (canonical encoding, hash, key) needs no database.
 */
#ifndef KGG_LEARNER_STORE_H
#define KGG_LEARNER_STORE_H

#include <stddef.h>
#include <stdint.h>

#define KGG_LEARNER_MAX 256   /* bytes in a learner id */
#define KGG_CONCEPT_MAX 400   /* bytes in a concept reference */

typedef enum kgg_event_kind {
    KGG_EV_READ = 1,    /* a learning opportunity: read, watched, studied */
    KGG_EV_QUIZ = 2,    /* an assessment with a score (and maybe a grade) */
    KGG_EV_REVIEW = 3   /* a spaced-repetition review with a grade */
} kgg_event_kind;

typedef struct kgg_event {
    const char *learner;    /* non-empty, <= KGG_LEARNER_MAX bytes, no NUL */
    const char *concept;    /* concept reference as written ("course:id") */
    int kind;               /* kgg_event_kind */
    int64_t at;             /* seconds since the Unix epoch, UTC */
    double dwell;           /* seconds spent, < 0 when unknown */
    double score;           /* 0..1, < 0 when unknown */
    int grade;              /* 1..4, 0 when unknown */
} kgg_event;

/* Name of a kind ("read", "quiz", "review") or "?". */
const char *kgg_event_kind_name(int kind);
/* Kind by name, 0 when unknown. */
int kgg_event_kind_parse(const char *name);

/* Canonical encoding: "1\t<learner>\t<concept>\t<kind>\t<at>\t<dwell>\t
 * <score>\t<grade>" with numbers printed exactly ("%.17g"; "-" when
 * unknown). Writes at most cap bytes including the NUL; returns the length
 * it needs (excluding the NUL), like snprintf, or -1 when a string
 * contains a tab or newline (they are rejected by the parser). */
int kgg_event_encode(const kgg_event *e, char *buf, size_t cap);
/* Decodes a canonical encoding of len bytes; the strings are copied into
 * strbuf (at least len + 1 bytes) and e points into it. Returns 0 or -1
 * when malformed. O(len). */
int kgg_event_decode(const char *val, size_t len, char *strbuf, kgg_event *e);
/* 64-bit FNV-1a hash of the canonical encoding. */
uint64_t kgg_event_hash(const kgg_event *e);
/* The store key (see above) into buf (>= strlen(learner) + 17 bytes);
 * returns its length, or -1 when the learner id is too long or empty. */
int kgg_event_key(const kgg_event *e, unsigned char *buf, size_t cap);

/* ---- storage (needs graph/store.h) ------------------------------------- */

#include "graph/store.h"

/* Summary of one learner (named DB "learners"). */
typedef struct kgg_learner_info {
    uint64_t nevents;       /* distinct events stored */
    int64_t first, last;    /* times of the earliest and latest event */
} kgg_learner_info;

/* Appends n events in ONE write transaction (all or nothing). An event
 * already stored (same canonical encoding) is not stored again: *added
 * counts the new ones, *dups the rest (also duplicates within the batch).
 * Events must be valid (non-empty ids without tabs, kind 1..3, grade 0..4).
 * Errors: KGP_EINPUT (an invalid event; nothing written), KGP_EUSAGE
 * (read-only store), KGP_EDB, KGP_ENOMEM. Cost: O(n log N) for N stored
 * events. */
kgp_status kgg_learner_append(kgg_store *st, const kgg_event *ev, size_t n,
                              size_t *added, size_t *dups, kgg_err *e);

/* Visitor over stored events; return nonzero to stop (the status is then
 * KGP_OK). Strings are valid during the call only. */
typedef int (*kgg_event_fn)(void *ud, const kgg_event *ev);

/* Visits the events of one learner in time order (ties in hash order).
 * Errors: KGP_ENOTFOUND (no events for the learner), KGP_EDB, KGP_ENOMEM.
 * O(events of the learner + log N). */
kgp_status kgg_learner_events(kgg_store *st, const char *learner,
                              kgg_event_fn fn, void *ud, kgg_err *e);
/* Visits every stored event, by learner (byte order) then time. O(N). */
kgp_status kgg_events_all(kgg_store *st, kgg_event_fn fn, void *ud, kgg_err *e);

/* The number of stored events into *n. Errors: KGP_EDB. O(1). */
kgp_status kgg_events_count(kgg_store *st, uint64_t *n, kgg_err *e);

/* Erases a learner: all its events and its summary, in one write
 * transaction (graph/learner_forget.c); *removed counts the events.
 * Errors: KGP_ENOTFOUND (nothing stored for the learner; nothing written),
 * KGP_EUSAGE (read-only store, empty id), KGP_EDB. O(its events + log N). */
kgp_status kgg_learner_forget(kgg_store *st, const char *learner, uint64_t *removed, kgg_err *e);

/* Summary of a learner. Errors: KGP_ENOTFOUND, KGP_EDB. O(log L). */
kgp_status kgg_learner_info_get(kgg_store *st, const char *learner,
                                kgg_learner_info *out, kgg_err *e);
/* Visits learners in id order with their summaries; return nonzero to stop. */
typedef int (*kgg_learner_fn)(void *ud, const char *learner,
                              const kgg_learner_info *info);
kgp_status kgg_learners_all(kgg_store *st, kgg_learner_fn fn, void *ud,
                            kgg_err *e);

/* Fitted per-concept parameters (named DB "learner_fit", written by
 * `kgpath fit`): BKT parameters and the calibrated minutes. */
typedef struct kgg_fit_rec {
    const char *concept;    /* "course:concept" */
    double prior, learn, learn_read, guess, slip, forget;
    int bkt_fitted;         /* 0: BKT fields are the defaults */
    double minutes;         /* calibrated from dwell; < 0 none */
    uint32_t nobs;          /* observations behind the BKT fit */
    uint32_t ndwell;        /* learners behind the minutes */
    double review_ok, review_fail;  /* review minutes, recalled / failed
                                       (fitted from review dwell); < 0 none
                                       (records stored before them read -1) */
} kgg_fit_rec;

/* Replaces all fitted records by recs[0..n) in one write transaction.
 * Errors: KGP_EUSAGE (read-only), KGP_EDB, KGP_ENOMEM. O(n log n). */
kgp_status kgg_fit_replace(kgg_store *st, const kgg_fit_rec *recs, size_t n,
                           kgg_err *e);
/* Visits the fitted records in concept order (none: KGP_OK, no calls).
 * Strings are valid during the call only. Errors: KGP_EDB. */
typedef int (*kgg_fit_fn)(void *ud, const kgg_fit_rec *rec);
kgp_status kgg_fit_all(kgg_store *st, kgg_fit_fn fn, void *ud, kgg_err *e);

/* Fitted memory-model weights (named DB "learner_fsrs"): one vector of
 * KGG_FSRS_NW doubles for the population (learner NULL) and optionally
 * one per learner. */
#define KGG_FSRS_NW 21
typedef struct kgg_fsrs_rec {
    const char *learner;        /* NULL: the population */
    double w[KGG_FSRS_NW];
} kgg_fsrs_rec;
/* The learner's weights into w (learner NULL: the population's); *found 0
 * when none are stored (w untouched). Errors: KGP_EDB. O(log n). */
kgp_status kgg_fsrs_get(kgg_store *st, const char *learner, double *w, int *found,
                        kgg_err *e);

/* Fitted population-level model values (named DB "learner_model"): a name
 * and up to KGG_MODEL_MAX doubles, e.g. "prereq-strength" → kappa, p0,
 * lessons. Put replaces that name only. Errors: KGP_EUSAGE (read-only, bad
 * name or count), KGP_EDB. O(log n). */
#define KGG_MODEL_MAX 8
kgp_status kgg_model_put(kgg_store *st, const char *name, const double *v, size_t n,
                         kgg_err *e);
/* v[0..n) of a stored name; *found 0 when none (v untouched), or when it
 * holds fewer than n values. Errors: KGP_EDB. */
kgp_status kgg_model_get(kgg_store *st, const char *name, double *v, size_t n, int *found,
                         kgg_err *e);

/* One fit stored whole, in one write transaction (kgpath fit, kgp_fit_store):
 * replaces the fitted records (as kgg_fit_replace) and all stored weight
 * vectors (the population's and each learner's; KGP_EINPUT for a bad
 * learner id) and puts each model value (as kgg_model_put). With
 * guard set, the model value named guard is read first in the same
 * transaction: when it is stored with a first value >= guard_below, nothing
 * is written and the status is KGP_ECONFLICT (a newer fit is stored).
 * Errors: KGP_ECONFLICT, KGP_EUSAGE (read-only, bad model name or count),
 * KGP_EINPUT (bad key), KGP_EDB, KGP_EIO. O((recs + fsrs) log n). */
typedef struct kgg_model_val {
    const char *name;
    const double *v;
    size_t n;
} kgg_model_val;
typedef struct kgg_fit_all_in {
    const kgg_fit_rec *recs;    size_t nrecs;
    const kgg_fsrs_rec *fsrs;   size_t nfsrs;
    const kgg_model_val *models; size_t nmodels;
    const char *guard;          /* NULL: store unconditionally */
    double guard_below;
} kgg_fit_all_in;
kgp_status kgg_fit_store(kgg_store *st, const kgg_fit_all_in *in, kgg_err *e);

struct kgg_snap;
/* Replaces the minutes of every snapshot concept that has calibrated
 * minutes (kgg_fit_rec.minutes >= 0) by them, and returns how many in
 * *replaced (may be NULL). Meant for the snapshot builder, before the
 * snapshot is shared (snapshots are read-only afterwards). Errors: KGP_EDB.
 * O(F log n) for F fitted records. */
kgp_status kgg_fit_apply_minutes(kgg_store *st, struct kgg_snap *s,
                                 uint32_t *replaced, kgg_err *e);

#endif
