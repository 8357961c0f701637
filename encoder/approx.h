/* Branch-free float approximations shared by the encoder's kernels
 * (kernels.c, gemm.c): static inline so every caller's SIMD clone
 * vectorises them. Not for -ffast-math files. */
#ifndef KGE_APPROX_H
#define KGE_APPROX_H

#include <stdint.h>
#include <string.h>

/* erf as a rational function on [-4, 4] (±1 beyond, exact in float):
 * |error| < 5e-7, so GELU is within about one float ulp of the erf form.
 * Branch-free so loops over it vectorise; libm's erff does not. */
static inline float erf_approx(float a)
{
    float x = a < -4.0f ? -4.0f : a > 4.0f ? 4.0f : a;
    float x2 = x * x;
    float p = -2.72614225801306e-10f;
    p = p * x2 + 2.77068142495902e-08f;
    p = p * x2 + -2.10102402082508e-06f;
    p = p * x2 + -5.69250639462346e-05f;
    p = p * x2 + -7.34990630326855e-04f;
    p = p * x2 + -2.95459980854025e-03f;
    p = p * x2 + -1.60960333262415e-02f;
    float q = -1.45660718464996e-05f;
    q = q * x2 + -2.13374055278905e-04f;
    q = q * x2 + -1.68282697438203e-03f;
    q = q * x2 + -7.37332916720468e-03f;
    q = q * x2 + -1.42647390514189e-02f;
    return x * p / q;
}

/* e^x for x <= 0 (softmax after max subtraction), Cephes polynomial,
 * relative error < 1e-7; inputs below -87.3 give about 1e-38. */
static inline float exp_approx(float x)
{
    x = x < -87.3f ? -87.3f : x > 88.3f ? 88.3f : x;
    /* n = round(x / ln 2) by the 1.5·2^23 trick (no libm call, vectorises) */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float r2 = r * r;
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * r2 + r + 1.0f;
    int32_t e = ((int32_t)n + 127) << 23;
    float sc;
    memcpy(&sc, &e, sizeof sc);
    return y * sc;
}

/* GELU, erf form: x·Φ(x) = 0.5·x·(1 + erf(x/√2)). */
static inline float gelu_approx(float x)
{
    return 0.5f * x * (1.0f + erf_approx(x * 0.70710678118654752f));
}

#endif
