/* loss.c - fused softmax + cross-entropy. */
#include "nntune/loss.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>

// Index of the row max, without skipping NaN: once a NaN is seen it is the
// "max", and NaN flows into every probability and into the loss.
static inline int row_argmax(const float *x, int C)
{
    int k = 0;
    for (int j = 1; j < C; j++)
        if (x[j] > x[k] || x[j] != x[j]) k = j;
    return k;
}

static inline float row_max(const float *x, int C) { return x[row_argmax(x, C)]; }

// -log softmax(x)[label] = log-sum-exp(x) - x[label]
//                        = (m - x[label]) + log1p(sum over j != k of exp(x[j] - m))
// with m = x[k] the row max: subtracting m keeps expf() from overflowing,
// and leaving exp(0) = 1 out of the sum for log1p keeps the loss of a
// confident, correct row (~1e-5) accurate instead of rounding it away.
static inline float row_ce(const float *x, int C, int label)
{
    int k = row_argmax(x, C);
    float m = x[k], s = 0.0f;
    for (int j = 0; j < C; j++)
        if (j != k) s += expf(x[j] - m);
    return (m - x[label]) + log1pf(s);
}

// The softmax of a row; returns row_ce's sum (exp(x[j] - m) over j other
// than the max's index), added up from the same exponentials in the same
// order, so a loss from it equals row_ce's.
static inline float row_softmax(float *p, const float *x, int C)
{
    int k = row_argmax(x, C);
    float m = x[k], s = 0.0f, rest = 0.0f;
    for (int j = 0; j < C; j++) {
        float e = expf(x[j] - m);
        if (j != k) rest += e;
        s += e;
        p[j] = e;
    }
    float inv = 1.0f / s;
    for (int j = 0; j < C; j++) p[j] *= inv;
    return rest;
}

void nt_softmax_forward(float *probs, const float *logits, int B, int C)
{
    assert(probs && logits && B >= 1 && C >= 1);
    for (int r = 0; r < B; r++)
        row_softmax(probs + (size_t)r * C, logits + (size_t)r * C, C);
}

void nt_softmax_forward_keep(float *probs, float *rest, const float *logits, int B, int C)
{
    assert(probs && rest && logits && probs != logits && B >= 1 && C >= 1);
    for (int r = 0; r < B; r++)
        rest[r] = row_softmax(probs + (size_t)r * C, logits + (size_t)r * C, C);
}

float nt_ce_loss_kept(const float *logits, const float *rest, const int32_t *y, int B, int C)
{
    assert(logits && rest && y && B >= 1 && C >= 1);
    double sum = 0.0;
    for (int r = 0; r < B; r++) {
        const float *x = logits + (size_t)r * C;
        assert(y[r] >= 0 && y[r] < C);
        sum += (row_max(x, C) - x[y[r]]) + log1pf(rest[r]);
    }
    return (float)(sum / B);
}

float nt_ce_loss(const float *logits, const int32_t *y, int B, int C)
{
    assert(logits && y && B >= 1 && C >= 1);
    double sum = 0.0;
    for (int r = 0; r < B; r++) {
        assert(y[r] >= 0 && y[r] < C);
        sum += row_ce(logits + (size_t)r * C, C, y[r]);
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
    nt_softmax_ce_backward_of(dlogits, probs, y, B, C, B);
}

void nt_softmax_ce_backward_of(float *dlogits, const float *probs, const int32_t *y,
                               int B, int C, int n_mean)
{
    assert(dlogits && probs && y && B >= 1 && C >= 1 && n_mean >= B);
    const float inv = 1.0f / (float)n_mean;
    for (int r = 0; r < B; r++) {
        float *d = dlogits + (size_t)r * C;
        const float *p = probs + (size_t)r * C;
        assert(y[r] >= 0 && y[r] < C);
        #pragma omp simd
        for (int j = 0; j < C; j++) d[j] = p[j] * inv;
        d[y[r]] -= inv;
    }
}
