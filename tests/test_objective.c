/* test_objective.c - the cross-validated objective: which spaces it
 * accepts, how a point maps onto an architecture and training settings, and
 * a k-fold run on a small synthetic data set (consistent fold figures,
 * independence from the number of jobs, divergence as a failed trial). */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nntune/objective.h"

static nt_space parse(const char *text)
{
    nt_space s;
    cr_assert_eq(nt_space_parse(text, "test", &s), NT_OK, "parse '%s': %s", text,
                 nt_last_error());
    return s;
}

Test(objective, check_space_refuses_unknown_names_and_impossible_values)
{
    const struct {
        const char *text, *word;
    } bad[] = {
        {"lr = loguniform(1e-4, 1e-1)\nfrobnicate = uniform(0, 1)\n", "frobnicate"},
        {"learning_rate = 0.01\n", "learning_rate"},
        {"lr = choice(fast, slow)\n", "lr"},
        {"batch = choice(small, large)\n", "batch"},
        {"epochs = many\n", "epochs"},
        {"act = choice(relu, swish)\n", "swish"},
        {"optimizer = choice(sgd, lbfgs)\n", "lbfgs"},
        {"schedule = warmrestart\n", "warmrestart"},
        {"act = uniform(0, 1)\n", "act"},
        {"dropout = uniform(0.0, 1.0)\n", "dropout"},
        {"dropout = uniform(0.5, 1.5)\n", "dropout"},
        {"dropout = 1\n", "dropout"},
        {"dropout = choice(0.1, 1.0)\n", "dropout"},
        {"batch = int(0, 64)\n", "batch"},
        {"batch = uniform(16, 64)\n", "batch"},
        {"layers = int(1, 20)\n", "layers"},
        {"momentum = uniform(0.5, 1.0)\n", "momentum"},
        {"lr = uniform(-1, 1)\n", "lr"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nt_space s = parse(bad[i].text);
        nt_clear_error();
        nt_status rc = nt_objective_check_space(&s);
        cr_assert_eq(rc, NT_ERR_ARG, "space '%s': status %d (%s), want NT_ERR_ARG",
                     bad[i].text, rc, nt_strerror(rc));
        cr_assert(strstr(nt_last_error(), bad[i].word) != NULL,
                  "space '%s': message '%s' does not name '%s'", bad[i].text,
                  nt_last_error(), bad[i].word);
    }
}

Test(objective, check_space_accepts_the_default_mnist_space_and_every_known_name)
{
    nt_space s;
    nt_space_default_mnist(&s);
    cr_assert_eq(nt_objective_check_space(&s), NT_OK, "default space refused: %s",
                 nt_last_error());
    nt_space all = parse("lr = loguniform(1e-4, 1e-1)\n"
                         "batch = choice(32, 64)\n"
                         "layers = int(0, 3)\n"
                         "units = int(16, 512, log)\n"
                         "act = choice(relu, tanh, sigmoid)\n"
                         "dropout = uniform(0, 0.5)\n"
                         "optimizer = choice(sgd, adam)\n"
                         "momentum = uniform(0.5, 0.99) if optimizer == sgd\n"
                         "nesterov = choice(true, false) if optimizer == sgd\n"
                         "l2 = loguniform(1e-6, 1e-2)\n"
                         "schedule = choice(constant, step, exp, cosine, cyclic)\n"
                         "warmup = uniform(0, 2)\n"
                         "gamma = uniform(0.1, 0.9)\n"
                         "step_epochs = int(1, 5)\n"
                         "lr_min = 1e-5\n"
                         "epochs = 20\n"
                         "patience = int(0, 5)\n");
    cr_assert_eq(nt_objective_check_space(&all), NT_OK, "a space with every name refused: %s",
                 nt_last_error());
}

Test(objective, hparams_apply_maps_a_point_onto_the_arch_and_the_settings)
{
    nt_space s = parse("layers = 3\n"
                       "units = 48\n"
                       "act = tanh\n"
                       "dropout = 0.3\n"
                       "optimizer = sgd\n"
                       "momentum = 0.8\n"
                       "nesterov = true\n"
                       "lr = 0.05\n"
                       "batch = 32\n"
                       "l2 = 0.001\n"
                       "schedule = cosine\n"
                       "warmup = 2\n"
                       "lr_min = 0.0001\n"
                       "epochs = 7\n"
                       "patience = 2\n");
    cr_assert_eq(s.dims, 0, "%d dims in a fixed space", s.dims);
    nt_assignment asg;
    nt_space_decode(&s, NULL, &asg);
    nt_arch arch = {.n_in = 20, .n_out = 3, .n_hidden = 1, .hidden = {128}};
    nt_train_config cfg = nt_train_defaults();
    cr_assert_eq(nt_hparams_apply(&s, &asg, &arch, &cfg), NT_OK, "%s", nt_last_error());
    cr_assert(arch.n_in == 20 && arch.n_out == 3, "in/out changed: %d %d", arch.n_in,
              arch.n_out);
    cr_assert_eq(arch.n_hidden, 3, "layers %d, want 3", arch.n_hidden);
    for (int l = 0; l < 3; l++)
        cr_assert_eq(arch.hidden[l], 48, "hidden[%d] = %d, want 48", l, arch.hidden[l]);
    cr_assert_eq(arch.act, NT_ACT_TANH, "act %d, want tanh", arch.act);
    cr_assert_float_eq(arch.dropout, 0.3f, 1e-7, "dropout %g", (double)arch.dropout);
    cr_assert_eq(cfg.opt.kind, NT_OPT_SGD, "optimizer %d, want sgd", cfg.opt.kind);
    cr_assert_float_eq(cfg.opt.momentum, 0.8f, 1e-7, "momentum %g", (double)cfg.opt.momentum);
    cr_assert(cfg.opt.nesterov, "nesterov not set");
    cr_assert_eq(cfg.lr, 0.05, "lr %g", cfg.lr);
    cr_assert_eq(cfg.batch, 32, "batch %d", cfg.batch);
    cr_assert_float_eq(cfg.l2, 0.001f, 1e-9, "l2 %g", (double)cfg.l2);
    cr_assert_eq(cfg.schedule, NT_SCHED_COSINE, "schedule %d, want cosine", cfg.schedule);
    cr_assert_eq(cfg.warmup_epochs, 2.0, "warmup %g", cfg.warmup_epochs);
    cr_assert_eq(cfg.lr_min, 0.0001, "lr_min %g", cfg.lr_min);
    cr_assert_eq(cfg.epochs, 7, "epochs %d", cfg.epochs);
    cr_assert_eq(cfg.patience, 2, "patience %d", cfg.patience);
}

Test(objective, hparams_apply_follows_searched_values_and_keeps_the_base_elsewhere)
{
    nt_space s = parse("layers = int(1, 3)\n"
                       "units = choice(16, 32, 64)\n"
                       "act = choice(relu, sigmoid)\n"
                       "optimizer = choice(sgd, adam)\n"
                       "momentum = uniform(0.5, 0.9) if optimizer == sgd\n");
    cr_assert_eq(s.dims, 5, "%d dims", s.dims);
    nt_assignment asg;
    nt_arch base = {.n_in = 4, .n_out = 2, .n_hidden = 1, .hidden = {8}, .dropout = 0.1f};
    nt_train_config base_cfg = nt_train_defaults();
    base_cfg.lr = 0.007;
    base_cfg.epochs = 11;

    // top of every range: 3 layers of 64, sigmoid, adam (momentum inactive)
    double hi[5] = {0.99, 0.99, 0.99, 0.99, 0.99};
    nt_space_decode(&s, hi, &asg);
    nt_arch a = base;
    nt_train_config c = base_cfg;
    cr_assert_eq(nt_hparams_apply(&s, &asg, &a, &c), NT_OK, "%s", nt_last_error());
    cr_assert(a.n_hidden == 3 && a.hidden[0] == 64 && a.hidden[2] == 64,
              "layers %d units %d..%d, want 3 x 64", a.n_hidden, a.hidden[0], a.hidden[2]);
    cr_assert_eq(a.act, NT_ACT_SIGMOID, "act %d", a.act);
    cr_assert_eq(c.opt.kind, NT_OPT_ADAM, "optimizer %d, want adam", c.opt.kind);
    cr_assert_float_eq(a.dropout, 0.1f, 1e-7, "dropout %g: not the base", (double)a.dropout);
    cr_assert_eq(c.lr, 0.007, "lr %g: not the base", c.lr);
    cr_assert_eq(c.epochs, 11, "epochs %d: not the base", c.epochs);

    // bottom: 1 layer of 16, relu, sgd with momentum 0.5
    double lo[5] = {0, 0, 0, 0, 0};
    nt_space_decode(&s, lo, &asg);
    a = base;
    c = base_cfg;
    cr_assert_eq(nt_hparams_apply(&s, &asg, &a, &c), NT_OK, "%s", nt_last_error());
    cr_assert(a.n_hidden == 1 && a.hidden[0] == 16, "layers %d units %d, want 1 x 16",
              a.n_hidden, a.hidden[0]);
    cr_assert_eq(a.act, NT_ACT_RELU, "act %d", a.act);
    cr_assert_eq(c.opt.kind, NT_OPT_SGD, "optimizer %d, want sgd", c.opt.kind);
    cr_assert_float_eq(c.opt.momentum, 0.5f, 1e-6, "momentum %g", (double)c.opt.momentum);
}

/* n samples of 3 Gaussian blobs in d dimensions (labels cycle 0, 1, 2). */
static nt_dataset make_blobs(size_t n, size_t d, double sep, uint64_t seed)
{
    nt_dataset ds;
    cr_assert_eq(nt_dataset_alloc(n, d, 3, &ds), NT_OK, "%s", nt_last_error());
    nt_rng r;
    nt_rng_seed(&r, seed);
    double centre[3][32];
    for (int c = 0; c < 3; c++)
        for (size_t j = 0; j < d; j++) centre[c][j] = sep * nt_rng_normal(&r);
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % 3);
        ds.y[i] = c;
        for (size_t j = 0; j < d; j++)
            ds.X[i * d + j] = (float)(centre[c][j] + nt_rng_normal(&r));
    }
    return ds;
}

