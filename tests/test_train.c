/* test_train.c - the training loop on tiny nets: overfitting a handful of
 * samples, an end-to-end run on Gaussian blobs, early stopping and weight
 * restoring, divergence, interruption, history, seeding, config checks and
 * the epoch-to-step schedule conversion. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nntune/train.h"

/* n samples of k Gaussian blobs in d dimensions: class c's centre has
 * coordinates drawn from N(0, sep^2), each sample adds N(0, 1) noise.
 * Labels cycle 0, 1, ..., k-1 so classes are balanced. */
static nt_dataset make_blobs(size_t n, size_t d, int k, double sep, uint64_t seed)
{
    nt_dataset ds;
    cr_assert_eq(nt_dataset_alloc(n, d, k, &ds), NT_OK, "%s", nt_last_error());
    nt_rng r;
    nt_rng_seed(&r, seed);
    double centre[8][64];
    cr_assert(k <= 8 && d <= 64, "make_blobs: k %d d %zu too big", k, d);
    for (int c = 0; c < k; c++)
        for (size_t j = 0; j < d; j++) centre[c][j] = sep * nt_rng_normal(&r);
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % (size_t)k);
        ds.y[i] = c;
        for (size_t j = 0; j < d; j++)
            ds.X[i * d + j] = (float)(centre[c][j] + nt_rng_normal(&r));
    }
    return ds;
}

/* n samples in d dims, uniform in [-1, 1], with labels drawn at random:
 * nothing to learn, so a net can only memorise (and validation gets worse
 * as it does). */
static nt_dataset make_noise(size_t n, size_t d, int k, uint64_t seed)
{
    nt_dataset ds;
    cr_assert_eq(nt_dataset_alloc(n, d, k, &ds), NT_OK, "%s", nt_last_error());
    nt_rng r;
    nt_rng_seed(&r, seed);
    for (size_t i = 0; i < n * d; i++) ds.X[i] = (float)(2 * nt_rng_uniform(&r) - 1);
    for (size_t i = 0; i < n; i++) ds.y[i] = (int32_t)nt_rng_below(&r, (uint64_t)k);
    return ds;
}

static nt_arch arch1(int n_in, int hidden, int n_out)
{
    nt_arch a = {.n_in = n_in, .n_out = n_out, .n_hidden = 1, .act = NT_ACT_RELU};
    a.hidden[0] = hidden;
    return a;
}

static void make_net(const nt_arch *a, int max_batch, uint64_t seed, nt_net *net)
{
    nt_rng r;
    nt_rng_seed(&r, seed);
    cr_assert_eq(nt_net_init(a, max_batch, &r, net), NT_OK, "%s", nt_last_error());
}

static bool params_finite(const nt_net *net, size_t *bad)
{
    for (size_t i = 0; i < net->n_params; i++)
        if (!isfinite(net->params[i])) {
            *bad = i;
            return false;
        }
    return true;
}

/* The first n rows of a data set as an index list. */
static nt_index first_rows(size_t from, size_t n)
{
    nt_index ix;
    cr_assert_eq(nt_index_range(n, &ix), NT_OK, "%s", nt_last_error());
    for (size_t i = 0; i < n; i++) ix.i[i] += from;
    return ix;
}

Test(train, a_tiny_net_overfits_32_samples_to_full_training_accuracy)
{
    nt_dataset ds = make_noise(32, 8, 3, 5);
    nt_arch a = arch1(8, 16, 3);
    nt_net net = {0};
    make_net(&a, 32, 1, &net);
    nt_train_config cfg = nt_train_defaults();
    cfg.epochs = 400;
    cfg.batch = 32;
    cfg.lr = 0.02;
    nt_view all = nt_view_all(&ds);
    nt_rng r;
    nt_rng_seed(&r, 2);
    nt_history h;
    nt_status rc = nt_train(&net, &cfg, &all, NULL, &r, NULL, NULL, &h);
    cr_assert_eq(rc, NT_OK, "train: %s", nt_last_error());
    cr_assert_eq(h.n, cfg.epochs, "ran %d epochs of %d", h.n, cfg.epochs);
    cr_assert_eq(h.best_epoch, cfg.epochs,
                 "without validation best_epoch is the last: %d", h.best_epoch);
    nt_metrics m;
    cr_assert_eq(nt_metrics_init(3, &m), NT_OK, "%s", nt_last_error());
    cr_assert_eq(nt_evaluate(&net, &all, &m), NT_OK, "%s", nt_last_error());
    cr_assert_eq(m.accuracy, 1.0,
                 "training accuracy %.4f (loss %.4f) after %d epochs, want 1",
                 m.accuracy, m.loss, h.n);
    cr_assert(m.loss < h.epoch[0].train_loss,
              "loss %.4f not below the first epoch's %.4f", m.loss,
              h.epoch[0].train_loss);
    nt_metrics_free(&m);
    nt_history_free(&h);
    nt_net_free(&net);
    nt_dataset_free(&ds);
}

