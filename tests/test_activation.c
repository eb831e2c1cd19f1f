/* test_activation.c - relu, tanh, sigmoid: values against libm in double,
 * IEEE edge cases, backward against finite differences, the fused
 * bias + activation. */
#include <criterion/criterion.h>
#include <math.h>

#include "nntune/activation.h"
#include "nntune/rng.h"

static double ref(nt_act a, double x)
{
    switch (a) {
    case NT_ACT_RELU: return x > 0 ? x : 0;
    case NT_ACT_TANH: return tanh(x);
    default: return 1.0 / (1.0 + exp(-x));
    }
}

static const nt_act ACTS[] = {NT_ACT_RELU, NT_ACT_TANH, NT_ACT_SIGMOID};

Test(activation, forward_matches_double_precision_within_a_few_ulp)
{
    // 4001 points over [-50, 50], plus tiny values where tanh(x) ~ x
    enum { N = 4001 + 40 };
    static float x[N], y[N];
    for (int i = 0; i < 4001; i++) x[i] = -50.0f + 0.025f * (float)i;
    for (int i = 0; i < 40; i++) x[4001 + i] = (i % 2 ? -1.0f : 1.0f) * powf(10.0f, -(float)i / 2);
    for (int a = 0; a < 3; a++) {
        nt_act_forward(y, x, N, ACTS[a]);
        for (int i = 0; i < N; i++) {
            double want = ref(ACTS[a], x[i]);
            double tol = 4 * 6e-8 * fabs(want) + 1e-37;  // ~4 ulp
            cr_assert(fabs(y[i] - want) <= tol, "%s(%.9g) = %.9g, double precision %.9g",
                      nt_act_name(ACTS[a]), (double)x[i], (double)y[i], want);
        }
    }
}

Test(activation, forward_keeps_nan_and_reaches_the_limits_at_infinity)
{
    const float x[3] = {NAN, INFINITY, -INFINITY};
    const float want[3][3] = {{NAN, INFINITY, 0.0f}, {NAN, 1.0f, -1.0f}, {NAN, 1.0f, 0.0f}};
    for (int a = 0; a < 3; a++) {
        float y[3];
        nt_act_forward(y, x, 3, ACTS[a]);
        cr_assert(isnan(y[0]), "%s(NaN) = %g, want NaN (divergence must stay visible)",
                  nt_act_name(ACTS[a]), (double)y[0]);
        for (int i = 1; i < 3; i++)
            cr_assert(y[i] == want[a][i], "%s(%g) = %g, want %g", nt_act_name(ACTS[a]),
                      (double)x[i], (double)y[i], (double)want[a][i]);
    }
}

Test(activation, backward_matches_finite_differences)
{
    // L = sum(R * act(x)); dL/dx by backward from the output vs central differences
    enum { N = 257 };
    float x[N], y[N], R[N], dx[N];
    nt_rng r;
    nt_rng_seed(&r, 21);
    for (int i = 0; i < N; i++) {
        float v = (float)(3.0 * nt_rng_normal(&r));
        x[i] = fabsf(v) < 0.05f ? 0.5f : v;  // stay off relu's kink
        R[i] = (float)nt_rng_normal(&r);
    }
    const float eps = 1e-3f;
    for (int a = 0; a < 3; a++) {
        nt_act_forward(y, x, N, ACTS[a]);
        nt_act_backward(dx, R, y, N, ACTS[a]);
        for (int i = 0; i < N; i++) {
            float xp = x[i] + eps, xm = x[i] - eps, yp, ym;
            nt_act_forward(&yp, &xp, 1, ACTS[a]);
            nt_act_forward(&ym, &xm, 1, ACTS[a]);
            double n = (double)R[i] * ((double)yp - ym) / ((double)xp - xm);
            double err = fabs(dx[i] - n) / fmax(1e-2, fmax(fabs(dx[i]), fabs(n)));
            cr_assert(err < 1e-2, "%s: dx at x=%.6g is %.6g, finite difference %.6g",
                      nt_act_name(ACTS[a]), (double)x[i], (double)dx[i], n);
        }
    }
}

Test(activation, works_in_place)
{
    float x[5] = {-2, -0.5f, 0, 0.5f, 2}, y[5], dy[5] = {1, 2, 3, 4, 5}, dx[5];
    for (int a = 0; a < 3; a++) {
        float v[5], g[5];
        for (int i = 0; i < 5; i++) v[i] = x[i], g[i] = dy[i];
        nt_act_forward(y, x, 5, ACTS[a]);
        nt_act_forward(v, v, 5, ACTS[a]);
        nt_act_backward(dx, dy, y, 5, ACTS[a]);
        nt_act_backward(g, g, v, 5, ACTS[a]);
        for (int i = 0; i < 5; i++) {
            cr_assert(v[i] == y[i], "%s in place: y[%d] = %g, out of place %g",
                      nt_act_name(ACTS[a]), i, (double)v[i], (double)y[i]);
            cr_assert(g[i] == dx[i], "%s backward in place: dx[%d] = %g, out of place %g",
                      nt_act_name(ACTS[a]), i, (double)g[i], (double)dx[i]);
        }
    }
}

Test(activation, backward_uses_the_derivative_from_the_output)
{
    // y -> act'(x) written from y: relu [y>0], tanh 1-y^2, sigmoid y(1-y)
    const float y[3] = {0.0f, 0.5f, 0.25f}, dy[3] = {2, 2, 2};
    float dx[3];
    nt_act_backward(dx, dy, y, 3, NT_ACT_RELU);
    cr_assert(dx[0] == 0 && dx[1] == 2 && dx[2] == 2, "relu dx = [%g %g %g], want [0 2 2]",
              (double)dx[0], (double)dx[1], (double)dx[2]);
    nt_act_backward(dx, dy, y, 3, NT_ACT_TANH);  // 2*(1-0.25) = 1.5, 2*(1-1/16) = 1.875
    cr_assert(dx[0] == 2 && dx[1] == 1.5f && dx[2] == 1.875f, "tanh dx = [%g %g %g], want [2 1.5 1.875]",
              (double)dx[0], (double)dx[1], (double)dx[2]);
    nt_act_backward(dx, dy, y, 3, NT_ACT_SIGMOID);  // 2*0.5*0.5 = 0.5, 2*0.25*0.75 = 0.375
    cr_assert(dx[0] == 0 && dx[1] == 0.5f && dx[2] == 0.375f, "sigmoid dx = [%g %g %g], want [0 0.5 0.375]",
              (double)dx[0], (double)dx[1], (double)dx[2]);
}

Test(activation, fused_bias_activation_equals_bias_then_activation)
{
    enum { B = 3, n = 19 };
    float y[B * n], z[B * n], b[n];
    nt_rng r;
    nt_rng_seed(&r, 22);
    for (int i = 0; i < B * n; i++) y[i] = (float)nt_rng_normal(&r);
    for (int j = 0; j < n; j++) b[j] = (float)nt_rng_normal(&r);
    for (int a = 0; a < 3; a++) {
        float f[B * n];
        for (int i = 0; i < B * n; i++) f[i] = y[i], z[i] = y[i] + b[i % n];
        nt_bias_act_forward(f, b, B, n, ACTS[a]);
        nt_act_forward(z, z, B * n, ACTS[a]);
        for (int i = 0; i < B * n; i++)
            cr_assert(f[i] == z[i], "%s: fused [%d] = %.9g, separate %.9g",
                      nt_act_name(ACTS[a]), i, (double)f[i], (double)z[i]);
    }
}
