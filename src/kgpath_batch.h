/** @file kgpath_batch.h
 * @brief Batch planning (`kgpath batch`), merging shard outputs, compact
 * database copies (`kgpath snapshot-copy`). Included by kgpath.h.
 *
 * A batch run plans every learner of a JSON-lines file on one snapshot of
 * the database, on N threads, and writes one JSON line per learner in input
 * order: the `kgpath plan --format json` object (`"kgpath_plan": 1`, …)
 * with two members first, `"line"` (1-based input line) and `"learner"`; or
 * an error record `{"line":…,"learner":…,"error":"file:line: …",
 * "status":N}` for a learner that cannot be planned. The README's "kgpath
 * batch" section documents the input keys.
 */
#ifndef KGPATH_BATCH_H
#define KGPATH_BATCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Counters of a batch run or a merge. */
typedef struct kgp_batch_summary {
    uint64_t lines;          /**< input lines read (including resumed ones) */
    uint64_t learners;       /**< learner lines in this shard (good or bad) */
    uint64_t plans;          /**< plans written */
    uint64_t errors;         /**< error records written */
    uint64_t unchanged;      /**< not recomputed (--since) */
    uint64_t other_shard;    /**< lines of other shards */
    uint64_t resumed_lines;  /**< lines a previous, interrupted run had done */
    uint64_t resumed_plans;  /**< plans among them (included in plans) */
    uint32_t shard, nshards; /**< the shard run (nshards 1: everything) */
    unsigned threads;        /**< worker threads used */
    uint32_t stamps_changed; /**< concepts whose change stamp was renewed */
    double seconds;          /**< wall time of this invocation */
    uint64_t bytes_read, total_bytes; /**< progress: input bytes (total 0: unknown) */
    int done;                /**< progress: 1 for the last call */
} kgp_batch_summary;

/** Progress callback: called on the calling thread after each chunk and at
 * the end (s->done = 1). */
typedef void (*kgp_batch_progress_fn)(void *ud, const kgp_batch_summary *s);

typedef struct kgp_batch_options {
    const char *learners;    /**< JSON-lines file; NULL or "-": standard input */
    const char *out;         /**< output file or directory; NULL or "-": standard output */
    int out_dir;             /**< out is a directory of part-NNNNNN.jsonl files */
    unsigned threads;        /**< 0: the CPUs this process may use */
    uint32_t shard, nshards; /**< nshards 0: SLURM_ARRAY_TASK_ID/_COUNT/_MIN when
                                  set, else everything */
    int64_t since;           /**< Unix seconds; < 0: recompute everyone */
    int resume;              /**< continue an interrupted run on the same out */
    size_t chunk_lines;      /**< lines per committed chunk; 0: 256 */
    const char *defaults;    /**< JSON object: plan options for learners whose
                                  line lacks them (e.g. {"minutes_per_day":45}) */
    int no_stamp;            /**< do not refresh change stamps (they are
                                  refreshed when the database is writable) */
    kgp_batch_progress_fn progress;
    void *progress_ud;
} kgp_batch_options;

/** Plans one request given as a JSON object with the keys of a batch
 * learner line (README "kgpath batch": "goals" (required), "known",
 * "learner", "minutes_per_day" (needs "start"), "days_per_week", "start",
 * "deadline", "budget_minutes", "include_recommended", "default_minutes",
 * "date", "retention", "meta"), exactly as kgp_batch_run plans that line,
 * but on an open planner, whose per-snapshot work and workspaces it reuses
 * (so a server answers many requests on one planner). The plan is written
 * in format "json" (schema kgpath_plan 1; NULL means json), "text", "dot"
 * or "html" into *out (malloc'ed, NUL-terminated: free() it), *outlen bytes
 * (outlen may be NULL). at: time of the learner state when the request has
 * no "date" (0: now). The message of a failure goes to err (JSON syntax
 * errors as "line:column: ...").
 * Errors: KGP_EINPUT (not a JSON object, unknown key, bad value),
 * KGP_EUSAGE (no goals, unknown format), KGP_ENOTFOUND / KGP_EAMBIGUOUS (a
 * concept name), KGP_ECONFLICT (as kgp_plan_make), KGP_EDB, KGP_ENOMEM.
 * Thread-safe on one planner. Cost: as kgp_plan_make plus the learner's
 * events. */
struct kgp_planner;
kgp_status kgp_plan_request(struct kgp_planner *pl, const char *json, size_t len,
                            const char *format, int64_t at, char **out, size_t *outlen,
                            char *err, size_t errlen);
/** Sets defaults: everything 0/NULL, since -1. */
void kgp_batch_options_init(kgp_batch_options *o);

/** Runs a batch on a fresh snapshot of db. Learners that cannot be planned
 * give error records and do not fail the run. Before planning it refreshes
 * the per-concept change stamps that --since reads (unless the database is
 * read-only or o->no_stamp).
 * Errors (message in kgp_db_errmsg(db)): KGP_EUSAGE (bad options, --resume
 * of a run made with other options, defaults not a JSON object),
 * KGP_ENOTFOUND (no learners file), KGP_EIO, KGP_EDB, KGP_ENOMEM.
 * Time: O(V + E) once plus the plans; memory O(V + E + threads × chunk). */
kgp_status kgp_batch_run(kgp_db *db, const kgp_batch_options *o, kgp_batch_summary *sum);

/** Merges batch outputs of disjoint shards (each in input order) into one
 * file in input order (out NULL or "-": standard output), counting plans
 * and errors into sum. Errors (message in errbuf): KGP_EINPUT (not a batch
 * output, out of order, shards overlap), KGP_EIO, KGP_ENOMEM.
 * Time O(lines × log n). */
kgp_status kgp_batch_merge(const char *const *paths, size_t n, const char *out,
                           kgp_batch_summary *sum, char *errbuf, size_t errlen);

/** Parses a shard "I/N" (0 <= I < N). Returns 0, or -1 when malformed. */
int kgp_batch_parse_shard(const char *s, uint32_t *i, uint32_t *n);

/** Parses a time for --since / "changed_at": Unix seconds ("1764288000"),
 * a date "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ". Returns 0,
 * or -1 when malformed. */
int kgp_batch_parse_time(const char *s, int64_t *t);

/** kgp_db_copy() flag: refresh the change stamps of db before copying
 * (needs a writable db), so that `batch --since` on the copy sees them. */
#define KGP_COPY_STAMP 0x1

/** Writes a compact copy of db's committed state to dest (LMDB
 * mdb_env_copy2 with MDB_CP_COMPACT), atomically: written to "dest.tmp"
 * then renamed. For cluster runs: copy to node-local disk, then open the
 * copy with KGP_RDONLY. Errors (kgp_db_errmsg): KGP_EUSAGE (dest is db
 * itself; KGP_COPY_STAMP on a read-only db), KGP_EIO, KGP_EDB, KGP_ENOMEM.
 * Time O(size of the data). */
kgp_status kgp_db_copy(kgp_db *db, const char *dest, unsigned flags);

#ifdef __cplusplus
}
#endif
#endif /* KGPATH_BATCH_H */
