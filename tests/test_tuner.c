/* test_tuner.c - the tuning loop on test functions and hand-made
 * objectives: trial budget, best trial, callbacks, grid exhaustion, failed
 * trials, the failure limit, the time budget, stop requests and resuming a
 * study by replay. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nntune/testfn.h"
#include "nntune/tuner.h"

static nt_status branin_objective(void *ctx, const nt_space *space, nt_trial *t)
{
    const nt_testfn *fn = ctx;
    t->metric = t->score = nt_testfn_eval(fn, space, &t->values);
    t->status = NT_OK;
    return NT_OK;
}

static nt_strategy *make_batched(const char *name, const nt_space *s, uint64_t seed,
                                 int bayes_batch)
{
    nt_strategy_options opt = {.seed = seed, .grid_points = 2, .initial_points = 4,
                               .candidates = 256, .restarts = 1, .batch = bayes_batch};
    nt_strategy *st = NULL;
    nt_status rc = nt_strategy_create(name, s, &opt, &st);
    cr_assert_eq(rc, NT_OK, "create %s: %s", name, nt_last_error());
    return st;
}

static nt_strategy *make_strategy(const char *name, const nt_space *s, uint64_t seed)
{
    return make_batched(name, s, seed, 0);
}

typedef struct {
    int calls;
    int trial[64];
    int best[64];
    int stop_after;                 /* set *flag after this many calls (0: never) */
    volatile sig_atomic_t *flag;
} trial_log;

static void log_trial(const nt_trial *t, int best, void *user)
{
    trial_log *l = user;
    if (l->calls < 64) {
        l->trial[l->calls] = t->trial;
        l->best[l->calls] = best;
    }
    l->calls++;
    if (l->stop_after && l->calls == l->stop_after) *l->flag = 1;
}

static void assert_best_is_min(const nt_study *st)
{
    int want = -1;
    for (int i = 0; i < st->n; i++)
        if (st->trial[i].status == NT_OK &&
            (want < 0 || st->trial[i].score < st->trial[want].score))
            want = i;
    cr_assert_eq(st->best, want, "best is trial %d (score %g), the minimum is trial %d (%g)",
                 st->best, st->best >= 0 ? st->trial[st->best].score : NAN, want,
                 want >= 0 ? st->trial[want].score : NAN);
}

Test(tuner, random_search_runs_exactly_the_budget_and_keeps_the_minimum)
{
    const nt_testfn *fn = nt_testfn_find("branin");
    cr_assert_not_null(fn, "no branin");
    nt_space s;
    nt_testfn_space(fn, &s);
    nt_strategy *st = make_strategy("random", &s, 7);
    trial_log log = {0};
    nt_tuner_config cfg = {.trials = 25, .on_trial = log_trial, .user = &log};
    nt_study study = {0};
    cr_assert_eq(nt_tune(&s, st, branin_objective, (void *)fn, &cfg, &study), NT_OK, "%s",
                 nt_last_error());
    cr_assert_eq(study.n, 25, "%d trials, want 25", study.n);
    cr_assert_str_eq(study.ended, "trials", "ended: %s", study.ended);
    cr_assert_eq(study.failures, 0, "%d failures", study.failures);
    cr_assert_eq(log.calls, 25, "on_trial called %d times for 25 trials", log.calls);
    int running = -1;
    for (int i = 0; i < 25; i++) {
        const nt_trial *t = &study.trial[i];
        cr_assert_eq(t->trial, i, "trial %d numbered %d", i, t->trial);
        cr_assert_eq(log.trial[i], i, "call %d was for trial %d", i, log.trial[i]);
        if (running < 0 || t->score < study.trial[running].score) running = i;
        cr_assert_eq(log.best[i], running, "after trial %d best passed as %d, want %d", i,
                     log.best[i], running);
        cr_assert(t->status == NT_OK && isfinite(t->score) && t->score >= fn->minimum - 1e-9,
                  "trial %d: status %d score %g (minimum %g)", i, t->status, t->score,
                  fn->minimum);
        // the score is f at the decoded point
        double x[2] = {t->values.v[0].num, t->values.v[1].num};
        cr_assert(fabs(fn->f(x) - t->score) < 1e-12, "trial %d: score %g, f(x) %g", i,
                  t->score, fn->f(x));
        cr_assert(strlen(t->why) > 0, "trial %d has no why", i);
        cr_assert(t->finished >= t->seconds - 1e-9 && t->seconds >= 0,
                  "trial %d: seconds %g finished %g", i, t->seconds, t->finished);
    }
    assert_best_is_min(&study);
    nt_strategy_free(st);
    nt_study_free(&study);
    nt_study_free(&study); // twice is fine
}

