/* activation.c - relu, tanh, sigmoid: forward, fused bias + activation,
 * and backward from the output.
 *
 * tanh and sigmoid use exp_ps() below instead of libm: glibc's tanhf is a
 * scalar call (~15 ns a value, more than the GEMMs of a 784-256-128-10 net
 * spend per value), while exp_ps is plain arithmetic that `omp simd` loops
 * vectorize (< 1 ns). Both stay within ~1 ulp of libm over the float range
 * and keep IEEE behaviour at the edges: NaN in gives NaN out, +-Inf give the
 * limits. */
#include "nntune/activation.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

// 2^k as a float, for k in [-126, 127]
static inline float pow2i(int32_t k)
{
    uint32_t u = (uint32_t)(k + 127) << 23;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

// exp(x): Cody-Waite reduction x = k ln2 + r, |r| <= ln2/2, and the Cephes
// expf polynomial (Moshier) for exp(r); 2^k is applied in two halves so that
// k in [-150, 128] (results down to subnormals, up to FLT_MAX) stays exact.
static inline float exp_ps(float x)
{
    const float hi = 88.72283935f, lo = -103.972084f;  // exp overflows / underflows to 0
    float xc = x > hi ? hi : x;
    xc = xc < lo ? lo : xc;
    xc = x == x ? xc : 0.0f;                     // no NaN into the int conversion
    const float shifter = 12582912.0f;           // 1.5 * 2^23: adding it rounds to an integer
    float k = (xc * 1.44269504088896341f + shifter) - shifter;
    float r = xc - k * 0.693359375f;             // ln2 split in a short high part ...
    r = r - k * -2.12194440e-4f;                 // ... and the rest, so k*ln2_hi is exact
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    int32_t ki = (int32_t)k, k1 = ki / 2;
    float e = p * pow2i(k1) * pow2i(ki - k1);
    e = x > hi ? INFINITY : e;
    e = x < lo ? 0.0f : e;
    return x == x ? e : x;
}

// tanh: Cephes tanhf (Moshier): an odd polynomial below |x| = 0.625, where
// 1 - 2/(exp(2|x|) + 1) would cancel, that formula above
static inline float tanh_ps(float x)
{
    float a = fabsf(x), z = a * a;
    float s = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z
               + 1.33314422036e-1f) * z - 3.33332819422e-1f) * z * a + a;
    float l = 1.0f - 2.0f / (exp_ps(2.0f * a) + 1.0f);
    return copysignf(a < 0.625f ? s : l, x);
}

// sigmoid from exp(-|x|) <= 1, which never overflows: 1/(1+e) for x >= 0,
// e/(1+e) for x < 0, accurate in both tails
static inline float sigmoid_ps(float x)
{
    float e = exp_ps(-fabsf(x));
    float s = 1.0f / (1.0f + e);
    return x >= 0.0f ? s : e * s;
}

// `v < 0 ? 0 : v` rather than fmaxf(v, 0): fmaxf(NaN, 0) is 0, which would
// hide a diverged network; this form keeps NaN
static inline float relu(float v) { return v < 0.0f ? 0.0f : v; }

void nt_act_forward(float *y, const float *x, size_t n, nt_act act)
{
    switch (act) {
    case NT_ACT_RELU:
        #pragma omp simd
        for (size_t i = 0; i < n; i++) y[i] = relu(x[i]);
        break;
    case NT_ACT_TANH:
        #pragma omp simd
        for (size_t i = 0; i < n; i++) y[i] = tanh_ps(x[i]);
        break;
    case NT_ACT_SIGMOID:
        #pragma omp simd
        for (size_t i = 0; i < n; i++) y[i] = sigmoid_ps(x[i]);
        break;
    default:
        assert(!"unknown activation");
    }
}

void nt_bias_act_forward(float *y, const float *b, int B, int n, nt_act act)
{
    if (!b) {
        nt_act_forward(y, y, (size_t)B * n, act);
        return;
    }
    for (int r = 0; r < B; r++) {
        float *restrict yr = y + (size_t)r * n;
        const float *restrict br = b;
        switch (act) {
        case NT_ACT_RELU:
            #pragma omp simd
            for (int j = 0; j < n; j++) yr[j] = relu(yr[j] + br[j]);
            break;
        case NT_ACT_TANH:
            #pragma omp simd
            for (int j = 0; j < n; j++) yr[j] = tanh_ps(yr[j] + br[j]);
            break;
        case NT_ACT_SIGMOID:
            #pragma omp simd
            for (int j = 0; j < n; j++) yr[j] = sigmoid_ps(yr[j] + br[j]);
            break;
        default:
            assert(!"unknown activation");
        }
    }
}

void nt_act_backward(float *dx, const float *dy, const float *y, size_t n, nt_act act)
{
    switch (act) {
    case NT_ACT_RELU:
        #pragma omp simd
        for (size_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
        break;
    case NT_ACT_TANH:
        #pragma omp simd
        for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
        break;
    case NT_ACT_SIGMOID:
        #pragma omp simd
        for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (y[i] * (1.0f - y[i]));
        break;
    default:
        assert(!"unknown activation");
    }
}
