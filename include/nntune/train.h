/* train.h - the training loop: shuffled mini-batches, validation after every
 * epoch, early stopping that restores the best weights, divergence
 * detection, learning-rate schedules, per-epoch history; and evaluation of a
 * network over a view.
 *
 * Buffers are allocated once per nt_train call (a batch gather buffer, a
 * copy of the best weights, the optimizer state); nothing per batch. */
#ifndef NNTUNE_TRAIN_H
#define NNTUNE_TRAIN_H

#include <signal.h>

#include "nntune/metrics.h"
#include "nntune/net.h"
#include "nntune/optim.h"
#include "nntune/schedule.h"
#include "nntune/split.h"

/* Schedules are given in epochs here (what a user thinks in) and turned into
 * steps by the trainer: steps per epoch = ceil(n_train / batch). */
typedef struct {
    int epochs;              /* maximum epochs, >= 1 */
    int batch;               /* mini-batch size, 1..net->max_batch */
    double lr;               /* base learning rate */
    nt_opt_config opt;
    float l2;                /* L2 weight decay strength (weights only) */
    nt_sched_kind schedule;
    double step_epochs;      /* step/exp: decay period; cyclic: half cycle */
    double gamma;            /* step/exp: decay factor */
    double lr_min;           /* cosine floor, cyclic bottom (absolute) */
    double warmup_epochs;    /* linear warm-up, 0 for none */
    int patience;            /* early stopping: epochs without improvement
                                before stopping; 0 = never stop early */
    double min_delta;        /* an improvement must beat the best by this */
    bool monitor_accuracy;   /* watch validation accuracy instead of loss */
    bool restore_best;       /* keep the best epoch's weights at the end */
    int shards;              /* split every step between this many
                                threads, each owning a block of every
                                layer's weight rows, with single-threaded
                                BLAS (shards.h); 0 or 1: one pass, on the
                                BLAS threads the caller set */
    volatile sig_atomic_t *stop; /* optional: stop when *stop != 0 */
} nt_train_config;

/* Sensible defaults: 20 epochs, batch 128, Adam lr 1e-3, constant schedule,
 * patience 5, min_delta 1e-4, restore_best. */
nt_train_config nt_train_defaults(void);
/* Check a configuration against a network; NT_ERR_ARG naming the field.
 * net may be NULL to check the settings alone, before a network exists
 * (the batch then only has to be at least 1). */
nt_status nt_train_check(const nt_train_config *cfg, const nt_net *net);
/* The schedule in steps for n_train samples (used by the trainer and the
 * learning-rate range test). */
nt_schedule nt_train_schedule(const nt_train_config *cfg, size_t n_train);
/* The optimizer the trainer steps net with (used by the trainer and the
 * learning-rate range test): cfg->opt, with cfg->l2 folded into the steps
 * of net's weights (nt_optim_set_l2), so the backward passes take l2 = 0. */
nt_status nt_train_optim_init(const nt_train_config *cfg, const nt_net *net, nt_optim *out);

typedef enum {
    NT_STOP_EPOCHS = 0,       /* ran every epoch */
    NT_STOP_EARLY = 1,        /* early stopping: no improvement for patience */
    NT_STOP_DIVERGED = 2,     /* the loss became NaN or infinite */
    NT_STOP_INTERRUPTED = 3,  /* *cfg->stop was set */
} nt_stop_reason;

typedef struct {
    int epoch;                /* 1-based */
    double lr;                /* learning rate at the epoch's last step */
    double train_loss;        /* mean over the epoch's batches (dropout on) */
    double train_acc;
    double val_loss;          /* NaN without a validation view */
    double val_acc;
    double seconds;           /* since the start of training */
} nt_epoch_stats;

typedef struct {
    nt_epoch_stats *epoch;    /* (n) owned */
    int n;
    int best_epoch;           /* 1-based epoch whose weights were kept
                                 (the last one without validation) */
    nt_stop_reason stop;
    long steps;
    double seconds;
} nt_history;

void nt_history_free(nt_history *h);
const char *nt_stop_name(nt_stop_reason r); /* "epochs", "early-stop", ... */

/* Called after every epoch; return false to stop training. */
typedef bool (*nt_epoch_fn)(const nt_epoch_stats *s, void *user);

/* Train net on `train`, validating on `val` after every epoch (val may be
 * NULL: then no early stopping, best_epoch = last). rng drives shuffles and
 * dropout. Returns NT_OK, NT_ERR_NUMERIC when the loss went non-finite (the
 * weights are then those of the best finished epoch, or the initial ones,
 * never NaN), or NT_ERR_INTERRUPTED. The history is filled in every case. */
nt_status nt_train(nt_net *net, const nt_train_config *cfg,
                   const nt_view *train, const nt_view *val, nt_rng *rng,
                   nt_epoch_fn on_epoch, void *user, nt_history *hist);

/* Evaluate net (no dropout) over a view in batches of net->max_batch;
 * `m` must be initialised with the view's class count; it is reset first. */
nt_status nt_evaluate(nt_net *net, const nt_view *v, nt_metrics *m);

#endif
