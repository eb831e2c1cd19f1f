/* test_grid.c - grid search enumerates the cartesian product exactly once,
 * in a fixed order, respecting conditions, and then says it is done. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nntune/strategy.h"
#include "nntune/testfn.h"

static void parse(const char *text, nt_space *s)
{
    cr_assert_eq(nt_space_parse(text, "t", s), NT_OK, "%s", nt_last_error());
}

static nt_strategy *make_grid(const nt_space *s, int grid_points)
{
    nt_strategy_options opt = {.grid_points = grid_points, .seed = 1};
    nt_strategy *st = NULL;
    nt_status rc = nt_strategy_create("grid", s, &opt, &st);
    cr_assert_eq(rc, NT_OK, "create: %s", nt_last_error());
    return st;
}

static int index_of(const double *vals, int n, double x)
{
    for (int i = 0; i < n; i++)
        if (fabs(vals[i] - x) <= 1e-12 * fmax(1, fabs(x))) return i;
    return -1;
}

Test(grid, enumerates_each_combination_of_the_cartesian_product_once)
{
    nt_space s;
    parse("a = choice(x, y)\n"
          "b = choice(1, 2, 3)\n"
          "c = uniform(0, 1)\n"
          "fixed = 9\n"
          "d = int(1, 5)\n",
          &s);
    const double cvals[3] = {0, 0.5, 1}, dvals[3] = {1, 3, 5};
    long size = nt_grid_size(&s, 3);
    cr_assert_eq(size, 54, "nt_grid_size = %ld, want 2*3*3*3 = 54", size);
    nt_strategy *st = make_grid(&s, 3);
    int seen[54] = {0};
    for (int k = 0; k < 54; k++) {
        double u[4];
        char why[512];
        nt_status rc = nt_strategy_ask(st, k, u, why, sizeof why);
        cr_assert_eq(rc, NT_OK, "ask %d: %s", k, nt_last_error());
        nt_assignment a;
        nt_space_decode(&s, u, &a);
        int ic = index_of(cvals, 3, a.v[2].num), id = index_of(dvals, 3, a.v[4].num);
        cr_assert(ic >= 0 && id >= 0, "point %d: c = %.17g, d = %g off the grid",
                  k, a.v[2].num, a.v[4].num);
        int key = ((a.v[0].choice * 3 + a.v[1].choice) * 3 + ic) * 3 + id;
        seen[key]++;
        // the first declared parameter varies slowest, the last fastest
        cr_assert_eq(key, k, "point %d is combination %d", k, key);
        cr_assert_eq(nt_strategy_tell(st, k, u, 1.0, true), NT_OK, "tell");
    }
    for (int i = 0; i < 54; i++)
        cr_assert_eq(seen[i], 1, "combination %d seen %d times", i, seen[i]);
    nt_strategy_free(st);
}

Test(grid, says_where_it_is_and_is_exhausted_after_the_last_point)
{
    nt_space s;
    parse("a = choice(x, y)\nc = uniform(0, 1)\n", &s);
    nt_strategy *st = make_grid(&s, 4);
    double u[2];
    char why[512];
    cr_assert_eq(nt_strategy_ask(st, 0, u, why, sizeof why), NT_OK, "ask 0");
    cr_assert(strstr(why, "grid point 1 of 8") && strstr(why, "7 left") &&
                  strstr(why, "a (2 values) x c (4 values)"),
              "why: \"%s\"", why);
    for (int k = 1; k < 8; k++)
        cr_assert_eq(nt_strategy_ask(st, k, u, NULL, 0), NT_OK, "ask %d", k);
    for (int k = 8; k < 10; k++) {
        nt_status rc = nt_strategy_ask(st, k, u, why, sizeof why);
        cr_assert_eq(rc, NT_ERR_EXHAUSTED, "ask %d after the last: status %d", k,
                     rc);
    }
    cr_assert(strstr(why, "exhausted"), "why after the end: \"%s\"", why);
    nt_strategy_free(st);
}

Test(grid, log_kinds_are_log_spaced_with_endpoints)
{
    nt_space s;
    parse("lr = loguniform(1e-4, 1e-1)\nn = int(1, 1000, log)\n", &s);
    cr_assert_eq(nt_grid_size(&s, 4), 16, "size %ld", nt_grid_size(&s, 4));
    nt_strategy *st = make_grid(&s, 4);
    const double want[4] = {1e-4, 1e-3, 1e-2, 1e-1};
    const double want_n[4] = {1, 10, 100, 1000};
    for (int k = 0; k < 16; k++) {
        double u[2];
        cr_assert_eq(nt_strategy_ask(st, k, u, NULL, 0), NT_OK, "ask %d", k);
        nt_assignment a;
        nt_space_decode(&s, u, &a);
        double lr = a.v[0].num, w = want[k / 4];
        cr_assert(fabs(lr - w) <= 1e-12 * w, "point %d: lr %.17g, want %g", k,
                  lr, w);
        cr_assert_eq(a.v[1].num, want_n[k % 4], "point %d: n %g, want %g", k,
                     a.v[1].num, want_n[k % 4]);
    }
    nt_strategy_free(st);
}

Test(grid, ints_take_distinct_integers_including_both_ends)
{
    nt_space s;
    parse("k = int(1, 3)\nm = int(0, 10)\n", &s);
    // k has only 3 integers for 5 grid points; m gets 5 spread over 0..10
    long size = nt_grid_size(&s, 5);
    cr_assert_eq(size, 15, "size %ld, want 3*5", size);
    nt_strategy *st = make_grid(&s, 5);
    double got_k[15], got_m[15];
    for (int k = 0; k < 15; k++) {
        double u[2];
        cr_assert_eq(nt_strategy_ask(st, k, u, NULL, 0), NT_OK, "ask %d", k);
        nt_assignment a;
        nt_space_decode(&s, u, &a);
        got_k[k] = a.v[0].num;
        got_m[k] = a.v[1].num;
    }
    for (int k = 0; k < 15; k++)
        cr_assert_eq(got_k[k], 1 + k / 5, "point %d: k %g", k, got_k[k]);
    cr_assert(got_m[0] == 0 && got_m[4] == 10, "m ends %g %g", got_m[0], got_m[4]);
    for (int j = 1; j < 5; j++)
        cr_assert(got_m[j] > got_m[j - 1] && got_m[j] == floor(got_m[j]),
                  "m values %g then %g", got_m[j - 1], got_m[j]);
    nt_strategy_free(st);
}

Test(grid, conditional_children_are_enumerated_only_where_active)
{
    nt_space s;
    parse("opt = choice(sgd, adam)\n"
          "mom = uniform(0.5, 0.99) if opt == sgd\n"
          "lr = loguniform(1e-3, 1e-1)\n"
          "nest = choice(a, b) if opt == adam\n"
          "deep = int(1, 4) if nest == b\n",
          &s);
    // sgd: mom 3 x lr 3 = 9; adam: lr 3 x (nest a: 1 + nest b: deep 3) = 12
    long size = nt_grid_size(&s, 3);
    cr_assert_eq(size, 21, "size %ld, want 21", size);
    nt_strategy *st = make_grid(&s, 3);
    char seen[21][256];
    for (int k = 0; k < 21; k++) {
        double u[5];
        cr_assert_eq(nt_strategy_ask(st, k, u, NULL, 0), NT_OK, "ask %d", k);
        nt_assignment a;
        nt_space_decode(&s, u, &a);
        nt_assign_format(&s, &a, seen[k], sizeof seen[k]);
        for (int i = 0; i < s.n; i++)
            if (!a.v[i].active)
                cr_assert_eq(u[s.p[i].dim], 0.5, "point %d: inactive %s at %g",
                             k, s.p[i].name, u[s.p[i].dim]);
        for (int j = 0; j < k; j++)
            cr_assert(strcmp(seen[j], seen[k]) != 0,
                      "points %d and %d are both \"%s\"", j, k, seen[k]);
    }
    double u[5];
    cr_assert_eq(nt_strategy_ask(st, 21, u, NULL, 0), NT_ERR_EXHAUSTED, "not done");
    nt_strategy_free(st);
}

Test(grid, default_space_size_counts_momentum_only_under_sgd)
{
    nt_space s;
    nt_space_default_mnist(&s);
    // lr 3, batch 4, layers 3, units 4, act 2, dropout 3,
    // optimizer (sgd x momentum 3 + adam) = 4, l2 3, schedule 3
    long want = 3L * 4 * 3 * 4 * 2 * 3 * 4 * 3 * 3;
    cr_assert_eq(nt_grid_size(&s, 3), want, "size %ld, want %ld",
                 nt_grid_size(&s, 3), want);
}

Test(grid, position_depends_only_on_the_number_of_asks)
{
    nt_space s;
    nt_space_default_mnist(&s);
    nt_strategy *a = make_grid(&s, 3), *b = make_grid(&s, 3);
    for (int k = 0; k < 300; k++) {
        double ua[16], ub[16];
        cr_assert_eq(nt_strategy_ask(a, k, ua, NULL, 0), NT_OK, "ask a");
        // b is asked with other trial numbers and told failures in between
        cr_assert_eq(nt_strategy_ask(b, 1000 + 7 * k, ub, NULL, 0), NT_OK, "ask b");
        cr_assert_eq(nt_strategy_tell(b, k, ub, 0, false), NT_OK, "tell b");
        for (int d = 0; d < s.dims; d++)
            cr_assert_eq(ua[d], ub[d], "ask %d dim %d: %g vs %g", k, d, ua[d], ub[d]);
    }
    nt_strategy_free(a);
    nt_strategy_free(b);
}

Test(grid, a_space_without_searched_parameters_has_one_point)
{
    nt_space s;
    parse("epochs = 20\nopt = adam\n", &s);
    cr_assert_eq(nt_grid_size(&s, 3), 1, "size %ld", nt_grid_size(&s, 3));
    nt_strategy *st = make_grid(&s, 3);
    double u[1];
    cr_assert_eq(nt_strategy_ask(st, 0, u, NULL, 0), NT_OK, "first ask");
    cr_assert_eq(nt_strategy_ask(st, 1, u, NULL, 0), NT_ERR_EXHAUSTED, "second");
    nt_strategy_free(st);
}

Test(grid, refuses_bad_options_and_unknown_strategies)
{
    nt_space s;
    parse("c = uniform(0, 1)\n", &s);
    nt_strategy_options opt = {.grid_points = -2};
    nt_strategy *st = (nt_strategy *)1;
    nt_status rc = nt_strategy_create("grid", &s, &opt, &st);
    cr_assert(rc == NT_ERR_ARG && st == NULL && strstr(nt_last_error(), "-2"),
              "status %d, message \"%s\"", rc, nt_last_error());
    rc = nt_strategy_create("annealing", &s, &opt, &st);
    cr_assert(rc == NT_ERR_ARG && strstr(nt_last_error(), "'annealing'"),
              "status %d, message \"%s\"", rc, nt_last_error());
    nt_strategy_free(NULL);
}

Test(grid, seeded_run_on_branin_finds_its_best_grid_cell)
{
    const nt_testfn *fn = nt_testfn_find("branin");
    cr_assert_not_null(fn, "no branin");
    nt_space s;
    nt_testfn_space(fn, &s);
    nt_strategy *st = make_grid(&s, 31); // steps of 0.5 in both coordinates
    double best = INFINITY, u[2];
    int n = 0;
    while (nt_strategy_ask(st, n, u, NULL, 0) == NT_OK) {
        nt_assignment a;
        nt_space_decode(&s, u, &a);
        double f = nt_testfn_eval(fn, &s, &a);
        nt_strategy_tell(st, n, u, f, true);
        if (f < best) best = f;
        n++;
    }
    cr_assert_eq(n, 31 * 31, "%d points", n);
    // the grid point (9.5, 2.5) is within 0.08 and 0.025 of a minimizer
    cr_assert(best < fn->minimum + 0.05, "best %g, minimum %g", best, fn->minimum);
    nt_strategy_free(st);
}