Test(train, gaussian_blobs_reach_over_95_percent_test_accuracy)
{
    nt_dataset ds = make_blobs(600, 10, 3, 1.5, 11);
    nt_view all = nt_view_all(&ds);
    nt_rng r;
    nt_rng_seed(&r, 3);
    nt_index trval, test, tr, va;
    cr_assert_eq(nt_split_stratified(&all, 0.2, &r, &trval, &test), NT_OK, "%s",
                 nt_last_error());
    nt_view trval_v = nt_view_of(&ds, &trval);
    cr_assert_eq(nt_split_stratified(&trval_v, 0.2, &r, &tr, &va), NT_OK, "%s",
                 nt_last_error());
    nt_view tr_v = nt_view_of(&ds, &tr), va_v = nt_view_of(&ds, &va),
            te_v = nt_view_of(&ds, &test);
    cr_assert_eq(tr_v.n + va_v.n + te_v.n, ds.n, "split sizes %zu + %zu + %zu != %zu",
                 tr_v.n, va_v.n, te_v.n, ds.n);

    nt_arch a = arch1(10, 32, 3);
    nt_net net = {0};
    make_net(&a, 64, 4, &net);
    nt_train_config cfg = nt_train_defaults();
    cfg.epochs = 30;
    cfg.batch = 32;
    cfg.lr = 5e-3;
    nt_history h;
    nt_status rc = nt_train(&net, &cfg, &tr_v, &va_v, &r, NULL, NULL, &h);
    cr_assert_eq(rc, NT_OK, "train: %s", nt_last_error());
    nt_metrics m;
    cr_assert_eq(nt_metrics_init(3, &m), NT_OK, "%s", nt_last_error());
    cr_assert_eq(nt_evaluate(&net, &te_v, &m), NT_OK, "%s", nt_last_error());
    cr_assert(m.accuracy > 0.95,
              "test accuracy %.4f (loss %.4f, %zu samples) after %d epochs "
              "(best %d, stop %s), want > 0.95",
              m.accuracy, m.loss, m.n, h.n, h.best_epoch, nt_stop_name(h.stop));
    cr_assert_eq(m.n, te_v.n, "evaluated %zu of %zu test rows", m.n, te_v.n);
    nt_metrics_free(&m);
    nt_history_free(&h);
    nt_net_free(&net);
    nt_index_free(&trval);
    nt_index_free(&test);
    nt_index_free(&tr);
    nt_index_free(&va);
    nt_dataset_free(&ds);
}

/* Memorising random labels: validation loss falls little, then rises. */
typedef struct {
    nt_dataset ds;
    nt_index tr, va;
    nt_view tr_v, va_v;
    nt_arch a;
} overfit_setup;

static void overfit_init(overfit_setup *s)
{
    s->ds = make_noise(120, 6, 2, 21);
    s->tr = first_rows(0, 40);
    s->va = first_rows(40, 80);
    s->tr_v = nt_view_of(&s->ds, &s->tr);
    s->va_v = nt_view_of(&s->ds, &s->va);
    s->a = arch1(6, 64, 2);
}

static void overfit_free(overfit_setup *s)
{
    nt_index_free(&s->tr);
    nt_index_free(&s->va);
    nt_dataset_free(&s->ds);
}

static nt_train_config overfit_cfg(void)
{
    nt_train_config cfg = nt_train_defaults();
    cfg.epochs = 200;
    cfg.batch = 8;
    cfg.lr = 1e-2;
    cfg.min_delta = 0;
    return cfg;
}

