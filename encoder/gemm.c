/* Inference GEMM on pre-packed weights (see gemm.h). */
#include "encoder/gemm.h"
#include "encoder/approx.h"

#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define KGE_GEMM_X86 1
#include <immintrin.h>
#endif

/* Rows of activations per chunk: the chunk's inputs (MC·KC floats) and
 * outputs stay in L2 while every panel of the weight passes over them. */
#define MC 96
#define NV512 3    /* AVX-512 tile: 8 rows x 48 columns (3 zmm) = 24 zmm accumulators */
#define MR512 8

/* The fused store of the last input block: + bias (the tile's columns),
 * + res (the tile's first row, row stride ldr), then GELU. */
typedef struct epi {
    const float *bias, *res;
    size_t ldr;
    int gelu;
} epi;

/* One tile: c (mr, ncol ≤ NR; row stride ldc) = (first ? 0 : c) +
 * a (mr, kc; row stride lda) · b (kc, ≤ NR; packed rows of 48), then the
 * epilogue e when this is the last input block. */
typedef void (*tile_fn)(size_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc, int first,
                        const epi *e, size_t ncol);

static int enabled = 1;

int kge_gemm_available(void)
{
#ifdef KGE_GEMM_X86
    return __builtin_cpu_supports("avx512f") && enabled;
#else
    return 0;
#endif
}

int kge_gemm_enable(int on)
{
    int old = enabled;
    enabled = on;
    return old;
}

size_t kge_gemm_packed_floats(size_t OC, size_t C)
{
    return (OC + KGE_GEMM_NR - 1) / KGE_GEMM_NR * C * KGE_GEMM_NR;
}

void kge_gemm_pack(float *dst, const float *w, size_t OC, size_t C)
{
    // dst (P, C, 48) from w (OC, C): dst[p][k][j] = w[48p + j][k], 0 past OC
    size_t P = (OC + KGE_GEMM_NR - 1) / KGE_GEMM_NR;
    for (size_t p = 0; p < P; p++)
        for (size_t j = 0; j < KGE_GEMM_NR; j++) {
            size_t o = p * KGE_GEMM_NR + j;
            float *d = dst + p * C * KGE_GEMM_NR + j;
            for (size_t k = 0; k < C; k++) d[k * KGE_GEMM_NR] = o < OC ? w[o * C + k] : 0.0f;
        }
}

/* GELU over the n ≤ 48 values of a stored tile row; inlined into each
 * kernel, so it vectorises with that kernel's instruction set. */
static inline __attribute__((always_inline)) void gelu_row(float *c, size_t n)
{
    for (size_t j = 0; j < n; j++) c[j] = gelu_approx(c[j]);
}

#ifdef KGE_GEMM_X86

/* ---- AVX-512: 8 x 48 tiles ------------------------------------------------- */

#define T512 __attribute__((target("avx512f,fma"), optimize("fp-contract=fast")))

/* mr is a constant after inlining, so the accumulators live in registers:
 * NV512 vectors of 16 columns per row. */
T512 static inline __attribute__((always_inline)) void tile512(const int mr, size_t kc, const float *a, size_t lda,
                                                              const float *b, float *c, size_t ldc, int first,
                                                              const epi *e, size_t ncol)
{
    __mmask16 m[NV512];
#pragma GCC unroll 16
    for (int v = 0; v < NV512; v++) {
        size_t lo = 16 * (size_t)v, n = ncol > lo ? ncol - lo : 0;
        m[v] = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
    }
    __m512 acc[MR512][NV512];
#pragma GCC unroll 16
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 16
        for (int v = 0; v < NV512; v++)
            acc[r][v] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m[v], c + r * ldc + 16 * v);
#pragma GCC unroll 2
    for (size_t k = 0; k < kc; k++) {
        __m512 bv[NV512];
#pragma GCC unroll 16
        for (int v = 0; v < NV512; v++) bv[v] = _mm512_load_ps(b + k * KGE_GEMM_NR + 16 * v);
#pragma GCC unroll 16
        for (int r = 0; r < mr; r++) {
            __m512 av = _mm512_set1_ps(a[r * lda + k]);
#pragma GCC unroll 16
            for (int v = 0; v < NV512; v++) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
        }
    }
    if (e) {
#pragma GCC unroll 16
        for (int v = 0; v < NV512; v++) {
            __m512 bb = e->bias ? _mm512_maskz_loadu_ps(m[v], e->bias + 16 * v) : _mm512_setzero_ps();
#pragma GCC unroll 16
            for (int r = 0; r < mr; r++) {
                acc[r][v] = _mm512_add_ps(acc[r][v], bb);
                if (e->res) acc[r][v] = _mm512_add_ps(acc[r][v], _mm512_maskz_loadu_ps(m[v], e->res + r * e->ldr + 16 * v));
            }
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 16
        for (int v = 0; v < NV512; v++) _mm512_mask_storeu_ps(c + r * ldc + 16 * v, m[v], acc[r][v]);
    if (e && e->gelu)
        for (int r = 0; r < mr; r++) gelu_row(c + r * ldc, ncol < KGE_GEMM_NR ? ncol : KGE_GEMM_NR);
}

#define DEF512(n)                                                                                             \
    T512 static void t512_##n(size_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc,     \
                              int first, const epi *e, size_t ncol)                                           \
    {                                                                                                         \
        tile512(n, kc, a, lda, b, c, ldc, first, e, ncol);                                                    \
    }
DEF512(1) DEF512(2) DEF512(3) DEF512(4) DEF512(5) DEF512(6) DEF512(7) DEF512(8)
static const tile_fn tiles512[MR512 + 1] = {NULL, t512_1, t512_2, t512_3, t512_4, t512_5, t512_6, t512_7, t512_8};

#endif /* KGE_GEMM_X86 */

void kge_gemm_packed(float *out, const float *inp, const float *wp, const float *bias, const float *res,
                     int gelu, size_t N, size_t C, size_t OC)
{
    // out (N,OC), inp (N,C), wp (P,C,48) packed W (OC,C), bias (OC), res (N,OC)
#ifdef KGE_GEMM_X86
    size_t P = (OC + KGE_GEMM_NR - 1) / KGE_GEMM_NR;
    for (size_t i0 = 0; i0 < N; i0 += MC) {   /* row chunk: its inputs and outputs stay in L2 */
        size_t i1 = i0 + MC < N ? i0 + MC : N;
        for (size_t k0 = 0; k0 < C; k0 += KGE_GEMM_KC) {
            size_t kc = C - k0 < KGE_GEMM_KC ? C - k0 : KGE_GEMM_KC;
            int first = k0 == 0, last = k0 + kc == C;
            for (size_t p = 0; p < P; p++) {
                /* columns j .. j+ncol-1 of out, from panel p at input k0 */
                const float *b = wp + (p * C + k0) * KGE_GEMM_NR;
                size_t j = p * KGE_GEMM_NR, ncol = OC - j < KGE_GEMM_NR ? OC - j : KGE_GEMM_NR;
                for (size_t i = i0; i < i1; i += MR512) {
                    size_t mr = i1 - i < MR512 ? i1 - i : MR512;
                    epi e = {bias ? bias + j : NULL, res ? res + i * OC + j : NULL, OC, gelu};
                    tiles512[mr](kc, inp + i * C + k0, C, b, out + i * OC + j, OC, first, last ? &e : NULL, ncol);
                }
            }
        }
    }
#else
    (void)out, (void)inp, (void)wp, (void)bias, (void)res, (void)gelu, (void)N, (void)C, (void)OC;
#endif
}
