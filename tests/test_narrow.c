/* test_narrow.c - the kernels of a layer with at most 16 outputs against
 * naive double-precision loops: every output and only those written, on
 * row counts around the 8-row groups, input counts around the 16-lane
 * groups, slices of the inputs, and dW accumulated or overwritten. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nntune/narrow.h"
#include "nntune/rng.h"

static void fill_normal(float *a, size_t n, nt_rng *r)
{
    for (size_t i = 0; i < n; i++) a[i] = (float)nt_rng_normal(r);
}

static void skip_without_avx512(void)
{
    if (!nt_narrow_available(10)) cr_skip_test("this build has no narrow kernels (no AVX-512)");
}

// dW[h][j] = sum over the rows of x[b][h] dy[b][j], in double
static double naive_dW(const float *x, const float *dy, int B, int in, int out, int h, int j)
{
    double sum = 0;
    for (int b = 0; b < B; b++) sum += (double)x[b * in + h] * dy[b * out + j];
    return sum;
}

// a value no product gives, to see what a kernel wrote
static const float UNTOUCHED = 12345.0f;

static void check_shape(int B, int in, int out, int i0, int i1, nt_rng *r)
{
    float *x = malloc(sizeof(float) * B * in), *W = malloc(sizeof(float) * in * out);
    float *dy = malloc(sizeof(float) * B * out), *y = malloc(sizeof(float) * B * out);
    float *dW = malloc(sizeof(float) * in * out), *dx = malloc(sizeof(float) * B * in);
    fill_normal(x, (size_t)B * in, r);
    fill_normal(W, (size_t)in * out, r);
    fill_normal(dy, (size_t)B * out, r);
    for (int i = 0; i < B * out; i++) y[i] = UNTOUCHED;
    for (int i = 0; i < in * out; i++) dW[i] = UNTOUCHED;
    for (int i = 0; i < B * in; i++) dx[i] = UNTOUCHED;
    nt_narrow_forward(y, x, W, B, in, out, i0, i1);
    nt_narrow_grad(dW, dy, x, B, in, out, i0, i1, false);
    nt_narrow_input_grad(dx, dy, W, B, in, out);
    // sums of up to 100 products of normals, in another order: 1e-4
    for (int b = 0; b < B; b++)
        for (int j = 0; j < out; j++) {
            double want = 0;
            for (int h = i0; h < i1; h++) want += (double)x[b * in + h] * W[h * out + j];
            cr_assert(fabs(y[b * out + j] - want) < 1e-4, "B %d in %d out %d [%d, %d): "
                      "y[%d][%d] = %g, want %g", B, in, out, i0, i1, b, j, y[b * out + j], want);
        }
    for (int h = 0; h < in; h++)
        for (int j = 0; j < out; j++) {
            double want = naive_dW(x, dy, B, in, out, h, j);
            float got = dW[h * out + j];
            if (h < i0 || h >= i1)
                cr_assert_eq(got, UNTOUCHED, "B %d in %d out %d [%d, %d): dW row %d written",
                             B, in, out, i0, i1, h);
            else
                cr_assert(fabs(got - want) < 1e-4, "B %d in %d out %d: dW[%d][%d] = %g, want %g",
                          B, in, out, h, j, got, want);
        }
    for (int b = 0; b < B; b++)
        for (int h = 0; h < in; h++) {
            double want = 0;
            for (int j = 0; j < out; j++) want += (double)dy[b * out + j] * W[h * out + j];
            cr_assert(fabs(dx[b * in + h] - want) < 1e-4, "B %d in %d out %d: dx[%d][%d] = %g, "
                      "want %g", B, in, out, b, h, dx[b * in + h], want);
        }
    // accumulate: dW += x^T dy on top of what is there
    for (int i = 0; i < in * out; i++) dW[i] = 1.0f;
    nt_narrow_grad(dW, dy, x, B, in, out, 0, in, true);
    for (int h = 0; h < in; h++)
        for (int j = 0; j < out; j++) {
            double want = 1.0 + naive_dW(x, dy, B, in, out, h, j);
            cr_assert(fabs(dW[h * out + j] - want) < 1e-4, "B %d in %d out %d: accumulated "
                      "dW[%d][%d] = %g, want %g", B, in, out, h, j, dW[h * out + j], want);
        }
    free(x); free(W); free(dy); free(y); free(dW); free(dx);
}

Test(narrow, the_three_products_match_naive_loops_on_odd_shapes_and_slices)
{
    skip_without_avx512();
    const int Bs[] = {1, 7, 8, 9, 130}, ins[] = {1, 15, 16, 17, 100}, outs[] = {1, 10, 16};
    nt_rng r;
    nt_rng_seed(&r, 41);
    for (size_t bi = 0; bi < sizeof Bs / sizeof *Bs; bi++)
        for (size_t ii = 0; ii < sizeof ins / sizeof *ins; ii++)
            for (size_t oi = 0; oi < sizeof outs / sizeof *outs; oi++) {
                int B = Bs[bi], in = ins[ii], out = outs[oi];
                check_shape(B, in, out, 0, in, &r);
                if (in >= 5) check_shape(B, in, out, 2, in - 3, &r);  // a slice, as a shard's
                check_shape(B, in, out, in / 2, in / 2, &r);          // an empty one
            }
}

Test(narrow, only_layers_of_at_most_16_outputs_take_them)
{
    skip_without_avx512();
    cr_assert(nt_narrow_available(1) && nt_narrow_available(16));
    cr_assert(!nt_narrow_available(17) && !nt_narrow_available(0));
}