Test(tuner, grid_search_ends_when_the_grid_is_exhausted)
{
    const nt_testfn *fn = nt_testfn_find("branin");
    nt_space s;
    nt_testfn_space(fn, &s);
    long size = nt_grid_size(&s, 2);
    cr_assert_eq(size, 4, "grid of 2 points on 2 dims has %ld points", size);
    nt_strategy *st = make_strategy("grid", &s, 1);
    trial_log log = {0};
    nt_tuner_config cfg = {.trials = 10, .on_trial = log_trial, .user = &log};
    nt_study study = {0};
    cr_assert_eq(nt_tune(&s, st, branin_objective, (void *)fn, &cfg, &study), NT_OK, "%s",
                 nt_last_error());
    cr_assert_eq(study.n, 4, "%d trials on a 4-point grid", study.n);
    cr_assert_str_eq(study.ended, "grid exhausted", "ended: %s", study.ended);
    cr_assert_eq(log.calls, 4, "on_trial called %d times", log.calls);
    assert_best_is_min(&study);
    nt_strategy_free(st);
    nt_study_free(&study);
}

/* Odd trials fail the way a diverged network does. */
static nt_status every_other_fails(void *ctx, const nt_space *space, nt_trial *t)
{
    branin_objective(ctx, space, t);
    if (t->trial % 2 == 1) {
        t->status = NT_ERR_NUMERIC;
        snprintf(t->reason, sizeof t->reason, "fold 1: diverged at trial %d", t->trial);
        t->score = -1e9; // a tempting score a failed trial must never win with
        t->metric = -1e9;
    }
    return NT_OK;
}

/* Trials 2, 5, 8, ... fail by returning an error status. */
static nt_status fails_by_status(void *ctx, const nt_space *space, nt_trial *t)
{
    branin_objective(ctx, space, t);
    if (t->trial % 3 == 2) {
        nt_errorf("objective could not run trial %d", t->trial);
        return NT_ERR_ARG;
    }
    return NT_OK;
}

Test(tuner, failed_trials_are_recorded_with_reasons_and_never_best)
{
    const nt_testfn *fn = nt_testfn_find("branin");
    nt_space s;
    nt_testfn_space(fn, &s);
    nt_strategy *st = make_strategy("random", &s, 3);
    trial_log log = {0};
    nt_tuner_config cfg = {.trials = 12, .on_trial = log_trial, .user = &log};
    nt_study study = {0};
    cr_assert_eq(nt_tune(&s, st, every_other_fails, (void *)fn, &cfg, &study), NT_OK, "%s",
                 nt_last_error());
    cr_assert_eq(study.n, 12, "%d trials: the study did not go on", study.n);
    cr_assert_str_eq(study.ended, "trials", "ended: %s", study.ended);
    cr_assert_eq(study.failures, 6, "%d failures, want 6", study.failures);
    cr_assert_eq(log.calls, 12, "on_trial called %d times", log.calls);
    for (int i = 0; i < 12; i++) {
        const nt_trial *t = &study.trial[i];
        if (i % 2) {
            cr_assert_eq(t->status, NT_ERR_NUMERIC, "trial %d status %d", i, t->status);
            cr_assert(strstr(t->reason, "diverged") != NULL, "trial %d reason '%s'", i,
                      t->reason);
            cr_assert(isnan(t->score), "failed trial %d kept score %g", i, t->score);
        } else {
            cr_assert_eq(t->status, NT_OK, "trial %d status %d", i, t->status);
        }
    }
    cr_assert(study.best >= 0 && study.trial[study.best].status == NT_OK,
              "best %d is a failed trial", study.best);
    assert_best_is_min(&study);
    nt_strategy_free(st);
    nt_study_free(&study);

    // an objective that returns an error: the trial fails with its message
    st = make_strategy("random", &s, 3);
    nt_study s2 = {0};
    cfg.on_trial = NULL;
    cr_assert_eq(nt_tune(&s, st, fails_by_status, (void *)fn, &cfg, &s2), NT_OK, "%s",
                 nt_last_error());
    cr_assert_eq(s2.n, 12, "%d trials", s2.n);
    cr_assert_eq(s2.failures, 4, "%d failures, want 4", s2.failures);
    for (int i = 2; i < 12; i += 3) {
        cr_assert_eq(s2.trial[i].status, NT_ERR_ARG, "trial %d status %d", i,
                     s2.trial[i].status);
        cr_assert(strstr(s2.trial[i].reason, "could not run") != NULL,
                  "trial %d reason '%s'", i, s2.trial[i].reason);
    }
    assert_best_is_min(&s2);
    nt_strategy_free(st);
    nt_study_free(&s2);
}