Test(train, early_stopping_stops_and_restores_the_best_epochs_weights)
{
    overfit_setup s;
    overfit_init(&s);
    nt_net net = {0};
    make_net(&s.a, 64, 7, &net);
    nt_train_config cfg = overfit_cfg();
    cfg.patience = 4;
    nt_rng r;
    nt_rng_seed(&r, 8);
    nt_history h;
    nt_status rc = nt_train(&net, &cfg, &s.tr_v, &s.va_v, &r, NULL, NULL, &h);
    cr_assert_eq(rc, NT_OK, "train: %s", nt_last_error());
    cr_assert_eq(h.stop, NT_STOP_EARLY, "stop reason %s after %d epochs, want early-stop",
                 nt_stop_name(h.stop), h.n);
    cr_assert(h.n < cfg.epochs, "ran all %d epochs", h.n);
    cr_assert_eq(h.n, h.best_epoch + cfg.patience,
                 "stopped after %d epochs, best %d, patience %d", h.n,
                 h.best_epoch, cfg.patience);
    // the best epoch has the lowest validation loss (first of any ties)
    for (int e = 0; e < h.n; e++)
        cr_assert(h.epoch[e].val_loss > h.epoch[h.best_epoch - 1].val_loss ||
                      e >= h.best_epoch - 1,
                  "epoch %d val loss %.6f <= best epoch %d's %.6f", e + 1,
                  h.epoch[e].val_loss, h.best_epoch, h.epoch[h.best_epoch - 1].val_loss);
    for (int e = h.best_epoch; e < h.n; e++)
        cr_assert(h.epoch[e].val_loss >= h.epoch[h.best_epoch - 1].val_loss,
                  "epoch %d val loss %.6f beats the best epoch %d's %.6f", e + 1,
                  h.epoch[e].val_loss, h.best_epoch, h.epoch[h.best_epoch - 1].val_loss);
    // the weights left in the net are the best epoch's
    nt_metrics m;
    cr_assert_eq(nt_metrics_init(2, &m), NT_OK, "%s", nt_last_error());
    cr_assert_eq(nt_evaluate(&net, &s.va_v, &m), NT_OK, "%s", nt_last_error());
    const nt_epoch_stats *b = &h.epoch[h.best_epoch - 1];
    cr_assert(m.loss == b->val_loss && m.accuracy == b->val_acc,
              "after training val loss %.9f acc %.4f; best epoch %d had %.9f %.4f "
              "(last epoch %d had %.9f)",
              m.loss, m.accuracy, h.best_epoch, b->val_loss, b->val_acc, h.n,
              h.epoch[h.n - 1].val_loss);
    cr_assert(m.loss != h.epoch[h.n - 1].val_loss,
              "the last epoch's val loss %.9f equals the best's: test proves nothing",
              h.epoch[h.n - 1].val_loss);
    nt_metrics_free(&m);
    nt_history_free(&h);
    nt_net_free(&net);
    overfit_free(&s);
}

Test(train, without_restore_best_the_last_epochs_weights_stay)
{
    overfit_setup s;
    overfit_init(&s);
    nt_net net = {0};
    make_net(&s.a, 64, 7, &net);
    nt_train_config cfg = overfit_cfg();
    cfg.patience = 4;
    cfg.restore_best = false;
    nt_rng r;
    nt_rng_seed(&r, 8);
    nt_history h;
    cr_assert_eq(nt_train(&net, &cfg, &s.tr_v, &s.va_v, &r, NULL, NULL, &h), NT_OK,
                 "train: %s", nt_last_error());
    cr_assert_eq(h.stop, NT_STOP_EARLY, "stop %s", nt_stop_name(h.stop));
    nt_metrics m;
    cr_assert_eq(nt_metrics_init(2, &m), NT_OK, "%s", nt_last_error());
    cr_assert_eq(nt_evaluate(&net, &s.va_v, &m), NT_OK, "%s", nt_last_error());
    cr_assert(m.loss == h.epoch[h.n - 1].val_loss,
              "val loss %.9f, last epoch %d had %.9f", m.loss, h.n,
              h.epoch[h.n - 1].val_loss);
    nt_metrics_free(&m);
    nt_history_free(&h);
    nt_net_free(&net);
    overfit_free(&s);
}

