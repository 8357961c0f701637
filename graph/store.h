/* The LMDB store: schema, environment, growth, and the writer that commits
 * course models (graph/course_model.h) atomically.
 *
 * Schema (version KGG_SCHEMA_VERSION, checked at open; a mismatch is
 * KGP_EDB). One LMDB file (MDB_NOSUBDIR, MDB_NOTLS), these named databases:
 *
 *   meta        "schema" -> u32 BE version; "next_id" -> u32 BE next concept id
 *   courses     course id (UTF-8, no ':') -> course record
 *   names       "course:concept" -> u32 BE concept id
 *   concepts    u32 BE id -> concept record
 *   requires    u32 BE id -> requirement-groups record (absent: none)
 *   recommends  u32 BE id -> recommended-edges record (absent: none)
 *   dependents  DUPSORT|DUPFIXED u32 BE member -> u32 BE concept that requires
 *               it (reverse adjacency of `requires`, resolved members only)
 *   recommenders DUPSORT|DUPFIXED u32 BE target -> u32 BE concept recommending it
 *   unresolved  DUPSORT|DUPFIXED "course:concept" target not in the database
 *               -> u32 BE concept holding the reference (resolved, and the
 *               entries dropped, when a concept with that key arrives)
 *   embeddings, learners, events: reserved for the encoder/planner layers
 *               (created empty; use kgg_store_dbi / kgg_store_update).
 *   tokens      SHA-256 of an access token -> scopes, time, name; created by
 *               the first token (graph/store_token.h)
 *   statements  xAPI statement id (16 bytes) -> hash of its content; created
 *               by the first statement (graph/store_stmt.h)
 *   rejected    "prereq\0concept" keys -> rejected-suggestion record; created
 *               by the first rejection, absent means none (graph/store_reject.h)
 *
 * Records are a compact binary encoding: unsigned LEB128 varints; strings as
 * varint (len + 1) (0 = NULL), the bytes, then a NUL (so a string in a record
 * is a C string that can be used in place while its transaction lives);
 * doubles as 8 little-endian bytes.
 *   course:  title, language, version, source, format, hash (16 hex chars),
 *            import time (varint unix seconds), nunits, {unit id, title}*,
 *            nconcepts, {concept id}* in authored order, source identity
 *            ("format:id@digest", kgg_course_set_identity; absent in records
 *            written before it existed), then a varint of flags (1: authored
 *            course order binds, import --course-order required; absent: 0).
 *            The hash covers the content and metadata but not the source
 *            path, so the same course read from another path is unchanged.
 *   concept: key, title, summary, description, own minutes, minutes
 *            (own + resources), difficulty, unit (varint ordinal + 1, 0 none),
 *            seq, line, ngoals {str}*, ntags {str}*,
 *            nresources {title, url, kind, minutes}*.
 *   requires: ngroups, {k, reason, nmembers, {member}*}*
 *   recommends: nrefs, {member}*
 *   member:  tag (0: resolved, then varint id; 1: unresolved, then the
 *            target key string), then the reason string.
 *
 * Ids are stable: re-importing a course keeps the id of every concept whose
 * key survives, so data keyed by id elsewhere (embeddings, learners) stays
 * attached.
 *
 * Threads: a kgg_store may be shared by threads; writes are serialised by
 * LMDB. Snapshots (graph/snapshot.h) hold a read transaction for their life.
 * Growing the map needs no open snapshot in this process: if one is open
 * when the map is full the write fails with KGP_EDB (close snapshots first).
 */
#ifndef KGG_STORE_H
#define KGG_STORE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <lmdb.h>

#include "kgpath_base.h"   /* kgp_status */
#include "base/alloc.h"
#include "graph/course_model.h"

#define KGG_SCHEMA_VERSION 1u
#define KGG_DEFAULT_MAP_SIZE ((size_t)16 << 20)   /* grows by doubling */

typedef struct kgg_store kgg_store;

