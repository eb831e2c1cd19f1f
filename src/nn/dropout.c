/* dropout.c - inverted dropout with a uint8 keep mask. */
#include "nntune/dropout.h"

#include <assert.h>
#include <string.h>

// A seed starts a splitmix64 stream, and value i of the mask comes from
// element i of that stream: keep when it is below (1-p) * 2^64. Element i
// is a pure function of (seed, i), so the loop vectorizes (one nt_rng_u64()
// call per value would cost more than the layer's GEMM), and a block of rows
// can draw its part of a batch's mask on its own (first = its offset).
static void draw_mask(uint8_t *restrict mask, size_t n, float p, uint64_t seed,
                      size_t first)
{
    const uint64_t keep = (uint64_t)((1.0 - (double)p) * 0x1p64);  // p > 0: < 2^64
    #pragma omp simd
    for (size_t i = 0; i < n; i++)
        mask[i] = nt_mix64(seed + (first + i + 1) * 0x9e3779b97f4a7c15ULL) < keep;
}

void nt_dropout_forward(float *y, uint8_t *mask, const float *x, size_t n,
                        float p, nt_rng *rng)
{
    assert(p >= 0.0f && p < 1.0f);
    if (p == 0.0f) {
        if (y != x) memmove(y, x, n * sizeof *y);
        return;
    }
    assert(rng);
    nt_dropout_forward_at(y, mask, x, n, p, nt_rng_u64(rng), 0);
}

void nt_dropout_forward_at(float *y, uint8_t *mask, const float *x, size_t n,
                           float p, uint64_t seed, size_t first)
{
    assert(p >= 0.0f && p < 1.0f);
    if (p == 0.0f) {
        if (y != x) memmove(y, x, n * sizeof *y);
        return;
    }
    assert(mask);
    draw_mask(mask, n, p, seed, first);
    const float scale = 1.0f / (1.0f - p);
    // a multiply, not a select: a dropped NaN stays NaN (0 * NaN)
    #pragma omp simd
    for (size_t i = 0; i < n; i++) y[i] = x[i] * ((float)mask[i] * scale);
}

void nt_dropout_backward(float *dx, const float *dy, const uint8_t *mask,
                         size_t n, float p)
{
    assert(p >= 0.0f && p < 1.0f);
    const float scale = 1.0f / (1.0f - p);
    #pragma omp simd
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * ((float)mask[i] * scale);
}

void nt_dropout_act_backward(float *dx, const float *dy, const float *yd,
                             const uint8_t *mask, size_t n, float p, nt_act act)
{
    assert(p >= 0.0f && p < 1.0f);
    const float scale = 1.0f / (1.0f - p), keep = 1.0f - p;
    switch (act) {
    case NT_ACT_RELU:
        // yd > 0 exactly where kept and act(z) > 0
        #pragma omp simd
        for (size_t i = 0; i < n; i++) dx[i] = yd[i] > 0.0f ? dy[i] * scale : 0.0f;
        break;
    case NT_ACT_TANH:
        #pragma omp simd
        for (size_t i = 0; i < n; i++) {
            float y = yd[i] * keep;
            dx[i] = dy[i] * ((float)mask[i] * scale) * (1.0f - y * y);
        }
        break;
    case NT_ACT_SIGMOID:
        #pragma omp simd
        for (size_t i = 0; i < n; i++) {
            float y = yd[i] * keep;
            dx[i] = dy[i] * ((float)mask[i] * scale) * (y * (1.0f - y));
        }
        break;
    default:
        assert(!"unknown activation");
    }
}