Test(train, early_stopping_can_watch_validation_accuracy)
{
    overfit_setup s;
    overfit_init(&s);
    nt_net net = {0};
    make_net(&s.a, 64, 7, &net);
    nt_train_config cfg = overfit_cfg();
    cfg.patience = 3;
    cfg.monitor_accuracy = true;
    nt_rng r;
    nt_rng_seed(&r, 8);
    nt_history h;
    cr_assert_eq(nt_train(&net, &cfg, &s.tr_v, &s.va_v, &r, NULL, NULL, &h), NT_OK,
                 "train: %s", nt_last_error());
    cr_assert_eq(h.stop, NT_STOP_EARLY, "stop %s after %d epochs", nt_stop_name(h.stop), h.n);
    double best = h.epoch[h.best_epoch - 1].val_acc;
    for (int e = 0; e < h.n; e++)
        cr_assert(h.epoch[e].val_acc <= best, "epoch %d val acc %.4f > best epoch %d's %.4f",
                  e + 1, h.epoch[e].val_acc, h.best_epoch, best);
    nt_metrics m;
    cr_assert_eq(nt_metrics_init(2, &m), NT_OK, "%s", nt_last_error());
    cr_assert_eq(nt_evaluate(&net, &s.va_v, &m), NT_OK, "%s", nt_last_error());
    cr_assert(m.accuracy == best, "restored val acc %.4f, best epoch %d had %.4f",
              m.accuracy, h.best_epoch, best);
    nt_metrics_free(&m);
    nt_history_free(&h);
    nt_net_free(&net);
    overfit_free(&s);
}

Test(train, patience_zero_never_stops_early)
{
    overfit_setup s;
    overfit_init(&s);
    nt_net net = {0};
    make_net(&s.a, 64, 7, &net);
    nt_train_config cfg = overfit_cfg();
    cfg.epochs = 40;
    cfg.patience = 0;
    nt_rng r;
    nt_rng_seed(&r, 8);
    nt_history h;
    cr_assert_eq(nt_train(&net, &cfg, &s.tr_v, &s.va_v, &r, NULL, NULL, &h), NT_OK,
                 "train: %s", nt_last_error());
    cr_assert_eq(h.stop, NT_STOP_EPOCHS, "stop %s", nt_stop_name(h.stop));
    cr_assert_eq(h.n, cfg.epochs, "ran %d of %d epochs", h.n, cfg.epochs);
    // it had every reason to stop: the best epoch lies well before the end
    cr_assert(h.best_epoch + 4 < h.n,
              "best epoch %d of %d: validation kept improving, test proves nothing",
              h.best_epoch, h.n);
    nt_history_free(&h);
    nt_net_free(&net);
    overfit_free(&s);
}

Test(train, a_huge_learning_rate_diverges_with_finite_weights_left)
{
    nt_dataset ds = make_blobs(64, 8, 3, 2.0, 31);
    nt_view all = nt_view_all(&ds);
    nt_arch a = arch1(8, 16, 3);
    nt_net net = {0};
    make_net(&a, 16, 5, &net);
    float *init = malloc(net.n_params * sizeof *init);
    memcpy(init, net.params, net.n_params * sizeof *init);
    nt_train_config cfg = nt_train_defaults();
    cfg.opt = nt_opt_defaults(NT_OPT_SGD);
    cfg.lr = 1e6;
    cfg.epochs = 50;
    cfg.batch = 16;
    nt_rng r;
    nt_rng_seed(&r, 6);
    nt_history h;
    nt_clear_error();
    nt_status rc = nt_train(&net, &cfg, &all, &all, &r, NULL, NULL, &h);
    cr_assert_eq(rc, NT_ERR_NUMERIC, "status %d (%s), want NT_ERR_NUMERIC; %d epochs",
                 rc, nt_strerror(rc), h.n);
    cr_assert_eq(h.stop, NT_STOP_DIVERGED, "stop %s", nt_stop_name(h.stop));
    cr_assert(strstr(nt_last_error(), "diverged") != NULL,
              "message '%s' does not say it diverged", nt_last_error());
    size_t bad = 0;
    cr_assert(params_finite(&net, &bad), "param %zu is %g after divergence", bad,
              (double)net.params[bad]);
    // the epoch that diverged may be recorded (with its non-finite loss);
    // every epoch before it is finite
    for (int e = 0; e + 1 < h.n; e++)
        cr_assert(isfinite(h.epoch[e].train_loss) && isfinite(h.epoch[e].val_loss),
                  "epoch %d of %d has loss %g / %g", e + 1, h.n, h.epoch[e].train_loss,
                  h.epoch[e].val_loss);
    cr_assert(h.best_epoch >= 0 && h.best_epoch <= h.n, "best epoch %d of %d",
              h.best_epoch, h.n);
    // the kept weights are the best finished epoch's, or the initial ones
    nt_metrics m;
    cr_assert_eq(nt_metrics_init(3, &m), NT_OK, "%s", nt_last_error());
    cr_assert_eq(nt_evaluate(&net, &all, &m), NT_OK, "%s", nt_last_error());
    cr_assert(isfinite(m.loss), "loss of the kept weights is %g", m.loss);
    if (h.best_epoch == 0) {
        size_t i = 0;
        while (i < net.n_params && net.params[i] == init[i]) i++;
        cr_assert_eq(i, net.n_params, "no epoch finished, yet param %zu is %g, was %g",
                     i, (double)net.params[i], (double)init[i]);
    } else {
        cr_assert(m.loss == h.epoch[h.best_epoch - 1].val_loss,
                  "kept weights have loss %.9g, best epoch %d had %.9g", m.loss,
                  h.best_epoch, h.epoch[h.best_epoch - 1].val_loss);
    }
    free(init);
    nt_metrics_free(&m);
    nt_history_free(&h);
    nt_net_free(&net);
    nt_dataset_free(&ds);
}

