/* test_random.c - random search draws each parameter from its declared
 * distribution, and trial t's point depends only on (seed, t). */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nntune/strategy.h"
#include "nntune/testfn.h"

#define N_DRAWS 20000

static nt_strategy *make_random(const nt_space *s, uint64_t seed)
{
    nt_strategy_options opt = {.seed = seed};
    nt_strategy *st = NULL;
    nt_status rc = nt_strategy_create("random", s, &opt, &st);
    cr_assert_eq(rc, NT_OK, "create: %s", nt_last_error());
    return st;
}

// |got - want| within 5 standard errors
static void assert_near(const char *what, double got, double want, double se)
{
    cr_assert(fabs(got - want) <= 5 * se, "%s: %.5f, want %.5f +- %.5f (5 SE)",
              what, got, want, 5 * se);
}

Test(random, draws_follow_each_declared_distribution)
{
    nt_space s;
    cr_assert_eq(nt_space_parse("u = uniform(-1, 3)\n"
                                "l = loguniform(1e-4, 1e-1)\n"
                                "k = int(1, 6)\n"
                                "c = choice(a, b, c, d)\n"
                                "g = int(1, 100, log)\n",
                                "t", &s),
                 NT_OK, "%s", nt_last_error());
    nt_strategy *st = make_random(&s, 12345);
    double su = 0, su2 = 0, slog = 0;
    int below_mid = 0, kcount[7] = {0}, ccount[4] = {0}, g1 = 0, g_le10 = 0;
    const double mid = sqrt(1e-4 * 1e-1); // geometric midpoint
    static double uval[N_DRAWS];
    for (int t = 0; t < N_DRAWS; t++) {
        double u[5];
        cr_assert_eq(nt_strategy_ask(st, t, u, NULL, 0), NT_OK, "ask %d", t);
        nt_assignment a;
        nt_space_decode(&s, u, &a);
        double x = a.v[0].num, l = a.v[1].num, k = a.v[2].num, g = a.v[4].num;
        cr_assert(x >= -1 && x <= 3 && l >= 1e-4 && l <= 1e-1 && k >= 1 &&
                      k <= 6 && g >= 1 && g <= 100,
                  "trial %d out of range: u %g l %g k %g g %g", t, x, l, k, g);
        uval[t] = x;
        su += x;
        slog += log(l);
        below_mid += l < mid;
        kcount[(int)k]++;
        ccount[a.v[3].choice]++;
        g1 += g == 1;
        g_le10 += g <= 10;
    }
    double n = N_DRAWS, mean = su / n;
    for (int t = 0; t < N_DRAWS; t++) su2 += (uval[t] - mean) * (uval[t] - mean);
    // uniform(-1, 3): mean 1, variance 16/12, Var((x-mu)^2) = 4^4/80 - (16/12)^2
    assert_near("uniform mean", mean, 1.0, sqrt(16.0 / 12 / n));
    assert_near("uniform variance", su2 / n, 16.0 / 12,
                sqrt((256.0 / 80 - (16.0 / 12) * (16.0 / 12)) / n));
    // loguniform: log x is uniform on [log 1e-4, log 1e-1]
    double width = log(1e-1) - log(1e-4);
    assert_near("mean of log(loguniform)", slog / n, 0.5 * (log(1e-4) + log(1e-1)),
                width / sqrt(12 * n));
    assert_near("fraction below the geometric midpoint", below_mid / n, 0.5,
                sqrt(0.25 / n));
    for (int k = 1; k <= 6; k++) {
        char what[64];
        snprintf(what, sizeof what, "frequency of int %d", k);
        assert_near(what, kcount[k] / n, 1.0 / 6, sqrt(1.0 / 6 * 5.0 / 6 / n));
    }
    for (int j = 0; j < 4; j++) {
        char what[64];
        snprintf(what, sizeof what, "frequency of choice %d", j);
        assert_near(what, ccount[j] / n, 0.25, sqrt(0.25 * 0.75 / n));
    }
    // log int: integer k has probability log((k+1)/k) / log(101)
    double p1 = log(2.0) / log(101.0), p10 = log(11.0) / log(101.0);
    assert_near("frequency of log-int 1", g1 / n, p1, sqrt(p1 * (1 - p1) / n));
    assert_near("frequency of log-int <= 10", g_le10 / n, p10,
                sqrt(p10 * (1 - p10) / n));
    nt_strategy_free(st);
}