static nt_cv make_cv(const nt_dataset *ds, int folds, int jobs)
{
    nt_cv cv = {0};
    cv.train = ds;
    cv.folds = folds;
    cv.metric = NT_METRIC_ACCURACY;
    cv.es_frac = 0.15;
    cv.seed = 2024;
    cv.base_arch = (nt_arch){.n_in = (int)ds->d, .n_out = ds->n_classes, .n_hidden = 1,
                             .hidden = {16}};
    cv.base = nt_train_defaults();
    cv.base.epochs = 12;
    cv.base.batch = 32;
    cv.base.lr = 5e-3;
    cv.base.patience = 3;
    cv.jobs = jobs;
    return cv;
}

/* Score the fixed point of `text` as trial `trial`; the caller frees
 * t.curves. */
static nt_trial run_trial_with_curves(nt_cv *cv, const char *text, int trial)
{
    nt_space s = parse(text);
    nt_trial t;
    memset(&t, 0, sizeof t);
    t.trial = trial;
    double u[NT_MAX_PARAMS] = {0};
    nt_space_decode(&s, u, &t.values);
    nt_status rc = nt_cv_objective(cv, &s, &t);
    cr_assert_eq(rc, NT_OK, "objective returned %d (%s): %s", rc, nt_strerror(rc),
                 nt_last_error());
    return t;
}

