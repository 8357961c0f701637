/* In-memory snapshots for planner tests: build a kgg_snap from simple
 * arrays or random DAG generators, without LMDB. Every field graph/snapshot.h
 * documents is filled (CSR of groups/members/reasons, recommends,
 * dependents, unresolved, topological ranks by Kahn's algorithm with
 * KGG_NONE on or behind cycles, courses). */
#ifndef KG_SNAPFIX_H
#define KG_SNAPFIX_H

#include <stdint.h>
#include "graph/snapshot.h"

typedef struct sf_builder sf_builder;

/* n concepts with keys "<course>:c<i>" (course "t" unless set) and titles
 * "Concept <i>"; minutes default 10. */
sf_builder *sf_new(uint32_t n);
void sf_concept(sf_builder *b, uint32_t i, const char *key, const char *title, float minutes);
void sf_minutes(sf_builder *b, uint32_t i, float minutes);
/* Group of owner: k of the members (all resolved) plus `unresolved` extra
 * written members that name concepts not in the snapshot ("x:missing<j>"). */
void sf_group(sf_builder *b, uint32_t owner, uint32_t k, const uint32_t *members,
              uint32_t nmem, uint32_t unresolved, const char *reason);
/* Plain prerequisite (k = 1 of 1). */
void sf_req(sf_builder *b, uint32_t owner, uint32_t pre, const char *reason);
void sf_rec(sf_builder *b, uint32_t owner, uint32_t target, const char *reason);
/* A recommended edge to a concept not in the snapshot. */
void sf_rec_unresolved(sf_builder *b, uint32_t owner, const char *target);
/* Builds the snapshot and frees the builder. */
kgg_snap *sf_build(sf_builder *b);
void sf_free(kgg_snap *s);
uint32_t sf_find(const kgg_snap *s, const char *key);

/* Random DAG: concept i draws its prerequisites among 0..i-1 (mostly among
 * the previous `window`), plain edges and k-of-n groups by the percentages;
 * minutes 1..60, some unknown (-1). Deterministic for a seed. */
typedef struct sf_random_opts {
    uint32_t n;
    uint32_t max_groups;        /* groups per concept: 0..max_groups */
    uint32_t max_members;       /* members per k-of-n group: 2..max_members */
    uint32_t pct_choice;        /* share of groups that are k-of-n (0..100) */
    uint32_t pct_unknown_minutes;
    uint32_t pct_rec;           /* share of concepts with a recommended edge */
    uint32_t pct_unresolved;    /* share of groups with one unresolved member */
    uint32_t window;            /* 0: whole prefix */
} sf_random_opts;
kgg_snap *sf_random(uint64_t seed, const sf_random_opts *o);
/* Deterministic PRNG for tests (splitmix64). */
uint64_t sf_rand(uint64_t *state);

#endif
