/* The batch engine: plans for many learners in one run (`kgpath batch`).
 *
 * Input is JSON lines, one learner request each
 * (`{"learner":"u42","goals":[…],"known":[…],…}`); output is JSON lines,
 * one record per selected learner, in input order whatever the number of
 * worker threads:
 *
 *   {"line":12,"learner":"u42",<the members of the plan callback's object>}
 *   {"line":13,"learner":"u43","error":"learners.jsonl:13: …","status":3}
 *   {"line":14,"learner":null,"error":"learners.jsonl:14:7: …","status":2}
 *
 * `line` is the 1-based input line, so the outputs of several shards merge
 * back into input order (kgn_batch_merge). A failing learner yields an error
 * record and the run goes on; only I/O errors, a failing callback set-up or
 * out-of-memory stop a run.
 *
 * The engine knows nothing of plans: it calls a "plan one learner" callback
 * (kgn_batch_ops) on N worker threads, each with its own scratch object, so
 * it is tested with a fake planner and wired to the real one in
 * src/api_batch.c.
 *
 * Pipeline: the calling thread reads the input in chunks of `chunk_lines`
 * lines into a ring of chunks and writes finished chunks in order; workers
 * take tasks of a few lines from the oldest chunks. Memory is O(threads ×
 * chunk), independent of the number of learners.
 *
 * Resume: with a regular output file (or directory), every finished chunk is
 * committed — appended and fsync'ed (file) or written to a temporary file and
 * renamed (directory: one `part-NNNNNN.jsonl` per chunk) — and then a small
 * state file is replaced atomically (write + rename): it records how many input
 * lines are done and how many output bytes are valid. A resumed run truncates
 * the output to the committed length and skips the committed input lines, so
 * no line is torn, lost or written twice. A regular output file is written
 * as `<out_path>.part` and renamed over out_path once the run is complete,
 * so out_path holds the previous output or the complete new one. A run that
 * fails before its first commit leaves nothing behind (no .part, no state,
 * no directory it created); a later failure keeps the .part and the state
 * for a resumed run. A run without resume removes an earlier state first.
 *
 * Status values are those of kgp_status (kgpath.h): 0 ok, 1 usage, 2 input,
 * 3 not found, 5 conflict, 6 db, 7 out of memory, 8 I/O, 9 internal.
 */
#ifndef KGN_BATCH_H
#define KGN_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "planner/planner.h"   /* kg_buf */

/* One learner request, as seen by the callbacks. */
typedef struct kgn_batch_req {
    uint64_t line;          /* 1-based input line */
    const char *learner;    /* the "learner" member, non-empty */
    json_t *obj;            /* the whole line (a JSON object), borrowed */
    const char *source;     /* input name for messages ("-" for stdin) */
} kgn_batch_req;

/* The "plan one learner" interface. Every callback but plan may be NULL.
 * Callbacks run on worker threads at the same time (each with its own
 * scratch), so they must not share mutable state other than through scratch. */
typedef struct kgn_batch_ops {
    void *ctx;
    /* Per-thread scratch, created on the worker thread; NULL means failure
     * (the run stops with KGP_ENOMEM). */
    void *(*thread_init)(void *ctx);
    void  (*thread_free)(void *ctx, void *scratch);
    /* Plans one learner. On success appends one non-empty JSON object — e.g.
     * `{"kgpath_plan":1,"goals":[…],…}`, trailing whitespace allowed — to
     * out and returns 0; the engine splices its members into the record in
     * place (no copy). out->oom set means out of memory. On failure returns a
     * status with a message in err (out is then discarded): 1..5 are
     * problems of this learner and give an error record; 7 or 9 stop the
     * run. */
    int (*plan)(void *ctx, void *scratch, const kgn_batch_req *req,
                kg_buf *out, char *err, size_t errlen);
    /* With --since: 1 when the learner must be recomputed (new events, or
     * a concept in its goals' subgraph changed after `since`, Unix seconds),
     * 0 when its previous plan stands, or a status >= 2 with a message (then
     * an error record is written). NULL: every learner is recomputed. */
    int (*changed)(void *ctx, void *scratch, const kgn_batch_req *req,
                   int64_t since, char *err, size_t errlen);
} kgn_batch_ops;

