/* test_dropout.c - inverted dropout: keep rate, scaling, determinism,
 * backward against finite differences with a fixed mask, and the fused
 * dropout + activation backward. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nntune/activation.h"
#include "nntune/dropout.h"
#include "nntune/rng.h"

Test(dropout, zero_rate_copies_and_draws_nothing)
{
    float x[7] = {1, -2, 3, NAN, 5, 6, 7}, y[7];
    nt_rng r, before;
    nt_rng_seed(&r, 31);
    before = r;
    nt_dropout_forward(y, NULL, x, 7, 0.0f, &r);
    cr_assert(memcmp(&r, &before, sizeof r) == 0, "p = 0 drew from the generator");
    for (int i = 0; i < 7; i++)
        cr_assert(memcmp(&y[i], &x[i], sizeof(float)) == 0, "y[%d] = %g, want x = %g",
                  i, (double)y[i], (double)x[i]);
}

Test(dropout, keeps_about_one_minus_p_and_scales_the_kept_values)
{
    enum { N = 100001 };
    const float p = 0.3f;
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
    uint8_t *mask = malloc(N);
    for (int i = 0; i < N; i++) x[i] = 1.0f + (float)(i % 13);
    nt_rng r;
    nt_rng_seed(&r, 32);
    nt_dropout_forward(y, mask, x, N, p, &r);
    long kept = 0;
    for (int i = 0; i < N; i++) {
        cr_assert(mask[i] == 0 || mask[i] == 1, "mask[%d] = %d, want 0 or 1", i, mask[i]);
        float want = mask[i] ? x[i] * (1.0f / (1.0f - p)) : 0.0f;
        cr_assert(y[i] == want, "y[%d] = %g with mask %d and x = %g, want %g", i,
                  (double)y[i], mask[i], (double)x[i], (double)want);
        kept += mask[i];
    }
    // binomial(N, 0.7): sd = sqrt(N*0.7*0.3) ~ 145; allow 5 sd
    double expect = N * (1.0 - p), sd = sqrt(N * p * (1.0 - p));
    cr_assert(fabs(kept - expect) < 5 * sd, "kept %ld of %d, expected %.0f +- %.0f",
              kept, N, expect, 5 * sd);
    free(x); free(y); free(mask);
}

Test(dropout, same_seed_gives_same_mask_and_works_in_place)
{
    enum { N = 1001 };
    float x[N], y1[N], y2[N];
    uint8_t m1[N], m2[N];
    for (int i = 0; i < N; i++) x[i] = (float)i;
    nt_rng a, b;
    nt_rng_seed(&a, 33);
    nt_rng_seed(&b, 33);
    nt_dropout_forward(y1, m1, x, N, 0.5f, &a);
    memcpy(y2, x, sizeof x);
    nt_dropout_forward(y2, m2, y2, N, 0.5f, &b);
    cr_assert(memcmp(m1, m2, N) == 0, "two generators seeded 33 drew different masks");
    for (int i = 0; i < N; i++)
        cr_assert(y1[i] == y2[i], "in place y[%d] = %g, out of place %g", i, (double)y2[i], (double)y1[i]);
}

Test(dropout, backward_matches_finite_differences_with_a_fixed_mask)
{
    // L = sum(R * dropout(x)) with the mask fixed by reseeding before each forward
    enum { N = 64 };
    const float p = 0.25f, eps = 1e-3f;
    float x[N], R[N], y[N], dx[N];
    uint8_t mask[N];
    nt_rng r;
    nt_rng_seed(&r, 34);
    for (int i = 0; i < N; i++) x[i] = (float)nt_rng_normal(&r), R[i] = (float)nt_rng_normal(&r);
    nt_rng_seed(&r, 35);
    nt_dropout_forward(y, mask, x, N, p, &r);
    nt_dropout_backward(dx, R, mask, N, p);
    for (int i = 0; i < N; i++) {
        double L[2];
        for (int s = 0; s < 2; s++) {
            float keep = x[i];
            x[i] = keep + (s ? -eps : eps);
            nt_rng_seed(&r, 35);
            nt_dropout_forward(y, mask, x, N, p, &r);
            L[s] = 0;
            for (int j = 0; j < N; j++) L[s] += (double)R[j] * y[j];
            x[i] = keep;
        }
        double n = (L[0] - L[1]) / (2.0 * eps);
        double err = fabs(dx[i] - n) / fmax(1e-2, fmax(fabs(dx[i]), fabs(n)));
        cr_assert(err < 1e-2, "dx[%d] = %.6g (mask %d), finite difference %.6g",
                  i, (double)dx[i], mask[i], n);
    }
}

Test(dropout, fused_activation_backward_equals_the_two_steps)
{
    // z -> y = act(z) -> yd = dropout(y). Fused: from yd alone. Two steps:
    // dropout backward, then activation backward from the undropped y.
    enum { N = 203 };
    const nt_act acts[3] = {NT_ACT_RELU, NT_ACT_TANH, NT_ACT_SIGMOID};
    const float p = 0.4f;
    float z[N], y[N], yd[N], dy[N], two[N], fused[N];
    uint8_t mask[N];
    nt_rng r;
    nt_rng_seed(&r, 36);
    for (int i = 0; i < N; i++) z[i] = (float)(2 * nt_rng_normal(&r)), dy[i] = (float)nt_rng_normal(&r);
    for (int a = 0; a < 3; a++) {
        nt_act_forward(y, z, N, acts[a]);
        nt_dropout_forward(yd, mask, y, N, p, &r);
        nt_dropout_backward(two, dy, mask, N, p);
        nt_act_backward(two, two, y, N, acts[a]);
        nt_dropout_act_backward(fused, dy, yd, mask, N, p, acts[a]);
        // The fused form recovers y = yd * (1-p), a couple of roundings off
        // y; where tanh or sigmoid saturates, 1 - y^2 and y(1 - y) magnify
        // that into an absolute error of about 1e-7 * |dy| / (1-p).
        for (int i = 0; i < N; i++)
            cr_assert(fabsf(fused[i] - two[i]) <= 1e-5f * fabsf(two[i]) + 1e-6f * fabsf(dy[i]),
                      "%s: fused dx[%d] = %.8g, two steps %.8g (mask %d)",
                      nt_act_name(acts[a]), i, (double)fused[i], (double)two[i], mask[i]);
    }
}

Test(dropout, a_dropped_nan_stays_nan)
{
    float x[64], y[64];
    uint8_t mask[64];
    for (int i = 0; i < 64; i++) x[i] = NAN;
    nt_rng r;
    nt_rng_seed(&r, 37);
    nt_dropout_forward(y, mask, x, 64, 0.5f, &r);
    for (int i = 0; i < 64; i++)
        cr_assert(isnan(y[i]), "y[%d] = %g with mask %d, want NaN", i, (double)y[i], mask[i]);
}
