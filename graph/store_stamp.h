/* Per-concept change stamps, for incremental batch runs (`kgpath batch
 * --since T`): a learner's plan is recomputed only when a concept its goals
 * depend on changed after T.
 *
 * Storage: named database "stamps", key "course:concept" -> 16 bytes: the
 * concept's content hash (u64, little-endian) and the time (i64 Unix
 * seconds, little-endian) that content was first seen by kgg_stamp_refresh.
 * The hash covers what a plan shows of the concept: key, title, minutes,
 * requirement groups (k, members as written, resolved member keys,
 * reasons) and recommended edges. So a re-import that leaves a concept
 * unchanged keeps its stamp, and removing a prerequisite changes the stamp
 * of the concepts that needed it.
 *
 * Stamps are refreshed, not written by the store's writer: the stamp of a
 * change is the time of the first refresh that saw it, never earlier than
 * the change itself. A run that refreshes before it plans (kgpath batch
 * does, when the database is writable; `kgpath snapshot-copy --stamp`
 * does for cluster runs) therefore sees every change made after the
 * previous run's refresh as newer than that run's start.
 */
#ifndef KGG_STORE_STAMP_H
#define KGG_STORE_STAMP_H

#include <stdint.h>

#include "graph/snapshot.h"
#include "graph/store.h"

/* "Never stamped": a concept without a stamp counts as changed. */
#define KGG_STAMP_UNKNOWN INT64_MAX

/* Content hash of concept i (see above). O(its groups and edges). */
uint64_t kgg_stamp_hash(const kgg_snap *s, uint32_t i);

/* Brings the stamps up to date with the store's committed graph: concepts
 * whose hash differs from the stored one, or that have none, get
 * (hash, now); stamps of keys no longer in the graph are removed. Builds
 * its own snapshot and closes it before its one write transaction, so the
 * map can grow (callers should have no snapshot of this store open, for
 * the same reason). *nchanged (may be NULL) counts the concepts stamped now.
 * Errors: KGP_EUSAGE (read-only store), KGP_EDB, KGP_ENOMEM.
 * O(V + E + S log V) for S stamps. */
kgp_status kgg_stamp_refresh(kgg_store *st, int64_t now, uint32_t *nchanged, kgg_err *e);

/* Reads the stamp of every concept of s into stamp[0..n) (dense ids);
 * KGG_STAMP_UNKNOWN when absent or when its hash no longer matches (the
 * content changed after the last refresh). Works on a read-only store.
 * Errors: KGP_EDB, KGP_ENOMEM. O(V log S + V + E). */
kgp_status kgg_stamp_load(kgg_store *st, const kgg_snap *s, int64_t *stamp,
                          kgg_err *e);

/* For each concept, the newest stamp over itself and everything it
 * requires, transitively (every member of every group, whether or not a
 * plan would choose it), and the concepts it recommends (with their own
 * requirements when they come earlier in topological order). Concepts on
 * or behind a cycle get KGG_STAMP_UNKNOWN. in and out are [n]; they may not
 * alias. O(V + E). Returns 0, or -1 when out of memory. */
int kgg_stamp_closure_max(const kgg_snap *s, const int64_t *in, int64_t *out);

#endif