/* The same, without the curves. */
static nt_trial run_trial(nt_cv *cv, const char *text, int trial)
{
    nt_trial t = run_trial_with_curves(cv, text, trial);
    nt_curves_free(t.curves, t.n_folds);
    t.curves = NULL;
    return t;
}

Test(objective, a_cv_run_gives_k_consistent_fold_scores)
{
    nt_dataset ds = make_blobs(300, 20, 0.8, 5);
    nt_cv cv = make_cv(&ds, 3, 1);
    cr_assert_eq(nt_cv_init(&cv), NT_OK, "%s", nt_last_error());
    nt_trial t = run_trial(&cv, "lr = 0.005\nepochs = 12\n", 0);
    cr_assert_eq(t.status, NT_OK, "trial failed: %s", t.reason);
    cr_assert_str_empty(t.reason, "reason '%s' on success", t.reason);
    cr_assert_eq(t.n_folds, 3, "%d folds, want 3", t.n_folds);
    double sum = 0;
    for (int f = 0; f < 3; f++) {
        cr_assert(t.fold_metric[f] >= 0 && t.fold_metric[f] <= 1,
                  "fold %d accuracy %g outside [0,1]", f, t.fold_metric[f]);
        cr_assert(t.fold_epochs[f] >= 1 && t.fold_epochs[f] <= 12,
                  "fold %d early-stopping epoch %d outside 1..12", f, t.fold_epochs[f]);
        cr_assert(t.fold_ran[f] >= t.fold_epochs[f] && t.fold_ran[f] <= 12,
                  "fold %d ran %d epochs, best %d", f, t.fold_ran[f], t.fold_epochs[f]);
        sum += t.fold_metric[f];
    }
    double mean = sum / 3, ss = 0;
    for (int f = 0; f < 3; f++) ss += (t.fold_metric[f] - mean) * (t.fold_metric[f] - mean);
    cr_assert(fabs(t.metric - mean) < 1e-12, "metric %.12f, mean of folds %.12f (%g %g %g)",
              t.metric, mean, t.fold_metric[0], t.fold_metric[1], t.fold_metric[2]);
    // population or sample standard deviation: both are honest choices
    double pop = sqrt(ss / 3), smp = sqrt(ss / 2);
    cr_assert(fabs(t.metric_std - pop) < 1e-12 || fabs(t.metric_std - smp) < 1e-12,
              "metric_std %.12f, population std %.12f, sample std %.12f", t.metric_std,
              pop, smp);
    cr_assert(fabs(t.score - (1 - t.metric)) < 1e-15, "score %.15f, 1 - accuracy %.15f",
              t.score, 1 - t.metric);
    // well separated blobs: the network learned something
    cr_assert(t.metric > 0.8, "mean CV accuracy %.4f on separable blobs", t.metric);
    int refit = nt_cv_refit_epochs(&t);
    cr_assert(refit >= 1 && refit <= 12, "refit epochs %d", refit);
    nt_cv_free(&cv);
    nt_cv_free(&cv); // twice is fine
    nt_dataset_free(&ds);
}