static nt_status always_fails(void *ctx, const nt_space *space, nt_trial *t)
{
    t->status = NT_ERR_NUMERIC;
    snprintf(t->reason, sizeof t->reason, "diverged");
    return NT_OK;
}

Test(tuner, too_many_failures_in_a_row_stop_the_study)
{
    const nt_testfn *fn = nt_testfn_find("branin");
    nt_space s;
    nt_testfn_space(fn, &s);
    nt_strategy *st = make_strategy("random", &s, 3);
    nt_tuner_config cfg = {.trials = 50, .max_failures_in_row = 3};
    nt_study study = {0};
    cr_assert_eq(nt_tune(&s, st, always_fails, NULL, &cfg, &study), NT_OK, "%s",
                 nt_last_error());
    cr_assert_eq(study.n, 3, "%d trials ran, want 3", study.n);
    cr_assert_str_eq(study.ended, "too many failures", "ended: %s", study.ended);
    cr_assert_eq(study.best, -1, "best %d with no ok trial", study.best);
    nt_strategy_free(st);
    nt_study_free(&study);

    // 0 means 10
    st = make_strategy("random", &s, 3);
    cfg.max_failures_in_row = 0;
    cr_assert_eq(nt_tune(&s, st, always_fails, NULL, &cfg, &study), NT_OK, "%s",
                 nt_last_error());
    cr_assert_eq(study.n, 10, "%d trials ran with the default limit, want 10", study.n);
    cr_assert_str_eq(study.ended, "too many failures", "ended: %s", study.ended);
    nt_strategy_free(st);
    nt_study_free(&study);

    // failures broken up by successes never reach the limit
    st = make_strategy("random", &s, 3);
    cfg.max_failures_in_row = 2;
    cfg.trials = 9;
    cr_assert_eq(nt_tune(&s, st, every_other_fails, (void *)fn, &cfg, &study), NT_OK, "%s",
                 nt_last_error());
    cr_assert_eq(study.n, 9, "%d trials ran with alternating failures", study.n);
    cr_assert_str_eq(study.ended, "trials", "ended: %s", study.ended);
    nt_strategy_free(st);
    nt_study_free(&study);
}

static nt_status slow_objective(void *ctx, const nt_space *space, nt_trial *t)
{
    struct timespec ts = {0, 20 * 1000 * 1000}; // 20 ms
    nanosleep(&ts, NULL);
    return branin_objective(ctx, space, t);
}

Test(tuner, the_time_budget_ends_the_study)
{
    const nt_testfn *fn = nt_testfn_find("branin");
    nt_space s;
    nt_testfn_space(fn, &s);
    nt_strategy *st = make_strategy("random", &s, 3);
    nt_tuner_config cfg = {.trials = 100000, .time_budget = 0.1};
    nt_study study = {0};
    cr_assert_eq(nt_tune(&s, st, slow_objective, (void *)fn, &cfg, &study), NT_OK, "%s",
                 nt_last_error());
    cr_assert_str_eq(study.ended, "time budget", "ended: %s after %d trials", study.ended,
                     study.n);
    cr_assert(study.n >= 1 && study.n < 100000, "%d trials", study.n);
    // no trial started after the budget was spent
    for (int i = 0; i < study.n; i++)
        cr_assert(study.trial[i].finished - study.trial[i].seconds < cfg.time_budget,
                  "trial %d started at %g s, after the %g s budget", i,
                  study.trial[i].finished - study.trial[i].seconds, cfg.time_budget);
    nt_strategy_free(st);
    nt_study_free(&study);
}