Test(random, trial_points_depend_only_on_seed_and_trial)
{
    nt_space s;
    nt_space_default_mnist(&s);
    nt_strategy *a = make_random(&s, 42), *b = make_random(&s, 42);
    enum { N = 64 };
    static double ua[N][NT_MAX_PARAMS], ub[N][NT_MAX_PARAMS];
    for (int t = 0; t < N; t++) {
        cr_assert_eq(nt_strategy_ask(a, t, ua[t], NULL, 0), NT_OK, "ask a %d", t);
        nt_strategy_tell(a, t, ua[t], t, true);
    }
    // b: reverse order, some asked twice, with failures told in between
    for (int t = N - 1; t >= 0; t--) {
        if (t % 5 == 0) nt_strategy_ask(b, (t + 3) % N, ub[t], NULL, 0);
        cr_assert_eq(nt_strategy_ask(b, t, ub[t], NULL, 0), NT_OK, "ask b %d", t);
        nt_strategy_tell(b, t, ub[t], 0, false);
    }
    for (int t = 0; t < N; t++)
        for (int d = 0; d < s.dims; d++)
            cr_assert_eq(ua[t][d], ub[t][d], "trial %d dim %d: %.17g vs %.17g",
                         t, d, ua[t][d], ub[t][d]);
    // other trials and other seeds give other points
    nt_strategy *c = make_random(&s, 43);
    double uc[NT_MAX_PARAMS];
    nt_strategy_ask(c, 0, uc, NULL, 0);
    cr_assert(uc[0] != ua[0][0] && ua[1][0] != ua[0][0],
              "seed 43 trial 0 %g, seed 42 trials 0 and 1 %g %g", uc[0],
              ua[0][0], ua[1][0]);
    nt_strategy_free(a);
    nt_strategy_free(b);
    nt_strategy_free(c);
}

Test(random, why_says_what_was_drawn)
{
    nt_space s;
    nt_space_default_mnist(&s);
    nt_strategy *st = make_random(&s, 7);
    double u[NT_MAX_PARAMS];
    char why[512];
    cr_assert_eq(nt_strategy_ask(st, 3, u, why, sizeof why), NT_OK, "ask");
    cr_assert(strstr(why, "random") && strstr(why, "seed 7") &&
                  strstr(why, "stream 3") && strstr(why, "lr="),
              "why: \"%s\"", why);
    cr_assert_eq(nt_strategy_ask(st, -1, u, NULL, 0), NT_ERR_ARG, "trial -1");
    nt_strategy_free(st);
}

Test(random, seeded_run_on_branin_gets_close_and_repeats_exactly)
{
    const nt_testfn *fn = nt_testfn_find("branin");
    nt_space s;
    nt_testfn_space(fn, &s);
    double best[2];
    for (int run = 0; run < 2; run++) {
        nt_strategy *st = make_random(&s, 2024);
        best[run] = INFINITY;
        for (int t = 0; t < 500; t++) {
            double u[2];
            nt_strategy_ask(st, t, u, NULL, 0);
            nt_assignment a;
            nt_space_decode(&s, u, &a);
            double f = nt_testfn_eval(fn, &s, &a);
            nt_strategy_tell(st, t, u, f, true);
            if (f < best[run]) best[run] = f;
        }
        nt_strategy_free(st);
    }
    cr_assert_eq(best[0], best[1], "two runs with one seed: %.17g vs %.17g",
                 best[0], best[1]);
    // three basins each of area ~1 in 225: 500 draws land well inside one
    cr_assert(best[0] < fn->minimum + 0.5, "best %g, minimum %g", best[0],
              fn->minimum);
}
