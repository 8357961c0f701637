/* The bridge between the graph layer and igraph: snapshot to igraph graph,
 * topological ranks, and requirement cycles (strongly connected components
 * plus a shortest cycle inside each).
 *
 * igraph's error handler is replaced once per process (pthread_once) by one
 * that records the error instead of aborting; every function here turns
 * igraph errors into KGP_EINTERNAL / KGP_ENOMEM statuses with the message.
 */
#ifndef KGG_IGRAPH_BRIDGE_H
#define KGG_IGRAPH_BRIDGE_H

#include <stddef.h>
#include <stdint.h>
#include <igraph/igraph.h>

#include "graph/snapshot.h"
#include "graph/store.h"

/* Installs kgpath's igraph error handler (idempotent, thread-safe). Every
 * kgpath function that calls igraph calls this first. */
void kgg_igraph_init(void);

/* igraph 0.10.2 as packaged by Debian is built without thread safety
 * (IGRAPH_THREAD_SAFE 0: its error/FINALLY stack is one global), so two
 * threads inside igraph at once corrupt it and abort. Every igraph call in
 * kgpath must therefore be made while holding this process-wide lock
 * (recursive: the functions below take it themselves, and may be called
 * with it held). kgg_igraph_lock also runs kgg_igraph_init. */
void kgg_igraph_lock(void);
void kgg_igraph_unlock(void);

/* Builds the directed requirement graph of a snapshot: vertex i is dense
 * concept i; an edge prerequisite -> dependent for every resolved member of
 * every group (a pair linked by several groups gives one edge per
 * membership). *g must be destroyed by the caller (igraph_destroy) on
 * KGP_OK. The caller holds kgg_igraph_lock() around this call and every use
 * of *g up to its igraph_destroy. Errors: KGP_ENOMEM, KGP_EINTERNAL.
 * O(V + E). */
kgp_status kgg_snap_to_igraph(const kgg_snap *s, igraph_t *g, kgg_err *e);

/* Cycles, one per strongly connected component with a cycle: the vertices
 * of cycle c are v[off[c] .. off[c+1]-1], each a prerequisite of the next
 * and the last a prerequisite of the first. */
typedef struct kgg_cycles {
    uint32_t *v;
    size_t *off;            /* [n + 1] */
    size_t n;
} kgg_cycles;
void kgg_cycles_free(kgg_cycles *c);

/* Finds up to max_cycles cycles (0 = no limit) in the graph of nv vertices
 * and m edges from[i] -> to[i]: one shortest cycle through the smallest
 * vertex of each strongly connected component that has one (self-loops
 * included), components in order of their smallest vertex.
 * Errors: KGP_ENOMEM, KGP_EINTERNAL. O(V + E). */
kgp_status kgg_find_cycles_edges(uint32_t nv, const uint32_t *from, const uint32_t *to,
                                 size_t m, size_t max_cycles, kgg_cycles *out, kgg_err *e);
/* The same over a snapshot's requirement edges (for `kgpath check`). */
kgp_status kgg_find_cycles(const kgg_snap *s, size_t max_cycles, kgg_cycles *out, kgg_err *e);

/* Topological rank of every concept over requirement edges
 * (prerequisites first; ties broken by igraph's order), KGG_NONE for
 * concepts on or behind a cycle; *has_cycle set when there is one. rank has
 * s->n entries. Errors: KGP_ENOMEM, KGP_EINTERNAL. O(V + E). */
kgp_status kgg_topo_ranks(const kgg_snap *s, uint32_t *rank, int *has_cycle, kgg_err *e);

#endif