static nt_status interrupted_at_3(void *ctx, const nt_space *space, nt_trial *t)
{
    if (t->trial == 3) return NT_ERR_INTERRUPTED;
    return branin_objective(ctx, space, t);
}

Test(tuner, a_stop_request_ends_the_study_and_an_interrupted_trial_is_not_recorded)
{
    const nt_testfn *fn = nt_testfn_find("branin");
    nt_space s;
    nt_testfn_space(fn, &s);
    nt_strategy *st = make_strategy("random", &s, 3);
    volatile sig_atomic_t flag = 0;
    trial_log log = {.stop_after = 4, .flag = &flag};
    nt_tuner_config cfg = {.trials = 20, .stop = &flag, .on_trial = log_trial, .user = &log};
    nt_study study = {0};
    cr_assert_eq(nt_tune(&s, st, branin_objective, (void *)fn, &cfg, &study), NT_OK, "%s",
                 nt_last_error());
    cr_assert_eq(study.n, 4, "%d trials after a stop request at the 4th", study.n);
    cr_assert_str_eq(study.ended, "stopped", "ended: %s", study.ended);
    nt_strategy_free(st);
    nt_study_free(&study);

    st = make_strategy("random", &s, 3);
    nt_tuner_config cfg2 = {.trials = 20};
    cr_assert_eq(nt_tune(&s, st, interrupted_at_3, (void *)fn, &cfg2, &study), NT_OK, "%s",
                 nt_last_error());
    cr_assert_eq(study.n, 3, "%d trials recorded; trial 3 was interrupted", study.n);
    cr_assert_str_eq(study.ended, "stopped", "ended: %s", study.ended);
    nt_strategy_free(st);
    nt_study_free(&study);
}

/* Run 10 trials; then a fresh strategy with the same seed resumes a study
 * holding the first 6 and must produce the same trials 7..10. */
static void check_replay(const char *strategy)
{
    const nt_testfn *fn = nt_testfn_find("branin");
    nt_space s;
    nt_testfn_space(fn, &s);
    nt_strategy *st = make_strategy(strategy, &s, 99);
    nt_tuner_config cfg = {.trials = 10};
    nt_study full = {0};
    cr_assert_eq(nt_tune(&s, st, every_other_fails, (void *)fn, &cfg, &full), NT_OK,
                 "%s: %s", strategy, nt_last_error());
    cr_assert_eq(full.n, 10, "%s: %d trials", strategy, full.n);
    nt_strategy_free(st);

    nt_study part = {0};
    for (int i = 0; i < 6; i++)
        cr_assert_eq(nt_study_add(&part, &full.trial[i]), NT_OK, "%s", nt_last_error());
    cr_assert_eq(part.n, 6, "%d trials added", part.n);
    st = make_strategy(strategy, &s, 99);
    trial_log log = {0};
    cfg.on_trial = log_trial;
    cfg.user = &log;
    cr_assert_eq(nt_tune(&s, st, every_other_fails, (void *)fn, &cfg, &part), NT_OK,
                 "%s resume: %s", strategy, nt_last_error());
    cr_assert_eq(part.n, 10, "%s: resumed study has %d trials", strategy, part.n);
    cr_assert_eq(log.calls, 4, "%s: %d trials run on resume, want 4 (6 replayed)", strategy,
                 log.calls);
    for (int i = 6; i < 10; i++) {
        const nt_trial *a = &full.trial[i], *b = &part.trial[i];
        cr_assert_eq(b->trial, i, "%s: resumed trial %d numbered %d", strategy, i, b->trial);
        for (int d = 0; d < s.dims; d++)
            cr_assert(a->u[d] == b->u[d],
                      "%s: trial %d u[%d] is %.17g resumed, %.17g uninterrupted", strategy,
                      i, d, b->u[d], a->u[d]);
        cr_assert(a->status == b->status &&
                      (a->score == b->score || (isnan(a->score) && isnan(b->score))),
                  "%s: trial %d status %d score %.17g resumed, %d %.17g uninterrupted",
                  strategy, i, b->status, b->score, a->status, a->score);
    }
    cr_assert_eq(part.best, full.best, "%s: best %d resumed, %d uninterrupted", strategy,
                 part.best, full.best);
    cr_assert_eq(part.failures, full.failures, "%s: %d failures resumed, %d uninterrupted",
                 strategy, part.failures, full.failures);
    nt_strategy_free(st);
    nt_study_free(&full);
    nt_study_free(&part);
}

