/* testfn.c - classic optimization test functions with known minima, as
 * defined in Surjanovic & Bingham's Virtual Library of Simulation
 * Experiments (sfu.ca/~ssurjano). */
#include "nntune/testfn.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const double PI = 3.14159265358979323846;

static double branin(const double *x)
{
    const double b = 5.1 / (4 * PI * PI), c = 5 / PI, t = 1 / (8 * PI);
    double q = x[1] - b * x[0] * x[0] + c * x[0] - 6;
    return q * q + 10 * (1 - t) * cos(x[0]) + 10;
}

// Hartmann: -sum_i alpha_i exp(-sum_j A_ij (x_j - P_ij)^2)
static const double hart_alpha[4] = {1.0, 1.2, 3.0, 3.2};

static double hartmann3(const double *x)
{
    static const double A[4][3] = {
        {3.0, 10, 30}, {0.1, 10, 35}, {3.0, 10, 30}, {0.1, 10, 35}};
    static const double P[4][3] = {{3689, 1170, 2673},
                                   {4699, 4387, 7470},
                                   {1091, 8732, 5547},
                                   {381, 5743, 8828}};
    double f = 0;
    for (int i = 0; i < 4; i++) {
        double e = 0;
        for (int j = 0; j < 3; j++) {
            double d = x[j] - 1e-4 * P[i][j];
            e += A[i][j] * d * d;
        }
        f -= hart_alpha[i] * exp(-e);
    }
    return f;
}

static double hartmann6(const double *x)
{
    static const double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                   {0.05, 10, 17, 0.1, 8, 14},
                                   {3, 3.5, 1.7, 10, 17, 8},
                                   {17, 8, 0.05, 10, 0.1, 14}};
    static const double P[4][6] = {{1312, 1696, 5569, 124, 8283, 5886},
                                   {2329, 4135, 8307, 3736, 1004, 9991},
                                   {2348, 1451, 3522, 2883, 3047, 6650},
                                   {4047, 8828, 8732, 5743, 1091, 381}};
    double f = 0;
    for (int i = 0; i < 4; i++) {
        double e = 0;
        for (int j = 0; j < 6; j++) {
            double d = x[j] - 1e-4 * P[i][j];
            e += A[i][j] * d * d;
        }
        f -= hart_alpha[i] * exp(-e);
    }
    return f;
}

static double goldstein_price(const double *x)
{
    double a = x[0], b = x[1];
    double s = a + b + 1, d = 2 * a - 3 * b;
    double f1 = 1 + s * s * (19 - 14 * a + 3 * a * a - 14 * b + 6 * a * b + 3 * b * b);
    double f2 = 30 + d * d * (18 - 32 * a + 12 * a * a + 48 * b - 36 * a * b +
                              27 * b * b);
    return f1 * f2;
}

static double six_hump_camel(const double *x)
{
    double a = x[0], b = x[1], a2 = a * a, b2 = b * b;
    return (4 - 2.1 * a2 + a2 * a2 / 3) * a2 + a * b + (-4 + 4 * b2) * b2;
}

static double rosenbrock(const double *x)
{
    double q = x[1] - x[0] * x[0], r = x[0] - 1;
    return 100 * q * q + r * r;
}

static double ackley(const double *x)
{
    double sq = 0.5 * (x[0] * x[0] + x[1] * x[1]);
    double cs = 0.5 * (cos(2 * PI * x[0]) + cos(2 * PI * x[1]));
    return -20 * exp(-0.2 * sqrt(sq)) - exp(cs) + 20 + exp(1.0);
}

static double levy(const double *x)
{
    double w1 = 1 + (x[0] - 1) / 4, w2 = 1 + (x[1] - 1) / 4;
    double s1 = sin(PI * w1), s2 = sin(PI * w1 + 1), s3 = sin(2 * PI * w2);
    return s1 * s1 + (w1 - 1) * (w1 - 1) * (1 + 10 * s2 * s2) +
           (w2 - 1) * (w2 - 1) * (1 + s3 * s3);
}

static double styblinski_tang(const double *x)
{
    double f = 0;
    for (int i = 0; i < 2; i++) {
        double v = x[i], v2 = v * v;
        f += v2 * v2 - 16 * v2 + 5 * v;
    }
    return 0.5 * f;
}

