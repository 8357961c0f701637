/* The read snapshot: a consistent view of the whole knowledge graph as
 * compact arrays, built once from one LMDB read transaction.
 *
 * This is the contract between graph/ (which builds it, graph/snapshot.c)
 * and its readers (planner/, src/). Concepts have dense ids 0..n-1 within a
 * snapshot (store ids may have holes; see store_id). All arrays are
 * read-only after kgg_snap_open returns, so any number of threads may read a
 * snapshot at once. Adjacency is CSR: the items of concept i are
 * arr[off[i] .. off[i+1]-1].
 *
 * Requirements of concept i are groups: group g needs grp_k[g] of its members
 * mem[mem_off[g] .. mem_off[g+1]-1] learned first. A plain prerequisite is a
 * group with k = 1 and one member. Members that name a concept not in the
 * database are not in mem[]; they are listed in unresolved[], and grp_n[g]
 * keeps the member count as written, so a group whose resolvable members are
 * fewer than k cannot be satisfied (the planner reports it).
 */
#ifndef KGG_SNAPSHOT_H
#define KGG_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#define KGG_NONE UINT32_MAX

typedef struct kgg_unresolved {
    uint32_t concept;       /* dense id of the concept that holds the reference */
    const char *target;     /* "course:concept" as written */
    int recommended;        /* 1: a soft edge; 0: in requirement group `group` */
    uint32_t group;         /* global group index, or KGG_NONE */
} kgg_unresolved;

typedef struct kgg_snap {
    uint32_t n;                 /* concepts */
    uint32_t ncourses;
    uint32_t ngroups;           /* requirement groups in all */

    /* Courses, in course-id order. The concepts of course c are the dense
     * ids course_first[c] .. course_first[c+1]-1, in authored order. */
    const char **course_id;     /* [ncourses] */
    const char **course_title;  /* [ncourses] */
    const char **course_language, **course_version, **course_source, **course_format;
    const char **course_identity;   /* source identity, NULL for records of older versions */
    uint64_t *course_time;      /* import time, unix seconds */
    uint8_t *course_order;      /* [ncourses] 1: authored order binds (import
                                   --course-order required) */
    uint32_t *course_first;     /* [ncourses+1] */
    /* Units of course c: unit_id/unit_title[unit_off[c] .. unit_off[c+1]-1]. */
    uint32_t *unit_off;         /* [ncourses+1] */
    const char **unit_id, **unit_title;

    /* Per concept [n]. */
    uint32_t *store_id;         /* id in the store (LMDB key) */
    const char **key;           /* "course:concept", unique */
    const char **title;
    uint32_t *course;           /* index into course_id */
    int32_t *unit;              /* unit ordinal within its course, -1 none */
    uint32_t *seq;              /* position in its course as authored (0-based) */
    float *minutes;             /* concept estimate + resources; < 0 unknown */
    float *difficulty;          /* 0..1; < 0 unknown */

    /* Requirements, CSR by concept then by group. */
    uint32_t *grp_off;          /* [n+1] groups of concept i */
    uint32_t *grp_k;            /* [ngroups] k of the group */
    uint32_t *grp_n;            /* [ngroups] members as written (incl. unresolved) */
    const char **grp_reason;    /* [ngroups] or NULL entries */
    uint32_t *mem_off;          /* [ngroups+1] */
    uint32_t *mem;              /* resolved member concepts */
    const char **mem_reason;    /* parallel to mem[], NULL entries when none */

    /* Recommended (soft) edges: rec[rec_off[i]..] are recommended before i. */
    uint32_t *rec_off;          /* [n+1] */
    uint32_t *rec;
    const char **rec_reason;

    /* Dependents: concepts that have i as a member of some requirement group,
     * each listed once, ascending. */
    uint32_t *dep_off;          /* [n+1] */
    uint32_t *dep;

    /* Reverse of rec: recby[recby_off[i]..] recommend i before them,
     * each listed once, ascending. */
    uint32_t *recby_off;        /* [n+1] */
    uint32_t *recby;

    /* Unresolved references (cross-course targets not in the database). */
    kgg_unresolved *unresolved;
    size_t nunresolved;

    /* Whole-graph facts computed once per snapshot (graph/igraph_bridge.c):
     * topological rank over requirement edges (KGG_NONE for concepts on or
     * behind a cycle), and whether the requirement graph has a cycle. */
    uint32_t *topo_rank;
    int has_cycle;

    void *impl;                 /* store transaction, arenas: graph/ internal */
} kgg_snap;

/* Opens a snapshot of the store's committed state (graph/snapshot.c).
 * Errors: KGP_EDB, KGP_ENOMEM, KGP_EINTERNAL (igraph). O(V log V + E).
 * The store must outlive the snapshot. */
struct kgg_store;
struct kgg_err;
int  kgg_snap_open(struct kgg_store *st, kgg_snap **out, struct kgg_err *e);
void kgg_snap_close(kgg_snap *s);

/* Copies everything the snapshot points at in LMDB's map (strings, concept
 * records) into its own memory and ends its read transaction, so the
 * snapshot no longer pins the map: this process may then adopt a map that
 * another process grew (or grow it itself) while the snapshot stays open.
 * For long-running readers (batch). Call before handing the snapshot to
 * other threads. Errors: KGP_ENOMEM (the snapshot stays attached and
 * valid). O(size of the concept records). */
int kgg_snap_detach(kgg_snap *s, struct kgg_err *e);

/* The text of concept i (read from the snapshot's records; strings stay
 * valid while the snapshot is open; arrays are allocated in arena a). */
typedef struct kgg_resource_text {
    const char *title, *url, *kind;
    double minutes;             /* < 0 unknown */
} kgg_resource_text;
typedef struct kgg_text {
    const char *summary, *description;  /* NULL when none */
    double own_minutes;                 /* < 0 unknown */
    uint32_t line;                      /* source line, 0 unknown */
    const char **goals;  size_t ngoals;
    const char **tags;   size_t ntags;
    kgg_resource_text *resources; size_t nresources;
} kgg_text;
struct kg_arena;
/* Returns 0, or -1 (i out of range, damaged record, out of memory).
 * Thread-safe: reads memory only. O(size of the record). */
int kgg_snap_concept_text(const kgg_snap *s, uint32_t i, struct kg_arena *a, kgg_text *out);

/* Dense id of a concept by exact key "course:concept", or KGG_NONE.
 * O(log n) (binary search over a sorted index). */
uint32_t kgg_snap_find_key(const kgg_snap *s, const char *key);

#endif