Test(tuner, a_resumed_random_study_repeats_the_uninterrupted_one)
{
    check_replay("random");
}

Test(tuner, a_resumed_bayes_study_repeats_the_uninterrupted_one)
{
    check_replay("bayes");
}

Test(tuner, a_budget_below_one_trial_is_refused)
{
    const nt_testfn *fn = nt_testfn_find("branin");
    nt_space s;
    nt_testfn_space(fn, &s);
    nt_strategy *st = make_strategy("random", &s, 3);
    nt_tuner_config cfg = {.trials = 0};
    nt_study study = {0};
    nt_status rc = nt_tune(&s, st, branin_objective, (void *)fn, &cfg, &study);
    cr_assert_eq(rc, NT_ERR_ARG, "trials 0: status %d (%s)", rc, nt_strerror(rc));
    cr_assert_eq(study.n, 0, "%d trials ran", study.n);
    nt_strategy_free(st);
    nt_study_free(&study);
}

/* A batch objective over single calls, counting the batches it was given. */
typedef struct {
    const nt_testfn *fn;
    int batches, widest;
    int first[16];      /* the first trial of each batch, up to 16 */
} batch_counter;

static nt_status branin_counted(void *ctx, const nt_space *space, nt_trial *t)
{
    batch_counter *c = ctx;
    return branin_objective((void *)c->fn, space, t);
}

static nt_status branin_batch(void *ctx, const nt_space *space, nt_trial *t, int n,
                              int *scored)
{
    batch_counter *c = ctx;
    if (c->batches < 16) c->first[c->batches] = t[0].trial;
    c->batches++;
    if (n > c->widest) c->widest = n;
    for (int i = 0; i < n; i++) branin_counted(ctx, space, &t[i]);
    *scored = n;
    return NT_OK;
}

/* 12 trials one at a time and in batches of up to 3: the same study. The
 * batched run's counter into *out when out is not NULL. */
static void check_batched(const char *strategy, int bayes_batch, int want_widest,
                          batch_counter *out)
{
    const nt_testfn *fn = nt_testfn_find("branin");
    nt_space s;
    nt_testfn_space(fn, &s);
    batch_counter c1 = {.fn = fn}, c3 = {.fn = fn};
    nt_study one = {0}, three = {0};
    nt_strategy *st = make_batched(strategy, &s, 5, bayes_batch);
    nt_tuner_config cfg = {.trials = 12};
    cr_assert_eq(nt_tune(&s, st, branin_counted, &c1, &cfg, &one), NT_OK, "%s", nt_last_error());
    nt_strategy_free(st);
    st = make_batched(strategy, &s, 5, bayes_batch);
    trial_log log = {0};
    nt_tuner_config cfg3 = {.trials = 12, .score_batch = branin_batch, .batch = 3,
                            .on_trial = log_trial, .user = &log};
    cr_assert_eq(nt_tune(&s, st, branin_counted, &c3, &cfg3, &three), NT_OK, "%s",
                 nt_last_error());
    nt_strategy_free(st);
    cr_assert_eq(three.n, one.n, "%s: %d trials in batches, %d one at a time", strategy,
                 three.n, one.n);
    for (int i = 0; i < one.n; i++) {
        cr_assert_eq(three.trial[i].trial, i, "%s: trial %d numbered %d", strategy, i,
                     three.trial[i].trial);
        cr_assert_eq(log.trial[i], i, "%s: on_trial call %d was for trial %d", strategy, i,
                     log.trial[i]);
        for (int d = 0; d < s.dims; d++)
            cr_assert(three.trial[i].u[d] == one.trial[i].u[d],
                      "%s: trial %d u[%d] = %.17g in batches, %.17g one at a time", strategy,
                      i, d, three.trial[i].u[d], one.trial[i].u[d]);
        cr_assert_str_eq(three.trial[i].why, one.trial[i].why, "%s: trial %d's why differs",
                         strategy, i);
    }
    cr_assert_eq(three.best, one.best, "%s: best %d vs %d", strategy, three.best, one.best);
    cr_assert_eq(c3.widest, want_widest, "%s: widest batch %d, want %d", strategy, c3.widest,
                 want_widest);
    if (out) *out = c3;
    nt_study_free(&one);
    nt_study_free(&three);
}

