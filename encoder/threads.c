/* Fork-join pool and OpenBLAS thread control (see threads.h). */
#include "encoder/threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

/* OpenBLAS extensions, weak so that another BLAS links too. */
extern int   openblas_get_num_threads(void) __attribute__((weak));
extern void  openblas_set_num_threads(int) __attribute__((weak));
extern char *openblas_get_corename(void) __attribute__((weak));
/* Internal to a DYNAMIC_ARCH OpenBLAS, but exported: they pick the kernels
 * (reading OPENBLAS_CORETYPE) as OpenBLAS's constructor does. */
extern void  gotoblas_dynamic_init(void) __attribute__((weak));
extern void  gotoblas_dynamic_quit(void) __attribute__((weak));

struct kge_pool {
    int              n;
    pthread_t       *tid;
    pthread_mutex_t  mu;
    pthread_cond_t   go, done;
    unsigned long    gen;        /* job generation, bumped per run */
    int              running;    /* workers still inside the current job */
    int              quit;
    void           (*fn)(void *, size_t);
    void            *ctx;
    size_t           ntasks;
    atomic_size_t    next;
};

static void drain(kge_pool *p)
{
    for (;;) {
        size_t t = atomic_fetch_add(&p->next, 1);
        if (t >= p->ntasks) break;
        p->fn(p->ctx, t);
    }
}

static void *worker(void *arg)
{
    kge_pool *p = arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->gen == seen) pthread_cond_wait(&p->go, &p->mu);
        if (p->quit) break;
        seen = p->gen;
        pthread_mutex_unlock(&p->mu);
        drain(p);
        pthread_mutex_lock(&p->mu);
        if (--p->running == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int kge_default_threads(void)
{
    static const char *vars[2] = {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"};
    for (int i = 0; i < 2; i++) {
        const char *e = getenv(vars[i]);
        if (e && atoi(e) > 0) return atoi(e);
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

kge_pool *kge_pool_new(int n)
{
    if (n < 1) n = 1;
    kge_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    if (n > 1) {
        p->tid = calloc((size_t)n - 1, sizeof *p->tid);
        if (!p->tid) { kge_pool_free(p); return NULL; }
        for (int i = 0; i < n - 1; i++)
            if (pthread_create(&p->tid[i], NULL, worker, p) != 0) {
                p->n = i + 1;             /* the ones started, plus the caller */
                break;
            }
    }
    return p;
}

void kge_pool_free(kge_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; p->tid && i < p->n - 1; i++) pthread_join(p->tid[i], NULL);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->tid);
    free(p);
}

int kge_pool_size(const kge_pool *p) { return p ? p->n : 1; }

void kge_pool_run(kge_pool *p, size_t ntasks, void (*fn)(void *ctx, size_t task), void *ctx)
{
    if (!p || p->n == 1 || ntasks <= 1) {
        for (size_t t = 0; t < ntasks; t++) fn(ctx, t);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->ntasks = ntasks;
    atomic_store(&p->next, 0);
    p->running = p->n - 1;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    drain(p);
    pthread_mutex_lock(&p->mu);
    while (p->running > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

int kge_blas_threads(void)
{
    return openblas_get_num_threads ? openblas_get_num_threads() : 1;
}

int kge_blas_set_threads(int n)
{
    int old = kge_blas_threads();
    if (openblas_set_num_threads && old != n) openblas_set_num_threads(n);
    return old;
}

/* The OpenBLAS core whose kernels this CPU runs best, by CPU features
 * (not by model, which OpenBLAS 0.3.21 does not know for CPUs newer than
 * it and virtual machines often hide); NULL when none beats Prescott. */
static const char *fit_core(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return NULL;
}

/* OpenBLAS's choice when it does not recognise an x86-64 CPU. */
static int generic_core(const char *core)
{
    return core && (strcmp(core, "Prescott") == 0 || strcmp(core, "prescott") == 0);
}

const char *kge_blas_core(void)
{
    return openblas_get_corename ? openblas_get_corename() : NULL;
}

int kge_blas_select_core(void)
{
    const char *want = fit_core();
    if (!want || getenv("OPENBLAS_CORETYPE") || !generic_core(kge_blas_core()) ||
        !gotoblas_dynamic_init || !gotoblas_dynamic_quit)
        return 0;
    /* OpenBLAS forces a core only through the variable, read by its init;
     * set it for that call alone so that child processes are unaffected. */
    if (setenv("OPENBLAS_CORETYPE", want, 1) != 0) return 0;
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
    return !generic_core(kge_blas_core());
}

const char *kge_blas_hint(void)
{
    if (getenv("OPENBLAS_CORETYPE") || !generic_core(kge_blas_core())) return NULL;
    const char *want = fit_core();
    if (!want) return NULL;
    return strcmp(want, "SkylakeX") == 0
               ? "OpenBLAS did not recognise this CPU and uses its generic Prescott kernels; "
                 "set OPENBLAS_CORETYPE=SkylakeX for several times faster encoding"
               : "OpenBLAS did not recognise this CPU and uses its generic Prescott kernels; "
                 "set OPENBLAS_CORETYPE=Haswell for several times faster encoding";
}

/* OpenBLAS 0.3.21 maps a work buffer of 128 MiB for each thread that calls
 * it at once, at its first such call, and retries forever when the mapping
 * fails (blas_memory_alloc): under an address-space limit (ulimit -v,
 * prlimit --as) a call would hang instead of failing. So, while a limit is
 * set, room for n buffers (and a margin for what follows) is checked by a
 * mapping that is released at once. Once a check for n passed, OpenBLAS
 * holds its buffers and later checks for n or fewer are skipped. */
#define BLAS_BUFFER ((size_t)129 << 20)
#define BLAS_MARGIN ((size_t)64 << 20)

int kge_blas_headroom(int n)
{
    static atomic_int passed;
    if (n < 1) n = 1;
    if (n <= atomic_load(&passed)) return 0;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) || rl.rlim_cur == RLIM_INFINITY) return 0;
    size_t want = (size_t)n * BLAS_BUFFER + BLAS_MARGIN;
    void *p = mmap(NULL, want, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return -1;
    munmap(p, want);
    int old = atomic_load(&passed);
    while (old < n && !atomic_compare_exchange_weak(&passed, &old, n)) {}
    return 0;
}
