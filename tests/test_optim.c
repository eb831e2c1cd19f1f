/* test_optim.c - SGD, momentum, Nesterov and Adam against updates worked
 * out by hand; configuration checks; reset; names. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "nntune/optim.h"

// 37 copies of one parameter, so the vectorized body and the scalar tail
// are both exercised; every copy must follow the hand-worked values.
enum { N = 37 };

static void run(nt_opt_config cfg, const float *g_seq, int steps, float lr,
                const double *want, const char *what)
{
    nt_optim o;
    cr_assert(nt_optim_init(&cfg, N, &o) == NT_OK, "%s: %s", what, nt_last_error());
    float p[N], g[N];
    for (int i = 0; i < N; i++) p[i] = 1.0f;
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < N; i++) g[i] = g_seq[s];
        nt_optim_step(&o, p, g, lr);
        for (int i = 0; i < N; i++)
            cr_assert(fabs(p[i] - want[s]) < 1e-6, "%s step %d: p[%d] = %.9g, by hand %.9g",
                      what, s + 1, i, (double)p[i], want[s]);
    }
    cr_assert(o.t == steps, "%s: t = %ld after %d steps", what, o.t, steps);
    nt_optim_free(&o);
}

Test(optim, plain_sgd_takes_one_step_of_lr_times_g)
{
    // p = 1, g = 0.5, lr = 0.1: p = 1 - 0.1*0.5 = 0.95; then g = 0.25: 0.95 - 0.025 = 0.925
    nt_opt_config c = nt_opt_defaults(NT_OPT_SGD);
    c.momentum = 0.0f;
    const float g[2] = {0.5f, 0.25f};
    const double want[2] = {0.95, 0.925};
    run(c, g, 2, 0.1f, want, "sgd");
}

Test(optim, sgd_momentum_follows_the_pytorch_convention_over_two_steps)
{
    // mu = 0.9, lr = 0.1, p = 1
    // step 1, g = 0.5:  v = 0.9*0 + 0.5 = 0.5;        p = 1 - 0.1*0.5 = 0.95
    // step 2, g = 0.25: v = 0.9*0.5 + 0.25 = 0.7;     p = 0.95 - 0.1*0.7 = 0.88
    nt_opt_config c = nt_opt_defaults(NT_OPT_SGD);
    const float g[2] = {0.5f, 0.25f};
    const double want[2] = {0.95, 0.88};
    run(c, g, 2, 0.1f, want, "sgd momentum");
}

Test(optim, nesterov_looks_ahead_along_the_velocity)
{
    // mu = 0.9, lr = 0.1, p = 1
    // step 1, g = 0.5:  v = 0.5; p = 1 - 0.1*(0.5 + 0.9*0.5) = 1 - 0.095 = 0.905
    // step 2, g = 0.25: v = 0.9*0.5 + 0.25 = 0.7;
    //                   p = 0.905 - 0.1*(0.25 + 0.9*0.7) = 0.905 - 0.088 = 0.817
    nt_opt_config c = nt_opt_defaults(NT_OPT_SGD);
    c.nesterov = true;
    const float g[2] = {0.5f, 0.25f};
    const double want[2] = {0.905, 0.817};
    run(c, g, 2, 0.1f, want, "nesterov");
}

Test(optim, adam_matches_two_steps_worked_by_hand)
{
    // b1 = 0.9, b2 = 0.999, eps = 1e-8, lr = 0.1, p = 1
    // step 1, g = 0.5:  m = 0.1*0.5 = 0.05;  v = 0.001*0.25 = 0.00025
    //   mhat = 0.05/(1-0.9) = 0.5;  vhat = 0.00025/(1-0.999) = 0.25;  sqrt = 0.5
    //   p = 1 - 0.1*0.5/(0.5 + 1e-8) = 0.900000002
    // step 2, g = 0.25: m = 0.9*0.05 + 0.1*0.25 = 0.07
    //   v = 0.999*0.00025 + 0.001*0.0625 = 0.00024975 + 0.0000625 = 0.00031225
    //   mhat = 0.07/(1-0.81) = 0.368421053;  vhat = 0.00031225/(1-0.998001) = 0.156203102
    //   sqrt(vhat) = 0.395225381;  step = 0.1*0.368421053/0.395225381 = 0.0932179616
    //   p = 0.900000002 - 0.0932179616 = 0.80678204
    nt_opt_config c = nt_opt_defaults(NT_OPT_ADAM);
    const float g[2] = {0.5f, 0.25f};
    const double want[2] = {0.900000002, 0.80678204};
    run(c, g, 2, 0.1f, want, "adam");
}

Test(optim, adam_first_step_moves_each_parameter_by_lr_against_its_gradient_sign)
{
    // with bias correction mhat/sqrt(vhat) = g/|g| on step 1, whatever |g|
    nt_opt_config c = nt_opt_defaults(NT_OPT_ADAM);
    nt_optim o;
    cr_assert(nt_optim_init(&c, 5, &o) == NT_OK);
    float p[5] = {0, 0, 0, 0, 0};
    const float g[5] = {1e-3f, -2.0f, 50.0f, -1e-2f, 0.0f};
    const float want[5] = {-0.01f, 0.01f, -0.01f, 0.01f, 0.0f};
    nt_optim_step(&o, p, g, 0.01f);
    for (int i = 0; i < 5; i++)
        cr_assert(fabsf(p[i] - want[i]) < 1e-7f, "p[%d] = %.9g after g = %g, want %g",
                  i, (double)p[i], (double)g[i], (double)want[i]);
    nt_optim_free(&o);
}

Test(optim, reset_zeroes_the_state_so_steps_repeat)
{
    nt_opt_config c = nt_opt_defaults(NT_OPT_ADAM);
    nt_optim o;
    cr_assert(nt_optim_init(&c, 3, &o) == NT_OK);
    float p1[3] = {1, 2, 3}, p2[3] = {1, 2, 3};
    const float g[3] = {0.3f, -0.1f, 0.7f};
    nt_optim_step(&o, p1, g, 0.1f);
    nt_optim_step(&o, p1, g, 0.1f);
    nt_optim_reset(&o);
    cr_assert(o.t == 0 && o.m[0] == 0 && o.v[0] == 0, "after reset t = %ld, m[0] = %g, v[0] = %g",
              o.t, (double)o.m[0], (double)o.v[0]);
    float q[3] = {1, 2, 3};
    nt_optim_step(&o, q, g, 0.1f);
    nt_optim_reset(&o);
    nt_optim_step(&o, p2, g, 0.1f);
    for (int i = 0; i < 3; i++)
        cr_assert(q[i] == p2[i], "first step after reset p[%d] = %.9g, want %.9g", i, (double)p2[i], (double)q[i]);
    nt_optim_free(&o);
    nt_optim_free(&o);  // twice is safe
}

Test(optim, defaults_are_the_documented_values)
{
    nt_opt_config s = nt_opt_defaults(NT_OPT_SGD), a = nt_opt_defaults(NT_OPT_ADAM);
    cr_assert(s.kind == NT_OPT_SGD && s.momentum == 0.9f && !s.nesterov,
              "sgd defaults: kind %d momentum %g nesterov %d", s.kind, (double)s.momentum, s.nesterov);
    cr_assert(a.kind == NT_OPT_ADAM && a.beta1 == 0.9f && a.beta2 == 0.999f && a.eps == 1e-8f,
              "adam defaults: kind %d beta1 %g beta2 %g eps %g", a.kind, (double)a.beta1,
              (double)a.beta2, (double)a.eps);
}

Test(optim, init_refuses_impossible_configurations_naming_the_field)
{
    struct { nt_opt_config c; const char *field; } bad[6];
    for (int i = 0; i < 6; i++) bad[i].c = nt_opt_defaults(i < 2 ? NT_OPT_SGD : NT_OPT_ADAM);
    bad[0].c.momentum = 1.0f, bad[0].field = "momentum";
    bad[1].c.momentum = 0.0f, bad[1].c.nesterov = true, bad[1].field = "nesterov";
    bad[2].c.beta1 = 1.0f, bad[2].field = "beta1";
    bad[3].c.beta2 = -0.5f, bad[3].field = "beta2";
    bad[4].c.eps = 0.0f, bad[4].field = "eps";
    bad[5].c.kind = (nt_opt_kind)5, bad[5].field = "kind";
    for (int i = 0; i < 6; i++) {
        nt_optim o;
        nt_status rc = nt_optim_init(&bad[i].c, 10, &o);
        cr_assert(rc == NT_ERR_ARG, "%s: status %d, want NT_ERR_ARG", bad[i].field, rc);
        cr_assert(strstr(nt_last_error(), bad[i].field), "message \"%s\" does not name %s",
                  nt_last_error(), bad[i].field);
        nt_optim_free(&o);
    }
}

Test(optim, names_round_trip)
{
    cr_assert(nt_opt_parse(nt_opt_name(NT_OPT_SGD)) == NT_OPT_SGD, "sgd does not round-trip");
    cr_assert(nt_opt_parse(nt_opt_name(NT_OPT_ADAM)) == NT_OPT_ADAM, "adam does not round-trip");
    cr_assert(strcmp(nt_opt_name(NT_OPT_ADAM), "adam") == 0, "name of adam is %s", nt_opt_name(NT_OPT_ADAM));
    cr_assert(nt_opt_parse("rmsprop") == -1 && nt_opt_parse(NULL) == -1, "unknown optimizer parsed");
}

// The L2 term folded into the step must give exactly what adding l2 * p to
// the gradient before a plain step gives, on the decay ranges only, however
// the update is cut into slices. 50 elements: decayed [3, 20) and [25, 41).
static void check_folded_l2(nt_opt_config cfg, const char *what)
{
    enum { P = 50, STEPS = 4 };
    const size_t lo[2] = {3, 25}, hi[2] = {20, 41};
    const float l2 = 0.03f, lr = 0.05f;
    nt_optim folded, plain;
    cr_assert(nt_optim_init(&cfg, P, &folded) == NT_OK && nt_optim_init(&cfg, P, &plain) == NT_OK);
    cr_assert(nt_optim_set_l2(&folded, l2, 2, lo, hi) == NT_OK, "%s: %s", what, nt_last_error());
    float pf[P], pp[P], g[P], gp[P];
    for (int i = 0; i < P; i++) pf[i] = pp[i] = 0.5f - 0.02f * (float)i;
    for (int s = 0; s < STEPS; s++) {
        for (int i = 0; i < P; i++) g[i] = 0.1f * (float)((i * 7 + s * 3) % 11) - 0.5f;
        for (int i = 0; i < P; i++) {
            bool decayed = (i >= 3 && i < 20) || (i >= 25 && i < 41);
            gp[i] = decayed ? g[i] + l2 * pp[i] : g[i];
        }
        nt_optim_step(&plain, pp, gp, lr);
        // the folded one in slices that cut across the ranges' ends
        nt_optim_next(&folded);
        const size_t cut[] = {0, 2, 11, 22, 30, 41, 50};
        for (int c = 0; c + 1 < (int)(sizeof cut / sizeof *cut); c++)
            nt_optim_update(&folded, pf, g, lr, cut[c], cut[c + 1]);
        for (int i = 0; i < P; i++)
            cr_assert(pf[i] == pp[i], "%s step %d: p[%d] = %.9g folded, %.9g with l2 * p in grads",
                      what, s + 1, i, (double)pf[i], (double)pp[i]);
    }
    nt_optim_free(&folded);
    nt_optim_free(&plain);
}

Test(optim, l2_folded_into_the_step_equals_l2_in_the_gradient)
{
    check_folded_l2(nt_opt_defaults(NT_OPT_ADAM), "adam");
    check_folded_l2(nt_opt_defaults(NT_OPT_SGD), "sgd momentum");
    nt_opt_config nest = nt_opt_defaults(NT_OPT_SGD);
    nest.nesterov = true;
    check_folded_l2(nest, "sgd nesterov");
    nt_opt_config plain = nt_opt_defaults(NT_OPT_SGD);
    plain.momentum = 0.0f;
    check_folded_l2(plain, "plain sgd");
}

Test(optim, set_l2_refuses_bad_penalties_and_ranges)
{
    nt_opt_config cfg = nt_opt_defaults(NT_OPT_ADAM);
    nt_optim o;
    cr_assert(nt_optim_init(&cfg, 10, &o) == NT_OK);
    size_t lo[2] = {0, 6}, hi[2] = {5, 10};
    cr_assert(nt_optim_set_l2(&o, -1.0f, 2, lo, hi) == NT_ERR_ARG, "negative l2 taken");
    cr_assert(strstr(nt_last_error(), "l2"), "message \"%s\" does not name l2", nt_last_error());
    cr_assert(nt_optim_set_l2(&o, INFINITY, 2, lo, hi) == NT_ERR_ARG, "infinite l2 taken");
    size_t past[2] = {5, 11};
    cr_assert(nt_optim_set_l2(&o, 0.1f, 2, lo, past) == NT_ERR_ARG, "a range past n taken");
    size_t back_lo[2] = {6, 0}, back_hi[2] = {10, 5};
    cr_assert(nt_optim_set_l2(&o, 0.1f, 2, back_lo, back_hi) == NT_ERR_ARG, "ranges out of order taken");
    cr_assert(nt_optim_set_l2(&o, 0.1f, 2, lo, hi) == NT_OK, "%s", nt_last_error());
    cr_assert(o.n_decay == 2 && o.l2 == 0.1f, "n_decay %d, l2 %g", o.n_decay, (double)o.l2);
    cr_assert(nt_optim_set_l2(&o, 0.0f, 2, lo, hi) == NT_OK && o.n_decay == 0,
              "l2 = 0 still decays %d ranges", o.n_decay);
    nt_optim_free(&o);
}