static double rastrigin(const double *x)
{
    double f = 20;
    for (int i = 0; i < 2; i++) f += x[i] * x[i] - 10 * cos(2 * PI * x[i]);
    return f;
}

static double forrester(const double *x)
{
    double q = 6 * x[0] - 2;
    return q * q * sin(12 * x[0] - 4);
}

static const nt_testfn testfns[] = {
    {"branin", 2, {-5, 0}, {10, 15}, 0.397887357729739, branin,
     "2-D, smooth with three equal global minima 0.397887 at (-pi, 12.275), "
     "(pi, 2.275) and (9.42478, 2.475)"},
    {"hartmann3", 3, {0, 0, 0}, {1, 1, 1}, -3.86278214782076, hartmann3,
     "3-D on [0,1]^3, four local minima; global minimum -3.86278 at "
     "(0.114614, 0.555649, 0.852547)"},
    {"hartmann6", 6, {0, 0, 0, 0, 0, 0}, {1, 1, 1, 1, 1, 1}, -3.32236801141551,
     hartmann6,
     "6-D on [0,1]^6, six local minima; global minimum -3.32237 at (0.20169, "
     "0.150011, 0.476874, 0.275332, 0.311652, 0.6573)"},
    {"goldstein_price", 2, {-2, -2}, {2, 2}, 3.0, goldstein_price,
     "2-D on [-2,2]^2, values spanning six orders of magnitude; minimum 3 at "
     "(0, -1)"},
    {"six_hump_camel", 2, {-3, -2}, {3, 2}, -1.0316284534898774, six_hump_camel,
     "2-D, six local minima, two of them global: -1.0316 at (0.0898, -0.7126) "
     "and (-0.0898, 0.7126)"},
    {"rosenbrock", 2, {-5, -5}, {10, 10}, 0.0, rosenbrock,
     "2-D on [-5,10]^2, a long curved flat valley; minimum 0 at (1, 1)"},
    {"ackley", 2, {-32.768, -32.768}, {32.768, 32.768}, 0.0, ackley,
     "2-D, nearly flat outside with many small local minima around a deep "
     "hole; minimum 0 at (0, 0)"},
    {"levy", 2, {-10, -10}, {10, 10}, 0.0, levy,
     "2-D on [-10,10]^2, many local minima on a ridged bowl; minimum 0 at "
     "(1, 1)"},
    {"styblinski_tang", 2, {-5, -5}, {5, 5}, -78.33233140754284, styblinski_tang,
     "2-D on [-5,5]^2, four basins; minimum -78.332 at (-2.903534, -2.903534)"},
    {"rastrigin", 2, {-5.12, -5.12}, {5.12, 5.12}, 0.0, rastrigin,
     "2-D, a regular egg-box of local minima; minimum 0 at (0, 0)"},
    {"forrester", 1, {0}, {1}, -6.020740055767083, forrester,
     "1-D on [0,1], one local and one global minimum: -6.02074 at x=0.757249"},
};

#define N_TESTFNS ((int)(sizeof testfns / sizeof testfns[0]))

const nt_testfn *nt_testfn_find(const char *name)
{
    for (int i = 0; i < N_TESTFNS; i++)
        if (strcmp(testfns[i].name, name) == 0) return &testfns[i];
    return NULL;
}

const nt_testfn *nt_testfn_all(int *n)
{
    *n = N_TESTFNS;
    return testfns;
}

void nt_testfn_space(const nt_testfn *fn, nt_space *out)
{
    memset(out, 0, sizeof *out);
    for (int j = 0; j < fn->dims; j++) {
        char line[128];
        // %.17g reads back to the same double
        snprintf(line, sizeof line, "x%d = uniform(%.17g, %.17g)", j + 1,
                 fn->lo[j], fn->hi[j]);
        nt_status rc = nt_space_add_line(out, line, fn->name);
        assert(rc == NT_OK);
        (void)rc;
    }
}

double nt_testfn_eval(const nt_testfn *fn, const nt_space *s,
                      const nt_assignment *a)
{
    double x[8];
    for (int j = 0; j < fn->dims; j++) {
        char name[16];
        snprintf(name, sizeof name, "x%d", j + 1);
        x[j] = nt_assign_num(s, a, name, NAN);
        assert(!isnan(x[j]));
    }
    return fn->f(x);
}
