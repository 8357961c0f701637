/* A small deterministic random generator for training (xoshiro256**,
 * seeded through splitmix64): weight initialisation, dropout masks,
 * negative sampling and shuffles. Same seed, same sequence, on every
 * platform. The state is four words so a checkpoint can store it.
 */
#ifndef KGE_TRAIN_RNG_H
#define KGE_TRAIN_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct kge_rng {
    uint64_t s[4];
} kge_rng;

static inline uint64_t kge_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline void kge_rng_seed(kge_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = kge_splitmix64(&seed);
}

static inline uint64_t kge_rng_next(kge_rng *r)
{
    uint64_t *s = r->s, x = s[1] * 5;
    uint64_t res = ((x << 7) | (x >> 57)) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return res;
}

/* Uniform in [0, 1) with 24 random bits. */
static inline float kge_rng_uniform(kge_rng *r)
{
    return (float)(kge_rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

/* Uniform integer in [0, n) (n > 0; the modulo bias is below 2^-32 for
 * the sizes used here). */
static inline uint64_t kge_rng_below(kge_rng *r, uint64_t n)
{
    return (kge_rng_next(r) >> 11) % n;
}

/* Standard normal (Box–Muller, one value per call). */
static inline float kge_rng_normal(kge_rng *r)
{
    double u1 = ((double)(kge_rng_next(r) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    double u2 = (double)(kge_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

#endif
