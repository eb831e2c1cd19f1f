/* tune_own_objective.c - use nntune's tuner on your own C function.
 *
 * The tuner does not know about networks: it asks a strategy for a point in
 * the unit cube, decodes it through a search space into named values, hands
 * them to an objective function, and tells the strategy the score. Here the
 * objective is a plain function of three parameters, one of them a
 * category, and the Bayesian strategy (a Gaussian process with expected
 * improvement) minimizes it in 30 trials.
 *
 * Build and run from the repository root, after `make`:
 *   gcc -std=c11 -O2 -Wall -Wextra -Iinclude \
 *       -I/usr/include/x86_64-linux-gnu/openblas-pthread \
 *       benchmarks/tune_own_objective.c build/libnntune.a \
 *       -lopenblas -lcjson -lz -lmvec -lm -fopenmp -o build/tune_own_objective
 *   ./build/tune_own_objective
 */
#include <math.h>
#include <stdio.h>

#include "nntune/space.h"
#include "nntune/strategy.h"
#include "nntune/tuner.h"

/* 1. The search space, in the same text format as `nntune --space FILE`.
 * Each searched parameter owns one dimension of the cube [0,1]^3; the
 * strategy only ever sees that cube, the space turns it into values. */
static const char SPACE[] =
    "# my function's parameters\n"
    "x    = uniform(-5, 5)        # a real number\n"
    "y    = loguniform(1e-3, 10)  # searched on a log scale\n"
    "kind = choice(a, b)          # a category\n";

/* 2. Whatever the objective needs travels in a context pointer; here just
 * a count of calls, to show that the tuner hands it through untouched. */
typedef struct {
    int calls;
} my_ctx;

/* The function to minimize: smallest (0) at x = 1.5, y = 0.2, kind = b. */
static double my_function(double x, double y, const char *kind)
{
    double dx = x - 1.5, dy = log10(y) - log10(0.2);
    double penalty = kind[0] == 'b' ? 0.0 : 0.5;
    return dx * dx + dy * dy + penalty;
}

/* 3. The objective: read the decoded values of this trial (t->values),
 * evaluate, and report. `metric` is what a person reads, `score` what the
 * strategy minimizes; they are the same here (for an accuracy one would
 * report metric = accuracy, score = 1 - accuracy). A value that cannot be
 * scored is a failed trial - never report it as a score of 0. */
static nt_status my_objective(void *ctx, const nt_space *space, nt_trial *t)
{
    my_ctx *c = ctx;
    c->calls++;
    double x = nt_assign_num(space, &t->values, "x", NAN);
    double y = nt_assign_num(space, &t->values, "y", NAN);
    const char *kind = nt_assign_str(space, &t->values, "kind", "a");
    double f = my_function(x, y, kind);
    if (!isfinite(f)) {
        t->status = NT_ERR_NUMERIC;
        snprintf(t->reason, sizeof t->reason, "f(x=%g, y=%g) = %g", x, y, f);
        return NT_OK;  // the trial failed, the study goes on
    }
    t->status = NT_OK;
    t->metric = f;
    t->metric_std = 0.0;  // one evaluation, no folds
    t->score = f;
    return NT_OK;
}

/* 4. Optional: a line per finished trial. `best` is the index of the best
 * trial in the study so far; in a fresh study index i holds trial i. */
static void on_trial(const nt_trial *t, int best, void *user)
{
    const nt_space *space = user;
    char values[256];
    nt_assign_format(space, &t->values, values, sizeof values);
    printf("trial %2d  f = %8.5f  %-40s %s\n", t->trial + 1, t->metric, values,
           best == t->trial ? "<- best so far" : "");
}

int main(void)
{
    nt_space space;
    nt_strategy *st = NULL;
    nt_study study = {0};
    my_ctx ctx = {0};
    int rc = 1;

    if (nt_space_parse(SPACE, "SPACE", &space) != NT_OK) goto done;

    // seed fixed: the same seed and the same results give the same points
    nt_strategy_options opt = {.seed = 42};
    if (nt_strategy_create("bayes", &space, &opt, &st) != NT_OK) goto done;

    nt_tuner_config cfg = {
        .trials = 30,
        .on_trial = on_trial,
        .user = &space,
    };
    if (nt_tune(&space, st, my_objective, &ctx, &cfg, &study) != NT_OK) goto done;

    // 5. The study holds every trial in the order they finished.
    if (study.best < 0) {
        printf("no trial succeeded (%d failed)\n", study.failures);
        goto done;
    }
    const nt_trial *b = &study.trial[study.best];
    char values[256];
    nt_assign_format(&space, &b->values, values, sizeof values);
    printf("\n%d trials (%d failed, %d calls) in %.2f s, ended by: %s\n", study.n,
           study.failures, ctx.calls, study.seconds, study.ended);
    printf("best: trial %d, f = %.6f at %s\n", b->trial + 1, b->metric, values);
    printf("      (the minimum is f = 0 at x=1.5 y=0.2 kind=b)\n");
    rc = 0;

done:
    if (rc != 0) fprintf(stderr, "tune_own_objective: %s\n", nt_last_error());
    nt_study_free(&study);
    nt_strategy_free(st);
    return rc;
}
