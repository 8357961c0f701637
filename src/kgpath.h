/** @file kgpath.h
 * @brief kgpath: course knowledge graphs and study-path planning.
 *
 * The one public header of libkgpath. Conventions, in the manner of lmdb.h:
 *  - Handles are opaque. Every fallible call returns a #kgp_status; KGP_OK is 0.
 *  - A failing call leaves a message, read with the handle's _errmsg call
 *    (kgp_db_errmsg()); input errors carry "file:line:column: ". For the
 *    handles threads share (kgp_db, kgp_snap) messages are per thread, like
 *    errno: see kgp_db_errmsg(). The library never prints and never exits.
 *  - Outputs are owned by the caller and freed with the matching _free call.
 *  - The user may supply the allocator (kgp_set_allocator()).
 *
 * The CLI (`kgpath`) is built only on this header.
 */
#ifndef KGPATH_H
#define KGPATH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "kgpath_base.h"   /* version, kgp_status, kgp_strerror() */

/** Library version as "MAJOR.MINOR.PATCH"; fills the numbers when not NULL. */
const char *kgp_version(int *major, int *minor, int *patch);

/** Allocator hook, same contract as lua_Alloc: nsize == 0 frees ptr and
 * returns NULL; otherwise behaves like realloc. Call before any other call;
 * NULL restores the C library's allocator. (The encoder's large tensors
 * use the C library's allocator directly.) */
typedef void *(*kgp_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);
void kgp_set_allocator(kgp_alloc_fn fn, void *ud);


/* ------------------------------------------------------------------------ */
/** @name Database and snapshots (implemented in src/api_db.c)
 * A database is an LMDB environment holding any number of courses. Many
 * processes may read while one writes. A snapshot is a consistent read view
 * of the whole graph (one read transaction plus compact arrays); it is safe to
 * use from many threads at once and must be closed before its database. */
typedef struct kgp_db   kgp_db;
typedef struct kgp_snap kgp_snap;

/** Flags for kgp_db_open(). */
#define KGP_RDONLY 0x1   /**< open read-only (no writes; the file must exist) */
#define KGP_NOLOCK 0x2   /**< with KGP_RDONLY: no lock file (MDB_NOLOCK), for a
                              database in a folder this process cannot write;
                              safe only while no process writes the database */

/** Opens (creating when needed, unless KGP_RDONLY) the database at path, a
 * directory-less LMDB file. path NULL means the default location:
 * $KGPATH_DB, else $XDG_DATA_HOME/kgpath/kgpath.db (~/.local/share/…).
 * On failure *out is still set to a handle that carries the error message
 * (kgp_db_errmsg) unless memory ran out; close it with kgp_db_close.
 * Errors: KGP_EDB (cannot open, schema version mismatch), KGP_ENOTFOUND
 * (KGP_RDONLY and no such file), KGP_ENOMEM. */
kgp_status kgp_db_open(const char *path, unsigned flags, kgp_db **out);
void       kgp_db_close(kgp_db *db);
/** Message of the last error of a call on the handle made by the calling
 * thread, like errno: what other threads do with the handle meanwhile
 * (fail, succeed, read their messages) does not change it, and a later
 * success does not clear it (kgp_import's excepted: it sets ""). When the
 * calling thread has no message of its own on the handle, it is the
 * handle's last message from any thread ("" when none), so a thread that
 * joined a worker can report the worker's failure. The string belongs to
 * the calling thread and stays valid until that thread's next call on the
 * handle (its next _errmsg call included), its calls on 8 other handles, or
 * the handle's close; use it in no other thread. A thread remembers its own
 * messages on its last 8 failing handles (kgp_db and kgp_snap together);
 * past that the oldest falls back to the handle's last message from any
 * thread. NULL db (kgp_db_open out of memory): "out of memory". O(1).
 * Thread-safe. */
const char *kgp_db_errmsg(const kgp_db *db);
/** Path of the database file. */
const char *kgp_db_path(const kgp_db *db);
/** Id of the last committed write transaction of the database file (by any
 * process): it changes with every write, so a long-running reader (a
 * server) can tell whether its snapshot is out of date. Errors: KGP_EDB. O(1). */
