/* Adding recommended (soft) edges to concepts already in the store, outside
 * a course import: how reviewed suggestions (`kgpath suggest --accept`)
 * reach the graph.
 *
 * An edge "prereq before concept" becomes one more member of concept's
 * `recommends` record (graph/store.h), with its reason, plus the reverse
 * entry in `recommenders`, exactly as the writer stores an authored
 * <recommends> element; snapshots, `show`, `export` and the planner see no
 * difference. The course record is not touched: re-importing the course
 * from an identical source keeps the added edges; a changed source
 * replaces the course's records, and with them the added edges (export the
 * course first to keep them in its source).
 */
#ifndef KGG_STORE_EDGES_H
#define KGG_STORE_EDGES_H

#include <stddef.h>

#include "graph/store.h"

/* Outcome of one requested edge. */
enum {
    KGG_EDGE_ADDED = 0,     /* written (or would be, in a dry run) */
    KGG_EDGE_UNKNOWN,       /* an endpoint is not a concept of the store */
    KGG_EDGE_SELF,          /* prereq == concept */
    KGG_EDGE_EXISTS,        /* already a requirement prereq -> concept */
    KGG_EDGE_DUPLICATE,     /* the same edge earlier in the request */
    KGG_EDGE_CYCLE,         /* concept already comes before prereq (required or recommended,
                               transitively, including edges added earlier in the request) */
    KGG_EDGE_ALREADY        /* already a recommended edge prereq -> concept: nothing to do,
                               never an error (accepting the same list twice changes nothing) */
};

typedef struct kgg_edge_add {
    const char *prereq;     /* "course:concept" recommended first */
    const char *concept;    /* "course:concept" it is recommended before */
    const char *reason;     /* stored with the edge; may be NULL */
    int outcome;            /* out: KGG_EDGE_* */
} kgg_edge_add;

#define KGG_EDGES_SKIP_BAD 0x1   /* write the good edges, mark and skip the others */
#define KGG_EDGES_DRY_RUN  0x2   /* check only; write nothing */

/* Adds the recommended edges edges[0..n) in ONE write transaction.
 * Every edge is checked in order against the store and the edges accepted
 * before it: its endpoints must be stored concepts, distinct, not already
 * linked prereq -> concept (requirement or recommendation), and concept
 * must not already come before prereq through requirement and recommended
 * edges (that would close an ordering cycle: a suggestion that contradicts
 * the graph is refused even though recommended edges are soft).
 * Without KGG_EDGES_SKIP_BAD a bad edge refuses the whole request
 * (KGP_EINPUT, nothing written; e names the first bad edge, by index, and
 * for a cycle the path). With it, bad edges are only marked in outcome.
 * *nadded (may be NULL) counts the edges written.
 * Errors: KGP_EINPUT, KGP_EUSAGE (read-only store, n > 0 with NULL edges),
 * KGP_EDB, KGP_ENOMEM.
 * Cost: O(n · (R + log N)) for the record updates, plus one reachability
 * search per edge over the part of the graph after concept (O(V + E) at
 * worst), read through the store's reverse indexes. */
kgp_status kgg_store_add_recommends(kgg_store *st, kgg_edge_add *edges, size_t n, unsigned flags,
                                    size_t *nadded, kgg_err *e);

#endif
