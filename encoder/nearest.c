/* Nearest rows by cosine (encoder/nearest.h). */
#include "encoder/nearest.h"
#include "encoder/threads.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { BLOCK = 256 };

typedef struct hit { float s; uint32_t j; } hit;

/* a ranks below b: lower similarity, or equal and a higher index */
static int below(hit a, hit b) { return a.s < b.s || (a.s == b.s && a.j > b.j); }

/* Min-heap of the k best so far (root: the worst kept). */
static void sift_down(hit *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && below(h[l], h[m])) m = l;
        if (r < n && below(h[r], h[m])) m = r;
        if (m == i) return;
        hit t = h[i]; h[i] = h[m]; h[m] = t;
        i = m;
    }
}

static void sift_up(hit *h, size_t i)
{
    while (i) {
        size_t p = (i - 1) / 2;
        if (!below(h[i], h[p])) return;
        hit t = h[i]; h[i] = h[p]; h[p] = t;
        i = p;
    }
}

int kge_nearest_rows(const float *x, size_t C, const uint32_t *rows, size_t nr, size_t k, uint32_t *out,
                     kge_err *err)
{
    if (!k || !C) return kge_fail(err, KGE_EUSAGE, "nearest rows: k and C must be positive");
    if (!nr) return KGE_OK;
    if (kge_blas_headroom(1)) /* under an address-space limit OpenBLAS would retry its buffer forever */
        return kge_fail(err, KGE_ENOMEM, "out of memory (no room for the BLAS's work buffers)");
    float *xn = malloc(nr * C * sizeof *xn), *S = malloc((size_t)BLOCK * nr * sizeof *S);
    hit *h = malloc(k * sizeof *h);
    if (!xn || !S || !h) {
        free(xn); free(S); free(h);
        return kge_fail(err, KGE_ENOMEM, "out of memory");
    }
    /* xn (nr, C): the listed rows scaled to unit length */
    for (size_t i = 0; i < nr; i++) {
        const float *a = x + (size_t)rows[i] * C;
        double ss = 0;
        for (size_t c = 0; c < C; c++) ss += (double)a[c] * a[c];
        float inv = ss > 0 ? (float)(1 / sqrt(ss)) : 0.0f;
        for (size_t c = 0; c < C; c++) xn[i * C + c] = a[c] * inv;
    }
    for (size_t b0 = 0; b0 < nr; b0 += BLOCK) {
        size_t B = nr - b0 < BLOCK ? nr - b0 : BLOCK;
        // S (B, nr) = xn[b0:b0+B] (B, C) · xn (nr, C)ᵀ
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)nr, (int)C, 1.0f, xn + b0 * C, (int)C,
                    xn, (int)C, 0.0f, S, (int)nr);
        for (size_t q = 0; q < B; q++) {
            const float *s = S + q * nr;
            size_t n = 0;
            for (size_t j = 0; j < nr; j++) {
                if (j == b0 + q) continue;
                hit c = {s[j], rows[j]};
                if (n < k) { h[n] = c; sift_up(h, n++); }
                else if (below(h[0], c)) { h[0] = c; sift_down(h, n, 0); }
            }
            uint32_t *o = out + (b0 + q) * k;
            for (size_t t = n; t < k; t++) o[t] = UINT32_MAX;
            while (n) {             /* pop worst first: fills from the back */
                o[--n] = h[0].j;
                h[0] = h[n];
                sift_down(h, n, 0);
            }
        }
    }
    free(xn); free(S); free(h);
    return KGE_OK;
}
