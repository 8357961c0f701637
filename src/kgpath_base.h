/** @file kgpath_base.h
 * @brief kgpath's version and the status codes every fallible call returns.
 *
 * Included by kgpath.h. A header of its own so that the library's inner
 * layers (graph/, planner/), which share these codes, need not include
 * the whole public API.
 */
#ifndef KGPATH_BASE_H
#define KGPATH_BASE_H

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
    KGP_ECONFLICT = 5,  /**< the request cannot be satisfied (cycle, unreachable goal, deadline; import: a stored course of that id is another course) */
    KGP_EDB       = 6,  /**< database error (LMDB), incompatible schema version */
    KGP_ENOMEM    = 7,  /**< out of memory */
    KGP_EIO       = 8,  /**< I/O error on a file other than the database */
    KGP_EINTERNAL = 9   /**< a bug in kgpath */
} kgp_status;

/** Static English text for a status. Never NULL. */
const char *kgp_strerror(kgp_status st);

#ifdef __cplusplus
}
#endif

#endif
