/* test_bayes.c - the Bayesian strategy through the public ask/tell
 * interface: its design, determinism, pending and failed trials,
 * conditional parameters, and seeded races against random search on
 * Branin and Hartmann-6. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nntune/gp.h"
#include "nntune/strategy.h"
#include "nntune/testfn.h"

static nt_strategy *make(const char *name, const nt_space *s, uint64_t seed)
{
    nt_strategy_options o = {.seed = seed};
    nt_strategy *st = NULL;
    nt_status rc = nt_strategy_create(name, s, &o, &st);
    cr_assert_eq(rc, NT_OK, "create %s: %s", name, nt_last_error());
    return st;
}

static double max_gap(const double *a, const double *b, int dims)
{
    double g = 0.0;
    for (int j = 0; j < dims; j++) g = fmax(g, fabs(a[j] - b[j]));
    return g;
}

// best value of fn found by a strategy in `evals` sequential trials
static double race(const char *strategy, const nt_testfn *fn, int evals,
                   uint64_t seed)
{
    nt_space s;
    nt_testfn_space(fn, &s);
    nt_strategy *st = make(strategy, &s, seed);
    double best = INFINITY, u[NT_MAX_PARAMS];
    for (int t = 0; t < evals; t++) {
        cr_assert_eq(nt_strategy_ask(st, t, u, NULL, 0), NT_OK, "%s ask %d: %s",
                     strategy, t, nt_last_error());
        nt_assignment a;
        nt_space_decode(&s, u, &a);
        double y = nt_testfn_eval(fn, &s, &a);
        best = fmin(best, y);
        cr_assert_eq(nt_strategy_tell(st, t, u, y, true), NT_OK);
    }
    nt_strategy_free(st);
    return best;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median10(double *v)
{
    qsort(v, 10, sizeof *v, cmp_double);
    return 0.5 * (v[4] + v[5]);
}

Test(bayes, beats_random_search_on_branin_in_30_evaluations)
{
    const nt_testfn *fn = nt_testfn_find("branin");
    cr_assert_not_null(fn);
    double b[10], r[10];
    for (int s = 0; s < 10; s++) {
        b[s] = race("bayes", fn, 30, (uint64_t)s + 1);
        r[s] = race("random", fn, 30, (uint64_t)s + 1);
    }
    double mb = median10(b), mr = median10(r);
    cr_assert(mb <= 0.42 && mb < mr, "median best of 10 seeds after 30 "
              "evaluations: bayes %.4f (want <= 0.42; minimum %.4f), random "
              "%.4f", mb, fn->minimum, mr);
}

Test(bayes, beats_random_search_on_hartmann6_in_60_evaluations)
{
    const nt_testfn *fn = nt_testfn_find("hartmann6");
    cr_assert_not_null(fn);
    double b[10], r[10];
    for (int s = 0; s < 10; s++) {
        b[s] = race("bayes", fn, 60, (uint64_t)s + 1);
        r[s] = race("random", fn, 60, (uint64_t)s + 1);
    }
    double mb = median10(b), mr = median10(r);
    cr_assert(mb <= -3.0 && mb < mr, "median best of 10 seeds after 60 "
              "evaluations: bayes %.4f (want <= -3.0; minimum %.4f), random "
              "%.4f", mb, fn->minimum, mr);
}

static void two_d(nt_space *s)
{
    cr_assert_eq(nt_space_parse("a = uniform(0, 1)\nb = uniform(0, 1)\n",
                                "test", s), NT_OK, "%s", nt_last_error());
}

Test(bayes, starts_with_a_latin_hypercube_and_explains_it)
{
    nt_space s;
    two_d(&s);
    nt_strategy *st = make("bayes", &s, 9);
    // 2 dims: 2*2 + 2 = 6 design points, each coordinate once per sixth
    int seen[2][6] = {{0}};
    char why[400];
    double u[2];
    for (int t = 0; t < 6; t++) {
        cr_assert_eq(nt_strategy_ask(st, t, u, why, sizeof why), NT_OK);
        char want[80];
        snprintf(want, sizeof want, "space-filling design point %d of 6 "
                 "(Latin hypercube)", t + 1);
        cr_assert(strstr(why, want), "trial %d says \"%s\", want \"%s\"", t,
                  why, want);
        for (int j = 0; j < 2; j++) seen[j][(int)(u[j] * 6)]++;
        nt_strategy_tell(st, t, u, u[0] + u[1], true);
    }
    for (int j = 0; j < 2; j++)
        for (int k = 0; k < 6; k++)
            cr_assert_eq(seen[j][k], 1, "coordinate %d: %d points in [%d/6, "
                         "%d/6)", j, seen[j][k], k, k + 1);
    // then the model takes over and reports in the score's units
    cr_assert_eq(nt_strategy_ask(st, 6, u, why, sizeof why), NT_OK);
    cr_assert(strncmp(why, "GP predicts ", 12) == 0 &&
              strstr(why, "expected improvement") &&
              (strstr(why, "exploiting") || strstr(why, "exploring")),
              "model-phase why: \"%s\"", why);
    nt_strategy_free(st);
}

// n sequential trials of f(u) = (u0 - .3)^2 + (u1 - .6)^2 into U (n, 2)
static void run_seq(uint64_t seed, int n, double *U)
{
    nt_space s;
    two_d(&s);
    nt_strategy *st = make("bayes", &s, seed);
    for (int t = 0; t < n; t++) {
        double *u = U + 2 * t;
        cr_assert_eq(nt_strategy_ask(st, t, u, NULL, 0), NT_OK);
        double y = (u[0] - 0.3) * (u[0] - 0.3) + (u[1] - 0.6) * (u[1] - 0.6);
        nt_strategy_tell(st, t, u, y, true);
    }
    nt_strategy_free(st);
}

Test(bayes, same_seed_gives_the_same_points_and_another_seed_does_not)
{
    double A[2 * 16], B[2 * 16], C[2 * 16];
    run_seq(3, 16, A);
    run_seq(3, 16, B);
    run_seq(4, 16, C);
    for (int i = 0; i < 2 * 16; i++)
        cr_assert(A[i] == B[i], "seed 3 twice, coordinate %d of trial %d: "
                  "%.17g vs %.17g", i % 2, i / 2, A[i], B[i]);
    double diff = 0.0;
    for (int i = 0; i < 2 * 16; i++) diff = fmax(diff, fabs(A[i] - C[i]));
    cr_assert(diff > 1e-3, "seeds 3 and 4 agree to %g", diff);
}

Test(bayes, never_proposes_a_pending_point_twice)
{
    nt_space s;
    two_d(&s);
    nt_strategy *st = make("bayes", &s, 5);
    double U[20][2];
    for (int t = 0; t < 8; t++) {
        cr_assert_eq(nt_strategy_ask(st, t, U[t], NULL, 0), NT_OK);
        nt_strategy_tell(st, t, U[t], fabs(U[t][0] - 0.5) + U[t][1], true);
    }
    // twelve trials in flight at once
    for (int t = 8; t < 20; t++)
        cr_assert_eq(nt_strategy_ask(st, t, U[t], NULL, 0), NT_OK);
    for (int t = 8; t < 20; t++)
        for (int k = 0; k < t; k++)
            cr_assert(max_gap(U[t], U[k], 2) > 1e-6, "trial %d (%g, %g) "
                      "repeats trial %d (%g, %g)", t, U[t][0], U[t][1], k,
                      U[k][0], U[k][1]);
    nt_strategy_free(st);

    // a space of only 9 points: 9 trials in flight are all different
    nt_space d;
    cr_assert_eq(nt_space_parse("c = choice(x, y, z)\nk = int(1, 3)\n", "t",
                                &d), NT_OK, "%s", nt_last_error());
    st = make("bayes", &d, 5);
    for (int t = 0; t < 3; t++) {
        cr_assert_eq(nt_strategy_ask(st, t, U[t], NULL, 0), NT_OK);
        nt_strategy_tell(st, t, U[t], U[t][0] + U[t][1], true);
    }
    for (int t = 3; t < 9; t++)
        cr_assert_eq(nt_strategy_ask(st, t, U[t], NULL, 0), NT_OK);
    for (int t = 0; t < 9; t++)
        for (int k = 0; k < t; k++)
            cr_assert(max_gap(U[t], U[k], 2) > 1e-6, "discrete space: trial "
                      "%d (%g, %g) repeats trial %d", t, U[t][0], U[t][1], k);
    nt_strategy_free(st);
}

/* Two-dimensional bowl, 6 design points, then model trials 6, 7, ...; with
 * batch 2, trial 7 is the second of the batch {6, 7}. Trial 6 is told
 * `score6` (NAN: not told at all, still pending) before trial 7 is asked. */
