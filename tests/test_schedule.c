/* test_schedule.c - learning-rate schedules at chosen steps, warm-up,
 * checks, names. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "nntune/schedule.h"

static void expect(const nt_schedule *s, long step, double want)
{
    double got = nt_schedule_lr(s, step);
    cr_assert(fabs(got - want) <= 1e-12 * fabs(want) + 1e-15, "%s: lr at step %ld = %.12g, want %.12g",
              nt_sched_name(s->kind), step, got, want);
}

Test(schedule, constant_with_warmup_rises_linearly_then_holds)
{
    // warmup 4, lr 0.1: steps 0..3 give 0.1*(1,2,3,4)/4, then 0.1
    nt_schedule s = {.kind = NT_SCHED_CONSTANT, .lr = 0.1, .warmup = 4};
    expect(&s, 0, 0.025);
    expect(&s, 1, 0.05);
    expect(&s, 2, 0.075);
    expect(&s, 3, 0.1);
    expect(&s, 4, 0.1);
    expect(&s, 1000, 0.1);
    s.warmup = 0;
    expect(&s, 0, 0.1);
}

Test(schedule, step_decays_by_gamma_every_step_size)
{
    // gamma 0.5, step_size 10: 0.1 for s in [0,9], 0.05 in [10,19], 0.025 at 25
    nt_schedule s = {.kind = NT_SCHED_STEP, .lr = 0.1, .gamma = 0.5, .step_size = 10};
    expect(&s, 0, 0.1);
    expect(&s, 9, 0.1);
    expect(&s, 10, 0.05);
    expect(&s, 25, 0.025);
    // with warmup 5 the decay counts from step 5: step 14 is s = 9, step 15 is s = 10
    s.warmup = 5;
    expect(&s, 0, 0.02);
    expect(&s, 4, 0.1);
    expect(&s, 14, 0.1);
    expect(&s, 15, 0.05);
}

Test(schedule, exp_decays_continuously)
{
    // 0.1 * 0.5^(s/10): s = 5 gives 0.1/sqrt(2) = 0.0707106781186548, s = 20 gives 0.025
    nt_schedule s = {.kind = NT_SCHED_EXP, .lr = 0.1, .gamma = 0.5, .step_size = 10};
    expect(&s, 0, 0.1);
    expect(&s, 5, 0.1 / sqrt(2.0));
    expect(&s, 20, 0.025);
}

Test(schedule, cosine_goes_from_lr_to_lr_min_after_warmup_and_stays)
{
    // lr 0.1, lr_min 0.01, total 110, warmup 10: T = 100
    // s = 0: 0.1;  s = 50: 0.01 + 0.09*(1 + cos(pi/2))/2 = 0.055
    // s = 25: 0.01 + 0.09*(1 + cos(pi/4))/2 = 0.01 + 0.045*(1 + 0.70710678) = 0.0868198052
    // s >= 100: 0.01
    nt_schedule s = {.kind = NT_SCHED_COSINE, .lr = 0.1, .lr_min = 0.01,
                     .total_steps = 110, .warmup = 10};
    expect(&s, 0, 0.01);   // warm-up: 0.1 * 1/10
    expect(&s, 9, 0.1);
    expect(&s, 10, 0.1);
    expect(&s, 35, 0.01 + 0.045 * (1 + sqrt(0.5)));
    expect(&s, 60, 0.055);
    expect(&s, 110, 0.01);
    expect(&s, 500, 0.01);
}

Test(schedule, cyclic_is_triangular_between_lr_min_and_lr)
{
    // lr_min 0.01, lr 0.1, half cycle 4: up 0.01 -> 0.1 over s = 0..4, down to 0.01 at 8
    nt_schedule s = {.kind = NT_SCHED_CYCLIC, .lr = 0.1, .lr_min = 0.01, .step_size = 4};
    expect(&s, 0, 0.01);
    expect(&s, 1, 0.0325);  // 0.01 + 0.09/4
    expect(&s, 2, 0.055);
    expect(&s, 4, 0.1);
    expect(&s, 6, 0.055);
    expect(&s, 8, 0.01);
    expect(&s, 10, 0.055);
    expect(&s, 12, 0.1);
}

Test(schedule, check_refuses_bad_values_naming_the_field_and_value)
{
    const nt_schedule base = {.kind = NT_SCHED_COSINE, .lr = 0.1, .lr_min = 0.0, .gamma = 0.5,
                              .step_size = 10, .total_steps = 100, .warmup = 5};
    cr_assert(nt_schedule_check(&base) == NT_OK, "valid schedule refused: %s", nt_last_error());
    struct { nt_schedule s; const char *field, *value; } bad[9];
    for (int i = 0; i < 9; i++) bad[i].s = base;
    bad[0].s.lr = 0, bad[0].field = "lr", bad[0].value = "0";
    bad[1].s.lr = -1, bad[1].field = "lr", bad[1].value = "-1";
    bad[2].s.lr_min = 0.2, bad[2].field = "lr_min", bad[2].value = "0.2";
    bad[3].s.lr_min = -0.01, bad[3].field = "lr_min", bad[3].value = "-0.01";
    bad[4].s.total_steps = 5, bad[4].field = "total_steps", bad[4].value = "5";
    bad[5].s.kind = NT_SCHED_STEP, bad[5].s.gamma = 1.5, bad[5].field = "gamma", bad[5].value = "1.5";
    bad[6].s.kind = NT_SCHED_EXP, bad[6].s.gamma = 0, bad[6].field = "gamma", bad[6].value = "0";
    bad[7].s.kind = NT_SCHED_CYCLIC, bad[7].s.step_size = 0, bad[7].field = "step_size", bad[7].value = "0";
    bad[8].s.warmup = -3, bad[8].field = "warmup", bad[8].value = "-3";
    for (int i = 0; i < 9; i++) {
        nt_status rc = nt_schedule_check(&bad[i].s);
        cr_assert(rc == NT_ERR_ARG, "bad %s: status %d, want NT_ERR_ARG", bad[i].field, rc);
        const char *msg = nt_last_error();
        cr_assert(strstr(msg, bad[i].field) && strstr(msg, bad[i].value),
                  "message \"%s\" does not name %s = %s", msg, bad[i].field, bad[i].value);
    }
    // gamma and step_size do not matter where unused
    nt_schedule c = {.kind = NT_SCHED_CONSTANT, .lr = 1e-3};
    cr_assert(nt_schedule_check(&c) == NT_OK, "constant with zero gamma refused: %s", nt_last_error());
}

Test(schedule, names_round_trip)
{
    for (int k = NT_SCHED_CONSTANT; k <= NT_SCHED_CYCLIC; k++)
        cr_assert(nt_sched_parse(nt_sched_name((nt_sched_kind)k)) == k, "%s does not round-trip",
                  nt_sched_name((nt_sched_kind)k));
    cr_assert(strcmp(nt_sched_name(NT_SCHED_EXP), "exp") == 0, "exp is named %s", nt_sched_name(NT_SCHED_EXP));
    cr_assert(nt_sched_parse("linear") == -1 && nt_sched_parse(NULL) == -1, "unknown schedule parsed");
}
