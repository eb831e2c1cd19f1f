/* narrow.c - products of a layer with at most 16 outputs, one register a
 * row of W (AVX-512). */
#include "nntune/narrow.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "lanes.h"

enum { LANES = 16, ROWS = 8 };  // 8 independent sums in flight: the FMA latency

// The accumulators stay in registers only when every loop over them is
// unrolled (constant indices), which -O2 does not do by itself (as in
// sparse.c): without that the kernels ran slower than OpenBLAS.

#ifdef __AVX512F__

bool nt_narrow_available(int out) { return out >= 1 && out <= NT_NARROW_MAX_OUT; }

static int min_int(int a, int b) { return a < b ? a : b; }

// Rows r0..r0+n-1 (n <= ROWS) of a (leading dimension ld) as ROWS
// pointers: a short group repeats its last row (and stores only n results)
static void group_rows(const float **p, const float *a, int r0, int n, int ld)
{
    for (int s = 0; s < ROWS; s++) p[s] = a + (size_t)(r0 + min_int(s, n - 1)) * ld;
}

// y rows r0..r0+n-1 (n <= ROWS)
static void forward_rows(float *y, const float *x, const float *W, int r0, int n, int in,
                         int out, int i0, int i1)
{
    const __mmask16 m = nt_first_lanes(out);
    const float *xs[ROWS];
    group_rows(xs, x, r0, n, in);
    __m512 a[ROWS];
    #pragma GCC unroll 8
    for (int s = 0; s < ROWS; s++) a[s] = _mm512_setzero_ps();
    for (int h = i0; h < i1; h++) {
        const __m512 w = _mm512_maskz_loadu_ps(m, W + (size_t)h * out);
        #pragma GCC unroll 8
        for (int s = 0; s < ROWS; s++) a[s] = _mm512_fmadd_ps(_mm512_set1_ps(xs[s][h]), w, a[s]);
    }
    #pragma GCC unroll 8
    for (int s = 0; s < ROWS; s++)
        if (s < n) _mm512_mask_storeu_ps(y + (size_t)(r0 + s) * out, m, a[s]);
}

void nt_narrow_forward(float *y, const float *x, const float *W, int B, int in, int out,
                       int i0, int i1)
{
    assert(y && x && W && B >= 1 && nt_narrow_available(out) && 0 <= i0 && i0 <= i1 &&
           i1 <= in);
    for (int r = 0; r < B; r += ROWS)
        forward_rows(y, x, W, r, min_int(ROWS, B - r), in, out, i0, i1);
}

// dW rows h0..h0+n-1 (n <= ROWS); a short group repeats its last row
static void grad_rows(float *dW, const float *dy, const float *x, int B, int in, int out,
                      int h0, int n, bool accumulate)
{
    const __mmask16 m = nt_first_lanes(out);
    int hs[ROWS];
    __m512 a[ROWS];
    #pragma GCC unroll 8
    for (int s = 0; s < ROWS; s++) {
        hs[s] = h0 + min_int(s, n - 1);
        a[s] = _mm512_setzero_ps();
    }
    for (int r = 0; r < B; r++) {
        const __m512 d = _mm512_maskz_loadu_ps(m, dy + (size_t)r * out);
        const float *xr = x + (size_t)r * in;
        #pragma GCC unroll 8
        for (int s = 0; s < ROWS; s++) a[s] = _mm512_fmadd_ps(_mm512_set1_ps(xr[hs[s]]), d, a[s]);
    }
    #pragma GCC unroll 8
    for (int s = 0; s < ROWS; s++) {
        if (s >= n) break;
        float *row = dW + (size_t)(h0 + s) * out;
        if (accumulate) a[s] = _mm512_add_ps(a[s], _mm512_maskz_loadu_ps(m, row));
        _mm512_mask_storeu_ps(row, m, a[s]);
    }
}

void nt_narrow_grad(float *dW, const float *dy, const float *x, int B, int in, int out,
                    int i0, int i1, bool accumulate)
{
    assert(dW && dy && x && B >= 1 && nt_narrow_available(out) && 0 <= i0 && i0 <= i1 &&
           i1 <= in);
    for (int h = i0; h < i1; h += ROWS)
        grad_rows(dW, dy, x, B, in, out, h, min_int(ROWS, i1 - h), accumulate);
}

// dx rows r0..r0+n-1 (n <= ROWS), inputs h0..h0+15 (mask mh), from wt:
// W[h0:h0+16, :] transposed, one register of 16 inputs per output
static void input_grad_rows(float *dx, const float *dy, const float (*wt)[LANES], int r0,
                            int n, int in, int out, int h0, __mmask16 mh)
{
    const float *ds[ROWS];
    group_rows(ds, dy, r0, n, out);
    __m512 a[ROWS];
    #pragma GCC unroll 8
    for (int s = 0; s < ROWS; s++) a[s] = _mm512_setzero_ps();
    for (int j = 0; j < out; j++) {
        const __m512 w = _mm512_loadu_ps(wt[j]);
        #pragma GCC unroll 8
        for (int s = 0; s < ROWS; s++) a[s] = _mm512_fmadd_ps(_mm512_set1_ps(ds[s][j]), w, a[s]);
    }
    #pragma GCC unroll 8
    for (int s = 0; s < ROWS; s++)
        if (s < n) _mm512_mask_storeu_ps(dx + (size_t)(r0 + s) * in + h0, mh, a[s]);
}

void nt_narrow_input_grad(float *dx, const float *dy, const float *W, int B, int in, int out)
{
    assert(dx && dy && W && B >= 1 && in >= 1 && nt_narrow_available(out));
    float wt[NT_NARROW_MAX_OUT][LANES];
    for (int h0 = 0; h0 < in; h0 += LANES) {
        const int nh = min_int(LANES, in - h0);
        for (int j = 0; j < out; j++)
            for (int t = 0; t < LANES; t++)
                wt[j][t] = t < nh ? W[(size_t)(h0 + t) * out + j] : 0.0f;
        for (int r = 0; r < B; r += ROWS)
            input_grad_rows(dx, dy, (const float(*)[LANES])wt, r, min_int(ROWS, B - r), in, out,
                            h0, nt_first_lanes(nh));
    }
}

#else  // no AVX-512: dense.c keeps its GEMMs

bool nt_narrow_available(int out)
{
    (void)out;
    return false;
}

void nt_narrow_forward(float *y, const float *x, const float *W, int B, int in, int out,
                       int i0, int i1)
{
    assert(!"nt_narrow_forward without AVX-512");
}

void nt_narrow_grad(float *dW, const float *dy, const float *x, int B, int in, int out,
                    int i0, int i1, bool accumulate)
{
    assert(!"nt_narrow_grad without AVX-512");
}

void nt_narrow_input_grad(float *dx, const float *dy, const float *W, int B, int in, int out)
{
    assert(!"nt_narrow_input_grad without AVX-512");
}

#endif