kgp_status kgp_db_txn_id(kgp_db *db, uint64_t *id);

/** Opens a snapshot of the current committed state. Errors: KGP_EDB, KGP_ENOMEM.
 * Cost: O(V + E) to build the arrays. */
kgp_status kgp_snap_open(kgp_db *db, kgp_snap **out);
void       kgp_snap_close(kgp_snap *s);
/** Message of the snapshot's last error in the calling thread, as
 * kgp_db_errmsg() (per thread, same lifetime). Thread-safe. */
const char *kgp_snap_errmsg(const kgp_snap *s);
/** Number of concepts in the snapshot. */
uint32_t kgp_snap_count(const kgp_snap *s);
/** Resolves a user-given concept name — "course:id", a bare id unique across
 * courses, or a title (case-insensitive, unique) — to its index in the
 * snapshot. Errors: KGP_ENOTFOUND, KGP_EAMBIGUOUS (the message lists the
 * candidates). */
kgp_status kgp_snap_lookup(kgp_snap *s, const char *name, uint32_t *index);
/** "course:concept" and title of the concept at index (NULL when out of range). */
const char *kgp_snap_key(const kgp_snap *s, uint32_t index);
const char *kgp_snap_title(const kgp_snap *s, uint32_t index);

/** Value of an index that names no concept. */
#define KGP_NONE UINT32_MAX

/** Courses in the snapshot, in course-id order: count, id and title of the
 * course at index (NULL when out of range). O(1). */
uint32_t    kgp_snap_course_count(const kgp_snap *s);
const char *kgp_snap_course_id(const kgp_snap *s, uint32_t course);
const char *kgp_snap_course_title(const kgp_snap *s, uint32_t course);
/** Language of the course as authored (BCP 47, e.g. "zh"; NULL when not
 * given or out of range): pages set `lang` from it. O(1). */
const char *kgp_snap_course_language(const kgp_snap *s, uint32_t course);
/** Units of a course in authored order: count (0 when out of range), and
 * the id and title (title may be NULL) of unit u. Errors: KGP_ENOTFOUND
 * (course or unit out of range). O(1). */
uint32_t    kgp_snap_unit_count(const kgp_snap *s, uint32_t course);
kgp_status  kgp_snap_unit(const kgp_snap *s, uint32_t course, uint32_t u, const char **id, const char **title);
/** 1 when the course was imported with --course-order required (its
 * authored order binds in every plan), 0 otherwise or out of range. */
int         kgp_snap_course_order(const kgp_snap *s, uint32_t course);

/** One end of an edge as seen from a concept. */
typedef struct kgp_ref {
    uint32_t index;         /**< snapshot index, KGP_NONE when unresolved */
    const char *key;        /**< "course:concept" (as written when unresolved) */
    const char *title;      /**< NULL when unresolved */
    const char *reason;     /**< NULL when none */
} kgp_ref;

/** A requirement group: k of the n members must be learned first. A plain
 * prerequisite is k = 1 of 1; "any of" is k = 1 of n. */
typedef struct kgp_group {
    uint32_t k;
    uint32_t n;             /**< members as written (resolved or not) */
    const kgp_ref *members; /**< [n] */
    const char *reason;     /**< reason of the group as a whole, or NULL */
} kgp_group;

typedef struct kgp_resource {
    const char *title, *url, *kind; /**< any may be NULL */
    double minutes;                 /**< < 0 unknown */
} kgp_resource;

/** Everything known about one concept. Owned by the caller
 * (kgp_concept_free); every pointer stays valid until then, and it may
 * outlive neither its snapshot nor its database. */