/* Counters of a run (of this invocation plus any resumed part). */
typedef struct kgn_batch_stats {
    uint64_t lines;         /* input lines consumed */
    uint64_t learners;      /* requests in this shard (good or bad) */
    uint64_t plans;         /* plan records written */
    uint64_t errors;        /* error records written */
    uint64_t unchanged;     /* skipped by --since */
    uint64_t other_shard;   /* lines that belong to other shards */
    uint64_t blank;         /* empty lines, ignored */
    uint64_t resumed_lines; /* lines skipped because a previous run did them */
    uint64_t resumed_plans; /* plans among them (counted in plans) */
    double seconds;         /* wall time of this invocation */
} kgn_batch_stats;

/* Progress callback, called on the calling thread after each chunk and once
 * at the end (done = 1). total_bytes is the input size when known, else 0. */
typedef void (*kgn_batch_progress_fn)(void *ud, const kgn_batch_stats *st,
                                      uint64_t bytes_read, uint64_t total_bytes,
                                      int done);

typedef struct kgn_batch_opts {
    unsigned threads;        /* worker threads; 0 = online CPUs */
    uint32_t shard, nshards; /* take learners with hash % nshards == shard; nshards 0/1 = all */
    int64_t since;           /* Unix seconds; < 0: no --since */
    size_t chunk_lines;      /* input lines per committed chunk; 0 = 256 */
    int resume;              /* continue from the state file when it matches */
    int out_is_dir;          /* out names a directory of part files */
    const char *fingerprint; /* caller's description of the options; a state
                                file with a different one is not resumed */
    kgn_batch_progress_fn progress;
    void *progress_ud;
} kgn_batch_opts;

/* Runs a batch. `in` is read to its end (`in_name` names it in messages,
 * `in_size` is its size for progress, 0 unknown). `out_path` is a file, a
 * directory (opts->out_is_dir) or NULL for `out` (a stream: no resume).
 * The state file is `<out_path>.state` for a file, `<dir>/batch.state` for a
 * directory.
 * Returns 0 with *st filled, or a status with a message in err: 1 (resume
 * state from other options), 7, 8 (I/O), 9, or the callback's fatal status.
 * Time: O(total input + Σ plan cost); memory O(threads × chunk_lines). */
int kgn_batch_run(FILE *in, const char *in_name, uint64_t in_size,
                  const char *out_path, FILE *out,
                  const kgn_batch_ops *ops, const kgn_batch_opts *opts,
                  kgn_batch_stats *st, char *err, size_t errlen);

/* The shard of a learner id: FNV-1a 64 of its UTF-8 bytes, modulo n.
 * Stable across runs, machines and thread counts. Lines without a readable
 * learner id are placed by the hash of the whole line. */
uint32_t kgn_batch_shard_of(const char *id, size_t len, uint32_t n);

/* Parses "I/N" (0 <= I < N) into *i, *n. 0, or -1 when malformed. */
int kgn_batch_parse_shard(const char *s, uint32_t *i, uint32_t *n);

/* Shard from Slurm's array variables: SLURM_ARRAY_TASK_ID, _COUNT and _MIN
 * (I = ID - MIN, N = COUNT). Returns 1 when set (and valid), 0 when absent,
 * -1 when set but inconsistent. */
int kgn_batch_shard_from_env(uint32_t *i, uint32_t *n);

/* Merges batch outputs (each in increasing "line" order, e.g. one per shard)
 * into one in input order. Fails (status 2, message naming the file and line)
 * when an input is not a batch output, is out of order, or two inputs hold
 * the same line (overlapping shards). Counts plans and error records into
 * *plans / *errors. Time O(total × log n). */
int kgn_batch_merge(const char *const *paths, size_t n, FILE *out,
                    uint64_t *plans, uint64_t *errors, char *err, size_t errlen);

#endif
