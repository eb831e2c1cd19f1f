/* test_gp.c - the Gaussian process against hand computations: kernel
 * values, the posterior on three points with fixed hyperparameters (3x3
 * inverse in closed form), the likelihood gradient against finite
 * differences, expected improvement against its closed form, a fit that
 * tells a flat dimension from a wiggly one, and fits that reuse the last
 * fit's curvature reaching the optimum of fits from scratch. */
#include <criterion/criterion.h>

#include <math.h>
#include <string.h>

#include "nntune/gp.h"

Test(gp, matern52_matches_hand_values_at_a_few_distances)
{
    // (1 + sqrt5 r + 5 r^2/3) exp(-sqrt5 r), evaluated separately
    const double r[] = {0.0, 0.25, 0.5, 1.0, 2.0};
    const double want[] = {1.0, 0.950959921678633, 0.8286491424181255,
                           0.5239941088318203, 0.13866021913850426};
    for (int i = 0; i < 5; i++) {
        double got = nt_gp_matern52(r[i]);
        cr_assert(fabs(got - want[i]) < 1e-14,
                  "M52(%g) = %.17g, want %.17g", r[i], got, want[i]);
    }
}

static double m52(double r)
{
    double s = sqrt(5.0) * r;
    return (1.0 + s + 5.0 * r * r / 3.0) * exp(-s);
}

Test(gp, posterior_matches_a_closed_form_3x3_inverse)
{
    // 1-D, three points, fixed amp = 1.5, ls = 0.4, noise = 0.05
    const double X[3] = {0.1, 0.5, 0.8}, y[3] = {1.0, 2.0, 0.5};
    const double amp = 1.5, ls = 0.4, noise = 0.05;
    nt_gp gp;
    cr_assert_eq(nt_gp_init(&gp, 1, 3), NT_OK);
    cr_assert_eq(nt_gp_set_data(&gp, X, y, 3), NT_OK);
    gp.theta[0] = log(amp);
    gp.theta[1] = log(ls);
    gp.theta[2] = log(noise);
    cr_assert_eq(nt_gp_factor(&gp), NT_OK);

    // normalization by hand: mean 7/6, population std
    double mean = 3.5 / 3.0, var = 0.0;
    for (int i = 0; i < 3; i++) var += (y[i] - mean) * (y[i] - mean);
    double sd = sqrt(var / 3.0);
    double yn[3];
    for (int i = 0; i < 3; i++) yn[i] = (y[i] - mean) / sd;
    cr_assert(fabs(gp.y_mean - mean) < 1e-14 && fabs(gp.y_std - sd) < 1e-14,
              "normalization %g, %g; want %g, %g", gp.y_mean, gp.y_std, mean, sd);

    double K[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            K[i][j] = amp * m52(fabs(X[i] - X[j]) / ls) +
                      (i == j ? noise + NT_GP_JITTER : 0.0);
    // inverse = adjugate / determinant
    double a = K[0][0], b = K[0][1], c = K[0][2], e = K[1][1], f = K[1][2],
           i2 = K[2][2];
    double C00 = e * i2 - f * f, C01 = -(b * i2 - c * f), C02 = b * f - c * e;
    double C11 = a * i2 - c * c, C12 = -(a * f - b * c), C22 = a * e - b * b;
    double det = a * C00 + b * C01 + c * C02;
    double Ki[3][3] = {{C00, C01, C02}, {C01, C11, C12}, {C02, C12, C22}};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) Ki[i][j] /= det;

    const double xs[] = {0.0, 0.3, 0.5, 0.95};
    for (int t = 0; t < 4; t++) {
        double k[3], mu_n = 0.0, q = 0.0;
        for (int i = 0; i < 3; i++) k[i] = amp * m52(fabs(xs[t] - X[i]) / ls);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) {
                mu_n += k[i] * Ki[i][j] * yn[j];
                q += k[i] * Ki[i][j] * k[j];
            }
        double want_mu = mean + sd * mu_n, want_var = sd * sd * (amp - q);
        double mu, v;
        nt_gp_predict(&gp, &xs[t], &mu, &v);
        cr_assert(fabs(mu - want_mu) < 1e-10 && fabs(v - want_var) < 1e-10,
                  "at x=%g: mean %.12g var %.12g, closed form %.12g, %.12g",
                  xs[t], mu, v, want_mu, want_var);
    }
    nt_gp_free(&gp);
}