typedef struct {
    volatile sig_atomic_t *flag;
    int raise_after;
    int calls;
} stop_ctx;

static bool raise_flag(const nt_epoch_stats *s, void *user)
{
    stop_ctx *c = user;
    c->calls++;
    if (s->epoch == c->raise_after) *c->flag = 1;
    return true;
}

Test(train, the_stop_flag_interrupts_training)
{
    nt_dataset ds = make_blobs(96, 5, 3, 2.0, 41);
    nt_view all = nt_view_all(&ds);
    nt_arch a = arch1(5, 8, 3);
    nt_net net = {0};
    make_net(&a, 16, 5, &net);
    volatile sig_atomic_t flag = 0;
    nt_train_config cfg = nt_train_defaults();
    cfg.epochs = 10;
    cfg.batch = 16;
    cfg.stop = &flag;
    stop_ctx c = {.flag = &flag, .raise_after = 2};
    nt_rng r;
    nt_rng_seed(&r, 6);
    nt_history h;
    nt_status rc = nt_train(&net, &cfg, &all, &all, &r, raise_flag, &c, &h);
    cr_assert_eq(rc, NT_ERR_INTERRUPTED, "status %d (%s), want NT_ERR_INTERRUPTED", rc,
                 nt_strerror(rc));
    cr_assert_eq(h.stop, NT_STOP_INTERRUPTED, "stop %s", nt_stop_name(h.stop));
    cr_assert_eq(h.n, 2, "%d epochs recorded, want the 2 before the flag", h.n);
    cr_assert_eq(c.calls, 2, "on_epoch called %d times", c.calls);
    size_t bad = 0;
    cr_assert(params_finite(&net, &bad), "param %zu is %g", bad, (double)net.params[bad]);
    nt_history_free(&h);

    // a flag already set stops before the first epoch
    nt_history h2;
    rc = nt_train(&net, &cfg, &all, NULL, &r, NULL, NULL, &h2);
    cr_assert_eq(rc, NT_ERR_INTERRUPTED, "status %d with the flag set", rc);
    cr_assert_eq(h2.n, 0, "%d epochs recorded with the flag set", h2.n);
    cr_assert_eq(h2.steps, 0, "%ld steps taken with the flag set", h2.steps);
    nt_history_free(&h2);
    nt_net_free(&net);
    nt_dataset_free(&ds);
}

static bool stop_at_3(const nt_epoch_stats *s, void *user)
{
    (void)user;
    return s->epoch < 3;
}

Test(train, an_epoch_callback_returning_false_interrupts_training)
{
    nt_dataset ds = make_blobs(48, 5, 3, 2.0, 41);
    nt_view all = nt_view_all(&ds);
    nt_arch a = arch1(5, 8, 3);
    nt_net net = {0};
    make_net(&a, 16, 5, &net);
    nt_train_config cfg = nt_train_defaults();
    cfg.epochs = 10;
    cfg.batch = 16;
    nt_rng r;
    nt_rng_seed(&r, 6);
    nt_history h;
    nt_status rc = nt_train(&net, &cfg, &all, NULL, &r, stop_at_3, NULL, &h);
    cr_assert_eq(rc, NT_ERR_INTERRUPTED, "status %d (%s)", rc, nt_strerror(rc));
    cr_assert_eq(h.n, 3, "%d epochs recorded, want 3", h.n);
    nt_history_free(&h);
    nt_net_free(&net);
    nt_dataset_free(&ds);
}

