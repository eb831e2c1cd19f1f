/* test_stats.c - quantiles and the Wilcoxon signed-rank test against
 * reference values from numpy 1.24 / scipy 1.10 (the call that produced
 * each value is written beside it, with `import numpy as np, scipy.stats as
 * ss`): exact and normal-approximation p-values, ties, zero differences,
 * and one to three pairs. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>

#include "nntune/stats.h"

#define N_OF(a) (int)(sizeof(a) / sizeof((a)[0]))

static void assert_close(double got, double want, double tol, const char *what)
{
    cr_assert(fabs(got - want) <= tol, "%s: got %.17g, want %.17g (tolerance %g)", what, got,
              want, tol);
}

/* Test a list of differences d against zeros. */
static nt_wilcoxon test_diffs(const double *d, int n)
{
    double zero[64] = {0};
    cr_assert_leq(n, 64, "at most 64 differences");
    nt_wilcoxon w;
    cr_assert_eq(nt_wilcoxon_test(d, zero, n, &w), NT_OK, "nt_wilcoxon_test failed");
    return w;
}

Test(stats, quantiles_interpolate_linearly_like_numpy)
{
    const double x[] = {3.0, 1.0, 4.0, 1.5, 9.0, 2.6};
    // np.quantile([3, 1, 4, 1.5, 9, 2.6], [0, .25, .5, .75, 1, .1])
    // -> 1.0, 1.775, 2.8, 3.75, 9.0, 1.25
    const double q[] = {0, 0.25, 0.5, 0.75, 1, 0.1};
    const double want[] = {1.0, 1.775, 2.8, 3.75, 9.0, 1.25};
    for (int i = 0; i < N_OF(q); i++) {
        char what[64];
        snprintf(what, sizeof what, "quantile %g", q[i]);
        assert_close(nt_quantile(x, N_OF(x), q[i]), want[i], 1e-12, what);
    }
    assert_close(nt_median(x, N_OF(x)), 2.8, 1e-12, "median of an even count");
    // np.quantile([5, 1, 3, 2, 4], [.25, .5, .75]) -> 2.0, 3.0, 4.0
    const double y[] = {5, 1, 3, 2, 4};
    assert_close(nt_quantile(y, 5, 0.25), 2.0, 0, "q1 of 5");
    assert_close(nt_median(y, 5), 3.0, 0, "median of 5");
    assert_close(nt_quantile(y, 5, 0.75), 4.0, 0, "q3 of 5");
}

Test(stats, quantiles_skip_nans_and_keep_infinities)
{
    const double x[] = {NAN, 2.0, 1.0, NAN};
    assert_close(nt_median(x, 4), 1.5, 0, "median of {1, 2} with NaNs");
    // np.quantile([1, inf, 2, inf], .25) -> 1.75; numpy says nan above it
    // (it computes inf - inf), where a run that found nothing yet should
    // stay infinitely bad: we keep the infinity
    const double y[] = {1.0, INFINITY, 2.0, INFINITY};
    assert_close(nt_quantile(y, 4, 0.25), 1.75, 1e-12, "q1 below the infinities");
    cr_assert(isinf(nt_median(y, 4)) && nt_median(y, 4) > 0, "median: got %g, want inf",
              nt_median(y, 4));
    cr_assert(isinf(nt_quantile(y, 4, 0.75)), "q3: got %g, want inf", nt_quantile(y, 4, 0.75));
}

Test(stats, quantiles_of_one_value_or_none)
{
    const double one[] = {0.25}, nan1[] = {NAN};
    assert_close(nt_quantile(one, 1, 0.75), 0.25, 0, "one value");
    cr_assert(isnan(nt_median(one, 0)), "no value: got %g, want NaN", nt_median(one, 0));
    cr_assert(isnan(nt_median(nan1, 1)), "only NaN: got %g, want NaN", nt_median(nan1, 1));
}

Test(stats, wilcoxon_exact_matches_scipy_on_hollander_wolfe)
{
    // ss.wilcoxon(x, y, method='exact') -> statistic 5.0, p 0.0390625
    const double x[] = {1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30};
    const double y[] = {0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29};
    nt_wilcoxon w;
    cr_assert_eq(nt_wilcoxon_test(x, y, 9, &w), NT_OK);
    cr_assert(w.exact, "n = 9 without ties should be exact");
    cr_assert_eq(w.n, 9, "pairs used: got %d, want 9", w.n);
    assert_close(w.statistic, 5.0, 0, "statistic");
    assert_close(w.r_plus, 40.0, 0, "r_plus");
    assert_close(w.p, 0.0390625, 1e-12, "p");
    cr_assert_eq(w.n_pos, 7, "x ahead on %d pairs, want 7", w.n_pos);
}

