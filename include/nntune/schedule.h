/* schedule.h - learning-rate schedules as pure functions of the step
 * (one step = one mini-batch), each with optional linear warm-up.
 *
 * With s = step - warmup (after warm-up) and base = lr:
 *  constant: base
 *  step:     base * gamma^floor(s / step_size)
 *  exp:      base * gamma^(s / step_size)
 *  cosine:   lr_min + (base - lr_min) * (1 + cos(pi * min(s, T) / T)) / 2,
 *            T = total_steps - warmup
 *  cyclic:   triangular (Smith 2017): from lr_min up to base over step_size
 *            steps, back down over step_size, repeat
 * Warm-up: for step < warmup, lr rises linearly from base/warmup (step 0) to
 * base (step warmup-1 gives base*warmup/warmup), then the schedule starts. */
#ifndef NNTUNE_SCHEDULE_H
#define NNTUNE_SCHEDULE_H

#include "nntune/common.h"

typedef enum {
    NT_SCHED_CONSTANT = 0,
    NT_SCHED_STEP = 1,
    NT_SCHED_EXP = 2,
    NT_SCHED_COSINE = 3,
    NT_SCHED_CYCLIC = 4,
} nt_sched_kind;

typedef struct {
    nt_sched_kind kind;
    double lr;          /* base (peak) learning rate */
    double lr_min;      /* cosine floor, cyclic bottom */
    double gamma;       /* step/exp decay factor */
    long step_size;     /* step/exp decay period, cyclic half-cycle, in steps */
    long total_steps;   /* cosine horizon, in steps */
    long warmup;        /* linear warm-up steps, 0 for none */
} nt_schedule;

/* Check a schedule: lr > 0, gamma in (0,1] for step/exp, step_size >= 1
 * where used, total_steps > warmup for cosine, 0 <= lr_min < lr.
 * NT_ERR_ARG with a message naming the field. */
nt_status nt_schedule_check(const nt_schedule *s);

/* The learning rate at `step` (0-based). */
double nt_schedule_lr(const nt_schedule *s, long step);

const char *nt_sched_name(nt_sched_kind k); /* constant step exp cosine cyclic */
int nt_sched_parse(const char *s);          /* -1 if unknown */

#endif