Test(train, history_has_one_entry_per_epoch_with_finite_losses)
{
    nt_dataset ds = make_blobs(100, 5, 3, 2.0, 51);
    nt_view all = nt_view_all(&ds);
    nt_index tr = first_rows(0, 70), va = first_rows(70, 30);
    nt_view tr_v = nt_view_of(&ds, &tr), va_v = nt_view_of(&ds, &va);
    nt_arch a = arch1(5, 8, 3);
    nt_net net = {0};
    make_net(&a, 32, 5, &net);
    nt_train_config cfg = nt_train_defaults();
    cfg.epochs = 7;
    cfg.batch = 32;
    cfg.patience = 0;
    cfg.schedule = NT_SCHED_STEP;
    cfg.step_epochs = 2;
    cfg.gamma = 0.5;
    nt_rng r;
    nt_rng_seed(&r, 6);
    nt_history h;
    cr_assert_eq(nt_train(&net, &cfg, &tr_v, &va_v, &r, NULL, NULL, &h), NT_OK, "%s",
                 nt_last_error());
    cr_assert_eq(h.n, 7, "%d entries for 7 epochs", h.n);
    long per_epoch = (70 + 31) / 32; // 3
    cr_assert_eq(h.steps, 7 * per_epoch, "%ld steps, want %ld", h.steps, 7 * per_epoch);
    double prev = 0;
    for (int e = 0; e < h.n; e++) {
        const nt_epoch_stats *s = &h.epoch[e];
        cr_assert_eq(s->epoch, e + 1, "entry %d says epoch %d", e, s->epoch);
        cr_assert(isfinite(s->train_loss) && s->train_loss > 0, "epoch %d train loss %g",
                  e + 1, s->train_loss);
        cr_assert(isfinite(s->val_loss) && s->val_loss > 0, "epoch %d val loss %g",
                  e + 1, s->val_loss);
        cr_assert(s->train_acc >= 0 && s->train_acc <= 1 && s->val_acc >= 0 &&
                      s->val_acc <= 1,
                  "epoch %d accuracies %g %g", e + 1, s->train_acc, s->val_acc);
        cr_assert(s->seconds >= prev, "epoch %d at %g s, before %g s", e + 1, s->seconds,
                  prev);
        prev = s->seconds;
        // the lr at the epoch's last step, step size 2 epochs = 6 steps
        long last = (long)(e + 1) * per_epoch - 1;
        double want = 1e-3 * pow(0.5, (double)(last / 6));
        cr_assert(fabs(s->lr - want) <= 1e-12, "epoch %d lr %g, want %g (step %ld)",
                  e + 1, s->lr, want, last);
    }
    nt_history_free(&h);

    // without validation: NaN val fields, best epoch = last
    nt_history h2;
    cr_assert_eq(nt_train(&net, &cfg, &all, NULL, &r, NULL, NULL, &h2), NT_OK, "%s",
                 nt_last_error());
    cr_assert_eq(h2.best_epoch, h2.n, "best %d of %d without validation", h2.best_epoch,
                 h2.n);
    for (int e = 0; e < h2.n; e++)
        cr_assert(isnan(h2.epoch[e].val_loss) && isnan(h2.epoch[e].val_acc),
                  "epoch %d val %g %g without a validation view", e + 1,
                  h2.epoch[e].val_loss, h2.epoch[e].val_acc);
    nt_history_free(&h2);
    nt_history_free(&h2); // twice is fine
    nt_index_free(&tr);
    nt_index_free(&va);
    nt_net_free(&net);
    nt_dataset_free(&ds);
}

/* Train a fresh 5-8-3 net (init seed and shuffle seed both `seed`). */
static void run_seeded(const nt_dataset *ds, uint64_t seed, nt_history *h, float *p0)
{
    nt_view all = nt_view_all(ds);
    nt_arch a = arch1(5, 8, 3);
    a.dropout = 0.2f; // dropout draws from the rng too
    nt_net net = {0};
    make_net(&a, 16, seed, &net);
    nt_train_config cfg = nt_train_defaults();
    cfg.epochs = 5;
    cfg.batch = 16;
    nt_rng r;
    nt_rng_seed(&r, seed);
    cr_assert_eq(nt_train(&net, &cfg, &all, &all, &r, NULL, NULL, h), NT_OK, "%s",
                 nt_last_error());
    *p0 = net.params[0];
    nt_net_free(&net);
}