Test(stats, wilcoxon_exact_when_one_side_wins_every_pair)
{
    // ss.wilcoxon(np.arange(1, 11) * 0.1, np.zeros(10), method='exact')
    // -> statistic 0.0, p 0.001953125 (= 2 / 2^10)
    double d[10];
    for (int i = 0; i < 10; i++) d[i] = 0.1 * (i + 1);
    nt_wilcoxon w = test_diffs(d, 10);
    cr_assert(w.exact);
    assert_close(w.statistic, 0, 0, "statistic");
    assert_close(w.p, 0.001953125, 1e-15, "p");
}

Test(stats, wilcoxon_exact_up_to_25_pairs_then_approximate)
{
    // d = np.arange(1, 26) * np.where(np.arange(25) % 3 == 0, -1, 1)
    // ss.wilcoxon(d, method='exact') -> statistic 117.0, p 0.23036134243011475
    double d[26];
    for (int i = 0; i < 26; i++) d[i] = (i + 1) * (i % 3 == 0 ? -1 : 1);
    nt_wilcoxon w = test_diffs(d, 25);
    cr_assert(w.exact, "25 pairs should be exact");
    assert_close(w.statistic, 117.0, 0, "statistic n=25");
    assert_close(w.p, 0.23036134243011475, 1e-12, "p n=25");
    // the same pattern with 26:
    // ss.wilcoxon(d26, method='approx', correction=True)
    // -> statistic 117.0, p 0.1407287427705664, z -1.4730826810016213
    w = test_diffs(d, 26);
    cr_assert(!w.exact, "26 pairs should be approximate");
    assert_close(w.statistic, 117.0, 0, "statistic n=26");
    assert_close(w.p, 0.1407287427705664, 1e-12, "p n=26");
    assert_close(w.z, -1.4730826810016213, 1e-12, "z n=26");
}

Test(stats, wilcoxon_ties_use_the_corrected_normal_approximation)
{
    // ss.wilcoxon(d, method='approx', correction=True)
    // -> statistic 15.5, p 0.07097178544164014, z -1.805657945551377
    const double d[] = {0.5, -1, 1.5, 2, -2, 3, 3, 3.5, -4, 4.5, 5, 6};
    nt_wilcoxon w = test_diffs(d, N_OF(d));
    cr_assert(w.ties && !w.exact, "tied |d| must use the approximation");
    assert_close(w.statistic, 15.5, 1e-12, "statistic");
    assert_close(w.z, -1.805657945551377, 1e-12, "z");
    assert_close(w.p, 0.07097178544164014, 1e-12, "p");
}

Test(stats, wilcoxon_large_untied_sample_is_approximate)
{
    // d3 = np.round(np.random.default_rng(7).normal(0.3, 1, 30), 6)
    // ss.wilcoxon(d3, method='approx', correction=True)
    // -> statistic 217.0, p 0.7576828114579746, z -0.3085250903234116
    const double d[] = {0.30123,   0.598746,  0.025862,  -0.590592, -0.154671, -0.691647,
                        0.360144,  1.640215,  -0.192207, -0.320475, 0.789842,  0.656887,
                        0.405414,  -0.630468, 0.270748,  0.995303,  -1.044215, -0.157616,
                        -1.601223, -0.989538, -1.541735, 0.064909,  -0.967446, 0.571264,
                        0.456751,  0.113069,  -2.21676,  -0.238693, 0.251499,  0.413309};
    nt_wilcoxon w = test_diffs(d, N_OF(d));
    cr_assert(!w.exact && !w.ties);
    assert_close(w.statistic, 217.0, 0, "statistic");
    assert_close(w.z, -0.3085250903234116, 1e-12, "z");
    assert_close(w.p, 0.7576828114579746, 1e-12, "p");
}

Test(stats, wilcoxon_drops_zero_differences_before_ranking)
{
    // zeros dropped, the rest untied, so exact on the 6 left:
    // ss.wilcoxon([0.7, -0.2, 1.1, 2.3, 1.9, -0.4], method='exact')
    // -> statistic 3.0, p 0.15625
    const double d[] = {0, 0.7, -0.2, 1.1, 0, 2.3, 1.9, -0.4};
    nt_wilcoxon w = test_diffs(d, N_OF(d));
    cr_assert_eq(w.n, 6, "pairs used: got %d, want 6", w.n);
    cr_assert_eq(w.n_zero, 2, "zeros dropped: got %d, want 2", w.n_zero);
    cr_assert(w.exact);
    assert_close(w.statistic, 3.0, 0, "statistic");
    assert_close(w.p, 0.15625, 1e-15, "p");
    // zeros and ties together:
    // ss.wilcoxon([0, 1, 1, -2, 3, 0, 4, 5, -1, 6, 7], zero_method='wilcox',
    //             method='approx', correction=True)
    // -> statistic 6.0, p 0.0571446790125482, z -1.9022025544888448
    const double e[] = {0, 1, 1, -2, 3, 0, 4, 5, -1, 6, 7};
    w = test_diffs(e, N_OF(e));
    cr_assert_eq(w.n, 9, "pairs used: got %d, want 9", w.n);
    cr_assert(!w.exact);
    assert_close(w.statistic, 6.0, 0, "statistic");
    assert_close(w.z, -1.9022025544888448, 1e-12, "z");
    assert_close(w.p, 0.0571446790125482, 1e-12, "p");
}

