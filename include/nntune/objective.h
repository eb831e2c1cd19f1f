/* objective.h - the cross-validated objective: turns a point of the search
 * space into a network and training settings, and scores it by stratified
 * k-fold cross-validation on the training set. Early stopping inside a fold
 * watches a slice of that fold's training part, never the fold's validation
 * part, so the fold's score stays an honest estimate. Each (trial, fold)
 * trains from its own RNG stream, so scores do not depend on the order or
 * the parallelism in which folds run.
 *
 * Hyperparameter names it knows (anything else in a space is refused):
 *   lr, batch, layers, units, act, dropout, optimizer, momentum, nesterov,
 *   l2, schedule, warmup, gamma, step_epochs, lr_min, epochs, patience. */
#ifndef NNTUNE_OBJECTIVE_H
#define NNTUNE_OBJECTIVE_H

#include "nntune/split.h"
#include "nntune/train.h"
#include "nntune/tuner.h"

typedef enum { NT_METRIC_ACCURACY = 0, NT_METRIC_LOSS, NT_METRIC_F1 } nt_metric;

const char *nt_metric_name(nt_metric m);  /* "accuracy", "loss", "f1" */
int nt_metric_parse(const char *s);       /* -1 if unknown */
/* The score a strategy minimizes: 1 - metric for accuracy and F1. */
double nt_metric_score(nt_metric m, double value);

/* Refuse a space that names a hyperparameter the objective does not know,
 * or gives one an impossible range (e.g. dropout >= 1, batch < 1). */
nt_status nt_objective_check_space(const nt_space *s);

/* Settings and arch for one point: defaults from `base`, overridden by the
 * space's active values. */
nt_status nt_hparams_apply(const nt_space *s, const nt_assignment *a,
                           nt_arch *arch, nt_train_config *cfg);

typedef struct {
    const nt_dataset *train;     /* borrowed: the whole training set */
    int folds;                   /* k, >= 2 */
    nt_metric metric;
    double es_frac;              /* early-stopping slice of a fold's training
                                    part (default 0.1); 0 = no early stop */
    uint64_t seed;
    nt_arch base_arch;           /* n_in/n_out and defaults */
    nt_train_config base;        /* defaults for what the space leaves out */
    int jobs;                    /* folds trained at once (1 = in turn) */
    volatile sig_atomic_t *stop; /* optional: when *stop != 0, the folds in
                                    progress finish, no other starts, and
                                    the objective returns NT_ERR_INTERRUPTED
                                    with the finished folds' figures and
                                    curves in the trial (t->folds_done) */
    const nt_trial *resume;      /* optional, borrowed: n_resume such
                                    cut-short trials; when one of them
                                    (number and point) is scored again, its
                                    finished folds are taken from it, not
                                    retrained */
    int n_resume;
    /* optional progress: called after every epoch of every fold, from the
     * thread training that fold (so it must be thread-safe) */
    void (*on_epoch)(int trial, int fold, const nt_epoch_stats *s, void *user);
    void *user;
    nt_kfold kf;                 /* made by nt_cv_init, owned */
} nt_cv;

/* Make the folds (stratified, from the seed). NT_ERR_ARG if folds < 2 or
 * above the smallest class count. Free with nt_cv_free. */
nt_status nt_cv_init(nt_cv *cv);
void nt_cv_free(nt_cv *cv);

/* The nt_objective_fn for cross-validation; ctx is an nt_cv *. Also sets
 * t->curves, each fold's learning curve. */
nt_status nt_cv_objective(void *ctx, const nt_space *space, nt_trial *t);

/* The nt_batch_objective_fn for cross-validation: the n trials' folds,
 * trial by trial, go to cv->jobs threads, so that e.g. 2 trials of 3 folds
 * keep 2 cores busy where one trial would leave one idle for its third
 * fold. Each trial gets exactly the scores nt_cv_objective gives it. */
nt_status nt_cv_objective_batch(void *ctx, const nt_space *space, nt_trial *t, int n,
                                int *scored);

/* Epochs for a refit on all training data: the mean of the folds'
 * early-stopping epochs, rounded, at least 1. */
int nt_cv_refit_epochs(const nt_trial *t);

#endif