static void check_batches_change_nothing(const char *strategy, int want_widest)
{
    check_batched(strategy, 0, want_widest, NULL);
}

Test(tuner, grid_and_random_trials_in_batches_give_the_study_one_at_a_time_gives)
{
    check_batches_change_nothing("grid", 3);
    check_batches_change_nothing("random", 3);
}

Test(tuner, bayes_batches_only_its_initial_design)
{
    // 4 design points (make_strategy): a batch of 3, then 1 (the 4th; the
    // model's points depend on results, one at a time)
    check_batches_change_nothing("bayes", 3);
    const nt_testfn *fn = nt_testfn_find("branin");
    nt_space s;
    nt_testfn_space(fn, &s);
    batch_counter c = {.fn = fn};
    nt_study study = {0};
    nt_strategy *st = make_strategy("bayes", &s, 5);
    nt_tuner_config cfg = {.trials = 12, .score_batch = branin_batch, .batch = 3};
    cr_assert_eq(nt_tune(&s, st, branin_counted, &c, &cfg, &study), NT_OK, "%s",
                 nt_last_error());
    cr_assert_eq(c.batches, 1, "%d batch calls, want 1 (design points 1-3)", c.batches);
    nt_strategy_free(st);
    nt_study_free(&study);
}

Test(tuner, bayes_with_batch_2_scores_its_model_trials_in_pairs_and_the_study_is_unchanged)
{
    // design points 1-3 together, the 4th alone (the model's first trial
    // must wait for it), then model trials in pairs: 5-6, 7-8, 9-10, 11-12
    batch_counter c;
    check_batched("bayes", 2, 3, &c);
    int want[] = {0, 4, 6, 8, 10};
    cr_assert_eq(c.batches, 5, "%d batch calls, want 5", c.batches);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(c.first[i], want[i], "batch %d starts at trial %d, want %d", i + 1,
                     c.first[i] + 1, want[i] + 1);
}

/* A batch objective a stop request cuts after its first trial: the
 * second has one fold finished, the third all three (it started before the
 * second, as a costlier trial does), the fourth none. */
static nt_status batch_cut_after_one(void *ctx, const nt_space *space, nt_trial *t, int n,
                                     int *scored)
{
    branin_counted(ctx, space, &t[0]);
    *scored = 1;
    const uint32_t done[] = {0, 1u, 7u, 0};
    for (int i = 1; i < n && i < 4; i++) t[i].folds_done = done[i];
    return n > 1 ? NT_ERR_INTERRUPTED : NT_OK;
}

typedef struct {
    int n, trial[8];
} interrupted_log;

static void log_interrupted(const nt_trial *t, int best, void *user)
{
    (void)best;
    interrupted_log *lg = user;
    if (lg->n < 8) lg->trial[lg->n] = t->trial;
    lg->n++;
}

Test(tuner, a_stopped_batch_records_its_whole_trials_and_hands_on_each_with_finished_folds)
{
    const nt_testfn *fn = nt_testfn_find("branin");
    nt_space s;
    nt_testfn_space(fn, &s);
    batch_counter c = {.fn = fn};
    nt_study study = {0};
    nt_strategy *st = make_strategy("random", &s, 5);
    interrupted_log lg = {0};
    nt_tuner_config cfg = {.trials = 12, .score_batch = batch_cut_after_one, .batch = 4,
                           .on_interrupted = log_interrupted, .user = &lg};
    cr_assert_eq(nt_tune(&s, st, branin_counted, &c, &cfg, &study), NT_OK, "%s",
                 nt_last_error());
    cr_assert_eq(study.n, 1, "%d trials recorded, want 1", study.n);
    cr_assert_str_eq(study.ended, "stopped", "ended: %s", study.ended);
    cr_assert(lg.n == 2 && lg.trial[0] == 1 && lg.trial[1] == 2,
              "on_interrupted got %d trials (%d, %d), want trials 1 and 2, in order", lg.n,
              lg.trial[0], lg.trial[1]);
    nt_strategy_free(st);
    nt_study_free(&study);
}
