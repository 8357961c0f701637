/* An open-addressing set of directed pairs (a, b) of 32-bit indices: the
 * known edges when training samples negatives, the pairs already drawn
 * when kge_graph_negatives draws them. Grows never: pset_init sizes it
 * for n pairs (at most n may be added). */
#ifndef KGE_PAIR_SET_H
#define KGE_PAIR_SET_H

#include <stdint.h>
#include <stdlib.h>

typedef struct pair_set {
    uint64_t *slot;   /* key + 1 (0: empty) */
    size_t    cap;    /* a power of two, at least 2n + 16 */
} pair_set;

static inline uint64_t pkey(uint32_t a, uint32_t b) { return ((uint64_t)a << 32 | b) + 1; }

static inline uint64_t phash(uint64_t k)
{
    k ^= k >> 33; k *= 0xff51afd7ed558ccdull; k ^= k >> 33;
    return k;
}

/* Room for n pairs; -1 out of memory. Free with free(s->slot). */
static inline int pset_init(pair_set *s, size_t n)
{
    s->cap = 16;
    while (s->cap < 2 * n + 16) s->cap *= 2;
    s->slot = calloc(s->cap, sizeof *s->slot);
    return s->slot ? 0 : -1;
}

static inline void pset_add(pair_set *s, uint32_t a, uint32_t b)
{
    uint64_t k = pkey(a, b);
    for (size_t i = phash(k) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (s->slot[i] == k) return;
        if (!s->slot[i]) { s->slot[i] = k; return; }
    }
}

static inline int pset_has(const pair_set *s, uint32_t a, uint32_t b)
{
    uint64_t k = pkey(a, b);
    for (size_t i = phash(k) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (s->slot[i] == k) return 1;
        if (!s->slot[i]) return 0;
    }
}

#endif
