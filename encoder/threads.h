/* A small fork-join pool for the encoder's kernels, and control of
 * OpenBLAS's own threads.
 *
 * The encoder parallelises itself (row blocks of every linear layer, one
 * task per sequence and head in attention) and calls OpenBLAS
 * single-threaded inside the tasks, so exactly `n` threads work and none
 * spin idle. Workers sleep on a condition variable between jobs.
 */
#ifndef KGE_THREADS_H
#define KGE_THREADS_H

#include <stddef.h>

typedef struct kge_pool kge_pool;

/* The default thread count: $OPENBLAS_NUM_THREADS, else $OMP_NUM_THREADS,
 * else the number of online CPUs (at least 1). */
int kge_default_threads(void);

/* A pool of n threads in all (the caller counts as one; n - 1 are
 * created). NULL when out of resources; a NULL pool runs jobs inline. */
kge_pool *kge_pool_new(int n);
void      kge_pool_free(kge_pool *p);
int       kge_pool_size(const kge_pool *p);

/* Calls fn(ctx, task) for task in [0, ntasks) on the pool's threads and
 * returns when all have finished. Tasks must not call kge_pool_run. */
void kge_pool_run(kge_pool *p, size_t ntasks, void (*fn)(void *ctx, size_t task), void *ctx);

/* 0 when n threads may call the BLAS at once; -1 when, under an
 * address-space limit (RLIMIT_AS), there is no room for the BLAS's work
 * buffers (OpenBLAS: 128 MiB per calling thread), where OpenBLAS would
 * retry its mapping forever instead of failing. Every path that calls the
 * BLAS checks it first (the forward passes do, in laying out activations).
 * O(1): one mapping made and released, only while a limit is set. */
int kge_blas_headroom(int n);

/* OpenBLAS thread count (1 when the BLAS is not OpenBLAS): get, and set
 * returning the previous value. Process-wide, as OpenBLAS's is. */
int kge_blas_threads(void);
int kge_blas_set_threads(int n);

/* The name of the OpenBLAS core whose kernels run ("Haswell", "SkylakeX",
 * ...); NULL when the BLAS is not OpenBLAS. */
const char *kge_blas_core(void);

/* When OpenBLAS did not recognise this CPU and fell back to its generic
 * Prescott kernels (OpenBLAS 0.3.21 on CPUs newer than it, such as
 * Sapphire and Emerald Rapids: sgemm 5-7x slower), switches it to the
 * kernels the CPU's features allow (SkylakeX for AVX-512, Haswell for
 * AVX2 + FMA). Does nothing when OPENBLAS_CORETYPE is set (the user's
 * choice), when OpenBLAS runs a specific core, or when the BLAS is not a
 * DYNAMIC_ARCH OpenBLAS. Returns 1 when it switched, else 0.
 * Process-wide and not thread-safe: call it at start-up, before any other
 * thread uses BLAS (OpenBLAS's kernel table is replaced). O(1). */
int kge_blas_select_core(void);

/* NULL when OpenBLAS runs kernels fit for this CPU; else a hint such as
 * "OpenBLAS did not recognise this CPU and uses its generic Prescott
 * kernels; set OPENBLAS_CORETYPE=SkylakeX for much faster encoding". */
const char *kge_blas_hint(void);

#endif