Test(gp, one_point_or_equal_targets_keep_unit_scale)
{
    const double X[2] = {0.2, 0.7}, y[2] = {3.0, 3.0};
    nt_gp gp;
    cr_assert_eq(nt_gp_init(&gp, 1, 2), NT_OK);
    cr_assert_eq(nt_gp_set_data(&gp, X, y, 1), NT_OK);
    cr_assert(gp.y_mean == 3.0 && gp.y_std == 1.0, "n=1: mean %g std %g",
              gp.y_mean, gp.y_std);
    cr_assert_eq(nt_gp_set_data(&gp, X, y, 2), NT_OK);
    cr_assert(gp.y_mean == 3.0 && gp.y_std == 1.0, "equal y: mean %g std %g",
              gp.y_mean, gp.y_std);
    cr_assert_eq(nt_gp_fit(&gp, 0, NULL), NT_OK);
    double mu, v;
    nt_gp_predict(&gp, &X[0], &mu, &v);
    cr_assert(fabs(mu - 3.0) < 1e-9 && isfinite(v), "mean %g var %g", mu, v);
    nt_gp_free(&gp);
}

// a small 3-D data set with a trend and a wiggle
static void toy_data(nt_gp *gp, int n)
{
    double X[24 * 3], y[24];
    nt_rng r = nt_rng_stream(11, 0);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < 3; j++) X[i * 3 + j] = nt_rng_uniform(&r);
        y[i] = sin(6.0 * X[i * 3]) + X[i * 3 + 1] * X[i * 3 + 1] +
               0.1 * nt_rng_normal(&r);
    }
    cr_assert_eq(nt_gp_set_data(gp, X, y, n), NT_OK);
}

Test(gp, log_marginal_gradient_matches_finite_differences)
{
    nt_gp gp;
    cr_assert_eq(nt_gp_init(&gp, 3, 24), NT_OK);
    toy_data(&gp, 24);
    const double thetas[2][5] = {
        {log(1.3), log(0.3), log(0.8), log(2.0), log(0.02)},
        {log(0.4), log(0.1), log(5.0), log(0.05), log(1e-4)},
    };
    for (int t = 0; t < 2; t++) {
        double th[5], g[5], gp_[5];
        memcpy(th, thetas[t], sizeof th);
        double f = nt_gp_log_marginal(&gp, th, g);
        cr_assert(isfinite(f), "log marginal %g", f);
        memset(gp_, 0, sizeof gp_);
        nt_gp_log_prior(3, th, gp_);
        for (int p = 0; p < 5; p++) {
            const double h = 1e-5;
            double tp[5], tm[5];
            memcpy(tp, th, sizeof tp);
            memcpy(tm, th, sizeof tm);
            tp[p] += h;
            tm[p] -= h;
            double fd = (nt_gp_log_marginal(&gp, tp, NULL) -
                         nt_gp_log_marginal(&gp, tm, NULL)) / (2 * h);
            cr_assert(fabs(fd - g[p]) < 1e-6 * fmax(1.0, fabs(fd)),
                      "theta set %d, d lml/d theta[%d]: analytic %.10g, "
                      "finite differences %.10g", t, p, g[p], fd);
            double fdp = (nt_gp_log_prior(3, tp, NULL) -
                          nt_gp_log_prior(3, tm, NULL)) / (2 * h);
            cr_assert(fabs(fdp - gp_[p]) < 1e-6 * fmax(1.0, fabs(fdp)),
                      "d log prior/d theta[%d]: analytic %.10g, finite "
                      "differences %.10g", p, gp_[p], fdp);
        }
    }
    nt_gp_free(&gp);
}

