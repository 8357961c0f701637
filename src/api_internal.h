/* Internal glue between the public API (kgpath.h) and the layers.
 * Not installed. Implemented by src/api_db.c. */
#ifndef KGP_API_INTERNAL_H
#define KGP_API_INTERNAL_H

#include "kgpath.h"
#include "graph/snapshot.h"

/* The graph arrays behind a public snapshot (read-only, thread-safe). */
const kgg_snap *kgp__snap_graph(const kgp_snap *s);
/* Detaches the snapshot from LMDB's map (kgg_snap_detach): for long runs
 * beside other processes' writes. Call before the lookup index is built.
 * Errors: KGP_ENOMEM (message in the database handle). */
kgp_status kgp__snap_detach(kgp_snap *s);

/* The store behind a database handle, and the database of a snapshot, for
 * library glue of other layers (learners, embeddings, ...). */
struct kgg_store;
struct kgg_store *kgp__db_store(kgp_db *db);
kgp_db *kgp__snap_db(const kgp_snap *s);
/* 1 when the handle was opened read-only (its store may be shared with a
 * writable handle of the same file: check this, not the store, before
 * writing). */
int kgp__db_rdonly(const kgp_db *db);

/* Sets the handle's last error (printf-style) and returns st. */
kgp_status kgp__db_error(kgp_db *db, kgp_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
kgp_status kgp__snap_error(kgp_snap *s, kgp_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The planner's check result behind a public check (findings for maps). */
struct kgn_check;
const struct kgn_check *kgp__check_result(const kgp_check *c);

/* The planner's snapshot, and a workspace from (back to) its pool
 * (src/api_plan.c), for library glue that plans on a planner. */
struct kgn_workspace;
kgp_snap *kgp__planner_snap(const kgp_planner *pl);
struct kgn_workspace *kgp__planner_ws_take(kgp_planner *pl);
void kgp__planner_ws_give(kgp_planner *pl, struct kgn_workspace *ws);
/* A workspace on the planner's authored-order view (follow_course_order),
 * built on first use; NULL when out of memory. Give back with
 * kgp__planner_ws_give. */
struct kgn_workspace *kgp__planner_ws_take_ordered(kgp_planner *pl);

#endif