/* A fixed-size error message buffer used by the graph layer. */
typedef struct kgg_err { char msg[1024]; } kgg_err;
/* Formats into e (when not NULL) and returns st. */
kgp_status kgg_errf(kgg_err *e, kgp_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An LMDB call's failure rc as an error: KGP_ENOMEM "out of memory" for
 * ENOMEM (a failed allocation, or no address space to map), else KGP_EDB
 * "what: LMDB's message". Returns the status. */
kgp_status kgg_mdb_fail(kgg_err *e, const char *what, int rc);
/* The status for an LMDB call's failure rc: KGP_ENOMEM for ENOMEM (a
 * failed malloc inside LMDB: cursor, transaction, dbi name; exit 7 like any
 * failed allocation), else KGP_EDB. Every error built from mdb_strerror(rc)
 * takes its status from here. */
static inline kgp_status kgg_mdb_status(int rc) { return rc == ENOMEM ? KGP_ENOMEM : KGP_EDB; }

#define KGG_STORE_RDONLY 0x1
/* With KGG_STORE_RDONLY: no lock file (MDB_NOLOCK), for a database in a
 * folder this process cannot write. Safe only while no process writes it. */
#define KGG_STORE_NOLOCK 0x2

/* The default database path: $KGPATH_DB, else $XDG_DATA_HOME/kgpath/kgpath.db,
 * else $HOME/.local/share/kgpath/kgpath.db. With create, makes the parent
 * folders. Returns a kg_malloc'ed path, or NULL with e set. */
char *kgg_default_path(int create, kgg_err *e);

/* Opens (creating unless KGG_STORE_RDONLY) the store at path (an LMDB file,
 * MDB_NOSUBDIR). map_size 0 means KGG_DEFAULT_MAP_SIZE (an existing larger
 * file keeps its size). Clears stale readers (mdb_reader_check).
 * LMDB allows one environment per file per process: opening a file this
 * process already has open returns the same store (one reference more,
 * released by kgg_store_close); a read-only request may share a writable
 * store (the caller then must not write), a writable request on a store
 * open read-only fails with KGP_EDB.
 * Errors: KGP_ENOTFOUND (read-only and no file), KGP_EDB (LMDB error, schema
 * version mismatch, not a kgpath database), KGP_ENOMEM. O(1). */
kgp_status kgg_store_open(const char *path, unsigned flags, size_t map_size,
                          kgg_store **out, kgg_err *e);
void kgg_store_close(kgg_store *st);

const char *kgg_store_path(const kgg_store *st);
int    kgg_store_rdonly(const kgg_store *st);
MDB_env *kgg_store_env(kgg_store *st);
/* Current map size in bytes, and the file's size on disk. */
size_t kgg_store_map_size(kgg_store *st);
uint64_t kgg_store_file_size(const kgg_store *st);

/* Handle of a named database, opened at kgg_store_open: "meta", "courses",
 * "names", "concepts", "requires", "recommends", "dependents",
 * "recommenders", "unresolved", "embeddings", "learners", "events".
 * Returns 0 and sets *dbi, or -1 for an unknown name. */
int kgg_store_dbi(const kgg_store *st, const char *name, MDB_dbi *dbi);
/* Opens (creating unless the store is read-only) another named database
 * with the given mdb_dbi_open flags, once; later calls return the same
 * handle. For layers that keep their own data. Errors: KGP_EDB. */
kgp_status kgg_store_open_dbi(kgg_store *st, const char *name, unsigned flags,
                              MDB_dbi *dbi, kgg_err *e);
/* The handle of a named database when it exists (*present 1), else
 * *present 0 and nothing is created; an existing one is opened as by
 * kgg_store_open_dbi(st, name, 0, ...). Thread-safe, as that one (both
 * open handles under the store's lock: LMDB lets one transaction of a
 * process at a time open them). Errors: KGP_EDB. */
kgp_status kgg_store_find_dbi(kgg_store *st, const char *name, MDB_dbi *dbi, int *present,
                              kgg_err *e);

/* Runs fn inside one write transaction and commits when it returns KGP_OK
 * (aborts otherwise, returning its status). On MDB_MAP_FULL (fn returns
 * KGP_EDB with *mdb_rc set to MDB_MAP_FULL, or the commit fails so) the map
 * is doubled and fn runs again from the start, so fn must not keep effects
 * outside the transaction between runs. Errors: fn's, KGP_EDB, KGP_EUSAGE
 * (read-only store). */
typedef kgp_status (*kgg_txn_fn)(MDB_txn *txn, void *ud, int *mdb_rc, kgg_err *e);
kgp_status kgg_store_update(kgg_store *st, kgg_txn_fn fn, void *ud, kgg_err *e);
/* Grows the map (doubling) so that at least `bytes` more than the pages in
 * use fit, when no snapshot of this process is open (otherwise does nothing:
 * a later MDB_MAP_FULL reports it). Saves redoing large writes.
 * Errors: KGP_EDB. O(1). */
kgp_status kgg_store_reserve(kgg_store *st, size_t bytes, kgg_err *e);
/* on = 0 makes kgg_store_reserve a no-op, so that writes grow the map only
 * through MDB_MAP_FULL and redo (for tests of that path). Default 1. */
void kgg_store_set_autoreserve(kgg_store *st, int on);
/* Begins a short read transaction; end it with kgg_store_read_end (not
 * mdb_txn_abort). MDB_MAP_RESIZED (another process grew the file past this
 * process's map) is handled by adopting the new size between transactions:
 * the call waits for other threads' short transactions to end, and fails
 * only while a snapshot of this process is open or this thread holds
 * another transaction. Errors: KGP_EDB. */
kgp_status kgg_store_read_begin(kgg_store *st, MDB_txn **txn, kgg_err *e);
/* Ends a transaction begun by kgg_store_read_begin (NULL: no-op). */
void kgg_store_read_end(MDB_txn *txn);
/* A long-lived read transaction (a snapshot's): begun as read_begin, ended
 * with kgg_store_snap_end; while it is open the map cannot move, so other
 * processes' growth makes this process's new transactions fail. */
kgp_status kgg_store_snap_begin(kgg_store *st, MDB_txn **txn, kgg_err *e);
void kgg_store_snap_end(kgg_store *st, MDB_txn *txn);

/* Holds the map in place (shared) around an LMDB call that opens its own
 * transaction (mdb_env_copyfd2). */
void kgg_store_map_hold(kgg_store *st);
void kgg_store_map_release(kgg_store *st);

/* Snapshot bookkeeping (graph/snapshot.c): the map is resized only while
 * no snapshot of this process is open. */
void kgg_store_snap_enter(kgg_store *st);
void kgg_store_snap_leave(kgg_store *st);

/* ---- writer ---- */

typedef struct kgg_write_course {
    const char *id, *title, *source, *format, *identity;
    uint32_t concepts, groups, edges, recommends, unresolved, removed;
    int replaced, unchanged;
} kgg_write_course;

typedef struct kgg_write_ref {
    const char *from;       /* "course:concept" holding the reference */
    const char *target;     /* "course:concept" it names */
    int recommended;
} kgg_write_ref;

typedef struct kgg_write_msg {
    int severity;           /* KGG_WARNING or KGG_ERROR */
    const char *file;       /* may be NULL */
    uint32_t line, column;
    const char *message;
} kgg_write_msg;

/* Outcome of kgg_store_write; everything lives in arena. */
typedef struct kgg_write_result {
    kg_arena *arena;
    kgg_write_course *courses; size_t ncourses, cap_courses;
    kgg_write_ref *unresolved; size_t nunresolved, cap_unresolved;
    kgg_write_ref *orphaned;   size_t norphaned, cap_orphaned;
    kgg_write_msg *msgs;       size_t nmsgs, cap_msgs;
    size_t nerrors;
    uint32_t resolved;
    int committed;
} kgg_write_result;

void kgg_write_result_init(kgg_write_result *r);
void kgg_write_result_free(kgg_write_result *r);

/* Writes the courses in ONE write transaction: all land or nothing changes.
 * A course already stored is replaced (concepts no longer present disappear;
 * references to them from other courses become unresolved again); a course
 * whose content is identical to the stored one is left as it is. References
 * among the given courses resolve in any order; references to absent
 * concepts of other courses stay unresolved and resolve when they arrive.
 * Refused with KGP_ECONFLICT, writing nothing, when a stored course of the
 * same id is clearly another course: its source identity and its title both
 * differ from the incoming course's (records without an identity never
 * conflict), unless the course has KGG_COURSE_REPLACE.
 * Rejected with KGP_EINPUT, writing nothing, when any course has KGG_ERROR
 * diagnostics, no id or an id with ':', appears twice, has duplicate concept
 * ids, a reference to an unknown concept of its own course, a bad k
 * (k < 1 or k > n), a requirement cycle inside the course (listed by
 * titles), or when the write would close a requirement cycle across courses.
 * Every problem is listed in res->msgs (errors and the courses' warnings);
 * e holds the first error. With dry_run the transaction is aborted after
 * all checks (res->committed stays 0).
 * Every course's strings are checked to be valid UTF-8 first
 * (kgg_course_check_utf8): invalid text is an input error, never stored.
 * Errors: KGP_EINPUT, KGP_ECONFLICT, KGP_EUSAGE (read-only store), KGP_EDB (including a
 * full map while a snapshot is open), KGP_ENOMEM.
 * Cost: O(size of the courses + edges touched in other courses), plus an
 * O(V + E) cycle check of the whole graph when a cross-course requirement
 * edge is created. */
kgp_status kgg_store_write(kgg_store *st, kgg_course *const *courses, size_t n,
                           int dry_run, kgg_write_result *res, kgg_err *e);

/* ---- record decoding (for snapshot.c and other readers) ---- */

typedef struct kgg_rd { const uint8_t *p, *end; int bad; } kgg_rd;
uint64_t    kgg_rd_varint(kgg_rd *r);
const char *kgg_rd_str(kgg_rd *r);     /* NULL for a NULL string or bad input */
double      kgg_rd_f64(kgg_rd *r);
uint8_t     kgg_rd_u8(kgg_rd *r);

static inline uint32_t kgg_be32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}
static inline void kgg_put_be32(void *p, uint32_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)(v >> 24); b[1] = (uint8_t)(v >> 16); b[2] = (uint8_t)(v >> 8); b[3] = (uint8_t)v;
}

#endif