Test(gp, expected_improvement_matches_its_closed_form)
{
    // (best - mu) Phi(z) + sigma phi(z), evaluated separately
    const double c[4][4] = {  // mu, sigma, best, EI
        {0.0, 1.0, 0.0, 0.3989422804014327},
        {1.0, 2.0, 0.0, 0.39559311480261217},
        {-1.0, 0.5, 0.0, 1.0042453513084149},
        {0.3, 0.05, 0.4, 0.10042453513084151},
    };
    for (int i = 0; i < 4; i++) {
        double ei = nt_gp_ei(c[i][0], c[i][1], c[i][2], 0.0);
        cr_assert(fabs(ei - c[i][3]) < 1e-13, "EI(mu=%g, sigma=%g, best=%g) "
                  "= %.17g, want %.17g", c[i][0], c[i][1], c[i][2], ei, c[i][3]);
        double lei = nt_gp_log_ei(c[i][0], c[i][1], c[i][2], 0.0);
        cr_assert(fabs(lei - log(c[i][3])) < 1e-12, "log EI %.15g, want %.15g",
                  lei, log(c[i][3]));
    }
    // xi shifts the target: EI(mu, s, best, xi) = EI(mu + xi, s, best, 0)
    double a = nt_gp_ei(0.2, 0.3, 0.5, 0.1), b = nt_gp_ei(0.3, 0.3, 0.5, 0.0);
    cr_assert(fabs(a - b) < 1e-15, "with xi %.17g, shifted %.17g", a, b);
}

Test(gp, expected_improvement_vanishes_far_above_best_and_is_the_gap_at_zero_sigma)
{
    double far = nt_gp_ei(10.0, 1.0, 0.0, 0.0);
    cr_assert(far >= 0.0 && far < 1e-20, "10 sigma above best: EI %g", far);
    double gap = nt_gp_ei(-1.0, 1e-12, 0.0, 0.0);
    cr_assert(fabs(gap - 1.0) < 1e-12, "sigma 1e-12, 1 below best: EI %.17g", gap);
    cr_assert_eq(nt_gp_ei(-1.0, 0.0, 0.0, 0.0), 1.0, "sigma 0 below best");
    cr_assert_eq(nt_gp_ei(1.0, 0.0, 0.0, 0.0), 0.0, "sigma 0 above best");
    // log EI stays finite and ordered where EI itself underflows
    double l1 = nt_gp_log_ei(40.0, 1.0, 0.0, 0.0);
    double l2 = nt_gp_log_ei(50.0, 1.0, 0.0, 0.0);
    cr_assert(isfinite(l1) && isfinite(l2) && l1 > l2,
              "log EI at 40 and 50 sigma above best: %g, %g", l1, l2);
    // and joins the direct formula smoothly where both apply
    double direct = log(nt_gp_ei(24.0, 1.0, 0.0, 0.0));
    double series = nt_gp_log_ei(25.0 + 1e-9, 1.0, 0.0, 0.0);
    double at25 = log(nt_gp_ei(25.0 - 1e-9, 1.0, 0.0, 0.0));
    cr_assert(fabs(series - at25) < 1e-6 * fabs(at25) && direct > at25,
              "log EI at z=-25: series %.12g, direct %.12g", series, at25);
}

Test(gp, fit_finds_a_long_length_scale_on_a_flat_dimension)
{
    // y wiggles along x0 (period ~0.5) and barely moves along x1
    enum { N = 40 };
    double X[N * 2], y[N];
    nt_rng r = nt_rng_stream(5, 1);
    for (int i = 0; i < N; i++) {
        X[2 * i] = nt_rng_uniform(&r);
        X[2 * i + 1] = nt_rng_uniform(&r);
        y[i] = sin(12.0 * X[2 * i]) + 0.01 * X[2 * i + 1];
    }
    nt_gp gp;
    cr_assert_eq(nt_gp_init(&gp, 2, N), NT_OK);
    cr_assert_eq(nt_gp_set_data(&gp, X, y, N), NT_OK);
    nt_rng fr = nt_rng_stream(5, 2);
    double before = nt_gp_log_marginal(&gp, gp.theta, NULL) +
                    nt_gp_log_prior(2, gp.theta, NULL);
    cr_assert_eq(nt_gp_fit(&gp, 3, &fr), NT_OK);
    double after = nt_gp_log_marginal(&gp, gp.theta, NULL) +
                   nt_gp_log_prior(2, gp.theta, NULL);
    double ls0 = exp(gp.theta[1]), ls1 = exp(gp.theta[2]);
    cr_assert(after > before, "fit lowered the objective: %g -> %g", before, after);
    cr_assert(ls0 < 0.5 && ls1 > 5.0 * ls0,
              "length scales: wiggly x0 %g, flat x1 %g (want x0 < 0.5, "
              "x1 > 5 x0)", ls0, ls1);
    // the fitted model interpolates: held-out error well below the spread
    double err = 0.0;
    for (int i = 0; i < 20; i++) {
        double x[2] = {nt_rng_uniform(&r), nt_rng_uniform(&r)}, mu, v;
        cr_assert_eq(nt_gp_factor(&gp), NT_OK);
        nt_gp_predict(&gp, x, &mu, &v);
        double t = mu - (sin(12.0 * x[0]) + 0.01 * x[1]);
        err += t * t;
    }
    cr_assert(sqrt(err / 20) < 0.1, "held-out RMSE %g (y spans [-1, 1])",
              sqrt(err / 20));
    nt_gp_free(&gp);
}

