/** @file kgpath.h
 * @brief kgpath: course knowledge graphs and study-path planning.
 *
 * The one public header of libkgpath. Conventions, in the manner of lmdb.h:
 *  - Handles are opaque. Every fallible call returns a #kgp_status; KGP_OK is 0.
 *  - Each handle keeps the message of its last error (kgp_db_errmsg());
 *    input errors carry "file:line:column: ". The library never prints and
 *    never exits.
 *  - Outputs are owned by the caller and freed with the matching _free call.
 *  - The user may supply the allocator (kgp_set_allocator()).
 *
 * The CLI (`kgpath`) is built only on this header.
 */
#ifndef KGPATH_H
#define KGPATH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KGPATH_VERSION_MAJOR 0
#define KGPATH_VERSION_MINOR 1
#define KGPATH_VERSION_PATCH 0
#define KGPATH_VERSION_STRING "0.1.0"

/** Status codes. The CLI's exit code for a status is its value (so 0 ok,
 * 1 usage, 2 input error, 3 not found, …), documented in README.md. */
typedef enum kgp_status {
    KGP_OK        = 0,  /**< success */
    KGP_EUSAGE    = 1,  /**< invalid argument or option */
    KGP_EINPUT    = 2,  /**< bad input: malformed, schema violation, cycle, … */
    KGP_ENOTFOUND = 3,  /**< a named concept, course, learner or file does not exist */
    KGP_EAMBIGUOUS= 4,  /**< a name matches several concepts */
    KGP_ECONFLICT = 5,  /**< the request cannot be satisfied (cycle, unreachable goal, deadline) */
    KGP_EDB       = 6,  /**< database error (LMDB), incompatible schema version */
    KGP_ENOMEM    = 7,  /**< out of memory */
    KGP_EIO       = 8,  /**< I/O error on a file other than the database */
    KGP_EINTERNAL = 9   /**< a bug in kgpath */
} kgp_status;

/** Static English text for a status. Never NULL. */
const char *kgp_strerror(kgp_status st);

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

/** Opens (creating when needed, unless KGP_RDONLY) the database at path, a
 * directory-less LMDB file. path NULL means the default location:
 * $KGPATH_DB, else $XDG_DATA_HOME/kgpath/kgpath.db (~/.local/share/…).
 * On failure *out is still set to a handle that carries the error message
 * (kgp_db_errmsg) unless memory ran out; close it with kgp_db_close.
 * Errors: KGP_EDB (cannot open, schema version mismatch), KGP_ENOTFOUND
 * (KGP_RDONLY and no such file), KGP_ENOMEM. */
kgp_status kgp_db_open(const char *path, unsigned flags, kgp_db **out);
void       kgp_db_close(kgp_db *db);
/** Message of the handle's last error ("" when none). Valid until the next
 * call on the handle. */
const char *kgp_db_errmsg(const kgp_db *db);
/** Path of the database file. */
const char *kgp_db_path(const kgp_db *db);

/** Opens a snapshot of the current committed state. Errors: KGP_EDB, KGP_ENOMEM.
 * Cost: O(V + E) to build the arrays. */
kgp_status kgp_snap_open(kgp_db *db, kgp_snap **out);
void       kgp_snap_close(kgp_snap *s);
/** Message of the snapshot's last error ("" when none). */
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

#ifdef __cplusplus
}
#endif
#endif /* KGPATH_H */