static void ask_after_partner(int batch, double score6, double *u7, char *why, size_t len)
{
    nt_space s;
    two_d(&s);
    nt_strategy_options o = {.seed = 11, .batch = batch};
    nt_strategy *st = NULL;
    cr_assert_eq(nt_strategy_create("bayes", &s, &o, &st), NT_OK, "%s", nt_last_error());
    double u[2];
    for (int t = 0; t < 7; t++) {
        cr_assert_eq(nt_strategy_ask(st, t, u, NULL, 0), NT_OK, "%s", nt_last_error());
        double y = (u[0] - 0.3) * (u[0] - 0.3) + (u[1] - 0.6) * (u[1] - 0.6);
        if (t == 6) y = score6;
        if (!isnan(y)) nt_strategy_tell(st, t, u, y, true);
    }
    cr_assert_eq(nt_strategy_ask(st, 7, u7, why, len), NT_OK, "%s", nt_last_error());
    nt_strategy_free(st);
}

Test(bayes, a_batchs_later_trial_is_chosen_without_its_partners_result)
{
    double pending[2], low[2], high[2];
    char why_p[600], why_l[600], why_h[600];
    ask_after_partner(2, NAN, pending, why_p, sizeof why_p);
    ask_after_partner(2, -5.0, low, why_l, sizeof why_l);
    ask_after_partner(2, 5.0, high, why_h, sizeof why_h);
    for (int j = 0; j < 2; j++) {
        cr_assert(low[j] == pending[j] && high[j] == pending[j],
                  "coordinate %d of trial 8: %.17g with trial 7 running, %.17g "
                  "and %.17g with it told -5 and 5", j, pending[j], low[j], high[j]);
    }
    cr_assert_str_eq(why_l, why_p, "why differs once trial 7 is told");
    cr_assert_str_eq(why_h, why_p, "why differs once trial 7 is told");
    cr_assert(strstr(why_p, "proposed in a batch of 2 with trial 7"), "why: \"%s\"", why_p);
    cr_assert(!strstr(why_p, "running trial"), "the partner counted twice: \"%s\"", why_p);
    // one at a time, the told result moves the next point
    ask_after_partner(1, -5.0, low, why_l, sizeof why_l);
    ask_after_partner(1, 5.0, high, why_h, sizeof why_h);
    cr_assert(max_gap(low, high, 2) > 1e-3, "batch 1: trial 8 at (%g, %g) after -5 and "
              "(%g, %g) after 5", low[0], low[1], high[0], high[1]);
    cr_assert(!strstr(why_l, "batch"), "batch 1 why: \"%s\"", why_l);
}

