/* loss.c - fused softmax + cross-entropy. */
#include "nntune/loss.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

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

// every row through row_softmax; rest may be NULL
static void softmax_row_by_row(float *p, float *rest, const float *x, int B, int C)
{
    for (int r = 0; r < B; r++) {
        float o = row_softmax(p + (size_t)r * C, x + (size_t)r * C, C);
        if (rest) rest[r] = o;
    }
}

#ifdef __AVX512F__
/* row_softmax on 16 rows at once, one row a lane, with the same result bit
 * for bit: each row's max, sums and products in the same order, and expf
 * computed the way glibc (since 2.28) computes it. */
#define LANES 16
#define LANES_MAX_C 64

// Arm's expf (Szabolcs Nagy, 2017; glibc's, musl's, LLVM libc's): x = (k +
// r) ln2/32 with k whole and |r| <= 1/2, exp(x) = 2^(k/32) 2^(r/32), a table
// of 2^(i/32) less i << 47 in the bits, a cubic for 2^(r/32), all in double,
// then rounded to float. Here the same operations in the same order as
// glibc's FMA build (its three a*r + b are FMAs), for 8 lanes: the same
// float as expf for every x <= 0 and NaN (the 2^31 floats with the sign bit
// set were all compared; tests/test_loss.c compares a sample). Not for
// x > 0: a softmax only takes exp(x - max).
static const uint64_t exp2_32ths[32] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};

static inline __m256 exp_nonpositive8(__m256 x)
{
    const __m512d shift = _mm512_set1_pd(0x1.8p+52);
    __m512d z = _mm512_mul_pd(_mm512_set1_pd(0x1.71547652b82fep+5), _mm512_cvtps_pd(x));
    __m512d kd = _mm512_add_pd(z, shift); // k in the low bits
    __m512i ki = _mm512_castpd_si512(kd);
    __m512d r = _mm512_sub_pd(z, _mm512_sub_pd(kd, shift));
    __m512i t = _mm512_i64gather_epi64(_mm512_and_si512(ki, _mm512_set1_epi64(31)),
                                       (const void *)exp2_32ths, 8);
    __m512d scale = _mm512_castsi512_pd(_mm512_add_epi64(t, _mm512_slli_epi64(ki, 47)));
    __m512d c01 = _mm512_fmadd_pd(_mm512_set1_pd(0x1.c6af84b912394p-20), r,
                                  _mm512_set1_pd(0x1.ebfce50fac4f3p-13));
    __m512d y = _mm512_fmadd_pd(_mm512_set1_pd(0x1.62e42ff0c52d6p-6), r, _mm512_set1_pd(1.0));
    y = _mm512_mul_pd(_mm512_fmadd_pd(c01, _mm512_mul_pd(r, r), y), scale);
    __m256 out = _mm512_cvtpd_ps(y);
    // below log(2^-150) expf returns 0 (and -inf gives 0); NaN gives x + x
    __mmask8 tiny = _mm256_cmp_ps_mask(x, _mm256_set1_ps(-0x1.9fe368p6f), _CMP_LT_OQ);
    out = _mm256_mask_mov_ps(out, tiny, _mm256_setzero_ps());
    return _mm256_mask_add_ps(out, _mm256_cmp_ps_mask(x, x, _CMP_UNORD_Q), x, x);
}

static inline __m512 exp_nonpositive16(__m512 x)
{
    __m256 lo = exp_nonpositive8(_mm512_castps512_ps256(x));
    __m256 hi = exp_nonpositive8(
        _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)));
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(lo)),
                                               _mm256_castps_pd(hi), 1));
}

// 16 rows from x to p (which may be x); rest as row_softmax returns it, if asked
static void softmax_lanes(float *p, float *rest, const float *x, int C)
{
    _Alignas(64) float col[LANES_MAX_C][LANES]; // col[j][r] = x[r][j], then its exp
    for (int r = 0; r < LANES; r++)
        for (int j = 0; j < C; j++) col[j][r] = x[(size_t)r * C + j];
    // row_argmax: a later NaN, or a strictly larger value, takes the index
    __m512 m = _mm512_load_ps(col[0]);
    __m512i k = _mm512_setzero_si512();
    for (int j = 1; j < C; j++) {
        __m512 v = _mm512_load_ps(col[j]);
        __mmask16 take = _mm512_cmp_ps_mask(v, m, _CMP_GT_OQ) |
                         _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        m = _mm512_mask_mov_ps(m, take, v);
        k = _mm512_mask_mov_epi32(k, take, _mm512_set1_epi32(j));
    }
    __m512 s = _mm512_setzero_ps(), others = _mm512_setzero_ps();
    for (int j = 0; j < C; j++) {
        __m512 e = exp_nonpositive16(_mm512_sub_ps(_mm512_load_ps(col[j]), m));
        __mmask16 not_max = _mm512_cmpneq_epi32_mask(k, _mm512_set1_epi32(j));
        others = _mm512_mask_add_ps(others, not_max, others, e);
        s = _mm512_add_ps(s, e);
        _mm512_store_ps(col[j], e);
    }
    _Alignas(64) float inv[LANES];
    _mm512_store_ps(inv, _mm512_div_ps(_mm512_set1_ps(1.0f), s));
    if (rest) _mm512_storeu_ps(rest, others);
    for (int r = 0; r < LANES; r++)
        for (int j = 0; j < C; j++) p[(size_t)r * C + j] = col[j][r] * inv[r];
}

// every row; rest may be NULL
static void softmax_rows(float *p, float *rest, const float *x, int B, int C)
{
    if (C > LANES_MAX_C) {
        softmax_row_by_row(p, rest, x, B, C);
        return;
    }
    int r = 0;
    for (; r + LANES <= B; r += LANES)
        softmax_lanes(p + (size_t)r * C, rest ? rest + r : NULL, x + (size_t)r * C, C);
    if (r == B) return;
    // the last rows, padded with zeros to 16
    _Alignas(64) float pad[LANES * LANES_MAX_C] = {0}, pad_rest[LANES];
    const size_t n = (size_t)(B - r) * C;
    memcpy(pad, x + (size_t)r * C, n * sizeof *pad);
    softmax_lanes(pad, pad_rest, pad, C);
    memcpy(p + (size_t)r * C, pad, n * sizeof *pad);
    if (rest) memcpy(rest + r, pad_rest, (size_t)(B - r) * sizeof *rest);
}
#else
static void softmax_rows(float *p, float *rest, const float *x, int B, int C)
{
    softmax_row_by_row(p, rest, x, B, C);
}
#endif

void nt_softmax_forward(float *probs, const float *logits, int B, int C)
{
    assert(probs && logits && B >= 1 && C >= 1);
    softmax_rows(probs, NULL, logits, B, C);
}

void nt_softmax_forward_keep(float *probs, float *rest, const float *logits, int B, int C)
{
    assert(probs && rest && logits && probs != logits && B >= 1 && C >= 1);
    softmax_rows(probs, rest, logits, B, C);
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
