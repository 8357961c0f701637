/* Labelled negatives that any prerequisite graph carries, for graphs
 * whose designers rejected nothing (a course imported from CSV): the
 * stacked head's pair regression and the calibration learn from them as
 * from rejected suggestions. Arrays in, arrays out. */
#ifndef KGE_GRAPH_NEGATIVES_H
#define KGE_GRAPH_NEGATIVES_H

#include <stddef.h>
#include <stdint.h>

/* How many of each kind per known edge, and a cap on the total. */
typedef struct kge_negmix {
    float  reversed;   /* b → a for a known a → b (the order of a known pair, turned round) */
    float  near;       /* (x, y) sharing a neighbour (two prerequisites of one concept, two dependents
                          of one, a concept and its neighbour's other neighbour), neither an edge nor
                          joined by a path x ⇝ y: the topically close pairs labelled lists are made of */
    float  random;     /* uniform (x, y), neither an edge nor joined by a path x ⇝ y */
    float  roles;      /* x uniform among the concepts that precede some concept, y among those
                          that have a prerequisite (the pairs a list of candidates is made of: a
                          plausible prerequisite, a concept that needs some), neither an edge nor
                          joined by a path x ⇝ y */
    size_t cap;        /* at most this many in all, the kinds scaled alike (0: no cap) */
} kge_negmix;

/* Draws negatives ("x is not a prerequisite of y") on the graph of n
 * concepts and E edges src[k] → dst[k]: round(mix->K · E) of each kind K
 * (scaled down to mix->cap in all), each pair once, in a random order
 * from seed alone (the same graph and seed give the same pairs, so
 * `train` and `suggest` draw alike). A pair with a path x ⇝ y is never
 * drawn (an implied prerequisite); a pair with a path y ⇝ x may be. Where
 * a kind runs out of pairs (a tiny or a complete graph) it yields fewer.
 * *ns, *nd (malloc'ed, *m pairs; free them) hold the pairs. Returns 0, -1
 * out of memory. O(E + n · E / 64 + draws) time and n² / 8 bytes for the
 * reachability of up to 8,192 concepts; above that one breadth-first
 * search per drawn pair, O(draws · (n + E)). */
int kge_graph_negatives(size_t n, size_t E, const uint32_t *src, const uint32_t *dst, const kge_negmix *mix,
                        uint64_t seed, uint32_t **ns, uint32_t **nd, size_t *m);

#endif
