/* schedule.c - learning-rate schedules as pure functions of the step. */
#include "nntune/schedule.h"

#include <assert.h>
#include <math.h>
#include <strings.h>

static const char *const sched_names[] = {"constant", "step", "exp", "cosine", "cyclic"};

const char *nt_sched_name(nt_sched_kind k)
{
    return (unsigned)k <= NT_SCHED_CYCLIC ? sched_names[k] : "?";
}

int nt_sched_parse(const char *s)
{
    if (!s) return -1;
    for (int i = 0; i <= NT_SCHED_CYCLIC; i++)
        if (strcasecmp(s, sched_names[i]) == 0) return i;
    return -1;
}

nt_status nt_schedule_check(const nt_schedule *s)
{
    assert(s);
    const char *name = nt_sched_name(s->kind);
    if ((unsigned)s->kind > NT_SCHED_CYCLIC) {
        nt_errorf("schedule: kind = %d, not a schedule", (int)s->kind);
        return NT_ERR_ARG;
    }
    if (!(s->lr > 0.0 && isfinite(s->lr))) {
        nt_errorf("schedule %s: lr = %g, must be > 0", name, s->lr);
        return NT_ERR_ARG;
    }
    if (!(s->lr_min >= 0.0 && s->lr_min < s->lr)) {
        nt_errorf("schedule %s: lr_min = %g, must be in [0, lr = %g)", name, s->lr_min, s->lr);
        return NT_ERR_ARG;
    }
    if (s->warmup < 0) {
        nt_errorf("schedule %s: warmup = %ld, must be >= 0", name, s->warmup);
        return NT_ERR_ARG;
    }
    bool decays = s->kind == NT_SCHED_STEP || s->kind == NT_SCHED_EXP;
    if (decays && !(s->gamma > 0.0 && s->gamma <= 1.0)) {
        nt_errorf("schedule %s: gamma = %g, must be in (0, 1]", name, s->gamma);
        return NT_ERR_ARG;
    }
    if ((decays || s->kind == NT_SCHED_CYCLIC) && s->step_size < 1) {
        nt_errorf("schedule %s: step_size = %ld, must be >= 1", name, s->step_size);
        return NT_ERR_ARG;
    }
    if (s->kind == NT_SCHED_COSINE && s->total_steps <= s->warmup) {
        nt_errorf("schedule %s: total_steps = %ld, must be > warmup = %ld", name,
                  s->total_steps, s->warmup);
        return NT_ERR_ARG;
    }
    return NT_OK;
}

double nt_schedule_lr(const nt_schedule *s, long step)
{
    assert(s);
    const double base = s->lr;
    if (step < 0) step = 0;
    if (step < s->warmup) return base * (double)(step + 1) / (double)s->warmup;
    const long t = step - s->warmup;
    switch (s->kind) {
    case NT_SCHED_CONSTANT:
        return base;
    case NT_SCHED_STEP:
        assert(s->step_size >= 1);  // nt_schedule_check() first
        return base * pow(s->gamma, (double)(t / s->step_size));
    case NT_SCHED_EXP:
        assert(s->step_size >= 1);
        return base * pow(s->gamma, (double)t / (double)s->step_size);
    case NT_SCHED_COSINE: {
        double T = (double)(s->total_steps - s->warmup);
        double u = t < T ? (double)t / T : 1.0;
        return s->lr_min + (base - s->lr_min) * (1.0 + cos(M_PI * u)) / 2.0;
    }
    case NT_SCHED_CYCLIC: {
        // triangular policy (Smith 2017): x runs 1 -> 0 -> 1 over one cycle
        // of 2*step_size steps, and lr = lr_min + (base - lr_min) * (1 - x)
        assert(s->step_size >= 1);
        double ss = (double)s->step_size;
        double cycle = floor(1.0 + (double)t / (2.0 * ss));
        double x = fabs((double)t / ss - 2.0 * cycle + 1.0);
        return s->lr_min + (base - s->lr_min) * fmax(0.0, 1.0 - x);
    }
    }
    assert(!"unknown schedule");
    return base;
}