Test(bayes, failed_trials_are_survived_and_not_modeled_as_zero)
{
    // scores near 10, best at (0.7, 0.5); every trial with a < 0.4 fails.
    // Were failures scored 0, the failing slab would look 10 units better
    // than anything and the model phase would keep proposing into it.
    nt_space s;
    two_d(&s);
    int n_init = 6, failing = 0, model_trials = 0;
    double best = INFINITY;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        nt_strategy *st = make("bayes", &s, seed);
        for (int t = 0; t < 30; t++) {
            double u[2];
            char why[400];
            cr_assert_eq(nt_strategy_ask(st, t, u, why, sizeof why), NT_OK,
                         "seed %d trial %d: %s", (int)seed, t, nt_last_error());
            bool ok = u[0] >= 0.4;
            double y = 10.0 + (u[0] - 0.7) * (u[0] - 0.7) +
                       (u[1] - 0.5) * (u[1] - 0.5);
            if (t >= n_init) {
                model_trials++;
                failing += !ok;
            }
            if (ok) best = fmin(best, y);
            // a failure's score is ignored: pass a tempting 0
            cr_assert_eq(nt_strategy_tell(st, t, u, ok ? y : 0.0, ok), NT_OK);
        }
        nt_strategy_free(st);
    }
    cr_assert(failing <= model_trials / 4, "%d of %d model-phase proposals "
              "fell in the failing region", failing, model_trials);
    cr_assert(best < 10.001, "best score %.6f (minimum 10)", best);
}

Test(bayes, keeps_going_when_every_trial_fails)
{
    nt_space s;
    two_d(&s);
    nt_strategy *st = make("bayes", &s, 2);
    double U[12][2];
    char why[400];
    for (int t = 0; t < 12; t++) {
        cr_assert_eq(nt_strategy_ask(st, t, U[t], why, sizeof why), NT_OK,
                     "trial %d: %s", t, nt_last_error());
        for (int j = 0; j < 2; j++)
            cr_assert(U[t][j] >= 0.0 && U[t][j] <= 1.0, "u[%d] = %g", j, U[t][j]);
        for (int k = 0; k < t; k++)
            cr_assert(max_gap(U[t], U[k], 2) > 1e-6, "trial %d repeats %d", t, k);
        // a non-finite score with ok = true counts as a failure too
        nt_strategy_tell(st, t, U[t], t % 2 ? NAN : 1.0, t % 2 == 1);
    }
    cr_assert(strstr(why, "no trial has succeeded yet"), "why: \"%s\"", why);
    nt_strategy_free(st);
}

