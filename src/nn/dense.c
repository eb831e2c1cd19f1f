/* dense.c - fully connected layer: y = x W + b, GEMMs through cblas (a
 * layer of at most 16 outputs through narrow.h's kernels when the build has
 * them). */
#include "nntune/dense.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>
#include <cblas.h>

#include "nntune/narrow.h"

void nt_bias_forward(float *restrict y, const float *restrict b, int B, int n)
{
    for (int r = 0; r < B; r++) {
        float *restrict yr = y + (size_t)r * n;
        #pragma omp simd
        for (int j = 0; j < n; j++) yr[j] += b[j];
    }
}

void nt_dense_forward_inputs(float *y, const float *x, const float *W, int B, int in, int out,
                             int i0, int i1)
{
    assert(y && x && W && B >= 1 && out >= 1 && 0 <= i0 && i0 <= i1 && i1 <= in);
    if (i0 == i1) {
        memset(y, 0, (size_t)B * out * sizeof *y);
        return;
    }
    if (nt_narrow_available(out)) {
        nt_narrow_forward(y, x, W, B, in, out, i0, i1);
        return;
    }
    // x[:, i0:i1] is (B, i1 - i0) with leading dimension in; W[i0:i1, :] is
    // (i1 - i0, out)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, out, i1 - i0,
                1.0f, x + i0, in, W + (size_t)i0 * out, out, 0.0f, y, out);
}

void nt_dense_forward(float *y, const float *x, const float *W, const float *b,
                      int B, int in, int out)
{
    nt_dense_forward_inputs(y, x, W, B, in, out, 0, in);
    if (b) nt_bias_forward(y, b, B, out);
}

// db (n) (+)= column sums of dy (B, n) with leading dimension ld; row by row
// so the inner loop is contiguous and vectorizes
static void column_sums(float *restrict db, const float *restrict dy, int B, int n, int ld,
                        bool accumulate)
{
    if (!accumulate) memset(db, 0, (size_t)n * sizeof *db);
    for (int r = 0; r < B; r++) {
        const float *restrict dyr = dy + (size_t)r * ld;
        #pragma omp simd
        for (int j = 0; j < n; j++) db[j] += dyr[j];
    }
}

void nt_dense_bias_backward(float *db, const float *dy, int B, int out, bool accumulate)
{
    column_sums(db, dy, B, out, out, accumulate);
}

void nt_dense_bias_grad_units(float *db, const float *dy, int B, int out, int u0, int u1)
{
    assert(db && dy && B >= 1 && 0 <= u0 && u0 <= u1 && u1 <= out);
    column_sums(db + u0, dy + u0, B, u1 - u0, out, false);
}

void nt_dense_grad_inputs(float *dW, const float *dy, const float *x, int B, int in, int out,
                          int i0, int i1)
{
    assert(dW && dy && x && B >= 1 && out >= 1 && 0 <= i0 && i0 <= i1 && i1 <= in);
    if (i0 == i1) return;
    if (nt_narrow_available(out)) {
        nt_narrow_grad(dW, dy, x, B, in, out, i0, i1, false);
        return;
    }
    // dW[i0:i1, :] (i1 - i0, out) = x[:, i0:i1]^T (i1 - i0, B) dy (B, out)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, i1 - i0, out, B,
                1.0f, x + i0, in, dy, out, 0.0f, dW + (size_t)i0 * out, out);
}

void nt_dense_input_grad(float *dx, const float *dy, const float *W, int B, int in, int out)
{
    assert(dx && dy && W && B >= 1 && in >= 1 && out >= 1);
    if (nt_narrow_available(out)) {
        nt_narrow_input_grad(dx, dy, W, B, in, out);
        return;
    }
    // dx (B, in) = dy (B, out) W^T (out, in)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, in, out,
                1.0f, dy, out, W, out, 0.0f, dx, in);
}

void nt_dense_backward(float *dx, float *dW, float *db, const float *dy,
                       const float *x, const float *W, int B, int in, int out,
                       bool accumulate)
{
    assert(dW && dy && x && W && B >= 1 && in >= 1 && out >= 1);
    // dW (in, out) (+)= x^T (in, B) dy (B, out); beta 0 overwrites, so
    // nobody has to clear dW first
    if (nt_narrow_available(out))
        nt_narrow_grad(dW, dy, x, B, in, out, 0, in, accumulate);
    else
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, B,
                    1.0f, x, in, dy, out, accumulate ? 1.0f : 0.0f, dW, out);
    if (db) nt_dense_bias_backward(db, dy, B, out, accumulate);
    if (dx) nt_dense_input_grad(dx, dy, W, B, in, out);
}