Test(gp, fantasies_keep_the_normalization_of_real_points)
{
    const double X[3] = {0.1, 0.5, 0.9}, y[3] = {1.0, 2.0, 3.0};
    const double Xf[1] = {0.3}, yf[1] = {2.0};
    nt_gp gp;
    cr_assert_eq(nt_gp_init(&gp, 1, 2), NT_OK);  // grows past its capacity
    cr_assert_eq(nt_gp_set_data(&gp, X, y, 3), NT_OK);
    double m = gp.y_mean, s = gp.y_std;
    cr_assert_eq(nt_gp_add_points(&gp, Xf, yf, 1), NT_OK);
    cr_assert(gp.n == 4 && gp.n_fit == 3 && gp.y_mean == m && gp.y_std == s,
              "n %d n_fit %d mean %g std %g", gp.n, gp.n_fit, gp.y_mean, gp.y_std);
    gp.theta[2] = log(NT_GP_NOISE_MIN);
    cr_assert_eq(nt_gp_factor(&gp), NT_OK);
    double mu, v;
    nt_gp_predict(&gp, Xf, &mu, &v);
    cr_assert(fabs(mu - 2.0) < 1e-3 && v < 1e-3,
              "at the fantasy: mean %g var %g (want ~2, ~0)", mu, v);
    nt_gp_free(&gp);
}

// A fit starts from the previous fit's L-BFGS curvature: after each added
// point it must reach the optimum a fit from scratch (same start, no
// curvature) reaches, not stop early on a stale Hessian estimate.
Test(gp, a_fit_that_reuses_the_last_fits_curvature_reaches_a_fresh_fits_optimum)
{
    nt_gp warm;
    cr_assert_eq(nt_gp_init(&warm, 3, 24), NT_OK);
    for (int n = 8; n <= 24; n++) {
        toy_data(&warm, n);
        double start[5];
        memcpy(start, warm.theta, sizeof start);
        cr_assert_eq(nt_gp_fit(&warm, 0, NULL), NT_OK);
        double f_warm = nt_gp_log_marginal(&warm, warm.theta, NULL) +
                        nt_gp_log_prior(3, warm.theta, NULL);

        nt_gp cold;
        cr_assert_eq(nt_gp_init(&cold, 3, 24), NT_OK);
        toy_data(&cold, n);
        memcpy(cold.theta, start, sizeof start);
        cr_assert_eq(nt_gp_fit(&cold, 0, NULL), NT_OK);
        double f_cold = nt_gp_log_marginal(&cold, cold.theta, NULL) +
                        nt_gp_log_prior(3, cold.theta, NULL);
        double f_start = nt_gp_log_marginal(&cold, start, NULL) +
                         nt_gp_log_prior(3, start, NULL);
        nt_gp_free(&cold);
        cr_assert(f_warm >= f_start - 1e-9,
                  "%d points: the fit lowered the objective, %.6f -> %.6f",
                  n, f_start, f_warm);
        cr_assert(fabs(f_warm - f_cold) < 1e-2,
                  "%d points: objective %.6f with the kept curvature, %.6f "
                  "from scratch", n, f_warm, f_cold);
    }
    nt_gp_free(&warm);
}