static const char *cond_space =
    "opt = choice(sgd, adam)\n"
    "mom = uniform(0.5, 0.99) if opt == sgd\n"
    "nest = choice(yes, no) if opt == sgd\n"
    "lr = loguniform(1e-4, 1e-1)\n";

Test(bayes, inactive_parameters_get_neutral_inputs)
{
    nt_space s;
    cr_assert_eq(nt_space_parse(cond_space, "t", &s), NT_OK, "%s",
                 nt_last_error());
    cr_assert_eq(nt_gp_encoded_dims(&s), 6, "inputs: opt 2 + mom 1 + nest 2 "
                 "+ lr 1, got %d", nt_gp_encoded_dims(&s));
    // adam: mom and nest inactive, whatever their coordinates say
    double u[4] = {0.9, 0.13, 0.2, 0.25}, canon[4], x[6];
    nt_gp_encode(&s, u, canon, x);
    const double want_adam[6] = {0, 1, 0.5, 0, 0, 0.25};
    for (int j = 0; j < 6; j++)
        cr_assert(fabs(x[j] - want_adam[j]) < 1e-12, "adam: input %d is %g, "
                  "want %g", j, x[j], want_adam[j]);
    cr_assert(canon[1] == 0.5 && canon[2] == 0.5, "adam: canonical mom %g, "
              "nest %g, want 0.5", canon[1], canon[2]);
    // sgd: all active; choices one-hot at their option
    double v[4] = {0.1, 0.13, 0.2, 0.25};
    nt_gp_encode(&s, v, canon, x);
    const double want_sgd[6] = {1, 0, 0.13, 1, 0, 0.25};
    for (int j = 0; j < 6; j++)
        cr_assert(fabs(x[j] - want_sgd[j]) < 1e-12, "sgd: input %d is %g, "
                  "want %g", j, x[j], want_sgd[j]);

    // the strategy's proposals carry 0.5 on inactive coordinates
    nt_strategy *st = make("bayes", &s, 4);
    int adam = 0;
    for (int t = 0; t < 24; t++) {
        double w[4];
        cr_assert_eq(nt_strategy_ask(st, t, w, NULL, 0), NT_OK);
        nt_assignment a;
        nt_space_decode(&s, w, &a);
        bool is_adam = a.v[0].choice == 1;
        if (is_adam) {
            adam++;
            cr_assert(w[1] == 0.5 && w[2] == 0.5, "trial %d (adam): mom "
                      "coordinate %g, nest %g, want 0.5", t, w[1], w[2]);
        }
        double lr = a.v[3].num;
        double y = pow(log10(lr) + 2.5, 2) +
                   (is_adam ? 0.2 : (a.v[1].num - 0.9) * (a.v[1].num - 0.9));
        nt_strategy_tell(st, t, w, y, true);
    }
    cr_assert(adam > 0 && adam < 24, "adam in %d of 24 trials", adam);
    nt_strategy_free(st);
}

Test(bayes, rejects_impossible_options)
{
    nt_space s;
    two_d(&s);
    nt_strategy_options o = {.initial_points = -1, .seed = 1};
    nt_strategy *st = NULL;
    cr_assert_eq(nt_strategy_create("bayes", &s, &o, &st), NT_ERR_ARG);
    cr_assert_null(st);
    cr_assert(strstr(nt_last_error(), "initial_points"), "message: %s",
              nt_last_error());
}

Test(bayes, answers_for_a_space_with_nothing_to_search)
{
    nt_space s;
    cr_assert_eq(nt_space_parse("epochs = 20\n", "t", &s), NT_OK, "%s",
                 nt_last_error());
    nt_strategy *st = make("bayes", &s, 1);
    char why[200];
    double u[1];
    cr_assert_eq(nt_strategy_ask(st, 0, u, why, sizeof why), NT_OK, "%s",
                 nt_last_error());
    cr_assert(strstr(why, "no searched parameter"), "why: \"%s\"", why);
    nt_strategy_free(st);
}