Test(objective, the_result_is_the_same_with_one_or_two_jobs)
{
    nt_dataset ds = make_blobs(300, 20, 0.5, 6);
    nt_cv cv1 = make_cv(&ds, 3, 1), cv2 = make_cv(&ds, 3, 2);
    cr_assert_eq(nt_cv_init(&cv1), NT_OK, "%s", nt_last_error());
    cr_assert_eq(nt_cv_init(&cv2), NT_OK, "%s", nt_last_error());
    const char *space = "lr = 0.01\ndropout = 0.2\nepochs = 6\n";
    nt_trial a = run_trial(&cv1, space, 4), b = run_trial(&cv2, space, 4);
    cr_assert(a.status == NT_OK && b.status == NT_OK, "status %d / %d: %s %s", a.status,
              b.status, a.reason, b.reason);
    for (int f = 0; f < 3; f++) {
        cr_assert(a.fold_metric[f] == b.fold_metric[f],
                  "fold %d: accuracy %.12g with 1 job, %.12g with 2", f, a.fold_metric[f],
                  b.fold_metric[f]);
        cr_assert(a.fold_epochs[f] == b.fold_epochs[f] && a.fold_ran[f] == b.fold_ran[f],
                  "fold %d: epochs %d/%d with 1 job, %d/%d with 2", f, a.fold_epochs[f],
                  a.fold_ran[f], b.fold_epochs[f], b.fold_ran[f]);
    }
    cr_assert(a.metric == b.metric && a.score == b.score, "metric %.12g vs %.12g",
              a.metric, b.metric);

    // another trial number draws other streams: some fold differs
    nt_trial c = run_trial(&cv1, space, 5);
    cr_assert(c.status == NT_OK, "trial 5 failed: %s", c.reason);
    bool differ = false;
    for (int f = 0; f < 3; f++)
        differ |= c.fold_metric[f] != a.fold_metric[f] || c.fold_ran[f] != a.fold_ran[f];
    cr_assert(differ, "trials 4 and 5 gave identical folds (%g %g %g)", a.fold_metric[0],
              a.fold_metric[1], a.fold_metric[2]);
    nt_cv_free(&cv1);
    nt_cv_free(&cv2);
    nt_dataset_free(&ds);
}

Test(objective, a_diverging_config_is_a_failed_trial_not_a_crash)
{
    nt_dataset ds = make_blobs(150, 20, 0.8, 7);
    nt_cv cv = make_cv(&ds, 3, 2);
    cr_assert_eq(nt_cv_init(&cv), NT_OK, "%s", nt_last_error());
    nt_trial t = run_trial(&cv, "lr = 10000\noptimizer = sgd\nepochs = 5\n", 0);
    cr_assert_eq(t.status, NT_ERR_NUMERIC, "status %d (%s), want NT_ERR_NUMERIC; reason '%s'",
                 t.status, nt_strerror(t.status), t.reason);
    cr_assert(strlen(t.reason) > 0, "no reason for the failure");
    cr_assert(strstr(t.reason, "diverged") != NULL, "reason '%s' does not say diverged",
              t.reason);
    cr_assert(isnan(t.score) && isnan(t.metric),
              "a failed trial must not carry a score (score %g, metric %g)", t.score,
              t.metric);
    // the fold named in the reason failed: it has no metric, never a 0
    int bad = 0;
    cr_assert_eq(sscanf(t.reason, "fold %d", &bad), 1, "reason '%s' names no fold", t.reason);
    cr_assert(bad >= 1 && bad <= 3, "reason names fold %d", bad);
    cr_assert(isnan(t.fold_metric[bad - 1]),
              "fold %d diverged but has metric %g (a failed fold is never scored)", bad,
              t.fold_metric[bad - 1]);

    // settings the trainer refuses are a failed trial too
    nt_trial u = run_trial(&cv, "momentum = 1.5\noptimizer = sgd\n", 1);
    cr_assert_eq(u.status, NT_ERR_ARG, "momentum 1.5: status %d (%s)", u.status,
                 nt_strerror(u.status));
    cr_assert(strstr(u.reason, "momentum") != NULL, "reason '%s' does not name momentum",
              u.reason);
    for (int f = 0; f < u.n_folds; f++)
        cr_assert(isnan(u.fold_metric[f]), "fold %d never ran but has metric %g", f,
                  u.fold_metric[f]);
    nt_cv_free(&cv);
    nt_dataset_free(&ds);
}

Test(objective, cv_init_refuses_more_folds_than_the_smallest_class)
{
    // classes of 40, 40 and 3 samples
    nt_dataset ds;
    cr_assert_eq(nt_dataset_alloc(83, 4, 3, &ds), NT_OK, "%s", nt_last_error());
    for (size_t i = 0; i < ds.n; i++) ds.y[i] = i < 40 ? 0 : i < 80 ? 1 : 2;
    nt_cv cv = make_cv(&ds, 4, 1);
    nt_clear_error();
    nt_status rc = nt_cv_init(&cv);
    cr_assert_eq(rc, NT_ERR_ARG, "4 folds with a class of 3: status %d (%s)", rc,
                 nt_strerror(rc));
    cr_assert(strstr(nt_last_error(), "3") != NULL,
              "message '%s' does not give the smallest class", nt_last_error());
    nt_cv_free(&cv);
    cv = make_cv(&ds, 1, 1);
    cr_assert_eq(nt_cv_init(&cv), NT_ERR_ARG, "1 fold accepted");
    nt_cv_free(&cv);
    cv = make_cv(&ds, 3, 1);
    cr_assert_eq(nt_cv_init(&cv), NT_OK, "3 folds with a class of 3 refused: %s",
                 nt_last_error());
    nt_cv_free(&cv);
    nt_dataset_free(&ds);
}

