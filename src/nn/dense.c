/* dense.c - fully connected layer: y = x W + b, GEMMs through cblas. */
#include "nntune/dense.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>
#include <cblas.h>

void nt_bias_forward(float *restrict y, const float *restrict b, int B, int n)
{
    for (int r = 0; r < B; r++) {
        float *restrict yr = y + (size_t)r * n;
        #pragma omp simd
        for (int j = 0; j < n; j++) yr[j] += b[j];
    }
}

void nt_dense_forward(float *y, const float *x, const float *W, const float *b,
                      int B, int in, int out)
{
    assert(y && x && W && B >= 1 && in >= 1 && out >= 1);
    // x is (B, in), W is (in, out); y = x W is (B, out), then += b
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, out, in,
                1.0f, x, in, W, out, 0.0f, y, out);
    if (b) nt_bias_forward(y, b, B, out);
}

// db (out) (+)= column sums of dy (B, out); row by row so the inner loop is
// contiguous and vectorizes
void nt_dense_bias_backward(float *restrict db, const float *restrict dy, int B, int out,
                            bool accumulate)
{
    if (!accumulate) memset(db, 0, (size_t)out * sizeof *db);
    for (int r = 0; r < B; r++) {
        const float *restrict dyr = dy + (size_t)r * out;
        #pragma omp simd
        for (int j = 0; j < out; j++) db[j] += dyr[j];
    }
}

void nt_dense_backward(float *dx, float *dW, float *db, const float *dy,
                       const float *x, const float *W, int B, int in, int out,
                       bool accumulate)
{
    assert(dW && dy && x && W && B >= 1 && in >= 1 && out >= 1);
    // dW (in, out) (+)= x^T (in, B) dy (B, out); beta 0 overwrites, so
    // nobody has to clear dW first
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, B,
                1.0f, x, in, dy, out, accumulate ? 1.0f : 0.0f, dW, out);
    if (db) nt_dense_bias_backward(db, dy, B, out, accumulate);
    // dx (B, in) = dy (B, out) W^T (out, in)
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, in, out,
                    1.0f, dy, out, W, out, 0.0f, dx, in);
}