Test(stats, wilcoxon_on_one_to_three_pairs)
{
    // ss.wilcoxon([2.0], method='exact') -> 0.0, 1.0
    const double one[] = {2.0};
    nt_wilcoxon w = test_diffs(one, 1);
    assert_close(w.statistic, 0, 0, "n=1 statistic");
    assert_close(w.p, 1.0, 0, "n=1 p");
    // ss.wilcoxon([1.0, 2.0], method='exact') -> 0.0, 0.5
    const double two[] = {1.0, 2.0};
    w = test_diffs(two, 2);
    assert_close(w.p, 0.5, 0, "n=2 p");
    // ss.wilcoxon([1.0, -2.0], method='exact') -> 1.0, 1.0
    const double two_mixed[] = {1.0, -2.0};
    w = test_diffs(two_mixed, 2);
    assert_close(w.statistic, 1.0, 0, "n=2 mixed statistic");
    assert_close(w.p, 1.0, 0, "n=2 mixed p");
    // ss.wilcoxon([1.0, -1.0], method='approx', correction=True) -> 1.5, 1.0, z 0.0
    const double two_tied[] = {1.0, -1.0};
    w = test_diffs(two_tied, 2);
    assert_close(w.statistic, 1.5, 0, "n=2 tied statistic");
    assert_close(w.p, 1.0, 1e-15, "n=2 tied p");
    // ss.wilcoxon([1.0, 2.0, 3.0], method='exact') -> 0.0, 0.25
    const double three[] = {1.0, 2.0, 3.0};
    w = test_diffs(three, 3);
    assert_close(w.p, 0.25, 0, "n=3 p");
    // ss.wilcoxon([-1.0, 2.0, 3.0], method='exact') -> 1.0, 0.5
    const double three_mixed[] = {-1.0, 2.0, 3.0};
    w = test_diffs(three_mixed, 3);
    assert_close(w.statistic, 1.0, 0, "n=3 mixed statistic");
    assert_close(w.p, 0.5, 0, "n=3 mixed p");
    // ss.wilcoxon([1.0, 2.0, -3.0], method='exact') -> 3.0, 1.0 (the centre)
    const double three_centre[] = {1.0, 2.0, -3.0};
    w = test_diffs(three_centre, 3);
    assert_close(w.statistic, 3.0, 0, "n=3 centre statistic");
    assert_close(w.p, 1.0, 0, "n=3 centre p");
}

Test(stats, wilcoxon_with_every_difference_zero_has_no_p_value)
{
    // scipy raises "zero_method 'wilcox' ... do not work if x - y is zero
    // for all elements"; we report n = 0 and p = NaN
    const double x[] = {1, 2, 3}, y[] = {1, 2, 3};
    nt_wilcoxon w;
    cr_assert_eq(nt_wilcoxon_test(x, y, 3, &w), NT_OK);
    cr_assert_eq(w.n, 0, "pairs used: got %d, want 0", w.n);
    cr_assert_eq(w.n_zero, 3, "zeros: got %d, want 3", w.n_zero);
    cr_assert(isnan(w.p), "p: got %g, want NaN", w.p);
    cr_assert_eq(nt_wilcoxon_test(x, y, 0, &w), NT_OK, "no pairs at all");
    cr_assert(isnan(w.p), "p of no pairs: got %g, want NaN", w.p);
}

Test(stats, wilcoxon_skips_pairs_with_a_nan)
{
    const double x[] = {1, NAN, 3, 4}, y[] = {0, 0, NAN, 0};
    nt_wilcoxon w;
    cr_assert_eq(nt_wilcoxon_test(x, y, 4, &w), NT_OK);
    cr_assert_eq(w.n, 2, "pairs used: got %d, want 2", w.n);
    cr_assert_eq(w.n_nan, 2, "NaN pairs: got %d, want 2", w.n_nan);
    assert_close(w.p, 0.5, 0, "p as for [1, 4]");
}