typedef struct kgp_concept {
    uint32_t index;             /**< in the snapshot */
    const char *key;            /**< "course:concept" */
    const char *id;             /**< the concept id within its course */
    const char *course_id, *course_title;
    int course_order;           /**< 1: the course's authored order binds */
    const char *title;
    const char *summary, *description;  /**< NULL when none */
    const char *unit_id, *unit_title;   /**< NULL when none */
    uint32_t seq;               /**< position in its course as authored */
    double minutes;             /**< own estimate + resources; < 0 unknown */
    double own_minutes;         /**< the author's estimate alone; < 0 unknown */
    double difficulty;          /**< 0..1; < 0 unknown */
    const char *const *goals;   size_t ngoals;
    const char *const *tags;    size_t ntags;
    const kgp_resource *resources; size_t nresources;
    const kgp_group *groups;    size_t ngroups;       /**< requirements */
    const kgp_ref *recommends;  size_t nrecommends;   /**< soft edges */
    const kgp_ref *dependents;  size_t ndependents;   /**< concepts that require it */
    const kgp_ref *recommended_by; size_t nrecommended_by;
} kgp_concept;

/** Reads the details of the concept at index into a new caller-owned object.
 * Errors: KGP_ENOTFOUND (index out of range), KGP_EDB, KGP_ENOMEM.
 * Cost: O(size of the record + its edges). Thread-safe. */
kgp_status kgp_concept_get(kgp_snap *s, uint32_t index, kgp_concept **out);
void       kgp_concept_free(kgp_concept *c);

/** Concept iterator: visits the concepts of one course (or all courses when
 * course is NULL) in course order, then authored order. */
typedef struct kgp_iter kgp_iter;
/** Errors: KGP_ENOTFOUND (no such course), KGP_ENOMEM. */
kgp_status kgp_iter_open(kgp_snap *s, const char *course, kgp_iter **out);
/** Stores the next index in *index and returns 1, or returns 0 at the end. */
int        kgp_iter_next(kgp_iter *it, uint32_t *index);
void       kgp_iter_close(kgp_iter *it);

/** Whole-graph counts. */
typedef struct kgp_stats {
    uint64_t courses, units, concepts;
    uint64_t groups;            /**< requirement groups */
    uint64_t plain_groups;      /**< of which plain prerequisites (k = 1 of 1) */
    uint64_t edges;             /**< resolved requirement edges (group members) */
    uint64_t recommends;        /**< resolved recommended edges */
    uint64_t unresolved;        /**< references to concepts not in the database */
    uint64_t resources, goals;
    double   minutes;           /**< sum of the known concept minutes */
    uint64_t db_bytes;          /**< size of the database file */
    uint64_t map_bytes;         /**< current LMDB map size */
} kgp_stats;

/** Fills *st. Errors: KGP_EDB. O(V + E). */
kgp_status kgp_snap_stats(kgp_snap *s, kgp_stats *st);

/** Unresolved references in the snapshot (targets not in the database):
 * count, and the i-th as holder index, target key and whether it is a
 * recommended (soft) edge. Returns KGP_ENOTFOUND when i is out of range. */
size_t     kgp_snap_unresolved_count(const kgp_snap *s);
kgp_status kgp_snap_unresolved(const kgp_snap *s, size_t i, uint32_t *holder,
                               const char **target, int *recommended);

/** Writes the whole graph to out as "json" (the versioned interface
 * documented in README.md: {"kgpath_export": 1, "concepts": [...]}),
 * "dot" (Graphviz) or "graphml". Errors: KGP_EUSAGE (unknown format),
 * KGP_EIO (write failed), KGP_ENOMEM. O(V + E). */
kgp_status kgp_export(kgp_snap *s, const char *format, FILE *out);


/* ------------------------------------------------------------------------ */
/** @name Import (implemented in src/api_import.c) */