Test(objective, metric_names_and_scores)
{
    cr_assert_eq(nt_metric_parse("accuracy"), NT_METRIC_ACCURACY, "accuracy");
    cr_assert_eq(nt_metric_parse("loss"), NT_METRIC_LOSS, "loss");
    cr_assert_eq(nt_metric_parse("f1"), NT_METRIC_F1, "f1");
    cr_assert_eq(nt_metric_parse("auc"), -1, "auc is unknown");
    cr_assert_str_eq(nt_metric_name(NT_METRIC_F1), "f1", "name of F1");
    cr_assert_eq(nt_metric_score(NT_METRIC_ACCURACY, 0.75), 0.25, "1 - accuracy: %g",
                 nt_metric_score(NT_METRIC_ACCURACY, 0.75));
    cr_assert_eq(nt_metric_score(NT_METRIC_F1, 0.5), 0.5, "1 - f1: %g",
                 nt_metric_score(NT_METRIC_F1, 0.5));
    cr_assert_eq(nt_metric_score(NT_METRIC_LOSS, 0.3), 0.3, "loss as is: %g",
                 nt_metric_score(NT_METRIC_LOSS, 0.3));
}

/* Raises the stop flag during fold `at`'s epoch `epoch`, as a Ctrl-C would,
 * and records which folds reported which epochs. */
typedef struct {
    volatile sig_atomic_t stop;
    int at, epoch;
    int last_epoch[4];
} stopper;

static void stop_during(int trial, int fold, const nt_epoch_stats *s, void *user)
{
    (void)trial;
    stopper *sp = user;
    sp->last_epoch[fold] = s->epoch;
    if (fold == sp->at && s->epoch == sp->epoch) sp->stop = 1;
}

Test(objective, a_stop_request_lets_the_fold_in_progress_finish_and_starts_no_other)
{
    nt_dataset ds = make_blobs(300, 20, 0.8, 5);
    nt_cv cv = make_cv(&ds, 3, 1);
    cv.es_frac = 0; // no early stopping: a finished fold runs every epoch
    stopper sp = {.at = 0, .epoch = 2};
    cv.stop = &sp.stop;
    cv.on_epoch = stop_during;
    cv.user = &sp;
    cr_assert_eq(nt_cv_init(&cv), NT_OK, "%s", nt_last_error());
    nt_space s = parse("lr = 0.005\nepochs = 6\n");
    nt_trial t;
    memset(&t, 0, sizeof t);
    double u[NT_MAX_PARAMS] = {0};
    nt_space_decode(&s, u, &t.values);
    nt_status rc = nt_cv_objective(&cv, &s, &t);
    cr_assert_eq(rc, NT_ERR_INTERRUPTED, "status %d (%s), want NT_ERR_INTERRUPTED", rc,
                 nt_strerror(rc));
    cr_assert_eq(sp.last_epoch[0], 6, "fold 1 stopped at epoch %d of 6", sp.last_epoch[0]);
    cr_assert_eq(sp.last_epoch[1] + sp.last_epoch[2], 0, "folds 2 and 3 ran %d and %d epochs",
                 sp.last_epoch[1], sp.last_epoch[2]);
    cr_assert_eq(t.folds_done, 1u, "finished folds mask %#x, want fold 1 only", t.folds_done);
    cr_assert(t.fold_metric[0] > 0.5 && t.fold_metric[0] <= 1, "fold 1 accuracy %g",
              t.fold_metric[0]);
    cr_assert(t.curves && t.curves[0].n == 6, "fold 1's curve not kept");
    nt_curves_free(t.curves, t.n_folds);
    nt_cv_free(&cv);
    nt_dataset_free(&ds);
}

