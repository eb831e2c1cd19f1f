/* test_dense.c - the dense layer: forward against a naive triple loop,
 * backward against finite differences, accumulation. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nntune/dense.h"
#include "nntune/rng.h"

static void fill_normal(float *a, size_t n, nt_rng *r)
{
    for (size_t i = 0; i < n; i++) a[i] = (float)nt_rng_normal(r);
}

// |a - b| relative to the larger magnitude, with a floor so values near 0
// are compared absolutely
static double rel_err(double a, double b, double floor_)
{
    return fabs(a - b) / fmax(floor_, fmax(fabs(a), fabs(b)));
}

Test(dense, forward_matches_a_naive_triple_loop_on_odd_sizes)
{
    const int sizes[][3] = {{7, 13, 5}, {1, 1, 1}, {3, 17, 9}, {33, 31, 11}};
    nt_rng r;
    nt_rng_seed(&r, 11);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int B = sizes[s][0], in = sizes[s][1], out = sizes[s][2];
        float *x = malloc(sizeof(float) * B * in), *W = malloc(sizeof(float) * out * in);
        float *b = malloc(sizeof(float) * out), *y = malloc(sizeof(float) * B * out);
        fill_normal(x, (size_t)B * in, &r);
        fill_normal(W, (size_t)out * in, &r);
        fill_normal(b, (size_t)out, &r);
        nt_dense_forward(y, x, W, b, B, in, out);
        for (int i = 0; i < B; i++)
            for (int o = 0; o < out; o++) {
                double ref = b[o];
                for (int k = 0; k < in; k++) ref += (double)x[i * in + k] * W[k * out + o];
                double e = rel_err(y[i * out + o], ref, 1.0);
                cr_assert(e < 1e-5, "B=%d in=%d out=%d y[%d,%d] = %.8g, naive loop %.8g",
                          B, in, out, i, o, (double)y[i * out + o], ref);
            }
        nt_dense_forward(y, x, W, NULL, B, in, out);  // no bias
        double ref = 0;
        for (int k = 0; k < in; k++) ref += (double)x[k] * W[k * out];
        cr_assert(rel_err(y[0], ref, 1.0) < 1e-5, "without bias y[0,0] = %.8g, want %.8g",
                  (double)y[0], ref);
        free(x); free(W); free(b); free(y);
    }
}

// L = sum(y * R) for a fixed random R, so dL/dy = R
static double proj_loss(const float *x, const float *W, const float *b, const float *R,
                        float *y, int B, int in, int out)
{
    nt_dense_forward(y, x, W, b, B, in, out);
    double L = 0;
    for (int i = 0; i < B * out; i++) L += (double)y[i] * R[i];
    return L;
}

// central difference of proj_loss in one float entry
static double fd(float *v, const float *x, const float *W, const float *b, const float *R,
                 float *y, int B, int in, int out)
{
    const float eps = 1e-3f, v0 = *v;
    *v = v0 + eps;
    float hi = *v;
    double Lp = proj_loss(x, W, b, R, y, B, in, out);
    *v = v0 - eps;
    float lo = *v;
    double Lm = proj_loss(x, W, b, R, y, B, in, out);
    *v = v0;
    return (Lp - Lm) / ((double)hi - lo);
}

Test(dense, backward_matches_finite_differences_for_dx_dW_and_db)
{
    const int B = 5, in = 7, out = 4;
    nt_rng r;
    nt_rng_seed(&r, 12);
    float x[5 * 7], W[4 * 7], b[4], R[5 * 4], y[5 * 4];
    float dx[5 * 7], dW[4 * 7] = {0}, db[4] = {0};
    fill_normal(x, sizeof x / sizeof *x, &r);
    fill_normal(W, sizeof W / sizeof *W, &r);
    fill_normal(b, 4, &r);
    fill_normal(R, sizeof R / sizeof *R, &r);
    nt_dense_backward(dx, dW, db, R, x, W, B, in, out, true);
    for (int i = 0; i < B * in; i++) {
        double n = fd(&x[i], x, W, b, R, y, B, in, out);
        cr_assert(rel_err(dx[i], n, 1e-2) < 1e-2, "dx[%d] = %.6g, finite difference %.6g",
                  i, (double)dx[i], n);
    }
    for (int i = 0; i < out * in; i++) {
        double n = fd(&W[i], x, W, b, R, y, B, in, out);
        cr_assert(rel_err(dW[i], n, 1e-2) < 1e-2, "dW[%d] = %.6g, finite difference %.6g",
                  i, (double)dW[i], n);
    }
    for (int i = 0; i < out; i++) {
        double n = fd(&b[i], x, W, b, R, y, B, in, out);
        cr_assert(rel_err(db[i], n, 1e-2) < 1e-2, "db[%d] = %.6g, finite difference %.6g",
                  i, (double)db[i], n);
    }
}

Test(dense, backward_accumulates_into_dW_and_db_and_overwrites_dx)
{
    const int B = 3, in = 5, out = 2;
    nt_rng r;
    nt_rng_seed(&r, 13);
    float x[15], W[10], dy[6], dW1[10] = {0}, db1[2] = {0}, dW2[10] = {0}, db2[2] = {0};
    float dx1[15], dx2[15];
    fill_normal(x, 15, &r);
    fill_normal(W, 10, &r);
    fill_normal(dy, 6, &r);
    nt_dense_backward(dx1, dW1, db1, dy, x, W, B, in, out, true);
    for (int i = 0; i < 15; i++) dx2[i] = 1e6f;  // garbage must be overwritten
    nt_dense_backward(dx2, dW2, db2, dy, x, W, B, in, out, true);
    nt_dense_backward(dx2, dW2, db2, dy, x, W, B, in, out, true);
    for (int i = 0; i < 10; i++)
        cr_assert(fabsf(dW2[i] - 2 * dW1[i]) <= 1e-5f * fabsf(dW1[i]) + 1e-6f,
                  "dW[%d] after two calls = %g, want twice %g", i, (double)dW2[i], (double)dW1[i]);
    for (int i = 0; i < 2; i++)
        cr_assert(fabsf(db2[i] - 2 * db1[i]) <= 1e-5f * fabsf(db1[i]) + 1e-6f,
                  "db[%d] after two calls = %g, want twice %g", i, (double)db2[i], (double)db1[i]);
    for (int i = 0; i < 15; i++)
        cr_assert(dx2[i] == dx1[i], "dx[%d] = %g after two calls, want %g (overwritten)",
                  i, (double)dx2[i], (double)dx1[i]);
    // db is the column sum of dy (B=3 rows, out=2)
    for (int o = 0; o < 2; o++) {
        double s = (double)dy[o] + dy[2 + o] + dy[4 + o];
        cr_assert(fabs(db1[o] - s) < 1e-6, "db[%d] = %g, sum of dy column %g", o, (double)db1[o], s);
    }
}

Test(dense, backward_with_null_dx_and_db_still_gives_dW)
{
    const float x[2] = {1.0f, 2.0f}, W[2] = {0.5f, -1.0f}, dy[1] = {3.0f};
    float dW[2] = {0};
    // B=1, in=2, out=1: dW = dy^T x = 3 * [1, 2]
    nt_dense_backward(NULL, dW, NULL, dy, x, W, 1, 2, 1, true);
    cr_assert(dW[0] == 3.0f && dW[1] == 6.0f, "dW = [%g, %g], want [3, 6]", (double)dW[0], (double)dW[1]);
}

Test(dense, backward_without_accumulate_overwrites_dW_and_db)
{
    const int B = 3, in = 5, out = 2;
    nt_rng r;
    nt_rng_seed(&r, 14);
    float x[15], W[10], dy[6], dW1[10] = {0}, db1[2] = {0}, dW2[10], db2[2], dx[15];
    fill_normal(x, 15, &r);
    fill_normal(W, 10, &r);
    fill_normal(dy, 6, &r);
    nt_dense_backward(dx, dW1, db1, dy, x, W, B, in, out, true);
    for (int i = 0; i < 10; i++) dW2[i] = 1e6f;  // garbage must be overwritten
    db2[0] = db2[1] = -1e6f;
    nt_dense_backward(dx, dW2, db2, dy, x, W, B, in, out, false);
    for (int i = 0; i < 10; i++)
        cr_assert(dW2[i] == dW1[i], "dW[%d] = %g, want %g (overwritten, not added to)",
                  i, (double)dW2[i], (double)dW1[i]);
    for (int i = 0; i < 2; i++)
        cr_assert(db2[i] == db1[i], "db[%d] = %g, want %g", i, (double)db2[i], (double)db1[i]);
}

Test(dense, bias_forward_adds_b_to_every_row)
{
    float y[6] = {0, 1, 2, 3, 4, 5};
    const float b[3] = {10, 20, 30};
    nt_bias_forward(y, b, 2, 3);
    const float want[6] = {10, 21, 32, 13, 24, 35};
    for (int i = 0; i < 6; i++)
        cr_assert(y[i] == want[i], "y[%d] = %g, want %g", i, (double)y[i], (double)want[i]);
}