/** Import options; all-zero is the default. */
typedef struct kgp_import_options {
    int dry_run;                /**< parse, check and resolve, but write nothing */
    int no_schema;              /**< kgxml: skip RELAX NG validation */
    int include_drafts;         /**< OLX: import drafts/ too */
    const char *schema_path;    /**< kgxml: schema file; NULL = built in */
    /** CSV: the files' encoding, an iconv name ("GBK", "ISO-8859-1",
     * "UTF-16"); NULL = UTF-8 (or UTF-16 when a byte order mark says so).
     * Text that is not valid UTF-8 after this is an input error. */
    const char *encoding;
    /** Replace a stored course of the same id even when it is clearly
     * another course (see KGP_ECONFLICT below). */
    int replace;
    /** Store the (one) imported course under this id instead of its own. */
    const char *as_id;
    int course_order;           /**< 1: store "authored order binds" with each
                                     course (plans then follow it by default);
                                     0: it only recommends (the default) */
    /** Called after each path is parsed (done of total), and once with
     * done == total before the write. May be NULL. */
    void (*progress)(void *ud, size_t done, size_t total, const char *path);
    void *progress_ud;
} kgp_import_options;

/** What one course contributed. */
typedef struct kgp_report_course {
    const char *id, *title, *source, *format;
    uint32_t concepts, groups, edges, recommends, unresolved;
    uint32_t removed;           /**< concepts of an earlier import no longer present */
    int replaced;               /**< 1 when the course was in the database before */
    int unchanged;              /**< 1 when identical to what was stored (not rewritten) */
    const char *identity;       /**< source identity "format:id@digest" (NULL when not checked) */
} kgp_report_course;

/** A diagnostic: severity 1 warning, 2 error; "file:line:column: message"
 * is file, line, column (0 unknown) and message. */
typedef struct kgp_diag {
    int severity;
    const char *file;
    uint32_t line, column;
    const char *message;
} kgp_diag;

/** A reference to a concept not in the database. */
typedef struct kgp_unref {
    const char *from;           /**< "course:concept" holding the reference */
    const char *target;         /**< "course:concept" as written */
    int recommended;            /**< 1 soft edge, 0 requirement */
} kgp_unref;

/** Outcome of kgp_import (caller-owned, kgp_report_free). */
typedef struct kgp_report {
    int dry_run;
    int committed;              /**< 1 when the write transaction committed */
    kgp_report_course *courses; size_t ncourses;
    kgp_diag *diags;            size_t ndiags;   /**< warnings and errors, in input order */
    size_t nerrors;
    kgp_unref *unresolved;      size_t nunresolved; /**< left open by this import */
    kgp_unref *orphaned;        size_t norphaned;   /**< made unresolved: their target was removed */
    uint32_t resolved;          /**< earlier unresolved references this import resolved */
} kgp_report;

/** Imports every course found at paths (files, folders or archives, any
 * supported format) in ONE write transaction: either all land or nothing
 * changes. A course already in the database is replaced. References among
 * the given courses resolve in any order; references to absent courses stay
 * unresolved (listed in the report) until that course is imported.
 * *report (may be NULL) receives the outcome even on failure.
 * Every import has a source identity ("format:id@digest" of its content,
 * stored with the course): re-importing the same course (same identity or
 * same title) replaces it, or changes nothing at all when the content is
 * identical, whatever path it is read from.
 * Errors: KGP_EINPUT (any course has errors, duplicates, dangling references
 * inside a course, bad k, a prerequisite cycle, text that is not valid UTF-8
 * — the report lists them all), KGP_ECONFLICT (a stored course of the same
 * id is clearly another course: other identity and other title; nothing is
 * written unless opt->replace or opt->as_id), KGP_EUSAGE also for as_id when
 * the paths hold more or less than one course or for an unknown encoding,
 * KGP_ENOTFOUND / KGP_EIO (a path cannot be read), KGP_EUSAGE (no paths,
 * read-only database), KGP_EDB, KGP_ENOMEM.
 * Cost: O(size of the input + edges touched). */
kgp_status kgp_import(kgp_db *db, const char *const *paths, size_t npaths,
                      const kgp_import_options *opt, kgp_report **report);
void       kgp_report_free(kgp_report *r);

#ifdef __cplusplus
}
#endif
#include "kgpath_encoder.h"
#include "kgpath_batch.h"
#include "kgpath_plan.h"
#include "kgpath_learner.h"
#include "kgpath_train.h"
#include "kgpath_map.h"
#include "kgpath_token.h"
#endif /* KGPATH_H */
