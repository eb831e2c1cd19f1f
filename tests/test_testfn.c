/* test_testfn.c - each test function reaches its documented minimum at its
 * documented minimizers and nowhere goes below it. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nntune/testfn.h"

typedef struct {
    const char *name;
    double minimum;   // as documented in the literature
    double x[6];      // a documented minimizer
} known_min;

static const known_min known[] = {
    {"branin", 0.397887, {-3.14159265358979, 12.275}},
    {"branin", 0.397887, {3.14159265358979, 2.275}},
    {"branin", 0.397887, {9.42477796076938, 2.475}},
    {"hartmann3", -3.86278, {0.114614, 0.555649, 0.852547}},
    {"hartmann6", -3.32237,
     {0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573}},
    {"goldstein_price", 3.0, {0, -1}},
    {"six_hump_camel", -1.0316, {0.0898, -0.7126}},
    {"six_hump_camel", -1.0316, {-0.0898, 0.7126}},
    {"rosenbrock", 0.0, {1, 1}},
    {"ackley", 0.0, {0, 0}},
    {"levy", 0.0, {1, 1}},
    {"styblinski_tang", -78.33233, {-2.903534, -2.903534}},
    {"rastrigin", 0.0, {0, 0}},
    {"forrester", -6.02074, {0.757249}},
};

Test(testfn, each_function_reaches_its_known_minimum_at_its_minimizers)
{
    int n = (int)(sizeof known / sizeof known[0]);
    for (int i = 0; i < n; i++) {
        const nt_testfn *fn = nt_testfn_find(known[i].name);
        cr_assert_not_null(fn, "no test function '%s'", known[i].name);
        double f = fn->f(known[i].x);
        cr_assert(fabs(f - fn->minimum) < 1e-4, "%s at minimizer %d: %.8f, "
                  "its minimum field %.8f", fn->name, i, f, fn->minimum);
        // the literature rounds; the field must agree to that rounding
        cr_assert(fabs(fn->minimum - known[i].minimum) < 1e-4,
                  "%s: minimum field %.8f, documented %.8f", fn->name,
                  fn->minimum, known[i].minimum);
        for (int j = 0; j < fn->dims; j++)
            cr_assert(known[i].x[j] >= fn->lo[j] && known[i].x[j] <= fn->hi[j],
                      "%s: minimizer x%d = %g outside [%g, %g]", fn->name, j + 1,
                      known[i].x[j], fn->lo[j], fn->hi[j]);
    }
}

Test(testfn, no_function_goes_below_its_minimum_anywhere_in_its_domain)
{
    int n;
    const nt_testfn *all = nt_testfn_all(&n);
    nt_rng rng;
    nt_rng_seed(&rng, 99);
    for (int i = 0; i < n; i++) {
        const nt_testfn *fn = &all[i];
        double lowest = INFINITY;
        for (int t = 0; t < 20000; t++) {
            double x[8];
            for (int j = 0; j < fn->dims; j++)
                x[j] = fn->lo[j] + (fn->hi[j] - fn->lo[j]) * nt_rng_uniform(&rng);
            double f = fn->f(x);
            cr_assert(isfinite(f), "%s is not finite", fn->name);
            if (f < lowest) lowest = f;
        }
        cr_assert(lowest >= fn->minimum - 1e-9, "%s: found %.10f below the "
                  "minimum %.10f", fn->name, lowest, fn->minimum);
    }
}

Test(testfn, the_required_functions_exist_with_their_domains)
{
    static const struct { const char *name; int dims; double lo, hi; } req[] = {
        {"branin", 2, -5, 10},          {"hartmann3", 3, 0, 1},
        {"hartmann6", 6, 0, 1},         {"goldstein_price", 2, -2, 2},
        {"six_hump_camel", 2, -3, 3},   {"rosenbrock", 2, -5, 10},
        {"ackley", 2, -32.768, 32.768}, {"levy", 2, -10, 10},
        {"styblinski_tang", 2, -5, 5},
    };
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        const nt_testfn *fn = nt_testfn_find(req[i].name);
        cr_assert_not_null(fn, "missing '%s'", req[i].name);
        cr_assert(fn->dims == req[i].dims && fn->lo[0] == req[i].lo &&
                      fn->hi[0] == req[i].hi && fn->about && fn->about[0],
                  "%s: dims %d domain [%g, %g], want %d [%g, %g]", fn->name,
                  fn->dims, fn->lo[0], fn->hi[0], req[i].dims, req[i].lo,
                  req[i].hi);
    }
    cr_assert_null(nt_testfn_find("sphere_of_nonsense"), "unknown name found");
    int n;
    const nt_testfn *all = nt_testfn_all(&n);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            cr_assert(strcmp(all[i].name, all[j].name) != 0, "'%s' twice",
                      all[i].name);
}

Test(testfn, space_maps_the_cube_onto_the_domain_for_eval)
{
    int n;
    const nt_testfn *all = nt_testfn_all(&n);
    nt_rng rng;
    nt_rng_seed(&rng, 5);
    for (int i = 0; i < n; i++) {
        const nt_testfn *fn = &all[i];
        nt_space s;
        nt_testfn_space(fn, &s);
        cr_assert_eq(s.dims, fn->dims, "%s: %d dims", fn->name, s.dims);
        for (int j = 0; j < fn->dims; j++) {
            char name[16];
            snprintf(name, sizeof name, "x%d", j + 1);
            cr_assert(!strcmp(s.p[j].name, name) && s.p[j].kind == NT_P_UNIFORM &&
                          s.p[j].lo == fn->lo[j] && s.p[j].hi == fn->hi[j],
                      "%s: parameter %d is %s [%g, %g]", fn->name, j,
                      s.p[j].name, s.p[j].lo, s.p[j].hi);
        }
        double u[8], x[8];
        for (int j = 0; j < fn->dims; j++) {
            u[j] = nt_rng_uniform(&rng);
            x[j] = fn->lo[j] + u[j] * (fn->hi[j] - fn->lo[j]);
        }
        nt_assignment a;
        nt_space_decode(&s, u, &a);
        double f = nt_testfn_eval(fn, &s, &a), g = fn->f(x);
        cr_assert(fabs(f - g) <= 1e-9 * fmax(1, fabs(g)), "%s: eval %.12g, f %.12g",
                  fn->name, f, g);
    }
}