Test(objective, a_cut_short_trial_resumes_without_retraining_its_finished_folds)
{
    nt_dataset ds = make_blobs(300, 20, 0.8, 5);
    nt_space s = parse("lr = 0.005\nepochs = 6\n");
    double u[NT_MAX_PARAMS] = {0};
    // the reference: the same trial, never stopped
    nt_cv ref_cv = make_cv(&ds, 3, 1);
    cr_assert_eq(nt_cv_init(&ref_cv), NT_OK, "%s", nt_last_error());
    nt_trial ref;
    memset(&ref, 0, sizeof ref);
    nt_space_decode(&s, u, &ref.values);
    cr_assert_eq(nt_cv_objective(&ref_cv, &s, &ref), NT_OK, "%s", nt_last_error());
    // cut short during fold 1's second epoch: fold 1 finishes, 2 and 3 do not start
    nt_cv cv = make_cv(&ds, 3, 1);
    stopper sp = {.at = 0, .epoch = 2};
    cv.stop = &sp.stop;
    cv.on_epoch = stop_during;
    cv.user = &sp;
    cr_assert_eq(nt_cv_init(&cv), NT_OK, "%s", nt_last_error());
    nt_trial cut;
    memset(&cut, 0, sizeof cut);
    nt_space_decode(&s, u, &cut.values);
    cr_assert_eq(nt_cv_objective(&cv, &s, &cut), NT_ERR_INTERRUPTED);
    cr_assert_eq(cut.folds_done, 1u, "finished folds mask %#x", cut.folds_done);
    // resumed: fold 1 is taken as it finished, folds 2 and 3 train
    stopper again = {.at = -1};
    cv.stop = &again.stop;
    cv.user = &again;
    cv.resume = &cut;
    cv.n_resume = 1;
    nt_trial t;
    memset(&t, 0, sizeof t);
    nt_space_decode(&s, u, &t.values);
    cr_assert_eq(nt_cv_objective(&cv, &s, &t), NT_OK, "%s", nt_last_error());
    cr_assert_eq(again.last_epoch[0], 0, "fold 1 was trained again (%d epochs)",
                 again.last_epoch[0]);
    cr_assert(again.last_epoch[1] > 0 && again.last_epoch[2] > 0, "folds 2 and 3 did not train");
    for (int f = 0; f < 3; f++)
        cr_assert(t.fold_metric[f] == ref.fold_metric[f] && t.fold_epochs[f] == ref.fold_epochs[f],
                  "fold %d: %.17g (epoch %d) resumed, %.17g (epoch %d) uninterrupted", f + 1,
                  t.fold_metric[f], t.fold_epochs[f], ref.fold_metric[f], ref.fold_epochs[f]);
    cr_assert(t.metric == ref.metric, "metric %.17g resumed, %.17g uninterrupted", t.metric,
              ref.metric);
    cr_assert(t.curves && t.curves[0].n == ref.curves[0].n, "fold 1's curve was not carried over");
    // another trial number is not this cut-short trial: everything trains
    stopper other = {.at = -1};
    cv.user = &other;
    nt_trial t2;
    memset(&t2, 0, sizeof t2);
    t2.trial = 1;
    nt_space_decode(&s, u, &t2.values);
    cr_assert_eq(nt_cv_objective(&cv, &s, &t2), NT_OK, "%s", nt_last_error());
    cr_assert_gt(other.last_epoch[0], 0, "fold 1 of another trial was not trained");
    nt_curves_free(ref.curves, ref.n_folds);
    nt_curves_free(cut.curves, cut.n_folds);
    nt_curves_free(t.curves, t.n_folds);
    nt_curves_free(t2.curves, t2.n_folds);
    nt_cv_free(&ref_cv);
    nt_cv_free(&cv);
    nt_dataset_free(&ds);
}

Test(objective, a_trial_carries_each_folds_learning_curve)
{
    nt_dataset ds = make_blobs(300, 20, 0.8, 5);
    nt_cv cv = make_cv(&ds, 3, 1);
    cr_assert_eq(nt_cv_init(&cv), NT_OK, "%s", nt_last_error());
    nt_trial t = run_trial_with_curves(&cv, "lr = 0.005\nepochs = 12\n", 0);
    cr_assert_not_null(t.curves);
    for (int f = 0; f < 3; f++) {
        const nt_curve *c = &t.curves[f];
        cr_assert_eq(c->n, t.fold_ran[f], "fold %d: curve of %d epochs, ran %d", f, c->n,
                     t.fold_ran[f]);
        for (int e = 0; e < c->n; e++)
            cr_assert(isfinite(c->train_loss[e]) && isfinite(c->val_loss[e]) &&
                          c->val_acc[e] >= 0 && c->val_acc[e] <= 1,
                      "fold %d epoch %d: train loss %g, val loss %g, val acc %g", f, e + 1,
                      c->train_loss[e], c->val_loss[e], c->val_acc[e]);
        cr_assert_lt(c->train_loss[c->n - 1], c->train_loss[0],
                     "fold %d: training loss went from %g to %g", f, c->train_loss[0],
                     c->train_loss[c->n - 1]);
    }
    nt_curves_free(t.curves, t.n_folds);
    nt_cv_free(&cv);
    nt_dataset_free(&ds);
}

/* Two trials at different points (lr 0.003 and 0.01), as one batch. */
static void batch_of_two(nt_cv *cv, const nt_space *s, nt_trial t[2])
{
    memset(t, 0, 2 * sizeof *t);
    for (int i = 0; i < 2; i++) {
        t[i].trial = 4 + i;
        t[i].u[0] = i ? 0.9 : 0.1;
        nt_space_decode(s, t[i].u, &t[i].values);
    }
    (void)cv;
}

