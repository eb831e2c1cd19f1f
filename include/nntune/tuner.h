/* tuner.h - the tuning loop: ask the strategy for a point, decode it through
 * the space, score it with an objective, journal the result, tell the
 * strategy; until the trial budget, the time budget, the grid or a stop
 * request ends it. Any objective can be tuned: a cross-validated network
 * (objective.h), a test function (testfn.h), or a caller's own C function.
 *
 * Scores are minimized. An objective reports a `metric` (what the user
 * reads: accuracy, loss, a function value) and a `score` (what the strategy
 * minimizes: 1 - accuracy, loss, the function value). */
#ifndef NNTUNE_TUNER_H
#define NNTUNE_TUNER_H

#include <signal.h>

#include "nntune/strategy.h"

#define NT_MAX_FOLDS 20
#define NT_MAX_BATCH 16   /* trials scored in one batch, at most */
#define NT_WHY_LEN 512

/* One fold's learning curve, one entry an epoch. */
typedef struct {
    int n;                        /* epochs run */
    float *train_loss;            /* (n) mean over the epoch's batches */
    float *val_loss, *val_acc;    /* (n) on the early-stopping slice; NaN
                                     when early stopping is off */
} nt_curve;

/* Free one curve's values and zero it; safe on a zeroed curve. */
void nt_curve_free(nt_curve *c);
/* Free n curves and the array itself; safe on NULL. */
void nt_curves_free(nt_curve *c, int n);
/* A curve of n epochs, its values unset; an empty curve when out of
 * memory (a curve is for the report, never for a score). */
nt_curve nt_curve_alloc(int n);
/* A deep copy of a curve (empty for none or out of memory). */
nt_curve nt_curve_copy(const nt_curve *c);
/* A deep copy of n curves (NULL for none or out of memory). */
nt_curve *nt_curves_copy(const nt_curve *c, int n);

/* One finished (or failed) trial. */
typedef struct {
    int trial;                    /* 0-based */
    double u[NT_MAX_PARAMS];      /* the point in the cube */
    nt_assignment values;         /* decoded (labels borrowed from the space) */
    nt_status status;             /* NT_OK, NT_ERR_NUMERIC (diverged), ... */
    char reason[256];             /* why it failed; "" when ok */
    double metric;                /* mean over folds of the metric */
    double metric_std;            /* their standard deviation (0 if 1 fold) */
    double score;                 /* what the strategy was told (minimized) */
    int n_folds;                  /* 0 for a plain function */
    double fold_metric[NT_MAX_FOLDS];
    int fold_epochs[NT_MAX_FOLDS];/* early-stopping epoch of each fold */
    int fold_ran[NT_MAX_FOLDS];   /* epochs each fold actually ran */
    uint32_t folds_done;          /* in a trial a stop request cut short:
                                     bit f set when fold f finished (its
                                     figures above are final; every bit
                                     may be set, in a batch whose trials
                                     before it were not whole); else 0 */
    double seconds;               /* wall time of the trial (a batch's wall
                                     time shared equally by its trials) */
    double finished;              /* seconds since the study started */
    char why[NT_WHY_LEN];         /* the strategy's reason for this point */
    nt_curve *curves;             /* (n_folds) owned, or NULL: set by the
                                     cross-validated objective, journaled by
                                     on_trial, then freed by the tuner (so
                                     NULL in a study's trials) */
} nt_trial;

/* Score one point. Fill t->status/reason, metric, metric_std, score and the
 * fold fields; the tuner fills the rest. Return NT_ERR_INTERRUPTED only if
 * a stop request cut the trial short (it is then not recorded); any other
 * failure belongs in t->status, and the study goes on. */
typedef nt_status (*nt_objective_fn)(void *ctx, const nt_space *space,
                                     nt_trial *t);

/* Score the trials t[0..n) at once (e.g. all their folds side by side, on
 * every core); the tuner asked for their points without waiting for each
 * other's results. Same contract as nt_objective_fn for each trial. Returns
 * NT_OK with *scored = n, or NT_ERR_INTERRUPTED when a stop request cut the
 * batch short: t[0..*scored) are scored, and each later one may hold
 * finished folds (t->folds_done; a batch need not run in trial order). */
typedef nt_status (*nt_batch_objective_fn)(void *ctx, const nt_space *space,
                                           nt_trial *t, int n, int *scored);

/* Called after each finished trial (for progress lines and the journal). */
typedef void (*nt_trial_fn)(const nt_trial *t, int best, void *user);

typedef struct {
    int trials;                   /* budget in trials, >= 1 */
    double time_budget;           /* seconds; 0 = none. No trial (or batch
                                     of trials) starts after */
    volatile sig_atomic_t *stop;  /* optional: stop when *stop != 0 */
    int max_failures_in_row;      /* stop after this many failures; 0 = 10 */
    nt_trial_fn on_trial;
    /* optional: called, in trial order, with each trial of a batch a stop
     * request cut short that has finished folds (t->folds_done), so they
     * can be kept; best is -1. Its curves are freed after the call. */
    nt_trial_fn on_interrupted;
    void *user;
    /* optional: with batch > 1, up to `batch` (<= NT_MAX_BATCH) trials
     * whose points the strategy chooses independently of each other's
     * results (nt_strategy_next_independent: grid, random, bayes's initial
     * design) are scored by one score_batch call on the objective's ctx.
     * They are told, journaled and reported in trial order, so the study is
     * the one trials scored one at a time would give. Budgets are checked
     * between batches. */
    nt_batch_objective_fn score_batch;
    int batch;
} nt_tuner_config;

/* A study: the trials in the order they finished, and the best one. */
typedef struct {
    nt_trial *trial;              /* (n) owned */
    int n, cap;
    int best;                     /* index of the best ok trial, -1 if none */
    int failures;                 /* failed trials */
    double seconds;
    const char *ended;            /* why the loop ended: "trials", "time
                                     budget", "grid exhausted", "stopped",
                                     "too many failures" */
} nt_study;

void nt_study_free(nt_study *s);
/* Add a finished trial (used by the loop, and to replay a journal). */
nt_status nt_study_add(nt_study *s, const nt_trial *t);

/* Run the loop. `study` may already hold trials (a resumed study): they are
 * replayed through the strategy first (ask, then tell the recorded result)
 * and not run again. Returns NT_OK when the loop ended normally (whatever
 * the reason in study->ended), or an error that stopped it. */
nt_status nt_tune(const nt_space *space, nt_strategy *st, nt_objective_fn f,
                  void *ctx, const nt_tuner_config *cfg, nt_study *study);

#endif