Test(train, the_same_seed_gives_the_same_history_and_another_seed_does_not)
{
    nt_dataset ds = make_blobs(80, 5, 3, 1.0, 61);
    nt_history a, b, c;
    float pa, pb, pc;
    run_seeded(&ds, 100, &a, &pa);
    run_seeded(&ds, 100, &b, &pb);
    run_seeded(&ds, 101, &c, &pc);
    cr_assert_eq(a.n, b.n, "%d vs %d epochs", a.n, b.n);
    for (int e = 0; e < a.n; e++) {
        cr_assert(a.epoch[e].train_loss == b.epoch[e].train_loss &&
                      a.epoch[e].val_loss == b.epoch[e].val_loss &&
                      a.epoch[e].train_acc == b.epoch[e].train_acc,
                  "epoch %d: train loss %.12g vs %.12g, val loss %.12g vs %.12g", e + 1,
                  a.epoch[e].train_loss, b.epoch[e].train_loss, a.epoch[e].val_loss,
                  b.epoch[e].val_loss);
    }
    cr_assert(pa == pb, "params[0] %.9g vs %.9g with the same seed", (double)pa,
              (double)pb);
    int differ = 0;
    for (int e = 0; e < a.n && e < c.n; e++)
        differ += a.epoch[e].train_loss != c.epoch[e].train_loss;
    cr_assert(differ > 0 && pa != pc,
              "seeds 100 and 101 gave the same train losses (epoch 1: %.12g vs %.12g) "
              "and params[0] %.9g vs %.9g",
              a.epoch[0].train_loss, c.epoch[0].train_loss, (double)pa, (double)pc);
    nt_history_free(&a);
    nt_history_free(&b);
    nt_history_free(&c);
    nt_dataset_free(&ds);
}

Test(train, check_refuses_impossible_settings)
{
    nt_arch a = arch1(4, 4, 2);
    nt_net net = {0};
    make_net(&a, 64, 1, &net);
    nt_train_config ok = nt_train_defaults();
    ok.batch = 64;
    cr_assert_eq(nt_train_check(&ok, &net), NT_OK, "defaults refused: %s", nt_last_error());

    struct {
        const char *what, *word;
        nt_train_config cfg;
    } bad[11];
    int n = 0;
    for (int i = 0; i < 11; i++) bad[i].cfg = ok;
    bad[n].what = "epochs 0", bad[n].word = "epochs", bad[n++].cfg.epochs = 0;
    bad[n].what = "batch 0", bad[n].word = "batch", bad[n++].cfg.batch = 0;
    bad[n].what = "batch 65 > max_batch 64", bad[n].word = "batch", bad[n++].cfg.batch = 65;
    bad[n].what = "lr 0", bad[n].word = "learning rate", bad[n++].cfg.lr = 0;
    bad[n].what = "lr -1", bad[n].word = "learning rate", bad[n++].cfg.lr = -1;
    bad[n].what = "lr NaN", bad[n].word = "learning rate", bad[n++].cfg.lr = NAN;
    bad[n].cfg.opt = nt_opt_defaults(NT_OPT_SGD);
    bad[n].cfg.opt.momentum = 1.0f;
    bad[n].what = "momentum 1", bad[n++].word = "momentum";
    bad[n].cfg.opt = nt_opt_defaults(NT_OPT_SGD);
    bad[n].cfg.opt.momentum = 1.5f;
    bad[n].what = "momentum 1.5", bad[n++].word = "momentum";
    bad[n].what = "patience -1", bad[n].word = "patience", bad[n++].cfg.patience = -1;
    bad[n].what = "shards -1", bad[n].word = "shards", bad[n++].cfg.shards = -1;
    bad[n].what = "shards 65", bad[n].word = "shards", bad[n++].cfg.shards = 65;
    for (int i = 0; i < n; i++) {
        nt_clear_error();
        nt_status rc = nt_train_check(&bad[i].cfg, &net);
        cr_assert_eq(rc, NT_ERR_ARG, "%s: status %d (%s), want NT_ERR_ARG", bad[i].what,
                     rc, nt_strerror(rc));
        cr_assert(strstr(nt_last_error(), bad[i].word) != NULL,
                  "%s: message '%s' does not name '%s'", bad[i].what, nt_last_error(),
                  bad[i].word);
    }
    // nt_train itself refuses them too, leaving an empty history
    nt_dataset ds = make_noise(8, 4, 2, 1);
    nt_view all = nt_view_all(&ds);
    nt_rng r;
    nt_rng_seed(&r, 1);
    nt_history h;
    nt_status rc = nt_train(&net, &bad[0].cfg, &all, NULL, &r, NULL, NULL, &h);
    cr_assert_eq(rc, NT_ERR_ARG, "nt_train with epochs 0: status %d", rc);
    cr_assert_eq(h.n, 0, "history has %d entries", h.n);
    nt_history_free(&h);
    nt_dataset_free(&ds);
    nt_net_free(&net);
}