Test(objective, a_batch_of_trials_gets_exactly_the_scores_they_get_one_at_a_time)
{
    nt_dataset ds = make_blobs(300, 20, 0.8, 6);
    nt_space s = parse("lr = loguniform(0.001, 0.03)\nepochs = 4\n");
    for (int jobs = 1; jobs <= 2; jobs++) {
        nt_cv cv = make_cv(&ds, 3, jobs);
        cr_assert_eq(nt_cv_init(&cv), NT_OK, "%s", nt_last_error());
        nt_trial one[2], both[2];
        batch_of_two(&cv, &s, one);
        batch_of_two(&cv, &s, both);
        for (int i = 0; i < 2; i++)
            cr_assert_eq(nt_cv_objective(&cv, &s, &one[i]), NT_OK, "%s", nt_last_error());
        int scored = -1;
        cr_assert_eq(nt_cv_objective_batch(&cv, &s, both, 2, &scored), NT_OK, "%s",
                     nt_last_error());
        cr_assert_eq(scored, 2, "scored %d of 2", scored);
        for (int i = 0; i < 2; i++) {
            cr_assert_eq(both[i].status, NT_OK, "trial %d: %s", i, both[i].reason);
            cr_assert(both[i].curves != NULL, "trial %d has no curves", i);
            for (int f = 0; f < 3; f++)
                cr_assert(both[i].fold_metric[f] == one[i].fold_metric[f] &&
                              both[i].fold_epochs[f] == one[i].fold_epochs[f],
                          "jobs %d trial %d fold %d: %.17g (epoch %d) in a batch, %.17g "
                          "(epoch %d) alone", jobs, i, f, both[i].fold_metric[f],
                          both[i].fold_epochs[f], one[i].fold_metric[f], one[i].fold_epochs[f]);
            cr_assert(both[i].score == one[i].score, "trial %d score differs", i);
            nt_curves_free(one[i].curves, one[i].n_folds);
            nt_curves_free(both[i].curves, both[i].n_folds);
        }
        cr_assert(one[0].score != one[1].score, "the two points scored the same");
        nt_cv_free(&cv);
    }
    nt_dataset_free(&ds);
}

typedef struct {
    volatile sig_atomic_t stop;
    int at_trial, at_fold;  /* -1: never stop */
    int epochs[2][3];   /* last epoch each (trial - 4, fold) reported */
    int starts;         /* folds started so far */
    int started[2][3];  /* 1 + each one's place among the starts, 0: never */
} batch_stopper;

static void stop_batch_during(int trial, int fold, const nt_epoch_stats *s, void *user)
{
    batch_stopper *sp = user;
    if (s->epoch == 1) sp->started[trial - 4][fold] = ++sp->starts;
    sp->epochs[trial - 4][fold] = s->epoch;
    if (trial == sp->at_trial && fold == sp->at_fold && s->epoch == 1) sp->stop = 1;
}

/* 3 folds on one job, no early stopping, watched (and stopped) by sp. */
static nt_cv stopped_cv(const nt_dataset *ds, batch_stopper *sp)
{
    nt_cv cv = make_cv(ds, 3, 1);
    cv.es_frac = 0;
    cv.stop = &sp->stop;
    cv.on_epoch = stop_batch_during;
    cv.user = sp;
    cr_assert_eq(nt_cv_init(&cv), NT_OK, "%s", nt_last_error());
    return cv;
}

Test(objective, a_stopped_batch_of_equal_trials_keeps_its_whole_trials_and_one_cut_short)
{
    nt_dataset ds = make_blobs(300, 20, 0.8, 7);
    nt_space s = parse("lr = loguniform(0.001, 0.03)\nepochs = 4\n");
    batch_stopper sp = {.at_trial = 5, .at_fold = 0};
    nt_cv cv = stopped_cv(&ds, &sp);
    nt_trial t[2];
    batch_of_two(&cv, &s, t);
    int scored = -1;
    nt_status rc = nt_cv_objective_batch(&cv, &s, t, 2, &scored);
    cr_assert_eq(rc, NT_ERR_INTERRUPTED, "status %d, want NT_ERR_INTERRUPTED", rc);
    cr_assert_eq(scored, 1, "%d trials scored, want the first", scored);
    cr_assert(t[0].status == NT_OK && isfinite(t[0].score), "the whole trial was not scored");
    cr_assert_eq(t[1].folds_done, 1u, "the cut-short trial's mask is %#x, want fold 1",
                 t[1].folds_done);
    cr_assert_eq(sp.epochs[1][0], 4, "its fold 1 stopped at epoch %d of 4", sp.epochs[1][0]);
    cr_assert_eq(sp.epochs[1][1] + sp.epochs[1][2], 0, "folds that should not start ran");
    nt_curves_free(t[0].curves, t[0].n_folds);
    nt_curves_free(t[1].curves, t[1].n_folds);
    nt_cv_free(&cv);
    nt_dataset_free(&ds);
}

