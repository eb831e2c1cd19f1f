/* loss.c - fused softmax + cross-entropy. */
#include "nntune/loss.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>

// Row max without skipping NaN: once a NaN is seen the max stays NaN, and
// NaN flows into every probability and into the loss.
static inline float row_max(const float *x, int C)
{
    float m = x[0];
    for (int j = 1; j < C; j++)
        if (x[j] > m || x[j] != x[j]) m = x[j];
    return m;
}

// log(sum(exp(x))) of one row; subtracting the max keeps expf() from
// overflowing, and at least one term is exp(0) = 1 so log() stays finite
static inline float row_lse(const float *x, int C)
{
    float m = row_max(x, C), s = 0.0f;
    for (int j = 0; j < C; j++) s += expf(x[j] - m);
    return m + logf(s);
}

static inline void row_softmax(float *p, const float *x, int C)
{
    float m = row_max(x, C), s = 0.0f;
    for (int j = 0; j < C; j++) {
        p[j] = expf(x[j] - m);
        s += p[j];
    }
    float inv = 1.0f / s;
    for (int j = 0; j < C; j++) p[j] *= inv;
}

void nt_softmax_forward(float *probs, const float *logits, int B, int C)
{
    assert(probs && logits && B >= 1 && C >= 1);
    for (int r = 0; r < B; r++)
        row_softmax(probs + (size_t)r * C, logits + (size_t)r * C, C);
}

float nt_ce_loss(const float *logits, const int32_t *y, int B, int C)
{
    assert(logits && y && B >= 1 && C >= 1);
    double sum = 0.0;
    for (int r = 0; r < B; r++) {
        const float *x = logits + (size_t)r * C;
        assert(y[r] >= 0 && y[r] < C);
        sum += (double)row_lse(x, C) - (double)x[y[r]];
    }
    return (float)(sum / B);
}

float nt_softmax_ce_forward(float *probs, const float *logits, const int32_t *y,
                            int B, int C)
{
    nt_softmax_forward(probs, logits, B, C);
    return nt_ce_loss(logits, y, B, C);
}

void nt_softmax_ce_backward(float *dlogits, const float *probs, const int32_t *y,
                            int B, int C)
{
    assert(dlogits && probs && y && B >= 1 && C >= 1);
    const float inv = 1.0f / (float)B;
    for (int r = 0; r < B; r++) {
        float *d = dlogits + (size_t)r * C;
        const float *p = probs + (size_t)r * C;
        assert(y[r] >= 0 && y[r] < C);
        #pragma omp simd
        for (int j = 0; j < C; j++) d[j] = p[j] * inv;
        d[y[r]] -= inv;
    }
}