Test(train, the_schedule_is_converted_from_epochs_to_steps)
{
    nt_train_config cfg = nt_train_defaults();
    cfg.batch = 128;
    cfg.epochs = 10;
    cfg.schedule = NT_SCHED_COSINE;
    cfg.lr = 0.05;
    cfg.lr_min = 1e-4;
    cfg.gamma = 0.3;
    cfg.step_epochs = 2.5;
    cfg.warmup_epochs = 1;
    const struct {
        size_t n;
        long per_epoch;
    } cases[] = {{1000, 8}, {1024, 8}, {1025, 9}, {1, 1}, {128, 1}, {129, 2}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nt_schedule s = nt_train_schedule(&cfg, cases[i].n);
        long pe = cases[i].per_epoch;
        cr_assert_eq(s.total_steps, 10 * pe, "n %zu: total_steps %ld, want %ld",
                     cases[i].n, s.total_steps, 10 * pe);
        cr_assert_eq(s.warmup, pe, "n %zu: warmup %ld steps, want %ld", cases[i].n,
                     s.warmup, pe);
        long want_step = lround(2.5 * (double)pe);
        cr_assert_eq(s.step_size, want_step, "n %zu: step_size %ld, want %ld",
                     cases[i].n, s.step_size, want_step);
        cr_assert(s.kind == NT_SCHED_COSINE && s.lr == 0.05 && s.lr_min == 1e-4 &&
                      s.gamma == 0.3,
                  "n %zu: kind %d lr %g lr_min %g gamma %g", cases[i].n, s.kind, s.lr,
                  s.lr_min, s.gamma);
    }
}

Test(train, a_view_with_the_wrong_feature_count_is_refused)
{
    nt_dataset ds5 = make_blobs(40, 5, 2, 2.0, 71), ds4 = make_blobs(40, 4, 2, 2.0, 72);
    nt_view v5 = nt_view_all(&ds5), v4 = nt_view_all(&ds4);
    nt_arch a = arch1(5, 4, 2);
    nt_net net = {0};
    make_net(&a, 8, 1, &net);
    nt_train_config cfg = nt_train_defaults();
    cfg.epochs = 2;
    cfg.batch = 8;
    nt_rng r;
    nt_rng_seed(&r, 1);
    nt_history h;
    nt_status rc = nt_train(&net, &cfg, &v4, NULL, &r, NULL, NULL, &h);
    cr_assert_eq(rc, NT_ERR_MISMATCH, "4-feature training data for a 5-input net: %d (%s)",
                 rc, nt_strerror(rc));
    nt_history_free(&h);
    rc = nt_train(&net, &cfg, &v5, &v4, &r, NULL, NULL, &h);
    cr_assert_eq(rc, NT_ERR_MISMATCH,
                 "4-feature validation data for a 5-input net: %d (%s), %d epochs, "
                 "val loss %g",
                 rc, nt_strerror(rc), h.n, h.n ? h.epoch[0].val_loss : NAN);
    nt_history_free(&h);
    nt_metrics m;
    cr_assert_eq(nt_metrics_init(2, &m), NT_OK, "%s", nt_last_error());
    rc = nt_evaluate(&net, &v4, &m);
    cr_assert_eq(rc, NT_ERR_MISMATCH, "evaluate on 4 features: %d (%s)", rc, nt_strerror(rc));
    nt_metrics_free(&m);
    nt_net_free(&net);
    nt_dataset_free(&ds5);
    nt_dataset_free(&ds4);
}
