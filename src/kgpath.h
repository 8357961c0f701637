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

#ifdef __cplusplus
}
#endif
#endif /* KGPATH_H */
