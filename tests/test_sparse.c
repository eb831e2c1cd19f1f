/* test_sparse.c - the sparse first layer: its non-zero bits by inputs, its
 * products bit for bit against a plain loop and against the dense GEMMs on
 * odd shapes and densities, the density cut-off, and a network that trains
 * the same with the sparse path on and off. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nntune/dense.h"
#include "nntune/net.h"
#include "nntune/sparse.h"

#include "net_helpers.h"

// x (B, in) with about `density` of its values non-zero (uniform in (0, 1],
// like scaled pixels); row 1 all zero when B > 1, so some row is empty
static void fill_sparse(float *x, int B, int in, double density, nt_rng *r)
{
    for (int i = 0; i < B * in; i++)
        x[i] = nt_rng_uniform(r) < density ? (float)(1.0 - nt_rng_uniform(r)) : 0.0f;
    if (B > 1) memset(x + in, 0, (size_t)in * sizeof *x);
}

static void fill_normal(float *a, size_t n, nt_rng *r)
{
    for (size_t i = 0; i < n; i++) a[i] = (float)nt_rng_normal(r);
}

// the largest |a - b|; infinite where either is NaN (fmax would skip it)
static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        m = isnan(d) ? INFINITY : fmax(m, d);
        if (isinf(m)) break;
    }
    return m;
}

static void skip_without_avx512(void)
{
    if (!nt_sparse_available()) cr_skip_test("this build has no sparse kernels (no AVX-512)");
}

// whether x[r, i] is non-zero, as sp's bits by inputs say
static bool listed_at(const nt_sparse *sp, int r, int i)
{
    return sp->col_rows[(size_t)(r / 64) * sp->inputs64 + i] >> (r % 64) & 1;
}

Test(sparse, the_rows_of_each_input_are_where_it_is_non_zero)
{
    skip_without_avx512();
    // rows across 64-row words, inputs across 64-input squares, in slices
    enum { B = 130, IN = 150 };
    const int cut[] = {0, 48, 64, 144, IN};
    nt_rng r;
    nt_rng_seed(&r, 20);
    float *x = malloc(sizeof(float) * B * IN);
    nt_sparse sp;
    cr_assert_eq(nt_sparse_init(&sp, 200, IN), NT_OK);
    for (int round = 0; round < 2; round++) {  // the second over the first's bits
        fill_sparse(x, B - round, IN, 0.3 - 0.2 * round, &r);
        for (int k = 0; k < 4; k++) {
            nt_sparse_build_inputs(&sp, x, B - round, cut[k], cut[k + 1], 1.0);
            for (int i = cut[k]; i < cut[k + 1]; i++)
                for (int row = 0; row < 200; row++) {
                    bool want = row < B - round && x[row * IN + i] != 0.0f;
                    cr_assert_eq(listed_at(&sp, row, i), want,
                                 "round %d, slice %d: row %d of input %d listed %d, want %d",
                                 round, k, row, i, listed_at(&sp, row, i), want);
                }
        }
    }
    nt_sparse_free(&sp);
    free(x);
}

Test(sparse, products_equal_a_plain_loop_over_the_non_zero_values_bit_for_bit)
{
    skip_without_avx512();
    // each sum in ascending order, as fused multiply-adds: y over the
    // inputs, dW over the rows; outputs around the 16-lane and 64-output
    // tiles, rows around the 64-row words and the forward's 128-row tiles,
    // inputs around dW's groups of 2 and 4
    const int Bs[] = {1, 63, 64, 65, 128, 130, 257}, ins[] = {3, 7, 100};
    const int outs[] = {1, 10, 63, 64, 65, 130};
    nt_rng r;
    nt_rng_seed(&r, 23);
    for (size_t bi = 0; bi < sizeof Bs / sizeof *Bs; bi++)
        for (size_t ii = 0; ii < sizeof ins / sizeof *ins; ii++)
            for (size_t oi = 0; oi < sizeof outs / sizeof *outs; oi++) {
                int B = Bs[bi], in = ins[ii], out = outs[oi];
                float *x = malloc(sizeof(float) * B * in), *W = malloc(sizeof(float) * in * out);
                float *dy = malloc(sizeof(float) * B * out), *y = malloc(sizeof(float) * B * out);
                float *dW = malloc(sizeof(float) * in * out);
                fill_sparse(x, B, in, 0.25, &r);
                fill_normal(W, (size_t)in * out, &r);
                fill_normal(dy, (size_t)B * out, &r);
                nt_sparse sp;
                cr_assert_eq(nt_sparse_init(&sp, B, in), NT_OK);
                cr_assert(nt_sparse_build(&sp, x, B, 1.0));
                nt_sparse_forward(y, &sp, W, out);
                nt_sparse_backward(dW, &sp, dy, out);
                for (int row = 0; row < B; row++)
                    for (int o = 0; o < out; o++) {
                        float want = 0.0f;
                        for (int i = 0; i < in; i++)
                            if (x[row * in + i] != 0.0f)
                                want = fmaf(x[row * in + i], W[i * out + o], want);
                        cr_assert(memcmp(&want, &y[row * out + o], sizeof want) == 0,
                                  "B=%d in=%d out=%d: y[%d][%d] = %.9g, the loop %.9g", B, in,
                                  out, row, o, y[row * out + o], want);
                    }
                for (int i = 0; i < in; i++)
                    for (int o = 0; o < out; o++) {
                        float want = 0.0f;
                        for (int row = 0; row < B; row++)
                            if (x[row * in + i] != 0.0f)
                                want = fmaf(x[row * in + i], dy[row * out + o], want);
                        cr_assert(memcmp(&want, &dW[i * out + o], sizeof want) == 0,
                                  "B=%d in=%d out=%d: dW[%d][%d] = %.9g, the loop %.9g", B, in,
                                  out, i, o, dW[i * out + o], want);
                    }
                nt_sparse_free(&sp);
                free(x);
                free(W);
                free(dy);
                free(y);
                free(dW);
            }
}

Test(sparse, forward_and_backward_match_the_gemms_on_odd_shapes_and_densities)
{
    skip_without_avx512();
    // B around the 64-row words, out around the 16-lane and 64-output tiles
    const int Bs[] = {1, 3, 5, 13, 64, 128}, ins[] = {1, 17, 784}, outs[] = {1, 10, 16, 63, 64, 65, 256};
    const double densities[] = {0.0, 0.05, 0.19, 0.3};
    nt_rng r;
    nt_rng_seed(&r, 21);
    for (size_t bi = 0; bi < sizeof Bs / sizeof *Bs; bi++)
        for (size_t ii = 0; ii < sizeof ins / sizeof *ins; ii++)
            for (size_t oi = 0; oi < sizeof outs / sizeof *outs; oi++) {
                int B = Bs[bi], in = ins[ii], out = outs[oi];
                float *x = malloc(sizeof(float) * B * in), *W = malloc(sizeof(float) * in * out);
                float *dy = malloc(sizeof(float) * B * out);
                float *y1 = malloc(sizeof(float) * B * out), *y2 = malloc(sizeof(float) * B * out);
                float *g1 = malloc(sizeof(float) * in * out), *g2 = malloc(sizeof(float) * in * out);
                nt_sparse sp;
                cr_assert_eq(nt_sparse_init(&sp, B, in), NT_OK);
                fill_normal(W, (size_t)in * out, &r);
                fill_normal(dy, (size_t)B * out, &r);
                for (size_t di = 0; di < sizeof densities / sizeof *densities; di++) {
                    fill_sparse(x, B, in, densities[di], &r);
                    cr_assert(nt_sparse_build(&sp, x, B, 1.0), "B=%d in=%d: build refused", B, in);
                    nt_dense_forward(y1, x, W, NULL, B, in, out);
                    for (int i = 0; i < B * out; i++) y2[i] = NAN;  // every output written
                    nt_sparse_forward(y2, &sp, W, out);
                    double ef = max_abs_diff(y1, y2, (size_t)B * out);
                    nt_dense_backward(NULL, g1, NULL, dy, x, W, B, in, out, false);
                    for (int i = 0; i < in * out; i++) g2[i] = NAN;
                    nt_sparse_backward(g2, &sp, dy, out);
                    double eb = max_abs_diff(g1, g2, (size_t)in * out);
                    // sums of up to 784 terms of size ~1 in another order
                    cr_assert(ef < 1e-4 && eb < 1e-4,
                              "B=%d in=%d out=%d density %.2f: |y - gemm| = %.3g, "
                              "|dW - gemm| = %.3g", B, in, out, densities[di], ef, eb);
                }
                nt_sparse_free(&sp);
                free(x); free(W); free(dy); free(y1); free(y2); free(g1); free(g2);
            }
}

Test(sparse, lists_built_in_slices_of_the_inputs_add_up_to_the_whole)
{
    skip_without_avx512();
    // slices as threads get them: at multiples of 16, one empty, the last short
    enum { B = 13, IN = 50, OUT = 20, SLICES = 4 };
    const int cut[SLICES + 1] = {0, 16, 16, 48, IN};
    nt_rng r;
    nt_rng_seed(&r, 22);
    float x[B * IN], W[IN * OUT], dy[B * OUT], y1[B * OUT], y2[B * OUT], part[B * OUT];
    float g1[IN * OUT], g2[IN * OUT];
    fill_sparse(x, B, IN, 0.2, &r);
    fill_normal(W, IN * OUT, &r);
    fill_normal(dy, B * OUT, &r);
    nt_sparse whole, sp[SLICES];
    cr_assert_eq(nt_sparse_init(&whole, B, IN), NT_OK);
    cr_assert(nt_sparse_build(&whole, x, B, 1.0));
    size_t nnz = 0;
    for (int k = 0; k < SLICES; k++) {
        cr_assert_eq(nt_sparse_init(&sp[k], B, IN), NT_OK);
        nnz += nt_sparse_build_inputs(&sp[k], x, B, cut[k], cut[k + 1], 1.0);
    }
    cr_assert_eq(nnz, whole.nnz, "the slices saw %zu non-zero values, the whole %zu", nnz,
                 whole.nnz);
    for (int g = 0; g < (IN + 15) / 16; g++) {
        int seen = 0;
        for (int k = 0; k < SLICES; k++) seen += sp[k].group_work[g];
        cr_assert_eq(seen, whole.group_work[g], "group %d: the slices count %d, the whole %d", g,
                     seen, whole.group_work[g]);
    }
    memset(y2, 0, sizeof y2);
    for (int i = 0; i < IN * OUT; i++) g2[i] = NAN;
    for (int k = 0; k < SLICES; k++) {
        cr_assert(nt_sparse_finish(&sp[k], B, nnz, 1.0));
        nt_sparse_forward_inputs(part, &sp[k], W, OUT, cut[k], cut[k + 1]);
        for (int i = 0; i < B * OUT; i++) y2[i] += part[i];
        nt_sparse_backward_inputs(g2, &sp[k], dy, OUT, cut[k], cut[k + 1]);
    }
    nt_dense_forward(y1, x, W, NULL, B, IN, OUT);
    nt_dense_backward(NULL, g1, NULL, dy, x, W, B, IN, OUT, false);
    double ef = max_abs_diff(y1, y2, B * OUT), eb = max_abs_diff(g1, g2, IN * OUT);
    cr_assert(ef < 1e-5 && eb < 1e-5, "|y - gemm| = %.3g, |dW - gemm| = %.3g", ef, eb);
    for (int k = 0; k < SLICES; k++) nt_sparse_free(&sp[k]);
    nt_sparse_free(&whole);
}

// A build that reads the batch's rows as bytes finds what one from its
// floats finds: the same bits by inputs, counts and work, whole or in
// slices at multiples of 16 that are not of 64 (as the shards cut), rows
// around the 64-row words and inputs past a word's end
Test(sparse, a_build_from_the_rows_bytes_equals_one_from_the_floats)
{
    skip_without_avx512();
    enum { B = 130, IN = 150, SLICES = 3 };
    const int cut[SLICES + 1] = {0, 48, 112, IN};
    nt_rng r;
    nt_rng_seed(&r, 29);
    static uint8_t bytes[B][IN];
    static float x[B * IN];
    const uint8_t *rows[B];
    for (int i = 0; i < B; i++) {
        for (int j = 0; j < IN; j++) {
            bytes[i][j] = nt_rng_uniform(&r) < 0.3 ? (uint8_t)(1 + nt_rng_below(&r, 255)) : 0;
            x[i * IN + j] = bytes[i][j] / 255.0f;
        }
        rows[i] = bytes[i];
    }
    for (int k = 0; k <= SLICES; k++) {
        // k < SLICES: slice k; k == SLICES: all inputs
        const int i0 = k < SLICES ? cut[k] : 0, i1 = k < SLICES ? cut[k + 1] : IN;
        nt_sparse a, b;
        cr_assert_eq(nt_sparse_init(&a, B, IN), NT_OK);
        cr_assert_eq(nt_sparse_init(&b, B, IN), NT_OK);
        size_t na = nt_sparse_build_inputs(&a, x, B, i0, i1, 1.0);
        size_t nb = nt_sparse_build_inputs_rows(&b, x, rows, B, i0, i1, 1.0);
        cr_assert_eq(na, nb, "inputs [%d, %d): %zu non-zero from floats, %zu from bytes", i0, i1,
                     na, nb);
        for (int g = 0; g < a.inputs64 / 16; g++)
            cr_assert_eq(a.group_work[g], b.group_work[g], "inputs [%d, %d) group %d: %d, %d", i0,
                         i1, g, a.group_work[g], b.group_work[g]);
        for (int i = i0; i < i1; i++)
            for (int w = 0; w < a.words; w++)
                cr_assert_eq(a.col_rows[(size_t)w * a.inputs64 + i],
                             b.col_rows[(size_t)w * b.inputs64 + i],
                             "input %d, rows %d..: bits differ", i, 64 * w);
        // and the cut-off stops both at the same place
        cr_assert_eq(nt_sparse_build_inputs(&a, x, B, i0, i1, 0.1),
                     nt_sparse_build_inputs_rows(&b, x, rows, B, i0, i1, 0.1));
        nt_sparse_free(&a);
        nt_sparse_free(&b);
    }
    nt_sparse whole;
    cr_assert_eq(nt_sparse_init(&whole, B, IN), NT_OK);
    cr_assert(nt_sparse_build_rows(&whole, x, rows, B, 1.0));
    for (int i = 0; i < B; i++)
        for (int j = 0; j < IN; j++)
            cr_assert_eq(listed_at(&whole, i, j), bytes[i][j] != 0, "x[%d, %d]", i, j);
    nt_sparse_free(&whole);
}

Test(sparse, a_batch_denser_than_the_cut_off_is_refused_and_counted_up_to_there)
{
    skip_without_avx512();
    enum { B = 8, IN = 100 };
    float x[B * IN] = {0};
    nt_sparse sp;
    cr_assert_eq(nt_sparse_init(&sp, B, IN), NT_OK);
    for (int i = 0; i < 240; i++) x[i * 3 + 1] = 0.5f;  // 240 of 800 non-zero: 30%
    cr_assert(nt_sparse_build(&sp, x, B, 0.3), "30%% non-zero refused at a 0.3 cut-off");
    cr_assert(sp.B == B && sp.nnz == 240, "built B = %d, nnz = %zu; want 8, 240", sp.B, sp.nnz);
    x[799] = 0.25f;  // one more: above the cut-off
    cr_assert(!nt_sparse_build(&sp, x, B, 0.3), "241 of 800 non-zero accepted at a 0.3 cut-off");
    cr_assert_eq(sp.B, 0, "a refused build left B = %d", sp.B);
    memset(x, 0, sizeof x);
    cr_assert(nt_sparse_build(&sp, x, 5, 0.0), "an all-zero batch refused at cut-off 0");
    for (int i = 0; i < IN; i++)
        cr_assert_eq(sp.col_rows[i], 0, "an all-zero batch has rows at input %d", i);
    nt_sparse_free(&sp);
    nt_sparse_free(&sp);  // safe twice
}

// a 20-20-4 net on mostly-zero inputs, trained for a few SGD steps with the
// sparse first layer on or off; returns the final parameters (caller frees)
static float *train_few_steps(nt_arch a, bool sparse, bool *used_sparse)
{
    enum { B = 13, STEPS = 20 };
    nt_net net = make_net(a, B, 31);
    nt_net_set_sparse(&net, sparse ? NT_SPARSE_MAX_DENSITY : 0.0);
    nt_rng r, drop;
    nt_rng_seed(&r, 32);
    nt_rng_seed(&drop, 33);
    float x[B * 20];
    int32_t y[B];
    *used_sparse = true;
    for (int s = 0; s < STEPS; s++) {
        fill_sparse(x, B, a.n_in, 0.15, &r);
        for (int i = 0; i < B; i++) y[i] = (int32_t)nt_rng_below(&r, (uint64_t)a.n_out);
        nt_net_forward(&net, x, B, true, &drop);
        *used_sparse &= net.input_sparse;
        nt_net_backward(&net, y, B, 1e-3f);
        for (size_t i = 0; i < net.n_params; i++) net.params[i] -= 0.1f * net.grads[i];
    }
    float *p = malloc(net.n_params * sizeof *p);
    memcpy(p, net.params, net.n_params * sizeof *p);
    nt_net_free(&net);
    return p;
}

Test(sparse, a_network_trains_the_same_with_the_sparse_first_layer_on_and_off)
{
    skip_without_avx512();
    nt_arch deep = {.n_in = 20, .n_out = 4, .n_hidden = 2, .hidden = {20, 5},
                    .act = NT_ACT_RELU, .dropout = 0.2f};
    nt_arch flat = {.n_in = 20, .n_out = 4, .n_hidden = 0};  // the first layer is the output
    const nt_arch archs[] = {deep, flat};
    for (int k = 0; k < 2; k++) {
        bool on, off;
        float *ps = train_few_steps(archs[k], true, &on);
        float *pd = train_few_steps(archs[k], false, &off);
        cr_assert(on && !off, "%d hidden layers: sparse path used %d with it on, %d with it off",
                  archs[k].n_hidden, on, off);
        size_t n = nt_arch_n_params(&archs[k]);
        double e = max_abs_diff(ps, pd, n);
        cr_assert(e < 1e-5, "%d hidden layers: parameters after 20 steps differ by %.3g "
                  "between the sparse and the GEMM first layer", archs[k].n_hidden, e);
        free(ps);
        free(pd);
    }
}

Test(sparse, a_dense_batch_takes_the_gemms)
{
    skip_without_avx512();
    nt_arch a = {.n_in = 20, .n_out = 4, .n_hidden = 1, .hidden = {8}, .act = NT_ACT_TANH};
    nt_net net = make_net(a, 6, 41);
    float x[6 * 20];
    int32_t y[6];
    fill_data(x, y, 6, 20, 4, 42);  // normal values: all non-zero
    nt_net_forward(&net, x, 6, false, NULL);
    cr_assert(!net.input_sparse, "a batch with every value non-zero went sparse");
    nt_net_free(&net);
}