Test(objective, a_resumed_trials_kept_folds_survive_another_stop_before_they_come_up)
{
    // a cut-short trial whose fold 2 finished but fold 1 did not (it
    // diverged, say); stopped again before anything starts, it must hand
    // back fold 2 as it was, not an empty fold
    nt_dataset ds = make_blobs(300, 20, 0.8, 5);
    nt_space s = parse("lr = 0.005\nepochs = 3\n");
    nt_cv cv = make_cv(&ds, 3, 1);
    cr_assert_eq(nt_cv_init(&cv), NT_OK, "%s", nt_last_error());
    double u[NT_MAX_PARAMS] = {0};
    nt_trial cut;
    memset(&cut, 0, sizeof cut);
    nt_space_decode(&s, u, &cut.values);
    cut.n_folds = 3;
    cut.folds_done = 2u;
    cut.fold_metric[1] = 0.8125;
    cut.fold_epochs[1] = cut.fold_ran[1] = 3;
    cv.resume = &cut;
    cv.n_resume = 1;
    volatile sig_atomic_t stop = 1;
    cv.stop = &stop;
    nt_trial t;
    memset(&t, 0, sizeof t);
    nt_space_decode(&s, u, &t.values);
    cr_assert_eq(nt_cv_objective(&cv, &s, &t), NT_ERR_INTERRUPTED);
    cr_assert_eq(t.folds_done, 2u, "kept folds %#x, want fold 2 only", t.folds_done);
    cr_assert(t.fold_metric[1] == 0.8125 && t.fold_epochs[1] == 3,
              "fold 2 came back as %g (epoch %d), want 0.8125 (epoch 3)", t.fold_metric[1],
              t.fold_epochs[1]);
    nt_curves_free(t.curves, t.n_folds);
    nt_cv_free(&cv);
    nt_dataset_free(&ds);
}

Test(objective, a_batch_starts_its_costliest_trial_first_and_a_stop_keeps_every_finished_fold)
{
    // trial 4 has 8 units, trial 5 64: trial 5's folds start first, and a
    // stop in trial 4's first fold leaves trial 5 whole but not scored (the
    // trials before it are not), so both keep their finished folds, and a
    // resume from both trains only what is missing
    nt_dataset ds = make_blobs(300, 20, 0.8, 8);
    nt_space s = parse("units = choice(8, 64)\nlr = 0.005\nepochs = 3\n");
    batch_stopper sp = {.at_trial = 4, .at_fold = 0};
    nt_cv cv = stopped_cv(&ds, &sp);
    nt_trial alone[2], cut[2];
    batch_of_two(&cv, &s, alone);
    batch_of_two(&cv, &s, cut);
    int scored = -1;
    cr_assert_eq(nt_cv_objective_batch(&cv, &s, cut, 2, &scored), NT_ERR_INTERRUPTED);
    for (int f = 0; f < 3; f++)
        cr_assert_eq(sp.started[1][f], 1 + f, "trial 5 fold %d started %d-th, want %d-th",
                     f + 1, sp.started[1][f], 1 + f);
    cr_assert_eq(sp.started[0][0], 4, "trial 4 fold 1 started %d-th, want 4th",
                 sp.started[0][0]);
    cr_assert_eq(sp.epochs[0][1] + sp.epochs[0][2], 0, "folds that should not start ran");
    cr_assert_eq(scored, 0, "%d trials scored, want none (trial 4 is not whole)", scored);
    cr_assert_eq(cut[0].folds_done, 1u, "trial 4 kept folds %#x, want fold 1",
                 cut[0].folds_done);
    cr_assert_eq(cut[1].folds_done, 7u, "trial 5 kept folds %#x, want all three",
                 cut[1].folds_done);

    // one at a time, never stopped: the reference
    batch_stopper free_run = {.at_trial = -1};
    cv.stop = &free_run.stop;
    cv.user = &free_run;
    for (int i = 0; i < 2; i++)
        cr_assert_eq(nt_cv_objective(&cv, &s, &alone[i]), NT_OK, "%s", nt_last_error());
    for (int f = 0; f < 3; f++)
        cr_assert(cut[1].fold_metric[f] == alone[1].fold_metric[f],
                  "trial 5 fold %d: %.17g kept, %.17g alone", f + 1, cut[1].fold_metric[f],
                  alone[1].fold_metric[f]);

    // resumed from both: only trial 4's folds 2 and 3 train
    batch_stopper resumed = {.at_trial = -1};
    cv.stop = &resumed.stop;
    cv.user = &resumed;
    cv.resume = cut;
    cv.n_resume = 2;
    nt_trial again[2];
    batch_of_two(&cv, &s, again);
    cr_assert_eq(nt_cv_objective_batch(&cv, &s, again, 2, &scored), NT_OK, "%s",
                 nt_last_error());
    cr_assert_eq(scored, 2);
    cr_assert(resumed.epochs[0][0] == 0 && resumed.epochs[1][0] + resumed.epochs[1][1] +
                                                   resumed.epochs[1][2] == 0,
              "a kept fold was trained again");
    cr_assert(resumed.epochs[0][1] == 3 && resumed.epochs[0][2] == 3,
              "trial 4's folds 2 and 3 ran %d and %d epochs, want 3", resumed.epochs[0][1],
              resumed.epochs[0][2]);
    for (int i = 0; i < 2; i++) {
        cr_assert(again[i].score == alone[i].score, "trial %d: score %.17g resumed, %.17g "
                  "alone", 4 + i, again[i].score, alone[i].score);
        nt_curves_free(alone[i].curves, alone[i].n_folds);
        nt_curves_free(cut[i].curves, cut[i].n_folds);
        nt_curves_free(again[i].curves, again[i].n_folds);
    }
    nt_cv_free(&cv);
    nt_dataset_free(&ds);
}
